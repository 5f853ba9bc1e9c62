"""Schemas written in YAML: parsed to the same object as the JSON file would be, with the line of
every JSON path so that problems can name it.

YAML is read as JSON would be, as far as the two differ in ways that matter here: a date
(``2024-01-01``) stays a string, as in JSON, instead of becoming a ``date`` object.

>>> data, lines = load("version: '1.0'\\nnodes:\\n  - id: users\\n    rows: 10\\n")
>>> data["nodes"][0]["rows"], lines["nodes[0].rows"], lines["nodes[0]"]
(10, 4, 3)
"""

from __future__ import annotations

from typing import Any

import yaml

from dgsql.errors import SchemaError


class _Loader(yaml.SafeLoader):
    """SafeLoader without the timestamp rule: dates and times stay ISO-8601 strings."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(text: str) -> tuple[Any, dict[str, int]]:
    """(the document as Python objects, the 1-based line of each JSON path); a syntax error is
    a SchemaError naming its line and column."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as e:
        raise SchemaError([_syntax_problem(e)]) from None
    finally:
        loader.dispose()
    lines: dict[str, int] = {}
    if node is not None:
        _mark(node, "$", lines)
    return data, lines


def _syntax_problem(e: yaml.YAMLError) -> str:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    what = getattr(e, "problem", None) or str(e).splitlines()[0]
    where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
    return f"$: not valid YAML ({what}{where}); fix the syntax."


def _join(path: str, key: str) -> str:
    return key if path == "$" else f"{path}.{key}"


def _mark(node: yaml.Node, path: str, lines: dict[str, int]) -> None:
    """Record the line of ``node`` (a key's line for a mapping value) and of everything inside."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                child = _join(path, str(key.value))
                lines.setdefault(child, key.start_mark.line + 1)
                _mark(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _mark(item, f"{path}[{i}]" if path != "$" else f"[{i}]", lines)
