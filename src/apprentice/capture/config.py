"""Tunable knobs of the recorder, with the defaults the benchmark was run with."""

from __future__ import annotations

from dataclasses import dataclass

from apprentice.errors import ConfigError

FRAME_FORMATS = ("png", "webp", "jpeg")


@dataclass(frozen=True, slots=True)
class CaptureConfig:
    #: Average stored screenshots per second (token bucket), and the burst allowed above it.
    max_frame_rate: float = 1.0
    frame_burst: int = 4
    #: How often the screen is grabbed in the background so that a recent pre-action frame
    #: exists when an action starts. Grabs are kept in memory (a few) and stored only when
    #: an action uses them.
    refresh_interval: float = 1.0
    #: Quiet time after an action before the post-action frame is taken.
    settle_delay: float = 0.3
    #: A key press after this much keyboard quiet starts a new burst (and gets a pre frame).
    burst_gap: float = 1.0
    #: Downscale factor for stored frames (1.0 keeps full resolution).
    frame_scale: float = 1.0
    frame_format: str = "png"
    png_level: int = 1
    jpeg_quality: int = 92
    #: Spool batching: events are written at least this often, fsynced at least once a second.
    flush_interval: float = 0.2
    fsync_interval: float = 1.0
    max_spool_bytes: int = 2 * 1024 * 1024 * 1024
    #: Accessibility (element) queries: each source's time limit per query, and how long the
    #: typed-text guard holds a burst's keys waiting to learn whether the field is a password.
    element_timeout: float = 0.4
    element_wait: float = 1.0

    def __post_init__(self) -> None:
        if self.frame_format not in FRAME_FORMATS:
            raise ConfigError(f"frame format must be one of {FRAME_FORMATS}")
        if not 0.05 <= self.frame_scale <= 1.0:
            raise ConfigError("frame scale must be between 0.05 and 1.0")
        if self.max_frame_rate <= 0 or self.frame_burst < 1:
            raise ConfigError("frame rate must be positive and the burst at least 1")
        if not 0 < self.fsync_interval <= 1.0:
            raise ConfigError("fsync interval must be in (0, 1] seconds (the loss window)")
        if not 0 < self.element_timeout < self.element_wait <= 2.0:
            raise ConfigError("element timeout must be positive and below the element wait (at most 2 s)")
