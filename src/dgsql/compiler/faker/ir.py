"""A small expression tree for composed Faker values, and its SQL.

Faker builds values by parsing format strings (``{{first_name}} {{last_name}}``),
picking list elements and filling ``#``/``?`` patterns. The composer
(:mod:`dgsql.compiler.faker.compose`) turns that into these nodes at compile
time; :class:`Renderer` turns them into one DuckDB expression per row. Every
random decision is a node with a *draw* name, drawn from the 64-bit hash
``hash(row + salt(draw))`` (``dg_uniform`` scaled to [0, 1)), so a value is a
pure function of the row.

Rendering is shaped by what DuckDB spends its time on (measured, 1M rows, see
docs/faker.md): a ``concat`` ~25 ms plus ~3 ms per argument, a list pick
~13 ms, a ``CASE`` ~10 ms, ``lpad(n::VARCHAR)`` ~50 ms, and — what dominates
with many formats or locales — ~0.4 µs per expression node per 2,048 rows in
every ``CASE`` branch any row of the chunk takes, however few.

- A tree is *flattened* (:meth:`Renderer.flat`) into one sequence of concat
  arguments: a choice between formats (:class:`Switch`) inside a concatenation
  becomes *aligned columns* — the parts all formats share stay plain
  arguments, the parts that differ become one small ``CASE`` each
  (:class:`Choice`) — so a row builds its value with one ``concat``, not one
  per nesting level. A cost model picks, per switch, these columns or one
  ``CASE`` of whole formats.
- Picks are ``list[1 + hash % n]`` and branches ``hash < bound`` (3-6
  expression nodes instead of 8-11 with the uniform); digit runs are picks from
  lists of zero-padded digit strings made in SQL (:data:`DIGITS`), letters
  picks from small lists, ``upper()`` of a pattern is applied at compile time.
- A switch of many formats (558 phone formats in es_ES, 4,682 postcodes in
  it_IT) draws its branch as an index once; each differing column is then a
  pick by that index from one union list (:class:`UPick`, :class:`Key`).
- Several locales in one column (:meth:`Renderer.sql_by_locale`): what the
  locales share is rendered once — picks from one union of the locales' lists
  by offset, format choices as one ``CASE`` with per-locale bounds
  (:class:`UChoice`) — and only the rest is a ``CASE`` on the locale
  (:class:`ByKey`).

DuckDB's common-subexpression pass evaluates a hash (or a pick) used by
several columns once.
"""

from __future__ import annotations

import hashlib
import itertools
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from dgsql.compiler.faker.vocab import Vocab, VocabRefs, digits_vocab
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


# -- flat items: what a tree lowers to (see Renderer.flat) ----------------------------------


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


# -- cost model (ms per million rows, DuckDB 2.0.1 on the dev machine; ratios matter) ----------

CONCAT_COST = 25.0
ARG_COST = 3.0
CASE_COST = 10.0
ITEM_COST = {Pick: 14.0, Digits: 14.0, Opt: 30.0, Raw: 40.0, Sql: 14.0, Func: 20.0}


def _chars_vocab(chars: str) -> Vocab:
    """Single characters as a list (a letter of a pattern is a pick from it)."""
    return Vocab("chars." + hashlib.sha256(chars.encode()).hexdigest()[:12], tuple(chars))


HEX_LOWER = _chars_vocab("0123456789abcdef")
HEX_UPPER = _chars_vocab("0123456789ABCDEF")
NONZERO = {"%": _chars_vocab("123456789"), "$": _chars_vocab("23456789")}
DIGITS = {n: digits_vocab(n) for n in (1, 2, 3, 4)}
"Zero-padded digit strings of 1-4 digits, built in SQL by the script (no literals)."
MAX_DIGITS_PICK = 4


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
        self._flat: dict[tuple[Node, bool], Seq] = {}

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

    # -- lowering ------------------------------------------------------------
    def flat(self, node: Node, top: bool = False) -> Seq:
        """The node as a sequence of concat arguments (adjacent literals merged)."""
        key = (node, top)
        if key not in self._flat:
            self._flat[key] = _merge_lits(self._lower(node, top))
        return self._flat[key]

    def _lower(self, node: Node, top: bool) -> list[Item]:
        if isinstance(node, Lit):
            return [node] if node.text else []
        if isinstance(node, Pick | Raw | Sql | Digits):
            return [node]
        if isinstance(node, Concat):
            return [item for p in node.parts for item in self.flat(p)]
        if isinstance(node, Pattern):
            return _pattern_items(node)
        if isinstance(node, Func):
            inner = self.flat(node.arg)
            if node.name == "upper":
                upper = _upper(inner)
                if upper is not None:
                    return list(upper)
            return [Func(node.name, node.arg)]
        if isinstance(node, Switch):
            return self._switch(node, top)
        raise TypeError(node)

    def _switch(self, node: Switch, top: bool) -> list[Item]:
        total = sum(w for w, _ in node.branches)
        bounds = tuple(itertools.accumulate(w / total for w, _ in node.branches))
        seqs = [self.flat(b) for _, b in node.branches]
        counts = _integer_counts(node)
        if len(seqs) > WIDE and counts is not None and not any(p.role for p in _picks(node)):
            # many formats (558 phone formats in es_ES, 4,682 postcodes in it_IT): a CASE would test
            # ~half of them per row; instead the branch is drawn as an index once and every
            # differing part is a pick by that index (a name's formats never come here: an e-mail
            # recomputes their picks through bounds, see project())
            return self._wide(node.draw, counts, seqs)
        shares = [w / total for w, _ in node.branches]
        whole: list[Item] = [Choice(node.draw, bounds, tuple(seqs))]
        if top and self.locale is not None:
            return whole  # formats as such: the locales' formats then merge by shape (see _unite_choice)
        aligned: list[Item] = []
        for col in _align(seqs):
            if all(c == col[0] for c in col):
                aligned.extend(col[0])
            else:
                aligned.append(Choice(node.draw, bounds, col))
        if top:
            # the value itself: a CASE of whole formats builds one string per row as well
            cost_whole = CASE_COST + sum(s * _value_cost(q) for s, q in zip(shares, seqs, strict=True))
            return aligned if _value_cost(aligned) <= cost_whole else whole
        # inside a concat: a CASE of whole formats builds an extra string per row
        return aligned if _args_cost(aligned) <= _args_cost(whole) else whole

    def _wide(self, draw: str, counts: tuple[int, ...], seqs: list[Seq]) -> list[Item]:
        key = Key(draw, counts)
        out: list[Item] = []
        for j, col in enumerate(_align(seqs)):
            if all(c == col[0] for c in col):
                out.extend(col[0])
            else:
                out.append(_unite_part(list(col), key, f"{draw}/c{j}"))
        return out

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


# -- lowering helpers ------------------------------------------------------------------------

SHARED = 0.8
"A CASE over several locales' formats needs this share of their rows in formats two locales share."
WIDE = 12
"Switches with more branches (of integer weights) draw a branch index instead of testing bounds."


def _integer_counts(node: Switch) -> tuple[int, ...] | None:
    """The branches' weights as small integers (Faker's format lists: 1 each, more for repeats)."""
    ws = [w for w, _ in node.branches]
    if all(float(w).is_integer() for w in ws) and sum(ws) <= 100_000:
        return tuple(int(w) for w in ws)
    if max(ws) - min(ws) <= 1e-12 * max(ws):
        return (1,) * len(ws)
    return None


def _picks(node: Node) -> Iterator[Pick]:
    if isinstance(node, Pick):
        yield node
    elif isinstance(node, Concat):
        for p in node.parts:
            yield from _picks(p)
    elif isinstance(node, Switch):
        for _, b in node.branches:
            yield from _picks(b)
    elif isinstance(node, Func):
        yield from _picks(node.arg)


def _bound_int(b: float) -> int:
    return min(2**64, round(b * 2**64))


def _bound(b: float) -> str:
    """A cumulative weight as a UBIGINT bound on a 64-bit hash (``hash < bound`` ⇔ ``u < b``)."""
    return f"{min(2**64 - 1, _bound_int(b))}::UBIGINT"


def _merge_lits(items: list[Item]) -> Seq:
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


def _pattern_items(node: Pattern) -> list[Item]:
    """Faker's placeholders as items: digit runs, picks of letters, literal text between them."""
    items: list[Item] = []
    text = ""
    src = node.text
    i = k = 0
    while i < len(src):
        c = src[i]
        draw = f"{node.draw}.{k}"
        item: Item | None = None
        step = 1
        if node.numerify and c == "#":
            while i + step < len(src) and src[i + step] == "#":
                step += 1
            # runs longer than a digit list take several picks, each its own draw
            first = step - MAX_DIGITS_PICK * ((step - 1) // MAX_DIGITS_PICK)
            for size in [first] + [MAX_DIGITS_PICK] * ((step - 1) // MAX_DIGITS_PICK):
                if text:
                    items.append(Lit(text))
                    text = ""
                items.append(Digits(f"{node.draw}.{k}", size))
                k += 1
            i += step
            continue
        elif node.numerify and c in NONZERO:
            item = Pick(NONZERO[c], draw)
        elif node.numerify and c in "!@":
            item = Opt(draw, 0 if c == "!" else 1)
        elif node.lexify and c == "?":
            item = Pick(_chars_vocab(node.letters), draw)
        elif node.hexify and c == "^":
            item = Pick(HEX_UPPER if node.upper_hex else HEX_LOWER, draw)
        if item is None:
            text += c
            i += 1
            continue
        if text:
            items.append(Lit(text))
            text = ""
        items.append(item)
        i += step
        k += 1
    if text:
        items.append(Lit(text))
    return items


def _upper(seq: Seq) -> Seq | None:
    """``upper()`` applied at compile time (literals, digits, picks of single characters), else None."""
    out: list[Item] = []
    for item in seq:
        if isinstance(item, Lit) and item.text.isascii():
            out.append(Lit(item.text.upper()))
        elif isinstance(item, Digits):
            out.append(item)
        elif (
            isinstance(item, Pick)
            and item.vocab.key.startswith("chars.")
            and "".join(item.vocab.values).isascii()
        ):
            out.append(Pick(_chars_vocab("".join(item.vocab.values).upper()), item.draw))
        elif isinstance(item, Choice):
            alts = [_upper(a) for a in item.alts]
            if any(a is None for a in alts):
                return None
            out.append(Choice(item.draw, item.bounds, tuple(a for a in alts if a is not None)))
        else:
            return None
    return tuple(out)


def _item_cost(item: Item) -> float:
    if isinstance(item, Lit):
        return 0.0
    if isinstance(item, Choice):
        return CASE_COST + _choice_alts_cost(item)
    if isinstance(item, Digits):
        return ITEM_COST[Digits] * (1 + (item.n - 1) // MAX_DIGITS_PICK)
    return ITEM_COST.get(type(item), 20.0)


def _choice_alts_cost(c: Choice) -> float:
    lo = 0.0
    cost = 0.0
    for b, alt in zip(c.bounds, c.alts, strict=True):
        cost += (b - lo) * _value_cost(alt)
        lo = b
    return cost


def _nargs(seq: Seq | list[Item]) -> int:
    return sum(
        (1 + (i.n - 1) // MAX_DIGITS_PICK)
        if isinstance(i, Digits)
        else (0 if isinstance(i, Lit) and not i.text else 1)
        for i in seq
    )


def _args_cost(seq: Seq | list[Item]) -> float:
    """Cost of the items as arguments of an enclosing concat."""
    return sum(_item_cost(i) for i in seq) + ARG_COST * _nargs(seq)


def _value_cost(seq: Seq | list[Item]) -> float:
    """Cost of the items as a value of their own (one concat when more than one argument)."""
    n = _nargs(seq)
    return sum(_item_cost(i) for i in seq) + (CONCAT_COST + ARG_COST * n if n > 1 else 0.0)


# -- alignment of the branches of a switch -----------------------------------------------------

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


def _align(seqs: list[Seq]) -> list[tuple[Seq, ...]]:
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
    return [tuple(_merge_lits(parts) for parts in per) for _, per in merged]


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


# -- several locales: one expression ----------------------------------------------------------


def _seg_size(seg: Seg) -> int:
    return 1 if seg.vocab is None else seg.vocab.slots


def _simple(seq: Seq | None) -> tuple[Seg, str | None] | None:
    """The sequence as one union segment (and its pick's draw): nothing, a literal, or a pick (or a
    run of at most 4 digits, draw ``''``) with literals around it; else None."""
    if seq is None or not seq:
        return Seg(None), None
    if len(seq) == 1 and isinstance(seq[0], Lit):
        return Seg(None, text=seq[0].text), None
    items = list(seq)
    prefix = items.pop(0).text if isinstance(items[0], Lit) else ""
    suffix = items.pop().text if items and isinstance(items[-1], Lit) else ""
    if len(items) == 1 and isinstance(items[0], Digits) and items[0].low == 0 and items[0].span is None:
        if items[0].n <= MAX_DIGITS_PICK:
            return Seg(DIGITS[items[0].n], prefix=prefix, suffix=suffix), ""
    if len(items) != 1 or not isinstance(items[0], Pick):
        return None
    p = items[0]
    column = "f" if p.folded and p.vocab.folded is not None else "v"
    if p.vocab.size == 1:
        value = (p.vocab.folded if column == "f" else p.vocab.values)[0]  # type: ignore[index]
        return Seg(None, text=prefix + value + suffix), None
    return Seg(p.vocab, column, prefix=prefix, suffix=suffix), p.draw


def unite(seqs: list[Seq | None], name: str = "loc") -> Seq:
    """Per-locale sequences (None: a locale no row takes here) as one sequence of shared items."""
    live = [s for s in seqs if s is not None]
    if not live:
        return ()
    if all(s == live[0] for s in live):
        return live[0]
    whole = _unite_part(seqs, LOCALE, f"{name}/c")
    if not isinstance(whole, ByKey) or all(len(s) <= 1 for s in live):
        return (whole,)
    # align the locales' sequences and unite them column by column
    index = [i for i, s in enumerate(seqs) if s is not None]
    columns = _align(live)
    out: list[Item] = []
    for j, col in enumerate(columns):
        if all(c == col[0] for c in col):
            out.extend(col[0])
            continue
        per: list[Seq | None] = [None] * len(seqs)
        for i, c in zip(index, col, strict=True):
            per[i] = c
        out.append(_unite_part(per, LOCALE, f"{name}/c{j}"))
    if sum(isinstance(i, ByKey | UChoice) for i in out) > 1:
        return (whole,)  # several CASEs on the locale cost more than one
    return _merge_lits(out)


def _unite_part(seqs: list[Seq | None], key: Key, name: str) -> Item:
    """One union item for per-key sequences: a UPick, a UChoice (locales only), or a ByKey.

    The segments' picks must share their draw; digit runs have none of their own that anything else
    recomputes, so a column of digits draws with ``name`` (unique to the column)."""
    simple = [_simple(s) for s in seqs]
    if all(x is not None for x in simple):
        draws = {d for _, d in simple if d}  # type: ignore[misc]
        drawn = any(d is not None for _, d in simple)  # type: ignore[misc]
        if key.draw is not None and drawn:
            # formats of one switch: no other rendering recomputes their picks (no name parts here)
            return UPick(tuple(seg for seg, _ in simple), name, key)  # type: ignore[misc]
        if len(draws) <= 1:
            draw = next(iter(draws), name if drawn else None)
            return UPick(tuple(seg for seg, _ in simple), draw, key)  # type: ignore[misc]
    live = [s for s in seqs if s is not None]
    draws = {s[0].draw for s in live if len(s) == 1 and isinstance(s[0], Choice)}
    if key == LOCALE and len(draws) == 1:  # choices between formats (a locale may have a single one)
        return _unite_choice(seqs, draws.pop())
    return ByKey(tuple(seqs), key)


def _signature(seq: Seq) -> tuple[object, ...]:
    """The shape of a format: its literals (any text), picks (by draw) and choices (by draw)."""
    return tuple(
        "l"
        if isinstance(i, Lit)
        else ("p", i.draw)
        if isinstance(i, Pick)
        else ("c", i.draw)
        if isinstance(i, Choice)
        else i
        for i in seq
    )


def _unite_choice(seqs: list[Seq | None], draw: str) -> Item:
    """Formats of several locales matched by shape into super-branches (a locale's format joins the
    first super-branch of its shape it is not in yet)."""
    n = len(seqs)
    supers: list[tuple[tuple[object, ...], list[tuple[float, float] | None], list[Seq | None]]] = []
    for loc, seq in enumerate(seqs):
        if seq is None:
            continue
        item = seq[0] if len(seq) == 1 else None
        branches: list[tuple[float, float, Seq]]
        if isinstance(item, Choice) and item.draw == draw:
            lows = (0.0, *item.bounds[:-1])
            branches = [(lo, hi, alt) for lo, hi, alt in zip(lows, item.bounds, item.alts, strict=True)]
        else:
            branches = [(0.0, 1.0, seq)]
        for lo, hi, alt in branches:
            sig = _signature(alt)
            target = next((s for s in supers if s[0] == sig and s[1][loc] is None), None)
            if target is None:
                target = (sig, [None] * n, [None] * n)
                supers.append(target)
            target[1][loc] = (lo, hi)
            target[2][loc] = alt
    shared = sum(
        hi - lo for s in supers if sum(sp is not None for sp in s[1]) > 1 for lo, hi in filter(None, s[1])
    )
    total = sum(hi - lo for s in supers for lo, hi in filter(None, s[1]))
    if len(supers) > 64 or shared < SHARED * total:
        return ByKey(tuple(seqs))  # the locales share too few rows' formats to pay for per-locale bounds
    spans = tuple(tuple(sp if sp is not None else (0.0, 0.0) for sp in s[1]) for s in supers)
    alts = tuple(unite(s[2], f"{draw}/s{k}") for k, s in enumerate(supers))
    return UChoice(draw, spans, alts)


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
