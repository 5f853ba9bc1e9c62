"""A ``choice`` column's values come in their declared shares: Pearson's chi-square of the
observed count of each value against its declared share, within its 1-in-a-million bound
(:mod:`binned`).

Declared shares: ``weights`` normalised, or ``weights_kind`` (uniform, ``zipf@a``,
``head_tail@{h,a}``) over the choices in order (``dsl/laws.py``). With ``choices_ref`` every row
of the referenced table is a choice, in row order: uniform weights give each value its count
in that table; ranked weights need the rows' order, read from a ``sequence`` column of that
table (or the list of a vocab's ``enum_list`` column), and their shares are the generator's own
ranked pool (``templates/ranked_pool.sql.j2``). The choices go through the column's
``map_values``, ``multiply``, ``add`` and ``clamp`` modifiers and its cast in SQL, as the
generator's values do (values that map to the same value add up; values mapped to NULL, and
the ``null_rate`` NULLs, are left out). Other modifiers, an inequality the column is drawn
after, a parent's segment or vintage multiplier: not evaluated, with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from dgsql.compiler import behaviours, funnel, names
from dgsql.compiler.checks import binned
from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled, not_compiled
from dgsql.compiler.checks.views import table
from dgsql.compiler.column import fractional
from dgsql.compiler.context import ColumnContext
from dgsql.compiler.modifiers import MODIFIERS
from dgsql.compiler.sqltext import SQL_TYPES, Sql, double, fill, ident, join, typed_lit
from dgsql.compiler.templates import template
from dgsql.compiler.weights import CUMULATIVE
from dgsql.dsl import model as S
from dgsql.dsl.laws import kind_weights, normalise

KIND = "choice_shares"
CATEGORY = "statistical"
DECLARED_BY = None

VALUE_STEPS = ("map_values", "multiply", "add", "clamp")
"Modifiers that map each choice to one value: the declared shares go through them exactly."

LITERALS = "SELECT {value} AS v, w FROM (VALUES {rows}) AS d(x, w)"
REF_ROWS = "SELECT {value} AS v, 1.0 AS w FROM (SELECT {col} AS x FROM {table}) AS d"
RANKED = """\
SELECT {value} AS v, w FROM (
  SELECT value AS x, cum - coalesce(lag(cum) OVER (ORDER BY cum), 0) AS w FROM ({pool}) AS pool
) AS d"""
RANKED_ROWS = "(SELECT CAST(round(({seq} - {start}) / {step}) AS BIGINT) AS {row}, {col} FROM {table})"
"The referenced table with each row's index, read from its sequence column."


@dataclass(frozen=True)
class _Literal:
    """What a modifier's ``render`` reads of its column when it maps a literal (its type)."""

    column: S.Column


def value_sql(col: S.Column, ds: S.Dataset) -> Sql:
    """A choice ``x`` as the column holds it: the value modifiers, the rounding of an int
    column, the cast (``compiler/column.py``'s pipeline without its random parts)."""
    sql = "x"
    site = cast(ColumnContext, _Literal(col))
    for mod in col.modifiers:
        sql = MODIFIERS[mod.transform].render(mod.args, sql, site)
    if col.type == "int" and fractional(col, ds):
        sql = f"round({sql})"
    return Sql(f"CAST({sql} AS {SQL_TYPES[col.type]})")


def _declared(ctx: CheckContext, node: S.Node, col: S.Column, spec: S.ChoiceSpec) -> Sql | str:
    """The declared (value, weight) rows, or why they cannot be known."""
    value = value_sql(col, ctx.dataset)
    kind, params = S.parse_weights_kind(spec.weights_kind or "uniform")
    if spec.choices is not None:
        weights = spec.weights if spec.weights is not None else kind_weights(kind, params, len(spec.choices))
        return _literal_rows(spec.choices, normalise(list(weights)), col, value)
    assert spec.choices_ref is not None
    ref_table, ref_name, ref_col, problem = ctx.resolve(spec.choices_ref)
    if problem is not None or ref_col is None:
        return problem or f"no column {spec.choices_ref}"
    if kind == "uniform":
        return fill(REF_ROWS, value=value, col=ident(ref_name), table=table(ref_table))
    gen = ref_col.generator
    if isinstance(gen, S.EnumListGen):
        values = gen.enum_list.values
        return _literal_rows(values, normalise(kind_weights(kind, params, len(values))), ref_col, value)
    ref_node = ctx.nodes[ref_table]
    seq = next((c for c in ref_node.written if isinstance(c.generator, S.SequenceGen)), None)
    if seq is None:
        return (
            f"ranked weights follow {ref_table}'s row order, which its file does not record "
            "(no sequence column to read it from)"
        )
    step = seq.generator.sequence.step
    rows = fill(
        RANKED_ROWS,
        seq=ident(seq.name),
        start=double(seq.generator.sequence.start),
        step=double(step),
        row=Sql(names.ROW),
        col=ident(ref_name),
        table=table(ref_table),
    )
    zipf, (h, a) = (params[0], (None, None)) if kind == "zipf" else (None, params)
    pool = template("ranked_pool.sql.j2").render(
        table=rows,
        column=ident(ref_name),
        row=names.ROW,
        cumulative=CUMULATIVE.format(order=names.ROW),
        zipf=zipf,
        h=h,
        a=a,
    )
    return fill(RANKED, value=value, pool=Sql(pool))


def _literal_rows(choices: list[Any], shares: list[float], col: S.Column, value: Sql) -> Sql:
    rows = join(
        fill("({x}, {w})", x=typed_lit(c, col.type), w=double(w))
        for c, w in zip(choices, shares, strict=True)
    )
    return fill(LITERALS, value=value, rows=rows)


def declared_shares(ctx: CheckContext, node: S.Node, col: S.Column) -> Sql | str:
    """The declared ``(v, w)`` rows of a ``choice`` column (``w`` a weight, not normalised), or
    why they cannot be known."""
    assert isinstance(col.generator, S.ChoiceGen)
    bound = ctx.bound(node.id, col.name)
    other = [m.transform for m in col.modifiers if m.transform not in VALUE_STEPS]
    if other:
        return f"the {', '.join(dict.fromkeys(other))} modifier changes the values at random"
    if bound is not None and bound.after:
        return f"drawn after {', '.join(bound.after)} (an inequality truncates the declared shares)"
    if behaviours.value_scaled(ctx.dataset, node, col.name):
        return "a parent's segment or vintage multiplier scales the column"
    return _declared(ctx, node, col, col.generator.choice)


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for node in ctx.dataset.nodes:
        roles = funnel.roles(node)
        for col in node.written:
            gen = col.generator
            if not isinstance(gen, S.ChoiceGen) or col.name in roles:
                continue  # a funnel sets its stage columns itself
            spec = gen.choice
            ref = f"{node.id}.{col.name}"
            source = ctx.column_path(node.id, col.name) + ".generator.choice"
            declared = declared_shares(ctx, node, col)
            if not isinstance(declared, Sql):
                yield not_compiled(KIND, CATEGORY, ref, source, declared)
                continue
            sql = binned.chi_square(binned.categories(declared, table(node.id), ident(col.name)))
            expect: dict[str, Any] = {
                "choices": spec.choices if spec.choices is not None else spec.choices_ref,
                "weights": spec.weights if spec.weights is not None else (spec.weights_kind or "uniform"),
                **binned.parameters(),
            }
            yield compiled(KIND, CATEGORY, ref, sql=sql, mode="stat", source=source, expect=expect, law=True)
