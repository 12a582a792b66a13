"""W4 Rosenbrock f(x) = sum_i 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2.

W4a: n = 10 scalar variables, the full symbolic Hessian evaluated at 0.5 + 0.1*arange(n),
against the analytic Hessian (hand-written Python, also the time reference).
W4b: n = 1e5 as one vector: gradient and Hessian-vector product, each as a ratio of the
analytic NumPy version timed in the same run.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks.common import Row, check, describe_error, once, peer, timeit

W = "W4"
N_SMALL = 10
N_BIG = 100_000


def hessian_hand(x: list[float]) -> list[list[float]]:
    """The analytic Hessian in plain Python (tridiagonal).

    >>> H = hessian_hand([1.0, 1.0])
    >>> H
    [[802.0, -400.0], [-400.0, 200.0]]
    """
    n = len(x)
    H = [[0.0] * n for _ in range(n)]
    for i in range(n - 1):
        H[i][i] += 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0
        H[i][i + 1] = H[i + 1][i] = -400.0 * x[i]
        H[i + 1][i + 1] += 200.0
    return H


def grad_np(x: np.ndarray) -> np.ndarray:
    """The analytic gradient with NumPy.

    >>> np.abs(grad_np(np.ones(3))).tolist()
    [0.0, 0.0, 0.0]
    """
    a = x[1:] - x[:-1] ** 2
    g = np.zeros_like(x)
    g[:-1] = -400.0 * x[:-1] * a - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * a
    return g


def hvp_np(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The analytic Hessian-vector product with NumPy (tridiagonal H times v).

    >>> x = np.array([1.0, 1.0]); bool(np.allclose(hvp_np(x, np.array([1.0, 0.0])), [802, -400]))
    True
    """
    xl, xr, vl, vr = x[:-1], x[1:], v[:-1], v[1:]
    out = np.zeros_like(x)
    out[:-1] = (1200.0 * xl * xl - 400.0 * xr + 2.0) * vl - 400.0 * xl * vr
    out[1:] += 200.0 * vr - 400.0 * xl * vl
    return out


def _rosen(xs: list) -> Any:
    return sum(100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(len(xs) - 1))


# --- W4a ------------------------------------------------------------------------------------------


def small_symgraph(x0: list[float]) -> tuple[float, int, float, list]:
    """Build (grad of grad per coordinate), node count, compiled evaluation."""
    import symgraph as sg

    with sg.Graph():
        xs = [sg.var(f"x{i}") for i in range(N_SMALL)]
        f = _rosen(xs)

        def build() -> list:
            g = sg.grad(f, xs)
            return [sg.grad(gi, xs) for gi in g]

        t_build, H = once(build)
        flat = [h for row in H for h in row]
        try:
            flat = sg.simplify(flat, assume_finite=True)
        except NotImplementedError:
            pass
        nodes = sum(1 for n in sg.ancestors(flat) if n.op not in ("var", "const"))
        try:
            fn = sg.compile(flat, xs, trust_input=True, python_scalars=True)
        except TypeError:
            fn = sg.compile(flat, xs)
        t_eval = timeit(lambda: fn(*x0))
        return t_build, nodes, t_eval, [float(v) for v in fn(*x0)]


def small_sympy_like(mod: Any, name: str, x0: list[float]) -> tuple[float, int, float, list]:
    """SymPy or SymEngine: hessian by repeated diff, lambdify with CSE."""
    xs = list(mod.symbols(" ".join(f"x{i}" for i in range(N_SMALL))))
    f = _rosen(xs)
    t_build, H = once(lambda: [mod.diff(mod.diff(f, a), b) for a in xs for b in xs])
    seen, stack = set(), list(H)
    while stack:
        e = stack.pop()
        if e not in seen and e.args:
            seen.add(e)
            stack.extend(e.args)
    if name == "SymPy":
        fn = mod.lambdify(xs, H, modules="math", cse=True)
    else:
        fn = mod.Lambdify(xs, H, cse=True)
    t_eval = timeit(lambda: fn(*x0))
    return t_build, len(seen), t_eval, [float(v) for v in np.ravel(fn(*x0))]


def small_casadi(x0: list[float]) -> tuple[float, int, float, list]:
    """CasADi: SX hessian, Function."""
    ca = peer("casadi")
    x = ca.SX.sym("x", N_SMALL)
    f = _rosen([x[i] for i in range(N_SMALL)])
    t_build, H = once(lambda: ca.hessian(f, x)[0])
    fn = ca.Function("H", [x], [H])
    t_eval = timeit(lambda: fn(x0))
    return t_build, int(fn.n_instructions()), t_eval, np.array(fn(x0)).ravel().tolist()


def small_jax(x0: list[float]) -> tuple[float, int, float, list]:
    """JAX: jax.hessian (trace = build, equations counted), jit."""
    jax = peer("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    h = jax.hessian(lambda x: _rosen([x[i] for i in range(N_SMALL)]))
    xa = jnp.asarray(x0)
    t_build, jaxpr = once(lambda: jax.make_jaxpr(h)(xa))
    fn = jax.jit(h)
    t_eval = timeit(lambda: jax.block_until_ready(fn(xa)))
    return t_build, len(jaxpr.eqns), t_eval, np.asarray(fn(xa)).ravel().tolist()


def small_pytensor(x0: list[float]) -> tuple[float, int, float, list]:
    """PyTensor: pytensor.gradient.hessian of a vector input (nodes before rewrites)."""
    pt = peer("pytensor")
    from pytensor.graph.traversal import applys_between

    x = pt.tensor.dvector("x")
    f = _rosen([x[i] for i in range(N_SMALL)])
    t_build, H = once(lambda: pt.gradient.hessian(f, x))
    nodes = len(list(applys_between([x], [H])))
    fn = pt.function([x], H, trust_input=True)
    xa = np.asarray(x0)
    t_eval = timeit(lambda: fn(xa))
    return t_build, nodes, t_eval, np.asarray(fn(xa)).ravel().tolist()


def run_small(quick: bool = False) -> list[Row]:
    """W4a rows."""
    x0 = (0.5 + 0.1 * np.arange(N_SMALL)).tolist()
    want = np.array(hessian_hand(x0)).ravel()
    t_hand = timeit(lambda: hessian_hand(x0))
    rows = [Row(W, "W4a n=10", "hand (Python)", "eval Hessian", t_hand, ratio=1.0, ref="hand")]
    sp, se = peer("sympy"), peer("symengine")
    systems = [("symgraph", lambda: small_symgraph(x0)),
               ("SymEngine", se and (lambda: small_sympy_like(se, "SymEngine", x0))),
               ("SymPy", sp and (lambda: small_sympy_like(sp, "SymPy", x0))),
               ("CasADi", peer("casadi") and (lambda: small_casadi(x0))),
               ("JAX", peer("jax") and (lambda: small_jax(x0))),
               ("PyTensor", peer("pytensor") and (lambda: small_pytensor(x0)))]
    for system, fn in systems:
        if not fn:
            rows.append(Row(W, "W4a n=10", system, "eval Hessian", status="not installed"))
            continue
        if quick and system == "PyTensor":  # its compile takes about 10 s
            rows.append(Row(W, "W4a n=10", system, "eval Hessian", status="skipped (--quick)"))
            continue
        try:
            t_build, nodes, t_eval, got = fn()
        except Exception as exc:  # noqa: BLE001
            rows.append(Row(W, "W4a n=10", system, "eval Hessian", status=describe_error(exc)))
            continue
        r = Row(W, "W4a n=10", system, "eval Hessian", t_eval, ratio=t_eval / t_hand, ref="hand",
                status=check(got, want, rtol=1e-10))
        if system == "symgraph":
            r.target, r.met = "<= 1.5x hand", r.ratio <= 1.5 and r.status == "ok"
        rows += [Row(W, "W4a n=10", system, "build Hessian", t_build),
                 Row(W, "W4a n=10", system, "Hessian nodes", nodes, unit="nodes"), r]
    return rows


# --- W4b ------------------------------------------------------------------------------------------


def big_symgraph(x: np.ndarray, v: np.ndarray) -> tuple[Any, Any]:
    """Compiled gradient and HVP functions (sg.hvp along a fed vector v)."""
    import symgraph as sg

    with sg.Graph():
        xs, vs = sg.var("x", shape=x.shape), sg.var("v", shape=v.shape)
        a, b = xs[1:], xs[:-1]
        f = (100 * sg.square(a - sg.square(b)) + sg.square(1 - b)).sum()
        g = sg.compile(sg.grad(f, xs), [xs])
        h = sg.compile(sg.hvp(f, xs, vs), [xs, vs])
    return (lambda: g(x)), (lambda: h(x, v))


def big_jax(x: np.ndarray, v: np.ndarray) -> tuple[Any, Any]:
    """JAX: jit(grad), jit(jvp of grad)."""
    jax = peer("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def f(x: Any) -> Any:
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()

    g = jax.jit(jax.grad(f))
    h = jax.jit(lambda x, v: jax.jvp(jax.grad(f), (x,), (v,))[1])
    xj, vj = jnp.asarray(x), jnp.asarray(v)
    return (lambda: np.asarray(jax.block_until_ready(g(xj)))), \
        (lambda: np.asarray(jax.block_until_ready(h(xj, vj))))


def big_torch(x: np.ndarray, v: np.ndarray) -> tuple[Any, Any]:
    """PyTorch: autograd.grad, double backward for the HVP."""
    torch = peer("torch")
    vt = torch.tensor(v)

    def f(x: Any) -> Any:
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()

    def grad() -> Any:
        xt = torch.tensor(x, requires_grad=True)
        return torch.autograd.grad(f(xt), xt)[0].numpy()

    def hvp() -> Any:
        xt = torch.tensor(x, requires_grad=True)
        (g,) = torch.autograd.grad(f(xt), xt, create_graph=True)
        return torch.autograd.grad(g, xt, vt)[0].numpy()

    return grad, hvp


def big_autograd(x: np.ndarray, v: np.ndarray) -> tuple[Any, Any]:
    """autograd: grad, and grad of <grad, v>."""
    ag = peer("autograd")

    def f(x: Any) -> Any:
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()

    g = ag.grad(f)
    h = ag.grad(lambda x: (g(x) * v).sum())
    return (lambda: g(x)), (lambda: h(x))


def big_pytensor(x: np.ndarray, v: np.ndarray) -> tuple[Any, Any]:
    """PyTensor (default backend): grad, and hessian_vector_product (compiled)."""
    pt = peer("pytensor")
    xs, vs = pt.tensor.dvector("x"), pt.tensor.dvector("v")
    f = (100 * (xs[1:] - xs[:-1] ** 2) ** 2 + (1 - xs[:-1]) ** 2).sum()
    g = pt.function([xs], pt.grad(f, xs), trust_input=True)
    h = pt.function([xs, vs], pt.gradient.hessian_vector_product(f, xs, vs), trust_input=True)
    return (lambda: g(x)), (lambda: h(x, v))


def run_big(quick: bool) -> list[Row]:
    """W4b rows: grad and HVP times as ratios of analytic NumPy, and HVP / grad."""
    rng = np.random.default_rng(0)
    x, v = rng.normal(size=N_BIG), rng.normal(size=N_BIG)
    want_g, want_h = grad_np(x), hvp_np(x, v)
    tg = timeit(lambda: grad_np(x), budget=1.0)
    th = timeit(lambda: hvp_np(x, v), budget=1.0)
    case = "W4b n=1e5"
    rows = [Row(W, case, "hand NumPy", "grad", tg, ratio=1.0, ref="hand"),
            Row(W, case, "hand NumPy", "HVP", th, ratio=1.0, ref="hand"),
            Row(W, case, "hand NumPy", "HVP / grad", th / tg, unit="")]
    systems = [("symgraph", "numpy", big_symgraph), ("JAX", "jax", big_jax),
               ("PyTorch", "torch", big_torch), ("autograd", "autograd", big_autograd),
               ("PyTensor", "pytensor", big_pytensor)]
    for system, module, make in systems:
        if peer(module) is None:
            rows.append(Row(W, case, system, "HVP", status="not installed"))
            continue
        try:
            g, h = make(x, v)
            sg_, sh = check(g(), want_g, rtol=1e-9), check(h(), want_h, rtol=1e-9)
            t_g, t_h = timeit(g, budget=1.0), timeit(h, budget=1.0)
        except Exception as exc:  # noqa: BLE001
            rows.append(Row(W, case, system, "HVP", status=describe_error(exc)))
            continue
        r = Row(W, case, system, "HVP", t_h, ratio=t_h / th, ref="hand", status=sh)
        if system == "symgraph":
            r.target, r.met = "<= 0.8x hand", r.ratio <= 0.8 and sh == "ok"  # issue 16
        rows += [Row(W, case, system, "grad", t_g, ratio=t_g / tg, ref="hand", status=sg_), r,
                 Row(W, case, system, "HVP / grad", t_h / t_g, unit="")]
    return rows


def run(quick: bool = False) -> list[Row]:
    """All W4 rows."""
    return run_small(quick) + run_big(quick)
