"""The one front end: every schema problem before any SQL, the same in check, build and emit-sql;
each kind behind one protocol; no import circles. Regression tests for the bugs of issue 13."""

from __future__ import annotations

import ast
import json
import subprocess
from pathlib import Path

import networkx as nx
import pytest

from dgsql.compiler.generators import GENERATORS
from dgsql.compiler.modifiers import MODIFIERS
from dgsql.dsl import model as S

SRC = Path(__file__).resolve().parents[1] / "src" / "dgsql"


def _problems(dg, command: str, path: Path, *args: str) -> tuple[int, list[str]]:
    work = dg.workdir()
    extra = ["-o", str(work / "out")] if command == "build" else []
    result = dg.cli(command, path, *extra, *args)
    assert "Traceback" not in result.stderr
    if command == "build" and result.exit_code == 2:
        assert not (work / "out").exists()
    lines = [line for line in result.stderr.splitlines() if line.startswith(("error:", "warning:"))]
    return result.exit_code, lines


def same_everywhere(dg, schema: dict, *args: str) -> tuple[int, list[str]]:
    """check, build and emit-sql exit alike and print the same problems; returns them."""
    path = dg.write_schema(schema)
    found = {command: _problems(dg, command, path, *args) for command in ("check", "build", "emit-sql")}
    assert found["check"] == found["build"] == found["emit-sql"], found
    return found["check"]


def users(dg, *columns: dict, **extra) -> dict:
    return dg.entity("users", dg.col("id", "int", dg.seq()), *columns, rows=50, pk="id", **extra)


INVALID = {
    "faker-typo": lambda dg: dg.schema(users(dg, dg.col("n", "string", {"faker": {"method": "fullname"}}))),
    "faker-argument": lambda dg: dg.schema(
        users(dg, dg.col("n", "string", {"faker": {"method": "name", "colour": "red"}}))
    ),
    "on-lookup-into-own-table": lambda dg: dg.schema(
        users(dg, dg.col("x", "int", {"lookup": {"from": "users.id", "on": {"this_key": "id"}}}))
    ),
    "type-mismatch": lambda dg: dg.schema(users(dg, dg.col("t", "datetime", dg.seq()))),
    "case-twins": lambda dg: dg.schema(users(dg, dg.col("ID", "int", dg.seq()))),
    "unique-too-narrow": lambda dg: dg.schema(
        users(dg, dg.col("c", "string", {"choice": {"choices": ["a", "b"]}})),
        constraints={"unique": ["users.c"]},
    ),
    "column-pattern-does-not-compile": lambda dg: dg.schema(
        users(dg, dg.col("s", "string", {"choice": {"choices": ["a"]}}, constraints={"pattern": "a(b"}))
    ),
    "expression-unknown-column": lambda dg: dg.schema(
        users(dg, dg.col("e", "float", {"expression": {"code": "nope * 2"}}))
    ),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_check_build_and_emit_sql_report_the_same_problems(dg, case):
    code, lines = same_everywhere(dg, INVALID[case](dg))
    assert code == 2
    assert any(line.startswith("error: nodes[0]") or line.startswith("error: constraints") for line in lines)


def test_every_error_of_every_table_at_once(dg):
    schema = dg.schema(
        users(dg, dg.col("n", "string", {"faker": {"method": "fullname"}})),
        dg.entity("b", dg.col("t", "datetime", dg.seq()), rows=5),
    )
    code, lines = same_everywhere(dg, schema)
    assert code == 2
    assert any("nodes[0].columns[1]" in line for line in lines)
    assert any("nodes[1].columns[0].type" in line for line in lines)


def test_warnings_are_printed_everywhere_and_strict_makes_them_errors(dg):
    normal = {"distribution": {"type": "normal", "params": {"mean": 0, "std": 1}}}
    schema = dg.schema(users(dg, dg.col("x", "float", normal)))
    code, lines = same_everywhere(dg, schema)
    warning = "nodes[0].columns[1].generator.distribution: no clamp; extreme draws are possible. Add clamp: [min, max]."
    assert code == 0 and lines == [f"warning: {warning}"]
    code, lines = same_everywhere(dg, schema, "--strict")
    assert code == 2 and lines == [f"error: {warning}"]


def test_uniform_and_poisson_need_no_clamp(dg):
    uniform = {"distribution": {"type": "uniform", "params": {"low": 1, "high": 9}}}
    poisson = {"distribution": {"type": "poisson", "params": {"lambda": 3}}}
    code, lines = same_everywhere(
        dg, dg.schema(users(dg, dg.col("u", "float", uniform), dg.col("p", "int", poisson)))
    )
    assert (code, lines) == (0, [])


def _products(dg) -> dict:
    raw = {"distribution": {"type": "uniform", "params": {"low": 1, "high": 10}}}
    return dg.entity(
        "p",
        dg.col("id", "int", dg.seq()),
        dg.col("raw", "float", raw),
        dg.col("price", "float", {"expression": {"code": "round(raw, 2)"}}),
        rows=100,
        pk="id",
    )


def test_a_lookup_of_an_expression_column_reads_the_picked_row(dg):
    """Issue 13: an ``on`` lookup (and a random-row lookup) of an expression over a distribution
    died with ``Binder Error: Referenced table "__dg_l0" not found!``."""
    orders = dg.entity(
        "o",
        dg.col("pid", "int", {"lookup": {"from": "p.id"}}),
        dg.col("price", "float", {"lookup": {"from": "p.price", "on": {"pid": "id"}}}),
        dg.col("any_price", "float", {"lookup": {"from": "p.price"}}),
        rows=300,
    )
    out = dg.build(dg.schema(_products(dg), orders))
    con = out.con
    mismatched = con.execute(
        "SELECT count(*) FROM o JOIN p ON o.pid = p.id WHERE o.price IS DISTINCT FROM p.price"
    ).fetchone()[0]
    assert mismatched == 0
    prices = {row[0] for row in con.execute("SELECT price FROM p").fetchall()}
    assert {row[0] for row in con.execute("SELECT any_price FROM o").fetchall()} <= prices


def test_tables_with_dotted_ids_are_checked(dg, tmp_path):
    """Issue 13: the checks split ``hr.emp.id`` at the first dot and left them 'not evaluated'."""
    emp = dg.entity("hr.emp", dg.col("id", "int", dg.seq()), rows=40, pk="id")
    pay = dg.entity("hr.pay", dg.col("emp", "int", {"lookup": {"from": "hr.emp.id"}}), rows=60)
    schema = dg.schema(emp, pay, constraints={"foreign_keys": [{"from": "hr.pay.emp", "to": "hr.emp.id"}]})
    out = dg.build(schema, "--validate")
    report = tmp_path / "report.json"
    result = dg.cli("validate", dg.write_schema(schema), "-d", out.path, "--report", report)
    assert result.exit_code == 0, result.stderr

    checks = json.loads(report.read_text())["checks"]
    keyed = {c["id"]: c["status"] for c in checks if c["kind"] in ("primary_key", "foreign_key", "row_count")}
    assert len(keyed) >= 4 and set(keyed.values()) == {"PASSED"}, keyed


def test_a_logarithmic_trend_before_the_timeframe_runs_in_the_duckdb_cli(dg, tmp_path):
    """A time more than 1/b years before the timeframe start made ``ln`` of a negative number:
    NaN in Python, an error in the DuckDB CLI. The value is left as it is there."""
    span = {"start": "2020-01-01T00:00:00Z", "end": "2020-12-31T00:00:00Z"}
    schema = dg.schema(
        users(
            dg,
            dg.col("ts", "datetime", {"datetime_series": {"within": span, "freq": "D"}}),
            dg.col(
                "v",
                "float",
                {"distribution": {"type": "uniform", "params": {"low": 1, "high": 2}}},
                modifiers=[
                    {
                        "transform": "trend",
                        "args": {"type": "logarithmic", "growth_rate": 0.1, "params": {"a": 0.5, "b": 1.0}},
                    }
                ],
            ),
        ),
        timeframe={"start": "2024-01-01T00:00:00Z", "end": "2024-12-31T00:00:00Z", "freq": "D"},
    )
    out = dg.build(schema)
    assert out.one("SELECT count(*) FROM users WHERE isnan(v) OR v IS NULL") == 0
    (tmp_path / "s.sql").write_text(dg.emit_sql(schema, "--out-dir", "cli"))
    run = subprocess.run(["duckdb", "-c", ".read s.sql"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_every_dsl_kind_has_one_class():
    assert set(GENERATORS) == set(S.GENERATOR_MODELS)
    assert set(MODIFIERS) == set(S.MODIFIER_MODELS)
    for key, kind in {**GENERATORS, **MODIFIERS}.items():
        assert kind.key == key


def _imports() -> nx.DiGraph:
    graph = nx.DiGraph()
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        graph.add_node(module)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dgsql"):
                for alias in node.names:
                    target = f"{node.module}.{alias.name}"
                    graph.add_edge(
                        module,
                        target
                        if (SRC.parent / target.replace(".", "/")).with_suffix(".py").exists()
                        else node.module,
                    )
            elif isinstance(node, ast.Import):
                graph.add_edges_from((module, a.name) for a in node.names if a.name.startswith("dgsql"))
    return graph


def test_no_module_imports_itself_through_others():
    graph = _imports()
    # a package's __init__ importing its own modules is how registries are built, not a circle
    graph.remove_edges_from([(a, b) for a, b in graph.edges if b.startswith(a + ".")])
    cycles = list(nx.simple_cycles(graph))
    assert cycles == [], " ; ".join(" -> ".join(c + [c[0]]) for c in cycles[:5])


def test_a_modified_lookup_of_a_key_is_not_checked_as_a_foreign_key(dg):
    """Found by the long grammar run: a lookup of another table's pk with an ``add`` modifier was
    taken for a foreign key by validate, whose check then failed on every row."""
    a = dg.entity("a", dg.col("id", "int", dg.seq(667, -1)), rows=20, pk="id")
    b = dg.entity(
        "b",
        dg.col("id", "int", dg.seq()),
        dg.col(
            "lk",
            "int",
            {"lookup": {"from": "a.id"}},
            modifiers=[{"transform": "add", "args": {"value": 1000}}],
        ),
        rows=20,
        pk="id",
    )
    schema = dg.schema(a, b)
    out = dg.build(schema)
    assert out.one("SELECT count(*) FROM b WHERE lk NOT IN (SELECT id + 1000 FROM a)") == 0
    result = dg.cli("validate", dg.write_schema(schema), "-d", out.path)
    assert result.exit_code == 0, result.stderr


def test_no_nullable_warning_where_nulls_come_from_the_generator_or_a_modifier(dg):
    """A lookup (no match) and a map_values to null give NULLs without a null_rate."""
    to_null = [{"transform": "map_values", "args": {"mapping": {"x": None}}}]
    schema = dg.schema(
        users(
            dg,
            dg.col("a", "string", {"choice": {"choices": ["x", "y"]}}, nullable=True, modifiers=to_null),
            dg.col("b", "string", {"choice": {"choices": ["x", "y"]}}, nullable=True),
            dg.col("c", "int", {"lookup": {"from": "users.id"}}, nullable=True),
        )
    )
    code, lines = same_everywhere(dg, schema)
    assert code == 0
    assert lines == [
        "warning: nodes[0].columns[2]: nullable without null_rate, so it holds no NULLs; add null_rate."
    ]
