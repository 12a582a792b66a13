"""Cells of 06_cnn_digits.ipynb (built by notebooks/build.py)."""

MD, CODE = "markdown", "code"

CELLS = [
    (MD, r"""
# 6. A small CNN on scikit-learn's digits, with integer labels

Goodfellow, Bengio, Courville, *Deep Learning*, chapter 9. A convolutional layer slides
small filters over the image (`sg.nn.conv2d`, NCHW images and OIHW filters, as PyTorch's
`F.conv2d`), a max-pooling layer keeps the largest response in each 2x2 block
(`sg.nn.max_pool2d`), and a dense layer turns the pooled maps into ten class scores.

The labels stay integers. The cross-entropy of an example is minus the log-probability of
its label: `sg.take_along_axis` picks that entry from each row of `log_softmax`, an
integer-array gather whose derivative adds the cotangent back at the picked entries.
"""),
    (CODE, r"""
import time

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import SVG
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import symgraph as sg
"""),
    (MD, r"""
## Data

1797 images of 8x8 pixels, scaled to 0..1 and given one channel: shape (N, 1, 8, 8).
The labels are the digits themselves, `int64`, no one-hot rows.
"""),
    (CODE, r"""
images, labels = load_digits(return_X_y=True)
images = (images / 16.0).reshape(-1, 1, 8, 8)
X_train, X_test, y_train, y_test = train_test_split(
    images, labels, test_size=0.25, random_state=0, stratify=labels)
print("train", X_train.shape, y_train.dtype, " test", X_test.shape)
"""),
    (MD, r"""
## The network as a graph

Eight 3x3 filters with zero padding keep the 8x8 size; ReLU; 2x2 max pooling gives
eight 4x4 maps, flattened to 128 features for the dense layer. The batch dimension is
`None`, and the labels are an integer input. Each stage is built in its own
`sg.name_scope`, so the pictures can draw a stage as one box.
"""),
    (CODE, r"""
g = sg.Graph()
with g:
    X = sg.var("X", shape=(None, 1, 8, 8))
    y = sg.var("y", shape=(None,), dtype="int64")
    K, c = sg.var("K", shape=(8, 1, 3, 3)), sg.var("c", shape=(8,))
    W, b = sg.var("W", shape=(128, 10)), sg.var("b", shape=(10,))
    params = [K, c, W, b]
    with sg.name_scope("conv"):
        maps = sg.nn.relu(sg.nn.conv2d(X, K, padding=1) + c[:, None, None])
    with sg.name_scope("pool"):
        pooled = sg.nn.max_pool2d(maps, 2)
    with sg.name_scope("dense"):
        logits = pooled.reshape((-1, 128)) @ W + b
    with sg.name_scope("loss"):
        logp = sg.nn.log_softmax(logits, axis=1)
        loss = -sg.mean(sg.take_along_axis(logp, y[:, None], axis=1))
print("shapes:", maps.shape, pooled.shape, logits.shape)
print("loss =", loss)
"""),
    (MD, r"""
## The backward pass

`sg.grad` appends the derivative of the loss with respect to the four parameters to the
same graph. Drawn with `collapse=True`, each scope is one box per derivative order (blue:
the forward pass, red: the backward pass). Inside the red boxes: `add_at` spreads the
loss's cotangent back to the picked log-probabilities, `window_sum2d` sends each pooled
cotangent to the first maximum of its window, and `conv2d_weight_grad` correlates the
images with the cotangent of the feature maps to give the filters' gradient.
"""),
    (CODE, r"""
with g:
    grads = sg.grad(loss, params)
for p, gp in zip(params, grads):
    print(f"dloss/d{p.name}: shape {gp.shape}")
print("derivative ops:", sorted({n.op for n in sg.ancestors(grads) if n.order == 1}))
SVG(sg.to_svg([loss] + grads, collapse=True, rankdir="TB"))
"""),
    (MD, r"""
## Checking the gradient

Before training, compare the derivative graph with central differences on five examples
and random weights (`sg.check_grad`), first and second order: the second derivatives
differentiate the backward pass itself (the transposed convolution, the pooling mask,
the scatter of the labels). The filters' biases start at 0.1, not 0: the blank border of
a digit gives a convolution of exactly 0, and a zero bias would put every such pixel on
ReLU's kink, where finite differences see half a slope.
"""),
    (CODE, r"""
rng = np.random.default_rng(0)
theta = [rng.normal(0.0, 1 / 3, (8, 1, 3, 3)), np.full(8, 0.1),
         rng.normal(0.0, 1 / np.sqrt(128), (128, 10)), np.zeros(10)]
small = {X: X_train[:5], y: y_train[:5], **dict(zip(params, theta))}
check = sg.check_grad(loss, params, small)
check2 = sg.check_grad(loss, params, small, order=2)
print(f"worst relative error: order 1 {check:.1e}, order 2 {check2:.1e}")
assert check < 1e-6 and check2 < 1e-5
"""),
    (MD, r"""
## Training with plain gradient descent

`sg.compile` turns the loss and its gradients into one Python function (it must agree
with `sg.evaluate`). Then minibatch gradient descent,
$\theta \leftarrow \theta - \epsilon\, \nabla_\theta \mathrm{loss}$, for a few epochs.
Each epoch drops its last, incomplete batch: the loss is a mean, so a batch of 3
examples would take a step as long as a batch of 32, in a far noisier direction.
"""),
    (CODE, r"""
step = sg.compile([loss] + grads, [X, y] + params)
predict = sg.compile(logits, [X] + params)
compiled = step(X_train[:5], y_train[:5], *theta)
assert all(np.allclose(a, e, rtol=1e-10, atol=1e-12)
           for a, e in zip(compiled, sg.evaluate([loss] + grads, small)))

learning_rate, batch, epochs = 0.2, 32, 8
losses, start = [], time.perf_counter()
for epoch in range(epochs):
    order = rng.permutation(len(X_train))
    total = 0.0
    for first in range(0, len(order) - batch + 1, batch):
        idx = order[first:first + batch]
        value, *gradients = step(X_train[idx], y_train[idx], *theta)
        theta = [p - learning_rate * gp for p, gp in zip(theta, gradients)]
        total += float(value)
    losses.append(total / (len(order) // batch))
print(f"{epochs} epochs in {time.perf_counter() - start:.1f} s; "
      f"training loss {losses[0]:.3f} -> {losses[-1]:.3f}")
"""),
    (CODE, r"""
guesses = np.argmax(predict(X_test, *theta), axis=1)
accuracy = np.mean(guesses == y_test)

fig, (ax, *filters) = plt.subplots(1, 9, figsize=(11, 2.2),
                                   gridspec_kw={"width_ratios": [4] + [1] * 8})
ax.plot(range(1, epochs + 1), losses, "o-", ms=3)
ax.set(xlabel="epoch", ylabel="training loss", yscale="log",
       title=f"test accuracy {accuracy:.1%}")
for axf, kernel in zip(filters, theta[0][:, 0]):
    axf.imshow(kernel, cmap="RdBu_r", vmin=-np.abs(theta[0]).max(), vmax=np.abs(theta[0]).max())
    axf.axis("off")
filters[0].set_title("the 8 learned 3x3 filters", loc="left", fontsize=9)
plt.show()

print(f"test accuracy {accuracy:.3f} (chance: 0.1)")
assert losses[-1] < 0.3 * losses[0]
assert accuracy > 0.9
"""),
    (MD, r"""
## What the filters see

Any node of the graph can be evaluated: here the eight feature maps (after ReLU) of one
test digit, next to the digit.
"""),
    (CODE, r"""
digit = X_test[:1]
seen = sg.evaluate(maps, {X: digit, K: theta[0], c: theta[1]})
fig, axes = plt.subplots(1, 9, figsize=(11, 1.5))
axes[0].imshow(digit[0, 0], cmap="gray_r")
axes[0].set_title(f"digit {y_test[0]}", fontsize=9)
for ax, fmap in zip(axes[1:], seen[0]):
    ax.imshow(fmap, cmap="magma")
for ax in axes:
    ax.axis("off")
plt.show()
"""),
]
