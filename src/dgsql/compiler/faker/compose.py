"""Faker methods → composition trees (:mod:`dgsql.compiler.faker.tree`), per locale, at compile time.

For each token the composer looks at the function Faker would run for that
locale. When it is one of Faker's generic implementations listed in
:data:`HANDLERS` (a pick from a list attribute, a weighted list of format
strings to parse, a list of ``#``/``?`` patterns), the tree reproduces it from
the locale's own data, with Faker's weights. Anything else — a locale's own
code, an unknown method — becomes a *pool*: :data:`POOL_SIZE` values drawn by a
Faker seeded from the column's salt, embedded with their observed frequencies.
A pool is exact for list-like methods (every value shows up, weighted as Faker
draws it) and caps the distinct values of free-form ones at the pool size.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime, tzinfo
from functools import cache
from typing import Any

from faker import Faker
from faker.generator import _re_token
from faker.providers import BaseProvider
from faker.providers import address as address_p
from faker.providers import automotive as automotive_p
from faker.providers import company as company_p
from faker.providers import date_time as date_time_provider
from faker.providers import internet as internet_p
from faker.providers import job as job_p
from faker.providers import lorem as lorem_p
from faker.providers import person as person_p
from faker.providers import phone_number as phone_p
from faker.providers.address import en_US as address_en_US

from dgsql.compiler.faker.tree import Digits, Func, Lit, Node, Pattern, Pick, concat, project, switch
from dgsql.compiler.faker.vocab import Fold, Vocab, make_vocab, pool_vocab

POOL_SIZE = 2000
"Values drawn for a column's pool (distinct ones are kept, weighted by their counts)."
NESTED_POOL_SIZE = 200
"Values drawn for a pool inside a composed value (a rare ``{{military_apo}}`` in an address)."
POOL_TEXT_BUDGET = 96_000
"A pool stops growing once its values hold this many characters (keeps the script small)."
MAX_DEPTH = 8
NAME_LIST = re.compile(r"^(first|last)_(romanized_)?names")

ROLES = {
    "first_name": "first",
    "first_name_male": "first",
    "first_name_female": "first",
    "first_name_nonbinary": "first",
    "first_romanized_name": "first",
    "last_name": "last",
    "last_name_male": "last",
    "last_name_female": "last",
    "last_name_nonbinary": "last",
    "last_romanized_name": "last",
}
"Name tokens whose picks an e-mail reuses (as their ASCII-folded forms)."


def to_text(value: Any) -> str:
    """A Faker value as the text the column's CAST reads (dates in ISO form, booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        try:
            return value.isoformat(sep=" ")
        except TypeError:
            return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


class Unsupported(Exception):
    """The token cannot be composed (nor pooled) for this locale."""


# Faker lists built from a set: their order (and so a seeded pool drawn from them) changes with
# PYTHONHASHSEED, i.e. from one process to the next; dgsql sorts them. tests/test_faker.py checks
# that no other list of the runtime locales moves.
HASH_ORDERED = {"it_IT": ("address", "cities")}


FAKER_NOW = datetime(2026, 1, 1)
"""The "now" of Faker's date and time providers while pools are drawn: ``date()``,
``date_time()``, ``credit_card_expire()``… end at the wall clock, so without it the same
seed gave other values on another day."""


class _Frozen(type):
    """Real dates and datetimes stay instances of the frozen classes (Faker checks types)."""

    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, cls.__mro__[1])


class _FrozenDatetime(datetime, metaclass=_Frozen):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        return FAKER_NOW.replace(tzinfo=tz) if tz is not None else FAKER_NOW

    @classmethod
    def today(cls) -> datetime:  # type: ignore[override]
        return FAKER_NOW


class _FrozenDate(date, metaclass=_Frozen):
    @classmethod
    def today(cls) -> date:  # type: ignore[override]
        return FAKER_NOW.date()


@contextmanager
def frozen_clock() -> Iterator[None]:
    """Faker's date and time providers see :data:`FAKER_NOW` as the current time."""
    saved = (date_time_provider.datetime, date_time_provider.dtdate)
    date_time_provider.datetime, date_time_provider.dtdate = _FrozenDatetime, _FrozenDate
    try:
        yield
    finally:
        date_time_provider.datetime, date_time_provider.dtdate = saved


@cache
def faker_for(locale: str) -> Faker:
    fake = Faker(locale)
    if locale in HASH_ORDERED:
        module, attr = HASH_ORDERED[locale]
        provider = fake.provider(f"faker.providers.{module}")
        if provider is not None:
            setattr(provider, attr, sorted(getattr(provider, attr)))
    return fake


def provider_method(locale: str, name: str) -> Callable[..., Any] | None:
    """The bound provider method Faker runs for ``name`` in ``locale``, or None when it has none."""
    if name.startswith("_"):
        return None
    fake = faker_for(locale)
    try:
        bound = getattr(fake, name)
    except AttributeError:
        return None
    owner = getattr(bound, "__self__", None)
    if not isinstance(owner, BaseProvider) or not callable(bound):
        return None
    return bound


def formats_of(value: Any) -> list[tuple[str, float]]:
    """A Faker format list (tuple, list or weighted OrderedDict) as merged (format, weight) pairs."""
    items = list(value.items()) if isinstance(value, Mapping) else [(f, 1.0) for f in value]
    merged: dict[str, float] = {}
    for f, w in items:
        merged[str(f)] = merged.get(str(f), 0.0) + float(w)
    return list(merged.items())


_VOCABS: dict[tuple[str, bool], Vocab] = {}
"""Faker's lists as vocabularies, per (key, folded), for the whole process: a key names one list of
one locale, so every composer of that locale builds the same vocabulary. Folding the names is most
of the cost of building a tree (users_events.json: 0.5 s of 0.65 s), and a column's trees are built
more than once (its problems, its SQL, an e-mail recomputing its name columns)."""


class Composer:
    """Builds trees for one locale. ``pool_seed(token)`` seeds the Faker that fills a pool."""

    def __init__(self, locale: str, pool_seed: Callable[[str], int], pool_limit: int | None = None):
        self.locale = locale
        self.fake = faker_for(locale)
        self.pool_seed = pool_seed
        self.pool_limit = pool_limit
        "Draw at most this many values per pool (a probe that needs no values, only whether Faker draws)."
        self.fold = self._fold()
        self._vocabs: dict[str, Vocab] = {}

    # -- vocabularies --------------------------------------------------------
    def _fold(self) -> Fold:
        internet = provider_method(self.locale, "user_name")
        replacements = tuple(getattr(internet.__self__, "replacements", ())) if internet else ()
        romanized: dict[str, str] = {}
        person = provider_method(self.locale, "first_name")
        if person is not None:
            for attr in (
                "first_name_pairs",
                "last_name_pairs",
                "first_name_female_pairs",
                "first_name_male_pairs",
            ):
                for pair in getattr(person.__self__, attr, ()):
                    if isinstance(pair, tuple) and len(pair) >= 3:
                        romanized[pair[0]] = pair[-1]
        return Fold(replacements, romanized)

    def vocab(self, attr: str, items: Any, role: str | None = None, lower: bool = False) -> Vocab:
        """The locale's list ``attr`` (name lists carry their folded forms)."""
        key = f"{self.locale}.{attr}" + (".lower" if lower else "")
        role = role or ("name" if NAME_LIST.search(attr) else None)
        if key not in self._vocabs:
            shared = (key, role is not None)
            if shared not in _VOCABS:
                if lower:
                    items = (
                        {str(k).lower(): w for k, w in items.items()}
                        if isinstance(items, Mapping)
                        else [str(v).lower() for v in items]
                    )
                _VOCABS[shared] = make_vocab(key, items, self.fold if role else None)
            self._vocabs[key] = _VOCABS[shared]
        return self._vocabs[key]

    def pool(
        self, token: str, kwargs: Mapping[str, Any] | None = None, fold: bool = False, size: int = POOL_SIZE
    ) -> Vocab:
        """``POOL_SIZE`` values of ``token(**kwargs)`` from a Faker seeded for this column and token."""
        method = provider_method(self.locale, token)
        if method is None:
            raise Unsupported(f"Faker has no method {token!r} for {self.locale}")
        if self.pool_limit is not None:
            size = min(size, self.pool_limit)
        fake = self.fake
        fake.seed_instance(self.pool_seed(token))
        samples: list[str] = []
        chars = 0
        with frozen_clock():
            try:
                for _ in range(size):
                    value = to_text(getattr(fake, token)(**(kwargs or {})))
                    samples.append(value)
                    chars += len(value)
                    if chars > POOL_TEXT_BUDGET:
                        break
            except Exception as e:  # Faker's own error for these arguments
                raise Unsupported(
                    f"Faker's {token}() failed for {self.locale}: {type(e).__name__}: {e}"
                ) from None
        return pool_vocab(f"{self.locale}.pool.{token}", samples, self.fold if fold else None)

    # -- tokens --------------------------------------------------------------
    def method(self, token: str, draw: str, depth: int = 0) -> Node:
        """The tree for ``{{token}}`` in this locale (a pool when its code is not generic)."""
        bound = provider_method(self.locale, token)
        if bound is None:
            raise Unsupported(f"Faker has no method {token!r} for {self.locale}")
        handler = HANDLERS.get(getattr(bound, "__func__", None))
        if handler is not None and depth < MAX_DEPTH:
            try:
                return handler(self, bound.__self__, token, draw, depth)
            except Unsupported:
                pass
        size = POOL_SIZE if depth == 0 else NESTED_POOL_SIZE
        return Pick(self.pool(token, fold=token in ROLES, size=size), draw, ROLES.get(token))

    def template(self, fmt: str, draw: str, depth: int, folded: bool = False) -> Node:
        """A Faker format string: literal text and ``{{token}}`` parts (draws shared across formats)."""
        parts: list[Node] = []
        seen: dict[str, int] = {}
        pos = 0
        for m in _re_token.finditer(fmt):
            parts.append(Lit(fmt[pos : m.start()]))
            pos = m.end()
            token = m.group(1)
            if m.group(2):
                raise Unsupported(f"format argument in {fmt!r}")
            key = ROLES.get(token, token)
            n = seen.get(key, 0)
            seen[key] = n + 1
            node = self.method(token, f"{draw}/{key}#{n}", depth + 1)
            if folded:
                node = project(node, ROLES[token]) if token in ROLES else None
                if node is None:
                    raise Unsupported(f"{token!r} in a user name format")
            parts.append(node)
        parts.append(Lit(fmt[pos:]))
        return concat(*parts)

    def formats(self, value: Any, draw: str, depth: int) -> Node:
        return switch(f"{draw}/fmt", [(w, self.template(f, draw, depth)) for f, w in formats_of(value)])

    def patterns(self, value: Any, draw: str, **pattern: Any) -> Node:
        # one draw for all formats: their placeholders line up (``###-####`` and ``(###) ###-####``
        # share their digit runs), so the renderer keeps them as plain arguments
        return switch(f"{draw}/fmt", [(w, Pattern(f, f"{draw}/p", **pattern)) for f, w in formats_of(value)])

    def name_part(self, role: str, draw: str) -> Node:
        """The folded first or last name pick of this locale (for e-mails and domains)."""
        node = project(self.method(f"{role}_name", f"{draw}/{role}#0"), role)
        if node is None:
            raise Unsupported(f"no {role} name for {self.locale}")
        return node


Handler = Callable[[Composer, Any, str, str, int], Node]


def element(attr: str, lower: bool = False) -> Handler:
    def handle(c: Composer, p: Any, token: str, draw: str, depth: int) -> Node:
        items = getattr(p, attr, None)
        if not items:
            raise Unsupported(attr)
        return Pick(c.vocab(attr, items, ROLES.get(token), lower), draw, ROLES.get(token))

    return handle


def gendered(attr: str, fallback: str) -> Handler:
    """``first_name_male``: its own list when the locale has one, else ``first_name``."""

    def handle(c: Composer, p: Any, token: str, draw: str, depth: int) -> Node:
        if getattr(p, attr, None):
            return element(attr)(c, p, token, draw, depth)
        node = c.method(fallback, draw, depth + 1)
        return Pick(node.vocab, node.draw, ROLES.get(token)) if isinstance(node, Pick) else node

    return handle


def parsed(attr: str, fallback: str | None = None) -> Handler:
    """``random_element(self.<attr>)`` parsed as a format (``name``, ``address``, ``company``…)."""

    def handle(c: Composer, p: Any, token: str, draw: str, depth: int) -> Node:
        value = getattr(p, attr, None) if hasattr(p, attr) else getattr(p, fallback or attr, None)
        if not value:
            raise Unsupported(attr)
        return c.formats(value, draw, depth)

    return handle


def numerified(attr: str) -> Handler:
    def handle(c: Composer, p: Any, token: str, draw: str, depth: int) -> Node:
        return c.patterns(getattr(p, attr), draw, lexify=False)

    return handle


def _prefix(kind: str) -> Handler:
    """Faker's ``prefix``/``suffix``: the plain list, or either gendered list, or nothing."""

    def handle(c: Composer, p: Any, token: str, draw: str, depth: int) -> Node:
        if getattr(p, f"{kind}es", None):
            return element(f"{kind}es")(c, p, token, draw, depth)
        male, female = getattr(p, f"{kind}es_male", None), getattr(p, f"{kind}es_female", None)
        if male and female:
            return switch(
                f"{draw}/g",
                [
                    (1.0, Pick(c.vocab(f"{kind}es_male", male), draw)),
                    (1.0, Pick(c.vocab(f"{kind}es_female", female), draw)),
                ],
            )
        return Lit("")

    return handle


def _gendered_prefix(kind: str, gender: str) -> Handler:
    def handle(c: Composer, p: Any, token: str, draw: str, depth: int) -> Node:
        if getattr(p, f"{kind}es_{gender}", None):
            return element(f"{kind}es_{gender}")(c, p, token, draw, depth)
        return c.method(kind, draw, depth + 1)

    return handle


def _postcode(c: Composer, p: Any, token: str, draw: str, depth: int) -> Node:
    return Func("upper", c.patterns(p.postcode_formats, draw))


def _us_zip(c: Composer, p: Any, token: str, draw: str, depth: int) -> Node:
    return Digits(draw, 5, 501, 99450)  # Faker: "%05d" % randint(501, 99950)


def _us_state_abbr(c: Composer, p: Any, token: str, draw: str, depth: int) -> Node:
    items = tuple(p.states_abbr) + tuple(p.territories_abbr) + tuple(p.freely_associated_states_abbr)
    return Pick(c.vocab("state_abbr_all", items), draw)


def _license_plate(c: Composer, p: Any, token: str, draw: str, depth: int) -> Node:
    if not p.license_formats:
        raise Unsupported("license_formats")
    return c.patterns(p.license_formats, draw, letters=string.ascii_uppercase)


def _catch_phrase(c: Composer, p: Any, token: str, draw: str, depth: int) -> Node:
    parts: list[Node] = []
    for i, words in enumerate(p.catch_phrase_words):
        parts += [Lit(" ") if i else Lit(""), Pick(c.vocab(f"catch_phrase_words.{i}", words), f"{draw}/{i}")]
    return concat(*parts)


def _domain_word(c: Composer, p: Any, token: str, draw: str, depth: int) -> Node:
    return c.name_part("last", draw)


def _user_name(c: Composer, p: Any, token: str, draw: str, depth: int) -> Node:
    branches = []
    for fmt, w in formats_of(p.user_name_formats):
        pieces: list[Node] = []
        pos = 0
        for m in _re_token.finditer(fmt):
            pieces.append(
                Pattern(fmt[pos : m.start()].lower(), f"{draw}/lit{len(pieces)}", string.ascii_lowercase)
            )
            pos = m.end()
            pieces.append(c.template(m.group(0), draw, depth, folded=True))
        pieces.append(Pattern(fmt[pos:].lower(), f"{draw}/lit{len(pieces)}", string.ascii_lowercase))
        branches.append((w, concat(*[q for q in pieces if not (isinstance(q, Pattern) and not q.text)])))
    return switch(f"{draw}/fmt", branches)


def _domain_name(c: Composer, p: Any, token: str, draw: str, depth: int) -> Node:
    return concat(c.name_part("last", f"{draw}/word"), Lit("."), c.method("tld", f"{draw}/tld", depth + 1))


def _url(c: Composer, p: Any, token: str, draw: str, depth: int) -> Node:
    scheme = switch(f"{draw}/scheme", [(1.0, Lit("http://")), (1.0, Lit("https://"))])
    return concat(scheme, c.formats(p.url_formats, draw, depth))


def _word(c: Composer, p: Any, token: str, draw: str, depth: int) -> Node:
    return Pick(c.vocab("word_list", p.get_words_list()), draw)


HANDLERS: dict[Any, Handler] = {
    person_p.Provider.name: parsed("formats"),
    person_p.Provider.name_male: parsed("formats_male", "formats"),
    person_p.Provider.name_female: parsed("formats_female", "formats"),
    person_p.Provider.name_nonbinary: parsed("formats_nonbinary", "formats"),
    person_p.Provider.first_name: element("first_names"),
    person_p.Provider.last_name: element("last_names"),
    person_p.Provider.first_name_male: gendered("first_names_male", "first_name"),
    person_p.Provider.first_name_female: gendered("first_names_female", "first_name"),
    person_p.Provider.first_name_nonbinary: gendered("first_names_nonbinary", "first_name"),
    person_p.Provider.last_name_male: gendered("last_names_male", "last_name"),
    person_p.Provider.last_name_female: gendered("last_names_female", "last_name"),
    person_p.Provider.last_name_nonbinary: gendered("last_names_nonbinary", "last_name"),
    person_p.Provider.prefix: _prefix("prefix"),
    person_p.Provider.suffix: _prefix("suffix"),
    person_p.Provider.prefix_male: _gendered_prefix("prefix", "male"),
    person_p.Provider.prefix_female: _gendered_prefix("prefix", "female"),
    person_p.Provider.suffix_male: _gendered_prefix("suffix", "male"),
    person_p.Provider.suffix_female: _gendered_prefix("suffix", "female"),
    address_p.Provider.city_suffix: element("city_suffixes"),
    address_p.Provider.street_suffix: element("street_suffixes"),
    address_p.Provider.building_number: numerified("building_number_formats"),
    address_p.Provider.city: parsed("city_formats"),
    address_p.Provider.street_name: parsed("street_name_formats"),
    address_p.Provider.street_address: parsed("street_address_formats"),
    address_p.Provider.address: parsed("address_formats"),
    address_p.Provider.postcode: _postcode,
    address_p.Provider.country: element("countries"),
    address_en_US.Provider.postcode: _us_zip,
    address_en_US.Provider.zipcode: _us_zip,
    address_en_US.Provider.postalcode: _us_zip,
    address_en_US.Provider.state_abbr: _us_state_abbr,
    address_en_US.Provider.administrative_unit: element("states"),
    address_en_US.Provider.city_prefix: element("city_prefixes"),
    address_en_US.Provider.secondary_address: numerified("secondary_address_formats"),
    company_p.Provider.company: parsed("formats"),
    company_p.Provider.company_suffix: element("company_suffixes"),
    company_p.Provider.catch_phrase: _catch_phrase,
    job_p.Provider.job: element("jobs"),
    phone_p.Provider.phone_number: numerified("formats"),
    automotive_p.Provider.license_plate: _license_plate,
    internet_p.Provider.free_email_domain: element("free_email_domains", lower=True),
    internet_p.Provider.safe_domain_name: element("safe_domain_names", lower=True),
    internet_p.Provider.tld: element("tlds"),
    internet_p.Provider.domain_word: _domain_word,
    internet_p.Provider.user_name: _user_name,
    internet_p.Provider.domain_name: _domain_name,
    internet_p.Provider.url: _url,
    lorem_p.Provider.word: _word,
}
