"""The benchmark suite: `dgsql build` against the DuckDB floor, measured in the same run.

    python bench/suite.py                         # every bench schema and example at 10k and 1M rows
    python bench/suite.py --scales 10k,1M,10M,100M --schemas bench/schemas/wide_fact.json

For each schema and target row count: the entity rows are scaled so the plan's expected
total (fanout means included) meets the target; `dgsql build` runs in a fresh process (its
peak RSS is that process's); then the **floor** runs in another fresh process: for every
table written, a COPY of `range(rows)` with the same number and types of columns, values
from cheap hash arithmetic, to Parquet with the build's codec. Each runs `--repeat` times
(default 3), alternating, each output deleted before the next run; the best build and the
best floor are reported (a 0.2-s build moves by ±20% between single runs), with the largest
peak RSS of the builds. Reported: rows/s, build/floor ratio, peak RSS,
output bytes, per-table seconds. Written to bench/results/suite.md and suite.json with the
machine and versions. No test asserts on these times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_SCHEMAS = [
    *sorted((ROOT / "examples").glob("*.json")),
    HERE / "schemas" / "wide_fact.json",
    HERE / "schemas" / "deep_chain.json",
    ROOT.parent / "shared" / "examples" / "users_events.json",
]
ANCHORS = """Anchors (fixed figures for 1M users ≈ 9M rows of users/events on this kind of machine, from the
issue; not measured here): original Datagen ≈ 35–48k rows/s; Mimesis + NumPy ≈ 350k; Faker + NumPy ≈ 47k;
dbldatagen on Spark local ≈ 42k; hand-written DuckDB SQL ≈ 1.6–2.6M rows/s."""
FLOOR_VALUE = {
    "int": "(hash(range + {k}) >> 40)::BIGINT",
    "float": "((hash(range + {k}) >> 11)::DOUBLE / 9007199254740992.0)",
    "string": "'v' || (hash(range + {k}) % 1000)",
    "bool": "(hash(range + {k}) % 2 = 0)",
    "datetime": "make_timestamp(1700000000000000 + (hash(range + {k}) >> 24)::BIGINT)",
    "date": "(DATE '2020-01-01' + (hash(range + {k}) % 3650)::INTEGER)",
}


def parse_count(text: str) -> int:
    units = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}
    text = text.strip().lower()
    return int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)


def expected_rows(schema: Path, scale: float) -> float:
    from dgsql.compiler import plan_schema
    from dgsql.compiler.preflight import preflight

    return sum(t.expected_rows for t in preflight(plan_schema(schema, seed=42, scale=scale).plan).tables)


def run_build(schema: Path, scale: float, compression: str, out: Path) -> dict:
    """In this process: build, then report timings, rows, bytes and peak RSS as JSON."""
    from dgsql.compiler import Compression, compile_schema
    from dgsql.runtime import session

    t0 = time.perf_counter()
    compiled = compile_schema(
        schema, seed=42, scale=scale, out_dir=out.as_posix(), compression=Compression(compression)
    )
    compile_s = time.perf_counter() - t0
    out.mkdir(parents=True, exist_ok=True)
    result = session.run(compiled, session.connect(session.Settings()))
    meta = session.metadata(compiled, result, scale)
    return {
        "compile_s": compile_s,
        "build_s": result.seconds,
        "rows": result.rows,
        "bytes": sum(p.stat().st_size for p in out.glob("*.parquet")),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "tables": {t.name: {"rows": t.rows, "seconds": t.seconds} for t in result.tables},
        "types": {name: [c["type"] for c in t["columns"]] for name, t in meta["tables"].items()},
        "compression": meta["compression"],
    }


def run_floor(tables: dict, compression: str, out: Path) -> dict:
    """In this process: the DuckDB floor for the same tables (rows and column types) and codec."""
    import duckdb

    con = duckdb.connect()
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for name, (rows, types) in tables.items():
        cols = ", ".join(f"{FLOOR_VALUE[t].format(k=k)} AS c{k}" for k, t in enumerate(types))
        target = (out / f"floor_{name}.parquet").as_posix()
        con.execute(
            f"COPY (SELECT {cols} FROM range({rows})) TO '{target}' (FORMAT parquet, COMPRESSION {compression})"
        )
    return {
        "floor_s": time.perf_counter() - started,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.splitlines()[-1])


def measure(schema: Path, target: int, compression: str, work: Path, repeat: int = 1) -> dict:
    """The best of ``repeat`` builds and the best of ``repeat`` floors, each in a fresh process,
    alternating (build, floor, build, …) and deleting each output before the next run, so that
    neither pays for the other's pending disk writes."""
    scale = target / expected_rows(schema, 1.0)
    builds: list[dict] = []
    floors: list[dict] = []
    for _ in range(repeat):
        builds.append(child("--one-build", str(schema), str(scale), compression, str(work / "build")))
        shutil.rmtree(work / "build")
        if not floors:
            floor_in = {
                name: (t["rows"], builds[0]["types"][name]) for name, t in builds[0]["tables"].items()
            }
            spec = {"tables": floor_in, "compression": builds[0]["compression"]}
            (work / "floor.json").write_text(json.dumps(spec))
        floors.append(child("--one-floor", str(work / "floor.json"), str(work / "floor")))
        shutil.rmtree(work / "floor")
    built = min(builds, key=lambda b: b["build_s"])
    floor = min(floors, key=lambda f: f["floor_s"])
    return {
        "repeat": repeat,
        "schema": schema.stem,
        "compression": compression,
        "target_rows": target,
        "scale": round(scale, 4),
        "rows": built["rows"],
        "build_s": round(built["build_s"], 3),
        "compile_s": round(built["compile_s"], 3),
        "floor_s": round(floor["floor_s"], 3),
        "ratio": round(built["build_s"] / floor["floor_s"], 2) if floor["floor_s"] else None,
        "rows_per_s": round(built["rows"] / built["build_s"]) if built["build_s"] else None,
        "peak_rss_mb": round(max(b["peak_rss_mb"] for b in builds)),
        "bytes": built["bytes"],
        "tables": {
            n: {"rows": t["rows"], "seconds": round(t["seconds"], 3)} for n, t in built["tables"].items()
        },
    }


def machine() -> dict:
    import duckdb

    from dgsql import __version__

    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "dgsql": __version__,
        "duckdb": duckdb.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def report(runs: list[dict], env: dict, name: str) -> str:
    lines = [
        "# dgsql build vs the DuckDB floor\n",
        f"{env['date']} · dgsql {env['dgsql']} · DuckDB {env['duckdb']} · Python {env['python']} · "
        f"{env['machine']}, {env['cpus']} cores, {env['memory_gb']} GB · load average at the start "
        f"{env['load_average_1m']} · Parquet {', '.join(sorted({r['compression'] for r in runs}))} · "
        f"best of {', '.join(sorted({str(r['repeat']) for r in runs}))} runs (build and floor each)\n",
        "| schema | target | rows | build s | floor s | ratio | rows/s | peak RSS MB | output MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        lines.append(
            f"| {r['schema']} | {r['target_rows']:,} | {r['rows']:,} | {r['build_s']} | {r['floor_s']} | "
            f"{r['ratio']} | {r['rows_per_s']:,} | {r['peak_rss_mb']} | {r['bytes'] / 2**20:.1f} |"
        )
    lines += ["", "Per table (seconds):", ""]
    for r in runs:
        per = ", ".join(f"{n} {t['rows']:,} rows {t['seconds']} s" for n, t in r["tables"].items())
        lines.append(f"- {r['schema']} @ {r['target_rows']:,}: {per}")
    lines += ["", ANCHORS, ""]
    text = "\n".join(lines)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / f"{name}.md").write_text(text)
    (HERE / "results" / f"{name}.json").write_text(json.dumps({"env": env, "runs": runs}, indent=2) + "\n")
    return text


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--one-build":
        print(json.dumps(run_build(Path(sys.argv[2]), float(sys.argv[3]), sys.argv[4], Path(sys.argv[5]))))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--one-floor":
        spec = json.loads(Path(sys.argv[2]).read_text())
        print(json.dumps(run_floor(spec["tables"], spec["compression"], Path(sys.argv[3]))))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--scales", default="10k,1M", help="comma-separated target row counts (10k, 1M, 10M, 100M)"
    )
    ap.add_argument("--schemas", nargs="*", type=Path, default=None)
    ap.add_argument("--name", default="suite", help="results file name under bench/results/")
    ap.add_argument(
        "--compression", default="snappy", choices=["snappy", "zstd"], help="Parquet codec (build and floor)"
    )
    ap.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each build and each floor; the best of each is reported",
    )
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    schemas = args.schemas or [s for s in DEFAULT_SCHEMAS if s.exists()]
    env = machine()
    runs = []
    for target in map(parse_count, args.scales.split(",")):
        for schema in schemas:
            with tempfile.TemporaryDirectory(prefix="dgsql-bench-") as tmp:
                runs.append(measure(schema, target, args.compression, Path(tmp), args.repeat))
                print(f"{schema.stem} @ {target:,}: {runs[-1]['rows_per_s']:,} rows/s, ratio {runs[-1]['ratio']}",
                      file=sys.stderr)  # fmt: skip
    print(report(runs, env, args.name))


if __name__ == "__main__":
    main()
