"""The package's public surface is exactly its ``__all__``."""

from __future__ import annotations

import types

import apprentice.policy as policy


def test_all_lists_exactly_the_public_names():
    public = {
        name
        for name, value in vars(policy).items()
        if not name.startswith("_")
        and name != "annotations"
        and not isinstance(value, types.ModuleType)
        and getattr(value, "__module__", "apprentice.policy").startswith(
            ("apprentice.policy", "apprentice.errors")
        )
    }
    assert set(policy.__all__) == public
