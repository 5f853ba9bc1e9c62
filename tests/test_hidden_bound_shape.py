"""A datetime_series drawn after a hidden column (an inequality with a hidden side): validate's
datetime_shape check cannot compute the truncated shares from the file, which lacks the bound,
so it is not evaluated with that reason (it was a Binder Error). Found by tests/test_grammar.py."""

from __future__ import annotations

import json
from typing import Any

SPAN = {"start": "2024-01-01", "end": "2024-03-31 23:00:00"}
HOURS = [1] * 6 + [2] * 12 + [1] * 6


def test_datetime_shape_after_a_hidden_bound_is_not_evaluated(dg: Any, tmp_path: Any) -> None:
    schema = dg.schema(
        dg.entity(
            "e",
            dg.col("id", "int", dg.seq()),
            dg.col("when0", "datetime", {"datetime_series": {"within": SPAN, "freq": "h"}}, hidden=True),
            dg.col(
                "when1",
                "datetime",
                {
                    "datetime_series": {
                        "within": SPAN,
                        "freq": "h",
                        "pattern": {"dimension": "hour", "weights": HOURS},
                    }
                },
            ),
            rows=3000,
            pk="id",
        ),
        constraints={"inequalities": [{"left": "e.when1", "op": ">=", "right": "e.when0"}]},
    )
    out = dg.build(schema)
    report = tmp_path / "report.json"
    result = dg.cli("validate", dg.write_schema(schema), "-d", out.path, "--report", report)
    assert result.exit_code == 0, result.stderr
    (check,) = [
        c for c in json.loads(report.read_text())["checks"] if c["id"] == "datetime_shape:e.when1:hour"
    ]
    assert check["status"] == "NOT_EVALUATED"
    assert "drawn after when0, hidden (never written)" in check["detail"]["reason"]
    assert "error" not in check["detail"]
