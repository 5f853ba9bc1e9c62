"""The modifier kinds: one module and one class each, behind :class:`~dgsql.compiler.kind.ModifierKind`.

A modifier wraps the column's value expression; modifiers apply in schema order after the
generator and before the cast. Adding a kind: its args model in ``dsl/model.py``, its module
here, its line in :data:`MODIFIERS`.
"""

from __future__ import annotations

from dgsql.compiler.kind import MODIFIERS
from dgsql.compiler.modifiers.add import Add
from dgsql.compiler.modifiers.clamp import Clamp
from dgsql.compiler.modifiers.effect import Effect
from dgsql.compiler.modifiers.jitter import Jitter
from dgsql.compiler.modifiers.map_values import MapValues
from dgsql.compiler.modifiers.multiply import Multiply
from dgsql.compiler.modifiers.outliers import Outliers
from dgsql.compiler.modifiers.seasonality import Seasonality
from dgsql.compiler.modifiers.time_jitter import TimeJitter
from dgsql.compiler.modifiers.trend import Trend

MODIFIERS.update(
    (kind.key, kind)
    for kind in (
        Multiply(),
        Add(),
        Clamp(),
        Jitter(),
        TimeJitter(),
        MapValues(),
        Seasonality(),
        Trend(),
        Outliers(),
        Effect(),
    )
)

__all__ = ["MODIFIERS"]
