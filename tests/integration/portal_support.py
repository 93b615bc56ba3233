"""A collector with the portal mounted, served by uvicorn on loopback in a thread, with four
signed-in-able accounts, two contributors with a device and uploads each, and a dataset
folder built by the real pipeline from synthetic events."""

from __future__ import annotations

import hashlib
import io
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import uvicorn

from apprentice.pipeline.build import build_dataset
from apprentice.server.exposure import check_collector
from apprentice.server.signin import set_password
from apprentice.server.storage.metadata import ChunkRow
from apprentice.web import AccessHistory, FolderDatasets, Portal, ServerGovernance, mount_portal
from tests.contract.services import free_port
from tests.unit.pipeline.test_build import session_log
from tests.unit.server.collector import START, Collector, add_account, make_collector

PASSWORD = "correct horse battery staple"
LOGINS = {"alice": ("contributor", "alice"), "bob": ("contributor", "bob"),
          "olivia": ("privacy_officer", None), "mel": ("ml_engineer", None)}


def screen_png(key: str) -> bytes:
    """A 640x360 stand-in screenshot (a window with a title bar and lines of text) per frame."""
    from PIL import Image, ImageDraw

    shade = hashlib.sha256(key.encode()).digest()
    image = Image.new("RGB", (640, 360), (236, 239, 243))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 620, 340), fill=(255, 255, 255), outline=(120, 120, 120))
    draw.rectangle((20, 20, 620, 44), fill=(40 + shade[0] // 4, 70, 120))
    draw.text((30, 26), f"Editor - notes.txt [{key[:8]}]", fill=(255, 255, 255))
    for i in range(8):
        draw.rectangle((40, 64 + i * 30, 40 + 120 + (shade[i] * 2), 76 + i * 30), fill=(200, 205, 212))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@dataclass
class PortalServer:
    url: str
    collector: Collector
    portal: Portal
    server: uvicorn.Server
    thread: threading.Thread
    account_ids: dict[str, str]

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.collector.close()


def start_portal(tmp: Path) -> PortalServer:
    collector = make_collector(f"sqlite:///{tmp / 'collector.db'}")
    metadata = collector.metadata
    account_ids = {}
    for login, (role, subject) in LOGINS.items():
        header = add_account(metadata, role, subject, token=f"apa_portal-{login}")
        token = header["Authorization"].removeprefix("Bearer ")
        account_ids[login] = "acc-" + hashlib.sha256(token.encode()).hexdigest()[:32]
        set_password(metadata, account_ids[login], login, PASSWORD)
    for n, contributor in enumerate(("alice", "bob")):
        metadata.add_contributor(contributor, START)
        device = f"dev-{n:032x}"
        metadata.add_device(device, contributor, bytes([n]) * 32, START)
        for i in range(4):
            chunk_id = hashlib.sha256(f"{contributor}-{i}".encode()).hexdigest()
            metadata.add_chunk(ChunkRow(chunk_id, contributor, device, "k1", 40_000 + i * 1000,
                                        START - timedelta(hours=3 - i)))
    log = session_log()
    frames = {e.pixel_hash for e in log.events if e.kind == "frame"}  # type: ignore[union-attr]
    from tests.unit.pipeline.conftest import blob_for

    images = {blob_for(p): screen_png(p) for p in frames}
    datasets = tmp / "datasets"
    build_dataset(log.events, images.__getitem__, datasets / "desktop" / "v1", ("parquet",))

    st = collector.app.state.apprentice
    portal = Portal(governance=ServerGovernance(st.governance), datasets=FolderDatasets(datasets),
                    history=AccessHistory(collector.audit),
                    doctor=lambda: check_collector(collector.settings))
    mount_portal(collector.app, portal)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(collector.app, host="127.0.0.1", port=port, log_config=None,
                                           access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the portal server did not start")
        time.sleep(0.02)
    return PortalServer(f"http://127.0.0.1:{port}", collector, portal, server, thread, account_ids)
