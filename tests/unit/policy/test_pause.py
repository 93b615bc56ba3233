"""Pausing with the organisation's cap, on an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apprentice.policy import PauseController

START = datetime(2024, 1, 15, 12, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_when_request_is_within_cap_then_it_is_granted(clock):
    pauses = PauseController(clock, cap_minutes=30)
    grant = pauses.pause(10)
    assert grant.until == START + timedelta(minutes=10)
    assert (grant.granted_minutes, grant.requested_minutes, grant.clipped) == (10, 10, False)
    assert pauses.is_paused() and pauses.paused_until == grant.until
    assert pauses.time_left() == timedelta(minutes=10)


def test_when_request_exceeds_cap_then_it_is_clipped_and_says_so(clock):
    grant = PauseController(clock, cap_minutes=30).pause(120)
    assert grant.clipped is True
    assert grant.granted_minutes == 30
    assert grant.until == START + timedelta(minutes=30)


def test_default_cap_is_thirty_minutes_and_no_length_means_the_cap(clock):
    grant = PauseController(clock).pause()
    assert grant.granted_minutes == 30 and grant.clipped is False


def test_when_time_passes_then_capture_resumes_by_itself(clock):
    pauses = PauseController(clock)
    pauses.pause(5)
    clock.advance(minutes=4)
    assert pauses.time_left() == timedelta(minutes=1)
    clock.advance(minutes=1)
    assert not pauses.is_paused()
    assert pauses.paused_until is None
    assert pauses.time_left() == timedelta(0)


def test_resume_ends_the_pause(clock):
    pauses = PauseController(clock)
    assert pauses.resume() is False
    pauses.pause(5)
    assert pauses.resume() is True
    assert not pauses.is_paused() and pauses.time_left() == timedelta(0)


def test_a_new_pause_starts_from_now_and_does_not_add_up(clock):
    pauses = PauseController(clock, cap_minutes=30)
    pauses.pause(30)
    clock.advance(minutes=20)
    grant = pauses.pause(30)
    assert grant.until == clock.now + timedelta(minutes=30)


@pytest.mark.parametrize("minutes", [0, -1, float("nan")])
def test_non_positive_pause_is_refused(clock, minutes):
    with pytest.raises(ValueError):
        PauseController(clock).pause(minutes)


def test_cap_must_be_positive(clock):
    with pytest.raises(ValueError):
        PauseController(clock, cap_minutes=0)


def test_clock_must_be_aware():
    pauses = PauseController(lambda: datetime(2024, 1, 15))
    with pytest.raises(ValueError):
        pauses.pause(1)
