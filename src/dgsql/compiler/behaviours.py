"""Segment and vintage behaviours: an entity's rows scale their children.

An entity's ``segment_behavior`` and ``vintage_behavior`` act on its **child facts** (the facts
whose primary parent it is): per parent row, a factor multiplies the child count (before the
fanout's one rounding, ``render._fanout_count``) and factors multiply named numeric child
columns (after their modifiers, before the cast). Every factor is a pure function of the parent
row: it is computed once per parent in the fanout table and carried to the children.

This module is the one definition of those factors, as SQL over a parent alias: the compiler
renders them over the kept parent table, the checks of validate over the parent's file.

- segment: ``CASE CAST(p.segment AS VARCHAR) WHEN 'vip' THEN 3.5 … ELSE 1.0 END``;
- vintage: the parent's age, ``greatest(timeframe end − created_at, 0)`` in days / 30 (month) /
  365 (year), through the curve: a list indexed by the rounded age (its last entry beyond), or
  ``a+b·age``, ``a·e^(b·age)``, ``a+b·ln(age+1)`` floored at 0; a NULL ``created_at`` gives 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dgsql.compiler import funnel, names
from dgsql.compiler.context import epoch_us
from dgsql.compiler.sqltext import double, doubles, ident, lit
from dgsql.dsl import model as S
from dgsql.dsl.resolve import References
from dgsql.dsl.types import NUMBERS, TIMES

UNIT_DAYS = {"day": 1, "month": 30, "year": 365}
US_PER_DAY = 86_400_000_000
KEY_GENERATORS = (S.SequenceGen, S.LookupGen)
'Generators whose numbers are keys (``applies_to: "all"`` leaves them alone).'


def children(ds: S.Dataset, entity: S.Node) -> list[S.Node]:
    """The facts whose primary parent is ``entity``."""
    return [n for n in ds.nodes if n.kind == "fact" and n.parents and n.parents[0] == entity.id]


def scaled_by_all(fact: S.Node) -> list[str]:
    """The columns ``applies_to: "all"`` scales: every int or float column that is not the pk
    nor a key (a ``sequence`` or a ``lookup``) nor a column a funnel sets."""
    roles = funnel.roles(fact)
    return [
        c.name
        for c in fact.columns
        if c.type in NUMBERS
        and c.name != fact.pk
        and not isinstance(c.generator, KEY_GENERATORS)
        and c.name not in roles
    ]


def segment_text(value: object) -> str:
    """A segment value as the SQL compares it with the ``behaviors`` keys (DuckDB's text form)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def segment_sql(seg: S.SegmentBehavior, alias: str, field: str) -> str | None:
    """The parent row's ``field`` (``fanout_multiplier`` or ``value_multiplier``), or None when
    every segment has 1."""
    arms = [(k, getattr(e, field)) for k, e in seg.behaviors.items() if getattr(e, field) != 1.0]
    if not arms:
        return None
    whens = " ".join(f"WHEN {lit(k)} THEN {double(v)}" for k, v in arms)
    return f"CASE CAST({alias}.{ident(seg.segment_column)} AS VARCHAR) {whens} ELSE 1.0::DOUBLE END"


def age_sql(created: str, end: datetime, unit: str) -> str:
    """The age at ``end`` of a row created at ``created``, in ``unit``s, floored at 0."""
    us = US_PER_DAY * UNIT_DAYS[unit]
    return f"greatest(({epoch_us(end)} - epoch_us(CAST({created} AS TIMESTAMP))) / {double(us)}, 0.0)"


def curve_sql(curve: S.AgeMultiplier, age: str) -> str:
    """The curve's multiplier at ``age`` (1 when the age is NULL)."""
    p = curve.parametric
    if p is None:
        assert isinstance(curve.curve, list)
        last = len(curve.curve) - 1
        value = f"{doubles(curve.curve)}[least(CAST(round({age}) AS BIGINT), {last}) + 1]"
    else:
        a, b = double(p.params.a), double(p.params.b)
        value = {
            "linear": f"{a} + {b} * {age}",
            "exponential": f"{a} * exp({b} * {age})",
            "logarithmic": f"{a} + {b} * ln({age} + 1)",
        }[p.curve_type]
        value = f"greatest({value}, 0.0)"
    return f"coalesce({value}, 1.0::DOUBLE)"


@dataclass(frozen=True)
class Scaling:
    """How a fact's primary parent scales it."""

    fact: S.Node
    parent: S.Node
    segment: S.SegmentBehavior | None
    "The parent's segment behaviour, when it has ``behaviors``."
    vintage: S.VintageBehavior | None
    end: datetime | None
    "The timeframe's end (ages are measured to it)."

    def curves(self, target: str) -> list[S.AgeMultiplier]:
        """The vintage curves scaling ``target`` (``"fanout"`` or a column of the fact)."""
        if self.vintage is None or (target == "fanout" and self.fact.stage_config is not None):
            return []  # a funnel's stages are its count
        found = []
        for curve in self.vintage.age_based_multipliers.values():
            named = curve.targets
            if target in named or (
                "all" in named and (target == "fanout" or target in scaled_by_all(self.fact))
            ):
                found.append(curve)
        return found

    def curve_sql(self, curve: S.AgeMultiplier, alias: str) -> str:
        assert self.vintage is not None and self.end is not None
        created = f"{alias}.{ident(self.vintage.created_at_column)}"
        return curve_sql(curve, age_sql(created, self.end, curve.time_unit))

    def fanout_factors(self, alias: str) -> list[str]:
        """SQL factors of the parent row's child count (none for a funnel: its stages are its count)."""
        found = []
        if self.segment is not None and self.fact.stage_config is None:
            seg = segment_sql(self.segment, alias, "fanout_multiplier")
            found += [seg] if seg else []
        return found + [self.curve_sql(c, alias) for c in self.curves("fanout")]

    def value_factors(self, column: str, alias: str) -> list[str]:
        """SQL factors of ``column`` of a child row, over its parent row."""
        found = []
        if self.segment is not None and column in self.segment.applies_to_columns:
            seg = segment_sql(self.segment, alias, "value_multiplier")
            found += [seg] if seg else []
        return found + [self.curve_sql(c, alias) for c in self.curves(column)]

    def bounded(self, column: S.Column) -> bool:
        """Whether ``column`` is drawn within [the parent's created_at, timeframe end]: a
        ``datetime`` or ``date`` column of the fact generated by a ``datetime_series`` (not a
        funnel's stage time, which starts at the parent's first datetime column). A date is
        drawn as a time after created_at, then cut to its day: never before created_at's day."""
        return (
            self.vintage is not None
            and column.type in ("datetime", "date")
            and isinstance(column.generator, S.DatetimeSeriesGen)
            and column.name not in funnel.roles(self.fact)
        )

    def created_at(self, alias: str) -> str:
        assert self.vintage is not None
        return f"CAST({alias}.{ident(self.vintage.created_at_column)} AS TIMESTAMP)"


def scaling(ds: S.Dataset, fact: S.Node) -> Scaling | None:
    """How ``fact``'s primary parent scales it, or None when it does not."""
    if fact.kind != "fact" or not fact.parents:
        return None
    parent = next((n for n in ds.nodes if n.id == fact.parents[0]), None)
    if parent is None:
        return None
    seg = parent.segment_behavior if parent.segment_behavior and parent.segment_behavior.behaviors else None
    vintage = parent.vintage_behavior
    if seg is None and vintage is None:
        return None
    end = ds.timeframe.end if ds.timeframe is not None else None
    return Scaling(fact, parent, seg, vintage, end)


FACTOR = f"{names.RESERVED_PREFIX}factor"
"Prefix of a fanout table's per-parent value factors (``__dg_factor0``, …)."
CREATED = f"{names.RESERVED_PREFIX}created"
"The parent row's created_at, carried to its children (their datetime_series are drawn after it)."


def check(refs: References, path: str, node: S.Node) -> None:
    """Every problem of ``node``'s behaviours: the columns they name exist, have the right types
    and are written (the children and the checks read them from the entity's file)."""
    seg = node.segment_behavior
    vintage = node.vintage_behavior
    if seg is None and vintage is None:
        return
    kids = children(refs.ds, node)
    if seg is not None:
        where = f"{path}.segment_behavior"
        col = refs.column(f"{where}.segment_column", node, seg.segment_column)
        if col is not None:
            refs.read(f"{where}.segment_column", node, col, reader=kids[0].id if kids else None)
        if seg.behaviors and not kids:
            refs.warn(where, f"no fact has {node.id!r} as its first parent, so the behaviours scale nothing.")
        _named_columns(refs, f"{where}.applies_to_columns", node, kids, seg.applies_to_columns)
        _funnel_weights(refs, where, node, seg, col)
    if vintage is not None:
        where = f"{path}.vintage_behavior"
        refs.typed(
            f"{where}.created_at_column",
            node,
            vintage.created_at_column,
            TIMES,
            reader=kids[0].id if kids else None,
        )
        if refs.ds.timeframe is None:
            refs.problem(where, "ages are measured to the timeframe's end; add a timeframe.")
        for name, curve in vintage.age_based_multipliers.items():
            named = [t for t in curve.targets if t not in ("fanout", "all")]
            _named_columns(refs, f"{where}.age_based_multipliers.{name}.applies_to", node, kids, named)


def _named_columns(refs: References, where: str, node: S.Node, kids: list[S.Node], named: list[str]) -> None:
    for k, name in enumerate(named):
        path = f"{where}[{k}]" if where.endswith("columns") else where
        found = [(f, c) for f in kids for c in f.columns if c.name == name]
        if not found:
            tables = ", ".join(repr(f.id) for f in kids) or "none"
            refs.problem(
                path,
                f"no child fact of {node.id!r} has a column {name!r} (its child facts: {tables}); name one.",
            )
        for fact, col in found:
            if col.type not in NUMBERS:
                refs.problem(
                    path,
                    f"{fact.id}.{name} is a {col.type}; a multiplier scales int or float columns only.",
                )


def _funnel_weights(
    refs: References, where: str, node: S.Node, seg: S.SegmentBehavior, col: S.Column | None
) -> None:
    """The funnel form's shares: reported as the segment column's choice weights when used."""
    if not any(s.base_probability is not None for s in seg.segments.values()) or col is None:
        return
    if node._weights_from_segments:
        refs.warn(
            f"{where}.segments",
            f"the base_probability of each segment is used as the choice weights of {node.id}.{col.name} "
            "(it has none of its own); give the choice weights to silence this.",
        )
    spec = col.generator.choice if isinstance(col.generator, S.ChoiceGen) else None
    if spec is not None and spec.choices is not None:
        unknown = [k for k in seg.segments if k not in {segment_text(c) for c in spec.choices}]
        if unknown:
            refs.problem(
                f"{where}.segments",
                f"{', '.join(map(repr, unknown))} {'is' if len(unknown) == 1 else 'are'} not among the choices of "
                f"{node.id}.{col.name}; name its choices.",
            )
        elif spec.weights is None and spec.weights_kind is None and not node._weights_from_segments:
            refs.problem(
                f"{where}.segments", "every base_probability is 0; give at least one positive share."
            )


def value_scaled(ds: S.Dataset, fact: S.Node, column: str) -> bool:
    """Whether a parent's segment or vintage multiplies ``column`` of ``fact``."""
    s = scaling(ds, fact)
    return s is not None and bool(s.value_factors(column, names.PARENT_ALIAS))


def time_bounded(ds: S.Dataset, fact: S.Node, column: S.Column) -> bool:
    """Whether ``column`` of ``fact`` is drawn after its parent's created_at (a vintage)."""
    s = scaling(ds, fact)
    return s is not None and s.bounded(column)
