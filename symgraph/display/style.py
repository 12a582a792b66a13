"""How a drawn node and edge look: label, colours, shape, tooltip.

Owns: the colour of each derivative order (fill / border; light fills with dark borders
print well in colour and grey: order 0, the user's graph, blue; order 1, red; order 2,
green; order 3, purple; order 4, yellow; higher orders grey), node captions (an input's
name in bold, a constant's value, a short formula or the op symbol, the shape), value and
gradient rows, tooltips, which edges carry their argument position, and the escaping of
text for Graphviz's HTML-like labels and quoted strings.

Imports: ``symgraph.graph``, ``symgraph.ops`` (op records, constant labels, index text),
``symgraph.display``'s formula and text modules.
"""

from __future__ import annotations

import html

from symgraph.display.formula import attr_text, printable
from symgraph.display.text import shape_text
from symgraph.graph import Node
from symgraph.ops.arithmetic import ADD, MAXIMUM, MINIMUM, MULTIPLY, NEGATIVE
from symgraph.ops.core import CONST, VAR, const_label
from symgraph.ops.elementwise import NOT_EQUAL
from symgraph.ops.shape import GETITEM, format_index

# (fill, border) per derivative order; ColorBrewer RdBu/PRGn ends: distinct in print.
PALETTE = (
    ("#dbe9f6", "#2166ac"),
    ("#fddbc7", "#b2182b"),
    ("#d9f0d3", "#1b7837"),
    ("#e7d4e8", "#762a83"),
    ("#fff2ae", "#8c6d1f"),
    ("#e0e0e0", "#404040"),
)
GRAD_COLOUR = "#b2182b"
# Ops whose arguments may be swapped: their edges carry no position label.
COMMUTATIVE = frozenset({ADD, MULTIPLY, MAXIMUM, MINIMUM, NOT_EQUAL})
# Op symbols that would be ambiguous in a picture (- is also subtract's).
SYMBOLS = {NEGATIVE: "neg"}


def order_colours(order: int) -> tuple[str, str]:
    """(fill, border) colours of nodes of a derivative order.

    >>> order_colours(0), order_colours(1)
    (('#dbe9f6', '#2166ac'), ('#fddbc7', '#b2182b'))
    """
    return PALETTE[min(order, len(PALETTE) - 1)]


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


def caption(n: Node, short: str | None) -> tuple[str, str]:
    """Main text (HTML) and small second-line text of a node."""
    small = [shape_text(n.shape)] if n.shape else []
    if n.opdef is VAR:
        return f"<b>{esc(n.name)}</b>", " ".join(small)
    if n.opdef is CONST:
        return esc(const_label(n)), " ".join(small) if n.name else ""
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


def label(n: Node, short: str | None, value: str | None, grad_text: str | None,
           tag: str | None = None) -> str:
    main, small = caption(n, short)
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


def node_attrs(n: Node, is_output: bool, cut: bool = False) -> dict[str, str]:
    fill, border = order_colours(n.order)
    attrs = {"fillcolor": fill, "color": border}
    if n.opdef is VAR:
        attrs.update(shape="box", style="rounded,filled", penwidth="1.5")
    elif n.opdef is CONST:
        attrs.update(shape="box", style="filled", fontsize="10")
    if is_output:
        attrs["peripheries"] = "2"
    tip = f"#{n.id} {n.op} {shape_text(n.shape)} {n.dtype} order {n.order}"
    if n.grad_of is not None:
        tip += f", derivative of #{n.grad_of.id}"
    if cut:  # a dashed border, not edges from a far-away node: long edges slow dot down
        attrs["style"] = attrs.get("style", "filled") + ",dashed"
        tip += ", some inputs not drawn (max_nodes)"
    attrs["tooltip"] = plain(tip)
    return attrs


def edge_attrs(consumer: Node, i: int) -> dict[str, str]:
    if i in consumer.opdef.shape_only:
        return {"style": "dotted", "label": "shape"}
    if len(consumer.inputs) > 1 and consumer.opdef not in COMMUTATIVE:
        return {"label": str(i)}
    return {}
