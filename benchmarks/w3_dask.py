"""W3 on the ``dask`` backend (issue 17): the loss and gradient of ``mean(tanh(X @ w))``.

- W3c: over 2.16 GB of X generated lazily block by block (uniform, seeded by block), on a
  ``distributed.LocalCluster`` of 2 worker processes x 400 MB: it must finish and equal
  the same computation written chunk by chunk in NumPy.
- W3d: X in memory (256 MB, blocks of 32 MB), the dask backend (threaded scheduler) beside
  the ``python`` backend on the same arrays: within 2x.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from benchmarks.common import Row, check, describe_error, missing, paired, peer

W = "W3"
COLS = 100
BIG_ROWS, BIG_BLOCK = 2_700_000, 50_000  # 2.16 GB of float64 in 43 MB blocks
MEM_ROWS, MEM_BLOCK = 320_000, 40_000  # 256 MB in 32 MB blocks


def _compiled(backend: str) -> Any:
    import symgraph as sg

    with sg.Graph():
        X, w = sg.var("X", shape=(None, COLS)), sg.var("w", shape=(COLS,))
        loss = sg.mean(sg.tanh(X @ w))
        return sg.compile([loss, sg.grad(loss, w)], [X, w], backend=backend)


def x_block(block_info: Any = None) -> np.ndarray:
    """Block ``i`` of the big X: uniform in [-1, 1), seeded by ``i``."""
    i = block_info[None]["chunk-location"][0]
    return 2 * np.random.default_rng(i).random((block_info[None]["chunk-shape"][0], COLS)) - 1


def _reference(blocks: Any, w: np.ndarray, rows: int) -> list:
    """The loss and gradient in NumPy, one block at a time."""
    total, grad = 0.0, np.zeros(COLS)
    for block in blocks:
        t = np.tanh(block @ w)
        total += t.sum()
        grad += block.T @ (1 - t * t)
    return [total / rows, grad / rows]


def _check(got: list, want: list) -> str:
    """"ok", or the first output's complaint (the loss and the gradient differ in shape)."""
    return next((c for c in map(check, got, want) if c != "ok"), "ok")


def run_out_of_core() -> Row:
    da, distributed = peer("dask.array"), peer("distributed")
    if da is None or distributed is None:
        return missing(W, "W3c 2.16 GB", "symgraph dask", "loss + grad, 2 workers x 400 MB")
    f = _compiled("dask")
    w = np.linspace(-0.1, 0.1, COLS)
    chunks = ((BIG_BLOCK,) * (BIG_ROWS // BIG_BLOCK), (COLS,))
    X = da.map_blocks(x_block, dtype=np.float64, chunks=chunks)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="400MB",
                                  processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        start = time.perf_counter()
        with distributed.get_task_stream(client) as stream:
            got = client.compute(f(X, w), sync=True)
        seconds = time.perf_counter() - start
        workers = len({t["worker"] for t in stream.data})
    want = _reference((2 * np.random.default_rng(i).random((n, COLS)) - 1
                       for i, n in enumerate(chunks[0])), w, BIG_ROWS)
    status = _check(got, want) if workers == 2 else f"ran on {workers} worker(s)"
    return Row(W, "W3c 2.16 GB", "symgraph dask", "loss + grad, 2 workers x 400 MB", seconds,
               status=status, target="finishes; equals NumPy", met=status == "ok")


def run_in_memory() -> list[Row]:
    da = peer("dask.array")
    if da is None:
        return [missing(W, "W3d 256 MB", "symgraph dask", "loss + grad, 32 MB blocks")]
    import dask

    rng = np.random.default_rng(0)
    X = 2 * rng.random((MEM_ROWS, COLS)) - 1
    w = np.linspace(-0.1, 0.1, COLS)
    want = _reference(np.split(X, MEM_ROWS // MEM_BLOCK), w, MEM_ROWS)
    python = _compiled("python")
    Xd = da.from_array(X, chunks=(MEM_BLOCK, COLS))  # split once: the blocks are the data
    lazy = _compiled("dask")

    def blocked() -> Any:
        return dask.compute(*lazy(Xd, w), scheduler="threads")

    # sampled in alternation: dask's thread pool makes single calls vary by +-20% here
    t_python, t_dask = paired(lambda: python(X, w), blocked, budget=6.0)
    ratio = t_dask / t_python
    return [Row(W, "W3d 256 MB", "symgraph python", "loss + grad call", t_python,
                status=_check(python(X, w), want)),
            Row(W, "W3d 256 MB", "symgraph dask", "loss + grad, 32 MB blocks", t_dask,
                ratio=ratio, ref="python, paired", status=_check(blocked(), want),
                target="<= 2x python", met=ratio <= 2.0)]


def run(quick: bool = False) -> list[Row]:
    rows = []
    for part in (run_in_memory, run_out_of_core):
        try:
            out = part()
            rows += out if isinstance(out, list) else [out]
        except Exception as exc:  # noqa: BLE001 - a failure is a row
            rows.append(Row(W, "W3 dask", "symgraph dask", part.__name__,
                            status=describe_error(exc)))
    return rows


if __name__ == "__main__":
    from benchmarks.run import table

    print(table(run()))
