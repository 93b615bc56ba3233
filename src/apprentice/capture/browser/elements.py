"""BrowserElementSource: the element under a click, or the focused one, as the extension saw it.

Answers :class:`~apprentice.capture.base.ElementQuery` for X windows bound to a browser
window (:mod:`.context`); any other window gets ``None`` at once. A pointer query waits
(at most ``timeout_s``) for the click report whose pointer position matches the query's
within :data:`POINT_TOLERANCE` pixels, received no earlier than :data:`EARLY_NS` before
the input event; each report answers one query. A focus query answers with the last focus
report, waiting (within the timeout) for a newer one when a click came after it (the click
may have moved focus), and for :data:`FOCUS_SETTLE_S` when the report is older than the key.

A focus answer whose field is a credential field carries the ``password`` state: the
session then drops the burst's held keys and switches keystrokes off (``secure_input``)
until the next click, focus-moving key or window change.

ARIA roles are mapped to the element vocabulary of ``docs/events.md`` (``combobox`` →
``combo box``, a password input → ``password text``). Names are passed on as the extension
sent them; the element worker redacts them before anything is stamped.
"""

from __future__ import annotations

import time

from apprentice.capture.base import ElementInfo, ElementQuery
from apprentice.capture.browser.context import BrowserContext
from apprentice.capture.browser.schema import ClickReport, ElementReport
from apprentice.events import Rect, UiNode

POINT_TOLERANCE = 4
EARLY_NS = 300_000_000
#: A focus query waits this long for a focus report still in flight (the keys are held by the
#: typed-text guard meanwhile, so nobody waits on it).
FOCUS_SETTLE_S = 0.05

ROLE_NAMES = {
    "button": "button", "link": "link", "checkbox": "check box", "radio": "radio button",
    "combobox": "combo box", "listbox": "list box", "option": "option", "textbox": "text",
    "searchbox": "search box", "spinbutton": "spin button", "slider": "slider",
    "switch": "switch", "tab": "page tab", "tablist": "page tab list", "menu": "menu",
    "menubar": "menu bar", "menuitem": "menu item", "menuitemcheckbox": "check menu item",
    "menuitemradio": "radio menu item", "treeitem": "tree item", "tree": "tree",
    "gridcell": "table cell", "cell": "table cell", "row": "table row", "table": "table",
    "grid": "table", "columnheader": "column header", "rowheader": "row header",
    "heading": "heading", "img": "image", "list": "list", "listitem": "list item",
    "dialog": "dialog", "alertdialog": "alert", "navigation": "landmark", "main": "landmark",
    "form": "form", "password": "password text", "generic": "section",
    "presentation": "section", "none": "section", "toolbar": "tool bar",
}


def role_name(aria: str) -> str:
    return ROLE_NAMES.get(aria, aria)


class BrowserElementSource:
    def __init__(self, context: BrowserContext) -> None:
        self._context = context

    def element(self, query: ElementQuery, timeout_s: float) -> ElementInfo | None:
        context = self._context
        if context.binding(query.window.wid) is None:
            return None
        start = time.monotonic()
        deadline = start + max(0.0, timeout_s)
        settle = min(deadline, start + FOCUS_SETTLE_S)
        with context.cond:
            while True:
                now = time.monotonic()
                if query.target == "pointer":
                    if query.x is None or query.y is None:
                        return None
                    click = context.take_click(
                        query.window.wid, query.x, query.y, query.t - EARLY_NS, POINT_TOLERANCE)
                    if click is not None:
                        return _from_click(click)
                else:
                    found = context.focused_element(query.window.wid)
                    if found is None:
                        return None
                    received, last_click, element, credential = found
                    # Newer than the last click (which may have moved focus), and either
                    # newer than the key or given a moment for a report in flight.
                    if received >= 0 and received >= last_click and (received >= query.t or now >= settle):
                        return _focus_answer(element, credential)
                remaining = deadline - now
                if remaining <= 0:
                    break
                context.cond.wait(min(remaining, max(0.001, settle - now)) if now < settle else remaining)
        if query.target == "focus":
            found = context.focused_element(query.window.wid)
            if found is not None:
                return _focus_answer(found[2], found[3])
        return None

    def close(self) -> None:
        return None


def _from_click(click: ClickReport) -> ElementInfo:
    x, y, width, height = click.bounds
    info = _from_element(click.element, credential=click.credential)
    return ElementInfo(
        source="browser", role=info.role, name=info.name, states=info.states,
        bounds=Rect(x, y, width, height), path=info.path, tag=info.tag,
    )


def _focus_answer(element: ElementReport | None, credential: bool) -> ElementInfo | None:
    if element is None:
        # A credential field in a frame whose element we were not told about: still a password.
        return ElementInfo(source="browser", role="password text", states=frozenset({"password"})) \
            if credential else None
    return _from_element(element, credential=credential)


def _from_element(element: ElementReport, *, credential: bool = False) -> ElementInfo:
    states = set(element.states)
    if credential:
        states.add("password")
    role = role_name(element.role)
    if "password" in states and role in ("text", "search box"):
        role = "password text"
    return ElementInfo(
        source="browser", role=role, name=element.name, states=frozenset(states),
        path=tuple(UiNode(role_name(r), n) for r, n in element.path), tag=element.tag,
    )
