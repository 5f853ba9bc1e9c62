"""What can be wrong with a schema: a problem is an error (nothing is built) or a warning
(the build goes on; ``--strict`` makes it an error), always ``path: what is wrong; what to do.``

>>> p = Problem("nodes[0].rows", "-1 rows; give a count >= 0.")
>>> str(p)
'nodes[0].rows: -1 rows; give a count >= 0.'
>>> p.what, p.fix
('-1 rows', 'give a count >= 0.')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    path: str
    "JSON path in the user's schema (``$`` for the whole file)."
    message: str
    "What is wrong and what to do, as one sentence ending in a fix."
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    @property
    def what(self) -> str:
        "What is wrong: the message up to its last ``; ``."
        return self.message.rpartition("; ")[0] or self.message

    @property
    def fix(self) -> str | None:
        "What to do: the message after its last ``; `` (None when the message names no fix)."
        return self.message.rpartition("; ")[2] if "; " in self.message else None


def warning(path: str, message: str) -> Problem:
    return Problem(path, message, "warning")
