"""``validate`` checks the declared laws (issue 19): it catches the five corruptions a user made
by hand on a 200k-row table, naming the check meant for each, passes honest builds, and its
expectations are exact where the semantics are."""

from __future__ import annotations

import math
from typing import Any

import duckdb
import pytest

import dgsql
from dgsql.compiler.checks import binned, compile_checks
from dgsql.compiler.checks import law as L
from dgsql.compiler.checks.choice_shares import value_sql
from dgsql.compiler.load import parse_dataset
from dgsql.compiler.sqltext import fill, ident
from dgsql.dsl.laws import kind_weights
from dgsql.dsl.model import Column
from dgsql.runtime.report import Status
from dgsql.runtime.validate import validate_tables

ROWS = 200_000
HOURS = [1, 1, 1, 1, 1, 2, 3, 5, 8, 9, 9, 8, 7, 7, 7, 8, 9, 9, 8, 6, 4, 3, 2, 1]

SCHEMA: dict[str, Any] = {
    "version": "1.0",
    "metadata": {"name": "bakery"},
    "timeframe": {"start": "2025-03-01T00:00:00Z", "end": "2025-08-31T23:00:00Z", "freq": "H"},
    "nodes": [
        {
            "id": "orders",
            "kind": "entity",
            "pk": "order_id",
            "rows": ROWS,
            "columns": [
                {"name": "order_id", "type": "int", "generator": {"sequence": {"start": 1}}},
                {
                    "name": "tier",
                    "type": "string",
                    "generator": {
                        "choice": {"choices": ["bread", "cake", "pie", "tart"], "weights": [50, 25, 15, 10]}
                    },
                },
                {
                    "name": "basket",
                    "type": "float",
                    "generator": {
                        "distribution": {
                            "type": "normal",
                            "params": {"mean": 80, "std": 12},
                            "clamp": [20, 140],
                        }
                    },
                },
                {
                    "name": "placed_at",
                    "type": "datetime",
                    "generator": {
                        "datetime_series": {
                            "within": "timeframe",
                            "freq": "H",
                            "pattern": {"dimension": "hour", "weights": HOURS},
                        }
                    },
                },
            ],
        }
    ],
}

CORRUPTIONS = {
    # 3 points of bread's 50 % moved to tart's 10 %: 6 % of the bread rows
    "choice": (
        "UPDATE c SET tier = 'tart' WHERE tier = 'bread' AND hash(order_id) % 1000 < 60",
        "choice_shares:orders.tier",
    ),
    "mean": ("UPDATE c SET basket = basket + 1.6", "distribution_law:orders.basket:mean"),
    "spread": (
        "UPDATE c SET basket = least(140, greatest(20, 80 + 1.1 * (basket - 80)))",
        "distribution_law:orders.basket:sd",
    ),
    "uniform": (
        "UPDATE c SET basket = 20 + 120 * (hash(order_id) % 1000000) / 1000000.0",
        "distribution_law:orders.basket:shape",
    ),
    "hours": (
        "UPDATE c SET placed_at = date_trunc('day', placed_at) + to_hours(CAST(hash(order_id) % 24 AS BIGINT))",
        "datetime_shape:orders.placed_at:hour",
    ),
}


@pytest.fixture(scope="module")
def built() -> dgsql.Generated:
    return dgsql.generate(SCHEMA, seed=11)


def _failed(report: dgsql.Report) -> set[str]:
    return {r.check.id for r in report.results if r.status is Status.FAILED}


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_each_corruption_is_caught_by_its_check(built: dgsql.Generated, name: str) -> None:
    update, check = CORRUPTIONS[name]
    con = built.con
    con.execute(f"CREATE OR REPLACE TABLE c AS SELECT * FROM {built.relation('orders')}")
    con.execute(update)
    report = validate_tables(built.dataset, con, {"orders": ident("c")}, built.metadata)
    failed = _failed(report)
    assert check in failed, f"{name}: failed {sorted(failed)}"
    assert failed <= {
        check,
        "distribution_law:orders.basket:shape",
        "distribution_law:orders.basket:sd",
    }, "nothing unrelated fails"
    result = next(r for r in report.results if r.check.id == check)
    assert {"row_count"} <= set(result.detail), "the detail gives n with the statistic and its bound"
    assert report.quality_score < 100
    # a failed law check fails the gate (exit 1) whatever the threshold; the hour profile's
    # older check counts in the score only
    assert report.laws_hold() is (not result.check.law)
    assert report.passed_gate(0) is (not result.check.law)


def test_the_honest_build_passes(built: dgsql.Generated) -> None:
    report = dgsql.validate(SCHEMA, built)
    assert _failed(report) == set()
    assert report.laws_hold() and report.passed_gate()
    statuses = {r.check.id: r.status for r in report.results}
    for check in (
        "choice_shares:orders.tier",
        "distribution_law:orders.basket:shape",
        "datetime_shape:orders.placed_at:hour",
    ):
        assert statuses[check] is Status.PASSED
    shape = next(r for r in report.results if r.check.id == "distribution_law:orders.basket:shape")
    assert shape.detail["row_count"] == ROWS and shape.detail["df"] == 19
    assert shape.detail["bound"] == pytest.approx(binned.chi2_quantile(19, binned.BOUND_ALPHA))


LAWS: dict[str, Any] = {
    "version": "1.0",
    "metadata": {"name": "laws"},
    "nodes": [
        {
            "id": "shelf",
            "kind": "entity",
            "pk": "sku",
            "rows": 30,
            "columns": [
                {"name": "sku", "type": "int", "generator": {"sequence": {"start": 100, "step": 3}}},
                {"name": "aisle", "type": "string", "generator": {"choice": {"choices": ["a", "b", "c"]}}},
            ],
        },
        {
            "id": "sales",
            "kind": "entity",
            "pk": "id",
            "rows": 40_000,
            "columns": [
                {"name": "id", "type": "int", "generator": {"sequence": {}}},
                {
                    "name": "sku",
                    "type": "int",
                    "generator": {"choice": {"choices_ref": "shelf.sku", "weights_kind": "zipf@1.3"}},
                },
                {"name": "aisle", "type": "string", "generator": {"choice": {"choices_ref": "shelf.aisle"}}},
                {
                    "name": "head",
                    "type": "int",
                    "generator": {
                        "choice": {
                            "choices": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
                            "weights_kind": "head_tail@{0.6,1.2}",
                        }
                    },
                    "modifiers": [{"transform": "map_values", "args": {"mapping": {"2": 1}}}],
                },
                {
                    "name": "qty",
                    "type": "int",
                    "nullable": True,
                    "null_rate": 0.2,
                    "generator": {
                        "distribution": {"type": "uniform", "params": {"low": 1, "high": 6}, "clamp": [1, 6]}
                    },
                },
                {
                    "name": "visits",
                    "type": "int",
                    "generator": {
                        "distribution": {"type": "poisson", "params": {"lambda": 70}, "clamp": [0, 500]}
                    },
                },
                {
                    "name": "weight",
                    "type": "float",
                    "generator": {
                        "distribution": {
                            "type": "lognormal",
                            "params": {"mean": 1, "sigma": 0.4},
                            "clamp": [0.5, 9],
                        }
                    },
                    "modifiers": [
                        {"transform": "multiply", "args": {"factor": 2}},
                        {"transform": "add", "args": {"value": -1}},
                    ],
                },
                {
                    "name": "age",
                    "type": "int",
                    "generator": {
                        "distribution": {
                            "type": "normal",
                            "params": {"mean": 40, "std": 9},
                            "clamp": [18, 90],
                        }
                    },
                },
                {
                    "name": "noisy",
                    "type": "float",
                    "generator": {"distribution": {"type": "normal", "params": {"mean": 5, "std": 1}}},
                    "modifiers": [{"transform": "jitter", "args": {"std": 0.1}}],
                },
            ],
        },
    ],
}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_law_of_an_honest_build_passes(seed: int) -> None:
    report = dgsql.validate(LAWS, dgsql.generate(LAWS, seed=seed))
    assert _failed(report) == set()
    status = {r.check.id: r.status for r in report.results}
    for check in (
        "choice_shares:sales.sku",
        "choice_shares:sales.aisle",
        "choice_shares:sales.head",
        "null_rate:sales.qty",
        *(
            f"distribution_law:sales.{c}:{p}"
            for c in ("qty", "visits", "weight", "age")
            for p in ("shape", "mean", "sd")
        ),
    ):
        assert status[check] is Status.PASSED, check


def test_laws_outside_the_exact_compositions_are_not_evaluated_with_a_reason() -> None:
    checks = {c.id: c for c in compile_checks(parse_dataset(LAWS))}
    noisy = checks["distribution_law:sales.noisy:shape"]
    assert noisy.sql is None and "jitter" in (noisy.reason or "")


def test_ranked_choices_ref_shares_are_the_generators() -> None:
    """zipf over a sequence-keyed table: the declared shares the check computes in SQL are the
    compiler's weights for the rows in order."""
    dataset = parse_dataset(LAWS)
    con = duckdb.connect()
    built = dgsql.generate(LAWS, con, seed=1)
    check = next(c for c in compile_checks(dataset) if c.id == "choice_shares:sales.sku")
    declared_sql = check.sql.split("\ndeclared AS")[0].removeprefix("WITH declared_rows AS (").rstrip(")\n,")
    con.execute("CREATE SCHEMA dg_check")
    for name in ("shelf", "sales"):
        con.execute(f'CREATE VIEW dg_check."{name}" AS SELECT * FROM {built.relation(name)}')
    got = dict(con.execute(f"SELECT v, sum(w) FROM ({declared_sql}) GROUP BY v ORDER BY v").fetchall())
    weights = kind_weights("zipf", (1.3,), 30)
    total = math.fsum(weights)
    assert got == pytest.approx({100 + 3 * i: w / total for i, w in enumerate(weights)}, rel=1e-12)


def test_choice_values_go_through_the_value_modifiers_in_sql() -> None:
    col = Column.model_validate(
        {
            "name": "x",
            "type": "int",
            "generator": {"choice": {"choices": [1, 2]}},
            "modifiers": [
                {"transform": "map_values", "args": {"mapping": {"2": 5}}},
                {"transform": "multiply", "args": {"factor": 1.5}},
            ],
        }
    )
    sql = value_sql(col, parse_dataset(LAWS))
    got = duckdb.sql(fill("SELECT {v} FROM (VALUES (1), (2)) AS d(x) ORDER BY 1", v=sql)).fetchall()
    assert got == [(2,), (8,)]  # 1.5 → 2 and 7.5 → 8: rounded half away from zero


def _col(t: str, spec: dict[str, Any], mods: list[dict[str, Any]] | None = None) -> Column:
    return Column.model_validate(
        {"name": "x", "type": t, "generator": {"distribution": spec}, "modifiers": mods or []}
    )


def test_exact_moments() -> None:
    # uniform integers 1..6: mean 3.5, variance 35/12
    m = L.moments(
        L.law_of(_col("int", {"type": "uniform", "params": {"low": 1, "high": 6}, "clamp": [1, 6]}))
    )
    assert (m.mean, m.variance) == pytest.approx((3.5, 35 / 12), rel=1e-12)
    # an unclamped normal through multiply and add: an affine map of N(10, 2)
    law = L.law_of(
        _col(
            "float",
            {"type": "normal", "params": {"mean": 10, "std": 2}},
            [{"transform": "multiply", "args": {"factor": 3}}, {"transform": "add", "args": {"value": 1}}],
        )
    )
    m = L.moments(law)
    assert (m.mean, m.variance, m.fourth) == pytest.approx((31, 36, 3 * 36**2), rel=1e-9)
    # a lognormal: mean exp(μ + σ²/2), variance (exp(σ²) − 1)·exp(2μ + σ²)
    m = L.moments(L.law_of(_col("float", {"type": "lognormal", "params": {"mean": 0.5, "sigma": 0.3}})))
    assert m.mean == pytest.approx(math.exp(0.5 + 0.045), rel=1e-9)
    assert m.variance == pytest.approx((math.exp(0.09) - 1) * math.exp(1 + 0.09), rel=1e-9)
    # a clamp folds the tail onto its end: uniform(0, 10) clamped by a modifier at 8
    law = L.law_of(
        _col(
            "float",
            {"type": "uniform", "params": {"low": 0, "high": 10}, "clamp": [0, 10]},
            [{"transform": "clamp", "args": {"max": 8}}],
        )
    )
    assert L.moments(law).mean == pytest.approx(0.8 * 4 + 0.2 * 8, rel=1e-12)
    # a wide integer uniform (more values than listed) whose clamp folds both ends: as summed
    spec = {"type": "uniform", "params": {"low": 1, "high": 5000}, "clamp": [100.5, 3000]}
    law = L.law_of(_col("int", spec))
    values = [L._round(min(max(k, 100.5), 3000)) for k in range(1, 5001)]
    mean = math.fsum(values) / len(values)
    m = L.moments(law)
    assert m.mean == pytest.approx(mean, rel=1e-12)
    assert m.variance == pytest.approx(math.fsum((v - mean) ** 2 for v in values) / len(values), rel=1e-12)
    assert m.fourth == pytest.approx(math.fsum((v - mean) ** 4 for v in values) / len(values), rel=1e-12)


def test_shape_cells_fold_the_clamp_in() -> None:
    law = L.law_of(_col("int", {"type": "poisson", "params": {"lambda": 2}, "clamp": [1, 5]}))
    cells = L.cells(law)
    assert cells.values == (1.0, 2.0, 3.0, 4.0, 5.0)
    p = [math.exp(-2) * 2**k / math.factorial(k) for k in range(6)]
    assert cells.shares[0] == pytest.approx(p[0] + p[1], rel=1e-12)
    assert cells.shares[-1] == pytest.approx(1 - sum(p[:5]), rel=1e-9)
    law = L.law_of(_col("float", {"type": "normal", "params": {"mean": 0, "std": 1}, "clamp": [-1, 1]}))
    cells = L.cells(law)
    assert all(-1 < e < 1 for e in cells.edges), "no bin edge on a clamp's atom"
    assert sum(cells.shares) == pytest.approx(1)


def test_chi_square_bounds() -> None:
    assert binned.chi2_quantile(1) == pytest.approx(23.9281269769, rel=1e-9)
    assert binned.chi2_quantile(19) == pytest.approx(63.6770522857, rel=1e-9)
    assert binned.chi2_quantile(4, 0.05) == pytest.approx(9.48772903678, rel=1e-9)
