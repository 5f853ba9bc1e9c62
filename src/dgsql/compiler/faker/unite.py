"""Several locales' (or formats') values as one sequence of shared items.

With several locales in one column, what the locales share is rendered once —
picks from one union of the locales' lists by offset (:class:`~dgsql.compiler.faker.items.UPick`),
format choices as one ``CASE`` with per-locale bounds (:class:`~dgsql.compiler.faker.items.UChoice`) —
and only the rest is a ``CASE`` on the locale (:class:`~dgsql.compiler.faker.items.ByKey`).
"""

from __future__ import annotations

from dgsql.compiler.faker.align import align
from dgsql.compiler.faker.items import (
    DIGITS,
    LOCALE,
    MAX_DIGITS_PICK,
    ByKey,
    Choice,
    Item,
    Key,
    Seg,
    Seq,
    UChoice,
    UPick,
    merge_lits,
)
from dgsql.compiler.faker.tree import Digits, Lit, Pick

SHARED = 0.8
"A CASE over several locales' formats needs this share of their rows in formats two locales share."


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
    whole = unite_part(seqs, LOCALE, f"{name}/c")
    if not isinstance(whole, ByKey) or all(len(s) <= 1 for s in live):
        return (whole,)
    # align the locales' sequences and unite them column by column
    index = [i for i, s in enumerate(seqs) if s is not None]
    columns = align(live)
    out: list[Item] = []
    for j, col in enumerate(columns):
        if all(c == col[0] for c in col):
            out.extend(col[0])
            continue
        per: list[Seq | None] = [None] * len(seqs)
        for i, c in zip(index, col, strict=True):
            per[i] = c
        out.append(unite_part(per, LOCALE, f"{name}/c{j}"))
    if sum(isinstance(i, ByKey | UChoice) for i in out) > 1:
        return (whole,)  # several CASEs on the locale cost more than one
    return merge_lits(out)


def unite_part(seqs: list[Seq | None], key: Key, name: str) -> Item:
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
