"""The embedded default: collector, key service, pipeline, portal and the local agent in one
process on 127.0.0.1, with SQLite and local folders (DESIGN §3).

``EmbeddedSystem(data_dir).start()`` on a first start creates the layout (``layout.py``),
the master key, the audit signing key and the collector's settings; runs the exposure guard
like ``apprentice server`` (the collector can read ``master.key`` here — a warning, since
one user runs every part); creates the accounts (privacy officer, pipeline, ML engineer, and
a contributor for the person at this machine, each person with a portal login) and returns
their one-time secrets in :attr:`EmbeddedSystem.first_start` for the caller to show once;
as the privacy officer, through the API, writes a *draft* DPIA and publishes a default
policy; and enrols the local agent. Capture then waits for two people's decisions in the
portal: the officer approves the DPIA, the contributor accepts the notice.

Then it runs: uvicorn (collector + portal) in a thread on a socket bound to 127.0.0.1, the
pipeline worker in a thread (inline executor: this process, reading chunks through the
collector's pipeline API with the pipeline account, as a separate pipeline host would), and
the agent loop in a thread (sync, upload, and the recorder when there is a display).
:meth:`stop` stops the agent first (the recorder closes its spool, what is left is
uploaded), then the pipeline (after its current run), then the server.

A restart reuses everything: keys, accounts (no second privacy officer), the enrolled
device; a changed port is written into the device's enrolment.

Everything that needs a secret reads it from a file in the key folder or holds it in
memory; nothing here logs a token, password, key or contributor id.
"""

from __future__ import annotations

import dataclasses
import getpass
import logging
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apprentice.embedded.layout import Layout, write_private
from apprentice.errors import ConfigError, ExposureRefused

log = logging.getLogger("apprentice.up")

DEFAULT_POLICY = """\
# The organisation's capture policy (docs/privacy.md). Edit it in the portal (privacy officer).
version: 1
allow:
  apps:
    - app_id: org.libreoffice.LibreOffice
    - app_id: Gedit
    - app_id: org.gnome.TextEditor
    - process: code
pause_cap_minutes: 30
"""
DPIA_TITLE = "Recording work on this machine"
DPIA_SUMMARY = ("Keystrokes, clicks and screenshots of allowlisted work applications on this machine, "
                "redacted on the device and encrypted to the contributor key; processed into pseudonymous "
                "training data. Review the policy, then approve.")
_LOGIN = re.compile(r"[^a-z0-9._-]")


@dataclass(frozen=True)
class Login:
    role: str
    login: str
    password: str


@dataclass
class FirstStart:
    """Secrets made on the first start: show them once, keep them nowhere."""

    officer_token: str
    logins: list[Login] = field(default_factory=list)
    contributor_token: str = ""


def _local_login() -> str:
    try:
        name = getpass.getuser()
    except Exception:  # no user name in this environment
        name = "contributor"
    cleaned = _LOGIN.sub("", name.lower())[:32].lstrip("._-")
    return cleaned if cleaned and cleaned not in ("officer", "ml") else "contributor"


def _password() -> str:
    return secrets.token_urlsafe(12)


class EmbeddedSystem:
    def __init__(self, data_dir: Path, *, key_dir: Path | None = None, port: int = 8750,
                 record: bool | None = None, policy: str = DEFAULT_POLICY,
                 sync_interval: float = 10.0, upload_interval: float = 30.0,
                 pipeline_interval: float = 30.0, executor: str = "inline",
                 recorder_options: dict[str, Any] | None = None,
                 echo: Callable[[str], None] = lambda line: None) -> None:
        self.layout = Layout.for_data_dir(data_dir, key_dir)
        self.requested_port = port
        self.record = bool(os.environ.get("DISPLAY")) if record is None else record
        self.policy = policy
        self.sync_interval = sync_interval
        self.upload_interval = upload_interval
        self.pipeline_interval = pipeline_interval
        self.executor = executor
        self.recorder_options = dict(recorder_options or {})
        self.echo = echo
        self.first_start: FirstStart | None = None
        self.warnings: list[str] = []
        self.url = ""
        self.record_data: dict[str, Any] = {}
        self._server: Any = None
        self._server_thread: threading.Thread | None = None
        self._pipeline: PipelineLoop | None = None
        self._agent: Any = None
        self._agent_stop = threading.Event()
        self._agent_thread: threading.Thread | None = None
        self._metadata: Any = None
        self.audit: Any = None
        self.uploaded_chunks = 0
        self._catalogs: list[Any] = []

    # -- start --------------------------------------------------------------------------------

    def start(self) -> None:
        layout = self.layout
        self._point_device_paths()
        layout.create()
        if not (layout.master / "master.pub").exists():
            from apprentice.keys import create_master_key

            for leftover in ("master.key", "master.pub"):  # a first start that stopped half-way
                (layout.master / leftover).unlink(missing_ok=True)
            create_master_key(layout.master)
        if not layout.audit_key.exists():
            from apprentice.audit import create_signing_key

            create_signing_key(layout.audit_key)
        self.record_data = layout.load_record()
        sock = self._bind(self.record_data.get("port", self.requested_port))
        port = sock.getsockname()[1]
        layout.config.write_text(layout.settings_toml(port))
        settings = self._check(layout.config)
        self.url = f"http://127.0.0.1:{port}"
        try:
            self._open_pipeline()
            self._open_collector(settings, sock)
            self._setup_once(port)
            assert self._pipeline is not None
            self._pipeline.start()
            self._start_agent()
        except BaseException:
            self.stop()
            raise

    def _point_device_paths(self) -> None:
        # One machine, one process: every per-user path (device state, spool keys, the device
        # key, the audit key) points into the key folder, so every part (and `apprentice
        # status` with APPRENTICE_CONFIG_DIR set) agrees on where they are.
        os.environ["APPRENTICE_CONFIG_DIR"] = str(self.layout.private)
        for name in ("APPRENTICE_KEY_DIR", "APPRENTICE_DEVICE_DIR", "APPRENTICE_AUDIT_KEY"):
            os.environ.pop(name, None)

    def _bind(self, port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", int(port)))
        except OSError:
            sock.close()
            raise ConfigError(f"port {port} on 127.0.0.1 is in use; stop what uses it or pass --port N "
                              "(0: any free port)") from None
        sock.listen(128)
        sock.set_inheritable(True)
        return sock

    def _check(self, config: Path) -> Any:
        """The exposure guard, exactly as `apprentice server` runs it."""
        from apprentice.server import load_settings
        from apprentice.server.exposure import check_collector

        settings = load_settings(config, environ={})
        problems = [p for result in check_collector(settings, config) for p in result.problems]
        self.warnings = [p.line() for p in problems if p.severity == "warn"]
        refusals = [p.line() for p in problems if p.severity == "refuse"]
        if refusals:
            raise ExposureRefused(refusals)
        return settings

    def _open_collector(self, settings: Any, sock: socket.socket) -> None:
        import uvicorn

        from apprentice.audit import AuditLog
        from apprentice.pipeline.service.catalog import PipelineDatasets, PipelineEpisodes
        from apprentice.server import create_app
        from apprentice.server.keys import ContributorKeys, open_master_wrapper
        from apprentice.server.storage.blobs import open_blob_store
        from apprentice.server.storage.metadata import SqlAuditStore, open_metadata
        from apprentice.web.wiring import portal_for

        self._metadata = metadata = open_metadata(settings.database_url)
        self._create_accounts(metadata)
        blobs = open_blob_store(settings.blob_url)
        keys = ContributorKeys(metadata, open_master_wrapper(settings.master_key_url))
        self.audit = AuditLog(SqlAuditStore(metadata.engine))
        # The pipeline's side of the portal and of a contributor's data export: their redacted
        # episodes, and dataset versions (decrypted into DATA/pipeline/views/ for the viewer).
        self._catalogs = [PipelineEpisodes(self.layout.pipeline, self.layout.pipeline_keys),
                          PipelineDatasets(self.layout.pipeline, self.layout.pipeline_keys)]
        episodes, datasets = self._catalogs
        app = create_app(settings, blobs, metadata, keys, audit=self.audit, episodes=episodes)
        portal_for(app, settings, self.audit, datasets=datasets, episodes=episodes,
                   checkpoints=self.layout.checkpoints, config_path=self.layout.config)
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
        self._server = uvicorn.Server(config)
        self._server_thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                               name="apprentice-collector", daemon=True)
        self._server_thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._server_thread.is_alive() or time.monotonic() > deadline:
                raise ConfigError("the collector did not start; run with -v for details")
            time.sleep(0.02)

    def _create_accounts(self, metadata: Any) -> None:
        """Once: the privacy officer, the pipeline, an ML engineer and this machine's contributor."""
        from apprentice.server.accounts import create_account
        from apprentice.server.signin import set_password

        record = self.record_data
        if record.get("accounts"):
            return
        now = datetime.now(UTC)
        if metadata.count_accounts("privacy_officer") > 0:
            raise ConfigError(f"{self.layout.database} already has a privacy officer but "
                              f"{self.layout.record_file} is missing; use the key folder this data folder "
                              "was made with (--key-dir)")
        officer, officer_token = create_account(metadata, "privacy_officer", now)
        first = FirstStart(officer_token)
        set_password(metadata, officer.id, "officer", password := _password())
        first.logins.append(Login("privacy officer", "officer", password))
        pipeline, pipeline_token = create_account(metadata, "pipeline", now)
        write_private(self.layout.token_file, pipeline_token + "\n")
        contributor_id = "c-" + secrets.token_hex(6)  # pseudonymous: the name is the login only
        contributor, contributor_token = create_account(metadata, "contributor", now, contributor_id)
        login = _local_login()
        set_password(metadata, contributor.id, login, password := _password())
        first.logins.append(Login("contributor (you)", login, password))
        ml, _ml_token = create_account(metadata, "ml_engineer", now)
        set_password(metadata, ml.id, "ml", password := _password())
        first.logins.append(Login("ML engineer", "ml", password))
        record.update(version=1, contributor_id=contributor_id,
                      accounts={"privacy_officer": officer.id, "pipeline": pipeline.id,
                                "contributor": contributor.id, "ml_engineer": ml.id},
                      logins={"privacy_officer": "officer", "contributor": login, "ml_engineer": "ml"})
        self.layout.save_record(record)
        first.contributor_token = contributor_token
        self.first_start = first

    def _setup_once(self, port: int) -> None:
        """As the privacy officer, through the API: a draft DPIA, the default policy, and an
        enrolment token for the local agent. Only while the officer's token is in memory."""
        import httpx

        from apprentice.client import enroll
        from apprentice.client.identity import load_identity, save_identity

        record = self.record_data
        if self.first_start is not None and not record.get("governance_ready"):
            officer = {"Authorization": f"Bearer {self.first_start.officer_token}",
                       "X-Apprentice-Purpose": "governance"}
            with httpx.Client(base_url=self.url, timeout=30, headers=officer) as http:
                _expect(http.post("/api/v1/dpias", json={"title": DPIA_TITLE, "summary": DPIA_SUMMARY}), 201)
                _expect(http.put("/api/v1/policy", content=self.policy.encode(),
                                 headers={"Content-Type": "application/yaml"}), 200)
                if not (self.layout.device / "device.json").exists():
                    body = {"contributor_id": record["contributor_id"], "ttl_s": 600}
                    reply = _expect(http.post("/api/v1/admin/enrolment-tokens", json=body), 201)
                    enroll(self.url, reply.json()["token"], self.layout.device)
            record["governance_ready"] = True
        if not (self.layout.device / "device.json").exists():
            raise ConfigError(f"the local agent is not enrolled ({self.layout.device}/device.json is "
                              "missing) and the officer's token is no longer known; move the data and key "
                              "folders aside and start again")
        identity = load_identity(self.layout.device)
        if identity.server_url != self.url:  # started on another port than last time
            save_identity(self.layout.device, dataclasses.replace(identity, server_url=self.url))
        record["port"] = port
        self.layout.save_record(record)

    def _open_pipeline(self) -> None:
        from apprentice.pipeline.service import HttpChunkSource, PipelineSettings

        settings = PipelineSettings(data_dir=self.layout.pipeline,
                                    master_key_url=f"local://{self.layout.master / 'master.key'}",
                                    key_dir=self.layout.pipeline_keys, executor=self.executor, workers=1)
        self._pipeline = PipelineLoop(settings, HttpChunkSource(self.url, self.layout.token_file),
                                      self.pipeline_interval)

    def _start_agent(self) -> None:
        from apprentice.capture.device_state import DeviceState
        from apprentice.client import load_identity
        from apprentice.embedded.agent_loop import AgentLoop

        self.device_state = DeviceState(self.layout.private)
        self._agent = AgentLoop(self.layout.spool, self.device_state, load_identity(self.layout.device),
                                record=self.record, upload_interval=self.upload_interval,
                                sync_interval=self.sync_interval, recorder_options=self.recorder_options,
                                echo=self.echo)
        self._agent_stop.clear()
        self._agent_thread = threading.Thread(target=self._run_agent, name="apprentice-agent", daemon=True)
        self._agent_thread.start()

    def _run_agent(self) -> None:
        try:
            self._agent.run(self._agent_stop)
        except Exception as exc:  # the rest keeps serving; the person sees why the agent stopped
            self.echo(f"the local agent stopped: {type(exc).__name__}: {exc}")

    # -- what the demo and the command line use ----------------------------------------------

    @property
    def contributor_id(self) -> str:
        return str(self.record_data.get("contributor_id", ""))

    @property
    def agent(self) -> Any:
        return self._agent

    def stop_agent(self) -> None:
        """Stop the agent loop, then the recorder, and upload what it left (a clean stop)."""
        if self._agent_thread is not None:
            self._agent_stop.set()
            self._agent_thread.join(60)
            self._agent_thread = None
        if self._agent is not None:
            try:
                self._agent.drain()
            finally:
                self.uploaded_chunks += self._agent.uploaded_chunks
                self._agent.close()
                self._agent = None

    def process_now(self, *, finalize: bool = False) -> Any:
        """One pipeline run now (the worker thread waits); the run's statistics."""
        if self._pipeline is None:
            raise ConfigError("the pipeline is not running")
        return self._pipeline.run_now(finalize=finalize)

    def build_dataset(self, name: str, spec: Any = None,
                      formats: tuple[str, ...] = ("parquet",)) -> tuple[Any, Path]:
        """Build the next version of dataset ``name`` and export it for ``model_training`` in
        ``formats`` to DATA/datasets/<name>/v<N>/; the version result and the export folder."""
        from apprentice.pipeline.service import VersionSpec, build_version, export_version
        from apprentice.pipeline.service.store import load_or_create_key

        if self._pipeline is None:
            raise ConfigError("the pipeline is not running")
        worker = self._pipeline.worker
        key = load_or_create_key(self.layout.pipeline_keys, f"dataset-{name}.key", self.layout.pipeline)
        with self._pipeline.lock:
            result = build_version(worker.state, worker.store, key, self.layout.pipeline, name,
                                   spec or VersionSpec())
        out = self.layout.datasets / name / f"v{result.version}"
        export_version(result.folder, key, out, purpose="model_training", formats=formats)
        return result, out

    def checkpoint(self) -> Path:
        """Sign the audit log's current state into DATA/audit-checkpoints/."""
        from apprentice.audit import load_signer
        from apprentice.fileio import write_atomically

        cp = self.audit.checkpoint(load_signer(self.layout.audit_key))
        path = self.layout.checkpoints / f"checkpoint-{cp.size:08d}.txt"
        write_atomically(path, cp.text().encode("utf-8"))
        return path

    # -- stop ---------------------------------------------------------------------------------

    def stop(self) -> None:
        self.stop_agent()
        if self._pipeline is not None:
            self._pipeline.stop()
            self._pipeline = None
        if self._server is not None:
            self._server.should_exit = True
            if self._server_thread is not None:
                self._server_thread.join(30)
            self._server = None
        for catalog in self._catalogs:
            catalog.close()
        self._catalogs = []
        if self._metadata is not None:
            self._metadata.close()
            self._metadata = None


class PipelineLoop:
    """The pipeline worker in a thread: a run every ``interval`` seconds, or now on request."""

    def __init__(self, settings: Any, source: Any, interval: float) -> None:
        from apprentice.pipeline.service import PipelineWorker

        self.source = source
        self.worker = PipelineWorker(settings, source)
        self.interval = interval
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="apprentice-pipeline", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def run_now(self, *, finalize: bool = False) -> Any:
        with self.lock:
            return self.worker.run_once(finalize=finalize)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_now()
            except Exception as exc:  # the collector may be restarting; the next run retries
                log.warning("pipeline run failed (%s); retrying in %.0f s", type(exc).__name__, self.interval)

    def stop(self) -> None:
        """Stop after the current run; close the worker and the source."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        with self.lock:
            self.worker.close()
            self.source.close()


def _expect(reply: Any, status: int) -> Any:
    if reply.status_code != status:
        try:
            code = reply.json()["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = str(reply.status_code)
        raise ConfigError(f"setting up the collector failed: {reply.request.method} {reply.request.url.path} "
                          f"answered {reply.status_code} ({code})")
    return reply
