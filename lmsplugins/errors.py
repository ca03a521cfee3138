"""Exceptions that carry an exit code, so every face (CLI, jobs, web) reports them the same way.

Exit codes follow the job runner's contract (DESIGN rule 7): 1 finished with failures, 2 usage or
configuration error, 3 another run holds the lock.
"""

from __future__ import annotations


class LMSPluginsError(Exception):
    """Base class: a clear one-line message for the administrator and an exit code."""

    exit_code = 1

    def with_exit_code(self, code: int) -> LMSPluginsError:
        self.exit_code = code
        return self


class ConfigError(LMSPluginsError):
    """Bad or missing configuration (ini file, database section, required setting)."""

    exit_code = 2


class UsageError(LMSPluginsError):
    """Bad command-line input, detected before anything is touched."""

    exit_code = 2


class SchemaError(LMSPluginsError):
    """The database is not the LMS schema we expect (wrong version, missing table or column)."""

    exit_code = 2


class LockHeld(LMSPluginsError):
    """Another run holds the named job lock."""

    exit_code = 3


class ProviderError(LMSPluginsError):
    """A provider API refused a call or answered something we cannot use."""

    exit_code = 1
