"""The result of ``dgsql validate``: per-check results, the quality score, JSON and terminal forms.

Score (``dsl-v1.md``): ``100 · (0.45·constraints + 0.25·behaviour + 0.20·statistical + 0.10·FK)``,
each component the pass rate of its evaluated checks. A component with no evaluated check is
NOT_EVALUATED and its weight is shared out among the others in proportion to theirs — it never
gives free points. With no evaluated check at all the score is 0.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import math
import uuid
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from dgsql.compiler.checks import CATEGORIES, REGISTRY
from dgsql.compiler.checks.spec import CheckSpec
from dgsql.options import DEFAULT_THRESHOLD

WEIGHTS = {"constraint": 0.45, "behaviour": 0.25, "statistical": 0.20, "fk": 0.10}
COMPONENT_NAMES = {
    "constraint": "constraints",
    "behaviour": "behaviour",
    "statistical": "statistical validity",
    "fk": "foreign keys",
}
#: Kinds with more passing checks than this show them as one summary row in the terminal.
COLLAPSE_PASSED = 4
KIND_ORDER = {m.KIND: i for i, m in enumerate(REGISTRY)}


class Status(str, enum.Enum):
    PASSED = "PASSED"
    FAILED = "FAILED"
    NOT_EVALUATED = "NOT_EVALUATED"


def json_value(value: Any) -> Any:
    """A DuckDB value as JSON: timestamps as ISO text, decimals and non-finite floats made safe."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    return str(value)


@dataclass
class CheckResult:
    check: CheckSpec
    status: Status
    violations: int | None = None
    "Failing rows (row checks); 1 or 0 for a statistic; None when not evaluated."
    examples: list[dict[str, Any]] = field(default_factory=list)
    "Up to 3 failing rows."
    detail: dict[str, Any] = field(default_factory=dict)
    "The statistic's row (stat checks), or ``reason``/``error`` when not evaluated."
    seconds: float = 0.0

    @property
    def passed(self) -> bool | None:
        return None if self.status is Status.NOT_EVALUATED else self.status is Status.PASSED

    def to_json(self) -> dict[str, Any]:
        c = self.check
        return {
            "id": c.id,
            "kind": c.kind,
            "category": c.category,
            "target": c.target,
            "status": self.status.value,
            "passed": self.passed,
            "violations": self.violations,
            "examples": json_value(self.examples),
            "sql": c.sql,
            "detail": json_value({**({"expected": c.expect} if c.expect else {}), **self.detail}),
            "source": c.source,
            "gate": c.gate,
            "seconds": round(self.seconds, 4),
        }


@dataclass
class Report:
    dataset: str
    data_dir: str
    results: list[CheckResult]
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    "Per table: rows, columns (name → DuckDB type), null_share per column."
    seconds: float = 0.0

    # ------------------------------------------------------------- numbers

    def count(self, status: Status) -> int:
        return sum(r.status is status for r in self.results)

    @property
    def components(self) -> dict[str, dict[str, Any]]:
        """Per category: its weights, check counts and pass rate (None when not evaluated)."""
        out: dict[str, dict[str, Any]] = {}
        for cat in CATEGORIES:
            rs = [r for r in self.results if r.check.category == cat]
            passed = sum(r.status is Status.PASSED for r in rs)
            failed = sum(r.status is Status.FAILED for r in rs)
            evaluated = passed + failed
            out[cat] = {
                "name": COMPONENT_NAMES[cat],
                "weight": WEIGHTS[cat],
                "effective_weight": 0.0,
                "status": "EVALUATED" if evaluated else Status.NOT_EVALUATED.value,
                "pass_rate": passed / evaluated if evaluated else None,
                "passed": passed,
                "failed": failed,
                "not_evaluated": len(rs) - evaluated,
            }
        total = sum(c["weight"] for c in out.values() if c["pass_rate"] is not None)
        for c in out.values():
            if c["pass_rate"] is not None:
                c["effective_weight"] = c["weight"] / total
        return out

    @property
    def quality_score(self) -> float:
        """0–100; see the module docstring."""
        score = sum(
            c["effective_weight"] * c["pass_rate"]
            for c in self.components.values()
            if c["pass_rate"] is not None
        )
        return round(100.0 * score, 2)

    @property
    def gate_checks(self) -> list[CheckResult]:
        return [r for r in self.results if r.check.gate]

    def keys_intact(self) -> bool:
        """Every primary-key and foreign-key check ran and passed."""
        return all(r.status is Status.PASSED for r in self.gate_checks)

    def laws_hold(self) -> bool:
        """No check of a declared law (choice shares, a distribution's shape, mean and spread,
        a null rate) failed: their bounds make a chance failure rarer than 1 in 10 million."""
        return not any(r.check.law and r.status is Status.FAILED for r in self.results)

    def passed_gate(self, threshold: float = DEFAULT_THRESHOLD) -> bool:
        """Exit 0 of ``dgsql validate``: keys intact, the declared laws hold, and the score
        reaches ``threshold``."""
        return self.keys_intact() and self.laws_hold() and self.quality_score >= threshold

    # ------------------------------------------------------ recommendations

    @property
    def recommendations(self) -> list[str]:
        out: list[str] = []
        for r in self.results:
            c = r.check
            if r.status is Status.FAILED:
                out.append(f"{c.id}: {_advice(r)}")
            elif r.status is Status.NOT_EVALUATED and "error" in r.detail:
                out.append(
                    f"{c.id}: the check could not run ({r.detail['error']}); fix the file or the declaration."
                )
            if c.kind == "composite_effect" and r.status is not Status.NOT_EVALUATED:
                noise, tol = r.detail.get("noise_mape"), r.detail.get("tolerance_mape")
                if isinstance(noise, float) and isinstance(tol, float) and noise > tol / 2:
                    out.append(
                        f"{c.id}: sampling noise alone gives a MAPE of about {noise:.3f} against a tolerance of "
                        f"{tol:.3f}; generate more rows or widen the tolerance."
                    )
        for cat, comp in self.components.items():
            if comp["pass_rate"] is None:
                out.append(
                    f"No {comp['name']} check was evaluated; its weight went to the others. {NO_CHECK_ADVICE[cat]}"
                )
        return out

    # ----------------------------------------------------------------- JSON

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "data_dir": self.data_dir,
            "summary": {
                "quality_score": self.quality_score,
                "components": self.components,
                "keys_intact": self.keys_intact(),
                "laws_hold": self.laws_hold(),
                "passed": self.count(Status.PASSED),
                "failed": self.count(Status.FAILED),
                "not_evaluated": self.count(Status.NOT_EVALUATED),
                "total": len(self.results),
                "seconds": round(self.seconds, 3),
            },
            "checks": [r.to_json() for r in self.results],
            "tables": json_value(self.tables),
            "recommendations": self.recommendations,
        }

    # ------------------------------------------------------------- terminal

    def render(self, console: Console) -> None:
        """A table of checks grouped by kind, then the score and its components."""
        table = Table(title=f"dgsql validate: {self.dataset}", title_justify="left", show_lines=False)
        table.add_column("kind", style="bold")
        table.add_column("check")
        table.add_column("status")
        table.add_column("violations", justify="right")
        table.add_column("example / statistic", overflow="fold", max_width=70)
        by_kind: dict[str, list[CheckResult]] = {}
        for r in self.results:
            by_kind.setdefault(r.check.kind, []).append(r)
        for kind in sorted(by_kind, key=lambda k: KIND_ORDER.get(k, len(KIND_ORDER))):
            rs = by_kind[kind]
            passed = [r for r in rs if r.status is Status.PASSED]
            collapse = len(passed) > COLLAPSE_PASSED
            first = True
            for r in rs:
                if collapse and r.status is Status.PASSED:
                    continue
                table.add_row(
                    kind if first else "", _label(r), _status(r.status), _violations(r), _example(r)
                )
                first = False
            if collapse:
                table.add_row(
                    kind if first else "",
                    f"{len(passed)} more checks",
                    _status(Status.PASSED),
                    "0",
                    _targets(passed),
                )
            table.add_section()
        console.print(table)
        console.print(self._score_line())
        gate = "all passed" if self.keys_intact() else "NOT all passed"
        laws = "hold" if self.laws_hold() else "do NOT all hold"
        console.print(
            f"checks: {self.count(Status.PASSED)} passed, {self.count(Status.FAILED)} failed, "
            f"{self.count(Status.NOT_EVALUATED)} not evaluated; primary and foreign keys: {gate}; "
            f"declared laws: {laws}"
        )
        for rec in self.recommendations:
            console.print(Text(f"- {rec}", style="yellow"))

    def _score_line(self) -> Text:
        text = Text("quality score ")
        score = self.quality_score
        text.append(f"{score:.1f}", style="bold green" if score >= DEFAULT_THRESHOLD else "bold red")
        parts = []
        for comp in self.components.values():
            if comp["pass_rate"] is None:
                parts.append(f"{comp['name']} not evaluated")
            else:
                parts.append(
                    f"{comp['name']} {100 * comp['pass_rate']:.0f}% "
                    f"(weight {comp['effective_weight']:.2f}, {comp['passed']}/{comp['passed'] + comp['failed']})"
                )
        text.append(" = " + "; ".join(parts))
        return text


STATUS_MARKS = {
    Status.PASSED: ("✓ pass", "green"),
    Status.FAILED: ("✗ FAIL", "bold red"),
    Status.NOT_EVALUATED: ("– not evaluated", "dim"),
}


def _label(r: CheckResult) -> str:
    """The check's id without its ``kind:`` prefix (the table row already names the kind)."""
    return r.check.id.split(":", 1)[-1]


def _status(status: Status) -> Text:
    mark, style = STATUS_MARKS[status]
    return Text(mark, style=style)


def _violations(r: CheckResult) -> str:
    if r.violations is None or r.check.mode == "stat":
        return ""
    return f"{r.violations:,}"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(json_value(value))


def _example(r: CheckResult) -> str:
    if r.status is Status.NOT_EVALUATED:
        return str(r.detail.get("reason") or r.detail.get("error") or "")
    if r.check.mode == "stat":
        # lists (a check's per-group figures) are for the JSON report and the charts
        return ", ".join(
            f"{k}={_fmt(v)}" for k, v in r.detail.items() if k != "ok" and not isinstance(v, list)
        )
    if r.examples:
        return ", ".join(f"{k}={_fmt(v)}" for k, v in r.examples[0].items())
    return ""


def _targets(rs: list[CheckResult]) -> str:
    names = [r.check.target for r in rs]
    shown = ", ".join(names[:4])
    return shown + (f" … (+{len(names) - 4})" if len(names) > 4 else "")


ADVICE = {
    "columns": "the file's columns differ from the schema (see examples); rebuild with this schema.",
    "row_count": "the file has a different row count than .metadata.json records; the file was changed "
    "or the build did not finish; rebuild.",
    "primary_key": "duplicated or NULL primary-key values; joins on this key will multiply rows.",
    "unique": "duplicated values in a column declared unique.",
    "not_null": "NULLs in a column that is not nullable; set nullable: true or fix the generator.",
    "foreign_key": "values with no matching row in the referenced table (orphans).",
    "fanout_bounds": "parent rows with a number of children outside fanout [min, max].",
    "range": "values outside the declared range.",
    "inequality": "rows where the declared inequality does not hold.",
    "pattern": "values that do not fully match the declared regex.",
    "enum": "values outside the declared set.",
    "weekend_share": "the weekend share is outside the declared bounds.",
    "mean_in_range": "the mean is outside the declared bounds.",
    "composite_effect": "the lifts per stratum differ from the declared multipliers by more than the tolerance.",
    "datetime_shape": "the timestamps' shape differs from the declared pattern/seasonality weights.",
    "fanout_distribution": "children per parent do not follow the declared fanout distribution.",
    "outlier_share": "the share of outliers differs from the declared rate.",
    "distribution": "values outside the range the declaration allows, or no variation at all.",
    "distribution_law": "the values do not follow the declared law (shape: chi-square over values or bins; "
    "mean; sd): the detail gives the statistic, n and the bound.",
    "choice_shares": "the values' shares differ from the declared choice weights beyond sampling noise "
    "(chi-square: the detail gives it, n and the bound).",
    "null_rate": "the share of NULLs differs from the declared null_rate beyond sampling noise.",
}

#: Per category: what gives a schema checks of that kind (shown when it has none evaluated).
NO_CHECK_ADVICE = {
    "constraint": "The schema yields no structural check; does it have nodes?",
    "behaviour": "Declare targets (weekend_share, mean_in_range, composite_effect) to measure behaviour.",
    "statistical": "Declared distributions, choices, null rates, patterns, fanouts and outliers get statistical "
    "checks.",
    "fk": "Declare constraints.foreign_keys (or use lookups) to check referential integrity.",
}


def _advice(r: CheckResult) -> str:
    text = ADVICE.get(r.check.kind, "the check failed.")
    if r.violations and r.check.mode == "rows":
        text = f"{r.violations:,} failing rows: {text}"
    return text
