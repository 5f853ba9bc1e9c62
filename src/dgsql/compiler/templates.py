"""The statement skeletons of the script (``src/dgsql/templates/*.sql.j2``), filled with SQL
fragments: names through ``|ident``, values through ``|lit`` (``sqltext``), so a template
never pastes schema text. Undefined variables are errors (``StrictUndefined``).

Compiled templates are kept as bytecode in the user's cache folder
(``$XDG_CACHE_HOME/dgsql/templates``, else ``~/.cache/dgsql/templates``; keyed by each
template's name and checked against its source), so a process compiles a template once per
install rather than once per run (~30 ms of a small build's start). ``DGSQL_NO_CACHE=1``, or a
folder that cannot be made, turns the cache off."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import jinja2

from dgsql.compiler.sqltext import ident, lit


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    if os.environ.get("DGSQL_NO_CACHE"):
        return None
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    folder = Path(root) / "dgsql" / "templates"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dgsql", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,
        bytecode_cache=_bytecode_cache(),
    )
    env.filters["lit"] = lit
    env.filters["ident"] = ident
    return env


def template(name: str) -> jinja2.Template:
    """The template ``templates/<name>``."""
    return _environment().get_template(name)
