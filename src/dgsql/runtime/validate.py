"""Run a dataset's checks over the files of a build, in one DuckDB session.

Each table is a view ``dg_check."<table>"`` over its file (``read_parquet``, ``read_csv`` or
``read_json`` with the declared column types) or over the table of an attached ``.duckdb``
file, and ``.metadata.json`` is read by the ``dg_check_metadata()`` macro, so the checks' SQL
is the same here and in the script :func:`checks_script` prints for the DuckDB CLI.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from dgsql.compiler.checks import compile_checks
from dgsql.compiler.checks.spec import CheckSpec
from dgsql.compiler.checks.views import METADATA_MACRO, SCHEMA, table
from dgsql.compiler.render import database_file
from dgsql.compiler.sqltext import SQL_TYPES, Sql, fill, ident, lit
from dgsql.dsl.model import Dataset, Node
from dgsql.errors import EngineError, UsageError
from dgsql.runtime import engine
from dgsql.runtime.report import CheckResult, Report, Status, json_value
from dgsql.runtime.stopping import interruptible

METADATA_FILE = ".metadata.json"
EXAMPLES = 3
DATABASE_ALIAS = "dg_check_db"
"The name a ``.duckdb`` build is attached under (read only) while checks run."
EXTENSIONS = {
    "parquet": ("parquet",),
    "csv": ("csv", "csv.gz", "csv.zst"),
    "jsonl": ("jsonl", "jsonl.gz", "jsonl.zst"),
}
"File name endings of each file format a build writes (with the compressed ones)."
FORMAT_NAMES = {"parquet": "Parquet", "csv": "CSV", "jsonl": "JSON lines", "duckdb": "DuckDB database"}


@dataclass(frozen=True)
class Layout:
    """What a build wrote: its format, and per table its file (relative to ``folder``)."""

    folder: Path
    format: str = "parquet"
    files: dict[str, str] = field(default_factory=dict)
    has_metadata: bool = False

    def path(self, data_dir: str, table_id: str) -> str:
        return _join_path(data_dir, self.files.get(table_id, f"{table_id}.parquet"))


def validate(dataset: Dataset, data_dir: Path, *, con: duckdb.DuckDBPyConnection | None = None) -> Report:
    """Check the files in ``data_dir`` against ``dataset``.

    ``con``: run in this session (e.g. the build's) instead of a new in-memory one; the views
    and macro this function creates are dropped again before it returns.
    Raises :class:`UsageError` for a missing folder or table file, an unreadable Parquet file or
    an unreadable ``.metadata.json``.
    """
    data_dir = Path(data_dir)
    layout = _check_files(dataset, data_dir)
    own = con is None
    session = engine.connect() if con is None else con

    def setup() -> None:
        _setup(session, dataset, layout)

    detach = f"DETACH DATABASE IF EXISTS {DATABASE_ALIAS};" if layout.format == "duckdb" else ""
    return _check(dataset, session, setup, layout.has_metadata, str(data_dir), own=own, teardown=detach)


def validate_tables(
    dataset: Dataset, con: duckdb.DuckDBPyConnection, relations: dict[str, str], metadata: dict | None
) -> Report:
    """Check tables already in session ``con`` (``dgsql.generate``'s): ``relations`` gives each
    table's qualified name as SQL, ``metadata`` the ``.metadata.json`` document (or None)."""
    has_metadata = metadata is not None

    def setup() -> None:
        for stmt in _view_statements(dataset, relations, metadata):
            con.execute(stmt)

    return _check(dataset, con, setup, has_metadata, "<session>", own=False)


def _view_statements(dataset: Dataset, relations: dict[str, str], metadata: dict | None) -> list[str]:
    doc = None if metadata is None else fill("CAST({d} AS JSON)", d=lit(json.dumps(metadata)))
    sources = {n.id: Sql(relations[n.id]) for n in dataset.nodes}
    return [stmt for _, stmt in _views(dataset, sources, Sql(f"SELECT {doc or 'CAST(NULL AS JSON)'} AS doc"))]


def _views(dataset: Dataset, sources: dict[str, Sql], metadata: Sql) -> list[tuple[str | None, str]]:
    """(table or None, statement): the checks' schema, one view per table over its source,
    the metadata macro returning the one-row query ``metadata``."""
    stmts: list[tuple[str | None, str]] = [(None, f"CREATE SCHEMA IF NOT EXISTS {SCHEMA};")]
    for node in dataset.nodes:
        view = fill("CREATE OR REPLACE VIEW {t} AS SELECT * FROM {s};", t=table(node.id), s=sources[node.id])
        stmts.append((node.id, view))
    stmts.append((None, f"CREATE OR REPLACE TEMP MACRO {METADATA_MACRO}() AS TABLE {metadata};"))
    return stmts


def _check(
    dataset: Dataset,
    session: duckdb.DuckDBPyConnection,
    setup: Callable[[], None],
    has_metadata: bool,
    data_dir: str,
    *,
    own: bool,
    teardown: str = "",
) -> Report:
    started = time.perf_counter()
    checks = compile_checks(dataset)
    try:
        with interruptible(session):
            setup()
            results = [_run(session, c, has_metadata) for c in checks]
            tables = _profile(session, dataset)
    finally:
        _drop_views(session, teardown)
        if own:
            session.close()
    return Report(
        dataset=dataset.metadata.name,
        data_dir=data_dir,
        results=results,
        tables=tables,
        seconds=time.perf_counter() - started,
    )


@contextmanager
def data_views(dataset: Dataset, data_dir: Path, con: duckdb.DuckDBPyConnection) -> Iterator[Layout]:
    """The views and the metadata macro the checks read, over the build in ``data_dir``, in
    session ``con`` while the block runs (``dgsql report`` charts the data through them);
    dropped again on exit. Raises :class:`UsageError` as :func:`validate` does."""
    layout = _check_files(dataset, Path(data_dir))
    detach = f"DETACH DATABASE IF EXISTS {DATABASE_ALIAS};" if layout.format == "duckdb" else ""
    try:
        _setup(con, dataset, layout)
        yield layout
    finally:
        _drop_views(con, detach)


def _drop_views(con: duckdb.DuckDBPyConnection, teardown: str) -> None:
    try:
        con.execute(
            f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; DROP MACRO TABLE IF EXISTS {METADATA_MACRO};{teardown}"
        )
    except duckdb.Error:
        pass


def checks_script(dataset: Dataset, data_dir: str) -> str:
    """One SQL script for the stock DuckDB CLI (``duckdb -c ".read checks.sql"``) that prints one
    result row per check: check, kind, target, status, violations, detail (the first failing
    row, or the statistic, as JSON). ``data_dir`` is written into the paths as given, so a
    relative one is read relative to the folder the CLI runs in."""
    checks = compile_checks(dataset)
    folder = Path(data_dir)
    layout = _layout(dataset, folder) if folder.exists() else Layout(folder, has_metadata=True)
    if folder.is_file():
        data_dir = folder.parent.as_posix() if folder.parent != Path(".") else ""
    lines = [
        f"-- dgsql validate --sql: {len(checks)} checks of dataset {dataset.metadata.name!r}",
        '-- Run: duckdb -c ".read checks.sql" (stops at the first error) or duckdb < checks.sql',
        "-- Each check prints one row: check, kind, target, status, violations, detail.",
        _setup_sql(dataset, data_dir, layout),
    ]
    for i, check in enumerate(checks, 1):
        lines.append(f"\n-- [{i}] {check.id}" + (f"  ({check.source})" if check.source else ""))
        lines.append(_script_statement(check))
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------- setup


def _join_path(data_dir: str, name: str) -> str:
    if not data_dir:
        return name
    return data_dir + ("" if data_dir.endswith(("/", "\\")) else "/") + name


def _source(node: Node, layout: Layout, data_dir: str) -> Sql:
    """The relation that reads table ``node`` as ``layout`` wrote it, typed as declared."""
    if layout.format == "duckdb":
        return Sql(f"{DATABASE_ALIAS}.main.{ident(node.id)}")
    path = lit(layout.path(data_dir, node.id))
    if layout.format == "parquet":
        return fill("read_parquet({p})", p=path)
    types = "{" + ", ".join(f"{lit(c.name)}: {lit(SQL_TYPES[c.type])}" for c in node.written) + "}"
    if layout.format == "csv":
        return fill(
            "read_csv({p}, header = true, auto_detect = false, allow_quoted_nulls = false, columns = {c})",
            p=path,
            c=Sql(types),
        )
    return fill("read_json({p}, format = 'newline_delimited', columns = {c})", p=path, c=Sql(types))


def _setup_statements(dataset: Dataset, data_dir: str, layout: Layout) -> list[tuple[str | None, str]]:
    """(table or None, statement): the attached database file if any, then :func:`_views`."""
    stmts: list[tuple[str | None, str]] = []
    if layout.format == "duckdb":
        database = lit(_join_path(data_dir, layout.files[dataset.nodes[0].id]))
        stmts.append((None, f"ATTACH IF NOT EXISTS {database} AS {DATABASE_ALIAS} (READ_ONLY);"))
    metadata = (
        fill(
            "SELECT CAST(content AS JSON) AS doc FROM read_text({p})",
            p=lit(_join_path(data_dir, METADATA_FILE)),
        )
        if layout.has_metadata
        else Sql("SELECT CAST(NULL AS JSON) AS doc")
    )
    sources = {n.id: _source(n, layout, data_dir) for n in dataset.nodes}
    return stmts + _views(dataset, sources, metadata)


def _setup_sql(dataset: Dataset, data_dir: str, layout: Layout) -> str:
    return "\n".join(stmt for _, stmt in _setup_statements(dataset, data_dir, layout))


def _metadata(meta: Path) -> dict[str, Any] | None:
    """The build's ``.metadata.json``, None when absent; UsageError when unreadable."""
    if not meta.exists():
        return None
    try:
        doc = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(
            f"{meta}: not readable JSON ({e}); rebuild the dataset or delete the file."
        ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("tables"), dict):
        raise UsageError(f'{meta}: has no "tables" object; rebuild the dataset or delete the file.')
    return doc


def _layout(dataset: Dataset, data_dir: Path) -> Layout:
    """The build's format and files: from ``.metadata.json`` when it records them, else from
    the files found (``<table>.parquet``, ``.csv``, ``.jsonl``, maybe compressed, a folder of
    parts ``<table>/part-*.<ext>``, or one ``.duckdb`` file). ``data_dir`` may be the ``.duckdb``
    file itself."""
    if data_dir.is_file():
        if data_dir.suffix != ".duckdb":
            raise UsageError(
                f"{data_dir}: not a folder nor a .duckdb file; give what dgsql build wrote (--data-dir)."
            )
        doc = _metadata(data_dir.parent / METADATA_FILE)
        recorded = (
            doc is not None
            and doc.get("format") == "duckdb"
            and all(isinstance(t, dict) and t.get("file") == data_dir.name for t in doc["tables"].values())
        )
        files = {n.id: data_dir.name for n in dataset.nodes}
        return Layout(data_dir.parent, "duckdb", files, has_metadata=recorded)
    doc = _metadata(data_dir / METADATA_FILE)
    fmt = doc.get("format") if doc is not None else None
    if fmt in FORMAT_NAMES and doc is not None:
        recorded = {name: t.get("file") for name, t in doc["tables"].items() if isinstance(t, dict)}
        files = {
            n.id: str(recorded.get(n.id) or _default_file(n.id, str(fmt), dataset)) for n in dataset.nodes
        }
        return Layout(data_dir, str(fmt), files, has_metadata=True)
    databases = sorted(p.name for p in data_dir.glob("*.duckdb"))
    found: dict[str, str] = {}
    formats: set[str] = set()
    for node in dataset.nodes:
        for fmt_name, endings in EXTENSIONS.items():
            hit = next((f"{node.id}.{e}" for e in endings if (data_dir / f"{node.id}.{e}").is_file()), None)
            # or a folder of parts (docs/parts.md), read as one table in part order
            parts = (f"{node.id}/part-*.{e}" for e in endings if any(data_dir.glob(f"{node.id}/part-*.{e}")))
            hit = hit or next(parts, None)
            if hit:
                found[node.id] = hit
                formats.add(fmt_name)
                break
    if not found and len(databases) == 1:
        return Layout(data_dir, "duckdb", {n.id: databases[0] for n in dataset.nodes}, doc is not None)
    fmt = formats.pop() if len(formats) == 1 else "parquet"
    files = {n.id: found.get(n.id, f"{n.id}.parquet") for n in dataset.nodes}
    return Layout(data_dir, fmt, files, has_metadata=doc is not None)


def _default_file(table_id: str, fmt: str, dataset: Dataset) -> str:
    if fmt == "duckdb":
        return database_file(dataset.metadata.name)
    return f"{table_id}.{fmt}"


def _check_files(dataset: Dataset, data_dir: Path) -> Layout:
    """Raise UsageError for a missing folder or table file; the build's layout."""
    if not data_dir.exists():
        raise UsageError(f"{data_dir}: no such folder; give the folder dgsql build wrote (--data-dir).")
    layout = _layout(dataset, data_dir)
    files = (
        sorted(set(layout.files.values()))
        if layout.format == "duckdb"
        else [layout.files[n.id] for n in dataset.nodes]
    )
    missing = [f for f in files if not _present(layout.folder, f)]
    if missing:
        lines = [
            f"{layout.folder / f}: missing; build the dataset into {layout.folder} or point --data-dir at it."
            for f in missing
        ]
        raise UsageError("\n".join(lines))
    return layout


def _present(folder: Path, file: str) -> bool:
    """Whether ``file`` is there: a file, or a pattern of part files (``<table>/part-*.parquet``)
    matching at least one."""
    return any(folder.glob(file)) if "*" in file else (folder / file).is_file()


def open_build(con: duckdb.DuckDBPyConnection, dataset: Dataset, data_dir: Path) -> dict[str, Sql]:
    """The build in ``data_dir`` (any format it writes, part folders, or a ``.duckdb`` file) as
    one view per table in session ``con``: each table's relation as SQL. The one reader of a
    build's folder, shared by the checks and the loaders. Raises :class:`UsageError` as
    :func:`validate` does."""
    _setup(con, dataset, _check_files(dataset, Path(data_dir)))
    return {node.id: table(node.id) for node in dataset.nodes}


def _setup(con: duckdb.DuckDBPyConnection, dataset: Dataset, layout: Layout) -> None:
    """Create the views and the metadata macro; an unreadable table file is a UsageError."""
    unreadable = []
    engine_error = None
    what = FORMAT_NAMES[layout.format]
    for table_id, stmt in _setup_statements(dataset, str(layout.folder.resolve()), layout):
        try:
            con.execute(stmt)
            if table_id is not None:  # DuckDB reads a file's footer when the view is bound
                con.execute(f"SELECT * FROM {table(table_id)} LIMIT 0").fetchall()
        except duckdb.Error as e:
            if table_id is None:
                if stmt.startswith("ATTACH"):
                    path = layout.folder / layout.files[dataset.nodes[0].id]
                    unreadable.append(
                        f"{path}: not a readable {what} file ({_error_text(e)}); rebuild the dataset."
                    )
                    break
                engine_error = engine_error or e
                continue
            path = layout.folder / layout.files[table_id]
            unreadable.append(f"{path}: not a readable {what} file ({_error_text(e)}); rebuild the dataset.")
    if unreadable:
        raise UsageError("\n".join(unreadable))
    if engine_error is not None:
        raise EngineError(
            f"DuckDB could not prepare the checks: {_error_text(engine_error)}"
        ) from engine_error


# ------------------------------------------------------------------- run


def _error_text(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def _run(con: duckdb.DuckDBPyConnection, check: CheckSpec, has_metadata: bool) -> CheckResult:
    started = time.perf_counter()
    if check.sql is None:
        return CheckResult(check, Status.NOT_EVALUATED, detail={"reason": check.reason})
    if check.uses_metadata and not has_metadata:
        return CheckResult(
            check, Status.NOT_EVALUATED, detail={"reason": f"no {METADATA_FILE} in the data folder"}
        )
    try:
        if check.mode == "stat":
            result = _run_stat(con, check)
        else:
            result = _run_rows(con, check)
    except duckdb.Error as e:
        result = CheckResult(check, Status.NOT_EVALUATED, detail={"error": _error_text(e)})
    result.seconds = time.perf_counter() - started
    return result


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _run_rows(con: duckdb.DuckDBPyConnection, check: CheckSpec) -> CheckResult:
    (violations,) = con.execute(f"SELECT count(*) FROM (\n{check.sql}\n) AS failing").fetchone()
    if violations == 0:
        return CheckResult(check, Status.PASSED, violations=0)
    examples = _rows(con, f"SELECT * FROM (\n{check.sql}\n) AS failing ORDER BY ALL LIMIT {EXAMPLES}")
    return CheckResult(check, Status.FAILED, violations=int(violations), examples=examples)


def _run_stat(con: duckdb.DuckDBPyConnection, check: CheckSpec) -> CheckResult:
    rows = _rows(con, check.sql)
    if len(rows) != 1:
        return CheckResult(
            check, Status.NOT_EVALUATED, detail={"error": f"the statistic returned {len(rows)} rows"}
        )
    detail = {k: json_value(v) for k, v in rows[0].items()}
    ok = detail.pop("ok", None)
    if ok is None:
        detail.setdefault("reason", "too few rows for this statistic")
        return CheckResult(check, Status.NOT_EVALUATED, detail=detail)
    return CheckResult(
        check, Status.PASSED if ok else Status.FAILED, violations=0 if ok else 1, detail=detail
    )


def _profile(con: duckdb.DuckDBPyConnection, dataset: Dataset) -> dict[str, dict[str, Any]]:
    """Rows, column types and the share of NULLs per column of every table."""
    out: dict[str, dict[str, Any]] = {}
    for node in dataset.nodes:
        t = table(node.id)
        cols = [(name, typ) for name, typ, *_ in con.execute(f"DESCRIBE {t}").fetchall()]
        counts = ", ".join(["count(*)"] + [f"count({ident(name)})" for name, _ in cols])
        values = con.execute(f"SELECT {counts} FROM {t}").fetchone()
        rows = int(values[0])
        out[node.id] = {
            "rows": rows,
            "columns": dict(cols),
            "null_share": {
                name: (1 - values[i + 1] / rows) if rows else 0.0 for i, (name, _) in enumerate(cols)
            },
        }
    return out


# ---------------------------------------------------------------- script

ROWS_STATEMENT = """\
WITH failing AS MATERIALIZED (
{sql}
)
SELECT {id} AS "check", {kind} AS kind, {target} AS target,
  CASE WHEN count(*) = 0 THEN 'PASSED' ELSE 'FAILED' END AS status, count(*) AS violations,
  (SELECT CAST(to_json(f) AS VARCHAR) FROM failing AS f ORDER BY ALL LIMIT 1) AS detail
FROM failing;"""

STAT_STATEMENT = """\
SELECT {id} AS "check", {kind} AS kind, {target} AS target,
  CASE WHEN s.ok THEN 'PASSED' WHEN NOT s.ok THEN 'FAILED' ELSE 'NOT_EVALUATED' END AS status,
  CASE WHEN s.ok THEN 0 WHEN NOT s.ok THEN 1 END AS violations,
  CAST(to_json(s) AS VARCHAR) AS detail
FROM (
{sql}
) AS s;"""

SKIPPED_STATEMENT = """\
SELECT {id} AS "check", {kind} AS kind, {target} AS target, 'NOT_EVALUATED' AS status,
  CAST(NULL AS BIGINT) AS violations, {reason} AS detail;"""


def _script_statement(check: CheckSpec) -> str:
    parts = {"id": lit(check.id), "kind": lit(check.kind), "target": lit(check.target)}
    if check.sql is None:
        return fill(SKIPPED_STATEMENT, reason=lit(check.reason or ""), **parts)
    template = STAT_STATEMENT if check.mode == "stat" else ROWS_STATEMENT
    return fill(template, sql=check.sql, **parts)
