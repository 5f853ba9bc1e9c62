"""``table.column`` references.

A table id may contain dots (``hr.emp``): the table of a reference is the longest table id
that prefixes it, for the compiler and the checks alike.

>>> split_ref(["hr", "hr.emp"], "hr.emp.id")
('hr.emp', 'id')
>>> split_ref(["orders"], "users.id") is None
True
"""

from __future__ import annotations

from collections.abc import Iterable


def split_ref(tables: Iterable[str], ref: str) -> tuple[str, str] | None:
    """(table, column) of ``ref`` among ``tables``, or None when no table prefixes it."""
    owners = [t for t in tables if ref.startswith(t + ".")]
    if not owners:
        return None
    table = max(owners, key=len)
    return table, ref[len(table) + 1 :]
