"""Work hours in a named timezone, including overnight ranges and daylight saving."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from apprentice.policy import Schedule

NONE: tuple[tuple[int, int], ...] = ()


def _week(**days: tuple[tuple[int, int], ...]) -> tuple[tuple[tuple[int, int], ...], ...]:
    order = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    return tuple(days.get(d, NONE) for d in order)


BERLIN_DAY = Schedule("Europe/Berlin", _week(mon=((540, 1050),)))
NIGHT = Schedule("UTC", _week(fri=((1320, 360),)))
ALL_DAY = Schedule("UTC", _week(sun=((0, 1440),)))


@pytest.mark.parametrize(
    ("schedule", "now", "expected"),
    [
        # 2024-01-15 is a Monday; Berlin is UTC+1 in winter.
        (BERLIN_DAY, datetime(2024, 1, 15, 8, 0, tzinfo=UTC), True),
        (BERLIN_DAY, datetime(2024, 1, 15, 7, 59, tzinfo=UTC), False),
        (BERLIN_DAY, datetime(2024, 1, 15, 16, 29, tzinfo=UTC), True),
        (BERLIN_DAY, datetime(2024, 1, 15, 16, 30, tzinfo=UTC), False),
        (BERLIN_DAY, datetime(2024, 1, 16, 10, 0, tzinfo=UTC), False),
        # Summer time: UTC+2, so 07:00 UTC is 09:00 in Berlin (2024-07-15, a Monday).
        (BERLIN_DAY, datetime(2024, 7, 15, 7, 0, tzinfo=UTC), True),
        (BERLIN_DAY, datetime(2024, 7, 15, 9, 0, tzinfo=timezone(timedelta(hours=2))), True),
        # Overnight from Friday 22:00 to Saturday 06:00.
        (NIGHT, datetime(2024, 1, 19, 23, 0, tzinfo=UTC), True),
        (NIGHT, datetime(2024, 1, 20, 5, 59, tzinfo=UTC), True),
        (NIGHT, datetime(2024, 1, 20, 6, 0, tzinfo=UTC), False),
        (NIGHT, datetime(2024, 1, 19, 5, 0, tzinfo=UTC), False),
        (ALL_DAY, datetime(2024, 1, 21, 23, 59, tzinfo=UTC), True),
        (ALL_DAY, datetime(2024, 1, 22, 0, 0, tzinfo=UTC), False),
    ],
)
def test_contains(schedule, now, expected):
    assert schedule.contains(now) is expected


def test_naive_time_is_refused():
    with pytest.raises(ValueError):
        BERLIN_DAY.contains(datetime(2024, 1, 15, 9, 0))


def test_schedule_needs_seven_days():
    with pytest.raises(ValueError):
        Schedule("UTC", ())
