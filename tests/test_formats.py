"""Output formats (``--format parquet|csv|jsonl|duckdb``, ``emit-sql --into-db``): every format
holds the rows of the Parquet build, typed back as declared; validate reads each; the stock
DuckDB CLI running the emitted script writes the same."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import pytest

EXAMPLE = Path(__file__).parent.parent / "examples" / "shop_orders.json"
FORMATS = ("parquet", "csv", "jsonl", "duckdb")
TRICKY = ["plain", "a,b", 'say "hi"', "two\nlines", "", " padded ", "naïve ☃"]


def tricky_schema(dg) -> dict:
    c = dg.col
    users = dg.entity(
        "users",
        c("id", "int", dg.seq()),
        c("label", "string", {"choice": {"choices": TRICKY}}),
        c("score", "float", {"distribution": {"type": "normal", "params": {"mean": 0, "std": 1}}}),
        c("flag", "bool", {"choice": {"choices": [True, False]}}),
        pk="id",
        rows=200,
    )
    events = dg.fact(
        "events",
        ["users"],
        c("event_id", "int", dg.seq()),
        c("user_id", "int", {"lookup": {"from": "users.id"}}),
        c("label", "string", {"lookup": {"from": "users.label", "on": {"user_id": "id"}}}),
        pk="event_id",
        fanout={"distribution": "uniform", "min": 0, "max": 3},
    )
    return dg.schema(users, events, name="tricky")


def read_rows(path: Path) -> dict[str, list[tuple]]:
    """Every table of a build (folder or .duckdb file) in file order, read back with the column
    types ``.metadata.json`` declares (DuckDB's readers)."""
    con = duckdb.connect()
    if path.is_file():
        con.execute(f"ATTACH '{path}' AS db (READ_ONLY)")
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'db'"
            ).fetchall()
        ]
        return {t: con.execute(f'SELECT * FROM db.main."{t}"').fetchall() for t in sorted(tables)}
    meta = json.loads((path / ".metadata.json").read_text())
    fmt = meta["format"]
    out = {}
    for name, t in meta["tables"].items():
        file = str(path / t["file"])
        types = "{" + ", ".join(f"'{c['name']}': '{c['sql_type']}'" for c in t["columns"]) + "}"
        if fmt == "duckdb":
            return read_rows(path / t["file"])
        reader = {
            "parquet": f"read_parquet('{file}')",
            "csv": f"read_csv('{file}', header = true, auto_detect = false, allow_quoted_nulls = false, columns = {types})",
            "jsonl": f"read_json('{file}', format = 'newline_delimited', columns = {types})",
        }[fmt]
        out[name] = con.execute(f"SELECT * FROM {reader}").fetchall()
    return out


@pytest.fixture(scope="module")
def builds(dg) -> dict[str, dict[str, Any]]:
    """Each format of the tricky schema and the shop example, built by ``dgsql build``."""
    found: dict[str, dict[str, Any]] = {}
    for case, schema in (("tricky", tricky_schema(dg)), ("shop", EXAMPLE)):
        for fmt in FORMATS:
            found.setdefault(case, {})[fmt] = dg.build(schema, "--format", fmt, "--seed", "5")
    return found


@pytest.mark.parametrize("case", ["tricky", "shop"])
@pytest.mark.parametrize("fmt", FORMATS[1:])
def test_each_format_holds_the_parquet_rows(builds, case, fmt):
    want = read_rows(builds[case]["parquet"].path)
    got = read_rows(builds[case][fmt].path)
    assert sorted(got) == sorted(want)
    for table, rows in want.items():
        assert got[table] == rows, f"{case} {fmt}: {table} differs from the Parquet build"


@pytest.mark.parametrize("fmt", FORMATS)
def test_metadata_records_the_format_and_files(builds, fmt):
    out = builds["tricky"][fmt]
    meta = out.metadata
    assert meta["format"] == fmt
    assert meta["compression"] == ("snappy" if fmt == "parquet" else None)
    files = {t["file"] for t in meta["tables"].values()}
    if fmt == "duckdb":
        assert files == {"tricky.duckdb"}
    else:
        assert files == {f"users.{fmt}", f"events.{fmt}"}
    assert sorted(p.name for p in out.path.iterdir()) == sorted(files | {".metadata.json"})


def test_csv_is_rfc4180_with_a_header_and_iso_timestamps(builds):
    text = (builds["tricky"]["csv"].path / "users.csv").read_text()
    assert text.startswith("id,label,score,flag\n")
    assert '"say ""hi"""' in text and '"a,b"' in text and '"two\nlines"' in text
    orders = next(p for p in builds["shop"]["csv"].path.glob("*.csv") if "order" in p.name)
    header, first = orders.read_text().splitlines()[:2]
    assert any(len(v) >= 19 and v[4] == "-" and v[10] in " T" and v[13] == ":" for v in first.split(","))


@pytest.mark.parametrize("case", ["tricky", "shop"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_validate_reads_each_format(dg, builds, case, fmt):
    out = builds[case][fmt]
    schema = EXAMPLE if case == "shop" else dg.write_schema(tricky_schema(dg))
    result = dg.cli("validate", schema, "-d", out.path)
    assert result.exit_code == 0, result.stderr
    if fmt == "duckdb":
        db = next(out.path.glob("*.duckdb"))
        result = dg.cli("validate", schema, "-d", db)
        assert result.exit_code == 0, result.stderr


def test_validate_detects_the_format_without_metadata(dg, builds, tmp_path):
    for fmt in FORMATS[1:]:
        copy = tmp_path / fmt
        shutil.copytree(builds["tricky"][fmt].path, copy)
        (copy / ".metadata.json").unlink()
        result = dg.cli("validate", dg.write_schema(tricky_schema(dg)), "-d", copy)
        assert result.exit_code == 0, f"{fmt}: {result.stderr}"


def test_build_validate_runs_on_each_format(dg):
    for fmt in FORMATS:
        out = dg.build(tricky_schema(dg), "--format", fmt, "--validate")
        assert "checks:" in out.result.stderr


def test_duckdb_format_declares_primary_keys(builds):
    db = builds["tricky"]["duckdb"].path / "tricky.duckdb"
    con = duckdb.connect(str(db), read_only=True)
    keys = con.execute(
        "SELECT table_name, constraint_column_names FROM duckdb_constraints() "
        "WHERE constraint_type = 'PRIMARY KEY' ORDER BY table_name"
    ).fetchall()
    assert keys == [("events", ["event_id"]), ("users", ["id"])]


def test_keys_above_the_limit_are_left_undeclared(dg, monkeypatch):
    # 200 users and ~300 events: with the limit at 250 rows only the events' key is left out
    monkeypatch.setattr("dgsql.compiler.KEY_LIMIT", 250)
    sql = dg.emit_sql(tricky_schema(dg), "--format", "duckdb")
    assert 'PRIMARY KEY ("id")' in sql
    assert 'PRIMARY KEY ("event_id")' not in sql
    assert "-- primary key 'event_id' not declared" in sql


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--format", "duckdb", "--compression", "zstd"), "the duckdb format has no codec"),
        (("--format", "csv", "--compression", "snappy"), "the csv format takes gzip or zstd"),
        (("--format", "jsonl", "--compression", "snappy"), "the jsonl format takes gzip or zstd"),
    ],
)
def test_compression_the_format_lacks_is_refused(dg, args, message):
    path = dg.write_schema(tricky_schema(dg))
    for command in ("build", "emit-sql"):
        result = dg.cli(command, path, *args)
        assert result.exit_code == 2
        assert message in result.stderr


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_compressed_text_formats_read_back(dg, builds, fmt):
    out = dg.build(tricky_schema(dg), "--format", fmt, "--compression", "gzip", "--seed", "5")
    assert (out.path / f"users.{fmt}.gz").is_file()
    assert out.metadata["compression"] == "gzip"
    assert read_rows(out.path) == read_rows(builds["tricky"]["parquet"].path)
    assert dg.cli("validate", dg.write_schema(tricky_schema(dg)), "-d", out.path).exit_code == 0


def test_parquet_default_script_is_unchanged(dg):
    path = dg.write_schema(tricky_schema(dg))
    assert dg.emit_sql(path) == dg.emit_sql(path, "--format", "parquet", "--compression", "snappy")
    assert "ATTACH" not in dg.emit_sql(path)


# ------------------------------------------------------------------ the stock DuckDB CLI

needs_cli = pytest.mark.skipif(shutil.which("duckdb") is None, reason="the duckdb CLI is not on PATH")


@needs_cli
@pytest.mark.parametrize("fmt", FORMATS)
def test_duckdb_cli_writes_the_same(dg, builds, tmp_path, fmt):
    sql = dg.emit_sql(tricky_schema(dg), "--format", fmt, "--seed", "5", "--out-dir", "out")
    (tmp_path / "build.sql").write_text(sql)
    run = subprocess.run(
        ["duckdb", "-bail", "-c", ".read build.sql"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    built = read_rows(builds["tricky"][fmt].path)
    if fmt == "duckdb":
        assert read_rows(tmp_path / "out" / "tricky.duckdb") == built
    else:
        (tmp_path / "out" / ".metadata.json").write_text(
            (builds["tricky"][fmt].path / ".metadata.json").read_text()
        )
        assert read_rows(tmp_path / "out") == built


@needs_cli
def test_into_db_leaves_persistent_tables(dg, builds, tmp_path):
    sql = dg.emit_sql(tricky_schema(dg), "--into-db", "--seed", "5")
    assert "COPY" not in sql.split("-- users", 1)[-1] and "ATTACH" not in sql
    (tmp_path / "build.sql").write_text(sql)
    for _ in range(2):  # a rerun replaces the tables
        with (tmp_path / "build.sql").open() as script:
            run = subprocess.run(
                ["duckdb", "-bail", "my.db"],
                stdin=script,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                check=False,
            )
        assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build.sql", "my.db"]
    assert read_rows(tmp_path / "my.db") == read_rows(builds["tricky"]["parquet"].path)
    con = duckdb.connect(str(tmp_path / "my.db"), read_only=True)
    assert con.execute(
        "SELECT count(*) FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY'"
    ).fetchone() == (2,)


def test_into_db_refuses_files_options(dg):
    result = dg.cli("emit-sql", dg.write_schema(tricky_schema(dg)), "--into-db", "--format", "csv")
    assert result.exit_code == 2
    assert "--into-db writes tables, not files" in result.stderr
