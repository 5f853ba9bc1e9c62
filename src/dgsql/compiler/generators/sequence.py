"""``sequence: {start, step}`` → ``start + step * row``."""

from __future__ import annotations

import math
from collections.abc import Mapping

from dgsql.compiler.context import ColumnContext, Fragment
from dgsql.compiler.kind import GeneratorKind
from dgsql.compiler.sqltext import lit
from dgsql.dsl import model as S


class Sequence(GeneratorKind):
    key = "sequence"
    always_pure = True
    types = ("int", "float", "string", "bool")

    def capacity(
        self, spec: S.SequenceSpec, column: S.Column, ds: S.Dataset, expected: Mapping[str, float]
    ) -> float:
        return math.inf if spec.step != 0 else 1

    def fractional(self, spec: S.SequenceSpec, column: S.Column, ds: S.Dataset) -> bool:
        return not (float(spec.start).is_integer() and float(spec.step).is_integer())

    def sequence(self, spec: S.SequenceSpec, column: S.Column) -> tuple[float, float] | None:
        integral = float(spec.start).is_integer() and float(spec.step).is_integer()
        if column.type == "float" or (column.type == "int" and integral):
            return spec.start, spec.step
        return None

    def render(self, spec: S.SequenceSpec, ctx: ColumnContext) -> Fragment:
        return Fragment(
            arithmetic(spec.start, spec.step, ctx.row), sql_type=integer_type(spec.start, spec.step)
        )


def arithmetic(start: float, step: float, row: str) -> str:
    """``start + step * row`` without the terms that do nothing.

    >>> arithmetic(1, 1, "r"), arithmetic(0, 2, "r"), arithmetic(0, 1, "r"), arithmetic(0.5, 0.25, "r")
    ('(1 + r)', '(2 * r)', '(r)', '(0.5 + 0.25 * r)')
    """
    times = row if step == 1 else f"{lit(step)} * {row}"
    if start == 0:
        return f"({times})"
    return f"({lit(start)} + {times})"


def integer_type(start: float, step: float) -> str | None:
    """BIGINT when the arithmetic is on integer literals (the row index is a BIGINT)."""
    return "BIGINT" if isinstance(start, int) and isinstance(step, int) else None
