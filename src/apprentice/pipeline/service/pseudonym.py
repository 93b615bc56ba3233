"""Pseudonymisation: nothing in a dataset says who, on which machine, or exactly when.

* Contributor ids become per-dataset keyed hashes (:func:`contributor_pseudonym`, HMAC-SHA256
  under a key derived from the dataset key): stable within a dataset, so splits can keep a
  person's episodes together, and unlinkable across datasets.
* User names, host names and home-folder paths are scrubbed from titles, URLs, paths,
  typed text and instructions (:class:`Scrubber`): ``/home/alice/…`` → ``/home/<USER>/…``,
  ``alice@build-07:`` → ``<USER>@<HOST>:``, ``\\\\fileserver\\share`` → ``\\\\<HOST>\\share``,
  internal URL hosts (single-label names, ``localhost``, ``*.local``, ``*.lan``,
  ``*.internal``, ``*.corp``, ``*.home``, ``*.localdomain``, IP addresses) → ``<HOST>``.
  Every name learnt that way is then scrubbed wherever else it appears in the session
  (a terminal title ``alice — zsh``). The contributor and device ids known from the chunk
  headers are scrubbed literally too.
* Times are relative to the episode start (the step rows already are); the only date left
  is the month the episode was recorded (:func:`coarse_month`).
* Device identifiers never enter a row: the chunk header's device id is used for nothing
  but scrubbing, and the spool and session ids only feed keyed hashes.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from apprentice.crypto import derive_key, keyed_hash

USER = "<USER>"
HOST = "<HOST>"
_HOME = re.compile(r"(?P<pre>/home/|/Users/|/var/home/|/export/home/|[A-Za-z]:[\\/]+Users[\\/]+)"
                   r"(?P<name>[^/\\\s:;\"'<>|]+)")
_PROMPT = re.compile(r"(?<![\w.@-])(?P<user>[a-z_][a-z0-9_.-]{0,31})@(?P<host>[A-Za-z0-9][A-Za-z0-9-]{0,62})"
                     r"(?=[:\s]|$)")
_UNC = re.compile(r"\\\\(?P<host>[A-Za-z0-9][A-Za-z0-9.-]{0,62})\\")
_TILDE_USER = re.compile(r"(?<![\w/])~(?P<name>[a-z_][a-z0-9_-]{1,31})(?=/|\s|$)")
_INTERNAL_SUFFIXES = (".local", ".lan", ".internal", ".corp", ".home", ".localdomain", ".intranet")
# Names too generic to scrub everywhere once learnt (they would erase ordinary words).
_GENERIC = frozenset({"root", "user", "admin", "shared", "public", "default", "guest", "home", "localhost"})


def contributor_pseudonym(dataset_key: bytes, dataset: str, contributor_id: str) -> str:
    """The contributor as this dataset names them: ``p-`` and 16 hex digits."""
    return "p-" + keyed_hash(derive_key(dataset_key, f"pseudonym:{dataset}"), contributor_id, 16)


def coarse_month(wall_ns: int | None) -> str | None:
    """``YYYY-MM`` (UTC) of a wall-clock instant, or None if unknown."""
    if wall_ns is None:
        return None
    return datetime.fromtimestamp(wall_ns / 1e9, UTC).strftime("%Y-%m")


def is_internal_host(host: str) -> bool:
    host = host.lower().strip("[]")
    if not host:
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    return "." not in host or host == "localhost" or host.endswith(_INTERNAL_SUFFIXES)


class Scrubber:
    """Scrubs user names, host names and known identifiers from the text of one session."""

    def __init__(self, literals: dict[str, str] | None = None) -> None:
        self.users: set[str] = set()
        self.hosts: set[str] = set()
        self._literals = {k: v for k, v in (literals or {}).items() if k}
        self._pattern: re.Pattern[str] | None = None

    def learn(self, texts: Iterable[str | None]) -> None:
        """Collect user and host names that the patterns reveal in ``texts``."""
        for text in texts:
            if not text:
                continue
            for m in _HOME.finditer(text):
                self._add(self.users, unquote(m.group("name")))
            for m in _TILDE_USER.finditer(text):
                self._add(self.users, m.group("name"))
            for m in _PROMPT.finditer(text):
                self._add(self.users, m.group("user"))
                self._add(self.hosts, m.group("host"))
            for m in _UNC.finditer(text):
                self._add(self.hosts, m.group("host"))
            if "://" in text:
                for word in text.split():
                    if "://" in word:
                        host = _host(word)
                        if host and is_internal_host(host) and host != "localhost":
                            self._add(self.hosts, host)
        self._pattern = None

    def _add(self, bucket: set[str], name: str) -> None:
        if len(name) >= 2 and name.lower() not in _GENERIC and not name.startswith("<"):
            bucket.add(name)

    def scrub(self, text: str | None) -> str | None:
        if text is None:
            return None
        out = _HOME.sub(lambda m: m.group("pre") + USER, text)
        out = _TILDE_USER.sub("~" + USER, out)
        out = _PROMPT.sub(f"{USER}@{HOST}", out)
        out = _UNC.sub(lambda m: "\\\\" + HOST + "\\", out)
        if "://" in out:
            out = " ".join(self.scrub_url(w) if "://" in w else w for w in out.split(" "))
        for literal, placeholder in self._literals.items():
            out = out.replace(literal, placeholder)
        pattern = self._names()
        if pattern is not None:
            out = pattern.sub(lambda m: USER if m.group(0).lower() in self._lower_users else HOST, out)
        return out

    def scrub_url(self, url: str | None) -> str | None:
        if url is None:
            return None
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
        except ValueError:
            return self._scrub_plain(url)
        netloc = parts.netloc
        if host and is_internal_host(host):
            netloc = HOST if parts.port is None else f"{HOST}:{parts.port}"
        elif "@" in netloc:
            netloc = netloc.rsplit("@", 1)[1]
        path = self._scrub_plain(unquote(parts.path)) or ""
        query = self._scrub_plain(unquote(parts.query)) or ""
        return urlunsplit((parts.scheme, netloc, quote(path, safe="/:@!$&'()*+,;=-._~<>"),
                           quote(query, safe="=&:/@!$'()*+,;-._~<>"), ""))

    def _scrub_plain(self, text: str) -> str | None:
        out = _HOME.sub(lambda m: m.group("pre") + USER, text)
        for literal, placeholder in self._literals.items():
            out = out.replace(literal, placeholder)
        pattern = self._names()
        if pattern is not None:
            out = pattern.sub(lambda m: USER if m.group(0).lower() in self._lower_users else HOST, out)
        return out

    @property
    def _lower_users(self) -> set[str]:
        return {u.lower() for u in self.users}

    def _names(self) -> re.Pattern[str] | None:
        if self._pattern is None and (self.users or self.hosts):
            names = sorted(self.users | self.hosts, key=lambda n: (-len(n), n))
            self._pattern = re.compile(
                r"(?<![A-Za-z0-9])(?:" + "|".join(re.escape(n) for n in names) + r")(?![A-Za-z0-9])",
                re.IGNORECASE,
            )
        return self._pattern


def _host(word: str) -> str | None:
    try:
        return urlsplit(word.strip("()[]<>\"',;")).hostname
    except ValueError:
        return None
