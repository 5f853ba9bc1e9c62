"""Funnels (``stage_config`` on a fact): the rules and the SQL, in one place.

A funnel replaces the fanout. Each primary-parent row reaches stage 0, then each later stage
``i`` with probability ``p_i = min(1, transition_rate_i × m)`` (``m`` the multiplier of the
parent's segment), stopping at the first failure; it has one child row per stage reached.
With one uniform per stage and parent, ``u_i = dg_uniform(salt_i, parent row)``, the child
count is the first ``i`` whose ``u_i >= p_i`` (``N`` when there is none): a ``CASE``, no loop.

The fact's columns named ``stage_name`` (string) and ``stage_index`` (int) hold the stage;
its ``datetime`` columns drawn by ``datetime_series`` hold the parent's first written datetime
column plus the cumulative gaps ``g_1 + … + g_i``, each gap a per-parent draw in hours
(``stage_config.gap``) of at least one microsecond, so the times strictly increase.
The declared generators of these columns are replaced (any generator will do).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from dgsql.compiler import names
from dgsql.compiler.context import ColumnContext, TableContext
from dgsql.compiler.generators.datetime_series import point_sql
from dgsql.compiler.generators.distribution import clamp, draw
from dgsql.compiler.seeds import salt
from dgsql.compiler.sqltext import double, ident, list_of, lit
from dgsql.dsl import model as S
from dgsql.dsl.resolve import References
from dgsql.dsl.time import series_grid, series_patterns

Role = Literal["stage_name", "stage_index", "time"]
STAGE_COLUMNS: dict[str, str] = {"stage_name": "string", "stage_index": "int"}
"The columns that hold the stage, by name, with the type each must have."
HOUR_US = 3_600_000_000


def roles(node: S.Node) -> dict[str, Role]:
    """The columns a funnel sets (name → role); empty for a table without ``stage_config``."""
    if node.stage_config is None:
        return {}
    found: dict[str, Role] = {}
    for col in node.columns:
        if col.name in STAGE_COLUMNS:
            found[col.name] = col.name  # type: ignore[assignment]
        elif col.type == "datetime" and isinstance(col.generator, S.DatetimeSeriesGen):
            found[col.name] = "time"
    return found


def _declared_segment(parent: S.Node) -> str | None:
    """The segment column the parent itself declares (``segment_behavior.segment_column`` or
    ``segments``), once the entity model has those keys; None until then."""
    behavior = getattr(parent, "segment_behavior", None)
    column = getattr(behavior, "segment_column", None)
    if column is None:
        segments = getattr(parent, "segments", None)
        column = segments if isinstance(segments, str) else getattr(segments, "segment_column", None)
    return column if isinstance(column, str) else None


def segment_column(ds: S.Dataset, node: S.Node) -> str | None:
    """The primary parent's column holding its segment: ``stage_config.segment_column``, else
    the one the parent declares."""
    config = node.stage_config
    assert config is not None
    if config.segment_column is not None:
        return config.segment_column
    parent = next((n for n in ds.nodes if n.id == node.parents[0]), None)
    return None if parent is None else _declared_segment(parent)


def base_time(ds: S.Dataset, node: S.Node) -> str | None:
    """The primary parent's first written datetime column: stage 0's time."""
    parent = ds.node(node.parents[0])
    return next((c.name for c in parent.written if c.type == "datetime"), None)


def reads(ds: S.Dataset, node: S.Node) -> list[str]:
    """The primary parent's columns the funnel reads (its values: the parent is kept)."""
    if node.stage_config is None or not any(n.id == node.parents[0] for n in ds.nodes):
        return []
    found = [segment_column(ds, node), base_time(ds, node) if "time" in roles(node).values() else None]
    return [c for c in found if c is not None]


def expected_count(config: S.StageConfig, multiplier: float = 1.0) -> float:
    """Mean rows per parent: ``1 + Σ_i Π_{j<=i} p_j`` (stage 0 always)."""
    total, reach = 1.0, 1.0
    for stage in config.stages[1:]:
        reach *= min(1.0, stage.transition_rate * multiplier)
        total += reach
    return total


# ------------------------------------------------------------------- checking


def check(refs: References, path: str, node: S.Node) -> None:
    """Every problem of a funnel table (``path`` is the node's)."""
    config = node.stage_config
    if config is None:
        return
    where = f"{path}.stage_config"
    if node.fanout is not None:
        refs.warn(f"{path}.fanout", "stage_config replaces the fanout, which is ignored; remove fanout.")
    for m, _ in enumerate(node.modifiers):
        refs.warn(
            f"{path}.modifiers[{m}]",
            "a funnel's row count comes from its stages, so a table-level effect is ignored "
            "(as Datagen did); remove it.",
        )
    parent = refs.tables.get(node.parents[0])
    segment = segment_column(refs.ds, node)
    if parent is not None and segment is not None:
        col = refs.column(f"{where}.segment_column", parent, segment)
        refs.read(f"{where}.segment_column", parent, col, reader=node.id)
    elif config.segment_variation and parent is not None:
        refs.warn(
            f"{where}.segment_variation",
            f"no segment column, so the multipliers never apply; name {parent.id!r}'s segment column "
            "in segment_column.",
        )
    funnel = roles(node)
    columns = {c.name: (j, c) for j, c in enumerate(node.columns)}
    for name, role in funnel.items():
        j, col = columns[name]
        cpath = f"{path}.columns[{j}]"
        want = STAGE_COLUMNS.get(role)
        if want is not None and col.type != want:
            refs.problem(f"{cpath}.type", f"{name!r} holds the funnel's stage, a {want}; set type {want!r}.")
        if col.modifiers:
            refs.problem(
                f"{cpath}.modifiers",
                "the funnel sets this column (stage or stage time); modifiers would break it; remove them.",
            )
        if col.null_rate:
            refs.problem(f"{cpath}.null_rate", "the funnel sets this column on every row; remove null_rate.")
        if role == "time" and parent is not None and base_time(refs.ds, node) is None:
            gen = col.generator
            assert isinstance(gen, S.DatetimeSeriesGen)
            if series_patterns(gen.datetime_series, col):
                refs.problem(
                    f"{cpath}.generator.datetime_series",
                    f"{parent.id!r} has no datetime column to start the stages from, and a weighted "
                    "series cannot be drawn per parent; give the parent a datetime column or drop the weights.",
                )
    for i, q in enumerate(refs.ds.constraints.inequalities):
        for ref in (q.left, q.right):
            try:
                found = refs.ds.split_ref(ref)
            except KeyError:
                continue  # reported where the reference is resolved
            if found[0] == node.id and found[1] in funnel:
                refs.problem(
                    f"constraints.inequalities[{i}]",
                    f"{ref} is set by the funnel (its stages' times increase by construction); "
                    "drop the inequality.",
                )
    if not any(r in STAGE_COLUMNS for r in funnel.values()):
        refs.warn(
            where,
            "no stage_name or stage_index column, so the rows do not say their stage and validate "
            "cannot check the funnel; add one.",
        )


# ------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Spawn:
    """What the fanout table of a funnel computes per parent row."""

    count: str
    "The child count."
    carry: tuple[tuple[str, str], ...]
    "(name, SQL over the parent alias): per-parent values the children read (stage 0's times)."


def base_name(node: S.Node, column: str) -> str:
    """The per-parent column of the fanout table holding stage 0's time of ``column``."""
    return f"{names.STAGE_START}{[c.name for c in node.columns].index(column)}"


def _multiplier(ds: S.Dataset, node: S.Node, parent_alias: str) -> str:
    config = node.stage_config
    assert config is not None
    segment = segment_column(ds, node)
    if segment is None or not config.segment_variation:
        return double(1.0)
    value = f"CAST({parent_alias}.{ident(segment)} AS VARCHAR)"
    cases = " ".join(
        f"WHEN {lit(k)} THEN {double(v.transition_multiplier)}" for k, v in config.segment_variation.items()
    )
    return f"(CASE {value} {cases} ELSE {double(1.0)} END)"


def spawn(tctx: TableContext, parent_alias: str) -> Spawn:
    """The child count and the per-parent stage-0 times, over the parent row ``parent_alias``."""
    ds, node = tctx.dataset, tctx.node
    config = node.stage_config
    assert config is not None
    row = f"{parent_alias}.{names.ROW}"
    m = _multiplier(ds, node, parent_alias)
    branches = []
    for i, stage in enumerate(config.stages[1:], start=1):
        u = f"dg_uniform({salt(tctx.seed, ds.metadata.name, node.id, names.FANOUT_COUNT, f'stage:{i}')}, {row})"
        p = f"least({double(1.0)}, {double(stage.transition_rate)} * {m})"
        branches.append(f"WHEN {u} >= {p} THEN {lit(i)}")
    n = lit(len(config.stages))
    count = f"(CASE {' '.join(branches)} ELSE {n} END)" if branches else n
    carry = []
    base = base_time(ds, node)
    for name, role in roles(node).items():
        if role != "time":
            continue
        if base is not None:
            sql = f"{parent_alias}.{ident(base)}"
        else:
            # no parent time: stage 0's time is the column's own (unweighted) series, drawn per parent
            col = next(c for c in node.columns if c.name == name)
            gen = col.generator
            assert isinstance(gen, S.DatetimeSeriesGen)
            g = series_grid(gen.datetime_series, ds)
            assert g is not None and g.points > 0, "the checks report a series without grid points"
            u = f"dg_uniform({salt(tctx.seed, ds.metadata.name, node.id, name, 'stage:0')}, {row})"
            sql = point_sql(g, f"floor({u} * {lit(g.points)})::BIGINT")
        carry.append((base_name(node, name), sql))
    return Spawn(count, tuple(carry))


def _gap_us(config: S.StageConfig, ctx: ColumnContext, stage: int) -> str:
    """Stage ``stage``'s gap after the previous one, in whole microseconds (at least 1), drawn
    per parent: the context renders at the parent row."""
    gap = config.gap
    name = f"gap:{stage}"
    if isinstance(gap, S.ExponentialGap):
        hours = f"(-{double(gap.mean_hours)} * ln({ctx.uniform(name)}))"
    else:
        hours = draw(gap, ctx, name, integer=False)
        if gap.clamp is not None:
            hours = clamp(hours, *gap.clamp)
    return f"greatest(round({hours} * {lit(HOUR_US)}), 1)::BIGINT"


def column_sql(ctx: ColumnContext, role: Role) -> str:
    """The value of a funnel column (stage name, index or time) in the row of ``ctx.source``."""
    node = ctx.node
    config = node.stage_config
    assert config is not None
    stage = f"{ctx.source}.{names.STAGE}"
    if role == "stage_index":
        return stage
    if role == "stage_name":
        return f"({list_of([s.stage_name for s in config.stages], 'VARCHAR')})[{stage} + 1]"
    at_parent = replace(ctx, at_row=f"{ctx.source}.{names.PARENT_ROW}")
    terms = [
        f"CASE WHEN {stage} >= {lit(i)} THEN {_gap_us(config, at_parent, i)} ELSE 0 END"
        for i in range(1, len(config.stages))
    ]
    base = f"{ctx.source}.{base_name(node, ctx.column.name)}"
    if not terms:
        return base
    return f"({base} + to_microseconds({' + '.join(terms)}))"
