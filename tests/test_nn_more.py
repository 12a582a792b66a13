"""More of jax.nn in sg.nn (symgraph.ops.activations, and selu swish hard_swish in
symgraph.nn): values against jax.nn itself (in x64, NaN and inf included, float32 kept),
derivatives against jax.grad at the kinks where JAX defines a convention, second order and
forward mode against finite differences, every backend equal to evaluate, refusals."""

from __future__ import annotations

import numpy as np
import pytest
from test_compile_matches_evaluate import assert_same_values

import symgraph as sg

X = np.array([-7.0, -3.0, -1.0, -0.4, -0.0, 0.0, 0.3, 1.0, 2.5, 6.0, 9.0,
              np.nan, np.inf, -np.inf, 800.0, -800.0])
POSITIVE = np.array([0.0, 1e-300, 1e-8, 0.3, 0.6931471805599453, 0.7, 2.0, 40.0, np.inf,
                     np.nan])

# name: (symgraph, jax.nn's name and keyword arguments, inputs)
ELEMENTWISE = {
    "relu6": (sg.nn.relu6, "relu6", {}, X),
    "hard_tanh": (sg.nn.hard_tanh, "hard_tanh", {}, X),
    "hard_sigmoid": (sg.nn.hard_sigmoid, "hard_sigmoid", {}, X),
    "hard_silu": (sg.nn.hard_silu, "hard_silu", {}, X),
    "hard_swish": (sg.nn.hard_swish, "hard_swish", {}, X),
    "selu": (sg.nn.selu, "selu", {}, X),
    "celu": (sg.nn.celu, "celu", {}, X),
    "celu-alpha": (lambda x: sg.nn.celu(x, alpha=0.5), "celu", {"alpha": 0.5}, X),
    "mish": (sg.nn.mish, "mish", {}, X),
    "swish": (sg.nn.swish, "swish", {}, X),
    "soft_sign": (sg.nn.soft_sign, "soft_sign", {}, X),
    "squareplus": (sg.nn.squareplus, "squareplus", {}, X),
    "squareplus-b": (lambda x: sg.nn.squareplus(x, b=0.5), "squareplus", {"b": 0.5}, X),
    "log1mexp": (sg.nn.log1mexp, "log1mexp", {}, POSITIVE),
}
M = np.random.default_rng(5).normal(size=(3, 4))
# name: (symgraph of m, jax.nn of m)
ARRAYS = {
    "glu": (lambda m: sg.nn.glu(m), lambda nn, m: nn.glu(m)),
    "glu-axis0": (lambda m: sg.nn.glu(m[:2], axis=0), lambda nn, m: nn.glu(m[:2], axis=0)),
    "standardize": (lambda m: sg.nn.standardize(m), lambda nn, m: nn.standardize(m)),
    "standardize-stable": (lambda m: sg.nn.standardize(m, axis=0, algorithm="stable"),
                           lambda nn, m: nn.standardize(m, axis=0, algorithm="stable")),
    "standardize-given": (lambda m: sg.nn.standardize(m, mean=0.5, variance=m * m, epsilon=0.1),
                          lambda nn, m: nn.standardize(m, mean=0.5, variance=m * m,
                                                       epsilon=0.1)),
    "logmeanexp": (lambda m: sg.nn.logmeanexp(m), lambda nn, m: nn.logmeanexp(m)),
    "logmeanexp-axis": (lambda m: sg.nn.logmeanexp(m * 300, axis=1, keepdims=True),
                        lambda nn, m: nn.logmeanexp(m * 300, axis=1, keepdims=True)),
}


def _jax_nn():
    jax = pytest.importorskip("jax")
    return jax, jax.nn


def _jax_value(jax, f, x):
    with jax.enable_x64(True):
        return np.asarray(f(jax.numpy.asarray(x)))


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_values_are_jax_nns(name, dtype):
    jax, nn = _jax_nn()
    ours, theirs, kwargs, values = ELEMENTWISE[name]
    values = values.astype(dtype)
    with sg.Graph():
        x = sg.var("x", shape=values.shape, dtype=dtype)
        y = ours(x)
        got = sg.evaluate(y, {x: values})
    want = _jax_value(jax, lambda v: getattr(nn, theirs)(v, **kwargs), values)
    assert got.dtype == y.dtype == want.dtype
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    rtol = 1e-13 if dtype == "float64" else 2e-6
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-300)


@pytest.mark.parametrize("name", ARRAYS)
def test_array_functions_are_jax_nns(name):
    jax, nn = _jax_nn()
    ours, theirs = ARRAYS[name]
    with sg.Graph():
        m = sg.var("m", shape=M.shape)
        got = sg.evaluate(ours(m), {m: M})
    want = _jax_value(jax, lambda v: theirs(nn, v), M)
    assert (got.shape, got.dtype) == (want.shape, want.dtype)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_one_hot_is_jax_nns_out_of_range_indices_included(axis):
    jax, nn = _jax_nn()
    labels = np.array([[2, -1, 0], [3, 1, 7]])
    with sg.Graph():
        i = sg.var("i", shape=labels.shape, dtype="int64")
        got = sg.evaluate(sg.nn.one_hot(i, 4, axis=axis), {i: labels})
        f32 = sg.nn.one_hot(i, 4, dtype="float32")
    want = _jax_value(jax, lambda v: nn.one_hot(v, 4, axis=axis, dtype=jax.numpy.float64), labels)
    assert got.dtype == np.float64 and f32.dtype == np.float32
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivatives_are_jaxs_at_the_kinks_too(name):
    """jax.grad's values, at 0 and 6 for relu6 (its custom rule), at 0 for celu, at
    +-1 for hard_tanh, and everywhere between."""
    jax, nn = _jax_nn()
    ours, theirs, kwargs, values = ELEMENTWISE[name]
    at = values[np.isfinite(values) & (np.abs(values) < 100)]
    if name == "log1mexp":
        at = at[at > 0]  # 1/expm1(0) is inf on both sides; tested below
    at = np.concatenate([at, [-1.0, 1.0, 3.0, -3.0, 6.0]]) if name != "log1mexp" else at
    with sg.Graph():
        x = sg.var("x", shape=at.shape)
        got = sg.evaluate(sg.grad(sg.sum(ours(x)), x), {x: at})
    want = _jax_value(jax, jax.vmap(jax.grad(lambda v: getattr(nn, theirs)(v, **kwargs))), at)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)


def test_log1mexp_derivative_is_inf_at_zero_and_no_nan_leaks():
    with sg.Graph():
        x = sg.var("x", shape=(3,))
        d = sg.grad(sg.sum(sg.nn.log1mexp(x)), x)
        got = sg.evaluate(d, {x: [0.0, 1e-300, 50.0]})
    assert got[0] == np.inf and np.isfinite(got[1:]).all() and got[1] > 1e299


GENERIC = np.array([-2.3, -0.7, 0.4, 1.3, 4.1, 7.2])  # off every kink
DIFFERENTIABLE = {
    **{name: (lambda x, ours=ours: ours(x)) for name, (ours, *_) in ELEMENTWISE.items()
       if name != "log1mexp"},
    "log1mexp": lambda x: sg.nn.log1mexp(sg.abs(x) + 0.1),
    "glu": lambda x: sg.nn.glu(x),
    "standardize": lambda x: sg.nn.standardize(sg.reshape(x, (2, 3))),
    "standardize-stable": lambda x: sg.nn.standardize(sg.reshape(x, (3, 2)), axis=0,
                                                      algorithm="stable"),
    "logmeanexp": lambda x: sg.nn.logmeanexp(sg.reshape(x, (2, 3)), axis=0),
}


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_first_and_second_derivatives_match_finite_differences(name):
    with sg.Graph():
        x = sg.var("x", shape=GENERIC.shape)
        y = sg.sum(sg.sin(DIFFERENTIABLE[name](x)))
        assert sg.check_grad(y, x, {x: GENERIC}, order=2) < 1e-5


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_forward_mode_matches_finite_differences(name):
    v, h = np.array([0.3, -0.5, 0.2, 0.7, -0.1, 0.4]), 1e-6
    with sg.Graph():
        x = sg.var("x", shape=GENERIC.shape)
        y = DIFFERENTIABLE[name](x)
        tangent = sg.evaluate(sg.jvp(y, x, v), {x: GENERIC})
        ahead, behind = (sg.evaluate(y, {x: GENERIC + s * h * v}) for s in (1, -1))
    np.testing.assert_allclose(tangent, (ahead - behind) / (2 * h), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("backend", ["python", "numba", "jax", "dask"])
def test_compiled_equals_evaluate_nan_inf_and_zeros_included(backend):
    if not sg.backends().get(backend):
        pytest.skip(f"{backend} is not installed")
    with sg.Graph():
        x, p = sg.var("x", shape=X.shape), sg.var("p", shape=POSITIVE.shape)
        outs = [ours(p if values is POSITIVE else x) for ours, _, _, values in
                ELEMENTWISE.values()]
        outs += [sg.grad(sg.sum(ours(p if values is POSITIVE else x)), p if values is POSITIVE
                         else x) for ours, _, _, values in ELEMENTWISE.values()]
        outs += [sg.nn.glu(x), sg.nn.standardize(x), sg.nn.logmeanexp(x[:11]),
                 sg.nn.one_hot(sg.cast(sg.nan_to_num(x, posinf=9, neginf=-9), "int64"), 5)]
        want = sg.evaluate(outs, {x: X, p: POSITIVE})
        got = sg.compile(outs, [x, p], backend=backend)(X, POSITIVE)
    # (squareplus' derivative at -800, 1 + x/sqrt(x^2 + b), cancels: XLA's last bits of
    # the division come out 1e3 times larger there)
    rtol = 1e-9 if backend == "jax" else 1e-12
    for i, (g, w) in enumerate(zip(got, want)):
        assert_same_values(g, w, rtol=rtol, atol=0, what=f"output {i}")


@pytest.mark.parametrize("call, part", [
    (lambda m: sg.nn.glu(m), "axis -1 has length 3; it must be even"),
    (lambda m: sg.nn.glu(m[0, 0]), "a scalar has no axis"),
    (lambda m: sg.nn.standardize(m, where=m > 0), "where= is not supported"),
    (lambda m: sg.nn.standardize(m, algorithm="exact"), "algorithm='exact' must be 'fast'"),
    (lambda m: sg.nn.logmeanexp(m, where=m > 0), "where= is not supported"),
    (lambda m: sg.nn.logmeanexp(m, axis=3), "axis"),
    (lambda m: sg.nn.one_hot(m, 2.5), "num_classes=2.5 must be an int >= 0"),
    (lambda m: sg.nn.one_hot(m, 3, axis=4), "axis"),
])
def test_refusals_say_why_and_leave_the_graph_as_it_was(call, part):
    with sg.Graph() as g:
        m = sg.var("m", shape=(2, 3))
        m[0, 0], m > 0  # the nodes the calls use exist before
        before = len(g)
        with pytest.raises(sg.SymgraphError, match=part):
            call(m)
        assert len(g) == before
