"""The shape of a column drawn after a bound (issue 14): validate compares it with its declared
weights truncated after each row's own bound, and ``dgsql check`` warns when an inequality
visibly reshapes it.

Salts do not depend on the constraints, so the schema built without its inequality gives the
later column's untruncated draws, with the first column unchanged: the check must fail on them.
"""

from __future__ import annotations

import doctest
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from dgsql.compiler.checks import datetime_shape, truncation
from dgsql.compiler.checks.truncation import declared_law, truncated_shares
from dgsql.compiler.load import parse_dataset
from dgsql.compiler.plan import build_plan
from dgsql.compiler.preflight import Preflight, _check_reshaping
from dgsql.dsl import time as dsl_time
from dgsql.dsl.time import series_grid, series_patterns

ROWS = 200_000
TF = {"start": "2024-01-01", "end": "2024-12-31 23:00:00", "freq": "H"}
HOURS = [1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 6, 6, 5, 5, 5, 4, 3, 2, 2, 1, 1]
MONTHS = [1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 4]
WORKDAYS = [3, 3, 3, 3, 3, 1, 1]
MILD = [1.2, 1.1, 1, 1, 1, 1, 1, 1, 1, 1, 1.1, 1.2]
INEQUALITY = {"left": "orders.ordered_at", "op": "<", "right": "orders.shipped_at"}


def series(*patterns: tuple[str, list[float]], within: Any = "timeframe") -> dict[str, Any]:
    return {
        "datetime_series": {
            "within": within,
            "patterns": [{"dimension": d, "weights": w} for d, w in patterns],
        }
    }


def orders(dg, ordered_at: dict, shipped_at: dict, *, inequality: bool = True, rows: int = ROWS) -> dict:
    """orders: a seasonal ``ordered_at`` and a ``shipped_at`` after it."""
    node = dg.entity(
        "orders",
        dg.col("id", "int", dg.seq()),
        dg.col("ordered_at", "datetime", ordered_at),
        dg.col("shipped_at", "datetime", shipped_at),
        rows=rows,
        pk="id",
    )
    extra = {"constraints": {"inequalities": [INEQUALITY]}} if inequality else {}
    return dg.schema(node, timeframe=TF, **extra)


SEASONAL = series(("hour", HOURS), ("month", MONTHS))
SHIPPED = series(("dow", WORKDAYS), ("month", MILD))


@pytest.fixture(scope="module")
def built(dg, tmp_path_factory) -> tuple[Path, Path, dict[str, dict]]:
    """(schema, data folder, the report's checks by id) of a validated build of the schema."""
    schema = dg.write_schema(orders(dg, SEASONAL, SHIPPED), tmp_path_factory.mktemp("shapes"))
    out = schema.parent / "out"
    result = dg.cli("build", schema, "-o", out, "--validate")
    assert result.exit_code == 0, result.stderr
    return schema, out, _checks(dg, schema, out)


def _checks(dg, schema: Path, out: Path) -> dict[str, dict]:
    report = out.parent / f"report-{out.name}.json"
    dg.cli("validate", schema, "-d", out, "--report", report)
    return {c["id"]: c for c in json.loads(report.read_text())["checks"]}


def test_the_truncated_column_passes_against_its_truncated_expectation(built) -> None:
    _, _, checks = built
    for dim in ("hour", "month"):
        exact = checks[f"datetime_shape:orders.ordered_at:{dim}"]
        assert exact["passed"] is True, exact
        assert "shares" not in exact["detail"]["expected"] and "ASOF" not in exact["sql"]
    for dim in ("dow", "month"):
        later = checks[f"datetime_shape:orders.shipped_at:{dim}"]
        assert later["passed"] is True, later["detail"]
        assert later["detail"]["expected"]["shares"] == (
            "declared weights truncated after greatest(ordered_at) per row"
        )
        assert later["detail"]["truncated_after"] == "ordered_at"
        assert 0 < later["detail"]["past_span_rows"] < 100  # a bound at the last hour leaves nothing
        assert "ASOF JOIN" in later["sql"]
    assert checks["inequality:orders.ordered_at < orders.shipped_at"]["passed"] is True


def test_the_exact_check_is_the_chi_square_and_the_truncated_one_the_tvd(built) -> None:
    """ordered_at's expectation is exact (its declared weights): the law checks' chi-square;
    shipped_at's is truncated per row: the TVD with the tolerance preflight also uses."""
    schema, _, checks = built
    for dim in ("hour", "month"):
        detail = checks[f"datetime_shape:orders.ordered_at:{dim}"]["detail"]
        assert detail["chi_square"] <= detail["bound"] and detail["row_count"] > 0
    later = checks["datetime_shape:orders.shipped_at:month"]["detail"]
    assert later["tvd"] <= later["tolerance"]


def test_an_untruncated_draw_fails_the_truncated_check(dg, built, tmp_path: Path) -> None:
    schema, out, _ = built
    raw = dg.build(orders(dg, SEASONAL, SHIPPED, inequality=False))
    assert raw.one("SELECT count(*) FROM orders WHERE ordered_at >= shipped_at") > 0
    swapped = tmp_path / "swapped"
    shutil.copytree(out, swapped)
    shutil.copy(raw.file("orders"), swapped / "orders.parquet")
    checks = _checks(dg, schema, swapped)
    assert checks["datetime_shape:orders.ordered_at:month"]["passed"] is True, "the first column is unchanged"
    month = checks["datetime_shape:orders.shipped_at:month"]
    assert month["passed"] is False
    assert month["detail"]["tvd"] > 10 * month["detail"]["tolerance"]


WARNING = (
    "warning: constraints.inequalities[0]: orders.shipped_at is drawn after orders.ordered_at: "
    "its month shares move by TVD "
)


@pytest.mark.parametrize(
    "shipped_at", [SHIPPED, series(("dow", WORKDAYS)), series()], ids=["dow-month", "dow", "flat"]
)
def test_check_warns_where_the_inequality_reshapes_the_later_column(dg, shipped_at) -> None:
    """Every dimension is looked at, weighted or not: a dow-weighted (or unweighted) shipped_at
    after a seasonal ordered_at is pushed into the last months."""
    path = dg.write_schema(orders(dg, SEASONAL, shipped_at))
    result = dg.cli("check", path)
    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(lines) == 1 and lines[0].startswith(WARNING), result.stderr
    assert "(validate's tolerance at 200,000 rows: 0.0" in lines[0]
    assert '"expression": {"code": "ordered_at + hours(d)"}' in lines[0]
    strict = dg.cli("check", path, "--strict")
    assert strict.exit_code == 2
    assert any(line.startswith("error: constraints.inequalities[0]") for line in strict.stderr.splitlines())


def test_no_warning_where_the_bound_leaves_the_later_column_whole(dg) -> None:
    """ordered_at within the first hours of the year, shipped_at from the next day on: every
    point of shipped_at is after every bound, so truncation removes nothing."""
    early = series(("hour", HOURS), within={"start": "2024-01-01", "end": "2024-01-01 05:00:00"})
    later = series(
        ("dow", WORKDAYS), ("month", MILD), within={"start": "2024-01-02", "end": "2024-12-31 23:00:00"}
    )
    result = dg.cli("check", dg.write_schema(orders(dg, early, later)), "--strict")
    assert result.exit_code == 0, result.stderr
    assert "warning" not in result.stderr


def test_the_warning_matches_the_generator(dg) -> None:
    """A year of hourly points on both sides warns once; and the truncated shares agree with a
    direct sum over every (bound, point) pair on a small grid. (Tests never time: the cost of
    the warning is in bench/, not here.)"""
    ds = parse_dataset(orders(dg, SEASONAL, SHIPPED))
    plan = build_plan(ds, 1)
    report = Preflight()
    _check_reshaping(plan.tables[0], ds, report)
    assert len(report.problems) == 1
    small = {"start": "2024-01-01", "end": "2024-01-20 23:00:00"}
    ds = parse_dataset(
        orders(dg, series(("hour", HOURS), within=small), series(("dow", WORKDAYS), within=small))
    )
    a, b = ds.nodes[0].columns[1:3]
    la, lb = (
        declared_law(
            series_grid(c.generator.datetime_series, ds), series_patterns(c.generator.datetime_series, c)
        )
        for c in (a, b)
    )
    assert la is not None and lb is not None
    for strict in (True, False):
        got = truncated_shares(la, lb, strict)
        want = [0.0] * 7
        for t, p in zip(la.starts, la.weights, strict=True):
            allowed = [
                (u, w) for u, w in zip(lb.starts, lb.weights, strict=True) if (u > t if strict else u >= t)
            ]
            if not allowed:  # past the span: the next grid point
                want[lb.grid.at(lb.grid.first_after(t, strict)).weekday()] += p
                continue
            s = sum(w for _, w in allowed)
            for u, w in allowed:
                want[u.weekday()] += p * w / s
        assert got["dow"] == pytest.approx([v / sum(la.weights) for v in want], abs=1e-12)


def test_a_grid_finer_than_an_hour_is_taken_by_hours(dg) -> None:
    ds = parse_dataset(orders(dg, SEASONAL, series(("dow", WORKDAYS))))
    col = ds.nodes[0].columns[2]
    g = dsl_time.grid(dsl_time.series_span(col.generator.datetime_series, ds), "7min")
    law = declared_law(g, series_patterns(col.generator.datetime_series, col))
    hourly = declared_law(
        series_grid(col.generator.datetime_series, ds), series_patterns(col.generator.datetime_series, col)
    )
    assert law is not None and hourly is not None
    # the hours from the first point to the last (22:54 on Dec 31st), with 8 or 9 points each
    assert len(law.starts) == 8783 and {g.first, g.last.replace(minute=0)} <= set(law.starts)
    assert sum(law.weights) == pytest.approx(sum(WORKDAYS[g.at(k).weekday()] for k in range(g.points)))
    assert law.shares()["dow"] == pytest.approx(hourly.shares()["dow"], abs=1e-3)


@pytest.mark.parametrize("module", [datetime_shape, truncation, dsl_time])
def test_doctests(module) -> None:
    assert doctest.testmod(module).failed == 0
