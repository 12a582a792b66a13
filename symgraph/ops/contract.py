"""Products and diagonals: ``tril triu diag diagonal trace outer inner tensordot einsum kron``.

Each is linear in each argument, so every derivative is again an op of this module:
``einsum``'s is an ``einsum`` with the subscripts permuted (plus a diagonal embedding
for an index repeated in one operand, and a broadcast for an index summed in one
operand only), ``tensordot``'s a ``tensordot`` and a ``transpose``, ``tril``'s ``tril``,
``diagonal``'s the embedding ``diag`` and back. ``outer`` is a broadcast product and
``inner`` a ``tensordot``.

Imports: ``symgraph.graph`` and ``symgraph.ops``' lower modules.
"""

from __future__ import annotations

import functools
import string
from collections import Counter
from typing import Any

import numpy as np

from symgraph.graph import Node, ShapeError, SymgraphError
from symgraph.ops.arithmetic import multiply
from symgraph.ops.core import (
    Case, Op, _brief, describe, first_dtype, latex_function, make, operands, operatorname,
    promote, register, same_shape,
)
from symgraph.ops.layout import axes_in_order, ravel
from symgraph.ops.reduce import broadcast_to
from symgraph.ops.shape import batched_to_rank, expand_dims, reshape, transpose

__all__ = ["tril", "triu", "diag", "diagonal", "trace", "outer", "inner", "tensordot",
           "einsum", "kron"]

_LETTERS = string.ascii_letters
_ELLIPSIS_LETTERS = string.ascii_uppercase + string.ascii_lowercase  # capitals first: readable


def _shift(axes: tuple, by: int = 1) -> tuple:
    return tuple(a + by for a in axes)


# --- tril and triu ------------------------------------------------------------------------------


def _triangle(name: str, fn: Any, cases: list) -> Op:
    """tril/triu: a mask, so its own adjoint; it acts on the last two axes, so a leading
    batch axis changes nothing."""
    op = Op(name=name, array_api=name, latex=operatorname(name),
            impl=lambda x, *, k: fn(x, k), shape=same_shape, dtype=first_dtype,
            show_attrs=("k",), defaults={"k": 0},
            vjp=(lambda g, out: make(op, [g], out.attrs),),
            jvp=(lambda t, out: make(op, [t], out.attrs),),
            batch=lambda node, args, b: make(op, args, node.attrs), cases=cases)
    return register(op)


TRIL = _triangle("tril", np.tril, [
    Case(lambda x: tril(x), [((3, 3), -1.0, 1.0)], ref=np.tril),
    Case(lambda x: tril(x, 1), [((2, 3, 4), -1.0, 1.0)], ref=lambda x: np.tril(x, 1)),
    Case(lambda x: tril(x), [((3,), -1.0, 1.0)], ref=np.tril)])
TRIU = _triangle("triu", np.triu, [
    Case(lambda x: triu(x), [((3, 3), -1.0, 1.0)], ref=np.triu),
    Case(lambda x: triu(x, -1), [((3, 4), -1.0, 1.0)], ref=lambda x: np.triu(x, -1))])


def _triangle_of(op: Op, x: Any, k: int) -> Node:
    (x,) = operands([x], op.name)
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
        raise SymgraphError(f"{op.name} of {describe(x)}: k must be an int, got {k!r}")
    if x.ndim == 0:
        raise ShapeError(f"{op.name} of {describe(x)}: needs at least 1 dimension")
    if x.ndim == 1:  # NumPy's: the vector repeated as the rows of a square matrix
        if x.shape[0] is None:
            raise ShapeError(f"{op.name} of the vector {describe(x)} needs its static length")
        x = broadcast_to(x, (x.shape[0], x.shape[0]))
    return make(op, [x], {"k": int(k)})


def tril(x: Any, k: int = 0) -> Node:
    """``x`` with the elements above the ``k``-th diagonal zeroed (of the last two axes),
    as ``numpy.tril``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 2))
    >>> sg.evaluate(sg.tril(m), {m: [[1.0, 2.0], [3.0, 4.0]]}).tolist()
    [[1.0, 0.0], [3.0, 4.0]]
    """
    return _triangle_of(TRIL, x, k)


def triu(x: Any, k: int = 0) -> Node:
    """``x`` with the elements below the ``k``-th diagonal zeroed (of the last two axes),
    as ``numpy.triu``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 2))
    >>> sg.evaluate(sg.triu(m), {m: [[1.0, 2.0], [3.0, 4.0]]}).tolist()
    [[1.0, 2.0], [0.0, 4.0]]
    """
    return _triangle_of(TRIU, x, k)


# --- diagonal, its adjoint diag (the embedding), trace -----------------------------------------


def _diag_len(n1: int | None, n2: int | None, k: int) -> int | None:
    if n1 is None or n2 is None:
        return None
    return max(0, min(n1 - max(-k, 0), n2 - max(k, 0)))


def _diagonal_shape(inputs: tuple, attrs: dict) -> tuple:
    x, a1, a2 = inputs[0], attrs["axis1"], attrs["axis2"]
    rest = tuple(d for i, d in enumerate(x.shape) if i not in (a1, a2))
    return rest + (_diag_len(x.shape[a1], x.shape[a2], attrs["offset"]),)


def _with_axes(rest: list, a1: int, n1: Any, a2: int, n2: Any) -> tuple:
    """``rest`` with the sizes ``n1``, ``n2`` inserted at the result positions a1, a2."""
    shape = list(rest)
    for pos, n in sorted(((a1, n1), (a2, n2))):
        shape.insert(pos, n)
    return tuple(shape)


def _square(n: int | None, m: int | None, k: int) -> int | None:
    """A size left unknown in ``diag``: the square matrix whose k-th diagonal has m."""
    return n if n is not None else None if m is None else m + abs(k)


def _diag_shape(inputs: tuple, attrs: dict) -> tuple:
    if len(inputs) > 1:
        return inputs[1].shape
    g, k = inputs[0], attrs["k"]
    n1, n2 = (_square(n, g.shape[-1], k) for n in attrs["size"])
    return _with_axes(g.shape[:-1], attrs["axis1"], n1, attrs["axis2"], n2)


def _diag_impl(g: np.ndarray, ref: np.ndarray | None = None, *, k: int, axis1: int,
               axis2: int, size: tuple) -> np.ndarray:
    """Zeros with ``g``'s last axis placed on the k-th diagonal of axes (axis1, axis2)."""
    m = g.shape[-1]
    if ref is not None:
        n1, n2 = np.shape(ref)[axis1], np.shape(ref)[axis2]
    else:
        n1, n2 = (_square(n, m, k) for n in size)
    if _diag_len(n1, n2, k) != m:
        raise ValueError(f"a diagonal of {m} elements does not fit the k={k} diagonal of an "
                         f"{n1}x{n2} matrix")
    out = np.zeros(_with_axes(g.shape[:-1], axis1, n1, axis2, n2), dtype=g.dtype)
    view = np.moveaxis(out, (axis1, axis2), (-2, -1))  # a view: writes land in out
    i = np.arange(m)
    view[..., i + max(-k, 0), i + max(k, 0)] = g
    return out


def _diag_into(g: Node, x: Node, k: int, axis1: int, axis2: int) -> Node:
    """``g`` (the diagonal as its last axis) placed on the diagonal of zeros shaped as x."""
    ref = [x] if None in (x.shape[axis1], x.shape[axis2]) else []
    return make(DIAG, [g, *ref], {"k": k, "axis1": axis1, "axis2": axis2,
                                  "size": (x.shape[axis1], x.shape[axis2])})


def _embed(t: Node) -> Node:
    """``t`` with its last axis spread on the diagonal of two new last axes."""
    return make(DIAG, [t], {"k": 0, "axis1": t.ndim - 1, "axis2": t.ndim,
                            "size": (t.shape[-1], t.shape[-1])})


def _diag_ref(g: np.ndarray, k: int, a1: int, a2: int, n1: int, n2: int) -> np.ndarray:
    """The diag embedding written the slow, obvious way (for the test cases)."""
    out = np.zeros(_with_axes(g.shape[:-1], a1, n1, a2, n2))
    for j in range(g.shape[-1]):
        index = _with_axes([slice(None)] * (g.ndim - 1), a1, j + max(-k, 0), a2, j + max(k, 0))
        out[index] = g[..., j]
    return out


DIAGONAL = register(Op(
    name="diagonal", array_api="diagonal", latex=operatorname("diagonal"),
    impl=lambda x, *, offset, axis1, axis2: np.diagonal(x, offset, axis1, axis2),
    shape=_diagonal_shape, dtype=first_dtype,
    show_attrs=("offset", "axis1", "axis2"), defaults={"offset": 0, "axis1": 0, "axis2": 1},
    vjp=(lambda g, out: _diag_into(g, out.inputs[0], out.attrs["offset"], out.attrs["axis1"],
                                   out.attrs["axis2"]),),
    jvp=(lambda t, out: make(DIAGONAL, [t], out.attrs),),
    batch=lambda node, args, b: make(DIAGONAL, args, dict(
        node.attrs, axis1=node.attrs["axis1"] + 1, axis2=node.attrs["axis2"] + 1)),
    cases=[Case(lambda x: diagonal(x), [((3, 3), -1.0, 1.0)], ref=np.diagonal),
           Case(lambda x: diagonal(x, 1, axis1=2, axis2=0), [((2, 3, 4), -1.0, 1.0)],
                ref=lambda x: np.diagonal(x, 1, 2, 0))],
))
DIAG = register(Op(
    name="diag", latex=operatorname("diag"),
    impl=_diag_impl, shape=_diag_shape, dtype=first_dtype, shape_only=(1,),
    show_attrs=("k", "axis1", "axis2"), defaults={"k": 0, "axis1": 0, "axis2": 1},
    vjp=(lambda g, out: make(DIAGONAL, [g], {"offset": out.attrs["k"], "axis1": out.attrs["axis1"],
                                             "axis2": out.attrs["axis2"]}), None),
    jvp=(lambda t, out: make(DIAG, [t, *out.inputs[1:]], out.attrs), None),
    batch=lambda node, args, b: None if len(args) > 1 else make(DIAG, args, dict(
        node.attrs, axis1=node.attrs["axis1"] + 1, axis2=node.attrs["axis2"] + 1)),
    cases=[Case(lambda v: diag(v), [((3,), -1.0, 1.0)], ref=np.diag),
           Case(lambda v: diag(v, -1), [((2,), -1.0, 1.0)], ref=lambda v: np.diag(v, -1)),
           Case(lambda g: make(DIAG, [g], {"k": 1, "axis1": 2, "axis2": 0, "size": (3, 4)}),
                [((2, 3), -1.0, 1.0)], ref=lambda g: _diag_ref(g, 1, 2, 0, 3, 4))],
))


@functools.lru_cache(maxsize=64)
def _sum_dtype_of(dtype: np.dtype) -> np.dtype:
    return np.sum(np.zeros(1, dtype)).dtype  # NumPy's: small ints and bools widen


def _trace_vjp(g: Node, out: Node) -> Node:
    x, k, a1, a2 = out.inputs[0], out.attrs["offset"], out.attrs["axis1"], out.attrs["axis2"]
    m = _diag_len(x.shape[a1], x.shape[a2], k)
    like: Any = g.shape + (m,)
    if None in like:  # unknown sizes: the diagonal itself lends its runtime shape
        like = make(DIAGONAL, [x], out.attrs)
    return _diag_into(broadcast_to(expand_dims(g, -1), like), x, k, a1, a2)


TRACE = register(Op(
    name="trace", array_api="trace", latex=latex_function(r"\mathrm{{tr}}"),
    impl=lambda x, *, offset, axis1, axis2: np.trace(x, offset, axis1, axis2),
    shape=lambda inputs, attrs: _diagonal_shape(inputs, attrs)[:-1],
    dtype=lambda inputs, attrs: _sum_dtype_of(inputs[0].dtype),
    show_attrs=("offset", "axis1", "axis2"), defaults={"offset": 0, "axis1": 0, "axis2": 1},
    vjp=(_trace_vjp,),
    jvp=(lambda t, out: make(TRACE, [t], out.attrs),),
    batch=lambda node, args, b: make(TRACE, args, dict(
        node.attrs, axis1=node.attrs["axis1"] + 1, axis2=node.attrs["axis2"] + 1)),
    cases=[Case(lambda x: trace(x), [((3, 3), -1.0, 1.0)], ref=np.trace),
           Case(lambda x: trace(x, 1), [((3, 4), -1.0, 1.0)], ref=lambda x: np.trace(x, 1)),
           Case(lambda x: trace(x, -1, axis1=1, axis2=2), [((2, 3, 4), -1.0, 1.0)],
                ref=lambda x: np.trace(x, -1, 1, 2))],
))


def _diagonal_args(name: str, x: Any, offset: Any, axis1: Any, axis2: Any) -> tuple:
    (x,) = operands([x], name)
    who = lambda: f"{name} of {describe(x)}"  # noqa: E731
    if x.ndim < 2:
        raise ShapeError(f"{who()}: needs at least 2 dimensions")
    if not isinstance(offset, (int, np.integer)) or isinstance(offset, bool):
        raise SymgraphError(f"{who()}: offset must be an int, got {offset!r}")
    (a1,) = axes_in_order(axis1, x.ndim, who)
    (a2,) = axes_in_order(axis2, x.ndim, who)
    if a1 == a2:
        raise ShapeError(f"{who()}: axis1 and axis2 are both {a1}; name two different axes")
    return x, {"offset": int(offset), "axis1": a1, "axis2": a2}


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Node:
    """The ``offset``-th diagonal of the axes ``axis1``, ``axis2`` (as the last axis of
    the result), as ``numpy.diagonal``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 2))
    >>> sg.evaluate(sg.diagonal(m), {m: [[1.0, 2.0], [3.0, 4.0]]}).tolist()
    [1.0, 4.0]
    """
    x, attrs = _diagonal_args("diagonal", x, offset, axis1, axis2)
    return make(DIAGONAL, [x], attrs)


def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Node:
    """The sum along the ``offset``-th diagonal, as ``numpy.trace``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 2))
    >>> float(sg.evaluate(sg.trace(m), {m: [[1.0, 2.0], [3.0, 4.0]]}))
    5.0
    """
    x, attrs = _diagonal_args("trace", x, offset, axis1, axis2)
    return make(TRACE, [x], attrs)


def diag(v: Any, k: int = 0) -> Node:
    """As ``numpy.diag``: a 1-D ``v`` becomes the ``k``-th diagonal of a square matrix of
    zeros; of a 2-D ``v`` the ``k``-th diagonal is taken.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(2,))
    >>> sg.evaluate(sg.diag(v), {v: [1.0, 2.0]}).tolist()
    [[1.0, 0.0], [0.0, 2.0]]
    """
    (v,) = operands([v], "diag")
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ShapeError(f"diag of {describe(v)}: the input must be 1-D (to build a matrix) "
                         "or 2-D (to take a diagonal); use sg.diagonal for more axes")
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
        raise SymgraphError(f"diag of {describe(v)}: k must be an int, got {k!r}")
    n = _square(None, v.shape[0], int(k))
    return make(DIAG, [v], {"k": int(k), "axis1": 0, "axis2": 1, "size": (n, n)})


# --- einsum ----------------------------------------------------------------------------------------


def _split(subscripts: str) -> tuple[list[str], str]:
    inputs, output = subscripts.split("->")
    return inputs.split(","), output


def _parse(subscripts: Any, ndims: list[int], who: str) -> str:
    """NumPy's subscripts in explicit form, ``...`` spelled out as letters: ``ij,jk->ik``."""
    if not isinstance(subscripts, str):
        raise SymgraphError(f"{who}: the subscripts must be a string such as 'ij,jk->ik', got "
                            f"{_brief(repr(subscripts))}")
    text = subscripts.replace(" ", "")
    lhs, arrow, rhs = text.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ndims):
        raise SymgraphError(f"{who}: the subscripts name {len(terms)} operand(s) but "
                            f"{len(ndims)} were given")
    for term in [*terms, rhs]:
        if term.count("...") > 1 or any(c not in _LETTERS for c in term.replace("...", "")):
            raise SymgraphError(f"{who}: {term!r} is not a valid term; use letters and at most "
                                "one '...' per operand, terms separated by ',' and one '->'")
    ranks = []
    for i, (term, nd) in enumerate(zip(terms, ndims)):
        core = len(term.replace("...", ""))
        if core > nd or ("..." not in term and core != nd):
            raise SymgraphError(f"{who}: {term!r} has {core} indices for operand {i}, which has "
                                f"{nd} dimensions")
        ranks.append(nd - core)
    used = set(text)
    fresh = [c for c in _ELLIPSIS_LETTERS if c not in used][: max(ranks, default=0)]
    if len(fresh) < max(ranks, default=0):
        raise SymgraphError(f"{who}: too many dimensions for einsum's 52 index letters")
    terms = [t.replace("...", "".join(fresh[len(fresh) - r:])) for t, r in zip(terms, ranks)]
    if arrow:
        if fresh and "..." not in rhs:
            raise SymgraphError(f"{who}: the operands have '...' dimensions the output "
                                f"{rhs!r} does not name; add '...' to the output")
        out = rhs.replace("...", "".join(fresh))
        if len(set(out)) != len(out) or not set(out) <= set("".join(terms)):
            raise SymgraphError(f"{who}: the output {rhs!r} must name each index once, and only "
                                "indices of the operands")
    else:  # NumPy's implicit output: '...' first, then the indices used once, sorted
        counts = Counter(lhs.replace("...", "").replace(",", ""))
        out = "".join(fresh) + "".join(sorted(c for c, n in counts.items() if n == 1))
    return ",".join(terms) + "->" + out


def _letter_sizes(terms: list[str], inputs: tuple, subscripts: str) -> dict:
    seen: dict[str, list] = {}
    for term, node in zip(terms, inputs):
        mine: dict[str, Any] = {}
        for c, d in zip(term, node.shape):
            if c in mine and None not in (mine[c], d) and mine[c] != d:
                raise ShapeError(f"einsum '{subscripts}': the index {c!r} repeats in "
                                 f"{describe(node)} with sizes {mine[c]} and {d}")
            mine[c] = d
            seen.setdefault(c, []).append(d)
    sizes = {}
    for c, ds in seen.items():
        big = {d for d in ds if d is not None and d != 1}
        if len(big) > 1:
            names = ", ".join(describe(n) for n in inputs)
            raise ShapeError(f"einsum '{subscripts}' of {names}: the index {c!r} has sizes "
                             f"{sorted(big)}; they must be equal (or 1, which broadcasts)")
        sizes[c] = big.pop() if big else None if None in ds else 1
    return sizes


def _einsum_shape(inputs: tuple, attrs: dict) -> tuple:
    terms, out = _split(attrs["subscripts"])
    sizes = _letter_sizes(terms, inputs, attrs["subscripts"])
    return tuple(sizes[c] for c in out)


def _einsum_impl(*arrays: np.ndarray, subscripts: str) -> Any:
    # NumPy's C loop is fastest on small operands; from a few thousand elements its
    # optimizer (BLAS for pairwise contractions, a good order for three or more) pays.
    big = sum(np.size(a) for a in arrays) > 2048
    return np.einsum(subscripts, *arrays, optimize=big)


def _einsum_vjp(g: Node, out: Node, k: int) -> Node:
    """Operand k's share of ``g``: an einsum of ``g`` and the other operands onto k's
    indices; indices only k has are broadcast back, indices k repeats are put back on a
    diagonal (``diag``)."""
    terms, result = _split(out.attrs["subscripts"])
    x, target = out.inputs[k], list(terms[k])
    others = [j for j in range(len(terms)) if j != k]
    elsewhere = set("".join(terms[j] for j in others))
    spare = (c for c in _LETTERS if c not in out.attrs["subscripts"])
    for p, c in enumerate(target):
        # a length-1 axis broadcast against a longer one: a sum of one term, its own index
        if x.shape[p] == 1 and target.count(c) == 1 and c in elsewhere:
            target[p] = next(spare, c)
    unique = list(dict.fromkeys(target))
    labels = [c for c in unique if c in elsewhere or c in result]
    missing = [c for c in unique if c not in labels]
    spec = ",".join([result, *(terms[j] for j in others)]) + "->" + "".join(labels)
    t = einsum(spec, g, *(out.inputs[j] for j in others))
    if missing:
        t = expand_dims(t, tuple(range(t.ndim, t.ndim + len(missing))))
        labels += missing
        if any(target.count(c) > 1 for c in missing):  # the diagonal needs its length now
            shape = [x.shape[target.index(c)] if c in missing and target.count(c) > 1 else d
                     for c, d in zip(labels, t.shape)]
            if None in shape:
                raise ShapeError(f"the derivative of einsum '{out.attrs['subscripts']}' needs "
                                 f"the static shape of {describe(x)}")
            t = broadcast_to(t, tuple(shape))
    for c in unique:
        for _ in range(target.count(c) - 1):
            pos = labels.index(c)
            t = transpose(t, tuple(i for i in range(t.ndim) if i != pos) + (pos,))
            t, labels = _embed(t), labels[:pos] + labels[pos + 1:] + [c, c]
    slots: dict[str, list[int]] = {}
    for pos, c in enumerate(labels):
        slots.setdefault(c, []).append(pos)
    t = transpose(t, tuple(slots[c].pop(0) for c in target))
    if any(target.count(c) == 1 for c in missing):
        t = broadcast_to(t, x)
    return t


def _batch_einsum(node: Node, args: list, batched: tuple) -> Node | None:
    """vmap: a new index, first in each batched operand and in the output."""
    terms, result = _split(node.attrs["subscripts"])
    letter = next((c for c in _LETTERS if c not in node.attrs["subscripts"]), None)
    if letter is None:
        return None
    terms = [letter + t if b else t for t, b in zip(terms, batched)]
    return make(EINSUM, args, {"subscripts": ",".join(terms) + "->" + letter + result})


def _einsum_latex(node: Node) -> str:
    subs = node.attrs["subscripts"].replace("->", r" \to ")  # letters, commas: nothing to escape
    return r"\operatorname{{einsum}}_{{" + subs + r"}}\left({args}\right)"


EINSUM = register(Op(
    name="einsum", latex=_einsum_latex,
    impl=_einsum_impl, shape=_einsum_shape, dtype=promote, show_attrs=("subscripts",),
    vjp=_einsum_vjp,
    jvp=lambda t, out, i: make(EINSUM, [t if j == i else x for j, x in enumerate(out.inputs)],
                               out.attrs),
    batch=_batch_einsum,
    cases=[Case(lambda a, b: einsum("ij,jk->ik", a, b), [((2, 3), -1.0, 1.0), ((3, 2), -1.0, 1.0)],
                ref=lambda a, b: a @ b),
           Case(lambda a, b: einsum("bij,bjk->bik", a, b),
                [((2, 2, 3), -1.0, 1.0), ((2, 3, 2), -1.0, 1.0)], ref=lambda a, b: a @ b),
           Case(lambda a: einsum("ii->", a), [((3, 3), -1.0, 1.0)], ref=np.trace),
           Case(lambda a: einsum("ii->i", a), [((3, 3), -1.0, 1.0)], ref=np.diagonal),
           Case(lambda a: einsum("iii->i", a), [((2, 2, 2), -1.0, 1.0)],
                ref=lambda a: a[[0, 1], [0, 1], [0, 1]]),
           Case(lambda a, b: einsum("i,j->ij", a, b), [((2,), -1.0, 1.0), ((3,), -1.0, 1.0)],
                ref=np.outer),
           Case(lambda a, b: einsum("ij,jk", a, b), [((2, 3), -1.0, 1.0), ((3, 2), -1.0, 1.0)],
                ref=lambda a, b: a @ b),
           Case(lambda a: einsum("ij,ij->", a, a), [((2, 3), -1.0, 1.0)],
                ref=lambda a: np.sum(a * a)),
           Case(lambda a, b: einsum("ij,ij->ij", a, b), [((2, 1), -1.0, 1.0), ((2, 3), -1.0, 1.0)],
                ref=lambda a, b: a * b),
           Case(lambda a, b: einsum("...ij,...jk->...ik", a, b),
                [((2, 1, 2, 3), -1.0, 1.0), ((3, 3, 2), -1.0, 1.0)], ref=lambda a, b: a @ b),
           Case(lambda a, b, c: einsum("ij,jk,kl->il", a, b, c),
                [((2, 3), -1.0, 1.0), ((3, 2), -1.0, 1.0), ((2, 2), -1.0, 1.0)],
                ref=lambda a, b, c: a @ b @ c),
           Case(lambda a, b: einsum("ij,k->jk", a, b), [((2, 3), -1.0, 1.0), ((2,), -1.0, 1.0)],
                ref=lambda a, b: np.outer(a.sum(0), b))],
))


def einsum(subscripts: str, *operands: Any) -> Node:
    """Einstein summation, as ``numpy.einsum``: explicit (``'ij,jk->ik'``) or implicit
    (``'ij,jk'``) output, ``...`` for leading dimensions, an index repeated in one
    operand for a diagonal (``'ii->i'``); size-1 dimensions broadcast.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a, b = sg.var("a", shape=(2, 3)), sg.var("b", shape=(3, 4))
    >>> sg.einsum("ij,jk->ik", a, b).shape, sg.einsum("ii->", sg.var("m", shape=(3, 3))).shape
    ((2, 4), ())
    """
    if not operands:
        raise SymgraphError("einsum needs at least one operand after the subscripts")
    nodes = _operands(list(operands), "einsum")
    spec = _parse(subscripts, [n.ndim for n in nodes], f"einsum {_brief(repr(subscripts), 40)}")
    (first, *rest), out = _split(spec)
    if not rest and len(set(first)) == len(first) == len(out):  # a permutation of one operand
        return transpose(nodes[0], tuple(first.index(c) for c in out))
    return make(EINSUM, nodes, {"subscripts": spec})


_operands = operands  # einsum's parameter is NumPy's name, ``operands``


# --- tensordot, inner, outer ------------------------------------------------------------------


def _tensordot_shape(inputs: tuple, attrs: dict) -> tuple:
    a, b = inputs
    ia, ib = attrs["axes"]
    for i, j in zip(ia, ib):
        if None not in (a.shape[i], b.shape[j]) and a.shape[i] != b.shape[j]:
            raise ShapeError(f"tensordot of {describe(a)} and {describe(b)}: axis {i} "
                             f"({a.shape[i]}) and axis {j} ({b.shape[j]}) differ in size")
    return (tuple(d for p, d in enumerate(a.shape) if p not in ia)
            + tuple(d for p, d in enumerate(b.shape) if p not in ib))


def _argsort(labels: list) -> tuple:
    return tuple(int(i) for i in np.argsort(labels, kind="stable"))


def _tensordot_vjp(g: Node, out: Node, k: int) -> Node:
    """``g`` contracted with the other operand over its free axes, then transposed to the
    operand's axis order (a contracted axis of one operand pairs with one of the other)."""
    a, b = out.inputs
    ia, ib = out.attrs["axes"]
    free_a = [p for p in range(a.ndim) if p not in ia]
    free_b = [p for p in range(b.ndim) if p not in ib]
    nfa = len(free_a)
    pairs = range(len(ia))
    if k == 0:
        r = tensordot(g, b, axes=(tuple(range(nfa, g.ndim)), tuple(free_b)))
        labels = free_a + [ia[j] for j in sorted(pairs, key=lambda j: ib[j])]
    else:
        r = tensordot(a, g, axes=(tuple(free_a), tuple(range(nfa))))
        labels = [ib[j] for j in sorted(pairs, key=lambda j: ia[j])] + free_b
    return transpose(r, _argsort(labels))


def _batch_tensordot(node: Node, args: list, batched: tuple) -> Node | None:
    ia, ib = node.attrs["axes"]
    if batched == (True, False):
        return make(TENSORDOT, args, {"axes": (_shift(ia), ib)})
    if batched == (False, True):  # the batch axis lands after a's free axes: move it first
        r = make(TENSORDOT, args, {"axes": (ia, _shift(ib))})
        nfa = node.inputs[0].ndim - len(ia)
        return transpose(r, (nfa, *range(nfa), *range(nfa + 1, r.ndim)))
    return None  # derivatives are linear in the batched cotangent: never both


TENSORDOT = register(Op(
    name="tensordot", array_api="tensordot", latex=operatorname("tensordot"),
    impl=lambda a, b, *, axes: np.tensordot(a, b, axes),
    shape=_tensordot_shape, dtype=promote, show_attrs=("axes",),
    vjp=_tensordot_vjp,
    jvp=(lambda t, out: make(TENSORDOT, [t, out.inputs[1]], out.attrs),
         lambda t, out: make(TENSORDOT, [out.inputs[0], t], out.attrs)),
    batch=_batch_tensordot,
    cases=[Case(lambda a, b: tensordot(a, b, 1), [((2, 3), -1.0, 1.0), ((3, 2), -1.0, 1.0)],
                ref=lambda a, b: np.tensordot(a, b, 1)),
           Case(lambda a, b: tensordot(a, b, axes=([0, 2], [1, 0])),
                [((2, 3, 2), -1.0, 1.0), ((2, 2, 3), -1.0, 1.0)],
                ref=lambda a, b: np.tensordot(a, b, axes=([0, 2], [1, 0]))),
           Case(lambda a, b: tensordot(a, b, 0), [((2,), -1.0, 1.0), ((3,), -1.0, 1.0)],
                ref=lambda a, b: np.tensordot(a, b, 0))],
))


def tensordot(a: Any, b: Any, axes: int | tuple = 2) -> Node:
    """Sum of products over axes: the last ``axes`` of ``a`` with the first ``axes`` of
    ``b``, or the pairs ``(axes_a, axes_b)``, as ``numpy.tensordot``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a, b = sg.var("a", shape=(2, 3, 4)), sg.var("b", shape=(4, 3))
    >>> sg.tensordot(a, b, axes=([1, 2], [1, 0])).shape
    (2,)
    """
    a, b = operands([a, b], "tensordot")
    who = lambda: f"tensordot of {describe(a)} and {describe(b)}"  # noqa: E731
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        if not 0 <= axes <= min(a.ndim, b.ndim):
            raise ShapeError(f"{who()}: axes={axes} must be between 0 and {min(a.ndim, b.ndim)}")
        ia, ib = tuple(range(a.ndim - axes, a.ndim)), tuple(range(int(axes)))
    else:
        try:
            axes_a, axes_b = axes
        except (TypeError, ValueError):
            raise SymgraphError(f"{who()}: axes must be an int or a pair (axes_a, axes_b), "
                                f"got {_brief(repr(axes))}") from None
        ia, ib = axes_in_order(axes_a, a.ndim, who), axes_in_order(axes_b, b.ndim, who)
        if len(ia) != len(ib):
            raise ShapeError(f"{who()}: {len(ia)} axes of a against {len(ib)} of b")
    return make(TENSORDOT, [a, b], {"axes": (ia, ib)})


def inner(a: Any, b: Any) -> Node:
    """The sum of products over the last axes, as ``numpy.inner`` (a ``tensordot``).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     u, v = sg.var("u", shape=(3,)), sg.var("v", shape=(3,))
    >>> float(sg.evaluate(sg.inner(u, v), {u: [1.0, 2.0, 3.0], v: [1.0, 1.0, 2.0]}))
    9.0
    """
    a, b = operands([a, b], "inner")
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    return tensordot(a, b, axes=((a.ndim - 1,), (b.ndim - 1,)))


def outer(a: Any, b: Any) -> Node:
    """The products of every element of ``a`` with every element of ``b`` (both
    flattened), as ``numpy.outer``: a broadcast ``multiply``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     u, v = sg.var("u", shape=(2,)), sg.var("v", shape=(3,))
    >>> sg.outer(u, v).shape
    (2, 3)
    """
    a, b = operands([a, b], "outer")
    return multiply(expand_dims(ravel(a), 1), ravel(b))


# --- kron ---------------------------------------------------------------------------------------


def _padded(shape: tuple, rank: int) -> tuple:
    return (1,) * (rank - len(shape)) + shape


def _kron_shape(inputs: tuple, attrs: dict) -> tuple:
    a, b = inputs
    rank = max(a.ndim, b.ndim)
    return tuple(None if m is None or n is None else m * n
                 for m, n in zip(_padded(a.shape, rank), _padded(b.shape, rank)))


def _kron_vjp(g: Node, out: Node, k: int) -> Node:
    """``g`` seen as (a-axis, b-axis) pairs, contracted with the other operand."""
    a, b = out.inputs
    rank = out.ndim
    if rank > 26:
        raise SymgraphError(f"the derivative of kron supports up to 26 dimensions, not {rank}")
    pairs = [-1 if d is None else d for m, n in zip(_padded(a.shape, rank), _padded(b.shape, rank))
             for d in (m, n)]
    if pairs.count(-1) > 1:
        raise SymgraphError(f"the derivative of kron of {describe(a)} and {describe(b)} needs "
                            "their static shapes")
    la, lb = string.ascii_lowercase[:rank], string.ascii_uppercase[:rank]
    grid = "".join(p + q for p, q in zip(la, lb))
    sub_a, sub_b = la[rank - a.ndim:], lb[rank - b.ndim:]
    if k == 0:
        return einsum(f"{grid},{sub_b}->{sub_a}", reshape(g, tuple(pairs)), b)
    return einsum(f"{grid},{sub_a}->{sub_b}", reshape(g, tuple(pairs)), a)


def _batch_kron(node: Node, args: list, batched: tuple) -> Node | None:
    """vmap: the batched operand's batch axis meets a length-1 axis of the other (np.kron
    pads the lower rank with leading ones)."""
    if all(batched):
        return None  # derivatives are linear in the batched cotangent: never both
    return make(KRON, [batched_to_rank(x, node.ndim) if bt else x
                       for x, bt in zip(args, batched)])


KRON = register(Op(
    name="kron", array_api="kron", latex=r"{0:base} \otimes {1:base}",
    impl=np.kron, shape=_kron_shape, dtype=promote,
    vjp=_kron_vjp,
    jvp=(lambda t, out: make(KRON, [t, out.inputs[1]]),
         lambda t, out: make(KRON, [out.inputs[0], t])),
    batch=_batch_kron,
    cases=[Case(lambda a, b: kron(a, b), [((2, 2), -1.0, 1.0), ((2, 3), -1.0, 1.0)],
                ref=np.kron),
           Case(lambda a, b: kron(a, b), [((3,), -1.0, 1.0), ((2, 2), -1.0, 1.0)],
                ref=np.kron)],
))


def kron(a: Any, b: Any) -> Node:
    """The Kronecker product, blocks ``a[i, j] * b``, as ``numpy.kron``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a, b = sg.var("a", shape=(2, 2)), sg.var("b", shape=(3, 3))
    >>> sg.kron(a, b).shape
    (6, 6)
    """
    a, b = operands([a, b], "kron")
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    return make(KRON, [a, b])
