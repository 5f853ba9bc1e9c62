"""The binned statistic the law checks share: Pearson's chi-square of observed counts against
declared shares, with a bound that an honest sample exceeds with probability :data:`ALPHA`.

A check supplies a CTE ``cells(k, p, o)``: one row per category or bin, ``k`` its order, ``p``
the declared share (the shares sum to 1 over the cells; a value the declaration never yields
has ``p = 0``) and ``o`` the observed count. :func:`chi_square` adds the rest of the query:

* cells are pooled in the order ``k`` so that each pool expects at least :data:`MIN_EXPECTED`
  rows (the chi-square law of the statistic needs a few rows per cell): a run of cells whose
  cumulative expected count stays within one multiple of ``MIN_EXPECTED`` forms a pool, and a
  pool expecting too few joins the nearest full one before it (after it, for the first);
* ``chi_square = Σ (o − n·p)² / (n·p)`` over the cells, ``df`` = cells − 1;
* passes when ``chi_square ≤ bound(df)``, the upper :data:`BOUND_ALPHA` quantile of χ²(df):
  exact (from :func:`chi2_quantile`) up to :data:`EXACT_DF` degrees of freedom, the
  Wilson–Hilferty cube beyond (above the exact quantile by less than 0.07 %, so a little
  stricter on false alarms). The bound is set at a tenth of the target :data:`ALPHA` because
  the chi-square law is only the limit of the statistic: its far tail is heavier. Computed
  exactly for two cells (a binomial: the worst case), the chance of passing the 1e-7 bound is
  at most 7.4e-7 when the smaller cell expects 50 rows, 1.6e-6 at 25 (and up to 7.7e-6 at
  the plain 1e-6 bound);
* a cell with ``p = 0`` that holds rows fails the check (infinite statistic);
* not evaluated when fewer than two cells remain (too few rows) or no rows.

>>> round(chi2_quantile(1, 0.05), 3), round(chi2_quantile(10, 1e-6), 2)
(3.841, 46.86)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from statistics import NormalDist

from dgsql.compiler.sqltext import Sql, double, doubles, fill

ALPHA = 1e-6
"The false-alarm probability of one check on an honest build that the bounds keep below."
BOUND_ALPHA = ALPHA / 10
"The nominal tail probability the bounds are set at (the margin covers the approximations)."
MIN_EXPECTED = 50.0
"Cells expecting fewer rows are pooled."
EXACT_DF = 200
"Up to this many degrees of freedom the bound is the exact χ² quantile, listed in the SQL."
Z_ONE_SIDED = NormalDist().inv_cdf(1 - BOUND_ALPHA)
Z_TWO_SIDED = NormalDist().inv_cdf(1 - BOUND_ALPHA / 2)
"The normal bound of a two-sided test at :data:`BOUND_ALPHA` (5.33): the mean and variance checks."


def _gamma_q(a: float, x: float) -> float:
    """The regularised upper incomplete gamma function Q(a, x) (series below a + 1, else a
    continued fraction; Numerical Recipes §6.2)."""
    if x <= 0:
        return 1.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        k = a
        for _ in range(10_000):
            k += 1
            term *= x / k
            total += term
            if abs(term) < abs(total) * 1e-16:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        step = d * c
        h *= step
        if abs(step - 1) < 1e-16:
            break
    return math.exp(log_front) * h


def chi2_quantile(df: int, alpha: float = ALPHA) -> float:
    """The x with P(χ²(df) > x) = alpha (bisection on :func:`_gamma_q`)."""
    lo, hi = 0.0, max(10.0, 4.0 * df)
    while _gamma_q(df / 2, hi / 2) > alpha:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if _gamma_q(df / 2, mid / 2) > alpha:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


@functools.cache
def bounds() -> tuple[float, ...]:
    """χ² bounds for df = 1 … :data:`EXACT_DF`: computed once, when a check first needs them
    (0.3 s of bisection: not at import, which every build pays)."""
    return tuple(chi2_quantile(df, BOUND_ALPHA) for df in range(1, EXACT_DF + 1))


TEMPLATE = """\
total AS (SELECT sum(o) AS n FROM cells),
runs AS (
  SELECT p, o, floor((sum(p) OVER (ORDER BY k ROWS UNBOUNDED PRECEDING) - p) * (SELECT n FROM total)
                     / {min_expected}) AS run
  FROM cells
),
grouped AS (SELECT run, sum(p) AS p, sum(o) AS o, sum(p) * (SELECT n FROM total) >= {min_expected} AS full_run
            FROM runs GROUP BY run),
merged AS (
  SELECT coalesce((SELECT max(f.run) FROM grouped AS f WHERE f.full_run AND f.run <= g.run),
                  (SELECT min(f.run) FROM grouped AS f WHERE f.full_run)) AS cell,
         sum(p) AS p, sum(o) AS o
  FROM grouped AS g GROUP BY cell
),
chi AS (
  SELECT (SELECT n FROM total) AS row_count, count(*) AS cells, count(*) - 1 AS df,
         sum(CASE WHEN p > 0 THEN (o - p * (SELECT n FROM total)) ** 2 / (p * (SELECT n FROM total))
                  WHEN o > 0 THEN 'infinity'::DOUBLE ELSE 0 END) AS chi_square
  FROM merged
),
judged AS (
  SELECT row_count, cells, df, chi_square,
         CASE WHEN df < 1 THEN NULL
              WHEN df <= {exact_df} THEN {bounds}[df]
              ELSE df * (1 - 2 / (9 * df) + {z} * sqrt(2 / (9 * df))) ** 3 END AS bound
  FROM chi
)
SELECT row_count, cells, df, chi_square, bound,{extra}
  CASE WHEN row_count IS NULL OR row_count = 0 OR df < 1 THEN NULL ELSE chi_square <= bound END AS ok
FROM judged"""


def chi_square(cells: Sql, extra: Sql | None = None) -> Sql:
    """The statistic's query over ``cells`` (the ``WITH`` clause defining ``cells(k, p, o)``, and
    any CTE it needs, ending with a comma): one row ``row_count, cells, df, chi_square,
    bound``, ``extra`` (columns of ``judged`` or constants, each followed by a comma), ``ok``."""
    return Sql(
        cells
        + "\n"
        + fill(
            TEMPLATE,
            min_expected=double(MIN_EXPECTED),
            exact_df=Sql(str(EXACT_DF)),
            bounds=doubles(bounds()),
            z=double(Z_ONE_SIDED),
            extra=extra or Sql(""),
        )
    )


CATEGORIES = """\
WITH declared_rows AS ({declared}),
declared AS (
  SELECT v, sum(w) / sum(sum(w)) OVER () AS p FROM declared_rows WHERE v IS NOT NULL GROUP BY v
),
observed AS (SELECT {value} AS v, count(*) AS o FROM {table} WHERE {col} IS NOT NULL GROUP BY v),
shares AS (
  SELECT coalesce(d.v, b.v) AS v, coalesce(d.p, 0) AS p, coalesce(b.o, 0) AS o
  FROM declared AS d FULL OUTER JOIN observed AS b ON d.v = b.v
),
cells AS (SELECT {order} AS k, p, o FROM shares),"""

BINS = """\
WITH declared AS (SELECT unnest(range(1, {count})) AS cell, unnest({shares}) AS p),
observed AS (
  SELECT CASE {whens} ELSE {last} END AS cell, count(*) AS o
  FROM (SELECT {value} AS v FROM {table} WHERE {col} IS NOT NULL) AS t GROUP BY cell
),
cells AS (
  SELECT coalesce(d.cell, b.cell) AS k, coalesce(d.p, 0) AS p, coalesce(b.o, 0) AS o
  FROM declared AS d FULL OUTER JOIN observed AS b ON d.cell = b.cell
),"""


def categories(declared: Sql, table: Sql, col: Sql, value: Sql | None = None, ordered: bool = False) -> Sql:
    """``cells`` of a categorical law: ``declared`` is a query of rows ``(v, w)`` (a value and
    its weight; weights of a repeated value add up, NULL values are left out and the others
    renormalised), counted against the non-NULL values ``value`` (default ``col``) of
    ``table``. Pooled in the values' order when ``ordered`` (numbers), else from the largest
    share down."""
    order = Sql("row_number() OVER (ORDER BY v)" if ordered else "row_number() OVER (ORDER BY p DESC, v)")
    return fill(CATEGORIES, declared=declared, table=table, col=col, value=value or col, order=order)


def bins(edges: Sequence[float], shares: Sequence[float], table: Sql, col: Sql) -> Sql:
    """``cells`` of binned values: bin i holds ``eᵢ₋₁ < v ≤ eᵢ`` (the first everything up to
    e₁, the last everything above the last edge), with declared ``shares`` (one more than
    ``edges``)."""
    assert len(shares) == len(edges) + 1
    whens = Sql(
        " ".join(fill("WHEN v <= {e} THEN {i}", e=double(e), i=Sql(str(i))) for i, e in enumerate(edges, 1))
    )
    return fill(
        BINS,
        count=Sql(str(len(shares) + 1)),
        shares=doubles(shares),
        whens=whens,
        last=Sql(str(len(shares))),
        value=fill("CAST({c} AS DOUBLE)", c=col),
        table=table,
        col=col,
    )


def parameters() -> dict[str, float]:
    """The test's parameters, for a check's ``expect``."""
    return {
        "test": "chi-square",
        "false_alarm_below": ALPHA,
        "bound_at": BOUND_ALPHA,
        "min_expected_per_cell": MIN_EXPECTED,
    }
