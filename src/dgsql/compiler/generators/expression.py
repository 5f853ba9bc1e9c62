"""``expression: {code}``: safe arithmetic over the row's own columns, and time arithmetic.

The code is parsed by dgsql's own small parser (:mod:`dgsql.compiler.expression.syntax`) and
every node is checked against a whitelist: column names, numbers, ``+ - * / %``, parentheses,
comparisons, ``and or not``, the functions in :data:`FUNCTIONS` and the time functions in
:data:`TIME_FUNCTIONS`. Anything else is a schema error that quotes the expression. ``log(x)`` is
the natural log (as in Python/NumPy, which Datagen used); ``ln`` is its synonym. The types are
checked by :class:`~dgsql.compiler.expression.typing.Typing`, known offsets found by
:func:`~dgsql.compiler.expression.bounds.offset_of`.

sqlglot did this until 0.6.0; importing it (and its DuckDB dialect) cost 0.10–0.17 s of every
``dgsql build`` (issue 16), and the SQL written here is byte-identical to what it printed
(``tests/test_expression_syntax.py`` compares the two on generated expressions).
"""

from __future__ import annotations

from dgsql.compiler.context import ColumnContext, Fragment
from dgsql.compiler.expression.bounds import Offset, column_types, offset_of
from dgsql.compiler.expression.syntax import (
    FUNCTIONS,
    Column,
    ExpressionError,
    Func,
    Node,
    Paren,
    Raw,
    sql,
    transform,
)
from dgsql.compiler.expression.typing import (
    TIME_FUNCTIONS,
    TIMED,
    Typing,
    columns_read,
    fit_problem,
    parse,
    result_type,
)
from dgsql.compiler.kind import GeneratorKind, Site
from dgsql.dsl import model as S

__all__ = ["FUNCTIONS", "TIME_FUNCTIONS", "Expression", "ExpressionError", "Offset", "offset_of", "parse"]


def _node_of(column: S.Column, ds: S.Dataset) -> S.Node | None:
    return next((n for n in ds.nodes if any(c is column for c in n.columns)), None)


class Expression(GeneratorKind):
    key = "expression"
    always_pure = True

    def check(self, spec: S.ExpressionSpec, site: Site) -> None:
        node = site.node
        types = column_types(node)
        try:
            result = result_type(spec.code, types)
        except ExpressionError as e:
            site.problem(".generator.expression", f"{e}.")
            return
        time_column = next((c.name for c in node.columns if c.type in ("datetime", "date")), None)
        problem = fit_problem(spec.code, result, site.column.type, time_column)
        if problem:
            site.problem(".generator.expression", f"{problem}.")

    def reads(self, spec: S.ExpressionSpec, column: S.Column, node: S.Node) -> list[str]:
        return columns_read(spec.code, [c.name for c in node.columns])

    def fractional(self, spec: S.ExpressionSpec, column: S.Column, ds: S.Dataset) -> bool:
        """A number may be fractional; a time is not a number to round."""
        node = _node_of(column, ds)
        if node is None:
            return True
        try:
            return result_type(spec.code, column_types(node)) not in TIMED
        except ExpressionError:
            return True

    def offset(
        self, spec: S.ExpressionSpec, column: S.Column, node: S.Node, ds: S.Dataset
    ) -> tuple[str, float | None] | None:
        found = offset_of(spec, node, ds)
        return None if found is None else (found.base, found.low_us)

    def render(self, spec: S.ExpressionSpec, ctx: ColumnContext) -> Fragment:
        types = column_types(ctx.node)
        tree = parse(spec.code, list(types))
        tree = Typing(spec.code, types, lower=True).visit(tree)[1]

        def bind(node: Node) -> Node:
            # a same-row column, or its value recomputed at another row (a lookup's pick)
            if isinstance(node, Column):
                return Raw(ctx.col(node.name)) if ctx.at_row is None else Paren(Raw(ctx.col(node.name)))
            return node

        return Fragment("(" + sql(transform(_natural_log(tree), bind)) + ")")


def _natural_log(node: Node) -> Node:
    """``log(x)`` is the natural log, ``LN(x)``, at any depth (with sqlglot's top-down transform a
    log inside another one's argument stayed ``LOG``, which DuckDB reads as base 10)."""

    def natural(n: Node) -> Node:
        return Func("ln", n.args) if isinstance(n, Func) and n.name == "log" and len(n.args) == 1 else n

    return transform(node, natural)
