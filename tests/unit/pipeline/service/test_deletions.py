"""A contributor's deletion (``GET /pipeline/deletions``) reaches everything derived from the
deleted chunks: episodes whose lineage holds one are withdrawn, versions holding those are
withdrawn, the next version leaves them out, and a session not yet built is never built.
Also: the collector's late commits (a lower sequence number listed after a higher one) are
picked up by the cursor overlap, and ``HttpChunkSource.deletions`` against the real
collector route."""

from __future__ import annotations

from pathlib import Path

import pytest

from apprentice.errors import DatasetError
from apprentice.pipeline.service import QualityFilter, VersionSpec, build_version, export_version
from apprentice.pipeline.service.assemble import EPISODES_KIND
from apprentice.pipeline.service.ingest import EVENTS_KIND
from apprentice.pipeline.service.store import load_or_create_key
from apprentice.pipeline.service.worker import RunStats
from tests.unit.pipeline.service.conftest import PEOPLE, Recorded

SPEC = VersionSpec(quality=QualityFilter(min_steps=1))
ALICE, BOB = PEOPLE["alice"][0], PEOPLE["bob"][0]


def _chunks_of(recorded: Recorded, contributor: str) -> list[str]:
    return [r.chunk_id for r, _ in recorded.collector.source.chunks if r.contributor_id == contributor]


def _build(recorded: Recorded, worker, name: str = "del"):  # type: ignore[no-untyped-def]
    key = load_or_create_key(recorded.tmp / "pipeline-keys", f"dataset-{name}.key")
    return key, build_version(worker.state, worker.store, key, Path(worker.settings.data_dir), name, SPEC)


def test_deleting_one_chunk_withdraws_what_it_fed_and_the_versions_holding_it(recorded: Recorded) -> None:
    worker = recorded.worker()
    worker.run_once()
    key, v1 = _build(recorded, worker)
    alice_episodes = {e.episode_id for e in worker.state.episodes() if e.contributor_id == ALICE}
    bob_episodes = {e.episode_id for e in worker.state.episodes() if e.contributor_id == BOB}
    assert alice_episodes and bob_episodes
    target = _chunks_of(recorded, ALICE)[0]
    recorded.collector.source.delete(ALICE, [target])

    stats = worker.run_once()
    assert stats.deletions == 1 and stats.episodes_withdrawn == len(alice_episodes)
    assert {e.episode_id for e in worker.state.episodes()} == bob_episodes
    assert worker.state.tombstoned_episodes() == alice_episodes
    assert worker.state.version_status("del", v1.version) == "withdrawn"
    assert not (v1.folder / "shards").exists()
    with pytest.raises(DatasetError, match="withdrawn"):
        export_version(v1.folder, key, recorded.tmp / "old", purpose="model_training", status="withdrawn")
    assert not any(worker.store.has(EPISODES_KIND, e) for e in alice_episodes)
    assert not worker.store.has(EVENTS_KIND, target)
    assert worker.state.chunk_statuses([target]) == {target: "deleted"}
    _, v2 = _build(recorded, worker)
    assert {e for _, e in worker.state.version_lineage("del", v2.version)} == bob_episodes
    # Applied once: the next run neither re-applies it nor rebuilds the withdrawn session.
    again = worker.run_once()
    assert again.deletions == 0 and again.build.episodes == 0 and again.chunks == 0


def test_a_session_not_yet_built_is_never_built_once_part_of_it_is_deleted(recorded: Recorded) -> None:
    worker = recorded.worker()
    worker.ingest(RunStats())  # chunks staged, nothing built yet
    recorded.collector.source.delete(ALICE, [_chunks_of(recorded, ALICE)[0]])
    stats = worker.run_once()
    assert stats.deletions == 1 and stats.build.withdrawn == 1 and stats.build.sessions == 1
    assert {e.contributor_id for e in worker.state.episodes()} == {BOB}
    assert worker.run_once().build.episodes == 0


def test_deleting_everything_before_processing_leaves_nothing_to_process(recorded: Recorded) -> None:
    recorded.collector.source.delete(ALICE)
    worker = recorded.worker()
    stats = worker.run_once()
    assert stats.deletions == 1 and stats.chunks == len(_chunks_of(recorded, BOB))
    assert {e.contributor_id for e in worker.state.episodes()} == {BOB}


def test_a_deletion_never_reaches_another_contributors_chunks(recorded: Recorded) -> None:
    """A deletion record naming someone else's chunk (a collector bug) changes nothing of theirs."""
    from apprentice.pipeline.service.source import Deletion

    worker = recorded.worker()
    worker.run_once()
    bobs = _chunks_of(recorded, BOB)
    recorded.collector.source.deleted.append(Deletion("9", ALICE, None, None, "2026-03-03T00:00:00Z",
                                                      tuple(bobs), "9"))
    assert worker.run_once().deletions == 1
    assert set(worker.state.chunk_statuses(bobs).values()) == {"staged"}
    assert {e.contributor_id for e in worker.state.episodes()} == {ALICE, BOB}


def test_a_chunk_committed_late_under_a_lower_sequence_number_is_not_skipped(recorded: Recorded) -> None:
    """PostgreSQL assigns the sequence number before commit: upload A takes 7, upload B takes 8
    and commits first; the pipeline lists up to 8; A appears afterwards with 7."""
    source = recorded.collector.source
    late_ref, late_sealed = next((r, s) for r, s in source.chunks if r.contributor_id == BOB)
    source.chunks = [(r, s) for r, s in source.chunks if r.chunk_id != late_ref.chunk_id]
    worker = recorded.worker(page_size=2)
    first = worker.run_once()
    assert first.chunks == len(source.chunks)
    top = int(worker.state.get("cursor") or 0)
    source.add_chunk(late_sealed, late_ref.contributor_id, late_ref.device_id, late_ref.key_id,
                     cursor=top - 1)  # lower than the cursor already stored
    second = worker.run_once()
    assert second.chunks == 1 and second.staged == 1
    assert worker.state.known_chunks([late_ref.chunk_id]) == {late_ref.chunk_id}
    assert int(worker.state.get("cursor") or 0) == top  # the cursor never moves back
    assert worker.run_once().chunks == 0  # re-read again, de-duplicated by chunk id
    # Without the overlap the same late chunk is lost: the proof the test can fail.
    blind = recorded.worker("blind", cursor_overlap=0)
    source.chunks = [(r, s) for r, s in source.chunks if r.chunk_id != late_ref.chunk_id]
    blind.run_once()
    source.add_chunk(late_sealed, late_ref.contributor_id, late_ref.device_id, late_ref.key_id,
                     cursor=int(blind.state.get("cursor") or 0) - 1)
    assert blind.run_once().chunks == 0


def test_http_source_reads_deletions_from_the_collector(tmp_path: Path) -> None:
    """The real collector app (governance world of the server tests), over its ASGI transport."""
    from apprentice.pipeline.service import HttpChunkSource
    from tests.unit.server.collector import add_account
    from tests.unit.server.governance_world import make_world

    world = make_world(tmp_path)
    try:
        mine = world.upload("alice", 3)
        world.upload("bob", 1)
        assert world.http.delete("/api/v1/me/data", headers=world.me("alice")).status_code == 200
        token = add_account(world.metadata, "pipeline")["Authorization"].removeprefix("Bearer ")
        (tmp_path / "token").write_text(token)
        source = HttpChunkSource("http://testserver", tmp_path / "token",
                                 transport=world.http._transport)  # noqa: SLF001 (the test's ASGI hop)
        found = source.deletions(None)
        assert len(found) == 1 and found[0].contributor_id == "alice"
        assert sorted(found[0].chunk_ids) == sorted(mine) and found[0].received_from is None
        assert source.deletions(found[0].cursor) == []
        assert len(source.deletions(None, page_size=1)) == 1
    finally:
        world.close()
