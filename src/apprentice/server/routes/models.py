"""Request and response bodies of the JSON API (the OpenAPI schemas come from here)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contributor_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    ttl_s: int = Field(24 * 3600, ge=60, le=30 * 24 * 3600)


class TokenResponse(BaseModel):
    token: str
    contributor_id: str
    expires_at: datetime


class EnrolRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=128)
    device_public_key: str = Field(min_length=1, max_length=64, description="Ed25519, base64url")


class EnrolResponse(BaseModel):
    device_id: str
    contributor_id: str
    key_id: str
    contributor_public_key: str = Field(description="X25519, base64url; seal every chunk to it")


class DeviceKeyResponse(BaseModel):
    contributor_id: str
    key_id: str
    contributor_public_key: str


class ChunkReceipt(BaseModel):
    chunk_id: str
    stored: bool
    created: bool = Field(description="False when the chunk had already been stored (a retry)")


class TombstoneResponse(BaseModel):
    contributor_id: str
    forgotten_at: datetime
    chunks_deleted: int


class PurgeResponse(BaseModel):
    chunks_deleted: int


class HealthResponse(BaseModel):
    status: str
    database: str


class DeviceSummary(BaseModel):
    device_id: str
    enrolled_at: datetime
    revoked_at: datetime | None


class ContributorRecordResponse(BaseModel):
    """What the privacy officer (or the contributor) sees about a contributor: metadata, no
    activity figures."""

    contributor_id: str
    created_at: datetime
    key_present: bool
    forgotten_at: datetime | None
    devices: list[DeviceSummary]


class ActivitySummary(BaseModel):
    chunks: int
    bytes: int
    last_received_at: datetime | None


class MeResponse(BaseModel):
    """A contributor about themselves: their record and their own upload figures."""

    account_id: str
    contributor_id: str
    record: ContributorRecordResponse | None
    activity: ActivitySummary


class ChunkMeta(BaseModel):
    chunk_id: str
    device_id: str
    size: int
    received_at: datetime
    cursor: str


class ChunkMetaPage(BaseModel):
    chunks: list[ChunkMeta]
    next: str | None


class PipelineChunk(BaseModel):
    chunk_id: str
    contributor_id: str
    device_id: str
    key_id: str
    size: int
    received_at: datetime
    cursor: str


class PipelineChunkPage(BaseModel):
    chunks: list[PipelineChunk]
    next: str | None


class PipelineKey(BaseModel):
    contributor_id: str
    key_id: str
    wrapped_private_key: str = Field(description="base64url, no padding; only the pipeline can unwrap it")


class TombstoneEntry(BaseModel):
    contributor_id: str
    forgotten_at: datetime


class TombstoneList(BaseModel):
    tombstones: list[TombstoneEntry]
