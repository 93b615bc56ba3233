"""Window matching: does a window belong to an app, a title pattern or a web domain?

Used by both the organisation's allowlist and the built-in denylist, so allow and deny
mean exactly the same thing. Matching is pure and never records what it looked at.

Semantics (documented for policy authors in ``docs/privacy.md``):

* ``AppRule`` fields are compared case-insensitively; every field given must match.
  ``process`` ignores a trailing ``.exe``; ``window_class`` matches the X11 WM_CLASS
  instance or class (``WindowInfo.instance`` or ``app_id``).
* Title patterns are Python regular expressions applied with ``re.search``.
* ``DomainRule("example.com")`` matches the host and every subdomain
  (``a.b.example.com``), never a look-alike (``badexample.com``); ``*.example.com``
  matches subdomains only. A host pattern (``host_regex``) is searched in the host.
  Ports, user info, path, query and fragment play no part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from apprentice.events import WindowInfo


def _norm(value: str | None) -> str | None:
    return None if value is None else value.strip().casefold()


def _process_name(value: str | None) -> str | None:
    name = _norm(value)
    if name is None:
        return None
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return name[:-4] if name.endswith(".exe") else name


@dataclass(frozen=True, slots=True)
class AppRule:
    """One application, identified by any combination of id, process and window class."""

    app_id: str | None = None
    process: str | None = None
    window_class: str | None = None

    def __post_init__(self) -> None:
        if self.app_id is None and self.process is None and self.window_class is None:
            raise ValueError("an app rule needs app_id, process or window_class")

    def matches(self, window: WindowInfo) -> bool:
        if self.app_id is not None and _norm(window.app_id) != _norm(self.app_id):
            return False
        if self.process is not None and _process_name(window.process) != _process_name(
            self.process
        ):
            return False
        if self.window_class is not None:
            wanted = _norm(self.window_class)
            if wanted not in (_norm(window.instance), _norm(window.app_id)):
                return False
        return True


@dataclass(frozen=True, slots=True)
class DomainRule:
    """A web domain: ``example.com`` (host and subdomains) or ``*.example.com``."""

    domain: str

    def matches(self, host: str) -> bool:
        if self.domain.startswith("*."):
            return host.endswith(self.domain[1:])
        return host == self.domain or host.endswith("." + self.domain)


def url_host(url: str | None) -> str | None:
    """Return the lower-case host of an absolute URL, or None if it has none."""
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host.rstrip(".") if host else None


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Apps, title patterns, domains and host patterns; a window matching any one matches."""

    apps: tuple[AppRule, ...] = ()
    titles: tuple[re.Pattern[str], ...] = ()
    domains: tuple[DomainRule, ...] = ()
    host_patterns: tuple[re.Pattern[str], ...] = field(default=())
    roles: tuple[re.Pattern[str], ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.apps or self.titles or self.domains or self.host_patterns or self.roles)

    def matches(self, window: WindowInfo) -> bool:
        if any(rule.matches(window) for rule in self.apps):
            return True
        if window.title and any(p.search(window.title) for p in self.titles):
            return True
        if window.role and any(p.search(window.role) for p in self.roles):
            return True
        host = url_host(window.url)
        if host is None:
            return False
        if any(rule.matches(host) for rule in self.domains):
            return True
        return any(p.search(host) for p in self.host_patterns)
