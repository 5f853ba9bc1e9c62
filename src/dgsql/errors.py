"""The error types the CLI maps to exit codes (see docs/cli.md)."""

from __future__ import annotations


class DgsqlError(Exception):
    exit_code = 4


class SchemaError(DgsqlError):
    """One or more problems in a schema, each ``json.path: what is wrong. what to do.``"""

    exit_code = 2
    max_shown = 50

    def __init__(self, problems: list[str]):
        self.problems = list(dict.fromkeys(problems))
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        shown = self.problems[: self.max_shown]
        rest = len(self.problems) - len(shown)
        return shown + ([f"... and {rest} more"] if rest else [])


class UsageError(DgsqlError):
    """Bad arguments or files (not the schema's content)."""

    exit_code = 2


class EngineError(DgsqlError):
    """DuckDB failed while running a valid script."""

    exit_code = 3
