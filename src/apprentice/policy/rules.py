"""The capture policy file: YAML in, a frozen :class:`Policy` out, or a clear error.

A policy is the organisation's statement of what may be captured (DESIGN promise 1):
an allowlist of work apps, title patterns and web domains (default-deny: an empty
allowlist allows nothing), additions to the built-in denylist, work hours, the idle
auto-pause, the pause cap, the exemption flag and URL handling. The format is described
for policy authors in ``docs/privacy.md``.

Validation is strict and total. Unknown keys, wrong types, bad regular expressions,
bad domains, anchors/aliases, duplicate keys and an empty file each raise
:class:`PolicyError` naming the file, the line and what to change. There is no fallback
to defaults for a bad file: the agent must not record under a policy it could not read
(STYLE §6, unlike Presidio's loader). Parsing uses PyYAML's safe composer only, so the
file cannot construct Python objects.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from apprentice.policy.errors import PolicyError
from apprentice.policy.match import AppRule, DomainRule, RuleSet
from apprentice.policy.schedule import DAYS, MINUTES_PER_DAY, Schedule

POLICY_VERSION = 1
MAX_POLICY_BYTES = 1024 * 1024
MAX_PATTERN_LENGTH = 300
DEFAULT_IDLE_PAUSE_SECONDS = 300
DEFAULT_PAUSE_CAP_MINUTES = 30

_TOP_KEYS = (
    "version", "allow", "deny", "schedule", "idle_pause_seconds", "pause_cap_minutes",
    "exempt", "url",
)
_RULE_KEYS = ("apps", "titles", "domains")
_APP_KEYS = ("app_id", "process", "window_class")
_TAG = "tag:yaml.org,2002:"
_PLAIN_TAGS = frozenset(
    _TAG + t for t in ("str", "int", "bool", "null", "float", "seq", "map", "timestamp")
)
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TIME_RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


@dataclass(frozen=True, slots=True)
class Policy:
    """A validated capture policy. Build it with :func:`load_policy` or :func:`parse_policy`."""

    version: int
    allow: RuleSet
    deny: RuleSet  # additions to :data:`apprentice.policy.defaults.DENYLIST`
    schedule: Schedule | None  # None: no work-hours restriction
    idle_pause_seconds: int = DEFAULT_IDLE_PAUSE_SECONDS
    pause_cap_minutes: int = DEFAULT_PAUSE_CAP_MINUTES
    exempt: bool = False
    keep_url_query: bool = False
    source: str = "<policy>"


def load_policy(path: str | Path) -> Policy:
    """Read and validate the policy file at ``path``.

    Raises:
        PolicyError: the file cannot be read or is not a valid policy.
    """
    source = str(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_POLICY_BYTES + 1)
    except OSError as exc:
        raise PolicyError(source, None, f"cannot read the file ({exc.strerror})") from None
    if len(data) > MAX_POLICY_BYTES:
        raise PolicyError(source, None, f"the file is larger than {MAX_POLICY_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyError(source, None, "the file is not UTF-8 text") from None
    return parse_policy(text, source=source)


def parse_policy(text: str, *, source: str = "<policy>") -> Policy:
    """Validate policy YAML given as text; ``source`` names it in error messages."""
    return _Reader(source).policy(text)


class _Reader:
    """Walks the composed YAML node tree so that every error knows its line."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._seen: set[int] = set()
        self._constructor = yaml.constructor.SafeConstructor()

    def fail(self, node: yaml.Node | None, what: str) -> PolicyError:
        line = None if node is None else node.start_mark.line + 1
        return PolicyError(self.source, line, what)

    # -- document ----------------------------------------------------------------

    def policy(self, text: str) -> Policy:
        try:
            # Aliases are refused before composing: they are never needed in a policy and
            # nested ones expand exponentially ("billion laughs").
            for event in yaml.parse(text, Loader=yaml.SafeLoader):
                if isinstance(event, yaml.AliasEvent):
                    raise PolicyError(
                        self.source, event.start_mark.line + 1,
                        "YAML anchors and aliases are not supported; write it out",
                    )
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = None if mark is None else mark.line + 1
            raise PolicyError(self.source, line, f"not valid YAML: {exc.problem}") from None
        except yaml.YAMLError:
            raise PolicyError(self.source, None, "not valid YAML") from None
        if root is None or (isinstance(root, yaml.ScalarNode) and root.value == ""):
            raise PolicyError(
                self.source, None,
                f"the file is empty; a policy needs at least 'version: {POLICY_VERSION}' "
                "and an 'allow' list",
            )
        top = self.mapping(root, "the policy", _TOP_KEYS)
        if "version" not in top:
            raise self.fail(root, f"missing 'version'; add 'version: {POLICY_VERSION}'")
        version = self.integer(top["version"], "version", 1, 10**6)
        if version != POLICY_VERSION:
            raise self.fail(
                top["version"],
                f"policy version {version} is not supported; this agent reads version "
                f"{POLICY_VERSION}",
            )
        url = self.mapping(top["url"], "url", ("keep_query",)) if "url" in top else {}
        return Policy(
            version=version,
            allow=self.ruleset(top["allow"], "allow", allow=True) if "allow" in top
            else RuleSet(),
            deny=self.ruleset(top["deny"], "deny", allow=False) if "deny" in top
            else RuleSet(),
            schedule=self.schedule(top["schedule"]) if "schedule" in top else None,
            idle_pause_seconds=self.integer(
                top["idle_pause_seconds"], "idle_pause_seconds", 10, 86_400
            ) if "idle_pause_seconds" in top else DEFAULT_IDLE_PAUSE_SECONDS,
            pause_cap_minutes=self.integer(
                top["pause_cap_minutes"], "pause_cap_minutes", 1, 1440
            ) if "pause_cap_minutes" in top else DEFAULT_PAUSE_CAP_MINUTES,
            exempt=self.boolean(top["exempt"], "exempt") if "exempt" in top else False,
            keep_url_query=self.boolean(url["keep_query"], "url.keep_query")
            if "keep_query" in url else False,
            source=self.source,
        )

    # -- sections ----------------------------------------------------------------

    def ruleset(self, node: yaml.Node, where: str, *, allow: bool) -> RuleSet:
        if _is_null(node):
            return RuleSet()
        section = self.mapping(node, where, _RULE_KEYS)
        apps = tuple(
            self.app(item, f"{where}.apps") for item in self.sequence(section, "apps", where)
        )
        titles = tuple(
            self.title(item, f"{where}.titles", allow=allow)
            for item in self.sequence(section, "titles", where)
        )
        domains = tuple(
            self.domain(item, f"{where}.domains")
            for item in self.sequence(section, "domains", where)
        )
        return RuleSet(apps=apps, titles=titles, domains=domains)

    def app(self, node: yaml.Node, where: str) -> AppRule:
        if isinstance(node, yaml.ScalarNode):
            raise self.fail(
                node,
                f"each entry of {where} is a mapping; write '- app_id: NAME' "
                "(or 'process:' / 'window_class:')",
            )
        fields = self.mapping(node, f"an entry of {where}", _APP_KEYS)
        if not fields:
            raise self.fail(node, f"an entry of {where} needs app_id, process or window_class")
        values = {k: self.string(v, f"{where}.{k}") for k, v in fields.items()}
        return AppRule(**values)

    def title(self, node: yaml.Node, where: str, *, allow: bool) -> re.Pattern[str]:
        pattern = self.string(node, where)
        if len(pattern) > MAX_PATTERN_LENGTH:
            raise self.fail(node, f"a pattern in {where} is longer than {MAX_PATTERN_LENGTH}")
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise self.fail(
                node, f"a pattern in {where} is not a valid regular expression: {exc.msg} "
                f"at position {exc.pos}",
            ) from None
        if allow and compiled.search("") is not None:
            raise self.fail(
                node,
                f"a pattern in {where} matches every title; name the application or "
                "make the pattern specific",
            )
        return compiled

    def domain(self, node: yaml.Node, where: str) -> DomainRule:
        raw = self.string(node, where).strip().lower().rstrip(".")
        if "://" in raw or "/" in raw or ":" in raw or "@" in raw:
            raise self.fail(node, f"an entry of {where} must be a host name only, like "
                            "'example.com' or '*.example.com' (no scheme, port or path)")
        wildcard = raw.startswith("*.")
        host = raw[2:] if wildcard else raw
        try:
            ascii_host = host.encode("idna").decode("ascii")
        except UnicodeError:
            ascii_host = ""
        labels = ascii_host.split(".")
        if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
            raise self.fail(node, f"an entry of {where} is not a domain name like "
                            "'example.com' or '*.example.com'")
        return DomainRule(("*." if wildcard else "") + ascii_host)

    def schedule(self, node: yaml.Node) -> Schedule:
        section = self.mapping(node, "schedule", ("timezone", "hours"))
        for key in ("timezone", "hours"):
            if key not in section:
                raise self.fail(node, f"schedule needs '{key}'")
        tz_node = section["timezone"]
        timezone = self.string(tz_node, "schedule.timezone")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(
                tz_node, "schedule.timezone is not an IANA timezone name like "
                "'Europe/Berlin' or 'UTC'",
            ) from None
        days = self.mapping(section["hours"], "schedule.hours", DAYS)
        hours: list[tuple[tuple[int, int], ...]] = []
        for day in DAYS:
            if day not in days:
                hours.append(())
                continue
            entry = days[day]
            items = entry.value if isinstance(entry, yaml.SequenceNode) else [entry]
            hours.append(tuple(self.time_range(i, f"schedule.hours.{day}") for i in items))
        return Schedule(timezone=timezone, hours=tuple(hours))

    def time_range(self, node: yaml.Node, where: str) -> tuple[int, int]:
        self.visit(node)
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, f"{where} takes 'HH:MM-HH:MM' or a list of them")
        m = _TIME_RANGE.match(node.value.strip())
        hint = f"{where} must look like '09:00-17:30' (quote it)"
        if m is None:
            raise self.fail(node, hint)
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 * 60 + m2 > MINUTES_PER_DAY:
            raise self.fail(node, hint)
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if start == end:
            raise self.fail(node, f"{where} is empty (start equals end)")
        return start, end

    # -- scalars and containers ----------------------------------------------------

    def visit(self, node: yaml.Node) -> None:
        if node.tag not in _PLAIN_TAGS:
            raise self.fail(node, "YAML tags ('!!type') are not supported; remove the tag")
        if id(node) in self._seen:  # defensive: aliases were refused while parsing
            raise self.fail(node, "YAML anchors and aliases are not supported; write it out")
        self._seen.add(id(node))

    def mapping(self, node: yaml.Node, where: str, keys: tuple[str, ...]) -> dict[str, Any]:
        self.visit(node)
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{where} must be a mapping of 'key: value' lines")
        out: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                raise self.fail(key_node, "YAML merge keys are not supported; write it out")
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _TAG + "str":
                raise self.fail(key_node, f"keys of {where} must be plain words")
            key = key_node.value
            if key not in keys:
                close = difflib.get_close_matches(key, keys, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise self.fail(
                    key_node,
                    f"unknown key '{key}' in {where}{hint}; allowed: {', '.join(keys)}",
                )
            if key in out:
                raise self.fail(key_node, f"'{key}' appears twice in {where}")
            out[key] = value_node
        return out

    def sequence(self, section: dict[str, Any], key: str, where: str) -> list[yaml.Node]:
        if key not in section or _is_null(section[key]):
            return []
        node = section[key]
        self.visit(node)
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{where}.{key} must be a list ('- item' lines)")
        return list(node.value)

    def string(self, node: yaml.Node, where: str) -> str:
        self.visit(node)
        if not isinstance(node, yaml.ScalarNode) or node.tag != _TAG + "str":
            raise self.fail(node, f"{where} must be text (quote it if it looks like a number)")
        if not node.value.strip():
            raise self.fail(node, f"{where} must not be empty")
        return str(node.value)

    def integer(self, node: yaml.Node, where: str, low: int, high: int) -> int:
        self.visit(node)
        if not isinstance(node, yaml.ScalarNode) or node.tag != _TAG + "int":
            raise self.fail(node, f"{where} must be a whole number")
        value = int(self._constructor.construct_object(node))
        if not low <= value <= high:
            raise self.fail(node, f"{where} must be between {low} and {high}")
        return value

    def boolean(self, node: yaml.Node, where: str) -> bool:
        self.visit(node)
        if not isinstance(node, yaml.ScalarNode) or node.tag != _TAG + "bool":
            raise self.fail(node, f"{where} must be true or false")
        return bool(self._constructor.construct_object(node))


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "null"
