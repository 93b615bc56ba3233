"""The capture decision: may this window, at this moment, be recorded — and its keys?

DESIGN promise 1, as one pure function. :func:`decide` reads the focused window, the
time and the :class:`CaptureState` (policy, consent, pause, idle, lock, secure input,
exemption) and returns a :class:`Decision`. The checks run in a fixed order, first
refusal wins:

    1. exempt          the person is exempted (policy or device state)
    2. dpia_pending    the organisation's capture is not enabled (no approved DPIA; also
                       ``no_policy`` / ``capture_disabled``, see :data:`ORGANISATION_REASONS`)
    3. no_consent      the current notice version has not been accepted
    4. locked          the screen is locked
    5. paused          the contributor paused, and the pause has not ended
    6. idle            no input for the policy's idle time
    7. outside_hours   the policy's schedule says this is not work time
    8. no_window       no focused window is known
    9. private_window  the browser says the window is private (incognito), or cannot see it
   10. denylisted:*    built-in denylist, then the policy's additions (deny wins)
   11. not_allowlisted default-deny: nothing matched the allowlist
   12. secure_input    allowed, but a password/secure field has focus: no keystrokes

A reason is one of the fixed codes in :data:`REASONS` and never contains window content,
so it may be written into a ``gap`` event. This module does no I/O and reads no clock:
the caller passes ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from apprentice.events import WindowInfo
from apprentice.policy.defaults import DENYLIST
from apprentice.policy.rules import Policy

# Why the organisation's capture is off (the collector says so at device sync):
# dpia_pending - no approved DPIA; no_policy - no policy published; capture_disabled - any
# other or unreadable reason (fail closed).
ORGANISATION_REASONS = frozenset({"dpia_pending", "no_policy", "capture_disabled"})

REASONS = frozenset(
    {
        "allowed", "exempt", *ORGANISATION_REASONS, "no_consent", "locked", "paused", "idle",
        "outside_hours", "no_window", "private_window", "not_allowlisted", "secure_input",
        "denylisted:policy",
        *(f"denylisted:{category}" for category, _ in DENYLIST),
    }
)


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether to capture the screen and window events, whether to capture keystrokes, why."""

    capture: bool
    keys: bool
    reason: str


@dataclass(frozen=True, slots=True)
class CaptureState:
    """Everything besides the window and the time that a decision depends on.

    ``notice_version`` is the version of the notice shipped with this agent;
    ``consent_version`` the version the contributor accepted (None: never, or withdrawn).
    ``idle_seconds`` is the time since the last input; ``paused_until`` an aware datetime.
    ``capture_disabled`` is None while the organisation's capture is enabled, else why not
    (one of :data:`ORGANISATION_REASONS`).
    """

    policy: Policy
    notice_version: int
    consent_version: int | None = None
    paused_until: datetime | None = None
    idle_seconds: float = 0.0
    locked: bool = False
    secure_input: bool = False
    exempt: bool = False
    capture_disabled: str | None = None


def _refuse(reason: str) -> Decision:
    return Decision(capture=False, keys=False, reason=reason)


def decide(window: WindowInfo | None, now: datetime, state: CaptureState) -> Decision:
    """Decide for the focused ``window`` at ``now`` (timezone-aware); see the module doc."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("decide() needs a timezone-aware time")
    policy = state.policy
    if state.exempt or policy.exempt:
        return _refuse("exempt")
    if state.capture_disabled is not None:
        reason = state.capture_disabled
        return _refuse(reason if reason in ORGANISATION_REASONS else "capture_disabled")
    if state.consent_version is None or state.consent_version != state.notice_version:
        return _refuse("no_consent")
    if state.locked:
        return _refuse("locked")
    if state.paused_until is not None and now < state.paused_until:
        return _refuse("paused")
    if state.idle_seconds >= policy.idle_pause_seconds:
        return _refuse("idle")
    if policy.schedule is not None and not policy.schedule.contains(now):
        return _refuse("outside_hours")
    if window is None:
        return _refuse("no_window")
    if window.private:
        return _refuse("private_window")
    for category, rules in DENYLIST:
        if rules.matches(window):
            return _refuse(f"denylisted:{category}")
    if policy.deny.matches(window):
        return _refuse("denylisted:policy")
    if not policy.allow.matches(window):
        return _refuse("not_allowlisted")
    if state.secure_input:
        return Decision(capture=True, keys=False, reason="secure_input")
    return Decision(capture=True, keys=True, reason="allowed")
