"""Write what follows from the guardrail registry into the templates and the README, between markers.

    .venv/bin/python tools/generate.py           # rewrite every generated block
    .venv/bin/python tools/generate.py --check   # exit 1 naming each stale block (tests/unit/test_generated.py)

Both exit 2, writing nothing, when the registry asks for what the generator cannot write (see below).

A block sits between ``# BEGIN GENERATED: <name> (tools/generate.py; do not edit)`` and
``# END GENERATED: <name>`` (``<!-- ... -->`` in Markdown); everything outside the markers is left as
it is, comments included. The blocks are rendered from ``iamwarden.guardrails.registry`` only:

* ``template.yaml``: the enforcer's EventBridge rules on the central bus (one per guardrail, from the
  events it judges), the SSM mode and choice-option parameters of every rule, and the enforcer role's
  ``enforcer-remediations`` statements (the union of ``STEP_PERMISSIONS``),
  split into customer-managed policies (``EnforcerRemediations1``, ...) that fit IAM's size limits, and the
  heartbeat's ``IAMWARDEN_ENFORCER_POLICY_ARNS`` (``enforcer-policy-arns``: the ones the role may hold; the
  enforcer's own copy, ``own-policies``, also makes the function depend on them);
* ``template.yaml`` and ``member/template.yaml``: the forwarders' event patterns (every guarded event source,
  and the guarded data events by name);
* ``member/template.yaml``: the remediation role's ``enforcer-remediations`` statements (the same union, as
  managed policies ``RemediationPolicy1``, ...);
* ``README.md``: the guardrail table and the remediation actions table; the hand-written table of what each
  rule flags is checked to name exactly the registry's rules;
* ``layers/core/iamwarden/guardrails/index.py``: what the registry needs before it imports a guardrail module
  (every spec, the modules judging each event, each action's module), so a cold enforcer imports only the
  modules of the event it judges.

What the registry does not say lives in the tables below, keyed by rule id, IAM action or event: where each
IAM action may act (``SCOPES``: resources and conditions), the historical names and request filters of the
rules (``ROUTES``), which events are data events (``DATA_EVENTS``) and which services are global
(``GLOBAL_SOURCES``). A step that declares an IAM action no scope covers, or two guardrails that would
route one event twice, stop the generator with an error naming it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "core"))

from samtranslator.yaml_helper import yaml_parse  # noqa: E402

from iamwarden.domain import own  # noqa: E402
from iamwarden.domain.catalog import OptionSpec, RuleSpec  # noqa: E402
from iamwarden.domain.declared_content import MEMBER_TEMPLATE_PARAMETERS  # noqa: E402
from iamwarden.domain.events import CLOUDTRAIL_API_CALL, CLOUDTRAIL_SERVICE_EVENT  # noqa: E402
from iamwarden.guardrails import registry  # noqa: E402
from iamwarden.guardrails.tampering import RULE_EVENTS  # noqa: E402

# Every module, imported without checking it against the generated index: the generator is what rewrites a
# stale index, so it reads the modules themselves (registry.GUARDRAILS, .MODULES, ... then come from them).
registry.load_all(check=False)

TOOL = "tools/generate.py"
LINE_LENGTH = 120


class GenerationError(Exception):
    """The registry asks for something the generator cannot write (an unscoped permission, a double route)."""


# --- where remediations may act -------------------------------------------------------------------------

_ACCOUNT_ARN = "!Sub arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:{}"
USERS = _ACCOUNT_ARN.format("user/*")
GROUPS = _ACCOUNT_ARN.format("group/*")
ROLES = _ACCOUNT_ARN.format("role/*")
POLICIES = _ACCOUNT_ARN.format("policy/*")
INSTANCE_PROFILES = _ACCOUNT_ARN.format("instance-profile/*")
MFA_DEVICES = _ACCOUNT_ARN.format("mfa/*")
OIDC_PROVIDERS = _ACCOUNT_ARN.format("oidc-provider/*")
SAML_PROVIDERS = _ACCOUNT_ARN.format("saml-provider/*")
BUCKETS = "!Sub arn:${AWS::Partition}:s3:::*"
OBJECTS = "!Sub arn:${AWS::Partition}:s3:::*/*"
ANY = '"*"'
QUEUES = "!Sub arn:${AWS::Partition}:sqs:*:${AWS::AccountId}:*"
TOPICS = "!Sub arn:${AWS::Partition}:sns:*:${AWS::AccountId}:*"
FUNCTIONS = "!Sub arn:${AWS::Partition}:lambda:*:${AWS::AccountId}:function:*"
LAYER_VERSIONS = "!Sub arn:${AWS::Partition}:lambda:*:${AWS::AccountId}:layer:*:*"
KEYS = "!Sub arn:${AWS::Partition}:kms:*:${AWS::AccountId}:key/*"
SECRETS = "!Sub arn:${AWS::Partition}:secretsmanager:*:${AWS::AccountId}:secret:*"
REPOSITORIES = "!Sub arn:${AWS::Partition}:ecr:*:${AWS::AccountId}:repository/*"
EVENT_BUSES = "!Sub arn:${AWS::Partition}:events:*:${AWS::AccountId}:event-bus/*"
EBS_SNAPSHOTS = "!Sub arn:${AWS::Partition}:ec2:*::snapshot/*"
IMAGES = "!Sub arn:${AWS::Partition}:ec2:*::image/*"
DB_SNAPSHOTS = "!Sub arn:${AWS::Partition}:rds:*:${AWS::AccountId}:snapshot:*"
ACCESS_POINTS = "!Sub arn:${AWS::Partition}:s3:*:${AWS::AccountId}:accesspoint/*"
#: Multi-Region Access Points have no Region in their ARN (accesspoint/ALIAS); every call is served in us-west-2.
MULTI_REGION_ACCESS_POINTS = "!Sub arn:${AWS::Partition}:s3::${AWS::AccountId}:accesspoint/*"
OBJECT_LAMBDA_ACCESS_POINTS = "!Sub arn:${AWS::Partition}:s3-object-lambda:*:${AWS::AccountId}:accesspoint/*"
DYNAMODB_TABLES = "!Sub arn:${AWS::Partition}:dynamodb:*:${AWS::AccountId}:table/*"
EFS_FILE_SYSTEMS = "!Sub arn:${AWS::Partition}:elasticfilesystem:*:${AWS::AccountId}:file-system/*"
OPENSEARCH_DOMAINS = "!Sub arn:${AWS::Partition}:es:*:${AWS::AccountId}:domain/*"
BACKUP_VAULTS = "!Sub arn:${AWS::Partition}:backup:*:${AWS::AccountId}:backup-vault:*"
DB_CLUSTER_SNAPSHOTS = "!Sub arn:${AWS::Partition}:rds:*:${AWS::AccountId}:cluster-snapshot:*"
# Glacier vaults and CloudWatch Logs destinations.
GLACIER_VAULTS = "!Sub arn:${AWS::Partition}:glacier:*:${AWS::AccountId}:vaults/*"
LOG_DESTINATIONS = "!Sub arn:${AWS::Partition}:logs:*:${AWS::AccountId}:destination:*"
TRAILS = "!Sub arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*"
DETECTORS = "!Sub arn:${AWS::Partition}:guardduty:*:${AWS::AccountId}:detector/*"
#: GuardDuty filters (the Service Authorization Reference's ``filter`` resource type, under their detector).
GUARDDUTY_FILTERS = "!Sub arn:${AWS::Partition}:guardduty:*:${AWS::AccountId}:detector/*/filter/*"
#: GuardDuty publishing destinations (the Service Authorization Reference's ``publishingDestination`` resource type).
GUARDDUTY_PUBLISHING_DESTINATIONS = (
    "!Sub arn:${AWS::Partition}:guardduty:*:${AWS::AccountId}:detector/*/publishingdestination/*"
)
HUBS = "!Sub arn:${AWS::Partition}:securityhub:*:${AWS::AccountId}:hub/default"
AUTOMATION_RULES = "!Sub arn:${AWS::Partition}:securityhub:*:${AWS::AccountId}:automation-rule/*"
#: Security Hub V2 automation rules (the Service Authorization Reference's ``automation-rulev2`` resource type).
AUTOMATION_RULES_V2 = "!Sub arn:${AWS::Partition}:securityhub:*:${AWS::AccountId}:automation-rulev2/*"
EVENT_DATA_STORES = "!Sub arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:eventdatastore/*"
TRUST_ANCHORS = "!Sub arn:${AWS::Partition}:rolesanywhere:*:${AWS::AccountId}:trust-anchor/*"
ROLES_ANYWHERE_PROFILES = "!Sub arn:${AWS::Partition}:rolesanywhere:*:${AWS::AccountId}:profile/*"
#: Identity Center ARNs carry no account: the instance is the organisation's (in its management account).
SSO_INSTANCES = "!Sub arn:${AWS::Partition}:sso:::instance/*"
SSO_PERMISSION_SETS = "!Sub arn:${AWS::Partition}:sso:::permissionSet/*"
SSO_ACCOUNTS = "!Sub arn:${AWS::Partition}:sso:::account/*"
#: Identity Store: the store's ARN carries the account that holds it; its groups, users and memberships carry none.
#: Any account: an organisation instance's store is the management account's, which a delegated administrator
#: names in its calls (the Service Authorization Reference: identitystore::${Account}:identitystore/${IdentityStoreId}).
IDENTITY_STORES = "!Sub arn:${AWS::Partition}:identitystore::*:identitystore/*"
IDENTITY_STORE_GROUPS = "!Sub arn:${AWS::Partition}:identitystore:::group/*"
IDENTITY_STORE_USERS = "!Sub arn:${AWS::Partition}:identitystore:::user/*"
IDENTITY_STORE_MEMBERSHIPS = "!Sub arn:${AWS::Partition}:identitystore:::membership/*"


class Condition(NamedTuple):
    operator: str
    key: str
    value: str


#: Bucket ARNs carry no account: the owner's account is a condition instead.
OWNED_BY_THIS_ACCOUNT = Condition("StringEquals", "s3:ResourceAccount", "!Ref AWS::AccountId")
#: EC2 snapshot and image ARNs carry no account either: ``ec2:Owner`` is the owning account.
OWNED_BY_THIS_ACCOUNT_EC2 = Condition("StringEquals", "ec2:Owner", "!Ref AWS::AccountId")


class Scope(NamedTuple):
    """One policy statement: the IAM actions it may grant, on which resources, under which condition.

    A statement grants the actions of ``actions`` that some remediation step declares (in this order), and is
    left out when none does. An action may sit in several scopes (it is then granted on each).
    """

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    condition: Condition | None = None
    comment: str = ""
    #: Granted in the security account only (what IAM Warden's own functions and settings there need).
    central_only: bool = False
    #: A template condition the statement is granted under (``!If [it, statement, !Ref AWS::NoValue]``), and the
    #: remediation steps that need it: any other step declaring one of its actions needs an unconditional scope.
    template_condition: str | None = None
    only_for: tuple[str, ...] = ()


#: The template parameter that grants deleting IAM users (``iam-user-created`` with ``remediation: delete``).
USER_DELETION = "AllowsUserDeletion"


SECRETS_SOURCE = "secretsmanager.amazonaws.com"
#: IAM Warden's Slack credentials (template.yaml): logical id and the exact name the template gives each. The
#: signing secret authenticates the Slack interaction endpoint (undo and exception buttons): a new value of it
#: lets anyone forge a click.
OWN_SECRETS = (
    ("SecuritySlackWebhookSecret", "iamwarden/slack/security"),
    ("SlackBotTokenSecret", "iamwarden/slack/bot"),
    ("SlackSigningSecret", "iamwarden/slack/signing"),
)


SCOPES: tuple[Scope, ...] = (
    Scope(
        "QuarantineUsers",
        (
            "iam:GetUser",
            "iam:ListUserTags",
            "iam:GetUserPolicy",
            "iam:PutUserPolicy",
            "iam:ListAccessKeys",
            "iam:UpdateAccessKey",
            "iam:GetLoginProfile",
            "iam:DeleteLoginProfile",
            "iam:TagUser",
            "iam:DeleteUserPermissionsBoundary",
            "iam:UntagUser",
        ),
        (USERS,),
    ),
    Scope(
        "DeactivateUserCredentials",
        (
            "iam:ListSSHPublicKeys",
            "iam:UpdateSSHPublicKey",
            "iam:ListSigningCertificates",
            "iam:UpdateSigningCertificate",
            "iam:ListServiceSpecificCredentials",
            "iam:UpdateServiceSpecificCredential",
        ),
        (USERS,),
        comment="user-credential-created and remediation-reversed deactivate exactly the credential an event added.",
    ),
    Scope(
        "DeleteUsers",
        (
            "iam:DeleteAccessKey",
            "iam:ListMFADevices",
            "iam:DeactivateMFADevice",
            "iam:ListSigningCertificates",
            "iam:DeleteSigningCertificate",
            "iam:ListSSHPublicKeys",
            "iam:DeleteSSHPublicKey",
            "iam:ListServiceSpecificCredentials",
            "iam:DeleteServiceSpecificCredential",
            "iam:ListGroupsForUser",
            "iam:ListUserPolicies",
            "iam:DeleteUserPolicy",
            "iam:DetachUserPolicy",
            "iam:DeleteUser",
        ),
        (USERS,),
        comment="Delete mode (UserRemediation=delete) removes everything that blocks DeleteUser, then the user.",
        template_condition=USER_DELETION,
        only_for=("delete_user",),
    ),
    Scope(
        "RemoveDeletedUsersFromGroups",
        ("iam:RemoveUserFromGroup",),
        (USERS, GROUPS),
        comment="The only user action that names a group: leaving it before DeleteUser.",
        template_condition=USER_DELETION,
        only_for=("delete_user",),
    ),
    Scope(
        "ListGroupsOfUsers",
        ("iam:ListGroupsForUser",),
        (USERS,),
        comment="group-membership-escalation checks the membership is still there before and after removing it.",
    ),
    Scope(
        "RemoveEscalatingGroupMemberships",
        ("iam:RemoveUserFromGroup",),
        (GROUPS,),
        comment="group-membership-escalation removes exactly the membership the event added (the action's resource "
        "is the group).",
    ),
    Scope(
        "DeleteVirtualMfaDevices",
        ("iam:DeleteVirtualMFADevice",),
        (MFA_DEVICES,),
        template_condition=USER_DELETION,
        only_for=("delete_user",),
    ),
    Scope(
        "ListAttachedPolicies",
        ("iam:ListAttachedRolePolicies", "iam:ListAttachedUserPolicies", "iam:ListAttachedGroupPolicies"),
        (ROLES, USERS, GROUPS),
    ),
    Scope(
        "DetachAwsManagedPolicies",
        ("iam:DetachRolePolicy", "iam:DetachUserPolicy", "iam:DetachGroupPolicy"),
        (ROLES, USERS, GROUPS),
        Condition("ArnLike", "iam:PolicyARN", "!Sub arn:${AWS::Partition}:iam::aws:policy/*"),
        comment="Only AWS-managed policies are ever detached: customer-managed ones are out of reach.",
    ),
    Scope(
        "RemediateBucketPolicies",
        ("s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"),
        (BUCKETS,),
        OWNED_BY_THIS_ACCOUNT,
        comment="Bucket ARNs carry no account: only buckets this account owns.",
    ),
    Scope(
        "RemediateInlinePolicies",
        (
            "iam:GetRolePolicy",
            "iam:GetUserPolicy",
            "iam:GetGroupPolicy",
            "iam:PutRolePolicy",
            "iam:PutGroupPolicy",
            "iam:DeleteRolePolicy",
            "iam:DeleteUserPolicy",
            "iam:DeleteGroupPolicy",
        ),
        (ROLES, USERS, GROUPS),
        comment="Inline policies are rewritten without the offending grants (iam:PutUserPolicy: see QuarantineUsers).",
    ),
    Scope(
        "RestoreDefaultPolicyVersions",
        (
            "iam:GetPolicy",
            "iam:ListPolicyVersions",
            "iam:GetPolicyVersion",
            "iam:SetDefaultPolicyVersion",
            "iam:CreatePolicyVersion",
            "iam:DeletePolicyVersion",
        ),
        (POLICIES,),
        comment=(
            "Only this account's customer-managed policies; never deleting the default version. A new version "
            "without the offending grant only when no earlier version is safe."
        ),
    ),
    Scope(
        "DetachEscalatingCustomerPolicies",
        ("iam:DetachRolePolicy", "iam:DetachUserPolicy", "iam:DetachGroupPolicy"),
        (ROLES, USERS, GROUPS),
        Condition("ArnLike", "iam:PolicyARN", "!Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/*"),
        comment="privilege-escalation detaches an escalating customer-managed policy of this account.",
    ),
    Scope("RestoreTrustPolicies", ("iam:GetRole", "iam:UpdateAssumeRolePolicy"), (ROLES,)),
    Scope(
        "RemoveUnknownIdentityProviders",
        (
            "iam:GetOpenIDConnectProvider",
            "iam:DeleteOpenIDConnectProvider",
            "iam:RemoveClientIDFromOpenIDConnectProvider",
            "iam:GetSAMLProvider",
            "iam:DeleteSAMLProvider",
            "iam:UpdateOpenIDConnectProviderThumbprint",
            "iam:UpdateSAMLProvider",
        ),
        (OIDC_PROVIDERS, SAML_PROVIDERS),
        comment="identity-provider-unknown deletes a new provider or client id, or puts back snapshotted settings.",
    ),
    Scope(
        "RestorePermissionsBoundaries",
        ("iam:PutRolePermissionsBoundary", "iam:PutUserPermissionsBoundary"),
        (ROLES, USERS),
        comment="permissions-boundary-weakened puts back the boundary IAM Warden's snapshot holds.",
    ),
    Scope(
        "RemovePublicAclGrants",
        (
            "s3:GetBucketOwnershipControls",
            "s3:GetBucketAcl",
            "s3:PutBucketAcl",
            "s3:GetObjectAcl",
            "s3:PutObjectAcl",
        ),
        (BUCKETS, OBJECTS),
        OWNED_BY_THIS_ACCOUNT,
    ),
    Scope(
        "RestoreBucketPublicAccessBlock",
        ("s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock"),
        (BUCKETS,),
        OWNED_BY_THIS_ACCOUNT,
    ),
    Scope(
        "RestoreOwnRoleSessionDurations",
        ("iam:UpdateRole",),
        (_ACCOUNT_ARN.format("role/iamwarden-*"),),
        comment="iamwarden-tampered: IAM Warden's roles keep the default maximum session (the code acts on their exact "
        "names).",
    ),
    Scope(
        "RemoveBoundariesFromOwnRoles",
        ("iam:GetRole", "iam:DeleteRolePermissionsBoundary"),
        (_ACCOUNT_ARN.format("role/iamwarden-*"),),
        comment="iamwarden-tampered: IAM Warden's roles declare no boundary (the code acts on their exact names).",
    ),
    Scope(
        "RestoreOwnRoleDocuments",
        (
            "iam:GetRole",
            "iam:GetRolePolicy",
            "iam:UpdateAssumeRolePolicy",
            "iam:PutRolePolicy",
            "iam:DeleteRolePolicy",
        ),
        (_ACCOUNT_ARN.format("role/iamwarden-*"),),
        comment="iamwarden-tampered: the trust and inline policies of IAM Warden's roles put back (exact names).",
    ),
    Scope(
        "ReenableOwnRules",
        ("events:DescribeRule", "events:EnableRule"),
        (
            "!Sub arn:${AWS::Partition}:events:*:${AWS::AccountId}:rule/iamwarden-*",
            "!Sub arn:${AWS::Partition}:events:*:${AWS::AccountId}:rule/iamwarden-central/iamwarden-*",
        ),
        comment="iamwarden-tampered: IAM Warden's own rules only (the code acts on their exact names).",
    ),
    Scope(
        "RestoreCentralBusStatement",
        ("events:DescribeEventBus", "events:PutPermission"),
        ("!Sub arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/iamwarden-central",),
        central_only=True,
        comment="iamwarden-tampered: the central bus's statement admitting the organisation, put back as declared.",
    ),
    Scope(
        "RestoreOwnAlertKey",
        ("kms:DescribeKey", "kms:CancelKeyDeletion", "kms:EnableKey"),
        ("!Sub arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/${AlertKey}",),
        central_only=True,
        comment="iamwarden-tampered: the alert topic's key enabled again, its deletion cancelled.",
    ),
    Scope(
        "RestoreOwnAlertKeyPolicy",
        ("kms:GetKeyPolicy", "kms:PutKeyPolicy"),
        ("!Sub arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/${AlertKey}",),
        central_only=True,
        comment="iamwarden-tampered: the alert key's policy put back as the template declares it.",
    ),
    Scope(
        "RemoveOwnTopicDataProtection",
        ("sns:GetDataProtectionPolicy", "sns:PutDataProtectionPolicy"),
        ("!Sub arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:iamwarden-alerts",),
        central_only=True,
        comment="iamwarden-tampered: a data-protection policy on the alert topic removed (the template declares none).",
    ),
    Scope(
        "EnableOwnAlarmActions",
        ("cloudwatch:DescribeAlarms", "cloudwatch:EnableAlarmActions"),
        ("!Sub arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:iamwarden-*",),
        central_only=True,
        comment="iamwarden-tampered: the actions of IAM Warden's alarms enabled again.",
    ),
    Scope(
        "RestoreOwnInvokePermissions",
        ("lambda:AddPermission",),
        ("!Sub arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-*",),
        condition=Condition("StringEquals", "lambda:Principal", "events.amazonaws.com"),
        central_only=True,
        comment="iamwarden-tampered: EventBridge's permission to invoke an own function for its rules, put back "
        "(GetPolicy and RemovePermission: RemediateFunctionPermissions).",
    ),
    Scope(
        "RestoreOwnAlarms",
        ("cloudwatch:PutMetricAlarm",),
        ("!Sub arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:iamwarden-*",),
        central_only=True,
        comment="iamwarden-tampered: an alarm redefined or deleted written back as the template declares it.",
    ),
    Scope(
        "RestoreOwnFunctionConcurrency",
        ("lambda:GetFunctionConcurrency", "lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency"),
        ("!Sub arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-*",),
        central_only=True,
    ),
    Scope(
        "RestoreOwnFunctionInvokeConfigs",
        ("lambda:GetFunctionEventInvokeConfig", "lambda:PutFunctionEventInvokeConfig"),
        tuple(
            f"!Sub arn:${{AWS::Partition}}:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:{function}"
            for function in ("iamwarden-enforcer", "iamwarden-prune-planner", "iamwarden-prune-watch")
        ),
        central_only=True,
        comment="iamwarden-tampered: an own function's event invoke config put back as the template declares it "
        "(undo, as the operator, deletes one there was not); only on the functions that declare one.",
    ),
    Scope(
        "DeleteOwnFunctionUrls",
        ("lambda:GetFunctionUrlConfig", "lambda:DeleteFunctionUrlConfig", "lambda:CreateFunctionUrlConfig"),
        ("!Sub arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:iamwarden-*",),
        central_only=True,
        comment="iamwarden-tampered: a URL given to IAM Warden's own function outside its stack, deleted (undo).",
    ),
    Scope(
        "StopFunctionsGivenOwnRoles",
        ("lambda:GetFunctionConcurrency", "lambda:PutFunctionConcurrency"),
        ("!Sub arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:*",),
        central_only=True,
        comment="iamwarden-tampered: a function of this account given one of IAM Warden's roles, stopped.",
    ),
    Scope(
        "RestoreOwnSettings",
        ("ssm:GetParameterHistory", "ssm:PutParameter", "ssm:DeleteParameter"),
        ("!Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${SettingsPrefix}/*",),
        central_only=True,
        comment="iamwarden-tampered with settings_guard restore: the previous value from the parameter's history.",
    ),
    Scope(
        "RestoreOwnSlackSecrets",
        ("secretsmanager:DescribeSecret", "secretsmanager:RestoreSecret", "secretsmanager:UpdateSecretVersionStage"),
        tuple(
            f"!Sub arn:${{AWS::Partition}}:secretsmanager:${{AWS::Region}}:${{AWS::AccountId}}:secret:{name}-??????"
            for _, name in OWN_SECRETS
        ),
        central_only=True,
        comment="iamwarden-tampered: its Slack secrets restored, their current version put back (exact names, "
        "and Secrets Manager's six-character suffix).",
    ),
    Scope(
        "RestoreAlertSubscriptions",
        ("sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes"),
        (ANY,),
        central_only=True,
        comment="iamwarden-tampered: the alert topic's subscriptions put back; IAM knows no subscription resource "
        "type for these calls, the code acts on the alert topic's subscriptions only.",
    ),
    Scope(
        "RestoreAccountPublicAccessBlock",
        ("s3:GetAccountPublicAccessBlock", "s3:PutAccountPublicAccessBlock"),
        (ANY,),
        comment="Account-level settings have no resource type: S3 Control acts only on the caller's own account.",
    ),
    Scope("RemediateQueuePolicies", ("sqs:GetQueueAttributes", "sqs:SetQueueAttributes"), (QUEUES,)),
    Scope("RemediateTopicPolicies", ("sns:GetTopicAttributes", "sns:SetTopicAttributes"), (TOPICS,)),
    Scope(
        "RemediateFunctionPermissions",
        (
            "lambda:GetPolicy",
            "lambda:RemovePermission",
            "lambda:GetFunctionUrlConfig",
            "lambda:UpdateFunctionUrlConfig",
        ),
        (FUNCTIONS,),
        comment="lambda:GetPolicy also lets lambda-function-url-public read the policy behind a new function URL.",
    ),
    Scope(
        "RemediateLayerPermissions",
        ("lambda:GetLayerVersionPolicy", "lambda:RemoveLayerVersionPermission"),
        (LAYER_VERSIONS,),
    ),
    Scope(
        "RemediateKeyPoliciesAndGrants",
        ("kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:ListGrants", "kms:RevokeGrant"),
        (KEYS,),
        comment="A key policy must let this role in (the default policy's account statement does) for these to work.",
    ),
    Scope(
        "RemediateSecretPolicies",
        (
            "secretsmanager:GetResourcePolicy",
            "secretsmanager:PutResourcePolicy",
            "secretsmanager:DeleteResourcePolicy",
        ),
        (SECRETS,),
    ),
    Scope(
        "RemediateRepositoryPolicies",
        ("ecr:GetRepositoryPolicy", "ecr:SetRepositoryPolicy", "ecr:DeleteRepositoryPolicy"),
        (REPOSITORIES,),
    ),
    Scope("RemediateEventBusPolicies", ("events:DescribeEventBus", "events:RemovePermission"), (EVENT_BUSES,)),
    # --- issue 18, resources-b: shares and resource policies that open data outside the organisation ---
    Scope(
        "RemoveSnapshotShares",
        ("ec2:DescribeSnapshotAttribute", "ec2:ModifySnapshotAttribute"),
        (EBS_SNAPSHOTS,),
        OWNED_BY_THIS_ACCOUNT_EC2,
        comment="Snapshot ARNs carry no account: only snapshots this account owns.",
    ),
    Scope(
        "RemoveImageShares",
        ("ec2:DescribeImageAttribute", "ec2:ModifyImageAttribute"),
        (IMAGES,),
        OWNED_BY_THIS_ACCOUNT_EC2,
        comment="AMI ARNs carry no account: only images this account owns.",
    ),
    Scope(
        "RemoveDbSnapshotShares",
        ("rds:DescribeDBSnapshotAttributes", "rds:ModifyDBSnapshotAttribute"),
        (DB_SNAPSHOTS,),
    ),
    Scope(
        "RemediateAccessPointPolicies",
        ("s3:GetAccessPointPolicy", "s3:PutAccessPointPolicy", "s3:DeleteAccessPointPolicy"),
        (ACCESS_POINTS,),
    ),
    Scope(
        "RemediateMultiRegionAccessPointPolicies",
        ("s3:GetMultiRegionAccessPointPolicy", "s3:PutMultiRegionAccessPointPolicy", "s3:GetMultiRegionAccessPoint"),
        (MULTI_REGION_ACCESS_POINTS,),
        comment="No call deletes an MRAP policy: GetMultiRegionAccessPoint reads the alias for the owner-only policy.",
    ),
    Scope(
        "RemediateObjectLambdaAccessPointPolicies",
        (
            "s3:GetAccessPointPolicyForObjectLambda",
            "s3:PutAccessPointPolicyForObjectLambda",
            "s3:DeleteAccessPointPolicyForObjectLambda",
        ),
        (OBJECT_LAMBDA_ACCESS_POINTS,),
    ),
    Scope(
        "RemediateDynamoDbResourcePolicies",
        ("dynamodb:GetResourcePolicy", "dynamodb:PutResourcePolicy", "dynamodb:DeleteResourcePolicy"),
        (DYNAMODB_TABLES,),
        comment="Tables, their indexes and streams (table/NAME/stream/...) of this account.",
    ),
    Scope(
        "RemediateEfsFileSystemPolicies",
        (
            "elasticfilesystem:DescribeFileSystemPolicy",
            "elasticfilesystem:PutFileSystemPolicy",
            "elasticfilesystem:DeleteFileSystemPolicy",
        ),
        (EFS_FILE_SYSTEMS,),
    ),
    Scope(
        "RemediateOpenSearchAccessPolicies",
        ("es:DescribeDomainConfig", "es:UpdateDomainConfig"),
        (OPENSEARCH_DOMAINS,),
        comment="UpdateDomainConfig could change any setting of a domain; the enforcer writes only AccessPolicies.",
    ),
    Scope(
        "RemediateBackupVaultPolicies",
        (
            "backup:GetBackupVaultAccessPolicy",
            "backup:PutBackupVaultAccessPolicy",
            "backup:DeleteBackupVaultAccessPolicy",
        ),
        (BACKUP_VAULTS,),
    ),
    Scope(
        "RemoveDbClusterSnapshotShares",
        ("rds:DescribeDBClusterSnapshotAttributes", "rds:ModifyDBClusterSnapshotAttribute"),
        (DB_CLUSTER_SNAPSHOTS,),
    ),
    # Glacier vaults and CloudWatch Logs destinations.
    Scope(
        "RemediateGlacierVaultPolicies",
        ("glacier:GetVaultAccessPolicy", "glacier:SetVaultAccessPolicy", "glacier:DeleteVaultAccessPolicy"),
        (GLACIER_VAULTS,),
    ),
    Scope(
        "DescribeLogDestinations",
        ("logs:DescribeDestinations",),
        (ANY,),
        comment="DescribeDestinations lists the destinations by name prefix: a list call, granted on every resource.",
    ),
    Scope(
        "RemediateLogDestinationPolicies",
        ("logs:PutDestinationPolicy",),
        (LOG_DESTINATIONS,),
    ),
    Scope(
        "RestoreTrails",
        (
            "cloudtrail:GetTrailStatus",
            "cloudtrail:GetEventSelectors",
            "cloudtrail:GetInsightSelectors",
            "cloudtrail:CreateTrail",
            "cloudtrail:UpdateTrail",
            "cloudtrail:PutEventSelectors",
            "cloudtrail:PutInsightSelectors",
            "cloudtrail:StartLogging",
        ),
        (TRAILS,),
        comment="Trails of this account only; never StopLogging or DeleteTrail (only undo, as the operator, does).",
    ),
    Scope(
        "DescribeTrails",
        ("cloudtrail:DescribeTrails",),
        (ANY,),
        comment="DescribeTrails has no resource type; it reads the trails' settings only.",
    ),
    Scope(
        "StartEventDataStoreIngestion",
        ("cloudtrail:GetEventDataStore", "cloudtrail:StartEventDataStoreIngestion"),
        (EVENT_DATA_STORES,),
        comment="Event data stores of this account only; never StopEventDataStoreIngestion (only undo does).",
    ),
    Scope("EnableGuardDutyDetectors", ("guardduty:GetDetector", "guardduty:UpdateDetector"), (DETECTORS,)),
    Scope(
        "StopGuardDutyFilterArchiving",
        ("guardduty:GetFilter", "guardduty:UpdateFilter"),
        (GUARDDUTY_FILTERS,),
        comment="Filters of this account: one made to archive every finding is set to NOOP (undo: ARCHIVE).",
    ),
    Scope(
        "StartGuardDutyMonitoring",
        ("guardduty:GetMembers", "guardduty:StartMonitoringMembers"),
        (DETECTORS,),
        comment="The administrator's detector: monitoring of the members it stopped watching starts again.",
    ),
    Scope(
        "StartConfigRecorders",
        ("config:DescribeConfigurationRecorderStatus", "config:StartConfigurationRecorder"),
        (ANY,),
        comment="AWS Config's recorder actions have no resource type: they act on the caller's own account.",
    ),
    Scope("EnableSecurityHub", ("securityhub:DescribeHub", "securityhub:EnableSecurityHub"), (HUBS,)),
    Scope(
        "EnableSecurityHubV2",
        ("securityhub:DescribeSecurityHubV2", "securityhub:EnableSecurityHubV2"),
        (ANY,),
        comment="The 2025 Security Hub's enable and describe have no resource type (Service Authorization Reference).",
    ),
    Scope(
        "DisableAutomationRules",
        ("securityhub:BatchGetAutomationRules", "securityhub:BatchUpdateAutomationRules"),
        (AUTOMATION_RULES,),
        comment="Automation rules of this account: disabling one that suppresses findings (and reading it first).",
    ),
    Scope(
        "DisableAutomationRulesV2",
        ("securityhub:GetAutomationRuleV2", "securityhub:UpdateAutomationRuleV2"),
        (AUTOMATION_RULES_V2,),
        comment="V2 automation rules of this account: disabling one that hides findings (and reading it first).",
    ),
    Scope(
        "DisableRolesAnywhere",
        (
            "rolesanywhere:GetTrustAnchor",
            "rolesanywhere:DisableTrustAnchor",
            "rolesanywhere:GetProfile",
            "rolesanywhere:DisableProfile",
        ),
        (TRUST_ANCHORS, ROLES_ANYWHERE_PROFILES),
    ),
    Scope(
        "RemediatePermissionSets",
        (
            "sso:ListManagedPoliciesInPermissionSet",
            "sso:DetachManagedPolicyFromPermissionSet",
            "sso:GetInlinePolicyForPermissionSet",
            "sso:DeleteInlinePolicyFromPermissionSet",
            "sso:ListAccountsForProvisionedPermissionSet",
            "sso:ProvisionPermissionSet",
            "sso:ListAccountAssignments",
            "sso:DeleteAccountAssignment",
        ),
        (SSO_INSTANCES, SSO_PERMISSION_SETS, SSO_ACCOUNTS),
        comment="Identity Center's permission sets: their ARNs carry no account; the instance is the organisation's.",
    ),
    Scope(
        "RemoveIdentityCenterGroupMemberships",
        ("identitystore:DescribeGroupMembership", "identitystore:DeleteGroupMembership"),
        (IDENTITY_STORES, IDENTITY_STORE_GROUPS, IDENTITY_STORE_USERS, IDENTITY_STORE_MEMBERSHIPS),
        comment="identity-center-group-admin deletes exactly the membership the event created (in the identity store "
        "of the instance's owner, the management account even when this is a delegated administrator).",
    ),
    # Last: a new scope appended here lands in the last managed policy and moves no earlier statement.
    Scope(
        "RemoveEscalatingRolesFromInstanceProfiles",
        ("iam:GetInstanceProfile", "iam:RemoveRoleFromInstanceProfile"),
        (INSTANCE_PROFILES,),
        comment="instance-profile-escalation takes exactly the role the event added out of exactly that profile.",
    ),
    Scope(
        "RestoreGuardDutyPublishingDestinations",
        ("guardduty:DescribePublishingDestination", "guardduty:UpdatePublishingDestination"),
        (GUARDDUTY_PUBLISHING_DESTINATIONS,),
        comment="GuardDuty's findings export moved: put back to the bucket and key IAM Warden recorded.",
    ),
    Scope(
        "VerifyGuardDutyExportBuckets",
        ("s3:ListBucket",),
        (BUCKETS,),
        OWNED_BY_THIS_ACCOUNT,
        comment="HeadBucket of a findings export's bucket before re-creating the export: only buckets this account "
        "owns (a bucket made again in another account is refused, and not exported to).",
    ),
    Scope(
        "RecreateGuardDutyPublishingDestinations",
        ("guardduty:ListDetectors", "guardduty:ListPublishingDestinations", "guardduty:CreatePublishingDestination"),
        (ANY,),
        comment="No resource type (Service Authorization Reference): a deleted findings export re-created as recorded "
        "(ListDetectors: a refused create or update counts as 'detector gone' only when it is not listed).",
    ),
    Scope(
        "FindRenamedUsers",
        ("iam:ListUsers",),
        (ANY,),
        comment="The undo of a quarantine finds a user renamed since by the UserId its record captured; a list call "
        "(granted on every resource, whether or not IAM gives it the user resource type).",
    ),
    # Last, so that adding them left every earlier statement in the managed policy it was deployed in (the own
    # roles' documented escalations are judged per policy: tests/integration/test_template.py).
    Scope("ReadRoleTags", ("iam:ListRoleTags",), (ROLES,)),
    Scope(
        "RemovePruneExemptTags",
        ("iam:UntagRole",),
        (ROLES,),
        Condition("ForAllValues:StringEqualsIgnoreCase", "aws:TagKeys", "iamwarden:prune-exempt-until"),
        comment="prune-exemption-granted removes the pruner's exempt tag, and no other tag.",
    ),
    Scope(
        "RecreateGuardDutyDetectors",
        ("guardduty:CreateDetector",),
        (ANY,),
        comment="A deleted detector re-created, enabled, as IAM Warden's snapshot has it: CreateDetector has no "
        "resource type (Service Authorization Reference); no iam:CreateServiceLinkedRole (the role outlives a "
        "detector).",
    ),
    Scope(
        "TagRecreatedGuardDutyDetectors",
        ("guardduty:TagResource",),
        (DETECTORS,),
        comment="The re-created detector gets the deleted one's tags (after the create: a refused tag leaves it on).",
    ),
    Scope(
        "RestoreConfigRecorders",
        (
            "config:DescribeConfigurationRecorders",
            "config:DescribeDeliveryChannels",
            "config:PutConfigurationRecorder",
        ),
        (ANY,),
        comment="A deleted AWS Config recorder put back as IAM Warden's snapshot has it (no resource type).",
    ),
    Scope(
        "PassConfigRecorderRoles",
        ("iam:PassRole",),
        (ROLES,),
        Condition("StringEquals", "iam:PassedToService", "config.amazonaws.com"),
        comment="PutConfigurationRecorder passes the recorder's role, to AWS Config only (this account's roles: which "
        "one each region's recorder records with is known only from the snapshot).",
    ),
    Scope(
        "LookUpQuarantinedUsersSessions",
        ("cloudtrail:LookupEvents",),
        (ANY,),
        comment="A user quarantine lists the role sessions the user assumed before it (read only, never revoked); "
        "LookupEvents takes no resource ARN (its Service Authorization Reference row is not confirmed here): "
        "granted on every resource.",
    ),
)


# --- how events reach the enforcer -----------------------------------------------------------------------


class Route(NamedTuple):
    """One EventBridge rule of the enforcer: its SAM event name, a note, and a filter on the request."""

    name: str
    note: str = ""
    #: YAML lines under ``detail:`` that narrow the rule beyond the event names (e.g. requestParameters).
    request_filter: tuple[str, ...] = ()


_AWS_MANAGED_ONLY = (
    "requestParameters:",
    "  policyArn:",
    '    - prefix: "arn:aws:iam::aws:policy/"',
    '    - prefix: "arn:aws-cn:iam::aws:policy/"',
    '    - prefix: "arn:aws-us-gov:iam::aws:policy/"',
)
_CUSTOMER_MANAGED_ONLY = (
    "requestParameters:",
    "  policyArn:",
    "    - anything-but:",
    '        wildcard: "arn:*:iam::aws:policy/*"',
)

#: A guardrail's rule is named after its first rule id (``sqs-queue-policy-public`` -> SqsQueuePolicyPublic)
#: unless listed here. These keep the names the rules were deployed with (a new name replaces the rule) and the
#: request filters that send an attachment to exactly one of the two attachment guardrails. Guardrails that map
#: to one name share one rule (their events united; their filters must be equal).
ROUTES: Mapping[str, Route] = {
    "iam-user-created": Route(
        "IamUserCreated", "IAM is a global service: its CloudTrail events reach EventBridge only in us-east-1."
    ),
    "managed-policy-attached": Route("ManagedPolicyAttached", request_filter=_AWS_MANAGED_ONLY),
    "s3-bucket-policy-public": Route(
        "BucketPolicyChanged",
        "S3 events arrive in the bucket's own region: deploy the stack in each region with buckets.",
    ),
    "inline-policy-admin": Route(
        "InlinePolicyPut",
        "Inline policies: inline-policy-admin and privilege-escalation (the document is in the event).",
    ),
    "policy-version-admin": Route(
        "PolicyVersionChanged", "New default policy versions: policy-version-admin and privilege-escalation."
    ),
    "privilege-escalation": Route(
        "CustomerPolicyAttached",
        "Customer-managed policies attached (AWS-managed ones go to ManagedPolicyAttached): privilege-escalation.",
        _CUSTOMER_MANAGED_ONLY,
    ),
    "access-key-created": Route(
        "CredentialsCreated",
        "Long-lived credentials for IAM users and their quarantine: access-key-created, login-profile-created, "
        "user-credential-created and remediation-reversed.",
    ),
    "login-profile-created": Route("CredentialsCreated"),
    "user-credential-created": Route("CredentialsCreated"),
    "remediation-reversed": Route("CredentialsCreated"),
    "trust-policy-untrusted": Route("TrustPolicyChanged"),
    # CreateRole is judged by both (its trust policy, its tags): one rule sends it once, TagRole with it.
    "prune-exemption-granted": Route("TrustPolicyChanged"),
    "s3-acl-public": Route(
        "AclChanged", "PutObjectAcl is an S3 data event: the trail must log S3 data events (write) for it to arrive."
    ),
    "s3-acl-cross-account": Route("AclChanged"),
    "cloudtrail-logging-impaired": Route(
        "CloudTrailLoggingImpaired",
        "CloudTrail, GuardDuty, Config and Security Hub events arrive in the region of the call (a trail's home).",
    ),
    "permission-set-admin": Route(
        "PermissionSetAdmin", "IAM Identity Center events arrive in the region of the Identity Center instance."
    ),
    "organization-left": Route(
        "OrganizationLeft",
        "Organizations is a global service: its CloudTrail events reach EventBridge only in us-east-1.",
    ),
    "scp-blinds-iamwarden": Route(
        "ServiceControlPolicyChanged",
        "Organizations is a global service: its policy calls are recorded in the management account, in us-east-1 "
        "only.",
    ),
    # One rule with the bucket policies: both judge DeleteBucket (each forgets its record of the bucket), and an
    # event in two rules would reach the enforcer twice. Deployed before session 13 as PublicAccessBlockChanged.
    "s3-public-access-block-disabled": Route(
        "BucketPolicyChanged",
        "Account-level Block Public Access is S3 Control's, but CloudTrail records it from s3.amazonaws.com.",
    ),
}

#: CloudTrail data events (not management events) among those a guardrail may judge: the forwarders must name
#: them, since they forward management events by category. A trail logs them only when configured to.
DATA_EVENTS: frozenset[tuple[str, str]] = frozenset({("s3.amazonaws.com", "PutObjectAcl")})

#: Services whose CloudTrail events reach EventBridge in one region only (us-east-1 in the aws partition): the
#: member template forwards them from its IAM region, every other source from every region it is deployed to.
GLOBAL_SOURCES: frozenset[str] = frozenset({"iam.amazonaws.com", "organizations.amazonaws.com"})

#: The SSM mode every rule starts in, and the modes there are (iamwarden.domain.catalog.Mode).
DEFAULT_MODE = "alert"
MODES = ("off", "alert", "remediate")


# --- rendering -------------------------------------------------------------------------------------------


def camel(identifier: str) -> str:
    """``s3-bucket-policy-public`` -> ``S3BucketPolicyPublic`` (CloudFormation logical ids are alphanumeric)."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", identifier) if part)


_PLAIN = re.compile(r"^[A-Za-z^][A-Za-z0-9 ._/()|$-]*$")
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def scalar(text: str) -> str:
    """A YAML scalar for ``text``: plain when that reads back as the same string, else double-quoted."""
    if _PLAIN.match(text) and text.lower() not in _YAML_WORDS and not text.endswith(" "):
        return text
    return json.dumps(text, ensure_ascii=False)


def flow_or_block(key: str, items: Sequence[str], indent: int) -> list[str]:
    """``key: [a, b]`` when it fits the line, else a block list under ``key:``."""
    flow = f"{' ' * indent}{key}: [{', '.join(items)}]"
    if len(flow) <= LINE_LENGTH:
        return [f"{key}: [{', '.join(items)}]"]
    return [f"{key}:", *(f"  - {item}" for item in items)]


def _nested(lines: Iterable[str], by: int) -> list[str]:
    return [(" " * by + line) if line else line for line in lines]


def _event_keys(guardrail: Any) -> set[tuple[str, str]]:
    """The (event source, event name) pairs a guardrail judges, as the registry indexes them."""
    keys = getattr(guardrail, "event_keys", None) or {
        (spec.event_source, name) for spec in guardrail.specs for name in spec.event_names
    }
    return set(keys)


def _routed_keys(guardrail: Any) -> set[tuple[str, str]]:
    """The pairs a guardrail's own EventBridge rule matches: those it judges, less those another rule routes."""
    return _event_keys(guardrail) - set(getattr(guardrail, "routed_by_others", ()))


def _refuse_unrouted(guardrails: Sequence[Any]) -> None:
    """A pair a guardrail leaves to another rule's routing must be routed by one, or it never arrives."""
    routed = {key for guardrail in guardrails for key in _routed_keys(guardrail)}
    for guardrail in guardrails:
        for source, name in sorted(set(getattr(guardrail, "routed_by_others", ())) - routed):
            raise GenerationError(f"{guardrail.specs[0].id} leaves {source} {name} to a rule that does not route it")


class EnforcerRule(NamedTuple):
    """One rule as generated: its route, the event source it matches and the event names."""

    route: Route
    source: str
    names: set[str]


def routes() -> list[EnforcerRule]:
    """One rule per guardrail and event source (or per shared ``ROUTES`` name), in registry order.

    A guardrail judging events of several sources gets one rule per source: the rule of its spec's own source keeps
    the guardrail's route (so adding a source never renames a deployed rule), each other source's rule is named
    after the guardrail and the service (``RemediationReversedRolesanywhere``).
    """
    built: dict[str, EnforcerRule] = {}
    for guardrail in registry.GUARDRAILS:
        first = guardrail.specs[0].id
        if first in SELF_ROUTED:
            continue
        route = ROUTES.get(first) or Route(camel(first))
        by_source: dict[str, set[str]] = {}
        for source, name in _routed_keys(guardrail):
            by_source.setdefault(source, set()).add(name)
        for source, names in sorted(by_source.items()):
            named = (
                route
                if len(by_source) == 1 or source == guardrail.specs[0].event_source
                else Route(camel(first) + camel(source.split(".")[0]), request_filter=route.request_filter)
            )
            existing = built.get(named.name)
            if existing is None:
                built[named.name] = EnforcerRule(named, source, set(names))
                continue
            if existing.source != source or existing.route.request_filter != named.request_filter:
                raise GenerationError(f"{named.name} is shared by guardrails of different sources or filters ({first})")
            existing.names.update(names)
    _refuse_double_routing(list(built.values()))
    _refuse_unrouted(registry.GUARDRAILS)
    return list(built.values())


def _refuse_double_routing(built: list[EnforcerRule]) -> None:
    """An event in two rules reaches the enforcer twice unless both rules filter the requests (disjointly)."""
    seen: dict[tuple[str, str], EnforcerRule] = {}
    for build in built:
        for name in sorted(build.names):
            other = seen.get((build.source, name))
            if other is not None and not (other.route.request_filter and build.route.request_filter):
                raise GenerationError(
                    f"{name} would be routed by both {other.route.name} and {build.route.name}: "
                    "give them disjoint request filters in ROUTES, or one name"
                )
            seen[(build.source, name)] = build


#: Event sources whose EventBridge ``source`` AWS's EventBridge event reference ("Events from AWS services") does
#: not list: SCIM provisioning (``identitystore-scim``) and the Identity Center console's directory (``sso-directory``).
#: ``aws.<prefix>`` is the rule for the services it lists, a guess for these (review s11 F8): a wrong guess would
#: silently route none of their events, so their rules match any AWS source (``{ prefix: "aws." }``: no PutEvents
#: caller may send one) and rest on ``detail.eventSource``, which the published CloudTrail records confirm.
#: Looked up again in session 13: third parties' rules assume ``aws.sso-directory`` for ``sso-directory``
#: (jSherz/automate-aws-access-removal ``infrastructure/main.tf``, and its handler test's hand-written envelope,
#: not a captured delivery; other CDK stacks' ``CreateUser`` alerts), which fits the rule but confirms nothing; for
#: SCIM none was found but jief123/aws-idc-scim's ``aws.cloudtrail``. Both stay unconfirmed.
#: Session 14: the EventBridge User Guide ("AWS service event metadata", eb-events-structure) says every AWS service's
#: event has a ``source`` beginning ``aws.`` (so ``{ prefix: "aws." }`` misses none of them) and that the value is
#: ``aws.`` plus the service prefix of the Service Authorization Reference, which lists ``sso-directory`` ("AWS IAM
#: Identity Center directory (service prefix: sso-directory)"): ``aws.sso-directory`` by that documented rule, still
#: no captured delivery. The EventBridge Events Reference has pages for ``aws.sso`` (events-ref-sso: ``eventSource``
#: ``sso.amazonaws.com``, which confirms the template's exact ``aws.sso`` rules), ``aws.sso-oauth`` and
#: ``aws.identitystore``, and none found for ``sso-directory`` or ``identitystore-scim`` (review-gdkms-s14 F3).
#: SCIM calls are authorized by a bearer token, not IAM: no service prefix was found for them. Routing unchanged.
UNCONFIRMED_EVENTBRIDGE_SOURCES = frozenset({"identitystore-scim.amazonaws.com", "sso-directory.amazonaws.com"})
ANY_AWS_SOURCE = '{ prefix: "aws." }'


def event_bridge_source(event_source: str) -> str:
    """CloudTrail's ``iam.amazonaws.com`` arrives on EventBridge as source ``aws.iam``; a source AWS does not list
    (``UNCONFIRMED_EVENTBRIDGE_SOURCES``) is matched as any AWS source."""
    if event_source in UNCONFIRMED_EVENTBRIDGE_SOURCES:
        return ANY_AWS_SOURCE
    if event_source == "monitoring.amazonaws.com":
        return "aws.cloudwatch"  # CloudWatch's API calls arrive as aws.cloudwatch
    return "aws." + event_source.split(".", 1)[0]


def event_bridge_sources(event_sources: Iterable[str]) -> list[str]:
    """The EventBridge sources of ``event_sources``, in their order, each once (``ANY_AWS_SOURCE`` last, if any)."""
    named = dict.fromkeys(event_bridge_source(source) for source in event_sources)
    return [source for source in named if source != ANY_AWS_SOURCE] + [s for s in named if s == ANY_AWS_SOURCE]


def service_events() -> set[tuple[str, str]]:
    """Every (event source, event name) a rule judges as an AWS service event (``RuleSpec.service_events``)."""
    return {
        (spec.event_source, name)
        for guardrail in registry.GUARDRAILS
        for spec in guardrail.specs
        for name in spec.service_events
    }


def detail_types(keys: Iterable[tuple[str, str]]) -> list[str]:
    """The EventBridge detail-types that carry ``keys``: API calls, AWS service events, or both."""
    service = service_events()
    kinds = {key in service for key in keys}
    both = ((CLOUDTRAIL_API_CALL, False), (CLOUDTRAIL_SERVICE_EVENT, True))
    return [kind for kind, wanted in both if wanted in kinds]


def render_routes() -> str:
    lines: list[str] = []
    for build in routes():
        route = build.route
        if route.note:
            lines.append(f"# {route.note}")
        detail = [
            f"eventSource: [{build.source}]",
            # The template's Events are indented 8, their detail 16.
            *flow_or_block("eventName", sorted(build.names), indent=16),
            "errorCode: [{ exists: false }]",
            "# Never loop: IAM Warden's own sessions (exact ARN: account, role, its function's session name)",
            "# are not routed, and are ignored in code. Member roles' stop at their account's forwarder.",
            *own_sessions_excluded(CENTRAL_OWN_SESSIONS),
            *route.request_filter,
        ]
        lines += [
            f"{route.name}:",
            "  Type: EventBridgeRule",
            "  Properties:",
            f"    RuleName: {rule_name(route.name)}",
            "    # Every account's events, this one's included, arrive on the central bus"
            ' (README "AWS Organizations").',
            "    EventBusName: !Ref CentralEventBus",
            "    DeadLetterConfig:",
            "      Arn: !GetAtt EnforcerDeadLetterQueue.Arn",
            "    RetryPolicy:",
            "      MaximumEventAgeInSeconds: 86400",
            "    Pattern:",
            f"      source: [{event_bridge_source(build.source)}]",
            f"      detail-type: [{', '.join(detail_types((build.source, name) for name in build.names))}]",
            "      detail:",
            *_nested(detail, 8),
        ]
    return "\n".join(lines) + "\n" + render_tampering_routes()


def guarded_events() -> set[tuple[str, str]]:
    """Every (event source, event name) some guardrail judges (but the self-routed ones: they route themselves)."""
    return {
        key
        for guardrail in registry.GUARDRAILS
        if guardrail.specs[0].id not in SELF_ROUTED
        for key in _event_keys(guardrail)
    }


#: Rules whose events are routed by their own EventBridge rules (``render_tampering_routes``), not by the
#: generic one-rule-per-guardrail routing and forwarding.
SELF_ROUTED = frozenset({"iamwarden-tampered"})
#: The member stack's EventBridge rules (default bus of each member account), watched by one another.
MEMBER_RULES = (
    "iamwarden-forward-iam",
    "iamwarden-forward-s3",
    "iamwarden-forward-guard-a",
    "iamwarden-forward-guard-b",
)
#: The security account's own rules on its default bus (besides the enforcer's generated rules): the forwarder,
#: the heartbeat's schedule, the pruner's schedule and watch, and the exception watch's schedule (fixed names in
#: template.yaml, so that iamwarden-tampered and the heartbeat know them exactly).
HOME_DEFAULT_BUS_RULES = (
    "iamwarden-forward-own-events",
    "iamwarden-heartbeat",
    "iamwarden-prune-schedule",
    "iamwarden-prune-watch",
    "iamwarden-exception-watch",
)


def _tampering_keys() -> dict[str, set[str]]:
    keys: dict[str, set[str]] = {}
    for guardrail in registry.GUARDRAILS:
        if guardrail.specs[0].id in SELF_ROUTED:
            for source, name in _event_keys(guardrail):
                keys.setdefault(source, set()).add(name)
    return keys


#: The managed-policy events only iamwarden-tampered judges: routed for IAM Warden's own policies only.
POLICY_EVENTS = frozenset({"DeletePolicy", "DeletePolicyVersion"})


def own_policies_routed() -> list[str]:
    """The own managed policies as a pattern matches ``requestParameters.policyArn``: the stack's by ARN, the
    member stack's by name at path / in any account (``suffix``; the code then requires another account)."""
    central = len(split_grants(remediation_grants(central=True)))
    member = len(split_grants(remediation_grants(central=False)))
    # In any case, as the code compares them (``OwnIdentity.is_own_policy``): IAM names ignore case.
    return [
        *(f"{{ equals-ignore-case: !Ref {CENTRAL_HOME.logical_prefix}{number} }}" for number in range(1, central + 1)),
        *(
            'suffix: { equals-ignore-case: !Sub ":policy/'
            + MEMBER_HOME.name.format(number).replace("{{", "{").replace("}}", "}")
            + '" }'
            for number in range(1, member + 1)
        ),
    ]


#: How every rule of the security account's stack is named (``TamperedOwnRules`` matches them by it).
OWN_RULE_PREFIX = "iamwarden-"


def rule_name(route_name: str) -> str:
    """The exact EventBridge rule name of a generated rule: ``IamUserCreated`` -> ``iamwarden-iam-user-created``."""
    return "iamwarden-" + re.sub(r"(?<!^)(?=[A-Z])", "-", route_name).lower()


def _rule(
    name: str, bus: str | None, source: Sequence[str], detail: list[str], note: str, *, envelope: Sequence[str] = ()
) -> list[str]:
    return [
        f"# {note}",
        f"{name}:",
        "  Type: EventBridgeRule",
        "  Properties:",
        f"    RuleName: {rule_name(name)}",
        *([f"    EventBusName: {bus}"] if bus else []),
        "    DeadLetterConfig:",
        "      Arn: !GetAtt EnforcerDeadLetterQueue.Arn",
        "    RetryPolicy:",
        "      MaximumEventAgeInSeconds: 86400",
        "    Pattern:",
        f"      source: [{', '.join(source)}]",
        f"      detail-type: [{CLOUDTRAIL_API_CALL}]",  # iamwarden-tampered judges API calls only
        *(f"      {line}" for line in envelope),
        "      detail:",
        *_nested(detail, 8),
    ]


def render_tampering_routes() -> str:
    """iamwarden-tampered's rules: the own roles on the central bus, the stack's resources on the default bus
    (so disabling the forwarder cannot hide it), and the member stack's rules as the member guard forwards them."""
    keys = _tampering_keys()
    if not keys:
        return ""
    routed = {(build.source, name) for build in routes() for name in build.names}
    exclusion = [
        "errorCode: [{ exists: false }]",
        *own_sessions_excluded(CENTRAL_OWN_SESSIONS),
    ]
    lines: list[str] = []
    iam = sorted(name for name in keys.get("iam.amazonaws.com", set()) if ("iam.amazonaws.com", name) not in routed)
    if iam:
        role_events = sorted(set(iam) - POLICY_EVENTS)
        policy_events = sorted(set(iam) & POLICY_EVENTS)
        branches = [
            f"  - eventName: [{', '.join(role_events)}]",
            "    requestParameters:",
            # In any case: IAM role names are unique per account whatever the case (``own_roles_given``).
            "      roleName:",
            *(
                f"        - {{ equals-ignore-case: {name} }}"
                for name in (
                    *(f"!Ref {role}" for role in (*OWN_FUNCTION_ROLES, "OwnEventsForwarderRole", "MemberRoleName")),
                    "iamwarden-pruner-member",
                    "iamwarden-snapshot-reader",
                )
            ),
            "        - prefix: { equals-ignore-case: iamwarden-member-forwarder- }",
        ]
        if policy_events:
            branches += [
                f"  - eventName: [{', '.join(policy_events)}]",
                "    requestParameters:",
                "      policyArn:",
                *(f"        - {arn}" for arn in own_policies_routed()),
            ]
        lines += _rule(
            "TamperedRoles",
            "!Ref CentralEventBus",
            ["aws.iam"],
            [
                "eventSource: [iam.amazonaws.com]",
                *flow_or_block("eventName", iam, indent=16),
                *exclusion,
                "$or:",
                *branches,
            ],
            "iamwarden-tampered: own roles' and managed policies' changes no other rule routes (others via theirs).",
        )
    home_sources = sorted(source for source in keys if source != "iam.amazonaws.com")
    home_names = sorted({name for source in home_sources for name in keys[source]})
    by_name = sorted(source for source in home_sources if source != SECRETS_SOURCE)
    secret_names = sorted(keys.get(SECRETS_SOURCE, set()))
    given_a_role = sorted(name for name in home_names if name in ROLE_GIVING_ONLY)
    named = sorted({n for s in by_name for n in keys[s]} - ROLE_GIVING_ONLY)
    stack_branches: list[str] = []
    if secret_names or given_a_role:  # each branch names its events: by name, by the role given, by the secret
        stack_branches = [
            "$or:",
            f"  - eventSource: [{', '.join(by_name)}]",
            *_nested(flow_or_block("eventName", named, indent=18), 4),
        ]
        if given_a_role:
            stack_branches += [
                "  - eventSource: [lambda.amazonaws.com]",
                *_nested(flow_or_block("eventName", given_a_role, indent=18), 4),
                *own_roles_given(),
            ]
        if secret_names:
            stack_branches += [
                f"  - eventSource: [{SECRETS_SOURCE}]",
                *_nested(flow_or_block("eventName", secret_names, indent=18), 4),
                "    requestParameters:",
                "      secretId:",
                *(f"        - {identifier}" for identifier in own_secret_identifiers()),
            ]
    lines += _rule(
        "TamperedStack",
        None,
        event_bridge_sources(home_sources),
        [
            *(
                []
                if stack_branches
                else [f"eventSource: [{', '.join(home_sources)}]", *flow_or_block("eventName", home_names, indent=16)]
            ),
            *exclusion,
            *stack_branches,
        ],
        "iamwarden-tampered: the stack's rules, functions, queues, tables, settings and Slack secrets (by exact ARN "
        "or name), on this account's default bus (not through the forwarder an intruder could disable first).",
    )
    events = sorted(keys.get("events.amazonaws.com", set()) & RULE_EVENTS)  # the member stack has no bus
    lines += _rule(
        "TamperedMemberRules",
        "!Ref CentralEventBus",
        ["aws.events"],
        [
            "eventSource: [events.amazonaws.com]",
            *flow_or_block("eventName", events, indent=16),
            *exclusion,
            "$or:",
            f"  - requestParameters: {{ name: [{', '.join(MEMBER_RULES)}] }}",
            f"  - requestParameters: {{ rule: [{', '.join(MEMBER_RULES)}] }}",
        ],
        "iamwarden-tampered: the member stack's forwarding rules, as its guard rules forward their changes.",
    )
    if any(not name.rsplit("/", 1)[-1].startswith(OWN_RULE_PREFIX) for name in own_rule_names()):
        raise GenerationError(f"an own rule's name does not start with {OWN_RULE_PREFIX}: TamperedOwnRules misses it")
    lines += _rule(
        "TamperedOwnRules",
        "!Ref CentralEventBus",
        ["aws.events"],
        [
            "eventSource: [events.amazonaws.com]",
            *flow_or_block("eventName", events, indent=16),
            *exclusion,
            "$or:",
            f"  - requestParameters: {{ name: [{{ prefix: {OWN_RULE_PREFIX} }}] }}",
            f"  - requestParameters: {{ rule: [{{ prefix: {OWN_RULE_PREFIX} }}] }}",
        ],
        "iamwarden-tampered: the security account's own rules a second time, through the forwarder: a change to "
        "iamwarden-tampered-stack (which routes them on the default bus) is routed by another rule than itself.",
        envelope=["account: [!Ref AWS::AccountId]"],
    )
    lines += member_stack_route(exclusion)
    return "\n".join(lines) + "\n"


#: The operations on a member account's instance of the member StackSet that its guard rules forward (the member
#: template's GuardWatchA/B): each would take IAM Warden out of that account, its changes made by CloudFormation.
MEMBER_STACK_EVENTS = (
    "CreateChangeSet",
    "DeleteStack",
    "ExecuteChangeSet",
    "SetStackPolicy",
    "UpdateStack",
    "UpdateTerminationProtection",
)


def member_stack_route(exclusion: list[str]) -> list[str]:
    """iamwarden-tampered's rule for the member stack's own operations, as the member guard rules forward them.

    Only those rules put ``aws.cloudformation`` events on the central bus (no forwarder forwards the source), and
    they forward only the member StackSet's instance; the code checks the stack's name again."""
    return _rule(
        "TamperedMemberStack",
        "!Ref CentralEventBus",
        ["aws.cloudformation"],
        [
            "eventSource: [cloudformation.amazonaws.com]",
            f"eventName: [{', '.join(MEMBER_STACK_EVENTS)}]",
            *exclusion,
        ],
        "iamwarden-tampered: a member account's instance of the member StackSet deleted or updated there.",
    )


def own_secret_identifiers() -> list[str]:
    """Every way a call names one of IAM Warden's secrets exactly: its full ARN (``!Ref``), its name, and its ARN
    without Secrets Manager's random suffix in this account and region; never a name prefix."""
    return [
        identifier
        for logical, name in OWN_SECRETS
        for identifier in (
            f"!Ref {logical}",
            name,
            f'!Sub "arn:${{AWS::Partition}}:secretsmanager:${{AWS::Region}}:${{AWS::AccountId}}:secret:{name}"',
        )
    ]


#: Events judged only when they give a function one of IAM Warden's roles (any function of the security account).
ROLE_GIVING_ONLY = frozenset({"CreateFunction20150331"})
#: The security account's Lambda execution roles, by their logical ids (``Ref`` gives the role's name).
OWN_FUNCTION_ROLES = ("EnforcerRole", "PrunerRole", "HeartbeatRole", "ExceptionWatchRole", "SlackInteractionsRole")


def own_roles_given() -> list[str]:
    """The ``$or`` branch's lines that route ``ROLE_GIVING_ONLY`` events only when the role given is IAM Warden's.

    By the role's name at the end of its ARN, in any case: IAM role names are unique per account whatever the
    path and the case, so this is that role (the code checks the account too).
    """
    return [
        "    requestParameters:",
        "      role:",
        *(f'        - suffix: {{ equals-ignore-case: !Sub "/${{{role}}}" }}' for role in OWN_FUNCTION_ROLES),
    ]


def own_rule_names() -> list[str]:
    """Every EventBridge rule of the security account's stack, as IAMWARDEN_OWN_RULES names them."""
    central = [f"iamwarden-central/{rule_name(build.route.name)}" for build in routes()]
    tampered = ("TamperedRoles", "TamperedMemberRules", "TamperedOwnRules", "TamperedMemberStack")
    central += ["iamwarden-central/" + rule_name(name) for name in tampered]
    return [*HOME_DEFAULT_BUS_RULES, rule_name("TamperedStack"), *central]


def render_own_rules_environment() -> str:
    return (
        "\n".join(
            [
                "# Every EventBridge rule of this stack by exact name is iamwarden.domain.declared.OWN_RULES",
                "# (generated with this template; as a variable it alone took over half of Lambda's 4 KB for all of",
                "# a function's variables). iamwarden-tampered judges changes to them; the heartbeat checks each is",
                "# there, enabled, targeted. The member stack's forwarding rules:",
                f"IAMWARDEN_MEMBER_RULES: {','.join(MEMBER_RULES)}",
            ]
        )
        + "\n"
    )


def _forwarded_pattern(sources: Sequence[str], exclusion: Sequence[str]) -> str:
    """A forwarder's EventPattern: every mutating management call of ``sources``, and the guarded data events."""
    if not sources:
        raise GenerationError("a forwarder would forward no event source")
    data_events = sorted(name for source, name in guarded_events() & DATA_EVENTS if source in sources)
    category = (
        [
            "# Management calls, and the data events guardrails read (the trail must log them).",
            "$or:",
            "  - eventCategory: [Management]",
            f"  - eventName: [{', '.join(data_events)}]",
        ]
        if data_events
        else ["eventCategory: [Management]"]
    )
    # AWS service events too, for a source some rule judges one of (Organizations' AccountDepartedOrganization).
    with_service_events = any(source in sources for source, _ in service_events())
    kinds = [CLOUDTRAIL_API_CALL, *([CLOUDTRAIL_SERVICE_EVENT] if with_service_events else [])]
    lines = [
        f"source: [{', '.join(event_bridge_sources(sources))}]",
        f"detail-type: [{', '.join(kinds)}]",
        "detail:",
        f"  eventSource: [{', '.join(sources)}]",
        *_nested(category, 2),
        "  errorCode: [{ exists: false }]",
        *_nested(list(exclusion), 2),
    ]
    return "\n".join(lines) + "\n"


#: IAM Warden's own sessions in the security account: each role whose calls are never routed, with every function
#: that runs as it (template.yaml's FunctionName). Lambda names a function's role session after the function.
CENTRAL_OWN_SESSIONS = (
    ("EnforcerRole", "iamwarden-enforcer"),
    ("PrunerRole", "iamwarden-prune-planner"),
    ("PrunerRole", "iamwarden-prune-worker"),
    ("PrunerRole", "iamwarden-prune-watch"),
)
#: The member stack's roles the central functions act through (logical ids), with the session name those functions
#: give them (``iamwarden.domain.own.MEMBER_SESSIONS``).
MEMBER_OWN_SESSIONS = (
    ("RemediationRole", own.MEMBER_SESSIONS["remediator"]),
    ("PrunerMemberRole", own.MEMBER_SESSIONS["pruner-member"]),
)
#: The member stack's roles by the stack parameters naming them, with the same session names: what the member
#: forwarders exclude by exact session ARN where the instance holds no role to read a RoleId from.
MEMBER_SESSIONS_BY_NAME = (
    ("MemberRoleName", own.MEMBER_SESSIONS["remediator"]),
    ("PrunerMemberRoleName", own.MEMBER_SESSIONS["pruner-member"]),
)


def member_sessions_excluded() -> list[str]:
    """The member forwarders' lines that let through every caller but the member stack's own roles' sessions.

    Where the instance holds the roles (the IAM region's, in a member account: ``CreatesRoles``), by exact
    ``principalId`` (``<RoleId>:<session>``): a role deleted and created again under the same name has another
    RoleId, and its calls (IAM's, which arrive in that region only) are forwarded and judged. Elsewhere the
    instance knows no RoleId, so by exact session ARN as before (the enforcer's own regional remediations and
    undos must not come back to it as anyone's)."""
    return [
        "userIdentity: !If",
        "  - CreatesRoles",
        "  - principalId:",
        "      - anything-but:",
        *(f'          - !Sub "${{{role}.RoleId}}:{session}"' for role, session in MEMBER_OWN_SESSIONS),
        "      - exists: false",
        "  - arn:",
        "      - anything-but:",
        *(f"          - {arn}" for arn in own_sessions(MEMBER_SESSIONS_BY_NAME)),
        "      - exists: false",
    ]


def own_sessions(sessions: Sequence[tuple[str, str]]) -> list[str]:
    """The exact assumed-role ARNs of ``sessions`` (a role's logical id or parameter, and the session name)."""
    return [
        f"!Sub arn:${{AWS::Partition}}:sts::${{AWS::AccountId}}:assumed-role/${{{role}}}/{session}"
        for role, session in sessions
    ]


def own_sessions_excluded(sessions: Sequence[tuple[str, str]]) -> list[str]:
    """The pattern lines that let through every caller but IAM Warden's own ``sessions``, by exact session ARN.

    Not the session issuer's ARN: any Lambda function given an own role (``iam:PassRole``), and anyone a widened
    trust lets assume it, gets the same issuer under another session name, and is routed and judged. Never the
    issuer's ``userName`` either. Identities without ``arn`` (an AWS service, another account, SAML and web
    identity users; CloudTrail User Guide, "userIdentity element") are no own session and match ``exists: false``.
    """
    return [
        "userIdentity:",
        "  arn:",
        "    - anything-but:",
        *(f"        - {arn}" for arn in own_sessions(sessions)),
        "    - exists: false",
    ]


def _sources() -> list[str]:
    return sorted({source for source, _ in guarded_events()})


def render_own_forwarder() -> str:
    """The security account's own events, from its default bus to the central bus: every guarded source."""
    return _forwarded_pattern(_sources(), own_sessions_excluded(CENTRAL_OWN_SESSIONS))


def render_member_global_forwarder() -> str:
    """A member account's events of global services (IAM), forwarded from its IAM region only."""
    return _forwarded_pattern([source for source in _sources() if source in GLOBAL_SOURCES], member_sessions_excluded())


def render_member_regional_forwarder() -> str:
    """A member account's events of regional services (S3, ...), forwarded from every region."""
    return _forwarded_pattern(
        [source for source in _sources() if source not in GLOBAL_SOURCES], member_sessions_excluded()
    )


def _parameter(logical: str, name: str, value: str, choices: Sequence[str], description: str) -> list[str]:
    return [
        f"{logical}:",
        "  Type: AWS::SSM::Parameter",
        "  Properties:",
        f"    Name: !Sub ${{SettingsPrefix}}/{name}",
        "    Type: String",
        f"    Value: {scalar(value)}",
        f"    AllowedPattern: {scalar('^(' + '|'.join(choices) + ')$')}",
        f"    Description: {scalar(description)}",
    ]


def render_parameters() -> str:
    """Per rule: its mode parameter, then one parameter per choice option (pattern options start empty)."""
    lines: list[str] = []
    for rule_id, spec in rules().items():
        lines += _parameter(
            f"{camel(rule_id)}ModeParameter",
            f"rules/{rule_id}/mode",
            spec.default_mode.value,
            MODES,
            f"IAM Warden rule {rule_id}: {', '.join(MODES[:-1])} or {MODES[-1]}",
        )
        for option, option_spec in spec.options.items():
            if option_spec.kind != "choice":
                continue
            lines += _parameter(
                f"{camel(rule_id)}{camel(option)}Parameter",
                f"rules/{rule_id}/{option}",
                str(option_spec.default),
                option_spec.choices,
                f"IAM Warden rule {rule_id}: {option_spec.doc}",
            )
    return "\n".join(lines) + "\n"


#: Actions whose undo the enforcer's roles are granted too: the Slack Undo button hands the undo to the enforcer,
#: which runs it as its own role (review s11 R9: a quarantine's undo deletes the deny-all boundary and the tags; a
#: grant missing there fails the undo half-way, the user still denied everything). Other actions' undos stay with
#: ``iamwarden undo`` and the operator's credentials (several would give the enforcer what it must never do).
UNDONE_BY_THE_ENFORCER = ("quarantine_user", "quarantine_role")


def declared_permissions() -> list[str]:
    """The union of what the remediation steps declare (and the undos of ``UNDONE_BY_THE_ENFORCER``), in
    declaration order, but what is granted apart."""
    union: dict[str, None] = {}
    undos = [undo for action, undo in registry.UNDO_PERMISSIONS.items() if str(action) in UNDONE_BY_THE_ENFORCER]
    for permissions in (*registry.STEP_PERMISSIONS.values(), *undos):
        union.update(dict.fromkeys(p for p in permissions if p not in registry.GRANTED_APART))
    return list(union)


def _conditionally_scoped_elsewhere() -> list[str]:
    """Actions of a conditional scope that a step outside its ``only_for`` declares with no unconditional scope."""
    unconditional = {action for scope in SCOPES if scope.template_condition is None for action in scope.actions}
    problems = []
    for scope in SCOPES:
        if scope.template_condition is None:
            continue
        for step, permissions in registry.STEP_PERMISSIONS.items():
            if str(step) in scope.only_for:
                continue
            stray = [a for a in permissions if a in scope.actions and a not in unconditional]
            problems += [f"{step} needs {action} (granted only under {scope.template_condition})" for action in stray]
    return problems


def _statement(scope: Scope, actions: Sequence[str]) -> list[str]:
    lines = [f"- Sid: {scope.sid}", "  Effect: Allow"]
    lines += [f"  Action: {actions[0]}"] if len(actions) == 1 else ["  Action:", *(f"    - {a}" for a in actions)]
    resources = list(scope.resources)
    lines += (
        [f"  Resource: {resources[0]}"] if len(resources) == 1 else ["  Resource:", *(f"    - {r}" for r in resources)]
    )
    if scope.condition is not None:
        condition = scope.condition
        lines += ["  Condition:", f"    {condition.operator}:", f"      {condition.key}: {condition.value}"]
    return lines


#: AWS's limit for one customer-managed policy document, in non-whitespace characters (IAM and AWS STS quotas).
MANAGED_POLICY_LIMIT = 6144
#: What one generated managed policy may fill: the limit less a margin for what the estimate cannot know
#: (a longer partition or parameter value than the ones it renders with).
MANAGED_POLICY_BUDGET = 5600
#: Managed policies a role may have attached by default (IAM quota); the remediation grants must leave room.
MANAGED_POLICIES_PER_ROLE = 10
#: The most managed policies the remediation grants may take, leaving the rest of the quota to the operator.
MAX_REMEDIATION_POLICIES = 4
#: Values the size estimate renders intrinsic functions with: the longest each is likely to be.
_RENDERED = {
    "${AWS::Partition}": "aws-us-gov",
    "${AWS::AccountId}": "123456789012",
    "${AWS::Region}": "ap-southeast-2",
}
_UNKNOWN_PARAMETER = "x" * 64
_WHITESPACE = re.compile(r"\s")


def _rendered_value(value: str) -> str:
    """A scope's resource or condition value as IAM would store it: intrinsics replaced by their longest values."""
    if value == ANY:
        return "*"
    if value == "!Ref AWS::AccountId":
        return _RENDERED["${AWS::AccountId}"]
    text = value.removeprefix("!Sub ")
    for placeholder, rendered in _RENDERED.items():
        text = text.replace(placeholder, rendered)
    return re.sub(r"\$\{[^}]+\}", _UNKNOWN_PARAMETER, text)


def statement_size(scope: Scope, actions: Sequence[str]) -> int:
    """The statement's size as IAM counts it (non-whitespace characters of its JSON), intrinsics rendered."""
    statement: dict[str, Any] = {"Sid": scope.sid, "Effect": "Allow", "Action": list(actions)}
    statement["Resource"] = [_rendered_value(r) for r in scope.resources]
    if scope.condition is not None:
        condition = scope.condition
        statement["Condition"] = {condition.operator: {condition.key: _rendered_value(condition.value)}}
    return len(_WHITESPACE.sub("", json.dumps(statement)))


#: ``{"Version":"2012-10-17","Statement":[]}``: what a document adds around its statements.
_DOCUMENT_OVERHEAD = len('{"Version":"2012-10-17","Statement":[]}')


class Grant(NamedTuple):
    """One generated statement: its YAML lines (comment and ``!If`` included) and its rendered size."""

    lines: list[str]
    size: int


def remediation_grants(central: bool = True) -> list[Grant]:
    """The remediation statements: each scope with the declared actions it covers; every declared action scoped."""
    declared = declared_permissions()
    scoped = {action for scope in SCOPES for action in scope.actions}
    unscoped = [action for action in declared if action not in scoped]
    if unscoped:
        raise GenerationError(f"no resource scope for {', '.join(unscoped)}: add it to SCOPES in {TOOL}")
    if stray := _conditionally_scoped_elsewhere():
        raise GenerationError(f"{'; '.join(stray)}: give those actions an unconditional scope in {TOOL}")
    grants: list[Grant] = []
    for scope in SCOPES:
        actions = [action for action in scope.actions if action in declared]
        if not actions or (scope.central_only and not central):
            continue
        lines = [f"# {scope.comment}"] if scope.comment else []
        statement = _statement(scope, actions)
        if scope.template_condition is None:
            lines += statement
        else:
            lines += ["- !If", f"  - {scope.template_condition}", *_nested([f"- {statement[0][2:]}"], 2)]
            lines += _nested(statement[1:], 2)
            lines.append("  - !Ref AWS::NoValue")
        grants.append(Grant(lines, statement_size(scope, actions)))
    return grants


def split_grants(grants: Sequence[Grant], budget: int = MANAGED_POLICY_BUDGET) -> list[list[Grant]]:
    """The grants in order, cut into as few documents as fit ``budget`` each (next fit: the order is kept)."""
    documents: list[list[Grant]] = []
    size = 0
    for grant in grants:
        if _DOCUMENT_OVERHEAD + grant.size + 1 > budget:
            raise GenerationError(f"statement {grant.lines} alone is over {budget} characters: split its scope")
        if not documents or size + grant.size + 1 > budget:
            documents.append([])
            size = _DOCUMENT_OVERHEAD
        documents[-1].append(grant)
        size += grant.size + 1  # and the comma
    if len(documents) > MAX_REMEDIATION_POLICIES:
        raise GenerationError(
            f"the remediation grants need {len(documents)} managed policies, over {MAX_REMEDIATION_POLICIES}"
        )
    return documents


class PolicyHome(NamedTuple):
    """Where a template's remediation managed policies go: logical-ID prefix, role, name, template condition."""

    logical_prefix: str
    role: str
    name: str  # a ``!Sub`` pattern with ``{}`` for the policy's number
    condition: str | None
    description: str


CENTRAL_HOME = PolicyHome(
    "EnforcerRemediations",
    "EnforcerRole",
    "iamwarden-enforcer-remediations-{}-${{AWS::Region}}",
    None,
    "What IAM Warden's remediations call in this account",
)
MEMBER_HOME = PolicyHome(
    "RemediationPolicy",
    "RemediationRole",
    "${{MemberRoleName}}-remediations-{}",
    "CreatesRoles",
    "What IAM Warden's remediations call in this account",
)


def render_policies(home: PolicyHome, central: bool) -> str:
    """The remediation grants as customer-managed policies attached to ``home.role``.

    Managed, not inline: IAM caps a role's inline policies at 10,240 characters in aggregate, which the grants
    alone exceed; a managed policy holds 6,144, and the role may have ten attached.
    """
    documents = split_grants(remediation_grants(central))
    lines: list[str] = []
    for number, grants in enumerate(documents, start=1):
        if number > 1:
            lines.append("")
        lines += [f"{home.logical_prefix}{number}:", "  Type: AWS::IAM::ManagedPolicy"]
        if home.condition:
            lines.append(f"  Condition: {home.condition}")
        lines += [
            "  Properties:",
            f"    ManagedPolicyName: !Sub {home.name.format(number)}",
            f"    Description: {home.description} ({number} of {len(documents)})",
            "    Roles:",
            f"      - !Ref {home.role}",
            "    PolicyDocument:",
            '      Version: "2012-10-17"',
            "      Statement:",
        ]
        lines += _nested((line for grant in grants for line in grant.lines), 8)
    return "\n".join(lines) + "\n"


def render_statements() -> str:
    """The security account's remediation managed policies, on the enforcer's role."""
    return render_policies(CENTRAL_HOME, central=True)


def render_enforcer_policy_arns() -> str:
    """The heartbeat's ``IAMWARDEN_ENFORCER_POLICY_ARNS``: the remediation policies the enforcer's role holds."""
    count = len(split_grants(remediation_grants(central=True)))
    refs = [f"    - !Ref {CENTRAL_HOME.logical_prefix}{number}" for number in range(1, count + 1)]
    refs[0] = "  - " + refs[0][4:]
    return "\n".join(["IAMWARDEN_ENFORCER_POLICY_ARNS: !Join", '  - ","', *refs]) + "\n"


def render_own_policies_environment() -> str:
    """The enforcer's knowledge of IAM Warden's own managed policies, for ``iamwarden-tampered`` (``domain.own``):
    the stack's by exact ARN, the member stack's by name (path / in the member accounts)."""
    count = len(split_grants(remediation_grants(central=False)))
    names = ",".join(
        MEMBER_HOME.name.format(number).replace("{{", "{").replace("}}", "}") for number in range(1, count + 1)
    )
    return render_enforcer_policy_arns() + f"IAMWARDEN_MEMBER_POLICY_NAMES: !Sub {names}\n"


def render_deploy_snapshot_policies() -> str:
    """The deploy snapshot's properties that name the stack's own managed policies, and a digest of what they
    grant: a deploy that changes a grant changes the digest, so CloudFormation asks for a new snapshot (an Update)
    once the policies are updated (the ``!Ref`` makes the snapshot wait for them)."""
    digest = hashlib.sha256(render_statements().encode()).hexdigest()[:16]
    arns = render_enforcer_policy_arns().replace("IAMWARDEN_ENFORCER_POLICY_ARNS:", "OwnPolicies:", 1)
    return arns + f"OwnPolicyDigest: {digest}\n"


def render_member_statements() -> str:
    """The member remediation role's: the same, without what acts on the security account's own stack."""
    return render_policies(MEMBER_HOME, central=False)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_guardrail_table() -> str:
    lines = [
        "| rule id | title | events | settings besides `mode` | why it matters |",
        "| --- | --- | --- | --- | --- |",
    ]
    for rule_id, spec in rules().items():
        events = ", ".join(f"`{name}`" for name in sorted(spec.event_names))
        settings = []
        for option, option_spec in spec.options.items():
            if option_spec.kind == "choice":
                choices = " or ".join(f"`{choice}`" for choice in option_spec.choices)
                settings.append(f"`{option}`: {choices} (default `{option_spec.default}`)")
            elif option_spec.kind == "fingerprints":
                settings.append(f"`{option}`: SHA-256 fingerprints")
            else:
                settings.append(f"`{option}`: patterns")
        lines.append(
            f"| `{rule_id}` | {_cell(spec.title)} | {events} | {'; '.join(settings) or '-'} | {_cell(spec.risk)} |"
        )
    return "\n".join(lines) + "\n"


def render_action_table() -> str:
    lines = [
        "| remediation action | the enforcer needs | undo | `iamwarden undo` needs |",
        "| --- | --- | --- | --- |",
    ]
    actions = {action.action: action for module in registry.MODULES for action in module.ACTIONS}
    for step_action, permissions in registry.STEP_PERMISSIONS.items():
        action = actions[step_action]
        undo = registry.UNDO_PERMISSIONS.get(step_action, ())
        needs = ", ".join(f"`{p}`" for p in permissions)
        undo_needs = ", ".join(f"`{p}`" for p in undo) or "-"
        lines.append(f"| `{step_action}` | {needs} | {'yes' if action.undoable else '**no**'} | {undo_needs} |")
    return "\n".join(lines) + "\n"


def rules() -> dict[str, RuleSpec]:
    """Every rule id to its spec, from the guardrail modules themselves (``registry.RULES`` is the index's copy)."""
    return registry.rules_of(registry.GUARDRAILS)


def _literal(value: Any) -> str:
    """``value`` as Python source that builds an equal value (the plain data a spec is made of)."""
    if isinstance(value, Enum):
        return f"{type(value).__name__}.{value.name}"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool | int):
        return repr(value)
    if isinstance(value, RuleSpec | OptionSpec):
        fields = ", ".join(f"{field}={_literal(getattr(value, field))}" for field in value._fields)
        return f"{type(value).__name__}({fields})"
    if isinstance(value, tuple):
        items = [_literal(item) for item in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if isinstance(value, frozenset):
        return f"frozenset({{{', '.join(sorted(_literal(item) for item in value))}}})" if value else "frozenset()"
    if isinstance(value, Mapping):
        pairs = ", ".join(f"{_literal(key)}: {_literal(item)}" for key, item in value.items())
        return f"MappingProxyType({{{pairs}}})"
    raise GenerationError(f"cannot write {value!r} ({type(value).__name__}) into the guardrail index")


def render_guardrail_index() -> str:
    """The registry's index: every spec, the modules judging each event in order, each action's module."""
    routes: dict[tuple[str, str], list[tuple[str, int]]] = {}
    action_modules: dict[str, str] = {}
    for name, module in zip(registry.MODULE_NAMES, registry.MODULES, strict=True):
        for position, guardrail in enumerate(module.GUARDRAILS):
            for key in sorted(_event_keys(guardrail)):
                routes.setdefault(key, []).append((name, position))
        for action in module.ACTIONS:
            if action_modules.setdefault(str(action.action), name) != name:
                raise GenerationError(f"two remediation actions are named {action.action}")
    module_rules = registry.rules_of(guardrail for module in registry.MODULES for guardrail in module.GUARDRAILS)
    lines = ["RULES: tuple[RuleSpec, ...] = ("]
    lines += [f"    {_literal(spec)}," for spec in module_rules.values()]
    lines += [")", "ROUTES: Mapping[tuple[str, str], tuple[tuple[str, int], ...]] = {"]
    lines += [f"    {_literal(key)}: {_literal(tuple(found))}," for key, found in sorted(routes.items())]
    lines += ["}", "ACTION_MODULES: Mapping[str, str] = {"]
    lines += [f"    {_literal(action)}: {_literal(name)}," for action, name in action_modules.items()]
    lines += ["}"]
    return "\n".join(lines) + "\n"


# --- what the own stacks declare (domain/declared.py) ------------------------------------------------------

#: The own roles of each template by logical id, as their kinds (``domain.own.DOCUMENTED_ESCALATIONS``).
ROLE_KINDS: Mapping[str, Mapping[str, str]] = {
    "template.yaml": {
        "EnforcerRole": "enforcer",
        "PrunerRole": "pruner",
        "HeartbeatRole": "heartbeat",
        "ExceptionWatchRole": "exception-watch",
        "SlackInteractionsRole": "slack-interactions",
        "OwnEventsForwarderRole": "event-forwarder",
    },
    "member/template.yaml": {
        "RemediationRole": "remediator",
        "PrunerMemberRole": "pruner-member",
        "SnapshotReaderRole": "snapshot-reader",
        "ForwarderRole": "member-forwarder",
    },
}


def _cfn_name(value: Any) -> str | None:
    """A name as the template writes it: plain, or ``!Sub`` with ``${AWS::Region}`` as ``{region}`` and the member
    roles' name parameters as ``{role}``."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("Fn::Sub"), str):
        text = value["Fn::Sub"].replace("${AWS::Region}", "{region}")
        # The member roles' names are parameters: a policy named after its role says so with {role}.
        text = text.replace("${MemberRoleName}", "{role}").replace("${PrunerMemberRoleName}", "{role}")
        return None if "${" in text.replace("${SettingsPrefix}", "") else text
    return None


def _refs(value: Any) -> set[str]:
    """The logical ids ``value`` names with ``!Ref`` or ``!GetAtt``, anywhere inside."""
    found: set[str] = set()
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner.split(".")[0] if isinstance(inner, str) else str(inner[0]))
            else:
                found |= _refs(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _refs(inner)
    return found


def _policy_names(value: Any) -> set[str]:
    """Every ``PolicyName`` inside ``value`` (a role's ``Policies``, conditional ones included)."""
    found: set[str] = set()
    if isinstance(value, Mapping):
        name = _cfn_name(value.get("PolicyName"))
        if name:
            found.add(name)
        for inner in value.values():
            found |= _policy_names(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _policy_names(inner)
    return found


def declared_own() -> dict[str, Any]:
    """What the two templates declare on IAM Warden's own roles, settings and functions (``domain.declared``)."""
    inline: dict[str, set[str]] = {}
    managed: dict[str, set[str]] = {}
    settings: set[str] = set()
    permissions: set[str] = set()
    invoke_configs: set[str] = set()
    for path, kinds in ROLE_KINDS.items():
        resources: Mapping[str, Any] = yaml_parse((ROOT / path).read_text(encoding="utf-8"))["Resources"]
        for logical, kind in kinds.items():
            properties = resources[logical]["Properties"]
            inline.setdefault(kind, set()).update(_policy_names(properties.get("Policies", [])))
            for arn in properties.get("ManagedPolicyArns", []) or []:
                name = _cfn_name(arn)
                if name:
                    managed.setdefault(kind, set()).add(name.rsplit("/", 1)[-1])
        for logical, resource in resources.items():
            kind_of = {
                logical_id: kinds[logical_id]
                for logical_id in _refs(resource.get("Properties", {}))
                if logical_id in kinds
            }
            properties = resource.get("Properties", {})
            if resource["Type"] in ("AWS::IAM::RolePolicy", "AWS::IAM::Policy"):
                for kind in kind_of.values():
                    inline.setdefault(kind, set()).add(str(_cfn_name(properties.get("PolicyName"))))
            elif resource["Type"] == "AWS::IAM::ManagedPolicy":
                name = _cfn_name(properties.get("ManagedPolicyName")) or logical
                for role in _refs(properties.get("Roles", [])):
                    if role in kinds:
                        managed.setdefault(kinds[role], set()).add(name)
            elif resource["Type"] == "AWS::SSM::Parameter" and path == "template.yaml":
                name = _cfn_name(properties.get("Name"))
                if name and name.startswith("${SettingsPrefix}/"):
                    settings.add(name.removeprefix("${SettingsPrefix}/"))
            elif resource["Type"] == "AWS::Lambda::Permission" and path == "template.yaml":
                permissions.add(logical)
            elif resource["Type"] == "AWS::Serverless::Function" and path == "template.yaml":
                # SAM names the permission of each event source <Function><Event>Permission.
                for event in properties.get("Events", {}) or {}:
                    permissions.add(f"{logical}{event}Permission")
                if properties.get("EventInvokeConfig") and isinstance(properties.get("FunctionName"), str):
                    invoke_configs.add(properties["FunctionName"])
    return {
        "inline": inline,
        "managed": managed,
        "settings": settings,
        "permissions": permissions,
        "invoke_configs": invoke_configs,
        "member_rules": member_rule_patterns(),
    }


def _with_placeholders(value: Any) -> Any:
    """A template value with each ``!Sub`` as its text (``${...}`` left for the reader to fill in)."""
    if isinstance(value, Mapping):
        if list(value) == ["Fn::Sub"] and isinstance(value["Fn::Sub"], str):
            return value["Fn::Sub"]
        return {key: _with_placeholders(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_with_placeholders(inner) for inner in value]
    return value


def member_rule_patterns() -> dict[str, str]:
    """The member stack's forwarding rules by name: each EventPattern as JSON, ``${...}`` where the stack fills in."""
    resources = yaml_parse((ROOT / "member/template.yaml").read_text(encoding="utf-8"))["Resources"]
    return {
        resource["Properties"]["Name"]: json.dumps(_with_placeholders(resource["Properties"]["EventPattern"]))
        for resource in resources.values()
        if resource["Type"] == "AWS::Events::Rule" and resource["Properties"]["Name"] in MEMBER_RULES
    }


#: The security account's own roles as the generated content names them (``${role:KIND}``, ``${role-arn:KIND}``).
_HOME_ROLE_KINDS = ROLE_KINDS["template.yaml"]
#: The stack parameters whose deployed value the enforcer knows from its environment (the member roles' names), in
#: the vocabulary ``declared_content.fill`` reads.
_KNOWN_PARAMETERS = {parameter: "${member-role:" + kind + "}" for parameter, kind in MEMBER_TEMPLATE_PARAMETERS.items()}
_SUB_TOKEN = re.compile(r"\$\{([A-Za-z0-9]+)(\.Arn)?\}")


class _Resolver:
    """A template value as text with the ``${...}`` the enforcer fills in (``domain.declared_content.fill``).

    ``${AWS::Partition}``, ``${AWS::Region}``, ``${AWS::AccountId}``: the event's; ``${role:KIND}`` and
    ``${role-arn:KIND}``: an own role's name and ARN; ``${member-role:KIND}``: a member role's name; ``${secret:NAME}``:
    a secret's ARN as ``!Ref`` gives it. Every other reference is resolved here: a resource's name or ARN, a stack
    parameter's default (a deploy with another value is judged against the default, and says so).
    """

    def __init__(self, template: Mapping[str, Any]) -> None:
        self.resources: Mapping[str, Any] = template["Resources"]
        self.parameters: Mapping[str, Any] = template.get("Parameters", {})

    def ref(self, logical: str, attribute: str | None = None) -> str:
        if logical.startswith("AWS::"):
            if attribute is None and logical in ("AWS::Partition", "AWS::Region", "AWS::AccountId"):
                return "${" + logical + "}"
            raise GenerationError(f"an own rule names {logical}, which the enforcer cannot fill in")
        if logical in _HOME_ROLE_KINDS:
            kind = _HOME_ROLE_KINDS[logical]
            return "${role-arn:" + kind + "}" if attribute == "Arn" else "${role:" + kind + "}"
        if logical in _KNOWN_PARAMETERS and attribute is None:
            return _KNOWN_PARAMETERS[logical]
        if logical in self.parameters and attribute is None:
            default = self.parameters[logical].get("Default")
            if default is None:
                raise GenerationError(f"an own rule names the parameter {logical}, which has no default")
            return str(default)
        resource = self.resources.get(logical)
        if resource is None:
            raise GenerationError(f"an own rule names {logical}, which the template does not declare")
        kind, properties = resource["Type"], resource.get("Properties", {})
        account = "${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}"
        if kind == "AWS::Events::EventBus":
            name = str(properties["Name"])
            return f"arn:{account % 'events'}:event-bus/{name}" if attribute == "Arn" else name
        if kind in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            name = str(properties["FunctionName"])
            return f"arn:{account % 'lambda'}:function:{name}" if attribute == "Arn" else name
        if kind == "AWS::IAM::ManagedPolicy" and attribute is None:
            return "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/" + str(
                self.value(properties["ManagedPolicyName"])
            )
        if kind == "AWS::SQS::Queue" and attribute == "Arn":
            return f"arn:{account % 'sqs'}:{properties['QueueName']}"
        if kind == "AWS::SecretsManager::Secret" and attribute is None:
            return "${secret:" + str(properties["Name"]) + "}"
        if kind == "AWS::SNS::Topic" and attribute is None:  # !Ref gives a topic's ARN
            return f"arn:{account % 'sns'}:" + str(properties["TopicName"])
        raise GenerationError(f"an own rule names {logical} ({kind}), which the enforcer cannot fill in")

    def text(self, sub: str) -> str:
        def one(match: re.Match[str]) -> str:
            return self.ref(match.group(1), "Arn" if match.group(2) else None)

        return _SUB_TOKEN.sub(one, sub)  # ${AWS::...} (no match: a colon) stays for the enforcer

    def value(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            if list(value) == ["Ref"]:
                return self.ref(str(value["Ref"]))
            if list(value) == ["Fn::GetAtt"]:
                target = value["Fn::GetAtt"]
                logical, attribute = target.split(".", 1) if isinstance(target, str) else (target[0], target[1])
                return self.ref(str(logical), str(attribute))
            if list(value) == ["Fn::Sub"] and isinstance(value["Fn::Sub"], str):
                return self.text(value["Fn::Sub"])
            if any(key.startswith("Fn::") for key in value):
                raise GenerationError(f"an own rule holds {sorted(value)}, which the enforcer cannot fill in")
            return {key: self.value(inner) for key, inner in value.items()}
        if isinstance(value, list):
            return [self.value(inner) for inner in value]
        return value


class _DocumentResolver(_Resolver):
    """An own role's inline policy document as text to fill in: the rules' resolver, plus the resources such a
    document names by a fixed name (a table, a queue, a log group, the alert topic) and the alert key
    (``${alert-key}``: its ARN from the environment). Anything else (a key the stack may or may not create, an
    ``!If`` on a parameter) raises: that document is not declared here, and its restore rests on a snapshot."""

    def ref(self, logical: str, attribute: str | None = None) -> str:
        resource = self.resources.get(logical, {})
        kind, properties = resource.get("Type"), resource.get("Properties", {})
        where = "${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}"
        if kind == "AWS::DynamoDB::Table" and attribute == "Arn" and isinstance(properties.get("TableName"), str):
            return f"arn:{where % 'dynamodb'}:table/{properties['TableName']}"
        if kind == "AWS::SQS::Queue" and attribute == "Arn" and isinstance(properties.get("QueueName"), str):
            return f"arn:{where % 'sqs'}:{properties['QueueName']}"
        if kind == "AWS::Logs::LogGroup" and attribute == "Arn" and isinstance(properties.get("LogGroupName"), str):
            return f"arn:{where % 'logs'}:log-group:{properties['LogGroupName']}:*"
        if kind == "AWS::SNS::Topic" and attribute is None and isinstance(properties.get("TopicName"), str):
            return f"arn:{where % 'sns'}:{properties['TopicName']}"
        if kind == "AWS::SQS::Queue" and attribute == "QueueName" and isinstance(properties.get("QueueName"), str):
            return str(properties["QueueName"])
        if logical == "AlertKey" and attribute == "Arn":
            return "${alert-key}"
        return super().ref(logical, attribute)


def own_alarms() -> dict[str, str]:
    """Each CloudWatch alarm of template.yaml as ``PutMetricAlarm``'s arguments (JSON with the ``${...}`` the enforcer
    fills in), by alarm name: ``iamwarden-tampered`` writes it back when someone redefines or deletes the alarm."""
    template = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    resolver = _DocumentResolver(template)
    alarms: dict[str, str] = {}
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            properties = resolver.value(resource["Properties"])
            alarms[str(properties["AlarmName"])] = json.dumps(properties, sort_keys=True)
    return dict(sorted(alarms.items()))


def own_inline_documents() -> dict[str, dict[str, str]]:
    """Each inline policy of the security account's own roles whose whole document template.yaml declares (JSON
    with the ``${...}`` the enforcer fills in), by role kind and policy name: ``iamwarden-tampered`` puts these
    back, and the heartbeat compares them, without any snapshot."""
    template = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    resources: Mapping[str, Any] = template["Resources"]
    kinds = ROLE_KINDS["template.yaml"]
    resolver = _DocumentResolver(template)
    found: dict[str, dict[str, str]] = {}

    def add(kind: str, name: Any, document: Any) -> None:
        if not isinstance(name, str):
            return
        try:
            text = json.dumps(resolver.value(document), sort_keys=True)
        except GenerationError:
            return  # not wholly declared: a snapshot of it is what a restore has
        found.setdefault(kind, {})[name] = text

    for logical, kind in kinds.items():
        for policy in resources[logical]["Properties"].get("Policies", []) or []:
            if isinstance(policy, Mapping):
                add(kind, policy.get("PolicyName"), policy.get("PolicyDocument"))
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::RolePolicy":
            properties = resource["Properties"]
            for role in _refs(properties.get("RoleName")):
                if role in kinds:
                    add(kinds[role], properties.get("PolicyName"), properties.get("PolicyDocument"))
    return {kind: dict(sorted(policies.items())) for kind, policies in sorted(found.items())}


def _template_as_generated() -> str:
    """template.yaml with its generated blocks as this run writes them (the rules' patterns are among them)."""
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    for block in BLOCKS:
        if block.path == "template.yaml":
            text = splice(text, block.path, block.name, block.render())
    return text


def own_rule_content() -> dict[str, dict[str, Any]]:
    """Each rule of the security account's stack (``OWN_RULES``' keys) as the template declares it: its pattern or
    schedule, its state and the ARN of its one target (``${...}`` for the enforcer to fill in)."""
    template = yaml_parse(_template_as_generated())
    resolve = _Resolver(template)
    content: dict[str, dict[str, Any]] = {}

    def add(name: Any, bus: Any, pattern: Any, schedule: Any, *, state: Any, target: Any) -> None:
        bus_name = "default" if bus in (None, "default") else resolve.value(bus)
        key = str(name) if bus_name == "default" else f"{bus_name}/{name}"
        content[key] = {
            "pattern": resolve.value(pattern) if pattern is not None else None,
            "schedule": resolve.value(schedule) if schedule is not None else None,
            "state": str(state) if state is not None else "ENABLED",
            "target": resolve.value(target),
        }

    for logical, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Events::Rule":
            targets = properties.get("Targets", [])
            if len(targets) != 1 or any(key in targets[0] for key in ("Input", "InputPath", "InputTransformer")):
                raise GenerationError(f"rule {logical} declares other than one target passing the event on")
            add(
                properties["Name"],
                properties.get("EventBusName"),
                properties.get("EventPattern"),
                properties.get("ScheduleExpression"),
                state=properties.get("State"),
                target=targets[0]["Arn"],
            )
        elif resource["Type"] == "AWS::Serverless::Function":
            for event in (properties.get("Events") or {}).values():
                spec = event.get("Properties", {})
                if event["Type"] not in ("EventBridgeRule", "Schedule"):
                    continue
                if any(key in spec for key in ("Input", "InputPath", "InputTransformer", "Enabled")):
                    raise GenerationError(f"an event of {logical} declares what the content check does not read")
                add(
                    spec.get("RuleName") or spec.get("Name"),
                    spec.get("EventBusName"),
                    spec.get("Pattern"),
                    spec.get("Schedule"),
                    state=spec.get("State"),
                    target={"Fn::GetAtt": f"{logical}.Arn"},
                )
    missing = sorted(set(own_rule_names()) - set(content))
    if missing:
        raise GenerationError(f"the own rules {missing} are not found in template.yaml")
    return {key: content[key] for key in sorted(own_rule_names())}


def declared_concurrency() -> dict[str, int]:
    """Each function of the stack whose reserved concurrency the template declares as a number (the enforcer's is a
    parameter: its environment says, ``IAMWARDEN_ENFORCER_RESERVED_CONCURRENCY``)."""
    template = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    return {
        str(resource["Properties"]["FunctionName"]): int(resource["Properties"]["ReservedConcurrentExecutions"])
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
        and isinstance(resource.get("Properties", {}).get("ReservedConcurrentExecutions"), int)
    }


def declared_invoke_config_content() -> dict[str, dict[str, Any]]:
    """Each own function's event invoke config as the template declares it, for ``restore_function_invoke_config``.
    A destination is an ARN with ``${AWS::Partition}``/``${AWS::Region}``/``${AWS::AccountId}`` to fill in, or None
    when the template gives no literal name to build it from (then the rule alerts only: never a guess)."""
    template = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    resources = template["Resources"]

    def destination(value: Any) -> str | None:
        if isinstance(value, Mapping) and list(value) == ["Fn::GetAtt"]:
            logical, attribute = _get_att(value["Fn::GetAtt"])
            target = resources.get(logical, {})
            name = target.get("Properties", {}).get("QueueName")
            if attribute == "Arn" and target.get("Type") == "AWS::SQS::Queue" and isinstance(name, str):
                return f"arn:${{AWS::Partition}}:sqs:${{AWS::Region}}:${{AWS::AccountId}}:{name}"
        return None

    content: dict[str, dict[str, Any]] = {}
    for resource in resources.values():
        properties = resource.get("Properties", {})
        config = properties.get("EventInvokeConfig")
        if resource["Type"] != "AWS::Serverless::Function" or not isinstance(config, Mapping):
            continue
        declared: dict[str, Any] = {}
        for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
            if isinstance(config.get(key), int):
                declared[key] = config[key]
        destinations: dict[str, Any] = {}
        for when, target in (config.get("DestinationConfig") or {}).items():
            destinations[when] = destination(target.get("Destination"))
        declared["DestinationConfig"] = destinations
        content[str(properties["FunctionName"])] = declared
    return content


def _get_att(value: Any) -> tuple[str, str]:
    """``!GetAtt A.B`` (a string) or ``[A, B]`` as (logical id, attribute)."""
    if isinstance(value, str):
        logical, _, attribute = value.partition(".")
        return logical, attribute
    return str(value[0]), str(value[1])


def setting_defaults() -> dict[str, str]:
    """The value each settings parameter of the stack has when deployed with the template's defaults (relative to
    the prefix); a value the template computes otherwise (``!If``, ``!Join``) is left out."""
    template = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    parameters = template.get("Parameters", {})
    defaults: dict[str, str] = {}
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        name = _cfn_name(properties.get("Name")) if resource["Type"] == "AWS::SSM::Parameter" else None
        if not name or not name.startswith("${SettingsPrefix}/"):
            continue
        value = properties.get("Value")
        if isinstance(value, Mapping) and list(value) == ["Ref"] and value["Ref"] in parameters:
            value = parameters[value["Ref"]].get("Default")
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            defaults[name.removeprefix("${SettingsPrefix}/")] = str(value)
    return defaults


def own_functions() -> tuple[dict[str, dict[str, Any]], set[str]]:
    """Each function of template.yaml as the heartbeat compares it (handler, runtime, the names of its environment
    variables, Globals' included), and the names the Globals give every function (the same value in each)."""
    template = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    shared = template.get("Globals", {}).get("Function", {})
    shared_names = set((shared.get("Environment") or {}).get("Variables") or {})
    functions: dict[str, dict[str, Any]] = {}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        names = shared_names | set((properties.get("Environment") or {}).get("Variables") or {})
        if "AWS::NoValue" in json.dumps(properties.get("Environment")) + json.dumps(shared.get("Environment")):
            raise GenerationError("a function's variable may be absent (AWS::NoValue): the heartbeat wants each one")
        functions[str(properties["FunctionName"])] = {
            "handler": properties.get("Handler", shared.get("Handler")),
            "runtime": properties.get("Runtime", shared.get("Runtime")),
            "environment": sorted(names),
        }
    return dict(sorted(functions.items())), shared_names


#: The forwarding roles every forwarding rule's target uses, by kind (``ROLE_KINDS``): fully declared by their templates
#: (trust, inline policies, no managed policy, no boundary), so the heartbeat compares each whole and
#: ``iamwarden-tampered`` may put a changed document back.
FORWARDER_ROLES = {"event-forwarder": "template.yaml", "member-forwarder": "member/template.yaml"}
#: The member template's parameters naming the security account's stack, in the vocabulary ``fill`` reads.
_CENTRAL_PARAMETERS = {"${CentralAccountId}": "${central:account}", "${CentralRegion}": "${central:region}"}


def _central_named(value: Any) -> Any:
    """A member template value with the security account and region as ``${central:...}`` (not their defaults)."""
    if isinstance(value, str):
        for parameter, placeholder in _CENTRAL_PARAMETERS.items():
            value = value.replace(parameter, placeholder)
        return value
    if isinstance(value, Mapping):
        return {key: _central_named(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_central_named(inner) for inner in value]
    return value


def forwarder_roles() -> dict[str, dict[str, Any]]:
    """Each forwarding role as its template declares it: trust, inline policies by name, managed policies, boundary.

    Refused unless the role is declared whole on its resource (no policy of another resource attached to it, no
    managed policy, no boundary): only then is the declared document the one to compare and to put back.
    """
    attached = declared_own()
    roles: dict[str, dict[str, Any]] = {}
    for kind, path in FORWARDER_ROLES.items():
        template = yaml_parse((ROOT / path).read_text(encoding="utf-8"))
        logical = next(name for name, role_kind in ROLE_KINDS[path].items() if role_kind == kind)
        properties = _central_named(template["Resources"][logical]["Properties"])
        resolve = _Resolver(template)
        inline = {
            str(policy["PolicyName"]): resolve.value(policy["PolicyDocument"]) for policy in properties["Policies"]
        }
        if set(inline) != attached["inline"].get(kind, set()) or attached["managed"].get(kind):
            raise GenerationError(f"{path} {logical}: a policy of another resource is attached to it")
        if properties.get("ManagedPolicyArns") or properties.get("PermissionsBoundary"):
            raise GenerationError(f"{path} {logical}: the heartbeat compares a forwarding role with no managed policy")
        roles[kind] = {
            "trust": resolve.value(properties["AssumeRolePolicyDocument"]),
            "inline": inline,
            "managed": [],
            "boundary": None,
        }
    return roles


def own_queue_policies() -> dict[str, str]:
    """Each queue policy of template.yaml by the exact name of its queue (JSON), for ``iamwarden-tampered``'s restore
    and the heartbeat's comparison."""
    template = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    resources, resolve = template["Resources"], _Resolver(template)
    policies: dict[str, str] = {}
    for logical, resource in resources.items():
        if resource["Type"] != "AWS::SQS::QueuePolicy":
            continue
        properties = resource["Properties"]
        for queue in properties["Queues"]:
            if not (isinstance(queue, Mapping) and list(queue) == ["Ref"]):
                raise GenerationError(f"{logical} names a queue other than by !Ref")
            name = str(resources[queue["Ref"]]["Properties"]["QueueName"])
            policies[name] = json.dumps(resolve.value(properties["PolicyDocument"]), sort_keys=True)
    return dict(sorted(policies.items()))


#: The marker for the ``OperatorRoleArns`` parameter's ARNs in a declared list (``declared_content.fill_operators``
#: puts each of them in its place, none when the parameter is empty).
OPERATOR_ROLE_ARNS = "${operator-role-arns}"


class _TablePolicyResolver(_Resolver):
    """The audit and exceptions tables' resource policies: ``!If [HasOperatorRoles, !Split [",", !Sub "...,
    ${OperatorRoleArns}"], !Split [",", !Sub "..."]]`` as one list ending in ``OPERATOR_ROLE_ARNS``. Refused unless
    the branch without operators is that same list without the marker: only then is the one list both branches."""

    def ref(self, logical: str, attribute: str | None = None) -> str:
        if logical == "OperatorRoleArns" and attribute is None:
            return OPERATOR_ROLE_ARNS
        return super().ref(logical, attribute)

    def value(self, value: Any) -> Any:
        if isinstance(value, Mapping) and list(value) == ["Fn::If"]:
            name, with_operators, without = value["Fn::If"]
            if name != "HasOperatorRoles":
                raise GenerationError(f"a table's policy is conditional on {name}, which the enforcer does not know")
            listed, unlisted = self.value(with_operators), self.value(without)
            if not isinstance(listed, list) or listed != [*unlisted, OPERATOR_ROLE_ARNS]:
                raise GenerationError("a table's policy names other principals with operators than without them")
            return listed
        if isinstance(value, Mapping) and list(value) == ["Fn::Split"]:
            separator, text = value["Fn::Split"]
            return [item for item in str(self.value(text)).split(separator) if item]
        return super().value(value)


def own_table_policies() -> dict[str, str]:
    """Each own table's resource policy as template.yaml declares it (JSON, ``OPERATOR_ROLE_ARNS`` in the lists
    that name ``OperatorRoleArns``), by table name, for ``iamwarden-tampered``'s restore (audit s7 gap 6)."""
    template = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    resolve = _TablePolicyResolver(template)
    policies: dict[str, str] = {}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::DynamoDB::Table" or "ResourcePolicy" not in resource["Properties"]:
            continue
        properties = resource["Properties"]
        document = resolve.value(properties["ResourcePolicy"]["PolicyDocument"])
        policies[str(properties["TableName"])] = json.dumps(document, sort_keys=True)
    return dict(sorted(policies.items()))


def alert_key_policy() -> str:
    """The alert key's policy as template.yaml declares it (JSON), for ``iamwarden-tampered``'s restore."""
    template = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    policy = _Resolver(template).value(template["Resources"]["AlertKey"]["Properties"]["KeyPolicy"])
    return json.dumps(policy, sort_keys=True)


def fallback_topic_key() -> str:
    template = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    return str(template["Resources"]["AlertFallbackTopic"]["Properties"]["KmsMasterKeyId"])


def fallback_topic_policy() -> str:
    """The fallback topic's policy as template.yaml declares it (JSON), for the heartbeat and ``iamwarden-tampered``."""
    template = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    properties = template["Resources"]["AlertFallbackTopicPolicy"]["Properties"]
    policy = _Resolver(template).value(properties["PolicyDocument"])
    return json.dumps(policy, sort_keys=True)


class _OwnPolicyResolver(_Resolver):
    """The resolver for the enforcer's own managed policies: ``!If`` on a condition the deploy decides by the value
    of one parameter the enforcer knows (``UserRemediation``, its ``IAMWARDEN_USER_REMEDIATION``), and the two
    references its grants name that the enforcer fills in: the alert key's id (``${alert-key:id}``) and the
    settings prefix (``${settings-prefix}``)."""

    def __init__(self, template: Mapping[str, Any], parameter_values: Mapping[str, str]) -> None:
        super().__init__(template)
        self.conditions: Mapping[str, Any] = template.get("Conditions", {})
        self.parameter_values = parameter_values

    def ref(self, logical: str, attribute: str | None = None) -> str:
        if logical == "AlertKey" and attribute is None:
            return "${alert-key:id}"
        if logical == "SettingsPrefix" and attribute is None:
            return "${settings-prefix}"
        return super().ref(logical, attribute)

    def condition(self, name: str) -> bool:
        equals = self.conditions.get(name, {}).get("Fn::Equals")
        if not (isinstance(equals, list) and len(equals) == 2 and isinstance(equals[0], Mapping)):
            raise GenerationError(f"an own policy is conditional on {name}, which is no !Equals [!Ref P, value]")
        parameter = str(equals[0].get("Ref"))
        if parameter not in self.parameter_values:
            raise GenerationError(f"an own policy is conditional on {parameter}, which the enforcer does not know")
        return self.parameter_values[parameter] == str(equals[1])

    def value(self, value: Any) -> Any:
        if isinstance(value, Mapping) and list(value) == ["Fn::If"]:
            name, when_true, when_false = value["Fn::If"]
            return self.value(when_true if self.condition(str(name)) else when_false)
        if isinstance(value, Mapping) and value == {"Ref": "AWS::NoValue"}:
            return _NO_VALUE
        resolved = super().value(value)
        if isinstance(resolved, list):
            return [item for item in resolved if item is not _NO_VALUE]
        if isinstance(resolved, dict):
            return {key: item for key, item in resolved.items() if item is not _NO_VALUE}
        return resolved


_NO_VALUE = object()


def _documents_by_remediation(documents: Mapping[str, Mapping[str, str]]) -> list[str]:
    """The lines of a generated ``{remediation: MappingProxyType({name: 'document'})}`` table's body."""
    lines: list[str] = []
    for remediation, by_name in documents.items():
        lines.append(f"        {json.dumps(remediation)}: MappingProxyType(")
        lines.append("            {")
        lines.extend(
            f"                {json.dumps(name)}: '{_single_quoted(document)}',  # noqa: E501"
            for name, document in by_name.items()
        )
        lines.extend(("            }", "        ),"))
    return lines


def own_policy_documents() -> dict[str, dict[str, str]]:
    """The enforcer's managed policies' documents as the template declares them (JSON), by ``UserRemediation``
    value (the one parameter they depend on) and then by the policy's name (``${AWS::Region}`` left in)."""
    template = yaml_parse(_template_as_generated())
    resources: Mapping[str, Any] = template["Resources"]
    parameter = template["Parameters"]["UserRemediation"]
    documents: dict[str, dict[str, str]] = {}
    for value in sorted(parameter["AllowedValues"]):
        resolver = _OwnPolicyResolver(template, {"UserRemediation": str(value)})
        by_name: dict[str, str] = {}
        for logical in sorted(resources):
            resource = resources[logical]
            if resource["Type"] != "AWS::IAM::ManagedPolicy" or not logical.startswith("EnforcerRemediations"):
                continue
            name = str(resolver.value(resource["Properties"]["ManagedPolicyName"]))
            by_name[name] = json.dumps(resolver.value(resource["Properties"]["PolicyDocument"]), sort_keys=True)
        documents[str(value)] = by_name
    return documents


def _member_template_as_generated() -> str:
    """member/template.yaml with its generated blocks as this run writes them (its remediation policies)."""
    text = (ROOT / "member/template.yaml").read_text(encoding="utf-8")
    for block in BLOCKS:
        if block.path == "member/template.yaml":
            text = splice(text, block.path, block.name, block.render())
    return text


def member_policy_documents() -> dict[str, dict[str, str]]:
    """The member remediation role's managed policies' documents as member/template.yaml declares them (JSON), by
    ``UserRemediation`` value and then by policy name (``${member-role:remediator}`` for ``MemberRoleName``): what
    a detached grant must still hold before ``iamwarden-tampered`` attaches it back."""
    template = yaml_parse(_member_template_as_generated())
    resources: Mapping[str, Any] = template["Resources"]
    documents: dict[str, dict[str, str]] = {}
    for value in sorted(template["Parameters"]["UserRemediation"]["AllowedValues"]):
        resolver = _OwnPolicyResolver(template, {"UserRemediation": str(value)})
        by_name: dict[str, str] = {}
        for logical in sorted(resources):
            resource = resources[logical]
            if resource["Type"] != "AWS::IAM::ManagedPolicy" or not logical.startswith("RemediationPolicy"):
                continue
            name = str(resolver.value(resource["Properties"]["ManagedPolicyName"]))
            by_name[name] = json.dumps(resolver.value(resource["Properties"]["PolicyDocument"]), sort_keys=True)
        documents[str(value)] = by_name
    return documents


#: The inline policy of each template that lets ``iamwarden-tampered`` attach a detached remediation grant back to
#: the role it came off, by template and logical id.
REATTACH_GRANT_POLICIES: Mapping[str, str] = {
    "template.yaml": "EnforcerReattachGrantsPolicy",
    "member/template.yaml": "RemediationReattachGrantsPolicy",
}


def reattach_grants() -> dict[str, tuple[str, str]]:
    """Each attach grant (``REATTACH_GRANT_POLICIES``) by its role's kind: its inline policy's name and its whole
    document (JSON with the ``${...}`` ``declared_content.fill`` fills in). The privilege-escalation exemption for
    a CloudFormation deploy holds for exactly this document on exactly that role."""
    found: dict[str, tuple[str, str]] = {}
    for path, logical in REATTACH_GRANT_POLICIES.items():
        template = yaml_parse((ROOT / path).read_text(encoding="utf-8"))
        properties = template["Resources"][logical]["Properties"]
        [role] = _refs(properties["RoleName"])
        resolver = _DocumentResolver(template) if path == "template.yaml" else _Resolver(template)
        document = json.dumps(resolver.value(properties["PolicyDocument"]), sort_keys=True)
        found[ROLE_KINDS[path][role]] = (str(properties["PolicyName"]), document)
    return dict(sorted(found.items()))


def central_bus_policy() -> str:
    """The central bus's whole policy as template.yaml declares it (JSON; every ``AWS::Events::EventBusPolicy`` on
    ``CentralEventBus``), ``${organization-id}`` for the ``OrganizationId`` parameter, for ``iamwarden-tampered``'s
    restore and the heartbeat's comparison: any other statement (a Deny beside the Allow) is a difference."""
    template = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    resolver = _Resolver(template)
    statements = []
    for logical, resource in sorted(template["Resources"].items()):
        properties = resource.get("Properties", {})
        if resource["Type"] != "AWS::Events::EventBusPolicy":
            continue
        if properties.get("EventBusName") != {"Ref": "CentralEventBus"} or "Statement" not in properties:
            raise GenerationError(f"{logical}: a bus policy the generator cannot read (not one Statement on the bus)")
        statement = {"Sid": properties["StatementId"], **properties["Statement"]}
        text = json.dumps(statement, sort_keys=True).replace('{"Ref": "OrganizationId"}', '"${organization-id}"')
        statements.append(resolver.value(json.loads(text)))
    return json.dumps({"Statement": statements, "Version": "2012-10-17"}, sort_keys=True)


def _single_quoted(text: str) -> str:
    """``text`` as the inside of a single-quoted Python literal (the formatter's choice for JSON with quotes)."""
    if "'" in text or "\\" in text:
        raise GenerationError(f"a member rule's pattern holds a quote or backslash: {text[:80]}")
    return text


def render_declared_own() -> str:
    declared = declared_own()

    def by_kind(name: str, values: Mapping[str, set[str]], doc: str) -> list[str]:
        lines = [f"#: {doc}", f"{name}: Mapping[str, frozenset[str]] = MappingProxyType(", "    {"]
        for kind in sorted(values):
            items = [f"                {json.dumps(item)}," for item in sorted(values[kind])]
            lines += [f"        {json.dumps(kind)}: frozenset(", "            {", *items, "            }", "        ),"]
        return [*lines, "    }", ")"]

    def flat(name: str, values: set[str], doc: str) -> list[str]:
        return [
            f"#: {doc}",
            f"{name}: frozenset[str] = frozenset(",
            "    {",
            *(f"        {json.dumps(item)}," for item in sorted(values)),
            "    }",
            ")",
        ]

    lines = [
        *by_kind("INLINE_POLICIES", declared["inline"], "Inline policy names of each own role, by kind."),
        *by_kind("MANAGED_POLICIES", declared["managed"], "Managed policy names attached to each own role, by kind."),
        *flat("SETTINGS", declared["settings"], "The settings parameters the stack creates, relative to the prefix."),
        *flat("PERMISSIONS", declared["permissions"], "Logical ids of the Lambda permissions the stack declares."),
        *flat("INVOKE_CONFIGS", declared["invoke_configs"], "Functions whose event invoke config the stack declares."),
        *flat(
            "OWN_RULES",
            set(own_rule_names()),
            "Every EventBridge rule of the security account's stack by exact name (bus/name; bare on the default bus).",
        ),
        "#: Each rule of the security account's stack as its template declares it (``domain.declared_content``):",
        "#: JSON of its EventPattern or schedule, its state and its one target's ARN, the event passed on unchanged.",
        "OWN_RULE_CONTENT: Mapping[str, str] = MappingProxyType(",
        "    {",
        *(
            f"        {json.dumps(name)}: '{_single_quoted(json.dumps(rule, sort_keys=True))}',  # noqa: E501"
            for name, rule in own_rule_content().items()
        ),
        "    }",
        ")",
        "#: The reserved concurrency the template declares as a number, by function (the enforcer's is a parameter).",
        "RESERVED_CONCURRENCY: Mapping[str, int] = MappingProxyType(",
        "    {",
        *(f"        {json.dumps(name)}: {value}," for name, value in sorted(declared_concurrency().items())),
        "    }",
        ")",
        "#: Each own function's event invoke config as the template declares it (JSON); a destination is an ARN to",
        "#: fill in (${AWS::Partition}, ${AWS::Region}, ${AWS::AccountId}) or null when it cannot be built.",
        "INVOKE_CONFIG_CONTENT: Mapping[str, str] = MappingProxyType(",
        "    {",
        *(
            f"        {json.dumps(name)}: '{_single_quoted(json.dumps(config, sort_keys=True))}',  # noqa: E501"
            for name, config in sorted(declared_invoke_config_content().items())
        ),
        "    }",
        ")",
        "#: The value of each settings parameter the stack creates, with the template's defaults (relative to the",
        "#: prefix); a value the template computes otherwise is not here.",
        "SETTING_DEFAULTS: Mapping[str, str] = MappingProxyType(",
        "    {",
        *(f"        {json.dumps(name)}: {json.dumps(value)}," for name, value in sorted(setting_defaults().items())),
        "    }",
        ")",
        "#: The member stack's forwarding rules: each EventPattern as JSON, with the ``${...}`` the stack fills in",
        "#: (``${AWS::Partition}``, ``${AWS::AccountId}``, ``${MemberRoleName}``, ``${PrunerMemberRoleName}``).",
        "MEMBER_RULE_PATTERNS: Mapping[str, str] = MappingProxyType(",
        "    {",
        *(
            f"        {json.dumps(name)}: '{_single_quoted(pattern)}',  # noqa: E501"
            for name, pattern in sorted(declared["member_rules"].items())
        ),
        "    }",
        ")",
        "#: Each function of the security account's stack as the heartbeat compares it: its handler, runtime and the",
        "#: names of its environment variables (JSON).",
        "OWN_FUNCTIONS: Mapping[str, str] = MappingProxyType(",
        "    {",
        *(
            f"        {json.dumps(name)}: '{_single_quoted(json.dumps(function, sort_keys=True))}',  # noqa: E501"
            for name, function in own_functions()[0].items()
        ),
        "    }",
        ")",
        *flat(
            "SHARED_ENVIRONMENT",
            own_functions()[1],
            "The environment variables the template's Globals give every function, the same value in each.",
        ),
        "#: The forwarding roles by kind (``event-forwarder`` in template.yaml, ``member-forwarder`` in the member",
        "#: template) as JSON: trust, inline policies by name, managed policies, boundary; ``${central:account}`` and",
        "#: ``${central:region}`` for the security account's stack (``declared_content.declared_forwarder_role``).",
        "FORWARDER_ROLES: Mapping[str, str] = MappingProxyType(",
        "    {",
        *(
            f"        {json.dumps(kind)}: '{_single_quoted(json.dumps(role, sort_keys=True))}',  # noqa: E501"
            for kind, role in forwarder_roles().items()
        ),
        "    }",
        ")",
        "#: Each queue policy of template.yaml by its queue's exact name, as JSON (``${AWS::...}`` for the stack).",
        "OWN_QUEUE_POLICIES: Mapping[str, str] = MappingProxyType(",
        "    {",
        *(
            f"        {json.dumps(queue)}: '{_single_quoted(policy)}',  # noqa: E501"
            for queue, policy in own_queue_policies().items()
        ),
        "    }",
        ")",
        "#: Each own table's resource policy as template.yaml declares it, by table name, as JSON: ``${AWS::...}``",
        f"#: for the stack, ``{OPERATOR_ROLE_ARNS}`` in a list for the ``OperatorRoleArns`` parameter's ARNs.",
        "OWN_TABLE_POLICIES: Mapping[str, str] = MappingProxyType(",
        "    {",
        *(
            f"        {json.dumps(table)}: '{_single_quoted(policy)}',  # noqa: E501"
            for table, policy in own_table_policies().items()
        ),
        "    }",
        ")",
        "#: The alert key's policy as template.yaml declares it (``AlertKey``), as JSON: ``${AWS::Partition}`` and",
        "#: ``${AWS::AccountId}`` where the stack fills them in, ``${role-arn:KIND}`` for an own role's ARN",
        "#: (``declared_content.fill`` fills them all).",
        f"ALERT_KEY_POLICY = '{_single_quoted(alert_key_policy())}'  # noqa: E501",
        "#: The fallback topic's policy as template.yaml declares it (``AlertFallbackTopicPolicy``), filled in alike.",
        f"ALERT_FALLBACK_TOPIC_POLICY = '{_single_quoted(fallback_topic_policy())}'  # noqa: E501",
        "#: The key the fallback topic is encrypted with: AWS-managed, so no account admin can change its policy.",
        f"ALERT_FALLBACK_TOPIC_KEY = {json.dumps(fallback_topic_key())}",
        "#: The enforcer's managed policies (its remediation grants) as template.yaml declares them, by the",
        "#: ``UserRemediation`` parameter (``IAMWARDEN_USER_REMEDIATION``) and then by policy name: JSON with",
        "#: ``${AWS::Partition}``, ``${AWS::Region}``, ``${AWS::AccountId}``, ``${alert-key:id}`` and",
        "#: ``${settings-prefix}`` for ``declared_content.fill``. The only document recorded as deployed.",
        "OWN_POLICY_DOCUMENTS: Mapping[str, Mapping[str, str]] = MappingProxyType(",
        "    {",
        *_documents_by_remediation(own_policy_documents()),
        "    }",
        ")",
        "#: Each alarm of the security account's stack as template.yaml declares it (PutMetricAlarm's arguments).",
        "OWN_ALARM_DEFINITIONS: Mapping[str, str] = MappingProxyType(",
        "    {",
        *(f"        {json.dumps(name)}: {text!r},  # noqa: E501" for name, text in own_alarms().items()),
        "    }",
        ")",
        "#: The inline policies of the security account's own roles whose whole document the template declares, by",
        "#: role kind and policy name (JSON; ``declared_content.fill`` fills the ``${...}``, ``${alert-key}`` too).",
        "#: The others (a document naming a key the stack may not create, or a parameter's ``!If``) are not here.",
        "OWN_INLINE_DOCUMENTS: Mapping[str, Mapping[str, str]] = MappingProxyType(",
        "    {",
        *(
            line
            for kind, policies in own_inline_documents().items()
            for line in (
                f"        {json.dumps(kind)}: {{",
                *(
                    f"            {json.dumps(name)}: '{_single_quoted(text)}',  # noqa: E501"
                    for name, text in policies.items()
                ),
                "        },",
            )
        ),
        "    }",
        ")",
        "#: The member remediation role's managed policies (its remediation grants) as member/template.yaml declares",
        "#: them, by ``UserRemediation`` and then by policy name (``${member-role:remediator}`` for its name): JSON",
        "#: for ``declared_content.fill``. A detached one is attached back only while it holds this document.",
        "MEMBER_POLICY_DOCUMENTS: Mapping[str, Mapping[str, str]] = MappingProxyType(",
        "    {",
        *_documents_by_remediation(member_policy_documents()),
        "    }",
        ")",
        "#: The inline attach grant of each role kind that holds one: its policy name and whole document (JSON for",
        "#: ``declared_content.fill``): ``iam:AttachRolePolicy`` on that very role, ``ArnEquals`` ``iam:PolicyARN``",
        "#: its own remediation policies. CloudFormation deploying exactly this is no privilege-escalation finding.",
        "REATTACH_GRANTS: Mapping[str, tuple[str, str]] = MappingProxyType(",
        "    {",
        *(
            line
            for kind, (name, document) in reattach_grants().items()
            for line in (
                f"        {json.dumps(kind)}: (",
                f"            {json.dumps(name)},",
                f"            '{_single_quoted(document)}',  # noqa: E501",
                "        ),",
            )
        ),
        "    }",
        ")",
        "#: The central bus's whole policy as template.yaml declares it (its ``AWS::Events::EventBusPolicy``",
        "#: statements), as JSON: ``${AWS::...}`` and ``${organization-id}`` (``OrganizationId``) to fill in.",
        f"CENTRAL_BUS_POLICY = '{_single_quoted(central_bus_policy())}'  # noqa: E501",
    ]
    return "\n".join(lines) + "\n"


# --- the blocks and their markers --------------------------------------------------------------------------


class Block(NamedTuple):
    path: str
    name: str
    render: Callable[[], str]


BLOCKS: tuple[Block, ...] = (
    Block("template.yaml", "enforcer-remediations", render_statements),
    Block("template.yaml", "enforcer-policy-arns", render_enforcer_policy_arns),
    Block("template.yaml", "own-policies", render_own_policies_environment),
    Block("template.yaml", "deploy-snapshot-policies", render_deploy_snapshot_policies),
    Block("template.yaml", "enforcer-rules", render_routes),
    Block("template.yaml", "rule-parameters", render_parameters),
    Block("template.yaml", "forwarded-events", render_own_forwarder),
    Block("template.yaml", "own-rules", render_own_rules_environment),
    Block("member/template.yaml", "enforcer-remediations", render_member_statements),
    Block("member/template.yaml", "forwarded-global-events", render_member_global_forwarder),
    Block("member/template.yaml", "forwarded-regional-events", render_member_regional_forwarder),
    Block("README.md", "guardrail-table", render_guardrail_table),
    Block("README.md", "remediation-actions", render_action_table),
    Block("layers/core/iamwarden/guardrails/index.py", "guardrail-index", render_guardrail_index),
    Block("layers/core/iamwarden/domain/declared.py", "declared-own", render_declared_own),
)


def _markers(path: str, name: str) -> tuple[re.Pattern[str], re.Pattern[str], str, str]:
    """Patterns that find a block's markers, and the marker lines (without indentation) that write them."""
    begin = f"BEGIN GENERATED: {name} ({TOOL}; do not edit)"
    end = f"END GENERATED: {name}"
    if path.endswith(".md"):
        begin_line, end_line = f"<!-- {begin} -->", f"<!-- {end} -->"
        prefix = r"<!-- "
    else:
        begin_line, end_line = f"# {begin}", f"# {end}"
        prefix = r"# "
    begin_re = re.compile(rf"^(?P<indent>[ ]*){prefix}BEGIN GENERATED: {re.escape(name)}\b.*$")
    end_re = re.compile(rf"^[ ]*{prefix}END GENERATED: {re.escape(name)}\b.*$")
    return begin_re, end_re, begin_line, end_line


def splice(text: str, path: str, name: str, content: str) -> str:
    """``text`` with the block ``name`` replaced by ``content``, indented as its BEGIN marker is."""
    begin_re, end_re, begin_line, end_line = _markers(path, name)
    lines = text.splitlines(keepends=True)
    begins = [(i, found) for i, line in enumerate(lines) if (found := begin_re.match(line.rstrip("\n")))]
    ends = [i for i, line in enumerate(lines) if end_re.match(line.rstrip("\n"))]
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0][0]:
        raise GenerationError(f"{path}: expected one BEGIN and then one END GENERATED marker for {name}")
    [(start, found)] = begins
    indent = found.group("indent")
    body = [(indent + line if line else line) for line in content.splitlines()]
    block = [indent + begin_line, *body, indent + end_line]
    return "".join(lines[:start]) + "\n".join(block) + "\n" + "".join(lines[ends[0] + 1 :])


def hand_written_problems(root: Path) -> list[str]:
    """Checked, not generated: the README's hand-written table of what each rule flags names exactly the rules."""
    text = (root / "README.md").read_text(encoding="utf-8")
    after = text.split("END GENERATED: guardrail-table", 1)[-1].splitlines()
    header = next((i for i, line in enumerate(after) if line.startswith("| rule id |")), None)
    if header is None:
        return ["README.md: no hand-written guardrail table (| rule id | ...) after the generated one"]
    rows: list[str] = []
    for line in after[header + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(line.split("|")[1].strip().strip("`"))
    missing = [rule_id for rule_id in rules() if rule_id not in rows]
    unknown = [rule_id for rule_id in rows if rule_id not in rules()]
    return [
        *(f"README.md: the hand-written guardrail table has no row for {rule_id}; write it" for rule_id in missing),
        *(f"README.md: the hand-written guardrail table lists {rule_id}, which is no rule" for rule_id in unknown),
    ]


def generated(root: Path) -> tuple[dict[str, str], list[str]]:
    """Every file with its blocks rewritten, and which blocks (``path: name``) differ from the files on disk."""
    files: dict[str, str] = {}
    stale: list[str] = []
    rendered: dict[Callable[[], str], str] = {}
    for block in BLOCKS:
        if block.path not in files:
            files[block.path] = (root / block.path).read_text(encoding="utf-8")
        if block.render not in rendered:
            rendered[block.render] = block.render()
        before = files[block.path]
        after = splice(before, block.path, block.name, rendered[block.render])
        if after != before:
            stale.append(f"{block.path}: {block.name}")
        files[block.path] = after
    return files, stale


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if a generated block is out of date")
    args = parser.parse_args(argv)
    try:
        files, stale = generated(root)
    except GenerationError as error:
        print(f"{TOOL}: {error}", file=sys.stderr)
        return 2
    problems = hand_written_problems(root)
    if args.check:
        for name in stale:
            print(f"{name} is out of date; run .venv/bin/python {TOOL}", file=sys.stderr)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if stale or problems else 0
    for path, text in files.items():
        if (root / path).read_text(encoding="utf-8") != text:
            (root / path).write_text(text, encoding="utf-8")
    print(f"{TOOL}: {len(stale)} of {len(BLOCKS)} blocks rewritten" + (f" ({', '.join(stale)})" if stale else ""))
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
