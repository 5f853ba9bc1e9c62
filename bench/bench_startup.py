"""Start-up: how long a small job takes from the shell, against DuckDB's own start measured in
the same run, and `dgsql.generate` in a warm process.

    python bench/bench_startup.py              # 10 runs of each, the median reported
    python bench/bench_startup.py --runs 20

(a) ``dgsql build examples/hr_org.json --scale 0.1`` (1,174 rows in three tables) as a fresh
    process — ``python -m dgsql.cli`` with ``PYTHONPATH=src``, what the ``dgsql`` console
    script runs — against the floor ``python -c "import duckdb;
    duckdb.connect().execute('select 1')"``, the two run in turn; the ratio is taken pair
    by pair (the machine is shared: the ratio holds when its speed drifts). Target: ≤ 0.45 s
    wall where the floor is ~0.12 s, i.e. a ratio ≤ ~3.75.
(b) ``dgsql.generate`` in a warm process (one run first, not counted) of two ~10k-row,
    three-table schemas: the same schema at ``--scale 0.85`` (lookups, an expression, a
    weekday-weighted date, a Poisson fanout) and bench/schemas/plain_three.json (sequences,
    choices, distributions, an hourly series). Each into a new in-memory DuckDB (what
    ``generate(schema)`` does: DuckDB's own start of a database is part of it) and into a
    connection opened beforehand, untimed (``generate(schema, con)``). Target: < 50 ms.
(c) ``dgsql --version`` and ``dgsql --help`` as fresh processes, against ``python -c pass``.

Writes bench/results/startup.md. No test asserts on these times.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCHEMA = ROOT / "examples" / "hr_org.json"
PLAIN = HERE / "schemas" / "plain_three.json"
BUILD_SCALE = 0.1
GENERATE_SCALE = 0.85
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
DGSQL = [sys.executable, "-m", "dgsql.cli"]
FLOOR = [sys.executable, "-c", "import duckdb; duckdb.connect().execute('select 1')"]
BARE = [sys.executable, "-c", "pass"]


def run(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (the child's user + system) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stderr.decode()}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def paired(a: Callable[[], list[str]], b: list[str], runs: int) -> dict[str, float]:
    """``a`` and ``b`` in turn (one warm-up each): medians of wall and CPU, and of a/b pair by pair."""
    run(a())
    run(b)
    wa, ca, wb, cb = [], [], [], []
    for _ in range(runs):
        w, c = run(a())
        wa.append(w)
        ca.append(c)
        w, c = run(b)
        wb.append(w)
        cb.append(c)
    med = statistics.median
    return {
        "wall": med(wa),
        "cpu": med(ca),
        "floor_wall": med(wb),
        "floor_cpu": med(cb),
        "ratio_wall": med(x / y for x, y in zip(wa, wb, strict=True)),
        "ratio_cpu": med(x / y for x, y in zip(ca, cb, strict=True)),
        "min_wall": min(wa),
        "max_wall": max(wa),
    }


def warm_generate(schema: Path, scale: float, runs: int) -> dict[str, float]:
    sys.path.insert(0, str(ROOT / "src"))
    import duckdb

    import dgsql

    first = time.perf_counter()
    rows = dgsql.generate(schema, scale=scale).result.rows
    cold = time.perf_counter() - first
    total, given, compiled = [], [], []
    for _ in range(runs):
        started = time.perf_counter()
        dgsql.compile(schema, scale=scale)
        compiled.append(time.perf_counter() - started)
        started = time.perf_counter()
        generated = dgsql.generate(schema, scale=scale)
        total.append(time.perf_counter() - started)
        generated.con.close()
        con = duckdb.connect()
        started = time.perf_counter()
        dgsql.generate(schema, con, scale=scale)
        given.append(time.perf_counter() - started)
        con.close()
    return {
        "rows": rows,
        "cold": cold,
        "median": statistics.median(total),
        "min": min(total),
        "max": max(total),
        "given": statistics.median(given),
        "compile": statistics.median(compiled),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "startup.md")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dgsql-bench-") as tmp:
        count = iter(range(10**6))

        def build() -> list[str]:
            out = Path(tmp) / f"out{next(count)}"
            return [*DGSQL, "build", str(SCHEMA), "-o", str(out), "--scale", str(BUILD_SCALE)]

        built = paired(build, FLOOR, args.runs)
    version = paired(lambda: [*DGSQL, "--version"], BARE, args.runs)
    helped = paired(lambda: [*DGSQL, "--help"], BARE, args.runs)
    warm = [warm_generate(SCHEMA, GENERATE_SCALE, args.runs), warm_generate(PLAIN, 1.0, args.runs)]

    import duckdb

    lines = [
        "# start-up: a small build from the shell, `dgsql.generate` warm",
        "",
        f"`python bench/bench_startup.py --runs {args.runs}`; {time.strftime('%Y-%m-%d')}; DuckDB "
        f"{duckdb.__version__}, Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} cores, shared machine. Medians of {args.runs} runs; every ratio is the "
        "median of the ratios of runs made one after the other. dgsql runs as "
        "`python -m dgsql.cli` with `PYTHONPATH=src` (what the console script runs).",
        "",
        "| what | wall s | CPU s | floor | floor wall s | ratio wall | ratio CPU | target |",
        "|---|---|---|---|---|---|---|---|",
        f"| (a) `dgsql build examples/hr_org.json --scale {BUILD_SCALE}` (1,174 rows, 3 tables) | "
        f"**{built['wall']:.3f}** ({built['min_wall']:.3f}–{built['max_wall']:.3f}) | {built['cpu']:.3f} | "
        f"`import duckdb; connect; select 1` | {built['floor_wall']:.3f} | **{built['ratio_wall']:.2f}** | "
        f"{built['ratio_cpu']:.2f} | ≤ 0.45 s where the floor is ~0.12 s (ratio ≤ ~3.75) |",
        f"| (c) `dgsql --version` | {version['wall']:.3f} | {version['cpu']:.3f} | `python -c pass` | "
        f"{version['floor_wall']:.3f} | {version['ratio_wall']:.2f} | {version['ratio_cpu']:.2f} | "
        "imports neither DuckDB, Faker nor sqlglot (a test) |",
        f"| (c) `dgsql --help` | {helped['wall']:.3f} | {helped['cpu']:.3f} | `python -c pass` | "
        f"{helped['floor_wall']:.3f} | {helped['ratio_wall']:.2f} | {helped['ratio_cpu']:.2f} | "
        "the same |",
        "",
        "| (b) `dgsql.generate` in a warm process | rows | new in-memory DuckDB, median (min–max) | "
        "into a connection opened before | compiling | first call |",
        "|---|---|---|---|---|---|",
        *(
            f"| `{name}` | {w['rows']:,} | **{w['median'] * 1000:.1f} ms** ({w['min'] * 1000:.1f}–"
            f"{w['max'] * 1000:.1f}) | **{w['given'] * 1000:.1f} ms** | {w['compile'] * 1000:.1f} ms | "
            f"{w['cold'] * 1000:.0f} ms |"
            for name, w in zip(
                (f"examples/hr_org.json, scale={GENERATE_SCALE}", "bench/schemas/plain_three.json"),
                warm,
                strict=True,
            )
        ),
        "",
        "Target for (b): < 50 ms.",
        "",
    ]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
