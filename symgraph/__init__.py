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

from symgraph.autodiff import grad, hessian, hvp, jacobian, jvp, vjp
from symgraph.batching import vmap
from symgraph.codegen import CompiledFunction, compile
from symgraph.display import debugprint, formula, latex, pprint, stats, to_dot, to_svg
from symgraph.engine import evaluate
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
    zeros_like,
)
from symgraph.ops.conv import *  # noqa: F401,F403 - issue 14, made explicit when done
from symgraph.ops.contract import *  # noqa: F401,F403 - issue 14, made explicit when done
from symgraph.ops.explog import *  # noqa: F401,F403 - issue 14, made explicit when done
from symgraph.ops.factor import *  # noqa: F401,F403 - issue 14, made explicit when done
from symgraph.ops.gather import *  # noqa: F401,F403 - issue 14, made explicit when done
from symgraph.ops.layout import *  # noqa: F401,F403 - issue 14, made explicit when done
from symgraph.ops.rounding import *  # noqa: F401,F403 - issue 14, made explicit when done
from symgraph.ops.sorting import *  # noqa: F401,F403 - issue 14, made explicit when done
from symgraph.ops.spectral import *  # noqa: F401,F403 - issue 14, made explicit when done
from symgraph.ops.statistics import *  # noqa: F401,F403 - issue 14, made explicit when done
from symgraph.ops.trig import *  # noqa: F401,F403 - issue 14, made explicit when done
from symgraph import linalg, nn  # noqa: E402 - after the families (sg.linalg is this one)
from symgraph.rewrite import simplify
from symgraph.testing import GradCheck, check_grad

from symgraph import graph as _graph

# Nodes show themselves through the display layer, which sits above the graph.
_graph.DISPLAY.formula = staticmethod(formula)
_graph.DISPLAY.svg = staticmethod(to_svg)

__version__ = "0.1.0"

__all__ = [
    "debugprint", "latex", "load", "pprint", "save", "simplify", "stats", "to_dot", "to_svg",
    "OPS", "Case", "CompiledFunction", "GradCheck", "Graph", "MissingFeedError", "Node", "Op",
    "ShapeError", "SymgraphError", "abs", "add", "ancestors", "broadcast_to", "cast",
    "check_grad", "compile", "concatenate", "const", "cos", "define_op", "divide", "dot",
    "evaluate", "exp", "expand_dims", "expm1", "formula", "get_default_graph", "grad",
    "hessian", "hvp", "jacobian", "jvp", "log", "log1p", "log_softmax", "logsumexp", "matmul",
    "max", "maximum", "mean", "minimum", "multiply", "name_scope", "negative", "power", "relu",
    "reshape", "sigmoid", "sign", "sin", "softmax", "softplus", "sqrt", "square", "stack",
    "stop_gradient", "subtract", "sum", "sum_to", "tan", "tanh", "to_networkx", "transpose",
    "var", "vjp", "vmap", "where", "zeros_like",
]
