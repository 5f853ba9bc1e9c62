"""A fact's children per parent follow its declared fanout distribution: the observed mean and
variance match the clamped Poisson(λ) (or uniform integer) law within :data:`Z` standard errors
(the normal bound of :mod:`binned` at its false-alarm rate). The law is exact for a uniform count
and for λ ≤ 50 (inverse CDF); above, the build draws a rounded normal, so a small slack stays
(0.5 % of the mean, 2 % of the variance).

The expected moments are those of the exact clamped law, computed here; the standard errors
use the observed number of parents, so small tables get wide tolerances and large ones tight.
The dispersion index (variance / mean) is reported alongside.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from dgsql.compiler import behaviours
from dgsql.compiler.checks import binned
from dgsql.compiler.checks.fanout import children_cte, parent_link
from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled, not_compiled
from dgsql.compiler.sqltext import double, fill
from dgsql.dsl.laws import POISSON_EXACT_MAX
from dgsql.dsl.model import Fanout

KIND = "fanout_distribution"
CATEGORY = "statistical"
DECLARED_BY = None

Z = binned.Z_TWO_SIDED
MEAN_SLACK = 0.005
VAR_SLACK = 0.02
MIN_PARENTS = 30

TEMPLATE = """\
{children},
observed AS (SELECT count(*) AS parents, avg(children) AS mean, var_pop(children) AS variance FROM children)
SELECT parents, mean, {mu} AS expected_mean, variance, {var} AS expected_variance,
  variance / nullif(mean, 0) AS dispersion, {var} / nullif({mu}, 0) AS expected_dispersion,
  {z} * sqrt({var} / parents) + {mslack} * {mu} AS mean_tolerance,
  {z} * sqrt({var4} / parents) + {vslack} * {var} AS variance_tolerance,
  CASE WHEN parents < {min_parents} THEN NULL
       ELSE abs(mean - {mu}) <= {z} * sqrt({var} / parents) + {mslack} * {mu}
        AND abs(variance - {var}) <= {z} * sqrt({var4} / parents) + {vslack} * {var} END AS ok
FROM observed"""


def clamped_pmf(fanout: Fanout) -> dict[int, float]:
    """The law of the child count: the draw, then clamped to [min, max]."""
    lo, hi = fanout.bounds
    if fanout.distribution == "uniform":
        assert hi is not None
        return {k: 1 / (hi - lo + 1) for k in range(lo, hi + 1)}
    lam = fanout.lambda_ or 0.0
    top = int(lam + 12 * math.sqrt(lam) + 30)
    pmf: dict[int, float] = {}
    for k in range(0, top + 1):
        p = math.exp(k * math.log(lam) - lam - math.lgamma(k + 1)) if lam > 0 else float(k == 0)
        kk = max(lo, k if hi is None else min(k, hi))
        pmf[kk] = pmf.get(kk, 0.0) + p
    total = sum(pmf.values())
    return {k: p / total for k, p in pmf.items()}


def moments(pmf: dict[int, float]) -> tuple[float, float, float]:
    """(mean, variance, Var of the sample variance per observation = μ4 − σ⁴)."""
    mu = sum(k * p for k, p in pmf.items())
    var = sum((k - mu) ** 2 * p for k, p in pmf.items())
    mu4 = sum((k - mu) ** 4 * p for k, p in pmf.items())
    return mu, var, max(mu4 - var * var, 0.0)


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for i, node in enumerate(ctx.dataset.nodes):
        if node.kind != "fact" or node.fanout is None or not node.parents or node.stage_config:
            continue
        source = f"nodes[{i}].fanout"
        link = parent_link(ctx, node)
        scaling = behaviours.scaling(ctx.dataset, node)
        scaled = scaling is not None and bool(scaling.fanout_factors("p"))
        if isinstance(link, str) or node.modifiers or scaled:
            reason = (
                link
                if isinstance(link, str)
                else "a table-level effect scales the fanout, so λ is not its law"
                if node.modifiers
                else "the parent's segment or vintage scales the fanout (checked by segment_behavior, vintage_behavior)"
            )
            yield not_compiled(KIND, CATEGORY, node.id, source, reason)
            continue
        mu, var, var4 = moments(clamped_pmf(node.fanout))
        exact = node.fanout.distribution == "uniform" or (node.fanout.lambda_ or 0.0) <= POISSON_EXACT_MAX
        sql = fill(
            TEMPLATE,
            children=children_cte(link, node.id),
            mu=double(mu),
            var=double(var),
            var4=double(var4),
            z=double(Z),
            mslack=double(0.0 if exact else MEAN_SLACK),
            vslack=double(0.0 if exact else VAR_SLACK),
            min_parents=double(MIN_PARENTS),
        )
        fanout = node.fanout
        yield compiled(
            KIND,
            CATEGORY,
            node.id,
            sql=sql,
            mode="stat",
            source=source,
            expect={
                "distribution": fanout.distribution,
                "lambda": fanout.lambda_,
                "min": fanout.bounds[0],
                "max": fanout.bounds[1],
            },
        )
