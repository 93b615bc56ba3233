"""The pipeline's own state: cursor, processed chunks, staged frames, built sessions, episodes,
lineage (chunk → episode → dataset version), tombstones and dataset versions.

SQLAlchemy Core on its own SQLite file by default (``<data dir>/pipeline.db``, WAL,
``synchronous=FULL``); any SQLAlchemy URL works. The schema is created on open (own
metadata, no Alembic: the pipeline's state can always be rebuilt from the collector).

Contributor ids appear here — this is the pipeline identity's private bookkeeping, needed
to withdraw a forgotten contributor's episodes — and never in a dataset. No content,
titles or typed text are stored; device ids only to scrub them from captured text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

metadata = MetaData()

settings = Table(
    "settings", metadata, Column("name", String(64), primary_key=True), Column("value", Text, nullable=False)
)
chunks = Table(
    "chunks",
    metadata,
    Column("chunk_id", String(64), primary_key=True),
    Column("contributor_id", String(128), nullable=False, index=True),
    # Kept only to scrub a device id that shows up in captured text; never exported.
    Column("device_id", String(128), nullable=False),
    Column("spool_key", String(32), nullable=False, index=True),
    Column("segment", String(64), nullable=False),
    Column("stream", String(16), nullable=False),
    Column("status", String(16), nullable=False),  # staged | failed | gone | forgotten | deleted
    Column("reason", String(64)),
    Column("records", Integer, nullable=False, default=0),
)
frames = Table(
    "frames",
    metadata,
    Column("spool_key", String(32), primary_key=True),
    Column("orig_blob", String(64), primary_key=True),
    Column("chunk_id", String(64), nullable=False),
    Column("new_blob", String(64)),  # None: dropped by the second-pass redaction
    Column("format", String(8)),
    Column("width", Integer),
    Column("height", Integer),
    Column("masked_share", Float),
    Column("counts", Text),
)
# The structure of a staged event chunk, read once: its parts in log order, each the events
# of one recording session — ``session`` is the id of the ``start`` control opening it, None
# for a part continuing the previous chunk's session — with whether a ``stop`` ends it and
# the original frame blobs it references. Kept after the chunk is deleted (no content: ids
# and hashes), so the sessions around a deletion still line up.
event_parts = Table(
    "event_parts",
    metadata,
    Column("chunk_id", String(64), primary_key=True),
    Column("parts", Text, nullable=False),
)
deletions_applied = Table(
    "deletions",
    metadata,
    Column("deletion_id", String(64), primary_key=True),
    Column("contributor_id", String(128), nullable=False),
    Column("requested_at", String(64), nullable=False),
    Column("chunks", Integer, nullable=False),
)
sessions = Table(
    "sessions",
    metadata,
    Column("session_key", String(32), primary_key=True),
    Column("contributor_id", String(128), nullable=False, index=True),
    Column("spool_key", String(32), nullable=False),
    Column("episodes", Integer, nullable=False),
)
episodes = Table(
    "episodes",
    metadata,
    Column("episode_id", String(32), primary_key=True),
    Column("contributor_id", String(128), nullable=False, index=True),
    Column("session_key", String(32), nullable=False),
    Column("month", String(7)),
    Column("apps", Text, nullable=False),
    Column("sites", Text, nullable=False),
    Column("source", String(16), nullable=False),
    Column("complete", Boolean, nullable=False),
    Column("num_steps", Integer, nullable=False),
    Column("redacted_share", Float, nullable=False),
    Column("tombstoned", Boolean, nullable=False, default=False),
)
lineage = Table(
    "lineage",
    metadata,
    Column("chunk_id", String(64), primary_key=True),
    Column("episode_id", String(32), primary_key=True),
)
tombstones = Table(
    "tombstones",
    metadata,
    Column("contributor_id", String(128), primary_key=True),
    Column("forgotten_at", String(64), nullable=False),
)
versions = Table(
    "dataset_versions",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("spec", Text, nullable=False),
    Column("manifest_sha256", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # active | withdrawn
)
version_episodes = Table(
    "dataset_episodes",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("episode_id", String(32), primary_key=True),
    Column("split", String(16), nullable=False),
)


@dataclass(frozen=True, slots=True)
class EpisodeInfo:
    episode_id: str
    contributor_id: str
    month: str | None
    apps: tuple[str, ...]
    sites: tuple[str, ...]
    source: str
    complete: bool
    num_steps: int
    redacted_share: float


@dataclass(frozen=True, slots=True)
class FrameInfo:
    orig_blob: str
    chunk_id: str
    new_blob: str | None
    format: str | None
    width: int | None
    height: int | None
    masked_share: float | None


class PipelineState:
    """Every read and write of the pipeline's bookkeeping, each in its own transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        try:
            metadata.create_all(engine)
        except OperationalError:  # another process created the tables at the same moment
            metadata.create_all(engine)

    def close(self) -> None:
        self.engine.dispose()

    # -- cursor ---------------------------------------------------------------------------

    def get(self, name: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(settings.c.value).where(settings.c.name == name)).scalar()

    def put(self, name: str, value: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(settings).where(settings.c.name == name))
            conn.execute(insert(settings).values(name=name, value=value))

    # -- chunks and frames ----------------------------------------------------------------

    def known_chunks(self, chunk_ids: Iterable[str]) -> set[str]:
        ids = list(chunk_ids)
        with self.engine.connect() as conn:
            return set(conn.execute(select(chunks.c.chunk_id).where(chunks.c.chunk_id.in_(ids))).scalars())

    def record_chunk(self, row: dict[str, Any], frame_rows: Sequence[dict[str, Any]]) -> None:
        """One processed chunk and the frames it staged, atomically (idempotent)."""
        with self.engine.begin() as conn:
            if conn.execute(select(chunks.c.chunk_id).where(chunks.c.chunk_id == row["chunk_id"])).first():
                return
            for frame in frame_rows:
                key = (frames.c.spool_key == frame["spool_key"]) & (frames.c.orig_blob == frame["orig_blob"])
                if conn.execute(select(frames.c.orig_blob).where(key)).first() is None:
                    conn.execute(insert(frames).values(**frame))
            conn.execute(insert(chunks).values(**row))

    def spools_with_work(self) -> list[tuple[str, str]]:
        """(contributor, spool key) of every spool with staged event chunks."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(chunks.c.contributor_id, chunks.c.spool_key)
                .where((chunks.c.status == "staged") & (chunks.c.stream == "events"))
                .distinct()
            )
            return sorted((r[0], r[1]) for r in rows)

    def event_chunks(self, spool_key: str) -> list[tuple[str, str]]:
        """(chunk id, segment) of a spool's staged event chunks, in segment order."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(chunks.c.chunk_id, chunks.c.segment).where(
                    (chunks.c.spool_key == spool_key)
                    & (chunks.c.stream == "events")
                    & (chunks.c.status == "staged")
                )
            )
            return sorted(((r[0], r[1]) for r in rows), key=lambda r: (r[1], r[0]))

    def spool_chunks(self, spool_key: str) -> list[tuple[str, str, str]]:
        """(chunk id, segment, status) of a spool's staged and deleted event chunks, in order."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(chunks.c.chunk_id, chunks.c.segment, chunks.c.status).where(
                    (chunks.c.spool_key == spool_key)
                    & (chunks.c.stream == "events")
                    & chunks.c.status.in_(["staged", "deleted"])
                )
            )
            return sorted(((r[0], r[1], r[2]) for r in rows), key=lambda r: (r[1], r[0]))

    def chunk_statuses(self, chunk_ids: Iterable[str]) -> dict[str, str]:
        ids = sorted(set(chunk_ids))
        with self.engine.connect() as conn:
            return dict(conn.execute(  # type: ignore[arg-type]
                select(chunks.c.chunk_id, chunks.c.status).where(chunks.c.chunk_id.in_(ids))).all())

    def staged_event_chunks(self, chunk_ids: Iterable[str]) -> list[str]:
        ids = sorted(set(chunk_ids))
        with self.engine.connect() as conn:
            return sorted(conn.execute(select(chunks.c.chunk_id).where(
                chunks.c.chunk_id.in_(ids) & (chunks.c.stream == "events") & (chunks.c.status == "staged")
            )).scalars())

    def event_parts(self, chunk_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        ids = sorted(set(chunk_ids))
        with self.engine.connect() as conn:
            rows = conn.execute(select(event_parts).where(event_parts.c.chunk_id.in_(ids)))
            return {r.chunk_id: json.loads(r.parts) for r in rows}

    def put_event_parts(self, chunk_id: str, parts: list[dict[str, Any]]) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(event_parts).where(event_parts.c.chunk_id == chunk_id))
            conn.execute(insert(event_parts).values(chunk_id=chunk_id,
                                                    parts=json.dumps(parts, sort_keys=True)))

    def frames_of(self, spool_key: str) -> dict[str, FrameInfo]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(frames).where(frames.c.spool_key == spool_key))
            return {
                r.orig_blob: FrameInfo(
                    r.orig_blob, r.chunk_id, r.new_blob, r.format, r.width, r.height, r.masked_share
                )
                for r in rows
            }

    def devices_of(self, contributor_id: str) -> list[str]:
        with self.engine.connect() as conn:
            return sorted(
                conn.execute(
                    select(chunks.c.device_id).where(chunks.c.contributor_id == contributor_id).distinct()
                ).scalars()
            )

    def chunk_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(chunks.c.status, chunks.c.chunk_id))
            out: dict[str, int] = {}
            for status, _ in rows:
                out[status] = out.get(status, 0) + 1
            return out

    # -- sessions and episodes ------------------------------------------------------------

    def built_sessions(self, spool_key: str) -> set[str]:
        with self.engine.connect() as conn:
            return set(
                conn.execute(
                    select(sessions.c.session_key).where(sessions.c.spool_key == spool_key)
                ).scalars()
            )

    def record_session(
        self,
        session_key: str,
        contributor_id: str,
        spool_key: str,
        built: Sequence[tuple[EpisodeInfo, Sequence[str]]],
    ) -> None:
        """A built session, its episodes and their lineage, atomically (idempotent)."""
        with self.engine.begin() as conn:
            if conn.execute(
                select(sessions.c.session_key).where(sessions.c.session_key == session_key)
            ).first():
                return
            for info, chunk_ids in built:
                if conn.execute(
                    select(episodes.c.episode_id).where(episodes.c.episode_id == info.episode_id)
                ).first():
                    continue
                conn.execute(
                    insert(episodes).values(
                        episode_id=info.episode_id,
                        contributor_id=info.contributor_id,
                        session_key=session_key,
                        month=info.month,
                        apps=json.dumps(list(info.apps)),
                        sites=json.dumps(list(info.sites)),
                        source=info.source,
                        complete=info.complete,
                        num_steps=info.num_steps,
                        redacted_share=info.redacted_share,
                        tombstoned=False,
                    )
                )
                for chunk_id in sorted(set(chunk_ids)):
                    conn.execute(insert(lineage).values(chunk_id=chunk_id, episode_id=info.episode_id))
            conn.execute(
                insert(sessions).values(
                    session_key=session_key,
                    contributor_id=contributor_id,
                    spool_key=spool_key,
                    episodes=len(built),
                )
            )

    def episodes(self, *, include_tombstoned: bool = False) -> list[EpisodeInfo]:
        query = select(episodes).order_by(episodes.c.episode_id)
        if not include_tombstoned:
            query = query.where(episodes.c.tombstoned.is_(False))
        with self.engine.connect() as conn:
            return [
                EpisodeInfo(
                    r.episode_id,
                    r.contributor_id,
                    r.month,
                    tuple(json.loads(r.apps)),
                    tuple(json.loads(r.sites)),
                    r.source,
                    bool(r.complete),
                    r.num_steps,
                    r.redacted_share,
                )
                for r in conn.execute(query)
            ]

    def tombstoned_episodes(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(
                conn.execute(select(episodes.c.episode_id).where(episodes.c.tombstoned.is_(True))).scalars()
            )

    def lineage_of(self, episode_id: str) -> list[str]:
        with self.engine.connect() as conn:
            return sorted(
                conn.execute(select(lineage.c.chunk_id).where(lineage.c.episode_id == episode_id)).scalars()
            )

    # -- tombstones -----------------------------------------------------------------------

    def tombstoned(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(conn.execute(select(tombstones.c.contributor_id)).scalars())

    def apply_tombstone(self, contributor_id: str, forgotten_at: str) -> tuple[list[str], list[str]]:
        """Mark the contributor's episodes tombstoned, forget their chunks and frames, withdraw
        every dataset version that holds their episodes. Returns (episode ids, chunk ids)."""
        with self.engine.begin() as conn:
            if (
                conn.execute(
                    select(tombstones.c.contributor_id).where(tombstones.c.contributor_id == contributor_id)
                ).first()
                is None
            ):
                conn.execute(
                    insert(tombstones).values(contributor_id=contributor_id, forgotten_at=forgotten_at)
                )
            ids = list(
                conn.execute(
                    select(episodes.c.episode_id).where(episodes.c.contributor_id == contributor_id)
                ).scalars()
            )
            conn.execute(
                update(episodes).where(episodes.c.contributor_id == contributor_id).values(tombstoned=True)
            )
            chunk_ids = list(
                conn.execute(
                    select(chunks.c.chunk_id).where(chunks.c.contributor_id == contributor_id)
                ).scalars()
            )
            spool_keys = list(
                conn.execute(
                    select(chunks.c.spool_key).where(chunks.c.contributor_id == contributor_id).distinct()
                ).scalars()
            )
            conn.execute(
                update(chunks).where(chunks.c.contributor_id == contributor_id).values(status="forgotten")
            )
            if spool_keys:
                conn.execute(delete(frames).where(frames.c.spool_key.in_(spool_keys)))
            _withdraw(conn, ids)
            return ids, chunk_ids

    # -- deletions ------------------------------------------------------------------------

    def deletion_applied(self, deletion_id: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(deletions_applied.c.deletion_id).where(
                deletions_applied.c.deletion_id == deletion_id)).first() is not None

    def apply_deletion(self, contributor_id: str, chunk_ids: Sequence[str]) -> tuple[list[str], list[str]]:
        """Chunks a contributor deleted: each marked ``deleted`` (recorded even if never seen,
        so a late listing is not processed), its frames dropped, every episode whose lineage
        holds one of them withdrawn (``tombstoned``) with every version holding those.
        Idempotent. Returns (episode ids withdrawn, event chunk ids to unstage)."""
        ids = sorted(set(chunk_ids))
        if not ids:
            return [], []
        with self.engine.begin() as conn:
            known = dict(conn.execute(  # type: ignore[arg-type]
                select(chunks.c.chunk_id, chunks.c.contributor_id).where(chunks.c.chunk_id.in_(ids))).all())
            # Only the contributor's own chunks: a deletion never reaches someone else's data.
            mine = [c for c in ids if known.get(c, contributor_id) == contributor_id]
            staged_events = list(conn.execute(select(chunks.c.chunk_id).where(
                chunks.c.chunk_id.in_(mine) & (chunks.c.stream == "events") & (chunks.c.status == "staged")
            )).scalars())
            conn.execute(update(chunks).where(chunks.c.chunk_id.in_(mine) & (chunks.c.status != "forgotten"))
                         .values(status="deleted", reason="deleted_by_contributor"))
            for chunk_id in mine:
                if chunk_id not in known:
                    conn.execute(insert(chunks).values(
                        chunk_id=chunk_id, contributor_id=contributor_id, device_id="", spool_key="",
                        segment="", stream="", status="deleted", reason="deleted_by_contributor", records=0))
            conn.execute(update(frames).where(frames.c.chunk_id.in_(mine)).values(
                new_blob=None, format=None, masked_share=None, counts=None))
            episode_ids = sorted(set(conn.execute(
                select(lineage.c.episode_id).where(lineage.c.chunk_id.in_(mine))).scalars()))
            if episode_ids:
                conn.execute(update(episodes).where(episodes.c.episode_id.in_(episode_ids)).values(tombstoned=True))
            _withdraw(conn, episode_ids)
            return episode_ids, sorted(staged_events)

    def mark_deletion(self, deletion_id: str, contributor_id: str, requested_at: str, count: int) -> None:
        with self.engine.begin() as conn:
            if conn.execute(select(deletions_applied.c.deletion_id).where(
                    deletions_applied.c.deletion_id == deletion_id)).first() is None:
                conn.execute(insert(deletions_applied).values(
                    deletion_id=deletion_id, contributor_id=contributor_id, requested_at=requested_at,
                    chunks=count))

    # -- dataset versions -----------------------------------------------------------------

    def next_version(self, name: str) -> int:
        with self.engine.connect() as conn:
            last = conn.execute(
                select(versions.c.version).where(versions.c.name == name).order_by(versions.c.version.desc())
            ).scalar()
            return (last or 0) + 1

    def record_version(
        self,
        name: str,
        version: int,
        spec: dict[str, Any],
        manifest_sha256: str,
        chosen: Sequence[tuple[str, str]],
    ) -> None:
        with self.engine.begin() as conn:
            if conn.execute(
                select(versions.c.version).where((versions.c.name == name) & (versions.c.version == version))
            ).first():
                return
            conn.execute(
                insert(versions).values(
                    name=name,
                    version=version,
                    spec=json.dumps(spec, sort_keys=True),
                    manifest_sha256=manifest_sha256,
                    status="active",
                )
            )
            for episode_id, split in chosen:
                conn.execute(
                    insert(version_episodes).values(
                        name=name, version=version, episode_id=episode_id, split=split
                    )
                )

    def version_status(self, name: str, version: int) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(versions.c.status).where((versions.c.name == name) & (versions.c.version == version))
            ).scalar()

    def list_versions(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            out = []
            for row in conn.execute(select(versions).order_by(versions.c.name, versions.c.version)):
                count = len(
                    list(
                        conn.execute(
                            select(version_episodes.c.episode_id).where(
                                (version_episodes.c.name == row.name)
                                & (version_episodes.c.version == row.version)
                            )
                        )
                    )
                )
                out.append(
                    {
                        "name": row.name,
                        "version": row.version,
                        "status": row.status,
                        "episodes": count,
                        "spec": json.loads(row.spec),
                    }
                )
            return out

    def version_lineage(self, name: str, version: int) -> list[tuple[str, str]]:
        """(chunk id, episode id) pairs behind a dataset version: its full lineage."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(lineage.c.chunk_id, lineage.c.episode_id)
                .join(version_episodes, version_episodes.c.episode_id == lineage.c.episode_id)
                .where((version_episodes.c.name == name) & (version_episodes.c.version == version))
            )
            return sorted((r[0], r[1]) for r in rows)


def _withdraw(conn: Connection, episode_ids: Sequence[str]) -> None:
    if not episode_ids:
        return
    hit = conn.execute(
        select(version_episodes.c.name, version_episodes.c.version)
        .where(version_episodes.c.episode_id.in_(list(episode_ids)))
        .distinct()
    ).all()
    for name, version in hit:
        conn.execute(
            update(versions)
            .where((versions.c.name == name) & (versions.c.version == version))
            .values(status="withdrawn")
        )


def open_state(url: str) -> PipelineState:
    """Open (creating the tables if new) the pipeline state at a SQLAlchemy URL."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return PipelineState(engine)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()
