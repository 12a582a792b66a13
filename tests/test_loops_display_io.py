"""Loops and branches (issue 15) seen from outside: sg.save/sg.load keep their bodies as
nested node lists (no code) so the loaded graph evaluates, differentiates (first and
second order) and compiles to the original's numbers; pictures draw a loop as one box and,
with bodies=True, its bodies as clusters; pprint/debugprint show the bodies; to_networkx
includes their nodes. Drawing and printing add no node to the graph."""

from __future__ import annotations

import json
import re
import shutil

import networkx as nx
import numpy as np
import pytest

import symgraph as sg
from symgraph.io.bodies import bodies_of
from symgraph.loops import cond, fori_loop, scan, while_loop
from test_loops import rk4_pendulum, rnn_loss_scan, rnn_problem

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is missing")


def _by_name(outputs, names):
    """The loaded graph's inputs, by name."""
    found = {n.name: n for n in sg.ancestors(outputs) if n.op == "var" and n.name}
    return [found[k] for k in names]


def _same(got, want):
    for a, b in zip(got, want, strict=True):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)  # the same graph: the same floating-point ops


def _pendulum():
    p, th0, om0 = sg.var("p", shape=(2,)), sg.var("th0"), sg.var("om0")
    th, om = fori_loop(0, 40, lambda i, s: rk4_pendulum(s, p, 0.05), (th0, om0))
    return (p, th0, om0), th, om


PENDULUM = {"p": np.array([9.81, 0.3]), "th0": 1.0, "om0": -0.5}


def test_pendulum_saved_and_loaded_keeps_values_gradients_and_second_order(tmp_path):
    with sg.Graph():
        (p, th0, om0), th, om = _pendulum()
        g1 = sg.grad(th, [p, th0, om0])
        g2 = sg.grad(g1[1], [p, th0, om0])  # grad of grad: a reverse scan of a reverse scan
        outs = [th, om, *g1, *g2]
        want = sg.evaluate(outs, PENDULUM)
        sg.save(outs, tmp_path / "pendulum.json")
        # asked of the original after saving: the loaded graph must give the same
        d2_orig = sg.evaluate(sg.grad(sg.grad(om, om0), p), PENDULUM)
    text = (tmp_path / "pendulum.json").read_text()
    assert '"$": "graph"' in text and "lambda" not in text
    loaded = sg.load(tmp_path / "pendulum.json")
    _same(sg.evaluate(loaded, PENDULUM), want)
    assert sum(n.op == "scan" for n in sg.ancestors(loaded)) == sum(
        n.op == "scan" for n in sg.ancestors(outs))
    # the loaded graph differentiates again, to first and second order
    lp, lth0, lom0 = _by_name(loaded, ["p", "th0", "om0"])
    lth, lom = loaded[:2]
    _same(sg.evaluate(sg.grad(lth, [lp, lth0, lom0]), PENDULUM), want[2:5])
    np.testing.assert_array_equal(sg.evaluate(sg.grad(sg.grad(lom, lom0), lp), PENDULUM),
                                  d2_orig)
    # against finite differences of the loaded forward value, so a wrong body can't pass
    eps = 1e-6
    up = sg.evaluate(lth, {**PENDULUM, "th0": 1.0 + eps})
    down = sg.evaluate(lth, {**PENDULUM, "th0": 1.0 - eps})
    np.testing.assert_allclose(want[3], (up - down) / (2 * eps), rtol=1e-6)
    # compiled, on the python and numpy backends
    for backend in ("python", "numpy"):
        f = sg.compile(loaded, [lp, lth0, lom0], backend=backend)
        for got, ref in zip(f(*PENDULUM.values()), want):
            np.testing.assert_allclose(got, ref, rtol=1e-12)


def test_rnn_scan_with_closures_roundtrips_with_grad_of_grad(rng, tmp_path):
    with sg.Graph():
        n, values = rnn_problem(rng)
        loss = rnn_loss_scan(n)  # W, U, b, v are closures of the body
        wrt = [n["W"], n["U"], n["b"], n["h0"], n["xs"]]
        grads = sg.grad(loss, wrt)
        gg = sg.grad(sg.sum(grads[2] * values["v"]), n["W"])
        hv = sg.hvp(loss, n["b"], values["v"])
        outs = [loss, *grads, gg, hv]
        feeds = {k: v for k, v in values.items()}
        want = sg.evaluate(outs, feeds)
        sg.save(outs, tmp_path / "rnn.json")
    loaded = sg.load(tmp_path / "rnn.json")
    _same(sg.evaluate(loaded, feeds), want)
    W, U, b, h0, xs = _by_name(loaded, ["W", "U", "b", "h0", "xs"])
    _same(sg.evaluate(sg.grad(loaded[0], [W, U, b, h0, xs]), feeds), want[1:6])
    again = sg.grad(sg.sum(sg.grad(loaded[0], b) * values["v"]), W)
    np.testing.assert_allclose(sg.evaluate(again, feeds), want[6], rtol=1e-12, atol=1e-15)
    assert sg.check_grad(loaded[0], [b, h0], feeds, order=2) < 1e-5
    f = sg.compile(loaded, [_by_name(loaded, [k])[0] for k in values])
    for got, ref in zip(f(*values.values()), want):
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15)


def test_cond_and_while_loop_roundtrip(tmp_path):
    with sg.Graph():
        x, k = sg.var("x"), sg.var("k")
        y = cond(x > 0, lambda v: sg.sqrt(v) * k, lambda v: -v * k, x)
        dy = sg.grad(y, [x, k])
        d2 = sg.grad(dy[0], x)
        w = while_loop(lambda c: c < 100, lambda c: c * x, sg.const(1.0))
        outs = [y, *dy, d2, w]
        sg.save(outs, tmp_path / "branch.json")
        cases = [{"x": 4.0, "k": 3.0}, {"x": -4.0, "k": 3.0}, {"x": 3.0, "k": 0.5}]
        wants = [sg.evaluate(outs, c) for c in cases]
    loaded = sg.load(tmp_path / "branch.json")
    lx, lk = _by_name(loaded, ["x", "k"])
    for feeds, want in zip(cases, wants):
        _same(sg.evaluate(loaded, feeds), want)
        _same(sg.evaluate(sg.grad(loaded[0], [lx, lk]), feeds), want[1:3])
    # analytic: sqrt(x)*k for x > 0 (dy/dx = k/(2 sqrt x), d2 = -k/(4 x^1.5)); 3^5 = 243
    assert [float(v) for v in wants[0]] == [6.0, 0.75, 2.0, -3 / 32, 256.0]
    assert [float(v) for v in wants[1][:4]] == [12.0, -3.0, 4.0, 0.0]
    assert float(wants[2][4]) == 243.0
    f = sg.compile(loaded, [lx, lk])
    for got, ref in zip(f(-4.0, 3.0), wants[1]):
        np.testing.assert_array_equal(got, ref)


def test_nested_loops_roundtrip_and_networkx(rng, tmp_path):
    """A checkpointed scan is a scan whose body is a scan: bodies inside bodies."""
    with sg.Graph():
        x0, a = sg.var("x0", shape=(3,)), sg.var("a")
        final, _ = scan(lambda c, _: (sg.tanh(a * c) + 0.1, None), x0, length=12,
                        checkpoint=4)
        loss = sg.sum(final * final)
        g = sg.grad(loss, [x0, a])
        gg = sg.grad(g[1], a)
        feeds = {"x0": rng.normal(size=3), "a": 0.7}
        want = sg.evaluate([loss, *g, gg], feeds)
        sg.save([loss, *g, gg], tmp_path / "nested.json")
        G = sg.to_networkx([loss, *g, gg])
        outer = sg.ancestors([loss, *g, gg])
    loaded = sg.load(tmp_path / "nested.json")
    _same(sg.evaluate(loaded, feeds), want)
    # to_networkx: the outer ancestors plus every body's nodes, which say whose they are
    assert {n.id for n in outer} <= set(G.nodes) and len(G) > len(outer)
    inner = [k for k in G if G.nodes[k]["body_of"]]
    loops = {loop for k in inner for loop, _ in G.nodes[k]["body_of"]}
    assert all(G.nodes[k]["op"] == "scan" for k in loops)
    assert loops - {n.id for n in outer}  # a scan inside a body holds a body too
    assert {G.nodes[k]["role"] for k in inner} >= {"carry 0", "x 0", "closure 0"}
    every = {n.id: n for n in outer[0].graph.nodes}
    assert G.number_of_edges() == sum(len(every[k].inputs) for k in G)
    assert nx.is_directed_acyclic_graph(G)


def test_pictures_draw_a_loop_as_a_box_and_its_body_as_a_cluster():
    with sg.Graph() as graph:
        (p, th0, om0), th, _ = _pendulum()
        dth = sg.grad(th, th0)
        before = len(graph)
        plain = sg.to_dot([th, dth]).source
        src = sg.to_dot([th, dth], bodies=True).source
        assert len(graph) == before  # drawing adds no node
        scans = [n for n in sg.ancestors([th, dth]) if n.op == "scan"]
        fwd, back = sorted(scans, key=lambda n: n.order)
    assert "cluster_" not in plain.replace("cluster_legend", "")
    for s in (plain, src):  # the loop is one 3-D box, the derivative one in order 1's colours
        assert re.search(rf"\bn{fwd.id} \[[^\n]*fillcolor=\"#b3ddf5\"[^\n]*shape=box3d", s)
        assert re.search(rf"\bn{back.id} \[[^\n]*fillcolor=\"#f6dda6\"[^\n]*shape=box3d", s)
    assert f"subgraph cluster_n{fwd.id}b0_" in src
    assert "<b>scan body (40 steps)</b>" in src
    assert "<b>scan body (40 steps, reversed)</b>" in src
    for role in ("carry 0", "carry 1", "x 0", "closure 0"):
        assert f"<b>{role}</b>" in src
    # the loop's inputs feed the placeholders: th0 -> carry 0 of the forward body
    body = fwd.opdef.encode_attrs(fwd.attrs)[1]["body"]
    assert f"n{th0.id} -> n{fwd.id}b0_n{body[0][0].id} [arrowhead=empty" in src
    # every body node is inside its cluster, the cluster closed before any edge
    cluster = src[src.index(f"subgraph cluster_n{fwd.id}b0_"):]
    cluster = cluster[:cluster.index("\n\t}\n")]
    assert " -> " not in cluster and cluster.count(f"n{fwd.id}b0_n") > 20
    # the gradient body's nodes are of the gradient loop's order (1), not one more
    assert "order 1: 1st derivative" in src and "order 2" not in src


def test_nested_clusters_and_budget():
    with sg.Graph():
        x0, a = sg.var("x0", shape=(3,)), sg.var("a")
        final, _ = scan(lambda c, _: (sg.tanh(a * c), None), x0, length=6, checkpoint=2)
        outer = next(n for n in sg.ancestors(final) if n.op == "scan")
        src = sg.to_dot(final, bodies=True).source
        (body,) = bodies_of(outer)
        inner = next(n for n in body.nodes if n.op == "scan")
        assert f"subgraph cluster_n{outer.id}b0_n{inner.id}b0_" in src
        assert "scan body (3 steps)" in src and "scan body (2 steps)" in src
        small = sg.to_dot(final, bodies=True, max_nodes=5).source
        assert "nodes not drawn" in small


@needs_dot
def test_loop_pictures_render(tmp_path):
    with sg.Graph():
        (p, th0, om0), th, _ = _pendulum()
        x = sg.var("x")
        y = cond(x > 0, sg.sqrt, lambda v: -v, x)
        svg = sg.to_svg([th, sg.grad(th, p), sg.grad(y, x)], tmp_path / "loops.svg",
                        bodies=True)
        picture = sg.Picture([th, y], bodies=True)
    assert svg.lstrip().startswith("<?xml") and "scan body (40 steps)" in svg
    assert "cond true branch" in svg and "cond false branch" in svg
    assert "<b>scan body" in picture.dot.source and picture.svg() == picture.svg()


def test_pprint_and_debugprint_show_bodies():
    with sg.Graph() as graph:
        a, xs = sg.var("a"), sg.var("xs", shape=(3,))
        total, _ = scan(lambda c, x: (c * a + x, c), sg.const(0.0), xs)
        da = sg.grad(total, a)
        before = len(graph)
        text = sg.pprint([total, da])
        listing = sg.debugprint(da)
        assert len(graph) == before
    assert text.splitlines() == [
        "t1 = scan(0, xs, a, length=3)",
        "  scan body (3 steps) of t1:",
        "    carry0' = carry0*closure0 + x0",
        "    y0 = carry0",
        "t2 = scan(1, 0, loop_part(t1, start=4), xs, a, length=3, reverse=True)",
        "  scan body (3 steps, reversed) of t2:",
        "    carry0' = carry0*closure0",
        "    carry1' = carry1 + x0*carry0",
        "    y0 = carry0",
        "out0 = loop_part(t1, start=0)",
        "out1 = loop_part(t2, start=1)",
    ]
    lines = listing.splitlines()
    title = next(k for k, line in enumerate(lines) if "scan body (3 steps) of #" in line)
    assert lines[title].startswith("  ") and lines[title + 1].startswith("    #")
    assert any("carry 0" in line and "<- y0" in line for line in lines)
    assert any("<- carry0'" in line for line in lines) and lines[-1].endswith("<- out")


def test_hostile_bodies_are_refused(tmp_path):
    with sg.Graph():
        a = sg.var("a")
        y = fori_loop(0, 3, lambda i, c: c * a, sg.const(1.0))
        sg.save(y, tmp_path / "ok.json")
    doc = json.loads((tmp_path / "ok.json").read_text())
    scan_rec = next(r for r in doc["nodes"] if isinstance(r.get("attrs", {}).get("body"), dict))
    body = scan_rec["attrs"]["body"]

    def load_with(change, name):
        bad = json.loads(json.dumps(doc))
        change(next(r for r in bad["nodes"] if r.get("op") == scan_rec["op"] and
                    "body" in r.get("attrs", {})))
        (tmp_path / name).write_text(json.dumps(bad))
        return lambda: sg.load(tmp_path / name)

    cases = {
        "not-an-input": (lambda r: r["attrs"]["body"]["inputs"].pop(), "only they, are var"),
        "sizes": (lambda r: r["attrs"]["body"]["meta"].update(carries=5), "do not fit"),
        "steps": (lambda r: (r["attrs"].update(length=2**40)), "max_work|shape"),
        "depth": (lambda r: r["attrs"]["body"].update(nodes=[{"$": 1}]), "body"),
        "extra": (lambda r: r["attrs"]["body"].update(code="import os"), "fields"),
        "no-body": (lambda r: r["attrs"].pop("body"), "no body|do not fit"),
        "fed-input": (lambda r: r["attrs"]["body"]["nodes"][1].update(inputs=[0]),
                      "input has no inputs"),
    }
    for name, (change, message) in cases.items():
        with pytest.raises(sg.SymgraphError, match=message):
            load_with(change, f"{name}.json")()
    assert len(body["nodes"]) >= 3
    # a body on an op that holds none
    bad = json.loads(json.dumps(doc))
    mult = {"op": "sin", "inputs": [0], "attrs": {"x": body}, "shape": [], "dtype": "float64"}
    bad["nodes"].append(mult)
    bad["outputs"] = [len(bad["nodes"]) - 1]
    (tmp_path / "sin.json").write_text(json.dumps(bad))
    with pytest.raises(sg.SymgraphError, match="holds a graph"):
        sg.load(tmp_path / "sin.json")
    # many steps of a cheap body cost their steps: the work bound sees them
    with sg.Graph():
        a = sg.var("a", shape=(1000,))
        y = fori_loop(0, 100_000, lambda i, c: sg.sin(c), a)
        sg.save(y, tmp_path / "long.json")
    with pytest.raises(sg.SymgraphError, match="max_work"):
        sg.load(tmp_path / "long.json", max_work=10**7)
    assert sg.load(tmp_path / "long.json", max_work=10**9)[0].shape == (1000,)


def test_gradients_on_a_loop_picture_add_no_node():
    """grads_of computes grad on a scratch copy: the loop's bodies are copied too, so the
    reverse scan's body is built there, not in the user's graph."""
    with sg.Graph() as graph:
        a, xs = sg.var("a"), sg.var("xs", shape=(3,))
        total, _ = scan(lambda c, x: (c * sg.sin(a) + x, c), sg.const(0.0), xs)
        loss = total * total
        feeds = {a: 0.5, xs: np.array([1.0, 2.0, 3.0])}
        before = len(graph)
        src = sg.to_dot(loss, feeds, grads_of=loss, bodies=True).source
        assert len(graph) == before
        want = sg.evaluate(sg.grad(loss, a), feeds)
    # c_3 = x1 s^2 + x2 s + x3 with s = sin(a): dloss/da = 2 c_3 (2 x1 s + x2) cos(a)
    s = np.sin(0.5)
    c3 = s * s + 2 * s + 3
    np.testing.assert_allclose(want, 2 * c3 * (2 * s + 2) * np.cos(0.5), rtol=1e-13)
    assert f"grad {sg.display.format_value(want)}" in src


def test_a_body_whose_carry_changes_shape_is_refused(tmp_path):
    with sg.Graph():
        h0, W = sg.var("h0", shape=(2,)), sg.var("W", shape=(2, 2))
        h, _ = scan(lambda c, _: (sg.tanh(W @ c), None), h0, length=3)
        sg.save(h, tmp_path / "ok.json")
    doc = json.loads((tmp_path / "ok.json").read_text())
    rec = next(r for r in doc["nodes"] if "body" in r.get("attrs", {}))
    out = rec["attrs"]["body"]["outputs"][0]
    # the body now returns its carry's first element: a scalar for a (2,) carry
    nodes = rec["attrs"]["body"]["nodes"]
    nodes.append({"op": "getitem", "inputs": [out], "attrs": {"index": [0]}, "shape": [],
                  "dtype": "float64"})
    rec["attrs"]["body"]["outputs"][0] = len(nodes) - 1
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    with pytest.raises(sg.SymgraphError, match="carry 0 enters the body with shape"):
        sg.load(tmp_path / "bad.json")
    (h2,) = sg.load(tmp_path / "ok.json")
    assert h2.shape == (2,)


def test_a_graphs_picture_leaves_out_body_nodes_and_tracing_leftovers():
    with sg.Graph() as graph:
        a, xs = sg.var("a"), sg.var("xs", shape=(3,))
        total, _ = scan(lambda c, x: (c * sg.sin(a) + x, c), sg.const(0.0), xs)
        sg.grad(total, a)
        src = sg.Picture(graph).dot.source
        with_bodies = sg.Picture(graph, bodies=True).dot.source
    # the traced placeholders (named sg.scan_in...) appear only inside body clusters
    assert "sg.scan_in" not in src and "carry_cotangent" not in src
    assert "<b>carry 0</b>" in with_bodies and "sg.scan_in" not in with_bodies


def test_a_compiled_loop_pickles_through_its_json():
    """A compiled function pickles as its graph's JSON: with loop bodies saved, one whose
    graph holds loops pickles too."""
    import pickle
    with sg.Graph():
        (p, th0, om0), th, _ = _pendulum()
        f = sg.compile([th, *sg.grad(th, [p, th0])], [p, th0, om0])
    g = pickle.loads(pickle.dumps(f))
    for got, want in zip(g(*PENDULUM.values()), f(*PENDULUM.values()), strict=True):
        np.testing.assert_array_equal(got, want)


def test_a_derivative_loops_body_is_of_that_loops_order():
    """Pictures colour a body's derivative nodes by the order of the loop running them:
    the body of a gradient scan holds order-1 nodes, of a second derivative's order 2."""
    with sg.Graph():
        k, th0 = sg.var("k"), sg.var("theta0")
        (th, _), _ = sg.scan(lambda c, _: ((c[0] + 0.1 * c[1], c[1] - 0.1 * k * sg.sin(c[0])),
                                           c[0]), (th0, sg.const(0.0)), length=5)
        d1 = sg.grad(th * th, k)
        d2 = sg.grad(d1, k)
        scans = [n for n in sg.ancestors([d1, d2]) if n.op == "scan"]
        top = {}
        for loop in scans:
            body = loop.attrs["body"]
            inner = [n for n in sg.ancestors(body.outputs) if n.op not in ("var", "const")]
            top[loop] = max(n.order for n in inner)
            # (<: a body built for the first gradient is shared by a second-order loop)
            assert top[loop] <= loop.order, (loop, loop.order)
        assert sorted({n.order for n in scans}) == [0, 1, 2]
        assert {top[n] for n in scans if n.order == 1} == {1}
        assert 2 in {top[n] for n in scans if n.order == 2}


def test_save_writes_only_what_load_reads_of_nested_bodies(tmp_path):
    """Five checkpointed scans (each a scan of scans) nest ten bodies: load refused the file
    save wrote (its limit was 8 levels); past the format's limit, save refuses up front."""
    with sg.Graph():
        x = sg.var("x")

        def step(c, t):
            return sg.sin(c) * x + 0.1, None
        f = step
        for _ in range(4):
            f = (lambda inner: (lambda c, t: (sg.scan(inner, c, length=4, checkpoint=2)[0],
                                              None)))(f)
        y = sg.scan(f, x, length=4, checkpoint=2)[0]
        want = float(sg.evaluate(y, {x: 0.5}))
        sg.save([y], str(tmp_path / "nested.json"))
        (loaded,) = sg.load(str(tmp_path / "nested.json"))
        assert float(sg.evaluate(loaded, {"x": 0.5})) == want
        f = step
        for _ in range(32):
            f = (lambda inner: (lambda c, t: (sg.scan(inner, c, length=1)[0], None)))(f)
        deep = sg.scan(f, x, length=1)[0]  # 33 bodies, one in the other
        with pytest.raises(sg.SymgraphError, match="nested more than 32 levels"):
            sg.save([deep], str(tmp_path / "deep.json"))
        assert not (tmp_path / "deep.json").exists()
