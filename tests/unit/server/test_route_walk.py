"""Every route of the OpenAPI document x every principal x every purpose x own/other subject,
checked over HTTP against the committed expected-decision matrix: an allowed cell must not
answer 401/403, a denied one must answer 403 (401 when the caller has no credentials), and
every request leaves exactly one decision record with the same decision (plus a ``changed:*``
write entry when an allowed request changed state)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from apprentice.authz import PRINCIPAL_TYPES, PURPOSES
from apprentice.authz.matrix import Cell, allowed_cells
from apprentice.client import DeviceIdentity
from apprentice.client.identity import b64
from apprentice.client.uploader import DeviceSigner
from apprentice.crypto import ChunkHeader, chunk_id, seal_chunk, signing_public_key
from tests.unit.server.collector import ADMIN, Collector, add_account, make_collector
from tests.unit.server.governance_world import POLICY

# (method, path) -> (action, resource type, whose resource it is, purpose implied for anonymous)
# "self": the caller's own contributor; "path"/"chunk": the contributor named by the path.
ROUTES: dict[tuple[str, str], tuple[str, str, str, str | None]] = {
    ("GET", "/api/v1/health"): ("read_liveness", "Health", "none", "operations"),
    ("GET", "/metrics"): ("read_metrics", "Health", "none", None),
    ("POST", "/api/v1/enrolments"): ("enrol", "Device", "none", "collection"),
    ("PUT", "/api/v1/chunks/{chunk_id}"): ("upload", "RawChunk", "self", None),
    ("GET", "/api/v1/chunks/{chunk_id}"): ("read_status", "RawChunk", "self", None),
    ("GET", "/api/v1/device/key"): ("read_public_key", "ContributorRecord", "self", None),
    ("POST", "/api/v1/device/forget-me"): ("forget", "ContributorRecord", "self", None),
    ("POST", "/api/v1/admin/enrolment-tokens"): ("issue_enrolment_token", "ContributorRecord", "none", None),
    ("POST", "/api/v1/admin/devices/{device_id}/revoke"): ("revoke", "Device", "none", None),
    ("POST", "/api/v1/admin/contributors/{contributor_id}/forget"): (
        "forget", "ContributorRecord", "path", None),
    ("POST", "/api/v1/admin/purge"): ("purge", "RawChunk", "none", None),
    ("GET", "/api/v1/me"): ("read_activity", "ContributorRecord", "self", None),
    ("GET", "/api/v1/me/chunks"): ("list", "RawChunk", "self", None),
    ("GET", "/api/v1/contributors/{contributor_id}"): ("read", "ContributorRecord", "path", None),
    ("GET", "/api/v1/pipeline/chunks"): ("list", "RawChunk", "none", None),
    ("GET", "/api/v1/pipeline/chunks/{chunk_id}"): ("read", "RawChunk", "chunk", None),
    ("GET", "/api/v1/pipeline/keys/{contributor_id}"): (
        "read_wrapped_key", "ContributorRecord", "path", None),
    ("GET", "/api/v1/pipeline/tombstones"): ("list_tombstones", "ContributorRecord", "none", None),
    # The governance workflow (docs/governance.md). "lookup": the owner of the exemption request.
    ("GET", "/api/v1/governance/status"): ("read", "Policy", "none", None),
    ("GET", "/api/v1/dpias"): ("read", "Dpia", "none", None),
    ("POST", "/api/v1/dpias"): ("write", "Dpia", "none", None),
    ("GET", "/api/v1/dpias/{dpia_id}"): ("read", "Dpia", "none", None),
    ("POST", "/api/v1/dpias/{dpia_id}/approve"): ("approve", "Dpia", "none", None),
    ("POST", "/api/v1/dpias/{dpia_id}/withdraw"): ("withdraw", "Dpia", "none", None),
    ("GET", "/api/v1/policy"): ("read", "Policy", "none", None),
    ("PUT", "/api/v1/policy"): ("write", "Policy", "none", None),
    ("GET", "/api/v1/policy/versions"): ("read", "Policy", "none", None),
    ("GET", "/api/v1/policy/versions/{version}"): ("read", "Policy", "none", None),
    ("GET", "/api/v1/exemption-requests"): ("list", "ExemptionRequest", "none", None),
    ("POST", "/api/v1/exemption-requests/{request_id}/approve"): (
        "approve", "ExemptionRequest", "lookup", None),
    ("POST", "/api/v1/exemption-requests/{request_id}/deny"): ("deny", "ExemptionRequest", "lookup", None),
    ("GET", "/api/v1/me/notice"): ("read", "ContributorRecord", "self", None),
    ("GET", "/api/v1/me/consent"): ("read", "ContributorRecord", "self", None),
    ("POST", "/api/v1/me/consent"): ("consent", "ContributorRecord", "self", None),
    ("GET", "/api/v1/me/exemption-requests"): ("read", "ExemptionRequest", "self", None),
    ("POST", "/api/v1/me/exemption-requests"): ("write", "ExemptionRequest", "self", None),
    ("GET", "/api/v1/me/devices"): ("read", "Device", "self", None),
    ("POST", "/api/v1/me/pause"): ("control", "Device", "self", None),
    ("POST", "/api/v1/me/resume"): ("control", "Device", "self", None),
    ("GET", "/api/v1/me/export"): ("export", "ContributorRecord", "self", None),
    ("DELETE", "/api/v1/me/data"): ("delete_data", "ContributorRecord", "self", None),
    ("POST", "/api/v1/device/sync"): ("sync", "Device", "self", None),
    ("GET", "/api/v1/pipeline/deletions"): ("list_deletions", "ContributorRecord", "none", None),
}
# Routes whose success changes who can do what next; the world is rebuilt after each one.
DESTRUCTIVE = {("POST", "/api/v1/device/forget-me"), ("POST", "/api/v1/admin/devices/{device_id}/revoke"),
               ("POST", "/api/v1/admin/contributors/{contributor_id}/forget"),
               # an exempt contributor's uploads are refused; deleted chunks are gone
               ("POST", "/api/v1/exemption-requests/{request_id}/approve"), ("DELETE", "/api/v1/me/data")}
ROLE_OF = {"Contributor": "contributor", "PrivacyOfficer": "privacy_officer", "MlEngineer": "ml_engineer",
           "Operator": "operator", "Pipeline": "pipeline"}


@dataclass
class World:
    c: Collector
    devices: dict[str, DeviceIdentity]  # own -> alice's, other -> bob's
    chunks: dict[str, str]
    auth: dict[str, dict[str, str]]  # principal type -> Authorization header
    exemption_requests: dict[str, str]  # own/other -> alice's/bob's pending request
    dpia: str

    def close(self) -> None:
        self.c.close()


def _sealed(identity: DeviceIdentity) -> bytes:
    origin = "walk:" + os.urandom(8).hex()
    header = ChunkHeader(identity.contributor_id, identity.device_id, identity.key_id, origin)
    return seal_chunk(os.urandom(16), identity.contributor_public_key, header)


def build_world(folder: Path) -> World:
    c = make_collector()
    folder.mkdir(parents=True, exist_ok=True)
    devices, chunks = {}, {}
    for subject, name in (("own", "alice"), ("other", "bob")):
        identity = c.enrol(folder / f"{name}-{os.urandom(4).hex()}", name)
        sealed = _sealed(identity)
        c.uploader(identity).put_chunk(chunk_id(sealed), sealed)
        devices[subject], chunks[subject] = identity, chunk_id(sealed)
    auth = {"PrivacyOfficer": {"Authorization": ADMIN["Authorization"]}}
    for p_type, role in ROLE_OF.items():
        if p_type != "PrivacyOfficer":
            auth[p_type] = add_account(c.metadata, role, "alice" if role == "contributor" else None)
    gov = c.app.state.apprentice.governance
    requests = {subject: gov.request_exemption(name, None, c.clock()).id
                for subject, name in (("own", "alice"), ("other", "bob"))}
    dpia = gov.create_dpia("walk", "walk", "acc-walk", c.clock()).id
    gov.publish_policy(POLICY.encode(), "acc-walk", c.clock())
    return World(c, devices, chunks, auth, requests, dpia)


def _request(w: World, method: str, template: str, principal: str, purpose: str, subject: str
             ) -> httpx.Response:
    names = {"own": "alice", "other": "bob"}
    path = template.format(chunk_id=w.chunks[subject], contributor_id=names[subject],
                           device_id=w.devices[subject].device_id, dpia_id=w.dpia, version=1,
                           request_id=w.exemption_requests[subject])
    headers = dict(w.auth.get(principal, {}))
    if purpose != "none":
        headers["X-Apprentice-Purpose"] = purpose
    kwargs: dict[str, Any] = {"headers": headers}
    if template == "/api/v1/enrolments":
        token = _token(w, names[subject])
        kwargs["json"] = {"token": token, "device_public_key": b64(signing_public_key(os.urandom(32)))}
    elif template == "/api/v1/admin/enrolment-tokens":
        kwargs["json"] = {"contributor_id": names[subject]}
    elif template in _JSON_BODIES and method == "POST":
        kwargs["json"] = _JSON_BODIES[template]
    elif template == "/api/v1/policy":
        kwargs["content"] = POLICY.encode()
        headers["Content-Type"] = "application/yaml"
    elif method == "PUT":
        body = _sealed(w.devices["own"])
        path = template.format(chunk_id=chunk_id(body))
        kwargs["content"] = body
        headers["Content-Type"] = "application/octet-stream"
    if principal == "Device":
        kwargs["auth"] = DeviceSigner(w.devices["own"], clock=w.c.clock.timestamp)
    return w.c.http.request(method, path, **kwargs)


_JSON_BODIES: dict[str, Any] = {
    "/api/v1/dpias": {"title": "walk", "summary": "walk"},
    "/api/v1/me/consent": {"accept": False},
    "/api/v1/me/exemption-requests": {},
    "/api/v1/me/pause": {"minutes": 5},
    "/api/v1/device/sync": {"state": "not_running"},
}


def _token(w: World, contributor: str) -> str:
    return w.c.app.state.apprentice.api.issue_token(contributor, 600, w.c.clock()).token


def _expected(route: tuple[str, str], principal: str, purpose: str, subject: str) -> bool:
    action, resource, owner_kind, implied = ROUTES[route]
    has_contributor = principal in ("Contributor", "Device")
    if purpose == "none":  # what the collector assumes when the header is absent
        purpose = {"Device": "collection", "Anonymous": implied or "none"}.get(principal, "none")
    if owner_kind == "none":
        owner = "none"
    elif owner_kind == "self":
        owner = "own" if has_contributor else "none"
    else:
        owner = subject if has_contributor else "other"
    return Cell(principal, action, resource, purpose, owner) in allowed_cells()


@pytest.fixture(scope="module")
def world_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("walk")


@pytest.fixture
def world(world_folder: Path) -> Iterator[World]:
    w = build_world(world_folder)
    yield w
    w.close()


def test_the_route_table_covers_exactly_the_openapi_document(world: World) -> None:
    doc = world.c.http.get("/openapi.json").json()
    operations = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    assert operations == set(ROUTES)


def test_every_route_declares_exactly_one_authorize_dependency(world: World) -> None:
    def found(dependant: Any) -> list[tuple[str, str]]:
        marks = [getattr(dependant.call, "__apprentice_authorize__", None)]
        return [m for m in marks if m] + [x for d in dependant.dependencies for x in found(d)]

    for route in world.c.app.routes:
        if isinstance(route, APIRoute):
            for method in route.methods:
                assert found(route.dependant) == [ROUTES[(method, route.path)][:2]], (method, route.path)


def test_every_route_role_purpose_and_subject_matches_the_matrix(world: World, world_folder: Path) -> None:
    w = world
    failures: list[str] = []
    checked = 0
    for route in ROUTES:
        for principal in PRINCIPAL_TYPES:
            for purpose in (*PURPOSES, "none"):
                for subject in ("own", "other"):
                    before = len(w.c.audit.records)
                    reply = _request(w, *route, principal, purpose, subject)
                    allowed = _expected(route, principal, purpose, subject)
                    where = f"{route[0]} {route[1]} as {principal} purpose={purpose} subject={subject}"
                    # The write entry a state change adds (``changed:*``, docs/governance.md) follows
                    # the decision; the decision itself is exactly one record.
                    records = [r for r in w.c.audit.records[before:] if not r.action.startswith("changed:")]
                    if allowed and reply.status_code in (401, 403):
                        failures.append(f"{where}: expected allowed, got {reply.status_code} {reply.text}")
                    elif not allowed:
                        want = 401 if principal == "Anonymous" else 403
                        body = reply.json()
                        if reply.status_code != want or body["error"]["code"] != (
                                "unauthorized" if want == 401 else "forbidden"):
                            failures.append(f"{where}: expected {want}, got {reply.status_code} {reply.text}")
                        elif want == 403 and ROUTES[route][0] not in body["error"]["message"]:
                            failures.append(f"{where}: 403 does not name the missing permission")
                    if [r.decision for r in records] != ["allow" if allowed else "deny"]:
                        failures.append(f"{where}: audit records {records}")
                    checked += 1
                    if allowed and route in DESTRUCTIVE:
                        w.close()
                        w = build_world(world_folder)
    w.close()
    assert not failures, f"{len(failures)} of {checked}:\n" + "\n".join(failures[:40])
    assert checked == len(ROUTES) * len(PRINCIPAL_TYPES) * (len(PURPOSES) + 1) * 2


def test_a_403_names_the_permission_and_nothing_about_the_data(world: World) -> None:
    headers = {**world.auth["MlEngineer"], "X-Apprentice-Purpose": "model_training"}
    reply = world.c.http.get(f"/api/v1/pipeline/chunks/{world.chunks['own']}", headers=headers)
    assert reply.status_code == 403
    message = reply.json()["error"]["message"]
    assert "MlEngineer may not read RawChunk" in message and "raw-chunks-pipeline-only" in message
    assert "alice" not in reply.text and world.chunks["own"] not in reply.text


def test_unknown_tokens_and_mixed_credentials_are_401(world: World) -> None:
    w = world
    assert w.c.http.get("/api/v1/me", headers={"Authorization": "Bearer apa_nope"}).status_code == 401
    assert w.c.http.get("/api/v1/me", headers={"Authorization": "Basic eDp5"}).status_code == 401
    mixed = {**w.auth["Contributor"], "X-Apprentice-Purpose": "self_service"}
    signer = DeviceSigner(w.devices["own"], clock=w.c.clock.timestamp)
    reply = w.c.http.get("/api/v1/me", headers=mixed, auth=signer)
    assert reply.status_code == 401 and "not both" in reply.json()["error"]["message"]
