"""dgsql's internal SQL names, in one place.

Every internal name starts with ``__dg_``; a user table or column that does is a
schema error (``check``), so internal names can never collide with the user's.
"""

import hashlib
import re

RESERVED_PREFIX = "__dg_"

ROW = "__dg_row"
"0-based row index of every generated table; the output's row order."
PARENT_ROW = "__dg_parent"
"In a fact: the primary parent's row index that spawned the row."
CHILD = "__dg_child"
"In a fact: the row's 0-based position in its run of children (a fanout table row)."
PARENT_ALIAS = "__dg_p"
"Alias of the primary parent table while its rows' fanout is computed."
FANOUT_COUNT = "__dg_k"
FIRST_CHILD = "__dg_first"
STAGE = "__dg_stage"
"In a funnel fact: the row's stage (0-based), its position among its parent's children."
STAGE_START = "__dg_t0_"
"In a funnel fact: prefix of the per-parent stage-0 time of a datetime column (by its position)."
CHUNK = "__dg_chunk"
"In a fanout table: a parent's run of children (render.FANOUT_CHUNK at most)."
KEY = "__dg_key"
VALUE = "__dg_value"
"Columns of a relation joined by an ``on`` lookup."
MATCH = "__dg_join"
"Prefix of the alias of a relation joined for a column (``__dg_join_department``)."
LAYER = "__dg_l"
"CTE names of a table's column layers: __dg_l0, __dg_l1, …"
LETS = "_lets"
"Suffix of the CTE that adds a layer's shared per-row values (``__dg_l1_lets``)."


LET_NAME = re.compile(r"__dg_let_[0-9a-f]{12}")
"A shared per-row value's name in SQL."


def let(sql: str) -> str:
    """The column name of a shared per-row value (see ``ColumnContext.let``): a digest of its SQL."""
    return "__dg_let_" + hashlib.sha256(sql.encode()).hexdigest()[:12]


def join_alias(columns: list[str], column: str) -> str:
    """The alias of a relation joined for ``column``: its name made a plain identifier, with its
    position when two columns of the table would get the same alias.

    >>> join_alias(["id", "unit price", "unit_price"], "unit price")
    '__dg_join_unit_price_1'
    >>> join_alias(["id", "department"], "department")
    '__dg_join_department'
    """

    def plain(name: str) -> str:
        return re.sub(r"[^0-9a-z_]", "_", name.lower())[:40]

    base = plain(column)
    if sum(plain(c) == base for c in columns) > 1:
        return f"{MATCH}_{base}_{columns.index(column)}"
    return f"{MATCH}_{base}"


def rows_table(table: str) -> str:
    return f"__dg_rows_{table}"


def aside_table(table: str) -> str:
    """A kept table's temporary name while its persistent namesake in the open database is
    created and filled (a qualified ``main.t`` would find the temporary ``temp.main.t``)."""
    return f"__dg_aside_{table}"


def fanout_table(table: str) -> str:
    return f"__dg_fanout_{table}"


def count_table(table: str) -> str:
    """The row count of a fact that later tables read only by row index (one row, column ``n``);
    in a part (docs/parts.md) also the part's first row and end (``lo``, ``hi``)."""
    return f"__dg_count_{table}"


COUNT = "n"
"The count table's row count column."
PART_LO = "lo"
PART_HI = "hi"
"The count table's part range columns: the part's first row and its end (a part, docs/parts.md)."
PART_FILE = "__dg_file"
"The file a row was read from, while a finished table of an earlier stage is read back."


def vocab_table(table: str) -> str:
    """The Faker vocabularies a table's columns read (one row of lists)."""
    return f"__dg_vocab_{table}"


def grid_table(table: str, column: str) -> str:
    return f"__dg_grid_{table}_{column}"


def grid_starts_table(table: str, column: str) -> str:
    return f"__dg_start_{table}_{column}"


def calendar_table(table: str, column: str) -> str:
    return f"__dg_calendar_{table}_{column}"


def effect_table(table: str, column: str, modifier: int) -> str:
    return f"__dg_effect_{table}_{column}_{modifier}"


def pool_table(table: str, column: str) -> str:
    return f"__dg_pool_{table}_{column}"
