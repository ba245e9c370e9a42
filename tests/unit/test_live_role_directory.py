"""The live RoleDirectory: what it reads, what it caches, what drops the cache, and what an error means.

A fake account answers the IAM, Lambda and EC2 calls and counts them; tests/functional/test_live_context.py
runs the same reader against moto.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from iamwarden.adapters.errors import TransientAwsError
from iamwarden.adapters.principals import LiveRoleDirectory

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"
POLICY = f"arn:aws:iam::{ACCOUNT}:policy/shared"


def _doc(action: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}


def _error(code: str, operation: str) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": "no"}, "ResponseMetadata": {"HTTPStatusCode": 400}}
    return ClientError(response, operation)


class _Paginator:
    def __init__(self, client: FakeAccount, operation: str) -> None:
        self.client, self.operation = client, operation

    def paginate(self, **parameters: Any) -> Iterator[dict[str, Any]]:
        yield from self.client.call(self.operation, parameters)


class FakeAccount:
    """IAM, Lambda and EC2 of one account, as far as the directory reads them; every call is counted."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.fail: dict[str, str] = {}  # operation -> error code
        self.inline = {"app": {"own": _doc("s3:GetObject")}, "alice": {}, "devs": {"dev": _doc("iam:PassRole")}}
        self.attached = {"app": [POLICY], "alice": [], "devs": []}
        self.groups = {"alice": ["devs"]}
        self.boundary: dict[str, str] = {}
        self.default = {POLICY: "v1"}
        self.versions = {(POLICY, "v1"): _doc("logs:PutLogEvents"), (POLICY, "v2"): _doc("iam:CreateAccessKey")}
        self.roles = [ROLE, f"arn:aws:iam::{ACCOUNT}:role/deploy-app", f"arn:aws:iam::{ACCOUNT}:role/other"]
        self.region = "us-east-1"
        self.fail_in: dict[str, str] = {}  # region -> error code of every call there
        self.functions = [("app-api", ROLE), ("app-worker", ROLE), ("ops", f"arn:aws:iam::{ACCOUNT}:role/other")]

    def client(self, service: str, account: str, region: str, *, logged: bool = True) -> FakeAccount:
        self.region = region
        return self

    def get_paginator(self, operation: str) -> _Paginator:
        return _Paginator(self, operation)

    def __getattr__(self, operation: str) -> Any:
        if operation.startswith("_"):
            raise AttributeError(operation)
        return lambda **parameters: next(iter(self.call(operation, parameters)))

    def call(self, operation: str, p: dict[str, Any]) -> list[dict[str, Any]]:
        self.calls[operation] += 1
        if operation in self.fail:
            raise _error(self.fail[operation], operation)
        if self.region in self.fail_in:
            raise _error(self.fail_in[self.region], operation)
        name = str(p.get("RoleName") or p.get("UserName") or p.get("GroupName"))
        answers: dict[str, Any] = {
            "get_role": lambda: {"Role": {"Arn": ROLE, **self._limit(name)}},
            "get_user": lambda: {"User": {"Arn": USER, **self._limit(name)}},
            "list_role_policies": lambda: {"PolicyNames": list(self.inline[name])},
            "list_user_policies": lambda: {"PolicyNames": list(self.inline[name])},
            "list_group_policies": lambda: {"PolicyNames": list(self.inline[name])},
            "get_role_policy": lambda: {"PolicyDocument": self.inline[name][p["PolicyName"]]},
            "get_user_policy": lambda: {"PolicyDocument": self.inline[name][p["PolicyName"]]},
            "get_group_policy": lambda: {"PolicyDocument": json.dumps(self.inline[name][p["PolicyName"]])},
            "list_attached_role_policies": lambda: {
                "AttachedPolicies": [{"PolicyArn": a} for a in self.attached[name]]
            },
            "list_attached_user_policies": lambda: {
                "AttachedPolicies": [{"PolicyArn": a} for a in self.attached[name]]
            },
            "list_attached_group_policies": lambda: {
                "AttachedPolicies": [{"PolicyArn": a} for a in self.attached[name]]
            },
            "list_groups_for_user": lambda: {"Groups": [{"GroupName": g} for g in self.groups[name]]},
            "get_policy": lambda: {"Policy": {"DefaultVersionId": self.default[p["PolicyArn"]]}},
            "get_policy_version": lambda: {
                "PolicyVersion": {"Document": self.versions[(p["PolicyArn"], p["VersionId"])]}
            },
            "list_roles": lambda: {"Roles": [{"Arn": arn} for arn in self.roles]},
            "get_account_authorization_details": lambda: (
                {"UserDetailList": [{"Arn": USER, "UserName": "alice"}]}
                if p.get("Filter") == ["User", "Group"]
                else {"RoleDetailList": [self._detail(arn) for arn in self.roles]}
            ),
            "get_instance_profile": lambda: {"InstanceProfile": {"Roles": [{"Arn": ROLE}]}},
            "get_function_configuration": lambda: {"Role": f"arn:aws:iam::{ACCOUNT}:role/fn-{p['FunctionName']}"},
            "list_functions": lambda: {"Functions": [{"FunctionName": n, "Role": r} for n, r in self.functions]},
            **self._resources(p),
            "list_entities_for_policy": lambda: {
                "PolicyRoles": [{"RoleName": "app"}],
                "PolicyUsers": [{"UserName": "bot", "Path": "/ci/"}],
                "PolicyGroups": [{"GroupName": "devs"}],
            },
            "describe_instances": lambda: {
                "Reservations": [
                    {"Instances": [{"IamInstanceProfile": {"Arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/web"}}]}
                ]
            },
        }
        return [answers[operation]()]

    def _resources(self, p: dict[str, Any]) -> dict[str, Any]:
        """The other kinds of resources that act as a role: one of each, in every region."""
        region = self.region
        return {
            "describe_launch_templates": lambda: {"LaunchTemplates": [{"LaunchTemplateId": "lt-0abc"}]},
            "describe_launch_template_versions": lambda: {
                "LaunchTemplateVersions": [
                    {"LaunchTemplateData": {"IamInstanceProfile": {"Name": "web"}}},
                    {"LaunchTemplateData": {}},
                ]
            },
            "list_projects": lambda: {"projects": ["build", "deploy"]},
            "batch_get_projects": lambda: {
                "projects": [{"name": n, "serviceRole": f"arn:aws:iam::{ACCOUNT}:role/cb-{n}"} for n in p["names"]]
            },
            "get_dev_endpoints": lambda: {
                "DevEndpoints": [{"EndpointName": "dev", "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/glue-dev"}]
            },
            "list_notebook_instances": lambda: {
                "NotebookInstances": [
                    {
                        "NotebookInstanceName": "lab",
                        "NotebookInstanceArn": f"arn:aws:sagemaker:{region}:{ACCOUNT}:notebook-instance/lab",
                    }
                ]
            },
            "describe_notebook_instance": lambda: {"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/sm-lab"},
            "list_clusters": lambda: {"clusterArns": [f"arn:aws:ecs:{region}:{ACCOUNT}:cluster/main"]},
            "list_tasks": lambda: {
                "taskArns": [
                    f"arn:aws:ecs:{region}:{ACCOUNT}:task/main/t1",
                    f"arn:aws:ecs:{region}:{ACCOUNT}:task/main/t2",
                ]
            },
            "describe_tasks": lambda: {
                "tasks": [
                    {"taskDefinitionArn": "td:1"},
                    {
                        "taskDefinitionArn": "td:1",
                        "overrides": {"taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/ecs-override"},
                    },
                ]
            },
            "describe_task_definition": lambda: {
                "taskDefinition": {"taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/ecs-task"}
            },
            "list_services": lambda: {
                "ServiceSummaryList": [{"ServiceArn": f"arn:aws:apprunner:{region}:{ACCOUNT}:service/api/1"}]
            },
            "describe_service": lambda: {
                "Service": {"InstanceConfiguration": {"InstanceRoleArn": f"arn:aws:iam::{ACCOUNT}:role/apprunner-api"}}
            },
        }

    def _detail(self, arn: str) -> dict[str, Any]:
        """A role as GetAccountAuthorizationDetails gives it: the same answers as the per-role reads."""
        name = arn.rsplit("/", 1)[-1]
        return {
            "Arn": arn,
            "RoleName": name,
            "RolePolicyList": [{"PolicyName": n, "PolicyDocument": d} for n, d in self.inline.get(name, {}).items()],
            "AttachedManagedPolicies": [{"PolicyArn": a} for a in self.attached.get(name, [])],
            **self._limit(name),
        }

    def _limit(self, name: str) -> dict[str, Any]:
        arn = self.boundary.get(name)
        return {"PermissionsBoundary": {"PermissionsBoundaryArn": arn}} if arn else {}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake() -> FakeAccount:
    return FakeAccount()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def directory(fake: FakeAccount, clock: Clock) -> LiveRoleDirectory:
    return LiveRoleDirectory(fake, max_age=300, clock=clock)


def _event(name: str, **request: str) -> dict[str, Any]:
    return {
        "account": ACCOUNT,
        "detail": {"eventSource": "iam.amazonaws.com", "eventName": name, "requestParameters": request},
    }


def test_a_role_holds_its_inline_and_attached_policies_and_its_boundary(
    fake: FakeAccount, directory: LiveRoleDirectory
) -> None:
    fake.boundary["app"] = POLICY

    role = directory.principal(ROLE)

    assert role is not None
    assert [named.source for named in role.policies] == ["inline app/own", POLICY]
    assert role.policies[1].policy.raw == _doc("logs:PutLogEvents")
    assert role.boundary is not None
    assert role.boundary.raw == _doc("logs:PutLogEvents")


def test_a_user_holds_its_groups_policies(directory: LiveRoleDirectory) -> None:
    alice = directory.principal(USER)

    assert alice is not None
    assert [named.source for named in alice.policies] == ["group devs: inline devs/dev"]
    assert alice.policies[0].policy.raw == _doc("iam:PassRole")  # a URL-encoded/JSON string document is decoded


def test_a_user_carries_its_groups_also_those_without_policies(fake: FakeAccount, directory: LiveRoleDirectory) -> None:
    """Who a role's group write reaches: every group ListGroupsForUser gives, read with the user (no extra call)."""
    fake.groups["alice"] = ["devs", "empty"]
    fake.inline["empty"] = {}
    fake.attached["empty"] = []

    alice = directory.principal(USER)

    assert alice is not None
    assert alice.groups == (f"arn:aws:iam::{ACCOUNT}:group/devs", f"arn:aws:iam::{ACCOUNT}:group/empty")
    role = directory.principal(ROLE)
    assert role is not None
    assert role.groups is None  # not a user


def test_the_users_of_an_account_are_listed_once_until_a_user_is_created(
    fake: FakeAccount, directory: LiveRoleDirectory
) -> None:
    assert directory.users_of(ACCOUNT) == (USER,)
    assert directory.users_of(ACCOUNT) == (USER,)
    assert fake.calls["get_account_authorization_details"] == 1

    directory.observe(_event("CreateUser", userName="bob"))

    assert directory.users_of(ACCOUNT) == (USER,)
    assert fake.calls["get_account_authorization_details"] == 2


def test_users_that_cannot_be_listed_are_unknown(fake: FakeAccount, directory: LiveRoleDirectory) -> None:
    fake.fail["get_account_authorization_details"] = "AccessDenied"

    assert directory.users_of(ACCOUNT) is None


def test_a_second_read_is_answered_from_the_cache(fake: FakeAccount, directory: LiveRoleDirectory) -> None:
    first = directory.principal(ROLE)
    calls = sum(fake.calls.values())

    assert directory.principal(ROLE) == first
    assert sum(fake.calls.values()) == calls


def test_a_change_to_the_principal_drops_it_and_only_it(fake: FakeAccount, directory: LiveRoleDirectory) -> None:
    directory.principal(ROLE)
    directory.principal(USER)
    fake.inline["app"]["new"] = _doc("iam:PassRole")

    directory.observe(_event("PutRolePolicy", roleName="app", policyName="new"))
    calls = fake.calls["get_user"]
    role = directory.principal(ROLE)
    directory.principal(USER)

    assert role is not None
    assert [named.source for named in role.policies] == ["inline app/own", "inline app/new", POLICY]
    assert fake.calls["get_user"] == calls  # alice was not dropped


def test_a_change_to_a_group_drops_the_users_that_hold_it(fake: FakeAccount, directory: LiveRoleDirectory) -> None:
    directory.principal(USER)
    fake.inline["devs"]["more"] = _doc("iam:CreateAccessKey")

    directory.observe(_event("PutGroupPolicy", groupName="devs", policyName="more"))
    alice = directory.principal(USER)

    assert alice is not None
    assert len(alice.policies) == 2


def test_a_new_default_version_drops_the_pointer_but_versions_are_read_once(
    fake: FakeAccount, directory: LiveRoleDirectory
) -> None:
    directory.principal(ROLE)
    fake.default[POLICY] = "v2"
    directory.observe(_event("SetDefaultPolicyVersion", policyArn=POLICY, versionId="v2"))
    directory.observe(_event("PutRolePolicy", roleName="app", policyName="own"))

    role = directory.principal(ROLE)
    directory.observe(_event("PutRolePolicy", roleName="app", policyName="own"))
    directory.principal(ROLE)

    assert role is not None
    assert role.policies[1].policy.raw == _doc("iam:CreateAccessKey")
    assert fake.calls["get_policy_version"] == 2  # v1 once, v2 once


def test_role_listing_is_cached_until_a_role_is_created_or_deleted(
    fake: FakeAccount, directory: LiveRoleDirectory
) -> None:
    assert directory.roles_matching(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/deploy-*") == (
        f"arn:aws:iam::{ACCOUNT}:role/deploy-app",
    )
    assert len(directory.roles_matching(ACCOUNT, "*") or ()) == 3
    assert fake.calls["get_account_authorization_details"] == 1
    fake.roles.append(f"arn:aws:iam::{ACCOUNT}:role/deploy-new")

    directory.observe(_event("CreateRole", roleName="deploy-new"))

    assert len(directory.roles_matching(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/deploy-*") or ()) == 2
    assert fake.calls["get_account_authorization_details"] == 2
    assert fake.calls["list_roles"] == 0


def test_a_listed_role_is_answered_from_the_listing_as_its_own_reads_would(
    fake: FakeAccount, clock: Clock, directory: LiveRoleDirectory
) -> None:
    fake.boundary["app"] = POLICY
    read_alone = LiveRoleDirectory(fake, max_age=300, clock=clock).principal(ROLE)
    fake.calls.clear()

    directory.roles_matching(ACCOUNT, "*")
    listed = directory.principal(ROLE)

    assert listed == read_alone
    assert fake.calls["get_role"] == fake.calls["list_role_policies"] == fake.calls["get_role_policy"] == 0
    assert fake.calls["get_account_authorization_details"] == 1


def test_a_change_to_a_listed_role_is_read_again_alone(fake: FakeAccount, directory: LiveRoleDirectory) -> None:
    directory.roles_matching(ACCOUNT, "*")
    fake.inline["app"]["new"] = _doc("iam:PassRole")

    directory.observe(_event("PutRolePolicy", roleName="app", policyName="new"))
    role = directory.principal(ROLE)

    assert role is not None
    assert [named.source for named in role.policies] == ["inline app/own", "inline app/new", POLICY]
    assert fake.calls["get_role"] == 1


def test_a_role_the_enforcer_changed_is_read_again_alone(fake: FakeAccount, directory: LiveRoleDirectory) -> None:
    directory.roles_matching(ACCOUNT, "*")
    directory.forget(ROLE)
    directory.principal(ROLE)

    assert fake.calls["get_role"] == 1


def test_a_listing_past_its_age_answers_no_role(fake: FakeAccount, clock: Clock, directory: LiveRoleDirectory) -> None:
    directory.roles_matching(ACCOUNT, "*")
    clock.now = 301
    directory.principal(ROLE)

    assert fake.calls["get_role"] == 1


@pytest.mark.parametrize("code", ["AccessDenied", "NoSuchEntity"])
def test_without_the_details_the_roles_are_listed_and_read_one_by_one(
    fake: FakeAccount, directory: LiveRoleDirectory, code: str
) -> None:
    """A member stack deployed before iam:GetAccountAuthorizationDetails was granted still answers."""
    fake.fail["get_account_authorization_details"] = code

    assert len(directory.roles_matching(ACCOUNT, "*") or ()) == 3
    directory.principal(ROLE)

    assert fake.calls["list_roles"] == 1
    assert fake.calls["get_role"] == 1


def test_entries_age_out_for_changes_the_enforcer_never_sees(
    fake: FakeAccount, directory: LiveRoleDirectory, clock: Clock
) -> None:
    directory.principal(ROLE)
    clock.now = 299
    directory.principal(ROLE)
    assert fake.calls["get_role"] == 1

    clock.now = 301
    directory.principal(ROLE)

    assert fake.calls["get_role"] == 2


def test_forget_drops_a_principal_the_enforcer_changed(fake: FakeAccount, directory: LiveRoleDirectory) -> None:
    directory.principal(ROLE)
    directory.forget(ROLE)
    directory.principal(ROLE)

    assert fake.calls["get_role"] == 2


def test_events_from_other_sources_or_unknown_accounts_drop_nothing(
    fake: FakeAccount, directory: LiveRoleDirectory
) -> None:
    directory.principal(ROLE)
    directory.observe({**_event("PutRolePolicy", roleName="app"), "account": "444455556666"})
    directory.observe(
        {"account": ACCOUNT, "detail": {"eventSource": "s3.amazonaws.com", "eventName": "PutBucketPolicy"}}
    )
    directory.observe({"account": ACCOUNT})
    directory.principal(ROLE)

    assert fake.calls["get_role"] == 1


@pytest.mark.parametrize("code", ["AccessDenied", "NoSuchEntity", "InvalidInput"])
def test_a_permanent_error_or_a_missing_principal_is_unknown(
    fake: FakeAccount, directory: LiveRoleDirectory, code: str
) -> None:
    fake.fail["list_role_policies"] = code
    fake.fail["list_roles"] = code
    fake.fail["get_account_authorization_details"] = code
    fake.fail["get_function_configuration"] = code

    assert directory.principal(ROLE) is None
    assert directory.roles_matching(ACCOUNT, "*") is None
    assert directory.roles_behind(f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:app") is None


@pytest.mark.parametrize("code", ["Throttling", "ServiceUnavailable"])
def test_a_transient_error_is_raised_for_a_retry_and_not_cached(
    fake: FakeAccount, directory: LiveRoleDirectory, code: str
) -> None:
    fake.fail["get_policy"] = code

    with pytest.raises(TransientAwsError):
        directory.principal(ROLE)
    del fake.fail["get_policy"]

    assert directory.principal(ROLE) is not None


def test_the_roles_behind_functions_instances_and_instance_profiles(
    fake: FakeAccount, directory: LiveRoleDirectory
) -> None:
    function = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:billing"
    assert directory.roles_behind(function) == (f"arn:aws:iam::{ACCOUNT}:role/fn-billing",)
    assert directory.roles_behind(f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:app-*") == (ROLE,)
    assert directory.roles_behind(f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0abc") == (ROLE,)
    assert directory.roles_behind(f"arn:aws:iam::{ACCOUNT}:instance-profile/web") == (ROLE,)
    assert directory.roles_behind(f"arn:aws:lambda:*:{ACCOUNT}:function:billing") is None  # every region
    assert directory.roles_behind(f"arn:aws:s3:::{ACCOUNT}-bucket") is None
    calls = fake.calls["get_function_configuration"]
    directory.roles_behind(function)
    assert fake.calls["get_function_configuration"] == calls  # cached


def test_who_holds_a_policy_is_listed_once_and_dropped_by_an_attachment(
    fake: FakeAccount, directory: LiveRoleDirectory
) -> None:
    assert directory.attached_to(POLICY) == (
        f"arn:aws:iam::{ACCOUNT}:role/app",
        f"arn:aws:iam::{ACCOUNT}:user/ci/bot",
        f"arn:aws:iam::{ACCOUNT}:group/devs",
    )
    directory.attached_to(POLICY)
    assert fake.calls["list_entities_for_policy"] == 1

    directory.observe(_event("AttachRolePolicy", roleName="other", policyArn=POLICY))
    directory.attached_to(POLICY)

    assert fake.calls["list_entities_for_policy"] == 2
    assert directory.attached_to("arn:aws:iam::aws:policy/ReadOnlyAccess") is None  # in which account: unknown
    fake.fail["list_entities_for_policy"] = "AccessDenied"
    directory.forget(ROLE)
    assert directory.attached_to(f"arn:aws:iam::{ACCOUNT}:policy/other") is None


def _every(service: str, resource: str) -> str:
    return f"arn:aws:{service}:*:{ACCOUNT}:{resource}"


@pytest.mark.parametrize(
    ("pattern", "roles"),
    [
        (_every("lambda", "function:*"), (ROLE, f"arn:aws:iam::{ACCOUNT}:role/other")),
        (_every("lambda", "function:app-*"), (ROLE,)),
        (_every("ec2", "instance/*"), (ROLE,)),
        (_every("ec2", "launch-template/*"), (ROLE,)),  # its default version's instance profile "web"
        (_every("ec2", "launch-template/lt-other"), ()),
        (_every("codebuild", "project/*"), tuple(f"arn:aws:iam::{ACCOUNT}:role/cb-{n}" for n in ("build", "deploy"))),
        (_every("codebuild", "project/dep*"), (f"arn:aws:iam::{ACCOUNT}:role/cb-deploy",)),
        (_every("glue", "devEndpoint/*"), (f"arn:aws:iam::{ACCOUNT}:role/glue-dev",)),
        (_every("sagemaker", "notebook-instance/*"), (f"arn:aws:iam::{ACCOUNT}:role/sm-lab",)),
        (_every("ecs", "task/*"), tuple(f"arn:aws:iam::{ACCOUNT}:role/ecs-{n}" for n in ("override", "task"))),
        (_every("apprunner", "service/*"), (f"arn:aws:iam::{ACCOUNT}:role/apprunner-api",)),
        (_every("apprunner", "service/web/*"), ()),
    ],
)
def test_every_region_is_read_for_each_kind_of_resource_that_acts_as_a_role(
    fake: FakeAccount, clock: Clock, pattern: str, roles: tuple[str, ...]
) -> None:
    directory = LiveRoleDirectory(fake, regions=("us-east-1", "eu-west-1"), max_age=300, clock=clock)

    read = directory.roles_behind_read(pattern)

    assert read is not None
    assert (read.roles, read.unread) == (tuple(sorted(roles)), ())
    assert directory.roles_behind(pattern) == read.roles


def test_without_the_accounts_regions_the_others_are_named_as_unread(directory: LiveRoleDirectory) -> None:
    read = directory.roles_behind_read(_every("lambda", "function:*"))

    assert read is not None
    assert read.roles == (ROLE, f"arn:aws:iam::{ACCOUNT}:role/other")  # us-east-1, the enforcer's own
    assert read.unread == ("functions in regions other than us-east-1 (not read: regions not configured)",)
    assert directory.roles_behind(_every("lambda", "function:*")) is None


def test_a_region_pattern_reads_only_the_regions_it_names(fake: FakeAccount, clock: Clock) -> None:
    directory = LiveRoleDirectory(fake, regions=("eu-west-1",), max_age=300, clock=clock)
    fake.fail_in["us-east-1"] = "AccessDenied"

    read = directory.roles_behind_read(f"arn:aws:lambda:eu-*:{ACCOUNT}:function:*")

    assert read is not None
    assert read.unread == ()
    assert fake.calls["list_functions"] == 1


def test_a_region_that_cannot_be_read_is_unread_and_the_others_still_count(fake: FakeAccount, clock: Clock) -> None:
    directory = LiveRoleDirectory(fake, regions=("eu-west-1",), max_age=300, clock=clock)
    fake.fail_in["eu-west-1"] = "UnrecognizedClientException"

    read = directory.roles_behind_read(_every("codebuild", "project/*"))

    assert read is not None
    assert read.roles == tuple(f"arn:aws:iam::{ACCOUNT}:role/cb-{n}" for n in ("build", "deploy"))
    [fact] = read.unread
    assert fact.startswith("projects in eu-west-1 (")


def test_a_named_function_missing_from_a_region_is_nothing_there(fake: FakeAccount, clock: Clock) -> None:
    directory = LiveRoleDirectory(fake, regions=("eu-west-1",), max_age=300, clock=clock)
    fake.fail_in["eu-west-1"] = "ResourceNotFoundException"

    read = directory.roles_behind_read(_every("lambda", "function:billing"))

    assert read is not None
    assert (read.roles, read.unread) == ((f"arn:aws:iam::{ACCOUNT}:role/fn-billing",), ())


def test_more_resources_than_the_cap_are_not_all_read(fake: FakeAccount, directory: LiveRoleDirectory) -> None:
    from iamwarden.adapters.principals import MAX_RESOURCES

    fake.functions = [(f"f{n}", ROLE) for n in range(MAX_RESOURCES + 1)]

    assert directory.roles_behind(f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:*") is None
    read = directory.roles_behind_read(_every("lambda", "function:*"))
    assert read is not None
    assert read.roles == ()
    assert read.unread[0] == f"functions in us-east-1 (more than {MAX_RESOURCES} functions (not all read))"


def test_a_transient_error_in_one_region_is_raised_for_a_retry(fake: FakeAccount, clock: Clock) -> None:
    directory = LiveRoleDirectory(fake, regions=("eu-west-1",), max_age=300, clock=clock)
    fake.fail_in["eu-west-1"] = "Throttling"

    with pytest.raises(TransientAwsError):
        directory.roles_behind_read(_every("ecs", "task/*"))


def test_a_kind_with_no_reader_is_unknown(directory: LiveRoleDirectory) -> None:
    assert directory.roles_behind_read(_every("bedrock-agentcore", "code-interpreter/*")) is None


def test_star_for_an_existing_instance_is_resolved_live_to_the_stronger_role_behind_it(fake: FakeAccount) -> None:
    """The live reader answers the typed ``arn:aws:ec2:*:…:instance/*`` the judgement asks for ``*``."""
    from iamwarden.domain.escalation import assess_principal
    from iamwarden.domain.policy import parse_policy
    from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies

    fake.inline["app"] = {"admin": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}
    directory = LiveRoleDirectory(fake, max_age=300, clock=Clock())
    grant = parse_policy({"Statement": [{"Effect": "Allow", "Action": "ssm:SendCommand", "Resource": "*"}]})
    holder = PrincipalPolicies(f"arn:aws:iam::{ACCOUNT}:role/ops", (NamedPolicy("inline ops/ssm", grant),))

    [path] = assess_principal(holder, directory).escalations

    assert path.method.name == "SendCommandToExistingEC2Instance"
    assert path.certain  # the role behind us-east-1's instance is an administrator: other regions cannot change it
    assert [lead.arn for lead in path.leads_to] == [ROLE]


@pytest.mark.parametrize(
    "change", ["SetDefaultPolicyVersion", "CreatePolicyVersion", "DeletePolicyVersion", "DeletePolicy"]
)
def test_a_policy_version_change_drops_the_principals_embedding_that_policy(
    fake: FakeAccount, directory: LiveRoleDirectory, change: str
) -> None:
    """A cached principal embeds its managed policies' parsed documents: a new default must drop it."""
    fake.attached["alice"] = [POLICY]
    fake.attached["devs"] = []
    directory.principal(ROLE)
    directory.principal(USER)
    fake.default[POLICY] = "v2"

    directory.observe(_event(change, policyArn=POLICY, versionId="v2"))
    role = directory.principal(ROLE)
    directory.principal(USER)

    assert role is not None
    assert role.policies[1].policy.raw == _doc("iam:CreateAccessKey")
    assert fake.calls["get_role"] == 2
    assert fake.calls["get_user"] == 2


def test_a_policy_change_keeps_principals_that_do_not_hold_it(fake: FakeAccount, directory: LiveRoleDirectory) -> None:
    directory.principal(USER)  # holds only its group's inline policy

    directory.observe(_event("SetDefaultPolicyVersion", policyArn=POLICY, versionId="v2"))
    directory.principal(USER)

    assert fake.calls["get_user"] == 1


def test_a_boundary_policy_change_drops_the_principal_it_bounds(
    fake: FakeAccount, directory: LiveRoleDirectory
) -> None:
    other = f"arn:aws:iam::{ACCOUNT}:policy/limit"
    fake.default[other] = "v1"
    fake.versions[(other, "v1")] = _doc("s3:*")
    fake.boundary["alice"] = other
    directory.principal(USER)

    directory.observe(_event("SetDefaultPolicyVersion", policyArn=other, versionId="v1"))
    directory.principal(USER)

    assert fake.calls["get_user"] == 2


def test_forgetting_a_policy_drops_its_pointer_holders_and_holding_principals(
    fake: FakeAccount, directory: LiveRoleDirectory
) -> None:
    """After the enforcer restores a default version (its own call never comes back as an event)."""
    directory.principal(ROLE)
    directory.attached_to(POLICY)
    fake.default[POLICY] = "v2"

    directory.forget(POLICY)
    role = directory.principal(ROLE)
    directory.attached_to(POLICY)

    assert role is not None
    assert role.policies[1].policy.raw == _doc("iam:CreateAccessKey")
    assert fake.calls["get_policy"] == 2
    assert fake.calls["list_entities_for_policy"] == 2
    directory.forget(f"arn:aws:iam::{ACCOUNT}:policy/never-read")  # nothing cached: nothing to drop
    directory.forget("arn:aws:iam::444455556666:policy/other-account")


# --- the texts of policy documents kept before botocore decodes them ------------------------------------------


def test_a_clients_text_keeping_is_registered_once_and_each_new_client_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """botocore's ``register`` checks the handler's signature on every call (~50 µs): asked three times an event
    (every read asks for its client), the directory registers with each client's emitter once."""
    import boto3

    from iamwarden.adapters import principals

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    first, second = (boto3.client("iam", region_name="us-east-1") for _ in range(2))
    registered: list[str] = []
    for client in (first, second):
        real = client.meta.events.register

        def counted(name: str, *args: Any, real: Any = real, **kwargs: Any) -> Any:
            registered.append(name)
            return real(name, *args, **kwargs)

        monkeypatch.setattr(client.meta.events, "register", counted)
    for _ in range(3):
        principals._keep_texts(first)
    assert sorted(registered) == sorted(f"after-call.iam.{name}" for name in principals._READ_TEXTS)
    principals._keep_texts(second)
    assert len(registered) == 2 * len(principals._READ_TEXTS)
    # What it registered still runs: tests/functional/test_held_readings_live.py reads ambiguous texts through it.


def test_a_stand_in_emitter_that_cannot_be_weakly_referred_to_is_registered_every_time() -> None:
    from iamwarden.adapters import principals

    class Events:
        __slots__ = ("names",)

        def __init__(self) -> None:
            self.names: list[str] = []

        def register(self, name: str, handler: Any, unique_id: str) -> None:
            self.names.append(unique_id)

    class Meta:
        events = Events()

    class Client:
        meta = Meta()

    principals._keep_texts(Client())
    principals._keep_texts(Client())
    assert len(Meta.events.names) == 2 * len(principals._READ_TEXTS)
