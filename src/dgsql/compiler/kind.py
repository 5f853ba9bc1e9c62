"""The one protocol of a generator or modifier kind.

A kind knows how it is checked (every schema problem, with its path and a fix), what it
reads (same-row columns, other tables), what it implies for planning (distinct values, value
range, whether its value is fractional, whether it is a pure function of the row index) and
how it renders. The passes ask the kind; none of them branches on a kind's name. Adding a
kind is one module with one class and one line in its registry
(``generators/__init__.py`` or ``modifiers/__init__.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from dgsql.compiler.context import ColumnContext, Fragment
from dgsql.compiler.facts import TableFacts
from dgsql.dsl import model as S
from dgsql.dsl.resolve import References


@dataclass(frozen=True)
class Read:
    """One way a table reads another table (or itself)."""

    table: str
    kind: str
    """parent (the primary parent, whose rows spawn the fact's), other_parent, lookup, choices_ref,
    enum_ref, effect, behaviour (the primary parent's segment or vintage scales the fact)."""
    column: str | None = None
    "The column a lookup reads."
    keyed: bool = False
    "A lookup with ``on`` (a join on a key column)."


@dataclass(frozen=True)
class Site:
    """Where a spec sits while it is checked: its column, table and JSON path, and the
    references of the dataset (which record every problem)."""

    refs: References
    node: S.Node
    column: S.Column
    path: str
    "JSON path of the column (``nodes[0].columns[2]``)."

    @property
    def ds(self) -> S.Dataset:
        return self.refs.ds

    def problem(self, where: str, text: str) -> None:
        """An error at ``path + where`` (``where`` starts with ``.`` or is empty)."""
        self.refs.problem(self.path + where, text)

    def warn(self, where: str, text: str) -> None:
        self.refs.warn(self.path + where, text)


@dataclass(frozen=True)
class Place:
    """Where a spec sits while the plan asks it about the rows it makes."""

    column: S.Column
    node: S.Node
    ds: S.Dataset
    known: Mapping[str, TableFacts]
    "Facts of the tables planned so far (and of this one, once its own are known)."
    bounded: bool = False
    "The column is drawn after others (an inequality; ``compiler/bounds.py``): :meth:`GeneratorKind.truncated`."


class GeneratorKind:
    """A generator kind: ``key`` is its DSL key (``{"choice": {...}}``)."""

    key: ClassVar[str]
    types: ClassVar[tuple[str, ...] | None] = None
    "Column types its values convert to (None: every type, or the kind checks it itself)."
    always_pure: ClassVar[bool] = False
    "Its value is always a pure function of the row index (:meth:`pure` says when it is not always)."
    yields_null: ClassVar[bool] = False
    "It may give NULL by itself (a lookup without a match), without a ``null_rate``."
    costly: ClassVar[bool] = False
    "A row costs about ten times a plain column's: smaller tables are already split across cores."

    def check(self, spec: Any, site: Site) -> None:
        """Record every problem of ``spec`` in its column (references resolve through ``site``)."""

    def reads(self, spec: Any, column: S.Column, node: S.Node) -> list[str]:
        """Same-row columns the value reads."""
        return []

    def tables(self, spec: Any, ds: S.Dataset) -> list[Read]:
        """Other tables the value reads (they are generated first)."""
        return []

    def capacity(self, spec: Any, column: S.Column, ds: S.Dataset, expected: Mapping[str, float]) -> float:
        """How many distinct values it can yield before modifiers (inf when unbounded);
        ``expected`` holds the expected rows of the tables planned so far."""
        return math.inf

    def value_range(self, spec: Any, column: S.Column, ds: S.Dataset) -> tuple[float, float] | None:
        """[min, max] of a numeric or datetime value before modifiers (datetimes in epoch
        seconds), when the generator bounds it (an end is ±inf when only the other one is bounded)."""
        return None

    def fractional(self, spec: Any, column: S.Column, ds: S.Dataset) -> bool:
        """Whether the value may be a non-integer number (an int column then rounds it)."""
        return False

    def pure(self, spec: Any, place: Place) -> bool:
        """Whether the value is a pure function of the row index and of same-row pure columns
        (so a lookup can recompute it at another row instead of joining the table)."""
        return self.always_pure

    def joins(self, spec: Any, place: Place) -> bool:
        """Whether the value needs a join that does not keep the rows' order (a hash or ASOF
        join): the plan then sorts the table's rows right after such columns."""
        return False

    def literals(
        self, spec: Any, ds: S.Dataset, trace: Callable[[str], list[Any] | None]
    ) -> list[Any] | None:
        """The values it yields when they are literals visible at compile time (``trace(ref)``
        gives those of another table's column), else None."""
        return None

    def sequence(self, spec: Any, column: S.Column) -> tuple[float, float] | None:
        """(start, step) when the value is exactly ``start + step * row`` in the column's type
        (a lookup of it is then arithmetic, and so is an ``on`` join on it)."""
        return None

    def offset(
        self, spec: Any, column: S.Column, node: S.Node, ds: S.Dataset
    ) -> tuple[str, float | None] | None:
        """(base column, least value of this column minus the base in microseconds, None when
        unknown) when the value is a same-row date/datetime column plus a duration, else None."""
        return None

    def render(self, spec: Any, ctx: ColumnContext) -> Fragment:
        raise NotImplementedError(f"{type(self).__name__}.render")

    def truncated(self, spec: Any, ctx: ColumnContext, bound: str, strict: bool) -> Fragment | None:
        """The value drawn from its declared law restricted to values above ``bound`` (a SQL
        value of the column's type; ``strict``: not equal to it either), or None when the kind
        has no such draw (the plain value is then guarded: ``compiler/bounds.py``). A NULL
        bound restricts nothing. Where nothing is allowed, the first value of the kind after
        the bound (past the declared range)."""
        return None


SKIPPED = "Datagen skipped it, and so does dgsql (the column is made as if it were absent)"
"What Datagen and dgsql do with a modifier that cannot apply (:meth:`ModifierKind.skipped`)."


class ModifierKind:
    """A modifier kind: ``key`` is its ``transform``; it wraps the column's value in order."""

    key: ClassVar[str]
    types: ClassVar[tuple[str, ...] | None] = None
    "Column types it applies to (None: every type)."
    arithmetic: ClassVar[bool] = False
    "It may make an integer value fractional (the int column then rounds it)."
    joins: ClassVar[bool] = False
    "It joins another relation (the row is then no longer a pure function of its index)."

    def check(self, args: Any, site: Site, where: str) -> None:
        """Record every problem of ``args`` (``where`` is ``.modifiers[i].args``)."""

    def skipped(self, args: Any, column: S.Column, node: S.Node) -> str | None:
        """Why the modifier cannot apply to ``column``, where Datagen skipped it and so does
        dgsql: the warning (what Datagen did, what dgsql does, the fix); None when it applies.
        A skipped modifier is checked no further and dropped before planning
        (``compiler/datagen.py``), so the column is made, and checked, as if it were absent."""
        return None

    def misfit(self, args: Any, column_type: str) -> str:
        """The fix when it is put on a column type it does not apply to."""
        return "remove it or change the column type."

    def reads(self, args: Any, column: S.Column, node: S.Node) -> list[str]:
        return []

    def tables(self, args: Any) -> list[Read]:
        return []

    def render(self, args: Any, value: str, ctx: ColumnContext) -> str:
        raise NotImplementedError(f"{type(self).__name__}.render")

    def yields_null(self, args: Any) -> bool:
        """Whether it may turn a value into NULL (without a ``null_rate``)."""
        return False

    def literals(self, args: Any, values: list[Any]) -> list[Any] | None:
        """The literal values after the modifier, given those before (None: no longer known)."""
        return None

    # -- its value model, for the checks (``checks/value_model.py``) --------
    def support(self, args: Any, lo: float, hi: float) -> tuple[float, float] | None:
        """The interval of the value after the modifier, given ``[lo, hi]`` before (None:
        unknowable)."""
        return None

    def spreads(self, args: Any, spread: bool) -> bool:
        """Whether values still differ after the modifier, given whether they did before."""
        return spread

    def tail_problem(self, args: Any) -> str | None:
        """Why ``P(V > t)`` cannot be integrated through the modifier (None: :meth:`tail` can)."""
        return f"the {self.key} modifier makes the value's law unknowable here"

    def tail(self, args: Any, below: Callable[[float], float], t: float, outlier: str) -> float:
        """``P(V > t)`` after the modifier, ``below(x)`` being ``P(X > x)`` before it. ``outlier``:
        ``"mix"`` as declared, ``"none"`` the regular values only, ``"all"`` the outliers only."""
        raise NotImplementedError(f"{type(self).__name__}.tail")


GENERATORS: dict[str, GeneratorKind] = {}
"The generator kinds by DSL key, one line each in ``generators/__init__.py`` (which fills it)."
MODIFIERS: dict[str, ModifierKind] = {}
"The modifier kinds by ``transform``, one line each in ``modifiers/__init__.py`` (which fills it)."


def generator_of(column: S.Column) -> tuple[GeneratorKind, Any]:
    """The column's generator kind and its spec."""
    return GENERATORS[S.generator_kind(column.generator)], S.generator_spec(column.generator)
