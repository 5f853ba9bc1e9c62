"""Faker at compile time: vocabularies from Faker's provider data, composed per row in SQL.

- :mod:`~dgsql.compiler.faker.locales`: country codes and locale strings → Faker locales.
- :mod:`~dgsql.compiler.faker.vocab`: lists (with Faker's weights) embedded as one-row tables.
- :mod:`~dgsql.compiler.faker.ir`: the composition tree and its SQL.
- :mod:`~dgsql.compiler.faker.compose`: Faker's generic implementations → trees; pools otherwise.
- :mod:`~dgsql.compiler.faker.methods`: special composers (uuid4, ipv4, iban, patterns, sentence).

The ``faker`` generator (:mod:`dgsql.compiler.generators.faker`) ties them to a column.
"""
