"""Pass 1: read a schema file and validate it into a :class:`Dataset`.

Every problem is reported at once, one line each, as
``json.path: what is wrong. what to do.``
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import types
import typing
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from dgsql.dsl import model as S
from dgsql.dsl.problems import Problem
from dgsql.errors import SchemaError, UsageError

YAML_SUFFIXES = (".yaml", ".yml")
P = TypeVar("P", str, Problem)


def read_schema(path: Path) -> tuple[dict[str, Any], str]:
    """Return the parsed object and the SHA-256 of the file's bytes."""
    data, digest, _ = read_file(path)
    return data, digest


def read_file(path: Path) -> tuple[dict[str, Any], str, dict[str, int]]:
    """Return the parsed object, the SHA-256 of the file's bytes and, for a YAML file, the line
    (1-based) of each JSON path in it (``{}`` for JSON, whose errors name no lines)."""
    yaml_file = path.suffix.lower() in YAML_SUFFIXES
    what = "YAML" if yaml_file else "JSON"
    if not path.exists():
        raise UsageError(f"{path}: no such file; give the path of a schema JSON or YAML file.")
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; give the path of a schema JSON or YAML file.")
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SchemaError([f"$: {path} is not UTF-8 text; save the schema as UTF-8 {what}."]) from None
    data, lines = parse_text(text, str(path), yaml_file)
    return data, digest, lines


def parse_text(
    text: str, name: str = "the schema text", yaml_text: bool = False
) -> tuple[dict[str, Any], dict[str, int]]:
    """The object in JSON (or YAML) ``text`` (``name`` says where it came from in messages), and
    for YAML the line of each JSON path in it."""
    what = "YAML" if yaml_text else "JSON"
    if not text.strip():
        raise SchemaError([f"$: {name} is empty; write a {what} object with version, metadata and nodes."])
    lines: dict[str, int] = {}
    if yaml_text:
        from dgsql.compiler import yaml_source  # PyYAML loads for YAML schemas only

        data, lines = yaml_source.load(text)
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise SchemaError(
                [f"$: not valid JSON ({e.msg} at line {e.lineno} column {e.colno}); fix the syntax."]
            ) from None
    if not isinstance(data, dict):
        kind = "null" if data is None else type(data).__name__
        raise SchemaError(
            [f"$: the schema is a {what} {kind}; it must be an object with version, metadata and nodes."]
        )
    return data, lines


def with_lines(problems: Sequence[P], lines: dict[str, int]) -> list[P]:
    """Name the line of each problem's path (or of the nearest enclosing one) in a YAML file:
    ``nodes[0].rows: …`` → ``nodes[0].rows (line 7): …``.

    >>> with_lines(["nodes[0].pk: required key is missing; add it."], {"nodes[0]": 4, "nodes": 3})
    ['nodes[0].pk (line 4): required key is missing; add it.']
    """
    out: list[Any] = []
    for p in problems:
        path = p.path if isinstance(p, Problem) else p.partition(": ")[0]
        line = _line_of(path, lines) if lines and (isinstance(p, Problem) or ": " in p) else None
        if line is None:
            out.append(p)
        elif isinstance(p, Problem):
            out.append(replace(p, path=f"{path} (line {line})"))
        else:
            out.append(f"{path} (line {line}): {p.partition(': ')[2]}")
    return out


def _line_of(path: str, lines: dict[str, int]) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        if cut <= 0:
            break
        path = path[:cut]
    return lines.get(path)


def parse_dataset(data: dict[str, Any]) -> S.Dataset:
    try:
        return S.Dataset.model_validate(data)
    except ValidationError as e:
        errors = e.errors()
        # A union reports one error per branch; a literal branch's complaint about an object
        # or list is noise when another branch says what is wrong at the same place.
        paths = {json_path(tuple(err["loc"]), data) for err in errors if not _is_literal_noise(err)}
        keys = {_key_path(err, data) for err in errors}
        problems = [
            _problem(err, data)
            for err in errors
            if not (_is_literal_noise(err) and json_path(tuple(err["loc"]), data) in paths)
            and not _is_shape_noise(err, data, keys)
        ]
        raise SchemaError(problems) from None


def _is_literal_noise(err: Any) -> bool:
    return err["type"] == "literal_error" and isinstance(err.get("input"), (dict, list))


def _is_shape_noise(err: Any, data: dict[str, Any], paths: set[str]) -> bool:
    """A union of one object or a list (a target kind) reports the branch the value is not as
    "should be a valid list" (or dictionary): noise when the other branch found what is wrong inside."""
    if err["type"] not in ("list_type", "model_type"):
        return False
    path = json_path(tuple(err["loc"]), data)
    return any(p.startswith((f"{path}.", f"{path}[")) for p in paths)


def _key_path(err: Any, data: dict[str, Any]) -> str:
    """The JSON path a problem names: a missing or unknown key's own path."""
    loc = tuple(err["loc"])
    if err["type"] in ("missing", "extra_forbidden"):
        return _join(json_path(loc[:-1], data), str(loc[-1]))
    return json_path(loc, data)


def json_path(loc: tuple[Any, ...], data: Any) -> str:
    """Render a Pydantic location as the JSON path in the user's file.

    Union tags and validator names that Pydantic inserts into ``loc`` (``choice`` in
    ``generator.choice.choice``, ``jitter`` in ``modifiers[0].jitter.args``) are
    dropped by walking the user's own JSON alongside.
    """
    out = ""
    node = data
    for part in loc:
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out += f"[{part}]"
            node = node[part]
        elif isinstance(node, dict) and part in node:
            out += f".{part}" if out else str(part)
            node = node[part]
        elif isinstance(node, (dict, list)):
            continue  # a tag Pydantic inserted
        else:
            out += f".{part}" if out else str(part)
            node = None
    return out or "$"


def _join(path: str, key: str) -> str:
    return key if path == "$" else f"{path}.{key}"


def keys_at(loc: tuple[Any, ...]) -> list[str]:
    """The keys valid in the object at Pydantic location ``loc`` of a Dataset.

    Walks the models' annotations: a list or dict takes its item type, a union keeps every
    member that has the next key (so a tag Pydantic inserts narrows nothing and is skipped).

    >>> keys_at(())[:3]
    ['version', 'metadata', 'timeframe']
    >>> "weights_kind" in keys_at(("nodes", 0, "columns", 0, "generator", "choice", "choice"))
    True
    """
    candidates: list[Any] = [S.Dataset]
    for part in loc:
        candidates = [t for c in candidates for t in _members(c)]
        following: list[Any] = []
        for c in candidates:
            origin = typing.get_origin(c)
            if isinstance(part, int) and origin is list:
                following.append(typing.get_args(c)[0])
            elif isinstance(part, str) and origin is dict:
                following.append(typing.get_args(c)[1])
            elif isinstance(c, type) and issubclass(c, BaseModel):
                field = _field(c, str(part))
                if field is not None:
                    following.append(field.annotation)
        candidates = following or candidates  # an inserted union tag: stay where we are
    models = [
        c
        for c in (t for c in candidates for t in _members(c))
        if isinstance(c, type) and issubclass(c, BaseModel)
    ]
    return list(dict.fromkeys(f.alias or name for m in models for name, f in m.model_fields.items()))


def _members(tp: Any) -> list[Any]:
    """The concrete types of an annotation: Optional, unions and Annotated unwrapped."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _members(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(tp) for m in _members(arg)]
    return [tp]


def _field(model: type[BaseModel], key: str) -> Any:
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return field
    return None


def _problem(err: dict[str, Any], data: dict[str, Any]) -> str:
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        path = json_path(loc[:-1], data)
        key = str(loc[-1])
        valid = keys_at(loc[:-1])
        near = difflib.get_close_matches(key, valid, n=1, cutoff=0.75)
        hint = f"did you mean {near[0]!r}?" if near else f"remove it (the keys here: {', '.join(valid)})."
        return f"{_join(path, key)}: unknown key; {hint}"
    path = json_path(loc, data)
    if kind == "missing":
        return f"{_join(json_path(loc[:-1], data), str(loc[-1]))}: required key is missing; add it."
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        given = err["input"]
        if isinstance(given, (int, float)) and not isinstance(given, bool) and f"'{given}'" in expected:
            return f"{path}: {given!r} is a number; write it as the string {str(given)!r} (in quotes)."
        return f"{path}: {err['input']!r} is not allowed; use one of {expected}."
    if kind == "generator":
        given = err.get("input")
        keys = list(given) if isinstance(given, dict) else []
        near = (
            difflib.get_close_matches(str(keys[0]), list(S.GENERATOR_MODELS), n=1, cutoff=0.6) if keys else []
        )
        if len(keys) == 1 and near:
            return f"{path}.{keys[0]}: unknown generator; did you mean {near[0]!r}?"
        return f'{path}: {err["msg"]}; write e.g. {{"sequence": {{"start": 1}}}}.'
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        tag, expected = str(ctx.get("tag", "")), str(ctx.get("expected_tags", ""))
        names = re.findall(r"'([^']+)'", expected)
        near = difflib.get_close_matches(tag, names, n=1, cutoff=0.6)
        hint = f"did you mean {near[0]!r}?" if near else f"use one of {expected}."
        return f"{path}.transform: unknown transform {tag!r}; {hint}"
    if kind in ("value_error", "assertion_error"):
        msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        return f"{path}: {msg}."
    msg = str(err["msg"])
    return f"{path}: {msg[0].lower() + msg[1:]} (got {_short(err.get('input'))}); fix the value."


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
