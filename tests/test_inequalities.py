"""Declared inequalities honoured while generating (issues 4 and 14).

Salts depend on (seed, dataset, table, column, draw), not on the constraints, so the same schema
built without its ``inequalities`` gives the raw draws. The documented method (docs/dsl.md) is
checked against them: the column an inequality puts first keeps its raw draw exactly; the later
one is drawn from its declared law truncated to the values after the first — its probability
integral transform given the bound is uniform — and where nothing is left, it is the bound plus
one step.
"""

from __future__ import annotations

import json
import random
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path
from statistics import NormalDist
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

N = 50_000
TF = {"start": "2024-01-01", "end": "2024-12-31 23:00:00", "freq": "H"}
START = datetime(2024, 1, 1)


def build(schema: dict[str, Any], folder: Path, seed: int = 42) -> dict[str, pa.Table]:
    """``dgsql build`` (the installed CLI) into ``folder/out``; the tables it wrote, by name."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "schema.json"
    path.write_text(json.dumps(schema, indent=1))
    out = folder / "out"
    proc = subprocess.run(
        ["dgsql", "build", str(path), "-o", str(out), "--seed", str(seed)], capture_output=True, text=True
    )
    assert proc.returncode == 0, f"dgsql build exited {proc.returncode}:\n{proc.stderr}"
    return {p.stem: pq.read_table(p) for p in sorted(out.glob("*.parquet"))}


def col(name: str, type_: str, generator: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "generator": generator, **extra}


def series(freq: str) -> dict[str, Any]:
    return {"datetime_series": {"within": "timeframe", "freq": freq}}


def uniform(low: float, high: float) -> dict[str, Any]:
    return {"distribution": {"type": "uniform", "params": {"low": low, "high": high}}}


NORMAL = {"distribution": {"type": "normal", "params": {"mean": 0, "std": 1}}}


def hours(v: datetime) -> int:
    return int((v - START).total_seconds()) // 3600


def days(v: date) -> int:
    return (v - START.date()).days


def months(v: datetime) -> int:
    return (v.year - 2024) * 12 + v.month - 1


# (left, op, right; the index of a value among its column's possible values, their count)
PAIRS = [
    ("ts1", "<", "ts2", hours, 8784),
    ("ts3", ">=", "ts4", hours, 8784),
    ("i1", ">", "i2", lambda v: v - 1, 10),
    ("i3", "<=", "i4", lambda v: v - 1, 10),
    ("d1", "<=", "d2", days, 366),
    ("d3", ">", "d4", days, 366),
    ("m1", "<", "m2", months, 12),
    ("f1", "<", "f2", None, None),
    ("s_start", "<", "s_end", lambda v: v, 1001),
    ("n1", "<", "n2", lambda v: v - 1, 100),
]
IDS = [f"{a}{op}{b}" for a, op, b, _, _ in PAIRS]


def sides(left: str, op: str, right: str) -> tuple[str, str]:
    """(the column drawn first, the column drawn after it)."""
    return (left, right) if op in ("<", "<=") else (right, left)


def doc(with_constraints: bool) -> dict[str, Any]:
    columns = [
        col("id", "int", {"sequence": {}}),
        col("ts1", "datetime", series("H")),
        col("ts2", "datetime", series("H")),
        col("ts3", "datetime", series("H")),
        col("ts4", "datetime", series("H")),
        col("i1", "int", uniform(1, 10)),
        col("i2", "int", uniform(1, 10)),
        col("i3", "int", uniform(1, 10)),
        col("i4", "int", uniform(1, 10)),
        col("d1", "date", series("D")),
        col("d2", "date", series("D")),
        col("d3", "date", series("D")),
        col("d4", "date", series("D")),
        col("m1", "datetime", series("MS")),
        col("m2", "datetime", series("MS")),
        col("f1", "float", NORMAL),
        col("f2", "float", NORMAL),
        # reads both sides of an inequality listed after it: must see the final values
        col("dur", "int", {"expression": {"code": "s_end - s_start"}}),
        col("s_start", "int", uniform(0, 1000)),
        col("s_end", "int", uniform(0, 1000)),
        col("mirror", "datetime", {"expression": {"code": "ts2"}}),
        col("n1", "int", uniform(1, 100), nullable=True, null_rate=0.3),
        col("n2", "int", uniform(1, 100), nullable=True, null_rate=0.3),
        col("free", "float", NORMAL),
    ]
    d: dict[str, Any] = {
        "version": "1.0",
        "metadata": {"name": "ineq"},
        "timeframe": TF,
        "nodes": [{"id": "iv", "kind": "entity", "rows": N, "pk": "id", "columns": columns}],
    }
    if with_constraints:
        d["constraints"] = {
            "inequalities": [{"left": f"iv.{a}", "op": op, "right": f"iv.{b}"} for a, op, b, _, _ in PAIRS]
        }
    return d


@pytest.fixture(scope="module")
def raw_and_fixed(tmp_path_factory) -> tuple[pa.Table, pa.Table]:
    raw = build(doc(False), tmp_path_factory.mktemp("raw"))["iv"]
    fixed = build(doc(True), tmp_path_factory.mktemp("fixed"))["iv"]
    return raw, fixed


HOLDS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def values(table: pa.Table, *names: str) -> list[tuple[Any, ...]]:
    return list(zip(*(table.column(c).to_pylist() for c in names), strict=True))


@pytest.mark.parametrize("left, op, right, index, count", PAIRS, ids=IDS)
def test_inequality_holds_on_every_row(raw_and_fixed, left, op, right, index, count):
    _, fixed = raw_and_fixed
    broken = [
        (a, b)
        for a, b in values(fixed, left, right)
        if a is not None and b is not None and not HOLDS[op](a, b)
    ]
    assert not broken, broken[:5]


@pytest.mark.parametrize("left, op, right, index, count", PAIRS, ids=IDS)
def test_the_first_column_keeps_its_raw_draw(raw_and_fixed, left, op, right, index, count):
    raw, fixed = raw_and_fixed
    first, later = sides(left, op, right)
    assert fixed.column(first).equals(raw.column(first))
    # the pair was really broken in many raw rows (the test is not vacuous)
    broken = sum(a is not None and b is not None and not HOLDS[op](a, b) for a, b in values(raw, left, right))
    assert broken > N / 20


def allowed_from(op: str, index: Any, bound: Any) -> int:
    """Index of the first value the later column may take."""
    return index(bound) + (1 if op in ("<", ">") else 0)


@pytest.mark.parametrize("left, op, right, index, count", PAIRS, ids=IDS)
def test_the_later_column_follows_its_law_truncated_to_after_the_first(
    raw_and_fixed, left, op, right, index, count
):
    """Randomised PIT: for a value at index k of the n - k0 allowed ones, (k - k0 + V) / (n - k0) with
    V ~ U(0, 1) is U(0, 1) exactly when the value is uniform over the allowed ones (the declared law
    of these columns, truncated); for the normal, (Φ(x) - Φ(b)) / (1 - Φ(b)). Deciles within 0.01
    (7 standard errors at this N)."""
    _, fixed = raw_and_fixed
    first, later = sides(left, op, right)
    rng = random.Random(0)
    pits = []
    for b, x in values(fixed, first, later):
        if b is None or x is None:
            continue
        if index is None:
            cdf = NormalDist().cdf
            if cdf(b) < 1 - 1e-9:
                pits.append((cdf(x) - cdf(b)) / (1 - cdf(b)))
            continue
        k0 = allowed_from(op, index, b)
        if k0 < count:
            pits.append((index(x) - k0 + rng.random()) / (count - k0))
    assert len(pits) > N / 3
    for d in range(10):
        share = sum(d / 10 <= p < (d + 1) / 10 for p in pits) / len(pits)
        assert abs(share - 0.1) < 0.01, (d, share)


@pytest.mark.parametrize("left, op, right, index, count", PAIRS, ids=IDS)
def test_with_every_value_allowed_the_later_column_keeps_its_raw_draw(
    raw_and_fixed, left, op, right, index, count
):
    """The truncated draw reads the same uniform as the declared one: where the bound removes
    nothing (a NULL bound, a non-strict bound at the first value), the value is the raw draw."""
    if index is None:
        pytest.skip("the normal's truncated draw is an inverse CDF, its raw draw Box-Muller")
    raw, fixed = raw_and_fixed
    first, later = sides(left, op, right)
    rows = [
        (x, r)
        for (b, x), (r,) in zip(values(fixed, first, later), values(raw, later), strict=True)
        if b is None or allowed_from(op, index, b) <= 0
    ]
    assert all(x == r for x, r in rows), [p for p in rows if p[0] != p[1]][:5]
    if op in ("<=", ">=") or first == "n1":
        assert rows  # the case occurs at this N


NEXT = {
    "ts2": lambda b: b + timedelta(hours=1),
    "i1": lambda b: b + 1,
    "d3": lambda b: b + timedelta(days=1),
    "m2": lambda b: b.replace(year=b.year + 1, month=1) if b.month == 12 else b.replace(month=b.month + 1),
    "s_end": lambda b: b + 1,
    "n2": lambda b: b + 1,
}


@pytest.mark.parametrize("left, op, right, index, count", PAIRS, ids=IDS)
def test_nothing_left_gives_the_bound_plus_one_step(raw_and_fixed, left, op, right, index, count):
    first, later = sides(left, op, right)
    if later not in NEXT:
        pytest.skip("a non-strict bound always leaves a value")
    _, fixed = raw_and_fixed
    rows = [
        (b, x)
        for b, x in values(fixed, first, later)
        if b is not None and allowed_from(op, index, b) >= count
    ]
    if count <= 1001:
        assert rows  # the case occurs at this N (about N / count times)
    assert all(x is None or x == NEXT[later](b) for b, x in rows), rows[:5]


def test_columns_outside_any_inequality_are_untouched(raw_and_fixed):
    raw, fixed = raw_and_fixed
    for name in ("id", "free"):
        assert fixed.column(name).equals(raw.column(name)), name


def test_columns_reading_a_side_see_the_fixed_values(raw_and_fixed):
    _, fixed = raw_and_fixed
    start, end, dur = (fixed.column(c).to_pylist() for c in ("s_start", "s_end", "dur"))
    assert all(d == e - s for s, e, d in zip(start, end, dur, strict=True))
    assert min(dur) >= 1
    assert fixed.column("mirror").equals(fixed.column("ts2"))


def test_nullable_sides_keep_their_nulls(raw_and_fixed):
    raw, fixed = raw_and_fixed
    for c in ("n1", "n2"):
        assert [v is None for v in fixed.column(c).to_pylist()] == [
            v is None for v in raw.column(c).to_pylist()
        ]


def test_columns_keep_their_declared_types(raw_and_fixed):
    raw, fixed = raw_and_fixed
    assert fixed.schema.equals(raw.schema), (raw.schema, fixed.schema)
    types = {f.name: str(f.type) for f in fixed.schema}
    # a strict step on dates adds a day and stays a DATE
    assert types["d3"] == types["d4"] == "date32[day]", types


def chain_doc(with_constraints: bool) -> dict[str, Any]:
    columns = [col("id", "int", {"sequence": {}})] + [col(c, "int", uniform(1, 10)) for c in "abcd"]
    d: dict[str, Any] = {
        "version": "1.0",
        "metadata": {"name": "chain"},
        "nodes": [{"id": "ch", "kind": "entity", "rows": 20_000, "pk": "id", "columns": columns}],
    }
    if with_constraints:  # one group, written in three directions: a < b, c > b, c <= d
        d["constraints"] = {
            "inequalities": [
                {"left": "ch.a", "op": "<", "right": "ch.b"},
                {"left": "ch.c", "op": ">", "right": "ch.b"},
                {"left": "ch.c", "op": "<=", "right": "ch.d"},
            ]
        }
    return d


def test_chained_inequalities_hold_and_keep_the_first_column(tmp_path):
    """a < b, c > b, c <= d: a keeps its draw, b is drawn after a, c after b, d after c."""
    raw = build(chain_doc(False), tmp_path / "raw")["ch"]
    fixed = build(chain_doc(True), tmp_path / "fixed")["ch"]
    assert fixed.column("a").equals(raw.column("a"))
    rows = values(fixed, *"abcd")
    assert all(a < b < c <= d for a, b, c, d in rows)
    # a row whose a is 1 leaves b every value from 2 on: b's share of 10 (past the span) is the
    # chance a is 9 or 10 (then b is a + 1 or 10), and c then steps past b
    assert max(d for *_, d in rows) <= 13


def test_a_column_reading_the_later_side_is_guarded_below_it(tmp_path):
    """lo = hi - gap reads hi, so it cannot be drawn after it: where gap <= 0, lo becomes hi - 1."""
    columns = [
        col("id", "int", {"sequence": {}}),
        col("hi", "int", uniform(0, 100)),
        col("gap", "int", uniform(-3, 5)),
        col("lo", "int", {"expression": {"code": "hi - gap"}}),
    ]
    d = {
        "version": "1.0",
        "metadata": {"name": "guard"},
        "nodes": [{"id": "g", "kind": "entity", "rows": 5_000, "pk": "id", "columns": columns}],
        "constraints": {"inequalities": [{"left": "g.lo", "op": "<", "right": "g.hi"}]},
    }
    t = build(d, tmp_path)["g"]
    rows = values(t, "hi", "gap", "lo")
    assert all(lo == (hi - gap if gap > 0 else hi - 1) for hi, gap, lo in rows)
    assert sum(gap <= 0 for _, gap, _ in rows) > 1000


def test_contradicting_inequalities_are_a_schema_error(tmp_path):
    d = chain_doc(True)
    d["constraints"]["inequalities"].append({"left": "ch.d", "op": "<", "right": "ch.a"})
    folder = tmp_path / "w"
    folder.mkdir()
    (folder / "schema.json").write_text(json.dumps(d))
    proc = subprocess.run(
        ["dgsql", "build", str(folder / "schema.json"), "-o", str(folder / "out")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2, proc.stderr
    assert "constraints.inequalities" in proc.stderr and "contradict" in proc.stderr, proc.stderr
    assert not (folder / "out").exists()


# ---------------------------------------------------------------- weighted grids and offsets

HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5, 4, 3, 2, 1, 1]
DOW_WEIGHTS = [3, 3, 3, 3, 3, 1, 1]
MONTH_WEIGHTS = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 4]
SPAN = {"start": "2024-01-01", "end": "2024-03-31 23:59:59"}


def weighted(freq: str, **patterns: list[float]) -> dict[str, Any]:
    spec: dict[str, Any] = {"within": SPAN, "freq": freq}
    spec["patterns"] = [{"dimension": d, "weights": w} for d, w in patterns.items()]
    return {"datetime_series": spec}


def grid_law(freq: timedelta, **patterns: list[float]) -> tuple[list[datetime], list[float]]:
    """The grid points of SPAN at ``freq`` and their declared weights."""
    points, t, end = [], START, datetime(2024, 3, 31, 23, 59, 59)
    while t <= end:
        points.append(t)
        t += freq
    index = {"hour": lambda v: v.hour, "dow": lambda v: v.weekday(), "month": lambda v: v.month - 1}
    weights = []
    for p in points:
        w = 1.0
        for dim, ws in patterns.items():
            w *= ws[index[dim](p)]
        weights.append(w)
    return points, weights


def truncated_pits(
    points: list[datetime], weights: list[float], rows: list[tuple[Any, Any]], strict: bool
) -> list[float]:
    """Randomised PIT of each value given its bound under the declared law truncated after the bound."""
    import bisect

    total = sum(weights)
    below = [0.0]
    for w in weights:
        below.append(below[-1] + w / total)
    at = {p: i for i, p in enumerate(points)}
    rng = random.Random(1)
    pits = []
    for bound, value in rows:
        k0 = bisect.bisect_right(points, bound) if strict else bisect.bisect_left(points, bound)
        if k0 >= len(points):
            continue
        k = at[value]
        lo = below[k0]
        pits.append((below[k] + rng.random() * (below[k + 1] - below[k]) - lo) / (1 - lo))
    return pits


CASES = {
    # name: (freq of the later column, its timedelta, its patterns) — the earlier column is hourly
    "calendar hourly": ("H", timedelta(hours=1), {"dow": DOW_WEIGHTS, "hour": HOUR_WEIGHTS}),
    "calendar 15 min": ("15T", timedelta(minutes=15), {"hour": HOUR_WEIGHTS, "month": MONTH_WEIGHTS}),
    "joined grid 7h": ("7H", timedelta(hours=7), {"dow": DOW_WEIGHTS}),
}


@pytest.mark.parametrize("case", CASES)
def test_a_weighted_grid_after_a_bound_follows_its_weights_after_the_bound(tmp_path, case):
    freq, step, patterns = CASES[case]
    columns = [
        col("id", "int", {"sequence": {}}),
        col("start_at", "datetime", weighted("H", hour=HOUR_WEIGHTS)),
        col("end_at", "datetime", weighted(freq, **patterns)),
    ]
    d = {
        "version": "1.0",
        "metadata": {"name": "wg"},
        "nodes": [{"id": "w", "kind": "entity", "rows": 40_000, "pk": "id", "columns": columns}],
        "constraints": {"inequalities": [{"left": "w.start_at", "op": "<", "right": "w.end_at"}]},
    }
    rows = values(build(d, tmp_path)["w"], "start_at", "end_at")
    assert all(a < b for a, b in rows)
    points, weights = grid_law(step, **patterns)
    pits = truncated_pits(points, weights, rows, strict=True)
    assert len(pits) > 39_000
    for dec in range(10):
        share = sum(dec / 10 <= p < (dec + 1) / 10 for p in pits) / len(pits)
        assert abs(share - 0.1) < 0.012, (dec, share)


def offset_doc(delay: dict[str, Any], with_constraints: bool) -> dict[str, Any]:
    columns = [
        col("id", "int", {"sequence": {}}),
        col("ordered_at", "datetime", weighted("H", hour=HOUR_WEIGHTS)),
        col("delay_h", "float", delay),
        col("shipped_at", "datetime", {"expression": {"code": "ordered_at + hours(delay_h)"}}),
    ]
    d: dict[str, Any] = {
        "version": "1.0",
        "metadata": {"name": "off"},
        "nodes": [{"id": "o", "kind": "entity", "rows": 20_000, "pk": "id", "columns": columns}],
    }
    if with_constraints:
        d["constraints"] = {"inequalities": [{"left": "o.ordered_at", "op": "<", "right": "o.shipped_at"}]}
    return d


def test_a_non_negative_offset_is_known_and_left_alone(tmp_path):
    delay = uniform(1, 120)
    raw = build(offset_doc(delay, False), tmp_path / "raw")["o"]
    kept = build(offset_doc(delay, True), tmp_path / "kept")["o"]
    assert kept.equals(raw)
    sql = subprocess.run(
        ["dgsql", "emit-sql", str(tmp_path / "kept" / "schema.json")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ".* REPLACE (" not in sql  # no guard: the compiler knows the offset keeps the order


def test_an_offset_that_may_be_negative_is_guarded(tmp_path):
    delay = {"distribution": {"type": "normal", "params": {"mean": 2, "std": 3}}}
    raw = build(offset_doc(delay, False), tmp_path / "raw")["o"]
    fixed = build(offset_doc(delay, True), tmp_path / "fixed")["o"]
    step = timedelta(microseconds=1)
    for (o, s), (ro, rs) in zip(
        values(fixed, "ordered_at", "shipped_at"), values(raw, "ordered_at", "shipped_at"), strict=True
    ):
        assert o == ro
        assert s == (rs if rs > ro else ro + step)
