"""Screenshot redaction benchmark: time per 1280×800 frame, change-only OCR vs full-frame OCR.

Run: ``.venv/bin/python bench/redaction_image.py [--frames 60] [--seed 7]``. Needs the
``tesseract`` binary (scripts/setup installs it). Pinned to one core (the process and
Tesseract, ``OMP_THREAD_LIMIT=1``).

The workload is a synthetic but typical work screen, rendered with DejaVu fonts: an
allowlisted editor filling most of the screen (a file sidebar, ~34 lines of code-like
text at 14 px, a status bar), a non-allowlisted chat window over its right edge, and a
panel clock. Some lines hold an email, a card number or an AWS key. Each frame, a few
text regions change, as in a session of typing: 1–4 characters are typed on the current
line (a new line every ~25 characters, sometimes one with a sensitive value), the status
bar's cursor position updates, the clock changes every 10 frames (it is outside any
allowlisted window, so it costs nothing), and every 8 frames the sidebar selection moves.

Printed: median and p90 CPU milliseconds per frame for ``redact_frame`` with the previous
frame's state (change-only OCR) and without it (full-frame OCR, the baseline), the share
of the frame OCR read, how many planted values OCR could still read on every 10th redacted
frame, and recall on every frame: the share of complete planted values whose every text
pixel was filled (the renderer knows where each value is drawn).

``--engine api`` (default) is libtesseract in process with the recorder's page segmentation
mode (``DEVICE_PSM``), as the recorder runs it; ``--engine cli`` the ``tesseract`` program.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import statistics
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from apprentice.events import RawImage, Rect, WindowInfo
from apprentice.redact import build_redactor
from apprentice.redact.image import TextState, redact_frame
from apprentice.redact.ocr import DEFAULT_PSM, DEVICE_PSM, OcrEngine, TesseractApiOcr, TesseractOcr

WIDTH, HEIGHT = 1280, 800
SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
MONO = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
MONITOR = Rect(0, 0, WIDTH, HEIGHT)
EDITOR = WindowInfo(wid=1, app_id="Editor", bounds=Rect(0, 24, 1100, 776))
CHAT = WindowInfo(wid=2, app_id="Chat", bounds=Rect(980, 300, 300, 400))
WORDS = (
    "def", "return", "self", "value", "result", "config", "frame", "window", "event", "index",
    "count", "buffer", "import", "from", "class", "with", "open", "read", "write", "list", "dict",
    "str", "int", "None", "True", "False", "if", "else", "for", "in", "while", "try", "except",
    "raise", "yield", "await", "async", "lambda", "assert", "print", "format", "items",
)
SENSITIVE = (
    'owner = "alice.smith@example.com"',
    "card = '4111 1111 1111 1111'",
    "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
    "# contact bob.jones@corp.example.org",
)
#: A fragment of each sensitive value that must not be readable once it is fully typed.
TELLS = {value: tell for value, tell in zip(
    SENSITIVE, ("smith@example", "4111", "AKIAIOSF", "jones@corp"), strict=True)}
#: The secret part of each sensitive line: every ink pixel of it must be filled.
SECRETS = {value: secret for value, secret in zip(
    SENSITIVE, ("alice.smith@example.com", "4111 1111 1111 1111", "AKIAIOSFODNN7EXAMPLE",
                "bob.jones@corp.example.org"), strict=True)}
LINE_HEIGHT, TOP, LEFT = 20, 40, 220


def allowed(window: WindowInfo) -> bool:
    return window.app_id == "Editor"


class Screen:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.mono = ImageFont.truetype(MONO, 14)
        self.sans = ImageFont.truetype(SANS, 13)
        self.lines = [self._line() for _ in range(34)]
        for i in (5, 14, 27):
            self.lines[i] = rng.choice(SENSITIVE)
        self.files = [f"{rng.choice(WORDS)}_{rng.choice(WORDS)}.py" for _ in range(30)]
        self.selected, self.row, self.typing, self.clock = 0, 30, "", 0

    def complete_values(self) -> list[str]:
        """Sensitive values fully on screen (not the one being typed)."""
        return [line for i, line in enumerate(self.lines) if line in TELLS and i != self.row]

    def secret_boxes(self) -> list[tuple[int, int, int, int]]:
        """Pixel boxes (x0, y0, x1, y1) of the secret part of every complete sensitive line."""
        boxes = []
        for i, line in enumerate(self.lines):
            if line not in SECRETS or i == self.row:
                continue
            text = f"{i + 1:>3}  {line}"
            start = text.index(SECRETS[line])
            x0 = LEFT + int(self.mono.getlength(text[:start]))
            x1 = LEFT + int(np.ceil(self.mono.getlength(text[:start + len(SECRETS[line])])))
            boxes.append((x0, TOP + i * LINE_HEIGHT, x1, TOP + i * LINE_HEIGHT + LINE_HEIGHT - 2))
        return boxes

    def _line(self) -> str:
        indent = " " * self.rng.choice((0, 4, 8))
        return indent + " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(2, 9)))

    def step(self, frame: int) -> None:
        if not self.typing:
            self.typing = self.rng.choice(SENSITIVE) if self.rng.random() < 0.2 else self._line()
            self.row = (self.row + 1) % len(self.lines)
            self.lines[self.row] = ""
        n = self.rng.randint(1, 4)
        self.lines[self.row] += self.typing[:n]
        self.typing = self.typing[n:]
        if frame % 8 == 0:
            self.selected = self.rng.randrange(len(self.files))
        if frame % 10 == 0:
            self.clock += 1

    def render(self) -> RawImage:
        picture = Image.new("RGB", (WIDTH, HEIGHT), (60, 60, 70))
        draw = ImageDraw.Draw(picture)
        draw.text((1180, 4), f"09:{self.clock % 60:02d}", fill=(240, 240, 240), font=self.sans)
        draw.rectangle((0, 24, 1100, 800), fill=(250, 250, 250))
        draw.rectangle((0, 24, 200, 780), fill=(235, 236, 240))
        for i, name in enumerate(self.files):
            y = TOP + i * LINE_HEIGHT
            if i == self.selected:
                draw.rectangle((0, y - 2, 200, y + 16), fill=(200, 215, 240))
            draw.text((12, y), name, fill=(30, 30, 30), font=self.sans)
        for i, line in enumerate(self.lines):
            draw.text((LEFT, TOP + i * LINE_HEIGHT), f"{i + 1:>3}  {line}", fill=(25, 25, 25), font=self.mono)
        draw.rectangle((0, 780, 1100, 800), fill=(0, 120, 200))
        col = len(self.lines[self.row]) + 1
        draw.text((900, 783), f"Ln {self.row + 1}, Col {col}  UTF-8", fill=(255, 255, 255), font=self.sans)
        draw.rectangle((980, 300, 1280, 700), fill=(255, 250, 240))
        draw.text((990, 310), "chat: lunch at noon?", fill=(20, 20, 20), font=self.sans)
        return RawImage(WIDTH, HEIGHT, picture.convert("RGBA").tobytes("raw", "BGRA"))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ink_left(image: RawImage, boxes: list[tuple[int, int, int, int]]) -> list[int]:
    """Dark (text) pixels still present in each box of the redacted image."""
    pixels = np.frombuffer(image.bgra, dtype=np.uint8).reshape(image.height, image.width, 4)
    luminance = pixels[..., :3].mean(axis=2)
    return [int((luminance[y0:y1, x0:x1] < 110).sum()) for x0, y0, x1, y1 in boxes]


def engine(name: str, psm: int) -> OcrEngine:
    return TesseractApiOcr(psm=psm) if name == "api" else TesseractOcr(psm=psm)


def run(frames: int, seed: int, baseline: int, engine_name: str = "api", psm: int = DEVICE_PSM) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    redactor, ocr = build_redactor(), engine(engine_name, psm)
    reader = TesseractOcr()  # reads redacted frames back the way an attacker's default would
    screen = Screen(random.Random(seed))
    images, values, secret_boxes = [], [], []
    for frame in range(frames + 1):
        images.append(screen.render())
        values.append(screen.complete_values())
        secret_boxes.append(screen.secret_boxes())
        screen.step(frame)

    state: TextState | None = None
    incremental: list[float] = []
    area: list[float] = []
    found: dict[str, int] = {}
    checked = readable = planted = covered = 0
    for index, image in enumerate(images):
        started = _cpu_time()
        result = redact_frame(image, MONITOR, [EDITOR, CHAT], allowed, redactor, state, ocr=ocr, budget=30)
        elapsed = _cpu_time() - started
        state = result.state
        left = ink_left(result.image, secret_boxes[index])
        planted += len(left)
        covered += sum(1 for ink in left if ink == 0)
        if index % 10 == 0:  # read the redacted frame back: is any complete value readable?
            picture = Image.frombuffer("RGB", (WIDTH, HEIGHT), result.image.bgra, "raw", "BGRX", 0, 1)
            text = "".join(w.text for w in reader.words(picture.convert("L"), 60))
            checked += len(values[index])
            readable += sum(TELLS[v] in text for v in values[index])
        if index == 0:
            first = elapsed
            found = result.masked
            continue
        incremental.append(elapsed)
        area.append(sum((b[2] - b[0]) * (b[3] - b[1]) for b in result.ocr_boxes) / (WIDTH * HEIGHT))

    full: list[float] = []
    for image in images[1:1 + baseline]:
        started = _cpu_time()
        redact_frame(image, MONITOR, [EDITOR, CHAT], allowed, redactor, None, ocr=ocr, budget=60)
        full.append(_cpu_time() - started)

    print(f"machine: {platform.machine()} {platform.processor() or ''} {_cpu()}, one core; "
          f"Python {platform.python_version()}; {_tesseract()}; engine {engine_name}, psm {psm}")
    print(f"frames: {frames} of {WIDTH}x{HEIGHT}; first frame (nothing to reuse): {first * 1000:.0f} ms; "
          f"masked on it: {found}")
    print(f"{'':<26}{'median ms':>10}{'p90 ms':>8}{'max ms':>8}")
    for name, values in (("change-only OCR", incremental), ("full-frame OCR (baseline)", full)):
        print(f"{name:<26}{statistics.median(values) * 1000:>10.0f}{_percentile(values, 0.9) * 1000:>8.0f}"
              f"{max(values) * 1000:>8.0f}")
    print(f"share of the frame OCR read per frame: median {statistics.median(area):.1%}, "
          f"p90 {_percentile(area, 0.9):.1%}")
    print(f"complete sensitive values on every 10th frame: {checked}; still readable by OCR "
          f"after redaction: {readable}")
    print(f"recall (every frame): planted values whose every ink pixel was filled: {covered} of {planted} "
          f"({covered / max(planted, 1):.1%})")


def _cpu_time() -> float:
    """CPU seconds of this thread and of finished child processes (the tesseract program):
    on a machine shared with other work, wall time would measure the neighbours too."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.thread_time() + children.ru_utime + children.ru_stime


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def _tesseract() -> str:
    import subprocess

    out = subprocess.run(["tesseract", "--version"], capture_output=True, text=True, check=False)
    return (out.stdout or out.stderr).splitlines()[0] if (out.stdout or out.stderr) else "tesseract"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--baseline", type=int, default=10, help="frames to time with full-frame OCR")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--engine", choices=["api", "cli"], default="api",
                        help="libtesseract in process (what the recorder uses) or the tesseract program")
    parser.add_argument("--psm", type=int, default=DEVICE_PSM,
                        help=f"page segmentation mode (recorder: {DEVICE_PSM}; before: {DEFAULT_PSM})")
    args = parser.parse_args()
    run(args.frames, args.seed, args.baseline, args.engine, args.psm)


if __name__ == "__main__":
    main()
