"""Benchmark of the recorder on a real X server (Xvfb): CPU, memory, storage, loss, delay.

Runs `apprentice record` as its own process on a fresh Xvfb with a real editor window,
injects a fixed input workload through XTEST from this process, and prints for the
recorder's process tree:

* CPU as % of one core (user + system time over the workload's wall time),
* peak RSS (VmHWM),
* bytes written per minute (events and frames separately) and input-event storage per hour,
* events injected vs captured (per kind), and
* the p50/p99 delay from injection to the event being readable in the spool.

Workloads (issue "Capture agent"):
  typical  ≈5 keys/s, ≈20 pointer moves/s, a click every 2 s, for 60 s
  burst    1,000 input events/s for 20 s (800 moves + 100 key presses a second)

With ``--accessibility`` the run is repeated with accessibility off and on, on a D-Bus
session with AT-SPI's bus and a real GTK 3 form (tests/integration/apps/gtk_form.py, run by
the system python3) as the focused window, so that each click and burst queries a real
accessibility tree.

Usage:  .venv/bin/python bench/recorder.py [--workload typical|burst|all] [--seconds N]
                                           [--accessibility]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import psutil
from Xlib import XK, X, display
from Xlib.ext import xtest

from apprentice import events as ev
from apprentice.crypto import load_key_file
from apprentice.demo.xvfb import VirtualDisplay, notepad_command, wait_for_window, xdotool
from apprentice.spool import open_layout
from apprentice.spool.codec import decode_events
from apprentice.spool.segment import read_segment
from apprentice.spool.writer import list_segments


def build_schedule(workload: str, seconds: float) -> list[tuple[float, str, tuple[int, ...]]]:
    """(offset s, kind, args) for every injected event, in time order."""
    plan: list[tuple[float, str, tuple[int, ...]]] = []
    if workload == "typical":
        for i in range(int(seconds * 20)):
            t = i / 20
            plan.append((t, "move", (100 + (i * 7) % 400, 100 + (i * 3) % 250)))
        for i in range(int(seconds * 5)):
            t = i / 5 + 0.013
            plan.append((t, "key_down", ()))
            plan.append((t + 0.06, "key_up", ()))
        for i in range(int(seconds / 2)):
            t = i * 2 + 0.5
            plan.append((t, "mouse_down", ()))
            plan.append((t + 0.08, "mouse_up", ()))
    elif workload == "burst":
        step = 0.001
        for i in range(int(seconds * 1000)):
            t = i * step
            slot = i % 10
            if slot == 4:
                plan.append((t, "key_down", ()))
            elif slot == 9:
                plan.append((t, "key_up", ()))
            else:
                plan.append((t, "move", (100 + (i * 7) % 400, 100 + (i * 3) % 250)))
    else:
        raise ValueError(workload)
    plan.sort(key=lambda item: item[0])
    return plan


class Injector:
    def __init__(self, display_name: str) -> None:
        self.d = display.Display(display_name)
        self.keycode = self.d.keysym_to_keycode(XK.string_to_keysym("a"))
        self.injected: dict[str, list[int]] = defaultdict(list)

    def run(self, plan: list[tuple[float, str, tuple[int, ...]]]) -> None:
        start = time.monotonic()
        last_move = None
        for offset, kind, args in plan:
            delay = start + offset - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if kind == "move":
                if args == last_move:
                    continue
                last_move = args
                xtest.fake_input(self.d, X.MotionNotify, x=args[0], y=args[1])
                name = "mouse_move"
            elif kind == "key_down":
                xtest.fake_input(self.d, X.KeyPress, self.keycode)
                name = kind
            elif kind == "key_up":
                xtest.fake_input(self.d, X.KeyRelease, self.keycode)
                name = kind
            elif kind == "mouse_down":
                xtest.fake_input(self.d, X.ButtonPress, 1)
                name = kind
            else:
                xtest.fake_input(self.d, X.ButtonRelease, 1)
                name = kind
            self.d.sync()  # the server has the event when sync returns
            self.injected[name].append(time.monotonic_ns())


class SpoolTail:
    """Reads the spool while it is written, noting when each event became readable."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.arrivals: dict[str, list[tuple[int, int]]] = defaultdict(list)  # kind -> (event t, seen ns)
        self._seen: set[tuple[str, int]] = set()
        self._stop = threading.Event()
        self._key: bytes | None = None

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.poll()

    def poll(self) -> None:
        try:
            layout = open_layout(self.root)
            self._key = self._key or load_key_file(layout.key_path())
        except Exception:
            return
        now = time.monotonic_ns()
        for _, kind, path in list_segments(layout.segments):
            if kind != "ev":
                continue
            for item in read_segment(path, self._key):
                if not isinstance(item, tuple):
                    continue
                ref, payload = item
                if (path.name, ref.index) in self._seen:
                    continue
                self._seen.add((path.name, ref.index))
                for event in decode_events(payload):
                    if event.kind in ev.INPUT_KINDS:
                        self.arrivals[event.kind].append((event.t, now))


GTK_FORM = Path(__file__).resolve().parents[1] / "tests" / "integration" / "apps" / "gtk_form.py"


def measure(workload: str, seconds: float, frames: bool = True,
            accessibility: bool | None = None, profile: Path | None = None) -> dict[str, object]:
    """One run; ``accessibility`` None is the classic run (Tk editor, no accessibility bus),
    False/True a run on the GTK form with a D-Bus session and AT-SPI, elements off/on."""
    plan = build_schedule(workload, seconds)
    with tempfile.TemporaryDirectory() as tmp, VirtualDisplay(1280, 800) as vd:
        env = vd.env()
        env["APPRENTICE_KEY_DIR"] = str(Path(tmp) / "keys")
        env["APPRENTICE_CONFIG_DIR"] = str(Path(tmp) / "config")
        os.environ["APPRENTICE_KEY_DIR"] = env["APPRENTICE_KEY_DIR"]
        os.environ["APPRENTICE_CONFIG_DIR"] = env["APPRENTICE_CONFIG_DIR"]
        _allow_bench_editor()
        bus_pid = None
        if accessibility is None:
            editor = subprocess.Popen(
                notepad_command("Bench notes", "benchpad") + ["--geometry", "900x600+20+20"], env=env
            )
        else:
            bus = subprocess.run(["dbus-daemon", "--session", "--fork", "--print-address=1",
                                  "--print-pid=1"], env=env, capture_output=True, text=True,
                                 check=True).stdout.split()
            env["DBUS_SESSION_BUS_ADDRESS"], bus_pid = bus[0], int(bus[1])
            editor = subprocess.Popen(["/usr/bin/python3", str(GTK_FORM), "Bench notes", "Benchpad",
                                       "20", "20", "900", "600", "no-password"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wid = wait_for_window(vd, "Bench notes")
        xdotool(vd, "windowactivate", "--sync", wid)
        out = Path(tmp) / "spool"
        cmd = [sys.executable, "-m", "apprentice", "record", "--out", str(out)]
        if not frames:
            cmd += ["--max-frame-rate", "0.0001"]
        if accessibility is not None:
            cmd += ["--accessibility" if accessibility else "--no-accessibility"]
        recorder = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        proc = psutil.Process(recorder.pid)
        tail = SpoolTail(out)
        # Wait until the recorder is capturing.
        injector = Injector(vd.display or "")
        deadline = time.monotonic() + 30
        while not tail.arrivals and time.monotonic() < deadline:
            xtest.fake_input(injector.d, X.MotionNotify, x=5, y=5 + int(time.monotonic() * 10) % 50)
            injector.d.sync()
            time.sleep(0.1)
            tail.poll()
        warmup = {k: len(v) for k, v in tail.arrivals.items()}
        tail.start()
        spy = None
        if profile is not None:  # sampled stacks (Python and native) of the recorder, not counted
            spy = subprocess.Popen(
                [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(recorder.pid),
                 "--native", "--rate", "250", "--format", "raw", "--duration", str(int(seconds) + 1),
                 "-o", str(profile)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        cpu0 = _tree_cpu(proc)
        wall0 = time.monotonic()
        injector.run(plan)
        time.sleep(1.5)  # let the last flush and post-action frames happen
        wall = time.monotonic() - wall0
        cpu = _tree_cpu(proc) - cpu0
        peak_kb = _vm_hwm(recorder.pid)
        if spy is not None:
            spy.wait(60)
        recorder.send_signal(signal.SIGTERM)
        recorder.wait(60)
        tail.stop()
        tail.poll()
        editor.terminate()
        editor.wait(5)
        if bus_pid is not None:
            os.kill(bus_pid, signal.SIGTERM)
        sizes = {"events": 0, "frames": 0}
        for _, kind, path in list_segments(out / "segments"):
            sizes["events" if kind == "ev" else "frames"] += path.stat().st_size
        stop_info = _stop_info(out)

    injected = {k: len(v) for k, v in injector.injected.items()}
    captured = {k: len(tail.arrivals.get(k, [])) - warmup.get(k, 0) for k in injected}
    delays: list[float] = []
    pointer: list[float] = []
    for kind, times in injector.injected.items():
        seen = tail.arrivals.get(kind, [])[warmup.get(kind, 0):]
        for injected_ns, (_, seen_ns) in zip(times, seen, strict=False):
            delays.append((seen_ns - injected_ns) / 1e6)
            if not kind.startswith("key"):
                pointer.append(delays[-1])
    minutes = wall / 60
    return {
        "workload": workload if accessibility is None else
        f"{workload}, gtk form, accessibility {'on' if accessibility else 'off'}",
        "seconds": round(wall, 1),
        "cpu_percent_of_one_core": round(100 * cpu / wall, 2),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "events_bytes_per_minute": round(sizes["events"] / minutes),
        "frames_bytes_per_minute": round(sizes["frames"] / minutes),
        "input_storage_mb_per_hour": round(sizes["events"] / minutes * 60 / 1e6, 2),
        "injected": injected,
        "captured": captured,
        "lost": {k: injected[k] - captured.get(k, 0) for k in injected},
        "delay_ms_p50": round(statistics.median(delays), 1) if delays else None,
        "delay_ms_p99": round(statistics.quantiles(delays, n=100)[98], 1) if len(delays) > 100 else None,
        "pointer_delay_ms_p99": (
            round(statistics.quantiles(pointer, n=100)[98], 1) if len(pointer) > 100 else None
        ),
        "elements": stop_info.get("elements"),
        "frames": stop_info.get("frames"),
    }


def _stop_info(out: Path) -> dict[str, object]:
    """The recorder's counters from the spool's ``control/stop``."""
    layout = open_layout(out)
    key = load_key_file(layout.key_path())
    for _, kind, path in list_segments(out / "segments"):
        if kind != "ev":
            continue
        for item in read_segment(path, key):
            if not isinstance(item, tuple):
                continue
            for event in decode_events(item[1]):
                if isinstance(event, ev.Control) and event.op == "stop":
                    return dict(event.info)
    return {}


def _tree_cpu(proc: psutil.Process) -> float:
    """CPU seconds of the recorder, its live children, and children that already exited
    (the short-lived Tesseract runs of screenshot redaction count too)."""
    times = proc.cpu_times()
    total = times.user + times.system + times.children_user + times.children_system
    for child in proc.children(recursive=True):
        try:
            c = child.cpu_times()
            total += c.user + c.system
        except psutil.NoSuchProcess:
            pass
    return total


def _allow_bench_editor() -> None:
    """A policy allowing the bench editor, and consent, in the (temporary) config folder."""
    from datetime import UTC, datetime

    from apprentice.capture.device_state import DeviceState
    from apprentice.policy import load_notice

    state = DeviceState.default()
    state.root.mkdir(parents=True, exist_ok=True)
    state.policy_path.write_text("version: 1\nallow:\n  apps:\n    - app_id: Benchpad\n")
    state.consent.accept(load_notice(), datetime.now(UTC))


def _vm_hwm(pid: int) -> int:
    total = 0
    for p in [pid] + [c.pid for c in psutil.Process(pid).children(True)]:
        with open(f"/proc/{p}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
    return total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workload", choices=["typical", "burst", "all"], default="all")
    parser.add_argument("--seconds", type=float, help="Override the workload's duration.")
    parser.add_argument("--json", action="store_true", help="Print JSON only.")
    parser.add_argument("--profile", type=Path,
                        help="Also sample the recorder with py-spy (collapsed stacks to this file).")
    parser.add_argument("--accessibility", action="store_true",
                        help="Compare accessibility off and on (GTK form, AT-SPI bus).")
    args = parser.parse_args()
    runs = ["typical", "burst"] if args.workload == "all" else [args.workload]
    results = []
    for name in runs:
        seconds = args.seconds or (60 if name == "typical" else 20)
        if args.accessibility:
            results += [measure(name, seconds, accessibility=on) for on in (False, True)]
        else:
            results.append(measure(name, seconds, profile=args.profile))
    machine = {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }
    if args.json:
        print(json.dumps({"machine": machine, "results": results}, indent=2))
        return
    print(f"machine: {machine}")
    for r in results:
        print(f"\n== {r['workload']} ({r['seconds']} s)")
        for key, value in r.items():
            if key not in ("workload", "seconds"):
                print(f"  {key:28} {value}")


if __name__ == "__main__":
    main()
