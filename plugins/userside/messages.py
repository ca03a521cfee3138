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
    # settings (section userside), shown on the host's settings page
    "API key usm_billing sends (?key=); empty: off": "Klucz API wysyłany przez usm_billing (?key=); pusty: wyłączone",
    "Addresses or networks allowed to call the API; empty: any": (
        "Adresy lub sieci, które mogą wywoływać API; puste: dowolne"
    ),
    "Name of the key in audit lines": "Nazwa klucza we wpisach audytu",
    "User login: the customer id, or the first node's name or login (id when none)": (
        "Login użytkownika: ID klienta albo nazwa lub login pierwszego komputera (ID, gdy brak)"
    ),
    "Account number: the customer id, or the customer's bank-account contact (id when none)": (
        "Numer konta: ID klienta albo kontakt klienta typu konto bankowe (ID, gdy brak)"
    ),
    "Addresses sent: the default location (else another location, else the billing address), every location "
    "address (else billing), or the billing address": (
        "Wysyłane adresy: domyślny adres lokalizacji (inaczej inny adres lokalizacji, inaczej adres do faktur), "
        "wszystkie adresy lokalizacji (inaczej adres do faktur) albo adres do faktur"
    ),
    "LMS tariff types sent as UserSide tariffs (1 = internet); other tariffs are services": (
        "Typy taryf LMS wysyłane jako taryfy UserSide (1 = internet); pozostałe taryfy to usługi"
    ),
    "Customer fields sent as additional data: ten, ssn, regon, rbe, icn, info, altname": (
        "Pola klienta wysyłane jako dane dodatkowe: ten, ssn, regon, rbe, icn, info, altname"
    ),
    "Send the first node's password as the user password": "Wysyłaj hasło pierwszego komputera jako hasło użytkownika",
    "A connected customer with a negative balance is in state 'nomoney'": (
        "Podłączony klient z ujemnym saldem ma stan 'nomoney'"
    ),
    "A customer without a contract document gets one agreement numbered with its id": (
        "Klient bez dokumentu umowy dostaje jedną umowę o numerze równym jego ID"
    ),
    "Time zone of the dates sent": "Strefa czasowa wysyłanych dat",
    "Customers read per batch of queries": "Liczba klientów czytanych jedną porcją zapytań",
    "Allow change_user_data (comment, balance operations) through the API": (
        "Zezwalaj na change_user_data (komentarz, operacje na saldzie) przez API"
    ),
    "UserSide: API key, allow-list and request log": (
        "UserSide: klucz API, lista dozwolonych adresów i dziennik zapytań"
    ),
    "Serves UserSide's universal billing API (usm_billing imports customers, tariffs, addresses, IPs).": (
        "Udostępnia uniwersalne API billingu dla UserSide (usm_billing importuje klientów, taryfy, adresy, IP)."
    ),
}
