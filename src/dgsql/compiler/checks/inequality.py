"""``constraints.inequalities``: ``left op right`` holds in every row where both are non-NULL."""

from __future__ import annotations

from collections.abc import Iterator

from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled, not_compiled
from dgsql.compiler.checks.views import table
from dgsql.compiler.sqltext import Sql, fill, ident

KIND = "inequality"
CATEGORY = "constraint"
DECLARED_BY = "inequalities"

OPERATORS = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "==": "="}

TEMPLATE = """\
SELECT {examples}
FROM {table}
WHERE {left} IS NOT NULL AND {right} IS NOT NULL AND NOT ({left} {op} {right})"""


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for i, ineq in enumerate(ctx.dataset.constraints.inequalities):
        source = f"constraints.inequalities[{i}]"
        target = f"{ineq.left} {ineq.op} {ineq.right}"
        lt, lc, _, problem = ctx.resolve(ineq.left)
        rt, rc, _, problem_r = ctx.resolve(ineq.right)
        problem = problem or problem_r
        if problem is None and lt != rt:
            problem = (
                f"left is in {lt!r} and right in {rt!r}; an inequality compares two columns of one table"
            )
        if problem:
            yield not_compiled(KIND, CATEGORY, target, source, problem)
            continue
        yield compiled(
            KIND,
            CATEGORY,
            ineq.left,
            id=f"{KIND}:{target}",
            sql=fill(
                TEMPLATE,
                examples=ctx.example_columns(lt, "", lc, rc),
                table=table(lt),
                left=ident(lc),
                right=ident(rc),
                op=Sql(OPERATORS[ineq.op]),
            ),
            source=source,
            expect={"left": ineq.left, "op": ineq.op, "right": ineq.right},
        )
