"""The redactor: placeholders, counts, overlap resolution, URLs and failing closed."""

from __future__ import annotations

import types
from dataclasses import dataclass

import pytest

import apprentice.redact as redact
from apprentice.errors import ConfigError
from apprentice.redact import (
    RECOGNIZERS,
    Finding,
    OrgDirectory,
    Redactor,
    RedactorConfig,
    build_redactor,
    safe_redact,
    safe_redact_url,
)


@dataclass
class Fixed:
    """A recognizer that returns the findings it was given."""

    findings: list[Finding]
    name: str = "fixed"
    entities: tuple[str, ...] = ("A", "B")

    def find(self, text: str) -> list[Finding]:
        return list(self.findings)


class Broken:
    name = "broken"
    entities = ("A",)

    def find(self, text: str) -> list[Finding]:
        raise RuntimeError("boom")


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return build_redactor()


def test_when_text_has_pii_then_typed_placeholders_and_counts(redactor):
    result = redactor.redact(
        "Mail jane@example.com or bob@example.org, card 4111 1111 1111 1111, "
        "key AKIAIOSFODNN7EXAMPLE, from 10.1.2.3"
    )
    assert result.text == (
        "Mail <EMAIL_ADDRESS> or <EMAIL_ADDRESS>, card <CREDIT_CARD>, key <SECRET>, "
        "from <IP_ADDRESS>"
    )
    assert result.counts == {"EMAIL_ADDRESS": 2, "CREDIT_CARD": 1, "SECRET": 1, "IP_ADDRESS": 1}


def test_when_text_is_clean_then_it_is_unchanged(redactor):
    text = "git checkout 9fceb02 && pip install foo==1.2.3.4 # ticket ORD-2024-000123"
    result = redactor.redact(text)
    assert (result.text, result.counts) == (text, {})


@pytest.mark.parametrize(
    ("findings", "expected"),
    [
        # Longest wins, and the whole overlapping span is replaced.
        ([Finding("A", 0, 4, 0.9), Finding("B", 2, 8, 0.5)], "<B>89"),
        # Equal length: higher score wins.
        ([Finding("A", 0, 4, 0.5), Finding("B", 0, 4, 0.9)], "<B>456789"),
        # A finding inside another.
        ([Finding("A", 0, 8, 0.5), Finding("B", 2, 4, 1.0)], "<A>89"),
        # Touching spans stay separate.
        ([Finding("A", 0, 2, 0.5), Finding("B", 2, 4, 0.5)], "<A><B>456789"),
        # A chain of overlaps is one cluster.
        ([Finding("A", 0, 3, 0.5), Finding("A", 2, 5, 0.5), Finding("B", 4, 9, 0.5)], "<B>9"),
    ],
)
def test_overlapping_findings_are_merged(findings, expected):
    result = Redactor([Fixed(findings)]).redact("0123456789")
    assert result.text == expected
    assert sum(result.counts.values()) == expected.count("<")


def test_findings_below_min_score_or_out_of_range_are_ignored():
    fixed = Fixed([Finding("A", 0, 2, 0.2), Finding("B", 5, 50, 1.0), Finding("B", 3, 3, 1.0)])
    assert Redactor([fixed], min_score=0.3).redact("0123456789").text == "0123456789"


def test_when_a_recognizer_fails_then_safe_redact_drops_the_item():
    redactor = Redactor([Broken()])
    with pytest.raises(RuntimeError):
        redactor.redact("jane@example.com")
    assert safe_redact(redactor, "jane@example.com") is None
    assert safe_redact_url(redactor, "https://example.com/a") is None


def test_safe_redact_refuses_non_text(redactor):
    assert safe_redact(redactor, b"bytes") is None  # type: ignore[arg-type]
    assert safe_redact(redactor, "ok") == "ok"


@pytest.mark.parametrize(
    ("url", "expected", "counts"),
    [
        ("https://example.com/a/b?q=jane@example.com#frag", "https://example.com/a/b", {}),
        ("https://bob:hunter2@example.com:8443/x", "https://example.com:8443/x", {}),
        (
            "https://example.com/users/jane%40example.com/edit",
            "https://example.com/users/<EMAIL_ADDRESS>/edit",
            {"EMAIL_ADDRESS": 1},
        ),
        ("http://10.0.0.7:8080/admin", "http://<IP_ADDRESS>:8080/admin", {"IP_ADDRESS": 1}),
        ("http://[2001:db8::1]/", "http://<IP_ADDRESS>/", {"IP_ADDRESS": 1}),
        ("http://[::1]/", "http://<IP_ADDRESS>/", {"IP_ADDRESS": 1}),
        ("https://example.com/a%20b", "https://example.com/a%20b", {}),
    ],
)
def test_redact_url_drops_query_fragment_and_credentials(redactor, url, expected, counts):
    result = redactor.redact_url(url)
    assert (result.text, result.counts) == (expected, counts)


def test_when_policy_keeps_queries_then_values_are_redacted():
    redactor = build_redactor(RedactorConfig(keep_url_query=True))
    result = redactor.redact_url("https://example.com/s?q=jane@example.com&page=2#x")
    assert result.text == "https://example.com/s?q=<EMAIL_ADDRESS>&page=2"
    assert result.counts == {"EMAIL_ADDRESS": 1}


def test_directory_is_added_when_given():
    redactor = build_redactor(RedactorConfig(directory=OrgDirectory(names=("Jane Doe",))))
    assert redactor.redact("ask jane doe").text == "ask <PERSON>"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (RedactorConfig(recognizers=()), "at least one recognizer"),
        (RedactorConfig(recognizers=("email", "emial")), "unknown recognizer 'emial'"),
        (RedactorConfig(recognizers=("directory",)), "needs an organisation directory"),
        (RedactorConfig(min_score=2.0), "min_score"),
    ],
)
def test_bad_config_is_refused(config, message):
    with pytest.raises(ConfigError, match=message):
        build_redactor(config)


def test_a_subset_of_recognizers_can_be_chosen():
    redactor = build_redactor(RedactorConfig(recognizers=("email",)))
    assert redactor.redact("jane@example.com 10.0.0.1").text == "<EMAIL_ADDRESS> 10.0.0.1"


@pytest.mark.parametrize("name", sorted(RECOGNIZERS))
def test_every_registered_recognizer_builds_and_is_consistent(name):
    directory = OrgDirectory(names=("Jane Doe",)) if name == "directory" else None
    redactor = build_redactor(RedactorConfig(recognizers=(name,), directory=directory))
    (recognizer,) = redactor.recognizers
    assert recognizer.name == name
    assert recognizer.entities
    assert isinstance(recognizer.find("nothing to see here"), list)


def test_all_lists_exactly_the_public_names():
    public = {
        name
        for name, value in vars(redact).items()
        if not name.startswith("_")
        and name != "annotations"
        and not isinstance(value, types.ModuleType)
        and getattr(value, "__module__", "apprentice.redact").startswith("apprentice.redact")
    }
    assert set(redact.__all__) == public
