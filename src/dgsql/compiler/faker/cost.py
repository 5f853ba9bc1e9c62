"""The cost model that chooses how a switch is lowered (aligned columns or a ``CASE`` of whole formats).

Rendering is shaped by what DuckDB spends its time on (measured, 1M rows, see
docs/faker.md): a ``concat`` ~25 ms plus ~3 ms per argument, a list pick
~13 ms, a ``CASE`` ~10 ms, ``lpad(n::VARCHAR)`` ~50 ms, and — what dominates
with many formats or locales — ~0.4 µs per expression node per 2,048 rows in
every ``CASE`` branch any row of the chunk takes, however few.
"""

from __future__ import annotations

from dgsql.compiler.faker.items import MAX_DIGITS_PICK, Choice, Item, Opt, Seq
from dgsql.compiler.faker.tree import Digits, Func, Lit, Pick, Raw, Sql

# -- cost model (ms per million rows, DuckDB 2.0.1 on the dev machine; ratios matter) ----------

CONCAT_COST = 25.0
ARG_COST = 3.0
CASE_COST = 10.0
ITEM_COST = {Pick: 14.0, Digits: 14.0, Opt: 30.0, Raw: 40.0, Sql: 14.0, Func: 20.0}


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
        cost += (b - lo) * value_cost(alt)
        lo = b
    return cost


def _nargs(seq: Seq | list[Item]) -> int:
    return sum(
        (1 + (i.n - 1) // MAX_DIGITS_PICK)
        if isinstance(i, Digits)
        else (0 if isinstance(i, Lit) and not i.text else 1)
        for i in seq
    )


def args_cost(seq: Seq | list[Item]) -> float:
    """Cost of the items as arguments of an enclosing concat."""
    return sum(_item_cost(i) for i in seq) + ARG_COST * _nargs(seq)


def value_cost(seq: Seq | list[Item]) -> float:
    """Cost of the items as a value of their own (one concat when more than one argument)."""
    n = _nargs(seq)
    return sum(_item_cost(i) for i in seq) + (CONCAT_COST + ARG_COST * n if n > 1 else 0.0)
