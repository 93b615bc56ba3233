"""Who may do what, for which purpose: Cedar policies (``policies/*.cedar``, validated against
``policies/schema.cedarschema``) evaluated default-deny, forbid wins.

Layer: service. The collector (``server``) imports it; device-side code and the pipeline
never need it. The expected decision of every (principal, action, resource, purpose, owner)
cell is committed in ``expected_decisions.csv`` and tested exhaustively; see
docs/authorization.md.
"""

from apprentice.authz.decide import Authorizer, Decision
from apprentice.authz.grant import AccessGrant, check_grant
from apprentice.authz.loader import POLICY_FOLDER, PolicyBundle, load_policies, policy_problems
from apprentice.authz.model import (
    ACTIONS,
    PRINCIPAL_TYPES,
    PURPOSES,
    RESOURCE_TYPES,
    ROLES,
    Principal,
    Resource,
    role_principal_type,
)

__all__ = [
    "ACTIONS",
    "POLICY_FOLDER",
    "PRINCIPAL_TYPES",
    "PURPOSES",
    "RESOURCE_TYPES",
    "ROLES",
    "AccessGrant",
    "Authorizer",
    "Decision",
    "PolicyBundle",
    "Principal",
    "Resource",
    "check_grant",
    "load_policies",
    "policy_problems",
    "role_principal_type",
]
