"""Reading a built dataset back into actions: the Parquet steps table is enough for replay."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from apprentice.errors import ConfigError
from apprentice.pipeline.load import episode_ids, load_episode_actions

from .test_build import build


def _comparable(action: object, origin: int) -> dict[str, object]:
    fields = dataclasses.asdict(action)  # type: ignore[call-overload]
    fields.pop("window")
    fields["t_start"] = round((fields["t_start"] - origin) / 1e6)
    fields["t_end"] = round((fields["t_end"] - origin) / 1e6)
    fields["path"] = [(round((t - origin) / 1e6), x, y) for t, x, y in fields["path"]]
    return fields


def test_every_step_comes_back_as_the_action_it_was(tmp_path: Path) -> None:
    result = build(tmp_path, formats=("parquet",))
    assert episode_ids(tmp_path / "out") == [e.id for e in result.dataset.episodes]
    for episode in result.dataset.episodes:
        loaded = load_episode_actions(tmp_path / "out", episode.id)
        original = [s.action for s in episode.steps]
        assert [_comparable(a, 0) for a in loaded] == [
            _comparable(a, episode.t_start) for a in original]
    kinds = {s.action.type for e in result.dataset.episodes for s in e.steps}
    assert {"click", "double_click", "type", "press", "hotkey", "scroll", "drag", "wait",
            "right_click", "middle_click", "long_press", "done"} <= kinds


def test_an_unknown_episode_names_the_valid_ones(tmp_path: Path) -> None:
    result = build(tmp_path, formats=("parquet",))
    with pytest.raises(ConfigError, match="no episode 'nope'") as caught:
        load_episode_actions(tmp_path / "out", "nope")
    for episode in result.dataset.episodes:
        assert episode.id in str(caught.value)


def test_a_dataset_without_parquet_says_how_to_build_one(tmp_path: Path) -> None:
    build(tmp_path, formats=("agentnet",))
    with pytest.raises(ConfigError, match="--format parquet"):
        load_episode_actions(tmp_path / "out", "anything")
