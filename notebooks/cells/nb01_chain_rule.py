"""Cells of 01_chain_rule_sigmoid_neuron.ipynb (built by notebooks/build.py)."""

MD, CODE = "markdown", "code"

CELLS = [
    (MD, r"""
# 1. The chain rule on a sigmoid neuron

The two-dimensional neuron of the CS231n notes
([Backpropagation, Intuitions](https://cs231n.github.io/optimization-2/)):

$$f(w, x) = \sigma(w_0 x_0 + w_1 x_1 + w_2) = \frac{1}{1 + e^{-(w_0 x_0 + w_1 x_1 + w_2)}}$$

at $w = [2, -3, -3]$, $x = [-1, -2]$. Backpropagation is the chain rule applied node by node
(Goodfellow, Bengio, Courville, *Deep Learning*, 6.5.2). symgraph does it *symbol to
symbol* (6.5.5): `sg.grad` does not compute numbers, it appends the nodes that describe the
derivative to the graph, and `sg.evaluate` computes any nodes from numbers you feed.
"""),
    (CODE, r"""
import numpy as np
from IPython.display import SVG

import symgraph as sg
"""),
    (MD, r"""
## The circuit

One input per wire of the CS231n circuit diagram. Building the expression computes nothing:
`f` is a node, and `str(f)` shows the formula it stands for.
"""),
    (CODE, r"""
g = sg.Graph()
with g:
    w0, w1, w2 = sg.var("w0"), sg.var("w1"), sg.var("w2")
    x0, x1 = sg.var("x0"), sg.var("x1")
    s = w0 * x0 + w1 * x1 + w2          # the "dot product" plus bias
    f = sg.sigmoid(s)

feeds = {w0: 2.0, w1: -3.0, w2: -3.0, x0: -1.0, x1: -2.0}
print(f)
"""),
    (MD, r"""
## Forward and backward pass in one picture

`sg.to_svg(f, feeds=..., grads_of=f)` evaluates every node (black: its value) and the
gradient of `f` with respect to every node (red: $\partial f / \partial\,\text{node}$), the
picture CS231n draws by hand. Read the red numbers from right to left: that is
backpropagation.
"""),
    (CODE, r"""
SVG(sg.to_svg(f, feeds=feeds, grads_of=f))
"""),
    (MD, r"""
## The same numbers by hand

Forward: $w_0x_0 + w_1x_1 = 2\cdot(-1) + (-3)(-2) = 4$, plus $w_2 = -3$ gives $s = 1$ and
$f = \sigma(1) \approx 0.7311$. Backward: $\partial f/\partial s = (1 - f)f \approx 0.1966$;
a multiply node sends each input the gradient times the *other* input, so
$\partial f/\partial w_0 = x_0 \cdot 0.1966$, $\partial f/\partial x_0 = w_0 \cdot 0.1966$, and
so on. `sg.grad` builds the five derivative nodes; one `sg.evaluate` computes them all.
"""),
    (CODE, r"""
with g:
    grads = sg.grad(f, [w0, w1, w2, x0, x1])
values = sg.evaluate([f] + grads, feeds)

fv = 1 / (1 + np.exp(-1.0))        # sigma(1)
ds = (1 - fv) * fv                 # the gradient arriving at s
by_hand = [fv, -1 * ds, -2 * ds, 1 * ds, 2 * ds, -3 * ds]
for name, v, h in zip(["f", "df/dw0", "df/dw1", "df/dw2", "df/dx0", "df/dx1"], values, by_hand):
    print(f"{name:>7} = {float(v):+.4f}   by hand {h:+.4f}")

assert np.allclose(values, by_hand, rtol=1e-12)
assert np.isclose(values[0], 0.7311, atol=5e-5) and np.isclose(values[1], -0.1966, atol=5e-5)
"""),
    (MD, r"""
The derivative is more graph. `sg.pprint` prints it with shared subexpressions named once:
the sigmoid's output `t1` is reused, not recomputed, and `out2` (the gradient at `s`) is
shared by all five derivatives. In the picture, the derivative nodes (order 1) are red.
"""),
    (CODE, r"""
print(sg.pprint(grads))
SVG(sg.to_svg(grads, feeds=feeds))
"""),
    (MD, r"""
## Question 1: why does `dw2` carry a `1 *`?

The CS231n code ends with `dw = [x[0]*ddot, x[1]*ddot, 1.0*ddot]`. The `1.0` is the local
gradient of the add node: $\partial (a + b)/\partial b = 1$, so an add node passes the
gradient it receives to each input unchanged. `sg.grad` accepts any node, not only inputs,
so we can ask for the gradient at the add node `s` directly: it is *the same node* as the
gradient of `w2` (symgraph multiplies by 1 only in your head).
"""),
    (CODE, r"""
with g:
    df_ds = sg.grad(f, s)
    df_dw2 = sg.grad(f, w2)
print("df/ds  =", df_ds)
print("df/dw2 =", df_dw2)
print("the same node:", df_ds is df_dw2)

assert df_ds is df_dw2
assert np.isclose(sg.evaluate(df_ds, feeds), ds)
"""),
    (MD, r"""
## Question 2: why is the sigmoid's local gradient $(1 - f)\,f$ and not $f$?

For $e^s$ the derivative is the function itself, and it is tempting to think the same of
$\sigma$. But
$$\frac{d\sigma}{ds} = \frac{e^{-s}}{(1 + e^{-s})^2}
 = \frac{1 + e^{-s} - 1}{1 + e^{-s}} \cdot \frac{1}{1 + e^{-s}} = (1 - \sigma(s))\,\sigma(s).$$
The graph says the same: the derivative node multiplies the forward node `f` (the very same
node, reused) by `1 - f`. At $s = 1$ that is $0.1966$, not $0.7311$; finite differences
(`sg.check_grad`, differentiating at the intermediate node `s`) agree.
"""),
    (CODE, r"""
print("df/ds is", df_ds, " op:", df_ds.op)
print("its first input is f itself:", df_ds.inputs[0] is f)
fs, local = sg.evaluate([f, df_ds], feeds)
print(f"f = {fs:.4f}, (1 - f) f = {local:.4f}")

assert df_ds.op == "multiply" and df_ds.inputs[0] is f
assert np.isclose(local, (1 - fs) * fs) and not np.isclose(local, fs)
assert sg.check_grad(f, s, feeds) < 1e-6      # finite differences at the node s
SVG(sg.to_svg(df_ds, feeds=feeds))
"""),
    (MD, r"""
## Question 3: the precedence trap `1 / 1 + exp(-x)`

Division binds tighter than addition, so `1 / 1 + exp(-s)` is $(1/1) + e^{-s}$, not the
sigmoid. Python has already computed `1 / 1` before symgraph sees the expression; `str`
shows what was built. Parentheses fix it, and the written-out sigmoid then agrees with
`sg.sigmoid` in value and gradient.
"""),
    (CODE, r"""
with g:
    wrong = 1 / 1 + sg.exp(-s)
    right = 1 / (1 + sg.exp(-s))
    d_wrong, d_right = sg.grad(wrong, s), sg.grad(right, s)
print("wrong:", wrong)
print("right:", right)
vw, vr, dw_, dr_ = sg.evaluate([wrong, right, d_wrong, d_right], feeds)
print(f"values:    wrong {vw:.4f}   right {vr:.4f}   sg.sigmoid {fv:.4f}")
print(f"gradients: wrong {dw_:.4f}  right {dr_:.4f}   (1 - f) f  {ds:.4f}")

assert np.isclose(vw, 1 + np.exp(-1.0)) and np.isclose(dw_, -np.exp(-1.0))
assert np.isclose(vr, fv) and np.isclose(dr_, ds)
"""),
    (MD, r"""
## Checking against finite differences

`sg.check_grad` perturbs each input along a random direction and compares the derivative
graph with central differences; it returns the worst relative error and raises
`sg.SymgraphError` on a mismatch. `order=2` checks the second derivatives (the gradient
of the gradient graph) the same way.
"""),
    (CODE, r"""
inputs = [w0, w1, w2, x0, x1]
err1 = sg.check_grad(f, inputs, feeds)
err2 = sg.check_grad(f, inputs, feeds, order=2)
print(f"worst relative error: order 1 {err1:.1e}, order 2 {err2:.1e}")
assert err1 < 1e-6 and err2 < 1e-5
"""),
    (MD, r"""
## The same neuron with vectors

With `w` and `x` as vectors (as in the CS231n code), indexing nodes pick the elements and
the gradients come back as vectors; the numbers are those above.
"""),
    (CODE, r"""
with sg.Graph():
    w, x = sg.var("w", shape=(3,)), sg.var("x", shape=(2,))
    fvec = sg.sigmoid(w[0] * x[0] + w[1] * x[1] + w[2])
    dw, dx = sg.grad(fvec, [w, x])
    dwv, dxv = sg.evaluate([dw, dx], {w: [2, -3, -3], x: [-1, -2]})
print("dw =", dwv.round(4), " dx =", dxv.round(4))
assert np.allclose(dwv, values[1:4]) and np.allclose(dxv, values[4:])
"""),
]
