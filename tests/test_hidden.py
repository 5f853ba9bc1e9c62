"""Hidden (helper) columns (``"hidden": true``): generated and read by the row's own columns and
modifiers, never written, never checked as columns; another table cannot read one.

The build of a schema with hidden columns is compared with the build of its *twin* — the same
schema without ``hidden`` — which writes every column with the same values (salts do not depend on
``hidden``): the written columns are identical, and the twin shows the hidden values they came from.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import pyarrow.parquet as pq
import pytest

TF = {"start": "2024-01-01T00:00:00", "end": "2024-12-31T23:00:00", "freq": "H"}


def col(name: str, type_: str, generator: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "generator": generator, **extra}


def uniform(low: float, high: float) -> dict[str, Any]:
    return {"distribution": {"type": "uniform", "params": {"low": low, "high": high}}}


def enum(*values: Any) -> dict[str, Any]:
    return {"enum_list": {"values": list(values)}}


def effect(**args: Any) -> dict[str, Any]:
    return {"transform": "effect", "args": {"effect_table": "promo", "map": {"field": "lift"}, **args}}


WINDOW = {"start_col": "ws", "end_col": "we"}

BASE: dict[str, Any] = {
    "version": "1.0",
    "metadata": {"name": "hidden"},
    "timeframe": TF,
    "nodes": [
        {"id": "promo", "kind": "vocab", "pk": "pid", "columns": [
            col("pid", "int", enum(1, 2)),
            col("ws", "datetime", enum("2024-01-01", "2024-07-01")),
            col("we", "datetime", enum("2024-03-31", "2024-09-30")),
            col("lift", "float", enum(2.0, 3.0)),
            col("hid", "int", enum(1, 2), hidden=True),
            col("hstart", "datetime", enum("2024-01-01", "2024-07-01"), hidden=True),
            col("hlift", "float", enum(2.0, 3.0), hidden=True),
        ]},
        {"id": "users", "kind": "entity", "pk": "id", "rows": 60, "columns": [
            col("id", "int", {"sequence": {}}),
            col("base", "float", uniform(1, 10), hidden=True),
            col("total", "float", {"expression": {"code": "base * 2"}}),
            col("cap", "float", uniform(0, 30)),
            col("hk", "int", {"expression": {"code": "id * 10"}}, hidden=True),
            col("at", "datetime", {"datetime_series": {"freq": "D"}}, hidden=True),
            # an effect timed by the hidden datetime of its own row
            col("score", "float", uniform(1, 2), modifiers=[effect(window=WINDOW, time_column="at")]),
        ]},
        {"id": "items", "kind": "fact", "parents": ["users"],
         "fanout": {"distribution": "uniform", "min": 1, "max": 3}, "columns": [
            col("user_id", "int", {"lookup": {"from": "users.id"}}),
            col("t", "float", {"lookup": {"from": "users.total"}}),
            col("sk", "int", {"choice": {"choices": [1, 2]}}, hidden=True),
            # a join on a hidden key of the row itself
            col("lift", "float", {"lookup": {"from": "promo.lift", "on": {"sk": "pid"}}}),
        ]},
        {"id": "prices", "kind": "entity", "rows": 20, "columns": [
            col("p", "float", uniform(1, 5), hidden=True),
            col("q", "float", {"expression": {"code": "p * 2"}}),
        ]},
        {"id": "buyers", "kind": "entity", "rows": 30, "columns": [
            # prices.q is a pure function of the row index: recomputed here, through the hidden p
            col("q", "float", {"lookup": {"from": "prices.q"}}),
        ]},
    ],
    "constraints": {"inequalities": [{"left": "users.base", "op": "<", "right": "users.cap"}]},
}  # fmt: skip

HIDDEN = {
    "promo": {"hid", "hstart", "hlift"},
    "users": {"base", "hk", "at"},
    "items": {"sk"},
    "prices": {"p"},
}


def twin(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with every column written."""
    doc = copy.deepcopy(schema)
    for node in doc["nodes"]:
        for c in node["columns"]:
            c.pop("hidden", None)
    return doc


@pytest.fixture(scope="module")
def built(dg):
    return dg.build(BASE), dg.build(twin(BASE))


def test_hidden_columns_are_not_written(built):
    out, _ = built
    for name, table in out.tables().items():
        assert not HIDDEN.get(name, set()) & set(table.column_names), name
    assert out.table("users").column_names == ["id", "total", "cap", "score"]
    assert out.table("items").column_names == ["user_id", "t", "lift"]


def test_written_columns_equal_the_twins(built):
    out, full = built
    for name, table in out.tables().items():
        assert table.equals(full.table(name).drop_columns(sorted(HIDDEN.get(name, set())))), name


def test_dependent_columns_are_computed_from_the_hidden_values(built):
    out, full = built
    base = full.column("users", "base")
    assert out.column("users", "total") == [b * 2 for b in base]
    # the inequality on the hidden column was honoured while generating
    assert all(b < c for b, c in zip(base, full.column("users", "cap"), strict=True))
    # another table reads the written column made from the hidden one, joined or recomputed
    totals = dict(zip(full.column("users", "id"), out.column("users", "total"), strict=True))
    items = out.table("items").to_pylist()
    assert [r["t"] for r in items] == [totals[r["user_id"]] for r in items]
    assert set(out.column("buyers", "q")) <= {p * 2 for p in full.column("prices", "p")}
    # a join on the row's hidden key, and an effect timed by the row's hidden datetime
    lifts = {1: 2.0, 2: 3.0}
    assert out.column("items", "lift") == [lifts[k] for k in full.column("items", "sk")]
    for at, score in zip(full.column("users", "at"), out.column("users", "score"), strict=True):
        lift = 2.0 if at.month <= 3 else 3.0 if 7 <= at.month <= 9 else 1.0
        assert lift <= score <= 2 * lift, (at, score)


def test_metadata_lists_only_the_written_columns(built):
    out, _ = built
    tables = out.metadata["tables"]
    assert [c["name"] for c in tables["users"]["columns"]] == ["id", "total", "cap", "score"]
    assert [c["name"] for c in tables["prices"]["columns"]] == ["q"]


def test_validate_has_no_check_on_a_hidden_column(dg, built):
    out, _ = built
    schema = dg.write_schema(BASE)
    report_path = schema.parent / "report.json"
    result = dg.cli("validate", schema, "-d", out.path, "--report", report_path)
    assert result.exit_code == 0, result.stderr
    report = json.loads(report_path.read_text())
    hidden_refs = {f"{t}.{c}" for t, cols in HIDDEN.items() for c in cols}
    by_id = {c["id"]: c for c in report["checks"]}
    inequality = by_id.pop("inequality:users.base < users.cap")
    assert inequality["status"] == "NOT_EVALUATED"
    assert "hidden column" in inequality["detail"]["reason"]
    for check_id, check in by_id.items():
        assert not any(ref in check_id for ref in hidden_refs), check_id
        assert check["status"] != "FAILED", check
    assert by_id["columns:users"]["status"] == "PASSED"
    assert report["tables"]["users"]["columns"] == {
        "id": "BIGINT",
        "total": "DOUBLE",
        "cap": "DOUBLE",
        "score": "DOUBLE",
    }


def test_build_validate_passes(dg):
    result = dg.build(BASE, "--validate").result
    assert result.exit_code == 0


def test_emitted_script_writes_the_same_files_in_the_duckdb_cli(dg, built, tmp_path):
    duckdb = shutil.which("duckdb")
    if duckdb is None:
        pytest.skip("the duckdb CLI is not on PATH")
    out, _ = built
    (tmp_path / "build.sql").write_text(dg.emit_sql(BASE, "--out-dir", "out"))
    done = subprocess.run([duckdb, "-c", ".read build.sql"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for name, table in out.tables().items():
        assert pq.read_table(tmp_path / "out" / f"{name}.parquet").equals(table), name


# ------------------------------------------------------------------ errors


def node(s: dict, table: str) -> dict:
    return next(n for n in s["nodes"] if n["id"] == table)


def column(s: dict, table: str, name: str) -> dict:
    return next(c for c in node(s, table)["columns"] if c["name"] == name)


def add(table: str, c: dict) -> Callable[[dict], Any]:
    return lambda s: node(s, table)["columns"].append(c)


def constrain(key: str, value: Any) -> Callable[[dict], Any]:
    return lambda s: s["constraints"].setdefault(key, []).append(value)


def target(key: str, value: dict) -> Callable[[dict], Any]:
    return lambda s: s.setdefault("targets", {}).update({key: value})


def set_effect(**args: Any) -> Callable[[dict], Any]:
    return lambda s: column(s, "users", "score").update(modifiers=[effect(**args)])


def reads(ref: str, table: str) -> str:
    return f'{ref} is hidden (never written), so table {table!r} cannot read it; drop "hidden" or read another column.'


def checked(ref: str) -> str:
    return f'{ref} is hidden (never written), so it cannot be checked; drop "hidden" or check another column.'


ERRORS: dict[str, tuple[Callable[[dict], Any], str]] = {
    "lookup": (
        add("items", col("b", "float", {"lookup": {"from": "users.base"}})),
        "nodes[2].columns[4].generator.lookup.from: " + reads("users.base", "items"),
    ),
    "self-lookup": (
        add("users", col("prev", "float", {"lookup": {"from": "users.base"}})),
        "nodes[1].columns[7].generator.lookup.from: " + reads("users.base", "users"),
    ),
    "lookup-on-key": (
        add("items", col("u", "float", {"lookup": {"from": "users.total", "on": {"user_id": "hk"}}})),
        "nodes[2].columns[4].generator.lookup.on: " + reads("users.hk", "items"),
    ),
    "choices_ref": (
        add("buyers", col("c", "float", {"choice": {"choices_ref": "prices.p"}})),
        "nodes[4].columns[1].generator.choice.choices_ref: " + reads("prices.p", "buyers"),
    ),
    "column-enum_ref": (
        lambda s: column(s, "buyers", "q").update(constraints={"enum_ref": "prices.p"}),
        "nodes[4].columns[0].constraints.enum_ref: " + reads("prices.p", "buyers"),
    ),
    "effect-map": (
        set_effect(window=WINDOW, map={"field": "hlift"}),
        "nodes[1].columns[6].modifiers[0].args.map.field: " + reads("promo.hlift", "users"),
    ),
    "effect-on": (
        set_effect(on={"id": "hid"}),
        "nodes[1].columns[6].modifiers[0].args.on: " + reads("promo.hid", "users"),
    ),
    "effect-window": (
        set_effect(window={"start_col": "hstart", "end_col": "we"}),
        "nodes[1].columns[6].modifiers[0].args.window.start_col: " + reads("promo.hstart", "users"),
    ),
    "table-effect-on": (
        lambda s: node(s, "items").update(modifiers=[effect(on={"hk": "pid"})]),
        "nodes[2].modifiers[0].args.on: " + reads("users.hk", "items"),
    ),
    "table-effect-time": (
        lambda s: node(s, "items").update(modifiers=[effect(window=WINDOW)]),
        "nodes[2].modifiers[0].args: the effect matches on users.at, the parent's first datetime or date "
        "column, which is hidden (never written), so table 'items' cannot read it; drop \"hidden\" or put a "
        "written datetime or date column first.",
    ),
    "unique": (constrain("unique", "users.base"), "constraints.unique[0]: " + checked("users.base")),
    "fk-from": (
        constrain("foreign_keys", {"from": "items.sk", "to": "promo.pid"}),
        "constraints.foreign_keys[0].from: " + checked("items.sk"),
    ),
    "fk-to": (
        constrain("foreign_keys", {"from": "items.user_id", "to": "users.hk"}),
        "constraints.foreign_keys[0].to: " + checked("users.hk"),
    ),
    "range": (
        constrain("ranges", {"attr": "users.base", "min": 0}),
        "constraints.ranges[0].attr: " + checked("users.base"),
    ),
    "pattern": (
        constrain("pattern", {"attr": "users.hk", "regex": "[0-9]+"}),
        "constraints.pattern[0].attr: " + checked("users.hk"),
    ),
    "enum": (
        constrain("enum", {"attr": "items.sk", "values": [1, 2]}),
        "constraints.enum[0].attr: " + checked("items.sk"),
    ),
    "enum-ref": (
        constrain("enum", {"attr": "items.user_id", "enum_ref": "users.hk"}),
        "constraints.enum[0].enum_ref: " + checked("users.hk"),
    ),
    "column-constraints": (
        lambda s: column(s, "users", "hk").update(constraints={"pattern": "[0-9]+"}),
        "nodes[1].columns[4].constraints: users.hk is hidden (never written), so its constraints cannot "
        'be checked; drop "hidden" or the constraints.',
    ),
    "mean_in_range": (
        target("mean_in_range", {"table": "users", "column": "base", "min": 0, "max": 10}),
        "targets.mean_in_range.column: " + checked("users.base"),
    ),
    "weekend_share": (
        target("weekend_share", {"table": "users", "timestamp": "at"}),
        "targets.weekend_share.timestamp: " + checked("users.at"),
    ),
    "composite-metric": (
        target(
            "composite_effect",
            {
                "table": "users",
                "metric": "base",
                "influences": [{"kind": "seasonality", "dimension": "dow", "weights": [1] * 7}],
            },
        ),
        "targets.composite_effect.metric: " + checked("users.base"),
    ),
    "composite-influence": (
        target(
            "composite_effect",
            {
                "table": "users",
                "metric": "volume",
                "influences": [
                    {"kind": "seasonality", "dimension": "dow", "weights": [1] * 7, "column": "at"}
                ],
            },
        ),
        "targets.composite_effect.influences[0].column: " + checked("users.at"),
    ),
    "pk": (
        lambda s: s["nodes"].append(
            {
                "id": "solo",
                "kind": "entity",
                "pk": "k",
                "columns": [
                    col("k", "int", {"sequence": {}}, hidden=True),
                    col("v", "int", {"sequence": {}}),
                ],
            }
        ),
        "nodes[5].columns[0].hidden: 'k' is the table's pk, and a pk is always written; "
        'drop "hidden" or make another column the pk.',
    ),
    "all-hidden": (
        lambda s: s["nodes"].append(
            {"id": "ghost", "kind": "entity", "columns": [col("g", "int", {"sequence": {}}, hidden=True)]}
        ),
        "nodes[5].columns: every column of 'ghost' is hidden, so its file would have none; "
        'drop "hidden" from one.',
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_reading_a_hidden_column_elsewhere_is_a_schema_error(dg, case):
    change, expected = ERRORS[case]
    schema = copy.deepcopy(BASE)
    change(schema)
    work = dg.workdir()
    path = dg.write_schema(schema, work)
    before = sorted(p.name for p in work.iterdir())
    result = dg.cli("build", path, "-o", work / "out")
    assert result.exit_code == 2, result.stderr
    assert result.errors == [expected]
    assert not (work / "out").exists()
    assert sorted(p.name for p in work.iterdir()) == before
    emitted = dg.cli("emit-sql", path)
    assert emitted.exit_code == 2 and emitted.errors == result.errors
    # the twin (nothing hidden) is accepted, so each error is about hidden alone
    assert dg.cli("check", dg.write_schema(twin(schema))).exit_code == 0
