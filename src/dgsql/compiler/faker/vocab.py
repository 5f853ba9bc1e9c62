"""Vocabularies: Faker's own lists (with its frequency weights), embedded as one-row tables.

A vocabulary is a list of values, optional weights (Faker's ``OrderedDict``
lists carry frequencies; tuples are uniform) and, for name lists, the values
folded to ASCII the way Faker's ``user_name`` folds them, so that an email is
built from the same pick as the name. Each becomes a one-row temp table
``__dg_fk_<key>`` with list columns:

- ``v``: the values (``VARCHAR[]``); ``f``: folded values, when present;
- weighted lists are replicated at run time (each value ``round(w * slots)``
  times, at least once) from a compact (values, counts) literal, so that a
  pick is a single uniform index. Walker's alias table was exact but its two
  extra list reads inside ``CASE`` branches cost ~3x the whole pick.

Why one-row tables read through scalar subqueries: DuckDB copies a list
*constant* into every vector it evaluates (a 5,000-string constant costs ~50 ms
per million rows), while a list read from a table is referenced, so a pick
costs the same ~13 ms per million rows at 10 or 5,000 values.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from faker.decode import unidecode

from dgsql.compiler.sqltext import ident, list_of, lit

PREFIX = "__dg_fk_"
SLOTS_PER_VALUE = 16
SLOTS_MIN = 4096
"A weighted list is replicated to max(SLOTS_MIN, SLOTS_PER_VALUE * values) slots (each value at least one)."
_SLUG = re.compile(r"[^a-z]+")


@dataclass(frozen=True)
class Vocab:
    key: str
    "Unique name: ``<locale>.<attribute>`` for Faker lists, a digest for pools."
    values: tuple[str, ...]
    weights: tuple[float, ...] | None = None
    "None when uniform."
    folded: tuple[str, ...] | None = None
    "ASCII lower-case forms for e-mail local parts, parallel to values."

    @property
    def table(self) -> str:
        return ident(PREFIX + re.sub(r"[^A-Za-z0-9_]+", "_", self.key))

    @property
    def size(self) -> int:
        return len(self.values)

    @property
    def slots(self) -> int:
        """Length of the list a pick indexes: the values, or their weighted replication."""
        return self.size if self.weights is None else sum(self.counts())

    def counts(self) -> list[int]:
        """Copies of each value in the weighted list: round(w * SLOTS), at least one (largest remainder)."""
        assert self.weights is not None
        total = math.fsum(self.weights)
        slots = max(SLOTS_MIN, SLOTS_PER_VALUE * self.size)
        share = [w / total * slots for w in self.weights]
        counts = [max(1, math.floor(x)) for x in share]
        left = slots - sum(counts)
        for i in sorted(range(self.size), key=lambda i: (counts[i] - share[i], i))[: max(0, left)]:
            counts[i] += 1
        return counts

    def create_sql(self) -> str:
        cols = {"v": self.values, "f": self.folded}
        if self.weights is None:
            select = ", ".join(
                f"{list_of(list(v), 'VARCHAR')} AS {k}" for k, v in cols.items() if v is not None
            )
            return f"CREATE OR REPLACE TEMP TABLE {self.table} AS SELECT {select}"
        # weighted: each value repeated by its count, so a pick is one uniform index
        src = ", ".join(
            f"unnest({list_of(list(v), 'VARCHAR')}) AS {k}" for k, v in cols.items() if v is not None
        )
        aggs = ", ".join(f"list({k} ORDER BY i) AS {k}" for k, v in cols.items() if v is not None)
        return (
            f"CREATE OR REPLACE TEMP TABLE {self.table} AS SELECT {aggs} FROM ("
            f"SELECT {src}, unnest({list_of(self.counts(), 'INTEGER')}) AS c, unnest(range({self.size})) AS i"
            f") AS w, range(w.c)"
        )

    def pick_sql(self, u: str, ref: Callable[[Vocab, str], str], folded: bool = False) -> str:
        """SQL of the value (or folded value) picked by the uniform ``u``; ``ref(vocab, list)`` names a list."""
        column = "f" if folded and self.folded is not None else "v"
        if self.size == 1:
            return lit((self.folded if column == "f" else self.values)[0])
        return f"{ref(self, column)}[1 + floor({u} * {self.slots})::BIGINT]"


class VocabRefs:
    """The vocabularies one column reads, joined once as a one-row relation (``alias.v0``, ``alias.p0``…).

    Reading lists through a join keeps the SQL small and fast: DuckDB copies a list
    *constant* into every vector it evaluates, and every scalar subquery would be
    a cross product of its own.
    """

    def __init__(self, alias: str):
        self.alias = alias
        self.index: dict[Vocab, int] = {}

    def __call__(self, vocab: Vocab, column: str) -> str:
        i = self.index.setdefault(vocab, len(self.index))
        return f"{self.alias}.{column}{i}"

    def relation(self) -> str:
        cols = []
        tables = []
        for vocab, i in self.index.items():
            t = f"t{i}"
            tables.append(f"{vocab.table} AS {t}")
            cols.append(f"{t}.v AS v{i}")
            if vocab.folded is not None:
                cols.append(f"{t}.f AS f{i}")
        return f"(SELECT {', '.join(cols)} FROM {', '.join(tables)})"


def make_vocab(key: str, items: Iterable[str] | Mapping[str, float], fold: Fold | None = None) -> Vocab:
    """A vocabulary from a Faker element list: a tuple/list (uniform) or an OrderedDict of weights.

    Empty strings are kept (Faker draws them too); zero weights are dropped.
    """
    if isinstance(items, Mapping):
        pairs = [(str(v), float(w)) for v, w in items.items() if float(w) > 0]
        values = tuple(v for v, _ in pairs)
        weights: tuple[float, ...] | None = tuple(w for _, w in pairs)
        if weights and max(weights) - min(weights) <= 1e-12 * max(weights):
            weights = None
    else:
        values = tuple(str(v) for v in items)
        weights = None
    folded = tuple(fold(v) for v in values) if fold else None
    return Vocab(key, values, weights, folded)


def pool_vocab(key: str, samples: list[str], fold: Fold | None = None) -> Vocab:
    """A pool of sampled values: distinct values weighted by how often they were drawn."""
    counts: dict[str, int] = {}
    for s in samples:
        counts[s] = counts.get(s, 0) + 1
    digest = hashlib.sha256("\x00".join(samples).encode()).hexdigest()[:16]
    return make_vocab(f"{key}.{digest}", {v: float(c) for v, c in counts.items()}, fold)


class Fold:
    """Folds a name to the ASCII lower case Faker's ``user_name`` would use (its ``_to_ascii``)."""

    def __init__(
        self, replacements: tuple[tuple[str, str], ...] = (), romanized: Mapping[str, str] | None = None
    ):
        self.replacements = replacements
        self.romanized = dict(romanized or {})

    def __call__(self, text: str) -> str:
        if text in self.romanized:
            text = self.romanized[text]
        for search, replace in self.replacements:
            text = text.replace(search, replace)
        text = unidecode(unicodedata.normalize("NFC", text)).lower()
        return _SLUG.sub("", text) or "user"
