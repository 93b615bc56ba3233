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
    extra: dict[str, int] = field(default_factory=dict)


@dataclass
class _Session:
    events: list[ev.Event]
    chunks: list[str]


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
    sessions = _sessions(store, state.event_chunks(skey))
    frames = state.frames_of(skey)
    built = state.built_sessions(skey)
    for index, session in enumerate(sessions):
        start = next((e for e in session.events if isinstance(e, ev.Control) and e.op == "start"), None)
        session_id = str(start.info.get("session")) if start else f"nostart:{session.chunks[0]}"
        session_key = keyed_hash(state_key, f"session\x00{contributor}\x00{skey}\x00{session_id}", 32)
        if session_key in built:
            continue
        ended = index < len(sessions) - 1 or any(
            isinstance(e, ev.Control) and e.op == "stop" for e in session.events
        )
        blobs = {e.blob for e in session.events if isinstance(e, ev.Frame)}
        missing = [b for b in blobs if b not in frames]
        if not finalize and (not ended or missing):
            stats.waiting += 1
            continue
        stats.frames_missing += len(missing)
        results = build_session(session.events, frames, redactor, config, literals, stats)
        records = []
        for episode_rowdict, step_rows, images, quality in results:
            chunk_ids = set(session.chunks) | {frames[b].chunk_id for b in images if b in frames}
            store.put(
                EPISODES_KIND,
                episode_rowdict["episode_id"],
                json.dumps(
                    {"episode": episode_rowdict, "steps": step_rows, "images": sorted(images)},
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
                    sorted(chunk_ids | {frames[b].chunk_id for b in blobs if b in frames}),
                )
            )
            stats.steps += len(step_rows)
        state.record_session(session_key, contributor, skey, records)
        stats.sessions += 1
        stats.episodes += len(records)


def _sessions(store: SealedFiles, chunks: Sequence[tuple[str, str]]) -> list[_Session]:
    """Split the spool's event log at ``start`` controls, remembering each event's chunk."""
    sessions: list[_Session] = []
    for chunk_id, _segment in chunks:
        try:
            events = payload_events(store.get(EVENTS_KIND, chunk_id))
        except KeyError:
            continue
        for event in events:
            if not sessions or (isinstance(event, ev.Control) and event.op == "start"):
                sessions.append(_Session([], []))
            sessions[-1].events.append(event)
            if not sessions[-1].chunks or sessions[-1].chunks[-1] != chunk_id:
                sessions[-1].chunks.append(chunk_id)
    for session in sessions:
        session.events.sort(key=lambda e: e.seq)
    return sessions


def build_session(
    events: Sequence[ev.Event],
    frames: dict[str, FrameInfo],
    redactor: Redactor,
    config: PipelineConfig,
    literals: dict[str, str],
    stats: AssembleStats,
) -> list[tuple[dict[str, Any], list[dict[str, Any]], set[str], Quality]]:
    """One session's events → (episode row, step rows, image blobs, quality) per episode."""
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
        out.append((row, steps, set(images), quality))
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
