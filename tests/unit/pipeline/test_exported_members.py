"""The pipeline's public surface is exactly its ``__all__``."""

from __future__ import annotations

import types

import apprentice.pipeline as pipeline

# Values whose type carries no __module__ of ours (a tuple constant, a Literal alias).
_DATA = {"ACTION_TYPES", "ActionType"}


def test_all_lists_exactly_the_public_names() -> None:
    defined_here = {
        name for name, value in vars(pipeline).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
        and getattr(value, "__module__", "").startswith("apprentice.pipeline")
    }
    assert defined_here | _DATA == set(pipeline.__all__)
    assert all(hasattr(pipeline, name) for name in pipeline.__all__)
