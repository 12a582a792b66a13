"""Views of graphs: text (``str``, ``sg.pprint``, ``sg.debugprint``, ``sg.stats``), LaTeX
(``sg.latex``) and pictures (``sg.to_dot``, ``sg.to_svg``).

Owns: nothing but the re-exports below. Its modules, each saying what it owns: ``formula``
(infix text), ``text`` (pprint, debugprint, stats, format_value), ``latex``, ``scene``
(what a picture shows), ``names`` (the names of outputs), ``style`` (how a node looks),
``dot`` (the picture, SVG, ``Picture`` for Jupyter).

Imports: its own modules. They may import every lower layer (graph, ops, autodiff,
rewrite, plan/backends); nothing below display imports it.
"""

from symgraph.display.dot import Picture, graph_bundle, to_dot, to_svg
from symgraph.display.formula import formula, printable
from symgraph.display.latex import latex
from symgraph.display.style import order_colours
from symgraph.display.text import debugprint, format_value, pprint, stats

__all__ = ["Picture", "debugprint", "format_value", "formula", "graph_bundle", "latex",
           "order_colours", "pprint", "printable", "stats", "to_dot", "to_svg"]
