"""A small hand-written schema and its data, made with DuckDB SQL (no compiler involved), plus
deliberately broken variants for the validate tests.

The data follows the schema's declarations exactly (fanout Poisson(5) by inverse CDF, weighted
timestamp grid with time jitter, lognormal amounts with 5 % spiked outliers, …), so every check
passes on the clean files.
"""

from __future__ import annotations

import copy
import json
import math
import shutil
from pathlib import Path
from typing import Any

import duckdb

HOUR_WEIGHTS = [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 0.9, 1.3, 1.5, 1.6, 1.6,
                1.5, 1.5, 1.5, 1.6, 1.7, 1.8, 1.8, 1.6, 1.3, 1.0, 0.6, 0.4]  # fmt: skip
DOW_WEIGHTS = [1.0, 1.0, 1.0, 1.0, 1.2, 1.6, 1.5]
LAMBDA = 5.0
USERS = 300
OUTLIER_RATE = 0.05
FUNNEL_RATE = 0.5
FUNNEL_PRO = 1.6

SCHEMA: dict[str, Any] = {
    "version": "1.0",
    "metadata": {"name": "shop"},
    "timeframe": {"start": "2024-01-01T00:00:00Z", "end": "2024-03-31T23:59:59Z", "freq": "H"},
    "nodes": [
        {
            "id": "plan",
            "kind": "vocab",
            "pk": "plan",
            "columns": [
                {
                    "name": "plan",
                    "type": "string",
                    "generator": {"enum_list": {"values": ["free", "pro", "team"]}},
                },
                {
                    "name": "price",
                    "type": "float",
                    "generator": {
                        "distribution": {
                            "type": "uniform",
                            "params": {"low": 0, "high": 50},
                            "clamp": [0, 50],
                        }
                    },
                },
            ],
        },
        {
            "id": "users",
            "kind": "entity",
            "pk": "user_id",
            "rows": USERS,
            "columns": [
                {"name": "user_id", "type": "int", "generator": {"sequence": {"start": 1}}},
                {"name": "plan", "type": "string", "generator": {"choice": {"choices_ref": "plan.plan"}}},
                {"name": "email", "type": "string", "generator": {"faker": {"method": "email"}}},
                {
                    "name": "code",
                    "type": "string",
                    "generator": {"faker": {"method": "bothify", "text": "U-####"}},
                    "constraints": {"pattern": "^U-[0-9]{4}$"},
                },
                {
                    "name": "status",
                    "type": "string",
                    "generator": {"choice": {"choices": ["active", "paused"], "weights": [0.8, 0.2]}},
                },
                {
                    "name": "age",
                    "type": "int",
                    "generator": {
                        "distribution": {
                            "type": "normal",
                            "params": {"mean": 40, "std": 10},
                            "clamp": [18, 90],
                        }
                    },
                },
                {"name": "rank", "type": "int", "generator": {"expression": {"code": "user_id * 2"}}},
                {
                    "name": "started_on",
                    "type": "date",
                    "generator": {
                        "datetime_series": {
                            "within": {"start": "2023-01-01", "end": "2023-06-30"},
                            "freq": "D",
                        }
                    },
                },
                {
                    "name": "ended_on",
                    "type": "date",
                    "generator": {
                        "datetime_series": {
                            "within": {"start": "2023-07-01", "end": "2023-12-31"},
                            "freq": "D",
                        }
                    },
                },
                {
                    "name": "coupon",
                    "type": "string",
                    "nullable": True,
                    "null_rate": 0.4,
                    "generator": {"choice": {"choices": ["A", "B"], "weights": [1, 1]}},
                },
                {
                    "name": "referrer_id",
                    "type": "int",
                    "nullable": True,
                    "generator": {"lookup": {"from": "users.user_id"}},
                },
            ],
        },
        {
            "id": "events",
            "kind": "fact",
            "parents": ["users"],
            "pk": "event_id",
            "fanout": {"distribution": "poisson", "lambda": LAMBDA, "min": 0, "max": 30},
            "columns": [
                {"name": "event_id", "type": "int", "generator": {"sequence": {"start": 1}}},
                {"name": "user_id", "type": "int", "generator": {"lookup": {"from": "users.user_id"}}},
                {
                    "name": "ts",
                    "type": "datetime",
                    "generator": {
                        "datetime_series": {
                            "within": "timeframe",
                            "freq": "H",
                            "pattern": {"dimension": "hour", "weights": HOUR_WEIGHTS},
                        }
                    },
                    "modifiers": [
                        {"transform": "seasonality", "args": {"dimension": "dow", "weights": DOW_WEIGHTS}},
                        {"transform": "time_jitter", "args": {"std_minutes": 10}},
                    ],
                },
                {
                    "name": "amount",
                    "type": "float",
                    "generator": {
                        "distribution": {
                            "type": "lognormal",
                            "params": {"mean": 3, "sigma": 0.5},
                            "clamp": [1, 1000],
                        }
                    },
                    "modifiers": [
                        {
                            "transform": "outliers",
                            "args": {
                                "rate": OUTLIER_RATE,
                                "mode": "spike",
                                "magnitude_dist": {"type": "uniform", "params": {"low": 3, "high": 5}},
                            },
                        }
                    ],
                },
                {
                    "name": "kind",
                    "type": "string",
                    "generator": {"choice": {"choices": ["view", "click", "buy"]}},
                },
            ],
        },
        {
            "id": "funnel",
            "kind": "fact",
            "parents": ["users"],
            "pk": "step_id",
            "stage_config": {
                "stages": [{"stage_name": "visit"}, {"stage_name": "signup", "transition_rate": FUNNEL_RATE}],
                "segment_variation": {"pro": {"transition_multiplier": FUNNEL_PRO}},
                "segment_column": "plan",
            },
            "columns": [
                {"name": "step_id", "type": "int", "generator": {"sequence": {"start": 1}}},
                {"name": "user_id", "type": "int", "generator": {"lookup": {"from": "users.user_id"}}},
                {"name": "stage_name", "type": "string", "generator": {"choice": {"choices": ["visit"]}}},
                {"name": "at", "type": "datetime", "generator": {"datetime_series": {}}},
            ],
        },
    ],
    "constraints": {
        "unique": ["users.user_id", "users.email", "events.event_id"],
        "foreign_keys": [
            {"from": "events.user_id", "to": "users.user_id"},
            {"from": "users.plan", "to": "plan.plan"},
        ],
        "ranges": [{"attr": "users.rank", "min": 2, "max": 2 * USERS}, {"attr": "events.amount", "min": 1}],
        "inequalities": [{"left": "users.started_on", "op": "<", "right": "users.ended_on"}],
        "pattern": [{"attr": "users.email", "regex": "^[a-z]+[0-9]+@example\\.(com|org)$"}],
        "enum": [
            {"attr": "users.status", "values": ["active", "paused"]},
            {"attr": "users.plan", "enum_ref": "plan.plan"},
        ],
    },
    "targets": {
        "weekend_share": {"table": "events", "timestamp": "ts", "min": 0.34, "max": 0.41},
        "mean_in_range": [{"table": "users", "column": "age", "min": 37, "max": 43}],
        "composite_effect": {
            "table": "events",
            "metric": "volume",
            "influences": [{"kind": "seasonality", "dimension": "dow", "weights": DOW_WEIGHTS}],
            "tolerance": {"mae": 0.2, "mape": 0.2},
        },
    },
}


def schema(users: int = USERS) -> dict[str, Any]:
    """:data:`SCHEMA` for a copy of the data with ``users`` users."""
    out = copy.deepcopy(SCHEMA)
    out["nodes"][1]["rows"] = users
    out["constraints"]["ranges"][0]["max"] = 2 * users
    return out


def _poisson_cdf(lam: float, top: int) -> list[float]:
    out, total, term = [], 0.0, math.exp(-lam)
    for k in range(top + 1):
        total += term
        out.append(min(total, 1.0))
        term *= lam / (k + 1)
    out[-1] = 1.0  # the clamp at max
    return out


def _list(values: list[float]) -> str:
    return "CAST([" + ", ".join(repr(float(v)) for v in values) + "] AS DOUBLE[])"


DATA_SQL = """
CREATE MACRO u(i, s) AS CAST(hash(i * 1000003 + s) >> 11 AS DOUBLE) / 9007199254740992.0;
CREATE MACRO z(i, s) AS sqrt(-2 * ln(1 - u(i, s))) * cos(2 * pi() * u(i, s + 1));
CREATE TABLE plan AS SELECT * FROM (VALUES ('free', 0.0::DOUBLE), ('pro', 19.5::DOUBLE), ('team', 45.0::DOUBLE)) AS v(plan, price);
CREATE TABLE users AS
SELECT i + 1 AS user_id,
  ['free', 'pro', 'team'][1 + CAST(floor(u(i, 1) * 3) AS INTEGER)] AS plan,
  'user' || (i + 1) || '@example.' || CASE WHEN i % 2 = 0 THEN 'com' ELSE 'org' END AS email,
  'U-' || lpad(CAST((i * 37) % 10000 AS VARCHAR), 4, '0') AS code,
  CASE WHEN u(i, 2) < 0.8 THEN 'active' ELSE 'paused' END AS status,
  CAST(round(least(90, greatest(18, 40 + 10 * z(i, 3)))) AS BIGINT) AS age,
  (i + 1) * 2 AS rank,
  DATE '2023-01-01' + CAST(floor(u(i, 5) * 181) AS INTEGER) AS started_on,
  DATE '2023-07-01' + CAST(floor(u(i, 6) * 184) AS INTEGER) AS ended_on,
  CASE WHEN u(i, 8) < 0.4 THEN NULL WHEN u(i, 9) < 0.5 THEN 'A' ELSE 'B' END AS coupon,
  CASE WHEN i = 0 THEN NULL ELSE 1 + CAST(floor(u(i, 7) * i) AS BIGINT) END AS referrer_id
FROM range({users}) AS t(i);
CREATE TABLE pois AS SELECT k, cdf FROM (SELECT unnest(range(31)) AS k, unnest({pois}) AS cdf);
CREATE TABLE fan AS
SELECT f.user_id, p.k AS n
FROM (SELECT user_id, u(user_id, 11) AS draw FROM users) AS f ASOF JOIN pois AS p ON f.draw <= p.cdf;
CREATE TABLE grid AS
WITH g AS (
  SELECT ts, {hour_w}[hour(ts) + 1] * {dow_w}[isodow(ts)] AS w
  FROM generate_series(TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-03-31 23:00:00', INTERVAL 1 HOUR) AS s(ts)
)
SELECT ts, sum(w) OVER (ORDER BY ts) / sum(w) OVER () AS cum FROM g;
CREATE TABLE events AS
WITH kids AS (
  SELECT user_id, unnest(range(n)) AS j FROM fan
), numbered AS (
  SELECT row_number() OVER (ORDER BY user_id, j) AS event_id, user_id FROM kids
), picked AS (
  SELECT n.event_id, n.user_id, g.ts AS grid_ts
  FROM (SELECT *, u(event_id, 21) AS draw FROM numbered) AS n ASOF JOIN grid AS g ON n.draw <= g.cum
)
SELECT event_id, user_id,
  grid_ts + to_microseconds(CAST(10 * 60000000 * z(event_id, 22) AS BIGINT)) AS ts,
  least(1000.0, greatest(1.0, exp(3 + 0.5 * z(event_id, 24))))
    * CASE WHEN u(event_id, 26) < {rate} THEN 1 + (3 + 2 * u(event_id, 27)) ELSE 1 END AS amount,
  ['view', 'click', 'buy'][1 + CAST(floor(u(event_id, 28) * 3) AS INTEGER)] AS kind
FROM picked;
CREATE TABLE funnel AS
WITH reached AS (
  SELECT user_id, CASE WHEN u(user_id, 31) < {funnel_rate} * CASE plan WHEN 'pro' THEN {funnel_pro} ELSE 1 END
                       THEN 2 ELSE 1 END AS n
  FROM users
), kids AS (
  SELECT user_id, unnest(range(n)) AS stage FROM reached
)
SELECT row_number() OVER (ORDER BY user_id, stage) AS step_id, user_id, ['visit', 'signup'][stage + 1] AS stage_name,
  TIMESTAMP '2024-01-01 00:00:00' + to_microseconds(CAST(floor(u(user_id, 32) * 2000) AS BIGINT) * 3600000000
    + stage * CAST(1 + u(user_id, 33) * 86400000000 AS BIGINT)) AS "at"
FROM kids;
"""

COPY_SQL = "COPY (SELECT * FROM {t} ORDER BY 1) TO '{path}' (FORMAT PARQUET)"


def write_dataset(out: Path, users: int = USERS) -> dict[str, int]:
    """Write plan/users/events/funnel Parquet files and .metadata.json into ``out``; return row counts.
    ``users`` scales the data (events ≈ 5 per user); the schema's ``rows`` is :data:`USERS`, so
    pass :func:`schema` ``(users)`` to validate a scaled copy."""
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(
        DATA_SQL.format(
            users=users,
            pois=_list(_poisson_cdf(LAMBDA, 30)),
            hour_w=_list(HOUR_WEIGHTS),
            dow_w=_list(DOW_WEIGHTS),
            rate=OUTLIER_RATE,
            funnel_rate=FUNNEL_RATE,
            funnel_pro=FUNNEL_PRO,
        )
    )
    rows = {}
    for t in ("plan", "users", "events", "funnel"):
        copy_table(con, t, out)
        rows[t] = con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
    con.close()
    write_metadata(out, rows)
    return rows


def copy_table(con: duckdb.DuckDBPyConnection, table: str, out: Path) -> None:
    """Write ``table`` of ``con`` to ``out/<table>.parquet``, ordered by its first column."""
    con.execute(COPY_SQL.format(t=table, path=out / f"{table}.parquet"))


def write_metadata(out: Path, rows: dict[str, int]) -> None:
    types = {n["id"]: [{"name": c["name"], "type": c["type"]} for c in n["columns"]] for n in SCHEMA["nodes"]}
    meta = {
        "dataset": "shop",
        "dsl_version": "1.0",
        "dgsql_version": "test",
        "duckdb_version": duckdb.__version__,
        "seed": 42,
        "scale": 1.0,
        "schema_sha256": "0" * 64,
        "tables": {
            t: {"rows": n, "columns": types[t], "seconds": 0.0, "file": f"{t}.parquet"}
            for t, n in rows.items()
        },
        "seconds": 0.0,
    }
    (out / ".metadata.json").write_text(json.dumps(meta, indent=2))


def write_row_counts(out: Path, rows: dict[str, int]) -> None:
    """A ``.metadata.json`` with only the row count of each table: all validate reads of it."""
    (out / ".metadata.json").write_text(json.dumps({"tables": {t: {"rows": n} for t, n in rows.items()}}))


#: name → (table, SQL expression replacing the whole row set, the check id that must fail)
BREAKAGES: dict[str, tuple[str, str, str]] = {
    "duplicated_pk": (
        "events",
        "SELECT * REPLACE (CASE WHEN event_id = 2 THEN 1 ELSE event_id END AS event_id) FROM t",
        "primary_key:events.event_id",
    ),
    "orphan_fk": (
        "events",
        "SELECT * REPLACE (CASE WHEN event_id = 7 THEN 99999 ELSE user_id END AS user_id) FROM t",
        "foreign_key:events.user_id->users.user_id",
    ),
    "out_of_range": (
        "users",
        "SELECT * REPLACE (CASE WHEN user_id = 5 THEN 5000 ELSE rank END AS rank) FROM t",
        "range:users.rank",
    ),
    "broken_inequality": (
        "users",
        "SELECT * REPLACE (CASE WHEN user_id = 9 THEN DATE '2022-12-01' ELSE ended_on END AS ended_on) FROM t",
        "inequality:users.started_on < users.ended_on",
    ),
    "outside_enum": (
        "users",
        "SELECT * REPLACE (CASE WHEN user_id = 11 THEN 'deleted' ELSE status END AS status) FROM t",
        "enum:users.status",
    ),
    "breaks_pattern": (
        "users",
        "SELECT * REPLACE (CASE WHEN user_id = 13 THEN 'U-12a4' ELSE code END AS code) FROM t",
        "pattern:users.code",
    ),
    "skipped_stage": (
        "funnel",
        "SELECT * REPLACE (CASE WHEN step_id = (SELECT min(step_id) FROM t WHERE user_id IN "
        "(SELECT user_id FROM t GROUP BY user_id HAVING count(*) = 1)) THEN 'signup' "
        "ELSE stage_name END AS stage_name) FROM t",
        "funnel_stages:funnel",
    ),
    "stage_before_previous": (
        "funnel",
        "SELECT * REPLACE (CASE WHEN step_id = (SELECT min(step_id) FROM t WHERE stage_name = 'signup') "
        'THEN TIMESTAMP \'2023-12-31 00:00:00\' ELSE "at" END AS "at") FROM t',
        "funnel_times:funnel.at",
    ),
}


def break_copy(clean: Path, out: Path, name: str) -> str:
    """Copy ``clean`` to ``out`` with one breakage applied; return the check id that must fail."""
    table_name, select, check_id = BREAKAGES[name]
    rewrite_copy(clean, out, table_name, select)
    return check_id


def rewrite_copy(clean: Path, out: Path, table_name: str, select: str) -> None:
    """Copy ``clean`` to ``out`` with ``table_name``'s file replaced by ``select`` (which reads the
    clean rows as ``t``)."""
    shutil.copytree(clean, out)
    path = out / f"{table_name}.parquet"
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{clean / (table_name + '.parquet')}')")
    con.execute(f"COPY ({select}) TO '{path}' (FORMAT PARQUET)")
    con.close()
