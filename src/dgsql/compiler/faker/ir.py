"""A small expression tree for composed Faker values, and its SQL.

Faker builds values by parsing format strings (``{{first_name}} {{last_name}}``),
picking list elements and filling ``#``/``?`` patterns. The composer
(:mod:`dgsql.compiler.faker.compose`) turns that into these nodes at compile
time; :func:`to_sql` turns them into one DuckDB expression per row. Every
random decision is a node with a *draw* name; its uniform is
``dg_uniform(salt(draw), row)``, so a value is a pure function of the row.
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from dgsql.compiler.faker.vocab import Vocab
from dgsql.compiler.sqltext import lit


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


Node = Lit | Pick | Concat | Switch | Pattern | Func | Raw


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


def vocabs(node: Node) -> Iterator[Vocab]:
    """Every vocabulary a node reads (for the prelude)."""
    if isinstance(node, Pick):
        yield node.vocab
    elif isinstance(node, Concat):
        for p in node.parts:
            yield from vocabs(p)
    elif isinstance(node, Switch):
        for _, b in node.branches:
            yield from vocabs(b)
    elif isinstance(node, Func):
        yield from vocabs(node.arg)


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


class Renderer:
    """Renders nodes to SQL for one column: ``salt(draw)`` keys the streams, ``row`` is the row index,
    ``ref(vocab, list)`` names a vocabulary's list column."""

    def __init__(self, salt: Callable[[str], int], row: str, ref: Callable[[Vocab, str], str]):
        self.salt = salt
        self.row = row
        self.ref = ref

    def uniform(self, draw: str) -> str:
        return f"dg_uniform({self.salt(draw)}, {self.row})"

    def sql(self, node: Node) -> str:
        if isinstance(node, Lit):
            return lit(node.text)
        if isinstance(node, Pick):
            return node.vocab.pick_sql(self.uniform(node.draw), self.ref, node.folded)
        if isinstance(node, Concat):
            return "concat(" + ", ".join(self.sql(p) for p in node.parts) + ")"
        if isinstance(node, Switch):
            return self.switch(node)
        if isinstance(node, Pattern):
            return self.pattern(node)
        if isinstance(node, Func):
            return f"{node.name}({self.sql(node.arg)})"
        if isinstance(node, Raw):
            return node.build(self.uniform, self.salt, self.row)
        raise TypeError(node)

    def switch(self, node: Switch) -> str:
        total = sum(w for w, _ in node.branches)
        bounds = list(itertools.accumulate(w / total for w, _ in node.branches))
        u = self.uniform(node.draw)
        whens = " ".join(
            f"WHEN {u} < {lit(b)} THEN {self.sql(n)}"
            for (_, n), b in zip(node.branches[:-1], bounds[:-1], strict=True)
        )
        return f"CASE {whens} ELSE {self.sql(node.branches[-1][1])} END"

    def pattern(self, node: Pattern) -> str:
        parts: list[str] = []
        text = ""
        i = 0
        k = 0
        src = node.text
        while i < len(src):
            c = src[i]
            if node.numerify and c == "#":
                j = i
                while j < len(src) and src[j] == "#" and j - i < 15:
                    j += 1
                text = _flush(parts, text)
                n = j - i
                parts.append(
                    f"lpad(floor({self.uniform(f'{node.draw}.{k}')} * {10**n})::BIGINT::VARCHAR, {n}, '0')"
                )
                i, k = j, k + 1
                continue
            if node.numerify and c in "%$!@":
                text = _flush(parts, text)
                u = self.uniform(f"{node.draw}.{k}")
                if c in "%$":
                    low = 1 if c == "%" else 2
                    parts.append(f"({low} + floor({u} * {10 - low})::BIGINT)::VARCHAR")
                elif c == "!":
                    parts.append(
                        f"CASE WHEN {u} < 0.5 THEN '' ELSE floor({u} * 20 - 10)::BIGINT::VARCHAR END"
                    )
                else:
                    parts.append(
                        f"CASE WHEN {u} < 0.5 THEN '' ELSE (floor({u} * 18 - 9)::BIGINT + 1)::VARCHAR END"
                    )
                i, k = i + 1, k + 1
                continue
            if (node.lexify and c == "?") or (node.hexify and c == "^"):
                text = _flush(parts, text)
                letters = (
                    node.letters
                    if c == "?"
                    else ("0123456789ABCDEF" if node.upper_hex else "0123456789abcdef")
                )
                u = self.uniform(f"{node.draw}.{k}")
                parts.append(f"substr({lit(letters)}, 1 + floor({u} * {len(letters)})::BIGINT, 1)")
                i, k = i + 1, k + 1
                continue
            text += c
            i += 1
        _flush(parts, text)
        if not parts:
            return "''"
        return parts[0] if len(parts) == 1 else "concat(" + ", ".join(parts) + ")"


def _flush(parts: list[str], text: str) -> str:
    if text:
        parts.append(lit(text))
    return ""
