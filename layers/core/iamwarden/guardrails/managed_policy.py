"""``managed-policy-attached``: AWS-managed policies are too broad for any one workload."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import ClassVar

from iamwarden.domain.arns import iam_arn
from iamwarden.domain.catalog import MANAGED_POLICY_ATTACHED, RuleSpec, Severity
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.wildcards import wildcard_match
from iamwarden.guardrails.base import Evaluation, RuleContext

#: An AWS-managed policy ARN, in any partition.
AWS_MANAGED_POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/(?P<path_name>.+)$")
#: Attach{Role,User,Group}Policy -> (principal kind, the request parameter naming it).
ATTACH_PRINCIPAL = {
    "AttachRolePolicy": ("role", "roleName"),
    "AttachUserPolicy": ("user", "userName"),
    "AttachGroupPolicy": ("group", "groupName"),
}

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
        allowed = context.rule(MANAGED_POLICY_ATTACHED.id).patterns("allow_policies")
        hit = next(
            (p for p in allowed if wildcard_match(p, path_name) or wildcard_match(p, name) or p == policy_arn), None
        )
        if hit is not None:
            evaluation.compliant.append(f"{name} matches {hit!r} in rules/{MANAGED_POLICY_ATTACHED.id}/allow_policies")
            return evaluation

        if name in ADMIN_EQUIVALENT:
            severity, effect = Severity.CRITICAL, ADMIN_EQUIVALENT[name]
        else:
            severity = Severity.HIGH
            effect = _BROAD.get(name, "grants every action of its services on every resource, not just what is needed")
        evaluation.findings.append(
            context.finding(
                MANAGED_POLICY_ATTACHED,
                severity=severity,
                resource_arn=arn,
                reason=(
                    f"The AWS-managed policy {name} was attached to {kind} {principal} by "
                    f"{change.actor.display}; it {effect}."
                ),
                plan=[detach_step(arn, kind, principal, policy_arn)],
                offending=[{"policy_arn": policy_arn}],
            )
        )
        return evaluation


def detach_step(arn: str, kind: str, principal: str, policy_arn: str) -> RemediationStep:
    """Detach exactly ``policy_arn`` from exactly that role, user or group (both attachment rules' plan)."""
    name = policy_arn.rsplit("/", 1)[-1]
    return RemediationStep(
        StepAction.DETACH_MANAGED_POLICY,
        arn,
        {"principal_type": kind, "principal_name": principal, "policy_arn": policy_arn},
        f"detach {name} from {kind} {principal}",
    )
