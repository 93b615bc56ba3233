"""The spool uploader: a real spool from the fake capture backends → sealed chunks →
collector (in process), exactly the recorded events after unwrapping, crash-safe outbox."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from apprentice.client import SpoolUploader, load_identity, payload_events
from apprentice.crypto import load_key_file
from apprentice.errors import UploadError
from apprentice.server.retention import blob_key
from apprentice.spool import open_layout, open_spool
from apprentice.spool.writer import list_segments
from tests.unit.helpers import fake_session
from tests.unit.server.collector import Collector, raw_grant

CANARY = "canary-7f3a-do-not-leak"
SCRIPT = [("key_down", {"key": c, "vk": ord(c), "char": c}) for c in CANARY] + [
    ("mouse_down", {"x": 5, "y": 5, "button": "left"}),
    ("mouse_up", {"x": 5, "y": 5, "button": "left"}),
]


def record(spool: Path) -> list:  # type: ignore[type-arg]
    session, inputs, _, _, _ = fake_session(spool)
    session.start()
    inputs.play(SCRIPT)
    session.stop()
    return list(open_spool(spool).events())


def spool_key(spool: Path) -> bytes:
    return load_key_file(open_layout(spool).key_path())


def test_uploaded_chunks_decrypt_to_exactly_the_recorded_events(collector: Collector, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    recorded = record(spool)
    identity = collector.enrol(tmp_path / "device")
    stats = SpoolUploader(spool, spool_key(spool), collector.uploader(identity)).run_once()
    assert stats.new >= 1 and stats.duplicates == 0
    assert list_segments(spool / "segments") == [] and list((spool / "outbox").iterdir()) == []
    events = []
    for cid in collector.metadata.chunk_ids(contributor_id="alice"):
        sealed = collector.blobs.get(blob_key(cid), grant=raw_grant(cid))
        assert CANARY.encode() not in sealed
        header, payload = collector.pipeline.open(sealed)
        assert header.contributor == "alice"
        events += payload_events(payload)
    assert sorted(events, key=lambda e: e.seq) == recorded


def test_a_crash_after_sealing_resends_identical_bytes_and_stores_once(collector: Collector,
                                                                       tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    record(spool)
    identity = collector.enrol(tmp_path / "device")
    calls = {"n": 0}
    up = collector.uploader(identity, max_attempts=1)
    real_put = up.put_chunk

    def crash_after_upload(cid: str, sealed: bytes) -> bool:
        real_put(cid, sealed)  # the collector stores it ...
        calls["n"] += 1
        raise UploadError("connection lost before the acknowledgement")  # ... but we never hear back

    up.put_chunk = crash_after_upload  # type: ignore[method-assign]
    with pytest.raises(UploadError):
        SpoolUploader(spool, spool_key(spool), up).run_once()
    outbox_before = sorted(p.name for p in (spool / "outbox").iterdir())
    assert len(outbox_before) == 1 and list_segments(spool / "segments")  # segment kept until acked
    again = collector.uploader(load_identity(tmp_path / "device"))
    stats = SpoolUploader(spool, spool_key(spool), again).run_once()
    assert stats.duplicates == 1  # the same bytes again: stored once
    assert collector.metadata.count_chunks() == stats.new + 1
    assert list_segments(spool / "segments") == []


def test_nothing_is_deleted_while_the_collector_is_away(
    collector_factory: Callable[..., Collector], tmp_path: Path
) -> None:
    collector = collector_factory(upload_queue_s=0)
    spool = tmp_path / "spool"
    record(spool)
    identity = collector.enrol(tmp_path / "device")
    collector.app.state.apprentice.uploads.busy = 10**6  # always busy: 429
    up = collector.uploader(identity, max_attempts=2)
    with pytest.raises(UploadError):
        SpoolUploader(spool, spool_key(spool), up).run_once()
    assert list_segments(spool / "segments")
    collector.app.state.apprentice.uploads.busy = 0
    SpoolUploader(spool, spool_key(spool), collector.uploader(identity)).run_once()
    assert list_segments(spool / "segments") == []


def test_a_damaged_outbox_entry_is_discarded_and_resealed(collector: Collector, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    recorded = record(spool)
    identity = collector.enrol(tmp_path / "device")
    uploader = SpoolUploader(spool, spool_key(spool), collector.uploader(identity))
    segment = list_segments(spool / "segments")[0][2]
    uploader.outbox.mkdir(mode=0o700)
    (uploader.outbox / f"{segment.name}.{'0' * 64}.chunk").write_bytes(b"garbage")
    uploader.run_once()
    assert list_segments(spool / "segments") != [] or collector.metadata.count_chunks() >= 1
    uploader.run_once()
    events = []
    for cid in collector.metadata.chunk_ids():
        sealed = collector.blobs.get(blob_key(cid), grant=raw_grant(cid))
        events += payload_events(collector.pipeline.open(sealed)[1])
    assert sorted(events, key=lambda e: e.seq) == recorded
