"""AT-SPI (Linux): the accessible element under the pointer or with focus, over D-Bus.

Speaks the AT-SPI D-Bus protocol with ``jeepney`` (pure Python, no GLib): the session bus
tells the accessibility bus's address (``org.a11y.Bus.GetAddress``), and every question is a
plain method call on that bus, each bounded by what is left of the query's time limit. So a
hung application or bus costs at most the timeout; the worker sees a ``TimeoutError``.

Only the queried window is looked at: the application whose D-Bus connection belongs to the
window's process, and in it the top-level accessible whose name is the window's title (or
its single / active top level). Popup menus of that same application count as part of the
window (GTK draws them as separate override-redirect windows over it).

Per window, the top-level accessible, the last focused element and the popup menus found in
a bounded walk are cached; a stale cache entry (the window changed) is dropped on the first
error it causes.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from apprentice.capture.base import ElementInfo, ElementQuery
from apprentice.errors import CaptureError
from apprentice.events import Rect, UiNode, WindowInfo

try:
    from jeepney import DBusAddress, Properties, new_method_call
    from jeepney.io.blocking import DBusConnection, open_dbus_connection
    from jeepney.wrappers import DBusErrorResponse, unwrap_msg
except ImportError as exc:  # the registry turns this into a clear CaptureError
    raise ImportError(f"the AT-SPI backend needs jeepney ({exc})") from exc

_ACCESSIBLE = "org.a11y.atspi.Accessible"
_COMPONENT = "org.a11y.atspi.Component"
_NULL_PATH = "/org/a11y/atspi/null"
_SCREEN = 0  # ATSPI_COORD_TYPE_SCREEN
#: AtspiStateType bit numbers we report (the rest of the vocabulary has no AT-SPI state).
_STATES = {4: "checked", 7: "editable", 10: "expanded", 12: "focused", 23: "selected"}
_ACTIVE, _SHOWING = 1, 25
_TOP_LEVEL_ROLES = frozenset({"frame", "dialog", "window", "alert", "file chooser"})
_POPUP_ROLES = frozenset({"menu", "popup menu", "window"})
#: Containers whose children are content, not chrome: never walked looking for menus.
_NO_MENU_INSIDE = frozenset({"table", "tree table", "tree", "list", "document text", "document web",
                             "text", "terminal", "canvas", "document frame"})
_WALK_LIMIT = 400  # nodes per bounded walk
_PATH_LIMIT = 24  # ancestors kept
_MENU_CACHE_S = 20.0

Ref = tuple[str, str]  # (bus name, object path)


@dataclass
class _WindowCache:
    app: str
    top: Ref
    menus: list[Ref] = field(default_factory=list)
    menus_at: float = 0.0
    focused: Ref | None = None


class _Deadline:
    def __init__(self, timeout_s: float) -> None:
        self.end = time.monotonic() + timeout_s

    def left(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError("accessibility query ran out of time")
        return left


class ElementSource:
    def __init__(self, connect_timeout: float = 2.0) -> None:
        self._lock = threading.Lock()  # one caller at a time on the blocking connection
        self._conn: DBusConnection | None = self._connect(connect_timeout)
        self._pids: dict[str, int | None] = {}
        self._windows: dict[int, _WindowCache] = {}
        self._roles: dict[Ref, str] = {}

    # -- the ElementSource protocol -------------------------------------------------------

    def element(self, query: ElementQuery, timeout_s: float) -> ElementInfo | None:
        deadline = _Deadline(timeout_s)
        with self._lock:
            try:
                return self._element(query, deadline)
            except DBusErrorResponse:
                self._windows.pop(query.window.wid, None)  # the window's tree changed: ask afresh
                self._roles.clear()
                return None
            except (ConnectionError, OSError) as exc:
                if isinstance(exc, TimeoutError):
                    raise
                self._drop_connection()
                return None

    def close(self) -> None:
        with self._lock:
            self._drop_connection()

    # -- queries --------------------------------------------------------------------------

    def _element(self, query: ElementQuery, deadline: _Deadline) -> ElementInfo | None:
        if self._conn is None:
            self._conn = self._connect(min(1.0, deadline.left()))
        cache = self._window_cache(query.window, deadline)
        if cache is None:
            return None
        if query.target == "pointer":
            if query.x is None or query.y is None:
                return None
            ref = self._at_point(cache, query.x, query.y, deadline)
        else:
            ref = self._focused(cache, deadline)
        if ref is None:
            return None
        return self._describe(ref, cache.top, deadline)

    def _at_point(self, cache: _WindowCache, x: int, y: int, deadline: _Deadline) -> Ref | None:
        start: Ref | None = None
        for menu in self._menus(cache, deadline):  # open popups lie over the window
            if _contains(self._extents(menu, deadline), x, y):
                start = menu
            elif 23 in self._states(menu, deadline):
                # An open menu-bar menu: its items lie outside its own (title) extents.
                for bus, path in self._call(menu, _ACCESSIBLE, "GetChildren", deadline)[0]:
                    item = (str(bus), str(path))
                    if _contains(self._extents(item, deadline), x, y):
                        start = item
        if start is None:
            if not _contains(self._extents(cache.top, deadline), x, y):
                return None
            start = cache.top
        ref = start
        for _ in range(_PATH_LIMIT):
            child = self._call(ref, _COMPONENT, "GetAccessibleAtPoint", deadline, "iiu", (x, y, _SCREEN))[0]
            child = (str(child[0]), str(child[1]))
            if child[1] == _NULL_PATH or child == ref:
                break
            ref = child
        return ref

    def _focused(self, cache: _WindowCache, deadline: _Deadline) -> Ref | None:
        if cache.focused is not None and 12 in self._states(cache.focused, deadline):
            return cache.focused
        roots = [cache.top] + [m for m in self._popups(cache.app, deadline) if m != cache.top]
        for ref in self._walk(roots, deadline, showing_only=True):
            if 12 in self._states(ref, deadline):
                cache.focused = ref
                return ref
        return None

    def _describe(self, ref: Ref, top: Ref, deadline: _Deadline) -> ElementInfo:
        role = self._role(ref, deadline)
        states = self._states(ref, deadline)
        names = {_STATES[bit] for bit in states if bit in _STATES}
        if role == "password text":
            names.add("password")
        extents = self._extents(ref, deadline)
        path: list[UiNode] = []
        node = ref
        for _ in range(_PATH_LIMIT):
            if node == top:
                break
            parent = self._prop(node, "Parent", deadline)
            node = (str(parent[0]), str(parent[1]))
            if node[1] == _NULL_PATH or self._role(node, deadline) == "application":
                break
            path.append(UiNode(self._role(node, deadline), self._name(node, deadline)))
        return ElementInfo(
            source="atspi", role=role, name=self._name(ref, deadline), states=frozenset(names),
            bounds=extents, path=tuple(reversed(path)),
        )

    # -- the window ---------------------------------------------------------------------------

    def _window_cache(self, window: WindowInfo, deadline: _Deadline) -> _WindowCache | None:
        cached = self._windows.get(window.wid)
        if cached is not None:
            return cached
        if window.pid is None:
            return None
        apps = self._call(("org.a11y.atspi.Registry", "/org/a11y/atspi/accessible/root"), _ACCESSIBLE,
                          "GetChildren", deadline)[0]
        for bus, path in apps:
            if self._pid_of(str(bus), deadline) != window.pid:
                continue
            top = self._top_level((str(bus), str(path)), window, deadline)
            if top is not None:
                cache = _WindowCache(app=str(bus), top=top)
                if len(self._windows) > 64:
                    self._windows.clear()
                self._windows[window.wid] = cache
                return cache
        return None

    def _top_level(self, app: Ref, window: WindowInfo, deadline: _Deadline) -> Ref | None:
        tops = [(str(b), str(p)) for b, p in self._call(app, _ACCESSIBLE, "GetChildren", deadline)[0]]
        tops = [t for t in tops if self._role(t, deadline) in _TOP_LEVEL_ROLES]
        named = [t for t in tops if window.title and self._name(t, deadline) == window.title]
        if len(named) == 1:
            return named[0]
        candidates = named or tops
        if len(candidates) == 1:
            return candidates[0]
        active = [t for t in candidates if _ACTIVE in self._states(t, deadline)]
        return active[0] if len(active) == 1 else None

    def _popups(self, app: str, deadline: _Deadline) -> list[Ref]:
        """The application's showing top-level popups (context menus, combo lists)."""
        children = self._call((app, "/org/a11y/atspi/accessible/root"), _ACCESSIBLE, "GetChildren",
                              deadline)[0]
        out = []
        for bus, path in children:
            ref = (str(bus), str(path))
            if self._role(ref, deadline) in _POPUP_ROLES and _SHOWING in self._states(ref, deadline):
                out.append(ref)
        return out

    def _menus(self, cache: _WindowCache, deadline: _Deadline) -> list[Ref]:
        """Menus inside the window (cached) and the application's open popups."""
        if time.monotonic() - cache.menus_at > _MENU_CACHE_S:
            cache.menus = [ref for ref in self._walk([cache.top], deadline, showing_only=False)
                           if self._role(ref, deadline) == "menu"]
            cache.menus_at = time.monotonic()
            # Without this list a click on an open menu would name the widget beneath it.
        return [m for m in cache.menus + self._popups(cache.app, deadline) if m != cache.top]

    def _walk(self, roots: list[Ref], deadline: _Deadline, *, showing_only: bool) -> list[Ref]:
        """Breadth-first, at most ``_WALK_LIMIT`` nodes; content containers are not entered
        when looking for menus, hidden subtrees not when looking for the focus."""
        seen: list[Ref] = []
        queue = list(roots)
        while queue and len(seen) < _WALK_LIMIT:
            ref = queue.pop(0)
            seen.append(ref)
            if showing_only:
                if _SHOWING not in self._states(ref, deadline):
                    continue
            elif self._role(ref, deadline) in _NO_MENU_INSIDE:
                continue
            children = self._call(ref, _ACCESSIBLE, "GetChildren", deadline)[0]
            queue.extend((str(b), str(p)) for b, p in children)
        return seen

    # -- D-Bus ----------------------------------------------------------------------------------

    def _connect(self, timeout: float) -> DBusConnection:
        if not os.environ.get("DBUS_SESSION_BUS_ADDRESS") and not os.environ.get("XDG_RUNTIME_DIR"):
            raise CaptureError("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
        try:
            with open_dbus_connection("SESSION") as session:
                bus = DBusAddress("/org/a11y/bus", bus_name="org.a11y.Bus", interface="org.a11y.Bus")
                reply = session.send_and_get_reply(new_method_call(bus, "GetAddress"), timeout=timeout)
                address = str(unwrap_msg(reply)[0])
            return open_dbus_connection(address)
        except (OSError, DBusErrorResponse, KeyError, ValueError) as exc:
            raise CaptureError(
                f"the accessibility bus is not reachable ({type(exc).__name__}); install at-spi2-core "
                "and run inside a desktop session"
            ) from exc

    def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()
        self._conn = None
        self._windows.clear()
        self._pids.clear()
        self._roles.clear()

    def _call(self, ref: Ref, interface: str, method: str, deadline: _Deadline,
              signature: str | None = None, body: tuple[Any, ...] = ()) -> tuple[Any, ...]:
        assert self._conn is not None
        address = DBusAddress(ref[1], bus_name=ref[0], interface=interface)
        reply = self._conn.send_and_get_reply(new_method_call(address, method, signature, body),
                                              timeout=deadline.left())
        return tuple(unwrap_msg(reply))

    def _prop(self, ref: Ref, name: str, deadline: _Deadline) -> Any:
        assert self._conn is not None
        address = DBusAddress(ref[1], bus_name=ref[0], interface=_ACCESSIBLE)
        reply = self._conn.send_and_get_reply(Properties(address).get(name), timeout=deadline.left())
        return unwrap_msg(reply)[0][1]

    def _pid_of(self, bus: str, deadline: _Deadline) -> int | None:
        if bus not in self._pids:
            dbus = ("org.freedesktop.DBus", "/org/freedesktop/DBus")
            try:
                self._pids[bus] = int(self._call(dbus, "org.freedesktop.DBus", "GetConnectionUnixProcessID",
                                                 deadline, "s", (bus,))[0])
            except DBusErrorResponse:
                self._pids[bus] = None
        return self._pids[bus]

    def _role(self, ref: Ref, deadline: _Deadline) -> str:
        role = self._roles.get(ref)
        if role is None:  # an object's role does not change: asked once
            role = str(self._call(ref, _ACCESSIBLE, "GetRoleName", deadline)[0]).lower()
            if len(self._roles) > 20_000:
                self._roles.clear()
            self._roles[ref] = role
        return role

    def _name(self, ref: Ref, deadline: _Deadline) -> str | None:
        return str(self._prop(ref, "Name", deadline)) or None

    def _states(self, ref: Ref, deadline: _Deadline) -> set[int]:
        words = self._call(ref, _ACCESSIBLE, "GetState", deadline)[0]
        return {32 * i + bit for i, word in enumerate(words) for bit in range(32) if int(word) >> bit & 1}

    def _extents(self, ref: Ref, deadline: _Deadline) -> Rect | None:
        x, y, w, h = self._call(ref, _COMPONENT, "GetExtents", deadline, "u", (_SCREEN,))[0]
        if w <= 1 or h <= 1 or x < -100_000 or y < -100_000:  # hidden (GTK reports INT_MIN)
            return None
        return Rect(int(x), int(y), int(w), int(h))


def _contains(rect: Rect | None, x: int, y: int) -> bool:
    return rect is not None and rect.x <= x < rect.x + rect.width and rect.y <= y < rect.y + rect.height
