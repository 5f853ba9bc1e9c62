"""What a generator or modifier renderer may ask of the compiler.

Renderers have one signature, ``render(spec, ctx) -> Fragment``: they return an
SQL expression over the columns of the row being built, and optionally one
join that brings another relation's values into the row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from dgsql.compiler import names
from dgsql.compiler.facts import TableFacts
from dgsql.compiler.faker.vocab import VocabLists
from dgsql.compiler.seeds import salt
from dgsql.compiler.sqltext import ident, lit
from dgsql.dsl import model as S


@dataclass(frozen=True)
class Join:
    """``<kind> JOIN <relation> AS <alias> ON <condition>``; the fragment reads ``alias.column``."""

    relation: str
    alias: str
    condition: str
    kind: str = "LEFT"
    "LEFT, or ASOF LEFT for a pick by cumulative weight."
    one_row: bool = False
    "The relation has exactly one row and the condition is TRUE: DuckDB runs it as a cross\n    product, which keeps the rows' order (measured), so it needs no sort."


@dataclass(frozen=True, init=False)
class Fragment:
    sql: str
    joins: tuple[Join, ...]
    "The joins the value reads, in order (a join may read the ones before it)."
    sql_type: str | None = None
    "The DuckDB type of ``sql`` when known for sure (the column's CAST is then left out)."

    def __init__(self, sql: str, *joins: Join | None, sql_type: str | None = None) -> None:
        object.__setattr__(self, "sql", sql)
        object.__setattr__(self, "joins", tuple(j for j in joins if j is not None))
        object.__setattr__(self, "sql_type", sql_type)


@dataclass
class TableContext:
    """Per-table compile state shared by the table's column renderers."""

    dataset: S.Dataset
    node: S.Node
    seed: int
    known: dict[str, TableFacts]
    "Tables planned before this one (and this one, for self-references)."
    recompute: Callable[[TableContext, str, str, str], str] = field(repr=False)
    """``(ctx, table, column, row)`` → SQL of a pure column of an earlier table at that row
    (``column.recompute``; passed in, as the column pipeline renders through this context)."""
    helpers: dict[str, str] = field(default_factory=dict)
    "Helper temp tables (quoted name → query) created before the table's statement, dropped after it."
    kept_helpers: set[str] = field(default_factory=set)
    "Helpers that later tables read too, not dropped (a part's row range)."

    vocab: VocabLists | None = None
    "The Faker vocabularies the table's columns read, once they read any."
    lets: dict[str, dict[str, tuple[str, int]]] = field(default_factory=dict)
    """Shared per-row values (name → (SQL, depth)) by the layer they read (see
    ``ColumnContext.let``); a value of depth d reads values of depths below d."""
    let_joins: dict[str, dict[str, Join]] = field(default_factory=dict)
    "One-row relations the shared values of a layer read (by alias; see ``ColumnContext.let``)."

    def add_helper(self, name: str, query: str) -> None:
        """A temp table the table's query reads; one name, one query (re-adding is a no-op)."""
        assert self.helpers.setdefault(name, query) == query, f"two queries for helper table {name}"

    def vocab_lists(self) -> VocabLists:
        """The table's vocabulary table: created before the first column that reads it, holding
        every vocabulary any column reads (:meth:`sync_vocab` after each)."""
        if self.vocab is None:
            self.vocab = VocabLists(ident(names.vocab_table(self.node.id)))
        return self.vocab

    def sync_vocab(self) -> None:
        """(Re)writes the vocabulary table's query; the table keeps its place among the helpers."""
        assert self.vocab is not None
        self.helpers[self.vocab.table] = self.vocab.query()


@dataclass
class ColumnContext:
    table: TableContext
    column: S.Column
    path: str
    "JSON path of the column in the schema, for errors and comments."
    source: str = names.LAYER + "0"
    "The relation (CTE) the column's SELECT reads; same-row columns are qualified with it."
    joins: int = 0
    modifier_joins: list[Join] = field(default_factory=list)
    "Joins a modifier needs (an effect's segments), after the generator's."
    modifier: int = -1
    "Index of the modifier being rendered; part of its draws' salts."
    at_row: str | None = None
    "Render the column at this row index instead of the current row (a recomputed lookup)."
    bound: tuple[str, bool] | None = None
    "(SQL value, strict) the column is drawn after (an inequality, a parent's created_at), or None."
    factor: str | None = None
    "SQL factor of the value after its modifiers (a parent's segment or vintage), or None."
    floor: str | None = None
    "A value the column never goes below after its modifiers (a parent's created_at), or None."

    # -- identity --------------------------------------------------------
    @property
    def row(self) -> str:
        return self.at_row if self.at_row is not None else f"{self.source}.{names.ROW}"

    @property
    def parent_row(self) -> str:
        return f"{self.source}.{names.PARENT_ROW}"

    @property
    def node(self) -> S.Node:
        return self.table.node

    @property
    def dataset(self) -> S.Dataset:
        return self.table.dataset

    # -- randomness ------------------------------------------------------
    def salt(self, draw: str) -> int:
        return salt(self.table.seed, self.dataset.metadata.name, self.node.id, self.column.name, draw)

    def draw(self, name: str) -> str:
        """A draw name unique to the modifier being rendered."""
        return f"modifiers[{self.modifier}].{name}"

    def uniform(self, draw: str = "value", row: str | None = None) -> str:
        """An independent U(0,1) stream of this column, keyed by ``draw``."""
        return f"dg_uniform({self.salt(draw)}, {row or self.row})"

    def normal(self, draw: str = "value") -> str:
        return f"dg_normal({self.uniform(draw + ':u1')}, {self.uniform(draw + ':u2')})"

    # -- same-row columns and other tables -------------------------------
    def col(self, name: str) -> str:
        if self.at_row is not None:
            return self.value_at(self.node.id, name, self.at_row)
        return f"{self.source}.{ident(name)}"

    def value_at(self, table: str, column: str, row: str) -> str:
        """SQL of a pure column of ``table`` (see TableFacts.pure) recomputed at ``row``."""
        return self.table.recompute(self.table, table, column, row)

    def let(self, sql: str) -> str:
        """A per-row value a column may read many times (a draw's hash, the row's locale): computed
        once for every row, in a layer before the column's own (one more per depth of shared
        values reading shared values), and referenced by name. DuckDB
        binds and optimises every copy of a repeated expression: the Faker columns of
        users_events repeated the locale index 137 times, and planning took 70 ms instead of
        32 ms. Inline when the column is recomputed elsewhere."""
        if self.at_row is not None:
            return sql
        lets = self.table.lets.setdefault(self.source, {})
        read = [lets[n][1] for n in names.LET_NAME.findall(sql) if n in lets]
        name = names.let(sql)
        lets[name] = (sql, 1 + max(read, default=-1))
        return f"{self.source}.{name}"

    def let_join(self, join: Join) -> str:
        """Join a one-row relation where the shared values are computed, so that :meth:`let`
        values may read its columns (through the returned alias); the rows keep their order."""
        assert join.one_row and self.at_row is None, "shared values read only one-row relations"
        self.table.let_joins.setdefault(self.source, {})[join.alias] = join
        return join.alias

    def add_join(self, join: Join) -> None:
        self.modifier_joins.append(join)

    def alias(self) -> str:
        """A table alias for the column's next join, named after the column."""
        self.joins += 1
        suffix = "" if self.joins == 1 else f"_{self.joins}"
        return names.join_alias([c.name for c in self.node.columns], self.column.name) + suffix

    def facts(self, table: str) -> TableFacts:
        return self.table.known[table]

    def row_count(self, table: str) -> str:
        """The row count of an earlier table: a literal when known, else a scalar subquery."""
        return row_count(self.facts(table))


def row_count(facts: TableFacts) -> str:
    """A table's row count: a literal when known, else counted from the kept table or the
    count table."""
    if facts.rows is not None:
        return lit(facts.rows)
    if facts.kept:
        return f"(SELECT count(*) FROM {ident(facts.name)})"
    return f"(SELECT n FROM {ident(names.count_table(facts.name))})"


def row_source(facts: TableFacts) -> str:
    """A relation of a table's row indexes: the kept table, or the range of its count."""
    if facts.kept:
        return ident(facts.name)
    return f"(SELECT range AS {names.ROW} FROM range({row_count(facts)}))"


def epoch_us(value: datetime) -> int:
    """Microseconds since 1970-01-01 of a naive UTC datetime."""
    delta = value - datetime(1970, 1, 1)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
