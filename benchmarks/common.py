"""What every workload module shares: timing, result rows, optional peers, isolation.

- :func:`timeit`: median seconds per call over repeats, after a warm-up call.
- :func:`paired`: two calls timed in alternation, for a ratio close to 1.
- :class:`Row`: one line of the results table (a value, optionally a ratio against a
  reference measured in the same run, a value check and a target).
- :func:`peer`: import a peer or report it "not installed" (every peer is optional).
- :func:`isolated`: run a risky case (deep recursion, very long compiles) in a child
  process with a time limit, so a RecursionError, a crash or a hang is reported, not fatal.
"""

from __future__ import annotations

import gc
import importlib
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def timeit(fn: Callable[[], Any], budget: float = 0.5, repeat: int = 7) -> float:
    """Median seconds per call of ``fn()``, warm (one untimed call first).

    Calls are batched so that each of the ``repeat`` samples lasts about
    ``budget / repeat`` seconds (short calls need many per sample for a stable clock).

    >>> t = timeit(lambda: sum(range(100)), budget=0.01)
    >>> 0 < t < 1e-3
    True
    """
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    number = max(1, int(budget / repeat / max(first, 1e-7)))
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def paired(fa: Callable[[], Any], fb: Callable[[], Any], budget: float = 2.0,
           rounds: int = 7) -> tuple[float, float]:
    """Median seconds per call of ``fa()`` and of ``fb()``, sampled in alternation.

    For a ratio near 1 on a shared machine: load drifts by several percent within a
    second, so both sides get samples from the same windows.

    >>> ta, tb = paired(lambda: sum(range(10)), lambda: sum(range(10000)), budget=0.05)
    >>> 0 < ta < tb
    True
    """
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        for fn, out in ((fa, samples[0]), (fb, samples[1])):
            out.append(timeit(fn, budget=budget / rounds / 2, repeat=3))
    return statistics.median(samples[0]), statistics.median(samples[1])


def once(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds of one cold call of ``fn()`` and its result (for one-time costs).

    The garbage of earlier cases is collected first: a collection of it that the call's
    own allocations happened to trigger is no cost of the call (W3a's build after W2's
    graphs read 3.5 to 9 ms from run to run without this).

    >>> t, v = once(lambda: 3)
    >>> v, t >= 0
    (3, True)
    """
    gc.collect()
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def best_of(fn: Callable[[], Any], n: int = 3) -> tuple[float, Any]:
    """Median seconds of ``n`` fresh calls of ``fn()`` (builds: each call starts over).

    >>> t, v = best_of(lambda: 4, n=3)
    >>> v
    4
    """
    times, value = [], None
    for _ in range(n):
        t, value = once(fn)
        times.append(t)
    return statistics.median(times), value


@dataclass
class Row:
    """One line of the results table.

    ``value`` is seconds when ``unit == "s"``, else a count or a plain number. ``ratio``
    is ``value / reference`` for a reference of the same run (``ref`` names it).
    ``status`` is "ok", or what went wrong ("not installed", "RecursionError",
    "timeout > 60 s", "WRONG VALUE ...", "error: ...").
    """

    workload: str
    case: str
    system: str
    measure: str
    value: float | None = None
    unit: str = "s"
    ratio: float | None = None
    ref: str = ""
    status: str = "ok"
    target: str = ""
    met: bool | None = None
    extra: dict = field(default_factory=dict)


def fmt_value(value: float | None, unit: str) -> str:
    """Human units for seconds, plain digits for counts.

    >>> fmt_value(0.00123, "s"), fmt_value(4.2e-7, "s"), fmt_value(46, "nodes")
    ('1.23 ms', '420 ns', '46 nodes')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if unit == "x":
        return f"{value:.3f} x"  # size ratios: a target like "<= 3" needs the decimals
    if unit != "s":
        text = f"{value:.3g}" if isinstance(value, float) else str(value)
        return f"{text} {unit}".strip()
    for scale, name in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns")):
        if abs(value) >= scale or scale == 1e-9:
            return f"{value / scale:.3g} {name}"
    return f"{value:.3g} s"


def peer(name: str) -> Any | None:
    """The imported peer module, or None when it is not installed (or fails to import).

    >>> peer("math") is math, peer("no_such_peer_xyz") is None
    (True, True)
    """
    try:
        return importlib.import_module(name)
    except Exception:  # noqa: BLE001 - any import failure means "not installed" here
        return None


def missing(workload: str, case: str, system: str, measure: str) -> Row:
    """The row for a peer that is not installed."""
    return Row(workload, case, system, measure, status="not installed")


def check(got: Any, want: Any, rtol: float = 1e-7, atol: float = 1e-10) -> str:
    """"ok", or "WRONG VALUE" with the worst error (a wrong value is reported, not hidden).

    >>> check([1.0, 2.0], [1.0, 2.0]), check(1.0, 2.0)[:11]
    ('ok', 'WRONG VALUE')
    """
    try:
        g = np.asarray(got, dtype=float)
        w = np.asarray(want, dtype=float)
        if g.shape != w.shape and g.size == w.size:
            g = g.reshape(w.shape)
        if g.shape == w.shape and np.allclose(g, w, rtol=rtol, atol=atol):
            return "ok"
        err = np.max(np.abs(g - w)) if g.shape == w.shape else f"shape {g.shape} != {w.shape}"
    except Exception as exc:  # noqa: BLE001 - a value we cannot even compare is wrong
        err = repr(exc)[:60]
    return f"WRONG VALUE (max abs err {err})"


def describe_error(exc: BaseException) -> str:
    """A short status for an exception raised by a system under test.

    >>> describe_error(RecursionError("x")), describe_error(ValueError("bad"))
    ('RecursionError', 'error: ValueError: bad')
    """
    if isinstance(exc, RecursionError):
        return "RecursionError"
    if isinstance(exc, NotImplementedError):
        return f"not implemented: {exc}"[:80]
    return f"error: {type(exc).__name__}: {exc}".splitlines()[0][:100]


def isolated(module: str, func: str, args: list, timeout: float) -> dict:
    """Run ``benchmarks.<module>.<func>(*args)`` in a child process; its dict result.

    The child prints its result as JSON. On a time limit the result is
    ``{"status": "timeout > N s"}``; on a crash, ``{"status": "RecursionError"}`` or the
    last error line. Values must be JSON (floats, lists, strings).
    """
    code = (
        "import json, sys; "  # Python's default recursion limit, as a user has it
        f"sys.path.insert(0, {ROOT!r}); "
        f"from benchmarks.{module} import {func} as f; "
        f"r = f(*json.loads(sys.argv[1])); print('@@RESULT@@' + json.dumps(r))"
    )
    try:
        proc = subprocess.run([sys.executable, "-c", code, json.dumps(args)],
                              capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"status": f"timeout > {timeout:g} s"}
    for line in proc.stdout.splitlines():
        if line.startswith("@@RESULT@@"):
            return json.loads(line[len("@@RESULT@@"):])
    err = proc.stderr.strip().splitlines()
    if any("RecursionError" in line or "maximum recursion" in line for line in err):
        return {"status": "RecursionError"}
    if proc.returncode < 0:
        return {"status": f"crashed (signal {-proc.returncode})"}
    return {"status": ("error: " + (err[-1] if err else f"exit {proc.returncode}"))[:100]}


def with_timing(fn: Callable[..., Any], *args: Any) -> dict:
    """For child processes: ``{"status": ..., "seconds": ..., "value": ...}`` of one call."""
    try:
        t, value = once(lambda: fn(*args))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        return {"status": describe_error(exc)}
    return {"status": "ok", "seconds": t, "value": value}
