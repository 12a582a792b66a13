"""symgraph: a symbol-to-symbol derivative graph compiler.

Build a graph of nodes from Python expressions; ``sg.grad`` appends the derivative to
the same graph as more nodes; ``sg.evaluate`` computes any of them from numeric feeds.

>>> import symgraph as sg
>>> with sg.Graph():
...     w, x = sg.var("w", shape=(3,)), sg.var("x", shape=(2,))
...     f = sg.sigmoid(w[0] * x[0] + w[1] * x[1] + w[2])
...     dw = sg.grad(f, w)
>>> sg.evaluate(dw, {w: [2, -3, -3], x: [-1, -2]}).round(4).tolist()
[-0.1966, -0.3932, 0.1966]
"""

import sys as _sys

from symgraph.autodiff import grad, jvp, vjp
from symgraph.batching import vmap
from symgraph.jacobians import hessian, hvp, jacobian
from symgraph.backends import CompiledFunction, backends, compile
from symgraph.display import (
    Picture, debugprint, formula, graph_bundle, latex, pprint, stats, to_dot, to_svg,
)
from symgraph.backends.numpy import evaluate
from symgraph.graph import (
    Graph,
    MissingFeedError,
    Node,
    ShapeError,
    SymgraphError,
    ancestors,
    get_default_graph,
    name_scope,
)
from symgraph.io import load, save, to_networkx
from symgraph.loops import cond, fori_loop, scan, while_loop
from symgraph.ops import (
    OPS,
    Case,
    Op,
    abs,
    add,
    broadcast_to,
    cast,
    concatenate,
    const,
    cos,
    define_op,
    divide,
    dot,
    exp,
    expand_dims,
    expm1,
    log,
    log1p,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    minimum,
    multiply,
    negative,
    power,
    relu,
    reshape,
    sigmoid,
    sign,
    sin,
    softmax,
    softplus,
    sqrt,
    square,
    stack,
    stop_gradient,
    subtract,
    sum,
    sum_to,
    tan,
    tanh,
    transpose,
    var,
    where,
)
from symgraph.ops.contract import (
    diag, diagonal, einsum, inner, kron, outer, tensordot, trace, tril, triu,
)
from symgraph.ops.conv import avg_pool2d, conv2d, max_pool2d
from symgraph.ops.differences import diff, nanmean, nansum
from symgraph.ops.explog import exp2, log10, log2, logaddexp
from symgraph.ops.gather import one_hot, take, take_along_axis
from symgraph.ops.layout import (
    flip, hstack, moveaxis, pad, ravel, repeat, roll, split, squeeze, swapaxes, tile, vstack,
)
from symgraph.ops.logical import (
    all, any, logical_and, logical_not, logical_or, logical_xor,
)
from symgraph.ops.elementwise import (
    equal, greater, greater_equal, less, less_equal, not_equal,
)
from symgraph.ops.moremath import (
    cbrt, copysign, deg2rad, degrees, float_power, fmax, fmin, fmod, heaviside, logaddexp2,
    rad2deg, radians, reciprocal, remainder, rint, sinc, trunc,
)
from symgraph.ops.quantiles import (
    average, corrcoef, count_nonzero, cov, median, nanmedian, percentile, ptp, quantile,
)
from symgraph.ops.numeric import cross, interp, searchsorted, select, trapezoid
from symgraph.ops.creation import (
    arange, array, asarray, empty, empty_like, eye, full, full_like, identity, ones, ones_like,
    tri, zeros, zeros_like,
)
from symgraph.ops.spacing import geomspace, linspace, logspace, meshgrid
from symgraph.ops.arrangement import (
    atleast_1d, atleast_2d, atleast_3d, broadcast_arrays, column_stack, dsplit, dstack, fliplr,
    flipud, hsplit, rollaxis, rot90, vsplit,
)
from symgraph.ops.editing import append, delete, diagflat, ediff1d, insert
from symgraph.ops.numbers import (
    allclose, array_equal, conj, conjugate, digitize, divmod, gcd, imag, isclose, lcm, ldexp,
    real, vdot,
)
from symgraph.ops.polynomials import polyval, vander
from symgraph.ops.counting import (
    argwhere, bincount, flatnonzero, histogram, nonzero, unique,
)
from symgraph.ops.aliases import (
    absolute, acos, acosh, amax, amin, around, asin, asinh, atan, atan2, atanh, concat,
    cumulative_prod, cumulative_sum, fabs, isinf, isneginf, isposinf, matrix_transpose, matvec,
    permute_dims, positive, pow, signbit, true_divide, vecdot, vecmat,
)
from symgraph.ops.nanreduce import (
    nanargmax, nanargmin, nancumprod, nancumsum, nanmax, nanmin, nanpercentile, nanprod,
    nanquantile, nanstd, nanvar,
)
from symgraph.ops.rounding import (
    ceil, clip, floor, floor_divide, isfinite, isnan, mod, nan_to_num, round,
)
from symgraph.ops.sorting import argsort, cumprod, cumsum, sort
from symgraph.ops.special import erf
from symgraph.ops.statistics import argmax, argmin, min, prod, std, variance
from symgraph.ops.trig import (
    arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, cosh, hypot, sinh,
)
from symgraph import linalg, nn
from symgraph.rewrite import simplify
from symgraph.testing import GradCheck, check_grad

from symgraph import graph as _graph

# Nodes show themselves through the display layer, which sits above the graph.
_graph.DISPLAY.formula = staticmethod(formula)
_graph.DISPLAY.svg = staticmethod(to_svg)
_graph.DISPLAY.graph_bundle = staticmethod(graph_bundle)

__version__ = "0.1.0"

__all__ = [
    "Case", "CompiledFunction", "GradCheck", "Graph", "MissingFeedError", "Node", "Op", "OPS",
    "Picture", "ShapeError", "SymgraphError", "abs", "add", "all", "ancestors", "any", "arccos",
    "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "argmax", "argmin", "argsort",
    "avg_pool2d", "backends", "broadcast_to", "cast", "ceil", "check_grad", "clip", "compile",
    "concatenate", "cond", "const", "conv2d", "cos", "cosh", "cumprod", "cumsum", "debugprint",
    "define_op", "diag", "diagonal", "diff", "divide", "dot", "einsum", "erf", "evaluate", "exp",
    "exp2", "expand_dims", "expm1", "flip", "floor", "floor_divide", "fori_loop", "formula",
    "get_default_graph", "grad", "hessian", "hstack", "hvp", "hypot", "inner", "isfinite", "isnan",
    "jacobian", "jvp", "kron", "latex", "linalg", "load", "log", "log10", "log1p", "log2",
    "log_softmax", "logaddexp", "logical_and", "logical_not", "logical_or", "logical_xor",
    "logsumexp", "matmul", "max", "max_pool2d", "maximum", "mean", "min", "minimum", "mod",
    "moveaxis", "multiply", "name_scope", "nan_to_num", "nancumprod", "nancumsum", "nanmax", "nanmean", "nanmin",
    "nanprod", "nanstd", "nansum", "nanvar", "negative", "nn",
    "one_hot", "outer", "pad", "power", "pprint", "prod", "ravel", "relu", "repeat", "reshape",
    "roll", "round", "save", "scan", "sigmoid", "sign", "simplify", "sin", "sinh", "softmax",
    "softplus", "sort", "split", "sqrt", "square", "squeeze", "stack", "stats", "std",
    "stop_gradient", "subtract", "sum", "sum_to", "swapaxes", "take", "take_along_axis", "tan",
    "tanh", "tensordot", "tile", "to_dot", "to_networkx", "to_svg", "trace", "transpose", "tril",
    "triu", "var", "variance", "vjp", "vmap", "vstack", "where", "while_loop", "zeros_like",
    # comparisons as functions, NumPy's elementwise math beyond the basics (ops.moremath)
    "equal", "greater", "greater_equal", "less", "less_equal", "not_equal",
    "cbrt", "copysign", "deg2rad", "degrees", "float_power", "fmax", "fmin", "fmod",
    "heaviside", "logaddexp2", "rad2deg", "radians", "reciprocal", "remainder", "rint", "sinc",
    "trunc",
    # the Array API's and NumPy 2's names (ops.aliases)
    "absolute", "acos", "acosh", "amax", "amin", "around", "asin", "asinh", "atan", "atan2",
    "atanh", "concat", "cumulative_prod", "cumulative_sum", "fabs", "isinf", "isneginf",
    "isposinf", "matrix_transpose", "matvec", "permute_dims", "positive", "pow", "signbit",
    "true_divide", "vecdot", "vecmat",
    # statistics (ops.quantiles)
    "average", "corrcoef", "count_nonzero", "cov", "median", "nanmedian", "percentile", "ptp",
    "quantile",
    # numerical helpers (ops.numeric)
    "cross", "interp", "searchsorted", "select", "trapezoid",
    # NumPy's array creation (ops.creation) and spacing (ops.spacing)
    "arange", "array", "asarray", "empty", "empty_like", "eye", "full", "full_like",
    "geomspace", "identity", "linspace", "logspace", "meshgrid", "ones", "ones_like", "tri",
    "zeros",
    # NumPy's layout helpers (ops.arrangement, ops.editing)
    "append", "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_arrays", "column_stack",
    "delete", "diagflat", "dsplit", "dstack", "ediff1d", "fliplr", "flipud", "hsplit", "insert",
    "rollaxis", "rot90", "vsplit",
    # comparing and taking numbers apart (ops.numbers), polynomials (ops.polynomials)
    "allclose", "array_equal", "conj", "conjugate", "digitize", "divmod", "gcd", "imag",
    "isclose", "lcm", "ldexp", "polyval", "real", "vander", "vdot",
    # NaN-ignoring arg-reductions and quantiles (ops.nanreduce)
    "nanargmax", "nanargmin", "nanpercentile", "nanquantile",
    # lengths that depend on the values: jax.numpy's size= forms, histogram (ops.counting)
    "argwhere", "bincount", "flatnonzero", "histogram", "nonzero", "unique",
]

from symgraph.ops.transaction import guard_public as _guard_public

# Every op constructor users reach builds all or nothing (a failed call leaves the graph as
# it was); the internal callers (derivative rules, rewrites) keep the unguarded functions.
_guard_public(_sys.modules[__name__], linalg, nn)
