"""The compiler: schema file → plan → one DuckDB SQL script, in ordered passes.

load (``load``) → resolve references (``resolve``) → order tables (``dag``) →
plan (``plan``) → render (``render``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dgsql.compiler import schema
from dgsql.compiler.load import parse_dataset, read_schema
from dgsql.compiler.plan import Plan, build_plan
from dgsql.compiler.render import Script, render_script


@dataclass(frozen=True)
class Compiled:
    dataset: schema.Dataset
    schema_sha256: str
    plan: Plan
    script: Script


def compile_schema(path: Path, *, seed: int, scale: float = 1.0, out_dir: str = "out") -> Compiled:
    """Compile the schema at ``path``; raises SchemaError listing every problem."""
    data, digest = read_schema(path)
    dataset = parse_dataset(data)
    plan = build_plan(dataset, seed, scale)
    return Compiled(dataset, digest, plan, render_script(plan, out_dir))
