"""What an identity policy lets its holder become: admin-equivalent grants and privilege-escalation paths.

The escalation methods are kept as data (``ESCALATION_METHODS``). They are the
methods published by Spencer Gietzen of Rhino Security Labs in "AWS IAM
Privilege Escalation - Methods and Mitigation"
(https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/),
with the names and action sets of the privilege-escalation check of
Salesforce's cloudsplaining (github.com/salesforce/cloudsplaining), which NCC
Group's PMapper (github.com/nccgroup/PMapper) also models as edges, plus
PMapper's SageMaker notebook edge. Each method lists the actions that together make it work and,
per action, the kind of resource the action must reach.

A method is *reachable* when, for every one of its actions, some Allow
statement grants the action (wildcards and NotAction included) on a resource
of the kind the method needs, and no unconditional Deny on every resource takes
it away. Two readings are deliberately conservative, because a missed
escalation is worse than a reviewed false alarm: conditions on an Allow do not
make it unreachable (IAM Warden cannot evaluate them offline), and an Allow with
NotResource reaches everything it does not exclude. The actions on users
count only "on other users": a resource confined to ``${aws:username}`` is the
caller's own user, which Rhino's list does not count.

Everything here is pure: it judges a parsed ``Policy`` and never calls AWS.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from iamwarden.domain.policy import Policy, Statement, action_matches
from iamwarden.domain.principals import PrincipalPolicies, RoleDirectory

#: Resource kinds an action must reach, as the resource part of an ARN starts ("" = any resource).
ANY = ""
ROLE = "role/"
USER = "user/"
GROUP = "group/"
POLICY = "policy/"
_SELF = "${aws:username}"


class EscalationMethod(NamedTuple):
    """One published method: its name, what it lets an attacker do, and the actions it needs."""

    name: str
    description: str
    actions: Mapping[str, str]  # action -> resource kind it must reach


def _m(name: str, description: str, actions: dict[str, str]) -> EscalationMethod:
    return EscalationMethod(name, description, MappingProxyType(actions))


#: The Rhino Security Labs methods (names as cloudsplaining spells them), in the source's order.
ESCALATION_METHODS: tuple[EscalationMethod, ...] = (
    _m(
        "CreateNewPolicyVersion",
        "write a new default version of a managed policy it is attached to",
        {"iam:CreatePolicyVersion": POLICY},
    ),
    _m(
        "SetExistingDefaultPolicyVersion",
        "make an older, broader version of a managed policy the default",
        {"iam:SetDefaultPolicyVersion": POLICY},
    ),
    _m(
        "CreateEC2WithExistingIP",
        "start an EC2 instance with an existing role and take that role's credentials",
        {"iam:PassRole": ROLE, "ec2:RunInstances": ANY},
    ),
    _m("CreateAccessKey", "create access keys for other users and act as them", {"iam:CreateAccessKey": USER}),
    _m(
        "CreateLoginProfile",
        "give other users a console password and sign in as them",
        {"iam:CreateLoginProfile": USER},
    ),
    _m(
        "UpdateLoginProfile",
        "change other users' console passwords and sign in as them",
        {"iam:UpdateLoginProfile": USER},
    ),
    _m(
        "AttachUserPolicy",
        "attach any managed policy, AdministratorAccess too, to a user",
        {"iam:AttachUserPolicy": USER},
    ),
    _m("AttachGroupPolicy", "attach any managed policy to a group it is in", {"iam:AttachGroupPolicy": GROUP}),
    _m(
        "AttachRolePolicy",
        "attach any managed policy to a role it can assume",
        {"iam:AttachRolePolicy": ROLE, "sts:AssumeRole": ROLE},
    ),
    _m("PutUserPolicy", "write itself an inline policy that grants anything", {"iam:PutUserPolicy": USER}),
    _m("PutGroupPolicy", "write an inline policy granting anything to a group it is in", {"iam:PutGroupPolicy": GROUP}),
    _m(
        "PutRolePolicy",
        "write an inline policy granting anything to a role it can assume",
        {"iam:PutRolePolicy": ROLE, "sts:AssumeRole": ROLE},
    ),
    _m("AddUserToGroup", "add itself to any group, an administrators group too", {"iam:AddUserToGroup": GROUP}),
    _m(
        "UpdateRolePolicyToAssumeIt",
        "rewrite a role's trust policy to let itself in, then assume the role",
        {"iam:UpdateAssumeRolePolicy": ROLE, "sts:AssumeRole": ROLE},
    ),
    _m(
        "PassExistingRoleToNewLambdaThenInvoke",
        "create a Lambda function with an existing role and run code as that role",
        {"iam:PassRole": ROLE, "lambda:CreateFunction": ANY, "lambda:InvokeFunction": ANY},
    ),
    _m(
        "PassExistingRoleToNewLambdaThenTriggerWithExistingDynamo",
        "create a Lambda function with an existing role and have an event source run it",
        {"iam:PassRole": ROLE, "lambda:CreateFunction": ANY, "lambda:CreateEventSourceMapping": ANY},
    ),
    _m(
        "PassExistingRoleToNewGlueDevEndpoint",
        "create a Glue development endpoint with an existing role and log in to it",
        {"iam:PassRole": ROLE, "glue:CreateDevEndpoint": ANY},
    ),
    _m(
        "UpdateExistingGlueDevEndpoint",
        "put its own SSH key on a Glue development endpoint and use the endpoint's role",
        {"glue:UpdateDevEndpoint": ANY},
    ),
    _m(
        "PassExistingRoleToCloudFormation",
        "create a CloudFormation stack that acts with an existing role",
        {"iam:PassRole": ROLE, "cloudformation:CreateStack": ANY},
    ),
    _m(
        "PassExistingRoleToNewDataPipeline",
        "create a Data Pipeline that runs commands with an existing role",
        {"iam:PassRole": ROLE, "datapipeline:CreatePipeline": ANY},
    ),
    _m(
        "EditExistingLambdaFunctionWithRole",
        "replace the code of an existing Lambda function and run it as the function's role",
        {"lambda:UpdateFunctionCode": ANY},
    ),
    _m(
        "PassExistingRoleToNewSageMakerNotebook",
        "create a SageMaker notebook with an existing role and open it in the browser",
        {
            "iam:PassRole": ROLE,
            "sagemaker:CreateNotebookInstance": ANY,
            "sagemaker:CreatePresignedNotebookInstanceUrl": ANY,
        },
    ),
)


class Grant(NamedTuple):
    """One action of a method and the resources (patterns) through which the policy grants it."""

    action: str
    resources: tuple[str, ...]


class EscalationPath(NamedTuple):
    """A reachable method: which one, and which grants of the policy make it so."""

    method: EscalationMethod
    grants: tuple[Grant, ...]

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(grant.action for grant in self.grants)

    def describe(self) -> str:
        """``CreateAccessKey (iam:CreateAccessKey on *)``: the method, then each action on its resources."""
        parts = ", ".join(f"{grant.action} on {' and '.join(grant.resources)}" for grant in self.grants)
        return f"{self.method.name} ({parts})"


class AdminGrant(NamedTuple):
    """An Allow statement that is admin-equivalent (critical) or gives a whole service everywhere (not critical)."""

    statement: Statement
    why: str
    critical: bool


class PolicyRisk(NamedTuple):
    """Everything dangerous one identity policy grants."""

    admin: tuple[AdminGrant, ...]
    escalations: tuple[EscalationPath, ...]
    #: Facts the verdict needed but could not know (what a passed role may do, say): never remediated on.
    unknown: tuple[str, ...] = ()

    @property
    def risky(self) -> bool:
        return bool(self.admin or self.escalations)

    @property
    def critical(self) -> bool:
        return any(grant.critical for grant in self.admin) or bool(self.escalations)


def assess(policy: Policy) -> PolicyRisk:
    """The admin-equivalent grants and the reachable escalation methods of an identity policy."""
    return PolicyRisk(admin_grants(policy), escalation_paths(policy))


def assess_principal(principal: PrincipalPolicies, roles: RoleDirectory | None = None) -> PolicyRisk:
    """What a principal's whole policy set grants: every policy's statements judged together.

    A first reading: Deny statements of any policy apply to the others because the statements are
    judged as one document; the permissions boundary and ``roles`` are not consulted yet.
    """
    del roles
    statements = tuple(statement for named in principal.policies for statement in named.policy.statements)
    return assess(Policy(version="2012-10-17", statements=statements, raw={}))


def admin_grants(policy: Policy) -> tuple[AdminGrant, ...]:
    """Allow statements granting ``*``, ``iam:*`` on every resource, NotAction, or a wildcard service."""
    found: list[AdminGrant] = []
    for statement in policy.statements:
        if not statement.allows:
            continue
        everywhere = _every_resource(statement)
        if statement.not_actions is not None:
            spared = ", ".join(statement.not_actions)
            found.append(AdminGrant(statement, f"allows every action except {spared} (Allow with NotAction)", True))
        elif everywhere and statement.grants_action("*"):
            found.append(AdminGrant(statement, "allows every action on every resource", True))
        elif everywhere and statement.grants_action("iam:*"):
            found.append(AdminGrant(statement, "allows every IAM action on every resource", True))
        elif wild := [a for a in statement.actions or () if _wildcard_service(a)]:
            found.append(AdminGrant(statement, f"allows {', '.join(wild)} in every service the wildcard matches", True))
        elif everywhere:
            services = sorted({a.split(":", 1)[0] for a in statement.actions or () if a.endswith(":*")})
            if services:
                found.append(
                    AdminGrant(statement, f"allows every action of {', '.join(services)} on every resource", False)
                )
    return tuple(found)


def _wildcard_service(action: str) -> bool:
    """``*:Get*`` or ``i*:*``: a wildcard in the service prefix reaches services nobody reviewed."""
    service, colon, _ = action.partition(":")
    return bool(colon) and any(ch in service for ch in "*?")


def escalation_paths(policy: Policy) -> tuple[EscalationPath, ...]:
    """The methods of ``ESCALATION_METHODS`` this policy makes reachable, with the grants that do it."""
    paths: list[EscalationPath] = []
    for method in ESCALATION_METHODS:
        grants: list[Grant] = []
        for action, kind in method.actions.items():
            resources = _reach(policy, action, kind)
            if not resources:
                break
            grants.append(Grant(action, resources))
        else:
            paths.append(EscalationPath(method, tuple(grants)))
    return tuple(paths)


def _reach(policy: Policy, action: str, kind: str) -> tuple[str, ...]:
    """The resource patterns through which ``action`` is allowed on a resource of ``kind``; () if none."""
    if any(_denies_everywhere(statement, action) for statement in policy.statements):
        return ()
    reached: list[str] = []
    for statement in policy.statements:
        if not statement.allows or not statement.grants_action(action):
            continue
        if statement.not_resources is not None:
            reached.append("NotResource " + " and ".join(statement.not_resources))
            continue
        for resource in statement.resources or ():
            if _could_name(resource, action, kind) and resource not in reached:
                reached.append(resource)
    return tuple(reached)


def _denies_everywhere(statement: Statement, action: str) -> bool:
    return (
        statement.effect == "Deny"
        and not statement.conditions
        and statement.grants_action(action)
        and statement.resources is not None
        and "*" in statement.resources
    )


def _could_name(pattern: str, action: str, kind: str) -> bool:
    """Whether resource ``pattern`` can match a resource of ``kind`` for ``action`` (not only the caller itself)."""
    if pattern == "*":
        return True
    if kind == USER and _SELF in pattern.lower():
        return False  # the caller's own user: not "other users"
    parts = pattern.split(":", 5)
    if len(parts) < 6:
        return "*" in pattern
    service = action.split(":", 1)[0]
    if not action_matches(parts[2], service):
        return False
    if kind == ANY:
        return True
    return _could_start_with(parts[5], kind)


def _could_start_with(pattern: str, prefix: str) -> bool:
    """Whether some string starting with ``prefix`` matches the ``*``/``?`` ``pattern``."""
    for index, char in enumerate(prefix):
        if index >= len(pattern):
            return False
        if pattern[index] == "*":
            return True
        if pattern[index] != "?" and pattern[index] != char:
            return False
    return True


def _every_resource(statement: Statement) -> bool:
    """Resource ``*`` (or an all-wildcard ARN), or NotResource: the statement reaches (nearly) everything."""
    if statement.not_resources is not None:
        return True
    for resource in statement.resources or ():
        if resource == "*":
            return True
        parts = resource.split(":", 5)
        if len(parts) == 6 and parts[0] == "arn" and all(part in ("*", "") for part in parts[2:5]) and parts[5] == "*":
            return True
    return False


def is_risky_document(policy: Policy) -> bool:
    """Whether a policy version may not be restored as the default: admin-equivalent or escalating."""
    return assess(policy).risky


__all__ = [
    "ESCALATION_METHODS",
    "AdminGrant",
    "EscalationMethod",
    "EscalationPath",
    "Grant",
    "PolicyRisk",
    "admin_grants",
    "assess",
    "escalation_paths",
    "is_risky_document",
]
