"""The Python API (``import dgsql``) behaves as the CLI: same problems, SQL, rows and report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import dgsql
from dgsql.cli import app

ROOT = Path(__file__).resolve().parent.parent
HR = ROOT / "examples" / "hr_org.json"
BAD = {"version": "1.0", "metadata": {"name": "bad"}, "nodes": [{"id": "t", "kind": "entity", "rows": -1}]}


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def test_load_schema_from_path_text_and_dict():
    by_path = dgsql.load_schema(HR)
    assert dgsql.load_schema(str(HR)) == by_path
    assert dgsql.load_schema(HR.read_text()) == by_path
    assert dgsql.load_schema(json.loads(HR.read_text())) == by_path
    assert isinstance(by_path, dgsql.Dataset)


def test_schema_error_problems_are_the_cli_lines(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(BAD))
    with pytest.raises(dgsql.SchemaError) as e:
        dgsql.load_schema(BAD)
    problems = e.value.problems
    assert problems and all(p.path and p.message for p in problems)
    out = cli("check", str(path))
    assert out.exit_code == 2
    lines = [line.removeprefix("error: ") for line in out.stderr.splitlines() if line.startswith("error: ")]
    assert [str(p) for p in problems] == lines


def test_compile_equals_emit_sql():
    script = dgsql.compile(HR, seed=7, scale=0.5, out_dir="data")
    out = cli("emit-sql", str(HR), "--seed", "7", "--scale", "0.5", "--out-dir", "data")
    assert out.exit_code == 0
    assert str(script) == out.stdout
    assert [t.name for t in script.tables] == ["department", "employee", "leave_request"]
    assert all(t.expected_rows > 0 for t in script.tables)
    assert script.targets == script.dataset.targets


def test_generate_equals_build(tmp_path):
    built = dgsql.build(HR, tmp_path / "out", seed=3)
    assert built.out_dir == tmp_path / "out"
    generated = dgsql.generate(HR, seed=3)
    assert generated.tables == [t.name for t in built.tables]
    for t in built.tables:
        parquet = duckdb.sql(f"SELECT * FROM read_parquet('{tmp_path / 'out' / t.name}.parquet')").fetchall()
        assert generated.table(t.name).fetchall() == parquet
        assert generated.rows(t.name) == t.rows
    # only the tables stay: no helper or shadowing temp table
    temps = generated.con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone()
    assert temps == (0,)


def test_generate_into_a_given_connection():
    con = duckdb.connect()
    generated = dgsql.generate(HR, con=con)
    assert generated.con is con
    assert con.execute("SELECT count(*) FROM department").fetchone()[0] == generated.rows("department")


def test_validate_a_folder_and_a_generated(tmp_path):
    dgsql.build(HR, tmp_path / "out")
    on_files = dgsql.validate(HR, tmp_path / "out")
    on_session = dgsql.validate(HR, dgsql.generate(HR))
    assert on_files.passed_gate() and on_session.passed_gate()
    assert on_files.quality_score == on_session.quality_score
    assert [r.status for r in on_files.results] == [r.status for r in on_session.results]
    assert on_session.to_json()["dataset"] == on_files.to_json()["dataset"]


def test_build_with_checks(tmp_path):
    result = dgsql.build(HR, tmp_path / "out", run_checks=True)
    assert result.report is not None and result.report.passed_gate()
    assert (tmp_path / "out" / ".metadata.json").is_file()


def test_pytest_plugin_fixture(tmp_path):
    (tmp_path / "test_fixture.py").write_text(
        f"""
def test_once(dgsql_dataset):
    a = dgsql_dataset({str(HR)!r}, seed=5)
    assert dgsql_dataset({str(HR)!r}, seed=5) is a
    assert dgsql_dataset({str(HR)!r}, seed=6) is not a
    assert len(a.table("department").fetchall()) == a.rows("department") > 0
"""
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    # the installed package registers the plugin (entry point ``pytest11``): no ``-p`` needed
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    run = subprocess.run([*args, str(tmp_path)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout


def test_dgsql_sessions_never_print_duckdbs_progress_bar():
    """DuckDB prints its bar to standard output after two seconds (progress_bar_time): into a
    pipe, a CI log or the JSON log. Each connection dgsql opens turns the printing off."""
    code = (
        "from dgsql.runtime import engine\n"
        "con = engine.connect()\n"
        "con.execute('SET progress_bar_time = 0')\n"
        "con.execute('SELECT count(*) FROM range(30000000) WHERE hash(range) % 7 = 0').fetchall()\n"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout == ""
    generated = dgsql.generate(HR, scale=0.1)
    assert generated.con.execute("SELECT current_setting('enable_progress_bar_print')").fetchone() == (False,)
