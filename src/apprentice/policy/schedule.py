"""Work hours: the weekly windows in which capture may run, in one named timezone.

Outside these windows the agent auto-pauses (DESIGN promise 1). A day that is not listed
has no work hours. A range whose end is before its start runs past midnight into the next
day (``22:00-06:00``); ``00:00-24:00`` is the whole day. Times use the IANA timezone
database (``zoneinfo``), so daylight-saving changes follow the law of the place, not a
fixed offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True, slots=True)
class Schedule:
    """Work hours per weekday (Monday = 0) as ``(start_minute, end_minute)`` ranges."""

    timezone: str
    hours: tuple[tuple[tuple[int, int], ...], ...]  # seven entries, Monday first

    def __post_init__(self) -> None:
        if len(self.hours) != 7:
            raise ValueError("a schedule has exactly seven days")
        ZoneInfo(self.timezone)  # raises for an unknown zone

    def contains(self, now: datetime) -> bool:
        """True if ``now`` (timezone-aware) falls in a work-hours range."""
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("decisions need a timezone-aware time")
        local = now.astimezone(ZoneInfo(self.timezone))
        day = local.weekday()
        minute = local.hour * 60 + local.minute
        for start, end in self.hours[day]:
            if start <= end and start <= minute < end:
                return True
            if start > end and minute >= start:  # overnight range, evening part
                return True
        # An overnight range that started yesterday covers the early hours of today.
        return any(start > end and minute < end for start, end in self.hours[(day - 1) % 7])
