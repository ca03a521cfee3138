"""Helpers of the host's own web tests (imported by name; pytest puts this folder on sys.path).

Logins, CSRF tokens and users come from :mod:`lmsplugins.testing.web`, shared with the plugins' tests.
"""

from __future__ import annotations

import time


class Sleeps(list):
    """Records the delays the app asked for instead of sleeping them."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def now() -> int:
    return int(time.time())
