"""Benchmark of action reconstruction: scripted Xvfb sessions with known ground truth.

Opens two demo notepads (Tk) on a fresh Xvfb, records in-process with ``record_until``
(the real recorder: pynput over XRecord, the policy gate, the text guard, the encrypted
spool), drives a seeded random script of actions through xdotool (XTEST) — click,
double_click, right_click, drag, scroll (both axes, bursts), type (with Shift), hotkey,
press (incl. Shift+arrow), switching windows now and then — then reads the spool back,
runs ``reduce_actions`` and compares with what was injected. Prints per-type exact-match
accuracy (type and coordinates within 2 px; text, keys and scroll amounts exact) and the
build throughput (``build_dataset`` to Parquet, and reduce + segment only) in steps/s.

Usage:  .venv/bin/python bench/actions.py [--actions 240] [--seed 7] [--json]
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import platform
import random
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apprentice import events as ev
from apprentice.capture import CaptureConfig, CaptureSession, record_until
from apprentice.capture.device_state import DeviceState
from apprentice.demo.xvfb import VirtualDisplay, notepad_command, wait_for_window, xdotool
from apprentice.pipeline import Action, build_dataset, reduce_actions, segment_episodes
from apprentice.pipeline.session import split_sessions
from apprentice.policy import load_notice
from apprentice.spool import open_spool

TOLERANCE_PX = 2
SCORED = ("click", "double_click", "right_click", "drag", "scroll", "type", "hotkey", "press")
# Two editors side by side; (class, title, geometry, usable area x0, y0, x1, y1).
WINDOWS = (
    ("alphabench", "Alpha bench", "600x700+20+40", (70, 110, 570, 700)),
    ("betabench", "Beta bench", "600x700+660+40", (710, 110, 1210, 700)),
)
WORDS = ("alpha", "Bravo", "charlie", "Delta", "echo", "fox", "Golf", "hotel", "india",
         "Juliet", "kilo", "lima", "Mike", "november", "oscar", "papa", "quiet", "river")
PUNCT = {" ": "space", ",": "comma", ".": "period", "!": "shift+1", "?": "shift+slash"}
# (xdotool combo, expected key, expected modifiers)
PRESSES = (("Return", "enter", ()), ("Tab", "tab", ()), ("Escape", "esc", ()),
           ("Left", "left", ()), ("Right", "right", ()), ("Up", "up", ()), ("Down", "down", ()),
           ("Home", "home", ()), ("End", "end", ()), ("Delete", "delete", ()),
           ("shift+Left", "left", ("shift",)), ("shift+Right", "right", ("shift",)),
           ("Next", "pagedown", ()), ("Prior", "pageup", ()))
HOTKEYS = (("ctrl+a", "a", ("ctrl",)), ("ctrl+e", "e", ("ctrl",)), ("ctrl+z", "z", ("ctrl",)),
           ("ctrl+s", "s", ("ctrl",)), ("ctrl+Home", "home", ("ctrl",)),
           ("ctrl+End", "end", ("ctrl",)), ("ctrl+shift+z", "z", ("ctrl", "shift")),
           ("ctrl+slash", "/", ("ctrl",)), ("ctrl+Left", "left", ("ctrl",)),
           ("ctrl+shift+Right", "right", ("ctrl", "shift")))


@dataclass
class Expected:
    """One injected action: what reduce_actions must give back."""

    type: str
    x: int | None = None
    y: int | None = None
    end_x: int | None = None
    end_y: int | None = None
    dx: int = 0
    dy: int = 0
    text: str | None = None
    key: str | None = None
    modifiers: tuple[str, ...] = ()


@dataclass
class Driver:
    """Injects actions with xdotool and keeps the ground truth and the raw-event counts."""

    display: VirtualDisplay
    rng: random.Random
    truth: list[Expected] = field(default_factory=list)
    raw: Counter[str] = field(default_factory=Counter)
    area: tuple[int, int, int, int] = (0, 0, 0, 0)
    last_point: tuple[int, int] = (0, 0)

    def x(self, *args: str) -> None:
        xdotool(self.display, *args)

    def point(self) -> tuple[int, int]:
        x0, y0, x1, y1 = self.area
        while True:  # far from the last pointer action, so nothing merges by accident
            p = (self.rng.randint(x0, x1), self.rng.randint(y0, y1))
            if abs(p[0] - self.last_point[0]) + abs(p[1] - self.last_point[1]) >= 60:
                self.last_point = p
                return p

    def click(self, kind: str) -> None:
        x, y = self.point()
        button, repeat = {"click": ("1", 1), "double_click": ("1", 2), "right_click": ("3", 1)}[kind]
        self.x("mousemove", "--sync", str(x), str(y))
        self.x("click", "--repeat", str(repeat), "--delay", "60", button)
        self.raw["mouse_down"] += repeat
        self.truth.append(Expected(kind, x, y))

    def drag(self) -> None:
        x0, y0 = self.point()
        ax0, ay0, ax1, ay1 = self.area
        hops = [(min(max(x0 + self.rng.randint(-150, 150), ax0), ax1),
                 min(max(y0 + self.rng.randint(-150, 150), ay0), ay1))
                for _ in range(self.rng.randint(2, 4))]
        if abs(hops[-1][0] - x0) + abs(hops[-1][1] - y0) < 20:  # end well away from the start
            hops.append((x0 + 40 if x0 + 40 <= ax1 else x0 - 40, y0))
        self.x("mousemove", "--sync", str(x0), str(y0), "mousedown", "1")
        for hx, hy in hops:
            self.x("mousemove", "--sync", str(hx), str(hy))
        self.x("mouseup", "1")
        self.last_point = hops[-1]
        self.raw["mouse_down"] += 1
        self.truth.append(Expected("drag", x0, y0, end_x=hops[-1][0], end_y=hops[-1][1]))

    def scroll(self) -> None:
        x, y = self.point()
        dy = self.rng.choice([-3, -2, -1, 1, 2, 3])
        dx = self.rng.choice([0, 0, -2, -1, 1, 2])
        self.x("mousemove", "--sync", str(x), str(y))
        # X wheel buttons: 4 up, 5 down, 6 left, 7 right (pyautogui: +dy up, +dx right).
        self.x("click", "--repeat", str(abs(dy)), "--delay", "30", "4" if dy > 0 else "5")
        if dx:
            self.x("click", "--repeat", str(abs(dx)), "--delay", "30", "7" if dx > 0 else "6")
        self.raw["scroll"] += abs(dx) + abs(dy)
        self.truth.append(Expected("scroll", x, y, dx=dx, dy=dy))

    def type(self) -> None:
        words = [self.rng.choice(WORDS) for _ in range(self.rng.randint(1, 4))]
        text = " ".join(words) + self.rng.choice(["", ",", ".", "!", "?"])
        combos = [PUNCT.get(c) or (f"shift+{c.lower()}" if c.isupper() else c) for c in text]
        self.keys(*combos)
        self.truth.append(Expected("type", text=text))

    def press(self, allow_backspace: bool) -> None:
        choices = PRESSES + ((("BackSpace", "backspace", ()),) if allow_backspace else ())
        combo, key, mods = self.rng.choice(choices)
        self.keys(combo)
        self.truth.append(Expected("press", key=key, modifiers=mods))

    def hotkey(self) -> None:
        combo, key, mods = self.rng.choice(HOTKEYS)
        self.keys(combo)
        self.truth.append(Expected("hotkey", key=key, modifiers=mods))

    def keys(self, *combos: str) -> None:
        self.x("key", "--delay", "25", *combos)
        self.raw["key_down"] += sum(len(c.split("+")) for c in combos)


def run_script(driver: Driver, n_actions: int, focus: Callable[[int], None]) -> None:
    """Inject ``n_actions`` actions; each type appears, weights favour the common ones."""
    kinds = ["click", "double_click", "right_click", "drag", "scroll", "type", "hotkey", "press"]
    weights = [14, 8, 6, 8, 12, 20, 12, 20]
    window = 0
    focus(window)
    previous = ""
    for i in range(n_actions):
        if i and i % 40 == 0:
            window = 1 - window
            focus(window)
            previous = ""
        kind = driver.rng.choices(kinds, weights)[0]
        while kind == "type" and previous == "type":  # two runs in a row would be one run
            kind = driver.rng.choices(kinds, weights)[0]
        if kind in ("click", "double_click", "right_click"):
            driver.click(kind)
        elif kind == "drag":
            driver.drag()
        elif kind == "scroll":
            driver.scroll()
        elif kind == "type":
            driver.type()
        elif kind == "hotkey":
            driver.hotkey()
        else:
            # Backspace right after typing edits the run; elsewhere it is a press.
            driver.press(allow_backspace=previous != "type")
        previous = kind


def matches(want: Expected, got: Action) -> bool:
    if want.type != got.type:
        return False

    def near(a: int | None, b: int | None) -> bool:
        return a is not None and b is not None and abs(a - b) <= TOLERANCE_PX

    if want.type in ("click", "double_click", "right_click"):
        return near(want.x, got.x) and near(want.y, got.y)
    if want.type == "drag":
        return all(near(a, b) for a, b in ((want.x, got.x), (want.y, got.y),
                                           (want.end_x, got.end_x), (want.end_y, got.end_y)))
    if want.type == "scroll":
        return near(want.x, got.x) and near(want.y, got.y) and (want.dx, want.dy) == (got.dx, got.dy)
    if want.type == "type":
        return want.text == got.text
    return (want.key, want.modifiers, 1) == (got.key, got.modifiers, got.count)


def score(truth: list[Expected], actions: list[Action]) -> dict[str, Any]:
    """Align by action type (difflib), then check each aligned pair field by field."""
    got = [a for a in actions if a.type != "wait"]
    matcher = difflib.SequenceMatcher(a=[t.type for t in truth], b=[a.type for a in got],
                                      autojunk=False)
    exact: Counter[str] = Counter()
    misses: list[dict[str, Any]] = []
    paired_got = 0
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        pairs = list(zip(range(i1, i2), range(j1, j2), strict=False)) if op in ("equal", "replace") else []
        paired = {i for i, _ in pairs}
        paired_got += len(pairs)
        for i, j in pairs:
            if matches(truth[i], got[j]):
                exact[truth[i].type] += 1
            else:
                misses.append({"index": i, "want": vars(truth[i]), "got": _brief(got[j])})
        for i in range(i1, i2):
            if i not in paired:
                misses.append({"index": i, "want": vars(truth[i]), "got": None,
                               "unpaired_got": [_brief(g) for g in got[j1 + len(pairs):j2]]})
    total = Counter(t.type for t in truth)
    return {
        "per_type": {k: {"n": total[k], "exact": exact[k],
                         "accuracy": round(100 * exact[k] / total[k], 1) if total[k] else None}
                     for k in SCORED},
        "overall": round(100 * sum(exact.values()) / len(truth), 2),
        "waits": sum(1 for a in actions if a.type == "wait"),
        "extra_actions": len(got) - paired_got,
        "misses": misses,
    }


def _brief(action: Action) -> dict[str, Any]:
    return {"type": action.type, "x": action.x, "y": action.y, "end_x": action.end_x,
            "end_y": action.end_y, "dx": action.dx, "dy": action.dy, "text": action.text,
            "key": action.key, "modifiers": action.modifiers, "count": action.count}


def record_script(n_actions: int, seed: int, work: Path) -> tuple[list[Expected], Path, float]:
    with VirtualDisplay(1280, 800) as display:
        os.environ["DISPLAY"] = display.display or ""
        editors = []
        wids = []
        for wm_class, title, geometry, _ in WINDOWS:
            editors.append(subprocess.Popen(notepad_command(title, wm_class) + ["--geometry", geometry],
                                            env=display.env()))
            wids.append(wait_for_window(display, title))
        started, stop = threading.Event(), threading.Event()
        holder: dict[str, CaptureSession] = {}
        failure: list[BaseException] = []

        def on_started(session: CaptureSession) -> None:
            holder["session"] = session
            started.set()

        def run() -> None:
            try:
                record_until(work / "spool", duration=3600, stop_event=stop, on_started=on_started,
                             config=CaptureConfig(settle_delay=0.15))
            except BaseException as exc:  # reported below, not lost in the thread
                failure.append(exc)
                started.set()

        recorder = threading.Thread(target=run)
        recorder.start()
        driver = Driver(display, random.Random(seed))
        began = time.monotonic()
        try:
            if not started.wait(30) or failure:
                raise SystemExit(f"recorder did not start: {failure}")
            session = holder["session"]

            def focus(index: int) -> None:
                driver.area = WINDOWS[index][3]
                if xdotool(display, "getactivewindow").strip() == wids[index]:
                    _wait(lambda: session.gate.decision.capture)  # seen when recording began
                    return
                before = session.frames.stats.by_trigger.get("focus", 0)
                xdotool(display, "windowactivate", "--sync", wids[index])
                # Once the focus frame is grabbed, the recorder has taken the change in.
                _wait(lambda: session.frames.stats.by_trigger.get("focus", 0) > before)

            run_script(driver, n_actions, focus)
            counts = session.counts.by_kind
            _wait(lambda: all(counts.get(k, 0) >= n for k, n in driver.raw.items())
                  and counts.get("key_up", 0) >= driver.raw["key_down"], timeout=60)
        finally:
            seconds = time.monotonic() - began
            stop.set()
            recorder.join(120)
            for editor in editors:
                editor.terminate()
                editor.wait(5)
    return driver.truth, work / "spool", seconds


def _wait(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the recorder did not catch up with the script")
        time.sleep(0.02)


def throughput(events: list[ev.Event], load_frame: Callable[[str], bytes], work: Path) -> dict[str, Any]:
    runs, pure = [], []
    steps = 0
    for i in range(3):
        t0 = time.perf_counter()
        result = build_dataset(events, load_frame, work / f"ds{i}", ("parquet",))
        runs.append(time.perf_counter() - t0)
        steps = result.dataset.num_steps
        t0 = time.perf_counter()
        for _ in range(5):
            for session in split_sessions(events):
                segment_episodes(reduce_actions(session), session)
        pure.append((time.perf_counter() - t0) / 5)
    return {
        "steps": steps,
        "events": len(events),
        "build_parquet_steps_per_s": round(steps / statistics.median(runs)),
        "build_parquet_s": round(statistics.median(runs), 3),
        "reduce_segment_steps_per_s": round(steps / statistics.median(pure)),
    }


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"uname": " ".join(platform.uname()), "cpu": model, "cpus": os.cpu_count(),
            "python": platform.python_version()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=240)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the full result as JSON")
    parser.add_argument("--dump", type=Path, help="write the raw events and actions here (JSONL)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["APPRENTICE_KEY_DIR"] = str(work / "keys")
        os.environ["APPRENTICE_CONFIG_DIR"] = str(work / "config")
        _allow_bench_editors()
        truth, spool, seconds = record_script(args.actions, args.seed, work)
        reader = open_spool(spool)
        events = list(reader.events())
        actions = reduce_actions(events)
        if args.dump:
            with args.dump.open("w") as out:
                for item in [ev.to_dict(e) for e in events if e.kind != "frame"] + [
                        {"action": _brief(a), "t": a.t_start, "seqs": a.seqs} for a in actions]:
                    out.write(json.dumps(item, default=str) + "\n")
        result = {"machine": machine(), "script_s": round(seconds, 1), "injected": len(truth),
                  "injected_mix": dict(Counter(t.type for t in truth)),
                  **score(truth, actions), "throughput": throughput(events, reader.load_frame, work),
                  "spool_problems": len(reader.problems)}
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return
    print(f"{result['machine']['cpu']} ({result['machine']['cpus']} CPUs), "
          f"Python {result['machine']['python']}")
    print(f"{len(truth)} actions injected in {result['script_s']} s, seed {args.seed}")
    print(f"{'type':<14}{'n':>5}{'exact':>7}{'accuracy':>10}")
    for kind, row in result["per_type"].items():
        accuracy = "-" if row["accuracy"] is None else f"{row['accuracy']:.1f} %"
        print(f"{kind:<14}{row['n']:>5}{row['exact']:>7}{accuracy:>10}")
    print(f"overall {result['overall']} %; waits {result['waits']}, "
          f"extra actions {result['extra_actions']}")
    t = result["throughput"]
    print(f"build (parquet, {t['steps']} steps, {t['events']} events): "
          f"{t['build_parquet_steps_per_s']} steps/s; reduce + segment only: "
          f"{t['reduce_segment_steps_per_s']} steps/s")
    for miss in result["misses"][:20]:
        print("MISS", json.dumps(miss, default=str))


def _allow_bench_editors() -> None:
    state = DeviceState.default()
    state.root.mkdir(parents=True, exist_ok=True)
    apps = "".join(f"    - app_id: {w[0].capitalize()}\n" for w in WINDOWS)
    state.policy_path.write_text(f"version: 1\nallow:\n  apps:\n{apps}")
    state.consent.accept(load_notice(), datetime.now(UTC))


if __name__ == "__main__":
    main()
