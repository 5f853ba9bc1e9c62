"""Cost of inequalities honoured while generating: the same schema built with and without them.

    python bench/bench_time.py [--scale S ...] [--repeat R]

The schema is bench/schemas/realistic_time.json (500k orders at scale 1; tests/test_realistic_time.py
checks its data): a seasonal ``ordered_at``, ``shipped_at`` an offset of it (a known offset: nothing
to do), ``delivered_at`` drawn after ``shipped_at`` (an hour-weighted calendar, truncated), tickets
with ``first_response_at`` an offset of ``opened_at`` and ``resolved_at`` drawn after it (an
unweighted grid, truncated). The plain variant drops ``constraints.inequalities``: every column is
then drawn as declared.

Each build is ``dgsql build`` in a fresh process (the installed CLI); table seconds come from
``.metadata.json`` (the DuckDB statements only), wall and CPU are the whole command's. Variants are
interleaved and the best of R repeats is kept. Target (issue 14): with / without <= 1.2.
Writes bench/results/realistic-time.md. Never used by tests for timing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

HERE = Path(__file__).resolve().parent
SCHEMA = json.loads((HERE / "schemas" / "realistic_time.json").read_text())
TARGET = 1.2
VARIANTS = ("without", "with")


def variant(name: str) -> dict[str, Any]:
    doc = json.loads(json.dumps(SCHEMA))
    if name == "without":
        doc.pop("constraints")
    return doc


def run_build(doc: dict[str, Any], work: Path, scale: float) -> dict[str, float]:
    path = work / "schema.json"
    path.write_text(json.dumps(doc))
    out = work / "out"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(
        ["dgsql", "build", str(path), "-o", str(out), "--scale", str(scale)], capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"dgsql build failed ({proc.returncode}):\n{proc.stderr}")
    tables = json.loads((out / ".metadata.json").read_text())["tables"]
    return {
        "tables_s": sum(t["seconds"] for t in tables.values()),
        "rows": sum(t["rows"] for t in tables.values()),
        "wall_s": wall,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
    }


def measure(scale: float, repeat: int) -> dict[str, dict[str, float]]:
    best: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench_time_") as tmp:
        for r in range(repeat):
            for name in VARIANTS:
                work = Path(tmp) / f"{name}{r}"
                work.mkdir()
                got = run_build(variant(name), work, scale)
                print(
                    f"scale {scale:g} {name:>7}: {got['tables_s']:.3f} s tables, {got['wall_s']:.2f} s wall",
                    flush=True,
                )
                mine = best.setdefault(name, {"rows": got["rows"]})
                for key in ("tables_s", "wall_s", "cpu_s"):
                    mine[key] = min(mine.get(key, float("inf")), got[key])
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, nargs="+", default=[1.0, 10.0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    env = f"DuckDB {duckdb.__version__}, Python {platform.python_version()}, {platform.machine()}"
    lines = [
        "# inequalities honoured while generating: cost vs the same schema without them",
        "",
        f"`python bench/bench_time.py --scale {' '.join(f'{s:g}' for s in args.scale)} --repeat {args.repeat}`; "
        f"{env}; {os.cpu_count()} cores; best of {args.repeat} (each figure its own minimum).",
        "",
        "Schema `bench/schemas/realistic_time.json` (orders and their tickets); the `with` variant keeps its "
        "four inequalities (two known offsets, `delivered_at` truncated after `shipped_at` on an "
        "hour-weighted grid, `resolved_at` truncated after `first_response_at` on an unweighted grid). "
        "Table seconds: the DuckDB statements of every table (`.metadata.json`).",
        "",
        "| scale | variant | rows | tables s | wall s | CPU s | rows/s |",
        "|---|---|---|---|---|---|---|",
    ]
    summary = []
    for scale in args.scale:
        best = measure(scale, args.repeat)
        for name in VARIANTS:
            b = best[name]
            lines.append(
                f"| {scale:g} | {name} | {b['rows']:,.0f} | {b['tables_s']:.3f} | {b['wall_s']:.2f} | "
                f"{b['cpu_s']:.2f} | {b['rows'] / b['tables_s']:,.0f} |"
            )
        ratio = best["with"]["tables_s"] / best["without"]["tables_s"]
        wall = best["with"]["wall_s"] / best["without"]["wall_s"]
        verdict = "meets" if ratio <= TARGET else "misses"
        summary.append(
            f"- scale {scale:g}: tables with/without **{ratio:.3f}** ({verdict} the target <= {TARGET}); "
            f"whole command {wall:.3f}"
        )
    lines += ["", *summary]
    text = "\n".join(lines) + "\n"
    (HERE / "results" / "realistic-time.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
