"""Typed-text redaction: keystrokes are held until the text they form has been checked.

A card number or an API key typed into an allowed editor arrives as one key event per
character, which no recognizer can see. This guard sits between the stamper and the spool:
it holds every stamped event (in ``seq`` order) while a typing run is open, rebuilds the
typed text, runs the text redactor over it, and replaces the key events of every finding
by one ``control``/``redacted`` event (entity type and key count only).

Two views of the run are checked: the text as edited (Backspace/Delete applied, so a
corrected number is still found) and the raw keystroke stream (so a secret typed and then
deleted is found too).

When is a run released?
* at a boundary: a click, a focus change, Enter or Tab — the whole run;
* after ``idle_release`` seconds without a key: all but a trailing run that could be the
  start of a secret (a run of digits with spaces, dashes or brackets, as in card and phone
  numbers, or the last word with no space in it, as in keys and addresses); that tail waits
  for the next boundary or key, or ``tail_release`` seconds more. Someone who pauses while
  typing a card number from a card therefore never has it split into two harmless halves;
* while typing continues: everything except the last ``hold_chars`` typed characters. A
  secret no longer than that is therefore always complete in the held text before its
  first character could be released.

So the crash-loss window for keystrokes is the spool's (≤ 1 s) plus this hold (at most
``hold_chars`` characters, or ``idle_release`` seconds — ``tail_release`` for a trailing
number or word) — a deliberate trade for privacy.
If the redactor fails, the held key events are dropped and a gap recorded (fail closed).

Password fields: with an accessibility backend on, the session arms an *element check* for
the first key of a burst (:meth:`arm_element_check`). Until :meth:`element_answered` says
whether the focused element is a password field — or ``element_wait`` seconds pass — nothing
from that key on is released, even at a boundary. A password answer drops every held key
event of the burst and stands one ``control``/``redacted`` event (reason ``password_field``)
in their place.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from apprentice import events as ev
from apprentice.redact import Redactor

log = logging.getLogger(__name__)

_BOUNDARY_KEYS = frozenset({"enter", "tab", "esc"})
_DELETE_KEYS = frozenset({"backspace", "delete"})
_NUMBER_CHARS = frozenset("0123456789 -().+/")
_CTRL_KEYS = frozenset({"ctrl", "ctrl_l", "ctrl_r", "alt", "alt_l", "alt_r", "cmd", "cmd_l", "cmd_r"})

Release = Callable[[ev.Event, object | None], None]


@dataclass
class _Held:
    event: ev.Event
    blob: object | None  # a frame's image, passed on with its event


class TypedTextGuard:
    def __init__(
        self,
        redactor: Redactor,
        release: Release,
        on_gap: Callable[[str, dict[str, int]], None] | None = None,
        *,
        hold_chars: int = 64,
        idle_release: float = 1.0,
        tail_release: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        element_wait: float = 0.5,
    ) -> None:
        self._redactor = redactor
        self._release = release
        self._on_gap = on_gap or (lambda reason, info: None)
        self._hold_chars = hold_chars
        self._idle_release = idle_release
        self._tail_release = tail_release
        self._tail_only = False  # the idle release ran; what is held is a possible secret's start
        self._clock = clock
        self._held: list[_Held] = []
        self._typed = 0  # characters typed in the open run
        self._modifiers: set[str] = set()
        self._last_key = 0.0
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.redacted: dict[str, int] = {}
        self._element_wait = element_wait
        self._armed = False
        self._checks: dict[int, float] = {}  # seq of a key awaiting its element → deadline
        self._deferred_to: int | None = None  # a boundary flush waits for a check: up to this seq
        #: Element checks that ran out of time (their keys were released unanswered).
        self.element_checks_expired = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._idle_loop, name="apprentice-textguard", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(5)
        with self._cond:
            self._checks.clear()  # stopping: nothing more will answer
            self._deferred_to = None
            self._flush(all_of_it=True)

    def arm_element_check(self) -> None:
        """Hold the next key-down (and all after it) until its element check is answered."""
        with self._cond:
            self._armed = True

    def element_answered(self, seq: int, password: bool) -> bool:
        """The focused element for the key ``seq`` is known; drop the burst if a password field.

        False if that check was no longer waiting (it ran out of time: keys were released)."""
        with self._cond:
            if self._checks.pop(seq, None) is None:
                return False
            if password:
                self._drop_password_keys(seq)
            self._after_check()
            self._cond.notify()
            return True

    def accept(self, event: ev.Event, blob: object | None = None) -> None:
        """Take one stamped event (called under the stamper's lock, in seq order)."""
        with self._cond:
            if isinstance(event, ev.KeyDown | ev.KeyUp):
                if self._armed and isinstance(event, ev.KeyDown):
                    self._armed = False
                    self._checks[event.seq] = self._clock() + self._element_wait
                self._held.append(_Held(event, blob))
                self._on_key(event)
            elif self._held:
                self._held.append(_Held(event, blob))
                if isinstance(event, ev.MouseDown | ev.Focus | ev.Scroll) or (
                    isinstance(event, ev.Control) and event.op in ("stop", "gap", "pause")
                ):
                    self._flush(all_of_it=True)
            else:
                self._release(event, blob)

    # -- internals ------------------------------------------------------------------------

    def _on_key(self, event: ev.KeyDown | ev.KeyUp) -> None:
        self._last_key = self._clock()
        self._tail_only = False
        if isinstance(event, ev.KeyUp):
            self._modifiers.discard(event.key)
            return
        if event.key in _CTRL_KEYS:
            self._modifiers.add(event.key)
        if event.char and not (self._modifiers & _CTRL_KEYS):
            self._typed += 1
        if event.key in _BOUNDARY_KEYS or self._typed == 0:
            # A boundary, or nothing typed yet (shortcuts, arrows): nothing to hold back.
            self._flush(all_of_it=True)
        elif self._typed > self._hold_chars:
            self._flush(all_of_it=False)
        else:
            self._cond.notify()

    def _idle_loop(self) -> None:
        with self._cond:
            while not self._stopping:
                now = self._clock()
                expired = [seq for seq, deadline in self._checks.items() if deadline <= now]
                if expired:
                    for seq in expired:
                        del self._checks[seq]
                    self.element_checks_expired += len(expired)
                    self._after_check()
                    continue
                check_wait = min(self._checks.values()) - now if self._checks else None
                if self._held and self._deferred_to is None:
                    after = self._tail_release if self._tail_only else self._idle_release
                    wait = self._last_key + after - now
                    if wait <= 0:
                        if self._tail_only:
                            self._flush(all_of_it=True)
                        else:
                            self._tail_only = True
                            self._flush(all_of_it=True, keep_tail=True)
                        continue
                    self._cond.wait(wait if check_wait is None else min(wait, check_wait))
                else:
                    self._cond.wait(check_wait)

    # -- element checks ---------------------------------------------------------------------

    def _check_index(self) -> int | None:
        """Index of the first held event that waits for an element check."""
        if not self._checks:
            return None
        first = min(self._checks)
        return next((i for i, h in enumerate(self._held) if h.event.seq >= first), None)

    def _after_check(self) -> None:
        """A check ended: carry out a boundary flush that waited for it."""
        if self._deferred_to is not None:
            upto, self._deferred_to = self._deferred_to, None
            self._flush(all_of_it=True, upto=upto)

    def _drop_password_keys(self, seq: int) -> None:
        """Replace the held key events from ``seq`` up to the next check by one redaction."""
        later = [s for s in self._checks if s > seq]
        end = min(later) if later else None
        kept: list[_Held] = []
        first: ev.Event | None = None
        keys = 0
        at = 0
        for held in self._held:
            e = held.event
            inside = e.seq >= seq and (end is None or e.seq < end)
            if inside and isinstance(e, ev.KeyDown | ev.KeyUp):
                if first is None:
                    first, at = e, len(kept)
                keys += isinstance(e, ev.KeyDown)
                continue
            kept.append(held)
        if first is None:
            return
        kept.insert(at, _Held(ev.Control(first.seq, first.t, "redacted", "password_field", {"keys": keys}),
                              None))
        self._held = kept
        self._typed = sum(1 for h in self._held if _typed_char(h.event) is not None)
        self.redacted["password_field"] = self.redacted.get("password_field", 0) + 1

    def _flush(self, all_of_it: bool, upto: int | None = None, keep_tail: bool = False) -> None:
        if not self._held:
            return
        try:
            drop = self._findings()
        except Exception:
            log.warning("typed-text redaction failed; dropping the held keystrokes")
            keys = [h for h in self._held if isinstance(h.event, ev.KeyDown | ev.KeyUp)]
            drop = {id(h.event): "REDACTION_FAILED" for h in keys}
        cut = len(self._held)
        if upto is not None:
            cut = next((i for i, h in enumerate(self._held) if h.event.seq > upto), cut)
        if not all_of_it:
            cut = self._keep_tail_from()
        elif keep_tail:
            cut = min(cut, self._secret_tail_from())
        waiting = self._check_index()
        if waiting is not None and waiting < cut:
            # Keys from here on wait for their element check; a boundary waits with them.
            cut = waiting
            if all_of_it and not self._stopping:
                self._deferred_to = max(self._deferred_to or 0, self._held[-1].event.seq)
        released, self._held = self._held[:cut], self._held[cut:]
        self._typed = sum(1 for h in self._held if _typed_char(h.event) is not None)
        self._emit(released, drop)

    def _keep_tail_from(self) -> int:
        """Index of the first held event to keep so that hold_chars typed chars stay held."""
        kept = 0
        for index in range(len(self._held) - 1, -1, -1):
            if _typed_char(self._held[index].event) is not None:
                kept += 1
                if kept == self._hold_chars:
                    return index
        return 0

    def _secret_tail_from(self) -> int:
        """Index of the first held event of a trailing run that could begin a secret: digits
        with separators (card, phone, account numbers) or the last space-free word."""
        typed = [(i, c) for i, h in enumerate(self._held) if (c := _typed_char(h.event)) is not None]
        word = 0
        while word < len(typed) and not typed[len(typed) - 1 - word][1].isspace():
            word += 1
        number, digits = 0, False
        while number < len(typed) and typed[len(typed) - 1 - number][1] in _NUMBER_CHARS:
            digits = digits or typed[len(typed) - 1 - number][1].isdigit()
            number += 1
        tail = max(word, number if digits else 0)
        if tail == 0:
            return len(self._held)
        return typed[len(typed) - tail][0]

    def _findings(self) -> dict[int, str]:
        """Map id(event) → entity for every key event that is part of a finding."""
        edited: list[tuple[str, _Held]] = []
        stream: list[tuple[str, _Held]] = []
        for held in self._held:
            char = _typed_char(held.event)
            if isinstance(held.event, ev.KeyDown) and held.event.key in _DELETE_KEYS and edited:
                edited.pop()
            if char is not None:
                edited.append((char, held))
                stream.append((char, held))
        marked: dict[int, str] = {}
        for view in (edited, stream):
            text = "".join(c for c, _ in view)
            for finding in self._redactor.findings(text):
                for _, held in view[finding.start:finding.end]:
                    marked[id(held.event)] = finding.entity
        if marked:  # the key-up of a redacted key-down goes too
            down_keys: dict[str, str] = {}
            for held in self._held:
                e = held.event
                if isinstance(e, ev.KeyDown) and id(e) in marked:
                    down_keys[e.key] = marked[id(e)]
                    if e.char:
                        down_keys[e.char] = marked[id(e)]
                elif isinstance(e, ev.KeyUp) and e.key in down_keys:
                    marked[id(e)] = down_keys.pop(e.key)
        return marked

    def _emit(self, released: list[_Held], drop: dict[int, str]) -> None:
        run_entity: str | None = None
        run_keys = 0
        first: ev.Event | None = None

        def close_run() -> None:
            nonlocal run_entity, run_keys, first
            if run_entity is not None and first is not None:
                self._release(
                    ev.Control(first.seq, first.t, "redacted", run_entity, {"keys": run_keys}), None
                )
                self.redacted[run_entity] = self.redacted.get(run_entity, 0) + 1
            run_entity, run_keys, first = None, 0, None

        for held in released:
            entity = drop.get(id(held.event))
            if entity is None:
                if isinstance(held.event, ev.KeyUp) and run_entity is not None:
                    continue  # a key-up inside a redacted run carries nothing
                close_run()
                self._release(held.event, held.blob)
                continue
            if entity != run_entity:
                close_run()
                run_entity, first = entity, held.event
            if isinstance(held.event, ev.KeyDown):
                run_keys += 1
        close_run()


def _typed_char(event: ev.Event) -> str | None:
    if isinstance(event, ev.KeyDown):
        if event.char:
            return event.char
        if event.key == "space":  # a space separates words even if a backend gives no char
            return " "
    return None
