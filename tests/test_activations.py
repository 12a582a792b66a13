"""sg.erf and the activations of sg.nn written with ops (gelu silu elu leaky_relu
log_sigmoid): values against their formulas in NumPy and math.erf, derivatives by finite
differences to second order, and the compiled backends equal to evaluate with NaN and inf."""

import math

import numpy as np
import pytest

import symgraph as sg

X = np.array([-3.0, -1.2, -0.3, 0.0, 0.4, 1.1, 2.5])
EDGES = np.array([np.nan, np.inf, -np.inf, -0.0, 800.0, -800.0, 1e300])
_erf = np.vectorize(math.erf)


def _gelu(x, approximate=True):
    if approximate:
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


CASES = {
    "gelu": (lambda x: sg.nn.gelu(x), _gelu),
    "gelu exact": (lambda x: sg.nn.gelu(x, approximate=False), lambda x: _gelu(x, False)),
    "silu": (sg.nn.silu, lambda x: x / (1 + np.exp(-x))),
    "elu": (lambda x: sg.nn.elu(x, alpha=1.5), lambda x: np.where(x > 0, x, 1.5 * np.expm1(x))),
    "leaky_relu": (lambda x: sg.nn.leaky_relu(x, 0.2), lambda x: np.where(x >= 0, x, 0.2 * x)),
    "log_sigmoid": (sg.nn.log_sigmoid, lambda x: -np.logaddexp(0, -x)),
    "erf": (sg.erf, _erf),
}


@pytest.mark.parametrize("name", CASES)
def test_values_and_derivatives_to_second_order(name):
    build, formula = CASES[name]
    with sg.Graph():
        x = sg.var("x", shape=X.shape)
        y = build(x)
        np.testing.assert_allclose(sg.evaluate(y, {x: X}), formula(X), rtol=1e-13, atol=1e-15)
        # (off the kinks at 0 of elu and leaky_relu: the points step away from them)
        at = X + 0.05
        # (check_grad raises past rtol; it returns the worst relative error)
        assert sg.check_grad(sg.sum(y * y), [x], {x: at}, order=2, rtol=1e-5) < 1e-5


@pytest.mark.parametrize("backend", ["python", "numba", "jax", "dask"])
def test_compiled_equals_evaluate_with_nan_and_inf(backend):
    with sg.Graph():
        x = sg.var("x", shape=EDGES.shape)
        ys = [build(x) for build, _ in CASES.values()]
        ys.append(sg.grad(sg.sum(sg.erf(x) + sg.nn.gelu(x, approximate=False)), x))
        want = sg.evaluate(ys, {x: EDGES})
        got = sg.compile(ys, [x], backend=backend)(EDGES)
    for w, g in zip(want, got):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-12, atol=0)


def test_erf_tails_and_signs():
    """erf is odd (the sign of -0.0 kept), reaches +-1, and its large-x derivative
    underflows to 0 rather than NaN; float32 stays float32."""
    with sg.Graph():
        x = sg.var("x", shape=(5,))
        f = sg.var("f", shape=(2,), dtype="float32")
        value, slope = sg.evaluate([sg.erf(x), sg.grad(sg.sum(sg.erf(x)), x)],
                                   {x: [-0.0, 30.0, -30.0, np.inf, 1e-310]})
        assert np.signbit(value[0]) and value.tolist()[1:4] == [1.0, -1.0, 1.0]
        assert value[4] == math.erf(1e-310) and slope.tolist()[1:4] == [0.0, 0.0, 0.0]
        assert sg.evaluate(sg.erf(f), {f: [0.5, 1.0]}).dtype == np.float32
