"""Cells of 07_loops_pendulum.ipynb (built by notebooks/build.py)."""

MD, CODE = "markdown", "code"

CELLS = [
    (MD, r"""
# 7. Loops: sensitivities of a pendulum ODE through `sg.fori_loop`

A damped pendulum, $\theta'' = -k \sin\theta - c\,\theta'$ with $k = g/L$, integrated with
the classical Runge-Kutta method (RK4) for $T$ steps of $h = 0.01$ s. We want the
**sensitivities** of the final angle, $\partial\theta(T)/\partial(k, c, \theta_0, \omega_0)$.

Written as a Python `for` loop, the graph would hold $T$ copies of the step and so would its
gradient: 10,000 steps make a graph of a million nodes. `sg.fori_loop(lower, upper, body,
init)` (JAX's `lax.fori_loop`) calls `body` **once**, on placeholders, and makes the loop one
node of the graph whose body is a small graph. `sg.grad` of it is again one loop node: a
**reverse** loop over the carries the forward loop saved (backpropagation through time;
for an ODE solver, the discrete adjoint method). With `checkpoint=K` it keeps only every
$K$-th carry and recomputes the others, trading a second forward sweep for memory.
"""),
    (CODE, r"""
import math
import tracemalloc

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import SVG

import symgraph as sg
"""),
    (MD, r"""
## One RK4 step, and the loop

`step` works on symgraph nodes; it is written once and only called when the loop is built.
The carry is the pair $(\theta, \omega)$; `k` and `c` are nodes from outside the body
(closures): they become inputs of the loop node, and gradients reach them.
"""),
    (CODE, r"""
h = 0.01


def step(theta, omega, k, c):
    def rhs(t, o):  # (theta', omega')
        return o, -k * sg.sin(t) - c * o
    a1, b1 = rhs(theta, omega)
    a2, b2 = rhs(theta + 0.5 * h * a1, omega + 0.5 * h * b1)
    a3, b3 = rhs(theta + 0.5 * h * a2, omega + 0.5 * h * b2)
    a4, b4 = rhs(theta + h * a3, omega + h * b3)
    return (theta + h / 6 * (a1 + 2 * a2 + 2 * a3 + a4),
            omega + h / 6 * (b1 + 2 * b2 + 2 * b3 + b4))


T = 1000  # 10 seconds
g = sg.Graph()
with g:
    k, c, theta0, omega0 = sg.var("k"), sg.var("c"), sg.var("theta0"), sg.var("omega0")
    params = [k, c, theta0, omega0]
    theta_T, omega_T = sg.fori_loop(0, T, lambda i, s: step(s[0], s[1], k, c), (theta0, omega0))
    sens = sg.grad(theta_T, params)

point = {k: 9.81, c: 0.3, theta0: 1.0, omega0: 0.0}
f = sg.compile([theta_T, *sens], params)
value, *grads = f(*point.values())
print(f"theta(T) = {value:.6f}")
for p, gp in zip(params, grads):
    print(f"d theta(T) / d {p.name:7s} = {gp: .6f}")
print("nodes in the graph:", len(g), "for", T, "steps and their gradient")
"""),
    (MD, r"""
## Checked against finite differences

Central differences $\big(\theta_T(p + \epsilon) - \theta_T(p - \epsilon)\big) / 2\epsilon$ of
the compiled forward loop, one parameter at a time. They agree with the reverse loop to the
accuracy of the difference quotient ($\epsilon^2$ truncation and rounding).
"""),
    (CODE, r"""
forward = sg.compile(theta_T, params)
x0 = np.array(list(point.values()))
eps = 1e-6
fd = []
for i in range(4):
    e = np.zeros(4)
    e[i] = eps
    fd.append((float(forward(*(x0 + e))) - float(forward(*(x0 - e)))) / (2 * eps))
rel = np.abs(np.array(grads) - fd) / np.maximum(np.abs(fd), 1e-3)
print("reverse loop:       ", np.round(grads, 6))
print("finite differences: ", np.round(fd, 6))
print(f"largest relative difference: {rel.max():.1e}")
assert rel.max() < 1e-6
"""),
    (MD, r"""
## The trajectory and how it moves with $k$

`sg.scan(f, init, xs=None, length=T)` also returns what each step emits (here $\theta_t$),
stacked. The sensitivity of the whole trajectory to $k$ is a Jacobian column:
`sg.jvp` pushes the direction $\dot k = 1$ through the loop as a **forward** loop carrying
$(\theta, \omega, \dot\theta, \dot\omega)$. A finite difference of two trajectories
checks it.
"""),
    (CODE, r"""
with g:
    _, thetas = sg.scan(lambda s, _: (step(s[0], s[1], k, c), s[0]), (theta0, omega0),
                        length=T)
    dthetas_dk = sg.jvp(thetas, k, 1.0)
traj, dtraj = sg.evaluate([thetas, dthetas_dk], point)
shifted = sg.evaluate(thetas, {**point, k: 9.81 + 1e-6})
fd_traj = (shifted - traj) / 1e-6
print("largest difference to the forward difference:", f"{np.abs(dtraj - fd_traj).max():.1e}")
assert np.allclose(dtraj, fd_traj, atol=1e-4)

t = h * np.arange(T)
fig, ax = plt.subplots(1, 2, figsize=(10, 3.2))
ax[0].plot(t, traj)
ax[0].set(xlabel="t (s)", ylabel=r"$\theta$ (rad)", title="damped pendulum, RK4")
ax[1].plot(t, dtraj, label="sg.jvp through the loop")
ax[1].plot(t[::40], fd_traj[::40], "o", ms=3, label="finite difference")
ax[1].set(xlabel="t (s)", ylabel=r"$\partial\theta(t)/\partial k$", title="sensitivity to k")
ax[1].legend()
plt.tight_layout()
plt.show()
"""),
    (MD, r"""
## The loop node and its derivative loop

Drawn with `bodies=True`, each loop node (a 3-D box) shows the graph it runs per step as
a cluster. The forward loop's body is one RK4 step; the gradient's loop (coloured as a first
derivative) runs backwards, and its body is the **vector-Jacobian product
of the step**, built once by `sg.grad` on the body graph: per step it reads the saved
carry $(\theta_t, \omega_t)$ and maps the cotangent of $(\theta_{t+1}, \omega_{t+1})$ to
that of $(\theta_t, \omega_t)$, adding up the cotangents of $k$ and $c$.
"""),
    (CODE, r"""
with g:
    a, b = sg.var("a"), sg.var("b")
    small_T = sg.fori_loop(0, 3, lambda i, x: x * a + b, sg.const(1.0))
    small_grad = sg.grad(small_T, a)
SVG(sg.to_svg([small_T, small_grad], bodies=True, labels=["x(3)", "dx(3)/da"]))
"""),
    (MD, r"""
That was a three-step loop $x_{t+1} = a x_t + b$, small enough to read: the forward body
is `carry0 * closure0 + closure1` ($x a + b$), the reverse body maps the cotangent
`carry 0` to `carry0 * closure0` ($\bar x\, a$) and adds `x0 * carry0` ($x_t \bar x$) to the
running sum for $a$. The pendulum's graph has the same shape, two loop nodes whatever
$T$ is; drawn without `bodies=True` (its bodies, one RK4 step and its vector-Jacobian
product, are a few dozen nodes each):
"""),
    (CODE, r"""
SVG(sg.to_svg([theta_T, sens[0]], labels=["theta(T)", "dtheta(T)/dk"]))
"""),
    (MD, r"""
## Memory: `checkpoint=K`

The reverse loop needs the carry each step started from, so the forward loop of the
gradient saves all $T$ of them. With `checkpoint=K`, `fori_loop` becomes a loop over $T/K$
segments whose body is a loop of $K$ steps: the gradient saves only the $T/K$ segment
starts, and the reverse sweep recomputes each segment's $K$ carries from its start when it
gets there. Memory goes from $T$ carries to about $T/K + K$ (least at $K = \sqrt{T}$), for
one more forward sweep of time. The values are the same to rounding.

Below, $T = 10^4$: the peak memory of one gradient call, measured with `tracemalloc`
(it counts NumPy's buffers and Python objects), for several $K$.
"""),
    (CODE, r"""
T_big = 10_000


def gradient_function(K):
    with sg.Graph():
        kk, cc, t0, w0 = (sg.var(n) for n in ("k", "c", "theta0", "omega0"))
        th, _ = sg.fori_loop(0, T_big, lambda i, s: step(s[0], s[1], kk, cc), (t0, w0),
                             checkpoint=K)
        return sg.compile(sg.grad(th, [kk, cc, t0, w0]), [kk, cc, t0, w0])


def peak_of(fn):
    fn(*x0)  # first call compiles the bodies
    tracemalloc.start()
    out = fn(*x0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, np.array(out, dtype=float)


Ks = [None, 10, 30, 100, 300, 1000]
peaks, values = {}, {}
for K in Ks:
    peaks[K], values[K] = peak_of(gradient_function(K))
for K in Ks[1:]:
    assert np.allclose(values[K], values[None], rtol=1e-10, atol=1e-13), K
print(f"{'checkpoint':>10s}  {'peak kB':>8s}  {'carries kept ~ T/K + K':>22s}")
for K in Ks:
    kept = T_big if K is None else T_big // K + K
    print(f"{str(K):>10s}  {peaks[K] / 1e3:8.1f}  {kept:22d}")
ratio = peaks[100] / peaks[None]
print(f"checkpoint=100 needs {ratio:.2f} of the unchecked peak")
assert ratio < 0.5
"""),
    (CODE, r"""
Kx = np.array(Ks[1:])
fig, ax = plt.subplots(figsize=(6, 3.4))
ax.loglog(Kx, [peaks[K] / 1e3 for K in Ks[1:]], "o-", label="checkpoint=K (measured)")
ax.axhline(peaks[None] / 1e3, color="C3", ls="--", label="no checkpoint (measured)")
per_carry = peaks[None] / 1e3 / T_big  # kB per saved carry, from the unchecked run
ax.loglog(Kx, per_carry * (T_big / Kx + Kx), ":", color="gray",
          label=r"$(T/K + K)$ carries at the unchecked cost per carry")
ax.set(xlabel="K (steps per segment)", ylabel="peak memory of one gradient (kB)",
       title=f"T = {T_big}: memory of the reverse sweep")
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()
"""),
    (MD, r"""
## What to remember

- `sg.fori_loop` / `sg.scan` build one loop node from a body traced once; the graph and
  its gradient do not grow with $T$, and `sg.grad`, `sg.jvp`, `sg.hessian` of a loop are
  loops again.
- The gradient is the discrete adjoint: a reverse loop over saved carries, exact (no
  ODE-solver error beyond the forward solve's own), checked here against finite
  differences.
- `checkpoint=K` cuts the saved carries from $T$ to about $T/K + K$ at the cost of one
  more forward sweep.
"""),
]
