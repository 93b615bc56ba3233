"""One table of positives and look-alike negatives per recognizer (Presidio-style).

A positive row says the recognizer finds exactly that substring in the text; a
negative row (expected ``None``) says it finds nothing at all.
"""

from __future__ import annotations

import pytest

from apprentice.redact.recognizers.address import StreetAddressRecognizer
from apprentice.redact.recognizers.card import CreditCardRecognizer
from apprentice.redact.recognizers.email import EmailRecognizer
from apprentice.redact.recognizers.iban import IbanRecognizer
from apprentice.redact.recognizers.ip import IpAddressRecognizer
from apprentice.redact.recognizers.national_id import NationalIdRecognizer
from apprentice.redact.recognizers.phone import PhoneRecognizer
from apprentice.redact.recognizers.secret import SecretRecognizer

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM_CUT = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1c\nabc==\n-----END RSA PRIVATE KEY-----"


def _found(recognizer, text: str) -> set[str]:
    return {text[f.start : f.end] for f in recognizer.find(text)}


def _check(recognizer, text: str, expected: str | None) -> None:
    found = _found(recognizer, text)
    if expected is None:
        assert found == set(), f"unexpected {found}"
    else:
        assert expected in found, f"missed {expected!r}, found {found}"
    for f in recognizer.find(text):
        assert f.entity in recognizer.entities and 0 < f.score <= 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail me at jane.doe@example.com today", "jane.doe@example.com"),
        ("first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk"),
        ("<a@b.io>", "a@b.io"),
        ("user@localhost", None),
        ("npm i @types/node", None),
        ("pip install pkg@1.2.3", None),
        ("icon@2x.png and logo@3x.webp", None),
        ("foo@bar", None),
        ("email: @example.com", None),
    ],
)
def test_email(text, expected):
    _check(EmailRecognizer(), text, expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call +1 415 555 0123", "+1 415 555 0123"),
        ("tel +44 20 7946 0958.", "+44 20 7946 0958"),
        ("+49 30 12345678", "+49 30 12345678"),
        ("+33 1 23 45 67 89", "+33 1 23 45 67 89"),
        ("+41446681800", "+41446681800"),
        ("+1 (415) 555-0123", "+1 (415) 555-0123"),
        ("(415) 555-0123", "(415) 555-0123"),
        ("415-555-0123", "415-555-0123"),
        ("415.555.0123", "415.555.0123"),
        ("020 7946 0958", "020 7946 0958"),
        ("07700 900123", "07700 900123"),
        ("030 12345678", "030 12345678"),
        ("01 23 45 67 89", "01 23 45 67 89"),
        ("2024-01-15 10:30:00", None),
        ("15.01.2024", None),
        ("version 1.2.3.4", None),
        ("host 192.168.1.10", None),
        ("ISBN 978-3-16-148410-0", None),
        ("ISBN 0-306-40615-2", None),
        ("order 4155550123", None),
        ("x+1 = 2", None),
        ("+1 555", None),
        ("price 1 234 567", None),
        ("commit 9fceb02", None),
        ("123e4567-e89b-12d3-a456-426614174000", None),
    ],
)
def test_phone(text, expected):
    _check(PhoneRecognizer(), text, expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("visa 4111111111111111", "4111111111111111"),
        ("4111 1111 1111 1111", "4111 1111 1111 1111"),
        ("4111-1111-1111-1111", "4111-1111-1111-1111"),
        ("mc 5555555555554444", "5555555555554444"),
        ("mc2 2223003122003222", "2223003122003222"),
        ("amex 3714 496353 98431", "3714 496353 98431"),
        ("amex 378282246310005", "378282246310005"),
        ("discover 6011111111111117", "6011111111111117"),
        ("jcb 3530111333300000", "3530111333300000"),
        ("diners 30569309025904", "30569309025904"),
        ("4111111111111112", None),  # fails Luhn
        ("1234567812345670", None),  # passes Luhn, no issuer starts with 1
        ("ts 1705320000000000000", None),
        ("order 9001234567890123", None),
        ("ISBN 978-3-16-148410-0", None),
        ("4111-1111 1111-1111", None),  # mixed separators
        ("v4111111111111111", None),
        ("1.4111111111111111", None),
    ],
)
def test_card(text, expected):
    _check(CreditCardRecognizer(), text, expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("IBAN DE89 3704 0044 0532 0130 00 please", "DE89 3704 0044 0532 0130 00"),
        ("DE89370400440532013000", "DE89370400440532013000"),
        ("GB82WEST12345698765432", "GB82WEST12345698765432"),
        ("GB82 WEST 1234 5698 7654 32", "GB82 WEST 1234 5698 7654 32"),
        ("FR14 2004 1010 0505 0001 3M02 606", "FR14 2004 1010 0505 0001 3M02 606"),
        ("NL91ABNA0417164300.", "NL91ABNA0417164300"),
        ("DE89 3704 0044 0532 0130 00 EUR", "DE89 3704 0044 0532 0130 00"),
        ("DE89 3704 0044 0532 0130 01", None),  # bad check digits
        ("GB82WEST1234569876543", None),  # too short
        ("GB82WEST123456987654321", None),  # too long
        ("XX82WEST12345698765432", None),  # no such country
        ("DE89  3704 0044 0532 0130 00", None),  # double space breaks it
        ("US12 3456", None),
    ],
)
def test_iban(text, expected):
    _check(IbanRecognizer(), text, expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SSN 123-45-6789", "123-45-6789"),
        ("ssn 078 05 1120", "078 05 1120"),
        ("000-12-3456", None),
        ("666-12-3456", None),
        ("900-12-3456", None),
        ("123-00-6789", None),
        ("123-45-0000", None),
        ("123456789", None),
        ("123-45 6789", None),
        ("2024-01-15", None),
        ("555-123-4567", None),
        ("NINO AB 12 34 56 C", "AB 12 34 56 C"),
        ("JG103759A", "JG103759A"),
        ("BG123456A", None),
        ("GB123456A", None),
        ("DA123456A", None),
        ("AO123456A", None),
        ("AB123456E", None),
        ("DNI 12345678Z", "12345678Z"),
        ("12345678-Z", "12345678-Z"),
        ("NIE X1234567L", "X1234567L"),
        ("12345678A", None),
        ("X1234567A", None),
    ],
)
def test_national_id(text, expected):
    _check(NationalIdRecognizer(), text, expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ssh 192.168.1.10", "192.168.1.10"),
        ("http://10.0.0.1:8080/x", "10.0.0.1"),
        ("ping 8.8.8.8.", "8.8.8.8"),
        ("addr 2001:db8::1", "2001:db8::1"),
        ("[fe80::1%eth0]", "fe80::1%eth0"),
        ("localhost ::1", "::1"),
        ("addr 2001:db8::1.", "2001:db8::1"),
        ("2001:0db8:85a3:0000:0000:8a2e:0370:7334", "2001:0db8:85a3:0000:0000:8a2e:0370:7334"),
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
        ("v1.2.3.4", None),
        ("version 1.2.3.4", None),
        ("Version: 1.2.3.4", None),
        ("foo==1.2.3.4", None),
        ("pkg@1.2.3.4", None),
        ("Chrome/120.0.0.0 Safari", None),
        ("1.2.3", None),
        ("1.2.3.4.5", None),
        ("oid 1.3.6.1.4.1", None),
        ("01.02.03.04", None),
        ("256.1.1.1", None),
        ("10:30:00", None),
        ("00:1A:2B:3C:4D:5E", None),
        ("std::vector", None),
        ("Dead::Beef", None),
        ("2024-01-15T10:30:00Z", None),
    ],
)
def test_ip(text, expected):
    _check(IpAddressRecognizer(), text, expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("at 221B Baker Street, London", "221B Baker Street"),
        ("1600 Pennsylvania Avenue NW", "1600 Pennsylvania Avenue NW"),
        ("10 Downing St", "10 Downing St"),
        ("350 Fifth Avenue, Suite 3300", "350 Fifth Avenue, Suite 3300"),
        ("Hauptstraße 12", "Hauptstraße 12"),
        ("Musterstr. 5a", "Musterstr. 5a"),
        ("Keizersgracht 123", "Keizersgracht 123"),
        ("12 rue de la Paix", "12 rue de la Paix"),
        ("Calle Mayor 5", "Calle Mayor 5"),
        ("Via Roma 10", "Via Roma 10"),
        ("Step 3 Drive the car", None),
        ("Chapter 12 Way Forward", None),
        ("Run 5 Unit Tests", None),
        ("see street 5", None),
        ("version 2 release", None),
    ],
)
def test_street_address(text, expected):
    _check(StreetAddressRecognizer(), text, expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
        ("key=AIzaSyA1234567890abcdefghijklmnopqrstuv", "AIzaSyA1234567890abcdefghijklmnopqrstuv"),
        ("GOCSPX-abcdefghijklmnopqrstuvwxyz12", "GOCSPX-abcdefghijklmnopqrstuvwxyz12"),
        ("ya29.a0AfH6SMBx1234567890abcdef", "ya29.a0AfH6SMBx1234567890abcdef"),
        ("abc8Q~abcdefghijklmnopqrstuvwxyz12345", "abc8Q~abcdefghijklmnopqrstuvwxyz12345"),
        (
            "AccountKey=" + "A" * 86 + "==;EndpointSuffix",
            "A" * 86 + "==",
        ),
        ("ghp_" + "a1B2" * 9, "ghp_" + "a1B2" * 9),
        ("github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "github_pat_11ABCDEFG0123456789_abcdefghijklmnop"),  # noqa: E501
        ("MYSQL_ROOT_PASSWORD=t0ps3cret", "t0ps3cret"),
        ("PASSWORD_FILE=/run/secrets/db", None),
        ("glpat-abcdefghij0123456789", "glpat-abcdefghij0123456789"),
        ("xoxb-1234567890-abcdefghij", "xoxb-1234567890-abcdefghij"),
        (
            "https://hooks.slack.com/services/T000/B000/XXXXXXXX",
            "https://hooks.slack.com/services/T000/B000/XXXXXXXX",
        ),
        ("sk_live_abcdefghijklmnop1234", "sk_live_abcdefghijklmnop1234"),
        ("Authorization: Bearer abcdef1234567890abcd", "abcdef1234567890abcd"),
        (f"token {JWT} end", JWT),
        (f"key:\n{PEM}\nrest", PEM),
        (f"typed {PEM_CUT}", PEM_CUT),
        ("password=hunter2", "hunter2"),
        ("passwd: s3cr3t!", "s3cr3t!"),
        ('secret = "my secret value"', '"my secret value"'),
        ("DB_PASSWORD='p@ss w0rd'", "'p@ss w0rd'"),
        ('{"api_key": "abc123"}', '"abc123"'),
        ("password = None", None),
        ("password: ${DB_PASSWORD}", None),
        ("password=<password>", None),
        ("token: ***", None),
        ("the password is in the vault", None),
        ("tests pass: 42", None),
        ("AKIA1234", None),
        ("ghp_short", None),
        ("-----BEGIN PUBLIC KEY-----\nMIIBIjANBg\n-----END PUBLIC KEY-----", None),
        ("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", None),
    ],
)
def test_secret(text, expected):
    _check(SecretRecognizer(), text, expected)
