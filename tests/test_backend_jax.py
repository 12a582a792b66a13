"""The ``jax`` backend: every op case against ``sg.evaluate`` (value and gradient, NaN and
inf too), the ops it lacks, x64 kept local, dtypes, range errors, the scalar-graph limit,
sharding on four host devices (in a subprocess), and ``import symgraph`` not importing jax."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from opcases import (BUILTIN_OP_NAMES, all_cases, case_inputs, case_outputs,
                     with_negative_zeros, with_specials)
from test_compile_matches_evaluate import assert_same_values

import symgraph as sg
from symgraph.backends import BACKENDS
from symgraph.backends import jax as jax_backend

jax = pytest.importorskip("jax")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# The built-in ops without a JAX lowering (see symgraph/backends/jax.py): none (the loops
# lower to lax.scan / lax.cond / lax.while_loop: tests/test_loops_backends.py).
LACKING: set[str] = set()
CASES = all_cases()
# LAPACK's and XLA's LU factorizations order their operations differently, and the order
# decides the sign of a zero in the solution (the rest agrees to rounding).
ZERO_SIGN_BY_ALGORITHM = {"solve"}
_HALVE = sg.define_op("jax_test_halve", lambda v: v / 2)  # a user op: no JAX lowering
_TRACED: list = []
_THIRD = sg.define_op("jax_test_third", lambda v: v / 3,
                      impls={"jax": lambda v: _TRACED.append(v.shape) or v / 3})


def _supported(node: sg.Node) -> str | None:
    """The name of an op of ``node``'s ancestors the jax backend lacks, or None."""
    seen, stack = set(), [node]
    while stack:
        n = stack.pop()
        if n.id in seen:
            continue
        seen.add(n.id)
        if n.op not in ("var", "const") and not BACKENDS["jax"].supports(n.opdef):
            return n.opdef.name
        stack.extend(n.inputs)
    return None


@pytest.mark.parametrize(("name", "i", "case"), CASES, ids=[f"{n}-{i}" for n, i, _ in CASES])
def test_every_op_case_equals_evaluate_value_and_gradient(name, i, case, rng):
    with sg.Graph():
        nodes, values = case_inputs(case, rng)
        outs = case_outputs(case, nodes)
        lacking = next((m for m in map(_supported, outs) if m), None)
        if lacking is not None:
            assert lacking in LACKING, f"the jax backend lacks {lacking!r}, not documented"
            names = "|".join(sorted(LACKING))
            with pytest.raises(sg.SymgraphError, match=rf"backend 'jax' cannot run the op "
                                                       rf"'({names})'"):
                sg.compile(outs, nodes, backend="jax")
            return
        f = sg.compile(outs, nodes, backend="jax")
        feeds = [values, with_specials(values)]
        if name not in ZERO_SIGN_BY_ALGORITHM:
            feeds.append(with_negative_zeros(values))
        for feed in feeds:
            try:
                want = sg.evaluate(outs, dict(zip(nodes, feed)))
            except sg.SymgraphError:
                assert feed is not values, "evaluate failed on the case's own values"
                continue  # evaluate refuses these specials (a range check): nothing to equal
            got = f(*feed)
            for g, w in zip(got, want):
                assert isinstance(g, jax.Array)
                g = np.asarray(g)
                assert_same_values(g, w, rtol=1e-10, atol=1e-12, what=f"{name}-{i}")


def test_the_ops_it_lacks_are_the_documented_ones():
    import symgraph.loops  # noqa: F401 - registers the loop ops (if symgraph did not yet)
    lacking = {name for name in BUILTIN_OP_NAMES | LACKING
               if name not in ("var", "const") and not BACKENDS["jax"].supports(sg.OPS[name])}
    assert lacking == LACKING, f"undocumented: {lacking ^ LACKING}"


def test_a_user_op_runs_its_jax_function_or_raises_at_compile_time_naming_it(graph):
    a = sg.var("a", shape=(3,))
    with pytest.raises(sg.SymgraphError, match=r"backend 'jax' cannot run the op "
                                               r"'jax_test_halve'.*another backend"):
        sg.compile(_HALVE(a), [a], backend="jax")
    np.testing.assert_allclose(sg.compile(_HALVE(a), [a])(np.ones(3)), 0.5)
    # a user op that brings its own JAX function runs it
    got = sg.compile(_THIRD(a), [a], backend="jax")(np.full(3, 3.0))
    assert isinstance(got, jax.Array) and np.asarray(got).tolist() == [1.0] * 3
    assert _TRACED == [(3,)]  # its JAX function, traced once


def test_a_loop_runs_as_lax_scan_and_returns_a_jax_array(graph):
    x = sg.var("x")
    y = sg.fori_loop(0, 3, lambda i, c: c * x + i, 1.0)
    got = sg.compile([y, sg.grad(y, x)], [x], backend="jax")(2.0)
    assert all(isinstance(v, jax.Array) for v in got)
    assert [float(v) for v in got] == [12.0, 13.0]  # x^3 + x + 2 and 3x^2 + 1 at 2


def test_singular_and_not_positive_definite_matrices_raise_naming_the_node(graph):
    a, b = sg.var("a", shape=(2, 2, 2)), sg.var("b", shape=(2, 2))
    f = sg.compile([sg.linalg.inv(a), sg.linalg.solve(a, b)], [a, b], backend="jax")
    good = np.array([[[2.0, 1.0], [1.0, 3.0]], [[1.0, 0.0], [0.0, 4.0]]])
    np.testing.assert_allclose(f(good, np.ones((2, 2)))[0], np.linalg.inv(good), rtol=1e-14)
    singular = good.copy()
    singular[1] = [[1.0, 2.0], [2.0, 4.0]]
    for fn in (f, sg.compile(sg.linalg.solve(a, b), [a, b], backend="numpy")):
        with pytest.raises(sg.SymgraphError, match=r"op '(inv|solve)'.*singular"):
            fn(singular, np.ones((2, 2)))
    # a NaN matrix is NaN for its own batch entry, not an error (evaluate's guard)
    spoiled = good.copy()
    spoiled[0, 0, 0] = np.nan
    got = f(spoiled, np.ones((2, 2)))
    assert np.isnan(got[0][0]).all() and np.isfinite(got[0][1]).all()
    c = sg.compile(sg.linalg.cholesky(b), [b], backend="jax")
    with pytest.raises(sg.SymgraphError, match=r"op 'cholesky'.*not positive definite"):
        c(np.array([[1.0, 2.0], [2.0, 1.0]]))


def test_x64_is_on_only_inside_the_call_and_float32_stays_float32(graph):
    before = jax.config.jax_enable_x64
    x = sg.var("x", shape=(3,))
    h = sg.var("h", shape=(3,), dtype="float32")
    y = sg.sum(sg.exp(x) * 1e-300)
    f = sg.compile([y, sg.grad(y, x), h * 2], [x, h], backend="jax")
    got = f(np.ones(3), np.ones(3))
    assert jax.config.jax_enable_x64 == before
    assert got[0].dtype == np.float64 and float(got[0]) == pytest.approx(3 * np.e * 1e-300)
    assert got[2].dtype == np.float32
    np.testing.assert_allclose(got[1], np.e * 1e-300)


def test_inputs_convert_to_the_declared_dtype_and_are_checked(graph):
    x = sg.var("x", shape=(None, 2))
    f = sg.compile(sg.sum(x, axis=1), [x], backend="jax")
    np.testing.assert_array_equal(f([[1, 2], [3, 4]]), [3.0, 7.0])  # ints become float64
    with jax.enable_x64(True):
        j = jax.numpy.asarray([[1.0, 2.0]], dtype="float32")
    assert f(j).dtype == np.float64 and f(np.ones((5, 2))).shape == (5,)
    with pytest.raises(sg.ShapeError, match="'x'"):
        f(np.ones((2, 3)))
    with pytest.raises(sg.SymgraphError, match="takes 1 arrays"):
        f()


def test_jitted_once_per_input_shapes_and_dtypes(graph):
    x = sg.var("x", shape=(None, 3))
    f = sg.compile([sg.tanh(x), sg.grad(sg.sum(sg.tanh(x)), x)], [x], backend="jax")
    for rows in (2, 2, 5, 2):
        got = f(np.full((rows, 3), 0.5))
        np.testing.assert_allclose(got[1], 1 - np.tanh(0.5) ** 2, rtol=1e-15)
    assert f.jitted._cache_size() == 2
    with pytest.raises(sg.SymgraphError, match="does not fit float32"):
        g = sg.compile(sg.var("h", shape=(1,), dtype="float32") * 2, ["h"], backend="jax")
        with jax.enable_x64(True):
            g(jax.numpy.asarray([1e300]))


def test_an_index_out_of_range_raises_naming_the_node(graph):
    x = sg.var("x", shape=(4,))
    i = sg.var("i", shape=(2,), dtype="int64")
    y = x[i]
    f = sg.compile([y, sg.grad(sg.sum(y * y), x)], [x, i], backend="jax")
    got = f(np.arange(4.0), np.array([3, -4]))
    np.testing.assert_array_equal(got[0], [3.0, 0.0])
    np.testing.assert_array_equal(got[1], [0.0, 0.0, 0.0, 6.0])
    with pytest.raises(sg.SymgraphError, match=r"op 'gather'.*out of range for axis 0 of size 4"):
        f(np.arange(4.0), np.array([1, 4]))


def test_large_scalar_graphs_are_refused_naming_the_other_backends(graph):
    x = sg.var("x")
    y = x
    for _ in range(jax_backend.MAX_SCALAR_STEPS + 1):
        y = sg.sin(y)
    with pytest.raises(sg.SymgraphError, match=r'scalar steps.*backend="python" or '
                                               r'backend="numba"'):
        sg.compile(y, [x], backend="jax")


def test_shardings_must_name_inputs_or_outputs(graph):
    from jax.sharding import PartitionSpec as P
    x = sg.var("x", shape=(4, 2))
    with pytest.raises(sg.SymgraphError, match="'nobody'.*neither an input nor an output"):
        sg.compile(sg.sum(x), [x], backend="jax", shardings={"nobody": P()})
    with pytest.raises(sg.SymgraphError, match="PartitionSpec"):
        sg.compile(sg.sum(x), [x], backend="jax", shardings={x: "batch"})


_SHARDED = textwrap.dedent("""
    import jax, numpy as np, symgraph as sg
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    assert len(jax.devices()) == 4, jax.devices()
    rng = np.random.default_rng(0)
    with sg.Graph():
        X, t = sg.var("X", shape=(None, 5)), sg.var("t", shape=(None, 1))
        W1, W2 = sg.var("W1", shape=(5, 8)), sg.var("W2", shape=(8, 1))
        h = sg.tanh(X @ W1)
        pred = h @ W2
        loss = sg.mean((pred - t) ** 2)
        outs = [loss, *sg.grad(loss, [W1, W2]), pred]
        ins = [X, t, W1, W2]
        plain = sg.compile(outs, ins, backend="jax")
        asked = sg.compile(outs, ins, backend="jax",
                           shardings={X: P("batch"), t: P("batch"), pred: P("batch")})
    vals = [rng.standard_normal((16, 5)), rng.standard_normal((16, 1)),
            rng.standard_normal((5, 8)), rng.standard_normal((8, 1))]
    want = plain(*vals)
    got = asked(*vals)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-12)
    mesh = Mesh(np.array(jax.devices()), ("batch",))
    assert got[3].sharding.is_equivalent_to(NamedSharding(mesh, P("batch")), 2), got[3].sharding
    assert len(got[3].sharding.device_set) == 4
    # inputs placed by the caller run sharded with no shardings= at all
    with jax.enable_x64(True):
        Xs = jax.device_put(vals[0], NamedSharding(mesh, P("batch")))
    placed = plain(Xs, *vals[1:])
    for g, w in zip(placed, want):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-12)
    assert len(placed[3].sharding.device_set) == 4
    assert not jax.config.jax_enable_x64
    print("ok")
""")


def test_a_batch_sharded_mlp_step_equals_the_unsharded_one_on_four_devices():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4",
               JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, "-c", _SHARDED], env=env, capture_output=True, check=False,
                          text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]


_SHARDING_MISTAKES = textwrap.dedent("""
    import jax, numpy as np, pytest, symgraph as sg
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    assert len(jax.devices()) == 4, jax.devices()
    with sg.Graph():
        x = sg.var("x", shape=(None, 3))
        y, s = sg.sin(x), sg.sum(x, axis=1)
        # an axis the default mesh lacks: at compile time, naming the input and the axis
        with pytest.raises(sg.SymgraphError, match=r"input 'x'.*mesh axis 'data'.*axes are "
                           r"\\('batch',\\).*one axis named 'batch'.*mesh=jax.sharding.Mesh"):
            sg.compile(y, [x], backend="jax", shardings={x: P("data", None)})
        with pytest.raises(sg.SymgraphError, match=r"output 'sum.*mesh axis 'rows'"):
            sg.compile(s, [x], backend="jax", shardings={s: P("rows")})
        with pytest.raises(sg.SymgraphError, match=r"input 'x'.*partitions 3 dimensions.*has 2"):
            sg.compile(y, [x], backend="jax", shardings={x: P("batch", None, None)})
        # a static dimension that does not divide: at compile time
        with pytest.raises(sg.SymgraphError, match=r"input 'x'.*dimension 1 \\(of size 3\\) "
                           r"into 4 parts.*multiple of 4"):
            sg.compile(y, [x], backend="jax", shardings={x: P(None, "batch")})
        with pytest.raises(sg.SymgraphError, match=r"mesh is 'devices'.*jax.sharding.Mesh"):
            sg.compile(y, [x], backend="jax", shardings={x: P("batch")}, mesh="devices")
        # a fed batch that does not divide across the 4 devices: at the call
        f = sg.compile(y, [x], backend="jax", shardings={x: P("batch", None)})
        np.testing.assert_allclose(np.asarray(f(np.ones((8, 3)))), np.sin(np.ones((8, 3))))
        with pytest.raises(sg.SymgraphError, match=r"input 'x'.*was fed shape \\(6, 3\\).*"
                           r"dimension 0 into 4 parts.*multiple of 4.*pad the batch"):
            f(np.ones((6, 3)))
        g = sg.compile(s, [x], backend="jax", shardings={s: P("batch")})
        with pytest.raises(sg.SymgraphError, match=r"output 'sum.*came out with shape "
                           r"\\(6,\\).*multiple of 4"):
            g(np.ones((6, 3)))
        np.testing.assert_allclose(np.asarray(g(np.ones((4, 3)))), np.full(4, 3.0))
        # the user's own mesh: its axis names are the ones to use
        mesh = Mesh(np.array(jax.devices()).reshape(2, 2), ("data", "model"))
        h = sg.compile(y, [x], backend="jax", shardings={x: P("data", None)}, mesh=mesh)
        np.testing.assert_allclose(np.asarray(h(np.ones((2, 3)))), np.sin(np.ones((2, 3))))
        with pytest.raises(sg.SymgraphError, match=r"was fed shape \\(3, 3\\).*into 2 parts"
                           r" \\(mesh axes \\('data',\\)\\)"):
            h(np.ones((3, 3)))
        with pytest.raises(sg.SymgraphError, match=r"mesh axis 'batch'.*axes are "
                           r"\\('data', 'model'\\); name one"):
            sg.compile(y, [x], backend="jax", shardings={x: P("batch")}, mesh=mesh)
        # a NamedSharding given as it is: checked against its own mesh
        with pytest.raises(sg.SymgraphError, match=r"dimension 1 \\(of size 3\\) into 2 "):
            sg.compile(y, [x], backend="jax", shardings={x: NamedSharding(mesh, P(None, "model"))})
    print("ok")
""")


def test_sharding_mistakes_raise_symgraph_errors_naming_the_node_on_four_devices():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4",
               JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, "-c", _SHARDING_MISTAKES], env=env,
                          capture_output=True, check=False, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]


def test_import_symgraph_does_not_import_jax():
    code = "import sys, symgraph; print('jax' in sys.modules or 'jaxlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                          timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "False", done.stdout + done.stderr


def test_mixed_integer_and_float32_operands_compute_in_numpys_dtype():
    """jnp computes int64 + float32 in float32 (JAX's promotion), NumPy and evaluate in
    float64: 123456789 + 0.1 came out 2.9 off, 123456789 / 0.1 64.4 off."""
    feeds = {"i": np.array([123456789, 3, -7]), "f": np.array([0.1, 1.3, 2.7], np.float32),
             "u": np.array([200, 3, 255], np.uint8), "d": np.array([1e-9, -2.5, 3.0])}
    with sg.Graph():
        i = sg.var("i", shape=(3,), dtype="int64")
        f = sg.var("f", shape=(3,), dtype="float32")
        u = sg.var("u", shape=(3,), dtype="uint8")
        d = sg.var("d", shape=(3,))
        outs = [i + f, i * f, f - i, i / f, sg.maximum(i, f), sg.where(f > 0, i, f),
                sg.arctan2(i, f), i < f + 123456788, u + f, u * i, sg.mod(i, f), i // f,
                u - d, sg.minimum(u, i)]
        want = sg.evaluate(outs, feeds)
        got = sg.compile(outs, [i, f, u, d], backend="jax")(*feeds.values())
    for o, w, g in zip(outs, want, got):
        g = np.asarray(g)
        assert g.dtype == w.dtype and np.array_equal(g, w, equal_nan=True), (str(o), w, g)
    # and the ops whose dtype is their inputs' promotion (123456789 @ 0.1 came out 1.19 off)
    big = {"I": np.array([[123456789, 3], [-7, 2]]),
           "F": np.array([[0.1, 1.3], [2.7, 1.0]], np.float32)}
    with sg.Graph():
        I = sg.var("I", shape=(2, 2), dtype="int64")
        F = sg.var("F", shape=(2, 2), dtype="float32")
        outs = [I @ F, sg.concatenate([I, F]), sg.stack([I, F]), sg.einsum("ij,jk->ik", I, F),
                sg.tensordot(I, F, 1), sg.kron(I, F), sg.inner(I, F), sg.clip(F, I, 1e9)]
        want = sg.evaluate(outs, big)
        got = sg.compile(outs, [I, F], backend="jax")(*big.values())
    for o, w, g in zip(outs, want, got):
        g = np.asarray(g)
        assert g.dtype == w.dtype, str(o)
        np.testing.assert_allclose(g, w, rtol=1e-15, atol=0, err_msg=str(o))
