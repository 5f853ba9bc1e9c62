"""Every Datagen form at once (``marketplace.json``): segments in both forms, list and parametric
vintage curves, a funnel with segment variation, a table-level effect with a dropped key and a
presence gate, a cross-table inequality, Datagen's aliases and accidents. It builds with exactly
the documented warnings, fails under ``--strict``, validates with no failed check, and the
emitted script run by the DuckDB CLI writes the same files."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

SCHEMA = Path(__file__).with_name("marketplace.json")
WARNINGS = [
    "warning: nodes[0].segment_behavior.segments: the base_probability of each segment is used as the choice weights of customers.tier (it has none of its own); give the choice weights to silence this.",
    "warning: nodes[2].columns[3].generator.distribution.params: normal takes std, not sigma; Datagen ignored sigma and drew with std 1, dgsql draws with std 12 (Datagen's output differed). Write \"std\": 12.",
    "warning: nodes[2].modifiers[0].args.on: table 'customers' has no column 'region', so the key is dropped (as Datagen did) and the effect matches on tier and its window; add 'region' to 'customers' or remove the key.",
    "warning: nodes[2].modifiers[0].args.map.field: table 'promos' has no column 'boost', so (as in Datagen) the effect only gates: the fanout is k times 1.0 where a row of 'promos' matches and k times map.default (0.9) where none does; name a numeric column of 'promos' or add 'boost' to it.",
    "warning: targets.composite_effect.metric: 'turnover' is not a column of 'orders'; Datagen never read metric and compared row counts, and so does dgsql (metric \"volume\"). Write \"volume\", or name a numeric column of the table.",
    "warning: targets.composite_effect.tolerance.mape: 20 is a percentage (Datagen's unit); dgsql reads mape as a fraction and uses 0.2. Write 0.2.",
]  # fmt: skip


def dgsql(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["dgsql", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("marketplace") / "out"
    proc = dgsql("build", str(SCHEMA), "-o", str(folder))
    assert proc.returncode == 0, proc.stderr
    assert [line for line in proc.stderr.splitlines() if line.startswith("warning:")] == WARNINGS
    return folder


def test_it_fails_under_strict_with_the_warnings_as_errors(tmp_path):
    for command in (["check", str(SCHEMA)], ["build", str(SCHEMA), "-o", str(tmp_path / "o")]):
        proc = dgsql(*command, "--strict")
        assert proc.returncode == 2
        assert [line for line in proc.stderr.splitlines() if line.startswith("error:")] == [
            "error:" + w.removeprefix("warning:") for w in WARNINGS
        ]
    assert not (tmp_path / "o").exists()


def test_it_validates_with_no_failed_check(out):
    report = out.parent / "report.json"
    assert dgsql("validate", str(SCHEMA), "-d", str(out), "--report", str(report)).returncode == 0
    checks = json.loads(report.read_text())["checks"]
    assert not [c["id"] for c in checks if c["status"] == "FAILED"]
    passed = {c["kind"] for c in checks if c["status"] == "PASSED"}
    assert {"funnel_stages", "funnel_times", "funnel_conversion", "inequality", "fanout_bounds"} <= passed


def test_the_behaviours_show_in_the_data(out):
    def one(sql: str):
        return duckdb.sql(sql).fetchall()[0][0]

    deliveries = f"'{out}/deliveries.parquet' d JOIN '{out}/orders.parquet' o USING (order_id)"
    assert one(f"SELECT count(*) FROM {deliveries} WHERE NOT (o.order_date < d.delivery_time)") == 0
    orders = f"'{out}/orders.parquet' o JOIN '{out}/customers.parquet' c USING (customer_id)"
    assert one(f"SELECT count(*) FROM {orders} WHERE o.order_date < c.created_at") == 0  # vintage
    per_tier = dict(duckdb.sql(f"SELECT tier, avg(amount) FROM {orders} GROUP BY tier").fetchall())
    assert per_tier["premium"] > 1.3 * per_tier["basic"]  # value_multiplier 1.5
    stages = duckdb.sql(
        f"SELECT DISTINCT stage_index, stage_name FROM '{out}/journey.parquet' ORDER BY 1"
    ).fetchall()
    assert stages == [(0, "visit"), (1, "cart"), (2, "checkout"), (3, "purchase")]


def test_the_duckdb_cli_writes_the_same_files(out, tmp_path):
    cli = shutil.which("duckdb")
    assert cli
    script = dgsql("emit-sql", str(SCHEMA), "--out-dir", str(tmp_path / "cli")).stdout
    (tmp_path / "build.sql").write_text(script)
    subprocess.run([cli, "-c", f".read {tmp_path / 'build.sql'}"], check=True, capture_output=True)
    for path in sorted(out.glob("*.parquet")):
        assert pq.read_table(tmp_path / "cli" / path.name).equals(pq.read_table(path)), path.name
