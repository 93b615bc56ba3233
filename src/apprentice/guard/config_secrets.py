"""Check that the config file holds no secrets: they belong in the environment or a vault.

Two passes, neither of which ever prints a value:

1. Structure: every TOML key whose name says secret (``*token*``, ``*secret*``,
   ``*password*``, ``*key*`` …) holding a literal string, unless the name says it is a
   reference (``*_url``, ``*_file``, ``*_path``, ``*_sha256``, ``*_id`` …); and any URL
   value with a password in it (``postgresql://user:pw@host``).
2. Shape: the on-device secret recognizer (``redact.recognizers.secret``: AWS access keys,
   PEM private keys, forge and cloud tokens, ``password = …`` lines) over the raw text, so a
   secret in a comment or under an unexpected key is found too. It reports line numbers.

The project's own recognizer is used rather than detect-secrets: it is already tested on
these shapes and adds no dependency.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any
from urllib.parse import urlsplit

from apprentice.guard.base import Deployment, Problem

_SECRET_WORDS = {"token", "secret", "password", "passwd", "passphrase", "pwd", "key", "apikey",
                 "credential", "credentials", "pass"}
_REFERENCE_ENDINGS = {"url", "uri", "file", "path", "dir", "sha256", "hash", "digest", "id", "arn",
                      "name", "env", "kind", "type", "principals"}


def _secret_named(key: str) -> bool:
    parts = [p for p in re.split(r"[_.\-]", key.lower()) if p]
    return bool(parts) and bool(_SECRET_WORDS & set(parts)) and parts[-1] not in _REFERENCE_ENDINGS


def _walk(value: Any, path: str) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _walk(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, list):
        return [pair for i, v in enumerate(value) for pair in _walk(v, f"{path}[{i}]")]
    return [(path, value)]


def _env_name(deployment: Deployment, dotted: str) -> str:
    return deployment.env_prefix + dotted.rsplit(".", 1)[-1].upper()


def check_config_secrets(deployment: Deployment) -> list[Problem]:
    text, source = deployment.config_text, deployment.config_file
    if text is None:
        return []
    where = f"config file {source}" if source is not None else "the config"
    problems = []
    flagged_keys: set[str] = set()
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        document = {}  # the service reports bad TOML itself; the pattern pass still runs
    for dotted, value in _walk(document, ""):
        if not isinstance(value, str) or not value.strip():
            continue
        leaf = dotted.rsplit(".", 1)[-1]
        if _secret_named(leaf):
            why = "holds a literal secret"
        elif _url_password(value):
            why = "is a URL with a password in it"
        else:
            continue
        flagged_keys.add(leaf)
        problems.append(Problem(
            "config_secrets", "refuse", f"{where}: {dotted} {why}",
            f"remove it from the file and set {_env_name(deployment, dotted)} in the service's "
            "environment (or a secrets manager) instead",
        ))
    problems.extend(_pattern_problems(text, where, flagged_keys))
    return problems


def _url_password(value: str) -> bool:
    if "://" not in value:
        return False
    try:
        return bool(urlsplit(value.strip()).password)
    except ValueError:
        return False


def _pattern_problems(text: str, where: str, flagged_keys: set[str]) -> list[Problem]:
    from apprentice.redact.recognizers.secret import SecretRecognizer

    lines: set[int] = set()
    for finding in SecretRecognizer().find(text):
        line_no = text.count("\n", 0, finding.start) + 1
        line = text.splitlines()[line_no - 1] if text.splitlines() else ""
        key = line.split("=", 1)[0].strip() if "=" in line else ""
        if key in flagged_keys:
            continue  # already named by the structural pass
        lines.add(line_no)
    return [
        Problem("config_secrets", "refuse",
                f"{where}: line {n} contains what looks like a secret (a key, token or password)",
                "remove it from the file and pass it through the environment or a secrets manager")
        for n in sorted(lines)
    ]
