"""``dgsql create`` as the command line runs it: the description, the output file, questions at
a terminal, the loop, the file written (or the draft saved), the summary and the build."""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table
from rich.text import Text

from dgsql.compiler import DEFAULT_COMPRESSION, Planned, plan_schema
from dgsql.compiler.load import YAML_SUFFIXES
from dgsql.compiler.source import read_source
from dgsql.create.client import ChatClient, endpoint_from
from dgsql.create.repair import Outcome, Request, create_schema
from dgsql.dsl import model as S
from dgsql.errors import InternalError, UsageError
from dgsql.runtime.build import build as run_build

MAX_DESCRIPTION = 50_000
"Characters of description (with the brief file): a longer one is refused, not cut."
SUFFIXES = (".json", *YAML_SUFFIXES)
COUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgGbB]?)\s*$")
UNITS = {"": 1, "k": 1_000, "m": 1_000_000, "g": 1_000_000_000, "b": 1_000_000_000}
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def parse_count(text: str, flag: str) -> int:
    """``100k`` → 100000, ``10M`` → 10000000, ``2.5M``, ``1_000``; UsageError otherwise.

    >>> parse_count("10M", "--max-rows"), parse_count("1_500", "--rows")
    (10000000, 1500)
    """
    m = COUNT.match(text.replace("_", "").replace(",", ""))
    value = float(m.group(1)) * UNITS[m.group(2).lower()] if m else 0
    if not m or value < 1:
        raise UsageError(f"{flag}: {text!r} is not a row count; give a number such as 100000, 100k or 10M.")
    return round(value)


def read_description(description: str | None, brief: Path | None) -> str:
    """The description: the argument (``-`` reads standard input), then the brief file's text."""
    parts = []
    if description == "-":
        parts.append(sys.stdin.read())
    elif description is not None:
        parts.append(description)
    if brief is not None:
        if not brief.is_file():
            raise UsageError(f"-f: {brief}: no such file; give the path of a text file describing the data.")
        try:
            parts.append(brief.read_text(encoding="utf-8-sig"))
        except UnicodeDecodeError:
            raise UsageError(f"-f: {brief} is not UTF-8 text; save the brief as UTF-8.") from None
    text = "\n\n".join(p.strip() for p in parts if p.strip())
    if not text:
        raise UsageError(
            'DESCRIPTION: nothing describes the data; give it in words (dgsql create "shop with customers '
            'and orders"), - for standard input, or -f FILE.'
        )
    if len(text) > MAX_DESCRIPTION:
        raise UsageError(
            f"DESCRIPTION: {len(text):,} characters, more than {MAX_DESCRIPTION:,}; describe the data more briefly."
        )
    return text


def target(out: Path, force: bool) -> Path:
    """The schema file to write, checked before any request is sent."""
    if out.suffix.lower() not in SUFFIXES:
        raise UsageError(f"-o: {out}: a schema file ends in .json, .yaml or .yml; name it so.")
    if out.is_dir():
        raise UsageError(f"-o: {out} is a folder; give the path of the schema file to write.")
    if not out.parent.is_dir():
        raise UsageError(f"-o: {out.parent} does not exist; create the folder or write elsewhere.")
    if out.exists() and not force:
        raise UsageError(f"-o: {out} exists; give another path, or --force to overwrite it.")
    return out


def draft_path(out: Path) -> Path:
    return out.with_name(out.name + ".draft.json")


def terminal() -> bool:
    """Someone can answer questions: standard input and error are a terminal."""
    return sys.stdin.isatty() and sys.stderr.isatty()


def ask_on_terminal(questions: list[str]) -> list[str]:
    """Ask each question on standard error and read one line of answer from standard input."""
    answers = []
    print("The model asks (press Enter to let it assume a default):", file=sys.stderr)
    for i, question in enumerate(questions, 1):
        print(f"  {i}. {plain(question)}", file=sys.stderr)
        sys.stderr.write("  > ")
        sys.stderr.flush()
        answers.append(sys.stdin.readline().strip())
    return answers


def plain(text: str) -> str:
    """Model-written text made safe for a terminal: control characters (escape sequences) shown
    as ``?``."""
    return CONTROL.sub("?", text)


def say(line: str) -> None:
    print(plain(line), file=sys.stderr)


def run(
    *,
    description: str | None,
    brief: Path | None,
    out: Path,
    force: bool,
    rows: str,
    max_rows: str,
    max_rounds: int,
    no_questions: bool,
    seed: int,
    threshold: float,
    base_url: str | None,
    model: str | None,
    timeout: float,
    build_dir: Path | None,
    console: Console,
    ask: Callable[[list[str]], list[str]] = ask_on_terminal,
) -> int:
    """The command; returns its exit code (errors raise, for the CLI's funnel)."""
    text = read_description(description, brief)
    wanted, limit = parse_count(rows, "--rows"), parse_count(max_rows, "--max-rows")
    if wanted > limit:
        raise UsageError(
            f"--rows: {wanted:,} is above --max-rows {limit:,}; ask for fewer rows or raise --max-rows."
        )
    out = target(out, force)
    endpoint = endpoint_from(base_url, model, timeout=timeout)
    client = ChatClient(endpoint, on_note=lambda note: say(f"note: {note}"))
    request = Request(
        text,
        rows=wanted,
        max_rows=limit,
        max_rounds=max_rounds,
        seed=seed,
        threshold=threshold,
        may_ask=not no_questions and terminal(),
    )
    say(f"dgsql create: model {endpoint.model} at {endpoint.shown_url}, at most {max_rounds} rounds.")
    outcome = Outcome(passed=False, schema=None)
    try:
        create_schema(request, client, ask=ask, say=say, model=endpoint.model, outcome=outcome)
    except BaseException:
        if outcome.schema is not None:
            saved = save_draft(out, outcome.schema)
            say(f"the last draft is saved as {saved}.")
        raise
    _tell(outcome)
    if not outcome.passed:
        for problem in outcome.problems:
            print(f"error: {plain(str(problem))}", file=sys.stderr)
        rounds = len(outcome.rounds)
        if outcome.schema is None:
            say(
                f"no draft passed in {rounds} round{'s' * (rounds != 1)}, and none could be read; nothing written."
            )
        else:
            saved = save_draft(out, outcome.schema)
            say(
                f"no draft passed in {rounds} round{'s' * (rounds != 1)}; the last one is saved as {saved} "
                f"(fix it by hand, then: dgsql check {shlex.quote(str(saved))}), or run again with more --max-rounds."
            )
        return 1
    assert outcome.schema is not None and outcome.planned is not None
    write_schema(out, outcome.schema)
    _summary(outcome.planned, outcome, out, seed, build_dir, console)
    if build_dir is None:
        return 0
    planned = plan_schema(out, seed=seed)
    with console.status("generating…"):
        result = run_build(
            planned,
            build_dir,
            compression=DEFAULT_COMPRESSION,
            run_checks=True,
            on_table=lambda t: say(f"  {t.name}: {t.rows:,} rows in {t.seconds:.2f} s"),
        )
    assert result.report is not None
    result.report.render(console)
    return 0 if result.report.passed_gate(threshold) else 1


def _tell(outcome: Outcome) -> None:
    for question, answer in outcome.questions:
        say(f"asked: {question} answered: {answer or '(a default)'}")
    for assumption in outcome.assumptions:
        say(f"assumed: {assumption}")
    for simplification in outcome.simplifications:
        say(f"simplified: {simplification}")
    for note in outcome.notes:
        say(f"note: the reply also said {note}")


def save_draft(out: Path, schema: dict[str, Any]) -> Path:
    path = draft_path(out)
    _write(path, json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
    return path


def write_schema(out: Path, schema: dict[str, Any]) -> None:
    """Write the schema as JSON or YAML (by the suffix); the file is read back through the
    compiler's own reader and must give the very object, or nothing is written."""
    if out.suffix.lower() in YAML_SUFFIXES:
        text = yaml.dump(schema, Dumper=_YamlDumper, sort_keys=False, allow_unicode=True, width=100)
    else:
        text = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    temp = out.with_name(f".{out.stem}.tmp-{os.getpid()}{out.suffix}")  # the suffix picks the reader
    try:
        temp.write_text(text, encoding="utf-8")
        if read_source(temp)[0] != json.loads(json.dumps(schema)):
            raise InternalError(f"{out}: the schema written reads back differently; please report it.")
        os.replace(temp, out)
    finally:
        temp.unlink(missing_ok=True)


class _YamlDumper(yaml.SafeDumper):
    """Block mappings; lists of plain values on one line (``choices: [free, pro]``)."""


def _yaml_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = all(v is None or isinstance(v, (str, int, float, bool)) for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_YamlDumper.add_representer(list, _yaml_list)


def _write(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _summary(
    planned: Planned, outcome: Outcome, out: Path, seed: int, build_dir: Path | None, console: Console
) -> None:
    ds = planned.dataset
    table = Table(title=f"schema {plain(ds.metadata.name)!r}", title_justify="left")
    for name, justify in (
        ("table", "left"),
        ("kind", "left"),
        ("expected rows", "right"),
        ("rows from", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    nodes = {n.id: n for n in ds.nodes}
    for t in planned.tables:
        table.add_row(
            Text(plain(t.name)), t.kind, f"{t.expected_rows:,.0f}", Text(plain(_origin(nodes[t.name])))
        )
    total = sum(t.expected_rows for t in planned.tables)
    table.add_row("total", "", f"{total:,.0f}", "", style="bold")
    console.print(table)
    for line in _relations(ds):
        say(f"  {line}")
    report = outcome.report
    rounds = len(outcome.rounds)
    score = f", quality score {report.quality_score:.1f} on the sample" if report is not None else ""
    say(f"wrote {out} after {rounds} round{'s' * (rounds != 1)} in {outcome.seconds:.1f} s{score}.")
    folder = build_dir or Path("out")
    say(f"build it: dgsql build {shlex.quote(str(out))} -o {shlex.quote(str(folder))} --seed {seed}")


def _origin(node: S.Node) -> str:
    if node.kind == "vocab":
        return "its enum_list"
    if node.kind == "entity" or not node.parents:
        return f"rows: {node.rows if node.rows is not None else 1000:,}"
    parent = node.parents[0]
    if node.stage_config is not None:
        return f"funnel of {len(node.stage_config.stages)} stages per {parent} row"
    f = node.fanout
    if f is None:
        return f"one per {parent} row"
    lo, hi = f.bounds
    span = f"{lo}–{hi}" if hi is not None else f">= {lo}"
    law = f"poisson λ {f.lambda_:g}, {span}" if f.distribution == "poisson" else f"uniform {span}"
    return f"{law} per {parent} row"


def _relations(ds: S.Dataset) -> list[str]:
    """Which table fans out of which, and which tables a table's lookups read."""
    lines = []
    for node in ds.nodes:
        if node.kind == "fact" and node.parents:
            lines.append(f"{node.id} fans out of {node.parents[0]}")
            for other in node.parents[1:]:
                lines.append(f"{node.id} picks rows of {other}")
        read = []
        for col in node.columns:
            gen = col.generator
            if isinstance(gen, S.LookupGen):
                found = ds_split(ds, gen.lookup.from_)
                if found and found[0] not in (node.id, *node.parents[:1]) and found[0] not in read:
                    read.append(found[0])
        for other in read:
            lines.append(f"{node.id} looks up {other}")
    return lines


def ds_split(ds: S.Dataset, ref: str) -> tuple[str, str] | None:
    try:
        return ds.split_ref(ref)
    except KeyError:
        return None
