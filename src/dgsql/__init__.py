"""dgsql: compile Datagen DSL v1 schemas to DuckDB SQL.

The Python API (``docs/python.md``): :func:`load_schema`, :func:`compile`, :func:`generate`,
:func:`build`, :func:`validate`, :func:`load` (into PostgreSQL); schema problems raise
:class:`SchemaError`; :func:`stop_on_signals` stops a build cleanly on SIGINT or SIGTERM.

The names are imported on first use (PEP 562), so ``import dgsql`` and ``dgsql --version``
stay cheap: the compiler, DuckDB and Faker load when a function needs them."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.7.0"

_HOMES = {
    "Generated": "dgsql.api",
    "Script": "dgsql.api",
    "build": "dgsql.api",
    "compile": "dgsql.api",
    "generate": "dgsql.api",
    "load": "dgsql.api",
    "load_schema": "dgsql.api",
    "validate": "dgsql.api",
    "Dataset": "dgsql.dsl.model",
    "DgsqlError": "dgsql.errors",
    "SchemaError": "dgsql.errors",
    "Report": "dgsql.runtime.report",
    "BuildResult": "dgsql.runtime.session",
    "Stopped": "dgsql.runtime.stopping",
    "stop_on_signals": "dgsql.runtime.stopping",
}

__all__ = [
    "BuildResult",
    "Dataset",
    "DgsqlError",
    "Generated",
    "Report",
    "SchemaError",
    "Script",
    "Stopped",
    "build",
    "compile",
    "generate",
    "load",
    "load_schema",
    "stop_on_signals",
    "validate",
]

if TYPE_CHECKING:
    from dgsql.api import Generated, Script, build, compile, generate, load, load_schema, validate
    from dgsql.dsl.model import Dataset
    from dgsql.errors import DgsqlError, SchemaError
    from dgsql.runtime.report import Report
    from dgsql.runtime.session import BuildResult
    from dgsql.runtime.stopping import Stopped, stop_on_signals


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'dgsql' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*__all__, "__version__"})
