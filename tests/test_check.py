"""`dgsql check` (preflight without generating), dry runs with --sample, Datagen's spellings."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from dgsql.cli import app

runner = CliRunner()


def node(node_id: str, rows: int, *columns: dict, **extra) -> dict:
    return {"id": node_id, "kind": "entity", "rows": rows, "columns": list(columns), **extra}


def col(name: str, type_: str, generator: dict, **extra) -> dict:
    return {"name": name, "type": type_, "generator": generator, **extra}


def schema(*nodes: dict, **extra) -> dict:
    return {"version": "1.0", "metadata": {"name": "pre"}, "nodes": list(nodes), **extra}


def check(tmp_path: Path, doc: dict):
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(doc))
    return runner.invoke(app, ["check", str(path)])


SEQ = {"sequence": {}}
FIVE = {"choice": {"choices": ["a", "b", "c", "d", "e"]}}


def test_unique_on_a_five_value_choice_is_an_error(tmp_path):
    doc = schema(
        node("t", 1000, col("id", "int", SEQ), col("k", "string", FIVE)), constraints={"unique": ["t.k"]}
    )
    result = check(tmp_path, doc)
    assert result.exit_code == 2
    assert (
        "error: nodes[0].columns[1]: declared unique, but its generator yields at most 5 distinct values "
        "for ~1,000 rows; use a sequence or widen the choices." in result.stderr
    )


def test_an_inequality_that_cannot_hold_is_an_error(tmp_path):
    low = {"distribution": {"type": "uniform", "params": {"low": 0, "high": 10}, "clamp": [0, 10]}}
    high = {"distribution": {"type": "uniform", "params": {"low": 20, "high": 30}, "clamp": [20, 30]}}
    doc = schema(
        node("t", 10, col("a", "int", high), col("b", "int", low)),
        constraints={"inequalities": [{"left": "t.a", "op": "<", "right": "t.b"}]},
    )
    result = check(tmp_path, doc)
    assert result.exit_code == 2
    assert "constraints.inequalities[0]: t.a < t.b cannot hold" in result.stderr


def test_a_lookup_into_an_empty_table_is_an_error(tmp_path):
    doc = schema(
        node("p", 0, col("id", "int", SEQ)), node("c", 10, col("pid", "int", {"lookup": {"from": "p.id"}}))
    )
    result = check(tmp_path, doc)
    assert result.exit_code == 2
    assert "nodes[1].columns[0]: reads table 'p', which will be empty; give it rows." in result.stderr


def test_warnings_and_the_planned_tables(tmp_path):
    doc = schema(
        node("users", 2000, col("id", "int", SEQ),
             col("age", "int", {"distribution": {"type": "normal", "params": {"mean": 40, "std": 9}}}),
             col("nick", "string", FIVE, nullable=True),
             col("day", "date", {"datetime_series": {"within": {"start": "2024-01-01", "end": "2024-01-01"}, "freq": "D"}})),
        {"id": "events", "kind": "fact", "parents": ["users"], "fanout": {"distribution": "uniform", "min": 2, "max": 4},
         "columns": [col("uid", "int", {"lookup": {"from": "users.id"}})]},
    )  # fmt: skip
    result = check(tmp_path, doc)
    assert result.exit_code == 0, result.stderr
    assert "warning: nodes[0].columns[1].generator.distribution: no clamp" in result.stderr
    assert "warning: nodes[0].columns[2]: nullable without null_rate" in result.stderr
    assert (
        "warning: nodes[0].columns[3].generator.datetime_series: the span holds one grid point"
        in result.stderr
    )
    lines = [line for line in result.stderr.splitlines() if "users" in line or "events" in line]
    assert "2,000" in lines[0] and "6,000" in lines[1]  # expected rows: 2,000 × mean fanout 3


def test_a_weighted_grid_finer_than_the_limit_is_an_error(tmp_path):
    pattern = {"dimension": "hour", "weights": [1] * 23 + [2]}
    series = {"within": {"start": "2020-01-01", "end": "2024-12-31"}, "freq": "S", "pattern": pattern}
    doc = schema(node("t", 10, col("ts", "datetime", {"datetime_series": series})))
    result = check(tmp_path, doc)
    assert result.exit_code == 2
    assert "finer than dgsql materialises" in result.stderr


def test_very_uneven_weights_warn_only_when_a_grid_table_picks(tmp_path):
    uneven = {"dimension": "hour", "weights": [1e-9] + [1.0] * 23}

    def series(end: str) -> dict:
        span = {"start": "2020-01-01T00:00:00", "end": end}
        return {"datetime_series": {"within": span, "freq": "H", "pattern": uneven}}

    doc = schema(node("t", 10, col("whole_days", "datetime", series("2024-12-31T23:00:00")),
                      col("cut_short", "datetime", series("2024-12-31T10:00:00"))))  # fmt: skip
    result = check(tmp_path, doc)
    assert result.exit_code == 0, result.stderr
    assert (
        "columns[1].generator.datetime_series: 43,835 weighted grid points with very uneven" in result.stderr
    )
    assert "columns[0].generator.datetime_series" not in result.stderr


def test_sample_caps_entities_facts_follow_and_checks_run(tmp_path):
    doc = schema(
        node("users", 5000, col("id", "int", SEQ)),
        {"id": "events", "kind": "fact", "parents": ["users"], "fanout": {"distribution": "uniform", "min": 2, "max": 2},
         "columns": [col("uid", "int", {"lookup": {"from": "users.id"}})]},
        constraints={"foreign_keys": [{"from": "events.uid", "to": "users.id"}]},
    )  # fmt: skip
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(doc))
    for command, flag in (("build", "--sample"), ("generate", "--dry-run-sample")):
        out = tmp_path / f"out-{command}"
        result = runner.invoke(app, [command, str(path), "-o", str(out), flag, "100"])
        assert result.exit_code == 0, result.stderr
        assert pq.read_table(out / "users.parquet").num_rows == 100
        assert pq.read_table(out / "events.parquet").num_rows == 200
        assert "quality score" in result.stderr  # the dry run validated
