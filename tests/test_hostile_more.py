"""More hostile input: each test failed before its fix (see the commit that added it).

Bad calls raise ``sg.SymgraphError`` naming the node or input and saying what to do, give
no silently wrong number, and leave the graph as it was.
"""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg


def _available(backend: str) -> bool:
    return sg.backends().get(backend, False)


# --- a node fed twice, by node and by name -----------------------------------------------------


@pytest.mark.parametrize("call", ["evaluate", "check_grad", "to_dot"])
def test_an_input_fed_both_by_node_and_by_name_is_refused(call):
    """{x: 1.0, "x": 2.0} silently used whichever came last."""
    with sg.Graph() as g:
        x = sg.var("x")
        y = sg.sin(x) * x
        before = len(g)
        run = {"evaluate": lambda f: sg.evaluate(y, f),
               "check_grad": lambda f: sg.check_grad(y, x, f),
               "to_dot": lambda f: sg.to_dot(y, feeds=f)}[call]
        with pytest.raises(sg.SymgraphError, match=r"'x'.*fed twice"):
            run({x: 1.0, "x": 2.0})
        assert len(g) == before
        run({x: 1.0})  # one feed is fine


# --- compiled functions called by keyword, on every backend ---------------------------------

BACKENDS = ["python", "numpy", "numba", "jax", "dask"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_backend_takes_inputs_by_name_and_refuses_bad_keywords(backend):
    """jax and dask raised a bare TypeError for any keyword (the others take names)."""
    if not _available(backend):
        pytest.skip(f"{backend} is not installed")
    with sg.Graph():
        x, v = sg.var("x"), sg.var("v", shape=(3,))
        f = sg.compile(sg.sin(x) * sg.sum(v), [x, v], backend=backend)
        want = np.sin(1.0) * 3.0
        assert float(np.asarray(f(v=np.ones(3), x=1.0))) == pytest.approx(want)
        assert float(np.asarray(f(1.0, v=np.ones(3)))) == pytest.approx(want)
        for kwargs, needle in (({"z": 1.0}, "'z'"), ({"x": 2.0}, "twice")):
            with pytest.raises(sg.SymgraphError, match=needle):
                f(1.0, np.ones(3), **kwargs)
        with pytest.raises(sg.SymgraphError, match="'v'"):
            f(x=1.0)


# --- directions of jvp/hvp/vjp that are not numbers ---------------------------------------------

NOT_NUMBERS = [("str", "1.5"), ("None-inside", [1.0, None]),
               ("object", np.array([1.0, None], dtype=object)),
               ("datetime", np.array(["2020-01-01", "2020-01-02"], dtype="datetime64[D]"))]


@pytest.mark.parametrize("label,direction", NOT_NUMBERS, ids=[n[0] for n in NOT_NUMBERS])
@pytest.mark.parametrize("who", ["jvp", "hvp", "vjp"])
def test_a_direction_that_is_not_numbers_is_refused(who, label, direction):
    """np.asarray(v, dtype=float64) parsed "1.5" and turned None into nan: a silent nan
    (or a number read from a string) in the derivative."""
    if label == "str":
        direction = ["1.5", "2"]
    with sg.Graph() as g:
        v = sg.var("v", shape=(2,))
        y = sg.sum(sg.sin(v))
        before = len(g)
        call = {"jvp": lambda: sg.jvp(y, v, direction), "hvp": lambda: sg.hvp(y, v, direction),
                "vjp": lambda: sg.vjp(sg.sin(v), v, direction)}[who]
        if who == "vjp":
            before += 1  # sg.sin(v) is interned
        with pytest.raises(sg.SymgraphError, match=r"direction for '?(v|sin\(v\))'?"):
            call()
        assert len(g) <= before
        assert sg.jvp(y, v, [1, True]).shape == ()  # ints and bools are numbers


# --- values that fail only when dask computes them ---------------------------------------------


def _broken_forward(a):
    raise RuntimeError("a bug in a user's forward")


_DEFINED: dict = {}


def _broken_op():
    if not _DEFINED:
        _DEFINED["op"] = sg.define_op("hostile_more_broken_forward", _broken_forward,
                                       elementwise=True)
    return _DEFINED["op"]


def test_a_dask_task_that_fails_names_its_node():
    """A singular matrix, an index out of range or a user's forward that raises gave a
    bare LinAlgError/IndexError/RuntimeError from inside dask's compute."""
    if not _available("dask"):
        pytest.skip("dask is not installed")
    import dask
    with sg.Graph():
        M = sg.var("M", shape=(2, 2))
        v = sg.var("v", shape=(4,))
        idx = sg.var("idx", shape=(2,), dtype="int64")
        cases = [(sg.linalg.inv(M), [M], [np.zeros((2, 2))], "inv"),
                 (v[idx], [v, idx], [np.ones(4), [0, 9]], "gather"),
                 (sg.grad(sg.sum(v[idx]), v), [v, idx], [np.ones(4), [0, 9]], "add_at"),
                 (_broken_op()(v), [v], [np.ones(4)], "hostile_more_broken_forward")]
        for out, inputs, args, op in cases:
            lazy = sg.compile(out, inputs, backend="dask")(*args)  # nothing computed yet
            with pytest.raises(sg.SymgraphError, match=rf"computing .*op '{op}'"):
                dask.compute(lazy)
        assert np.asarray(sg.compile(v[idx], [v, idx], backend="dask")(
            np.arange(4.0), [3, -1])).tolist() == [3.0, 3.0]


# --- sg.define_op's arguments ------------------------------------------------------------------

BAD_DECLARATIONS = [
    ("shape-tuple", {"shape": (3,)}, "shape must be a function"),
    ("dtype-str", {"dtype": "float32"}, "dtype must be a function"),
    ("cases-str", {"cases": "abc"}, "cases"),
    ("cases-junk", {"cases": [1, 2]}, "cases"),
    ("impls-misspelt", {"impls": {"Jax": np.sin}}, "'Jax'"),
    ("impls-unknown", {"impls": {"tensorflow": np.sin}}, "'tensorflow'"),
]


@pytest.mark.parametrize("label,kwargs,needle", BAD_DECLARATIONS,
                         ids=[b[0] for b in BAD_DECLARATIONS])
def test_define_op_refuses_junk_when_declared(label, kwargs, needle):
    """These were accepted; the op then failed later with a bare TypeError ('tuple' object
    is not callable) or, for a misspelt backend, was refused at compile time as if it had
    brought no implementation."""
    name = f"hostile_more_decl_{label.replace('-', '_')}"
    with pytest.raises(sg.SymgraphError, match=needle) as info:
        sg.define_op(name, np.sin, **kwargs)
    assert name in str(info.value)
    assert name not in sg.OPS  # nothing registered: the name stays free


def test_a_user_op_called_with_no_inputs_says_so():
    """IndexError: tuple index out of range, from the default shape rule."""
    op = sg.define_op("hostile_more_no_inputs", np.sin)
    with sg.Graph() as g:
        with pytest.raises(sg.SymgraphError, match="hostile_more_no_inputs.*no inputs"):
            op()
        assert len(g) == 0


def _bad_rule_ops() -> dict:
    if "rules" not in _DEFINED:
        def declare(label, **rules):
            return sg.define_op(f"hostile_more_rule_{label}", np.sin, **rules)
        _DEFINED["rules"] = {
            "shape-raises": (declare("shape_raises", shape=lambda ins, a: 1 / 0),
                             "ZeroDivisionError"),
            "shape-str": (declare("shape_str", shape=lambda ins, a: "abc"), "'abc'"),
            "shape-negative": (declare("shape_negative", shape=lambda ins, a: (-3,)), "-3"),
            "shape-float": (declare("shape_float", shape=lambda ins, a: (2.5,)), "2.5"),
            "dtype-raises": (declare("dtype_raises", dtype=lambda ins, a: {}["x"]), "KeyError"),
            "dtype-nonsense": (declare("dtype_nonsense", dtype=lambda ins, a: "nonsense"),
                               "nonsense"),
            "dtype-object": (declare("dtype_object", dtype=lambda ins, a: object), "object"),
        }
    return _DEFINED["rules"]


RULE_LABELS = ["shape-raises", "shape-str", "shape-negative", "shape-float", "dtype-raises",
               "dtype-nonsense", "dtype-object"]


@pytest.mark.parametrize("label", RULE_LABELS)
def test_a_user_rule_that_fails_or_answers_junk_names_the_op(label):
    """A rule that raised escaped as a bare ZeroDivisionError/KeyError; a junk answer made
    a node of shape 'abc' or (-3,), or of dtype object, that failed far from its cause."""
    op, needle = _bad_rule_ops()[label]
    with sg.Graph() as g:
        v = sg.var("v", shape=(3,))
        with pytest.raises(sg.SymgraphError, match=needle) as info:
            op(v)
        assert op.__name__ in str(info.value) and "rule" in str(info.value)
        assert len(g) == 1


def test_a_good_user_shape_rule_still_works():
    op = _DEFINED.get("good") or _DEFINED.setdefault("good", sg.define_op(
        "hostile_more_rule_good", lambda a: a.sum(axis=0),
        shape=lambda ins, attrs: [ins[0].shape[1]], dtype=lambda ins, attrs: "float32"))
    with sg.Graph():
        M = sg.var("M", shape=(2, 3))
        y = op(M)
        assert y.shape == (3,) and y.dtype == np.float32
        assert sg.evaluate(y, {M: np.ones((2, 3))}).tolist() == [2.0, 2.0, 2.0]


# --- what a user's forward returns --------------------------------------------------------------


def _forward_ops() -> dict:
    if "forwards" not in _DEFINED:
        def declare(label, forward):
            return sg.define_op(f"hostile_more_forward_{label}", forward, elementwise=True)
        _DEFINED["forwards"] = {
            "str": declare("str", lambda a: np.array(["a"] * a.size)),
            "int": declare("int", lambda a: np.ones(a.shape, dtype=np.int64)),
            "float32": declare("float32", lambda a: (a / 3).astype(np.float32)),
            "list": declare("list", lambda a: [1.0] * a.size),
            "wrong-shape": declare("wrong_shape", lambda a: np.ones(5)),
        }
    return _DEFINED["forwards"]


@pytest.mark.parametrize("backend", ["numpy", "python", "dask"])
def test_a_user_forward_result_is_checked_against_the_declared_dtype(backend):
    """A forward returning strings passed them on (evaluate returned a '<U1' array for a
    float64 node); one returning int64 or float32 for a float64 node gave an array of that
    dtype, so the value's dtype disagreed with node.dtype."""
    if not _available(backend):
        pytest.skip(f"{backend} is not installed")
    ops = _forward_ops()
    with sg.Graph():
        v = sg.var("v", shape=(3,))
        run = lambda op: np.asarray(sg.compile(op(v), [v], backend=backend)(np.ones(3)))
        with pytest.raises(sg.SymgraphError, match="hostile_more_forward_str.*dtype <U1"):
            run(ops["str"])
        for label in ("int", "float32", "list"):  # of a kind that converts: converted
            got = run(ops[label])
            assert got.dtype == np.float64 and got.shape == (3,)
        np.testing.assert_allclose(run(ops["float32"]), np.float32(1 / 3))
        with pytest.raises(sg.SymgraphError, match=r"hostile_more_forward_wrong_shape.*\(5,\)"):
            run(ops["wrong-shape"])


# --- loops and branches whose build fails -------------------------------------------------------

LOOPS = {
    "scan-not-a-pair": lambda e: sg.scan(lambda c, a: c, e.x, e.xs),
    "scan-carry-shape": lambda e: sg.scan(lambda c, a: (c + a, a), e.x, e.xs),
    "scan-carry-count": lambda e: sg.scan(lambda c, a: ((c[0], c[1], c[0]), a), (e.x, e.x), e.xs),
    "scan-raises": lambda e: sg.scan(lambda c, a: (c / 0 + [][0], a), e.x, e.xs),
    "scan-arity": lambda e: sg.scan(lambda c: (c, c), e.x, e.xs),
    "scan-y-str": lambda e: sg.scan(lambda c, a: (c * 2, "abc"), e.x, e.xs),
    "nested-scan-fails": lambda e: sg.scan(
        lambda c, a: (sg.scan(lambda c2, b: (c2 + b * a, b), c, a)[0], a), e.x, e.xs),
    "fori-carry-shape": lambda e: sg.fori_loop(0, 3, lambda i, c: c + e.v, e.x),
    "fori-body-None": lambda e: sg.fori_loop(0, 3, None, e.x),
    "fori-raises": lambda e: sg.fori_loop(0, 3, lambda i, c: {}["k"], e.x),
    # i is float64: past 2**53 every step read the same index (JAX x64 counts exactly)
    "fori-past-2**53": lambda e: sg.fori_loop(2**53, 2**53 + 4, lambda i, c: c + i, e.x),
    "while-carry-shape": lambda e: sg.while_loop(lambda c: c < 3, lambda c: c + e.v, e.x),
    "while-raises": lambda e: sg.while_loop(lambda c: c < 3, lambda c: 1 / 0, e.x),
    "cond-shapes": lambda e: sg.cond(e.p, lambda a: a, lambda a: a * e.v, e.x),
    "cond-dtypes": lambda e: sg.cond(e.p, lambda a: a, lambda a: sg.cast(a, "float32"), e.x),
    "cond-raises": lambda e: sg.cond(e.p, lambda a: a, lambda a: 1 / 0, e.x),
    "cond-arity": lambda e: sg.cond(e.p, lambda a, b: a, lambda a: a, e.x),
}


@pytest.mark.parametrize("label", sorted(LOOPS))
def test_a_loop_whose_build_fails_leaves_the_graph_as_it_was(label):
    """The body's placeholders and nodes live in the loop's graph: a failed build left
    them behind (2 to 7 nodes each time), and a body raising a non-symgraph error (a
    ZeroDivisionError, a TypeError for the wrong number of arguments) escaped bare."""
    from types import SimpleNamespace
    with sg.Graph() as g:
        e = SimpleNamespace(x=sg.var("x"), v=sg.var("v", shape=(3,)), xs=sg.var("xs", shape=(5, 3)),
                            p=sg.var("p", dtype="bool"))
        before = g.nodes
        with pytest.raises(sg.SymgraphError) as info:
            LOOPS[label](e)
        assert g.nodes == before, [str(n) for n in g.nodes[len(before):]]
        assert "sg." in str(info.value)
        # the graph still builds and runs loops, and their nodes carry the plain scope
        total, _ = sg.scan(lambda c, a: (c + sg.sum(a), a), e.x, e.xs)
        assert float(sg.evaluate(total, {e.x: 1.0, e.xs: np.ones((5, 3))})) == 16.0
        assert all(type(n.scope) is str for n in g.nodes)


def test_a_while_loop_test_must_be_boolean():
    """cond_fun returning a float scalar was taken as its truth value: while_loop(lambda c:
    c, ...) from c = 1.0 counting up never ended (JAX refuses it too)."""
    with sg.Graph() as g:
        x = sg.var("x")
        before = len(g)
        for test in (lambda c: c, lambda c: c * 0 + 1, lambda c: sg.cast(c, "int64")):
            with pytest.raises(sg.SymgraphError, match="boolean scalar.*float64|int64"):
                sg.while_loop(test, lambda c: c + 1, x)
            assert len(g) == before
        y = sg.while_loop(lambda c: c < 10, lambda c: c + 1, x)
        assert float(sg.evaluate(y, {x: 1.0})) == 10.0


# --- hand-edited files ---------------------------------------------------------------------------


@pytest.mark.parametrize("flag,value", [("reverse", "no"), ("reverse", 1), ("save", "false")])
def test_a_loop_flag_in_a_file_must_be_a_boolean(flag, value, tmp_path):
    """"reverse": "no" in a hand-edited file loaded as a true flag: the scan ran backwards,
    silently giving other numbers."""
    import json
    with sg.Graph():
        xs = sg.var("xs", shape=(3,))
        _, ys = sg.scan(lambda c, a: (c + a, c), sg.const(0.0), xs)
    path = tmp_path / "g.json"
    sg.save(ys, path)
    doc = json.loads(path.read_text())
    scan_node = next(n for n in doc["nodes"] if n["op"] == "scan")
    scan_node["attrs"][flag] = value
    path.write_text(json.dumps(doc))
    with pytest.raises(sg.SymgraphError, match=rf"sg.load.*{flag} must be true or false"):
        sg.load(path)


# --- axes and shapes of the wrong type -----------------------------------------------------------

AXIS_JUNK = [
    ("sum-axis-float", lambda M, v: sg.sum(M, axis=0.0), "axis 0.0"),
    ("mean-axis-float", lambda M, v: M.mean(axis=1.5), "axis 1.5"),
    ("max-axis-object", lambda M, v: sg.max(M, axis=object()), "axis"),
    ("concatenate-axis-float", lambda M, v: sg.concatenate([v, v], axis=0.0), "axis 0.0"),
    ("stack-axis-None", lambda M, v: sg.stack([v, v], axis=None), "axis None"),
    ("reshape-None", lambda M, v: M.reshape(None), "shape"),
]


@pytest.mark.parametrize("label,call,needle", AXIS_JUNK, ids=[a[0] for a in AXIS_JUNK])
def test_an_axis_or_shape_of_the_wrong_type_is_refused(label, call, needle):
    """TypeError: 'float' object is not iterable (normalize_axes ran tuple(axis)), 'cannot
    unpack non-iterable NoneType' (concatenate/stack), 'NoneType' object is not iterable
    (Node.reshape)."""
    with sg.Graph() as g:
        M, v = sg.var("M", shape=(2, 3)), sg.var("v", shape=(3,))
        before = len(g)
        with pytest.raises(sg.SymgraphError, match=needle):
            call(M, v)
        assert len(g) == before


def test_concatenate_with_axis_none_flattens_as_numpy_does():
    with sg.Graph():
        M, v = sg.var("M", shape=(2, 3)), sg.var("v", shape=(3,))
        y = sg.concatenate([M, v], axis=None)
        m, w = np.arange(6.0).reshape(2, 3), np.arange(3.0)
        np.testing.assert_array_equal(sg.evaluate(y, {M: m, v: w}),
                                      np.concatenate([m, w], axis=None))


@pytest.mark.parametrize("path", [987654, 2.5, b"x.svg", ["a.svg"]])
def test_to_svg_refuses_a_path_that_is_not_a_path(path, monkeypatch, tmp_path):
    """to_svg(y, path=3) opened file descriptor 3, wrote the SVG into whatever it was and
    closed it (under pytest: its capture's descriptor). With a descriptor that is not
    open, as here, a bare TypeError came from the error message's os.fspath."""
    import symgraph.display.dot as dot
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(dot, "_run_dot", lambda *a, **k: b"<svg/>")  # no Graphviz needed
    with sg.Graph():
        x = sg.var("x")
        with pytest.raises(sg.SymgraphError, match="sg.to_svg: path must be a str"):
            sg.to_svg(sg.sin(x), path=path)


# --- sg.const ---------------------------------------------------------------------------------

CONST_NOT_FITTING = [(1.5, "int64"), (np.array([1, 300]), "int8"), (-1, "uint8"),
                     (np.nan, "int64"), (2, "bool"), (1e39, "float32"), ([0.5, 2.0], "int32")]


@pytest.mark.parametrize("value,dtype", CONST_NOT_FITTING,
                         ids=[f"{d}-{i}" for i, (_, d) in enumerate(CONST_NOT_FITTING)])
def test_const_refuses_a_dtype_that_changes_its_values(value, dtype):
    """sg.const(1.5, dtype='int64') was 1 and np.array([1, 300]) as int8 was [1, 44]:
    silently other numbers."""
    with sg.Graph() as g:
        with pytest.raises(sg.SymgraphError, match=f"do not fit {dtype}"):
            sg.const(value, dtype=dtype)
        assert len(g) == 0


def test_const_converts_what_fits_and_checks_name_and_graph():
    with sg.Graph() as g:
        for value, dtype in ((2.0, "int64"), (0.1, "float32"), (np.inf, "float32"),
                             (np.nan, "float16"), (True, "int64"), (1.0, "bool"), (255, "uint8")):
            c = sg.const(value, dtype=dtype)
            assert c.dtype == np.dtype(dtype)
            np.testing.assert_array_equal(c.attrs["value"], np.asarray(value).astype(dtype))
        before = len(g)
        # name=3 made a node whose printing failed (AttributeError: 'int' has no
        # 'isprintable'); graph=3 raised AttributeError: 'int' object has no '_lookup'
        for kwargs in ({"name": 3}, {"graph": 3}, {"graph": "g"}):
            with pytest.raises(sg.SymgraphError, match="sg.const: name must be a str"):
                sg.const(1.0, **kwargs)
        assert len(g) == before


@pytest.mark.parametrize("fn", [lambda a: "abc", lambda a: 1 / 0, lambda a: 3,
                                lambda a: (sg.sum(a), None)],
                         ids=["str", "raises", "int", "None-inside"])
def test_a_vmap_whose_function_fails_leaves_the_graph_as_it_was(fn):
    """Each failed call left its 'vmap_entry' placeholder behind, and a function raising
    ZeroDivisionError (or returning an int: 'int' object is not iterable) escaped bare."""
    with sg.Graph() as g:
        M = sg.var("M", shape=(2, 3))
        before = g.nodes
        with pytest.raises(sg.SymgraphError, match="sg.vmap"):
            sg.vmap(fn)(M)
        assert g.nodes == before
        assert sg.evaluate(sg.vmap(sg.sum)(M), {M: np.ones((2, 3))}).tolist() == [3.0, 3.0]


def test_dask_chunks_of_zero_are_refused_naming_the_input():
    """chunks=0 raised a bare ZeroDivisionError from inside dask.array.from_array."""
    if not _available("dask"):
        pytest.skip("dask is not installed")
    with sg.Graph():
        v = sg.var("v", shape=(4,))
        for chunks in (0, {v: 0}, (0,)):
            f = sg.compile(sg.sum(v), [v], backend="dask", chunks=chunks)
            with pytest.raises(sg.SymgraphError, match=r"chunks=.*'v'"):
                f(np.ones(4))


def test_a_dask_task_of_a_user_op_pickles_and_keeps_its_name():
    """The result check of a user's forward first held the node itself: dask could not
    tokenize it (a new random name at every call) nor pickle it for dask.distributed."""
    if not _available("dask"):
        pytest.skip("dask is not installed")
    cloudpickle = pytest.importorskip("cloudpickle")
    ops = _forward_ops()
    with sg.Graph():
        v = sg.var("v", shape=(3,))
        f = sg.compile(ops["float32"](v), [v], backend="dask")
        first, again = f(np.ones(3)), f(np.ones(3))
        assert first.name == again.name
        cloudpickle.loads(cloudpickle.dumps(first)).compute()


# --- what Python does with a node ---------------------------------------------------------------


def test_a_node_cannot_be_emptied_and_copies_are_itself():
    """del node.name emptied the slot: the node then failed everywhere with AttributeError
    (printing, copying). copy/deepcopy of a node raised AttributeError, node[0] = 1 an
    AttributeError about __setitem__, pickle a PicklingError about a lambda, f"{node:.3f}"
    'Unknown format code', round(node) 'type Node doesn't define __round__'."""
    import copy
    import pickle
    with sg.Graph() as g:
        x, v = sg.var("x"), sg.var("v", shape=(3,))
        for attr in ("name", "shape", "inputs"):
            with pytest.raises(sg.SymgraphError, match=f"immutable.*delete '{attr}'"):
                delattr(x, attr)
        assert x.name == "x" and x.shape == ()
        with pytest.raises(sg.SymgraphError, match="immutable"):
            v[0] = 1.0
        assert copy.copy(x) is x and copy.deepcopy({"p": [x, v]})["p"][1] is v
        for call in (lambda: pickle.dumps(x), lambda: f"{x:.3f}", lambda: round(x),
                     lambda: round(x, 2), lambda: complex(x)):
            with pytest.raises(sg.SymgraphError, match="'x'"):
                call()
        for call in (lambda: pickle.dumps(g), lambda: copy.deepcopy(g)):
            with pytest.raises(sg.SymgraphError, match="sg.save"):
                call()
        assert f"{x}|{x!s:>3}" == "x|  x"


OPERATORS = [("~int", lambda x, i: ~i), ("&float", lambda x, i: (x > 0) & x),
             ("r|float", lambda x, i: 1.5 | (x > 0)), ("^int", lambda x, i: i ^ i),
             ("&number", lambda x, i: (x > 0) & 2), ("<<", lambda x, i: i << 1),
             ("r>>", lambda x, i: 8 >> i)]


@pytest.mark.parametrize("label,call", OPERATORS, ids=[o[0] for o in OPERATORS])
def test_python_operators_a_node_lacks_say_what_to_write(label, call):
    """TypeError: unsupported operand type(s) for //: 'Node' and 'int' (and alike)."""
    with sg.Graph() as g:
        x, i = sg.var("x"), sg.var("i", dtype="int64")
        with pytest.raises(sg.SymgraphError,
                           match=r"(symgraph nodes have no .*; mult|is logic on booleans)"):
            call(x, i)
        before = len(g)  # (the comparisons a call builds first are interned now)
        with pytest.raises(sg.SymgraphError):
            call(x, i)
        assert len(g) == before


def test_percent_is_numpys_mod():
    with sg.Graph():
        x, i = sg.var("x"), sg.var("i", shape=(3,), dtype="int64")
        ys = [x % 3, 7.5 % x, i % 2, np.arange(3) % (i + 1)]
        got = sg.evaluate(ys, {x: -4.5, i: [3, -5, 4]})
        want = [np.mod(-4.5, 3), np.mod(7.5, -4.5), np.mod([3, -5, 4], 2),
                np.mod(np.arange(3), np.array([4, -4, 5]))]
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)
        assert ys[2].dtype == np.int64


def test_and_or_xor_not_of_booleans_are_numpys_logic():
    """``& | ^ ~`` of boolean nodes (and Python or NumPy booleans) are NumPy's, which on
    booleans is logic: the masks a JAX user writes, ``where((x > 0) & (x < 1), ...)``."""
    with sg.Graph():
        x = sg.var("x", shape=(5,))
        X = np.array([-0.5, 0.5, 1.5, 0.0, np.nan])
        mask = np.array([True, False, True, False, True])
        ys = [(x > 0) & (x < 1), (x < 0) | (x > 1), (x > 0) ^ (x > 1), ~(x > 0),
              True & (x > 0), mask | (x > 1), sg.where((x > 0) & (x < 1), x, 0.0),
              np.logical_and(x, x > 0), sg.logical_not(x)]
        got = sg.evaluate(ys, {x: X})
        with np.errstate(invalid="ignore"):
            want = [(X > 0) & (X < 1), (X < 0) | (X > 1), (X > 0) ^ (X > 1), ~(X > 0),
                    True & (X > 0), mask | (X > 1), np.where((X > 0) & (X < 1), X, 0.0),
                    np.logical_and(X, X > 0), np.logical_not(X)]
        for a, b in zip(got, want):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
        assert str(ys[0]) == "logical_and(x > 0, x < 1)"


def test_floor_division_is_numpys_floor_divide():
    """``//`` and ``divmod`` are NumPy's: ``x == (x // y) * y + x % y``, integers stay
    integers, and ``1.0 // 0.1`` is 9.0 (``floor(1.0 / 0.1)`` would be 10.0)."""
    with sg.Graph():
        x, i = sg.var("x"), sg.var("i", shape=(4,), dtype="int64")
        q, r = divmod(x, 0.1)
        ys = [x // 3, 7.5 // x, q, r, i // 2, np.arange(4) // i, 2 // i, np.floor_divide(x, 2)]
        got = sg.evaluate(ys, {x: 1.0, i: [3, -5, 4, 0]})
        with np.errstate(divide="ignore"):
            want = [1.0 // 3, 7.5 // 1.0, 9.0, np.mod(1.0, 0.1), np.array([1, -3, 2, 0]),
                    np.array([0, -1, 0, 0]), np.array([0, -1, 0, 0]), 0.0]
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)
        assert float(got[2]) * 0.1 + float(got[3]) == 1.0
        assert ys[4].dtype == np.int64 and str(ys[0]) == "floor_divide(x, 3)"


def test_mod_slope_in_the_divisor_follows_floor_divide():
    """d(x % y)/dy is -(x // y), the slope of the branch whose value mod gives: at
    (1, 0.1 + 1e-9) mod is 1 - 9 y, so -9 (``-floor(x / y)`` said -10: 1 / y rounds to 10
    there). Checked by a one-sided difference inside that branch."""
    with sg.Graph():
        x, y = sg.var("x"), sg.var("y")
        r = x % y
        dx, dy = sg.evaluate(sg.grad(r, [x, y]), {x: 1.0, y: 0.1})
        h = 1e-9
        one_sided = (float(sg.evaluate(r, {x: 1.0, y: 0.1 + 2 * h}))
                     - float(sg.evaluate(r, {x: 1.0, y: 0.1 + h}))) / h
        assert float(dx) == 1.0 and float(dy) == -9.0
        assert abs(one_sided - -9.0) < 1e-5
        for name in ("x", "y"):  # piecewise constant: nothing flows through //
            wrt = {"x": x, "y": y}[name]
            assert float(sg.evaluate(sg.grad(x // y, wrt), {x: 1.0, y: 0.3})) == 0.0


# --- flags that must be booleans ---------------------------------------------------------------

FLAGS = [
    ("compile-trust_input", lambda y, x: sg.compile(y, [x], trust_input="no"), "trust_input"),
    ("compile-assume_finite", lambda y, x: sg.compile(y, [x], assume_finite="no"), "assume"),
    ("compile-python_scalars", lambda y, x: sg.compile(y, [x], python_scalars=[]), "python_sc"),
    ("numpy-trust_input", lambda y, x: sg.compile(y, [x], backend="numpy", trust_input=1.0),
     "trust_input"),
    ("simplify-assume_finite-list", lambda y, x: sg.simplify(y, assume_finite=[]), "assume"),
    ("simplify-assume_finite-str", lambda y, x: sg.simplify(y, assume_finite="no"), "assume"),
    ("simplify-trace", lambda y, x: sg.simplify(y, trace="yes"), "trace"),
    ("check_grad-seed", lambda y, x: sg.check_grad(y, x, {x: 1.0}, seed="a"), "seed"),
]


@pytest.mark.parametrize("label,call,needle", FLAGS, ids=[f[0] for f in FLAGS])
def test_a_flag_must_be_a_boolean(label, call, needle):
    """assume_finite="no" is true: it applied the unsafe algebra it was meant to refuse
    (x*0 -> 0 at inf); trust_input="no" skipped the argument checks; assume_finite=[]
    raised 'unhashable type: list', seed="a" a TypeError from NumPy."""
    with sg.Graph():
        x = sg.var("x")
        with pytest.raises(sg.SymgraphError, match=needle):
            call(x * 0 + 1, x)
        assert np.isnan(sg.compile(x * 0 + 1, [x], assume_finite=np.False_)(np.inf))


def test_a_masked_array_with_masked_entries_is_refused():
    """np.asarray drops the mask: sum(v * 2) of [1, --, 3] was 12, counting the hidden 2."""
    with sg.Graph():
        v = sg.var("v", shape=(3,))
        y = sg.sum(v * 2)
        masked = np.ma.masked_array([1.0, 2.0, 3.0], [0, 1, 0])
        runs = [lambda a: sg.evaluate(y, {v: a})] + [
            sg.compile(y, [v], backend=b) for b in BACKENDS if _available(b)]
        for run in runs:
            with pytest.raises(sg.SymgraphError, match="'v'.*masked"):
                run(masked)
            assert float(np.asarray(run(masked.filled(0.0)))) == 8.0
            assert float(np.asarray(run(np.ma.masked_array([1.0, 2.0, 3.0])))) == 12.0


@pytest.mark.parametrize("call", [
    lambda v: sg.sum(v, keepdims="no"), lambda v: sg.mean(v, 0, keepdims=None),
    lambda v: sg.std(v, keepdims="x"), lambda v: sg.argmax(v, keepdims="y"),
    lambda v: sg.logsumexp(v, keepdims=2), lambda v: sg.linalg.norm(v, keepdims="y"),
    lambda v: sg.linalg.svd(v, full_matrices="no"), lambda v: v.max(keepdims=[]),
])
def test_a_yes_no_option_that_is_not_a_bool_raises(call):
    """keepdims="no" is a true string: it silently meant yes (a (1, 1) result)."""
    with sg.Graph() as graph:
        v = sg.var("v", (2, 3))
        before = len(graph)
        with pytest.raises(sg.SymgraphError, match="must be True or False"):
            call(v)
        assert len(graph) == before
        assert sg.sum(v, keepdims=1).shape == (1, 1) and sg.argmax(v, 1, keepdims=0).shape == (2,)
