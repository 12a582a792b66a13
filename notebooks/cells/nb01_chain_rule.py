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
gradient of `f` with respect to every node (`grad`: $\partial f / \partial\,\text{node}$),
the picture CS231n draws by hand. Read the `grad` numbers from right to left: that is
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
shared by all five derivatives.
"""),
    (CODE, r"""
print(sg.pprint(grads))
"""),
    (MD, r"""
## Question 1: why does `dw2` carry a `1 *`?

The CS231n code ends with `dw = [x[0]*ddot, x[1]*ddot, 1.0*ddot]`. The `1.0` is the local
gradient of the add node: $\partial (a + b)/\partial b = 1$, so an add node passes the
gradient it receives to each input unchanged. This is the add op's backward rule as
symgraph declares it (`g` is the gradient arriving at the node, one rule per input):
"""),
    (CODE, r"""
import inspect

add_rule_b = sg.OPS["add"].vjp[1]                 # the rule for the second input
print(inspect.getsource(add_rule_b).strip())
with sg.Graph():
    g_in = sg.var("g")
    assert add_rule_b(g_in, None) is g_in           # g itself goes back: no `1 *`
"""),
    (MD, r"""
So there is no multiply by 1 in the graph. In the picture of the five derivatives (the
nodes `sg.grad` appended, order 1 in the legend, labelled `dw0 ... dx1`), `dw2` *is* the
gradient arriving at the add node `s`, $(1 - f) f$, and the four multiply nodes read it:
each multiply sends its input the gradient times the *other* input. `sg.grad` accepts any
node, not only inputs, so we can ask for the gradient at `s` directly: it is the same node
as `dw2`.
"""),
    (CODE, r"""
with g:
    df_ds = sg.grad(f, s)
print("df/ds  =", df_ds)
print("df/dw2 =", grads[2])
print("the same node:", df_ds is grads[2])

assert df_ds is grads[2] and df_ds.op == "multiply"
assert np.isclose(sg.evaluate(df_ds, feeds), ds)
SVG(sg.to_svg(grads, feeds=feeds, labels=["dw0", "dw1", "dw2", "dx0", "dx1"]))
"""),
    (MD, r"""
## Question 2: the precedence trap `1 / 1 + exp(-s)`

Division binds tighter than addition, so `1 / 1 + exp(-s)` is $(1/1) + e^{-s}$, not the
sigmoid. Python has already computed `1 / 1` before symgraph sees the expression; `str`
and the picture show what was built. Drawn side by side (each output labelled with what
was typed), the wrong one stops at the add node, $1 + e^{-1} = 1.368$; the right one divides
1 by it. Parentheses fix it, and the written-out sigmoid then agrees with `sg.sigmoid` in
value and gradient.
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

assert wrong.op == "add" and right.op == "divide" and right.inputs[1] is wrong
assert np.isclose(vw, 1 + np.exp(-1.0)) and np.isclose(dw_, -np.exp(-1.0))
assert np.isclose(vr, fv) and np.isclose(dr_, ds)
SVG(sg.to_svg([wrong, right], feeds=feeds, labels=["1 / 1 + exp(-s)", "1 / (1 + exp(-s))"]))
"""),
    (MD, r"""
## Question 3: why is the sigmoid's local gradient $(1 - f)\,f$ and not $f$?

For $e^s$ the derivative is the function itself, and it is tempting to think the same of
$\sigma$. CS231n answers with the sigmoid written gate by gate (`*-1`, `exp`, `+1`, `1/x`)
and the gradient pushed back through each gate. The written-out sigmoid `right` above is
that circuit; `grads_of=right` draws CS231n's figure: $-1/d^2 = -0.5344$ arrives at
$d = 1 + e^{-s}$, passes the `+1` gate unchanged, is multiplied by $e^{-s} = 0.3679$ at
the `exp` gate ($-0.1966$ at $-s$) and by $-1$ at the negation: $0.1966$ at $s$.

(The constant `1` is one node used by two gates, so its gradient is the sum of both uses;
see question 4.)
"""),
    (CODE, r"""
with g:
    neg = -s                  # the gates' inputs, written again: symgraph gives back the
    e = sg.exp(neg)           # nodes of `right` (equal expressions are one node)
    d = 1 + e
    at_gates = sg.evaluate(sg.grad(right, [d, e, neg, s]), feeds)
print("gradients at 1 + exp(-s), exp(-s), -s, s:", np.round(at_gates, 4))

assert right.inputs[1] is d
assert np.allclose(at_gates, [-0.5344, -0.5344, -0.1966, 0.1966], atol=5e-5)
SVG(sg.to_svg(right, feeds=feeds, grads_of=right))
"""),
    (MD, r"""
Multiplied out, the four local gradients collapse:
$$\frac{df}{ds} = -\frac{1}{d^2}\cdot 1 \cdot e^{-s} \cdot (-1) = \frac{e^{-s}}{(1 + e^{-s})^2}
 = \frac{1 + e^{-s} - 1}{1 + e^{-s}} \cdot \frac{1}{1 + e^{-s}} = (1 - f)\,f.$$
`sg.sigmoid` is one op whose backward rule is that collapsed form, so its derivative is a
single `f * (1 - f)` built on the forward node `f` (the very same node, reused). On a
scalar `s`, the two derivative graphs side by side: the chain of four gates (top)
and the one rule (bottom), both $0.1966$ at $s = 1$, not $f = 0.7311$. Finite
differences (`sg.check_grad`) agree with both.
"""),
    (CODE, r"""
with sg.Graph():
    s1 = sg.var("s")
    by_gates = sg.grad(1 / (1 + sg.exp(-s1)), s1)
    sig = sg.sigmoid(s1)
    one_rule = sg.grad(sig, s1)
print("gate by gate:", by_gates)
print("sg.sigmoid:  ", one_rule)
v_gates, v_rule, v_sig = sg.evaluate([by_gates, one_rule, sig], {s1: 1.0})
print(f"{v_gates:.4f} = {v_rule:.4f} = (1 - f) f with f = {v_sig:.4f}")

assert any(i is sig for i in one_rule.inputs) and np.isclose(v_rule, (1 - v_sig) * v_sig)
assert np.isclose(v_gates, v_rule) and not np.isclose(v_rule, v_sig)
assert sg.check_grad(sig, s1, {s1: 1.0}) < 1e-6
SVG(sg.to_svg([by_gates, one_rule], feeds={s1: 1.0}, labels=["gate by gate", "sg.sigmoid"]))
"""),
    (MD, r"""
## Question 4: a node used twice

When a node feeds several others, each use sends a gradient back, and the node's gradient
is their **sum** (the multivariate chain rule). Take $y = a \cdot a + a$ at $a = 3$: the
two edges into the multiply bring back $a = 3$ each, the edge into the add brings $1$, so
$dy/da = 3 + 3 + 1 = 7 = 2a + 1$. The picture with `grads_of=y` shows the `a` node with
its three outgoing edges and `grad 7`; `sg.grad` writes the sum as graph, with add nodes.
"""),
    (CODE, r"""
with sg.Graph():
    a = sg.var("a")
    y = a * a + a
    dy_da = sg.grad(y, a)
print("dy/da =", dy_da, "=", sg.evaluate(dy_da, {a: 3.0}))

assert sg.evaluate(dy_da, {a: 3.0}) == 7.0
assert sg.check_grad(y, a, {a: 3.0}) < 1e-6
SVG(sg.to_svg(y, feeds={a: 3.0}, grads_of=y))
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
