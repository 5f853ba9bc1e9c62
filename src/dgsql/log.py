"""Everything a command says on stderr, as events rendered as text or as JSON lines.

Every command (``build``, ``emit-sql``, ``check``, ``validate``, ``schema``, and those to come)
reports through one :class:`Log`: it never prints on its own. stdout is not touched here; it
carries only a command's product.

- ``text`` (the default): the lines a person reads — ``error: path: what; fix.``,
  ``warning: …``, ``note: …``, a line per table written, a summary table, and on a terminal
  a progress bar for each table that runs over a second (rows done, time left).
- ``json`` (``--log-format json``): one JSON object per line and per event, for CI logs and
  scripts. Every object has ``"event"``; the events and their keys are in docs/cli.md.
- ``quiet`` (``-q``): errors only, in either format.

Cheap to import (the standard library only): rich is imported when a table or a progress
bar is drawn.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import Enum
from typing import TYPE_CHECKING, Any, TextIO

from dgsql.dsl.problems import Problem

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from dgsql.compiler.preflight import PlannedTable
    from dgsql.runtime.report import Report
    from dgsql.runtime.session import BuildResult

SHOW_PROGRESS_AFTER = 1.0
"Seconds a table runs before its progress bar shows."


class LogFormat(str, Enum):
    text = "text"
    "Lines for people (the default)."
    json = "json"
    "One JSON object per event and line."


class Log:
    """The stderr of one command. ``fmt`` text or json; ``quiet`` keeps errors only."""

    def __init__(self, fmt: LogFormat = LogFormat.text, quiet: bool = False, stream: TextIO | None = None):
        self.fmt = LogFormat(fmt)
        self.quiet = quiet
        self._stream = stream
        self._console: Console | None = None
        self._progress: Progress | None = None
        self._bars: dict[str, TaskID] = {}
        self._expected: dict[str, float] = {}

    @property
    def json(self) -> bool:
        return self.fmt is LogFormat.json

    @property
    def stream(self) -> TextIO:
        "stderr as it is now (tests and the CliRunner replace ``sys.stderr``)."
        return self._stream or sys.stderr

    def console(self) -> Console:
        """A rich console on :attr:`stream` for tables and reports (text format only)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(file=self.stream, highlight=False)
        return self._console

    # -- the events --------------------------------------------------------------------------

    def problem(self, problem: Problem, severity: str | None = None) -> None:
        """An error or a warning about the schema or the arguments: ``path: what; fix.``
        (``severity`` overrides the problem's own: ``--strict`` makes warnings errors)."""
        severity = severity or problem.severity
        if severity != "error" and self.quiet:
            return
        if self.json:
            self._event(
                "problem",
                severity=severity,
                path=problem.path,
                message=problem.what,
                fix=problem.fix,
                line=str(problem),
            )
        else:
            self._line(f"{severity}: {problem}")

    def problems(self, errors: Sequence[Problem], warnings: Sequence[Problem] = (), shown: int = 0) -> None:
        """Errors, then warnings; in text, past ``shown`` errors (0: all) one ``... and N more``."""
        cut = errors[:shown] if shown and not self.json else errors
        for p in cut:
            self.problem(p, "error")
        if len(cut) < len(errors):
            self._line(f"error: ... and {len(errors) - len(cut)} more")
        for p in warnings:
            self.problem(p)

    def error(self, message: str, code: int, prefix: str = "error: ") -> None:
        """A failure that is not a schema problem (a file, DuckDB, a dgsql bug), with its exit code."""
        if self.json:
            self._event("error", message=message, exit_code=code)
        else:
            for line in message.splitlines():
                self._line(f"{prefix}{line}")

    def note(self, message: str) -> None:
        """Something the command did that the user should know (a key not declared, …)."""
        if self.quiet:
            return
        if self.json:
            self._event("note", message=message)
        else:
            self._line(f"note: {message}")

    def message(self, text: str, event: str = "message", **fields: Any) -> None:
        """A closing line (``ok: the schema is valid …``, ``interrupted …``)."""
        if self.quiet:
            return
        if self.json:
            self._event(event, message=text, **fields)
        else:
            self._line(text)

    def traceback(self) -> None:
        """The traceback of the exception being handled (``--debug``)."""
        import traceback

        text = traceback.format_exc()
        if self.json:
            self._event("traceback", text=text)
        else:
            self.stream.write(text)

    @property
    def shows_progress(self) -> bool:
        "Whether progress bars are drawn: text, not quiet, stderr a terminal."
        return not self.json and not self.quiet and self.stream.isatty()

    def table_started(self, table: str, expected_rows: float) -> None:
        self._expected[table] = expected_rows
        if self.json and not self.quiet:
            self._event("table_started", table=table, expected_rows=round(expected_rows))

    def table_progress(self, table: str, done: float, seconds: float) -> None:
        """``done`` in [0, 1] of ``table`` after ``seconds``: a bar with rows done (of the rows
        :meth:`table_started` expected) and time left, in text on a terminal, once the table has
        run :data:`SHOW_PROGRESS_AFTER` seconds."""
        bars = self._progress
        if bars is None or seconds < SHOW_PROGRESS_AFTER:
            return
        total = max(round(self._expected.get(table, 0)), 1)
        rows = min(round(done * total), total)
        detail = progress_text(done, seconds, total)
        if table not in self._bars:
            self._bars[table] = bars.add_task(table, total=total, detail=detail)
        bars.update(self._bars[table], completed=rows, detail=detail)

    def table_finished(self, table: str, rows: int, seconds: float) -> None:
        if table in self._bars and self._progress is not None:
            self._progress.remove_task(self._bars.pop(table))
        if self.quiet:
            return
        if self.json:
            self._event("table_finished", table=table, rows=rows, seconds=round(seconds, 4))
        else:
            self._line(f"  {table}: {rows:,} rows in {seconds:.2f} s")

    def built(self, result: BuildResult, out: str) -> None:
        """A build's summary: per table rows, seconds and rows per second, then the total."""
        if self.quiet:
            return
        if self.json:
            tables = [
                {"table": t.name, "rows": t.rows, "seconds": round(t.seconds, 4)} for t in result.tables
            ]
            self._event(
                "summary", command="build", out=out, rows=result.rows, seconds=round(result.seconds, 4),
                tables=tables,
            )  # fmt: skip
            return
        rows = [[t.name, f"{t.rows:,}", f"{t.seconds:.2f}", _rate(t.rows, t.seconds)] for t in result.tables]
        rows.append(
            ["total", f"{result.rows:,}", f"{result.seconds:.2f}", _rate(result.rows, result.seconds)]
        )
        self._table(f"wrote {out}", ["table", "rows", "seconds", "rows/s"], rows, left={0})

    def plan(self, dataset: str, tables: Sequence[PlannedTable]) -> None:
        """``check``'s plan: the tables in order with expected rows and estimated size."""
        if self.quiet:
            return
        rows = sum(t.expected_rows for t in tables)
        size = sum(t.estimated_bytes for t in tables)
        if self.json:
            planned = [
                {"table": t.name, "kind": t.kind, "expected_rows": round(t.expected_rows),
                 "estimated_bytes": round(t.estimated_bytes)}
                for t in tables
            ]  # fmt: skip
            self._event(
                "summary", command="check", dataset=dataset, expected_rows=round(rows),
                estimated_bytes=round(size), tables=planned,
            )  # fmt: skip
            return
        lines = [
            [str(i), t.name, t.kind, f"{t.expected_rows:,.0f}", size_text(t.estimated_bytes)]
            for i, t in enumerate(tables, 1)
        ]
        lines.append(["", "total", "", f"{rows:,.0f}", size_text(size)])
        self._table(
            f"plan of {dataset!r}", ["#", "table", "kind", "expected rows", "est. size"], lines, left={1, 2}
        )

    def report(self, report: Report) -> None:
        """A validation report: its terminal form, or ``{"event": "report", ...}`` with its JSON."""
        if self.quiet:
            return
        if self.json:
            self._event("report", **report.to_json())
        else:
            report.render(self.console())

    @contextmanager
    def running(self, what: str) -> Iterator[None]:
        """While a build runs: on a terminal (text, not quiet) a spinner and a progress bar for
        each table running over a second; elsewhere nothing."""
        if not self.shows_progress:
            yield
            return
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[detail]}"),
        )
        with Progress(*columns, console=self.console(), transient=True) as bars:
            bars.add_task(what, total=None, detail="")
            self._progress = bars
            try:
                yield
            finally:
                self._progress = None
                self._bars.clear()

    # -- rendering ---------------------------------------------------------------------------

    def _table(self, title: str, header: list[str], rows: list[list[str]], left: set[int]) -> None:
        """A plain table: ``title``, the header, a rule, the rows (the last one a total, after a
        rule); the columns numbered in ``left`` are aligned left (names), the others right.
        Plain text, not rich: importing rich costs a small build ~30 ms."""
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

        def line(cells: list[str]) -> str:
            return "  ".join(
                c.ljust(w) if i in left else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            ).rstrip()

        rule = "  ".join("-" * w for w in widths)
        for text in (title, line(header), rule, *map(line, rows[:-1]), rule, line(rows[-1])):
            self._line(text)

    def _line(self, text: str) -> None:
        if self._progress is not None:  # above the live bars, not through them
            self._progress.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=self.stream)

    def _event(self, event: str, **fields: Any) -> None:
        print(json.dumps({"event": event, **fields}, default=str), file=self.stream, flush=True)


def progress_text(done: float, seconds: float, expected_rows: float) -> str:
    """Rows done and time left of a table ``done`` (in [0, 1]) after ``seconds``.

    >>> progress_text(0.25, 3.0, 4_000_000)
    '~1,000,000 of ~4,000,000 rows, ETA 9 s'
    """
    total = max(round(expected_rows), 1)
    left = f"ETA {seconds * (1 - done) / done:,.0f} s" if done > 0 else "ETA unknown"
    return f"~{min(round(done * total), total):,} of ~{total:,} rows, {left}"


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds > 0 else "-"


def size_text(n: float) -> str:
    """Bytes for people: ``512 B``, ``1.5 KB``, ``2.0 GB``.

    >>> size_text(512), size_text(1536)
    ('512 B', '1.5 KB')
    """
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return ""
