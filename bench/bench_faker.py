"""Benchmark: faker columns vs plain choice columns, same row count, same run.

    python bench/bench_faker.py [--rows 1000000] [--repeat 5] [--locales 1] [--threads N]

Compiles two one-table schemas — ``name, email (declared unique), address, company`` (faker)
and four ``choice`` columns — runs each script in a fresh DuckDB connection, the two
interleaved ``repeat`` times, and prints the medians of wall time and of CPU time (the
process's user + system time, which covers DuckDB's threads: on a shared machine it moves
far less than wall time), rows/s, the faker/choice ratios and the script sizes. With
``--locales N`` the faker columns take ``locale_from`` a country column of N countries (the
choice table then has five columns too).

A third script, the **string floor**, writes the same number of rows and string columns with
the faker output's average lengths, each value a distinct digit string from hash arithmetic:
what Parquet costs for strings of that shape, whatever their content.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from dgsql.compiler import compile_schema

COUNTRIES = ["US", "DE", "GB", "FR", "CZ", "ES", "IT", "PL", "JP", "BR"]
FAKER_COLUMNS = ["name", "email", "address", "company"]


def schema(kind: str, rows: int, locales: int) -> dict:
    cols: list[dict] = []
    if locales > 1:
        cols.append(
            {"name": "country", "type": "string", "generator": {"choice": {"choices": COUNTRIES[:locales]}}}
        )
    for i, method in enumerate(FAKER_COLUMNS):
        if kind == "faker":
            gen: dict = {"method": method}
            if locales > 1 and method != "email":
                gen["locale_from"] = "country"
            cols.append({"name": method, "type": "string", "generator": {"faker": gen}})
        else:
            choices = [f"{method}-{j}" for j in range(5)]
            cols.append({"name": f"c{i}", "type": "string", "generator": {"choice": {"choices": choices}}})
    return {
        "version": "1.0",
        "metadata": {"name": f"bench_{kind}"},
        "nodes": [{"id": "t", "kind": "entity", "rows": rows, "columns": cols}],
        "constraints": {"unique": ["t.email"] if kind == "faker" else []},
    }


def string_floor(rows: int, lengths: list[float], out: str) -> str:
    """COPY of ``rows`` rows of distinct digit strings with the given average lengths."""
    cols = ", ".join(
        f"left(repeat(hash(range + {k})::VARCHAR, {int(length) // 18 + 2}), {round(length)}) AS s{k}"
        for k, length in enumerate(lengths)
    )
    return (
        f"COPY (SELECT {cols} FROM range({rows})) TO '{out}/t.parquet' (FORMAT parquet, COMPRESSION snappy);"
    )


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(script: str, threads: int | None) -> tuple[float, float]:
    """(wall, CPU) seconds of one script in a fresh connection."""
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {threads}")
    cpu, start = cpu_seconds(), time.perf_counter()
    con.execute(script)
    elapsed, used = time.perf_counter() - start, cpu_seconds() - cpu
    con.close()
    return elapsed, used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--locales", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scripts = {}
        for kind in ("choice", "faker"):
            path = Path(tmp) / f"{kind}.json"
            path.write_text(json.dumps(schema(kind, args.rows, args.locales)))
            start = time.perf_counter()
            scripts[kind] = compile_schema(path, seed=42, out_dir=f"{tmp}/out_{kind}").script.text
            print(
                f"{kind:7s} compiled in {time.perf_counter() - start:.2f} s, script {len(scripts[kind]):,} bytes"
            )
        run(scripts["faker"], args.threads)
        columns = ", ".join(f"avg(strlen({m}))" for m in FAKER_COLUMNS)
        lengths = duckdb.sql(f"SELECT {columns} FROM '{tmp}/out_faker/t.parquet'").fetchall()[0]
        Path(f"{tmp}/out_floor").mkdir()
        scripts["string floor"] = string_floor(args.rows, list(lengths), f"{tmp}/out_floor")
        print(
            "faker average lengths: "
            + ", ".join(f"{m} {v:.1f}" for m, v in zip(FAKER_COLUMNS, lengths, strict=True))
        )
        times: dict[str, list[tuple[float, float]]] = {k: [] for k in scripts}
        for _ in range(args.repeat):
            for kind in scripts:  # interleaved, so all see the same machine load
                times[kind].append(run(scripts[kind], args.threads))
    wall = {k: statistics.median(w for w, _ in v) for k, v in times.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in times.items()}
    for kind in scripts:
        print(
            f"{kind:12s} wall {wall[kind]:.3f} s ({args.rows / wall[kind]:>11,.0f} rows/s)  "
            f"CPU {cpu[kind]:.3f} s ({args.rows / cpu[kind]:>11,.0f} rows/CPU-s)  runs (wall/CPU): "
            + ", ".join(f"{w:.2f}/{c:.2f}" for w, c in times[kind])
        )
    for base in ("choice", "string floor"):
        print(
            f"ratio faker/{base}: wall {wall['faker'] / wall[base]:.2f}x, CPU {cpu['faker'] / cpu[base]:.2f}x"
        )


if __name__ == "__main__":
    main()
