"""The ``jax`` backend's rows (issue 17), each beside hand-written JAX in the same run:

- W3a: build + grad + ``sg.compile(..., backend="jax")`` + first call of the W3 MLP step,
  beside JAX's ``jax.jit(jax.value_and_grad(loss))`` first call (target <= 0.5 s).
- W3b: one warm call of that step, as a ratio of the hand-written ``jax.jit`` of
  ``jax.value_and_grad`` of the same net, sampled in alternation (target <= 1.1x).
- W4b: the Rosenbrock HVP at n = 10^5 (``sg.hvp``), as a ratio of
  ``jax.jit(jax.jvp(jax.grad))`` (target <= 1.1x).

Both sides get JAX arrays already on the device and wait for the result
(``block_until_ready``); x64 is on for the hand-written side only inside its calls, as
symgraph does. ``benchmarks/gpu_check.py`` runs these rows on whatever device JAX has.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks import w3_mlp, w4_hessian
from benchmarks.common import Row, check, describe_error, once, paired, peer

W = "jax"


def _mlp_symgraph(args: list, jax: Any) -> tuple[float, Any]:
    """(seconds of build + grad + compile + first call, the compiled step on ``args``)."""
    def build() -> Any:
        f = w3_mlp.symgraph_step(args, backend="jax")
        jax.block_until_ready(f(*args))
        return f

    t, f = once(build)
    return t, f


def _mlp_hand(args: list, jax: Any) -> tuple[float, Any]:
    jnp = jax.numpy

    def loss(p: list, X: Any, Y: Any) -> Any:
        h1 = jnp.tanh(X @ p[0] + p[1])
        h2 = jnp.tanh(h1 @ p[2] + p[3])
        logp = jax.nn.log_softmax(h2 @ p[4] + p[5], axis=-1)
        return (-(Y * logp).sum() / w3_mlp.BATCH
                + w3_mlp.LAM * sum((p[i] ** 2).sum() for i in (0, 2, 4)))

    def build() -> Any:
        fn = jax.jit(jax.value_and_grad(loss))
        with jax.enable_x64(True):
            jax.block_until_ready(fn(args[:6], args[6], args[7]))
        return fn

    return once(build)


def run_mlp(jax: Any) -> list[Row]:
    params, X, Y = w3_mlp.data()
    with jax.enable_x64(True):
        args = [jax.device_put(a) for a in (*params, X, Y)]
    want = w3_mlp.hand(*params, X, Y)
    # XLA's one-time start-up (its CPU client, first compile) is paid here, by neither side
    with jax.enable_x64(True):
        jax.block_until_ready(jax.jit(lambda a: a.T @ a + 1.0)(args[0]))
    t_sg, f = _mlp_symgraph(args, jax)
    t_hand, h = _mlp_hand(args, jax)

    def ours() -> Any:
        return jax.block_until_ready(f(*args))

    def theirs() -> Any:
        with jax.enable_x64(True):
            return jax.block_until_ready(h(args[:6], args[6], args[7]))

    status = w3_mlp._check([np.asarray(v) for v in ours()], want)
    ref = w3_mlp._check([np.asarray(v) for v in w3_mlp._loss_and_grads(theirs())], want)
    t_ref, t_call = paired(theirs, ours, budget=4.0)
    return [Row("W3", "W3a", "JAX (hand)", "build + grad + compile + first call", t_hand,
                status=ref),
            Row("W3", "W3a", "symgraph jax", "build + grad + compile + first call", t_sg,
                ratio=t_sg / t_hand, ref="JAX (hand)", target="<= 0.5 s", met=t_sg <= 0.5),
            Row("W3", "W3b", "JAX (hand)", "loss + grads call", t_ref, status=ref),
            Row("W3", "W3b", "symgraph jax", "loss + grads call", t_call, ratio=t_call / t_ref,
                ref="JAX (hand), paired", status=status, target="<= 1.1x JAX",
                met=t_call / t_ref <= 1.1 and status == "ok")]


def run_hvp(jax: Any) -> list[Row]:
    import symgraph as sg

    rng = np.random.default_rng(0)
    x, v = rng.normal(size=w4_hessian.N_BIG), rng.normal(size=w4_hessian.N_BIG)
    want = w4_hessian.hvp_np(x, v)
    with jax.enable_x64(True):
        xj, vj = jax.device_put(x), jax.device_put(v)
    with sg.Graph():
        xs, vs = sg.var("x", shape=x.shape), sg.var("v", shape=v.shape)
        a, b = xs[1:], xs[:-1]
        f = (100 * sg.square(a - sg.square(b)) + sg.square(1 - b)).sum()
        h = sg.compile(sg.hvp(f, xs, vs), [xs, vs], backend="jax")

    def rosen(x: Any) -> Any:
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()

    hand = jax.jit(lambda x, v: jax.jvp(jax.grad(rosen), (x,), (v,))[1])

    def ours() -> Any:
        return jax.block_until_ready(h(xj, vj))

    def theirs() -> Any:
        with jax.enable_x64(True):
            return jax.block_until_ready(hand(xj, vj))

    status, ref = check(np.asarray(ours()), want, rtol=1e-9), check(np.asarray(theirs()), want,
                                                                     rtol=1e-9)
    t_ref, t_ours = paired(theirs, ours, budget=2.0)
    case = "W4b n=1e5"
    return [Row("W4", case, "JAX (hand)", "HVP", t_ref, status=ref),
            Row("W4", case, "symgraph jax", "HVP", t_ours, ratio=t_ours / t_ref,
                ref="JAX (hand), paired", status=status, target="<= 1.1x JAX",
                met=t_ours / t_ref <= 1.1 and status == "ok")]


def run(quick: bool = False) -> list[Row]:
    """The jax backend's W3 and W4b rows (JAX missing: one row saying so)."""
    jax = peer("jax")
    if jax is None:
        return [Row("W3", "W3b", "symgraph jax", "loss + grads call", status="not installed")]
    rows: list[Row] = []
    for part in (run_mlp, run_hvp):
        try:
            rows += part(jax)
        except Exception as exc:  # noqa: BLE001 - a failure is a row, not a crash
            rows.append(Row("W3" if part is run_mlp else "W4", part.__name__, "symgraph jax",
                            "error", status=describe_error(exc)))
    return rows



