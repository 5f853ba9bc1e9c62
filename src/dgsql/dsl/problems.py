"""What can be wrong with a schema: a problem is an error (nothing is built) or a warning
(the build goes on; ``--strict`` makes it an error), always ``path: what is wrong; what to do.``

>>> str(Problem("nodes[0].rows", "-1 rows; give a count >= 0."))
'nodes[0].rows: -1 rows; give a count >= 0.'
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


def warning(path: str, message: str) -> Problem:
    return Problem(path, message, "warning")
