"""dgsql: compile Datagen DSL v1 schemas to DuckDB SQL."""

__version__ = "0.5.0"
