"""The browser extension's reports: strict validation, unknown fields dropped, URLs stripped.

Used twice, by the native-messaging host (before anything leaves it) and by the recorder's
listener (it trusts nothing it receives on its socket). A report is a JSON object with
``type`` ``state``, ``focus`` or ``click``; anything else, a wrong type, an out-of-range
number or an over-long string raises :class:`ReportError` with a fixed, content-free
message. Fields not in the schema are dropped, never passed on.

URLs keep only scheme, host, port and path (:func:`strip_url`); user info, query and
fragment are removed here whatever the extension sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from apprentice.errors import CaptureError

MAX_WINDOWS = 64
MAX_URL = 2048
MAX_NAME = 200  # the extension clips names at 100 characters; allow some slack, no more
MAX_PATH = 8
MAX_COORD = 1 << 20
STATES = frozenset({"focused", "checked", "expanded", "selected", "editable", "password"})
NO_WINDOW = -1


class ReportError(CaptureError):
    """A browser report does not match the schema (the message never echoes its content)."""


@dataclass(frozen=True, slots=True)
class WindowState:
    id: int
    focused: bool
    incognito: bool
    url: str | None
    credential: bool
    bounds: tuple[int, int, int, int] | None  # left, top, width, height in screen DIPs


@dataclass(frozen=True, slots=True)
class StateReport:
    focused: int  # NO_WINDOW: no window the extension may see has focus
    windows: tuple[WindowState, ...]


@dataclass(frozen=True, slots=True)
class ElementReport:
    role: str
    name: str | None
    tag: str | None
    states: tuple[str, ...]
    path: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True, slots=True)
class FocusReport:
    window: int
    credential: bool
    element: ElementReport | None


@dataclass(frozen=True, slots=True)
class ClickReport:
    window: int
    credential: bool
    element: ElementReport
    point: tuple[int, int]  # screen pixels
    bounds: tuple[int, int, int, int]  # x, y, width, height in screen pixels


Report = StateReport | FocusReport | ClickReport


def strip_url(url: str | None) -> str | None:
    """``scheme://host[:port]/path`` of an http(s) URL; ``scheme:`` of any other; None if
    it does not parse. Never keeps user info, query or fragment."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return f"{scheme}:" if scheme.isalnum() else None
    if not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path or '/'}"


def parse_report(data: Any) -> Report:
    """Validate one decoded message; raise :class:`ReportError` if it is not a report."""
    obj = _mapping(data, "message")
    kind = obj.get("type")
    if kind == "state":
        focused = _int(obj.get("focused"), "focused", low=NO_WINDOW)
        raw = obj.get("windows")
        if not isinstance(raw, list) or len(raw) > MAX_WINDOWS:
            raise ReportError(f"windows must be a list of at most {MAX_WINDOWS}")
        return StateReport(focused=focused, windows=tuple(_window(w) for w in raw))
    if kind == "focus":
        element = obj.get("element")
        return FocusReport(
            window=_int(obj.get("window"), "window"),
            credential=_bool(obj.get("credential"), "credential"),
            element=None if element is None else _element(element),
        )
    if kind == "click":
        point = _mapping(obj.get("point"), "point")
        bounds = _mapping(obj.get("bounds"), "bounds")
        return ClickReport(
            window=_int(obj.get("window"), "window"),
            credential=_bool(obj.get("credential"), "credential"),
            element=_element(obj.get("element")),
            point=(_coord(point.get("x"), "point.x"), _coord(point.get("y"), "point.y")),
            bounds=(
                _coord(bounds.get("x"), "bounds.x"), _coord(bounds.get("y"), "bounds.y"),
                _int(bounds.get("width"), "bounds.width", high=MAX_COORD),
                _int(bounds.get("height"), "bounds.height", high=MAX_COORD),
            ),
        )
    raise ReportError("unknown report type")


def report_to_json(report: Report) -> dict[str, Any]:
    """The validated report as JSON again (only schema fields): what the host forwards."""
    if isinstance(report, StateReport):
        return {
            "type": "state", "focused": report.focused,
            "windows": [
                {
                    "id": w.id, "focused": w.focused, "incognito": w.incognito, "url": w.url,
                    "credential": w.credential,
                    "bounds": None if w.bounds is None else dict(
                        zip(("left", "top", "width", "height"), w.bounds, strict=True)),
                }
                for w in report.windows
            ],
        }
    if isinstance(report, FocusReport):
        return {
            "type": "focus", "window": report.window, "credential": report.credential,
            "element": None if report.element is None else _element_json(report.element),
        }
    return {
        "type": "click", "window": report.window, "credential": report.credential,
        "element": _element_json(report.element),
        "point": {"x": report.point[0], "y": report.point[1]},
        "bounds": dict(zip(("x", "y", "width", "height"), report.bounds, strict=True)),
    }


# -- pieces ------------------------------------------------------------------------------


def _window(data: Any) -> WindowState:
    obj = _mapping(data, "window")
    incognito = _bool(obj.get("incognito"), "incognito")
    bounds_raw = obj.get("bounds")
    bounds = None
    if bounds_raw is not None:
        b = _mapping(bounds_raw, "bounds")
        bounds = (
            _coord(b.get("left"), "left"), _coord(b.get("top"), "top"),
            _int(b.get("width"), "width", high=MAX_COORD), _int(b.get("height"), "height", high=MAX_COORD),
        )
    return WindowState(
        id=_int(obj.get("id"), "id"),
        focused=_bool(obj.get("focused"), "focused"),
        incognito=incognito,
        # An incognito window's URL is never kept, whatever was sent.
        url=None if incognito else strip_url(_text(obj.get("url"), "url", MAX_URL, optional=True)),
        credential=_bool(obj.get("credential", False), "credential"),
        bounds=bounds,
    )


def _element(data: Any) -> ElementReport:
    obj = _mapping(data, "element")
    role = _text(obj.get("role"), "role", 40)
    if role is None or not all(c.isalnum() or c in "-_" for c in role):
        raise ReportError("element.role must be a role token")
    states_raw = obj.get("states", [])
    if not isinstance(states_raw, list) or len(states_raw) > len(STATES):
        raise ReportError("element.states must be a short list")
    states = sorted({s for s in states_raw if isinstance(s, str) and s in STATES})
    path_raw = obj.get("path", [])
    if not isinstance(path_raw, list):
        raise ReportError("element.path must be a list")
    path = []
    for node in path_raw[-MAX_PATH:]:
        n = _mapping(node, "element.path entry")
        node_role = _text(n.get("role"), "path.role", 40)
        if node_role is None:
            raise ReportError("element.path entries need a role")
        path.append((node_role, _text(n.get("name"), "path.name", MAX_NAME, optional=True)))
    tag = _text(obj.get("tag"), "tag", 32, optional=True)
    if tag is not None and not tag.replace("-", "").isalnum():
        raise ReportError("element.tag must be a tag name")
    return ElementReport(
        role=role.lower(), name=_text(obj.get("name"), "name", MAX_NAME, optional=True) or None,
        tag=None if tag is None else tag.lower(), states=tuple(states), path=tuple(path),
    )


def _element_json(element: ElementReport) -> dict[str, Any]:
    return {
        "role": element.role, "name": element.name, "tag": element.tag,
        "states": list(element.states),
        "path": [{"role": r, "name": n} for r, n in element.path],
    }


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ReportError(f"{where} must be an object")
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ReportError(f"{where} must be true or false")
    return value


def _int(value: Any, where: str, *, low: int = 0, high: int = 2**31 - 1) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ReportError(f"{where} must be a whole number from {low} to {high}")
    return value


def _coord(value: Any, where: str) -> int:
    return _int(value, where, low=-MAX_COORD, high=MAX_COORD)


def _text(value: Any, where: str, limit: int, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ReportError(f"{where} must be text of at most {limit} characters")
    if any(ord(c) < 32 for c in value):
        raise ReportError(f"{where} must not contain control characters")
    return value
