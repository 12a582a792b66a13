"""Cells of 02_symbol_to_symbol.ipynb (built by notebooks/build.py)."""

MD, CODE = "markdown", "code"

CELLS = [
    (MD, r"""
# 2. Symbol-to-symbol derivatives

Goodfellow, Bengio, Courville, *Deep Learning*, 6.5.5 and Fig. 6.10. A *symbol-to-number*
library (Torch, Caffe) takes a graph and numbers and returns the gradient's numbers. A
*symbol-to-symbol* library (Theano, TensorFlow 1.x, symgraph) takes the graph and returns
**more graph**: nodes that describe the derivative, added to the same graph. Numbers come
later, from a generic evaluator run on any subset of the nodes. Since a derivative is just
graph, it can be differentiated again.

The book's example is a chain $x = f(w)$, $y = f(x)$, $z = f(y)$, so that
$$\frac{dz}{dw} = f'(y)\, f'(x)\, f'(w).$$
We take $f = \sin$, so $f' = \cos$. Only `w` is an input; `x`, `y` and `z` are the Python
names of the nodes `sin(w)`, `sin(sin(w))` and `sin(sin(sin(w)))`.
"""),
    (CODE, r"""
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import SVG, Markdown

import symgraph as sg
"""),
    (CODE, r"""
g = sg.Graph()
with g:
    w = sg.var("w")
    x = sg.sin(w)
    y = sg.sin(x)
    z = sg.sin(y)
print(f"{len(g)} nodes:", z)
SVG(sg.to_svg(z))
"""),
    (MD, r"""
## `grad` appends nodes

`sg.grad(z, w)` returns one new node. The nodes it appended have derivative order 1
(see the legend of the picture below): the three `cos` nodes read the **existing** nodes
`w`, `x` and `y`, exactly as in Fig. 6.10. Nothing of the forward pass is copied.
"""),
    (CODE, r"""
before = len(g)
with g:
    dz_dw = sg.grad(z, w)
print("dz/dw =", dz_dw)
print(f"the graph grew from {before} to {len(g)} nodes")
print(sg.debugprint(dz_dw))

cos_reads = {n.inputs[0] for n in sg.ancestors([dz_dw]) if n.op == "cos"}
assert cos_reads == {w, x, y}          # f'(w), f'(x), f'(y) reuse the forward nodes
"""),
    (MD, r"""
(`debugprint` shows the ancestors of the derivative only. `grad` also appended the seed
$dz/dz = 1$, the constant that the chain rule multiplies away.)

## Fig. 6.10, with the book's names

The book's figure also names the partial products: $dz/dy = f'(y)$, then
$dz/dx = dz/dy \cdot f'(x)$, then $dz/dw = dz/dx \cdot f'(w)$. Asking `sg.grad` for
$dz/dy$ and $dz/dx$ adds no node: they are the nodes already inside $dz/dw$. The picture
draws the figure bottom to top as the book does, with the values at $w = 0.5$; every
output is labelled with the book's name under its formula (symgraph cannot name an
intermediate node, so the formulas spell out $x = \sin(w)$ and $y = \sin(\sin(w))$).
"""),
    (CODE, r"""
size = len(g)
with g:
    dz_dy, dz_dx = sg.grad(z, y), sg.grad(z, x)
print("dz/dy =", dz_dy)
print("dz/dx =", dz_dx)

assert len(g) == size                                  # no new node
assert dz_dx.inputs[0] is dz_dy and dz_dw.inputs[0] is dz_dx
assert [n.inputs[0] for n in (dz_dy, dz_dx.inputs[1], dz_dw.inputs[1])] == [y, x, w]
SVG(sg.to_svg([x, y, z, dz_dy, dz_dx, dz_dw], feeds={w: 0.5}, rankdir="BT",
              labels=["x", "y", "z", "dz/dy", "dz/dx", "dz/dw"]))
"""),
    (MD, r"""
## Evaluating subgraphs with different feeds

The evaluator computes only the ancestors of the nodes you ask for, so each question needs
only the inputs it depends on. A feed may also *override* an intermediate node: the nodes
below it are then not computed at all.
"""),
    (CODE, r"""
w0 = 0.5
x0, y0 = np.sin(w0), np.sin(np.sin(w0))
expected = np.cos(y0) * np.cos(x0) * np.cos(w0)

zv, dv = sg.evaluate([z, dz_dw], {w: w0})
print(f"z = {zv:.6f}, dz/dw = {dv:.6f}   (NumPy: {np.sin(y0):.6f}, {expected:.6f})")
assert np.isclose(zv, np.sin(y0)) and np.isclose(dv, expected)

# Only the factor f'(y) = cos(y): feeding y is enough, w is not needed.
print(f"dz/dy at y = 0.3: {sg.evaluate(dz_dy, {y: 0.3}):.6f}")
assert np.isclose(sg.evaluate(dz_dy, {y: 0.3}), np.cos(0.3))

# Override y: what would dz/dw be if y were 0 (with w still 0.5 for the other factors)?
what_if = sg.evaluate(dz_dw, {w: w0, y: 0.0})
print(f"dz/dw with y overridden to 0: {what_if:.6f}")
assert np.isclose(what_if, np.cos(0.0) * np.cos(x0) * np.cos(w0))
"""),
    (MD, r"""
A feed that is missing is named in the error, with what to do:
"""),
    (CODE, r"""
try:
    sg.evaluate(dz_dw, {y: 0.3})     # cos(x) and cos(w) still need w
except sg.MissingFeedError as err:
    print("MissingFeedError:", err)
else:
    raise AssertionError("expected a MissingFeedError")
"""),
    (MD, r"""
## Higher orders: `grad` of a `grad`

Apply `grad` to the derivative node again, four more times. Each derivative is checked
against finite differences with `sg.check_grad(z, w, feeds, order=k)`, and
`sg.simplify` (algebraic rewrites and sharing of equal subexpressions, in the same graph)
must not change its value. `assume_finite=True` lets it use the algebra of real numbers
(collecting like terms, `x - x -> 0`): right here, where every value is finite, but it
could turn an inf or a NaN into a number, so `sg.simplify` and `sg.compile` only do it
when asked.
"""),
    (CODE, r"""
feeds = {w: w0}
rows = []
d = z
for k in range(1, 6):
    with g:
        d = sg.grad(d, w)
        simple = sg.simplify(d, assume_finite=True)
    raw, simp = sg.stats(d), sg.stats(simple)
    value, value_simple = sg.evaluate([d, simple], feeds)
    error = sg.check_grad(z, w, feeds, order=k)
    assert np.isclose(value, value_simple, rtol=1e-10) and error < 1e-5
    rows.append((k, raw["nodes"], simp["nodes"], raw["by_order"], float(value)))
    if k == 2:
        second = d

assert np.isclose(rows[0][4], expected)
table = ["| order | nodes | after `sg.simplify` | nodes per derivative order | value at w = 0.5 |",
         "|---:|---:|---:|:---|---:|"]
table += [f"| {k} | {n} | {m} | {dict(by)} | {v:.6f} |" for k, n, m, by, v in rows]
Markdown("\n".join(table))
"""),
    (MD, r"""
Each `grad` differentiates *all* of the previous derivative's graph, so without
simplification the graph grows by a factor of about 2.5 per order; after `sg.simplify` it
grows much more slowly. The picture of the second derivative shows the three layers of
nodes, told apart by fill and border as the legend says: the forward chain (order 0), the
first derivative (order 1) and the nodes of the second `grad` (order 2), which read both.
"""),
    (CODE, r"""
orders = [r[0] for r in rows]
fig, ax = plt.subplots(figsize=(5.5, 3.5))
ax.plot(orders, [r[1] for r in rows], "o-", label="grad of grad")
ax.plot(orders, [r[2] for r in rows], "s-", label="after sg.simplify(assume_finite=True)")
ax.set(xlabel="derivative order k", ylabel="nodes in the k-th derivative", yscale="log",
       xticks=orders, title=r"$d^kz/dw^k$ for $z = \sin(\sin(\sin(w)))$")
ax.legend()
plt.show()
growth = [later[1] / earlier[1] for earlier, later in zip(rows, rows[1:])]
print("growth per order without simplify:", np.round(growth, 2))
assert all(2 < r < 3 for r in growth) and rows[-1][2] < rows[-1][1] / 3
"""),
    (CODE, r"""
SVG(sg.to_svg(second, feeds=feeds, rankdir="TB"))
"""),
]
