"""The live ``RoleDirectory``: what principals hold, read from the event's account, cached.

The enforcer judges an identity-policy change on the principal's whole power, so
it reads the principal's inline policies, attached managed policies (default
version), a user's groups and their policies, and the permissions boundary; the
roles a ``Resource`` pattern reaches (``GetAccountAuthorizationDetails`` for roles: every role with its
inline policies, attached policy ARNs, boundary and trust in a few pages, so judging a ``PassRole`` on
``*`` reads each managed policy once rather than four calls per role; ``ListRoles`` where that is
refused, e.g. a member stack deployed before it was granted); the account's users (the same listing for
users: who a trust policy naming the account may let in); and the roles behind a
resource: a Lambda function's execution role, an EC2 instance's (or an instance
profile's) roles, a launch template's, a CloudFormation stack's, a CodeBuild
project's, a Glue dev endpoint's, a SageMaker notebook's, a running ECS task's,
an App Runner service's, and for a new AutoScaling group every launch
configuration's; and a role's instance profiles (EC2 runs as a role only through one), from the
authorization details' ``InstanceProfileList``, else with ``ListInstanceProfilesForRole`` when an EC2 method
asks (``instance_profiles_of``). A pattern naming every region (``*`` becomes
``arn:aws:lambda:*:1:function:*``) is read in the enforcer's region and the
accounts' regions it was given, each listing capped at ``MAX_RESOURCES``; what
was not read (other regions, a refused region, a cap) is said
(``roles_behind_read``), so a verdict that needs it is never a guess.

Errors: "not there" (``NoSuchEntity``) and anything permanent (``AccessDenied``)
mean the answer is unknown (``None``), so the finding names what it lacked and
is never remediated on it; a transient error (throttling, 5xx) is raised as
``TransientAwsError`` and the event is retried.

Cache: per account, for the life of the container. A policy version is
immutable and kept; everything else is dropped by the IAM events the enforcer
itself sees (``observe``: a change to a principal's policies, groups or boundary
drops that principal, and for a group every cached user; a role created or deleted
drops the role list, a user created or deleted the user list; a new, deleted or default
policy version drops that policy's pointer and every cached principal whose answer embeds
that policy; a role added to or removed from an instance profile, or a deleted profile, drops
those roles' instance profiles) and by
the enforcer's own remediations (``forget``); and an answer read before the event being judged happened is
not used (``observe``: the change may have gone to another container). Changes the enforcer is not routed
(a detach, a group membership, a role taken out of an instance profile: no rule routes those, a function's new
role) age out after ``max_age``
seconds, so a stale answer is never older than that.
"""

from __future__ import annotations

import contextlib
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from iamwarden.adapters.errors import TransientAwsError, classify, is_aws_error, is_gone
from iamwarden.domain.directory import PrincipalKey, group_source, inline_source
from iamwarden.domain.events import event_instant
from iamwarden.domain.exceptions import IamWardenError
from iamwarden.domain.managed_documents import decoded
from iamwarden.domain.policy import Policy, parse_policy
from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies, RolesRead
from iamwarden.domain.wildcards import arn_match, wildcard_match

#: What the roles behind existing resources are read with, beyond functions, instances and stacks.
EXISTING_RESOURCE_READS = (
    "ec2:DescribeLaunchTemplates",
    "ec2:DescribeLaunchTemplateVersions",
    "codebuild:ListProjects",
    "codebuild:BatchGetProjects",
    "glue:GetDevEndpoints",
    "sagemaker:ListNotebookInstances",
    "sagemaker:DescribeNotebookInstance",
    "ecs:ListClusters",
    "ecs:ListTasks",
    "ecs:DescribeTasks",
    "ecs:DescribeTaskDefinition",
    "apprunner:ListServices",
    "apprunner:DescribeService",
    "autoscaling:DescribeLaunchConfigurations",
)
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
    "iam:GetAccountAuthorizationDetails",
    "iam:GetInstanceProfile",
    "iam:ListInstanceProfilesForRole",
    "iam:ListEntitiesForPolicy",
    "lambda:GetFunctionConfiguration",
    "lambda:ListFunctions",
    "ec2:DescribeInstances",
    "cloudformation:DescribeStacks",
    "cloudformation:ListStacks",
    *EXISTING_RESOURCE_READS,
)
DEFAULT_MAX_AGE = 300.0
#: How many resources of one kind one region's listing reads before the answer is "not all read".
MAX_RESOURCES = 500
#: What the roles behind each service's resources are, in words a finding can show.
_KINDS_READ = {
    "lambda": "functions",
    "ec2": "instances and launch templates",
    "cloudformation": "stacks",
    "codebuild": "projects",
    "glue": "dev endpoints",
    "sagemaker": "notebook instances",
    "ecs": "tasks",
    "apprunner": "services",
    "autoscaling": "launch configurations",
}

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
    # The cached role carries its trust policy: who may assume it decides where sts:AssumeRole leads.
    "UpdateAssumeRolePolicy": ("role", "roleName"),
    "CreateUser": ("user", "userName"),
    "DeleteUser": ("user", "userName"),
    "DeleteGroup": ("group", "groupName"),
}
_ROLE_LIST_CHANGES = frozenset({"CreateRole", "DeleteRole"})
_USER_LIST_CHANGES = frozenset({"CreateUser", "DeleteUser"})
_POLICY_CHANGES = frozenset({"CreatePolicyVersion", "SetDefaultPolicyVersion", "DeletePolicyVersion", "DeletePolicy"})
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


#: Reads the roles behind one kind of resource in one region: (account, region, the ARN pattern's fields).
_Resolver = Callable[[str, str, list[str]], tuple[str, ...]]


class ClientSource(Protocol):
    def client(self, service: str, account: str, region: str, *, logged: bool = True) -> Any: ...


class _Unknown(Exception):
    """A read that will not succeed by retrying: the answer is unknown."""


class _Gone(_Unknown):
    """The resource is not there: unknown for a name asked for, nothing there when reading every region."""


class _Account:
    """What is cached for one account: entries are (time read, value)."""

    def __init__(self) -> None:
        self.principals: dict[PrincipalKey, tuple[float, PrincipalPolicies | None]] = {}
        #: The managed policies (and boundary) each cached principal's answer embeds, by ARN.
        self.managed: dict[PrincipalKey, frozenset[str]] = {}
        self.defaults: dict[str, tuple[float, str]] = {}
        self.roles: tuple[float, tuple[str, ...] | None] | None = None
        self.users: tuple[float, tuple[str, ...] | None] | None = None
        #: User and group name -> its ``UserDetailList``/``GroupDetailList`` entry, read with ``users`` (and as
        #: fresh): what a user holds, its groups' policies too, without reading it again. A user or group an
        #: event changes is dropped from them (``observe``).
        self.user_details: dict[str, Mapping[str, Any]] = {}
        self.group_details: dict[str, Mapping[str, Any]] = {}
        #: Role name -> its ``RoleDetailList`` entry, read with ``roles`` (and as fresh): what a role holds,
        #: without reading it again. A role an event changes is dropped from it (``observe``).
        self.details: dict[str, Mapping[str, Any]] = {}
        self.behind: dict[str, tuple[float, RolesRead | None]] = {}
        self.attachments: dict[str, tuple[float, tuple[str, ...] | None]] = {}
        #: Role name -> its instance profile ARNs (``ListInstanceProfilesForRole``), or None when unknown.
        self.profiles: dict[str, tuple[float, tuple[str, ...] | None]] = {}


class LiveRoleDirectory:
    """Answers ``RoleDirectory`` from the accounts' IAM, Lambda and EC2, through the shared client factory."""

    def __init__(
        self,
        clients: ClientSource,
        region: str = "us-east-1",
        *,
        regions: Sequence[str] = (),
        max_age: float = DEFAULT_MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        """``regions``: the accounts' regions (from the deployment); when given, a pattern naming every region
        is read in those and in ``region``, and is then complete; when not, only ``region`` is read and the
        rest stays unread (a finding that needs it is alerted, never remediated)."""
        self._clients = clients
        self._region = region
        self._regions = tuple(dict.fromkeys((region, *regions)))
        self._all_regions = bool(regions)
        self._max_age = max_age
        self._clock = clock
        self._wall = wall
        #: Reads older than this (``clock`` time) are not used: set by ``observe`` to when the event being judged
        #: happened, since another container may have seen the change that made them stale (review s10 finding 9).
        self._horizon = float("-inf")
        self._accounts: dict[str, _Account] = {}
        #: (policy ARN, version id) -> document: versions never change
        #: (policy ARN, version id) -> its document and the other readings of its text (``held_readings``)
        self._versions: dict[tuple[str, str], NamedPolicy] = {}
        #: The managed policy ARNs the principal being read embeds (see ``_drop_holders``).
        self._reading_managed: frozenset[str] = frozenset()
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
        self._account(key.account).managed[key] = self._reading_managed
        return found

    def roles_matching(self, account: str, pattern: str) -> tuple[str, ...] | None:
        cache = self._account(account)
        if cache.roles is None or not self._fresh(cache.roles[0]):
            cache.details, roles = self._read_roles(account)
            cache.roles = (self._clock(), roles)
        listed = cache.roles[1]
        if listed is None:
            return None
        return tuple(arn for arn in listed if pattern == "*" or arn_match(pattern, arn))

    def _read_roles(self, account: str) -> tuple[dict[str, Mapping[str, Any]], tuple[str, ...] | None]:
        """Every role of the account with what it holds (``GetAccountAuthorizationDetails``), or only the role
        list (``ListRoles``) where that is refused; ``None`` when neither can be read."""
        iam = self._iam(account)
        try:
            details = list(self._pages(iam, "get_account_authorization_details", "RoleDetailList", Filter=["Role"]))
            return {detail["RoleName"]: detail for detail in details}, tuple(detail["Arn"] for detail in details)
        except _Unknown:
            pass
        try:
            return {}, tuple(role["Arn"] for role in self._pages(iam, "list_roles", "Roles"))
        except _Unknown:
            return {}, None

    def users_of(self, account: str) -> tuple[str, ...] | None:
        """Every user ARN of the account (``ListsUsers``: who a trust naming the account may let in), listed with
        ``GetAccountAuthorizationDetails`` for users and groups, whose entries then answer ``principal`` for each
        user (its policies, groups and their policies, boundary: read together, not five calls a user); None
        when that is refused."""
        cache = self._account(account)
        if cache.users is None or not self._fresh(cache.users[0]):
            try:
                pages = list(
                    self._pages(self._iam(account), "get_account_authorization_details", None, Filter=["User", "Group"])
                )
                users = [detail for page in pages for detail in page.get("UserDetailList", [])]
                groups = [detail for page in pages for detail in page.get("GroupDetailList", [])]
                cache.user_details = {detail["UserName"]: detail for detail in users}
                cache.group_details = {detail["GroupName"]: detail for detail in groups}
                listed: tuple[str, ...] | None = tuple(detail["Arn"] for detail in users)
            except _Unknown:
                cache.user_details, cache.group_details, listed = {}, {}, None
            cache.users = (self._clock(), listed)
        return cache.users[1]

    def roles_behind(self, resource_arn: str) -> tuple[str, ...] | None:
        read = self.roles_behind_read(resource_arn)
        return None if read is None or read.unread else read.roles

    def roles_behind_read(self, resource_arn: str) -> RolesRead | None:
        """The roles behind what ``resource_arn`` reaches, and what was not read (``ReadsRolesBehind``)."""
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
            # An AWS-managed policy: in which account is not in its ARN. Only a new default version asks who holds a
            # policy, and AWS alone versions its own; an attachment is judged on the principal its event names.
            return None
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

    def instance_profiles_of(self, role_arn: str) -> tuple[str, ...] | None:
        """A role's instance profile ARNs (``ListsInstanceProfiles``), asked only by the EC2 methods for a role read
        without them (``GetRole`` does not give them; the authorization details do, see ``_role_from_details``).
        ``ListInstanceProfilesForRole``, paged, cached like a principal; None when it cannot be read."""
        key = PrincipalKey.of(role_arn)
        if key is None or key.kind != "role":
            return None
        cache = self._account(key.account)
        hit = cache.profiles.get(key.name)
        if hit is not None and self._fresh(hit[0]):
            return hit[1]
        try:
            found: tuple[str, ...] | None = tuple(
                profile["Arn"]
                for profile in self._pages(
                    self._iam(key.account), "list_instance_profiles_for_role", "InstanceProfiles", RoleName=key.name
                )
            )
        except _Unknown:
            found = None
        cache.profiles[key.name] = (self._clock(), found)
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
        """Drop what an EventBridge CloudTrail event (as it arrives, not yet judged) may have changed, and use no
        answer read before the event happened.

        EventBridge spreads events over containers: the event that changed a role this one has cached may have gone
        to another, so only what was read after the event being judged happened is known to hold every change made
        before it (a burst still hits the cache: reads made while judging its first events are younger than its
        later ones). An event with no readable time uses nothing read before it arrived.
        """
        detail = event.get("detail") if isinstance(event, Mapping) else None
        self._horizon = self._since(event)
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
                if kind == "role":
                    cache.details.pop(principal, None)
                if kind == "user":
                    cache.user_details.pop(principal, None)
                if kind == "group":
                    cache.group_details.pop(principal, None)
            if kind == "group" or name in ("AddUserToGroup", "RemoveUserFromGroup"):
                for key in [key for key in cache.principals if key.kind == "user"]:
                    del cache.principals[key]  # a user holds its groups' policies
        if name in _ROLE_LIST_CHANGES:
            cache.roles = None
        if name in _USER_LIST_CHANGES:
            cache.users = None
        if name in _POLICY_CHANGES and isinstance(request.get("policyArn"), str):
            cache.defaults.pop(request["policyArn"], None)
            _drop_holders(cache, request["policyArn"])
            if name == "DeletePolicy":  # created again under the same name, its v1 is another document
                for kept in [kept for kept in self._versions if kept[0] == request["policyArn"]]:
                    del self._versions[kept]
        if name.startswith(("Attach", "Detach")) and isinstance(request.get("policyArn"), str):
            cache.attachments.pop(request["policyArn"], None)
        if name in _PROFILE_CHANGES:
            cache.behind.clear()
            _drop_profiled(cache, request)

    def forget(self, principal_arn: str) -> None:
        """Drop a principal the enforcer itself just changed (its own calls never come back as events).

        A managed policy's ARN (a version restored) drops its default-version pointer, who holds it, and
        every cached principal whose answer embeds its document.
        """
        fields = principal_arn.split(":", 5)
        if len(fields) == 6 and fields[2] == "iam" and fields[5].startswith("policy/"):
            if fields[4] in self._accounts:
                cache = self._accounts[fields[4]]
                cache.defaults.pop(principal_arn, None)
                cache.attachments.pop(principal_arn, None)
                _drop_holders(cache, principal_arn)
            return
        key = PrincipalKey.of(principal_arn)
        if key is not None and key.account in self._accounts:
            self._accounts[key.account].principals.pop(key, None)
            if key.kind == "role":
                self._accounts[key.account].details.pop(key.name, None)
            if key.kind == "user":
                self._accounts[key.account].user_details.pop(key.name, None)
            if key.kind == "group":
                self._accounts[key.account].group_details.pop(key.name, None)
                self._accounts[key.account].principals.clear()

    # --- reading ------------------------------------------------------------------------------------

    def _read_principal(self, key: PrincipalKey, arn: str) -> PrincipalPolicies:
        self._reading_managed = frozenset()
        if key.kind == "role":
            listed = self._account(key.account)
            detail = listed.details.get(key.name)
            if detail is not None and listed.roles is not None and self._fresh(listed.roles[0]):
                return self._role_from_details(key, detail)
        if key.kind == "user":
            listed = self._account(key.account)
            detail = listed.user_details.get(key.name)
            if detail is not None and listed.users is not None and self._fresh(listed.users[0]):
                found = self._user_from_details(key, detail, listed.group_details)
                if found is not None:
                    return found
        iam = self._iam(key.account)
        boundary: Policy | None = None
        boundary_readings: tuple[Policy, ...] = ()
        trust: Policy | None = None
        if key.kind in ("role", "user"):
            entity = self._call(iam, f"get_{key.kind}", **{f"{key.kind.capitalize()}Name": key.name})
            described = entity["Role" if key.kind == "role" else "User"]
            arn = described.get("Arn", arn)
            limit = described.get("PermissionsBoundary")
            if isinstance(limit, Mapping) and limit.get("PermissionsBoundaryArn"):
                held = self._managed(key.account, limit["PermissionsBoundaryArn"])
                boundary, boundary_readings = held.policy, held.readings
            trust = _trust_of(described)
        policies = self._own_policies(iam, key)
        groups: list[str] | None = None
        if key.kind == "user":
            groups = []
            for group in self._pages(iam, "list_groups_for_user", "Groups", UserName=key.name):
                group_key = PrincipalKey((key.account, "group", group["GroupName"]))
                partition = arn.split(":", 2)[1] if arn.startswith("arn:") else "aws"
                groups.append(group.get("Arn") or f"arn:{partition}:iam::{key.account}:group/{group_key.name}")
                policies.extend(
                    named._replace(source=group_source(group_key.name, named.source))
                    for named in self._own_policies(iam, group_key)
                )
        return PrincipalPolicies(
            arn,
            tuple(policies),
            boundary,
            trust,
            groups=None if groups is None else tuple(groups),
            boundary_readings=boundary_readings,
        )

    def _role_from_details(self, key: PrincipalKey, detail: Mapping[str, Any]) -> PrincipalPolicies:
        """A role as ``GetAccountAuthorizationDetails`` gave it: the same policies ``GetRole`` and the role's
        policy lists would give, read together (managed documents through ``_managed``, as for any role)."""
        held = self._boundary_of(key, detail)
        policies = self._detail_policies(key, key.name, detail, "RolePolicyList")
        # The entry lists the role's instance profiles too: no ListInstanceProfilesForRole needed for it.
        listed = detail.get("InstanceProfileList")
        profiles = tuple(str(p["Arn"]) for p in listed if p.get("Arn")) if isinstance(listed, list) else None
        return PrincipalPolicies(
            detail["Arn"],
            tuple(policies),
            None if held is None else held.policy,
            _trust_of(detail),
            instance_profiles=profiles,
            boundary_readings=() if held is None else held.readings,
        )

    def _boundary_of(self, key: PrincipalKey, detail: Mapping[str, Any]) -> NamedPolicy | None:
        """The permissions boundary an authorization details entry names, read as any managed policy."""
        limit = detail.get("PermissionsBoundary")
        if isinstance(limit, Mapping) and limit.get("PermissionsBoundaryArn"):
            return self._managed(key.account, limit["PermissionsBoundaryArn"])
        return None

    def _user_from_details(
        self, key: PrincipalKey, detail: Mapping[str, Any], groups: Mapping[str, Mapping[str, Any]]
    ) -> PrincipalPolicies | None:
        """A user as ``GetAccountAuthorizationDetails`` gave it, with its groups' entries: the policies ``GetUser``,
        its lists and its groups' lists would give (None: a group of it is not among the entries, so read it)."""
        held = self._boundary_of(key, detail)
        policies = self._detail_policies(key, key.name, detail, "UserPolicyList")
        in_groups: list[str] = []
        for name in detail.get("GroupList") or ():
            group = groups.get(name)
            if group is None:
                return None
            in_groups.append(group["Arn"])
            group_key = PrincipalKey((key.account, "group", name))
            policies.extend(
                named._replace(source=group_source(name, named.source))
                for named in self._detail_policies(group_key, name, group, "GroupPolicyList")
            )
        return PrincipalPolicies(
            detail["Arn"],
            tuple(policies),
            None if held is None else held.policy,
            None,
            groups=tuple(in_groups),
            boundary_readings=() if held is None else held.readings,
        )

    def _detail_policies(
        self, key: PrincipalKey, name: str, detail: Mapping[str, Any], inline_list: str
    ) -> list[NamedPolicy]:
        """The inline and attached policies of one ``GetAccountAuthorizationDetails`` entry."""
        policies = [
            self._held(
                inline_source(name, inline["PolicyName"]),
                inline,
                "PolicyDocument",
                f"inline policy {inline['PolicyName']}",
            )
            for inline in detail.get(inline_list) or ()
        ]
        policies.extend(
            self._managed(key.account, attached["PolicyArn"])
            for attached in detail.get("AttachedManagedPolicies") or ()
        )
        return policies

    def _own_policies(self, iam: Any, key: PrincipalKey) -> list[NamedPolicy]:
        list_inline, get_inline, list_attached, parameter = _INLINE_CALLS[key.kind]
        found: list[NamedPolicy] = []
        for name in self._pages(iam, list_inline, "PolicyNames", **{parameter: key.name}):
            answer = self._call(iam, get_inline, **{parameter: key.name, "PolicyName": name})
            found.append(self._held(inline_source(key.name, name), answer, "PolicyDocument", f"inline policy {name}"))
        for attached in self._pages(iam, list_attached, "AttachedPolicies", **{parameter: key.name}):
            found.append(self._managed(key.account, attached["PolicyArn"]))
        return found

    def _held(self, source: str, answer: Mapping[str, Any], key: str, what: str) -> NamedPolicy:
        """The policy document under ``key`` of an IAM answer, with the other readings of its text (kept before
        botocore decoded it: ``_keep_texts``), so a held policy that names a key twice is read every way."""
        text = answer.get(_TEXT, answer[key])
        # Imported with the first policy read: the enforcer imports this module at every cold start.
        from iamwarden.domain.held_texts import parsed_readings  # noqa: PLC0415

        return NamedPolicy(source, self._parse(answer[key], what), parsed_readings(text, what))

    def _managed(self, account: str, policy_arn: str) -> NamedPolicy:
        """The default version of a managed policy (its pointer cached, its document kept for good), named by its
        ARN, with the other readings of its text."""
        self._reading_managed |= {policy_arn}
        cache = self._account(account).defaults
        hit = cache.get(policy_arn)
        iam = self._iam(account)
        if hit is None or not self._fresh(hit[0]):
            version_id = str(self._call(iam, "get_policy", PolicyArn=policy_arn)["Policy"]["DefaultVersionId"])
            hit = cache[policy_arn] = (self._clock(), version_id)
        key = (policy_arn, hit[1])
        if key not in self._versions:
            answer = self._call(iam, "get_policy_version", PolicyArn=policy_arn, VersionId=hit[1])["PolicyVersion"]
            held = self._held(policy_arn, answer, "Document", f"{policy_arn} {hit[1]}")
            self._versions[key] = held
        return self._versions[key]

    def reads_roles_behind(self, resource_arn: str) -> bool:
        """Whether a reader exists for this kind of resource (``KnowsReadableKinds``): instance profiles and the
        kinds ``_resolver`` knows; bedrock-agentcore, Batch and CodeDeploy, for instance, have none."""
        fields = resource_arn.split(":", 6)
        if len(fields) < 6 or fields[0] != "arn":
            return False
        resource = ":".join(fields[5:])
        if fields[2] == "iam" and resource.startswith("instance-profile/"):
            return True
        return self._resolver(fields[2], resource) is not None

    def _read_behind(self, fields: list[str]) -> RolesRead | None:
        service, region, account, resource = fields[2], fields[3], fields[4], ":".join(fields[5:])
        if service == "iam" and resource.startswith("instance-profile/"):
            return RolesRead(self._profile_roles(account, resource.rsplit("/", 1)[-1]))
        resolver = self._resolver(service, resource)
        if resolver is None:
            return None
        if region and not any(ch in region for ch in "*?"):
            return RolesRead(resolver(account, region, fields))
        return self._every_region(resolver, fields)

    def _every_region(self, resolver: _Resolver, fields: list[str]) -> RolesRead:
        """A pattern naming every region (``arn:aws:lambda:*:1:function:*``): read the regions the enforcer knows.

        Those are its own and the ones ``regions`` lists; unless ``regions`` was given (the account's regions,
        from the deployment), the others stay unread, and so does a region whose read failed or was capped.
        """
        pattern, what = fields[3] or "*", _KINDS_READ.get(fields[2], f"{fields[2]} resources")
        roles: set[str] = set()
        unread: list[str] = []
        for region in self._regions:
            if not wildcard_match(pattern, region):
                continue
            try:
                roles.update(resolver(fields[4], region, [*fields[:3], region, *fields[4:]]))
            except _Gone:
                continue  # not in this region: nothing behind it here
            except _Unknown as exc:
                unread.append(f"{what} in {region} ({exc})")
        if not self._all_regions:
            unread.append(f"{what} in regions other than {', '.join(self._regions)} (not read: regions not configured)")
        return RolesRead(tuple(sorted(roles)), tuple(unread))

    def _resolver(self, service: str, resource: str) -> _Resolver | None:
        """How to read the roles behind one kind of resource in one region, or None (not a kind known here)."""
        resolvers: dict[tuple[str, str], _Resolver] = {
            ("lambda", "function:"): self._function_roles,
            ("ec2", "instance/"): self._instance_roles,
            ("ec2", "launch-template/"): self._launch_template_roles,
            ("cloudformation", "stack/"): self._stack_roles,
            ("codebuild", "project/"): self._project_roles,
            ("glue", "devEndpoint/"): self._dev_endpoint_roles,
            ("sagemaker", "notebook-instance/"): self._notebook_roles,
            ("ecs", "task/"): self._task_roles,
            ("apprunner", "service/"): self._app_runner_roles,
            ("autoscaling", "autoScalingGroup:"): self._launch_configuration_roles,
        }
        return next(
            (read for (kind, prefix), read in resolvers.items() if kind == service and resource.startswith(prefix)),
            None,
        )

    def _stack_roles(self, account: str, region: str, fields: list[str]) -> tuple[str, ...]:
        """The service roles of the stacks the pattern names; a stack without one acts as its caller (nothing)."""
        client = self._clients.client("cloudformation", account, region)
        pattern = ":".join(fields)
        stacks = self._bounded(self._pages(client, "describe_stacks", "Stacks"), "stacks", region)
        return _sorted(stack.get("RoleARN") for stack in stacks if arn_match(pattern, stack["StackId"]))

    def _function_roles(self, account: str, region: str, fields: list[str]) -> tuple[str, ...]:
        client = self._clients.client("lambda", account, region)
        resource = ":".join(fields[5:])
        name = resource.split(":")[1] if ":" in resource else ""
        if not any(ch in name for ch in "*?"):
            return (str(self._call(client, "get_function_configuration", FunctionName=name)["Role"]),)
        functions = self._bounded(self._pages(client, "list_functions", "Functions"), "functions", region)
        return _sorted(function["Role"] for function in functions if arn_match(name, function["FunctionName"]))

    def _instance_roles(self, account: str, region: str, fields: list[str]) -> tuple[str, ...]:
        ec2 = self._clients.client("ec2", account, region)
        instance = ":".join(fields[5:])[len("instance/") :]
        filters: dict[str, Any] = {}
        if any(ch in instance for ch in "*?") and instance != "*":
            filters = {"Filters": [{"Name": "instance-id", "Values": [instance]}]}
        elif instance not in ("*", ""):
            filters = {"InstanceIds": [instance]}
        reservations = self._pages(ec2, "describe_instances", "Reservations", **filters)
        instances = self._bounded(
            (described for reservation in reservations for described in reservation.get("Instances", [])),
            "instances",
            region,
        )
        return self._profiles_roles(account, ((described.get("IamInstanceProfile") or {}) for described in instances))

    def _launch_template_roles(self, account: str, region: str, fields: list[str]) -> tuple[str, ...]:
        """The instance profiles' roles of the templates' default and latest versions (what a new version keeps)."""
        ec2 = self._clients.client("ec2", account, region)
        pattern = ":".join(fields)
        templates = self._bounded(
            self._pages(ec2, "describe_launch_templates", "LaunchTemplates"), "launch templates", region
        )
        profiles: list[Mapping[str, Any]] = []
        for template in templates:
            if not arn_match(pattern, ":".join([*fields[:5], f"launch-template/{template['LaunchTemplateId']}"])):
                continue
            versions = self._call(
                ec2,
                "describe_launch_template_versions",
                LaunchTemplateId=template["LaunchTemplateId"],
                Versions=["$Default", "$Latest"],
            )["LaunchTemplateVersions"]
            profiles.extend(
                version.get("LaunchTemplateData", {}).get("IamInstanceProfile") or {} for version in versions
            )
        return self._profiles_roles(account, profiles)

    def _launch_configuration_roles(self, account: str, region: str, fields: list[str]) -> tuple[str, ...]:
        """A new AutoScaling group can launch from any existing launch configuration: their profiles' roles."""
        client = self._clients.client("autoscaling", account, region)
        configurations = self._bounded(
            self._pages(client, "describe_launch_configurations", "LaunchConfigurations"),
            "launch configurations",
            region,
        )
        profiles = [configuration.get("IamInstanceProfile") for configuration in configurations]
        return self._profiles_roles(
            account,
            ({"Arn": profile} if profile.startswith("arn:") else {"Name": profile} for profile in profiles if profile),
        )

    def _project_roles(self, account: str, region: str, fields: list[str]) -> tuple[str, ...]:
        """CodeBuild projects' service roles: a build runs as its project's role."""
        client = self._clients.client("codebuild", account, region)
        pattern = ":".join(fields)
        prefix = ":".join([*fields[:5], "project/"])
        names = [
            name
            for name in self._bounded(self._pages(client, "list_projects", "projects"), "projects", region)
            if arn_match(pattern, prefix + name)
        ]
        roles: list[str | None] = []
        for start in range(0, len(names), 100):
            answer = self._call(client, "batch_get_projects", names=names[start : start + 100])
            roles.extend(project.get("serviceRole") for project in answer.get("projects", []))
        return _sorted(roles)

    def _dev_endpoint_roles(self, account: str, region: str, fields: list[str]) -> tuple[str, ...]:
        client = self._clients.client("glue", account, region)
        pattern = ":".join(fields)
        prefix = ":".join([*fields[:5], "devEndpoint/"])
        endpoints = self._bounded(self._pages(client, "get_dev_endpoints", "DevEndpoints"), "dev endpoints", region)
        return _sorted(
            endpoint.get("RoleArn") for endpoint in endpoints if arn_match(pattern, prefix + endpoint["EndpointName"])
        )

    def _notebook_roles(self, account: str, region: str, fields: list[str]) -> tuple[str, ...]:
        client = self._clients.client("sagemaker", account, region)
        pattern = ":".join(fields)
        notebooks = self._bounded(
            self._pages(client, "list_notebook_instances", "NotebookInstances"), "notebook instances", region
        )
        return _sorted(
            self._call(client, "describe_notebook_instance", NotebookInstanceName=notebook["NotebookInstanceName"]).get(
                "RoleArn"
            )
            for notebook in notebooks
            if arn_match(pattern, notebook["NotebookInstanceArn"])
        )

    def _task_roles(self, account: str, region: str, fields: list[str]) -> tuple[str, ...]:
        """Running ECS tasks' task roles (an override, else the task definition's)."""
        client = self._clients.client("ecs", account, region)
        pattern = ":".join(fields)
        definitions: dict[str, str | None] = {}
        roles: list[str | None] = []
        clusters = self._bounded(self._pages(client, "list_clusters", "clusterArns"), "clusters", region)
        for cluster in clusters:
            arns = [
                arn
                for arn in self._bounded(
                    self._pages(client, "list_tasks", "taskArns", cluster=cluster), "tasks", region
                )
                if arn_match(pattern, arn)
            ]
            for start in range(0, len(arns), 100):
                answer = self._call(client, "describe_tasks", cluster=cluster, tasks=arns[start : start + 100])
                for task in answer.get("tasks", []):
                    override = (task.get("overrides") or {}).get("taskRoleArn")
                    definition = task.get("taskDefinitionArn")
                    if override or not definition:
                        roles.append(override)
                        continue
                    if definition not in definitions:
                        described = self._call(client, "describe_task_definition", taskDefinition=definition)
                        definitions[definition] = described["taskDefinition"].get("taskRoleArn")
                    roles.append(definitions[definition])
        return _sorted(roles)

    def _app_runner_roles(self, account: str, region: str, fields: list[str]) -> tuple[str, ...]:
        """App Runner services' instance roles (what the service's code runs as)."""
        client = self._clients.client("apprunner", account, region)
        pattern = ":".join(fields)
        services: list[str] = []
        token: str | None = None
        while True:
            page = self._call(client, "list_services", **({"NextToken": token} if token else {}))
            services.extend(summary["ServiceArn"] for summary in page.get("ServiceSummaryList", []))
            if len(services) > MAX_RESOURCES:
                raise _Unknown(f"more than {MAX_RESOURCES} services (not all read)")
            token = page.get("NextToken")
            if not token:
                break
        return _sorted(
            self._call(client, "describe_service", ServiceArn=arn)["Service"]
            .get("InstanceConfiguration", {})
            .get("InstanceRoleArn")
            for arn in services
            if arn_match(pattern, arn)
        )

    def _profiles_roles(self, account: str, profiles: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
        """The roles of instance profiles named by ``{"Arn": ...}`` or ``{"Name": ...}``, each read once."""
        names = {str(profile.get("Arn") or "").rsplit("/", 1)[-1] or profile.get("Name") for profile in profiles}
        return _sorted(role for name in names if name for role in self._profile_roles(account, str(name)))

    def _bounded(self, items: Iterable[Any], what: str, region: str) -> Iterator[Any]:
        """``items``, failing as unknown past ``MAX_RESOURCES``: a verdict never rests on a list read in part."""
        for count, item in enumerate(items):
            if count >= MAX_RESOURCES:
                raise _Unknown(f"more than {MAX_RESOURCES} {what} (not all read)")
            yield item

    def _profile_roles(self, account: str, name: str) -> tuple[str, ...]:
        profile = self._call(self._iam(account), "get_instance_profile", InstanceProfileName=name)
        return tuple(role["Arn"] for role in profile["InstanceProfile"].get("Roles", []))

    # --- plumbing -----------------------------------------------------------------------------------

    def _account(self, account: str) -> _Account:
        return self._accounts.setdefault(account, _Account())

    def _fresh(self, read_at: float) -> bool:
        return read_at >= self._horizon and self._clock() - read_at < self._max_age

    def _since(self, event: Any) -> float:
        """When (``clock`` time, never later than now) the event happened (``event_instant``), else now."""
        now = self._clock()
        happened = event_instant(event) if isinstance(event, Mapping) else None
        if happened is None:
            return now
        return now - max(0.0, self._wall() - happened.timestamp())

    def _iam(self, account: str) -> Any:
        client = self._clients.client("iam", account, self._region)
        _keep_texts(client)
        return client

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


#: Where ``_keep_texts`` leaves a policy document's text, beside the document botocore decodes (no IAM shape's key).
_TEXT = "IamWardenDocumentText"
#: The IAM answers whose policy documents the directory reads.
_READ_TEXTS = ("GetRolePolicy", "GetUserPolicy", "GetGroupPolicy", "GetPolicyVersion", "GetAccountAuthorizationDetails")


def _keep_texts(iam: Any) -> None:
    """Keep the text of every policy document the directory reads: botocore's ``json_decode_policies`` (on
    ``after-call.iam``) turns it into a dict keeping only the last value of a key named twice, and a more specific
    ``after-call.iam.<Operation>`` handler runs before it. Registered once per client (``unique_id``)."""
    events = getattr(getattr(iam, "meta", None), "events", None)
    if events is None:  # a test's stand-in client: its documents are dicts
        return
    try:
        if events in _KEEPING_TEXTS:
            return  # botocore's register checks the handler's signature every time: ~50 µs a client asked
    except TypeError:  # not weakly referable: registered again (``unique_id`` keeps it once)
        pass
    for operation in _READ_TEXTS:
        events.register(f"after-call.iam.{operation}", _kept_texts, unique_id=f"iamwarden-held-text-{operation}")
    with contextlib.suppress(TypeError):  # not weakly referable: registered again next time
        _KEEPING_TEXTS.add(events)


#: The clients' event emitters ``_keep_texts`` has registered with (weakly: a client dropped is forgotten).
_KEEPING_TEXTS: weakref.WeakSet[Any] = weakref.WeakSet()


def _kept_texts(parsed: Any, **_: Any) -> None:
    """Beside each ``PolicyDocument``/``Document`` text of an answer (nested lists too), the same text."""
    stack: list[Any] = [parsed]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key in ("PolicyDocument", "Document"):
                if isinstance(value.get(key), str):
                    value[_TEXT] = value[key]
            stack.extend(item for item in value.values() if isinstance(item, dict | list))
        elif isinstance(value, list):
            stack.extend(item for item in value if isinstance(item, dict | list))


def _trust_of(described: Mapping[str, Any]) -> Policy | None:
    """The trust policy GetRole returns with the role (``None`` for a user, or one that does not parse: unknown)."""
    document = described.get("AssumeRolePolicyDocument")
    if document is None:
        return None
    try:
        return parse_policy(decoded(document), field="AssumeRolePolicyDocument")
    except (ValueError, TypeError, IamWardenError):  # unreadable: an unknown fact, not a failed read
        return None


def _drop_profiled(cache: _Account, request: Mapping[str, Any]) -> None:
    """Drop what an instance profile change may have changed: the named role's profiles (its cached entry carries
    them, when read from the authorization details), or for a deleted profile every role cached as in it."""
    role = request.get("roleName")
    if isinstance(role, str):
        cache.profiles.pop(role, None)
        cache.details.pop(role, None)
        for key in [key for key in cache.principals if key.kind == "role" and key.name == role]:
            del cache.principals[key]
        return
    profile = request.get("instanceProfileName")
    if not isinstance(profile, str):
        return

    def names_it(arns: tuple[str, ...] | None) -> bool:
        return arns is not None and any(arn.rsplit("/", 1)[-1] == profile for arn in arns)

    for name in [name for name, (_, arns) in cache.profiles.items() if names_it(arns)]:
        del cache.profiles[name]
    for key in [key for key, (_, found) in cache.principals.items() if found and names_it(found.instance_profiles)]:
        del cache.principals[key]
    for name, detail in list(cache.details.items()):
        listed = detail.get("InstanceProfileList")
        if isinstance(listed, list) and names_it(tuple(str(p.get("Arn") or "") for p in listed)):
            del cache.details[name]


def _drop_holders(cache: _Account, policy_arn: str) -> None:
    """Drop the cached principals that hold ``policy_arn`` (attached, through a group, or as boundary)."""
    for key in [key for key, managed in cache.managed.items() if policy_arn in managed]:
        cache.principals.pop(key, None)
        del cache.managed[key]


def _sorted(arns: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(sorted({arn for arn in arns if arn}))


def _translated(exc: Exception, operation: str) -> Exception:
    """Transient errors are raised (the event is retried); gone or permanent ones make the answer unknown."""
    if isinstance(exc, _Unknown) or not is_aws_error(exc):
        return exc
    if is_gone(exc):
        return _Gone(operation)
    classified = classify(exc, operation)
    if isinstance(classified, TransientAwsError):
        return classified
    return _Unknown(str(classified))
