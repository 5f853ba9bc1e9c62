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

-- dg_erfcc(x): erfc(x) for x >= 0 (Numerical Recipes' Chebyshev fit, relative error
-- below 1.2e-7 everywhere, the far tail included).
CREATE OR REPLACE MACRO dg_erfcc(x) AS
    (1.0 / (1.0 + 0.5 * x)) * exp(-x * x - 1.26551223 + (1.0 / (1.0 + 0.5 * x)) * (1.00002368
        + (1.0 / (1.0 + 0.5 * x)) * (0.37409196 + (1.0 / (1.0 + 0.5 * x)) * (0.09678418
        + (1.0 / (1.0 + 0.5 * x)) * (-0.18628806 + (1.0 / (1.0 + 0.5 * x)) * (0.27886807
        + (1.0 / (1.0 + 0.5 * x)) * (-1.13520398 + (1.0 / (1.0 + 0.5 * x)) * (1.48851587
        + (1.0 / (1.0 + 0.5 * x)) * (-0.82215223 + (1.0 / (1.0 + 0.5 * x)) * 0.17087277)))))))));

-- dg_normal_upper(z): P(Z > z) for a standard normal Z.
CREATE OR REPLACE MACRO dg_normal_upper(z) AS
    0.5 * CASE WHEN z >= 0 THEN dg_erfcc(z / sqrt(2.0)) ELSE 2.0 - dg_erfcc(-z / sqrt(2.0)) END;

-- dg_acklam_tail(q), dg_acklam_central(q, r): the two rational parts of dg_normal_quantile.
CREATE OR REPLACE MACRO dg_acklam_tail(q) AS
    (((((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q - 2.400758277161838e+00) * q
        - 2.549732539343734e+00) * q + 4.374664141464968e+00) * q + 2.938163982698783e+00)
    / ((((7.784695709041462e-03 * q + 3.224671290700398e-01) * q + 2.445134137142996e+00) * q
        + 3.754408661907416e+00) * q + 1.0);

CREATE OR REPLACE MACRO dg_acklam_central(q, r) AS
    (((((-3.969683028665376e+01 * r + 2.209460984245205e+02) * r - 2.759285104469687e+02) * r
        + 1.383577518672690e+02) * r - 3.066479806614716e+01) * r + 2.506628277459239e+00) * q
    / (((((-5.447609879822406e+01 * r + 1.615858368580409e+02) * r - 1.556989798598866e+02) * r
        + 6.680131188771972e+01) * r - 1.328068155288572e+01) * r + 1.0);

-- dg_normal_quantile(p): the z with P(Z < z) = p, 0 < p < 1 (Acklam's rational
-- approximation, relative error below 1.2e-9).
CREATE OR REPLACE MACRO dg_normal_quantile(p) AS
    CASE
        WHEN p < 0.02425 THEN dg_acklam_tail(sqrt(-2.0 * ln(p)))
        WHEN p > 0.97575 THEN -dg_acklam_tail(sqrt(-2.0 * ln(1.0 - p)))
        ELSE dg_acklam_central(p - 0.5, (p - 0.5) * (p - 0.5))
    END;

-- dg_normal_above(z, u): a standard normal draw above z (NULL z: unrestricted), by inverse
-- CDF from the uniform u; where P(Z > z) is below 1e-300, the draw is about 37.
CREATE OR REPLACE MACRO dg_normal_above(z, u) AS
    -dg_normal_quantile(greatest(coalesce(dg_normal_upper(z), 1.0), 1e-300) * u);

-- dg_inverse(u, cum, first, last): the 0-based index i with cum[i] <= u < cum[i + 1] (an
-- inverse-CDF pick, 0 <= u < 1): bucket b = floor(u * len(first)) overlaps at most two
-- intervals, first[b] and last[b] (dgsql.compiler.generators.datetime_series.Inverse).
CREATE OR REPLACE MACRO dg_inverse(u, cum, first, last) AS
    CASE
        WHEN u < cum[first[floor(u * len(first))::BIGINT + 1] + 2]
        THEN first[floor(u * len(first))::BIGINT + 1]
        ELSE last[floor(u * len(first))::BIGINT + 1]
    END;
