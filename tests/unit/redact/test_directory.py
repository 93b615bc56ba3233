"""The organisation directory: exact, case-insensitive, word-bounded matches."""

from __future__ import annotations

import pytest

from apprentice.redact import OrgDirectory
from apprentice.redact.recognizers.directory import DirectoryRecognizer

DIRECTORY = OrgDirectory(
    names=("Jane Doe", "Ólafur Arnalds", "Li Wei"),
    emails=("jane.doe@corp.example",),
    phones=("+44 20 7946 0000",),
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ask JANE DOE about it", [("PERSON", "JANE DOE")]),
        ("cc Jane  Doe", [("PERSON", "Jane  Doe")]),
        ("from ólafur arnalds", [("PERSON", "ólafur arnalds")]),
        ("Li Wei, Jane Doe", [("PERSON", "Li Wei"), ("PERSON", "Jane Doe")]),
        ("write to Jane.Doe@corp.example", [("EMAIL_ADDRESS", "Jane.Doe@corp.example")]),
        ("ring +44 20 7946 0000.", [("PHONE_NUMBER", "+44 20 7946 0000")]),
        ("Janet Doe", []),
        ("JaneDoe", []),
        ("Jane Doerr", []),
        ("Li Weigand", []),
    ],
)
def test_directory(text, expected):
    found = sorted(DirectoryRecognizer(DIRECTORY).find(text), key=lambda f: f.start)
    assert [(f.entity, text[f.start : f.end]) for f in found] == expected


def test_empty_directory_finds_nothing():
    assert DirectoryRecognizer(OrgDirectory()).find("Jane Doe") == []


def test_one_letter_entries_are_refused():
    with pytest.raises(ValueError):
        DirectoryRecognizer(OrgDirectory(names=("J",)))
