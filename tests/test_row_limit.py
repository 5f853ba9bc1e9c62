"""Rows above the limit of one table (10^11) are a schema error, also when a fact fans out of
that table: its planning is skipped, not a crash (it was exit 4, a KeyError in the planner)."""

from __future__ import annotations

from typing import Any


def test_rows_beyond_the_limit_with_a_child_fact(dg: Any) -> None:
    schema = dg.schema(
        dg.entity("users", dg.col("id", "int", dg.seq()), rows=10**12, pk="id"),
        dg.fact(
            "orders",
            ["users"],
            dg.col("order_id", "int", dg.seq()),
            dg.col("user_id", "int", {"lookup": {"from": "users.id"}}),
            fanout={"distribution": "poisson", "lambda": 3},
        ),
    )
    for command in ("check", "emit-sql"):
        result = dg.cli(command, dg.write_schema(schema))
        assert result.exit_code == 2, result.stderr
        assert result.errors == [
            "nodes[0].rows: 1,000,000,000,000 rows is beyond the limit of 100,000,000,000; lower rows or --scale."
        ]
