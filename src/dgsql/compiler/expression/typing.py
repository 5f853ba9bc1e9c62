"""The checks of an ``expression``: the whitelist of names (:func:`parse`) and the types (:class:`Typing`).

Every node has a type — number, bool, string, date, datetime, duration — checked at compile time:
a time plus a duration is a datetime, a time plus a number is an error naming the duration
function to use, and the result must fit the column (:func:`fit_problem`). A duration is an
INTERVAL of whole microseconds: ``hours(x)`` renders
``to_microseconds(CAST(round((x) * 3600000000.0) AS BIGINT))``, exact to the microsecond for
fractional ``x`` (DuckDB's ``round`` goes half away from zero), NULL for a NULL ``x``.
Expressions without times render exactly as they are written (in sqlglot's spelling).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from dgsql.compiler.expression.syntax import (
    ARITHMETIC,
    COMPARISONS,
    FUNCTIONS,
    Binary,
    Bool,
    Call,
    Cast,
    Column,
    ExpressionError,
    Func,
    Neg,
    Node,
    Not,
    Null,
    Number,
    Paren,
    String,
    bare,
    children,
    parse_tree,
    rebuild,
    sql,
)
from dgsql.compiler.sqltext import lit

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
FUNCTION_NAMES = " ".join([*sorted(FUNCTIONS), *TIME_FUNCTIONS])


def time_function(node: Node) -> str | None:
    """The time function ``node`` calls (``hours``, ``date``…), or None."""
    if isinstance(node, Call):
        name = node.name.lower()
        return name if name in TIME_FUNCTIONS else None
    return None


def _numeric_only(node: Node | None) -> bool:
    """Nodes whose column operands must be numbers (but see :func:`_time_operation`)."""
    if isinstance(node, Binary):
        return node.op in ARITHMETIC
    return isinstance(node, Neg) or (isinstance(node, Func) and node.name != "coalesce")


def _time_operation(node: Node | None) -> bool:
    """Nodes that take date and datetime columns too (:class:`Typing` checks how)."""
    if isinstance(node, Binary):
        return node.op in ("+", "-")
    return isinstance(node, Func) and node.name in ("least", "greatest")


def _walk_with_parents(tree: Node) -> Iterator[tuple[Node, Node | None, Node | None]]:
    """(node, parent, grandparent), breadth first as sqlglot's ``walk`` went."""
    queue: list[tuple[Node, Node | None, Node | None]] = [(tree, None, None)]
    for node, parent, grandparent in queue:
        yield node, parent, grandparent
        queue.extend((child, node, parent) for child in children(node))


def parse(code: str, columns: list[str], types: Mapping[str, str] | None = None) -> Node:
    """Parse and check ``code``; raises :class:`ExpressionError` with a fix.

    With the row's column ``types``, the types of the expression are checked too (a non-numeric
    column inside arithmetic, a number added to a datetime…)."""
    quoted = repr(code)
    tree = parse_tree(code, FUNCTION_NAMES)
    for node, parent, grandparent in _walk_with_parents(tree):
        if time_function(node) is not None:
            continue
        if isinstance(node, Call):
            raise ExpressionError(
                f"expression {quoted}: function {node.name!r} is not allowed; use one of {FUNCTION_NAMES}"
            )
        if isinstance(node, Column):
            if node.qualified:
                raise ExpressionError(
                    f"expression {quoted}: {node.qualified!r} names a table; use this row's columns"
                )
            if node.name not in columns:
                raise ExpressionError(
                    f"expression {quoted}: unknown column {node.name!r}; columns are {', '.join(columns)}"
                )
            kind = (types or {}).get(node.name, "float")
            operator = grandparent if isinstance(parent, Paren) else parent
            timed = kind in ("date", "datetime") and _time_operation(operator)
            if kind not in ("int", "float") and _numeric_only(operator) and not timed:
                raise ExpressionError(
                    f"expression {quoted}: column {node.name!r} is a {kind}, not a number; "
                    "use numeric columns in arithmetic"
                )
    if types is not None:
        Typing(code, types).visit(tree)
    return tree


def columns_read(code: str, columns: list[str], types: dict[str, str] | None = None) -> list[str]:
    tree = parse(code, columns, types)
    return list(dict.fromkeys(n.name for n, _, _ in _walk_with_parents(tree) if isinstance(n, Column)))


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


_text = sql
"``node`` as the user would write it (time functions by their DSL name)."


class Typing:
    """Infers the type of every node of a checked tree: number, bool, string, date, datetime,
    duration or null (a NULL literal, which fits anything). Raises :class:`ExpressionError` at
    the first misuse, with the fix. With ``lower``, :meth:`visit` also gives a tree whose time
    functions and products of durations are in their DuckDB form (other nodes are kept as they
    are, so an expression without times renders as it is written)."""

    def __init__(self, code: str, types: Mapping[str, str], lower: bool = False):
        self.quoted = repr(code)
        self.types = types
        self.lower = lower
        self.seen: dict[int, str] = {}
        "id of a visited node (and of the node put in its place) → its type."
        self.kept: list[Node] = []
        "The nodes of :attr:`seen`, kept alive so that their ids stay theirs."

    def error(self, text: str) -> ExpressionError:
        return ExpressionError(f"expression {self.quoted}: {text}")

    def visit(self, node: Node) -> tuple[str, Node]:
        """The type of ``node`` and the node to put in its place."""
        kind, new = self._visit(node)
        self.seen[id(node)] = self.seen[id(new)] = kind
        self.kept += (node, new)
        return kind, new

    def type_of(self, node: Node) -> str:
        """The type of a node visited before."""
        return self.seen[id(node)]

    def _visit_all(self, node: Node) -> tuple[list[str], Node]:
        """Visit the children of ``node`` in order: their types, and ``node`` with the lowered ones."""
        kids = children(node)
        kinds, new = [], []
        for kid in kids:
            kind, lowered = self.visit(kid)
            kinds.append(kind)
            new.append(lowered)
        if any(n is not k for n, k in zip(new, kids, strict=True)):
            node = rebuild(node, tuple(new))
        return kinds, node

    def _visit(self, node: Node) -> tuple[str, Node]:
        if isinstance(node, Paren):
            kinds, node = self._visit_all(node)
            return kinds[0], node
        if isinstance(node, Column):
            return COLUMN_TYPES.get(self.types.get(node.name, "float"), NUMBER), node
        if isinstance(node, Number):
            return NUMBER, node
        if isinstance(node, String):
            return STRING, node
        if isinstance(node, Bool):
            return BOOL, node
        if isinstance(node, Null):
            return NULL, node
        name = time_function(node)
        if name is not None:
            assert isinstance(node, Call)
            return self.time_call(name, node)
        if isinstance(node, Neg):
            (kind,), node = self._visit_all(node)
            if kind in TIMES:
                raise self.error(f"-{_text(node.this)}: {_a(kind)} is not a number; {self.numbers_hint()}")
            return (kind if kind in (DURATION, NULL) else NUMBER), node
        if isinstance(node, Binary) and node.op in ARITHMETIC:
            (left, right), node = self._visit_all(node)
            assert isinstance(node, Binary)
            return self.arithmetic(node, left, right)
        if isinstance(node, Binary) and node.op in COMPARISONS:
            (left, right), node = self._visit_all(node)
            assert isinstance(node, Binary)
            return self.comparison(node, left, right), node
        if isinstance(node, Binary | Not):
            word = node.op.lower() if isinstance(node, Binary) else "not"
            kids, lowered = children(node), []
            for arg in kids:  # each checked as soon as it is visited
                kind, new = self.visit(arg)
                if kind in TIMED:
                    raise self.error(
                        f"{word} takes conditions, not {_a(kind)} ({_text(arg)}); compare it first, e.g. a < b"
                    )
                lowered.append(new)
            if any(n is not k for n, k in zip(lowered, kids, strict=True)):
                node = rebuild(node, tuple(lowered))
            return BOOL, node
        if isinstance(node, Func):
            fn = node.name
            kinds, node = self._visit_all(node)
            assert isinstance(node, Func)
            if fn in ("least", "greatest", "coalesce"):
                return self.same_kind(fn, kinds), node
            for arg, kind in zip(node.args, kinds, strict=True):
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
    def arithmetic(self, node: Binary, left: str, right: str) -> tuple[str, Node]:
        kinds = {left, right}
        if not kinds & TIMED:
            return NUMBER, node  # numbers as they always were (a bool or string operand included)
        if NULL in kinds:
            return NULL, node
        a, b = _text(node.left), _text(node.right)
        if node.op == "+":
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
        if node.op == "-":
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
        for kind, text in ((left, a), (right, b)):
            if kind in TIMES:
                raise self.error(f"{node.op} takes numbers, not {_a(kind)} ({text}); {self.numbers_hint()}")
        if node.op == "*" and sorted(kinds) == [DURATION, NUMBER]:
            return DURATION, self.scaled(node) if self.lower else node
        if node.op == "/" and (left, right) == (DURATION, NUMBER):
            return DURATION, self.scaled(node) if self.lower else node
        if node.op == "*":
            raise self.error(f"{a} * {b}: a duration is multiplied by a number only, e.g. 2 * hours(x)")
        if node.op == "/":
            raise self.error(f"{a} / {b}: a duration is divided by a number only, e.g. hours(x) / 2")
        raise self.error(f"% takes numbers, not a duration; {self.numbers_hint(DURATION)}")

    def comparison(self, node: Binary, left: str, right: str) -> str:
        kinds = {left, right} - {NULL}
        op = "!=" if node.op == "<>" else node.op
        a, b = f"{_text(node.left)} {op}", _text(node.right)
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

    def time_call(self, name: str, node: Call) -> tuple[str, Node]:
        arity = TIME_FUNCTIONS[name]
        if name in DURATION_US:
            usage = f"{name}(x) takes one number (of {name}, fractional allowed), e.g. {name}(1.5)"
        elif name in DIFF_US:
            unit = name.removeprefix("date_diff_")
            usage = f"{name}(a, b) takes two dates or datetimes and gives b − a in {unit}"
        else:
            usage = f"{name}(ts) takes one date or datetime"
        if len(node.args) != arity:
            count = f"{len(node.args)} argument" + ("" if len(node.args) == 1 else "s")
            raise self.error(f"{name}() has {count}; {usage}")
        kinds, node = self._visit_all(node)
        assert isinstance(node, Call)
        args = node.args  # the lowered ones
        for arg, kind in zip(args, kinds, strict=True):
            wanted = {NUMBER, NULL} if name in DURATION_US else TIMES | {NULL}
            if kind not in wanted:
                raise self.error(f"{name}() is given {_a(kind)} ({_text(arg)}); {usage}")
        if name in DURATION_US:
            return DURATION, self.duration(args[0], DURATION_US[name]) if self.lower else node
        if name in DIFF_US:
            return NUMBER, self.diff(args[0], args[1], DIFF_US[name]) if self.lower else node
        if name == "date":
            return DATE, Cast(args[0], "DATE") if self.lower else node
        if not self.lower:
            return NUMBER, node
        if name == "dow":
            # DuckDB's isodow is Monday = 1 … Sunday = 7; the DSL's dow weights start at Monday = 0
            return NUMBER, Paren(Binary("-", Call("isodow", (args[0],)), Number("1")))
        return NUMBER, Call(name, (args[0],))

    # -- DuckDB forms ---------------------------------------------------------
    @staticmethod
    def duration(x: Node, unit_us: float) -> Node:
        """``to_microseconds(CAST(round((x) * <unit µs>) AS BIGINT))``."""
        return _interval(Binary("*", Paren(x), Number(lit(unit_us))))

    @staticmethod
    def diff(a: Node, b: Node, unit_us: float) -> Node:
        """``(CAST(epoch_us(b) - epoch_us(a) AS DOUBLE) / <unit µs>)``: exact microseconds, then one division."""
        us = Binary("-", Call("epoch_us", (b,)), Call("epoch_us", (a,)))
        return Paren(Binary("/", Cast(us, "DOUBLE"), Number(lit(unit_us))))

    def scaled(self, node: Binary) -> Node:
        """A duration times or divided by a number, rounded to the microsecond half away from zero
        (DuckDB's INTERVAL * DOUBLE truncates)."""
        left, right = node.left, node.right
        if self.type_of(left) == DURATION:
            left = _microseconds(left)
        else:
            right = _microseconds(right)
        return _interval(Binary(node.op, _wrap(left), _wrap(right)))


def _microseconds(duration: Node) -> Node:
    """The BIGINT microseconds of a lowered duration (the count inside ``to_microseconds(…)``)."""
    duration = bare(duration)
    if isinstance(duration, Call) and duration.name == "to_microseconds":
        return duration.args[0]
    return Call("epoch_us", (duration,))


def _wrap(node: Node) -> Node:
    return node if isinstance(node, Call | Cast | Paren | Column | Number | String) else Paren(node)


def _interval(us: Node) -> Node:
    """``to_microseconds(CAST(round(us) AS BIGINT))``."""
    return Call("to_microseconds", (Cast(Call("round", (us,)), "BIGINT"),))


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
