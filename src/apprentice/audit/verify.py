"""Check an audit log against saved checkpoints and say exactly what is wrong.

The verifier trusts nothing the store computed. It

1. reads every entry in index order and recomputes its leaf from its fields — a missing
   index is a deleted entry, a field that is not a valid entry is an edit, and a leaf that
   differs from the hash stored when the entry was written is an edit or a move;
2. compares the store's own append counter with the entries present (deleted tail);
3. for each checkpoint: checks it names this log and carries a valid signature of the audit
   key, that the log still has at least its size (truncation), that the recomputed root at
   its size equals its root (any edit, drop, insert or reordering before that size), and
   that an RFC 9162 consistency proof from it to the current size verifies;
4. across checkpoints: two validly signed checkpoints of one size with different roots are a
   fork — the signer has shown two histories — whatever the log now says.

When a root does not match, it locates the change: entries whose recomputed leaf differs
from the stored one are named; if the stored hashes were rewritten too, the change is placed
between the largest checkpoint that still matches and the smallest that does not.

Cost: one pass over the log (a JSON encoding and a SHA-256 per entry), one in-memory tree
(~64 bytes per entry).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from apprentice.audit.checkpoint import Checkpoint, VerifierKey
from apprentice.audit.merkle import MerkleTree, leaf_hash, verify_consistency
from apprentice.audit.store import AuditStore
from apprentice.errors import CheckpointError


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding. ``code`` is stable for scripts; ``message`` is for people."""

    code: str
    message: str
    index: int | None = None


@dataclass
class VerifyReport:
    log_id: str
    size: int
    root: bytes
    checkpoints_ok: list[Checkpoint] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_index(self) -> int | None:
        found = [p.index for p in self.problems if p.index is not None]
        return min(found) if found else None

    def codes(self) -> set[str]:
        return {p.code for p in self.problems}


def verify_log(store: AuditStore, key: VerifierKey, checkpoints: Sequence[Checkpoint] = ()) -> VerifyReport:
    recomputed = MerkleTree()
    problems: list[Problem] = []
    expected = 0
    for row in store.rows():
        if row.index != expected:
            if row.index > expected:
                last = row.index - 1
                span = f"entry {expected} is" if last == expected else f"entries {expected}–{last} are"
                problems.append(Problem("missing", f"{span} missing (deleted from the log)", expected))
            else:
                problems.append(Problem("order", f"entry {row.index} appears twice or out of order",
                                        row.index))
        expected = row.index + 1
        try:
            leaf = row.entry().leaf_hash()
        except ValueError as exc:
            problems.append(Problem("edited", f"entry {row.index} is not a valid entry ({exc})", row.index))
            leaf = leaf_hash(b"invalid entry %d" % row.index)
        else:
            if leaf != row.leaf_hash:
                problems.append(Problem(
                    "edited",
                    f"entry {row.index} no longer matches the hash written with it "
                    "(its fields were changed, or it was moved from another position)",
                    row.index,
                ))
        recomputed.append(leaf)

    appended = store.appended()
    if appended > expected:
        problems.append(Problem(
            "truncated",
            f"the log counted {appended} entries written but holds only {expected}: "
            "entries at the end were deleted",
            expected,
        ))

    report = VerifyReport(store.log_id(), recomputed.size, recomputed.root(), problems=problems)
    _check_checkpoints(report, recomputed, key, checkpoints)
    return report


def _check_checkpoints(report: VerifyReport, tree: MerkleTree, key: VerifierKey,
                       checkpoints: Sequence[Checkpoint]) -> None:
    signed: list[Checkpoint] = []
    for cp in checkpoints:
        try:
            cp.verify(key)
        except CheckpointError as exc:
            report.problems.append(Problem("signature", f"checkpoint of size {cp.size}: {exc}"))
            continue
        signed.append(cp)

    # Forks first: they need no log at all, only two signatures.
    by_size: dict[tuple[str, int], Checkpoint] = {}
    for cp in signed:
        seen = by_size.setdefault((cp.origin, cp.size), cp)
        if seen.root != cp.root:
            report.problems.append(Problem(
                "fork",
                f"two validly signed checkpoints of size {cp.size} have different roots "
                f"(signed {seen.time:%Y-%m-%d %H:%M} and {cp.time:%Y-%m-%d %H:%M}): the log "
                "signer has presented two different histories",
            ))

    good: list[int] = []
    bad: list[Checkpoint] = []
    for cp in signed:
        if cp.log_id != report.log_id:
            report.problems.append(Problem(
                "other_log", f"checkpoint is for log {cp.log_id}, but this log is {report.log_id}"))
            continue
        if cp.size > tree.size:
            report.problems.append(Problem(
                "truncated",
                f"checkpoint covers {cp.size} entries but the log now has only {tree.size}: "
                f"entries from {tree.size} on were removed",
                tree.size,
            ))
            continue
        if tree.root(cp.size) != cp.root:
            bad.append(cp)
            continue
        proof = tree.consistency_proof(cp.size)
        if not verify_consistency(cp.size, tree.size, cp.root, tree.root(), proof):
            report.problems.append(Problem(
                "inconsistent", f"no valid consistency proof from checkpoint size {cp.size}"))
            continue
        good.append(cp.size)
        report.checkpoints_ok.append(cp)

    for cp in bad:
        report.problems.append(_locate(cp, report, max((g for g in good if g < cp.size), default=0)))


def _locate(cp: Checkpoint, report: VerifyReport, after: int) -> Problem:
    """Explain a root mismatch as precisely as the evidence allows."""
    named = sorted({p.index for p in report.problems if p.index is not None and p.index < cp.size})
    if named:
        where = ", ".join(str(i) for i in named[:10]) + (" …" if len(named) > 10 else "")
        return Problem("root_mismatch",
                       f"the log differs from the checkpoint of size {cp.size}; changed at index {where}",
                       named[0])
    where = (f" (the change lies in entries {after}–{cp.size - 1}; the checkpoint of size {after} "
             "still matches)") if after else ""
    return Problem(
        "root_mismatch",
        f"the log differs from the checkpoint of size {cp.size}: entries before index {cp.size} were "
        f"changed, reordered or replaced together with their stored hashes{where}",
        after if after else None,
    )
