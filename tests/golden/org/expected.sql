-- dgsql 0.6.0 | dataset 'org' | seed 42 | scale 1.0
-- Written for DuckDB 2.0.1; runs unchanged in any DuckDB client:
--   duckdb -c ".read build.sql"   (writes out/<table>.parquet)
-- Every random value is dg_uniform(salt, row): a hash of the row index and a
-- 62-bit salt derived from (seed, dataset, table, column, draw).

-- Row order: a scan keeps insertion order with this setting (the default); tables
-- built with joins are sorted by their row index.
SET preserve_insertion_order = true;

-- Counter-based randomness: every value is a pure function of (salt, row).
-- Salts are 62-bit literals derived with SHA-256, so row + salt never overflows.
-- Only single-argument hash() is used: multi-argument hash() correlates streams.

-- dg_uniform(salt, i): a DOUBLE in (0, 1) with 53 random bits, never 0 or 1.
CREATE OR REPLACE MACRO dg_uniform(salt, i) AS
    ((hash(i + salt) >> 11)::DOUBLE + 0.5) / 9007199254740992.0;

-- dg_normal(u1, u2): a standard normal draw by Box-Muller from two uniforms.
CREATE OR REPLACE MACRO dg_normal(u1, u2) AS
    sqrt(-2.0 * ln(u1)) * cos(2.0 * pi() * u2);

-- dg_optional(x): x, with no statistics attached. DuckDB 2.x marks a Parquet field
-- REQUIRED when table statistics show no NULLs, DuckDB 1.x never does; wrapping every
-- output column keeps the files identical in every client (all fields optional).
CREATE OR REPLACE MACRO dg_optional(x) AS
    CASE WHEN x IS NULL THEN NULL ELSE x END;

-- The output folder (its parent must exist); a zero-row partitioned COPY creates it.
COPY (SELECT 1 AS __dg_dir, 1 AS __dg_none WHERE false) TO 'out' (FORMAT csv, PARTITION_BY (__dg_dir), OVERWRITE_OR_IGNORE true);

-- ---------------------------------------------------------------------------
-- office (nodes[0]): entity, 12 rows
-- ---------------------------------------------------------------------------
CREATE OR REPLACE TEMP TABLE "office" AS
WITH
__dg_l0 AS (
    SELECT
        range AS __dg_row
    FROM range(12)
),
__dg_l1 AS (
    SELECT
        __dg_l0.*,
        -- nodes[0].columns[0]: sequence
        CAST((100 + 7 * __dg_l0.__dg_row) AS VARCHAR) AS "office_code",
        -- nodes[0].columns[1]: distribution
        CAST((5 + floor(dg_uniform(2033606218942988783, __dg_l0.__dg_row) * 76)::BIGINT) AS BIGINT) AS "headcount_target"
    FROM __dg_l0
)
SELECT __dg_row, "office_code", "headcount_target"
FROM __dg_l1;

COPY (SELECT dg_optional("office_code") AS "office_code", dg_optional("headcount_target") AS "headcount_target" FROM "office") TO 'out/office.parquet' (FORMAT parquet, COMPRESSION snappy);

-- ---------------------------------------------------------------------------
-- employee (nodes[1]): entity, 300 rows
-- ---------------------------------------------------------------------------
CREATE OR REPLACE TEMP TABLE "__dg_grid_employee_hired_on" AS
WITH points AS (SELECT range AS k, (TIMESTAMP '2015-01-01 00:00:00' + to_months(1 * range)) AS ts FROM range(96)),
weighted AS (SELECT k, ts, ([3.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 1.0, 1.0, 0.0]::DOUBLE[])[month("ts")] AS w FROM points),
cumulative AS (
    SELECT k, ts, CASE WHEN lead(w) OVER (ORDER BY k) IS NULL THEN 1.0 ELSE sum(w) OVER (ORDER BY k) / sum(w) OVER () END AS hi,
        (sum(w) OVER (ORDER BY k) - w) / sum(w) OVER () AS lo
    FROM weighted WHERE w > 0),
spans AS (
    SELECT k, ts, hi, unnest(range(floor(lo * 576)::BIGINT, least(floor(hi * 576)::BIGINT, 575) + 1)) AS bucket
    FROM cumulative)
SELECT bucket, arg_min(ts, k) AS first_ts, arg_min(hi, k) AS first_hi, arg_max(ts, k) AS last_ts
FROM spans GROUP BY bucket;

COPY (
WITH
__dg_l0 AS (
    SELECT
        range AS __dg_row
    FROM range(300)
),
__dg_l1 AS (
    SELECT
        __dg_l0.*,
        -- nodes[1].columns[2]: lookup
        CAST(CAST((100 + 7 * floor(dg_uniform(2889244139353159866, __dg_l0.__dg_row) * 12)::BIGINT) AS VARCHAR) AS VARCHAR) AS "office_code",
        -- nodes[1].columns[5]: datetime_series
        CAST(CASE WHEN dg_uniform(2440238400344428066, __dg_l0.__dg_row) < __dg_join_hired_on.first_hi THEN __dg_join_hired_on.first_ts ELSE __dg_join_hired_on.last_ts END AS DATE) AS "hired_on"
    FROM __dg_l0
    LEFT JOIN "__dg_grid_employee_hired_on" AS __dg_join_hired_on ON __dg_join_hired_on.bucket = floor(dg_uniform(2440238400344428066, __dg_l0.__dg_row) * 576)::BIGINT
),
__dg_l2 AS (
    SELECT
        __dg_l1.*,
        -- nodes[1].columns[3]: lookup
        CAST(__dg_join_target.__dg_value AS BIGINT) AS "target"
    FROM __dg_l1
    LEFT JOIN (SELECT "office_code" AS __dg_key, arg_min("headcount_target", __dg_row) AS __dg_value FROM "office" GROUP BY "office_code") AS __dg_join_target ON __dg_join_target.__dg_key = __dg_l1."office_code"
),
__dg_l3 AS (
    SELECT
        __dg_l2.*
    FROM __dg_l2
    ORDER BY __dg_row
),
__dg_l4 AS (
    SELECT
        __dg_l3.*,
        -- nodes[1].columns[0]: sequence
        (1 + __dg_l3.__dg_row) AS "employee_id",
        -- nodes[1].columns[4]: distribution
        CAST(least(greatest((60000.0::DOUBLE + 15000.0::DOUBLE * dg_normal(dg_uniform(2717297792331227866, __dg_l3.__dg_row), dg_uniform(4349073072161402960, __dg_l3.__dg_row))), 25000.0::DOUBLE), 250000.0::DOUBLE) AS DOUBLE) AS "salary"
    FROM __dg_l3
),
__dg_l5 AS (
    SELECT
        __dg_l4.*,
        -- nodes[1].columns[1]: lookup
        CAST(CASE WHEN __dg_l4.__dg_row = 0 THEN NULL ELSE (1 + floor(dg_uniform(1938081913319771610, __dg_l4.__dg_row) * __dg_l4.__dg_row)::BIGINT) END AS BIGINT) AS "manager_id",
        -- nodes[1].columns[6]: expression
        CAST((__dg_l4."salary" > 70000 OR __dg_l4."target" < 20) AS BOOLEAN) AS "is_remote"
    FROM __dg_l4
)
SELECT dg_optional("employee_id") AS "employee_id", dg_optional("manager_id") AS "manager_id",
            dg_optional("office_code") AS "office_code", dg_optional("target") AS "target",
            dg_optional("salary") AS "salary", dg_optional("hired_on") AS "hired_on",
            dg_optional("is_remote") AS "is_remote"
FROM __dg_l5
) TO 'out/employee.parquet' (FORMAT parquet, COMPRESSION snappy);
DROP TABLE "__dg_grid_employee_hired_on";

-- ---------------------------------------------------------------------------
-- review (nodes[2]): fact, uniform [0, 2] rows per employee row
-- ---------------------------------------------------------------------------
CREATE OR REPLACE TEMP TABLE "__dg_fanout_review" AS
SELECT
    __dg_parent,
    __dg_k,
    (sum(__dg_k) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - __dg_k)::BIGINT AS __dg_first
FROM (
    SELECT __dg_p.__dg_row AS __dg_parent, (0 + floor(dg_uniform(636753297689967848, __dg_p.__dg_row) * 3)::BIGINT) AS __dg_k
    FROM (SELECT range AS __dg_row FROM range(300)) AS __dg_p
);

CREATE OR REPLACE TEMP TABLE "review" AS
WITH
__dg_l0 AS (
    SELECT
        __dg_parent,
        __dg_first + __dg_child AS __dg_row
    FROM (SELECT __dg_parent, __dg_first, unnest(range(__dg_k)) AS __dg_child FROM "__dg_fanout_review")
),
__dg_l1 AS (
    SELECT
        __dg_l0.*,
        -- nodes[2].columns[0]: lookup
        (1 + __dg_l0.__dg_parent) AS "employee_id",
        -- nodes[2].columns[1]: datetime_series
        CAST(make_timestamp(1672531200000000 + 604800000000 * floor(dg_uniform(483503641778563495, __dg_l0.__dg_row) * 53)::BIGINT) AS DATE) AS "reviewed_on",
        -- nodes[2].columns[2]: distribution
        CAST(least(greatest(least(greatest(round(60.0::DOUBLE + 7.745966692414834::DOUBLE * dg_normal(dg_uniform(3098448459071368671, __dg_l0.__dg_row), dg_uniform(1014173365814329125, __dg_l0.__dg_row)))::BIGINT, 0), 100), 0.0::DOUBLE), 100.0::DOUBLE) AS BIGINT) AS "score"
    FROM __dg_l0
)
SELECT __dg_row, "employee_id", "reviewed_on", "score"
FROM __dg_l1;

COPY (SELECT dg_optional("employee_id") AS "employee_id", dg_optional("reviewed_on") AS "reviewed_on",
            dg_optional("score") AS "score" FROM "review") TO 'out/review.parquet' (FORMAT parquet, COMPRESSION snappy);
DROP TABLE "__dg_fanout_review";

-- ---------------------------------------------------------------------------
-- audit (nodes[3]): fact, 400 rows
-- ---------------------------------------------------------------------------
CREATE OR REPLACE TEMP TABLE "__dg_pool_audit_score_seen" AS
SELECT "score" AS value, CASE WHEN lead(w) OVER (ORDER BY __dg_row) IS NULL THEN 1.0 ELSE sum(w) OVER (ORDER BY __dg_row) / sum(w) OVER () END AS cum
FROM (SELECT __dg_row, "score", 1.0 / pow((__dg_row + 1), 1.3) AS w FROM "review")
WHERE w > 0;

COPY (
WITH
__dg_l0 AS (
    SELECT
        range AS __dg_row
    FROM range(400)
),
__dg_l1 AS (
    SELECT
        __dg_l0.*,
        -- nodes[3].columns[1]: choice
        CAST(__dg_join_score_seen.value AS BIGINT) AS "score_seen"
    FROM __dg_l0
    ASOF LEFT JOIN "__dg_pool_audit_score_seen" AS __dg_join_score_seen ON dg_uniform(954834796172977675, __dg_l0.__dg_row) < __dg_join_score_seen.cum
),
__dg_l2 AS (
    SELECT
        __dg_l1.*
    FROM __dg_l1
    ORDER BY __dg_row
),
__dg_l3 AS (
    SELECT
        __dg_l2.*,
        -- nodes[3].columns[0]: sequence
        (1 + 2 * __dg_l2.__dg_row) AS "audit_id",
        -- nodes[3].columns[2]: datetime_series
        CAST(make_timestamp(1672531200000000 + 900000000 * floor(dg_uniform(3402688841324649168, __dg_l2.__dg_row) * 35040)::BIGINT) AS TIMESTAMP) AS "at"
    FROM __dg_l2
)
SELECT dg_optional("audit_id") AS "audit_id", dg_optional("score_seen") AS "score_seen",
            dg_optional("at") AS "at"
FROM __dg_l3
) TO 'out/audit.parquet' (FORMAT parquet, COMPRESSION snappy);
DROP TABLE "__dg_pool_audit_score_seen";
