"""Gathering (x[idx], take, take_along_axis, one_hot) and convolution (sg.nn.conv2d, the
pools): values against NumPy and direct loops, derivatives against finite differences
and exact values, run-time index errors, and the shapes NumPy's indexing rules give."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from symgraph.ops.conv import _loop_conv2d, _loop_windows


def _fed(index_values):
    """Integer inputs for index arrays (fed at run time), and their feeds."""
    nodes = [sg.var(f"i{k}", shape=np.shape(v), dtype="int64") for k, v in enumerate(index_values)]
    return nodes, dict(zip(nodes, index_values))


# --- gather: NumPy's indexing rules -----------------------------------------------------------

A, B = np.array([[0, 2], [-1, 1]]), np.array([1, -2])
INDEXES = [  # (index with arrays, its NumPy twin) on a (3, 4, 5) array
    lambda a, b: (a,), lambda a, b: (a, slice(None)), lambda a, b: (slice(None), a),
    lambda a, b: (a, b), lambda a, b: (slice(1, None), a, b),
    lambda a, b: (a, slice(None), b),            # apart: the index dims go first
    lambda a, b: (0, slice(None), b),            # an int counts as an index array
    lambda a, b: (a, None, b),                   # None between them keeps them apart
    lambda a, b: (Ellipsis, b), lambda a, b: (None, a, Ellipsis, 1),
    lambda a, b: (slice(None, None, -1), b[None, :, None], slice(0, 5, 2)),
]


@pytest.mark.parametrize("k", range(len(INDEXES)))
@pytest.mark.parametrize("fed", [False, True])
def test_gather_follows_numpy_indexing(graph, rng, k, fed):
    value = rng.standard_normal((3, 4, 5))
    x = sg.var("x", shape=(3, 4, 5))
    expected = value[INDEXES[k](A, B)]
    nodes, feeds = _fed([A, B]) if fed else ([A, B], {})
    y = x[INDEXES[k](*nodes)]
    assert y.op == "gather" and y.shape == expected.shape
    np.testing.assert_array_equal(sg.evaluate(y, {x: value, **feeds}), expected)
    np.testing.assert_array_equal(sg.compile(y, [x, *feeds])(value, *feeds.values()), expected)
    # the derivative adds the cotangent back where each element came from
    r = rng.standard_normal(expected.shape)
    grad = sg.evaluate(sg.grad(sg.sum(y * r), x), {x: value, **feeds})
    reference = np.zeros_like(value)
    np.add.at(reference, INDEXES[k](A, B), r)
    np.testing.assert_allclose(grad, reference, rtol=1e-15)


def test_repeated_indices_add_up(graph):
    x = sg.var("x", shape=(3,))
    i = sg.var("i", shape=(4,), dtype="int64")
    y = sg.sum(x[i] * np.array([1.0, 10.0, 100.0, 1000.0]))
    g = sg.grad(y, x)
    # [2, 0, 2, -1]: index 2 is read three times (-1 is 2 as well)
    assert sg.evaluate(g, {x: np.ones(3), i: [2, 0, 2, -1]}).tolist() == [10.0, 0.0, 1101.0]


def test_gather_second_and_third_order_with_fed_indices(graph, rng):
    x = sg.var("x", shape=(4,))
    i = sg.var("i", shape=(5,), dtype="int64")
    y = sg.sum(x[i] ** 3)
    index, value = np.array([1, 1, 3, 0, 1]), rng.uniform(0.5, 1.5, 4)
    counts = np.bincount(index, minlength=4)
    h = sg.hessian(y, x)
    np.testing.assert_allclose(sg.evaluate(h, {x: value, i: index}), np.diag(6 * value * counts))
    d3 = sg.grad(sg.sum(sg.grad(sg.sum(sg.grad(y, x)), x)), x)  # sum of 6 x_j counts_j
    np.testing.assert_allclose(sg.evaluate(d3, {x: value, i: index}), 6.0 * counts)
    assert sg.check_grad(y, x, {x: value, i: index}, order=2) < 1e-6


def test_an_integer_index_scalar_node_picks_one_row(graph):
    m = sg.var("m", shape=(3, 2))
    k = sg.var("k", dtype="int64")
    row = m[k]
    assert row.shape == (2,)
    value = np.arange(6.0).reshape(3, 2)
    assert sg.evaluate(row, {m: value, k: -1}).tolist() == [4.0, 5.0]
    assert sg.evaluate(sg.grad(sg.sum(row), m), {m: value, k: 1}).tolist() == [
        [0.0, 0.0], [1.0, 1.0], [0.0, 0.0]]


def test_integer_inputs_get_no_gradient(graph):
    x = sg.var("x", shape=(3,))
    i = sg.var("i", shape=(2,), dtype="int64")
    y = sg.sum(x[i])
    with pytest.raises(sg.SymgraphError, match="'i'.*only float nodes have derivatives"):
        sg.grad(y, i)
    assert sg.grad(y, x).shape == (3,)


@pytest.mark.parametrize("make", [
    lambda x, i: x[i],
    lambda x, i: sg.take(x, i, axis=0),
    lambda x, i: sg.take_along_axis(x, i[:, None], axis=1),
    lambda x, i: sg.one_hot(i, 3),
])
def test_out_of_range_indices_fed_at_run_time_name_the_node(graph, make):
    x = sg.var("x", shape=(4, 3))
    i = sg.var("i", shape=(4,), dtype="int64")
    y = make(x, i)
    fine = {x: np.ones((4, 3)), i: np.array([0, -1, 2, 1])}
    sg.evaluate(y, fine)
    bad = np.array([0, 1, 7, 2])
    pattern = rf"computing .*op '{y.op}'.*index 7 is out of range for .* of size [34]"
    with pytest.raises(sg.SymgraphError, match=pattern):
        sg.evaluate(y, {x: np.ones((4, 3)), i: bad})
    f = sg.compile(y, [x, i])
    with pytest.raises(sg.SymgraphError, match=pattern):
        f(np.ones((4, 3)), bad)
    with pytest.raises(sg.SymgraphError, match=r"index -5 is out of range .*\[-[34], [34]\)"):
        f(np.ones((4, 3)), np.array([0, -5, 0, 0]))


def test_out_of_range_in_the_derivative_names_it_too(graph):
    x = sg.var("x", shape=(3,))
    i = sg.var("i", shape=(2,), dtype="int64")
    g = sg.grad(sg.sum(x[i] ** 2), x)
    with pytest.raises(sg.SymgraphError, match="index 3 is out of range for axis 0 of size 3"):
        sg.evaluate(g, {x: np.ones(3), i: [0, 3]})


def test_constant_indices_are_checked_when_built(graph):
    x = sg.var("x", shape=(3, 4))
    with pytest.raises(sg.ShapeError, match=r"indexing 'x'.*index 3 is out of range for axis 0"):
        x[np.array([0, 3])]
    with pytest.raises(sg.ShapeError, match="index -5 is out of range for axis 1"):
        x[:, [1, -5]]
    with pytest.raises(sg.ShapeError, match="index 4 is out of range"):
        sg.take_along_axis(x, np.array([[4], [0], [0]]), axis=1)
    with pytest.raises(sg.ShapeError, match="one_hot.*index 3 is out of range"):
        sg.one_hot(np.array([0, 3]), 3)


def test_take_names_the_array_taken_from_not_its_flattening(graph):
    x = sg.var("x", shape=(3, 4))
    before = len(graph)
    for index in (12, [12], [[0, -13]]):
        with pytest.raises(sg.ShapeError, match=r"sg.take: index -?1[23] is out of range for "
                                                r"the flattened 'x' .*size 12.*\[-12, 12\)"):
            sg.take(x, index)
    with pytest.raises(sg.ShapeError, match=r"index 4 is out of range for axis 1 of 'x'"):
        sg.take(x, [4], axis=-1)
    assert len(graph) == before  # the flattening made on the way is undone
    assert sg.evaluate(sg.take(x, [11, -12]), {x: np.arange(12.0).reshape(3, 4)}).tolist() \
        == [11.0, 0.0]


def test_bad_indices_are_refused(graph):
    x = sg.var("x", shape=(3, 4))
    f = sg.var("f", shape=(2,))
    with pytest.raises(sg.SymgraphError, match="'f'.*dtype float64.*integer node"):
        x[f]
    with pytest.raises(sg.SymgraphError, match=r"boolean index of shape \(2,\) does not match"):
        x[np.array([True, False])]  # NumPy's IndexError: the mask must cover whole axes
    with pytest.raises(sg.SymgraphError, match="boolean indices are not supported"):
        x[True]
    with pytest.raises(sg.SymgraphError, match="known"):
        sg.var("u", shape=(None,))[np.array([True, False])]
    with pytest.raises(sg.SymgraphError, match="not an integer array"):
        x[np.array([0.5])]
    with pytest.raises(sg.ShapeError, match="3 indices for 2 dimensions"):
        x[np.array([0]), 0, 0]
    with pytest.raises(sg.ShapeError, match="do not broadcast together"):
        x[np.array([0, 1]), np.array([0, 1, 2])]
    with pytest.raises(sg.ShapeError, match="as many dimensions as x"):
        sg.take_along_axis(x, np.array([0, 1, 2]), axis=1)
    with pytest.raises(sg.SymgraphError, match="n must be an int >= 1"):
        sg.one_hot(np.array([0]), 0)


def test_take_matches_numpy(graph, rng):
    value = rng.standard_normal((3, 4))
    x = sg.var("x", shape=(3, 4))
    for indices, axis in [(np.array([11, 0, -12]), None), (np.array([[3], [0]]), 1),
                          (2, 0), (np.array(1), 1)]:
        got = sg.evaluate(sg.take(x, indices, axis=axis), {x: value})
        np.testing.assert_array_equal(got, np.take(value, indices, axis=axis))


def test_take_along_axis_with_an_unknown_batch(graph, rng):
    z = sg.var("z", shape=(None, 3))
    labels = sg.var("labels", shape=(None,), dtype="int64")
    picked = sg.take_along_axis(sg.log_softmax(z), labels[:, None], axis=1)
    loss = -sg.mean(picked)
    dz = sg.grad(loss, z)
    assert picked.shape == (None, 1) and dz.shape == (None, 3)
    logits, y = rng.standard_normal((5, 3)), np.array([0, 2, 2, 1, 0])
    feeds = {z: logits, labels: y}
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    # the softmax cross-entropy's gradient: (softmax - one_hot) / n
    np.testing.assert_allclose(sg.evaluate(dz, feeds), (p - np.eye(3)[y]) / 5, rtol=1e-12)
    same = -sg.mean(sg.sum(sg.one_hot(labels, 3) * sg.log_softmax(z), axis=1))
    np.testing.assert_allclose(*sg.evaluate([loss, same], feeds), rtol=1e-14)
    assert sg.check_grad(loss, z, feeds, order=2) < 1e-6


def test_one_hot_values_and_no_gradient_to_indices(graph):
    i = sg.var("i", shape=(2, 2), dtype="int64")
    x = sg.var("x", shape=(2, 2, 3))
    y = sg.one_hot(i, 3)
    assert y.dtype == np.float64 and y.shape == (2, 2, 3)
    idx = np.array([[0, 2], [-1, 1]])
    np.testing.assert_array_equal(sg.evaluate(y, {i: idx}), np.eye(3)[idx])
    g = sg.grad(sg.sum(x * y), x)
    np.testing.assert_array_equal(sg.evaluate(g, {x: np.zeros((2, 2, 3)), i: idx}), np.eye(3)[idx])


def test_gather_jacobian_is_vectorized(graph, rng):
    """jacobian/hessian take the batch rules of gather and add_at, also for index items
    apart (where NumPy moves the index dims first)."""
    from symgraph.jacobians import _batched_jacobian

    x = sg.var("x", shape=(3, 2, 4))
    i = sg.var("i", shape=(2,), dtype="int64")
    y = x[i, :, np.array([3, 0])] ** 2  # apart: y[a, m] = x[i[a], m, cols[a]] ** 2
    index, value = np.array([2, 2]), rng.standard_normal((3, 2, 4))
    assert _batched_jacobian(y, [x]) is not None
    jac = sg.evaluate(sg.jacobian(y, x), {x: value, i: index})
    expected = np.zeros((2, 2, 3, 2, 4))
    for a, (r, c) in enumerate(zip(index, [3, 0])):
        for m in range(2):
            expected[a, m, r, m, c] = 2 * value[r, m, c]
    np.testing.assert_allclose(jac, expected)
    hess = sg.evaluate(sg.hessian(sg.sum(y * y), x), {x: value, i: [1, 1]})  # read twice
    for m in range(2):
        for c in (3, 0):
            assert hess[1, m, c, 1, m, c] == pytest.approx(12 * value[1, m, c] ** 2)
    assert np.count_nonzero(hess) == 4


def test_gather_nan_and_inf_compile_equals_evaluate(graph):
    x = sg.var("x", shape=(4,))
    i = sg.var("i", shape=(3,), dtype="int64")
    y = x[i] * 2.0
    g = sg.grad(sg.sum(y * x[i]), x)
    value, index = np.array([np.nan, np.inf, -0.0, 1.0]), np.array([1, 0, 2])
    got = sg.compile([y, g], [x, i])(value, index)
    expected = sg.evaluate([y, g], {x: value, i: index})
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)
    assert np.isnan(expected[1][0]) and expected[1][1] == np.inf and expected[1][3] == 0.0


# --- convolution --------------------------------------------------------------------------------


@pytest.mark.parametrize("n,c,h,w,o,k,stride,padding", [
    (1, 2, 5, 5, 3, (3, 3), 1, 0), (2, 3, 7, 6, 2, (3, 2), 2, 1),
    (1, 1, 6, 6, 1, (3, 3), 2, 0), (2, 2, 5, 4, 3, (2, 3), (1, 2), (2, 1)),
    (1, 1, 3, 3, 2, (3, 3), 1, 1), (3, 1, 4, 4, 2, (1, 1), 3, 0),
])
def test_conv2d_against_a_direct_loop(graph, rng, n, c, h, w, o, k, stride, padding):
    xv, wv = rng.standard_normal((n, c, h, w)), rng.standard_normal((o, c, *k))
    x, wt = sg.var("x", shape=(n, c, h, w)), sg.var("w", shape=(o, c, *k))
    y = sg.nn.conv2d(x, wt, stride=stride, padding=padding)
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    expected = _loop_conv2d(xv, wv, pair(stride), pair(padding))
    assert y.shape == expected.shape
    np.testing.assert_allclose(sg.evaluate(y, {x: xv, wt: wv}), expected, rtol=1e-12, atol=1e-12)
    feeds = {x: xv, wt: wv}
    assert sg.check_grad(sg.sum(y ** 2), [x, wt], feeds, order=2) < 1e-6


def test_conv2d_matches_a_hand_computed_example(graph):
    x = sg.var("x", shape=(1, 1, 3, 3))
    w = sg.var("w", shape=(1, 1, 2, 2))
    y = sg.nn.conv2d(x, w)
    image = np.arange(9.0).reshape(1, 1, 3, 3)
    kernel = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])  # x[i, j] - x[i+1, j+1]
    assert sg.evaluate(y, {x: image, w: kernel}).tolist() == [[[[-4.0, -4.0], [-4.0, -4.0]]]]
    # d sum(y) / dx: +1 where a window's top-left reads, -1 where its bottom-right reads
    assert sg.evaluate(sg.grad(sg.sum(y), x), {x: image, w: kernel})[0, 0].tolist() == [
        [1.0, 1.0, 0.0], [1.0, 0.0, -1.0], [0.0, -1.0, -1.0]]
    # d sum(y) / dw[a, b]: the sum of the image under that tap over the 4 windows
    assert sg.evaluate(sg.grad(sg.sum(y), w), {x: image, w: kernel})[0, 0].tolist() == [
        [8.0, 12.0], [20.0, 24.0]]


def test_conv2d_third_order_and_hessian(graph, rng):
    x = sg.var("x", shape=(1, 2, 4, 4))
    w = sg.var("w", shape=(2, 2, 2, 2))
    loss = sg.sum(sg.tanh(sg.nn.conv2d(x, w, stride=2, padding=1)))
    feeds = {x: rng.standard_normal((1, 2, 4, 4)), w: 0.5 * rng.standard_normal((2, 2, 2, 2))}
    assert sg.check_grad(loss, [x, w], feeds, order=3) < 1e-5
    hess = sg.hessian(loss, [x, w])  # blocks, through the batch rules of all three conv ops
    values = sg.evaluate([hess[0][1], hess[1][0]], feeds)
    np.testing.assert_allclose(values[0], np.moveaxis(values[1].reshape(16, 32), 0, 1)
                               .reshape(1, 2, 4, 4, 2, 2, 2, 2), rtol=1e-12, atol=1e-14)


def test_conv2d_with_unknown_batch_and_compile(graph, rng):
    x = sg.var("x", shape=(None, 1, 5, 5))
    w = sg.var("w", shape=(2, 1, 3, 3))
    y = sg.nn.relu(sg.nn.conv2d(x, w, padding=1))
    dw = sg.grad(sg.sum(y), w)
    assert y.shape == (None, 2, 5, 5)
    xv, wv = rng.standard_normal((3, 1, 5, 5)), rng.standard_normal((2, 1, 3, 3))
    xv[0, 0, 2, 2], xv[1, 0, 0, 0] = np.nan, np.inf  # propagate as in NumPy, in both
    got = sg.compile([y, dw], [x, w])(xv, wv)
    expected = sg.evaluate([y, dw], {x: xv, w: wv})
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)
    assert np.isnan(expected[1]).any()
    clean = np.nan_to_num(xv, nan=0.0, posinf=0.0)
    np.testing.assert_allclose(sg.evaluate(y, {x: clean, w: wv}),
                               np.maximum(_loop_conv2d(clean, wv, padding=(1, 1)), 0))


def test_conv2d_refuses_bad_arguments(graph):
    x = sg.var("x", shape=(1, 2, 5, 5))
    with pytest.raises(sg.ShapeError, match="disagree on the channels"):
        sg.nn.conv2d(x, sg.var("w3", shape=(4, 3, 3, 3)))
    w = sg.var("w", shape=(4, 2, 3, 3))
    with pytest.raises(sg.ShapeError, match="must be 4-D"):
        sg.nn.conv2d(sg.var("v", shape=(2, 5, 5)), w)
    with pytest.raises(sg.SymgraphError, match="stride must be an int >= 1"):
        sg.nn.conv2d(x, w, stride=0)
    with pytest.raises(sg.SymgraphError, match="padding must be an int >= 0 or a pair"):
        sg.nn.conv2d(x, w, padding=(1, 2, 3))
    with pytest.raises(sg.ShapeError, match="larger than the padded image"):
        sg.nn.conv2d(sg.var("s", shape=(1, 2, 2, 2)), w)
    with pytest.raises(sg.ShapeError, match="must be static"):
        sg.nn.conv2d(sg.var("u", shape=(1, 2, None, 5)), w)


# --- pooling ------------------------------------------------------------------------------------


@pytest.mark.parametrize("k,stride", [(2, None), ((2, 3), 1), (3, 2), ((1, 2), (2, 1))])
def test_pools_against_loops(graph, rng, k, stride):
    value = rng.standard_normal((2, 3, 5, 7))
    x = sg.var("x", shape=(2, 3, 5, 7))
    kk = (k, k) if isinstance(k, int) else k
    ss = kk if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    windows = _loop_windows(value, kk, ss)
    for pool, reduce in [(sg.nn.max_pool2d, np.max), (sg.nn.avg_pool2d, np.mean)]:
        y = pool(x, k, stride)
        np.testing.assert_allclose(sg.evaluate(y, {x: value}), reduce(windows, axis=(-2, -1)),
                                   rtol=1e-14, atol=1e-15)
        assert sg.check_grad(sg.sum(sg.tanh(y)), x, {x: value}, order=2) < 1e-6


def test_max_pool2d_gradient_goes_to_the_first_maximum(graph):
    x = sg.var("x", shape=(1, 3, 3))
    y = sg.nn.max_pool2d(x, 2, stride=1)  # overlapping windows
    image = np.array([[[1.0, 3.0, 3.0], [3.0, 0.0, 2.0], [3.0, 3.0, 1.0]]])
    assert sg.evaluate(y, {x: image}).tolist() == [[[3.0, 3.0], [3.0, 3.0]]]
    # each window's first maximum (row-major): (0, 1) twice (it beats (0, 2) and (1, 0)),
    # (1, 0) (before (2, 0) and (2, 1)), and (2, 1), the only 3 of the last window
    assert sg.evaluate(sg.grad(sg.sum(y), x), {x: image}).tolist() == [
        [[0.0, 2.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]


def test_pool_errors(graph):
    with pytest.raises(sg.ShapeError, match="larger than the image"):
        sg.nn.max_pool2d(sg.var("x", shape=(1, 2, 3)), 3)
    with pytest.raises(sg.SymgraphError, match="kernel size must be an int >= 1"):
        sg.nn.avg_pool2d(sg.var("y", shape=(4, 4)), 0)
    with pytest.raises(sg.ShapeError, match="static height and width"):
        sg.nn.max_pool2d(sg.var("z", shape=(2, None)), 2)


def test_nn_namespace():
    names = {"conv2d", "max_pool2d", "avg_pool2d", "relu", "sigmoid", "softplus", "softmax",
             "log_softmax", "logsumexp"}
    activations = {"gelu", "silu", "elu", "leaky_relu", "log_sigmoid",  # sg.nn's own
                   "selu", "swish", "relu6", "hard_tanh", "hard_sigmoid", "hard_silu",
                   "hard_swish", "celu", "mish", "soft_sign", "squareplus", "glu", "log1mexp",
                   "standardize", "logmeanexp", "one_hot"}
    assert set(sg.nn.__all__) == names | activations
    assert all(getattr(sg.nn, n) is getattr(sg, n) for n in names - {"conv2d", "max_pool2d",
                                                                       "avg_pool2d"})
    # (sg.one_hot is NumPy-style indexing, sg.nn.one_hot JAX's: out of range is zeros)
    assert not any(hasattr(sg, n) for n in activations - {"one_hot"})
    assert sg.nn.one_hot is not sg.one_hot


def test_dtypes_follow_the_inputs(graph, rng):
    x = sg.var("x", shape=(2, 1, 4, 4), dtype="float32")
    w = sg.var("w", shape=(3, 1, 2, 2), dtype="float32")
    y = sg.nn.avg_pool2d(sg.nn.conv2d(x, w), k=3)
    grads = sg.grad(sg.sum(y * y), [x, w])
    values = sg.evaluate([y, *grads], {x: rng.standard_normal((2, 1, 4, 4)),
                                       w: rng.standard_normal((3, 1, 2, 2))})
    assert y.dtype == np.float32 and all(v.dtype == np.float32 for v in values)
    counts = sg.var("counts", shape=(2, 4), dtype="int64")
    mean = sg.nn.avg_pool2d(counts, 2)  # the mean of integers is float64, as in NumPy
    assert mean.dtype == np.float64 and sg.nn.max_pool2d(counts, k=2).dtype == np.int64
    assert sg.evaluate(mean, {counts: np.arange(8).reshape(2, 4)}).tolist() == [[2.5, 4.5]]
    table = sg.var("table", shape=(3,), dtype="int32")
    assert table[np.array([2, 0])].dtype == np.int32


MASK_CASES = [np.array([True, False, True]), [False, True, True],
              (slice(None), np.array([True, False, False, True])),
              np.array([[True, False, True, False], [False, False, True, True],
                        [True, True, True, True]]),
              (Ellipsis, np.array([False, True, True, True])),
              (np.array([True, False, True]), np.array([0, 3])),
              (None, np.array([True, True, False]), 1)]


@pytest.mark.parametrize("index", MASK_CASES, ids=range(len(MASK_CASES)))
def test_a_constant_boolean_mask_indexes_as_numpy(graph, index):
    X = np.arange(12.0).reshape(3, 4) - 5.0
    x = sg.var("x", shape=(3, 4))
    y = x[index]
    want = X[index]
    got = sg.evaluate(y, {x: X})
    assert y.shape == want.shape
    np.testing.assert_array_equal(got, want)
    # the gradient scatters back to the True positions, and checks by finite differences
    g = sg.evaluate(sg.grad(sg.sum(y * y), x), {x: X})
    expected = np.zeros_like(X)
    np.add.at(expected, index if isinstance(index, tuple) else (index,), 2 * want)
    np.testing.assert_array_equal(g, expected)
    assert sg.check_grad(sg.sum(sg.sin(y)), x, {x: X}, order=2) < 1e-6
