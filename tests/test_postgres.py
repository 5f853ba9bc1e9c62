"""Loading into PostgreSQL (``dgsql load``, ``dgsql build --to``), against a real server.

A throw-away server is started once per session (``postgres_server.py``): on 127.0.0.1, a free
port, as ``nobody`` when the tests run as root. Without PostgreSQL binaries or psycopg the tests
skip, saying why; in CI (env ``CI`` set) they fail instead.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

import postgres_server
from dgsql.compiler import load as load_schema
from dgsql.compiler.checks import compile_checks
from dgsql.errors import UsageError
from dgsql.runtime import postgres as P

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))


def _unavailable(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI runs the PostgreSQL load tests, but: {why}")
    pytest.skip(f"no PostgreSQL server for the load tests: {why}")


@pytest.fixture(scope="session")
def server() -> Iterator[postgres_server.PgServer]:
    if P.psycopg is None:
        _unavailable("psycopg is not installed (pip install -e '.[test]')")
    try:
        found = postgres_server.start()
    except postgres_server.Unavailable as e:
        _unavailable(str(e))
    yield found
    found.stop()


# ------------------------------------------------------------------ helpers


def query(server: postgres_server.PgServer, sql: Any, params: list[Any] | None = None) -> list[tuple]:
    with P.psycopg.connect(server.url(), autocommit=True) as con:
        cur = con.execute(sql, params or [])
        return cur.fetchall() if cur.description else []


def name(schema: str, table: str) -> Any:
    return P.sql.SQL("{}.{}").format(P.sql.Identifier(schema), P.sql.Identifier(table))


def pg_rows(server: postgres_server.PgServer, schema: str, table: str, columns: list[str]) -> list[tuple]:
    """The table's rows in physical order (a fresh COPY keeps the file's order)."""
    cols = P.sql.SQL(", ").join(P.sql.Identifier(c) for c in columns)
    return query(server, P.sql.SQL("SELECT {} FROM {} ORDER BY ctid").format(cols, name(schema, table)))


def file_rows(path: Path) -> tuple[list[str], list[tuple]]:
    rel = duckdb.connect().read_parquet(str(path))
    return rel.columns, rel.fetchall()


def tables_of(server: postgres_server.PgServer, schema: str) -> set[str]:
    rows = query(server, "SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
    return {r[0] for r in rows}


def constraints(server: postgres_server.PgServer, schema: str) -> set[tuple]:
    """(table, kind p/u/f, columns, referenced table, referenced columns) of every constraint."""
    rows = query(
        server,
        """SELECT c.conrelid::regclass::text, c.contype,
                  (SELECT array_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
                    WHERE a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)),
                  (SELECT relname FROM pg_class WHERE oid = c.confrelid),
                  (SELECT array_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
                    WHERE a.attrelid = c.confrelid AND a.attnum = ANY(c.confkey))
           FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
           WHERE n.nspname = %s AND c.contype IN ('p', 'u', 'f')""",
        [schema],
    )
    return {(t.rsplit(".", 1)[-1].strip('"'), k, tuple(cs), rt, tuple(rc or ())) for t, k, cs, rt, rc in rows}


def foreign_keys(server: postgres_server.PgServer, schema: str) -> set[tuple[str, str, str, str]]:
    """(table, column, referenced table, referenced column), read by relation oid (names may be hostile)."""
    rows = query(
        server,
        """SELECT t.relname, a.attname, rt.relname, ra.attname
           FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
           JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class rt ON rt.oid = c.confrelid
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
           JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1]
           WHERE n.nspname = %s AND c.contype = 'f'""",
        [schema],
    )
    return set(rows)


def primary_keys(server: postgres_server.PgServer, schema: str) -> dict[str, str]:
    rows = query(
        server,
        """SELECT t.relname, a.attname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
           JOIN pg_class t ON t.oid = c.conrelid
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
           WHERE n.nspname = %s AND c.contype = 'p'""",
        [schema],
    )
    return dict(rows)


def orphans(server: postgres_server.PgServer, schema: str, fk: tuple[str, str, str, str]) -> int:
    table, column, ref_table, ref_column = fk
    sql = P.sql.SQL(
        "SELECT count(*) FROM {} AS c WHERE c.{} IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM {} AS p WHERE p.{} = c.{})"
    ).format(
        name(schema, table),
        P.sql.Identifier(column),
        name(schema, ref_table),
        P.sql.Identifier(ref_column),
        P.sql.Identifier(column),
    )
    return query(server, sql)[0][0]


def snapshot(server: postgres_server.PgServer, schema: str) -> dict[str, Any]:
    """Everything a failed load must leave as it was: tables, their rows in order, constraints."""
    out: dict[str, Any] = {"constraints": constraints(server, schema)}
    for table in sorted(tables_of(server, schema)):
        out[table] = query(
            server, P.sql.SQL("SELECT t::text FROM {} AS t ORDER BY ctid").format(name(schema, table))
        )
    return out


def staging_schemas(server: postgres_server.PgServer) -> list[str]:
    rows = query(server, "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", [P.STAGING_PREFIX + "%"])
    return [r[0] for r in rows]


def assert_loaded_as_files(server: postgres_server.PgServer, schema: str, out: Path, dataset: Any) -> None:
    """Every table holds its file's rows, in the file's order, with the mapped types; ANALYZE ran."""
    assert tables_of(server, schema) == {n.id for n in dataset.nodes}
    for node in dataset.nodes:
        columns, rows = file_rows(out / f"{node.id}.parquet")
        assert columns == [c.name for c in node.written]
        assert pg_rows(server, schema, node.id, columns) == rows, node.id
        types = query(
            server,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            [schema, node.id],
        )
        expected = {"timestamp": "timestamp without time zone"}
        assert types == [(c.name, expected.get(P.PG_TYPES[c.type], P.PG_TYPES[c.type])) for c in node.written]
        if rows:
            stats = query(
                server,
                "SELECT count(*) FROM pg_stats WHERE schemaname = %s AND tablename = %s",
                [schema, node.id],
            )
            assert stats[0][0] > 0, f"{node.id} was not analyzed"


def validate_foreign_keys(dataset: Any) -> set[tuple[str, str, str, str]]:
    """What validate's foreign-key checks cover, as (table, column, table, column)."""
    out = set()
    for check in compile_checks(dataset):
        if check.kind == "foreign_key" and check.sql is not None:
            t, c = check.target.split(".", 1)
            rt, rc = str(check.expect["references"]).split(".", 1)
            out.add((t, c, rt, rc))
    return out


# ------------------------------------------------------------------ loads


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_examples_load_with_keys_and_the_files_rows(server, dg, tmp_path: Path, example: Path) -> None:
    out = tmp_path / "out"
    schema = f"ex_{example.stem}"
    result = dg.cli("build", example, "--sample", 300, "-o", out, "--to", server.url(), "--pg-schema", schema)
    assert result.exit_code == 0, result.stderr
    dataset = load_schema(example)[0]
    assert_loaded_as_files(server, schema, out, dataset)
    pks = {n.id: n.pk for n in dataset.nodes if n.pk}
    assert primary_keys(server, schema) == pks
    fks = foreign_keys(server, schema)
    declared = {(*f.from_.split("."), *f.to.split(".")) for f in dataset.constraints.foreign_keys}
    assert fks == validate_foreign_keys(dataset) == declared  # never an `on` lookup
    for fk in fks:
        assert orphans(server, schema, fk) == 0
    assert staging_schemas(server) == []
    assert "rows/s" in result.stderr and "loaded" in result.stderr


@pytest.mark.parametrize(
    "layout", [["--format", "csv"], ["--format", "jsonl"], ["--format", "duckdb"], ["--parts", 3]], ids=str
)
def test_every_format_the_build_writes_loads_the_same_rows(
    server, dg, tmp_path: Path, layout: list[Any]
) -> None:
    """The loader reads a build as validate does: CSV, JSON lines, a .duckdb file, part folders."""
    example = EXAMPLES[0]
    parquet, other = tmp_path / "parquet", tmp_path / "other"
    assert dg.cli("build", example, "--sample", 200, "-o", parquet).exit_code == 0
    assert dg.cli("build", example, "--sample", 200, "-o", other, *layout).exit_code == 0
    schema = "fmt_" + "".join(ch for ch in str(layout[-1]) if ch.isalnum())
    result = dg.cli("load", example, "-d", other, "--to", server.url(), "--pg-schema", schema)
    assert result.exit_code == 0, result.stderr
    dataset = load_schema(example)[0]
    assert_loaded_as_files(server, schema, parquet, dataset)


HOSTILE_TABLES = ['we"ird', "order", "my table", "user", "Mixed Case"]
HOSTILE_COLUMNS = ['x"y', "select", "a b", "ünï", "--", "Group"]
HOSTILE_VALUES = [
    "\\.",
    "\\N",
    "it's",
    'say "hi"',
    "a,b",
    "new\nline",
    "tab\tend",
    " pad ",
    "",
    "NULL",
    "'; DROP TABLE x; --",
]


def hostile_schema(rows: int = 120) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {"id": "only text", "kind": "vocab", "pk": "v",  # one text column: a lone \. line must not end the COPY
         "columns": [{"name": "v", "type": "string", "generator": {"enum_list": {"values": ["\\.", "x", " "]}}}]}
    ]  # fmt: skip
    for t in HOSTILE_TABLES:
        cols: list[dict[str, Any]] = [{"name": "id", "type": "int", "generator": {"sequence": {}}}]
        cols += [
            {"name": c, "type": "string", "generator": {"choice": {"choices": HOSTILE_VALUES}}}
            for c in HOSTILE_COLUMNS
        ]
        cols.append({"name": "maybe", "type": "string", "nullable": True, "null_rate": 0.3,
                     "generator": {"choice": {"choices": ["", "v"]}}})  # fmt: skip
        cols.append({"name": "flag", "type": "bool", "generator": {"choice": {"choices": [True, False]}}})
        cols.append({"name": "at", "type": "datetime",
                     "generator": {"datetime_series": {"within": {"start": "1999-12-31", "end": "2030-01-01"}, "freq": "s"}}})  # fmt: skip
        cols.append({"name": "on", "type": "date",
                     "generator": {"datetime_series": {"within": {"start": "1970-01-01", "end": "2100-01-01"}, "freq": "D"}}})  # fmt: skip
        cols.append({"name": "f", "type": "float",
                     "generator": {"distribution": {"type": "normal", "params": {"mean": 0, "std": 1e6}}}})  # fmt: skip
        nodes.append({"id": t, "kind": "entity", "pk": "id", "rows": rows, "columns": cols})
    nodes.append(
        {"id": "child; DROP", "kind": "fact", "parents": [HOSTILE_TABLES[0]], "pk": "k",
         "fanout": {"distribution": "uniform", "min": 0, "max": 3},
         "columns": [{"name": "k", "type": "int", "generator": {"sequence": {}}},
                     {"name": 'ref "id"', "type": "int", "generator": {"lookup": {"from": f"{HOSTILE_TABLES[0]}.id"}}},
                     {"name": "other", "type": "int", "generator": {"lookup": {"from": f"{HOSTILE_TABLES[1]}.id"}}},
                     {"name": "text", "type": "string", "generator": {"lookup": {"from": "only text.v"}}}]}
    )  # fmt: skip
    return {"version": "1.0", "metadata": {"name": "hostile"}, "nodes": nodes}


def test_hostile_names_and_values_load_intact(server, dg, tmp_path: Path) -> None:
    path = dg.write_schema(hostile_schema(), tmp_path)
    out = dg.build(path, "--seed", 3).path
    schema = 'dg "hostile"; schéma'
    result = dg.cli("load", path, "-d", out, "--to", server.url(), "--pg-schema", schema)
    assert result.exit_code == 0, result.stderr
    dataset = load_schema(path)[0]
    assert_loaded_as_files(server, schema, out, dataset)
    assert primary_keys(server, schema) == {n.id: n.pk for n in dataset.nodes}
    fks = foreign_keys(server, schema)
    assert fks == {
        ("child; DROP", 'ref "id"', 'we"ird', "id"),
        ("child; DROP", "other", "order", "id"),
        ("child; DROP", "text", "only text", "v"),
    }
    assert all(orphans(server, schema, fk) == 0 for fk in fks)
    seen = {
        v
        for (v,) in query(
            server, P.sql.SQL("SELECT {} FROM {}").format(P.sql.Identifier('x"y'), name(schema, "order"))
        )
    }
    assert seen == set(HOSTILE_VALUES)  # \. and \N are text, "" is not NULL
    nulls = query(
        server,
        P.sql.SQL(
            "SELECT count(*) FILTER (WHERE maybe IS NULL), count(*) FILTER (WHERE maybe = '') FROM {}"
        ).format(name(schema, "user")),
    )
    assert nulls[0][0] > 0 and nulls[0][1] > 0  # fmt: skip


def test_fail_when_a_table_exists_changes_nothing(server, dg, tmp_path: Path) -> None:
    example = ROOT / "examples" / "shop_orders.json"
    out = dg.build(example, "--sample", 100).path
    first = dg.cli("load", example, "-d", out, "--to", server.url(), "--pg-schema", "fail_case")
    assert first.exit_code == 0, first.stderr
    before = snapshot(server, "fail_case")
    again = dg.cli("load", example, "-d", out, "--to", server.url(), "--pg-schema", "fail_case")
    assert again.exit_code == 2
    assert "already exist" in again.stderr and "--if-exists replace" in again.stderr
    assert "Nothing was changed" in again.stderr
    assert snapshot(server, "fail_case") == before
    assert staging_schemas(server) == []


def test_replace_swaps_in_the_new_tables(server, dg, tmp_path: Path) -> None:
    example = ROOT / "examples" / "hr_org.json"
    old = dg.build(example, "--sample", 80, "--seed", 1).path
    new = dg.build(example, "--sample", 120, "--seed", 2).path
    dataset = load_schema(example)[0]
    assert dg.cli("load", example, "-d", old, "--to", server.url(), "--pg-schema", "swap").exit_code == 0
    result = dg.cli(
        "load", example, "-d", new, "--to", server.url(), "--pg-schema", "swap", "--if-exists", "replace"
    )
    assert result.exit_code == 0, result.stderr
    assert_loaded_as_files(server, "swap", new, dataset)
    assert len(foreign_keys(server, "swap")) == 3 and len(primary_keys(server, "swap")) == 3
    # a user's view on a table it would drop: PostgreSQL refuses, nothing changes
    query(server, 'CREATE VIEW swap.busy AS SELECT * FROM swap."employee"')
    before = snapshot(server, "swap")
    refused = dg.cli(
        "load", example, "-d", old, "--to", server.url(), "--pg-schema", "swap", "--if-exists", "replace"
    )
    assert refused.exit_code == 2, refused.stderr
    assert "depend" in refused.stderr and "Nothing was changed" in refused.stderr
    assert snapshot(server, "swap") == before
    assert staging_schemas(server) == []


def keyed_schema(start: int, rows: int = 50) -> dict[str, Any]:
    return {
        "version": "1.0",
        "metadata": {"name": "keyed"},
        "nodes": [
            {"id": "parent", "kind": "entity", "pk": "id", "rows": rows,
             "columns": [{"name": "id", "type": "int", "generator": {"sequence": {"start": start}}},
                         {"name": "label", "type": "string", "generator": {"choice": {"choices": ["a", "b"]}}}]},
            {"id": "kid", "kind": "fact", "parents": ["parent"], "pk": "kid_id",
             "fanout": {"distribution": "uniform", "min": 1, "max": 3},
             "columns": [{"name": "kid_id", "type": "int", "generator": {"sequence": {"start": start}}},
                         {"name": "parent_id", "type": "int", "generator": {"lookup": {"from": "parent.id"}}}]},
        ],
    }  # fmt: skip


def test_append_adds_rows_and_keeps_the_keys(server, dg, tmp_path: Path) -> None:
    first_schema = dg.write_schema(keyed_schema(1), dg.workdir())
    second_schema = dg.write_schema(keyed_schema(10_001), dg.workdir())
    first = dg.build(first_schema).path
    second = dg.build(second_schema).path
    url = server.url()
    # append into an empty schema creates the tables, with their keys
    assert (
        dg.cli(
            "load", first_schema, "-d", first, "--to", url, "--pg-schema", "app", "--if-exists", "append"
        ).exit_code
        == 0
    )
    keys = constraints(server, "app")
    assert len(keys) == 3
    counts = {
        t: json.loads((first / ".metadata.json").read_text())["tables"][t]["rows"] for t in ("parent", "kid")
    }
    more = {
        t: json.loads((second / ".metadata.json").read_text())["tables"][t]["rows"] for t in ("parent", "kid")
    }
    result = dg.cli(
        "load", second_schema, "-d", second, "--to", url, "--pg-schema", "app", "--if-exists", "append"
    )
    assert result.exit_code == 0, result.stderr
    assert "appended" in result.stderr
    for t in ("parent", "kid"):
        assert (
            query(server, P.sql.SQL("SELECT count(*) FROM {}").format(name("app", t)))[0][0]
            == counts[t] + more[t]
        )
    assert constraints(server, "app") == keys
    assert orphans(server, "app", ("kid", "parent_id", "parent", "id")) == 0
    # the same rows again break the primary key: refused, nothing changes
    before = snapshot(server, "app")
    again = dg.cli(
        "load", second_schema, "-d", second, "--to", url, "--pg-schema", "app", "--if-exists", "append"
    )
    assert again.exit_code == 2, again.stderr
    assert "duplicate key" in again.stderr and "Nothing was changed" in again.stderr
    assert snapshot(server, "app") == before
    assert staging_schemas(server) == []


@pytest.mark.parametrize("breakage", ["orphan", "duplicate"])
def test_rows_that_break_a_key_change_nothing(server, dg, tmp_path: Path, breakage: str) -> None:
    path = dg.write_schema(keyed_schema(1), dg.workdir())
    good = dg.build(path).path
    schema = f"broken_{breakage}"
    assert dg.cli("load", path, "-d", good, "--to", server.url(), "--pg-schema", schema).exit_code == 0
    before = snapshot(server, schema)
    bad = tmp_path / "bad"
    shutil.copytree(good, bad)
    kid = bad / "kid.parquet"
    change = "parent_id + 1000000 AS parent_id" if breakage == "orphan" else "CAST(1 AS BIGINT) AS kid_id"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * REPLACE ({change}) FROM read_parquet('{good / 'kid.parquet'}')) TO '{kid}'")
    result = dg.cli(
        "load", path, "-d", bad, "--to", server.url(), "--pg-schema", schema, "--if-exists", "replace"
    )
    assert result.exit_code == 2, result.stderr
    assert ("foreign key" if breakage == "orphan" else "is duplicated") in result.stderr
    assert "Nothing was changed" in result.stderr
    assert snapshot(server, schema) == before
    assert staging_schemas(server) == []


BIG_ROWS = 1_500_000


@pytest.fixture(scope="module")
def big(dg) -> tuple[Path, Path, Path]:
    """(schema, a small build, a big build) of one schema: the big table's COPY takes seconds."""
    doc = {
        "version": "1.0",
        "metadata": {"name": "big"},
        "nodes": [
            {"id": "small", "kind": "entity", "pk": "id", "rows": 10,
             "columns": [{"name": "id", "type": "int", "generator": {"sequence": {}}}]},
            {"id": "big", "kind": "entity", "pk": "id", "rows": BIG_ROWS,
             "columns": [{"name": "id", "type": "int", "generator": {"sequence": {}}},
                         {"name": "s", "type": "int", "generator": {"lookup": {"from": "small.id"}}},
                         {"name": "t", "type": "string", "generator": {"choice": {"choices": ["alpha", "beta"]}}},
                         {"name": "x", "type": "float", "generator": {"distribution": {"type": "uniform", "params": {"low": 0, "high": 1}}}}]},
        ],
    }  # fmt: skip
    path = dg.write_schema(doc, dg.workdir())
    small = dg.build(path, "--sample", 150).path
    large = dg.build(path).path
    return path, small, large


def _wait_for_copy_of(server: postgres_server.PgServer, table: str, deadline: float) -> int:
    """The pid of the backend copying ``table`` for a running load."""
    while time.monotonic() < deadline:
        rows = query(
            server,
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'dgsql load' AND state = 'active' "
            "AND query LIKE %s",
            [f'COPY %."{table}"%'],
        )
        if rows:
            return rows[0][0]
        time.sleep(0.01)
    raise AssertionError(f"no COPY of {table!r} seen")


def _wait_until_gone(server: postgres_server.PgServer, deadline: float) -> None:
    while time.monotonic() < deadline:
        if not query(server, "SELECT 1 FROM pg_stat_activity WHERE application_name = 'dgsql load'"):
            return
        time.sleep(0.02)
    raise AssertionError("the load's backend is still there")


def _default_sigint() -> None:
    """A process started in the background may inherit SIGINT ignored; Python then never turns
    Ctrl-C into KeyboardInterrupt. The child gets the default, as a terminal would give it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("how", ["terminate the backend", "ctrl-c", "kill -9"])
def test_an_interrupted_load_changes_nothing(server, big, how: str) -> None:
    path, small, large = big
    schema = "interrupted_" + how.split()[0].replace("-", "")
    base = [sys.executable, "-m", "dgsql.cli", "load", str(path), "--to", server.url(), "--pg-schema", schema]
    done = subprocess.run([*base, "-d", str(small)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    before = snapshot(server, schema)
    proc = subprocess.Popen(
        [*base, "-d", str(large), "--if-exists", "replace"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=_default_sigint,
    )  # fmt: skip
    try:
        pid = _wait_for_copy_of(server, "big", time.monotonic() + 60)
        time.sleep(0.2)  # well inside the COPY
        if how == "terminate the backend":
            query(server, "SELECT pg_terminate_backend(%s)", [pid])
        elif how == "ctrl-c":
            proc.send_signal(signal.SIGINT)
        else:
            proc.kill()
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    if how == "terminate the backend":
        assert proc.returncode == 3, stderr
        assert "Nothing was changed" in stderr and server.password not in stderr
    elif how == "ctrl-c":
        assert proc.returncode == 130, stderr
    else:
        assert proc.returncode == -signal.SIGKILL
    _wait_until_gone(server, time.monotonic() + 30)
    assert snapshot(server, schema) == before
    assert staging_schemas(server) == []


# ------------------------------------------------------------------ the password, build --to


def test_the_password_is_never_printed(server, dg, tmp_path: Path) -> None:
    example = ROOT / "examples" / "hr_org.json"
    out = dg.build(example, "--sample", 20).path
    wrong = dg.cli("--debug", "load", example, "-d", out, "--to", server.url(password="s3cr3t-Wrong"))
    assert wrong.exit_code == 3
    assert "password authentication failed" in wrong.stderr
    assert "s3cr3t-Wrong" not in wrong.stderr + wrong.stdout and "***" in wrong.stderr
    ok = dg.cli("load", example, "-d", out, "--to", server.url(), "--pg-schema", "pw")
    again = dg.cli("--debug", "load", example, "-d", out, "--to", server.url(), "--pg-schema", "pw")
    assert ok.exit_code == 0 and again.exit_code == 2
    for result in (ok, again):
        assert server.password not in result.stderr + result.stdout
        assert "postgres:***@127.0.0.1" in result.stderr


def test_masked_urls() -> None:
    t = P.parse_target("postgresql://me:p%40ss%2Fw0rd@db.example:5432/app?sslmode=require&password=other")
    assert t.shown == "postgresql://me:***@db.example:5432/app?sslmode=require&password=***"
    for text in ("p@ss/w0rd", "p%40ss%2Fw0rd", "other"):
        assert t.scrub(f"a {text} b") == "a *** b"
    assert P.parse_target("postgresql://me@host/app").shown == "postgresql://me@host/app"
    assert "p@ss" not in repr(t)
    for url in ("mysql://me:secret@host/app", "host=db password=secret"):
        with pytest.raises(UsageError, match="not a PostgreSQL URL") as raised:
            P.parse_target(url)
        assert "secret" not in str(raised.value)


def test_build_to_without_out_dir_keeps_no_files(server, dg, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    example = ROOT / "examples" / "iot_sensors.json"
    result = dg.cli("build", example, "--sample", 30, "--to", server.url(), "--pg-schema", "no_files")
    assert result.exit_code == 0, result.stderr
    assert list(tmp_path.iterdir()) == []
    wrote = next(line for line in result.stderr.splitlines() if line.startswith("wrote "))
    assert not Path(wrote.removeprefix("wrote ").strip()).exists()
    assert tables_of(server, "no_files") == {"device_model", "site", "device", "reading"}


# ------------------------------------------------------------------ no server needed


def test_foreign_keys_are_validates_and_never_an_on_lookup() -> None:
    doc = keyed_schema(1)
    doc["nodes"][0]["columns"].append(
        {"name": "code", "type": "string", "generator": {"choice": {"choices": ["x", "y"]}}}
    )
    doc["nodes"][1]["columns"].append(
        {
            "name": "label",
            "type": "string",
            "generator": {"lookup": {"from": "parent.label", "on": {"parent_id": "id"}}},
        }
    )
    doc["nodes"][1]["columns"].append(
        {"name": "code", "type": "string", "generator": {"choice": {"choices": ["x"]}}}
    )
    doc["constraints"] = {"foreign_keys": [{"from": "kid.code", "to": "parent.code"}]}
    dataset = load_schema(doc)[0]
    plan = P.load_plan(dataset)
    assert {str(fk) for fk in plan.foreign_keys} == {"kid.parent_id->parent.id"}
    assert [n.split(":")[0] for n in plan.notes] == ["kid.code->parent.code"]  # not unique: a note, no key
    doc["constraints"]["unique"] = ["parent.code"]
    plan = P.load_plan(load_schema(doc)[0])
    assert {str(fk) for fk in plan.foreign_keys} == {"kid.parent_id->parent.id", "kid.code->parent.code"}
    assert plan.unique == (("parent", "code"),)
    assert [t.name for t in plan.tables] == ["parent", "kid"]


def test_long_names_are_refused_before_connecting(dg, tmp_path: Path) -> None:
    doc = keyed_schema(1)
    doc["nodes"][0]["columns"][1]["name"] = "é" * 32  # 64 bytes
    path = dg.write_schema(doc, tmp_path)
    out = dg.build(path).path
    result = dg.cli("load", path, "-d", out, "--to", "postgresql://me:pw@127.0.0.1:1/x")
    assert result.exit_code == 2, result.stderr
    assert result.errors == [
        f"nodes[0].columns[1].name: {'é' * 32!r} is 64 bytes; PostgreSQL names hold at most 63; shorten it."
    ]


def test_statements_quote_every_name() -> None:
    if P.psycopg is None:
        _unavailable("psycopg is not installed (pip install -e '.[test]')")
    table = P.PgTable('we"ird', (('x"y', "text"), ("select", "bigint")), "select", ('x"y',))
    assert P.create_statement("my schema", table).as_string(None) == (
        'CREATE TABLE "my schema"."we""ird" ("x""y" text, "select" bigint)'
    )
    assert P.copy_statement("s", table, freeze=True).as_string(None) == (
        'COPY "s"."we""ird" ("x""y", "select") FROM STDIN (FORMAT csv, FREEZE)'
    )


def test_the_python_api_loads_as_the_command_does(server, tmp_path: Path) -> None:
    import dgsql

    example = ROOT / "examples" / "hr_org.json"
    out = tmp_path / "hr"
    dgsql.build(example, out, scale=0.05)
    result = dgsql.load(example, out, server.url(), pg_schema="api_case")
    assert [t.name for t in result.tables] == ["department", "employee", "leave_request"]
    for table in result.tables:
        columns, rows = file_rows(out / f"{table.name}.parquet")
        assert pg_rows(server, "api_case", table.name, columns) == rows
        assert table.rows == len(rows)
    with pytest.raises(dgsql.DgsqlError, match="already exist"):
        dgsql.load(example, out, server.url(), pg_schema="api_case")
    assert dgsql.load(example, out, server.url(), pg_schema="api_case", if_exists="replace").tables
