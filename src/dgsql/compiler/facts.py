"""What later tables may know about an already-planned table without reading it (no SQL)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TableFacts:
    """What later tables may know about an already-planned table without reading it."""

    name: str
    rows: int | None
    "Row count when known at compile time (entities, vocab nodes)."
    sequences: dict[str, tuple[float, float]]
    "Columns that are exactly ``start + step * row`` in the output: name → (start, step)."
    pure: frozenset[str] = frozenset()
    "Columns that are a pure function of the row index: recomputed at a picked row, never joined."
    expected_rows: float = 0.0
    "Rows expected (the fanout mean times the parent's expected rows for a fact)."
    kept: bool = False
    "Kept as a temp table (later tables read its values); else only its row count is known."

    @property
    def computable(self) -> frozenset[str]:
        """Columns a lookup computes at a row index, with no join."""
        return frozenset(self.sequences) | self.pure

    def integer_sequence(self, column: str) -> tuple[int, int] | None:
        """(start, step) of an integer sequence column with a non-zero step, else None."""
        seq = self.sequences.get(column)
        if seq is None or seq[1] == 0 or not all(float(v).is_integer() for v in seq):
            return None
        return int(seq[0]), int(seq[1])
