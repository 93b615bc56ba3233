"""Which image encoding should stored screenshots use? Measures it on real screens.

Opens a virtual display with editor windows full of text, grabs the screen with mss (as the
recorder does) and encodes it with each candidate, printing median encode time and size.

Usage: .venv/bin/python bench/encoding.py
"""

from __future__ import annotations

import io
import statistics
import subprocess
import time

import mss
from PIL import Image

from apprentice.demo.xvfb import VirtualDisplay, notepad_command, wait_for_window, xdotool

CANDIDATES = {
    "png level 1": lambda im, out: im.save(out, "PNG", compress_level=1),
    "png level 6": lambda im, out: im.save(out, "PNG", compress_level=6),
    "webp lossless m0": lambda im, out: im.save(out, "WEBP", lossless=True, method=0),
    "webp lossless m4": lambda im, out: im.save(out, "WEBP", lossless=True, method=4),
    "jpeg q92 4:4:4": lambda im, out: im.save(out, "JPEG", quality=92, subsampling=0),
}


def main() -> None:
    with VirtualDisplay(1280, 800) as display:
        procs = []
        for i, (title, geometry) in enumerate([("Left", "620x760+0+0"), ("Right", "640x760+630+0")]):
            procs.append(subprocess.Popen(notepad_command(title, "benchpad") + ["--geometry", geometry],
                                          env=display.env()))
            wid = wait_for_window(display, title)
            xdotool(display, "windowactivate", "--sync", wid)
            for line in range(12):
                text = f"Line {line}: quarterly figures {i * 100 + line} ok\n"
                xdotool(display, "type", "--delay", "1", text)
        import os

        os.environ["DISPLAY"] = display.display or ""
        with mss.MSS() as grabber:
            shot = grabber.grab(grabber.monitors[1])
            image = Image.frombuffer("RGB", shot.size, bytes(shot.raw), "raw", "BGRX", 0, 1)
        for proc in procs:
            proc.terminate()
    print(f"screen {image.width}x{image.height}, text-heavy editor windows")
    print(f"{'encoding':20} {'median ms':>10} {'size kB':>9}")
    for name, save in CANDIDATES.items():
        times, size = [], 0
        for _ in range(15):
            out = io.BytesIO()
            start = time.perf_counter()
            save(image, out)
            times.append((time.perf_counter() - start) * 1000)
            size = out.tell()
        print(f"{name:20} {statistics.median(times):10.1f} {size / 1024:9.1f}")


if __name__ == "__main__":
    main()
