"""Schemas written for Datagen run: each form is read the way dgsql reads it, with a warning where
Datagen's behaviour was an accident (``compiler/datagen.py``; the table in docs/datagen.md).

``retail.json`` and ``sensors.json`` are written the way Datagen users write them: metadata with
``domain`` and ``use_case``, a ``normal`` with ``sigma``, influences with ``table``/``field``/
``default``, a ``metric`` that is no column, ``mape`` in percent, ``targets: null``, modifiers
Datagen skipped. Each builds with exactly the documented warnings, fails under ``--strict``, and
validates.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from dgsql.compiler import load
from dgsql.dsl import model as S

HERE = Path(__file__).parent
SKIPPED = "Datagen skipped it, and so does dgsql (the column is made as if it were absent)"

WARNINGS = {
    "retail.json": [
        "nodes[0].columns[2].modifiers[0]: seasonality on a numeric column needs the row's timestamp, and "
        f"table 'stores' has no datetime column; {SKIPPED}. Remove it, or name a datetime or date column in "
        "args.column.",
        f"nodes[2].columns[2].modifiers[1]: outliers apply to int or float columns, not to a datetime; {SKIPPED}. "
        "Remove it.",
        "nodes[2].columns[2].modifiers[2]: add of 0 to a datetime changes nothing; Datagen left the values as "
        "they were, and so does dgsql (the column is made as if it were absent). Remove it.",
        "nodes[2].columns[3].generator.distribution.params: normal takes std, not sigma; Datagen ignored sigma "
        'and drew with std 1, dgsql draws with std 10 (Datagen\'s output differed). Write "std": 10.',
        "targets.composite_effect[0].metric: 'turnover' is not a column of 'sales'; Datagen never read metric "
        'and compared row counts, and so does dgsql (metric "volume"). Write "volume", or name a numeric '
        "column of the table.",
        "targets.composite_effect[0].tolerance.mape: 15 is a percentage (Datagen's unit); dgsql reads mape as "
        "a fraction and uses 0.15. Write 0.15.",
        "targets.composite_effect[1].tolerance.mape: 10 is a percentage (Datagen's unit); dgsql reads mape as "
        "a fraction and uses 0.1. Write 0.1.",
    ],
    "sensors.json": [
        "nodes[1].columns[1].generator.distribution.params: normal takes std, not sigma; Datagen ignored sigma "
        'and drew with std 1, dgsql draws with std 8 (Datagen\'s output differed). Write "std": 8.',
        "nodes[1].columns[2].modifiers[0]: a windowed effect needs the row's timestamp, and table 'sensors' has "
        f"no datetime column; {SKIPPED}. Remove it, or name a datetime or date column in args.time_column.",
        "nodes[1].columns[2].modifiers[1]: seasonality on a numeric column needs the row's timestamp, and "
        f"table 'sensors' has no datetime column; {SKIPPED}. Remove it, or name a datetime or date column in "
        "args.column.",
        f"nodes[2].columns[1].modifiers[0]: effect applies to int or float columns, not to a datetime; {SKIPPED}. "
        "Remove it.",
    ],
}


def warning_lines(stderr: str) -> list[str]:
    return [line.removeprefix("warning: ") for line in stderr.splitlines() if line.startswith("warning: ")]


@pytest.fixture(scope="module")
def built(dg, tmp_path_factory):
    """Each schema built once (seed 42), with its validate report."""
    out = {}
    for name in WARNINGS:
        folder = tmp_path_factory.mktemp(name.removesuffix(".json"))
        build = dg.cli("build", HERE / name, "-o", folder / "out", "--seed", 42)
        report = folder / "report.json"
        validate = dg.cli("validate", HERE / name, "-d", folder / "out", "--report", report)
        out[name] = (folder / "out", build, validate, json.loads(report.read_text()))
    return out


@pytest.mark.parametrize("name", list(WARNINGS))
def test_builds_with_exactly_the_documented_warnings(built, name):
    _, build, _, _ = built[name]
    assert build.exit_code == 0, build.stderr
    assert warning_lines(build.stderr) == WARNINGS[name]


@pytest.mark.parametrize("name", list(WARNINGS))
@pytest.mark.parametrize("command", ["check", "build", "emit-sql", "validate"])
def test_strict_makes_every_warning_an_error(dg, tmp_path, name, command):
    extra = {"build": ["-o", tmp_path / "out"], "validate": ["-d", tmp_path]}.get(command, [])
    result = dg.cli(command, HERE / name, *extra, "--strict")
    assert result.exit_code == 2
    assert sorted(result.errors) == sorted(WARNINGS[name])
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", list(WARNINGS))
def test_validate_passes_on_the_output(built, name):
    _, _, validate, report = built[name]
    assert validate.exit_code == 0, validate.stderr
    assert warning_lines(validate.stderr) == WARNINGS[name]
    failed = [c["id"] for c in report["checks"] if c["status"] == "FAILED"]
    assert failed == []
    # the law checks leave small tables and noise-modified values unjudged, with the reason
    unjudged = [c for c in report["checks"] if c["status"] == "NOT_EVALUATED"]
    assert all(c["kind"] in ("distribution_law", "choice_shares") and c["detail"]["reason"] for c in unjudged)


# ------------------------------------------------------------- each form honoured


def composite(report: dict, target: str) -> dict:
    return next(c for c in report["checks"] if c["kind"] == "composite_effect" and c["target"] == target)


def test_sigma_is_read_as_std(built):
    out, *_ = built["sensors.json"]
    values = pq.read_table(out / "sensors.parquet").column("baseline").to_pylist()
    assert len(values) == 50_000
    assert statistics.stdev(values) == pytest.approx(8, rel=0.02)
    assert statistics.fmean(values) == pytest.approx(50, abs=0.2)


def test_mape_in_percent_is_a_fraction(built):
    *_, report = built["retail.json"]
    volume = composite(report, "sales.volume")
    assert volume["status"] == "PASSED"
    assert volume["detail"]["tolerance_mape"] == 0.15
    assert volume["detail"]["expected"]["mape"] == 0.15
    assert composite(report, "sales.amount")["detail"]["tolerance_mape"] == 0.1


def test_a_metric_that_is_no_column_is_volume(built):
    *_, report = built["retail.json"]
    assert composite(report, "sales.volume")["detail"]["expected"]["metric"] == "volume"
    assert composite(report, "sales.volume")["source"] == "targets.composite_effect[0]"


def test_effect_influence_aliases(built):
    """``table``/``field``/``default`` are ``effect_table``/``map.field``/``map.default``: the check
    joins the promotions and finds the 1.5 uplift in the matched stratum."""
    *_, report = built["retail.json"]
    amount = composite(report, "sales.amount")
    assert amount["status"] == "PASSED"
    assert amount["detail"]["strata_used"] == 2
    assert '"promotions"' in amount["sql"] and '"uplift"' in amount["sql"]
    dataset, _, _ = load(HERE / "retail.json")
    effect = dataset.targets.all("composite_effect")[1].influences[0]
    assert (effect.effect_table, effect.map, effect.table, effect.field) == (
        "promotions",
        S.EffectMap(field="uplift", default=1.0),
        None,
        None,
    )


def test_skipped_modifiers_are_dropped_once_before_planning():
    """The loaded dataset no longer holds them: plan, render and validate's checks never see them."""
    dataset, _, _ = load(HERE / "sensors.json")
    assert [m.transform for m in dataset.node("sensors").columns[2].modifiers] == ["clamp"]
    assert dataset.node("readings").columns[1].modifiers == []
    assert dataset.node("sensors").columns[1].generator.distribution.params == {"mean": 50, "std": 8}
    retail, _, _ = load(HERE / "retail.json")
    assert retail.node("stores").columns[2].modifiers == []
    assert [m.transform for m in retail.node("sales").columns[2].modifiers] == ["seasonality"]


def test_skipped_modifiers_render_as_if_absent(dg, tmp_path):
    sql = dg.emit_sql(HERE / "sensors.json")
    assert "segments" not in sql and 'calibrations"."offset' not in sql
    doc = json.loads((HERE / "sensors.json").read_text())
    for node in doc["nodes"]:
        for col in node["columns"]:
            col["modifiers"] = [
                m for m in col.get("modifiers", []) if m["transform"] not in ("effect", "seasonality")
            ]
            if col["name"] == "baseline":
                col["generator"]["distribution"]["params"] = {"mean": 50, "std": 8}
    assert dg.emit_sql(doc) == sql


def test_skipped_modifiers_leave_the_values_alone(built):
    out, *_ = built["retail.json"]
    # seasonality (up to 1.5) skipped: footfall stays within its uniform's range
    footfall = pq.read_table(out / "stores.parquet").column("footfall").to_pylist()
    assert 500 <= min(footfall) and max(footfall) <= 1500
    # outliers and add 0 skipped on sold_at: every time is an hour of the timeframe
    with duckdb.connect() as con:
        bad = con.execute(
            "SELECT count(*) FROM read_parquet(?) WHERE sold_at <> date_trunc('hour', sold_at) "
            "OR sold_at NOT BETWEEN TIMESTAMP '2024-01-01' AND TIMESTAMP '2024-12-31 23:00:00'",
            [str(out / "sales.parquet")],
        ).fetchall()
    assert bad == [(0,)]


# ------------------------------------------------------------- small forms


def tiny(dg, **extra):
    events = dg.fact(
        "events",
        ["users"],
        dg.col("user_id", "int", {"lookup": {"from": "users.user_id"}}),
        dg.col("at", "datetime", {"datetime_series": {}}),
        dg.col("amount", "float", {"distribution": {"type": "uniform", "params": {"low": 1, "high": 2}}}),
        fanout={"distribution": "uniform", "min": 1, "max": 3},
    )
    users = dg.entity("users", dg.col("user_id", "int", dg.seq()), rows=500, pk="user_id")
    tf = {"start": "2024-01-01", "end": "2024-03-31T23:00:00", "freq": "H"}
    return dg.schema(users, events, timeframe=tf, **extra)


def test_metadata_extra_keys_and_null_targets_are_accepted(dg):
    doc = tiny(dg, targets=None)
    doc["metadata"].update(domain="saas", use_case="demo", anything={"nested": [1, 2]})
    result = dg.cli("check", dg.write_schema(doc), "--strict")
    assert result.exit_code == 0, result.stderr
    assert "warning" not in result.stderr


@pytest.mark.parametrize("as_list", [False, True])
def test_every_target_kind_takes_one_object_or_a_list(dg, as_list):
    targets = {
        "weekend_share": {"table": "events", "timestamp": "at", "min": 0.2, "max": 0.4},
        "mean_in_range": {"table": "events", "column": "amount", "min": 1.4, "max": 1.6},
        "composite_effect": {
            "table": "events",
            "metric": "volume",
            "influences": [{"kind": "seasonality", "dimension": "dow", "weights": [1] * 7}],
            "tolerance": {"mape": 0.2},
        },
    }
    if as_list:
        targets = {key: [value] for key, value in targets.items()}
    out = dg.build(tiny(dg, targets=targets))
    report = out.path.parent / "report.json"
    result = dg.cli("validate", out.path.parent / "schema.json", "-d", out.path, "--report", report)
    assert result.exit_code == 0, result.stderr
    checks = json.loads(report.read_text())["checks"]
    sources = sorted(c["source"] for c in checks if c["category"] == "behaviour")
    suffix = "[0]" if as_list else ""
    assert sources == [f"targets.{k}{suffix}" for k in ("composite_effect", "mean_in_range", "weekend_share")]
    assert all(c["status"] == "PASSED" for c in checks if c["category"] == "behaviour")


def test_warning_paths_of_a_single_composite_effect(dg):
    target = {
        "table": "events",
        "metric": "occurrence_rate",
        "influences": [{"kind": "seasonality", "dimension": "dow", "weights": [1] * 7}],
        "tolerance": {"mae": 0.1, "mape": 20},
    }
    result = dg.cli("check", dg.write_schema(tiny(dg, targets={"composite_effect": target})))
    assert result.exit_code == 0, result.stderr
    assert [line.split(": ")[0] for line in warning_lines(result.stderr)] == [
        "targets.composite_effect.metric",
        "targets.composite_effect.tolerance.mape",
    ]


def test_an_add_that_moves_a_datetime_stays_an_error(dg):
    doc = tiny(dg)
    doc["nodes"][1]["columns"][1]["modifiers"] = [{"transform": "add", "args": {"value": 3600}}]
    result = dg.cli("check", dg.write_schema(doc))
    assert result.exit_code == 2
    assert result.errors == [
        "nodes[1].columns[1].modifiers[0]: add applies to int or float columns, not to a datetime; to shift "
        "a time, use time_jitter, or time arithmetic in an expression (ts + hours(x))."
    ]


@pytest.mark.parametrize(
    ("influence", "words"),
    [
        ({"table": "users", "effect_table": "users", "field": "user_id"}, "give one of them"),
        ({"table": "users", "field": "user_id", "map": {"field": "user_id"}}, "give map or them"),
        ({"table": "users", "default": 1.0}, "default needs field"),
    ],
)
def test_an_alias_beside_its_own_key_is_an_error(dg, influence, words):
    target = {"table": "events", "metric": "amount", "influences": [{"kind": "effect", **influence}]}
    result = dg.cli("check", dg.write_schema(tiny(dg, targets={"composite_effect": target})))
    assert result.exit_code == 2
    assert len(result.errors) == 1
    assert result.errors[0].startswith("targets.composite_effect.influences[0]: ")
    assert words in result.errors[0]


def test_a_modifier_that_applies_is_checked_as_before(dg):
    """Only Datagen's skipped cases changed: outliers on a string column stay an error."""
    doc = tiny(dg)
    doc["nodes"][0]["columns"].append(
        dg.col(
            "name",
            "string",
            {"choice": {"choices": ["a", "b"]}},
            modifiers=[{"transform": "outliers", "args": {"rate": 0.1}}],
        )
    )
    result = dg.cli("check", dg.write_schema(doc))
    assert result.exit_code == 2
    assert result.errors == [
        "nodes[0].columns[1].modifiers[0]: outliers applies to int or float columns, not to a string; "
        "remove it or change the column type."
    ]
