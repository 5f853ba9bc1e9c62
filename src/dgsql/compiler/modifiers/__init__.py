"""One module per modifier kind, each with ``dependencies`` and ``render``.

A modifier wraps the column's value expression; modifiers apply in schema order
after the generator and before the cast.
"""

from __future__ import annotations

from types import ModuleType

from dgsql.compiler.modifiers import (
    add,
    clamp,
    effect,
    jitter,
    map_values,
    multiply,
    outliers,
    seasonality,
    time_jitter,
    trend,
)

RENDERERS: dict[str, ModuleType] = {
    "multiply": multiply,
    "add": add,
    "clamp": clamp,
    "jitter": jitter,
    "time_jitter": time_jitter,
    "map_values": map_values,
    "seasonality": seasonality,
    "trend": trend,
    "outliers": outliers,
    "effect": effect,
}
