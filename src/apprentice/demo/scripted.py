"""The scripted contributor of ``apprentice up --demo``: the whole system on a virtual display.

It starts the embedded default (``apprentice.embedded``: collector, portal, pipeline and the
local agent in one process) on a virtual display with two work editors (allowlisted), a
private chat window and a password prompt (both on the built-in denylist). Then, as real
people would: the privacy officer approves the DPIA and publishes the demo policy (API); the
contributor signs in to the portal and accepts the notice (the HTML form, with its CSRF
token); the agent syncs and starts recording; a script works through two short tasks
(typing with a correction, clicks, a double click, scrolling, a hotkey, a card number that
must be redacted), types into the chat and the password prompt (never captured), pauses
once from the portal and resumes. The agent stops and uploads; the pipeline decrypts,
redacts again and builds episodes; a dataset version is built and exported to
``DATA/datasets/demo/v<N>/``; the demo checks that no canary reached any file or any
exported screenshot, signs an audit checkpoint and says what to open.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from apprentice.demo.xvfb import VirtualDisplay, notepad_command, wait_for_window, xdotool

DEMO_POLICY = """\
version: 1
allow:
  apps:
    - app_id: DemoNotepad
pause_cap_minutes: 30
"""

#: Strings the demo types or shows where they must never be kept.
CANARIES = {
    "chat": "CANARY-private-message-7731",
    "password": "CanaryPassw0rd!42",
    "card": "4111 1111 1111 1111",
}
DATASET = "demo"
FORMATS = ("parquet", "osworld", "agentnet", "computer13", "wds")
_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


class PortalVisitor:
    """A person in the portal, through plain HTTP: the sign-in form, then pages and forms with
    the session's CSRF token, exactly as a browser without JavaScript sends them."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30, follow_redirects=False)

    def sign_in(self, login: str, password: str) -> str:
        form = self.http.get("/login")
        fields = dict(_HIDDEN.findall(form.text))
        reply = self.http.post("/login", data={**fields, "login": login, "password": password})
        if reply.status_code != 303:
            raise RuntimeError(f"signing in as {login} failed ({reply.status_code})")
        return str(reply.headers["location"])

    def submit(self, page: str, action: str, **fields: str) -> httpx.Response:
        """Open ``page``, take its CSRF token, post ``fields`` to ``action``."""
        hidden = dict(_HIDDEN.findall(self.http.get(page).text))
        reply = self.http.post(action, data={"csrf_token": hidden.get("csrf_token", ""), **fields})
        if reply.status_code not in (200, 303):
            raise RuntimeError(f"the portal refused {action} ({reply.status_code})")
        return reply

    def notice_version(self, page: str) -> str:
        return dict(_HIDDEN.findall(self.http.get(page).text)).get("version", "")

    def close(self) -> None:
        self.http.close()


def _wait(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"the demo timed out waiting for {what}")


def _script(display: VirtualDisplay, windows: dict[str, str], session: Any, state: Any,
            contributor: PortalVisitor, home: str) -> None:
    def focus(name: str) -> None:
        before = session.frames.stats.by_trigger.get("focus", 0)
        xdotool(display, "windowactivate", "--sync", windows[name])
        deadline = time.monotonic() + 3
        while session.frames.stats.by_trigger.get("focus", 0) == before and time.monotonic() < deadline:
            time.sleep(0.05)

    def type_text(text: str) -> None:
        xdotool(display, "type", "--delay", "35", text)

    def task(command: dict[str, Any]) -> None:
        # What `apprentice task start/end` does: queue a command the recorder takes.
        state.put_command({**command, "created_ns": time.time_ns()})
        session.refresh()

    task({"op": "task_start", "instruction": "Draft the quarterly report"})
    focus("report")
    xdotool(display, "mousemove", "300", "200", "click", "1")
    type_text("Quarterly report draftt")
    xdotool(display, "key", "BackSpace", "Return")
    type_text("Revenue grew in Q3.")
    xdotool(display, "key", "Return")
    type_text(f"Card on file: {CANARIES['card']}")
    xdotool(display, "key", "Return", "ctrl+s")
    xdotool(display, "mousemove", "320", "120", "click", "--repeat", "2", "--delay", "80", "1")
    xdotool(display, "click", "5", "click", "5", "click", "4")
    task({"op": "task_end", "status": "success"})
    # A private chat window: on the built-in denylist, so nothing of it is kept.
    focus("chat")
    type_text(CANARIES["chat"])
    # A password prompt: denylisted as a credential prompt.
    focus("prompt")
    type_text(CANARIES["password"])
    xdotool(display, "key", "Return")
    # The contributor pauses from the portal; the agent applies it at its next sync.
    contributor.submit(home, f"{home}/pause", minutes="15")
    _wait("the pause to reach the device", lambda: state.paused_until() is not None)
    session.refresh()
    focus("tasks")
    type_text("typed while paused")
    contributor.submit(home, f"{home}/resume")
    _wait("the resume to reach the device", lambda: state.paused_until() is None)
    session.refresh()
    task({"op": "task_start", "instruction": "Note a follow-up task"})
    xdotool(display, "mousemove", "800", "500", "click", "1")
    type_text("Follow up with the team")
    xdotool(display, "key", "Return")
    task({"op": "task_end", "status": "success"})
    time.sleep(0.8)


def _demo_secrets(system: Any) -> dict[str, Any]:
    """The scripted people's credentials. A first start shows them once and the demo keeps
    them (0600, in the key folder) so that a second demo run can act as them again; a real
    `apprentice up` keeps no secret of anyone."""
    from apprentice.embedded.layout import write_private

    path = system.layout.private / "demo-people.json"
    first = system.first_start
    if first is not None:
        people = {"officer_token": first.officer_token,
                  "logins": {login.login: login.password for login in first.logins}}
        write_private(path, json.dumps(people))
        return people
    try:
        return dict(json.loads(path.read_text()))
    except FileNotFoundError:
        raise RuntimeError(f"{system.layout.data} was set up by `apprentice up` without --demo, so the demo "
                           "cannot act as its people; use another --data-dir") from None


def _officer_enables_capture(url: str, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}", "X-Apprentice-Purpose": "governance"}
    with httpx.Client(base_url=url, timeout=30, headers=headers) as http:
        for dpia in http.get("/api/v1/dpias").json()["dpias"]:
            if dpia["status"] == "draft":
                http.post(f"/api/v1/dpias/{dpia['id']}/approve").raise_for_status()
        http.put("/api/v1/policy", content=DEMO_POLICY.encode(),
                 headers={"Content-Type": "application/yaml"}).raise_for_status()
        status = http.get("/api/v1/governance/status").json()
        if not status["capture_enabled"]:
            raise RuntimeError(f"capture is still disabled ({status['reason']})")


def run_demo(data_dir: Path, console: Console, *, key_dir: Path | None = None, port: int = 0,
             serve: bool = False, wait: Callable[[], None] | None = None) -> Path:
    """Run the whole demo; return the exported dataset folder."""
    from apprentice.cli.up_cmd import show_start
    from apprentice.embedded.system import EmbeddedSystem
    from apprentice.pipeline.service import QualityFilter, VersionSpec

    started = time.monotonic()
    console.print("[bold]apprentice up --demo[/]: the whole system on a virtual display "
                  "(Xvfb + openbox) with four windows")
    with VirtualDisplay() as display:
        apps = {
            "report": notepad_command("Report — Notepad", "DemoNotepad") + ["--geometry", "620x420+20+20"],
            "tasks": notepad_command("Tasks — Notepad", "DemoNotepad") + ["--geometry", "520x360+700+380"],
            "chat": notepad_command("Signal — Alice", "Signal") + ["--geometry", "420x300+700+20"],
            "prompt": notepad_command("Authentication Required", "Pinentry")
            + ["--geometry", "360x160+300+500"],
        }
        import subprocess

        procs = [subprocess.Popen(cmd, env=display.env()) for cmd in apps.values()]
        sessions: list[Any] = []
        recording = threading.Event()

        def on_started(session: Any) -> None:
            sessions.append(session)
            recording.set()

        system = EmbeddedSystem(data_dir, key_dir=key_dir, port=port, record=True, policy=DEMO_POLICY,
                                sync_interval=0.5, upload_interval=2.0, pipeline_interval=3600,
                                recorder_options={"display": display.display, "on_started": on_started},
                                echo=lambda line: console.print(f"  agent: {line}"))
        contributor: PortalVisitor | None = None
        try:
            titles = {"report": "Report", "tasks": "Tasks", "chat": "Signal", "prompt": "Authentication"}
            windows = {name: wait_for_window(display, title) for name, title in titles.items()}
            system.start()
            show_start(system)
            people = _demo_secrets(system)
            login = system.record_data["logins"]["contributor"]
            _officer_enables_capture(system.url, people["officer_token"])
            console.print("  the privacy officer approved the DPIA and published the demo policy (API)")
            contributor = PortalVisitor(system.url)
            home = contributor.sign_in(login, people["logins"][login])
            version = contributor.notice_version(f"{home}/consent")
            contributor.submit(f"{home}/consent", f"{home}/consent", decision="accept", version=version)
            console.print(f"  the contributor signed in to the portal as {login} and accepted notice "
                          f"{version}")
            _wait("the agent to start recording", recording.is_set, timeout=60)
            console.print(f"[bold red]●[/] recording display {display.display}: two tasks, a private chat, "
                          "a password prompt, a pause from the portal")
            _script(display, windows, sessions[-1], system.device_state, contributor, home)
            system.stop_agent()
            console.print(f"[green]recorded and uploaded[/] {system.uploaded_chunks} sealed chunks; "
                          "the spool is empty again")
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(5)
            if contributor is not None:
                contributor.close()
        try:
            stats = system.process_now(finalize=True)
            console.print(f"[green]pipeline[/]: decrypted {stats.chunks} chunks in memory, dropped "
                          f"{stats.frames_dropped} frames in the second redaction pass, built "
                          f"{stats.build.episodes} episodes ({stats.build.steps} steps)")
            # The demo's screens are mostly other windows, masked grey: keep every episode.
            quality = QualityFilter(min_steps=1, max_redacted_share=1.0)
            spec = VersionSpec(splits=(("train", 1.0),), quality=quality)
            result, dataset = system.build_dataset(DATASET, spec, FORMATS)
            console.print(f"[green]dataset[/] {DATASET}@v{result.version}: {result.episodes} episodes, "
                          f"{result.steps} steps, sealed in {result.folder}; exported for model_training "
                          f"({', '.join(FORMATS)}) → {dataset}")
            leaks = find_canaries([system.layout.data, system.layout.private])
            leaks |= ocr_canaries(exported_images(dataset))
            if leaks:
                raise RuntimeError(f"demo canaries found where they must not be: {sorted(leaks)}")
            console.print("[green]privacy check[/]: no chat message, password or card number in any file "
                          "under the data and key folders, nor in the OCR of any exported screenshot")
            checkpoint = system.checkpoint()
            _next_steps(console, system, dataset, checkpoint, time.monotonic() - started)
            if serve:
                console.print("Serving the portal; Ctrl+C stops.")
                (wait or (lambda: None))()
        finally:
            system.stop()
    return dataset


def _next_steps(console: Console, system: Any, dataset: Path, checkpoint: Path, seconds: float) -> None:
    layout = system.layout
    logins = system.record_data["logins"]
    console.print(f"[bold]Done in {seconds:.0f} s.[/] What to open:")
    console.print(f"  the dataset:   apprentice dataset inspect {dataset}")
    console.print("                 python -c \"import datasets; "
                  f"print(datasets.load_dataset('{dataset}'))\"")
    console.print(f"  the audit log: apprentice audit verify --config {layout.config} "
                  f"--checkpoint {checkpoint}")
    console.print(f"  the portal:    apprentice up --data-dir {layout.data}  (or the demo with --serve), "
                  f"then sign in as {logins['privacy_officer']}, {logins['contributor']} or "
                  f"{logins['ml_engineer']} with the passwords shown at the first start (the demo keeps "
                  f"them in {layout.private / 'demo-people.json'})")


def find_canaries(folders: list[Path], reader: object | None = None) -> set[str]:
    """Names of the canaries found in any file under ``folders`` or in the decrypted events."""
    import json

    from apprentice import events as ev

    found: set[str] = set()
    needles = {name: value.encode() for name, value in CANARIES.items()}
    needles |= {f"{name}:compact": value.replace(" ", "").encode() for name, value in CANARIES.items()}
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                if path.suffix == ".parquet":  # compressed: look at the values, not the bytes
                    data += parquet_text(path).encode()
                found |= {name.split(":")[0] for name, needle in needles.items() if needle in data}
    if reader is not None:
        found |= ocr_canaries(reader.load_frame(h) for h in reader.frame_hashes())  # type: ignore[attr-defined]
        events = list(reader.events())  # type: ignore[attr-defined]
        text = json.dumps([ev.to_dict(e) for e in events])
        typed = "".join(e.char or "" for e in events if isinstance(e, ev.KeyDown))
        for name, value in CANARIES.items():
            compact = value.replace(" ", "")
            if value in text or value in typed or compact in typed.replace(" ", ""):
                found.add(name)
    return found


def exported_images(folder: Path) -> list[bytes]:
    """Every distinct PNG under an exported dataset folder (each format may keep its own copy)."""
    seen: dict[bytes, bytes] = {}
    for path in sorted(folder.rglob("*.png")):
        data = path.read_bytes()
        seen.setdefault(hashlib.sha256(data).digest(), data)
    return list(seen.values())


def parquet_text(path: Path) -> str:
    """Every value of a Parquet file as text (JSON), for searching."""
    import pyarrow.parquet as pq

    return json.dumps(pq.read_table(path).to_pylist(), default=str, ensure_ascii=False)


def ocr_canaries(images: Iterable[bytes], canaries: dict[str, str] | None = None) -> set[str]:
    """Names of the canaries (the demo's by default) Tesseract can read in any of the images."""
    import io

    from PIL import Image

    from apprentice.redact.ocr import TesseractOcr
    from apprentice.redact.ocr_text import normalise_digits

    canaries = CANARIES if canaries is None else canaries
    ocr = TesseractOcr()
    found: set[str] = set()
    for data in images:
        words = ocr.words(Image.open(io.BytesIO(data)).convert("L"), timeout=30)
        text = " ".join(w.text for w in words)
        squeezed = normalise_digits(text).replace(" ", "")
        for name, value in canaries.items():
            if value in text or value.replace(" ", "") in squeezed:
                found.add(name)
    return found
