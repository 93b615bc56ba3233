"""Request and response bodies of the governance API (docs/governance.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class DpiaCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    summary: str = Field(min_length=1, max_length=20_000,
                         description="The privacy officer's summary of the assessment (governance text).")


class DpiaOut(BaseModel):
    id: str
    title: str
    summary: str
    status: Literal["draft", "approved", "withdrawn"]
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    withdrawn_at: datetime | None


class DpiaList(BaseModel):
    dpias: list[DpiaOut]


class CaptureStatusOut(BaseModel):
    capture_enabled: bool
    reason: Literal["dpia_pending", "no_policy"] | None = Field(
        description="Why capture is not enabled for the organisation (null when it is).")
    policy_version: int | None
    notice_version: int


class PolicyOut(BaseModel):
    version: int
    sha256: str
    yaml: str
    created_by: str
    created_at: datetime


class PolicyVersionOut(BaseModel):
    version: int
    sha256: str
    created_by: str
    created_at: datetime


class PolicyVersionList(BaseModel):
    versions: list[PolicyVersionOut]


class PolicyPutResult(BaseModel):
    preview: bool
    valid: bool = True
    current_version: int | None = Field(description="The version in force before this request.")
    version: int | None = Field(description="The stored version (null for a preview).")
    created: bool = Field(description="False for a preview or when the YAML equals the current version.")
    diff: str = Field(description="Unified diff of the YAML, current -> proposed.")


class NoticeOut(BaseModel):
    version: int
    sha256: str
    text: str
    consent: ConsentState


class ConsentState(BaseModel):
    state: Literal["accepted", "withdrawn", "none"]
    notice_version: int | None
    notice_sha256: str | None
    at: datetime | None


class ConsentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    accept: bool = Field(description="true: accept the notice below; false: withdraw consent.")
    notice_version: int | None = Field(None, ge=1)
    notice_sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")


class ConsentEvent(BaseModel):
    accepted: bool
    notice_version: int | None
    notice_sha256: str | None
    at: datetime


class ConsentHistory(BaseModel):
    current: ConsentState
    history: list[ConsentEvent]


class ExemptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, max_length=2000,
                               description="Optional, in your words; shown to the privacy officer only.")


class ExemptionOut(BaseModel):
    id: str
    contributor_id: str
    reason: str | None
    status: Literal["pending", "approved", "denied"]
    requested_at: datetime
    decided_at: datetime | None


class ExemptionList(BaseModel):
    requests: list[ExemptionOut]


class PauseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    minutes: int | None = Field(None, ge=1, le=1440,
                                description="Default and maximum: the policy's pause cap.")


class CommandOut(BaseModel):
    id: int
    kind: Literal["pause", "resume"]
    until: datetime | None
    issued_at: datetime
    clipped: bool = False


class DeviceStateOut(BaseModel):
    device_id: str
    state: str
    paused_until: datetime | None
    gap_reason: str | None
    agent_version: str | None
    last_upload_at: datetime | None
    spool_bytes: int | None
    reported_at: datetime


class DeviceStateList(BaseModel):
    devices: list[DeviceStateOut]


class DeletionOut(BaseModel):
    deletion_id: str
    received_from: datetime | None
    received_to: datetime | None
    requested_at: datetime
    chunks_deleted: int


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: Literal["recording", "paused", "idle", "stopped", "not_running", "exempt"]
    paused_until: datetime | None = None
    gap_reason: str | None = Field(None, max_length=48, description="A reason code (docs/privacy.md).")
    agent_version: str | None = Field(None, max_length=32)
    last_upload_at: datetime | None = None
    spool_bytes: int | None = Field(None, ge=0)
    policy_sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$",
                                      description="The policy the device holds (its YAML is then omitted).")
    commands_after: int | None = Field(None, ge=0, description="commands_cursor from the previous sync; "
                                                               "omit on the first sync of an agent run.")


class SyncPolicy(BaseModel):
    version: int
    sha256: str
    yaml: str | None = Field(description="Null when the device already holds this version.")


class SyncNotice(BaseModel):
    version: int
    sha256: str


class SyncCommand(BaseModel):
    id: int
    kind: Literal["pause", "resume"]
    until: datetime | None
    issued_at: datetime


class SyncResponse(BaseModel):
    server_time: datetime
    capture_enabled: bool
    reason: Literal["dpia_pending", "no_policy", "exempt"] | None
    exempt: bool
    policy: SyncPolicy | None
    consent: ConsentState
    notice: SyncNotice
    commands: list[SyncCommand]
    commands_cursor: int


class DeletionEntry(BaseModel):
    deletion_id: str
    contributor_id: str
    received_from: datetime | None
    received_to: datetime | None
    requested_at: datetime
    chunk_ids: list[str]
    cursor: str


class DeletionPage(BaseModel):
    deletions: list[DeletionEntry]
    next: str | None


NoticeOut.model_rebuild()
