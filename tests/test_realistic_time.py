"""Issue 14's acceptance at 500k orders: a seasonal ``ordered_at``, ``shipped_at`` an offset of it,
``delivered_at`` after ``shipped_at`` declared only by an inequality, and tickets with a three-step
chain (an offset, then an inequality). Every inequality holds on every row, ``ordered_at`` keeps
its declared hour/dow/month shares (validate's own exact checks), the offsets follow their
declared laws (mean within 1 %), and ``dgsql validate`` passes every check."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path
from statistics import NormalDist
from typing import Any

import duckdb
import pytest


def clamped_lognormal_mean(mu: float, sigma: float, lo: float, hi: float) -> float:
    z = NormalDist()
    a, b = (math.log(lo) - mu) / sigma, (math.log(hi) - mu) / sigma
    inside = math.exp(mu + sigma**2 / 2) * (z.cdf(b - sigma) - z.cdf(a - sigma))
    return lo * z.cdf(a) + hi * (1 - z.cdf(b)) + inside


SCHEMA = json.loads(
    (Path(__file__).resolve().parents[1] / "bench" / "schemas" / "realistic_time.json").read_text()
)
"The schema ``bench/bench_time.py`` times with and without its inequalities."
ORDERS = SCHEMA["nodes"][0]["rows"]
SHIP = (2.8, 0.6, 1.0, 168.0)  # ship_h: lognormal mean, sigma; clamp (hours)
RESPONSE = (3.5, 0.8, 2.0, 2880.0)  # response_min (minutes)


def test_the_offsets_are_the_declared_ones():
    columns = {c["name"]: c for n in SCHEMA["nodes"] for c in n["columns"]}
    for name, (mu, sigma, lo, hi) in (("ship_h", SHIP), ("response_min", RESPONSE)):
        law = columns[name]["generator"]["distribution"]
        assert (law["params"], law["clamp"]) == ({"mean": mu, "sigma": sigma}, [lo, hi])


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("time")
    (folder / "schema.json").write_text(json.dumps(SCHEMA))
    report = folder / "report.json"
    for command in (
        ["build", str(folder / "schema.json"), "-o", str(folder / "out")],
        ["validate", str(folder / "schema.json"), "-d", str(folder / "out"), "--report", str(report)],
    ):
        proc = subprocess.run(["dgsql", *command], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    return folder / "out", json.loads(report.read_text())


def one(sql: str) -> Any:
    return duckdb.sql(sql).fetchall()[0][0]


def test_every_inequality_holds_on_every_row(built):
    out, _ = built
    for q in SCHEMA["constraints"]["inequalities"]:
        (table, left), (_, right) = q["left"].split("."), q["right"].split(".")
        rows = one(f"SELECT count(*) FROM '{out}/{table}.parquet'")
        assert rows >= (ORDERS if table == "orders" else 0.25 * ORDERS)
        assert (
            one(f"SELECT count(*) FROM '{out}/{table}.parquet' WHERE NOT ({left} {q['op']} {right})") == 0
        ), q


def test_validate_passes_every_check_and_ordered_at_keeps_its_exact_shape(built):
    _, report = built
    checks = report["checks"]
    failed = [(c["id"], c["detail"]) for c in checks if c["status"] != "PASSED"]
    assert not failed, failed[:3]
    shape = {c["id"]: c for c in checks if c["kind"] == "datetime_shape"}
    for dim in ("hour", "dow", "month"):
        check = shape[f"datetime_shape:orders.ordered_at:{dim}"]
        assert check["status"] == "PASSED" and check["detail"]["expected"]["weights"], check


@pytest.mark.parametrize(
    "table, start, end, unit, law",
    [
        ("orders", "ordered_at", "shipped_at", 3600, SHIP),
        ("tickets", "opened_at", "first_response_at", 60, RESPONSE),
    ],
)
def test_offsets_follow_their_declared_law(built, table, start, end, unit, law):
    out, _ = built
    mean = one(f"SELECT avg(epoch_us({end}) - epoch_us({start})) / {unit * 1e6} FROM '{out}/{table}.parquet'")
    assert abs(mean / clamped_lognormal_mean(*law) - 1) < 0.01, mean
