"""What the guardrails decide, as data: verdicts, findings and remediation plans.

Rules only decide; an executor (the enforcer) acts. A plan is a list of
``RemediationStep``s naming the action, the exact target and parameters, and
each action declares the IAM permissions it needs so the enforcer's own role
can be checked to grant exactly their union.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple

from iamwarden.domain.catalog import Mode, Severity
from iamwarden.domain.events import Actor, CloudTrailChange


class Verdict(StrEnum):
    VIOLATION = "violation"
    COMPLIANT = "compliant"
    IGNORED = "ignored"
    INVALID = "invalid"


class Outcome(StrEnum):
    """What became of a finding; every outcome is alerted."""

    ALERTED = "alerted"  # alert mode: nothing changed; the plan says what remediate mode would do
    REMEDIATED = "remediated"  # the plan ran and the live state is fixed (or already was)
    REMEDIATION_FAILED = "remediation_failed"  # part or all of the plan failed; the audit record says which
    NOTEWORTHY = "noteworthy"  # ignored but worth telling, e.g. a break-glass principal's change
    CONFIGURATION_ERROR = "configuration_error"  # a setting is invalid; its rule fell back to alert
    REJECTED = "rejected"  # the event names another account than its own (forged or misrouted); nothing done
    CIRCUIT_BREAKER_TRIPPED = "circuit_breaker_tripped"  # too many remediations too fast: now alert-only


class StepAction(StrEnum):
    """Remediation actions, each with the IAM actions it needs (``permissions``)."""

    QUARANTINE_USER = "quarantine_user"
    DELETE_USER = "delete_user"
    DETACH_MANAGED_POLICY = "detach_managed_policy"
    REMOVE_BUCKET_POLICY_STATEMENTS = "remove_bucket_policy_statements"
    DELETE_INLINE_POLICY = "delete_inline_policy"
    RESTORE_DEFAULT_POLICY_VERSION = "restore_default_policy_version"
    DEACTIVATE_ACCESS_KEY = "deactivate_access_key"
    DELETE_LOGIN_PROFILE = "delete_login_profile"
    RESTORE_TRUST_POLICY = "restore_trust_policy"
    REMOVE_PUBLIC_ACL_GRANTS = "remove_public_acl_grants"
    RESTORE_PUBLIC_ACCESS_BLOCK = "restore_public_access_block"

    @property
    def permissions(self) -> tuple[str, ...]:
        return STEP_PERMISSIONS[self]


STEP_PERMISSIONS: Mapping[StepAction, tuple[str, ...]] = {
    StepAction.QUARANTINE_USER: (
        "iam:GetUser",
        "iam:GetUserPolicy",
        "iam:PutUserPolicy",
        "iam:ListAccessKeys",
        "iam:UpdateAccessKey",
        "iam:GetLoginProfile",
        "iam:DeleteLoginProfile",
        "iam:TagUser",
    ),
    StepAction.DELETE_USER: (
        "iam:GetUser",
        "iam:ListAccessKeys",
        "iam:DeleteAccessKey",
        "iam:GetLoginProfile",
        "iam:DeleteLoginProfile",
        "iam:ListMFADevices",
        "iam:DeactivateMFADevice",
        "iam:DeleteVirtualMFADevice",
        "iam:ListSigningCertificates",
        "iam:DeleteSigningCertificate",
        "iam:ListSSHPublicKeys",
        "iam:DeleteSSHPublicKey",
        "iam:ListServiceSpecificCredentials",
        "iam:DeleteServiceSpecificCredential",
        "iam:ListGroupsForUser",
        "iam:RemoveUserFromGroup",
        "iam:ListUserPolicies",
        "iam:GetUserPolicy",
        "iam:DeleteUserPolicy",
        "iam:ListAttachedUserPolicies",
        "iam:DetachUserPolicy",
        "iam:DeleteUser",
    ),
    StepAction.DETACH_MANAGED_POLICY: (
        "iam:ListAttachedRolePolicies",
        "iam:ListAttachedUserPolicies",
        "iam:ListAttachedGroupPolicies",
        "iam:DetachRolePolicy",
        "iam:DetachUserPolicy",
        "iam:DetachGroupPolicy",
    ),
    StepAction.REMOVE_BUCKET_POLICY_STATEMENTS: ("s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"),
    StepAction.DELETE_INLINE_POLICY: (
        "iam:GetRolePolicy",
        "iam:GetUserPolicy",
        "iam:GetGroupPolicy",
        "iam:DeleteRolePolicy",
        "iam:DeleteUserPolicy",
        "iam:DeleteGroupPolicy",
    ),
    StepAction.RESTORE_DEFAULT_POLICY_VERSION: (
        "iam:GetPolicy",
        "iam:ListPolicyVersions",
        "iam:GetPolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:DeletePolicyVersion",
    ),
    StepAction.DEACTIVATE_ACCESS_KEY: ("iam:ListAccessKeys", "iam:UpdateAccessKey"),
    StepAction.DELETE_LOGIN_PROFILE: ("iam:GetLoginProfile", "iam:DeleteLoginProfile"),
    StepAction.RESTORE_TRUST_POLICY: ("iam:GetRole", "iam:UpdateAssumeRolePolicy"),
    StepAction.REMOVE_PUBLIC_ACL_GRANTS: (
        "s3:GetBucketOwnershipControls",
        "s3:GetBucketAcl",
        "s3:PutBucketAcl",
        "s3:GetObjectAcl",
        "s3:PutObjectAcl",
    ),
    # The IAM actions behind S3's Get/Put/DeletePublicAccessBlock calls (bucket) and S3 Control's (account).
    StepAction.RESTORE_PUBLIC_ACCESS_BLOCK: (
        "s3:GetBucketPublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
        "s3:GetAccountPublicAccessBlock",
        "s3:PutAccountPublicAccessBlock",
    ),
}


class RemediationStep(NamedTuple):
    """One action of a plan against one exact target."""

    action: StepAction
    target: str
    parameters: Mapping[str, Any] = MappingProxyType({})
    summary: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RemediationStep:
        """Read back ``to_dict`` (from the audit trail)."""
        return cls(StepAction(data["action"]), data["target"], dict(data["parameters"]), data.get("summary", ""))

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "target": self.target,
            "parameters": dict(self.parameters),
            "summary": self.summary,
        }


class Finding(NamedTuple):
    """One guardrail violation by one change, with the plan that would undo it."""

    rule_id: str
    severity: Severity
    resource_arn: str
    account: str
    region: str
    actor: Actor
    event_id: str
    event_name: str
    reason: str
    mode: Mode
    plan: tuple[RemediationStep, ...] = ()
    offending: tuple[Mapping[str, Any], ...] = ()
    alert_only: bool = False

    @property
    def finding_id(self) -> str:
        """Stable id: the same CloudTrail event and rule always give the same finding id."""
        return hashlib.sha256(f"{self.event_id}/{self.rule_id}".encode()).hexdigest()[:20]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], actor: Actor) -> Finding:
        """Read back ``to_dict`` (from the audit trail); the actor comes from the event, which has it whole."""
        return cls(
            rule_id=data["rule"],
            severity=Severity(data["severity"]),
            resource_arn=data["resource"],
            account=data["account"],
            region=data["region"],
            actor=actor,
            event_id=data["event_id"],
            event_name=data["event_name"],
            reason=data["reason"],
            mode=Mode(data["mode"]),
            plan=tuple(RemediationStep.from_dict(step) for step in data.get("plan", ())),
            offending=tuple(data.get("offending", ())),
            alert_only=bool(data.get("alert_only", False)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "finding_id": self.finding_id,
            "rule": self.rule_id,
            "severity": self.severity.value,
            "resource": self.resource_arn,
            "account": self.account,
            "region": self.region,
            "actor": self.actor.display,
            "event_id": self.event_id,
            "event_name": self.event_name,
            "reason": self.reason,
            "mode": self.mode.value,
            "alert_only": self.alert_only,
            "offending": [dict(item) for item in self.offending],
            "plan": [step.to_dict() for step in self.plan],
        }


class Judgement(NamedTuple):
    """The verdict on one event: why, and the findings (empty unless something offends)."""

    verdict: Verdict
    reason: str
    change: CloudTrailChange | None = None
    findings: tuple[Finding, ...] = ()
    rule_ids: tuple[str, ...] = ()
    resource_arn: str | None = None
    #: The event names an account other than its own (forged or misrouted): alerted as a security event.
    rejected: bool = False
    #: Rules that could not judge the change because what they need could not be read live (a permanent
    #: AWS error such as AccessDenied): each says what and why, has no plan, and is alerted, never acted on.
    unjudged: tuple[Finding, ...] = ()
