"""Statistics and numerical helpers (symgraph.ops.quantiles, symgraph.ops.numeric): ptp
count_nonzero average median quantile percentile cov corrcoef cross trapezoid interp
searchsorted select. Values, dtypes and shapes bit for bit against NumPy (NaN, inf, -0.0,
float32, integers), derivatives to second order and forward mode against finite
differences, every backend equal to evaluate, and the refusals with their messages."""

from __future__ import annotations

import numpy as np
import pytest
from test_compile_matches_evaluate import assert_same_values

import symgraph as sg

# NumPy's references warn on a slice of NaN only, dask's reductions on NaN and inf
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")
rng = np.random.default_rng(3)
A = rng.normal(size=(3, 5))
B = rng.normal(size=(3, 5))
with np.errstate(over="ignore"):
    DATA = {
        "float64": A,
        "float32": A.astype(np.float32),
        "int": rng.integers(-5, 6, size=(3, 5)),
        "special": np.array([[1.0, np.nan, 3.0, -0.0, 2.0], [1.0, np.inf, 2.0, -np.inf, 0.0],
                             [-0.0, 0.0, 5.0, 5.0, -1.0]]),
    }
XP = np.array([-1.0, 0.0, 0.5, 2.0, 2.0, 4.0])
FP = np.array([1.0, -2.0, 3.0, 0.5, 7.0, -1.0])

# name: (symgraph of a and b, NumPy of the same)
FUNCTIONS = {
    "ptp": (lambda a, b: sg.ptp(a, axis=1), lambda a, b: np.ptp(a, axis=1)),
    "ptp-all-keepdims": (lambda a, b: sg.ptp(a, keepdims=True),
                         lambda a, b: np.ptp(a, keepdims=True)),
    "count_nonzero": (lambda a, b: sg.count_nonzero(a, axis=1),
                      lambda a, b: np.count_nonzero(a, axis=1)),
    "count_nonzero-all": (lambda a, b: sg.count_nonzero(a), lambda a, b: np.count_nonzero(a)),
    "average": (lambda a, b: sg.average(a, axis=0), lambda a, b: np.average(a, axis=0)),
    "average-weights": (lambda a, b: sg.average(a, axis=1, weights=np.arange(1.0, 6.0)),
                        lambda a, b: np.average(a, axis=1, weights=np.arange(1.0, 6.0))),
    "average-full-weights": (lambda a, b: sg.average(a, weights=b * b, keepdims=True),
                             lambda a, b: np.average(a, weights=b * b, keepdims=True)),
    "median": (lambda a, b: sg.median(a, axis=1), lambda a, b: np.median(a, axis=1)),
    "median-even": (lambda a, b: sg.median(a[:2], axis=0, keepdims=True),
                    lambda a, b: np.median(a[:2], axis=0, keepdims=True)),
    "median-all": (lambda a, b: sg.median(a), lambda a, b: np.median(a)),
    "nanmedian": (lambda a, b: sg.nanmedian(a, axis=1), lambda a, b: np.nanmedian(a, axis=1)),
    "nanmedian-all": (lambda a, b: sg.nanmedian(a, keepdims=True),
                      lambda a, b: np.nanmedian(a, keepdims=True)),
    "nanmedian-all-nan": (lambda a, b: sg.nanmedian(a[:, :2] * np.nan, axis=0),
                          lambda a, b: np.nanmedian(a[:, :2] * np.nan, axis=0)),
    "quantile": (lambda a, b: sg.quantile(a, 0.3, axis=1),
                 lambda a, b: np.quantile(a, 0.3, axis=1)),
    "quantile-array": (lambda a, b: sg.quantile(a, [0.0, 0.45, 0.5, 1.0], axis=0, keepdims=True),
                       lambda a, b: np.quantile(a, [0.0, 0.45, 0.5, 1.0], axis=0, keepdims=True)),
    "quantile-all": (lambda a, b: sg.quantile(a, np.float64(0.7)),
                     lambda a, b: np.quantile(a, np.float64(0.7))),
    "percentile": (lambda a, b: sg.percentile(a, [12.5, 90], axis=-1),
                   lambda a, b: np.percentile(a, [12.5, 90], axis=-1)),
    "cov": (lambda a, b: sg.cov(a), lambda a, b: np.cov(a)),
    "cov-y-bias": (lambda a, b: sg.cov(a, b[0], bias=True),
                   lambda a, b: np.cov(a, b[0], bias=True)),
    "cov-columns-ddof": (lambda a, b: sg.cov(a, rowvar=False, ddof=0),
                         lambda a, b: np.cov(a, rowvar=False, ddof=0)),
    "cov-one-variable": (lambda a, b: sg.cov(a[0]), lambda a, b: np.cov(a[0])),
    "corrcoef": (lambda a, b: sg.corrcoef(a, b), lambda a, b: np.corrcoef(a, b)),
    "corrcoef-one": (lambda a, b: sg.corrcoef(a[1]), lambda a, b: np.corrcoef(a[1])),
    "cross": (lambda a, b: sg.cross(a[:, :3], b[:, 2:]), lambda a, b: np.cross(a[:, :3], b[:, 2:])),
    "cross-axis": (lambda a, b: sg.cross(a[:, :2], b[0, :3], axisa=0, axisc=0),
                   lambda a, b: np.cross(a[:, :2], b[0, :3], axisa=0, axisc=0)),
    "trapezoid": (lambda a, b: sg.trapezoid(a), lambda a, b: np.trapezoid(a)),
    "trapezoid-x": (lambda a, b: sg.trapezoid(a, x=np.array([0.0, 1.0, 3.0]), axis=0),
                    lambda a, b: np.trapezoid(a, x=np.array([0.0, 1.0, 3.0]), axis=0)),
    "trapezoid-dx": (lambda a, b: sg.trapezoid(a, dx=0.25), lambda a, b: np.trapezoid(a, dx=0.25)),
    "interp": (lambda a, b: sg.interp(a, XP, FP), lambda a, b: np.interp(a, XP, FP)),
    "interp-left-right": (lambda a, b: sg.interp(a, XP, FP * 0 + b[0, 0], -5.0, np.nan),
                          lambda a, b: np.interp(a, XP, FP * 0 + b[0, 0], -5.0, np.nan)),
    "searchsorted": (lambda a, b: sg.searchsorted(XP, a), lambda a, b: np.searchsorted(XP, a)),
    "searchsorted-right": (lambda a, b: sg.searchsorted(XP, a, "right"),
                           lambda a, b: np.searchsorted(XP, a, "right")),
    "select": (lambda a, b: sg.select([a > 1, b > 0], [a, b * a]),
               lambda a, b: np.select([a > 1, b > 0], [a, b * a])),
    "select-default": (lambda a, b: sg.select([a < 0], [a], 0.5),
                       lambda a, b: np.select([a < 0], [a], 0.5)),
}


@pytest.mark.parametrize("kind", DATA)
@pytest.mark.parametrize("name", FUNCTIONS)
def test_values_dtypes_and_shapes_are_numpys(name, kind):
    ours, theirs = FUNCTIONS[name]
    a = DATA[kind]
    with sg.Graph():
        x = sg.var("x", shape=a.shape, dtype=a.dtype)
        y = ours(x, B)
        got = sg.evaluate(y, {x: a})
    with np.errstate(all="ignore"):
        want = np.asarray(theirs(a, B))
    assert y.dtype == got.dtype
    assert (got.dtype, got.shape) == (want.dtype, want.shape)
    np.testing.assert_array_equal(got, want)
    if want.dtype.kind == "f":
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def test_average_returned_gives_numpys_sum_of_weights():
    for weights, axis in ((None, 1), (np.arange(1.0, 6.0), 1), (B * B, None)):
        with sg.Graph():
            x = sg.var("x", shape=A.shape)
            got = sg.evaluate(list(sg.average(x, axis, weights, returned=True)), {x: A})
        for g, w in zip(got, np.average(A, axis, weights, returned=True)):
            assert (g.dtype, g.shape) == (w.dtype, w.shape)
            np.testing.assert_array_equal(g, w)


# --- derivatives ---------------------------------------------------------------------------

GENERIC = A + np.arange(15).reshape(3, 5) * 0.05  # no ties, off interp's sample points
DIFFERENTIABLE = {
    "ptp": lambda a, b: sg.ptp(a, axis=1) ** 2,
    "average-weights": lambda a, b: sg.average(a, axis=1, weights=b[0] * b[0] + 1),
    "median": lambda a, b: sg.median(a * b, axis=1),
    "median-even": lambda a, b: sg.median(a[:2] * b[:2], axis=0),
    "nanmedian": lambda a, b: sg.nanmedian(sg.where(b > 0.5, np.nan, a * b), axis=1),
    "quantile": lambda a, b: sg.quantile(a * a, [0.3, 0.8], axis=0),
    "percentile": lambda a, b: sg.percentile(a, 70.0),
    "cov": lambda a, b: sg.cov(a, b[0]),
    "corrcoef": lambda a, b: sg.corrcoef(a * b),
    "cross": lambda a, b: sg.cross(a[:, :3], b[:, 1:4]),
    "trapezoid": lambda a, b: sg.trapezoid(a * a, x=b[0] * 0.1 + np.arange(5.0)),
    "interp-x-fp": lambda a, b: sg.interp(a, XP, b[0, :1] * FP),
    "interp-xp": lambda a, b: sg.interp(a[0], b[1, 0] * 0.01 + XP, FP),
    "select": lambda a, b: sg.select([a > 0.5, b > 0], [a * a, b * a], default=b),
}


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_first_and_second_derivatives_match_finite_differences(name):
    build = DIFFERENTIABLE[name]
    with sg.Graph():
        a, b = sg.var("a", shape=A.shape), sg.var("b", shape=B.shape)
        y = sg.sum(sg.sin(build(a, b)))
        assert sg.check_grad(y, [a, b], {a: GENERIC, b: B}, order=2) < 1e-5


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_forward_mode_matches_finite_differences(name):
    build, h = DIFFERENTIABLE[name], 1e-6
    v, w = rng.normal(size=A.shape), rng.normal(size=B.shape)
    with sg.Graph():
        a, b = sg.var("a", shape=A.shape), sg.var("b", shape=B.shape)
        y = build(a, b)
        tangent = sg.evaluate(sg.jvp(y, [a, b], [v, w]), {a: GENERIC, b: B})
        ahead, behind = (sg.evaluate(y, {a: GENERIC + s * h * v, b: B + s * h * w})
                         for s in (1, -1))
    np.testing.assert_allclose(tangent, (ahead - behind) / (2 * h), rtol=1e-5, atol=1e-6)


def test_the_gradient_goes_where_the_value_was_read():
    with sg.Graph():
        v = sg.var("v", shape=(5,))
        feed = {v: [4.0, 1.0, 3.0, 5.0, 2.0]}
        # sorted 1 2 3 4 5: the median reads 3; quantile 0.3 lerps 2 and 3 (t = 0.2)
        assert sg.evaluate(sg.grad(sg.median(v), v), feed).tolist() == [0, 0, 1, 0, 0]
        np.testing.assert_allclose(sg.evaluate(sg.grad(sg.quantile(v, 0.3), v), feed),
                                   [0, 0, 0.2, 0, 0.8], rtol=1e-12)
        assert sg.evaluate(sg.grad(sg.ptp(v), v), feed).tolist() == [0, -1, 0, 1, 0]
        # interp: the slope in x, zero outside [xp[0], xp[-1]], at a sample point the
        # segment's starting there (as JAX), but 0 where fp is a zero there
        x = sg.var("x", shape=(5,))
        y = sg.interp(x, XP, FP * [1, 1, 1, 1, 0, 1])
        slope = sg.evaluate(sg.grad(sg.sum(y), x), {x: [-3.0, 0.25, 0.5, 2.0, 9.0]})
        assert slope.tolist() == [0.0, 10.0, (0.5 - 3.0) / 1.5, 0.0, 0.0]


def test_vmap_and_jacobians_of_searchsorted_quantile_and_interp():
    """(vmap of interp is refused: a gather by indices that vary along the batch has no
    batch rule yet; the Jacobian builds its rows one by one.)"""
    m = GENERIC[:2]
    with sg.Graph():
        rows = sg.var("rows", shape=m.shape)
        batched = sg.vmap(lambda r: sg.searchsorted(XP, r) + sg.quantile(r, 0.3), 0)(rows)
        want = np.stack([np.searchsorted(XP, r) + np.quantile(r, 0.3) for r in m])
        np.testing.assert_allclose(sg.evaluate(batched, {rows: m}), want, rtol=1e-14)
        x = sg.var("x", shape=(3,))
        jac = sg.evaluate(sg.jacobian(sg.interp(x, XP, FP), x), {x: [-2.0, 0.25, 3.0]})
        np.testing.assert_array_equal(jac, np.diag([0.0, 10.0, (-1.0 - 7.0) / 2.0]))


# --- backends ------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["python", "numba", "jax", "dask"])
def test_compiled_equals_evaluate_nan_inf_and_zeros_included(backend):
    if not sg.backends().get(backend):
        pytest.skip(f"{backend} is not installed")
    data = DATA["special"]
    with sg.Graph():
        a = sg.var("a", shape=data.shape)
        outs = [ours(a, B) for ours, _ in FUNCTIONS.values()]
        outs += [sg.grad(sg.sum(build(a, B)), a) for build in DIFFERENTIABLE.values()]
        want = sg.evaluate(outs, {a: data})
        options = {"chunks": (2, 3)} if backend == "dask" else {}  # blocks of every op
        got = sg.compile(outs, [a], backend=backend, **options)(data)
    for i, (g, w) in enumerate(zip(got, want)):
        assert_same_values(g, w, rtol=1e-12, atol=1e-300, what=f"output {i}")


# --- refusals ------------------------------------------------------------------------------

@pytest.mark.parametrize("call, part", [
    (lambda m, v, u, b: sg.quantile(m, 0.5, method="nearest"),
     "method='nearest' is not supported; symgraph computes NumPy's default, method='linear'"),
    (lambda m, v, u, b: sg.quantile(m, 1.5), "q=1.5 must be between 0 and 1"),
    (lambda m, v, u, b: sg.percentile(m, -3), "q=-3 must be between 0 and 100"),
    (lambda m, v, u, b: sg.quantile(m, v[0]), "is a node; give q as a number or an array"),
    (lambda m, v, u, b: sg.median(m, axis=(0, 1)), "one axis or None"),
    (lambda m, v, u, b: sg.median(u), "the length of axis 0 is known only when fed"),
    (lambda m, v, u, b: sg.median(b), "boolean node 'b'"),
    (lambda m, v, u, b: sg.ptp(b), "boolean node 'b'"),
    (lambda m, v, u, b: sg.average(m, weights=v), "axis= must say which axis"),
    (lambda m, v, u, b: sg.average(m, axis=0, weights=v), "3 weights for an axis of length 2"),
    (lambda m, v, u, b: sg.average(m, axis=1, weights=m[:, :2]), "1-D along one int axis"),
    (lambda m, v, u, b: sg.cov(m, v[:2]), "they hold 3 and 2 observations"),
    (lambda m, v, u, b: np.cov(m, fweights=[1, 2, 3]), "sg.cov takes no fweights"),
    (lambda m, v, u, b: sg.cross(m, m, axisa=0), "a has length 2 along axis 0"),
    (lambda m, v, u, b: sg.cross(m, v[:2]), "b has length 2 along axis -1; only 3-vectors"),
    (lambda m, v, u, b: sg.interp(v, [0.0, 1.0], [1.0]), "must have the same length"),
    (lambda m, v, u, b: sg.interp(v, [], []), "xp is empty"),
    (lambda m, v, u, b: sg.interp(v, [0.0, 1.0], [1.0, 2.0], period=2.0), "period= is not"),
    (lambda m, v, u, b: sg.searchsorted(m, v), "must be 1-D"),
    (lambda m, v, u, b: sg.searchsorted(v, m, side="middle"), "side='middle'"),
    (lambda m, v, u, b: sg.searchsorted(v, m, sorter=[0, 1, 2]), "sorter= is not supported"),
    (lambda m, v, u, b: sg.select([m], [v]), "invalid entry 0 in condlist"),
    (lambda m, v, u, b: sg.select([b], [v, m]), "1 conditions for 2 choices"),
    (lambda m, v, u, b: sg.trapezoid(v[0]), "a scalar has no axis"),
])
def test_refusals_say_why_and_leave_the_graph_as_it_was(call, part):
    with sg.Graph() as g:
        m, v = sg.var("m", shape=(2, 3)), sg.var("v", shape=(3,))
        u, b = sg.var("u", shape=(None,)), sg.var("b", shape=(3,), dtype="bool")
        m[0], m[:, :2], v[0], v[:2]  # the nodes the calls index with exist before
        before = len(g)
        with pytest.raises(sg.SymgraphError, match=part):
            call(m, v, u, b)
        assert len(g) == before
