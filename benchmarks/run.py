"""Run the reference workloads on symgraph and its installed peers; print ONE table and
write it to benchmarks/RESULTS.md.

    python benchmarks/run.py [--quick] [--only W2] [--threads N] [--out PATH]

Every figure is measured in this one process run (risky peer cases in child processes
with a time limit). The process re-executes itself once with GLIBC_TUNABLES set (see
PEERS.md: glibc's default allocator makes NumPy temporaries page-fault), so NumPy-based
systems and the NumPy reference are measured under the same allocator setting.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
TUNABLES = "glibc.malloc.trim_threshold=1073741824:glibc.malloc.mmap_threshold=33554432"
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

WORKLOADS = {"W1": "w1_neuron", "W2": "w2_chain", "W3": "w3_mlp", "W4": "w4_hessian",
             "W5": "w5_dag"}
WORKLOADS["W3-dask"] = "w3_dask"  # the dask backend's rows (issue 17)
WORKLOADS["jax"] = "w_jax"  # the jax backend's rows beside hand-written JAX (issue 17)
WORKLOADS["W6"] = "w6_loops"  # loops: RK4 pendulum beside lax.scan and PyTensor scan (issue 15)
PEER_MODULES = [("JAX", "jax"), ("jaxlib", "jaxlib"), ("PyTensor", "pytensor"),
                ("Numba", "numba"), ("CasADi", "casadi"), ("SymPy", "sympy"),
                ("SymEngine", "symengine"), ("autograd", "autograd"), ("PyTorch", "torch"),
                ("NumPy", "numpy")]


def _setup_environment(threads: int | None) -> None:
    """Re-exec with the allocator setting (and, when asked, thread counts) fixed before any
    import. ``threads=None`` keeps the machine's default BLAS/XLA thread counts: the
    guide measures there, and a thread-count variable the caller exported is dropped."""
    want = {"GLIBC_TUNABLES": TUNABLES, "PYTHONWARNINGS": "ignore"}
    if threads is not None:
        want.update({"OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
                     "MKL_NUM_THREADS": str(threads)})
        if threads == 1:
            want["XLA_FLAGS"] = ("--xla_cpu_multi_thread_eigen=false "
                                 "intra_op_parallelism_threads=1")
    drop = [k for k in THREAD_VARIABLES if threads is None and k in os.environ]
    if drop or any(os.environ.get(k) != v for k, v in want.items()):
        for k in drop:
            del os.environ[k]
        os.environ.update(want)
        os.execv(sys.executable, [sys.executable, *sys.argv])


def versions() -> list[str]:
    """'name version' for symgraph and every peer, or 'name not installed'."""
    from importlib import metadata

    out = []
    dists = {"JAX": "jax", "jaxlib": "jaxlib", "PyTensor": "pytensor", "Numba": "numba",
             "CasADi": "casadi", "SymPy": "sympy", "SymEngine": "symengine",
             "autograd": "autograd", "PyTorch": "torch", "NumPy": "numpy"}
    import symgraph

    out.append(f"symgraph {symgraph.__version__}")
    for name, dist in dists.items():
        try:
            out.append(f"{name} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name} not installed")
    return out


def table(rows: list) -> str:
    """The markdown table of all rows."""
    from benchmarks.common import fmt_value

    lines = ["| case | system | measure | value | ratio | check | target | target met? |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio = f"{r.ratio:.2f}x {r.ref}" if r.ratio is not None else ""
        met = "" if r.met is None else ("yes" if r.met else "**NO**")
        r.status = r.status or "?"
        status = r.status if r.status == "ok" else f"**{r.status}**" if "WRONG" in r.status \
            else r.status
        lines.append(f"| {r.case} | {r.system} | {r.measure} | {fmt_value(r.value, r.unit)} | "
                     f"{ratio} | {status} | {r.target} | {met} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse options, run the chosen workloads, print the table, write RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="skip the slowest peer cases (D = 1e4, N = 1e5, high orders)")
    parser.add_argument("--only", action="append", choices=sorted(WORKLOADS),
                        help="run only this workload (repeatable)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS/XLA threads (default: the machine's own default)")
    parser.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    args = parser.parse_args(argv)
    _setup_environment(args.threads)

    import importlib

    from benchmarks.common import Row, describe_error

    start = time.time()
    rows: list[Row] = []
    for key in args.only or sorted(WORKLOADS):
        t0 = time.time()
        module = importlib.import_module(f"benchmarks.{WORKLOADS[key]}")
        try:
            rows += module.run(quick=args.quick)
        except Exception as exc:  # noqa: BLE001 - a broken workload is a row, not a crash
            rows.append(Row(key, key, "(runner)", "run", status=describe_error(exc)))
        print(f"[{key} done in {time.time() - t0:.0f} s]", file=sys.stderr, flush=True)
    text = table(rows)
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    header = [
        "# symgraph benchmark results",
        "",
        f"Run on {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')} "
        f"({'quick' if args.quick else 'full'} run, {time.time() - start:.0f} s), "
        f"{platform.machine()} with {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average at the end {load[0]:.1f}, "
        f"{args.threads or f'default ({os.cpu_count()})'} BLAS/XLA thread(s), "
        f"GLIBC_TUNABLES={os.environ.get('GLIBC_TUNABLES', '')}.",
        "",
        "Versions: " + ", ".join(versions()) + ".",
        "",
        "Medians of warm repeated calls, one process run; ratios against the reference "
        "named in the ratio column, measured in the same run. How to read it: "
        "benchmarks/README.md.",
        "",
    ]
    summary = [r for r in rows if r.met is not None]
    footer = ["", f"Targets met: {sum(r.met for r in summary)} of {len(summary)}.", ""]
    report = "\n".join(header) + text + "\n" + "\n".join(footer)
    print(report)
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
