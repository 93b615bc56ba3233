"""The native-messaging host ``com.apprentice.agent``: Chrome's stdio framing in, the recorder's
socket out. It stores nothing.

Chrome starts it (``apprentice browser-host``, or ``python -m apprentice.capture.browser.host``)
when the extension connects and talks to it on stdin/stdout: each message is a 32-bit length
in native byte order followed by that many bytes of UTF-8 JSON. Messages over
:data:`MAX_MESSAGE` bytes are read past and dropped (memory stays bounded); messages that are
not JSON, or not a valid report (:mod:`.schema`), are dropped; valid ones are re-encoded with
only the schema's fields and forwarded to the recorder. When the recorder is not running, or
its socket is not private (:func:`.channel.check_socket`), reports are dropped and the host
tries again every few seconds. It exits when Chrome closes stdin.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from apprentice.capture.browser.channel import (
    MAX_LINE,
    PROTOCOL,
    UnsafeSocket,
    check_socket,
    encode_line,
    socket_path,
)
from apprentice.capture.browser.schema import ReportError, parse_report, report_to_json

MAX_MESSAGE = 1024 * 1024
_HEADER = struct.Struct("=I")  # native byte order, as Chrome writes it
_RETRY_S = 2.0
_CHUNK = 64 * 1024


class FrameError(Exception):
    """The framing itself is broken (a truncated header or body): the stream cannot go on."""


class Oversize(Exception):
    """One message was larger than allowed; it was read past and dropped."""


def read_message(stream: BinaryIO) -> Any:
    """Read one message; None at a clean end of input.

    Raises:
        Oversize: the message was over :data:`MAX_MESSAGE` bytes (already skipped).
        ValueError: the body is not UTF-8 JSON.
        FrameError: input ended inside a message.
    """
    header = _read_exactly(stream, _HEADER.size, allow_eof=True)
    if header is None:
        return None
    (length,) = _HEADER.unpack(header)
    if length > MAX_MESSAGE:
        remaining = length
        while remaining:
            chunk = stream.read(min(remaining, _CHUNK))
            if not chunk:
                raise FrameError("input ended inside an oversize message")
            remaining -= len(chunk)
        raise Oversize()
    body = _read_exactly(stream, length, allow_eof=False)
    assert body is not None
    return json.loads(body.decode("utf-8"))


def write_message(stream: BinaryIO, message: Any) -> None:
    body = json.dumps(message, separators=(",", ":")).encode()
    if len(body) > MAX_MESSAGE:
        raise ValueError("message too large for native messaging")
    stream.write(_HEADER.pack(len(body)) + body)
    stream.flush()


def _read_exactly(stream: BinaryIO, n: int, *, allow_eof: bool) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            if allow_eof and not data:
                return None
            raise FrameError("input ended inside a message")
        data += chunk
    return data


class AgentLink:
    """The host's connection to the recorder: forwards lines, hears queries, reconnects."""

    def __init__(self, path: Path, browser_pid: int, on_query: Callable[[], None],
                 *, log: Callable[[str], None] = lambda text: None) -> None:
        self._path = path
        self._browser_pid = browser_pid
        self._on_query = on_query
        self._log = log
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._next_try = 0.0
        self._last_problem = ""
        self.forwarded = 0
        self.dropped = 0

    def send(self, message: dict[str, Any]) -> bool:
        with self._lock:
            sock = self._connected()
            if sock is None:
                self.dropped += 1
                return False
            try:
                sock.sendall(encode_line(message))
            except OSError:
                self._close()
                self.dropped += 1
                return False
            self.forwarded += 1
            return True

    def close(self) -> None:
        with self._lock:
            self._close()

    def _connected(self) -> socket.socket | None:
        if self._sock is not None:
            return self._sock
        now = time.monotonic()
        if now < self._next_try:
            return None
        self._next_try = now + _RETRY_S
        try:
            check_socket(self._path)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(str(self._path))
            sock.sendall(encode_line({"type": "hello", "v": PROTOCOL, "browser_pid": self._browser_pid}))
        except (UnsafeSocket, OSError) as exc:
            problem = str(exc) if isinstance(exc, UnsafeSocket) else "the recorder is not listening"
            if problem != self._last_problem:  # say it once, not every retry
                self._log(problem)
                self._last_problem = problem
            return None
        self._last_problem = ""
        self._sock = sock
        threading.Thread(target=self._read_queries, args=(sock,), daemon=True,
                         name="apprentice-host-queries").start()
        return sock

    def _read_queries(self, sock: socket.socket) -> None:
        reader = sock.makefile("rb")
        try:
            while True:
                line = reader.readline(MAX_LINE)
                if not line:
                    break
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if isinstance(message, dict) and message.get("type") == "query":
                    self._on_query()
        except OSError:
            pass
        with self._lock:
            if self._sock is sock:
                self._close()

    def _close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None


def serve(stdin: BinaryIO, stdout: BinaryIO, path: Path, browser_pid: int,
          log: Callable[[str], None]) -> int:
    """Run the host until Chrome closes stdin; returns the exit status."""
    out_lock = threading.Lock()

    def query() -> None:
        with out_lock, contextlib.suppress(OSError, ValueError):
            write_message(stdout, {"type": "query"})

    link = AgentLink(path, browser_pid, query, log=log)
    try:
        while True:
            try:
                message = read_message(stdin)
            except (Oversize, ValueError):
                link.dropped += 1
                continue
            except FrameError:
                log("the browser's message stream broke off")
                return 1
            if message is None:
                return 0
            try:
                report = parse_report(message)
            except ReportError:
                link.dropped += 1
                continue
            link.send(report_to_json(report))
    finally:
        link.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="apprentice browser-host",
        description="Native-messaging host for the apprentice browser extension (started by Chrome).",
    )
    parser.add_argument("--socket", type=Path, default=None,
                        help="the recorder's socket (default: browser.sock in the device folder)")
    # Chrome passes the caller's origin (and on Windows a window handle); they are not needed.
    parser.add_argument("chrome_args", nargs="*", help=argparse.SUPPRESS)
    args, _unknown = parser.parse_known_args(argv)
    path = args.socket
    if path is None:
        from apprentice.capture.device_state import DeviceState

        path = socket_path(DeviceState.default().root)

    def log(text: str) -> None:
        # stderr goes to Chrome's log; messages are fixed text and paths, never content.
        print(f"apprentice browser-host: {text}", file=sys.stderr, flush=True)

    return serve(sys.stdin.buffer, sys.stdout.buffer, path, os.getppid(), log)


if __name__ == "__main__":
    sys.exit(main())
