"""Capture policy: pure decisions about what may be recorded (DESIGN promise 1).

``rules`` loads the organisation's policy file, ``defaults`` holds the built-in
denylist, ``decide`` makes the per-window decision, ``consent`` and ``pause`` hold the
contributor's state. Nothing in this package captures, logs or sends anything.
"""

from apprentice.policy.consent import (
    ConsentRecord,
    ConsentStore,
    Notice,
    load_notice,
    parse_notice,
)
from apprentice.policy.decide import ORGANISATION_REASONS, REASONS, CaptureState, Decision, decide
from apprentice.policy.errors import ConsentError, PolicyError
from apprentice.policy.match import AppRule, DomainRule, RuleSet
from apprentice.policy.pause import PauseController, PauseGrant
from apprentice.policy.rules import POLICY_VERSION, Policy, load_policy, parse_policy
from apprentice.policy.schedule import Schedule

__all__ = [
    "ORGANISATION_REASONS",
    "POLICY_VERSION",
    "REASONS",
    "AppRule",
    "CaptureState",
    "ConsentError",
    "ConsentRecord",
    "ConsentStore",
    "Decision",
    "DomainRule",
    "Notice",
    "PauseController",
    "PauseGrant",
    "Policy",
    "PolicyError",
    "RuleSet",
    "Schedule",
    "decide",
    "load_notice",
    "load_policy",
    "parse_notice",
    "parse_policy",
]
