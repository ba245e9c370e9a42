"""The guardrail catalogue: every rule's id, events, settings and plain-language risk.

Pure data, shared by the settings model (which validates per-rule options),
the rules, the CLI and, later, alerts and metrics. Rule ids are stable: they
name SSM parameters (``/<prefix>/rules/<id>/...``), metrics and alerts.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Mode(StrEnum):
    """What the enforcer does with a rule's findings."""

    OFF = "off"
    ALERT = "alert"
    REMEDIATE = "remediate"


class OptionSpec(NamedTuple):
    """One per-rule setting: a list of patterns, or one choice among fixed values."""

    kind: str  # "patterns" | "choice"
    default: tuple[str, ...] | str
    doc: str
    choices: tuple[str, ...] = ()


class RuleSpec(NamedTuple):
    """What a rule guards and how operators tune it."""

    id: str
    title: str
    event_source: str
    event_names: frozenset[str]
    risk: str
    options: Mapping[str, OptionSpec] = MappingProxyType({})


COMMON_OPTIONS: Mapping[str, OptionSpec] = {
    "mode": OptionSpec("choice", Mode.ALERT.value, "off, alert or remediate", tuple(m.value for m in Mode)),
    "allow_actors": OptionSpec(
        "patterns", (), "ARN patterns of callers (user, role or session issuer) whose changes are accepted"
    ),
    "allow_resources": OptionSpec("patterns", (), "ARN patterns of resources this rule leaves alone"),
}

#: Basic execution policies that service roles legitimately need (AWS-managed, narrowly scoped).
DEFAULT_ALLOWED_MANAGED_POLICIES = (
    "service-role/AWSLambdaBasicExecutionRole",
    "service-role/AWSLambdaVPCAccessExecutionRole",
    "service-role/AWSLambdaSQSQueueExecutionRole",
    "service-role/AWSLambdaKinesisExecutionRole",
    "service-role/AWSLambdaDynamoDBExecutionRole",
    "AWSXRayDaemonWriteAccess",
    "AWSXrayWriteOnlyAccess",
    "service-role/AmazonECSTaskExecutionRolePolicy",
    "service-role/AmazonEC2ContainerServiceforEC2Role",
    "AmazonSSMManagedInstanceCore",
)

IAM_USER_CREATED = RuleSpec(
    id="iam-user-created",
    title="IAM user created",
    event_source="iam.amazonaws.com",
    event_names=frozenset({"CreateUser"}),
    risk=(
        "IAM users carry long-lived passwords and access keys that leak and never expire; "
        "this organisation gives people and workloads roles through federation instead."
    ),
    options={
        "allow_paths": OptionSpec("patterns", (), "user path prefixes that may hold users, e.g. /service-accounts/"),
        "allow_names": OptionSpec("patterns", (), "user name patterns that may be created, e.g. svc-smtp-*"),
        "remediation": OptionSpec(
            "choice",
            "quarantine",
            "quarantine (reversible: deny-all policy, keys off, no console) or delete (irreversible)",
            ("quarantine", "delete"),
        ),
    },
)

MANAGED_POLICY_ATTACHED = RuleSpec(
    id="managed-policy-attached",
    title="AWS-managed policy attached",
    event_source="iam.amazonaws.com",
    event_names=frozenset({"AttachRolePolicy", "AttachUserPolicy", "AttachGroupPolicy"}),
    risk=(
        "AWS-managed policies grant whole services on every resource in the account, "
        "far more than any one application needs."
    ),
    options={
        "allow_policies": OptionSpec(
            "patterns",
            DEFAULT_ALLOWED_MANAGED_POLICIES,
            "AWS-managed policies that may be attached, by name or path/name "
            "(e.g. service-role/AWSLambdaBasicExecutionRole)",
        ),
    },
)

S3_BUCKET_POLICY_PUBLIC = RuleSpec(
    id="s3-bucket-policy-public",
    title="Bucket policy open to the public",
    event_source="s3.amazonaws.com",
    event_names=frozenset({"PutBucketPolicy"}),
    risk="A bucket policy that lets in everyone exposes the bucket's data to anyone on the internet.",
)

S3_BUCKET_POLICY_CROSS_ACCOUNT = RuleSpec(
    id="s3-bucket-policy-cross-account",
    title="Bucket policy shared with an untrusted account",
    event_source="s3.amazonaws.com",
    event_names=frozenset({"PutBucketPolicy"}),
    risk=(
        "A bucket policy that lets in accounts outside the organisation hands the data to people "
        "this organisation does not control and cannot audit."
    ),
)

_DELETE_VERSION = OptionSpec(
    "choice",
    "keep",
    "keep (only set the previous default back) or delete (also delete the offending version)",
    ("keep", "delete"),
)

INLINE_POLICY_ADMIN = RuleSpec(
    id="inline-policy-admin",
    title="Admin-equivalent inline policy",
    event_source="iam.amazonaws.com",
    event_names=frozenset({"PutRolePolicy", "PutUserPolicy", "PutGroupPolicy"}),
    risk=(
        "An inline policy that allows everything, all of IAM, or whole services on every resource makes its "
        "holder an administrator, outside any reviewed managed policy."
    ),
)

POLICY_VERSION_ADMIN = RuleSpec(
    id="policy-version-admin",
    title="Managed policy version made admin-equivalent",
    event_source="iam.amazonaws.com",
    event_names=frozenset({"CreatePolicyVersion", "SetDefaultPolicyVersion"}),
    risk=(
        "A new default version of a customer-managed policy silently changes the access of every role, user "
        "and group it is attached to."
    ),
    options={"delete_version": _DELETE_VERSION},
)

PRIVILEGE_ESCALATION = RuleSpec(
    id="privilege-escalation",
    title="Privilege escalation path granted",
    event_source="iam.amazonaws.com",
    event_names=frozenset(
        {
            "PutRolePolicy",
            "PutUserPolicy",
            "PutGroupPolicy",
            "CreatePolicyVersion",
            "SetDefaultPolicyVersion",
            "AttachRolePolicy",
            "AttachUserPolicy",
            "AttachGroupPolicy",
        }
    ),
    risk=(
        "A known privilege-escalation permission set lets its holder grant itself more access, up to "
        "administrator, without anyone granting it."
    ),
    options={"delete_version": _DELETE_VERSION},
)

ACCESS_KEY_CREATED = RuleSpec(
    id="access-key-created",
    title="Access key created for an IAM user",
    event_source="iam.amazonaws.com",
    event_names=frozenset({"CreateAccessKey"}),
    risk="Access keys are long-lived credentials that leak and keep working until someone deactivates them.",
)

LOGIN_PROFILE_CREATED = RuleSpec(
    id="login-profile-created",
    title="Console password set for an IAM user",
    event_source="iam.amazonaws.com",
    event_names=frozenset({"CreateLoginProfile", "UpdateLoginProfile"}),
    risk="A console password for an IAM user is a long-lived credential outside single sign-on and its MFA.",
)

TRUST_POLICY_UNTRUSTED = RuleSpec(
    id="trust-policy-untrusted",
    title="Role trust policy lets in outsiders",
    event_source="iam.amazonaws.com",
    event_names=frozenset({"CreateRole", "UpdateAssumeRolePolicy"}),
    risk=(
        "A role whose trust policy lets in everyone, accounts outside the organisation, a vendor without an "
        "external id, or any workload of an identity provider hands the role's permissions to strangers."
    ),
    options={
        "third_party_accounts": OptionSpec(
            "patterns",
            (),
            "12-digit ids of vendor accounts that may assume roles, each only with an sts:ExternalId condition",
        ),
    },
)

S3_ACL_PUBLIC = RuleSpec(
    id="s3-acl-public",
    title="Bucket or object ACL open to the public",
    event_source="s3.amazonaws.com",
    event_names=frozenset({"PutBucketAcl", "PutObjectAcl"}),
    risk=(
        "An ACL grant to AllUsers or AuthenticatedUsers lets anyone on the internet, or anyone with any AWS "
        "account, use the bucket or object."
    ),
)

S3_PUBLIC_ACCESS_BLOCK_DISABLED = RuleSpec(
    id="s3-public-access-block-disabled",
    title="S3 Block Public Access turned off",
    event_source="s3.amazonaws.com",
    event_names=frozenset(
        {
            "PutBucketPublicAccessBlock",
            "DeleteBucketPublicAccessBlock",
            "PutAccountPublicAccessBlock",
            "DeleteAccountPublicAccessBlock",
        }
    ),
    risk=(
        "Block Public Access is the safety net that stops any policy or ACL from making data public; "
        "with it off, one mistaken grant exposes the data."
    ),
)

RULES: Mapping[str, RuleSpec] = {
    spec.id: spec
    for spec in (
        IAM_USER_CREATED,
        MANAGED_POLICY_ATTACHED,
        S3_BUCKET_POLICY_PUBLIC,
        S3_BUCKET_POLICY_CROSS_ACCOUNT,
        INLINE_POLICY_ADMIN,
        POLICY_VERSION_ADMIN,
        PRIVILEGE_ESCALATION,
        ACCESS_KEY_CREATED,
        LOGIN_PROFILE_CREATED,
        TRUST_POLICY_UNTRUSTED,
        S3_ACL_PUBLIC,
        S3_PUBLIC_ACCESS_BLOCK_DISABLED,
    )
}


def options_of(rule_id: str) -> Mapping[str, OptionSpec]:
    """All settings of a rule: the common ones plus its own."""
    return {**COMMON_OPTIONS, **RULES[rule_id].options}
