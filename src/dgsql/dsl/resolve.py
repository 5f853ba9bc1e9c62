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

    def read(self, path: str, node: S.Node, column: S.Column | None, reader: str | None) -> bool:
        """Whether ``column`` of ``node`` can be read from its file: a hidden column is never
        written, so another table (``reader``, or this one through a lookup) cannot read it and no
        check (``reader`` None) can see it. Records the problem; True when it can be read."""
        if column is None or not column.hidden:
            return True
        ref = f"{node.id}.{column.name}"
        if reader is None:
            self.problem(
                path,
                f'{ref} is hidden (never written), so it cannot be checked; drop "hidden" or check another column.',
            )
        else:
            self.problem(
                path,
                f"{ref} is hidden (never written), so table {reader!r} cannot read it; "
                'drop "hidden" or read another column.',
            )
        return False

    def typed(
        self, path: str, node: S.Node, name: str, types: tuple[str, ...], reader: str | None = None
    ) -> None:
        """Column ``name`` of ``node`` exists and has one of ``types``; with ``reader`` (another
        table reads it from the file), it is not hidden."""
        column = self.column(path, node, name)
        if column is not None and column.type not in types:
            self.problem(
                path, f"{node.id}.{name} is a {column.type}; name a column of type {' or '.join(types)}."
            )
        elif reader is not None:
            self.read(path, node, column, reader)

    def keys(
        self, path: str, local_node: S.Node, local: str, remote_node: S.Node, remote: str, reader: str
    ) -> None:
        """Two join keys exist and compare (same type, or both numbers, or both times); table
        ``reader`` reads the keys of other tables from their files, so those are not hidden."""
        a, b = self.column(path, local_node, local), self.column(path, remote_node, remote)
        if local_node.id != reader and not self.read(path, local_node, a, reader):
            return
        if not self.read(path, remote_node, b, reader):
            return
        if a is not None and b is not None and not comparable(a.type, b.type):
            self.problem(
                path,
                f"{local_node.id}.{local} ({a.type}) cannot be matched with {remote_node.id}.{remote} ({b.type}); "
                "join columns of the same type.",
            )
