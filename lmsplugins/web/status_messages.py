"""Polish texts of the start page, job detail, connection tests and the host's attention items.

Kept beside :mod:`lmsplugins.web.views_status` rather than in the shared catalogue of
:mod:`lmsplugins.web.i18n`, through its :func:`~lmsplugins.web.i18n.add_messages`, as plugins do.
"""

from __future__ import annotations

from lmsplugins.web.i18n import add_messages

PL = {
    "Needs attention": "Wymaga uwagi",
    "Nothing needs attention.": "Nic nie wymaga uwagi.",
    "Jobs": "Zadania",
    "Times in": "Czas w strefie",
    "Last run": "Ostatnie uruchomienie",
    "Result": "Wynik",
    "Since last success": "Od ostatniego sukcesu",
    "Usual period": "Zwykły odstęp",
    "never": "nigdy",
    "No runs recorded yet.": "Brak zapisanych uruchomień.",
    "overdue: no success for more than": "zaległe: brak sukcesu od ponad",
    "daily": "codziennie",
    "running": "w toku",
    "done": "zakończone",
    "failed": "z błędami",
    "error": "błąd",
    "Job run": "Uruchomienie zadania",
    "Exit code": "Kod wyjścia",
    "Finished": "Zakończone",
    "Command line": "Polecenie",
    "Host": "Serwer",
    "Output": "Wydruk",
    "Only the end of the output is kept; the start was cut.": (
        "Zachowano tylko koniec wydruku; początek został obcięty."
    ),
    "No output was kept for this run.": "Dla tego uruchomienia nie zachowano wydruku.",
    "Test connection": "Sprawdź połączenie",
    "Logs in with the saved settings and makes one harmless read; save changes first.": (
        "Loguje się z zapisanymi ustawieniami i wykonuje jeden nieszkodliwy odczyt; najpierw zapisz zmiany."
    ),
    "OK": "OK",
    "FAILED": "BŁĄD",
    "the connection works": "połączenie działa",
    "the connection does not work": "połączenie nie działa",
    "Jobs whose latest run failed": "Zadania, których ostatnie uruchomienie się nie powiodło",
    "Jobs without a success in their usual period": "Zadania bez sukcesu w ich zwykłym odstępie",
    "Plugins that failed to load": "Wtyczki, których nie udało się załadować",
    "Plugins whose start-page items failed": "Wtyczki, których pozycje strony startowej zgłosiły błąd",
    "Addresses and networks allowed to read /metrics (Prometheus)": (
        "Adresy i sieci, które mogą czytać /metrics (Prometheus)"
    ),
}

add_messages("pl", PL)
