"""dgsql: compile Datagen DSL v1 schemas to DuckDB SQL.

The Python API (``docs/python.md``): :func:`load_schema`, :func:`compile`, :func:`generate`,
:func:`build`, :func:`validate`; schema problems raise :class:`SchemaError`;
:func:`stop_on_signals` stops a build cleanly on SIGINT or SIGTERM."""

__version__ = "0.5.0"

from dgsql.api import Generated, Script, build, compile, generate, load_schema, validate  # noqa: E402
from dgsql.dsl.model import Dataset  # noqa: E402
from dgsql.errors import DgsqlError, SchemaError  # noqa: E402
from dgsql.runtime.report import Report  # noqa: E402
from dgsql.runtime.session import BuildResult  # noqa: E402
from dgsql.runtime.stopping import Stopped, stop_on_signals  # noqa: E402

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
    "load_schema",
    "stop_on_signals",
    "validate",
]
