"""The Python API: the CLI's commands as functions (``import dgsql``), same passes, same
problems, same rows. ``docs/python.md`` has examples."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from dgsql.compiler import Compiled, Compression, OutputFormat, plan_schema, render
from dgsql.compiler import load as load_checked
from dgsql.compiler.preflight import PlannedTable
from dgsql.compiler.render import resolve_compression
from dgsql.compiler.seeds import DEFAULT_SEED
from dgsql.compiler.source import SchemaSource
from dgsql.compiler.sqltext import ident
from dgsql.dsl import model as S
from dgsql.dsl.problems import Problem
from dgsql.runtime import engine, session
from dgsql.runtime.build import build as run_build
from dgsql.runtime.pg_options import IfExists
from dgsql.runtime.report import Report
from dgsql.runtime.validate import validate as validate_files
from dgsql.runtime.validate import validate_tables

if TYPE_CHECKING:
    from dgsql.runtime.postgres import LoadResult


def load_schema(schema: SchemaSource) -> S.Dataset:
    """The checked schema (a path, JSON text or a dict); raises ``SchemaError`` whose
    ``problems`` are the lines ``dgsql check`` prints."""
    return load_checked(schema)[0]


@dataclass(frozen=True)
class Script:
    """A compiled script: ``str(script)`` is the SQL ``dgsql emit-sql`` prints."""

    compiled: Compiled

    def __str__(self) -> str:
        return self.compiled.script.text

    @property
    def sql(self) -> str:
        return self.compiled.script.text

    @property
    def tables(self) -> tuple[PlannedTable, ...]:
        "Per table in generation order: ``name``, ``kind``, ``expected_rows``, ``estimated_bytes``."
        return self.compiled.tables

    @property
    def targets(self) -> S.Targets:
        return self.compiled.dataset.targets

    @property
    def dataset(self) -> S.Dataset:
        return self.compiled.dataset

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return self.compiled.warnings


def compile(  # noqa: A001 - the verb users look for
    schema: SchemaSource,
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    out_dir: str = "out",
    *,
    format: OutputFormat | str = OutputFormat.parquet,  # noqa: A002 - the CLI's --format
    compression: Compression | str | None = None,
    strict: bool = False,
) -> Script:
    """The script ``dgsql emit-sql`` prints for the same arguments (``format``: parquet, csv,
    jsonl or duckdb; ``compression``: the format's default when None)."""
    fmt = OutputFormat(format)
    codec = resolve_compression(fmt, None if compression is None else Compression(compression))
    planned = plan_schema(schema, seed=seed, scale=scale, strict=strict)
    return Script(render(planned, out_dir.rstrip("/") or "/", codec, fmt=fmt))


@dataclass(frozen=True)
class Generated:
    """A dataset generated as tables of a DuckDB session (no files)."""

    con: duckdb.DuckDBPyConnection
    dataset: S.Dataset
    result: session.BuildResult
    metadata: dict
    "What ``.metadata.json`` would hold."
    schema: str
    "The session's schema holding the tables (``main``)."

    @property
    def tables(self) -> list[str]:
        return [t.name for t in self.result.tables]

    def table(self, name: str) -> duckdb.DuckDBPyRelation:
        if name not in self.tables:
            raise KeyError(f"{name!r}: no such table; the tables are {', '.join(self.tables)}.")
        return self.con.sql(f"SELECT * FROM {self.relation(name)}")

    def relation(self, name: str) -> str:
        'The table\'s qualified name as SQL (``main."users"``).'
        return f"{ident(self.schema)}.{ident(name)}"

    def rows(self, name: str) -> int:
        return next(t.rows for t in self.result.tables if t.name == name)


def generate(
    schema: SchemaSource,
    con: duckdb.DuckDBPyConnection | None = None,
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    *,
    strict: bool = False,
) -> Generated:
    """Build the dataset into ``con`` (a new in-memory DuckDB by default) as real tables, one per
    schema table in the connection's current schema, replacing tables of the same name. The
    rows are those ``dgsql build`` writes to Parquet. The script's helper tables are dropped;
    its ``dg_*`` macros stay."""
    planned = plan_schema(schema, seed=seed, scale=scale, strict=strict)
    con = engine.connect() if con is None else con
    (into,) = con.execute("SELECT current_schema()").fetchone()
    compiled = render(planned, None, into=into, parser=con)
    before = _temp_tables(con)
    try:
        result = session.run(compiled, con)
    finally:
        for name in _temp_tables(con) - before:
            con.execute(f"DROP TABLE IF EXISTS temp.main.{ident(name)}")
    meta = session.metadata(compiled, result, scale)
    return Generated(con, compiled.dataset, result, meta, into)


def _temp_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()}


def build(
    schema: SchemaSource,
    out: str | Path,
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    *,
    threads: int | None = None,
    memory_limit: str | None = None,
    temp_dir: str | Path | None = None,
    force: bool = False,
    format: OutputFormat | str = OutputFormat.parquet,  # noqa: A002 - the CLI's --format
    compression: Compression | str | None = None,
    run_checks: bool = False,
    strict: bool = False,
    parts: int | None = None,
    part: int | None = None,
    stage: int | None = None,
    jobs: int = 1,
) -> session.BuildResult:
    """What ``dgsql build`` does: ``out/<table>.parquet`` (or ``.csv``, ``.jsonl``, one
    ``<dataset>.duckdb``) and ``out/.metadata.json``. The result has ``tables`` (``name``,
    ``rows``, ``seconds``), ``seconds``, ``out_dir`` and, with ``run_checks``, the checks'
    ``report``. With ``parts`` (docs/parts.md): every part, ``jobs`` at a time, into
    ``out/<table>/part-<i>.<ext>`` — or with ``part`` only that one (of ``stage`` only, when
    given), the rows the whole build would put there. Installs no signal handler: wrap it in
    :func:`dgsql.stop_on_signals` to stop on SIGINT or SIGTERM as the CLI does."""
    from dgsql.compiler.parts import check_parts

    fmt = OutputFormat(format)
    codec = resolve_compression(fmt, None if compression is None else Compression(compression))
    check_parts(parts, part, stage)
    planned = plan_schema(schema, seed=seed, scale=scale, strict=strict)
    settings = session.Settings(threads, memory_limit, str(temp_dir) if temp_dir else None)
    if parts is None:
        return run_build(
            planned,
            Path(out),
            compression=codec,
            fmt=fmt,
            settings=settings,
            force=force,
            run_checks=run_checks,
        )
    from dgsql.runtime.parts import build_in_parts

    return build_in_parts(
        planned, Path(out), parts=parts, part=part, stage=stage, jobs=jobs, compression=codec, fmt=fmt,
        settings=settings, force=force, run_checks=run_checks,
    )  # fmt: skip


def validate(schema: SchemaSource, data: str | Path | Generated) -> Report:
    """What ``dgsql validate`` does, on a build's folder or on a :class:`Generated`: the report
    (``quality_score``, ``results``, ``passed_gate()``, ``to_json()``)."""
    dataset = load_schema(schema)
    if isinstance(data, Generated):
        relations = {name: data.relation(name) for name in data.tables}
        return validate_tables(dataset, data.con, relations, data.metadata)
    return validate_files(dataset, Path(data))


def load(
    schema: SchemaSource,
    data: str | Path,
    to: str,
    *,
    pg_schema: str = "public",
    if_exists: str = "fail",
    threads: int | None = None,
) -> LoadResult:
    """What ``dgsql load`` does: the build in ``data`` (any format, part folders, a ``.duckdb``
    file) into schema ``pg_schema`` of the PostgreSQL database at ``to``
    (``postgresql://user@host/db``; the password from ``PGPASSWORD`` or ``~/.pgpass``), in one
    transaction, keys declared after the rows. ``if_exists``: ``fail``, ``replace`` or
    ``append``. The result has ``tables`` (``name``, ``rows``, ``seconds``) and ``seconds``.
    Needs the ``pg`` extra (psycopg)."""
    from dgsql.runtime import postgres  # psycopg loads only here

    return postgres.load(
        load_schema(schema),
        Path(data),
        to,
        pg_schema=pg_schema,
        if_exists=IfExists(if_exists),
        threads=threads,
    )
