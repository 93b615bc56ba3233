"""The vocabulary of the authorisation model: principal types, roles, resources, actions and
purposes (the names are a contract with other packages, INTERFACES §1), and the two values
a decision is asked about: a :class:`Principal` and a :class:`Resource`."""

from __future__ import annotations

from dataclasses import dataclass

NAMESPACE = "Apprentice"

# Principal types, as Cedar entity types. Anonymous is a caller with no credentials.
PRINCIPAL_TYPES = (
    "Contributor", "PrivacyOfficer", "MlEngineer", "Operator", "Pipeline", "Device", "Anonymous",
)
# Account roles (bearer tokens) and the principal type each one acts as.
ROLES = {
    "contributor": "Contributor",
    "privacy_officer": "PrivacyOfficer",
    "ml_engineer": "MlEngineer",
    "operator": "Operator",
    "pipeline": "Pipeline",
}
RESOURCE_TYPES = (
    "RawChunk", "Episode", "Dataset", "Policy", "AuditLog", "ContributorRecord", "Device", "Health",
    # The governance workflow (docs/governance.md).
    "Dpia", "ExemptionRequest",
)
ACTIONS = (
    "read", "list", "write", "upload", "read_status", "purge", "read_activity", "read_public_key",
    "read_wrapped_key", "forget", "issue_enrolment_token", "list_tombstones", "exempt", "enrol",
    "revoke", "read_liveness", "read_metrics",
    # The governance workflow (docs/governance.md).
    "approve", "deny", "withdraw", "sync", "control", "consent", "export", "delete_data", "list_deletions",
)
PURPOSES = ("collection", "self_service", "governance", "operations", "processing", "model_training")


def role_principal_type(role: str) -> str:
    """The Cedar principal type of an account role; ValueError names the valid roles."""
    try:
        return ROLES[role]
    except KeyError:
        raise ValueError(f"unknown role {role!r}; choose from {sorted(ROLES)}") from None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who asks. ``contributor`` is the contributor a Contributor account or a Device acts for."""

    type: str
    id: str
    contributor: str | None = None

    def __post_init__(self) -> None:
        if self.type not in PRINCIPAL_TYPES:
            raise ValueError(f"unknown principal type {self.type!r}")

    @property
    def actor(self) -> str:
        """How the audit log names this principal (never a contributor id)."""
        if self.type == "Anonymous":
            return "anonymous"
        return ("device:" if self.type == "Device" else "account:") + self.id


@dataclass(frozen=True, slots=True)
class Resource:
    """What is asked about. ``owner`` is the contributor it belongs to (None for collections,
    health, policy and datasets); ``id`` is "*" for a collection."""

    type: str
    id: str = "*"
    owner: str | None = None

    def __post_init__(self) -> None:
        if self.type not in RESOURCE_TYPES:
            raise ValueError(f"unknown resource type {self.type!r}")

    def __str__(self) -> str:
        return f"{self.type}:{self.id}"
