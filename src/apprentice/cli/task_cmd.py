"""``apprentice task start|end``: mark where a task begins and how it ended.

The command queues a small JSON file in the device-state folder (``commands/``); the
running recorder takes it on its next refresh (within about a second) and records a
``task_start``/``task_end`` control. The command waits until the recorder has taken it,
so once it returns the boundary is in the recording, before your next click.
"""

from __future__ import annotations

import enum
import json
import os
import time

import typer
from rich.console import Console

from apprentice.capture.device_state import DeviceState
from apprentice.errors import ConfigError

app = typer.Typer(help="Mark the start and the end of a task in the running recording.",
                  no_args_is_help=True)
console = Console()
_DELIVERY_TIMEOUT_S = 5.0


class Status(enum.StrEnum):
    success = "success"
    failure = "failure"


@app.command()
def start(
    instruction: str = typer.Argument(..., help="What the task is, as you would ask an agent."),
) -> None:
    """Start a task: the steps from now on are one episode with this instruction.

    The instruction is redacted on this device before it is recorded.

    Example: apprentice task start "Rename the March invoices by customer"
    """
    if not instruction.strip():
        raise ConfigError("the instruction is empty; say what the task is")
    send({"op": "task_start", "instruction": instruction})
    console.print("[bold]task started[/] — end it with: apprentice task end --status success")


@app.command()
def end(
    status: Status = typer.Option(..., "--status", "-s", help="How the task ended."),
) -> None:
    """End the current task as a success or a failure.

    Example: apprentice task end --status success
    """
    send({"op": "task_end", "status": status.value})
    console.print(f"[bold]task ended[/]: {status.value}")


def send(command: dict[str, object], state: DeviceState | None = None,
         timeout: float = _DELIVERY_TIMEOUT_S) -> None:
    """Queue ``command`` for the running recorder and wait until it has taken it."""
    state = state or DeviceState.default()
    if not _recorder_running(state):
        raise ConfigError("no recorder is running; start one with `apprentice record` first")
    path = state.put_command({**command, "created_ns": time.time_ns()})
    deadline = time.monotonic() + timeout
    while path.exists():
        if time.monotonic() > deadline:
            try:
                path.unlink()  # withdraw it, so a later recorder never acts on it
            except FileNotFoundError:
                return  # taken at the last moment
            raise ConfigError(
                f"the recorder did not take the command within {timeout:g} s; nothing was "
                "recorded (check `apprentice status`)"
            )
        time.sleep(0.05)


def _recorder_running(state: DeviceState) -> bool:
    try:
        pid = int(json.loads(state.status_path.read_text())["pid"])
        os.kill(pid, 0)
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return True
