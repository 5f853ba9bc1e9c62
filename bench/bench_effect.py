"""Cost of a column-level ``effect``: the same fact built with and without it, in the same run.

    python bench/bench_effect.py [--rows N] [--shape entity|fanout|both] [--repeat R] [--threads T] [--explain]

The fact has N rows (default 10M) and a few numeric columns; the effect variant adds a
column-level ``effect`` on ``amount`` from a 1,000-row effect table, matched on ``store``
(50 values) with a window on the row's datetime column. ``--shape fanout`` makes the fact a
child of a parent of N/10 rows with a constant fanout of 10 instead of an entity.

Each build is ``dgsql build`` in a fresh process (the installed CLI); the time reported is the
fact table's seconds from ``.metadata.json`` (the DuckDB statements only), the wall time of the
whole command beside it. Variants are interleaved and the best of R repeats is kept. Target
(issue 4): effect / plain < 1.5. Writes bench/results/effect.md. Never used by tests for timing.
``--explain`` prints DuckDB's EXPLAIN ANALYZE of the effect variant's fact query instead.
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
TARGET = 1.5
TIMEFRAME = {"start": "2024-01-01", "end": "2024-12-31 23:00:00", "freq": "H"}


def col(name: str, type_: str, generator: dict[str, Any], *modifiers: dict[str, Any]) -> dict[str, Any]:
    c: dict[str, Any] = {"name": name, "type": type_, "generator": generator}
    if modifiers:
        c["modifiers"] = list(modifiers)
    return c


def dist(type_: str, clamp: list[float] | None = None, **params: float) -> dict[str, Any]:
    d: dict[str, Any] = {"type": type_, "params": params}
    if clamp:
        d["clamp"] = clamp
    return {"distribution": d}


EFFECT = {
    "transform": "effect",
    "args": {
        "effect_table": "promo",
        "on": {"store": "store"},
        "window": {"start_col": "ws", "end_col": "we"},
        "map": {"field": "lift", "op": "mul", "default": 1.0},
    },
}


def schema(rows: int, shape: str, with_effect: bool) -> dict[str, Any]:
    """The benchmark schema; the two variants differ only in the ``effect`` modifier."""
    daily = {"datetime_series": {"within": "timeframe", "freq": "D"}}
    promo = {
        "id": "promo",
        "kind": "entity",
        "rows": 1000,
        "pk": "pid",
        "columns": [
            col("pid", "int", {"sequence": {}}),
            col("store", "int", dist("uniform", low=1, high=50)),
            col("ws", "datetime", daily),
            col("we", "datetime", daily),
            col("lift", "float", dist("uniform", low=0.5, high=2.0)),
        ],
    }
    columns = [
        col("id", "int", {"sequence": {}}),
        col("ts", "datetime", {"datetime_series": {"within": "timeframe", "freq": "H"}}),
        col("store", "int", dist("uniform", low=1, high=50)),
        col("qty", "int", dist("poisson", [0, 50], **{"lambda": 3})),
        col("price", "float", dist("lognormal", [1, 1000], mean=3, sigma=0.5)),
        col(
            "amount", "float", dist("normal", [0, 1000], mean=100, std=20), *([EFFECT] if with_effect else [])
        ),
        col("discount", "float", dist("uniform", low=0, high=0.3)),
    ]
    nodes: list[dict[str, Any]] = [promo]
    if shape == "entity":
        nodes.append({"id": "sales", "kind": "entity", "rows": rows, "pk": "id", "columns": columns})
    else:
        parent = {
            "id": "store_day",
            "kind": "entity",
            "rows": rows // 10,
            "pk": "sid",
            "columns": [col("sid", "int", {"sequence": {}})],
        }
        fanout = {"distribution": "uniform", "min": 10, "max": 10}
        sales = {"id": "sales", "kind": "fact", "parents": ["store_day"], "pk": "id", "fanout": fanout}
        nodes += [parent, {**sales, "columns": columns}]
    return {
        "version": "1.0",
        "metadata": {"name": "bench_effect"},
        "timeframe": TIMEFRAME,
        "nodes": nodes,
        "constraints": {"inequalities": [{"left": "promo.ws", "op": "<=", "right": "promo.we"}]},
    }


def run_build(doc: dict[str, Any], work: Path, threads: int | None) -> dict[str, Any]:
    path = work / "schema.json"
    path.write_text(json.dumps(doc, indent=1))
    out = work / "out"
    cmd = ["dgsql", "build", str(path), "-o", str(out), "--force"]
    if threads:
        cmd += ["--threads", str(threads)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"dgsql build failed ({proc.returncode}):\n{proc.stderr}")
    meta = json.loads((out / ".metadata.json").read_text())
    sales = meta["tables"]["sales"]
    return {"wall_s": wall, "cpu_s": cpu, "fact_s": sales["seconds"], "rows": sales["rows"]}


def explain(rows: int, shape: str) -> None:
    """Print EXPLAIN ANALYZE of the effect variant's fact query (the emitted script, tables before it run)."""
    with tempfile.TemporaryDirectory(prefix="bench_effect_explain_") as tmp:
        path = Path(tmp) / "schema.json"
        path.write_text(json.dumps(schema(rows, shape, True)))
        out = (Path(tmp) / "out").as_posix()
        script = subprocess.run(
            ["dgsql", "emit-sql", str(path), "--out-dir", out], capture_output=True, text=True, check=True
        ).stdout
        before, section = script.split("\n-- sales (", 1)
        start = section.index("COPY (\n") + len("COPY (\n")
        query = section[start : section.rindex(f") TO '{out}/sales.parquet'")]
        con = duckdb.connect()
        con.execute("PRAGMA enable_profiling = 'no_output'")  # before the script, which may lock settings
        con.execute(before)
        print(con.execute("EXPLAIN ANALYZE " + query).fetchall()[0][1])


def measure(rows: int, shape: str, repeat: int, threads: int | None) -> dict[str, dict[str, Any]]:
    """Best (minimum) fact-table, wall and CPU seconds of each variant; variants interleaved."""
    best: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench_effect_") as tmp:
        for r in range(repeat):
            for variant in ("plain", "effect"):
                work = Path(tmp) / f"{variant}{r}"
                work.mkdir()
                got = run_build(schema(rows, shape, variant == "effect"), work, threads)
                print(
                    f"{shape:>6} {variant:>6}: {got['fact_s']:.2f} s fact table, {got['wall_s']:.2f} s wall, "
                    f"{got['cpu_s']:.2f} s CPU",
                    flush=True,
                )
                mine = best.setdefault(variant, {"rows": got["rows"]})
                for key in ("fact_s", "wall_s", "cpu_s"):
                    mine[key] = min(mine.get(key, float("inf")), got[key])
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--shape", choices=["entity", "fanout", "both"], default="entity")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument(
        "--explain", action="store_true", help="print EXPLAIN ANALYZE of the effect query; no timing"
    )
    args = ap.parse_args()
    if args.explain:
        explain(args.rows, "fanout" if args.shape == "fanout" else "entity")
        return

    env = f"DuckDB {duckdb.__version__}, Python {platform.python_version()}, {platform.machine()}"
    lines = [
        "# column-level effect: cost vs the same fact without it",
        "",
        f"`python bench/bench_effect.py --rows {args.rows} --shape {args.shape} --repeat {args.repeat}`; "
        f"{env}; {os.cpu_count()} cores; best of {args.repeat} (each figure its own minimum).",
        "",
        "Fact `sales`: 7 columns (id, ts, store, qty, price, amount, discount); the effect variant adds to "
        "`amount` an effect from `promo` (1,000 rows), `on: {store: store}` (50 values), window `ws..we` on "
        "`ts`, `op: mul`. Fact-table seconds come from `.metadata.json`; CPU is the whole `dgsql build` process's (start-up and the 1,000-row table included, ~0.7 s).",
        "",
        "| shape | variant | rows | fact table s | wall s | CPU s | rows/s |",
        "|---|---|---|---|---|---|---|",
    ]
    summary = []
    for shape in ("entity", "fanout") if args.shape == "both" else (args.shape,):
        best = measure(args.rows, shape, args.repeat, args.threads)
        plain, eff = best["plain"], best["effect"]
        ratio = eff["fact_s"] / plain["fact_s"]
        cpu_ratio = eff["cpu_s"] / plain["cpu_s"]
        verdict = "meets" if ratio < TARGET else "MISSES"
        text = (
            f"{shape}: ratio with/without **{ratio:.2f}** ({verdict} the target < {TARGET}); "
            f"CPU-time ratio {cpu_ratio:.2f}"
        )
        print(text.replace("**", ""))
        summary.append(f"- {text}")
        for name, got in (("without effect", plain), ("with effect", eff)):
            lines.append(
                f"| {shape} | {name} | {got['rows']:,} | {got['fact_s']:.2f} | {got['wall_s']:.2f} "
                f"| {got['cpu_s']:.2f} | {got['rows'] / got['fact_s']:,.0f} |"
            )
    lines += ["", *summary, "", "CPU time is the steadier figure when the machine is shared.", ""]
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "effect.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
