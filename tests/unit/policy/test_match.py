"""Window matching rules shared by the allowlist and the denylist."""

from __future__ import annotations

import re

import pytest

from apprentice.events import WindowInfo
from apprentice.policy import AppRule, DomainRule, RuleSet
from apprentice.policy.match import url_host


@pytest.mark.parametrize(
    ("rule", "window", "expected"),
    [
        (AppRule(app_id="Code"), WindowInfo(1, app_id="code"), True),
        (AppRule(app_id="code"), WindowInfo(1, app_id="code-insiders"), False),
        (AppRule(app_id="code"), WindowInfo(1), False),
        (AppRule(process="code"), WindowInfo(1, process="CODE.EXE"), True),
        (AppRule(process="code"), WindowInfo(1, process=r"C:\Apps\code.exe"), True),
        (AppRule(process="code"), WindowInfo(1, process="/usr/bin/code"), True),
        (AppRule(window_class="navigator"), WindowInfo(1, instance="Navigator"), True),
        (AppRule(window_class="firefox"), WindowInfo(1, app_id="firefox"), True),
        (AppRule(app_id="code", process="code"), WindowInfo(1, app_id="code"), False),
        (
            AppRule(app_id="code", process="code"),
            WindowInfo(1, app_id="code", process="code"),
            True,
        ),
    ],
)
def test_app_rule_matching(rule, window, expected):
    assert rule.matches(window) is expected


def test_app_rule_needs_a_field():
    with pytest.raises(ValueError):
        AppRule()


@pytest.mark.parametrize(
    ("rule", "host", "expected"),
    [
        ("example.com", "example.com", True),
        ("example.com", "www.example.com", True),
        ("example.com", "a.b.example.com", True),
        ("example.com", "badexample.com", False),
        ("example.com", "example.com.evil.net", False),
        ("*.example.com", "www.example.com", True),
        ("*.example.com", "example.com", False),
    ],
)
def test_domain_rule_matching(rule, host, expected):
    assert DomainRule(rule).matches(host) is expected


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://Mail.Google.com/mail/u/0/", "mail.google.com"),
        ("https://user:pw@example.com:8443/x?q=1#f", "example.com"),
        ("http://example.com./", "example.com"),
        ("http://[::1]:8080/", "::1"),
        ("about:blank", None),
        ("", None),
        (None, None),
        ("http://[bad/", None),
    ],
)
def test_url_host(url, host):
    assert url_host(url) == host


def test_rule_set_matches_any_rule_and_empty_matches_nothing():
    rules = RuleSet(
        apps=(AppRule(app_id="code"),),
        titles=(re.compile(r" - Jira$"),),
        domains=(DomainRule("example.com"),),
        host_patterns=(re.compile(r"^intranet\."),),
        roles=(re.compile("private"),),
    )
    assert rules.matches(WindowInfo(1, app_id="code"))
    assert rules.matches(WindowInfo(1, title="ABC-1 - Jira"))
    assert rules.matches(WindowInfo(1, url="https://docs.example.com/x"))
    assert rules.matches(WindowInfo(1, url="https://intranet.corp/x"))
    assert rules.matches(WindowInfo(1, role="private-window"))
    assert not rules.matches(WindowInfo(1, app_id="firefox", title="News", url="https://x.org"))
    assert not RuleSet()
    assert not RuleSet().matches(WindowInfo(1, app_id="code", title="t", url="https://a.b/"))
