"""What a check is, and the read-only view of the dataset that check modules compile from."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, get_args

from dgsql.compiler.bounds import Bound, table_bounds
from dgsql.compiler.column import SQL_TYPES
from dgsql.compiler.sqltext import Sql, ident, qualified
from dgsql.dsl.model import Column, Dataset, Node
from dgsql.dsl.refs import split_ref
from dgsql.errors import SchemaError

Category = Literal["constraint", "behaviour", "statistical", "fk"]
#: The parts of the quality score, in the order the report shows them.
CATEGORIES: tuple[Category, ...] = get_args(Category)
Mode = Literal["rows", "stat"]

#: DSL type → the DuckDB type its Parquet column reads back as: the type the build casts it to.
DUCKDB_TYPES = SQL_TYPES

T = TypeVar("T")


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
    law: bool = False
    """A check of a declared law whose bound an honest build crosses less than once in ten
    million checks: a failure fails the validate gate (an evaluated one must not fail)."""
    uses_metadata: bool = False
    "Reads ``.metadata.json`` (through the ``dg_check_metadata()`` macro)."


def compiled(
    kind: str,
    category: Category,
    target: str,
    *,
    sql: Sql | None,
    source: str,
    id: str | None = None,
    **kw: Any,
) -> CheckSpec:
    """A check of ``kind`` on ``target``; its id is ``kind:target`` unless ``id`` is given."""
    return CheckSpec(
        id=id or f"{kind}:{target}", kind=kind, category=category, target=target, sql=sql, source=source, **kw
    )


def not_compiled(
    kind: str, category: Category, target: str, source: str, reason: str, id: str | None = None, **kw: Any
) -> CheckSpec:
    """A check that cannot be compiled for this schema: reported as not evaluated, with ``reason``."""
    return compiled(kind, category, target, sql=None, source=source, id=id, reason=reason, **kw)


def drop_repeats(declarations: Iterable[T], key: Callable[[T], Hashable]) -> Iterator[T]:
    """``declarations`` in order, without those whose ``key`` an earlier one had: a check declared
    twice runs once, and reports the first place it was declared."""
    seen: set[Hashable] = set()
    for declaration in declarations:
        k = key(declaration)
        if k not in seen:
            seen.add(k)
            yield declaration


class CheckContext:
    """Lookups over a :class:`Dataset` shared by the check modules.

    Checks read the files, which hold only the written columns: a hidden column is no column
    here (``Node.written`` lists the others)."""

    def __init__(self, dataset: Dataset):
        self.dataset = dataset
        self.nodes = {n.id: n for n in dataset.nodes}
        self.node_index = {n.id: i for i, n in enumerate(dataset.nodes)}
        self._bounds: dict[str, dict[str, Bound]] = {}

    def node(self, table: str) -> Node | None:
        return self.nodes.get(table)

    def column(self, table: str, name: str) -> Column | None:
        """Column ``name`` of ``table`` as its file holds it: None when there is none, or when it
        is hidden (never written)."""
        node = self.nodes.get(table)
        if node is None:
            return None
        return next((c for c in node.written if c.name == name), None)

    def bound(self, table: str, name: str) -> Bound | None:
        """How the column was generated under the table's inequalities (``compiler/bounds.py``):
        None when no honoured inequality ties it. Contradicting inequalities (the plan refuses
        them, so dgsql never built such data) tie nothing here; the inequality check still runs."""
        if table not in self._bounds:
            try:
                found = table_bounds(self.dataset, self.nodes[table])
            except SchemaError:
                found = ()
            self._bounds[table] = {b.column: b for b in found}
        return self._bounds[table].get(name)

    def column_path(self, table: str, name: str) -> str:
        node = self.nodes[table]
        j = next(i for i, c in enumerate(node.columns) if c.name == name)
        return f"nodes[{self.node_index[table]}].columns[{j}]"

    def resolve(self, ref: str) -> tuple[str, str, Column | None, str | None]:
        """``"t.c"`` → (table, column, Column or None, problem or None)."""
        found = split_ref(self.nodes, ref)
        if found is None:
            table, _, name = ref.partition(".")
            return table, name, None, f"no table {table!r} in the schema"
        table, name = found
        col = self.column(table, name)
        if col is None:
            if any(c.name == name for c in self.nodes[table].columns):
                return table, name, None, f"hidden column: {ref} is never written"
            return table, name, None, f"table {table!r} has no column {name!r}"
        return table, name, col, None

    def example_columns(self, table: str, alias: str, *names: str) -> Sql:
        """The pk (when not among ``names``) then ``names``: what an example row shows."""
        node = self.nodes[table]
        cols = ([node.pk] if node.pk and node.pk not in names else []) + list(dict.fromkeys(names))
        return Sql(", ".join(qualified(alias, c) if alias else ident(c) for c in cols))

    def column_constraints(self, *keys: str) -> Iterator[tuple[str, str, Any, str]]:
        """(``table.column``, key, value, JSON path) of every column's ``constraints.<key>`` that is
        set, in schema order (per column, ``keys`` in the order given)."""
        for node in self.dataset.nodes:
            for col in node.written:
                if col.constraints is None:
                    continue
                for key in keys:
                    value = getattr(col.constraints, key)
                    if value is not None:
                        path = f"{self.column_path(node.id, col.name)}.constraints.{key}"
                        yield f"{node.id}.{col.name}", key, value, path

    def datetime_column(self, table: str) -> Column | None:
        node = self.nodes.get(table)
        if node is None:
            return None
        return next((c for c in node.written if c.type in ("datetime", "date")), None)
