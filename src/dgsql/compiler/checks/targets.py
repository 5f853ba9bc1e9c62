"""Where a target entry sits in the schema: ``targets.key`` or ``targets.key[i]`` for lists."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dgsql.compiler.schema import Dataset


def entries(dataset: Dataset, key: str) -> Iterator[tuple[Any, str]]:
    value = getattr(dataset.targets, key)
    items = dataset.targets.all(key)
    for i, item in enumerate(items):
        yield item, (f"targets.{key}[{i}]" if isinstance(value, list) else f"targets.{key}")
