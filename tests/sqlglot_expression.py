"""The expression generator as it was with sqlglot (dgsql until 0.x), kept as the oracle that
tests/test_expression_syntax.py holds dgsql's own parser and SQL writer to.

The code is parsed by sqlglot and every node is checked against a whitelist:
column names, numbers, ``+ - * / %``, parentheses, comparisons, ``and or not``,
the functions in :data:`FUNCTIONS` and the time functions in :data:`TIME_FUNCTIONS`.
Anything else is a schema error that quotes the expression. ``log(x)`` is the natural
log (as in Python/NumPy, which Datagen used); ``ln`` is its synonym.

Every node has a type — number, bool, string, date, datetime, duration — checked at
compile time (:class:`Typing`): a time plus a duration is a datetime, a time plus a
number is an error naming the duration function to use, and the result must fit the
column. A duration is an INTERVAL of whole microseconds: ``hours(x)`` renders
``to_microseconds(CAST(round((x) * 3600000000.0) AS BIGINT))``, exact to the
microsecond for fractional ``x`` (DuckDB's ``round`` goes half away from zero), NULL
for a NULL ``x``. Expressions without times render exactly as before.

:func:`offset_of` recognises ``base + D`` over a time column ``base`` and bounds ``D``
below by interval arithmetic, so that an inequality between ``base`` and the column may
be known to hold by construction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import sqlglot
from sqlglot import exp

from dgsql.compiler.context import ColumnContext, Fragment
from dgsql.compiler.kind import GeneratorKind, Site, generator_of
from dgsql.compiler.sqltext import lit
from dgsql.dsl import model as S

DIALECT = "duckdb"
"sqlglot's name of the SQL dialect dgsql writes."

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

# -- the time functions, by name ----------------------------------------------
DURATION_US = {"seconds": 1e6, "minutes": 6e7, "hours": 3.6e9, "days": 8.64e10, "weeks": 6.048e11}
"Duration functions and the microseconds in one unit."
DIFF_US = {"date_diff_days": 8.64e10, "date_diff_hours": 3.6e9}
"``date_diff_<unit>(a, b)``: b − a in the unit, a DOUBLE."
PARTS = ("date", "hour", "dow", "month")
"Parts of a date or datetime: ``date(ts)`` a DATE, the others numbers."
TIME_FUNCTIONS: dict[str, int] = {**dict.fromkeys(DURATION_US, 1), **dict.fromkeys(DIFF_US, 2),
                                  **dict.fromkeys(PARTS, 1)}  # fmt: skip
"Each time function and its number of arguments."


def _builtin_classes() -> dict[type[exp.Expression], str]:
    """The sqlglot classes some time functions parse to (``date(x)`` is ``exp.Date``, ``hour(x)``
    ``exp.Hour``…; which ones depends on sqlglot's version, so ask it) → the function's name."""
    found: dict[type[exp.Expression], str] = {}
    for name, arity in TIME_FUNCTIONS.items():
        node = sqlglot.parse_one(f"{name}({', '.join(['x'] * arity)})", read=DIALECT)
        if not isinstance(node, exp.Anonymous | exp.Cast) and type(node) not in FUNCTIONS:
            found[type(node)] = name
    return found


BUILTIN_TIME = _builtin_classes()
ALLOWED = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.Neg,
    exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod,
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.And, exp.Or, exp.Not,
    *FUNCTIONS, *BUILTIN_TIME,
)  # fmt: skip
FUNCTION_NAMES = " ".join([*sorted(FUNCTIONS.values()), *TIME_FUNCTIONS])
COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


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
"Nodes whose column operands must be numbers (but see :data:`TIME_OPERATIONS`)."
TIME_OPERATIONS = (exp.Add, exp.Sub, exp.Least, exp.Greatest)
"Nodes that take date and datetime columns too (:class:`Typing` checks how)."


def time_function(node: exp.Expression) -> str | None:
    """The time function ``node`` calls (``hours``, ``date``…), or None."""
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        return name if name in TIME_FUNCTIONS else None
    return BUILTIN_TIME.get(type(node))


def _arguments(node: exp.Expression) -> list[exp.Expression]:
    """A function call's arguments in order (an anonymous call's list, a built-in's set args)."""
    if isinstance(node, exp.Anonymous):
        return list(node.expressions)
    found: list[exp.Expression] = []
    for value in node.args.values():
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, exp.Expression):
                found.append(v)
    return found


def _text(node: exp.Expression) -> str:
    """``node`` as the user would write it (time functions by their DSL name)."""

    def as_written(n: exp.Expression) -> exp.Expression:
        name = time_function(n)
        if name is not None and not isinstance(n, exp.Anonymous):
            return exp.Anonymous(this=name, expressions=[a.copy() for a in _arguments(n)])
        return n

    return node.transform(as_written).sql(dialect=DIALECT, normalize_functions=False)


def parse(code: str, columns: list[str], types: Mapping[str, str] | None = None) -> exp.Expression:
    """Parse and check ``code``; raises :class:`ExpressionError` with a fix.

    With the row's column ``types``, the types of the expression are checked too (a non-numeric
    column inside arithmetic, a number added to a datetime…)."""
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
        if time_function(node) is not None:
            continue
        if isinstance(node, exp.Anonymous):
            raise ExpressionError(
                f"expression {quoted}: function {node.name!r} is not allowed; use one of {FUNCTION_NAMES}"
            )
        if not isinstance(node, ALLOWED):
            what = node.key.upper() if isinstance(node, exp.Func) else type(node).__name__
            raise ExpressionError(
                f"expression {quoted}: {what} is not allowed; use column names, numbers, + - * / %, "
                f"comparisons, and/or/not and {FUNCTION_NAMES}"
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
            timed = kind in ("date", "datetime") and isinstance(parent, TIME_OPERATIONS)
            if kind not in ("int", "float") and isinstance(parent, NUMERIC_ONLY) and not timed:
                raise ExpressionError(
                    f"expression {quoted}: column {node.name!r} is a {kind}, not a number; "
                    "use numeric columns in arithmetic"
                )
    if types is not None:
        Typing(code, types).visit(tree)
    return tree


def columns_read(code: str, columns: list[str], types: dict[str, str] | None = None) -> list[str]:
    tree = parse(code, columns, types)
    return list(dict.fromkeys(c.name for c in tree.find_all(exp.Column)))


# -- types --------------------------------------------------------------------
NUMBER, BOOL, STRING, DATE, DATETIME, DURATION, NULL = (
    "number", "bool", "string", "date", "datetime", "duration", "null",
)  # fmt: skip
TIMES = frozenset({DATE, DATETIME})
TIMED = frozenset({DATE, DATETIME, DURATION})
COLUMN_TYPES = {"int": NUMBER, "float": NUMBER, "bool": BOOL, "string": STRING, "date": DATE,
                "datetime": DATETIME}  # fmt: skip
"Column type → type of its value in an expression."
NUMBERS_FROM_TIMES = "date_diff_days(a, b), date_diff_hours(a, b), hour(ts), dow(ts) or month(ts)"


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _units(first: str) -> str:
    return f"{first}(x) (or {', '.join(u for u in DURATION_US if u != first)})"


class Typing:
    """Infers the type of every node of a checked tree: number, bool, string, date, datetime,
    duration or null (a NULL literal, which fits anything). Raises :class:`ExpressionError` at
    the first misuse, with the fix. With ``lower``, :meth:`visit` also replaces the time
    functions and the products of durations by their DuckDB form (other nodes are kept as
    they are, so an expression without times renders as it always did)."""

    def __init__(self, code: str, types: Mapping[str, str], lower: bool = False):
        self.quoted = repr(code)
        self.types = types
        self.lower = lower
        self.seen: dict[int, str] = {}
        "id of a visited node (and of the node put in its place) → its type."
        self.kept: list[exp.Expression] = []
        "The nodes of :attr:`seen`, kept alive so that their ids stay theirs."

    def error(self, text: str) -> ExpressionError:
        return ExpressionError(f"expression {self.quoted}: {text}")

    def visit(self, node: exp.Expression) -> tuple[str, exp.Expression]:
        """The type of ``node`` and the node to put in its place."""
        kind, new = self._visit(node)
        self.seen[id(node)] = self.seen[id(new)] = kind
        self.kept += (node, new)
        return kind, new

    def type_of(self, node: exp.Expression) -> str:
        """The type of a node visited before."""
        return self.seen[id(node)]

    def _sub(self, node: exp.Expression) -> str:
        """Visit an argument of a node, replacing it in the tree when lowered."""
        kind, new = self.visit(node)
        if new is not node:
            node.replace(new)
        return kind

    def _visit(self, node: exp.Expression) -> tuple[str, exp.Expression]:
        if isinstance(node, exp.Paren):
            return self._sub(node.this), node
        if isinstance(node, exp.Column):
            return COLUMN_TYPES.get(self.types.get(node.name, "float"), NUMBER), node
        if isinstance(node, exp.Literal):
            return (STRING if node.is_string else NUMBER), node
        if isinstance(node, exp.Boolean):
            return BOOL, node
        if isinstance(node, exp.Null):
            return NULL, node
        name = time_function(node)
        if name is not None:
            return self.time_call(name, node)
        if isinstance(node, exp.Neg):
            kind = self._sub(node.this)
            if kind in TIMES:
                raise self.error(f"-{_text(node.this)}: {_a(kind)} is not a number; {self.numbers_hint()}")
            return (kind if kind in (DURATION, NULL) else NUMBER), node
        if isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Div | exp.Mod):
            left, right = self._sub(node.this), self._sub(node.expression)
            return self.arithmetic(node, left, right)
        if isinstance(node, COMPARISONS):
            left, right = self._sub(node.this), self._sub(node.expression)
            return self.comparison(node, left, right), node
        if isinstance(node, exp.And | exp.Or | exp.Not):
            word = {exp.And: "and", exp.Or: "or", exp.Not: "not"}[type(node)]
            for arg in _arguments(node):
                kind = self._sub(arg)
                if kind in TIMED:
                    raise self.error(
                        f"{word} takes conditions, not {_a(kind)} ({_text(arg)}); compare it first, e.g. a < b"
                    )
            return BOOL, node
        if type(node) in FUNCTIONS:
            fn = FUNCTIONS[type(node)]
            kinds = [self._sub(arg) for arg in _arguments(node)]
            if fn in ("least", "greatest", "coalesce"):
                return self.same_kind(fn, kinds), node
            for arg, kind in zip(_arguments(node), kinds, strict=True):
                if kind in TIMED:
                    raise self.error(
                        f"{fn}() takes numbers, not {_a(kind)} ({_text(arg)}); " + self.numbers_hint(kind)
                    )
            return NUMBER, node
        raise AssertionError(f"expression node {type(node).__name__} passed the whitelist untyped")

    def numbers_hint(self, kind: str = DATETIME) -> str:
        if kind == DURATION:
            return "use it in + or - with a date or datetime, or multiply or divide it by a number"
        return f"take numbers from dates and datetimes with {NUMBERS_FROM_TIMES}"

    # -- rules --------------------------------------------------------------
    def arithmetic(self, node: exp.Expression, left: str, right: str) -> tuple[str, exp.Expression]:
        kinds = {left, right}
        if not kinds & TIMED:
            return NUMBER, node  # numbers as they always were (a bool or string operand included)
        if NULL in kinds:
            return NULL, node
        a, b = _text(node.this), _text(node.expression)
        if isinstance(node, exp.Add):
            if kinds == {DURATION} or kinds in ({DATE, DURATION}, {DATETIME, DURATION}):
                return (DURATION if kinds == {DURATION} else DATETIME), node
            if left in TIMES and right in TIMES:
                raise self.error(
                    f"{a} + {b} adds two times; add a duration to one of them instead, e.g. {a} + {_units('hours')}"
                )
            time, other, t_text, o_text = (left, right, a, b) if left in TIMED else (right, left, b, a)
            if time in TIMES and other == NUMBER:
                unit = "days" if time == DATE else "hours"
                raise self.error(
                    f"adds a number to {_a(time)}; make the number a duration: "
                    f"{t_text} + {unit}({o_text}) (or {', '.join(u for u in DURATION_US if u != unit)})"
                )
            if time == DURATION and other == NUMBER:
                raise self.error(
                    f"adds a number to a duration; make the number a duration too, e.g. {_units('hours')}"
                )
            raise self.error(f"adds {_a(other)} to {_a(time)}; add a duration to a date or datetime")
        if isinstance(node, exp.Sub):
            if left in TIMES and right == DURATION:
                return DATETIME, node
            if kinds == {DURATION}:
                return DURATION, node
            if left in TIMES and right in TIMES:
                raise self.error(
                    f"{a} - {b} subtracts two times; for the time between them as a number use "
                    f"date_diff_days({b}, {a}) or date_diff_hours({b}, {a}) ({a} − {b} in days or hours)"
                )
            if left in TIMES and right == NUMBER:
                unit = "days" if left == DATE else "hours"
                raise self.error(
                    f"subtracts a number from {_a(left)}; make the number a duration: "
                    f"{a} - {unit}({b}) (or {', '.join(u for u in DURATION_US if u != unit)})"
                )
            if left == DURATION and right == NUMBER:
                raise self.error(
                    f"subtracts a number from a duration; make the number a duration too, e.g. {_units('hours')}"
                )
            if left in TIMED:
                raise self.error(
                    f"subtracts {_a(right)} from {_a(left)}; subtract a duration from a date or datetime"
                )
            raise self.error(
                f"subtracts {_a(right)} ({b}) from {_a(left)}; subtract durations from dates and datetimes, "
                f"e.g. ts - {_units('hours')}"
            )
        op = {exp.Mul: "*", exp.Div: "/", exp.Mod: "%"}[type(node)]
        for kind, text in ((left, a), (right, b)):
            if kind in TIMES:
                raise self.error(f"{op} takes numbers, not {_a(kind)} ({text}); {self.numbers_hint()}")
        if isinstance(node, exp.Mul) and sorted(kinds) == [DURATION, NUMBER]:
            return DURATION, self.scaled(node.this, node.expression, exp.Mul) if self.lower else node
        if isinstance(node, exp.Div) and (left, right) == (DURATION, NUMBER):
            return DURATION, self.scaled(node.this, node.expression, exp.Div) if self.lower else node
        if isinstance(node, exp.Mul):
            raise self.error(f"{a} * {b}: a duration is multiplied by a number only, e.g. 2 * hours(x)")
        if isinstance(node, exp.Div):
            raise self.error(f"{a} / {b}: a duration is divided by a number only, e.g. hours(x) / 2")
        raise self.error(f"% takes numbers, not a duration; {self.numbers_hint(DURATION)}")

    def comparison(self, node: exp.Expression, left: str, right: str) -> str:
        kinds = {left, right} - {NULL}
        op = {exp.EQ: "=", exp.NEQ: "!=", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<="}[type(node)]
        a, b = f"{_text(node.this)} {op}", _text(node.expression)
        if kinds & TIMES and kinds - TIMES - {STRING}:
            other = next(iter(kinds - TIMES - {STRING}))
            raise self.error(
                f"{a} {b} compares a time with {_a(other)}; compare a date or datetime with another "
                "(or with a 'YYYY-MM-DD hh:mm:ss' string)"
            )
        if DURATION in kinds and kinds != {DURATION}:
            other = next(iter(kinds - {DURATION}))
            raise self.error(
                f"{a} {b} compares a duration with {_a(other)}; compare it with a duration such as hours(2)"
            )
        return BOOL

    def same_kind(self, fn: str, kinds: list[str]) -> str:
        found = set(kinds) - {NULL}
        if not found:
            return NULL
        times = found & TIMES
        if times or DURATION in found:
            fits = TIMES | {STRING} if times else {DURATION}
            if found - fits:
                first = next(iter(found & (TIMES | {DURATION})))
                other = next(iter(found - fits))
                raise self.error(f"{fn}() mixes {_a(first)} and {_a(other)}; give it values of one kind")
            if not times:
                return DURATION
            return DATETIME if DATETIME in times else DATE
        if found == {BOOL} or found == {STRING}:
            return next(iter(found))
        return NUMBER

    def time_call(self, name: str, node: exp.Expression) -> tuple[str, exp.Expression]:
        args = _arguments(node)
        arity = TIME_FUNCTIONS[name]
        if name in DURATION_US:
            usage = f"{name}(x) takes one number (of {name}, fractional allowed), e.g. {name}(1.5)"
        elif name in DIFF_US:
            unit = name.removeprefix("date_diff_")
            usage = f"{name}(a, b) takes two dates or datetimes and gives b − a in {unit}"
        else:
            usage = f"{name}(ts) takes one date or datetime"
        if len(args) != arity:
            count = f"{len(args)} argument" + ("" if len(args) == 1 else "s")
            raise self.error(f"{name}() has {count}; {usage}")
        kinds = [self._sub(arg) for arg in args]
        args = _arguments(node)  # the lowered ones
        for arg, kind in zip(args, kinds, strict=True):
            wanted = {NUMBER, NULL} if name in DURATION_US else TIMES | {NULL}
            if kind not in wanted:
                raise self.error(f"{name}() is given {_a(kind)} ({_text(arg)}); {usage}")
        if name in DURATION_US:
            return DURATION, self.duration(args[0], DURATION_US[name]) if self.lower else node
        if name in DIFF_US:
            return NUMBER, self.diff(args[0], args[1], DIFF_US[name]) if self.lower else node
        if name == "date":
            return DATE, exp.Cast(this=args[0].copy(), to=exp.DataType.build("DATE")) if self.lower else node
        if not self.lower:
            return NUMBER, node
        if name == "dow":
            # DuckDB's isodow is Monday = 1 … Sunday = 7; the DSL's dow weights start at Monday = 0
            return NUMBER, exp.Paren(
                this=exp.Sub(this=_call("isodow", args[0]), expression=exp.Literal.number(1))
            )
        return NUMBER, _call(name, args[0])

    # -- DuckDB forms ---------------------------------------------------------
    @staticmethod
    def duration(x: exp.Expression, unit_us: float) -> exp.Expression:
        """``to_microseconds(CAST(round((x) * <unit µs>) AS BIGINT))``."""
        return _interval(exp.Mul(this=exp.Paren(this=x.copy()), expression=exp.Literal.number(lit(unit_us))))

    @staticmethod
    def diff(a: exp.Expression, b: exp.Expression, unit_us: float) -> exp.Expression:
        """``(CAST(epoch_us(b) - epoch_us(a) AS DOUBLE) / <unit µs>)``: exact microseconds, then one division."""
        us = exp.Sub(this=_call("epoch_us", b), expression=_call("epoch_us", a))
        double = exp.Cast(this=us, to=exp.DataType.build("DOUBLE"))
        return exp.Paren(this=exp.Div(this=double, expression=exp.Literal.number(lit(unit_us))))

    def scaled(self, left: exp.Expression, right: exp.Expression, op: type[exp.Expression]) -> exp.Expression:
        """A duration times or divided by a number, rounded to the microsecond half away from zero
        (DuckDB's INTERVAL * DOUBLE truncates)."""
        if self.type_of(left) == DURATION:
            left = _microseconds(left)
        else:
            right = _microseconds(right)
        product = op(this=_wrap(left), expression=_wrap(right))
        return _interval(product)


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=[a.copy() for a in args])


def _microseconds(duration: exp.Expression) -> exp.Expression:
    """The BIGINT microseconds of a lowered duration (the count inside ``to_microseconds(…)``)."""
    duration = _bare(duration)
    if isinstance(duration, exp.Anonymous) and duration.name == "to_microseconds":
        return duration.expressions[0].copy()
    return _call("epoch_us", duration)


def _wrap(node: exp.Expression) -> exp.Expression:
    return (
        node.copy()
        if isinstance(node, exp.Anonymous | exp.Cast | exp.Paren | exp.Column | exp.Literal)
        else exp.Paren(this=node.copy())
    )


def _interval(us: exp.Expression) -> exp.Expression:
    """``to_microseconds(CAST(round(us) AS BIGINT))``."""
    return _call("to_microseconds", exp.Cast(this=_call("round", us), to=exp.DataType.build("BIGINT")))


FITS = {
    "int": {NUMBER, BOOL, STRING, NULL},
    "float": {NUMBER, BOOL, STRING, NULL},
    "bool": {NUMBER, BOOL, STRING, NULL},
    "string": {NUMBER, BOOL, STRING, NULL, DATE, DATETIME},
    "date": {DATE, DATETIME, STRING, NULL},
    "datetime": {DATE, DATETIME, STRING, NULL},
}
"Result types each column type takes (a date column takes a datetime: the cast keeps its day)."


def result_type(code: str, types: Mapping[str, str]) -> str:
    """The type of ``code``'s value over a row of columns ``types`` (raises :class:`ExpressionError`)."""
    tree = parse(code, list(types), types)
    typing = Typing(code, types)
    return typing.visit(tree)[0]


def fit_problem(code: str, result: str, column_type: str, time_column: str | None) -> str | None:
    """Why a value of type ``result`` cannot be the value of a ``column_type`` column, or None."""
    if result in FITS[column_type]:
        return None
    quoted = repr(code)
    base = time_column or "ordered_at"
    if result == DURATION:
        return (
            f"expression {quoted} gives a duration, not a {column_type} value; add it to a date or "
            f"datetime column, e.g. {base} + hours(x)"
        )
    if result in TIMES:
        return (
            f"expression {quoted} gives {_a(result)}, not {_a(column_type)}; make the column a {result}, "
            f"or take a number from the time with {NUMBERS_FROM_TIMES}"
        )
    return (
        f"expression {quoted} gives {_a(result)}, not {_a(column_type)}; add a duration to a date or "
        f"datetime column (e.g. {base} + hours(x)), or make the column "
        + ("a bool" if result == BOOL else "an int or float")
    )


def _types(node: S.Node) -> dict[str, str]:
    return {c.name: c.type for c in node.columns}


def _node_of(column: S.Column, ds: S.Dataset) -> S.Node | None:
    return next((n for n in ds.nodes if any(c is column for c in n.columns)), None)


class Expression(GeneratorKind):
    key = "expression"
    always_pure = True

    def check(self, spec: S.ExpressionSpec, site: Site) -> None:
        node = site.node
        types = _types(node)
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
            return result_type(spec.code, _types(node)) not in TIMED
        except ExpressionError:
            return True

    def offset(
        self, spec: S.ExpressionSpec, column: S.Column, node: S.Node, ds: S.Dataset
    ) -> tuple[str, float | None] | None:
        found = offset_of(spec, node, ds)
        return None if found is None else (found.base, found.low_us)

    def render(self, spec: S.ExpressionSpec, ctx: ColumnContext) -> Fragment:
        types = _types(ctx.node)
        tree = parse(spec.code, list(types))
        tree = Typing(spec.code, types, lower=True).visit(tree)[1]

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


# -- known offsets ------------------------------------------------------------
DAY_US = 86_400_000_000


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
    types = _types(node)
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
    if sign < 0 or not isinstance(base, exp.Column):
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


def _terms(node: exp.Expression, sign: int = 1) -> list[tuple[int, exp.Expression]]:
    """The signed terms of a sum (``a - (b - c)`` is +a, −b, +c), parentheses removed."""
    node = _bare(node)
    if isinstance(node, exp.Add):
        return _terms(node.this, sign) + _terms(node.expression, sign)
    if isinstance(node, exp.Sub):
        return _terms(node.this, sign) + _terms(node.expression, -sign)
    return [(sign, node)]


def _bare(node: exp.Expression) -> exp.Expression:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


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

    def of(self, node: exp.Expression) -> Interval:
        lo, hi = self._of(node)
        return (lo, hi) if lo <= hi else UNKNOWN

    def _of(self, node: exp.Expression) -> Interval:
        if isinstance(node, exp.Paren):
            return self.of(node.this)
        if isinstance(node, exp.Literal):
            if node.is_string:
                return UNKNOWN
            value = float(node.this)
            return value, value
        if isinstance(node, exp.Column):
            return self.column(node.name)
        if isinstance(node, exp.Neg):
            lo, hi = self.of(node.this)
            return -hi, -lo
        name = time_function(node)
        if name in DURATION_US:
            lo, hi = self.of(_arguments(node)[0])
            unit = DURATION_US[name]
            return _round_away(lo * unit), _round_away(hi * unit)
        if isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Div):
            (a, b), (c, d) = self.of(node.this), self.of(node.expression)
            if isinstance(node, exp.Add):
                return a + c, b + d
            if isinstance(node, exp.Sub):
                return a - d, b - c
            if isinstance(node, exp.Mul):
                products = [_times(x, y) for x in (a, b) for y in (c, d)]
                lo, hi = min(products), max(products)
            elif c == d and c != 0 and math.isfinite(c):
                lo, hi = sorted((a / c, b / c))
            else:
                return UNKNOWN
            if self.typing.type_of(node) == DURATION:  # a duration times or over a number: rounded to the µs
                return _round_away(lo), _round_away(hi)
            return lo, hi
        fn = FUNCTIONS.get(type(node))
        args = _arguments(node)
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
