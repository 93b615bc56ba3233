"""python -m apprentice: the same as the `apprentice` command."""

from apprentice.cli.main import run

run()
