"""Run a compiled script in one DuckDB session and describe what it wrote."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

from dgsql import __version__
from dgsql.compiler import Compiled
from dgsql.compiler.render import SQL_TYPES
from dgsql.errors import EngineError


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

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def connect(settings: Settings) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    if settings.threads:
        con.execute(f"SET threads = {int(settings.threads)}")
    if settings.memory_limit:
        con.execute("SET memory_limit = ?", [settings.memory_limit])
    if settings.temp_dir:
        con.execute("SET temp_directory = ?", [settings.temp_dir])
    con.execute("SET preserve_insertion_order = true")
    return con


def run(
    compiled: Compiled,
    con: duckdb.DuckDBPyConnection,
    on_table: Callable[[TableResult], None] = lambda _: None,
) -> BuildResult:
    """Execute the script section by section; a DuckDB failure is an EngineError naming the table."""
    result = BuildResult()
    started = time.perf_counter()
    _execute(con, compiled.script.header, "the script header")
    for section in compiled.script.sections:
        t0 = time.perf_counter()
        written = _execute(con, section.sql, f"table {section.table!r}")
        table = TableResult(section.table, int(written[0][0]) if written else 0, time.perf_counter() - t0)
        result.tables.append(table)
        on_table(table)
    result.seconds = time.perf_counter() - started
    return result


def _execute(con: duckdb.DuckDBPyConnection, sql: str, what: str) -> list[tuple]:
    try:
        return con.execute(sql).fetchall()
    except duckdb.Error as e:
        first = str(e).strip().splitlines()[0]
        raise EngineError(f"DuckDB failed while writing {what}: {first}") from e


def metadata(compiled: Compiled, result: BuildResult, scale: float) -> dict:
    """The ``.metadata.json`` document (format in docs/cli.md)."""
    nodes = {n.id: n for n in compiled.dataset.nodes}
    return {
        "dataset": compiled.dataset.metadata.name,
        "dsl_version": compiled.dataset.version,
        "dgsql_version": __version__,
        "duckdb_version": duckdb.__version__,
        "seed": compiled.plan.seed,
        "scale": scale,
        "schema_sha256": compiled.schema_sha256,
        "tables": {
            t.name: {
                "rows": t.rows,
                "columns": [
                    {"name": c.name, "type": c.type, "sql_type": SQL_TYPES[c.type]}
                    for c in nodes[t.name].columns
                ],
                "seconds": round(t.seconds, 4),
                "file": f"{t.name}.parquet",
            }
            for t in result.tables
        },
        "seconds": round(result.seconds, 4),
    }
