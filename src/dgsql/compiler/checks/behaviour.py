"""What the behaviour checks share: a fact whose primary parent has a segment or vintage
behaviour, its parent's per-row factors (the compiler's own SQL, ``compiler/behaviours.py``,
over the parent's file), and two statistics grouped by a property of the parent row.

- :func:`fanout_by_group`: per group, the observed mean of children per parent against the
  exact expectation ``E[max(0, round(k·f))]``, ``k`` the declared clamped fanout law
  (``fanout_distribution.clamped_pmf``) and ``f`` the parent's product of fanout factors; the
  tolerance is 4 standard errors of that mean (its variance summed over the group's parents)
  plus 0.5 % of it. Every group of at least 30 parents must pass.
- :func:`value_by_group`: per group, the ratio of a child column's mean to its mean in the
  base group (the group with the most child rows) against the ratio of the parents' mean value
  factors; tolerance 4 standard errors of the ratio (delta method) plus 1 % of it, plus half a
  unit relative to the base mean on an int column (rounding).
"""

from __future__ import annotations

from dgsql.compiler import behaviours
from dgsql.compiler.checks import binned
from dgsql.compiler.checks.fanout import ParentLink, children_cte, parent_link
from dgsql.compiler.checks.fanout_distribution import clamped_pmf
from dgsql.compiler.checks.spec import CheckContext
from dgsql.compiler.checks.views import table
from dgsql.compiler.sqltext import Sql, double, doubles, fill, ident
from dgsql.dsl.model import Fanout, Node

Z = binned.Z_TWO_SIDED
"""The normal bound at the law checks' false-alarm rate (:mod:`binned`); the slacks stay: the
expectations are approximate (a scaled count rounded per parent, a ratio of means)."""
MIN_PARENTS = 30
MIN_ROWS = 30
FANOUT_SLACK = 0.005
VALUE_SLACK = 0.01
ALIAS = "p"

FANOUT = """\
{children},
parents AS (SELECT p.{pk} AS parent_key, {group} AS grp, {factor} AS f FROM {parent} AS p),
pmf AS (SELECT unnest({ks}) AS k, unnest({ps}) AS pk),
laws AS (
  SELECT f, sum(pk * greatest(round(k * f), 0)) AS mu, sum(pk * greatest(round(k * f), 0) ^ 2) AS m2
  FROM (SELECT DISTINCT f FROM parents) AS d, pmf GROUP BY f
),
per_group AS (
  SELECT pa.grp, count(*) AS parents, avg(c.children) AS mean, avg(l.mu) AS expected_mean,
    sqrt(greatest(sum(l.m2 - l.mu * l.mu), 0)) / count(*) AS standard_error
  FROM children AS c JOIN parents AS pa USING (parent_key) JOIN laws AS l USING (f)
  GROUP BY pa.grp
),
scored AS (
  SELECT *, abs(mean - expected_mean) <= {z} * standard_error + {slack} * expected_mean + 1e-9 AS group_ok
  FROM per_group WHERE parents >= {min_parents}
)
SELECT count(*) AS groups, (SELECT count(*) FROM per_group) - count(*) AS small_groups,
  string_agg(CAST(grp AS VARCHAR) || ': ' || CAST(round(mean, 4) AS VARCHAR) || ' vs '
    || CAST(round(expected_mean, 4) AS VARCHAR) || ' per parent (' || CAST(parents AS VARCHAR) || ' parents)',
    '; ' ORDER BY grp) AS observed_vs_expected,
  CASE WHEN count(*) = 0 THEN NULL ELSE bool_and(group_ok) END AS ok,
  (SELECT list({{'group': grp, 'parents': parents, 'mean': mean, 'expected_mean': expected_mean}} ORDER BY grp)
   FROM per_group) AS per_group
FROM scored"""


VALUE = """\
WITH parents AS (SELECT p.{pk} AS parent_key, {group} AS grp, {factor} AS g FROM {parent} AS p),
child_rows AS (
  SELECT pa.grp, CAST(x.{col} AS DOUBLE) AS v, pa.g FROM {fact} AS x JOIN parents AS pa ON x.{fk} = pa.parent_key
  WHERE x.{col} IS NOT NULL
),
per_group AS (SELECT grp, count(*) AS n, avg(v) AS mean, coalesce(stddev_samp(v), 0) AS sd, avg(g) AS g
  FROM child_rows GROUP BY grp),
base AS (SELECT * FROM per_group ORDER BY n DESC, CAST(grp AS VARCHAR) LIMIT 1),
scored AS (
  SELECT s.grp, s.n, s.mean / nullif(b.mean, 0) AS ratio, s.g / nullif(b.g, 0) AS expected_ratio,
    {z} * abs(s.mean / nullif(b.mean, 0)) * sqrt((s.sd / nullif(s.mean, 0)) ^ 2 / s.n + (b.sd / nullif(b.mean, 0)) ^ 2 / b.n)
      + {slack} * abs(s.g / nullif(b.g, 0)) + {rounding} / nullif(abs(b.mean), 0) AS tolerance,
    b.grp AS base
  FROM per_group AS s, base AS b WHERE s.n >= {min_rows} AND b.n >= {min_rows}
)
SELECT count(*) AS groups, any_value(base) AS base_group,
  string_agg(CAST(grp AS VARCHAR) || ': ' || CAST(round(ratio, 4) AS VARCHAR) || ' vs '
    || CAST(round(expected_ratio, 4) AS VARCHAR) || ' (' || CAST(n AS VARCHAR) || ' rows)', '; ' ORDER BY grp)
    AS ratio_to_base_vs_declared,
  CASE WHEN count(*) < 2 THEN NULL ELSE bool_and(abs(ratio - expected_ratio) <= tolerance) END AS ok,
  list({{'group': grp, 'n': n, 'ratio': ratio, 'expected_ratio': expected_ratio}} ORDER BY grp) AS per_group
FROM scored"""


def scaled_facts(ctx: CheckContext) -> list[tuple[int, Node, behaviours.Scaling]]:
    """(index, fact, scaling) of every fact whose primary parent scales it."""
    found = []
    for i, node in enumerate(ctx.dataset.nodes):
        scaling = behaviours.scaling(ctx.dataset, node)
        if scaling is not None:
            found.append((i, node, scaling))
    return found


def link_of(ctx: CheckContext, node: Node) -> ParentLink | str:
    """How the fact's rows point at their parent row, or why they cannot be grouped by it."""
    return parent_link(ctx, node)


def fanout_of(node: Node) -> Fanout:
    return node.fanout if node.fanout is not None else Fanout(distribution="uniform", min=1, max=1)


def fanout_by_group(
    ctx: CheckContext,
    node: Node,
    scaling: behaviours.Scaling,
    link: ParentLink,
    group: Sql,
) -> Sql:
    """The statistic of :data:`FANOUT` for ``node`` grouped by ``group`` (SQL over parent alias
    ``p``), with each group's figures (``per_group``, which the HTML report charts)."""
    pmf = clamped_pmf(fanout_of(node))
    factors = scaling.fanout_factors(ALIAS) or ["1.0::DOUBLE"]
    return fill(
        FANOUT,
        children=children_cte(link, node.id),
        pk=ident(link.key),
        group=group,
        factor=Sql(" * ".join(factors)),
        parent=table(link.parent),
        ks=doubles(pmf.keys()),
        ps=doubles(pmf.values()),
        z=double(Z),
        slack=double(FANOUT_SLACK),
        min_parents=double(MIN_PARENTS),
    )


def value_by_group(
    ctx: CheckContext,
    node: Node,
    scaling: behaviours.Scaling,
    link: ParentLink,
    group: Sql,
    column: str,
) -> Sql:
    """The statistic of :data:`VALUE` for ``column`` of ``node`` grouped by ``group``, with each
    group's figures (``per_group``)."""
    factors = scaling.value_factors(column, ALIAS) or ["1.0::DOUBLE"]
    col = next(c for c in node.columns if c.name == column)
    return fill(
        VALUE,
        pk=ident(link.key),
        group=group,
        factor=Sql(" * ".join(factors)),
        parent=table(link.parent),
        fact=table(node.id),
        fk=ident(link.child_column),
        col=ident(column),
        z=double(Z),
        slack=double(VALUE_SLACK),
        rounding=double(0.5 if col.type == "int" else 0.0),
        min_rows=double(MIN_ROWS),
    )


def segment_group(scaling: behaviours.Scaling) -> Sql:
    assert scaling.segment is not None
    return fill("CAST({a}.{c} AS VARCHAR)", a=Sql(ALIAS), c=ident(scaling.segment.segment_column))
