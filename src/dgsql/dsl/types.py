"""The DSL's column type rules: which types compare, which convert, which literals cast."""

from __future__ import annotations

from datetime import datetime

NUMBERS = ("int", "float")
TIMES = ("datetime", "date")


def comparable(a: str, b: str) -> bool:
    """Values of types ``a`` and ``b`` can be compared (and joined on)."""
    return a == b or {a, b} <= set(NUMBERS) or {a, b} <= set(TIMES)


def convertible(source: str, target: str) -> bool:
    """Whether a value of type ``source`` casts to ``target`` for every value."""
    return comparable(source, target) or target == "string" or (source == "bool" and target in NUMBERS)


def castable(value: object, column_type: str) -> bool:
    """Whether a literal from the schema converts to the column's type the way DuckDB casts it.

    >>> castable("12", "int"), castable("x", "int"), castable("2024-01-31", "date")
    (True, False, True)
    """
    if column_type == "string":
        return True
    if column_type == "bool":
        return isinstance(value, bool) or str(value).lower() in ("true", "false", "t", "f", "1", "0")
    if column_type in NUMBERS:
        if isinstance(value, bool):
            return True
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
        return (
            number == number
            and abs(number) != float("inf")
            and (column_type == "float" or abs(number) < 2**63)
        )
    try:
        datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
