"""``lmsplugins plugins`` lists each plugin's settings with the values the plugin would read (ini, then
uiconfig), defaults marked, secrets never shown."""

from __future__ import annotations

from click.testing import CliRunner

from lmsplugins.cli import main
from lmsplugins.testing import databases as dbs


def _plugins(ini: str, *extra: str) -> str:
    result = CliRunner().invoke(main, ["-C", ini, "plugins", *extra])
    assert result.exit_code == 0, result.output
    return result.output


def test_settings_with_current_values_and_secrets_masked(tmp_path):
    host = dbs.sqlite_host(tmp_path)
    host.set_uiconfig("example.api_url", "http://greetings.example:9000")
    host.set_uiconfig("example.api_token", "s3cr3t-token")
    host.set_uiconfig("hiperus_c5.password", "hunter2")
    out = _plugins(str(host.ini_config.path))
    assert "    example.api_url = 'http://greetings.example:9000'" in out
    assert "    example.api_token = *** (set)" in out
    assert "    hiperus_c5.password = *** (set)" in out
    assert "s3cr3t-token" not in out and "hunter2" not in out
    assert "    hiperus_c5.username = (not set)" in out
    lines = out.splitlines()
    example = next(i for i, line in enumerate(lines) if line.startswith("enabled  example"))
    assert lines[example + 1].startswith("    example.")
    assert "example.api_url" not in _plugins(str(host.ini_config.path), "--no-settings")


def test_defaults_are_marked_and_ini_values_shown_without_a_database(tmp_path):
    ini = tmp_path / "lms.ini"
    ini.write_text(
        f"[database]\ntype = sqlite\ndatabase = {tmp_path / 'missing' / 'x.sqlite'}\n[example]\napi_token = from-ini\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["-C", str(ini), "plugins"])
    assert result.exit_code == 0, result.output
    assert "    example.api_url = 'http://127.0.0.1:8765' (default)" in result.output
    assert "    example.api_token = *** (set)" in result.output and "from-ini" not in result.output
