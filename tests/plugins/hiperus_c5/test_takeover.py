"""Take-over of a database where the PHP LMSHiperusPlugin is installed: used as it is, no migration,
its enum types and seeded dictionaries intact, and our own schema step harmless on top of it."""

from __future__ import annotations

import pytest
from hiperus_env import make_env

from lmsplugins.lms.settings import get_dbinfo
from lmsplugins.migrate import MigrationSource, split_sql, upgrade
from lmsplugins.testing import databases as dbs


@pytest.fixture(params=["pg_host", "mysql_host"])
def php_host(request):
    host = request.getfixturevalue(request.param)
    dbs.load_php_plugin_schema(host, "LMSHiperusPlugin")
    return host


def test_php_installed_schema_is_taken_over(php_host, tmp_path):
    plugin = php_host.plugin("hiperus_c5")
    source = MigrationSource(plugin.title, plugin.dbinfo_key, plugin.sql_dir, plugin.db_version)
    assert upgrade(php_host.engine, source) == []
    with php_host.engine.connect() as conn:
        assert get_dbinfo(conn, "dbversion_LMSHiperusPlugin") == "2017011900"
    env = make_env(php_host, tmp_path)
    try:
        assert env.run("import", "--all").exit_code == 0
        result = env.run("import", "-b", "-Y", "all", "-S", "all", "-F", "2024/01/01", "-T", "2024/01/03")
        assert result.exit_code == 0, result.output
        counts = env.counts()
        assert counts["hv_customers"] == len(env.sim.state.customers) and counts["hv_billing"] > 0
        assert dbs.table_count(php_host, "hv_pcb") == 2322
        assert dbs.table_count(php_host, "hv_borough") > 2000
    finally:
        env.server.stop()


def test_our_schema_step_is_rerunnable_over_the_php_schema(php_host):
    dialect = php_host.engine.dialect.name
    plugin = php_host.plugin("hiperus_c5")
    script = (plugin.sql_dir / dialect / "2017011900.sql").read_text(encoding="utf-8")
    for _ in range(2):
        with php_host.engine.begin() as conn:
            for statement in split_sql(script):
                conn.exec_driver_sql(statement)
    assert dbs.table_count(php_host, "hv_pcb") == 2322
    assert dbs.table_count(php_host, "hv_province") == 16


def test_fresh_install_seeds_dictionaries(lms_host):
    dbs.install(lms_host, "hiperus_c5")
    assert dbs.table_count(lms_host, "hv_pcb") == 2322
    assert dbs.table_count(lms_host, "hv_province") == 16
    with lms_host.engine.connect() as conn:
        assert get_dbinfo(conn, "dbversion_LMSHiperusPlugin") == "2017011900"
