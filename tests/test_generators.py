"""Per generator: exact values where dsl-v1.md is exact, statistical bounds where it is random.

Statistical bounds are stated with their row count; every bound is at least 4 standard errors wide, so
a correct generator fails them with negligible probability (and, the data being deterministic, either
always or never for a given compiler).
"""

from __future__ import annotations

import importlib
import math
from datetime import datetime, timedelta

import pytest

from dgsql.compiler.generators.distribution import poisson
from dgsql.dsl import model as S
from dgsql.dsl.laws import poisson_pmf, poisson_point

N = 50_000
"Rows of the shared statistics table."


def shares(out, table: str, column: str) -> dict:
    """value → share of rows."""
    rows = out.sql(f'SELECT "{column}", count(*) / sum(count(*)) OVER () FROM "{table}" GROUP BY ALL')
    return dict(rows)


def assert_shares(observed: dict, expected: dict, tol: float = 0.01) -> None:
    assert set(observed) <= set(expected), f"drawn but not expected: {set(observed) - set(expected)}"
    for value, p in expected.items():
        assert observed.get(value, 0.0) == pytest.approx(p, abs=tol), f"share of {value!r}"


def normalised(weights: list[float]) -> list[float]:
    total = sum(weights)
    return [w / total for w in weights]


def zipf(n: int, a: float) -> list[float]:
    return normalised([1 / i**a for i in range(1, n + 1)])


def head_tail(n: int, h: float, a: float) -> list[float]:
    head = max(1, math.floor(0.2 * n))
    tail = [1 / i**a for i in range(1, n - head + 1)]
    return [h / head] * head + [(1 - h) * w / sum(tail) for w in tail]


# ----------------------------------------------------------------- sequence


def test_sequence_is_start_plus_step_times_row(dg):
    out = dg.build(
        dg.schema(
            dg.entity(
                "s",
                dg.col("default", "int", {"sequence": {}}),
                dg.col("stepped", "int", dg.seq(5, 3)),
                dg.col("down", "int", dg.seq(100, -7)),
                dg.col("fractional", "float", dg.seq(0.5, 0.25)),
                dg.col(
                    "with_add", "int", dg.seq(10, 2), modifiers=[{"transform": "add", "args": {"value": 1}}]
                ),
                dg.col("text", "string", dg.seq(1, 1)),
                rows=1000,
            )
        )
    )
    t = out.table("s")
    i = range(1000)
    assert t.column("default").to_pylist() == [1 + k for k in i]
    assert t.column("stepped").to_pylist() == [5 + 3 * k for k in i]
    assert t.column("down").to_pylist() == [100 - 7 * k for k in i]
    assert t.column("fractional").to_pylist() == [0.5 + 0.25 * k for k in i]
    assert t.column("with_add").to_pylist() == [11 + 2 * k for k in i]
    assert t.column("text").to_pylist() == [str(1 + k) for k in i]


def test_int_column_rounds_floats_to_nearest(dg):
    # 1 + 0.4 i has fractional parts .0 .4 .8 .2 .6 -- never a tie
    out = dg.build(
        dg.schema(
            dg.entity(
                "r",
                dg.col("i", "int", dg.seq(0, 1)),
                dg.col("stepped", "int", dg.seq(1, 0.4)),
                dg.col("third", "int", {"expression": {"code": "i / 3"}}),
                dg.col("neg", "int", {"expression": {"code": "0 - i / 3"}}),
                rows=300,
            )
        )
    )
    t = out.table("r")
    assert t.schema.field("stepped").type == "int64"
    assert t.column("stepped").to_pylist() == [round(1 + 0.4 * k) for k in range(300)]
    assert t.column("third").to_pylist() == [round(k / 3) for k in range(300)]
    assert t.column("neg").to_pylist() == [round(-k / 3) for k in range(300)]


# ------------------------------------------------------------------- shared table of random columns


@pytest.fixture(scope="module")
def stats(dg):
    """One 50k-row entity holding a column per random construct."""
    c = dg.col
    ten = [f"v{k}" for k in range(10)]
    twenty = [f"w{k}" for k in range(20)]
    columns = [
        c("id", "int", dg.seq()),
        c("weighted", "string", {"choice": {"choices": ["a", "b", "c", "d"], "weights": [5, 3, 0, 2]}}),
        c("uniform_kind", "string", {"choice": {"choices": ["a", "b", "c", "d", "e"], "weights_kind": "uniform"}}),
        c("implicit_uniform", "int", {"choice": {"choices": [10, 20, 30, 40]}}),
        c("zipf", "string", {"choice": {"choices": ten, "weights_kind": "zipf@1.2"}}),
        c("head_tail", "string", {"choice": {"choices": ten, "weights_kind": "head_tail@{0.6,1.0}"}}),
        c("many", "string", {"choice": {"choices": twenty, "weights_kind": "zipf@0.8"}}),
        c(
            "many_zero",
            "string",
            {"choice": {"choices": twenty, "weights": [0 if k % 3 == 0 else k for k in range(20)]}},
        ),
        c("flag", "bool", {"choice": {"choices": [True, False], "weights": [0.3, 0.7]}}),
        c("normal", "float", {"distribution": {"type": "normal", "params": {"mean": 100, "std": 15}}}),
        c(
            "normal_clamped",
            "float",
            {"distribution": {"type": "normal", "params": {"mean": 0, "std": 1}, "clamp": [-1, 1.5]}},
        ),
        c("normal_int", "int", {"distribution": {"type": "normal", "params": {"mean": 40, "std": 10}}}),
        c("lognormal", "float", {"distribution": {"type": "lognormal", "params": {"mean": 3, "sigma": 0.5}}}),
        c("uniform", "float", {"distribution": {"type": "uniform", "params": {"low": -2, "high": 8}}}),
        c(
            "die",
            "int",
            {"distribution": {"type": "uniform", "params": {"low": 1, "high": 6}, "clamp": [1, 6]}},
        ),
        c("poisson", "int", {"distribution": {"type": "poisson", "params": {"lambda": 4}, "clamp": [0, 100]}}),
        c("poisson_big", "int", {"distribution": {"type": "poisson", "params": {"lambda": 200}}}),
        c("poisson_alias", "int", {"distribution": {"type": "poisson", "params": {"lambda": 12}}}),
        c(
            "poisson_clamped",
            "int",
            {"distribution": {"type": "poisson", "params": {"lambda": 3}, "clamp": [2, 5]}},
        ),
        c("nulls", "float", {"distribution": {"type": "normal", "params": {"mean": 0, "std": 1}}}, nullable=True,
          null_rate=0.2),
        c("no_rate", "float", {"distribution": {"type": "normal", "params": {"mean": 0, "std": 1}}}, nullable=True),
    ]  # fmt: skip
    return dg.build(dg.schema(dg.entity("r", *columns, rows=N)))


def test_stats_table_has_the_rows(stats):
    assert stats.one("SELECT count(*) FROM r") == N


def test_choice_shares_follow_normalised_weights(stats):
    # 50k rows, +-0.01
    assert_shares(shares(stats, "r", "weighted"), {"a": 0.5, "b": 0.3, "d": 0.2})
    assert_shares(shares(stats, "r", "flag"), {True: 0.3, False: 0.7})


def test_choice_zero_weight_is_never_drawn(stats):
    assert stats.one("SELECT count(*) FROM r WHERE weighted = 'c'") == 0
    drawn = {v for (v,) in stats.sql("SELECT DISTINCT many_zero FROM r")}
    assert drawn == {f"w{k}" for k in range(20) if k % 3 != 0}


def test_choice_uniform_kind_and_default_are_uniform(stats):
    assert_shares(shares(stats, "r", "uniform_kind"), dict.fromkeys("abcde", 0.2))
    assert_shares(shares(stats, "r", "implicit_uniform"), dict.fromkeys([10, 20, 30, 40], 0.25))


def test_choice_zipf_shares(stats):
    expected = dict(zip([f"v{k}" for k in range(10)], zipf(10, 1.2), strict=True))
    assert_shares(shares(stats, "r", "zipf"), expected)


def test_choice_head_tail_shares(stats):
    # n=10: the first 2 share 0.6 equally; the other 8 share 0.4 by zipf(1.0) over ranks 1..8
    expected = dict(zip([f"v{k}" for k in range(10)], head_tail(10, 0.6, 1.0), strict=True))
    assert expected["v0"] == pytest.approx(0.3)
    assert_shares(shares(stats, "r", "head_tail"), expected)


def test_choice_many_choices_zipf_shares(stats):
    # 20 choices: more than a CASE chain, so the alias-table path
    expected = dict(zip([f"w{k}" for k in range(20)], zipf(20, 0.8), strict=True))
    assert_shares(shares(stats, "r", "many"), expected)


def test_choice_many_choices_explicit_weights_shares(stats):
    weights = [0 if k % 3 == 0 else k for k in range(20)]
    expected = dict(zip([f"w{k}" for k in range(20)], normalised(weights), strict=True))
    assert_shares(shares(stats, "r", "many_zero"), expected)


def test_normal_mean_and_std(stats):
    mean, std = stats.sql("SELECT avg(normal), stddev_samp(normal) FROM r")[0]
    assert mean == pytest.approx(100, rel=0.02)
    assert std == pytest.approx(15, rel=0.02)
    # a normal, not just any distribution with that mean and std: 68.3% within one std
    within = stats.one("SELECT avg((abs(normal - 100) < 15)::INT) FROM r")
    assert within == pytest.approx(0.6827, abs=0.01)


def test_normal_clamp_bounds_values(stats):
    lo, hi, at_lo, at_hi = stats.sql(
        "SELECT min(normal_clamped), max(normal_clamped), avg((normal_clamped = -1)::INT),"
        " avg((normal_clamped = 1.5)::INT) FROM r"
    )[0]
    assert (lo, hi) == (-1.0, 1.5)
    assert at_lo == pytest.approx(0.1587, abs=0.01)  # P(Z < -1)
    assert at_hi == pytest.approx(0.0668, abs=0.01)  # P(Z > 1.5)


def test_normal_on_int_column_is_rounded(stats):
    t = stats.table("r")
    assert t.schema.field("normal_int").type == "int64"
    mean, std = stats.sql("SELECT avg(normal_int), stddev_samp(normal_int) FROM r")[0]
    assert mean == pytest.approx(40, rel=0.02)
    assert std == pytest.approx(math.sqrt(10**2 + 1 / 12), rel=0.02)  # rounding adds 1/12 variance


def test_lognormal_median_is_exp_mean(stats):
    median, log_std = stats.sql("SELECT median(lognormal), stddev_samp(ln(lognormal)) FROM r")[0]
    assert median == pytest.approx(math.exp(3), rel=0.02)
    assert log_std == pytest.approx(0.5, rel=0.02)
    assert stats.one("SELECT min(lognormal) FROM r") > 0


def test_uniform_float_range_and_flat_bins(stats):
    lo, hi, mean = stats.sql("SELECT min(uniform), max(uniform), avg(uniform) FROM r")[0]
    assert -2 <= lo < -1.99 and 7.99 < hi <= 8
    assert mean == pytest.approx(3, abs=0.07)
    bins = dict(stats.sql("SELECT floor(uniform + 2)::INT, count(*) / 50000 FROM r GROUP BY ALL"))
    assert_shares(bins, dict.fromkeys(range(10), 0.1))


def test_uniform_int_includes_both_ends(stats):
    assert_shares(shares(stats, "r", "die"), dict.fromkeys(range(1, 7), 1 / 6))


def test_poisson_column_mean_and_variance(stats):
    mean, var, lo = stats.sql("SELECT avg(poisson), var_samp(poisson), min(poisson) FROM r")[0]
    assert mean == pytest.approx(4, rel=0.03)
    assert var == pytest.approx(4, rel=0.05)
    assert lo == 0
    p0 = stats.one("SELECT avg((poisson = 0)::INT) FROM r")
    assert p0 == pytest.approx(math.exp(-4), abs=0.005)


def test_poisson_large_lambda_mean_and_variance(stats):
    mean, var = stats.sql("SELECT avg(poisson_big), var_samp(poisson_big) FROM r")[0]
    assert mean == pytest.approx(200, rel=0.01)
    assert var == pytest.approx(200, rel=0.05)
    assert stats.one("SELECT count(*) FROM r WHERE poisson_big <> round(poisson_big)") == 0


@pytest.mark.parametrize("lam", [19.69, 24.36, 29.33, 3.0, 50.0])
def test_poisson_table_ends_for_lambdas_whose_float_sum_stops_short_of_one(lam):
    """For some lambdas the running sum of the pmf never reaches 1 - 1e-15 in floats: the table
    must still end (it once looped forever on an unbounded Poisson fanout of lambda 19.69)."""
    pmf = poisson_pmf(lam, 0, None)
    assert len(pmf) < 200 and math.isclose(math.fsum(pmf), 1.0, abs_tol=1e-12)
    mean = math.fsum(k * p for k, p in enumerate(pmf))
    assert math.isclose(mean, lam, rel_tol=1e-9)


def test_poisson_clamped_above_all_its_mass_is_the_constant_min_without_a_table():
    """``min: 10**9`` with lambda 3: every draw is the min; no 10^9-entry table is built."""
    assert poisson_point(3.0, 10**9, None) == 10**9
    assert poisson_point(3.0, 5, 5) == 5
    assert poisson_point(3.0, 2, None) is None
    assert poisson(3.0, "u", "z", 10**9, None) == "1000000000"


def test_small_lambda_is_a_case_over_the_pmf_larger_an_alias_pick():
    def one_line(sql: str) -> str:
        return " ".join(sql.split())

    assert one_line(poisson(4.0, "u", "z", 0, 100)).startswith(
        "(CASE WHEN u < 0.0183"
    )  # e^-4, then the running pmf
    assert one_line(poisson(1.4, "u", "z", 1, 20)).startswith(
        "(CASE WHEN u < 0.59"
    )  # P(0) + P(1) folded onto 1
    assert poisson(12.0, "u", "z", 0, None).startswith("dg_alias(u, ")
    # about lambda + 1 comparisons: lambda 4.5 is the last CASE, whatever the last bits of exp()
    assert poisson(4.5, "u", "z", 0, None).startswith("(CASE")
    assert poisson(4.51, "u", "z", 0, None).startswith("dg_alias(u, ")
    # a high min leaves few comparisons (most mass folded onto it) but too many branches
    assert poisson(20.0, "u", "z", 22, None).startswith("dg_alias(u, ")


@pytest.mark.parametrize("column, lam", [("poisson", 4.0), ("poisson_alias", 12.0)])
def test_poisson_shares_follow_the_pmf_either_way(stats, column, lam):
    """50k rows, each value's share within 0.01 of its probability (CASE and alias pick)."""
    pmf = poisson_pmf(lam, 0, 100 if column == "poisson" else None)
    assert_shares(shares(stats, "r", column), dict(enumerate(pmf)))


def test_poisson_clamp(stats):
    observed = shares(stats, "r", "poisson_clamped")
    pmf = [math.exp(-3) * 3**k / math.factorial(k) for k in range(6)]
    expected = {2: sum(pmf[:3]), 3: pmf[3], 4: pmf[4], 5: 1 - sum(pmf[:5])}
    assert_shares(observed, expected)


def test_null_rate_share(stats):
    assert stats.one("SELECT avg((nulls IS NULL)::INT) FROM r") == pytest.approx(0.2, abs=0.01)
    assert stats.one("SELECT count(*) FROM r WHERE no_rate IS NULL") == 0
    nullable = {f.name: f.nullable for f in stats.table("r").schema}
    assert nullable["nulls"]


# -------------------------------------------------------------- choices_ref


@pytest.fixture(scope="module")
def refs(dg):
    c = dg.col
    colors = ["red", "red", "red", "green", "blue"]
    return dg.build(
        dg.schema(
            dg.vocab("color", c("name", "string", {"enum_list": {"values": colors}})),
            dg.entity("city", c("id", "int", dg.seq(100, 10)),
                      c("code", "string", {"choice": {"choices": ["x", "y", "z"]}}), rows=10),
            dg.entity("parent", c("id", "int", dg.seq()), rows=100),
            dg.fact("kid", ["parent"], c("tag", "int", dg.seq(0, 1)),
                    fanout={"distribution": "uniform", "min": 1, "max": 1}),
            dg.entity(
                "pick",
                c("color", "string", {"choice": {"choices_ref": "color.name"}}),
                c("color_zipf", "string", {"choice": {"choices_ref": "color.name", "weights_kind": "zipf@1.0"}}),
                c("city_id", "int", {"choice": {"choices_ref": "city.id"}}),
                c("city_code", "string", {"choice": {"choices_ref": "city.code"}}),
                c("city_zipf", "int", {"choice": {"choices_ref": "city.id", "weights_kind": "zipf@1.5"}}),
                c("kid_zipf", "int", {"choice": {"choices_ref": "kid.tag", "weights_kind": "zipf@1.1"}}),
                c("kid_uniform", "int", {"choice": {"choices_ref": "kid.tag"}}),
                rows=N,
            ),
        )
    )  # fmt: skip


def test_choices_ref_values_come_from_the_referenced_column(refs):
    for column, ref in [
        ("color", "color.name"),
        ("color_zipf", "color.name"),
        ("city_id", "city.id"),
        ("city_code", "city.code"),
        ("city_zipf", "city.id"),
        ("kid_zipf", "kid.tag"),
        ("kid_uniform", "kid.tag"),
    ]:
        table, col = ref.split(".")
        stray = refs.one(f'SELECT count(*) FROM pick WHERE "{column}" NOT IN (SELECT "{col}" FROM "{table}")')
        assert stray == 0, column
        assert refs.one(f'SELECT count(*) FROM pick WHERE "{column}" IS NULL') == 0, column


def test_choices_ref_keeps_duplicates(refs):
    # 3 of the 5 vocab rows are 'red': drawn uniformly by row, red gets 3/5
    assert_shares(shares(refs, "pick", "color"), {"red": 0.6, "green": 0.2, "blue": 0.2})


def test_choices_ref_weights_kind_ranks_rows_in_row_order(refs):
    w = zipf(5, 1.0)
    assert_shares(
        shares(refs, "pick", "color_zipf"), {"red": w[0] + w[1] + w[2], "green": w[3], "blue": w[4]}
    )
    assert_shares(
        shares(refs, "pick", "city_zipf"), dict(zip(range(100, 200, 10), zipf(10, 1.5), strict=True))
    )


def test_choices_ref_uniform_over_rows(refs):
    assert_shares(shares(refs, "pick", "city_id"), dict.fromkeys(range(100, 200, 10), 0.1))
    codes = dict(refs.sql("SELECT code, count(*) / 10 FROM city GROUP BY ALL"))
    assert_shares(shares(refs, "pick", "city_code"), codes)


def test_choices_ref_into_a_fact_ranks_its_rows(refs):
    # kid has one row per parent, tag = row index 0..99; its size is known only at run time
    assert refs.column("kid", "tag") == list(range(100))
    assert_shares(shares(refs, "pick", "kid_zipf"), dict(enumerate(zipf(100, 1.1))))
    assert_shares(shares(refs, "pick", "kid_uniform"), dict.fromkeys(range(100), 0.01), tol=0.004)


def test_choices_ref_head_tail_into_a_fact(dg):
    c = dg.col
    out = dg.build(
        dg.schema(
            dg.entity("parent", c("id", "int", dg.seq()), rows=100),
            dg.fact("kid", ["parent"], c("tag", "int", dg.seq(0, 1))),
            dg.entity(
                "pick",
                c("v", "int", {"choice": {"choices_ref": "kid.tag", "weights_kind": "head_tail@{0.5,1.2}"}}),
                rows=N,
            ),
        )
    )
    assert_shares(shares(out, "pick", "v"), dict(enumerate(head_tail(100, 0.5, 1.2))))


# ----------------------------------------------------------------- enum_list


def test_enum_list_row_i_is_values_i(dg):
    values = ["north", "south", "it's", 'we"st', "", "naïve"]
    out = dg.build(
        dg.schema(
            dg.vocab(
                "region",
                dg.col("name", "string", {"enum_list": {"values": values}}),
                dg.col("code", "int", {"enum_list": {"values": [7, 3, 9, 1, 4, 2]}}),
                dg.col("id", "int", dg.seq()),
                pk="name",
            )
        )
    )
    t = out.table("region")
    assert t.column("name").to_pylist() == values
    assert t.column("code").to_pylist() == [7, 3, 9, 1, 4, 2]
    assert t.column("id").to_pylist() == [1, 2, 3, 4, 5, 6]


# ---------------------------------------------------------------- expression


def test_expression_equals_python_arithmetic(dg):
    c = dg.col
    columns = [
        # listed before the columns it reads
        c("total", "float", {"expression": {"code": "unit_price * quantity"}}),
        c("unit_price", "float", {"distribution": {"type": "uniform", "params": {"low": 1, "high": 50}}}),
        c("quantity", "int", {"distribution": {"type": "uniform", "params": {"low": 1, "high": 9}}}),
        c("mixed", "float", {"expression": {"code": "(quantity + 2) * 3 - unit_price / 4 + quantity % 4"}}),
        c("ratio", "float", {"expression": {"code": "quantity / 2"}}),
        c("funcs", "float", {"expression": {"code":
            "abs(unit_price - 25) + round(unit_price, 2) + floor(unit_price) + ceil(unit_price)"
            " + sqrt(quantity) + exp(quantity / 10) + ln(unit_price) + pow(quantity, 3)"}}),
        c("extrema", "float", {"expression": {"code": "least(unit_price, 10) + greatest(quantity, 5)"}}),
        c("chained", "float", {"expression": {"code": "total - mixed"}}),
        c("maybe", "float", {"choice": {"choices": [1.5, 2.5]}}, nullable=True, null_rate=0.5),
        c("filled", "float", {"expression": {"code": "coalesce(maybe, -1)"}}),
        c("big", "bool", {"expression": {"code": "quantity >= 5 and not unit_price < 10 or quantity = 1"}}),
        c("ne", "bool", {"expression": {"code": "quantity != 3"}}),
    ]  # fmt: skip
    out = dg.build(dg.schema(dg.entity("line", *columns, rows=2000)))
    rows = out.table("line").to_pylist()
    assert len(rows) == 2000
    assert {r["quantity"] for r in rows} == set(range(1, 10))
    assert any(r["maybe"] is None for r in rows) and any(r["maybe"] is not None for r in rows)
    for r in rows:
        p, q = r["unit_price"], r["quantity"]
        assert r["total"] == pytest.approx(p * q, rel=1e-12)
        assert r["mixed"] == pytest.approx((q + 2) * 3 - p / 4 + q % 4, rel=1e-12)
        assert r["ratio"] == q / 2
        funcs = (
            abs(p - 25) + round(p, 2) + math.floor(p) + math.ceil(p)
            + math.sqrt(q) + math.exp(q / 10) + math.log(p) + q**3
        )  # fmt: skip
        assert r["funcs"] == pytest.approx(funcs, rel=1e-9)
        assert r["extrema"] == pytest.approx(min(p, 10) + max(q, 5), rel=1e-12)
        assert r["chained"] == pytest.approx(r["total"] - r["mixed"], rel=1e-9, abs=1e-9)
        assert r["filled"] == (-1 if r["maybe"] is None else r["maybe"])
        assert r["big"] == ((q >= 5 and not p < 10) or q == 1)
        assert r["ne"] == (q != 3)


def test_expression_log_is_natural_log(dg):
    c = dg.col
    out = dg.build(
        dg.schema(dg.entity("e", c("x", "int", dg.seq()), c("lg", "float", {"expression": {"code": "log(x)"}}),
                            rows=50))
    )  # fmt: skip
    for x, lg in zip(out.column("e", "x"), out.column("e", "lg"), strict=True):
        assert lg == pytest.approx(math.log(x), rel=1e-12, abs=1e-15)


def test_expression_log_next_to_a_self_lookup(dg):
    c = dg.col
    out = dg.build(
        dg.schema(
            dg.entity(
                "e",
                c("a", "float", {"distribution": {"type": "uniform", "params": {"low": 1, "high": 5}}}),
                c("lg", "float", {"expression": {"code": "log(a)"}}),
                c("prev_a", "float", {"lookup": {"from": "e.a"}}, nullable=True),
                rows=50,
            )
        )
    )
    for a, lg in zip(out.column("e", "a"), out.column("e", "lg"), strict=True):
        assert lg == pytest.approx(math.log(a), rel=1e-12)


# ----------------------------------------------------------- datetime_series

FREQS = {
    "S": timedelta(seconds=1),
    "T": timedelta(minutes=1),
    "min": timedelta(minutes=1),
    "H": timedelta(hours=1),
    "h": timedelta(hours=1),
    "D": timedelta(days=1),
    "W": timedelta(weeks=1),
    "15min": timedelta(minutes=15),
    "2H": timedelta(hours=2),
}
"Each frequency, and the span that gives it 10..14 grid points from 2024-03-06 (a Wednesday) 06:30."


@pytest.fixture(scope="module")
def grids(dg):
    start = datetime(2024, 3, 6, 6, 30)
    columns = []
    for i, (freq, step) in enumerate(FREQS.items()):
        end = start + step * 12 + step / 2  # 13 points; the end falls between two points
        span = {"start": start.isoformat(), "end": end.isoformat()}
        columns.append(dg.col(f"f{i}", "datetime", {"datetime_series": {"within": span, "freq": freq}}))
    months = {"start": "2023-11-01T00:00:00", "end": "2024-10-01T00:00:00"}  # 12 month starts, end included
    columns.append(dg.col("m", "datetime", {"datetime_series": {"within": months, "freq": "M"}}))
    columns.append(dg.col("ms", "datetime", {"datetime_series": {"within": months, "freq": "MS"}}))
    columns.append(dg.col("d", "date", {"datetime_series": {"within": "timeframe", "freq": "D"}}))
    columns.append(dg.col("tf", "datetime", {"datetime_series": {"within": "timeframe"}}))
    timeframe = {"start": "2024-01-01T00:00:00Z", "end": "2024-01-10T00:00:00Z", "freq": "6H"}
    return dg.build(dg.schema(dg.entity("g", *columns, rows=3000), timeframe=timeframe))


@pytest.mark.parametrize("freq", list(FREQS))
def test_datetime_every_freq_yields_only_grid_points_within_the_span(grids, freq):
    i = list(FREQS).index(freq)
    start, step = datetime(2024, 3, 6, 6, 30), FREQS[freq]
    expected = {start + step * k for k in range(13)}
    drawn = set(grids.column("g", f"f{i}"))
    # 3000 rows over 13 points: every point is drawn (P(miss) ~ 13 * e^-230)
    assert drawn == expected


def test_datetime_month_freqs_yield_month_starts(grids):
    expected = {datetime(2023 + (10 + k) // 12, (10 + k) % 12 + 1, 1) for k in range(12)}
    assert min(expected) == datetime(2023, 11, 1) and max(expected) == datetime(2024, 10, 1)
    assert set(grids.column("g", "m")) == expected
    assert set(grids.column("g", "ms")) == expected


def test_datetime_within_timeframe_uses_its_span_and_freq(grids):
    assert set(grids.column("g", "tf")) == {datetime(2024, 1, 1) + timedelta(hours=6 * k) for k in range(37)}
    days = set(grids.column("g", "d"))
    assert days == {(datetime(2024, 1, 1) + timedelta(days=k)).date() for k in range(10)}
    assert str(grids.table("g").schema.field("d").type) == "date32[day]"


def test_datetime_unweighted_grid_is_uniform(grids):
    counts = dict(grids.sql("SELECT tf, count(*) / 3000 FROM g GROUP BY ALL"))
    assert max(abs(v - 1 / 37) for v in counts.values()) < 0.015


def test_datetime_offsets_and_z_are_utc(dg):
    span = {"start": "2024-01-01T02:00:00+02:00", "end": "2024-01-01T05:00:00+02:00"}
    timeframe = {"start": "2024-06-01T00:00:00Z", "end": "2024-06-01T03:00:00Z", "freq": "H"}
    out = dg.build(
        dg.schema(
            dg.entity(
                "z",
                dg.col("offset", "datetime", {"datetime_series": {"within": span, "freq": "H"}}),
                dg.col("zulu", "datetime", {"datetime_series": {"within": "timeframe"}}),
                rows=500,
            ),
            timeframe=timeframe,
        )
    )
    assert set(out.column("z", "offset")) == {datetime(2024, 1, 1, h) for h in range(4)}
    assert set(out.column("z", "zulu")) == {datetime(2024, 6, 1, h) for h in range(4)}


HOURS = [0, 0, 0, 0, 0, 1, 2, 4, 6, 8, 8, 7, 7, 8, 8, 7, 6, 6, 5, 4, 3, 2, 1, 0.5]
DOW = [1.0, 1.0, 1.1, 1.2, 1.5, 3.0, 0.0]
"Monday .. Sunday; Sunday is never drawn."
FOUR_WEEKS = {"start": "2024-01-01T00:00:00", "end": "2024-01-28T23:00:00"}
"Monday 2024-01-01 to Sunday 2024-01-28: every (dow, hour) cell has the same number of grid points."


@pytest.fixture(scope="module")
def patterned(dg):
    c = dg.col
    hour = {"dimension": "hour", "weights": HOURS}
    dow = {"dimension": "dow", "weights": DOW}
    span = dict(FOUR_WEEKS)
    year = {"start": "2023-01-01T00:00:00", "end": "2023-12-31T00:00:00"}
    months = [1, 1, 2, 2, 3, 3, 4, 4, 0, 0, 5, 5]
    columns = [
        c("by_hour", "datetime", {"datetime_series": {"within": span, "freq": "H", "pattern": hour}}),
        c("by_dow", "datetime", {"datetime_series": {"within": span, "freq": "H", "pattern": dow}}),
        c("hour_dow", "datetime", {"datetime_series": {"within": span, "freq": "H", "patterns": [hour, dow]}}),
        c("seasonal", "datetime", {"datetime_series": {"within": span, "freq": "H", "pattern": hour}},
          modifiers=[{"transform": "seasonality", "args": dow}]),
        c("by_month", "date", {"datetime_series": {"within": year, "freq": "D",
                                                    "pattern": {"dimension": "month", "weights": months}}}),
        c("partial", "datetime", {"datetime_series": {"within": PARTIAL, "freq": "H", "patterns": [hour, dow]}}),
        c("quarter_hours", "datetime", {"datetime_series": {"within": span, "freq": "15min", "patterns": [hour, dow]}}),
        c("six_hours", "datetime", {"datetime_series": {"within": OFFSET, "freq": "6H", "patterns": [hour, dow]}}),
    ]  # fmt: skip
    return dg.build(dg.schema(dg.entity("p", *columns, rows=100_000)))


PARTIAL = {"start": "2024-01-01T00:00:00", "end": "2024-01-28T10:00:00"}
"The last day ends at 10:00: not whole days, so the grid table picks (buckets)."
OFFSET = {"start": "2024-01-01T05:00:00", "end": "2024-01-28T23:00:00"}
"6-hourly points at 05, 11, 17 and 23 h: whole days that start 5 h after midnight."


def point_shares(span: dict, step: timedelta, patterns: list[tuple[list[float], str]]) -> dict:
    """Each grid point's exact share: the product of its pattern weights, normalised."""
    start, end = datetime.fromisoformat(span["start"]), datetime.fromisoformat(span["end"])
    points = [start + k * step for k in range((end - start) // step + 1)]
    index = {"hour": lambda t: t.hour, "dow": lambda t: t.weekday()}
    weights = [math.prod(w[index[dim](t)] for w, dim in patterns) for t in points]
    return dict(zip(points, normalised(weights), strict=True))


def assert_point_shares(out, column: str, span: dict, step: timedelta, tol: float) -> None:
    """Hour x dow weighted points: exactly the positive-weight points are drawn, each within tol."""
    expected = point_shares(span, step, [(HOURS, "hour"), (DOW, "dow")])
    observed = dict(out.sql(f"SELECT {column}, count(*) / 100000 FROM p GROUP BY ALL"))
    assert set(observed) == {t for t, w in expected.items() if w > 0}
    assert max(abs(observed.get(t, 0) - w) for t, w in expected.items()) < tol


def test_datetime_grid_of_partial_days_is_the_exact_weighted_pick(patterned):
    """Grid table path: (day, hour) cell shares within +-0.003 at 100k rows, only grid points."""
    assert_point_shares(patterned, "partial", PARTIAL, timedelta(hours=1), tol=0.003)


def test_datetime_quarter_hours_pick_the_hour_then_a_quarter_uniformly(patterned):
    expected = point_shares(FOUR_WEEKS | {"end": "2024-01-28T23:45:00"}, timedelta(minutes=15),
                            [(HOURS, "hour"), (DOW, "dow")])  # fmt: skip
    observed = dict(patterned.sql("SELECT quarter_hours, count(*) / 100000 FROM p GROUP BY ALL"))
    assert set(observed) <= {t for t, w in expected.items() if w > 0}
    cells = dict(patterned.sql("SELECT (isodow(quarter_hours) - 1) * 24 + hour(quarter_hours), "
                               "count(*) / 100000 FROM p GROUP BY ALL"))  # fmt: skip
    joint = normalised([wd * wh for wd in DOW for wh in HOURS])
    assert max(abs(cells.get(k, 0) - w) for k, w in enumerate(joint)) < 0.003
    quarters = dict(patterned.sql("SELECT minute(quarter_hours), count(*) / 100000 FROM p GROUP BY ALL"))
    assert_shares(quarters, {0: 0.25, 15: 0.25, 30: 0.25, 45: 0.25})


def test_datetime_days_offset_from_midnight_keep_their_points(patterned):
    assert_point_shares(patterned, "six_hours", OFFSET, timedelta(hours=6), tol=0.004)


def test_datetime_calendar_applies_to_whole_days_only(dg):
    ds = importlib.import_module("dgsql.compiler.generators.datetime_series")
    hour = S.Pattern(dimension="hour", weights=HOURS)
    dow = S.Pattern(dimension="dow", weights=DOW)

    def cal(start: str, end: str, freq: str, patterns=(hour, dow)):
        span = S.Span(start=start, end=end)
        return ds.calendar(ds.grid(span, freq), list(patterns))

    whole = cal("2024-01-01T00:00:00", "2024-01-28T23:00:00", "H")
    assert len(whole.days) == 28 and len(whole.slots) == 24 and whole.per_hour == 1
    assert whole.days[:7] == DOW and whole.slots == HOURS
    minutes = cal("2024-01-01T00:00:00", "2024-01-02T23:59:00", "T")
    assert len(minutes.slots) == 24 and minutes.per_hour == 60
    assert cal("2024-01-01T00:30:00", "2024-01-28T23:30:00", "H") is not None  # points at half past
    assert cal("2024-01-01T00:00:00", "2024-01-28T22:00:00", "H") is None  # last day short
    assert cal("2024-01-01T01:00:00", "2024-01-29T00:00:00", "H") is None  # days straddle midnight
    assert cal("2024-01-01T00:00:00", "2024-01-29T15:00:00", "7H") is None  # 7 h does not divide a day
    assert cal("2024-01-01T00:00:00", "2024-01-02T23:50:00", "25min") is None  # nor an hour, > 24 a day
    assert cal("2024-01-01T00:00:00", "2024-12-01T00:00:00", "M") is None
    assert cal("2000-01-01T00:00:00", "2019-12-31T23:00:00", "H") is None  # > DAY_PICK_LIMIT weighted days
    assert cal("2000-01-01T00:00:00", "2019-12-31T23:00:00", "H", [hour]) is not None  # days uniform


def test_datetime_hour_pattern_shares(patterned):
    # 100k rows, each hour's share within +-0.01 of its normalised weight; zero-weight hours never drawn
    observed = dict(patterned.sql("SELECT hour(by_hour), count(*) / 100000 FROM p GROUP BY ALL"))
    assert_shares(observed, {h: w for h, w in enumerate(normalised(HOURS)) if w > 0})
    assert set(observed) == {h for h, w in enumerate(HOURS) if w > 0}


def test_datetime_dow_pattern_shares_sunday_never_drawn(patterned):
    observed = dict(patterned.sql("SELECT isodow(by_dow) - 1, count(*) / 100000 FROM p GROUP BY ALL"))
    assert_shares(observed, {d: w for d, w in enumerate(normalised(DOW)) if w > 0})
    assert 6 not in observed
    inside = patterned.one(
        "SELECT count(*) FROM p WHERE by_dow BETWEEN '2024-01-01' AND '2024-01-28 23:00:00'"
    )
    assert inside == 100_000


@pytest.mark.parametrize("column", ["hour_dow", "seasonal"])
def test_datetime_patterns_and_seasonality_multiply(patterned, column):
    # pattern (hour) x seasonality/second pattern (dow): each (dow, hour) cell gets w_h * w_d
    joint = normalised([wd * wh for wd in DOW for wh in HOURS])
    observed = dict(
        patterned.sql(
            f"SELECT (isodow({column}) - 1) * 24 + hour({column}), count(*) / 100000 FROM p GROUP BY ALL"
        )
    )
    assert set(observed) == {k for k, w in enumerate(joint) if w > 0}
    assert max(abs(observed.get(k, 0) - w) for k, w in enumerate(joint)) < 0.003
    hours = dict(patterned.sql(f"SELECT hour({column}), count(*) / 100000 FROM p GROUP BY ALL"))
    assert_shares(hours, {h: w for h, w in enumerate(normalised(HOURS)) if w > 0})
    days = dict(patterned.sql(f"SELECT isodow({column}) - 1, count(*) / 100000 FROM p GROUP BY ALL"))
    assert_shares(days, {d: w for d, w in enumerate(normalised(DOW)) if w > 0})


def test_datetime_month_pattern_weights_each_day(patterned):
    months = [1, 1, 2, 2, 3, 3, 4, 4, 0, 0, 5, 5]
    days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    expected = normalised([w * d for w, d in zip(months, days, strict=True)])
    observed = dict(patterned.sql("SELECT month(by_month), count(*) / 100000 FROM p GROUP BY ALL"))
    assert_shares({m - 1: s for m, s in observed.items()}, {m: s for m, s in enumerate(expected) if s > 0})
