"""lmsplugins: a Python host for LMS (LAN Management System) integrations.

The host knows LMS (its ini file, database, settings, users and conventions) and nothing of any
provider; each provider lives in a plugin under ``plugins/`` that declares itself through
:class:`lmsplugins.plugin.Plugin`.
"""

__version__ = "0.1.0"
