"""Weighted picks in SQL: a CASE over cumulative shares or Walker's alias lists (the weights
themselves are :mod:`dgsql.dsl.laws`), and cumulative shares computed at run time."""

from __future__ import annotations

import itertools
import math

from dgsql.compiler.sqltext import INDENT, Sql, list_of, lit, sql_list
from dgsql.dsl.laws import alias_table, normalise

CUMULATIVE = (
    "CASE WHEN lead(w) OVER (ORDER BY {order}) IS NULL THEN 1.0 "
    "ELSE sum(w) OVER (ORDER BY {order}) / sum(w) OVER () END"
)
"Cumulative share of weight ``w`` in ``order``; exactly 1.0 on the last row, so every u < 1 matches."


CASE_LIMIT = 16
"Above this many non-zero choices, an alias table beats a CASE chain."
CASE_COMPARISONS = 5.5
"""A Poisson count is a CASE over its cumulative pmf when a row makes at most this many
comparisons on average (about λ + 1: so λ up to ~4.5), else an alias pick. Per 7.9M rows:
λ = 1.4 0.031 s vs 0.065 s; λ = 4 0.054 vs 0.065 s; λ = 20 0.171 vs 0.071 s."""
CASE_BRANCHES = 32
"""…and it has at most this many branches (a high ``min`` leaves few comparisons but many
branches, each a copy of the draw that DuckDB binds and plans)."""


def weighted_pick(u: str, values: list[Sql], weights: list[float], sql_type: str) -> str:
    """SQL picking one of ``values`` (SQL literals) with ``weights`` by the uniform ``u``."""
    live = [(v, w) for v, w in zip(values, normalise(weights), strict=True) if w > 0]
    if len(live) == 1:
        return live[0][0]
    if len(live) <= CASE_LIMIT:
        return case_pick(u, live)
    probs, keep, alias = alias_table(weights)
    keep_values = sql_list([values[i] for i in keep], sql_type)
    alias_values = sql_list([values[i] for i in alias], sql_type)
    return f"dg_alias({u}, {list_of(probs, 'DOUBLE')}, {keep_values}, {alias_values})"


def case_pick(u: str, live: list[tuple[str, float]]) -> str:
    """``CASE WHEN u < cumulative share THEN value …``: (value SQL, share) pairs in order, shares > 0."""
    bounds = list(itertools.accumulate(w for _, w in live))
    whens = [f"WHEN {u} < {lit(b)} THEN {v}" for (v, _), b in zip(live[:-1], bounds, strict=False)]
    if len(whens) <= 2:
        return f"CASE {' '.join(whens)} ELSE {live[-1][0]} END"
    # one branch a line: the script stays readable with a 28-branch Poisson pick
    return "CASE\n" + INDENT + ("\n" + INDENT).join(whens) + f"\n{INDENT}ELSE {live[-1][0]} END"


def expected_comparisons(shares: list[float]) -> float:
    """Comparisons a row makes in :func:`case_pick` on average (the last branch is the ELSE),
    to 9 decimals: a libm that rounds ``exp`` otherwise must not flip a choice made on it
    (lambda 4.5 lands on 5.5 up to the pmf's truncation)."""
    last = len(shares) - 1
    return round(math.fsum(min(i + 1, last) * w for i, w in enumerate(shares)), 9)
