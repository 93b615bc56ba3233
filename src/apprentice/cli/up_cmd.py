"""``apprentice up``: everything on this machine on the embedded default.

For now (the collector and pipeline are still being built) ``up --demo`` starts a virtual
display with a real editor window, records a short scripted session into an encrypted
spool, and shows what was captured. Without ``--demo`` it records this desktop.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from apprentice.errors import ConfigError

console = Console(stderr=True)


def up(
    demo: bool = typer.Option(
        False, "--demo", help="Use a virtual display and a scripted contributor (no desktop needed)."
    ),
    data_dir: Path = typer.Option(
        Path("apprentice-data"), "--data-dir", help="Where recordings and datasets are kept."
    ),
) -> None:
    """Run apprentice on this machine with nothing to configure.

    Example (on a server with no desktop): apprentice up --demo --data-dir /tmp/demo
    """
    if not demo:
        raise ConfigError(
            "only `apprentice up --demo` is available in this version; to record this "
            "desktop use `apprentice record --out DIR`"
        )
    from apprentice.demo.scripted import run_demo

    run_demo(data_dir, console)
