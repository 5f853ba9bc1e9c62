"""Shared fixtures: build a schema dict with the real CLI (in-process) and read what it wrote.

``dg`` (session-scoped) is the entry point:

- ``dg.cli("build", path, "-o", out)`` runs the Typer app in-process and returns exit code, stdout, stderr;
- ``dg.build(schema_dict, "--seed", "7")`` writes the schema to a fresh folder, runs ``dgsql build`` and
  returns an :class:`Output` (pyarrow tables, DuckDB queries over the Parquet files, metadata);
- ``dg.schema / dg.entity / dg.fact / dg.vocab / dg.col`` build schema dicts tersely.

``pytest --update-golden`` rewrites ``tests/golden/<case>/expected.sql``.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from dgsql.cli import app


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/<case>/expected.sql from the current compiler",
    )


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def errors(self) -> list[str]:
        """The ``error: …`` lines on stderr, without the prefix."""
        return [
            line.removeprefix("error: ") for line in self.stderr.splitlines() if line.startswith("error: ")
        ]


class Output:
    """A finished ``dgsql build`` output folder."""

    def __init__(self, path: Path, result: CliResult):
        self.path = path
        self.result = result

    def file(self, table: str) -> Path:
        return self.path / f"{table}.parquet"

    def table(self, table: str) -> pa.Table:
        return pq.read_table(self.file(table))

    def column(self, table: str, column: str) -> list[Any]:
        """A column's values in file order."""
        return self.table(table).column(column).to_pylist()

    def tables(self) -> dict[str, pa.Table]:
        return {p.stem: pq.read_table(p) for p in sorted(self.path.glob("*.parquet"))}

    @cached_property
    def con(self) -> duckdb.DuckDBPyConnection:
        """DuckDB with one view per table; each view adds ``file_row_number`` (0-based file order)."""
        con = duckdb.connect()
        for p in sorted(self.path.glob("*.parquet")):
            name = '"' + p.stem.replace('"', '""') + '"'
            path = str(p).replace("'", "''")
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path}', file_row_number = true)")
        return con

    def sql(self, query: str, params: list[Any] | None = None) -> list[tuple]:
        return self.con.execute(query, params or []).fetchall()

    def one(self, query: str, params: list[Any] | None = None) -> Any:
        """The single value of a one-row, one-column query."""
        rows = self.sql(query, params)
        assert len(rows) == 1 and len(rows[0]) == 1, rows
        return rows[0][0]

    @property
    def metadata(self) -> dict[str, Any]:
        return json.loads((self.path / ".metadata.json").read_text())


class Datagen:
    """Runs dgsql in-process and builds schema dicts; one per test session."""

    def __init__(self, factory: pytest.TempPathFactory):
        self.factory = factory
        self.counter = itertools.count()

    # -- running ------------------------------------------------------------
    @staticmethod
    def cli(*args: Any) -> CliResult:
        result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
        return CliResult(result.exit_code, result.stdout, result.stderr)

    def workdir(self) -> Path:
        return self.factory.mktemp(f"dg{next(self.counter)}")

    def write_schema(self, schema: dict[str, Any], folder: Path | None = None) -> Path:
        folder = folder or self.workdir()
        path = folder / "schema.json"
        path.write_text(json.dumps(schema, indent=1))
        return path

    def build(self, schema: dict[str, Any] | Path, *args: Any, out: Path | None = None) -> Output:
        """``dgsql build`` into a fresh folder; fails the test unless it exits 0."""
        work = self.workdir()
        path = schema if isinstance(schema, Path) else self.write_schema(schema, work)
        out = out or work / "out"
        result = self.cli("build", path, "-o", out, *args)
        assert result.exit_code == 0, f"build exited {result.exit_code}:\n{result.stderr}"
        return Output(out, result)

    def emit_sql(self, schema: dict[str, Any] | Path, *args: Any) -> str:
        path = schema if isinstance(schema, Path) else self.write_schema(schema)
        result = self.cli("emit-sql", path, *args)
        assert result.exit_code == 0, f"emit-sql exited {result.exit_code}:\n{result.stderr}"
        return result.stdout

    # -- schema dicts ---------------------------------------------------------
    @staticmethod
    def schema(
        *nodes: dict[str, Any], name: str = "t", timeframe: dict[str, str] | None = None, **extra: Any
    ):
        doc: dict[str, Any] = {"version": "1.0", "metadata": {"name": name}}
        if timeframe is not None:
            doc["timeframe"] = timeframe
        doc["nodes"] = list(nodes)
        doc.update(extra)
        return doc

    @staticmethod
    def col(name: str, type_: str, generator: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"name": name, "type": type_, "generator": generator, **extra}

    @staticmethod
    def entity(
        node_id: str, *columns: dict[str, Any], rows: int | None = None, **extra: Any
    ) -> dict[str, Any]:
        node: dict[str, Any] = {"id": node_id, "kind": "entity", "columns": list(columns), **extra}
        if rows is not None:
            node["rows"] = rows
        return node

    @staticmethod
    def fact(node_id: str, parents: list[str], *columns: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"id": node_id, "kind": "fact", "parents": parents, "columns": list(columns), **extra}

    @staticmethod
    def vocab(node_id: str, *columns: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"id": node_id, "kind": "vocab", "columns": list(columns), **extra}

    @staticmethod
    def seq(start: float = 1, step: float = 1) -> dict[str, Any]:
        return {"sequence": {"start": start, "step": step}}


@pytest.fixture(scope="session")
def dg(tmp_path_factory: pytest.TempPathFactory) -> Datagen:
    return Datagen(tmp_path_factory)


VERSION_LINES = re.compile(r"^(-- dgsql )\S+|(Written for DuckDB )\S+?(;)", re.MULTILINE)


def normalise_versions(sql: str) -> str:
    """Mask the dgsql and DuckDB versions in a script's header (they change with upgrades, not with code)."""
    return VERSION_LINES.sub(lambda m: (m[1] or m[2]) + "<version>" + (m[3] or ""), sql)


@pytest.fixture(scope="session")
def mask_versions():
    return normalise_versions
