"""The generator kinds: one module and one class each, behind :class:`~dgsql.compiler.kind.GeneratorKind`.

Adding a kind: its model in ``dsl/model.py``, its module here, its line in :data:`GENERATORS`.
"""

from __future__ import annotations

from dgsql.compiler.generators.choice import Choice
from dgsql.compiler.generators.datetime_series import DatetimeSeries
from dgsql.compiler.generators.distribution import Distribution
from dgsql.compiler.generators.enum_list import EnumList
from dgsql.compiler.generators.expression import Expression
from dgsql.compiler.generators.faker import Faker
from dgsql.compiler.generators.lookup import Lookup
from dgsql.compiler.generators.sequence import Sequence
from dgsql.compiler.kind import GENERATORS, generator_of

GENERATORS.update(
    (kind.key, kind)
    for kind in (
        Sequence(),
        Choice(),
        Distribution(),
        DatetimeSeries(),
        Faker(),
        Lookup(),
        Expression(),
        EnumList(),
    )
)

__all__ = ["GENERATORS", "generator_of"]
