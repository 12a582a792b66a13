"""JSON save/load: round trips keep values, names, orders, scopes and provenance; corrupt or
hostile files are rejected with one SymgraphError and leave no graph behind."""

from __future__ import annotations

import json
import os
import tempfile

import networkx as nx
import numpy as np
import pytest

import symgraph as sg
from symgraph.io import checks
from symgraph.io import json as sgjson
from opcases import all_cases, case_inputs


def _roundtrip(outputs, tmp_path, name="g.json"):
    path = tmp_path / name
    sg.save(outputs, path)
    return sg.load(path), path


def _provenance(node):
    return (node.op, node.shape, node.dtype.name, node.name, node.order, node.scope,
            node.grad_call, None if node.grad_of is None else node.grad_of.op)


def _same_structure(before, after):
    """The saved part of the graph, node for node, in id order."""
    old = sgjson._saved_nodes(before)
    new = sgjson._saved_nodes(after)
    assert [_provenance(n) for n in old] == [_provenance(n) for n in new]
    old_pos = {n.id: i for i, n in enumerate(old)}
    new_pos = {n.id: i for i, n in enumerate(new)}
    for a, b in zip(old, new):
        assert [old_pos[i.id] for i in a.inputs] == [new_pos[i.id] for i in b.inputs]


# --- round trips --------------------------------------------------------------------------


CASES = all_cases()


@pytest.mark.parametrize("name,i,case", CASES, ids=[f"{n}-{i}" for n, i, _ in CASES])
def test_every_registered_op_roundtrips(name, i, case, rng, tmp_path):
    """Each op's declared cases, with first and second derivatives (which bring in scatter,
    first_max_mask, count...), give identical numbers and structure after save/load."""
    with sg.Graph():
        nodes, values = case_inputs(case, rng)
        y = case.build(*nodes)
        outputs = [y]
        if case.order >= 1:
            first = sg.grad(sg.sum(y * y), nodes)
            outputs += first
            if case.order >= 2:
                outputs += sg.grad(sg.sum(first[0] * first[0]), nodes)
        loaded, _ = _roundtrip(outputs, tmp_path)
        feeds = {n.name: v for n, v in zip(nodes, values)}
        before, after = sg.evaluate(outputs, feeds), sg.evaluate(loaded, feeds)
    for a, b in zip(before, after):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    _same_structure(outputs, loaded)
    assert [n.attrs for n in sgjson._saved_nodes(outputs) if n.op not in ("var", "const")] == [
        n.attrs for n in sgjson._saved_nodes(loaded) if n.op not in ("var", "const")]


def test_floats_roundtrip_exactly(graph, tmp_path, rng):
    tricky = np.array([0.1, 1 / 3, -0.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
                       np.pi, np.nextafter(1.0, 2.0), np.nan, np.inf, -np.inf,
                       np.copysign(np.nan, -1.0)])  # NaN's sign too (np.copysign reads it)
    values = np.concatenate([tricky, rng.normal(size=200) * 10.0 ** rng.integers(-300, 300, 200)])
    x = sg.var("x")
    c64 = sg.const(values)
    c32 = sg.const(values[[0, 1, 2, 3, 6, 7, 8, 9, 10, 11]].astype(np.float32))
    c16 = sg.const(np.array([0.1, 65504.0, 6e-8], dtype=np.float16))
    scalar = sg.const(np.float64(1 / 3)) * x  # a 0-d constant is stored as a fill
    ints = sg.const(np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max, 0]))
    big_u = sg.const(np.array([np.iinfo(np.uint64).max, 1], dtype=np.uint64))
    fills = [sg.const(np.full(3, np.copysign(np.nan, -1.0))), sg.const(np.copysign(np.nan, -1.0))]
    loaded, _ = _roundtrip([c64, c32, c16, scalar, ints, big_u, *fills], tmp_path)
    for a, b in zip([c64, c32, c16, *fills], loaded[:3] + loaded[6:]):
        assert b.dtype == a.dtype
        # bit for bit, so -0.0, subnormals and NaN are kept exactly
        assert b.attrs["value"].tobytes() == a.attrs["value"].tobytes()
    assert float(sg.evaluate(loaded[3], {"x": 3.0})) == 1 / 3 * 3.0
    assert loaded[4].attrs["value"].tolist() == ints.attrs["value"].tolist()
    assert loaded[5].attrs["value"].dtype == np.uint64
    assert loaded[5].attrs["value"].tolist() == [2**64 - 1, 1]


def test_100k_node_chain_saves_and_loads(graph, tmp_path):
    x = sg.var("x")
    y = x
    for i in range(100_000):
        y = sg.sin(y) if i % 2 else y * 0.999
    (y2,), path = _roundtrip(y, tmp_path)
    assert len(y2.graph) == 100_002 and y2.id == 100_001
    expected = np.float64(0.5)
    for i in range(100_000):  # the same chain in NumPy, step for step
        expected = np.sin(expected) if i % 2 else expected * 0.999
    assert float(sg.evaluate(y2, {"x": 0.5})) == expected
    assert path.stat().st_size < 8 * 2**20  # default fields are left out: ~73 bytes a node


def test_to_networkx_attributes_and_edges(graph):
    w, x = sg.var("w", shape=(3,)), sg.var("x", shape=(2,))
    with sg.name_scope("neuron"):
        f = sg.sigmoid(w[0] * x[0] + w[1] * x[1] + w[2])
    dw = sg.grad(f, w)
    sq = x * x
    G = sg.to_networkx([f, dw, sq])
    nodes = sg.ancestors([f, dw, sq])
    assert sorted(G.nodes) == [n.id for n in nodes]
    assert G.number_of_edges() == sum(len(n.inputs) for n in nodes)
    for n in nodes:
        attrs = G.nodes[n.id]
        assert (attrs["op"], attrs["shape"], attrs["name"], attrs["order"], attrs["scope"],
                attrs["grad_call"], attrs["dtype"]) == (
            n.op, n.shape, n.name, n.order, n.scope, n.grad_call, str(n.dtype))
        assert attrs["grad_of"] == (None if n.grad_of is None else n.grad_of.id)
        # one edge per argument, keyed by position
        got = sorted((u, d["index"]) for u, _, d in G.in_edges(n.id, data=True))
        assert got == sorted((inp.id, k) for k, inp in enumerate(n.inputs))
    assert G.number_of_edges(x.id, sq.id) == 2
    assert G.nodes[f.id]["scope"] == "neuron" and G.nodes[dw.id]["order"] == 1
    assert nx.is_directed_acyclic_graph(G)
    assert list(nx.topological_sort(G))[-1] in {f.id, dw.id, sq.id}
    with pytest.raises(sg.SymgraphError):
        sg.to_networkx([f, "dw"])


def test_cs231n_neuron_roundtrip(graph, tmp_path):
    w, x = sg.var("w", shape=(3,)), sg.var("x", shape=(2,))
    f = sg.sigmoid(w[0] * x[0] + w[1] * x[1] + w[2])
    dw, dx = sg.grad(f, [w, x])
    (f2, dw2, dx2), _ = _roundtrip([f, dw, dx], tmp_path)
    feeds = {"w": [2.0, -3.0, -3.0], "x": [-1.0, -2.0]}
    before = sg.evaluate([f, dw, dx], feeds)
    after = sg.evaluate([f2, dw2, dx2], feeds)
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)
    assert np.round(after[1], 4).tolist() == [-0.1966, -0.3932, 0.1966]
    assert f2.graph is not graph and f2.graph is dw2.graph is dx2.graph
    assert str(f2) == "sigmoid(w[0]*x[0] + w[1]*x[1] + w[2])"
    assert [n.name for n in f2.graph.nodes if n.op == "var"] == ["w", "x"]
    assert f2.order == 0 and dw2.order == 1
    _same_structure([f, dw, dx], [f2, dw2, dx2])


def test_second_derivative_keeps_orders_and_provenance(graph, tmp_path):
    w = sg.var("w")
    z = sg.sin(sg.sin(sg.sin(w)))
    dz = sg.grad(z, w)
    d2z = sg.grad(dz, w)
    (z2, dz2, d2z2), _ = _roundtrip([z, dz, d2z], tmp_path)
    for a, b in zip((z, dz, d2z), (z2, dz2, d2z2)):
        assert float(sg.evaluate(a, {w: 0.7})) == float(sg.evaluate(b, {"w": 0.7}))
    assert (z2.order, dz2.order, d2z2.order) == (0, 1, 2)
    assert sorted({n.order for n in d2z2.graph.nodes}) == [0, 1, 2]
    _same_structure([z, dz, d2z], [z2, dz2, d2z2])
    # grad_of points into the loaded graph, at the rebuilt forward node
    assert all(n.grad_of is None or n.grad_of.graph is d2z2.graph for n in d2z2.graph.nodes)
    # and the loaded graph is a working graph: differentiate it again
    (w2,) = d2z2.graph.by_name("w")
    d3z2 = sg.grad(d2z2, w2)
    assert d3z2.order == 3
    assert d3z2.grad_call > max(n.grad_call or 0 for n in d2z2.graph.nodes if n is not d3z2
                                and n.order < 3)
    np.testing.assert_allclose(sg.evaluate(d3z2, {w2: 0.7}),
                               sg.evaluate(sg.grad(d2z, w), {w: 0.7}))


def test_saving_a_derivative_alone_keeps_what_it_is_the_derivative_of(graph, tmp_path):
    w = sg.var("w")
    inner = sg.sin(w)
    z = sg.sin(inner)
    dz = sg.grad(z, w)  # cos(sin(w))*cos(w): z itself is not an ancestor
    assert z not in sg.ancestors([dz])
    (dz2,), path = _roundtrip(dz, tmp_path)
    assert path.read_text().count('"op": "sin"') == 2
    (outer_cos,) = [n for n in dz2.graph.nodes if n.op == "cos" and n.inputs[0].op == "sin"]
    assert outer_cos.grad_of.op == "sin" and outer_cos.grad_of.inputs[0].op == "sin"
    assert float(sg.evaluate(dz2, {"w": 0.3})) == pytest.approx(np.cos(np.sin(0.3)) * np.cos(0.3))


def _mlp():
    x, y = sg.var("x", shape=(4, 3)), sg.var("y", shape=(4, 2))
    params, h = [], x
    for k, (n_in, n_out) in enumerate([(3, 5), (5, 2)], 1):
        with sg.name_scope(f"layer{k}"):
            W, b = sg.var(f"W{k}", shape=(n_in, n_out)), sg.var(f"b{k}", shape=(n_out,))
            h = h @ W + b
            if k == 1:
                h = sg.tanh(h)
        params += [W, b]
    with sg.name_scope("loss"), sg.name_scope("xent"):
        J = -sg.mean(sg.sum(y * sg.log_softmax(h), axis=-1)) + 1e-2 * sg.sum(sg.square(params[0]))
    return J, params


def test_mlp_roundtrip_keeps_scopes_and_values(graph, tmp_path, rng):
    J, params = _mlp()
    grads = sg.grad(J, params)
    loaded, _ = _roundtrip([J, *grads], tmp_path)
    feeds = {"x": rng.normal(size=(4, 3)), "y": np.eye(2)[[0, 1, 1, 0]]}
    feeds.update({p.name: rng.normal(size=p.shape) for p in params})
    for a, b in zip(sg.evaluate([J, *grads], feeds), sg.evaluate(loaded, feeds)):
        np.testing.assert_array_equal(a, b)
    scopes = {n.scope for n in loaded[0].graph.nodes}
    assert {"layer1", "layer2", "loss/xent"} <= scopes
    (W1,) = loaded[0].graph.by_name("W1")
    assert W1.scope == "layer1" and W1.shape == (3, 5)
    _same_structure([J, *grads], loaded)


def test_constants_of_every_kind(graph, tmp_path):
    x = sg.var("x", shape=(3,))
    special = sg.const(np.array([np.nan, np.inf, -np.inf]))
    big = sg.const(np.arange(300.0).reshape(3, 100))  # large constants are not interned
    named = sg.const(2.5, name="alpha")
    half = sg.const(np.float32(0.5))
    ints = sg.const(np.array([1, -2, 3], dtype=np.int8))
    mask = sg.const(np.array([True, False, True]))
    zeros = sg.zeros_like(x)  # a broadcast fill: zero strides, no memory
    out = [x * special, (x @ big).sum(), named * x, sg.cast(x, "float32") * half,
           x * ints, sg.where(mask, x, zeros), zeros]
    loaded, path = _roundtrip(out, tmp_path)
    feeds = {"x": [1.0, 2.0, 3.0]}
    for a, b in zip(sg.evaluate(out, feeds), sg.evaluate(loaded, feeds)):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    g2 = loaded[0].graph
    values = {n.name: n for n in g2.nodes if n.op == "const"}
    assert values["alpha"].attrs["value"][()] == 2.5
    fill = loaded[-1]
    assert fill.op == "const" and not any(fill.attrs["value"].strides)
    text = path.read_text()
    assert '"fill": 0.0' in text and '["nan", "inf", "-inf"]' in text
    json.loads(text, parse_constant=lambda t: pytest.fail(f"{t} written into the JSON"))


def test_indices_and_unknown_dimensions(graph, tmp_path, rng):
    m = sg.var("m", shape=(3, 4))
    v = sg.var("v", shape=(None,))
    out = [m[1:, None, ..., ::2], m[-1], (v * 2).sum(), sg.broadcast_to(sg.const(1.0), v),
           sg.grad((m[:, 0] * m[:, 1]).sum(), m), sg.reshape(m, (2, -1)).T]
    loaded, _ = _roundtrip(out, tmp_path)
    assert loaded[0].shape == (2, 1, 2) and loaded[3].shape == (None,)
    feeds = {"m": rng.normal(size=(3, 4)), "v": rng.normal(size=5)}
    for a, b in zip(sg.evaluate(out, feeds), sg.evaluate(loaded, feeds)):
        np.testing.assert_array_equal(a, b)
    assert [n.attrs["index"] for n in loaded[0].graph.nodes if n.op == "getitem"][0] == (
        ("slice", 1, None, None), None, ..., ("slice", None, None, 2))


def test_file_layout(graph, tmp_path):
    x = sg.var("x")
    y = sg.sin(x) + x
    path = tmp_path / "y.json"
    sg.save([y, x], path)
    doc = json.loads(path.read_text())
    assert (doc["format"], doc["version"], doc["outputs"]) == ("symgraph", 1, [2, 0])
    # fields holding their default value are left out
    assert doc["nodes"][0] == {"op": "var", "name": "x", "shape": [], "dtype": "float64"}
    assert doc["nodes"][1] == {"op": "sin", "inputs": [0], "shape": [], "dtype": "float64"}
    dy = sg.grad(y, x)
    sg.save(dy, path)
    doc = json.loads(path.read_text())
    derivative = doc["nodes"][doc["outputs"][0]]
    assert derivative["order"] == 1 and derivative["grad_call"] == dy.grad_call
    assert doc["nodes"][derivative["grad_of"]]["op"] == "var"
    assert len(path.read_text().splitlines()) == 3 + len(doc["nodes"]) + 1


def test_save_errors(graph, tmp_path):
    with pytest.raises(sg.SymgraphError, match="outputs"):
        sg.save(["not a node"], tmp_path / "a.json")
    with pytest.raises(sg.SymgraphError, match="cannot write"):
        sg.save(sg.var("x"), tmp_path / "no-such-folder" / "a.json")
    with pytest.raises(sg.SymgraphError, match="the path must be a str"):
        sg.save(sg.var("y"), None)
    with pytest.raises(sg.SymgraphError, match="the path must be a str"):
        sg.load(3)
    if np.dtype(np.longdouble).itemsize > 8:  # float128 on most Linux machines: no node
        with pytest.raises(sg.SymgraphError, match="float128 is not supported"):
            sg.var("z", dtype=np.longdouble)  # holds it, so no file can


# --- hostile and corrupt files ----------------------------------------------------------------


def _doc():
    """A valid document to corrupt: f = sigmoid(w*x + 1), its gradient in w."""
    with sg.Graph():
        w, x = sg.var("w"), sg.var("x")
        f = sg.sigmoid(w * x + 1)
        df = sg.grad(f, w)
        v = sg.var("v", shape=(3,))
        extra = [v[0], sg.const(np.array([1.0, 2.0, 3.0])) * v]
        path = os.path.join(tempfile.mkdtemp(), "doc.json")
        sg.save([f, df, *extra], path)
    with open(path) as fh:
        return json.load(fh)


DOC = _doc()
NODE = {op: i for i, op in reversed(list(enumerate(n["op"] for n in DOC["nodes"])))}


def _mutate(change):
    doc = json.loads(json.dumps(DOC))
    change(doc)
    return json.dumps(doc).encode()


def _set(path, value):
    def change(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return _mutate(change)


MUL, CONST, GETITEM = NODE["multiply"], NODE["const"], NODE["getitem"]
VAR_V = next(i for i, n in enumerate(DOC["nodes"]) if n.get("name") == "v")
ARRAY = next(i for i, n in enumerate(DOC["nodes"])
             if n["op"] == "const" and "data" in n["attrs"]["value"])
DERIV = next(i for i, n in enumerate(DOC["nodes"]) if n.get("grad_of") is not None)

CORRUPT = {
    "empty": (b"", "not valid JSON"),
    "text": (b"hello world", "not valid JSON"),
    "binary garbage 10 MB": (bytes(range(256)) * 40960, "not valid JSON"),
    "json garbage 10 MB": (b"[" + b"1," * 5_000_000 + b"1]", "not an object"),
    "deep nesting": (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
    "not utf-8": (b'{"format": "\xff\xfe"}', "not valid JSON"),
    "NaN token": (b'{"format": "symgraph", "version": 1, "nodes": [NaN], "outputs": [0]}',
                  "NaN is not a JSON number"),
    "huge float": (_set(["nodes", 0, "order"], "HUGE").replace(b'"HUGE"', b"1e999"),
                   "out of range"),
    "huge integer text": (b'{"format": "symgraph", "version": ' + b"1" * 5000 + b"}",
                          "not valid JSON"),
    "top-level list": (b"[1, 2]", "not an object"),
    "wrong format": (_set(["format"], "graphml"), "not a symgraph file"),
    "no format": (_mutate(lambda d: d.pop("format")), "not a symgraph file"),
    "future version": (_set(["version"], 2), "version 2 is not supported"),
    "version string": (_set(["version"], "1"), "version '1' is not supported"),
    "version bool": (_set(["version"], True), "version True is not supported"),
    "unknown top field": (_set(["exec"], "x"), "unknown top-level field 'exec'"),
    "nodes not a list": (_set(["nodes"], {"a": 1}), "\"nodes\" must be a non-empty array"),
    "no nodes": (_set(["nodes"], []), "\"nodes\" must be a non-empty array"),
    "no outputs": (_set(["outputs"], []), "\"outputs\" must be"),
    "output out of range": (_set(["outputs"], [10**6]), "not a node position"),
    "output bool": (_set(["outputs"], [True]), "not a node position"),
    "node not an object": (_set(["nodes", 1], [1, 2]), "node 1 is an array"),
    "missing field": (_mutate(lambda d: d["nodes"][0].pop("dtype")), "no field 'dtype'"),
    "missing shape": (_mutate(lambda d: d["nodes"][MUL].pop("shape")), "no field 'shape'"),
    "extra field": (_set(["nodes", 0, "code"], "import os"), "unknown field 'code'"),
    "unknown op": (_set(["nodes", MUL, "op"], "system"), "unknown op 'system'"),
    "op not a string": (_set(["nodes", MUL, "op"], ["multiply"]), "not a string"),
    "forward reference": (_set(["nodes", MUL, "inputs"], [0, MUL + 1]), "refers forward"),
    "self reference": (_set(["nodes", MUL, "inputs"], [MUL, 0]), "refers forward"),
    "negative input": (_set(["nodes", MUL, "inputs"], [0, -1]), "not a node position"),
    "float input": (_set(["nodes", MUL, "inputs"], [0, 1.0]), "not a node position"),
    "bool input": (_set(["nodes", MUL, "inputs"], [0, True]), "not a node position"),
    "too few inputs": (_set(["nodes", MUL, "inputs"], [0]), "node %d (multiply)" % MUL),
    "wrong stored shape": (_set(["nodes", MUL, "shape"], [3]), "the file says shape (3,)"),
    "wrong stored dtype": (_set(["nodes", MUL, "dtype"], "float32"), "dtype float32"),
    "object dtype": (_set(["nodes", 0, "dtype"], "object"), "\"dtype\" must be one of"),
    "dtype code": (_set(["nodes", 0, "dtype"], "<f8"), "\"dtype\" must be one of"),
    "huge shape": (_set(["nodes", VAR_V, "shape"], [2**40, 2**40]), "larger than"),
    "many dimensions": (_set(["nodes", VAR_V, "shape"], [1] * 100), "at most 32"),
    "negative dimension": (_set(["nodes", VAR_V, "shape"], [-3]), "dimension -3"),
    "var without name": (_set(["nodes", 0, "name"], None), "an input has a name"),
    "var with inputs": (_set(["nodes", 1, "inputs"], [0]), "an input has a name, no inputs"),
    "name on an op": (_set(["nodes", MUL, "name"], "y"), "only var and const nodes carry names"),
    "name not a string": (_set(["nodes", 0, "name"], 5), "\"name\" is a number"),
    "long name": (_set(["nodes", 0, "name"], "w" * 20_000), "longer than"),
    "10 MB string": (_set(["nodes", 0, "scope"], "s" * 10_000_000), "longer than"),
    "10 MB op name": (_set(["nodes", MUL, "op"], "m" * 10_000_000), "unknown op 'mmmm"),
    "const data too short": (_set(["nodes", ARRAY, "attrs", "value", "data"], [1.0]),
                             "must be an array of 3 numbers"),
    "const data string": (_set(["nodes", ARRAY, "attrs", "value", "data"], [1.0, "1", 2.0]),
                          "only strings allowed"),
    "const data nested": (_set(["nodes", ARRAY, "attrs", "value", "data"], [[1.0], 2.0, 3.0]),
                          "not a float64 value"),
    "const huge fill": (_set(["nodes", ARRAY, "attrs", "value"],
                             {"$": "array", "dtype": "float64", "shape": [10**9] * 3,
                              "fill": 0.0}), "larger than"),
    "const int overflow": (_set(["nodes", ARRAY, "attrs", "value"],
                                {"$": "array", "dtype": "int8", "shape": [3], "fill": 300}),
                           "out of range for int8"),
    "const no value": (_set(["nodes", CONST, "attrs"], {}), "one attribute, an array"),
    "const value not array": (_set(["nodes", CONST, "attrs"], {"value": 1.0}),
                              "one attribute, an array"),
    "array on an op": (_set(["nodes", MUL, "attrs"], {"value": DOC["nodes"][ARRAY]["attrs"]
                                                     ["value"]}), "only constants hold arrays"),
    "untagged object attr": (_set(["nodes", GETITEM, "attrs", "index"], {"a": 1}),
                             "not a tagged value"),
    "pickle-like tag": (_set(["nodes", GETITEM, "attrs", "index"],
                             {"$": "pickle", "value": "gASVAAAA"}), "not a tagged value"),
    "deep attr": (_set(["nodes", GETITEM, "attrs", "index"], json.loads("[" * 40 + "]" * 40)),
                  "nested more than"),
    "bad slice": (_set(["nodes", GETITEM, "attrs", "index"], [["slice", "a", None, None]]),
                  "slice bounds must be ints"),
    "index out of range": (_set(["nodes", GETITEM, "attrs", "index"], [7]), "does not fit"),
    "missing attr": (_set(["nodes", GETITEM, "attrs"], {}), "do not fit the op"),
    "unknown attr": (_set(["nodes", MUL, "attrs"], {"axis": 0}), "do not fit the op"),
    "too many inputs": (_set(["nodes", MUL, "inputs"], [0, 1, 1]), "do not fit the op"),
    "huge attr int": (_set(["nodes", GETITEM, "attrs", "index"], [2**70]), "out of range"),
    "grad_of forward": (_set(["nodes", DERIV, "grad_of"], DERIV), "an earlier node"),
    "negative order": (_set(["nodes", 0, "order"], -1), "\"order\" must be an integer"),
    "bool order": (_set(["nodes", 0, "order"], False), "\"order\" must be an integer"),
    "zero grad_call": (_set(["nodes", DERIV, "grad_call"], 0), "\"grad_call\" must be"),
    "bad scope": (_set(["nodes", 0, "scope"], "a//b"), "scope 'a//b'"),
}


@pytest.mark.parametrize("name", list(CORRUPT))
def test_corrupt_files_are_rejected(name, tmp_path):
    content, message = CORRUPT[name]
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with sg.Graph() as g:
        x = sg.var("x")
        before = len(g)
        with pytest.raises(sg.SymgraphError) as info:
            sg.load(path)
        assert len(g) == before and g.nodes[-1] is x  # nothing leaked into the caller's graph
    text = str(info.value)
    assert message in text
    assert text.startswith(f"sg.load: {path}: ") and "\n" not in text


def test_the_uncorrupted_document_loads(tmp_path):
    path = tmp_path / "good.json"
    path.write_text(json.dumps(DOC))
    f, df, v0, scaled = sg.load(path)
    assert float(sg.evaluate(df, {"w": 0.0, "x": 2.0})) == pytest.approx(
        2 * (1 / (1 + np.exp(-1))) * (1 - 1 / (1 + np.exp(-1))))
    assert sg.evaluate(scaled, {"v": [1.0, 1.0, 2.0]}).tolist() == [1.0, 2.0, 6.0]


def test_missing_and_oversized_files(tmp_path, monkeypatch):
    with pytest.raises(sg.SymgraphError, match="cannot read the file"):
        sg.load(tmp_path / "missing.json")
    path = tmp_path / "big.json"
    path.write_text(json.dumps(DOC))
    monkeypatch.setattr(checks, "MAX_FILE_BYTES", 100)
    with pytest.raises(sg.SymgraphError, match="larger than"):
        sg.load(path)


def test_unknown_user_op_then_declared(graph, tmp_path):
    name = "export_test_cube"
    cube = sg.define_op(name, lambda x: x**3,
                        vjp=[lambda g, out: g * 3 * sg.square(out.inputs[0])])
    x = sg.var("x")
    path = tmp_path / "cube.json"
    sg.save(sg.grad(cube(x), x), path)
    doc = json.loads(path.read_text())
    doc["nodes"][1]["op"] = "export_test_undeclared"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(sg.SymgraphError, match="declare it with sg.define_op"):
        sg.load(bad)
    (d,) = sg.load(path)
    assert float(sg.evaluate(d, {"x": 2.0})) == 12.0


# --- layout (issue 13) --------------------------------------------------------------------


def test_io_and_the_cli_name_no_op_by_a_string():
    """io/ and cli.py compare op records (``node.opdef is VAR``) instead of op names; the
    file format still stores names (data), and the old module paths are gone."""
    import ast
    import importlib.util
    import pathlib

    root = pathlib.Path(sg.__file__).parent
    found = []
    for path in [*sorted((root / "io").glob("*.py")), root / "cli.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in sg.OPS:
                found.append(f"{path.name}:{node.lineno}: {node.value!r}")
    assert found == []
    assert importlib.util.find_spec("symgraph.export") is None
    assert importlib.util.find_spec("symgraph.loadcheck") is None

