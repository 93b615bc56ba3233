"""Where a spool's files live, and the small plaintext manifest that names its key.

    DIR/spool.json        {"format": "apprentice-spool", "version": 1, "spool_id": "…"}
    DIR/segments/NNNNNNNN.ev.seg   sealed event batches, in order
    DIR/segments/NNNNNNNN.fr.seg   sealed frame images

The key is *not* in DIR: by default it is ``~/.config/apprentice/keys/<spool_id>.key``
(``$APPRENTICE_KEY_DIR`` overrides the folder), mode 0600. The manifest holds no secret.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from apprentice.crypto import create_key_file, load_key_file
from apprentice.errors import SpoolError
from apprentice.fileio import write_atomically
from apprentice.paths import key_dir

FORMAT = "apprentice-spool"
VERSION = 1


def default_key_dir() -> Path:
    return key_dir()


@dataclass(frozen=True, slots=True)
class SpoolLayout:
    root: Path
    spool_id: str

    @property
    def segments(self) -> Path:
        return self.root / "segments"

    def key_path(self, key_dir: Path | None = None) -> Path:
        return (key_dir or default_key_dir()) / f"{self.spool_id}.key"


def create_or_open(root: Path, key_file: Path | None = None) -> tuple[SpoolLayout, bytes]:
    """Open the spool at ``root`` for writing, creating it (and its key) if it is new."""
    manifest = root / "spool.json"
    if manifest.exists():
        layout = open_layout(root)
        path = key_file or layout.key_path()
        return layout, load_key_file(path)
    if root.exists() and any(root.iterdir()):
        raise SpoolError(f"{root} exists and is not a spool; choose an empty or new folder")
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    layout = SpoolLayout(root, secrets.token_hex(16))
    path = key_file or layout.key_path()
    if _inside(path, root):
        raise SpoolError("the spool key must live outside the spool folder")
    key = create_key_file(path)
    layout.segments.mkdir(mode=0o700, exist_ok=True)
    body = json.dumps({"format": FORMAT, "version": VERSION, "spool_id": layout.spool_id})
    write_atomically(manifest, body.encode())
    return layout, key


def open_layout(root: Path) -> SpoolLayout:
    try:
        meta = json.loads((root / "spool.json").read_text())
    except FileNotFoundError:
        raise SpoolError(f"{root} is not a spool (no spool.json)") from None
    except ValueError:
        raise SpoolError(f"{root}/spool.json is damaged") from None
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise SpoolError(f"{root} holds an unsupported spool format {meta.get('version')!r}")
    return SpoolLayout(root, str(meta["spool_id"]))


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True
