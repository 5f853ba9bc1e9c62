"""The HTML report in a real browser: headless Chromium, network off, opens the page from disk.

Every chart the report declares must render (an SVG with a size and its marks), the page must
log no error and request nothing from another host, and a screenshot is saved. Skipped when
Chromium is absent, unless ``CI`` is set (then it fails: CI installs it, see ``.ci/run``).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from browser import chromium, open_page
from dgsql.compiler import load
from dgsql.report import html_report, write_html
from dgsql.report.observe import observe
from dgsql.runtime.validate import data_views, validate

ROOT = Path(__file__).resolve().parents[1]
SHOP = ROOT / "examples" / "shop_orders.json"
EXAMPLES = {  # example: a word the filter narrows the page to
    "shop_orders": "ordered_at",
    "saas_accounts": "usage_hours",
    "iot_sensors": "temperature",
}
DIMENSIONS = {"hour": "hour of day", "dow": "day of week", "month": "month"}


def declared_charts(dataset) -> set[str]:
    """The titles of the charts the schema declares beyond a column's own law: its parents'
    segments, vintage and funnels, table-level effects on a fanout, outlier rates, seasonality and trends of values,
    ``choices_ref`` shares, inequality margins (read from the schema, not from the report)."""
    titles = set()
    for node in dataset.nodes:
        children = [n for n in dataset.nodes if n.kind == "fact" and n.parents[:1] == [node.id]]
        seg, vintage = node.segment_behavior, node.vintage_behavior
        for child in children:
            names = {c.name for c in child.columns}
            if seg is not None:
                by = f"{node.id}.{seg.segment_column}"
                if child.stage_config is None and any(
                    b.fanout_multiplier != 1 for b in seg.behaviors.values()
                ):
                    titles.add(f"children per {node.id} row by {by}")
                titles |= {f"{c}: mean by {by}" for c in seg.applies_to_columns if c in names}
            if vintage is not None:
                by = f"age of {node.id}.{vintage.created_at_column}"
                done = set()
                for name, curve in vintage.age_based_multipliers.items():
                    for target in set(curve.targets) - done:
                        if target == "fanout" and child.stage_config is None:
                            titles.add(f"children per {node.id} row by {by} ({name})")
                        elif target in names:
                            titles.add(f"{target}: mean by {by} ({name})")
                        done.add(target)
            if child.stage_config is not None:
                choices = (
                    seg
                    and next(c for c in node.columns if c.name == seg.segment_column).generator.choice.choices
                )
                titles |= {f"{child.id}: conversion per stage, segment {s}" for s in choices or []}
        if node.kind == "fact" and node.modifiers and node.stage_config is None:
            titles.add(f"children per {node.parents[0]} row by effect factor")
        for col in node.columns:
            for m in col.modifiers:
                if m.transform == "outliers" and "distribution" in col.generator.model_fields_set:
                    titles.add(f"{col.name}: outlier rate")
                elif m.transform == "seasonality" and col.type in ("int", "float"):
                    titles.add(f"{col.name}: mean by {DIMENSIONS[m.args.dimension]} (seasonality)")
                elif m.transform == "trend":
                    titles.add(f"{col.name}: mean by quarter ({m.args.type} trend)")
            if getattr(getattr(col.generator, "choice", None), "choices_ref", None):
                titles.add(f"{col.name}: shares")
    for q in dataset.constraints.inequalities:
        (lt, lc), (rt, rc) = dataset.split_ref(q.left), dataset.split_ref(q.right)
        titles.add(f"margin {rc} − {lc} (hours)" if lt == rt else f"margin {q.right} − {q.left} (hours)")
    return titles


INSPECT = """(() => {
  const figs = [...document.querySelectorAll('figure[data-chart], div[data-chart]')].map(f => {
    const s = f.querySelector('svg');
    const r = s ? s.getBoundingClientRect() : {width: 0, height: 0};
    const visible = sel => s ? [...s.querySelectorAll(sel)].filter(e => {
      const b = e.getBoundingClientRect(); return b.width > 0 || b.height > 0; }).length : 0;
    const caption = f.querySelector('figcaption');
    return {kind: f.dataset.chart, title: caption ? caption.textContent : '', declared: f.hasAttribute('data-declared'),
            width: r.width, height: r.height,
            observed: visible('.obs'), marks: visible('.decl'), nodes: visible('.node')};
  });
  const input = document.getElementById('dg-filter');
  input.value = '%s'; input.dispatchEvent(new Event('input'));
  const shown = [...document.querySelectorAll('[data-search]')].filter(e => !e.classList.contains('hidden')).length;
  input.value = ''; input.dispatchEvent(new Event('input'));
  return {figs, shown, total: document.querySelectorAll('[data-search]').length,
          imgs: document.querySelectorAll('img').length, scripts: document.scripts.length,
          pwned: typeof window.__pwned, title: document.title};
})()"""


@pytest.fixture(scope="module")
def browser() -> str:
    found = chromium()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); the browser tests need it")
    return found


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_report_renders_offline_in_chromium(browser, dg, tmp_path, example):
    schema = ROOT / "examples" / f"{example}.json"
    data = dg.build(schema, "--sample", "3000").path
    dataset, _, _ = load(schema)
    con = duckdb.connect()
    report = validate(dataset, data, con=con)
    with data_views(dataset, data, con):
        obs = observe(dataset, con, report)
    declared = sum(len(t.charts) + sum(len(c.charts) for c in t.columns) for t in obs.tables) + 1  # + the DAG
    page = tmp_path / "report.html"
    write_html(page, html_report(dataset, data, report=report))
    shot = tmp_path / "report.png"
    run = open_page(page, INSPECT % EXAMPLES[example], screenshot=shot, binary=browser)
    assert run.console == []
    assert run.remote_requests == []
    assert run.requests == [page.resolve().as_uri()]
    figs = run.value["figs"]
    assert len(figs) == declared
    for fig in figs:
        assert fig["width"] > 50 and fig["height"] > 30, fig
        if fig["kind"] == "graph":
            assert fig["nodes"] == len(dataset.nodes)
        else:
            assert fig["observed"] > 0, fig
        if fig["declared"]:
            assert fig["marks"] > 0, fig
    # every behaviour, modifier, reference and inequality the schema declares is drawn, against its declaration
    by_title = {f["title"]: f for f in figs}
    expected = declared_charts(dataset)
    assert expected and expected <= set(by_title), expected - set(by_title)
    for title in expected:
        assert by_title[title]["observed"] > 0, title
        if not title.startswith("margin "):  # a margin's declaration is its 0 line
            assert by_title[title]["declared"] and by_title[title]["marks"] > 0, title
    assert sum(f["declared"] for f in figs) >= 12
    assert 0 < run.value["shown"] < run.value["total"]  # the filter narrows the page
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_hostile_names_stay_text_in_chromium(browser, dg, tmp_path):
    names = ['<img src=x onerror="window.__pwned=1">', '"><script>window.__pwned=2</script>']
    cols = [dg.col(n, "string", {"choice": {"choices": [*names, "ok"]}}) for n in names]
    schema = dg.schema(dg.entity("t", dg.col("id", "int", dg.seq()), *cols, pk="id", rows=100), name=names[1])
    out = dg.build(schema)
    dataset, _, _ = load(out.path.parent / "schema.json")
    page = tmp_path / "hostile.html"
    write_html(page, html_report(dataset, out.path))
    run = open_page(page, INSPECT, binary=browser)
    assert run.console == [] and run.remote_requests == []
    assert run.value["imgs"] == 0 and run.value["scripts"] == 1 and run.value["pwned"] == "undefined"
    assert names[1] in run.value["title"]


def test_the_harness_sees_requests_and_errors(browser, tmp_path):
    """The two things the report must never do, done on purpose: the checks above can fail."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><body><img src="http://example.invalid/x.png">'
        '<script>console.error("boom")</script></body></html>'
    )
    run = open_page(page, "1", binary=browser)
    assert run.remote_requests == ["http://example.invalid/x.png"]
    assert any("boom" in line for line in run.console)
