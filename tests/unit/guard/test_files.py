"""Data folders and key files: each test seeds one misconfiguration in a real tmp folder."""

from __future__ import annotations

import os
from pathlib import Path

from apprentice.guard import DataPath, Deployment, KeyFile, Problem, run_checks


def _private_tree(root: Path) -> Path:
    (root / "ab").mkdir(parents=True, mode=0o700)
    root.chmod(0o700)
    (root / "ab" / "abcd.blob").write_bytes(b"x")
    (root / "ab" / "abcd.blob").chmod(0o600)
    return root


def _refusals(deployment: Deployment) -> list[Problem]:
    return [p for p in run_checks(deployment) if p.severity == "refuse"]


def test_private_data_folder_passes(tmp_path: Path) -> None:
    root = _private_tree(tmp_path / "chunks")
    assert run_checks(Deployment(data_paths=(DataPath(root, "blob folder"),))) == []


def test_world_readable_file_deep_in_the_data_folder_is_refused(tmp_path: Path) -> None:
    root = _private_tree(tmp_path / "chunks")
    (root / "ab" / "abcd.blob").chmod(0o644)
    (problem,) = _refusals(Deployment(data_paths=(DataPath(root, "blob folder"),)))
    assert problem.check == "data_permissions"
    assert f"blob folder {root}" in problem.reason and "1 path is" in problem.reason
    assert f"first {root / 'ab' / 'abcd.blob'} (mode 644)" in problem.reason
    assert problem.fix == f"chmod -R go-rwx {root}"


def test_group_readable_folder_counts_every_open_path_and_names_the_first(tmp_path: Path) -> None:
    root = _private_tree(tmp_path / "chunks")
    for path in (root, root / "ab", root / "ab" / "abcd.blob"):
        path.chmod(path.stat().st_mode | 0o040)
    (problem,) = _refusals(Deployment(data_paths=(DataPath(root, "blob folder"),)))
    assert "3 paths are" in problem.reason and f"first {root} (mode 740)" in problem.reason


def test_non_recursive_data_path_checks_only_itself(tmp_path: Path) -> None:
    folder = tmp_path / "db"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    (folder / "other.txt").write_text("not ours")
    (problem,) = _refusals(Deployment(data_paths=(DataPath(folder, "database folder", recursive=False),)))
    assert "1 path is" in problem.reason and problem.fix == f"chmod go-rwx {folder}"


def test_symlinks_are_not_judged_by_their_own_mode_and_missing_paths_pass(tmp_path: Path) -> None:
    root = _private_tree(tmp_path / "chunks")
    (root / "link").symlink_to(root / "ab" / "abcd.blob")
    deployment = Deployment(data_paths=(DataPath(root, "blob folder"), DataPath(tmp_path / "nope", "x")))
    assert run_checks(deployment) == []


def _key(folder: Path, mode: int = 0o600) -> Path:
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / "tls.key"
    path.write_text("k")
    path.chmod(mode)
    return path


def test_private_key_file_passes(tmp_path: Path) -> None:
    key = _key(tmp_path / "keys")
    assert run_checks(Deployment(key_files=(KeyFile(key, "TLS private key"),))) == []


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    key = _key(tmp_path / "keys", 0o644)
    (problem,) = _refusals(Deployment(key_files=(KeyFile(key, "TLS private key"),)))
    assert problem.check == "key_permissions"
    assert problem.reason == f"TLS private key {key} is accessible to other users (mode 644, must be 600)"
    assert problem.fix == f"chmod 600 {key}"


def test_key_folder_others_can_enter_is_refused(tmp_path: Path) -> None:
    key = _key(tmp_path / "keys")
    key.parent.chmod(0o755)
    (problem,) = _refusals(Deployment(key_files=(KeyFile(key, "TLS private key"),)))
    assert f"key folder {key.parent}" in problem.reason and problem.fix == f"chmod 700 {key.parent}"


def test_missing_key_file_is_refused(tmp_path: Path) -> None:
    (problem,) = _refusals(Deployment(key_files=(KeyFile(tmp_path / "gone.key", "device key"),)))
    assert problem.reason == f"device key {tmp_path / 'gone.key'} not found"


def test_another_identitys_key_readable_here_is_a_warning(tmp_path: Path) -> None:
    key = _key(tmp_path / "master")
    (problem,) = run_checks(Deployment(foreign_keys=(KeyFile(key, "pipeline master key"),)))
    assert problem.severity == "warn" and "can read the pipeline master key" in problem.reason
    assert os.access(key, os.R_OK)
