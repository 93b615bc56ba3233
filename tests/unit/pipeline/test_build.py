"""A dataset built end to end from synthetic events and PNG frames, read back by its users."""

from __future__ import annotations

import ast
import json
import tarfile
from pathlib import Path

import pytest

from apprentice.errors import ConfigError
from apprentice.pipeline.build import build_dataset, inspect_dataset
from apprentice.pipeline.export import EXPORTERS, create_exporter
from apprentice.pipeline.export.card import STEPS_FILE

from .conftest import Log, blob_for, png_for

ALL_FORMATS = ("parquet", "osworld", "agentnet", "computer13", "wds")

# Public pyautogui functions (pyautogui 0.9.54), kept static: importing pyautogui needs a
# display. ``time.sleep`` and OSWorld's special codes are allowed beside them.
PYAUTOGUI_FUNCTIONS = frozenset({
    "click", "doubleClick", "tripleClick", "rightClick", "middleClick", "leftClick",
    "mouseDown", "mouseUp", "moveTo", "moveRel", "move", "dragTo", "dragRel", "drag",
    "scroll", "hscroll", "vscroll", "write", "typewrite", "press", "keyDown", "keyUp",
    "hotkey", "hold", "position", "size", "screenshot",
})
SPECIAL_CODES = {"DONE", "FAIL", "WAIT"}


def session_log() -> Log:
    log = Log().start()
    log.control("task_start", instruction="Write 'Q3' notes, then save")
    log.focus(1, "Editor", "notes.txt").frame("desk").wait(5)
    log.click(300, 200).frame("caret")
    log.text("Q3 \"notes\" \\ é").tap("backspace").tap("enter").frame("typed")
    log.down("shift").tap("left").tap("left").up("shift")
    log.combo("ctrl", "s").frame("saved")
    log.click(320, 120).click(320, 120)
    log.scroll(500, 500, dy=-2).scroll(500, 500, dx=1)
    log.drag([(100, 100), (180, 140), (260, 180)])
    log.wait(2500).frame("loading").wait(500).frame("loaded").wait(100)
    log.click(640, 360, "right").click(700, 400, "middle").click(50, 50, hold_ms=900)
    log.control("task_end", status="success")
    log.focus(2, "Browser", "Intranet", "https://intranet.example.com/x").frame("web")
    log.click(10, 10).tap("cmd")
    log.control("stop")
    return log


def frame_store(log: Log) -> dict[str, bytes]:
    hashes = {e.pixel_hash for e in log.events if e.kind == "frame"}  # type: ignore[union-attr]
    return {blob_for(p): png_for(p) for p in hashes}


def build(tmp_path: Path, name: str = "out", formats=ALL_FORMATS):  # type: ignore[no-untyped-def]
    log = session_log()
    store = frame_store(log)
    return build_dataset(log.events, store.__getitem__, tmp_path / name, formats)


def code_lines(code: str) -> list[str]:
    return [line for line in code.splitlines() if line]


def assert_real_pyautogui(code: str) -> None:
    for line in code_lines(code):
        tree = ast.parse(line)
        if line in SPECIAL_CODES:
            continue
        (stmt,) = tree.body
        call = stmt.value  # type: ignore[attr-defined]
        assert isinstance(call, ast.Call), line
        owner, attr = call.func.value.id, call.func.attr
        assert (owner, attr) == ("time", "sleep") or (
            owner == "pyautogui" and attr in PYAUTOGUI_FUNCTIONS
        ), line


def test_parquet_loads_with_datasets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    result = build(tmp_path)
    import datasets

    out = result.out_dir
    steps = datasets.load_dataset(str(out), "steps", cache_dir=str(tmp_path / "cache"))["train"]
    default = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "cache"))["train"]
    episodes = datasets.load_dataset(str(out), "episodes", cache_dir=str(tmp_path / "cache"))
    assert steps.num_rows == default.num_rows == result.dataset.num_steps
    assert episodes["train"].num_rows == len(result.dataset.episodes) == 2
    types = steps["action_type"]
    for kind in ("click", "type", "press", "hotkey", "double_click", "scroll", "drag", "wait",
                 "right_click", "middle_click", "long_press", "done"):
        assert kind in types, kind
    typed = steps.filter(lambda r: r["action_type"] == "type")[0]
    assert typed["text"] == 'Q3 "notes" \\ '
    for row in steps:
        assert_real_pyautogui(row["pyautogui"])
        assert_real_pyautogui(row["pyautogui_norm"])
        if row["pre_image"]:
            assert (out / row["pre_image"]).is_file()
    task = episodes["train"].filter(lambda r: r["source"] == "task")[0]
    assert (task["instruction"], task["outcome"]) == ("Write 'Q3' notes, then save", "success")
    assert task["monitors"][0]["width"] == 1920
    card = (out / "README.md").read_text()
    assert card.startswith("---\n") and "config_name: steps" in card
    assert (out / "action_mix.png").read_bytes().startswith(b"\x89PNG")


def test_jsonl_and_json_exports(tmp_path: Path) -> None:
    result = build(tmp_path)
    out = result.out_dir
    task_id = result.dataset.episodes[0].id
    traj_file = out / "osworld" / task_id / "traj.jsonl"
    traj = [json.loads(line) for line in traj_file.read_text().splitlines()]
    assert [t["step_num"] for t in traj] == list(range(1, len(traj) + 1))
    assert traj[-1]["done"] and traj[-1]["action"] == "DONE"
    for line in traj:
        assert_real_pyautogui(line["action"])
    agentnet_file = out / "agentnet" / "trajectories.jsonl"
    agentnet = [json.loads(line) for line in agentnet_file.read_text().splitlines()]
    assert len(agentnet) == 2 and agentnet[0]["task_completed"] is True
    for step in agentnet[0]["traj"]:
        assert_real_pyautogui(step["value"]["code"])
        for number in ast.walk(ast.parse(step["value"]["code"])):
            if isinstance(number, ast.keyword) and number.arg in ("x", "y"):
                assert 0 <= number.value.value < 1  # type: ignore[attr-defined]
    c13 = json.loads((out / "computer13" / f"{task_id}.json").read_text())
    assert c13["steps"][-1]["actions"] == [{"action_type": "DONE", "parameters": {}}]
    assert {a["action_type"] for s in c13["steps"] for a in s["actions"]} >= {
        "CLICK", "TYPING", "HOTKEY", "PRESS", "SCROLL", "DRAG_TO", "WAIT", "RIGHT_CLICK"}


def test_webdataset_shards_pair_images_and_json(tmp_path: Path) -> None:
    result = build(tmp_path, formats=("wds",))
    with tarfile.open(result.out_dir / "wds" / "shard-000000.tar") as tar:
        members = tar.getmembers()
        names = [m.name for m in members]
        assert all(m.mtime == 0 for m in members)
        samples = [json.loads(tar.extractfile(n).read()) for n in names if n.endswith(".json")]  # type: ignore[union-attr]
    assert len(samples) == result.dataset.num_steps
    keys = {n.split(".", 1)[0] for n in names}
    assert all("." not in k for k in keys) and len(keys) == len(samples)
    assert any(n.endswith(".png") for n in names)


def test_build_is_deterministic(tmp_path: Path) -> None:
    a, b = build(tmp_path, "a").out_dir, build(tmp_path, "b").out_dir
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def test_inspect_summarises_the_folder(tmp_path: Path) -> None:
    result = build(tmp_path)
    summary = inspect_dataset(result.out_dir)
    assert summary["episodes"] == 2 and summary["steps"] == result.dataset.num_steps
    assert summary["formats"] == sorted(ALL_FORMATS)
    assert summary["images"] > 0 and summary["missing_files"] == []
    assert summary["action_mix"]["click"] >= 1


def test_missing_frames_are_left_out_not_fatal(tmp_path: Path) -> None:
    log = session_log()
    result = build_dataset(log.events, {}.__getitem__, tmp_path / "out", ["parquet"])
    assert not (result.out_dir / "images").exists()
    assert result.dataset.num_steps > 0


def test_bad_requests_fail_with_a_reason(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown dataset format 'csv'"):
        build_dataset([], {}.__getitem__, tmp_path / "x", ["csv"])
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "f").write_text("")
    with pytest.raises(ConfigError, match="not empty"):
        build_dataset([], {}.__getitem__, tmp_path / "full", ["parquet"])
    with pytest.raises(ConfigError, match="unknown dataset format"):
        create_exporter("nope")


def test_every_registered_exporter_has_its_name(tmp_path: Path) -> None:
    for name in EXPORTERS:
        assert create_exporter(name).name == name


def test_no_typed_text_in_the_card_or_manifest(tmp_path: Path) -> None:
    out = build(tmp_path).out_dir
    for name in ("README.md", "dataset.json"):
        text = (out / name).read_text()
        assert "notes" not in text and "Q3" not in text and "sess-1" not in text


def test_steps_carry_the_reported_target_element(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from apprentice import events as ev

    log = Log().start()
    log.focus(1, "Editor", "notes.txt").frame("desk").wait(5)
    log.click(300, 200)
    click_down = next(e for e in reversed(log.events) if e.kind == "mouse_down")
    log.add(ev.Element, for_seq=click_down.seq, source="atspi", role="menu item", name="Save As",
            states=("focused",), bounds=ev.Rect(290, 190, 100, 20),
            path=(ev.UiNode("menu bar"), ev.UiNode("menu", "File")))
    log.wait(300).click(10, 10)
    log.control("stop")
    store = frame_store(log)
    build_dataset(log.events, store.__getitem__, tmp_path / "out", ("parquet",))
    rows = pq.read_table(tmp_path / "out" / STEPS_FILE).to_pylist()
    first, second = rows[0], rows[1]
    assert (first["target_role"], first["target_name"], first["target_source"]) == (
        "menu item", "Save As", "atspi")
    assert first["target_bbox"] == [290, 190, 100, 20]
    assert first["target_bbox_norm"] is not None and 0 < first["target_bbox_norm"][0] < 1
    assert json.loads(first["target_path"]) == [["menu bar", None], ["menu", "File"]]
    assert second["target_role"] is None and second["target_states"] == []
