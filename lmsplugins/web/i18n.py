"""A small Polish/English message catalogue: Polish first (LMS's users are Polish ISPs), English too.

Messages are keyed by their English text, so an untranslated message still reads well and plugin
authors can call ``_("...")`` in templates before anyone translates them. Plugins add their own
Polish texts with :func:`add_messages`. The language comes from the user's choice (kept per user
in ``lmsplugins_state``), else the browser's ``Accept-Language``, else Polish. gettext/Babel would
be a heavy dependency for a few hundred strings.
"""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES = ("pl", "en")
DEFAULT_LANGUAGE = "pl"

_PL: dict[str, str] = {
    "Log in": "Zaloguj",
    "Log out": "Wyloguj",
    "Login": "Login",
    "Password": "Hasło",
    "Wrong password or login.": "Nieprawidłowy login lub hasło.",
    "Account is disabled": "Konto jest zablokowane",
    "Account is not active": "Konto nie jest aktywne",
    "Access denied!": "Brak dostępu!",
    "Account is not assigned to any division": "Konto nie jest przypisane do żadnego oddziału",
    "Too many failed login attempts. Try again in a few minutes.": (
        "Zbyt wiele nieudanych prób logowania. Spróbuj ponownie za kilka minut."
    ),
    "Authentication code": "Kod uwierzytelniający",
    "Enter the code from your authenticator app.": "Wpisz kod z aplikacji uwierzytelniającej.",
    "Wrong authentication code.": "Nieprawidłowy kod uwierzytelniający.",
    "This code has already been used before the moment.": "Ten kod został użyty przed chwilą.",
    "The login has expired. Log in again.": "Logowanie wygasło. Zaloguj się ponownie.",
    "Verify": "Sprawdź",
    "Your password has to be changed. Change it in LMS, then log in here.": (
        "Hasło musi zostać zmienione. Zmień je w LMS, a potem zaloguj się tutaj."
    ),
    "Two-factor authentication is required. Set it up in LMS, then log in here.": (
        "Wymagane jest uwierzytelnianie dwuskładnikowe. Skonfiguruj je w LMS, a potem zaloguj się tutaj."
    ),
    "Back to login": "Powrót do logowania",
    "You have been logged out.": "Wylogowano.",
    "Please log in.": "Zaloguj się.",
    "Home": "Start",
    "Customers": "Klienci",
    "Customer": "Klient",
    "Search": "Szukaj",
    "Name, ID, NIP or PESEL": "Nazwisko, ID, NIP lub PESEL",
    "Name": "Nazwa",
    "Address": "Adres",
    "Addresses": "Adresy",
    "Contacts": "Kontakty",
    "Balance": "Saldo",
    "Status": "Status",
    "Type": "Typ",
    "No customers found.": "Nie znaleziono klientów.",
    "Customer not found.": "Nie znaleziono klienta.",
    "deleted": "usunięty",
    "Previous": "Poprzednia",
    "Next": "Następna",
    "Page": "Strona",
    "of": "z",
    "more than": "ponad",
    "results": "wyników",
    "Administration": "Administracja",
    "Plugins": "Wtyczki",
    "Settings": "Ustawienia",
    "Job runs": "Uruchomienia zadań",
    "Plugin": "Wtyczka",
    "Enabled": "Włączona",
    "Version": "Wersja",
    "Database version": "Wersja bazy",
    "expected": "oczekiwana",
    "not installed": "nie zainstalowana",
    "Failed plugins": "Wtyczki z błędami",
    "Reason": "Przyczyna",
    "yes": "tak",
    "no": "nie",
    "Save": "Zapisz",
    "Filter": "Filtruj",
    "Settings saved.": "Zapisano ustawienia.",
    "No changes.": "Bez zmian.",
    "Nothing saved: correct the marked fields.": "Nic nie zapisano: popraw zaznaczone pola.",
    "Value": "Wartość",
    "Source": "Źródło",
    "default": "domyślna",
    "inherit": "dziedzicz",
    "set; type a new value to change it": "ustawiona; wpisz nową wartość, aby ją zmienić",
    "not set": "nie ustawiona",
    "Clear": "Wyczyść",
    "Job": "Zadanie",
    "Started": "Start",
    "Duration": "Czas",
    "Counters": "Liczniki",
    "Message": "Komunikat",
    "all": "wszystkie",
    "test": "test",
    "No job runs recorded.": "Brak zapisanych uruchomień.",
    "Access denied": "Brak dostępu",
    "You do not have the permission needed for this page.": "Nie masz uprawnienia wymaganego dla tej strony.",
    "Page not found": "Nie znaleziono strony",
    "Bad request": "Błędne żądanie",
    "The form has expired or was not sent from this site. Reload the page and try again.": (
        "Formularz wygasł lub nie pochodzi z tej strony. Odśwież stronę i spróbuj ponownie."
    ),
    "Server error": "Błąd serwera",
    "Something went wrong; the details are in the server log.": "Wystąpił błąd; szczegóły są w logu serwera.",
    "This panel failed": "Ten panel zgłosił błąd",
    "Language": "Język",
    "Logged in as": "Zalogowany jako",
    "Deleted customer": "Klient usunięty",
    "Created": "Utworzony",
    "Notes": "Notatki",
    "Identity": "Dane identyfikacyjne",
    "interested": "zainteresowany",
    "waiting": "oczekujący",
    "connected": "podłączony",
    "disconnected": "odłączony",
    "debt collection": "windykacja",
    "private": "osoba prywatna",
    "company": "firma",
    "contractor": "kontrahent",
    "postal": "korespondencyjny",
    "billing": "zameldowania",
    "location": "lokalizacji",
    "default location": "domyślny lokalizacji",
    "recipient": "odbiorcy",
    "mobile": "komórkowy",
    "fax": "fax",
    "landline": "stacjonarny",
    "email": "e-mail",
    "invoices": "faktury",
    "notifications": "powiadomienia",
    "bank account": "konto bankowe",
    "technical": "techniczny",
    "documents": "dokumenty",
    "disabled": "wyłączony",
    "Welcome": "Witaj",
    "Find a customer or choose a section from the menu.": "Znajdź klienta lub wybierz dział z menu.",
    "Sections": "Działy",
    "Permissions": "Uprawnienia",
}

_CATALOGUE: dict[str, dict[str, str]] = {"pl": _PL, "en": {}}


def add_messages(language: str, messages: Mapping[str, str]) -> None:
    """Add translations (English text -> *language* text), e.g. from a plugin's module."""
    _CATALOGUE.setdefault(language, {}).update(messages)


def translate(message: str, language: str) -> str:
    return _CATALOGUE.get(language, {}).get(message, message)


def best_language(chosen: str | None, accept_language: str | None) -> str:
    """The user's choice, else the first supported ``Accept-Language`` entry by quality, else Polish."""
    if chosen in LANGUAGES:
        return chosen
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, index, tag.strip().lower().split("-")[0]))
    for neg_quality, _, lang in sorted(ranked):
        if neg_quality < 0 and lang in LANGUAGES:
            return lang
    return DEFAULT_LANGUAGE
