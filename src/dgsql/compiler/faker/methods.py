"""The tree for a whole ``faker`` column value in one locale: special composers, then Faker's own.

Special composers cover what Faker computes rather than looks up:
``uuid4`` (RFC 4122 version 4 from two hashes of the row: unique, since
DuckDB's integer hash is a bijection), ``ipv4``, ``iban`` (mod-97 check digits
computed in SQL), ``bothify``/``numerify``/``lexify``/``hexify`` with ``text``,
and ``sentence``. E-mails and user names are composed by the generator
(they read the row's name columns). Everything else goes through
:class:`~dgsql.compiler.faker.compose.Composer`.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from dgsql.compiler.faker.tree import Lit, Node, Pattern, Pick, Raw, concat, switch
from dgsql.compiler.sqltext import lit

if TYPE_CHECKING:
    from dgsql.compiler.faker.compose import Composer

ALIASES = {
    "state": ("administrative_unit", "region", "province", "prefecture", "county"),
    "state_abbr": ("administrative_unit", "region", "province", "prefecture", "county"),
    "administrative_unit": ("state", "region", "province", "prefecture", "county"),
    "zipcode": ("postcode",),
    "postalcode": ("postcode",),
    "postcode": ("zipcode", "postalcode"),
}
"Where a locale lacks a method, the closest one it has (a GB ``state`` is a county)."

SYNONYMS = {
    "fullname": "name",
    "full_name": "name",
    "person": "name",
    "forename": "first_name",
    "given_name": "first_name",
    "surname": "last_name",
    "family_name": "last_name",
    "mail": "email",
    "e_mail": "email",
    "email_address": "email",
    "login": "user_name",
    "phone": "phone_number",
    "telephone": "phone_number",
    "mobile": "phone_number",
    "postal_code": "postcode",
    "street": "street_address",
    "company_name": "company",
    "organization": "company",
    "job_title": "job",
    "uuid": "uuid4",
    "guid": "uuid4",
    "ip": "ipv4",
    "ip_address": "ipv4",
    "country_name": "country",
    "website": "url",
    "text_sentence": "sentence",
}
"Method names people write (other generators' spellings) → Faker's, for a 'did you mean'."

PATTERN_DEFAULTS = {
    "numerify": {"text": "###"},
    "lexify": {"text": "????", "letters": string.ascii_letters},
    "bothify": {"text": "## ??", "letters": string.ascii_letters},
    "hexify": {"text": "^^^^", "upper": False},
}


def _uuid4(draw: str) -> Node:
    def build(u: Callable[[str], str], salt: Callable[[str], int], row: str) -> str:
        # hash() of one BIGINT is a bijection of 64-bit values, so h1 alone makes the value unique;
        # all 16 of its hex digits are kept, the version and variant nibbles come around them.
        return f"dg_fk_uuid4(dg_fk_hex(hash({row} + {salt(draw + '/1')})), dg_fk_hex(hash({row} + {salt(draw + '/2')})))"

    return Raw(build, f"uuid4:{draw}")


def _ipv4(draw: str) -> Node:
    def build(u: Callable[[str], str], salt: Callable[[str], int], row: str) -> str:
        return f"dg_fk_ipv4(hash({row} + {salt(draw)}))"

    return Raw(build, f"ipv4:{draw}")


# IBAN letters count as two digits (A=10 … Z=35); the check is 98 - (bban ‖ country ‖ "00") mod 97.
def _iban(c: Composer, draw: str) -> Node:
    from dgsql.compiler.faker.compose import Unsupported, provider_method  # imports Faker: only when used

    bank = provider_method(c.locale, "iban")
    if bank is None:
        raise Unsupported("iban")
    provider = bank.__self__
    fmt, country = str(provider.bban_format), str(provider.country_code)
    if set(fmt) - {"#", "?"}:
        raise Unsupported("bban format")
    runs: list[tuple[str, int]] = []
    for ch in fmt:
        if runs and runs[-1][0] == ch == "#" and runs[-1][1] < 15:
            runs[-1] = ("#", runs[-1][1] + 1)
        else:
            runs.append((ch, 1))
    tail = "".join(str(ord(ch) - 55) for ch in country) + "00"

    def build(u: Callable[[str], str], salt: Callable[[str], int], row: str) -> str:
        digits_after = len(tail)
        weights: list[tuple[str, int]] = []
        shown: list[str] = []
        for i, (kind, n) in reversed(list(enumerate(runs))):
            uu = u(f"{draw}/{i}")
            if kind == "#":
                value = f"floor({uu} * {10**n})::BIGINT"
                shown.append(f"lpad({value}::VARCHAR, {n}, '0')")
                weights.append((f"({value} % 97)", pow(10, digits_after, 97)))
                digits_after += n
            else:
                value = f"(10 + floor({uu} * 26)::BIGINT)"
                shown.append(f"chr((55 + {value})::INTEGER)")
                weights.append((value, pow(10, digits_after, 97)))
                digits_after += 2
        total = " + ".join(f"{v} * {w}" for v, w in weights) + f" + {int(tail) % 97}"
        check = f"lpad((98 - ({total}) % 97)::VARCHAR, 2, '0')"
        return f"concat({lit(country)}, {check}, " + ", ".join(reversed(shown)) + ")"

    return Raw(build, f"iban.{c.locale}:{draw}")


def _sentence(c: Composer, draw: str, nb_words: int = 6, variable_nb_words: bool = True) -> Node:
    from dgsql.compiler.faker.compose import Unsupported, provider_method  # imports Faker: only when used

    words = provider_method(c.locale, "word")
    if words is None:
        raise Unsupported("word")
    word_list = [str(w) for w in words.__self__.get_words_list()]
    plain = c.vocab("word_list", word_list)
    capital = c.vocab("word_list.capitalized", [w[:1].upper() + w[1:] for w in word_list])
    counts: dict[int, float] = {}
    if variable_nb_words:
        for r in range(60, 141):  # Faker's randomize_nb_elements: nb * U{60..140} / 100, at least 1
            n = max(1, int(nb_words * r / 100))
            counts[n] = counts.get(n, 0) + 1.0
    else:
        counts[max(1, nb_words)] = 1.0
    branches = []
    for n, w in sorted(counts.items()):
        parts: list[Node] = [Pick(capital, f"{draw}/w0")]
        for i in range(1, n):
            parts += [Lit(" "), Pick(plain, f"{draw}/w{i}")]
        branches.append((w, concat(*parts, Lit("."))))
    return switch(f"{draw}/n", branches)


def _pattern(method: str, kwargs: Mapping[str, Any], draw: str) -> Node:
    args = {**PATTERN_DEFAULTS[method], **kwargs}
    text = str(args["text"])
    if method == "hexify":
        return Pattern(text, draw, numerify=False, lexify=False, hexify=True, upper_hex=bool(args["upper"]))
    letters = str(args.get("letters", string.ascii_letters)) or string.ascii_letters
    return Pattern(text, draw, letters, numerify=method != "lexify", lexify=method != "numerify")


def top(c: Composer, method: str, kwargs: Mapping[str, Any], draw: str) -> Node:
    """The tree of ``method(**kwargs)`` in the composer's locale (a pool when nothing better fits)."""
    from dgsql.compiler.faker.compose import Unsupported, provider_method  # imports Faker: only when used

    if method in PATTERN_DEFAULTS:
        return _pattern(method, kwargs, draw)
    if not kwargs:
        if method == "uuid4":
            return _uuid4(draw)
        if method == "ipv4":
            return _ipv4(draw)
        if method == "iban":
            try:
                return _iban(c, draw)
            except Unsupported:
                pass
    if method == "sentence" and set(kwargs) <= {"nb_words", "variable_nb_words"}:
        try:
            return _sentence(
                c, draw, int(kwargs.get("nb_words", 6)), bool(kwargs.get("variable_nb_words", True))
            )
        except (Unsupported, TypeError, ValueError):
            pass
    if kwargs:
        return Pick(c.pool(method, kwargs), draw)
    for name in (method, *ALIASES.get(method, ())):
        if provider_method(c.locale, name) is not None:
            node = c.method(name, draw)
            return node
    raise Unsupported(f"Faker has no method {method!r} for {c.locale}")
