"""The element worker: which UI element each click or typing burst targeted, off the hook threads.

    hook thread ──submit(query)──▶ bounded queues (focus first) ──▶ worker thread
        worker ──▶ each ElementSource in order, each call bounded by a timeout
               ──▶ gate re-check ──▶ redact name and path ──▶ stamp ``element``

Hooks only enqueue (never block): a full queue drops the query and counts it. Each source is
called on its own caller thread so that a source which ignores its timeout (a hung
accessibility bus) costs one stuck caller, not the worker: while that call is still out, the
source is skipped and the query counts as a timeout. Nothing about a window the gate does not
allow is stamped, and names pass the text redactor or are dropped (fail closed).

Focus queries (the first key of a burst) are answered before pointer queries because the
typed-text guard holds that burst's keys until the answer says whether the field is a
password field (``on_focus_answer``).
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from apprentice import events as ev
from apprentice.capture.base import ElementInfo, ElementQuery, ElementSource
from apprentice.redact import safe_redact

log = logging.getLogger(__name__)

#: The states an element event may carry (docs/events.md).
STATES = frozenset({"focused", "checked", "expanded", "selected", "editable", "password"})
_STATE_SYNONYMS = {
    "focus": "focused", "has_focus": "focused", "haskeyboardfocus": "focused",
    "pressed": "checked", "toggled": "checked", "on": "checked",
    "protected": "password", "is_password": "password", "ispassword": "password",
}
_PASSWORD_ROLES = frozenset({"password text", "password"})


@dataclass
class ElementStats:
    """What the worker did, reported in ``control/stop`` under ``elements``."""

    answered: int = 0
    none: int = 0
    timeout: int = 0
    dropped_queue_full: int = 0
    errors: int = 0
    refused: int = 0  # answers thrown away because the gate no longer allowed the window
    by_source: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "answered": self.answered, "none": self.none, "timeout": self.timeout,
            "dropped_queue_full": self.dropped_queue_full, "errors": self.errors,
            "refused": self.refused, "by_source": dict(self.by_source),
        }


class _Gate(Protocol):
    """What the worker needs of the capture gate (``CaptureGate`` fits)."""

    @property
    def redactor(self) -> Any: ...

    def window_allowed(self, window: ev.WindowInfo) -> bool: ...


class _Caller:
    """One source's own thread: a call that overruns its timeout keeps only this thread busy."""

    def __init__(self, source: ElementSource, index: int) -> None:
        self.source = source
        self._cond = threading.Condition()
        self._job: tuple[ElementQuery, float] | None = None
        self._result: ElementInfo | None = None
        self._error: BaseException | None = None
        self._done = True
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=f"apprentice-element-{index}", daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        with self._cond:
            return not self._done

    def call(self, query: ElementQuery, timeout_s: float) -> tuple[str, ElementInfo | None]:
        """("ok" | "timeout" | "error" | "busy", answer)."""
        with self._cond:
            if not self._done:
                return "busy", None
            self._job, self._done, self._result, self._error = (query, timeout_s), False, None, None
            self._cond.notify_all()
            # A little slack over the source's own timeout before giving up on it.
            finished = self._cond.wait_for(lambda: self._done, timeout_s * 1.5 + 0.01)
            if not finished:
                return "timeout", None
            if self._error is not None:
                return ("timeout" if isinstance(self._error, TimeoutError) else "error"), None
            return "ok", self._result

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._job is not None or self._closing)
                if self._job is None:
                    return
                query, timeout_s = self._job
                self._job = None
            result: ElementInfo | None = None
            error: BaseException | None = None
            try:
                result = self.source.element(query, timeout_s)
            except BaseException as exc:  # a broken backend must not kill the recorder
                error = exc
            with self._cond:
                self._result, self._error, self._done = result, error, True
                self._cond.notify_all()
                if self._closing:
                    return


class ElementWorker:
    def __init__(
        self,
        sources: Sequence[ElementSource],
        stamp: Callable[..., ev.Event],
        gate: _Gate,
        *,
        may_capture: Callable[[], bool] = lambda: True,
        on_focus_answer: Callable[[ElementQuery, ElementInfo | None], None] | None = None,
        timeout_s: float = 0.25,
        queue_size: int = 32,
    ) -> None:
        """``stamp(cls, **fields)`` is the session's stamper; ``on_focus_answer`` hears every
        focus query's outcome (the raw answer, or None) and every pointer answer that is a
        password field (keys typed next go there), before the element is stamped."""
        self._callers = [_Caller(source, i) for i, source in enumerate(sources)]
        self._stamp = stamp
        self._gate = gate
        self._may_capture = may_capture
        self._on_focus_answer = on_focus_answer or (lambda query, info: None)
        self.timeout_s = timeout_s
        self._queue_size = queue_size
        self._focus: collections.deque[ElementQuery] = collections.deque()
        self._pointer: collections.deque[ElementQuery] = collections.deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.stats = ElementStats()

    @property
    def enabled(self) -> bool:
        return bool(self._callers)

    def start(self) -> None:
        if not self._callers:
            return
        self._thread = threading.Thread(target=self._run, name="apprentice-elements", daemon=True)
        self._thread.start()

    def submit(self, query: ElementQuery) -> bool:
        """Queue a query without blocking; False (and counted) if the queue is full or stopped."""
        if not self._callers:
            return False
        with self._cond:
            if self._stopping or len(self._focus) + len(self._pointer) >= self._queue_size:
                self.stats.dropped_queue_full += 1
                return False
            (self._focus if query.target == "focus" else self._pointer).append(query)
            self._cond.notify()
        return True

    def stop(self, timeout: float = 2.0) -> None:
        """Answer nothing more; queued focus queries are resolved as "no element"."""
        with self._cond:
            self._stopping = True
            left = list(self._focus)
            self._focus.clear()
            self._pointer.clear()
            self._cond.notify_all()
        for query in left:
            self._on_focus_answer(query, None)
        if self._thread is not None:
            self._thread.join(timeout)
        for caller in self._callers:
            caller.close()
            try:
                caller.source.close()
            except Exception:
                log.warning("an element source failed to close", exc_info=True)

    # -- worker thread --------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopping or self._focus or self._pointer)
                if self._stopping:
                    return
                query = self._focus.popleft() if self._focus else self._pointer.popleft()
            try:
                self._answer(query)
            except Exception:  # never let one bad answer end the worker
                self.stats.errors += 1
                log.warning("element query failed", exc_info=True)
                if query.target == "focus":
                    self._on_focus_answer(query, None)

    def _answer(self, query: ElementQuery) -> None:
        info = self._ask(query)
        if query.target == "focus" or is_password(info):
            self._on_focus_answer(query, info)  # a click on a password field counts too
        if info is None:
            return
        if not (self._may_capture() and self._gate.window_allowed(query.window)):
            self.stats.refused += 1
            return
        self._stamp(ev.Element, **self._fields(query, info))
        self.stats.answered += 1
        self.stats.by_source[info.source] = self.stats.by_source.get(info.source, 0) + 1

    def _ask(self, query: ElementQuery) -> ElementInfo | None:
        timed_out = False
        for caller in self._callers:
            outcome, info = caller.call(query, self.timeout_s)
            if outcome == "ok" and info is not None:
                return info
            if outcome in ("timeout", "busy"):
                timed_out = True
            elif outcome == "error":
                self.stats.errors += 1
        if timed_out:
            self.stats.timeout += 1
        else:
            self.stats.none += 1
        return None

    def _fields(self, query: ElementQuery, info: ElementInfo) -> dict[str, Any]:
        redactor = self._gate.redactor
        name = safe_redact(redactor, info.name) if info.name else None
        path = tuple(
            ev.UiNode(role=node.role, name=safe_redact(redactor, node.name) if node.name else None)
            for node in info.path
        )
        return {
            "for_seq": query.seq, "source": info.source, "role": info.role.strip().lower(),
            "name": name or None, "states": normalise_states(info.states, info.role),
            "bounds": info.bounds, "path": path, "tag": info.tag,
        }


def normalise_states(states: frozenset[str] | Sequence[str], role: str = "") -> tuple[str, ...]:
    """Map a backend's state names onto the vocabulary; anything else is dropped."""
    out = set()
    for state in states:
        key = state.strip().lower().replace("-", "_").replace(" ", "_")
        key = _STATE_SYNONYMS.get(key, key)
        if key in STATES:
            out.add(key)
    if role.strip().lower() in _PASSWORD_ROLES:
        out.add("password")
    return tuple(sorted(out))


def is_password(info: ElementInfo | None) -> bool:
    """Does this answer describe a password (or other protected) field?"""
    return info is not None and "password" in normalise_states(info.states, info.role)
