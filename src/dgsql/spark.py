"""``dgsql spark`` as a program for ``spark-submit`` (docs/parts.md, "Spark"):

    spark-submit --master spark://host:7077 "$(python -c 'import dgsql.spark as m; print(m.__file__)')" \
        schema.json --out /shared/out --parts 64

The master comes from ``spark-submit``; the arguments are those of ``dgsql spark``.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    from dgsql.cli import app

    app(["spark", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
