"""The Datagen DSL v1 as dgsql accepts it, shared by the compiler and the checks.

Nothing here writes SQL: the models (``model``), ``table.column`` references
(``refs``), the time grid (``time``), the laws of the draws (``laws``), the
column type rules (``types``) and the problems a schema can have
(``problems``). The compiler and the checks import these; neither
re-implements them.
"""
