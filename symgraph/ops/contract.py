"""Products and diagonals: ``tril triu diag diagonal trace outer inner tensordot einsum kron``.

Each is linear in each argument, so every derivative is again an op: ``einsum``'s is an
``einsum`` with the subscripts permuted (plus a diagonal embedding for an index repeated
in one operand, and a broadcast for an index summed in one operand only),
``tensordot``'s a ``tensordot`` and a ``transpose``, ``kron``'s an ``einsum`` of the
cotangent seen as blocks. ``outer`` is a broadcast product and ``inner`` a
``tensordot``. The triangles and diagonals live in ``diagonals`` (exported from here).

Imports: ``symgraph.graph`` and ``symgraph.ops``' lower modules (``layout``, ``diagonals``).
"""

from __future__ import annotations

import string
from collections import Counter
from typing import Any

import numpy as np

from symgraph.graph import Node, ShapeError, SymgraphError
from symgraph.ops.arithmetic import multiply
from symgraph.ops.core import (
    Case,
    Op,
    _brief,
    describe,
    follows_numpy,
    make,
    operands,
    operatorname,
    promote,
    register,
)
from symgraph.ops.diagonals import _embed, diag, diagonal, trace, tril, triu
from symgraph.ops.layout import axes_in_order, ravel
from symgraph.ops.reduce import broadcast_to
from symgraph.ops.shape import batched_to_rank, expand_dims, reshape, transpose

__all__ = [
    "diag",
    "diagonal",
    "einsum",
    "inner",
    "kron",
    "outer",
    "tensordot",
    "trace",
    "tril",
    "triu",
]

_LETTERS = string.ascii_letters
_ELLIPSIS_LETTERS = string.ascii_uppercase + string.ascii_lowercase  # capitals first: readable


def _on(*shapes: tuple) -> list:
    """A test case's inputs: uniform samples in [-1, 1] of each shape."""
    return [(shape, -1.0, 1.0) for shape in shapes]


def _shift(axes: tuple, by: int = 1) -> tuple:
    return tuple(a + by for a in axes)


# --- einsum ----------------------------------------------------------------------------------------


def _split(subscripts: str) -> tuple[list[str], str]:
    inputs, output = subscripts.split("->")
    return inputs.split(","), output


def _parse(subscripts: str, ndims: list[int], who: str) -> str:
    """NumPy's subscripts in explicit form, ``...`` spelled out as letters: ``ij,jk->ik``."""
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
    cases=[Case(lambda *xs, s=s: einsum(s, *xs), _on(*shapes),
                ref=lambda *xs, s=s: np.einsum(s, *xs)) for s, *shapes in [
        ("ij,jk->ik", (2, 3), (3, 2)), ("bij,bjk->bik", (2, 2, 3), (2, 3, 2)), ("ii->", (3, 3)),
        ("ii->i", (3, 3)), ("iii->i", (2, 2, 2)), ("i,j->ij", (2,), (3,)), ("ij,jk", (2, 3), (3, 2)),
        ("ij,ij->ij", (2, 1), (2, 3)), ("...ij,...jk->...ik", (2, 1, 2, 3), (3, 3, 2)),
        ("ij,jk,kl->il", (2, 3), (3, 2), (2, 2)), ("ij,k->jk", (2, 3), (2,))]]
    + [Case(lambda a: einsum("ij,ij->", a, a), _on((2, 3)), ref=lambda a: np.sum(a * a))],
))


@follows_numpy(np.einsum)
def einsum(subscripts: str, *operands: Any, optimize: Any = False) -> Node:
    """Einstein summation, as ``numpy.einsum``: explicit (``'ij,jk->ik'``) or implicit
    (``'ij,jk'``) output, ``...`` for leading dimensions, an index repeated in one
    operand for a diagonal (``'ii->i'``); size-1 dimensions broadcast.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a, b = sg.var("a", shape=(2, 3)), sg.var("b", shape=(3, 4))
    >>> sg.einsum("ij,jk->ik", a, b).shape, sg.einsum("ii->", sg.var("m", shape=(3, 3))).shape
    ((2, 4), ())

    ``optimize`` (NumPy's contraction order) is accepted and has no effect here: the order
    of the contractions is symgraph's.
    """
    if not isinstance(subscripts, str):  # (checked before the operands become nodes)
        raise SymgraphError(f"einsum: the subscripts must be a string such as 'ij,jk->ik', got "
                            f"{_brief(repr(subscripts))}; NumPy's form with lists of axis "
                            "numbers is not supported")
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
    # both batched: a contraction with the batch index kept, which einsum writes
    a, b = node.inputs
    if a.ndim + b.ndim + 1 > len(_LETTERS):
        return None
    la = _LETTERS[1:a.ndim + 1]
    lb = list(_LETTERS[a.ndim + 1:a.ndim + 1 + b.ndim])
    for i, j in zip(ia, ib):
        lb[j] = la[i]
    free = [c for k, c in enumerate(la) if k not in ia] + [
        c for k, c in enumerate(lb) if k not in ib]
    batch = _LETTERS[0]
    return make(EINSUM, args, {"subscripts": f"{batch}{la},{batch}{''.join(lb)}->"
                                             f"{batch}{''.join(free)}"})


TENSORDOT = register(Op(
    name="tensordot", array_api="tensordot", latex=operatorname("tensordot"),
    impl=lambda a, b, *, axes: np.tensordot(a, b, axes),
    shape=_tensordot_shape, dtype=promote, show_attrs=("axes",),
    vjp=_tensordot_vjp,
    jvp=(lambda t, out: make(TENSORDOT, [t, out.inputs[1]], out.attrs),
         lambda t, out: make(TENSORDOT, [out.inputs[0], t], out.attrs)),
    batch=_batch_tensordot,
    cases=[Case(lambda a, b, n=n: tensordot(a, b, n), _on(*shapes),
                ref=lambda a, b, n=n: np.tensordot(a, b, n)) for n, *shapes in [
        (1, (2, 3), (3, 2)), (([0, 2], [1, 0]), (2, 3, 2), (2, 2, 3)), (0, (2,), (3,))]],
))


@follows_numpy(np.tensordot, np.linalg.tensordot)
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
    who = lambda: f"tensordot of {describe(a)} and {describe(b)}"
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


@follows_numpy(np.inner)
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


@follows_numpy(np.outer)
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
    if all(batched):  # each entry's own product: every pair of entries, then the blocks laid out
        if None in node.shape:
            return None
        rank, size = node.ndim, args[0].shape[0]
        a, b = (batched_to_rank(x, rank) for x in args)
        pairs = multiply(expand_dims(a, tuple(range(2, 2 * rank + 1, 2))),
                         expand_dims(b, tuple(range(1, 2 * rank, 2))))
        return reshape(pairs, (size, *node.shape))
    return make(KRON, [batched_to_rank(x, node.ndim) if bt else x
                       for x, bt in zip(args, batched)])


KRON = register(Op(
    name="kron", array_api="kron", latex=r"{0:base} \otimes {1:base}",
    impl=np.kron, shape=_kron_shape, dtype=promote,
    vjp=_kron_vjp,
    jvp=(lambda t, out: make(KRON, [t, out.inputs[1]]),
         lambda t, out: make(KRON, [out.inputs[0], t])),
    batch=_batch_kron,
    cases=[Case(lambda a, b: kron(a, b), _on(*shapes), ref=np.kron)
           for shapes in [((2, 2), (2, 3)), ((3,), (2, 2))]],
))


@follows_numpy(np.kron)
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
