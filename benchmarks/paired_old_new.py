"""symgraph against an earlier commit of itself, paired: did a row get slower?

    python benchmarks/paired_old_new.py [--old REV] [--rounds 5] [--out PATH]

Issue 13 asks that no row be slower than before the redesign "beyond noise (paired
ratios)". Two full ``make bench`` runs on a shared machine differ by more than the
changes to be judged, so this runs the symgraph rows only, in fresh processes,
alternating the two trees (old, new, new, old, ...): a load that drifts hits both alike.
The old tree is a ``git worktree`` of ``REV`` (default: f8bbb83, the last commit before
the redesign) made in a temporary folder and removed afterwards; each process imports
``symgraph`` from its tree and the workloads (``benchmarks``) from this one, so both run
the same workload code.

The table gives the median of the rounds per tree and new/old; ``--out`` writes it as
markdown (benchmarks/PAIRED.md).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: the benchmarks package beside symgraph

from benchmarks.common import fmt_value  # noqa: E402
MARK = "@@paired@@"

# Each case runs in a fresh process of one tree: (label, code printing a dict of seconds).
# Only public API that both trees have (sg.grad, sg.compile and its options, sg.evaluate).
CASES = r'''
import statistics, time
import numpy as np
import symgraph as sg
from benchmarks.common import timeit

def w1():
    point = (2.0, -3.0, -3.0, -1.0, -2.0)
    def build():
        g = sg.Graph()
        with g:
            v = [sg.var(n) for n in ("w0", "w1", "w2", "x0", "x1")]
            f = sg.sigmoid(v[0] * v[3] + v[1] * v[4] + v[2])
            return v, [f, *sg.grad(f, v)]
    builds, compiles = [], []
    for _ in range(15):
        t0 = time.perf_counter()
        v, outs = build()
        t1 = time.perf_counter()
        fn = sg.compile(outs, v)
        builds.append(t1 - t0)
        compiles.append(time.perf_counter() - t1)
    fast = sg.compile(outs, v, trust_input=True, python_scalars=True)
    return {"W1a build f + grad": statistics.median(builds),
            "W1b compile (first in process)": compiles[0],
            "W1b compile (median of 15)": statistics.median(compiles),
            "W1b call (default)": timeit(lambda: fn(*point)),
            "W1b call (trust_input)": timeit(lambda: fast(*point))}

def w2():
    from benchmarks.w2_chain import symgraph_chain
    c = symgraph_chain(10000, compile_too=True)
    return {"W2a D=1e4 build dz/dw": c["build"], "W2a D=1e4 compile": c["compile"],
            "W2a D=1e4 compiled eval": c["ceval"], "W2a D=1e4 eval (sg.evaluate)": c["eval"]}

def w2small():
    from benchmarks.w2_chain import repeated_grad, sin_chain
    def median_build(k):
        times = []
        for _ in range(35):  # (the first five, warming up, are not counted)
            with sg.Graph():
                w = sg.var("w")
                z = sin_chain(sg.sin, w, 3)
                t0 = time.perf_counter()
                repeated_grad(sg.grad, z, w, k)
                times.append(time.perf_counter() - t0)
        return statistics.median(times[5:])
    return {"W2a D=3 build dz/dw (median of 30)": median_build(1),
            "W2b k=8 build, interned (median of 30)": median_build(8)}

def w3():
    from benchmarks.w3_mlp import data, symgraph_step
    params, X, Y = data()
    args = [*params, X, Y]
    firsts = []
    for _ in range(7):
        t0 = time.perf_counter()
        fn = symgraph_step(args)
        firsts.append(time.perf_counter() - t0)
    return {"W3a build + grad + compile (first)": firsts[0],
            "W3a build + grad + compile (median of 7)": statistics.median(firsts),
            "W3b loss + grads call": timeit(lambda: fn(*args), budget=1.0)}

def w5():
    from benchmarks.w5_dag import symgraph_case
    r = symgraph_case(10000)
    return {"W5 N=1e4 build grad": r["build"], "W5 N=1e4 compile grad": r["compile"],
            "W5 N=1e4 eval grad (call)": r["eval"]}
'''


def _imports(tmp: str, tag: str, tree: pathlib.Path) -> pathlib.Path:
    """A folder to import from: ``symgraph`` of ``tree``, ``benchmarks`` of this tree (the
    same workload code for both)."""
    folder = pathlib.Path(tmp) / tag
    folder.mkdir()
    (folder / "symgraph").symlink_to(tree / "symgraph")
    (folder / "benchmarks").symlink_to(ROOT / "benchmarks")
    return folder


def _run(tree: pathlib.Path, case: str) -> dict[str, float]:
    code = f"{CASES}\nimport json\nprint({MARK!r} + json.dumps({case}()))"
    env = dict(os.environ, PYTHONPATH=str(tree))
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=tempfile.gettempdir(),
                          capture_output=True, text=True, timeout=600)
    for line in done.stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    raise RuntimeError(f"{case} in {tree} failed:\n{done.stderr[-3000:]}")


def paired(old: pathlib.Path, new: pathlib.Path, rounds: int,
           cases: list[str]) -> list[tuple[str, float, float]]:
    """``(label, old median, new median)`` of every measure, the trees alternating."""
    samples: dict[str, dict[str, list[float]]] = {}
    for r in range(rounds):
        trees = [("old", old), ("new", new)]
        for tag, tree in trees if r % 2 == 0 else trees[::-1]:
            for case in cases:
                for label, value in _run(tree, case).items():
                    samples.setdefault(label, {"old": [], "new": []})[tag].append(value)
    return [(label, statistics.median(s["old"]), statistics.median(s["new"]))
            for label, s in samples.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", default="f8bbb83", help="the commit to compare against")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", action="append", choices=["w1", "w2", "w2small", "w3", "w5"])
    parser.add_argument("--out", help="write the table there too (markdown)")
    opts = parser.parse_args()
    cases = opts.only or ["w1", "w2", "w2small", "w3", "w5"]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        checkout = pathlib.Path(tmp) / "checkout"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(checkout),
                        opts.old], check=True, capture_output=True)
        try:
            rows = paired(_imports(tmp, "old", checkout), _imports(tmp, "new", ROOT),
                          opts.rounds, cases)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(checkout)], capture_output=True)
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    lines = [f"# symgraph {head} against {opts.old}, paired\n",
             f"Run on {time.strftime('%Y-%m-%d %H:%M')} ({time.perf_counter() - start:.0f} s), "
             f"{platform.machine()} with {os.cpu_count()} cores, Python "
             f"{platform.python_version()}, load average at the end "
             f"{os.getloadavg()[0]:.1f}. Fresh processes alternating the two trees, "
             f"{opts.rounds} rounds; medians. How to run: benchmarks/README.md.\n",
             "| measure | old | new | new/old |", "|---|---|---|---|"]
    lines += [f"| {label} | {fmt_value(o, 's')} | {fmt_value(n, 's')} | {n / o:.2f} |"
              for label, o, n in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if opts.out:
        pathlib.Path(opts.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
