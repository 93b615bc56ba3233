"""Email addresses (RFC 5322 ``addr-spec`` in its common dot-atom form, without ``/`` in
the local part so that ``/users/jane@example.com`` in a path yields only the address).

Not flagged: a local part without a domain (``user@localhost``), scoped package names
(``@types/node``), version pins (``pkg@1.2.3``), and retina image names (``icon@2x.png``).
"""

from __future__ import annotations

import re

from apprentice.redact.base import Pattern, PatternRecognizer

_EMAIL = re.compile(
    r"(?<![\w.!#$%&'*+=?^`{|}~-])"
    r"[A-Za-z0-9!#$%&'*+=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?![\w-])"
)
_IMAGE_SCALE = re.compile(r"@\d+(?:\.\d+)?x\.", re.IGNORECASE)


def _valid(candidate: str) -> bool:
    return _IMAGE_SCALE.search(candidate) is None


class EmailRecognizer(PatternRecognizer):
    name = "email"
    entity = "EMAIL_ADDRESS"
    patterns = (Pattern(_EMAIL, 0.95, validate=_valid),)
