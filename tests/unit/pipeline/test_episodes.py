"""Episode segmentation: explicit tasks, passive cuts, geometry and deterministic ids."""

from __future__ import annotations

from apprentice import events as ev
from apprentice.pipeline.actions import reduce_actions
from apprentice.pipeline.config import EpisodeConfig, PipelineConfig
from apprentice.pipeline.episodes import Episode, episode_id, segment_episodes

from .conftest import Log


def episodes(log: Log, **config: object) -> list[Episode]:
    cfg = PipelineConfig(episodes=EpisodeConfig(**config))  # type: ignore[arg-type]
    return segment_episodes(reduce_actions(log.events, cfg.actions), log.events, cfg)


def types(episode: Episode) -> list[str]:
    return [s.action.type for s in episode.steps]


def test_explicit_task_with_success_ends_in_done() -> None:
    log = Log().start().control("task_start", instruction="Save the report")
    log.focus(1, "Editor").click(10, 10).text("hi").combo("ctrl", "s")
    log.control("task_end", status="success")
    (episode,) = episodes(log)
    assert (episode.source, episode.instruction, episode.outcome, episode.complete) == (
        "task", "Save the report", "success", True)
    assert types(episode) == ["click", "type", "hotkey", "done"]
    assert episode.steps[-1].pyautogui == "DONE"
    assert [s.index for s in episode.steps] == [0, 1, 2, 3]


def test_failed_task_ends_in_fail() -> None:
    log = Log().start().control("task_start", instruction="x").click(1, 1)
    log.control("task_end", status="failure")
    (episode,) = episodes(log)
    assert (episode.outcome, types(episode)) == ("failure", ["click", "fail"])


def test_task_spans_apps_and_idle_but_a_pause_makes_it_incomplete() -> None:
    log = Log().start().control("task_start", instruction="x")
    log.focus(1, "Editor").click(1, 1).wait(120_000).focus(2, "Browser").click(2, 2)
    log.control("pause").control("resume").click(3, 3).control("task_end", status="success")
    (episode,) = episodes(log)
    assert episode.apps == ("Editor", "Browser")
    assert types(episode) == ["click", "click", "click", "done"]
    assert not episode.complete


def test_task_that_never_ends_has_unknown_outcome() -> None:
    log = Log().start().control("task_start", instruction="x").click(1, 1).control("stop")
    (episode,) = episodes(log)
    assert (episode.outcome, episode.complete, types(episode)) == ("unknown", False, ["click"])


def test_passive_episodes_split_on_idle_gap_app_change_and_pause() -> None:
    log = Log().start().focus(1, "Editor").click(1, 1).click(50, 50)
    log.wait(61_000).click(2, 2)                          # idle gap
    log.focus(3, "Editor").click(3, 3)                    # same app, other window: no cut
    log.focus(4, "Browser", url="https://intranet.example.com/a").click(4, 4)  # app change
    log.control("pause").control("resume").click(5, 5)    # pause
    result = episodes(log)
    assert [len(e.steps) for e in result] == [2, 2, 1, 1]
    assert all(e.source == "passive" and e.outcome is None for e in result)
    assert result[2].sites == ("intranet.example.com",)


def test_app_change_does_not_cut_when_disabled() -> None:
    log = Log().start().focus(1, "Editor").click(1, 1).focus(2, "Browser").click(2, 2)
    assert len(episodes(log, split_on_app_change=False)) == 1


def test_actions_before_a_task_are_their_own_episode() -> None:
    log = Log().start().click(1, 1).control("task_start", instruction="t").click(2, 2)
    log.control("task_end", status="success").click(3, 3)
    assert [(e.source, len(e.steps)) for e in episodes(log)] == [
        ("passive", 1), ("task", 2), ("passive", 1)]


def test_geometry_comes_from_the_start_control() -> None:
    monitors = [
        {"index": 0, "x": 0, "y": 0, "width": 2560, "height": 1440, "scale": 2.0, "primary": True},
        {"index": 1, "x": 2560, "y": 0, "width": 1920, "height": 1080, "scale": 1.0},
    ]
    log = Log().start(monitors=monitors).click(3000, 100)
    (episode,) = episodes(log)
    assert episode.platform == "linux-x11"
    assert episode.screen == ev.Rect(0, 0, 4480, 1440)
    assert episode.scale == 2.0
    step = episode.steps[0]
    assert step.frame == ev.Rect(2560, 0, 1920, 1080)
    assert (step.nx, step.ny) == (round(440 / 1920, 4), round(100 / 1080, 4))


def test_ids_are_deterministic_and_hide_the_session() -> None:
    log = Log().start(session="secret-session").click(1, 1)
    first, again = episodes(log)[0], episodes(log)[0]
    assert first.id == again.id == episode_id("secret-session", first.first_seq)
    assert "secret" not in first.id and len(first.id) == 16


def test_config_is_recorded_in_each_episode() -> None:
    (episode,) = episodes(Log().start().click(1, 1), idle_gap_ms=5_000)
    assert episode.config["episodes"]["idle_gap_ms"] == 5_000
    assert episode.config["actions"]["double_click_ms"] == 500


def test_steps_get_pre_and_post_frames_and_all_renderings() -> None:
    log = Log().start().frame("before").click(100, 200).frame("after")
    (episode,) = episodes(log)
    (step,) = episode.steps
    assert (step.pre.pixel_hash, step.post.pixel_hash) == ("before", "after")  # type: ignore[union-attr]
    assert step.pyautogui == "pyautogui.click(x=100, y=200)"
    assert step.pyautogui_norm == "pyautogui.click(x=0.0521, y=0.1852)"
    assert step.computer13[0]["action_type"] == "CLICK"


def test_long_wait_outside_a_task_is_a_cut_not_a_step() -> None:
    log = Log().start().frame("a").click(1, 1)
    log.wait(40_000).frame("b").wait(40_000).click(2, 2)
    assert [types(e) for e in episodes(log)] == [["click"], ["click"]]
