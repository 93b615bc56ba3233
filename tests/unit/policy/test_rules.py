"""Loading and validating policy files: good files load, each kind of mistake is explained."""

from __future__ import annotations

import pytest

from apprentice.policy import DomainRule, PolicyError, load_policy, parse_policy

GOOD = """\
version: 1
allow:
  apps:
    - app_id: org.libreoffice.LibreOffice
    - process: code
      window_class: code
  titles:
    - ' - Jira$'
  domains:
    - example.com
    - '*.atlassian.net'
deny:
  domains: [secret.example.com]
schedule:
  timezone: Europe/Berlin
  hours:
    mon: '09:00-17:30'
    tue: ['09:00-12:00', '13:00-17:00']
    sat: '22:00-06:00'
idle_pause_seconds: 120
pause_cap_minutes: 15
exempt: false
url:
  keep_query: true
"""


def test_when_file_is_valid_then_every_field_is_loaded(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(GOOD)
    policy = load_policy(path)
    assert policy.version == 1
    assert len(policy.allow.apps) == 2
    assert policy.allow.apps[1].process == "code"
    assert policy.allow.titles[0].pattern == " - Jira$"
    assert policy.allow.domains == (DomainRule("example.com"), DomainRule("*.atlassian.net"))
    assert policy.deny.domains == (DomainRule("secret.example.com"),)
    assert policy.schedule is not None
    assert policy.schedule.timezone == "Europe/Berlin"
    assert policy.schedule.hours[0] == ((540, 1050),)
    assert policy.schedule.hours[1] == ((540, 720), (780, 1020))
    assert policy.schedule.hours[5] == ((1320, 360),)
    assert policy.schedule.hours[6] == ()
    assert (policy.idle_pause_seconds, policy.pause_cap_minutes) == (120, 15)
    assert policy.exempt is False
    assert policy.keep_url_query is True
    assert policy.source == str(path)


def test_when_only_version_is_given_then_defaults_deny_everything():
    policy = parse_policy("version: 1\n")
    assert not policy.allow
    assert policy.schedule is None
    assert policy.idle_pause_seconds == 300
    assert policy.pause_cap_minutes == 30
    assert policy.keep_url_query is False


def test_unicode_domains_are_stored_in_ascii_form():
    policy = parse_policy("version: 1\nallow:\n  domains: ['bücher.example']\n")
    assert policy.allow.domains == (DomainRule("xn--bcher-kva.example"),)


BAD = [
    ("", None, "the file is empty"),
    ("# only a comment\n", None, "the file is empty"),
    ("- a\n- b\n", 1, "the policy must be a mapping"),
    ("allow: {}\n", 1, "missing 'version'"),
    ("version: 2\n", 1, "policy version 2 is not supported"),
    ("version: '1'\n", 1, "version must be a whole number"),
    ("version: 1\nalow: {}\n", 2, "unknown key 'alow' in the policy (did you mean 'allow'?)"),
    ("version: 1\nversion: 1\n", 2, "'version' appears twice"),
    ("version: 1\nallow: [a]\n", 2, "allow must be a mapping"),
    ("version: 1\nallow:\n  app: []\n", 3, "unknown key 'app' in allow (did you mean 'apps'?)"),
    ("version: 1\nallow:\n  apps: code\n", 3, "allow.apps must be a list"),
    ("version: 1\nallow:\n  apps: [code]\n", 3, "write '- app_id: NAME'"),
    ("version: 1\nallow:\n  apps:\n    - name: code\n", 4, "unknown key 'name'"),
    ("version: 1\nallow:\n  apps:\n    - {}\n", 4, "needs app_id, process or window_class"),
    ("version: 1\nallow:\n  apps:\n    - app_id: 12\n", 4, "allow.apps.app_id must be text"),
    ("version: 1\nallow:\n  apps:\n    - app_id: ''\n", 4, "must not be empty"),
    ("version: 1\nallow:\n  titles: ['[unclosed']\n", 3, "not a valid regular expression"),
    ("version: 1\nallow:\n  titles: ['.*']\n", 3, "matches every title"),
    ("version: 1\nallow:\n  titles: ['" + "a" * 301 + "']\n", 3, "longer than 300"),
    ("version: 1\nallow:\n  domains: ['https://example.com/']\n", 3, "host name only"),
    ("version: 1\nallow:\n  domains: ['example.com:8080']\n", 3, "host name only"),
    ("version: 1\nallow:\n  domains: [localhost]\n", 3, "not a domain name"),
    ("version: 1\nallow:\n  domains: ['exa mple.com']\n", 3, "not a domain name"),
    ("version: 1\nallow:\n  domains: ['-bad.com']\n", 3, "not a domain name"),
    ("version: 1\nschedule:\n  hours: {}\n", 3, "schedule needs 'timezone'"),
    ("version: 1\nschedule:\n  timezone: Mars/Olympus\n  hours: {}\n", 3, "IANA timezone"),
    ("version: 1\nschedule:\n  timezone: UTC\n  hours:\n    monday: '09:00-17:00'\n", 5,
     "unknown key 'monday'"),
    ("version: 1\nschedule:\n  timezone: UTC\n  hours:\n    mon: 9-5\n", 5, "'09:00-17:30'"),
    ("version: 1\nschedule:\n  timezone: UTC\n  hours:\n    mon: 09:00\n", 5, "'09:00-17:30'"),
    ("version: 1\nschedule:\n  timezone: UTC\n  hours:\n    mon: '25:00-26:00'\n", 5,
     "'09:00-17:30'"),
    ("version: 1\nschedule:\n  timezone: UTC\n  hours:\n    mon: '09:00-09:00'\n", 5,
     "is empty"),
    ("version: 1\nschedule:\n  timezone: UTC\n  hours:\n    mon: [[a]]\n", 5,
     "takes 'HH:MM-HH:MM'"),
    ("version: 1\nidle_pause_seconds: 0\n", 2, "between 10 and 86400"),
    ("version: 1\nidle_pause_seconds: 1.5\n", 2, "must be a whole number"),
    ("version: 1\npause_cap_minutes: 5000\n", 2, "between 1 and 1440"),
    ("version: 1\nexempt: 'no'\n", 2, "exempt must be true or false"),
    ("version: 1\nurl:\n  keep_query: 1\n", 3, "url.keep_query must be true or false"),
    ("version: 1\nurl:\n  drop: true\n", 3, "unknown key 'drop' in url"),
    ("version: 1\nallow: &a\n  domains: [a.com]\ndeny: *a\n", 4, "anchors and aliases"),
    ("version: 1\n<<: {exempt: true}\n", 2, "merge keys"),
    ("version: 1\n1: x\n", 2, "must be plain words"),
    ("version: 1\nallow: [\n", 3, "not valid YAML"),
    ("version: 1\n---\nversion: 1\n", 2, "not valid YAML"),
    ("version: !!python/object:os.system 1\n", 1, "YAML tags ('!!type') are not supported"),
    ("version: 1\nexempt: !!str true\n", 2, "exempt must be true or false"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD)
def test_when_file_is_bad_then_error_names_file_line_and_fix(text, line, message):
    with pytest.raises(PolicyError) as info:
        parse_policy(text, source="policy.yaml")
    err = info.value
    assert message in str(err)
    assert err.line == line
    assert str(err).startswith("policy.yaml:" if line is None else f"policy.yaml:{line}: ")


def test_when_file_is_missing_then_error_says_so(tmp_path):
    with pytest.raises(PolicyError, match="cannot read the file"):
        load_policy(tmp_path / "nope.yaml")


def test_when_file_is_not_utf8_then_error_says_so(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_bytes(b"version: 1\nallow:\n  titles: ['\xff']\n")
    with pytest.raises(PolicyError, match="not UTF-8"):
        load_policy(path)


def test_when_file_is_huge_then_it_is_refused(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_bytes(b"#" * (1024 * 1024 + 1))
    with pytest.raises(PolicyError, match="larger than"):
        load_policy(path)


def test_deny_patterns_may_match_everything():
    policy = parse_policy("version: 1\ndeny:\n  titles: ['.*']\n")
    assert policy.deny.titles[0].pattern == ".*"


def test_empty_sections_are_empty_rule_sets():
    policy = parse_policy("version: 1\nallow:\ndeny:\n  apps:\n")
    assert not policy.allow and not policy.deny
