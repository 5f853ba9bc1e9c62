"""``list_of``'s two spellings of a list constant read to the same numbers in DuckDB."""

from __future__ import annotations

import os

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dgsql.compiler.sqltext import LONG_LIST, list_of, lit, wrapped

FLOATS = st.floats(allow_nan=False, allow_infinity=False, width=64)
INTS = st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1)


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


@settings(max_examples=60, deadline=None, derandomize="DGSQL_FUZZ_RANDOM" not in os.environ)
@given(values=st.lists(FLOATS | st.floats(0, 1), min_size=LONG_LIST + 1, max_size=400))
def test_long_doubles_read_as_the_literal_list_reads(con, values):
    string_form = list_of(values, "DOUBLE")
    literal_form = "[" + wrapped(lit(v) for v in values) + "]::DOUBLE[]"
    assert string_form.startswith("'[")
    got_string, got_literal = con.execute(f"SELECT {string_form}, {literal_form}").fetchone()
    assert got_string == got_literal == values


@settings(max_examples=30, deadline=None, derandomize="DGSQL_FUZZ_RANDOM" not in os.environ)
@given(values=st.lists(INTS, min_size=LONG_LIST + 1, max_size=200))
def test_long_bigints_read_exactly(con, values):
    (got,) = con.execute(f"SELECT {list_of(values, 'BIGINT')}").fetchone()
    assert got == values


def test_short_and_non_numeric_lists_stay_literal():
    assert list_of([0.5, 0.25], "DOUBLE") == "[0.5, 0.25]::DOUBLE[]"
    assert list_of(["a"] * 40, "VARCHAR").startswith("['a'")
    assert list_of([float("inf")] * 40, "DOUBLE").startswith("['inf'::DOUBLE")
    assert list_of(iter(range(40)), "BIGINT").startswith("'[0, 1")  # a one-pass iterable is read once
