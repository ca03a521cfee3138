"""A small Polish/English message catalogue: Polish first (LMS's users are Polish ISPs), English too.

Messages are keyed by their English text, so an untranslated message still reads well and plugin
authors can call ``_("...")`` in templates before anyone translates them. Plugins add their own
Polish texts with :func:`add_messages`. The language comes from the user's choice (kept per user
in ``lmsplugins_state``), else the browser's ``Accept-Language``, else Polish.

Texts made at run time (a job's stored message, a connection-test step, a provider's error) are
English sentences with values in them. A catalogue key with ``{name}`` fields is also a *pattern*:
``"{count} record(s) skipped"`` translates "450 record(s) skipped" with the value carried over.
A job's message is several sentences joined with "; "; :func:`lookup` translates such a text part
by part (a field named ``examples`` may itself hold samples joined with "; "). So a job run keeps
its message in English (the CLI and logs read it) and each page shows it in the reader's language,
old runs included.

Why not gettext/Babel (issue 15 asked): the catalogue is checked instead by a test that renders
every page in both languages and fails on any text looked up without a Polish entry
(``tests/lmsplugins/i18n/``). Babel's extraction would not see most of these texts anyway (job
messages and setting descriptions are made in Python at run time, not written in ``_()`` calls),
and plugins bring their texts as plain dicts that need no compile step.
"""

from __future__ import annotations

import functools
import importlib
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

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
    "Duration": "Czas trwania",
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
    "Plugins enabled but not installed: run 'lmsplugins db upgrade'": (
        "Wtyczki włączone, ale niezainstalowane: uruchom 'lmsplugins db upgrade'"
    ),
    "This plugin's tables are not installed yet: run 'lmsplugins db upgrade'.": (
        "Tabele tej wtyczki nie są jeszcze zainstalowane: uruchom 'lmsplugins db upgrade'."
    ),
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
    "No panels for this customer.": "Brak paneli dla tego klienta.",
    "Limit": "Limit",
    "lmsplugins: plugins, settings and job runs": "lmsplugins: wtyczki, ustawienia i uruchomienia zadań",
    # the host's settings (lmsplugins.web.views_admin.HOST_SETTINGS)
    "Enabled plugins (Name[:priority], as phpui.plugins)": "Włączone wtyczki (Nazwa[:priorytet], jak phpui.plugins)",
    "Accept a live LMS session (SID cookie)": "Akceptuj trwającą sesję LMS (ciasteczko SID)",
    "LMS session must come from the same IP": "Sesja LMS musi pochodzić z tego samego adresu IP",
    "Trusted X-Forwarded-* proxies (0: none)": "Zaufane serwery pośredniczące X-Forwarded-* (0: żaden)",
    "Peers whose X-Forwarded-* headers count (addresses, networks, unix)": (
        "Nadawcy, których nagłówki X-Forwarded-* są brane pod uwagę (adresy, sieci, unix)"
    ),
    "Force the Secure cookie flag": "Wymuś flagę Secure ciasteczek",
    "Key signing web sessions": "Klucz podpisujący sesje WWW",
    "Addresses and networks allowed to read /metrics (Prometheus)": (
        "Adresy i sieci, które mogą czytać /metrics (Prometheus)"
    ),
    # a setting's value refused (lmsplugins.plugin.Setting.parse, lmsplugins.config), shown on the settings page
    "setting {key} = {value} is not a valid {type}": (
        "ustawienie {key} = {value} nie jest poprawną wartością typu {type}"
    ),
    "setting {key} = {value} must be one of: {choices}": (
        "ustawienie {key} = {value} musi mieć jedną z wartości: {choices}"
    ),
    "setting {key} = {value} is not a number": "ustawienie {key} = {value} nie jest liczbą",
    "setting {key} = {value} is not a whole number": "ustawienie {key} = {value} nie jest liczbą całkowitą",
    "{title}: required setting {where} is not set; add it to lms.ini (section [{section}]) or to uiconfig": (
        "{title}: wymagane ustawienie {where} nie jest ustawione; dodaj je do lms.ini (sekcja [{section}]) "
        "lub do uiconfig"
    ),
    "provider URL {url} is not an http:// or https:// address; correct its setting": (
        "adres dostawcy {url} nie jest adresem http:// ani https://; popraw jego ustawienie"
    ),
    # connection tests (lmsplugins.conntest and the plugins' connection_test steps)
    "{plugin} has no connection test": "{plugin} nie ma testu połączenia",
    "logged in to {url} as {login}": "zalogowano do {url} jako {login}",
    # counters of the host's notify jobs (named after the action otherwise: an identifier, kept as it is)
    "Debtors": "Dłużnicy",
    "Logged": "Zapisane w dzienniku zmian LMS",
    # what the job runner itself records as a run's message (lmsplugins.jobs)
    "interrupted": "przerwano",
    "the database connection was lost ({reason}); the chunk in progress was rolled back; run the job again "
    "(run #{run})": (
        "utracono połączenie z bazą danych ({reason}); wycofano przetwarzaną porcję; uruchom zadanie ponownie "
        "(uruchomienie #{run})"
    ),
}

_CATALOGUE: dict[str, dict[str, str]] = {"pl": dict(_PL), "en": {}}
"""The live catalogue: the host's own texts (``_PL``, kept apart) and what plugins added."""
_PATTERNS: dict[str, list[_Pattern]] = {}
"""Per language, the compiled patterns of the catalogue's keys with fields (rebuilt after any change)."""

PART_SEPARATOR = "; "
"""How a job run joins its failures and warnings into one message (:func:`lmsplugins.jobs.run_job`)."""

_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ONE_PART = "(?:(?!; ).)+?"


def _spans_parts(field_name: str) -> bool:
    """A field named ``examples`` or ``*_list`` may hold "; " (samples joined the way a run joins messages)."""
    return field_name == "examples" or field_name.endswith("_list")


def add_messages(language: str, messages: Mapping[str, str]) -> None:
    """Add translations (English text -> *language* text), e.g. from a plugin's module."""
    _CATALOGUE.setdefault(language, {}).update(messages)
    _PATTERNS.pop(language, None)
    _cached_lookup.cache_clear()


@dataclass(frozen=True)
class _Pattern:
    """A catalogue key with fields, compiled; *prefix*, *suffix* and *needle* (its longest fixed piece)
    reject most texts with a string test before the regex runs."""

    regex: re.Pattern[str]
    text: str
    prefix: str
    suffix: str
    needle: str

    def match(self, message: str) -> re.Match[str] | None:
        if not (message.startswith(self.prefix) and message.endswith(self.suffix) and self.needle in message):
            return None
        return self.regex.fullmatch(message)


def _compile(key: str, text: str) -> _Pattern | None:
    """``"{n} row(s) {what}"`` -> a regex with a named group per field; None: no fields, or not a pattern."""
    pieces: list[str] = []
    literals: list[str] = []
    seen: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(key))
    except ValueError:
        return None
    for literal, field_name, spec, conversion in parsed:
        pieces.append(re.escape(literal))
        literals.append(literal)
        if field_name is None:
            continue
        if spec or conversion or not _FIELD_NAME.fullmatch(field_name):
            return None
        if field_name in seen:
            pieces.append(f"(?P={field_name})")
        else:
            seen.add(field_name)
            pieces.append(f"(?P<{field_name}>{'.+?' if _spans_parts(field_name) else _ONE_PART})")
    if not seen:
        return None
    suffix = literals[-1] if parsed[-1][1] is None else ""
    return _Pattern(re.compile("".join(pieces), re.DOTALL), text, literals[0], suffix, max(literals, key=len))


def _patterns(language: str) -> list[_Pattern]:
    compiled = _PATTERNS.get(language)
    if compiled is None:
        found = [p for key, text in _CATALOGUE.get(language, {}).items() if "{" in key and (p := _compile(key, text))]
        found.sort(key=lambda p: -len(p.regex.pattern))  # the most specific pattern first
        compiled = _PATTERNS[language] = found
    return compiled


def entry(message: str, language: str) -> str | None:
    """The catalogue's own entry for exactly *message* (no patterns), or None."""
    return _CATALOGUE.get(language, {}).get(message)


def _lookup_one(message: str, language: str) -> str | None:
    catalogue = _CATALOGUE.get(language, {})
    exact = catalogue.get(message)
    if exact is not None:
        return exact
    for pattern in _patterns(language):
        match = pattern.match(message)
        if match is not None:
            values = {name: catalogue.get(value, value) for name, value in match.groupdict().items()}
            try:
                return pattern.text.format(**values)
            except (KeyError, IndexError, ValueError):
                return None
    return None


_MESSAGE_PARTS = 3
"""At most this many "; "-parts in one message outside its ``examples`` (bounds the work of a long text)."""


def _starts_message(parts: list[str], start: int, language: str) -> bool:
    return any(
        _lookup_one(PART_SEPARATOR.join(parts[start:end]), language) is not None
        for end in range(start + 1, min(len(parts), start + _MESSAGE_PARTS) + 1)
    )


CACHED_LENGTH = 1000
"""Answers for texts up to this long are cached (4096 of them: a few MB at most); a job message may be
10,000 characters, and a page rarely shows many of those."""


def lookup(message: str, language: str) -> str | None:
    """*message* in *language*, or None when the catalogue cannot translate all of it.

    A text joined with "; " is read part by part: the shortest run of parts that translates is one
    message, and it takes in the parts after it (more samples of its ``examples`` field) until a part
    begins another message. So "450 records …, e.g. a; b; 2 other things" is two messages.
    Answers are cached (a job list shows the same messages on every view), cleared by :func:`add_messages`.
    """
    if len(message) <= CACHED_LENGTH:
        return _cached_lookup(message, language)
    return _lookup(message, language)


def _lookup(message: str, language: str) -> str | None:
    exact = _CATALOGUE.get(language, {}).get(message)
    if exact is not None:
        return exact
    parts = message.split(PART_SEPARATOR)
    out: list[str] = []
    start = 0
    while start < len(parts):
        for end in range(start + 1, min(len(parts), start + _MESSAGE_PARTS) + 1):
            piece = _lookup_one(PART_SEPARATOR.join(parts[start:end]), language)
            if piece is not None:
                break
        else:
            return None
        while end < len(parts) and not _starts_message(parts, end, language):
            longer = _lookup_one(PART_SEPARATOR.join(parts[start : end + 1]), language)
            if longer is None:
                break
            piece, end = longer, end + 1
        out.append(piece)
        start = end
    return PART_SEPARATOR.join(out)


_cached_lookup = functools.lru_cache(maxsize=4096)(_lookup)


def translate(message: str, language: str) -> str:
    """*message* in *language*; the English text itself when the catalogue has no entry."""
    found = lookup(message, language)
    return message if found is None else found


def add_plugin_messages(names: Iterable[str]) -> None:
    """Add the ``PL``/``EN`` dicts of each installed plugin's ``messages`` module, enabled or not.

    The settings and plugins pages describe every installed plugin, so a plugin that is not enabled
    (its views never imported) still needs its texts there. A plugin without such a module is skipped.
    """
    for name in names:
        for package in (f"plugins.{name}", f"lmsplugins_ext.{name}"):
            try:
                module = importlib.import_module(f"{package}.messages")
            except ImportError:
                continue
            for language, attribute in (("pl", "PL"), ("en", "EN")):
                messages = getattr(module, attribute, None)
                if isinstance(messages, Mapping):
                    add_messages(language, messages)
            break


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
