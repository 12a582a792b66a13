"""Write the tutorial notebooks from the cell texts below, execute them, save them with outputs.

The notebooks are generated so that their text can be reviewed as plain Python; never edit
the ``.ipynb`` files by hand, edit the cells here and run::

    python notebooks/build.py                  # all notebooks (what `make notebooks` runs)
    python notebooks/build.py 02_symbol_to_symbol.ipynb
    python notebooks/build.py --no-execute     # write the cells only, without outputs

Each notebook is executed top to bottom in a fresh ``python3`` kernel with the notebooks/
folder as working directory; a failing cell (for instance an ``assert`` on a wrong
number) stops the build with the cell's error and leaves the stored notebook untouched.
The cell texts live in ``notebooks/cells/``, one module per notebook.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
KERNEL = "python3"
CELL_TIMEOUT = 120  # seconds; each notebook takes well under a minute in total

# notebook file -> module in notebooks/cells/ holding its CELLS list
NOTEBOOKS = {
    "01_chain_rule_sigmoid_neuron.ipynb": "nb01_chain_rule",
    "02_symbol_to_symbol.ipynb": "nb02_symbol_to_symbol",
    "03_mlp_backprop.ipynb": "nb03_mlp_backprop",
    "04_second_order.ipynb": "nb04_second_order",
    "05_gaussian_process.ipynb": "nb05_gaussian_process",
    "06_cnn_digits.ipynb": "nb06_cnn_digits",
    "07_loops_pendulum.ipynb": "nb07_loops",
}


def cells_of(filename: str) -> list[tuple[str, str]]:
    """The ``(kind, source)`` cells of a notebook, ``kind`` being ``"markdown"`` or ``"code"``.

    >>> cells = cells_of("01_chain_rule_sigmoid_neuron.ipynb")
    >>> cells[0][0], cells[0][1].startswith("# 1.")
    ('markdown', True)
    """
    path = HERE / "cells" / f"{NOTEBOOKS[filename]}.py"
    spec = importlib.util.spec_from_file_location(f"symgraph_notebook_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # by path: no package name to clash with
    return [(kind, source.strip("\n")) for kind, source in module.CELLS]


def make_notebook(filename: str) -> nbformat.NotebookNode:
    """A notebook (without outputs) made of the cells of ``filename``.

    >>> nb = make_notebook("02_symbol_to_symbol.ipynb")
    >>> nb.metadata.kernelspec.name, nb.cells[1].cell_type
    ('python3', 'code')
    """
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, source in cells_of(filename):
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        nb.cells.append(make(source))
    for i, cell in enumerate(nb.cells):  # stable ids keep the stored files' diffs small
        cell["id"] = f"c{i:02d}"
    return nb


def execute(nb: nbformat.NotebookNode, timeout: int = CELL_TIMEOUT) -> nbformat.NotebookNode:
    """Run every cell of ``nb`` in place in a fresh kernel (cwd notebooks/); raises
    ``nbclient.exceptions.CellExecutionError`` on the first failing cell.

    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    >>> execute(nb).cells[0].outputs[0].text
    '42\\n'
    """
    client = NotebookClient(nb, timeout=timeout, kernel_name=KERNEL, record_timing=False,
                            resources={"metadata": {"path": str(HERE)}})
    client.execute()
    return nb


def main(argv: list[str] | None = None) -> int:
    """Build the notebooks named in ``argv`` (all by default); returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook files to build (default: all)")
    parser.add_argument("--no-execute", action="store_true", help="write cells without outputs")
    args = parser.parse_args(argv)
    names = args.names or list(NOTEBOOKS)
    unknown = [n for n in names if n not in NOTEBOOKS]
    if unknown:
        parser.error(f"unknown notebook {unknown[0]!r}; choose from {', '.join(NOTEBOOKS)}")
    for name in names:
        start = time.perf_counter()
        nb = make_notebook(name)
        if not args.no_execute:
            execute(nb)
        nbformat.validate(nb)
        nbformat.write(nb, HERE / name)
        print(f"{name}: {len(nb.cells)} cells, {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
