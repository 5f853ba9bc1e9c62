"""Run a dataset's checks over the Parquet files of a build, in one DuckDB session.

Each table is a view ``dg_check."<table>"`` over ``read_parquet('<dir>/<table>.parquet')`` and
``.metadata.json`` is read by the ``dg_check_metadata()`` macro, so the checks' SQL is the same
here and in the script :func:`checks_script` prints for the DuckDB CLI.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from dgsql.compiler.checks import compile_checks
from dgsql.compiler.checks.spec import CheckSpec
from dgsql.compiler.checks.views import METADATA_MACRO, SCHEMA, table
from dgsql.compiler.sqltext import Sql, fill, ident, lit
from dgsql.dsl.model import Dataset
from dgsql.errors import EngineError, UsageError
from dgsql.runtime.report import CheckResult, Report, Status, json_value

METADATA_FILE = ".metadata.json"
EXAMPLES = 3


def validate(dataset: Dataset, data_dir: Path, *, con: duckdb.DuckDBPyConnection | None = None) -> Report:
    """Check the files in ``data_dir`` against ``dataset``.

    ``con``: run in this session (e.g. the build's) instead of a new in-memory one; the views
    and macro this function creates are dropped again before it returns.
    Raises :class:`UsageError` for a missing folder or table file, an unreadable Parquet file or
    an unreadable ``.metadata.json``.
    """
    data_dir = Path(data_dir)
    has_metadata = _check_files(dataset, data_dir)
    own = con is None
    session = duckdb.connect() if con is None else con

    def setup() -> None:
        _setup(session, dataset, data_dir, has_metadata)

    return _check(dataset, session, setup, has_metadata, str(data_dir), own=own)


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
    stmts = [f"CREATE SCHEMA IF NOT EXISTS {SCHEMA};"]
    stmts += [
        fill("CREATE OR REPLACE VIEW {t} AS SELECT * FROM {r};", t=table(n.id), r=Sql(relations[n.id]))
        for n in dataset.nodes
    ]
    if metadata is not None:
        body = fill("SELECT CAST({d} AS JSON) AS doc", d=lit(json.dumps(metadata)))
    else:
        body = Sql("SELECT CAST(NULL AS JSON) AS doc")
    stmts.append(f"CREATE OR REPLACE TEMP MACRO {METADATA_MACRO}() AS TABLE {body};")
    return stmts


def _check(
    dataset: Dataset,
    session: duckdb.DuckDBPyConnection,
    setup: Callable[[], None],
    has_metadata: bool,
    data_dir: str,
    *,
    own: bool,
) -> Report:
    started = time.perf_counter()
    checks = compile_checks(dataset)
    try:
        setup()
        results = [_run(session, c, has_metadata) for c in checks]
        tables = _profile(session, dataset)
    finally:
        try:
            session.execute(
                f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; DROP MACRO TABLE IF EXISTS {METADATA_MACRO};"
            )
        except duckdb.Error:
            pass
        if own:
            session.close()
    return Report(
        dataset=dataset.metadata.name,
        data_dir=data_dir,
        results=results,
        tables=tables,
        seconds=time.perf_counter() - started,
    )


def checks_script(dataset: Dataset, data_dir: str) -> str:
    """One SQL script for the stock DuckDB CLI (``duckdb -c ".read checks.sql"``) that prints one
    result row per check: check, kind, target, status, violations, detail (the first failing
    row, or the statistic, as JSON). ``data_dir`` is written into the paths as given, so a
    relative one is read relative to the folder the CLI runs in."""
    checks = compile_checks(dataset)
    lines = [
        f"-- dgsql validate --sql: {len(checks)} checks of dataset {dataset.metadata.name!r}",
        '-- Run: duckdb -c ".read checks.sql" (stops at the first error) or duckdb < checks.sql',
        "-- Each check prints one row: check, kind, target, status, violations, detail.",
        _setup_sql(dataset, data_dir, has_metadata=True),
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


def _setup_statements(dataset: Dataset, data_dir: str, has_metadata: bool) -> list[tuple[str | None, str]]:
    """(table or None, statement): the schema, one view per table, the metadata macro."""
    stmts: list[tuple[str | None, str]] = [(None, f"CREATE SCHEMA IF NOT EXISTS {SCHEMA};")]
    for node in dataset.nodes:
        path = lit(_join_path(data_dir, f"{node.id}.parquet"))
        view = fill(
            "CREATE OR REPLACE VIEW {t} AS SELECT * FROM read_parquet({p});", t=table(node.id), p=path
        )
        stmts.append((node.id, view))
    if has_metadata:
        body = fill(
            "SELECT CAST(content AS JSON) AS doc FROM read_text({p})",
            p=lit(_join_path(data_dir, METADATA_FILE)),
        )
    else:
        body = Sql("SELECT CAST(NULL AS JSON) AS doc")
    stmts.append((None, f"CREATE OR REPLACE TEMP MACRO {METADATA_MACRO}() AS TABLE {body};"))
    return stmts


def _setup_sql(dataset: Dataset, data_dir: str, has_metadata: bool) -> str:
    return "\n".join(stmt for _, stmt in _setup_statements(dataset, data_dir, has_metadata))


def _check_files(dataset: Dataset, data_dir: Path) -> bool:
    """Raise UsageError for a missing folder or table file; say whether metadata exists."""
    if not data_dir.exists():
        raise UsageError(f"{data_dir}: no such folder; give the folder dgsql build wrote (--data-dir).")
    if not data_dir.is_dir():
        raise UsageError(f"{data_dir}: not a folder; give the folder dgsql build wrote (--data-dir).")
    missing = [n.id for n in dataset.nodes if not (data_dir / f"{n.id}.parquet").is_file()]
    if missing:
        lines = [
            f"{data_dir / (t + '.parquet')}: missing; build the dataset into {data_dir} or point --data-dir at it."
            for t in missing
        ]
        raise UsageError("\n".join(lines))
    meta = data_dir / METADATA_FILE
    if not meta.exists():
        return False
    try:
        doc = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(
            f"{meta}: not readable JSON ({e}); rebuild the dataset or delete the file."
        ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("tables"), dict):
        raise UsageError(f'{meta}: has no "tables" object; rebuild the dataset or delete the file.')
    return True


def _setup(con: duckdb.DuckDBPyConnection, dataset: Dataset, data_dir: Path, has_metadata: bool) -> None:
    """Create the views and the metadata macro; an unreadable table file is a UsageError."""
    unreadable = []
    engine_error = None
    for table_id, stmt in _setup_statements(dataset, str(data_dir.resolve()), has_metadata):
        try:
            con.execute(stmt)
            if table_id is not None:  # DuckDB reads a file's footer when the view is bound
                con.execute(f"SELECT * FROM {table(table_id)} LIMIT 0").fetchall()
        except duckdb.Error as e:
            if table_id is None:
                engine_error = engine_error or e
                continue
            path = data_dir / f"{table_id}.parquet"
            unreadable.append(f"{path}: not a readable Parquet file ({_error_text(e)}); rebuild the dataset.")
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
