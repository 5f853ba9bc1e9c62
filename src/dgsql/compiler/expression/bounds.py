"""Known offsets: ``base + D`` over a time column ``base``, with ``D`` bounded below by interval
arithmetic, so that an inequality between ``base`` and the column may be known to hold by
construction (:func:`offset_of`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from dgsql.compiler.expression.syntax import (
    Binary,
    Column,
    ExpressionError,
    Func,
    Neg,
    Node,
    Number,
    Paren,
    bare,
)
from dgsql.compiler.expression.typing import DURATION, DURATION_US, TIMES, Typing, parse, time_function
from dgsql.compiler.kind import generator_of
from dgsql.dsl import model as S

DAY_US = 86_400_000_000


def column_types(node: S.Node) -> dict[str, str]:
    """The row's columns → their DSL types."""
    return {c.name: c.type for c in node.columns}


@dataclass(frozen=True)
class Offset:
    """An expression ``base + D`` (or ``D + base``, ``base - D``) with ``D`` a duration."""

    base: str
    "The date/datetime column the expression adds to."
    low_us: float | None
    "Least possible value of (this column − base) in microseconds; None when unknown."


def offset_of(spec: S.ExpressionSpec, node: S.Node, ds: S.Dataset) -> Offset | None:
    """The offset of an expression column from a time column of its row, when the whole
    expression is ``base + D``, ``D + base`` or ``base - D`` (parentheses allowed), ``base`` a
    date/datetime column and ``D`` a duration — a sum of terms, one of them ``+ base`` and the
    others durations (``base + hours(x) - minutes(y)``); else None (also when the column is not
    a date or datetime).

    ``low_us`` bounds ``D`` below by interval arithmetic: literals; numeric columns without
    modifiers or ``null_rate`` through their generator's value range; ``+ - *``, ``/`` by a
    constant, unary minus, ``greatest least abs round floor ceil`` and the duration units. The
    column's own cast counts (a ``date`` column drops the time of day); a column with modifiers
    has an unknown offset. ``low_us`` is None when the bound is unknown (e.g. a normal draw
    without clamp)."""
    types = column_types(node)
    typing = Typing(spec.code, types)
    try:
        tree = parse(spec.code, list(types), types)
        typing.visit(tree)
    except ExpressionError:
        return None
    terms = _terms(tree)
    times = [(sign, t) for sign, t in terms if typing.type_of(t) in TIMES]
    if (
        len(terms) < 2
        or len(times) != 1
        or any(typing.type_of(t) != DURATION for _, t in terms if t is not times[0][1])
    ):
        return None
    sign, base = times[0]
    if sign < 0 or not isinstance(base, Column):
        return None
    column = next(
        (
            c
            for c in node.columns
            if isinstance(c.generator, S.ExpressionGen) and c.generator.expression is spec
        ),
        None,
    )
    if column is not None and column.type not in ("date", "datetime"):
        return None
    if column is not None and column.modifiers:
        return Offset(base.name, None)
    bounds = Bounds(node, ds, typing)
    low = 0.0
    for sign, term in terms:
        if term is not base:
            lo, hi = bounds.of(term)
            low += lo if sign > 0 else -hi
    if column is not None and column.type == "date" and math.isfinite(low):
        # the cast drops the time of day: a whole number of days from a date base, and up to a
        # day less than the offset from a datetime base
        low = math.floor(low / DAY_US) * DAY_US if types[base.name] == "date" else low - DAY_US + 1
    return Offset(base.name, low if math.isfinite(low) else None)


def _terms(node: Node, sign: int = 1) -> list[tuple[int, Node]]:
    """The signed terms of a sum (``a - (b - c)`` is +a, −b, +c), parentheses removed."""
    node = bare(node)
    if isinstance(node, Binary) and node.op == "+":
        return _terms(node.left, sign) + _terms(node.right, sign)
    if isinstance(node, Binary) and node.op == "-":
        return _terms(node.left, sign) + _terms(node.right, -sign)
    return [(sign, node)]


Interval = tuple[float, float]
UNKNOWN: Interval = (-math.inf, math.inf)


def _round_away(x: float, decimals: int = 0) -> float:
    """``x`` rounded half away from zero, as DuckDB's ``round`` (exact on the float's value)."""
    if not math.isfinite(x):
        return x
    return float(Decimal(x).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def _times(x: float, y: float) -> float:
    return 0.0 if x == 0 or y == 0 else x * y


class Bounds:
    """[lo, hi] of a checked expression's value over the rows: numbers as they are, durations
    in microseconds; ``±inf`` where unbounded or unknown."""

    def __init__(self, node: S.Node, ds: S.Dataset, typing: Typing):
        self.columns = {c.name: c for c in node.columns}
        self.ds = ds
        self.typing = typing
        "The types of the tree's nodes (it has visited them)."

    def of(self, node: Node) -> Interval:
        lo, hi = self._of(node)
        return (lo, hi) if lo <= hi else UNKNOWN

    def _of(self, node: Node) -> Interval:
        if isinstance(node, Paren):
            return self.of(node.this)
        if isinstance(node, Number):
            value = float(node.text)
            return value, value
        if isinstance(node, Column):
            return self.column(node.name)
        if isinstance(node, Neg):
            lo, hi = self.of(node.this)
            return -hi, -lo
        name = time_function(node)
        if name in DURATION_US:
            lo, hi = self.of(node.args[0])  # type: ignore[union-attr]
            unit = DURATION_US[name]
            return _round_away(lo * unit), _round_away(hi * unit)
        if isinstance(node, Binary) and node.op in ("+", "-", "*", "/"):
            (a, b), (c, d) = self.of(node.left), self.of(node.right)
            if node.op == "+":
                return a + c, b + d
            if node.op == "-":
                return a - d, b - c
            if node.op == "*":
                products = [_times(x, y) for x in (a, b) for y in (c, d)]
                lo, hi = min(products), max(products)
            elif c == d and c != 0 and math.isfinite(c):
                lo, hi = sorted((a / c, b / c))
            else:
                return UNKNOWN
            if self.typing.type_of(node) == DURATION:  # a duration times or over a number: rounded to the µs
                return _round_away(lo), _round_away(hi)
            return lo, hi
        if not isinstance(node, Func):
            return UNKNOWN
        fn, args = node.name, node.args
        if fn in ("greatest", "least"):
            bounds = [self.of(a) for a in args]
            pick = max if fn == "greatest" else min
            return pick(b[0] for b in bounds), pick(b[1] for b in bounds)
        if fn == "abs":
            lo, hi = self.of(args[0])
            if lo >= 0:
                return lo, hi
            if hi <= 0:
                return -hi, -lo
            return 0.0, max(-lo, hi)
        if fn in ("round", "floor", "ceil"):
            lo, hi = self.of(args[0])
            if fn == "floor":
                return _floor(lo), _floor(hi)
            if fn == "ceil":
                return -_floor(-lo), -_floor(-hi)
            if len(args) == 1:
                return _round_away(lo), _round_away(hi)
            places = self.of(args[1])
            if places[0] == places[1] and float(places[0]).is_integer() and abs(places[0]) < 300:
                half = 0.5 * 10 ** -int(places[0])
                return lo - half, hi + half
        return UNKNOWN

    def column(self, name: str) -> Interval:
        col = self.columns.get(name)
        if col is None or col.type not in ("int", "float") or col.modifiers or col.null_rate:
            return UNKNOWN
        kind, spec = generator_of(col)
        if kind.yields_null:
            return UNKNOWN
        found = kind.value_range(spec, col, self.ds)
        if found is None:
            return UNKNOWN
        lo, hi = float(found[0]), float(found[1])
        if col.type == "int":  # the column rounds its value half away from zero: a monotone map
            lo, hi = _round_away(lo), _round_away(hi)
        return lo, hi


def _floor(x: float) -> float:
    return float(math.floor(x)) if math.isfinite(x) else x
