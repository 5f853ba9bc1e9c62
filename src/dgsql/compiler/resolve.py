"""Pass 2: resolve every reference of a parsed schema; collect all problems.

After this pass every ``table.column`` named anywhere exists, every parent is a
table, every same-row column a generator or modifier reads exists, and no user
name collides with dgsql's reserved internal names.
"""

from __future__ import annotations

import difflib

from dgsql.compiler.names import RESERVED_PREFIX
from dgsql.dsl import model as S
from dgsql.dsl.refs import split_ref
from dgsql.dsl.types import NUMBERS, TIMES, castable, comparable, convertible
from dgsql.errors import SchemaError

MODIFIER_TYPES = {
    "multiply": NUMBERS,
    "add": NUMBERS,
    "clamp": NUMBERS,
    "jitter": NUMBERS,
    "trend": NUMBERS,
    "outliers": NUMBERS,
    "effect": NUMBERS,
    "seasonality": (*NUMBERS, "datetime", "date"),
    "time_jitter": ("datetime",),
}
"Column types each modifier applies to (map_values applies to every type)."


class Resolver:
    """Collects problems while checking references; ``run`` raises them all at once."""

    def __init__(self, ds: S.Dataset):
        self.ds = ds
        self.problems: list[str] = []
        self.tables = {n.id: n for n in ds.nodes}

    def problem(self, path: str, text: str) -> None:
        self.problems.append(f"{path}: {text}")

    # -- references -----------------------------------------------------
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

    # -- the pass ---------------------------------------------------------
    def run(self) -> None:
        self.nodes()
        self.constraints()
        self.targets()
        if self.problems:
            raise SchemaError(self.problems)

    def nodes(self) -> None:
        seen: set[str] = set()
        for i, node in enumerate(self.ds.nodes):
            path = f"nodes[{i}]"
            if node.id in seen:
                self.problem(f"{path}.id", f"table {node.id!r} is defined twice; give each node its own id.")
            seen.add(node.id)
            if not _safe_file_name(node.id):
                self.problem(
                    f"{path}.id",
                    f"{node.id!r} cannot be a file name (it becomes <id>.parquet); "
                    "avoid '/', '\\', control characters and a leading '.'.",
                )
            if node.id.startswith(RESERVED_PREFIX):
                self.problem(
                    f"{path}.id", f"names starting with {RESERVED_PREFIX!r} are reserved; rename it."
                )
            names: set[str] = set()
            for j, col in enumerate(node.columns):
                if col.name in names:
                    self.problem(
                        f"{path}.columns[{j}].name", f"column {col.name!r} is defined twice; rename one."
                    )
                if col.name.lower().startswith(RESERVED_PREFIX):
                    self.problem(
                        f"{path}.columns[{j}].name",
                        f"names starting with {RESERVED_PREFIX!r} are reserved; rename it.",
                    )
                names.add(col.name)
            if node.pk is not None and node.pk not in names:
                self.problem(f"{path}.pk", f"{node.pk!r} is not one of the node's columns; name one of them.")
            for k, parent in enumerate(node.parents):
                self.table(f"{path}.parents[{k}]", parent)
            enum_cols = [c for c in node.columns if S.generator_kind(c.generator) == "enum_list"]
            if node.kind == "vocab":
                if not enum_cols:
                    self.problem(
                        path, "a vocab node needs an enum_list column; add one that lists its values."
                    )
                elif len({len(c.generator.enum_list.values) for c in enum_cols}) > 1:
                    self.problem(
                        path, "its enum_list columns have different lengths; give them equal lengths."
                    )
                if node.rows is not None:
                    self.problem(
                        f"{path}.rows", "a vocab node has as many rows as its enum_list; remove rows."
                    )
            elif enum_cols:
                j = node.columns.index(enum_cols[0])
                self.problem(
                    f"{path}.columns[{j}].generator.enum_list",
                    "enum_list belongs to vocab nodes; set kind: vocab or use choice.",
                )
            if node.kind == "fact" and node.rows is not None and node.parents:
                self.problem(f"{path}.rows", "a fact's rows come from its parents' fanout; remove rows.")
            for j, col in enumerate(node.columns):
                self.column_refs(f"{path}.columns[{j}]", node, col)
            for m, mod in enumerate(node.modifiers):
                self.effect(f"{path}.modifiers[{m}].args", node, mod.args, table_level=True)

    def column_refs(self, path: str, node: S.Node, col: S.Column) -> None:
        kind = S.generator_kind(col.generator)
        spec = S.generator_spec(col.generator)
        gpath = f"{path}.generator.{kind}"
        if kind == "lookup":
            found = self.ref(f"{gpath}.from", spec.from_)
            if found and not convertible(found[1].type, col.type):
                self.problem(
                    f"{gpath}.from",
                    f"{spec.from_} is a {found[1].type}, which does not convert to this {col.type} column; "
                    "match the types.",
                )
            join = spec.join
            if found and join:
                local, remote = join
                if local == col.name:
                    self.problem(
                        f"{gpath}.on", "a lookup cannot join on its own column; join on another column."
                    )
                else:
                    self.keys(f"{gpath}.on", node, local, found[0], remote)
            elif found and found[0].id == node.id and found[1].name == col.name:
                self.problem(f"{gpath}.from", "a column cannot look up itself; point at another column.")
        elif kind == "choice" and spec.choices_ref is not None:
            self.ref(f"{gpath}.choices_ref", spec.choices_ref)
        elif kind in ("choice", "enum_list"):
            key = "choices" if kind == "choice" else "values"
            for k, value in enumerate(getattr(spec, key)):
                if not castable(value, col.type):
                    self.problem(
                        f"{gpath}.{key}[{k}]",
                        f"{value!r} is not a {col.type}; give {col.type} values or change the column type.",
                    )
        elif kind == "faker" and spec.locale_from:
            self.column(f"{gpath}.locale_from", node, spec.locale_from)
        elif kind == "datetime_series" and spec.within == "timeframe" and self.ds.timeframe is None:
            self.problem(f"{gpath}.within", "uses the timeframe but the schema has none; add a timeframe.")
        if col.constraints and col.constraints.enum_ref:
            self.ref(f"{path}.constraints.enum_ref", col.constraints.enum_ref)
        for m, mod in enumerate(col.modifiers):
            allowed = MODIFIER_TYPES.get(mod.transform)
            if allowed and col.type not in allowed:
                self.problem(
                    f"{path}.modifiers[{m}]",
                    f"{mod.transform} applies to {' or '.join(allowed)} columns, not to a {col.type}; "
                    "remove it or change the column type.",
                )
            mpath = f"{path}.modifiers[{m}].args"
            args = mod.args
            if mod.transform == "map_values":
                for key, value in args.mapping.items():
                    if value is not None and not castable(value, col.type):
                        self.problem(
                            f"{mpath}.mapping.{key}",
                            f"{value!r} is not a {col.type}; map to {col.type} values.",
                        )
            if mod.transform == "map_values" and not col.nullable and None in args.mapping.values():
                self.problem(
                    f"{mpath}.mapping",
                    "maps a value to null in a non-nullable column; set nullable: true or map it to a value (map_values).",
                )
            if mod.transform == "effect":
                self.effect(mpath, node, args, table_level=False)
            elif mod.transform == "seasonality" and args.column:
                self.typed(f"{mpath}.column", node, args.column, TIMES)
            elif mod.transform == "trend":
                if args.time_reference:
                    self.typed(f"{mpath}.time_reference", node, args.time_reference, TIMES)
                if self.ds.timeframe is None:
                    self.problem(mpath, "trend counts years from the timeframe start; add a timeframe.")

    def effect(self, path: str, node: S.Node, args: S.EffectArgs, table_level: bool) -> None:
        table = self.table(f"{path}.effect_table", args.effect_table)
        # a table-level effect matches on the primary parent's keys
        local_node = self.tables.get(node.parents[0]) if table_level and node.parents else node
        if table_level and not node.parents:
            self.problem(path, "a table-level effect scales fanout; it needs a fact with parents.")
        if table is None or local_node is None:
            return
        for local, remote in args.on.items():
            self.keys(f"{path}.on", local_node, local, table, remote)
        if args.window:
            for end in ("start_col", "end_col"):
                self.typed(f"{path}.window.{end}", table, getattr(args.window, end), TIMES)
        self.typed(f"{path}.map.field", table, args.map.field, NUMBERS)
        if args.time_column:
            self.typed(f"{path}.time_column", node, args.time_column, TIMES)

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

    def constraints(self) -> None:
        c = self.ds.constraints
        for i, ref in enumerate(c.unique):
            self.ref(f"constraints.unique[{i}]", ref)
        for i, fk in enumerate(c.foreign_keys):
            self.ref(f"constraints.foreign_keys[{i}].from", fk.from_)
            self.ref(f"constraints.foreign_keys[{i}].to", fk.to)
        for i, r in enumerate(c.ranges):
            self.ref(f"constraints.ranges[{i}].attr", r.attr)
        for i, q in enumerate(c.inequalities):
            left = self.ref(f"constraints.inequalities[{i}].left", q.left)
            right = self.ref(f"constraints.inequalities[{i}].right", q.right)
            if left and right and left[0].id != right[0].id:
                self.problem(
                    f"constraints.inequalities[{i}]",
                    "an inequality compares two columns of one table; name columns of the same table.",
                )
        for i, p in enumerate(c.pattern):
            self.ref(f"constraints.pattern[{i}].attr", p.attr)
        for i, e in enumerate(c.enum):
            self.ref(f"constraints.enum[{i}].attr", e.attr)
            if e.enum_ref:
                self.ref(f"constraints.enum[{i}].enum_ref", e.enum_ref)

    def targets(self) -> None:
        t = self.ds.targets
        for key, table_field, column_fields in (
            ("weekend_share", "table", ("timestamp",)),
            ("mean_in_range", "table", ("column",)),
            ("composite_effect", "table", ()),
        ):
            items = t.all(key)
            for i, target in enumerate(items):
                path = f"targets.{key}" + (f"[{i}]" if isinstance(getattr(t, key), list) else "")
                node = self.table(f"{path}.{table_field}", target.table)
                if node is None:
                    continue
                for f in column_fields:
                    self.column(f"{path}.{f}", node, getattr(target, f))
                if key == "composite_effect" and target.metric != "volume":
                    self.column(f"{path}.metric", node, target.metric)


def _safe_file_name(name: str) -> bool:
    return not (name.startswith(".") or any(ch in name for ch in "/\\") or any(ord(ch) < 32 for ch in name))


def resolve(ds: S.Dataset) -> None:
    """Raise :class:`SchemaError` listing every unresolved reference."""
    Resolver(ds).run()
