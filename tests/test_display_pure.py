"""symgraph.display (issue 13): drawing appends no node to the user's graph (gradients for
``grads_of`` come from a scratch copy, and equal ``sg.grad``'s), LaTeX is read from each
op's ``Op.latex`` template, and the display modules name no op by a string."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

import symgraph as sg
from symgraph.display import format_value

DISPLAY = Path(sg.__file__).parent / "display"


def shown(src: str, node: sg.Node) -> tuple[str | None, str | None]:
    """The value and gradient texts that the DOT source shows on ``node``."""
    label = re.search(rf"\tn{node.id} \[label=<(.*)", src).group(1)
    value = re.search(r'<font point-size="10">= ([^<]*)</font>', label)
    grad = re.search(r'<font point-size="10" color="[^"]+">grad ([^<]*)</font>', label)
    return value and value.group(1), grad and grad.group(1)


def check_pure_and_right(outputs, feeds, y, **options):
    """Draw with feeds and grads_of=y: the graph must not grow, and every float node below
    y must show the value of sg.grad(y, node) (taken after drawing, on the user's graph)."""
    outs = outputs if isinstance(outputs, list) else [outputs]
    g = outs[0].graph
    before = len(g)
    src = sg.to_dot(outputs, feeds, grads_of=y, **options).source
    assert len(g) == before
    drawn = {int(i) for i in re.findall(r"\tn(\d+) \[", src)}
    below = {n.id for n in sg.ancestors([y])}
    forward = [n for n in sg.ancestors(outs) if n.id in drawn & below and n.dtype.kind == "f"]
    assert forward
    expected = sg.evaluate(sg.grad(y, forward), feeds)
    for n, value in zip(forward, expected):
        assert shown(src, n)[1] == format_value(value), n
    return src


def test_grads_of_adds_no_node_and_shows_sg_grads_values():
    g = sg.Graph()
    with g:
        w, x = sg.var("w", shape=(3,)), sg.var("x", shape=(2,))
        y = sg.sigmoid(w[0] * x[0] + w[1] * x[1] + w[2])
    feeds = {w: [2, -3, -3], x: [-1, -2]}
    src = check_pure_and_right(y, feeds, y)
    # The CS231n numbers: dy/dw = sigmoid'(1) * [x0, x1, 1].
    assert shown(src, w) == ("[2, -3, -3]", "[-0.1966, -0.3932, 0.1966]")
    before = len(g)
    svg = sg.to_svg(y, feeds=feeds, grads_of=y)
    assert len(g) == before and re.search(r"grad \[0\.3932, (-|&#45;)0\.5898\]", svg)
    sg.to_dot(y, feeds=feeds)  # values only
    assert len(g) == before


def test_grads_of_a_derivative_gives_second_derivatives_without_growing_the_graph():
    with sg.Graph():
        x = sg.var("x")
        y = sg.sin(x) * x
        dy = sg.grad(y, x)
    src = check_pure_and_right(dy, {x: 0.5}, dy)
    # d/dx (cos x * x + sin x) = 2 cos x - x sin x
    assert shown(src, x)[1] == format_value(2 * np.cos(0.5) - 0.5 * np.sin(0.5))


def test_feeds_by_name_fed_intermediates_constants_and_user_ops():
    cube = sg.define_op("pure_cube", lambda v: v ** 3,
                        vjp=[lambda g, out: g * 3 * sg.square(out.inputs[0])])
    big = np.linspace(-1.0, 1.0, 300)  # large constants are not interned: copied as they are
    with sg.Graph():
        x = sg.var("x", shape=(300,))
        h = sg.tanh(x * big)
        scale = sg.const(2.5, name="scale")
        y = sg.sum(cube(h) * scale) + sg.mean(x[::3])
    xs = np.linspace(0.1, 0.9, 300)
    check_pure_and_right(y, {"x": xs}, y)
    check_pure_and_right(y, {x: xs, h: np.full(300, 0.25)}, y)  # h's value fed, not computed


def test_grads_of_a_node_outside_the_drawing_and_a_capped_picture():
    with sg.Graph():
        a, b = sg.var("a"), sg.var("b")
        z = sg.exp(a) * b
        loss = sg.square(z - 1.0) + b  # not an output: only the nodes it shares are annotated
        chain = sg.sin(z)
        for _ in range(30):
            chain = sg.sin(chain)
    check_pure_and_right([z, chain], {a: 0.3, b: -0.7}, loss)
    check_pure_and_right(chain, {a: 0.3, b: -0.7}, chain, max_nodes=10)


def test_a_missing_feed_for_the_gradient_names_the_input():
    g = sg.Graph()
    with g:
        a, b = sg.var("a"), sg.var("b")
        s = sg.sin(a)
        y = s * b  # drawing s needs a only; dy/ds = b needs b
    before = len(g)
    with pytest.raises(sg.MissingFeedError, match="'b'"):
        sg.to_dot(s, {a: 1.0}, grads_of=y)
    assert len(g) == before


# --- LaTeX from the op record ----------------------------------------------------------------


def test_an_ops_latex_template_is_used_with_base_atom_args_and_attrs():
    cube = sg.define_op("latex_cube", lambda v: v ** 3, vjp=[None])
    pair = sg.define_op("latex_pair", lambda u, v: u + v, vjp=[None, None])
    with sg.Graph():
        x, y = sg.var("x"), sg.var("y", shape=(3,))
        assert sg.latex(cube(x + 1)) == r"\operatorname{latex\_cube}\left(x + 1\right)"
        cube.op.latex = "{0:base}^{{3}}"
        assert sg.latex(cube(x + 1)) == r"{\left(x + 1\right)}^{3}"
        assert sg.latex(cube(x)) == "x^{3}"
        assert sg.latex(cube(y[2])) == "{y_{2}}^{3}"
        assert sg.latex(cube(sg.square(x))) == r"{\left(x^{2}\right)}^{3}"  # no x^2^3
        pair.op.latex = r"\langle {args} \rangle_{{{1:atom}}}"
        assert sg.latex(pair(x, x * y[0])) == (
            r"\langle x, x \cdot y_{0} \rangle_{{\left(x \cdot y_{0}\right)}}")
        # A superscript template as the base of another is parenthesised.
        assert sg.latex(sg.square(cube(x))) == r"{\left(x^{3}\right)}^{2}"
        pair.op.latex = r"\mathrm{{pair}}({0}, {1}{attrs})"
        assert sg.latex(pair(x, 2.0)) == r"\mathrm{pair}(x, 2)"
        s = sg.sum(sg.var("m", shape=(2, 3)), axis=1)
        assert sg.latex(s) == r"\operatorname{sum}\left(m, axis=1\right)"


@pytest.mark.parametrize("name, template, message", [
    ("latex_bad_spec", "{0:sup}^{{3}}", "format spec 'sup'"),
    ("latex_bad_index", "{2}^3", "does not fit"),
    ("latex_bad_key", "{name}", "does not fit"),
])
def test_a_bad_latex_template_raises_naming_the_op(name, template, message):
    op = sg.define_op(name, np.sin, vjp=[None])
    op.op.latex = template
    with sg.Graph():
        node = op(sg.var("x"))
    with pytest.raises(sg.SymgraphError, match=re.escape(message)) as info:
        sg.latex(node)
    assert op.op.name in str(info.value)


def test_display_modules_name_no_op_by_string():
    names = set(sg.OPS)
    found = []
    for path in sorted(DISPLAY.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in names:
                found.append(f"{path.name}:{node.lineno} {node.value!r}")
    assert not found, "compare op records or read op fields instead: " + ", ".join(found)
