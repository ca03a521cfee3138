"""Polish (first) and English texts of the UserSide admin page, registered with the frame's catalogue."""

from __future__ import annotations

EN: dict[str, str] = {}

PL: dict[str, str] = {
    "UserSide API": "API UserSide",
    "Endpoint for usm_billing": "Adres dla usm_billing",
    "Paste into usm_billing's BILLING_URL (with the full key):": (
        "Wklej do BILLING_URL w usm_billing (z pełnym kluczem):"
    ),
    "API key": "Klucz API",
    "no key: the API is off": "brak klucza: API jest wyłączone",
    "Generate a new key": "Wygeneruj nowy klucz",
    "New key (shown once, copy it into usm_billing):": "Nowy klucz (pokazany raz, skopiuj go do usm_billing):",
    "Allowed addresses": "Dozwolone adresy",
    "Addresses or networks, separated by commas; empty: any address with the key.": (
        "Adresy lub sieci rozdzielone przecinkami; puste: każdy adres z kluczem."
    ),
    "Not an address or network:": "To nie jest adres ani sieć:",
    "Allow-list saved.": "Zapisano listę dozwolonych adresów.",
    "Write-back": "Zapis zwrotny",
    "on": "włączony",
    "off": "wyłączony",
    "Last requests": "Ostatnie zapytania",
    "Time": "Czas",
    "Method": "Metoda",
    "Rows": "Wiersze",
    "Duration": "Czas trwania",
    "No requests yet.": "Nie było jeszcze zapytań.",
    "Preview of one customer": "Podgląd jednego klienta",
    "Customer ID": "ID klienta",
    "Show": "Pokaż",
}
