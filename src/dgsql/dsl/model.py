"""Pydantic models of the Datagen DSL v1 as dgsql accepts it (docs/dsl.md).

Every valid v1 schema parses into a :class:`Dataset`. Generators and modifiers
are tagged unions: a generator's single key *is* its tag (``{"choice": {...}}``),
a modifier's ``transform`` is its tag. Every model forbids unknown keys.
The field docstrings are the user documentation (``dgsql schema`` exports them
as JSON Schema: :mod:`dgsql.dsl.json_schema` reads them from this file's source only then —
pydantic's ``use_attribute_docstrings`` re-parsed the file once per model, a third of the
start-up time of every command).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    field_validator,
    model_validator,
)

from dgsql.dsl import refs
from dgsql.dsl.time import parse_freq

Scalar = bool | int | float | str


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _utc(value: datetime) -> datetime:
    """Naive UTC: a trailing ``Z`` or an offset is converted to UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


class Span(Strict):
    start: datetime
    "ISO-8601 start, inclusive."
    end: datetime
    "ISO-8601 end, inclusive."

    _utc_start = field_validator("start", "end")(_utc)

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.end < self.start:
            raise ValueError("end is before start; swap them")
        return self


def _check_freq(value: str) -> str:
    parse_freq(value)  # the rule lives in dgsql.dsl.time; its ValueError says what to write
    return value


class Timeframe(Span):
    freq: str = Field(default="H", examples=["H", "15min", "D", "MS"])
    "Grid frequency: S/s, T/min, H/h, D/d, W, MS or M, with an optional integer multiple (30s, 15min, 2h)."

    _freq = field_validator("freq")(_check_freq)


class Metadata(Strict):
    """Keys other than these (Datagen schemas write ``domain``, ``use_case``…) are accepted and
    ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)
    name: str = Field(min_length=1)
    "Dataset name; part of every salt."
    description: str | None = None
    "Free text about the dataset."


# ---------------------------------------------------------------- generators


class SequenceSpec(Strict):
    start: int | float = 1
    "First value (row 0)."
    step: int | float = 1
    "Added per row: value = start + step · row."


class ChoiceSpec(Strict):
    choices: list[Scalar] | None = None
    "The values to pick from (literals of the column's type)."
    choices_ref: str | None = None
    "`table.column` whose values (in row order, duplicates kept) are the choices."
    weights: list[float] | None = None
    "One non-negative weight per choice (relative; need not sum to 1)."
    weights_kind: str | None = Field(default=None, examples=["uniform", "zipf@1.2", "head_tail@{0.8,1.1}"])
    "`uniform`, `zipf@a`, or `head_tail@{h,a}`."

    @model_validator(mode="after")
    def _shape(self) -> ChoiceSpec:
        if (self.choices is None) == (self.choices_ref is None):
            raise ValueError("give exactly one of choices or choices_ref")
        if self.choices is not None and not self.choices:
            raise ValueError("choices is empty; list at least one value")
        if self.weights is not None and self.weights_kind is not None:
            raise ValueError("give weights or weights_kind, not both")
        if self.weights is not None:
            if self.choices is None:
                raise ValueError("explicit weights need choices; use weights_kind with choices_ref")
            if len(self.weights) != len(self.choices):
                raise ValueError(
                    f"{len(self.choices)} choices but {len(self.weights)} weights; give one weight per choice"
                )
            if any(w < 0 for w in self.weights):
                raise ValueError("weights must not be negative")
            if sum(self.weights) <= 0:
                raise ValueError("weights sum to 0; give at least one positive weight")
        if self.weights_kind is not None:
            parse_weights_kind(self.weights_kind)
        return self


WEIGHTS_KIND_RE = re.compile(
    r"^(?:(?P<uniform>uniform)|zipf@(?P<zipf>[0-9.]+)|head_tail@\{(?P<h>[0-9.]+),(?P<a>[0-9.]+)\})$"
)


def parse_weights_kind(kind: str) -> tuple[str, tuple[float, ...]]:
    """``'zipf@1.3'`` → ``('zipf', (1.3,))``; raises ValueError with a fix."""
    m = WEIGHTS_KIND_RE.match(kind.replace(" ", ""))
    if not m:
        raise ValueError(f"unknown weights_kind {kind!r}; use uniform, zipf@1.2 or head_tail@{{0.8,1.1}}")
    if m["uniform"]:
        return "uniform", ()
    if m["zipf"] is not None:
        return "zipf", (float(m["zipf"]),)
    h = float(m["h"])
    if not 0 <= h <= 1:
        raise ValueError(f"head_tail share h={h} must be within [0, 1]")
    return "head_tail", (h, float(m["a"]))


DISTRIBUTION_PARAMS = {
    "normal": ("mean", "std"),
    "lognormal": ("mean", "sigma"),
    "uniform": ("low", "high"),
    "poisson": ("lambda",),
}


class DistributionSpec(Strict):
    type: Literal["normal", "lognormal", "uniform", "poisson"]
    "normal, lognormal, uniform or poisson."
    params: dict[str, float]
    "normal {mean, std}; lognormal {mean, sigma} of the underlying normal; uniform {low, high}; poisson {lambda}."
    clamp: tuple[float, float] | None = None
    "[lo, hi] bounds applied to the draw."

    @property
    def sigma_as_std(self) -> bool:
        """Datagen's normal ``{mean, sigma}``: dgsql reads ``sigma`` as ``std`` (with a warning;
        Datagen ignored it and drew with std 1)."""
        return self.type == "normal" and set(self.params) == {"mean", "sigma"}

    @model_validator(mode="after")
    def _params(self) -> DistributionSpec:
        if self.sigma_as_std:
            if self.params["sigma"] < 0:
                raise ValueError("sigma must not be negative")
            return self
        want = DISTRIBUTION_PARAMS[self.type]
        missing = [p for p in want if p not in self.params]
        extra = [p for p in self.params if p not in want]
        if missing or extra:
            raise ValueError(
                f"{self.type} takes params {{{', '.join(want)}}}"
                + (f"; missing {', '.join(missing)}" if missing else "")
                + (f"; unknown {', '.join(extra)}" if extra else "")
            )
        p = self.params
        if self.type == "normal" and p["std"] < 0:
            raise ValueError("std must not be negative")
        if self.type == "lognormal" and p["sigma"] < 0:
            raise ValueError("sigma must not be negative")
        if self.type == "uniform" and p["low"] > p["high"]:
            raise ValueError("uniform low is above high; swap them")
        if self.type == "poisson" and p["lambda"] < 0:
            raise ValueError("poisson lambda must not be negative")
        if self.clamp is not None and self.clamp[0] > self.clamp[1]:
            raise ValueError("clamp lo is above hi; write [lo, hi]")
        return self


class Pattern(Strict):
    dimension: Literal["hour", "dow", "month"]
    "hour (24 weights), dow (7, Monday first) or month (12)."
    weights: list[float]
    "24 (hour), 7 (dow, 0 = Monday) or 12 (month) non-negative weights."

    @model_validator(mode="after")
    def _len(self) -> Pattern:
        n = {"hour": 24, "dow": 7, "month": 12}[self.dimension]
        if len(self.weights) != n:
            raise ValueError(f"{self.dimension} needs {n} weights, got {len(self.weights)}")
        if any(w < 0 for w in self.weights):
            raise ValueError("weights must not be negative")
        if sum(self.weights) <= 0:
            raise ValueError("all weights are 0; give at least one positive weight")
        return self


class DatetimeSeriesSpec(Strict):
    within: Literal["timeframe"] | Span = "timeframe"
    '"timeframe" or {start, end}.'
    freq: str | None = None
    "Grid frequency; defaults to the timeframe's."
    pattern: Pattern | None = None
    "One weighting of the grid by hour, day of week or month."
    patterns: list[Pattern] | None = None
    "Several weightings, multiplied together."

    _freq = field_validator("freq")(lambda v: v if v is None else _check_freq(v))


class FakerSpec(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False)
    method: str = Field(examples=["name", "email", "address", "company"])
    "A Faker method; extra keys are its arguments."
    locale: str | None = None
    "Faker locale, e.g. en_US or de_DE (default en_US)."
    locale_from: str | None = None
    "A column of the same row holding a country code or locale."


class LookupSpec(Strict):
    from_: str = Field(alias="from")
    "`table.column` to read."
    on: dict[str, str] | None = None
    '{"this_key": "col"} or {"local_col": "remote_col"}: a join instead of a row pick.'

    @field_validator("on")
    @classmethod
    def _one(cls, v: dict[str, str] | None) -> dict[str, str] | None:
        if v is not None and len(v) != 1:
            raise ValueError("on takes exactly one entry")
        return v

    @property
    def join(self) -> tuple[str, str] | None:
        """The (local column, remote column) of an ``on`` lookup, or None.

        ``{"this_key": "product_id"}`` joins ``product_id`` to ``product_id``;
        ``{"local": "remote"}`` names both sides."""
        if not self.on:
            return None
        local, remote = next(iter(self.on.items()))
        return (remote, remote) if local == "this_key" else (local, remote)


class ExpressionSpec(Strict):
    code: str = Field(min_length=1, examples=["price * quantity", "ordered_at + hours(2)"])
    "A SQL-like expression over earlier columns of the same row, e.g. `price * quantity`."


class EnumListSpec(Strict):
    values: list[Scalar] = Field(min_length=1)
    "Values taken in turn, row by row (cycling)."


class SequenceGen(Strict):
    sequence: SequenceSpec
    "Arithmetic sequence: start + step · row."


class ChoiceGen(Strict):
    choice: ChoiceSpec
    "A weighted pick among literal values or another table's column."


class DistributionGen(Strict):
    distribution: DistributionSpec
    "A draw from normal, lognormal, uniform or poisson."


class DatetimeSeriesGen(Strict):
    datetime_series: DatetimeSeriesSpec
    "A point of a time grid, optionally weighted by hour, weekday or month."


class FakerGen(Strict):
    faker: FakerSpec
    "Realistic text (names, emails, addresses…) from a Faker method."


class LookupGen(Strict):
    lookup: LookupSpec
    "A value of another table's column: a random row, or a join with `on`."


class ExpressionGen(Strict):
    expression: ExpressionSpec
    "A value computed from the row's other columns."


class EnumListGen(Strict):
    enum_list: EnumListSpec
    "Values cycled in order."


GENERATOR_MODELS = {
    "sequence": SequenceGen,
    "choice": ChoiceGen,
    "distribution": DistributionGen,
    "datetime_series": DatetimeSeriesGen,
    "faker": FakerGen,
    "lookup": LookupGen,
    "expression": ExpressionGen,
    "enum_list": EnumListGen,
}


def _single_key(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return next(iter(type(value).model_fields))
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        return key if key in GENERATOR_MODELS else None
    return None


Generator = Annotated[
    Union[tuple(Annotated[m, Tag(k)] for k, m in GENERATOR_MODELS.items())],  # type: ignore[misc]  # noqa: UP007
    Discriminator(
        _single_key,
        custom_error_type="generator",
        custom_error_message="a generator is one key of " + ", ".join(GENERATOR_MODELS),
    ),
]


def generator_kind(gen: BaseModel) -> str:
    return next(iter(type(gen).model_fields))


def generator_spec(gen: BaseModel) -> Any:
    return getattr(gen, generator_kind(gen))


# ----------------------------------------------------------------- modifiers


class MultiplyArgs(Strict):
    factor: float
    "The value is multiplied by it."


class AddArgs(Strict):
    value: float
    "Added to the value."


class ClampArgs(Strict):
    min: float | None = None
    "Lower bound (none when omitted)."
    max: float | None = None
    "Upper bound (none when omitted)."


class JitterArgs(Strict):
    std: float = Field(ge=0)
    "Standard deviation of the noise."
    mode: Literal["add", "mul"] = "add"
    "add: value + noise; mul: value · (1 + noise)."


class TimeJitterArgs(Strict):
    std_minutes: float = Field(ge=0)
    "Standard deviation of the shift, in minutes."


class MapValuesArgs(Strict):
    mapping: dict[str, Scalar | None]
    "Old value (as text) → new value; `null` makes it NULL. Values not listed are kept."


class SeasonalityArgs(Strict):
    dimension: Literal["hour", "dow", "month"]
    "hour (24 weights), dow (7, Monday first) or month (12)."
    weights: list[float]
    "The value is multiplied by the weight of its row's hour, weekday or month."
    column: str | None = None
    "ext: the datetime column whose hour/dow/month picks the weight."

    @model_validator(mode="after")
    def _len(self) -> SeasonalityArgs:
        Pattern(dimension=self.dimension, weights=self.weights)
        return self


class TrendParams(Strict):
    a: float = 0.1
    "Curve parameter a."
    b: float = 1.0
    "Curve parameter b."


class TrendArgs(Strict):
    type: Literal["exponential", "linear", "logarithmic"]
    "Shape of the trend over time: exponential, linear or logarithmic."
    growth_rate: float = 0.0
    "Growth per year of the time reference."
    params: TrendParams = TrendParams()
    "Parameters of the curve."
    time_reference: str | None = None
    "The datetime column the trend follows (default: the row's first datetime column)."


class MagnitudeDist(Strict):
    type: Literal["normal", "lognormal", "uniform", "poisson"]
    "Distribution of an outlier's factor."
    params: dict[str, float]
    "Its parameters, as in a distribution generator."
    clamp: tuple[float, float] = (0.1, 10.0)
    "[lo, hi] bounds of the factor."

    @model_validator(mode="after")
    def _params(self) -> MagnitudeDist:
        if DistributionSpec(type=self.type, params=self.params, clamp=self.clamp).sigma_as_std:
            raise ValueError("normal takes params {mean, std}; missing std; unknown sigma")
        return self


class OutliersArgs(Strict):
    rate: float = Field(ge=0, le=1)
    "Share of rows made outliers, 0 to 1."
    mode: Literal["spike", "drop"] = "spike"
    "spike: multiply by the factor; drop: divide by it."
    magnitude_dist: MagnitudeDist = MagnitudeDist(type="lognormal", params={"mean": 0.0, "sigma": 0.5})
    "Distribution of the outlier factor."


class EffectWindow(Strict):
    start_col: str
    "The effect table's column where the effect starts."
    end_col: str
    "The effect table's column where it ends."


class EffectMap(Strict):
    field: str
    "The effect table's numeric column applied to the value."
    op: Literal["mul", "add"] = "mul"
    "mul or add."
    default: float = 1.0
    "Applied when no effect row matches."


class EffectArgs(Strict):
    effect_table: str
    "The table whose rows are the effects (e.g. promotions)."
    on: dict[str, str] = {}
    'Join keys: {"this table\'s column": "effect table\'s column"}.'
    window: EffectWindow | None = None
    "The effect applies when the row's time is within [start_col, end_col]."
    map: EffectMap
    "Which effect column changes the value, and how."
    time_column: str | None = None
    "The row's datetime column compared with the window (default: the first)."


def _mod(name: str, args: type[Strict]) -> type[Strict]:
    return type(
        f"{args.__name__[:-4]}Modifier",
        (Strict,),
        {
            "__annotations__": {"transform": Literal[name], "args": args},  # type: ignore[valid-type]
            "transform": Field(description="The modifier's kind."),
            "args": Field(description=f"The arguments of {name}."),
        },
    )


MODIFIER_ARGS: dict[str, type[Strict]] = {
    "multiply": MultiplyArgs,
    "add": AddArgs,
    "clamp": ClampArgs,
    "jitter": JitterArgs,
    "time_jitter": TimeJitterArgs,
    "map_values": MapValuesArgs,
    "seasonality": SeasonalityArgs,
    "trend": TrendArgs,
    "outliers": OutliersArgs,
    "effect": EffectArgs,
}
MODIFIER_MODELS = {name: _mod(name, args) for name, args in MODIFIER_ARGS.items()}

Modifier = Annotated[
    Union[tuple(MODIFIER_MODELS.values())],  # type: ignore[misc]  # noqa: UP007
    Field(discriminator="transform"),
]
TableModifier = MODIFIER_MODELS["effect"]


# ------------------------------------------------------------------- columns


def _compiles(v: str | None) -> str | None:
    if v is not None:
        try:
            re.compile(v)
        except re.error as e:
            raise ValueError(f"regex does not compile ({e}); fix the pattern") from None
    return v


class ColumnConstraints(Strict):
    pattern: str | None = None
    "A regular expression every value must match (a check)."
    enum: list[Scalar] | None = None
    "The only values allowed (a check)."
    enum_ref: str | None = None
    "`table.column` holding the allowed values (a check)."

    _pattern = field_validator("pattern")(_compiles)


class Column(Strict):
    name: str = Field(min_length=1)
    "Column name in the output file."
    type: Literal["int", "float", "string", "bool", "datetime", "date"]
    "int, float, string, bool, datetime or date."
    nullable: bool = False
    "The column may hold NULL."
    null_rate: float | None = Field(default=None, ge=0, le=1)
    "ext: share of NULL rows; only with nullable: true."
    generator: Generator
    'How values are made: one key naming the generator, e.g. {"sequence": {"start": 1}}.'
    modifiers: list[Modifier] = []
    "Transforms applied in order to the generated value."
    constraints: ColumnConstraints | None = None
    "Checks of this column's values (run by `validate`)."
    comment: str | None = None
    "Free text."
    hidden: bool = False
    "ext: dgsql extension; generated, usable by the row's columns, not written."

    @model_validator(mode="after")
    def _null_rate(self) -> Column:
        if self.null_rate and not self.nullable:  # 0 is harmless (Datagen schemas write it)
            raise ValueError("null_rate needs nullable: true")
        return self


class Fanout(Strict):
    distribution: Literal["poisson", "uniform"] = "poisson"
    "poisson (mean lambda) or uniform (min to max)."
    lambda_: float | None = Field(default=None, alias="lambda", ge=0)
    "Mean children per parent row (poisson)."
    min: int | None = Field(default=None, ge=0)
    "Fewest children per parent row."
    max: int | None = Field(default=None, ge=0)
    "Most children per parent row."
    clamp: tuple[int, int] | None = None
    "Synonym of [min, max]."

    @model_validator(mode="after")
    def _shape(self) -> Fanout:
        if self.clamp is not None and (self.min is not None or self.max is not None):
            raise ValueError("give min/max or clamp, not both")
        lo, hi = self.bounds
        if lo < 0:
            raise ValueError("fanout min must not be negative")
        if hi is not None and lo > hi:
            raise ValueError(f"fanout min {lo} is above max {hi}")
        if self.distribution == "poisson" and self.lambda_ is None:
            raise ValueError("poisson fanout needs lambda")
        if self.distribution == "uniform" and hi is None:
            raise ValueError("uniform fanout needs max (or clamp)")
        return self

    @property
    def bounds(self) -> tuple[int, int | None]:
        if self.clamp is not None:
            return self.clamp
        return (self.min or 0, self.max)


class Stage(Strict):
    stage_name: str = Field(min_length=1)
    "The stage's name (written into a `stage_name` column)."
    transition_rate: float = Field(default=1.0, ge=0, le=1)
    "Probability of reaching this stage from the previous one (before the segment's multiplier); stage 0's is ignored."


class SegmentVariation(Strict):
    transition_multiplier: float = Field(default=1.0, ge=0)
    "Multiplies every transition_rate of parents in this segment (the result is capped at 1)."


class ExponentialGap(Strict):
    distribution: Literal["exponential"] = "exponential"
    "Always exponential (a distribution spec may be given instead of this object)."
    mean_hours: float = Field(default=24.0, gt=0)
    "Mean hours between consecutive stages."


def _gap_kind(value: Any) -> str:
    if isinstance(value, DistributionSpec) or (isinstance(value, dict) and "type" in value):
        return "distribution"
    return "exponential"


Gap = Annotated[
    Union[Annotated[ExponentialGap, Tag("exponential")], Annotated[DistributionSpec, Tag("distribution")]],  # noqa: UP007
    Discriminator(_gap_kind),
]


class StageConfig(Strict):
    """A funnel: it replaces the fanout (docs/dsl.md, "Funnels")."""

    stages: list[Stage] = Field(min_length=1)
    "The stages in order; stage 0 always happens, each later one with its transition_rate."
    segment_variation: dict[str, SegmentVariation] = {}
    "Per segment value of the parent's segment column, a transition_multiplier (default 1)."
    segment_column: str | None = None
    "ext: the primary parent's column holding its segment."
    gap: Gap = ExponentialGap()
    "Hours between consecutive stages' times: {distribution: exponential, mean_hours} or a distribution spec."

    @model_validator(mode="after")
    def _names(self) -> StageConfig:
        names = [s.stage_name for s in self.stages]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"stage names {twice} repeat; give each stage its own name")
        return self


# ------------------------------------------------- behaviours of an entity's children


class SegmentEffect(Strict):
    fanout_multiplier: float = Field(default=1.0, ge=0)
    "Children per row of this segment are multiplied by it (before the one rounding)."
    value_multiplier: float = 1.0
    "The ``applies_to_columns`` of this segment's children are multiplied by it."


class SegmentInfo(BaseModel):
    """A segment as a funnel names it; only ``base_probability`` is read here (the funnel's own
    keys belong to the funnel)."""

    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False)
    base_probability: float | None = Field(default=None, ge=0)
    "ext: the segment's share: the choice weight of the segment column when it has none."


class SegmentBehavior(Strict):
    segment_column: str = Field(min_length=1)
    "The entity's column naming each row's segment."
    behaviors: dict[str, SegmentEffect] = {}
    "Per segment value (as text): multipliers of the children's fanout and values; others 1.0."
    applies_to_columns: list[str] = []
    "Numeric columns of the child facts that ``value_multiplier`` scales."
    segments: dict[str, SegmentInfo] = {}
    "The funnel form: per segment value, its ``base_probability``."

    @model_validator(mode="after")
    def _some(self) -> SegmentBehavior:
        if not self.behaviors and not self.segments:
            raise ValueError("give behaviors (multipliers per segment) or segments (funnel shares)")
        if self.applies_to_columns and not self.behaviors:
            raise ValueError("applies_to_columns needs behaviors with value_multiplier")
        return self


CURVE_TYPES = ("linear", "exponential", "logarithmic")


class CurveParams(Strict):
    a: float = 1.0
    "Curve parameter a."
    b: float = 0.0
    "Curve parameter b."


class ParametricCurve(Strict):
    curve_type: Literal["linear", "exponential", "logarithmic"]
    "linear a+b·age, exponential a·e^(b·age), logarithmic a+b·ln(age+1); floored at 0."
    params: CurveParams = CurveParams()
    "Its parameters a and b."


class AgeMultiplier(Strict):
    curve: list[float] | ParametricCurve | Literal["linear", "exponential", "logarithmic"]
    """A list (entry i at age i, the last entry beyond), ``{curve_type, params}``, or a curve type
    with ``params`` beside it."""
    params: CurveParams | None = None
    "With a curve type name as ``curve``: its parameters."
    time_unit: Literal["day", "month", "year"] = "month"
    "Age unit: days, months of 30 days, years of 365 days."
    applies_to: str | list[str] = "fanout"
    '"fanout", "all" (fanout and every numeric non-key child column), a column name or a list.'

    @model_validator(mode="after")
    def _curve(self) -> AgeMultiplier:
        if isinstance(self.curve, list):
            if not self.curve:
                raise ValueError("curve is an empty list; give at least one multiplier")
            if any(c < 0 for c in self.curve):
                raise ValueError("curve multipliers must not be negative")
            if self.params is not None:
                raise ValueError("params belong to a parametric curve, not to a list")
        elif isinstance(self.curve, ParametricCurve) and self.params is not None:
            raise ValueError("give params inside curve or beside a curve type name, not both")
        if isinstance(self.applies_to, list) and not self.applies_to:
            raise ValueError("applies_to is an empty list; name at least one column")
        return self

    @property
    def parametric(self) -> ParametricCurve | None:
        """The curve as ``{curve_type, params}``, or None for a list curve."""
        if isinstance(self.curve, ParametricCurve):
            return self.curve
        if isinstance(self.curve, str):
            return ParametricCurve(curve_type=self.curve, params=self.params or CurveParams())
        return None

    @property
    def targets(self) -> list[str]:
        """``applies_to`` as a list (``fanout``, ``all`` or column names)."""
        return [self.applies_to] if isinstance(self.applies_to, str) else list(self.applies_to)


class VintageBehavior(Strict):
    created_at_column: str = "created_at"
    "The entity's datetime column its age is measured from (to the timeframe's end)."
    age_based_multipliers: dict[str, AgeMultiplier] = Field(min_length=1)
    "Named curves of age, each scaling the children's fanout or numeric columns."


class Node(Strict):
    id: str = Field(min_length=1)
    "Table name (also the output file's name)."
    kind: Literal["entity", "fact", "vocab"]
    "entity (a row count), fact (rows per parent row) or vocab (a small fixed list)."
    pk: str | None = None
    "The primary-key column."
    rows: int | None = Field(default=None, ge=0)
    "Entity row count (default 1000), multiplied by --scale."
    parents: list[str] = []
    "Tables this fact's rows belong to; the first is the primary parent."
    fanout: Fanout | None = None
    "Children per primary-parent row."
    columns: list[Column] = Field(min_length=1)
    "The table's columns, in order; a column may read earlier ones."
    modifiers: list[TableModifier] = []  # type: ignore[valid-type]
    "Table-level modifiers (effect)."
    stage_config: StageConfig | None = None
    "A funnel: one row per stage each primary-parent row reaches; replaces the fanout."
    segment_behavior: SegmentBehavior | None = None
    "ext of Datagen's later versions: per segment, multipliers of the children's fanout and values."
    vintage_behavior: VintageBehavior | None = None
    "ext of Datagen's later versions: curves of the row's age scaling its children."
    comment: str | None = None
    "Free text."

    @model_validator(mode="after")
    def _kind(self) -> Node:
        if self.kind != "fact" and (self.parents or self.fanout or self.stage_config):
            raise ValueError(f"parents, fanout and stage_config belong to facts, not to a {self.kind}")
        if self.fanout is not None and not self.parents:
            raise ValueError("fanout needs parents")
        if self.stage_config is not None and not self.parents:
            raise ValueError("stage_config needs parents (each parent row runs the funnel)")
        return self

    @model_validator(mode="after")
    def _segment_weights(self) -> Node:
        """The funnel form's ``base_probability`` as the segment column's choice weights, when
        that column is a ``choice`` of literal choices without weights of its own (the checking
        pass warns that it did so)."""
        seg = self.segment_behavior
        if seg is None or not any(s.base_probability is not None for s in seg.segments.values()):
            return self
        j, col = next(
            ((j, c) for j, c in enumerate(self.columns) if c.name == seg.segment_column), (-1, None)
        )
        if col is None or not isinstance(col.generator, ChoiceGen):
            return self
        spec = col.generator.choice
        if spec.choices is None or spec.weights is not None or spec.weights_kind is not None:
            return self
        probs = {k: s.base_probability or 0.0 for k, s in seg.segments.items()}
        weights = [probs.get(str(c).lower() if isinstance(c, bool) else str(c), 0.0) for c in spec.choices]
        if sum(weights) <= 0:
            return self  # the checking pass reports it
        gen = ChoiceGen(choice=spec.model_copy(update={"weights": weights}))
        columns = list(self.columns)
        columns[j] = col.model_copy(update={"generator": gen})
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "_weights_from_segments", True)
        return self

    _weights_from_segments: bool = PrivateAttr(default=False)
    "The segment column's choice weights came from ``segment_behavior.segments``."

    def first_datetime(self, exclude: str) -> str | None:
        """The first datetime column of the row other than ``exclude``."""
        return next((c.name for c in self.columns if c.type == "datetime" and c.name != exclude), None)

    @property
    def written(self) -> list[Column]:
        """The columns written to the table's file: all but the hidden ones, in schema order."""
        return [c for c in self.columns if not c.hidden]


# --------------------------------------------------------------- constraints


class ForeignKey(Strict):
    from_: str = Field(alias="from")
    "`table.column` holding the reference."
    to: str
    "`table.column` it refers to."


class Range(Strict):
    attr: str
    "`table.column` checked."
    min: float | None = None
    "Smallest value allowed."
    max: float | None = None
    "Largest value allowed."


class Inequality(Strict):
    left: str
    "`table.column` on the left."
    op: Literal["<", "<=", ">", ">=", "=="]
    "<, <=, >, >= or ==."
    right: str
    "`table.column` on the right (same table)."


class PatternConstraint(Strict):
    attr: str
    "`table.column` checked."
    regex: str
    "Regular expression every value must match."

    _regex = field_validator("regex")(_compiles)


class EnumConstraint(Strict):
    attr: str
    "`table.column` checked."
    values: list[Scalar] | None = None
    "The allowed values."
    enum_ref: str | None = None
    "`table.column` holding the allowed values."

    @model_validator(mode="after")
    def _one(self) -> EnumConstraint:
        if (self.values is None) == (self.enum_ref is None):
            raise ValueError("give exactly one of values or enum_ref")
        return self


class Constraints(Strict):
    unique: list[str] = []
    "`table.column`s whose values must be unique."
    foreign_keys: list[ForeignKey] = []
    "References that must resolve."
    ranges: list[Range] = []
    "Value bounds."
    inequalities: list[Inequality] = []
    "Relations between two columns of a row (e.g. shipped_at >= ordered_at)."
    pattern: list[PatternConstraint] = []
    "Regular expressions values must match."
    enum: list[EnumConstraint] = []
    "Allowed value sets."


# ------------------------------------------------------------------- targets


class WeekendShare(Strict):
    table: str
    "The table checked."
    timestamp: str
    "Its datetime column."
    min: float = 0.0
    "Smallest share of rows on Saturday or Sunday."
    max: float = 1.0
    "Largest share."


class MeanInRange(Strict):
    table: str
    "The table checked."
    column: str
    "Its numeric column."
    min: float
    "Smallest mean allowed."
    max: float
    "Largest mean allowed."


class Influence(Strict):
    """The keys of the modifier the influence describes; an ``effect`` also takes Datagen's
    ``table``, ``field`` and ``default`` for ``effect_table``, ``map.field`` and ``map.default``."""

    kind: Literal["seasonality", "effect", "outliers", "trend"]
    "The modifier this influence describes: seasonality, effect, outliers or trend."
    dimension: Literal["hour", "dow", "month"] | None = None
    "As the `dimension` key of the modifier this influence describes."
    weights: list[float] | None = None
    "As the `weights` key of the modifier this influence describes."
    column: str | None = None
    "As the `column` key of the modifier this influence describes."
    effect_table: str | None = None
    "As the `effect_table` key of the modifier this influence describes."
    on: dict[str, str] | None = None
    "As the `on` key of the modifier this influence describes."
    window: EffectWindow | None = None
    "As the `window` key of the modifier this influence describes."
    map: EffectMap | None = None
    "As the `map` key of the modifier this influence describes."
    rate: float | None = None
    "As the `rate` key of the modifier this influence describes."
    mode: Literal["spike", "drop"] | None = None
    "As the `mode` key of the modifier this influence describes."
    magnitude_dist: MagnitudeDist | None = None
    "As the `magnitude_dist` key of the modifier this influence describes."
    type: Literal["exponential", "linear", "logarithmic"] | None = None
    "As the `type` key of the modifier this influence describes."
    growth_rate: float | None = None
    "As the `growth_rate` key of the modifier this influence describes."
    time_reference: str | None = None
    "As the `time_reference` key of the modifier this influence describes."
    table: str | None = None
    "Datagen's name of ``effect_table``."
    field: str | None = None
    "Datagen's name of ``map.field``."
    default: float | None = None
    "Datagen's name of ``map.default``."

    @model_validator(mode="after")
    def _aliases(self) -> Influence:
        if self.table is not None and self.effect_table is not None:
            raise ValueError("table is Datagen's name of effect_table; give one of them")
        if self.map is not None and (self.field is not None or self.default is not None):
            raise ValueError(
                "field and default are Datagen's names of map.field and map.default; give map or them"
            )
        if self.default is not None and self.field is None:
            raise ValueError("default needs field (the effect table's column giving the factor); add field")
        return self


class Tolerance(Strict):
    mae: float | None = None
    "Largest mean absolute error allowed."
    mape: float | None = None
    "A fraction (0.1 = 10 %); above 1, Datagen's percentage: divided by 100, with a warning."


class CompositeEffect(Strict):
    table: str
    "The table checked."
    metric: str
    "'volume' (row counts) or a numeric column of the table; any other name (Datagen never read it) means 'volume', with a warning."
    influences: list[Influence]
    "The modifiers whose combined effect is measured."
    tolerance: Tolerance = Tolerance(mae=0.1, mape=0.1)
    "How far the measured effect may be from the expected."
    timestamp: str | None = None
    "The datetime column measured (default: the first)."


class Targets(Strict):
    weekend_share: WeekendShare | list[WeekendShare] | None = None
    "Share of rows on weekends within bounds."
    mean_in_range: MeanInRange | list[MeanInRange] | None = None
    "A column's mean within bounds."
    composite_effect: CompositeEffect | list[CompositeEffect] | None = None
    "The effect of modifiers measured on the data."

    def all(self, key: str) -> list[Any]:
        value = getattr(self, key)
        return [] if value is None else value if isinstance(value, list) else [value]


# ------------------------------------------------------------------- dataset


def _nullable(schema: dict[str, Any]) -> None:
    """JSON Schema of a key that also accepts ``null``."""
    ref = {k: schema.pop(k) for k in ("$ref", "type", "properties") if k in schema}
    schema["anyOf"] = [ref, {"type": "null"}]


class Dataset(Strict):
    """A Datagen DSL v1 schema: the dataset's tables (nodes), their columns and the checks the
    data must pass."""

    version: Literal["1.0"]
    'DSL version; always ``"1.0"``.'
    metadata: Metadata
    "The dataset's name and description."
    timeframe: Timeframe | None = None
    "The time span and grid datetime columns draw from."
    nodes: list[Node] = Field(min_length=1)
    "The tables, in any order (dgsql orders them by their references)."
    constraints: Constraints = Constraints()
    "Checks of keys and values (run by `validate`)."
    targets: Targets = Field(default=Targets(), json_schema_extra=_nullable)
    "``null`` (as Datagen schemas write) is no targets."
    dag: list[list[str]] | None = None
    "Datagen's explicit table order; dgsql computes its own."
    schema_uri: str | None = Field(default=None, alias="$schema")
    "URI of this file's JSON Schema (``dgsql schema`` prints it), for editors; the compiler ignores it."

    @field_validator("targets", mode="before")
    @classmethod
    def _no_targets(cls, v: Any) -> Any:
        return {} if v is None else v

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)

    def split_ref(self, ref: str) -> tuple[str, str]:
        """(table, column) of a resolved reference (see :mod:`dgsql.dsl.refs`); KeyError when
        no table prefixes it."""
        found = refs.split_ref((n.id for n in self.nodes), ref)
        if found is None:
            raise KeyError(ref)
        return found
