"""The guardrails, indexed by the CloudTrail events they judge, and what is derived from them.

Everything else (settings, alerts, the template's rules and grants, the README table) reads
the guardrails from here: ``GUARDRAILS``, ``RULES`` (rule id to spec) and ``STEP_PERMISSIONS``.
"""

from __future__ import annotations

from collections.abc import Mapping

from iamwarden.domain.catalog import RULES
from iamwarden.domain.findings import STEP_PERMISSIONS
from iamwarden.guardrails.actions import ACTIONS
from iamwarden.guardrails.base import Evaluation, Guardrail, RuleContext
from iamwarden.guardrails.bucket_policy import BucketPolicyRule
from iamwarden.guardrails.credentials import AccessKeyCreatedRule, LoginProfileRule
from iamwarden.guardrails.iam_user import IamUserCreatedRule
from iamwarden.guardrails.identity_policy import CustomerPolicyAttachedRule, InlinePolicyRule, PolicyVersionRule
from iamwarden.guardrails.managed_policy import ManagedPolicyAttachedRule
from iamwarden.guardrails.public_access_block import PublicAccessBlockRule
from iamwarden.guardrails.s3_acl import S3AclRule
from iamwarden.guardrails.trust_policy import TrustPolicyRule

GUARDRAILS: tuple[Guardrail, ...] = (
    IamUserCreatedRule(),
    ManagedPolicyAttachedRule(),
    BucketPolicyRule(),
    InlinePolicyRule(),
    PolicyVersionRule(),
    CustomerPolicyAttachedRule(),
    AccessKeyCreatedRule(),
    LoginProfileRule(),
    TrustPolicyRule(),
    S3AclRule(),
    PublicAccessBlockRule(),
)


def _index(guardrails: tuple[Guardrail, ...]) -> Mapping[tuple[str, str], tuple[Guardrail, ...]]:
    index: dict[tuple[str, str], list[Guardrail]] = {}
    for guardrail in guardrails:
        # A guardrail may judge fewer events than its specs name (a rule shared by several guardrails).
        events = getattr(guardrail, "event_keys", None) or {
            (spec.event_source, name) for spec in guardrail.specs for name in spec.event_names
        }
        for event in events:
            index.setdefault(event, []).append(guardrail)
    return {event: tuple(found) for event, found in index.items()}


GUARDRAILS_BY_EVENT = _index(GUARDRAILS)

#: What undoing each remediation action calls (``iamwarden undo`` runs with the operator's credentials).
UNDO_PERMISSIONS: Mapping[str, tuple[str, ...]] = {name: action.undo_permissions for name, action in ACTIONS.items()}

__all__ = [
    "ACTIONS",
    "GUARDRAILS",
    "GUARDRAILS_BY_EVENT",
    "RULES",
    "STEP_PERMISSIONS",
    "UNDO_PERMISSIONS",
    "Evaluation",
    "Guardrail",
    "RuleContext",
]
