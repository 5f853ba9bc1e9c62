"""The compiler: schema file → plan → one DuckDB SQL script, in ordered passes.

load (``load``) → resolve references (``resolve``) → order tables (``dag``) →
plan (``plan``) → render (``render``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dgsql.compiler.load import parse_dataset, read_schema
from dgsql.compiler.plan import Plan, build_plan
from dgsql.compiler.render import DEFAULT_COMPRESSION, Compression, Script, render_script
from dgsql.dsl import model as schema


@dataclass(frozen=True)
class Planned:
    dataset: schema.Dataset
    schema_sha256: str
    plan: Plan


@dataclass(frozen=True)
class Compiled(Planned):
    script: Script


def plan_schema(path: Path, *, seed: int, scale: float = 1.0, sample: int | None = None) -> Planned:
    """Load, validate, resolve, order and plan; raises SchemaError listing every problem."""
    data, digest = read_schema(path)
    dataset = parse_dataset(data)
    return Planned(dataset, digest, build_plan(dataset, seed, scale, sample))


def render(planned: Planned, out_dir: str, compression: Compression = DEFAULT_COMPRESSION) -> Compiled:
    script = render_script(planned.plan, out_dir, compression)
    return Compiled(planned.dataset, planned.schema_sha256, planned.plan, script)


def compile_schema(
    path: Path,
    *,
    seed: int,
    scale: float = 1.0,
    out_dir: str = "out",
    compression: Compression = DEFAULT_COMPRESSION,
) -> Compiled:
    """Compile the schema at ``path`` into the script that writes to ``out_dir``."""
    return render(plan_schema(path, seed=seed, scale=scale), out_dir, compression)
