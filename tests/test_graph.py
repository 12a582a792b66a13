"""Building graphs: interning, dtypes, shapes, operators, formulas, provenance, export."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from symgraph.graph import _ancestors_in
from chains import nested


def test_equal_subexpressions_are_one_node(graph):
    x = sg.var("x")
    a, b = sg.sin(x), sg.sin(x)
    assert a is b
    y = a + b
    assert y.inputs[0] is y.inputs[1]
    assert len(graph) == 3  # x, sin(x), add


def test_inputs_are_never_merged(graph):
    assert sg.var("x") is not sg.var("x")


def test_small_constants_are_shared(graph):
    x = sg.var("x")
    assert (x * 2).inputs[1] is (x + 2).inputs[1]


def test_python_numbers_find_their_constant_by_type_value_and_dtype(graph):
    x = sg.var("x")
    n = sg.var("n", dtype="int64")
    f = sg.var("f", dtype="float32")
    two = (x * 2).inputs[1]
    assert (x + 2).inputs[1] is two and (x - 2.0).inputs[1] is two  # both float64 2
    assert (n * 2).inputs[1].dtype == np.int64 and (n * 2.0).inputs[1].dtype == np.float64
    assert (f * 2).inputs[1].dtype == np.float32
    assert (x * True).inputs[1] is not two
    negative_zero, zero = (x * -0.0).inputs[1], (x * 0.0).inputs[1]
    assert negative_zero is not zero
    assert np.signbit(negative_zero.attrs["value"]) and not np.signbit(zero.attrs["value"])
    assert sg.evaluate(1.0 / (x * -0.0), {x: 1.0}) == -np.inf


def test_a_failed_grad_forgets_the_constants_it_made(graph):
    def vjp_that_fails_half_way(g, out):
        1.25 * g
        raise RuntimeError("a bug in a derivative rule")

    x = sg.var("x")
    bad = sg.define_op("rolled_back_example", lambda a: a, vjp=[vjp_that_fails_half_way])
    y = bad(x)
    before = len(graph)
    with pytest.raises(sg.SymgraphError, match="a bug in a derivative rule"):
        sg.grad(y, x)
    assert len(graph) == before
    c = (x * 1.25).inputs[1]
    assert graph.nodes[c.id] is c and float(c.attrs["value"]) == 1.25


def test_node_fields(graph):
    x = sg.var("x", shape=(3,))
    y = sg.exp(x)
    assert (y.op, y.inputs, y.shape, y.dtype, y.name, y.order, y.graph) == (
        "exp", (x,), (3,), np.dtype("float64"), None, 0, graph)
    assert x.id < y.id
    with pytest.raises(AttributeError):
        y.op = "sin"


def test_nodes_hash_by_identity_and_equality_is_not_overloaded(graph):
    x = sg.var("x")
    d = {x: 1}
    assert d[x] == 1
    assert (x == x) is True
    with pytest.raises(sg.SymgraphError, match="truth value"):
        bool(x > 0)
    with pytest.raises(sg.SymgraphError, match=r"write \(x > 0\) & \(x < 1\)"):
        0 < x < 1  # noqa: B015 - Python asks bool(0 < x) first


def test_mixing_graphs_is_an_error():
    with sg.Graph():
        x = sg.var("x")
    with sg.Graph():
        y = sg.var("y")
    with pytest.raises(sg.SymgraphError, match="different graphs"):
        x + y


def test_default_graph_is_scoped():
    g1, g2 = sg.Graph(), sg.Graph()
    with g1:
        with g2:
            assert sg.get_default_graph() is g2
        assert sg.get_default_graph() is g1
        assert sg.var("x").graph is g1


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_python_scalars_keep_the_dtype(graph, dtype):
    x = sg.var("x", dtype=dtype)
    for y in (x * 2.0, 2.0 * x, x + 1, x / 3, x ** 2, -x, 1 - x):
        assert y.dtype == np.dtype(dtype), str(y)
    assert sg.evaluate(x * 2.0, {x: 1.5}).dtype == np.dtype(dtype)


def test_dtype_promotion_follows_numpy(graph):
    i = sg.var("i", dtype="int64")
    f32 = sg.var("f", dtype="float32")
    assert (i * 2).dtype == np.int64
    assert (i * 2.5).dtype == np.float64
    assert sg.sin(i).dtype == np.float64
    assert (f32 + sg.const(np.ones(3))).dtype == np.float64
    assert (i < 3).dtype == np.bool_


def test_broadcasting_shapes(graph):
    a = sg.var("a", shape=(3, 4))
    b = sg.var("b", shape=(4,))
    c = sg.var("c", shape=(3, 1))
    assert (a + b).shape == (3, 4)
    assert (b * c).shape == (3, 4)
    u = sg.var("u", shape=(None, 4))
    assert (u + b).shape == (None, 4)
    assert (sg.var("v", shape=(None,)) + b).shape == (4,)


def test_shape_errors_name_both_operands(graph):
    a = sg.var("a", shape=(3, 4))
    b = sg.var("b", shape=(3, 4))
    with pytest.raises(sg.ShapeError, match=r"'a' \(shape \(3, 4\)\) @ 'b' \(shape \(3, 4\)\)"):
        a @ b
    with pytest.raises(sg.ShapeError, match="'a'.*'c'"):
        a + sg.var("c", shape=(5,))


def test_static_shapes_of_structural_ops(graph):
    m = sg.var("m", shape=(2, 3))
    assert m.T.shape == (3, 2)
    assert m[0].shape == (3,)
    assert m[:, 1:].shape == (2, 2)
    assert m[None, ..., -1].shape == (1, 2)
    assert m.reshape(3, -1).shape == (3, 2)
    assert m.sum(axis=1).shape == (2,)
    assert m.mean(axis=0, keepdims=True).shape == (1, 3)
    assert sg.concatenate([m, m], axis=1).shape == (2, 6)
    assert sg.stack([m, m]).shape == (2, 2, 3)
    assert (m @ sg.var("v", shape=(3,))).shape == (2,)
    assert sg.softmax(m).shape == (2, 3)
    assert sg.logsumexp(m).shape == (2,)
    with pytest.raises(sg.ShapeError):
        m[5]
    with pytest.raises(sg.ShapeError):
        m.reshape(4, 2)


def test_len_and_iteration(graph):
    w = sg.var("w", shape=(3,))
    assert len(w) == 3
    assert [str(n) for n in w] == ["w[0]", "w[1]", "w[2]"]
    with pytest.raises(sg.SymgraphError, match="iterate"):
        list(sg.var("s"))


def test_numpy_scalars_on_the_left_defer_to_nodes(graph):
    x = sg.var("x")
    y = np.float64(2.0) * x
    assert isinstance(y, sg.Node) and y.op == "multiply"


@pytest.mark.parametrize("build,text", [
    (lambda w, x: sg.sigmoid(w[0] * x[0] + w[1] * x[1] + w[2]),
     "sigmoid(w[0]*x[0] + w[1]*x[1] + w[2])"),
    (lambda w, x: (w[0] + w[1]) * w[2], "(w[0] + w[1])*w[2]"),
    (lambda w, x: w[0] - (w[1] - w[2]), "w[0] - (w[1] - w[2])"),
    (lambda w, x: w[0] - w[1] + w[2], "w[0] - w[1] + w[2]"),
    (lambda w, x: w[0] / (w[1] * w[2]), "w[0]/(w[1]*w[2])"),
    (lambda w, x: -w[0] ** 2, "-w[0]**2"),
    (lambda w, x: (-w[0]) ** 2, "(-w[0])**2"),
    (lambda w, x: w[0] ** -1, "w[0]**(-1)"),
    # the precedence trap: Python computes 1 / 1 before symgraph sees it
    (lambda w, x: 1 / 1 + sg.exp(-x[0]), "1 + exp(-x[0])"),
    (lambda w, x: 1 / (1 + sg.exp(-x[0])), "1/(1 + exp(-x[0]))"),
    (lambda w, x: sg.sum(w * 0.5, axis=0), "sum(w*0.5)"),
    (lambda w, x: sg.sum(sg.stack([w, w]), axis=1), "sum(stack(w, w), axis=1)"),
    (lambda w, x: (w @ w).T, "w @ w"),
])
def test_formulas_use_minimal_parentheses(graph, build, text):
    w, x = sg.var("w", shape=(3,)), sg.var("x", shape=(2,))
    assert str(build(w, x)) == text
    assert repr(build(w, x)) == text


def test_deep_formula_is_shortened_not_a_crash(graph):
    z = nested(sg.sin, sg.var("w"), 50_000)
    text = str(z)
    assert text.startswith("sin(sin(") and "…" in text and len(text) < 1000


def test_derivative_order_and_provenance(graph):
    x = sg.var("x")
    y = sg.sin(x) * x
    d1 = sg.grad(y, x)
    d2 = sg.grad(d1, x)
    assert (x.order, y.order) == (0, 0)
    assert d1.order == 1 and d2.order == 2
    new1 = [n for n in sg.ancestors([d1]) if n.grad_call == d1.grad_call]
    assert new1 and all(n.order == 1 for n in new1)
    # reused forward nodes keep their order: cos(x) is new, sin(x) and x are not
    assert {n.order for n in sg.ancestors([d1]) if n.grad_call is None} == {0}
    assert d1.grad_call != d2.grad_call
    # each derivative node records whose derivative contribution it is
    assert {n.grad_of for n in new1} <= set(sg.ancestors([y]))
    # user nodes built from derivatives are the user's (order 0)
    assert (d1 + 1).order == 0


def test_order_of_a_grad_of_mixed_orders(graph):
    x = sg.var("x")
    d1 = sg.grad(x ** 3, x)
    mixed = d1 * x  # user-built (order 0) but depends on an order-1 node
    assert mixed.order == 0
    d = sg.grad(mixed, x)
    assert d.order == 2  # y depends on nodes of order <= 1


def test_to_networkx_keeps_arguments_and_attributes(graph):
    x = sg.var("x")
    y = x * x
    dy = sg.grad(y, x)
    G = sg.to_networkx([y, dy])
    assert G.number_of_edges(x.id, y.id) == 2
    assert sorted(d["index"] for _, _, d in G.in_edges(y.id, data=True)) == [0, 1]
    attrs = G.nodes[dy.id]
    assert attrs["op"] == dy.op and attrs["order"] == 1 and attrs["shape"] == ()
    assert G.nodes[x.id]["name"] == "x"
    assert set(G.nodes) == {n.id for n in sg.ancestors([y, dy])}


def test_name_scope_tags_nodes(graph):
    x = sg.var("x")
    with sg.name_scope("net"):
        with sg.name_scope("layer1"):
            h = sg.tanh(x)
        out = h * 2
    assert (h.scope, out.scope, x.scope) == ("net/layer1", "net", "")
    with pytest.raises(sg.SymgraphError):
        with sg.name_scope(""):
            pass


def test_var_and_const_reject_bad_arguments(graph):
    with pytest.raises(sg.SymgraphError, match="name"):
        sg.var("")
    with pytest.raises(sg.SymgraphError, match="shape"):
        sg.var("x", shape=(-1,))
    with pytest.raises(sg.SymgraphError, match="dtype"):
        sg.var("x", dtype="complex128")
    with pytest.raises(sg.SymgraphError, match="rectangular"):
        sg.const([[1, 2], [3]])
    with pytest.raises(sg.SymgraphError):
        sg.const("hello")


def test_user_defined_op(graph):
    cube = sg.define_op(
        "test_cube", lambda x: x ** 3,
        vjp=[lambda g, out: g * 3 * sg.square(out.inputs[0])],
        jvp=[lambda t, out: t * 3 * sg.square(out.inputs[0])],
        cases=[sg.Case(lambda x: sg.OPS["test_cube"] and x, [((), -1.0, 1.0)])],
    )
    x = sg.var("x", shape=(2,))
    y = cube(x)
    assert y.op == "test_cube" and y.shape == (2,)
    d2 = sg.grad(sg.sum(sg.grad(sg.sum(y), x)), x)
    np.testing.assert_allclose(sg.evaluate(d2, {x: [1.0, -2.0]}), [6.0, -12.0])
    assert str(y) == "test_cube(x)"
    with pytest.raises(sg.SymgraphError, match="already declared"):
        sg.define_op("test_cube", lambda x: x)


def _ancestors_by_definition(outputs, stop=frozenset()):
    """Every node reachable from ``outputs`` through inputs (not through ``stop``)."""
    found, todo = {}, list(outputs)
    while todo:
        n = todo.pop()
        if n.id not in found:
            found[n.id] = n
            if n.id not in stop:
                todo.extend(n.inputs)
    return [found[i] for i in sorted(found)]


def test_ancestors_are_exactly_the_reachable_nodes_in_id_order(graph):
    rng = np.random.default_rng(7)
    xs = [sg.var(f"x{i}") for i in range(5)]
    nodes = list(xs)
    for _ in range(3000):
        a, b = (nodes[int(i)] for i in rng.integers(0, len(nodes), 2))
        nodes.append(a * b if rng.random() < 0.5 else sg.sin(a) + b)
    for outputs in ([nodes[-1]], [nodes[40], nodes[40]], [nodes[-1], nodes[10], xs[2]],
                    [nodes[100]], nodes[-300:]):  # small and large parts of the graph
        got = sg.ancestors(outputs)
        assert got == _ancestors_by_definition(outputs)
        assert len({n.id for n in got}) == len(got)
    stop = {nodes[-5].id, nodes[2000].id}
    assert sg.ancestors(nodes[-3:], stop) == _ancestors_by_definition(nodes[-3:], stop)


def test_the_pass_down_every_id_keeps_what_it_read(graph):
    # The plan takes the inputs the pass read (reads = [marks, inputs, their ids], highest
    # id first) instead of reading every node again: they must be exactly the nodes'.
    rng = np.random.default_rng(3)
    xs = [sg.var(f"x{i}") for i in range(5)]
    nodes = list(xs)
    for _ in range(4000):  # (one operand recent: most nodes are ancestors of the last)
        a, b = nodes[-1 - int(rng.integers(0, 3))], nodes[int(rng.integers(0, len(nodes)))]
        nodes.append(a * b if rng.random() < 0.5 else sg.sin(a) + b)
    top = max(n.id for n in nodes[-3:])
    for stop in (set(), {nodes[-9].id, nodes[2000].id, xs[1].id, nodes[-3].id, top + 9}):
        reads: list = []
        got = _ancestors_in(graph, nodes[-3:], stop, reads)
        assert got == _ancestors_by_definition(nodes[-3:], stop) and len(got) > 4096
        marks, seen, ids = reads
        assert [i for i, m in enumerate(marks) if m] == [n.id for n in got]
        kept = [() if n.id in stop else n.inputs for n in reversed(got)]
        assert seen == kept and ids == [i.id for ins in kept for i in ins]
    reads = []
    assert _ancestors_in(graph, [nodes[30]], set(), reads) == sg.ancestors([nodes[30]])
    assert reads == []  # found depth first: no pass made, nothing kept


def test_ancestors_of_nodes_of_two_graphs_is_an_error():
    with sg.Graph():
        x = sg.sin(sg.var("x"))
    with sg.Graph():
        z = sg.var("y") * 2
    assert sg.ancestors([]) == []
    with pytest.raises(sg.SymgraphError, match="different graphs"):
        sg.ancestors([x, z])


def test_python_abs_of_a_node_is_the_abs_op():
    with sg.Graph():
        x = sg.var("x", shape=(2,))
        y = abs(x)
        assert y is sg.abs(x)
        np.testing.assert_array_equal(sg.evaluate(y, {x: [-1.5, 2.0]}), [1.5, 2.0])


def test_np_asarray_of_a_node_raises_instead_of_making_an_object_array():
    with sg.Graph():
        x = sg.var("x")
        with pytest.raises(sg.SymgraphError, match="symbol, not an array.*sg.evaluate"):
            np.asarray(x)
        with pytest.raises(sg.SymgraphError):
            np.array([x, x])
        assert str(np.float64(2.0) * x) == "2*x"  # NumPy scalars still defer to the node


def test_node_methods_are_numpys():
    a = np.array([[3.0, -1.0, 2.0], [0.5, 4.0, -2.0]])
    with sg.Graph():
        x = sg.var("x", shape=(2, 3))
        methods = {
            "min": (x.min(axis=1), a.min(axis=1)), "prod": (x.prod(), a.prod()),
            "var": (x.var(axis=0, ddof=1), a.var(axis=0, ddof=1)), "std": (x.std(), a.std()),
            "argmax": (x.argmax(axis=1), a.argmax(axis=1)), "argmin": (x.argmin(), a.argmin()),
            "cumsum": (x.cumsum(axis=0), a.cumsum(axis=0)), "cumprod": (x.cumprod(), a.cumprod()),
            "ravel": (x.ravel(), a.ravel()), "squeeze": (x[:1].squeeze(), a[:1].squeeze()),
            "clip": (x.clip(0.0, 2.5), a.clip(0.0, 2.5)),
            "astype": (x.astype("int64"), a.astype("int64")),
        }
        values = sg.evaluate([m for m, _ in methods.values()], {x: a})
    for (name, (node, expected)), got in zip(methods.items(), values):
        assert got.dtype == expected.dtype and got.shape == expected.shape, name
        np.testing.assert_allclose(got, expected, rtol=1e-14, err_msg=name)
