"""LMSMetroportPlugin's ``uiconfig`` keys at its schema 2026032302, declared once for the MySQL and
SQLite migrations (``sql/<dialect>/2026032302.rows``); PostgreSQL's step replays the PHP plugin's own
upgrade instead. Credentials are seeded disabled and empty, ``serwer_url`` with its scheme; a key is
added only when LMS has no global row (``userid`` and ``divisionid`` NULL) for it, so an admin's value stays."""

from __future__ import annotations

from lmsplugins.lms.tables import uiconfig
from lmsplugins.migrate import SeedRows

_SETTINGS = (
    ("serwer_url", "https://api.mmsc.metroport.pl", "Adres url serwera API Metroport", 0),
    ("api_login", "", "Login do serwera API (włącz, aby trzymać go tutaj zamiast w lms.ini)", 1),
    ("api_pass", "", "Hasło do serwera API (włącz, aby trzymać je tutaj zamiast w lms.ini)", 1),
    (
        "automatically_update_customer_data",
        "true",
        "true - zmiany klientów sparowanych z MMS wysyła zadanie metroport-mms push-customers",
        0,
    ),
    ("api_token_expiration_time", "1200", "Timeout dla tokena w sekundach. Domyslnie 1200s", 0),
    ("metrotv_suspend_billing", "1", "Zawieś wystawianie faktur dla zablokowanych kont MetroTV", 0),
    ("fsecure_suspend_billing", "1", "Zawieś wystawianie faktur dla zablokowanych kont Fsecure", 0),
    ("list_pagelimit", "100", "Liczba wierszy na stronie list Metroport", 0),
    ("show_fsecure_in_customer_tab", "1", "Pokaż na karcie klienta zakładkę F-Secure (1 - tak, 0 - nie)", 0),
    ("show_metrotv_in_customer_tab", "1", "Pokaż na karcie klienta zakładkę MetroTV (1 - tak, 0 - nie)", 0),
)

UICONFIG = SeedRows(
    uiconfig,
    key=("section", "var", "userid", "divisionid"),
    rows=tuple(
        {
            "section": "metroport",
            "var": var,
            "value": value,
            "description": description,
            "disabled": disabled,
            "type": 7,
        }
        for var, value, description, disabled in _SETTINGS
    ),
)
ROWS = (UICONFIG,)
