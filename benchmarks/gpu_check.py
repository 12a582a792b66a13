"""Run the ``jax`` backend's W3 and W4b rows on whatever device JAX has (a GPU where one
is installed: ``pip install "symgraph[jax]" "jax[cuda12]"``), and print the device.

    python -m benchmarks.gpu_check            # from the repository's root

CI has no GPU; this is the check to run where one is. Each symgraph row is timed beside
the hand-written JAX of the same computation (``benchmarks/w_jax.py``) and its values are
checked against NumPy references; a failure shows in the ``check`` column.
"""

from __future__ import annotations

import sys


def main() -> int:
    try:
        import jax
    except ImportError:
        print('jax is not installed; run: pip install "symgraph[jax]"')
        return 1
    from benchmarks import w_jax
    from benchmarks.common import fmt_value

    devices = jax.devices()
    print(f"jax {jax.__version__}, backend {jax.default_backend()}: "
          f"{', '.join(str(d) for d in devices)}")
    print("| case | system | measure | value | ratio | check | target | met? |")
    print("|---|---|---|---|---|---|---|---|")
    rows = w_jax.run()
    for r in rows:
        ratio = f"{r.ratio:.2f}x {r.ref}" if r.ratio is not None else ""
        met = "" if r.met is None else "yes" if r.met else "**NO**"
        print(f"| {r.case} | {r.system} | {r.measure} | {fmt_value(r.value, r.unit)} | {ratio} "
              f"| {r.status} | {r.target} | {met} |")
    return 0 if all(r.status == "ok" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
