"""Graphs in and out of symgraph: ``to_networkx``, and ``save``/``load`` as versioned JSON.

Owns: ``networkx`` (the networkx view), ``json`` (the file format, save and load),
``checks`` (what a file may hold: fields, types, bounds), ``rebuild`` (making a file's
nodes through the ops' public constructors, and what they cost to evaluate).

Imports: ``symgraph.errors``, ``symgraph.context``, ``symgraph.graph``, ``symgraph.ops``,
``symgraph.plan``, NumPy, networkx. Nothing in symgraph below this layer imports it.
"""

from symgraph.io.json import load, save
from symgraph.io.networkx import to_networkx

__all__ = ["load", "save", "to_networkx"]
