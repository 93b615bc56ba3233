"""``apprentice record``: standalone recording to a local encrypted spool."""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import sys
import threading
from pathlib import Path

import typer
from rich.console import Console

from apprentice.capture import CaptureConfig, record_until

console = Console(stderr=True)

_M_ARENA_MAX = -8  # glibc mallopt() parameter numbers (malloc.h)


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas for this process; call before the recorder's threads start.

    glibc gives each thread that allocates concurrently its own arena (up to 8 a core), and
    memory freed into one arena is not reused by the others, so the recorder's eight-odd
    threads hold freed screenshot buffers in several places at once. Two arenas measured
    about 2 MB less peak RSS for the same CPU (docs/benchmarks.md, "Recorder").
    ``MALLOC_ARENA_MAX`` in the environment would do the same, but glibc reads it when the
    process starts, before any Python runs. Returns whether the limit was set (False off
    glibc, e.g. macOS or musl, where nothing is changed).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False


def record(
    out: Path = typer.Option(..., "--out", "-o", help="Spool folder (created if new)."),
    duration: float | None = typer.Option(
        None, "--duration", "-d", min=0.1, help="Stop after this many seconds (default: Ctrl-C)."
    ),
    display: str | None = typer.Option(
        None, "--display", help="X display to record, e.g. :99 (default: $DISPLAY)."
    ),
    key_file: Path | None = typer.Option(
        None, "--key-file",
        help="Spool key (default ~/.config/apprentice/keys/<spool id>.key; never inside --out).",
    ),
    max_frame_rate: float = typer.Option(1.0, help="Average stored screenshots per second."),
    frame_scale: float = typer.Option(1.0, help="Downscale stored screenshots (0.05–1.0)."),
    frame_format: str = typer.Option("png", help="png (lossless, default), webp or jpeg."),
    policy: Path | None = typer.Option(
        None, "--policy", help="Capture policy YAML (default ~/.config/apprentice/policy.yaml)."
    ),
    accessibility: bool = typer.Option(
        True, "--accessibility/--no-accessibility",
        help="Record the UI element each click or typing burst targeted (AT-SPI on Linux); "
        "password fields then block keystrokes. See docs/accessibility.md.",
    ),
) -> None:
    """Record keyboard, mouse, window context and pre-/post-action screenshots.

    Only windows the policy allowlists are recorded (everything else becomes a content-free
    gap), and only after you accepted the notice (`apprentice consent accept`). Typed text,
    titles and URLs are redacted on this machine. Everything is sealed with a device key
    (AES-256-GCM) before it touches the disk.
    Stops cleanly on Ctrl-C, SIGTERM or --duration; at most one second of events is lost
    if the process is killed outright.

    Example: apprentice record --out ~/recordings/today --duration 600
    """
    limit_malloc_arenas()
    config = CaptureConfig(
        max_frame_rate=max_frame_rate, frame_scale=frame_scale, frame_format=frame_format
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    console.print(f"[bold red]●[/] recording to {out} — press Ctrl-C to stop")
    result = record_until(
        out, duration=duration, stop_event=stop, config=config, key_file=key_file,
        display=display, policy_file=policy, accessibility=accessibility,
    )
    console.print(
        f"[green]stopped[/]: {result.events} events, {result.frames_stored} screenshots, "
        f"{result.spool_bytes / 1e6:.2f} MB in {result.seconds:.1f} s. "
        f"See it with: apprentice inspect {out}"
    )
