"""What a user gives for a load into PostgreSQL: the URL (shown with its password masked) and
``--if-exists``. A leaf module (standard library only), cheap for the command line to import;
the loader is :mod:`dgsql.runtime.postgres`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from urllib.parse import unquote, unquote_plus, urlsplit, urlunsplit

from dgsql.errors import UsageError


class IfExists(str, Enum):
    """What to do when a table of the dataset already exists in the target schema."""

    fail = "fail"
    "Stop before touching anything (the default)."
    replace = "replace"
    "Drop the previous tables of the same names and put the new ones in their place, atomically."
    append = "append"
    "Add the rows to the existing tables (their own keys check them); create the missing ones."


@dataclass(frozen=True)
class Target:
    """A ``postgresql://`` URL, and what of it may be shown."""

    url: str = field(repr=False)
    hidden: tuple[str, ...] = field(repr=False)
    "The password in every spelling the URL holds it (as written, percent-decoded)."
    shown: str
    "The URL with its password replaced by ``***``."

    def scrub(self, text: str) -> str:
        """``text`` with every spelling of the password replaced by ``***``."""
        return _scrub(text, self.hidden)


def _scrub(text: str, hidden: tuple[str, ...]) -> str:
    for secret in hidden:  # longest first: a spelling may hold another
        text = text.replace(secret, "***")
    return text


def parse_target(url: str) -> Target:
    """A :class:`Target`; UsageError when ``url`` is not a ``postgresql://`` URL (then nothing of
    it is shown: a ``key=value`` connection string may hold a password anywhere)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("postgresql", "postgres"):
        raise UsageError(
            "--to: not a PostgreSQL URL; write postgresql://user@host:port/database "
            "(the password from PGPASSWORD or ~/.pgpass)."
        )
    found: set[str] = set()
    userinfo, at, hosts = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        user, _, raw = userinfo.partition(":")
        found |= {raw, unquote(raw)}
        userinfo = f"{user}:***"
    query = []
    for item in parts.query.split("&") if parts.query else []:
        key, _, raw = item.partition("=")
        if unquote_plus(key) == "password":
            found |= {raw, unquote(raw), unquote_plus(raw)}
            item = f"{key}=***"
        query.append(item)
    hidden = tuple(sorted((s for s in found if s), key=len, reverse=True))
    shown = urlunsplit((parts.scheme, f"{userinfo}{at}{hosts}", parts.path, "&".join(query), parts.fragment))
    return Target(url, hidden, _scrub(shown, hidden))
