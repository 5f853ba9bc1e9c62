"""``faker``: locale-aware semantic values, composed in SQL from vocabularies built at compile time.

Faker never runs per row. At compile time each (method, locale) becomes a
composition tree over Faker's own lists (see :mod:`dgsql.compiler.faker`);
the tree renders to one SQL expression of hashed picks. With several locales
(``locale_from``) the locales' trees render together on the row's locale index
(:meth:`~dgsql.compiler.faker.render.Renderer.sql_by_locale`): shared picks read one
union of the locales' lists, the rest is a ``CASE`` on the index. Each column
joins one one-row table of the lists it reads (``INNER JOIN … ON TRUE``: a plain
cross product, which keeps the rows' order).

- ``locale_from`` traced: when the locale column is a ``choice`` of literals, an
  ``enum_list``, or a lookup/``choices_ref`` of such a column (``map_values``
  applied), only the locales its values map to are embedded and the mapping is
  exact. Otherwise every locale of :data:`COUNTRY_LOCALES` is embedded and the
  value is mapped at run time (unknown → en_US).
- E-mails and user names are built from the row's own faker name columns
  (``first_name``/``last_name``, else ``name``) by recomputing those columns'
  picks with their salts and reading the ASCII-folded twin of each name, so
  they agree with the name exactly, in every script. Without such columns they
  use a composed name of their own. A column declared unique (or the pk) gets
  a row-unique number after a digit-free name part, so it is unique by
  construction: ``(row * 1234577 + k) mod 10^d`` when the table's row count is
  known (``dg_fk_serial``, the row shuffled within its digit count, otherwise).
"""

from __future__ import annotations

import difflib
import inspect
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

from dgsql.compiler.context import ColumnContext, Fragment, Join
from dgsql.compiler.faker.locales import (
    DEFAULT_LOCALE,
    runtime_keys,
    runtime_locales,
    to_locale,
)
from dgsql.compiler.faker.methods import ALIASES, PATTERN_DEFAULTS, SYNONYMS, top
from dgsql.compiler.faker.render import Renderer
from dgsql.compiler.faker.tree import Lit, Node, Pattern, Pick, Sql, concat, project, switch
from dgsql.compiler.faker.vocab import PREFIX, VocabRefs
from dgsql.compiler.kind import MODIFIERS, GeneratorKind, Site, generator_of
from dgsql.compiler.seeds import salt as derive_salt
from dgsql.compiler.sqltext import ident, list_of, lit
from dgsql.dsl import model as S
from dgsql.dsl.problems import Problem

if TYPE_CHECKING:
    from dgsql.compiler.faker.compose import Composer, Unsupported


@cache
def _compose() -> ModuleType:
    """:mod:`dgsql.compiler.faker.compose`, which imports Faker: loaded for the first faker
    column, so a schema without one never pays for Faker (~50 ms)."""
    import dgsql.compiler.faker.compose as compose

    return compose


FIRST = {"first_name", "first_name_male", "first_name_female", "first_name_nonbinary"}
LAST = {"last_name", "last_name_male", "last_name_female", "last_name_nonbinary"}
FULL = {"name", "name_male", "name_female", "name_nonbinary"}
EMAILS = {
    "email": "free",
    "free_email": "free",
    "safe_email": "safe",
    "company_email": "company",
    "ascii_email": "free",
    "ascii_free_email": "free",
    "ascii_safe_email": "safe",
    "ascii_company_email": "company",
}
USER_NAMES = {"user_name"}
SPECIAL = {"uuid4", "ipv4", "iban", "sentence", *PATTERN_DEFAULTS, *EMAILS, *USER_NAMES}
LOCAL_FORMATS: tuple[tuple[float, tuple[str, ...]], ...] = (
    (0.30, ("first", ".", "last")),
    (0.12, ("first", "last")),
    (0.15, ("initial", "last")),
    (0.08, ("last", ".", "first")),
    (0.10, ("first", "_", "last")),
    (0.10, ("first", "##")),
    (0.10, ("last", "##")),
    (0.05, ("first", ".", "last", "##")),
)
"E-mail local parts: (weight, parts). Unique columns drop the ``##`` parts and end with a serial."
TRACE_DEPTH = 6
LOCALE_KEYS = ident(PREFIX + "locale_keys")


@dataclass(frozen=True)
class LocalePlan:
    locales: tuple[str, ...]
    index_sql: str | None
    "SQL of the row's 0-based index into ``locales``; None with a single locale."


# ----------------------------------------------------------------- dependencies


def _faker_spec(col: S.Column) -> S.FakerSpec | None:
    return col.generator.faker if isinstance(col.generator, S.FakerGen) else None


def name_sources(node: S.Node, column: S.Column) -> tuple[S.Column | None, S.Column | None]:
    """The row's faker columns an e-mail's first and last name come from (unmodified ones only)."""

    def find(methods: set[str]) -> S.Column | None:
        for c in node.columns:
            spec = _faker_spec(c)
            if c is not column and spec is not None and spec.method in methods and not c.modifiers:
                if not spec.model_extra:
                    return c
        return None

    first, last, full = find(FIRST), find(LAST), find(FULL)
    return (first or full, last or full)


def dependencies(spec: S.FakerSpec, column: S.Column, node: S.Node) -> list[str]:
    deps = [spec.locale_from] if spec.locale_from else []
    if spec.method in EMAILS or spec.method in USER_NAMES:
        deps += [c.name for c in name_sources(node, column) if c is not None]
    return list(dict.fromkeys(deps))


# ----------------------------------------------------------------- locales


def trace_values(ds: S.Dataset, node: S.Node, name: str, depth: int = 0) -> list[Any] | None:
    """The values a column can hold, when they are literals we can see at compile time; else None."""
    col = next((c for c in node.columns if c.name == name), None)
    if col is None or depth > TRACE_DEPTH:
        return None

    def trace(ref: str) -> list[Any] | None:
        table, column = ds.split_ref(ref)
        return trace_values(ds, ds.node(table), column, depth + 1)

    kind, spec = generator_of(col)
    values = kind.literals(spec, ds, trace)
    for mod in col.modifiers:
        if values is None:
            return None
        values = MODIFIERS[mod.transform].literals(mod.args, values)
    if values is None:
        return None
    return [*values, None] if col.nullable else values


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(value)
    return str(value)


def _mapped(values: list[Any]) -> dict[str, str]:
    """Traced locale values (as the column's text) → locales."""
    return {_text(v): to_locale(v) for v in values if v is not None}


def column_locales(spec: S.FakerSpec, node: S.Node, ds: S.Dataset) -> tuple[str, ...]:
    """The locales a column's values are built for: its own, the traced values of ``locale_from``
    (and the default locale, which takes unknown values), or every run-time locale."""
    if spec.locale_from is None:
        return (to_locale(spec.locale) if spec.locale else DEFAULT_LOCALE,)
    values = trace_values(ds, node, spec.locale_from)
    if values is None:
        return tuple(runtime_locales())
    mapped = _mapped(values)
    if len(set(mapped.values()) | ({DEFAULT_LOCALE} if None in values else set())) <= 1 and mapped:
        only = next(iter(mapped.values()))
        if None not in values:
            return (only,)
    if all(loc == DEFAULT_LOCALE for loc in mapped.values()):
        return (DEFAULT_LOCALE,)
    return tuple(dict.fromkeys([*mapped.values(), DEFAULT_LOCALE]))


def plan_locales(spec: S.FakerSpec, node: S.Node, ctx: ColumnContext, refs: VocabRefs) -> LocalePlan:
    locales = column_locales(spec, node, ctx.dataset)
    if spec.locale_from is None:
        return LocalePlan(locales, None)
    column = ctx.col(spec.locale_from)
    if len(locales) == 1:
        return LocalePlan(locales, None)
    values = trace_values(ctx.dataset, node, spec.locale_from)
    if values is not None:
        whens = " ".join(
            f"WHEN {lit(v)} THEN {locales.index(loc)}"
            for v, loc in _mapped(values).items()
            if loc != DEFAULT_LOCALE
        )
        default = locales.index(DEFAULT_LOCALE)
        return LocalePlan(locales, ctx.let(f"CASE CAST({column} AS VARCHAR) {whens} ELSE {default} END"))
    locales = tuple(runtime_locales())
    keys = runtime_keys()
    ctx.table.add_helper(
        LOCALE_KEYS,
        f"SELECT {list_of(list(keys), 'VARCHAR')} AS k, {list_of([locales.index(v) for v in keys.values()], 'INTEGER')} AS i",
    )
    key = f"upper(replace(trim(CAST({column} AS VARCHAR)), '-', '_'))"
    # the key lists ride in the column's joined table: a scalar subquery per use would be a join each
    keys_list, index_list = (
        refs.compute(f"(SELECT k FROM {LOCALE_KEYS})"),
        refs.compute(f"(SELECT i FROM {LOCALE_KEYS})"),
    )
    return LocalePlan(
        locales,
        f"coalesce({index_list}[list_position({keys_list}, {key})], {locales.index(DEFAULT_LOCALE)})",
    )


# ----------------------------------------------------------------- problems

PROBE_SEED = 0
"""Seeds the pools that :func:`problems` draws: the master seed is not known before planning, and
what a method's values look like (their type) and whether Faker can draw them at all do not depend
on it."""
PROBE_DRAWS = 100
"""Values a pool of a string column draws in :func:`problems` (no value is checked there, only that
Faker draws them). Full pools drew every pool twice: problems() took 4-7 s of a 10-15 s compile
of 32 methods × 9 locales, and of 5 methods × 43 run-time locales (2026-12, machine shared);
with 100 draws 0.6-2.5 s. Typed columns draw full pools: their values are checked."""
PARSE: dict[str, Callable[[str], Any]] = {
    "int": int,
    "float": float,
    "bool": lambda v: {"true": True, "false": False}[v.lower()],
    "date": lambda v: date.fromisoformat(v[:10]),
    "datetime": datetime.fromisoformat,
}
"How a column of each type reads a pool's text (the column's CAST, checked at compile time)."
DIGIT_PLACEHOLDERS = set("#%$!@")


def problems(spec: S.FakerSpec, column: S.Column, node: S.Node, ds: S.Dataset, path: str) -> list[Problem]:
    """Every schema problem of a faker column (``path`` is its JSON path), found without rendering.

    The method, its arguments and the locale keys are checked against Faker; then the column's
    trees are built for each of its locales (compile-time Python; pools drawn with
    :data:`PROBE_SEED`, each (locale, method, arguments) once per process) to find a method Faker
    cannot draw here and values the column's type cannot hold. :func:`render` raises no schema
    error for a column without problems.
    """
    found = _locale_problems(spec)
    method_problems = _method_problems(spec)
    found += method_problems
    if not method_problems:
        trees = _probe_column(spec, column, node, ds)
        if isinstance(trees, _compose().Unsupported):
            found.append((".generator.faker", f"{spec.method}() cannot be generated: {trees}"))
        else:
            wrong = _type_problem(spec, column.type, trees)
            if wrong is not None:
                found.append((".type", wrong))
    return [Problem(path + where, text) for where, text in found]


def _extras(spec: S.FakerSpec) -> dict[str, Any]:
    return dict(spec.model_extra or {})


def _locale_problems(spec: S.FakerSpec) -> list[tuple[str, str]]:
    if spec.locale and spec.locale_from:
        return [(".generator.faker", "give locale or locale_from, not both")]
    return []


def _method_problems(spec: S.FakerSpec) -> list[tuple[str, str]]:
    """The method and its arguments: (path suffix, message) for each problem."""
    where = ".generator.faker.method"
    method = spec.method
    if method.startswith("_"):
        return [(where, f"{method!r} is private to Faker; use a public Faker method such as 'name'")]
    bound = _compose().provider_method(DEFAULT_LOCALE, method)
    if bound is None and spec.locale:
        bound = _compose().provider_method(to_locale(spec.locale), method)
    if bound is None and method not in SPECIAL and not ALIASES.get(method):
        near = _suggest(method)
        hint = f"did you mean {near!r}?" if near else "see Faker's provider docs for method names."
        return [(where, f"{method!r} is not a Faker method; {hint}")]
    if bound is None:
        return []
    try:
        params = inspect.signature(bound).parameters
    except (TypeError, ValueError):
        return []
    extras = _extras(spec)
    found: list[tuple[str, str]] = []
    if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        known = ", ".join(p for p in params if params[p].kind != params[p].VAR_POSITIONAL) or "none"
        found += [
            (f".generator.faker.{key}", f"{method}() takes no argument {key!r}; its arguments are: {known}")
            for key in extras
            if key not in params
        ]
    missing = [
        n
        for n, p in params.items()
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and n not in extras
    ]
    if missing:
        found.append(
            (
                ".generator.faker",
                f"{method}() needs {', '.join(missing)}; give {'them' if len(missing) > 1 else 'it'} "
                f"as extra keys next to method",
            )
        )
    return found


def _suggest(method: str) -> str | None:
    """The Faker method meant: a common other spelling, the same name but for underscores and case
    (``firstName``), else the closest name."""
    names = _public_methods()
    key = method.lower().replace("-", "_")
    if key in SYNONYMS:
        return SYNONYMS[key]
    squashed = {n.replace("_", ""): n for n in names}
    if key.replace("_", "") in squashed:
        return squashed[key.replace("_", "")]
    near = difflib.get_close_matches(method, names, n=1)
    return near[0] if near else None


@cache
def _public_methods() -> list[str]:
    fake = _compose().faker_for(DEFAULT_LOCALE)
    return sorted(
        {n for p in fake.get_providers() for n in dir(p) if not n.startswith("_") and callable(getattr(p, n))}
    )


@cache
def _probe(locale: str, method: str, extras: str, draws: int | None) -> Node | Unsupported:
    """The tree of ``method(**extras)`` (extras as JSON) in ``locale``, or why Faker cannot give one;
    pools draw at most ``draws`` values (None: as many as a column's)."""
    try:
        return _value(
            _compose().Composer(locale, lambda token: PROBE_SEED, draws), method, json.loads(extras)
        )
    except _compose().Unsupported as e:
        return e


def _probe_trees(
    method: str, extras: Mapping[str, Any], locales: tuple[str, ...], draws: int | None = PROBE_DRAWS
) -> list[Node] | Unsupported:
    """Like :meth:`_Column.trees`: a locale without the method takes the default locale's tree."""
    key = json.dumps(extras, default=str)
    trees: list[Node] = []
    for locale in locales:
        tree = _probe(locale, method, key, draws)
        if isinstance(tree, _compose().Unsupported):
            tree = _probe(DEFAULT_LOCALE, method, key, draws)
        if isinstance(tree, _compose().Unsupported):
            return tree
        trees.append(tree)
    return trees


def _probe_column(
    spec: S.FakerSpec, column: S.Column, node: S.Node, ds: S.Dataset
) -> list[Node] | Unsupported:
    """The trees :func:`render` will build for the column (an e-mail: its name and domain parts)."""
    if spec.locale_from is not None and all(c.name != spec.locale_from for c in node.columns):
        locales: tuple[str, ...] = (DEFAULT_LOCALE,)  # a missing column: a problem of its own
    else:
        locales = column_locales(spec, node, ds)
    if spec.method not in EMAILS and spec.method not in USER_NAMES:
        return _probe_trees(
            spec.method, _extras(spec), locales, PROBE_DRAWS if column.type == "string" else None
        )
    first, last = name_sources(node, column)
    if spec.locale is None and spec.locale_from is None and (first or last):
        locales = column_locales(_faker_spec(first or last), node, ds)  # as _render_email
    trees = _probe_trees("name", {}, locales)
    if isinstance(trees, _compose().Unsupported) or spec.method in USER_NAMES or _extras(spec).get("domain"):
        return trees
    domain = _probe_trees(_domain_token(spec, _extras(spec)), {}, locales)
    return domain if isinstance(domain, _compose().Unsupported) else trees + domain


def _type_problem(spec: S.FakerSpec, kind: str, trees: list[Node]) -> str | None:
    """Why the column's type cannot hold the values of ``trees`` (None: it can)."""
    if kind == "string":
        return None
    text = f"{spec.method}() gives text; declare the column as string"
    if spec.method in EMAILS or spec.method in USER_NAMES:
        return text
    for tree in trees:
        if isinstance(tree, Pick) and ".pool." in tree.vocab.key:
            for v in tree.vocab.values:
                try:
                    PARSE[kind](v)
                except (ValueError, KeyError):
                    return (
                        f"{spec.method}() gives values like {v!r}, which a {kind} column cannot hold; "
                        f"declare the column as string"
                    )
        elif not (spec.method in ("numerify", "random_digit") and kind in ("int", "float")):
            return text
        elif isinstance(tree, Pattern) and not (
            set(tree.text) <= DIGIT_PLACEHOLDERS and set(tree.text) - set("!@")
        ):
            return text  # numerify("EMP-###"), or only optional digits (an empty value)
    return None


# ----------------------------------------------------------------- rendering


class _Column:
    """One faker column's trees per locale, rendered with that column's salts."""

    def __init__(self, ctx: ColumnContext, column: S.Column, spec: S.FakerSpec, refs: VocabRefs):
        self.ctx = ctx
        self.column = column
        self.spec = spec
        self.refs = refs
        self.plan = plan_locales(spec, ctx.node, ctx, refs)

    def salt(self, draw: str) -> int:
        t = self.ctx.table
        return derive_salt(t.seed, t.dataset.metadata.name, t.node.id, self.column.name, "faker/" + draw)

    def composer(self, locale: str) -> Composer:
        return _compose().Composer(locale, lambda token: self.salt(f"pool/{locale}/{token}"))

    def renderer(self) -> Renderer:
        return Renderer(self.salt, self.ctx.row, self.refs, locale=self.plan.index_sql, let=self.ctx.let)

    def trees(self, build: Callable[[Composer], Node]) -> list[Node]:
        out = []
        for locale in self.plan.locales:
            try:
                out.append(build(self.composer(locale)))
            except _compose().Unsupported:
                out.append(build(self.composer(DEFAULT_LOCALE)))
        return out

    def sql(self, trees: list[Node]) -> str:
        """One expression: the tree of the row's locale (a CASE on the locale index when several)."""
        r = self.renderer()
        if self.plan.index_sql is None or all(t == trees[0] for t in trees):
            return r.sql(trees[0])
        return r.sql_by_locale(trees)


def render(spec: S.FakerSpec, ctx: ColumnContext) -> Fragment:
    """The column's SQL; its :func:`problems` were empty, so nothing here is a schema error."""
    refs = VocabRefs(ctx.alias(), ctx.table.vocab_lists())
    column = _Column(ctx, ctx.column, spec, refs)
    extras = _extras(spec)
    try:
        if spec.method in EMAILS or spec.method in USER_NAMES:
            sql = _render_email(column, extras)
        else:
            trees = column.trees(lambda c: _value(c, spec.method, extras))
            wrong = _type_problem(spec, ctx.column.type, trees)
            assert wrong is None, f"{ctx.path}.type: {wrong} (with this seed's pools; problems() passed it)"
            sql = column.sql(trees)
    except _compose().Unsupported as e:
        raise AssertionError(
            f"{ctx.path}: {spec.method}() cannot be generated: {e} (problems() passed it)"
        ) from e
    if not refs.index and not refs.computed:
        return Fragment(sql)
    table, query = refs.table()
    if refs.index:
        ctx.table.sync_vocab()
    ctx.table.add_helper(table, query)
    # INNER: a one-row table joined ON TRUE is a plain cross product (a LEFT join runs as a
    # nested-loop join, ~4 ms per million rows more); the table is never empty.
    return Fragment(sql, Join(table, refs.alias, "TRUE", kind="INNER", one_row=True))


def _value(c: Composer, method: str, extras: Mapping[str, Any]) -> Node:
    if method not in SPECIAL and _compose().provider_method(c.locale, method) is None:
        if not any(_compose().provider_method(c.locale, a) for a in ALIASES.get(method, ())):
            raise _compose().Unsupported(f"no {method} for {c.locale}")
    return top(c, method, extras, "v")


# ----------------------------------------------------------------- e-mails


def _is_unique(ctx: ColumnContext) -> bool:
    return (
        f"{ctx.node.id}.{ctx.column.name}" in ctx.dataset.constraints.unique or ctx.node.pk == ctx.column.name
    )


def _part(ctx: ColumnContext, own: _Column, source: S.Column | None, role: str) -> str:
    """SQL of the folded first or last name: recomputed from the source column's picks, else own."""
    if source is not None:
        src = _Column(ctx, source, _faker_spec(source), own.refs)
        trees = src.trees(lambda c: top(c, src.spec.method, {}, "v"))
        parts = [project(t, role) for t in trees]
        if all(p is not None for p in parts):
            return src.sql(parts)
    trees = own.trees(lambda c: c.method("name", "name"))
    parts = [project(t, role) or Lit("user") for t in trees]
    return own.sql(parts)


def _render_email(column: _Column, extras: Mapping[str, Any]) -> str:
    ctx = column.ctx
    spec = column.spec
    first_src, last_src = name_sources(ctx.node, ctx.column)
    if spec.locale is None and spec.locale_from is None and (first_src or last_src):
        # no locale of its own: the domain follows the person's locale
        column.plan = plan_locales(_faker_spec(first_src or last_src), ctx.node, ctx, column.refs)
    first = _part(ctx, column, first_src, "first")
    last = _part(ctx, column, last_src, "last")
    unique = _is_unique(ctx)
    pieces: dict[str, Node] = {"first": Sql(first), "last": Sql(last), "initial": Sql(f"left({first}, 1)")}
    digits = Pattern("##", "local/digits", numerify=True, lexify=False)
    branches: list[tuple[float, Node]] = []
    for w, parts in LOCAL_FORMATS:
        if unique and "##" in parts:
            continue
        branches.append((w, concat(*[pieces.get(p) or (digits if p == "##" else Lit(p)) for p in parts])))
    value = switch("local/fmt", branches)
    if unique:
        value = concat(value, Sql(_serial(column)))
    if spec.method not in USER_NAMES:
        value = concat(value, Lit("@"), Sql(_domain(column, extras)))
    # one concat per row: the local part's formats become aligned arguments (see faker.lower)
    return column.renderer().sql(value)


def _serial(column: _Column) -> str:
    """SQL of a number unique to the row: with a known row count N, ``(row * 1234577 + k) mod 10^d``
    (10^d >= N; 1234577 is coprime to 10, so this is a bijection of [0, 10^d)); else ``dg_fk_serial``."""
    ctx = column.ctx
    rows = ctx.facts(ctx.node.id).rows if ctx.node.id in ctx.table.known else None
    if rows is None:
        return f"dg_fk_serial({ctx.row}, {column.salt('serial') % 1_000_003})"
    modulus = 10 ** len(str(max(rows - 1, 1)))
    return f"(({ctx.row} * 1234577 + {column.salt('serial') % modulus}) % {modulus})"


def _domain_token(spec: S.FakerSpec, extras: Mapping[str, Any]) -> str:
    """The Faker method an e-mail's domain comes from (without a ``domain`` argument)."""
    kind = EMAILS[spec.method]
    if "safe" in extras and spec.method == "email":
        kind = "safe" if extras["safe"] else "free"
    return {"free": "free_email_domain", "safe": "safe_domain_name", "company": "domain_name"}[kind]


def _domain(column: _Column, extras: Mapping[str, Any]) -> str:
    if extras.get("domain"):
        return lit(str(extras["domain"]).lower())
    token = _domain_token(column.spec, extras)
    return column.sql(column.trees(lambda c: c.method(token, f"domain/{token}")))


# ----------------------------------------------------------------- the kind


class Faker(GeneratorKind):
    key = "faker"
    costly = True

    def check(self, spec: S.FakerSpec, site: Site) -> None:
        if spec.locale_from and (
            site.refs.column(f"{site.path}.generator.faker.locale_from", site.node, spec.locale_from) is None
        ):
            return
        site.refs.problems.extend(problems(spec, site.column, site.node, site.ds, site.path))

    def reads(self, spec: S.FakerSpec, column: S.Column, node: S.Node) -> list[str]:
        return dependencies(spec, column, node)

    def render(self, spec: S.FakerSpec, ctx: ColumnContext) -> Fragment:
        return render(spec, ctx)
