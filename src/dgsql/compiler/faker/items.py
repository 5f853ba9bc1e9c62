"""Flat items: what a tree lowers to (see :meth:`dgsql.compiler.faker.lower.Lowering.flat`).

A lowered value is one sequence of concat arguments (:data:`Seq`): the tree's
leaves (literals, picks, digit runs, SQL) plus the items that stand for a
choice inside a concatenation (:class:`Choice`) and for parts shared by
several locales or formats (:class:`UPick`, :class:`UChoice`, :class:`ByKey`).
Also the small lists those items pick from: single characters and zero-padded
digit strings (:data:`DIGITS`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from dgsql.compiler.faker.tree import Digits, Func, Lit, Pick, Raw, Sql
from dgsql.compiler.faker.vocab import Vocab, digits_vocab


@dataclass(frozen=True)
class Opt:
    """Faker's ``!`` (a digit or nothing, ``low`` 0) and ``@`` (1-9 or nothing, ``low`` 1)."""

    draw: str
    low: int


@dataclass(frozen=True)
class Choice:
    """One concat argument that differs between the branches of a switch: ``alts[i]`` (a flat sequence)
    for the rows whose uniform falls in branch ``i``'s interval (upper ``bounds[i]``)."""

    draw: str
    bounds: tuple[float, ...]
    alts: tuple[Seq, ...]


@dataclass(frozen=True)
class Seg:
    """One locale's share of a union list: a vocabulary's list (``v`` or ``f``) with a literal prefix and
    suffix glued to every value, or (``vocab`` None) the single value ``text``."""

    vocab: Vocab | None
    column: str = "v"
    text: str = ""
    prefix: str = ""
    suffix: str = ""


@dataclass(frozen=True)
class Key:
    """What selects a union's segment: the row's locale (``draw`` None), or the branch of a switch of
    many formats, drawn as ``counts[k]`` of ``sum(counts)`` equal slots of the draw's hash."""

    draw: str | None = None
    counts: tuple[int, ...] = ()


LOCALE = Key()


@dataclass(frozen=True)
class UPick:
    """Picks of several locales (or formats) as one: ``union[1 + offset[key] + hash % size[key]]``."""

    segs: tuple[Seg, ...]
    "Per key value."
    draw: str | None
    "The draw all the segments' picks share (None: literals only)."
    key: Key = LOCALE


@dataclass(frozen=True)
class UChoice:
    """Several locales' choices between formats as one ``CASE``: super-branch ``k`` takes, in locale ``l``,
    the rows whose hash falls in ``spans[k][l]`` (empty when that locale has no such format)."""

    draw: str
    spans: tuple[tuple[tuple[float, float], ...], ...]
    alts: tuple[Seq, ...]


@dataclass(frozen=True)
class ByKey:
    """A part the locales (formats) do not share: a ``CASE`` on the key (``None``: no row takes it)."""

    seqs: tuple[Seq | None, ...]
    key: Key = LOCALE


Item = Lit | Pick | Digits | Opt | Choice | Func | Raw | Sql | UPick | UChoice | ByKey
Seq = tuple[Item, ...]


def chars_vocab(chars: str) -> Vocab:
    """Single characters as a list (a letter of a pattern is a pick from it)."""
    return Vocab("chars." + hashlib.sha256(chars.encode()).hexdigest()[:12], tuple(chars))


HEX_LOWER = chars_vocab("0123456789abcdef")
HEX_UPPER = chars_vocab("0123456789ABCDEF")
NONZERO = {"%": chars_vocab("123456789"), "$": chars_vocab("23456789")}
DIGITS = {n: digits_vocab(n) for n in (1, 2, 3, 4)}
"Zero-padded digit strings of 1-4 digits, built in SQL by the script (no literals)."
MAX_DIGITS_PICK = 4


def merge_lits(items: list[Item]) -> Seq:
    out: list[Item] = []
    for item in items:
        if isinstance(item, Lit):
            if not item.text:
                continue
            if out and isinstance(out[-1], Lit):
                out[-1] = Lit(out[-1].text + item.text)
                continue
        out.append(item)
    return tuple(out)
