"""Parts (docs/parts.md): the concatenation of parts 0..N-1 of every table is, row for row and
type for type, the single build's table; a part owns only its own files."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from typer.testing import CliRunner

from dgsql.cli import app
from dgsql.compiler import Compression, plan_schema, render
from dgsql.compiler.parts import Parts, stage_count
from dgsql.runtime import session
from dgsql.runtime.build import build
from dgsql.runtime.parts import build_parts, divided
from schema_grammar import schemas

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = sorted(
    [
        *ROOT.glob("examples/*.json"),
        *ROOT.glob("tests/datagen_compat/*.json"),
        *ROOT.glob("bench/schemas/*.json"),
        *ROOT.glob("tests/golden/*/schema.json"),
        *ROOT.glob("tests/parts/*.json"),
    ]
)
EVERY = ROOT / "tests/parts/every_construct.json"
CODEC = Compression.snappy


def same_tables(planned: Any, single: Path, parts: Path) -> list[str]:
    """Tables whose parts, read in order, differ from the single build (rows, order or types)."""
    con = duckdb.connect()
    differ = []
    for table in planned.plan.tables:
        if not table.node.written:
            continue
        one = f"read_parquet('{single}/{table.name}.parquet')"
        many = f"read_parquet('{parts}/{table.name}/part-*.parquet')"
        if (
            con.sql(f"DESCRIBE SELECT * FROM {one}").fetchall()
            != con.sql(f"DESCRIBE SELECT * FROM {many}").fetchall()
            or con.sql(f"SELECT * FROM {one}").fetchall() != con.sql(f"SELECT * FROM {many}").fetchall()
        ):
            differ.append(table.name)
    return differ


def assert_parts_equal_single(source: Any, tmp: Path, count: int, sample: int | None, jobs: int = 2) -> None:
    planned = plan_schema(source, seed=7, sample=sample)
    tmp.mkdir(parents=True, exist_ok=True)
    build(planned, tmp / "single", compression=CODEC)
    build_parts(planned, tmp / "parts", parts=count, jobs=jobs, compression=CODEC)
    assert same_tables(planned, tmp / "single", tmp / "parts") == []
    meta = json.loads((tmp / "parts" / ".metadata.json").read_text())
    assert meta["parts"] == {"count": count, "stages": stage_count(planned.plan)}
    for name, table in meta["tables"].items():
        assert [p["file"] for p in table["parts"]] == [f"{name}/part-{i:05d}.parquet" for i in range(count)]
        assert sum(p["rows"] for p in table["parts"]) == table["rows"]


@pytest.mark.parametrize("schema", BUNDLED, ids=lambda p: str(p.relative_to(ROOT)))
def test_seven_parts_concatenate_to_the_single_build(schema: Path, tmp_path: Path) -> None:
    assert_parts_equal_single(schema, tmp_path, 7, sample=400)


def test_every_construct_at_odd_part_counts(tmp_path: Path) -> None:
    """Self-references of a non-sequence column (entity and fact), a fact of a fact, random and
    ``on`` lookups, a random pick in a fact, an inequality, empty parts (5 parents, 7 parts)."""
    for count in (1, 3, 7, 11):
        assert_parts_equal_single(EVERY, tmp_path / str(count), count, sample=None)


def test_large_tables_split_their_rows_alike(tmp_path: Path) -> None:
    """Row sources of every kind (a range, two padded row groups, a table of row numbers) and a
    fanout split in runs give the same rows in parts."""
    schema = {
        "version": "1.0",
        "metadata": {"name": "large"},
        "nodes": [
            {"id": "p", "kind": "entity", "rows": 800_000, "columns": [
                {"name": "id", "type": "int", "generator": {"sequence": {"start": 1}}},
                {"name": "x", "type": "float", "generator": {"distribution": {"type": "uniform", "params": {"low": 0, "high": 1}}}},
            ]},
            {"id": "few", "kind": "entity", "rows": 3000, "columns": [
                {"name": "id", "type": "int", "generator": {"sequence": {"start": 1}}},
            ]},
            {"id": "many", "kind": "fact", "parents": ["few"], "fanout": {"distribution": "poisson", "lambda": 120, "min": 0}, "columns": [
                {"name": "few_id", "type": "int", "generator": {"lookup": {"from": "few.id"}}},
                {"name": "y", "type": "float", "generator": {"distribution": {"type": "normal", "params": {"mean": 0, "std": 1}}}},
            ]},
        ],
    }  # fmt: skip
    planned = plan_schema(schema, seed=3)
    assert {t.name: t.row_source for t in planned.plan.tables}["p"] == "table"
    assert {t.name: t.chunk for t in planned.plan.tables}["many"] is not None
    build(planned, tmp_path / "single", compression=CODEC)
    for count in (3, 5, 7):  # parts of 266k (a table), 160k (split) and 114k rows (a range)
        build_parts(planned, tmp_path / str(count), parts=count, jobs=2, compression=CODEC)
        assert same_tables(planned, tmp_path / "single", tmp_path / str(count)) == []


@settings(
    max_examples=int(os.environ.get("DGSQL_PARTS_EXAMPLES", "12")),
    deadline=None,
    derandomize="DGSQL_GRAMMAR_RANDOM" not in os.environ,
    database=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=list(HealthCheck),
)
@given(drawn=schemas())
def test_generated_schemas_concatenate_to_the_single_build(drawn: tuple[dict[str, Any], Any]) -> None:
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"dgsql-parts-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        assert_parts_equal_single(drawn[0], work, 7, sample=None, jobs=1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ------------------------------------------------------------------ the command line

runner = CliRunner()


def cli(*args: Any) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stderr


def test_a_lone_part_owns_its_files(tmp_path: Path) -> None:
    schema = ROOT / "bench/schemas/deep_chain.json"  # one stage: a lone part needs nobody
    out = tmp_path / "out"
    code, err = cli("build", schema, "-o", out, "--sample", 50, "--parts", 4, "--part", 2)
    assert code == 0, err
    planned = plan_schema(schema, seed=42, sample=50)
    names = {t.name for t in planned.plan.tables}
    assert {p.name for p in out.iterdir()} == names | {".metadata.part-2.json"}
    assert all([f.name for f in (out / n).iterdir()] == ["part-00002.parquet"] for n in names)
    # another part's file is never replaced nor deleted by part 2
    foreign = out / "region" / "part-00000.parquet"
    foreign.write_bytes(b"not ours")
    code, err = cli("build", schema, "-o", out, "--sample", 50, "--parts", 4, "--part", 2)
    assert code == 0, err
    assert foreign.read_bytes() == b"not ours"
    meta = json.loads((out / ".metadata.part-2.json").read_text())
    assert meta["parts"] == {"count": 4, "index": 2, "stage": None}
    assert meta["tables"]["region"]["file"] == "region/part-00002.parquet"


def test_lone_parts_stage_by_stage_equal_the_single_build(tmp_path: Path) -> None:
    """A two-stage schema built one part at a time with --stage, then validated from the folders."""
    schema = ROOT / "examples/shop_orders.json"
    planned = plan_schema(schema, seed=42, sample=300)
    assert stage_count(planned.plan) == 2
    out = tmp_path / "out"
    code, err = cli("build", schema, "-o", out, "--sample", 300, "--parts", 3, "--part", 1, "--stage", 1)
    assert code == 2 and [line for line in err.splitlines() if "error" in line] == [err.splitlines()[-1]]
    assert "missing; stage 1 reads table 'orders' of stage 0" in err and not out.exists()
    for stage in (0, 1):
        for i in range(3):
            code, err = cli(
                "build", schema, "-o", out, "--sample", 300, "--parts", 3, "--part", i, "--stage", stage
            )
            assert code == 0, err
    build(planned, tmp_path / "single", compression=CODEC)
    assert same_tables(planned, tmp_path / "single", out) == []
    code, err = cli("validate", schema, "-d", out)
    assert code == 0, err


def test_lone_parts_each_in_its_own_folder_equal_the_single_build(tmp_path: Path) -> None:
    """Without --stage and without the other parts beside it, a lone part of a two-stage schema
    computes the earlier stage's other parts itself (in a scratch folder it removes) and writes
    only its own files: three machines with nothing shared give the single build."""
    schema = ROOT / "examples/shop_orders.json"
    planned = plan_schema(schema, seed=42, sample=300)
    assert stage_count(planned.plan) == 2
    for i in range(3):
        code, err = cli("build", schema, "-o", tmp_path / f"m{i}", "--sample", 300, "--parts", 3, "--part", i)
        assert code == 0, err
        assert "this part computes them itself" in err
        own = {f.name for t in planned.plan.tables for f in (tmp_path / f"m{i}" / t.name).iterdir()}
        assert own == {f"part-{i:05d}.parquet"}, "only its own files"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m0", "m1", "m2"], "no scratch folder left"
    merged = tmp_path / "merged"
    for i in range(3):
        shutil.copytree(tmp_path / f"m{i}", merged, dirs_exist_ok=True)
    build(planned, tmp_path / "single", compression=CODEC)
    assert same_tables(planned, tmp_path / "single", merged) == []


def test_emitted_part_scripts_write_the_parts(tmp_path: Path) -> None:
    """``emit-sql --parts N --part I`` run by the stock DuckDB client, part after part, writes
    what ``build --parts N`` writes."""
    schema = ROOT / "tests/golden/org/schema.json"
    planned = plan_schema(schema, seed=42)
    out = tmp_path / "emitted"
    for i in range(3):
        code = runner.invoke(
            app, ["emit-sql", str(schema), "-o", str(out), "--parts", "3", "--part", str(i), "--stage", "0"]
        )
        assert code.exit_code == 0, code.stderr
        con = duckdb.connect()
        con.execute(code.stdout)
        con.close()
    for stage in range(1, stage_count(planned.plan)):
        for i in range(3):
            script = render(planned, out.as_posix(), CODEC, parts=Parts(3, i, stage)).script.text
            con = duckdb.connect()
            con.execute(script)
            con.close()
    build(planned, tmp_path / "single", compression=CODEC)
    assert same_tables(planned, tmp_path / "single", out) == []


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--parts", 3, "--format", "duckdb"], "--parts: a database file has one writer"),
        (["--part", 1], "--part: give --parts N too"),
        (["--parts", 3, "--part", 3], "--part 3: parts are numbered 0 to 2"),
        (["--parts", 3, "--part", 0, "--stage", 5], "--stage 5: this schema has stages 0 to 1"),
        (["--parts", 3, "--format", "csv"], "--format csv: with --parts, later stages read"),
    ],
)
def test_part_options_are_checked(tmp_path: Path, args: list[Any], says: str) -> None:
    code, err = cli("build", ROOT / "examples/shop_orders.json", "-o", tmp_path / "o", "--sample", 20, *args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--parts", 3], "--parts: a script writes one part; give --part I too"),
        (["--parts", 3, "--part", 0, "--stage", 9], "--stage 9: this schema has stages 0 to 1"),
        (["--parts", 3, "--part", 0, "--into-db"], "--parts: a database file has one writer"),
    ],
)
def test_emit_sql_part_options_are_checked(args: list[Any], says: str) -> None:
    code, err = cli("emit-sql", ROOT / "examples/shop_orders.json", *args)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0]


def test_a_single_stage_schema_writes_csv_parts(tmp_path: Path) -> None:
    code, err = cli("build", ROOT / "bench/schemas/deep_chain.json", "-o", tmp_path / "o", "--sample", 30,
                    "--parts", 3, "--format", "csv")  # fmt: skip
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "o" / "region").iterdir()) == [
        f"part-0000{i}.csv" for i in range(3)
    ]
    code, err = cli("validate", ROOT / "bench/schemas/deep_chain.json", "-d", tmp_path / "o")
    assert code == 0, err


def test_all_parts_replace_a_previous_output(tmp_path: Path) -> None:
    """A build of every part replaces the files a previous build listed (a single build's, or
    more parts than now) and leaves other files alone."""
    schema = ROOT / "bench/schemas/deep_chain.json"
    out = tmp_path / "o"
    assert cli("build", schema, "-o", out, "--sample", 30)[0] == 0
    (out / "notes.txt").write_text("mine")
    assert cli("build", schema, "-o", out, "--sample", 30, "--parts", 5, "--jobs", 2)[0] == 0
    assert not (out / "region.parquet").exists() and (out / "notes.txt").read_text() == "mine"
    assert cli("build", schema, "-o", out, "--sample", 30, "--parts", 2)[0] == 0
    assert sorted(p.name for p in (out / "region").iterdir()) == ["part-00000.parquet", "part-00001.parquet"]
    code, err = cli("validate", schema, "-d", out)
    assert code == 0, err


def test_jobs_share_the_threads_and_memory() -> None:
    each = divided(session.Settings(threads=8, memory_limit="6GB"), 2)
    assert each.threads == 4 and each.memory_limit == f"{3 * 10**9 // 2**20}MiB"
    assert divided(session.Settings(threads=1), 4).threads == 1


def test_duckdb_cli_runs_a_part_script(tmp_path: Path) -> None:
    """The stock DuckDB CLI runs a part's script unchanged (as it does the single build's)."""
    cli_path = shutil.which("duckdb")
    if cli_path is None:
        pytest.skip("the duckdb CLI (PyPI duckdb-cli, in the test extra) is not installed")
    schema = ROOT / "bench/schemas/deep_chain.json"
    planned = plan_schema(schema, seed=42, sample=40)
    for i in range(2):
        script = render(planned, "out", CODEC, parts=Parts(2, i)).script.text
        subprocess.run([cli_path, "-c", script], cwd=tmp_path, check=True, capture_output=True)
    build(planned, tmp_path / "single", compression=CODEC)
    assert same_tables(planned, tmp_path / "single", tmp_path / "out") == []


def test_segment_and_vintage_behaviours_in_parts(dg: Any, tmp_path: Path) -> None:
    """A fanout scaled by the parent's segment and vintage (a barrier: the counts read the
    parent's values), values scaled, children after the parent's created_at."""
    spec = importlib.util.spec_from_file_location(
        "segments_vintage", ROOT / "tests/datagen_compat/test_segments_vintage.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    doc = module.schema(dg, segment=module.SEGMENT, vintage=module.VINTAGE, rows=700)
    assert_parts_equal_single(doc, tmp_path, 7, sample=None)


def test_the_python_api_builds_parts_as_the_command_does(tmp_path: Path) -> None:
    import dgsql

    schema = ROOT / "examples/shop_orders.json"
    planned = plan_schema(schema, seed=42, sample=300)
    dgsql.build(schema, tmp_path / "single", scale=planned.plan.scale, compression="snappy")
    done = dgsql.build(schema, tmp_path / "all", scale=planned.plan.scale, compression="snappy", parts=3, jobs=2,
                       run_checks=True)  # fmt: skip
    assert done.report is not None and done.report.passed_gate(80)
    assert same_tables(planned, tmp_path / "single", tmp_path / "all") == []
    for i in range(3):
        dgsql.build(
            schema, tmp_path / "lone", scale=planned.plan.scale, compression="snappy", parts=3, part=i
        )
    assert same_tables(planned, tmp_path / "single", tmp_path / "lone") == []
    with pytest.raises(dgsql.DgsqlError, match="checks need every part"):
        dgsql.build(schema, tmp_path / "x", parts=3, part=0, run_checks=True)
    with pytest.raises(dgsql.DgsqlError, match="give --parts N too"):
        dgsql.build(schema, tmp_path / "x", part=0)
