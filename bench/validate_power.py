"""The power of ``dgsql validate``: does it notice when a declared law drifts, and does it stay
quiet on honest builds?

Drift: :data:`SCHEMA` (one table: a 4-way weighted choice, a normal(100, 15) score, an hourly
timestamp weighted by hour with a day-of-week seasonality, a zipf@1.1 choice over 40 products,
a Poisson(4) count, a choice with 5 % NULLs) is built from a drifted copy of itself (each
:data:`CORRUPTIONS` entry changes one declaration) and validated against the original, at
10k, 100k and 1M rows. A corruption is *caught* when a check fails; the table names the checks
that failed and whether the one meant for it (``expected``) is among them.

Honest builds: 20 seeds of :data:`SCHEMA` (100k rows) and of the example schemas
``users_events`` and ``retail``, validated against themselves; every failed check is a false
failure.

    python bench/validate_power.py                       # everything (~15 min on 2 cores)
    python bench/validate_power.py --sizes 10000 --seeds 3
    python bench/validate_power.py --markdown bench/results/validate-power.md

Builds go through ``dgsql.generate`` (in memory) and ``dgsql.validate`` on the session's tables,
the same checks ``dgsql validate`` runs on files.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

import dgsql
from dgsql.compiler.load import read_schema
from dgsql.runtime.report import Status

ROOT = Path(__file__).resolve().parents[1]
HOURS = [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 0.9, 1.3, 1.5, 1.6, 1.6,
         1.5, 1.5, 1.5, 1.6, 1.7, 1.8, 1.8, 1.6, 1.3, 1.0, 0.6, 0.4]  # fmt: skip
DOW = [1.0, 1.0, 1.0, 1.0, 1.2, 1.6, 1.5]
COUNTRIES = ["US", "DE", "FR", "CZ"]

SCHEMA: dict[str, Any] = {
    "version": "1.0",
    "metadata": {"name": "power"},
    "timeframe": {"start": "2024-01-01T00:00:00Z", "end": "2024-12-31T23:00:00Z", "freq": "H"},
    "nodes": [
        {
            "id": "t",
            "kind": "entity",
            "pk": "id",
            "rows": 100_000,
            "columns": [
                {"name": "id", "type": "int", "generator": {"sequence": {"start": 1}}},
                {
                    "name": "channel",
                    "type": "string",
                    "generator": {
                        "choice": {
                            "choices": ["web", "app", "store", "phone"],
                            "weights": [0.4, 0.3, 0.2, 0.1],
                        }
                    },
                },
                {
                    "name": "score",
                    "type": "float",
                    "generator": {
                        "distribution": {
                            "type": "normal",
                            "params": {"mean": 100, "std": 15},
                            "clamp": [40, 160],
                        }
                    },
                },
                {
                    "name": "ts",
                    "type": "datetime",
                    "generator": {
                        "datetime_series": {
                            "within": "timeframe",
                            "freq": "H",
                            "pattern": {"dimension": "hour", "weights": HOURS},
                        }
                    },
                    "modifiers": [{"transform": "seasonality", "args": {"dimension": "dow", "weights": DOW}}],
                },
                {
                    "name": "product",
                    "type": "string",
                    "generator": {
                        "choice": {"choices": [f"p{i:02d}" for i in range(1, 41)], "weights_kind": "zipf@1.1"}
                    },
                },
                {
                    "name": "items",
                    "type": "int",
                    "generator": {
                        "distribution": {"type": "poisson", "params": {"lambda": 4}, "clamp": [0, 40]}
                    },
                },
                {
                    "name": "note",
                    "type": "string",
                    "nullable": True,
                    "null_rate": 0.05,
                    "generator": {"choice": {"choices": ["gift", "rush", "plain"]}},
                },
                {"name": "country", "type": "string", "generator": {"choice": {"choices": COUNTRIES}}},
                {"name": "ship_to", "type": "string", "generator": {"choice": {"choices": COUNTRIES}}},
                {
                    "name": "buyer",
                    "type": "string",
                    "generator": {"faker": {"method": "name", "locale_from": "country"}},
                },
            ],
        }
    ],
}


def _column(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in schema["nodes"][0]["columns"] if c["name"] == name)


def _set(name: str, path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(schema: dict[str, Any]) -> None:
        target = _column(schema, name)
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _flatten_hours(schema: dict[str, Any]) -> None:
    del _column(schema, "ts")["generator"]["datetime_series"]["pattern"]


CORRUPTIONS: list[tuple[str, str, Callable[[dict[str, Any]], None], str]] = [
    (
        "choice: 3 points of the largest share moved to the smallest",
        "weights 0.4/0.3/0.2/0.1 → 0.37/0.3/0.2/0.13",
        _set("channel", ("generator", "choice", "weights"), [0.37, 0.3, 0.2, 0.13]),
        "choice_shares:t.channel",
    ),
    (
        "normal: mean +2 %",
        "normal(100, 15) → normal(102, 15)",
        _set("score", ("generator", "distribution", "params"), {"mean": 102, "std": 15}),
        "distribution_law:t.score:mean",
    ),
    (
        "normal: spread +10 %",
        "normal(100, 15) → normal(100, 16.5)",
        _set("score", ("generator", "distribution", "params"), {"mean": 100, "std": 16.5}),
        "distribution_law:t.score:sd",
    ),
    (
        "normal replaced by a uniform over the same range",
        "normal(100, 15) clamp [40, 160] → uniform(40, 160)",
        _set(
            "score",
            ("generator", "distribution"),
            {"type": "uniform", "params": {"low": 40, "high": 160}, "clamp": [40, 160]},
        ),
        "distribution_law:t.score:shape",
    ),
    ("hour profile flattened", "hour pattern removed", _flatten_hours, "datetime_shape:t.ts:hour"),
    (
        "zipf exponent changed",
        "zipf@1.1 → zipf@1.2 over 40 choices",
        _set("product", ("generator", "choice", "weights_kind"), "zipf@1.2"),
        "choice_shares:t.product",
    ),
    (
        "Poisson λ off by 5 %",
        "poisson(4) → poisson(4.2)",
        _set("items", ("generator", "distribution", "params"), {"lambda": 4.2}),
        "distribution_law:t.items:mean",
    ),
    (
        "a seasonality weight dropped",
        "dow weight of Saturday 1.6 → 1.0",
        _set(
            "ts",
            ("modifiers",),
            [{"transform": "seasonality", "args": {"dimension": "dow", "weights": DOW[:5] + [1.0, DOW[6]]}}],
        ),
        "datetime_shape:t.ts:dow",
    ),
    ("nulls doubled", "null_rate 0.05 → 0.10", _set("note", ("null_rate",), 0.10), "null_rate:t.note"),
    (
        "names from another row's locale",
        "buyer's locale_from country → ship_to (an independent country: 3 rows in 4 take another locale)",
        _set("buyer", ("generator", "faker", "locale_from"), "ship_to"),
        "faker_vocabulary:t.buyer",
    ),
]


def sized(schema: dict[str, Any], rows: int) -> dict[str, Any]:
    out = copy.deepcopy(schema)
    out["nodes"][0]["rows"] = rows
    return out


def run(declared: dict[str, Any], built: dict[str, Any], seed: int) -> dgsql.Report:
    """Build ``built`` in memory, validate it against ``declared``."""
    con = duckdb.connect()
    try:
        return dgsql.validate(declared, dgsql.generate(built, con, seed=seed))
    finally:
        con.close()


def failed(report: dgsql.Report) -> list[str]:
    return [r.check.id for r in report.results if r.status is Status.FAILED]


def margin(report: dgsql.Report, check_id: str) -> float | None:
    """How far past its bound the check's statistic is (1 = at the bound), when it ran; for a
    row check, the failing rows."""
    r = next((r for r in report.results if r.check.id == check_id), None)
    if r is not None and r.check.mode == "rows":
        return float(r.violations or 0)
    d = r.detail if r is not None else {}
    if "chi_square" in d and d.get("bound"):
        return d["chi_square"] / d["bound"]
    if "tvd" in d and d.get("tolerance"):
        return d["tvd"] / d["tolerance"]
    for name in ("mean", "variance"):
        if name in d and d.get("tolerance"):
            return abs(d[name] - d[f"expected_{name}"]) / d["tolerance"]
    return None


def power(sizes: list[int], seed: int) -> list[dict[str, Any]]:
    rows = []
    for title, change_text, change, expected in CORRUPTIONS:
        for n in sizes:
            declared = sized(SCHEMA, n)
            built = copy.deepcopy(declared)
            change(built)
            started = time.perf_counter()
            report = run(declared, built, seed)
            fails = failed(report)
            rows.append(
                {
                    "corruption": title,
                    "change": change_text,
                    "rows": n,
                    "caught": bool(fails),
                    "expected_check": expected,
                    "expected_failed": expected in fails,
                    "statistic_over_bound": margin(report, expected),
                    "failed": fails,
                    "exit": 0 if report.passed_gate(80) else 1,
                    "score": report.quality_score,
                    "seconds": round(time.perf_counter() - started, 2),
                }
            )
            print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


def honest(seeds: int) -> list[dict[str, Any]]:
    schemas = {"power (100k rows)": SCHEMA}
    for name in ("users_events", "retail"):
        path = ROOT / "examples" / f"{name}.json"
        if not path.exists():
            path = Path("/work/shared/examples") / f"{name}.json"
        schemas[name] = read_schema(path)[0]
    out = []
    for name, schema in schemas.items():
        checks = evaluated = 0
        false: list[str] = []
        statistical = 0
        for seed in range(1, seeds + 1):
            report = run(schema, schema, seed)
            checks += len(report.results)
            evaluated += sum(r.status is not Status.NOT_EVALUATED for r in report.results)
            statistical += sum(
                r.check.category == "statistical" and r.status is not Status.NOT_EVALUATED
                for r in report.results
            )
            false += [f"seed {seed}: {c}" for c in failed(report)]
        out.append(
            {
                "schema": name,
                "seeds": seeds,
                "checks_run": checks,
                "evaluated": evaluated,
                "statistical_evaluated": statistical,
                "false_failures": false,
            }
        )
        print(json.dumps(out[-1]), file=sys.stderr)
    return out


def markdown(result: dict[str, Any]) -> str:
    sizes = sorted({r["rows"] for r in result["power"]})
    lines = [
        "# `dgsql validate`: power and false alarms",
        "",
        f"`python bench/validate_power.py` ({result['when']}, DuckDB {result['duckdb']}, seed {result['seed']}).",
        "Each corruption builds the power schema from a drifted copy and validates it against the original.",
        "Cell: **caught** by the check meant for it, ×(its statistic over its bound: χ², TVD, |mean − μ| or "
        "|s² − σ²| over the tolerance), other failing checks in parentheses; *caught* by others only; or missed; "
        "then the quality score and the exit code at the default threshold 80.",
        "",
        "| corruption | change | check meant to catch it | "
        + " | ".join(f"{n:,} rows" for n in sizes)
        + " |",
        "|---|---|---|" + "---|" * len(sizes),
    ]
    by = {(r["corruption"], r["rows"]): r for r in result["power"]}
    for title, change_text, _, expected in CORRUPTIONS:
        cells = []
        for n in sizes:
            r = by.get((title, n))
            if r is None:
                cells.append("")
                continue
            if r["expected_failed"]:
                others = [f for f in r["failed"] if f != expected]
                rows_check = expected.startswith("faker_vocabulary")
                stat = r["statistic_over_bound"]
                text = (f"**caught**, {stat:,.0f} rows" if rows_check else f"**caught** ×{stat:.1f}") + (
                    f" (+ {', '.join(others)})" if others else ""
                )
            elif r["caught"]:
                text = f"*caught* by {', '.join(r['failed'])}"
            else:
                text = "missed"
            cells.append(f"{text}; score {r['score']:.1f}, exit {r['exit']}")
        lines.append(f"| {title} | {change_text} | `{expected}` | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Honest builds",
        "",
        "| schema | seeds | checks run | evaluated | statistical evaluated | false failures |",
        "|---|---|---|---|---|---|",
    ]
    for h in result["honest"]:
        lines.append(
            f"| {h['schema']} | {h['seeds']} | {h['checks_run']} | {h['evaluated']} | {h['statistical_evaluated']} | "
            f"{len(h['false_failures'])}{': ' + ', '.join(h['false_failures']) if h['false_failures'] else ''} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seeds", type=int, default=20, help="honest builds per schema")
    parser.add_argument("--seed", type=int, default=7, help="seed of the drifted builds")
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    result = {
        "when": time.strftime("%Y-%m-%d"),
        "duckdb": duckdb.__version__,
        "seed": args.seed,
        "power": power(args.sizes, args.seed),
        "honest": honest(args.seeds),
    }
    text = markdown(result)
    print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
