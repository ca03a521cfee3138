"""Plugins are opt-in, as LMS's ``phpui.plugins``: with no ``lmsplugins.plugins`` nothing of a plugin runs or
touches the database; naming one later and running ``db upgrade`` installs just that one; ``lmsplugins
plugins`` says why each plugin is or is not enabled; a name that is not installed is a warning."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import inspect, select

from lmsplugins.cli import main
from lmsplugins.host import Host
from lmsplugins.lms.settings import get_dbinfo
from lmsplugins.lms.tables import serviceproviders, tariffs
from lmsplugins.testing import databases as dbs
from lmsplugins.testing.web import log_in
from lmsplugins.web import create_app

EXAMPLE_KEY = "dbversion_LMSExamplePlugin"


def run(ini: Path | str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["-C", str(ini), *args])
    return result.exit_code, result.output


def plugin_keys(host: Host) -> dict[str, str | None]:
    """The dbinfo version of every plugin that owns tables (None: not installed)."""
    with host.engine.connect() as conn:
        return {p.name: get_dbinfo(conn, p.dbinfo_key) for p in host.registry.found if p.db_version}


def metroport_rows(host: Host) -> tuple[int, int]:
    with host.engine.connect() as conn:
        providers = conn.execute(select(serviceproviders.c.id).where(serviceproviders.c.name == "Metroport MVNO"))
        tariff = conn.execute(select(tariffs.c.id).where(tariffs.c.name == "METROPORT MVNO"))
        return len(providers.all()), len(tariff.all())


def test_without_a_list_no_plugin_is_enabled_and_db_upgrade_installs_none(tmp_path):
    host = dbs.sqlite_host(tmp_path, seeded=True, plugins=None)
    ini = host.ini_config.path
    assert "lmsplugins.plugins" not in ini.read_text()
    assert host.registry.enabled == [] and {"example", "hiperus_c5", "metroport_mvno"} <= {
        p.name for p in host.registry.found
    }
    code, out = run(ini, "db", "upgrade")
    assert code == 0, out
    assert "lmsplugins.plugins is not set, so no plugin is enabled" in out
    assert set(plugin_keys(host).values()) == {None}
    assert "example_notes" not in inspect(host.engine).get_table_names()
    assert metroport_rows(host) == (0, 0)
    code, out = run(ini, "plugins", "--no-settings")
    assert code == 0
    assert out.splitlines()[0].startswith("lmsplugins.plugins is not set")
    example = next(line for line in out.splitlines() if " example " in line)
    assert example.startswith("disabled") and example.endswith("  [lmsplugins.plugins is not set]")
    code, out = run(ini, "example", "sync")
    assert code == 2 and "plugin example is not enabled" in out
    code, out = run(ini, "db", "check")
    assert code == 0 and "note: lmsplugins.plugins is not set" in out


def test_only_the_named_plugin_is_installed_and_enabling_another_later_installs_just_that_one(tmp_path):
    host = dbs.sqlite_host(tmp_path, seeded=True, plugins=["Hiperus_c5:10"])
    ini = host.ini_config.path
    code, out = run(ini, "db", "upgrade")
    assert code == 0, out
    keys = plugin_keys(host)
    assert keys["hiperus_c5"] is not None
    assert {name for name, version in keys.items() if version} == {"hiperus_c5"}
    assert metroport_rows(host) == (0, 0)
    code, out = run(ini, "plugins", "--no-settings")
    lines = out.splitlines()
    hiperus = next(line for line in lines if " hiperus_c5 " in line)
    example = next(line for line in lines if " example " in line)
    assert hiperus.startswith("enabled ") and hiperus.endswith(
        "[named in lmsplugins.plugins as Hiperus_c5:10 (lms.ini)]"
    )
    assert example.startswith("disabled") and example.endswith("[not named in lmsplugins.plugins (lms.ini)]")
    assert "is not set" not in out

    host.set_uiconfig("lmsplugins.plugins", "Hiperus_c5:10 LMSMetroportMVNOPlugin")
    code, out = run(ini, "db", "upgrade")
    assert code == 0, out
    assert "Metroport" in out and "Hiperus" not in out and "Example" not in out
    keys = plugin_keys(host)
    assert {name for name, version in keys.items() if version} == {"hiperus_c5", "metroport_mvno"}
    assert metroport_rows(host) == (1, 1)
    code, out = run(ini, "plugins", "--no-settings")
    metroport = next(line for line in out.splitlines() if " metroport_mvno " in line)
    assert metroport.startswith("enabled ") and "as LMSMetroportMVNOPlugin (uiconfig #" in metroport
    code, out = run(ini, "db", "upgrade")
    assert code == 0 and "schema is up to date" in out


def test_a_name_not_installed_is_a_warning_everywhere_not_a_crash(tmp_path):
    host = dbs.sqlite_host(tmp_path, plugins=["example", "NoSuchPlugin"])
    ini = host.ini_config.path
    code, out = run(ini, "plugins", "--no-settings")
    assert code == 0
    assert "MISSING  NoSuchPlugin     named in lmsplugins.plugins but not installed" in out
    assert [p.name for p in host.registry.enabled] == ["example"]
    code, out = run(ini, "db", "upgrade")
    assert code == 0, out
    assert "warning: lmsplugins.plugins names 'NoSuchPlugin', which is not installed" in out
    assert plugin_keys(host)["example"] is not None
    code, out = run(ini, "db", "check")
    assert code == 0 and "warning: lmsplugins.plugins names 'NoSuchPlugin', which is not installed" in out


def test_a_plugin_that_fails_to_load_says_whether_it_was_named(tmp_path):
    extra = tmp_path / "extra"
    for name in ("wanted", "unwanted"):
        (extra / name).mkdir(parents=True)
        (extra / name / "__init__.py").write_text("")
        (extra / name / "plugin.py").write_text(f"raise RuntimeError('{name} needs package foo')\n")
    ini = dbs.write_ini(
        tmp_path,
        "sqlite",
        str(tmp_path / "lms.sqlite"),
        extra=f"[lmsplugins]\nplugin_dirs = {extra}\n",
        plugins=["wanted"],
    )
    code, out = run(ini, "plugins", "--no-settings")
    assert code == 0, out
    wanted = next(line for line in out.splitlines() if line.startswith("FAILED   wanted"))
    unwanted = next(line for line in out.splitlines() if line.startswith("FAILED   unwanted"))
    assert "wanted needs package foo" in wanted and wanted.endswith("[named in lmsplugins.plugins as wanted (lms.ini)]")
    assert unwanted.endswith("[not named in lmsplugins.plugins (lms.ini)]")
    assert "MISSING" not in out
    registry = Host(ini).registry
    assert [f.name for f in registry.failed_named] == ["wanted"], "only a named plugin's failure raises an alarm"
    assert sorted(f.name for f in registry.failed) == ["unwanted", "wanted"]


def test_a_plugin_not_named_has_no_menu_entry_and_no_pages(tmp_path):
    for plugins, shown in ((None, False), (["example"], True)):
        host = dbs.sqlite_host(tmp_path / str(shown), seeded=True, plugins=plugins)
        dbs.install(host, "example")
        app = create_app(host, TESTING=True, USER_CACHE_SECONDS=0)
        page = log_in(app).get("/").get_data(as_text=True)
        assert ("Example notes" in page) is shown
        assert ("example.index" in app.view_functions) is shown
        host.dispose()


def test_test_ini_names_every_installed_plugin_by_default_and_extra_wins(tmp_path):
    in_tree = sorted(p.parent.name for p in Path(__file__).parents[2].glob("plugins/*/plugin.py"))
    assert set(in_tree) <= set(dbs.installed_plugin_names())
    text = dbs.ini_text("sqlite", "x.sqlite")
    assert f"plugins = {' '.join(dbs.installed_plugin_names())}\n" in text
    ini = dbs.write_ini(tmp_path, "sqlite", "x.sqlite", extra="[lmsplugins]\nplugins = example\n")
    assert [p.name for p in Host(ini).registry.enabled] == ["example"]
    assert "lmsplugins.plugins" not in dbs.ini_text("postgres", "d", plugins=None)


def test_a_kept_demo_whose_ini_names_no_plugin_runs_none_and_says_so(tmp_path):
    from lmsplugins.demo import write_ini

    data = tmp_path / "demo"
    data.mkdir()
    write_ini(data / "lms.ini", data / "lms.sqlite", plugins=())
    result = CliRunner().invoke(main, ["demo", "--data-dir", str(data), "--keep", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "names no plugin (lmsplugins.plugins), so none runs" in result.output
    host = Host(data / "lms.ini")
    assert set(plugin_keys(host).values()) == {None}
    with host.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM lmsplugins_job_runs").scalar() == 0
