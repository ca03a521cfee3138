"""What every browser test needs: Debian's Chromium driven by Playwright (the ``browser`` fixture,
registered by this folder's conftest.py), and ``lmsplugins serve`` as a real subprocess on a free
loopback port (:func:`serve_lms`).

Under CI=true a missing browser or Playwright fails the run (the browser tier must run there);
elsewhere the tests are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI=true and the browser tests cannot run: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole run; each test opens its own context (cookies, locale)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright Python package is not installed")
    if not Path(CHROMIUM).exists():
        _missing(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@contextlib.contextmanager
def serve_lms(ini: Path, log_path: Path) -> Iterator[str]:
    """``lmsplugins -C ini serve`` on a free loopback port until the block ends; yields its base URL.

    The server's output goes to *log_path*, quoted when it does not come up within 30 s.
    """
    port = _free_port()
    exe = shutil.which("lmsplugins", path=str(Path(sys.executable).parent)) or "lmsplugins"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [exe, "-C", str(ini), "serve", "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=log
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(url + "/healthz", timeout=1) as r:
                        if r.status == 200:
                            break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"lmsplugins serve did not start: {log_path.read_text()[-2000:]}")
                    time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
