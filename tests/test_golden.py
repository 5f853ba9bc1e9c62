"""Golden SQL: ``tests/golden/<case>/schema.json`` → ``expected.sql`` (``dgsql emit-sql --seed 42 --out-dir out``).

Refresh with ``pytest tests/test_golden.py --update-golden`` and review the diff like code. The dgsql and
DuckDB versions in the header are masked when comparing, so upgrades alone do not fail these tests.
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from dgsql.dsl import model as S

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "schema.json").exists())


def emitted(dg, case: str) -> str:
    return dg.emit_sql(GOLDEN / case / "schema.json", "--seed", "42", "--out-dir", "out")


@pytest.mark.parametrize("case", CASES)
def test_emitted_sql_matches_golden(dg, case, update_golden, mask_versions):
    sql = emitted(dg, case)
    expected = GOLDEN / case / "expected.sql"
    if update_golden:
        expected.write_text(sql)
    assert expected.exists(), f"{expected} is missing; run pytest --update-golden"
    got, want = mask_versions(sql), mask_versions(expected.read_text())
    if got != want:
        diff = difflib.unified_diff(
            want.splitlines(), got.splitlines(), "expected.sql", "emitted", lineterm="", n=2
        )
        pytest.fail(f"{case}: emitted SQL differs from {expected}; review, then pytest --update-golden\n"
                    + "\n".join(list(diff)[:80]))  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_golden_sql_runs_in_duckdb_to_the_build_output(dg, case, tmp_path, monkeypatch):
    """The reviewed script itself, run by DuckDB, writes what ``dgsql build`` writes."""
    monkeypatch.chdir(tmp_path)
    con = duckdb.connect()
    con.execute((GOLDEN / case / "expected.sql").read_text())
    con.close()
    built = dg.build(GOLDEN / case / "schema.json", "--seed", "42")
    nodes = [n["id"] for n in json.loads((GOLDEN / case / "schema.json").read_text())["nodes"]]
    assert sorted(p.stem for p in (tmp_path / "out").glob("*.parquet")) == sorted(nodes)
    for node in nodes:
        got = pq.read_table(tmp_path / "out" / f"{node}.parquet")
        assert got.num_rows > 0, node
        assert got.equals(built.table(node)), node


def test_golden_cases_cover_every_generator_but_faker():
    kinds, weights, distributions, fanouts = set(), set(), set(), set()
    for case in CASES:
        ds = S.Dataset.model_validate_json((GOLDEN / case / "schema.json").read_text())
        for node in ds.nodes:
            if node.fanout:
                fanouts.add(node.fanout.distribution)
            for col in node.columns:
                kind, spec = S.generator_kind(col.generator), S.generator_spec(col.generator)
                kinds.add(kind)
                if kind == "choice":
                    weights.add("choices_ref" if spec.choices_ref else "choices")
                    weights.add("weights" if spec.weights else (spec.weights_kind or "default").split("@")[0])
                if kind == "distribution":
                    distributions.add(spec.type)
    assert 2 <= len(CASES) <= 3
    assert kinds == set(S.GENERATOR_MODELS) - {"faker"}
    assert weights >= {"choices", "choices_ref", "weights", "uniform", "zipf", "head_tail"}
    assert distributions == {"normal", "lognormal", "uniform", "poisson"}
    assert fanouts == {"poisson", "uniform"}


def test_a_script_creates_only_the_macros_it_calls():
    render = __import__("dgsql.compiler.render", fromlist=["macros"])
    every = render.macros()
    names = set(render.MACRO_NAME.findall(every))
    assert {"dg_uniform", "dg_normal", "dg_fk_uuid4", "dg_fk_hex"} <= names
    picked = render.macros(used_by="SELECT dg_fk_uuid4(dg_fk_hex(hash(1)), dg_fk_hex(hash(2)))")
    created = set(re.findall(r"CREATE OR REPLACE MACRO (dg_\w+)", picked))
    assert created == {"dg_fk_uuid4", "dg_fk_hex"}
    assert picked.startswith("-- Faker values composed in SQL")  # the file's heading comes along
    assert "-- dg_fk_hex(h):" in picked  # and each macro's own comment
    defined: list[str] = []
    for block in render.MACRO_BLOCK.finditer(every):  # a macro calls only macros defined before it
        body = block.group(0).split("CREATE OR REPLACE MACRO", 1)[1].split(" AS", 1)[1]
        assert set(render.MACRO_NAME.findall(body)) <= set(defined), f"{block.group(2)} calls a later macro"
        defined.append(block.group(2))
    above = render.macros(used_by="SELECT dg_normal_above(1.5, 0.5)")  # brings the macros it calls
    assert re.findall(r"CREATE OR REPLACE MACRO (dg_\w+)", above) == [
        "dg_erfcc",
        "dg_normal_upper",
        "dg_acklam_tail",
        "dg_acklam_central",
        "dg_normal_quantile",
        "dg_normal_above",
    ]
    random = render.macros(used_by="SELECT dg_normal(dg_uniform(1, 2), 0.5)")
    assert set(re.findall(r"CREATE OR REPLACE MACRO (dg_\w+)", random)) == {"dg_normal", "dg_uniform"}
