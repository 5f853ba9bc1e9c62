"""The error types the CLI maps to exit codes (see docs/cli.md)."""

from __future__ import annotations

from collections.abc import Sequence

from dgsql.dsl.problems import Problem


class DgsqlError(Exception):
    exit_code = 4


class SchemaError(DgsqlError):
    """One or more problems in a schema, each ``json.path: what is wrong; what to do.``

    ``warnings`` are shown with the errors (they do not fail the schema on their own)."""

    exit_code = 2
    max_shown = 50

    def __init__(self, problems: Sequence[str | Problem], warnings: Sequence[Problem] = ()):
        unique: dict[str, str | Problem] = {}
        for p in problems:
            unique.setdefault(str(p), p)
        self.problems: list[Problem] = [_problem(p) for p in unique.values()]
        "Each with ``path`` and ``message``; ``str(problem)`` is the line the CLI prints."
        self.warnings = list(warnings)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        shown = [str(p) for p in self.problems[: self.max_shown]]
        rest = len(self.problems) - len(shown)
        return shown + ([f"... and {rest} more"] if rest else [])


def _problem(p: str | Problem) -> Problem:
    """A problem given as its line ``path: message`` split back into its parts."""
    if isinstance(p, Problem):
        return p
    path, sep, message = p.partition(": ")
    return Problem(path, message) if sep else Problem("$", p)


class UsageError(DgsqlError):
    """Bad arguments or files (not the schema's content)."""

    exit_code = 2


class EngineError(DgsqlError):
    """An external system failed while running a valid script: DuckDB out of memory or disk,
    a locked or unwritable file."""

    exit_code = 3


class InternalError(DgsqlError):
    """dgsql wrote SQL that DuckDB rejects, or broke one of its own rules: a bug to report."""

    exit_code = 4
