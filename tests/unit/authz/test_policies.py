"""The Cedar policies against the committed expected-decision matrix, over the whole cross
product of principal type x action x resource type x purpose x owner; and the loader's refusal
of policies that are too broad."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from itertools import product
from pathlib import Path

import pytest

from apprentice.authz import (
    ACTIONS,
    POLICY_FOLDER,
    PRINCIPAL_TYPES,
    PURPOSES,
    RESOURCE_TYPES,
    Authorizer,
    Principal,
    Resource,
    load_policies,
    policy_problems,
)
from apprentice.authz.grant import AccessGrant, GrantError
from apprentice.authz.matrix import Cell, allowed_cells
from apprentice.errors import PolicyLoadError

# Purposes as sent: the six known ones, none at all, and a made-up one.
SENT_PURPOSES = (*PURPOSES, "none", "marketing")
_WITH_CONTRIBUTOR = {"Contributor", "Device"}
_UNOWNED = {"Health", "Policy", "Dataset"}  # no `owner` attribute in the schema


def _cells() -> list[tuple[Cell, Principal, Resource]]:
    cases = []
    for p_type, action, r_type, purpose, owner in product(
        PRINCIPAL_TYPES, ACTIONS, RESOURCE_TYPES, SENT_PURPOSES, ("own", "other", "none")
    ):
        has_contributor = p_type in _WITH_CONTRIBUTOR
        if (owner == "own" and not has_contributor) or (owner != "none" and r_type in _UNOWNED):
            continue  # a principal with no contributor owns nothing; some resources belong to no one
        principal = Principal(p_type, f"{p_type.lower()}-1", "alice" if has_contributor else None)
        resource = Resource(r_type, "r-1", {"own": "alice", "other": "bob", "none": None}[owner])
        cases.append((Cell(p_type, action, r_type, purpose, owner), principal, resource))
    return cases


def _decide_all(authorizer: Authorizer) -> dict[Cell, bool]:
    cases = _cells()
    decisions = authorizer.decide_many([(p, c.action, r, c.purpose, None) for c, p, r in cases])
    return {c: d.allowed for (c, _, _), d in zip(cases, decisions, strict=True)}


@pytest.fixture(scope="module")
def decided() -> dict[Cell, bool]:
    return _decide_all(Authorizer())


def test_the_policies_decide_every_cell_as_the_matrix_says(decided: dict[Cell, bool]) -> None:
    allowed = allowed_cells()
    wrong = sorted(
        f"{c.principal} {c.action} {c.resource} purpose={c.purpose} owner={c.owner}: "
        f"policy says {'ALLOW' if got else 'DENY'}"
        for c, got in decided.items() if got != (c in allowed)
    )
    assert not wrong, "\n".join(wrong)
    # The whole cross product was evaluated, not a sample.
    owned = len(RESOURCE_TYPES) - len(_UNOWNED)
    per_principal = {p: owned * (3 if p in _WITH_CONTRIBUTOR else 2) + len(_UNOWNED) for p in PRINCIPAL_TYPES}
    assert len(decided) == len(ACTIONS) * len(SENT_PURPOSES) * sum(per_principal.values())


def test_every_allow_in_the_matrix_is_reachable(decided: dict[Cell, bool]) -> None:
    """A matrix row no request can reach would be a typo hiding a missing rule."""
    reachable = {c for c in allowed_cells() if (c.owner != "own" or c.principal in _WITH_CONTRIBUTOR)
                 and (c.owner == "none" or c.resource not in _UNOWNED)}
    assert all(decided[c] for c in reachable)


def test_only_the_pipeline_can_read_raw_chunks(decided: dict[Cell, bool]) -> None:
    raw_reads = [c for c, ok in decided.items() if ok and c.action == "read" and c.resource == "RawChunk"]
    assert {c.principal for c in raw_reads} == {"Pipeline"}
    assert {c.purpose for c in raw_reads} == {"processing"}


def test_activity_figures_only_for_a_contributor_about_themselves(decided: dict[Cell, bool]) -> None:
    readers = {(c.principal, c.owner, c.purpose) for c, ok in decided.items()
               if ok and c.action == "read_activity"}
    assert readers == {("Contributor", "own", "self_service")}


def test_datasets_are_read_for_model_training_only(decided: dict[Cell, bool]) -> None:
    readers = {(c.principal, c.purpose) for c, ok in decided.items()
               if ok and c.action == "read" and c.resource == "Dataset"}
    assert readers == {("MlEngineer", "model_training")}


def test_nothing_is_allowed_without_a_known_purpose(decided: dict[Cell, bool]) -> None:
    assert not any(ok for c, ok in decided.items() if c.purpose in ("none", "marketing"))


def test_only_a_raw_read_allow_carries_a_grant() -> None:
    authorizer = Authorizer()
    pipeline = Principal("Pipeline", "acc-p")
    allow = authorizer.decide(pipeline, "read", Resource("RawChunk", "c1", "alice"), "processing")
    assert allow.allowed and allow.grant is not None and allow.grant.resource_id == "c1"
    listing = authorizer.decide(pipeline, "list", Resource("RawChunk"), "processing")
    assert listing.allowed and listing.grant is None
    officer = Principal("PrivacyOfficer", "acc-o")
    denied = authorizer.decide(officer, "read", Resource("RawChunk", "c1", "alice"), "governance")
    assert not denied.allowed and denied.grant is None
    assert "raw-chunks-pipeline-only" in denied.missing_permission
    with pytest.raises(GrantError):
        AccessGrant(None, "c1", "account:acc-x", "processing", datetime.now(UTC))


# -- the loader ----------------------------------------------------------------------------

@pytest.fixture
def folder(tmp_path: Path) -> Path:
    copy = tmp_path / "policies"
    shutil.copytree(POLICY_FOLDER, copy)
    return copy


def test_the_shipped_policies_load_cleanly() -> None:
    assert policy_problems() == []
    assert "forbid.cedar" in load_policies().files


@pytest.mark.parametrize("policy, complaint", [
    ('permit (principal, action, resource) when { context.purpose == "processing" };', "every principal"),
    ('permit (principal, action == Apprentice::Action::"read", resource is Apprentice::Dataset)\n'
     'when { context.purpose == "model_training" };', "every principal"),
    ('permit (principal is Apprentice::Operator, action, resource is Apprentice::Health)\n'
     'when { context.purpose == "operations" };', "every action"),
    ('permit (principal is Apprentice::Operator, action == Apprentice::Action::"read_metrics", resource)\n'
     'when { context.purpose == "operations" };', "every resource"),
    ('permit (principal is Apprentice::Operator, action == Apprentice::Action::"read_metrics",\n'
     '        resource is Apprentice::Health);', "not purpose-bound"),
    ('permit (principal is Apprentice::Operator, action == Apprentice::Action::"launch", resource is '
     'Apprentice::Health) when { context.purpose == "operations" };', "launch"),
    ("permit (principal", "does not parse"),
])
def test_broad_or_broken_policies_are_refused_at_load(folder: Path, policy: str, complaint: str) -> None:
    (folder / "extra.cedar").write_text(policy + "\n")
    problems = policy_problems(folder)
    assert any("extra.cedar" in p and complaint in p for p in problems), problems
    with pytest.raises(PolicyLoadError, match="extra.cedar"):
        load_policies(folder)


def test_a_forbid_wins_over_a_permit_added_later(folder: Path) -> None:
    (folder / "extra.cedar").write_text(
        '@id("officer-reads-chunks")\n'
        'permit (principal is Apprentice::PrivacyOfficer, action == Apprentice::Action::"read",\n'
        '        resource is Apprentice::RawChunk) when { context.purpose == "governance" };\n'
    )
    authorizer = Authorizer(folder=folder)
    decision = authorizer.decide(Principal("PrivacyOfficer", "acc-o"), "read",
                                 Resource("RawChunk", "c1", "alice"), "governance")
    assert not decision.allowed and decision.grant is None


def test_a_folder_without_schema_or_policies_is_refused(tmp_path: Path) -> None:
    assert policy_problems(tmp_path) and "schema" in policy_problems(tmp_path)[0]
    (tmp_path / "schema.cedarschema").write_text((POLICY_FOLDER / "schema.cedarschema").read_text())
    assert "no *.cedar" in policy_problems(tmp_path)[0]


# -- remembered decisions (authz/memo.py) ----------------------------------------------------

def test_remembered_decisions_equal_cedars_for_every_cell_and_other_ids(decided: dict[Cell, bool]) -> None:
    """Every cell decided twice through the memo (the second time with other principal,
    resource and contributor ids, so only the memo can answer it) gives Cedar's decision."""
    authorizer = Authorizer()
    assert authorizer.memo_blockers == []
    renamed = {"alice": "carol", "bob": "dave", None: None}
    for cell, principal, resource in _cells():
        first = authorizer.decide(principal, cell.action, resource, cell.purpose)
        other_p = Principal(principal.type, principal.id + "-x", renamed[principal.contributor])
        other_r = Resource(resource.type, "r-2", renamed[resource.owner])
        again = authorizer.decide(other_p, cell.action, other_r, cell.purpose)
        fresh = authorizer.decide_many([(other_p, cell.action, other_r, cell.purpose, None)])[0]
        assert first.allowed == again.allowed == fresh.allowed == decided[cell], cell
        assert again.policies == fresh.policies and again.resource == other_r and again.principal == other_p
        assert (again.grant is None) == (fresh.grant is None)
        if again.grant is not None:
            assert again.grant.resource_id == "r-2"


@pytest.mark.parametrize("condition", [
    'principal == Apprentice::Device::"dev-1"',
    'resource has owner && resource.owner == "alice"',
    'principal has contributor && principal.contributor like "a*"',
    'resource in Apprentice::RawChunk::"x"',
])
def test_policies_that_look_at_ids_or_values_are_never_remembered(folder: Path, condition: str) -> None:
    (folder / "extra.cedar").write_text(
        'forbid (principal is Apprentice::Device, action == Apprentice::Action::"upload",\n'
        f'        resource is Apprentice::RawChunk) when {{ {condition} }};\n'
    )
    authorizer = Authorizer(folder=folder)
    assert authorizer.memo_blockers
    allowed = authorizer.decide(Principal("Device", "dev-2", "bob"), "upload",
                                Resource("RawChunk", "y", "bob"), "collection")
    assert allowed.allowed
    if condition.startswith("principal =="):
        # The same key as the allow above; only Cedar, asked afresh, can deny it.
        denied = authorizer.decide(Principal("Device", "dev-1", "bob"), "upload",
                                   Resource("RawChunk", "y", "bob"), "collection")
        assert not denied.allowed
