"""The capture decision: one case per rule, and the order in which rules apply."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from apprentice.events import WindowInfo
from apprentice.policy import REASONS, CaptureState, Decision, decide, parse_policy

POLICY = parse_policy(
    """\
version: 1
allow:
  apps:
    - app_id: code
    - app_id: slack
  domains: [example.com]
deny:
  titles: ['CONFIDENTIAL']
schedule:
  timezone: UTC
  hours:
    mon: '09:00-17:00'
idle_pause_seconds: 300
"""
)
MONDAY_NOON = datetime(2024, 1, 15, 12, 0, tzinfo=UTC)
STATE = CaptureState(policy=POLICY, notice_version=3, consent_version=3)
CODE = WindowInfo(1, app_id="code", title="main.py")
ALLOWED = Decision(capture=True, keys=True, reason="allowed")


def test_when_everything_is_in_order_then_capture_with_keys():
    assert decide(CODE, MONDAY_NOON, STATE) == ALLOWED


@pytest.mark.parametrize(
    ("window", "now", "state", "reason"),
    [
        (CODE, MONDAY_NOON, replace(STATE, exempt=True), "exempt"),
        (CODE, MONDAY_NOON, replace(STATE, policy=replace(POLICY, exempt=True)), "exempt"),
        (CODE, MONDAY_NOON, replace(STATE, consent_version=None), "no_consent"),
        (CODE, MONDAY_NOON, replace(STATE, consent_version=2), "no_consent"),
        (CODE, MONDAY_NOON, replace(STATE, locked=True), "locked"),
        (
            CODE, MONDAY_NOON,
            replace(STATE, paused_until=MONDAY_NOON + timedelta(minutes=1)), "paused",
        ),
        (CODE, MONDAY_NOON, replace(STATE, idle_seconds=300), "idle"),
        (CODE, MONDAY_NOON.replace(hour=18), STATE, "outside_hours"),
        (CODE, MONDAY_NOON + timedelta(days=1), STATE, "outside_hours"),
        (None, MONDAY_NOON, STATE, "no_window"),
        (WindowInfo(1, app_id="slack"), MONDAY_NOON, STATE, "denylisted:messaging"),
        (
            WindowInfo(1, app_id="firefox", url="https://mail.example.com.gmail.com/"),
            MONDAY_NOON, STATE, "denylisted:webmail",
        ),
        (
            WindowInfo(1, app_id="firefox", url="https://example.com/", title="x (Incognito)"),
            MONDAY_NOON, STATE, "denylisted:private_browsing",
        ),
        (
            WindowInfo(1, app_id="code", title="CONFIDENTIAL plan"),
            MONDAY_NOON, STATE, "denylisted:policy",
        ),
        (WindowInfo(1, app_id="firefox", url="https://news.org/"), MONDAY_NOON, STATE,
         "not_allowlisted"),
        (WindowInfo(1, app_id="firefox"), MONDAY_NOON, STATE, "not_allowlisted"),
        # The browser extension says the window is private: refused even on an allowed domain,
        # and before the denylist (so the reason names it).
        (
            WindowInfo(1, app_id="code", url="https://example.com/", private=True),
            MONDAY_NOON, STATE, "private_window",
        ),
    ],
)
def test_when_a_rule_refuses_then_nothing_is_captured(window, now, state, reason):
    decision = decide(window, now, state)
    assert decision == Decision(capture=False, keys=False, reason=reason)
    assert decision.reason in REASONS


def test_when_domain_is_allowlisted_then_browser_window_is_captured():
    window = WindowInfo(1, app_id="firefox", url="https://wiki.example.com/page?q=1")
    assert decide(window, MONDAY_NOON, STATE) == ALLOWED


def test_when_secure_input_has_focus_then_screen_but_no_keys():
    decision = decide(CODE, MONDAY_NOON, replace(STATE, secure_input=True))
    assert decision == Decision(capture=True, keys=False, reason="secure_input")


def test_when_pause_has_ended_then_capture_resumes():
    state = replace(STATE, paused_until=MONDAY_NOON)
    assert decide(CODE, MONDAY_NOON, state) == ALLOWED


def test_when_idle_is_below_threshold_then_capture_continues():
    assert decide(CODE, MONDAY_NOON, replace(STATE, idle_seconds=299.9)) == ALLOWED


def test_when_allowlist_is_empty_then_nothing_is_allowed():
    state = replace(STATE, policy=parse_policy("version: 1\n"))
    assert decide(CODE, MONDAY_NOON, state).reason == "not_allowlisted"


def test_when_no_schedule_then_any_time_is_work_time():
    state = replace(STATE, policy=replace(POLICY, schedule=None))
    assert decide(CODE, datetime(2024, 1, 14, 3, 0, tzinfo=UTC), state) == ALLOWED


def test_exemption_wins_over_everything():
    state = replace(STATE, exempt=True, consent_version=None, locked=True)
    assert decide(None, MONDAY_NOON, state).reason == "exempt"


def test_consent_is_checked_before_the_window():
    state = replace(STATE, consent_version=None)
    assert decide(WindowInfo(1, app_id="signal"), MONDAY_NOON, state).reason == "no_consent"


def test_denylist_wins_over_allowlist():
    window = WindowInfo(1, app_id="code", title="vault - KeePassXC")
    assert decide(window, MONDAY_NOON, STATE).reason == "denylisted:password_manager"


def test_naive_time_is_refused():
    with pytest.raises(ValueError):
        decide(CODE, datetime(2024, 1, 15, 12, 0), STATE)


def test_reasons_never_contain_window_content():
    window = WindowInfo(1, app_id="firefox", title="secret-title", url="https://news.org/")
    assert "secret" not in decide(window, MONDAY_NOON, STATE).reason
