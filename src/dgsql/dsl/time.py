"""The time grid of the DSL, one definition for the compiler and the checks.

A frequency is a unit with an optional integer multiple (``15min``, ``2h``, ``3MS``). The
grid of a span ``[start, end]`` is ``start, start + step, …`` up to and including ``end``; a
monthly grid (``M``, ``MS``) is every ``n``-th month start at or after ``start`` (from
2024-01-15 it starts at 2024-02-01). A ``datetime_series`` samples the grid of its span
(``within``, or the timeframe) at its ``freq`` (or the timeframe's). Pattern weights are
indexed by hour (0–23), day of the week (0 = Monday) and month (0 = January).

>>> from dgsql.dsl.model import Span
>>> g = grid(Span(start="2024-01-15", end="2024-12-20"), "MS")
>>> g.first, g.points, g.last
(datetime.datetime(2024, 2, 1, 0, 0), 11, datetime.datetime(2024, 12, 1, 0, 0))
>>> grid(Span(start="2024-01-01T00:30:00", end="2024-01-01T03:00:00"), "h").points
3
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple, Protocol

FREQ_RE = re.compile(r"^(?P<mult>[1-9][0-9]*)?(?P<unit>[A-Za-z]+)$")
"A frequency's shape: an optional multiple (no leading zero), then letters (checked against UNITS)."

UNITS = {
    "S": "S",
    "s": "S",
    "T": "T",
    "min": "T",
    "H": "H",
    "h": "H",
    "D": "D",
    "d": "D",
    "W": "W",
    "MS": "MS",
    "M": "MS",
}
"Each spelling dgsql accepts and the unit it means (pandas' lower-case aliases included)."

STEPS = {
    "S": timedelta(seconds=1),
    "T": timedelta(minutes=1),
    "H": timedelta(hours=1),
    "D": timedelta(days=1),
    "W": timedelta(weeks=1),
}
"The step of each fixed-length unit (``W`` counts seven days from the grid's first point)."


MISREAD = {
    "ms": "pandas reads ms as milliseconds, which dgsql does not generate; write {n}MS for month starts "
    "or {n}s for seconds",
    "m": "m could mean minute or month; write {n}min (or {n}T) for minutes, {n}MS for month starts",
}
"Spellings that stay errors, with what to write instead (``{n}``: the multiple as written)."

Dimension = Literal["hour", "dow", "month"]
PATTERN_SIZES: dict[str, int] = {"hour": 24, "dow": 7, "month": 12}
"How many weights a pattern of each dimension has."


class Freq(NamedTuple):
    mult: int
    unit: str
    """The unit as UNITS maps it: S, T, H, D, W or MS (month starts at 00:00; ``M`` means the
    same, not pandas' month end)."""

    @property
    def monthly(self) -> bool:
        return self.unit == "MS"

    @property
    def step(self) -> timedelta | None:
        """Time between points; None for monthly grids (months differ in length)."""
        return None if self.monthly else self.mult * STEPS[self.unit]


def parse_freq(text: str) -> Freq:
    """The multiple and unit of a frequency; ValueError (with what to write) for any other text.

    >>> parse_freq("15min"), parse_freq("2h"), parse_freq("MS")
    (Freq(mult=15, unit='T'), Freq(mult=2, unit='H'), Freq(mult=1, unit='MS'))
    """
    m = FREQ_RE.match(text)
    unit = m["unit"] if m else None
    if m is not None and unit in MISREAD:
        raise ValueError(f"frequency {text!r}: " + MISREAD[unit].format(n=m["mult"] or ""))
    if m is None or unit not in UNITS:
        raise ValueError(
            f"unknown frequency {text!r}; use S/s, T/min, H/h, D/d, W, MS or M with an optional "
            "multiple (30s, 15min, 2h)"
        )
    return Freq(int(m["mult"] or 1), UNITS[unit])


# What this module reads of the schema's models (``dgsql.dsl.model`` imports this module, so it
# names their shape instead of importing them).


class Interval(Protocol):
    """``[start, end]``, both included (a ``within`` span or the timeframe)."""

    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime: ...


class Timeframe(Interval, Protocol):
    @property
    def freq(self) -> str: ...


class Weights(Protocol):
    """A ``pattern`` or a ``seasonality`` modifier's args: one weight per index of a dimension."""

    @property
    def dimension(self) -> Dimension: ...

    @property
    def weights(self) -> list[float]: ...


class Series(Protocol):
    """A ``datetime_series`` spec."""

    @property
    def within(self) -> Literal["timeframe"] | Interval: ...

    @property
    def freq(self) -> str | None: ...

    @property
    def pattern(self) -> Weights | None: ...

    @property
    def patterns(self) -> Sequence[Weights] | None: ...


class Modifier(Protocol):
    @property
    def transform(self) -> str: ...

    @property
    def args(self) -> Any: ...


class Column(Protocol):
    @property
    def modifiers(self) -> Sequence[Modifier]: ...


class Dataset(Protocol):
    @property
    def timeframe(self) -> Timeframe | None: ...


@dataclass(frozen=True)
class Grid:
    """``points`` timestamps: ``first + k * step``, or for a monthly grid ``first`` plus
    ``k * months`` months, for k = 0 … points - 1. ``points`` is 0 when the span holds none."""

    first: datetime
    points: int
    freq: Freq

    @property
    def step(self) -> timedelta | None:
        """Time between points; None for a monthly grid."""
        return self.freq.step

    @property
    def months(self) -> int:
        """Months between points of a monthly grid; 0 otherwise."""
        return self.freq.mult if self.freq.monthly else 0

    @property
    def step_us(self) -> int | None:
        """Microseconds between points; None for a monthly grid."""
        return None if self.step is None else self.step // timedelta(microseconds=1)

    def at(self, k: int) -> datetime:
        """Point ``k`` (0-based)."""
        if self.step is not None:
            return self.first + k * self.step
        month = self.first.month - 1 + k * self.months
        return self.first.replace(year=self.first.year + month // 12, month=month % 12 + 1)

    @property
    def last(self) -> datetime:
        assert self.points > 0, "an empty grid has no last point"
        return self.at(self.points - 1)

    def first_after(self, t: datetime, strict: bool) -> int:
        """The index of the first point above ``t`` (or equal to it, unless ``strict``), maybe
        ``points`` or more: past the span (``generators/datetime_series.first_after`` in SQL).

        >>> g = Grid(datetime(2024, 1, 1), 3, Freq(1, "H"))
        >>> g.first_after(datetime(2024, 1, 1, 1), True), g.first_after(datetime(2024, 1, 1, 1), False)
        (2, 1)
        >>> Grid(datetime(2024, 2, 1), 11, Freq(1, "MS")).first_after(datetime(2024, 3, 1), True)
        2
        """
        if self.step is not None:
            d = t - self.first
            if d < timedelta(0) or (d == timedelta(0) and not strict):
                return 0
            k = d // self.step
            return k + 1 if strict or self.at(k) < t else k
        months = (t.year - self.first.year) * 12 + t.month - self.first.month
        if months < 0:
            return 0
        k = months // self.months
        point = self.at(k)
        return k + (point <= t if strict else point < t)


def grid(span: Interval, freq: str | Freq) -> Grid:
    """The grid of ``span`` at ``freq`` (see the module's docstring)."""
    f = parse_freq(freq) if isinstance(freq, str) else freq
    if f.step is not None:
        return Grid(span.start, (span.end - span.start) // f.step + 1, f)
    first = span.start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if first < span.start:
        first = first.replace(year=first.year + first.month // 12, month=first.month % 12 + 1)
    months = (span.end.year - first.year) * 12 + span.end.month - first.month
    return Grid(first, 0 if first > span.end else months // f.mult + 1, f)


def series_span(spec: Series, ds: Dataset) -> Interval | None:
    """The span a ``datetime_series`` samples: its ``within``, or the timeframe (None when missing)."""
    within = spec.within
    return ds.timeframe if isinstance(within, str) else within


def series_freq(spec: Series, ds: Dataset) -> str | None:
    """A ``datetime_series``'s frequency: its ``freq``, or the timeframe's (None when neither)."""
    return spec.freq or (ds.timeframe.freq if ds.timeframe is not None else None)


def series_grid(spec: Series, ds: Dataset) -> Grid | None:
    """The grid a ``datetime_series`` samples (None without the timeframe it needs)."""
    span, freq = series_span(spec, ds), series_freq(spec, ds)
    return None if span is None or freq is None else grid(span, freq)


def series_patterns(spec: Series, column: Column) -> list[Weights]:
    """The weights of a ``datetime_series`` column, which multiply: ``pattern``, every entry of
    ``patterns``, then every ``seasonality`` modifier of the column, in order."""
    found: list[Weights] = [spec.pattern] if spec.pattern else []
    found += spec.patterns or []
    found += [m.args for m in column.modifiers if m.transform == "seasonality"]
    return found


def pattern_index(dimension: str, ts: datetime) -> int:
    """The index of ``ts`` in a pattern's weights: hour 0–23, dow 0 = Monday, month 0 = January.

    >>> [pattern_index(d, datetime(2024, 3, 10, 17)) for d in ("hour", "dow", "month")]
    [17, 6, 2]
    """
    if dimension == "hour":
        return ts.hour
    if dimension == "dow":
        return ts.weekday()
    if dimension == "month":
        return ts.month - 1
    raise ValueError(f"unknown dimension {dimension!r}")
