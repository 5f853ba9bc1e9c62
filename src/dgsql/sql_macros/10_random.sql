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
