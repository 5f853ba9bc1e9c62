"""Pass 2: check a parsed schema; collect every problem, errors and warnings.

After this pass without errors every ``table.column`` named anywhere exists, every
parent is a table, every generator and modifier is usable in its column (each kind
checks itself: ``GeneratorKind.check``, ``ModifierKind.check``), and no user name
collides with dgsql's reserved internal names.
"""

from __future__ import annotations

from dgsql.compiler import behaviours, datagen, funnel
from dgsql.compiler.generators import generator_of
from dgsql.compiler.kind import Site
from dgsql.compiler.linked import crossings
from dgsql.compiler.modifiers import MODIFIERS, effect
from dgsql.compiler.names import RESERVED_PREFIX
from dgsql.dsl import model as S
from dgsql.dsl.problems import Problem
from dgsql.dsl.resolve import References


class Checker:
    """The checking pass over a parsed dataset: every problem, in schema order."""

    def __init__(self, ds: S.Dataset):
        self.ds = ds
        self.refs = References(ds)

    def run(self) -> list[Problem]:
        self.nodes()
        self.constraints()
        self.targets()
        return self.refs.problems

    def problem(self, path: str, text: str) -> None:
        self.refs.problem(path, text)

    def nodes(self) -> None:
        seen: dict[str, str] = {}
        for i, node in enumerate(self.ds.nodes):
            path = f"nodes[{i}]"
            twin = seen.get(node.id.lower())
            if twin == node.id:
                self.problem(f"{path}.id", f"table {node.id!r} is defined twice; give each node its own id.")
            elif twin is not None:
                # DuckDB matches names without regard to case, and so do some file systems
                self.problem(
                    f"{path}.id",
                    f"{node.id!r} and {twin!r} differ only in case; give the tables distinct names.",
                )
            seen.setdefault(node.id.lower(), node.id)
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
            names: dict[str, str] = {}
            for j, col in enumerate(node.columns):
                twin = names.get(col.name.lower())
                if twin == col.name:
                    self.problem(
                        f"{path}.columns[{j}].name", f"column {col.name!r} is defined twice; rename one."
                    )
                elif twin is not None:
                    # DuckDB matches column names without regard to case
                    self.problem(
                        f"{path}.columns[{j}].name",
                        f"{col.name!r} and {twin!r} differ only in case; give the columns distinct names.",
                    )
                if col.name.lower().startswith(RESERVED_PREFIX):
                    self.problem(
                        f"{path}.columns[{j}].name",
                        f"names starting with {RESERVED_PREFIX!r} are reserved; rename it.",
                    )
                names.setdefault(col.name.lower(), col.name)
            if node.pk is not None and node.pk not in names:
                self.problem(f"{path}.pk", f"{node.pk!r} is not one of the node's columns; name one of them.")
            self.hidden(path, node)
            for k, parent in enumerate(node.parents):
                self.refs.table(f"{path}.parents[{k}]", parent)
            enum_cols = [c for c in node.columns if isinstance(c.generator, S.EnumListGen)]
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
                self.column(f"{path}.columns[{j}]", node, col)
            for m, mod in enumerate(node.modifiers):
                effect.check(self.refs, f"{path}.modifiers[{m}].args", node, mod.args, column=None)
            funnel.check(self.refs, path, node)
            behaviours.check(self.refs, path, node)

    def column(self, path: str, node: S.Node, col: S.Column) -> None:
        site = Site(self.refs, node, col, path)
        kind, spec = generator_of(col)
        if kind.types is not None and col.type not in kind.types:
            self.problem(
                f"{path}.type",
                f"a {kind.key} gives {' or '.join(kind.types)} values, not {col.type}; "
                "change the column type or the generator.",
            )
            return
        kind.check(spec, site)
        if col.constraints and col.hidden:
            self.problem(
                f"{path}.constraints",
                f"{node.id}.{col.name} is hidden (never written), so its constraints cannot be checked; "
                'drop "hidden" or the constraints.',
            )
        elif col.constraints and col.constraints.enum_ref:
            found = self.refs.ref(f"{path}.constraints.enum_ref", col.constraints.enum_ref)
            if found:
                self.refs.read(f"{path}.constraints.enum_ref", *found, reader=node.id)
        for m, mod in enumerate(col.modifiers):
            modifier = MODIFIERS[mod.transform]
            skipped = modifier.skipped(mod.args, col, node)
            if skipped is not None:
                self.refs.warn(f"{path}.modifiers[{m}]", skipped)
                continue
            if modifier.types and col.type not in modifier.types:
                self.problem(
                    f"{path}.modifiers[{m}]",
                    f"{mod.transform} applies to {' or '.join(modifier.types)} columns, not to a {col.type}; "
                    + modifier.misfit(mod.args, col.type),
                )
                continue
            modifier.check(mod.args, site, f".modifiers[{m}].args")

    def hidden(self, path: str, node: S.Node) -> None:
        """A hidden column is never written: the table's pk cannot be one, and a table writes at
        least one column."""
        for j, col in enumerate(node.columns):
            if col.hidden and col.name == node.pk:
                self.problem(
                    f"{path}.columns[{j}].hidden",
                    f"{col.name!r} is the table's pk, and a pk is always written; "
                    'drop "hidden" or make another column the pk.',
                )
        if not node.written:
            self.problem(
                f"{path}.columns",
                f'every column of {node.id!r} is hidden, so its file would have none; drop "hidden" from one.',
            )

    def checked(self, path: str, ref: str) -> None:
        """``table.column`` that a check reads from the table's file: it exists and is written."""
        found = self.refs.ref(path, ref)
        if found:
            self.refs.read(path, *found, reader=None)

    def checked_column(self, path: str, node: S.Node, name: str) -> None:
        """Column ``name`` of ``node``, which a check reads from the table's file: it exists and is
        written."""
        self.refs.read(path, node, self.refs.column(path, node, name), reader=None)

    def constraints(self) -> None:
        c = self.ds.constraints
        for i, ref in enumerate(c.unique):
            self.checked(f"constraints.unique[{i}]", ref)
        for i, fk in enumerate(c.foreign_keys):
            self.checked(f"constraints.foreign_keys[{i}].from", fk.from_)
            self.checked(f"constraints.foreign_keys[{i}].to", fk.to)
        for i, r in enumerate(c.ranges):
            self.checked(f"constraints.ranges[{i}].attr", r.attr)
        for i, q in enumerate(c.inequalities):
            # a hidden column may take part: the inequality is honoured while generating
            # (validate reports its check as not evaluated)
            self.refs.ref(f"constraints.inequalities[{i}].left", q.left)
            self.refs.ref(f"constraints.inequalities[{i}].right", q.right)

        for crossing in crossings(self.ds):
            q = c.inequalities[crossing.index]
            if crossing.link is None:
                self.refs.warn(
                    f"constraints.inequalities[{crossing.index}]",
                    f"{q.left} and {q.right} are in tables that no lookup links (a column of one that "
                    "looks up the other's primary key): it is neither honoured while generating nor "
                    "checked; look up the other table's key, or drop the inequality.",
                )
            elif not crossing.honoured:
                link = crossing.link
                self.refs.warn(
                    f"constraints.inequalities[{crossing.index}]",
                    f"{q.left} {q.op} {q.right} compares {link.child} rows with their {link.parent} row "
                    "but is honoured while generating only when the child's value comes after its "
                    "parent's, in columns of one type among int, float, date, datetime: it is checked "
                    "only; draw the child's value as an offset of the parent's (a lookup of it and "
                    "time arithmetic).",
                )
        for i, p in enumerate(c.pattern):
            self.checked(f"constraints.pattern[{i}].attr", p.attr)
        for i, e in enumerate(c.enum):
            self.checked(f"constraints.enum[{i}].attr", e.attr)
            if e.enum_ref:
                self.checked(f"constraints.enum[{i}].enum_ref", e.enum_ref)

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
                node = self.refs.table(f"{path}.{table_field}", target.table)
                if node is None:
                    continue
                for f in column_fields:
                    self.checked_column(f"{path}.{f}", node, getattr(target, f))
                if key == "composite_effect":
                    self.composite(path, node, target)

    def composite(self, path: str, node: S.Node, target: S.CompositeEffect) -> None:
        """The columns a composite_effect target reads from the files are written ones (only
        ``metric`` must exist; another missing column leaves the check not evaluated)."""
        refs = self.refs
        if datagen.volume_metric(target, node):
            refs.warn(f"{path}.metric", datagen.VOLUME_METRIC.format(metric=target.metric, table=node.id))
        elif target.metric != "volume":
            self.checked_column(f"{path}.metric", node, target.metric)
        if datagen.percent_mape(target.tolerance):
            mape = target.tolerance.mape
            assert mape is not None
            refs.warn(f"{path}.tolerance.mape", datagen.PERCENT_MAPE.format(mape=mape, fraction=mape / 100))
        named = [("timestamp", node, target.timestamp)]
        for k, inf in enumerate(target.influences):
            where = f"influences[{k}]"
            named += [
                (f"{where}.column", node, inf.column),
                (f"{where}.time_reference", node, inf.time_reference),
            ]
            named += [(f"{where}.on", node, local) for local in inf.on or {}]
            effect_node = refs.tables.get(inf.effect_table or inf.table or "")
            if effect_node is not None:
                named += [(f"{where}.on", effect_node, remote) for remote in (inf.on or {}).values()]
                if inf.map is not None:
                    named.append((f"{where}.map.field", effect_node, inf.map.field))
                elif inf.field is not None:
                    named.append((f"{where}.field", effect_node, inf.field))
                if inf.window is not None:
                    named += [
                        (f"{where}.window.start_col", effect_node, inf.window.start_col),
                        (f"{where}.window.end_col", effect_node, inf.window.end_col),
                    ]
        for field, owner, name in named:
            column = next((c for c in owner.columns if c.name == name), None)
            refs.read(f"{path}.{field}", owner, column, None)


def _safe_file_name(name: str) -> bool:
    return not (name.startswith(".") or any(ch in name for ch in "/\\") or any(ord(ch) < 32 for ch in name))


def check(ds: S.Dataset) -> list[Problem]:
    """Every problem of a parsed dataset (errors and warnings), in schema order."""
    return Checker(ds).run()
