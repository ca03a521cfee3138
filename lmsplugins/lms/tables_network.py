"""LMS core tables of the network side (network devices, their nodes and MAC addresses, network nodes).

Declared on the same ``metadata`` as :mod:`lmsplugins.lms.tables` (which imports this module before it
lists ``CORE_TABLES``), so the embedded SQLite schema and the schema compatibility test cover them
too. Split off only to keep one module a readable size; the rules are those of ``tables.py``.
"""

from __future__ import annotations
