"""A ``faker`` column's values come from its row's locale: each value is one the column's
composition can give in that locale (the locale of the row's ``locale_from`` value, or the
column's own locale). A row check: the failing rows.

The forms come from the generator's own trees (:mod:`dgsql.compiler.faker`, built for the
same locales, with the same fallback to the default locale for a locale without the method):
Faker's lists, literal text, digit runs and ``#``/``?`` patterns. A value is cut into words at
spaces and hyphens when its composition has them as text (``{{first_name}} {{last_name}}``,
``{{last_name}}-{{last_name}}``), and
each word is checked against the words its position can hold in a value of that many words
(a word of a composition is the product of its parts: ``{{last_name}}{{city_suffix}}``; a
list value with spaces, ``Prof. Dr.``, spreads over several positions); otherwise each value
is checked whole. Words are checked position by position, not as combinations: the forms are
a superset of the values, small enough to list. Honest values always pass (every value is one of the
forms), so a failure means the value or its locale was changed: ``law=True``.

Not evaluated, with the reason: a value drawn from a pool (Faker's own code for the method,
seeded by the build's master seed, which the checks do not know), computed values (``uuid4``,
``ipv4``, ``iban``, ``upper()``), e-mails and user names (built from the row's name columns
and numbers), compositions without a Faker list (numbers and patterns only: nothing tells
locales apart), more than :data:`MAX_FORMS` forms, a modifier, a non-string column, a hidden locale column.

Cost: the table is scanned once for its distinct (locale, value) pairs; those are cut into
words and anti-joined with the forms (a hash join), and the failing pairs joined back to the
rows only to list them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled, not_compiled
from dgsql.compiler.checks.views import table
from dgsql.compiler.sqltext import Sql, fill, ident, join, lit, qualified
from dgsql.dsl import model as S

KIND = "faker_vocabulary"
CATEGORY = "statistical"
DECLARED_BY = None

MAX_FORMS = 300_000
"Words (or whole values) listed for one column, over its locales: beyond, not evaluated."
MAX_SEQUENCES = 512
"Branches of a composition (its formats multiplied out) per locale: beyond, not evaluated."
MAX_PATTERN = 10_000
"Values of one ``#``/``?`` pattern or digit run listed: beyond, not evaluated."

TEMPLATE = """\
WITH forms AS (
{forms}
),
pairs AS (
  SELECT DISTINCT CAST({locale} AS VARCHAR) AS k, {col} AS v FROM {table} WHERE {col} IS NOT NULL
),
words AS (
  SELECT k, v, i, len(w) AS n, unnest(w) AS word, generate_subscripts(w, 1) AS pos
  FROM (SELECT k, v, i, {split} AS w FROM (SELECT k, v, {index} AS i FROM pairs) WHERE {checked})
),
failing AS (
  SELECT DISTINCT k, v, i FROM words
  ANTI JOIN forms ON words.i = forms.i AND words.n = forms.n AND words.pos = forms.pos AND words.word = forms.word
)
SELECT {examples}, {locale_name} AS expected_locale
FROM {table} AS r JOIN failing AS f
  ON CAST({row_locale} AS VARCHAR) IS NOT DISTINCT FROM f.k AND {row_col} = f.v"""
WORDS = "string_split(replace(v, '-', ' '), ' ')"
"The words of a value ``v``: cut at spaces and hyphens."
FORMS = "  SELECT {i} AS i, {n} AS n, {pos} AS pos, unnest({words}) AS word"


class _NotCheckable(Exception):
    """Why a composition's values cannot be listed."""


Alternatives = tuple[str, ...]
"The strings one part of a composition can be."


def _pattern(node: Any) -> Alternatives:
    """Every value of a Faker pattern (``faker/lower.py``'s placeholders)."""
    import string

    parts: list[Alternatives] = []
    for c in node.text:
        if node.numerify and c == "#":
            parts.append(tuple(string.digits))
        elif node.numerify and c == "%":
            parts.append(tuple("123456789"))
        elif node.numerify and c == "$":
            parts.append(tuple("23456789"))
        elif node.numerify and c == "!":
            parts.append(("", *string.digits))
        elif node.numerify and c == "@":
            parts.append(("", *"123456789"))
        elif node.lexify and c == "?":
            parts.append(tuple(dict.fromkeys(node.letters)))
        elif node.hexify and c == "^":
            parts.append(tuple("0123456789ABCDEF" if node.upper_hex else "0123456789abcdef"))
        else:
            parts.append((c,))
    return _product(parts, MAX_PATTERN, "a pattern")


def _product(parts: Sequence[Alternatives], limit: int, what: str) -> Alternatives:
    size = 1
    for p in parts:
        size *= len(p)
        if size > limit:
            raise _NotCheckable(f"{what} has more than {limit:,} values")
    return tuple(dict.fromkeys("".join(t) for t in itertools.product(*parts)))


def _sequences(node: Any) -> list[list[Alternatives]]:
    """The composition as branches, each a sequence of parts; raises :class:`_NotCheckable`."""
    from dgsql.compiler.faker.tree import Concat, Digits, Lit, Pattern, Pick, Switch

    if isinstance(node, Lit):
        return [[(node.text,)]]
    if isinstance(node, Pick):
        if ".pool." in node.vocab.key:
            raise _NotCheckable(
                "values drawn from a pool of Faker's own output, seeded by the build's master seed"
            )
        values = node.vocab.folded if node.folded and node.vocab.folded is not None else node.vocab.values
        if not values:
            raise _NotCheckable("a list made by the script")
        return [[tuple(dict.fromkeys(values))]]
    if isinstance(node, Digits):
        span = node.span or 10**node.n
        if node.low + span > 10**node.n or span > MAX_PATTERN:
            raise _NotCheckable(f"a run of {node.n} digits")
        return [[tuple(str(node.low + k).zfill(node.n) for k in range(span))]]
    if isinstance(node, Pattern):
        return [[_pattern(node)]]
    if isinstance(node, Concat):
        out: list[list[Alternatives]] = [[]]
        for part in node.parts:
            out = [a + b for a in out for b in _sequences(part)]
            if len(out) > MAX_SEQUENCES:
                raise _NotCheckable(f"more than {MAX_SEQUENCES} formats")
        return out
    if isinstance(node, Switch):
        out = [s for _, branch in node.branches for s in _sequences(branch)]
        if len(out) > MAX_SEQUENCES:
            raise _NotCheckable(f"more than {MAX_SEQUENCES} formats")
        return out
    raise _NotCheckable(f"a value computed in SQL ({type(node).__name__.lower()})")


def _has_list(node: Any) -> bool:
    """Whether the composition picks from a Faker list (what tells one locale from another)."""
    from dgsql.compiler.faker.tree import Concat, Func, Pick, Switch

    if isinstance(node, Pick):
        return not node.vocab.key.startswith(("chars.", "digits."))
    if isinstance(node, Concat):
        return any(_has_list(p) for p in node.parts)
    if isinstance(node, Switch):
        return any(_has_list(b) for _, b in node.branches)
    if isinstance(node, Func):
        return _has_list(node.arg)
    return False


Forms = dict[tuple[int, int], set[str]]
"(words in the value, position) → the words that position can hold."


def _words(sequence: list[Alternatives]) -> list[list[Alternatives]]:
    """A branch cut into words at its spaces and hyphens: one variant per count of spaces in each part's
    values (a part whose values have 0 or 1 spaces makes two variants), each a list of words
    and the words each position can hold."""
    variants: list[list[list[Alternatives]]] = [[[]]]
    for part in sequence:
        by_spaces: dict[int, list[list[str]]] = {}
        for value in part:
            pieces = value.replace("-", " ").split(" ")
            by_spaces.setdefault(len(pieces) - 1, []).append(pieces)
        grown = []
        for words in variants:
            for group in by_spaces.values():
                pieces = [tuple(dict.fromkeys(p[j] for p in group)) for j in range(len(group[0]))]
                grown.append([*words[:-1], [*words[-1], pieces[0]], *[[p] for p in pieces[1:]]])
        variants = grown
        if len(variants) > MAX_SEQUENCES:
            raise _NotCheckable(f"more than {MAX_SEQUENCES} word layouts")
    return [[_product(w, MAX_FORMS, "a word") for w in words] for words in variants]


def _forms(sequences: list[list[Alternatives]], whole: bool) -> Forms:
    forms: Forms = {}
    for sequence in sequences:
        layouts = [[_product(sequence, MAX_FORMS, "the composition")]] if whole else _words(sequence)
        for words in layouts:
            for pos, alternatives in enumerate(words, 1):
                forms.setdefault((len(words), pos), set()).update(alternatives)
    return forms


def _forms_sql(index: int, forms: Forms) -> list[Sql]:
    from dgsql.compiler.faker.vocab import _text_list

    return [
        fill(
            FORMS,
            i=lit(index),
            n=lit(n),
            pos=lit(pos),
            words=Sql(_text_list(tuple(sorted(words)))),
        )
        for (n, pos), words in sorted(forms.items())
    ]


def _among(indexes: list[int]) -> Sql:
    return fill("i IN ({i})", i=join(lit(i) for i in indexes))


def _split(spaced: list[int], locales: int) -> Sql:
    """The words of ``v``: cut in the locales whose compositions have spaces or hyphens."""
    if not spaced:
        return Sql("[v]")
    if len(spaced) == locales:
        return Sql(WORDS)
    return fill("CASE WHEN {among} THEN {words} ELSE [v] END", among=_among(spaced), words=Sql(WORDS))


def _locale_index(spec: S.FakerSpec, node: S.Node, ds: S.Dataset, locales: tuple[str, ...]) -> Sql:
    """SQL of the row's index into ``locales`` from ``k``, the locale column's text: the
    generator's mapping (``generators/faker.py``'s ``plan_locales``)."""
    from dgsql.compiler.faker.locales import DEFAULT_LOCALE, runtime_keys
    from dgsql.compiler.generators.faker import _mapped, trace_values

    if spec.locale_from is None or len(locales) == 1:
        return Sql("0")
    default = lit(locales.index(DEFAULT_LOCALE))
    values = trace_values(ds, node, spec.locale_from)
    if values is not None:
        whens = " ".join(
            fill("WHEN {v} THEN {i}", v=lit(v), i=lit(locales.index(loc)))
            for v, loc in _mapped(values).items()
            if loc != DEFAULT_LOCALE
        )
        return fill("CASE k {whens} ELSE {d} END", whens=Sql(whens), d=default) if whens else default
    whens = " ".join(
        fill("WHEN {v} THEN {i}", v=lit(key), i=lit(locales.index(loc)))
        for key, loc in runtime_keys().items()
    )
    return fill("CASE upper(replace(trim(k), '-', '_')) {whens} ELSE {d} END", whens=Sql(whens), d=default)


def _check(
    ctx: CheckContext, node: S.Node, col: S.Column, spec: S.FakerSpec
) -> tuple[Sql, dict[str, str]] | str:
    """The check's SQL and the locales it cannot check (with why), or why there is no check."""
    from dgsql.compiler.generators import faker as F

    if col.type != "string":
        return f"a {col.type} column"
    if col.modifiers:
        return (
            f"the {', '.join(dict.fromkeys(m.transform for m in col.modifiers))} modifier changes the values"
        )
    if spec.method in F.EMAILS or spec.method in F.USER_NAMES:
        return "e-mails and user names are built from the row's name columns and numbers"
    if spec.locale_from is not None and ctx.column(node.id, spec.locale_from) is None:
        return f"the locale column {spec.locale_from} is not in the file"
    locales = F.column_locales(spec, node, ctx.dataset)
    trees = F._probe_trees(spec.method, dict(spec.model_extra or {}), locales)
    if not isinstance(trees, list):
        return f"{spec.method}() cannot be generated: {trees}"
    forms: dict[int, Forms] = {}
    spaced: list[int] = []
    unchecked: dict[str, str] = {}
    for i, (loc, tree) in enumerate(zip(locales, trees, strict=True)):
        try:
            if not _has_list(tree):
                raise _NotCheckable("no Faker list in the composition (numbers or patterns only)")
            sequences = _sequences(tree)
            split = any(len(p) == 1 and (" " in p[0] or "-" in p[0]) for s in sequences for p in s)
            forms[i] = _forms(sequences, whole=not split)
        except _NotCheckable as e:
            unchecked[loc] = str(e)
            continue
        if split:
            spaced.append(i)
    if not forms:
        return "; ".join(dict.fromkeys(unchecked.values()))
    total = sum(len(words) for f in forms.values() for words in f.values())
    if total > MAX_FORMS:
        return f"the composition has more than {MAX_FORMS:,} forms over its locales"
    names = ident(col.name)
    locale = ident(spec.locale_from) if spec.locale_from else Sql("NULL")
    row_locale = qualified("r", spec.locale_from) if spec.locale_from else Sql("NULL")
    index = _locale_index(spec, node, ctx.dataset, locales)
    sql = fill(
        TEMPLATE,
        forms=join((s for i, f in forms.items() for s in _forms_sql(i, f)), "\n  UNION ALL\n"),
        locale=locale,
        col=names,
        table=table(node.id),
        index=index,
        split=_split(spaced, len(locales)),
        checked=_among(list(forms)),
        examples=ctx.example_columns(
            node.id, "r", *([spec.locale_from] if spec.locale_from else []), col.name
        ),
        locale_name=fill("[{names}][f.i + 1]", names=join(lit(loc) for loc in locales)),
        row_locale=row_locale,
        row_col=qualified("r", col.name),
    )
    return sql, unchecked


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for node in ctx.dataset.nodes:
        for col in node.written:
            if not isinstance(col.generator, S.FakerGen):
                continue
            spec = col.generator.faker
            ref = f"{node.id}.{col.name}"
            source = ctx.column_path(node.id, col.name) + ".generator.faker"
            found = _check(ctx, node, col, spec)
            if isinstance(found, str):
                yield not_compiled(KIND, CATEGORY, ref, source, found)
                continue
            sql, unchecked = found
            yield compiled(
                KIND,
                CATEGORY,
                ref,
                sql=sql,
                source=source,
                law=True,
                expect={
                    "method": spec.method,
                    "locale": spec.locale_from or spec.locale,
                    **({"unchecked_locales": unchecked} if unchecked else {}),
                },
            )
