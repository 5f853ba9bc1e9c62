"""Datagen's later behaviours: ``segment_behavior`` and ``vintage_behavior`` of an entity scale its
child facts (fanout and values; children's times after the parent's created_at), with their
validate checks, which pass on honest data and fail on data built without the behaviour."""

from __future__ import annotations

import copy
import json
import math
import shutil
import subprocess
from typing import Any

import pytest

TIMEFRAME = {"start": "2024-01-01T00:00:00", "end": "2024-12-31T23:00:00", "freq": "H"}


def schema(
    dg,
    *,
    segment: dict[str, Any] | None = None,
    vintage: dict[str, Any] | None = None,
    fanout: dict[str, Any] | None = None,
    rows: int = 2000,
) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if segment is not None:
        extra["segment_behavior"] = segment
    if vintage is not None:
        extra["vintage_behavior"] = vintage
    customer = dg.entity(
        "customer",
        dg.col("customer_id", "int", dg.seq()),
        dg.col(
            "segment",
            "string",
            {"choice": {"choices": ["premium", "standard", "basic"], "weights": [0.2, 0.5, 0.3]}},
        ),
        dg.col("created_at", "datetime", {"datetime_series": {"within": "timeframe", "freq": "D"}}),
        rows=rows,
        pk="customer_id",
        **extra,
    )
    purchase = dg.fact(
        "purchase",
        ["customer"],
        dg.col("purchase_id", "int", dg.seq()),
        dg.col("customer_id", "int", {"lookup": {"from": "customer.customer_id"}}),
        dg.col("bought_at", "datetime", {"datetime_series": {"within": "timeframe"}}),
        dg.col("qty", "int", {"distribution": {"type": "uniform", "params": {"low": 1, "high": 9}}}),
        dg.col("amount", "float", {"distribution": {"type": "uniform", "params": {"low": 10, "high": 20}}}),
        dg.col("flat", "float", {"distribution": {"type": "uniform", "params": {"low": 10, "high": 10}}}),
        pk="purchase_id",
        fanout=fanout or {"distribution": "poisson", "lambda": 6},
    )
    return dg.schema(customer, purchase, timeframe=TIMEFRAME)


SEGMENT = {
    "segment_column": "segment",
    "behaviors": {
        "premium": {"fanout_multiplier": 2.0, "value_multiplier": 3.0},
        "basic": {"fanout_multiplier": 0.5, "value_multiplier": 0.5},
    },
    "applies_to_columns": ["amount", "flat", "qty"],
}
VINTAGE = {
    "age_based_multipliers": {
        "decay": {"curve": [1.0, 0.8, 0.6, 0.5], "time_unit": "month", "applies_to": "fanout"},
    }
}


def per_segment(out) -> dict[str, tuple[int, float]]:
    rows = out.sql(
        "SELECT c.segment, count(DISTINCT c.customer_id), count(p.purchase_id) "
        "FROM customer AS c LEFT JOIN purchase AS p USING (customer_id) GROUP BY 1"
    )
    return {seg: (n, kids / n) for seg, n, kids in rows}


def statuses(dg, doc: dict[str, Any], out) -> dict[str, str]:
    """Check id → status of ``dgsql validate`` of ``doc`` over the files in ``out``."""
    path = dg.write_schema(doc)
    report = path.parent / "report.json"
    result = dg.cli("validate", path, "-d", out.path, "--report", report)
    assert result.exit_code in (0, 1), result.stderr
    return {c["id"]: c["status"].lower() for c in json.loads(report.read_text())["checks"]}


# ------------------------------------------------------------------ exact


def test_constant_fanout_times_multiplier_is_exact(dg):
    """A fanout of constant 4 and a multiplier of 2 gives exactly 8 children; 0.5 gives 2."""
    doc = schema(dg, segment=SEGMENT, fanout={"distribution": "uniform", "min": 4, "max": 4}, rows=300)
    out = dg.build(doc)
    counts = out.sql(
        "SELECT c.segment, count(p.purchase_id) AS k FROM customer AS c LEFT JOIN purchase AS p "
        "USING (customer_id) GROUP BY c.customer_id, c.segment"
    )
    want = {"premium": 8, "standard": 4, "basic": 2}
    assert {seg for seg, _ in counts} == set(want)
    assert all(k == want[seg] for seg, k in counts)


def test_value_multiplier_is_exact_per_row(dg):
    """A constant column times the segment's value_multiplier, on every row; an int rounds once."""
    out = dg.build(schema(dg, segment=SEGMENT, rows=300))
    rows = out.sql("SELECT c.segment, p.flat FROM purchase AS p JOIN customer AS c USING (customer_id)")
    want = {"premium": 30.0, "standard": 10.0, "basic": 5.0}
    assert rows and all(flat == want[seg] for seg, flat in rows)


def test_one_rounding_with_vintage_and_segment(dg):
    """k = round(k0 · segment · vintage), rounded once: 4 · 0.5 · 0.6 = 1.2 → 1 (two roundings of
    2 · 0.6 would agree here, 4 · 0.5 · 0.5 = 1 too; 4 · 2 · 0.6 = 4.8 → 5)."""
    doc = schema(
        dg, segment=SEGMENT, vintage=VINTAGE, fanout={"distribution": "uniform", "min": 4, "max": 4}, rows=400
    )
    out = dg.build(doc)
    rows = out.sql(
        """SELECT c.segment, least(round(date_diff('second', c.created_at, TIMESTAMP '2024-12-31 23:00:00')
                 / 86400.0 / 30), 3)::INT AS bucket, count(p.purchase_id) AS k
           FROM customer AS c LEFT JOIN purchase AS p USING (customer_id) GROUP BY c.customer_id, 1, 2"""
    )
    seg = {"premium": 2.0, "standard": 1.0, "basic": 0.5}
    curve = [1.0, 0.8, 0.6, 0.5]
    bad = [(s, b, k) for s, b, k in rows if k != int(4 * seg[s] * curve[b] + 0.5)]
    assert not bad, bad[:5]


def test_children_never_precede_their_parent(dg):
    out = dg.build(schema(dg, vintage=VINTAGE, rows=500))
    early = out.one(
        "SELECT count(*) FROM purchase AS p JOIN customer AS c USING (customer_id) WHERE p.bought_at < c.created_at"
    )
    assert early == 0
    assert out.one("SELECT count(*) FROM purchase") > 0


def test_date_children_never_precede_their_parents_day(dg):
    """A date child is drawn as a time after the parent's created_at and cut to its day (0.6.0
    drew it over the whole timeframe: ~half the rows fell before the parent)."""
    doc = schema(dg, vintage=VINTAGE, rows=500)
    bought = doc["nodes"][1]["columns"][2]
    bought.update(name="bought_on", type="date")
    out = dg.build(doc)
    early = out.one(
        "SELECT count(*) FROM purchase AS p JOIN customer AS c USING (customer_id)"
        " WHERE p.bought_on < CAST(c.created_at AS DATE)"
    )
    same_day = out.one(
        "SELECT count(*) FROM purchase AS p JOIN customer AS c USING (customer_id)"
        " WHERE p.bought_on = CAST(c.created_at AS DATE)"
    )
    assert early == 0 and same_day > 0  # the day of created_at itself is allowed
    found = statuses(dg, doc, out)
    assert found["vintage_behavior:purchase.bought_on:timestamps"] == "passed"
    early_file = out.path / "early.parquet"
    out.sql(
        f"COPY (SELECT * EXCLUDE (file_row_number) REPLACE (DATE '2024-01-01' AS bought_on) FROM purchase)"
        f" TO '{early_file}'"
    )  # every purchase on the timeframe's first day: before most parents
    shutil.move(early_file, out.file("purchase"))
    assert statuses(dg, doc, out)["vintage_behavior:purchase.bought_on:timestamps"] == "failed"


def test_unknown_segment_is_one(dg):
    """Segments without a behaviour keep the declared fanout: standard's mean is λ = 6."""
    out = dg.build(schema(dg, segment=SEGMENT, rows=4000))
    n, mean = per_segment(out)["standard"]
    assert abs(mean - 6.0) < 4 * (6.0 / n) ** 0.5


# ------------------------------------------------------------ statistical


def rounded_mean(lam: float, m: float) -> float:
    """E[round(k·m)], k ~ Poisson(lam), rounded half away from zero (the one rounding)."""
    p, total = math.exp(-lam), 0.0
    for k in range(80):
        total += p * math.floor(k * m + 0.5)
        p *= lam / (k + 1)
    return total


def test_fanout_means_statistical(dg):
    """N = 4000 parents, Poisson(6): per segment the mean children per parent is E[round(k·m)]
    (12.0 premium, 6.0 standard, 3.18 basic: the one rounding lifts odd k/2), within 4 standard
    errors of the segment's mean."""
    out = dg.build(schema(dg, segment=SEGMENT, rows=4000))
    for name, m in (("premium", 2.0), ("standard", 1.0), ("basic", 0.5)):
        n, mean = per_segment(out)[name]
        sd = m * 6**0.5
        assert abs(mean - rounded_mean(6, m)) < 4 * sd / n**0.5, (name, mean)
    expected = 4000 * (0.2 * rounded_mean(6, 2) + 0.5 * 6 + 0.3 * rounded_mean(6, 0.5))
    assert abs(out.one("SELECT count(*) FROM purchase") - expected) < 0.03 * expected


def test_preflight_expected_rows_count_segment_multipliers(dg):
    doc = schema(dg, segment=SEGMENT, rows=1000)
    result = dg.cli("check", dg.write_schema(doc))
    assert result.exit_code == 0, result.stderr
    # 1000 · 6 · (0.2·2 + 0.5 + 0.3·0.5) = 6,300 expected rows
    assert "6,300" in result.stdout + result.stderr


def test_parametric_curves_scale_values(dg):
    vintage = {
        "age_based_multipliers": {
            "grow": {"curve": {"curve_type": "linear", "params": {"a": 1, "b": 0.5}}, "applies_to": ["flat"]},
            "tail": {"curve": "exponential", "params": {"a": 1, "b": -0.1}, "applies_to": "fanout"},
        }
    }
    out = dg.build(schema(dg, vintage=vintage, rows=300))
    rows = out.sql(
        """SELECT p.flat, greatest(epoch_us(TIMESTAMP '2024-12-31 23:00:00') - epoch_us(c.created_at), 0)
                  / 86400e6 / 30 AS age
           FROM purchase AS p JOIN customer AS c USING (customer_id)"""
    )
    assert rows and all(abs(flat - 10 * (1 + 0.5 * age)) < 1e-9 * flat for flat, age in rows)


# ------------------------------------------------------------ the checks


def test_checks_pass_on_honest_data_and_fail_without_behaviour(dg):
    honest_doc = schema(dg, segment=SEGMENT, vintage=VINTAGE, rows=3000)
    honest = dg.build(honest_doc)
    got = statuses(dg, honest_doc, honest)
    ours = {k: v for k, v in got.items() if k.startswith(("segment_behavior", "vintage_behavior"))}
    assert ours == {
        "segment_behavior:purchase:fanout": "passed",
        "segment_behavior:purchase.amount": "passed",
        "segment_behavior:purchase.flat": "passed",
        "segment_behavior:purchase.qty": "passed",
        "vintage_behavior:purchase:fanout": "passed",
        "vintage_behavior:purchase.bought_at:timestamps": "passed",
    }, ours
    assert not [k for k, v in got.items() if v == "failed"], got

    plain = dg.build(schema(dg, rows=3000))
    without = statuses(dg, honest_doc, plain)
    for check in ours:
        assert without[check] == "failed", (check, without[check])


def test_vintage_checks_fail_without_vintage_only(dg):
    doc = schema(dg, vintage=VINTAGE, rows=3000)
    without = statuses(dg, doc, dg.build(schema(dg, rows=3000)))
    assert without["vintage_behavior:purchase:fanout"] == "failed"
    assert without["vintage_behavior:purchase.bought_at:timestamps"] == "failed"


# ------------------------------------------------------------- the schema


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (
            {"segment_behavior": {"segment_column": "tier", "behaviors": {"a": {"fanout_multiplier": 2}}}},
            "nodes[0].segment_behavior.segment_column: table 'customer' has no column 'tier'",
        ),
        (
            {"segment_behavior": {**SEGMENT, "applies_to_columns": ["bought_at"]}},
            "nodes[0].segment_behavior.applies_to_columns[0]: purchase.bought_at is a datetime",
        ),
        (
            {"segment_behavior": {**SEGMENT, "applies_to_columns": ["amunt"]}},
            "nodes[0].segment_behavior.applies_to_columns[0]: no child fact of 'customer' has a column 'amunt'",
        ),
        (
            {"vintage_behavior": {"age_based_multipliers": {"d": {"curve": [], "applies_to": "fanout"}}}},
            "nodes[0].vintage_behavior.age_based_multipliers.d: curve is an empty list",
        ),
        (
            {"vintage_behavior": {"age_based_multipliers": {"d": {"curve": {"curve_type": "cubic"}}}}},
            "nodes[0].vintage_behavior.age_based_multipliers.d.curve",
        ),
        (
            {"vintage_behavior": {"created_at_column": "segment", **VINTAGE}},
            "nodes[0].vintage_behavior.created_at_column: customer.segment is a string",
        ),
        (
            {
                "segment_behavior": {
                    "segment_column": "segment",
                    "behaviors": {"a": {"fanout_multiplier": -1}},
                }
            },
            "nodes[0].segment_behavior.behaviors.a.fanout_multiplier",
        ),
    ],
)
def test_bad_shapes_are_errors_at_their_path(dg, patch, message):
    doc = schema(dg)
    doc["nodes"][0].update(copy.deepcopy(patch))
    result = dg.cli("check", dg.write_schema(doc))
    assert result.exit_code == 2
    assert any(e.startswith(message) for e in result.errors), result.errors


def test_funnel_segments_give_choice_weights_with_a_warning(dg):
    doc = schema(dg)
    seg_col = doc["nodes"][0]["columns"][1]
    del seg_col["generator"]["choice"]["weights"]
    doc["nodes"][0]["segment_behavior"] = {
        "segment_column": "segment",
        "segments": {
            "premium": {"base_probability": 0.7, "conversion": 0.1},
            "standard": {"base_probability": 0.3},
            "basic": {"base_probability": 0.0},
        },
    }
    out = dg.build(doc)
    assert "base_probability" in out.result.stderr
    shares = dict(out.sql("SELECT segment, count(*) / 2000 FROM customer GROUP BY 1"))
    assert "basic" not in shares
    assert abs(shares["premium"] - 0.7) < 0.05


# ----------------------------------------------------------- round trips


def test_duckdb_cli_writes_the_same_files(dg, tmp_path):
    duckdb_cli = shutil.which("duckdb")
    if duckdb_cli is None:
        pytest.skip("no duckdb CLI on PATH")
    doc = schema(dg, segment=SEGMENT, vintage=VINTAGE, rows=500)
    built = dg.build(doc)
    sql = dg.emit_sql(doc, "--out-dir", "cli")
    subprocess.run([duckdb_cli, "-c", sql], cwd=tmp_path, check=True, capture_output=True)
    for name in ("customer", "purchase"):
        ours = built.sql(f"SELECT * EXCLUDE (file_row_number) FROM {name} ORDER BY file_row_number")
        theirs = built.sql(f"SELECT * FROM read_parquet('{tmp_path / 'cli' / name}.parquet')")
        assert ours == theirs


def test_a_vintage_value_curve_has_its_own_check(dg):
    """A curve on ``amount``: per age bucket of the parent, amount's mean against the curve's
    ratio; it passes on honest data and fails on data built without the curve."""
    vintage = {
        "age_based_multipliers": {
            "grow": {"curve": [1.0, 1.5, 2.0, 3.0], "time_unit": "month", "applies_to": "amount"}
        }
    }
    doc = schema(dg, vintage=vintage, rows=3000)
    honest = statuses(dg, doc, dg.build(doc))
    assert honest["vintage_behavior:purchase.amount:value"] == "passed"
    without = statuses(dg, doc, dg.build(schema(dg, rows=3000)))
    assert without["vintage_behavior:purchase.amount:value"] == "failed"
