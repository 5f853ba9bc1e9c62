"""Load a build's folder into PostgreSQL: ``dgsql load`` and ``dgsql build --to``.

One transaction does everything (docs/postgres.md):

1. a fresh staging schema, one table per schema table with the PostgreSQL type of each DSL
   type (:data:`PG_TYPES`);
2. per table in DAG order, ``COPY … FROM STDIN (FORMAT csv, FREEZE)``: DuckDB writes the CSV
   bytes of the table's file into a pipe (``COPY … TO '/dev/fd/N'``) and this process moves
   them to psycopg in 1 MiB buffers (no file on disk, no Python loop over rows);
3. primary keys, the foreign keys validate checks (declared ones and lookups into a primary
   key, never an ``on`` lookup), ``ANALYZE``;
4. the swap: the previous tables of the same names are dropped (``replace``), the new ones
   moved into the target schema (``ALTER TABLE … SET SCHEMA``), the staging schema dropped;
5. ``COMMIT``.

A failure or an interruption anywhere before the commit rolls everything back: the previous
tables are as they were and no staging schema is left (not even when this process is killed,
since the server aborts a transaction whose client is gone). Names reach PostgreSQL only as
identifiers quoted by psycopg (``sql.Identifier``), never pasted into SQL text. The password of
the URL is never printed: :class:`Target` masks it in every message.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from dgsql.compiler.checks import foreign_key
from dgsql.compiler.checks.spec import CheckContext
from dgsql.compiler.dag import order_tables
from dgsql.compiler.sqltext import fill, ident, join, lit
from dgsql.dsl.model import Dataset
from dgsql.errors import EngineError, SchemaError, UsageError
from dgsql.runtime import engine
from dgsql.runtime.dataset_files import table_relations
from dgsql.runtime.pg_options import IfExists, Target, parse_target

try:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict
except ImportError:  # the pg extra is not installed: load() says how to install it
    psycopg = None  # type: ignore[assignment]

PG_TYPES = {
    "int": "bigint",
    "float": "double precision",
    "string": "text",
    "datetime": "timestamp",
    "date": "date",
    "bool": "boolean",
}
"DSL column type → PostgreSQL type (docs/postgres.md)."

NAME_BYTES = 63
"PostgreSQL cuts longer names (NAMEDATALEN − 1); two long names could become one."
STAGING_PREFIX = "dgsql_staging_"
CHUNK = 1 << 20
"Bytes moved per read of the pipe."
PIPE_BYTES = 1 << 20
"The pipe's buffer (Linux ``F_SETPIPE_SZ``; 64 KiB by default)."
SOURCE_VIEW = "dg_load_source"
"The view of the table being copied in the loader's own DuckDB session."


# ------------------------------------------------------------------ plan


@dataclass(frozen=True)
class PgTable:
    name: str
    columns: tuple[tuple[str, str], ...]
    "(name, PostgreSQL type) of each written column, in schema order."
    pk: str | None
    quoted: tuple[str, ...]
    "Text columns: always quoted in the CSV, so a value ``\\.`` is not read as the end of data."


@dataclass(frozen=True)
class PgForeignKey:
    table: str
    column: str
    ref_table: str
    ref_column: str

    def __str__(self) -> str:
        return f"{self.table}.{self.column}->{self.ref_table}.{self.ref_column}"


@dataclass(frozen=True)
class LoadPlan:
    """What a load creates, decided from the schema alone (no connection)."""

    tables: tuple[PgTable, ...]
    "In DAG order: parents before children."
    unique: tuple[tuple[str, str], ...]
    "(table, column) a foreign key references that is not the table's pk but declared unique."
    foreign_keys: tuple[PgForeignKey, ...]
    notes: tuple[str, ...]
    "Foreign keys validate checks that PostgreSQL cannot declare, and why."


def load_plan(dataset: Dataset) -> LoadPlan:
    """Tables, keys and foreign keys of ``dataset`` in PostgreSQL; SchemaError for names
    PostgreSQL cannot hold."""
    _check_names(dataset)
    tables = tuple(
        PgTable(
            node.id,
            tuple((c.name, PG_TYPES[c.type]) for c in node.written),
            node.pk if any(c.name == node.pk for c in node.written) else None,
            tuple(c.name for c in node.written if c.type == "string"),
        )
        for node in order_tables(dataset)
    )
    by_name = {t.name: t for t in tables}
    ctx = CheckContext(dataset)
    declared_unique = set()
    for ref in dataset.constraints.unique:
        t, c, col, problem = ctx.resolve(ref)
        if col is not None and problem is None:
            declared_unique.add((t, c))
    unique: list[tuple[str, str]] = []
    keys: list[PgForeignKey] = []
    notes: list[str] = []
    # exactly the foreign keys validate checks (compiler/checks/foreign_key.py)
    for check in foreign_key.compile(ctx):
        if check.sql is None:
            continue
        t, c, col, _ = ctx.resolve(check.target)
        rt, rc, ref_col, _ = ctx.resolve(str(check.expect["references"]))
        assert col is not None and ref_col is not None
        fk = PgForeignKey(t, c, rt, rc)
        if by_name[rt].pk != rc and (rt, rc) not in declared_unique:
            notes.append(
                f"{fk}: not declared in PostgreSQL: {rt}.{rc} is neither {rt}'s pk nor in "
                "constraints.unique (a foreign key needs a unique column)."
            )
            continue
        if PG_TYPES[col.type] != PG_TYPES[ref_col.type]:
            notes.append(f"{fk}: not declared in PostgreSQL: {col.type} references {ref_col.type}.")
            continue
        if by_name[rt].pk != rc and (rt, rc) not in unique:
            unique.append((rt, rc))
        keys.append(fk)
    return LoadPlan(tables, tuple(unique), tuple(keys), tuple(notes))


def _check_names(dataset: Dataset) -> None:
    problems = []
    for i, node in enumerate(dataset.nodes):
        problems += _name_problem(f"nodes[{i}].id", node.id)
        for j, col in enumerate(node.columns):
            if not col.hidden:
                problems += _name_problem(f"nodes[{i}].columns[{j}].name", col.name)
        if not node.written:
            problems.append(
                f"nodes[{i}]: every column is hidden; a PostgreSQL table needs one column to load."
            )
    if problems:
        raise SchemaError(problems)


def _name_problem(path: str, name: str) -> list[str]:
    if "\x00" in name:
        return [f"{path}: {name!r} holds a NUL character, which PostgreSQL names cannot; rename it."]
    size = len(name.encode("utf-8"))
    if size > NAME_BYTES:
        return [f"{path}: {name!r} is {size} bytes; PostgreSQL names hold at most {NAME_BYTES}; shorten it."]
    return []


# ------------------------------------------------------------------ statements


def require_psycopg() -> None:
    """UsageError saying how to install psycopg 3 when it is missing."""
    if psycopg is None:
        raise UsageError(
            "loading into PostgreSQL needs psycopg 3; install it with pip install 'dgsql[pg]' "
            "(or pip install 'psycopg[binary]')."
        )


def _name(schema: str, table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))


def create_statement(schema: str, table: PgTable) -> sql.Composed:
    """``CREATE TABLE "schema"."table" ("col" type, …)``."""
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(PG_TYPES_SQL[pg_type]))
        for name, pg_type in table.columns
    )
    return sql.SQL("CREATE TABLE {} ({})").format(_name(schema, table.name), columns)


PG_TYPES_SQL = {t: t for t in PG_TYPES.values()}
"The type names as constant SQL text (only these ever reach a CREATE TABLE)."


def copy_statement(schema: str, table: PgTable, *, freeze: bool) -> sql.Composed:
    """``COPY "schema"."table" ("col", …) FROM STDIN (FORMAT csv[, FREEZE])``."""
    columns = sql.SQL(", ").join(sql.Identifier(name) for name, _ in table.columns)
    options = sql.SQL("FORMAT csv, FREEZE" if freeze else "FORMAT csv")
    return sql.SQL("COPY {} ({}) FROM STDIN ({})").format(_name(schema, table.name), columns, options)


def key_statements(plan: LoadPlan, schema: str, tables: set[str] | None = None) -> list[sql.Composed]:
    """Primary keys, the unique columns foreign keys reference, then the foreign keys, of the
    tables in ``tables`` (all by default; a foreign key needs both of its ends there)."""
    keep = tables if tables is not None else {t.name for t in plan.tables}
    out = [
        sql.SQL("ALTER TABLE {} ADD PRIMARY KEY ({})").format(_name(schema, t.name), sql.Identifier(t.pk))
        for t in plan.tables
        if t.pk is not None and t.name in keep
    ]
    out += [
        sql.SQL("ALTER TABLE {} ADD UNIQUE ({})").format(_name(schema, t), sql.Identifier(c))
        for t, c in plan.unique
        if t in keep
    ]
    out += [
        sql.SQL("ALTER TABLE {} ADD FOREIGN KEY ({}) REFERENCES {} ({})").format(
            _name(schema, fk.table),
            sql.Identifier(fk.column),
            _name(schema, fk.ref_table),
            sql.Identifier(fk.ref_column),
        )
        for fk in plan.foreign_keys
        if fk.table in keep and fk.ref_table in keep
    ]
    return out


def analyze_statement(names: list[tuple[str, str]]) -> sql.Composed:
    """``ANALYZE "s"."t1", "s"."t2", …`` over (schema, table) pairs."""
    return sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(_name(s, t) for s, t in names))


# ------------------------------------------------------------------ load


@dataclass(frozen=True)
class Progress:
    """One line of a load's progress: ``text`` for people, ``fields`` for a machine log."""

    text: str
    fields: dict[str, Any]


@dataclass
class LoadedTable:
    name: str
    rows: int
    seconds: float
    "Of its COPY."
    created: bool = True
    "False: the rows were appended to a table that existed."


@dataclass
class LoadResult:
    target: str
    "The URL, password masked."
    schema: str
    if_exists: str
    tables: list[LoadedTable] = field(default_factory=list)
    constraints: int = 0
    copy_seconds: float = 0.0
    keys_seconds: float = 0.0
    analyze_seconds: float = 0.0
    swap_seconds: float = 0.0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def load(
    dataset: Dataset,
    data_dir: Path,
    url: str,
    *,
    pg_schema: str = "public",
    if_exists: IfExists = IfExists.fail,
    progress: Callable[[Progress], None] = lambda _: None,
    threads: int | None = None,
) -> LoadResult:
    """Load the build in ``data_dir`` into schema ``pg_schema`` of the database at ``url``, in
    one transaction (module docstring). UsageError or SchemaError (exit 2) before anything is
    touched for a bad URL, folder or name, or an existing table under ``fail``; EngineError
    (exit 3) when PostgreSQL fails, UsageError when it refuses the rows (a key violated), both
    after rolling everything back."""
    started = time.perf_counter()
    require_psycopg()
    if_exists = IfExists(if_exists)
    target = parse_target(url)
    problems = _name_problem("--pg-schema", pg_schema)
    if problems:
        raise UsageError(problems[0])
    plan = load_plan(dataset)
    con = engine.connect()
    try:
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        con.execute("SET preserve_insertion_order = true")  # the file's row order is the heap's
        con.execute("SET enable_progress_bar = false")  # progress is ours, per table
        try:
            # DuckDB 2.0's asynchronous write queue waits for a full pipe by yielding in a loop:
            # with PostgreSQL the slower side, that doubled the loader's CPU (7.4M rows: 14 s vs
            # 7 s) on a 2-core machine PostgreSQL shares. Without it the writing thread blocks.
            con.execute("SET async_threads = 0")
        except duckdb.Error:
            pass  # a DuckDB without the setting has no such queue
        relations = table_relations(con, dataset, data_dir)
        result = LoadResult(target.shown, pg_schema, if_exists.value, notes=list(plan.notes))
        with _connection(target) as pg:
            _run(pg, con, plan, relations, target, result, if_exists, progress)
    finally:
        con.close()
    result.seconds = time.perf_counter() - started
    rate = f"{result.rows / result.seconds:,.0f}" if result.seconds > 0 else "-"
    progress(
        Progress(
            f"loaded {result.rows:,} rows in {len(result.tables)} tables into {target.shown} schema "
            f"{pg_schema!r} in {result.seconds:.2f} s ({rate} rows/s): copy {result.copy_seconds:.2f} s, "
            f"keys {result.keys_seconds:.2f} s, analyze {result.analyze_seconds:.2f} s",
            {
                "event": "loaded",
                "target": target.shown,
                "schema": pg_schema,
                "if_exists": if_exists.value,
                "tables": len(result.tables),
                "rows": result.rows,
                "constraints": result.constraints,
                "seconds": round(result.seconds, 4),
                "copy_seconds": round(result.copy_seconds, 4),
                "keys_seconds": round(result.keys_seconds, 4),
                "analyze_seconds": round(result.analyze_seconds, 4),
                "swap_seconds": round(result.swap_seconds, 4),
            },
        )
    )
    return result


class _Step:
    """What the load is doing, for the message when PostgreSQL fails."""

    def __init__(self) -> None:
        self.now = "connecting"


def _run(
    pg: psycopg.Connection,
    con: duckdb.DuckDBPyConnection,
    plan: LoadPlan,
    relations: dict[str, duckdb.DuckDBPyRelation],
    target: Target,
    result: LoadResult,
    if_exists: IfExists,
    progress: Callable[[Progress], None],
) -> None:
    schema = result.schema
    step = _Step()
    with _failures(target, step, schema):
        step.now = "reading the target schema"
        existing = _existing(pg, schema, [t.name for t in plan.tables])
        if existing and if_exists is IfExists.fail:
            names = ", ".join(f"{schema}.{t}" for t in existing)
            raise UsageError(
                f"{target.shown}: {names} already exist; pass --if-exists replace or --if-exists append, "
                "or choose another --pg-schema. Nothing was changed."
            )
        appended = set(existing) if if_exists is IfExists.append else set()
        if appended:
            _check_columns(pg, schema, plan, appended, existing)
        progress(
            Progress(
                f"loading {len(plan.tables)} tables into {target.shown} schema {schema!r} "
                f"(--if-exists {if_exists.value})",
                {"event": "start", "target": target.shown, "schema": schema, "if_exists": if_exists.value},
            )
        )
        staging = STAGING_PREFIX + secrets.token_hex(6)
        step.now = f"creating the staging schema {staging!r}"
        pg.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(staging)))
        for note in plan.notes:
            progress(Progress(f"  note: {note}", {"event": "note", "note": note}))
        created = [t for t in plan.tables if t.name not in appended]
        for table in created:
            pg.execute(create_statement(staging, table))
        copy_started = time.perf_counter()
        for table in plan.tables:
            step.now = f"copying table {table.name!r}"
            into = schema if table.name in appended else staging
            t0 = time.perf_counter()
            rows = _copy(pg, con, relations[table.name], table, into, freeze=table.name not in appended)
            loaded = LoadedTable(table.name, rows, time.perf_counter() - t0, table.name not in appended)
            result.tables.append(loaded)
            rate = f"{loaded.rows / loaded.seconds:,.0f}" if loaded.seconds > 0 else "-"
            verb = "appended" if table.name in appended else "copied"
            progress(
                Progress(
                    f"  {loaded.name}: {loaded.rows:,} rows {verb} in {loaded.seconds:.2f} s ({rate} rows/s)",
                    {
                        "event": "table",
                        "table": loaded.name,
                        "rows": loaded.rows,
                        "seconds": round(loaded.seconds, 4),
                        "appended": not loaded.created,
                    },
                )  # fmt: skip
            )
        result.copy_seconds = time.perf_counter() - copy_started
        t0 = time.perf_counter()
        keys = key_statements(plan, staging, {t.name for t in created})
        for statement in keys:
            step.now = f"adding keys ({statement.as_string(pg)})"
            pg.execute(statement)
        result.constraints = len(keys)
        result.keys_seconds = time.perf_counter() - t0
        if keys:
            progress(
                Progress(
                    f"  keys: {len(keys)} constraints in {result.keys_seconds:.2f} s",
                    {"event": "keys", "constraints": len(keys), "seconds": round(result.keys_seconds, 4)},
                )
            )
        t0 = time.perf_counter()
        step.now = "analyzing the tables"
        pg.execute(
            analyze_statement([(schema if t.name in appended else staging, t.name) for t in plan.tables])
        )
        result.analyze_seconds = time.perf_counter() - t0
        progress(
            Progress(
                f"  analyze: {result.analyze_seconds:.2f} s",
                {"event": "analyze", "seconds": round(result.analyze_seconds, 4)},
            )
        )
        t0 = time.perf_counter()
        step.now = f"moving the tables into schema {schema!r}"
        _swap(pg, staging, schema, created, replaced=[t for t in existing if t not in appended])
        step.now = "committing"
        pg.commit()
        result.swap_seconds = time.perf_counter() - t0


def _existing(pg: psycopg.Connection, schema: str, names: list[str]) -> list[str]:
    """Which of ``names`` exist as relations of any kind in ``schema`` (DAG order)."""
    rows = pg.execute(
        "SELECT c.relname FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n "
        "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = ANY(%s)",
        [schema, names],
    ).fetchall()
    found = {r[0] for r in rows}
    return [n for n in names if n in found]


def _check_columns(
    pg: psycopg.Connection, schema: str, plan: LoadPlan, appended: set[str], existing: list[str]
) -> None:
    """``append``: every written column exists in the table the rows go to."""
    rows = pg.execute(
        "SELECT c.relname, c.relkind, a.attname FROM pg_catalog.pg_class AS c "
        "JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
        "WHERE n.nspname = %s AND c.relname = ANY(%s)",
        [schema, list(appended)],
    ).fetchall()
    kinds = {r[0]: r[1] for r in rows}
    columns: dict[str, set[str]] = {}
    for name, _, column in rows:
        columns.setdefault(name, set()).add(column)
    problems = []
    for table in plan.tables:
        if table.name not in appended:
            continue
        if kinds[table.name] not in ("r", "p"):
            problems.append(
                f"{schema}.{table.name}: exists and is not a table; rename it or choose another --pg-schema."
            )
            continue
        missing = [name for name, _ in table.columns if name not in columns[table.name]]
        if missing:
            problems.append(
                f"{schema}.{table.name}: has no column {', '.join(repr(m) for m in missing)}; "
                "append needs every column of the schema; use --if-exists replace."
            )
    if problems:
        raise UsageError("\n".join(problems + ["Nothing was changed."]))


def _swap(
    pg: psycopg.Connection, staging: str, schema: str, created: list[PgTable], replaced: list[str]
) -> None:
    """Drop the tables ``created`` replaces, move the new ones into ``schema``, drop the staging
    schema. Runs in the load's transaction: others see the old tables or the new, never neither."""
    found = pg.execute("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = %s", [schema]).fetchone()
    if found is None:
        pg.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    if replaced:
        # one statement: foreign keys among the old tables do not need CASCADE, and anything
        # else that depends on them (a view, another table's foreign key) stops the load
        pg.execute(sql.SQL("DROP TABLE {}").format(sql.SQL(", ").join(_name(schema, t) for t in replaced)))
    for table in created:
        pg.execute(
            sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(_name(staging, table.name), sql.Identifier(schema))
        )
    pg.execute(sql.SQL("DROP SCHEMA {}").format(sql.Identifier(staging)))


@contextmanager
def _connection(target: Target) -> Iterator[psycopg.Connection]:
    try:
        given = conninfo_to_dict(target.url)
    except psycopg.Error as e:
        raise UsageError(
            f"--to {target.shown}: not a PostgreSQL URL ({target.scrub(_first_line(e))}); "
            "write postgresql://user@host:port/database."
        ) from None
    options: dict[str, Any] = {"autocommit": False, "client_encoding": "utf8"}
    if "application_name" not in given:
        options["application_name"] = "dgsql load"
    if "connect_timeout" not in given:
        options["connect_timeout"] = 30
    try:
        pg = psycopg.connect(target.url, **options)
    except psycopg.Error as e:
        raise EngineError(f"PostgreSQL at {target.shown}: {target.scrub(_first_line(e))}") from None
    try:
        yield pg
    finally:
        pg.close()  # before a commit, the server rolls the transaction back


# SQLSTATEs of a refusal of the data or of the user's own objects: exit 2, not 3
REFUSALS = {
    "23": "the rows break a key",  # class 23: integrity constraint violation
    "2BP01": "other objects depend on a table it would replace",
    "42P07": "a relation of that name exists in the target schema",
}


@contextmanager
def _failures(target: Target, step: _Step, schema: str) -> Iterator[None]:
    """psycopg errors as dgsql's: a refusal of the data is a UsageError (exit 2), any other
    failure an EngineError (exit 3); every message scrubbed of the password."""
    try:
        yield
    except psycopg.Error as e:
        state = getattr(e, "sqlstate", None) or ""
        diag = getattr(e, "diag", None)
        detail = getattr(diag, "message_detail", None) if diag is not None else None
        what = target.scrub(_first_line(e) + (f" ({detail})" if detail else ""))
        doing = target.scrub(step.now)
        if step.now == "committing" and isinstance(e, psycopg.OperationalError):
            raise EngineError(
                f"PostgreSQL at {target.shown} failed while committing: {what}; whether the load was "
                f"committed is unknown: look at schema {schema!r}."
            ) from None
        reason = REFUSALS.get(state) or REFUSALS.get(state[:2])
        message = (
            f"PostgreSQL at {target.shown} refused the load while {doing}: {what}; {reason}. "
            "Nothing was changed."
            if reason
            else f"PostgreSQL at {target.shown} failed while {doing}: {what}. Nothing was changed."
        )
        raise (UsageError if reason else EngineError)(message) from None


def _copy(
    pg: psycopg.Connection,
    con: duckdb.DuckDBPyConnection,
    relation: duckdb.DuckDBPyRelation,
    table: PgTable,
    schema: str,
    *,
    freeze: bool,
) -> int:
    """Stream ``relation`` into ``schema.table``: DuckDB writes CSV into a pipe on its own
    thread, this one moves the bytes into the running ``COPY``. Returns the rows copied."""
    read_fd, write_fd = os.pipe()
    try:
        fcntl.fcntl(write_fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    except OSError:
        pass  # not Linux, or above /proc/sys/fs/pipe-max-size: the default buffer works too
    relation.to_view(SOURCE_VIEW, replace=True)
    quoted = join(ident(c) for c in table.quoted)
    copy_to = fill(
        "COPY {v} TO {p} (FORMAT csv, HEADER false, USE_TMP_FILE false{q})",
        v=ident(SOURCE_VIEW),
        p=lit(f"/dev/fd/{write_fd}"),
        q=fill(", FORCE_QUOTE ({c})", c=quoted) if table.quoted else fill(""),
    )
    failed: list[BaseException] = []

    def produce() -> None:
        try:
            con.execute(copy_to)
        except BaseException as e:  # noqa: BLE001 - handed to the main thread
            failed.append(e)
        finally:
            os.close(write_fd)  # the reader sees the end of the data

    producer = threading.Thread(target=produce, name="dgsql-csv", daemon=True)
    producer.start()
    try:
        with pg.cursor() as cur:
            with cur.copy(copy_statement(schema, table, freeze=freeze)) as copy:
                while chunk := os.read(read_fd, CHUNK):
                    copy.write(chunk)
                producer.join()
                if failed:  # leaving the block with an error ends the COPY with CopyFail
                    raise EngineError(
                        f"DuckDB failed reading table {table.name!r}: {_first_line(failed[0])}. "
                        "Nothing was changed."
                    )
            return cur.rowcount
    finally:
        os.close(read_fd)  # a producer still writing gets EPIPE and stops
        if producer.is_alive():
            con.interrupt()
            producer.join()


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__
