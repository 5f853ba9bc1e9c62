"""``dgsql report`` and ``--html``: the page's content against the schema and the data, escaping,
size; the browser tests are in ``test_report_browser.py``."""

from __future__ import annotations

import json
import math
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from dgsql.compiler import load
from dgsql.compiler.checks.fanout_distribution import clamped_pmf
from dgsql.report import html_report
from dgsql.report.charts import Bars, Gauge, Histogram, clamped, expected_counts, law_cdf
from dgsql.report.observe import observe
from dgsql.report.svg import el
from dgsql.runtime.validate import data_views, validate

ROOT = Path(__file__).resolve().parents[1]
SHOP = ROOT / "examples" / "shop_orders.json"
RETAIL = ROOT / "tests" / "datagen_compat" / "retail.json"


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, int] = {}
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self.attrs += attrs


def tags(page: str) -> Tags:
    parser = Tags()
    parser.feed(page)
    return parser


def observation(schema: Path, data: Path):
    dataset, _, _ = load(schema)
    con = duckdb.connect()
    report = validate(dataset, data, con=con)
    with data_views(dataset, data, con):
        return dataset, report, observe(dataset, con, report)


def altered(build: Path, to: Path, **replaced: str) -> Path:
    """A copy of the build folder ``build`` in ``to`` whose table files have the columns of
    ``replaced`` (table → ``expression AS column``, DuckDB's ``SELECT * REPLACE``) rewritten."""
    to.mkdir()
    for f in build.iterdir():
        (to / f.name).write_bytes(f.read_bytes())
    for name, replace in replaced.items():
        duckdb.sql(
            f"COPY (SELECT * REPLACE ({replace}) FROM read_parquet('{build / name}.parquet')) "
            f"TO '{to / name}.parquet' (FORMAT parquet)"
        )
    return to


def charts_of(obs, table: str, column: str | None = None):
    t = next(t for t in obs.tables if t.id == table)
    if column is None:
        return t.charts
    return next(c for c in t.columns if c.name == column).charts


@pytest.fixture(scope="module")
def shop(dg) -> Path:
    return dg.build(SHOP, "--sample", "3000").path


# ------------------------------------------------------------------ content


def test_every_declared_property_is_charted_against_the_data(shop):
    dataset, report, obs = observation(SHOP, shop)
    # choice: observed shares with the declared weights as marks
    (segment,) = charts_of(obs, "customer", "segment")
    assert isinstance(segment, Bars) and segment.labels == ["consumer", "small_business", "enterprise"]
    assert segment.declared == pytest.approx([0.7, 0.25, 0.05])
    assert sum(segment.observed) == pytest.approx(1.0)
    assert segment.observed == pytest.approx(segment.declared, abs=0.03)
    # distribution: histogram with the declared law's expected counts and the clamp bounds
    (amount,) = charts_of(obs, "orders", "amount")
    assert isinstance(amount, Histogram) and amount.expected is not None
    rows = report.tables["orders"]["rows"]
    shown = sum(amount.counts)
    assert shown <= rows and shown > 0.99 * rows
    assert sum(amount.expected) == pytest.approx(shown, rel=0.02)
    assert ("min", 2.0) in [(n, v) for v, n in amount.marks]
    # datetime_series: hour, dow, month against pattern weights, through the check's own SQL
    profiles = charts_of(obs, "orders", "ordered_at")
    assert [c.title for c in profiles] == [
        "ordered_at by hour of day",
        "ordered_at by day of week",
        "ordered_at by month",
    ]
    for chart in profiles:
        assert isinstance(chart, Bars)
        assert sum(chart.declared) == pytest.approx(1.0) and sum(chart.observed) == pytest.approx(1.0)
        tvd = 0.5 * sum(abs(o - d) for o, d in zip(chart.observed, chart.declared, strict=True))
        assert tvd < 0.05
    hour = profiles[0]
    assert max(range(24), key=lambda h: hour.declared[h]) == 20  # weight 2.3, the evening peak
    # a date column has no hour chart
    assert [c.title for c in charts_of(obs, "customer", "signup_date")] == [
        "signup_date by day of week",
        "signup_date by month",
    ]
    # fanout: children per parent against the clamped Poisson pmf
    fanout = charts_of(obs, "orders")[0]
    pmf = clamped_pmf(dataset.node("orders").fanout)
    assert isinstance(fanout, Bars) and fanout.title == "children per customer row"
    assert fanout.declared[:10] == pytest.approx([pmf.get(k, 0.0) for k in range(10)])
    assert sum(fanout.observed) == pytest.approx(1.0)
    # null rate: nullable reviewed_at, declared 0.7
    gauges = [c for c in charts_of(obs, "orders", "reviewed_at") if isinstance(c, Gauge)]
    assert len(gauges) == 1 and gauges[0].declared == 0.7
    assert gauges[0].observed == pytest.approx(report.tables["orders"]["null_share"]["reviewed_at"])
    # inequality margins: right - left of each inequality within a table, 0 marked, none below 0
    margins = [c for c in charts_of(obs, "orders") if isinstance(c, Histogram)]
    assert [c.title for c in margins] == [
        "margin shipped_at − ordered_at (hours)",
        "margin delivered_at − shipped_at (hours)",
        "margin reviewed_at − delivered_at (hours)",
    ]
    for m in margins:
        assert m.edges[0] <= 0 <= m.edges[-1]
        assert (0.0, "0") in m.marks
        zero_bin = next(i for i in range(len(m.counts)) if m.edges[i + 1] > 0)
        assert sum(m.counts[:zero_bin]) == 0


def test_the_page_has_checks_failing_examples_sql_and_charts(shop, dg, tmp_path):
    bad = altered(
        shop,
        tmp_path / "bad",
        customer="CASE WHEN customer_id <= 3 THEN 'vip' ELSE segment END AS segment",
        orders="CASE WHEN order_id < 100003 THEN ordered_at + INTERVAL 400 DAY ELSE shipped_at END AS shipped_at",
    )
    dataset, _, _ = load(SHOP)
    page = html_report(dataset, bad)
    # the failing check comes first, open, with its examples and SQL
    first = page.index('<details class="check')
    assert page[first:].startswith('<details class="check FAILED"')
    assert "inequality:orders.shipped_at &lt; orders.delivered_at" in page
    assert page.count("failing examples (first") >= 1
    assert '<summary class="small">SQL</summary>' in page
    # the injected value shows up among the observed categories, with no declared mark
    assert "vip" in page
    parsed = tags(page)
    assert parsed.tags["script"] == 1
    assert parsed.tags["svg"] >= 30
    assert all(
        not (v or "").startswith(("http:", "https:", "//")) for k, v in parsed.attrs if k in ("src", "href")
    )


def test_effect_lift_against_the_declared_multiplier(dg):
    out = dg.build(RETAIL, "--sample", "2000").path
    _, _, obs = observation(RETAIL, out)
    lifts = [
        c
        for t in obs.tables
        for col in t.columns
        for c in col.charts
        if c.title.startswith(f"{col.name}: lift")
    ]
    assert lifts, "the effect column gets a lift chart"
    for chart in lifts:
        assert isinstance(chart, Bars) and chart.labels == ["outside", "inside"]
        assert chart.declared[1] > 1.0
        assert chart.observed[1] == pytest.approx(chart.declared[1], rel=0.05)


def test_declared_counts_of_a_clamped_rounded_law():
    from dgsql.dsl.model import DistributionSpec

    spec = DistributionSpec(type="normal", params={"mean": 5, "std": 2}, clamp=[3, 8])
    cdf = clamped(law_cdf(spec, integer=True), 3, 8)
    edges = [k - 0.5 for k in range(2, 10)]  # one bin per value 2..8
    counts = expected_counts(cdf, edges, 1000)
    assert sum(counts) == pytest.approx(1000)
    assert counts[0] == 0  # 2 is below the clamp
    # 3 holds everything that rounds to 3 or less: P(X < 3.5)
    from statistics import NormalDist

    assert counts[1] == pytest.approx(1000 * NormalDist(5, 2).cdf(3.5))
    assert counts[-1] == pytest.approx(1000 * (1 - NormalDist(5, 2).cdf(7.5)))


# ---------------------------------------------------------------- escaping

HOSTILE = ['<img src=x onerror="alert(1)">', '"><script>alert(2)</script>', "</svg><b>x"]


def test_hostile_names_and_values_are_escaped(dg):
    cols = [dg.col(name, "string", {"choice": {"choices": HOSTILE + ["plain"]}}) for name in HOSTILE]
    schema = dg.schema(
        dg.entity("t", dg.col("id", "int", dg.seq()), *cols, pk="id", rows=300),
        name="<h1>pwn</h1>",
        constraints={"enum": [{"attr": f"t.{HOSTILE[0]}", "values": ["plain"]}]},
    )
    out = dg.build(schema)
    dataset, _, _ = load(out.path.parent / "schema.json")
    page = html_report(dataset, out.path)
    for text in HOSTILE + ["<h1>pwn</h1>"]:
        assert text not in page
    parsed = tags(page)
    assert (
        parsed.tags["script"] == 1 and "img" not in parsed.tags and "b" in parsed.tags
    )  # <b> from the page itself
    assert parsed.tags["h1"] == 1
    assert (
        "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
        or "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    )


def test_svg_elements_escape_text_and_attributes():
    assert str(el("text", "<b>&", x='1" onload="x')) == '<text x="1&#34; onload=&#34;x">&lt;b&gt;&amp;</text>'


# -------------------------------------------------------------------- CLI


def test_cli_report_validate_html_and_build_html(dg, shop, tmp_path):
    out = tmp_path / "r.html"
    result = dg.cli("report", SHOP, "-d", shop, "-o", out)
    assert result.exit_code == 0, result.stderr
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "shop_orders" in page
    html = tmp_path / "v.html"
    result = dg.cli("validate", SHOP, "-d", shop, "--html", html)
    assert result.exit_code == 0 and html.read_text().count("<svg") == page.count("<svg")
    built = tmp_path / "b.html"
    work = tmp_path / "built"
    result = dg.cli("build", SHOP, "-o", work, "--sample", "500", "--html", built)
    assert result.exit_code == 0, result.stderr
    assert "children per customer row" in built.read_text()
    # a missing folder is bad input
    assert dg.cli("report", SHOP, "-d", tmp_path / "nope", "-o", out).exit_code == 2


def test_report_exits_0_when_checks_fail(dg, shop, tmp_path):
    schema = json.loads(SHOP.read_text())
    schema["constraints"]["ranges"] = [{"attr": "orders.amount", "max": 3}]
    path = tmp_path / "strict.json"
    path.write_text(json.dumps(schema))
    assert dg.cli("validate", path, "-d", shop, "--threshold", "100").exit_code == 1
    out = tmp_path / "r.html"
    assert dg.cli("report", path, "-d", shop, "-o", out).exit_code == 0
    assert 'class="check FAILED"' in out.read_text()


# ------------------------------------------------------------------- size


def wide_schema(pairs: int) -> dict:
    """``pairs`` entity + fact pairs (2·pairs tables) using most generator kinds."""
    nodes = []
    hours = [0.2] * 7 + [1.0] * 10 + [2.0] * 5 + [0.5] * 2
    for i in range(pairs):
        nodes.append(
            {"id": f"e{i}", "kind": "entity", "pk": "id", "rows": 400, "columns": [
                {"name": "id", "type": "int", "generator": {"sequence": {}}},
                {"name": "tier", "type": "string", "generator": {"choice": {"choices": ["a", "b", "c", "d"], "weights": [4, 3, 2, 1]}}},
                {"name": "name", "type": "string", "generator": {"faker": {"method": "name"}}},
                {"name": "score", "type": "float", "generator": {"distribution": {"type": "normal", "params": {"mean": 50, "std": 10}, "clamp": [0, 100]}}},
                {"name": "visits", "type": "int", "generator": {"distribution": {"type": "poisson", "params": {"lambda": 3}}}},
                {"name": "joined", "type": "datetime", "generator": {"datetime_series": {"pattern": {"dimension": "hour", "weights": hours}}}},
                {"name": "note", "type": "float", "nullable": True, "null_rate": 0.2, "generator": {"distribution": {"type": "uniform", "params": {"low": 0, "high": 1}}}},
            ]}
        )  # fmt: skip
        nodes.append(
            {"id": f"f{i}", "kind": "fact", "parents": [f"e{i}"], "pk": "id", "fanout": {"distribution": "poisson", "lambda": 4}, "columns": [
                {"name": "id", "type": "int", "generator": {"sequence": {}}},
                {"name": "owner", "type": "int", "generator": {"lookup": {"from": f"e{i}.id"}}},
                {"name": "at", "type": "datetime", "generator": {"datetime_series": {"patterns": [
                    {"dimension": "dow", "weights": [1, 1, 1, 1, 1, 2, 2]}, {"dimension": "month", "weights": [1] * 11 + [3]}]}}},
                {"name": "amount", "type": "float", "generator": {"distribution": {"type": "lognormal", "params": {"mean": 3, "sigma": 0.8}, "clamp": [1, 5000]}}},
                {"name": "status", "type": "string", "generator": {"choice": {"choices": ["new", "paid", "sent", "back"], "weights_kind": "zipf@1.2"}}},
                {"name": "done", "type": "datetime", "generator": {"expression": {"code": "at + hours(amount)"}}},
            ]}
        )  # fmt: skip
    return {
        "version": "1.0",
        "metadata": {"name": "wide"},
        "timeframe": {"start": "2025-01-01", "end": "2025-12-31 23:00:00", "freq": "H"},
        "nodes": nodes,
        "constraints": {
            "inequalities": [{"left": f"f{i}.at", "op": "<=", "right": f"f{i}.done"} for i in range(pairs)]
        },
    }


def test_a_20_table_report_stays_under_3_mb(dg):
    schema = wide_schema(10)
    out = dg.build(schema)
    dataset, _, _ = load(out.path.parent / "schema.json")
    page = html_report(dataset, out.path)
    size = len(page.encode())
    assert size < 3 * 1024 * 1024, size
    assert page.count("<svg") >= 20 * 5


def test_fanout_counts_match_the_checks_children_per_parent(shop):
    """The report counts children per key without joining the parent table; on intact keys
    that is the checks' own count, parents without children included."""
    from dgsql.compiler.checks.fanout import children_cte, parent_link
    from dgsql.compiler.checks.spec import CheckContext

    dataset, report, obs = observation(SHOP, shop)
    con = duckdb.connect()
    with data_views(dataset, shop, con):
        for fact in ("orders", "ticket"):
            link = parent_link(CheckContext(dataset), dataset.node(fact))
            rows = con.execute(
                children_cte(link, fact) + " SELECT children, count(*) FROM children GROUP BY ALL"
            ).fetchall()
            parents = sum(n for _, n in rows)
            chart = charts_of(obs, fact)[0]
            expected = {k: n / parents for k, n in rows}
            assert {
                int(k): v for k, v in zip(chart.labels, chart.observed, strict=True) if v
            } == pytest.approx(expected)


def test_charts_of_a_large_table_read_its_first_rows(shop):
    dataset, _, _ = load(SHOP)
    con = duckdb.connect()
    report = validate(dataset, shop, con=con)
    with data_views(dataset, shop, con):
        obs = observe(dataset, con, report, chart_rows=5000)
    orders = next(t for t in obs.tables if t.id == "orders")
    assert orders.charted_rows == 5000
    (amount,) = charts_of(obs, "orders", "amount")
    assert sum(amount.counts) <= 5000
    fanout = charts_of(obs, "orders")[0]
    assert "the first" in fanout.note and sum(fanout.observed) == pytest.approx(1.0)
    customers = int(fanout.note.split()[2].replace(",", ""))
    assert (
        customers == 5000 * report.tables["customer"]["rows"] // report.tables["orders"]["rows"]
    )  # < 250,000
    # the declared side is still there, and the data still follows it
    assert (
        fanout.declared
        and 0.5 * sum(abs(o - d) for o, d in zip(fanout.observed, fanout.declared, strict=True)) < 0.1
    )
    customer = next(t for t in obs.tables if t.id == "customer")
    assert customer.charted_rows is None  # 3,000 rows: all of them


@pytest.mark.parametrize(
    "module", ["dgsql.report.svg", "dgsql.report.observe", "dgsql.compiler.checks.datetime_shape"]
)
def test_doctests(module):
    import doctest
    import importlib

    assert doctest.testmod(importlib.import_module(module)).failed == 0


@pytest.mark.parametrize("fmt", ["csv", "duckdb"])
def test_every_output_format_gets_the_same_charts(dg, fmt):
    dataset, _, _ = load(SHOP)
    parquet = dg.build(SHOP, "--sample", "400").path
    other = dg.build(SHOP, "--sample", "400", "--format", fmt).path
    a, b = html_report(dataset, parquet), html_report(dataset, other)
    assert b.count("<figure") == a.count("<figure") > 20
    assert "could not" not in b


# ------------------------------------------- behaviours, modifiers, references

SAAS = ROOT / "examples" / "saas_accounts.json"
IOT = ROOT / "examples" / "iot_sensors.json"


@pytest.fixture(scope="module")
def saas(dg) -> Path:
    return dg.build(SAAS).path


def chart(obs, table: str, title: str, column: str | None = None):
    (found,) = [c for c in charts_of(obs, table, column) if c.title == title]
    return found


def rows_of(con, sql: str) -> dict:
    return {k: v for k, v in con.execute(sql).fetchall()}


def test_segment_charts_show_the_observed_fanout_and_value_ratios_against_the_multipliers(saas):
    dataset, _, obs = observation(SAAS, saas)
    con = duckdb.connect()
    with data_views(dataset, saas, con):
        children = rows_of(
            con,
            'SELECT a.plan, avg(coalesce(n, 0)) FROM dg_check."account" AS a LEFT JOIN '
            '(SELECT account_id, count(*) AS n FROM dg_check."invoice" GROUP BY ALL) USING (account_id) GROUP BY ALL',
        )
        means = rows_of(
            con,
            'SELECT a.plan, avg(i.amount) FROM dg_check."invoice" AS i JOIN dg_check."account" AS a USING (account_id) '
            "GROUP BY ALL",
        )
    fanout = chart(obs, "invoice", "children per account row by account.plan")
    assert fanout.labels == ["enterprise", "free", "team"] and not fanout.shares
    assert fanout.observed == pytest.approx([children[p] for p in fanout.labels], rel=1e-12)
    # declared: the Poisson(4) mean × the plan's multiplier × the tenure curve (mean about 1)
    assert fanout.declared[0] / fanout.declared[1] == pytest.approx(3.0, rel=0.1)
    assert fanout.observed == pytest.approx(fanout.declared, rel=0.06)
    amount = chart(obs, "invoice", "amount: mean by account.plan", "amount")
    assert amount.labels == ["enterprise", "free", "team"]
    assert amount.observed == pytest.approx([means[p] / means["free"] for p in amount.labels], rel=1e-9)
    assert amount.declared == pytest.approx([2.5, 1.0, 1.3], rel=0.03)  # × the mean expansion curve per plan
    assert amount.observed == pytest.approx(amount.declared, rel=0.05)


def test_vintage_charts_bucket_the_parents_by_age(saas):
    dataset, _, obs = observation(SAAS, saas)
    con = duckdb.connect()
    with data_views(dataset, saas, con):
        # age in years to the timeframe's end, rounded, its last bucket holding the older rows
        children = rows_of(
            con,
            "SELECT least(CAST(round(greatest(epoch(TIMESTAMP '2025-12-31 23:00:00' - created_at) / 86400 / 365, 0)) "
            'AS BIGINT), 4) AS age, avg(coalesce(n, 0)) FROM dg_check."account" LEFT JOIN '
            '(SELECT account_id, count(*) AS n FROM dg_check."invoice" GROUP BY ALL) USING (account_id) GROUP BY ALL',
        )
    tenure = chart(obs, "invoice", "children per account row by age of account.created_at (tenure)")
    assert tenure.labels == [str(a) for a in sorted(children)]
    assert tenure.observed == pytest.approx([children[a] for a in sorted(children)], rel=1e-12)
    assert "age in years" in tenure.note
    assert tenure.observed == pytest.approx(tenure.declared, rel=0.06)
    expansion = chart(obs, "invoice", "amount: mean by age of account.created_at (expansion)", "amount")
    assert expansion.labels == [f"d{k}" for k in range(1, 11)]  # a parametric curve: deciles of age
    assert expansion.observed[-1] == expansion.declared[-1] == 1.0  # ratios to the largest bucket
    assert expansion.observed == pytest.approx(expansion.declared, rel=0.06)


def test_funnel_conversion_per_stage_against_rate_times_multiplier(saas):
    dataset, _, obs = observation(SAAS, saas)
    con = duckdb.connect()
    with data_views(dataset, saas, con):
        reached = con.execute(
            'SELECT a.plan, s.deepest FROM dg_check."account" AS a JOIN (SELECT account_id, max(stage_index) AS deepest '
            'FROM dg_check."onboarding" GROUP BY ALL) AS s USING (account_id)'
        ).fetchall()
    multipliers = {"free": 1.0, "team": 1.3, "enterprise": 1.6}
    for plan, m in multipliers.items():
        conv = chart(obs, "onboarding", f"onboarding: conversion per stage, segment {plan}")
        assert conv.labels == ["activated", "invited_team", "paid"]
        assert conv.declared == pytest.approx([min(1.0, r * m) for r in (0.6, 0.5, 0.4)])
        deepest = [d for p, d in reached if p == plan]
        assert conv.observed == pytest.approx(
            [sum(d >= i for d in deepest) / sum(d >= i - 1 for d in deepest) for i in (1, 2, 3)], rel=1e-12
        )
        assert conv.observed == pytest.approx(conv.declared, abs=0.06)


def test_outlier_rate_is_the_checks_estimate_against_the_declared_rate(saas):
    _, report, obs = observation(SAAS, saas)
    (gauge,) = [c for c in charts_of(obs, "invoice", "usage_hours") if isinstance(c, Gauge)]
    (check,) = [r for r in report.results if r.check.id == "outlier_share:invoice.usage_hours"]
    assert gauge.title == "usage_hours: outlier rate" and gauge.declared == 0.01
    assert gauge.observed == pytest.approx(check.detail["estimated_rate"], rel=1e-12)
    assert gauge.observed == pytest.approx(0.01, abs=4 * check.detail["standard_error"] + 0.0005)


def test_seasonality_lift_per_month_against_the_weights(saas):
    dataset, _, obs = observation(SAAS, saas)
    con = duckdb.connect()
    with data_views(dataset, saas, con):
        per_month = con.execute(
            'SELECT month(issued_at) - 1, count(*), avg(amount) FROM dg_check."invoice" GROUP BY ALL ORDER BY 1'
        ).fetchall()
    weights = [0.9, 0.9, 1.0, 1.0, 1.0, 1.0, 0.9, 0.9, 1.0, 1.1, 1.2, 1.4]
    rows = sum(n for _, n, _ in per_month)
    mean_weight = sum(n * weights[m] for m, n, _ in per_month) / rows
    mean_amount = sum(n * y for _, n, y in per_month) / rows
    lift = chart(obs, "invoice", "amount: mean by month (seasonality)", "amount")
    assert lift.labels[0] == "Jan" and len(lift.labels) == 12
    # exact: the declared lift is the month's weight over the rows' mean weight
    assert lift.declared == pytest.approx([weights[m] / mean_weight for m, _, _ in per_month], rel=1e-12)
    assert lift.observed == pytest.approx([y / mean_amount for _, _, y in per_month], rel=1e-9)
    assert lift.observed == pytest.approx(lift.declared, rel=0.06)


def test_trend_and_hourly_seasonality_multiply_in_one_declared_factor(dg):
    data = dg.build(IOT, "--sample", "60000").path
    _, _, obs = observation(IOT, data)
    hourly = chart(obs, "reading", "temperature: mean by hour of day (seasonality)", "temperature")
    assert len(hourly.labels) == 24 and hourly.declared.index(max(hourly.declared)) == 13
    assert hourly.observed == pytest.approx(hourly.declared, rel=0.02)
    trend = chart(obs, "reading", "temperature: mean by quarter (linear trend)", "temperature")
    assert trend.labels[-1] == "2025-01" and trend.declared[-1] is not None
    (temperature,) = [
        c for c in next(t for t in obs.tables if t.id == "reading").columns if c.name == "temperature"
    ]
    assert any("outlier rate not charted" in n for n in temperature.notes)


def test_choices_ref_shares_against_the_referenced_tables_ranked_weights(dg):
    from dgsql.dsl.laws import kind_weights, normalise

    data = dg.build(IOT, "--sample", "60000").path
    dataset, _, obs = observation(IOT, data)
    con = duckdb.connect()
    with data_views(dataset, data, con):
        counts = rows_of(con, 'SELECT model, count(*) FROM dg_check."device" GROUP BY ALL')
    shares = chart(obs, "device", "model: shares", "model")
    assert shares.labels == ["TH-100", "TH-200", "AQ-3", "PWR-9"]  # the vocab's order: heaviest first
    assert shares.declared == pytest.approx(normalise(kind_weights("zipf", [1.2], 4)))
    total = sum(counts.values())
    assert shares.observed == pytest.approx([counts.get(k, 0) / total for k in shares.labels])


def test_cross_table_margin_goes_through_the_lookup_and_counts_the_rows_breaking_it(saas, tmp_path):
    bad = altered(
        saas,
        tmp_path / "bad",
        invoice="CASE WHEN invoice_id <= 7 THEN TIMESTAMP '2020-01-01' ELSE issued_at END AS issued_at",
    )
    dataset, report, obs = observation(SAAS, bad)
    margin = chart(obs, "invoice", "margin invoice.issued_at − account.created_at (hours)")
    (check,) = [
        r for r in report.results if r.check.id == "inequality:account.created_at < invoice.issued_at"
    ]
    assert check.violations == 7
    rows = report.tables["invoice"]["rows"]
    assert f"7 of {rows:,} rows break it" in margin.note
    assert margin.edges[0] <= 0 <= margin.edges[-1] and (0.0, "0") in margin.marks
    same = chart(obs, "invoice", "margin paid_at − issued_at (hours)")
    assert f"of {rows:,} rows break it" in same.note


def test_uniform_choices_ref_shares_are_the_referenced_rows_counts(dg):
    """Uniform weights over ``choices_ref``: each referenced row is one choice, so a value's
    declared share is its count in the referenced table (here 'a' twice in three rows)."""
    schema = dg.schema(
        {
            "id": "kinds",
            "kind": "vocab",
            "pk": "id",
            "columns": [
                dg.col("id", "int", dg.seq()),
                dg.col("kind", "string", {"enum_list": {"values": ["a", "b", "a"]}}),
            ],
        },
        dg.entity(
            "t",
            dg.col("id", "int", dg.seq()),
            dg.col("kind", "string", {"choice": {"choices_ref": "kinds.kind"}}),
            pk="id",
            rows=3000,
        ),
    )
    out = dg.build(schema)
    path = out.path.parent / "schema.json"
    _, _, obs = observation(path, out.path)
    shares = chart(obs, "t", "kind: shares", "kind")
    assert shares.labels == ["a", "b"] and shares.declared == pytest.approx([2 / 3, 1 / 3])
    assert shares.observed == pytest.approx(shares.declared, abs=0.04)


def test_a_large_facts_behaviour_charts_are_the_checks_figures_and_its_funnel_reads_first_parents(saas):
    dataset, _, _ = load(SAAS)
    con = duckdb.connect()
    report = validate(dataset, saas, con=con)
    with data_views(dataset, saas, con):
        obs = observe(dataset, con, report, chart_rows=5000)
    accounts, invoices = report.tables["account"]["rows"], report.tables["invoice"]["rows"]
    fanout = chart(obs, "invoice", "children per account row by account.plan")
    counted = sum(
        int(part.split(": ")[1].replace(",", "")) for part in fanout.note.split("parents ")[1].split(", ")
    )
    assert counted == accounts  # validate's figures over every parent, whatever the cap
    assert invoices > 5000
    funnel_chart = chart(obs, "onboarding", "onboarding: conversion per stage, segment free")
    assert int(funnel_chart.note.rsplit("; ", 1)[1].split()[0].replace(",", "")) < accounts


def test_table_effects_chart_children_per_parent_by_the_factor_matched(dg):
    """marketplace's orders: a promotion effect (×0.9 inside its windows, 1 elsewhere) on a fanout
    whose parent also has a vintage curve. The bars are the parents' mean children grouped by the
    factor the effect gave them, against the law with the factors applied; the groups cover every
    parent and their children exactly."""
    schema = ROOT / "tests" / "datagen_compat" / "marketplace.json"
    out = dg.build(schema, "--sample", "5000").path
    dataset, _, _ = load(schema)
    con = duckdb.connect()
    report = validate(dataset, out, con=con)
    with data_views(dataset, out, con):
        obs = observe(dataset, con, report)
    bars = chart(obs, "orders", "children per customers row by effect factor")
    assert bars.labels == ["×0.9", "×1"]
    parents = [
        int(part.split(": ")[1].replace(",", "")) for part in bars.note.split("parents ")[1].split(", ")
    ]
    files = {t: f"read_parquet('{out}/{t}.parquet')" for t in ("customers", "orders")}
    ((n_parents,),) = duckdb.sql(f"SELECT count(*) FROM {files['customers']}").fetchall()
    ((n_orders,),) = duckdb.sql(f"SELECT count(*) FROM {files['orders']}").fetchall()
    assert sum(parents) == n_parents
    assert sum(p * m for p, m in zip(parents, bars.observed, strict=True)) == pytest.approx(n_orders)
    for observed, declared, n in zip(bars.observed, bars.declared, parents, strict=True):
        assert declared is not None and abs(observed - declared) < 5 * math.sqrt(
            declared / n
        )  # Poisson-like spread
