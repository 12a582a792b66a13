"""LaTeX of a node (``sg.latex``), for notebooks and papers.

Owns: how names become math (``w_{0}``, Greek letters, ``\\mathrm{}``), the infix path
(``+``, ``\\cdot``, relations) with LaTeX's precedence, and the filling of each op's
``Op.latex`` template: ``{0}``, ``{1}``... are the arguments' LaTeX, ``{args}`` all of
them comma-separated, ``{attrs}`` the shown attributes (``, axis=0``, escaped); the spec
``{0:base}`` writes an argument as the base of a superscript and ``{0:atom}`` as the base
of a subscript. ``Op.latex_atom`` says the template delimits itself (a fraction, a root,
``|x|``, a subscript). No op is known here by name: a new op brings its own template, or
gets ``\\operatorname{name}``.

Imports: ``symgraph.graph``, ``symgraph.ops.core`` (op records, constant labels,
``tex_escape``, ``operatorname``) and ``symgraph.display.formula`` (precedence, attribute
text, the bounded bottom-up walk).
"""

from __future__ import annotations

import re

from symgraph.display.formula import (
    ATOM,
    PREFIX,
    attr_text,
    bottom_up,
    const_text,
    prec,
    printable,
    unit_operand,
)
from symgraph.graph import Node, SymgraphError
from symgraph.ops.core import CONST, VAR, Op, operatorname, tex_escape

_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota",
          "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "phi", "chi",
          "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Phi",
          "Psi", "Omega"}
# Infix symbols (Op.infix) as LaTeX writes them; others are written as they are.
_RELATIONS = {"<": "<", "<=": r"\le", ">": ">", ">=": r"\ge", "!=": r"\ne", "*": r"\cdot",
              "@": r"\,", "+": "+", "-": "-"}
_NAME = re.compile(r"([A-Za-z]+)_?(\d+)")
_NUMBER = re.compile(r"-?[\d.]+(e[+-]?\d+)?")
_SIMPLE = re.compile(r"\\?[A-Za-z]+|\d+")
_NEG = 15  # a leading minus binds looser than a product in math: a \cdot \left(-b\right)


def _escape(text: str) -> str:
    """A user's name or attribute text for LaTeX: unprintable characters as Python escapes,
    then TeX's special characters escaped, so no name can run a command (``\\input{x}``).

    >>> print(_escape("\\\\input{x}"), _escape("a^b~c_1"))
    \\backslash{}input\\{x\\} a\\hat{}b\\tilde{}c\\_1
    """
    return tex_escape(printable(text))


def _latex_name(name: str) -> str:
    match = _NAME.fullmatch(name)
    base, sub = (match.group(1), match.group(2)) if match else (name, None)
    if base in _GREEK:
        base = "\\" + base
    elif len(base) > 1 or not base.isalpha():
        base = r"\mathrm{" + _escape(base) + "}"
    return base if sub is None else f"{base}_{{{sub}}}"


def _latex_wrap(text: str, inner: int, needed: int, strict: bool = False) -> str:
    if inner < needed or (strict and inner == needed):
        return rf"\left({text}\right)"
    return text


def _latex_prec(n: Node) -> int:
    """Precedence as LaTeX shows it: templates marked ``latex_atom`` delimit themselves."""
    if n.opdef.latex_atom:
        return ATOM
    p = prec(n)
    return _NEG if p == PREFIX else p  # a negation or a negative constant


def _template(n: Node) -> str | None:
    """The op's LaTeX template for ``n`` (None: an infix op without one)."""
    op = n.opdef
    template = op.latex(n) if callable(op.latex) else op.latex
    if template is None and not op.infix:
        template = operatorname(printable(op.label or op.name))
    return template


def _group(text: str) -> str:
    """``text`` ready for a sub- or superscript: braces unless it is one symbol."""
    return text if _SIMPLE.fullmatch(text) else "{" + text + "}"


class _Arg:
    """An argument's LaTeX inside a template: ``{0}`` as it is, ``{0:base}`` as the base of
    a superscript, ``{0:atom}`` as the base of a subscript."""

    __slots__ = ("node", "op", "text")

    def __init__(self, node: Node, text: str, op: Op):
        self.node, self.text, self.op = node, text, op

    def __str__(self) -> str:
        return self.text

    def __format__(self, spec: str) -> str:
        if not spec:
            return self.text
        inner = _latex_prec(self.node)
        if spec == "atom":
            return _group(_latex_wrap(self.text, inner, ATOM))
        if spec == "base":
            # Parenthesised unless atomic: an infix op (a fraction, a power) or a template
            # that is itself a superscript (x^{2}, x^{\top}) would read as one power.
            template = _template(self.node) or ""
            if inner < ATOM or self.node.opdef.infix or ":base}" in template:
                return _group(rf"\left({self.text}\right)")
            return _group(self.text)
        raise SymgraphError(
            f"the LaTeX template of op '{self.op.name}' uses the format spec {spec!r}; "
            "the specs are 'base' (the base of a superscript) and 'atom' (of a subscript)"
        )


def _fill(n: Node, template: str, args: list[str]) -> str:
    op = n.opdef
    try:
        return template.format(*(_Arg(i, a, op) for i, a in zip(n.inputs, args)),
                               args=", ".join(args), attrs=_escape(attr_text(n)))
    except (IndexError, KeyError, ValueError) as exc:
        raise SymgraphError(
            f"the LaTeX template {template!r} of op '{op.name}' does not fit its node "
            f"#{n.id} with {len(args)} inputs ({type(exc).__name__}: {exc}); use {{0}}, "
            "{1}..., {args} and {attrs}, and double literal braces ({{ and }})"
        ) from None


def _latex_node(n: Node, args: list[str]) -> str:
    op = n.opdef
    if op is VAR:
        return _latex_name(n.name)
    if op is CONST:
        if n.name:
            return _latex_name(n.name)
        label = const_text(n)
        return label if _NUMBER.fullmatch(label) else r"\mathrm{" + _escape(label) + "}"
    kept = unit_operand(n)
    if kept is not None:  # v times a broadcast one (a grad seed) is v
        return args[kept]
    template = _template(n)
    if template is not None:
        return _fill(n, template, args)
    if len(args) == 1:  # a prefix op (negation)
        return op.infix + _latex_wrap(args[0], _latex_prec(n.inputs[0]), _NEG, strict=True)
    a, b = n.inputs
    left_prec, right_prec = _latex_prec(a), _latex_prec(b)
    # A minus sign may open a product or sum (-a b, -a + b) but not follow an operator.
    left = _latex_wrap(args[0], ATOM if left_prec == _NEG else left_prec, op.prec)
    if right_prec == _NEG:
        right = rf"\left({args[1]}\right)"
    else:
        right = _latex_wrap(args[1], right_prec, op.prec, strict=op.infix in "-@")
    return f"{left} {_RELATIONS.get(op.infix, op.infix)} {right}"


def latex(node: Node, max_depth: int = 40) -> str:
    """LaTeX math for ``node`` (without ``$``), for notebooks and papers.

    Parts deeper than ``max_depth`` are shown as ``\\ldots``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     w, x = sg.var("w", shape=(3,)), sg.var("x", shape=(2,))
    ...     f = sg.sigmoid(w[0] * x[0] + w[2]) / x[1] ** 2
    >>> print(sg.latex(f))
    \\frac{\\sigma\\left(w_{0} \\cdot x_{0} + w_{2}\\right)}{{x_{1}}^{2}}
    """
    if not isinstance(node, Node):
        raise SymgraphError(f"sg.latex needs one symgraph node, got {type(node).__name__}")
    return bottom_up(node, max_depth, _latex_node, r"\ldots")
