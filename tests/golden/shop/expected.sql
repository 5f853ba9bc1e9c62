-- dgsql 0.6.0 | dataset 'shop' | seed 42 | scale 1.0
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

-- dg_alias(u, probs, keep, alias): Walker's alias pick in O(1). Bucket j = floor(u*m)
-- yields keep[j] when the fraction of u*m is below probs[j], else alias[j]; the
-- three lists are built at compile time (dgsql.compiler.weights.alias_table).
CREATE OR REPLACE MACRO dg_alias(u, probs, keep, alias) AS
    CASE
        WHEN u * len(probs) - floor(u * len(probs)) < probs[floor(u * len(probs))::BIGINT + 1]
        THEN keep[floor(u * len(probs))::BIGINT + 1]
        ELSE alias[floor(u * len(probs))::BIGINT + 1]
    END;

-- dg_optional(x): x, with no statistics attached. DuckDB 2.x marks a Parquet field
-- REQUIRED when table statistics show no NULLs, DuckDB 1.x never does; wrapping every
-- output column keeps the files identical in every client (all fields optional).
CREATE OR REPLACE MACRO dg_optional(x) AS
    CASE WHEN x IS NULL THEN NULL ELSE x END;

-- The output folder (its parent must exist); a zero-row partitioned COPY creates it.
COPY (SELECT 1 AS __dg_dir, 1 AS __dg_none WHERE false) TO 'out' (FORMAT csv, PARTITION_BY (__dg_dir), OVERWRITE_OR_IGNORE true);

-- ---------------------------------------------------------------------------
-- category (nodes[0]): vocab, 4 rows
-- ---------------------------------------------------------------------------
CREATE OR REPLACE TEMP TABLE "category" AS
WITH
__dg_l0 AS (
    SELECT
        range AS __dg_row
    FROM range(4)
),
__dg_l1 AS (
    SELECT
        __dg_l0.*,
        -- nodes[0].columns[0]: enum_list
        (['grocery', 'household', 'toys', 'books']::VARCHAR[])[__dg_l0.__dg_row + 1] AS "category",
        -- nodes[0].columns[1]: enum_list
        ([0.1, 0.2, 0.2, 0.05]::DOUBLE[])[__dg_l0.__dg_row + 1] AS "vat"
    FROM __dg_l0
)
SELECT __dg_row, "category", "vat"
FROM __dg_l1;

COPY (SELECT dg_optional("category") AS "category", dg_optional("vat") AS "vat" FROM "category") TO 'out/category.parquet' (FORMAT parquet, COMPRESSION snappy);

-- ---------------------------------------------------------------------------
-- product (nodes[1]): entity, 200 rows
-- ---------------------------------------------------------------------------
CREATE OR REPLACE TEMP TABLE "product" AS
WITH
__dg_l0 AS (
    SELECT
        range AS __dg_row
    FROM range(200)
),
__dg_l1 AS (
    SELECT
        __dg_l0.*,
        -- nodes[1].columns[1]: choice
        CAST(__dg_join_category."category" AS VARCHAR) AS "category"
    FROM __dg_l0
    LEFT JOIN "category" AS __dg_join_category ON __dg_join_category.__dg_row = CASE
            WHEN dg_uniform(2569988289464329799, __dg_l0.__dg_row) < 0.504335531354664 THEN 0
            WHEN dg_uniform(2569988289464329799, __dg_l0.__dg_row) < 0.7396163761337378 THEN 1
            WHEN dg_uniform(2569988289464329799, __dg_l0.__dg_row) < 0.8902376047722368 THEN 2
            ELSE 3 END
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
        -- nodes[1].columns[0]: sequence
        (1 + __dg_l2.__dg_row) AS "product_id",
        -- nodes[1].columns[2]: distribution
        CAST(least(greatest(exp(2.5::DOUBLE + 0.8::DOUBLE * dg_normal(dg_uniform(3574261801866647362, __dg_l2.__dg_row), dg_uniform(77594291876638265, __dg_l2.__dg_row))), 0.5::DOUBLE), 500.0::DOUBLE) AS DOUBLE) AS "price"
    FROM __dg_l2
)
SELECT __dg_row, "product_id", "category", "price"
FROM __dg_l3;

COPY (SELECT dg_optional("product_id") AS "product_id", dg_optional("category") AS "category",
            dg_optional("price") AS "price" FROM "product") TO 'out/product.parquet' (FORMAT parquet, COMPRESSION snappy);

-- ---------------------------------------------------------------------------
-- customer (nodes[2]): entity, 1,000 rows
-- ---------------------------------------------------------------------------
COPY (
WITH
__dg_l0 AS (
    SELECT
        range AS __dg_row
    FROM range(1000)
),
__dg_l1 AS (
    SELECT
        __dg_l0.*,
        -- nodes[2].columns[0]: sequence
        (1 + __dg_l0.__dg_row) AS "customer_id",
        -- nodes[2].columns[1]: distribution
        CAST(round(least(greatest((38.0::DOUBLE + 12.0::DOUBLE * dg_normal(dg_uniform(874499152260543323, __dg_l0.__dg_row), dg_uniform(1928040392999190042, __dg_l0.__dg_row))), 18.0::DOUBLE), 90.0::DOUBLE)) AS BIGINT) AS "age",
        -- nodes[2].columns[2]: choice
        CAST(CASE WHEN dg_uniform(1123263139743385002, __dg_l0.__dg_row) < 0.3333333333333333 THEN 'web' WHEN dg_uniform(1123263139743385002, __dg_l0.__dg_row) < 0.6666666666666666 THEN 'app' ELSE 'store' END AS VARCHAR) AS "channel",
        -- nodes[2].columns[3]: choice
        CAST(CASE
            WHEN dg_uniform(3418329008132763496, __dg_l0.__dg_row) < 0.7 THEN 'basic'
            WHEN dg_uniform(3418329008132763496, __dg_l0.__dg_row) < 0.8585355229868861 THEN 'silver'
            WHEN dg_uniform(3418329008132763496, __dg_l0.__dg_row) < 0.9275421174062257 THEN 'gold'
            WHEN dg_uniform(3418329008132763496, __dg_l0.__dg_row) < 0.9699631351785484 THEN 'platinum'
            ELSE 'diamond' END AS VARCHAR) AS "tier"
    FROM __dg_l0
),
__dg_l2 AS (
    SELECT
        __dg_l1.*,
        -- nodes[2].columns[4]: lookup
        CASE WHEN dg_uniform(1284199293079485968, __dg_l1.__dg_row) < 0.3::DOUBLE THEN NULL ELSE CAST(CASE WHEN __dg_l1.__dg_row = 0 THEN NULL ELSE (1 + floor(dg_uniform(2435043630624595563, __dg_l1.__dg_row) * __dg_l1.__dg_row)::BIGINT) END AS BIGINT) END AS "referrer_id"
    FROM __dg_l1
)
SELECT dg_optional("customer_id") AS "customer_id", dg_optional("age") AS "age",
            dg_optional("channel") AS "channel", dg_optional("tier") AS "tier",
            dg_optional("referrer_id") AS "referrer_id"
FROM __dg_l2
) TO 'out/customer.parquet' (FORMAT parquet, COMPRESSION snappy);

-- ---------------------------------------------------------------------------
-- orders (nodes[3]): fact, poisson(lambda=3.0) [0, 15] rows per customer row
-- ---------------------------------------------------------------------------
CREATE OR REPLACE TEMP TABLE "__dg_fanout_orders" AS
SELECT
    __dg_parent,
    __dg_k,
    (sum(__dg_k) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - __dg_k)::BIGINT AS __dg_first
FROM (
    SELECT __dg_p.__dg_row AS __dg_parent, (CASE
            WHEN dg_uniform(1076274801854786778, __dg_p.__dg_row) < 0.049787068367863944 THEN 0
            WHEN dg_uniform(1076274801854786778, __dg_p.__dg_row) < 0.19914827347145578 THEN 1
            WHEN dg_uniform(1076274801854786778, __dg_p.__dg_row) < 0.42319008112684353 THEN 2
            WHEN dg_uniform(1076274801854786778, __dg_p.__dg_row) < 0.6472318887822313 THEN 3
            WHEN dg_uniform(1076274801854786778, __dg_p.__dg_row) < 0.8152632445237721 THEN 4
            WHEN dg_uniform(1076274801854786778, __dg_p.__dg_row) < 0.9160820579686966 THEN 5
            WHEN dg_uniform(1076274801854786778, __dg_p.__dg_row) < 0.9664914646911588 THEN 6
            WHEN dg_uniform(1076274801854786778, __dg_p.__dg_row) < 0.9880954961436426 THEN 7
            WHEN dg_uniform(1076274801854786778, __dg_p.__dg_row) < 0.996197007938324 THEN 8
            WHEN dg_uniform(1076274801854786778, __dg_p.__dg_row) < 0.9988975118698845 THEN 9
            WHEN dg_uniform(1076274801854786778, __dg_p.__dg_row) < 0.9997076630493527 THEN 10
            WHEN dg_uniform(1076274801854786778, __dg_p.__dg_row) < 0.9999286133710258 THEN 11
            WHEN dg_uniform(1076274801854786778, __dg_p.__dg_row) < 0.999983850951444 THEN 12
            WHEN dg_uniform(1076274801854786778, __dg_p.__dg_row) < 0.9999965980853868 THEN 13
            WHEN dg_uniform(1076274801854786778, __dg_p.__dg_row) < 0.9999993296140888 THEN 14
            ELSE 15 END) AS __dg_k
    FROM (SELECT range AS __dg_row FROM range(1000)) AS __dg_p
);

COPY (
WITH
__dg_l0 AS (
    SELECT
        __dg_parent,
        __dg_first + __dg_child AS __dg_row
    FROM (SELECT __dg_parent, __dg_first, unnest(range(__dg_k)) AS __dg_child FROM "__dg_fanout_orders")
),
__dg_l1 AS (
    SELECT
        __dg_l0.*,
        -- nodes[3].columns[0]: sequence
        (1 + __dg_l0.__dg_row) AS "order_id",
        -- nodes[3].columns[1]: lookup
        (1 + __dg_l0.__dg_parent) AS "customer_id",
        -- nodes[3].columns[2]: datetime_series → seasonality
        CAST(make_timestamp(1704067200000000 + 86400000000 * dg_alias(dg_uniform(2796264039275975480, __dg_l0.__dg_row), '[0.853658536585366, 0.853658536585366, 0.853658536585366, 0.853658536585366, 1.0, 0.9756097560975612,
            0.902439024390244, 0.853658536585366, 0.853658536585366, 0.853658536585366, 0.853658536585366,
            0.853658536585366, 0.9756097560975612, 0.902439024390244, 0.853658536585366, 0.853658536585366,
            0.853658536585366, 0.853658536585366, 0.853658536585366, 0.9756097560975612, 0.902439024390244,
            0.853658536585366, 0.853658536585366, 0.853658536585366, 0.853658536585366, 0.853658536585366,
            0.9756097560975612, 0.902439024390244, 0.853658536585366, 0.853658536585366, 0.853658536585366,
            0.853658536585366, 0.853658536585366, 0.9756097560975612, 0.902439024390244, 0.853658536585366,
            0.853658536585366, 0.853658536585366, 0.853658536585366, 0.853658536585366, 0.9756097560975612,
            0.902439024390244, 0.853658536585366, 0.853658536585366, 0.853658536585366, 0.853658536585366,
            0.853658536585366, 0.9756097560975612, 0.902439024390244, 0.853658536585366, 0.853658536585366,
            0.853658536585366, 0.853658536585366, 0.853658536585366, 0.9756097560975612, 0.902439024390244,
            0.853658536585366, 0.853658536585366, 0.853658536585366, 0.853658536585366, 0.853658536585366,
            0.9756097560975612, 0.902439024390244, 0.853658536585366, 0.853658536585366, 0.853658536585366,
            0.853658536585366, 0.853658536585366, 0.9756097560975612, 0.902439024390244, 0.853658536585366,
            0.853658536585366, 0.853658536585366, 0.853658536585366, 0.853658536585366, 0.9756097560975612,
            0.902439024390244, 0.853658536585366, 0.853658536585366, 0.853658536585366, 0.853658536585366,
            0.853658536585366, 0.9756097560975612, 0.902439024390244, 0.853658536585366, 0.853658536585366,
            0.853658536585366, 0.853658536585366, 0.853658536585366, 0.9756097560975612, 0.902439024390244]'::DOUBLE[], '[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
            28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52,
            53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77,
            78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90]'::BIGINT[], '[5, 5, 6, 11, 4, 4, 5, 12, 12, 13, 18, 6, 11, 12, 19, 19, 20, 25, 13, 18, 19, 26, 26, 27, 32, 20, 25,
            26, 33, 33, 34, 39, 27, 32, 33, 40, 40, 41, 46, 34, 39, 40, 47, 47, 48, 53, 41, 46, 47, 54, 54, 55,
            60, 48, 53, 54, 61, 61, 62, 67, 55, 60, 61, 68, 68, 69, 74, 62, 67, 68, 75, 75, 76, 81, 69, 74, 75,
            82, 82, 83, 88, 76, 81, 82, 89, 89, 90, 90, 83, 88, 89]'::BIGINT[]) + 3600000000 * (dg_alias(dg_uniform(3925264734121576177, __dg_l0.__dg_row), [0.23076923076923078, 0.46153846153846156, 0.6923076923076923, 0.9230769230769231, 1.0,
            0.8461538461538458, 0.6923076923076921, 0.5384615384615383, 0.3846153846153846, 0.23076923076923084,
            0.8461538461538463, 0.6923076923076925, 0.8461538461538465, 0.6923076923076925, 0.6153846153846154,
            0.9230769230769231, 0.46153846153846156, 0.23076923076923078]::DOUBLE[], [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]::BIGINT[], [15, 17, 18, 18, 10, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 18, 19, 20]::BIGINT[]))) AS TIMESTAMP) AS "ordered_at",
        -- nodes[3].columns[3]: distribution
        CAST(least(greatest((CASE
            WHEN dg_uniform(3396062797584847191, __dg_l0.__dg_row) < 0.4060058497098381 THEN 1
            WHEN dg_uniform(3396062797584847191, __dg_l0.__dg_row) < 0.6766764161830635 THEN 2
            WHEN dg_uniform(3396062797584847191, __dg_l0.__dg_row) < 0.8571234604985472 THEN 3
            WHEN dg_uniform(3396062797584847191, __dg_l0.__dg_row) < 0.9473469826562889 THEN 4
            WHEN dg_uniform(3396062797584847191, __dg_l0.__dg_row) < 0.9834363915193857 THEN 5
            WHEN dg_uniform(3396062797584847191, __dg_l0.__dg_row) < 0.9954661944737513 THEN 6
            WHEN dg_uniform(3396062797584847191, __dg_l0.__dg_row) < 0.9989032810321414 THEN 7
            WHEN dg_uniform(3396062797584847191, __dg_l0.__dg_row) < 0.999762552671739 THEN 8
            WHEN dg_uniform(3396062797584847191, __dg_l0.__dg_row) < 0.9999535019249829 THEN 9
            WHEN dg_uniform(3396062797584847191, __dg_l0.__dg_row) < 0.9999916917756316 THEN 10
            WHEN dg_uniform(3396062797584847191, __dg_l0.__dg_row) < 0.9999986353848405 THEN 11
            ELSE 12 END), 1.0::DOUBLE), 12.0::DOUBLE) AS BIGINT) AS "items",
        -- nodes[3].columns[4]: distribution
        CAST(least(greatest((0 + floor(dg_uniform(3224715316675800083, __dg_l0.__dg_row) * 4)::BIGINT), 0.0::DOUBLE), 3.0::DOUBLE) AS BIGINT) AS "discount"
    FROM __dg_l0
)
SELECT dg_optional("order_id") AS "order_id", dg_optional("customer_id") AS "customer_id",
            dg_optional("ordered_at") AS "ordered_at", dg_optional("items") AS "items",
            dg_optional("discount") AS "discount"
FROM __dg_l1
) TO 'out/orders.parquet' (FORMAT parquet, COMPRESSION snappy);
CREATE OR REPLACE TEMP TABLE "__dg_count_orders" AS SELECT coalesce(sum(__dg_k), 0)::BIGINT AS n FROM "__dg_fanout_orders";
DROP TABLE "__dg_fanout_orders";

-- ---------------------------------------------------------------------------
-- order_line (nodes[4]): fact, uniform [1, 4] rows per orders row
-- ---------------------------------------------------------------------------
CREATE OR REPLACE TEMP TABLE "__dg_fanout_order_line" AS
SELECT
    __dg_parent,
    __dg_k,
    (sum(__dg_k) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - __dg_k)::BIGINT AS __dg_first
FROM (
    SELECT __dg_p.__dg_row AS __dg_parent, (1 + floor(dg_uniform(4344031935323763825, __dg_p.__dg_row) * 4)::BIGINT) AS __dg_k
    FROM (SELECT range AS __dg_row FROM range((SELECT n FROM "__dg_count_orders"))) AS __dg_p
);

COPY (
WITH
__dg_l0 AS (
    SELECT
        __dg_parent,
        __dg_first + __dg_child AS __dg_row
    FROM (SELECT __dg_parent, __dg_first, unnest(range(__dg_k)) AS __dg_child FROM "__dg_fanout_order_line")
),
__dg_l1 AS (
    SELECT
        __dg_l0.*,
        -- nodes[4].columns[0]: lookup
        (1 + __dg_l0.__dg_parent) AS "order_id",
        -- nodes[4].columns[1]: lookup
        (1 + floor(dg_uniform(2108019257904071498, __dg_l0.__dg_row) * 200)::BIGINT) AS "product_id",
        -- nodes[4].columns[3]: choice
        CAST(CASE
            WHEN dg_uniform(3245979663666274661, __dg_l0.__dg_row) < 0.6 THEN 1
            WHEN dg_uniform(3245979663666274661, __dg_l0.__dg_row) < 0.85 THEN 2
            WHEN dg_uniform(3245979663666274661, __dg_l0.__dg_row) < 0.95 THEN 3
            ELSE 6 END AS BIGINT) AS "quantity"
    FROM __dg_l0
),
__dg_l2 AS (
    SELECT
        __dg_l1.*,
        -- nodes[4].columns[2]: lookup
        CAST(CASE WHEN (__dg_l1."product_id" - 1) >= 0 AND (__dg_l1."product_id" - 1) < 200 THEN CAST(least(greatest(exp(2.5::DOUBLE + 0.8::DOUBLE * dg_normal(dg_uniform(3574261801866647362, (__dg_l1."product_id" - 1)), dg_uniform(77594291876638265, (__dg_l1."product_id" - 1)))), 0.5::DOUBLE), 500.0::DOUBLE) AS DOUBLE) END AS DOUBLE) AS "unit_price"
    FROM __dg_l1
),
__dg_l3 AS (
    SELECT
        __dg_l2.*,
        -- nodes[4].columns[4]: expression
        CAST((ROUND(__dg_l2."unit_price" * __dg_l2."quantity", 2)) AS DOUBLE) AS "line_total"
    FROM __dg_l2
)
SELECT dg_optional("order_id") AS "order_id", dg_optional("product_id") AS "product_id",
            dg_optional("unit_price") AS "unit_price", dg_optional("quantity") AS "quantity",
            dg_optional("line_total") AS "line_total"
FROM __dg_l3
) TO 'out/order_line.parquet' (FORMAT parquet, COMPRESSION snappy);
DROP TABLE "__dg_fanout_order_line";
