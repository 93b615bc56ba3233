"""Re-exports of the policy errors, which live in the one tree in ``apprentice.errors``."""

from apprentice.errors import ConsentError, PolicyError

__all__ = ["ConsentError", "PolicyError"]
