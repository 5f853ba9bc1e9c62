"""Acceptance test: an unseen ride-hailing schema exercising every construct of the compiler core.

The schema (``ride_hailing.json``) is built once per module with the real ``dgsql`` CLI. Every expectation
below is computed here from ``shared/dsl-v1.md`` (and ``docs/dsl.md`` where the contract is silent) with
pyarrow and DuckDB queries over the Parquet files; nothing is imported from ``dgsql``.

Row counts at seed 42 (the statistical bounds below are stated for them):

==============  ========  =========================================================
table           rows      how
==============  ========  =========================================================
city            8         vocab (enum_list)
vehicle_class   5         vocab (enum_list)
driver          30,000    entity
rider           40,000    entity
promo           16        fact without parents (behaves like an entity)
shift           ~90,000   fact of driver, uniform fanout min 1 / max 5
trip            ~165,000  fact of rider (+ driver), Poisson(3.5) fanout [0, 12], table-level effect
payment         ~165,000  fact of trip, uniform fanout given as ``clamp: [0, 2]``
==============  ========  =========================================================

Shares of choices are checked within +-0.01 (at >= 30,000 rows one binomial standard error is <= 0.003);
means and standard deviations within about four standard errors; exact semantics (sequences, lookups,
expressions, modifiers without randomness, effects, trends) are checked row by row.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

SCHEMA_PATH = Path(__file__).with_name("ride_hailing.json")
SCHEMA = json.loads(SCHEMA_PATH.read_text())
SEED = "42"
TABLES = [node["id"] for node in SCHEMA["nodes"]]
NODES = {node["id"]: node for node in SCHEMA["nodes"]}
TF_START = datetime(2023, 1, 1)
TF_END = datetime(2024, 12, 31, 23, 59, 59)
SHARE_TOL = 0.01
CITIES = ["NYC", "LAX", "CHI", "HOU", "PHX", "SEA", "MIA", "BOS"]


def column(table: str, name: str) -> dict:
    return next(c for c in NODES[table]["columns"] if c["name"] == name)


def build(out: Path, *extra: str) -> None:
    proc = subprocess.run(
        ["dgsql", "build", str(SCHEMA_PATH), "-o", str(out), *extra], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr


def read_tables(out: Path) -> dict[str, pa.Table]:
    return {t: pq.read_table(out / f"{t}.parquet") for t in TABLES}


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("build") / "out"
    build(target, "--seed", SEED)
    return target


@pytest.fixture(scope="module")
def tables(out: Path) -> dict[str, pa.Table]:
    return read_tables(out)


@pytest.fixture(scope="module")
def db(tables: dict[str, pa.Table]) -> duckdb.DuckDBPyConnection:
    """Each table registered with its 0-based row index ``__i`` (file order) added."""
    con = duckdb.connect()
    for name, table in tables.items():
        indexed = table.append_column("__i", pa.array(range(table.num_rows), pa.int64()))
        con.register(f"{name}_arrow", indexed)
        con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM "{name}_arrow" ORDER BY __i')
    return con


def rows(db: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return db.execute(sql).fetchall()


def one(db: duckdb.DuckDBPyConnection, sql: str):
    return db.execute(sql).fetchone()[0]


def shares(db: duckdb.DuckDBPyConnection, table: str, col: str, where: str = "true") -> dict:
    got = rows(
        db,
        f'SELECT "{col}", count(*) / sum(count(*)) OVER () FROM "{table}" WHERE {where} GROUP BY 1',
    )
    return dict(got)


def assert_shares(got: dict, expected: dict, tol: float = SHARE_TOL) -> None:
    assert set(got) <= {k for k, v in expected.items() if v > 0}, (got, expected)
    for key, p in expected.items():
        assert abs(got.get(key, 0.0) - p) <= tol, (key, got.get(key, 0.0), p)


def zipf(n: int, a: float) -> list[float]:
    w = [1 / i**a for i in range(1, n + 1)]
    return [x / sum(w) for x in w]


def head_tail(n: int, h: float, a: float) -> list[float]:
    head = max(1, math.floor(0.2 * n))
    return [h / head] * head + [(1 - h) * p for p in zipf(n - head, a)]


def phi(z: float) -> float:
    return math.exp(-z * z / 2) / math.sqrt(2 * math.pi)


def cdf(z: float) -> float:
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def clamped_normal_moments(mu: float, sigma: float, lo: float, hi: float) -> tuple[float, float]:
    """Mean and standard deviation of N(mu, sigma) clamped to [lo, hi]."""
    a, b = (lo - mu) / sigma, (hi - mu) / sigma
    inside = cdf(b) - cdf(a)
    m1 = lo * cdf(a) + hi * (1 - cdf(b)) + mu * inside + sigma * (phi(a) - phi(b))
    m2 = (
        lo * lo * cdf(a)
        + hi * hi * (1 - cdf(b))
        + mu * mu * inside
        + 2 * mu * sigma * (phi(a) - phi(b))
        + sigma * sigma * (inside + a * phi(a) - b * phi(b))
    )
    return m1, math.sqrt(m2 - m1 * m1)


def mean_std(db: duckdb.DuckDBPyConnection, table: str, expr: str, where: str = "true"):
    return db.execute(
        f'SELECT avg({expr}), stddev_pop({expr}), count({expr}) FROM "{table}" WHERE {where}'
    ).fetchone()


def poisson_pmf(lam: float, k: int) -> float:
    return math.exp(-lam) * lam**k / math.factorial(k)


def grid_shares(db: duckdb.DuckDBPyConnection, start: str, end: str, step: str, weight_sql: str, key: str):
    """Expected shares of ``key`` over a weighted datetime grid (weights as a SQL expression of ``ts``)."""
    got = rows(
        db,
        f"""SELECT {key} AS k, sum({weight_sql}) / sum(sum({weight_sql})) OVER ()
            FROM generate_series(TIMESTAMP '{start}', TIMESTAMP '{end}', INTERVAL {step}) g(ts) GROUP BY 1""",
    )
    return dict(got)


def sql_list(values: list) -> str:
    return "[" + ", ".join(repr(float(v)) for v in values) + "]"


# --------------------------------------------------------------------------------------------------------
# tables, keys, types


def test_row_counts(tables: dict[str, pa.Table], db) -> None:
    assert tables["city"].num_rows == 8
    assert tables["vehicle_class"].num_rows == 5
    assert tables["driver"].num_rows == 30_000
    assert tables["rider"].num_rows == 40_000
    assert tables["promo"].num_rows == 16
    assert 85_000 <= tables["shift"].num_rows <= 95_000
    assert tables["payment"].num_rows == one(db, "SELECT count(*) FROM payment")
    total = sum(t.num_rows for t in tables.values())
    assert 450_000 <= total <= 550_000, total


def test_column_types(tables: dict[str, pa.Table]) -> None:
    expected = {
        "int": pa.int64(),
        "float": pa.float64(),
        "string": pa.string(),
        "bool": pa.bool_(),
        "datetime": pa.timestamp("us"),
        "date": pa.date32(),
    }
    for node in SCHEMA["nodes"]:
        schema = tables[node["id"]].schema
        assert schema.names == [c["name"] for c in node["columns"]]
        for col in node["columns"]:
            assert schema.field(col["name"]).type == expected[col["type"]], (node["id"], col["name"])
    used = {c["type"] for n in SCHEMA["nodes"] for c in n["columns"]}
    assert used == set(expected)


def test_primary_keys_unique_and_not_null(db) -> None:
    for node in SCHEMA["nodes"]:
        n, distinct, nulls = db.execute(
            f'SELECT count(*), count(DISTINCT "{node["pk"]}"), count(*) - count("{node["pk"]}") FROM "{node["id"]}"'
        ).fetchone()
        assert n == distinct and nulls == 0, node["id"]


def test_foreign_keys_resolve(db) -> None:
    for fk in SCHEMA["constraints"]["foreign_keys"]:
        (ft, fc), (tt, tc) = fk["from"].split("."), fk["to"].split(".")
        missing = one(
            db,
            f'SELECT count(*) FROM "{ft}" f WHERE f."{fc}" IS NOT NULL '
            f'AND NOT EXISTS (SELECT 1 FROM "{tt}" t WHERE t."{tc}" = f."{fc}")',
        )
        assert missing == 0, fk


def test_non_nullable_columns_have_no_nulls(db) -> None:
    for node in SCHEMA["nodes"]:
        for col in node["columns"]:
            if not col.get("nullable", False):
                assert one(db, f'SELECT count(*) FROM "{node["id"]}" WHERE "{col["name"]}" IS NULL') == 0


def test_declared_constraints_hold(db) -> None:
    cons = SCHEMA["constraints"]
    for r in cons["ranges"]:
        t, c = r["attr"].split(".")
        lo, hi = db.execute(f'SELECT min("{c}"), max("{c}") FROM "{t}"').fetchone()
        assert r["min"] <= lo and hi <= r["max"], r
    for p in cons["pattern"]:
        t, c = p["attr"].split(".")
        values = [v for (v,) in rows(db, f'SELECT DISTINCT "{c}" FROM "{t}"')]
        assert all(re.fullmatch(p["regex"], v) for v in values), p
    for e in cons["enum"]:
        t, c = e["attr"].split(".")
        if "values" in e:
            allowed = set(e["values"])
        else:
            rt, rc = e["enum_ref"].split(".")
            allowed = {v for (v,) in rows(db, f'SELECT "{rc}" FROM "{rt}"')}
        assert {v for (v,) in rows(db, f'SELECT DISTINCT "{c}" FROM "{t}"')} <= allowed, e
    for u in cons["unique"]:
        t, c = u.split(".")
        assert one(db, f'SELECT count(*) - count(DISTINCT "{c}") FROM "{t}"') == 0, u


def test_inequalities_hold_on_every_row(db) -> None:
    for ineq in SCHEMA["constraints"]["inequalities"]:
        (lt, lc), (rt, rc) = ineq["left"].split("."), ineq["right"].split(".")
        assert lt == rt and ineq["op"] == "<"
        assert one(db, f'SELECT count(*) FROM "{lt}" WHERE NOT ("{lc}" < "{rc}")') == 0, ineq
        assert one(db, f'SELECT count(*) FROM "{lt}" WHERE "{lc}" IS NULL OR "{rc}" IS NULL') == 0


def test_inequality_keeps_start_and_truncates_end(db) -> None:
    """shift.start_at < shift.end_at over one hourly grid: start keeps its uniform law; end is
    uniform over the points after start, so P(end < mid) = ∫₀^½ (½ − s)/(1 − s) ds = ½ − ½·ln 2."""
    lo, hi = datetime(2024, 1, 1), datetime(2024, 3, 31, 23)
    n_grid = int((hi - lo).total_seconds() // 3600) + 1
    for c in ("start_at", "end_at"):
        off = rows(db, f"SELECT DISTINCT epoch(\"{c}\" - TIMESTAMP '2024-01-01') % 3600 FROM shift")
        assert off == [(0,)], c
    assert one(db, "SELECT min(start_at) FROM shift") == lo
    # a start at the last point leaves no point after it: end_at is the next grid point (docs/dsl.md)
    assert one(db, "SELECT max(end_at) FROM shift") <= hi + timedelta(hours=1)
    mid = lo + timedelta(hours=n_grid // 2)
    start_first_half = one(db, f"SELECT avg((start_at < TIMESTAMP '{mid}')::INT) FROM shift")
    end_first_half = one(db, f"SELECT avg((end_at < TIMESTAMP '{mid}')::INT) FROM shift")
    assert abs(start_first_half - 0.5) <= SHARE_TOL
    assert abs(end_first_half - (0.5 - 0.5 * math.log(2))) <= SHARE_TOL


# --------------------------------------------------------------------------------------------------------
# sequences, vocab, self-references, lookups


def test_sequences(db) -> None:
    for table, col, start, step in [
        ("driver", "driver_id", 1000, 3),
        ("rider", "rider_id", 1, 1),
        ("promo", "promo_id", 1, 1),
        ("shift", "shift_id", 1, 1),
        ("trip", "trip_id", 1, 1),
        ("payment", "payment_id", 500000, 2),
    ]:
        bad = one(db, f'SELECT count(*) FROM "{table}" WHERE "{col}" != {start} + {step} * __i')
        assert bad == 0, (table, col)


def test_vocab_enum_list(tables: dict[str, pa.Table]) -> None:
    for table in ("city", "vehicle_class"):
        for col in NODES[table]["columns"]:
            assert tables[table].column(col["name"]).to_pylist() == col["generator"]["enum_list"]["values"]


def test_self_reference_nullable_points_at_earlier_rows(db) -> None:
    """driver.mentor_id -> driver.driver_id (nullable): row 0 NULL, every other row a uniform earlier row."""
    assert one(db, "SELECT mentor_id FROM driver WHERE __i = 0") is None
    assert one(db, "SELECT count(*) FROM driver WHERE __i > 0 AND mentor_id IS NULL") == 0
    d = "SELECT d.__i AS i, m.__i AS j FROM driver d JOIN driver m ON m.driver_id = d.mentor_id"
    assert one(db, f"SELECT count(*) FROM ({d}) WHERE j >= i") == 0
    assert one(db, f"SELECT count(*) FROM ({d})") == 29_999
    # j uniform on [0, i): (j + 0.5) / i is ~U(0, 1)
    rel_mean = one(db, f"SELECT avg((j + 0.5) / i) FROM ({d})")
    assert abs(rel_mean - 0.5) <= 0.01


def test_self_reference_non_nullable_root_points_at_itself(db) -> None:
    assert rows(db, "SELECT rider_id, referrer_id FROM rider WHERE __i = 0") == [(1, 1)]
    d = "SELECT r.__i AS i, x.__i AS j FROM rider r JOIN rider x ON x.rider_id = r.referrer_id WHERE r.__i > 0"
    assert one(db, f"SELECT count(*) FROM ({d})") == 39_999
    assert one(db, f"SELECT count(*) FROM ({d}) WHERE j >= i") == 0
    assert abs(one(db, f"SELECT avg((j + 0.5) / i) FROM ({d})") - 0.5) <= 0.01


def test_lookup_random_row_of_other_table(db) -> None:
    """rider.favorite_driver_id (a non-parent table) and trip.driver_id (parents[1]) pick uniform rows."""
    for table, col in [("rider", "favorite_driver_id"), ("trip", "driver_id")]:
        got = dict(
            rows(
                db,
                f'SELECT floor((("{col}" - 1000) / 3) / 3000)::INT AS b, count(*) / sum(count(*)) OVER () '
                f'FROM "{table}" GROUP BY 1',
            )
        )
        assert_shares(got, {b: 0.1 for b in range(10)})
        assert one(db, f'SELECT count(*) FROM "{table}" WHERE ("{col}" - 1000) % 3 != 0') == 0


def test_lookup_primary_parent_and_children_in_parent_order(db) -> None:
    for child, parent, key in [
        ("trip", "rider", "rider_id"),
        ("shift", "driver", "driver_id"),
        ("payment", "trip", "trip_id"),
    ]:
        # non-decreasing parent row index along the child rows
        back = one(
            db,
            f"""SELECT count(*) FROM (
                  SELECT p.__i AS pi, lag(p.__i) OVER (ORDER BY c.__i) AS prev
                  FROM "{child}" c JOIN "{parent}" p ON p."{key}" = c."{key}")
                WHERE pi < prev""",
        )
        assert back == 0, child
    # a primary-parent lookup of another column is the spawning parent row's value
    assert (
        one(db, "SELECT count(*) FROM trip t JOIN rider r USING (rider_id) WHERE t.rider_city != r.home_city")
        == 0
    )


def test_lookup_on_this_key_and_local_remote(db) -> None:
    assert (
        one(db, "SELECT count(*) FROM trip t JOIN driver d USING (driver_id) WHERE t.driver_city != d.city")
        == 0
    )
    assert (
        one(
            db,
            "SELECT count(*) FROM driver d JOIN vehicle_class v USING (vehicle_class) WHERE d.seats != v.seats",
        )
        == 0
    )
    assert (
        one(
            db,
            "SELECT count(*) FROM driver d JOIN city c ON c.code = d.city WHERE d.base_fare != c.base_fare",
        )
        == 0
    )


# --------------------------------------------------------------------------------------------------------
# fanout


def rider_effect_sql() -> str:
    """f per rider: multiplier of the lowest promo_id of its home_city whose window holds signup_at, else 1."""
    return """SELECT r.rider_id, r.__i, coalesce(arg_min(p.multiplier, p.promo_id), 1) AS f
              FROM rider r LEFT JOIN promo p
                ON p.city = r.home_city AND p.start_at <= r.signup_at AND r.signup_at <= p.end_at
              GROUP BY r.rider_id, r.__i"""


def test_fanout_poisson_with_table_level_effect(db) -> None:
    counts = f"""SELECT e.f, coalesce(c.n, 0) AS n FROM ({rider_effect_sql()}) e
                 LEFT JOIN (SELECT rider_id, count(*) AS n FROM trip GROUP BY 1) c USING (rider_id)"""
    by_f = dict(rows(db, f"SELECT f, count(*) FROM ({counts}) GROUP BY 1"))
    assert set(by_f) == {0, 1, 2} and min(by_f.values()) > 500, by_f
    # f = 0: no trips; f = 2: k doubled (even, k in [0, 12]); f = 1: k in [0, 12]
    assert one(db, f"SELECT count(*) FROM ({counts}) WHERE f = 0 AND n != 0") == 0
    assert one(db, f"SELECT count(*) FROM ({counts}) WHERE f = 2 AND (n % 2 != 0 OR n > 24)") == 0
    assert one(db, f"SELECT count(*) FROM ({counts}) WHERE f = 1 AND NOT n BETWEEN 0 AND 12") == 0
    # k = n / f ~ Poisson(3.5) clamped to [0, 12]
    pmf = {k: poisson_pmf(3.5, k) for k in range(12)}
    pmf[12] = 1 - sum(pmf.values())
    lam_mean = sum(k * p for k, p in pmf.items())
    lam_var = sum(k * k * p for k, p in pmf.items()) - lam_mean**2
    for f in (1, 2):
        mean, var, n = db.execute(
            f"SELECT avg(n / f), var_pop(n / f), count(*) FROM ({counts}) WHERE f = {f}"
        ).fetchone()
        assert abs(mean - lam_mean) <= 4 * math.sqrt(lam_var / n), (f, mean)
        assert abs(var - lam_var) <= 4 * lam_var * math.sqrt(2 / n) + 0.02, (f, var)
    got = dict(
        rows(
            db,
            f"SELECT (n / f)::INT, count(*) / sum(count(*)) OVER () FROM ({counts}) WHERE f > 0 GROUP BY 1",
        )
    )
    assert_shares(got, pmf)
    # trips follow rider order and count as computed
    assert one(db, "SELECT count(*) FROM trip") == one(db, f"SELECT sum(n) FROM ({counts})")


def test_fanout_uniform_min_max(db) -> None:
    counts = "SELECT d.driver_id, count(s.shift_id) AS n FROM driver d LEFT JOIN shift s USING (driver_id) GROUP BY 1"
    got = dict(rows(db, f"SELECT n, count(*) / sum(count(*)) OVER () FROM ({counts}) GROUP BY 1"))
    assert_shares(got, {k: 0.2 for k in range(1, 6)})
    assert abs(one(db, f"SELECT avg(n) FROM ({counts})") - 3.0) <= 4 * math.sqrt(2 / 30_000)


def test_fanout_uniform_clamp_synonym(db) -> None:
    counts = "SELECT t.trip_id, count(p.payment_id) AS n FROM trip t LEFT JOIN payment p USING (trip_id) GROUP BY 1"
    got = dict(rows(db, f"SELECT n, count(*) / sum(count(*)) OVER () FROM ({counts}) GROUP BY 1"))
    assert_shares(got, {0: 1 / 3, 1: 1 / 3, 2: 1 / 3})


# --------------------------------------------------------------------------------------------------------
# choice


def test_choice_weights_with_zero_weight(db) -> None:
    got = shares(db, "rider", "tier")
    assert "legacy" not in got
    assert_shares(got, {"basic": 0.7, "plus": 0.25, "premium": 0.05, "legacy": 0.0})


def test_choice_bool_and_uniform(db) -> None:
    assert_shares(shares(db, "driver", "is_active"), {True: 0.85, False: 0.15})
    assert_shares(
        shares(db, "shift", "zone"), dict.fromkeys(["north", "south", "east", "west", "center"], 0.2)
    )


def test_choice_zipf_literal(db) -> None:
    assert_shares(shares(db, "trip", "rating_given"), dict(zip([5, 4, 3, 2, 1], zipf(5, 1.5), strict=True)))


def test_choice_head_tail_literal_then_map_values(db) -> None:
    choices = column("payment", "method")["generator"]["choice"]["choices"]
    mapping = {"cash": "CASH", "crypto": "other"}
    expected = {mapping.get(c, c): p for c, p in zip(choices, head_tail(10, 0.7, 1.1), strict=True)}
    got = shares(db, "payment", "method")
    assert "cash" not in got and "crypto" not in got
    assert_shares(got, expected)


def test_choices_ref_weighted_and_uniform(db) -> None:
    assert_shares(shares(db, "driver", "city"), dict(zip(CITIES, zipf(8, 1.2), strict=True)))
    assert_shares(shares(db, "rider", "home_city"), dict(zip(CITIES, head_tail(8, 0.5, 1.0), strict=True)))
    classes = ["economy", "comfort", "xl", "black", "green"]
    assert_shares(shares(db, "driver", "vehicle_class"), dict.fromkeys(classes, 0.2))
    assert {c for (c,) in rows(db, "SELECT DISTINCT city FROM promo")} <= set(CITIES)


# --------------------------------------------------------------------------------------------------------
# distributions


def test_normal_with_clamp(db) -> None:
    mean, std, n = mean_std(db, "driver", "rating")
    exp_mean, exp_std = clamped_normal_moments(4.3, 0.25, 1, 5)
    assert abs(mean - exp_mean) <= 4 * exp_std / math.sqrt(n)
    assert abs(std - exp_std) <= 4 * exp_std / math.sqrt(2 * n)
    assert one(db, "SELECT min(rating) >= 1 AND max(rating) <= 5 FROM driver")


def test_normal_on_int_column_rounds(db) -> None:
    """trip.duration_min: N(18, 6) clamped to [2, 90], then rounded to the nearest integer."""
    pmf = {}
    for k in range(2, 91):
        lo = -math.inf if k == 2 else (k - 0.5 - 18) / 6
        hi = math.inf if k == 90 else (k + 0.5 - 18) / 6
        pmf[k] = (1 if hi == math.inf else cdf(hi)) - (0 if lo == -math.inf else cdf(lo))
    exp_mean = sum(k * p for k, p in pmf.items())
    exp_std = math.sqrt(sum(k * k * p for k, p in pmf.items()) - exp_mean**2)
    mean, std, n = mean_std(db, "trip", "duration_min")
    assert abs(mean - exp_mean) <= 4 * exp_std / math.sqrt(n)
    assert abs(std - exp_std) <= 4 * exp_std / math.sqrt(2 * n) + 0.01
    assert_shares(shares(db, "trip", "duration_min"), pmf)


def test_lognormal_with_clamp(db) -> None:
    for table, col, mu, sigma, lo, hi in [
        ("rider", "lifetime_value", 3.5, 0.9, 1, 20000),
        ("trip", "distance_km", 1.6, 0.7, 0.3, 120),
    ]:
        mean, std, n = mean_std(db, table, f'ln("{col}")')
        exp_mean, exp_std = clamped_normal_moments(mu, sigma, math.log(lo), math.log(hi))
        assert abs(mean - exp_mean) <= 4 * exp_std / math.sqrt(n), (col, mean, exp_mean)
        assert abs(std - exp_std) <= 4 * exp_std / math.sqrt(2 * n) + 0.002, (col, std, exp_std)
        vmin, vmax = db.execute(f'SELECT min("{col}"), max("{col}") FROM "{table}"').fetchone()
        assert lo <= vmin and vmax <= hi


def test_uniform_on_int_column_includes_both_ends(db) -> None:
    for table, col, lo, hi in [
        ("rider", "age", 18, 80),
        ("driver", "experience_years", 0, 9),
        ("shift", "break_min", 0, 60),
    ]:
        got = shares(db, table, col)
        assert min(got) == lo and max(got) == hi, (col, min(got), max(got))
        p = 1 / (hi - lo + 1)
        n = one(db, f'SELECT count(*) FROM "{table}"')
        tol = min(SHARE_TOL, 5 * math.sqrt(p * (1 - p) / n))
        assert_shares(got, {k: p for k in range(lo, hi + 1)}, tol)


def test_float_uniform(db) -> None:
    mean, std, n = mean_std(db, "trip", "surge")
    assert abs(mean - 1.5) <= 4 * math.sqrt(1 / 12 / n)
    assert abs(std - math.sqrt(1 / 12)) <= 0.003
    assert one(db, "SELECT min(surge) >= 1 AND max(surge) <= 2 FROM trip")


def test_poisson_distribution(db) -> None:
    mean, std, n = mean_std(db, "trip", "stops")
    assert abs(mean - 2.5) <= 4 * math.sqrt(2.5 / n)
    assert abs(std * std - 2.5) <= 0.05
    pmf = {k: poisson_pmf(2.5, k) for k in range(30)}
    pmf[30] = 1 - sum(pmf.values())
    assert_shares(shares(db, "trip", "stops"), pmf)


# --------------------------------------------------------------------------------------------------------
# datetime_series


def test_datetime_series_weekly_within_timeframe(db) -> None:
    grid = [
        TF_START + timedelta(days=7 * k) for k in range(200) if TF_START + timedelta(days=7 * k) <= TF_END
    ]
    assert len(grid) == 105
    got = shares(db, "rider", "signup_at")
    assert set(got) == set(grid)
    assert_shares(got, dict.fromkeys(grid, 1 / 105), 0.003)


def test_datetime_series_month_start_explicit_on_date(db) -> None:
    """within {2018-01-15, 2022-12-31}, MS: month starts from the first at or after start (2018-02-01)."""
    got = shares(db, "driver", "signup_date")
    months = [datetime(2018 + (m // 12), m % 12 + 1, 1).date() for m in range(1, 60)]
    assert months[0].isoformat() == "2018-02-01" and months[-1].isoformat() == "2022-12-01"
    assert set(got) == set(months)
    assert_shares(got, dict.fromkeys(months, 1 / 59), 0.004)


def test_datetime_series_daily_promos(db) -> None:
    for c in ("start_at", "end_at"):
        lo, hi, off = db.execute(
            f'SELECT min("{c}"), max("{c}"), max(epoch("{c}") % 86400) FROM promo'
        ).fetchone()
        assert TF_START <= lo and hi <= TF_END + timedelta(days=1) and off == 0


def test_pattern_and_seasonality_on_datetime(db) -> None:
    """trip.requested_at: 15-min grid over the timeframe weighted by hour pattern x month seasonality."""
    col = column("trip", "requested_at")
    hw = col["generator"]["datetime_series"]["pattern"]["weights"]
    mw = col["modifiers"][0]["args"]["weights"]
    weight = f"{sql_list(hw)}[hour(ts) + 1] * {sql_list(mw)}[month(ts)]"
    start, end = "2023-01-01 00:00:00", "2024-12-31 23:59:59"
    assert one(db, "SELECT count(*) FROM trip WHERE epoch(requested_at) % 900 != 0") == 0
    assert one(db, f"SELECT count(*) FROM trip WHERE requested_at NOT BETWEEN '{start}' AND '{end}'") == 0
    assert one(db, "SELECT count(*) FROM trip WHERE hour(requested_at) IN (3, 4)") == 0
    for key in ("hour(ts)", "month(ts)", "isodow(ts) >= 6"):
        expected = grid_shares(db, start, end, "15 MINUTE", weight, key)
        got = dict(
            rows(
                db,
                f"SELECT {key.replace('ts', 'requested_at')} AS k, count(*) / sum(count(*)) OVER () FROM trip GROUP BY 1",
            )
        )
        assert_shares(got, expected)


def test_patterns_multiply_on_date(db) -> None:
    """payment.settled_on: daily grid weighted by dow x month patterns; Sunday (weight 0) never drawn."""
    pats = column("payment", "settled_on")["generator"]["datetime_series"]["patterns"]
    weight = f"{sql_list(pats[0]['weights'])}[isodow(ts)] * {sql_list(pats[1]['weights'])}[month(ts)]"
    assert one(db, "SELECT count(*) FROM payment WHERE isodow(settled_on) = 7") == 0
    assert one(
        db,
        "SELECT min(settled_on) >= DATE '2023-01-01' AND max(settled_on) <= DATE '2024-12-31' FROM payment",
    )
    for key in ("isodow(ts)", "month(ts)"):
        expected = grid_shares(db, "2023-01-01", "2024-12-31 23:59:59", "1 DAY", weight, key)
        got = dict(
            rows(
                db,
                f"SELECT {key.replace('ts', 'settled_on')} AS k, count(*) / sum(count(*)) OVER () FROM payment GROUP BY 1",
            )
        )
        assert_shares(got, expected)


def test_time_jitter(db) -> None:
    """payment.paid_at: 30-min grid + N(0, 3) minutes: the signed offset to the nearest grid point."""
    off = "((epoch(paid_at) + 900) % 1800 - 900) / 60.0"
    mean, std, n = mean_std(db, "payment", off)
    assert abs(mean) <= 4 * 3 / math.sqrt(n)
    assert abs(std - 3.0) <= 4 * 3 / math.sqrt(2 * n) + 0.005
    assert one(db, "SELECT count(DISTINCT epoch_us(paid_at) % 1000000) FROM payment") > 1000


# --------------------------------------------------------------------------------------------------------
# modifiers


def test_multiply_add_clamp(db) -> None:
    """U(5, 15) * 1.1 + 2 is U(7.5, 18.5); clamp(7.5, 18) piles 0.5/11 of the rows on 18."""
    lo, hi, at_max, mean, n = db.execute(
        "SELECT min(base_amount), max(base_amount), avg((base_amount = 18)::INT), avg(base_amount), count(*) FROM trip"
    ).fetchone()
    assert lo >= 7.5 and hi == 18
    assert abs(at_max - 0.5 / 11) <= 0.005
    exp_mean = ((18**2 - 7.5**2) / 2 + 18 * 0.5) / 11
    assert abs(mean - exp_mean) <= 4 * 3.2 / math.sqrt(n)


def test_jitter_add_and_null_rate(db) -> None:
    null_share = one(db, "SELECT avg((tip IS NULL)::INT) FROM trip")
    assert abs(null_share - 0.25) <= SHARE_TOL
    mean, std, n = mean_std(db, "trip", "tip")
    exp_std = math.sqrt(1.5**2 + 1.0**2)
    assert abs(mean - 6) <= 4 * exp_std / math.sqrt(n)
    assert abs(std - exp_std) <= 4 * exp_std / math.sqrt(2 * n) + 0.003
    assert one(db, "SELECT min(tip) FROM trip") >= 0


def test_jitter_mul(db) -> None:
    mean, std, n = mean_std(db, "shift", "earnings")
    assert abs(mean - 200) <= 4 * 20 / math.sqrt(n)
    assert abs(std - 20) <= 4 * 20 / math.sqrt(2 * n)


def test_outliers_spike_and_drop(db) -> None:
    rate, lo, hi, spike_mean = db.execute(
        "SELECT avg((wait_min != 10)::INT), min(wait_min) FILTER (wait_min != 10), "
        "max(wait_min) FILTER (wait_min != 10), avg(wait_min) FILTER (wait_min != 10) FROM trip"
    ).fetchone()
    assert abs(rate - 0.05) <= 0.005
    assert 20 <= lo and hi <= 40 and abs(spike_mean - 30) <= 0.3
    rate, lo, hi = db.execute(
        "SELECT avg((idle_min != 12)::INT), min(idle_min) FILTER (idle_min != 12), "
        "max(idle_min) FILTER (idle_min != 12) FROM shift"
    ).fetchone()
    assert abs(rate - 0.1) <= SHARE_TOL
    assert 3 <= lo and hi <= 6


def test_seasonality_numeric_uses_first_datetime_column(db) -> None:
    w = column("trip", "demand_index")["modifiers"][0]["args"]["weights"]
    bad = one(
        db,
        f"SELECT count(*) FROM trip WHERE abs(demand_index - 100 * {sql_list(w)}[isodow(requested_at)]) > 1e-9",
    )
    assert bad == 0


def test_trend_exact(db) -> None:
    t = "(epoch(requested_at - TIMESTAMP '2023-01-01') / (365.25 * 86400))"
    for col, formula in [
        ("price_exp", f"10 * pow(1.1, {t})"),
        ("price_lin", f"10 * (1 + 0.05 * {t})"),
        ("price_log", f"10 * (1 + 0.2 * ln(1 + 2 * {t}))"),
    ]:
        bad = one(db, f"SELECT count(*) FROM trip WHERE abs({col} - {formula}) > 1e-9 * {formula}")
        assert bad == 0, col
    assert one(db, "SELECT max(price_exp) > 12 AND min(price_exp) < 10.01 FROM trip")


def test_column_level_effects(db) -> None:
    """promo_factor: lowest promo_id with city = rider_city whose window (inclusive) holds requested_at.

    surcharge: ``on: {}`` matches every promo; op add, default 0.
    """
    keyed = """SELECT t.trip_id, t.promo_factor, coalesce(arg_min(p.multiplier, p.promo_id), 1) AS f
               FROM trip t LEFT JOIN promo p
                 ON p.city = t.rider_city AND p.start_at <= t.requested_at AND t.requested_at <= p.end_at
               GROUP BY ALL"""
    assert one(db, f"SELECT count(*) FROM ({keyed}) WHERE promo_factor != f") == 0
    assert one(db, f"SELECT count(DISTINCT f) FROM ({keyed})") == 3
    unkeyed = """SELECT t.trip_id, t.surcharge, 1 + coalesce(arg_min(p.multiplier, p.promo_id), 0) AS f
                 FROM trip t LEFT JOIN promo p ON p.start_at <= t.requested_at AND t.requested_at <= p.end_at
                 GROUP BY ALL"""
    assert one(db, f"SELECT count(*) FROM ({unkeyed}) WHERE surcharge != f") == 0


# --------------------------------------------------------------------------------------------------------
# expressions and nulls


def test_expressions_exact(db) -> None:
    checks = {
        "total_fare": "round(greatest(base_amount * surge, 8) + coalesce(tip, 0), 2)",
        "fare_per_km": "round(total_fare / least(distance_km, 50), 3)",
        "log_distance": "ln(distance_km)",
        "bucket": "trip_id % 7 + stops * stops",
    }
    for col, expr in checks.items():
        bad = one(
            db, f"SELECT count(*) FROM trip WHERE abs({col} - ({expr})) > 1e-12 * greatest(1, abs({expr}))"
        )
        assert bad == 0, col
    assert (
        one(db, "SELECT count(*) FROM trip WHERE is_long IS DISTINCT FROM (distance_km > 10 AND stops != 0)")
        == 0
    )
    assert one(db, "SELECT count(DISTINCT is_long) FROM trip") == 2


def test_null_rate(db) -> None:
    null_share, true_share = db.execute(
        "SELECT avg((email_opt_in IS NULL)::INT), avg(email_opt_in::INT) FROM rider"
    ).fetchone()
    assert abs(null_share - 0.2) <= SHARE_TOL
    assert abs(true_share - 0.4) <= SHARE_TOL


# --------------------------------------------------------------------------------------------------------
# CLI contracts


def test_validate_exits_zero(out: Path) -> None:
    proc = subprocess.run(
        ["dgsql", "validate", str(SCHEMA_PATH), "-d", str(out)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_same_seed_identical_files(tmp_path: Path, tables: dict[str, pa.Table]) -> None:
    again = tmp_path / "again"
    build(again, "--seed", SEED)
    for name, table in read_tables(again).items():
        assert table.equals(tables[name]), name


def test_emitted_script_via_duckdb_cli_matches_build(tmp_path: Path, tables: dict[str, pa.Table]) -> None:
    script = tmp_path / "build.sql"
    emitted = subprocess.run(
        ["dgsql", "emit-sql", str(SCHEMA_PATH), "--seed", SEED, "--out-dir", "out"],
        capture_output=True,
        text=True,
    )
    assert emitted.returncode == 0, emitted.stderr
    script.write_text(emitted.stdout)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    proc = subprocess.run(["duckdb", "-c", f".read {script}"], cwd=run_dir, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (run_dir / "out").iterdir()) == sorted(f"{t}.parquet" for t in TABLES)
    for name, table in read_tables(run_dir / "out").items():
        assert table.equals(tables[name]), name
