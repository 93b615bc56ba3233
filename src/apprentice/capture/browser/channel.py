"""The local channel between the native-messaging host and the recorder: a Unix socket.

    <device folder>/browser.sock     mode 0600, owned by the contributor, made by the recorder

Lines of JSON, one message each, at most :data:`MAX_LINE` bytes. The host speaks first
(``{"type": "hello", "v": 1, "browser_pid": N}``), then forwards validated reports; the
recorder may send ``{"type": "query"}`` (asks the extension for its current state). Both ends
check the other: the host refuses a socket that is not a socket, not the contributor's, or
open to others; the recorder refuses a peer running as another user (``SO_PEERCRED``).
"""

from __future__ import annotations

import json
import os
import socket
import stat
import struct
from pathlib import Path
from typing import Any

from apprentice.errors import CaptureError

SOCKET_NAME = "browser.sock"
MAX_LINE = 1024 * 1024 + 1024
PROTOCOL = 1


class UnsafeSocket(CaptureError):
    """The socket path is not a private socket of this user: refuse to use it."""


def socket_path(device_root: Path) -> Path:
    return device_root / SOCKET_NAME


def check_socket(path: Path) -> None:
    """Raise :class:`UnsafeSocket` unless ``path`` is a socket owned by us with mode 0600."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise UnsafeSocket(f"no recorder socket at {path}; is `apprentice record` running?") from None
    if not stat.S_ISSOCK(st.st_mode):
        raise UnsafeSocket(f"{path} is not a socket; remove it and restart the recorder")
    if st.st_uid != os.geteuid():
        raise UnsafeSocket(f"{path} belongs to another user; refusing to send to it")
    if st.st_mode & 0o077:
        raise UnsafeSocket(f"{path} is open to other users (mode {st.st_mode & 0o777:o}); "
                           "restart the recorder, which makes it 0600")


def encode_line(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=True).encode() + b"\n"


def peer_credentials(sock: socket.socket) -> tuple[int, int] | None:
    """(pid, uid) of the process at the other end of a Unix socket, where the OS says."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    raw = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    pid, uid, _gid = struct.unpack("3i", raw)
    return pid, uid


def parent_pid(pid: int) -> int | None:
    """The parent of a process (Linux /proc); the browser that started the host."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return None
    # The command name (2nd field) may contain spaces and parentheses; fields follow the last ')'.
    fields = text.rsplit(")", 1)[-1].split()
    try:
        return int(fields[1])
    except (IndexError, ValueError):
        return None
