"""Pausing capture: a contributor's pause, clipped to the organisation's cap.

DESIGN promise 1: a contributor can pause at any time; the organisation may cap a
pause's length (default 30 minutes), after which capture resumes *visibly* — the caller
shows the resume, using :meth:`PauseController.time_left` reaching zero. A request above
the cap is granted for the cap and the :class:`PauseGrant` says it was clipped, so the
UI can tell the person. A new pause while paused starts again from now (it does not add
up). Time comes from an injected clock returning timezone-aware datetimes; nothing here
sleeps or logs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apprentice.policy.rules import DEFAULT_PAUSE_CAP_MINUTES


@dataclass(frozen=True, slots=True)
class PauseGrant:
    """The outcome of a pause request."""

    until: datetime
    granted_minutes: float
    requested_minutes: float | None  # None: "as long as allowed"
    clipped: bool  # the request was longer than the cap


class PauseController:
    """Holds the current pause; ``clock()`` returns the current aware datetime."""

    def __init__(
        self, clock: Callable[[], datetime], cap_minutes: int = DEFAULT_PAUSE_CAP_MINUTES
    ) -> None:
        if cap_minutes <= 0:
            raise ValueError("the pause cap must be a positive number of minutes")
        self._clock = clock
        self.cap_minutes = cap_minutes
        self._until: datetime | None = None

    def pause(self, minutes: float | None = None) -> PauseGrant:
        """Pause for ``minutes`` (None: the cap), clipped to the cap."""
        if minutes is not None and not minutes > 0:
            raise ValueError("a pause must last a positive number of minutes")
        clipped = minutes is not None and minutes > self.cap_minutes
        granted = float(self.cap_minutes if minutes is None or clipped else minutes)
        until = self._now() + timedelta(minutes=granted)
        self._until = until
        return PauseGrant(until, granted, minutes, clipped)

    def resume(self) -> bool:
        """End the pause now; return True if capture was paused."""
        was_paused = self.is_paused()
        self._until = None
        return was_paused

    def is_paused(self) -> bool:
        return self._until is not None and self._now() < self._until

    @property
    def paused_until(self) -> datetime | None:
        """When the current pause ends, or None if not paused (for ``CaptureState``)."""
        return self._until if self.is_paused() else None

    def time_left(self) -> timedelta:
        """Time until capture resumes; zero when not paused."""
        if self._until is None:
            return timedelta(0)
        return max(self._until - self._now(), timedelta(0))

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the pause clock must return timezone-aware datetimes")
        return now
