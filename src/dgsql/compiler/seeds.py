"""Salts: every random stream is keyed by a 62-bit salt derived with SHA-256.

``salt(seed, dataset, table, column, draw)`` is stable across runs, machines and
Python versions; it is below 2^62 so that ``row + salt`` never overflows BIGINT.

>>> salt(42, "shop", "orders", "amount", "value") == salt(42, "shop", "orders", "amount", "value")
True
"""

from __future__ import annotations

import hashlib
import json

from dgsql.options import DEFAULT_SEED  # noqa: F401 - the compiler's name for it

SALT_BITS = 62


def salt(seed: int, dataset: str, table: str, column: str, draw: str) -> int:
    key = json.dumps([seed, dataset, table, column, draw], ensure_ascii=False).encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") >> (64 - SALT_BITS)
