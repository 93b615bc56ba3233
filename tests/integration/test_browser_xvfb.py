"""The Chromium extension end to end: Debian's Chromium on Xvfb with the unpacked extension, the
native-messaging host installed into its profile, local pages on loopback, xdotool, the real
recorder, and a dataset built from the spool.

The policy allows the domain ``127.0.0.1`` only; the same server reached as ``localhost`` is a
site that is not allowlisted. Pages put the screen position of their viewport into the title
once the pointer moves over them, so the test can click on elements at known places.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from apprentice import events as ev
from apprentice.capture import CaptureConfig, CaptureSession, record_until
from apprentice.capture.browser.install import install
from apprentice.capture.device_state import DeviceState
from apprentice.demo.xvfb import VirtualDisplay, xdotool
from apprentice.pipeline import build_dataset
from apprentice.spool import open_spool
from tests.integration.conftest import wait_until
from tests.support import prepare_device

pytestmark = pytest.mark.display

EXTENSION = Path(__file__).resolve().parents[2] / "extensions" / "chromium"
PASSWORD = "Tr0ub4dor&3horse"
CALIBRATE = """
<script>
addEventListener("mousemove", (e) => {
  const at = ` @${e.screenX - e.clientX},${e.screenY - e.clientY}`;
  document.title = document.title.replace(/ @.*$/, "") + at;
});
</script>
"""
WORK_PAGE = f"""<!doctype html><html><head><title>Order form</title>
<style>body {{ margin: 0 }} * {{ box-sizing: border-box }}
#country {{ position: absolute; left: 40px; top: 40px; width: 300px; height: 50px }}
#save {{ position: absolute; left: 40px; top: 140px; width: 300px; height: 60px }}
#pw {{ position: absolute; left: 40px; top: 240px; width: 300px; height: 40px }}
label {{ position: absolute; left: 400px; top: 40px }}</style>{CALIBRATE}</head><body>
<label for="country">Country</label>
<select id="country"><option>France</option><option>Spain</option></select>
<button id="save" type="button"><span>Save order</span></button>
<input id="pw" type="password" name="password" autocomplete="current-password">
</body></html>"""
OTHER_PAGE = f"""<!doctype html><html><head><title>Elsewhere</title>{CALIBRATE}</head>
<body style="margin:0"><input id="q" style="position:absolute;left:40px;top:40px;width:300px;height:40px">
</body></html>"""


@pytest.fixture
def site(tmp_path: Path) -> Iterator[int]:
    root = tmp_path / "site"
    root.mkdir()
    (root / "work.html").write_text(WORK_PAGE)
    (root / "other.html").write_text(OTHER_PAGE)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass


class Chromium:
    """One Chromium with the unpacked extension and its own profile (and host manifest)."""

    def __init__(self, display: VirtualDisplay, profile: Path) -> None:
        self.display = display
        self.profile = profile
        self.proc: subprocess.Popen[bytes] | None = None
        install(DeviceState.default().root, user_data_dir=profile)

    def open(self, url: str, *extra: str) -> str:
        binary = shutil.which("chromium")
        if binary is None:
            pytest.skip("needs chromium (apt-get install chromium)")
        cmd = [
            binary, f"--user-data-dir={self.profile}", f"--load-extension={EXTENSION}",
            "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--password-store=basic",
            "--window-position=0,0", "--window-size=1000,700", *extra, url,
        ]
        if os.geteuid() == 0:
            cmd.insert(1, "--no-sandbox")
        self.proc = subprocess.Popen(cmd, env=self.display.env(), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wid: list[str] = []

        def window() -> bool:
            found = subprocess.run(["xdotool", "search", "--onlyvisible", "--pid", str(self.proc.pid),
                                    "--name", "Chromium"], env=self.display.env(),
                                   capture_output=True, text=True).stdout.split()
            wid[:] = found
            return bool(found)

        wait_until(window, timeout=60)
        return wid[0]

    def origin(self, wid: str) -> tuple[int, int]:
        """Where the page's viewport is on the screen (the page writes it into its title)."""
        xdotool(self.display, "mousemove", "--sync", "600", "500")
        xdotool(self.display, "mousemove", "--sync", "610", "505")
        found: list[tuple[int, int]] = []

        def titled() -> bool:
            title = subprocess.run(["xdotool", "getwindowname", wid], env=self.display.env(),
                                   capture_output=True, text=True).stdout
            m = re.search(r"@(-?\d+),(-?\d+)", title)
            if m:
                found.append((int(m.group(1)), int(m.group(2))))
            return bool(m)

        wait_until(titled, timeout=10)
        return found[-1]

    def close(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class Recorder:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.stop = threading.Event()
        self.started = threading.Event()
        self.session: CaptureSession | None = None
        self.failure: list[BaseException] = []
        self.thread = threading.Thread(target=self._run)

    def __enter__(self) -> Recorder:
        self.thread.start()
        assert self.started.wait(30)
        assert not self.failure, self.failure
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(60)
        assert not self.failure, self.failure

    def _run(self) -> None:
        def on_started(session: CaptureSession) -> None:
            self.session = session
            self.started.set()

        try:
            record_until(self.out, duration=180, stop_event=self.stop, on_started=on_started,
                         config=CaptureConfig(settle_delay=0.15))
        except BaseException as exc:  # surfaced in the test, not lost in the thread
            self.failure.append(exc)
            self.started.set()

    def wait_reason(self, reason: str) -> None:
        assert self.session is not None
        wait_until(lambda: self.session.gate.decision.reason == reason, timeout=30)


def _click(display: VirtualDisplay, x: int, y: int) -> None:
    xdotool(display, "mousemove", "--sync", str(x), str(y))
    xdotool(display, "click", "1")


def _gap_reasons(events: list[ev.Event]) -> set[str | None]:
    return {e.reason for e in events if isinstance(e, ev.Control) and e.op == "gap"}


def test_clicks_carry_role_and_name_and_passwords_never_reach_the_spool(
    display: VirtualDisplay, site: int, tmp_path: Path
) -> None:
    prepare_device([], extra="  domains: ['127.0.0.1']\n")
    browser = Chromium(display, tmp_path / "profile")
    try:
        with Recorder(tmp_path / "spool") as rec:
            wid = browser.open(f"http://127.0.0.1:{site}/work.html")
            xdotool(display, "windowactivate", "--sync", wid)
            rec.wait_reason("allowed")
            ox, oy = browser.origin(wid)
            assert rec.session is not None
            downs = lambda: rec.session.counts.by_kind.get("mouse_down", 0)  # noqa: E731

            _click(display, ox + 190, oy + 65)  # the <select>: its popup opens
            wait_until(lambda: downs() >= 1)
            xdotool(display, "key", "Escape")
            _click(display, ox + 190, oy + 170)  # the <button> (on its inner <span>)
            wait_until(lambda: downs() >= 2)
            _click(display, ox + 190, oy + 260)  # the password field
            wait_until(lambda: downs() >= 3)
            xdotool(display, "type", "--delay", "60", PASSWORD)
            _click(display, ox + 190, oy + 170)  # the button again: focus leaves the field
            wait_until(lambda: downs() >= 4)
            xdotool(display, "type", "--delay", "60", "ok")

            # Now a site that is not allowlisted, in the same window.
            xdotool(display, "key", "ctrl+l")
            xdotool(display, "type", "--delay", "30", f"localhost:{site}/other.html\n")
            rec.wait_reason("not_allowlisted")
            xdotool(display, "mousemove", "--sync", "600", "500")
            _click(display, ox + 100, oy + 60)
            xdotool(display, "type", "--delay", "40", "elsewhere")
            wait_until(lambda: rec.session.counts.suppressed >= 10)
    finally:
        browser.close()

    reader = open_spool(tmp_path / "spool")
    events = list(reader.events())
    assert reader.problems == []

    # The URL reached the window context, redacted (the host is an IP address), on the
    # allowlisted host only.
    urls = {e.window.url for e in events if isinstance(e, ev.Focus) and e.window}
    assert f"http://<IP_ADDRESS>:{site}/work.html" in urls
    assert not any("localhost" in (u or "") for u in urls)
    assert "not_allowlisted" in _gap_reasons(events)

    downs = [e for e in events if isinstance(e, ev.MouseDown)]
    assert len(downs) == 4, "the click on the other site must not be recorded"
    elements = {e.for_seq: e for e in events if isinstance(e, ev.Element)}
    stop = next(e for e in events if isinstance(e, ev.Control) and e.op == "stop")
    assert len(elements) >= 4, (stop.info, [(d.seq, d.x, d.y) for d in downs], elements)
    select, button = elements[downs[0].seq], elements[downs[1].seq]
    assert (select.source, select.role, select.name, select.tag) == (
        "browser", "combo box", "Country", "select")
    assert (button.role, button.name, button.tag) == ("button", "Save order", "button")
    assert button.bounds is not None and button.bounds.contains(ox + 190, oy + 170)
    assert (button.bounds.width, button.bounds.height) == (300, 60)
    assert "password" in elements[downs[2].seq].states

    # Not one keystroke of the password, and nothing typed on the other site.
    typed = "".join(e.char or "" for e in events if isinstance(e, ev.KeyDown))
    assert "ok" in typed
    assert "Tr0" not in typed and "horse" not in typed and "elsewhere" not in typed
    in_field = [e for e in events if isinstance(e, ev.KeyDown) and downs[2].seq < e.seq < downs[3].seq]
    assert in_field == []
    assert "secure_input" in _gap_reasons(events)

    # The exported steps carry the target's role and name.
    result = build_dataset(events, reader.load_frame, tmp_path / "ds", ("parquet",))
    clicks = [s for ep in result.dataset.episodes for s in ep.steps if s.action.type == "click"]
    targets = [(s.target.role, s.target.name) for s in clicks if s.target is not None]
    assert ("combo box", "Country") in targets and ("button", "Save order") in targets
    files = sorted((tmp_path / "ds" / "data" / "steps").glob("*.parquet"))
    assert files
    rows = {(r["target_role"], r["target_name"]) for f in files for r in pq.read_table(f).to_pylist()}
    assert ("combo box", "Country") in rows and ("button", "Save order") in rows


def test_an_incognito_window_yields_nothing(display: VirtualDisplay, site: int, tmp_path: Path) -> None:
    prepare_device([], extra="  domains: ['127.0.0.1']\n")
    browser = Chromium(display, tmp_path / "profile")
    try:
        with Recorder(tmp_path / "spool") as rec:
            wid = browser.open(f"http://127.0.0.1:{site}/work.html", "--incognito")
            xdotool(display, "windowactivate", "--sync", wid)
            rec.wait_reason("private_window")
            assert rec.session is not None
            _click(display, 200, 300)
            xdotool(display, "type", "--delay", "40", "incognito words")
            wait_until(lambda: rec.session.counts.suppressed >= 20)
            assert rec.session.gate.decision.reason == "private_window"
    finally:
        browser.close()

    events = list(open_spool(tmp_path / "spool").events())
    assert "private_window" in _gap_reasons(events)
    kept = [e for e in events if not isinstance(e, ev.Control)]
    # Nothing but gaps (and the session's bookkeeping): no window, input, element or frame.
    assert all(isinstance(e, ev.Focus) and e.window is not None and "Chromium" not in (e.window.title or "")
               for e in kept), kept
