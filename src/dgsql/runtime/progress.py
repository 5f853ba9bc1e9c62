"""How far a table's statement has got: DuckDB's ``query_progress()`` polled from a thread.

DuckDB tracks a running query's progress only with ``enable_progress_bar`` set (its own bar
stays off with ``enable_progress_bar_print = false``); :func:`enable` sets both before the
session is locked. The figure is the share of the running statement's work done: a table's
section runs its helper statements first, then its ``COPY``, so the share starts again at
each statement — an estimate, which is all a progress bar needs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import duckdb

EVERY = 0.2
"Seconds between two polls."

OnProgress = Callable[[str, float, float], None]
"``(table, share done in [0, 1], seconds since the table started)``."


def enable(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")


@contextmanager
def watch(con: duckdb.DuckDBPyConnection, table: str, report: OnProgress) -> Iterator[None]:
    """While the block runs ``table``'s statements on ``con``, call ``report`` every
    :data:`EVERY` seconds with the running statement's share done (when DuckDB knows it)."""
    stop = threading.Event()
    started = time.perf_counter()

    def poll() -> None:
        while not stop.wait(EVERY):
            try:
                percent = con.query_progress()
            except duckdb.Error:  # the statement ended between two polls
                continue
            if percent >= 0:
                report(table, min(percent, 100.0) / 100.0, time.perf_counter() - started)

    thread = threading.Thread(target=poll, name=f"dgsql-progress-{table}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
