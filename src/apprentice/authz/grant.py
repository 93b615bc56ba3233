"""Proof that a raw read was allowed. The blob store refuses to return sealed chunk bytes
without an :class:`AccessGrant` for that chunk, and only :mod:`apprentice.authz.decide` mints
one, after an *allow* for ``read`` on a ``RawChunk``. So code that skips the authorisation
check cannot read raw data by accident: it has nothing to hand the store.
"""

from __future__ import annotations

from datetime import datetime

from apprentice.errors import ApprenticeError

_MINT = object()  # held by this module and decide.py only; the constructor refuses anything else


class GrantError(ApprenticeError):
    """A raw read was attempted without a grant for that resource."""


class AccessGrant:
    """An allow decision for reading one raw chunk, minted by the authoriser only."""

    __slots__ = ("resource_id", "actor", "purpose", "at")

    def __init__(self, mint: object, resource_id: str, actor: str, purpose: str, at: datetime) -> None:
        if mint is not _MINT:
            raise GrantError("an AccessGrant is minted by apprentice.authz after an allow decision only")
        self.resource_id = resource_id
        self.actor = actor
        self.purpose = purpose
        self.at = at

    def __repr__(self) -> str:
        return f"AccessGrant(RawChunk:{self.resource_id}, {self.actor}, {self.purpose})"


def _mint(resource_id: str, actor: str, purpose: str, at: datetime) -> AccessGrant:
    return AccessGrant(_MINT, resource_id, actor, purpose, at)


def check_grant(grant: object, key: str) -> None:
    """Raise GrantError unless ``grant`` allows reading the raw chunk stored under ``key``
    (blob keys end in the chunk id: ``chunks/ab/<id>``)."""
    if not isinstance(grant, AccessGrant):
        raise GrantError("raw reads need an AccessGrant from apprentice.authz (none was given)")
    if key.rsplit("/", 1)[-1] != grant.resource_id:
        raise GrantError("the AccessGrant is for another chunk")
