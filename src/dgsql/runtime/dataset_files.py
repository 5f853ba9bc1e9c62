"""A build's folder read back: per table, a DuckDB relation over the file the build wrote.

:func:`table_relations` is the one place that knows how a folder is laid out. Today a folder
holds ``<table>.parquet`` files and ``.metadata.json`` (docs/cli.md); the metadata names each
table's file and the folder's ``format``, so another format is one more branch here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from dgsql.compiler.sqltext import SQL_TYPES, fill, ident, join, lit
from dgsql.dsl.model import Dataset
from dgsql.errors import UsageError

METADATA = ".metadata.json"
READABLE = ("parquet",)
"The folder formats :func:`table_relations` reads."


def table_relations(
    con: duckdb.DuckDBPyConnection, dataset: Dataset, data_dir: Path
) -> dict[str, duckdb.DuckDBPyRelation]:
    """Per table of ``dataset`` (schema order), a relation in ``con`` over its file in
    ``data_dir``: the written columns in schema order, with the DuckDB types the build gave them.

    Raises :class:`UsageError` for a missing folder or file, a format it cannot read, a file
    that is not readable, or a file whose columns are not the schema's (built from another
    version of the schema)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        what = "not a folder" if data_dir.exists() else "no such folder"
        raise UsageError(f"{data_dir}: {what}; give the folder dgsql build wrote (--data-dir).")
    meta = _metadata(data_dir / METADATA)
    fmt = (meta.get("format") or "parquet") if meta is not None else "parquet"
    if fmt not in READABLE:
        raise UsageError(
            f"{data_dir}: holds {fmt} files; this command reads Parquet folders; "
            "rebuild with --format parquet."
        )
    recorded = meta.get("tables", {}) if meta is not None else {}
    problems: list[str] = []
    relations: dict[str, duckdb.DuckDBPyRelation] = {}
    for node in dataset.nodes:
        entry = recorded.get(node.id)
        name = entry.get("file") if isinstance(entry, dict) and entry.get("file") else f"{node.id}.parquet"
        path = data_dir / str(name)
        if not path.is_file():
            problems.append(f"{path}: missing; build the dataset into {data_dir} or point --data-dir at it.")
            continue
        columns = join(ident(c.name) for c in node.written)
        try:
            rel = con.sql(fill("SELECT {c} FROM read_parquet({p})", c=columns, p=lit(str(path.resolve()))))
        except duckdb.BinderException as e:
            problems.append(f"{path}: {_first_line(e)}; rebuild the dataset with this schema.")
            continue
        except duckdb.Error as e:
            problems.append(f"{path}: not readable Parquet ({_first_line(e)}); rebuild the dataset.")
            continue
        wrong = [
            f"{c.name} is {actual}, not {SQL_TYPES[c.type]}"
            for c, actual in zip(node.written, rel.types, strict=True)
            if str(actual) != SQL_TYPES[c.type]
        ]
        if wrong:
            problems.append(f"{path}: {'; '.join(wrong)}; rebuild the dataset with this schema.")
            continue
        relations[node.id] = rel
    if problems:
        raise UsageError("\n".join(problems))
    return relations


def _metadata(path: Path) -> dict[str, Any] | None:
    """The build's ``.metadata.json``, None when absent; UsageError when unreadable."""
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(
            f"{path}: not readable JSON ({e}); rebuild the dataset or delete the file."
        ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("tables"), dict):
        raise UsageError(f'{path}: has no "tables" object; rebuild the dataset or delete the file.')
    return doc


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0]
