"""``managed-policy-attached``: AWS-managed policies are too broad for any one workload.

The remediation detaches exactly the attached policy ARN from exactly that role,
user or group; ``privilege-escalation`` uses the same step for a customer-managed
policy that escalates (``detach_step``). Only what the event added: a policy attached
before the event (attaching it again succeeds) is not detached, and when that is not
known the finding is alert-only (``guardrails.attachments``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from iamwarden.adapters.errors import ignoring, is_gone
from iamwarden.domain.arns import iam_arn
from iamwarden.domain.catalog import Mode, OptionSpec, RuleSpec, Severity
from iamwarden.domain.exceptions import InvalidEventError, UndoError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.wildcards import wildcard_match
from iamwarden.guardrails.attachments import (
    ATTACH_PRINCIPAL,
    UndoneOn,
    attached_before,
    only_if_added,
    policy_attached_again,
)
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.remediation import AccountClients, Permissions, StepRun, pages

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
    alert_risk=(
        "AWS-managed policies are written for every AWS customer at once, so they grant whole services on every "
        "resource in the account, far more than one application needs, and all of it is exposed if this identity "
        "is misused."
    ),
)

#: An AWS-managed policy ARN, in any partition.
AWS_MANAGED_POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/(?P<path_name>.+)$")

#: AWS-managed policies that are admin-equivalent or let the holder make itself so.
ADMIN_EQUIVALENT: Mapping[str, str] = {
    "AdministratorAccess": "gives full control of every service and resource in the account",
    "AdministratorAccess-Amplify": "gives administrator access to Amplify and the services behind it, IAM included",
    "AdministratorAccess-AWSElasticBeanstalk": (
        "gives administrator access to Elastic Beanstalk, including passing any role"
    ),
    "IAMFullAccess": "gives full control of IAM, enough to grant itself anything",
    "PowerUserAccess": "gives full access to every service except IAM user management",
    "AWSOrganizationsFullAccess": "gives full control of the AWS Organization and its accounts",
}
#: AWS-managed policies whose every statement is a Deny: attaching one only takes access away, so it is
#: never a finding (issue 14: containment must not be reverted). Source: the AWS Managed Policy Reference
#: (docs.aws.amazon.com/aws-managed-policy/latest/reference), checked against the policy documents moto
#: bundles (tests/unit/test_deny_only_policies.py). Keyed by path/name, as the ARN names them.
DENY_ONLY: Mapping[str, str] = {
    "AWSDenyAll": "denies every action",
    "AWSCompromisedKeyQuarantine": "denies the actions AWS blocks for a leaked access key",
    "AWSCompromisedKeyQuarantineV2": "denies the actions AWS blocks for a leaked access key",
    "AWSCompromisedKeyQuarantineV3": "denies the actions AWS blocks for a leaked access key",
    "AWSIAMIdentityCenterAllowListForIdentityContext": "denies every action outside IAM Identity Center's list",
    "root-task/IAMAuditRootUserCredentials": "denies every action but the root-credential audit task",
    "root-task/IAMCreateRootUserPassword": "denies every action but creating a root password",
    "root-task/IAMDeleteRootUserCredentials": "denies every action but deleting root credentials",
    "root-task/S3UnlockBucketPolicy": "denies every action but unlocking a bucket policy",
    "root-task/SQSUnlockQueuePolicy": "denies every action but unlocking a queue policy",
}
_BROAD: Mapping[str, str] = {
    "ReadOnlyAccess": "lets it read everything in the account, including the data in every bucket and table",
    "ViewOnlyAccess": "lets it list and describe every resource in the account",
}


class ManagedPolicyAttachedRule:
    """Attach{Role,User,Group}Policy of an AWS-managed policy not on the allowlist."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (MANAGED_POLICY_ATTACHED,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        kind, parameter = ATTACH_PRINCIPAL[change.event_name]
        principal = context.request_text(parameter)
        policy_arn = context.request_text("policyArn")
        arn = iam_arn(context.partition, change.account, kind, principal)
        evaluation = Evaluation(resource_arn=arn)
        match = AWS_MANAGED_POLICY_ARN.match(policy_arn)
        if match is None:
            if not policy_arn.startswith("arn:"):
                raise InvalidEventError(f"detail.requestParameters.policyArn is not an ARN: {policy_arn!r}")
            evaluation.compliant.append(f"{policy_arn} is a customer-managed policy, not an AWS-managed one")
            return evaluation
        path_name = match["path_name"]
        name = path_name.rsplit("/", 1)[-1]
        hit = _allowed_by(context, policy_arn, path_name)
        if hit is not None:
            evaluation.compliant.append(f"{name} matches {hit!r} in rules/{MANAGED_POLICY_ATTACHED.id}/allow_policies")
            return evaluation
        if path_name in DENY_ONLY:
            evaluation.compliant.append(
                f"{name} only denies ({DENY_ONLY[path_name]}): attaching it takes access away, never adds any"
            )
            return evaluation

        if name in ADMIN_EQUIVALENT:
            severity, effect = Severity.CRITICAL, ADMIN_EQUIVALENT[name]
        else:
            severity = Severity.HIGH
            effect = _BROAD.get(name, "grants every action of its services on every resource, not just what is needed")
        # Attaching a policy that is attached already succeeds: then the event added nothing to take away.
        added = only_if_added(
            attached_before(context, arn, policy_arn),
            detach_step(arn, kind, principal, policy_arn),
            f"{name} was attached to {kind} {principal}",
            "detach it",
        )
        evaluation.findings.append(
            context.finding(
                MANAGED_POLICY_ATTACHED,
                severity=severity,
                resource_arn=arn,
                reason=added.told(
                    f"The AWS-managed policy {name} was attached to {kind} {principal} by "
                    f"{change.actor.display}; it {effect}."
                ),
                plan=added.plan,
                offending=[{"policy_arn": policy_arn}],
                needs_context=added.needs_context,
            )
        )
        return evaluation


def _allowed_by(context: RuleContext, policy_arn: str, path_name: str) -> str | None:
    """The ``allow_policies`` pattern that lets this AWS-managed policy be attached, or None."""
    name = path_name.rsplit("/", 1)[-1]
    allowed = context.rule(MANAGED_POLICY_ATTACHED.id).patterns("allow_policies")
    return next(
        (p for p in allowed if wildcard_match(p, path_name) or wildcard_match(p, name) or p == policy_arn), None
    )


def reported_as_admin(context: RuleContext, policy_arn: str) -> str | None:
    """What this rule says when it reports attaching ``policy_arn`` as admin-equivalent (critical), or None.

    ``privilege-escalation`` judges AWS-managed attachments on the principal's whole power too; on a policy this
    rule already calls admin-equivalent by name it would only say the same again (one alert per change, not two).
    None when the rule is off, or does less than privilege-escalation would (alert while it remediates: the
    strongest policies must not be the ones only alerted), the policy is allowlisted or only denies, or is not one of
    ``ADMIN_EQUIVALENT``.
    """
    match = AWS_MANAGED_POLICY_ARN.match(policy_arn)
    mode = context.rule(MANAGED_POLICY_ATTACHED.id).mode
    if match is None or mode is Mode.OFF or not mode.does_at_least(context.rule("privilege-escalation").mode):
        return None
    path_name = match["path_name"]
    name = path_name.rsplit("/", 1)[-1]
    if name not in ADMIN_EQUIVALENT or path_name in DENY_ONLY or _allowed_by(context, policy_arn, path_name):
        return None
    return ADMIN_EQUIVALENT[name]


def detach_step(arn: str, kind: str, principal: str, policy_arn: str) -> RemediationStep:
    """Detach exactly ``policy_arn`` from exactly that role, user or group (both attachment rules' plan)."""
    name = policy_arn.rsplit("/", 1)[-1]
    return RemediationStep(
        DetachManagedPolicy.action,
        arn,
        {"principal_type": kind, "principal_name": principal, "policy_arn": policy_arn},
        f"detach {name} from {kind} {principal}",
    )


_DETACH = {
    "role": ("list_attached_role_policies", "detach_role_policy", "attach_role_policy", "RoleName"),
    "user": ("list_attached_user_policies", "detach_user_policy", "attach_user_policy", "UserName"),
    "group": ("list_attached_group_policies", "detach_group_policy", "attach_group_policy", "GroupName"),
}


class DetachManagedPolicy:
    """Detach exactly the attached policy ARN from exactly that role, user or group."""

    permissions: ClassVar[Permissions] = (
        "iam:ListAttachedRolePolicies",
        "iam:ListAttachedUserPolicies",
        "iam:ListAttachedGroupPolicies",
        "iam:DetachRolePolicy",
        "iam:DetachUserPolicy",
        "iam:DetachGroupPolicy",
    )
    action: ClassVar[StepAction] = StepAction("detach_managed_policy", permissions)
    undo_permissions: ClassVar[Permissions] = (
        "iam:ListAttachedRolePolicies",
        "iam:ListAttachedUserPolicies",
        "iam:ListAttachedGroupPolicies",
        "iam:AttachRolePolicy",
        "iam:AttachUserPolicy",
        "iam:AttachGroupPolicy",
    )
    undoable: ClassVar[bool] = True

    def _attached(self, aws: AccountClients, step: RemediationStep) -> bool | None:
        """Whether the policy is attached now; None when the principal no longer exists."""
        kind, name, policy_arn = (step.parameters[k] for k in ("principal_type", "principal_name", "policy_arn"))
        list_operation, _, _, parameter = _DETACH[kind]
        try:
            return any(
                policy["PolicyArn"] == policy_arn
                for policy in pages(aws.iam, list_operation, "AttachedPolicies", **{parameter: name})
            )
        except Exception as exc:
            if is_gone(exc):
                return None
            raise

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        attached = self._attached(aws, step)
        return {"exists": attached is not None, "attached": bool(attached)}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["attached"]:
            return  # detached since, or the principal is gone: already compliant
        kind, name, policy_arn = (step.parameters[k] for k in ("principal_type", "principal_name", "policy_arn"))
        _, detach, _, parameter = _DETACH[kind]
        with ignoring():
            getattr(run.aws.iam, detach)(**{parameter: name, "PolicyArn": policy_arn})
            done.append(f"detached {policy_arn} from {kind} {name}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        kind, name, policy_arn = (step.parameters[k] for k in ("principal_type", "principal_name", "policy_arn"))
        if not before["attached"]:
            return []
        attached = self._attached(aws, step)
        if attached is None:
            raise UndoError(f"{kind} {name} no longer exists; {policy_arn} cannot be re-attached")
        if attached:
            return []
        _, _, attach, parameter = _DETACH[kind]
        getattr(aws.iam, attach)(**{parameter: name, "PolicyArn": policy_arn})
        return [f"re-attached {policy_arn} to {kind} {name}"]

    def undone_on(self, step: RemediationStep, before: Mapping[str, Any]) -> UndoneOn | None:
        """What a successful undo leaves attached, for the principal's ``attachments`` record (the remediation was
        not recorded there: the record before the event, without the policy, held again)."""
        if not before["attached"]:
            return None
        kind, name, policy_arn = (step.parameters[k] for k in ("principal_type", "principal_name", "policy_arn"))
        return policy_attached_again(kind, name, policy_arn)


GUARDRAILS = (ManagedPolicyAttachedRule(),)
ACTIONS = (DetachManagedPolicy(),)
