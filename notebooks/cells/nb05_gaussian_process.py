"""Cells of 05_gaussian_process.ipynb (built by notebooks/build.py)."""

MD, CODE = "markdown", "code"

CELLS = [
    (MD, r"""
# 5. Gaussian-process regression: `cholesky`, `solve` and second derivatives

A Gaussian process puts a prior on functions: any finite set of values $f(x_1), \dots,
f(x_n)$ is jointly Gaussian with covariance $k(x_i, x_j)$. We use the RBF kernel
$$k(x, x') = \sigma_f^2 \exp\!\Big(-\frac{(x - x')^2}{2\ell^2}\Big),$$
and observations $y = f(x) + \varepsilon$ with noise $\varepsilon \sim N(0, \sigma_n^2)$
(Rasmussen and Williams, *Gaussian Processes for Machine Learning*, 2006, ch. 2 and 5). The
three hyperparameters $\theta = (\log \ell, \log \sigma_f^2, \log \sigma_n^2)$ (logs, so that
any real value is allowed) are chosen by maximising the **log marginal likelihood**
$$\log p(y \mid \theta) = -\tfrac12\, y^\top K^{-1} y - \tfrac12 \log\det K - \tfrac n2 \log 2\pi,
\qquad K = k(X, X) + \sigma_n^2 I.$$
Nobody computes $K^{-1}$: with the Cholesky factor $K = L L^\top$,
$K^{-1} y = L^{-\top}(L^{-1} y)$ is two triangular solves and
$\tfrac12 \log\det K = \sum_i \log L_{ii}$. That is what we write, with `sg.linalg.cholesky`
and `sg.linalg.solve`; `sg.grad` and `sg.hessian` then give the gradient and the Hessian in
$\theta$ through the Cholesky factor, and Newton's method finds the maximum.
"""),
    (CODE, r"""
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import SVG

import symgraph as sg
"""),
    (MD, r"""
## A toy data set

24 noisy samples of $\sin(1.5x) + 0.3x$ on $[-4, 4]$.
"""),
    (CODE, r"""
rng = np.random.default_rng(3)
n = 24
x_train = np.sort(rng.uniform(-4, 4, n))
y_train = np.sin(1.5 * x_train) + 0.3 * x_train + rng.normal(0, 0.2, n)
print(np.c_[x_train, y_train][:4].round(3), "...")
"""),
    (MD, r"""
## The log marginal likelihood as a graph

The kernel matrix is built with broadcasting (`x[:, None] - x[None, :]`), the log-determinant
from the diagonal of $L$ (its entries are positive).
"""),
    (CODE, r"""
g = sg.Graph()
with g:
    theta = sg.var("theta", shape=(3,))  # log lengthscale, log signal var., log noise var.
    x, y = sg.var("x", shape=(n,)), sg.var("y", shape=(n,))
    ell, sf2, sn2 = sg.exp(theta[0]), sg.exp(theta[1]), sg.exp(theta[2])
    K = sf2 * sg.exp(-0.5 * (x[:, None] - x[None, :]) ** 2 / ell ** 2) + sn2 * np.eye(n)
    L = sg.linalg.cholesky(K)
    alpha = sg.linalg.solve(L.T, sg.linalg.solve(L, y))  # K^-1 y
    half_log_det = sg.sum(sg.log(sg.sum(L * np.eye(n), axis=-1)))
    log_ml = -0.5 * sg.sum(y * alpha) - half_log_det - 0.5 * n * np.log(2 * np.pi)

def numpy_log_ml(th):
    # the textbook formula, straight from NumPy: a reference for the graph
    ell, sf2, sn2 = np.exp(th)
    K = sf2 * np.exp(-0.5 * np.subtract.outer(x_train, x_train) ** 2 / ell ** 2) + sn2 * np.eye(n)
    return (-0.5 * y_train @ np.linalg.solve(K, y_train) - 0.5 * np.linalg.slogdet(K)[1]
            - 0.5 * n * np.log(2 * np.pi))

theta0 = np.array([0.0, 0.0, np.log(0.1)])  # l = 1, sigma_f^2 = 1, sigma_n^2 = 0.1
feeds = {theta: theta0, x: x_train, y: y_train}
value = sg.evaluate(log_ml, feeds)
print(f"log p(y | theta0) = {value:.6f}")
assert np.isclose(value, numpy_log_ml(theta0), rtol=1e-12)
"""),
    (MD, r"""
The whole objective is one small graph; the Cholesky factor and the two solves are single
nodes.
"""),
    (CODE, r"""
print(sg.stats(log_ml)["by_op"])
SVG(sg.to_svg(log_ml))
"""),
    (MD, r"""
## Gradient and Hessian in $\theta$

`sg.grad` walks back through `solve` (whose derivative is again a `solve`, with the
transposed matrix) and `cholesky` (Murray's 2016 rule, itself made of triangular solves), so
the gradient is a graph of the same ops, and `sg.hessian` differentiates it once more.
We check both against central finite differences of the NumPy formula, and the gradient
also against the classical closed form (Rasmussen and Williams, eq. 5.9)
$$\frac{\partial}{\partial\theta_j} \log p(y \mid \theta)
  = \tfrac12 \operatorname{tr}\!\Big((\alpha\alpha^\top - K^{-1})\,\frac{\partial K}{\partial\theta_j}\Big),
  \qquad \alpha = K^{-1} y.$$
"""),
    (CODE, r"""
with g:
    grad_ml = sg.grad(log_ml, theta)
    hess_ml = sg.hessian(log_ml, theta)
value_grad_hess = sg.compile([log_ml, grad_ml, hess_ml], [theta, x, y])
v0, g0, H0 = value_grad_hess(theta0, x_train, y_train)

def numpy_hessian_entry(ei, ej, h=1e-4):
    f = lambda a, b: numpy_log_ml(theta0 + h * (a * ei + b * ej))
    return (f(1, 1) - f(1, -1) - f(-1, 1) + f(-1, -1)) / (4 * h * h)

h, E = 1e-5, np.eye(3)
fd_grad = np.array([numpy_log_ml(theta0 + h * e) - numpy_log_ml(theta0 - h * e) for e in E]) / (2 * h)
fd_hess = np.array([[numpy_hessian_entry(ei, ej) for ej in E] for ei in E])
print(f"gradient:           {g0.round(6)}\nfinite differences: {fd_grad.round(6)}")
print(f"Hessian:\n{H0.round(4)}\nfinite differences:\n{fd_hess.round(4)}")
assert np.allclose(g0, fd_grad, rtol=1e-6, atol=1e-7)
assert np.allclose(H0, fd_hess, rtol=1e-4, atol=1e-4) and np.allclose(H0, H0.T)

# Rasmussen and Williams, eq. 5.9, with dK/dtheta_j written out by hand
ell0, sf20, sn20 = np.exp(theta0)
D2 = np.subtract.outer(x_train, x_train) ** 2
Kf = sf20 * np.exp(-0.5 * D2 / ell0 ** 2)
K0 = Kf + sn20 * np.eye(n)
a0 = np.linalg.solve(K0, y_train)
dK = [Kf * D2 / ell0 ** 2, Kf, sn20 * np.eye(n)]
closed = [0.5 * np.trace((np.outer(a0, a0) - np.linalg.inv(K0)) @ d) for d in dK]
assert np.allclose(g0, closed, rtol=1e-10)
print("sg.check_grad, second order:", sg.check_grad(log_ml, theta, feeds, order=2) < 1e-6)
"""),
    (MD, r"""
## Newton's method on the hyperparameters

Newton's step $\theta \leftarrow \theta - H^{-1}\nabla$ maximises the local quadratic model
when $H$ is negative definite; otherwise we take a gradient step. Halving the step until the
likelihood increases keeps every iteration an improvement.
"""),
    (CODE, r"""
th, history = theta0.copy(), []
for step_no in range(20):
    v, gr, H = value_grad_hess(th, x_train, y_train)
    history.append(v)
    if np.linalg.norm(gr) < 1e-9:
        break
    newton = np.linalg.eigvalsh(H).max() < 0
    step = -np.linalg.solve(H, gr) if newton else 0.1 * gr
    while value_grad_hess(th + step, x_train, y_train)[0] < v:
        step = step / 2
    th = th + step
    print(f"step {step_no}: log p = {v:9.5f}, |gradient| = {np.linalg.norm(gr):.1e}, "
          f"{'Newton' if newton else 'gradient'}")
ell_, sf2_, sn2_ = np.exp(th)
print(f"lengthscale {ell_:.3f}, signal variance {sf2_:.3f}, noise std {np.sqrt(sn2_):.3f}")
assert np.all(np.diff(history) >= 0) and len(history) <= 10
assert np.linalg.norm(gr) < 1e-9 and np.linalg.eigvalsh(H).max() < 0  # a local maximum
"""),
    (MD, r"""
## The posterior

At test points $X_*$, with $K_* = k(X, X_*)$ and $v = L^{-1} K_*$, the posterior mean is
$K_*^\top \alpha$ and the posterior variance $k(x_*, x_*) - \sum_i v_{i*}^2$ (Rasmussen and
Williams, algorithm 2.1): the same `cholesky` and `solve` nodes, evaluated at the fitted
$\theta$.
"""),
    (CODE, r"""
m = 200
with g:
    xs = sg.var("xs", shape=(m,))
    K_star = sf2 * sg.exp(-0.5 * (x[:, None] - xs[None, :]) ** 2 / ell ** 2)
    mean = K_star.T @ alpha
    v_star = sg.linalg.solve(L, K_star)
    var = sf2 - sg.sum(v_star * v_star, axis=0)
x_test = np.linspace(-5, 5, m)
mu, s2 = sg.evaluate([mean, var], {theta: th, x: x_train, y: y_train, xs: x_test})

# the same posterior with NumPy's dense formulas
Kt = sf2_ * np.exp(-0.5 * (x_train[:, None] - x_train[None, :]) ** 2 / ell_ ** 2) + sn2_ * np.eye(n)
Ks = sf2_ * np.exp(-0.5 * (x_train[:, None] - x_test[None, :]) ** 2 / ell_ ** 2)
assert np.allclose(mu, Ks.T @ np.linalg.solve(Kt, y_train))
assert np.allclose(s2, sf2_ - np.sum(Ks * np.linalg.solve(Kt, Ks), axis=0))

sd = np.sqrt(np.maximum(s2, 0))
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.fill_between(x_test, mu - 2 * sd, mu + 2 * sd, color="#d1e5f0", label="mean ± 2 sd")
ax.plot(x_test, np.sin(1.5 * x_test) + 0.3 * x_test, "--", color="#999999", label="truth")
ax.plot(x_test, mu, color="#2166ac", lw=2, label="posterior mean")
ax.plot(x_train, y_train, "o", color="#b2182b", ms=4, label="data")
ax.set(xlabel="x", ylabel="y", title=f"GP posterior, $\\ell$ = {ell_:.2f}")
ax.legend(loc="upper left", fontsize=8)
plt.show()
"""),
    (MD, r"""
Two derivative rules did the work: $\bar B = A^{-\top} G$ and $\bar A = -\bar B X^\top$ for
$X = A^{-1}B$ (Giles 2008), and Murray's rule for the Cholesky factor. Both are written with
symgraph's own ops (`solve`, `@`, masks), which is why `sg.hessian` could differentiate the
gradient again, and why the whole second-order computation above is one compiled function.
"""),
]
