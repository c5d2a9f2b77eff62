"""domain.search: the spellings and digits a client is found by, and what a query asks."""

import pytest

from needledesk.domain.search import (
    phone_digits,
    query_terms,
    reads_as,
    search_text,
    spellings,
    words,
)
from needledesk.store import schema


@pytest.mark.parametrize(("name", "typed"), [
    ("Фёдорова", "fedorova"),
    ("Фёдорова", "fyodorova"),
    ("Παπαδοπούλου", "papadopoulou"),
    ("Иванов", "ivanov"),
    ("Хрущёв", "khrushchev"),
    ("Юлия", "yuliya"),
    ("Юлия", "iuliia"),
    ("Γιάννης", "giannis"),
])
def test_latin_spellings_of_other_scripts(name, typed):
    assert typed in spellings(words(name)[0])


def test_latin_names_spell_as_themselves_folded():
    assert spellings("lópez") == ["lopez"]
    assert " lopez ana " in search_text("Ana", "López", None, "GB") + " "


def test_a_word_has_a_bounded_number_of_spellings():
    assert len(spellings("щёйхцюя")) <= 8


def test_a_number_written_nationally_carries_its_international_digits():
    assert phone_digits("07700 900 123", "GB") == ["07700900123", "447700900123"]


def test_a_number_written_internationally_carries_its_national_digits():
    # The clinic's country does not matter for a number with its country code.
    assert phone_digits("+44 7700 900123", "US") == ["447700900123", "07700900123"]


def test_without_a_country_a_national_number_is_found_by_its_digits_only():
    assert phone_digits("07700 900 123", "") == ["07700900123"]


def test_an_odd_phone_keeps_its_digits():
    assert phone_digits("ask at reception 12", "GB") == ["12"]
    assert phone_digits(None, "GB") == []


def test_a_typed_number_reads_by_the_country():
    (term,) = query_terms("+44 7700 900123", "GB")
    assert not term.word and "447700900123" in term.alternatives
    (term,) = query_terms("07700 900 123", "GB")
    assert "447700900123" in term.alternatives and "07700900123" in term.alternatives


def test_a_short_digit_run_is_a_part_of_a_number():
    (term,) = query_terms("900 12", "GB")
    assert term.alternatives == ("90012",) and not term.word
    # The national part of a number's start is too short to look for on its own.
    (term,) = query_terms("+44 77009", "GB")
    assert term.alternatives == ("4477009",)


def test_words_and_digits_mixed():
    terms = query_terms("Ana 0100", "GB")
    assert [(t.alternatives, t.word) for t in terms] == [(("ana",), True), (("0100",), False)]


def test_reads_as_in_latin_spellings():
    assert reads_as("Анна Фёдорова", ["anna", "fyo"])
    assert not reads_as("Анна Фёдорова", ["fyo", "anna"])


@pytest.mark.parametrize(("first", "last", "phone", "country"), [
    ("Анна", "Фёдорова", "07700 900 123", "GB"),
    ("Νίκος", "Παπαδοπούλου", "+30 21 0123 4567", "GR"),
    ("Ana", "López", "+1 555 0100", ""),
    ("Ιωάννης", "Χατζηγεωργίου", "(555) 010-0100", "US"),
    ("李", "小龍", None, "GB"),
    ("Mary", "O'Neill", "call me", "IE"),
    ("Jürgen", "Weiß-Sørensen", "+49 30 1234567", "DE"),
    ("Łukasz", "Þórsson Æbelø", "0049 (30) 123 45 67", "PL"),
    ("Zoë", "Nguyễn Đức", "+84 28 3823 0100", "VN"),
    ("Юлия", "Щукина-Хабибуллина", "8 (912) 345-67-89", "RU"),
])
def test_the_migrations_frozen_copy_gives_the_same_text(first, last, phone, country):
    """Step `client_search_text` filled existing clients with a frozen copy of this module:
    while they agree, stored texts are what today's writes make. A change to domain.search
    fails here: add a migration step that recomputes the stored texts."""
    assert schema._search_text_v1(first, last, phone, country) == \
        search_text(first, last, phone, country)
