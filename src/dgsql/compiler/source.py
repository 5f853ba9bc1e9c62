"""Where a schema comes from: a file path, JSON text or an already parsed object (the Python
API takes all three; the CLI gives a path). Each ends as the JSON object and a SHA-256."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dgsql.compiler.load import parse_text, read_file
from dgsql.errors import SchemaError

SchemaSource = Path | str | Mapping[str, Any]
"A schema file's path, the schema's JSON text (a string starting with ``{``) or its object."


def read_source(schema: SchemaSource) -> tuple[dict[str, Any], str, dict[str, int]]:
    """The schema's object, the SHA-256 of its bytes (of its compact, key-sorted JSON for an
    object) and, for a YAML file, the line of each JSON path in it.

    >>> read_source('{"version": "1"}')[0]
    {'version': '1'}
    """
    if isinstance(schema, Mapping):
        try:
            raw = json.dumps(schema, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError) as e:
            raise SchemaError([f"$: the schema object is not JSON ({e}); give only JSON values."]) from None
        return json.loads(raw), hashlib.sha256(raw.encode()).hexdigest(), {}
    if isinstance(schema, str) and schema.lstrip().startswith(("{", "[")):
        return parse_text(schema)[0], hashlib.sha256(schema.encode()).hexdigest(), {}
    return read_file(Path(schema))
