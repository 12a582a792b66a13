"""Text views: golden strings for str/pprint/debugprint/latex of the CS231n neuron and the
book's Fig. 6.10 chain; stats cross-checked against networkx; pprint text re-evaluated."""

from __future__ import annotations

import math
import re

import networkx as nx
import numpy as np
import pytest

import symgraph as sg
from symgraph.display.text import format_value, shape_text


def _neuron():
    w, x = sg.var("w", shape=(3,)), sg.var("x", shape=(2,))
    f = sg.sigmoid(w[0] * x[0] + w[1] * x[1] + w[2])
    dw, dx = sg.grad(f, [w, x])
    return w, x, f, dw, dx


def _fig_6_10():
    """Goodfellow et al. Fig. 6.10: x = f(w), y = f(x), z = f(y) with f = sin."""
    w = sg.var("w")
    z = sg.sin(sg.sin(sg.sin(w)))
    return w, z, sg.grad(z, w)


def _run_pprint(text, **values):
    """Execute pprint's lines as Python assignments over NumPy (test-only check that the
    printed text means what the graph computes); returns the namespace."""
    namespace = {"__builtins__": {}, "sin": np.sin, "cos": np.cos, "exp": np.exp,
                 "log": np.log, "tanh": np.tanh, **values}
    exec(compile(text, "<pprint>", "exec"), namespace)  # noqa: S102 - our own output
    return namespace


# --- golden strings -------------------------------------------------------------------------


def test_cs231n_neuron_text(graph):
    w, x, f, dw, dx = _neuron()
    assert str(f) == "sigmoid(w[0]*x[0] + w[1]*x[1] + w[2])"
    assert sg.pprint(f) == "out = sigmoid(w[0]*x[0] + w[1]*x[1] + w[2])"
    assert sg.pprint([f, dw, dx]) == (
        "out0 = sigmoid(w[0]*x[0] + w[1]*x[1] + w[2])\n"
        "t1 = out0*(1 - out0)\n"
        "t2 = scatter(w[1]*t1, index=[1], shape=(2,))\n"
        "t3 = scatter(t1, index=[2], shape=(3,)) + scatter(t1*x[1], index=[1], shape=(3,))\n"
        "out1 = t3 + scatter(t1*x[0], index=[0], shape=(3,))\n"
        "out2 = t2 + scatter(w[0]*t1, index=[0], shape=(2,))"
    )
    assert sg.latex(f) == r"\sigma\left(w_{0} \cdot x_{0} + w_{1} \cdot x_{1} + w_{2}\right)"


def test_fig_6_10_text(graph):
    w, z, dz = _fig_6_10()
    assert str(dz) == "cos(sin(sin(w)))*cos(sin(w))*cos(w)"
    # sin(w) is shared by the two factors: named once, as in the book's figure
    assert sg.pprint(dz) == "t1 = sin(w)\nout = cos(sin(t1))*cos(t1)*cos(w)"
    assert sg.pprint([z, dz]) == (
        "t1 = sin(w)\nt2 = sin(t1)\nout0 = sin(t2)\nout1 = cos(t2)*cos(t1)*cos(w)"
    )
    assert sg.latex(dz) == (
        r"\cos\left(\sin\left(\sin\left(w\right)\right)\right) \cdot "
        r"\cos\left(\sin\left(w\right)\right) \cdot \cos\left(w\right)"
    )
    assert sg.debugprint([z, dz]) == "\n".join([
        "#0  var w     ()  float64  order 0",
        "#1  sin       ()  float64  order 0  #0",
        "#2  sin       ()  float64  order 0  #1",
        "#3  sin       ()  float64  order 0  #2  <- out0",
        "#5  cos       ()  float64  order 1  #2  grad_of #3",
        "#6  cos       ()  float64  order 1  #1  grad_of #2",
        "#7  multiply  ()  float64  order 1  #5 #6  grad_of #2",
        "#8  cos       ()  float64  order 1  #0  grad_of #1",
        "#9  multiply  ()  float64  order 1  #7 #8  grad_of #1  <- out1",
    ])


# --- pprint -----------------------------------------------------------------------------------


def test_pprint_text_computes_the_same_numbers(graph):
    w, z, dz = _fig_6_10()
    d2z = sg.grad(dz, w)
    for out in (z, dz, d2z):
        text = sg.pprint(out)
        got = _run_pprint(text, w=0.7)["out"]
        assert got == pytest.approx(float(sg.evaluate(out, {w: 0.7})), rel=1e-14)
    lines = sg.pprint(d2z).splitlines()
    assert lines[-1].startswith("out = ") and len(lines) == 6
    # every name is defined before it is used
    defined = set()
    for line in lines:
        name, _, body = line.partition(" = ")
        assert all(t in defined for t in re.findall(r"\bt\d+\b", body))
        defined.add(name)


def test_pprint_outputs_come_last_in_the_order_given(graph):
    x = sg.var("x")
    a, b = sg.exp(x), sg.sin(x)
    assert sg.pprint([b, a]) == "out0 = sin(x)\nout1 = exp(x)"
    assert sg.pprint([a, a]) == "out0 = exp(x)\nout1 = out0"
    # an output another line uses is defined first, then referred to
    assert sg.pprint([a * 2, a]) == "out1 = exp(x)\nout0 = out1*2"


@pytest.mark.parametrize("build,text", [
    (sg.softmax, "softmax(out1)"),
    (lambda h: sg.log_softmax(h, axis=0), "log_softmax(out1, axis=0)"),
    (sg.logsumexp, "logsumexp(out1)"), (sg.sort, "sort(out1)"), (sg.argsort, "argsort(out1)"),
    (lambda h: sg.pad(h, 1), "pad(out1, pad_width=((1, 1), (1, 1)))"),
])
def test_pprint_of_an_op_with_default_attributes_on_a_named_input(build, text, graph):
    """A named subexpression stands in for the input; defaults such as axis=-1 read its
    rank (a crash before)."""
    x = sg.var("x", shape=(2, 3))
    h = sg.tanh(x)
    assert sg.pprint([build(h), h]) == f"out1 = tanh(x)\nout0 = {text}"


def test_a_gradient_seed_reshaped_from_ones_never_shows(graph):
    x = sg.var("x", shape=(2, 3))
    h = sg.tanh(x)
    g = sg.grad(sg.logsumexp(h).sum(), x)  # the seed: broadcast_to(expand_dims(ones(2)))
    assert sg.pprint(g) == "t1 = tanh(x)\nout = softmax(t1)*(1 - square(t1))"
    assert "ones" not in str(g) and "expand_dims" not in str(g)


def test_pprint_names_never_clash_with_the_users(graph):
    t1, out = sg.var("t1"), sg.var("out")
    y = sg.sin(t1) * out
    text = sg.pprint(sg.sin(y) + sg.cos(y))
    assert text == "_t1 = sin(t1)*out\n_out = sin(_t1) + cos(_t1)"
    assert _run_pprint(text, t1=0.3, out=2.0)["_out"] == pytest.approx(
        float(sg.evaluate(sg.sin(y) + sg.cos(y), {t1: 0.3, out: 2.0})))


def test_pprint_is_deterministic_and_keeps_lines_short(graph):
    def build():
        with sg.Graph():
            x = sg.var("x")
            y = x
            for _ in range(30):
                y = sg.tanh(y * 1.5 + x)
            return sg.pprint(sg.grad(y, x), width=60)

    first = build()
    assert first == build()
    assert all(len(line.partition(" = ")[2]) <= 60 for line in first.splitlines())


def test_pprint_rejects_bad_arguments(graph):
    x = sg.var("x")
    with pytest.raises(sg.SymgraphError, match="width"):
        sg.pprint(x, width=0)
    with pytest.raises(sg.SymgraphError):
        sg.pprint("x")


def test_text_of_a_100k_node_chain(graph):
    x = sg.var("x")
    y = x
    for i in range(100_000):
        y = sg.sin(y) if i % 2 else y * 1.5
    lines = sg.pprint(y).splitlines()
    assert lines[-1].startswith("out = ") and all(len(s) <= 90 for s in lines)
    assert lines[0].startswith("t1 = ") and "x*1.5" in lines[0]
    dbg = sg.debugprint(y).splitlines()
    assert len(dbg) == 100_002 and dbg[-1].endswith("<- out")
    s = sg.stats(y)
    assert (s["nodes"], s["edges"], s["depth"]) == (100_002, 150_000, 100_000)
    assert s["by_op"] == {"const": 1, "multiply": 50_000, "sin": 50_000, "var": 1}
    assert r"\ldots" in sg.latex(y) and len(sg.latex(y)) < 2000


# --- debugprint -------------------------------------------------------------------------------


def test_debugprint_columns(graph):
    W, v = sg.var("W", shape=(2, None)), sg.var("v", shape=(2,))
    with sg.name_scope("layer"):
        h = sg.tanh(W.T @ v) + sg.const(np.array([1.0, 2.0, 3.0]))
    s = sg.sum(h[1:], axis=0)
    ds = sg.grad(s, v)
    lines = {line.split()[0]: line for line in sg.debugprint([s, ds]).splitlines()}
    assert lines[f"#{W.id}"].split() == ["#0", "var", "W", "(2,", "?)", "float64", "order", "0"]
    assert lines[f"#{h.id}"].endswith(f"#{h.inputs[0].id} #{h.inputs[1].id}  scope layer")
    assert "const [1, 2, 3]" in lines[f"#{h.inputs[1].id}"]
    assert "getitem [1:]" in lines[f"#{s.inputs[0].id}"]
    assert lines[f"#{ds.id}"].split()[-4:] == ["grad_of", f"#{ds.grad_of.id}", "<-", "out1"]
    assert ds.grad_of in sg.ancestors([s])
    # one line per ancestor, ids increasing
    ids = [int(k[1:]) for k in lines]
    assert ids == sorted(ids) and set(ids) == {n.id for n in sg.ancestors([s, ds])}


# --- latex ------------------------------------------------------------------------------------


@pytest.mark.parametrize("build, expected", [
    (lambda a, x: (a + x) / sg.sqrt(x), r"\frac{\alpha + x_{1}}{\sqrt{x_{1}}}"),
    (lambda a, x: -a * x, r"-\alpha \cdot x_{1}"),
    (lambda a, x: a * -x, r"\alpha \cdot \left(-x_{1}\right)"),
    (lambda a, x: a - (x - a), r"\alpha - \left(x_{1} - \alpha\right)"),
    (lambda a, x: (a - x) - a, r"\alpha - x_{1} - \alpha"),
    (lambda a, x: (-a) ** 2, r"{\left(-\alpha\right)}^{2}"),
    (lambda a, x: (a / x) ** 3, r"{\left(\frac{\alpha}{x_{1}}\right)}^{3}"),
    (lambda a, x: sg.exp(-(a**2) / 2), r"\exp\left(\frac{-\alpha^{2}}{2}\right)"),
    (lambda a, x: sg.square(a + 1), r"{\left(\alpha + 1\right)}^{2}"),
    (lambda a, x: a ** x ** 2, r"\alpha^{{x_{1}}^{2}}"),
    (lambda a, x: sg.abs(x - 1), r"\left|x_{1} - 1\right|"),
    (lambda a, x: -(a + x), r"-\left(\alpha + x_{1}\right)"),
    (lambda a, x: sg.log(sg.sigmoid(a)) * sg.tanh(x),
     r"\log\left(\sigma\left(\alpha\right)\right) \cdot \tanh\left(x_{1}\right)"),
    (lambda a, x: sg.const(2.5, name="my_c") * a, r"\mathrm{my\_c} \cdot \alpha"),
])
def test_latex_forms(graph, build, expected):
    assert sg.latex(build(sg.var("alpha"), sg.var("x1"))) == expected


def test_latex_matrices_and_limits(graph):
    W, v = sg.var("W", shape=(2, 2)), sg.var("v", shape=(2,))
    assert sg.latex(W.T @ v) == r"W^{\top} \, v"
    assert sg.latex(sg.sum(W, axis=0)) == r"\operatorname{sum}\left(W, axis=0\right)"
    deep = v
    for _ in range(10):
        deep = sg.exp(deep)
    assert sg.latex(deep, max_depth=3) == (
        r"\exp\left(\exp\left(\exp\left(\ldots\right)\right)\right)")
    with pytest.raises(sg.SymgraphError, match="one symgraph node"):
        sg.latex([W])


# --- stats ------------------------------------------------------------------------------------


def _stats_from_networkx(outputs):
    G = sg.to_networkx(outputs)
    by_order: dict = {}
    for _, k in G.nodes(data="order"):
        by_order[k] = by_order.get(k, 0) + 1
    return G.number_of_nodes(), G.number_of_edges(), by_order, nx.dag_longest_path_length(G)


def test_stats_of_the_neuron_and_its_gradient(graph):
    w, x, f, dw, dx = _neuron()
    s = sg.stats([f, dw, dx])
    assert (s["nodes"], s["edges"], s["inputs"], s["depth"]) == (27, 37, 2, 11)
    assert s["by_order"] == {0: 12, 1: 15}
    assert s["by_op"] == {"add": 5, "const": 1, "getitem": 5, "multiply": 7, "scatter": 5,
                          "sigmoid": 1, "subtract": 1, "var": 2}
    assert (s["nodes"], s["edges"], s["by_order"], s["depth"]) == _stats_from_networkx(
        [f, dw, dx])
    assert sum(s["by_op"].values()) == s["nodes"]


def test_stats_show_how_derivatives_grow(graph):
    w, z, dz = _fig_6_10()
    d2z = sg.grad(dz, w)
    sizes = [sg.stats(o) for o in (z, dz, d2z)]
    assert [s["nodes"] for s in sizes] == [4, 8, 20]
    assert [s["by_order"] for s in sizes] == [{0: 4}, {0: 3, 1: 5}, {0: 4, 1: 4, 2: 12}]
    assert sizes[2]["by_op"] == {"add": 2, "cos": 3, "multiply": 8, "negative": 3, "sin": 3,
                                 "var": 1}
    for o, s in zip((z, dz, d2z), sizes):
        assert (s["nodes"], s["edges"], s["by_order"], s["depth"]) == _stats_from_networkx(o)


# --- values on nodes (used by the renderer) ---------------------------------------------------


def test_format_value():
    assert format_value(np.float64(math.pi)) == "3.142"
    assert format_value(np.array([1, -2])) == "[1, -2]"
    assert format_value(np.array([True, False])) == "[True, False]"
    assert format_value(np.arange(12.0).reshape(3, 4) - 5) == "(3, 4) -5..6"
    assert format_value(np.array([np.nan] * 3 + [1.0, 2.0, 7.5, -1.0])) == "(7,) -1..7.5, nan"
    assert format_value(np.full(8, np.nan)) == "(8,) nan"
    assert format_value(np.zeros((0, 3))) == "(0, 3) empty"
    assert shape_text((3,)) == "(3,)" and shape_text((None, 2)) == "(?, 2)"


def test_a_fill_constant_prints_as_numpys_full_call():
    # full((3), 2) read as full(3, 2) only by accident: the shape printed as NumPy takes it
    with sg.Graph():
        v, m = sg.var("v", shape=(3,)), sg.var("m", shape=(2, 3))
        assert str(v * np.full(3, 2.0)) == "v*full(3, 2)"
        assert str(m * np.full((2, 3), -0.5)) == "m*full((2, 3), -0.5)"


def test_diagonal_constants_read_as_diag():
    """A Hessian of a sum of squares is 2*I: it reads diag([2, 2, 2]), not const(3, 3)."""
    with sg.Graph():
        x = sg.var("x", shape=(3,))
        hessian = sg.simplify(sg.hessian(sg.sum(x * x), x))
        texts = [str(sg.const(v)) for v in (2 * np.eye(3), np.diag([1.0, -2.0, 0.5]),
                                            3 * np.eye(6), np.diag(np.arange(6.0)))]
    assert texts == ["diag([2, 2, 2])", "diag([1, -2, 0.5])", "diag(full(6, 3))", "const(6, 6)"]
    assert str(hessian) == "diag([2, 2, 2])"
