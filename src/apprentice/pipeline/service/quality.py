"""Quality: what is cut from episodes while they are built, and what is measured for filters.

Applied to every episode (``apply_quality``):

* **recorder UI removed** — steps acted in the recorder's own windows (tray, portal, the
  ``apprentice`` app ids; the same list as the policy's built-in ``recorder`` denylist)
  are dropped: they teach an agent nothing about the work.
* **duplicate frames collapsed** — frames that differed on the device only in what the
  second pass redacted become one image (content-addressed after redaction), and a
  ``wait`` step whose frames (the ones that made it a wait) are now all the image it
  started from showed no change and is dropped.
* **interruptions split** — a task interrupted by a pause or an input gap (not a dropped
  frame) is split at each interruption into parts; every part is ``complete = false``
  and only the last keeps the outcome.

Measured per episode, exported as columns and used by ``dataset build`` filters:
``redacted_share`` (mean share of masked pixels over the steps' pre-action frames),
``steps_removed_recorder_ui``, ``steps_removed_duplicate``, ``part``/``parts``.
Filters themselves (minimum steps, maximum redacted share) are chosen per dataset
version, so one store serves datasets with different bars.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from apprentice import events as ev
from apprentice.pipeline.episodes import Episode
from apprentice.pipeline.steps import Step

#: The recorder's own app ids (policy/defaults.py ``RECORDER``; a test keeps them equal).
RECORDER_APPS = frozenset({"apprentice", "apprentice-ui", "apprentice-portal"})
# Gaps that only concern screenshots do not interrupt what the person was doing.
_FRAME_ONLY = frozenset({"frames"})


@dataclass(frozen=True, slots=True)
class Quality:
    redacted_share: float
    steps_removed_recorder_ui: int
    steps_removed_duplicate: int
    part: int
    parts: int


@dataclass(frozen=True, slots=True)
class QualityFilter:
    """Which episodes a dataset version accepts."""

    min_steps: int = 2
    max_redacted_share: float = 0.5
    complete_only: bool = False

    def accepts(self, num_steps: int, redacted_share: float, complete: bool) -> bool:
        return (num_steps >= self.min_steps and redacted_share <= self.max_redacted_share
                and (complete or not self.complete_only))


def apply_quality(
    episodes: Sequence[Episode], events: Sequence[ev.Event], masked_share: Mapping[str, float]
) -> list[tuple[Episode, Quality]]:
    """Clean each episode, split interrupted ones; return the parts with their quality."""
    interruptions = sorted(
        e.t for e in events
        if isinstance(e, ev.Control) and (e.op == "pause" or (
            e.op == "gap" and str(e.info.get("stream", "")) not in _FRAME_ONLY))
    )
    blobs = {e.seq: e.blob for e in events if isinstance(e, ev.Frame)}
    out: list[tuple[Episode, Quality]] = []
    for episode in episodes:
        kept, recorder, duplicate = _clean(episode.steps, blobs)
        cuts = [t for t in interruptions if episode.t_start < t < episode.t_end]
        groups = _split(kept, cuts) if cuts else [kept]
        groups = [g for g in groups if g]
        for number, steps in enumerate(groups):
            part = _rebuild(episode, steps, number, len(groups))
            out.append((part, Quality(
                redacted_share=_share(part.steps, masked_share),
                steps_removed_recorder_ui=recorder, steps_removed_duplicate=duplicate,
                part=number, parts=len(groups),
            )))
    return out


def _clean(steps: Sequence[Step], blobs: Mapping[int, str]) -> tuple[list[Step], int, int]:
    kept: list[Step] = []
    recorder = duplicate = 0
    for step in steps:
        window = step.action.window
        if window is not None and (window.app_id or "").lower() in RECORDER_APPS:
            recorder += 1
            continue
        seen = {blobs[seq] for seq in step.action.seqs if seq in blobs}
        if step.action.type == "wait" and step.pre is not None and seen <= {step.pre.blob}:
            duplicate += 1
            continue
        kept.append(step)
    return kept, recorder, duplicate


def _split(steps: list[Step], cuts: list[int]) -> list[list[Step]]:
    groups: list[list[Step]] = [[]]
    remaining = list(cuts)
    for step in steps:
        while remaining and step.action.t_start > remaining[0]:
            remaining.pop(0)
            if groups[-1]:
                groups.append([])
        groups[-1].append(step)
    return groups


def _rebuild(episode: Episode, steps: list[Step], part: int, parts: int) -> Episode:
    steps = [dataclasses.replace(s, index=i) for i, s in enumerate(steps)]
    actions = [s.action for s in steps]
    whole = parts == 1
    return dataclasses.replace(
        episode,
        id=episode.id if whole else hashlib.sha256(f"{episode.id}\x00part{part}".encode()).hexdigest()[:16],
        outcome=episode.outcome if whole or part == parts - 1 or episode.outcome is None else "unknown",
        complete=episode.complete and whole,
        apps=tuple(dict.fromkeys(a.window.app_id for a in actions if a.window and a.window.app_id)),
        sites=_sites(episode, actions),
        t_start=episode.t_start if part == 0 else actions[0].t_start,
        t_end=episode.t_end if part == parts - 1 else actions[-1].t_end,
        first_seq=episode.first_seq if part == 0 else actions[0].first_seq,
        last_seq=episode.last_seq if part == parts - 1 else actions[-1].last_seq,
        steps=tuple(steps),
    )


def _sites(episode: Episode, actions: Sequence[object]) -> tuple[str, ...]:
    from urllib.parse import urlsplit

    seen: list[str] = []
    for action in actions:
        window = getattr(action, "window", None)
        url = window.url if window is not None else None
        try:
            host = urlsplit(url).hostname if url else None
        except ValueError:
            host = None
        if host and not host.startswith("<") and host in episode.sites and host not in seen:
            seen.append(host)
    return tuple(seen)


def _share(steps: Sequence[Step], masked_share: Mapping[str, float]) -> float:
    shares = [masked_share.get(s.pre.blob, 0.0) for s in steps if s.pre is not None]
    return round(sum(shares) / len(shares), 4) if shares else 0.0
