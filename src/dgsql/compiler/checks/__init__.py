"""Checks: every constraint and target of a schema, plus the implicit ones, compiled to SQL.

One module per check kind, each with the same shape: ``KIND``, ``CATEGORY`` (which part of the
quality score it counts in), ``DECLARED_BY`` (the ``constraints``/``targets`` key it checks, or
None for an implicit check) and ``compile(ctx) -> Iterable[CheckSpec]``. :data:`REGISTRY` is the
ordered tuple of modules; the report keeps this order.
"""

from __future__ import annotations

from dataclasses import replace
from types import ModuleType

from dgsql.compiler.checks import (
    choice_shares,
    columns,
    composite_effect,
    datetime_shape,
    distribution,
    distribution_law,
    enum,
    faker_vocabulary,
    fanout_bounds,
    fanout_distribution,
    foreign_key,
    funnel_conversion,
    funnel_stages,
    funnel_times,
    inequality,
    mean_in_range,
    not_null,
    null_rate,
    outlier_share,
    pattern,
    primary_key,
    range,
    row_count,
    segment_behavior,
    unique,
    vintage_behavior,
    weekend_share,
)
from dgsql.compiler.checks.spec import CATEGORIES, CheckContext, CheckSpec
from dgsql.dsl.model import Dataset

REGISTRY: tuple[ModuleType, ...] = (
    # structure: the files are what the schema says
    columns,
    row_count,
    primary_key,
    unique,
    not_null,
    foreign_key,
    fanout_bounds,
    funnel_stages,
    funnel_times,
    # values
    range,
    inequality,
    pattern,
    enum,
    # behaviour (targets)
    weekend_share,
    mean_in_range,
    composite_effect,
    segment_behavior,
    vintage_behavior,
    # statistical validity of the declared generators
    datetime_shape,
    fanout_distribution,
    funnel_conversion,
    outlier_share,
    distribution,
    distribution_law,
    choice_shares,
    null_rate,
    faker_vocabulary,
)


def compile_checks(dataset: Dataset) -> list[CheckSpec]:
    """Every check of ``dataset``, in registry order; ids made unique with ``#2``, ``#3``…"""
    ctx = CheckContext(dataset)
    out: list[CheckSpec] = []
    seen: dict[str, int] = {}
    for module in REGISTRY:
        for check in module.compile(ctx):
            n = seen.get(check.id, 0) + 1
            seen[check.id] = n
            if n > 1:
                check = replace(check, id=f"{check.id}#{n}")
            out.append(check)
    return out


__all__ = ["CATEGORIES", "REGISTRY", "CheckContext", "CheckSpec", "compile_checks"]
