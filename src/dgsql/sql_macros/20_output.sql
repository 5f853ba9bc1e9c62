-- dg_optional(x): x, with no statistics attached. DuckDB 2.x marks a Parquet field
-- REQUIRED when table statistics show no NULLs, DuckDB 1.x never does; wrapping every
-- output column keeps the files identical in every client (all fields optional).
CREATE OR REPLACE MACRO dg_optional(x) AS
    CASE WHEN x IS NULL THEN NULL ELSE x END;
