"""Time ``dgsql report`` against ``dgsql validate`` alone on the same ~10M rows, in one run.

Three datasets: the validate bench's users → events fixture (``tests/validate_fixtures.py``,
made with DuckDB SQL; 2M users, ~10M events) and two bundled examples built by dgsql at a scale
(``shop_orders`` × 100: 2M customers, ~10M orders, ~1.5M tickets; ``saas_accounts`` × 220:
1.1M accounts, ~6.5M invoices, ~2.5M onboarding events, with segment, vintage and funnel
charts). Each round times validate
alone, then the whole report (which runs validate itself, then the charts' aggregates and the
page), alternately, so both see the same machine; the medians and their ratio are printed as
JSON (ratio of the medians, of the minima, and the median of each round's ratio: on a shared
machine the load moves between rounds), with the page's size.

    python bench/bench_report.py                        # both datasets, 5 rounds
    python bench/bench_report.py --users 200000 --scale 10 --saas-scale 22 --rounds 1   # quicker
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import validate_fixtures as F  # noqa: E402
from dgsql.compiler import load  # noqa: E402
from dgsql.compiler.load import parse_dataset  # noqa: E402
from dgsql.dsl.model import Dataset  # noqa: E402
from dgsql.report import html_report  # noqa: E402
from dgsql.runtime.validate import validate  # noqa: E402


def rows_of(out: Path) -> dict[str, int]:
    tables = json.loads((out / ".metadata.json").read_text())["tables"]
    return {t: v["rows"] for t, v in tables.items()}


def measure(name: str, dataset: Dataset, out: Path, rounds: int) -> dict:
    alone, whole = [], []
    page = ""
    for _ in range(rounds):
        started = time.perf_counter()
        validate(dataset, out)
        alone.append(time.perf_counter() - started)
        started = time.perf_counter()
        page = html_report(dataset, out)
        whole.append(time.perf_counter() - started)
    v, r = statistics.median(alone), statistics.median(whole)
    paired = [b / a for a, b in zip(alone, whole, strict=True)]
    rows = rows_of(out)
    return {
        "dataset": name,
        "rows": sum(rows.values()),
        "tables": rows,
        "validate_seconds": [round(s, 2) for s in alone],
        "report_seconds": [round(s, 2) for s in whole],
        "validate_median": round(v, 2),
        "report_median": round(r, 2),
        "ratio_of_medians": round(r / v, 2),
        "ratio_of_minima": round(min(whole) / min(alone), 2),
        "ratio_per_round": [round(x, 2) for x in paired],
        "ratio_median_of_rounds": round(statistics.median(paired), 2),
        "page_bytes": len(page.encode()),
        "charts": page.count("<figure"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2_000_000)
    parser.add_argument("--scale", type=float, default=100.0, help="scale of the shop_orders example")
    parser.add_argument(
        "--saas-scale",
        type=float,
        default=220.0,
        help="scale of the saas_accounts example (~10M rows at 220)",
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="keep (or reuse) the data in this folder")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="dgsql-bench-report-") as tmp:
        base = args.keep or Path(tmp)
        fixture = base / f"users_events_{args.users}"
        if not (fixture / ".metadata.json").exists():
            F.write_dataset(fixture, users=args.users)
        results.append(measure("users_events", parse_dataset(F.schema(args.users)), fixture, args.rounds))
        for name, scale in (("shop_orders", args.scale), ("saas_accounts", args.saas_scale)):
            schema = ROOT / "examples" / f"{name}.json"
            out = base / f"{name}_x{scale:g}"
            if not (out / ".metadata.json").exists():
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "dgsql.cli",
                        "build",
                        str(schema),
                        "-o",
                        str(out),
                        "--scale",
                        str(scale),
                    ],
                    check=True,
                    capture_output=True,
                )
            dataset, _, _ = load(schema)
            results.append(measure(f"{name} x{scale:g}", dataset, out, args.rounds))
    print(
        json.dumps(
            {
                "results": results,
                "duckdb": duckdb.__version__,
                "machine": f"{platform.machine()} {platform.system()}",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
