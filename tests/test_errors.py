"""Bad schemas and bad files: exit 2 through the CLI, one `error: path: what. fix.` line per problem, no
traceback, nothing written (no output folder, no temporary folder)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

BASE: dict[str, Any] = {
    "version": "1.0",
    "metadata": {"name": "shop"},
    "nodes": [
        {
            "id": "users",
            "kind": "entity",
            "pk": "id",
            "rows": 10,
            "columns": [
                {"name": "id", "type": "int", "generator": {"sequence": {"start": 1}}},
                {"name": "plan", "type": "string",
                 "generator": {"choice": {"choices": ["free", "pro", "team"], "weights": [5, 3, 2]}}},
            ],
        },
        {
            "id": "events",
            "kind": "fact",
            "parents": ["users"],
            "fanout": {"distribution": "uniform", "min": 0, "max": 3},
            "columns": [
                {"name": "user_id", "type": "int", "generator": {"lookup": {"from": "users.id"}}},
                {"name": "amount", "type": "float", "generator": {"expression": {"code": "user_id * 2"}}},
            ],
        },
    ],
}  # fmt: skip


def users_col(i: int) -> Callable[[dict], dict]:
    return lambda s: s["nodes"][0]["columns"][i]


def edit(fn: Callable[[dict], Any]) -> dict:
    """A copy of BASE changed by ``fn``."""
    schema = copy.deepcopy(BASE)
    fn(schema)
    return schema


def add_users_col(column: dict) -> Callable[[dict], Any]:
    return lambda s: s["nodes"][0]["columns"].append(column)


def set_expression(code: str) -> Callable[[dict], Any]:
    return lambda s: s["nodes"][1]["columns"][1]["generator"]["expression"].update(code=code)


def rename_key(obj_of: Callable[[dict], dict], old: str, new: str) -> Callable[[dict], Any]:
    def fn(s: dict) -> None:
        obj = obj_of(s)
        obj[new] = obj.pop(old)

    return fn


def check_rejected(dg, schema: dict | None = None, *, path=None) -> list[str]:
    """Build ``schema`` (or the file ``path``) and emit its SQL; both must exit 2 cleanly and write nothing.

    Returns the error lines."""
    work = dg.workdir()
    if path is None:
        path = dg.write_schema(schema, work)
    before = sorted(p.name for p in work.iterdir())
    out = work / "out"
    result = dg.cli("build", path, "-o", out)
    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert result.errors, result.stderr
    assert not out.exists()
    assert sorted(p.name for p in work.iterdir()) == before  # no .dgsql-tmp-* left behind
    emitted = dg.cli("emit-sql", path)
    assert emitted.exit_code == 2, emitted.stderr
    assert emitted.stdout == ""
    assert "Traceback" not in emitted.stderr
    assert emitted.errors == result.errors
    return result.errors


def test_base_schema_is_valid(dg):
    out = dg.build(BASE)
    assert out.table("users").num_rows == 10


# ------------------------------------------------------------------ unknown keys, with the near miss

UNKNOWN_KEYS = {
    "choice-weights": (
        rename_key(lambda s: s["nodes"][0]["columns"][1]["generator"]["choice"], "weights", "wieghts"),
        "nodes[0].columns[1].generator.choice.wieghts: unknown key; did you mean 'weights'?",
    ),
    "column-nullable": (
        lambda s: users_col(0)(s).update(nulable=True),
        "nodes[0].columns[0].nulable: unknown key; did you mean 'nullable'?",
    ),
    "node-parents": (
        rename_key(lambda s: s["nodes"][1], "parents", "parent"),
        "nodes[1].parent: unknown key; did you mean 'parents'?",
    ),
    "fanout-lambda": (
        lambda s: s["nodes"][1].update(fanout={"distribution": "poisson", "lamda": 2, "lambda": 2}),
        "nodes[1].fanout.lamda: unknown key; did you mean 'lambda'?",
    ),
    "modifier-args": (
        lambda s: users_col(0)(s).update(modifiers=[{"transform": "add", "args": {"value": 1, "valeu": 2}}]),
        "nodes[0].columns[0].modifiers[0].args.valeu: unknown key; did you mean 'value'?",
    ),
    "lookup-from": (
        lambda s: s["nodes"][1]["columns"][0]["generator"]["lookup"].update(form="users.id"),
        "nodes[1].columns[0].generator.lookup.form: unknown key; did you mean 'from'?",
    ),
    "no-near-miss": (
        lambda s: s["nodes"][0].update(colour="blue"),
        "nodes[0].colour: unknown key; remove it (the keys here: id, kind, pk, rows, parents, fanout, "
        "columns, modifiers, stage_config, segment_behavior, vintage_behavior, comment).",
    ),
    # suggestions come from the keys valid at that place: `table` exists only inside targets
    "top-level-tables": (
        lambda s: s.update(tables=[]),
        "tables: unknown key; remove it (the keys here: version, metadata, timeframe, nodes, constraints, "
        "targets, dag, $schema).",
    ),
}


def test_unknown_key_inside_a_target_suggests_the_target_keys(dg):
    lines = check_rejected(
        dg, edit(lambda s: s.update(targets={"mean_in_range": {"tabel": "users", "column": "id"}}))
    )
    assert "targets.mean_in_range.tabel: unknown key; did you mean 'table'?" in lines


@pytest.mark.parametrize("case", list(UNKNOWN_KEYS))
def test_unknown_key_names_its_path_and_the_near_miss(dg, case):
    fn, line = UNKNOWN_KEYS[case]
    assert check_rejected(dg, edit(fn)) == [line]


def test_unknown_top_level_key(dg):
    errors = check_rejected(dg, edit(lambda s: s.update(metdata={"name": "x"})))
    assert errors == ["metdata: unknown key; did you mean 'metadata'?"]


@pytest.mark.parametrize(
    ("fn", "line"),
    [
        (lambda s: s.pop("version"), "version: required key is missing; add it."),
        (lambda s: s["nodes"][0].pop("kind"), "nodes[0].kind: required key is missing; add it."),
        (lambda s: users_col(0)(s).update(modifiers=[{"transform": "multiply", "args": {}}]),
         "nodes[0].columns[0].modifiers[0].args.factor: required key is missing; add it."),
    ],
    ids=["version", "node-kind", "modifier-factor"],
)  # fmt: skip
def test_missing_key_names_the_key(dg, fn, line):
    assert line in check_rejected(dg, edit(fn))


def test_unknown_generator_kind_suggests_the_near_miss(dg):
    errors = check_rejected(dg, edit(lambda s: users_col(0)(s).update(generator={"sequense": {"start": 1}})))
    assert len(errors) == 1
    assert errors[0].startswith("nodes[0].columns[0].generator")
    assert "did you mean 'sequence'?" in errors[0]


def test_unknown_generator_kind_lists_the_generators(dg):
    errors = check_rejected(dg, edit(lambda s: users_col(0)(s).update(generator={"bogus": {"start": 1}})))
    assert len(errors) == 1
    assert errors[0].startswith("nodes[0].columns[0].generator: ")
    assert "sequence, choice, distribution" in errors[0]


def test_unknown_transform_suggests_the_near_miss(dg):
    mods = [{"transform": "multipy", "args": {"factor": 2}}]
    errors = check_rejected(dg, edit(lambda s: users_col(0)(s).update(modifiers=mods)))
    assert errors == [
        "nodes[0].columns[0].modifiers[0].transform: unknown transform 'multipy'; did you mean 'multiply'?"
    ]


# ------------------------------------------------------------------ values


def test_weights_and_choices_length_mismatch(dg):
    errors = check_rejected(
        dg, edit(lambda s: s["nodes"][0]["columns"][1]["generator"]["choice"].update(weights=[1, 2]))
    )
    assert len(errors) == 1
    assert errors[0].startswith("nodes[0].columns[1].generator.choice")
    assert "3 choices but 2 weights" in errors[0]


@pytest.mark.parametrize(
    ("fn", "path", "words"),
    [
        (lambda s: s.update(version="2.0"), "version", "'2.0'"),
        (lambda s: s["nodes"][0].update(kind="entitty"), "nodes[0].kind", "'entitty'"),
        (lambda s: users_col(0)(s).update(type="integer"), "nodes[0].columns[0].type", "'integer'"),
        (add_users_col({"name": "d", "type": "float", "generator": {"distribution": {
            "type": "normal", "params": {"mean": 1}}}}), "nodes[0].columns[2].generator.distribution", "std"),
        (add_users_col({"name": "t", "type": "datetime", "generator": {"datetime_series": {
            "within": {"start": "2024-01-01", "end": "2024-02-01"}, "freq": "H",
            "pattern": {"dimension": "hour", "weights": [1, 2]}}}}),
         "nodes[0].columns[2].generator.datetime_series.pattern", "24"),
        (add_users_col({"name": "t", "type": "datetime", "generator": {"datetime_series": {
            "within": {"start": "2024-01-01", "end": "2024-02-01"}, "freq": "5X"}}}),
         "nodes[0].columns[2].generator.datetime_series.freq", "'5X'"),
        (add_users_col({"name": "t", "type": "datetime", "generator": {"datetime_series": {"within": "timeframe"}}}),
         "nodes[0].columns[2].generator.datetime_series.within", "timeframe"),
        (lambda s: s["nodes"][0]["columns"][1]["generator"]["choice"].update(weights=None, weights_kind="zipf"),
         "nodes[0].columns[1].generator.choice", "'zipf'"),
        (lambda s: s["nodes"][1].update(fanout={"distribution": "poisson", "max": 3}), "nodes[1].fanout", "lambda"),
        (lambda s: users_col(0)(s).update(null_rate=0.2), "nodes[0].columns[0]", "nullable"),
        (add_users_col({"name": "__dg_row", "type": "int", "generator": {"sequence": {}}}),
         "nodes[0].columns[2].name", "reserved"),
        (add_users_col({"name": "id", "type": "int", "generator": {"sequence": {}}}),
         "nodes[0].columns[2].name", "twice"),
        (lambda s: s.update(dag=[["events"], ["users"]]), "dag", "'users'"),
    ],
    ids=["version", "kind", "type", "params", "pattern-length", "freq", "no-timeframe", "weights-kind",
         "fanout-lambda", "null-rate", "reserved-name", "duplicate-column", "dag-order"],
)  # fmt: skip
def test_bad_values(dg, fn, path, words):
    errors = check_rejected(dg, edit(fn))
    assert len(errors) == 1, errors
    assert errors[0].startswith(path + ": "), errors[0]
    assert words in errors[0]


# ------------------------------------------------------------------ references

REFERENCES = {
    "lookup-table": (
        lambda s: s["nodes"][1]["columns"][0]["generator"]["lookup"].update({"from": "usres.id"}),
        "nodes[1].columns[0].generator.lookup.from: table 'usres' does not exist; did you mean 'users'?",
    ),
    "lookup-column": (
        lambda s: s["nodes"][1]["columns"][0]["generator"]["lookup"].update({"from": "users.idd"}),
        "nodes[1].columns[0].generator.lookup.from: table 'users' has no column 'idd'; did you mean 'id'?",
    ),
    "parent": (
        lambda s: s["nodes"][1].update(parents=["user"]),
        "nodes[1].parents[0]: table 'user' does not exist; did you mean 'users'?",
    ),
    "choices-ref": (
        add_users_col(
            {"name": "p", "type": "string", "generator": {"choice": {"choices_ref": "users.plann"}}}
        ),
        "nodes[0].columns[2].generator.choice.choices_ref: table 'users' has no column 'plann'; did you mean 'plan'?",
    ),
}


@pytest.mark.parametrize("case", list(REFERENCES))
def test_unknown_reference(dg, case):
    fn, line = REFERENCES[case]
    assert check_rejected(dg, edit(fn)) == [line]


def test_on_lookup_with_an_unknown_key(dg):
    column = {
        "name": "p",
        "type": "string",
        "generator": {"lookup": {"from": "users.plan", "on": {"uid": "key"}}},
    }
    errors = check_rejected(dg, edit(lambda s: s["nodes"][1]["columns"].append(column)))
    assert all(e.startswith("nodes[1].columns[2].generator.lookup.on: ") for e in errors)
    assert any("'uid'" in e for e in errors) and any("'key'" in e for e in errors)


def test_every_reference_problem_is_reported_at_once(dg):
    def fn(s):
        s["nodes"][1]["columns"][0]["generator"]["lookup"]["from"] = "users.idd"
        s["nodes"][1]["parents"] = ["user"]

    errors = check_rejected(dg, edit(fn))
    assert sorted(errors) == sorted([
        "nodes[1].parents[0]: table 'user' does not exist; did you mean 'users'?",
        "nodes[1].columns[0].generator.lookup.from: table 'users' has no column 'idd'; did you mean 'id'?",
    ])  # fmt: skip


def test_every_validation_problem_is_reported_at_once(dg):
    def fn(s):
        s["nodes"][0]["columns"][1]["generator"]["choice"]["wieghts"] = [1, 2, 3]
        s["nodes"][1]["columns"][0]["nulable"] = True
        s["nodes"][1]["kind"] = "facts"

    errors = check_rejected(dg, edit(fn))
    assert "nodes[0].columns[1].generator.choice.wieghts: unknown key; did you mean 'weights'?" in errors
    assert "nodes[1].columns[0].nulable: unknown key; did you mean 'nullable'?" in errors
    assert any(e.startswith("nodes[1].kind: ") for e in errors)


# ------------------------------------------------------------------ cycles


def test_table_cycle_prints_the_cycle(dg):
    c = dg.col
    schema = dg.schema(
        dg.entity("a", c("x", "int", dg.seq()), c("y", "int", {"lookup": {"from": "b.x"}})),
        dg.entity("b", c("x", "int", dg.seq()), c("y", "int", {"lookup": {"from": "a.x"}})),
    )
    errors = check_rejected(dg, schema)
    assert len(errors) == 1
    assert errors[0].startswith("nodes: ")
    assert "a -> b -> a" in errors[0]


def test_longer_table_cycle_is_a_real_cycle(dg):
    c = dg.col
    schema = dg.schema(
        dg.entity("a", c("x", "int", dg.seq())),
        dg.fact("b", ["a"], c("x", "int", {"lookup": {"from": "c.x"}})),
        dg.entity("c", c("x", "int", {"choice": {"choices_ref": "d.x"}})),
        dg.entity("d", c("x", "int", {"lookup": {"from": "b.x"}})),
    )
    (error,) = check_rejected(dg, schema)
    cycle = error.split("cycle: ")[1].split(";")[0].split(" -> ")
    assert cycle[0] == cycle[-1] and sorted(cycle[:-1]) == ["b", "c", "d"]
    reads = {"b": "c", "c": "d", "d": "b"}  # table -> the table it reads
    forward = all(reads[u] == v for u, v in zip(cycle, cycle[1:], strict=False))
    backward = all(reads[v] == u for u, v in zip(cycle, cycle[1:], strict=False))
    assert forward or backward


def test_self_reference_is_not_a_cycle(dg):
    c = dg.col
    schema = dg.schema(dg.entity("e", c("id", "int", dg.seq()), c("boss", "int", {"lookup": {"from": "e.id"}},
                                                                       nullable=True), rows=5))  # fmt: skip
    assert dg.build(schema).column("e", "boss")[0] is None


def test_column_cycle(dg):
    def fn(s):
        set_expression("later + 1")(s)
        s["nodes"][1]["columns"].append({"name": "later", "type": "float",
                                         "generator": {"expression": {"code": "amount * 2"}}})  # fmt: skip

    errors = check_rejected(dg, edit(fn))
    assert len(errors) == 1
    assert errors[0].startswith("nodes[1].columns")
    assert "amount -> later -> amount" in errors[0] or "later -> amount -> later" in errors[0]


def test_column_looking_up_itself(dg):
    column = {"name": "me", "type": "int", "generator": {"lookup": {"from": "users.me"}}}
    errors = check_rejected(dg, edit(add_users_col(column)))
    assert len(errors) == 1 and errors[0].startswith("nodes[0].columns[2].generator.lookup.from: ")


# ------------------------------------------------------------------ expressions


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("(SELECT 1)", "not allowed"),
        ("user_id; DROP TABLE users", ";"),
        ("foo(user_id)", "'foo'"),
        ("user_id + zz", "'zz'"),
        ("random()", "not allowed"),
        ("CASE WHEN user_id > 1 THEN 1 ELSE 0 END", "not allowed"),
        ("users.id + 1", "users.id"),
        ("user_id +* 2", "parse"),
        ("'a' || 'b'", "not allowed"),
    ],
    ids=["subquery", "semicolon", "unknown-function", "unknown-column", "random", "case", "qualified",
         "unparsable", "string-concat"],
)  # fmt: skip
def test_bad_expression_quotes_the_expression(dg, code, words):
    errors = check_rejected(dg, edit(set_expression(code)))
    assert len(errors) == 1, errors
    assert errors[0].startswith("nodes[1].columns[1].generator.expression: ")
    assert repr(code) in errors[0]
    assert words in errors[0]


def test_expression_over_a_string_column_is_a_schema_error(dg):
    errors = check_rejected(dg, edit(add_users_col({"name": "x", "type": "float",
                                                    "generator": {"expression": {"code": "plan * 2"}}})))  # fmt: skip
    assert len(errors) == 1
    assert errors[0].startswith("nodes[0].columns[2].generator.expression: ")
    assert "'plan * 2'" in errors[0]


def test_numeric_modifier_on_a_string_column_is_a_schema_error(dg):
    mods = [{"transform": "multiply", "args": {"factor": 2}}]
    errors = check_rejected(dg, edit(lambda s: users_col(1)(s).update(modifiers=mods)))
    assert len(errors) == 1
    assert errors[0].startswith("nodes[0].columns[1].modifiers[0]")


# ------------------------------------------------------------------ files


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'{"version": "1.0",', "not valid JSON"),
        (b"", "empty"),
        (b"  \n\t", "empty"),
        (b"[1, 2]", "list"),
        (b'"a string"', "str"),
        (b"\xff\xfe{}", "UTF-8"),
    ],
    ids=["not-json", "empty", "blank", "array", "string", "not-utf8"],
)
def test_bad_files(dg, content, words):
    path = dg.workdir() / "schema.json"
    path.write_bytes(content)
    errors = check_rejected(dg, path=path)
    assert len(errors) == 1
    assert words in errors[0]


def test_missing_file(dg):
    path = dg.workdir() / "nope.json"
    (error,) = check_rejected(dg, path=path)
    assert "nope.json" in error and "no such file" in error


def test_folder_instead_of_a_file(dg):
    path = dg.workdir() / "schema.json"
    path.mkdir()
    (error,) = check_rejected(dg, path=path)
    assert "schema.json" in error and "folder" in error


# ------------------------------------------------------- types that cannot meet, caught before SQL runs


def events_col(i: int) -> Callable[[dict], dict]:
    return lambda s: s["nodes"][1]["columns"][i]


def test_lookup_of_a_string_into_an_int_column(dg):
    schema = edit(lambda s: events_col(0)(s).update(generator={"lookup": {"from": "users.plan"}}))
    assert check_rejected(dg, schema) == [
        "nodes[1].columns[0].generator.lookup.from: users.plan is a string, which does not convert to "
        "this int column; match the types."
    ]


def test_join_keys_of_different_types(dg):
    col = {
        "name": "tier",
        "type": "string",
        "generator": {"lookup": {"from": "users.plan", "on": {"amount": "plan"}}},
    }
    errors = check_rejected(dg, edit(lambda s: s["nodes"][1]["columns"].append(col)))
    assert errors == [
        "nodes[1].columns[2].generator.lookup.on: events.amount (float) cannot be matched with users.plan "
        "(string); join columns of the same type."
    ]


def test_effect_field_must_be_a_number(dg):
    effect = {"transform": "effect", "args": {"effect_table": "users", "on": {}, "map": {"field": "plan"}}}
    errors = check_rejected(dg, edit(lambda s: events_col(1)(s).update(modifiers=[effect])))
    assert errors == [
        "nodes[1].columns[1].modifiers[0].args.map.field: users.plan is a string; name a column of type int or float."
    ]


def test_map_values_to_a_value_of_another_type(dg):
    mod = {"transform": "map_values", "args": {"mapping": {"3": "three"}}}
    errors = check_rejected(dg, edit(lambda s: events_col(1)(s).update(modifiers=[mod])))
    assert errors == [
        "nodes[1].columns[1].modifiers[0].args.mapping.3: 'three' is not a float; map to float values."
    ]
