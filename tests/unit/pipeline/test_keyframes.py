"""Keyframe selection: pre-action frames never show the action; post frames never the next."""

from __future__ import annotations

from apprentice import events as ev
from apprentice.pipeline.actions import reduce_actions
from apprentice.pipeline.keyframes import FrameIndex, action_monitor

from .conftest import MS, Log


def _click_with_frames(build_frames) -> tuple[Log, int]:  # type: ignore[no-untyped-def]
    log = Log().start().focus(1).frame("early")
    down_t = log.t + log.step
    log.click(100, 100)
    build_frames(log, down_t)
    return log, down_t


def test_frame_grabbed_after_the_action_began_is_never_pre() -> None:
    # The recorder commits a frame tagged pre for the click, but grabbed after mouse down.
    log, down_t = _click_with_frames(
        lambda g, t: g.frame("late", t=t + 1, trigger="pre", for_seq=g.last_seq - 1)
    )
    (click,) = reduce_actions(log.events)
    pre = FrameIndex(log.events).pre(click, 0)
    assert pre is not None and pre.pixel_hash == "early"
    assert pre.t < click.t_start


def test_frame_grabbed_exactly_at_the_start_is_not_pre() -> None:
    log, down_t = _click_with_frames(lambda g, t: g.frame("same", t=t))
    (click,) = reduce_actions(log.events)
    assert FrameIndex(log.events).pre(click, 0).pixel_hash == "early"  # type: ignore[union-attr]


def test_tagged_pre_frame_is_preferred_when_in_time() -> None:
    log = Log().start().focus(1).frame("tagged-source")
    tagged_t = log.t
    log.frame("refresh")  # a later untagged grab, still before the click
    log.click(100, 100)
    down_seq = log.last_seq - 1
    log.frame("tagged", t=tagged_t, trigger="pre", for_seq=down_seq)
    (click,) = reduce_actions(log.events)
    assert FrameIndex(log.events).pre(click, 0).pixel_hash == "tagged"  # type: ignore[union-attr]


def test_no_frame_before_the_action_means_no_pre() -> None:
    log = Log().start().click(1, 1).frame("after")
    (click,) = reduce_actions(log.events)
    assert FrameIndex(log.events).pre(click, 0) is None


def test_post_prefers_the_tagged_frame_then_the_first_after() -> None:
    log = Log().start().click(10, 10)
    up_seq = log.last_seq
    log.frame("first-after").frame("tagged", trigger="post", for_seq=up_seq)
    (click,) = reduce_actions(log.events)
    index = FrameIndex(log.events)
    assert index.post(click, 0, None).pixel_hash == "tagged"  # type: ignore[union-attr]
    untagged = Log().start().click(10, 10).frame("first-after").frame("second")
    (click,) = reduce_actions(untagged.events)
    post = FrameIndex(untagged.events).post(click, 0, None)
    assert post is not None and post.pixel_hash == "first-after"


def test_post_frame_after_the_next_action_began_is_not_used() -> None:
    log = Log().start().click(10, 10).click(300, 300).frame("after-both")
    first, second = reduce_actions(log.events)
    assert FrameIndex(log.events).post(first, 0, second.t_start) is None


def test_frames_of_the_actions_monitor_are_preferred() -> None:
    right = ev.Rect(1920, 0, 1920, 1080)
    log = Log().start(monitors=[
        {"index": 0, "x": 0, "y": 0, "width": 1920, "height": 1080, "primary": True},
        {"index": 1, "x": 1920, "y": 0, "width": 1920, "height": 1080},
    ])
    log.frame("left-old").frame("right", monitor=1, bounds=right).frame("left-new")
    log.click(2500, 500)
    (click,) = reduce_actions(log.events)
    monitors = [ev.Monitor(0, ev.Rect(0, 0, 1920, 1080)), ev.Monitor(1, right)]
    assert action_monitor(click, monitors) == 1
    pre = FrameIndex(log.events).pre(click, 1)
    assert pre is not None and (pre.pixel_hash, pre.bounds) == ("right", right)


def test_keyframe_carries_size_blob_and_cursor() -> None:
    log = Log().start().frame("p", cursor=(7, 8)).wait(5).click(1, 1)
    (click,) = reduce_actions(log.events)
    pre = FrameIndex(log.events).pre(click, 0)
    assert pre is not None
    assert (pre.width, pre.height, pre.cursor, len(pre.blob)) == (960, 540, (7, 8), 64)
    assert pre.t <= click.t_start - 5 * MS
