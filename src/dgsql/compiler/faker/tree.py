"""The composition tree of a Faker value: what the composer builds and the renderer reads.

Faker builds values by parsing format strings (``{{first_name}} {{last_name}}``),
picking list elements and filling ``#``/``?`` patterns. The composer
(:mod:`dgsql.compiler.faker.compose`) turns that into these nodes at compile
time; :mod:`dgsql.compiler.faker.render` turns them into one DuckDB expression
per row. Every random decision is a node with a *draw* name, drawn from the
64-bit hash ``hash(row + salt(draw))`` (``dg_uniform`` scaled to [0, 1)), so a
value is a pure function of the row.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass, field

from dgsql.compiler.faker.vocab import Vocab


@dataclass(frozen=True)
class Lit:
    text: str


@dataclass(frozen=True)
class Pick:
    vocab: Vocab
    draw: str
    role: str | None = None
    "``first`` or ``last`` for name parts (an e-mail reuses them), else None."
    folded: bool = False
    "Use the ASCII-folded form (e-mail local parts)."


@dataclass(frozen=True)
class Concat:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Switch:
    """One of several branches, by weight (Faker's weighted format lists)."""

    draw: str
    branches: tuple[tuple[float, Node], ...]


@dataclass(frozen=True)
class Pattern:
    """Faker's numerify/lexify/bothify/hexify placeholders: ``#`` digit, ``%`` 1-9, ``$`` 2-9, ``!`` digit
    or nothing, ``@`` 1-9 or nothing, ``?`` a letter of ``letters``, ``^`` a hex digit."""

    text: str
    draw: str
    letters: str = string.ascii_letters
    numerify: bool = True
    lexify: bool = True
    hexify: bool = False
    upper_hex: bool = False


@dataclass(frozen=True)
class Func:
    """A SQL function applied to a node (``upper``, ``lower``)."""

    name: str
    arg: Node


@dataclass(frozen=True)
class Raw:
    """SQL built by a special composer from the draw → uniform and draw → salt functions."""

    build: Callable[[Callable[[str], str], Callable[[str], int], str], str] = field(compare=False)
    "(uniform of a draw, salt of a draw, row index) → SQL."
    key: str = ""
    "Identity (equal keys render equally): name the draws in it."


@dataclass(frozen=True)
class Sql:
    """SQL rendered elsewhere (another column's name part, recomputed with that column's salts)."""

    sql: str


@dataclass(frozen=True)
class Digits:
    """A run of ``n`` random decimal digits (Faker's ``#`` × n), from one uniform: the number
    ``low + floor(u * span)`` (``span`` None: ``10**n``) zero-padded to ``n`` digits."""

    draw: str
    n: int
    low: int = 0
    span: int | None = None


Node = Lit | Pick | Concat | Switch | Pattern | Func | Raw | Sql | Digits


def concat(*parts: Node) -> Node:
    """A concatenation with adjacent literals merged and empty literals dropped."""
    flat: list[Node] = []
    for p in parts:
        for q in p.parts if isinstance(p, Concat) else (p,):
            if isinstance(q, Lit) and not q.text:
                continue
            if isinstance(q, Lit) and flat and isinstance(flat[-1], Lit):
                flat[-1] = Lit(flat[-1].text + q.text)
            else:
                flat.append(q)
    if not flat:
        return Lit("")
    return flat[0] if len(flat) == 1 else Concat(tuple(flat))


def switch(draw: str, branches: list[tuple[float, Node]]) -> Node:
    """A weighted choice; adjacent equal branches merge (their u-intervals touch, so picks stay the same)."""
    live: list[tuple[float, Node]] = []
    for w, b in branches:
        if w <= 0:
            continue
        if live and live[-1][1] == b:
            live[-1] = (live[-1][0] + w, b)
        else:
            live.append((w, b))
    if len(live) == 1:
        return live[0][1]
    return Switch(draw, tuple(live))


def project(node: Node, role: str) -> Node | None:
    """The folded ``role`` part (``first``/``last``) of a composed name, with the same draws.

    A branch without that part projects to an empty literal; a node without it to None.
    """
    if isinstance(node, Pick):
        return Pick(node.vocab, node.draw, node.role, True) if node.role == role else None
    if isinstance(node, Concat):
        for p in node.parts:
            found = project(p, role)
            if found is not None:
                return found
        return None
    if isinstance(node, Switch):
        branches = [(w, project(b, role)) for w, b in node.branches]
        if all(b is None for _, b in branches):
            return None
        return switch(node.draw, [(w, b if b is not None else Lit("")) for w, b in branches])
    if isinstance(node, Func):
        return project(node.arg, role)
    return None
