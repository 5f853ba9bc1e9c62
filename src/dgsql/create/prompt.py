"""What ``dgsql create`` sends: the messages, rendered from the one template file
(``prompt_v1.md.j2``: the DSL reference condensed from docs/dsl.md and the bundled example
schemas), and the reply's JSON Schema, built around the DSL's own (``dataset_json_schema``,
generated from the models the compiler reads) for servers that constrain their output to it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

import jinja2

from dgsql.dsl.json_schema import dataset_json_schema
from dgsql.dsl.problems import Problem

PROMPT_VERSION = 1
"The template's version; written into each schema ``create`` writes (``metadata.generated_by``)."
TEMPLATE = f"prompt_v{PROMPT_VERSION}.md.j2"
EXAMPLES = ("shop_orders.json", "hr_org.json", "iot_sensors.json")
"The bundled example schemas the prompt shows (``dgsql/create/examples``, copies of ``examples/``)."
MAX_QUESTIONS = 2
REPLY_KEYS = ("questions", "assumptions", "simplifications", "schema")

Message = dict[str, str]


@cache
def _template() -> Any:
    """The template's module: one macro per message kind."""
    text = resources.files("dgsql.create").joinpath(TEMPLATE).read_text(encoding="utf-8")
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False)
    return env.from_string(text).module


def example_texts() -> list[tuple[str, str]]:
    """(name, JSON text) of each bundled example, as shipped in the package."""
    folder = resources.files("dgsql.create").joinpath("examples")
    return [
        (name.removesuffix(".json"), folder.joinpath(name).read_text(encoding="utf-8")) for name in EXAMPLES
    ]


def system_message() -> Message:
    return {"role": "system", "content": str(_template().system(example_texts())).strip()}


def request_message(description: str, *, rows: int, max_rows: int, may_ask: bool) -> Message:
    text = _template().request(description.strip(), rows, max_rows, may_ask)
    return {"role": "user", "content": str(text).strip()}


def answers_message(pairs: Sequence[tuple[str, str]]) -> Message:
    return {"role": "user", "content": str(_template().answers(list(pairs))).strip()}


def no_questions_message() -> Message:
    return {"role": "user", "content": str(_template().no_questions()).strip()}


def repair_message(
    stage: str,
    problems: Sequence[Problem],
    *,
    round: int,  # noqa: A002 - the word the docs use
    max_rounds: int,
    sample: int,
    score: float | None = None,
    threshold: float = 0.0,
) -> Message:
    """The problems of a draft, back to the model: ``stage`` is ``reply`` (no schema could be
    read), ``check`` (the checker's problems) or ``validate`` (the sample build's failing checks)."""
    text = _template().repair(stage, [str(p) for p in problems], round, max_rounds, sample, score, threshold)
    return {"role": "user", "content": str(text).strip()}


def assistant_message(text: str) -> Message:
    return {"role": "assistant", "content": text}


@cache
def _reply_schema_text() -> str:
    dsl = dataset_json_schema()
    defs = dsl.pop("$defs")
    dsl.pop("$schema", None)
    if "Dataset" in defs:  # pragma: no cover - a model of that name would need another key
        raise RuntimeError("the DSL's JSON Schema already defines 'Dataset'")
    defs["Dataset"] = dsl
    strings = {"type": "array", "items": {"type": "string"}}
    schema = {
        "type": "object",
        "properties": {
            "questions": {
                **strings,
                "maxItems": MAX_QUESTIONS,
                "description": "At most two questions, only when allowed; then schema is null.",
            },
            "assumptions": {
                **strings,
                "description": "The defaults chosen where the description was silent.",
            },
            "simplifications": {
                **strings,
                "description": "What the description asked that the DSL cannot express, and what was used instead.",
            },
            "schema": {
                "anyOf": [{"$ref": "#/$defs/Dataset"}, {"type": "null"}],
                "description": "The Datagen DSL v1 schema, or null when asking questions.",
            },
        },
        "required": list(REPLY_KEYS),
        "additionalProperties": False,
        "$defs": defs,
    }
    return json.dumps(schema)


def reply_json_schema() -> dict[str, Any]:
    """The JSON Schema of a reply: questions, assumptions, simplifications and the DSL schema
    (``dataset_json_schema()``, its definitions under ``$defs``, its root as ``$defs.Dataset``)."""
    return json.loads(_reply_schema_text())


def structured_format() -> dict[str, Any]:
    """The ``response_format`` of structured output. Not strict: OpenAI's strict mode refuses
    schemas with open maps (``additionalProperties`` other than false), which the DSL has
    (``fanout`` keys, ``map_values.mapping``, ``lookup.on``, Faker's arguments)."""
    return {
        "type": "json_schema",
        "json_schema": {"name": "dgsql_create_reply", "schema": reply_json_schema(), "strict": False},
    }
