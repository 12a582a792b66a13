"""Hostile input and resource limits (issue 12): values that do not fit an input's dtype,
loaded files that ask for unbounded work or hold what the constructors refuse, and names
that would break the SVG, DOT, terminal or LaTeX text they are shown in.

Each test failed before its fix; the error cases raise ``sg.SymgraphError`` naming the
input or node and saying what to do.
"""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import symgraph as sg
from symgraph.display.formula import printable

# --- feeds that do not fit the input's dtype ---------------------------------------------------

NOT_FITTING = [  # (dtype of the input, value fed, the number the message must show)
    ("int64", np.uint64(2**64 - 1), "18446744073709551615"),
    ("int64", np.array([1, 2**63], dtype=np.uint64), "9223372036854775808"),
    ("int64", 2**64, "18446744073709551616"),
    ("int64", [1, 2**70], "1180591620717411303424"),
    ("int64", -(2**63) - 1, "-9223372036854775809"),
    ("int32", 2**31, "2147483648"),
    ("int8", np.array([-129, 0]), "-129"),
    ("uint8", -1, "-1"),
    ("uint8", np.array([3, 256], dtype=np.int16), "256"),
    ("uint64", np.int64(-5), "-5"),
    ("float32", 1e39, "1e+39"),
    ("float16", np.array([1.0, 70000.0]), "70000"),
    ("float16", 70000, "70000"),
]


@pytest.mark.parametrize("dtype,value,shown", NOT_FITTING,
                         ids=[f"{d}-{s}" for d, _, s in NOT_FITTING])
def test_a_value_that_does_not_fit_the_input_dtype_is_refused(dtype, value, shown):
    """It wrapped round silently: np.uint64(2**64 - 1) became -1 for an int64 input."""
    shape = np.shape(value)
    with sg.Graph():
        i = sg.var("counts", shape=shape, dtype=dtype)
        y = i * 1
        f = sg.compile(y, [i])
        for run in (lambda: sg.evaluate(y, {i: value}), lambda: f(value)):
            with pytest.raises(sg.SymgraphError, match="'counts'") as info:
                run()
            assert shown in str(info.value) and "does not fit" in str(info.value)


FITTING = [  # values of another dtype that fit: converted exactly, as before or newly
    ("int64", np.uint64(2**63 - 1)),
    ("int64", np.array([0, 7], dtype=np.uint64)),
    ("uint8", [0, 255]),  # Python ints (int64) into uint8 were refused by kind alone
    ("uint64", 2**64 - 1),
    ("int8", np.array([-128, 127], dtype=np.int64)),
    ("float32", 2.0**127),
    ("float32", [np.inf, -np.inf, np.nan]),  # not finite already: kept
    ("float16", np.array([1, 65504])),
    ("float64", np.uint64(2**64 - 1)),
]


@pytest.mark.parametrize("dtype,value", FITTING, ids=[f"{d}-{i}" for i, (d, _) in
                                                       enumerate(FITTING)])
def test_a_value_that_fits_is_converted_exactly(dtype, value):
    with sg.Graph():
        i = sg.var("i", shape=np.shape(value), dtype=dtype)
        got = sg.evaluate(i * 1, {i: value})
        f = sg.compile(i * 1, [i])
        want = np.asarray(value).astype(dtype)
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(f(value), want)
        assert np.array_equal(want.astype(np.float64), np.asarray(value, dtype=np.float64),
                              equal_nan=True)  # nothing wrapped or overflowed


def test_kinds_that_round_are_still_refused():
    with sg.Graph():
        i = sg.var("i", dtype="int64")
        with pytest.raises(sg.SymgraphError, match="'i'.*float64.*int64"):
            sg.evaluate(i * 1, {i: 1.0})
        with pytest.raises(sg.SymgraphError, match="'i'.*float64.*int64"):
            sg.evaluate(i * 1, {i: [2**63, -1][0] * 1.0})
        b = sg.var("b", dtype="bool")
        with pytest.raises(sg.SymgraphError, match="'b'"):
            sg.evaluate(b * 1, {b: 2})


# --- names that would break the text they are shown in --------------------------------------

NASTY = ["x\udc80", "a\x01b", "\x1b[2J", "nul\x00", "t\ufffe", "l\u2028s", "a&<b>\"'", "]]>",
         "back\\slash", "tab\tnew\nline\r", "\\input{x}"]


def _unprintable(text: str) -> list[str]:
    return [c for c in text if not c.isprintable() and c not in "\n"]


@pytest.mark.parametrize("name", NASTY, ids=[ascii(n) for n in NASTY])
def test_any_name_gives_svg_that_is_xml_and_text_without_control_characters(name):
    """A lone surrogate raised a bare UnicodeEncodeError; a control character made dot
    fail or wrote SVG that is not XML; terminals obeyed escape sequences in pprint."""
    with sg.Graph():
        x = sg.var(name)
        c = sg.const(2.0, name=name + "c")
        with sg.name_scope(name + "s"):
            y = sg.sin(x) * c
        for options in ({}, {"collapse": True}, {"feeds": {x: 0.5}, "grads_of": y}):
            svg = sg.to_svg(y, title=name + "t", **options)
            root = ET.fromstring(svg.encode("utf-8"))  # raises on what XML forbids
            text = " ".join(root.itertext())
            assert printable(name + "t") in text and printable(name + "s") in text
            assert printable(name) in text or options.get("collapse")  # x is in the box
        assert sg.to_dot(y).source.encode("utf-8")
        for view in (str(y), sg.pprint(y), sg.debugprint(y), sg.latex(y)):
            assert not _unprintable(view), ascii(view)


def test_latex_escapes_what_tex_would_obey():
    """``\\`` ``^`` ``~`` passed through: a name could run ``\\input{x}``."""
    with sg.Graph():
        assert sg.latex(sg.var("\\input{x}")) == r"\mathrm{\backslash{}input\{x\}}"
        assert sg.latex(sg.var("a^b~c")) == r"\mathrm{a\hat{}b\tilde{}c}"
        assert sg.latex(sg.var("x\x1b")) == r"\mathrm{x\backslash{}x1b}"
        assert sg.latex(sg.var("alpha_2") + sg.var("w1")) == r"\alpha_{2} + w_{1}"  # unchanged
        for name in NASTY:
            text = sg.latex(sg.sin(sg.var(name)) + sg.const(1.0, name=name))
            commands = set(re.findall(r"\\([A-Za-z]+)", text))
            assert commands <= {"mathrm", "backslash", "hat", "tilde", "sin", "left", "right"}
            unescaped = re.sub(r"\\[A-Za-z]+\{\}|\\[^A-Za-z]", "", text)
            assert "^" not in unescaped and "~" not in unescaped, text


def test_a_title_that_is_not_text_is_refused():
    with sg.Graph():
        x = sg.var("x")
        with pytest.raises(sg.SymgraphError, match="title"):
            sg.to_dot(x, title=3)


# --- sg.load: bounded work, and only what the constructors make ------------------------------

N = 2**24


def _file(tmp_path, nodes, outputs=None):
    doc = {"format": "symgraph", "version": 1, "nodes": nodes,
           "outputs": [len(nodes) - 1] if outputs is None else outputs}
    path = tmp_path / "g.json"
    path.write_text(json.dumps(doc))
    return path


def _var(name="x", shape=(), **extra):
    return {"op": "var", "name": name, "shape": list(shape), "dtype": "float64", **extra}


def _op(op, inputs, shape, attrs=None, **extra):
    return {"op": op, "inputs": inputs, "shape": list(shape), "dtype": "float64",
            "attrs": attrs or {}, **extra}


def _fill(shape):
    return {"op": "const", "shape": list(shape), "dtype": "float64",
            "attrs": {"value": {"$": "array", "dtype": "float64", "shape": list(shape),
                                "fill": 1.0}}}


SUM_ALL = {"axis": None, "keepdims": False}


def test_a_small_file_cannot_ask_evaluate_for_hours(tmp_path):
    """326 bytes declared a sum over a 2**24 x 2**24 fill (2**48 additions): it loaded, and
    evaluate ran for hours. Now load refuses, names the node and the keyword to raise."""
    path = _file(tmp_path, [_fill((N, N)), _op("sum", [0], (), SUM_ALL)])
    assert path.stat().st_size < 400
    start = time.perf_counter()
    with pytest.raises(sg.SymgraphError, match=r"node 0 \('ones\(16777216, 16777216\)'.*"
                       r"2\*\*48|max_elements") as info:
        sg.load(path)
    assert time.perf_counter() - start < 1.0
    assert f"sg.load(path, max_elements={N * N})" in str(info.value)
    # Trusting the size alone is not enough: the sum's 2**48 additions exceed max_work.
    with pytest.raises(sg.SymgraphError, match=r"node 1 \('sum\(ones.*max_work=68719476736"):
        sg.load(path, max_elements=N * N)
    (y,) = sg.load(path, max_elements=N * N, max_work=N * N)  # trusted: loads (not evaluated)
    assert y.op == "sum" and y.inputs[0].shape == (N, N)


@pytest.mark.parametrize("label,nodes", [
    ("broadcast_to", [_var(), _op("broadcast_to", [0], (N, N), {"shape": [N, N]}),
                      _op("sum", [1], (), SUM_ALL)]),
    ("declared input", [_var("x", (2**20, 2**20)), _op("sum", [0], (), SUM_ALL)]),
    ("scatter", [_var(), _op("scatter", [0], (N, N), {"index": [0, 0], "shape": [N, N]})]),
    ("expand and broadcast", [_var("x", (N,)), _op("expand_dims", [0], (1, N), {"axis": [0]}),
                              _op("broadcast_to", [1], (N, N), {"shape": [N, N]})]),
])
def test_no_node_may_exceed_max_elements(label, nodes, tmp_path):
    path = _file(tmp_path, nodes)
    with pytest.raises(sg.SymgraphError, match="max_elements=268435456"):
        sg.load(path)


def test_the_total_work_is_bounded_too(tmp_path):
    """Each node within max_elements, but 600 of them: 600 * 2**27 operations."""
    shape = (2**14, 2**13)
    nodes = [_fill(shape)] + [_op("sin", [i], shape) for i in range(600)]
    with pytest.raises(sg.SymgraphError, match=r"node 513 .*max_work=68719476736") as info:
        sg.load(_file(tmp_path, nodes))
    assert "if you trust this file" in str(info.value)
    assert len(sg.load(_file(tmp_path, nodes), max_work=2**37)[0].graph) == 601


def test_a_matrix_product_counts_its_multiply_adds(tmp_path):
    side = 2**14  # operands and result of 2**28 elements each: 2**42 multiply-adds
    nodes = [_var("a", (side, side)), _var("b", (side, side)),
             _op("matmul", [0, 1], (side, side))]
    with pytest.raises(sg.SymgraphError, match=r"node 2 .*4398046511104 element operations"):
        sg.load(_file(tmp_path, nodes))
    small = [_var("a", (64, 32)), _var("b", (32, 16)), _op("matmul", [0, 1], (64, 16))]
    (p,) = sg.load(_file(tmp_path, small))
    a, b = np.ones((64, 32)), np.full((32, 16), 0.5)
    np.testing.assert_array_equal(sg.evaluate(p, {"a": a, "b": b}), a @ b)


def test_unknown_dimensions_are_sized_by_the_feeds(tmp_path):
    nodes = [_var("x", (None, None)), _op("sum", [0], (), SUM_ALL)]
    (y,) = sg.load(_file(tmp_path, nodes))
    assert float(sg.evaluate(y, {"x": np.ones((30, 40))})) == 1200.0


@pytest.mark.parametrize("keyword,value", [("max_elements", 0), ("max_work", -1),
                                           ("max_elements", 2.5), ("max_work", True)])
def test_the_limits_must_be_positive_ints(keyword, value, tmp_path):
    with pytest.raises(sg.SymgraphError, match=keyword):
        sg.load(_file(tmp_path, [_var()]), **{keyword: value})


M = _var("m", (2, 3))
REFUSED = [  # (label, node 1 built on m (2, 3), a word of the message)
    ("transpose repeats an axis", _op("transpose", [0], (2, 2), {"axes": [0, 0]}), "permutation"),
    ("transpose too few axes", _op("transpose", [0], (3,), {"axes": [1]}), "permutation"),
    ("sum negative axis", _op("sum", [0], (2, 3), {"axis": [-1], "keepdims": False}), "sg.sum"),
    ("sum unsorted axes", _op("sum", [0], (), {"axis": [1, 0], "keepdims": False}), "sg.sum"),
    ("sum repeated axis", _op("sum", [0], (2,), {"axis": [1, 1], "keepdims": False}), "repeats"),
    ("mean keepdims not bool", _op("mean", [0], (1, 3), {"axis": [0], "keepdims": 2}), "sg.mean"),
    ("max axis out of range", _op("max", [0], (2, 3), {"axis": [5], "keepdims": False}),
     "out of range"),
    ("softmax axis out of range", _op("softmax", [0], (2, 3), {"axis": [7]}), "out of range"),
    ("expand_dims axis out of range", _op("expand_dims", [0], (2, 3, 1), {"axis": [9]}),
     "out of range"),
    ("expand_dims negative axis", _op("expand_dims", [0], (2, 3, 1), {"axis": [-1]}),
     "sg.expand_dims"),
    ("concatenate negative axis", _op("concatenate", [0, 0], (2, 6), {"axis": -1}),
     "sg.concatenate"),
    ("reshape two -1", _op("reshape", [0], (6,), {"shape": [-1, -1]}), "one -1"),
    ("reshape to itself", _op("reshape", [0], (2, 3), {"shape": [2, 3]}), "sg.reshape"),
    ("cast to itself", _op("cast", [0], (2, 3), {"dtype": "<f8"}), "sg.cast"),
    ("cast to complex", _op("cast", [0], (2, 3), {"dtype": "complex128"}), "complex128"),
    ("getitem unknown item", _op("getitem", [0], (3,), {"index": [["slices", 0, 1, None]]}),
     "sg.getitem"),
    ("scatter bad index", _op("scatter", [0], (2, 3), {"index": [[1, 2]], "shape": [2, 3]}),
     "index"),
    ("count axis out of range", _op("count", [0], (), {"axis": [3]}), "out of range"),
]


@pytest.mark.parametrize("label,node,needle", REFUSED, ids=[r[0] for r in REFUSED])
def test_load_refuses_what_the_public_constructors_refuse(label, node, needle, tmp_path):
    """make() trusts its caller: the file could hold transpose axes (0, 0), which loaded and
    gave a (2, 2) node of a (2, 3) input. Each op with attributes is rebuilt through its
    public constructor now."""
    with pytest.raises(sg.SymgraphError, match=r"node 1 \(" + node["op"]) as info:
        sg.load(_file(tmp_path, [M, node]))
    assert needle in str(info.value)


def test_an_input_of_derivative_order_3_is_refused(tmp_path):
    """sg.var makes inputs of order 0; only grad's placeholders (with a grad_call) differ."""
    with pytest.raises(sg.SymgraphError, match=r"node 0 \(var\): input 'x' has derivative "
                                               r"order 3"):
        sg.load(_file(tmp_path, [_var(order=3)]))
    (x,) = sg.load(_file(tmp_path, [_var(order=3, grad_call=2)]))
    assert x.order == 3


def test_graphs_symgraph_builds_still_load(tmp_path):
    """The checks refuse nothing symgraph makes: Jacobians and Hessians (vmap's batch rules
    shift axes and indices), a Hessian of a Hessian (its placeholder input has order 2),
    hvp, jvp, and every reduction and shape op."""
    with sg.Graph():
        x = sg.var("x", shape=(3,))
        m = sg.var("m", shape=(None, 3))
        y = sg.sum(sg.tanh(x) ** 3) + sg.logsumexp(x) + sg.max(x) * sg.mean(x[1:])
        h = sg.hessian(y, x)
        h3 = sg.jacobian(sg.reshape(h, (9,)), x)
        z = sg.sum(sg.softmax(sg.stack([x, x * 2], axis=1), axis=0)[:, ::-1].T @ x)
        w = sg.sum(sg.concatenate([m, m], axis=1) * sg.expand_dims(sg.sum(m, axis=1), 1))
        outs = [y, h, h3, sg.hvp(y, x, np.ones(3)), sg.jvp(z, x, np.ones(3)),
                sg.grad(z, x), sg.grad(w, m), sg.cast(x, "float32")]
        sg.save(outs, tmp_path / "g.json")
        loaded = sg.load(tmp_path / "g.json")
        feeds = {"x": [0.3, -0.2, 0.9], "m": np.arange(6.0).reshape(2, 3)}
        for a, b in zip(sg.evaluate(outs, feeds), sg.evaluate(loaded, feeds)):
            np.testing.assert_array_equal(a, b)
        assert any(n.op == "var" and n.order == 2 for n in loaded[2].graph.nodes)
