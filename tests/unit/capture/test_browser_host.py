"""The native-messaging host: Chrome's framing, the schema, and the socket it forwards to.

Real pipes and a real Unix socket; the browser's side of the pipe is played by the test.
"""

from __future__ import annotations

import io
import json
import os
import socket
import struct
import threading
from pathlib import Path
from typing import Any

import pytest

from apprentice.capture.browser.channel import UnsafeSocket, check_socket, parent_pid
from apprentice.capture.browser.host import (
    MAX_MESSAGE,
    FrameError,
    Oversize,
    read_message,
    serve,
    write_message,
)
from apprentice.capture.browser.install import EXTENSION_ID, install
from apprentice.capture.browser.schema import ReportError, parse_report, report_to_json, strip_url


def frame(obj: Any) -> bytes:
    body = json.dumps(obj).encode() if not isinstance(obj, bytes) else obj
    return struct.pack("=I", len(body)) + body


STATE = {"type": "state", "focused": 7, "windows": [
    {"id": 7, "focused": True, "incognito": False, "url": "https://a.example/x?token=1#f",
     "credential": False, "bounds": {"left": 0, "top": 0, "width": 800, "height": 600}, "extra": "drop me"}]}
CLICK = {"type": "click", "window": 7, "credential": False, "point": {"x": 10, "y": 20},
         "bounds": {"x": 0, "y": 0, "width": 50, "height": 30},
         "element": {"role": "button", "name": "Save", "tag": "button", "states": ["focused", "bogus"],
                     "path": [{"role": "form", "name": "Order"}], "value": "secret"}}


# -- framing -------------------------------------------------------------------------------


def test_framing_round_trip_and_clean_end() -> None:
    out = io.BytesIO()
    write_message(out, {"type": "query"})
    stream = io.BytesIO(out.getvalue())
    assert read_message(stream) == {"type": "query"}
    assert read_message(stream) is None


def test_an_oversize_message_is_skipped_and_the_next_one_read() -> None:
    stream = io.BytesIO(frame(b"x" * (MAX_MESSAGE + 1)) + frame({"ok": 1}))
    with pytest.raises(Oversize):
        read_message(stream)
    assert read_message(stream) == {"ok": 1}


def test_truncated_and_malformed_messages() -> None:
    with pytest.raises(FrameError):
        read_message(io.BytesIO(b"\x05\x00"))  # half a header
    with pytest.raises(FrameError):
        read_message(io.BytesIO(struct.pack("=I", 10) + b"abc"))
    with pytest.raises(ValueError):
        read_message(io.BytesIO(frame(b"{not json")))
    with pytest.raises(ValueError):
        read_message(io.BytesIO(frame(b"\xff\xfe")))


# -- schema ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "expected"), [
    ("https://user:pw@Example.com:8443/a/b?q=1#frag", "https://example.com:8443/a/b"),
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000/"),
    ("https://[::1]/x?y", "https://[::1]/x"),
    ("chrome://settings/passwords", "chrome:"),
    ("file:///home/me/secret.pdf", "file:"),
    ("not a url", None),
    ("http://", None),
    ("", None),
])
def test_strip_url(url: str, expected: str | None) -> None:
    assert strip_url(url) == expected


def test_valid_reports_lose_unknown_fields_and_queries() -> None:
    state = report_to_json(parse_report(STATE))
    assert state["windows"][0]["url"] == "https://a.example/x"
    assert "extra" not in state["windows"][0]
    click = report_to_json(parse_report(CLICK))
    assert "value" not in click["element"]
    assert click["element"]["states"] == ["focused"]
    assert parse_report(report_to_json(parse_report(CLICK))) == parse_report(CLICK)


def test_an_incognito_window_never_carries_a_url() -> None:
    state = json.loads(json.dumps(STATE))
    state["windows"][0]["incognito"] = True
    report = parse_report(state)
    assert report.windows[0].url is None  # type: ignore[union-attr]


@pytest.mark.parametrize("mutate", [
    lambda m: m.update(type="evil"),
    lambda m: m.update(window="7"),
    lambda m: m.update(window=True),
    lambda m: m.update(credential=1),
    lambda m: m["element"].update(name="x" * 201),
    lambda m: m["element"].update(role="button; drop"),
    lambda m: m["element"].update(name="a\x00b"),
    lambda m: m["element"].update(tag="<script>"),
    lambda m: m["point"].update(x=1 << 40),
    lambda m: m.pop("bounds"),
    lambda m: m.update(element=[1, 2]),
])
def test_invalid_reports_are_refused(mutate: Any) -> None:
    message = json.loads(json.dumps(CLICK))
    mutate(message)
    with pytest.raises(ReportError) as info:
        parse_report(message)
    assert "secret" not in str(info.value) and "x" * 50 not in str(info.value)


def test_a_state_with_too_many_windows_is_refused() -> None:
    with pytest.raises(ReportError):
        parse_report({"type": "state", "focused": -1, "windows": [STATE["windows"][0]] * 65})
    with pytest.raises(ReportError):
        parse_report("state")


# -- forwarding --------------------------------------------------------------------------------


def _listen(path: Path) -> socket.socket:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    server.bind(str(path))
    os.umask(old)
    server.listen(1)
    return server


def test_the_host_forwards_only_valid_reports_and_relays_queries(tmp_path: Path) -> None:
    path = tmp_path / "browser.sock"
    server = _listen(path)
    stdin_r, stdin_w = os.pipe()
    stdout_r, stdout_w = os.pipe()
    logs: list[str] = []
    with open(stdin_r, "rb") as host_in, open(stdout_w, "wb") as host_out:
        worker = threading.Thread(target=serve, args=(host_in, host_out, path, 4242, logs.append))
        worker.start()
        chrome = os.fdopen(stdin_w, "wb")
        chrome.write(frame(STATE))
        chrome.flush()
        conn, _ = server.accept()
        lines = conn.makefile("rb")
        hello = json.loads(lines.readline())
        assert hello == {"type": "hello", "v": 1, "browser_pid": 4242}
        assert json.loads(lines.readline())["windows"][0]["url"] == "https://a.example/x"
        chrome.write(frame(b"garbage") + frame({"type": "click"}) + frame(b"y" * (MAX_MESSAGE + 5)))
        chrome.write(frame(CLICK))
        chrome.flush()
        forwarded = json.loads(lines.readline())
        assert forwarded["type"] == "click" and "value" not in forwarded["element"]
        conn.sendall(b'{"type": "query"}\n')
        with os.fdopen(stdout_r, "rb") as from_host:
            assert read_message(from_host) == {"type": "query"}
            chrome.close()  # Chrome went away: the host exits
            worker.join(5)
    assert not worker.is_alive()
    conn.close()
    server.close()


def test_the_host_refuses_a_socket_others_can_use(tmp_path: Path) -> None:
    path = tmp_path / "browser.sock"
    server = _listen(path)
    os.chmod(path, 0o666)
    with pytest.raises(UnsafeSocket, match="open to other users"):
        check_socket(path)
    os.chmod(path, 0o600)
    check_socket(path)
    server.close()
    path.unlink()
    path.write_text("not a socket")
    with pytest.raises(UnsafeSocket, match="not a socket"):
        check_socket(path)
    with pytest.raises(UnsafeSocket, match="is `apprentice record` running"):
        check_socket(tmp_path / "absent.sock")


def test_without_a_recorder_reports_are_dropped_and_the_host_keeps_running(tmp_path: Path) -> None:
    logs: list[str] = []
    stdin = io.BytesIO(frame(STATE) + frame(CLICK))
    assert serve(stdin, io.BytesIO(), tmp_path / "absent.sock", 1, logs.append) == 0
    absent = tmp_path / "absent.sock"
    assert logs == [f"no recorder socket at {absent}; is `apprentice record` running?"]


def test_parent_pid_reads_proc() -> None:
    assert parent_pid(os.getpid()) == os.getppid()


def test_install_writes_a_manifest_for_the_extension_only(tmp_path: Path) -> None:
    done = install(tmp_path / "device", user_data_dir=tmp_path / "profile")
    manifest = json.loads(done.manifest.read_text())
    assert done.manifest == tmp_path / "profile" / "NativeMessagingHosts" / "com.apprentice.agent.json"
    assert manifest["allowed_origins"] == [f"chrome-extension://{EXTENSION_ID}/"]
    assert manifest["type"] == "stdio" and manifest["path"] == str(done.launcher)
    assert os.access(done.launcher, os.X_OK)
    assert "--socket" in done.launcher.read_text()
    repo = Path(__file__).resolve().parents[3]
    extension = json.loads((repo / "extensions/chromium/manifest.json").read_text())
    assert _extension_id(extension["key"]) == EXTENSION_ID


def _extension_id(key: str) -> str:
    import base64
    import hashlib

    digest = hashlib.sha256(base64.b64decode(key)).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest)
