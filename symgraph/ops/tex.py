"""How ops declare their LaTeX: templates of named functions and TeX-safe text.

Owns: :func:`latex_function`, :func:`operatorname` (the templates an op's ``latex`` field
holds) and :func:`tex_escape` (text that TeX shows as itself). ``symgraph.ops.core``
re-exports them beside the other tools an op declaration uses.

Imports: the standard library only.
"""

from __future__ import annotations

import re


def tex_escape(text: str) -> str:
    """``text`` with the characters TeX treats specially escaped for math mode, so that a
    name or an attribute's text prints as itself and can run no command (``\\input``).

    >>> print(tex_escape("\\\\input{x}"), tex_escape("a^b~c_1"))
    \\backslash{}input\\{x\\} a\\hat{}b\\tilde{}c\\_1
    """
    return _TEX_SPECIAL.sub(lambda m: _TEX_ESCAPES.get(m[0]) or "\\" + m[0], text)


_TEX_SPECIAL = re.compile(r"[_#$%&{}\\^~]")
_TEX_ESCAPES = {"\\": r"\backslash{}", "^": r"\hat{}", "~": r"\tilde{}"}


def latex_function(command: str) -> str:
    """The LaTeX template of an op written as a function call, ``\\sin\\left(x\\right)``."""
    return command + r"\left({args}{attrs}\right)"


def operatorname(label: str) -> str:
    """The LaTeX template of an op written as a named function: ``\\operatorname{sum}(x)``.

    >>> print(operatorname("sum").format(args="x", attrs=", axis=0"))
    \\operatorname{sum}\\left(x, axis=0\\right)
    """
    text = tex_escape(label).replace("{", "{{").replace("}", "}}")
    return latex_function(r"\operatorname{{" + text + "}}")
