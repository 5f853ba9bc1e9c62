"""Compile-time weight arithmetic (normalised weights, zipf/head_tail, alias tables, Poisson pmf) and its
SQL counterpart for run-time weights (cumulative shares)."""

from __future__ import annotations

import itertools
import math

from dgsql.compiler.sqltext import INDENT, list_of, lit, wrapped

CUMULATIVE = (
    "CASE WHEN lead(w) OVER (ORDER BY {order}) IS NULL THEN 1.0 "
    "ELSE sum(w) OVER (ORDER BY {order}) / sum(w) OVER () END"
)
"Cumulative share of weight ``w`` in ``order``; exactly 1.0 on the last row, so every u < 1 matches."


def kind_weights(kind: str, params: tuple[float, ...], n: int) -> list[float]:
    """Weights of ``n`` ranked choices for a parsed ``weights_kind``."""
    if kind == "uniform":
        return [1.0] * n
    if kind == "zipf":
        (a,) = params
        return [1.0 / (i + 1) ** a for i in range(n)]
    h, a = params
    head = max(1, math.floor(0.2 * n))
    tail = [1.0 / (i + 1) ** a for i in range(n - head)]
    total_tail = sum(tail)
    if not tail:
        return [1.0 / head] * head
    return [h / head] * head + [(1 - h) * w / total_tail for w in tail]


def normalise(weights: list[float]) -> list[float]:
    total = math.fsum(weights)
    return [w / total for w in weights]


def alias_table(weights: list[float]) -> tuple[list[float], list[int], list[int]]:
    """Vose's alias method over the *positive* weights.

    Returns (probs, keep, alias), m buckets each; a pick takes bucket
    ``j = floor(u*m)`` and yields item ``keep[j]`` if the fraction of ``u*m`` is
    below ``probs[j]``, else item ``alias[j]``. Zero weights get no bucket and are
    never drawn.
    """
    items = [i for i, w in enumerate(weights) if w > 0]
    m = len(items)
    total = math.fsum(weights[i] for i in items)
    scaled = [weights[i] * m / total for i in items]
    probs = [1.0] * m
    aliases = list(range(m))
    small = [j for j, p in enumerate(scaled) if p < 1.0]
    large = [j for j, p in enumerate(scaled) if p >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        probs[s], aliases[s] = scaled[s], g
        scaled[g] = (scaled[g] + scaled[s]) - 1.0
        (small if scaled[g] < 1.0 else large).append(g)
    # leftovers are 1.0 up to rounding
    return probs, items, [items[a] for a in aliases]


def poisson_point(lam: float, lo: int, hi: int | None) -> int | None:
    """The one value of a Poisson(lam) clamped to [lo, hi] when the clamp leaves only one
    (``lo`` at or past the table's last point, or ``hi <= lo``), else None. Callers ask this
    first: a table of ``lo`` leading zeros for ``min: 10**9`` would not fit in memory."""
    if hi is not None and hi <= lo:
        return lo
    return lo if lo > 0 and lo >= len(poisson_pmf(lam, 0, hi)) - 1 else None


def poisson_pmf(lam: float, lo: int, hi: int | None, eps: float = 1e-15) -> list[float]:
    """P(K=k) for k in [0, top], the mass outside [lo, hi] folded onto the ends (a clamp)."""
    pmf: list[float] = []
    k, p, cum = 0, math.exp(-lam), 0.0
    top = hi if hi is not None else None
    while True:
        pmf.append(p)
        cum += p
        # past the mode the terms only shrink; for some lambdas the float sum stops short of
        # 1 - eps (19.69, 24.36, …), so a negligible term ends the table too (else: no end)
        if (top is not None and k >= top) or (k >= lam and (cum >= 1 - eps or p < eps * 1e-3)):
            break
        k += 1
        p *= lam / k
    pmf[-1] += max(0.0, 1.0 - cum)
    if lo > 0:
        folded = math.fsum(pmf[: lo + 1])
        pmf = [0.0] * lo + [folded] + pmf[lo + 1 :]
    return pmf


CASE_LIMIT = 16
"Above this many non-zero choices, an alias table beats a CASE chain."
CASE_COMPARISONS = 5.5
"""A Poisson count is a CASE over its cumulative pmf when a row makes at most this many
comparisons on average (about λ + 1: so λ up to ~4.5), else an alias pick. Per 7.9M rows:
λ = 1.4 0.031 s vs 0.065 s; λ = 4 0.054 vs 0.065 s; λ = 20 0.171 vs 0.071 s."""
CASE_BRANCHES = 32
"""…and it has at most this many branches (a high ``min`` leaves few comparisons but many
branches, each a copy of the draw that DuckDB binds and plans)."""


def weighted_pick(u: str, values: list[str], weights: list[float], sql_type: str) -> str:
    """SQL picking one of ``values`` (SQL literals) with ``weights`` by the uniform ``u``."""
    live = [(v, w) for v, w in zip(values, normalise(weights), strict=True) if w > 0]
    if len(live) == 1:
        return live[0][0]
    if len(live) <= CASE_LIMIT:
        return case_pick(u, live)
    probs, keep, alias = alias_table(weights)
    keep_values = "[" + wrapped(values[i] for i in keep) + f"]::{sql_type}[]"
    alias_values = "[" + wrapped(values[i] for i in alias) + f"]::{sql_type}[]"
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
