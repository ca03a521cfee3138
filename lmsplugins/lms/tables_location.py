"""LMS core tables of the address dictionaries (TERYT: states, districts, boroughs, cities, streets,
buildings) and other customer-side tables the served APIs read.

Declared on the same ``metadata`` as :mod:`lmsplugins.lms.tables` (which imports this module before it
lists ``CORE_TABLES``), so the embedded SQLite schema and the schema compatibility test cover them
too. Split off only to keep one module a readable size; the rules are those of ``tables.py``.
"""

from __future__ import annotations
