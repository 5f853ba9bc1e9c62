"""``validate`` on faker columns: each value from its row's locale (``faker_vocabulary``), and
distinctness where declared unique (``unique``)."""

from __future__ import annotations

from typing import Any

import pytest

import dgsql
from dgsql.compiler.checks import compile_checks
from dgsql.compiler.load import parse_dataset
from dgsql.compiler.sqltext import ident
from dgsql.runtime.report import Status
from dgsql.runtime.validate import validate_tables


def _faker(name: str, method: str, **kw: Any) -> dict[str, Any]:
    return {"name": name, "type": "string", "generator": {"faker": {"method": method, **kw}}}


SCHEMA: dict[str, Any] = {
    "version": "1.0",
    "metadata": {"name": "people"},
    "nodes": [
        {
            "id": "p",
            "kind": "entity",
            "pk": "id",
            "rows": 20_000,
            "columns": [
                {"name": "id", "type": "int", "generator": {"sequence": {"start": 1}}},
                {
                    "name": "country",
                    "type": "string",
                    "generator": {
                        "choice": {"choices": ["DE", "US", "FR", "CZ", "JP"], "weights": [3, 3, 2, 1, 1]}
                    },
                },
                {"name": "code", "type": "string", "generator": {"expression": {"code": "country"}}},
                _faker("first", "first_name", locale_from="country"),
                _faker("full", "name", locale_from="country"),
                _faker("city", "city", locale_from="country"),
                _faker("company", "company", locale_from="country"),
                _faker("job", "job", locale_from="country"),
                _faker("last", "last_name", locale_from="code"),
                _faker("us_name", "name"),
                _faker("email", "email"),
                _faker("uid", "uuid4"),
                _faker("phone", "phone_number", locale_from="country"),
            ],
        }
    ],
    "constraints": {"unique": ["p.email"]},
}
CHECKED = ("first", "full", "city", "company", "job", "last", "us_name")

SWAP = """\
CREATE OR REPLACE TABLE c AS
WITH us AS (SELECT row_number() OVER (ORDER BY id) - 1 AS k, {col} AS v FROM {source} WHERE country = 'US')
SELECT p.* REPLACE (CASE WHEN p.country = 'DE' THEN us.v ELSE p.{col} END AS {col})
FROM {source} AS p LEFT JOIN us ON us.k = p.id % (SELECT count(*) FROM us)"""
"Each German row takes a name of a nearby US row: values moved between locales."


@pytest.fixture(scope="module")
def built() -> dgsql.Generated:
    return dgsql.generate(SCHEMA, seed=5)


def _results(report: dgsql.Report) -> dict[str, Any]:
    return {r.check.id: r for r in report.results}


def test_every_value_of_an_honest_build_is_from_its_locale(built: dgsql.Generated) -> None:
    results = _results(dgsql.validate(SCHEMA, built))
    for col in CHECKED:
        result = results[f"faker_vocabulary:p.{col}"]
        assert result.status is Status.PASSED, (col, result.detail)
        assert result.check.law
    assert results["unique:p.email"].status is Status.PASSED


@pytest.mark.parametrize("col", ["first", "full", "company"])
def test_values_moved_between_locales_fail_with_the_rows(built: dgsql.Generated, col: str) -> None:
    con = built.con
    con.execute(SWAP.format(col=ident(col), source=built.relation("p")))
    report = validate_tables(built.dataset, con, {"p": ident("c")}, built.metadata)
    failed = {r.check.id: r for r in report.results if r.status is Status.FAILED}
    check = f"faker_vocabulary:p.{col}"
    assert set(failed) == {check}, sorted(failed)
    result = failed[check]
    german = con.execute("SELECT count(*) FROM c WHERE country = 'DE'").fetchone()[0]
    assert 0.2 * german < result.violations <= german, (
        "the failing rows are German rows (some US names are German ones too)"
    )
    assert all(e["country"] == "DE" and e["expected_locale"] == "de_DE" for e in result.examples)
    assert not report.laws_hold() and not report.passed_gate(0)


def test_a_locale_column_mapped_at_run_time_is_checked_too(built: dgsql.Generated) -> None:
    con = built.con
    con.execute(f"CREATE OR REPLACE TABLE c AS SELECT * FROM {built.relation('p')}")
    con.execute("UPDATE c SET code = 'us' WHERE country = 'CZ'")
    report = validate_tables(built.dataset, con, {"p": ident("c")}, built.metadata)
    result = _results(report)["faker_vocabulary:p.last"]
    assert result.status is Status.FAILED and result.examples[0]["expected_locale"] == "en_US"


def test_duplicated_faker_values_fail_the_unique_check(built: dgsql.Generated) -> None:
    con = built.con
    con.execute(f"CREATE OR REPLACE TABLE c AS SELECT * FROM {built.relation('p')}")
    con.execute("UPDATE c SET email = (SELECT email FROM c WHERE id = 1) WHERE id IN (2, 3)")
    report = validate_tables(built.dataset, con, {"p": ident("c")}, built.metadata)
    failed = {r.check.id for r in report.results if r.status is Status.FAILED}
    assert failed == {"unique:p.email"}


def test_what_cannot_be_listed_is_not_evaluated_with_the_reason() -> None:
    checks = {c.id: c for c in compile_checks(parse_dataset(SCHEMA))}
    reasons = {
        "email": "built from the row's name columns",
        "uid": "no Faker list",
        "phone": "numbers or patterns only",
    }
    for col, reason in reasons.items():
        check = checks[f"faker_vocabulary:p.{col}"]
        assert check.sql is None and reason in (check.reason or ""), (col, check.reason)
    # Japanese names come from a pool seeded by the build's seed: those rows are left out
    full = checks["faker_vocabulary:p.full"]
    assert "pool" in full.expect["unchecked_locales"]["ja_JP"]
