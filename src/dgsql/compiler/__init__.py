"""The compiler: schema file → plan → one DuckDB SQL script, in ordered passes.

load (``load``) → check (``check``: every kind checks itself) → Datagen's forms rewritten into
dgsql's (``datagen``) → order tables (``dag``) → plan (``plan``) → preflight (``preflight``) →
render (``render``). Every schema problem is
found before render: ``check``, ``build`` and ``emit-sql`` go through :func:`plan_schema`
and report the same problems, all at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dgsql.compiler.check import check
from dgsql.compiler.datagen import canonical
from dgsql.compiler.linked import with_linked_bounds
from dgsql.compiler.load import parse_dataset, with_lines
from dgsql.compiler.parts import Parts, check_format, check_stage
from dgsql.compiler.plan import Plan, build_plan
from dgsql.compiler.preflight import PlannedTable, preflight
from dgsql.compiler.render import (
    DEFAULT_COMPRESSION,
    KEY_LIMIT,
    Compression,
    OutputFormat,
    Script,
    Target,
    parsing_with,
    render_script,
)
from dgsql.compiler.source import SchemaSource, read_source
from dgsql.dsl import model as S
from dgsql.dsl.problems import Problem
from dgsql.errors import SchemaError

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class Planned:
    dataset: S.Dataset
    schema_sha256: str
    plan: Plan
    tables: tuple[PlannedTable, ...]
    "Expected rows and size per table, in generation order."
    warnings: tuple[Problem, ...]


@dataclass(frozen=True)
class Compiled(Planned):
    script: Script


def load(path: SchemaSource) -> tuple[S.Dataset, str, list[Problem]]:
    """Read, parse and check a schema without planning it: (dataset with Datagen's forms
    rewritten into dgsql's, SHA-256, warnings). Raises SchemaError with every error (the
    checks read the data this way). ``path``: a file, JSON text or an object (``source``)."""
    dataset, digest, warnings, _ = _load(path)
    return dataset, digest, warnings


def _load(path: SchemaSource) -> tuple[S.Dataset, str, list[Problem], dict[str, int]]:
    """:func:`load`, and the line of each JSON path of a YAML file for the problems found later."""
    data, digest, lines = read_source(path)
    try:
        dataset = parse_dataset(data)
    except SchemaError as e:
        raise SchemaError(with_lines(e.problems, lines)) from None
    problems = with_lines(check(dataset), lines)
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    if errors:
        raise SchemaError(errors, warnings)
    return canonical(dataset), digest, warnings, lines


def plan_schema(
    path: SchemaSource, *, seed: int, scale: float = 1.0, sample: int | None = None, strict: bool = False
) -> Planned:
    """Load, check, order, plan and preflight; raises SchemaError listing every error (and,
    when ``strict``, every warning as an error)."""
    dataset, digest, warnings, lines = _load(path)
    plan = build_plan(with_linked_bounds(dataset), seed, scale, sample)
    ahead = preflight(plan)
    problems = with_lines(ahead.problems, lines)
    warnings += [p for p in problems if p.severity == "warning"]
    errors = [p for p in problems if p.severity == "error"]
    if strict:
        errors, warnings = errors + warnings, []
    if errors:
        raise SchemaError(errors, warnings)
    return Planned(dataset, digest, plan, tuple(ahead.tables), tuple(warnings))


def render(
    planned: Planned,
    out_dir: str | None,
    compression: Compression | None = DEFAULT_COMPRESSION,
    *,
    fmt: OutputFormat = OutputFormat.parquet,
    into: str | None = None,
    parts: Parts | None = None,
    parser: duckdb.DuckDBPyConnection | None = None,
) -> Compiled:
    """The script writing ``planned`` to ``out_dir`` as ``fmt``; with ``into``, the script
    creating each table in that schema of the database the client has open instead (no
    files; ``out_dir`` unused). Persistent tables declare their primary key up to
    :data:`KEY_LIMIT` expected rows. With ``parts``, the script of one part
    (``<table>/part-<i>.<ext>`` files, docs/parts.md). ``parser``: a connection the caller has
    open, whose parser checks the script (saves starting one)."""
    keyed = frozenset(t.name for t in planned.tables if t.expected_rows <= KEY_LIMIT)
    if parts is not None:
        check_format(planned.plan, OutputFormat.duckdb.value if into is not None else fmt.value)
        check_stage(planned.plan, parts.stage)
    target = Target(fmt, compression, into, keyed, parts.index if parts is not None else None)
    with parsing_with(parser):
        script = render_script(planned.plan, out_dir, compression, target, parts)
    return Compiled(
        planned.dataset, planned.schema_sha256, planned.plan, planned.tables, planned.warnings, script
    )


def compile_schema(
    path: SchemaSource,
    *,
    seed: int,
    scale: float = 1.0,
    out_dir: str = "out",
    compression: Compression = DEFAULT_COMPRESSION,
    strict: bool = False,
) -> Compiled:
    """Compile the schema at ``path`` into the script that writes to ``out_dir``."""
    return render(plan_schema(path, seed=seed, scale=scale, strict=strict), out_dir, compression)
