"""``sequence: {start, step}`` → ``start + step * row``."""

from __future__ import annotations

import math
from collections.abc import Mapping

from dgsql.compiler.context import ColumnContext, Fragment
from dgsql.compiler.facts import TableFacts
from dgsql.compiler.kind import GeneratorKind
from dgsql.compiler.sqltext import lit
from dgsql.dsl import model as S


class Sequence(GeneratorKind):
    key = "sequence"
    types = ("int", "float", "string", "bool")

    def capacity(self, spec: S.SequenceSpec, column: S.Column, ds: S.Dataset, expected: Mapping[str, float]) -> float:
        return math.inf if spec.step != 0 else 1

    def fractional(self, spec: S.SequenceSpec, column: S.Column, ds: S.Dataset) -> bool:
        return not (float(spec.start).is_integer() and float(spec.step).is_integer())

    def pure(self, spec: S.SequenceSpec, column: S.Column, node: S.Node, ds: S.Dataset, known: Mapping[str, TableFacts]) -> bool:
        return True

    def sequence(self, spec: S.SequenceSpec, column: S.Column) -> tuple[float, float] | None:
        integral = float(spec.start).is_integer() and float(spec.step).is_integer()
        if column.type == "float" or (column.type == "int" and integral):
            return spec.start, spec.step
        return None

    def render(self, spec: S.SequenceSpec, ctx: ColumnContext) -> Fragment:
        return Fragment(f"({lit(spec.start)} + {lit(spec.step)} * {ctx.row})")
