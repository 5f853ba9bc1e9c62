"""Flat items to SQL: one DuckDB expression per value, for one column.

- Picks are ``list[1 + hash % n]`` and branches ``hash < bound`` (3-6
  expression nodes instead of 8-11 with the uniform).
- Several locales in one column (:meth:`Renderer.sql_by_locale`): the locales'
  sequences are united (:mod:`dgsql.compiler.faker.unite`) and the union items
  render as picks by offset, a ``CASE`` with per-locale bounds, or a ``CASE``
  on the locale.

DuckDB's common-subexpression pass evaluates a hash (or a pick) used by
several columns once.
"""

from __future__ import annotations

from collections.abc import Callable

from dgsql.compiler.faker.items import (
    DIGITS,
    LOCALE,
    MAX_DIGITS_PICK,
    ByKey,
    Choice,
    Item,
    Key,
    Opt,
    Seg,
    Seq,
    UChoice,
    UPick,
)
from dgsql.compiler.faker.lower import Lowering
from dgsql.compiler.faker.tree import Digits, Func, Lit, Node, Pick, Raw, Sql
from dgsql.compiler.faker.unite import unite
from dgsql.compiler.faker.vocab import VocabRefs
from dgsql.compiler.sqltext import lit


class Renderer:
    """Renders nodes to SQL for one column: ``salt(draw)`` keys the streams, ``row`` is the row index,
    ``ref(vocab, list)`` names a vocabulary's list column."""

    def __init__(
        self,
        salt: Callable[[str], int],
        row: str,
        ref: VocabRefs,
        locale: str | None = None,
        let: Callable[[str], str] = lambda sql: sql,
    ):
        self.salt = salt
        self.row = row
        self.ref = ref
        self.let = let
        "Names a per-row value read several times (``ColumnContext.let``)."
        self.locale = locale
        "SQL of the row's 0-based locale index, when the column has several locales (see :meth:`sql_by_locale`)."
        self.lowering = Lowering(by_locale=locale is not None)

    def uniform(self, draw: str) -> str:
        return f"dg_uniform({self.salt(draw)}, {self.row})"

    def hash(self, draw: str) -> str:
        """The draw's 64-bit hash (``dg_uniform`` is this hash scaled to [0, 1)): picks take it modulo the
        list length and branches compare it with bounds scaled to 2^64 — 3-6 expression nodes instead of
        8-11, which matters because DuckDB pays per node and per 2,048 rows even in a branch few rows take."""
        return self.let(f"hash({self.row} + {self.salt(draw)})")

    def sql(self, node: Node) -> str:
        return self.value(self.flat(node, top=True))

    def sql_by_locale(self, trees: list[Node]) -> str:
        """One expression for several locales' trees (``trees[i]`` for locale index ``i``).

        A ``CASE`` on the locale pays DuckDB's per-node, per-chunk overhead once per locale, even for
        the few rows of each; so what the locales share is rendered once: their picks as picks from one
        union list (:class:`UPick`), their format choices as one ``CASE`` with per-locale bounds
        (:class:`UChoice`). Only parts without a common shape remain a ``CASE`` on the locale.
        """
        assert self.locale is not None
        seqs: list[Seq | None] = [self.flat(t, top=True) for t in trees]
        return self.value(unite(seqs))

    def flat(self, node: Node, top: bool = False) -> Seq:
        """The node as a sequence of concat arguments (see :meth:`Lowering.flat`)."""
        return self.lowering.flat(node, top)

    # -- SQL -------------------------------------------------------------------
    def value(self, seq: Seq) -> str:
        args = [a for item in seq for a in self.args(item)]
        if not args:
            return "''"
        return args[0] if len(args) == 1 else "concat(" + ", ".join(args) + ")"

    def args(self, item: Item) -> list[str]:
        if isinstance(item, Lit):
            return [lit(item.text)] if item.text else []
        if isinstance(item, Digits):
            return self.digits(item)
        return [self.atom(item)]

    def atom(self, item: Item) -> str:
        if isinstance(item, Pick):
            return item.vocab.pick_sql(self.hash(item.draw), self.ref, item.folded)
        if isinstance(item, Choice):
            return self.choice(item)
        if isinstance(item, Opt):
            h = self.hash(item.draw)
            digit = f"({h} >> 1) % 10" if item.low == 0 else f"1 + ({h} >> 1) % 9"
            return f"CASE WHEN {h} < {_bound(0.5)} THEN '' ELSE ({digit})::VARCHAR END"
        if isinstance(item, Func):
            return f"{item.name}({self.value(self.flat(item.arg))})"
        if isinstance(item, Raw):
            return item.build(self.uniform, self.salt, self.row)
        if isinstance(item, Sql):
            return item.sql
        if isinstance(item, Digits):
            return self.value((item,))
        if isinstance(item, UPick):
            return self.upick(item)
        if isinstance(item, UChoice):
            return self.uchoice(item)
        if isinstance(item, ByKey):
            return self.by_key(item)
        raise TypeError(item)

    # -- several locales -------------------------------------------------------
    def key_sql(self, key: Key) -> str:
        """SQL of the key's 0-based value: the locale index, or the branch of a wide switch."""
        if key.draw is None:
            assert self.locale is not None
            return self.locale
        h = self.hash(key.draw)
        total = sum(key.counts)
        if all(c == key.counts[0] for c in key.counts):
            return f"({h} % {len(key.counts)})::BIGINT"
        # unequal integer weights: each branch repeated by its count in a small list
        counts = ",".join(map(str, key.counts))
        slots = self.ref.compute(
            f"flatten(list_transform(range({len(key.counts)}), lambda i: list_resize([i], "
            f"(string_split('{counts}', ',')::INTEGER[])[i + 1], i)))::INTEGER[]"
        )
        return f"{slots}[1 + ({h} % {total})::BIGINT]"

    def _at(self, values: list[int], kind: str, key: Key = LOCALE) -> str:
        """``[values][key + 1]``: a constant per key value, from a list in the joined table."""
        lst = self.ref.compute("[" + ", ".join(map(str, values)) + f"]::{kind}[]")
        return f"{lst}[{self.key_sql(key)} + 1]"

    def upick(self, u: UPick) -> str:
        offsets = []
        pick = ""
        for seg in u.segs:
            values: str | tuple[str]
            if seg.vocab is None:
                values, n_values, index = (seg.text,), 1, None
            else:
                column = seg.vocab.distinct_column(seg.column)  # digit strings: ``v``
                values = self.ref.list_of(seg.vocab, column)
                if seg.prefix or seg.suffix:
                    pre = f"{lit(seg.prefix)}, " if seg.prefix else ""
                    suf = f", {lit(seg.suffix)}" if seg.suffix else ""
                    values = f"list_transform({values}, lambda x: concat({pre}x{suf}))"
                n_values = seg.vocab.size
                index = None if seg.vocab.weights is None else self.ref.list_of(seg.vocab, "r")
            offset, pick = self.ref.segment(values, n_values, index, _seg_size(seg))
            offsets.append(offset)
        offset = self._at(offsets, "INTEGER", u.key)
        if u.draw is None or all(_seg_size(seg) == 1 for seg in u.segs):
            return pick.format(f"1 + {offset}")
        # sizes as UBIGINT: an INTEGER would make ``hash % size`` a HUGEINT modulo (measured 15x slower)
        size = self._at([_seg_size(seg) for seg in u.segs], "UBIGINT", u.key)
        return pick.format(f"1 + {offset} + ({self.hash(u.draw)} % {size})::BIGINT")

    def uchoice(self, c: UChoice) -> str:
        h = self.hash(c.draw)
        order = _spans_order(c.spans)
        sequential = order is not None
        if order is None:
            order = sorted(range(len(c.alts)), key=lambda k: -sum(hi - lo for lo, hi in c.spans[k]))
        whens = []
        for k in order[:-1]:
            # bounds scaled to 2^64, capped at 2^64 - 1 (a hash of exactly 2^64 - 1 goes to a later branch)
            lo = [min(2**64 - 1, _bound_int(a)) for a, _ in c.spans[k]]
            hi = [min(2**64 - 1, _bound_int(b)) for _, b in c.spans[k]]
            tests = [f"{h} < {self._at(hi, 'UBIGINT')}"]
            if not sequential and any(lo):
                tests.insert(0, f"{h} >= {self._at(lo, 'UBIGINT')}")
            whens.append(f"WHEN {' AND '.join(tests)} THEN {self.value(c.alts[k])}")
        return f"CASE {' '.join(whens)} ELSE {self.value(c.alts[order[-1]])} END"

    def by_key(self, b: ByKey) -> str:
        groups: dict[Seq, list[int]] = {}
        for i, seq in enumerate(b.seqs):
            if seq is not None:
                groups.setdefault(seq, []).append(i)
        ordered = (
            sorted(groups.items(), key=lambda g: -sum(b.key.counts[i] for i in g[1]))
            if b.key.counts
            else list(groups.items())
        )
        if len(ordered) == 1:
            return self.value(ordered[0][0])
        k = self.key_sql(b.key)
        whens = " ".join(
            f"WHEN {k} IN ({', '.join(map(str, ids))}) THEN {self.value(seq)}" for seq, ids in ordered[:-1]
        )
        return f"CASE {whens} ELSE {self.value(ordered[-1][0])} END"

    def digits(self, item: Digits) -> list[str]:
        """A run of digits as picks from zero-padded digit lists, at most 4 digits a pick."""
        n = item.n
        x = f"({self.hash(item.draw)} % {item.span or 10**n})::BIGINT"
        if item.low:
            x = f"({item.low} + {x})"
        if n <= MAX_DIGITS_PICK:
            return [f"{self.ref(DIGITS[n], 'v')}[1 + {x}]"]
        sizes = [n - MAX_DIGITS_PICK * ((n - 1) // MAX_DIGITS_PICK)]
        sizes += [MAX_DIGITS_PICK] * ((n - 1) // MAX_DIGITS_PICK)
        out = []
        after = n
        for size in sizes:
            after -= size
            part = f"({x} // {10**after})" if after else x
            if after + size < n:
                part = f"({part} % {10**size})"
            out.append(f"{self.ref(DIGITS[size], 'v')}[1 + {part}]")
        return out

    def choice(self, c: Choice) -> str:
        """A CASE over the branches' alternatives (equal ones grouped)."""
        groups: dict[Seq, list[int]] = {}
        for i, alt in enumerate(c.alts):
            groups.setdefault(alt, []).append(i)
        if len(groups) == 1:
            return self.value(c.alts[0])
        # intervals of u: runs of adjacent branches with the same alternative
        runs: list[tuple[Seq, int]] = []
        for i, alt in enumerate(c.alts):
            if runs and runs[-1][0] == alt:
                runs[-1] = (alt, i)
            else:
                runs.append((alt, i))
        if len(runs) <= len(groups) + 1:
            h = self.hash(c.draw)
            whens = " ".join(
                f"WHEN {h} < {_bound(c.bounds[last])} THEN {self.value(alt)}" for alt, last in runs[:-1]
            )
            return f"CASE {whens} ELSE {self.value(runs[-1][0])} END"
        # many intervals: the branch index once (shared by the switch's columns), then its groups
        k = self.index(c)
        width = [b - a for a, b in zip((0.0, *c.bounds[:-1]), c.bounds, strict=True)]
        ordered = sorted(groups.items(), key=lambda g: -sum(width[i] for i in g[1]))
        whens = " ".join(
            f"WHEN {k} IN ({', '.join(str(i) for i in ids)}) THEN {self.value(alt)}"
            for alt, ids in ordered[:-1]
        )
        return f"CASE {whens} ELSE {self.value(ordered[-1][0])} END"

    def index(self, c: Choice) -> str:
        h = self.hash(c.draw)
        whens = " ".join(f"WHEN {h} < {_bound(b)} THEN {i}" for i, b in enumerate(c.bounds[:-1]))
        return f"(CASE {whens} ELSE {len(c.bounds) - 1} END)"


def _bound_int(b: float) -> int:
    return min(2**64, round(b * 2**64))


def _bound(b: float) -> str:
    """A cumulative weight as a UBIGINT bound on a 64-bit hash (``hash < bound`` ⇔ ``u < b``)."""
    return f"{min(2**64 - 1, _bound_int(b))}::UBIGINT"


def _seg_size(seg: Seg) -> int:
    return 1 if seg.vocab is None else seg.vocab.slots


def _spans_order(spans: tuple[tuple[tuple[float, float], ...], ...]) -> list[int] | None:
    """An order of the super-branches in which every locale's intervals come in increasing order (then
    one upper bound per branch suffices), preferring the widest first; None when there is none."""
    n_loc = len(spans[0]) if spans else 0
    left = set(range(len(spans)))
    order: list[int] = []
    while left:
        ready = [
            k
            for k in left
            if all(
                spans[k][loc][0] >= spans[k][loc][1]  # empty: anywhere
                or all(
                    spans[j][loc][0] >= spans[j][loc][1] or spans[j][loc][0] >= spans[k][loc][1]
                    for j in left
                    if j != k
                )
                for loc in range(n_loc)
            )
        ]
        if not ready:
            return None
        best = max(ready, key=lambda k: (sum(hi - lo for lo, hi in spans[k]), -k))
        order.append(best)
        left.remove(best)
    return order
