"""A ``RoleDirectory`` held in memory, and how a principal's policies are named.

Both readers of principals build on this: the offline one
(``iamwarden.domain.authorization_details``, from ``get-account-authorization-details``)
is a ``StaticDirectory``; the live one (``iamwarden.adapters.principals``) names the
policies it reads with the same ``inline_source``/``group_source``, so a finding reads
the same offline and in the enforcer. Tests use a ``StaticDirectory`` as the fake.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Protocol, runtime_checkable

from iamwarden.domain.managed_documents import PolicyVersion, PolicyVersions
from iamwarden.domain.principals import PrincipalPolicies
from iamwarden.domain.wildcards import arn_match


def inline_source(principal_name: str, policy_name: str) -> str:
    """How an inline policy is named in ``NamedPolicy.source``: ``inline <principal-name>/<policy-name>``."""
    return f"inline {principal_name}/{policy_name}"


def group_source(group_name: str, source: str) -> str:
    """A policy a user holds through group ``group_name``: ``group <group-name>: <source>``."""
    return f"group {group_name}: {source}"


def resource_kind(arn: str) -> str:
    """``lambda:function`` for ``arn:aws:lambda:us-east-1:1:function:app``: the service and resource type."""
    fields = arn.split(":", 6)
    if len(fields) < 6:
        return ""
    resource = fields[5]
    return f"{fields[2]}:{resource.split('/', 1)[0] if '/' in resource else resource}"


@runtime_checkable
class PolicyAttachments(Protocol):
    """Who holds a managed policy: what a new default version changes (a directory may also answer this)."""

    def attached_to(self, policy_arn: str) -> tuple[str, ...] | None:
        """The role, user and group ARNs the policy is attached to; None when that cannot be known."""
        ...


@runtime_checkable
class GroupMembers(Protocol):
    """Who is in a group: a group's policy change gives each member user its power (a directory may answer)."""

    def members_of(self, group_arn: str) -> tuple[str, ...] | None:
        """The user ARNs of the group's members; None when that cannot be known."""
        ...


@runtime_checkable
class HeldBefore(Protocol):
    """What principals held before the events judged with it (the authorization details ``iamwarden evaluate`` is
    given): a policy it lists attached, or a member it lists, was there before each event, so attaching it again
    added nothing. The live directory reads after the change and is not one (the audit table's record is)."""

    def attached_before(self, principal_arn: str, policy_arn: str) -> bool | None:
        """Whether ``policy_arn`` was attached to the principal; None when that cannot be known."""
        ...

    def member_before(self, user_arn: str, group_arn: str) -> bool | None:
        """Whether the user was in the group; None when that cannot be known."""
        ...


class PrincipalKey(tuple[str, str, str]):
    """(account, kind, name) of an IAM principal: its ARN without the path, which events do not carry."""

    __slots__ = ()

    @classmethod
    def of(cls, arn: str) -> PrincipalKey | None:
        """The key of ``arn:partition:iam::account:kind/path/name``; None for anything else."""
        fields = arn.split(":", 5)
        if len(fields) != 6 or fields[0] != "arn" or fields[2] != "iam" or "/" not in fields[5]:
            return None
        kind, _, rest = fields[5].partition("/")
        if kind not in ("role", "user", "group") or not rest:
            return None
        return cls((fields[4], kind, rest.rsplit("/", 1)[-1]))

    @property
    def account(self) -> str:
        return self[0]

    @property
    def kind(self) -> str:
        return self[1]

    @property
    def name(self) -> str:
        return self[2]


class StaticDirectory:
    """What is known about some accounts' principals, held in memory; anything else is unknown (None).

    ``principals`` maps each principal's key to its whole policy set, or to None when it is known to
    exist but its set cannot be built (a policy it references is missing from the input).
    ``roles`` lists every role ARN per account whose role list is complete; ``behind`` maps resource
    ARNs (instance profiles, functions, instances) to the roles they act as; ``attachments`` maps
    managed policy ARNs to the principals they are attached to, and ``versions`` holds their versions
    (policy ARN -> default version id and every version); ``members`` maps group keys to their member
    user ARNs, for the groups whose membership is known.
    """

    def __init__(
        self,
        principals: Mapping[PrincipalKey, PrincipalPolicies | None] | None = None,
        *,
        roles: Mapping[str, Iterable[str]] | None = None,
        behind: Mapping[str, Iterable[str]] | None = None,
        attachments: Mapping[str, Iterable[str]] | None = None,
        versions: Mapping[str, tuple[str, Mapping[str, PolicyVersion]]] | None = None,
        members: Mapping[PrincipalKey, Iterable[str]] | None = None,
    ) -> None:
        self._principals = MappingProxyType(dict(principals or {}))
        self._roles = {account: tuple(arns) for account, arns in (roles or {}).items()}
        self._behind = {arn: tuple(arns) for arn, arns in (behind or {}).items()}
        self._attachments = {arn: tuple(arns) for arn, arns in (attachments or {}).items()}
        self._versions = dict(versions or {})
        self._members = {key: tuple(arns) for key, arns in (members or {}).items()}

    def principal(self, principal_arn: str) -> PrincipalPolicies | None:
        key = PrincipalKey.of(principal_arn)
        return None if key is None else self._principals.get(key)

    def roles_matching(self, account: str, pattern: str) -> tuple[str, ...] | None:
        roles = self._roles.get(account)
        if roles is None:
            return None
        return tuple(arn for arn in roles if pattern == "*" or arn_match(pattern, arn))

    def roles_behind(self, resource_arn: str) -> tuple[str, ...] | None:
        return self._behind.get(resource_arn)

    def reads_roles_behind(self, resource_arn: str) -> bool:
        """Instance profiles (the details list them), and any kind the input maps resources of."""
        kind = resource_kind(resource_arn)
        return kind == "iam:instance-profile" or any(resource_kind(arn) == kind for arn in self._behind)

    def users_of(self, account: str) -> tuple[str, ...] | None:
        """Every user ARN of an account whose role list is complete (the authorization details list both)."""
        if account not in self._roles:
            return None
        return tuple(
            arn
            for key, found in self._principals.items()
            if key.account == account and key.kind == "user"
            for arn in ((found.principal_arn,) if found is not None else ())
        )

    def attached_to(self, policy_arn: str) -> tuple[str, ...] | None:
        """Known for this account's policies, and for AWS-managed ones, once any principal is known."""
        if policy_arn in self._attachments:
            return self._attachments[policy_arn]
        fields = policy_arn.split(":", 5)
        owner = fields[4] if len(fields) == 6 else ""
        return () if owner in self.accounts or (owner == "aws" and self.accounts) else None

    def members_of(self, group_arn: str) -> tuple[str, ...] | None:
        """The member users of a group the input describes; None for any other group."""
        key = PrincipalKey.of(group_arn)
        return None if key is None else self._members.get(key)

    def attached_before(self, principal_arn: str, policy_arn: str) -> bool | None:
        """``HeldBefore``: the input lists every principal a policy is attached to (a principal it does not list
        did not exist, and held nothing)."""
        key = PrincipalKey.of(principal_arn)
        holders = self.attached_to(policy_arn)
        if key is None or holders is None:
            return None
        return any(PrincipalKey.of(holder) == key for holder in holders)

    def member_before(self, user_arn: str, group_arn: str) -> bool | None:
        """``HeldBefore``: the members of a group the input describes."""
        key = PrincipalKey.of(user_arn)
        members = self.members_of(group_arn)
        if key is None or members is None:
            return None
        return any(PrincipalKey.of(member) == key for member in members)

    def policy_version(self, policy_arn: str, version_id: str | None = None) -> PolicyVersion | None:
        """A managed policy's version (its default one for ``None``), or None when it is not known."""
        entry = self._versions.get(policy_arn)
        if entry is None:
            return None
        return entry[1].get(entry[0] if version_id is None else version_id)

    def policy_versions(self, policy_arn: str) -> PolicyVersions | None:
        """Every version of a managed policy the input describes, and which was the default then."""
        entry = self._versions.get(policy_arn)
        if entry is None:
            return None
        return PolicyVersions(entry[0], tuple(entry[1].values()))

    @property
    def accounts(self) -> frozenset[str]:
        """The accounts this directory knows principals of."""
        return frozenset(key.account for key in self._principals)
