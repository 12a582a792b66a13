"""Shape ops and contractions of issue 14 (symgraph/ops/layout.py, symgraph/ops/contract.py).

The ops declared with their own ``Op`` (repeat, tile, pad, roll, tril, triu, diagonal, diag,
trace, einsum, tensordot, kron) are also checked by the registry (tests/test_ops.py); here:
the functions written with existing ops, einsum against np.einsum, NumPy's argument forms,
unknown dimensions, NaN and inf, and the errors.
"""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from symgraph.jacobians import _batched_jacobian
from symgraph.graph import ancestors


def _check(build, shapes, ref, rng, order=2, low=-1.0, high=1.0):
    """build(*vars) against ref(*arrays); its derivatives to ``order`` against finite
    differences; compile against evaluate."""
    with sg.Graph():
        xs = [sg.var(f"x{i}", shape=s) for i, s in enumerate(shapes)]
        values = [rng.uniform(low, high, s) for s in shapes]
        y = build(*xs)
        feeds = dict(zip(xs, values))
        got = sg.evaluate(y, feeds)
        expected = np.asarray(ref(*values))
        assert y.shape == expected.shape == np.shape(got)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
        for k in range(1, order + 1):
            assert sg.check_grad(y, xs, feeds, order=k) < 1e-5
        compiled = sg.compile([y, *sg.grad(sg.sum(y * y), xs)], xs)(*values)
        evaluated = sg.evaluate([y, *sg.grad(sg.sum(y * y), xs)], feeds)
        for c, e in zip(compiled, evaluated):
            np.testing.assert_array_equal(c, e)
        return y


# --- the functions written with existing ops ------------------------------------------------

COMPOSED = [
    ("ravel", lambda x: sg.ravel(x), [(2, 3)], np.ravel),
    ("ravel0d", lambda x: sg.ravel(x), [()], np.ravel),
    ("squeeze", lambda x: sg.squeeze(x), [(1, 3, 1)], np.squeeze),
    ("squeeze_axis", lambda x: sg.squeeze(x, axis=-1), [(1, 3, 1)], lambda x: np.squeeze(x, -1)),
    ("swapaxes", lambda x: sg.swapaxes(x, 0, -1), [(2, 3, 4)], lambda x: np.swapaxes(x, 0, -1)),
    ("moveaxis", lambda x: sg.moveaxis(x, 0, -1), [(2, 3, 4)], lambda x: np.moveaxis(x, 0, -1)),
    ("moveaxis_many", lambda x: sg.moveaxis(x, (0, 2), (2, 0)), [(2, 3, 4)],
     lambda x: np.moveaxis(x, (0, 2), (2, 0))),
    ("moveaxis_order", lambda x: sg.moveaxis(x, [2, 0], [0, 1]), [(2, 3, 4)],
     lambda x: np.moveaxis(x, [2, 0], [0, 1])),
    ("flip", lambda x: sg.flip(x), [(2, 3)], np.flip),
    ("flip_axis", lambda x: sg.flip(x, 1), [(2, 3, 2)], lambda x: np.flip(x, 1)),
    ("flip_axes", lambda x: sg.flip(x, (0, -1)), [(2, 3, 2)], lambda x: np.flip(x, (0, -1))),
    ("vstack", lambda a, b, c: sg.vstack([a, b, c]), [(3,), (2, 3), (3,)],
     lambda a, b, c: np.vstack([a, b, c])),
    ("vstack_scalars", lambda a, b: sg.vstack([a, b]), [(), ()], lambda a, b: np.vstack([a, b])),
    ("hstack", lambda a, b: sg.hstack([a, b]), [(2, 1), (2, 3)], lambda a, b: np.hstack([a, b])),
    ("hstack_1d", lambda a, b: sg.hstack([a, b]), [(2,), ()], lambda a, b: np.hstack([a, b])),
    ("outer", lambda a, b: sg.outer(a, b), [(3,), (2,)], np.outer),
    ("outer_flattens", lambda a, b: sg.outer(a, b), [(2, 2), (3,)], np.outer),
    ("inner", lambda a, b: sg.inner(a, b), [(3,), (3,)], np.inner),
    ("inner_nd", lambda a, b: sg.inner(a, b), [(2, 3), (2, 2, 3)], np.inner),
    ("inner_scalar", lambda a, b: sg.inner(a, b), [(), (3,)], np.inner),
    ("diag_2d", lambda x: sg.diag(x, 1), [(3, 4)], lambda x: np.diag(x, 1)),
    ("kron_scalar", lambda a, b: sg.kron(a, b), [(), (2, 2)], np.kron),
    ("repeat_none", lambda x: sg.repeat(x, [1, 0, 2, 1]), [(2, 2)],
     lambda x: np.repeat(x, [1, 0, 2, 1])),
    ("roll_none", lambda x: sg.roll(x, -2), [(2, 3)], lambda x: np.roll(x, -2)),
    ("roll_repeated_axis", lambda x: sg.roll(x, (1, 1), axis=(1, 1)), [(2, 3)],
     lambda x: np.roll(x, (1, 1), axis=(1, 1))),
    ("tile_short_reps", lambda x: sg.tile(x, 2), [(2, 3)], lambda x: np.tile(x, 2)),
    ("tril_batched", lambda x: sg.tril(x, -1), [(2, 3, 3)], lambda x: np.tril(x, -1)),
]


@pytest.mark.parametrize("name,build,shapes,ref", COMPOSED, ids=[c[0] for c in COMPOSED])
def test_values_and_derivatives_match_numpy(name, build, shapes, ref, rng):
    _check(build, shapes, ref, rng)


def test_composed_functions_use_existing_ops(graph):
    x = sg.var("x", shape=(2, 3))
    assert sg.ravel(x).op == "reshape"
    assert sg.swapaxes(x, 0, 1).op == sg.moveaxis(x, 1, 0).op == "transpose"
    assert sg.flip(x).op == "getitem"
    assert sg.vstack([x, x]).op == sg.hstack([x, x]).op == "concatenate"
    assert sg.outer(x, x).op == "multiply"
    assert sg.inner(x, x).op == "tensordot"
    assert sg.swapaxes(x, 1, 1) is x and sg.squeeze(x) is x and sg.flip(x, ()) is x


def test_order_c_is_taken_and_the_transposes_named_for_order_f_are_numpys(graph):
    # sg.ravel(x, order=...) and sg.reshape(x, shape, order=...) take NumPy's default; the
    # refusal of 'F' names these transposes, which must give NumPy's order='F' values
    x = sg.var("x", shape=(2, 3, 4))
    value = np.arange(24.0).reshape(2, 3, 4)
    outs = [sg.ravel(x, order="C"), sg.reshape(x, (4, 6), order="C"), x.ravel(order="C"),
            sg.ravel(x.T), sg.reshape(x.T, (6, 4)[::-1]).T]
    got = sg.evaluate(outs, {x: value})
    np.testing.assert_array_equal(got[0], value.ravel())
    np.testing.assert_array_equal(got[1], value.reshape(4, 6))
    np.testing.assert_array_equal(got[2], value.ravel())
    np.testing.assert_array_equal(got[3], np.ravel(value, order="F"))
    np.testing.assert_array_equal(got[4], np.reshape(value, (6, 4), order="F"))
    for call in (lambda: sg.ravel(x, order="F"), lambda: sg.reshape(x, (4, 6), order="F"),
                 lambda: x.ravel("F")):
        with pytest.raises(sg.SymgraphError, match=r"order='F' is not supported.*x\.T"):
            call()


@pytest.mark.parametrize("sections", [3, [1, 4], [2, -1], [0, 6, 9], [4, 2]])
def test_split_matches_numpy(sections, rng):
    with sg.Graph():
        x = sg.var("x", shape=(6, 2))
        value = rng.uniform(-1, 1, (6, 2))
        parts = sg.split(x, sections)
        expected = np.split(value, sections)
        assert isinstance(parts, list) and len(parts) == len(expected)
        for p, e in zip(sg.evaluate(parts, {x: value}), expected):
            np.testing.assert_array_equal(p, e)
        # every piece gets its share of the gradient (second order too)
        y = sum(sg.sum(p * p) * (k + 1) for k, p in enumerate(parts) if p.shape[0])
        assert sg.check_grad(y, x, {x: value}, order=2) < 1e-5


def test_split_along_an_axis(rng):
    _check(lambda x: sg.stack(sg.split(x, 2, axis=1)), [(3, 4)],
           lambda x: np.stack(np.split(x, 2, axis=1)), rng)


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric", "wrap"])
@pytest.mark.parametrize("width", [1, (2, 0), ((1, 3), (2, 1)), ((0, 0), (5, 7))])
def test_pad_matches_numpy(mode, width, rng):
    """Widths beyond the axis length too (NumPy then reflects/wraps more than once)."""
    _check(lambda x: sg.pad(x, width, mode=mode), [(3, 2)],
           lambda x: np.pad(x, width, mode=mode), rng)


def test_pad_constant_values_per_axis(rng):
    values = ((1.5, -2.0), (3.0, 4.0))
    _check(lambda x: sg.pad(x, ((1, 2), (1, 1)), constant_values=values), [(2, 3)],
           lambda x: np.pad(x, ((1, 2), (1, 1)), constant_values=values), rng)


def test_pad_gradient_is_the_slice_and_zero_pad_is_the_input(graph):
    x = sg.var("x", shape=(2, 3))
    assert sg.pad(x, 0) is x
    g = sg.grad(sg.sum(sg.pad(x, ((1, 0), (0, 2)), constant_values=7.0) ** 2), x)
    value = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(sg.evaluate(g, {x: value}), 2 * value)


# --- einsum against np.einsum -------------------------------------------------------------------

EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),      # matrix product
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),  # batch matmul
    ("ii->", [(3, 3)]),                  # trace
    ("ii", [(3, 3)]),                    # implicit trace
    ("ii->i", [(3, 3)]),                 # diagonal
    ("i,j->ij", [(2,), (3,)]),           # outer
    ("ij,jk", [(2, 3), (3, 4)]),         # implicit matmul
    ("ba,ca", [(2, 3), (4, 3)]),         # implicit output sorted: 'bc'
    ("ij->", [(2, 3)]),                  # sum
    ("ij->j", [(2, 3)]),                 # column sums
    ("ij->ji", [(2, 3)]),                # transpose
    ("i,i", [(3,), (3,)]),               # dot
    ("ij,j->i", [(2, 3), (3,)]),         # matrix-vector
    ("ijk,jkl->il", [(2, 3, 2), (3, 2, 2)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 2)]),  # broadcast batch
    ("...i,...i->...", [(2, 3), (3,)]),
    ("i...->...", [(2, 3, 2)]),
    ("...ii->...i", [(2, 3, 3)]),
    ("i...i", [(3, 2, 3)]),              # implicit with ellipsis: '...' first
    ("ij,ij->ij", [(2, 1), (2, 3)]),     # a length-1 axis broadcasts
    ("iij,jk->ik", [(2, 2, 3), (3, 2)]),  # a repeated index with others
    ("iji->ij", [(2, 3, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
    ("i,i,i->", [(3,), (3,), (3,)]),
    ("ab,c->abc", [(2, 2), (3,)]),
    ("ij,k->", [(2, 2), (2,)]),          # a summed index of one operand only
    (" ij , jk -> ik ", [(2, 3), (3, 2)]),  # spaces
]


@pytest.mark.parametrize("subscripts,shapes", EINSUMS, ids=[e[0].strip() for e in EINSUMS])
def test_einsum_matches_numpy(subscripts, shapes, rng):
    y = _check(lambda *xs: sg.einsum(subscripts, *xs), shapes,
               lambda *xs: np.einsum(subscripts, *xs), rng)
    if y.shape != ():  # jacobians stay vectorized (no subgraph per output element)
        assert _batched_jacobian(y, list(y.inputs)) is not None


@pytest.mark.parametrize("subscripts", ["ij,ij->", "ij,ji->", "ij,jk,ki->", "ii,ij->j"])
def test_einsum_repeated_operand(subscripts, rng):
    """The same node in several operand places: the derivative rules add up."""
    n = subscripts.count(",") + 1
    _check(lambda a: sg.einsum(subscripts, *[a] * n), [(3, 3)],
           lambda a: np.einsum(subscripts, *[a] * n), rng)


def test_einsum_quadratic_form_hessian(graph, rng):
    """x^T A x: the gradient is (A + A^T) x and the Hessian A + A^T, exactly."""
    x, A = sg.var("x", shape=(3,)), sg.var("A", shape=(3, 3))
    y = sg.einsum("i,ij,j->", x, A, x)
    h, g = sg.hessian(y, x), sg.grad(y, x)
    xv, av = rng.standard_normal(3), rng.standard_normal((3, 3))
    hv, gv = sg.evaluate([h, g], {x: xv, A: av})
    np.testing.assert_allclose(hv, av + av.T, rtol=1e-14)
    np.testing.assert_allclose(gv, (av + av.T) @ xv, rtol=1e-13)


def test_einsum_display(graph):
    a, b = sg.var("a", shape=(2, 3)), sg.var("b", shape=(3, 2))
    y = sg.einsum("ij,jk", a, b)
    assert str(y) == "einsum(a, b, subscripts=ij,jk->ik)"
    assert sg.latex(y) == r"\operatorname{einsum}_{ij,jk \to ik}\left(a, b\right)"
    assert sg.einsum("...ij->...ji", sg.var("t", shape=(2, 3, 4))).op == "transpose"


# --- the rest of the ops: NumPy's argument forms and other views ---------------------------------


@pytest.mark.parametrize("axes,shapes", [
    (0, [(3, 2), (2,)]), (1, [(3, 2), (2, 3)]), (2, [(2, 3), (2, 3, 2)]),
    (([1], [0]), [(3, 2), (2, 3)]), (((0, 1), (1, 0)), [(3, 2), (2, 3)]), (([], []), [(2,), (2,)]),
    ((-1, 0), [(3, 2), (2, 3)])])
def test_tensordot_axes_forms(axes, shapes, rng):
    _check(lambda a, b: sg.tensordot(a, b, axes), shapes,
           lambda a, b: np.tensordot(a, b, axes), rng)


def test_trace_and_diagonal_dtypes_match_numpy(graph):
    m = sg.var("m", shape=(3, 3), dtype="int32")
    b = sg.var("b", shape=(3, 3), dtype="bool")
    value = np.arange(9, dtype=np.int32).reshape(3, 3)
    for node, fn, v in [(sg.trace(m), np.trace, value), (sg.trace(b), np.trace, value > 3),
                        (sg.diagonal(m), np.diagonal, value), (sg.tril(m), np.tril, value)]:
        got = sg.evaluate(node, {m: value, b: value > 3})
        assert node.dtype == got.dtype == fn(v).dtype
        np.testing.assert_array_equal(got, fn(v))


def test_latex_forms(graph):
    a, b, m = sg.var("a", shape=(2, 2)), sg.var("b", shape=(2, 2)), sg.var("m", shape=(3, 3))
    assert sg.latex(sg.trace(m)) == r"\mathrm{tr}\left(m\right)"
    assert sg.latex(sg.kron(a, b)) == r"a \otimes b"
    assert sg.latex(sg.kron(a + 1, b) ** 2) == (
        r"{\left({\left(a + 1\right)} \otimes b\right)}^{2}")
    assert sg.latex(sg.tril(m, 1)) == r"\operatorname{tril}\left(m, k=1\right)"
    assert str(sg.diagonal(m, 1)) == "diagonal(m, offset=1)"


def test_array_api_names_are_numpy_functions_with_the_same_keywords(graph, rng):
    """A backend may call ``xp.<array_api>(*inputs, **attrs)``: check it gives the impl's."""
    x, m = sg.var("x", shape=(2, 3)), sg.var("m", shape=(3, 3))
    nodes = [sg.repeat(x, 2, 1), sg.tile(x, (2, 1)), sg.pad(x, 1, constant_values=2.0),
             sg.roll(x, 1, 0), sg.tril(m, 1), sg.triu(m), sg.diagonal(m, 1), sg.trace(m),
             sg.tensordot(x, m, 1), sg.kron(x, m)]
    feeds = {x: rng.standard_normal((2, 3)), m: rng.standard_normal((3, 3))}
    for node in nodes:
        op = node.opdef
        assert op.array_api is not None, op.name
        args = [feeds[i] for i in node.inputs]
        np.testing.assert_array_equal(getattr(np, op.array_api)(*args, **node.attrs),
                                      sg.evaluate(node, feeds))


# --- unknown dimensions ------------------------------------------------------------------------


def test_unknown_dimensions(graph, rng):
    """Shapes with None: values and gradients at the fed shape."""
    x = sg.var("x", shape=(None, 3))
    s = sg.var("s", shape=(None, None))
    c = sg.var("c", shape=(1, None))
    k = sg.var("k", shape=(1, 2))
    outputs = {
        "squeeze": (sg.squeeze(c, 0), lambda xv, sv, cv: cv[0]),
        "ravel": (sg.ravel(x), lambda xv, sv, cv: xv.ravel()),
        "pad": (sg.pad(x, ((1, 2), (0, 1)), constant_values=3.0),
                lambda xv, sv, cv: np.pad(xv, ((1, 2), (0, 1)), constant_values=3.0)),
        "roll": (sg.roll(x, 2, 0), lambda xv, sv, cv: np.roll(xv, 2, 0)),
        "roll_flat": (sg.roll(x, 2), lambda xv, sv, cv: np.roll(xv, 2)),
        "repeat": (sg.repeat(x, 2, 0), lambda xv, sv, cv: np.repeat(xv, 2, 0)),
        "tile": (sg.tile(x, (2, 2)), lambda xv, sv, cv: np.tile(xv, (2, 2))),
        "trace": (sg.trace(s), lambda xv, sv, cv: np.trace(sv)),
        "diagonal": (sg.diagonal(s, -1), lambda xv, sv, cv: np.diagonal(sv, -1)),
        "diag": (sg.diag(sg.ravel(c)), lambda xv, sv, cv: np.diag(cv.ravel())),
        "einsum": (sg.einsum("ij,jk->ik", x, s), lambda xv, sv, cv: xv @ sv),
        "tensordot": (sg.tensordot(s, x, ([0], [1])), lambda xv, sv, cv: sv.T @ xv.T),
        "kron": (sg.kron(k, x), lambda xv, sv, cv: np.kron(np.array([[2.0, -1.0]]), xv)),
        "split": (sg.split(x, [1])[1], lambda xv, sv, cv: xv[1:]),
        "flip": (sg.flip(x, 0), lambda xv, sv, cv: xv[::-1]),
    }
    xv, sv, cv = rng.standard_normal((4, 3)), rng.standard_normal((3, 3)), \
        rng.standard_normal((1, 2))
    feeds = {x: xv, s: sv, c: cv, k: np.array([[2.0, -1.0]])}
    for name, (y, ref) in outputs.items():
        np.testing.assert_allclose(sg.evaluate(y, feeds), ref(xv, sv, cv), rtol=1e-13,
                                   err_msg=name)
        inputs = [n for n in (x, s, c, k) if n in ancestors([y])]
        assert sg.check_grad(y, inputs, feeds, order=2) < 1e-5, name
    ys = [y for y, _ in outputs.values()]
    every = ys + sg.grad(sum(sg.sum(y * y) for y in ys), [x, s, c, k])
    compiled = sg.compile(every, [x, s, c, k])(xv, sv, cv, feeds[k])
    for got, expected in zip(compiled, sg.evaluate(every, feeds)):
        np.testing.assert_array_equal(got, expected)


# --- NaN and inf ------------------------------------------------------------------------------


def test_nan_and_inf_compile_equals_evaluate(graph):
    """Masks and embeddings put exact zeros off the kept part, even next to NaN and inf;
    the compiled function gives what the interpreter gives."""
    m = sg.var("m", shape=(3, 3))
    v = sg.var("v", shape=(3,))
    outputs = [sg.tril(m), sg.triu(m, 1), sg.diag(v), sg.diagonal(m), sg.trace(m),
               sg.pad(v, 1), sg.roll(m, 1), sg.repeat(v, [1, 0, 2]), sg.tile(v, 2),
               sg.einsum("ij,j->i", m, v), sg.tensordot(m, v, 1), sg.kron(v, v)]
    grads = sg.grad(sum(sg.sum(o) for o in outputs), [m, v])
    mv = np.array([[np.nan, np.inf, 1.0], [2.0, -np.inf, 3.0], [4.0, 5.0, 6.0]])
    vv = np.array([np.inf, 0.0, np.nan])
    evaluated = sg.evaluate(outputs + grads, {m: mv, v: vv})
    compiled = sg.compile(outputs + grads, [m, v])(mv, vv)
    for e, c in zip(evaluated, compiled):
        np.testing.assert_array_equal(e, c)
    np.testing.assert_array_equal(evaluated[0], np.tril(mv))  # zeros above, not NaN
    np.testing.assert_array_equal(evaluated[2], np.diag(vv))
    np.testing.assert_array_equal(evaluated[5], np.pad(vv, 1))


# --- errors -----------------------------------------------------------------------------------

ERRORS = [
    (lambda x, m: sg.einsum("ij,jk->ik", x), "name 2 operand(s) but 1 were given"),
    (lambda x, m: sg.einsum("ij->ik", x), "must name each index once"),
    (lambda x, m: sg.einsum("ijk", x), "has 3 indices for operand 0"),
    (lambda x, m: sg.einsum("i1", x), "not a valid term"),
    (lambda x, m: sg.einsum("ij,jk", x, x), "the index 'j' has sizes [2, 3]"),
    (lambda x, m: sg.einsum("ii", x), "repeats in 'x'"),
    (lambda x, m: sg.einsum("...j,ij->i", x, m), "'...' dimensions"),
    (lambda x, m: sg.einsum(["ij"], x), "must be a string"),
    (lambda x, m: sg.einsum("ij"), "at least one operand"),
    (lambda x, m: sg.pad(x, 1, mode="mean"), "mode 'mean' is not supported"),
    (lambda x, m: sg.pad(x, -1), "negative width"),
    (lambda x, m: sg.pad(x, ((1, 2, 3),)), "(before, after) pair"),
    (lambda x, m: sg.pad(x, 1.5), "pad_width"),
    (lambda x, m: sg.pad(x, 1, constant_values=m), "not the node"),
    (lambda x, m: sg.pad(x, 1, mode="edge", constant_values=1.0), "mode 'constant' only"),
    (lambda x, m: sg.split(x, 4, axis=1), "do not divide into 4 equal sections"),
    (lambda x, m: sg.split(x, 0), "must be positive"),
    (lambda x, m: sg.split(x, "ab"), "indices_or_sections"),
    (lambda x, m: sg.squeeze(x, 0), "axis 0 has size 2"),
    (lambda x, m: sg.swapaxes(x, 0, 2), "axis 2 is out of range"),
    (lambda x, m: sg.moveaxis(x, (0, 1), 0), "as many axes"),
    (lambda x, m: sg.repeat(x, -1), "repeats must be an int >= 0"),
    (lambda x, m: sg.repeat(x, [1, 2], axis=1), "2 repeats for 3 elements"),
    (lambda x, m: sg.repeat(x, m), "static ints"),
    (lambda x, m: sg.tile(x, (2.0,)), "reps must be"),
    (lambda x, m: sg.roll(x, (1, 2, 3), axis=(0, 1)), "3 shifts for 2 axes"),
    (lambda x, m: sg.roll(x, 1.0, axis=0), "shift must be"),
    (lambda x, m: sg.diag(sg.reshape(x, (1, 2, 3))), "1-D (to build a matrix)"),
    (lambda x, m: sg.diagonal(x, axis1=1, axis2=-1), "name two different axes"),
    (lambda x, m: sg.trace(sg.ravel(x)), "at least 2 dimensions"),
    (lambda x, m: sg.tril(x, 0.5), "k must be an int"),
    (lambda x, m: sg.tensordot(x, m, 3), "must be between 0 and 2"),
    (lambda x, m: sg.tensordot(x, m, ([0], [0])), "axis 0 (2) and axis 0 (3) differ"),
    (lambda x, m: sg.tensordot(x, m, ([0, 1], [0])), "2 axes of a against 1"),
    (lambda x, m: sg.vstack(x), "sequence of nodes"),
    (lambda x, m: sg.hstack([]), "at least one node"),
]


@pytest.mark.parametrize("build,text", ERRORS, ids=[e[1] for e in ERRORS])
def test_mistakes_raise_symgraph_errors(build, text, graph):
    x, m = sg.var("x", shape=(2, 3)), sg.var("m", shape=(3, 3))
    with pytest.raises(sg.SymgraphError) as info:
        build(x, m)
    assert text in str(info.value)


def test_unknown_sizes_that_do_not_fit_raise_at_evaluation(graph):
    """Sizes known only when fed: NumPy's complaint becomes an error naming the node, in
    evaluate and in the compiled function alike."""
    a, b = sg.var("a", shape=(2, None)), sg.var("b", shape=(None, 2))
    feeds = {a: np.ones((2, 3)), b: np.ones((4, 2))}
    for y in (sg.einsum("ij,jk->ik", a, b), sg.tensordot(a, b, 1)):
        for run in (lambda y=y: sg.evaluate(y, feeds),
                    lambda y=y: sg.compile(y, [a, b])(np.ones((2, 3)), np.ones((4, 2)))):
            with pytest.raises(sg.SymgraphError) as info:
                run()
            assert y.op in str(info.value)


def test_kron_derivative_needs_all_but_one_size(graph):
    a, b = sg.var("a", shape=(1, None)), sg.var("b", shape=(None, 3))
    y = sg.kron(a, b)
    with pytest.raises(sg.SymgraphError, match="kron of 'a' .* needs their static shapes"):
        sg.grad(sg.sum(y), a)


def test_squeeze_unknown_sizes(graph):
    x = sg.var("x", shape=(None, 1))
    with pytest.raises(sg.ShapeError, match="name the axes to remove"):
        sg.squeeze(x)
    with pytest.raises(sg.ShapeError, match="axis 0 has unknown size"):
        sg.squeeze(x, 0)
    y = sg.squeeze(x, 1)
    assert y.shape == (None,)
    np.testing.assert_array_equal(sg.evaluate(y, {x: [[1.0], [2.0]]}), [1.0, 2.0])
