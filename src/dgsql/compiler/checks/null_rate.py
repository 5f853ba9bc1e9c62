"""A column with ``null_rate`` holds that share of NULLs: the NULL/non-NULL counts against
``(rate, 1 − rate)`` by Pearson's chi-square (one degree of freedom) within its 1-in-a-million
bound (:mod:`binned`); not evaluated while either count is expected below 50.

The build draws each row's NULL with its own uniform after everything else, so the share is
exactly ``rate`` when the value itself is never NULL: a ``sequence``, ``distribution``,
``datetime_series``, ``faker`` or literal ``choice`` without a NULL choice, and no modifier that
maps to NULL. Other generators may add NULLs of their own (a lookup with no match, an
expression over a nullable column): not evaluated, with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator

from dgsql.compiler import funnel
from dgsql.compiler.checks import binned
from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled, not_compiled
from dgsql.compiler.checks.views import table
from dgsql.compiler.modifiers import MODIFIERS
from dgsql.compiler.sqltext import double, fill, ident
from dgsql.dsl import model as S

KIND = "null_rate"
CATEGORY = "statistical"
DECLARED_BY = None

NEVER_NULL = (S.SequenceGen, S.DistributionGen, S.DatetimeSeriesGen, S.FakerGen)
"Generators whose value is never NULL by itself."

CELLS = """\
WITH counted AS (SELECT count(*) AS n, count({col}) AS filled FROM {table}),
cells AS (
  SELECT 0 AS k, {rate} AS p, n - filled AS o FROM counted
  UNION ALL SELECT 1 AS k, 1 - {rate} AS p, filled AS o FROM counted
),"""


def _own_nulls(col: S.Column, node: S.Node, ctx: CheckContext) -> str | None:
    """Why the value may be NULL before the ``null_rate`` draw, or None."""
    gen = col.generator
    literal_choice = isinstance(gen, S.ChoiceGen) and gen.choice.choices is not None
    if literal_choice and any(c is None for c in gen.choice.choices or []):
        return "a choice is NULL"
    if not (isinstance(gen, NEVER_NULL) or literal_choice):
        return f"a {type(gen).__name__.removesuffix('Gen').lower()} generator may give NULLs of its own"
    mapped = [m.transform for m in col.modifiers if MODIFIERS[m.transform].yields_null(m.args)]
    if mapped:
        return f"the {mapped[0]} modifier maps values to NULL"
    bound = ctx.bound(node.id, col.name)
    if bound is not None and bound.reads:
        return f"its value depends on {', '.join(bound.reads)} (an inequality), which may be NULL"
    if col.name in funnel.roles(node):
        return "a funnel sets the column"
    return None


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for node in ctx.dataset.nodes:
        for col in node.written:
            rate = col.null_rate
            if not col.nullable or not rate:
                continue
            ref = f"{node.id}.{col.name}"
            source = ctx.column_path(node.id, col.name) + ".null_rate"
            problem = _own_nulls(col, node, ctx)
            if problem is not None:
                yield not_compiled(KIND, CATEGORY, ref, source, problem)
                continue
            cells = fill(CELLS, col=ident(col.name), table=table(node.id), rate=double(rate))
            extra = fill(" {rate} AS declared_rate,", rate=double(rate))
            yield compiled(
                KIND,
                CATEGORY,
                ref,
                sql=binned.chi_square(cells, extra),
                mode="stat",
                law=True,
                source=source,
                expect={"null_rate": rate, **binned.parameters()},
            )
