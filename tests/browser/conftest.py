"""Registers the browser tier's shared fixtures (see browser_support)."""

from browser_support import browser  # noqa: F401 - a fixture, found by pytest through this import
