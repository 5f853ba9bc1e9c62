"""Tables: entities, facts (fanout, multi-parent, parentless), vocab nodes, --scale, self-reference, lookups.

Exact where dsl-v1.md is exact (row counts, parent order, lookup values); statistical bounds, stated with
their parent or row counts, are at least 4.5 standard errors wide.
"""

from __future__ import annotations

import importlib
import itertools
import math

import duckdb
import pytest


def run_lengths(values: list) -> list[tuple]:
    """[(value, how many times in a row), ...]"""
    return [(v, len(list(g))) for v, g in itertools.groupby(values)]


# ------------------------------------------------------------------ entities and --scale


def test_entity_rows_default_and_explicit(dg):
    c = dg.col
    out = dg.build(
        dg.schema(
            dg.entity("dflt", c("id", "int", dg.seq())),
            dg.entity("three", c("id", "int", dg.seq()), rows=3),
            dg.entity("none", c("id", "int", dg.seq()), c("x", "float", {"distribution": {
                "type": "normal", "params": {"mean": 0, "std": 1}}}), rows=0),
        )
    )  # fmt: skip
    assert out.column("dflt", "id") == list(range(1, 1001))
    assert out.column("three", "id") == [1, 2, 3]
    empty = out.table("none")
    assert empty.num_rows == 0
    assert empty.column_names == ["id", "x"]
    assert {t: m["rows"] for t, m in out.metadata["tables"].items()} == {"dflt": 1000, "three": 3, "none": 0}


def test_output_has_declared_columns_in_order_with_their_types(dg):
    c = dg.col
    out = dg.build(
        dg.schema(
            dg.entity(
                "typed",
                c("i", "int", dg.seq()),
                c("f", "float", dg.seq()),
                c("s", "string", {"choice": {"choices": ["x"]}}),
                c("b", "bool", {"choice": {"choices": [True]}}),
                c("ts", "datetime", {"datetime_series": {"within": {"start": "2024-01-01", "end": "2024-01-02"},
                                                         "freq": "H"}}),
                c("d", "date", {"datetime_series": {"within": {"start": "2024-01-01", "end": "2024-01-09"},
                                                    "freq": "D"}}),
                rows=5,
            )
        )
    )  # fmt: skip
    types = {f.name: str(f.type) for f in out.table("typed").schema}
    assert types == {"i": "int64", "f": "double", "s": "string", "b": "bool", "ts": "timestamp[us]",
                     "d": "date32[day]"}  # fmt: skip


@pytest.fixture(scope="module")
def scaled(dg):
    c = dg.col
    schema = dg.schema(
        dg.vocab("kind", c("name", "string", {"enum_list": {"values": ["a", "b", "c"]}})),
        dg.entity("users", c("id", "int", dg.seq())),
        dg.entity("shops", c("id", "int", dg.seq()), rows=40),
        dg.fact("visits", ["users"], c("user_id", "int", {"lookup": {"from": "users.id"}})),
        dg.fact("orphans", [], c("id", "int", dg.seq()), rows=10),
    )
    return dg.build(schema, "--scale", "2.5")


def test_scale_multiplies_entity_rows(scaled):
    rows = {t: m["rows"] for t, m in scaled.metadata["tables"].items()}
    assert rows["users"] == 2500
    assert rows["shops"] == 100
    assert scaled.table("users").num_rows == 2500


def test_scale_leaves_vocab_alone_and_facts_follow_their_parents(scaled):
    assert scaled.column("kind", "name") == ["a", "b", "c"]
    assert scaled.column("visits", "user_id") == list(range(1, 2501))


def test_scale_applies_to_a_parentless_fact(scaled):
    assert scaled.column("orphans", "id") == list(range(1, 26))


def test_scale_below_one(dg):
    out = dg.build(dg.schema(dg.entity("u", dg.col("id", "int", dg.seq()), rows=1000)), "--scale", "0.25")
    assert out.table("u").num_rows == 250


def test_parentless_fact_behaves_like_an_entity(dg):
    c = dg.col
    out = dg.build(
        dg.schema(
            dg.fact("log", [], c("id", "int", dg.seq(10, 10)), c("v", "float", {"distribution": {
                "type": "uniform", "params": {"low": 0, "high": 1}}}), rows=700),
            {"id": "plain", "kind": "fact", "columns": [c("id", "int", dg.seq())]},
        )
    )  # fmt: skip
    assert out.column("log", "id") == list(range(10, 7010, 10))
    assert out.table("plain").num_rows == 1000


def test_tables_may_be_listed_before_their_parents(dg):
    c = dg.col
    out = dg.build(
        dg.schema(
            dg.fact("child", ["parent"], c("pid", "int", {"lookup": {"from": "parent.id"}})),
            dg.entity("parent", c("id", "int", dg.seq(7, 2)), rows=20),
        )
    )
    assert out.column("child", "pid") == list(range(7, 47, 2))


def test_explicit_dag_that_agrees_with_the_dependencies(dg):
    c = dg.col
    schema = dg.schema(
        dg.fact("child", ["parent"], c("pid", "int", {"lookup": {"from": "parent.id"}})),
        dg.entity("parent", c("id", "int", dg.seq()), rows=3),
        dg.entity("other", c("id", "int", dg.seq()), rows=2),
        dag=[["parent", "other"], ["child"]],
    )
    out = dg.build(schema)
    assert out.column("child", "pid") == [1, 2, 3]
    assert out.column("other", "id") == [1, 2]


def test_quoted_names(dg):
    c = dg.col
    weird = "we\"ird 'name"
    out = dg.build(
        dg.schema(
            dg.entity("order", c("select", "int", dg.seq()), c("unit price", "float", dg.seq(0.5, 1)),
                      c(weird, "string", {"choice": {"choices": ["it's"]}}), rows=5),
            dg.fact("group", ["order"], c("from", "int", {"lookup": {"from": "order.select"}}),
                    c("price", "float", {"lookup": {"from": "order.unit price"}}),
                    c("w", "string", {"lookup": {"from": f"order.{weird}"}})),
        )
    )  # fmt: skip
    assert out.table("order").column_names == ["select", "unit price", weird]
    assert out.column("group", "from") == [1, 2, 3, 4, 5]
    assert out.column("group", "price") == [0.5, 1.5, 2.5, 3.5, 4.5]
    assert out.column("group", "w") == ["it's"] * 5


# ------------------------------------------------------------------- facts and fanout


def fanout_counts(out, parent: str, key: str, fact: str, fk: str) -> list[int]:
    """Children per parent row, in parent order (0 for parents without children)."""
    return [
        k
        for (k,) in out.sql(
            f'SELECT count(f."{fk}") FROM "{parent}" p LEFT JOIN "{fact}" f ON f."{fk}" = p."{key}"'
            " GROUP BY p.file_row_number ORDER BY p.file_row_number"
        )
    ]


@pytest.fixture(scope="module")
def fanouts(dg):
    """20k parents; facts with uniform, Poisson, clamp-synonym and default fanout."""
    c = dg.col

    def fk():
        return c("user_id", "int", {"lookup": {"from": "users.user_id"}})

    return dg.build(
        dg.schema(
            dg.entity(
                "users",
                c("user_id", "int", dg.seq(50_000, -2)),  # descending: order by key is not parent order
                c("tier", "string", {"choice": {"choices": ["gold", "silver", "bronze"]}}),
                rows=20_000,
            ),
            dg.fact("uni", ["users"], c("id", "int", dg.seq()), fk(),
                    c("tier", "string", {"lookup": {"from": "users.tier"}}),
                    fanout={"distribution": "uniform", "min": 1, "max": 4}),
            dg.fact("poi", ["users"], fk(), fanout={"distribution": "poisson", "lambda": 3, "min": 0, "max": 12}),
            dg.fact("poi_clamp", ["users"], fk(), fanout={"distribution": "poisson", "lambda": 3, "clamp": [2, 4]}),
            dg.fact("poi_open", ["users"], fk(), fanout={"distribution": "poisson", "lambda": 1.5}),
            dg.fact("one", ["users"], fk()),
        )
    )  # fmt: skip


def test_uniform_fanout_within_min_max_each_count_equally_likely(fanouts):
    counts = fanout_counts(fanouts, "users", "user_id", "uni", "user_id")
    assert len(counts) == 20_000
    assert min(counts) == 1 and max(counts) == 4
    for k in range(1, 5):
        assert counts.count(k) / 20_000 == pytest.approx(0.25, abs=0.015)


def test_fact_sequence_counts_its_own_rows(fanouts):
    ids = fanouts.column("uni", "id")
    assert ids == list(range(1, len(ids) + 1))


def test_children_follow_parent_order(fanouts):
    parent_keys = fanouts.column("users", "user_id")
    counts = fanout_counts(fanouts, "users", "user_id", "uni", "user_id")
    expected = [key for key, k in zip(parent_keys, counts, strict=True) for _ in range(k)]
    assert fanouts.column("uni", "user_id") == expected


def test_primary_parent_lookup_is_the_spawning_row(fanouts):
    # a second column of the same parent row comes from the same row as the key
    parent = dict(zip(fanouts.column("users", "user_id"), fanouts.column("users", "tier"), strict=True))
    pairs = zip(fanouts.column("uni", "user_id"), fanouts.column("uni", "tier"), strict=True)
    assert all(parent[key] == tier for key, tier in pairs)


def test_poisson_fanout_mean_and_variance(fanouts):
    # 20k parents, lambda 3: the mean within 3%
    counts = fanout_counts(fanouts, "users", "user_id", "poi", "user_id")
    mean = sum(counts) / len(counts)
    var = sum((k - mean) ** 2 for k in counts) / (len(counts) - 1)
    assert mean == pytest.approx(3, rel=0.03)
    assert var == pytest.approx(3, rel=0.06)
    assert 0 <= min(counts) and max(counts) <= 12
    assert counts.count(0) / len(counts) == pytest.approx(math.exp(-3), abs=0.01)
    assert fanouts.table("poi").num_rows == sum(counts)


def test_poisson_fanout_clamp_synonym(fanouts):
    counts = fanout_counts(fanouts, "users", "user_id", "poi_clamp", "user_id")
    assert set(counts) == {2, 3, 4}
    pmf = [math.exp(-3) * 3**k / math.factorial(k) for k in range(5)]
    assert counts.count(2) / len(counts) == pytest.approx(sum(pmf[:3]), abs=0.02)
    assert counts.count(4) / len(counts) == pytest.approx(1 - sum(pmf[:4]), abs=0.02)


def test_poisson_fanout_without_bounds(fanouts):
    counts = fanout_counts(fanouts, "users", "user_id", "poi_open", "user_id")
    assert sum(counts) / len(counts) == pytest.approx(1.5, rel=0.03)
    assert counts.count(0) / len(counts) == pytest.approx(math.exp(-1.5), abs=0.015)


def test_fact_without_fanout_has_one_child_per_parent(fanouts):
    assert fanouts.column("one", "user_id") == fanouts.column("users", "user_id")


def test_poisson_fanout_large_lambda(dg):
    # lambda above the exact-table limit: 2k parents x 80 = 160k rows, mean within 3%
    c = dg.col
    out = dg.build(
        dg.schema(
            dg.entity("p", c("id", "int", dg.seq()), rows=2000),
            dg.fact("f", ["p"], c("pid", "int", {"lookup": {"from": "p.id"}}),
                    fanout={"distribution": "poisson", "lambda": 80, "min": 60, "max": 200}),
        )
    )  # fmt: skip
    counts = fanout_counts(out, "p", "id", "f", "pid")
    mean = sum(counts) / len(counts)
    var = sum((k - mean) ** 2 for k in counts) / (len(counts) - 1)
    assert mean == pytest.approx(80, rel=0.03)
    assert var == pytest.approx(80 - 0.1, rel=0.15)  # clamped below at 60: slightly under lambda
    assert min(counts) >= 60


def test_fact_of_a_fact(dg):
    c = dg.col
    out = dg.build(
        dg.schema(
            dg.entity("a", c("id", "int", dg.seq()), rows=300),
            dg.fact("b", ["a"], c("id", "int", dg.seq(1000)), c("a_id", "int", {"lookup": {"from": "a.id"}}),
                    c("tag", "string", {"choice": {"choices": ["x", "y", "z", "w"]}}),
                    fanout={"distribution": "uniform", "min": 0, "max": 3}),
            dg.fact("c", ["b"], c("b_id", "int", {"lookup": {"from": "b.id"}}),
                    c("b_tag", "string", {"lookup": {"from": "b.tag"}}),
                    fanout={"distribution": "poisson", "lambda": 2, "max": 5}),
        )
    )  # fmt: skip
    assert out.sql("SELECT count(*) FROM b WHERE a_id NOT IN (SELECT id FROM a)") == [(0,)]
    assert out.column("b", "a_id") == sorted(out.column("b", "a_id"))
    b_tag = dict(zip(out.column("b", "id"), out.column("b", "tag"), strict=True))
    c_rows = list(zip(out.column("c", "b_id"), out.column("c", "b_tag"), strict=True))
    assert c_rows and all(b_tag[k] == tag for k, tag in c_rows)
    assert [k for k, _ in c_rows] == sorted(k for k, _ in c_rows)
    counts = fanout_counts(out, "b", "id", "c", "b_id")
    assert max(counts) <= 5


# ------------------------------------------------------------------- multi-parent facts


def test_multi_parent_fact(dg):
    c = dg.col
    out = dg.build(
        dg.schema(
            dg.entity("users", c("id", "int", dg.seq()), rows=20_000),
            dg.entity("products", c("sku", "string", {"choice": {"choices": ["unused"]}}),
                      c("pid", "int", dg.seq(500, 5)), rows=10),
            dg.fact("orders", ["users", "products"],
                    c("user_id", "int", {"lookup": {"from": "users.id"}}),
                    c("product_id", "int", {"lookup": {"from": "products.pid"}}),
                    fanout={"distribution": "uniform", "min": 2, "max": 3}),
        )
    )  # fmt: skip
    orders = out.table("orders")
    users = orders.column("user_id").to_pylist()
    assert users == sorted(users) and set(users) == set(range(1, 20_001))
    rows = orders.num_rows
    assert 40_000 <= rows <= 60_000
    shares = dict(
        out.sql("SELECT product_id, count(*) / (SELECT count(*) FROM orders) FROM orders GROUP BY ALL")
    )
    assert set(shares) == set(range(500, 550, 5))
    for share in shares.values():
        assert share == pytest.approx(0.1, abs=0.01)
    # the pick of the second parent does not depend on the spawning parent
    picks = orders.column("product_id").to_pylist()
    same = sum(a == b for a, b in zip(picks, picks[1:], strict=False)) / (rows - 1)
    assert same == pytest.approx(0.1, abs=0.01)


# ---------------------------------------------------------------------------- vocab


def test_vocab_rows_are_its_enum_list_and_others_read_it(dg):
    c = dg.col
    out = dg.build(
        dg.schema(
            dg.vocab("status", c("code", "string", {"enum_list": {"values": ["new", "paid", "sent", "void"]}}),
                     c("rank", "int", {"enum_list": {"values": [1, 2, 3, 4]}}),
                     c("weight", "float", {"distribution": {"type": "uniform", "params": {"low": 0, "high": 1}}})),
            dg.entity("o", c("status", "string", {"choice": {"choices_ref": "status.code"}}),
                      c("rank", "int", {"lookup": {"from": "status.rank"}}), rows=4000),
        )
    )  # fmt: skip
    assert out.column("status", "code") == ["new", "paid", "sent", "void"]
    assert out.column("status", "rank") == [1, 2, 3, 4]
    assert all(0 <= w < 1 for w in out.column("status", "weight"))
    assert set(out.column("o", "status")) == {"new", "paid", "sent", "void"}
    assert set(out.column("o", "rank")) == {1, 2, 3, 4}


# ---------------------------------------------------------------------------- self-reference


@pytest.fixture(scope="module")
def staff(dg):
    c = dg.col
    return dg.build(
        dg.schema(
            dg.entity(
                "employee",
                c("employee_id", "int", dg.seq()),
                c("manager_id", "int", {"lookup": {"from": "employee.employee_id"}}, nullable=True),
                c("boss_id", "int", {"lookup": {"from": "employee.employee_id"}}),
                c("code", "string", dg.seq(1000, 3)),  # not arithmetic in the output type: a join
                c("manager_code", "string", {"lookup": {"from": "employee.code"}}, nullable=True),
                c("badge", "int", dg.seq(5, 5), modifiers=[{"transform": "add", "args": {"value": 1}}]),
                c("mentor_badge", "int", {"lookup": {"from": "employee.badge"}}),
                rows=5000,
            )
        )
    )


def test_self_reference_points_at_an_earlier_row_root_null(staff):
    ids, managers = staff.column("employee", "employee_id"), staff.column("employee", "manager_id")
    assert ids == list(range(1, 5001))
    assert managers[0] is None
    assert all(m is not None and 1 <= m < i for i, m in zip(ids[1:], managers[1:], strict=True))


def test_self_reference_not_nullable_root_is_itself(staff):
    ids, bosses = staff.column("employee", "employee_id"), staff.column("employee", "boss_id")
    assert bosses[0] == ids[0]
    assert all(1 <= b < i for i, b in zip(ids[1:], bosses[1:], strict=True))


def test_self_reference_to_a_non_arithmetic_column(staff):
    codes, managers = staff.column("employee", "code"), staff.column("employee", "manager_code")
    row_of = {code: r for r, code in enumerate(codes)}
    assert len(row_of) == 5000 and managers[0] is None
    assert all(row_of[m] < r for r, m in enumerate(managers) if r > 0)
    badges, mentors = staff.column("employee", "badge"), staff.column("employee", "mentor_badge")
    assert badges[:3] == [6, 11, 16]
    badge_row = {b: r for r, b in enumerate(badges)}
    assert mentors[0] == badges[0]
    assert all(badge_row[m] < r for r, m in enumerate(mentors) if r > 0)


def test_self_reference_picks_uniformly_among_earlier_rows(staff):
    # row r picks an earlier row uniformly from [0, r): pick / r is about U(0, 1)
    mean = staff.one("SELECT avg((manager_id - 1) / (employee_id - 1)) FROM employee WHERE employee_id > 1")
    assert mean == pytest.approx(0.5, abs=0.02)


# ---------------------------------------------------------------------------- lookups


@pytest.fixture(scope="module")
def shop(dg):
    c = dg.col
    return dg.build(
        dg.schema(
            dg.entity(
                "products",
                c("product_id", "int", dg.seq(10, 10)),
                c("sku", "string", dg.seq(9000, 1)),
                c(
                    "price",
                    "float",
                    {"distribution": {"type": "lognormal", "params": {"mean": 2, "sigma": 1}}},
                ),
                c("name", "string", {"choice": {"choices": ["tea", "mug", "pot", "cup", "bag"]}}),
                rows=300,
            ),
            dg.entity(
                "lines",
                # the joined lookups are listed before the keys they join on
                c(
                    "unit_price",
                    "float",
                    {"lookup": {"from": "products.price", "on": {"this_key": "product_id"}}},
                ),
                c(
                    "price_by_pid",
                    "float",
                    {"lookup": {"from": "products.price", "on": {"pid": "product_id"}}},
                ),
                c("name_by_sku", "string", {"lookup": {"from": "products.name", "on": {"sku": "sku"}}}),
                c("product_id", "int", {"lookup": {"from": "products.product_id"}}),
                c("pid", "int", {"lookup": {"from": "products.product_id"}}),
                c("sku", "string", {"lookup": {"from": "products.sku"}}),
                c("any_price", "float", {"lookup": {"from": "products.price"}}),
                rows=30_000,
            ),
        )
    )


def test_on_lookup_this_key_equals_a_sql_join(shop):
    mismatched = shop.one(
        "SELECT count(*) FROM lines l LEFT JOIN products p USING (product_id)"
        " WHERE l.unit_price IS DISTINCT FROM p.price"
    )
    assert mismatched == 0
    assert shop.one("SELECT count(*) FROM lines WHERE unit_price IS NULL") == 0


def test_on_lookup_local_remote_equals_a_sql_join(shop):
    mismatched = shop.one(
        "SELECT count(*) FROM lines l LEFT JOIN products p ON p.product_id = l.pid"
        " WHERE l.price_by_pid IS DISTINCT FROM p.price"
    )
    assert mismatched == 0
    mismatched = shop.one(
        "SELECT count(*) FROM lines l LEFT JOIN products p ON p.sku = l.sku WHERE l.name_by_sku IS DISTINCT FROM p.name"
    )
    assert mismatched == 0


def test_random_lookups_are_uniform_over_rows(shop):
    # 30k rows over 300 products: each product drawn ~100 times; the counts look Poisson(100)
    for column in ("product_id", "pid", "sku"):
        counts = [k for (k,) in shop.sql(f"SELECT count(*) FROM lines GROUP BY {column}")]
        assert len(counts) == 300, column
        mean = sum(counts) / 300
        var = sum((k - mean) ** 2 for k in counts) / 299
        assert 60 <= var <= 145, column
    assert shop.one("SELECT count(*) FROM lines WHERE any_price NOT IN (SELECT price FROM products)") == 0
    # different columns draw different rows
    assert shop.one("SELECT avg((product_id = pid)::INT) FROM lines") < 0.01


def test_lookup_target_values_keep_their_row_order(shop):
    assert shop.column("products", "product_id") == list(range(10, 3010, 10))
    assert shop.column("products", "sku") == [str(k) for k in range(9000, 9300)]


def test_helper_tables_are_dropped_after_their_table(dg, tmp_path):
    """Fanout, grid and row-number tables live only for their table's section; a table later
    tables read stays for them."""
    c = dg.col
    schema = dg.schema(
        dg.entity("users", c("user_id", "int", dg.seq()), c("tier", "int", {"choice": {"choices_ref": "tiers.t"}}),
                  rows=300_000),  # events read its values: kept
        dg.vocab("tiers", c("t", "int", {"enum_list": {"values": [1, 2, 3]}})),
        dg.fact(
            "events",
            ["users"],
            c("user_id", "int", {"lookup": {"from": "users.user_id"}}),
            c("tier", "int", {"lookup": {"from": "users.tier"}}),
            c("at", "datetime", {"datetime_series": {"within": "timeframe", "freq": "H",
                                                      "pattern": {"dimension": "hour", "weights": [1] * 12 + [3] * 12}}}),
            fanout={"distribution": "uniform", "min": 0, "max": 2},
        ),
        timeframe={"start": "2024-01-01", "end": "2024-02-01", "freq": "H"},
    )  # fmt: skip
    script = dg.emit_sql(schema, "--out-dir", (tmp_path / "out").as_posix())
    assert '"__dg_rows_users"' in script and '"__dg_fanout_events"' in script
    con = duckdb.connect()
    con.execute(f"COPY (SELECT 1) TO '{tmp_path}/probe.csv'")  # the folder exists
    con.execute(script)
    left = [name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
    assert sorted(left) == ["tiers", "users"]


def test_a_fact_read_only_by_row_index_is_streamed_and_counted(dg, monkeypatch, tmp_path):
    """``mid`` spawns ``leaf`` and gives it its sequence key only: it is streamed to Parquet and
    leaves its row count; the rows are the ones a kept ``mid`` gives."""
    plan = importlib.import_module("dgsql.compiler.plan")
    c = dg.col
    normal = {"distribution": {"type": "normal", "params": {"mean": 0, "std": 1}}}
    schema = dg.schema(
        dg.entity("top", c("id", "int", dg.seq()), c("x", "float", normal), rows=2000),
        dg.fact("mid", ["top"], c("id", "int", dg.seq(5, 2)), c("top_x", "float", {"lookup": {"from": "top.x"}}),
                fanout={"distribution": "poisson", "lambda": 3}),
        dg.fact("leaf", ["mid"], c("id", "int", dg.seq()), c("mid_id", "int", {"lookup": {"from": "mid.id"}}),
                c("top_x", "float", {"lookup": {"from": "top.x"}}), fanout={"distribution": "uniform", "min": 0, "max": 3}),
    )  # fmt: skip
    script = dg.emit_sql(schema)
    assert 'TEMP TABLE "top" AS' not in script and 'TEMP TABLE "mid" AS' not in script
    assert 'FROM (SELECT range AS __dg_row FROM range((SELECT n FROM "__dg_count_mid"))) AS __dg_p' in script
    streamed = dg.build(schema, "--threads", "2")
    con = duckdb.connect()
    con.execute(dg.emit_sql(schema, "--out-dir", (tmp_path / "out").as_posix()))
    left = [name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
    assert left == ["__dg_count_mid"]
    monkeypatch.setattr(plan, "_later_reads", lambda ds, table, facts: (True, True))
    assert 'TEMP TABLE "mid" AS' in dg.emit_sql(schema)
    kept = dg.build(schema, "--threads", "2")
    for name in ("top", "mid", "leaf"):
        assert streamed.table(name).equals(kept.table(name)), name
    mid_ids = set(streamed.column("mid", "id"))
    assert set(streamed.column("leaf", "mid_id")) <= mid_ids and streamed.table("leaf").num_rows > 6000


@pytest.mark.parametrize("rows", [300_000, 150_001])
def test_row_number_tables_and_range_write_the_same_rows(dg, monkeypatch, rows):
    """An entity of plan.ROW_TABLE_ROWS reads a table of row numbers, one of
    plan.SPLIT_ROWS (an odd count here) two padded row groups of them; the rows are the
    ones range(n) gives, in its order."""
    render = importlib.import_module("dgsql.compiler.plan")
    c = dg.col
    schema = dg.schema(
        dg.entity("big", c("id", "int", dg.seq()),
                  c("u", "float", {"distribution": {"type": "normal", "params": {"mean": 0, "std": 1}}}),
                  rows=rows),
    )  # fmt: skip
    assert rows in render.ROW_TABLE_ROWS or rows in render.SPLIT_ROWS
    sql = dg.emit_sql(schema)
    assert "__dg_rows_big" in sql and ("WHERE __dg_row < 150001" in sql) == (rows in render.SPLIT_ROWS)
    table = dg.build(schema, "--threads", "2").table("big")
    assert table.column("id").to_pylist() == list(range(1, rows + 1))
    monkeypatch.setattr(render, "ROW_TABLE_ROWS", range(0))
    monkeypatch.setattr(render, "SPLIT_ROWS", range(0))
    assert "__dg_rows_big" not in dg.emit_sql(schema)
    assert dg.build(schema, "--threads", "2").table("big").equals(table)


def test_only_faker_entities_split_below_a_row_group(dg):
    render = importlib.import_module("dgsql.compiler.plan")
    c = dg.col
    plain = dg.schema(dg.entity("t", c("id", "int", dg.seq()), rows=40_000))
    named = dg.schema(dg.entity("t", c("id", "int", dg.seq()),
                                c("n", "string", {"faker": {"method": "name"}}), rows=40_000))  # fmt: skip
    assert 40_000 in render.SPLIT_FAKER_ROWS and 40_000 not in render.SPLIT_ROWS
    assert "__dg_rows_t" not in dg.emit_sql(plain)
    assert "__dg_rows_t" in dg.emit_sql(named)


def test_fanout_runs_and_one_row_per_parent_write_the_same_children(dg, monkeypatch):
    """130k parents (more than a row group): the fanout table holds one row per parent; split
    in runs of 2 children it gives the same children in the same order."""
    render = importlib.import_module("dgsql.compiler.plan")
    c = dg.col
    schema = dg.schema(
        dg.entity("p", c("pid", "int", dg.seq()), rows=130_000),
        dg.fact("c", ["p"], c("id", "int", dg.seq()), c("pid", "int", {"lookup": {"from": "p.pid"}}),
                c("x", "float", {"distribution": {"type": "normal", "params": {"mean": 0, "std": 1}}}),
                fanout={"distribution": "poisson", "lambda": 3}),
    )  # fmt: skip
    assert "__dg_chunk" not in dg.emit_sql(schema)
    table = dg.build(schema, "--threads", "2").table("c")
    monkeypatch.setattr(render, "fanout_chunk", lambda fanout, parents, children: 2)
    assert "__dg_chunk * 2" in dg.emit_sql(schema)
    assert dg.build(schema, "--threads", "2").table("c").equals(table)


def test_fanout_chunk_only_splits_few_parents_with_runs_to_split():
    plan = render = importlib.import_module("dgsql.compiler.plan")
    unbounded = plan.Fanout("p", "poisson", 100.0, 0, None)
    assert render.fanout_chunk(unbounded, 100_000, 10_000_000) == render.FANOUT_CHUNK
    assert render.fanout_chunk(unbounded, 100_000, 2_000_000) == 4
    assert render.fanout_chunk(unbounded, 10_000, 2 * render.ROW_GROUP) == 1
    assert render.fanout_chunk(unbounded, 10_000, 2 * render.ROW_GROUP - 1) is None
    assert render.fanout_chunk(unbounded, render.ROW_GROUP, 10_000_000) is None
    assert render.fanout_chunk(plan.Fanout("p", "poisson", 4.0, 0, 4), 100_000, 2_000_000) is None
    assert render.fanout_chunk(plan.Fanout("p", "poisson", 4.0, 0, 5), 100_000, 2_000_000) == 4


def test_on_lookup_with_int_keys_a_float_column_cannot_tell_apart_matches_once(dg):
    """Two int keys beyond 2^53 compare equal to one float: each row still matches once, and
    the first of the two rows wins."""
    big = 2**53
    c = dg.col
    out = dg.build(
        dg.schema(
            {"id": "codes", "kind": "vocab", "pk": "code", "columns": [
                c("code", "int", {"enum_list": {"values": [big + 1, big, 7]}}),
                c("label", "string", {"enum_list": {"values": ["first", "second", "seven"]}})]},
            {"id": "hits", "kind": "vocab", "pk": "n", "columns": [
                c("n", "int", {"enum_list": {"values": [0, 1, 2]}}),
                c("code", "float", {"enum_list": {"values": [float(big), 7.0, 8.0]}}),
                c("label", "string", {"lookup": {"from": "codes.label", "on": {"this_key": "code"}}})]},
        )
    )  # fmt: skip
    hits = out.table("hits")
    assert hits.column("n").to_pylist() == [0, 1, 2]
    assert hits.column("label").to_pylist() == ["first", "seven", None]
