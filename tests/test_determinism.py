"""Determinism: same seed → same rows in the same order, across runs, thread counts and the stock DuckDB
CLI; another seed → other data; the random streams of different columns are independent; DuckDB's hash
is pinned by golden values."""

from __future__ import annotations

import re
import shutil
import subprocess

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dgsql.compiler.render import macros

HOURS = [1, 1, 1, 1, 1, 2, 3, 5, 8, 9, 9, 8, 8, 9, 9, 8, 7, 7, 6, 5, 4, 3, 2, 1]
DOW = [1.0, 1.0, 1.0, 1.05, 1.1, 1.4, 1.3]
PARTIAL_DAYS = {"start": "2024-01-01T00:00:00", "end": "2024-03-31T10:00:00"}
"The last day is cut short: a weighted grid table (buckets, or ASOF for very uneven weights) picks."


def mixed_schema(dg) -> dict:
    """Every non-faker generator and every join shape (pools, ASOF grids, on-lookups, self-references) at
    ~200k fact rows, enough for a multi-threaded plan to reorder rows if it can."""
    c = dg.col
    return dg.schema(
        dg.vocab("tier", c("name", "string", {"enum_list": {"values": ["free", "basic", "pro", "team"]}})),
        dg.entity(
            "users",
            c("user_id", "int", dg.seq()),
            c("code", "string", dg.seq(7000, 3)),
            c("country", "string", {"choice": {"choices": ["US", "DE", "GB", "CZ"], "weights": [5, 2, 2, 1]}}),
            c("tier", "string", {"choice": {"choices_ref": "tier.name", "weights_kind": "zipf@1.2"}}),
            c("age", "int", {"distribution": {"type": "normal", "params": {"mean": 36, "std": 11},
                                              "clamp": [18, 90]}}),
            c("signed_up", "datetime", {"datetime_series": {"within": "timeframe", "freq": "H",
                                                            "pattern": {"dimension": "hour", "weights": HOURS}}}),
            c("manager_code", "string", {"lookup": {"from": "users.code"}}, nullable=True),
            c("mentor_id", "int", {"lookup": {"from": "users.user_id"}}, nullable=True, null_rate=0.1),
            rows=20_000,
        ),
        dg.entity(
            "products",
            c("product_id", "int", dg.seq(10, 10)),
            c("price", "float", {"distribution": {"type": "lognormal", "params": {"mean": 2, "sigma": 0.7}}}),
            rows=500,
        ),
        dg.fact(
            "events",
            ["users", "products"],
            c("event_id", "int", dg.seq()),
            c("user_id", "int", {"lookup": {"from": "users.user_id"}}),
            c("user_code", "string", {"lookup": {"from": "users.code"}}),
            c("product_id", "int", {"lookup": {"from": "products.product_id"}}),
            c("unit_price", "float", {"lookup": {"from": "products.price", "on": {"this_key": "product_id"}}}),
            c("qty", "int", {"distribution": {"type": "poisson", "params": {"lambda": 2}, "clamp": [1, 20]}}),
            c("total", "float", {"expression": {"code": "round(unit_price * qty, 2)"}}),
            c("ts", "datetime", {"datetime_series": {"within": "timeframe", "freq": "15min",
                                                     "pattern": {"dimension": "hour", "weights": HOURS}}},
              modifiers=[{"transform": "seasonality", "args": {"dimension": "dow", "weights": DOW}}]),
            c("ts_grid", "datetime", {"datetime_series": {"within": PARTIAL_DAYS, "freq": "H", "pattern":
                                                          {"dimension": "hour", "weights": HOURS}}}),
            c("ts_asof", "datetime", {"datetime_series": {"within": PARTIAL_DAYS, "freq": "H", "pattern":
                                                          {"dimension": "hour", "weights": [1e-9] + HOURS[1:]}}}),
            c("kind", "string", {"choice": {"choices": ["view", "click", "buy"], "weights_kind": "head_tail@{0.6,1.1}"}}),
            c("u", "float", {"distribution": {"type": "uniform", "params": {"low": 0, "high": 1}}},
              nullable=True, null_rate=0.05),
            # time arithmetic, a hidden column and truncated draws (inequalities below): a weighted
            # 15-minute calendar, a weighted grid picked by joins, an unweighted grid, a normal
            c("delay_h", "float", {"distribution": {"type": "lognormal", "params": {"mean": 1, "sigma": 1}}},
              hidden=True),
            c("shipped", "datetime", {"expression": {"code": "ts + hours(delay_h)"}}),
            c("arrived", "datetime", {"datetime_series": {"within": "timeframe", "freq": "15min", "pattern":
                                                          {"dimension": "hour", "weights": HOURS[:22] + [0, 0]}}}),
            c("arrived_grid", "datetime", {"datetime_series": {"within": PARTIAL_DAYS, "freq": "H", "pattern":
                                                               {"dimension": "hour", "weights": HOURS}}}),
            c("closed", "datetime", {"datetime_series": {"within": "timeframe", "freq": "H"}}),
            c("u_after", "float", {"distribution": {"type": "normal", "params": {"mean": 0.5, "std": 0.3}}}),
            fanout={"distribution": "poisson", "lambda": 10, "min": 0, "max": 40},
        ),
        dg.fact(
            "refunds",
            ["users"],
            c("event_id", "int", {"choice": {"choices_ref": "events.event_id", "weights_kind": "zipf@1.05"}}),
            c("user_id", "int", {"lookup": {"from": "users.user_id"}}),
            fanout={"distribution": "uniform", "min": 0, "max": 2},
        ),
        timeframe={"start": "2024-01-01T00:00:00Z", "end": "2024-03-31T23:59:59Z", "freq": "H"},
        name="mixed",
        constraints={"inequalities": [
            {"left": "events.ts", "op": "<=", "right": "events.shipped"},
            {"left": "events.shipped", "op": "<", "right": "events.arrived"},
            {"left": "events.ts_grid", "op": "<", "right": "events.arrived_grid"},
            {"left": "events.arrived", "op": "<=", "right": "events.closed"},
            {"left": "events.u", "op": "<", "right": "events.u_after"},
        ]},
    )  # fmt: skip


@pytest.fixture(scope="module")
def mixed(dg):
    return dg.write_schema(mixed_schema(dg))


@pytest.fixture(scope="module")
def reference(dg, mixed):
    return dg.build(mixed)


def assert_same_tables(ta: dict[str, pa.Table], tb: dict[str, pa.Table]) -> None:
    assert set(ta) == set(tb) == {"tier", "users", "products", "events", "refunds"}
    for name in ta:
        assert ta[name].schema.equals(tb[name].schema), name
        assert ta[name].num_rows == tb[name].num_rows, name
        assert ta[name].equals(tb[name]), f"{name}: same rows, different content or order"


def test_reference_build_is_big_enough(reference):
    assert reference.table("events").num_rows > 150_000
    assert reference.table("refunds").num_rows > 10_000


def test_same_seed_gives_identical_files(dg, mixed, reference):
    assert_same_tables(reference.tables(), dg.build(mixed).tables())


def test_explicit_default_seed_is_42(dg, mixed, reference):
    assert_same_tables(reference.tables(), dg.build(mixed, "--seed", "42").tables())


def test_one_thread_gives_identical_files(dg, mixed, reference):
    assert_same_tables(reference.tables(), dg.build(mixed, "--threads", "1").tables())


def test_many_threads_give_identical_files(dg, mixed, reference):
    assert_same_tables(reference.tables(), dg.build(mixed, "--threads", "8").tables())


def test_another_seed_gives_other_data(dg, mixed, reference):
    other = dg.build(mixed, "--seed", "43")
    for table, column in [("users", "country"), ("users", "age"), ("events", "ts"), ("events", "u"),
                          ("products", "price"), ("users", "manager_code")]:  # fmt: skip
        a, b = reference.column(table, column), other.column(table, column)
        same = sum(x == y for x, y in zip(a, b, strict=False)) / len(a)
        assert same < 0.8, f"{table}.{column}: {same:.0%} of rows unchanged by the seed"
    assert reference.column("products", "price")[:100] != other.column("products", "price")[:100]
    assert other.column("users", "user_id") == reference.column("users", "user_id")  # sequences do not move
    assert other.table("events").num_rows != reference.table("events").num_rows  # the fanout is random too


def test_duckdb_cli_runs_the_emitted_script_to_identical_files(dg, mixed, reference, tmp_path):
    duckdb_cli = shutil.which("duckdb")
    assert duckdb_cli, "the duckdb CLI is not on PATH; pip install duckdb-cli (in the test extra)"
    script = dg.emit_sql(mixed, "--seed", "42", "--out-dir", "out")
    work = tmp_path / "cli"
    work.mkdir()
    (work / "build.sql").write_text(script)
    done = subprocess.run([duckdb_cli, "-c", ".read build.sql"], cwd=work, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # it writes exactly the tables' files, nothing else
    written = sorted(p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file())
    expected = ["build.sql"] + [
        f"out/{t}.parquet" for t in ("events", "products", "refunds", "tier", "users")
    ]
    assert written == expected
    cli_tables = {p.stem: pq.read_table(p) for p in (work / "out").glob("*.parquet")}
    assert_same_tables(reference.tables(), cli_tables)


# ------------------------------------------------------------------- independence of random streams

ROWS = 200_000
CHI2_99 = 170.80
"""Chi-square critical value, 99 degrees of freedom, p = 1e-5 (10 x 10 cells against a flat expectation);
a correlated pair of streams scores in the thousands."""


@pytest.fixture(scope="module")
def streams(dg):
    c = dg.col

    def uniform(name):
        return c(name, "float", {"distribution": {"type": "uniform", "params": {"low": 0, "high": 1}}})

    def normal(name):
        return c(name, "float", {"distribution": {"type": "normal", "params": {"mean": 0, "std": 1}}})

    return dg.build(
        dg.schema(
            dg.entity("a", c("i", "int", dg.seq(0)), uniform("u1"), uniform("u2"), normal("n1"), normal("n2"),
                      rows=ROWS),
            dg.entity("b", uniform("u1"), rows=ROWS),
        )
    )  # fmt: skip


def chi_square(out, pairs: str) -> float:
    """Chi-square of the 10 x 10 grid of (x, y) counts of the query ``pairs`` against a flat expectation."""
    cells = dict(out.sql(f"SELECT floor(x * 10) * 10 + floor(y * 10), count(*) FROM ({pairs}) GROUP BY ALL"))
    total = sum(cells.values())
    assert total >= ROWS - 1
    expected = total / 100
    return sum((cells.get(float(k), 0) - expected) ** 2 / expected for k in range(100))


@pytest.mark.parametrize(
    "pairs",
    [
        "SELECT u1 AS x, u2 AS y FROM a",  # two columns of one table
        "SELECT a.u1 AS x, b.u1 AS y FROM a POSITIONAL JOIN b",  # the same column in two tables
        "SELECT * FROM (SELECT u1 AS x, lead(u1) OVER (ORDER BY i) AS y FROM a) WHERE y IS NOT NULL",  # next row
    ],
    ids=["two-columns", "two-tables", "next-row"],
)
def test_uniform_streams_are_independent(streams, pairs):
    # 200k rows: |r| < 0.01 (about 4.5 standard errors), chi-square below its p = 1e-5 critical value
    assert streams.one(f"SELECT count(*) FROM ({pairs})") >= ROWS - 1
    r = streams.one(f"SELECT corr(x, y) FROM ({pairs})")
    assert abs(r) < 0.01
    assert chi_square(streams, pairs) < CHI2_99


def test_normal_streams_are_independent(streams):
    r, r_squares = streams.sql("SELECT corr(n1, n2), corr(n1 * n1, n2 * n2) FROM a")[0]
    assert abs(r) < 0.01
    assert abs(r_squares) < 0.01  # Box-Muller sharing a radius between columns would show here
    r_self = streams.one("SELECT corr(n1, u1) FROM a")
    assert abs(r_self) < 0.01


def test_each_uniform_stream_is_flat(streams):
    bins = [k for (k,) in streams.sql("SELECT count(*) FROM a GROUP BY floor(u1 * 100) ORDER BY ALL")]
    assert len(bins) == 100
    chi2 = sum((k - ROWS / 100) ** 2 / (ROWS / 100) for k in bins)
    assert chi2 < CHI2_99


# ------------------------------------------------------------------- golden values

HASH_OF_1 = 4717996019076358352
HASH_OF_12345 = 15094371078363997769
UNIFORM_0_12345 = 0.8182674957732305
"dg_uniform(0, 12345) = ((hash(12345) >> 11) + 0.5) / 2^53."
UNIFORM_1000000007_5 = 0.7413058263116317


def test_duckdb_hash_is_pinned():
    assert duckdb.connect().execute("SELECT hash(1::BIGINT)").fetchone()[0] == HASH_OF_1
    assert duckdb.connect().execute("SELECT hash(12345::BIGINT)").fetchone()[0] == HASH_OF_12345


def test_duckdb_cli_hash_is_pinned():
    duckdb_cli = shutil.which("duckdb")
    assert duckdb_cli, "the duckdb CLI is not on PATH; pip install duckdb-cli (in the test extra)"
    done = subprocess.run(
        [duckdb_cli, "-noheader", "-csv", "-c", "SELECT hash(1::BIGINT), hash(12345::BIGINT)"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{HASH_OF_1},{HASH_OF_12345}"


def test_dg_uniform_is_pinned():
    con = duckdb.connect()
    con.execute(macros())
    got = con.execute("SELECT dg_uniform(0, 12345), dg_uniform(1000000007, 5)").fetchone()
    assert got == (UNIFORM_0_12345, UNIFORM_1000000007_5)
    assert UNIFORM_0_12345 == ((HASH_OF_12345 >> 11) + 0.5) / 2**53


def test_fact_row_index_is_bigint_and_draws_as_the_hugeint_running_sum_did(dg):
    """Up to 0.2.0 a fact's row index was the HUGEINT running sum; it is a BIGINT since 0.2.1
    (cheaper draws). The rows did not change because DuckDB hashes a non-negative HUGEINT that
    fits 64 bits as that BIGINT."""
    c = dg.col
    schema = dg.schema(
        dg.entity("p", c("id", "int", dg.seq()), rows=10),
        dg.fact("f", ["p"], c("id", "int", dg.seq()), fanout={"distribution": "poisson", "lambda": 3}),
    )  # fmt: skip
    con = duckdb.connect()
    con.execute(macros())
    fanout = re.search(r'CREATE OR REPLACE TEMP TABLE "__dg_fanout_f" AS\n(.*?);', dg.emit_sql(schema), re.S)
    assert fanout is not None
    con.execute(f"CREATE TEMP TABLE counts AS {fanout.group(1)}")
    assert con.execute("SELECT DISTINCT typeof(__dg_first) FROM counts").fetchall() == [("BIGINT",)]
    same = con.execute(
        "SELECT bool_and(dg_uniform(4611686018427387903, r::HUGEINT) = dg_uniform(4611686018427387903, r))"
        " FROM (SELECT range * 9973 AS r FROM range(1000000))"
    ).fetchone()[0]
    assert same


# ------------------------------------------------------- a large entity: order across threads

BLOCKED_ROWS = 1_200_000
"Nearly ten of DuckDB's row groups: enough for the threads to interleave."


def test_large_entity_is_deterministic_and_ordered(dg, tmp_path):
    schema = dg.schema(
        dg.entity(
            "big",
            dg.col("id", "int", {"sequence": {"start": 7, "step": 3}}),
            dg.col("u", "float", {"distribution": {"type": "uniform", "params": {"low": 0, "high": 1}}}),
            rows=BLOCKED_ROWS,
        )
    )
    one = dg.build(schema, "--threads", "1").table("big")
    two = dg.build(schema, "--threads", "2").table("big")
    assert one.equals(two)
    ids = one.column("id").to_pylist()
    assert len(ids) == BLOCKED_ROWS and ids == list(range(7, 7 + 3 * BLOCKED_ROWS, 3))
    script = dg.emit_sql(schema, "--out-dir", "out")
    (tmp_path / "build.sql").write_text(script)
    done = subprocess.run(
        [shutil.which("duckdb"), "-c", ".read build.sql"], cwd=tmp_path, capture_output=True
    )
    assert done.returncode == 0, done.stderr
    assert pq.read_table(tmp_path / "out" / "big.parquet").equals(one)


def test_large_fact_children_follow_their_parents_at_any_thread_count(dg):
    """The fanout table's running sum reads 600k parents (several row groups, scanned in
    parallel) in row order: the same children, in parent order, at 1 and 2 threads."""
    schema = dg.schema(
        dg.entity("p", dg.col("pid", "int", {"sequence": {"start": 600_000, "step": -1}}), rows=600_000),
        dg.fact(
            "c",
            ["p"],
            dg.col("id", "int", {"sequence": {}}),
            dg.col("pid", "int", {"lookup": {"from": "p.pid"}}),
            fanout={"distribution": "uniform", "min": 0, "max": 3},
        ),
    )
    one = dg.build(schema, "--threads", "1").table("c")
    two = dg.build(schema, "--threads", "2").table("c")
    assert one.equals(two)
    pids = one.column("pid").to_pylist()
    assert pids == sorted(pids, reverse=True) and 800_000 < len(pids) < 1_000_000
    assert one.column("id").to_pylist() == list(range(1, len(pids) + 1))


def test_mixed_schema_has_every_datetime_pick(dg, mixed):
    """The grid join shapes the determinism tests rely on are in the script."""
    script = dg.emit_sql(mixed)
    assert '"__dg_grid_events_ts_grid" AS __dg_join_ts_grid' in script
    assert 'ASOF LEFT JOIN "__dg_grid_events_ts_asof"' in script
    assert '__dg_grid_events_ts"' not in script and "__dg_grid_users_signed_up" not in script
