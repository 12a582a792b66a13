"""NumPy's functions of nodes call the symgraph function declared to follow them
(``@follows_numpy``): np.where(c, x, 0), np.concatenate([x, np.ones(3)]), np.linalg.norm(v).

Each dispatched function is checked against NumPy on the same numbers (value, shape and
dtype) and, where it is differentiable, by finite differences; each argument symgraph does
not take is refused by a SymgraphError that names it. The node methods that NumPy's
reductions reach (np.sum(x) -> x.sum()) are tested in test_numpy_protocol.py.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import symgraph as sg
from symgraph import array_methods
from symgraph.array_methods import _FOLLOWERS, _matching
from symgraph.ops import rounding

rng = np.random.default_rng(7)
A = rng.normal(size=(2, 3))
V = rng.normal(size=3)
T = rng.normal(size=(2, 3, 4))
M = rng.normal(size=(3, 3)) + 3 * np.eye(3)
INPUTS = {
    "a": A, "v": V, "t": T, "m": M,
    "s": M @ M.T,                                      # symmetric positive definite
    "f": A.astype(np.float32),
    "i": np.array([[3, -1, 4], [1, -5, 9]], np.int32),
    "j": np.array([[2], [0]]),                         # int64 indices
    "n": np.where([[False, True, False], [True, False, True]], np.nan, A),
    "w": np.array([1.5, np.nan, np.inf, -np.inf, -2.0]),
}
MASK = V > 0  # a NumPy condition, for nodes mixed with arrays


def case(id_, call, grad="", part=None):
    """``call(*inputs)`` (inputs named by its parameters) on nodes and on arrays; ``grad``:
    the inputs whose derivative is checked; ``part``: the result checked, of a tuple."""
    return pytest.param(call, grad, part, id=id_)


CASES = [
    # where, with the one-argument form refused below
    case("where", lambda v: np.where(v > 0, v, 0.0), "v"),
    case("where-ndarray-condition", lambda a, v: np.where(MASK, v, a), "av"),
    case("where-float32-python-number", lambda f: np.where(f > 0, f, 0.5)),
    case("where-int-and-float", lambda i, a: np.where(i > 0, i, a), "a"),
    # joining
    case("concatenate-with-ndarray", lambda a: np.concatenate([a, np.ones((1, 3))]), "a"),
    case("concatenate-axis-none", lambda a, v: np.concatenate([a, v], axis=None), "av"),
    case("concatenate-int-and-float", lambda i, a: np.concatenate((i, a), -1), "a"),
    case("concat", lambda v, i: np.concat([v, i[0]]), "v"),
    case("stack", lambda v: np.stack([v, np.zeros(3), v], axis=1), "v"),
    case("vstack", lambda v, a: np.vstack([v, a]), "va"),
    case("hstack", lambda a: np.hstack([a, np.ones((2, 1))]), "a"),
    case("split", lambda t: np.split(t, [1, 3], axis=1), "t"),
    case("split-sections", lambda a: np.split(a, 3, axis=1), "a"),
    # layout
    case("expand_dims", lambda a: np.expand_dims(a, (0, -1)), "a"),
    case("squeeze", lambda a: np.squeeze(np.expand_dims(a, 1), axis=1), "a"),
    case("moveaxis", lambda t: np.moveaxis(t, [0, 1], [-1, 0]), "t"),
    case("swapaxes", lambda t: np.swapaxes(t, 0, -1), "t"),
    case("transpose", lambda t: np.transpose(t, (2, 0, 1)), "t"),
    case("permute_dims", lambda t: np.permute_dims(t, (1, 2, 0)), "t"),
    case("reshape", lambda t: np.reshape(t, (4, -1)), "t"),
    case("ravel", lambda t: np.ravel(t), "t"),
    case("tile", lambda v: np.tile(v, (2, 2)), "v"),
    case("repeat", lambda a: np.repeat(a, [1, 0, 2], axis=1), "a"),
    case("flip", lambda t: np.flip(t, (0, 2)), "t"),
    case("roll", lambda a: np.roll(a, -4), "a"),
    case("roll-axes", lambda t: np.roll(t, (1, 2), axis=(0, 2)), "t"),
    case("pad-constant", lambda a: np.pad(a, ((1, 0), (2, 1)), constant_values=1.5), "a"),
    case("pad-int", lambda i: np.pad(i, 1, constant_values=7)),
    case("pad-reflect", lambda a: np.pad(a, 2, "reflect"), "a"),
    case("pad-wrap", lambda a: np.pad(a, (1, 4), mode="wrap"), "a"),
    case("broadcast_to", lambda v: np.broadcast_to(v, (2, 3)), "v"),
    case("zeros_like", lambda i: np.zeros_like(i)),
    case("astype", lambda a: np.astype(a, np.float32)),
    # triangles and diagonals
    case("tril", lambda m: np.tril(m, -1), "m"),
    case("triu-3d", lambda t: np.triu(t, 1), "t"),
    case("diag-of-vector", lambda v: np.diag(v, 1), "v"),
    case("diag-of-matrix", lambda m: np.diag(m, -1), "m"),
    case("diagonal", lambda t: np.diagonal(t, 1, 2, 1), "t"),
    case("trace", lambda t: np.trace(t, 0, 0, 2), "t"),
    # products
    case("dot-ndarray-first", lambda v: np.dot(A, v), "v"),
    case("dot", lambda m, v: np.dot(m, v), "mv"),
    case("outer", lambda a, v: np.outer(a, v), "av"),
    case("outer-ndarray-first", lambda v: np.outer(V[:2], v), "v"),
    case("inner", lambda t: np.inner(t, np.arange(20.0).reshape(5, 4)), "t"),
    case("tensordot", lambda a, t: np.tensordot(a, t, ([0, 1], [0, 1])), "at"),
    case("tensordot-int-and-float", lambda i, m: np.tensordot(i, m, 1), "m"),
    case("linalg.tensordot", lambda a, m: np.linalg.tensordot(a, m, axes=1), "am"),
    case("einsum", lambda a, v: np.einsum("ij,j->i", a, v), "av"),
    case("einsum-trace", lambda m: np.einsum("ii->", m), "m"),
    case("einsum-batch", lambda t: np.einsum("bij,bkj->bik", t, t), "t"),
    case("einsum-ellipsis", lambda t: np.einsum("...ij,jk", t, np.ones((4, 2))), "t"),
    case("kron", lambda a, v: np.kron(a, v), "av"),
    # elementwise functions that are not ufuncs
    case("clip", lambda a: np.clip(a, -0.5, 0.5), "a"),
    case("clip-node-bound", lambda v: np.clip(A, v, 1.0), "v"),
    case("clip-int-float-bounds", lambda i: np.clip(i, 1.5, 4)),
    case("round", lambda a: np.round(10 * a, 1)),
    case("around-negative-decimals", lambda i: np.around(i, -1)),
    case("nan_to_num", lambda w: np.nan_to_num(w, posinf=9.0)),
    case("sinc", lambda a: np.sinc(a), "a"),
    case("sinc-int", lambda i: np.sinc(i)),
    case("isposinf", lambda w: np.isposinf(w)),
    case("isneginf", lambda w: np.isneginf(w)),
    case("isposinf-int", lambda i: np.isposinf(i)),
    case("matrix_transpose", lambda t: np.matrix_transpose(t), "t"),
    # reductions and scans
    case("sum", lambda t: np.sum(t, (0, 2)), "t"),
    case("ptp", lambda a: np.ptp(a, axis=1), "a"),
    case("ptp-int", lambda i: np.ptp(i)),
    case("count_nonzero", lambda n: np.count_nonzero(n, axis=0)),
    case("average", lambda a, v: np.average(a, axis=1, weights=v, returned=True), "av"),
    case("average-unweighted", lambda i: np.average(i, axis=0)),
    case("median", lambda t: np.median(t, axis=1), "t"),
    case("median-nan", lambda n: np.median(n, axis=1, keepdims=True)),
    case("nanmedian", lambda n: np.nanmedian(n, axis=1, keepdims=True)),
    case("nanmedian-flat", lambda a: np.nanmedian(a), "a"),
    case("quantile", lambda t: np.quantile(t, [0.1, 0.5, 0.9], axis=-1), "t"),
    case("quantile-float32", lambda f: np.quantile(f, 0.3)),
    case("percentile", lambda a: np.percentile(a, 62.5, axis=0, keepdims=True), "a"),
    case("cov", lambda a: np.cov(a), "a"),
    case("cov-rowvar-ddof", lambda a, i: np.cov(a, i, rowvar=False, ddof=0), "a"),
    case("corrcoef", lambda t: np.corrcoef(t[0]), "t"),
    case("cross", lambda t, v: np.cross(t[0], v, axisa=0), "tv"),
    case("trapezoid", lambda a, v: np.trapezoid(a, x=v, axis=1), "av"),
    case("interp", lambda a, v, m: np.interp(a, np.sort(V), m[0]), "am"),
    case("searchsorted", lambda a: np.searchsorted(np.sort(V), a, side="right")),
    case("select", lambda a, i: np.select([a > 0.5, i > 0], [a, a * a], default=-1.0), "a"),
    case("cumulative_sum", lambda t: np.cumulative_sum(t, axis=1, include_initial=True), "t"),
    case("cumulative_sum-int32-dtype", lambda i: np.cumulative_sum(i[0], dtype=np.int32)),
    case("cumulative_prod", lambda a: np.cumulative_prod(a, axis=-1), "a"),
    case("cumulative_prod-initial", lambda v: np.cumulative_prod(v, include_initial=True), "v"),
    case("mean", lambda i: np.mean(i, 0)),
    case("var", lambda a: np.var(a, 1, ddof=1), "a"),
    case("std", lambda a: np.std(a), "a"),
    case("max", lambda a: np.max(a, 1), "a"),
    case("amax", lambda a: np.amax(a, axis=0, keepdims=True), "a"),
    case("min", lambda a: np.min(a, axis=1), "a"),
    case("amin", lambda a: np.amin(a), "a"),
    case("prod", lambda a: np.prod(a, 0), "a"),
    case("argmax", lambda a: np.argmax(a, 1)),
    case("argmin", lambda i: np.argmin(i, axis=0, keepdims=True)),
    case("all", lambda a: np.all(a > -1, 1)),
    case("any", lambda a: np.any(a > 1)),
    case("sort-axis-none", lambda a: np.sort(a, axis=None), "a"),
    case("argsort", lambda v: np.argsort(v)),
    case("cumsum", lambda a: np.cumsum(a, 1), "a"),
    case("cumsum-int32", lambda i: np.cumsum(i)),
    case("cumprod", lambda v: np.cumprod(v), "v"),
    case("diff", lambda a: np.diff(a, axis=0), "a"),
    case("diff-prepend", lambda v: np.diff(v, 2, prepend=0.5, append=V[:1]), "v"),
    case("diff-float32-python-prepend", lambda f: np.diff(f, prepend=0)),
    case("diff-bool", lambda a: np.diff(a > 0)),
    case("nansum", lambda n: np.nansum(n, 1, keepdims=True), "n"),
    case("nanmean", lambda n: np.nanmean(n, axis=0), "n"),
    case("nanmax", lambda n: np.nanmax(n, axis=1), "n"),
    case("nanmin-keepdims", lambda n: np.nanmin(n, 0, keepdims=True), "n"),
    case("nanprod", lambda n: np.nanprod(n), "n"),
    case("nancumsum", lambda n: np.nancumsum(n, axis=1), "n"),
    case("nancumprod", lambda n: np.nancumprod(n), "n"),
    case("nanvar-ddof", lambda n: np.nanvar(n[0], ddof=1), "n"),
    case("nanstd", lambda n: np.nanstd(n, 0), "n"),
    # gathering
    case("take", lambda a: np.take(a, np.array([[0, 5], [3, 1]])), "a"),
    case("take-axis", lambda a: np.take(a, [2, 0, 2], axis=1), "a"),
    case("take_along_axis", lambda a: np.take_along_axis(a, np.array([[2], [0]]), 1), "a"),
    case("take_along_axis-node-indices", lambda a, j: np.take_along_axis(a, j, axis=1), "a"),
    case("take_along_axis-last-axis", lambda a: np.take_along_axis(a, np.array([[2], [0]])), "a"),
    # linear algebra
    case("linalg.inv", lambda m: np.linalg.inv(m), "m"),
    case("linalg.solve", lambda m, v: np.linalg.solve(m, v), "mv"),
    case("linalg.solve-ndarray-matrix", lambda v: np.linalg.solve(M, v), "v"),
    case("linalg.det", lambda m: np.linalg.det(m), "m"),
    case("linalg.slogdet", lambda m: np.linalg.slogdet(-m), "m", part=1),
    case("linalg.cholesky", lambda s: np.linalg.cholesky(s), "s"),
    case("linalg.cholesky-upper", lambda s: np.linalg.cholesky(s, upper=True), "s"),
    case("linalg.eigh", lambda s: np.linalg.eigh(s), "s", part=0),
    case("linalg.svd", lambda a: np.linalg.svd(a, full_matrices=False), "a", part=1),
    case("linalg.svd-values", lambda t: np.linalg.svd(t, compute_uv=False), "t"),
    case("linalg.qr", lambda m: np.linalg.qr(m), "m", part=1),
    case("linalg.norm", lambda v: np.linalg.norm(v), "v"),
    case("linalg.norm-int", lambda i: np.linalg.norm(i)),
    case("linalg.norm-fro", lambda a: np.linalg.norm(a, "fro"), "a"),
    case("linalg.norm-nuc", lambda a: np.linalg.norm(a, "nuc"), "a"),
    case("linalg.norm-inf-rows", lambda a: np.linalg.norm(a, np.inf, axis=1, keepdims=True), "a"),
    case("linalg.norm-ord-3", lambda v: np.linalg.norm(v, 3), "v"),
    case("linalg.norm-matrix-axes", lambda t: np.linalg.norm(t, 1, axis=(2, 0)), "t"),
    # creation and spacing (symgraph.ops.creation, symgraph.ops.spacing)
    case("zeros_like-dtype-shape", lambda a: np.zeros_like(a, dtype=np.int32, shape=(3,))),
    case("ones_like", lambda f: np.ones_like(f)),
    case("full_like", lambda i: np.full_like(i, 2.7)),
    case("full_like-node-fill", lambda a, v: np.full_like(a, v), "v"),
    case("empty_like", lambda v: np.where(v > 100.0, np.empty_like(v), v), "v"),
    case("linspace", lambda v: np.linspace(v, 2.0, 4, axis=-1), "v"),
    case("linspace-retstep", lambda a, v: np.linspace(a, v, 5, endpoint=False, retstep=True),
         "av", part=0),
    case("linspace-int", lambda v: np.linspace(-3.0, v * 4, 5, dtype=np.int64)),
    case("logspace", lambda v: np.logspace(v, 1.0, 3, base=2.0), "v"),
    case("geomspace", lambda a: np.geomspace(np.abs(a) + 0.5, 10.0, 4, axis=1), "a"),
    case("meshgrid", lambda v, a: np.meshgrid(v, a[0, :2]), "va"),
    case("meshgrid-ij-sparse", lambda v, t: np.meshgrid(v, t[0, 0], v, indexing="ij",
                                                        sparse=True), "vt"),
    # layout helpers (symgraph.ops.arrangement, symgraph.ops.editing)
    case("atleast_1d", lambda v, a: np.atleast_1d(v[0], a), "va"),
    case("atleast_2d", lambda v: np.atleast_2d(v), "v"),
    case("atleast_3d", lambda a: np.atleast_3d(a), "a"),
    case("column_stack", lambda v, a: np.column_stack([v, a.T]), "va"),
    case("dstack", lambda a: np.dstack([a, np.ones((2, 3))]), "a"),
    case("hsplit", lambda t: np.hsplit(t, [1]), "t"),
    case("vsplit", lambda t: np.vsplit(t, 2), "t"),
    case("dsplit", lambda t: np.dsplit(t, 2), "t"),
    case("broadcast_arrays", lambda v, a: np.broadcast_arrays(v, a), "va"),
    case("fliplr", lambda a: np.fliplr(a), "a"),
    case("flipud", lambda t: np.flipud(t), "t"),
    case("rot90", lambda t: np.rot90(t, 3, axes=(2, 0)), "t"),
    case("rollaxis", lambda t: np.rollaxis(t, 2, 1), "t"),
    case("append", lambda a, v: np.append(a, v), "av"),
    case("append-axis", lambda a: np.append(a, A, axis=0), "a"),
    case("delete", lambda t: np.delete(t, [0, 2], axis=1), "t"),
    case("insert", lambda a, v: np.insert(a, [1, 1], v[:2, None], axis=1), "av"),
    case("insert-flat-int", lambda i: np.insert(i, 2, 9.7)),
    case("diagflat", lambda a: np.diagflat(a, -1), "a"),
    case("ediff1d", lambda a: np.ediff1d(a, to_begin=[0.5]), "a"),
    # comparing and taking numbers apart (symgraph.ops.numbers, symgraph.ops.polynomials)
    case("isclose", lambda a, n: np.isclose(a, n, equal_nan=True)),
    case("isclose-float32-int", lambda f, i: np.isclose(f, i)),
    case("allclose", lambda a: np.allclose(a, A + 1e-9)),
    case("array_equal", lambda n: np.array_equal(n, n, equal_nan=True)),
    case("real", lambda a: np.real(a), "a"),
    case("imag", lambda i: np.imag(i)),
    case("digitize", lambda a: np.digitize(a, [-1.0, 0.0, 1.0], right=True)),
    case("digitize-decreasing", lambda v: np.digitize(v, [1.0, 0.0, -1.0])),
    case("vdot", lambda a, t: np.vdot(a, t[:, :, 0]), "at"),
    case("polyval", lambda v, a: np.polyval(v, a), "va"),
    case("vander", lambda v: np.vander(v, 4, increasing=True), "v"),
    case("vander-float32", lambda f: np.vander(f[0])),
    # NaN-ignoring arg-reductions and quantiles (symgraph.ops.nanreduce)
    case("nanargmax", lambda n: np.nanargmax(n, axis=1)),
    case("nanargmin", lambda n: np.nanargmin(n, 0, keepdims=True)),
    case("nanquantile", lambda n: np.nanquantile(n, [0.2, 0.8], axis=1)),
    case("nanquantile-differentiable", lambda a: np.nanquantile(a, 0.3), "a"),
    case("nanpercentile", lambda n: np.nanpercentile(n, 40, axis=0, keepdims=True)),
    # histogram (symgraph.ops.counting)
    case("histogram", lambda a: np.histogram(a, 4), "a", part=1),
    case("histogram-edges-weights", lambda a: np.histogram(a, [-2.0, 0.0, 2.0], weights=a * a,
                                                           density=True), "a", part=0),
]


def _build(call):
    """``call`` on new input nodes: (result, the input nodes, their values)."""
    names = list(inspect.signature(call).parameters)
    arrays = [INPUTS[n] for n in names]
    nodes = [sg.var(n, shape=x.shape, dtype=x.dtype) for n, x in zip(names, arrays)]
    return call(*nodes), dict(zip(names, nodes)), arrays


@pytest.mark.parametrize("call, grad, part", CASES)
def test_numpy_function_of_nodes_equals_numpy_on_the_same_numbers(call, grad, part):
    want = call(*[INPUTS[n] for n in inspect.signature(call).parameters])
    with sg.Graph():
        out, nodes, arrays = _build(call)
        parts = list(out) if isinstance(out, (tuple, list)) else [out]
        assert all(isinstance(p, sg.Node) for p in parts), "NumPy built no nodes"
        feeds = dict(zip(nodes.values(), arrays))
        got = sg.evaluate(parts, feeds)
        wanted = list(want) if isinstance(want, (tuple, list)) else [want]
        assert len(got) == len(wanted)
        for g, w in zip(got, wanted):
            w = np.asarray(w)
            assert (g.shape, g.dtype) == (w.shape, w.dtype)
            if w.dtype.kind in "biu":
                np.testing.assert_array_equal(g, w)
            else:  # other summation orders than NumPy's: equal to rounding
                np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
        if grad:
            checked = parts if part is None else [parts[part]]
            wrt = [nodes[n] for n in grad]
            for p in checked:
                assert sg.check_grad(p, wrt, feeds) < 1e-5


def test_every_declared_numpy_function_is_checked_on_values_here(monkeypatch):
    """The cases reach every NumPy function a symgraph function declares it follows (by
    the declared path, or by a node method, which comes first for a node given first)."""
    reached = set()
    dispatch = array_methods.ArrayMethods.__array_function__

    def spy(self, func, types, args, kwargs):
        reached.add(func)
        return dispatch(self, func, types, args, kwargs)

    monkeypatch.setattr(array_methods.ArrayMethods, "__array_function__", spy)
    with sg.Graph():
        for param in CASES:
            _build(param.values[0])
    missed = sorted(f"{f.__module__}.{f.__name__}" for f in set(_FOLLOWERS) - reached)
    assert not missed, f"no value test calls {missed}"


# --- the declarations ----------------------------------------------------------------------------

NO_VALUE = inspect.signature(np.sum).parameters["keepdims"].default  # NumPy's "not given"
# What NumPy's "not given" means for the parameters that have it, as our default
NOT_GIVEN = {"keepdims": False, "prepend": None, "append": None,
             # clip's bounds: NumPy's <no value> is ours (None is an open side)
             **dict.fromkeys(["a_min", "a_max", "min", "max"], rounding.NOT_GIVEN)}
# The positional parameters whose NumPy name is not ours (matched by position): the array
# argument (or list of arrays), where's branches, linalg.tensordot's operands, broadcast_to's
# shape
RENAMED = {("arrays", "xs"), ("a", "x"), ("m", "x"), ("A", "x"), ("arr", "x"), ("ary", "x"), ("array", "x"),
           ("x", "a"), ("y", "b"), ("x1", "a"), ("x2", "b"), ("shape", "like")}


def _declarations():
    return [pytest.param(func, follower, id=f"{func.__module__}.{func.__name__}")
            for func, follower in _FOLLOWERS.items()]


@pytest.mark.parametrize("func, follower", _declarations())
def test_a_parameter_left_out_means_what_it_means_to_numpy(func, follower):
    """A NumPy argument not given takes the follower's default, which must be NumPy's (or
    the follower requires it): a different default would be a silently different number."""
    theirs = inspect.signature(func).parameters
    ours = inspect.signature(follower).parameters
    for name, target in _matching(func, follower).items():
        if target is None or ours[target].default is inspect.Parameter.empty:
            continue
        default = theirs[name].default
        if default is NO_VALUE:
            default = NOT_GIVEN[name]
        assert type(ours[target].default) is type(default) and ours[target].default == default, (
            f"{follower.__name__}({target}={ours[target].default!r}) but "
            f"{func.__name__}({name}={theirs[name].default!r})")


@pytest.mark.parametrize("func, follower", _declarations())
def test_parameters_named_unlike_numpys_are_matched_by_position_only_where_expected(
        func, follower):
    renamed = {(k, v) for k, v in _matching(func, follower).items() if v not in (None, k)}
    assert renamed <= RENAMED, f"{func.__name__}: check these by hand, then allow them here"


@pytest.mark.parametrize("func, follower", _declarations())
def test_a_follower_is_public_under_the_name_its_errors_give(func, follower):
    public = array_methods._public_name(follower)
    namespace = sg.linalg if public.startswith("sg.linalg.") else sg
    assert getattr(namespace, follower.__name__) is follower
    assert func in follower.follows_numpy and not isinstance(func, np.ufunc)


def test_a_numpy_function_is_followed_by_one_function():
    with pytest.raises(sg.SymgraphError, match="numpy.where is already followed by where"):
        array_methods.follows_numpy(np.convolve, np.where)(lambda condition, a, b: None)
    assert _FOLLOWERS[np.where] is sg.where and np.convolve not in _FOLLOWERS


# --- what is refused ------------------------------------------------------------------------------


@pytest.mark.parametrize("call, part", [
    # one-argument where is np.nonzero: not sg.where
    (lambda a, v, m, c: np.where(c), "sg.where follows where(condition, x=None, y=None, /) "
     "only with x, y given; pass x, y"),
    (lambda a, v, m, c: np.where(c, v), "only with y given"),
    (lambda a, v, m, c: np.concatenate([a, v], axis=None, casting="unsafe"),
     "numpy.concatenate of the node 'a': sg.concatenate takes no casting='unsafe'"),
    (lambda a, v, m, c: np.concatenate([v, v], out=np.zeros(6)), "takes no out=array([0., 0."),
    (lambda a, v, m, c: np.stack([v, v], casting="unsafe"), "takes no casting='unsafe'"),
    (lambda a, v, m, c: np.einsum("ij,j->i", a, v, dtype=np.float32),
     "sg.einsum takes no dtype=<class 'numpy.float32'>; leave it out"),
    (lambda a, v, m, c: np.einsum(a, [0, 1], v, [1], [0]), "NumPy's form with lists of axis numbers is not supported"),
    (lambda a, v, m, c: np.var(a, correction=1), "takes no correction=1"),
    (lambda a, v, m, c: np.max(a, initial=0.0), "takes no initial=0.0"),
    (lambda a, v, m, c: np.amax(a, initial=0.0), "sg.max takes no initial=0.0"),
    (lambda a, v, m, c: np.nansum(v, where=MASK), "sg.nansum takes no where=array([ True"),
    (lambda a, v, m, c: np.pad(a, 1, "median"), "mode 'median' is not supported"),
    (lambda a, v, m, c: np.pad(a, 1, "reflect", reflect_type="odd"),
     "sg.pad takes no reflect_type='odd'"),
    (lambda a, v, m, c: np.linalg.norm(v, 0), "ord=0 is not supported for vectors"),
    (lambda a, v, m, c: np.linalg.norm(a, 3), "ord=3 is not a matrix norm"),
    (lambda a, v, m, c: np.linalg.norm(v, axis=1.0), "axis 1.0 is not an int"),
    (lambda a, v, m, c: np.linalg.svd(m, hermitian=True), "hermitian=True is not supported"),
    (lambda a, v, m, c: np.linalg.qr(m, "raw"), "mode='raw' is not supported"),
    (lambda a, v, m, c: np.split(v, 2), "do not divide into 2 equal sections"),
    (lambda a, v, m, c: np.clip(A, v), "give both bounds, a_min and a_max"),
    (lambda a, v, m, c: np.clip(A, 0.0, max=v), "not both"),
    (lambda a, v, m, c: np.zeros_like(v, order="F"), "sg.zeros_like takes no order='F'"),
    # NumPy 2's linalg.diagonal and linalg.outer differ from np.diagonal and np.outer
    (lambda a, v, m, c: np.linalg.diagonal(m), "symgraph has no sg.linalg.diagonal"),
    (lambda a, v, m, c: np.linalg.outer(v, v), "symgraph has no sg.linalg.outer"),
    (lambda a, v, m, c: np.convolve(v, v), "numpy.convolve does not build symgraph nodes (called "
     "on the node 'v'); symgraph has no sg.convolve: build it from symgraph's functions, or "
     "sg.evaluate for values"),
])
def test_what_symgraph_does_not_follow_is_refused_by_name(call, part):
    with sg.Graph() as graph:
        a, v, m = sg.var("a", (2, 3)), sg.var("v", (3,)), sg.var("m", (3, 3))
        c = v > 0
        before = len(graph)
        with pytest.raises(sg.SymgraphError) as error:
            call(a, v, m, c)
        assert part in str(error.value)
        assert len(graph) == before, "a refused call added nodes"


def test_numpys_keywords_work_on_the_sg_functions_too():
    """sg.sum(x, dtype=...) and the rest raised a bare TypeError, where the node method and
    NumPy's function of a node took the same keyword."""
    with sg.Graph():
        x = sg.var("x", shape=(2, 3))
        i = sg.var("i", shape=(4,), dtype="int64")
        v = np.array([[0.5, -1.25, 3.0], [2.0, 0.1, -7.0]])
        iv = np.array([-7, -1, 3, 9])
        cases = [
            (sg.sum(x, dtype=np.float32), np.sum(v, dtype=np.float32)),
            (sg.mean(x, axis=0, dtype=np.float32), np.mean(v, axis=0, dtype=np.float32)),
            (sg.prod(x, dtype=np.float32), np.prod(v, dtype=np.float32)),
            (sg.cumsum(x, 1, dtype=np.float32), np.cumsum(v, 1, dtype=np.float32)),
            (sg.cumprod(x, 1, dtype=np.float32), np.cumprod(v, 1, dtype=np.float32)),
            (sg.sort(x, kind="stable"), np.sort(v, kind="stable")),
            (sg.argsort(x, stable=True), np.argsort(v, stable=True)),
            (sg.concatenate([x, x], dtype=np.float32), np.concatenate([v, v], dtype=np.float32)),
            (sg.einsum("ij->j", x, optimize=True), np.einsum("ij->j", v, optimize=True)),
            (sg.one_hot(np.array([0, 2]), 3, dtype=np.float32), np.eye(3, dtype=np.float32)[[0, 2]]),
            (x.astype(np.float32, copy=False), v.astype(np.float32)),
        ]
        for mode in ("wrap", "clip"):
            cases += [(sg.take(x, [-7, -1, 3, 9], mode=mode), np.take(v, [-7, -1, 3, 9], mode=mode)),
                      (sg.take(x, i, axis=1, mode=mode), np.take(v, iv, axis=1, mode=mode))]
        got = sg.evaluate([c for c, _ in cases], {x: v, i: iv})
        for g, (_, want) in zip(got, cases):
            assert g.dtype == want.dtype
            np.testing.assert_allclose(g, want, rtol=1e-6)
        # an integer dtype= is the result's too, wrapping as NumPy's accumulation does
        b = sg.var("b", shape=(3,), dtype="int8")
        bv = np.array([100, 100, 3], np.int8)
        for got, want in ((sg.sum(b, dtype=np.int8), np.sum(bv, dtype=np.int8)),
                          (b.sum(dtype=np.int16), bv.sum(dtype=np.int16)),
                          (np.prod(b, dtype=np.int32), np.prod(bv, dtype=np.int32)),
                          (sg.mean(b, dtype=np.int32), np.mean(bv, dtype=np.int32)),
                          (sg.cumsum(b, dtype=np.int8), np.cumsum(bv, dtype=np.int8)),
                          (b.cumprod(dtype=np.uint8), bv.cumprod(dtype=np.uint8))):
            value = sg.evaluate(got, {b: bv})
            assert value.dtype == want.dtype and value.tolist() == want.tolist()
        for call, words in ((lambda: sg.sort(x, kind="bogo"), "no kind='bogo'"),
                            (lambda: sg.take(x, [0], mode="fill"), "mode='fill'"),
                            (lambda: sg.concatenate([x, x], dtype=np.int64), "same_kind")):
            with pytest.raises(sg.SymgraphError, match=words):
                call()
