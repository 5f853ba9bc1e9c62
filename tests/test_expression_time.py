"""Time arithmetic in ``expression``: durations, differences and parts of times, exact values on a
built dataset; the type rules, each error through ``dgsql check`` (exit 2, the JSON path); and the
known offsets (``offset_of``) another column's inequality relies on."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from dgsql.compiler.generators import expression as E
from dgsql.compiler.load import parse_dataset

UNIT_US = {"seconds": 1e6, "minutes": 6e7, "hours": 3.6e9, "days": 8.64e10, "weeks": 6.048e11}


def us(x: float) -> int:
    """``x`` microseconds rounded half away from zero (DuckDB's round), in Python."""
    return int(Decimal(x).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def col(name: str, type_: str, generator: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "generator": generator, **extra}


def expr(name: str, type_: str, code: str, **extra: Any) -> dict[str, Any]:
    return col(name, type_, {"expression": {"code": code}}, **extra)


def uniform(low: float, high: float, **extra: Any) -> dict[str, Any]:
    return {"distribution": {"type": "uniform", "params": {"low": low, "high": high}, **extra}}


MINUTES_2024 = {
    "datetime_series": {"within": {"start": "2024-01-01", "end": "2024-12-31 23:59"}, "freq": "min"}
}
DAYS_2024 = {"datetime_series": {"within": {"start": "2024-01-01", "end": "2024-12-31"}, "freq": "D"}}
ROWS = 600

TIME_COLUMNS = [
    col("ordered_at", "datetime", MINUTES_2024),
    col("day", "date", DAYS_2024),
    col("ship_delay_h", "float", uniform(0, 80)),
    col("n", "int", uniform(-3, 10)),
    col("maybe_h", "float", uniform(0, 5), nullable=True, null_rate=0.3),
    expr("shipped_at", "datetime", "ordered_at + hours(ship_delay_h)"),
    expr("early", "datetime", "ordered_at - minutes(n * 1.5)"),
    expr("by_sec", "datetime", "seconds(ship_delay_h) + ordered_at"),
    expr("from_day", "datetime", "day + weeks(n) - days(0.5)"),
    expr("scaled", "datetime", "ordered_at + hours(ship_delay_h) * 2.5"),
    expr("split", "datetime", "ordered_at + (hours(ship_delay_h) + minutes(n)) / 3"),
    expr("ship_day", "date", "ordered_at + hours(ship_delay_h)"),
    expr("maybe_at", "datetime", "ordered_at + hours(maybe_h)"),
    expr("dd", "float", "date_diff_days(ordered_at, shipped_at)"),
    expr("dh", "float", "date_diff_hours(shipped_at, day)"),
    expr("just_day", "date", "date(shipped_at)"),
    expr("h", "int", "hour(shipped_at)"),
    expr("dw", "int", "dow(ordered_at)"),
    expr("dw_day", "int", "dow(day)"),
    expr("mo", "int", "month(shipped_at)"),
    expr("late", "bool", "shipped_at > ordered_at + days(1)"),
    expr("long", "bool", "hours(ship_delay_h) >= minutes(90) * 20"),
    expr("latest", "datetime", "greatest(ordered_at + hours(1), shipped_at)"),
    expr("numeric", "float", "ship_delay_h * 2 + n"),
]


@pytest.fixture(scope="module")
def rows(dg):
    out = dg.build(dg.schema(dg.entity("orders", *TIME_COLUMNS, rows=ROWS)))
    return out.table("orders").to_pylist()


def test_durations_are_exact_to_the_microsecond(rows):
    assert len(rows) == ROWS
    for r in rows:
        o, hrs, n = r["ordered_at"], r["ship_delay_h"], r["n"]
        assert r["shipped_at"] - o == timedelta(microseconds=us(hrs * 3.6e9))
        assert r["early"] - o == -timedelta(microseconds=us(n * 1.5 * 6e7))
        assert r["by_sec"] - o == timedelta(microseconds=us(hrs * 1e6))
        day = datetime.combine(r["day"], datetime.min.time())
        assert r["from_day"] == day + timedelta(weeks=n) - timedelta(hours=12)
        assert r["scaled"] - o == timedelta(microseconds=us(us(hrs * 3.6e9) * 2.5))
        assert r["split"] - o == timedelta(microseconds=us((us(hrs * 3.6e9) + n * 60_000_000) / 3))
        assert r["ship_day"] == r["shipped_at"].date()
        assert r["latest"] == max(o + timedelta(hours=1), r["shipped_at"])
        assert r["numeric"] == pytest.approx(hrs * 2 + n, rel=1e-12)
    assert any(r["shipped_at"].microsecond for r in rows)  # fractional hours reach the microseconds


def test_a_null_duration_gives_null(rows):
    nulls = [r for r in rows if r["maybe_h"] is None]
    assert nulls and len(nulls) < ROWS
    for r in rows:
        if r["maybe_h"] is None:
            assert r["maybe_at"] is None
        else:
            assert r["maybe_at"] - r["ordered_at"] == timedelta(microseconds=us(r["maybe_h"] * 3.6e9))


def test_differences_and_parts(rows):
    fractional = 0
    for r in rows:
        shipped, day = r["shipped_at"], datetime.combine(r["day"], datetime.min.time())
        assert r["dd"] == pytest.approx((shipped - r["ordered_at"]) / timedelta(days=1), rel=1e-12, abs=1e-12)
        assert r["dh"] == pytest.approx((day - shipped) / timedelta(hours=1), rel=1e-12, abs=1e-12)
        fractional += not float(r["dd"]).is_integer()
        assert r["just_day"] == shipped.date()
        assert r["h"] == shipped.hour
        assert r["dw"] == r["ordered_at"].weekday()  # Monday = 0 … Sunday = 6
        assert r["dw_day"] == r["day"].weekday()
        assert r["mo"] == shipped.month
        assert r["late"] == (shipped > r["ordered_at"] + timedelta(days=1))
        assert r["long"] == (r["ship_delay_h"] >= 30)
    assert fractional > ROWS / 2
    assert {r["dw"] for r in rows} == set(range(7))
    assert {r["mo"] for r in rows} == set(range(1, 13))
    assert {r["h"] for r in rows} <= set(range(24)) and len({r["h"] for r in rows}) > 20


def test_the_documented_example_and_its_sql(dg):
    schema = dg.schema(
        dg.entity(
            "orders",
            col("ordered_at", "datetime", MINUTES_2024),
            col(
                "ship_delay_h",
                "float",
                {"distribution": {"type": "lognormal", "params": {"mean": 1, "sigma": 1}}},
            ),
            expr("shipped_at", "datetime", "ordered_at + hours(ship_delay_h)"),
            rows=200,
        )
    )
    sql = dg.emit_sql(schema)
    assert '+ to_microseconds(CAST(round((__dg_l1."ship_delay_h") * 3600000000.0) AS BIGINT))' in sql
    out = dg.build(schema)
    bad = "SELECT count(*) FROM orders WHERE epoch_us(shipped_at) - epoch_us(ordered_at) != round(ship_delay_h * 3600000000.0)"
    assert out.one(bad) == 0
    assert out.one("SELECT min(shipped_at - ordered_at) > INTERVAL 0 SECOND FROM orders")


def test_numeric_expressions_render_as_before(dg):
    schema = dg.schema(
        dg.entity("e", col("x", "float", uniform(1, 2)), expr("y", "int", "round(x * 3) % 2"), rows=5)
    )
    assert 'CAST(round((ROUND(__dg_l1."x" * 3) % 2)) AS BIGINT) AS "y"' in dg.emit_sql(schema)


# ---------------------------------------------------------------- type errors

CHECKED = [
    col("id", "int", {"sequence": {"start": 1}}),
    col("ordered_at", "datetime", MINUTES_2024),
    col("day", "date", DAYS_2024),
    col("h", "float", uniform(0, 5)),
    col("n", "int", uniform(0, 5)),
    col("s", "string", {"choice": {"choices": ["a", "b"]}}),
    col("flag", "bool", {"choice": {"choices": [True, False]}}),
]
PATH = f"nodes[0].columns[{len(CHECKED)}].generator.expression: "


def check_result(dg, code: str, type_: str):
    schema = dg.schema(dg.entity("orders", *CHECKED, expr("x", type_, code), rows=10))
    return dg.cli("check", dg.write_schema(schema))


ERRORS = [
    ("datetime-plus-number", "ordered_at + h", "datetime", "make the number a duration: ordered_at + hours(h)"),
    ("date-minus-number", "day - n", "datetime", "make the number a duration: day - days(n)"),
    ("time-plus-time", "ordered_at + day", "datetime", "adds two times"),
    ("time-minus-time", "ordered_at - day", "float", "date_diff_days(day, ordered_at) or date_diff_hours(day, ordered_at)"),
    ("duration-plus-number", "ordered_at + (hours(h) + 1)", "datetime", "adds a number to a duration"),
    ("duration-of-a-string", "ordered_at + hours(s)", "datetime", "hours() is given a string (s)"),
    ("duration-of-a-time", "ordered_at + days(day)", "datetime", "days() is given a date (day)"),
    ("duration-of-a-bool", "ordered_at + minutes(flag)", "datetime", "minutes() is given a bool (flag)"),
    ("part-of-a-number", "hour(h)", "int", "hour() is given a number (h); hour(ts) takes one date or datetime"),
    ("diff-of-numbers", "date_diff_days(h, ordered_at)", "float", "date_diff_days() is given a number (h)"),
    ("duration-times-duration", "ordered_at + hours(h) * hours(h)", "datetime", "multiplied by a number only"),
    ("number-over-duration", "ordered_at + h / hours(1)", "datetime", "divided by a number only"),
    ("abs-of-duration", "ordered_at + abs(hours(h))", "datetime", "abs() takes numbers, not a duration"),
    ("time-vs-number", "ordered_at > 5", "bool", "compares a time with a number"),
    ("duration-vs-number", "hours(h) > 5", "bool", "compares a duration with a number"),
    ("least-mixes", "least(ordered_at, h)", "datetime", "least() mixes a datetime and a number"),
    ("duration-mod", "ordered_at + hours(h) % 2", "datetime", "% takes numbers, not a duration"),
    ("time-function-arity", "ordered_at + hours()", "datetime", "hours() has 0 arguments"),
    ("diff-arity", "date_diff_days(day)", "float", "date_diff_days() has 1 argument;"),
    ("time-in-not", "not ordered_at", "bool", "not takes conditions, not a datetime"),
    ("bare-duration", "hours(h)", "datetime", "gives a duration, not a datetime value; add it to a date or datetime column, e.g. ordered_at + hours(x)"),
    ("bare-duration-float", "hours(h) * 2", "float", "gives a duration"),
    ("time-into-number", "ordered_at + hours(h)", "float", "gives a datetime, not a float; make the column a datetime"),
    ("time-into-bool", "date(ordered_at)", "bool", "gives a date, not a bool"),
    ("number-into-time", "h * 2", "datetime", "gives a number, not a datetime"),
    ("bool-into-date", "h > 2", "date", "gives a bool, not a date"),
    ("time-times-number", "ordered_at * 2", "float", "column 'ordered_at' is a datetime, not a number"),
    ("string-in-arithmetic", "s * 2", "float", "column 's' is a string, not a number"),
    ("unknown-function", "foo(h)", "float", "function 'foo' is not allowed; use one of abs"),
]  # fmt: skip


@pytest.mark.parametrize(("code", "type_", "words"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_type_errors(dg, code, type_, words):
    result = check_result(dg, code, type_)
    assert result.exit_code == 2, result.stderr
    assert len(result.errors) == 1, result.errors
    error = result.errors[0]
    assert error.startswith(PATH + f"expression {code!r}"), error
    assert words in error, error
    assert error.endswith(".")


def test_unknown_functions_list_the_time_functions(dg):
    error = check_result(dg, "foo(h)", "float").errors[0]
    assert "hours days weeks date_diff_days date_diff_hours date hour dow month" in error


@pytest.mark.parametrize(
    ("code", "type_"),
    [
        ("ordered_at + hours(h)", "datetime"),
        ("ordered_at + hours(h)", "date"),  # a date column takes a datetime: it is cast
        ("day", "datetime"),
        ("day - weeks(n) + minutes(h)", "datetime"),
        ("hours(h) + day", "date"),
        ("ordered_at - -hours(h)", "datetime"),
        ("greatest(ordered_at, day)", "datetime"),
        ("coalesce(ordered_at, day)", "datetime"),
        ("ordered_at > '2024-06-01'", "bool"),
        ("hours(h) < days(1) and day <= ordered_at", "bool"),
        ("date_diff_hours(day, ordered_at) + hour(ordered_at) * dow(day) / month(day)", "float"),
        ("date(ordered_at)", "date"),
        ("ordered_at", "string"),
        ("h > 2", "bool"),
        ("h * 2", "bool"),
    ],
)
def test_valid_time_expressions_pass_check(dg, code, type_):
    result = check_result(dg, code, type_)
    assert result.exit_code == 0, result.stderr


# ---------------------------------------------------------------- offsets

NORMAL = {"distribution": {"type": "normal", "params": {"mean": 3, "std": 1}}}
LOGNORMAL = {"distribution": {"type": "lognormal", "params": {"mean": 0, "sigma": 1}}}
H = 3_600_000_000
DAY = 24 * H


def offset(code: str, *, type_: str = "datetime", d: dict | None = None, **extra: Any) -> E.Offset | None:
    """``offset_of`` of column ``x`` (``code``) beside ``ordered_at``, ``day`` and numeric columns: ``d``
    (uniform(1, 5) unless given), ``d2`` normal, ``ln`` lognormal, ``k`` an int normal clamped to
    [0.4, 3], ``nl`` with a null_rate, ``mod`` with a modifier."""
    columns = [
        col("ordered_at", "datetime", MINUTES_2024),
        col("day", "date", DAYS_2024),
        col("d", "float", d or uniform(1, 5)),
        col("d2", "float", NORMAL),
        col("ln", "float", LOGNORMAL),
        col("k", "int", {"distribution": {**NORMAL["distribution"], "clamp": [0.4, 3]}}),
        col("nl", "float", uniform(1, 5), nullable=True, null_rate=0.1),
        col("mod", "float", uniform(1, 5), modifiers=[{"transform": "add", "args": {"value": 1}}]),
        expr("x", type_, code, **extra),
    ]  # fmt: skip
    ds = parse_dataset({"version": "1.0", "metadata": {"name": "t"}, "nodes": [
        {"id": "orders", "kind": "entity", "rows": 10, "columns": columns}]})  # fmt: skip
    node = ds.nodes[0]
    return E.offset_of(node.columns[-1].generator.expression, node, ds)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ordered_at + hours(d)", E.Offset("ordered_at", H)),
        ("hours(d) + ordered_at", E.Offset("ordered_at", H)),
        ("((ordered_at) + (hours(d)))", E.Offset("ordered_at", H)),
        ("ordered_at - hours(d)", E.Offset("ordered_at", -5 * H)),
        ("ordered_at + hours(d2)", E.Offset("ordered_at", None)),
        ("ordered_at + hours(ln)", E.Offset("ordered_at", 0)),
        ("ordered_at + minutes(d) + seconds(30)", E.Offset("ordered_at", 90_000_000)),
        ("ordered_at - (minutes(d) - hours(1))", E.Offset("ordered_at", H - 5 * 60_000_000)),
        ("ordered_at + hours(d * 2 - 1)", E.Offset("ordered_at", H)),
        ("ordered_at + hours(d) / 2", E.Offset("ordered_at", H / 2)),
        ("ordered_at + 2 * hours(d)", E.Offset("ordered_at", 2 * H)),
        ("ordered_at + hours(-d)", E.Offset("ordered_at", -5 * H)),
        ("ordered_at + hours(abs(d2))", E.Offset("ordered_at", 0)),
        ("ordered_at + hours(greatest(d2, 0.5))", E.Offset("ordered_at", H / 2)),
        ("ordered_at + hours(least(d, 2))", E.Offset("ordered_at", H)),
        ("ordered_at + hours(round(d) + floor(d) + ceil(d))", E.Offset("ordered_at", 3 * H)),
        ("ordered_at + hours(round(d / 4, 1))", E.Offset("ordered_at", 0.2 * H)),
        ("ordered_at + hours(k)", E.Offset("ordered_at", 0)),  # the int column rounds 0.4 to 0
        ("ordered_at + hours(d / 3)", E.Offset("ordered_at", 1_200_000_000)),
        ("ordered_at + hours(d / d)", E.Offset("ordered_at", None)),
        ("ordered_at + weeks(0.5) + days(1)", E.Offset("ordered_at", 4.5 * DAY)),
        ("ordered_at + hours(nl)", E.Offset("ordered_at", None)),
        ("ordered_at + hours(mod)", E.Offset("ordered_at", None)),
        ("ordered_at + hours(sqrt(d))", E.Offset("ordered_at", None)),
        ("day + hours(d)", E.Offset("day", H)),
        ("ordered_at", None),
        ("greatest(ordered_at, day) + hours(1)", None),
        ("ordered_at + hours(d) - day + day", None),  # not valid: two times added
        ("date(ordered_at) + hours(1)", None),
        ("ordered_at + h", None),
    ],
)
def test_offset_of(code, expected):
    assert offset(code) == expected


def test_offset_of_a_date_column_counts_its_cast():
    assert offset("day + days(d)", type_="date", d=uniform(1.5, 3)) == E.Offset("day", DAY)
    assert offset("day + hours(d)", type_="date") == E.Offset("day", 0)
    assert offset("ordered_at + days(d)", type_="date", d=uniform(2, 3)) == E.Offset("ordered_at", DAY + 1)


def test_offset_of_a_column_with_modifiers_or_not_a_time_is_unknown():
    jitter = [{"transform": "time_jitter", "args": {"std_minutes": 5}}]
    assert offset("ordered_at + hours(d)", modifiers=jitter) == E.Offset("ordered_at", None)
    assert offset("date_diff_hours(ordered_at, ordered_at + hours(d))", type_="float") is None


def test_offset_low_bound_holds_on_the_data(dg):
    columns = [
        col("ordered_at", "datetime", MINUTES_2024),
        col("d", "float", uniform(1, 5)),
        col("k", "int", uniform(-2, 3)),
        expr("a", "datetime", "ordered_at + hours(d) - minutes(k * 7.5)"),
        expr("b", "datetime", "ordered_at - hours(greatest(d, 2)) * 1.5"),
    ]
    schema = dg.schema(dg.entity("t", *columns, rows=3000))
    ds = parse_dataset(schema)
    node = ds.nodes[0]
    out = dg.build(schema)
    for name in ("a", "b"):
        found = E.offset_of(
            node.columns[[c.name for c in node.columns].index(name)].generator.expression, node, ds
        )
        assert found is not None and found.base == "ordered_at" and found.low_us is not None
        least = out.one(f"SELECT min(epoch_us({name}) - epoch_us(ordered_at)) FROM t")
        assert least >= found.low_us
        assert least - found.low_us < 0.05 * H  # tight: 3,000 draws come close to the bound
    assert math.isclose(E.offset_of(node.columns[3].generator.expression, node, ds).low_us, H - 22.5 * 60e6)


def test_date_values_cast_by_the_column(rows):
    assert all(isinstance(r["ship_day"], date) and not isinstance(r["ship_day"], datetime) for r in rows)


def test_a_lookup_recomputes_a_time_expression_at_its_row(dg):
    orders = dg.entity(
        "orders",
        col("id", "int", {"sequence": {"start": 1}}),
        col("ordered_at", "datetime", MINUTES_2024),
        col("delay", "float", uniform(0, 30)),
        expr("shipped_at", "datetime", "ordered_at + hours(delay)"),
        rows=100,
        pk="id",
    )
    returns = dg.entity(
        "returns",
        col("order_id", "int", {"lookup": {"from": "orders.id"}}),
        col("shipped", "datetime", {"lookup": {"from": "orders.shipped_at", "on": {"order_id": "id"}}}),
        expr("returned_at", "datetime", "shipped + days(3.25)"),
        rows=50,
    )
    out = dg.build(dg.schema(orders, returns))
    query = """SELECT count(*) FROM returns r JOIN orders o ON r.order_id = o.id
               WHERE r.shipped = o.shipped_at AND r.returned_at - r.shipped = INTERVAL 78 HOURS"""
    assert out.one(query) == 50
