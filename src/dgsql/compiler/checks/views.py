"""What the checks read: one view per table in schema ``dg_check``, and the build's metadata.

>>> table("users")
'dg_check."users"'
"""

from __future__ import annotations

from dgsql.compiler.sqltext import Sql, fill, ident, lit

#: Schema that holds one view per table while checks run (``dg_check."orders"``).
SCHEMA = "dg_check"
#: Table macro returning the parsed ``.metadata.json`` as one JSON value ``doc``.
METADATA_MACRO = "dg_check_metadata"


def table(name: str) -> Sql:
    """The view that reads table ``name`` while checks run."""
    return Sql(f"{SCHEMA}.{ident(name)}")


def metadata_rows(table_name: str) -> Sql:
    """The ``rows`` the build recorded for ``table_name`` in ``.metadata.json`` (NULL when absent)."""
    pointer = "/tables/" + table_name.replace("~", "~0").replace("/", "~1") + "/rows"
    return fill(
        "(SELECT CAST(json_extract(doc, {p}) AS BIGINT) FROM {m}())",
        p=lit(pointer),
        m=Sql(METADATA_MACRO),
    )
