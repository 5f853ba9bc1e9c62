"""The statement skeletons of the script (``src/dgsql/templates/*.sql.j2``), filled with SQL
fragments: names through ``|ident``, values through ``|lit`` (``sqltext``), so a template
never pastes schema text. Undefined variables are errors (``StrictUndefined``)."""

from __future__ import annotations

import functools

import jinja2

from dgsql.compiler.sqltext import ident, lit


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dgsql", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,
    )
    env.filters["lit"] = lit
    env.filters["ident"] = ident
    return env


def template(name: str) -> jinja2.Template:
    """The template ``templates/<name>``."""
    return _environment().get_template(name)
