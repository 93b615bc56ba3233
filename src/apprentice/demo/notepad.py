"""A tiny real text editor (Tk) for demos and tests: a window with a text area.

``--save-to FILE`` makes Ctrl+S write the text there, so a test can compare what a person
typed with what the editor holds. Run: python -m apprentice.demo.notepad --title T
"""

from __future__ import annotations

import argparse
import tkinter as tk
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--title", default="Notepad")
    parser.add_argument("--class", dest="wm_class", default="DemoNotepad")
    parser.add_argument("--save-to", type=Path)
    parser.add_argument("--geometry", default="640x420+40+40")
    parser.add_argument("--text", default="", help="Text the window shows when it opens.")
    args = parser.parse_args(argv)

    root = tk.Tk(className=args.wm_class)
    root.title(args.title)
    root.geometry(args.geometry)
    text = tk.Text(root, font=("DejaVu Sans Mono", 14), undo=True, wrap="word")
    text.pack(fill="both", expand=True)
    text.insert("1.0", args.text)
    text.focus_set()

    def save(_event: object = None) -> str:
        if args.save_to is not None:
            tmp = args.save_to.with_suffix(".tmp")
            tmp.write_text(text.get("1.0", "end-1c"), encoding="utf-8")
            tmp.replace(args.save_to)
        return "break"

    root.bind("<Control-s>", save)
    root.mainloop()


if __name__ == "__main__":
    main()
