"""The expression parser (symgraph/parse.py) and the ``symgraph`` command (symgraph/cli.py)."""

import json
import math
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import symgraph as sg
from symgraph import cli, parse
from symgraph.parse import ExpressionError, parse_expression

FEEDS = {"x": 0.7, "y": -1.3, "z": 2.5}


def value_of(text: str, feeds: dict = FEEDS) -> float:
    names: dict = {}
    with sg.Graph():
        node = parse_expression(text, names)
        return float(sg.evaluate(node, {k: v for k, v in feeds.items() if k in names}))


# --- the parser: good expressions ---------------------------------------------------------

x, y, z = FEEDS["x"], FEEDS["y"], FEEDS["z"]
GOOD = [
    ("x + y*z", x + y * z),
    ("x - y - z", x - y - z),  # left to right
    ("x / y / z", x / y / z),
    ("-x**2", -(x**2)),  # ** binds tighter than unary minus, as in Python
    ("2**-1", 0.5),
    ("x**y**2", x ** (y**2)),  # right to left
    ("+x", x),
    ("(x + y) * -3", (x + y) * -3),
    ("1e-3 * x + 1_000 + 0x10", 1e-3 * x + 1016),
    ("sigmoid(w0*x0 + w1*x1 + w2)", 1 / (1 + math.exp(-(2 * -1 + -3 * -2 - 3)))),
    ("exp(x) + log(z) + sin(x) * cos(y) - tan(x)",
     math.exp(x) + math.log(z) + math.sin(x) * math.cos(y) - math.tan(x)),
    ("tanh(y) + relu(y) + relu(x) + softplus(y)", math.tanh(y) + x + math.log1p(math.exp(y))),
    ("sqrt(z) * abs(y) + square(y)", math.sqrt(z) * abs(y) + y * y),
    ("maximum(x, y) - minimum(x, y)", x - y),
    ("log1p(x) + expm1(y) + power(z, x)", math.log1p(x) + math.expm1(y) + z**x),
]
NEURON = {"w0": 2.0, "w1": -3.0, "w2": -3.0, "x0": -1.0, "x1": -2.0}


@pytest.mark.parametrize("text, expected", GOOD, ids=[t for t, _ in GOOD])
def test_good_expressions_evaluate_to_the_right_number(text, expected):
    assert value_of(text, {**FEEDS, **NEURON}) == pytest.approx(expected, rel=1e-12)


def test_names_become_scalar_vars_and_given_nodes_are_used(graph):
    names = {"x": sg.var("x", shape=(2,))}
    f = parse_expression("x * y + y", names)
    assert sorted(names) == ["x", "y"] and names["y"].op == "var" and names["y"].shape == ()
    assert f.shape == (2,)
    assert sg.evaluate(f, {"x": [1.0, 2.0], "y": 3.0}).tolist() == [6.0, 9.0]
    # the same name is the same node: the derivative of y*y is 2y, not y
    assert float(sg.evaluate(sg.grad(parse_expression("y*y", names), names["y"]),
                             {"y": 3.0})) == 6.0


def test_huge_powers_are_graph_nodes_not_computed(graph):
    start = time.perf_counter()
    f = parse_expression("10**10**10")
    assert time.perf_counter() - start < 0.5
    assert f.op == "power" and f.inputs[1].op == "power"  # nothing was folded
    assert str(f) == "10**10**10"


def test_a_long_sum_is_built_without_recursion(graph):
    names: dict = {}
    f = parse_expression(" + ".join(f"a{i}*b" for i in range(400)), names)
    assert len(names) == 401
    db = sg.evaluate(sg.grad(f, names["b"]), {n: float(n[1:] or 0) for n in names})
    assert float(db) == sum(range(400))


# --- the parser: hostile input ------------------------------------------------------------

HOSTILE = [
    ("__import__('os')", "'__import__'"),
    ("x.__class__", "attribute access is not allowed ('x.__class__')"),
    ("(lambda: 1)()", "(lambda: 1)()"),
    ("x[0]", "indexing is not allowed ('x[0]')"),
    ('"a"', "a string"),
    ('open("f")', "unknown function 'open'"),
    ("(" * 10_000 + "x" + ")" * 10_000, "characters"),
    ("x" * 10 * 1024 * 1024, "10485760 characters"),
    ("1e999", "'1e999' is too large"),
    ("f(x=1)", "unknown function 'f'"),
    ("sin(x=1)", "sin() takes no keyword arguments"),
    ("exp(" * 120 + "x" + ")" * 120, "nested more than 100 deep"),
    ("-" * 5000 + "x", "5000 operators"),
    ("x" + "**x" * 2000, "2000 operators"),
    ("9" * 150, "more than 100 digits"),
    ("[v for v in x]", "a comprehension is not allowed"),
    ("x if y else z", "if/else"),
    ("x == y", "a comparison"),
    ("x and y", "and/or"),
    ("(x, y)", "a tuple"),
    ("sin(*x)", "*unpacking is not allowed ('*x')"),
    ("x @ y", "column 3: the operator '@'"),
    ("x // y", "column 3: the operator '//'"),
    ("~x", "the operator '~'"),
    ("1j", "a complex number ('1j')"),
    ("True", "'True' is not allowed"),
    ("sin", "'sin' is a function"),
    ("sin(x, y)", "sin() takes 1 argument, got 2"),
    ("maximum(x)", "maximum() takes 2 arguments, got 1"),
    ("sin(x)(y)", "only plain function names can be called ('sin(x)(y)')"),
    ("import os", "column 1: invalid syntax at 'import os'"),
    ("x +* y", "column 4: invalid syntax at '* y'"),
    ("x +", "column 4: invalid syntax at the end"),
    ("sin(x", "column 4: invalid syntax ('(' was never closed) at '(x'"),
    ("x; y", "invalid syntax"),
    ("y := 1", "invalid syntax"),
    ("x\0", "null"),
    ("f'{x}'", "an f-string"),
    ("x + y.z", "column 5: attribute access is not allowed ('y.z')"),
    ("é + 1", "'é'"),
    ("", "empty"),
    ("+".join(f"v{i}" for i in range(parse.MAX_NAMES + 1)), "different variables"),
]


@pytest.mark.parametrize("text, part", HOSTILE, ids=[t[:20] for t, _ in HOSTILE])
def test_hostile_input_is_rejected_quickly_naming_the_part(text, part):
    start = time.perf_counter()
    with sg.Graph() as g, pytest.raises(sg.SymgraphError) as info:
        parse_expression(text)
    assert time.perf_counter() - start < 0.5
    assert isinstance(info.value, ExpressionError)
    assert part in str(info.value)
    assert len(g.nodes) == 0  # rejected before anything was built


def test_limits_are_checked_before_ast_parse(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("ast.parse must not see this input")

    monkeypatch.setattr(parse.ast, "parse", refuse)
    for text in ("(" * 200 + "x" + ")" * 200, "-" * 2000 + "x", "x" * 20_000):
        with pytest.raises(ExpressionError):
            parse_expression(text)


@pytest.mark.parametrize("error", [RecursionError, MemoryError])
def test_parser_exhaustion_becomes_an_expression_error(monkeypatch, error):
    def exhausted(*args, **kwargs):
        raise error()

    monkeypatch.setattr(parse.ast, "parse", exhausted)
    with pytest.raises(ExpressionError, match="nests too deeply"):
        parse_expression("x + 1")


# --- the command, in process --------------------------------------------------------------


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def values(out: str) -> dict[str, float]:
    """The ``label = number`` lines after ``at ...:``."""
    after = out.split("\nat ", 1)[1]
    return {m[1]: float(m[2]) for m in re.finditer(r"^  (.+?) = (\S+)$", after, re.M)}


def test_order_two_gives_the_analytic_second_derivatives(capsys):
    code, out, err = run(capsys, "diff", "x**3*y + sin(x*y)", "--wrt", "x,y", "--order", "2",
                         "--at", "x=0.7,y=-1.3")
    assert code == 0 and err == ""
    got = values(out)
    s, c = math.sin(x * y), math.cos(x * y)
    assert got["d^2f/dx^2"] == pytest.approx(6 * x * y - y * y * s, rel=1e-5)
    assert got["d^2f/dx dy"] == pytest.approx(3 * x * x + c - x * y * s, rel=1e-5)
    assert got["d^2f/dy dx"] == got["d^2f/dx dy"]
    assert got["d^2f/dy^2"] == pytest.approx(-x * x * s, rel=1e-5)
    assert got["f"] == pytest.approx(x**3 * y + s, rel=1e-5)


def test_higher_order_and_formulas(capsys):
    code, out, _ = run(capsys, "diff", "sin(x)", "--wrt", "x", "--order", "3", "--at", "x=0.5")
    assert code == 0
    assert "d^3f/dx^3 = " in out
    assert values(out)["d^3f/dx^3"] == pytest.approx(-math.cos(0.5), rel=1e-5)
    code, out, _ = run(capsys, "diff", "x*y", "--wrt", "x,y")
    assert code == 0 and out.splitlines() == ["f = x*y", "df/dx = y", "df/dy = x"]


def test_svg_is_written_with_values(capsys, tmp_path):
    path = tmp_path / "neuron.svg"
    code, out, err = run(capsys, "diff", "sigmoid(w0*x0 + w1*x1 + w2)", "--wrt", "w0",
                         "--at", "w0=2,w1=-3,w2=-3,x0=-1,x1=-2", "--svg", str(path))
    assert code == 0 and err == "" and f"wrote {path}" in out
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    texts = {t.text for t in root.iter() if t.tag.endswith("text")}
    assert "= 0.7311" in texts and "sigmoid(w0*x0 + w1*x1 + w2)" in texts and "df/dw0" in texts


def test_svg_to_a_missing_folder_is_refused_before_any_result(capsys, tmp_path):
    path = tmp_path / "no-such-folder" / "f.svg"
    code, out, err = run(capsys, "diff", "x*x", "--wrt", "x", "--at", "x=1", "--svg", str(path))
    assert code == 2 and out == "" and "does not exist" in err and len(err.splitlines()) == 1


def test_expression_from_a_file_and_from_stdin(capsys, tmp_path, monkeypatch):
    source = tmp_path / "f.txt"
    source.write_text("x**2\r\n  + y\n")  # one formula over two lines
    code, out, _ = run(capsys, "diff", f"@{source}", "--wrt", "x", "--at", "x=3,y=1")
    assert code == 0 and values(out)["df/dx"] == 6.0
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("exp(x)"))
    code, out, _ = run(capsys, "diff", "-", "--wrt", "x", "--at", "x=0")
    assert code == 0 and values(out)["df/dx"] == 1.0


BAD_COMMANDS = [
    (["diff", "x.y", "--wrt", "x"], "column 1: attribute access"),
    (["diff", "x*y", "--wrt", "z"], "--wrt names 'z', which is not in the expression"),
    (["diff", "x*y", "--wrt", "x", "--at", "x=1,y=two"], "the value of 'y', 'two'"),
    (["diff", "x*y", "--wrt", "x", "--at", "x=1"], "--at gives no value for 'y'"),
    (["diff", "x*y", "--wrt", "x", "--at", "x=1,y=2,q=3"], "--at names 'q'"),
    (["diff", "x", "--wrt", "x", "--at", "x"], "'x' is not NAME=VALUE"),
    (["diff", "x", "--wrt", "x,x"], "twice"),
    (["diff", "x", "--wrt", "x", "--order", "0"], "--order must be from 1"),
    (["diff", "x", "--wrt", "x", "--svg", "/nonexistent-dir/a.svg"], "a.svg"),
    (["diff", "x"], "required: --wrt"),
    (["frobnicate"], "invalid choice"),
    ([], "required: COMMAND"),
    (["diff", "@/nonexistent-file", "--wrt", "x"], "cannot read the expression"),
    (["diff", "x", "--wrt", "x", "--at", "x=[1,,2]"], "is not a number or a list of numbers"),
    (["diff", "x", "--wrt", "x", "--at", "x=[1,2]3"], "is not a number or a list of numbers"),
    (["diff", "x", "--wrt", "x", "--at", "x=[1,2,]"], "is not a number or a list of numbers"),
    (["diff", "x", "--wrt", "x", "--at", "x=[1 2]"], "is not a number or a list of numbers"),
    (["diff", "x", "--wrt", "x", "--at", "x=[1,two]"], "is not a number or a list of numbers"),
    (["diff", "x", "--wrt", "x", "--at", "x=[1,2"], "'[' is never closed"),
    (["diff", "x", "--wrt", "x", "--at", "x=1]"], "closes no '['"),
    (["diff", "x", "--wrt", "x", "--at", "x=[[1,2],[3]]"], "not a rectangular array"),
    (["diff", "x", "--wrt", "x", "--at", "x=" + "[" * 40 + "1" + "]" * 40], "nested more than"),
    (["diff", "x", "--wrt", "x", "--order", "6", "--at", "x=[" + ",".join(["1"] * 20) + "]"],
     "up to order 4 hold 3368400 numbers, more than 1000000"),
    (["diff", "x", "--wrt", "a,b,c,d,e1", "--order", "4"], "more than 512"),
]


@pytest.mark.parametrize("argv, part", BAD_COMMANDS,
                         ids=[" ".join(a)[:30] for a, _ in BAD_COMMANDS])
def test_errors_exit_2_with_one_line(capsys, argv, part):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("symgraph: error: ")
    assert part in err


def test_missing_dot_is_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no Graphviz here
    code, _, err = run(capsys, "diff", "x", "--wrt", "x", "--svg", str(tmp_path / "a.svg"))
    assert code == 2 and err.count("\n") == 1 and err.startswith("symgraph: error: ")
    assert "dot" in err.lower() or "graphviz" in err.lower()


def test_internal_errors_are_one_line_too(capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(sg, "grad", broken)
    code, _, err = run(capsys, "diff", "x", "--wrt", "x")
    assert code == 2 and err == "symgraph: error: internal error (ValueError: boom); please " \
                                "report it\n"


def test_a_missing_renderer_option_degrades_with_a_warning(capsys, monkeypatch, tmp_path):
    calls = []

    def old_to_svg(outputs, path=None, feeds=None):  # a renderer without max_nodes
        calls.append((path, feeds))
        return "<svg/>"

    monkeypatch.setattr(sg, "to_svg", old_to_svg)
    code, _, err = run(capsys, "diff", "x", "--wrt", "x", "--at", "x=1",
                       "--svg", str(tmp_path / "a.svg"))
    assert code == 0 and calls == [(str(tmp_path / "a.svg"), {"x": 1.0})]
    assert err.startswith("symgraph: warning: sg.to_svg has no 'max_nodes' option")


# --- issue 18: --version, demo --help, pi and e, vectors in --at, every order up to K -------


def arrays(out: str) -> dict[str, np.ndarray]:
    """The values after ``at ...:``, each ``label = number`` or a (multi-line) array."""
    after = out.split("\nat ", 1)[1].split("\n", 1)[1]
    blocks = re.findall(r"^  (\S.*?) = (.*?)(?=^  \S|\Z)", after, re.M | re.S)
    return {label: np.array(read_array(text)) for label, text in blocks}


def read_array(text: str):
    """A printed NumPy array read back as JSON ("1." becomes 1.0)."""
    return json.loads(re.sub(r"(\d)\.(?!\d)", r"\1.0", text.replace("\n", " ")))


def test_version_prints_the_package_version(capsys):
    code, out, err = run(capsys, "--version")
    assert (code, out, err) == (0, f"symgraph {sg.__version__}\n", "")


def test_demo_help_says_where_the_pictures_go(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "1000")  # no wrapping inside the path
    code, out, err = run(capsys, "demo", "--help")
    assert code == 0 and err == ""
    assert os.path.abspath("demo-output") in out and "--out DIR" in out
    assert "chain_fig6_10.svg" in out


def test_order_k_prints_every_order_up_to_k(capsys):
    code, out, err = run(capsys, "diff", "x**3", "--wrt", "x", "--order", "3", "--at", "x=2")
    assert code == 0 and err == ""
    assert [line.split(" = ")[0] for line in out.split("\nat ")[0].splitlines()] == [
        "f", "df/dx", "d^2f/dx^2", "d^3f/dx^3"]
    assert out.splitlines()[1] == "df/dx = 3*x**2"
    assert values(out) == {"f": 8.0, "df/dx": 12.0, "d^2f/dx^2": 12.0, "d^3f/dx^3": 6.0}
    code, out, _ = run(capsys, "diff", "x**2*y", "--wrt", "x,y", "--order", "2",
                       "--at", "x=3,y=5")
    assert values(out) == {"f": 45.0, "df/dx": 30.0, "df/dy": 9.0, "d^2f/dx^2": 10.0,
                           "d^2f/dx dy": 6.0, "d^2f/dy dx": 6.0, "d^2f/dy^2": 0.0}


def test_pi_and_e_are_constants(capsys):
    code, out, err = run(capsys, "diff", "sin(pi*x) + e**x", "--wrt", "x", "--order", "2",
                         "--at", "x=0.25")
    assert code == 0 and err == ""
    assert out.splitlines()[0] == "f = sin(pi*x) + e**x"
    got, p, s = values(out), math.pi, 0.25
    assert got["f"] == pytest.approx(math.sin(p * s) + math.exp(s), rel=1e-5)
    assert got["df/dx"] == pytest.approx(p * math.cos(p * s) + math.exp(s), rel=1e-5)
    assert got["d^2f/dx^2"] == pytest.approx(-p * p * math.sin(p * s) + math.exp(s), rel=1e-5)
    assert "at x=0.25:" in out  # pi and e need no value
    for argv in (["--wrt", "pi"], ["--wrt", "x", "--at", "x=1,e=2"]):
        code, _, err = run(capsys, "diff", "pi*x", *argv)
        assert code == 2 and "the constant" in err and err.count("\n") == 1


@pytest.mark.parametrize("argv", [
    ["-x**2", "--wrt", "x", "--at", "x=3"],            # argparse took it for an option
    ["--wrt", "x", "-x**2", "--at", "x=3"],
    ["--wrt", "x", "--at", "x=3", "--", "-x**2"],
    ["  -x**2 ", "--wrt", "x", "--at", "x=3"],         # blanks around: Python's indent
])
def test_an_expression_may_start_with_a_minus_or_a_blank(capsys, argv):
    code, out, err = run(capsys, "diff", *argv)
    assert code == 0 and err == ""
    assert out.splitlines()[:2] == ["f = -x**2", "df/dx = -2*x"]
    assert values(out) == {"f": -9.0, "df/dx": -6.0}


def test_an_unknown_option_is_still_refused(capsys):
    code, _, err = run(capsys, "diff", "x", "--wrt", "x", "--bogus")
    assert code == 2 and "unrecognized arguments: --bogus" in err and err.count("\n") == 1


def test_a_list_in_at_makes_a_vector_input(capsys):
    code, out, err = run(capsys, "diff", "x*x*y", "--wrt", "x,y", "--at", "x=[1, 2],y=3")
    assert code == 0 and err == ""
    got = arrays(out)
    assert got["f"].tolist() == [3.0, 12.0]
    assert got["df/dx"].tolist() == [[6.0, 0.0], [0.0, 12.0]]  # the Jacobian 2xy on its diagonal
    assert got["df/dy"].tolist() == [1.0, 4.0]
    assert "at x=[1., 2.], y=3:" in out


def test_second_derivative_of_a_vector_is_the_full_tensor(capsys):
    x0 = np.array([[0.5, 1.0], [-2.0, 3.0]])
    code, out, _ = run(capsys, "diff", "sin(x)", "--wrt", "x", "--order", "2",
                       "--at", "x=[[0.5, 1], [-2, 3]]")
    assert code == 0
    got = arrays(out)
    eye = np.eye(4).reshape(2, 2, 2, 2)
    np.testing.assert_allclose(got["df/dx"], np.cos(x0)[:, :, None, None] * eye, atol=1e-6)
    second = np.einsum("ij,ijkl,ijmn->ijklmn", -np.sin(x0), eye, eye)
    assert got["d^2f/dx^2"].shape == (2, 2, 2, 2, 2, 2)
    np.testing.assert_allclose(got["d^2f/dx^2"], second, atol=1e-6)
    assert not re.search(r"-0\.0*(?![0-9])", out)  # zeros off the diagonal print unsigned


# --- the command, as a program (each run costs an import: keep them few) ------------------


def program(*argv, cwd=None):
    return subprocess.run([sys.executable, "-m", "symgraph", *argv], capture_output=True,
                          text=True, timeout=120, cwd=cwd)


def test_program_diff_of_the_cs231n_neuron():
    result = program("diff", "sigmoid(w0*x0 + w1*x1 + w2)", "--wrt", "w0,w1,w2",
                     "--at", "w0=2,w1=-3,w2=-3,x0=-1,x1=-2")
    assert result.returncode == 0 and result.stderr == ""
    got = values(result.stdout)
    assert [round(got[f"df/dw{i}"], 4) for i in range(3)] == [-0.1966, -0.3932, 0.1966]
    assert round(got["f"], 4) == 0.7311


def test_program_bad_expression_exits_2_with_one_line():
    result = program("diff", "__import__('os').system('echo hi')", "--wrt", "x")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("symgraph: error: column 1:")
    assert "Traceback" not in result.stderr


def test_program_demo_writes_three_svgs(tmp_path):
    result = program("demo", "--out", str(tmp_path / "pictures"))
    assert result.returncode == 0, result.stderr
    paths = re.findall(r"^wrote (\S+\.svg)", result.stdout, re.M)
    assert len(paths) == 3
    for p in paths:
        assert os.path.dirname(p) == str(tmp_path / "pictures")
        assert ET.parse(p).getroot().tag.endswith("svg")
    neuron = open(next(p for p in paths if "neuron" in p)).read()
    assert "grad &#45;0.1966" in neuron  # values and gradients drawn on the nodes


def test_derivatives_print_in_their_tidier_form_with_the_exact_values(capsys):
    # f'' of x*sin(x) as grad builds it reads t1 - x*sin(x) + t1 (t1 = cos(x)); the
    # default simplify (every value kept) collects it; x**3's 3*x**2 stays as grad built it
    code, out, err = run(capsys, "diff", "x*sin(x)", "--wrt", "x", "--order", "2", "--at",
                         "x=0.9")
    assert code == 0 and err == ""
    assert out.splitlines()[:3] == ["f = x*sin(x)", "df/dx = sin(x) + x*cos(x)",
                                    "d^2f/dx^2 = 2*cos(x) - x*sin(x)"]
    assert values(out)["d^2f/dx^2"] == pytest.approx(2 * math.cos(0.9) - 0.9 * math.sin(0.9),
                                                     rel=1e-5)
    code, out, _ = run(capsys, "diff", "x**3", "--wrt", "x")
    assert out.splitlines() == ["f = x**3", "df/dx = 3*x**2"]
    code, out, _ = run(capsys, "diff", "x*x*x", "--wrt", "x")  # f printed as typed
    assert out.splitlines() == ["f = x*x*x", "df/dx = 3*square(x)"]


def test_reductions_make_a_scalar_of_a_vector_input(capsys):
    code, out, err = run(capsys, "diff", "sum(x*x) + max(x) + min(x) + mean(x)*prod(x)",
                         "--wrt", "x", "--at", "x=[1, 2, 3]")
    assert code == 0 and err == ""
    got = arrays(out)
    assert got["f"] == pytest.approx(14 + 3 + 1 + 2 * 6)
    # 2x, the max's and the min's indicator, prod/3 + mean*prod/x
    want = 2 * np.array([1, 2, 3]) + [0, 0, 1] + [1, 0, 0] + 6 / 3 + 2 * 6 / np.array([1, 2, 3])
    np.testing.assert_allclose(got["df/dx"], want)
    code, _, err = run(capsys, "diff", "max(x, y)", "--wrt", "x")
    assert code == 2 and "max() takes 1 argument, got 2" in err


def test_at_and_wrt_given_twice_both_count(capsys):
    """--at x=1 --at x=2 printed the derivative at x=2 (argparse keeps the last), and
    --at x=1 --at y=2 dropped x silently; repeated options now add up."""
    code, out, err = run(capsys, "diff", "x*y", "--wrt", "x", "--wrt", "y", "--at", "x=3",
                         "--at", "y=2")
    assert code == 0, err
    assert values(out) == {"f": 6.0, "df/dx": 2.0, "df/dy": 3.0}
    for argv, part in ((["--at", "x=1", "--at", "x=2"], "--at gives 'x' twice"),
                       (["--wrt", "x"], "--wrt names a variable twice")):
        code, _, err = run(capsys, "diff", "x", "--wrt", "x", *argv)
        assert code == 2 and err.count("\n") == 1 and part in err, err


def test_inf_and_nan_read_as_the_constants_formulas_print(capsys):
    """A formula prints an infinite constant as inf (str(sg.const(np.inf))): the command
    reads it back as that number, not as a variable it would ask a value for."""
    code, out, err = run(capsys, "diff", "x*inf + nan*0", "--wrt", "x", "--at", "x=2")
    assert code == 0 and err == ""
    got = values(out)
    assert math.isnan(got["f"]) and got["df/dx"] == math.inf
    code, _, err = run(capsys, "diff", "x", "--wrt", "nan")
    assert code == 2 and "the constant nan" in err
