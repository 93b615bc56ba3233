"""Checks on the local disk: data folders and key files only their owner can reach.

Any group or other permission bit counts, not just read: a folder others can write lets
them plant or swap files, and one they can only traverse leaks names. Symbolic links are
not followed (their own mode means nothing); what they point to is checked where it is
configured. A path that does not exist yet passes: the services create theirs 0700/0600.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from apprentice.guard.base import DataPath, Deployment, KeyFile, Problem

_OPEN_BITS = stat.S_IRWXG | stat.S_IRWXO


def _mode(info: os.stat_result) -> str:
    return f"{stat.S_IMODE(info.st_mode):o}"


def _walk(root: Path, recursive: bool) -> Iterator[tuple[Path, os.stat_result | OSError]]:
    """Yield (path, lstat or the error) for ``root`` and, if recursive, everything under it."""
    try:
        info = root.lstat()
    except FileNotFoundError:
        return
    except OSError as exc:
        yield root, exc
        return
    yield root, info
    if not (recursive and stat.S_ISDIR(info.st_mode)):
        return
    errors: list[OSError] = []
    for folder, dirs, files in os.walk(root, onerror=errors.append):
        for name in sorted(dirs) + sorted(files):
            path = Path(folder) / name
            try:
                yield path, path.lstat()
            except FileNotFoundError:  # deleted while we looked (a purge); not a problem
                continue
            except OSError as exc:
                yield path, exc
    for exc in errors:
        yield Path(exc.filename or root), exc


def check_data_paths(deployment: Deployment) -> list[Problem]:
    """Every data folder, and everything in it, is 0700/0600 (no group or other bits)."""
    return [p for data in deployment.data_paths if (p := _check_data_path(data)) is not None]


def _check_data_path(data: DataPath) -> Problem | None:
    first: tuple[Path, str] | None = None
    count = 0
    for path, info in _walk(data.path, data.recursive):
        if isinstance(info, OSError):
            # a path we cannot even stat is one we cannot vouch for: fail closed
            return Problem(
                "data_permissions", "refuse",
                f"{data.what} {data.path}: cannot check {path} ({type(info).__name__})",
                f"make {data.path} readable by the service's own user only (chown, chmod -R go-rwx)",
            )
        if stat.S_ISLNK(info.st_mode) or not info.st_mode & _OPEN_BITS:
            continue
        count += 1
        if first is None:
            first = (path, _mode(info))
    if first is None:
        return None
    path, mode = first
    recurse = "-R " if data.recursive and data.path.is_dir() else ""
    others = f"{count} paths are" if count > 1 else "1 path is"
    return Problem(
        "data_permissions", "refuse",
        f"{data.what} {data.path} is accessible to other users: {others} group/world accessible, "
        f"first {path} (mode {mode})",
        f"chmod {recurse}go-rwx {data.path}",
    )


def check_key_files(deployment: Deployment) -> list[Problem]:
    """Each configured private key exists, is 0600 (or 0400), and its folder is 0700."""
    problems: list[Problem] = []
    folders: dict[Path, str] = {}
    for key in deployment.key_files:
        problem = _check_key_file(key)
        if problem is not None:
            problems.append(problem)
        folders.setdefault(key.path.parent, key.what)
    for folder, what in folders.items():
        try:
            info = folder.stat()
        except OSError:
            continue  # the missing key file was reported above
        if info.st_mode & _OPEN_BITS:
            problems.append(Problem(
                "key_permissions", "refuse",
                f"key folder {folder} (holding the {what}) is accessible to other users (mode {_mode(info)})",
                f"chmod 700 {folder}",
            ))
    return problems


def _check_key_file(key: KeyFile) -> Problem | None:
    try:
        info = key.path.stat()
    except FileNotFoundError:
        return Problem("key_permissions", "refuse", f"{key.what} {key.path} not found",
                       f"create it or correct the setting that names {key.path}")
    except OSError as exc:
        return Problem("key_permissions", "refuse", f"{key.what} {key.path} cannot be checked "
                       f"({type(exc).__name__})", f"make {key.path} readable by the service's user only")
    if not stat.S_ISREG(info.st_mode):
        return Problem("key_permissions", "refuse", f"{key.what} {key.path} is not a regular file",
                       f"point the setting at the key file itself, not {key.path}")
    if info.st_mode & _OPEN_BITS:
        return Problem(
            "key_permissions", "refuse",
            f"{key.what} {key.path} is accessible to other users (mode {_mode(info)}, must be 600)",
            f"chmod 600 {key.path}",
        )
    if info.st_uid != os.getuid():
        return Problem("key_permissions", "refuse",
                       f"{key.what} {key.path} is owned by another user (uid {info.st_uid})",
                       f"chown the key to the service's user: chown {os.getuid()} {key.path}")
    return None


def check_foreign_keys(deployment: Deployment) -> list[Problem]:
    """Warn when this service can read a key meant for another identity (e.g. master.key).

    A warning, not a refusal: the embedded default runs every part as one user on one machine.
    """
    return [
        Problem(
            "foreign_keys", "warn",
            f"this {deployment.service} can read the {key.what} {key.path}, which only another "
            "identity should hold",
            f"move {key.path} to the host or user that needs it (chmod/chown so this user cannot read it)",
        )
        for key in deployment.foreign_keys
        if key.path.is_file() and os.access(key.path, os.R_OK)
    ]
