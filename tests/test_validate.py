"""dgsql validate: checks compiled to SQL, run over Parquet files made here with DuckDB SQL."""

from __future__ import annotations

import copy
import csv
import io
import json
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
import sqlglot
from rich.console import Console

import validate_fixtures as F
from dgsql.compiler.checks import CATEGORIES, REGISTRY, compile_checks, value_model
from dgsql.compiler.checks.spec import DUCKDB_TYPES, CheckSpec
from dgsql.compiler.load import parse_dataset, read_schema
from dgsql.compiler.sqltext import Sql, fill, ident, lit
from dgsql.dsl import model as S
from dgsql.errors import UsageError
from dgsql.runtime.report import CheckResult, Report, Status
from dgsql.runtime.validate import checks_script, validate

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "examples"
if not EXAMPLES.is_dir():
    EXAMPLES = Path("/work/shared/examples")


@pytest.fixture(scope="module")
def dataset() -> S.Dataset:
    return parse_dataset(F.SCHEMA)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("data") / "clean"
    F.write_dataset(out)
    return out


UNJUDGED = {
    # 3 rows: no statistic of a law; 300 users: too few for the normal bounds of mean and sd
    *(f"distribution_law:plan.price:{part}" for part in ("shape", "mean", "sd")),
    "distribution_law:users.age:mean",
    "distribution_law:users.age:sd",
    # outliers: no exact law through that modifier (its rate is outlier_share's)
    *(f"distribution_law:events.amount:{part}" for part in ("shape", "mean", "sd")),
    # faker: an e-mail is built from names and numbers, a bothify pattern has no Faker list
    "faker_vocabulary:users.email",
    "faker_vocabulary:users.code",
}
"Law checks the fixture leaves not evaluated, by its size or by design."


def failing(report: Report) -> set[str]:
    """Checks that did not pass, except the expected :data:`UNJUDGED` ones when not evaluated."""
    return {
        r.check.id
        for r in report.results
        if r.status is not Status.PASSED and not (r.status is Status.NOT_EVALUATED and r.check.id in UNJUDGED)
    }


# ------------------------------------------------------------------ clean and broken data


def test_clean_data_passes_every_check(dataset: S.Dataset, clean: Path) -> None:
    report = validate(dataset, clean)
    assert failing(report) == set()
    assert {r.check.id for r in report.results if r.status is Status.NOT_EVALUATED} == UNJUDGED
    assert report.quality_score == 100.0
    assert report.passed_gate(80)
    kinds = {r.check.kind for r in report.results}
    # the behaviour checks run on built data in tests/datagen_compat/test_segments_vintage.py
    elsewhere = {"segment_behavior", "vintage_behavior"}
    assert kinds | elsewhere == {m.KIND for m in REGISTRY}, "the fixture exercises every check kind"


@pytest.mark.parametrize("name", sorted(F.BREAKAGES))
def test_breakage_fails_exactly_its_own_check(
    dataset: S.Dataset, clean: Path, tmp_path: Path, name: str
) -> None:
    check_id = F.break_copy(clean, tmp_path / name, name)
    report = validate(dataset, tmp_path / name)
    assert failing(report) == {check_id}
    result = next(r for r in report.results if r.check.id == check_id)
    assert result.status is Status.FAILED and result.violations == 1
    assert len(result.examples) == 1
    doc = report.to_json()
    named = [c for c in doc["checks"] if c["passed"] is False]
    assert [c["id"] for c in named] == [check_id]
    assert any(rec.startswith(check_id) for rec in doc["recommendations"])
    console = Console(record=True, width=200)
    report.render(console)
    text = console.export_text()
    assert check_id.split(":", 1)[1] in text and "FAIL" in text


def test_breakage_examples_show_the_offending_row(dataset: S.Dataset, clean: Path, tmp_path: Path) -> None:
    F.break_copy(clean, tmp_path / "b", "outside_enum")
    report = validate(dataset, tmp_path / "b")
    result = next(r for r in report.results if r.check.id == "enum:users.status")
    assert result.examples == [{"user_id": 11, "status": "deleted"}]
    F.break_copy(clean, tmp_path / "d", "duplicated_pk")
    report = validate(dataset, tmp_path / "d")
    result = next(r for r in report.results if r.check.id == "primary_key:events.event_id")
    assert result.examples == [{"event_id": 1, "occurrences": 2}]


def test_gate_needs_keys_and_score(dataset: S.Dataset, clean: Path, tmp_path: Path) -> None:
    F.break_copy(clean, tmp_path / "pk", "duplicated_pk")
    report = validate(dataset, tmp_path / "pk")
    assert report.quality_score >= 80 and not report.passed_gate(80), "a broken pk fails whatever the score"
    F.break_copy(clean, tmp_path / "range", "out_of_range")
    report = validate(dataset, tmp_path / "range")
    assert report.passed_gate(80) and not report.passed_gate(99.5)


def test_statistical_checks_catch_a_wrong_generator(dataset: S.Dataset, clean: Path, tmp_path: Path) -> None:
    # hours drawn uniformly instead of by the hour pattern; days untouched
    F.rewrite_copy(
        clean,
        tmp_path / "hours",
        "events",
        "SELECT * REPLACE (date_trunc('day', ts) + to_hours(CAST(hash(event_id) % 24 AS BIGINT)) AS ts) FROM t",
    )
    assert failing(validate(dataset, tmp_path / "hours")) == {"datetime_shape:events.ts:hour"}
    # no outliers at all although 5 % are declared
    F.rewrite_copy(
        clean, tmp_path / "calm", "events", "SELECT * REPLACE (least(amount, 60.0) AS amount) FROM t"
    )
    assert "outlier_share:events.amount" in failing(validate(dataset, tmp_path / "calm"))


def test_small_tables_leave_statistics_not_evaluated(tmp_path: Path) -> None:
    F.write_dataset(tmp_path / "tiny", users=4)
    report = validate(parse_dataset(F.schema(4)), tmp_path / "tiny")
    status = {r.check.id: r.status for r in report.results}
    assert status["fanout_distribution:events"] is Status.NOT_EVALUATED
    assert status["datetime_shape:events.ts:hour"] is Status.NOT_EVALUATED
    assert status["primary_key:events.event_id"] is Status.PASSED


# --------------------------------------------------------------------------- the script


def _cli_rows(script: str, cwd: Path) -> dict[str, dict[str, str]]:
    (cwd / "checks.sql").write_text(script)
    proc = subprocess.run(
        ["duckdb", "-csv", "-c", ".read checks.sql"], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    rows = {}
    for rec in csv.DictReader(io.StringIO(proc.stdout)):
        if rec["check"] != "check":  # the header each statement repeats
            rows[rec["check"]] = rec
    return rows


def test_checks_script_runs_in_the_duckdb_cli(
    dataset: S.Dataset, clean: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a relative folder is read from where the CLI runs: there, and where the script is written
    monkeypatch.chdir(tmp_path)
    shutil.copytree(clean, tmp_path / "out")
    rows = _cli_rows(checks_script(dataset, "out"), tmp_path)
    ids = [c.id for c in compile_checks(dataset)]
    assert sorted(rows) == sorted(ids), "one row per check"
    assert {k for k, r in rows.items() if r["status"] != "PASSED"} == UNJUDGED

    F.break_copy(clean, tmp_path / "broken", "orphan_fk")
    rows = _cli_rows(checks_script(dataset, "broken"), tmp_path)
    bad = {k for k, r in rows.items() if r["status"] != "PASSED"}
    assert bad - UNJUDGED == {"foreign_key:events.user_id->users.user_id"}
    assert rows["foreign_key:events.user_id->users.user_id"]["violations"] == "1"
    assert "99999" in rows["foreign_key:events.user_id->users.user_id"]["detail"]


def test_script_matches_python_results(dataset: S.Dataset, clean: Path) -> None:
    script = checks_script(dataset, str(clean))
    con = duckdb.connect()
    statuses = {}
    for stmt in script.split(";\n"):
        if not any(line.strip() and not line.startswith("--") for line in stmt.splitlines()):
            continue
        cur = con.execute(stmt)
        if cur.description and cur.description[0][0] == "check":
            for row in cur.fetchall():
                statuses[row[0]] = row[3]
    assert statuses == {r.check.id: r.status.value for r in validate(dataset, clean).results}


# ---------------------------------------------------------- every example schema compiles


def _example(name: str) -> S.Dataset:
    data, _ = read_schema(EXAMPLES / f"{name}.json")
    return parse_dataset(data)


def _empty_files(dataset: S.Dataset, out: Path) -> None:
    out.mkdir()
    con = duckdb.connect()
    for node in dataset.nodes:
        cols = ", ".join(f"CAST(NULL AS {DUCKDB_TYPES[c.type]}) AS {ident(c.name)}" for c in node.columns)
        con.execute(f"COPY (SELECT {cols} LIMIT 0) TO '{out / (node.id + '.parquet')}' (FORMAT PARQUET)")
    con.close()
    F.write_row_counts(out, {n.id: 0 for n in dataset.nodes})


@pytest.mark.parametrize("name", ["retail", "users_events"])
def test_example_checks_bind_and_parse(name: str, tmp_path: Path) -> None:
    dataset = _example(name)
    checks = compile_checks(dataset)
    for check in checks:
        if check.sql is not None:
            sqlglot.parse_one(check.sql, read="duckdb")
    _empty_files(dataset, tmp_path / "empty")
    report = validate(dataset, tmp_path / "empty")
    errors = {r.check.id: r.detail["error"] for r in report.results if "error" in r.detail}
    assert errors == {}
    # faker columns without a Faker list to check (e-mails, phone patterns…) say why
    assert all(c.reason for c in checks if c.kind == "faker_vocabulary" and c.sql is None)
    not_compiled = {c.id for c in checks if c.sql is None and c.kind != "faker_vocabulary"}
    no_law = {"fanout_distribution:orders"} | {
        f"distribution_law:{ref}:{part}"
        for ref in ("orders.discount", "events.amount")  # noise modifiers: jitter, outliers
        for part in ("shape", "mean", "sd")
    }
    assert not_compiled <= no_law, (
        "only the effect-scaled fanout and noise-modified values have no law to test"
    )


def test_example_check_inventory() -> None:
    ids = {c.id for c in compile_checks(_example("users_events"))}
    assert {
        "primary_key:users.user_id",
        "unique:users.email",
        "foreign_key:events.user_id->users.user_id",
        "fanout_bounds:events",
        "range:users.age",
        "pattern:users.email",
        "enum:users.plan",
        "weekend_share:events.ts",
        "mean_in_range:users.age",
        "datetime_shape:events.ts:hour",
        "datetime_shape:events.ts:dow",
        "fanout_distribution:events",
        "outlier_share:events.amount",
        "distribution:events.amount",
    } <= ids
    retail = {c.id: c for c in compile_checks(_example("retail"))}
    assert retail["foreign_key:employee.manager_id->employee.employee_id"].expect["nulls_allowed"] is True
    assert "composite_effect:orders.volume" in retail


# ------------------------------------------------------------------------------ exposure


def test_composite_volume_is_normalised_by_exposure(tmp_path: Path) -> None:
    """Uniform timestamps over Jan–Apr 2024 (31, 29, 31, 30 days) show no monthly lift."""
    schema = {
        "version": "1.0",
        "metadata": {"name": "hits"},
        "timeframe": {"start": "2024-01-01T00:00:00", "end": "2024-04-30T23:00:00", "freq": "H"},
        "nodes": [
            {
                "id": "hits",
                "kind": "entity",
                "rows": 60000,
                "columns": [
                    {
                        "name": "at",
                        "type": "datetime",
                        "generator": {"datetime_series": {"within": "timeframe"}},
                    }
                ],
            }
        ],
        "targets": {
            "composite_effect": {
                "table": "hits",
                "metric": "volume",
                "influences": [{"kind": "seasonality", "dimension": "month", "weights": [1.0] * 12}],
                "tolerance": {"mape": 0.025},
            }
        },
    }
    out = tmp_path / "hits"
    out.mkdir()
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT TIMESTAMP '2024-01-01' + to_hours(CAST(hash(i) % 2904 AS BIGINT)) AS at FROM range(60000) t(i))"
        f" TO '{out / 'hits.parquet'}' (FORMAT PARQUET)"
    )
    F.write_row_counts(out, {"hits": 60000})
    report = validate(parse_dataset(schema), out)
    result = next(r for r in report.results if r.check.kind == "composite_effect")
    assert result.status is Status.PASSED, result.detail
    assert result.detail["strata_used"] == 4


# ---------------------------------------------------------------------- usage errors


def test_missing_folder_and_file(dataset: S.Dataset, clean: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such folder"):
        validate(dataset, tmp_path / "nope")
    shutil.copytree(clean, tmp_path / "partial")
    (tmp_path / "partial" / "events.parquet").unlink()
    with pytest.raises(UsageError, match=r"events\.parquet: missing"):
        validate(dataset, tmp_path / "partial")


def test_unreadable_parquet_and_metadata(dataset: S.Dataset, clean: Path, tmp_path: Path) -> None:
    shutil.copytree(clean, tmp_path / "junk")
    (tmp_path / "junk" / "users.parquet").write_text("not parquet")
    with pytest.raises(UsageError, match=r"users\.parquet: not a readable Parquet file"):
        validate(dataset, tmp_path / "junk")
    shutil.copytree(clean, tmp_path / "meta")
    (tmp_path / "meta" / ".metadata.json").write_text("{broken")
    with pytest.raises(UsageError, match=r"\.metadata\.json: not readable JSON"):
        validate(dataset, tmp_path / "meta")


def test_without_metadata_row_counts_are_not_evaluated(
    dataset: S.Dataset, clean: Path, tmp_path: Path
) -> None:
    shutil.copytree(clean, tmp_path / "nometa")
    (tmp_path / "nometa" / ".metadata.json").unlink()
    report = validate(dataset, tmp_path / "nometa")
    not_evaluated = {r.check.id for r in report.results if r.status is Status.NOT_EVALUATED}
    assert not_evaluated - UNJUDGED == {f"row_count:{t}" for t in ("plan", "users", "events", "funnel")}
    assert failing(report) == not_evaluated - UNJUDGED


def test_row_count_mismatch_fails(dataset: S.Dataset, clean: Path, tmp_path: Path) -> None:
    shutil.copytree(clean, tmp_path / "rc")
    funnel = json.loads((clean / ".metadata.json").read_text())["tables"]["funnel"]["rows"]
    F.write_metadata(tmp_path / "rc", {"plan": 3, "users": 301, "events": 1, "funnel": funnel})
    assert failing(validate(dataset, tmp_path / "rc")) == {"row_count:users", "row_count:events"}


# ---------------------------------------------------------------- the build's session


def test_runs_in_a_given_session_and_cleans_up(dataset: S.Dataset, clean: Path) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE events AS SELECT 42 AS answer")  # a build's own table of the same name
    report = validate(dataset, clean, con=con)
    assert failing(report) == set()
    assert con.execute("SELECT answer FROM events").fetchall() == [(42,)]
    schemas = {s for (s,) in con.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()}
    assert "dg_check" not in schemas
    assert (
        con.execute(
            "SELECT count(*) FROM duckdb_functions() WHERE function_name = 'dg_check_metadata'"
        ).fetchone()[0]
        == 0
    )


# ---------------------------------------------------------------------------- quoting


def test_names_and_values_are_quoted(tmp_path: Path) -> None:
    schema = {
        "version": "1.0",
        "metadata": {"name": "odd"},
        "nodes": [
            {
                "id": 'we"ird t',
                "kind": "entity",
                "pk": "id; DROP TABLE x",
                "rows": 3,
                "columns": [
                    {"name": "id; DROP TABLE x", "type": "int", "generator": {"sequence": {}}},
                    {"name": "it's", "type": "string", "generator": {"choice": {"choices": ["a'b", "c"]}}},
                ],
            }
        ],
        "constraints": {
            "enum": [{"attr": "we\"ird t.it's", "values": ["a'b", "c"]}],
            "pattern": [{"attr": "we\"ird t.it's", "regex": "^(a'b|c)$"}],
        },
    }
    dataset = parse_dataset(schema)
    out = tmp_path / "odd"
    out.mkdir()
    con = duckdb.connect()
    path = lit(str(out / 'we"ird t.parquet'))
    con.execute(
        fill(
            "COPY (SELECT * FROM (VALUES (1::BIGINT, 'a''b'), (2, 'c'), (3, 'c')) AS v({a}, {b})) TO {p} (FORMAT PARQUET)",
            a=ident("id; DROP TABLE x"),
            b=ident("it's"),
            p=path,
        )
    )
    F.write_row_counts(out, {'we"ird t': 3})
    report = validate(dataset, out)
    shares = "choice_shares:we\"ird t.it's"  # 3 rows: too few to judge shares
    assert failing(report) == {shares}
    assert next(r for r in report.results if r.check.id == shares).status is Status.NOT_EVALUATED
    con.execute(
        fill(
            "COPY (SELECT * FROM (VALUES (1::BIGINT, 'a''b'), (2, 'x'''), (3, 'c')) AS v({a}, {b})) TO {p} (FORMAT PARQUET)",
            a=ident("id; DROP TABLE x"),
            b=ident("it's"),
            p=path,
        )
    )
    assert failing(validate(dataset, out)) == {"enum:we\"ird t.it's", "pattern:we\"ird t.it's", shares}


def test_fill_refuses_unquoted_strings() -> None:
    with pytest.raises(TypeError, match="not Sql"):
        fill("SELECT {c}", c="users")  # type: ignore[arg-type]
    assert fill("SELECT {c}", c=ident("users")) == Sql('SELECT "users"')


# ------------------------------------------------------------------------------ score


def _result(category: str, status: Status, gate: bool = False) -> CheckResult:
    spec = CheckSpec(
        id=f"x:{category}:{id(status)}", kind="x", category=category, target="t", sql=None, gate=gate
    )  # type: ignore[arg-type]
    return CheckResult(spec, status)


def test_score_redistributes_unevaluated_weight() -> None:
    results = [
        _result("constraint", Status.PASSED),
        _result("constraint", Status.FAILED),
        _result("fk", Status.PASSED, gate=True),
        _result("behaviour", Status.NOT_EVALUATED),
    ]
    report = Report("d", "x", results)
    comps = report.components
    assert comps["behaviour"]["status"] == "NOT_EVALUATED" and comps["behaviour"]["pass_rate"] is None
    assert comps["statistical"]["effective_weight"] == 0.0
    assert comps["constraint"]["effective_weight"] == pytest.approx(0.45 / 0.55)
    assert report.quality_score == pytest.approx(100 * (0.45 * 0.5 + 0.10 * 1.0) / 0.55, abs=0.01)
    assert report.passed_gate(50) and not report.passed_gate(60)
    assert Report("d", "x", []).quality_score == 0.0, "no evidence, no points"
    assert not Report("d", "x", [_result("fk", Status.NOT_EVALUATED, gate=True)]).passed_gate(0)


def test_json_report_shape(dataset: S.Dataset, clean: Path) -> None:
    doc = json.loads(json.dumps(validate(dataset, clean).to_json()))
    assert set(doc["summary"]) >= {
        "quality_score",
        "components",
        "passed",
        "failed",
        "not_evaluated",
        "total",
    }
    assert set(doc["summary"]["components"]) == set(CATEGORIES)
    check = doc["checks"][0]
    assert set(check) >= {"id", "kind", "target", "passed", "violations", "examples", "sql", "detail"}
    users = doc["tables"]["users"]
    assert users["rows"] == F.USERS
    assert users["null_share"]["referrer_id"] == pytest.approx(1 / F.USERS)
    assert users["columns"]["started_on"] == "DATE"
    assert isinstance(doc["recommendations"], list)


# --------------------------------------------------------------------- registry, model


def test_registry_covers_every_declared_kind() -> None:
    declared = {m.DECLARED_BY for m in REGISTRY if m.DECLARED_BY}
    assert set(S.Constraints.model_fields) | set(S.Targets.model_fields) <= declared
    kinds = [m.KIND for m in REGISTRY]
    assert len(kinds) == len(set(kinds))
    assert {m.CATEGORY for m in REGISTRY} == set(CATEGORIES)


def test_cross_table_inequalities_are_checked_through_their_link_or_not_evaluated(tmp_path: Path) -> None:
    schema = copy.deepcopy(F.SCHEMA)
    schema["constraints"]["inequalities"] += [
        {"left": "users.started_on", "op": "<", "right": "events.ts"},  # events.user_id looks up users
        {"left": "plan.price", "op": "<", "right": "events.amount"},  # no lookup links them
    ]
    checks = {c.id: c for c in compile_checks(parse_dataset(schema))}
    linked = checks["inequality:users.started_on < events.ts"]
    assert linked.sql is not None and 'JOIN dg_check."users" AS p ON c."user_id" = p."user_id"' in linked.sql
    unlinked = checks["inequality:plan.price < events.amount"]
    assert unlinked.sql is None and "no lookup links" in (unlinked.reason or "")


def test_value_model_tail_and_support() -> None:
    col = S.Column.model_validate(
        {
            "name": "amount",
            "type": "float",
            "generator": {
                "distribution": {
                    "type": "lognormal",
                    "params": {"mean": 3.4, "sigma": 0.9},
                    "clamp": [1, 2000],
                }
            },
            "modifiers": [
                {"transform": "jitter", "args": {"std": 0.03, "mode": "mul"}},
                {"transform": "outliers", "args": {"rate": 0.005, "mode": "spike"}},
                {"transform": "clamp", "args": {"min": 1, "max": 5000}},
            ],
        }
    )
    assert value_model.support(col) == (1, 5000)
    spec = value_model.distribution(col)
    median = value_model.quantile(spec, False, [], 0.5)
    assert median == pytest.approx(2.718281828**3.4, rel=1e-6)
    steps = value_model.tail_steps(col)
    assert value_model.tail(spec, False, steps, 5000) == 0.0
    assert value_model.tail(spec, False, steps, 0.5) == 1.0
    regular = value_model.tail(spec, False, steps, 300, outlier="none")
    spiked = value_model.tail(spec, False, steps, 300, outlier="all")
    mixed = value_model.tail(spec, False, steps, 300)
    assert regular < mixed < spiked
    assert mixed == pytest.approx(0.995 * regular + 0.005 * spiked)


SALES_DOW = [1.0, 1.0, 1.1, 1.1, 1.2, 1.5, 0.8]


def _sales_schema() -> dict:
    ts = {"datetime_series": {"within": "timeframe"}}
    return {
        "version": "1.0",
        "metadata": {"name": "sales"},
        "timeframe": {"start": "2024-01-01T00:00:00", "end": "2024-12-31T23:00:00", "freq": "H"},
        "nodes": [
            {
                "id": "promo",
                "kind": "entity",
                "pk": "promo_id",
                "rows": 2,
                "columns": [
                    {"name": "promo_id", "type": "int", "generator": {"sequence": {}}},
                    {"name": "region", "type": "string", "generator": {"choice": {"choices": ["N", "S"]}}},
                    {"name": "start_at", "type": "datetime", "generator": ts},
                    {"name": "end_at", "type": "datetime", "generator": ts},
                    {"name": "lift", "type": "float", "generator": {"choice": {"choices": [1.5, 2.0]}}},
                ],
            },
            {
                "id": "sales",
                "kind": "entity",
                "pk": "sale_id",
                "rows": 20000,
                "columns": [
                    {"name": "sale_id", "type": "int", "generator": {"sequence": {}}},
                    {"name": "region", "type": "string", "generator": {"choice": {"choices": ["N", "S"]}}},
                    {"name": "at", "type": "datetime", "generator": ts},
                    {"name": "amount", "type": "float", "generator": {"expression": {"code": "100"}}},
                ],
            },
        ],
        "targets": {
            "composite_effect": {
                "table": "sales",
                "metric": "amount",
                "timestamp": "at",
                "influences": [
                    {"kind": "seasonality", "dimension": "dow", "weights": SALES_DOW},
                    {
                        "kind": "effect",
                        "effect_table": "promo",
                        "on": {"region": "region"},
                        "window": {"start_col": "start_at", "end_col": "end_at"},
                        "map": {"field": "lift", "op": "mul", "default": 1.0},
                    },
                    {"kind": "trend", "type": "linear", "growth_rate": 0.2, "time_reference": "at"},
                    {"kind": "outliers", "rate": 0.01, "mode": "spike"},
                ],
                "tolerance": {"mae": 0.03, "mape": 0.03},
            }
        },
    }


SALES_SQL = """
CREATE TABLE promo AS SELECT * FROM (VALUES
  (1::BIGINT, 'N', TIMESTAMP '2024-03-01', TIMESTAMP '2024-05-31', 1.5::DOUBLE),
  (2::BIGINT, 'S', TIMESTAMP '2024-08-01', TIMESTAMP '2024-10-15', 2.0::DOUBLE)) AS v(promo_id, region, start_at, end_at, lift);
CREATE TABLE base AS
SELECT i + 1 AS sale_id, CASE WHEN hash(i) % 2 = 0 THEN 'N' ELSE 'S' END AS region,
  TIMESTAMP '2024-01-01' + to_hours(CAST(hash(i + 77) % 8784 AS BIGINT)) AS at,
  1 + 0.05 * ((hash(i + 99) % 1000) / 1000.0 - 0.5) AS noise
FROM range(20000) AS t(i);
CREATE TABLE sales AS
SELECT b.sale_id, b.region, b.at,
  100 * b.noise * {dow}[isodow(b.at)] * {effect} * (1 + 0.2 * (epoch(b.at) - epoch(TIMESTAMP '2024-01-01')) / (365.25 * 86400))
    AS amount
FROM base AS b LEFT JOIN promo AS p ON p.region = b.region AND b.at BETWEEN p.start_at AND p.end_at;
"""


@pytest.mark.parametrize(("effect", "passes"), [("coalesce(p.lift, 1.0)", True), ("1.0", False)])
def test_composite_metric_with_seasonality_effect_and_trend(
    tmp_path: Path, effect: str, passes: bool
) -> None:
    out = tmp_path / "sales"
    out.mkdir()
    con = duckdb.connect()
    dow = "CAST([" + ", ".join(map(str, SALES_DOW)) + "] AS DOUBLE[])"
    con.execute(SALES_SQL.format(dow=dow, effect=effect))
    for t in ("promo", "sales"):
        F.copy_table(con, t, out)
    F.write_row_counts(out, {"promo": 2, "sales": 20000})
    report = validate(parse_dataset(_sales_schema()), out)
    result = next(r for r in report.results if r.check.kind == "composite_effect")
    assert result.status is (Status.PASSED if passes else Status.FAILED), result.detail
    assert result.detail["strata_used"] >= 7 * 4 * 2, "dow × quarter since start × in promotion"


def test_long_grids_are_thinned_evenly() -> None:
    """A year of seconds (31.6M points) becomes ≤ MAX_POINTS points that keep hour and dow shares."""
    from dgsql.compiler.checks.grid import MAX_POINTS, Grid, grid_sql

    sql = grid_sql(Grid(datetime(2024, 1, 1), datetime(2024, 12, 31, 23, 59, 59), "S"))
    con = duckdb.connect()
    n, hour_spread, dow_spread = con.execute(
        f"WITH g AS ({sql}) SELECT (SELECT count(*) FROM g),"
        " (SELECT max(c) / min(c) FROM (SELECT hour(ts), count(*) AS c FROM g GROUP BY 1)),"
        " (SELECT max(c) / min(c) FROM (SELECT isodow(ts), count(*) AS c FROM g GROUP BY 1))"
    ).fetchone()
    assert MAX_POINTS / 2 < n <= MAX_POINTS
    assert hour_spread < 1.01
    assert dow_spread < 1.02  # 2024 has 53 Mondays


@pytest.mark.slow
@pytest.mark.parametrize("name", ["users_events", "retail"])
def test_fresh_example_build_passes(name: str, tmp_path: Path) -> None:
    """End to end through `dgsql build` (slow: run with `pytest -m slow`)."""
    out = tmp_path / name
    proc = subprocess.run(
        ["dgsql", "build", str(EXAMPLES / f"{name}.json"), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    report = validate(_example(name), out)
    assert not [r.check.id for r in report.results if r.status is Status.FAILED]
    assert report.passed_gate(95)
