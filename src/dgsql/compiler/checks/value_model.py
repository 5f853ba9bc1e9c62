"""What the DSL says about the values of a ``distribution`` column after its modifiers.

Two questions, answered exactly from the declaration (never from the data):

* :func:`support`: the interval every value must lie in (generator clamp, then each modifier's
  effect on the interval, ``ModifierKind.support``: a jitter opens it, a later clamp closes it);
* :func:`tail`: ``P(V > t)``, the upper-tail probability of the final value, through the
  modifiers that know their tail (``ModifierKind.tail``: multiply, add, clamp, jitter,
  outliers). Each of them is monotone in the value for a fixed draw of its noise, so
  ``P(step(X) > t) = P(X > step⁻¹(t))`` averaged over the noise, which is integrated with
  quantile-midpoint nodes.

The laws of the generator's own draw are :mod:`dgsql.dsl.laws`; each modifier's part is its
kind's (``compiler/modifiers``).
"""

from __future__ import annotations

from collections.abc import Sequence

from dgsql.compiler.modifiers import MODIFIERS
from dgsql.dsl.laws import base_support, base_tail
from dgsql.dsl.model import Column, DistributionGen, DistributionSpec, Modifier


def distribution(col: Column) -> DistributionSpec | None:
    gen = col.generator
    return gen.distribution if isinstance(gen, DistributionGen) else None


def support(col: Column) -> tuple[float, float] | str:
    """(lo, hi), possibly infinite, or why the modifiers make it unknowable."""
    spec = distribution(col)
    if spec is None:
        return "the column is not drawn from a distribution"
    return support_of(spec, col.modifiers)


def support_of(spec: DistributionSpec, steps: Sequence[Modifier]) -> tuple[float, float] | str:
    """(lo, hi) of the draw of ``spec`` after ``steps``, or why a step makes it unknowable."""
    bounds: tuple[float, float] | None = base_support(spec)
    for mod in steps:
        bounds = MODIFIERS[mod.transform].support(mod.args, *bounds)
        if bounds is None:
            return f"the {mod.transform} modifier makes the value range unknowable"
    return bounds


def degenerate(col: Column) -> bool:
    """True when the declaration allows a column with a single value (no variance expected)."""
    spec = distribution(col)
    if spec is None:
        return True
    p = spec.params
    spread = {
        "normal": lambda: p["std"] > 0,
        "lognormal": lambda: p["sigma"] > 0,
        "uniform": lambda: p["high"] > p["low"],
        "poisson": lambda: p["lambda"] > 0,
    }[spec.type]()
    lo, hi = base_support(spec)
    spread = spread and lo < hi
    for mod in col.modifiers:
        spread = MODIFIERS[mod.transform].spreads(mod.args, spread)
    return not spread


def tail_steps(col: Column) -> list[Modifier] | str:
    """The modifiers :func:`tail` integrates over, or why it cannot."""
    for mod in col.modifiers:
        problem = MODIFIERS[mod.transform].tail_problem(mod.args)
        if problem is not None:
            return problem
    return list(col.modifiers)


def tail(
    spec: DistributionSpec, integer: bool, steps: Sequence[Modifier], t: float, outlier: str = "mix"
) -> float:
    """``P(V > t)`` after ``steps``. ``outlier``: ``"mix"`` as declared, ``"none"`` as if the
    rate were 0 (the regular values), ``"all"`` as if it were 1 (the outliers)."""
    if not steps:
        return base_tail(spec, integer, t)
    *rest, step = steps

    def below(x: float) -> float:
        return tail(spec, integer, rest, x, outlier)

    return MODIFIERS[step.transform].tail(step.args, below, t, outlier)


def quantile(
    spec: DistributionSpec, integer: bool, steps: Sequence[Modifier], p: float, outlier: str = "none"
) -> float:
    """The ``t`` with ``P(V > t) = p`` (bisection; ``tail`` is non-increasing in ``t``)."""
    lo, hi = -1.0, 1.0
    while tail(spec, integer, steps, lo, outlier) < p and lo > -1e15:
        lo *= 4
    while tail(spec, integer, steps, hi, outlier) > p and hi < 1e15:
        hi *= 4
    for _ in range(80):
        mid = (lo + hi) / 2
        if tail(spec, integer, steps, mid, outlier) > p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2
