"""Sessions → episodes inside the pipeline: the dataset code itself, fed by staged chunks.

For each device spool with staged event chunks, :func:`build_ready_sessions` decrypts the
spool's event chunks in memory, splits the log into recording sessions and builds every
session that is *ready* — it ended (a ``stop`` control, or a later session began) and
every frame it references has been through the second-pass redaction — or every session
when ``finalize`` is set. Building one session:

1. second-pass text redaction and scrubbing of every window title, URL and task
   instruction (``Focus`` and ``task_start`` events), frames re-pointed to their redacted
   images (a frame the redaction dropped is removed);
2. actions (:func:`apprentice.pipeline.actions.reduce_actions`), typed text redacted and
   scrubbed again, then episodes (:func:`apprentice.pipeline.episodes.segment_episodes`) —
   the same code ``apprentice dataset build`` runs on a local spool;
3. quality (:mod:`.quality`), rows (``export/_rows.py``) with the quality columns and the
   coarse month, one last scrub of every string column;
4. each episode record sealed into the store, and the session, its episodes and their
   lineage (which chunks they came from) recorded in one transaction.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from apprentice import events as ev
from apprentice.crypto import keyed_hash
from apprentice.pipeline.actions import reduce_actions
from apprentice.pipeline.config import PipelineConfig
from apprentice.pipeline.episodes import segment_episodes
from apprentice.pipeline.export._rows import episode_row, step_row
from apprentice.pipeline.model import Action
from apprentice.pipeline.service.ingest import EVENTS_KIND
from apprentice.pipeline.service.pseudonym import Scrubber, coarse_month
from apprentice.pipeline.service.quality import Quality, apply_quality
from apprentice.pipeline.service.redaction import redact_text, redact_url
from apprentice.pipeline.service.state import EpisodeInfo, FrameInfo, PipelineState
from apprentice.pipeline.service.store import SealedFiles
from apprentice.redact import Redactor
from apprentice.spool.payload import payload_events

EPISODES_KIND = "episodes"
# Row columns that hold free text (or code rendering typed text) and are scrubbed last.
_TEXT_COLUMNS = ("instruction", "window_title", "url", "text", "pyautogui", "pyautogui_norm", "computer13")


@dataclass
class AssembleStats:
    sessions: int = 0
    episodes: int = 0
    steps: int = 0
    waiting: int = 0
    dropped_fields: int = 0
    frames_missing: int = 0
    withdrawn: int = 0  # sessions a contributor's deletion reached before they were built
    chunks_read: int = 0  # event chunks decrypted to build sessions (each about once)
    extra: dict[str, int] = field(default_factory=dict)


def build_ready_sessions(
    state: PipelineState,
    store: SealedFiles,
    state_key: bytes,
    redactor: Redactor,
    config: PipelineConfig,
    *,
    finalize: bool = False,
    literals: Callable[[str], dict[str, str]] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> AssembleStats:
    stats = AssembleStats()
    tombstoned = state.tombstoned()
    spools = [s for s in state.spools_with_work() if s[0] not in tombstoned]
    for number, (contributor, skey) in enumerate(spools):
        _build_spool(
            state,
            store,
            state_key,
            redactor,
            config,
            contributor,
            skey,
            finalize,
            (literals or _literals(state))(contributor),
            stats,
        )
        if progress:
            progress(number + 1, len(spools))
    return stats


def _literals(state: PipelineState) -> Callable[[str], dict[str, str]]:
    def known(contributor: str) -> dict[str, str]:
        out = {device: "<DEVICE>" for device in state.devices_of(contributor)}
        out[contributor] = "<CONTRIBUTOR>"
        return out

    return known


def _build_spool(
    state: PipelineState,
    store: SealedFiles,
    state_key: bytes,
    redactor: Redactor,
    config: PipelineConfig,
    contributor: str,
    skey: str,
    finalize: bool,
    literals: dict[str, str],
    stats: AssembleStats,
) -> None:
    chunk_rows = state.spool_chunks(skey)
    parts = summarise(state, store, [c for c, _, status in chunk_rows if status == "staged"])
    deleted = {c for c, _, status in chunk_rows if status == "deleted"}
    plans = _plans([(c, parts.get(c)) for c, _, _ in chunk_rows], deleted)
    frames = state.frames_of(skey)
    frame_deleted = {c for c, status in state.chunk_statuses(f.chunk_id for f in frames.values()).items()
                     if status == "deleted"}
    built = state.built_sessions(skey)
    decoded: dict[str, list[list[ev.Event]]] = {}
    for index, plan in enumerate(plans):
        session_key = keyed_hash(state_key, f"session\x00{contributor}\x00{skey}\x00{plan.session_id}", 32)
        if session_key in built:
            continue
        if plan.deleted or any(b in frames and frames[b].chunk_id in frame_deleted for b in plan.blobs):
            # The contributor deleted part of this session: none of it is built, ever.
            state.record_session(session_key, contributor, skey, [])
            stats.withdrawn += 1
            continue
        ended = index < len(plans) - 1 or plan.stop
        missing = [b for b in plan.blobs if b not in frames]
        if not finalize and (not ended or missing):
            stats.waiting += 1
            continue
        stats.frames_missing += len(missing)
        events = _events_of(store, plan, decoded)
        stats.chunks_read += len(plan.chunk_ids)
        results = build_session(events, frames, redactor, config, literals, stats)
        records = []
        lineage = set(plan.chunk_ids) | {frames[b].chunk_id for b in plan.blobs if b in frames}
        for episode_rowdict, step_rows, images, quality, started_ns in results:
            chunk_ids = lineage | {frames[b].chunk_id for b in images if b in frames}
            # ``started_at`` is for the contributor's own view (catalog.py) only: datasets
            # take ``episode`` and ``steps``, whose only date is the month.
            store.put(
                EPISODES_KIND,
                episode_rowdict["episode_id"],
                json.dumps(
                    {"episode": episode_rowdict, "steps": step_rows, "images": sorted(images),
                     "started_at": _iso(started_ns)},
                    sort_keys=True,
                    ensure_ascii=False,
                ).encode(),
            )
            records.append(
                (
                    EpisodeInfo(
                        episode_rowdict["episode_id"],
                        contributor,
                        episode_rowdict["month"],
                        tuple(episode_rowdict["apps"]),
                        tuple(episode_rowdict["sites"]),
                        episode_rowdict["source"],
                        episode_rowdict["complete"],
                        episode_rowdict["num_steps"],
                        quality.redacted_share,
                    ),
                    sorted(chunk_ids),
                )
            )
            stats.steps += len(step_rows)
        state.record_session(session_key, contributor, skey, records)
        stats.sessions += 1
        stats.episodes += len(records)


@dataclass
class _Plan:
    """One recording session as the chunk summaries describe it (nothing decrypted yet)."""

    session_id: str
    pieces: list[tuple[str, int]]  # (chunk id, part index)
    stop: bool = False
    blobs: set[str] = field(default_factory=set)
    deleted: bool = False

    @property
    def chunk_ids(self) -> list[str]:
        return list(dict.fromkeys(c for c, _ in self.pieces))


def split_parts(events: Sequence[ev.Event]) -> list[list[ev.Event]]:
    """A chunk's events in log order, cut before every ``start`` control."""
    parts: list[list[ev.Event]] = []
    for event in events:
        if not parts or (isinstance(event, ev.Control) and event.op == "start"):
            parts.append([])
        parts[-1].append(event)
    return parts


def _describe(part: list[ev.Event]) -> dict[str, Any]:
    first = part[0]
    start = isinstance(first, ev.Control) and first.op == "start"
    return {
        "start": start,
        "session": str(first.info.get("session")) if start else None,  # type: ignore[union-attr]
        "stop": any(isinstance(e, ev.Control) and e.op == "stop" for e in part),
        "blobs": sorted({e.blob for e in part if isinstance(e, ev.Frame)}),
    }


def summarise(state: PipelineState, store: SealedFiles,
              chunk_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """The parts of each staged event chunk; a chunk is decrypted for this once, ever."""
    parts = state.event_parts(chunk_ids)
    for chunk_id in chunk_ids:
        if chunk_id in parts:
            continue
        try:
            events = payload_events(store.get(EVENTS_KIND, chunk_id))
        except KeyError:
            continue
        parts[chunk_id] = [_describe(p) for p in split_parts(events)]
        state.put_event_parts(chunk_id, parts[chunk_id])
    return parts


def _plans(chunks: Sequence[tuple[str, list[dict[str, Any]] | None]], deleted: set[str]) -> list[_Plan]:
    """Chain the chunks' parts into sessions: a part that does not open with ``start``
    continues the session before it. A deleted chunk keeps its place (its summary stays)."""
    plans: list[_Plan] = []
    for chunk_id, parts in chunks:
        for index, part in enumerate(parts or ()):
            if part["start"] or not plans:
                plans.append(_Plan(str(part["session"]) if part["start"] else f"nostart:{chunk_id}", []))
            plan = plans[-1]
            plan.pieces.append((chunk_id, index))
            plan.stop |= bool(part["stop"])
            plan.blobs.update(part["blobs"])
            plan.deleted |= chunk_id in deleted
    return plans


def _events_of(store: SealedFiles, plan: _Plan, decoded: dict[str, list[list[ev.Event]]]) -> list[ev.Event]:
    """Decrypt only this session's chunks (each once per spool build) and take its parts."""
    events: list[ev.Event] = []
    for chunk_id, index in plan.pieces:
        if chunk_id not in decoded:
            try:
                decoded[chunk_id] = split_parts(payload_events(store.get(EVENTS_KIND, chunk_id)))
            except KeyError:
                decoded[chunk_id] = []
        parts = decoded[chunk_id]
        if index < len(parts):
            events += parts[index]
    # A chunk read for an earlier session of this spool is not needed again after the next.
    for chunk_id in [c for c in decoded if c not in plan.chunk_ids]:
        del decoded[chunk_id]
    events.sort(key=lambda e: e.seq)
    return events


def build_session(
    events: Sequence[ev.Event],
    frames: dict[str, FrameInfo],
    redactor: Redactor,
    config: PipelineConfig,
    literals: dict[str, str],
    stats: AssembleStats,
) -> list[tuple[dict[str, Any], list[dict[str, Any]], set[str], Quality, int | None]]:
    """One session's events → (episode row, step rows, image blobs, quality, wall-clock start
    in ns or None) per episode."""
    scrubber = Scrubber(literals)
    scrubber.learn(_texts(events))
    cleaned = _clean_events(events, frames, redactor, scrubber, stats)
    actions = [
        a
        for a in (
            _clean_action(a, redactor, scrubber, stats) for a in reduce_actions(cleaned, config.actions)
        )
        if a is not None
    ]
    episodes = segment_episodes(actions, cleaned, config)
    shares = {f.new_blob: f.masked_share or 0.0 for f in frames.values() if f.new_blob}
    start = next((e for e in cleaned if isinstance(e, ev.Control) and e.op == "start"), None)
    wall = _wall_at(start)
    out = []
    for episode, quality in apply_quality(episodes, cleaned, shares):
        images = {f"{f.blob}": f"images/{f.blob}.png" for s in episode.steps for f in (s.pre, s.post) if f}
        row = episode_row(episode)
        row.update(
            month=coarse_month(wall(episode.t_start)),
            sites=[s for s in row["sites"] if not s.startswith("<")],
            redacted_share=quality.redacted_share,
            steps_removed_recorder_ui=quality.steps_removed_recorder_ui,
            steps_removed_duplicate=quality.steps_removed_duplicate,
            part=quality.part,
            parts=quality.parts,
        )
        steps = [step_row(episode, s, images) for s in episode.steps]
        for item in [row, *steps]:
            for column in _TEXT_COLUMNS:
                if isinstance(item.get(column), str):
                    item[column] = scrubber.scrub(item[column])
        out.append((row, steps, set(images), quality, wall(episode.t_start)))
    return out


def _texts(events: Sequence[ev.Event]) -> list[str | None]:
    texts: list[str | None] = []
    typed: list[str] = []
    for e in events:
        if isinstance(e, ev.Focus) and e.window is not None:
            texts += [e.window.title, e.window.url]
        elif isinstance(e, ev.Control) and e.op == "task_start":
            texts.append(str(e.info.get("instruction") or ""))
        elif isinstance(e, ev.KeyDown) and e.char:
            typed.append(e.char)
    texts.append("".join(typed))
    return texts


def _clean_events(
    events: Sequence[ev.Event],
    frames: dict[str, FrameInfo],
    redactor: Redactor,
    scrubber: Scrubber,
    stats: AssembleStats,
) -> list[ev.Event]:
    out: list[ev.Event] = []
    for e in events:
        if isinstance(e, ev.Focus) and e.window is not None:
            title = scrubber.scrub(redact_text(redactor, e.window.title))
            url = scrubber.scrub_url(redact_url(redactor, e.window.url))
            stats.dropped_fields += (e.window.title is not None and title is None) + (
                e.window.url is not None and url is None
            )
            out.append(
                dataclasses.replace(
                    e,
                    window=dataclasses.replace(
                        e.window, title=title, url=url, process=None, pid=None, instance=None
                    ),
                )
            )
        elif isinstance(e, ev.Control) and e.op == "task_start" and e.info.get("instruction"):
            instruction = scrubber.scrub(redact_text(redactor, str(e.info["instruction"])))
            out.append(dataclasses.replace(e, info={**e.info, "instruction": instruction}))
        elif isinstance(e, ev.Frame):
            info = frames.get(e.blob)
            if info is None or info.new_blob is None:
                continue  # dropped by the second-pass redaction, or never arrived
            out.append(
                dataclasses.replace(
                    e,
                    blob=info.new_blob,
                    pixel_hash=info.new_blob,
                    format=info.format or "png",
                    width=info.width or e.width,
                    height=info.height or e.height,
                )
            )
        else:
            out.append(e)
    return out


def _clean_action(
    action: Action, redactor: Redactor, scrubber: Scrubber, stats: AssembleStats
) -> Action | None:
    if action.text is None:
        return action
    text = scrubber.scrub(redact_text(redactor, action.text))
    if text is None:
        stats.dropped_fields += 1
        return None  # fail closed: typed text that cannot be redacted is not kept
    return dataclasses.replace(action, text=text)


def _wall_at(start: ev.Control | None) -> Callable[[int], int | None]:
    wall_ns = start.info.get("wall_ns") if start else None
    mono_ns = start.info.get("mono_ns", start.t) if start else None
    if not isinstance(wall_ns, int) or not isinstance(mono_ns, int):
        return lambda t: None
    return lambda t: wall_ns + (t - mono_ns)


def _iso(ns: int | None) -> str | None:
    if ns is None:
        return None
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ns / 1e9, UTC).isoformat(timespec="seconds")
