"""``dgsql report``: the data against the schema as one self-contained HTML page.

:func:`html_report` runs the checks (or takes a :class:`~dgsql.runtime.report.Report` already
made), computes the charts' aggregates in DuckDB over the same views the checks read
(:mod:`dgsql.report.observe`), draws them as static SVG (:mod:`dgsql.report.svg`) and renders
the page (:mod:`dgsql.report.page`). The page needs no network: no script, style, font or image
comes from anywhere but the file itself.
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

import duckdb

from dgsql import __version__
from dgsql.dsl.model import Dataset
from dgsql.options import CHART_ROWS
from dgsql.report.observe import observe
from dgsql.report.page import Build, render_page
from dgsql.runtime import engine
from dgsql.runtime.report import Report
from dgsql.runtime.validate import METADATA_FILE, data_views, validate


def html_report(
    dataset: Dataset,
    data_dir: Path,
    *,
    report: Report | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    chart_rows: int | None = CHART_ROWS,
) -> str:
    """The report page of the build in ``data_dir``: the checks' results (``report``, or a new
    run of :func:`~dgsql.runtime.validate.validate`) and every column's declared-vs-observed
    charts. ``con``: the session to compute in (a new in-memory one by default);
    ``chart_rows``: the rows of a table the charts read at most (None: all)."""
    data_dir = Path(data_dir)
    session = engine.connect() if con is None else con
    try:
        if report is None:
            report = validate(dataset, data_dir, con=session)
        with data_views(dataset, data_dir, session) as layout:
            observed = observe(dataset, session, report, chart_rows)
    finally:
        if con is None:
            session.close()
    metadata = None
    if layout.has_metadata:
        metadata = json.loads((layout.folder / METADATA_FILE).read_text(encoding="utf-8"))
    sizes = {}
    if layout.format != "duckdb":
        for table_id, name in layout.files.items():
            path = layout.folder / name
            if path.is_file():
                sizes[table_id] = path.stat().st_size
    build = Build(metadata if isinstance(metadata, dict) else None, sizes, str(data_dir))
    versions = {"dgsql": __version__, "duckdb": importlib.metadata.version("duckdb")}
    return render_page(report, observed, build, description=dataset.metadata.description, versions=versions)


def write_html(path: Path, page: str) -> None:
    """Write the page (UTF-8) next to its final place, then move it there."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)


__all__ = ["html_report", "write_html"]
