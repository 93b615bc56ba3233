"""The collector's key service: one X25519 key pair per contributor, private halves wrapped.

The collector has the master key's *wrapping* half only (``apprentice.keys``); the
unwrapping half lives in ``apprentice.keys.unwrap`` and only the pipeline imports it.
"""

from __future__ import annotations

from apprentice.keys import MasterKeyWrapper, create_master_key, open_master_wrapper
from apprentice.server.keys.service import ContributorKeys

__all__ = ["ContributorKeys", "MasterKeyWrapper", "create_master_key", "open_master_wrapper"]
