"""Quality: recorder UI steps removed, unchanged waits collapsed, interrupted tasks split,
redacted share measured; the filter a dataset version applies."""

from __future__ import annotations

from apprentice import events as ev
from apprentice.pipeline.actions import reduce_actions
from apprentice.pipeline.config import PipelineConfig
from apprentice.pipeline.episodes import segment_episodes
from apprentice.pipeline.service.quality import RECORDER_APPS, QualityFilter, apply_quality
from apprentice.policy.defaults import RECORDER

MON = [{"index": 0, "x": 0, "y": 0, "width": 100, "height": 100, "primary": True}]
EDITOR = ev.WindowInfo(wid=1, app_id="Editor", title="doc")
TRAY = ev.WindowInfo(wid=2, app_id="apprentice", title="apprentice")
S = 1_000_000_000


class _Log:
    def __init__(self) -> None:
        self.events: list[ev.Event] = [ev.Control(0, 0, "start", info={"session": "s", "monitors": MON})]

    def add(self, cls: type, t: float, **fields: object) -> None:
        self.events.append(cls(len(self.events), int(t * S), **fields))

    def click(self, t: float, x: int = 10) -> None:
        self.add(ev.MouseDown, t, x=x, y=10, button="left")
        self.add(ev.MouseUp, t + 0.05, x=x, y=10, button="left")

    def frame(self, t: float, blob: str, pixels: str | None = None) -> None:
        self.add(
            ev.Frame,
            t,
            blob=blob,
            trigger="refresh",
            monitor=0,
            bounds=ev.Rect(0, 0, 100, 100),
            width=100,
            height=100,
            format="png",
            pixel_hash=pixels or blob,
        )


def _episodes(log: _Log):  # type: ignore[no-untyped-def]
    config = PipelineConfig()
    return segment_episodes(reduce_actions(log.events, config.actions), log.events, config)


def test_the_recorder_app_list_matches_the_policy_denylist() -> None:
    assert {rule.app_id for rule in RECORDER.apps} - {None} == set(RECORDER_APPS)


def test_recorder_ui_steps_are_removed() -> None:
    log = _Log()
    log.add(ev.Control, 0.5, op="task_start", info={"instruction": "do it"})
    log.add(ev.Focus, 0.6, window=EDITOR)
    log.click(1)
    log.add(ev.Focus, 2, window=TRAY)
    log.click(2.5, 50)
    log.add(ev.Focus, 3, window=EDITOR)
    log.click(3.5, 70)
    log.add(ev.Control, 4, op="task_end", info={"status": "success"})
    ((episode, quality),) = apply_quality(_episodes(log), log.events, {})
    assert quality.steps_removed_recorder_ui == 1
    assert [s.action.type for s in episode.steps] == ["click", "click", "done"]
    assert [s.index for s in episode.steps] == [0, 1, 2] and episode.apps == ("Editor",)


def test_a_task_interrupted_by_a_pause_is_split_and_marked_incomplete() -> None:
    log = _Log()
    log.add(ev.Control, 0.5, op="task_start", info={"instruction": "do it"})
    log.add(ev.Focus, 0.6, window=EDITOR)
    log.click(1)
    log.click(2, 40)
    log.add(ev.Control, 3, op="pause")
    log.add(ev.Control, 10, op="resume")
    log.click(11, 60)
    log.add(ev.Control, 12, op="gap", reason="frame_redaction", info={"stream": "frames"})  # not a cut
    log.click(13, 80)
    log.add(ev.Control, 14, op="task_end", info={"status": "success"})
    parts = apply_quality(_episodes(log), log.events, {})
    assert [len(p.steps) for p, _ in parts] == [2, 3]  # the last part keeps the final `done`
    assert [q.part for _, q in parts] == [0, 1] and all(q.parts == 2 for _, q in parts)
    assert all(not p.complete for p, _ in parts)
    assert [p.outcome for p, _ in parts] == ["unknown", "success"]
    assert len({p.id for p, _ in parts}) == 2
    assert parts[1][0].steps[0].action.t_start - parts[1][0].t_start == 0


def _waiting(after_redaction: str) -> _Log:
    log = _Log()
    log.add(ev.Focus, 0.1, window=EDITOR)
    log.frame(0.2, "a" * 64)
    log.click(1)
    log.frame(1.2, "b" * 64)
    log.click(2, 40)
    # The device saw a change during the idle time (a wait step); after the second-pass
    # redaction the image may be the same as before it.
    log.frame(5, after_redaction, pixels="c" * 64)
    log.click(6, 70)
    return log


def test_a_wait_whose_change_was_redacted_away_collapses() -> None:
    for image, removed in (("c" * 64, 0), ("b" * 64, 1)):
        log = _waiting(image)
        (episode,) = _episodes(log)
        assert [s.action.type for s in episode.steps].count("wait") == 1
        ((cleaned, quality),) = apply_quality([episode], log.events, {})
        assert quality.steps_removed_duplicate == removed
        assert [s.action.type for s in cleaned.steps].count("wait") == 1 - removed


def test_redacted_share_is_the_mean_over_pre_frames() -> None:
    log = _waiting("c" * 64)
    ((_, quality),) = apply_quality(_episodes(log), log.events, {"a" * 64: 0.5, "b" * 64: 0.1})
    assert 0.1 < quality.redacted_share < 0.5


def test_the_filter() -> None:
    f = QualityFilter(min_steps=2, max_redacted_share=0.3, complete_only=True)
    assert f.accepts(2, 0.3, True)
    assert not f.accepts(1, 0.0, True) and not f.accepts(5, 0.31, True) and not f.accepts(5, 0.0, False)
