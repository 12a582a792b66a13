"""A failed public call leaves the graph as it was.

Each call below raises ``sg.SymgraphError`` after converting an operand to a constant or
building an intermediate node (a cast, a reshape) before a check fails. The graph must be
left exactly as it was: same length, same node ids, same interning table and names. Then
an equal call that fits builds the right value: the interning table still gives one node
per expression (a forgotten constant is made anew, not found half-gone).
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import symgraph as sg

RNG = np.random.default_rng(7)
FEEDS = {  # name -> (shape, dtype) of the inputs every case may use
    "x": ((3,), "float64"), "y": ((4,), "float64"), "m": ((2, 3), "float64"),
    "n": ((3, 4), "float64"), "sq": ((3, 3), "float64"), "img": ((1, 1, 5, 5), "float64"),
    "w": ((2, 1, 3, 3), "float64"), "iv": ((3,), "int64"), "b": ((3,), "bool"),
    "b4": ((4,), "bool"),
}
VALUES = {
    name: (RNG.integers(-3, 4, shape) if dtype == "int64" else
           RNG.random(shape) > 0.5 if dtype == "bool" else RNG.standard_normal(shape))
    for name, (shape, dtype) in FEEDS.items()
}
VALUES["sq"] = VALUES["sq"] @ VALUES["sq"].T + 3 * np.eye(3)  # positive definite


def _inputs() -> dict[str, sg.Node]:
    return {name: sg.var(name, shape=shape, dtype=dtype) for name, (shape, dtype) in FEEDS.items()}


def _strict_shape(inputs: tuple, attrs: dict) -> tuple:
    if len({n.shape for n in inputs}) > 1:
        raise sg.ShapeError("fb_strict takes inputs of one shape")
    return inputs[0].shape


STRICT = sg.define_op("fb_strict", np.add, shape=_strict_shape)
LOOSE = sg.define_op("fb_loose", np.add)  # NumPy broadcasting by default

ones = np.ones

# (id, the failing call, an equal call that fits, its value from the inputs' values)
CASES = [
    # elementwise ops: a constant of the wrong shape (operators, functions, NumPy's ufuncs)
    ("x + ones(4)", lambda v: v["x"] + ones(4), lambda v: v["y"] + ones(4),
     lambda a: a["y"] + 1),
    ("ones(4) - x", lambda v: ones(4) - v["x"], lambda v: ones(4) - v["y"],
     lambda a: 1 - a["y"]),
    ("x * ones((2, 4))", lambda v: v["x"] * ones((2, 4)), lambda v: v["y"] * ones((2, 4)),
     lambda a: a["y"] * ones((2, 4))),
    ("x / [1, 2]", lambda v: v["x"] / np.array([1.0, 2.0]),
     lambda v: v["m"][:, 0] / np.array([1.0, 2.0]),
     lambda a: a["m"][:, 0] / [1, 2]),
    ("x ** full(4, 2)", lambda v: v["x"] ** np.full(4, 2.0), lambda v: v["y"] ** np.full(4, 2.0),
     lambda a: a["y"] ** 2),
    ("x % ones(4)", lambda v: v["x"] % ones(4), lambda v: v["y"] % ones(4),
     lambda a: np.mod(a["y"], 1)),
    ("divmod(x, ones(4))", lambda v: divmod(v["x"], ones(4)), lambda v: divmod(v["y"], ones(4))[0],
     lambda a: a["y"] // 1),
    ("x < ones(4)", lambda v: v["x"] < ones(4), lambda v: v["y"] < ones(4), lambda a: a["y"] < 1),
    ("sg.add", lambda v: sg.add(v["x"], ones(4)), lambda v: sg.add(v["y"], ones(4)),
     lambda a: a["y"] + 1),
    ("sg.maximum", lambda v: sg.maximum(v["x"], ones(4)), lambda v: sg.maximum(v["y"], ones(4)),
     lambda a: np.maximum(a["y"], 1)),
    ("sg.minimum", lambda v: sg.minimum(ones(4), v["x"]), lambda v: sg.minimum(ones(4), v["y"]),
     lambda a: np.minimum(1, a["y"])),
    ("sg.where (values)", lambda v: sg.where(ones(3, bool), v["x"], ones(4)),
     lambda v: sg.where(ones(4, bool), v["y"], ones(4)), lambda a: a["y"]),
    ("sg.where (condition)", lambda v: sg.where(ones(4, bool), v["x"], 0.0),
     lambda v: sg.where(ones(4, bool), v["y"], 0.0), lambda a: a["y"]),
    ("sg.clip", lambda v: sg.clip(v["x"], np.zeros(4), 1.0),
     lambda v: sg.clip(v["y"], np.zeros(4), 1.0),
     lambda a: np.clip(a["y"], 0, 1)),
    ("x.clip", lambda v: v["x"].clip(0.0, np.full(5, 0.5)),
     lambda v: v["y"].clip(0.0, np.full(4, 0.5)),
     lambda a: np.clip(a["y"], 0, 0.5)),
    ("sg.arctan2", lambda v: sg.arctan2(v["x"], ones(4)), lambda v: sg.arctan2(v["y"], ones(4)),
     lambda a: np.arctan2(a["y"], 1)),
    ("sg.logaddexp", lambda v: sg.logaddexp(v["x"], ones(4)),
     lambda v: sg.logaddexp(v["y"], ones(4)),
     lambda a: np.logaddexp(a["y"], 1)),
    ("np.add of a node", lambda v: np.add(v["x"], ones(4)), lambda v: np.add(v["y"], ones(4)),
     lambda a: a["y"] + 1),
    ("np.hypot of a node", lambda v: np.hypot(v["x"], ones(4)), lambda v: np.hypot(v["y"], ones(4)),
     lambda a: np.hypot(a["y"], 1)),
    # mixed dtypes: an integer or boolean operand cast before the shapes are compared
    ("int node + ones(4)", lambda v: v["iv"] + ones(4), lambda v: sg.cast(v["iv"], "float64") + 1.0,
     lambda a: a["iv"] + 1.0),
    ("int node * float node", lambda v: v["iv"] * v["y"], lambda v: v["iv"] * v["x"],
     lambda a: a["iv"] * a["x"]),
    ("bool & bools(4)", lambda v: v["b"] & ones(4, bool), lambda v: v["b4"] & ones(4, bool),
     lambda a: a["b4"]),
    ("sg.logical_or", lambda v: sg.logical_or(v["b"], np.zeros(4, bool)),
     lambda v: sg.logical_or(v["b4"], np.zeros(4, bool)), lambda a: a["b4"]),
    # matrix products
    ("x @ ones((4, 2))", lambda v: v["x"] @ ones((4, 2)), lambda v: v["y"] @ ones((4, 2)),
     lambda a: a["y"] @ ones((4, 2))),
    ("ones((2, 4)) @ x", lambda v: ones((2, 4)) @ v["x"], lambda v: ones((2, 4)) @ v["y"],
     lambda a: ones((2, 4)) @ a["y"]),
    ("sg.matmul", lambda v: sg.matmul(v["m"], ones((4, 2))),
     lambda v: sg.matmul(v["n"], ones((4, 2))),
     lambda a: a["n"] @ ones((4, 2))),
    ("sg.dot", lambda v: sg.dot(v["m"], ones(4)), lambda v: sg.dot(v["n"], ones(4)),
     lambda a: a["n"] @ ones(4)),
    ("m.dot", lambda v: v["m"].dot(ones(4)), lambda v: v["n"].dot(ones(4)),
     lambda a: a["n"] @ ones(4)),
    ("sg.tensordot", lambda v: sg.tensordot(v["m"], ones((4, 2)), axes=1),
     lambda v: sg.tensordot(v["n"], ones((4, 2)), axes=1), lambda a: a["n"] @ ones((4, 2))),
    ("sg.inner", lambda v: sg.inner(v["x"], ones(4)), lambda v: sg.inner(v["y"], ones(4)),
     lambda a: a["y"].sum()),
    ("sg.einsum (shapes)", lambda v: sg.einsum("ij,jk->ik", v["m"], ones((4, 2))),
     lambda v: sg.einsum("ij,jk->ik", v["n"], ones((4, 2))), lambda a: a["n"] @ ones((4, 2))),
    ("sg.einsum (subscripts)", lambda v: sg.einsum("ij,jk->iq", v["n"], ones((4, 2))),
     lambda v: sg.einsum("ij,jk->ik", v["n"], ones((4, 2))), lambda a: a["n"] @ ones((4, 2))),
    # joining
    ("sg.concatenate", lambda v: sg.concatenate([v["x"], ones((2, 2))]),
     lambda v: sg.concatenate([v["m"], ones((2, 2))], axis=1),
     lambda a: np.concatenate([a["m"], ones((2, 2))], axis=1)),
    ("np.concatenate of a node", lambda v: np.concatenate([v["x"], ones((2, 2))]),
     lambda v: np.concatenate([v["x"], ones(2)]), lambda a: np.concatenate([a["x"], ones(2)])),
    ("sg.stack", lambda v: sg.stack([v["x"], ones(4)]), lambda v: sg.stack([v["y"], ones(4)]),
     lambda a: np.stack([a["y"], ones(4)])),
    ("sg.hstack", lambda v: sg.hstack([v["m"], ones((3, 2))]),
     lambda v: sg.hstack([v["m"], ones((2, 2))]), lambda a: np.hstack([a["m"], ones((2, 2))])),
    ("sg.vstack", lambda v: sg.vstack([v["m"], ones((2, 4))]),
     lambda v: sg.vstack([v["m"], ones((2, 3))]), lambda a: np.vstack([a["m"], ones((2, 3))])),
    # indexing and gathering out of range
    ("sg.take", lambda v: sg.take(v["x"], [5]), lambda v: sg.take(v["y"], [3]),
     lambda a: a["y"][[3]]),
    ("x.take", lambda v: v["x"].take(np.array([0, 7])), lambda v: v["y"].take(np.array([0, 3])),
     lambda a: a["y"][[0, 3]]),
    ("x[5]", lambda v: v["x"][5], lambda v: v["y"][3], lambda a: a["y"][3]),
    ("x[[0, 7]]", lambda v: v["x"][np.array([0, 7])], lambda v: v["y"][np.array([0, 3])],
     lambda a: a["y"][[0, 3]]),
    ("m[0, 0, 0]", lambda v: v["m"][0, 0, 0], lambda v: v["m"][0, 0], lambda a: a["m"][0, 0]),
    ("sg.take_along_axis", lambda v: sg.take_along_axis(v["m"], np.zeros((2, 2, 1), int), axis=1),
     lambda v: sg.take_along_axis(v["m"], np.zeros((2, 1), int), axis=1),
     lambda a: a["m"][:, :1]),
    # shapes
    ("sg.reshape", lambda v: sg.reshape(np.arange(3.0), (2, 2)),
     lambda v: sg.reshape(np.arange(4.0), (2, 2)), lambda a: np.arange(4.0).reshape(2, 2)),
    ("x.reshape", lambda v: v["x"].reshape(4), lambda v: v["m"].reshape(6),
     lambda a: a["m"].reshape(6)),
    ("sg.broadcast_to", lambda v: sg.broadcast_to(np.arange(3.0), (4,)),
     lambda v: sg.broadcast_to(np.arange(3.0), (2, 3)), lambda a: [[0, 1, 2]] * 2),
    ("sg.transpose", lambda v: sg.transpose(np.ones((2, 3)), (0, 0)),
     lambda v: sg.transpose(np.ones((2, 3)), (1, 0)), lambda a: np.ones((3, 2))),
    ("sg.expand_dims", lambda v: sg.expand_dims(np.arange(3.0), 3),
     lambda v: sg.expand_dims(np.arange(3.0), 1), lambda a: np.arange(3.0)[:, None]),
    ("sg.squeeze", lambda v: sg.squeeze(np.ones((2, 3)), 0), lambda v: sg.squeeze(v["img"], 0),
     lambda a: a["img"][0]),
    ("sg.swapaxes", lambda v: sg.swapaxes(np.arange(3.0), 0, 2),
     lambda v: sg.swapaxes(np.arange(3.0)[None], 0, 1), lambda a: np.arange(3.0)[:, None]),
    ("sg.split", lambda v: sg.split(np.arange(3.0), 2), lambda v: sg.split(np.arange(4.0), 2)[1],
     lambda a: [2.0, 3.0]),
    ("sg.repeat", lambda v: sg.repeat(v["x"], [1, 2]), lambda v: sg.repeat(v["x"], [1, 2, 1]),
     lambda a: np.repeat(a["x"], [1, 2, 1])),
    ("sg.pad", lambda v: sg.pad(np.ones(3), ((1, 1), (1, 1))), lambda v: sg.pad(np.ones(3), (1, 1)),
     lambda a: [0, 1, 1, 1, 0]),
    ("sg.flip", lambda v: sg.flip(np.arange(3.0), 2), lambda v: sg.flip(np.arange(3.0), 0),
     lambda a: [2, 1, 0]),
    # convolutions and pools
    ("sg.nn.conv2d (channels)", lambda v: sg.nn.conv2d(v["img"], ones((2, 3, 3, 3))),
     lambda v: sg.nn.conv2d(v["img"], ones((2, 1, 3, 3))), None),
    ("sg.conv2d (image)", lambda v: sg.conv2d(ones((1, 2, 5, 5)), v["w"]),
     lambda v: sg.conv2d(ones((1, 1, 5, 5)), v["w"]), None),
    ("sg.max_pool2d (window)", lambda v: sg.max_pool2d(ones((1, 1, 3, 3)), 4),
     lambda v: sg.max_pool2d(ones((1, 1, 3, 3)), 2), lambda a: ones((1, 1, 1, 1))),
    ("sg.avg_pool2d (window)", lambda v: sg.avg_pool2d(ones((1, 1, 5, 5)), 6),
     lambda v: sg.avg_pool2d(ones((1, 1, 5, 5)), 5), lambda a: ones((1, 1, 1, 1))),
    # linear algebra of a non-square matrix, or of operands that do not fit
    ("sg.linalg.inv", lambda v: sg.linalg.inv(ones((2, 3))),
     lambda v: sg.linalg.inv(2 * np.eye(3)), lambda a: np.eye(3) / 2),
    ("sg.linalg.det", lambda v: sg.linalg.det(ones((2, 3))), lambda v: sg.linalg.det(2 * np.eye(3)),
     lambda a: 8.0),
    ("sg.linalg.solve", lambda v: sg.linalg.solve(v["sq"], ones(4)),
     lambda v: sg.linalg.solve(v["sq"], ones(3)), lambda a: np.linalg.solve(a["sq"], ones(3))),
    ("sg.linalg.cholesky", lambda v: sg.linalg.cholesky(ones((2, 3))),
     lambda v: sg.linalg.cholesky(4 * np.eye(3)), lambda a: 2 * np.eye(3)),
    ("sg.linalg.eigh", lambda v: sg.linalg.eigh(ones((2, 3))),
     lambda v: sg.linalg.eigh(np.diag([3.0, 1.0, 2.0]))[0], lambda a: [1.0, 2.0, 3.0]),
    ("sg.trace", lambda v: sg.trace(ones(3)), lambda v: sg.trace(ones((3, 3))), lambda a: 3.0),
    # reductions along an axis that is not there (after a cast, for NumPy's dtype=)
    ("sg.sum", lambda v: sg.sum(np.arange(3.0), axis=2), lambda v: sg.sum(np.arange(3.0), axis=0),
     lambda a: 3.0),
    ("x.sum(dtype=float32)", lambda v: v["x"].sum(axis=1, dtype="float32"),
     lambda v: v["x"].sum(axis=0, dtype="float32"), lambda a: a["x"].astype("float32").sum()),
    ("np.sum of a node", lambda v: np.sum(v["m"], axis=3, dtype="float32"),
     lambda v: np.sum(v["m"], axis=1, dtype="float32"), lambda a: a["m"].astype("f4").sum(1)),
    ("sg.mean", lambda v: sg.mean(np.eye(2), axis=(0, 0)),
     lambda v: sg.mean(np.eye(2), axis=(0, 1)),
     lambda a: 0.5),
    ("sg.max", lambda v: sg.max(np.arange(4.0), axis=3), lambda v: sg.max(np.arange(4.0), axis=0),
     lambda a: 3.0),
    ("sg.logsumexp", lambda v: sg.logsumexp(np.zeros(5), axis=2),
     lambda v: sg.logsumexp(np.zeros(5), axis=0), lambda a: np.log(5.0)),
    ("sg.softmax", lambda v: sg.softmax(np.zeros(2), axis=2),
     lambda v: sg.softmax(np.zeros(2), axis=0), lambda a: [0.5, 0.5]),
    ("sg.cumsum", lambda v: sg.cumsum(np.ones(3), axis=2), lambda v: sg.cumsum(np.ones(3)),
     lambda a: [1.0, 2.0, 3.0]),
    ("sg.std", lambda v: sg.std(np.eye(2), axis=5), lambda v: sg.std(np.eye(2), axis=1),
     lambda a: [0.5, 0.5]),
    ("sg.nanmax", lambda v: sg.nanmax(np.array([1.0, np.nan]), axis=4),
     lambda v: sg.nanmax(np.array([1.0, np.nan])), lambda a: 1.0),
    ("sg.argmax", lambda v: sg.argmax(np.arange(3), axis=1),
     lambda v: sg.argmax(np.arange(3)), lambda a: 2),
    # users' own ops: a shape rule that refuses, the default broadcasting rule
    ("define_op shape rule", lambda v: STRICT(v["x"], ones(4)), lambda v: STRICT(v["y"], ones(4)),
     lambda a: a["y"] + 1),
    ("define_op broadcasting", lambda v: LOOSE(v["x"], ones(4)), lambda v: LOOSE(v["y"], ones(4)),
     lambda a: a["y"] + 1),
]


def _state(g: sg.Graph) -> tuple:
    """What a failed call must leave as it was."""
    return (len(g), [n.id for n in g.nodes], [id(n) for n in g.nodes], dict(g._interned),
            {k: list(v) for k, v in g._by_name.items()})


def _check_consistent(g: sg.Graph) -> None:
    nodes = g.nodes
    assert [n.id for n in nodes] == list(range(len(nodes))), "ids are not unique and dense"
    for n in nodes:
        assert n.graph is g and all(i.id < n.id and nodes[i.id] is i for i in n.inputs)
    assert all(nodes[v.id] is v for v in g._interned.values()), "interned a forgotten node"


@pytest.mark.parametrize("bad, good, ref", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_failed_call_leaves_the_graph_as_it_was(bad, good, ref):
    with sg.Graph() as g:
        v = _inputs()
        before = _state(g)
        with pytest.raises(sg.SymgraphError):
            bad(v)
        assert _state(g) == before
        _check_consistent(g)
        out = good(v)  # the same constants, fitting now: built afresh and interned once
        assert good(v) is out
        _check_consistent(g)
        got = sg.evaluate(out, {v[k]: VALUES[k] for k in FEEDS})
    if ref is not None:
        np.testing.assert_allclose(got, ref(VALUES), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("bad", [c[1] for c in CASES[:12]], ids=[c[0] for c in CASES[:12]])
def test_a_failed_call_outside_its_graph_touches_neither_graph(bad):
    """Called outside ``with g:``, a call's constants go to its nodes' graph, and that is
    the one left as it was; the default graph is not touched either."""
    g = sg.Graph()
    with g:
        v = _inputs()
    default = sg.get_default_graph()
    before, before_default = _state(g), len(default)
    with pytest.raises(sg.SymgraphError):
        bad(v)
    assert _state(g) == before and len(default) == before_default


def test_where_puts_an_array_condition_in_its_branches_graph():
    """(It put it in the default graph, then refused to mix two graphs.)"""
    g = sg.Graph()
    with g:
        x = sg.var("x", shape=(3,))
    y = sg.where(np.array([True, False, True]), x, 0.0)  # outside `with g:`
    assert y.graph is g and all(n.graph is g for n in y.inputs)
    np.testing.assert_allclose(sg.evaluate(y, {x: [1.0, 2.0, 3.0]}), [1.0, 0.0, 3.0])


def test_the_guarded_public_functions_stay_what_they_were():
    """Guarding wraps them: still picklable (by reference), one object wherever exported,
    with their signature, docstring and NumPy dispatch."""
    import inspect
    import pickle

    for f in (sg.sin, sg.add, sg.where, sg.linalg.inv, sg.nn.gelu, sg.nn.relu):
        assert pickle.loads(pickle.dumps(f)) is f
        assert f.__doc__ == f.__wrapped__.__doc__
        assert inspect.signature(f) == inspect.signature(f.__wrapped__)
    assert sg.nn.relu is sg.relu and sg.nn.conv2d is sg.conv2d
    with sg.Graph():
        x = sg.var("x", shape=(3,))
        assert sg.sin(x=x) is sg.sin(x) and sg.add(a=x, b=1.0) is x + 1.0


def test_a_failed_call_of_constants_alone_leaves_the_default_graph():
    with sg.Graph() as g:
        before = _state(g)
        with pytest.raises(sg.ShapeError):
            sg.concatenate([ones(2), ones((2, 2))])
        with pytest.raises(sg.ShapeError):
            sg.add(ones(3), ones(4))
        assert _state(g) == before


def test_nested_failures_inside_a_loop_body_roll_back_with_it():
    """An op that fails inside a loop's body: the body's transaction and the op's guard
    both undo, and the graph is as before the loop."""
    with sg.Graph() as g:
        x = sg.var("x", shape=(3,))
        before = _state(g)
        with pytest.raises(sg.SymgraphError):
            sg.fori_loop(0, 3, lambda i, c: c + ones(4), x)
        assert _state(g) == before


def test_a_caught_failure_inside_a_users_function_keeps_the_rest():
    """Code that catches a failed op and carries on keeps what it built before and after."""
    with sg.Graph() as g:
        x = sg.var("x", shape=(3,))
        a = sg.sin(x)
        try:
            x + ones(4)
        except sg.ShapeError:
            pass
        b = a * 2.0
        assert list(g.nodes)[-1] is b and a in g.nodes
        _check_consistent(g)


def test_a_failed_grad_of_a_users_op_leaves_the_graph():
    def rule(cot, out):
        return cot * ones(5)  # the wrong shape: the guard and grad's transaction undo

    op = sg.define_op("fb_bad_rule", np.sin, vjp=[rule])
    with sg.Graph() as g:
        x = sg.var("x", shape=(3,))
        y = sg.sum(op(x))
        before = _state(g)
        with pytest.raises(sg.SymgraphError):
            sg.grad(y, x)
        assert _state(g) == before


def test_an_undone_node_that_another_thread_found_refuses_to_be_used():
    """Thread B finds, through interning, a constant that thread A's failing call made;
    A's call then fails and forgets it. B's node must not silently stand for the node that
    later takes its id: using it raises, and B's next equal constant is a fresh, live one."""
    found: dict = {}
    made, looked = threading.Event(), threading.Event()

    def slow_shape(inputs: tuple, attrs: dict) -> tuple:
        made.set()  # the constant ones(4) is in the graph now
        assert looked.wait(10)
        raise sg.ShapeError("fb_slow refuses")

    slow = sg.define_op("fb_slow", np.add, shape=slow_shape)
    g = sg.Graph()
    with g:
        x, y = sg.var("x", shape=(3,)), sg.var("y", shape=(4,))
    before = _state(g)

    def other():
        assert made.wait(10)
        with g:
            found["c"] = sg.const(np.full(4, 2.5))  # A's constant, found through interning
        looked.set()

    t = threading.Thread(target=other)
    t.start()
    with g, pytest.raises(sg.ShapeError, match="fb_slow refuses"):
        slow(x, np.full(4, 2.5))
    t.join()
    assert _state(g) == before  # A's constant forgotten: nobody had built on it
    c = found["c"]
    with g:
        with pytest.raises(sg.SymgraphError, match="failed, and its graph forgot it"):
            y + c
        with pytest.raises(sg.SymgraphError, match="failed, and its graph forgot it"):
            sg.sin(c)
        with pytest.raises(sg.SymgraphError, match="failed, and its graph forgot it"):
            sg.evaluate(c, {})
        with pytest.raises(sg.SymgraphError, match="failed, and its graph forgot it"):
            g._add(None, sg.OPS["sin"], (c,), {}, (4,), np.dtype("float64"))  # the lock's check
        fresh = sg.const(np.full(4, 2.5))
        assert fresh is not c and fresh.graph is g
        got = sg.evaluate(y + fresh, {y: np.arange(4.0)})
        np.testing.assert_allclose(got, np.arange(4.0) + 2.5)
    _check_consistent(g)


def test_a_rollback_never_drops_a_node_another_thread_built_meanwhile():
    """A call that fails after another thread appended nodes forgets only its own nodes
    after the other thread's (ids stay dense): the other thread's nodes are never dropped,
    nor the failed call's own nodes below them."""
    made, built = threading.Event(), threading.Event()

    def slow_shape(inputs: tuple, attrs: dict) -> tuple:
        made.set()
        assert built.wait(10)
        sg.const(np.full(2, 9.25), graph=inputs[0].graph)  # after the other thread's nodes
        raise sg.ShapeError("fb_slow2 refuses")

    slow = sg.define_op("fb_slow2", np.add, shape=slow_shape)
    g = sg.Graph()
    with g:
        x = sg.var("x", shape=(3,))
    theirs = {}

    def other():
        assert made.wait(10)
        with g:
            theirs["z"] = sg.exp(x) * 3.0
        built.set()

    t = threading.Thread(target=other)
    t.start()
    with g, pytest.raises(sg.ShapeError):
        slow(x, np.full(4, 7.5))
    t.join()
    z = theirs["z"]
    assert g.nodes[z.id] is z and g.nodes[z.inputs[0].id] is z.inputs[0]
    values = [n.attrs["value"].tolist() for n in g.nodes if n.op == "const"]
    assert [7.5] * 4 in values and [9.25] * 2 not in values  # below theirs: kept; above: not
    _check_consistent(g)
    np.testing.assert_allclose(sg.evaluate(z, {x: np.zeros(3)}), np.full(3, 3.0))


def test_a_failed_grad_through_a_loop_leaves_the_graph_as_it_was():
    """The loop's body derivatives are built by derivative calls of their own: the rollback
    took them for another thread's nodes and kept all 15 before."""
    novjp = sg.define_op("failed_builds_novjp", lambda x: x * 2, elementwise=True)
    with sg.Graph() as g:
        x = sg.var("x")
        c, _ = sg.scan(lambda c, t: (sg.sin(c) * x, None), novjp(x), length=2)
        c2, _ = sg.scan(lambda c, t: (sg.while_loop(lambda q: q < 10.0, lambda q: q * 2.0, c)
                                      * x, None), x, length=3)
        before = len(g)
        for y, words in ((c, "no vjp rule"), (c2, "while_loop")):
            with pytest.raises(sg.SymgraphError, match=words):
                sg.grad(y, x)
            assert len(g) == before
        d = sg.grad(x * x, x)  # the graph still works
        assert float(sg.evaluate(d, {x: 3.0})) == 6.0
