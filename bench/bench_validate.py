"""Time ``dgsql validate`` on ~10M rows.

Makes the test fixture's dataset (users → events, ~5 events per user; see
``tests/validate_fixtures.py``) at scale with DuckDB SQL, then validates it and prints the
seconds, the number of checks and the slowest checks as JSON.

    python bench/bench_validate.py                  # 2M users, ~10M events
    python bench/bench_validate.py --users 200000   # quicker
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import validate_fixtures as F  # noqa: E402
from dgsql.compiler.load import parse_dataset  # noqa: E402
from dgsql.runtime.report import Status  # noqa: E402
from dgsql.runtime.validate import validate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2_000_000)
    parser.add_argument("--data-dir", type=Path, help="reuse or keep the data here (default: a temp folder)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="validate this many times; the median is reported"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dgsql-bench-") as tmp:
        out = args.data_dir or Path(tmp) / "data"
        started = time.perf_counter()
        if not (out / ".metadata.json").exists():
            rows = F.write_dataset(out, users=args.users)
        else:
            rows = json.loads((out / ".metadata.json").read_text())["tables"]
            rows = {t: v["rows"] for t, v in rows.items()}
        make_seconds = time.perf_counter() - started
        dataset = parse_dataset(F.schema(args.users))
        runs = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            report = validate(dataset, out)
            runs.append((time.perf_counter() - started, report))
        runs.sort(key=lambda r: r[0])
        seconds, report = runs[len(runs) // 2]
        slowest = sorted(report.results, key=lambda r: r.seconds, reverse=True)[:8]
        print(
            json.dumps(
                {
                    "rows": sum(rows.values()),
                    "tables": rows,
                    "checks": len(report.results),
                    "checks_on_the_largest_table": sum(
                        r.check.target.startswith("events") for r in report.results
                    ),
                    "validate_seconds_median": round(seconds, 3),
                    "validate_seconds_all": [round(s, 3) for s, _ in runs],
                    "make_data_seconds": round(make_seconds, 2),
                    "quality_score": report.quality_score,
                    "not_passed": [r.check.id for r in report.results if r.status is not Status.PASSED],
                    "slowest": {r.check.id: round(r.seconds, 3) for r in slowest},
                    "duckdb": duckdb.__version__,
                    "machine": f"{platform.machine()} {platform.system()}",
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
