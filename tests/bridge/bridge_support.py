"""The bridge's test harness: the stand-in LMS run by php-cli with the real ``lmsplugins`` command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
PLUGIN = HERE.parents[1] / "lms-bridge" / "LMSPluginsBridge"
LMSPLUGINS = Path(sys.executable).parent / "lmsplugins"
PHP = shutil.which("php")


def require_php() -> None:
    """Skip without php-cli, except in CI, where scripts/test installs it and its absence is an error."""
    if PHP is None:
        if os.environ.get("CI") == "true":
            raise RuntimeError("php-cli is required in CI (scripts/test installs it)")
        pytest.skip("php-cli is not installed")


def lms_notify(
    tmp_path: Path, settings: dict, channel: str, actions: str, customers_: list[int], *flags: str, rights=()
):
    config = tmp_path / "standin.json"
    config.write_text(json.dumps({"settings": settings, "rights": list(rights) or ["customer_management"]}))
    result = subprocess.run(
        [
            PHP,
            str(HERE / "lms_notify_standin.php"),
            str(PLUGIN),
            channel,
            actions,
            ",".join(map(str, customers_)),
            "",
            *flags,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "LMS_STANDIN_CONFIG": str(config), "PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path)},
        timeout=120,
    )
    last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    return result, (json.loads(last) if last.startswith("{") else None)
