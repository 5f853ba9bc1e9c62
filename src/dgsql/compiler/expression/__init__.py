"""The ``expression`` generator's language: :mod:`.syntax` (tokens, tree, parser, SQL writer),
:mod:`.typing` (the whitelist and the types, lowering of time functions) and :mod:`.bounds`
(known offsets by interval arithmetic). The generator kind is
:mod:`dgsql.compiler.generators.expression`."""
