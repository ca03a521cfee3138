"""The catalogue's lookup: exact texts, patterns with values, and job messages joined with "; "."""

from __future__ import annotations

import pytest

from lmsplugins.web import i18n


@pytest.fixture(autouse=True)
def catalogue(monkeypatch):
    """A private copy of the catalogue, so these entries never leak into other tests."""
    monkeypatch.setattr(i18n, "_CATALOGUE", {"pl": dict(i18n._PL), "en": {}})
    monkeypatch.setattr(i18n, "_PATTERNS", {})
    i18n._cached_lookup.cache_clear()
    i18n.add_messages("pl", {
        "{count} record(s) skipped, e.g. {examples}": "pominięto rekordy: {count}, np. {examples}",
        "account {account} is not linked; not invoiced: {total} zł": "konto {account} nie jest powiązane; "
                                                                     "niezafakturowane: {total} zł",
        "the list is empty; nothing to do": "lista jest pusta; nic do zrobienia",
        "state: {state}": "stan: {state}",
        "done": "zakończone",
    })  # fmt: skip
    yield
    i18n._cached_lookup.cache_clear()


def test_exact_texts_and_english_fallback():
    assert i18n.translate("Log in", "pl") == "Zaloguj"
    assert i18n.translate("Log in", "en") == "Log in"
    assert i18n.lookup("never heard of", "pl") is None
    assert i18n.translate("never heard of", "pl") == "never heard of"


def test_a_pattern_carries_the_values_over_and_translates_a_whole_value():
    assert i18n.lookup("state: done", "pl") == "stan: zakończone"
    assert i18n.lookup("state: weird", "pl") == "stan: weird"
    assert i18n.lookup("status: done", "pl") is None


def test_messages_joined_by_a_run_are_translated_one_by_one():
    one = "account 1011 is not linked; not invoiced: 143.10 zł"
    two = one.replace("1011", "1012").replace("143.10", "9.00")
    assert i18n.lookup(f"{one}; {two}", "pl") == (
        "konto 1011 nie jest powiązane; niezafakturowane: 143.10 zł; "
        "konto 1012 nie jest powiązane; niezafakturowane: 9.00 zł"
    )
    assert i18n.lookup("the list is empty; nothing to do; state: done", "pl") == (
        "lista jest pusta; nic do zrobienia; stan: zakończone"
    )


def test_examples_hold_their_own_separators_until_the_next_message():
    text = "450 record(s) skipped, e.g. #1 a -> b; #2 c -> d; state: done"
    assert i18n.lookup(text, "pl") == "pominięto rekordy: 450, np. #1 a -> b; #2 c -> d; stan: zakończone"


def test_one_untranslated_part_makes_the_whole_text_untranslated():
    assert i18n.lookup("state: done; something new", "pl") is None
    assert i18n.translate("state: done; something new", "pl") == "state: done; something new"


def test_a_text_added_later_is_found_after_a_miss():
    assert i18n.lookup("brand new", "pl") is None
    i18n.add_messages("pl", {"brand new": "nowiutkie"})
    assert i18n.lookup("brand new", "pl") == "nowiutkie"


def test_plugin_messages_modules_are_added_enabled_or_not():
    i18n.add_plugin_messages(["example", "no_such_plugin"])
    assert i18n.translate("Greeting service URL", "pl") == "Adres URL usługi powitań"
    assert i18n.translate("no greeting returned for customer #7", "pl") == "brak powitania dla klienta #7"


def test_a_long_message_is_translated_without_the_cache():
    samples = "; ".join(f"#{i} a -> b" for i in range(300))
    text = f"300 record(s) skipped, e.g. {samples}; state: done"
    assert len(text) > i18n.CACHED_LENGTH
    assert i18n.lookup(text, "pl") == f"pominięto rekordy: 300, np. {samples}; stan: zakończone"
    assert i18n._cached_lookup.cache_info().currsize == 0
