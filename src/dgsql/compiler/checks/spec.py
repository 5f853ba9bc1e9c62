"""What a check is, and the read-only view of the dataset that check modules compile from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from dgsql.compiler.checks.sql import Sql, ident, qualified
from dgsql.compiler.schema import Column, Dataset, Node, split_ref

Category = Literal["constraint", "fk", "behaviour", "statistical"]
Mode = Literal["rows", "stat"]

#: DSL type → the DuckDB type its Parquet column reads back as.
DUCKDB_TYPES = {
    "int": "BIGINT",
    "float": "DOUBLE",
    "string": "VARCHAR",
    "bool": "BOOLEAN",
    "datetime": "TIMESTAMP",
    "date": "DATE",
}


@dataclass(frozen=True)
class CheckSpec:
    """One check, compiled: the query and what the report needs to explain it.

    ``mode="rows"``: ``sql`` returns the failing rows; the check passes when there are none.
    ``mode="stat"``: ``sql`` returns exactly one row with a boolean column ``ok`` (NULL: not
    evaluated, e.g. too few rows) and the statistic's other columns, shown as the detail.
    ``sql=None``: the check cannot be compiled for this schema; ``reason`` says why.
    """

    id: str
    kind: str
    category: Category
    target: str
    sql: Sql | None
    mode: Mode = "rows"
    source: str = ""
    "JSON path of the declaration the check comes from (``constraints.unique[2]``, ``nodes[1].pk``)."
    expect: dict[str, Any] = field(default_factory=dict, compare=False)
    "Declared parameters and tolerances, shown in the report's detail."
    reason: str | None = None
    gate: bool = False
    "A primary-key or foreign-key check: all of them must pass for the validate gate."
    uses_metadata: bool = False
    "Reads ``.metadata.json`` (through the ``dg_check_metadata()`` macro)."


def not_compiled(
    kind: str, category: Category, target: str, source: str, reason: str, id: str | None = None, **kw: Any
) -> CheckSpec:
    """A check that cannot be compiled for this schema: reported as not evaluated, with ``reason``."""
    return CheckSpec(
        id=id or f"{kind}:{target}",
        kind=kind,
        category=category,
        target=target,
        sql=None,
        source=source,
        reason=reason,
        **kw,
    )


class CheckContext:
    """Lookups over a :class:`Dataset` shared by the check modules."""

    def __init__(self, dataset: Dataset):
        self.dataset = dataset
        self.nodes = {n.id: n for n in dataset.nodes}
        self.node_index = {n.id: i for i, n in enumerate(dataset.nodes)}

    def node(self, table: str) -> Node | None:
        return self.nodes.get(table)

    def column(self, table: str, name: str) -> Column | None:
        node = self.nodes.get(table)
        if node is None:
            return None
        return next((c for c in node.columns if c.name == name), None)

    def column_path(self, table: str, name: str) -> str:
        node = self.nodes[table]
        j = next(i for i, c in enumerate(node.columns) if c.name == name)
        return f"nodes[{self.node_index[table]}].columns[{j}]"

    def resolve(self, ref: str) -> tuple[str, str, Column | None, str | None]:
        """``"t.c"`` → (table, column, Column or None, problem or None)."""
        table, name = split_ref(ref)
        if table not in self.nodes:
            return table, name, None, f"no table {table!r} in the schema"
        col = self.column(table, name)
        if col is None:
            return table, name, None, f"table {table!r} has no column {name!r}"
        return table, name, col, None

    def example_columns(self, table: str, alias: str, *names: str) -> Sql:
        """The pk (when not among ``names``) then ``names``: what an example row shows."""
        node = self.nodes[table]
        cols = ([node.pk] if node.pk and node.pk not in names else []) + list(dict.fromkeys(names))
        return Sql(", ".join(qualified(alias, c) if alias else ident(c) for c in cols))

    def datetime_column(self, table: str) -> Column | None:
        node = self.nodes.get(table)
        if node is None:
            return None
        return next((c for c in node.columns if c.type in ("datetime", "date")), None)
