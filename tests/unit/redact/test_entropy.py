"""High-entropy tokens: random strings are flagged, structured look-alikes are not."""

from __future__ import annotations

import pytest

from apprentice.redact.recognizers.entropy import (
    HighEntropyRecognizer,
    looks_random,
    shannon_entropy,
)


@pytest.mark.parametrize(
    "token",
    [
        "Zx9Kq2Lm8Np4Rt6Vw1Yb3",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "dGhpcyBpcyBhIHNlY3JldCBrZXkgMTIzNDU2Nzg5MA==",
        "k3j9x2m8q4w7z1p5r6t0y2u8",
        "Hq_3kd-9Fz_Lp2-Xw8_Nb5-Rt7",
    ],
)
def test_random_tokens_are_flagged(token):
    assert looks_random(token)
    found = HighEntropyRecognizer().find(f"value: {token} end")
    assert [f.entity for f in found] == ["SECRET"]


@pytest.mark.parametrize(
    "token",
    [
        "9fceb02d0ae598e95dc970b74767f19372d61af8",  # git commit
        "9fceb02",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  # sha256
        "123e4567-e89b-12d3-a456-426614174000",  # UUID
        "1.2.3-beta.4+build.567",
        "ORD-2024-000123456",
        "INV-2024-03-000042-DE",
        "2024-01-15T10:30:00.123456Z",
        "978-3-16-148410-0",
        "1705320000000000000",
        "getUserAccountSettingsById",
        "test_when_condition_then_result",
        "src/apprentice/redact/recognizers/entropy",
        "ThisIsAVeryLongCamelCaseClassName2",
        "AbstractSingletonProxyFactoryBean",
        "python3.11-dev_amd64",
        "node_modules/@types/node/index.d.ts",
        "aaaaaaaaaaaaaaaaaaaaaaaa1234",
        "short1A",
    ],
)
def test_structured_look_alikes_are_not_flagged(token):
    assert HighEntropyRecognizer().find(f"value: {token} end") == []


def test_shannon_entropy():
    assert shannon_entropy("aaaa") == 0
    assert shannon_entropy("abcd") == 2
