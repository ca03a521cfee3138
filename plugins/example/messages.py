"""Polish texts of the example plugin: how a plugin brings its own translations.

The frame adds the ``PL`` (and, if present, ``EN``) dict of every installed plugin's ``messages``
module to the shared catalogue, so the settings page describes a plugin in Polish even before it is
enabled. Keys are the English texts; a key with ``{fields}`` also translates a job message made with
values in it (see :mod:`lmsplugins.web.i18n`).
"""

from __future__ import annotations

PL: dict[str, str] = {
    "A template plugin: fetches greetings from its simulator and notes them per customer.": (
        "Wtyczka-wzór: pobiera powitania ze swojego symulatora i zapisuje je jako notatki klientów."
    ),
    "Greeting service URL": "Adres URL usługi powitań",
    "Token for the service": "Token usługi",
    "Customers per transaction": "Klientów na transakcję",
    "Fetch greetings at all": "Czy w ogóle pobierać powitania",
    "Flag notes as blocked": "Oznacz notatki jako zablokowane",
    "Notes": "Notatki",
    "Notes stored": "Zapisane notatki",
    "no greeting returned for customer #{customer}": "brak powitania dla klienta #{customer}",
    "See example notes": "Podgląd notatek przykładu",
}
