"""Hostile input and resource limits (issue 12): values that do not fit an input's dtype,
loaded files that ask for unbounded work or hold what the constructors refuse, and names
that would break the SVG, DOT, terminal or LaTeX text they are shown in.

Each test failed before its fix; the error cases raise ``sg.SymgraphError`` naming the
input or node and saying what to do.
"""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import symgraph as sg
from symgraph.formula import printable

# --- feeds that do not fit the input's dtype ---------------------------------------------------

NOT_FITTING = [  # (dtype of the input, value fed, the number the message must show)
    ("int64", np.uint64(2**64 - 1), "18446744073709551615"),
    ("int64", np.array([1, 2**63], dtype=np.uint64), "9223372036854775808"),
    ("int64", 2**64, "18446744073709551616"),
    ("int64", [1, 2**70], "1180591620717411303424"),
    ("int64", -(2**63) - 1, "-9223372036854775809"),
    ("int32", 2**31, "2147483648"),
    ("int8", np.array([-129, 0]), "-129"),
    ("uint8", -1, "-1"),
    ("uint8", np.array([3, 256], dtype=np.int16), "256"),
    ("uint64", np.int64(-5), "-5"),
    ("float32", 1e39, "1e+39"),
    ("float16", np.array([1.0, 70000.0]), "70000"),
    ("float16", 70000, "70000"),
]


@pytest.mark.parametrize("dtype,value,shown", NOT_FITTING,
                         ids=[f"{d}-{s}" for d, _, s in NOT_FITTING])
def test_a_value_that_does_not_fit_the_input_dtype_is_refused(dtype, value, shown):
    """It wrapped round silently: np.uint64(2**64 - 1) became -1 for an int64 input."""
    shape = np.shape(value)
    with sg.Graph():
        i = sg.var("counts", shape=shape, dtype=dtype)
        y = i * 1
        f = sg.compile(y, [i])
        for run in (lambda: sg.evaluate(y, {i: value}), lambda: f(value)):
            with pytest.raises(sg.SymgraphError, match="'counts'") as info:
                run()
            assert shown in str(info.value) and "does not fit" in str(info.value)


FITTING = [  # values of another dtype that fit: converted exactly, as before or newly
    ("int64", np.uint64(2**63 - 1)),
    ("int64", np.array([0, 7], dtype=np.uint64)),
    ("uint8", [0, 255]),  # Python ints (int64) into uint8 were refused by kind alone
    ("uint64", 2**64 - 1),
    ("int8", np.array([-128, 127], dtype=np.int64)),
    ("float32", 2.0**127),
    ("float32", [np.inf, -np.inf, np.nan]),  # not finite already: kept
    ("float16", np.array([1, 65504])),
    ("float64", np.uint64(2**64 - 1)),
]


@pytest.mark.parametrize("dtype,value", FITTING, ids=[f"{d}-{i}" for i, (d, _) in
                                                       enumerate(FITTING)])
def test_a_value_that_fits_is_converted_exactly(dtype, value):
    with sg.Graph():
        i = sg.var("i", shape=np.shape(value), dtype=dtype)
        got = sg.evaluate(i * 1, {i: value})
        f = sg.compile(i * 1, [i])
        want = np.asarray(value).astype(dtype)
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(f(value), want)
        assert np.array_equal(want.astype(np.float64), np.asarray(value, dtype=np.float64),
                              equal_nan=True)  # nothing wrapped or overflowed


def test_kinds_that_round_are_still_refused():
    with sg.Graph():
        i = sg.var("i", dtype="int64")
        with pytest.raises(sg.SymgraphError, match="'i'.*float64.*int64"):
            sg.evaluate(i * 1, {i: 1.0})
        with pytest.raises(sg.SymgraphError, match="'i'.*float64.*int64"):
            sg.evaluate(i * 1, {i: [2**63, -1][0] * 1.0})
        b = sg.var("b", dtype="bool")
        with pytest.raises(sg.SymgraphError, match="'b'"):
            sg.evaluate(b * 1, {b: 2})


# --- names that would break the text they are shown in --------------------------------------

NASTY = ["x\udc80", "a\x01b", "\x1b[2J", "nul\x00", "t\ufffe", "l\u2028s", "a&<b>\"'", "]]>",
         "back\\slash", "tab\tnew\nline\r", "\\input{x}"]


def _unprintable(text: str) -> list[str]:
    return [c for c in text if not c.isprintable() and c not in "\n"]


@pytest.mark.parametrize("name", NASTY, ids=[ascii(n) for n in NASTY])
def test_any_name_gives_svg_that_is_xml_and_text_without_control_characters(name):
    """A lone surrogate raised a bare UnicodeEncodeError; a control character made dot
    fail or wrote SVG that is not XML; terminals obeyed escape sequences in pprint."""
    with sg.Graph():
        x = sg.var(name)
        c = sg.const(2.0, name=name + "c")
        with sg.name_scope(name + "s"):
            y = sg.sin(x) * c
        for options in ({}, {"collapse": True}, {"feeds": {x: 0.5}, "grads_of": y}):
            svg = sg.to_svg(y, title=name + "t", **options)
            root = ET.fromstring(svg.encode("utf-8"))  # raises on what XML forbids
            text = " ".join(root.itertext())
            assert printable(name + "t") in text and printable(name + "s") in text
            assert printable(name) in text or options.get("collapse")  # x is in the box
        assert sg.to_dot(y).source.encode("utf-8")
        for view in (str(y), sg.pprint(y), sg.debugprint(y), sg.latex(y)):
            assert not _unprintable(view), ascii(view)


def test_latex_escapes_what_tex_would_obey():
    """``\\`` ``^`` ``~`` passed through: a name could run ``\\input{x}``."""
    with sg.Graph():
        assert sg.latex(sg.var("\\input{x}")) == r"\mathrm{\backslash{}input\{x\}}"
        assert sg.latex(sg.var("a^b~c")) == r"\mathrm{a\hat{}b\tilde{}c}"
        assert sg.latex(sg.var("x\x1b")) == r"\mathrm{x\backslash{}x1b}"
        assert sg.latex(sg.var("alpha_2") + sg.var("w1")) == r"\alpha_{2} + w_{1}"  # unchanged
        for name in NASTY:
            text = sg.latex(sg.sin(sg.var(name)) + sg.const(1.0, name=name))
            commands = set(re.findall(r"\\([A-Za-z]+)", text))
            assert commands <= {"mathrm", "backslash", "hat", "tilde", "sin", "left", "right"}
            unescaped = re.sub(r"\\[A-Za-z]+\{\}|\\[^A-Za-z]", "", text)
            assert "^" not in unescaped and "~" not in unescaped, text


def test_a_title_that_is_not_text_is_refused():
    with sg.Graph():
        x = sg.var("x")
        with pytest.raises(sg.SymgraphError, match="title"):
            sg.to_dot(x, title=3)
