"""Test support: a device with a policy that allows the named apps, and consent given."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from apprentice.capture.device_state import DeviceState
from apprentice.capture.gate import CaptureGate
from apprentice.policy import load_notice, load_policy
from apprentice.redact import build_redactor


def policy_yaml(apps: list[str], extra: str = "") -> str:
    lines = ["version: 1", "allow:", "  apps:"]
    lines += [f"    - app_id: {app}" for app in apps]
    return "\n".join(lines) + "\n" + extra


def prepare_device(apps: list[str], *, consent: bool = True, extra: str = "") -> DeviceState:
    """Write policy.yaml into the (per-test) config folder and accept the notice."""
    state = DeviceState.default()
    state.root.mkdir(parents=True, exist_ok=True)
    state.policy_path.write_text(policy_yaml(apps, extra))
    if consent:
        state.consent.accept(load_notice(), datetime.now(UTC))
    return state


def make_gate(apps: list[str], **kwargs: object) -> CaptureGate:
    state = prepare_device(apps)
    return CaptureGate(load_policy(state.policy_path), load_notice(), state, build_redactor(), **kwargs)  # type: ignore[arg-type]


def spool_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())
