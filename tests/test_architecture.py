"""The shape of the house (issue 13): imports run one way, no module outside ``ops/`` and
the rewrite rules names an op by a string, and every op is complete for every consumer.

A failure names the module and line, or the op, and what to do.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

import symgraph as sg
from symgraph.backends import BACKENDS
from symgraph.parse import FUNCTIONS, parse_expression
from symgraph.plan import builtin

PACKAGE = pathlib.Path(sg.__file__).parent

# Lowest first: a module may import only modules before it (and itself / its own package).
ORDER = [
    "errors", "undo", "symbol", "array_methods", "context", "graph", "ops", "linalg", "nn",
    "batching", "autodiff", "jacobians", "rewrite", "feeds", "plan",
    "io", "backends", "loops", "display", "testing", "parse", "__init__", "cli", "__main__",
]
# Same-level siblings that stay independent even though ORDER would allow one way.
INDEPENDENT = {("rewrite", "autodiff"), ("rewrite", "batching"), ("rewrite", "jacobians")}


def _unit(module: str) -> str:
    """``symgraph.display.dot`` -> ``display``; ``symgraph`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _modules() -> list[tuple[str, pathlib.Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found.append((".".join(parts), path))
    return found


MODULES = {m for m, _ in _modules()}


def _imports(module: str, path: pathlib.Path) -> list[tuple[int, str]]:
    """Every module this file imports, function-level imports included."""
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            # `from symgraph import display` imports the module symgraph.display, and only
            # the package's __init__ where a name is not a module
            subs = [f"{name}.{a.name}" for a in node.names if f"{name}.{a.name}" in MODULES]
            out += [(node.lineno, sub) for sub in subs]
            if len(subs) < len(node.names):
                out.append((node.lineno, name))
    return [(line, name) for line, name in out if name.split(".")[0] == "symgraph"]


def test_every_module_has_a_place_in_the_layers():
    units = {_unit(m) for m, _ in _modules()}
    assert units <= set(ORDER), f"place these in ORDER: {sorted(units - set(ORDER))}"


def test_imports_run_one_way():
    rank = {u: i for i, u in enumerate(ORDER)}
    modules = MODULES
    wrong = []
    for module, path in _modules():
        here = _unit(module)
        for line, target in _imports(module, path):
            if target not in modules and target.rpartition(".")[0] in modules:
                target = target.rpartition(".")[0]  # `from pkg.mod import name`
            if target not in modules:
                continue
            there = _unit(target)
            if there == here:
                continue
            if rank[there] > rank[here] or (here, there) in INDEPENDENT:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} ({here}) imports {target} ({there})")
    assert not wrong, "imports against the layer order " + " -> ".join(ORDER) + ":\n" + "\n".join(wrong)


def _may_name_ops(path: pathlib.Path) -> bool:
    rel = path.relative_to(PACKAGE).parts
    return rel[0] == "ops" or (rel[0] == "rewrite" and rel[-1].startswith("rules"))


def test_no_op_name_strings_outside_the_op_declarations():
    names = set(sg.OPS)
    found = []
    for _, path in _modules():
        if _may_name_ops(path):
            continue
        tree = ast.parse(path.read_text(), str(path))
        docstrings = {id(n.value) for n in ast.walk(tree)
                      if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
        for n in ast.walk(tree):  # an op declared outside ops/ (the loops) names itself
            if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "Op":
                docstrings |= {id(c) for k in n.keywords if k.arg in ("name", "latex")
                               for c in ast.walk(k.value)}
        for n in ast.walk(tree):  # the public names a module exports are not op names
            if isinstance(n, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets):
                docstrings |= {id(c) for c in ast.walk(n.value)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and node.value in names and id(node) not in docstrings):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {node.value!r}")
    assert not found, ("op names written as strings (compare op records, e.g. "
                       "`node.opdef is ops.SUM`, or read an op field):\n" + "\n".join(found))


# symgraph's own ops only: a test module imported earlier may have declared its own ops
# (without LaTeX), and collection order must not decide what is checked
BUILTIN = [op for op in sg.OPS.values() if builtin(op)]


@pytest.mark.parametrize("op", BUILTIN, ids=lambda op: op.name)
def test_every_op_has_latex(op):
    leaf = op is sg.OPS["var"] or op is sg.OPS["const"]
    assert leaf or op.infix or op.latex, f"op {op.name!r} declares no LaTeX (Op.latex)"


@pytest.mark.parametrize("op", BUILTIN, ids=lambda op: op.name)
def test_parseable_ops_parse(op):
    if not op.parse:
        assert op.name not in FUNCTIONS
        return
    arity = len(op.cases[0].inputs) if op.cases else 1
    with sg.Graph():
        node = parse_expression(f"{op.name}({', '.join('ab'[:arity])})")
    assert node.opdef is op or op.name in str(node)


# What each backend cannot run, as its module docstring says (the loops issue left the
# loop ops to the interpreting backends for now); anything else missing fails here.
LOOPS = {"scan", "cond", "while_loop", "loop_part", "loop_place"}
DOCUMENTED_GAPS: dict[str, set[str]] = {}  # (LOOPS: lowered on every backend now)


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_every_backend_runs_every_op_but_the_ones_it_documents(name):
    """A backend runs every op but its documented gaps (which then raise the contract's
    error at compile time, naming the op and the backend)."""
    backend = BACKENDS[name]
    leaves = (sg.OPS["var"], sg.OPS["const"])  # fed or preset by the plan, never run
    missing = {op.name for op in BUILTIN if op not in leaves and not backend.supports(op)}
    documented = DOCUMENTED_GAPS.get(name, set())
    assert missing == documented, (
        f"backend {name!r} cannot run {sorted(missing - documented)} without saying so, "
        f"and lists {sorted(documented - missing)} that it runs")
