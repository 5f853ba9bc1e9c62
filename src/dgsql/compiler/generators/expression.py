"""``expression: {code}``: safe arithmetic over the row's own columns.

The code is parsed by sqlglot and every node is checked against a whitelist:
column names, numbers, ``+ - * / %``, parentheses, comparisons, ``and or not``
and the functions in :data:`FUNCTIONS`. Anything else is a schema error that
quotes the expression. ``log(x)`` is the natural log (as in Python/NumPy,
which Datagen used); ``ln`` is its synonym.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from dgsql.compiler.context import ColumnContext, Fragment
from dgsql.compiler.kind import GeneratorKind, Site
from dgsql.compiler.sqltext import DIALECT
from dgsql.dsl import model as S

FUNCTIONS: dict[type[exp.Expression], str] = {
    exp.Abs: "abs",
    exp.Round: "round",
    exp.Floor: "floor",
    exp.Ceil: "ceil",
    exp.Least: "least",
    exp.Greatest: "greatest",
    exp.Sqrt: "sqrt",
    exp.Exp: "exp",
    exp.Ln: "ln",
    exp.Log: "log",
    exp.Pow: "pow",
    exp.Coalesce: "coalesce",
}
ALLOWED = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.Neg,
    exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod,
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.And, exp.Or, exp.Not,
    *FUNCTIONS,
)  # fmt: skip


class ExpressionError(ValueError):
    pass


NUMERIC_ONLY = (
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.Mod,
    exp.Neg,
    *(f for f in FUNCTIONS if f is not exp.Coalesce),
)
"Nodes whose column operands must be numbers."


def parse(code: str, columns: list[str], types: dict[str, str] | None = None) -> exp.Expression:
    """Parse and check ``code``; raises :class:`ExpressionError` with a fix.

    With the row's column ``types``, a non-numeric column inside arithmetic is an error too."""
    quoted = repr(code)
    try:
        trees = sqlglot.parse(code, read=DIALECT)
    except sqlglot.errors.SqlglotError:
        raise ExpressionError(
            f"expression {quoted} does not parse; use arithmetic over column names"
        ) from None
    if len(trees) != 1 or trees[0] is None:
        raise ExpressionError(f"expression {quoted} must be a single expression (no ';')")
    tree = trees[0]
    for node in tree.walk():
        if isinstance(node, exp.Anonymous):
            raise ExpressionError(
                f"expression {quoted}: function {node.name!r} is not allowed; use one of "
                + " ".join(sorted(FUNCTIONS.values()))
            )
        if not isinstance(node, ALLOWED):
            what = node.key.upper() if isinstance(node, exp.Func) else type(node).__name__
            raise ExpressionError(
                f"expression {quoted}: {what} is not allowed; use column names, numbers, + - * / %, "
                "comparisons, and/or/not and " + " ".join(sorted(FUNCTIONS.values()))
            )
        if isinstance(node, exp.Column):
            if node.table:
                raise ExpressionError(
                    f"expression {quoted}: {node.sql()!r} names a table; use this row's columns"
                )
            if node.name not in columns:
                raise ExpressionError(
                    f"expression {quoted}: unknown column {node.name!r}; columns are {', '.join(columns)}"
                )
            kind = (types or {}).get(node.name, "float")
            parent = node.parent.parent if isinstance(node.parent, exp.Paren) else node.parent
            if kind not in ("int", "float") and isinstance(parent, NUMERIC_ONLY):
                raise ExpressionError(
                    f"expression {quoted}: column {node.name!r} is a {kind}, not a number; "
                    "use numeric columns in arithmetic"
                )
    return tree


def columns_read(code: str, columns: list[str], types: dict[str, str] | None = None) -> list[str]:
    tree = parse(code, columns, types)
    return list(dict.fromkeys(c.name for c in tree.find_all(exp.Column)))


class Expression(GeneratorKind):
    key = "expression"
    always_pure = True

    def check(self, spec: S.ExpressionSpec, site: Site) -> None:
        node = site.node
        try:
            parse(spec.code, [c.name for c in node.columns], {c.name: c.type for c in node.columns})
        except ExpressionError as e:
            site.problem(".generator.expression", f"{e}.")

    def reads(self, spec: S.ExpressionSpec, column: S.Column, node: S.Node) -> list[str]:
        return columns_read(spec.code, [c.name for c in node.columns])

    def fractional(self, spec: S.ExpressionSpec, column: S.Column, ds: S.Dataset) -> bool:
        return True

    def render(self, spec: S.ExpressionSpec, ctx: ColumnContext) -> Fragment:
        tree = parse(spec.code, [c.name for c in ctx.node.columns])

        def natural_log(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Log) and not node.expression:
                return exp.Ln(this=node.this)
            return node

        def bind(node: exp.Expression) -> exp.Expression:
            # a same-row column, or its value recomputed at another row (a lookup's pick)
            if isinstance(node, exp.Column):
                if ctx.at_row is None:
                    return exp.column(exp.to_identifier(node.name, quoted=True), table=ctx.source)
                return exp.Paren(this=sqlglot.parse_one(ctx.col(node.name), read=DIALECT))
            return node

        tree = tree.transform(natural_log).transform(bind)
        # function names as written (a recomputed column brings dgsql's macros, dg_uniform…)
        return Fragment("(" + tree.sql(dialect=DIALECT, normalize_functions=False) + ")")
