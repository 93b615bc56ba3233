"""The committed expected-decision matrix (``expected_decisions.csv``): what the policies must
allow, cell by cell. Anything not listed must be denied. Tests compare the Cedar policies and
every HTTP route against it."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from apprentice.authz.model import ACTIONS, PRINCIPAL_TYPES, PURPOSES, RESOURCE_TYPES

MATRIX_FILE = Path(__file__).with_name("expected_decisions.csv")
OWNERS = ("own", "other", "none")


@dataclass(frozen=True, slots=True)
class Cell:
    principal: str
    action: str
    resource: str
    purpose: str
    owner: str  # own | other | none


def allowed_cells(path: Path = MATRIX_FILE) -> frozenset[Cell]:
    """Every cell the matrix allows (``*`` owners expanded); ValueError on an unknown name."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    cells: set[Cell] = set()
    for number, row in enumerate(csv.DictReader(lines), start=2):
        checks = ((row["principal"], PRINCIPAL_TYPES), (row["action"], ACTIONS),
                  (row["resource"], RESOURCE_TYPES), (row["purpose"], PURPOSES),
                  (row["owner"], (*OWNERS, "*")))
        for value, valid in checks:
            if value not in valid:
                raise ValueError(f"{path.name} row {number}: {value!r} is not one of {valid}")
        for owner in OWNERS if row["owner"] == "*" else (row["owner"],):
            cells.add(Cell(row["principal"], row["action"], row["resource"], row["purpose"], owner))
    return frozenset(cells)


def expected(cell: Cell, allowed: frozenset[Cell] | None = None) -> bool:
    """True when the matrix allows ``cell``."""
    return cell in (allowed if allowed is not None else allowed_cells())
