"""The typed-text guard's idle release: a pause while typing a secret never splits it."""

from __future__ import annotations

from apprentice import events as ev
from apprentice.capture.textguard import TypedTextGuard
from tests.integration.conftest import wait_until
from tests.support import make_gate


class _Typist:
    def __init__(self, guard: TypedTextGuard) -> None:
        self.guard = guard
        self.seq = 0

    def type(self, text: str) -> None:
        for ch in text:
            self.seq += 1
            key = "space" if ch == " " else ch
            self.guard.accept(ev.KeyDown(self.seq, self.seq, key, None, ch))
            self.seq += 1
            self.guard.accept(ev.KeyUp(self.seq, self.seq, key, None, ch))

    def enter(self) -> None:
        self.seq += 1
        self.guard.accept(ev.KeyDown(self.seq, self.seq, "enter", None, None))


def _typed(out: list[ev.Event]) -> str:
    return "".join(e.char or "" for e in out if isinstance(e, ev.KeyDown))


def _guard(out: list[ev.Event], **options: float) -> TypedTextGuard:
    guard = TypedTextGuard(make_gate(["Editor"]).redactor, lambda e, b: out.append(e),
                           idle_release=0.05, **options)  # type: ignore[arg-type]
    guard.start()
    return guard


def test_a_pause_inside_a_card_number_does_not_release_its_first_half() -> None:
    out: list[ev.Event] = []
    guard = _guard(out)
    typist = _Typist(guard)
    typist.type("pay with card 4111 1111 ")
    wait_until(lambda: _typed(out) == "pay with card")  # the words go; the digits wait
    assert "4" not in _typed(out)
    typist.type("1111 1111")
    typist.enter()
    guard.stop()
    assert not any(ch.isdigit() for ch in _typed(out))
    assert [e.reason for e in out if isinstance(e, ev.Control)] == ["CREDIT_CARD"]


def test_a_pause_inside_a_key_holds_the_word_being_typed() -> None:
    out: list[ev.Event] = []
    guard = _guard(out)
    typist = _Typist(guard)
    typist.type("token AKIAZ7QX")
    wait_until(lambda: _typed(out) == "token ")
    typist.type("3MPLCANARY42 ok")
    typist.enter()
    guard.stop()
    assert "AKIA" not in _typed(out) and "CANARY" not in _typed(out)
    assert any(isinstance(e, ev.Control) and e.op == "redacted" for e in out)


def test_ordinary_words_are_released_at_idle_and_a_held_tail_within_its_own_limit() -> None:
    out: list[ev.Event] = []
    guard = _guard(out, tail_release=0.2)
    typist = _Typist(guard)
    typist.type("see you ")
    wait_until(lambda: _typed(out) == "see you ")  # nothing held back after a space
    typist.type("tomorrow")
    wait_until(lambda: _typed(out) == "see you tomorrow")  # the word waits, then goes
    guard.stop()
