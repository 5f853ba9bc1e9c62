"""End-to-end build time against the DuckDB floor, measured in the same run.

    python bench/bench_build.py [SCHEMA ...] [--scale F]

For each schema: `dgsql build` (in-process, one DuckDB session), then the floor:
for every table it wrote, a COPY of `range(rows)` with the same number of columns
of cheap hash arithmetic to zstd Parquet. Reports rows/s and the ratio build/floor;
writes bench/results/build.md and build.json. Never used by tests for timing.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from dgsql import __version__
from dgsql.compiler import compile_schema
from dgsql.runtime import session

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def floor_seconds(tables: dict[str, dict], folder: Path) -> float:
    con = duckdb.connect()
    started = time.perf_counter()
    for name, t in tables.items():
        cols = ", ".join(f"hash(range + {k}) AS c{k}" for k in range(len(t["columns"])))
        con.execute(f"COPY (SELECT {cols} FROM range({t['rows']})) TO '{folder}/{name}_floor.parquet' (FORMAT parquet, COMPRESSION zstd)")
    return time.perf_counter() - started


def measure(schema: Path, scale: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        t0 = time.perf_counter()
        compiled = compile_schema(schema, seed=42, scale=scale, out_dir=out.as_posix())
        compile_s = time.perf_counter() - t0
        result = session.run(compiled, session.connect(session.Settings()))
        meta = session.metadata(compiled, result, scale)
        floor = floor_seconds(meta["tables"], out)
    rows = result.rows
    return {
        "schema": schema.name,
        "scale": scale,
        "rows": rows,
        "compile_s": round(compile_s, 3),
        "build_s": round(result.seconds, 3),
        "floor_s": round(floor, 3),
        "ratio": round(result.seconds / floor, 2) if floor else None,
        "rows_per_s": round(rows / result.seconds) if result.seconds else None,
        "tables": {t.name: {"rows": t.rows, "seconds": round(t.seconds, 3)} for t in result.tables},
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("schemas", nargs="*", type=Path)
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()
    schemas = args.schemas or sorted((ROOT / "examples").glob("*.json"))
    runs = [measure(s, args.scale) for s in schemas]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    env = f"dgsql {__version__}, DuckDB {duckdb.__version__}, Python {platform.python_version()}, {platform.machine()}"
    lines = [f"# build vs DuckDB floor\n\n{env}; peak RSS of the bench process {peak_mb:.0f} MB\n",
             "| schema | scale | rows | build s | floor s | ratio | rows/s |", "|---|---|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {r['schema']} | {r['scale']} | {r['rows']:,} | {r['build_s']} | {r['floor_s']} | {r['ratio']} | {r['rows_per_s']:,} |")
    text = "\n".join(lines) + "\n"
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "build.md").write_text(text)
    (HERE / "results" / "build.json").write_text(json.dumps({"env": env, "peak_rss_mb": round(peak_mb), "runs": runs}, indent=2))
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
