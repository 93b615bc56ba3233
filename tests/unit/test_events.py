from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from apprentice import events as ev

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events.md"

SAMPLES: list[ev.Event] = [
    ev.KeyDown(1, 10, "a", 97, "a"),
    ev.KeyUp(2, 11, "shift", 65505, None),
    ev.MouseDown(3, 12, 5, 6, "left"),
    ev.MouseUp(4, 13, 5, 6, "right"),
    ev.MouseMove(5, 14, 7, 8),
    ev.Scroll(6, 15, 1, 2, -1, 3),
    ev.Focus(7, 16, ev.WindowInfo(9, "App", "app", "app", 42, "Title é", ev.Rect(1, 2, 3, 4), 0)),
    ev.Focus(8, 17, None),
    ev.Frame(9, 9, "ab" * 32, "pre", 0, ev.Rect(0, 0, 10, 10), 10, 10, "png", "cd" * 16,
             for_seq=3, cursor=(1, 2), masked={"window": 2}),
    ev.Control(10, 18, "gap", "spool_cap", {"dropped_frames": 3}),
    ev.Element(11, 19, 3, "atspi", "push button", "Save", ("focused",), ev.Rect(1, 2, 3, 4),
               (ev.UiNode("frame", "Notes"), ev.UiNode("panel"))),
]


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.kind)
def test_every_kind_round_trips_through_its_dict_form(event: ev.Event) -> None:
    assert ev.from_dict(json.loads(json.dumps(ev.to_dict(event)))) == event


def test_none_fields_are_left_out_of_the_stored_form() -> None:
    assert ev.to_dict(ev.KeyDown(1, 2, "shift")) == {"k": "key_down", "seq": 1, "t": 2, "key": "shift"}


@pytest.mark.parametrize(
    "bad",
    [{"k": "teleport", "seq": 1, "t": 1}, {"seq": 1}, {"k": "key_down", "seq": 1}, {"k": "frame"}],
)
def test_malformed_dicts_raise_schema_error(bad: dict) -> None:
    with pytest.raises(ev.SchemaError):
        ev.from_dict(bad)


def test_events_are_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        SAMPLES[0].seq = 5  # type: ignore[misc]


def test_docs_describe_every_kind_and_field() -> None:
    text = DOCS.read_text()
    for kind, cls in ev.EVENT_TYPES.items():
        section = re.search(rf"^### `{kind}`\n(.*?)(?=^### |\Z)", text, re.S | re.M)
        assert section, f"docs/events.md has no section for {kind}"
        for field in (f for f in dataclasses.fields(cls) if f.name not in ("seq", "t")):
            assert f"`{field.name}`" in section.group(1), f"{kind}.{field.name} undocumented"
    assert f"Schema version: {ev.SCHEMA_VERSION}" in text
