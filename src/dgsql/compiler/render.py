"""Pass 5: render the plan into one DuckDB SQL script.

Jinja templates (``dgsql/templates``) hold the statement skeletons; expressions
come from the generator and modifier renderers. Every statement and column
expression is re-parsed by DuckDB's own parser (no binding, ~1 ms per table):
a failure is a compile error naming the table and column. The parser is the caller's
connection when it has one (:func:`parsing_with`: a build's own session), else a DuckDB
of the compiler's own, started once (~25 ms).
``emit-sql`` prints :attr:`Script.text`; ``build`` runs the same sections.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from importlib import resources

import duckdb

from dgsql import __version__
from dgsql.compiler import behaviours, funnel, inequality, names
from dgsql.compiler.column import column_sql, recompute
from dgsql.compiler.context import ColumnContext, Join, TableContext, row_count, row_source
from dgsql.compiler.facts import TableFacts
from dgsql.compiler.generators.distribution import poisson
from dgsql.compiler.modifiers import effect
from dgsql.compiler.parts import Parts, entity_range, loaded, part_file, reads_own_rows, stages
from dgsql.compiler.plan import ROW_GROUP, Plan, TablePlan
from dgsql.compiler.plan import row_source as entity_row_source
from dgsql.compiler.seeds import salt
from dgsql.compiler.sqltext import SQL_TYPES, ident, lit, wrapped
from dgsql.compiler.templates import template
from dgsql.dsl import model as S
from dgsql.errors import InternalError
from dgsql.options import (  # noqa: F401 - the compiler's names for them
    COMPRESSIONS,
    DEFAULT_COMPRESSION,
    Compression,
    OutputFormat,
    resolve_compression,
)

KEY_LIMIT = 100_000_000
"""Above this many expected rows a persistent table is written without its primary key:
DuckDB checks a declared key with an in-memory index as rows are inserted, which at that size
costs more memory and time than the build itself."""

SUFFIX = {Compression.gzip: ".gz", Compression.zstd: ".zst"}
"File name suffix of a compressed CSV or JSON lines file (DuckDB's readers detect the codec by it)."
DATABASE_ALIAS = "dg_out"
"The name the script attaches the output database file under."


def database_file(dataset: str) -> str:
    """The file name of a ``duckdb``-format build: the dataset's name, made safe for a file name.

    >>> database_file("shop v2/eu")
    'shop_v2_eu.duckdb'
    """
    return (re.sub(r"[^\w.-]+", "_", dataset).strip("._") or "dataset") + ".duckdb"


@dataclass(frozen=True)
class Target:
    """Where a script's tables go (``build --format`` / ``emit-sql --into-db``)."""

    format: OutputFormat = OutputFormat.parquet
    compression: Compression | None = DEFAULT_COMPRESSION
    into: str | None = None
    "No files: persistent tables in this schema of the database the client has open."
    keyed: frozenset[str] | None = None
    "Tables whose primary key is declared (persistent tables); None: every table with a key."
    part: int | None = None
    "Files of this part of every table (``<table>/part-<part>.<ext>``, docs/parts.md)."

    @property
    def persistent(self) -> bool:
        return self.into is not None or self.format is OutputFormat.duckdb

    def file(self, table: str, dataset: str) -> str:
        """The file (relative to the output folder) holding ``table``."""
        if self.format is OutputFormat.duckdb:
            return database_file(dataset)
        plain = self.format is OutputFormat.parquet or self.compression is None
        suffix = "" if plain else SUFFIX[self.compression]  # type: ignore[index]
        if self.part is not None:
            return part_file(table, self.part, f"{self.format.value}{suffix}")
        return f"{table}.{self.format.value}{suffix}"

    def copy_options(self) -> str:
        if self.format is OutputFormat.parquet:
            assert self.compression is not None
            return f"FORMAT parquet, COMPRESSION {self.compression.value}"
        codec = f", COMPRESSION {self.compression.value}" if self.compression else ""
        if self.format is OutputFormat.csv:
            # DuckDB writes RFC 4180 CSV: fields with a comma, quote or newline are quoted and
            # quotes doubled; NULL is an empty unquoted field, the empty string ""
            return f"FORMAT csv, HEADER true{codec}"
        return f"FORMAT json{codec}"  # newline-delimited: one object per line


class CompileError(InternalError):
    """The compiler produced SQL that does not parse: a dgsql bug, reported with its location."""


@dataclass(frozen=True)
class Section:
    table: str
    sql: str
    "The table's statements; the last one is its COPY."
    cleanup: str = ""
    "Statements after the COPY: keep the row count later tables need (a fact read only by row\n    index), drop the table's helper tables."


@dataclass(frozen=True)
class Script:
    header: str
    "Macros and the output folder."
    sections: tuple[Section, ...]
    compression: Compression | None
    target: Target = Target()
    footer: str = ""
    "Statements after the last table (detach the output database)."

    @property
    def text(self) -> str:
        return (
            self.header
            + "".join("\n\n" + s.sql + (f"\n{s.cleanup}" if s.cleanup else "") for s in self.sections)
            + (f"\n\n{self.footer}" if self.footer else "")
            + "\n"
        )


MACRO_NAME = re.compile(r"\bdg_\w+", re.IGNORECASE)
"A macro call (DuckDB matches function names without regard to case)."
MACRO_BLOCK = re.compile(r"((?:--[^\n]*\n)*)CREATE OR REPLACE MACRO (dg_\w+)\b.*?;\n?", re.S)


def macros(used_by: str | None = None) -> str:
    """The macro library (``sql_macros/*.sql``); with ``used_by``, only the macros that SQL
    calls and the ones they call, each with its comment and its file's heading (a macro is
    defined after the ones it calls)."""
    files = sorted(f for f in resources.files("dgsql.sql_macros").iterdir() if f.name.endswith(".sql"))
    texts = [f.read_text().strip() + "\n" for f in files]
    if used_by is None:
        return "\n\n".join(t.strip() for t in texts)
    bodies = {m.group(2).lower(): m.group(0) for t in texts for m in MACRO_BLOCK.finditer(t)}
    used: set[str] = set()
    todo = [name.lower() for name in MACRO_NAME.findall(used_by)]
    while todo:
        name = todo.pop()
        if name in bodies and name not in used:
            used.add(name)
            todo += [n.lower() for n in MACRO_NAME.findall(bodies[name].split(" AS", 1)[1])]
    kept = []
    for text in texts:
        found = list(MACRO_BLOCK.finditer(text))
        blocks = [m.group(0).strip() for m in found if m.group(2) in used]
        if blocks:
            heading = text[: found[0].start()].strip()
            kept.append("\n\n".join([heading, *blocks] if heading else blocks))
    return "\n\n".join(kept)


def render_script(
    plan: Plan,
    out_dir: str | None,
    compression: Compression | None = DEFAULT_COMPRESSION,
    target: Target | None = None,
    parts: Parts | None = None,
) -> Script:
    """The script of a checked plan: rendering never finds a schema problem (``plan_schema``
    found them all), so anything that goes wrong here is a dgsql bug. ``target`` says where
    the tables go: files in ``out_dir`` (Parquet written with ``compression`` by default), one
    database file there, or (``target.into``, ``out_dir`` unused) tables of a schema of the
    database the client has open. With ``parts``, one part of every table (of one stage, or
    of every stage in order; docs/parts.md)."""
    target = target or Target(compression=compression)
    known: dict[str, TableFacts] = {}
    sections = []
    if parts is None:
        for table in plan.tables:
            known[table.name] = table.facts
            sections.append(_render_table(plan, table, dict(known), out_dir, target))
    else:
        assert out_dir is not None and target.part == parts.index and not target.persistent
        sections = _render_parts(plan, parts, out_dir, target)
    written = (
        f"{out_dir}/{target.file('<table>', plan.dataset.metadata.name)}"  # the database file for duckdb
    )
    header = (
        template("script.sql.j2")
        .render(
            version=__version__,
            dataset=plan.dataset.metadata.name,
            seed=plan.seed,
            scale=plan.scale,
            duckdb_version=duckdb.__version__,
            out_dir=out_dir,
            macros=macros(used_by="\n".join(s.sql + s.cleanup for s in sections)),
            sections=[],
            target=target,
            written=written,
            alias=DATABASE_ALIAS,
        )
        .rstrip()
    )
    footer = (
        f"DETACH {DATABASE_ALIAS};" if target.format is OutputFormat.duckdb and target.into is None else ""
    )
    return Script(header, tuple(sections), target.compression, target, footer)


@dataclass
class _Layer:
    name: str
    source: str
    select: list[str]
    joins: list[Join]
    sort: bool = False
    "The layer only sorts the rows by their index."
    where: str = ""
    "A filter on the source rows (padding of a split row table)."


@dataclass(frozen=True)
class _Part:
    """What a table's section needs to know to write one part (docs/parts.md)."""

    parts: Parts
    own_rows: bool
    "The table reads earlier rows of its own table: it computes rows from 0, writes its part's."
    total: bool
    "Later tables read the fact's whole row count (``names.count_table``'s ``n``)."

    def range(self, facts: TableFacts) -> tuple[str, str]:
        """SQL of the first row and the end of the part of an earlier table (or this one)."""
        if facts.rows is not None:
            lo, hi = entity_range(facts.rows, self.parts.count, self.parts.index)
            return lit(lo), lit(hi)
        count = ident(names.count_table(facts.name))
        return f"(SELECT {names.PART_LO} FROM {count})", f"(SELECT {names.PART_HI} FROM {count})"


def _render_parts(plan: Plan, parts: Parts, out_dir: str, target: Target) -> list[Section]:
    """One part of every table of ``parts.stage`` (or of every stage, stage by stage): each
    stage first reads what it needs of the earlier stages' finished tables (from
    ``parts.read_dir``), then writes its tables' part files, each in its own folder."""
    stage_of = stages(plan)
    read_dir = parts.read_dir or out_dir
    known = {t.name: t.facts for t in plan.tables}
    sections = []
    chosen = range(max(stage_of.values()) + 1) if parts.stage is None else [parts.stage]
    for stage in chosen:
        loads = _loads(plan, stage, parts, read_dir, target)
        for table in [t for t in plan.tables if stage_of[t.name] == stage]:
            part = _Part(parts, reads_own_rows(plan.dataset, table), table.counted)
            # a part never keeps a table: later stages read it from its files
            alone = replace(table, materialize=False, counted=False)
            section = _render_table(plan, alone, known, out_dir, target, part)
            folder = template("folder.sql.j2").render(path=f"{out_dir}/{table.name}")
            sql = "\n\n".join([*loads, folder, section.sql])
            sections.append(replace(section, sql=sql))
            loads = []
    return sections


def _loads(plan: Plan, stage: int, parts: Parts, read_dir: str, target: Target) -> list[str]:
    """Statements reading what the tables of ``stage`` need of earlier stages: a kept table's
    rows, a fact's part range and count, from the finished part files."""
    tables = loaded(plan, stage)
    found = []
    for table in tables:
        files = [f"{read_dir}/{part_file(table.name, i, 'parquet')}" for i in range(parts.count)]
        common = dict(
            files=files,
            row=names.ROW,
            file_column=names.PART_FILE,
            own=files[parts.index],
            lo_name=names.PART_LO,
            hi_name=names.PART_HI,
            n_name=names.COUNT,
        )
        if table.materialize:
            query = template("part_load.sql.j2").render(rows=True, **common)
            found.append(f"CREATE OR REPLACE TEMP TABLE {ident(table.name)} AS\n{query};")
        if table.rows is None:
            query = template("part_load.sql.j2").render(rows=False, **common)
            found.append(f"CREATE OR REPLACE TEMP TABLE {ident(names.count_table(table.name))} AS\n{query};")
    return found


def _render_table(
    plan: Plan,
    table: TablePlan,
    known: dict[str, TableFacts],
    out_dir: str | None,
    target: Target,
    part: _Part | None = None,
) -> Section:
    tctx, layers, joined = _render_layers(plan, table, known, part)
    if not joined <= table.joined:
        raise InternalError(
            f"{table.path} ({table.name}): columns {sorted(joined - table.joined)} join in an order-breaking "
            "way the plan did not foresee; please report it with the schema."
        )
    return _render_section(plan, table, tctx, layers, out_dir, target, part)


def _render_layers(
    plan: Plan, table: TablePlan, known: dict[str, TableFacts], part: _Part | None = None
) -> tuple[TableContext, list[_Layer], set[str]]:
    """The table's CTE layers, and the columns that need an order-breaking join."""
    tctx = TableContext(plan.dataset, table.node, plan.seed, known, recompute)
    layers = [_base_layer(plan, table, tctx, part)]
    joined: set[str] = set()
    columns = {c.name: c for c in table.node.columns}
    after = {g.bound.column: g.bound for g in table.guards if g.bound.after}
    funnel_roles = funnel.roles(table.node)
    scaling = behaviours.scaling(plan.dataset, table.node)
    factors = _value_factors(scaling, table.node)
    for level in range(table.layers):
        source = layers[-1].name
        replaced = [
            inequality.guard(g.bound, columns[g.bound.column], plan.dataset, source)
            for g in table.guards
            if g.layer == level
        ]
        star = f"{source}.* REPLACE ({', '.join(replaced)})" if replaced else f"{source}.*"
        layer = _Layer(f"{names.LAYER}{level + 1}", source, [star], [], sort=level == table.sort_layer)
        for cp in table.columns:
            if cp.layer != level:
                continue
            bound = after.get(cp.column.name)
            ctx = ColumnContext(tctx, cp.column, cp.path, source=source)
            if bound is not None:
                ctx.bound = (inequality.bound_sql(bound, source), bound.strict)
            role = funnel_roles.get(cp.column.name)
            if scaling is not None:
                _scale_column(ctx, scaling, factors, source)
            sql, joins = (funnel.column_sql(ctx, role), []) if role else column_sql(ctx)
            _check_parses(sql, table.name, cp.column.name)
            layer.select.append(
                f"-- {cp.path}: {f'funnel {role}' if role else _recipe(cp.column)}\n"
                f"        {sql} AS {ident(cp.column.name)}"
            )
            layer.joins += joins
            if any(not j.one_row for j in joins):
                joined.add(cp.column.name)
        lets = tctx.lets.pop(source, {})
        joins = list(tctx.let_joins.pop(source, {}).values())
        for depth in range(1 + max((d for _, d in lets.values()), default=-1)):
            # the shared values are columns of CTEs in between, each aliased as the source
            pre = _Layer(
                f"{source}{names.LETS}{depth or ''}",
                source if depth == 0 else layer.source,
                [f"{source}.*", *(f"{sql} AS {n}" for n, (sql, d) in lets.items() if d == depth)],
                [j for j in joins if any(f"{j.alias}." in sql for sql, d in lets.values() if d == depth)],
            )
            layers.append(pre)
            layer.source = f"{pre.name} AS {source}"
        layers.append(layer)
    return tctx, layers, joined


def _value_factors(scaling: behaviours.Scaling | None, node: S.Node) -> dict[str, str]:
    """The distinct per-parent value factors the fact's columns read (SQL over the parent
    alias → their column in the fanout table), in column order."""
    found: dict[str, str] = {}
    for col in node.columns if scaling is not None else ():
        assert scaling is not None
        for sql in scaling.value_factors(col.name, names.PARENT_ALIAS):
            found.setdefault(sql, f"{behaviours.FACTOR}{len(found)}")
    return found


def _scale_column(
    ctx: ColumnContext, scaling: behaviours.Scaling, factors: dict[str, str], source: str
) -> None:
    """A child column's value factors and, under a vintage, its draw after the parent's created_at."""
    parts = [f"{source}.{factors[sql]}" for sql in scaling.value_factors(ctx.column.name, names.PARENT_ALIAS)]
    if parts:
        ctx.factor = " * ".join(parts)
    if scaling.bounded(ctx.column):
        created = f"{source}.{behaviours.CREATED}"
        ctx.floor = created
        if ctx.bound is None:
            ctx.bound = (created, False)
        else:
            ctx.bound = (f"greatest({ctx.bound[0]}, {created})", ctx.bound[1])


def _recipe(column: S.Column) -> str:
    """``choice`` or ``distribution → jitter → clamp``: the column's generator and modifiers."""
    return " → ".join([S.generator_kind(column.generator), *(m.transform for m in column.modifiers)])


def _render_section(
    plan: Plan,
    table: TablePlan,
    tctx: TableContext,
    layers: list[_Layer],
    out_dir: str | None,
    target: Target,
    part: _Part | None = None,
) -> Section:
    # hidden columns are computed in the layers but neither written nor kept for later tables
    written = [cp.column.name for cp in table.columns if not cp.column.hidden]
    columns = wrapped(ident(name) for name in written)
    optional = wrapped(f"dg_optional({ident(name)}) AS {ident(name)}" for name in written)
    query = template("query.sql.j2").render(
        layers=layers,
        last=layers[-1].name,
        select=f"{names.ROW}, {columns}" if table.materialize else optional,
        row=names.ROW,
        # a part that computed rows from 0 writes its own rows only
        where=f"{names.ROW} >= {part.range(table.facts)[0]}" if part is not None and part.own_rows else "",
    )
    persistent = _persistent(plan, table, target) if target.persistent else None
    sql = template("table.sql.j2").render(
        t=table,
        summary=_summary(table),
        helpers=tctx.helpers,
        query=query,
        output_columns=optional,
        file=None
        if target.persistent
        else f"{out_dir}/{target.file(table.name, plan.dataset.metadata.name)}",
        copy_options="" if target.persistent else target.copy_options(),
        persistent=persistent,
    )
    problem = _parse_error(sql)
    if problem:
        raise CompileError(f"{table.path} ({table.name}): the generated SQL does not parse: {problem}")
    cleanup = [f"DROP TABLE {name};" for name in tctx.helpers if name not in tctx.kept_helpers]
    if persistent and persistent["aside"]:  # after the INSERT, whose row count the build reports
        cleanup.insert(0, f"ALTER TABLE {persistent['aside']} RENAME TO {ident(table.name)};")
    if table.counted:
        count = ident(names.count_table(table.name))
        rows = f"coalesce(sum({names.FANOUT_COUNT}), 0)::BIGINT"
        cleanup.insert(
            0,
            f"CREATE OR REPLACE TEMP TABLE {count} AS SELECT {rows} AS n FROM {ident(names.fanout_table(table.name))};",
        )
    return Section(table.name, sql, "\n".join(cleanup))


def _persistent(plan: Plan, table: TablePlan, target: Target) -> dict[str, str]:
    """The persistent table's qualified name, its columns' DDL (with the primary key when
    declared, a note when not) and, for a kept table in the open database, the name its
    temporary namesake steps aside to while the persistent one is created and filled: a
    temporary table comes first in name resolution, even for ``main.<table>``."""
    node = table.node
    written = node.written
    ddl = [f"{ident(c.name)} {SQL_TYPES[c.type]}" for c in written]
    pk = node.pk if node.pk in {c.name for c in written} else None
    note = ""
    if pk is not None and (target.keyed is None or table.name in target.keyed):
        ddl.append(f"PRIMARY KEY ({ident(pk)})")
    elif pk is not None:
        note = (
            f"-- primary key {pk!r} not declared: more than {KEY_LIMIT:,} rows expected "
            "(checking it while inserting would cost more than the build)"
        )
    into = target.into is not None
    schema = ident(target.into) if into else f"{DATABASE_ALIAS}.main"  # type: ignore[arg-type]
    return {
        "note": note,
        "name": f"{schema}.{ident(table.name)}",
        "ddl": ",\n    ".join(ddl),
        "aside": ident(names.aside_table(table.name)) if into and table.materialize else "",
    }


def _summary(table: TablePlan) -> str:
    if table.fanout:
        f = table.fanout
        if f.distribution == "funnel":
            return f"{table.node.kind}, a funnel of {f.hi} stages: 1 to {f.hi} rows per {f.parent} row"
        shape = f"poisson(lambda={f.lam})" if f.distribution == "poisson" else "uniform"
        bounds = f"[{f.lo}, {'inf' if f.hi is None else f.hi}]"
        return f"{table.node.kind}, {shape} {bounds} rows per {f.parent} row"
    return f"{table.node.kind}, {table.rows:,} rows"


def _entity_rows(table: TablePlan, tctx: TableContext, part: _Part | None) -> _Layer:
    """Layer 0 of an entity: the row index, from where the plan says (``plan.row_source``); in
    a part, its rows (from row 0 when it reads its own earlier rows), from where their count
    says."""
    n = table.rows
    assert n is not None
    lo, source = 0, table.row_source
    if part is not None:
        start, end = entity_range(n, part.parts.count, part.parts.index)
        lo = 0 if part.own_rows else start
        n, source = end - lo, entity_row_source(end - lo, table.node)
    layer = f"{names.LAYER}0"
    rows = ident(names.rows_table(table.name))
    if source == "range":
        span = f"{lit(lo)}, {lit(lo + n)}" if lo else lit(n)
        return _Layer(layer, f"range({span})", [f"range AS {names.ROW}"], [])
    split = source == "split"
    query = template("rows.sql.j2").render(
        rows=n, lo=lo, row=names.ROW, split=split, group=ROW_GROUP, half=-(-n // 2)
    )
    tctx.add_helper(rows, query)
    return _Layer(layer, rows, [names.ROW], [], where=f"{names.ROW} < {lit(lo + n)}" if split else "")


def _base_layer(plan: Plan, table: TablePlan, tctx: TableContext, part: _Part | None) -> _Layer:
    """Layer 0: the row index (and, in a fact, the spawning parent row)."""
    if table.fanout is None:
        return _entity_rows(table, tctx, part)
    f = table.fanout
    fanout = names.fanout_table(table.name)

    def fanout_salt(draw: str) -> int:
        return salt(plan.seed, plan.dataset.metadata.name, table.name, names.FANOUT_COUNT, draw)

    parent_row = f"{names.PARENT_ALIAS}.{names.ROW}"
    u = f"dg_uniform({fanout_salt('count')}, {parent_row})"
    carry: list[tuple[str, str]] = []
    "Per-parent values the children read: (name, SQL over the parent row)."
    if f.distribution == "funnel":
        spawn = funnel.spawn(tctx, names.PARENT_ALIAS)
        count, carry = spawn.count, list(spawn.carry)
    elif f.distribution == "poisson":
        z = f"dg_normal({u}, dg_uniform({fanout_salt('count:u2')}, {parent_row}))"
        count = poisson(f.lam, u, z, f.lo, f.hi)
    else:
        hi = f.hi if f.hi is not None else f.lo
        count = f"({lit(f.lo)} + floor({u} * {lit(hi - f.lo + 1)})::BIGINT)"
    joins: list[Join] = []
    scaled = count
    # a funnel's stages are its count: it ignores table-level effects (``check`` warns), as
    # Datagen did, and the parent's fanout multipliers (``behaviours.Scaling``)
    funnel_fact = f.distribution == "funnel"
    for i, mod in enumerate(table.node.modifiers if not funnel_fact else []):
        scaled, join = _scaled_fanout(plan, table, tctx, i, mod.args, scaled)
        joins.append(join)
    scaling = behaviours.scaling(plan.dataset, table.node)
    if scaling is not None:
        factors = scaling.fanout_factors(names.PARENT_ALIAS)
        scaled = " * ".join([scaled, *factors]) if factors else scaled
        carry += [(name, sql) for sql, name in _value_factors(scaling, table.node).items()]
        if any(scaling.bounded(c) for c in table.node.columns):
            carry.append((behaviours.CREATED, scaling.created_at(names.PARENT_ALIAS)))
    if scaled != count:
        # the one fanout rule: the clamped draw times every factor, rounded once, >= 0
        count = f"greatest(round({scaled}), 0)::BIGINT"
    counts = dict(
        row=names.ROW,
        parent_row=names.PARENT_ROW,
        parent_alias=names.PARENT_ALIAS,
        count_sql=count,
        joins=joins,
        count_name=names.FANOUT_COUNT,
        carry=carry,
    )
    parent = tctx.known[f.parent]
    source, offset = row_source(parent), None
    if part is not None:
        # the part's parents (from row 0 when it reads its own earlier rows), its first row
        # the sum of the counts of every parent before them (docs/parts.md)
        lo, hi = part.range(parent)
        count_table = ident(names.count_table(table.name))
        whole = _rows_between(parent, "0", None if part.total else hi)
        tctx.kept_helpers.add(count_table)
        tctx.add_helper(
            count_table,
            template("part_range.sql.j2").render(
                parent_source=whole,
                parent_lo=lo,
                parent_hi=hi,
                total=part.total,
                lo_name=names.PART_LO,
                hi_name=names.PART_HI,
                n_name=names.COUNT,
                **counts,
            ),
        )
        if not part.own_rows:
            source, offset = _rows_between(parent, lo, hi), f"(SELECT {names.PART_LO} FROM {count_table})"
        else:
            source = _rows_between(parent, "0", hi)
    tctx.add_helper(
        ident(fanout),
        template("fanout.sql.j2").render(
            parent_source=source,
            offset=offset,
            first_name=names.FIRST_CHILD,
            chunk_name=names.CHUNK,
            chunk=table.chunk,
            **counts,
        ),
    )
    carried = "".join(f", {name}" for name, _ in carry)
    children = (
        f"(SELECT {names.PARENT_ROW}, {names.FIRST_CHILD}{carried}, unnest(range({names.FANOUT_COUNT}))"
        f" AS {names.CHILD} FROM {ident(fanout)})"
    )
    select = [names.PARENT_ROW, f"{names.FIRST_CHILD} + {names.CHILD} AS {names.ROW}"]
    if funnel_fact:
        # never split in runs (plan), so the child's position among its parent's is its stage
        select.append(f"{names.CHILD} AS {names.STAGE}")
    select += [name for name, _ in carry]
    return _Layer(f"{names.LAYER}0", children, select, [])


def _rows_between(facts: TableFacts, lo: str, hi: str | None) -> str:
    """A relation of an earlier table's rows ``[lo, hi)`` (``hi`` None: to its end): the kept
    table's (read back from its files in a part), or a range of row indexes."""
    if facts.kept:
        end = f" AND {names.ROW} < {hi}" if hi is not None else ""
        return f"(SELECT * FROM {ident(facts.name)} WHERE {names.ROW} >= {lo}{end})"
    return f"(SELECT range AS {names.ROW} FROM range({lo}, {hi if hi is not None else row_count(facts)}))"


def _scaled_fanout(
    plan: Plan, table: TablePlan, tctx: TableContext, index: int, args: S.EffectArgs, count: str
) -> tuple[str, Join]:
    """A table-level effect: the parent row's fanout times (or plus) the effect matched on the
    parent's kept keys and first datetime or date column (the timeframe midpoint when it has
    none), unrounded: the fanout is rounded once, after every factor (:func:`_base_layer`);
    ``effect.TableEffect`` has Datagen's rules."""
    te = effect.table_effect(plan.dataset, table.node, args)
    local = {k: f"{names.PARENT_ALIAS}.{ident(k)}" for k in te.on}
    if te.time is not None:
        ts = f"{names.PARENT_ALIAS}.{ident(te.time)}"
    elif te.midpoint is not None:
        ts = lit(te.midpoint)
    else:
        ts = None
    assert ts is not None or not args.window, (
        f"{table.path}: a windowed effect without a time passed the checks"
    )
    helper = ident(names.effect_table(table.name, "", index))
    join, f = effect.matcher(tctx, args, helper, f"{names.MATCH}_{index}", te.parent, local, ts, te.field)
    return effect.apply(args, count, f), join


def _check_parses(sql: str, table: str, column: str) -> None:
    problem = _parse_error(f"SELECT {sql}")
    if problem:
        raise CompileError(f"{table}.{column}: the generated expression does not parse: {problem}")


_PARSER: ContextVar[duckdb.DuckDBPyConnection | None] = ContextVar("parser", default=None)


@contextmanager
def parsing_with(con: duckdb.DuckDBPyConnection | None) -> Iterator[None]:
    """Parse-check with ``con`` (only its parser is used: nothing runs) while rendering; None
    keeps the compiler's own connection."""
    token = _PARSER.set(con)
    try:
        yield
    finally:
        _PARSER.reset(token)


@functools.cache
def _own_parser() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def _parser() -> duckdb.DuckDBPyConnection:
    return _PARSER.get() or _own_parser()


def _parse_error(sql: str) -> str | None:
    """DuckDB's parser's message when ``sql`` does not parse (statements are not bound)."""
    try:
        _parser().extract_statements(sql)
    except duckdb.ParserException as e:
        return " ".join(str(e).split())
    return None
