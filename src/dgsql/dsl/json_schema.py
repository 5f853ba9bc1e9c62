"""The DSL as a JSON Schema (draft 2020-12), generated from the pydantic models: their field
docstrings are the descriptions. ``dgsql schema`` prints it; editors use it to complete and
check schema files (docs/editors.md).

>>> schema = dataset_json_schema()
>>> schema["$schema"]
'https://json-schema.org/draft/2020-12/schema'
>>> schema["properties"]["version"]["const"]
'1.0'
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import GenerateJsonSchema

from dgsql import __version__
from dgsql.dsl import model as S

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def dataset_json_schema() -> dict[str, Any]:
    """The JSON Schema of a :class:`~dgsql.dsl.model.Dataset`, as the compiler reads it."""
    body = S.Dataset.model_json_schema(by_alias=True, mode="validation", schema_generator=GenerateJsonSchema)
    body["title"] = f"Datagen DSL v1 schema (dgsql {__version__})"
    return {"$schema": DRAFT, **body}
