"""``dgsql spark`` in local mode writes, part for part, what ``dgsql build`` writes (a three-stage
schema with fanout, lookups of every kind, self-references and Faker). Deselect with
``-m 'not spark'``; skipped when PySpark is absent, except in CI (``CI`` set), where it fails."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dgsql.compiler import Compression, plan_schema
from dgsql.runtime.build import build
from test_parts import EVERY, same_tables

pytestmark = pytest.mark.spark


def need_pyspark() -> None:
    if importlib.util.find_spec("pyspark") is not None:
        return
    if os.environ.get("CI"):
        pytest.fail("PySpark is not installed; the test extra installs it (pip install -e '.[test]').")
    pytest.skip("PySpark is not installed (pip install 'dgsql[spark]'); CI runs this test.")


def test_spark_local_writes_the_single_build(tmp_path: Path) -> None:
    need_pyspark()
    out = tmp_path / "spark"
    done = subprocess.run(
        [sys.executable, "-m", "dgsql.cli", "spark", str(EVERY), "--out", f"file://{out}", "--parts", "3",
         "--master", "local[2]", "--seed", "7"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    planned = plan_schema(EVERY, seed=7)
    build(planned, tmp_path / "single", compression=Compression.snappy)
    assert same_tables(planned, tmp_path / "single", out) == []
    assert all(f"stage {s}: 3 parts" in done.stderr for s in range(3))
    meta = json.loads((out / ".metadata.json").read_text())
    assert meta["parts"] == {"count": 3, "stages": 3} and meta["spark"]["master"] == "local[2]"


def test_spark_refuses_a_store_it_cannot_reach() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dgsql.cli", "spark", str(EVERY), "--out", "s3://bucket/x", "--parts", "2"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith("error: --out s3://bucket/x: parts are written by DuckDB")
    )
