"""W1 neuron: f(w, x) = sigmoid(w0*x0 + w1*x1 + w2), five scalar inputs.

W1a build of f and its symbolic gradient; W1b one compiled call returning f and the five
partials; W1c the same through an interpreting evaluator. Reference: hand-written Python.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from benchmarks.common import (Row, best_of, check, describe_error, missing, once, paired, peer,
                               timeit)

W = "W1"
POINT = (2.0, -3.0, -3.0, -1.0, -2.0)  # w0, w1, w2, x0, x1
# The compiled calls, kept for the paired comparisons of run() (a ratio near 1 read from
# two runs minutes apart moves by +-15% on a shared machine: the same symgraph call read
# 278, 313, 283 and 350 ns in four runs of one afternoon).
CALLS: dict[str, Any] = {}
WANT = [0.7310585786300049, -0.19661193324148185, -0.3932238664829637, 0.19661193324148185,
        0.3932238664829637, -0.5898357997244456]  # f, df/dw0..2, df/dx0..1


def hand(w0: float, w1: float, w2: float, x0: float, x1: float) -> list[float]:
    """The speed limit: forward and backward written out with ``math``.

    >>> [round(v, 4) for v in hand(*POINT)]
    [0.7311, -0.1966, -0.3932, 0.1966, 0.3932, -0.5898]
    """
    f = 1.0 / (1.0 + math.exp(-(w0 * x0 + w1 * x1 + w2)))
    g = f * (1.0 - f)
    return [f, g * x0, g * x1, g, g * w0, g * w1]


def hand_arrays(w0: float, w1: float, w2: float, x0: float, x1: float) -> list[np.ndarray]:
    """:func:`hand` returning what API.md asks of a compiled function: NumPy arrays (0-d
    here). The floor of any default call under the contract, checks or no checks.

    >>> [a.shape for a in hand_arrays(*POINT)][:2]
    [(), ()]
    """
    f = 1.0 / (1.0 + math.exp(-(w0 * x0 + w1 * x1 + w2)))
    g = f * (1.0 - f)
    return [_array(f), _array(g * x0), _array(g * x1), _array(g), _array(g * w0),
            _array(g * w1)]


_array = np.array


def _rows(system: str, build: float | None, compile_s: float | None, call: float | None,
          got: Any, interp: float | None = None, note: str = "") -> list[Row]:
    status = check(got, WANT)
    rows = [Row(W, "W1a", system, "build f + grad", build)]
    if compile_s is not None:
        rows.append(Row(W, "W1b", system, "compile", compile_s))
    if call is not None:
        rows.append(Row(W, "W1b", system, "compiled call" + note, call, status=status))
    if interp is not None:
        rows.append(Row(W, "W1c", system, "interpreted call", interp, status=status))
    return rows


def run_hand() -> list[Row]:
    """Hand-written Python: one call."""
    t = timeit(lambda: hand(*POINT))
    t_arrays = timeit(lambda: hand_arrays(*POINT))
    CALLS["hand"] = lambda: hand(*POINT)
    CALLS["hand arrays"] = lambda: hand_arrays(*POINT)
    return [Row(W, "W1b", "hand (math)", "compiled call", t, status=check(hand(*POINT), WANT)),
            Row(W, "W1b", "hand (math)", "compiled call, 0-d arrays out (as API.md asks)",
                t_arrays, status=check([float(a) for a in hand_arrays(*POINT)], WANT))]


def run_symgraph() -> list[Row]:
    """symgraph: sg.grad, sg.compile (fastest options if available), sg.evaluate."""
    import symgraph as sg

    def build() -> tuple:
        g = sg.Graph()
        with g:
            v = [sg.var(n) for n in ("w0", "w1", "w2", "x0", "x1")]
            f = sg.sigmoid(v[0] * v[3] + v[1] * v[4] + v[2])
            return g, v, [f, *sg.grad(f, v)]

    try:
        t_build, (g, v, outs) = best_of(build, 5)
        feeds = dict(zip(v, POINT))
        t_eval = timeit(lambda: sg.evaluate(outs, feeds))
        got_eval = [float(a) for a in sg.evaluate(outs, feeds)]
    except Exception as exc:  # noqa: BLE001
        return [Row(W, "W1a", "symgraph", "build f + grad", status=describe_error(exc))]
    rows = [Row(W, "W1a", "symgraph", "build f + grad", t_build),
            Row(W, "W1c", "symgraph", "interpreted call (sg.evaluate)", t_eval,
                status=check(got_eval, WANT))]
    try:
        try:
            t_comp, fn = once(lambda: sg.compile(outs, v, trust_input=True, python_scalars=True))
            note = " (trust_input)"
        except TypeError:  # an older compile without the fast-call options
            t_comp, fn = once(lambda: sg.compile(outs, v))
            note = ""
        t_call = timeit(lambda: fn(*POINT))
        CALLS["symgraph"] = lambda: fn(*POINT)
        got = [float(a) for a in fn(*POINT)]
        rows += [Row(W, "W1b", "symgraph", "compile", t_comp),
                 Row(W, "W1b", "symgraph", "compiled call" + note, t_call, status=check(got, WANT))]
        checked = sg.compile(outs, v)  # what a user gets: argument checks on, arrays out
        t_checked = timeit(lambda: checked(*POINT))
        CALLS["symgraph default"] = lambda: checked(*POINT)
        got = [float(a) for a in checked(*POINT)]
        rows.append(Row(W, "W1b", "symgraph", "compiled call (default, checks on)", t_checked,
                        status=check(got, WANT)))
        # the same checks with Python floats out: what the checks cost, without the six
        # 0-d output arrays (~90 ns each) that API.md's "NumPy arrays" asks for
        floats = sg.compile(outs, v, python_scalars=True)
        t_floats = timeit(lambda: floats(*POINT))
        rows.append(Row(W, "W1b", "symgraph", "compiled call (checks on, python_scalars=True)",
                        t_floats, status=check(list(floats(*POINT)), WANT)))
    except Exception as exc:  # noqa: BLE001
        rows.append(Row(W, "W1b", "symgraph", "compiled call", status=describe_error(exc),
                        target="<= 2x hand, < SymPy", met=False))
    return rows


def _symbolic_neuron(mod: Any) -> tuple:
    """SymPy's or SymEngine's symbols (w0 w1 w2 x0 x1) and [f, df/dw0, ..., df/dx1]."""
    v = mod.symbols("w0 w1 w2 x0 x1")
    f = 1 / (1 + mod.exp(-(v[0] * v[3] + v[1] * v[4] + v[2])))
    return v, [f] + [mod.diff(f, s) for s in v]


def run_sympy() -> list[Row]:
    """SymPy: diff, then lambdify (to NumPy-free Python with the math module)."""
    sp = peer("sympy")
    if sp is None:
        return [missing(W, "W1a", "SymPy", "build f + grad")]

    t_build, (v, outs) = best_of(lambda: _symbolic_neuron(sp), 3)
    t_comp, fn = once(lambda: sp.lambdify(v, outs, modules="math", cse=True))
    t_call = timeit(lambda: fn(*POINT))
    CALLS["SymPy"] = lambda: fn(*POINT)
    interp = timeit(lambda: [e.evalf(subs=dict(zip(v, POINT))) for e in outs], budget=0.3)
    return _rows("SymPy", t_build, t_comp, t_call, fn(*POINT), interp, " (lambdify math)")


def run_symengine() -> list[Row]:
    """SymEngine: diff, then Lambdify (its LLVM-free default backend)."""
    se = peer("symengine")
    if se is None:
        return [missing(W, "W1a", "SymEngine", "build f + grad")]

    t_build, (v, outs) = best_of(lambda: _symbolic_neuron(se), 5)
    t_comp, fn = once(lambda: se.Lambdify(list(v), outs, cse=True))
    t_call = timeit(lambda: fn(*POINT))
    return _rows("SymEngine", t_build, t_comp, t_call, list(fn(*POINT)))


def run_casadi() -> list[Row]:
    """CasADi: SX graph, gradient, Function (its virtual machine)."""
    ca = peer("casadi")
    if ca is None:
        return [missing(W, "W1a", "CasADi", "build f + grad")]

    def build() -> tuple:
        v = [ca.SX.sym(n) for n in ("w0", "w1", "w2", "x0", "x1")]
        f = 1 / (1 + ca.exp(-(v[0] * v[3] + v[1] * v[4] + v[2])))
        return v, [f] + [ca.gradient(f, s) for s in v]

    t_build, (v, outs) = best_of(build, 5)
    t_comp, fn = once(lambda: ca.Function("f", v, outs))
    t_call = timeit(lambda: fn(*POINT))
    got = [float(a) for a in fn(*POINT)]
    return _rows("CasADi", t_build, t_comp, t_call, got)


def run_jax() -> list[Row]:
    """JAX (x64): value_and_grad under jit; the interpreted call is without jit."""
    jax = peer("jax")
    if jax is None:
        return [missing(W, "W1a", "JAX", "build f + grad")]
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def f(w0, w1, w2, x0, x1):  # noqa: ANN001, ANN202
        return jax.nn.sigmoid(w0 * x0 + w1 * x1 + w2)

    def build() -> Any:
        return jax.value_and_grad(f, argnums=(0, 1, 2, 3, 4))

    t_build, vg = best_of(build, 5)
    args = [jnp.float64(p) for p in POINT]
    jitted = jax.jit(vg)
    t_comp, _ = once(lambda: jax.block_until_ready(jitted(*args)))

    def call() -> Any:
        return jax.block_until_ready(jitted(*args))

    t_call = timeit(call)
    val, grads = jitted(*args)
    got = [float(val), *[float(a) for a in grads]]
    interp = timeit(lambda: jax.block_until_ready(vg(*args)), budget=0.3)
    return _rows("JAX", t_build, t_comp, t_call, got, interp)


def run_pytensor() -> list[Row]:
    """PyTensor: scalar graph, pytensor.grad, pytensor.function (default backend)."""
    pt = peer("pytensor")
    if pt is None:
        return [missing(W, "W1a", "PyTensor", "build f + grad")]
    ptt = pt.tensor

    def build() -> tuple:
        v = [ptt.dscalar(n) for n in ("w0", "w1", "w2", "x0", "x1")]
        f = ptt.sigmoid(v[0] * v[3] + v[1] * v[4] + v[2])
        return v, [f, *pt.grad(f, v)]

    t_build, (v, outs) = best_of(build, 3)
    t_comp, fn = once(lambda: pt.function(v, outs, trust_input=True))
    args = [__import__("numpy").array(p) for p in POINT]  # 0-d arrays, as trust_input needs
    t_call = timeit(lambda: fn(*args))
    return _rows("PyTensor", t_build, t_comp, t_call, [float(a) for a in fn(*args)], None,
                 " (trust_input)")


def run_autograd() -> list[Row]:
    """autograd: traces on every call, so its only call is interpreted."""
    ag = peer("autograd")
    if ag is None:
        return [missing(W, "W1a", "autograd", "build f + grad")]
    anp = peer("autograd.numpy")

    def f(w0, w1, w2, x0, x1):  # noqa: ANN001, ANN202
        return 1.0 / (1.0 + anp.exp(-(w0 * x0 + w1 * x1 + w2)))

    t_build, vg = best_of(lambda: ag.value_and_grad(lambda a: f(*a)), 5)
    interp = timeit(lambda: vg(list(POINT)), budget=0.3)
    val, grads = vg(list(POINT))
    return _rows("autograd", t_build, None, None, [val, *grads], interp)


SYSTEMS = [run_hand, run_symgraph, run_sympy, run_symengine, run_casadi, run_jax, run_pytensor,
           run_autograd]


def run(quick: bool = False) -> list[Row]:
    """All W1 rows, with compiled calls as ratios of the hand-written call."""
    rows: list[Row] = []
    for system in SYSTEMS:
        try:
            rows += system()
        except Exception as exc:  # noqa: BLE001 - one peer's failure must not stop the run
            name = system.__name__.removeprefix("run_")
            rows.append(Row(W, "W1", name, "any", status=describe_error(exc)))
    hand_t = next(r.value for r in rows if r.system == "hand (math)")
    sympy_t = next((r.value for r in rows if r.system == "SymPy" and r.case == "W1b"
                    and r.measure.startswith("compiled call")), None)
    for r in rows:
        if r.measure.startswith(("compiled call", "interpreted call")) and r.value:
            r.ratio, r.ref = r.value / hand_t, "hand"
    extra = _paired_rows(rows)
    judged = {r.measure.split(", paired")[0] for r in extra}
    for r in rows:  # the targets go to the paired rows where there are some
        if (r.system == "symgraph" and r.measure.startswith("compiled call") and r.value
                and "python_scalars" not in r.measure and r.measure not in judged):
            if "default" in r.measure:  # issue 16: the call a user makes, checks included
                r.target, r.met = "<= 2x hand", r.ratio <= 2.0 and r.status == "ok"
                continue
            r.target = "<= 2x hand, < SymPy"
            r.met = r.ratio <= 2.0 and (sympy_t is None or r.value < sympy_t) and r.status == "ok"
    return rows + extra


def _paired_rows(rows: list[Row]) -> list[Row]:
    """The targets' near-1 comparisons sampled in alternation (``paired``): symgraph's
    calls against the hand-written one, and the trust_input call against SymPy's; the
    rows above keep each system's own median, measured minutes apart."""
    out = []
    status = {r.measure: r.status for r in rows if r.system == "symgraph"}
    # (the last two: where the default call's time goes, without targets: the contract's
    # six 0-d arrays alone, and the checks and generated code over them)
    pairs = [("symgraph", "hand", "compiled call (trust_input)", "<= 2x hand", 2.0),
             ("symgraph default", "hand", "compiled call (default, checks on)", "<= 2x hand",
              2.0),
             ("symgraph", "SymPy", "compiled call (trust_input)", "< SymPy", 1.0),
             ("hand arrays", "hand", "compiled call, 0-d arrays out", None, None),
             ("symgraph default", "hand arrays", "compiled call (default, checks on)", None,
              None)]
    for ours, theirs, measure, target, limit in pairs:
        # (a symgraph call that gave wrong numbers is not timed; the hand ones are right)
        if ours not in CALLS or theirs not in CALLS or status.get(measure, "ok") != "ok":
            continue
        t_ours, t_theirs = paired(CALLS[ours], CALLS[theirs], budget=2.0)
        ratio = t_ours / t_theirs
        system = "hand (math)" if ours == "hand arrays" else "symgraph"
        met = None if limit is None else ratio < limit if limit == 1.0 else ratio <= limit
        out.append(Row(W, "W1b", system, f"{measure}, paired with {theirs}", t_ours,
                       ratio=ratio, ref=f"{theirs}, paired", target=target or "", met=met))
    return out
