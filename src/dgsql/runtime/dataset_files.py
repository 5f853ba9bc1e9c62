"""A build's folder read back for a loader: per table, a DuckDB relation over what the build
wrote, with the schema's columns and types. The folder is read by validate's reader
(:func:`dgsql.runtime.validate.open_build`: every format, part folders, a ``.duckdb`` file).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from dgsql.compiler.sqltext import SQL_TYPES, fill, ident, join
from dgsql.dsl.model import Dataset
from dgsql.errors import UsageError
from dgsql.runtime.validate import open_build


def table_relations(
    con: duckdb.DuckDBPyConnection, dataset: Dataset, data_dir: Path
) -> dict[str, duckdb.DuckDBPyRelation]:
    """Per table of ``dataset`` (schema order), a relation in ``con`` over its data in
    ``data_dir``: the written columns in schema order, with the DuckDB types the build gave them.

    Raises :class:`UsageError` for a missing folder or file, a file that is not readable, or a
    file whose columns are not the schema's (built from another version of the schema)."""
    views = open_build(con, dataset, Path(data_dir))
    problems: list[str] = []
    relations: dict[str, duckdb.DuckDBPyRelation] = {}
    for node in dataset.nodes:
        columns = join(ident(c.name) for c in node.written)
        try:
            rel = con.sql(fill("SELECT {c} FROM {t}", c=columns, t=views[node.id]))
        except duckdb.BinderException as e:
            problems.append(
                f"{data_dir}: table {node.id!r}: {_first_line(e)}; rebuild the dataset with this schema."
            )
            continue
        wrong = [
            f"{c.name} is {actual}, not {SQL_TYPES[c.type]}"
            for c, actual in zip(node.written, rel.types, strict=True)
            if str(actual) != SQL_TYPES[c.type]
        ]
        if wrong:
            problems.append(
                f"{data_dir}: table {node.id!r}: {'; '.join(wrong)}; rebuild the dataset with this schema."
            )
            continue
        relations[node.id] = rel
    if problems:
        raise UsageError("\n".join(problems))
    return relations


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0]
