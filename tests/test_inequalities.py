"""Declared inequalities honoured while generating (issue 4).

Salts depend on (seed, dataset, table, column, draw), not on the constraints, so the same schema
built without its ``inequalities`` gives the raw draws. The documented method (docs/dsl.md: the
row's values of a group of tied columns are sorted and assigned along a linear extension of the
inequalities; with a strict one, a tie moves the later value one step up) is then checked exactly,
row by row, against those raw draws.
"""

from __future__ import annotations

import json
import math
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

N = 50_000
TF = {"start": "2024-01-01", "end": "2024-12-31 23:00:00", "freq": "H"}


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

# (left, op, right, step of the columns: what a strict tie adds to the lower value)
PAIRS = [
    ("ts1", "<", "ts2", timedelta(hours=1)),
    ("ts3", ">=", "ts4", None),
    ("i1", ">", "i2", 1),
    ("i3", "<=", "i4", None),
    ("d1", "<=", "d2", None),
    ("d3", ">", "d4", timedelta(days=1)),
    ("m1", "<", "m2", "month"),
    ("f1", "<", "f2", "next"),
    ("s_start", "<", "s_end", 1),
    ("n1", "<", "n2", 1),
]


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
        # reads both sides of an inequality listed after it: must see the fixed values
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
            "inequalities": [{"left": f"iv.{a}", "op": op, "right": f"iv.{b}"} for a, op, b, _ in PAIRS]
        }
    return d


@pytest.fixture(scope="module")
def raw_and_fixed(tmp_path_factory) -> tuple[pa.Table, pa.Table]:
    raw = build(doc(False), tmp_path_factory.mktemp("raw"))["iv"]
    fixed = build(doc(True), tmp_path_factory.mktemp("fixed"))["iv"]
    return raw, fixed


def add_step(v: Any, step: Any, sign: int) -> Any:
    if step == "month":
        month = v.month - 1 + sign
        return v.replace(year=v.year + month // 12, month=month % 12 + 1)
    if step == "next":
        return math.nextafter(v, sign * math.inf)
    return v + step if sign > 0 else v - step


def expected(l_raw: Any, r_raw: Any, op: str, step: Any) -> tuple[Any, Any]:
    """The documented fix of one row: the lower draw goes to the lower side (``left`` for ``<``,
    ``right`` for ``>``); with a strict op, a tie moves the upper side one step above the lower."""
    if l_raw is None or r_raw is None:
        return l_raw, r_raw
    lo, hi = min(l_raw, r_raw), max(l_raw, r_raw)
    if op in ("<", ">") and lo == hi:
        hi = add_step(lo, step, 1)
    return (lo, hi) if op in ("<", "<=") else (hi, lo)


HOLDS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def pair_values(table: pa.Table, left: str, right: str) -> tuple[list[Any], list[Any]]:
    return table.column(left).to_pylist(), table.column(right).to_pylist()


@pytest.mark.parametrize("left, op, right, step", PAIRS, ids=[f"{a}{op}{b}" for a, op, b, _ in PAIRS])
def test_inequality_holds_on_every_row(raw_and_fixed, left, op, right, step):
    _, fixed = raw_and_fixed
    ls, rs = pair_values(fixed, left, right)
    broken = [
        (a, b) for a, b in zip(ls, rs, strict=True) if a is not None and b is not None and not HOLDS[op](a, b)
    ]
    assert not broken, broken[:5]


@pytest.mark.parametrize("left, op, right, step", PAIRS, ids=[f"{a}{op}{b}" for a, op, b, _ in PAIRS])
def test_fixed_pair_is_the_sorted_raw_draws(raw_and_fixed, left, op, right, step):
    raw, fixed = raw_and_fixed
    raw_l, raw_r = pair_values(raw, left, right)
    got_l, got_r = pair_values(fixed, left, right)
    wrong = [
        (i, (a, b), (x, y), expected(a, b, op, step))
        for i, (a, b, x, y) in enumerate(zip(raw_l, raw_r, got_l, got_r, strict=True))
        if (x, y) != expected(a, b, op, step)
    ]
    assert not wrong, wrong[:5]
    # the pair was really broken in many rows (the test is not vacuous)
    assert (
        sum(
            a is not None and b is not None and not HOLDS[op](a, b) for a, b in zip(raw_l, raw_r, strict=True)
        )
        > N / 10
    )


# P(row untouched) = P(the raw pair already holds), from the columns' laws
UNTOUCHED = {
    "ts1": (1 - 1 / 8784) / 2,  # 8784 hourly points, `<`
    "ts3": (1 + 1 / 8784) / 2,
    "i1": 0.45,  # 10 values, `>`
    "i3": 0.55,
    "d1": (1 + 1 / 366) / 2,
    "d3": (1 - 1 / 366) / 2,
    "m1": 11 / 24,  # 12 month starts, `<`
    "f1": 0.5,
    "s_start": (1 - 1 / 1001) / 2,
    "n1": 1 - 0.49 + 0.49 * (1 - 1 / 100) / 2,  # a NULL on either side leaves the row alone
}


@pytest.mark.parametrize("left, op, right, step", PAIRS, ids=[f"{a}{op}{b}" for a, op, b, _ in PAIRS])
def test_fraction_of_untouched_rows_is_plausible(raw_and_fixed, left, op, right, step):
    raw, fixed = raw_and_fixed
    raw_l, raw_r = pair_values(raw, left, right)
    got_l, got_r = pair_values(fixed, left, right)
    same = sum(a == x and b == y for a, b, x, y in zip(raw_l, raw_r, got_l, got_r, strict=True)) / N
    assert abs(same - UNTOUCHED[left]) < 0.01, same


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


def test_nullable_sides_with_nulls_are_left_alone(raw_and_fixed):
    raw, fixed = raw_and_fixed
    rows = list(zip(*(t.column(c).to_pylist() for t in (raw, fixed) for c in ("n1", "n2")), strict=True))
    with_null = [r for r in rows if r[0] is None or r[1] is None]
    assert 0.45 * N < len(with_null) < 0.55 * N  # 1 - 0.7^2 = 0.51
    assert all(r[:2] == r[2:] for r in with_null)
    assert sum(r[2] is None for r in rows) == sum(r[0] is None for r in rows)


def test_month_grid_tie_moves_right_one_month(raw_and_fixed):
    raw, fixed = raw_and_fixed
    raw_l, raw_r = pair_values(raw, "m1", "m2")
    got_r = fixed.column("m2").to_pylist()
    ties = [(a, r) for a, b, r in zip(raw_l, raw_r, got_r, strict=True) if a == b]
    assert len(ties) > N / 20
    assert all(r == add_step(a, "month", 1) and r.day == 1 for a, r in ties)


def test_fixed_columns_keep_their_declared_types(raw_and_fixed):
    raw, fixed = raw_and_fixed
    assert fixed.schema.equals(raw.schema), (raw.schema, fixed.schema)
    types = {f.name: str(f.type) for f in fixed.schema}
    # a strict tie on dates steps a day and stays a DATE (it once became a TIMESTAMP)
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


def test_chained_inequalities_hold_together_as_sorted_draws(tmp_path):
    raw = build(chain_doc(False), tmp_path / "raw")["ch"]
    fixed = build(chain_doc(True), tmp_path / "fixed")["ch"]
    raw_rows = zip(*(raw.column(x).to_pylist() for x in "abcd"), strict=True)
    got_rows = list(zip(*(fixed.column(x).to_pylist() for x in "abcd"), strict=True))
    for r, got in zip(raw_rows, got_rows, strict=True):
        # sorted, and (the group has a strict inequality) each value at least one above the previous
        want = sorted(r)
        for i in range(1, 4):
            want[i] = max(want[i], want[i - 1] + 1)
        assert got == tuple(want), (r, got)
    assert all(a < b < c <= d for a, b, c, d in got_rows)


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
