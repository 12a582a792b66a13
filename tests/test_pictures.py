"""Pictures and formulas a learner meets first (issue 18): order colours that colour-blind
readers tell apart plus a cue that is no colour, outputs named ``f``, ``df/dx``, a clean
view of Hessians, text that fits its boxes, Jupyter display, and formulas without seed
artefacts. SVG is parsed as XML; colour distances are computed here with NumPy."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import symgraph as sg
from symgraph.display import Picture, graph_bundle, style
from symgraph.display.names import leibniz, output_names

SVG = "{http://www.w3.org/2000/svg}"
ROOT = Path(__file__).resolve().parent.parent
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is missing")


def svg_nodes(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {g.find(f"{SVG}title").text: g for g in root.iter(f"{SVG}g")
            if g.get("class") == "node"}


def texts(group: ET.Element) -> list[str]:
    return [t.text.replace("\xa0", " ") for t in group.iter(f"{SVG}text") if t.text]


def shape_of(group: ET.Element) -> ET.Element:
    """A node's first drawn outline (its fill and border)."""
    return next(e for e in group.iter() if e.tag in (f"{SVG}polygon", f"{SVG}ellipse",
                                                      f"{SVG}path"))


def four_orders():
    g = sg.Graph()
    with g:
        x = sg.var("x")
        f = sg.sin(x) * x
        d1 = sg.grad(f, x)
        d2 = sg.grad(d1, x)
        d3 = sg.grad(d2, x)
    return g, x, [f, d1, d2, d3]


# --- 1. colours that colour-blind readers tell apart, and a cue that is no colour ------------

# Machado, Oliveira & Fernandes (2009), severity 1.0, on linear RGB.
PROTANOPIA = np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                       [-0.003882, -0.048116, 1.051998]])
DEUTERANOPIA = np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                         [-0.011820, 0.042940, 0.968881]])
SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
D65 = np.array([0.95047, 1.0, 1.08883])


def linear_rgb(colour: str) -> np.ndarray:
    c = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def lab(rgb: np.ndarray) -> np.ndarray:
    xyz = SRGB_TO_XYZ @ np.clip(rgb, 0, 1) / D65
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(a: str, b: str, vision: np.ndarray | None) -> float:
    """CIE76 distance between two colours as a reader with ``vision`` sees them."""
    m = np.eye(3) if vision is None else vision
    return float(np.linalg.norm(lab(m @ linear_rgb(a)) - lab(m @ linear_rgb(b))))


def test_the_simulation_reproduces_the_issues_finding():
    # The old order-1/order-2 fills became nearly the same beige under deuteranopia.
    assert delta_e("#fddbc7", "#d9f0d3", DEUTERANOPIA) < 6
    assert delta_e("#fddbc7", "#d9f0d3", None) > 20
    assert delta_e("#ff0000", "#00ff00", None) > 80  # and colours far apart stay apart


@needs_dot
def test_order_fills_stay_apart_under_deuteranopia_and_protanopia():
    _, _, outs = four_orders()
    nodes = sg.ancestors(outs)
    assert {n.order for n in nodes} == {0, 1, 2, 3}
    svg = svg_nodes(sg.to_svg(outs))
    fills: dict[int, set[str]] = {}
    for n in nodes:
        fills.setdefault(n.order, set()).add(shape_of(svg[f"n{n.id}"]).get("fill"))
    assert all(len(f) == 1 for f in fills.values())  # one fill per order
    fill = {k: f.pop() for k, f in fills.items()}
    for a, b in itertools.combinations(range(4), 2):
        for vision in (None, DEUTERANOPIA, PROTANOPIA):
            assert delta_e(fill[a], fill[b], vision) > 20, (a, b, fill[a], fill[b])
    # Dark text stays readable on every fill (WCAG contrast with black above 7).
    for colour in fill.values():
        luminance = float(linear_rgb(colour) @ [0.2126, 0.7152, 0.0722])
        assert (luminance + 0.05) / 0.05 > 7


@needs_dot
def test_each_order_has_its_own_border_style_in_nodes_and_legend():
    _, _, outs = four_orders()
    src = sg.to_dot(outs).source
    svg = svg_nodes(sg.to_svg(outs))
    cue: dict[int, set[tuple]] = {}
    for n in sg.ancestors(outs):
        line = re.search(rf"\tn{n.id} \[[^\n]*", src).group(0)
        style_attr = re.search(r'style="?([\w,]+)', line).group(1).split(",")
        width = re.search(r"penwidth=([\d.]+)", line).group(1)
        dash = shape_of(svg[f"n{n.id}"]).get("stroke-dasharray")
        stroke = shape_of(svg[f"n{n.id}"]).get("stroke-width")
        cue.setdefault(n.order, set()).add((tuple(s for s in style_attr if s != "rounded"),
                                            width, dash, stroke))
        # The SVG draws what the DOT asks: dashes for dashed, dots for dotted.
        assert (dash is not None) == ("dashed" in style_attr or "dotted" in style_attr)
    assert all(len(c) == 1 for c in cue.values())
    assert len({c.copy().pop() for c in cue.values()}) == 4  # no colour needed to tell
    assert {c.copy().pop()[2] for c in cue.values()} == {None, "5,2", "1,5"}
    # The legend shows the same cue: each order's cell has its fill and border style.
    legend = svg_nodes(sg.to_svg(outs))["legend"]
    cells = [p for p in legend.iter(f"{SVG}polygon") if p.get("stroke") not in
             (None, "transparent", "none", "#bbbbbb")]
    dashes = [p.get("stroke-dasharray") for p in cells]
    assert dashes[:3] == [None, "5,2", "1,5"]
    for k in range(4):
        assert style.order_border(k)[0] in ("solid", "dashed", "dotted")
        assert f'bgcolor="{style.order_colours(k)[0]}"' in src


# --- 2. outputs named ------------------------------------------------------------------------


def test_outputs_are_named_from_how_they_were_built():
    g, x, (f, d1, d2, d3) = four_orders()
    before = len(g)
    assert output_names([f, d1, d2, d3]) == {0: "f", 1: "df/dx", 2: "d²f/dx²", 3: "d³f/dx³"}
    assert output_names([d2]) == {0: "d²f/dx²"}  # found through what d2's nodes point to
    assert output_names([f, sg.cos(x)]) == {0: "out0", 1: "out1"}  # as sg.pprint tags them
    assert output_names([f]) == {0: ""}
    assert len(g) == before  # naming rebuilt the derivatives on a copy
    with sg.Graph() as h:
        a, b = sg.var("a"), sg.var("b")
        q = sg.sin(a) * b
        da = sg.grad(q, a)
        dab = sg.grad(da, b)
        twice = sg.grad(q * 2.0, a)  # the derivative of another function than q
        v = sg.var("v", shape=(3,))
        y = sg.sin(v) * v
        J = sg.jacobian(y, v)
        loss = sg.sum(y * y)
        H = sg.hessian(loss, v)
    n = len(h)
    assert output_names([q, da, dab]) == {0: "f", 1: "df/da", 2: "d²f/db da"}
    assert output_names([q, twice]) == {0: "f", 1: "dg/da"}  # not df/da: it is d(2q)/da
    assert output_names([y, J, loss, H]) == {0: "f", 1: "df/dv", 2: "g", 3: "d²g/dv²"}
    assert len(h) == n
    assert leibniz("f", ["x", "y", "y"]) == "d³f/dy² dx"


def test_labels_given_by_the_user():
    _, x, (f, d1, d2, _) = four_orders()
    assert output_names([f, d1, d2], ["z", None, None]) == {0: "z", 1: "dz/dx", 2: "d²z/dx²"}
    assert output_names([f, d1], {d1: "slope"}) == {0: "out0", 1: "slope"}
    assert output_names([f, d1], {0: ""}) == {0: "", 1: "df/dx"}
    src = sg.to_dot([f, d1], labels=["height", "slope"]).source
    assert ">height</font>" in src and ">slope</font>" in src
    with pytest.raises(sg.SymgraphError, match="2 labels for 3 outputs"):
        sg.to_dot([f, d1, d2], labels=["a", "b"])
    with pytest.raises(sg.SymgraphError, match="not one of the outputs"):
        sg.to_dot([f, d1], labels={x: "x"})
    with pytest.raises(sg.SymgraphError, match="label of output 1 must be a str"):
        sg.to_dot([f, d1], labels=["a", 3])
    with pytest.raises(sg.SymgraphError, match="labels must be a list"):
        sg.to_dot(f, labels="f")


@needs_dot
def test_the_svg_shows_names_and_the_whole_formula_of_each_output():
    _, _, (f, d1, d2, _) = four_orders()
    nodes = svg_nodes(sg.to_svg([f, d1, d2]))
    shown = {o: texts(nodes[f"n{o.id}"]) for o in (f, d1, d2)}
    assert shown[f] == ["sin(x)*x", "f"]
    assert str(d1) == "sin(x) + x*cos(x)"
    assert shown[d1] == ["sin(x) + x*cos(x)", "df/dx"]
    # d2's formula is over the 24-character cap of inner nodes: wrapped, not replaced by "+".
    assert len(str(d2)) > 24 and shown[d2][-1] == "d²f/dx²"
    assert "".join(shown[d2][:-1]).replace(" ", "") == str(d2).replace(" ", "")
    with sg.Graph():
        w = sg.var("w")
        z = w
        for _ in range(20):
            z = sg.sin(z)
    lines = texts(svg_nodes(sg.to_svg(z))[f"n{z.id}"])
    assert len(lines) == style.FORMULA_LINES and "…" in lines[-1]  # cut, not dropped
    assert all(len(s) <= style.FORMULA_WIDTH for s in lines)
    assert str(z).startswith("".join(lines).split("…")[0])


# --- 3. the clean view -------------------------------------------------------------------------


def hessian_case():
    g = sg.Graph()
    with g:
        x = sg.var("x", shape=(2,))
        f = x[0] ** 2 * x[1] + sg.sin(x[1])
        H = sg.hessian(f, x)
    return g, x, f, H


NEG_ZERO = re.compile(r"(?<![\w.])-0(?![\w.])")


@needs_dot
def test_clean_view_draws_simplified_nodes_with_the_same_values_and_adds_no_node():
    g, x, f, H = hessian_case()
    feeds = {x: [1.5, -2.0]}
    raw = sg.to_dot([f, H], feeds).source
    assert "broadcast_to" in sg.debugprint(H)  # the seed is in the graph...
    before = len(g)
    src = sg.to_dot([f, H], feeds, clean=True).source
    svg = sg.to_svg([f, H], feeds=feeds, clean=True)
    assert len(g) == before  # simplify ran on a copy
    assert src.count("\tn") < raw.count("\tn")  # fewer nodes and edges drawn
    labels = " ".join(re.findall(r"label=<(.*)> ", src))
    for artefact in ("broadcast_to", "const(", "eye(2)*"):
        assert artefact not in labels
    assert not NEG_ZERO.search(labels)
    # The output shows the value of the user's (unsimplified) Hessian: simplify is exact.
    expected = sg.evaluate(H, feeds)  # [[2 x1, 2 x0], [2 x0, -sin x1]]
    assert np.allclose(expected, [[-4.0, 3.0], [3.0, -np.sin(-2.0)]])
    out = re.search(r"\t(n\d+) \[label=<[^\n]*d²f/dx²", src).group(1)
    shown = texts(svg_nodes(svg)[out])
    assert shown[-1] == f"= {sg.display.format_value(expected)}"
    assert re.search(r">f</font>", src)


def test_no_negative_zero_in_any_label():
    with sg.Graph():
        a = sg.var("a")
        y = -a * 0.0  # -0.0 at a = 1
        v = sg.stack([y, a])
    assert np.signbit(sg.evaluate(y, {a: 1.0}))
    src = sg.to_dot(v, {a: 1.0}).source
    assert "= 0<" in src and "= [0, 1]<" in src and not NEG_ZERO.search(src)
    assert sg.display.format_value(np.array([-0.0, 1.0])) == "[0, 1]"


def test_identity_and_ones_constants_are_shown_by_value():
    with sg.Graph():
        v = sg.var("v", shape=(3,))
        J = sg.jacobian(sg.sin(v) * v, v)
        e = v @ sg.const(np.eye(3))
        o = v * sg.const(np.ones(3)) + sg.broadcast_to(sg.const(1.0), (3,))
    assert str(J) == "sin(v)*eye(3) + eye(3)*v*cos(v)"
    assert str(e) == "v @ eye(3)" and "eye(3)" in sg.debugprint(e)
    assert str(o) == "v*ones(3) + ones(3)"
    assert sg.latex(J).count(r"\mathrm{eye(3)}") == 2


# --- 4. text fits its boxes -----------------------------------------------------------------


FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def text_overflows(svg: str) -> list[tuple]:
    """The texts of drawn nodes that run past their node's outline, measured with the
    DejaVu Sans metrics (advance widths from the font files)."""
    ttlib = pytest.importorskip("fontTools.ttLib")
    fonts = {}
    for weight, suffix in (("normal", ""), ("bold", "-Bold")):
        path = FONT_DIR / f"DejaVuSans{suffix}.ttf"
        if not path.exists():
            pytest.skip("the DejaVu fonts are not installed (make dot installs them)")
        font = ttlib.TTFont(str(path))
        fonts[weight] = (font.getBestCmap(), font["hmtx"], font["head"].unitsPerEm)

    def width(text: str, size: float, weight: str) -> float:
        cmap, hmtx, em = fonts[weight]
        return sum(hmtx[cmap[ord(c)]][0] if ord(c) in cmap else em for c in text) * size / em

    bad = []
    for name, group in svg_nodes(svg).items():
        if not re.fullmatch(r"[ns]\d+", name):
            continue
        ellipses = list(group.iter(f"{SVG}ellipse"))
        outline = [e for e in group.iter() if e.tag in (f"{SVG}polygon", f"{SVG}path")]
        for t in group.iter(f"{SVG}text"):
            size, x, y = (float(t.get(k)) for k in ("font-size", "x", "y"))
            w = width(t.text or "", size, t.get("font-weight", "normal"))
            x0 = {"start": x, "middle": x - w / 2, "end": x - w}[t.get("text-anchor")]
            if ellipses:  # the inner ellipse's half-width at the text's middle line
                e = min(ellipses, key=lambda e: float(e.get("rx")))
                cx, cy, rx, ry = (float(e.get(k)) for k in ("cx", "cy", "rx", "ry"))
                half = rx * max(0.0, 1 - ((y - 0.35 * size - cy) / ry) ** 2) ** 0.5
                left, right = cx - half, cx + half
            else:
                xs = [float(v) for e in outline for v in
                      re.findall(r"-?\d+\.?\d*", e.get("points") or e.get("d"))][0::2]
                left, right = min(xs), max(xs)
            if x0 < left - 0.5 or x0 + w > right + 0.5:
                bad.append((name, t.text, round(x0, 1), round(x0 + w, 1), left, right))
    return bad


@needs_dot
def test_text_fits_its_boxes_in_the_demo_pictures(tmp_path):
    subprocess.run([sys.executable, "-m", "symgraph", "demo", "--out", str(tmp_path)],
                   check=True, capture_output=True)
    svgs = sorted(tmp_path.glob("*.svg"))
    assert len(svgs) == 3
    for path in svgs:
        svg = path.read_text(encoding="utf-8")
        assert text_overflows(svg) == [], path.name
    _, x, f, H = hessian_case()
    for options in ({}, {"clean": True}):
        assert text_overflows(sg.to_svg([f, H], feeds={x: [1.0, 2.0]}, **options)) == []


@needs_dot
def test_one_font_graphviz_can_measure_is_named_everywhere_and_make_installs_it():
    _, _, outs = four_orders()
    src = sg.to_dot(outs).source
    names = set(re.findall(r'fontname="([^"]*)"', src))
    assert names == {style.FONT} and style.FONT.startswith("DejaVu Sans,")
    families = set(re.findall(r'font-family="([^"]*)"', sg.to_svg(outs)))
    assert families == {style.FONT}
    makefile = (ROOT / "Makefile").read_text()
    target = makefile.split("\ndot:")[1].split("\n\n")[0]
    assert "fonts-dejavu-core" in target and "DejaVu Sans" in target


# --- 5. Jupyter -------------------------------------------------------------------------------


@needs_dot
def test_a_picture_of_outputs_shows_itself_in_jupyter():
    _, x, (f, d1, *_) = four_orders()
    picture = Picture([f, d1], feeds={x: 0.5})
    bundle = picture._repr_mimebundle_()
    assert set(bundle) == {"image/svg+xml", "text/plain"}
    nodes = svg_nodes(bundle["image/svg+xml"])
    assert texts(nodes[f"n{d1.id}"])[-2:] == ["df/dx", f"= {np.cos(0.5) * 0.5 + np.sin(0.5):.4g}"]
    assert picture._repr_svg_() == picture._repr_html_() == bundle["image/svg+xml"]
    assert repr(picture) == "<symgraph.Picture of 2 outputs, 6 nodes>"
    assert ET.fromstring(f._repr_svg_()).tag == f"{SVG}svg"  # a node still shows itself
    with pytest.raises(sg.SymgraphError, match="max_nodes"):
        Picture(f, max_nodes=0)  # options are checked when the picture is made


@needs_dot
def test_a_graph_shows_its_nodes_capped():
    g = sg.Graph()
    with g:
        x = sg.var("x")
        y = x
        for _ in range(200):
            y = sg.sin(y)
        other = sg.exp(x)
        dy = sg.grad(y, x)
    bundle = graph_bundle(g)
    svg = bundle["image/svg+xml"]
    drawn = [k for k in svg_nodes(svg) if re.fullmatch(r"n\d+", k)]
    total = len(sg.ancestors([y, other, dy]))  # the unused seed constant is left out
    assert len(drawn) == 150 and f"150 of {total} nodes drawn" in texts(
        ET.fromstring(svg).find(f"{SVG}g"))[0]
    assert f"n{dy.id}" in drawn and f"n{other.id}" in drawn  # what no node uses is drawn
    assert "out0" not in svg
    assert graph_bundle(sg.Graph()) == {"text/plain": "<symgraph.Graph with 0 nodes>"}
    if hasattr(sg.Graph, "_repr_mimebundle_"):  # wired by the top-level package
        assert set(g._repr_mimebundle_()) == {"image/svg+xml", "text/plain"}


def test_without_graphviz_a_picture_says_how_to_get_it(monkeypatch, tmp_path):
    _, _, (f, d1, *_) = four_orders()
    picture = Picture([f, d1])
    monkeypatch.setenv("PATH", str(tmp_path))
    bundle = picture._repr_mimebundle_()
    assert set(bundle) == {"text/plain"} and "apt-get install graphviz" in bundle["text/plain"]


# --- 6. formulas --------------------------------------------------------------------------


def run_text(text: str, **values):
    """Evaluate a printed formula with NumPy (test-only: our own output)."""
    namespace = {"__builtins__": {}, "sin": np.sin, "cos": np.cos, **values}
    return eval(text, namespace)  # the formula symgraph printed, never a user's text


@pytest.mark.parametrize("build, text", [
    (lambda x: x * -sg.sin(x), "-x*sin(x)"),
    (lambda x: -x * -sg.sin(x), "x*sin(x)"),
    (lambda x: x / -sg.cos(x), "-x/cos(x)"),
    (lambda x: sg.cos(x) + x * -sg.sin(x), "cos(x) - x*sin(x)"),
    (lambda x: sg.cos(x) - x * -sg.sin(x), "cos(x) + x*sin(x)"),
    (lambda x: sg.cos(x) + -x, "cos(x) - x"),
    (lambda x: (x * -x) ** 2, "(-x*x)**2"),
    (lambda x: sg.grad(x * sg.cos(x), x), "cos(x) - x*sin(x)"),
])
def test_a_minus_opens_the_product_and_the_text_computes_the_same(graph, build, text):
    x = sg.var("x")
    y = build(x)
    assert str(y) == text
    for value in (0.7, -2.5, 0.0):
        got = run_text(str(y), x=np.float64(value))
        assert np.array_equal(got, sg.evaluate(y, {x: value}))  # bit for bit, -0.0 too


def test_seed_artefacts_never_reach_str_pprint_or_the_cli(graph, capsys):
    v = sg.var("v", shape=(3,))
    J = sg.jacobian(sg.sin(v) * v, v)
    H = sg.hessian(sg.sum(sg.sin(v) * v), v)
    assert "broadcast_to" in sg.debugprint(J)  # the seed is there, but not printed
    for out in (J, H):
        for text in (str(out), sg.pprint(out)):
            assert "broadcast_to(1" not in text and "const(3, 3)" not in text
    assert sg.pprint(J) == "out = sin(v)*eye(3) + eye(3)*v*cos(v)"
    from symgraph.cli import main

    assert main(["diff", "sin(x)*x", "--wrt", "x", "--at", "x=[1,2,3]", "--order", "2"]) == 0
    printed = capsys.readouterr().out
    assert "df/dx = sin(x)*eye(3) + eye(3)*x*cos(x)" in printed
    assert "broadcast_to" not in printed and "*-" not in printed
