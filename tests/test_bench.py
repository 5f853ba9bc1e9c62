"""The benchmark suite keeps working: one run at its smallest scale (no timing asserted)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_suite_runs_at_the_smallest_scale():
    done = subprocess.run(
        [sys.executable, "bench/suite.py", "--scales", "10k", "--schemas", "examples/hr_org.json", "--name", "ci-smoke",
         "--repeat", "2"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    runs = json.loads((ROOT / "bench" / "results" / "ci-smoke.json").read_text())["runs"]
    assert runs[0]["schema"] == "hr_org"
    assert runs[0]["rows"] > 5_000 and runs[0]["floor_s"] > 0 and runs[0]["bytes"] > 0
    assert runs[0]["repeat"] == 2
