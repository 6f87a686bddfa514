"""core.redact: one person's data found in free text as people write it."""

import datetime

import pytest

from core.redact import MARKER, PersonalData, Redactor

PERSON = PersonalData(
    first_name="Zebulon", last_name="Quixoticus", email="zebulon.canary@quixotic-mail.test",
    phone="+447700900123", date_of_birth=datetime.date(1971, 7, 9),
    address="42 Canarywharf Lane, Quillby, QB1 2ZZ")


@pytest.fixture
def full():
    return Redactor.for_person(PERSON, region="GB")


@pytest.fixture
def distinctive():
    return Redactor.for_person(PERSON, distinctive=True, region="GB")


@pytest.mark.parametrize("written", [
    "Zebulon", "QUIXOTICUS", "quixoticus", "Zebulon Quixoticus", "Quixoticus, Zebulon",
    "ZEBULON.CANARY@QUIXOTIC-MAIL.TEST",
    "+44 7700 900123", "07700 900123", "07700-900-123", "(07700) 900 123", "+44 (0)7700 900123",
    "0044 7700 900123", "447700900123",
    "1971-07-09", "09/07/1971", "9/7/1971", "9.7.71", "07/09/1971", "9 July 1971",
    "9th July 1971", "9th of July 1971", "Jul 9, 1971", "July 9th, 1971", "09-Jul-1971",
    "19710709",
    "42 Canarywharf Lane", "42 canarywharf lane,  Quillby, QB1 2ZZ", "Quillby", "QB1 2ZZ",
])
def test_each_way_of_writing_it_is_replaced(full, written):
    assert full.text(f"Spoke to {written} today.") == f"Spoke to {MARKER} today."


@pytest.mark.parametrize("kept", [
    "Zebulonia", "Quixoticusian", "zebulonx", "07700 900124", "1977009001234",
    "1971-07-19", "19/07/1971", "8 July 1971", "July 1971", "42 Canarywharf Road",
    "£1,971.07",
])
def test_look_alikes_are_kept(full, kept):
    assert full.text(f"Note: {kept}.") == f"Note: {kept}."


def test_distinctive_keeps_single_names_places_and_dates(distinctive):
    text = "Zebulon from Quillby, born 9 July 1971, met Zebulon Quixoticus at 42 Canarywharf Lane."
    assert distinctive.text(text) == (
        f"Zebulon from Quillby, born 9 July 1971, met {MARKER} at {MARKER}.")


def test_json_values_are_scrubbed_and_keys_kept(full):
    value = {"description": ["", "Quixoticus hit a wall"], "n": 3, "nested": [{"x": "Zebulon"}]}
    assert full.value(value) == {"description": ["", f"{MARKER} hit a wall"], "n": 3,
                                 "nested": [{"x": MARKER}]}


@pytest.mark.parametrize(("name", "expected"), [
    ("Quixoticus-invoice.pdf", "erased-invoice.pdf"),
    ("zebulon_quixoticus_statement.PDF", "erased-statement.PDF"),
    ("photo.jpg", "photo.jpg"),
    ("Quixoticus", "erased"),
])
def test_file_names_lose_the_name_and_keep_the_extension(full, name, expected):
    assert full.filename(name) == expected


def test_an_empty_person_matches_nothing():
    redactor = Redactor.for_person(PersonalData())
    assert not redactor and redactor.text("anything") == "anything"
