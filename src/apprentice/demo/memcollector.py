"""A collector stand-in for pipeline tests, benchmarks and demos: real key wrapping, real
sealing, memory storage.

Contributor keys are generated and wrapped to a real local master key (``master.pub``), and
devices' spools are sealed into chunks by the real device uploader (``SpoolUploader``);
only the storage and the HTTP hop are replaced by :class:`MemoryChunkSource`. The lead
swaps this for the real collector's pipeline API (wp-authz) in the end-to-end test.
"""

from __future__ import annotations

import os
from pathlib import Path

from apprentice.client import DeviceIdentity, SpoolUploader
from apprentice.crypto import load_key_file
from apprentice.crypto.sealed import generate_key_pair, key_id
from apprentice.keys import create_master_key, open_master_wrapper
from apprentice.keys.base import WrappedKey
from apprentice.pipeline.service import MemoryChunkSource
from apprentice.spool import open_layout


class _MemoryUploader:
    def __init__(self, identity: DeviceIdentity, source: MemoryChunkSource) -> None:
        self.identity = identity
        self._source = source

    def put_chunk(self, cid: str, sealed: bytes) -> bool:
        before = len(self._source.chunks)
        ref = self._source.add_chunk(
            sealed, self.identity.contributor_id, self.identity.device_id, self.identity.key_id
        )
        assert ref.chunk_id == cid
        return len(self._source.chunks) > before


class MemoryCollector:
    def __init__(self, master_dir: Path) -> None:
        public = create_master_key(master_dir)
        self.master_key_url = f"local://{master_dir / 'master.key'}"
        self._wrapper = open_master_wrapper(f"local://{public}")
        self.source = MemoryChunkSource()
        self._public: dict[str, tuple[str, bytes]] = {}

    def enrol(self, contributor_id: str, device_id: str) -> DeviceIdentity:
        if contributor_id not in self._public:
            private, public = generate_key_pair()
            kid = key_id(public)
            self.source.add_key(
                WrappedKey(contributor_id, kid, self._wrapper.wrap(private, contributor_id, kid))
            )
            self._public[contributor_id] = (kid, public)
        kid, public = self._public[contributor_id]
        return DeviceIdentity(device_id, contributor_id, kid, public, "memory://", os.urandom(32))

    def upload(self, spool: Path, identity: DeviceIdentity) -> int:
        key = load_key_file(open_layout(spool).key_path())
        return SpoolUploader(spool, key, _MemoryUploader(identity, self.source)).run_once().new
