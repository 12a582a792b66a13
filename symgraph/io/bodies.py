"""The graphs a node holds in its attributes (a loop's bodies), as the layers that may not
import the loops package see them.

Owns: :func:`bodies_of` (each body of a node: the attribute holding it, its placeholder
inputs with their roles, its outputs and its nodes), read through the op's
``encode_attrs`` hook (``symgraph.ops.core.Op``), and the role names of the placeholders
(``carry 0``, ``x 0``, ``closure 0``; a branch's ``operand 0``). ``to_networkx`` and the
pictures and text views use it.

Imports: ``symgraph.graph``.
"""

from __future__ import annotations

from dataclasses import dataclass

from symgraph.graph import Node, ancestors

# The groups of a body's inputs and outputs, in order, and the role name of each.
INPUT_ROLES = (("carries", "carry"), ("xs", "x"), ("closures", "closure"))
OUTPUT_ROLES = (("carry_out", "carry out"), ("ys", "y"))


@dataclass
class HeldBody:
    """One body of a node: ``attr`` (the attribute holding it, ``"body"``, ``"true"``...),
    ``label`` (the body's own, e.g. ``"sg.scan"``), ``inputs`` (placeholders) and
    ``roles`` (one per input: ``"carry 0"``...), ``outputs`` and ``out_roles``, and
    ``nodes``: the outputs' ancestors down to the inputs, and the inputs, by id."""

    attr: str
    label: str
    inputs: list[Node]
    roles: list[str]
    outputs: list[Node]
    out_roles: list[str]
    nodes: list[Node]


def _roles(groups: tuple, meta: dict, count: int) -> list[str]:
    """Each input's (output's) role: its group's name (or the ``<group>_role`` the op's
    meta gives, a branch's ``operand``) and its position in the group."""
    roles = [f"{meta.get(key + '_role', name)} {k}" for key, name in groups
             for k in range(meta.get(key, 0))]
    return roles if len(roles) == count else [f"input {k}" for k in range(count)]


def bodies_of(node: Node) -> list[HeldBody]:
    """The bodies ``node`` holds (none for an op without an ``encode_attrs`` hook).

    >>> import symgraph as sg
    >>> from symgraph.loops import scan
    >>> with sg.Graph():
    ...     a, xs = sg.var("a"), sg.var("xs", shape=(3,))
    ...     total, _ = scan(lambda c, x: (c * a + x, c), sg.const(0.0), xs)
    >>> (body,) = bodies_of(total.inputs[0])
    >>> body.attr, body.roles, [n.op for n in body.nodes]
    ('body', ['carry 0', 'x 0', 'closure 0'], ['var', 'var', 'var', 'multiply', 'add'])
    """
    encode = node.opdef.encode_attrs
    if encode is None:
        return []
    out = []
    for attr, (inputs, outputs, meta) in encode(node.attrs)[1].items():
        stop = {n.id for n in inputs}
        found = {n.id: n for n in [*ancestors(list(outputs), stop), *inputs]}
        out.append(HeldBody(attr, str(meta.get("label", attr)), list(inputs),
                            _roles(INPUT_ROLES, meta, len(inputs)), list(outputs),
                            _roles(OUTPUT_ROLES, meta, len(outputs)),
                            [found[i] for i in sorted(found)]))
    return out
