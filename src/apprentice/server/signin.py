"""Signing people in to the portal: password hashes, browser sessions, and a login throttle.

Passwords are hashed with scrypt (RFC 7914) from the standard library at the OWASP Password
Storage Cheat Sheet parameters (N=2^17, r=8, p=1, 128 MiB): a memory-hard, current algorithm
with no native dependency to build. A hash names its parameters, so they can be raised later
and old hashes still verify. A session is a random 32-byte id in a cookie; the database keeps
only its SHA-256 (as for API tokens), an expiry and the session's CSRF token.

:class:`SignIn` is the seam for other identity providers (OIDC): something that turns what
the browser sent into an account. :class:`LocalSignIn` checks a login and password against
the accounts table. Nothing here logs a login name, password, session id or token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from apprentice.server.storage.metadata import AccountRow, MetadataStore

SESSION_COOKIE = "apprentice_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MIN_PASSWORD_LENGTH = 12
_SCRYPT = {"n": 2**17, "r": 8, "p": 1}
_MAXMEM = 256 * 1024 * 1024


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash`` for a password; ValueError if it is too short."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, maxmem=_MAXMEM, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored``; False for any malformed hash."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p),
                                dklen=32, maxmem=_MAXMEM)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, _unb64(digest))


# A hash of a random password: a login that does not exist costs the same time as a wrong
# password, so response times do not tell which login names exist.
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
    return _DUMMY_HASH


def set_password(metadata: MetadataStore, account_id: str, login: str, password: str) -> None:
    """Let an account sign in to the portal as ``login`` with ``password``.

    ValueError (saying what to do) for a bad login name, a short password, an unknown account
    or a login another account already uses.
    """
    from sqlalchemy.exc import IntegrityError

    if not LOGIN_PATTERN.match(login):
        raise ValueError("a login is 1-64 of [a-z0-9._-], starting with a letter or digit")
    try:
        found = metadata.set_login(account_id, login, hash_password(password))
    except IntegrityError:
        raise ValueError("another account already uses this login; choose another") from None
    if not found:
        raise ValueError("no such account; list the account ids with the command that created them")


class SignIn(Protocol):
    """Turns the credentials a browser submitted into an account (or None).

    The embedded default is :class:`LocalSignIn` (login + password). An OIDC provider would
    implement the same method over the authorisation-code flow's ID token, mapping its
    ``sub`` claim to an account; the session and CSRF handling stay as they are.
    """

    def authenticate(self, login: str, password: str) -> AccountRow | None: ...


class LocalSignIn:
    def __init__(self, metadata: MetadataStore) -> None:
        self.metadata = metadata

    def authenticate(self, login: str, password: str) -> AccountRow | None:
        found = self.metadata.account_by_login(login) if LOGIN_PATTERN.match(login) else None
        if found is None:
            verify_password(password, _dummy_hash())
            return None
        account, stored = found
        if not verify_password(password, stored) or account.disabled:
            return None
        return account


@dataclass(frozen=True, slots=True)
class PortalSession:
    account: AccountRow
    csrf_token: str


class Sessions:
    """Browser sessions in the metadata database (so every collector replica sees them)."""

    def __init__(self, metadata: MetadataStore, lifetime: timedelta = timedelta(hours=8)) -> None:
        self.metadata = metadata
        self.lifetime = lifetime

    @staticmethod
    def _key(session_id: str) -> str:
        return hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()

    def open(self, account: AccountRow, now: datetime) -> tuple[str, PortalSession]:
        """A new session for ``account``: (the id for the cookie, the session)."""
        session_id = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        self.metadata.add_session(self._key(session_id), account.id, csrf, now, now + self.lifetime)
        return session_id, PortalSession(account, csrf)

    def resolve(self, session_id: str, now: datetime) -> PortalSession | None:
        """The live session with this id, or None (unknown, expired, or account disabled)."""
        if not session_id or len(session_id) > 128:
            return None
        found = self.metadata.session(self._key(session_id), now)
        if found is None or found[0].disabled:
            return None
        return PortalSession(found[0], found[1])

    def close(self, session_id: str) -> None:
        self.metadata.delete_sessions(id_sha256=self._key(session_id))

    def purge(self, now: datetime) -> int:
        return self.metadata.delete_sessions(expired_at=now)


def csrf_matches(session: PortalSession, submitted: str | None) -> bool:
    return submitted is not None and hmac.compare_digest(session.csrf_token.encode(), submitted.encode())


class LoginThrottle:
    """At most ``per_login`` failed sign-ins per login name and ``per_address`` per client
    address in ``window_s`` seconds (keyed by hashes, never kept in clear): guessing one
    account's password is slow, and one address cannot spray many accounts. Process-local:
    behind a load balancer each replica counts on its own (bound: replicas × limit)."""

    def __init__(self, per_login: int = 5, per_address: int = 30, window_s: float = 300.0) -> None:
        self.limits = (per_address, per_login)
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _keys(client: str, login: str) -> tuple[str, str]:
        return (hashlib.sha256(b"ip\0" + client.encode()).hexdigest(),
                hashlib.sha256(b"login\0" + login.encode("utf-8", "replace")).hexdigest())

    def blocked(self, client: str, login: str, now: float) -> bool:
        with self._lock:
            return any(self._count(key, now) >= limit
                       for key, limit in zip(self._keys(client, login), self.limits, strict=True))

    def failed(self, client: str, login: str, now: float) -> None:
        with self._lock:
            for key in self._keys(client, login):
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, client: str, login: str) -> None:
        with self._lock:
            self._failures.pop(self._keys(client, login)[1], None)

    def _count(self, key: str, now: float) -> int:
        times = self._failures.get(key)
        if not times:
            return 0
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return len(times)
