"""Drop-in script names: declared by the plugins, listed in pyproject, installed by pip into the venv's
bin/, and runnable from a crontab line under cron's minimal PATH (as are the checkout's bin/ shims)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from lmsplugins import dropin
from lmsplugins.loader import discover

REPO = Path(__file__).resolve().parents[2]
CRON_ENV = {"PATH": "/usr/bin:/bin"}


def _declared() -> dict[str, tuple[str, list[str]]]:
    """script name -> (plugin, lmsplugins arguments), from every plugin found."""
    out: dict[str, tuple[str, list[str]]] = {}
    for plugin in discover().found:
        for script, args in plugin.bin_scripts.items():
            assert script not in out, f"{script} declared by {out[script][0]} and {plugin.name}"
            out[script] = (plugin.name, list(args))
    return out


def _listed() -> dict[str, str]:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    return {name: target for name, target in scripts.items() if name != "lmsplugins"}


def test_pyproject_lists_exactly_the_plugins_declarations():
    declared = _declared()
    assert {"lms_hiperus_c5_import", "lms_hiperus_c5_invoice", "lms-metroportmvno-sync"} <= set(declared)
    assert _listed() == {name: f"lmsplugins.dropin:run_{plugin}" for name, (plugin, _) in declared.items()}


def test_checkout_bin_has_a_shim_for_each_declared_name():
    assert sorted(p.name for p in (REPO / "bin").iterdir()) == sorted(_declared())


def _run(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(path), *args], env=CRON_ENV, capture_output=True, text=True, timeout=120, check=False, cwd="/"
    )


def _installed_bin() -> Path:
    return Path(sys.executable).parent


@pytest.mark.parametrize("script", sorted(_declared()))
def test_installed_name_runs_under_crons_minimal_path(script: str):
    path = _installed_bin() / script
    if not path.exists():
        message = f"{path} is not installed; run pip install -e . (scripts/test does)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    _, args = _declared()[script]
    shown = _run(path, "--help")
    assert shown.returncode == 0, shown.stderr
    assert f"Usage: {script} {' '.join(args)}" in shown.stdout

    bad = _run(path, "-C", "/nonexistent/lms.ini")
    assert bad.returncode != 0
    assert bad.stderr.startswith("error: ") and bad.stderr.count("\n") == 1, bad.stderr


@pytest.mark.parametrize("script", sorted(_declared()))
def test_checkout_shim_runs_under_crons_minimal_path(script: str):
    if not (REPO / ".venv" / "bin" / "lmsplugins").exists():
        pytest.skip("no .venv in this checkout")
    _, args = _declared()[script]
    shown = _run(REPO / "bin" / script, "--help")
    assert shown.returncode == 0, shown.stderr
    assert f"Usage: lmsplugins {' '.join(args)}" in shown.stdout


def test_name_of_a_plugin_that_is_not_installed_says_so(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exited:
        dropin.run_no_such_plugin()
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "plugin no_such_plugin, which is not installed" in err


def test_name_the_plugin_no_longer_declares_says_so(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exited:
        dropin.dispatch("hiperus_c5", ["/venv/bin/lms_hiperus_c5_export"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "declares no drop-in script lms_hiperus_c5_export" in err and "lms_hiperus_c5_import" in err


def test_dispatch_passes_the_scripts_arguments_through(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exited:
        dropin.dispatch("metroport_mvno", ["lms-metroportmvno-sync", "--help"])
    assert exited.value.code == 0
    assert "Usage: lms-metroportmvno-sync metroport-mvno sync" in capsys.readouterr().out
