"""Schemas in YAML (the same problems as JSON, naming lines), the DSL's JSON Schema (`dgsql schema`)
validating every bundled schema, and the small CLI fixes: a closed pipe, flags in --help, --version."""

from __future__ import annotations

import importlib.metadata
import json
import platform
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

import dgsql
from dgsql.compiler import yaml_source

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = sorted(
    [
        *ROOT.glob("examples/*.json"),
        *ROOT.glob("tests/datagen_compat/*.json"),
        *ROOT.glob("tests/acceptance/*.json"),
    ]
)
SRC = ROOT / "src"

SHOP = """\
version: "1.0"
metadata:
  name: shop
timeframe:
  start: 2025-01-01            # unquoted: stays a string, as in JSON
  end: 2025-01-31 23:00:00
  freq: H
nodes:
  - id: users
    kind: entity
    pk: id
    rows: 20
    columns:
      - name: id
        type: int
        generator: {sequence: {start: 1}}
      - name: plan
        type: string
        generator:
          choice:
            choices: [free, pro, team]
            weights: [5, 3, 2]
      - name: signed_up
        type: datetime
        generator: {datetime_series: {}}
  - id: events
    kind: fact
    parents: [users]
    fanout: {distribution: uniform, min: 0, max: 3}
    columns:
      - name: user_id
        type: int
        generator: {lookup: {from: users.id}}
"""


def as_data(text: str) -> dict:
    """The object a YAML text stands for, as dgsql reads it."""
    return yaml_source.load(text)[0]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


# ------------------------------------------------------------------ YAML


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_the_same_schema_in_yaml_and_json_gives_identical_sql(dg, suffix):
    work = dg.workdir()
    as_yaml = write(work, f"shop{suffix}", SHOP)
    as_json = write(work, "shop.json", json.dumps(as_data(SHOP)))
    sql_yaml, sql_json = dg.cli("emit-sql", as_yaml), dg.cli("emit-sql", as_json)
    assert sql_yaml.exit_code == sql_json.exit_code == 0, sql_yaml.stderr
    assert sql_yaml.stdout == sql_json.stdout


def test_yaml_schema_builds(dg):
    path = write(dg.workdir(), "shop.yaml", SHOP)
    out = dg.build(path)
    assert out.result.exit_code == 0, out.result.stderr
    assert out.table("users").num_rows == 20
    assert str(out.column("users", "signed_up")[0]).startswith("2025-01")


def test_yaml_syntax_error_names_line_and_column(dg):
    path = write(dg.workdir(), "bad.yaml", 'version: "1.0"\nmetadata:\n  name: x\n nodes: [\n')
    result = dg.cli("check", path)
    assert result.exit_code == 2
    assert result.errors == [
        "$: not valid YAML (expected <block end>, but found '<block mapping start>' at line 4 column 2); "
        "fix the syntax."
    ]
    assert "Traceback" not in result.stderr


YAML_PROBLEMS = {
    "unknown-key": (
        ("weights: [5, 3, 2]", "wieghts: [5, 3, 2]"),
        "nodes[0].columns[1].generator.choice.wieghts (line 22): unknown key; did you mean 'weights'?",
    ),
    "wrong-value": (
        ("rows: 20", "rows: -1"),
        "nodes[0].rows (line 12): input should be greater than or equal to 0 (got -1); fix the value.",
    ),
    # a missing key has no line of its own: the line of the object that lacks it
    "missing-key": (
        ("  name: shop\n", "  description: d\n"),
        "metadata.name (line 2): required key is missing; add it.",
    ),
    # problems found after the models (references) name lines too
    "dangling-reference": (
        ("from: users.id", "from: users.nope"),
        "nodes[1].columns[0].generator.lookup.from (line 33)",
    ),
}


@pytest.mark.parametrize("case", YAML_PROBLEMS, ids=list(YAML_PROBLEMS))
def test_yaml_problems_name_the_json_path_and_line(dg, case):
    (old, new), expected = YAML_PROBLEMS[case]
    assert old in SHOP
    work = dg.workdir()
    result = dg.cli("check", write(work, "shop.yaml", SHOP.replace(old, new)))
    assert result.exit_code == 2, result.stderr
    assert any(line.startswith(expected) for line in result.errors), result.errors
    # the JSON file gets the same problem, without the line
    as_json = write(work, "shop.json", json.dumps(as_data(SHOP.replace(old, new))))
    json_errors = dg.cli("check", as_json).errors
    assert [e.replace(" (line ", "\0").split("\0")[0] for e in result.errors] == [
        e.split(": ")[0] for e in json_errors
    ]


def test_an_unquoted_version_is_a_number_to_quote(dg):
    result = dg.cli("check", write(dg.workdir(), "v.yaml", SHOP.replace('version: "1.0"', "version: 1.0")))
    assert result.errors == ["version (line 1): 1.0 is a number; write it as the string '1.0' (in quotes)."]


@pytest.mark.parametrize("text", ["", "- 1\n- 2\n", "just text\n", "null\n"])
def test_yaml_that_is_not_an_object_is_one_problem(dg, text):
    result = dg.cli("check", write(dg.workdir(), "odd.yaml", text))
    assert result.exit_code == 2
    assert len(result.errors) == 1 and result.errors[0].startswith("$: "), result.errors


# ------------------------------------------------------------------ JSON Schema


@pytest.fixture(scope="module")
def json_schema(dg) -> dict:
    result = dg.cli("schema")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_json_schema_is_draft_2020_12_with_descriptions(json_schema):
    assert json_schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(json_schema)
    assert json_schema["description"].startswith("A Datagen DSL v1 schema")
    props = json_schema["$defs"]["Node"]["properties"]
    assert props["rows"]["description"]
    assert "$schema" in json_schema["properties"]


def test_every_key_has_a_description(json_schema):
    objects = [("Dataset", json_schema), *json_schema["$defs"].items()]
    missing = [
        f"{name}.{key}"
        for name, obj in objects
        for key, prop in obj.get("properties", {}).items()
        if not prop.get("description")
    ]
    assert missing == []


@pytest.mark.parametrize("path", BUNDLED, ids=[p.name for p in BUNDLED])
def test_every_bundled_schema_is_valid_against_the_json_schema(json_schema, path):
    validator = jsonschema.Draft202012Validator(json_schema)
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(json.loads(path.read_text()))]
    assert errors == []


def test_json_schema_rejects_an_unknown_key(json_schema):
    schema = json.loads((ROOT / "examples/hr_org.json").read_text())
    schema["nodes"][0]["rowz"] = 1
    assert not jsonschema.Draft202012Validator(json_schema).is_valid(schema)


def test_a_schema_may_name_its_json_schema(dg):
    schema = as_data(SHOP)
    plain = dg.emit_sql(schema)
    assert dg.emit_sql({"$schema": "./dgsql.schema.json", **schema}) == plain


# ------------------------------------------------------------------ CLI fixes


def test_a_closed_pipe_ends_quietly(tmp_path):
    """`dgsql emit-sql s.json | head`: no internal error, the status of a closed pipe (128 + SIGPIPE)."""
    path = write(tmp_path, "shop.yaml", SHOP)
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dgsql.cli", "emit-sql", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    proc.stdout.close()  # the reader is gone before the script is written
    assert proc.wait(timeout=120) == 141
    assert proc.stderr.read() == b""


@pytest.mark.parametrize("command", ["build", "check", "emit-sql", "validate"])
def test_help_shows_flags_without_a_type(dg, command):
    result = dg.cli(command, "--help")
    assert result.exit_code == 0
    assert "<bool>" not in result.stdout
    assert "--strict" in result.stdout


def test_version_names_dgsql_duckdb_and_python(dg):
    result = dg.cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == (
        f"dgsql {dgsql.__version__} (DuckDB {importlib.metadata.version('duckdb')}, "
        f"Python {platform.python_version()})"
    )
