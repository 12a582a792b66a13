"""Pictures: sg.to_dot / sg.to_svg (symgraph/display/dot.py, scene.py, style.py).

SVG is parsed as XML and checked node by node (title ``n<id>``, fill colour, text);
DOT source is checked as text. Numbers shown on nodes are cross-checked against
``sg.evaluate`` and the CS231n figures.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import symgraph as sg
from chains import nested
from symgraph.display import dot, scene, style
from symgraph.display import format_value

SVG = "{http://www.w3.org/2000/svg}"

# Fig. 6.10's f with its own f' and f'' ops, so the picture names them.
f_second = sg.define_op("render_fpp", np.cos, vjp=[lambda g, o: -g * sg.sin(o.inputs[0])])
f_prime = sg.define_op("render_fp", np.cos, vjp=[lambda g, o: g * f_second(o.inputs[0])])
f = sg.define_op("render_f", np.sin, vjp=[lambda g, o: g * f_prime(o.inputs[0])])


def svg_nodes(svg: str) -> dict[str, ET.Element]:
    """SVG node groups by DOT name (their <title>)."""
    root = ET.fromstring(svg)
    return {g.find(f"{SVG}title").text: g for g in root.iter(f"{SVG}g")
            if g.get("class") == "node"}


def fill(group: ET.Element) -> str:
    shape = next(e for e in group.iter() if e.tag in (f"{SVG}polygon", f"{SVG}ellipse",
                                                       f"{SVG}path"))
    return shape.get("fill")


def texts(group: ET.Element) -> list[str]:
    return [t.text.replace("\xa0", " ") for t in group.iter(f"{SVG}text") if t.text]


def fig610():
    g = sg.Graph()
    with g:
        w = sg.var("w")
        z = f(f(f(w)))
        dz = sg.grad(z, w)
        d2 = sg.grad(dz, w)
    return g, w, z, dz, d2


def cs231n():
    g = sg.Graph()
    with g:
        w, x = sg.var("w", shape=(3,)), sg.var("x", shape=(2,))
        y = sg.sigmoid(w[0] * x[0] + w[1] * x[1] + w[2])
    return g, w, x, y


# --- 1. Fig. 6.10 -----------------------------------------------------------------------------


def test_fig610_svg_nodes_coloured_by_order_and_shared_nodes_drawn_once():
    _, w, z, dz, d2 = fig610()
    wanted = sg.ancestors([z, dz, d2])
    nodes = svg_nodes(sg.to_svg([z, dz, d2]))
    drawn = {k: v for k, v in nodes.items() if re.fullmatch(r"n\d+", k)}
    assert set(drawn) == {f"n{n.id}" for n in wanted}  # each node once, nothing else
    for n in wanted:
        assert fill(drawn[f"n{n.id}"]) == style.order_colours(n.order)[0]
    assert {n.order for n in wanted} == {0, 1, 2}
    assert len({style.order_colours(k)[0] for k in (0, 1, 2)}) == 3
    # The three forward f nodes are drawn once and reused by both derivatives; short
    # formulas name the node, longer ones fall back to the op.
    x = w.graph.nodes[w.id + 1]
    assert texts(drawn[f"n{x.id}"]) == ["render_f(w)"] and x.inputs == (w,)
    # An output shows its formula however long (issue 18): wrapped, and its name.
    assert texts(drawn[f"n{z.id}"]) == ["render_f(render_f(render_f(", "w)))", "f"]
    assert texts(drawn[f"n{dz.id}"])[-1] == "df/dw"
    assert texts(drawn[f"n{d2.id}"])[-1] == "d²f/dw²"
    assert "".join(texts(drawn[f"n{dz.id}"])[:-1]) == str(dz)
    ops = [n.op for n in wanted]
    assert ops.count("render_f") == 3 and ops.count("render_fp") == 3
    assert "render_fpp" in ops
    for n in wanted:
        if n.op not in ("var", "const") and n not in (z, dz, d2):
            text = str(n)
            assert texts(drawn[f"n{n.id}"])[0] == (text if len(text) <= 24 else
                                                   n.opdef.infix or n.op), n
    legend = texts(nodes["legend"])
    assert legend == ["legend", "order 0: your graph", "order 1: 1st derivative",
                      "order 2: 2nd derivative"]
    cells = [e.get("fill") for e in nodes["legend"].iter(f"{SVG}polygon")]
    assert [style.order_colours(k)[0] for k in (0, 1, 2)] == [c for c in cells if c != "none"
                                                                and c != "white"][-3:]


def test_dot_is_byte_identical_for_the_same_graph():
    first = sg.to_dot(fig610()[3]).source
    assert sg.to_dot(fig610()[3]).source == first  # a fresh graph built the same way
    _, _, z, dz, _ = fig610()
    assert sg.to_dot([z, dz]).source == sg.to_dot([z, dz]).source
    assert "n0 [label=<<b>w</b>>" in first


def test_edges_run_in_argument_order_and_label_non_commutative_arguments():
    with sg.Graph():
        a, b = sg.var("a"), sg.var("b")
        d = a - b
        s = a + b
        p = sg.power(a, b)
    src = sg.to_dot([d, s, p]).source
    assert f"n{a.id} -> n{d.id} [label=0]" in src
    assert f"n{b.id} -> n{d.id} [label=1]" in src
    assert f"n{a.id} -> n{p.id} [label=0]" in src
    assert f"\tn{a.id} -> n{s.id}\n" in src and f"\tn{b.id} -> n{s.id}\n" in src
    with sg.Graph():
        x = sg.var("x")
        sq = x * x  # the shared input appears as two edges, one per argument
    assert sg.to_dot(sq).source.count(f"n{x.id} -> n{sq.id}") == 2


def test_provenance_edges_go_from_derivative_nodes_to_what_they_differentiate():
    _, w, z, dz, _ = fig610()
    src = sg.to_dot([z, dz], provenance_edges=True).source
    dashed = re.findall(r"n(\d+) -> n(\d+) \[arrowhead=empty[^\]]*style=dashed", src)
    assert dashed
    drawn = {n.id: n for n in sg.ancestors([z, dz])}
    for src_id, dst_id in dashed:
        assert drawn[int(src_id)].grad_of is drawn[int(dst_id)]
    assert "style=dashed" not in sg.to_dot([z, dz]).source


# --- 2. values and gradients --------------------------------------------------------------


def test_feeds_show_every_value_in_the_svg():
    with sg.Graph():
        x = sg.var("x")
        v = sg.var("v", shape=(3,))
        m = sg.var("m", shape=(20, 30))
        y = sg.sin(x) * x + (v * 2.0).sum() + m.mean()
    feeds = {x: 1.0, v: [1.0, 2.0, 3.5], m: np.linspace(-1, 2, 600).reshape(20, 30)}
    nodes = svg_nodes(sg.to_svg(y, feeds=feeds))
    shown = {k: texts(g) for k, g in nodes.items()}
    every = sg.ancestors([y])
    values = sg.evaluate(every, feeds)
    for n, value in zip(every, values):
        if n.op == "const":  # its label is its value, shown once
            assert shown[f"n{n.id}"] == [format_value(value)], n
        else:
            assert f"= {format_value(value)}" in shown[f"n{n.id}"], n
    assert "= [2, 4, 7]" in shown[f"n{(v * 2.0).id}"]
    assert "= (20, 30) -1..2" in shown[f"n{m.id}"]
    total = float(np.sin(1.0) + 13 + 0.5)
    assert f"= {total:.4g}" in shown[f"n{y.id}"]


def test_cs231n_circuit_shows_values_and_gradients_from_symgraph_grad():
    g, w, x, y = cs231n()
    forward = sg.ancestors([y])
    before = len(g.nodes)
    feeds = {w: [2, -3, -3], x: [-1, -2]}
    svg = sg.to_svg(y, feeds=feeds, grads_of=y)
    assert len(g.nodes) == before  # drawing is pure: the gradients come from a scratch copy
    nodes = svg_nodes(svg)
    drawn = {k for k in nodes if re.fullmatch(r"n\d+", k)}
    assert drawn == {f"n{n.id}" for n in forward}
    shown = {k: texts(nodes[k]) for k in drawn}
    assert shown[f"n{w.id}"][-2:] == ["= [2, -3, -3]", "grad [-0.1966, -0.3932, 0.1966]"]
    assert shown[f"n{x.id}"][-2:] == ["= [-1, -2]", "grad [0.3932, -0.5898]"]
    assert shown[f"n{y.id}"] == ["sigmoid(w[0]*x[0] + w[1]*x[1]", "+ w[2])", "= 0.7311",
                                 "grad 1"]  # an output's formula, wrapped
    s = y.inputs[0]  # the sum before the sigmoid: sigmoid'(1) = 0.1966
    assert shown[f"n{s.id}"][-2:] == ["= 1", "grad 0.1966"]
    w0x0 = s.inputs[0].inputs[0]
    assert shown[f"n{w0x0.id}"][-2:] == ["= -2", "grad 0.1966"]
    w0, x0 = w0x0.inputs
    assert x0.inputs[0] is x
    assert shown[f"n{w0.id}"][-2:] == ["= 2", "grad -0.1966"]
    assert shown[f"n{x0.id}"][-2:] == ["= -1", "grad 0.3932"]  # = w0 * 0.1966
    assert texts(nodes["legend"])[-3:] == ["= value", "grad = dy / d(node)",
                                           "y = sigmoid(w[0]*x[0] + w[1]*x[1] + w[2])"]
    # Intermediate nodes show their formula while it is short, then the op.
    assert shown[f"n{w0x0.id}"][0] == "w[0]*x[0]" and shown[f"n{w0.id}"][0] == "w[0]"
    assert shown[f"n{s.inputs[0].id}"][0] == "w[0]*x[0] + w[1]*x[1]"
    assert shown[f"n{s.id}"][0] == "+"  # "w[0]*x[0] + w[1]*x[1] + w[2]" is 28 characters
    assert sg.to_svg(y, feeds=feeds, grads_of=y) == svg
    assert len(g.nodes) == before


def test_gradient_annotations_match_finite_differences():
    with sg.Graph():
        a = sg.var("a")
        h = sg.tanh(a) * a
        y = sg.exp(h)
    src = sg.to_dot(y, feeds={a: 0.7}, grads_of=y).source
    eps = 1e-6
    fd_h = (np.exp(np.tanh(0.7) * 0.7 + eps) - np.exp(np.tanh(0.7) * 0.7 - eps)) / (2 * eps)
    fd_a = (np.exp(np.tanh(0.7 + eps) * (0.7 + eps))
            - np.exp(np.tanh(0.7 - eps) * (0.7 - eps))) / (2 * eps)
    assert f"grad {fd_h:.4g}" in re.search(rf"\tn{h.id} \[label=<(.*)", src).group(1)
    assert f"grad {fd_a:.4g}" in re.search(rf"\tn{a.id} \[label=<(.*)", src).group(1)


# --- 3. scopes, collapsing, big graphs -----------------------------------------------------


def mlp():
    """Algorithm 6.4: two layers, softmax cross-entropy, weight decay, and its gradient."""
    g = sg.Graph()
    with g:
        X, Y = sg.var("X", shape=(None, 4)), sg.var("y", shape=(None, 3))
        W1, b1 = sg.var("W1", shape=(4, 5)), sg.var("b1", shape=(5,))
        W2, b2 = sg.var("W2", shape=(5, 3)), sg.var("b2", shape=(3,))
        with sg.name_scope("layer1"):
            h = sg.relu(X @ W1 + b1)
        with sg.name_scope("layer2"):
            logits = h @ W2 + b2
        with sg.name_scope("loss"):
            J = -sg.mean(sg.sum(Y * sg.log_softmax(logits), axis=1))
            J = J + 0.01 * (sg.sum(sg.square(W1)) + sg.sum(sg.square(W2)))
        grads = sg.grad(J, [W1, b1, W2, b2])
    return [J, *grads]


def test_scopes_are_clusters_and_derivatives_sit_with_their_layer():
    outs = mlp()
    src = sg.to_dot(outs).source
    labels = re.findall(r"subgraph (cluster_\d+) \{\n\t\tlabel=<<b>(\w+)</b>>", src)
    assert [name for _, name in labels] == ["layer1", "layer2", "loss"]
    layer1 = src.split("label=<<b>layer1</b>>")[1].split("\t}")[0]
    ids = [int(i) for i in re.findall(r"\tn(\d+) \[", layer1)]
    nodes = {n.id: n for n in sg.ancestors(outs)}
    assert {nodes[i].order for i in ids} == {0, 1}  # forward and backward of the layer
    scopes = scene.scopes(sg.ancestors(outs))
    assert all(scopes[i] == "layer1" for i in ids)


def test_nested_scopes_nest_clusters():
    with sg.Graph():
        x = sg.var("x")
        with sg.name_scope("net"):
            a = sg.sin(x)
            with sg.name_scope("inner"):
                b = sg.cos(a)
    src = sg.to_dot(b).source
    net = src.index("label=<<b>net</b>>")
    inner = src.index("label=<<b>inner</b>>")
    assert net < src.index(f"\tn{a.id} [") < inner < src.index(f"\tn{b.id} [")
    assert src.count("subgraph cluster_") == 3  # net, inner, legend


def test_collapse_draws_one_box_per_scope_and_order():
    outs = mlp()
    src = sg.to_dot(outs, collapse=True).source
    boxes = re.findall(r"\ts\d+ \[label=<<b>(\w+)</b><br/><font point-size=\"9\">"
                       r"(\d+) nodes?(, order 1)?</font>>", src)
    assert sorted((s, o) for s, _, o in boxes) == [
        ("layer1", ""), ("layer1", ", order 1"), ("layer2", ""), ("layer2", ", order 1"),
        ("loss", ""), ("loss", ", order 1")]
    nodes = sg.ancestors(outs)
    scopes = scene.scopes(nodes)
    for scope, count, order in boxes:
        k = 1 if order else 0
        assert int(count) == sum(scopes[n.id] == scope and n.order == k for n in nodes)
    assert "subgraph cluster_0" not in src and "×" in src  # parallel edges merged, counted
    svg = sg.to_svg(outs, collapse=True)
    assert len([k for k in svg_nodes(svg) if k.startswith("s")]) == 6


def chain(n: int):
    with sg.Graph():
        x = sg.var("x")
        y = nested(sg.sin, x, n)
        return x, y, sg.grad(y, x)


def test_max_nodes_caps_the_picture_and_says_so():
    x, y, dy = chain(40)
    total = len(sg.ancestors([y, dy]))
    src = sg.to_dot([y, dy], max_nodes=30).source
    assert len(re.findall(r"\tn\d+ \[", src)) == 30
    assert f"30 of {total} nodes drawn (max_nodes=30)" in src
    assert f"… {total - 30} more nodes not drawn" in src
    assert f"\tn{y.id} [" in src and f"\tn{dy.id} [" in src  # nearest the outputs kept
    cut = re.findall(r"\tn(\d+) \[label=<… ", src)  # marked, as the note says
    assert cut and all(any(f"\tn{i.id} [" not in src
                           for i in next(n for n in sg.ancestors([y, dy])
                                         if n.id == int(c)).inputs) for c in cut)
    assert "max_nodes" not in sg.to_dot([y, dy], max_nodes=total).source


def test_big_graphs_draw_fast():
    x, y, dy = chain(3333)
    outs = [y, dy]
    assert len(sg.ancestors(outs)) > 9900
    start = time.perf_counter()
    src = sg.to_dot(outs, max_nodes=20_000).source
    full = time.perf_counter() - start
    assert src.count("\tn") >= 9900 + 9900  # every node and edge
    assert full < 3.0  # ~0.35 s measured; generous for a loaded machine
    start = time.perf_counter()
    svg = sg.to_svg(outs, timeout=60)
    assert time.perf_counter() - start < 20.0  # ~0.6 s measured (500 nodes, fast layout)
    assert f"{dot.MAX_NODES} of" in svg
    assert "mclimit" in sg.to_dot(outs).source


# --- SVG output, errors ---------------------------------------------------------------------


def test_to_svg_writes_the_file_and_node_shows_itself(tmp_path):
    _, _, z, dz, _ = fig610()
    path = tmp_path / "fig.svg"
    svg = sg.to_svg([z, dz], path=path)
    assert path.read_text(encoding="utf-8") == svg
    assert ET.fromstring(z._repr_svg_()).tag == f"{SVG}svg"


def test_missing_dot_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    _, _, z, _, _ = fig610()
    assert "digraph" in sg.to_dot(z).source  # DOT needs no program
    with pytest.raises(sg.SymgraphError, match="apt-get install graphviz.*sg.to_dot"):
        sg.to_svg(z)


@pytest.mark.parametrize("kwargs, message", [
    ({"grads_of": "y"}, "grads_of needs feeds"),
    ({"feeds": {"a": 1.0}, "grads_of": "v"}, "float scalar node"),
    ({"feeds": {"a": 1.0}, "grads_of": 3.0}, "must be a symgraph node"),
    ({"feeds": [1.0]}, "feeds must be a dict"),
    ({"max_nodes": 0}, "max_nodes must be an int >= 1"),
    ({"rankdir": "up"}, "rankdir must be"),
])
def test_mistakes_raise_symgraph_error(kwargs, message):
    with sg.Graph():
        a = sg.var("a")
        v = sg.stack([a, a])
        y = sg.sin(a)
    named = {"y": y, "v": v}
    kwargs = {k: named.get(val, val) if isinstance(val, str) else val
              for k, val in kwargs.items()}
    with pytest.raises(sg.SymgraphError, match=message):
        sg.to_dot(y, **kwargs)


def test_grads_of_from_another_graph_is_refused():
    with sg.Graph():
        a = sg.var("a")
        y = sg.sin(a)
    with sg.Graph():
        other = sg.sin(sg.var("b"))
    with pytest.raises(sg.SymgraphError, match="another graph"):
        sg.to_dot(y, feeds={a: 1.0}, grads_of=other)


# --- round 2: labels, legend, placement -----------------------------------------------------


def test_unnamed_constants_show_their_value_once_and_named_ones_show_it_too():
    with sg.Graph():
        s = sg.var("s")
        half = sg.const(0.5, name="half")
        y = (1 - sg.sigmoid(s)) * half
    nodes = svg_nodes(sg.to_svg(y, feeds={s: 0.0}))
    one = y.inputs[0].inputs[0]
    assert one.op == "const" and texts(nodes[f"n{one.id}"]) == ["1"]  # not "1", "= 1"
    assert texts(nodes[f"n{half.id}"]) == ["half", "= 0.5"]
    assert texts(nodes[f"n{y.inputs[0].id}"]) == ["1 - sigmoid(s)", "= 0.5"]


@pytest.mark.parametrize("rankdir", ["LR", "TB", "RL", "BT"])
def test_legend_lists_orders_top_down_in_every_direction(rankdir):
    _, _, z, dz, d2 = fig610()
    legend = svg_nodes(sg.to_svg([z, dz, d2], rankdir=rankdir))["legend"]
    rows = [(float(t.get("y")), t.text) for t in legend.iter(f"{SVG}text")]
    assert [text for _, text in sorted(rows)] == [
        "legend", "order 0: your graph", "order 1: 1st derivative", "order 2: 2nd derivative"]


def test_small_nodes_show_their_formula_and_big_pictures_the_op():
    x, y, dy = chain(30)
    src = sg.to_dot([y, dy]).source
    sin3 = x.graph.nodes[x.id + 3]
    assert str(sin3) == "sin(sin(sin(x)))"
    assert f"\tn{sin3.id} [label=<sin(sin(sin(x)))>" in src
    sin5 = x.graph.nodes[x.id + 5]  # "sin(sin(sin(sin(sin(x)))))": 26 characters
    assert f"\tn{sin5.id} [label=<sin>" in src
    x, y, dy = chain(100)  # over FAST_LAYOUT drawn nodes: compact op labels only
    assert f"\tn{x.id + 1} [label=<sin>" in sg.to_dot([y, dy]).source


def test_several_outputs_are_tagged_as_sg_pprint_names_them():
    # Outputs that are no derivative of one another keep pprint's tags; derivatives are
    # named (issue 18; tests/test_pictures.py has the naming rules).
    with sg.Graph():
        w0, x0 = sg.var("w0"), sg.var("x0")
        f = sg.sigmoid(w0 * x0)
        outs = [f, sg.exp(w0)]
        grads = sg.grad(f, [w0, x0])
    feeds = {w0: 2.0, x0: -1.0}
    nodes = svg_nodes(sg.to_svg(outs, feeds=feeds))
    printed = sg.pprint(outs)
    for k, node in enumerate(outs):
        shown = texts(nodes[f"n{node.id}"])
        assert shown[1] == f"out{k}" and f"out{k} = " in printed
        assert shown[2] == f"= {format_value(sg.evaluate(node, feeds))}"
    nodes = svg_nodes(sg.to_svg(grads, feeds=feeds))
    for name, node in zip(("df/dw0", "df/dx0"), grads):
        shown = texts(nodes[f"n{node.id}"])
        assert shown[-2:] == [name, f"= {format_value(sg.evaluate(node, feeds))}"]
    assert "out0" not in sg.to_dot(f).source  # a single output needs no tag
    assert "out0" not in sg.to_dot(mlp(), collapse=True).source  # boxes hide outputs


def test_weight_made_outside_the_layers_gets_its_gradient_sum_in_its_layer():
    outs = mlp()  # W1, W2 made outside any scope; weight decay in "loss"
    dW1, dW2 = outs[1], outs[3]
    assert dW1.op == "add" and dW1.scope == "" and dW1.grad_of.name == "W1"
    src = sg.to_dot(outs).source
    layer1 = src.split("label=<<b>layer1</b>>")[1].split("\t}")[0]
    layer2 = src.split("label=<<b>layer2</b>>")[1].split("\t}")[0]
    assert f"\tn{dW1.id} [" in layer1 and f"\tn{dW2.id} [" in layer2
    collapsed = sg.to_dot(outs, collapse=True).source
    loose = [int(i) for i in re.findall(r"\tn(\d+) \[", collapsed)]
    nodes = {n.id: n for n in sg.ancestors(outs)}
    assert {nodes[i].op for i in loose} == {"var"}  # every derivative node sits in a box
    # The forward and backward box of each scope share a rank: the pass comes back.
    same = re.findall(r"\{rank=same; (s\d+) (s\d+)\}", collapsed)
    assert len(same) == 3
    for a, b in same:
        assert re.search(rf"\t{a} \[label=<<b>(\w+)<", collapsed).group(1) == \
            re.search(rf"\t{b} \[label=<<b>(\w+)<", collapsed).group(1)


def test_legend_names_a_long_grads_of_by_op_and_id():
    x, y, _ = chain(10)  # sin(sin(...)): far over 40 characters
    svg = sg.to_svg(y, feeds={x: 0.3}, grads_of=y)
    legend = svg_nodes(svg)["legend"]
    assert texts(legend)[-1] == f"y = sin #{y.id} (grad 1)"
    assert texts(svg_nodes(svg)[f"n{y.id}"])[-1] == "grad 1"  # the node the legend means
