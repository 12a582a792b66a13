"""Cells of 03_mlp_backprop.ipynb (built by notebooks/build.py)."""

MD, CODE = "markdown", "code"

CELLS = [
    (MD, r"""
# 3. Backpropagation through a multilayer perceptron

Goodfellow, Bengio, Courville, *Deep Learning*, 6.5.4, Algorithms 6.3 and 6.4.
**Algorithm 6.3** is the forward pass of a deep network: for $k = 1, \dots, l$,
$a^{(k)} = b^{(k)} + W^{(k)} h^{(k-1)}$, $h^{(k)} = f(a^{(k)})$, then the cost
$J = L(\hat y, y) + \lambda\,\Omega(\theta)$ with a weight-decay regularizer
$\Omega = \sum_k \lVert W^{(k)} \rVert^2$.
**Algorithm 6.4** is the backward pass: from $\nabla_{\hat y} J$ down to the first layer,
each layer turns the gradient on its output into gradients on $W^{(k)}$, $b^{(k)}$ (plus
$2\lambda W^{(k)}$ from the regularizer) and on the layer below.

With symgraph we write only Algorithm 6.3; `sg.grad` writes Algorithm 6.4 as graph.
We then train on the 8x8 handwritten digits that ship with scikit-learn.
"""),
    (CODE, r"""
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import SVG
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import symgraph as sg
"""),
    (MD, r"""
## Data

1797 images of 8x8 pixels (values 0..16, scaled to 0..1), ten classes; a quarter is held
out for testing. Labels are one-hot rows for the cross-entropy.
"""),
    (CODE, r"""
images, labels = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    images / 16.0, labels, test_size=0.25, random_state=0, stratify=labels)
Y_train = np.eye(10)[y_train]
print("train", X_train.shape, " test", X_test.shape)
"""),
    (MD, r"""
## Algorithm 6.3 as a graph

Rows of `X` are examples, so a layer is `h @ W + b`. Each layer is built inside
`sg.name_scope`, and so are the loss and the regularizer: the pictures group nodes by scope.
The batch dimension is `None`: the same graph takes a batch of 5 or of 1347.
"""),
    (CODE, r"""
sizes = [64, 32, 10]
weight_decay = 1e-4

g = sg.Graph()
with g:
    X = sg.var("X", shape=(None, 64))
    Y = sg.var("Y", shape=(None, 10))
    h, params = X, []
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        with sg.name_scope(f"layer{k}"):
            W, b = sg.var(f"W{k}", shape=(n_in, n_out)), sg.var(f"b{k}", shape=(n_out,))
            a = h @ W + b
            h = sg.tanh(a) if k < len(sizes) - 1 else a     # the last layer gives logits
        params += [W, b]
    logits = h
    with sg.name_scope("loss"):
        data_loss = -sg.mean(sg.sum(Y * sg.log_softmax(logits), axis=1))
    with sg.name_scope("weight_decay"):
        W1, W2 = params[0], params[2]
        penalty = weight_decay * (sg.sum(sg.square(W1)) + sg.sum(sg.square(W2)))
    J = data_loss + penalty
print("J =", J)
"""),
    (MD, r"""
## Algorithm 6.4, written by `sg.grad`

One call appends the backward pass for all parameters. Drawn with `collapse=True`, each
scope becomes one box per derivative order: the order-0 boxes are Algorithm 6.3, the
order-1 boxes (dashed, `order 1` in their text) Algorithm 6.4, each beside the forward box
of its scope. The backward `loss` box starts the backward pass; the backward `layer2` box
needs the forward `layer1` activations (the edges from order 0 to order 1 are the values
backpropagation must keep from the forward pass), and the backward `weight_decay` box adds
$2\lambda W^{(k)}$ to each layer's weight gradient.

An arrow between two boxes stands for every edge between the nodes inside them; `×2` (or
`×5`) says how many. For instance the `×2` from the backward `loss` box to the backward
`layer2` box: the gradient on the logits is read by two nodes of layer 2's backward pass,
one summing it over the batch (the gradient of `b2`) and one passing it on towards `W2` and
layer 1. The cell checks that count on the graph itself.
"""),
    (CODE, r"""
with g:
    grads = sg.grad(J, params)
for p, gp in zip(params, grads):
    print(f"dJ/d{p.name}: shape {gp.shape}, scope {p.scope}")
counts = sg.stats([J] + grads)["by_order"]
print("nodes per derivative order:", counts)

size = len(g)
with g:  # both already inside the backward pass: no new node
    g_logits = sg.grad(J, logits)
    g_h1W2 = sg.grad(J, logits.inputs[0])  # logits = h1 @ W2 + b2
readers = [n for n in sg.ancestors(grads) if any(i is g_logits for i in n.inputs)]
print("the gradient on the logits is read by:",
      ["dJ/db2" if n is grads[3] else "dJ/d(h1 @ W2)" if n is g_h1W2 else n.op for n in readers])
assert len(g) == size and sorted(n.id for n in readers) == sorted([grads[3].id, g_h1W2.id])
SVG(sg.to_svg([J] + grads, collapse=True, rankdir="TB"))
"""),
    (MD, r"""
## Checking the gradients against finite differences

Before training, compare the derivative graph with central differences on a small batch
of five examples and random weights (`sg.check_grad`, per parameter). The same check on
the second derivatives (`order=2`) differentiates the backward pass itself.
"""),
    (CODE, r"""
rng = np.random.default_rng(0)
theta = []
for n_in, n_out in zip(sizes[:-1], sizes[1:]):
    theta += [rng.normal(0.0, 1.0 / np.sqrt(n_in), (n_in, n_out)), np.zeros(n_out)]

small = {X: X_train[:5], Y: Y_train[:5], **dict(zip(params, theta))}
check = sg.check_grad(J, params, small)
print({name: f"{e:.1e}" for name, e in check.per_input.items()})
check2 = sg.check_grad(J, params, small, order=2)
print(f"order 2: worst relative error {check2:.1e}")
assert check < 1e-6 and check2 < 1e-5
"""),
    (MD, r"""
## Algorithm 6.4 by hand, and the same numbers

To see that `sg.grad` wrote Algorithm 6.4 and nothing else, write the backward pass by
hand in NumPy, as the book does, and compare on the same five examples. With $N$ examples
and the mean cross-entropy, the gradient on the logits is
$$g = \nabla_{z} J = \frac{\operatorname{softmax}(z) - Y}{N}$$
(the derivative of $-\sum_j Y_j \log\operatorname{softmax}(z)_j$ is
$\operatorname{softmax}(z)\sum_j Y_j - Y$, and each row of a one-hot $Y$ sums to 1). Then,
layer by layer from the top: $\nabla_{W} J = h^\top g + 2\lambda W$,
$\nabla_{b} J = \sum_\text{batch} g$, and the gradient passed down is
$g \leftarrow (g\,W^\top) \odot f'(a)$ with $f'(a) = 1 - \tanh^2(a) = 1 - h^2$.
"""),
    (CODE, r"""
def backprop_by_hand(Xb, Yb, W1v, b1v, W2v, b2v):
    n = len(Xb)
    h1 = np.tanh(Xb @ W1v + b1v)                        # Algorithm 6.3
    z = h1 @ W2v + b2v
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)                   # softmax(z)
    g = g_top = (p - Yb) / n                            # Algorithm 6.4: the logits' gradient
    dW2, db2 = h1.T @ g + 2 * weight_decay * W2v, g.sum(axis=0)
    g = (g @ W2v.T) * (1 - h1 ** 2)                     # down through layer 2 and tanh
    dW1, db1 = Xb.T @ g + 2 * weight_decay * W1v, g.sum(axis=0)
    return g_top, [dW1, db1, dW2, db2]

by_hand_logits, by_hand = backprop_by_hand(X_train[:5], Y_train[:5], *theta)
symbolic_logits, *symbolic = sg.evaluate([g_logits] + grads, small)
for p, h, s in zip(params, by_hand, symbolic):
    print(f"dJ/d{p.name}: largest difference {np.abs(h - s).max():.1e}")
print(f"logits' gradient (softmax - Y)/N: largest difference "
      f"{np.abs(by_hand_logits - symbolic_logits).max():.1e}")

assert all(np.allclose(h, s, rtol=1e-10, atol=1e-14) for h, s in zip(by_hand, symbolic))
assert np.allclose(symbolic_logits, by_hand_logits, rtol=1e-10, atol=1e-14)
"""),
    (MD, r"""
## Training with plain SGD

`sg.compile([J] + grads, inputs)` turns the graph into one Python function (with the
graph rewrites applied) returning the loss and the four gradients; it must agree with
`sg.evaluate`. Then minibatch stochastic gradient descent (Algorithm 8.1):
$\theta \leftarrow \theta - \epsilon\, \nabla_\theta J$.
"""),
    (CODE, r"""
step = sg.compile([J] + grads, [X, Y] + params)
predict = sg.compile(logits, [X] + params)

compiled = step(X_train[:5], Y_train[:5], *theta)
evaluated = sg.evaluate([J] + grads, small)
assert all(np.allclose(c, e, rtol=1e-10, atol=1e-12) for c, e in zip(compiled, evaluated))

learning_rate, batch, epochs = 0.1, 32, 30
losses = []
for epoch in range(epochs):
    order = rng.permutation(len(X_train))
    total = 0.0
    for start in range(0, len(order), batch):
        idx = order[start:start + batch]
        loss, *gradients = step(X_train[idx], Y_train[idx], *theta)
        theta = [p - learning_rate * gp for p, gp in zip(theta, gradients)]
        total += float(loss) * len(idx)
    losses.append(total / len(X_train))
print(f"training loss: epoch 1 {losses[0]:.3f}, epoch {epochs} {losses[-1]:.3f}")
"""),
    (CODE, r"""
scores = predict(X_test, *theta)
accuracy = np.mean(np.argmax(scores, axis=1) == y_test)

fig, ax = plt.subplots(figsize=(5.5, 3.5))
ax.plot(range(1, epochs + 1), losses, "o-", ms=3)
ax.set(xlabel="epoch", ylabel="training objective J", yscale="log",
       title=f"SGD on digits: test accuracy {accuracy:.1%}")
plt.show()

print(f"test accuracy {accuracy:.3f} (chance: 0.1)")
assert losses[-1] < 0.3 * losses[0]
assert accuracy > 0.85
"""),
    (MD, r"""
A few test digits with the network's answers:
"""),
    (CODE, r"""
fig, axes = plt.subplots(1, 8, figsize=(8, 1.4))
for ax, image, guess, truth in zip(axes, X_test, np.argmax(scores, axis=1), y_test):
    ax.imshow(image.reshape(8, 8), cmap="gray_r")
    ax.set_title(f"{guess}" + ("" if guess == truth else f" ({truth})"),
                 color="black" if guess == truth else "red")
    ax.axis("off")
plt.show()
"""),
]
