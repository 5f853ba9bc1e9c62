"""The DSL as a JSON Schema (draft 2020-12), generated from the pydantic models: their field
docstrings are the descriptions. ``dgsql schema`` prints it; editors use it to complete and
check schema files (docs/editors.md).

>>> schema = dataset_json_schema()
>>> schema["$schema"]
'https://json-schema.org/draft/2020-12/schema'
>>> schema["properties"]["version"]["const"]
'1.0'
>>> schema["properties"]["nodes"]["description"]
'The tables, in any order (dgsql orders them by their references).'
"""

from __future__ import annotations

import ast
import inspect
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema

from dgsql import __version__
from dgsql.dsl import model as S

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def dataset_json_schema() -> dict[str, Any]:
    """The JSON Schema of a :class:`~dgsql.dsl.model.Dataset`, as the compiler reads it."""
    body = S.Dataset.model_json_schema(by_alias=True, mode="validation", schema_generator=GenerateJsonSchema)
    docs = field_docstrings()
    _describe(body, S.Dataset, docs)
    for cls in _models():
        if cls.__name__ in body.get("$defs", {}):
            _describe(body["$defs"][cls.__name__], cls, docs)
    body = GenerateJsonSchema(by_alias=True).sort(body)  # pydantic's key order, descriptions included
    body["title"] = f"Datagen DSL v1 schema (dgsql {__version__})"
    return {"$schema": DRAFT, **body}


def field_docstrings() -> dict[str, dict[str, str]]:
    """Per class of :mod:`dgsql.dsl.model`, the string under each field (``name: type`` then a
    string literal): the field's documentation. The module's source is parsed once."""
    found: dict[str, dict[str, str]] = {}
    for node in ast.walk(ast.parse(inspect.getsource(S))):
        if not isinstance(node, ast.ClassDef):
            continue
        docs = found.setdefault(node.name, {})
        for field, doc in zip(node.body, node.body[1:], strict=False):
            if (
                isinstance(field, ast.AnnAssign)
                and isinstance(field.target, ast.Name)
                and isinstance(doc, ast.Expr)
                and isinstance(doc.value, ast.Constant)
                and isinstance(doc.value.value, str)
            ):
                docs[field.target.id] = inspect.cleandoc(doc.value.value)
    return found


def _models() -> list[type[BaseModel]]:
    return [v for v in vars(S).values() if isinstance(v, type) and issubclass(v, BaseModel)]


def _describe(schema: dict[str, Any], cls: type[BaseModel], docs: dict[str, dict[str, str]]) -> None:
    """Give each property of ``cls``'s schema the docstring of its field (a class inherits
    its bases' docstrings), unless the field has a description of its own."""
    own: dict[str, str] = {}
    for base in reversed(cls.__mro__):
        own.update(docs.get(base.__name__, {}) if base.__module__ == S.__name__ else {})
    properties = schema.get("properties", {})
    for name, field in cls.model_fields.items():
        key = field.alias or name
        if key in properties and name in own and not field.description:
            properties[key].setdefault("description", own[name])
