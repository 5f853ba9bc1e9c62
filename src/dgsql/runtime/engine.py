"""The DuckDB connections dgsql opens itself."""

from __future__ import annotations

import duckdb


def connect(database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A new connection whose own progress bar never prints: DuckDB writes it to standard output
    (into a pipe, a CI log, the JSON lines of ``--log-format json``) once a statement runs
    two seconds; dgsql shows its own progress on standard error (``runtime/progress.py``)."""
    con = duckdb.connect(database)
    con.execute("SET enable_progress_bar_print = false")
    return con
