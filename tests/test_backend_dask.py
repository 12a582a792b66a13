"""The ``dask`` backend: every op case against ``sg.evaluate`` (value and gradient, NaN and
inf too) built over dask arrays without computing anything, the ops it runs as one task,
laziness, bounded blocks (a scalar broadcast to 192 MB), chunks, user ops, input checks,
``import symgraph`` not importing dask, and the out-of-core W3 loss and gradient on a
two-worker ``distributed.LocalCluster``."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from opcases import (BUILTIN_OP_NAMES, all_cases, case_inputs, case_outputs,
                     with_negative_zeros, with_specials)
from test_compile_matches_evaluate import assert_same_values

import symgraph as sg
from symgraph.backends import BACKENDS, dask_ops

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
from dask.callbacks import Callback

# symgraph's ops that run as one task on whole arrays (no blocked form): sorting and
# gathers, the decompositions, convolutions' input side. Every other op runs per block.
ONE_TASK = {"add_at", "argmax", "argmin", "argsort", "cholesky", "conv2d", "conv2d_input_grad",
            "det", "diag", "eigh", "einsum", "gather", "inv", "kron", "linear_scan",
            "one_hot", "permute_along", "qr", "repeat", "repeat_sum", "shift_along",
            "slogdet_logabsdet", "slogdet_sign", "solve", "sort", "svd", "take_along_axis",
            "window_sum2d"}
CASES = all_cases()
# evaluate silences floating-point warnings; dask's own reductions warn on NaN and inf
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


class NoCompute(Callback):
    """Fails any dask computation started while it is active (on the local schedulers)."""

    def _start(self, dsk):
        raise AssertionError("something computed a dask array while the graph was built")


@pytest.mark.parametrize(("name", "i", "case"), CASES, ids=[f"{n}-{i}" for n, i, _ in CASES])
def test_every_op_case_equals_evaluate_value_and_gradient(name, i, case, rng):
    with sg.Graph():
        nodes, values = case_inputs(case, rng)
        outs = case_outputs(case, nodes)
        f = sg.compile(outs, nodes, backend="dask", chunks=2)  # many blocks, even when tiny
        for feed in (values, with_specials(values), with_negative_zeros(values)):
            try:
                want = sg.evaluate(outs, dict(zip(nodes, feed)))
            except sg.SymgraphError:
                assert feed is not values, "evaluate failed on the case's own values"
                continue
            with NoCompute():  # dask inputs too: building reads no values
                lazy = f(*[da.from_array(v, chunks=2) for v in feed])
                assert all(isinstance(g, da.Array) for g in lazy)
            got = dask.compute(*lazy, scheduler="sync")
            for g, w in zip(got, want):
                assert_same_values(g, w, rtol=1e-12, atol=1e-13, what=f"{name}-{i}")


def test_every_op_runs_and_the_one_task_ops_are_the_documented_ones():
    backend = BACKENDS["dask"]
    ops = {name: sg.OPS[name] for name in BUILTIN_OP_NAMES if name not in ("var", "const")}
    assert {n for n, op in ops.items() if not backend.supports(op)} == set()
    # the loops declare their own lowering (one task, lazy slices: symgraph.loops.lower;
    # tests/test_loops_backends.py)
    ops = {n: op for n, op in ops.items() if "dask" not in op.lowerings}
    blocked = set(dask_ops.OVERRIDES) | set(dask_ops.DISPATCH)
    one_task = {n for n, op in ops.items()
                if op.batch is not sg.ops.shape.batch_elementwise and op not in blocked}
    assert one_task == ONE_TASK, f"undocumented: {one_task ^ ONE_TASK}"


def test_a_non_elementwise_user_op_without_a_dask_function_runs_as_one_task(graph):
    calls = []

    def rowsum(v):
        calls.append(v.shape)
        return v.sum(axis=1, keepdims=True)

    op = sg.define_op("dask_test_rowsum", rowsum,
                      shape=lambda inputs, attrs: (inputs[0].shape[0], 1))
    x = sg.var("x", shape=(4, 3))
    xv = np.arange(12.0).reshape(4, 3)
    f = sg.compile(op(x), [x], backend="dask", chunks=(2, 1))
    with NoCompute():
        lazy = f(xv)
    np.testing.assert_array_equal(lazy.compute(), xv.sum(axis=1, keepdims=True))
    assert calls == [(4, 3)]  # the whole array, not its (2, 1) blocks


def test_an_elementwise_user_op_runs_its_numpy_forward_block_by_block(graph):
    blocks = []

    def cube(v):
        blocks.append(v.shape)
        return v ** 3

    op = sg.define_op("dask_test_cube", cube, elementwise=True,
                      vjp=[lambda g, out: g * 3 * sg.square(out.inputs[0])])
    x = sg.var("x", shape=(6, 4))
    y = sg.sum(op(x))
    f = sg.compile([y, sg.grad(y, x)], [x], backend="dask", chunks=(3, 2))
    xv = np.arange(24.0).reshape(6, 4) / 10
    with NoCompute():
        lazy = f(xv)
    assert not blocks
    got = dask.compute(*lazy, scheduler="sync")
    assert sorted(set(blocks)) == [(3, 2)] and len(blocks) == 4  # one call per block
    assert float(got[0]) == pytest.approx(np.sum(xv ** 3), rel=1e-14)
    np.testing.assert_allclose(got[1], 3 * xv ** 2, rtol=1e-14)


def test_a_user_ops_own_dask_function_is_used(graph):
    calls = []

    def blocked(v):
        calls.append(type(v))
        return da.cumsum(v, axis=0)

    op = sg.define_op("dask_test_cumsum", lambda v: np.cumsum(v, axis=0),
                      shape=lambda inputs, attrs: inputs[0].shape)
    op.op.impls = {"dask": blocked}  # what define_op(..., impls={"dask": fn}) records
    x = sg.var("x", shape=(5,))
    f = sg.compile(op(x) * 2.0, [x], backend="dask", chunks=2)
    np.testing.assert_array_equal(f(np.arange(5.0)).compute(), 2 * np.cumsum(np.arange(5.0)))
    assert calls == [da.Array]


def test_the_result_is_lazy_until_computed_and_nothing_reads_a_dask_input(graph):
    def poisoned(block):
        raise RuntimeError("a block of X was computed")

    X = sg.var("X", shape=(None, 10))
    w = sg.var("w", shape=(10,))
    loss = sg.mean(sg.tanh(X @ w))
    f = sg.compile([loss, sg.grad(loss, w)], [X, w], backend="dask")
    Xd = da.ones((1000, 10), chunks=(100, 10)).map_blocks(poisoned, dtype=np.float64)
    computed = []

    class Count(Callback):
        def _start(self, dsk):
            computed.append(1)

    with Count():
        got = f(Xd, np.ones(10))
    assert not computed and all(isinstance(g, da.Array) for g in got)
    with pytest.raises(RuntimeError, match="a block of X was computed"):
        got[1].compute(scheduler="sync")
    # d mean(X) / dX = 1 / count(X) everywhere: X lends only its shape, its blocks never run
    d = sg.grad(sg.mean(X), X)
    assert "count" in sg.compile(d, [X], backend="dask").source
    ones = sg.compile(d, [X], backend="dask")(Xd).compute(scheduler="sync")
    np.testing.assert_array_equal(ones, np.full((1000, 10), 1e-4))


def _largest_block(array) -> int:
    return int(np.prod([max(c) for c in array.chunks])) * array.dtype.itemsize


def test_every_intermediate_block_stays_below_the_chunk_size(graph):
    # the prototype's failure: the gradient of sum(X) * s in X is s broadcast to X's 192 MB
    # shape, which da.broadcast_to alone makes one block
    X, s = sg.var("X", shape=(4000, 6000)), sg.var("s")
    y = (sg.sum(X) * s + sg.sum(sg.tanh(X) * s) + sg.max(X, axis=(0, 1))
         + sg.sum(sg.reshape(X, (6000, 4000))))
    outs = [y, *sg.grad(y, [X, s])]
    f = sg.compile(outs, [X, s], backend="dask")
    Xd = da.random.default_rng(0).standard_normal((4000, 6000), chunks=(250, 6000))  # 12 MB
    limit = 16 * 2**20
    with dask.config.set({"array.chunk-size": "16MiB"}):
        values = f.values(Xd, 0.5, keep=True)
    sizes = {f.plan.nodes[s].opdef.name: _largest_block(v)
             for s, v in enumerate(values) if isinstance(v, da.Array)}
    assert max(sizes.values()) <= limit, sizes
    naive = da.broadcast_to(da.asarray(0.5), (4000, 6000))
    assert _largest_block(naive) == 192_000_000  # what the override avoids


def test_a_constant_fill_stays_compact_in_the_graph_sent_to_workers(graph):
    cloudpickle = pytest.importorskip("cloudpickle")
    X = sg.var("X", shape=(4000, 6000))
    y = sg.tanh(X) + sg.const(np.broadcast_to(np.float64(2.0), (4000, 6000)))  # 192 MB of 2.0
    f = sg.compile(y, [X], backend="dask")
    out = f(da.zeros((4000, 6000), chunks=(500, 6000)))
    assert len(cloudpickle.dumps(dict(out.__dask_graph__()))) < 100_000  # not 192 MB
    assert _largest_block(out) <= dask_ops.chunk_limit()
    np.testing.assert_array_equal(out[::1000, ::3000].compute(scheduler="sync"), 2.0)


def test_first_max_mask_takes_the_first_maximum_across_blocks(graph):
    x = sg.var("x", shape=(3, 4, 5))
    y = sg.sum(sg.max(x, axis=(0, 2)) * np.arange(1.0, 5.0))
    d = sg.grad(y, x)
    xv = np.zeros((3, 4, 5))
    xv[:, 1] = np.arange(15.0).reshape(3, 5) % 4  # ties of the max, in different blocks
    xv[1, 2, 3] = np.nan  # a NaN is the max of its slice, as in NumPy's argmax
    xv[0, 3, 4] = xv[2, 3, 0] = 7.0
    want = sg.evaluate(d, {x: xv})
    got = sg.compile(d, [x], backend="dask", chunks=2)(xv).compute(scheduler="sync")
    np.testing.assert_array_equal(got, want)
    assert got.sum() == 1 + 2 + 3 + 4 and got[2, 3, 0] == 0 and got[0, 3, 4] == 4


def test_chunks_split_numpy_inputs(graph):
    x, v = sg.var("x", shape=(6, 4)), sg.var("v", shape=(4,))
    y = x * v
    assert sg.compile(y, [x, v], backend="dask")(np.ones((6, 4)), np.ones(4)).chunks == \
        ((6,), (4,))  # "auto": small arrays are one block
    f = sg.compile(y, [x, v], backend="dask", chunks={"x": (2, 4), v: 2})
    out = f(np.ones((6, 4)), np.arange(4.0))
    assert out.chunks == ((2, 2, 2), (2, 2)) and out.sum().compute() == 36.0
    with pytest.raises(sg.SymgraphError, match="chunks names 'z'"):
        sg.compile(y, [x, v], backend="dask", chunks={"z": 2})
    with pytest.raises(sg.SymgraphError, match="not a chunk size"):
        sg.compile(y, [x, v], backend="dask", chunks=2.5)
    with pytest.raises(sg.SymgraphError, match=r"chunks=\(2, 2\) do not fit the input 'v'"):
        sg.compile(y, [x, v], backend="dask", chunks=(2, 2))(np.ones((6, 4)), np.ones(4))


def test_inputs_are_checked_without_computing_them(graph):
    x = sg.var("x", shape=(None, 3))
    f = sg.compile(sg.sum(x * 2.0), [x], backend="dask")
    assert float(f(da.ones((4, 3), dtype=np.int64, chunks=2))) == 24.0  # int64 becomes float64
    assert f([[1, 2, 3]]).compute() == 12.0
    with pytest.raises(sg.ShapeError, match=r"'x'.*\(4, 2\)"):
        f(da.ones((4, 2)))
    h = sg.var("h", shape=(2,), dtype="float32")
    with pytest.raises(sg.SymgraphError, match=r"'h'.*float64.*astype\('float32'\)"):
        sg.compile(h * 2, [h], backend="dask")(da.ones(2))
    with pytest.raises(sg.SymgraphError, match="takes 1 arrays"):
        f()
    a, b = sg.var("a", shape=(None,)), sg.var("b", shape=(None,))
    with pytest.raises(sg.SymgraphError, match=r"op 'add'"):
        sg.compile(a + b, [a, b], backend="dask")(np.ones(2), np.ones(3))


def test_import_symgraph_does_not_import_dask():
    code = ("import sys, symgraph, symgraph.backends.dask\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- out of core: W3's loss and gradient over 2 GB of X on two 400 MB workers -----------------

ROWS, COLS, BLOCK = 2_700_000, 100, 50_000  # 2.16 GB of float64, 43 MB blocks


def x_block(block_info=None):
    """Block ``i`` of X: uniform in [-1, 1), seeded by ``i`` (so NumPy can regenerate it)."""
    i = block_info[None]["chunk-location"][0]
    rows = block_info[None]["chunk-shape"][0]
    return 2 * np.random.default_rng(i).random((rows, COLS)) - 1


def lazy_x():
    return da.map_blocks(x_block, dtype=np.float64, chunks=(
        (BLOCK,) * (ROWS // BLOCK) + ((ROWS % BLOCK,) if ROWS % BLOCK else ()), (COLS,)))


def test_w3_loss_and_gradient_over_2gb_on_two_400mb_workers():
    distributed = pytest.importorskip("distributed")
    with sg.Graph():
        X, w = sg.var("X", shape=(None, COLS)), sg.var("w", shape=(COLS,))
        loss = sg.mean(sg.tanh(X @ w))
        f = sg.compile([loss, sg.grad(loss, w)], [X, w], backend="dask")
    wv = np.linspace(-0.1, 0.1, COLS)
    Xd = lazy_x()
    assert Xd.nbytes >= 2e9
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="400MB",
                                  processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        with distributed.get_task_stream(client) as stream:
            got = dask.compute(*f(Xd, wv))
        workers = {t["worker"] for t in stream.data}
    assert len(workers) == 2, workers  # (25 to 40 s here, much of it generating X twice)
    total, grad = 0.0, np.zeros(COLS)
    for i, n in enumerate(Xd.chunks[0]):  # the chunk-wise NumPy computation
        block = 2 * np.random.default_rng(i).random((n, COLS)) - 1
        t = np.tanh(block @ wv)
        total += t.sum()
        grad += block.T @ (1 - t * t)
    np.testing.assert_allclose(got[0], total / ROWS, rtol=1e-10)
    np.testing.assert_allclose(got[1], grad / ROWS, rtol=1e-10)


def test_unknown_dimensions_through_one_task_ops(graph):
    # a one-task op's result takes its size from this call's inputs (by the op's shape
    # rule, or its shape-only input), so the elementwise ops after it align blocks
    x = sg.var("x", shape=(None,))
    y = sg.sum(sg.sort(x) * x) + sg.sum(sg.take_along_axis(x, sg.argsort(x), axis=0) * x)
    outs = [y, sg.grad(y, x)]
    xv = np.array([3.0, -1.0, 2.5, 0.5, 7.0, -2.0, 1.0])
    want = sg.evaluate(outs, {x: xv})
    got = dask.compute(*sg.compile(outs, [x], backend="dask", chunks=3)(xv), scheduler="sync")
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-14)
