"""Lowering: a composition tree as one flat sequence of concat arguments.

- A tree is *flattened* (:meth:`Lowering.flat`) into one sequence of concat
  arguments: a choice between formats (:class:`~dgsql.compiler.faker.tree.Switch`)
  inside a concatenation becomes *aligned columns* — the parts all formats share
  stay plain arguments, the parts that differ become one small ``CASE`` each
  (:class:`~dgsql.compiler.faker.items.Choice`) — so a row builds its value with
  one ``concat``, not one per nesting level. A cost model
  (:mod:`dgsql.compiler.faker.cost`) picks, per switch, these columns or one
  ``CASE`` of whole formats.
- Digit runs are picks from lists of zero-padded digit strings made in SQL
  (:data:`~dgsql.compiler.faker.items.DIGITS`), letters picks from small lists,
  ``upper()`` of a pattern is applied at compile time.
- A switch of many formats (558 phone formats in es_ES, 4,682 postcodes in
  it_IT) draws its branch as an index once; each differing column is then a
  pick by that index from one union list (:class:`~dgsql.compiler.faker.items.UPick`,
  :class:`~dgsql.compiler.faker.items.Key`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from dgsql.compiler.faker.align import align
from dgsql.compiler.faker.cost import CASE_COST, args_cost, value_cost
from dgsql.compiler.faker.items import (
    HEX_LOWER,
    HEX_UPPER,
    MAX_DIGITS_PICK,
    NONZERO,
    Choice,
    Item,
    Key,
    Opt,
    Seq,
    chars_vocab,
    merge_lits,
)
from dgsql.compiler.faker.tree import Concat, Digits, Func, Lit, Node, Pattern, Pick, Raw, Sql, Switch
from dgsql.compiler.faker.unite import unite_part

WIDE = 12
"Switches with more branches (of integer weights) draw a branch index instead of testing bounds."


class Lowering:
    """Lowers one column's trees to flat items (cached per node), for one locale or several."""

    def __init__(self, by_locale: bool = False):
        self.by_locale = by_locale
        "The column has several locales: a top-level switch stays whole (its formats merge by shape)."
        self._flat: dict[tuple[Node, bool], Seq] = {}

    def flat(self, node: Node, top: bool = False) -> Seq:
        """The node as a sequence of concat arguments (adjacent literals merged)."""
        key = (node, top)
        if key not in self._flat:
            self._flat[key] = merge_lits(self._lower(node, top))
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
        if top and self.by_locale:
            # formats as such: the locales' formats then merge by shape (see unite._unite_choice)
            return whole
        aligned: list[Item] = []
        for col in align(seqs):
            if all(c == col[0] for c in col):
                aligned.extend(col[0])
            else:
                aligned.append(Choice(node.draw, bounds, col))
        if top:
            # the value itself: a CASE of whole formats builds one string per row as well
            cost_whole = CASE_COST + sum(s * value_cost(q) for s, q in zip(shares, seqs, strict=True))
            return aligned if value_cost(aligned) <= cost_whole else whole
        # inside a concat: a CASE of whole formats builds an extra string per row
        return aligned if args_cost(aligned) <= args_cost(whole) else whole

    def _wide(self, draw: str, counts: tuple[int, ...], seqs: list[Seq]) -> list[Item]:
        key = Key(draw, counts)
        out: list[Item] = []
        for j, col in enumerate(align(seqs)):
            if all(c == col[0] for c in col):
                out.extend(col[0])
            else:
                out.append(unite_part(list(col), key, f"{draw}/c{j}"))
        return out


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
            item = Pick(chars_vocab(node.letters), draw)
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
            out.append(Pick(chars_vocab("".join(item.vocab.values).upper()), item.draw))
        elif isinstance(item, Choice):
            alts = [_upper(a) for a in item.alts]
            if any(a is None for a in alts):
                return None
            out.append(Choice(item.draw, item.bounds, tuple(a for a in alts if a is not None)))
        else:
            return None
    return tuple(out)
