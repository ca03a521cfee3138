"""``lmsplugins db check``: is this database an LMS the host and its enabled plugins can work with?

It compares what the code declares (SQLAlchemy tables of the host and of each enabled plugin) with
what the database has, through SQLAlchemy's inspector, and names exactly what is missing. Plugins
add their own warnings through their ``checks`` extension point.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Table, inspect

from lmsplugins.host import Host
from lmsplugins.lms.settings import get_dbinfo
from lmsplugins.lms.tables import CORE_DBVERSION, CORE_TABLES
from lmsplugins.migrate import HOST_SOURCE, MigrationSource, current_version
from lmsplugins.store import HOST_TABLES

# The oldest core schema with every column the host declares (bigint voip_cdr times, 2023-05).
MIN_CORE_DBVERSION = "2023052500"


@dataclass
class CheckReport:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def ensure_core_schema(engine) -> None:
    """Refuse to work on a database that is not an LMS of a supported version (exit 2)."""
    from lmsplugins.errors import SchemaError

    with engine.connect() as conn:
        if not inspect(conn).has_table("dbinfo"):
            raise SchemaError("table dbinfo is missing: this is not an LMS database; check [database] in lms.ini")
        core = get_dbinfo(conn, "dbversion")
    if core is None or core < MIN_CORE_DBVERSION:
        raise SchemaError(
            f"LMS core schema {core or 'unknown'} is older than {MIN_CORE_DBVERSION}, the oldest lmsplugins "
            "supports; upgrade LMS first (devel/upgradedb.php)"
        )


def missing_columns(insp, tables: tuple[Table, ...] | list[Table]) -> list[str]:
    problems: list[str] = []
    existing = set(insp.get_table_names())
    for table in tables:
        if table.name not in existing:
            problems.append(f"table {table.name} is missing")
            continue
        have = {c["name"].lower() for c in insp.get_columns(table.name)}
        gone = [c.name for c in table.columns if c.name.lower() not in have]
        if gone:
            problems.append(f"table {table.name} lacks column(s) {', '.join(gone)}")
    return problems


def sources(host: Host) -> list[MigrationSource]:
    """The host's migration source and one per enabled plugin that owns tables."""
    found = [HOST_SOURCE]
    for plugin in host.registry.enabled:
        if plugin.db_version and plugin.sql_dir is not None:
            found.append(MigrationSource(plugin.title, plugin.dbinfo_key, plugin.sql_dir, plugin.db_version))
    return found


def check_database(host: Host) -> CheckReport:
    report = CheckReport()
    engine = host.engine
    with engine.connect() as conn:
        insp = inspect(conn)
        if not insp.has_table("dbinfo"):
            report.errors.append("table dbinfo is missing: this is not an LMS database (check [database] in lms.ini)")
            return report
        core = get_dbinfo(conn, "dbversion")
        if core is None:
            report.errors.append("dbinfo has no 'dbversion' row: this is not an LMS database")
        elif core < MIN_CORE_DBVERSION:
            report.errors.append(
                f"LMS core schema {core} is older than {MIN_CORE_DBVERSION}, the oldest this host supports; "
                "upgrade LMS first (devel/upgradedb.php)"
            )
        else:
            report.notes.append(f"LMS core schema {core} (written against {CORE_DBVERSION})")
        report.errors.extend(missing_columns(insp, CORE_TABLES))
        for source in sources(host):
            have = current_version(conn, source)
            want = source.latest
            if have is None or (want is not None and have < want):
                report.warnings.append(
                    f"{source.title}: schema {have or 'not installed'}, needs {want}; run 'lmsplugins db upgrade'"
                )
            else:
                report.notes.append(f"{source.title}: schema {have}")
        if current_version(conn, HOST_SOURCE) is not None:
            report.errors.extend(missing_columns(insp, HOST_TABLES))
        for plugin in host.registry.enabled:
            installed = plugin.db_version is None or get_dbinfo(conn, plugin.dbinfo_key) is not None
            if plugin.tables is not None and installed:
                report.errors.extend(f"{plugin.title}: {p}" for p in missing_columns(insp, list(plugin.tables())))
    for plugin in host.registry.enabled:
        if plugin.checks is not None:
            try:
                report.warnings.extend(f"{plugin.title}: {w}" for w in plugin.checks(host))
            except Exception as exc:
                report.warnings.append(f"{plugin.title}: its checks failed: {type(exc).__name__}: {exc}")
    for failed in host.registry.failed:
        report.warnings.append(f"plugin {failed.name} failed to load: {failed.reason}")
    for name in host.registry.unknown_enabled:
        report.warnings.append(f"lmsplugins.plugins names {name!r}, which is not installed")
    return report
