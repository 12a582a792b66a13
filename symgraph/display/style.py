"""How a drawn node and edge look: label, colours, shape, tooltip.

Owns: the look of each derivative order: a fill and border colour from the Okabe-Ito
palette, chosen so the fills of orders 0-3 stay apart for readers with deuteranopia or
protanopia (order 0, the user's graph, sky blue; 1 orange; 2 bluish green; 3 yellow; 4
reddish purple; higher grey), and a border that is not a colour, for grey print and every
reader (order 0 solid, 1 dashed, 2 dotted, 3 thick, ...), in the legend too; node captions (an input's name
in bold, a constant's value, a formula or the op symbol, the shape), the wrapping of an
output's long formula, value and gradient rows, tooltips, which edges carry their argument
position, the font, and the escaping of text for Graphviz's HTML-like labels and quoted
strings.

Imports: ``symgraph.graph``, ``symgraph.ops`` (op records, constant labels, index text),
``symgraph.display``'s formula and text modules.
"""

from __future__ import annotations

import html

from symgraph.display.formula import attr_text, const_text, printable
from symgraph.display.text import shape_text
from symgraph.graph import Node
from symgraph.ops.arithmetic import NEGATIVE
from symgraph.ops.core import CONST, VAR
from symgraph.ops.shape import GETITEM, format_index

# (fill, border) per derivative order: tints of the Okabe-Ito colours (Okabe & Ito 2008),
# whose fills for orders 0-3 differ by a CIE76 distance above 20 under simulated
# deuteranopia and protanopia (Machado et al. 2009; tests/test_pictures.py). Black text
# on each has a contrast ratio above 9.
PALETTE = (
    ("#b3ddf5", "#0072b2"),
    ("#f6dda6", "#d55e00"),
    ("#80d0b8", "#00785a"),
    ("#f4ec7b", "#6b6100"),
    ("#ebc9dc", "#a5457a"),
    ("#e0e0e0", "#404040"),
)
# (Graphviz line style, pen width) of each order's border: the cue that is not a colour.
BORDERS = (("solid", 1.2), ("dashed", 1.6), ("dotted", 2.2), ("solid", 2.6),
           ("dashed", 2.8), ("dotted", 3.0))
GRAD_COLOUR = "#9c0b24"  # dark red: contrast above 4 on every fill
# Measured the same by Graphviz (fonts-dejavu-core, which `make dot` installs) and a
# viewer; the fallbacks are narrower, so text still fits its box where DejaVu is missing.
FONT = "DejaVu Sans,Arial,sans-serif"
# Op symbols that would be ambiguous in a picture (- is also subtract's).
SYMBOLS = {NEGATIVE: "neg"}
# An output's formula longer than a short formula: wrapped at this width, on at most
# FORMULA_LINES lines (the last one cut with an ellipsis).
FORMULA_WIDTH = 30
FORMULA_LINES = 3
# Marks a node some of whose inputs are not drawn (max_nodes).
CUT_MARK = "…"


def order_colours(order: int) -> tuple[str, str]:
    """(fill, border) colours of nodes of a derivative order.

    >>> order_colours(0), order_colours(1)
    (('#b3ddf5', '#0072b2'), ('#f6dda6', '#d55e00'))
    """
    return PALETTE[min(order, len(PALETTE) - 1)]


def order_border(order: int) -> tuple[str, float]:
    """(line style, pen width) of the border of nodes of a derivative order: the cue that
    tells orders apart without colour.

    >>> [order_border(k) for k in range(3)]
    [('solid', 1.2), ('dashed', 1.6), ('dotted', 2.2)]
    """
    return BORDERS[min(order, len(BORDERS) - 1)]


def _pieces(text: str) -> list[str]:
    """``text`` cut where a line may break: after ``(``, ``*``, ``/`` or ``, ``, before
    `` + `` or `` - ``; never inside ``[...]`` (an index or a small constant)."""
    pieces, start, depth = [], 0, 0
    for i, c in enumerate(text):
        depth += (c == "[") - (c == "]")
        if depth:
            continue
        if c in "(*/" or (c == " " and i and text[i - 1] == ","):
            cut = i + 1
        elif c == " " and text[i + 1:i + 3] in ("+ ", "- "):
            cut = i
        else:
            continue
        if cut > start:
            pieces.append(text[start:cut])
            start = cut
    return [*pieces, text[start:]]


def wrap_formula(text: str, width: int = FORMULA_WIDTH, lines: int = FORMULA_LINES
                 ) -> list[str]:
    """``text`` on lines of at most ``width`` characters, broken after ``(``, ``*``, ``/``
    or ``, `` or before `` + ``/`` - ``; at most ``lines`` lines, the last ending in ``…``
    when text is left over.

    >>> wrap_formula("sigmoid(w[0]*x[0] + w[1]*x[1] + w[2])", 20)
    ['sigmoid(w[0]*x[0]', '+ w[1]*x[1] + w[2])']
    """
    out: list[str] = []
    line = ""
    for piece in _pieces(text):
        while len(piece) > width:  # an unbreakable run: cut it
            if line:
                out.append(line)
                line = ""
            out.append(piece[:width])
            piece = piece[width:]
        if len(line) + len(piece) > width:
            out.append(line)
            line = piece.lstrip()
        else:
            line += piece
    out.append(line)
    out = [s.strip() for s in out if s.strip()]
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][:width - 1] + "…"
    return out


def order_name(order: int) -> str:
    """The legend's text for a derivative order."""
    if order == 0:
        return "order 0: your graph"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(order, "th")
    return f"order {order}: {order}{suffix} derivative"


def esc(text: str) -> str:
    """Text for an HTML-like label: markup escaped, unprintable characters (which XML
    forbids, or UTF-8 cannot encode) as Python escapes."""
    return html.escape(printable(text), quote=False)


def plain(text: str) -> str:
    """Text for a quoted DOT string (a tooltip): backslashes are DOT escapes there."""
    return printable(text).replace("\\", "\\\\")


def caption(n: Node, short: str | list[str] | None) -> tuple[str, str]:
    """Main text (HTML) and small second-line text of a node. ``short`` is its formula
    (several lines for an output's long formula)."""
    small = [shape_text(n.shape)] if n.shape else []
    if n.opdef is VAR:
        return f"<b>{esc(n.name)}</b>", " ".join(small)
    if n.opdef is CONST:
        return esc(const_text(n)), " ".join(small) if n.name else ""
    if isinstance(short, list):
        return "<br/>".join(esc(s) for s in short), "  ".join(small)
    if short is not None:  # the formula names the op and its attributes already
        return esc(short), "  ".join(small)
    if n.opdef is GETITEM:
        main = format_index(n.attrs["index"])
    else:
        main = SYMBOLS.get(n.opdef) or n.opdef.infix or n.opdef.label or n.op
        attrs = attr_text(n)[2:]
        if attrs:
            small.insert(0, attrs if len(attrs) <= 32 else attrs[:31] + "…")
    return esc(main), "  ".join(small)


def label(n: Node, short: str | list[str] | None, value: str | None, grad_text: str | None,
          tag: str | None = None, cut: bool = False) -> str:
    main, small = caption(n, short)
    if cut:  # some inputs not drawn (max_nodes): said in the note beside the picture
        main = f"{CUT_MARK} {main}"
    if tag:
        small = f"{tag}  {small}" if small else tag
    rows = [main]
    if small:
        rows.append(f'<font point-size="9" color="#444444">{esc(small)}</font>')
    if value is not None and not (n.opdef is CONST and not n.name):
        # An unnamed constant's label is its value already.
        rows.append(f'<font point-size="10">= {esc(value)}</font>')
    if grad_text is not None:
        rows.append(f'<font point-size="10" color="{GRAD_COLOUR}">grad {esc(grad_text)}</font>')
    return "<" + "<br/>".join(rows) + ">"


def node_attrs(n: Node, is_output: bool, cut: bool = False, note: str = ""
               ) -> dict[str, str]:
    fill, border = order_colours(n.order)
    line, width = order_border(n.order)
    styles = ["filled"] if line == "solid" else ["filled", line]
    attrs = {"fillcolor": fill, "color": border, "penwidth": f"{width:g}"}
    if n.opdef is VAR:
        attrs.update(shape="box")
        styles.insert(0, "rounded")
    elif n.opdef is CONST:
        attrs.update(shape="box", fontsize="10")
    elif n.opdef.encode_attrs is not None:  # a loop or branch: one box holding graphs
        attrs.update(shape="box3d")
    attrs["style"] = ",".join(styles)
    if is_output:
        attrs["peripheries"] = "2"
    tip = f"#{n.id} {n.op} {shape_text(n.shape)} {n.dtype} order {n.order}{note}"
    if n.grad_of is not None:
        tip += f", derivative of #{n.grad_of.id}"
    if cut:  # a mark, not edges from a far-away node: long edges slow dot down
        tip += ", some inputs not drawn (max_nodes)"
    attrs["tooltip"] = plain(tip)
    return attrs


def legend_cell(order: int, text: str) -> str:
    """A legend row: the order's fill, border colour and border style (a dashed or dotted
    cell border, thicker from order 2), so the legend carries the cue that is no colour."""
    fill, border = order_colours(order)
    line, width = order_border(order)
    style = "" if line == "solid" else f' style="{line}"'
    return (f'<tr><td bgcolor="{fill}" color="{border}" border="{max(1, round(width - 0.4))}"'
            f'{style}>{text}</td></tr>')


def edge_attrs(consumer: Node, i: int) -> dict[str, str]:
    if i in consumer.opdef.shape_only:
        return {"style": "dotted", "label": "shape"}
    if len(consumer.inputs) > 1 and not consumer.opdef.commutative:
        return {"label": str(i)}
    return {}
