"""``constraints.inequalities``: ``left op right`` holds in every row where both are non-NULL.

Between two tables linked by a lookup (a column of the child looks up the parent's primary
key, ``compiler/linked.py``), it holds for every child row and its parent row, through that
join; between two tables no lookup links, it is not evaluated."""

from __future__ import annotations

from collections.abc import Iterator

from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled, not_compiled
from dgsql.compiler.checks.views import table
from dgsql.compiler.linked import crossings
from dgsql.compiler.sqltext import Sql, fill, ident, qualified

KIND = "inequality"
CATEGORY = "constraint"
DECLARED_BY = "inequalities"

OPERATORS = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "==": "="}

TEMPLATE = """\
SELECT {examples}
FROM {table}
WHERE {left} IS NOT NULL AND {right} IS NOT NULL AND NOT ({left} {op} {right})"""

LINKED = """\
SELECT {examples}, {parent_value}
FROM {child} AS c JOIN {parent} AS p ON c.{key} = p.{pk}
WHERE {parent_value} IS NOT NULL AND {child_value} IS NOT NULL AND NOT ({parent_value} {op} {child_value})"""


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    linked = {c.index: c for c in crossings(ctx.dataset)}
    for i, ineq in enumerate(ctx.dataset.constraints.inequalities):
        source = f"constraints.inequalities[{i}]"
        target = f"{ineq.left} {ineq.op} {ineq.right}"
        lt, lc, _, problem = ctx.resolve(ineq.left)
        rt, rc, _, problem_r = ctx.resolve(ineq.right)
        problem = problem or problem_r
        crossing = linked.get(i)
        if problem is None and lt != rt and (crossing is None or crossing.link is None):
            problem = (
                f"left is in {lt!r} and right in {rt!r}, tables that no lookup links "
                "(a column of one that looks up the other's primary key)"
            )
        if problem:
            yield not_compiled(KIND, CATEGORY, target, source, problem)
            continue
        expect = {"left": ineq.left, "op": ineq.op, "right": ineq.right}
        if crossing is not None and crossing.link is not None:
            link = crossing.link
            sql = fill(
                LINKED,
                examples=ctx.example_columns(link.child, "c", link.key, crossing.child_column),
                parent_value=qualified("p", crossing.parent_column),
                child_value=qualified("c", crossing.child_column),
                child=table(link.child),
                parent=table(link.parent),
                key=ident(link.key),
                pk=ident(link.pk),
                op=Sql(OPERATORS[crossing.op]),
            )
            expect["through"] = f"{link.child}.{link.key} = {link.parent}.{link.pk}"
        else:
            sql = fill(
                TEMPLATE,
                examples=ctx.example_columns(lt, "", lc, rc),
                table=table(lt),
                left=ident(lc),
                right=ident(rc),
                op=Sql(OPERATORS[ineq.op]),
            )
        yield compiled(
            KIND, CATEGORY, ineq.left, id=f"{KIND}:{target}", sql=sql, source=source, expect=expect
        )
