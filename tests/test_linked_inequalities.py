"""Inequalities between two tables linked by a lookup (issue 15; ``compiler/linked.py``).

``orders.order_date < delivery.delivery_time`` where ``delivery.order_id`` looks up
``orders.order_id``: every delivery comes after its own order, by construction (the delivery's
time is drawn truncated to after its order's), and validate checks it through the join. Tables
no lookup links: a warning at compile time and "not evaluated" in the report."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

HOURS = [1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 6, 6, 6, 6, 5, 4, 3, 2, 2, 1, 1]


def col(name: str, type_: str, generator: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "type": type_, "generator": generator}


SCHEMA: dict[str, Any] = {
    "version": "1.0",
    "metadata": {"name": "linked"},
    "timeframe": {"start": "2024-01-01", "end": "2024-12-31 23:00:00", "freq": "H"},
    "nodes": [
        {"id": "orders", "kind": "entity", "rows": 20_000, "pk": "order_id", "columns": [
            col("order_id", "int", {"sequence": {"start": 1}}),
            col("order_date", "datetime", {"datetime_series": {"freq": "H", "pattern": {"dimension": "hour", "weights": HOURS}}}),
        ]},
        # a fact of orders: its order_id is its parent's
        {"id": "delivery", "kind": "fact", "parents": ["orders"], "pk": "delivery_id",
         "fanout": {"distribution": "uniform", "min": 1, "max": 2}, "columns": [
            col("delivery_id", "int", {"sequence": {}}),
            col("order_id", "int", {"lookup": {"from": "orders.order_id"}}),
            col("delivery_time", "datetime", {"datetime_series": {"freq": "H"}}),
        ]},
        # an entity picking a random order
        {"id": "review", "kind": "entity", "rows": 5_000, "pk": "review_id", "columns": [
            col("review_id", "int", {"sequence": {}}),
            col("order_id", "int", {"lookup": {"from": "orders.order_id"}}),
            col("written_at", "datetime", {"datetime_series": {"freq": "D"}}),
            col("stars", "int", {"distribution": {"type": "uniform", "params": {"low": 1, "high": 5}}}),
        ]},
    ],
    "constraints": {"inequalities": [
        {"left": "orders.order_date", "op": "<", "right": "delivery.delivery_time"},
        {"left": "review.written_at", "op": ">=", "right": "orders.order_date"},
        {"left": "delivery.delivery_time", "op": "<", "right": "review.written_at"},
    ]},
}  # fmt: skip

NOT_LINKED = (
    "warning: constraints.inequalities[2]: delivery.delivery_time and review.written_at are in tables "
    "that no lookup links (a column of one that looks up the other's primary key): it is neither "
    "honoured while generating nor checked; look up the other table's key, or drop the inequality."
)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["dgsql", *args], capture_output=True, text=True)


def write(folder: Path, doc: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "schema.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    folder = tmp_path_factory.mktemp("linked")
    schema = write(folder, SCHEMA)
    proc = run("build", str(schema), "-o", str(folder / "out"))
    assert proc.returncode == 0, proc.stderr
    return schema, folder / "out", proc


def one(sql: str) -> Any:
    return duckdb.sql(sql).fetchall()[0][0]


def test_a_child_comes_after_its_own_parent_row(built):
    _, out, _ = built
    joined = f"'{out}/delivery.parquet' AS d JOIN '{out}/orders.parquet' AS o USING (order_id)"
    assert one(f"SELECT count(*) FROM {joined}") > 25_000
    assert one(f"SELECT count(*) FROM {joined} WHERE NOT (o.order_date < d.delivery_time)") == 0
    reviews = f"'{out}/review.parquet' AS r JOIN '{out}/orders.parquet' AS o USING (order_id)"
    assert one(f"SELECT count(*) FROM {reviews}") == 5_000
    assert one(f"SELECT count(*) FROM {reviews} WHERE NOT (r.written_at >= o.order_date)") == 0


def test_the_parent_and_the_other_columns_keep_their_draws(built, tmp_path):
    """The parent's column is not touched, and the helper column holding it is not written."""
    _, out, _ = built
    plain = copy.deepcopy(SCHEMA)
    plain.pop("constraints")
    assert run("build", str(write(tmp_path, plain)), "-o", str(tmp_path / "out")).returncode == 0
    for table, same in (
        ("orders", None),
        ("delivery", ["delivery_id", "order_id"]),
        ("review", ["review_id", "order_id", "stars"]),
    ):
        a, b = pq.read_table(out / f"{table}.parquet"), pq.read_table(tmp_path / "out" / f"{table}.parquet")
        assert a.column_names == b.column_names
        assert (a if same is None else a.select(same)).equals(b if same is None else b.select(same)), table


def test_tables_no_lookup_links_get_a_warning_and_no_check(built):
    schema, out, proc = built
    assert NOT_LINKED in proc.stderr
    report = Path(out).parent / "report.json"
    assert run("validate", str(schema), "-d", str(out), "--report", str(report)).returncode == 0
    checks = {c["id"]: c for c in json.loads(report.read_text())["checks"] if c["kind"] == "inequality"}
    statuses = {key.split(":", 1)[1]: c["status"] for key, c in checks.items()}
    assert statuses == {
        "orders.order_date < delivery.delivery_time": "PASSED",
        "review.written_at >= orders.order_date": "PASSED",
        "delivery.delivery_time < review.written_at": "NOT_EVALUATED",
    }
    assert run("check", str(schema), "--strict").returncode == 2


def test_validate_catches_a_child_before_its_parent(built, tmp_path):
    """Data built without the inequalities breaks them through the join: validate fails."""
    schema, _, _ = built
    plain = copy.deepcopy(SCHEMA)
    plain.pop("constraints")
    assert run("build", str(write(tmp_path, plain)), "-o", str(tmp_path / "out")).returncode == 0
    report = tmp_path / "report.json"
    run("validate", str(schema), "-d", str(tmp_path / "out"), "--report", str(report))
    checks = [c for c in json.loads(report.read_text())["checks"] if c["kind"] == "inequality"]
    failed = {c["id"].split(":", 1)[1] for c in checks if c["status"] == "FAILED"}
    assert failed == {"orders.order_date < delivery.delivery_time", "review.written_at >= orders.order_date"}


def test_a_child_before_its_parent_is_checked_only(tmp_path):
    doc = copy.deepcopy(SCHEMA)
    doc["constraints"]["inequalities"] = [
        {"left": "delivery.delivery_time", "op": "<", "right": "orders.order_date"}
    ]
    proc = run("check", str(write(tmp_path, doc)))
    assert proc.returncode == 0
    assert (
        "warning: constraints.inequalities[0]: delivery.delivery_time < orders.order_date compares delivery rows with their orders row but is honoured while generating only when the child's value comes after its parent's"
        in proc.stderr
    )


def test_the_emitted_script_in_the_duckdb_cli_writes_the_same_rows(built, tmp_path):
    schema, out, _ = built
    cli = shutil.which("duckdb")
    assert cli
    script = run("emit-sql", str(schema), "--out-dir", str(tmp_path / "cli")).stdout
    (tmp_path / "build.sql").write_text(script)
    subprocess.run([cli, "-c", f".read {tmp_path / 'build.sql'}"], check=True, capture_output=True)
    for table in ("orders", "delivery", "review"):
        assert pq.read_table(tmp_path / "cli" / f"{table}.parquet").equals(
            pq.read_table(out / f"{table}.parquet")
        )
