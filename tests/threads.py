"""Test helper: workers in threads while another thread keeps building the same graph."""

from __future__ import annotations

import threading
from collections.abc import Callable


def run_while_building(worker: Callable[[], None], copies: int,
                       builder: Callable[[threading.Event], None]) -> list[BaseException]:
    """Run ``copies`` threads of ``worker()`` while ``builder(stop)`` runs in another one
    until they have all finished; return what any of them raised."""
    errors: list[BaseException] = []
    stop = threading.Event()

    def guarded(fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)
        return run

    build = threading.Thread(target=guarded(lambda: builder(stop)))
    workers = [threading.Thread(target=guarded(worker)) for _ in range(copies)]
    build.start()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    stop.set()
    build.join()
    return errors
