"""Parts against the single build (docs/parts.md), measured in the same run.

    python bench/parts.py                          # users_events at 100M rows: single, --parts 8 --jobs 2, Spark local[2]
    python bench/parts.py --rows 10M --no-spark

Each command runs in a fresh process, its output deleted before the next: `dgsql build` (the
single build), `dgsql build --parts P --jobs J`, `dgsql spark --parts P --master M`, and the
DuckDB floor (bench/suite.py's: a COPY per table of `range(rows)` with the same column types).
Wall time is the whole command's (Python start, compile and, for Spark, the JVM's start
included); "generation" is the time the run itself reports in `.metadata.json`. Parts are
compared with the single build of the same run; no test asserts on these times. Written to
bench/results/parts.md and parts.json, with the projection to 10B rows on a cluster.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import suite

HERE = Path(__file__).resolve().parent
SCHEMA = suite.ROOT.parent / "shared" / "examples" / "users_events.json"


def timed(*args: str, env: dict | None = None) -> float:
    """Run ``dgsql ARGS`` in a fresh process; its wall time in seconds."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "dgsql.cli", *args], capture_output=True, text=True, env=env, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"dgsql {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return wall


def measure(schema: Path, target: int, parts: int, jobs: int, master: str | None, work: Path) -> dict:
    scale = target / suite.expected_rows(schema, 1.0)
    common = [str(schema), "--scale", str(scale)]
    runs: dict[str, dict] = {}

    def record(name: str, out: Path, wall: float) -> None:
        meta = json.loads((out / ".metadata.json").read_text())
        runs[name] = {
            "load_average_1m_after": round(os.getloadavg()[0], 2),
            "bytes": sum(f.stat().st_size for f in out.rglob("*.parquet")),
            "wall_s": round(wall, 3),
            "generation_s": meta["seconds"],
            "rows": sum(t["rows"] for t in meta["tables"].values()),
            "tables": {n: t["rows"] for n, t in meta["tables"].items()},
            "part_seconds": {
                n: [p["seconds"] for p in t["parts"]] for n, t in meta["tables"].items() if "parts" in t
            },
            "types": {n: [c["type"] for c in t["columns"]] for n, t in meta["tables"].items()},
        }
        shutil.rmtree(out)

    out = work / "single"
    record("single", out, timed("build", *common, "-o", str(out)))
    out = work / "parts"
    record("parts", out, timed("build", *common, "-o", str(out), "--parts", str(parts), "--jobs", str(jobs)))
    if master is not None:
        out = work / "spark"
        spark = ["spark", *common, "--out", str(out), "--parts", str(parts), "--master", master]
        record("spark", out, timed(*spark))
    single = runs["single"]
    spec = {
        "tables": {n: (rows, single["types"][n]) for n, rows in single["tables"].items()},
        "compression": "snappy",
    }
    (work / "floor.json").write_text(json.dumps(spec))
    floor = suite.child("--one-floor", str(work / "floor.json"), str(work / "floor"))
    shutil.rmtree(work / "floor")
    for run in runs.values():
        assert run["tables"] == single["tables"], "parts wrote other row counts than the single build"
    return {
        "schema": schema.stem,
        "target_rows": target,
        "scale": round(scale, 4),
        "parts": parts,
        "jobs": jobs,
        "master": master,
        "floor_s": round(floor["floor_s"], 3),
        "runs": runs,
    }


def projection(result: dict, rows: float = 1e10, executors: tuple[int, ...] = (8, 32, 128)) -> list[str]:
    """10B rows on a cluster of executors with 2 cores each, from this run's parts figures."""
    parts_run = result["runs"]["parts"]
    cores = os.cpu_count() or 1
    per_core = parts_run["rows"] / (parts_run["generation_s"] * cores)  # rows/s per core, parts included
    spark = result["runs"].get("spark")
    # Spark's fixed cost over the same parts run two at a time here (JVM start, task launch, a
    # Python worker per task, each re-planning the schema), when it shows above the noise
    stage_cost = max(spark["wall_s"] - parts_run["wall_s"], 0.0) if spark is not None else None
    lines = [
        f"Measured: {per_core:,.0f} rows/s per core for `--parts {result['parts']} --jobs {result['jobs']}` "
        f"({cores} cores)."
        + (
            f" Spark's wall time over the same parts here: +{stage_cost:.1f} s (0 when Spark was faster)."
            if stage_cost is not None
            else ""
        ),
        "",
        "| executors (2 cores each) | parts | hours at that rate | assumptions |",
        "|---|---|---|---|",
    ]
    for n in executors:
        seconds = rows / (per_core * 2 * n) + (stage_cost or 0)
        lines.append(
            f"| {n} | {8 * n} | {seconds / 3600:.2f} | 4 parts per core, the per-core rate of this machine |"
        )
    per_row = parts_run["bytes"] / parts_run["rows"]
    lines += [
        "",
        "Assumptions: the rate per core of this 2-core machine, as measured here (a busy machine "
        "lowers it: see the load averages), holds per executor core (the parts are independent, so "
        "the work scales with the cores); the shared filesystem or mounted store takes the "
        f"executors' combined writes ({per_row:.1f} bytes a row of this schema in snappy Parquet, "
        f"{per_row * rows / 1e12:.2f} TB for {rows:,.0f} rows); each part's count pass over "
        "the parents before it grows with the number of parts (users_events: a poisson count per "
        "user; not measured apart here); single-stage schemas (a schema with stages adds "
        "a barrier and reads kept tables back per stage). Spark's fixed overhead (JVM, a Python "
        "worker per task) is counted once.",
    ]
    return lines


def report(result: dict, env: dict) -> str:
    single = result["runs"]["single"]
    lines = [
        "# Parts against the single build\n",
        f"{env['date']} · dgsql {env['dgsql']} · DuckDB {env['duckdb']} · Python {env['python']} · "
        f"{env['cpus']} cores, {env['memory_gb']} GB · load average at the start {env['load_average_1m']} · "
        f"Parquet snappy · one run each, in this order, in fresh processes\n",
        f"Schema {result['schema']} at scale {result['scale']} ({single['rows']:,} rows: "
        + ", ".join(f"{n} {r:,}" for n, r in single["tables"].items())
        + f"); DuckDB floor for the same tables {result['floor_s']} s.\n",
        "| run | wall s | generation s | wall / single | rows/s (wall) | generation / floor | load average after |",
        "|---|---|---|---|---|---|---|",
    ]
    labels = {
        "single": "`dgsql build`",
        "parts": f"`--parts {result['parts']} --jobs {result['jobs']}`",
        "spark": f"`dgsql spark --parts {result['parts']} --master {result['master']}`",
    }
    for name, run in result["runs"].items():
        lines.append(
            f"| {labels[name]} | {run['wall_s']} | {run['generation_s']} | "
            f"{run['wall_s'] / single['wall_s']:.3f} | {run['rows'] / run['wall_s']:,.0f} | "
            f"{run['generation_s'] / result['floor_s']:.2f} | {run['load_average_1m_after']} |"
        )
    lines += [
        "",
        "Seconds per part (each part's own session; parts of one stage run `--jobs` at a time):",
        "",
    ]
    for name in ("parts", "spark"):
        for table, seconds in result["runs"].get(name, {}).get("part_seconds", {}).items():
            lines.append(f"- {name} {table}: " + ", ".join(f"{s:.2f}" for s in seconds))
    parts_run = result["runs"]["parts"]
    overhead = (parts_run["wall_s"] - single["wall_s"]) / result["parts"]
    lines += [
        "",
        f"Overhead per part (parts wall − single wall) / parts: {overhead:+.2f} s.",
        "",
        "## Projection: 10B rows on a cluster",
        "",
        *projection(result),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--schema", type=Path, default=SCHEMA)
    parser.add_argument("--rows", default="100M", help="target total rows (fanout means included)")
    parser.add_argument("--parts", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--name", default="parts", help="bench/results/<name>.md and .json")
    args = parser.parse_args()
    env = suite.machine()
    with tempfile.TemporaryDirectory(prefix="dgsql-parts-bench-", dir=HERE.parent) as tmp:
        result = measure(
            args.schema,
            suite.parse_count(args.rows),
            args.parts,
            args.jobs,
            None if args.no_spark else args.master,
            Path(tmp),
        )
    text = report(result, env)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / f"{args.name}.md").write_text(text)
    (HERE / "results" / f"{args.name}.json").write_text(json.dumps({"env": env, **result}, indent=2) + "\n")
    print(text)


if __name__ == "__main__":
    main()
