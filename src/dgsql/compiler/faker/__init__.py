"""Faker at compile time: vocabularies from Faker's provider data, composed per row in SQL.

Modules, lowest first (each imports only modules above it in this list):

- :mod:`~dgsql.compiler.faker.locales`: country codes and locale strings → Faker locales.
- :mod:`~dgsql.compiler.faker.vocab`: lists (with Faker's weights) embedded as one-row tables.
- :mod:`~dgsql.compiler.faker.tree`: the composition tree of a value (nodes and their builders).
- :mod:`~dgsql.compiler.faker.items`: flat items, what a tree lowers to (concat arguments, union picks).
- :mod:`~dgsql.compiler.faker.cost`: the measured cost model that chooses between lowerings.
- :mod:`~dgsql.compiler.faker.align`: alignment of a switch's branches into shared columns.
- :mod:`~dgsql.compiler.faker.unite`: several locales' (or formats') values as shared items.
- :mod:`~dgsql.compiler.faker.lower`: a tree → one flat sequence of concat arguments.
- :mod:`~dgsql.compiler.faker.render`: flat items → one DuckDB expression.
- :mod:`~dgsql.compiler.faker.compose`: Faker's generic implementations → trees; pools otherwise.
- :mod:`~dgsql.compiler.faker.methods`: special composers (uuid4, ipv4, iban, patterns, sentence).

The ``faker`` generator (:mod:`dgsql.compiler.generators.faker`) ties them to a column.
"""
