"""Evaluate a model behind any OpenAI-compatible endpoint at ``dgsql create``: 20 varied
descriptions, each run through the same loop as the command (draft, check, sample build,
validate, repairs), reporting per description the rounds needed, whether the final schema
checks, builds and validates, and the time taken. For people comparing models.

    python bench/create_eval.py --base-url http://localhost:11434/v1 --model qwen2.5-coder:14b
    DGSQL_LLM_API_KEY=sk-… python bench/create_eval.py --model gpt-4.1-mini --limit 5

The key comes from ``DGSQL_LLM_API_KEY`` (or ``OPENAI_API_KEY``), as for ``dgsql create``.
Writes a Markdown table (``--report``, default bench/results/create-eval.md) and prints it.
Questions are not asked (as with ``--no-questions``). docs/create.md has the figures of runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from dgsql import __version__
from dgsql.create import ChatClient, EndpointError, Request, create_schema, endpoint_from
from dgsql.create.prompt import PROMPT_VERSION
from dgsql.errors import DgsqlError

DESCRIPTIONS: list[tuple[str, str]] = [
    ("retail", "A chain of stores: stores in regions, products in categories with prices, daily sales "
     "transactions with quantities and discounts, busier on weekends and in December."),
    ("saas", "A B2B SaaS product: companies on free, team or enterprise plans, their users, monthly "
     "subscription invoices, and product usage events by feature."),
    ("iot", "Industrial sensors: sites, machines at each site, and temperature and vibration readings every "
     "15 minutes with a daily cycle, slow drift and occasional spikes."),
    ("healthcare", "Clinics, doctors at clinics, patients, and appointments with a diagnosis code, duration "
     "and whether the patient showed up; fewer appointments on weekends."),
    ("banking", "Retail bank: customers, accounts of several types per customer, and card and transfer "
     "transactions with amounts, merchant categories and a small share of flagged fraud."),
    ("logistics", "Parcel delivery: depots, vehicles, shipments with origin and destination depots, and "
     "tracking events from pickup to delivery, each after the previous one."),
    ("hr", "A company's HR data: departments, employees with a manager hierarchy, salaries by level, "
     "and leave requests with start dates and number of days."),
    ("adtech", "Online advertising: advertisers, campaigns with budgets, ad impressions by hour of day "
     "with device type, and clicks on a small share of impressions."),
    ("marketplace", "A two-sided marketplace: sellers, buyers, listings with categories and prices, "
     "orders of listings, and reviews with a 1-5 star rating written some days after delivery."),
    ("telecom", "Mobile operator: subscribers on prepaid or postpaid plans, and call detail records with "
     "call duration, cell tower and roaming flag, busiest in the evening."),
    ("insurance", "Car insurance: policyholders, policies with premiums and coverage levels, and claims "
     "with claim amounts heavy-tailed, filed after the policy start date."),
    ("education", "An online learning platform: courses, students, enrolments, and lesson completions "
     "with quiz scores between 0 and 100."),
    ("ride_hailing", "Ride hailing in three cities: drivers, riders, and trips with pickup time, distance, "
     "fare computed from distance, and surge during rush hours."),
    ("streaming", "A video streaming service: titles by genre, subscribers by country, and viewing sessions "
     "with minutes watched, peaking at night and on weekends."),
    ("gaming", "A mobile game: players by platform and country, sessions per player, and in-app purchases "
     "from a catalogue of items where a few items sell most."),
    ("energy", "Electricity utility: households with tariffs, smart meters, and hourly consumption readings "
     "with a daily and seasonal pattern."),
    ("airline", "An airline: airports, routes between airports, flights with scheduled and actual departure "
     "(delays mostly small, sometimes large), and bookings with fare classes."),
    ("food_delivery", "Food delivery: restaurants by cuisine, customers, orders with basket value and "
     "delivery time in minutes, busiest at lunch and dinner."),
    ("real_estate", "Real estate listings: agents, properties with city, size in square metres and asking "
     "price, and viewings and offers on properties."),
    ("manufacturing", "A factory: production lines, work orders with planned quantities, and quality "
     "inspections with defect counts and a pass/fail result."),
]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base-url", help="API root (default $DGSQL_LLM_BASE_URL, else OpenAI)")
    ap.add_argument("--model", help="model name (default $DGSQL_LLM_MODEL)")
    ap.add_argument("--rows", type=int, default=100_000, help="rows asked for per description")
    ap.add_argument("--max-rounds", type=int, default=4)
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per answer")
    ap.add_argument("--limit", type=int, default=len(DESCRIPTIONS), help="run only the first N descriptions")
    ap.add_argument("--only", nargs="*", default=None, help="run only these description ids")
    ap.add_argument("--report", type=Path, default=Path("bench/results/create-eval.md"))
    args = ap.parse_args(argv)
    try:
        endpoint = endpoint_from(args.base_url, args.model, timeout=args.timeout)
    except DgsqlError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    chosen = [d for d in DESCRIPTIONS if args.only is None or d[0] in args.only][: args.limit]
    rows = []
    for name, description in chosen:
        print(f"{name}: …", file=sys.stderr, flush=True)
        started = time.perf_counter()
        request = Request(description, rows=args.rows, max_rounds=args.max_rounds)
        rounds, builds, validates, note = 0, False, False, ""
        try:
            client = ChatClient(endpoint)
            outcome = create_schema(request, client, model=endpoint.model)
            rounds = len(outcome.rounds)
            last = outcome.rounds[-1] if outcome.rounds else None
            builds = last is not None and last.stage in ("validate", "passed")
            validates = outcome.passed
            if not outcome.passed and last is not None:
                note = f"{last.stage}: {len(last.problems)} problems left"
        except EndpointError as e:
            note = f"endpoint: {e}"
        except DgsqlError as e:
            note = f"{type(e).__name__}: {str(e).splitlines()[0]}"
        seconds = time.perf_counter() - started
        rows.append((name, rounds, builds, validates, seconds, note))
        print(f"{name}: {rounds} rounds, passed={validates}, {seconds:.1f} s {note}", file=sys.stderr)
    report = _markdown(endpoint.model, endpoint.shown_url, args, rows)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(report)
    print(report)
    return 0


def _markdown(model: str, url: str, args: argparse.Namespace, rows: list[tuple]) -> str:
    passed = sum(r[3] for r in rows)
    total_s = sum(r[4] for r in rows)
    lines = [
        f"# dgsql create evaluation: {model}",
        "",
        f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, dgsql {__version__}, prompt v{PROMPT_VERSION}, "
        f"endpoint {url}, --rows {args.rows:,}, --max-rounds {args.max_rounds}.",
        "",
        f"**{passed} of {len(rows)} passed** (checked, built a 1,000-row sample, validated), {total_s:.0f} s in all.",
        "",
        "| description | rounds | builds | validates | seconds | note |",
        "|---|---:|---|---|---:|---|",
    ]
    for name, rounds, builds, validates, seconds, note in rows:
        yes = {True: "yes", False: "no"}
        lines.append(
            f"| {name} | {rounds} | {yes[builds]} | {yes[validates]} | {seconds:.1f} | {note.replace('|', '/')} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
