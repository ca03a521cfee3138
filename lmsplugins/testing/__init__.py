"""Test support shipped with the host: LMS databases on three engines and pytest fixtures.

Plugins' own tests use the same fixtures (``pytest_plugins = ["lmsplugins.testing.fixtures"]``).
"""
