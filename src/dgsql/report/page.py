"""The report as one HTML page: the overview, every check, every column's charts.

The page is rendered by Jinja with autoescaping on, so every name and value from the schema,
the data or a check's detail is escaped; the only markup that is not escaped is the SVG the
chart module built (itself escaped element by element). Styles and the small filter script are
inline: the page asks nothing of any other host.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from dgsql.report import svg
from dgsql.report.charts import Chart, has_declared
from dgsql.report.observe import ColumnView, Observation, TableView
from dgsql.runtime.report import CheckResult, Report, Status, json_value

STATUS_ORDER = {Status.FAILED: 0, Status.NOT_EVALUATED: 1, Status.PASSED: 2}
STATUS_TEXT = {Status.FAILED: "failed", Status.NOT_EVALUATED: "not evaluated", Status.PASSED: "passed"}


@dataclass(frozen=True)
class Build:
    """What the page says about the build beside the checks: its ``.metadata.json`` (None when
    the folder has none), the bytes of each table's file, where it was read from."""

    metadata: dict[str, Any] | None
    bytes: dict[str, int]
    data_dir: str


@dataclass
class CheckEntry:
    anchor: str
    result: CheckResult
    status: str
    summary: str
    detail: list[tuple[str, str]]
    example_columns: list[str]
    example_rows: list[list[str]]


@dataclass
class Figure:
    title: str
    svg: Markup
    note: str
    kind: str
    declared: bool
    "The chart draws declared values beside the observed ones."


@dataclass
class ColumnEntry:
    view: ColumnView
    status: str
    checks: list[CheckEntry] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


@dataclass
class TableEntry:
    view: TableView
    status: str
    bytes: int | None
    build_seconds: float | None
    figures: list[Figure]
    checks: list[CheckEntry]
    columns: list[ColumnEntry]


def text(value: Any) -> str:
    """A value of a check's detail or example as one line of text."""
    value = json_value(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return "NULL" if value is None else str(value)


def _summary(r: CheckResult) -> str:
    if r.status is Status.NOT_EVALUATED:
        return str(r.detail.get("reason") or r.detail.get("error") or "")
    if r.check.mode == "stat":
        shown = [f"{k}={text(v)}" for k, v in r.detail.items() if not isinstance(v, (dict, list))]
        return ", ".join(shown[:4])
    return f"{r.violations:,} failing rows" if r.violations else "no failing row"


def check_entries(report: Report) -> list[CheckEntry]:
    """Every check, failing first, then not evaluated, then passed (each in registry order)."""
    ordered = sorted(enumerate(report.results), key=lambda ir: (STATUS_ORDER[ir[1].status], ir[0]))
    out = []
    for i, r in ordered:
        detail = r.to_json()["detail"]
        columns = list(dict.fromkeys(k for row in r.examples for k in row))
        rows = [[text(row.get(c)) for c in columns] for row in r.examples]
        out.append(
            CheckEntry(
                f"check-{i}",
                r,
                r.status.value,
                _summary(r),
                [(k, text(v)) for k, v in detail.items()],
                columns,
                rows,
            )
        )
    return out


def _mentions(check_id: str, ref: str) -> bool:
    """Whether a check's id names the column ``ref`` (``table.column``) as a whole word: the
    ids are ``kind:target`` with targets such as ``t.c``, ``t.c:hour``, ``t.a < t.b``."""
    return re.search(rf"(?<![\w.]){re.escape(ref)}(?![\w])", check_id) is not None


def _worst(entries: list[CheckEntry]) -> str:
    if not entries:
        return "NONE"
    return min((e.result.status for e in entries), key=STATUS_ORDER.__getitem__).value


def _figures(charts: list[Chart]) -> list[Figure]:
    return [Figure(c.title, svg.draw(c), c.note, type(c).__name__.lower(), has_declared(c)) for c in charts]


def table_entries(observed: Observation, checks: list[CheckEntry], build: Build) -> list[TableEntry]:
    metadata_tables = (build.metadata or {}).get("tables", {})
    out = []
    for tv in observed.tables:
        columns = []
        claimed: set[str] = set()
        for cv in tv.columns:
            ref = f"{tv.id}.{cv.name}"
            mine = [e for e in checks if _mentions(e.result.check.id, ref)]
            claimed.update(e.anchor for e in mine)
            columns.append(ColumnEntry(cv, _worst(mine), mine, _figures(cv.charts)))
        # failing first; among equals, the charted ones before those with nothing to draw
        columns.sort(key=lambda c: ({"FAILED": 0, "NOT_EVALUATED": 1}.get(c.status, 2), not c.figures))
        own = [
            e
            for e in checks
            if e.anchor not in claimed
            and (e.result.check.target == tv.id or e.result.check.target.startswith(f"{tv.id}:"))
        ]
        meta = metadata_tables.get(tv.id, {}) if isinstance(metadata_tables, dict) else {}
        out.append(
            TableEntry(
                tv,
                _worst(own + [e for c in columns for e in c.checks]),
                build.bytes.get(tv.id),
                meta.get("seconds") if isinstance(meta, dict) else None,
                _figures(tv.charts),
                own,
                columns,
            )
        )
    return out


_ENV = jinja2.Environment(
    loader=jinja2.FunctionLoader(
        lambda name: resources.files("dgsql.report").joinpath(name).read_text(encoding="utf-8")
    ),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["pct"] = lambda v: "–" if v is None else f"{100 * v:.1f}%"
_ENV.filters["num"] = lambda v: "–" if v is None else f"{v:,}"
_ENV.filters["bytes"] = lambda n: "–" if n is None else size_text(n)
_ENV.filters["secs"] = lambda v: "–" if v is None else f"{v:.2f} s"


def size_text(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return ""


def render_page(
    report: Report,
    observed: Observation,
    build: Build,
    *,
    description: str | None,
    versions: dict[str, str],
) -> str:
    checks = check_entries(report)
    tables = table_entries(observed, checks, build)
    figures = [f for t in tables for f in t.figures] + [
        f for t in tables for c in t.columns for f in c.figures
    ]
    return _ENV.get_template("page.html.j2").render(
        report=report,
        summary=report.to_json()["summary"],
        recommendations=report.recommendations,
        description=description,
        metadata=build.metadata or {},
        build=build,
        versions=versions,
        checks=checks,
        tables=tables,
        graph=svg.draw(observed.graph),
        chart_count=len(figures),
        observe_seconds=observed.seconds,
        status_text={s.value: t for s, t in STATUS_TEXT.items()},
    )
