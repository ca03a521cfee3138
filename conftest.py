"""Root conftest: every test tier gets the host's LMS database fixtures."""

pytest_plugins = ["lmsplugins.testing.fixtures"]
