"""Reading and writing the collector's metadata: the only module that issues SQL.

Every method is one short transaction, safe to call from many threads and many collector
replicas at once: uniqueness (a chunk id, a nonce, a one-time token) is enforced by the
database, never by a read-then-write in Python. Times are passed in (UTC), never read here.

The writes on the upload path (request nonces, chunk rows) go through a group commit
(:mod:`.group_commit`): concurrent uploads share one transaction and one fsync, and each
method still returns only after the transaction holding its row has committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, delete, event, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

from apprentice.server.storage.metadata import tables as t
from apprentice.server.storage.metadata.group_commit import GroupCommit

_MIGRATIONS = Path(__file__).with_name("migrations")


@dataclass(frozen=True, slots=True)
class ContributorKeyRow:
    contributor_id: str
    key_id: str
    public_key: bytes
    wrapped_private_key: bytes


@dataclass(frozen=True, slots=True)
class DeviceRow:
    id: str
    contributor_id: str
    public_key: bytes
    revoked: bool


@dataclass(frozen=True, slots=True)
class ChunkRow:
    id: str
    contributor_id: str
    device_id: str
    key_id: str
    size: int
    received_at: datetime


@dataclass(frozen=True, slots=True)
class NonceClaim:
    """A signed request's nonce, to be recorded together with what the request stores."""

    device_id: str
    nonce: str
    expires_at: datetime


UploadOutcome = Literal["created", "duplicate", "replayed"]


@dataclass(frozen=True, slots=True)
class UploadContext:
    """What an upload is checked against, read in one query (:meth:`MetadataStore.upload_context`):
    the device (None if unknown), its contributor's current key as (key id, public key) (None
    if they have none), whether the contributor is exempt from recording, and whether the
    chunk is already stored."""

    device: DeviceRow | None
    key: tuple[str, bytes] | None
    exempt: bool
    chunk_stored: bool


@dataclass(frozen=True, slots=True)
class TombstoneRow:
    contributor_id: str
    forgotten_at: datetime
    requested_by: str
    chunks_deleted: int


@dataclass(frozen=True, slots=True)
class AccountRow:
    id: str
    role: str
    subject: str | None
    created_at: datetime
    disabled: bool


@dataclass(frozen=True, slots=True)
class Activity:
    """A contributor's own upload figures (shown to that contributor only)."""

    chunks: int
    bytes: int
    last_received_at: datetime | None


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class MetadataStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.group_commit = GroupCommit(engine)

    def close(self) -> None:
        """Finish queued writes, then close every pooled connection."""
        self.group_commit.close()
        self.engine.dispose()

    # -- schema -------------------------------------------------------------------------
    def migrate(self) -> None:
        """Bring the schema up to the newest Alembic revision (idempotent)."""
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with self.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    # -- contributors and their keys ----------------------------------------------------
    def add_contributor(self, contributor_id: str, now: datetime) -> bool:
        """Create the contributor if new; return False if it already existed."""
        return self._insert_once(t.contributors, {"id": contributor_id, "created_at": now})

    def contributor_exists(self, contributor_id: str) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.contributors.c.id).where(t.contributors.c.id == contributor_id))
            return row.first() is not None

    def add_contributor_key(self, row: ContributorKeyRow, now: datetime) -> bool:
        """Store a contributor's key pair unless they already have one (then return False)."""
        values = {
            "contributor_id": row.contributor_id,
            "key_id": row.key_id,
            "public_key": row.public_key,
            "wrapped_private_key": row.wrapped_private_key,
            "created_at": now,
        }
        return self._insert_once(t.contributor_keys, values)

    def contributor_key(self, contributor_id: str) -> ContributorKeyRow | None:
        k = t.contributor_keys.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(k.contributor_id, k.key_id, k.public_key, k.wrapped_private_key).where(
                    k.contributor_id == contributor_id
                )
            ).first()
        return None if row is None else ContributorKeyRow(*row)

    def delete_contributor_key(self, contributor_id: str) -> bool:
        """Crypto-shred: remove the wrapped private key row. True if there was one."""
        with self.engine.begin() as conn:
            # Overwrite before deleting, so the old bytes do not linger in a free page.
            conn.execute(
                update(t.contributor_keys)
                .where(t.contributor_keys.c.contributor_id == contributor_id)
                .values(wrapped_private_key=b"\0" * 8)
            )
            result = conn.execute(
                delete(t.contributor_keys).where(t.contributor_keys.c.contributor_id == contributor_id)
            )
        return bool(result.rowcount)

    # -- enrolment tokens ---------------------------------------------------------------
    def add_token(self, token_hash: str, contributor_id: str, expires_at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(t.enrolment_tokens).values(
                    token_hash=token_hash, contributor_id=contributor_id, expires_at=expires_at
                )
            )

    def consume_token(self, token_hash: str, now: datetime) -> str | None:
        """Mark a valid, unexpired, unused token used and return its contributor, atomically."""
        tok = t.enrolment_tokens.c
        with self.engine.begin() as conn:
            result = conn.execute(
                update(t.enrolment_tokens)
                .where(tok.token_hash == token_hash, tok.used_at.is_(None), tok.expires_at > now)
                .values(used_at=now)
            )
            if result.rowcount != 1:
                return None
            row = conn.execute(select(tok.contributor_id).where(tok.token_hash == token_hash)).first()
        return None if row is None else str(row[0])

    # -- devices ------------------------------------------------------------------------
    def add_device(self, device_id: str, contributor_id: str, public_key: bytes, now: datetime) -> bool:
        """Register a device; False if its public key is already enrolled."""
        values = {"id": device_id, "contributor_id": contributor_id, "public_key": public_key,
                  "created_at": now}
        return self._insert_once(t.devices, values)

    def device(self, device_id: str) -> DeviceRow | None:
        d = t.devices.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(d.id, d.contributor_id, d.public_key, d.revoked_at).where(d.id == device_id)
            ).first()
        return None if row is None else DeviceRow(row[0], row[1], row[2], row[3] is not None)

    def upload_context(self, device_id: str, chunk_id: str) -> UploadContext:
        """The device, its contributor's key, their exemption and whether ``chunk_id`` is stored,
        in one round trip (an upload needs all four; see :class:`UploadContext`)."""
        d, k, e, c = t.devices.c, t.contributor_keys.c, t.exemption_requests.c, t.chunks.c
        exempt = (select(e.id).where(e.contributor_id == d.contributor_id, e.status == "approved")
                  .limit(1).exists())
        stored = select(c.id).where(c.id == chunk_id).exists()
        query = (select(d.id, d.contributor_id, d.public_key, d.revoked_at, k.key_id, k.public_key,
                        exempt.label("exempt"), stored.label("stored"))
                 .select_from(t.devices.outerjoin(t.contributor_keys, k.contributor_id == d.contributor_id))
                 .where(d.id == device_id))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return UploadContext(None, None, False, False)
        device = DeviceRow(row[0], row[1], row[2], row[3] is not None)
        key = None if row[4] is None else (str(row[4]), bytes(row[5]))
        return UploadContext(device, key, bool(row[6]), bool(row[7]))

    def revoke_devices(self, now: datetime, *, device_id: str | None = None,
                       contributor_id: str | None = None) -> int:
        """Revoke one device, or every device of a contributor; return how many changed."""
        d = t.devices.c
        where = [d.revoked_at.is_(None)]
        if device_id is not None:
            where.append(d.id == device_id)
        if contributor_id is not None:
            where.append(d.contributor_id == contributor_id)
        if len(where) == 1:
            raise ValueError("name a device or a contributor to revoke")
        with self.engine.begin() as conn:
            return int(conn.execute(update(t.devices).where(*where).values(revoked_at=now)).rowcount)

    # -- replay protection --------------------------------------------------------------
    def remember_nonce(self, device_id: str, nonce: str, expires_at: datetime,
                       *, also: Callable[[Connection], object] | None = None) -> bool:
        """Record a request nonce; False if this device already used it (a replay).

        ``also`` runs first in the same transaction (an upload's audit entry; see
        :meth:`record_upload`)."""
        values = {"device_id": device_id, "nonce": nonce, "expires_at": expires_at}
        if also is None:
            return self._insert_grouped(t.request_nonces, values)

        def op(conn: Connection) -> bool:
            also(conn)
            return _insert_ignoring_duplicate(conn, t.request_nonces, values)

        return self.group_commit.run(op)

    def forget_nonces(self, now: datetime) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(delete(t.request_nonces).where(t.request_nonces.c.expires_at < now))
        return int(result.rowcount)

    # -- chunks -------------------------------------------------------------------------
    def add_chunk(self, row: ChunkRow) -> bool:
        """Record a stored chunk; False if a chunk with this id was already recorded."""
        return self._insert_grouped(t.chunks, _chunk_values(row))

    def record_upload(self, row: ChunkRow, nonce: NonceClaim,
                      *, also: Callable[[Connection], object] | None = None) -> UploadOutcome:
        """Record an upload's nonce and its chunk row in one transaction.

        ``replayed``: the nonce was used before, nothing is recorded (but ``also``);
        ``duplicate``: the nonce is recorded, the chunk was already there; ``created``: both
        are recorded. ``also`` runs first in the same transaction whatever the outcome: the
        audit entry of the decision that allowed the upload commits with it.
        """
        nonce_values = {"device_id": nonce.device_id, "nonce": nonce.nonce, "expires_at": nonce.expires_at}
        chunk_values = _chunk_values(row)

        def op(conn: Connection) -> UploadOutcome:
            if also is not None:
                also(conn)
            if not _insert_ignoring_duplicate(conn, t.request_nonces, nonce_values):
                return "replayed"
            return "created" if _insert_ignoring_duplicate(conn, t.chunks, chunk_values) else "duplicate"

        return self.group_commit.run(op)

    def chunk(self, chunk_id: str) -> ChunkRow | None:
        c = t.chunks.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(c.id, c.contributor_id, c.device_id, c.key_id, c.size, c.received_at).where(
                    c.id == chunk_id
                )
            ).first()
        return None if row is None else ChunkRow(*row[:5], _utc(row[5]))

    def chunk_ids(self, *, contributor_id: str | None = None,
                  received_before: datetime | None = None, limit: int | None = None) -> list[str]:
        c = t.chunks.c
        query = select(c.id).order_by(c.received_at, c.id)
        if contributor_id is not None:
            query = query.where(c.contributor_id == contributor_id)
        if received_before is not None:
            query = query.where(c.received_at < received_before)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(query)]

    def delete_chunks(self, chunk_ids: Iterable[str]) -> int:
        ids = list(chunk_ids)
        if not ids:
            return 0
        with self.engine.begin() as conn:
            return int(conn.execute(delete(t.chunks).where(t.chunks.c.id.in_(ids))).rowcount)

    def count_chunks(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.chunks)).scalar_one())

    # -- tombstones ---------------------------------------------------------------------
    def add_tombstone(self, row: TombstoneRow) -> bool:
        values = {
            "contributor_id": row.contributor_id,
            "forgotten_at": row.forgotten_at,
            "requested_by": row.requested_by,
            "chunks_deleted": row.chunks_deleted,
        }
        return self._insert_once(t.tombstones, values)

    def tombstone(self, contributor_id: str) -> TombstoneRow | None:
        s = t.tombstones.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(s.contributor_id, s.forgotten_at, s.requested_by, s.chunks_deleted).where(
                    s.contributor_id == contributor_id
                )
            ).first()
        return None if row is None else TombstoneRow(row[0], _utc(row[1]), row[2], row[3])

    # -- accounts and read models for the authorised API -------------------------------
    def add_account(self, row: AccountRow, token_sha256: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(t.accounts).values(
                id=row.id, token_sha256=token_sha256, role=row.role, subject=row.subject,
                created_at=row.created_at, disabled=row.disabled,
            ))

    def account_by_token(self, token_sha256: str) -> AccountRow | None:
        a = t.accounts.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(a.id, a.role, a.subject, a.created_at, a.disabled)
                .where(a.token_sha256 == token_sha256)
            ).first()
        return None if row is None else AccountRow(row[0], row[1], row[2], _utc(row[3]), bool(row[4]))

    def count_accounts(self, role: str, *, enabled_only: bool = True) -> int:
        a = t.accounts.c
        query = select(func.count()).select_from(t.accounts).where(a.role == role)
        if enabled_only:
            query = query.where(a.disabled.is_(False))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def disable_account(self, account_id: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                update(t.accounts).where(t.accounts.c.id == account_id).values(disabled=True))
        return bool(result.rowcount)

    # -- portal sign-in (docs/portal.md) ------------------------------------------------
    def set_login(self, account_id: str, login: str, password_hash: str) -> bool:
        """Give an account a login name and password hash; False if there is no such account.
        IntegrityError when another account already has this login."""
        with self.engine.begin() as conn:
            result = conn.execute(update(t.accounts).where(t.accounts.c.id == account_id).values(
                login=login, password_hash=password_hash))
        return bool(result.rowcount)

    def account_by_login(self, login: str) -> tuple[AccountRow, str] | None:
        """The account with this login and its password hash (None: no such login)."""
        a = t.accounts.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(a.id, a.role, a.subject, a.created_at, a.disabled, a.password_hash)
                .where(a.login == login)
            ).first()
        if row is None or row[5] is None:
            return None
        return AccountRow(row[0], row[1], row[2], _utc(row[3]), bool(row[4])), row[5]

    def add_session(self, id_sha256: str, account_id: str, csrf_token: str, now: datetime,
                    expires_at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(t.portal_sessions).values(
                id_sha256=id_sha256, account_id=account_id, csrf_token=csrf_token, created_at=now,
                expires_at=expires_at))

    def session(self, id_sha256: str, now: datetime) -> tuple[AccountRow, str] | None:
        """The account of an unexpired session and the session's CSRF token."""
        a, s = t.accounts.c, t.portal_sessions.c
        query = (select(a.id, a.role, a.subject, a.created_at, a.disabled, s.csrf_token)
                 .join(t.portal_sessions, s.account_id == a.id)
                 .where(s.id_sha256 == id_sha256, s.expires_at > now))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return AccountRow(row[0], row[1], row[2], _utc(row[3]), bool(row[4])), row[5]

    def delete_sessions(self, *, id_sha256: str | None = None, expired_at: datetime | None = None) -> int:
        """Delete one session (sign-out) or every session expired at ``expired_at``."""
        s = t.portal_sessions.c
        query = delete(t.portal_sessions)
        if id_sha256 is not None:
            query = query.where(s.id_sha256 == id_sha256)
        elif expired_at is not None:
            query = query.where(s.expires_at <= expired_at)
        else:
            raise ValueError("name a session or an expiry time")
        with self.engine.begin() as conn:
            return int(conn.execute(query).rowcount)

    def device_overview(self) -> list[tuple[str, datetime, datetime | None, datetime | None, str | None,
                                           datetime | None]]:
        """(device id, enrolled at, revoked at, last chunk received at, agent version, last
        sync) of every device; for aggregate fleet figures only (no contributor ids)."""
        d, c, r = t.devices.c, t.chunks.c, t.device_reports.c
        last = (select(c.device_id, func.max(c.received_at).label("last"))
                .group_by(c.device_id).subquery())
        query = (select(d.id, d.created_at, d.revoked_at, last.c.last, r.agent_version, r.reported_at)
                 .join(last, last.c.device_id == d.id, isouter=True)
                 .join(t.device_reports, r.device_id == d.id, isouter=True).order_by(d.created_at, d.id))

        def utc(value: datetime | None) -> datetime | None:
            return None if value is None else _utc(value)

        with self.engine.connect() as conn:
            return [(row[0], _utc(row[1]), utc(row[2]), utc(row[3]), row[4], utc(row[5]))
                    for row in conn.execute(query)]

    def contributor_created_at(self, contributor_id: str) -> datetime | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.contributors.c.created_at).where(t.contributors.c.id == contributor_id)
            ).first()
        return None if row is None else _utc(row[0])

    def devices_of(self, contributor_id: str) -> list[tuple[str, datetime, datetime | None]]:
        """(device id, enrolled at, revoked at) of every device of a contributor."""
        d = t.devices.c
        query = select(d.id, d.created_at, d.revoked_at).where(d.contributor_id == contributor_id).order_by(
            d.created_at, d.id)
        with self.engine.connect() as conn:
            return [(r[0], _utc(r[1]), None if r[2] is None else _utc(r[2])) for r in conn.execute(query)]

    def activity(self, contributor_id: str) -> Activity:
        c = t.chunks.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(func.count(), func.coalesce(func.sum(c.size), 0), func.max(c.received_at)).where(
                    c.contributor_id == contributor_id)
            ).one()
        return Activity(int(row[0]), int(row[1]), None if row[2] is None else _utc(row[2]))

    def chunks_after(self, after: int, limit: int, *, contributor_id: str | None = None
                     ) -> list[tuple[int, ChunkRow]]:
        """Chunks in receipt order with their sequence number, strictly after ``after``."""
        c, s = t.chunks.c, t.chunk_sequence.c
        query = (
            select(s.seq, c.id, c.contributor_id, c.device_id, c.key_id, c.size, c.received_at)
            .join(t.chunk_sequence, s.chunk_id == c.id)
            .where(s.seq > after).order_by(s.seq).limit(limit)
        )
        if contributor_id is not None:
            query = query.where(c.contributor_id == contributor_id)
        with self.engine.connect() as conn:
            return [(int(r[0]), ChunkRow(*r[1:6], _utc(r[6]))) for r in conn.execute(query)]

    def tombstones(self) -> list[TombstoneRow]:
        s = t.tombstones.c
        query = select(s.contributor_id, s.forgotten_at, s.requested_by, s.chunks_deleted).order_by(
            s.forgotten_at, s.contributor_id)
        with self.engine.connect() as conn:
            return [TombstoneRow(r[0], _utc(r[1]), r[2], r[3]) for r in conn.execute(query)]

    def ping(self) -> None:
        """Raise if the database cannot be reached (health checks)."""
        with self.engine.connect() as conn:
            conn.execute(select(1))

    def _insert_once(self, table: t.Table, values: dict[str, Any]) -> bool:
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(table).values(**values))
        except IntegrityError:
            return False
        return True

    def _insert_grouped(self, table: t.Table, values: dict[str, Any]) -> bool:
        """Like :meth:`_insert_once`, in the next group commit."""
        try:
            return self.group_commit.run(lambda conn: _insert_ignoring_duplicate(conn, table, values))
        except IntegrityError:  # a foreign key, say: refused like a duplicate, as _insert_once does
            return False


def _chunk_values(row: ChunkRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "contributor_id": row.contributor_id,
        "device_id": row.device_id,
        "key_id": row.key_id,
        "size": row.size,
        "received_at": row.received_at,
    }


def _insert_ignoring_duplicate(conn: Connection, table: t.Table, values: dict[str, Any]) -> bool:
    """Insert a row; False (and no error, so a shared transaction goes on) if its key exists.

    ``ON CONFLICT DO NOTHING`` rather than catching IntegrityError: on PostgreSQL an error
    would abort the whole shared transaction.
    """
    dialect = conn.dialect.name
    if dialect == "sqlite":
        statement: Any = sqlite.insert(table).values(**values).on_conflict_do_nothing()
    elif dialect == "postgresql":
        statement = postgresql.insert(table).values(**values).on_conflict_do_nothing()
    else:
        raise NotImplementedError(f"no conflict-ignoring insert for {dialect}")
    # SQLAlchemy reports an INSERT's rowcount only when asked to keep it.
    return bool(conn.execute(statement, execution_options={"preserve_rowcount": True}).rowcount == 1)


def open_metadata(url: str, *, migrate: bool = True) -> MetadataStore:
    """Connect to the database the SQLAlchemy URL names and (by default) migrate it."""
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:", "sqlite+pysqlite:///:memory:")
        # A file database keeps a connection per request thread (Starlette's pool has 40):
        # the default pool of 5 closed and reopened connections under load, re-running the
        # pragmas each time.
        options: dict[str, Any] = (
            {"poolclass": StaticPool} if memory else {"pool_size": 48, "max_overflow": 16}
        )
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)
    store = MetadataStore(engine)
    if migrate:
        store.migrate()
    return store


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged chunk survives power loss
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
