"""The CLI: exit codes, what goes to stdout, the output folder rules, `.metadata.json`."""

from __future__ import annotations

import hashlib
import importlib.metadata
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

import dgsql
import dgsql.runtime.session
from dgsql.errors import EngineError, InternalError
from dgsql.runtime import session
from dgsql.runtime.output import TEMP_PREFIX


def small_schema(dg, *tables: str) -> dict:
    c = dg.col
    nodes = {
        "users": dg.entity("users", c("id", "int", dg.seq()),
                           c("score", "float", {"distribution": {"type": "normal", "params": {"mean": 0, "std": 1}}}),
                           rows=50),
        "events": dg.fact("events", ["users"], c("user_id", "int", {"lookup": {"from": "users.id"}}),
                          fanout={"distribution": "uniform", "min": 0, "max": 3}),
    }  # fmt: skip
    return dg.schema(*(nodes[t] for t in tables or nodes), name="small")


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(TEMP_PREFIX)]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# ------------------------------------------------------------------ version, exit codes, stdout


def test_version(dg):
    result = dg.cli("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith(f"dgsql {dgsql.__version__}")
    assert dgsql.__version__ == importlib.metadata.version("dgsql")


def test_build_exits_0_writes_one_file_per_node_and_prints_nothing_on_stdout(dg):
    out = dg.build(small_schema(dg))
    assert out.result.exit_code == 0
    assert out.result.stdout == ""
    assert sorted(p.name for p in out.path.iterdir()) == [".metadata.json", "events.parquet", "users.parquet"]
    assert "users" in out.result.stderr and "events" in out.result.stderr  # progress goes to stderr


def test_metadata(dg):
    work = dg.workdir()
    path = dg.write_schema(small_schema(dg), work)
    out = dg.build(path, "--seed", "7")
    meta = out.metadata
    assert meta["dataset"] == "small"
    assert meta["seed"] == 7
    assert meta["scale"] == 1.0
    assert meta["dgsql_version"] == dgsql.__version__
    assert meta["duckdb_version"]
    assert meta["schema_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert set(meta["tables"]) == {"users", "events"}
    for name, table in meta["tables"].items():
        assert table["rows"] == pq.read_metadata(out.file(name)).num_rows
        assert table["file"] == f"{name}.parquet"
    assert [(c["name"], c["type"]) for c in meta["tables"]["users"]["columns"]] == [
        ("id", "int"),
        ("score", "float"),
    ]
    assert meta["compression"] == "snappy"


def codecs(file: Path) -> set[str]:
    meta = pq.read_metadata(file)
    return {
        meta.row_group(g).column(c).compression
        for g in range(meta.num_row_groups)
        for c in range(meta.num_columns)
    }


@pytest.mark.parametrize("codec", ["snappy", "zstd"])
def test_compression_option_sets_the_codec_of_every_file_and_the_metadata(dg, codec):
    out = dg.build(small_schema(dg), "--compression", codec)
    assert out.metadata["compression"] == codec
    for name in ("users", "events"):
        assert codecs(out.file(name)) == {codec.upper()}
    default = dg.build(small_schema(dg))
    assert [pq.read_table(default.file(n)) for n in ("users", "events")] == [
        pq.read_table(out.file(n)) for n in ("users", "events")
    ]


def test_emit_sql_compression(dg):
    assert "COMPRESSION zstd" in dg.emit_sql(small_schema(dg), "--compression", "zstd")
    assert "COMPRESSION zstd" not in dg.emit_sql(small_schema(dg))


@pytest.mark.parametrize(
    "args",
    [
        ["build", "-o", "OUT"],
        ["build", "SCHEMA", "-o", "OUT", "--bogus"],
        ["build", "SCHEMA", "-o", "OUT", "--threads", "0"],
        ["build", "SCHEMA", "-o", "OUT", "--scale", "-1"],
        ["build", "SCHEMA", "-o", "OUT", "--seed", "many"],
        ["build", "SCHEMA", "-o", "OUT", "--memory-limit", "banana"],
        ["build", "SCHEMA", "-o", "OUT", "--compression", "lz4"],
        ["emit-sql", "SCHEMA", "--out-dir", ""],
        ["frobnicate", "SCHEMA"],
    ],
    ids=["no-schema", "unknown-option", "zero-threads", "negative-scale", "bad-seed", "bad-memory-limit",
         "bad-compression", "empty-out-dir", "unknown-command"],
)  # fmt: skip
def test_usage_errors_exit_2(dg, args):
    work = dg.workdir()
    schema, out = dg.write_schema(small_schema(dg), work), work / "out"
    result = dg.cli(*[{"SCHEMA": schema, "OUT": out}.get(a, a) for a in args])
    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not out.exists()
    assert leftovers(work) == []


def test_run_time_overflow_exits_2_and_leaves_the_previous_output_untouched(dg):
    work = dg.workdir()
    out = work / "out"
    assert dg.cli("build", dg.write_schema(small_schema(dg), work), "-o", out).exit_code == 0
    before = snapshot(out)
    # valid schema, but exp(100 * user_id) does not fit a BIGINT: DuckDB fails on the second table,
    # after writing the first one (with another seed, so other bytes) into its staging folder
    failing = small_schema(dg)
    failing["nodes"][1]["columns"].append(
        dg.col("huge", "int", {"expression": {"code": "exp(100 * user_id)"}})
    )
    result = dg.cli("build", dg.write_schema(failing, dg.workdir()), "-o", out, "--seed", "9")
    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert any("does not fit its column type" in e for e in result.errors)
    assert snapshot(out) == before
    assert leftovers(work) == []


# ------------------------------------------------------------------ the output folder


def test_build_writes_into_a_temporary_folder_then_moves_it_into_place(dg, monkeypatch):
    work = dg.workdir()
    path = dg.write_schema(small_schema(dg), work)
    out = work / "out"
    seen = {}
    real_run = dgsql.runtime.session.run

    def spy(compiled, con, *args, **kwargs):
        seen["target_existed"] = out.exists()
        seen["temps"] = leftovers(work)
        seen["script"] = compiled.script.text
        return real_run(compiled, con, *args, **kwargs)

    monkeypatch.setattr(dgsql.runtime.session, "run", spy)
    result = dg.cli("build", path, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert seen["target_existed"] is False
    assert len(seen["temps"]) == 1  # the staging folder, beside the target
    temp = (work / seen["temps"][0]).as_posix()
    assert f"'{temp}/users.parquet'" in seen["script"]
    assert leftovers(work) == []
    assert sorted(p.name for p in out.iterdir()) == [".metadata.json", "events.parquet", "users.parquet"]


def test_refuses_a_non_empty_folder_that_is_not_a_dgsql_output(dg):
    work = dg.workdir()
    path = dg.write_schema(small_schema(dg), work)
    out = work / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = dg.cli("build", path, "-o", out)
    assert result.exit_code == 2
    assert "--force" in result.stderr
    assert "Traceback" not in result.stderr
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert leftovers(work) == []


def test_force_writes_into_a_foreign_folder_and_keeps_its_files(dg):
    work = dg.workdir()
    path = dg.write_schema(small_schema(dg), work)
    out = work / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert dg.cli("build", path, "-o", out, "--force").exit_code == 0
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "users.parquet").exists() and (out / ".metadata.json").exists()
    assert leftovers(work) == []


def test_an_empty_existing_folder_is_fine(dg):
    work = dg.workdir()
    path = dg.write_schema(small_schema(dg), work)
    (work / "out").mkdir()
    assert dg.cli("build", path, "-o", work / "out").exit_code == 0
    assert (work / "out" / "users.parquet").exists()


def test_rebuild_replaces_the_previous_output_and_leaves_foreign_files_alone(dg):
    work = dg.workdir()
    path = dg.write_schema(small_schema(dg), work)
    out = work / "out"
    assert dg.cli("build", path, "-o", out, "--seed", "1").exit_code == 0
    first = pq.read_table(out / "users.parquet")
    (out / "notes.txt").write_text("mine")
    (out / "sub").mkdir()
    (out / "sub" / "x.parquet").write_text("not ours")
    assert dg.cli("build", path, "-o", out, "--seed", "2").exit_code == 0  # no --force needed
    fresh = dg.build(path, "--seed", "2")
    assert pq.read_table(out / "users.parquet").equals(fresh.table("users"))
    assert pq.read_table(out / "events.parquet").equals(fresh.table("events"))
    assert not pq.read_table(out / "users.parquet").equals(first)
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "sub" / "x.parquet").read_text() == "not ours"
    assert leftovers(work) == []


def test_rebuild_without_a_table_removes_only_the_file_dgsql_wrote(dg):
    work = dg.workdir()
    out = work / "out"
    assert dg.cli("build", dg.write_schema(small_schema(dg), work), "-o", out).exit_code == 0
    (out / "notes.txt").write_text("mine")
    smaller = dg.workdir()
    assert dg.cli("build", dg.write_schema(small_schema(dg, "users"), smaller), "-o", out).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [".metadata.json", "notes.txt", "users.parquet"]


def test_out_dir_that_is_a_file(dg):
    work = dg.workdir()
    path = dg.write_schema(small_schema(dg), work)
    (work / "out").write_text("a file")
    result = dg.cli("build", path, "-o", work / "out")
    assert result.exit_code == 2
    assert (work / "out").read_text() == "a file"
    assert leftovers(work) == []


def test_out_dir_whose_parent_is_missing(dg):
    work = dg.workdir()
    path = dg.write_schema(small_schema(dg), work)
    result = dg.cli("build", path, "-o", work / "no" / "such" / "out")
    assert result.exit_code == 2
    assert not (work / "no").exists()


# ------------------------------------------------------------------ emit-sql


def test_emit_sql_prints_the_script_on_stdout_only(dg, monkeypatch):
    work = dg.workdir()
    path = dg.write_schema(small_schema(dg), work)
    cwd = dg.workdir()
    monkeypatch.chdir(cwd)
    result = dg.cli("emit-sql", path, "--seed", "42", "--out-dir", "dest/data")
    assert result.exit_code == 0, result.stderr
    # stderr holds only the schema's warnings (the same as check and build print)
    assert result.stderr.splitlines() == [
        "warning: nodes[0].columns[1].generator.distribution: no clamp; extreme draws are possible. "
        "Add clamp: [min, max]."
    ]
    sql = result.stdout
    assert sql.startswith("--")
    assert "'dest/data/users.parquet'" in sql and "'dest/data/events.parquet'" in sql
    assert list(cwd.iterdir()) == []  # printing writes nothing
    assert sorted(p.name for p in work.iterdir()) == ["schema.json"]
    # the same script every time; another seed, another script
    assert dg.cli("emit-sql", path, "--seed", "42", "--out-dir", "dest/data").stdout == sql
    assert dg.cli("emit-sql", path, "--seed", "43", "--out-dir", "dest/data").stdout != sql


def test_emit_sql_default_out_dir_and_seed(dg):
    path = dg.write_schema(small_schema(dg))
    result = dg.cli("emit-sql", path)
    assert result.exit_code == 0
    assert "'out/users.parquet'" in result.stdout
    assert result.stdout == dg.cli("emit-sql", path, "--seed", "42", "--out-dir", "out").stdout


def test_sql_duckdb_rejects_is_a_dgsql_bug_exit_4_naming_table_and_column():
    con = duckdb.connect()
    sql = "SELECT\n    -- nodes[1].columns[2]\n    no_such_column AS x\nFROM range(3)"
    with pytest.raises(InternalError) as caught:
        session._execute(con, sql, "table 'x'")
    message = str(caught.value)
    assert "DuckDB rejected the SQL dgsql wrote for table 'x' (column nodes[1].columns[2])" in message
    assert "please report" in message
    assert InternalError.exit_code == 4


def test_failures_outside_the_script_are_engine_errors_exit_3(tmp_path):
    con = duckdb.connect()
    (tmp_path / "locked").mkdir()
    with pytest.raises(EngineError, match="DuckDB failed while writing table 'x'"):
        # a COPY into a path that is a folder: the file system refuses
        session._execute(con, f"COPY (SELECT 1) TO '{tmp_path / 'locked'}' (FORMAT csv)", "table 'x'")
    assert EngineError.exit_code == 3


def test_generated_sql_that_does_not_parse_is_a_compile_error_exit_4(dg, monkeypatch):
    """A renderer bug is caught by re-parsing with DuckDB's parser before anything runs."""
    from dgsql.compiler.context import Fragment
    from dgsql.compiler.generators import GENERATORS

    monkeypatch.setattr(GENERATORS["sequence"], "render", lambda spec, ctx: Fragment("(1 +"))
    work = dg.workdir()
    result = dg.cli("build", dg.write_schema(small_schema(dg, "users"), work), "-o", work / "out")
    assert result.exit_code == 4
    assert "users.id: the generated expression does not parse" in result.stderr
    assert not (work / "out").exists()
