"""The ``jax`` backend's ``shardings=``: ``jit``'s in/out shardings from the user's dict, and
the user's mistakes with them told as :class:`SymgraphError` naming the input or output.

``shardings={node or name: PartitionSpec or Sharding}``: a ``PartitionSpec`` is placed on
``mesh`` (default: every device of ``jax.devices()`` on one axis named ``"batch"``,
:data:`DEFAULT_AXIS`). JAX would report a mistake as its own ``ValueError`` (an axis name
the mesh lacks, more partitioned dimensions than the array has, a dimension that does not
divide into its parts), the last only at the call, without naming the input. So:

- at compile time, each ``PartitionSpec`` (and ``NamedSharding``) is checked against its
  mesh's axis names, the node's number of dimensions and its static dimensions;
- at a call that JAX refuses, :func:`explain` finds the input (or output) whose shape does
  not divide into its shards and names it, with the number the dimension must divide by.

Imported only by ``symgraph.backends.jax``, when shardings are asked for: it imports jax.

Imports: jax, NumPy, ``symgraph.errors``, ``symgraph.ops.core``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec, Sharding

from symgraph.errors import SymgraphError
from symgraph.graph import Node
from symgraph.ops.core import describe

# the axis of the default mesh, which holds every device
DEFAULT_AXIS = "batch"


def default_mesh() -> Mesh:
    """Every device of ``jax.devices()`` on one axis named ``"batch"``.

    >>> default_mesh().axis_names
    ('batch',)
    """
    return Mesh(np.array(jax.devices()), (DEFAULT_AXIS,))


def placed(asked: dict, mesh: Any, inputs: Sequence[Node],
           outputs: Sequence[Node]) -> tuple[tuple, tuple]:
    """``jit``'s in and out shardings (one per input, one per output; None: unplaced) from
    ``asked`` (keys: node ids or names; consumed), each checked against its node."""
    if mesh is None:
        mesh = default_mesh()
    elif not isinstance(mesh, Mesh):
        raise SymgraphError(f"sg.compile: mesh is {mesh!r}; give a jax.sharding.Mesh (or leave "
                            f"it out: every device on one axis named {DEFAULT_AXIS!r})")

    def lookup(node: Node, role: str) -> Any:
        for key in (node.id, node.name):
            if key in asked:
                return _place(asked.pop(key), node, role, mesh)
        return None
    ins = tuple(lookup(n, "input") for n in inputs)
    outs = tuple(lookup(n, "output") for n in outputs)
    if asked:
        raise SymgraphError(f"sg.compile: shardings names {next(iter(asked))!r}, which is "
                            "neither an input nor an output of this function")
    return ins, outs


def _place(spec: Any, node: Node, role: str, mesh: Mesh) -> Any:
    if isinstance(spec, PartitionSpec):
        _check_spec(spec, mesh, node, role)
        return NamedSharding(mesh, spec)
    if isinstance(spec, NamedSharding):
        _check_spec(spec.spec, spec.mesh, node, role)
        return spec
    if isinstance(spec, Sharding):
        return spec  # (checked by JAX at the call: see explain)
    raise SymgraphError(f"sg.compile: the sharding for {describe(node)} is {spec!r}; "
                        "give a jax.sharding.PartitionSpec or Sharding")


def _names(entry: Any) -> tuple:
    """The mesh axis names one entry of a PartitionSpec partitions a dimension over."""
    if entry is None or entry is PartitionSpec.UNCONSTRAINED:
        return ()
    return (entry,) if isinstance(entry, str) else tuple(entry)


def _check_spec(spec: PartitionSpec, mesh: Mesh, node: Node, role: str) -> None:
    who = f"sg.compile: the sharding {spec} of the {role} {describe(node)}"
    axes = tuple(mesh.axis_names)
    for entry in spec:
        for name in _names(entry):
            if name not in axes:
                default = (f" (the default mesh puts every device on one axis named "
                           f"{DEFAULT_AXIS!r})" if axes == (DEFAULT_AXIS,) else "")
                raise SymgraphError(
                    f"{who} names the mesh axis {name!r}, but the mesh's axes are "
                    f"{axes}{default}; name one of those, or pass your own mesh: "
                    f"sg.compile(..., mesh=jax.sharding.Mesh(devices, ({name!r},)))")
    if len(spec) > node.ndim:
        raise SymgraphError(f"{who} partitions {len(spec)} dimensions, but the {role} has "
                            f"{node.ndim} (shape {node.shape}); give one entry per dimension "
                            "at most")
    for axis, (entry, size) in enumerate(zip(spec, node.shape)):
        parts = math.prod(mesh.shape[n] for n in _names(entry))
        if size is not None and size % parts:
            raise SymgraphError(
                f"{who} splits its dimension {axis} (of size {size}) into {parts} parts "
                f"(mesh axes {_names(entry)}), which does not divide it; shard a dimension "
                f"whose size is a multiple of {parts}, or use a mesh with fewer devices")


def explain(exc: Exception, placed: Sequence[tuple[str, Node, Any, tuple]]
            ) -> SymgraphError | None:
    """The error to raise for ``exc``, JAX's refusal of a call: for the first of ``placed``
    (role, node, its sharding, the shape it has in this call) whose shape does not fit its
    sharding, an error naming it; None if none is to blame."""
    for role, node, sharding, shape in placed:
        found = _indivisible(sharding, tuple(shape))
        if found is not None:
            return SymgraphError(
                f"the {role} {describe(node)} {'was fed' if role == 'input' else 'came out with'}"
                f" shape {tuple(shape)}, but its sharding "
                f"{_spec(sharding)} {found}; {_advice(role)} ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0][:200]})")
    return None


def _spec(sharding: Any) -> str:
    return str(sharding.spec) if isinstance(sharding, NamedSharding) else str(sharding)


def _indivisible(sharding: Any, shape: tuple) -> str | None:
    """What is wrong with ``shape`` under ``sharding`` (a phrase), or None."""
    if isinstance(sharding, NamedSharding):
        if len(sharding.spec) > len(shape):
            return f"partitions {len(sharding.spec)} dimensions of its {len(shape)}"
        for axis, entry in enumerate(sharding.spec):
            parts = math.prod(sharding.mesh.shape[n] for n in _names(entry))
            if shape[axis] % parts:
                return (f"splits dimension {axis} into {parts} parts (mesh axes "
                        f"{_names(entry)}): its size must be a multiple of {parts}")
        return None
    try:
        sharding.shard_shape(shape)
    except ValueError as exc:
        return f"does not fit it ({exc})"
    return None


def _advice(role: str) -> str:
    if role == "input":
        return ("feed an array whose sharded dimensions divide by their number of parts (pad "
                "the batch), or compile with a mesh of fewer devices (mesh=jax.sharding.Mesh"
                "(devices, names))")
    return ("this output's sharded dimensions must divide by their number of parts: feed "
            "inputs that give such a shape, or shard the output otherwise (or not at all)")
