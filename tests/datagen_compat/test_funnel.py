"""Funnels (``stage_config``, Datagen's later behaviour): one row per stage a parent reaches, stage i
reached with probability min(1, rate_i × the parent's segment multiplier), stage times the parent's
time plus cumulative gaps; the funnel checks pass on such data and fail on data built without it."""

from __future__ import annotations

import json
import math
import shutil
import subprocess

import duckdb
import pyarrow.parquet as pq
import pytest

USERS = 20_000
STAGES = [("visit", 1.0), ("signup", 0.6), ("buy", 0.3), ("renew", 0.5)]
MULTIPLIERS = {"pro": 1.5, "team": 3.0}


def stage_config(**extra):
    return {
        "stages": [{"stage_name": n, "transition_rate": r} for n, r in STAGES],
        "segment_variation": {k: {"transition_multiplier": m} for k, m in MULTIPLIERS.items()},
        "segment_column": "tier",
        **extra,
    }


def funnel_schema(dg, *, config=None, users_extra=(), fanout=None, pk=None, **node_extra):
    c = dg.col
    users = dg.entity(
        "users",
        c("user_id", "int", dg.seq()),
        c("tier", "string", {"choice": {"choices": ["free", "pro", "team"], "weights": [0.6, 0.25, 0.15]}}),
        *users_extra,
        rows=USERS,
        pk="user_id",
    )
    steps = dg.fact(
        "steps",
        ["users"],
        c("step_id", "int", pk or dg.seq()),
        c("user_id", "int", {"lookup": {"from": "users.user_id"}}),
        c("stage_name", "string", {"choice": {"choices": ["placeholder"]}}),
        c("stage_index", "int", {"sequence": {}}),
        c("at", "datetime", {"datetime_series": {}}),
        pk="step_id",
        **node_extra,
    )
    if fanout is not None:
        steps["fanout"] = fanout
    else:
        steps["stage_config"] = config or stage_config()
    return dg.schema(
        users, steps, timeframe={"start": "2024-01-01T00:00:00Z", "end": "2024-12-31T23:00:00Z", "freq": "H"}
    )


SIGNED_UP = {"name": "signed_up", "type": "datetime", "generator": {"datetime_series": {}}}


@pytest.fixture(scope="module")
def schema(dg):
    return funnel_schema(dg, users_extra=[SIGNED_UP])


@pytest.fixture(scope="module")
def out(dg, schema):
    return dg.build(schema)


def per_parent(out) -> str:
    return """
        WITH d AS (SELECT user_id, max(stage_index) AS deepest FROM steps GROUP BY user_id)
        SELECT tier, count(*) AS n,
               count(*) FILTER (WHERE deepest >= 1) AS s1,
               count(*) FILTER (WHERE deepest >= 2) AS s2,
               count(*) FILTER (WHERE deepest >= 3) AS s3
        FROM d JOIN users USING (user_id) GROUP BY tier ORDER BY tier"""


def validate(dg, schema, data_dir, tmp_path) -> dict[str, str]:
    report = tmp_path / "report.json"
    dg.cli("validate", dg.write_schema(schema), "-d", data_dir, "--report", report)
    return {c["id"]: c["status"] for c in json.loads(report.read_text())["checks"]}


FUNNEL_CHECKS = (
    "fanout_bounds:steps",
    "funnel_stages:steps",
    "funnel_times:steps.at",
    "funnel_conversion:steps",
)


# --------------------------------------------------------------- the data


def test_every_parent_has_consecutive_stages_from_zero_with_their_names(out):
    bad = out.one("""
        SELECT count(*) FROM (
          SELECT user_id FROM steps GROUP BY user_id
          HAVING min(stage_index) <> 0 OR max(stage_index) <> count(*) - 1
              OR count(DISTINCT stage_index) <> count(*) OR count(*) > 4)""")
    assert bad == 0
    assert out.one("SELECT count(DISTINCT user_id) FROM steps") == USERS  # stage 0 always happens
    names = dict(out.sql("SELECT DISTINCT stage_index, stage_name FROM steps"))
    assert names == {i: n for i, (n, _) in enumerate(STAGES)}


def test_children_follow_their_parents_and_the_pk_follows_its_sequence(out):
    rows = out.one("SELECT count(*) FROM steps")
    assert out.column("steps", "step_id") == list(range(1, rows + 1))
    user_ids = out.column("steps", "user_id")
    stages = out.column("steps", "stage_index")
    assert user_ids == sorted(user_ids)
    # within a parent, file order is stage order
    assert all(
        s == (p + 1 if u == pu else 0)
        for u, s, pu, p in zip(user_ids[1:], stages[1:], user_ids, stages, strict=False)
    )


def test_a_pk_with_its_own_sequence_spec(dg):
    out = dg.build(funnel_schema(dg, pk={"sequence": {"start": 100, "step": 2}}))
    ids = out.column("steps", "step_id")
    assert ids == list(range(100, 100 + 2 * len(ids), 2))


def within(observed: int, n: int, p: float) -> bool:
    return abs(observed / n - p) <= 4 * math.sqrt(p * (1 - p) / n) + 0.5 / n


def test_conversion_rates_per_segment_match_rate_times_multiplier(out):
    for tier, n, s1, s2, s3 in out.sql(per_parent(out)):
        m = MULTIPLIERS.get(tier, 1.0)
        p1, p2, p3 = (min(1.0, r * m) for _, r in STAGES[1:])
        assert within(s1, n, p1), (tier, s1 / n, p1)
        assert within(s2, s1, p2), (tier, s2 / s1, p2)
        assert within(s3, s2, p3), (tier, s3 / s2, p3)


def test_segment_variation_moves_the_rates_and_caps_them_at_one(out):
    rows = {tier: (n, s1, s2, s3) for tier, n, s1, s2, s3 in out.sql(per_parent(out))}
    free, pro, team = rows["free"], rows["pro"], rows["team"]
    assert free[1] / free[0] < pro[1] / pro[0] < team[1] / team[0]
    # team: 0.6 × 3 and 0.5 × 3 are capped at 1, so every team parent converts at those stages
    assert team[1] == team[0] and team[3] == team[2]


def test_stage_times_start_at_the_parent_and_strictly_increase(out):
    assert (
        out.one("""
        SELECT count(*) FROM steps JOIN users USING (user_id)
        WHERE stage_index = 0 AND "at" <> signed_up""")
        == 0
    )
    assert (
        out.one("""
        SELECT count(*) FROM (
          SELECT "at", lag("at") OVER (PARTITION BY user_id ORDER BY stage_index) AS prev FROM steps)
        WHERE "at" <= prev""")
        == 0
    )


def test_default_gaps_are_exponential_with_a_24_hour_mean(out):
    mean, sd, n = out.sql("""
        SELECT avg(g), stddev_samp(g), count(g) FROM (
          SELECT epoch("at" - lag("at") OVER (PARTITION BY user_id ORDER BY stage_index)) / 3600 AS g
          FROM steps)""")[0]
    assert n > 10_000
    assert abs(mean - 24) < 4 * 24 / math.sqrt(n)
    assert abs(sd - 24) < 1.5  # the exponential's sd is its mean


def test_a_gap_distribution_in_hours(dg):
    config = stage_config(gap={"type": "uniform", "params": {"low": 1, "high": 2}})
    out = dg.build(funnel_schema(dg, config=config, users_extra=[SIGNED_UP]))
    lo, hi = out.sql("""
        SELECT min(g), max(g) FROM (
          SELECT epoch("at" - lag("at") OVER (PARTITION BY user_id ORDER BY stage_index)) / 3600 AS g
          FROM steps)""")[0]
    assert 1 <= lo and hi <= 2 and hi - lo > 0.9


def test_without_a_parent_time_stage_zero_is_the_columns_series_drawn_per_parent(dg):
    out = dg.build(funnel_schema(dg))
    first, last, minutes = out.sql("""
        SELECT min("at"), max("at"), count(*) FILTER (WHERE minute("at") <> 0 OR second("at") <> 0)
        FROM steps WHERE stage_index = 0""")[0]
    assert str(first) >= "2024-01-01" and str(last) <= "2024-12-31 23:00:00" and minutes == 0
    # 20k draws over 8,784 hourly points cover ~7,860 of them
    assert out.one('SELECT count(DISTINCT "at") FROM steps WHERE stage_index = 0') > 7_500


def test_the_emitted_script_in_the_duckdb_cli_writes_the_same_files(dg, schema, out, tmp_path):
    duckdb_cli = shutil.which("duckdb")
    assert duckdb_cli, "the duckdb CLI is not on PATH; pip install duckdb-cli (in the test extra)"
    (tmp_path / "build.sql").write_text(dg.emit_sql(schema, "-o", "out"))
    done = subprocess.run([duckdb_cli, "-c", ".read build.sql"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for name in ("users", "steps"):
        assert pq.read_table(tmp_path / "out" / f"{name}.parquet").equals(out.table(name)), name


# ------------------------------------------------------------------ checks


def test_the_funnel_checks_pass_on_funnel_data(dg, schema, out, tmp_path):
    status = validate(dg, schema, out.path, tmp_path)
    assert {k: status[k] for k in FUNNEL_CHECKS} == dict.fromkeys(FUNNEL_CHECKS, "PASSED")
    assert "fanout_distribution:steps" not in status


def test_a_plain_fanout_fails_the_structure_and_time_checks(dg, schema, tmp_path):
    plain = dg.build(
        funnel_schema(dg, users_extra=[SIGNED_UP], fanout={"distribution": "uniform", "clamp": [1, 4]})
    )
    status = validate(dg, schema, plain.path, tmp_path)
    assert status["funnel_stages:steps"] == "FAILED"
    assert status["funnel_times:steps.at"] == "FAILED"


def test_other_rates_fail_the_conversion_check_only(dg, schema, tmp_path):
    config = stage_config()
    config["stages"][2]["transition_rate"] = 0.4
    other = dg.build(funnel_schema(dg, config=config, users_extra=[SIGNED_UP]))
    status = validate(dg, schema, other.path, tmp_path)
    assert status["funnel_conversion:steps"] == "FAILED"
    assert status["funnel_stages:steps"] == status["funnel_times:steps.at"] == "PASSED"


def test_no_segment_variation_fails_the_conversion_check(dg, schema, tmp_path):
    config = stage_config(segment_variation={})
    other = dg.build(funnel_schema(dg, config=config, users_extra=[SIGNED_UP]))
    assert validate(dg, schema, other.path, tmp_path)["funnel_conversion:steps"] == "FAILED"


def test_shuffled_times_fail_the_time_check_and_stage_zero_off_the_parent_too(dg, schema, out, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(out.path, data)
    con = duckdb.connect()
    steps = str(out.file("steps"))
    # reverse the stages' times of each parent: the structure stays, the order does not
    con.execute(f"""
        COPY (SELECT s.* REPLACE (r."at" AS "at") FROM read_parquet('{steps}') AS s
              JOIN (SELECT user_id, stage_index, "at",
                           count(*) OVER (PARTITION BY user_id) - 1 - stage_index AS mirror
                    FROM read_parquet('{steps}')) AS r
              ON r.user_id = s.user_id AND r.mirror = s.stage_index
              ORDER BY s.step_id)
        TO '{data / "steps.parquet"}' (FORMAT parquet)""")
    status = validate(dg, schema, data, tmp_path)
    assert status["funnel_times:steps.at"] == "FAILED"
    assert status["funnel_stages:steps"] == "PASSED"


# ---------------------------------------------------------------- problems


def problems(dg, schema) -> tuple[int, list[str], str]:
    result = dg.cli("check", dg.write_schema(schema))
    return result.exit_code, result.errors, result.stderr


def test_a_fanout_beside_stage_config_is_ignored_with_a_warning(dg):
    schema = funnel_schema(dg, users_extra=[SIGNED_UP])
    schema["nodes"][1]["fanout"] = {"distribution": "poisson", "lambda": 9}
    code, errors, err = problems(dg, schema)
    assert code == 0 and not errors
    assert (
        "warning: nodes[1].fanout: stage_config replaces the fanout, which is ignored; remove fanout." in err
    )
    out = dg.build(schema)
    assert out.one("SELECT max(c) FROM (SELECT count(*) AS c FROM steps GROUP BY user_id)") <= len(STAGES)


def test_a_table_level_effect_on_a_funnel_is_ignored_with_a_warning(dg):
    c = dg.col
    promos = dg.entity(
        "promos",
        c("tier", "string", {"choice": {"choices": ["pro"]}}),
        c("lift", "float", {"distribution": {"type": "uniform", "params": {"low": 5, "high": 6}}}),
        rows=1,
    )
    effect = {
        "transform": "effect",
        "args": {"effect_table": "promos", "on": {"tier": "tier"}, "map": {"field": "lift", "op": "mul"}},
    }
    base = funnel_schema(dg, users_extra=[SIGNED_UP])
    schema = json.loads(json.dumps(dict(base, nodes=[promos, *base["nodes"]])))
    schema["nodes"][2]["modifiers"] = [effect]
    code, errors, err = problems(dg, schema)
    assert code == 0 and "warning: nodes[2].modifiers[0]: a funnel's row count comes from its stages" in err
    assert dg.build(schema).table("steps").equals(dg.build(base).table("steps"))


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda s: s["nodes"][1]["columns"][3].update(type="string"),
            "nodes[1].columns[3].type: 'stage_index' holds the funnel's stage, a int; set type 'int'.",
        ),
        (
            lambda s: s["nodes"][1]["columns"][4].update(
                modifiers=[{"transform": "time_jitter", "args": {"std_minutes": 5}}]
            ),
            "nodes[1].columns[4].modifiers: the funnel sets this column (stage or stage time); "
            "modifiers would break it; remove them.",
        ),
        (
            lambda s: s["nodes"][1]["stage_config"].update(segment_column="teir"),
            "nodes[1].stage_config.segment_column: table 'users' has no column 'teir'; did you mean 'tier'?",
        ),
        (
            lambda s: s["nodes"][1]["stage_config"]["stages"].append({"stage_name": "visit"}),
            "nodes[1].stage_config: stage names ['visit'] repeat; give each stage its own name.",
        ),
        (
            lambda s: s["nodes"][0].update(stage_config=stage_config()),
            "nodes[0]: parents, fanout and stage_config belong to facts, not to a entity.",
        ),
        (
            lambda s: s["nodes"][1]["columns"][4]["generator"]["datetime_series"].update(
                pattern={"dimension": "dow", "weights": [1, 1, 1, 1, 1, 2, 2]}
            ),
            "nodes[1].columns[4].generator.datetime_series: 'users' has no datetime column to start the "
            "stages from, and a weighted series cannot be drawn per parent; give the parent a datetime "
            "column or drop the weights.",
        ),
    ],
)
def test_problems_are_pinned(dg, edit, expected):
    schema = funnel_schema(dg)
    edit(schema)
    code, errors, err = problems(dg, schema)
    assert code == 2 and expected in errors, err
