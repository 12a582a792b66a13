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
from IPython.display import SVG, Markdown

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
## Why Newton's second step goes uphill

Newton's method does not promise a smaller $f$ at each step. The table follows its path:
$f$ goes $24.2 \to 4.73 \to 1411.8$ before it settles. The Hessian is positive definite
at every point of the path (both eigenvalues $> 0$), so each Newton step points downhill
($\nabla f \cdot p < 0$) and lands on the minimum of the local quadratic model
$f + \nabla f \cdot p + \tfrac12 p^\top H p$. At the second point the model's minimum is
0.52, but the smallest eigenvalue of $H$ is only 0.34: along the valley the model is
nearly flat, and Newton divides the gradient's component along that direction by 0.34, a
step of length 4.9. So far away the quartic term $100\,(x_1 - x_0^2)^2$ that the model
ignores dominates, and $f$ is 1411.8. From there the model is good again, apart from one
more, smaller overshoot ($0.056 \to 0.31$, again where $\lambda_\min$ is small). A line
search or a trust region (*damped* Newton) would shorten such steps.
"""),
    (CODE, r"""
rows = [("| step | $x$ | $f(x)$ | eigenvalues of $H$ | $\\nabla f \\cdot p$ "
         "| the model's $f(x + p)$ | step length $\\lvert p \\rvert$ |"),
        "|---:|:---|---:|:---|---:|---:|---:|"]
for k, xk in enumerate(newton[:-1]):
    fk, gk, Hk = value_grad_hess(xk)
    pk = newton[k + 1] - xk                            # the Newton step taken
    model = fk + gk @ pk + 0.5 * pk @ Hk @ pk
    lam = np.linalg.eigvalsh(Hk)
    rows.append(f"| {k} | ({xk[0]:.3f}, {xk[1]:.3f}) | {fk:.4g} | {lam[0]:.3g}, {lam[1]:.4g} "
                f"| {gk @ pk:.3g} | {model:.3g} | {np.linalg.norm(pk):.3g} |")
    assert lam[0] > 0 and gk @ pk < 0                   # positive definite, downhill direction
f_path = [value_grad_hess(xk)[0] for xk in newton]
assert np.allclose(f_path[:3], [24.2, 4.7319, 1411.85], rtol=1e-4) and f_path[2] > f_path[1]
Markdown("\n".join(rows))
"""),
    (MD, r"""
## The step size of gradient descent and $2/\lambda_\max$

Near a point, gradient descent on the quadratic model multiplies the error along each
eigenvector $u_i$ of $H$ by $1 - \epsilon\lambda_i$ per step. It converges only if
$|1 - \epsilon\lambda_i| < 1$ for every $i$, that is $\epsilon < 2/\lambda_\max$; the
largest eigenvalue (across the valley) caps the step, and the smallest (along it) sets the
speed, a factor $1 - \epsilon\lambda_\min$ per step. At the minimum $(1, 1)$,
$\lambda_\max = 1001.6$ and $\lambda_\min = 0.40$: with $\epsilon = 10^{-3}$ (below
$2/\lambda_\max$ everywhere on the descent path) the error along the valley shrinks by
only $1 - 0.0004$ per step, hence the thousands of steps. Started 0.001 from the minimum
across the valley, descent with $\epsilon = 0.9 \cdot 2/\lambda_\max$ closes in (the error
changes sign and shrinks by $|1 - 1.8| = 0.8$ per step), while with
$1.1 \cdot 2/\lambda_\max$ it grows by $1.2$ per step until it bounces across the valley
far from the minimum. Newton's step is the same update with a step size $1/\lambda_i$ for
each eigenvector at once.
"""),
    (CODE, r"""
(lam_min, lam_max), eigenvectors = np.linalg.eigh(value_grad_hess(np.ones(2))[2])
print(f"at the minimum: lambda_min = {lam_min:.3f}, lambda_max = {lam_max:.1f}, "
      f"2/lambda_max = {2 / lam_max:.3g}")
largest = max(np.linalg.eigvalsh(value_grad_hess(p)[2])[-1] for p in descent[::50])
print(f"largest lambda_max on the descent path: {largest:.1f}, so 2/lambda_max >= {2 / largest:.3g}"
      f" > lr = {lr}")

def distance_after(step_size, steps=200):
    p = 1.0 + 1e-3 * eigenvectors[:, 1]       # 0.001 from the minimum, across the valley
    for _ in range(steps):
        p = p - step_size * value_grad(p)[1]
    return np.linalg.norm(p - 1.0)

for factor in (0.9, 1.1):
    print(f"lr = {factor} * 2/lambda_max: distance to (1, 1) after 200 steps "
          f"{distance_after(factor * 2 / lam_max):.2g} (started at 0.001)")
assert np.isclose(lam_max, 1001.6, atol=0.1) and np.isclose(lam_min, 0.3994, atol=1e-3)
assert lr < 2 / largest
assert distance_after(0.9 * 2 / lam_max) < 1e-5 and distance_after(1.1 * 2 / lam_max) > 0.05
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
$Hv$. The book (6.5.10) writes the product as one more gradient,
$$Hv = \nabla_x\left[(\nabla_x f(x))^\top v\right],$$
which symgraph writes as it reads: `sg.grad(sg.sum(grad_f * v), x)`. `sg.hvp(f, x, v)`
builds the same product as graph by forward mode over the reverse-mode gradient, with `v`
an input like any other; compiled, either is a plain function `(x, v) -> Hv`, and the cell
checks that they agree.

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
    Hv_book = sg.grad(sg.sum(grad_F * v), z)    # Hv = grad_z[(grad_z F) . v], as in the book
hvp = sg.compile(Hv_F, [z, v])
hvp_book = sg.compile(Hv_book, [z, v])
sizes = [sg.stats(node)["nodes"] for node in (grad_F, Hv_F, Hv_book)]
print(f"nodes: gradient {sizes[0]}, sg.hvp {sizes[1]}, the book's grad of (grad F) . v {sizes[2]}")

z0 = np.random.default_rng(0).uniform(-1.2, -0.6, n)
d0 = np.random.default_rng(1).normal(size=n)
print(f"sg.hvp and the book's formula: largest difference "
      f"{np.abs(hvp(z0, d0) - hvp_book(z0, d0)).max():.1e}")
assert np.allclose(hvp(z0, d0), hvp_book(z0, d0), rtol=1e-12, atol=1e-9)
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
build both, and the picture marks each node with the order of the `grad` call that made it
(fill, border and the legend): order 0 for $f$, 1 for the first derivative (the constant
`1` of $1 - \tanh^2$ included), 2 for the second, which reuses nodes of both.

The orders of the op nodes do not depend on what was built before: the cell builds the
same three in `g`, after all the Hessians above, and checks that they come out the same.
A constant, though, is one node per value in a graph, and a node keeps the lowest order
of all its uses: in `g` the `1` was first the user's, in Rosenbrock's $(1 - x_0)$, so
there it counts as order 0. The picture is drawn from a graph of its own, where the `1`
belongs to the first derivative.
"""),
    (CODE, r"""
def tanh_and_two_derivatives():
    s = sg.var("s")
    f0 = sg.tanh(s)
    f1 = sg.grad(f0, s)
    return s, f0, f1, sg.grad(f1, s)

def orders(outputs, constants=True):
    return sorted((n.order, n.op) for n in sg.ancestors(outputs) if constants or n.op != "const")

with sg.Graph():
    s, f0, f1, f2 = tanh_and_two_derivatives()
with g:
    _, *in_g = tanh_and_two_derivatives()
print("f'  =", f1)
print("f'' =", f2, "   simplified:", sg.simplify(f2))
for node in sorted(sg.ancestors([f0, f1, f2]), key=lambda n: n.order):
    print(f"  order {node.order}: {node}")

assert orders([f0, f1, f2]) == [(0, "tanh"), (0, "var"), (1, "const"), (1, "square"),
                                (1, "subtract"), (2, "const"), (2, "multiply"), (2, "multiply")]
assert orders(in_g, constants=False) == orders([f0, f1, f2], constants=False)
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
