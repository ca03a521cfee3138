# ruff: noqa: E501
"""Polish (first) texts of the Wildcore pages, keyed by their English text in the frame's catalogue."""

from __future__ import annotations

EN: dict[str, str] = {}

PL: dict[str, str] = {
    "No ONU or switch port of this customer is known in LMS (network device with a serial number, or a node on a switch port).": "W LMS nie ma ONU ani portu przełącznika tego klienta (urządzenie sieciowe z numerem seryjnym albo komputer na porcie przełącznika).",
    "Wildcore could not be asked": "Nie udało się zapytać Wildcore",
    "Wildcore could not poll everything": "Wildcore nie odpytał wszystkiego",
    "Polled the devices through Wildcore": "Urządzenia odpytane przez Wildcore",
    "Switch port": "Port przełącznika",
    "open in Wildcore": "otwórz w Wildcore",
    "Wildcore does not know this ONU or port (not found by its search).": "Wildcore nie zna tego ONU ani portu (wyszukiwanie nic nie zwróciło).",
    "Interface": "Interfejs",
    "admin": "administracyjnie",
    "Optical levels": "Poziomy optyczne",
    "OLT RX": "RX na OLT",
    "distance": "odległość",
    "Last down": "Ostatnie rozłączenie",
    "UNI ports": "Porty UNI",
    "Link": "Łącze",
    "changed": "zmiana",
    "MACs seen": "Widziane adresy MAC",
    "Device": "Urządzenie",
    "Data": "Dane",
    "polled from the device": "odpytane z urządzenia",
    "stored in Wildcore": "zapisane w Wildcore",
    "The same ONU is also on other interfaces in Wildcore; delete the stale ones there": "To samo ONU jest też na innych interfejsach w Wildcore; usuń tam nieaktualne",
    "Poll now": "Odpytaj teraz",
    "Wildcore: unmatched and duplicates": "Wildcore: niedopasowane i duplikaty",
    "Not matched in Wildcore": "Niedopasowane w Wildcore",
    "ONUs and ports that Wildcore did not find, or found several times, when a customer card asked it.": "ONU i porty, których Wildcore nie znalazł albo znalazł kilka razy, gdy pytała go karta klienta.",
    "ONU or port": "ONU lub port",
    "Reason": "Powód",
    "Seen": "Widziano",
    "Duplicates Wildcore skips": "Duplikaty pomijane przez Wildcore",
    "What": "Co",
    "ONU serial": "Numer seryjny ONU",
    "ONU identifier": "Identyfikator ONU",
    "customers": "klientów",
    "Recent feed requests": "Ostatnie pobrania danych",
    "Request": "Żądanie",
    "Address": "Adres",
    "Elements": "Elementy",
    "Time": "Czas",
    "none": "brak",
}
