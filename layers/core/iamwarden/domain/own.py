"""IAM Warden's own identity: its roles and resources by exact ARN, as its templates declare them.

A role name is no identity: anyone who may call ``iam:CreateRole`` can name a role ``iamwarden-enforcer``,
at another path or in another account. So IAM Warden knows itself the way its templates do: the exact role
ARNs of the security account's stack (``IAMWARDEN_OWN_ROLE_ARNS``, from ``!GetAtt Role.Arn``), and the names
of the member stack's roles at path ``/`` in every *other* account (``IAMWARDEN_MEMBER_ROLE_NAMES``: a
StackSet creates them there, and a role name is unique per account). Nothing here comes from the SSM
settings, which an intruder with ``ssm:PutParameter`` could rewrite.

Pure: the app reads the environment (``iamwarden.app.config``) and hands an ``OwnIdentity`` to the judgement.
"""

import json
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from iamwarden.domain.arns import RoleArn, parse_role_arn
from iamwarden.domain.exceptions import ConfigurationError

if TYPE_CHECKING:
    from iamwarden.domain.escalation_methods import EscalationMethod

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
        # Its remediation grant ``RemoveBoundariesFromOwnRoles`` (``iam:DeleteRolePermissionsBoundary`` on
        # ``role/iamwarden-*``): ``iamwarden-tampered`` takes a boundary off an own role (``remove_own_role_boundary``)
        # and undo lifts a quarantine's ``AWSDenyAll`` from a look-alike of an own role's name.
        "DeleteRolePermissionsBoundaryOfItself",
    }
)
#: What the pruner needs: it writes narrower policy versions and inline policies, and attaches them.
_PRUNER = frozenset({"AttachRolePolicy", "CreateNewPolicyVersion", "PutRolePolicy", "AssumeStrongerRole"})
#: Assuming the member stack's roles (remediator, pruner-member, snapshot-reader) in each managed account is how
#: the security account's roles work there: PMapper's STS edge, documented.
_ASSUMES_MEMBER_ROLES = frozenset({"AssumeStrongerRole"})

#: The privilege-escalation methods each of IAM Warden's roles needs for its job, by the role's kind (README
#: "Own roles"); the enforcer and the member remediator it acts through share theirs, as do both pruner roles.
#: CloudFormation deploying exactly these (and their compositions: ``documented_methods``) onto exactly these roles
#: is not a finding. ``AttachRolePolicy`` is not the
#: enforcer's nor the remediator's: their inline attach grant is exempt only as declared (``engine._exemption``).
DOCUMENTED_ESCALATIONS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "enforcer": _REMEDIATOR | _ASSUMES_MEMBER_ROLES,
        "remediator": _REMEDIATOR,
        "pruner": _PRUNER,
        "pruner-member": _PRUNER,
        "heartbeat": _ASSUMES_MEMBER_ROLES,
        # The member stack's read-only role the heartbeat snapshots trails and boundaries through.
        "snapshot-reader": frozenset(),
        # The security account's other function roles and EventBridge's forwarding roles: none needs an escalation
        # method, and a Deny on any of them silences part of the loop (the heartbeat, expiry, Slack, forwarding).
        "exception-watch": _ASSUMES_MEMBER_ROLES,
        "slack-interactions": frozenset(),
        "event-forwarder": frozenset(),
        # The member stack's forwarding role; its name carries the region of each stack instance (REGION_PLACEHOLDER).
        "member-forwarder": frozenset(),
    }
)


@cache
def documented_methods(kind: str) -> frozenset[str]:
    """The methods a role of ``kind`` is documented to hold: ``DOCUMENTED_ESCALATIONS`` and every catalogue method
    composed only of their parts (``compositions``). The catalogue is read with the first own-stack exemption asked,
    never at cold start."""
    from iamwarden.domain.escalation_methods import catalogue  # noqa: PLC0415 - with the first own exemption

    held = DOCUMENTED_ESCALATIONS.get(kind, frozenset())
    return held | compositions(held, catalogue().methods)


def compositions(held: frozenset[str], methods: "Iterable[EscalationMethod]") -> frozenset[str]:
    """The catalogue's composite methods (two actions or more) whose every part, an action on its kind of resource,
    is the one action of a method in ``held`` (review2 reattach-s16 item 6).

    Such a composition adds nothing to what its parts give: the holder already holds each action, on that kind of
    resource, for a documented job (``sts:AssumeRole`` on the member roles with the remediation's
    ``iam:PutRolePolicy`` makes ``PutRolePolicyThenAssumeRole``), and a method of the parts alone (``PutRolePolicy``
    on itself) already reaches as far. Judged without knowing what the member roles may do, the combination is
    still reported for anyone else, so it is exempt only where the parts are: CloudFormation writing onto that
    exact own role (``engine._exemption``). A composite with any part no documented method holds alone
    (``iam:PassRole``, ``iam:CreateAccessKey``, ``iam:CreateRole``, the enforcer's ``iam:AttachRolePolicy``) is not
    among them.
    """
    catalogued = list(methods)
    parts = {
        part
        for method in catalogued
        if method.name in held and len(method.actions) == 1
        for part in method.actions.items()
    }
    return frozenset(
        method.name for method in catalogued if len(method.actions) > 1 and set(method.actions.items()) <= parts
    )


#: In a member role's name, the region of the member stack instance that creates it (one role per region). Such a
#: name guards changes *to* those roles, never exempts changes *by* one: an intruder could create the same name
#: with a region no stack instance has.
REGION_PLACEHOLDER = "{region}"
#: The service trusted by a security-account role that is no Lambda execution role (template.yaml).
_TRUSTED_SERVICE: Mapping[str, str] = MappingProxyType({"event-forwarder": "events.amazonaws.com"})
#: The session name IAM Warden's functions give each member stack role they assume in a managed account
#: (``ClientFactory``): with the role's name and the account, the exact identity of their calls there
#: (``arn:<partition>:sts::<account>:assumed-role/<role>/<session>``), which the member stack's forwarding rules
#: leave out and ``own_session`` knows. A session of such a role under any other name is someone else's.
MEMBER_SESSION = "iamwarden"
#: The heartbeat's session of the member stack's read-only snapshot role.
SNAPSHOT_SESSION = "iamwarden-heartbeat"
MEMBER_SESSIONS: Mapping[str, str] = MappingProxyType(
    {"remediator": MEMBER_SESSION, "pruner-member": MEMBER_SESSION, "snapshot-reader": SNAPSHOT_SESSION}
)
#: What IAM Warden last read of a member stack role's ``RoleId`` (the heartbeat's snapshot), by the role's ARN in
#: that account; None when it never read one.
RoleId = Callable[[str], str | None]


@cache
def _region() -> re.Pattern[str]:
    """A region's name; compiled with the first name matched against a declared name with a region in it."""
    return re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d+")


def names_match(declared: str, name: str) -> bool:
    """Whether ``name`` is ``declared``, with a region's name where it has ``REGION_PLACEHOLDER``."""
    prefix, placeholder, suffix = declared.partition(REGION_PLACEHOLDER)
    if not placeholder:
        return declared == name
    middle = name[len(prefix) : len(name) - len(suffix)] if len(name) > len(prefix) + len(suffix) else ""
    return name.startswith(prefix) and name.endswith(suffix) and _region().fullmatch(middle) is not None


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
    #: The member StackSet's name (``MemberStackSetName``): its operations are judged where it is administered
    #: from the security account.
    stack_set_name: str | None = None
    #: Own functions whose URL is public by design because the function authenticates each request itself
    #: (the Slack interaction endpoint checks Slack's signature): auth type NONE on their URL is no finding.
    signed_url_functions: frozenset[str] = frozenset()
    #: The stack's customer-managed policies (the enforcer's remediation grants) by exact ARN.
    home_policies: frozenset[str] = frozenset()
    #: The member stack's customer-managed policies (the remediation role's grants) by name, at path / in
    #: accounts other than ``home_account``, as its roles are known.
    member_policies: frozenset[str] = frozenset()
    #: The central event bus every account's events reach the enforcer on (the security account's), by name.
    central_bus: str | None = None
    #: The organisation the central bus admits (its policy statement ``CENTRAL_BUS_STATEMENT_ID``); None: no
    #: organisation, so the template declares no bus policy.
    organization_id: str | None = None
    #: The alert path: the security topic's ARN, its key's ARN (None: the stack has none), the stack's alarms.
    alert_topic: str | None = None
    alert_key: str | None = None
    #: The last-resort topic (AWS-managed key): the two topics watch one another.
    alert_fallback_topic: str | None = None
    alarms: frozenset[str] = frozenset()
    #: The Slack credentials (the webhook and the bot token secrets the alerts go out with, and the signing secret
    #: the interaction endpoint authenticates Slack's requests by), as the template's ``!Ref`` gives them: each
    #: secret's full ARN (or, where only its name is known, the name).
    secrets: frozenset[str] = frozenset()
    #: The region the stack (its functions, queues, tables, settings) runs in; None: not known, any region.
    home_region: str | None = None
    #: The stack's ``UserRemediation`` (``quarantine`` or ``delete``), which decides what its remediation grants
    #: hold; None: not known, so no grant's declared document is known (a detached one is only alerted).
    user_remediation: str | None = None

    def own_secret(self, secret_id: str | None, account: str, region: str) -> str | None:
        """Which of IAM Warden's secrets ``secret_id`` names (its ARN, name or ARN without the random suffix) when
        changed in ``account`` and ``region``, or None for any other secret.

        Exact: a secret of another name, account or region is someone else's, and so is another secret whose name
        merely begins with IAM Warden's (Secrets Manager's suffix is ``-`` and six characters).
        """
        if not secret_id or account != self.home_account:
            return None
        for own in sorted(self.secrets):
            name, own_region = _secret_name(own), _secret_region(own)
            if own_region is not None and own_region != region:
                continue
            if secret_id in (own, name):
                return own
            fields = secret_id.split(":", 6)
            if len(fields) == 7 and fields[2] == "secretsmanager" and fields[3] == region and fields[4] == account:
                resource = fields[6]
                suffixed = len(resource) == len(name) + 7 and resource.startswith(name + "-")
                if resource == name or (suffixed and not own.startswith("arn:")):
                    return own
        return None

    #: function name -> the kind of the stack's role it runs as (``IAMWARDEN_OWN_FUNCTION_ROLES``). Lambda names
    #: a function's role session after the function, so a session of an own role is IAM Warden's only under one
    #: of these names: another function given the same role (``iam:PassRole``) runs under its own name.
    function_roles: Mapping[str, str] = MappingProxyType({})
    #: The ``OperatorRoleArns`` parameter's ARN patterns, which the own tables' resource policies let write items
    #: (empty: none); None: not known (then no table policy is put back: it would shut the operators out).
    operator_role_arns: tuple[str, ...] | None = None

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

    def functions_of(self, kind: str) -> frozenset[str]:
        """The stack's functions that run as its role of ``kind`` (none for a role no function uses)."""
        return frozenset(function for function, of in self.function_roles.items() if of == kind)

    def own_session(
        self, issuer_arn: str | None, principal_id: str | None, account: str, role_id: RoleId
    ) -> str | None:
        """The kind of own role whose *session* made a call, or None: then the call is judged like anyone's.

        The issuer's ARN is not enough. A role of the security account's stack is assumed by Lambda for its
        functions, and any function that is given the role (``iam:PassRole``) gets the same issuer: IAM Warden's
        session is the one Lambda names after IAM Warden's own function (``principalId`` ``AROA...:<function>``).
        A member stack's role is known by name only until the heartbeat has read its ``RoleId`` (``role_id``
        answers it, None when no snapshot exists): a role deleted and created again under the same name, or
        created in an account the member stack never reached, has another id, and is judged. Its session is IAM
        Warden's only under the name IAM Warden's functions give it (``MEMBER_SESSIONS``).
        """
        kind = self.role_kind(issuer_arn, account)
        if kind is None:
            return None
        unique_id, _, session = (principal_id or "").partition(":")
        if issuer_arn in self.home_roles.values():
            return kind if session and session in self.functions_of(kind) else None
        if session != MEMBER_SESSIONS.get(kind):
            return None
        known = role_id(issuer_arn or "")
        return kind if known is not None and unique_id == known else None

    def passed_role_kind(self, role_arn: str | None, account: str) -> str | None:
        """The kind of the stack's role a function in the security account is given (``CreateFunction``'s role).

        IAM role names are unique in an account whatever their path and case, so in the security account a role
        ARN with an own role's name, at any path and in any case, is that role (or none at all).
        """
        role = parse_role_arn(role_arn or "")
        if role is None or self.home_account is None or account != self.home_account or role.account != account:
            return None
        name = role.name.lower()
        return next((k for k, arn in self.home_roles.items() if arn.rsplit("/", 1)[-1].lower() == name), None)

    def documented_escalations(self, arn: str | None, account: str) -> frozenset[str]:
        """The escalation methods own role ``arn`` is documented to hold, with their compositions
        (``documented_methods``); empty for any other role."""
        kind = self.role_kind(arn, account)
        return documented_methods(kind) if kind else frozenset()

    def guards_role(self, role_name: str, account: str) -> bool:
        """Whether ``role_name`` in ``account`` is one of IAM Warden's roles (changes to it are tampering).

        The names in any case (IAM role names are unique in an account whatever their case, so another case
        names that very role), and the member stack's region-named roles (``REGION_PLACEHOLDER``) with any
        region's name.
        """
        return self.kind_of_role_named(role_name, account) is not None

    def kind_of_role_named(self, role_name: str, account: str) -> str | None:
        """The kind of IAM Warden's role named ``role_name``, in any case, in ``account`` (``guards_role``), or None."""
        if self.home_account is None:
            return None
        name = role_name.lower()
        if account == self.home_account:
            return next((k for k, arn in self.home_roles.items() if arn.rsplit("/", 1)[-1].lower() == name), None)
        for kind, declared in self.member_roles.items():
            if names_match(declared.lower(), name):
                return kind
        return None

    def role_names_in(self, account: str) -> tuple[str, ...]:
        """The names of IAM Warden's roles in ``account`` (the security account's or the member stack's)."""
        if account == self.home_account:
            return tuple(arn.rsplit("/", 1)[-1] for arn in self.home_roles.values())
        return tuple(self.member_roles.values()) if self.home_account is not None else ()

    def declared_trust_policy(self, role_name: str, account: str) -> dict[str, Any] | None:
        """The trust policy the template declares for a role of the security account's stack, None for others.

        Every role of ``template.yaml`` is trusted by one service for this account only (``aws:SourceAccount``):
        ``lambda.amazonaws.com`` for the function roles, ``events.amazonaws.com`` for the event forwarder's; the
        member stack's trust the security account with conditions
        the code does not know, so they have none here.
        """
        kind = self.kind_of_role_named(role_name, account) if account == self.home_account else None
        if kind is None:
            return None
        service = _TRUSTED_SERVICE.get(kind or "", "lambda.amazonaws.com")
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                }
            ],
        }

    def is_own_policy(self, arn: str | None, account: str) -> bool:
        """Whether ``arn`` is one of IAM Warden's own managed policies when changed in ``account``.

        The stack's policy ARNs at home; in another account, a member stack's policy name at path / of that very
        account; the path and name in any case (IAM names are unique whatever their case). The same name at another
        path, in another account or at home is someone else's.
        """
        if not arn:
            return False
        fields = arn.split(":", 5)
        if len(fields) != 6 or fields[0] != "arn" or fields[2] != "iam" or not fields[5].lower().startswith("policy/"):
            return False
        named = fields[5][len("policy/") :].lower()
        if any(own.lower() == arn.lower() for own in self.home_policies):
            return account == self.home_account
        return (
            self.home_account is not None
            and fields[4] == account != self.home_account
            and "/" not in named
            and named in {name.lower() for name in self.member_policies}
        )

    def rules_in(self, account: str) -> frozenset[str]:
        """IAM Warden's EventBridge rules in ``account``: the stack's at home, the member stack's elsewhere."""
        if account == self.home_account:
            return self.rules
        return self.member_rules if self.home_account is not None else frozenset()

    def redeploy_command(self, account: str | None = None, region: str | None = None) -> str:
        """The command that puts every resource of the stack in ``account`` back as its template declares it.

        A member account's resources belong to the member StackSet's instance there, not to this stack.
        """
        if account is not None and self.home_account is not None and account != self.home_account:
            regions = f" --regions {region}" if region else " --regions <the region>"
            return (
                "aws cloudformation update-stack-instances --stack-set-name <the member StackSet, iamwarden-member "
                f"in the README> --accounts {account}{regions}, run where the StackSet is administered (the member "
                f"stack in account {account} puts its resources back; a deleted one comes back with a changed "
                "template or a new instance)"
            )
        stack = self.stack_name or "iamwarden"
        return (
            f"aws cloudformation detect-stack-drift --stack-name {stack} (what differs), then "
            f"sam deploy --stack-name {stack} (CloudFormation re-applies only what the template changes, so a "
            "deleted resource comes back with a changed template or a new stack)"
        )


def _secret_name(secret: str) -> str:
    """A secret's name from its full ARN (``...:secret:NAME-AbCdEf``, as ``!Ref`` gives it), or the name itself."""
    return secret.split(":", 6)[-1][:-7] if secret.startswith("arn:") else secret


def _secret_region(secret: str) -> str | None:
    return secret.split(":")[3] if secret.startswith("arn:") and secret.count(":") >= 6 else None


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


def own_roles_from_environment(env: Mapping[str, str]) -> tuple[str | None, dict[str, str], dict[str, str]]:
    """The home account, its roles by ARN and the member roles by name, as the stack's environment names them
    (``IAMWARDEN_HOME_ACCOUNT``, ``IAMWARDEN_OWN_ROLE_ARNS``, ``IAMWARDEN_MEMBER_ROLE_NAMES``); the one reading the
    enforcer's configuration and the pruner share. ``ConfigurationError`` on a bad item or a home role of another
    account."""
    try:
        home_roles = parse_own_roles(env.get("IAMWARDEN_OWN_ROLE_ARNS", ""))
        member_roles = parse_own_roles(env.get("IAMWARDEN_MEMBER_ROLE_NAMES", ""))
    except ValueError as exc:
        raise ConfigurationError(f"IAMWARDEN_OWN_ROLE_ARNS / IAMWARDEN_MEMBER_ROLE_NAMES: {exc}") from exc
    home = env.get("IAMWARDEN_HOME_ACCOUNT") or None
    if home is not None:
        foreign = [arn for arn in home_roles.values() if arn.split(":")[4:5] != [home]]
        if foreign:
            raise ConfigurationError(f"IAMWARDEN_OWN_ROLE_ARNS names roles outside account {home}: {foreign}")
    return home, home_roles, member_roles


def admits_only_the_stack(document: Any, home_account: str | None) -> bool:
    """Whether a trust policy lets in only what IAM Warden's templates let in: the security account (its root or
    its roles, as the member roles' trust does) and, for the security account's roles, Lambda or EventBridge.

    A CloudFormation ``CreateRole`` of an own name must pass it (``guardrails.tampering``), and the heartbeat keeps
    no snapshot of an own role whose trust fails it (a restore would put that trust back as "known good")."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return False
    statements = document.get("Statement") if isinstance(document, Mapping) else None
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list) or home_account is None:
        return False
    services = {"lambda.amazonaws.com", "events.amazonaws.com"}
    for statement in statements:
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        if not isinstance(principal, Mapping) or set(principal) - {"AWS", "Service"}:
            return False
        aws = principal.get("AWS", [])
        service = principal.get("Service", [])
        aws_list = aws if isinstance(aws, list) else [aws]
        service_list = service if isinstance(service, list) else [service]
        if any(not isinstance(a, str) or a.split(":")[4:5] != [home_account] for a in aws_list):
            return False
        if any(s not in services for s in service_list):
            return False
    return True
