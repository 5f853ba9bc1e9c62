"""One module per generator kind, each with ``dependencies`` and ``render``."""

from __future__ import annotations

from types import ModuleType

from dgsql.compiler.generators import (
    choice,
    datetime_series,
    distribution,
    enum_list,
    expression,
    faker,
    lookup,
    sequence,
)

RENDERERS: dict[str, ModuleType] = {
    "sequence": sequence,
    "choice": choice,
    "distribution": distribution,
    "datetime_series": datetime_series,
    "faker": faker,
    "lookup": lookup,
    "expression": expression,
    "enum_list": enum_list,
}
