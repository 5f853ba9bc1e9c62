"""Cost of ``dgsql load`` into PostgreSQL against the floor: psql ``\\copy`` of the same data as
CSV files, with the same statements, in the same run.

    python bench/bench_pg_load.py [--scale 74] [--repeat 3] [--url postgresql://…]

The data is ``examples/shop_orders.json`` built at ``--scale`` (74: ~1.5M customers, ~7.4M orders,
~1.1M tickets, ~10M rows; 8, 3 and 7 columns of int, float, text, date and timestamp). Both sides
run the same SQL, which ``dgsql.runtime.postgres`` writes: in one transaction, a schema, the tables,
``COPY … FROM STDIN (FORMAT csv, FREEZE)`` per table, primary and foreign keys, ``ANALYZE``, commit.
They differ only in where the COPY bytes come from:

- **dgsql**: ``dgsql load`` in a fresh process (Python start-up included): DuckDB reads the Parquet
  files and writes CSV into a pipe, psycopg moves the buffers into the COPY;
- **floor**: ``psql`` runs the same statements with ``\\copy … FROM 'table.csv'``, from CSV files
  DuckDB wrote beforehand with the same options (not timed).

Each run loads into a fresh schema, dropped afterwards (not timed) after a ``CHECKPOINT``. Runs
are interleaved; the best and the median of R repeats are reported, with the phases (COPY, keys,
ANALYZE) of the best run. Target (issue 21): dgsql / floor <= 1.3. The server is a throw-away one
started like the tests' (``tests/postgres_server.py``) with PostgreSQL's default settings, unless
``--url`` names another. Writes bench/results/pg-load.md. Never used by tests for timing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))

import postgres_server  # noqa: E402
from dgsql.compiler import load as load_schema  # noqa: E402
from dgsql.compiler.sqltext import fill, ident, join, lit  # noqa: E402
from dgsql.runtime import postgres as P  # noqa: E402

SCHEMA = ROOT / "examples" / "shop_orders.json"
TARGET = 1.3
SUMMARY = re.compile(r"copy ([\d.]+) s, keys ([\d.]+) s, analyze ([\d.]+) s")


def build(scale: float, out: Path) -> dict[str, int]:
    if not (out / ".metadata.json").exists():
        done = subprocess.run(
            [sys.executable, "-m", "dgsql.cli", "build", str(SCHEMA), "-o", str(out), "--scale", str(scale)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"dgsql build failed ({done.returncode}):\n{done.stderr}")
    tables = json.loads((out / ".metadata.json").read_text())["tables"]
    return {name: t["rows"] for name, t in tables.items()}


def write_csv(plan: P.LoadPlan, data: Path, csv_dir: Path) -> None:
    """The floor's CSV files: what the loader streams, written to disk once (not timed)."""
    con = duckdb.connect()
    for table in plan.tables:
        target = csv_dir / f"{table.name}.csv"
        if target.exists():
            continue
        quoted = (
            fill(", FORCE_QUOTE ({c})", c=join(ident(c) for c in table.quoted)) if table.quoted else fill("")
        )
        con.execute(
            fill(
                "COPY (SELECT {c} FROM read_parquet({p})) TO {t} (FORMAT csv, HEADER false{q})",
                c=join(ident(c) for c, _ in table.columns),
                p=lit(str(data / f"{table.name}.parquet")),
                t=lit(str(target)),
                q=quoted,
            )
        )


def floor_script(plan: P.LoadPlan, schema: str, csv_dir: Path, con: Any) -> str:
    """The loader's statements for psql, the COPYs as ``\\copy`` from the CSV files."""
    sql = P.sql
    lines = ["\\set ON_ERROR_STOP 1", "\\timing on", "BEGIN;"]
    lines.append(sql.SQL("CREATE SCHEMA {};").format(sql.Identifier(schema)).as_string(con))
    lines += [P.create_statement(schema, t).as_string(con) + ";" for t in plan.tables]
    for table in plan.tables:
        copy = P.copy_statement(schema, table, freeze=True).as_string(con)
        path = str(csv_dir / f"{table.name}.csv").replace("'", "''")
        lines.append("\\" + copy.replace("COPY", "copy", 1).replace("FROM STDIN", f"FROM '{path}'"))
    lines += [s.as_string(con) + ";" for s in P.key_statements(plan, schema)]
    lines.append(P.analyze_statement([(schema, t.name) for t in plan.tables]).as_string(con) + ";")
    lines.append("COMMIT;")
    return "\n".join(lines) + "\n"


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall s, CPU s of the process, stdout + stderr)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, done.stdout + done.stderr


def floor_phases(output: str, plan: P.LoadPlan) -> dict[str, float]:
    """psql's ``\\timing`` lines, in script order, summed per phase."""
    times = [float(m) / 1000 for m in re.findall(r"^Time: ([\d.]+) ms", output, re.MULTILINE)]
    n = len(plan.tables)
    keys = len(P.key_statements(plan, "s"))
    # BEGIN, CREATE SCHEMA, n CREATE TABLE, n \copy, keys, ANALYZE, COMMIT
    copies = times[2 + n : 2 + 2 * n]
    return {
        "copy": sum(copies),
        "keys": sum(times[2 + 2 * n : 2 + 2 * n + keys]),
        "analyze": times[2 + 2 * n + keys],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=74.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--url", help="an existing server (default: a throw-away one)")
    parser.add_argument("--data-dir", type=Path, help="keep or reuse the build and CSV files here")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "pg-load.md")
    args = parser.parse_args()

    server = None if args.url else postgres_server.start(fast=False)
    url = args.url or server.url()
    try:
        with tempfile.TemporaryDirectory(prefix="dgsql-bench-pg-") as tmp:
            work = args.data_dir or Path(tmp)
            data, csv_dir = work / "data", work / "csv"
            csv_dir.mkdir(parents=True, exist_ok=True)
            rows = build(args.scale, data)
            dataset = load_schema(SCHEMA)[0]
            plan = P.load_plan(dataset)
            write_csv(plan, data, csv_dir)
            runs = run_all(args, url, plan, data, csv_dir, server)
            report(args, rows, runs, plan, server)
    finally:
        if server is not None:
            server.stop()


def run_all(args: Any, url: str, plan: P.LoadPlan, data: Path, csv_dir: Path, server: Any) -> dict[str, list]:
    target = P.parse_target(url)
    params = P.conninfo_to_dict(url)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    psql_env = dict(env, PGPASSWORD=params.get("password", ""))
    psql = str(server.bindir / "psql") if server else "psql"
    conn_args = ["-h", params.get("host", "127.0.0.1"), "-p", str(params.get("port", 5432)),
                 "-U", params.get("user", "postgres"), "-d", params.get("dbname", "postgres")]  # fmt: skip
    admin = P.psycopg.connect(url, autocommit=True)
    runs: dict[str, list] = {"floor": [], "dgsql": []}
    try:
        for i in range(args.repeat):
            for side in ("floor", "dgsql"):
                schema = f"bench_{side}_{i}"
                admin.execute("CHECKPOINT")
                if side == "floor":
                    script = Path(tempfile.mkstemp(suffix=".sql")[1])
                    script.write_text(floor_script(plan, schema, csv_dir, admin))
                    wall, cpu, out = timed([psql, *conn_args, "-q", "-X", "-f", str(script)], psql_env)
                    script.unlink()
                    phases = floor_phases(out, plan)
                else:
                    argv = [sys.executable, "-m", "dgsql.cli", "load", str(SCHEMA), "-d", str(data),
                            "--to", url, "--pg-schema", schema]  # fmt: skip
                    wall, cpu, out = timed(argv, env)
                    found = SUMMARY.search(out)
                    assert found, target.scrub(out)
                    phases = dict(zip(("copy", "keys", "analyze"), map(float, found.groups()), strict=True))
                runs[side].append({"wall": wall, "cpu": cpu, **phases})
                print(f"{side} #{i + 1}: {wall:.2f} s wall, {phases}", file=sys.stderr)
                admin.execute(P.sql.SQL("DROP SCHEMA {} CASCADE").format(P.sql.Identifier(schema)))
    finally:
        admin.close()
    return runs


def report(args: Any, rows: dict[str, int], runs: dict[str, list], plan: P.LoadPlan, server: Any) -> None:
    total = sum(rows.values())
    best = {side: min(r, key=lambda x: x["wall"]) for side, r in runs.items()}
    median = {side: statistics.median(x["wall"] for x in r) for side, r in runs.items()}
    ratio = best["dgsql"]["wall"] / best["floor"]["wall"]
    ratio_median = median["dgsql"] / median["floor"]
    version = P.psycopg.connect(args.url or server.url()).execute("SHOW server_version").fetchone()[0]
    lines = [
        "# dgsql load into PostgreSQL vs the psql \\copy floor",
        "",
        f"`python bench/bench_pg_load.py --scale {args.scale:g} --repeat {args.repeat}`; PostgreSQL {version} "
        f"({'a throw-away server, default settings' if server else 'the server given'}), DuckDB "
        f"{duckdb.__version__}, psycopg {P.psycopg.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}; {os.cpu_count()} cores, shared with other work; {time.strftime('%Y-%m-%d')}.",
        "",
        f"Data: `examples/shop_orders.json` at scale {args.scale:g}: "
        + ", ".join(f"{t} {n:,}" for t, n in rows.items())
        + f" = **{total:,} rows**. Both sides run the loader's statements in one transaction: schema, "
        f"tables, `COPY … (FORMAT csv, FREEZE)`, {len(P.key_statements(plan, 's'))} key constraints, "
        "`ANALYZE`, commit. dgsql: `dgsql load` in a fresh process (start-up included), the COPY bytes "
        "written by DuckDB from the Parquet files into a pipe; floor: `psql -f` with `\\copy` from CSV "
        "files written beforehand (not timed).",
        "",
        "| side | wall s (best) | wall s (median) | rows/s (best) | COPY s | keys s | ANALYZE s | client CPU s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for side in ("floor", "dgsql"):
        b = best[side]
        lines.append(
            f"| {side} | {b['wall']:.2f} | {median[side]:.2f} | {total / b['wall']:,.0f} | {b['copy']:.2f} | "
            f"{b['keys']:.2f} | {b['analyze']:.2f} | {b['cpu']:.2f} |"
        )
    verdict = "meets" if ratio <= TARGET else "misses"
    lines += [
        "",
        f"- dgsql / floor: **{ratio:.3f}** best of {args.repeat} ({verdict} the target <= {TARGET}); "
        f"{ratio_median:.3f} on the medians.",
        "- every run: "
        + "; ".join(
            f"{side} " + ", ".join(f"{r['wall']:.2f}" for r in runs[side]) for side in ("floor", "dgsql")
        ),
        "- each dgsql run / the floor run just before it: "
        + ", ".join(
            f"{d['wall'] / f['wall']:.3f}" for f, d in zip(runs["floor"], runs["dgsql"], strict=True)
        ),
        "",
    ]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
