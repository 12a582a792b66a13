"""W6 (issue 15): RK4 of a damped pendulum as a loop, T in {100, 1000, 10000} steps.

theta'' = -k sin(theta) - c omega (k = g/L and c are inputs), RK4 with a fixed step
``DT``; loss = theta(T) + 0.5 omega(T); the gradient w.r.t. (k, c, theta0, omega0).
Systems: symgraph ``sg.fori_loop`` (one loop node; backends python, numba, jax),
symgraph unrolled (T copies of the step), JAX ``lax.scan`` under ``jit(value_and_grad)``,
PyTensor ``scan`` + ``pytensor.grad`` (its default mode, and NUMBA mode where it works),
and the reference: the same RK4 in plain Python with a hand-written adjoint sweep
(:func:`hand`, checked against finite differences in test_benchmarks.py).

Measures: *build+grad* (the loop and its gradient as graphs; JAX: tracing to a jaxpr),
*compile* (one cold ``compile`` + first call: symgraph compiles a loop's body on its first
run, JAX and PyTensor compile on ``jit``/``function``), *grad eval* (warm calls), and the
peak memory (tracemalloc: NumPy's buffers and Python objects) of one warm gradient call
at T = 10^4 with and without ``checkpoint=100``. Targets (issue 15): build+grad+compile
of T = 10^4 under 0.5 s; gradient eval within 2x of JAX ``lax.scan``; peak memory with
``checkpoint=100`` under a fifth of the unchecked run.
"""

from __future__ import annotations

import math
import tracemalloc
from typing import Any

from benchmarks.common import (Row, check, describe_error, fmt_value, isolated, once, paired,
                               peer, timeit)

W = "W6"
DT = 0.01
POINT = (9.81, 0.3, 1.0, 0.0)  # k = g/L, c, theta0, omega0
LENGTHS = (100, 1000, 10_000)
RTOL = 1e-9  # the systems order RK4's sums differently: rounding over 10^4 steps


def hand(T: int, k: float, c: float, th0: float, om0: float) -> list[float]:
    """[loss, dk, dc, dtheta0, domega0]: RK4 forward (states kept), then the adjoint
    sweep written out stage by stage.

    >>> loss, dk, dc, dth, dom = hand(0, 9.81, 0.3, 1.0, 0.0)
    >>> (loss, dk, dc, dth, dom)
    (1.0, 0.0, 0.0, 1.0, 0.5)
    """
    h = DT
    states = []
    th, om = th0, om0
    for _ in range(T):
        states.append((th, om))
        _, _, (a1, a2, a3, a4), (b1, b2, b3, b4) = _stages(th, om, k, c)
        th, om = th + h / 6 * (a1 + 2 * a2 + 2 * a3 + a4), om + h / 6 * (b1 + 2 * b2 + 2 * b3 + b4)
    loss = th + 0.5 * om
    gth, gom, gk, gc = 1.0, 0.5, 0.0, 0.0
    for th, om in reversed(states):
        ts, os_, _, _ = _stages(th, om, k, c)  # this step's stages, recomputed
        ga = [h / 6 * gth, h / 3 * gth, h / 3 * gth, h / 6 * gth]
        gb = [h / 6 * gom, h / 3 * gom, h / 3 * gom, h / 6 * gom]
        nth, nom = gth, gom  # the direct terms th + ..., om + ...
        for s, scale in ((3, h), (2, 0.5 * h), (1, 0.5 * h), (0, 0.0)):
            # stage s: (a, b) = (o, -k sin t - c o), with (t, o) = (th, om) + scale * stage s-1
            gts = gb[s] * (-k * math.cos(ts[s]))
            gos = ga[s] - c * gb[s]
            gk += gb[s] * -math.sin(ts[s])
            gc += gb[s] * -os_[s]
            nth += gts
            nom += gos
            if s:
                ga[s - 1] += scale * gts
                gb[s - 1] += scale * gos
        gth, gom = nth, nom
    return [loss, gk, gc, gth, gom]


def _stages(th: float, om: float, k: float, c: float) -> tuple:
    """One RK4 step's stage points ``(t1..t4)``, ``(o1..o4)`` and slopes ``(a1..a4)``,
    ``(b1..b4)`` of theta' = omega, omega' = -k sin(theta) - c omega.

    >>> _stages(0.0, 0.0, 9.81, 0.3)[2]
    (0.0, 0.0, 0.0, 0.0)
    """
    h = DT
    a1, b1 = om, -k * math.sin(th) - c * om
    t2, o2 = th + 0.5 * h * a1, om + 0.5 * h * b1
    a2, b2 = o2, -k * math.sin(t2) - c * o2
    t3, o3 = th + 0.5 * h * a2, om + 0.5 * h * b2
    a3, b3 = o3, -k * math.sin(t3) - c * o3
    t4, o4 = th + h * a3, om + h * b3
    a4, b4 = o4, -k * math.sin(t4) - c * o4
    return (th, t2, t3, t4), (om, o2, o3, o4), (a1, a2, a3, a4), (b1, b2, b3, b4)


# --- symgraph ---------------------------------------------------------------------------------


def _step(sg: Any, th: Any, om: Any, k: Any, c: Any) -> tuple[Any, Any]:
    """One RK4 step, written once for the loop body and the unrolled graph."""
    def rhs(t: Any, o: Any) -> tuple[Any, Any]:
        return o, -k * sg.sin(t) - c * o
    h = DT
    a1, b1 = rhs(th, om)
    a2, b2 = rhs(th + 0.5 * h * a1, om + 0.5 * h * b1)
    a3, b3 = rhs(th + 0.5 * h * a2, om + 0.5 * h * b2)
    a4, b4 = rhs(th + h * a3, om + h * b3)
    return th + h / 6 * (a1 + 2 * a2 + 2 * a3 + a4), om + h / 6 * (b1 + 2 * b2 + 2 * b3 + b4)


def symgraph_build(T: int, checkpoint: int | None = None, unrolled: bool = False) -> tuple:
    """(graph, outputs [loss, *grads], inputs): the loop (or T steps) and its gradient."""
    import symgraph as sg

    g = sg.Graph()
    with g:
        k, c, th0, om0 = (sg.var(n) for n in ("k", "c", "theta0", "omega0"))
        if unrolled:
            th, om = th0, om0
            for _ in range(T):
                th, om = _step(sg, th, om, k, c)
        else:
            th, om = sg.fori_loop(0, T, lambda i, s: _step(sg, s[0], s[1], k, c), (th0, om0),
                                  checkpoint=checkpoint)
        loss = th + 0.5 * om
        ins = [k, c, th0, om0]
        outs = [loss, *sg.grad(loss, ins)]
    return g, outs, ins


def symgraph_case(T: int, backend: str = "python", checkpoint: int | None = None,
                  unrolled: bool = False) -> dict:
    """Build+grad seconds, compile (+ first call) seconds, and the compiled function."""
    import symgraph as sg

    t_build, (g, outs, ins) = once(lambda: symgraph_build(T, checkpoint, unrolled))
    opts = {"trust_input": True, "python_scalars": True} if backend == "python" else {}

    def compile_and_call() -> Any:
        with g:
            f = sg.compile(outs, ins, backend=backend, **opts)
        return f, f(*POINT)

    t_compile, (f, value) = once(compile_and_call)
    return {"build": t_build, "compile": t_compile, "fn": f, "value": _floats(value)}


def unrolled_child(T: int) -> dict:
    """For a child process (:func:`isolated`): symgraph unrolled at ``T``, JSON only."""
    try:
        res = symgraph_case(T, unrolled=True)
        f = res.pop("fn")
        res["eval"] = timeit(lambda: f(*POINT), budget=0.5, repeat=3)
        res["status"] = "ok"
        return res
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        return {"status": describe_error(exc)}


def peak_memory(T: int, checkpoint: int | None) -> dict:
    """Peak bytes (tracemalloc) of one warm call of the compiled gradient, and its value."""
    res = symgraph_case(T, checkpoint=checkpoint)
    f = res["fn"]
    f(*POINT)
    tracemalloc.start()
    try:
        value = f(*POINT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return {"peak": peak, "value": _floats(value)}


def _floats(value: Any) -> list[float]:
    import numpy as np

    return [float(v) for v in np.ravel(np.asarray(value, dtype=float))]


# --- peers ------------------------------------------------------------------------------------


def jax_case(T: int) -> dict:
    """JAX (x64): ``lax.scan`` of the step, ``jit(value_and_grad)`` over the 4 inputs."""
    jax = peer("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def loss(k: Any, c: Any, th0: Any, om0: Any) -> Any:
        def body(s: Any, _: Any) -> tuple:
            return _step(jnp, s[0], s[1], k, c), None
        (th, om), _ = jax.lax.scan(body, (th0, om0), None, length=T)
        return th + 0.5 * om

    vg = jax.value_and_grad(loss, argnums=(0, 1, 2, 3))
    args = [jnp.asarray(v, dtype=jnp.float64) for v in POINT]
    t_build, _ = once(lambda: jax.make_jaxpr(vg)(*args))
    fn = jax.jit(vg)

    def call() -> Any:
        return jax.block_until_ready(fn(*args))

    t_compile, (v, g) = once(call)
    return {"build": t_build, "compile": t_compile, "call": call,
            "value": [float(v), *[float(x) for x in g]]}


def pytensor_case(T: int, mode: str | None = None) -> dict:
    """PyTensor: ``scan`` + ``pytensor.grad``, ``pytensor.function`` (mode None: default)."""
    pt = peer("pytensor")
    tt = pt.tensor
    k, c, th0, om0 = (tt.dscalar(n) for n in ("k", "c", "theta0", "omega0"))

    def build() -> Any:
        def body(th: Any, om: Any, kk: Any, cc: Any) -> Any:
            return list(_step(tt, th, om, kk, cc))
        res = pt.scan(body, outputs_info=[th0, om0], non_sequences=[k, c], n_steps=T,
                      return_updates=False) if _scan_takes_return_updates(pt) else \
            pt.scan(body, outputs_info=[th0, om0], non_sequences=[k, c], n_steps=T)[0]
        th, om = res
        loss = th[-1] + 0.5 * om[-1]
        return loss, pt.grad(loss, [k, c, th0, om0])

    t_build, (loss, grads) = once(build)
    kwargs = {"mode": mode} if mode else {}

    def compile_and_call() -> Any:
        fn = pt.function([k, c, th0, om0], [loss, *grads], **kwargs)
        return fn, fn(*POINT)

    t_compile, (fn, value) = once(compile_and_call)
    return {"build": t_build, "compile": t_compile, "call": lambda: fn(*POINT),
            "value": _floats(value)}


def _scan_takes_return_updates(pt: Any) -> bool:
    import inspect

    return "return_updates" in inspect.signature(pt.scan).parameters


# --- the table --------------------------------------------------------------------------------


def _rows_of(case: str, system: str, res: dict, want: list[float], ref_call: Any = None,
             ref_name: str = "") -> list[Row]:
    """build+grad, compile, grad eval rows of one system (eval paired with the reference)."""
    status = check(res["value"], want, rtol=RTOL, atol=1e-12)
    rows = [Row(W, case, system, "build+grad", res["build"], status=status),
            Row(W, case, system, "compile + first call", res["compile"], status=status)]
    call = res.get("call") or (lambda f=res["fn"]: f(*POINT))
    if ref_call is not None:
        t, t_ref = paired(call, ref_call, budget=1.0, rounds=5)
        rows.append(Row(W, case, system, "grad eval", t, ratio=t / t_ref,
                        ref=f"{ref_name} (paired: {fmt_value(t_ref, 's')})", status=status))
    else:
        rows.append(Row(W, case, system, "grad eval", timeit(call, budget=0.5, repeat=5),
                        status=status))
    return rows


def run(quick: bool) -> list[Row]:
    """The W6 rows (quick: T = 10^4 unrolled and PyTensor's NUMBA mode skipped)."""
    rows: list[Row] = []
    for T in LENGTHS:
        case = f"W6 T={T}"
        want = hand(T, *POINT)
        t_hand = timeit(lambda T=T: hand(T, *POINT), budget=0.3, repeat=3)
        rows.append(Row(W, case, "hand Python adjoint", "grad eval", t_hand))
        jax_res = None
        if peer("jax") is None:
            rows.append(Row(W, case, "JAX lax.scan jit", "grad eval", status="not installed"))
        else:
            try:
                jax_res = jax_case(T)
                rows += _rows_of(case, "JAX lax.scan jit", jax_res, want)
            except Exception as exc:  # noqa: BLE001 - a failing peer is a row
                rows.append(Row(W, case, "JAX lax.scan jit", "run", status=describe_error(exc)))
        ref_call = jax_res["call"] if jax_res else None
        for backend in ("python", "numba", "jax"):
            system = f"symgraph fori_loop ({backend})"
            try:
                res = symgraph_case(T, backend)
            except Exception as exc:  # noqa: BLE001 - a backend without loops is a row
                rows.append(Row(W, case, system, "compile", status=describe_error(exc)))
                continue
            ran = getattr(res["fn"], "backend", None) or backend
            if ran != backend:  # the numba backend hands graphs it cannot run to python
                system += f", ran on {ran}"
            got = _rows_of(case, system, res, want, ref_call, "JAX")
            total = res["build"] + res["compile"]
            rows.append(Row(W, case, system, "build+grad+compile", total,
                            status=got[0].status, target="< 0.5 s" if T == 10_000 else "",
                            met=total < 0.5 if T == 10_000 else None))
            if ref_call is not None:
                got[2].target, got[2].met = "<= 2x JAX", got[2].ratio <= 2.0
            rows += got
        rows += _unrolled_rows(case, T, want, quick)
        rows += _pytensor_rows(case, T, want, quick)
    rows += _memory_rows(quick)
    return rows


def _unrolled_rows(case: str, T: int, want: list[float], quick: bool) -> list[Row]:
    system = "symgraph unrolled"
    if T > 1000 and quick:
        return [Row(W, case, system, "build+grad", status="skipped (--quick)")]
    res = isolated("w6_loops", "unrolled_child", [T], timeout=60.0 if T <= 1000 else 300.0)
    if res.get("status") != "ok":
        return [Row(W, case, system, "build+grad", status=res.get("status", "?"))]
    status = check(res["value"], want, rtol=RTOL, atol=1e-12)
    return [Row(W, case, system, "build+grad", res["build"], status=status),
            Row(W, case, system, "compile + first call", res["compile"], status=status),
            Row(W, case, system, "grad eval", res["eval"], status=status)]


def _pytensor_rows(case: str, T: int, want: list[float], quick: bool) -> list[Row]:
    if peer("pytensor") is None:
        return [Row(W, case, "PyTensor scan", "grad eval", status="not installed")]
    rows = []
    for mode in (None, "NUMBA"):
        system = "PyTensor scan" + (f" ({mode})" if mode else " (default mode)")
        if mode and quick:
            rows.append(Row(W, case, system, "grad eval", status="skipped (--quick)"))
            continue
        try:
            rows += _rows_of(case, system, pytensor_case(T, mode), want)
        except Exception as exc:  # noqa: BLE001 - a failing peer is a row
            rows.append(Row(W, case, system, "run", status=describe_error(exc)))
    return rows


def _memory_rows(quick: bool) -> list[Row]:
    T, K = 10_000, 100
    case = f"W6 T={T} memory"
    want = hand(T, *POINT)
    try:
        plain, ckpt = peak_memory(T, None), peak_memory(T, K)
    except Exception as exc:  # noqa: BLE001 - reported as a row
        return [Row(W, case, "symgraph fori_loop (python)", "peak memory",
                    status=describe_error(exc))]
    s1 = check(plain["value"], want, rtol=RTOL, atol=1e-12)
    s2 = check(ckpt["value"], want, rtol=RTOL, atol=1e-12)
    ratio = ckpt["peak"] / plain["peak"]
    return [Row(W, case, "symgraph fori_loop (python)", "peak memory of grad eval (tracemalloc)",
                plain["peak"] / 1e3, unit="kB", status=s1),
            Row(W, case, f"symgraph fori_loop checkpoint={K}",
                "peak memory of grad eval (tracemalloc)", ckpt["peak"] / 1e3, unit="kB",
                ratio=ratio, ref="unchecked", status=s2, target="< 0.2x unchecked",
                met=ratio < 0.2)]
