"""Credentials with a recognisable shape: cloud and forge tokens, JWTs, PEM private keys
and ``password=``-style assignments. All are reported as ``SECRET``.

Token formats come from the issuers' public documentation: AWS access key ids
(``AKIA…``/``ASIA…``), AWS secret keys next to an AWS/secret label, Google API keys
(``AIza…``), Google OAuth client secrets (``GOCSPX-``) and access tokens (``ya29.``),
Azure storage account keys (``AccountKey=``) and Entra ID client secrets (``…8Q~…``),
GitHub (``ghp_``, ``gho_``, ``ghu_``, ``ghs_``, ``ghr_``, ``github_pat_``), GitLab
(``glpat-`` and siblings), Slack (``xox?-`` tokens, incoming-webhook URLs), Stripe,
npm and PyPI tokens, OpenAI keys, JWTs (RFC 7519 compact form), PEM private keys
(RFC 7468; an unterminated block is redacted to the end of the text, since typed text
may stop mid-key) and ``Authorization: Bearer`` values.

Assignments (``password=…``, ``passwd: …``, ``secret = "…"``, ``api_key=…``,
``token: …``) redact the value only; obvious placeholders (``None``, ``null``, ``***``,
``<password>``, ``${VAR}``) are left alone.
"""

from __future__ import annotations

import re

from apprentice.redact.base import Pattern, PatternRecognizer

_TOKENS = (
    r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16}",
    r"AIza[0-9A-Za-z_-]{35}",
    r"GOCSPX-[0-9A-Za-z_-]{28}",
    r"ya29\.[0-9A-Za-z_-]{20,}",
    r"[0-9A-Za-z_~.-]{3}\dQ~[0-9A-Za-z_~.-]{31,34}",
    r"gh[pousr]_[A-Za-z0-9]{36,255}",
    r"github_pat_[A-Za-z0-9_]{22,255}",
    r"gl(?:pat|dt|ptt|rt|soat|cbt|imt|ffct|oas|agent)-[0-9A-Za-z_-]{20,}",
    r"xox[abposre]-[0-9A-Za-z-]{10,}",
    r"xapp-\d-[0-9A-Za-z-]{10,}",
    r"(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,}",
    r"whsec_[0-9A-Za-z]{24,}",
    r"npm_[0-9A-Za-z]{36}",
    r"pypi-AgE[0-9A-Za-z_-]{50,}",
    r"sk-(?:proj-|ant-)?[0-9A-Za-z_-]{32,}",
    r"eyJ[0-9A-Za-z_-]{8,}\.eyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]*",
)
_TOKEN = re.compile(r"(?<![0-9A-Za-z_-])(?:" + "|".join(_TOKENS) + r")(?![0-9A-Za-z_-])")
_SLACK_WEBHOOK = re.compile(
    r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[0-9A-Za-z/_-]+"
)
_PEM = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
    r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|.*\Z)",
    re.DOTALL,
)
_AZURE_ACCOUNT_KEY = re.compile(r"AccountKey=([0-9A-Za-z+/]{86}==)")
_AWS_SECRET = re.compile(
    r"(?i)aws.{0,24}?(?:secret|private).{0,16}?[\s:=\"']+([0-9A-Za-z/+]{40})(?![0-9A-Za-z/+])"
)
_BEARER = re.compile(r"(?i)\bbearer\s+([0-9A-Za-z._~+/-]{16,}=*)")
_ASSIGNMENT = re.compile(
    r"(?i)(?<![A-Za-z0-9-])(?:password|passwd|passwort|pwd|passphrase|secret|client[_-]?secret"
    r"|api[_-]?key|apikey|access[_-]?key|secret[_-]?key|private[_-]?key|auth[_-]?token"
    r"|access[_-]?token|refresh[_-]?token|token)[\"']?\s*(?::=|=>|[:=])\s*"
    r"(\"[^\"\n]+\"|'[^'\n]+'|[^\s,;\"'`)}\]]+)"
)
_PLACEHOLDER = re.compile(
    r"^[\"']?(?:none|null|nil|undefined|true|false|\*+|x+|\.+|<[^>]*>|\$\{?\w+\}?"
    r"|%\(?\w+\)?s?|\{\{?[^}]*\}\}?|os\.environ.*|getenv.*|input\(.*)[\"']?$",
    re.IGNORECASE,
)


def _not_placeholder(value: str) -> bool:
    return _PLACEHOLDER.match(value) is None


class SecretRecognizer(PatternRecognizer):
    name = "secret"
    entity = "SECRET"
    patterns = (
        Pattern(_PEM, 1.0),
        Pattern(_TOKEN, 0.95),
        Pattern(_SLACK_WEBHOOK, 0.95),
        Pattern(_AZURE_ACCOUNT_KEY, 0.95, group=1),
        Pattern(_AWS_SECRET, 0.9, group=1),
        Pattern(_BEARER, 0.9, group=1),
        Pattern(_ASSIGNMENT, 0.85, group=1, validate=_not_placeholder),
    )
