"""Compare two results tables (benchmarks/RESULTS.md files) row by row: what got slower.

    python benchmarks/compare.py OLD.md NEW.md [--noise 0.10] [--system symgraph]

Rows are matched by (case, system, measure). Where both rows carry a ratio against a
reference measured in their own run (``1.02x hand``), the ratios are compared: each run's
own reference absorbs the machine's speed of the day, so this is the paired comparison.
Otherwise the raw values are compared (one-time costs such as build and compile, and
counts). A row is reported slower when new / old exceeds ``1 + noise``.

>>> old = parse_table("| W1b | symgraph | call | 2 µs | 1.00x hand | ok |  |  |")
>>> new = parse_table("| W1b | symgraph | call | 3 µs | 1.50x hand | ok |  |  |")
>>> [(key, round(change, 2)) for key, change, _ in compare(old, new)]
[(('W1b', 'symgraph', 'call'), 1.5)]
"""

from __future__ import annotations

import argparse
import re
import sys

UNITS = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0, "nodes": 1.0, "": 1.0,
         "GB": 1e9, "MB": 1e6, "kB": 1e3, "B": 1.0, "ns/node": 1e-9}
Key = tuple[str, str, str]


def _number(text: str) -> float | None:
    """``'3.3 ms'`` -> 0.0033; ``'199 nodes'`` -> 199; anything else -> None."""
    match = re.fullmatch(r"([-+0-9.e]+)\s*([^\s|]*)", text.strip())
    if not match or match.group(2) not in UNITS:
        return None
    try:
        return float(match.group(1)) * UNITS[match.group(2)]
    except ValueError:
        return None


def parse_table(text: str) -> dict[Key, tuple[float | None, float | None, str]]:
    """Each data row of a results table as ``(case, system, measure) -> (value, ratio,
    reference)``, ``None`` where the cell holds no number."""
    rows: dict[Key, tuple[float | None, float | None, str]] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 5 or cells[0] in ("case", "") or set(cells[0]) <= {"-"}:
            continue
        ratio = re.match(r"([0-9.]+)x (.*)", cells[4])
        rows[(cells[0], cells[1], cells[2])] = (
            _number(cells[3]), float(ratio.group(1)) if ratio else None,
            ratio.group(2) if ratio else "")
    return rows


def compare(old: dict, new: dict, noise: float = 0.10,
            system: str | None = None) -> list[tuple[Key, float, str]]:
    """Rows of ``new`` slower than in ``old`` by more than ``noise``: ``(key, new/old,
    what was compared)``, slowest first. A reference row (ratio 1.00 against itself) is
    compared by value."""
    slower = []
    for key, (value, ratio, ref) in new.items():
        if key not in old or (system and key[1] != system):
            continue
        old_value, old_ratio, old_ref = old[key]
        if ratio is not None and old_ratio and ref == old_ref and ratio != 1.0:
            change, what = ratio / old_ratio, f"ratio {old_ratio:.2f}x -> {ratio:.2f}x {ref}"
        elif value is not None and old_value:
            change, what = value / old_value, f"value {old_value:.3g} -> {value:.3g}"
        else:
            continue
        if change > 1 + noise:
            slower.append((key, change, what))
    return sorted(slower, key=lambda item: -item[1])


def main(argv: list[str] | None = None) -> int:
    """Print the rows that got slower; exit 0 (a report, not a gate)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--noise", type=float, default=0.10)
    parser.add_argument("--system", default=None, help="only this system's rows")
    args = parser.parse_args(argv)
    with open(args.old, encoding="utf-8") as fh:
        old = parse_table(fh.read())
    with open(args.new, encoding="utf-8") as fh:
        new = parse_table(fh.read())
    common = sum(1 for k in new if k in old and (not args.system or k[1] == args.system))
    slower = compare(old, new, args.noise, args.system)
    print(f"{common} rows in both; {len(slower)} slower by more than {args.noise:.0%}:")
    for key, change, what in slower:
        print(f"  {' | '.join(key)}: {change:.2f}x ({what})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
