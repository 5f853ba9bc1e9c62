-- dgsql 0.6.0 | dataset 'minimal' | seed 42 | scale 1.0
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

-- dg_optional(x): x, with no statistics attached. DuckDB 2.x marks a Parquet field
-- REQUIRED when table statistics show no NULLs, DuckDB 1.x never does; wrapping every
-- output column keeps the files identical in every client (all fields optional).
CREATE OR REPLACE MACRO dg_optional(x) AS
    CASE WHEN x IS NULL THEN NULL ELSE x END;

-- The output folder (its parent must exist); a zero-row partitioned COPY creates it.
COPY (SELECT 1 AS __dg_dir, 1 AS __dg_none WHERE false) TO 'out' (FORMAT csv, PARTITION_BY (__dg_dir), OVERWRITE_OR_IGNORE true);

-- ---------------------------------------------------------------------------
-- customers (nodes[0]): entity, 100 rows
-- ---------------------------------------------------------------------------
COPY (
WITH
__dg_l0 AS (
    SELECT
        range AS __dg_row
    FROM range(100)
),
__dg_l1 AS (
    SELECT
        __dg_l0.*,
        -- nodes[0].columns[0]: sequence
        (1000 + __dg_l0.__dg_row) AS "customer_id",
        -- nodes[0].columns[1]: choice
        CAST(CASE WHEN dg_uniform(229326786977047184, __dg_l0.__dg_row) < 0.7 THEN 'consumer' WHEN dg_uniform(229326786977047184, __dg_l0.__dg_row) < 0.95 THEN 'small business' ELSE 'enterprise' END AS VARCHAR) AS "segment"
    FROM __dg_l0
)
SELECT dg_optional("customer_id") AS "customer_id", dg_optional("segment") AS "segment"
FROM __dg_l1
) TO 'out/customers.parquet' (FORMAT parquet, COMPRESSION snappy);
