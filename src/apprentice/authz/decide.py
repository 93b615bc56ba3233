"""Evaluating one request: :meth:`Authorizer.decide` returns a :class:`Decision`, allow or
deny, naming the policies that determined it. Default deny (no permit matched), and a
matching forbid wins over any permit. An allow for ``read`` on a ``RawChunk`` carries the
:class:`~apprentice.authz.grant.AccessGrant` the blob store asks for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cedarpy

from apprentice.authz.grant import AccessGrant, _mint
from apprentice.authz.loader import PolicyBundle, load_policies
from apprentice.authz.memo import MemoKey, memo_blockers, memo_key
from apprentice.authz.model import NAMESPACE, PURPOSES, Principal, Resource

_MEMO_LIMIT = 4096


@dataclass(frozen=True)
class Decision:
    allowed: bool
    principal: Principal
    action: str
    resource: Resource
    purpose: str
    policies: tuple[str, ...] = ()
    grant: AccessGrant | None = field(default=None, repr=False)

    @property
    def word(self) -> str:
        return "allow" if self.allowed else "deny"

    @property
    def missing_permission(self) -> str:
        """What a denied caller lacked, for the 403 message (names types, never data)."""
        text = (f"{self.principal.type} may not {self.action} {self.resource.type}"
                f" for purpose {self.purpose!r}")
        if self.policies:
            text += f" (forbidden by {', '.join(self.policies)})"
        return text


def _entity(kind: str, ident: str, attrs: Mapping[str, Any]) -> dict[str, Any]:
    return {"uid": {"type": f"{NAMESPACE}::{kind}", "id": ident}, "attrs": dict(attrs), "parents": []}


class Authorizer:
    """Decides requests against one loaded policy bundle (thread-safe; reuse it)."""

    def __init__(self, bundle: PolicyBundle | None = None, *, folder: Path | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), memo: bool = True) -> None:
        self.bundle = bundle or load_policies(folder)
        self._clock = clock
        # Remember decisions only where the policies make that exact (authz/memo.py).
        self.memo_blockers = memo_blockers(cedarpy.policies_to_pst(self.bundle.text)) if memo else ["off"]
        self._memo: dict[MemoKey, tuple[bool, tuple[str, ...]]] = {}

    def decide(self, principal: Principal, action: str, resource: Resource, purpose: str,
               context: Mapping[str, Any] | None = None) -> Decision:
        """One decision. Repeated requests that differ only in what the policies cannot see
        (ids; see authz/memo.py) are answered from memory when the policies allow it."""
        if context or self.memo_blockers:
            return self.decide_many([(principal, action, resource, purpose, context)])[0]
        key = memo_key(principal, action, resource, purpose)
        known = self._memo.get(key)
        if known is None:
            decision = self.decide_many([(principal, action, resource, purpose, None)])[0]
            if len(self._memo) >= _MEMO_LIMIT:  # bounded: odd purposes cannot grow it forever
                self._memo.clear()
            self._memo[key] = (decision.allowed, decision.policies)
            return decision
        allowed, policies = known
        return Decision(allowed, principal, action, resource, purpose, policies,
                        self._grant(allowed, principal, action, resource, purpose, self._clock()))

    @staticmethod
    def _grant(allowed: bool, principal: Principal, action: str, resource: Resource, purpose: str,
               now: datetime) -> AccessGrant | None:
        if allowed and action == "read" and resource.type == "RawChunk":
            return _mint(resource.id, principal.actor, purpose, now)
        return None

    def decide_many(
        self, requests: list[tuple[Principal, str, Resource, str, Mapping[str, Any] | None]]
    ) -> list[Decision]:
        """Decide a batch in one call into Cedar (the exhaustive matrix test uses this)."""
        cedar_requests = []
        entities: dict[tuple[str, str], dict[str, Any]] = {}
        for principal, action, resource, purpose, context in requests:
            p_attrs = {"contributor": principal.contributor} if principal.contributor is not None else {}
            r_attrs = {"owner": resource.owner} if resource.owner is not None else {}
            # Entities are keyed by uid, so a batch must not give one uid two attribute sets.
            p_key = (principal.type, principal.id)
            r_key = (resource.type, f"{resource.id}|{resource.owner}")
            entities.setdefault(p_key, _entity(principal.type, principal.id, p_attrs))
            entities.setdefault(r_key, _entity(resource.type, r_key[1], r_attrs))
            cedar_requests.append({
                "principal": {"type": f"{NAMESPACE}::{principal.type}", "id": principal.id},
                "action": {"type": f"{NAMESPACE}::Action", "id": action},
                "resource": {"type": f"{NAMESPACE}::{resource.type}", "id": r_key[1]},
                "context": {**(context or {}), "purpose": purpose if purpose in PURPOSES else ""},
            })
        results = cedarpy.is_authorized_batch(cedar_requests, self.bundle.policies, list(entities.values()))
        now = self._clock()
        decisions = []
        for (principal, action, resource, purpose, _), result in zip(requests, results, strict=True):
            allowed = result.decision == cedarpy.Decision.Allow
            named = result.diagnostics.id_annotations_by_reason
            determining = tuple(sorted(named.get(r, r) for r in result.diagnostics.reasons))
            grant = self._grant(allowed, principal, action, resource, purpose, now)
            decisions.append(Decision(allowed, principal, action, resource, purpose,
                                      () if allowed else determining, grant))
        return decisions
