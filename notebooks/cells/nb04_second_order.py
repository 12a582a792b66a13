"""Cells of 04_second_order.ipynb (built by notebooks/build.py)."""

MD, CODE = "markdown", "code"

CELLS = [
    (MD, r"""
# 4. Second order: Hessians and Hessian-vector products

Goodfellow, Bengio, Courville, *Deep Learning*, 6.5.10 (higher-order derivatives), 4.3.1
and 8.6.1 (Newton's method), 8.6.2 (conjugate gradients). Because `sg.grad` returns graph,
second derivatives are `grad` applied to a gradient: `sg.hessian(y, x)` builds the whole
matrix, and `sg.hvp(y, x, v)` builds the product $Hv$ without ever forming $H$, at a small
multiple of the cost of one gradient (6.5.10). We use them on the Rosenbrock function
$$f(x) = (1 - x_0)^2 + 100\,(x_1 - x_0^2)^2,$$
whose minimum $(1, 1)$ lies at the bottom of a long curved valley.
"""),
    (CODE, r"""
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import SVG

import symgraph as sg
from symgraph.display import order_colours
"""),
    (MD, r"""
The function is written once, on nodes; the same Python function builds it for the point
`x` (a vector of two) and, below, for a whole grid of points to draw contours.
"""),
    (CODE, r"""
def rosenbrock(a, b):
    return (1 - a) ** 2 + 100 * (b - a ** 2) ** 2

g = sg.Graph()
with g:
    x = sg.var("x", shape=(2,))
    f = rosenbrock(x[0], x[1])
    grad_f = sg.grad(f, x)
    H = sg.hessian(f, x)
value_grad_hess = sg.compile([f, grad_f, H], [x])

start = np.array([-1.2, 1.0])
fv, gv, Hv = value_grad_hess(start)
print(f"f = {fv:.4g}, gradient = {gv}\nHessian =\n{Hv}")
# by hand: df/dx0 = -2(1-x0) - 400 x0 (x1 - x0^2), d2f/dx0^2 = 2 - 400 (x1 - 3 x0^2), ...
assert np.isclose(fv, 24.2) and np.allclose(gv, [-215.6, -88.0])
assert np.allclose(Hv, [[1330.0, 480.0], [480.0, 200.0]])
"""),
    (MD, r"""
## Newton's method versus gradient descent

Newton's method (8.6.1) jumps to the minimum of the local quadratic model:
$x \leftarrow x - H^{-1} \nabla f$. Gradient descent takes $x \leftarrow x - \epsilon \nabla f$
with a step small enough not to diverge across the valley ($\epsilon = 10^{-3}$ here), and
then crawls along it.
"""),
    (CODE, r"""
newton = [start]
for _ in range(50):
    _, gk, Hk = value_grad_hess(newton[-1])
    if np.linalg.norm(gk) <= 1e-10:
        break
    newton.append(newton[-1] - np.linalg.solve(Hk, gk))
newton = np.array(newton)

value_grad = sg.compile([f, grad_f], [x])
descent, lr, p = [start], 1e-3, start
while np.linalg.norm(p - 1.0) > 1e-3 and len(descent) < 100_000:
    p = p - lr * value_grad(p)[1]
    descent.append(p)
descent = np.array(descent)

print(f"Newton:           {len(newton) - 1:6d} iterations to {newton[-1]}")
print(f"gradient descent: {len(descent) - 1:6d} iterations to {descent[-1]} (within 1e-3)")
assert np.allclose(newton[-1], 1.0, atol=1e-12) and len(newton) - 1 <= 10
assert np.linalg.norm(descent[-1] - 1.0) <= 1e-3 and len(descent) > 100 * len(newton)
"""),
    (MD, r"""
The contours come from the same `rosenbrock` function applied to two grid nodes of shape
`(None, None)`: nodes broadcast like NumPy arrays.
"""),
    (CODE, r"""
with g:
    A, B = sg.var("A", shape=(None, None)), sg.var("B", shape=(None, None))
    surface = rosenbrock(A, B)
a_grid, b_grid = np.meshgrid(np.linspace(-2, 2, 300), np.linspace(-3.5, 3, 300))
levels = sg.evaluate(surface, {A: a_grid, B: b_grid})

fig, ax = plt.subplots(figsize=(6, 5))
ax.contour(a_grid, b_grid, levels, levels=np.logspace(-1, 3.5, 12), colors="#aaaaaa",
           linewidths=0.7)
ax.plot(descent[:, 0], descent[:, 1], "-", color="#2166ac", lw=1.5,
        label=f"gradient descent ({len(descent) - 1} steps)")
ax.plot(descent[::500, 0], descent[::500, 1], ".", color="#2166ac", ms=5)
ax.plot(newton[:, 0], newton[:, 1], "o-", color="#b2182b", ms=4,
        label=f"Newton ({len(newton) - 1} steps)")
ax.plot([1], [1], "k*", ms=12)
ax.set(xlabel="$x_0$", ylabel="$x_1$", title="Rosenbrock: dots every 500 descent steps")
ax.legend(loc="upper left")
plt.show()
"""),
    (MD, r"""
## Conjugate gradient with Hessian-vector products only

Forming $H$ means $n^2$ numbers and the work of $n$ gradients; in a network with millions of
parameters that is out of the question. The Newton system $H p = -\nabla f$ can still be
solved by the conjugate gradient method (8.6.2), which touches $H$ only through products
$Hv$. `sg.hvp(f, x, v)` builds that product as graph (forward mode over the reverse-mode
gradient), with `v` an input like any other; compiled, it is a plain function `(x, v) -> Hv`.

We take the $n$-dimensional Rosenbrock function
$\sum_{i} 100\,(z_{i+1} - z_i^2)^2 + (1 - z_i)^2$ with $n = 200$, solve the Newton system at
a random point $z$ with coordinates in $[-1.2, -0.6]$, where $H$ is positive definite, and
compare with a dense solve on the full Hessian. CG needs far fewer than $n$ products.
"""),
    (CODE, r"""
def conjugate_gradient(hessian_times, b, tol=1e-10):
    # Solves H p = b for a positive definite H known only through hessian_times(v) = H v.
    p, r = np.zeros_like(b), b.copy()
    d, rr = r.copy(), r @ r
    for calls in range(1, 10 * len(b) + 1):
        Hd = hessian_times(d)
        alpha = rr / (d @ Hd)
        p, r = p + alpha * d, r - alpha * Hd
        rr, rr_old = r @ r, rr
        if np.sqrt(rr) <= tol * np.linalg.norm(b):
            return p, calls
        d = r + (rr / rr_old) * d
    raise RuntimeError("conjugate gradient did not converge")

n = 200
with g:
    z, v = sg.var("z", shape=(n,)), sg.var("v", shape=(n,))
    F = sg.sum(rosenbrock(z[:-1], z[1:]))
    grad_F = sg.grad(F, z)
    Hv_F = sg.hvp(F, z, v)
hvp = sg.compile(Hv_F, [z, v])
sizes = sg.stats(grad_F)["nodes"], sg.stats(Hv_F)["nodes"]
print(f"nodes: gradient {sizes[0]}, Hessian-vector product {sizes[1]}")

z0 = np.random.default_rng(0).uniform(-1.2, -0.6, n)
rhs = -sg.evaluate(grad_F, {z: z0})
step, calls = conjugate_gradient(lambda d: hvp(z0, d), rhs)

dense = sg.evaluate(sg.hessian(F, z), {z: z0})          # only to check the answer
print(f"CG: {calls} Hessian-vector products for n = {n} (the dense Hessian has {n * n} entries)")
exact = np.linalg.solve(dense, rhs)
print(f"largest difference from the dense solve: {np.abs(step - exact).max():.1e}")
assert np.allclose(step, exact, rtol=1e-8, atol=1e-10) and calls < n
assert np.allclose(hvp(z0, rhs), dense @ rhs) and np.linalg.eigvalsh(dense).min() > 0
"""),
    (MD, r"""
Newton's method with this inner solver (*truncated Newton*, or Newton-CG) never forms $H$.
On the two-dimensional function CG needs at most two products per step and reproduces
the Newton path above.
"""),
    (CODE, r"""
with g:
    u = sg.var("u", shape=(2,))
    hvp2 = sg.compile(sg.hvp(f, x, u), [x, u])

path, products = [start], 0
for _ in range(50):
    xk = path[-1]
    gk = value_grad(xk)[1]
    if np.linalg.norm(gk) <= 1e-10:
        break
    pk, calls = conjugate_gradient(lambda d: hvp2(xk, d), -gk)
    path.append(xk + pk)
    products += calls
path = np.array(path)
print(f"Newton-CG: {len(path) - 1} steps, {products} Hessian-vector products")
assert len(path) == len(newton) and np.allclose(path, newton, atol=1e-8)
"""),
    (MD, r"""
## $f$, $f'$ and $f''$, coloured by derivative order

With $f = \tanh$: $f' = 1 - \tanh^2$ and $f'' = -2 \tanh\,(1 - \tanh^2)$. Two `grad` calls
build both, and the picture colours each node by the `grad` call that made it: blue for
$f$, red for the first derivative, green for the second, which reuses nodes of both.
"""),
    (CODE, r"""
with g:
    s = sg.var("s")
    f0 = sg.tanh(s)
    f1 = sg.grad(f0, s)
    f2 = sg.grad(f1, s)
print("f'  =", f1)
print("f'' =", f2, "   simplified:", sg.simplify(f2))
SVG(sg.to_svg([f0, f1, f2], feeds={s: 0.5}))
"""),
    (MD, r"""
To plot the curves, evaluate at many points at once: for an elementwise function, the
gradient of `sum(f(t))` with respect to a vector `t` is the vector of derivatives
$f'(t_i)$. The plot uses the picture's colours (`symgraph.display.order_colours`).
"""),
    (CODE, r"""
with g:
    t = sg.var("t", shape=(None,))
    y = sg.tanh(t)
    dy = sg.grad(sg.sum(y), t)
    d2y = sg.grad(sg.sum(dy), t)
ts = np.linspace(-4, 4, 401)
curves = sg.evaluate([y, dy, d2y], {t: ts})
assert np.allclose(curves[1], 1 - np.tanh(ts) ** 2)
assert np.allclose(curves[2], -2 * np.tanh(ts) * (1 - np.tanh(ts) ** 2))
assert np.allclose(sg.evaluate([f1, f2], {s: 0.5}), [curves[1][225], curves[2][225]])

fig, ax = plt.subplots(figsize=(6, 3.5))
for k, (curve, label) in enumerate(zip(curves, ["f = tanh", "f'", "f''"])):
    ax.plot(ts, curve, color=order_colours(k)[1], lw=2, label=f"{label} (order {k})")
ax.axhline(0, color="#999999", lw=0.5)
ax.set(xlabel="t")
ax.legend()
plt.show()
"""),
]
