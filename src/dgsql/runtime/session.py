"""Run a compiled script in one DuckDB session and describe what it wrote."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from dgsql import __version__
from dgsql.compiler import Compiled, OutputFormat
from dgsql.compiler.sqltext import SQL_TYPES
from dgsql.errors import EngineError, InternalError, SchemaError, UsageError
from dgsql.runtime import engine, progress
from dgsql.runtime.stopping import interruptible

if TYPE_CHECKING:
    from dgsql.runtime.report import Report  # the checks load when a build runs them


@dataclass(frozen=True)
class Settings:
    threads: int | None = None
    memory_limit: str | None = None
    temp_dir: str | None = None


@dataclass
class TableResult:
    name: str
    rows: int
    seconds: float


@dataclass
class BuildResult:
    tables: list[TableResult] = field(default_factory=list)
    seconds: float = 0.0
    out_dir: Path | None = None
    "The folder a build wrote (None for a run into the session's tables)."
    report: Report | None = None
    "The checks' report when the build ran them."

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def connect(settings: Settings) -> duckdb.DuckDBPyConnection:
    con = engine.connect()
    if settings.threads:
        con.execute(f"SET threads = {int(settings.threads)}")
    if settings.memory_limit:
        try:
            con.execute("SET memory_limit = ?", [settings.memory_limit])
        except duckdb.Error as e:
            raise UsageError(
                f"--memory-limit: {settings.memory_limit!r} is not a size; write e.g. 4GB."
            ) from e
    if settings.temp_dir:
        con.execute("SET temp_directory = ?", [settings.temp_dir])
    con.execute("SET preserve_insertion_order = true")
    return con


def lock_down(con: duckdb.DuckDBPyConnection, writable: list[str]) -> None:
    """Lock the session (docs/cli.md, "The session"): files only inside ``writable`` folders,
    no extension install or autoload, settings frozen. Runs after the script's header."""
    con.execute("SET allowed_directories = ?", [writable])
    con.execute("SET allowed_paths = ?", [writable])  # the folders themselves
    con.execute("SET enable_external_access = false")
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET lock_configuration = true")


def run(
    compiled: Compiled,
    con: duckdb.DuckDBPyConnection,
    on_table: Callable[[TableResult], None] = lambda _: None,
    writable: list[str] | None = None,
    on_start: Callable[[str, float], None] = lambda *_: None,
    on_progress: progress.OnProgress | None = None,
) -> BuildResult:
    """Execute the script section by section; a DuckDB failure is an EngineError naming the table.

    With ``writable`` folders the session is locked down after the header. A signal under
    :func:`~dgsql.runtime.stopping.stop_on_signals` interrupts the running statement.
    ``on_start`` hears each table's name and expected rows before it runs; ``on_progress``,
    when given, its progress while it runs (:mod:`dgsql.runtime.progress`)."""
    result = BuildResult()
    started = time.perf_counter()
    expected = {t.name: t.expected_rows for t in compiled.tables}
    if on_progress is not None:
        progress.enable(con)
    with interruptible(con):
        _execute(con, compiled.script.header, "the script header")
        if writable is not None:
            lock_down(con, writable)
        for section in compiled.script.sections:
            on_start(section.table, expected.get(section.table, 0.0))
            t0 = time.perf_counter()
            with progress.watch(con, section.table, on_progress) if on_progress else nullcontext():
                written = _execute(con, section.sql, f"table {section.table!r}")
            if section.cleanup:
                _execute(con, section.cleanup, f"table {section.table!r}")
            rows = int(written[0][0]) if written else 0
            table = TableResult(section.table, rows, time.perf_counter() - t0)
            result.tables.append(table)
            on_table(table)
        if compiled.script.footer:
            _execute(con, compiled.script.footer, "the output database")
    result.seconds = time.perf_counter() - started
    return result


EXTERNAL = (
    duckdb.IOException,
    duckdb.OutOfMemoryException,
    duckdb.PermissionException,
    duckdb.InterruptException,
    duckdb.ConnectionException,
    duckdb.HTTPException,
    duckdb.TransactionException,
)
"""Failures of the world outside the script (disk, memory, a locked file): exit 3. DuckDB
rejecting a statement dgsql wrote for any other reason is a dgsql bug: exit 4."""

COLUMN_COMMENT = re.compile(r"^\s*-- (nodes\[\d+\](?:\.columns\[\d+\])?)")
ERROR_LINE = re.compile(r"\bLINE (\d+):")


def _execute(con: duckdb.DuckDBPyConnection, sql: str, what: str) -> list[tuple]:
    try:
        return con.execute(sql).fetchall()
    except duckdb.InterruptException:
        raise KeyboardInterrupt from None
    except RuntimeError as e:  # DuckDB 2.x reports Ctrl-C as RuntimeError("Query interrupted")
        if "interrupted" in str(e).lower():
            raise KeyboardInterrupt from None
        raise
    except (duckdb.ConversionException, duckdb.OutOfRangeException) as e:
        # the schema asks for values its column types cannot hold (e.g. an int beyond BIGINT):
        # a schema problem that only shows at run time; nothing is written
        first = str(e).strip().splitlines()[0]
        raise SchemaError(
            [
                f"{what}: a generated value does not fit its column type ({first}); "
                "narrow the generator's range or change the column type."
            ]
        ) from e
    except EXTERNAL as e:
        first = str(e).strip().splitlines()[0]
        raise EngineError(f"DuckDB failed while writing {what}: {first}") from e
    except duckdb.Error as e:
        first = str(e).strip().splitlines()[0]
        where = _statement_column(sql, str(e))
        raise InternalError(
            f"DuckDB rejected the SQL dgsql wrote for {what}{where}: {first}; this is a dgsql bug, "
            "please report it with the schema (rerun with --debug for the traceback)."
        ) from e


def _statement_column(sql: str, message: str) -> str:
    """`` (column nodes[i].columns[j])`` when DuckDB's message points at a line of ``sql``
    under a column's comment, else ``""``."""
    found = ERROR_LINE.search(message)
    if not found:
        return ""
    lines = sql.splitlines()[: int(found.group(1))]
    for line in reversed(lines):
        hit = COLUMN_COMMENT.match(line)
        if hit:
            return f" (column {hit.group(1)})"
    return ""


def metadata(compiled: Compiled, result: BuildResult, scale: float) -> dict:
    """The ``.metadata.json`` document (format in docs/cli.md)."""
    nodes = {n.id: n for n in compiled.dataset.nodes}
    target = compiled.script.target
    return {
        "dataset": compiled.dataset.metadata.name,
        "dsl_version": compiled.dataset.version,
        "dgsql_version": __version__,
        "duckdb_version": duckdb.__version__,
        "seed": compiled.plan.seed,
        "scale": scale,
        "schema_sha256": compiled.schema_sha256,
        "format": OutputFormat.duckdb.value if target.into is not None else target.format.value,
        "compression": compiled.script.compression.value if compiled.script.compression else None,
        "tables": {
            t.name: {
                "rows": t.rows,
                "columns": [
                    {"name": c.name, "type": c.type, "sql_type": SQL_TYPES[c.type]}
                    for c in nodes[t.name].written  # the file's columns: hidden ones are not written
                ],
                "seconds": round(t.seconds, 4),
                # tables made in the client's own database have no file
                "file": None
                if target.into is not None
                else target.file(t.name, compiled.dataset.metadata.name),
            }
            for t in result.tables
        },
        "seconds": round(result.seconds, 4),
    }
