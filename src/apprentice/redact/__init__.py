"""On-device redaction of secrets and personal data in text (DESIGN promise 2).

The registry below names every recognizer, read top to bottom; :func:`build_redactor`
imports the chosen ones lazily and fails with the valid choices. ``directory`` is the
organisation directory and is enabled by passing one in :class:`RedactorConfig`.
There is no setting that turns redaction off: an empty recognizer list is refused.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from apprentice.errors import ConfigError
from apprentice.redact.base import Finding, Pattern, PatternRecognizer, Recognizer
from apprentice.redact.recognizers.directory import OrgDirectory
from apprentice.redact.redactor import (
    RedactionResult,
    Redactor,
    placeholder,
    safe_redact,
    safe_redact_url,
)

#: name → (module, class). Order does not affect results (overlaps are merged).
RECOGNIZERS: dict[str, tuple[str, str]] = {
    "secret": (".recognizers.secret", "SecretRecognizer"),
    "entropy": (".recognizers.entropy", "HighEntropyRecognizer"),
    "email": (".recognizers.email", "EmailRecognizer"),
    "phone": (".recognizers.phone", "PhoneRecognizer"),
    "card": (".recognizers.card", "CreditCardRecognizer"),
    "iban": (".recognizers.iban", "IbanRecognizer"),
    "national_id": (".recognizers.national_id", "NationalIdRecognizer"),
    "ip": (".recognizers.ip", "IpAddressRecognizer"),
    "address": (".recognizers.address", "StreetAddressRecognizer"),
    "directory": (".recognizers.directory", "DirectoryRecognizer"),
}
DEFAULT_RECOGNIZERS = tuple(name for name in RECOGNIZERS if name != "directory")


@dataclass(frozen=True, slots=True)
class RedactorConfig:
    """Which recognizers to run, the organisation directory, and URL query handling."""

    recognizers: tuple[str, ...] = DEFAULT_RECOGNIZERS
    directory: OrgDirectory | None = None
    min_score: float = 0.0
    keep_url_query: bool = False


def build_redactor(config: RedactorConfig | None = None) -> Redactor:
    """Build the redactor ``config`` describes (all built-in recognizers by default).

    Raises:
        ConfigError: no recognizers, an unknown name, or ``directory`` without one.
    """
    config = config or RedactorConfig()
    names = list(dict.fromkeys(config.recognizers))
    if not names:
        raise ConfigError("redaction needs at least one recognizer; it cannot be turned off")
    unknown = [n for n in names if n not in RECOGNIZERS]
    if unknown:
        raise ConfigError(
            f"unknown recognizer {unknown[0]!r}; choose from {sorted(RECOGNIZERS)}"
        )
    if "directory" in names and config.directory is None:
        raise ConfigError("the 'directory' recognizer needs an organisation directory")
    if config.directory is not None and "directory" not in names:
        names.append("directory")
    if not 0.0 <= config.min_score <= 1.0:
        raise ConfigError("min_score must be between 0 and 1")
    recognizers: list[Recognizer] = []
    for name in names:
        module_name, class_name = RECOGNIZERS[name]
        cls = getattr(importlib.import_module(module_name, __package__), class_name)
        recognizers.append(cls(config.directory) if name == "directory" else cls())
    return Redactor(
        recognizers, min_score=config.min_score, keep_url_query=config.keep_url_query
    )


__all__ = [
    "DEFAULT_RECOGNIZERS",
    "RECOGNIZERS",
    "Finding",
    "OrgDirectory",
    "Pattern",
    "PatternRecognizer",
    "Recognizer",
    "RedactionResult",
    "Redactor",
    "RedactorConfig",
    "build_redactor",
    "placeholder",
    "safe_redact",
    "safe_redact_url",
]
