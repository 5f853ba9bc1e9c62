"""Table-level ``effect`` as Datagen ran it (issue 15): a key the parent lacks is dropped, a
``map.field`` the effect table lacks gates (1.0 on a match, ``default`` otherwise), and the window
is tested at the parent's first datetime *or date* column. Each with a warning, exact fanout
counts per parent, validate's fanout check modelling it, and the DuckDB CLI writing the same files.

Expected counts are computed here, in Python, from the files (the parent's keys and times, the
effect rows), never from dgsql's SQL.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from datetime import date, datetime
from typing import Any

import pyarrow.parquet as pq
import pytest

TF = {"start": "2024-01-01T00:00:00", "end": "2024-12-31T23:59:59", "freq": "D"}
WINDOW = {"start_col": "ws", "end_col": "we"}
STORES = 400


def effect(on: dict[str, str], field: str, default: float = 1.0, window: bool = True) -> dict[str, Any]:
    args: dict[str, Any] = {
        "effect_table": "promo",
        "on": on,
        "map": {"field": field, "op": "mul", "default": default},
    }
    if window:
        args["window"] = WINDOW
    return {"transform": "effect", "args": args}


def fact(dg, node_id: str, parent: str, key: str, k: int, *effects: dict[str, Any]) -> dict[str, Any]:
    return dg.fact(
        node_id,
        [parent],
        dg.col("oid", "int", dg.seq()),
        dg.col(key, "int", {"lookup": {"from": f"{parent}.{key}"}}),
        pk="oid",
        fanout={"distribution": "uniform", "min": k, "max": k},
        modifiers=list(effects),
    )


def vocab(dg, node_id: str, pk: str, **columns: tuple[str, list[Any]]) -> dict[str, Any]:
    cols = [
        dg.col(name, type_, {"enum_list": {"values": values}}) for name, (type_, values) in columns.items()
    ]
    return dg.vocab(node_id, *cols, pk=pk)


def compat_schema(dg) -> dict[str, Any]:
    c = dg.col
    promo = vocab(
        dg, "promo", "pid",
        pid=("int", [1, 2, 3]),
        store=("int", [1, 3, 1]),
        ws=("date", ["2024-03-01", "2024-09-01", "2024-01-01"]),
        we=("date", ["2024-05-31", "2024-10-31", "2024-12-31"]),
        lift=("float", [2.0, 3.0, 1.5]),
    )  # fmt: skip
    stores = dg.entity(
        "stores",
        c("sid", "int", dg.seq()),
        c("store", "int", {"expression": {"code": "sid % 4"}}),
        c("opened", "date", {"datetime_series": {"within": "timeframe", "freq": "D"}}),
        c("seen", "datetime", {"datetime_series": {"within": "timeframe", "freq": "H"}}),
        rows=STORES,
        pk="sid",
    )
    # the hand-computed case: dates at and beside the window's ends, and a datetime column after
    # them that lies outside every window (the rule before issue 15 tested it)
    days = vocab(
        dg, "days", "day_id",
        day_id=("int", [1, 2, 3, 4]),
        day=("date", ["2024-02-29", "2024-03-01", "2024-05-31", "2024-06-01"]),
        at=("datetime", ["2024-02-01T00:00:00"] * 4),
    )  # fmt: skip
    return dg.schema(
        promo, stores, days,
        fact(dg, "gated", "stores", "sid", 6, effect({"store": "store"}, "boost", default=0.5)),
        fact(dg, "dropped", "stores", "sid", 4, effect({"store": "store", "region": "region"}, "lift")),
        fact(dg, "window_only", "stores", "sid", 4, effect({"region": "region"}, "lift", default=0.5)),
        fact(dg, "every_row", "stores", "sid", 4, effect({"region": "region"}, "lift", window=False)),
        fact(dg, "by_date", "days", "day_id", 3, effect({}, "lift", default=1.0)),
        name="table_effect", timeframe=TF,
    )  # fmt: skip


WARNINGS = [
    "warning: nodes[3].modifiers[0].args.map.field: table 'promo' has no column 'boost', so (as in Datagen) "
    "the effect only gates: the fanout is k times 1.0 where a row of 'promo' matches and k times "
    "map.default (0.5) where none does; name a numeric column of 'promo' or add 'boost' to it.",
    "warning: nodes[4].modifiers[0].args.on: table 'stores' has no column 'region', so the key is dropped "
    "(as Datagen did) and the effect matches on store and its window; add 'region' to 'stores' or "
    "remove the key.",
    "warning: nodes[5].modifiers[0].args.on: table 'stores' has no column 'region', so the key is dropped "
    "(as Datagen did) and the effect matches on its window alone; add 'region' to 'stores' or remove "
    "the key.",
    "warning: nodes[6].modifiers[0].args.on: table 'stores' has no column 'region', so the key is dropped "
    "(as Datagen did) and the effect matches on nothing, so every parent row gets the factor of the "
    "first row of 'promo'; add 'region' to 'stores' or remove the key.",
]


@pytest.fixture(scope="module")
def schema_path(dg):
    return dg.write_schema(compat_schema(dg))


@pytest.fixture(scope="module")
def built(dg, schema_path):
    return dg.build(schema_path)


def children(out, fact_id: str, parent: str, key: str) -> dict[int, int]:
    counts = Counter(out.column(fact_id, key))
    return {p: counts.get(p, 0) for p in out.column(parent, key)}


def promos(out) -> list[dict[str, Any]]:
    return sorted(out.table("promo").to_pylist(), key=lambda r: r["pid"])


def first_match(out, store: int | None, at: date) -> dict[str, Any] | None:
    """The lowest-pid promo whose store matches (None: any store) and whose window holds ``at``
    (a date is its midnight; the window's dates too)."""
    t = datetime(at.year, at.month, at.day)
    for p in promos(out):
        start, end = (datetime(d.year, d.month, d.day) for d in (p["ws"], p["we"]))
        if (store is None or p["store"] == store) and start <= t <= end:
            return p
    return None


def stores(out) -> list[dict[str, Any]]:
    return out.table("stores").to_pylist()


def test_check_warns_with_exact_lines(dg, schema_path):
    result = dg.cli("check", schema_path)
    assert result.exit_code == 0, result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("warning: ")] == WARNINGS


def test_strict_makes_the_warnings_errors(dg, schema_path):
    result = dg.cli("check", schema_path, "--strict")
    assert result.exit_code == 2
    assert result.errors == [w.removeprefix("warning: ") for w in WARNINGS]


def test_missing_field_gates_the_fanout(built):
    k = children(built, "gated", "stores", "sid")
    expected = {s["sid"]: 6 if first_match(built, s["store"], s["opened"]) else 3 for s in stores(built)}
    assert k == expected
    assert 20 < sum(n == 6 for n in k.values()) < STORES - 20  # both kinds of parent occur


def test_a_key_the_parent_lacks_is_dropped(built):
    k = children(built, "dropped", "stores", "sid")
    expected = {}
    for s in stores(built):
        match = first_match(built, s["store"], s["opened"])
        expected[s["sid"]] = round(4 * match["lift"]) if match else 4
    assert k == expected
    assert set(k.values()) == {4, 6, 8, 12}  # lift 1.5 (pid 3) only where pids 1 and 2 do not match


def test_every_key_dropped_matches_on_the_window_alone(built):
    k = children(built, "window_only", "stores", "sid")
    expected = {}
    for s in stores(built):
        match = first_match(built, None, s["opened"])
        expected[s["sid"]] = round(4 * match["lift"]) if match else 2
    assert k == expected
    # promo 3's window is the whole year: every parent matches something
    assert set(k.values()) == {8, 12, 6}


def test_every_key_dropped_without_window_matches_every_row(built):
    # the first promo (pid 1, lift 2.0) for every parent
    assert set(children(built, "every_row", "stores", "sid").values()) == {8}


def test_the_window_is_tested_at_the_parents_first_date_column(built):
    # by hand: promo 1 (2024-03-01 .. 2024-05-31, lift 2.0) holds 03-01 and 05-31 (both ends at
    # midnight, inclusive): 3 · 2.0 = 6; 02-29 and 06-01 fall to promo 3 (the whole year, lift
    # 1.5): 3 · 1.5 = 4.5, rounded half away from zero, 5. The datetime column "at" (2024-02-01,
    # in promo 3 only; the rule before issue 15 tested it) would give 5 to every day.
    assert children(built, "by_date", "days", "day_id") == {1: 5, 2: 6, 3: 6, 4: 5}


def validate_report(dg, schema: dict[str, Any] | Any, out) -> tuple[int, dict[str, dict[str, Any]]]:
    path = schema if not isinstance(schema, dict) else dg.write_schema(schema)
    report = out.path.parent / "report.json"
    result = dg.cli("validate", path, "-d", out.path, "--report", report)
    checks = {c["id"]: c for c in json.loads(report.read_text())["checks"]}
    return result.exit_code, checks


def test_validate_passes_and_models_each_effect(dg, schema_path, built):
    code, checks = validate_report(dg, schema_path, built)
    assert code == 0
    for fact_id in ("gated", "dropped", "window_only", "every_row", "by_date"):
        check = checks[f"fanout_bounds:{fact_id}"]
        assert check["status"] == "PASSED", check
        assert check["detail"]["expected"]["scaled_by_effect"] is True


def test_validate_fails_data_built_by_another_rule(dg, built):
    """The check is per parent row: the same files fail against a schema whose gate default or
    tested time column differs."""
    doc = compat_schema(dg)
    doc["nodes"][3]["modifiers"][0]["args"]["map"]["default"] = 1.0  # gated: 3 children expected 6
    days = doc["nodes"][2]["columns"]
    days[1], days[2] = days[2], days[1]  # "at" first: the rule before issue 15
    _, checks = validate_report(dg, doc, built)
    gated, by_date = checks["fanout_bounds:gated"], checks["fanout_bounds:by_date"]
    assert gated["status"] == "FAILED" and gated["violations"] == sum(
        n == 3 for n in children(built, "gated", "stores", "sid").values()
    )
    assert by_date["status"] == "FAILED" and by_date["violations"] == 2  # days 2 and 3
    assert checks["fanout_bounds:dropped"]["status"] == "PASSED"


def test_duckdb_cli_runs_the_emitted_script_to_identical_files(dg, schema_path, built, tmp_path):
    duckdb_cli = shutil.which("duckdb")
    assert duckdb_cli, "the duckdb CLI is not on PATH; pip install duckdb-cli (in the test extra)"
    (tmp_path / "build.sql").write_text(dg.emit_sql(schema_path, "--out-dir", "out"))
    done = subprocess.run([duckdb_cli, "-c", ".read build.sql"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    mine = built.tables()
    theirs = {p.stem: pq.read_table(p) for p in (tmp_path / "out").glob("*.parquet")}
    assert sorted(theirs) == sorted(mine)
    for name, table in mine.items():
        assert theirs[name].equals(table), name
    again = dg.build(schema_path, "--threads", "1").tables()
    assert all(again[name].equals(table) for name, table in mine.items())
