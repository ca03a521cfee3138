"""What a benchmark needs, checked before it starts, so a missing piece is one line naming it and how to
get it instead of a traceback half-way through (``make bench`` installs the Python ones).

Benchmarks import it by name (``python bench/x.py`` puts this folder first on ``sys.path``).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HOW = {
    "gunicorn": "pip install 'lmsplugins[deploy]' (make bench does it)",
    "wrk": "apt-get install wrk",
    "psql": "apt-get install postgresql-client",
    "mysql": "apt-get install mariadb-client",
    "php": "apt-get install php-cli php-soap",
}


def _tool(name: str) -> str | None:
    return shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)


def require(*tools: str, postgres: bool = False, mysql: bool = False) -> None:
    """Exit with one line for the first missing tool, database server or real LMS schema."""
    for tool in tools:
        if _tool(tool) is None:
            raise SystemExit(f"this benchmark needs {tool}: {HOW.get(tool, 'install it')}")
    from lmsplugins.testing import databases as dbs
    from lmsplugins.testing.schema_source import SchemaMissing, resolve

    for wanted, unavailable, schema in (
        (postgres, dbs.pg_unavailable, "core/lms.pgsql"),
        (mysql, dbs.mysql_unavailable, "core/lms.mysql"),
    ):
        if not wanted:
            continue
        reason = unavailable()
        if reason:
            raise SystemExit(f"this benchmark cannot run: {reason.splitlines()[0]}")
        try:
            resolve(schema)
        except SchemaMissing as exc:
            raise SystemExit(f"this benchmark needs the real LMS schema: {exc}") from None
