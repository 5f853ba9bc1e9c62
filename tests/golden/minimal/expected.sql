-- dgsql 0.2.1 | dataset 'minimal' | seed 42 | scale 1.0
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

-- Faker values composed in SQL (dgsql.compiler.faker): vocabularies are one-row
-- tables of lists, picked by dg_uniform draws; these macros hold the fixed parts.

-- dg_fk_hex(h): a UBIGINT hash as 16 lower-case hex digits.
CREATE OR REPLACE MACRO dg_fk_hex(h) AS lpad(lower(to_hex(h)), 16, '0');

-- dg_fk_uuid4(h1, h2): an RFC 4122 version 4 UUID from two 16-hex-digit strings. All of
-- h1 is kept (version and variant nibbles sit around it), so distinct h1 give distinct UUIDs.
CREATE OR REPLACE MACRO dg_fk_uuid4(h1, h2) AS
    concat(substr(h1, 1, 8), '-', substr(h1, 9, 4), '-4', substr(h1, 13, 3), '-',
           substr('89ab89ab89ab89ab', strpos('0123456789abcdef', substr(h2, 16, 1)), 1), substr(h2, 1, 3), '-',
           substr(h1, 16, 1), substr(h2, 4, 11));

-- dg_fk_ipv4(h): a dotted IPv4 address from a UBIGINT hash; first octet 1-223, never 10 or 127.
CREATE OR REPLACE MACRO dg_fk_ipv4(h) AS
    concat(1 + ((h >> 32) % 221) + CASE WHEN (h >> 32) % 221 >= 9 THEN 1 ELSE 0 END
               + CASE WHEN (h >> 32) % 221 >= 125 THEN 1 ELSE 0 END,
           '.', (h >> 16) % 256, '.', (h >> 8) % 256, '.', h % 256);

-- dg_fk_serial(i, k): a number unique to the row index i, shuffled within its digit count
-- (n = i + 1 keeps its number of digits d; inside [10^(d-1), 10^d) it is multiplied by 1234577,
-- coprime to 9 * 10^(d-1), and shifted by k: a bijection). E-mails append it to stay unique.
CREATE OR REPLACE MACRO dg_fk_serial(i, k) AS
    pow(10, length((i + 1)::VARCHAR) - 1)::BIGINT
    + ((i + 1 - pow(10, length((i + 1)::VARCHAR) - 1)::BIGINT) * 1234577 + k)
      % (9 * pow(10, length((i + 1)::VARCHAR) - 1)::BIGINT);

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
        -- nodes[0].columns[0]
        CAST((1000 + 1 * __dg_l0.__dg_row) AS BIGINT) AS "customer_id",
        -- nodes[0].columns[1]
        CAST(CASE WHEN dg_uniform(229326786977047184, __dg_l0.__dg_row) < 0.7 THEN 'consumer' WHEN dg_uniform(229326786977047184, __dg_l0.__dg_row) < 0.95 THEN 'small business' ELSE 'enterprise' END AS VARCHAR) AS "segment"
    FROM __dg_l0
)
SELECT dg_optional("customer_id") AS "customer_id", dg_optional("segment") AS "segment"
FROM __dg_l1
) TO 'out/customers.parquet' (FORMAT parquet, COMPRESSION snappy);
