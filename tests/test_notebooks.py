"""The tutorials in notebooks/: each runs top to bottom in a fresh kernel (its asserts check
the numbers), and the stored copies are the generator's cells with their outputs."""

from __future__ import annotations

import doctest
import html
import importlib.util
import shutil
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the 'notebooks' extra is not installed")
nbclient = pytest.importorskip("nbclient", reason="the 'notebooks' extra is not installed")
if shutil.which("dot") is None:
    pytest.skip("Graphviz's dot is missing (make setup installs it)", allow_module_level=True)

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
_spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS_DIR / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

NAMES = sorted(build.NOTEBOOKS)


def test_the_tutorials_are_listed():
    assert [name[:2] for name in NAMES] == ["01", "02", "03", "04", "05", "06", "07"]
    assert all((NOTEBOOKS_DIR / name).is_file() for name in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs(name, tmp_path):
    # A copy is executed, so the stored notebook (and its outputs) stays as it is.
    copy = tmp_path / name
    shutil.copy(NOTEBOOKS_DIR / name, copy)
    nb = nbformat.read(copy, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    build.execute(nb)  # raises CellExecutionError on any error or failed assert
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    assert not any(o.output_type == "error" for c in code for o in c.outputs)


@pytest.mark.parametrize("name", NAMES)
def test_stored_notebook_is_the_built_one_with_outputs(name):
    stored = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
    fresh = build.make_notebook(name)
    assert [(c.cell_type, c.source) for c in stored.cells] == [
        (c.cell_type, c.source) for c in fresh.cells
    ], f"{name} is out of date: run python notebooks/build.py {name}"
    code = [c for c in stored.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), (
        f"{name} was not stored executed top to bottom: run python notebooks/build.py {name}"
    )
    outputs = [o for c in code for o in c.outputs]
    assert not any(o.output_type == "error" for o in outputs)
    kinds = {k for o in outputs for k in o.get("data", {})}
    assert "image/svg+xml" in kinds  # every tutorial draws a graph
    if not name.startswith("01"):
        assert "image/png" in kinds  # ...and the others plot with matplotlib


# What a teacher must see in the stored outputs (issue 18): each seed confusion of 01 drawn
# (derivatives labelled dw0..dx1, the add rule quoted, the precedence trap labelled, CS231n's
# gate gradients, a node used twice), Fig. 6.10's names in 02, Algorithm 6.4 by hand in 03,
# Newton's uphill step, 2/lambda_max and the book's Hv in 04; 07's loop bodies drawn and its
# finite-difference and checkpoint checks.
SEEN = {
    "01_chain_rule_sigmoid_neuron.ipynb": [
        ">dw0<", ">dw2<", ">dx1<", "vjp=(lambda g, out: g, lambda g, out: g)",
        ">1 / 1 + exp(-s)<", ">1 / (1 + exp(-s))<", "grad -0.5344", "grad -0.1966",
        ">gate by gate<", ">sg.sigmoid<", "grad 7"],
    "02_symbol_to_symbol.ipynb": [">x<", ">y<", ">z<", ">dz/dy<", ">dz/dx<", ">dz/dw<"],
    "03_mlp_backprop.ipynb": ["×2", "read by: ['dJ/d(h1 @ W2)', 'dJ/db2']",
                              "logits' gradient (softmax - Y)/N: largest difference"],
    "04_second_order.ipynb": ["| 24.2 |", "| 4.732 |", "| 1412 |", "2/lambda_max = 0.002",
                              "sg.hvp and the book's formula: largest difference",
                              "order 1: 1\n"],
    "07_loops_pendulum.ipynb": ["scan body (3 steps)", "scan body (3 steps, reversed)",
                                "largest relative difference", "checkpoint=100 needs"],
}


@pytest.mark.parametrize("name", sorted(SEEN))
def test_stored_outputs_show_what_the_text_explains(name):
    stored = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
    shown = []
    for cell in stored.cells:
        for out in cell.get("outputs", []):
            shown.append(out.get("text", ""))
            shown += [html.unescape(str(out.get("data", {}).get(kind, "")))
                      for kind in ("image/svg+xml", "text/markdown")]
    text = "\n".join(shown)
    assert [s for s in SEEN[name] if s not in text] == []


def test_a_wrong_number_fails_the_run():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import numpy as np\nassert np.isclose(0.7311, 0.1966), 'f is not its own gradient'")])
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="not its own gradient"):
        build.execute(nb, timeout=30)


def test_build_script_doctests():
    result = doctest.testmod(build, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 3 and result.failed == 0


def test_build_rejects_an_unknown_notebook(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build.main(["05_missing.ipynb", "--no-execute"])
    assert exit_info.value.code == 2
    assert "unknown notebook '05_missing.ipynb'" in capsys.readouterr().err
