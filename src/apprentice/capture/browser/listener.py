"""The recorder's end of the browser channel: a private Unix socket in the device folder.

:class:`BrowserListener` creates ``browser.sock`` (mode 0600 from the start: it is bound
under a 0177 umask), accepts native-messaging hosts of the same user only, checks every
line again with the report schema and hands valid reports to the :class:`BrowserContext`.
Nothing received is logged or stored here; the context keeps only the latest state.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import socket
import stat
import threading
from pathlib import Path
from typing import Any

from apprentice.capture.browser.channel import (
    MAX_LINE,
    encode_line,
    parent_pid,
    peer_credentials,
)
from apprentice.capture.browser.context import BrowserContext
from apprentice.capture.browser.schema import ReportError, parse_report
from apprentice.errors import ConfigError

log = logging.getLogger(__name__)
_MAX_CONNECTIONS = 8


class BrowserListener:
    def __init__(self, path: Path, context: BrowserContext) -> None:
        self.path = path
        self.context = context
        self._server: socket.socket | None = None
        self._wake_r, self._wake_w = os.pipe()
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.rejected = 0  # lines that failed the schema (counted, never logged)

    def start(self) -> None:
        """Bind the socket; raise ConfigError if another recorder already listens on it."""
        self._clear_stale()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            server.bind(str(self.path))
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        server.listen(_MAX_CONNECTIONS)
        self._server = server
        self._thread = threading.Thread(target=self._accept_loop, name="apprentice-browser", daemon=True)
        self._thread.start()

    def close(self) -> None:
        os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(5)
        with self._lock:
            for conn in list(self._conns):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        if self._server is not None:
            self._server.close()
            self._server = None
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)

    def _clear_stale(self) -> None:
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(st.st_mode):
            raise ConfigError(f"{self.path} exists and is not a socket; remove it and start again")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(self.path))
        except OSError:
            self.path.unlink()  # left behind by a recorder that died
            return
        finally:
            probe.close()
        raise ConfigError(f"another recorder is already listening on {self.path}; stop it first")

    def _accept_loop(self) -> None:
        assert self._server is not None
        while True:
            ready, _, _ = select.select([self._server, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            try:
                conn, _ = self._server.accept()
            except OSError:
                continue
            creds = peer_credentials(conn)
            if creds is not None and creds[1] != os.geteuid():
                conn.close()  # another user's process: never theirs to tell us anything
                continue
            with self._lock:
                if len(self._conns) >= _MAX_CONNECTIONS:
                    conn.close()
                    continue
                self._conns.add(conn)
            threading.Thread(target=self._serve, args=(conn, creds), daemon=True,
                             name="apprentice-browser-conn").start()

    def _serve(self, conn: socket.socket, creds: tuple[int, int] | None) -> None:
        key: int | None = None
        send_lock = threading.Lock()

        def send(message: dict[str, Any]) -> None:
            with send_lock, contextlib.suppress(OSError):
                conn.sendall(encode_line(message))

        reader = conn.makefile("rb")
        try:
            while True:
                line = reader.readline(MAX_LINE)
                if not line:
                    break
                if not line.endswith(b"\n"):
                    break  # over-long line: this peer is not speaking the protocol
                try:
                    message = json.loads(line)
                except ValueError:
                    self.rejected += 1
                    continue
                if key is None:
                    if not isinstance(message, dict) or message.get("type") != "hello":
                        break
                    key = self.context.connect(_browser_pid(message, creds), send)
                    continue
                try:
                    report = parse_report(message)
                except ReportError:
                    self.rejected += 1
                    continue
                self.context.report(key, report)
        except OSError:
            pass
        finally:
            if key is not None:
                self.context.disconnect(key)
            with self._lock:
                self._conns.discard(conn)
            with contextlib.suppress(OSError):
                reader.close()
                conn.close()


def _browser_pid(hello: dict[str, Any], creds: tuple[int, int] | None) -> int | None:
    """The browser's pid: the host's parent as the OS says, else what the host said."""
    if creds is not None:
        parent = parent_pid(creds[0])
        if parent is not None:
            return parent
    value = hello.get("browser_pid")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
