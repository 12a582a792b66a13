"""The ``symgraph`` command (a minimal version; the rendering issue extends it)."""

from __future__ import annotations

import argparse
import sys

import numpy as np


def _demo(out: str) -> int:
    import symgraph as sg

    with sg.Graph():
        w = sg.var("w", shape=(3,))
        x = sg.var("x", shape=(2,))
        f = sg.sigmoid(w[0] * x[0] + w[1] * x[1] + w[2])
        dw, dx = sg.grad(f, [w, x])
        values = sg.evaluate([f, dw, dx], {w: [2.0, -3.0, -3.0], x: [-1.0, -2.0]})
    print("CS231n neuron  f =", f)
    for label, value in zip(("f", "df/dw", "df/dx"), values):
        print(f"  {label:6s}= {np.array2string(value, precision=4)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="symgraph")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="print a small demonstration")
    demo.add_argument("--out", default="demo-output")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return _demo(args.out)
    return 2


if __name__ == "__main__":
    sys.exit(main())
