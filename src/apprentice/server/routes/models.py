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
