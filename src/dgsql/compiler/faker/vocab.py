"""Vocabularies: Faker's own lists (with its frequency weights), embedded as one-row tables.

A vocabulary is a list of values, optional weights (Faker's ``OrderedDict``
lists carry frequencies; tuples are uniform) and, for name lists, the values
folded to ASCII the way Faker's ``user_name`` folds them, so that an email is
built from the same pick as the name. Each becomes list columns ``<key>_<c>`` of its
table's :class:`VocabLists` (``de_DE_first_names_v``):

- ``v``: the values (``VARCHAR[]``); ``f``: folded values, when present;
- weighted lists are replicated at run time (each value ``round(w * slots)``
  times, at least once) from a compact (values, counts) literal, so that a
  pick is a single index: ``v[1 + hash % slots]``. Walker's alias table was
  exact but its two extra list reads cost more than the pick. The table also
  keeps the distinct values (``d``, ``e``) and the repetition as indexes into
  them (``r``), which unions of several lists read (:meth:`VocabRefs.segment`).
- the values are written as one string split in SQL (``string_split('a|b|c', '|')``):
  DuckDB took ~10 ms to parse 1,000 string literals, well under 1 ms to split one.

All vocabularies a table section reads are one one-row temp table
(:class:`VocabLists`, one statement: a statement costs ~1.4 ms however small).
Each column joins one table of the lists it reads (:class:`VocabRefs`). DuckDB
copies a list *constant* into every vector it evaluates, and a list read from a
joined table once per 2,048 rows (~0.3 ms per million rows per 1,000 strings):
so lists are joined, only the lists a column reads are in its table, and the
replication is no larger than needed.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from dgsql.compiler.sqltext import ident, list_of, lit

PREFIX = "__dg_fk_"
LISTS_ALIAS = "l"
"Alias of the section's :class:`VocabLists` table in a column's join table."
SLOTS_PER_VALUE = 16
SLOTS_MIN = 1024
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
    source: str | None = None
    "A query that makes the list ``v`` in SQL instead (digit strings): no literals in the script."
    count: int = 0
    "Length of a ``source`` list."

    @property
    def size(self) -> int:
        return len(self.values) or self.count

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

    @property
    def columns(self) -> tuple[str, ...]:
        """The list columns :meth:`query` makes."""
        if self.source is not None:
            return ("v",)
        folded = self.folded is not None
        if self.weights is None:
            return ("v", "f") if folded else ("v",)
        return ("d", "v", "e", "f", "r") if folded else ("d", "v", "r")

    def query(self) -> str:
        """The SELECT of the vocabulary's lists (one row)."""
        if self.source is not None:
            return self.source
        cols = {k: v for k, v in {"v": self.values, "f": self.folded}.items() if v is not None}
        lists = {k: _text_list(v) for k, v in cols.items()}
        if self.weights is None:
            select = ", ".join(f"{sql} AS {k}" for k, sql in lists.items())
            return f"SELECT {select}"
        # weighted: each value repeated by its count, so a pick is one uniform index. ``d``/``e`` keep
        # the distinct values and ``r`` the repetition as indexes into them (a union of several
        # locales' lists is read through those: 2-byte indexes copy faster than 16-byte strings)
        counts = f"string_split({lit(','.join(map(str, self.counts())))}, ',')::INTEGER[]"
        index = "SMALLINT" if self.size <= 32767 else "INTEGER"
        repeat = (
            f"flatten(list_transform(range(1, len(c) + 1), lambda i: list_resize([i], c[i], i)))::{index}[]"
        )
        distinct = {"v": "d", "f": "e"}
        src = ", ".join(f"{sql} AS {distinct[k]}" for k, sql in lists.items())
        picks = ", ".join(f"{distinct[k]}, list_select({distinct[k]}, r) AS {k}" for k in lists)
        return f"SELECT {picks}, r FROM (SELECT {src}, {repeat} AS r FROM (SELECT {counts} AS c))"

    def distinct_column(self, column: str) -> str:
        """The list of distinct values (``v``) or folded values (``f``) in the table."""
        return {"v": "d", "f": "e"}[column] if self.weights is not None else column

    def pick_sql(self, h: str, ref: Callable[[Vocab, str], str], folded: bool = False) -> str:
        """SQL of the value (or folded value) picked by the 64-bit hash ``h`` (``h`` modulo the list length);
        ``ref(vocab, list)`` names a list."""
        column = "f" if folded and self.folded is not None else "v"
        if self.size == 1:
            return lit((self.folded if column == "f" else self.values)[0])
        index = f"1 + ({h} % {self.slots})::BIGINT"
        return f"{ref(self, column)}[{index}]"


class VocabLists:
    """The vocabularies of one table section, in one one-row temp table: list ``c`` of the
    vocabulary keyed ``de_DE.first_names`` is the column ``de_DE_first_names_c`` (a key whose
    name is taken, ignoring case, gets ``_1``, ``_2``…; list names are one letter, so distinct
    names give distinct columns)."""

    def __init__(self, table: str):
        self.table = table
        "Quoted name of the temp table."
        self.names: dict[Vocab, str] = {}

    def column(self, vocab: Vocab, column: str) -> str:
        name = self.names.get(vocab)
        if name is None:
            slug = re.sub(r"[^A-Za-z0-9_]+", "_", vocab.key)
            taken = {n.lower() for n in self.names.values()}  # DuckDB's identifiers ignore case
            name, n = slug, 1
            while name.lower() in taken:
                name, n = f"{slug}_{n}", n + 1
            self.names[vocab] = name
        return ident(f"{name}_{column}")

    def query(self) -> str:
        cols = [
            f"t{k}.{c} AS {ident(f'{name}_{c}')}"
            for k, (v, name) in enumerate(self.names.items())
            for c in v.columns
        ]
        tables = [f"({vocab.query()}) AS t{k}" for k, vocab in enumerate(self.names)]
        return f"SELECT {', '.join(cols)} FROM {', '.join(tables)}"


class VocabRefs:
    """The vocabularies one column reads, joined once as a one-row table (``alias.v0``, ``alias.f0``…).

    Reading lists through a join keeps the SQL small and fast: DuckDB copies a list
    *constant* into every vector it evaluates, and every scalar subquery would be
    a cross product of its own. The column's lists are gathered into one temp table
    first (:meth:`table`): joining a stored one-row table costs ~2 ms per million
    rows, joining the cross product of ten vocabulary tables ~25 ms.
    """

    def __init__(self, alias: str, lists: VocabLists):
        self.alias = alias
        self.lists = lists
        self.index: dict[Vocab, int] = {}
        self.used: dict[tuple[int, str], None] = {}
        self.computed: dict[str, int] = {}
        self.values: dict[str, tuple[int, int]] = {}
        "Lists concatenated into the union list ``alias.uv``: SQL → (offset, size)."
        self.slots: dict[tuple[str, str | None], tuple[int, int, str]] = {}
        "Index lists concatenated into ``alias.ui`` (positions in ``uv``): key → (offset, size, SQL)."
        self.n_values = self.n_slots = 0

    def __call__(self, vocab: Vocab, column: str) -> str:
        i = self.index.setdefault(vocab, len(self.index))
        self.lists.column(vocab, column)  # the section's table holds it
        self.used[(i, column)] = None
        return f"{self.alias}.{column}{i}"

    def list_of(self, vocab: Vocab, column: str) -> str:
        """A list of the vocabulary inside :meth:`relation` (SQL for :meth:`compute` and :meth:`segment`)."""
        self.index.setdefault(vocab, len(self.index))
        return f"{LISTS_ALIAS}.{self.lists.column(vocab, column)}"

    def compute(self, sql: str) -> str:
        """A column computed once from the vocabulary tables (a union of several locales' lists, their
        offsets…), referenced like a list: ``alias.xN``."""
        k = self.computed.setdefault(sql, len(self.computed))
        return f"{self.alias}.x{k}"

    def segment(
        self, values: str | tuple[str], n_values: int, index: str | None, n_slots: int
    ) -> tuple[int, str]:
        """(offset, SQL) of a list in the column's union list, read as ``uv[ui[offset + k]]``, k < n_slots.

        ``values`` is a list (SQL over the tables) of ``n_values`` distinct values, or a 1-tuple holding
        one literal value; ``index`` the 1-based positions a weighted list repeats (None: each value
        once). The locales' (or many formats') lists are read through one union per column: each list
        once, however many picks read it, and as 2-byte indexes rather than 16-byte strings, since
        the join copies every list per 2,048 rows.
        """
        if values not in self.values:
            self.values[values] = (self.n_values, n_values)
            self.n_values += n_values
        at, _ = self.values[values]
        key = (values, index)
        if key not in self.slots:
            part: tuple[int, int] | str = (
                (at + 1, at + n_values + 1)
                if index is None
                else f"list_transform({index}, lambda x: x + {at})"
            )
            self.slots[key] = (self.n_slots, n_slots, part)
            self.n_slots += n_slots
        return self.slots[key][0], f"{self.alias}.uv[{self.alias}.ui[{{}}]]"

    def relation(self) -> str:
        """The lists read, and only those (each list costs a copy per 2,048 rows in the join)."""
        vocabs = list(self.index)
        cols = [
            f"{LISTS_ALIAS}.{self.lists.column(vocabs[i], column)} AS {column}{i}"
            for i, column in sorted(self.used)
        ]
        cols += [f"{sql} AS x{k}" for sql, k in self.computed.items()]
        if self.values:
            kind = "SMALLINT" if self.n_values <= 32767 else "INTEGER"
            values: list[str | list[str]] = []  # runs of literals become one split string
            for v in self.values:
                if isinstance(v, tuple):
                    if values and isinstance(values[-1], list):
                        values[-1].append(v[0])
                    else:
                        values.append([v[0]])
                else:
                    values.append(v)
            uv = [v if isinstance(v, str) else _text_list(tuple(v)) for v in values]
            cols.append(f"flatten([{', '.join(uv)}]) AS uv")
            parts: list[tuple[int, int] | str] = []  # adjacent ranges merge
            for _, _, part in self.slots.values():
                if (
                    isinstance(part, tuple)
                    and parts
                    and isinstance(parts[-1], tuple)
                    and parts[-1][1] == part[0]
                ):
                    parts[-1] = (parts[-1][0], part[1])
                else:
                    parts.append(part)
            ui = [f"range({p[0]}, {p[1]})" if isinstance(p, tuple) else p for p in parts]
            cols.append(f"flatten([{', '.join(f'CAST({p} AS {kind}[])' for p in ui)}]) AS ui")
        return f"SELECT {', '.join(cols)}" + (f" FROM {self.lists.table} AS {LISTS_ALIAS}" if vocabs else "")

    def table(self) -> tuple[str, str]:
        """(name, query) of the one-row temp table holding the column's lists; the name is a
        digest of its content, so columns reading the same lists share it."""
        select = self.relation()
        name = ident(PREFIX + "j_" + hashlib.sha256(select.encode()).hexdigest()[:16])
        return name, select


SEPARATORS = ("|", "~", "^", "\t", "\x1f")
"Tried in turn to join a list into one string literal: the first one no value contains."


def _text_list(values: tuple[str, ...]) -> str:
    """A ``VARCHAR[]`` expression: ``string_split`` of one literal (parsing 1,000 string literals took
    DuckDB ~10 ms, splitting one string well under 1 ms), else a list literal."""
    for sep in SEPARATORS:
        if not any(sep in v for v in values):
            return f"string_split({lit(sep.join(values))}, {lit(sep)})"
    return list_of(list(values), "VARCHAR")


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


def digits_vocab(n: int) -> Vocab:
    """The ``10**n`` zero-padded strings of ``n`` digits, made by the script (``'000'`` … ``'999'``)."""
    return Vocab(
        f"digits.{n}",
        (),
        source=f"SELECT list(lpad(range::VARCHAR, {n}, '0') ORDER BY range) AS v FROM range({10**n})",
        count=10**n,
    )


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
        from faker.decode import unidecode  # Faker is imported by the first faker column

        text = unidecode(unicodedata.normalize("NFC", text)).lower()
        return _SLUG.sub("", text) or "user"
