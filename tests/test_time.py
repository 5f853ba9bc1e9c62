"""The time grid (``dgsql.dsl.time``): frequencies and their spellings, the grid of a span, the
compiler and the checks sampling and checking the same grid, and every problem of a
``datetime_series`` found without rendering."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pytest

from dgsql.compiler.checks.grid import DIMENSIONS, Grid, grid_sql
from dgsql.compiler.generators.datetime_series import DIMENSION_SQL, GRID_LIMIT, point_sql, problems
from dgsql.compiler.load import parse_dataset
from dgsql.dsl import model as S
from dgsql.dsl import time
from dgsql.dsl.problems import Problem, warning
from dgsql.runtime.report import Status
from dgsql.runtime.validate import validate

SPAN = S.Span(start="2024-03-06T06:30:00", end="2024-03-20T18:00:00")

# ------------------------------------------------------------------ frequencies

SPELLINGS = [
    ("s", "S"),
    ("30s", "30S"),
    ("min", "T"),
    ("15min", "15T"),
    ("h", "H"),
    ("2h", "2H"),
    ("d", "D"),
    ("3d", "3D"),
    ("W", "W"),
    ("2W", "2W"),
    ("MS", "MS"),
    ("M", "MS"),
    ("3MS", "3M"),
]


@pytest.mark.parametrize(("spelling", "upper"), SPELLINGS)
def test_each_spelling_is_the_grid_of_its_upper_case_unit(spelling, upper):
    assert time.grid(SPAN, spelling) == time.grid(SPAN, upper)
    assert time.parse_freq(spelling).unit == time.parse_freq(upper).unit


def test_frequencies_parse_to_a_multiple_and_a_unit():
    assert time.parse_freq("30s") == time.Freq(30, "S")
    assert time.parse_freq("15min").step == timedelta(minutes=15)
    assert time.parse_freq("2h").step == timedelta(hours=2)
    assert time.parse_freq("W").step == timedelta(days=7)
    assert time.parse_freq("2MS").step is None and time.parse_freq("2MS").monthly


@pytest.mark.parametrize(("freq", "fix"), [("ms", "MS"), ("15ms", "15s"), ("m", "min"), ("5m", "5min")])
def test_ms_and_m_stay_errors_that_say_what_to_write(freq, fix):
    with pytest.raises(ValueError, match=f"frequency '{freq}'.*write.*{fix}"):
        time.parse_freq(freq)


@pytest.mark.parametrize("freq", ["5X", "0H", "1.5h", "H2", "", "MIN", "w"])
def test_other_spellings_are_unknown(freq):
    with pytest.raises(ValueError, match="unknown frequency"):
        time.parse_freq(freq)


def _series_schema(dg, freq: str, timeframe_freq: str = "H") -> dict:
    series = {"within": {"start": "2024-01-01", "end": "2024-01-03"}, "freq": freq}
    timeframe = {"start": "2024-01-01", "end": "2024-01-02", "freq": timeframe_freq}
    return dg.schema(
        dg.entity("t", dg.col("ts", "datetime", {"datetime_series": series}), rows=50), timeframe=timeframe
    )


@pytest.mark.parametrize(("spelling", "upper"), [("30s", "30S"), ("15min", "15T"), ("2h", "2H"), ("d", "D")])
def test_a_lower_case_spelling_compiles_to_the_same_script(dg, spelling, upper):
    lower = dg.emit_sql(_series_schema(dg, spelling, spelling))
    assert lower == dg.emit_sql(_series_schema(dg, upper, upper))


@pytest.mark.parametrize("freq", ["ms", "15ms", "m", "5m", "5X"])
@pytest.mark.parametrize("command", ["check", "build", "emit-sql"])
def test_a_bad_freq_exits_2_with_one_line_naming_its_path(dg, freq, command):
    path = dg.write_schema(_series_schema(dg, freq))
    args = [command, path] + (["-o", path.parent / "out"] if command == "build" else [])
    result = dg.cli(*args)
    assert result.exit_code == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if "freq" in line]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: nodes[0].columns[0].generator.datetime_series.freq: ")
    assert f"'{freq}'" in lines[0]
    assert "write" in lines[0] or "use" in lines[0]


# ------------------------------------------------------------------------ grids


def test_a_monthly_grid_starts_at_the_first_month_start_in_the_span():
    g = time.grid(S.Span(start="2024-01-15", end="2024-12-20"), "MS")
    assert (g.first, g.points, g.last) == (datetime(2024, 2, 1), 11, datetime(2024, 12, 1))
    g = time.grid(S.Span(start="2023-11-01", end="2025-02-01"), "3M")
    assert [g.at(k) for k in range(g.points)] == [
        datetime(2023, 11, 1),
        datetime(2024, 2, 1),
        datetime(2024, 5, 1),
        datetime(2024, 8, 1),
        datetime(2024, 11, 1),
        datetime(2025, 2, 1),
    ]
    assert time.grid(S.Span(start="2024-01-15", end="2024-01-31"), "MS").points == 0


def test_a_fixed_step_grid_starts_at_start_and_ends_at_or_before_end():
    g = time.grid(S.Span(start="2024-01-01T00:30:00", end="2024-01-02T00:00:00"), "h")
    assert (g.first, g.points, g.last) == (datetime(2024, 1, 1, 0, 30), 24, datetime(2024, 1, 1, 23, 30))


GRIDS = [
    ("2024-01-15T00:00:00", "2024-12-20T00:00:00", "MS"),
    ("2024-01-01T06:00:00", "2024-06-01T00:00:00", "M"),
    ("2023-11-01T00:00:00", "2025-02-01T00:00:00", "3MS"),
    ("2024-03-06T06:30:00", "2024-03-09T18:00:00", "15min"),
    ("2024-01-01T03:17:05", "2024-01-05T11:00:00", "7h"),
    ("2024-01-03T00:00:00", "2024-04-01T00:00:00", "W"),
    ("2024-01-01T00:00:00", "2024-01-10T00:00:00", "30s"),
]


@pytest.mark.parametrize(("start", "end", "freq"), GRIDS)
def test_the_compiler_samples_the_grid_the_checks_check(start, end, freq):
    """Every point the compiler can draw is a point of the checks' grid, and the reverse."""
    span = S.Span(start=start, end=end)
    g = time.grid(span, freq)
    con = duckdb.connect()
    drawn = con.execute(f"SELECT {point_sql(g, 'range')} FROM range({g.points}) ORDER BY 1").fetchall()
    checked = con.execute(
        f"SELECT ts FROM ({grid_sql(Grid(span.start, span.end, freq))}) ORDER BY 1"
    ).fetchall()
    from_first = con.execute(
        f"SELECT ts FROM ({grid_sql(Grid(g.first, span.end, freq))}) ORDER BY 1"
    ).fetchall()
    assert drawn == checked == from_first
    assert [row[0] for row in drawn] == [g.at(k) for k in range(g.points)]


def test_pattern_indices_mean_the_same_in_python_the_compiler_and_the_checks():
    con = duckdb.connect()
    stamps = [datetime(2024, 1, 1) + timedelta(hours=37 * k) for k in range(300)]
    for dim in ("hour", "dow", "month"):
        compiler, checks = DIMENSION_SQL[dim].format(ts="ts"), DIMENSIONS[dim].format(ts="ts")
        rows = con.execute(f"SELECT {compiler} - 1, {checks} FROM unnest(?) AS s(ts) ORDER BY ts", [stamps])
        indices = [time.pattern_index(dim, ts) for ts in stamps]
        assert rows.fetchall() == [(i, i) for i in indices]
        assert set(indices) == set(range(time.PATTERN_SIZES[dim]))


def test_a_monthly_series_starting_mid_month_builds_and_validates(dg):
    """Regression: the checks built the monthly grid from the start date itself (2024-01-15,
    2024-02-15, …) while the compiler draws month starts from 2024-02-01 on."""
    span = {"start": "2024-01-15T00:00:00", "end": "2024-12-20T00:00:00"}
    december = {"dimension": "month", "weights": [1] * 11 + [10]}
    january = {"dimension": "month", "weights": [10] + [1] * 11}
    doc = dg.schema(
        dg.entity(
            "bills",
            dg.col("id", "int", dg.seq()),
            dg.col(
                "billed_at",
                "datetime",
                {"datetime_series": {"within": span, "freq": "M", "pattern": december}},
            ),
            dg.col(
                "billed_on", "date", {"datetime_series": {"within": span, "freq": "MS", "pattern": january}}
            ),
            dg.col("plain", "datetime", {"datetime_series": {"within": span, "freq": "2MS"}}),
            pk="id",
            rows=5000,
        ),
        name="mid",
    )
    out = dg.build(doc)
    starts = {datetime(2024, m, 1) for m in range(2, 13)}
    assert {row[0] for row in out.sql("SELECT DISTINCT billed_at FROM bills")} == starts
    assert {row[0] for row in out.sql("SELECT DISTINCT CAST(billed_on AS TIMESTAMP) FROM bills")} == starts
    assert {row[0] for row in out.sql("SELECT DISTINCT plain FROM bills")} == {
        datetime(2024, m, 1) for m in range(2, 13, 2)
    }
    report = validate(parse_dataset(doc), out.path)
    shapes = [r for r in report.results if r.check.kind == "datetime_shape"]
    assert len(shapes) == 2
    assert all(r.status is Status.PASSED for r in shapes), [r.detail for r in shapes]
    assert not [r.check.id for r in report.results if r.status is Status.FAILED]


# --------------------------------------------------------------------- problems

HOURS = {"dimension": "hour", "weights": [1] * 23 + [2]}


def _problems(series: dict, *, timeframe: dict | None = None, modifiers: list | None = None) -> list[Problem]:
    column = {"name": "ts", "type": "datetime", "generator": {"datetime_series": series}}
    if modifiers:
        column["modifiers"] = modifiers
    doc = {
        "version": "1.0",
        "metadata": {"name": "p"},
        "nodes": [{"id": "t", "kind": "entity", "rows": 10, "columns": [column]}],
    }
    if timeframe:
        doc["timeframe"] = timeframe
    ds = parse_dataset(doc)
    col = ds.nodes[0].columns[0]
    return problems(col.generator.datetime_series, col, ds, "nodes[0].columns[0]")


WHERE = "nodes[0].columns[0].generator.datetime_series"


def test_a_sound_series_has_no_problem():
    assert (
        _problems({"within": {"start": "2024-01-01", "end": "2024-02-01"}, "freq": "h", "pattern": HOURS})
        == []
    )
    tf = {"start": "2024-01-15", "end": "2024-12-20", "freq": "MS"}
    assert _problems({"within": "timeframe"}, timeframe=tf) == []


def test_within_timeframe_without_a_timeframe_is_an_error():
    assert _problems({"within": "timeframe", "freq": "D"}) == [
        Problem(f"{WHERE}.within", "uses the timeframe but the schema has none; add a timeframe.")
    ]


def test_no_freq_and_no_timeframe_is_an_error():
    assert _problems({"within": {"start": "2024-01-01", "end": "2024-02-01"}}) == [
        Problem(f"{WHERE}.freq", "no freq and no timeframe to take it from; give a freq.")
    ]


def test_a_span_without_grid_points_is_an_error():
    # mid-January to the end of January holds no month start
    assert _problems({"within": {"start": "2024-01-15", "end": "2024-01-31"}, "freq": "MS"}) == [
        Problem(WHERE, "the span holds no grid point; widen within or use a finer freq.")
    ]


def test_a_span_of_one_grid_point_is_a_warning():
    assert _problems({"within": {"start": "2024-01-01", "end": "2024-01-01"}, "freq": "D"}) == [
        warning(WHERE, "the span holds one grid point; use a finer freq.")
    ]


def test_a_weighted_grid_beyond_the_limit_is_an_error():
    found = _problems({"within": {"start": "2020-01-01", "end": "2024-12-31"}, "freq": "s", "pattern": HOURS})
    assert [(p.path, p.severity) for p in found] == [(WHERE, "error")]
    assert f"finer than dgsql materialises (limit {GRID_LIMIT:,})" in found[0].message
    seasonal = [{"transform": "seasonality", "args": HOURS}]
    plain = {"within": {"start": "2020-01-01", "end": "2024-12-31"}, "freq": "s"}
    assert [p.severity for p in _problems(plain, modifiers=seasonal)] == ["error"]
    assert _problems(plain) == []


def test_a_weighted_grid_too_uneven_for_buckets_is_a_warning():
    uneven = {"dimension": "hour", "weights": [1e-6] * 23 + [1]}
    found = _problems(
        {
            "within": {"start": "2024-01-01T00:00:00", "end": "2024-06-01T07:00:00"},
            "freq": "7min",
            "pattern": uneven,
        }
    )
    assert [(p.path, p.severity) for p in found] == [(WHERE, "warning")]
    assert "picked by an ASOF join" in found[0].message


def test_a_series_without_problems_renders(dg):
    """What problems() lets through, render() compiles: the edge cases of the grid."""
    tf = {"start": "2024-01-15T00:00:00", "end": "2024-03-01T00:00:00", "freq": "MS"}
    columns = [
        dg.col("a", "datetime", {"datetime_series": {"within": "timeframe"}}),
        dg.col("b", "datetime", {"datetime_series": {"within": "timeframe", "pattern": HOURS}}),
        dg.col(
            "c",
            "datetime",
            {"datetime_series": {"within": {"start": "2024-01-01", "end": "2024-01-01"}, "freq": "d"}},
        ),
    ]
    out = dg.build(dg.schema(dg.entity("t", *columns, rows=100), timeframe=tf))
    assert out.sql("SELECT min(a), max(a), min(b), max(b), min(c), max(c) FROM t")[0] == (
        datetime(2024, 2, 1),
        datetime(2024, 3, 1),
        datetime(2024, 2, 1),
        datetime(2024, 3, 1),
        datetime(2024, 1, 1),
        datetime(2024, 1, 1),
    )
