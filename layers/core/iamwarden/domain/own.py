"""IAM Warden's own identity: its roles and resources by exact ARN, as its templates declare them.

A role name is no identity: anyone who may call ``iam:CreateRole`` can name a role ``iamwarden-enforcer``,
at another path or in another account. So IAM Warden knows itself the way its templates do: the exact role
ARNs of the security account's stack (``IAMWARDEN_OWN_ROLE_ARNS``, from ``!GetAtt Role.Arn``), and the names
of the member stack's roles at path ``/`` in every *other* account (``IAMWARDEN_MEMBER_ROLE_NAMES``: a
StackSet creates them there, and a role name is unique per account). Nothing here comes from the SSM
settings, which an intruder with ``ssm:PutParameter`` could rewrite.

Pure: the app reads the environment (``iamwarden.app.config``) and hands an ``OwnIdentity`` to the judgement.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from iamwarden.domain.arns import RoleArn, parse_role_arn

#: What the enforcer's remediations need: the quarantine writes a deny-all inline user policy, inline role, user
#: and group policies are rewritten without their offending grants, the policy-version remediation sets or writes
#: a default version, the trust-policy remediation rewrites trust policies (and the combinations of these).
_REMEDIATOR = frozenset(
    {
        "SetExistingDefaultPolicyVersion",
        "CreateNewPolicyVersion",
        "CreatePolicyVersionThenUpdateAssumeRolePolicy",
        "PutUserPolicy",
        "PutGroupPolicy",
        "PutRolePolicy",
        "PutRolePolicyThenUpdateAssumeRolePolicy",
        "UpdateRolePolicyToAssumeIt",
    }
)
#: What the pruner needs: it writes narrower policy versions and inline policies, and attaches them.
_PRUNER = frozenset({"AttachRolePolicy", "CreateNewPolicyVersion", "PutRolePolicy"})

#: The privilege-escalation methods each of IAM Warden's roles needs for its job, by the role's kind (README
#: "Own roles"); the enforcer and the member remediator it acts through share theirs, as do both pruner roles.
#: CloudFormation deploying exactly these onto exactly these roles is not a finding.
DOCUMENTED_ESCALATIONS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "enforcer": _REMEDIATOR,
        "remediator": _REMEDIATOR,
        "pruner": _PRUNER,
        "pruner-member": _PRUNER,
        "heartbeat": frozenset(),
        # The member stack's read-only role the heartbeat snapshots trails and boundaries through.
        "snapshot-reader": frozenset(),
    }
)


#: The statement id of the central bus's policy that admits the organisation's accounts (template.yaml
#: ``CentralEventBusOrganizationPolicy``): without it every member account's events are refused, silently.
CENTRAL_BUS_STATEMENT_ID = "OrganizationAccountsPutEvents"


class OwnRole(NamedTuple):
    """One of IAM Warden's roles: what kind it is (``DOCUMENTED_ESCALATIONS``) and its exact ARN or name."""

    kind: str
    #: The exact ARN (the security account's roles), or ``role/<name>`` at path / in any member account.
    arn: str


class OwnIdentity(NamedTuple):
    """IAM Warden's roles and resources by exact identity; empty (nothing is its own) unless configured."""

    #: The security account the stack runs in.
    home_account: str | None = None
    #: kind -> exact role ARN, for the security account's stack (path, account and name).
    home_roles: Mapping[str, str] = MappingProxyType({})
    #: kind -> role name of the member stack's roles, at path / in accounts other than ``home_account``.
    member_roles: Mapping[str, str] = MappingProxyType({})
    #: The stack's resources in the security account, by exact name: EventBridge rules (``bus/name``, or the
    #: bare name on the default bus), Lambda functions, SQS queues, DynamoDB tables, the SSM settings prefix.
    rules: frozenset[str] = frozenset()
    functions: frozenset[str] = frozenset()
    queues: frozenset[str] = frozenset()
    tables: frozenset[str] = frozenset()
    settings_prefix: str | None = None
    #: The member stack's EventBridge rules (default bus) in every member account.
    member_rules: frozenset[str] = frozenset()
    #: function name -> the reserved concurrency the template declares (absent: none reserved).
    reserved_concurrency: Mapping[str, int] = MappingProxyType({})
    #: The stack's name, for the exact redeploy command an alert gives.
    stack_name: str | None = None
    #: Own functions whose URL is public by design because the function authenticates each request itself
    #: (the Slack interaction endpoint checks Slack's signature): auth type NONE on their URL is no finding.
    signed_url_functions: frozenset[str] = frozenset()
    #: The central event bus every account's events reach the enforcer on (the security account's), by name.
    central_bus: str | None = None
    #: The organisation the central bus admits (its policy statement ``CENTRAL_BUS_STATEMENT_ID``); None: no
    #: organisation, so the template declares no bus policy.
    organization_id: str | None = None
    #: The alert path: the security topic's ARN, its key's ARN (None: the stack has none), the stack's alarms.
    alert_topic: str | None = None
    alert_key: str | None = None
    alarms: frozenset[str] = frozenset()

    def declared_bus_statement(self, partition: str, region: str) -> dict[str, Any] | None:
        """The central bus's policy statement as the template declares it, or None where it declares none."""
        if not (self.central_bus and self.organization_id and self.home_account):
            return None
        return {
            "Sid": CENTRAL_BUS_STATEMENT_ID,
            "Effect": "Allow",
            "Principal": "*",
            "Action": "events:PutEvents",
            "Resource": f"arn:{partition}:events:{region}:{self.home_account}:event-bus/{self.central_bus}",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": self.organization_id}},
        }

    def role_kind(self, arn: str | None, account: str) -> str | None:
        """The kind of own role ``arn`` is when the change happened in ``account``, or None for any other role."""
        role = parse_role_arn(arn or "")
        if role is None:
            return None
        return self._kind(role, account)

    def _kind(self, role: RoleArn, account: str) -> str | None:
        exact = f"arn:{role.partition}:iam::{role.account}:role{role.path}{role.name}"
        for kind, own in self.home_roles.items():
            if own == exact:
                return kind
        if (
            self.home_account is not None
            and role.account == account != self.home_account
            and role.path == "/"
            and role.name in self.member_roles.values()
        ):
            return next(kind for kind, name in self.member_roles.items() if name == role.name)
        return None

    def is_own_role(self, arn: str | None, account: str) -> bool:
        return self.role_kind(arn, account) is not None

    def documented_escalations(self, arn: str | None, account: str) -> frozenset[str]:
        """The escalation methods own role ``arn`` is documented to hold (empty for any other role)."""
        kind = self.role_kind(arn, account)
        return DOCUMENTED_ESCALATIONS.get(kind, frozenset()) if kind else frozenset()

    def role_names_in(self, account: str) -> tuple[str, ...]:
        """The names of IAM Warden's roles in ``account`` (the security account's or the member stack's)."""
        if account == self.home_account:
            return tuple(arn.rsplit("/", 1)[-1] for arn in self.home_roles.values())
        return tuple(self.member_roles.values()) if self.home_account is not None else ()

    def declared_trust_policy(self, role_name: str, account: str) -> dict[str, Any] | None:
        """The trust policy the template declares for a role of the security account's stack, None for others.

        Every role of ``template.yaml`` is a Lambda execution role trusted by ``lambda.amazonaws.com`` for this
        account only (``aws:SourceAccount``); the member stack's trust the security account with conditions
        the code does not know, so they have none here.
        """
        if account != self.home_account or role_name not in self.role_names_in(account):
            return None
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                }
            ],
        }

    def rules_in(self, account: str) -> frozenset[str]:
        """IAM Warden's EventBridge rules in ``account``: the stack's at home, the member stack's elsewhere."""
        if account == self.home_account:
            return self.rules
        return self.member_rules if self.home_account is not None else frozenset()

    def redeploy_command(self) -> str:
        """The command that puts every resource of the stack back as the template declares it."""
        stack = self.stack_name or "iamwarden"
        return (
            f"aws cloudformation detect-stack-drift --stack-name {stack} (what differs), then "
            f"sam deploy --stack-name {stack} (CloudFormation re-applies only what the template changes, so a "
            "deleted resource comes back with a changed template or a new stack)"
        )


def parse_own_roles(text: str) -> dict[str, str]:
    """``kind=value,kind=value`` (the environment's form) as a mapping; ``ValueError`` naming a bad item."""
    roles: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        kind, sep, value = item.partition("=")
        if not sep or kind.strip() not in DOCUMENTED_ESCALATIONS or not value.strip():
            raise ValueError(f"{item!r} is not kind=role (kinds: {', '.join(DOCUMENTED_ESCALATIONS)})")
        roles[kind.strip()] = value.strip()
    return roles
