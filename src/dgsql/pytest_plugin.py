"""The pytest plugin (entry point ``pytest11: dgsql``): the session fixture ``dgsql_dataset``.

    def test_orders(dgsql_dataset):
        data = dgsql_dataset("schema.json", seed=7)
        assert data.table("orders").count("*").fetchone()[0] > 0

Each (schema, seed, scale) is generated once per test session into its own in-memory DuckDB."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dgsql.api import Generated, generate
from dgsql.compiler.seeds import DEFAULT_SEED


@pytest.fixture(scope="session")
def dgsql_dataset() -> Iterator[Callable[..., Generated]]:
    """A factory ``dgsql_dataset(schema, seed=42, scale=1.0) -> Generated``; ``schema`` is a path
    (the same file is generated once however it is spelled)."""
    made: dict[tuple[str, int, float], Generated] = {}

    def make(schema: str | Path, seed: int = DEFAULT_SEED, scale: float = 1.0) -> Generated:
        key = (str(Path(schema).resolve()), seed, float(scale))
        if key not in made:
            made[key] = generate(Path(key[0]), seed=seed, scale=scale)
        return made[key]

    yield make
    for generated in made.values():
        generated.con.close()
