"""The auto-repair loop of ``dgsql create``: draft → check → sample build and validate, each
round's problems back to the model, until a draft passes everything or the rounds run out.

A draft is untrusted input: it goes through the same front end as any schema file
(``plan_schema``: parse, check, plan, preflight), then through a ``--sample`` build in the
locked-down build session and ``validate``. Nothing the model wrote runs except through the
compiler. A draft is checked exactly as it will be written (:func:`annotated`).
"""

from __future__ import annotations

import copy
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from dgsql import __version__
from dgsql.compiler import DEFAULT_COMPRESSION, Planned, plan_schema
from dgsql.compiler.seeds import DEFAULT_SEED
from dgsql.create import prompt
from dgsql.create.client import Completion
from dgsql.create.reply import read_reply
from dgsql.dsl.problems import Problem
from dgsql.errors import SchemaError
from dgsql.runtime.build import build as run_build
from dgsql.runtime.report import ADVICE, DEFAULT_THRESHOLD, Report, Status, json_value

DEFAULT_ROWS = 100_000
DEFAULT_MAX_ROWS = 10_000_000
DEFAULT_MAX_ROUNDS = 4
DEFAULT_SAMPLE = 1000
ROWS_FACTOR = 3.0
"A draft whose expected total is more than this factor away from --rows goes back."


@dataclass(frozen=True)
class Request:
    """What the person asked for, and the loop's limits."""

    description: str
    rows: int = DEFAULT_ROWS
    "The total rows wanted; the model sizes the tables so the expected total is about this."
    max_rows: int = DEFAULT_MAX_ROWS
    "A draft expecting more rows is sent back."
    max_rounds: int = DEFAULT_MAX_ROUNDS
    "Drafts at most: round 1 is the first, each later one answers the previous one's problems."
    seed: int = DEFAULT_SEED
    "The data seed of the sample build (and of the build command printed), not the model's."
    sample: int = DEFAULT_SAMPLE
    threshold: float = DEFAULT_THRESHOLD
    may_ask: bool = False
    "The model may ask up to two questions (someone at a terminal answers them)."


class Chat(Protocol):
    def complete(self, messages: Sequence[prompt.Message]) -> Completion: ...


@dataclass
class Round:
    """One draft and what became of it."""

    number: int
    stage: str
    "Where it stopped: ``reply``, ``check``, ``validate``, or ``passed``."
    problems: list[Problem]
    planned: Planned | None = None
    report: Report | None = None


@dataclass
class Outcome:
    passed: bool
    schema: dict[str, Any] | None
    "The last draft as it is written (annotated), passed or not; None if no draft came."
    rounds: list[Round] = field(default_factory=list)
    questions: list[tuple[str, str]] = field(default_factory=list)
    "Questions the model asked and the answers given."
    assumptions: list[str] = field(default_factory=list)
    simplifications: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def problems(self) -> list[Problem]:
        """The last round's problems (none when it passed)."""
        return self.rounds[-1].problems if self.rounds else []

    @property
    def planned(self) -> Planned | None:
        return self.rounds[-1].planned if self.rounds else None

    @property
    def report(self) -> Report | None:
        return self.rounds[-1].report if self.rounds else None


Ask = Callable[[list[str]], list[str]]
"Shows the questions to the person and returns the answers ('' for none)."


def create_schema(
    request: Request,
    chat: Chat,
    *,
    ask: Ask | None = None,
    say: Callable[[str], None] = lambda _: None,
    model: str = "",
    outcome: Outcome | None = None,
) -> Outcome:
    """Run the loop: at most ``request.max_rounds`` drafts; ``ask`` answers the model's
    questions when ``request.may_ask``; ``say`` reports progress (one line each); ``model`` is
    named in the schema's ``metadata.generated_by``. ``outcome``, when given, is filled as the
    loop goes: a caller keeps the last draft when an error (the endpoint failing in round 3)
    ends the loop."""
    outcome = Outcome(passed=False, schema=None) if outcome is None else outcome
    started = time.perf_counter()
    try:
        _Loop(request, chat, ask if request.may_ask else None, say, model, outcome).run()
    finally:
        outcome.seconds = time.perf_counter() - started
    return outcome


QUESTIONS_REFUSED = Problem(
    "reply.questions", "no one can answer questions here; assume defaults and answer with the schema."
)


@dataclass
class _Loop:
    request: Request
    chat: Chat
    ask: Ask | None
    say: Callable[[str], None]
    model: str
    outcome: Outcome
    conversation: list[prompt.Message] = field(default_factory=list)
    "The system prompt, the request, and the questions and answers if any."
    last: list[prompt.Message] = field(default_factory=list)
    "The last reply and its problems: only the last draft is in the conversation."

    def __post_init__(self) -> None:
        r = self.request
        self.conversation = [
            prompt.system_message(),
            prompt.request_message(
                r.description, rows=r.rows, max_rows=r.max_rows, may_ask=self.ask is not None
            ),
        ]

    def run(self) -> None:
        outcome = self.outcome
        while len(outcome.rounds) < self.request.max_rounds:
            number = len(outcome.rounds) + 1
            self.say(
                f"round {number}: asking the model for a {'draft' if number == 1 else 'repaired draft'}…"
            )
            completion = self.chat.complete(self.conversation + self.last)
            reply = read_reply(completion.text, completion.finish_reason)
            answer = prompt.assistant_message(completion.text or "")
            outcome.notes += [n for n in reply.notes if n not in outcome.notes]
            if reply.schema is None and reply.questions and not reply.problems:
                if self.ask is not None:
                    self.questions(reply.questions, answer)
                    continue  # questions are not a round
                outcome.rounds.append(Round(number, "reply", [QUESTIONS_REFUSED]))
                self.say(f"round {number}: the model asked questions; told to assume defaults.")
                self.last = [answer, prompt.no_questions_message()]
                continue
            outcome.notes += [f"the model also asked: {q}" for q in reply.questions]
            outcome.assumptions = reply.assumptions or outcome.assumptions
            outcome.simplifications = reply.simplifications or outcome.simplifications
            if reply.schema is None:
                result = Round(number, "reply", reply.problems)
            else:
                outcome.schema = annotated(reply.schema, outcome, self.model)
                result = assess(outcome.schema, self.request, number)
            outcome.rounds.append(result)
            if result.stage == "passed":
                outcome.passed = True
                assert result.report is not None
                self.say(
                    f"round {number}: check passed; the {self.request.sample:,}-row sample build passed its "
                    f"checks (quality score {result.report.quality_score:.1f})."
                )
                return
            self.send_back(result, answer)

    def questions(self, questions: list[str], answer: prompt.Message) -> None:
        """Ask the person, once; the questions and answers stay in the conversation."""
        answers = list(self.ask(questions))[: len(questions)] if self.ask else []
        answers += [""] * (len(questions) - len(answers))
        self.outcome.questions = list(zip(questions, answers, strict=True))
        self.conversation += [answer, prompt.answers_message(self.outcome.questions)]
        self.last = []
        self.ask = None

    def send_back(self, result: Round, answer: prompt.Message) -> None:
        self.say(f"round {result.number}: {_count(result.problems)} from {_STAGE_NAMES[result.stage]}.")
        for problem in result.problems[:SHOWN_PROBLEMS]:
            self.say(f"  {problem}")
        if len(result.problems) > SHOWN_PROBLEMS:
            self.say(f"  … and {len(result.problems) - SHOWN_PROBLEMS} more")
        repair = prompt.repair_message(
            result.stage,
            result.problems[:MAX_PROBLEMS_SENT],
            round=result.number,
            max_rounds=self.request.max_rounds,
            sample=self.request.sample,
            score=result.report.quality_score if result.report is not None else None,
            threshold=self.request.threshold,
        )
        self.last = [answer, repair]


SHOWN_PROBLEMS = 10
MAX_PROBLEMS_SENT = 50
"As ``dgsql check`` shows at most 50 problems (``SchemaError.max_shown``)."
_STAGE_NAMES = {"reply": "reading the reply", "check": "check", "validate": "the sample build's checks"}


def _count(problems: list[Problem]) -> str:
    return f"{len(problems)} problem" + ("" if len(problems) == 1 else "s")


def annotated(schema: dict[str, Any], outcome: Outcome, model: str) -> dict[str, Any]:
    """The draft as ``create`` writes it: the assumptions and simplifications appended to
    ``metadata.description``, and ``metadata.generated_by`` naming the tool, prompt version and
    model. Metadata keys other than name and description are accepted and ignored by the
    compiler, and neither key changes a single generated value. A draft whose metadata is not
    an object is left as it is, for the checker to report."""
    schema = copy.deepcopy(schema)
    meta = schema.get("metadata")
    if not isinstance(meta, dict):
        return schema
    description = meta.get("description")
    if description is None or isinstance(description, str):
        parts = [description.strip()] if description and description.strip() else []
        if outcome.assumptions:
            parts.append("Assumptions: " + "; ".join(_sentence(a) for a in outcome.assumptions) + ".")
        if outcome.simplifications:
            parts.append("Simplified: " + "; ".join(_sentence(s) for s in outcome.simplifications) + ".")
        if parts:
            meta["description"] = " ".join(parts)
    meta["generated_by"] = (
        f"dgsql {__version__} create (prompt v{prompt.PROMPT_VERSION}"
        + (f", model {model}" if model else "")
        + ")"
    )
    return schema


def _sentence(text: str) -> str:
    return " ".join(text.split()).rstrip(".;")


def assess(schema: dict[str, Any], request: Request, number: int = 0) -> Round:
    """Check a draft, then build a sample and validate it: the round's stage and problems."""
    try:
        planned = plan_schema(schema, seed=request.seed)
    except SchemaError as e:
        return Round(number, "check", list(e.problems))
    problems = size_problems(planned, request)
    if problems:
        return Round(number, "check", problems, planned)
    report = sample_report(schema, request)
    problems = report_problems(report, request)
    if problems:
        return Round(number, "validate", problems, planned, report)
    return Round(number, "passed", [], planned, report)


def size_problems(planned: Planned, request: Request) -> list[Problem]:
    """The expected total against ``--max-rows`` and ``--rows``, at ``nodes``."""
    total = sum(t.expected_rows for t in planned.tables)
    largest = sorted(planned.tables, key=lambda t: -t.expected_rows)[:3]
    where = ", ".join(f"{t.name} ~{t.expected_rows:,.0f}" for t in largest)
    if total > request.max_rows:
        return [
            Problem(
                "nodes",
                f"the tables expect ~{total:,.0f} rows in total ({where}), above the limit of "
                f"{request.max_rows:,}; lower entity rows or fanout lambdas so the total is about "
                f"{request.rows:,}.",
            )
        ]
    if total > request.rows * ROWS_FACTOR or total < request.rows / ROWS_FACTOR:
        return [
            Problem(
                "nodes",
                f"the tables expect ~{total:,.0f} rows in total ({where}), but about {request.rows:,} were "
                "asked for; scale entity rows (a fact has its primary parent's rows times its mean fanout) "
                f"so the total is about {request.rows:,}.",
            )
        ]
    return []


def sample_report(schema: dict[str, Any], request: Request) -> Report:
    """Build a ``--sample`` of the draft in the locked-down build session, in a temporary
    folder removed afterwards, and return its checks' report."""
    planned = plan_schema(schema, seed=request.seed, sample=request.sample)
    with tempfile.TemporaryDirectory(prefix="dgsql-create-") as tmp:
        result = run_build(planned, Path(tmp) / "sample", compression=DEFAULT_COMPRESSION, run_checks=True)
    assert result.report is not None
    return result.report


def report_problems(report: Report, request: Request) -> list[Problem]:
    """The failing checks of a report that misses the gate, one problem each at the JSON path
    of the declaration the check comes from; none when it passes the gate."""
    if report.passed_gate(request.threshold):
        return []
    problems = []
    for r in report.results:
        failed = r.status is Status.FAILED
        unevaluated_key = r.check.gate and r.status is Status.NOT_EVALUATED
        if not (failed or unevaluated_key):
            continue
        c = r.check
        if failed:
            what = ADVICE.get(c.kind, "the check failed.").rstrip(".")
            if r.violations and c.mode == "rows":
                what = f"{r.violations:,} failing rows: {what}"
            seen = _seen(r)
            problems.append(
                Problem(
                    c.source or c.id,
                    f"check {c.id} failed on the sample: {what}" + (f" ({seen})" if seen else "") + "; "
                    "make the generator produce what is declared, or correct the declaration.",
                )
            )
        else:
            reason = r.detail.get("reason") or r.detail.get("error") or c.reason or "not evaluated"
            problems.append(
                Problem(c.source or c.id, f"key check {c.id} could not run ({reason}); fix what it reads.")
            )
    if not problems:  # the score alone misses the threshold (no check failed outright)
        problems.append(
            Problem(
                "$",
                f"the sample's quality score {report.quality_score:.1f} is below {request.threshold:g}; "
                "declare checks the generators meet.",
            )
        )
    return problems


def _seen(r: Any) -> str:
    """The statistic (stat checks) or the first failing row (row checks), short."""
    values = r.detail if r.check.mode == "stat" else (r.examples[0] if r.examples else {})
    expected = r.check.expect
    parts = [f"{k}={_short(v)}" for k, v in values.items() if k != "ok"]
    parts += [f"expected {k}={_short(v)}" for k, v in expected.items() if not isinstance(v, bool)]
    text = ", ".join(parts)
    return text if len(text) <= 300 else text[:299] + "…"


def _short(value: Any) -> str:
    value = json_value(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text if len(text) <= 60 else text[:59] + "…"
