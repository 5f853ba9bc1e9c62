"""The choices and defaults a user sets on the command line and in the Python API: output
formats, codecs, the master seed, the quality threshold.

A leaf module (standard library only): ``dgsql --help`` shows these choices without
importing the compiler, DuckDB or Faker. The compiler and the runtime import them from here.
"""

from __future__ import annotations

from enum import Enum

from dgsql.errors import UsageError

DEFAULT_SEED = 42
"The master seed when none is given."

DEFAULT_THRESHOLD = 80.0
"The quality score ``validate`` needs to pass."

CHART_ROWS = 1_000_000
"""The HTML report's charts read at most this many first rows of a table (``--chart-rows``;
the checks read every row)."""


class Compression(str, Enum):
    """Parquet codecs a build can write (docs/performance.md has the measurements)."""

    snappy = "snappy"
    "DuckDB's default; every Parquet reader has it; ~20% faster to write than zstd here."
    zstd = "zstd"
    "Files 10–25% smaller, slower to write."
    gzip = "gzip"
    "The codec every CSV and JSON reader has; slowest to write."


DEFAULT_COMPRESSION = Compression.snappy


class OutputFormat(str, Enum):
    """What a build writes: one file per table, or one DuckDB database file."""

    parquet = "parquet"
    "``<table>.parquet``: typed, compressed, the default."
    csv = "csv"
    "``<table>.csv``: a header line, RFC 4180 quoting, ISO 8601 dates and timestamps."
    jsonl = "jsonl"
    "``<table>.jsonl``: one JSON object per line."
    duckdb = "duckdb"
    "``<dataset>.duckdb``: one database file with a persistent table per table."


COMPRESSIONS = {
    OutputFormat.parquet: (Compression.snappy, Compression.zstd, Compression.gzip),
    OutputFormat.csv: (Compression.gzip, Compression.zstd),
    OutputFormat.jsonl: (Compression.gzip, Compression.zstd),
    OutputFormat.duckdb: (),
}
"The codecs each format takes (``--compression``)."


def resolve_compression(fmt: OutputFormat, compression: Compression | None) -> Compression | None:
    """The codec a build of ``fmt`` uses: Parquet's default when none is given; an error
    (:class:`UsageError`) for a codec the format does not have.

    >>> resolve_compression(OutputFormat.csv, None) is None
    True
    """
    if compression is None:
        return DEFAULT_COMPRESSION if fmt is OutputFormat.parquet else None
    allowed = COMPRESSIONS[fmt]
    if compression not in allowed:
        takes = (
            f"takes {' or '.join(c.value for c in allowed)}"
            if allowed
            else "has no codec to choose (DuckDB compresses its own storage); drop --compression"
        )
        raise UsageError(f"--compression {compression.value}: the {fmt.value} format {takes}.")
    return compression
