"""The ``expression`` language: tokens, a tiny tree, a precedence-climbing parser and the SQL writer.

The language is the part of DuckDB's SQL (as sqlglot 25–30 read it, which dgsql used until 0.6.0)
that the whitelist let through: column names (bare or ``"quoted"``), numbers, ``'strings'``,
``true false null``, parentheses, ``+ - * / %``, ``^``/``**`` (power), the comparisons
``= == != <> < <= > >=``, ``and or not`` (``!`` too), ``??`` (coalesce) and calls. Precedence,
loosest first: ``or``, ``and``, ``= == != <>``, ``< <= > >=``, ``??``, ``+ -``, ``* / %``,
``^ **``, unary ``- + not`` (``not`` takes a whole equality: ``not a = b`` is ``not (a = b)``);
every binary operator is left-associative (``2 ^ 3 ^ 2`` is ``(2 ^ 3) ^ 2``, as sqlglot read it).

:func:`sql` writes a tree back in the form sqlglot printed (dialect duckdb,
``normalize_functions=False``), byte for byte — the generated scripts and rows do not change:

>>> sql(parse_tree("a+b*2 != -c"))
'a + b * 2 <> -c'
>>> sql(parse_tree("ceiling(x) ^ 2 + ifnull(y, .5)"))
'POWER(CEIL(x), 2) + COALESCE(y, 0.5)'

Whitelist checks (which names, which columns) live in :mod:`dgsql.compiler.expression.typing`;
this module only knows the shape of the language. Where sqlglot accepted text that cannot be
meant (comments, a dangling exponent ``1e``, extra or missing arguments that it dropped or
that DuckDB rejects), this parser refuses it with the fix instead.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace


class ExpressionError(ValueError):
    pass


# -- the tree -----------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Column:
    name: str
    quoted: bool = False
    qualified: str | None = None
    "The whole name as written when qualified (``users.id``): always an error, kept for its message."


@dataclass(frozen=True, eq=False)
class Number:
    text: str
    "As written (``1e3``, ``1.``), underscores dropped and a leading ``.`` made ``0.``."


@dataclass(frozen=True, eq=False)
class String:
    value: str


@dataclass(frozen=True, eq=False)
class Bool:
    value: bool


@dataclass(frozen=True, eq=False)
class Null:
    pass


@dataclass(frozen=True, eq=False)
class Paren:
    this: Node


@dataclass(frozen=True, eq=False)
class Neg:
    this: Node


@dataclass(frozen=True, eq=False)
class Not:
    this: Node


@dataclass(frozen=True, eq=False)
class Binary:
    op: str
    "One of :data:`ARITHMETIC`, :data:`COMPARISONS` or ``AND``/``OR`` (``==`` is ``=``, ``!=`` is ``<>``)."
    left: Node
    right: Node


@dataclass(frozen=True, eq=False)
class Func:
    """A call of a whitelisted function, by its canonical name (a key of :data:`FUNCTIONS`)."""

    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, eq=False)
class Call:
    """Any other call, its name as written: a time function, an unknown one (an error), or one
    that lowering writes (``to_microseconds``, ``epoch_us``, ``round``…)."""

    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, eq=False)
class Cast:
    this: Node
    to: str


@dataclass(frozen=True, eq=False)
class Raw:
    """SQL that is spliced in as it stands (a column bound to its relation, or recomputed at
    another row)."""

    text: str


Node = Column | Number | String | Bool | Null | Paren | Neg | Not | Binary | Func | Call | Cast | Raw

ARITHMETIC = ("+", "-", "*", "/", "%")
COMPARISONS = ("=", "<>", "<", "<=", ">", ">=")
CONNECTIVES = ("AND", "OR")

FUNCTIONS: dict[str, tuple[str, int, int | None]] = {
    "abs": ("ABS", 1, 1),
    "round": ("ROUND", 1, 2),
    "floor": ("FLOOR", 1, 2),
    "ceil": ("CEIL", 1, 2),
    "least": ("LEAST", 1, None),
    "greatest": ("GREATEST", 1, None),
    "sqrt": ("SQRT", 1, 1),
    "exp": ("EXP", 1, 1),
    "ln": ("LN", 1, 1),
    "log": ("LOG", 1, 2),
    "pow": ("POWER", 2, 2),
    "coalesce": ("COALESCE", 1, None),
}
"The whitelisted functions: name → (SQL name, least and most arguments; None for any number)."
ALIASES = {"ceiling": "ceil", "power": "pow", "ifnull": "coalesce", "nvl": "coalesce"}
"Other names sqlglot read as the same function."
LOG_BASES = {"log10": "10", "log2": "2"}
"``log10(x)`` is ``log(10, x)``, ``log2(x)`` is ``log(2, x)``."
LOWERCASE_CALLS = ("date", "hour", "month")
"Time functions sqlglot knew by class: written back in lower case whatever the case given."

# -- tokens ---------------------------------------------------------------------
SINGLE = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^`{|}~")
"Characters that end a bare word (sqlglot's DuckDB single-character tokens)."
OPERATORS = sorted(
    ["!=", "#>", "#>>", "&&", "&<", "&>", "**", "->", "->>", "-|-", "//", "::", ":=", "<->", "<<->>",
     "<=", "<=>", "<>", "<@", "==", "=>", ">=", "?::", "??", "@>", "^@", "|>", "||", "~*", "~~", "~~*",
     "~~~", *SINGLE - {'"', "'"}],
    key=len, reverse=True,
)  # fmt: skip
"Operator tokens, longest first (maximal munch, so ``a <=> b`` is one token as in sqlglot)."
KEYWORDS = frozenset({"AND", "OR", "NOT", "TRUE", "FALSE", "NULL"})
RESERVED = frozenset(
    "ALL ALTER ANALYZE ANY AS ATTACH BEGIN BETWEEN CACHE CALL CASE COMMENT COMMIT CONNECT "
    "CONNECT_BY_ROOT COPY CREATE CROSS CURRENT_CATALOG CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP "
    "CURRENT_USER DELETE DESC DESCRIBE DETACH DISCONNECT DISTINCT DROP ELSE EXCEPT EXECUTE EXPLAIN "
    "FETCH FOR FORCE FROM GLOB GRANT HAVING IF ILIKE INNER INSERT INSTALL INTERSECT INTERVAL INTO JOIN "
    "KILL LATERAL LIKE LOAD LOCALTIME LOCALTIMESTAMP MAP MERGE NOTNULL ON ONLY OPTIMIZE OUTER "
    "PARTITIONED_BY PIVOT PIVOT_WIDER POSITIONAL PRAGMA PREPARE QUALIFY REGEXP RELEASE RENAME RESET "
    "RETURNING REVOKE RLIKE ROLLBACK SAVEPOINT SELECT SESSION_USER SET SHOW SUMMARIZE TABLESAMPLE "
    "THEN TRUNCATE UNCACHE UNION UNPIVOT UPDATE USE USING VACUUM VALUES WHEN WHERE WITH XOR".split()
)
"Bare words that are not column names (sqlglot read them as SQL); quoted, they are names."
ANGLED = frozenset({"ARRAY", "LIST", "NULLABLE", "OBJECT", "RANGE", "ROW", "STRUCT"})
"Bare words that are column names except before ``<`` (sqlglot read ``row < 1`` as a type)."


@dataclass(frozen=True)
class Token:
    kind: str
    "``word``, ``ident`` (double-quoted), ``number``, ``string``, ``op`` or ``end``."
    text: str
    space_before: bool = False


def _number(code: str, i: int) -> tuple[str, int]:
    """The number starting at ``code[i]`` (a digit) and the index after it, as sqlglot scanned it:
    digits, one ``.``, one exponent with an optional sign before a digit, ``_`` between digits."""
    n = len(code)
    j, decimal, scientific, text = i + 1, False, 0, code[i]
    while j < n:
        c = code[j]
        if c.isdigit() and c.isascii():
            text += c
        elif c == "." and not decimal:
            decimal = True
            text += c
        elif c in "+-" and scientific == 1:
            if j + 1 < n and code[j + 1].isascii() and code[j + 1].isdigit():
                scientific += 1
                text += c
            else:
                break
        elif c in "eE" and not scientific and not (j + 1 < n and code[j + 1] == "_"):
            scientific += 1
            text += c
        elif (
            c == "_"
            and code[j - 1].isdigit()
            and j + 1 < n
            and code[j + 1].isascii()
            and code[j + 1].isdigit()
        ):
            pass
        else:
            break
        j += 1
    return text, j


def tokens(code: str, quoted: str) -> list[Token]:
    """The tokens of ``code``; raises :class:`ExpressionError` on a comment or an open quote."""
    found: list[Token] = []
    i, n, space = 0, len(code), False
    while i < n:
        c = code[i]
        if c.isspace():
            i, space = i + 1, True
            continue
        if code.startswith("--", i) or code.startswith("/*", i):
            raise ExpressionError(
                f"expression {quoted}: comments ('--', '/* */') are not allowed; for minus a negative "
                "write a - -b, and keep notes in the column's description"
            )
        if c in "'\"":
            j, text = i + 1, ""
            while True:
                k = code.find(c, j)
                if k < 0:
                    raise ExpressionError(f"expression {quoted} does not parse; close the quote {c}")
                text += code[j:k]
                if code.startswith(c * 2, k):
                    text += c
                    j = k + 2
                else:
                    break
            found.append(Token("string" if c == "'" else "ident", text, space))
            i = k + 1
        elif c.isdigit() and c.isascii():
            text, i = _number(code, i)
            found.append(Token("number", text, space))
        elif c in SINGLE:
            op = next(o for o in OPERATORS if code.startswith(o, i))
            found.append(Token("op", op, space))
            i += len(op)
        else:
            j = i + 1
            while j < n and not code[j].isspace() and (code[j] not in SINGLE or code[j] == "$"):
                j += 1
            found.append(Token("word", code[i:j], space))
            i = j
        space = False
    found.append(Token("end", "", space))
    return found


# -- the parser -----------------------------------------------------------------
EQUALITY = {"=": "=", "==": "=", "!=": "<>", "<>": "<>"}
ORDERING = {"<": "<", "<=": "<=", ">": ">", ">=": ">="}
NOT_ALLOWED = frozenset(
    {"||", "::", "//", "|", "&", "~", "<<", ">>", "->", "->>", "[", "]", "{", "}", "?", "$", "@", ":",
     ":=", "=>", "<=>", "#", "&&", "<@", "@>", "^@", "`", "\\", "|>", "~~", "~*", "~~*", "~~~", "#>",
     "#>>", "<->", "<<->>", "-|-", "&<", "&>", "?::"}
)  # fmt: skip
"SQL operators outside the language: an error that names them rather than 'does not parse'."
ALLOWED_TEXT = "column names, numbers, + - * / %, comparisons, and/or/not and "


class Parser:
    def __init__(self, code: str, function_names: str):
        self.quoted = repr(code)
        self.function_names = function_names
        self.tokens = tokens(code, self.quoted)
        self.i = 0

    # -- errors ---------------------------------------------------------------
    def unparsable(self) -> ExpressionError:
        return ExpressionError(f"expression {self.quoted} does not parse; use arithmetic over column names")

    def not_allowed(self, what: str) -> ExpressionError:
        fix = {
            "@": "; use abs(x)",
            "//": "; use floor(a / b)",
            "||": "; strings are not joined in expressions",
        }
        return ExpressionError(
            f"expression {self.quoted}: {what} is not allowed{fix.get(what, '')}; use "
            + ALLOWED_TEXT
            + self.function_names
        )

    def unexpected(self) -> ExpressionError:
        tok = self.tokens[self.i]
        if tok.kind == "op" and tok.text in NOT_ALLOWED:
            return self.not_allowed(tok.text)
        if tok.kind == "word" and tok.text.upper() in RESERVED:
            return self.not_allowed(tok.text.upper())
        return self.unparsable()

    # -- tokens ---------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def at(self, *texts: str) -> bool:
        tok = self.tok
        return tok.kind == "op" and tok.text in texts

    def at_keyword(self, word: str) -> bool:
        return self.tok.kind == "word" and self.tok.text.upper() == word

    def advance(self) -> Token:
        tok = self.tok
        self.i += 1
        return tok

    def expect(self, text: str) -> None:
        if not self.at(text):
            raise self.unexpected()
        self.advance()

    # -- grammar --------------------------------------------------------------
    def statement(self) -> Node:
        # statements are split on ';' as sqlglot split them: a trailing ';' is allowed, nothing else
        parts: list[list[Token]] = [[]]
        for tok in self.tokens[:-1]:
            if tok.kind == "op" and tok.text == ";":
                parts.append([])
            else:
                parts[-1].append(tok)
        if len(parts) > 1 and not parts[-1]:
            parts.pop()
        if len(parts) != 1 or not parts[0]:
            raise ExpressionError(f"expression {self.quoted} must be a single expression (no ';')")
        self.tokens = [*parts[0], self.tokens[-1]]
        node = self.disjunction()
        if self.tok.kind != "end":
            raise self.unexpected()
        return node

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.at_keyword("OR"):
            self.advance()
            node = Binary("OR", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.equality()
        while self.at_keyword("AND"):
            self.advance()
            node = Binary("AND", node, self.equality())
        return node

    def equality(self) -> Node:
        node = self.comparison()
        while self.at(*EQUALITY):
            op = EQUALITY[self.advance().text]
            node = Binary(op, node, self.comparison())
        return node

    def comparison(self) -> Node:
        node = self.coalescing()
        while self.at(*ORDERING):
            op = ORDERING[self.advance().text]
            node = Binary(op, node, self.coalescing())
        return node

    def coalescing(self) -> Node:
        node = self.term()
        while self.at("??"):
            self.advance()
            node = Func("coalesce", (node, self.term()))
        return node

    def term(self) -> Node:
        node = self.factor()
        while self.at("+", "-"):
            op = self.advance().text
            node = Binary(op, node, self.factor())
        return node

    def factor(self) -> Node:
        node = self.exponent()
        while self.at("*", "/", "%"):
            op = self.advance().text
            node = Binary(op, node, self.exponent())
        return node

    def exponent(self) -> Node:
        node = self.unary()
        while self.at("^", "**"):
            self.advance()
            node = Func("pow", (node, self.unary()))
        return node

    def unary(self) -> Node:
        if self.at("+"):
            self.advance()
            return self.unary()
        if self.at("-"):
            self.advance()
            return Neg(self.unary())
        if self.at("!") or self.at_keyword("NOT"):
            self.advance()
            return Not(self.equality())
        return self.atom()

    def atom(self) -> Node:
        tok = self.tok
        if tok.kind == "number":
            self.advance()
            if tok.text[-1] in "eE":
                raise ExpressionError(
                    f"expression {self.quoted}: {tok.text!r} is not a number; write the exponent too, e.g. 1e3"
                )
            return Number(tok.text.replace("_", ""))
        if tok.kind == "string":
            self.advance()
            return String(tok.text)
        if self.at("("):
            self.advance()
            node = self.disjunction()
            self.expect(")")
            return Paren(node)
        if self.at(".") and self.peek().kind == "number":
            self.advance()
            text = self.advance().text
            if text[-1] in "eE" or "." in text:
                raise self.unparsable()
            return Number("0." + text.replace("_", ""))
        if tok.kind == "ident":
            self.advance()
            return self.column(tok.text, quoted=True)
        if tok.kind == "word":
            word = tok.text.upper()
            if word in ("TRUE", "FALSE"):
                self.advance()
                return Bool(word == "TRUE")
            if word == "NULL":
                self.advance()
                return Null()
            if word in KEYWORDS or word in RESERVED:
                raise self.unexpected()
            self.advance()
            if self.at("("):
                return self.call(tok.text)
            if word in ANGLED and self.at("<"):
                raise self.not_allowed(word)
            return self.column(tok.text, quoted=False)
        raise self.unexpected()

    def column(self, name: str, quoted: bool) -> Node:
        parts = ['"' + name.replace('"', '""') + '"' if quoted else name]
        while self.at("."):
            self.advance()
            tok = self.advance()
            if tok.kind == "ident":
                parts.append('"' + tok.text.replace('"', '""') + '"')
            elif tok.kind in ("word", "number"):
                parts.append(tok.text)
            else:
                raise self.unparsable()
        if len(parts) == 1:
            return Column(name, quoted)
        if self.at("("):
            raise self.unparsable()
        return Column(name, quoted, qualified=".".join(parts))

    def call(self, name: str) -> Node:
        self.expect("(")
        args: list[Node] = []
        while not self.at(")"):
            if self.at(","):  # sqlglot skipped empty arguments: f(a,) is f(a)
                self.advance()
                continue
            args.append(self.disjunction())
            if not self.at(")"):
                self.expect(",")
        self.advance()
        key = name.lower()
        key = ALIASES.get(key, key)
        if key in LOG_BASES:
            self.arity(name, args, 1, 1)
            return Func("log", (Number(LOG_BASES[key]), *args))
        if key == "mod":  # sqlglot bracketed binary operands: mod(a + 1, 7) is (a + 1) % 7
            self.arity(name, args, 2, 2)
            left, right = (Paren(a) if is_binary(a) else a for a in args)
            return Binary("%", left, right)
        if key in FUNCTIONS:
            _, least, most = FUNCTIONS[key]
            self.arity(name, args, least, most)
            return Func(key, tuple(args))
        return Call(key if key in LOWERCASE_CALLS else name, tuple(args))

    def arity(self, name: str, args: list[Node], least: int, most: int | None) -> None:
        if least <= len(args) and (most is None or len(args) <= most):
            return
        if most is None:
            wanted = f"at least {least} argument" + ("" if least == 1 else "s")
        elif least == most:
            wanted = f"{least} argument" + ("" if least == 1 else "s")
        else:
            wanted = f"{least} or {most} arguments"
        raise ExpressionError(f"expression {self.quoted}: {name.lower()}() takes {wanted}, not {len(args)}")


def parse_tree(code: str, function_names: str = "") -> Node:
    """The tree of ``code``, unchecked (names may be unknown); raises :class:`ExpressionError`."""
    return Parser(code, function_names).statement()


# -- walking ----------------------------------------------------------------------
def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Paren | Neg | Not | Cast):
        return (node.this,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Func | Call):
        return node.args
    return ()


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, breadth first (the order sqlglot's ``walk`` reported errors in)."""
    queue = deque([node])
    while queue:
        node = queue.popleft()
        yield node
        queue.extend(children(node))


def transform(node: Node, fn: Callable[[Node], Node]) -> Node:
    """``node`` with ``fn`` applied to every node, children first; unchanged parts are shared."""
    kids = children(node)
    new = tuple(transform(k, fn) for k in kids)
    if any(n is not k for n, k in zip(new, kids, strict=True)):
        node = rebuild(node, new)
    return fn(node)


def rebuild(node: Node, kids: tuple[Node, ...]) -> Node:
    """``node`` with its children replaced by ``kids``."""
    if isinstance(node, Paren | Neg | Not | Cast):
        return replace(node, this=kids[0])
    if isinstance(node, Binary):
        return replace(node, left=kids[0], right=kids[1])
    if isinstance(node, Func | Call):
        return replace(node, args=kids)
    return node


def bare(node: Node) -> Node:
    while isinstance(node, Paren):
        node = node.this
    return node


def is_binary(node: Node) -> bool:
    """A binary operator (``pow`` is one: sqlglot's Pow was a Binary)."""
    return isinstance(node, Binary) or (isinstance(node, Func) and node.name == "pow")


# -- the SQL writer ---------------------------------------------------------------
def _is_int(node: Node) -> bool:
    if isinstance(node, Neg):
        return _is_int(node.this)
    if isinstance(node, Number):
        try:
            int(node.text)
        except ValueError:
            return False
        return True
    return False


def sql(node: Node, parent: Node | None = None) -> str:
    """``node`` as SQL, as sqlglot's DuckDB generator wrote the same tree."""
    if isinstance(node, Column):
        return node.qualified or ('"' + node.name.replace('"', '""') + '"' if node.quoted else node.name)
    if isinstance(node, Number):
        return node.text
    if isinstance(node, String):
        return "'" + node.value.replace("'", "''") + "'"
    if isinstance(node, Bool):
        return "TRUE" if node.value else "FALSE"
    if isinstance(node, Null):
        return "NULL"
    if isinstance(node, Paren):
        return "(" + sql(node.this, node) + ")"
    if isinstance(node, Neg):
        this = sql(node.this, node)
        return "-" + (" " if this.startswith("-") else "") + this
    if isinstance(node, Not):
        return "NOT " + sql(node.this, node)
    if isinstance(node, Binary):
        text = f"{sql(node.left, node)} {node.op} {sql(node.right, node)}"
        # sqlglot bracketed a modulo on the right of * / % (``2 * mod(a, b)`` is ``2 * (a % b)``)
        if node.op == "%" and isinstance(parent, Binary) and parent.op in "*/%" and parent.right is node:
            return f"({text})"
        return text
    if isinstance(node, Func):
        if node.name in ("floor", "ceil") and len(node.args) == 2:
            return _scaled_rounding(node)
        return FUNCTIONS[node.name][0] + "(" + ", ".join(sql(a, node) for a in node.args) + ")"
    if isinstance(node, Call):
        return node.name + "(" + ", ".join(sql(a, node) for a in node.args) + ")"
    if isinstance(node, Cast):
        return f"CAST({sql(node.this, node)} AS {node.to})"
    if isinstance(node, Raw):
        return node.text
    raise AssertionError(f"no SQL for {type(node).__name__}")


def _scaled_rounding(node: Func) -> str:
    """``floor(x, n)``/``ceil(x, n)`` as sqlglot wrote them for DuckDB (which has no scale argument):
    ``ROUND(FLOOR(x * POWER(10, n)) / POWER(10, n), n)``, ``n`` cast to INT unless an integer literal."""
    this, decimals = node.args
    if is_binary(this):
        this = Paren(this)
    n = decimals if _is_int(decimals) else Cast(decimals, "INT")
    power = Func("pow", (Number("10"), n))
    scaled = Binary("/", Func(node.name, (Binary("*", this, power),)), power)
    return sql(Func("round", (scaled, n)))
