"""Modifiers (issue 4): exact semantics on constant inputs, statistics of the random ones, effects.

Every expected value is computed here, in Python, from the output columns the modifier reads
(the effect table's rows, the row's keys and timestamps), never from dgsql's own SQL.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

YEAR_S = 365.25 * 86400
TF_2024 = {"start": "2024-01-01", "end": "2024-12-31 23:00:00", "freq": "H"}
T0_2024 = datetime(2024, 1, 1)


def build(
    schema: dict[str, Any], folder: Path, seed: int = 42, threads: int | None = None
) -> dict[str, pa.Table]:
    """``dgsql build`` (the installed CLI) into ``folder/out``; the tables it wrote, by name."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "schema.json"
    path.write_text(json.dumps(schema, indent=1))
    out = folder / "out"
    cmd = ["dgsql", "build", str(path), "-o", str(out), "--seed", str(seed)]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, f"dgsql build exited {proc.returncode}:\n{proc.stderr}"
    return {p.stem: pq.read_table(p) for p in sorted(out.glob("*.parquet"))}


def rows(table: pa.Table) -> list[dict[str, Any]]:
    return table.to_pylist()


def schema(*nodes: dict[str, Any], timeframe: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"version": "1.0", "metadata": {"name": "modifiers"}}
    if timeframe:
        doc["timeframe"] = timeframe
    return {**doc, "nodes": list(nodes), **extra}


def col(name: str, type_: str, generator: dict[str, Any], *modifiers: dict[str, Any], **extra: Any):
    c = {"name": name, "type": type_, "generator": generator, **extra}
    if modifiers:
        c["modifiers"] = list(modifiers)
    return c


def mod(transform: str, **args: Any) -> dict[str, Any]:
    return {"transform": transform, "args": args}


def entity(node_id: str, rows_: int, *columns: dict[str, Any], pk: str = "id") -> dict[str, Any]:
    return {"id": node_id, "kind": "entity", "rows": rows_, "pk": pk, "columns": list(columns)}


def vocab(node_id: str, pk: str, **values: list[Any]) -> dict[str, Any]:
    """A vocab node with one ``enum_list`` column per keyword; types from the first value."""

    def type_of(v: Any) -> str:
        if isinstance(v, bool):
            return "bool"
        if isinstance(v, int):
            return "int"
        if isinstance(v, float):
            return "float"
        return "datetime" if v[:2] == "20" else "string"

    cols = [col(name, type_of(vs[0]), {"enum_list": {"values": vs}}) for name, vs in values.items()]
    return {"id": node_id, "kind": "vocab", "pk": pk, "columns": cols}


CONST10 = {"expression": {"code": "10"}}
SEQ = {"sequence": {}}


def hourly(within: Any = "timeframe") -> dict[str, Any]:
    return {"datetime_series": {"within": within, "freq": "H"}}


def uniform_int(low: int, high: int) -> dict[str, Any]:
    return {"distribution": {"type": "uniform", "params": {"low": low, "high": high}}}


def years(ts: datetime, start: datetime = T0_2024) -> float:
    return (ts - start) / timedelta(seconds=1) / YEAR_S


def first_match(
    effects: list[dict], on: dict[str, str], row: dict, ts: datetime | None, pk: str, window=True
):
    """Reference matcher: the lowest-pk effect row whose keys equal the row's and whose window holds ts."""
    for e in sorted(effects, key=lambda e: e[pk]):
        if all(row[local] == e[remote] for local, remote in on.items()) and (
            not window or e["ws"] <= ts <= e["we"]
        ):
            return e
    return None


def close(a: float, b: float, rel: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def round_half_away(x: float) -> int:
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


# ------------------------------------------------------------------ column-level effect

PROMO = vocab(
    "promo",
    "pid",
    # row order differs from pk order: the lowest pk must win, not the first row
    pid=[3, 1, 2, 4, 5],
    store=[1, 1, 2, 1, 3],
    region=["n", "n", "s", "n", "e"],
    ws=["2024-03-01", "2024-02-01", "2024-06-01", "2024-01-01", "2024-10-01"],
    we=["2024-04-30", "2024-03-31", "2024-06-30", "2024-12-31", "2024-10-31 23:00:00"],
    lift=[1.5, 2.0, 3.0, 0.5, 4.0],
    bonus=[5.0, 7.0, -2.0, 1.0, 3.0],
)
WINDOW = {"start_col": "ws", "end_col": "we"}
DOW_W = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]


def effect(table: str = "promo", on: dict | None = None, window: dict | None = WINDOW, **kw: Any):
    args: dict[str, Any] = {"effect_table": table, "on": {"store": "store"} if on is None else on}
    if window:
        args["window"] = window
    time_column = kw.pop("time_column", None)
    if time_column:
        args["time_column"] = time_column
    args["map"] = {"field": "lift", "op": "mul", "default": 0.75, **kw}
    return {"transform": "effect", "args": args}


@pytest.fixture(scope="module")
def effect_out(tmp_path_factory) -> dict[str, list[dict]]:
    camp = {  # a generated effect table: descending pk, random keys and windows
        "id": "camp",
        "kind": "entity",
        "rows": 300,
        "pk": "cid",
        "columns": [
            col("cid", "int", {"sequence": {"start": 1000, "step": -1}}),
            col("store", "int", uniform_int(1, 4)),
            col("ws", "datetime", {"datetime_series": {"within": "timeframe", "freq": "D"}}),
            col("we", "datetime", {"datetime_series": {"within": "timeframe", "freq": "D"}}),
            col("lift", "float", {"distribution": {"type": "uniform", "params": {"low": 0.5, "high": 2}}}),
        ],
    }
    sales = entity(
        "sales",
        20_000,
        col("id", "int", SEQ),
        col("ts", "datetime", hourly()),
        col("ts2", "datetime", hourly()),
        col("store", "int", uniform_int(1, 4)),
        col("region", "string", {"choice": {"choices": ["n", "s", "e", "w"]}}),
        col("v_main", "float", CONST10, effect(), mod("seasonality", dimension="dow", weights=DOW_W),
            mod("trend", type="linear", growth_rate=0.2)),
        col("v_empty_on", "float", CONST10, effect(on={})),
        col("v_no_window", "float", CONST10, effect(on={}, window=None)),
        col("v_add", "float", CONST10, effect(field="bonus", op="add", default=100.0)),
        col("v_time", "float", CONST10, effect(time_column="ts2")),
        col("v_region", "float", CONST10, effect(on={"region": "region"})),
        col("v_int", "int", CONST10, effect()),
        col("v_gen", "float", CONST10, effect(table="camp")),
        # `on` names both sides, and the local key is listed after the column that reads it
        col("v_late", "float", CONST10, effect(on={"shop": "store"})),
        col("shop", "int", uniform_int(1, 4)),
    )  # fmt: skip
    doc = schema(
        PROMO,
        camp,
        sales,
        timeframe=TF_2024,
        constraints={"inequalities": [{"left": "camp.ws", "op": "<=", "right": "camp.we"}]},
    )
    out = build(doc, tmp_path_factory.mktemp("effect"))
    return {name: rows(t) for name, t in out.items()}


def test_effect_times_dow_seasonality_times_linear_trend_is_exact(effect_out):
    promo, sales = effect_out["promo"], effect_out["sales"]
    factors = Counter()
    for r in sales:
        e = first_match(promo, {"store": "store"}, r, r["ts"], "pid")
        f = e["lift"] if e else 0.75
        factors[f] += 1
        expected = 10 * f * DOW_W[r["ts"].weekday()] * (1 + 0.2 * years(r["ts"]))
        assert close(r["v_main"], expected), (r, expected)
    # every branch was exercised: each promo row of stores 1..3 and the default
    assert set(factors) == {2.0, 1.5, 3.0, 0.5, 4.0, 0.75}, factors


def test_effect_overlapping_windows_lowest_pk_wins(effect_out):
    march = [
        r
        for r in effect_out["sales"]
        if r["store"] == 1 and datetime(2024, 3, 2) <= r["ts"] < datetime(2024, 3, 31)
    ]
    april = [
        r
        for r in effect_out["sales"]
        if r["store"] == 1 and datetime(2024, 4, 2) <= r["ts"] < datetime(2024, 4, 30)
    ]
    assert len(march) > 50 and len(april) > 50
    # March: pid 3 (first row, 1.5), pid 1 (2.0) and pid 4 (0.5) all match: pid 1 wins
    assert {r["v_no_window"] for r in march} == {20.0}
    assert all(
        close(r["v_main"] / (DOW_W[r["ts"].weekday()] * (1 + 0.2 * years(r["ts"]))), 20.0) for r in march
    )
    # April: pid 3 and pid 4 match: pid 3 wins
    assert all(
        close(r["v_main"] / (DOW_W[r["ts"].weekday()] * (1 + 0.2 * years(r["ts"]))), 15.0) for r in april
    )


def test_effect_default_when_nothing_matches(effect_out):
    sales = effect_out["sales"]
    # store 4 is in no effect row; store 1 after 2024-12-31 00:00 is past pid 4's (inclusive) window end
    no_key = [r for r in sales if r["store"] == 4]
    late = [r for r in sales if r["store"] == 1 and r["ts"] > datetime(2024, 12, 31)]
    assert len(no_key) > 1000 and late
    for r in no_key + late:
        assert r["v_add"] == 110.0
        assert r["v_int"] == 8  # 10 * 0.75 = 7.5, cast rounds half away from zero
        assert close(r["v_main"], 7.5 * DOW_W[r["ts"].weekday()] * (1 + 0.2 * years(r["ts"])))


def test_effect_with_empty_on_matches_on_the_window_only(effect_out):
    promo = effect_out["promo"]
    seen = Counter()
    for r in effect_out["sales"]:
        e = first_match(promo, {}, r, r["ts"], "pid")
        seen[e["pid"] if e else None] += 1
        assert r["v_empty_on"] == 10 * (e["lift"] if e else 0.75), r
    # pid 1 (Feb-Mar), 2 (June), 3 (April only, March goes to pid 1), 4 (the rest), default (Dec 31 after 00:00)
    assert set(seen) == {1, 2, 3, 4, None}, seen


def test_effect_with_empty_on_and_no_window_takes_the_lowest_pk_row(effect_out):
    assert {r["v_no_window"] for r in effect_out["sales"]} == {20.0}


def test_effect_op_add(effect_out):
    promo = effect_out["promo"]
    for r in effect_out["sales"]:
        e = first_match(promo, {"store": "store"}, r, r["ts"], "pid")
        assert r["v_add"] == 10 + (e["bonus"] if e else 100.0), r


def test_effect_time_column_and_string_keys(effect_out):
    promo = effect_out["promo"]
    differ = 0
    for r in effect_out["sales"]:
        by_ts2 = first_match(promo, {"store": "store"}, r, r["ts2"], "pid")
        by_ts = first_match(promo, {"store": "store"}, r, r["ts"], "pid")
        differ += by_ts2 is not by_ts
        assert r["v_time"] == 10 * (by_ts2["lift"] if by_ts2 else 0.75), r
        by_region = first_match(promo, {"region": "region"}, r, r["ts"], "pid")
        assert r["v_region"] == 10 * (by_region["lift"] if by_region else 0.75), r
    assert differ > 1000  # ts2 really is another clock than ts


def test_effect_on_names_local_and_remote_keys_read_before_being_listed(effect_out):
    promo = effect_out["promo"]
    differ = 0
    for r in effect_out["sales"]:
        e = first_match(promo, {"shop": "store"}, r, r["ts"], "pid")
        assert r["v_late"] == 10 * (e["lift"] if e else 0.75), r
        differ += r["shop"] != r["store"]
    assert differ > 10_000


def test_effect_int_column_rounds_after_the_effect(effect_out):
    promo = effect_out["promo"]
    for r in effect_out["sales"]:
        e = first_match(promo, {"store": "store"}, r, r["ts"], "pid")
        assert r["v_int"] == round_half_away(10 * (e["lift"] if e else 0.75)), r


def test_effect_from_a_generated_table_orders_by_pk_not_row(effect_out):
    camp, sales = effect_out["camp"], effect_out["sales"]
    assert [r["cid"] for r in camp[:3]] == [1000, 999, 998]
    matched = 0
    for r in sales:
        e = first_match(camp, {"store": "store"}, r, r["ts"], "cid")
        matched += e is not None
        assert close(r["v_gen"], 10 * (e["lift"] if e else 0.75)), r
    assert 0.3 * len(sales) < matched < len(sales)
    # with the first matching *row* instead of the lowest pk, many rows would differ
    wrong = 0
    for r in sales[:2000]:
        by_row = next((e for e in camp if e["store"] == r["store"] and e["ws"] <= r["ts"] <= e["we"]), None)
        by_pk = first_match(camp, {"store": "store"}, r, r["ts"], "cid")
        wrong += by_row is not by_pk
    assert wrong > 100


def test_effect_window_edges_are_exact_inside_and_outside_the_timeframe(tmp_path):
    """Windows are closed intervals to the microsecond, wherever they fall against the time
    buckets of the segments table, also before and after the timeframe (the edge buckets)."""
    windows = vocab(
        "win",
        "wid",
        wid=[1, 2, 3, 4],
        store=[1, 1, 1, 2],
        ws=[
            "2024-03-01 10:00:00",
            "2024-03-01 12:30:00.000001",
            "2023-06-01 00:00:00",
            "2024-01-01 00:00:00",
        ],
        we=["2024-03-01 12:30:00", "2024-09-01 00:00:00", "2026-01-01 00:00:00", "2023-01-01 00:00:00"],
        lift=[2.0, 3.0, 5.0, 7.0],
    )
    hits = [  # (store, ts, expected factor); win 3 covers everything 1 and 2 do not; win 4 is empty
        (1, "2024-03-01 09:59:59.999999", 5.0),
        (1, "2024-03-01 10:00:00", 2.0),
        (1, "2024-03-01 12:30:00", 2.0),
        (1, "2024-03-01 12:30:00.000001", 3.0),
        (1, "2024-09-01 00:00:00", 3.0),
        (1, "2024-09-01 00:00:00.000001", 5.0),
        (1, "2023-06-01 00:00:00", 5.0),
        (1, "2023-05-31 23:59:59.999999", 0.75),
        (1, "2025-12-31 23:59:59", 5.0),
        (1, "2026-01-01 00:00:00.000001", 0.75),
        (2, "2024-06-01 00:00:00", 0.75),
        (3, "2024-03-01 11:00:00", 0.75),
    ]
    fact = vocab("hit", "n", n=list(range(len(hits))), store=[h[0] for h in hits], ts=[h[1] for h in hits])
    fact["columns"].append(col("v", "float", CONST10, effect("win", time_column="ts")))
    out = build(schema(windows, fact, timeframe=TF_2024), tmp_path)
    assert out["hit"].column("v").to_pylist() == [10 * h[2] for h in hits]


def test_effect_int_keys_a_float_column_cannot_tell_apart_match_once(tmp_path):
    """Two int keys beyond 2^53 compare equal to one float: the row still matches once, the
    lower pk's window wins (the segments table holds such keys as DOUBLE)."""
    big = 2**53
    windows = vocab(
        "win",
        "wid",
        wid=[2, 1],
        store=[big + 1, big],
        ws=["2024-01-01", "2024-01-01"],
        we=["2024-12-31", "2024-12-31"],
        lift=[3.0, 2.0],
    )
    fact = vocab("hit", "n", n=[0, 1, 2], store=[float(big), 5.0, float(big)], ts=["2024-06-01"] * 3)
    fact["columns"].append(col("v", "float", CONST10, effect("win", time_column="ts")))
    out = build(schema(windows, fact, timeframe=TF_2024), tmp_path)
    assert out["hit"].column("n").to_pylist() == [0, 1, 2]
    assert out["hit"].column("v").to_pylist() == [20.0, 7.5, 20.0]


def test_effects_keep_row_order_at_two_threads(tmp_path):
    """The effect's decorrelated join does not keep row order; the output must still be in row order
    (regression: before the fix, 80% of 300k rows were out of place and the order changed between runs)."""
    sales = entity(
        "sales",
        300_000,
        col("id", "int", SEQ),
        col("ts", "datetime", hourly()),
        col("store", "int", uniform_int(1, 4)),
        col("v", "float", CONST10, effect()),
    )
    cust = entity("cust", 100_000, col("pid", "int", SEQ), col("store", "int", uniform_int(1, 4)), pk="pid")
    orders = fact("orders", "cust", {"distribution": "poisson", "lambda": 3, "min": 0, "max": 9},
                  table_effect("promo", {"store": "store"}, field="lift"))  # fmt: skip
    out = build(schema(PROMO, sales, cust, orders, timeframe=TF_2024), tmp_path, threads=2)
    assert out["sales"].column("id").to_pylist() == list(range(1, 300_001))
    oid, pid = out["orders"].column("oid").to_pylist(), out["orders"].column("pid").to_pylist()
    assert oid == list(range(1, len(oid) + 1))
    assert pid == sorted(pid) and len(oid) > 300_000


# ------------------------------------------------------------------ trend and seasonality on numbers

MONTH_W = [float(m) for m in range(1, 13)]
HOUR_W = [0.1 * (h + 1) for h in range(24)]


@pytest.fixture(scope="module")
def trend_out(tmp_path_factory) -> list[dict]:
    tf = {"start": "2020-01-01", "end": "2024-12-31 23:00:00", "freq": "H"}
    node = entity(
        "m",
        5000,
        col("id", "int", SEQ),
        col("ts", "datetime", hourly()),
        col("ref", "datetime", {"datetime_series": {"within": "timeframe", "freq": "D"}}),
        col("jts", "datetime", hourly(), mod("time_jitter", std_minutes=90)),
        col("exp", "float", CONST10, mod("trend", type="exponential", growth_rate=0.3, time_reference="ref")),
        col("log", "float", CONST10,
            mod("trend", type="logarithmic", params={"a": 0.3, "b": 2.0}, time_reference="ref")),
        col("logd", "float", CONST10, mod("trend", type="logarithmic", time_reference="ref")),
        col("lin", "float", CONST10, mod("trend", type="linear", growth_rate=-0.1)),
        col("seas_m", "float", CONST10, mod("seasonality", dimension="month", weights=MONTH_W, column="ref")),
        col("seas_h", "float", CONST10, mod("seasonality", dimension="hour", weights=HOUR_W, column="ts")),
        col("seas_j", "float", CONST10, mod("seasonality", dimension="hour", weights=HOUR_W, column="jts")),
        col("seas_first", "float", CONST10, mod("seasonality", dimension="dow", weights=DOW_W)),
    )  # fmt: skip
    out = build(schema(node, timeframe=tf), tmp_path_factory.mktemp("trend"))
    return rows(out["m"])


def test_trend_formulas_exact(trend_out):
    t0 = datetime(2020, 1, 1)
    for r in trend_out:
        t = years(r["ref"], t0)
        assert close(r["exp"], 10 * 1.3**t), r
        assert close(r["log"], 10 * (1 + 0.3 * math.log(1 + 2 * t))), r
        assert close(r["logd"], 10 * (1 + 0.1 * math.log(1 + t))), r
        # without time_reference: the row's first datetime column
        assert close(r["lin"], 10 * (1 - 0.1 * years(r["ts"], t0))), r
    assert max(years(r["ref"], t0) for r in trend_out) > 4.5


def test_seasonality_on_numbers_reads_the_named_or_first_datetime_column(trend_out):
    jitter_moved_hour = 0
    for r in trend_out:
        assert close(r["seas_m"], 10 * MONTH_W[r["ref"].month - 1]), r
        assert close(r["seas_h"], 10 * HOUR_W[r["ts"].hour]), r
        # reads the jittered (final) value of jts, not its grid point
        assert close(r["seas_j"], 10 * HOUR_W[r["jts"].hour]), r
        jitter_moved_hour += r["jts"].minute != 0 and r["jts"].hour != (r["jts"] + timedelta(minutes=30)).hour
        assert close(r["seas_first"], 10 * DOW_W[r["ts"].weekday()]), r
    assert jitter_moved_hour > 1000


# ------------------------------------------------------------------ random modifiers (200k rows)

N_STAT = 200_000


@pytest.fixture(scope="module")
def stat_out(tmp_path_factory) -> pa.Table:
    normal = {"distribution": {"type": "normal", "params": {"mean": 0, "std": 10}}}
    node = entity(
        "s",
        N_STAT,
        col("id", "int", SEQ),
        col("i", "float", {"sequence": {"start": 0, "step": 1}}),
        col("spike", "float", CONST10, mod("outliers", rate=0.05, mode="spike", magnitude_dist={
            "type": "normal", "params": {"mean": 1, "std": 2}, "clamp": [0.5, 3]})),
        col("drop", "float", CONST10, mod("outliers", rate=0.02, mode="drop")),
        col("jit_add", "float", CONST10, mod("jitter", std=2)),
        col("jit_mul", "float", CONST10, mod("jitter", std=0.1, mode="mul")),
        col("jit_twice", "float", CONST10, mod("jitter", std=1), mod("jitter", std=1)),
        col("base", "datetime", hourly()),
        col("moved", "datetime", {"expression": {"code": "base"}}, mod("time_jitter", std_minutes=20)),
        col("grid", "datetime", hourly(), mod("time_jitter", std_minutes=5)),
        col("weekday", "datetime",
            {"datetime_series": {"within": "timeframe", "freq": "H",
                                 "pattern": {"dimension": "hour", "weights": [0] * 6 + [1] * 18}}},
            mod("seasonality", dimension="dow", weights=[1, 1, 1, 1, 2, 0, 0])),
        col("mca", "float", {"sequence": {"start": 0, "step": 1}},
            mod("multiply", factor=3), mod("clamp", min=100, max=20000), mod("add", value=5)),
        col("acm", "float", {"sequence": {"start": 0, "step": 1}},
            mod("add", value=5), mod("clamp", min=100, max=20000), mod("multiply", factor=3)),
        col("clamp_both", "float", normal, mod("clamp", min=-5, max=5)),
        col("clamp_max", "float", normal, mod("clamp", max=0)),
        col("clamp_min", "float", normal, mod("clamp", min=0)),
        col("map_i", "int", uniform_int(1, 3), mod("map_values", mapping={"1": 100, "2": 200})),
        col("map_s", "string", {"choice": {"choices": ["a", "b", "c"]}}, mod("map_values", mapping={"a": "x"})),
        col("map_f", "float", {"choice": {"choices": [1.5, 2.5]}}, mod("map_values", mapping={"1.5": 7})),
        col("half", "int", CONST10, mod("multiply", factor=0.25)),
        col("neg_half", "int", CONST10, mod("multiply", factor=-0.25)),
    )  # fmt: skip
    return build(schema(node, timeframe=TF_2024), tmp_path_factory.mktemp("stat"))["s"]


def values(table: pa.Table, name: str) -> list[Any]:
    return table.column(name).to_pylist()


def test_outlier_spike_share_and_exact_magnitudes(stat_out):
    spikes = [v for v in values(stat_out, "spike") if v != 10.0]
    assert abs(len(spikes) / N_STAT - 0.05) <= 0.005
    m = [v / 10 - 1 for v in spikes]  # v = 10 * (1 + m)
    assert all(0.5 - 1e-12 <= x <= 3 + 1e-12 for x in m), (min(m), max(m))
    # the clamp [0.5, 3] of N(1, 2): P(N < 0.5) = 0.401 and P(N > 3) = 0.159 of the outliers sit on the ends
    at_lo = sum(abs(x - 0.5) < 1e-12 for x in m) / len(m)
    at_hi = sum(abs(x - 3) < 1e-12 for x in m) / len(m)
    assert abs(at_lo - 0.401) < 0.03 and abs(at_hi - 0.159) < 0.03, (at_lo, at_hi)
    inside = [x for x in m if 0.5 + 1e-9 < x < 3 - 1e-9]
    assert abs(statistics.fmean(inside) - 1.65) < 0.1  # mean of N(1,2) truncated to (0.5, 3)


def test_outlier_drop_share_and_default_magnitude(stat_out):
    drops = [v for v in values(stat_out, "drop") if v != 10.0]
    assert abs(len(drops) / N_STAT - 0.02) <= 0.005
    m = [10 / v - 1 for v in drops]  # v = 10 / (1 + m)
    assert all(0.1 - 1e-9 <= x <= 10 + 1e-9 for x in m)
    assert all(v < 10 for v in drops)
    # default magnitude: lognormal(0, 0.5), median 1
    assert abs(statistics.median(m) - 1.0) < 0.08


def test_outlier_rows_are_independent_between_columns(stat_out):
    both = sum(
        s != 10.0 and d != 10.0
        for s, d in zip(values(stat_out, "spike"), values(stat_out, "drop"), strict=True)
    )
    assert abs(both / N_STAT - 0.05 * 0.02) < 0.0005


def test_jitter_add_and_mul(stat_out):
    noise = [v - 10 for v in values(stat_out, "jit_add")]
    assert abs(statistics.fmean(noise)) < 0.03
    assert abs(statistics.pstdev(noise) / 2 - 1) < 0.02
    rel = [v / 10 - 1 for v in values(stat_out, "jit_mul")]
    assert abs(statistics.fmean(rel)) < 0.0015
    assert abs(statistics.pstdev(rel) / 0.1 - 1) < 0.02
    # two jitters of one column are independent draws: their variances add
    twice = values(stat_out, "jit_twice")
    assert abs(statistics.pstdev(twice) / math.sqrt(2) - 1) < 0.02


def test_time_jitter_moves_timestamps_off_the_grid(stat_out):
    base, moved = values(stat_out, "base"), values(stat_out, "moved")
    assert all(b.minute == b.second == b.microsecond == 0 for b in base[:1000])
    offsets = [(m - b) / timedelta(minutes=1) for b, m in zip(base, moved, strict=True)]
    assert abs(statistics.fmean(offsets)) < 0.2
    assert abs(statistics.pstdev(offsets) / 20 - 1) < 0.05
    off_grid = sum(m.minute or m.second or m.microsecond for m in moved)
    assert off_grid / N_STAT > 0.999
    # on a grid column itself: the nearest hour is the grid point (5 min std), the rest is the jitter
    grid = values(stat_out, "grid")
    nearest = [(g + timedelta(minutes=30)).replace(minute=0, second=0, microsecond=0) for g in grid]
    offsets = [(g - n) / timedelta(minutes=1) for g, n in zip(grid, nearest, strict=True)]
    assert abs(statistics.pstdev(offsets) / 5 - 1) < 0.05
    assert sum(o != 0 for o in offsets) / N_STAT > 0.999


def test_zero_weight_datetime_seasonality_is_never_drawn(stat_out):
    ts = values(stat_out, "weekday")
    dows = Counter(t.weekday() for t in ts)
    assert set(dows) == {0, 1, 2, 3, 4}
    # the seasonality reshapes the sampling: Friday weighs 2, Monday..Thursday 1
    assert abs(dows[4] / N_STAT - 2 / 6) < 0.01 and abs(dows[0] / N_STAT - 1 / 6) < 0.01, dows
    # and it multiplies with the generator's hour pattern (zero before 06:00)
    assert min(t.hour for t in ts) == 6
    assert all(t.minute == 0 for t in ts)


def test_modifier_order_multiply_clamp_add_vs_add_clamp_multiply(stat_out):
    i, mca, acm = values(stat_out, "i"), values(stat_out, "mca"), values(stat_out, "acm")
    for x, a, b in zip(i, mca, acm, strict=True):
        assert a == min(max(3 * x, 100), 20000) + 5
        assert b == 3 * min(max(x + 5, 100), 20000)
    differ = sum(a != b for a, b in zip(mca, acm, strict=True))
    assert differ == N_STAT  # 3x+5 vs 3x+15 below the clamp, 20005 vs 60000 above it


def test_clamp_min_max(stat_out):
    both = values(stat_out, "clamp_both")
    assert min(both) == -5 and max(both) == 5
    # N(0, 10) beyond +-5: P = 0.3085 on each side
    assert abs(both.count(-5.0) / N_STAT - 0.3085) < 0.01 and abs(both.count(5.0) / N_STAT - 0.3085) < 0.01
    lo_only, hi_only = values(stat_out, "clamp_min"), values(stat_out, "clamp_max")
    assert min(lo_only) == 0 and max(lo_only) > 30
    assert max(hi_only) == 0 and min(hi_only) < -30
    assert abs(lo_only.count(0.0) / N_STAT - 0.5) < 0.01


def test_map_values(stat_out):
    assert Counter(values(stat_out, "map_i")).keys() == {100, 200, 3}
    assert set(values(stat_out, "map_s")) == {"x", "b", "c"}
    assert set(values(stat_out, "map_f")) == {7.0, 2.5}
    assert abs(values(stat_out, "map_i").count(100) / N_STAT - 1 / 3) < 0.01


def test_map_values_to_null_on_a_non_nullable_column_is_not_silently_accepted(tmp_path):
    node = entity("t", 1000, col("id", "int", SEQ),
                  col("s", "string", {"choice": {"choices": ["a", "b"]}}, mod("map_values", mapping={"a": None})))  # fmt: skip
    folder = tmp_path / "w"
    folder.mkdir()
    (folder / "schema.json").write_text(json.dumps(schema(node)))
    proc = subprocess.run(
        ["dgsql", "build", str(folder / "schema.json"), "-o", str(folder / "out")],
        capture_output=True,
        text=True,
    )
    if proc.returncode == 0:
        assert None not in pq.read_table(folder / "out" / "t.parquet").column("s").to_pylist()
    else:
        assert proc.returncode == 2 and "map_values" in proc.stderr, proc.stderr


def test_int_cast_after_modifiers_rounds_half_away_from_zero(stat_out):
    assert set(values(stat_out, "half")) == {3}  # 2.5
    assert set(values(stat_out, "neg_half")) == {-3}  # -2.5


# ------------------------------------------------------------------ table-level effect: fanout


def fact(node_id: str, parent: str, fanout: dict[str, Any], *effects: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": node_id,
        "kind": "fact",
        "parents": [parent],
        "pk": "oid",
        "fanout": fanout,
        "modifiers": list(effects),
        "columns": [col("oid", "int", SEQ), col("pid", "int", {"lookup": {"from": f"{parent}.pid"}})],
    }


def table_effect(
    table: str, on: dict[str, str], field: str = "mult", op: str = "mul", default: float = 1.0, window=False
) -> dict[str, Any]:
    args: dict[str, Any] = {
        "effect_table": table,
        "on": on,
        "map": {"field": field, "op": op, "default": default},
    }
    if window:
        args["window"] = WINDOW
    return {"transform": "effect", "args": args}


FOUR = {"distribution": "uniform", "min": 4, "max": 4}


@pytest.fixture(scope="module")
def fanout_out(tmp_path_factory) -> dict[str, list[dict]]:
    boost = vocab("boost", "bid", bid=[2, 1], tier=[1, 1], mult=[3.0, 2.0], plus=[-10.0, -10.0],
                  frac=[1.4, 1.4])  # fmt: skip
    spring = vocab("spring", "sid", sid=[1], ws=["2024-01-01"], we=["2024-06-30"], mult=[2.0])
    midyear = vocab("midyear", "mid", mid=[1], ws=["2024-06-15"], we=["2024-07-15"], mult=[2.5])
    january = vocab("january", "jid", jid=[1], ws=["2024-01-01"], we=["2024-01-31"], mult=[2.5])
    cust = entity("cust", 1000, col("pid", "int", SEQ), col("tier", "int", {"expression": {"code": "pid % 2"}}),
                  pk="pid")  # fmt: skip
    acct = entity("acct", 1000, col("pid", "int", SEQ),
                  col("opened", "datetime", {"datetime_series": {"within": "timeframe", "freq": "D"}}),
                  pk="pid")  # fmt: skip
    poisson = {"distribution": "poisson", "lambda": 4, "min": 0, "max": 5}
    doc = schema(
        boost, spring, midyear, january, cust, acct,
        fact("doubled", "cust", FOUR, table_effect("boost", {"tier": "tier"})),
        fact("plus", "cust", FOUR, table_effect("boost", {"tier": "tier"}, field="plus", op="add")),
        fact("rounded", "cust", FOUR, table_effect("boost", {"tier": "tier"}, field="frac", default=0.6)),
        fact("windowed", "acct", FOUR, table_effect("spring", {}, window=True)),
        fact("midpoint", "cust", FOUR, table_effect("midyear", {}, window=True)),
        fact("not_mid", "cust", FOUR, table_effect("january", {}, window=True)),
        fact("pois", "cust", poisson, table_effect("boost", {"tier": "tier"})),
        timeframe=TF_2024,
    )  # fmt: skip
    out = build(doc, tmp_path_factory.mktemp("fanout"))
    return {name: rows(t) for name, t in out.items()}


def children(out: dict[str, list[dict]], table: str, parent: str) -> dict[int, int]:
    """Children per parent pid (0 for parents without any)."""
    counts = Counter(r["pid"] for r in out[table])
    return {p["pid"]: counts.get(p["pid"], 0) for p in out[parent]}


def test_table_effect_scales_fanout_of_matched_parents(fanout_out):
    tiers = {r["pid"]: r["tier"] for r in fanout_out["cust"]}
    k = children(fanout_out, "doubled", "cust")
    # lowest pk of boost (bid 1, x2.0) wins over bid 2 (x3.0)
    assert {p: n for p, n in k.items() if tiers[p] == 1} == {p: 8 for p in tiers if tiers[p] == 1}
    assert {p: n for p, n in k.items() if tiers[p] == 0} == {p: 4 for p in tiers if tiers[p] == 0}
    # children follow their parents' order, row index = file order
    out = fanout_out["doubled"]
    assert [r["pid"] for r in out] == sorted(r["pid"] for r in out)
    assert [r["oid"] for r in out] == list(range(1, len(out) + 1))


def test_table_effect_add_floors_at_zero_and_rounds(fanout_out):
    tiers = {r["pid"]: r["tier"] for r in fanout_out["cust"]}
    plus = children(fanout_out, "plus", "cust")
    assert all(plus[p] == (0 if t else 4 + 1) for p, t in tiers.items()), Counter(plus.values())
    rounded = children(fanout_out, "rounded", "cust")
    # tier 1: 4 * 1.4 = 5.6 -> 6; tier 0: 4 * default 0.6 = 2.4 -> 2
    assert all(rounded[p] == (6 if t else 2) for p, t in tiers.items()), Counter(rounded.values())


def test_table_effect_window_on_the_parents_first_datetime(fanout_out):
    opened = {r["pid"]: r["opened"] for r in fanout_out["acct"]}
    k = children(fanout_out, "windowed", "acct")
    inside = [p for p, ts in opened.items() if datetime(2024, 1, 1) <= ts <= datetime(2024, 6, 30)]
    assert 300 < len(inside) < 700
    assert all(k[p] == (8 if p in inside else 4) for p in opened)


def test_table_effect_window_without_parent_datetime_uses_timeframe_midpoint(fanout_out):
    assert set(children(fanout_out, "midpoint", "cust").values()) == {10}  # 4 * 2.5
    assert set(children(fanout_out, "not_mid", "cust").values()) == {4}


def test_table_effect_on_poisson_fanout_is_not_reclamped(fanout_out):
    tiers = {r["pid"]: r["tier"] for r in fanout_out["cust"]}
    k = children(fanout_out, "pois", "cust")
    scaled = [n for p, n in k.items() if tiers[p] == 1]
    plain = [n for p, n in k.items() if tiers[p] == 0]
    assert all(n % 2 == 0 for n in scaled)  # 2k, exactly
    assert max(plain) == 5 and max(scaled) == 10  # doubled after the clamp to [0, 5], not re-clamped
    assert abs(statistics.fmean(scaled) / statistics.fmean(plain) - 2) < 0.2


# ------------------------------------------------------------------ the emitted script in the stock DuckDB CLI


def test_emitted_sql_with_effects_runs_in_the_duckdb_cli_and_matches_build(tmp_path):
    sales = entity(
        "sales",
        1500,
        col("id", "int", SEQ),
        col("ts", "datetime", hourly()),
        col("store", "int", uniform_int(1, 4)),
        col("v", "float", CONST10, effect(), mod("seasonality", dimension="dow", weights=DOW_W),
            mod("trend", type="exponential", growth_rate=0.1), mod("outliers", rate=0.1)),
        col("w", "float", {"distribution": {"type": "normal", "params": {"mean": 5, "std": 1}}},
            effect(on={}, field="bonus", op="add"), mod("jitter", std=0.5, mode="mul")),
        col("moved", "datetime", {"expression": {"code": "ts"}}, mod("time_jitter", std_minutes=7)),
    )  # fmt: skip
    cust = entity("cust", 300, col("pid", "int", SEQ), col("store", "int", uniform_int(1, 3)), pk="pid")
    orders = fact("orders", "cust", {"distribution": "poisson", "lambda": 3, "min": 0, "max": 9},
                  table_effect("promo", {"store": "store"}, field="lift"))  # fmt: skip
    doc = schema(PROMO, sales, cust, orders, timeframe=TF_2024)
    built = build(doc, tmp_path / "build", seed=7)

    script = subprocess.run(
        ["dgsql", "emit-sql", str(tmp_path / "build" / "schema.json"), "--out-dir", "out", "--seed", "7"],
        capture_output=True,
        text=True,
    )
    assert script.returncode == 0, script.stderr
    cli = tmp_path / "cli"
    cli.mkdir()
    (cli / "build.sql").write_text(script.stdout)
    run = subprocess.run(["duckdb", "-c", ".read build.sql"], cwd=cli, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "Error" not in run.stderr, run.stderr
    from_cli = {p.stem: pq.read_table(p) for p in sorted((cli / "out").glob("*.parquet"))}
    assert sorted(from_cli) == sorted(built) == ["cust", "orders", "promo", "sales"]
    for name, table in built.items():
        assert from_cli[name].schema.equals(table.schema), name
        assert from_cli[name].equals(table), name
    assert built["orders"].num_rows > 300
