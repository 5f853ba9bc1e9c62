"""Benchmark: faker columns vs plain choice columns, same row count, same run.

    python bench/bench_faker.py [--rows 1000000] [--repeat 3] [--locales 1]

Compiles two one-table schemas — ``name, email, address, company`` (faker) and
four ``choice`` columns — runs each script in a fresh DuckDB connection
(``repeat`` times, median) and prints rows/s, the ratio and the script sizes.
With ``--locales N`` the faker columns take ``locale_from`` a country column
of N countries (the choice table then has five columns too).
"""

from __future__ import annotations

import argparse
import json
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


def run(script: str, threads: int | None) -> float:
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {threads}")
    start = time.perf_counter()
    con.execute(script)
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
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
        times: dict[str, list[float]] = {"choice": [], "faker": []}
        for _ in range(args.repeat):
            for kind in ("choice", "faker"):  # interleaved, so both see the same machine load
                times[kind].append(run(scripts[kind], args.threads))
    med = {k: statistics.median(v) for k, v in times.items()}
    for kind in ("choice", "faker"):
        print(
            f"{kind:7s} {med[kind]:.3f} s  {args.rows / med[kind]:>12,.0f} rows/s  (runs: "
            + ", ".join(f"{t:.3f}" for t in times[kind])
            + ")"
        )
    print(f"ratio faker/choice: {med['faker'] / med['choice']:.2f}x")


if __name__ == "__main__":
    main()
