"""X11 window context through python-xlib, driven by PropertyNotify events.

The focused window comes from the EWMH ``_NET_ACTIVE_WINDOW`` root property, which every
current window manager maintains; we listen for changes to it and to the active window's
title instead of polling. Without an EWMH window manager we fall back to asking the X
server for the input focus twice a second (documented limitation).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import select
import threading
from collections.abc import Callable
from typing import Any

from Xlib import X, Xatom, display, error

from apprentice.events import Rect, WindowInfo

log = logging.getLogger(__name__)
_FALLBACK_POLL = 0.5


class WindowSource:
    def __init__(self) -> None:
        self._display: Any = None
        self._current: WindowInfo | None = None
        self._watched: Any = None
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = os.pipe()
        self._on_change: Callable[[WindowInfo | None], None] | None = None
        self._query: Any = None  # a second connection for stacking(), used by one other thread
        self._stopped = False

    def start(self, on_change: Callable[[WindowInfo | None], None]) -> None:
        self._on_change = on_change
        self._display = d = display.Display()
        self._root = d.screen().root
        atom = d.intern_atom
        self._a_active = atom("_NET_ACTIVE_WINDOW")
        self._a_name = atom("_NET_WM_NAME")
        self._a_utf8 = atom("UTF8_STRING")
        self._a_pid = atom("_NET_WM_PID")
        self._a_role = atom("WM_WINDOW_ROLE")
        supported = self._root.get_full_property(atom("_NET_SUPPORTED"), Xatom.ATOM)
        self._ewmh = bool(supported and self._a_active in supported.value)
        self._has_res = d.has_extension("X-Resource")
        self._root.change_attributes(event_mask=X.PropertyChangeMask)
        d.flush()
        self._refresh(force=True)
        self._thread = threading.Thread(target=self._run, name="apprentice-windows", daemon=True)
        self._thread.start()

    def active(self) -> WindowInfo | None:
        return self._current

    def stacking(self) -> list[WindowInfo]:
        """Visible top-level windows, bottom to top, with bounds including the WM frame."""
        if self._stopped:
            raise RuntimeError("window source stopped")
        if self._query is None:
            self._query = display.Display()
        d = self._query
        root = d.screen().root
        prop = root.get_full_property(d.intern_atom("_NET_CLIENT_LIST_STACKING"), Xatom.WINDOW)
        extents_atom = d.intern_atom("_NET_FRAME_EXTENTS")
        found: list[WindowInfo] = []
        for wid in (prop.value if prop else []):
            window = d.create_resource_object("window", wid)
            try:
                if window.get_attributes().map_state != X.IsViewable:
                    continue
                info = self._describe(window, root)
                extents = window.get_full_property(extents_atom, Xatom.CARDINAL)
            except error.XError:
                continue  # gone between two requests
            if extents and len(extents.value) == 4 and info.bounds is not None:
                left, right, top, bottom = (int(v) for v in extents.value)
                b = info.bounds
                info = dataclasses.replace(info, bounds=Rect(
                    b.x - left, b.y - top, b.width + left + right, b.height + top + bottom))
            found.append(info)
        return found

    def stop(self) -> None:
        self._stopped = True
        os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(5)
        if self._display is not None:
            self._display.close()
            self._display = None
        if self._query is not None:
            self._query.close()
            self._query = None
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)

    def _run(self) -> None:
        fd = self._display.fileno()
        timeout = None if self._ewmh else _FALLBACK_POLL
        while True:
            # The replies _refresh() reads can bring later events along into python-xlib's
            # own queue, where select() cannot see them; without this look the focus change
            # that arrived meanwhile (a window manager sets the active window to none and then
            # to the new window) would wait for some unrelated event to be noticed.
            try:
                queued = self._display.pending_events() > 0
            except error.ConnectionClosedError:
                return
            ready, _, _ = select.select([fd, self._wake_r], [], [], 0 if queued else timeout)
            if self._wake_r in ready:
                return
            try:
                changed = not ready and not queued  # the fallback timer fired
                while self._display.pending_events():
                    event = self._display.next_event()
                    if event.type == X.PropertyNotify and event.atom in (
                        self._a_active, self._a_name, Xatom.WM_NAME
                    ):
                        changed = True
                if changed:
                    self._refresh()
            except (error.XError, error.ConnectionClosedError) as exc:
                log.warning("window watcher: %s", type(exc).__name__)
                if isinstance(exc, error.ConnectionClosedError):
                    return

    def _active_window(self) -> Any:
        if self._ewmh:
            prop = self._root.get_full_property(self._a_active, X.AnyPropertyType)
            wid = prop.value[0] if prop and len(prop.value) else 0
            return self._display.create_resource_object("window", wid) if wid else None
        focus = self._display.get_input_focus().focus
        return None if focus in (X.NONE, X.PointerRoot) or isinstance(focus, int) else focus

    def _refresh(self, force: bool = False) -> None:
        try:
            window = self._active_window()
            info = self._describe(window) if window is not None else None
        except error.XError:
            window, info = None, None  # the window went away between two requests
        if window is not None and (self._watched is None or self._watched.id != window.id):
            try:
                window.change_attributes(event_mask=X.PropertyChangeMask)
                self._display.flush()
                self._watched = window
            except error.XError:
                pass
        if force or info != self._current:
            self._current = info
            if self._on_change is not None:
                self._on_change(info)

    def _describe(self, window: Any, root: Any = None) -> WindowInfo:
        wm_class = window.get_wm_class() or (None, None)
        title = self._text(window, self._a_name, self._a_utf8) or self._text(
            window, Xatom.WM_NAME, X.AnyPropertyType
        )
        pid_prop = window.get_full_property(self._a_pid, Xatom.CARDINAL)
        pid = int(pid_prop.value[0]) if pid_prop and len(pid_prop.value) else None
        if pid is None and self._has_res and root is None:
            pid = self._client_pid(window)
        geometry = window.get_geometry()
        origin = (root or self._root).translate_coords(window, 0, 0)
        return WindowInfo(
            wid=int(window.id),
            app_id=wm_class[1],
            instance=wm_class[0],
            process=_process_name(pid),
            pid=pid,
            title=title,
            bounds=Rect(int(origin.x), int(origin.y), int(geometry.width), int(geometry.height)),
            role=self._text(window, self._a_role, Xatom.STRING),
        )

    def _client_pid(self, window: Any) -> int | None:
        """Ask the server which local process owns the window (X-Resource 1.2).

        Many toolkits (Tk, older Xt apps) never set _NET_WM_PID; the server knows anyway.
        """
        from Xlib.ext import res

        try:
            reply = self._display.res_query_client_ids(
                [{"client": window.id, "mask": res.LocalClientPIDMask}]
            )
        except error.XError:
            return None
        for entry in reply.ids:
            if entry.spec.mask == res.LocalClientPIDMask and entry.value:
                return int(entry.value[0])
        return None

    @staticmethod
    def _text(window: Any, atom: int, kind: int) -> str | None:
        prop = window.get_full_property(atom, kind)
        if not prop or prop.value is None:
            return None
        value = prop.value
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _process_name(pid: int | None) -> str | None:
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8") as handle:
            return handle.read().strip() or None
    except OSError:
        return None
