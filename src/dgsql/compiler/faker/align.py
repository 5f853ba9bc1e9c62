"""Alignment of the branches of a switch (or of several locales' values) into shared columns.

A choice between formats inside a concatenation becomes *aligned columns*: the
parts all formats share stay plain concat arguments, the parts that differ
become one small ``CASE`` each, so a row builds its value with one ``concat``.
"""

from __future__ import annotations

from dgsql.compiler.faker.items import Item, Seq, merge_lits
from dgsql.compiler.faker.tree import Lit, Pick

EXACT = 4.0


def _kind(item: Item) -> tuple[object, ...]:
    if isinstance(item, Lit):
        return ("lit",)
    if isinstance(item, Pick):
        return ("pick", item.role)
    return ("atom",)


def _kind_similarity(a: tuple[object, ...], b: tuple[object, ...]) -> float:
    """How well two different items share a column, by kind (0: never; equal items score EXACT)."""
    if (a[0] == "lit") != (b[0] == "lit"):
        return 0.0
    if a[0] == "pick" and b[0] == "pick":
        if a[1] is not None and a[1] == b[1]:
            return 3.0
        if (a[1] is None) == (b[1] is None):
            return 2.0
    return 1.0


class _Col:
    """A column being aligned: each branch's item there, with the distinct items and kinds."""

    __slots__ = ("items", "kinds", "values")

    def __init__(self, items: dict[int, Item]):
        self.items = items
        self.values = set(items.values())
        self.kinds = {_kind(i) for i in self.values}

    def score(self, item: Item) -> float:
        if item in self.values:
            return EXACT
        k = _kind(item)
        return max(_kind_similarity(k, x) for x in self.kinds)

    def add(self, b: int, item: Item) -> _Col:
        self.items[b] = item
        self.values.add(item)
        self.kinds.add(_kind(item))
        return self


def align(seqs: list[Seq]) -> list[tuple[Seq, ...]]:
    """Columns of the branches' items: per column, the sub-sequence each branch puts there.

    Branches are aligned one after the other to the columns so far (Needleman-Wunsch: equal items
    score EXACT, different ones by kind, see :func:`_kind_similarity`; no gap cost); then adjacent
    columns that the same branches leave empty merge.
    """
    m = len(seqs)
    cols = [_Col({0: it}) for it in seqs[0]]
    for b in range(1, m):
        cols = _align_one(cols, seqs[b], b)
    merged: list[tuple[frozenset[int], list[list[Item]]]] = []
    for col in cols:
        present = frozenset(col.items)
        if merged and merged[-1][0] == present and len(present) < m:
            for i, it in col.items.items():
                merged[-1][1][i].append(it)
        else:
            merged.append((present, [[col.items[i]] if i in col.items else [] for i in range(m)]))
    return [tuple(merge_lits(parts) for parts in per) for _, per in merged]


def _align_one(cols: list[_Col], seq: Seq, b: int) -> list[_Col]:
    n, k = len(cols), len(seq)
    sim = [[cols[i].score(seq[j]) for j in range(k)] for i in range(n)]
    score = [[0.0] * (k + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(k - 1, -1, -1):
            best = max(score[i + 1][j], score[i][j + 1])
            if sim[i][j] > 0:
                best = max(best, sim[i][j] + score[i + 1][j + 1])
            score[i][j] = best
    out: list[_Col] = []
    i = j = 0
    while i < n or j < k:
        if i < n and j < k and sim[i][j] > 0 and score[i][j] == sim[i][j] + score[i + 1][j + 1]:
            out.append(cols[i].add(b, seq[j]))
            i, j = i + 1, j + 1
        elif i < n and (j == k or score[i][j] == score[i + 1][j]):
            out.append(cols[i])
            i += 1
        else:
            out.append(_Col({b: seq[j]}))
            j += 1
    return out
