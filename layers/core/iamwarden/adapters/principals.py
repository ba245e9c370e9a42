"""The live ``RoleDirectory``: what principals hold, read from the event's account, cached.

The enforcer judges an identity-policy change on the principal's whole power, so
it reads the principal's inline policies, attached managed policies (default
version), a user's groups and their policies, and the permissions boundary; the
roles a ``Resource`` pattern reaches (``ListRoles``); and the roles behind a
resource: a Lambda function's execution role, an EC2 instance's (or an instance
profile's) roles.

Errors: "not there" (``NoSuchEntity``) and anything permanent (``AccessDenied``)
mean the answer is unknown (``None``), so the finding names what it lacked and
is never remediated on it; a transient error (throttling, 5xx) is raised as
``TransientAwsError`` and the event is retried.

Cache: per account, for the life of the container. A policy version is
immutable and kept; everything else is dropped by the IAM events the enforcer
itself sees (``observe``: a change to a principal's policies, groups or boundary
drops that principal, and for a group every cached user; a role created or deleted
drops the role list; a new default version drops that policy's pointer) and by
the enforcer's own remediations (``forget``). Changes the enforcer is not routed
(a detach, a group membership, a function's new role) age out after ``max_age``
seconds, so a stale answer is never older than that.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from iamwarden.adapters.errors import TransientAwsError, classify, is_aws_error, is_gone
from iamwarden.domain.directory import PrincipalKey, group_source, inline_source
from iamwarden.domain.managed_documents import decoded
from iamwarden.domain.policy import Policy, parse_policy
from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies
from iamwarden.domain.wildcards import arn_match

#: Everything the live directory calls (granted by template.yaml's enforcer-runtime and the member role).
READ_PERMISSIONS = (
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
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:ListRoles",
    "iam:GetInstanceProfile",
    "iam:ListEntitiesForPolicy",
    "lambda:GetFunctionConfiguration",
    "lambda:ListFunctions",
    "ec2:DescribeInstances",
    "cloudformation:DescribeStacks",
    "cloudformation:ListStacks",
)
DEFAULT_MAX_AGE = 300.0

#: IAM events that change what one principal holds -> (its kind, the request parameter naming it).
_PRINCIPAL_CHANGES: Mapping[str, tuple[str, str]] = {
    **{f"{verb}RolePolicy": ("role", "roleName") for verb in ("Put", "Delete", "Attach", "Detach")},
    **{f"{verb}UserPolicy": ("user", "userName") for verb in ("Put", "Delete", "Attach", "Detach")},
    **{f"{verb}GroupPolicy": ("group", "groupName") for verb in ("Put", "Delete", "Attach", "Detach")},
    "PutRolePermissionsBoundary": ("role", "roleName"),
    "DeleteRolePermissionsBoundary": ("role", "roleName"),
    "PutUserPermissionsBoundary": ("user", "userName"),
    "DeleteUserPermissionsBoundary": ("user", "userName"),
    "AddUserToGroup": ("user", "userName"),
    "RemoveUserFromGroup": ("user", "userName"),
    "CreateRole": ("role", "roleName"),
    "DeleteRole": ("role", "roleName"),
    "CreateUser": ("user", "userName"),
    "DeleteUser": ("user", "userName"),
    "DeleteGroup": ("group", "groupName"),
}
_ROLE_LIST_CHANGES = frozenset({"CreateRole", "DeleteRole"})
_POLICY_CHANGES = frozenset({"CreatePolicyVersion", "SetDefaultPolicyVersion", "DeletePolicy"})
_PROFILE_CHANGES = frozenset({"AddRoleToInstanceProfile", "RemoveRoleFromInstanceProfile", "DeleteInstanceProfile"})
#: ListEntitiesForPolicy: (principal kind, the list in the answer, the name key).
_ENTITY_LISTS = (
    ("role", "PolicyRoles", "RoleName"),
    ("user", "PolicyUsers", "UserName"),
    ("group", "PolicyGroups", "GroupName"),
)
_INLINE_CALLS = {
    "role": ("list_role_policies", "get_role_policy", "list_attached_role_policies", "RoleName"),
    "user": ("list_user_policies", "get_user_policy", "list_attached_user_policies", "UserName"),
    "group": ("list_group_policies", "get_group_policy", "list_attached_group_policies", "GroupName"),
}


class ClientSource(Protocol):
    def client(self, service: str, account: str, region: str, *, logged: bool = True) -> Any: ...


class _Unknown(Exception):
    """A read that will not succeed by retrying: the answer is unknown."""


class _Account:
    """What is cached for one account: entries are (time read, value)."""

    def __init__(self) -> None:
        self.principals: dict[PrincipalKey, tuple[float, PrincipalPolicies | None]] = {}
        self.defaults: dict[str, tuple[float, str]] = {}
        self.roles: tuple[float, tuple[str, ...] | None] | None = None
        self.behind: dict[str, tuple[float, tuple[str, ...] | None]] = {}
        self.attachments: dict[str, tuple[float, tuple[str, ...] | None]] = {}


class LiveRoleDirectory:
    """Answers ``RoleDirectory`` from the accounts' IAM, Lambda and EC2, through the shared client factory."""

    def __init__(
        self,
        clients: ClientSource,
        region: str = "us-east-1",
        *,
        max_age: float = DEFAULT_MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clients = clients
        self._region = region
        self._max_age = max_age
        self._clock = clock
        self._accounts: dict[str, _Account] = {}
        #: (policy ARN, version id) -> document: versions never change
        self._versions: dict[tuple[str, str], Policy] = {}
        #: group key -> (time read, its member user ARNs or None)
        self._members: dict[PrincipalKey, tuple[float, tuple[str, ...] | None]] = {}

    # --- RoleDirectory ------------------------------------------------------------------------------

    def principal(self, principal_arn: str) -> PrincipalPolicies | None:
        key = PrincipalKey.of(principal_arn)
        if key is None:
            return None
        cache = self._account(key.account).principals
        hit = cache.get(key)
        if hit is not None and self._fresh(hit[0]):
            return hit[1]
        try:
            found: PrincipalPolicies | None = self._read_principal(key, principal_arn)
        except _Unknown:
            found = None
        cache[key] = (self._clock(), found)
        return found

    def roles_matching(self, account: str, pattern: str) -> tuple[str, ...] | None:
        cache = self._account(account)
        if cache.roles is None or not self._fresh(cache.roles[0]):
            try:
                roles: tuple[str, ...] | None = tuple(
                    role["Arn"] for role in self._pages(self._iam(account), "list_roles", "Roles")
                )
            except _Unknown:
                roles = None
            cache.roles = (self._clock(), roles)
        listed = cache.roles[1]
        if listed is None:
            return None
        return tuple(arn for arn in listed if pattern == "*" or arn_match(pattern, arn))

    def roles_behind(self, resource_arn: str) -> tuple[str, ...] | None:
        fields = resource_arn.split(":", 6)
        if len(fields) < 6 or fields[0] != "arn":
            return None
        account = fields[4]
        cache = self._account(account).behind
        hit = cache.get(resource_arn)
        if hit is not None and self._fresh(hit[0]):
            return hit[1]
        try:
            roles = self._read_behind(fields)
        except _Unknown:
            roles = None
        cache[resource_arn] = (self._clock(), roles)
        return roles

    def attached_to(self, policy_arn: str) -> tuple[str, ...] | None:
        """The roles, users and groups a managed policy is attached to (``ListEntitiesForPolicy``)."""
        fields = policy_arn.split(":", 5)
        if len(fields) != 6 or fields[0] != "arn":
            return None
        account = fields[4] if fields[4] != "aws" else None
        if account is None:
            return None  # an AWS-managed policy: in which account is not in its ARN
        cache = self._account(account).attachments
        hit = cache.get(policy_arn)
        if hit is not None and self._fresh(hit[0]):
            return hit[1]
        iam = self._iam(account)
        partition = fields[1]
        try:
            found: tuple[str, ...] | None = tuple(
                f"arn:{partition}:iam::{account}:{kind}{entity.get('Path') or '/'}{entity[key]}"
                for page in self._pages(iam, "list_entities_for_policy", None, PolicyArn=policy_arn)
                for kind, listed, key in _ENTITY_LISTS
                for entity in page.get(listed, [])
            )
        except _Unknown:
            found = None
        cache[policy_arn] = (self._clock(), found)
        return found

    def members_of(self, group_arn: str) -> tuple[str, ...] | None:
        """The user ARNs in a group (``iam:GetGroup``), cached like a principal; None when unknown."""
        key = PrincipalKey.of(group_arn)
        if key is None or key.kind != "group":
            return None
        hit = self._members.get(key)
        if hit is not None and self._fresh(hit[0]):
            return hit[1]
        try:
            found: tuple[str, ...] | None = tuple(
                user["Arn"] for user in self._pages(self._iam(key.account), "get_group", "Users", GroupName=key.name)
            )
        except _Unknown:
            found = None
        self._members[key] = (self._clock(), found)
        return found

    def _observe_membership(self, account: str, name: str, request: Mapping[str, Any]) -> None:
        """Drop a group's cached members when an event adds, removes or deletes them."""
        if name in ("AddUserToGroup", "RemoveUserFromGroup", "DeleteGroup") and isinstance(
            request.get("groupName"), str
        ):
            self._members.pop(PrincipalKey((account, "group", request["groupName"])), None)

    # --- invalidation -------------------------------------------------------------------------------

    def observe(self, event: Mapping[str, Any]) -> None:
        """Drop what an EventBridge CloudTrail event (as it arrives, not yet judged) may have changed."""
        detail = event.get("detail") if isinstance(event, Mapping) else None
        if not isinstance(detail, Mapping) or detail.get("eventSource") != "iam.amazonaws.com":
            return
        name = detail.get("eventName")
        account = event.get("account")
        request = detail.get("requestParameters")
        if not isinstance(name, str) or not isinstance(account, str) or not isinstance(request, Mapping):
            return
        self._observe_membership(account, name, request)
        cache = self._accounts.get(account)
        if cache is None:
            return
        if name in _PRINCIPAL_CHANGES:
            kind, parameter = _PRINCIPAL_CHANGES[name]
            principal = request.get(parameter)
            if isinstance(principal, str):
                cache.principals.pop(PrincipalKey((account, kind, principal)), None)
            if kind == "group" or name in ("AddUserToGroup", "RemoveUserFromGroup"):
                for key in [key for key in cache.principals if key.kind == "user"]:
                    del cache.principals[key]  # a user holds its groups' policies
        if name in _ROLE_LIST_CHANGES:
            cache.roles = None
        if name in _POLICY_CHANGES and isinstance(request.get("policyArn"), str):
            cache.defaults.pop(request["policyArn"], None)
        if name.startswith(("Attach", "Detach")) and isinstance(request.get("policyArn"), str):
            cache.attachments.pop(request["policyArn"], None)
        if name in _PROFILE_CHANGES:
            cache.behind.clear()

    def forget(self, principal_arn: str) -> None:
        """Drop a principal the enforcer itself just changed (its own calls never come back as events)."""
        key = PrincipalKey.of(principal_arn)
        if key is not None and key.account in self._accounts:
            self._accounts[key.account].principals.pop(key, None)
            if key.kind == "group":
                self._accounts[key.account].principals.clear()

    # --- reading ------------------------------------------------------------------------------------

    def _read_principal(self, key: PrincipalKey, arn: str) -> PrincipalPolicies:
        iam = self._iam(key.account)
        boundary: Policy | None = None
        if key.kind in ("role", "user"):
            entity = self._call(iam, f"get_{key.kind}", **{f"{key.kind.capitalize()}Name": key.name})
            described = entity["Role" if key.kind == "role" else "User"]
            arn = described.get("Arn", arn)
            limit = described.get("PermissionsBoundary")
            if isinstance(limit, Mapping) and limit.get("PermissionsBoundaryArn"):
                boundary = self._managed(key.account, limit["PermissionsBoundaryArn"])
        policies = self._own_policies(iam, key)
        if key.kind == "user":
            for group in self._pages(iam, "list_groups_for_user", "Groups", UserName=key.name):
                group_key = PrincipalKey((key.account, "group", group["GroupName"]))
                policies.extend(
                    NamedPolicy(group_source(group_key.name, named.source), named.policy)
                    for named in self._own_policies(iam, group_key)
                )
        return PrincipalPolicies(arn, tuple(policies), boundary)

    def _own_policies(self, iam: Any, key: PrincipalKey) -> list[NamedPolicy]:
        list_inline, get_inline, list_attached, parameter = _INLINE_CALLS[key.kind]
        found: list[NamedPolicy] = []
        for name in self._pages(iam, list_inline, "PolicyNames", **{parameter: key.name}):
            document = self._call(iam, get_inline, **{parameter: key.name, "PolicyName": name})["PolicyDocument"]
            found.append(NamedPolicy(inline_source(key.name, name), self._parse(document, f"inline policy {name}")))
        for attached in self._pages(iam, list_attached, "AttachedPolicies", **{parameter: key.name}):
            found.append(NamedPolicy(attached["PolicyArn"], self._managed(key.account, attached["PolicyArn"])))
        return found

    def _managed(self, account: str, policy_arn: str) -> Policy:
        """The default version of a managed policy (its pointer cached, its document kept for good)."""
        cache = self._account(account).defaults
        hit = cache.get(policy_arn)
        iam = self._iam(account)
        if hit is None or not self._fresh(hit[0]):
            version_id = str(self._call(iam, "get_policy", PolicyArn=policy_arn)["Policy"]["DefaultVersionId"])
            hit = cache[policy_arn] = (self._clock(), version_id)
        key = (policy_arn, hit[1])
        if key not in self._versions:
            document = self._call(iam, "get_policy_version", PolicyArn=policy_arn, VersionId=hit[1])
            self._versions[key] = self._parse(document["PolicyVersion"]["Document"], f"{policy_arn} {hit[1]}")
        return self._versions[key]

    def _read_behind(self, fields: list[str]) -> tuple[str, ...] | None:
        service, region, account, resource = fields[2], fields[3], fields[4], ":".join(fields[5:])
        if service == "iam" and resource.startswith("instance-profile/"):
            return self._profile_roles(account, resource.rsplit("/", 1)[-1])
        if not region or any(ch in region for ch in "*?"):
            return None  # every region: not enumerated
        if service == "lambda" and resource.startswith("function:"):
            return self._function_roles(account, region, resource)
        if service == "ec2" and resource.startswith("instance/"):
            return self._instance_roles(account, region, resource[len("instance/") :])
        if service == "cloudformation" and resource.startswith("stack/"):
            return self._stack_roles(account, region, ":".join(fields))
        return None

    def _stack_roles(self, account: str, region: str, pattern: str) -> tuple[str, ...]:
        """The service roles of the stacks ``pattern`` names; a stack without one acts as its caller (nothing)."""
        client = self._clients.client("cloudformation", account, region)
        return tuple(
            sorted(
                {
                    stack["RoleARN"]
                    for stack in self._pages(client, "describe_stacks", "Stacks")
                    if stack.get("RoleARN") and arn_match(pattern, stack["StackId"])
                }
            )
        )

    def _function_roles(self, account: str, region: str, resource: str) -> tuple[str, ...]:
        client = self._clients.client("lambda", account, region)
        name = resource.split(":")[1] if ":" in resource else ""
        if not any(ch in name for ch in "*?"):
            return (str(self._call(client, "get_function_configuration", FunctionName=name)["Role"]),)
        return tuple(
            sorted(
                {
                    function["Role"]
                    for function in self._pages(client, "list_functions", "Functions")
                    if arn_match(name, function["FunctionName"])
                }
            )
        )

    def _instance_roles(self, account: str, region: str, instance: str) -> tuple[str, ...]:
        ec2 = self._clients.client("ec2", account, region)
        filters: dict[str, Any] = {}
        if any(ch in instance for ch in "*?") and instance != "*":
            filters = {"Filters": [{"Name": "instance-id", "Values": [instance]}]}
        elif instance not in ("*", ""):
            filters = {"InstanceIds": [instance]}
        profiles: set[str] = set()
        for reservation in self._pages(ec2, "describe_instances", "Reservations", **filters):
            for described in reservation.get("Instances", []):
                profile = described.get("IamInstanceProfile") or {}
                if profile.get("Arn"):
                    profiles.add(profile["Arn"].rsplit("/", 1)[-1])
        return tuple(sorted({role for name in profiles for role in self._profile_roles(account, name)}))

    def _profile_roles(self, account: str, name: str) -> tuple[str, ...]:
        profile = self._call(self._iam(account), "get_instance_profile", InstanceProfileName=name)
        return tuple(role["Arn"] for role in profile["InstanceProfile"].get("Roles", []))

    # --- plumbing -----------------------------------------------------------------------------------

    def _account(self, account: str) -> _Account:
        return self._accounts.setdefault(account, _Account())

    def _fresh(self, read_at: float) -> bool:
        return self._clock() - read_at < self._max_age

    def _iam(self, account: str) -> Any:
        return self._clients.client("iam", account, self._region)

    def _call(self, client: Any, operation: str, **parameters: Any) -> Any:
        try:
            return getattr(client, operation)(**parameters)
        except Exception as exc:
            translated = _translated(exc, operation)
            if translated is exc:
                raise
            raise translated from exc

    def _pages(self, client: Any, operation: str, key: str | None, **parameters: Any) -> Iterator[Any]:
        """The items under ``key`` of every page (``key`` None: the pages themselves)."""
        try:
            for page in client.get_paginator(operation).paginate(**parameters):
                if key is None:
                    yield page
                else:
                    yield from page.get(key, [])
        except Exception as exc:
            translated = _translated(exc, operation)
            if translated is exc:
                raise
            raise translated from exc

    @staticmethod
    def _parse(document: Any, what: str) -> Policy:
        try:
            return parse_policy(decoded(document), field=what)
        except Exception as exc:
            raise _Unknown(f"{what} does not parse") from exc


def _translated(exc: Exception, operation: str) -> Exception:
    """Transient errors are raised (the event is retried); gone or permanent ones make the answer unknown."""
    if isinstance(exc, _Unknown) or not is_aws_error(exc):
        return exc
    if is_gone(exc):
        return _Unknown(operation)
    classified = classify(exc, operation)
    if isinstance(classified, TransientAwsError):
        return classified
    return _Unknown(str(classified))
