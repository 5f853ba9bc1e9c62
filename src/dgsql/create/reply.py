"""Read a model's reply: the reply object (questions, assumptions, simplifications, schema),
from whatever the server gave back. Servers that honour structured output give the object
itself; others wrap it in prose or a fenced block, or give a bare DSL schema. Nothing here
trusts the schema: it is a dict for the checker, like a file's content.

>>> read_reply('Here you go:\\n```json\\n{"version": "1.0", "nodes": []}\\n```').schema
{'version': '1.0', 'nodes': []}
>>> read_reply('{"questions": ["How many stores?"], "schema": null}').questions
['How many stores?']
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from dgsql.create.prompt import MAX_QUESTIONS, REPLY_KEYS
from dgsql.dsl.problems import Problem

SCHEMA_KEYS = frozenset(
    {"version", "metadata", "nodes", "timeframe", "constraints", "targets", "dag", "$schema"}
)
"Top-level keys of a DSL schema: an object with one of them (and no reply key) is a bare schema."
FENCE = re.compile(r"```[ \t]*(?:json|JSON|yaml)?[ \t]*\r?\n(.*?)```", re.DOTALL)
MAX_SCANS = 200
"Opening braces tried when the JSON is somewhere in prose (a bound against pathological replies)."
SHOWN = 80


@dataclass
class Reply:
    schema: dict[str, Any] | None = None
    questions: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    simplifications: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    "What makes the reply unusable as it stands (no JSON, a schema that is not an object…)."
    notes: list[str] = field(default_factory=list)
    "Keys of the reply object beyond its four, shown to the person (never dropped silently)."


def read_reply(text: str | None, finish_reason: str | None = None) -> Reply:
    """The reply in ``text``: the whole text as JSON, else a fenced block, else the first JSON
    object in the prose that is a reply object or a DSL schema."""
    text = (text or "").strip()
    if not text:
        return Reply(
            problems=[Problem("$", "the reply is empty; answer with one JSON object holding the schema.")]
        )
    found, error = _find_object(text)
    if found is None:
        if finish_reason == "length":
            why = "it was cut off at the output token limit"
            fix = "answer more compactly (fewer columns, shorter lists), as one complete JSON object"
        elif error is not None:
            why = f"it is not valid JSON ({error})"
            fix = "answer with one complete JSON object, nothing else"
        else:
            why = f"it holds no JSON object (it starts {_start(text)})"
            fix = 'answer with one JSON object {"questions": [], "assumptions": [], "simplifications": [], "schema": {...}}'
        return Reply(problems=[Problem("$", f"the reply could not be read: {why}; {fix}.")])
    return _reply(found)


def _find_object(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """The reply or schema object in ``text``, or (None, the first JSON error seen)."""
    first_error: str | None = None
    candidates = [text] + [m.group(1) for m in FENCE.finditer(text)]
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError as e:
            if candidate.lstrip().startswith("{"):
                first_error = first_error or f"{e.msg} at line {e.lineno} column {e.colno}"
            continue
        if isinstance(value, str):  # a JSON string holding the object (double-encoded)
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                continue
        if _usable(value):
            return value, None
    decoder = json.JSONDecoder()
    for scans, start in enumerate(m.start() for m in re.finditer(r"\{", text)):
        if scans >= MAX_SCANS:
            break
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError as e:
            if first_error is None and _looks_like_start(text, start):
                first_error = f"{e.msg} at line {e.lineno} column {e.colno}"
            continue
        if _usable(value):
            return value, None
    return None, first_error


def _usable(value: Any) -> bool:
    return isinstance(value, dict) and bool(set(value) & (set(REPLY_KEYS) | SCHEMA_KEYS))


def _looks_like_start(text: str, start: int) -> bool:
    """A ``{`` that opens a reply or schema object (its first key is one of theirs)."""
    m = re.match(r'\{\s*"([^"]+)"', text[start:])
    return bool(m) and m.group(1) in set(REPLY_KEYS) | SCHEMA_KEYS


def _reply(obj: dict[str, Any]) -> Reply:
    if not set(obj) & set(REPLY_KEYS):
        return Reply(schema=obj)  # a bare DSL schema
    reply = Reply()
    for key in ("questions", "assumptions", "simplifications"):
        setattr(reply, key, _strings(obj.get(key), key, reply))
    reply.questions = reply.questions[:MAX_QUESTIONS]
    schema = obj.get("schema")
    if isinstance(schema, str):  # the schema as a JSON string
        try:
            schema = json.loads(schema)
        except json.JSONDecodeError as e:
            reply.problems.append(
                Problem(
                    "reply.schema", f"a string that is not JSON ({e.msg}); give the schema as a JSON object."
                )
            )
            schema = None
    if schema is not None and not isinstance(schema, dict):
        reply.problems.append(
            Problem(
                "reply.schema",
                f"a JSON {type(schema).__name__}, not an object; give the schema as an object.",
            )
        )
    elif schema is not None:
        reply.schema = schema
    if reply.schema is None and not reply.questions and not reply.problems:
        reply.problems.append(
            Problem("reply.schema", "missing (null) and no questions asked; answer with the schema.")
        )
    for key, value in obj.items():
        if key not in REPLY_KEYS:
            reply.notes.append(f"{key}: {_short(value)}")
    return reply


def _strings(value: Any, key: str, reply: Reply) -> list[str]:
    """A list of sentences: a string alone is one; other values are shown as notes."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, str):
                if item.strip():
                    out.append(item.strip())
            else:
                out.append(json.dumps(item, ensure_ascii=False))
        return out
    reply.notes.append(f"{key}: {_short(value)}")
    return []


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:199] + "…"


def _start(text: str) -> str:
    line = " ".join(text.split())
    return repr(line if len(line) <= SHOWN else line[: SHOWN - 1] + "…")
