"""Resolving the names a schema uses, with one problem per name that does not resolve."""

from __future__ import annotations

import difflib

from dgsql.dsl import model as S
from dgsql.dsl.problems import Problem, warning
from dgsql.dsl.refs import split_ref
from dgsql.dsl.types import comparable


class References:
    """Resolves names of a dataset, collecting one problem per unresolved name."""

    def __init__(self, ds: S.Dataset):
        self.ds = ds
        self.tables = {n.id: n for n in ds.nodes}
        self.problems: list[Problem] = []

    def problem(self, path: str, text: str) -> None:
        self.problems.append(Problem(path, text))

    def warn(self, path: str, text: str) -> None:
        self.problems.append(warning(path, text))

    def ref(self, path: str, ref: str) -> tuple[S.Node, S.Column] | None:
        """Resolve ``table.column`` (the table is the longest id that prefixes it)."""
        found = split_ref(self.tables, ref)
        if found is None:
            near = difflib.get_close_matches(ref.partition(".")[0], list(self.tables), n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"tables are {', '.join(sorted(self.tables))}."
            if "." not in ref:
                self.problem(path, f"{ref!r} is not a table.column reference; write it as 'table.column'.")
            else:
                self.problem(path, f"table {ref.partition('.')[0]!r} does not exist; {hint}")
            return None
        node = self.tables[found[0]]
        column = self.column(path, node, found[1])
        return (node, column) if column else None

    def column(self, path: str, node: S.Node, name: str) -> S.Column | None:
        for c in node.columns:
            if c.name == name:
                return c
        near = difflib.get_close_matches(name, [c.name for c in node.columns], n=1)
        hint = (
            f"did you mean {near[0]!r}?"
            if near
            else f"its columns are {', '.join(c.name for c in node.columns)}."
        )
        self.problem(path, f"table {node.id!r} has no column {name!r}; {hint}")
        return None

    def table(self, path: str, name: str) -> S.Node | None:
        if name in self.tables:
            return self.tables[name]
        near = difflib.get_close_matches(name, list(self.tables), n=1)
        hint = f"did you mean {near[0]!r}?" if near else f"tables are {', '.join(sorted(self.tables))}."
        self.problem(path, f"table {name!r} does not exist; {hint}")
        return None

    def typed(self, path: str, node: S.Node, name: str, types: tuple[str, ...]) -> None:
        """Column ``name`` of ``node`` exists and has one of ``types``."""
        column = self.column(path, node, name)
        if column is not None and column.type not in types:
            self.problem(
                path, f"{node.id}.{name} is a {column.type}; name a column of type {' or '.join(types)}."
            )

    def keys(self, path: str, local_node: S.Node, local: str, remote_node: S.Node, remote: str) -> None:
        """Two join keys exist and compare (same type, or both numbers, or both times)."""
        a, b = self.column(path, local_node, local), self.column(path, remote_node, remote)
        if a is not None and b is not None and not comparable(a.type, b.type):
            self.problem(
                path,
                f"{local_node.id}.{local} ({a.type}) cannot be matched with {remote_node.id}.{remote} ({b.type}); "
                "join columns of the same type.",
            )
