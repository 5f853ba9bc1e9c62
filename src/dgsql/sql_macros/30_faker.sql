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
