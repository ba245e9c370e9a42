"""A role's instance profiles, live: EC2 runs as a role only through one (issue 13 item 4, PMapper's ec2_edges.py).

The judgement asks a directory that gave a role without them (``GetRole`` does not list them) through
``ListsInstanceProfiles``; the live directory answers with ``iam:ListInstanceProfilesForRole``, paged and cached,
or from the authorization details' ``InstanceProfileList`` it already read. tests/functional/test_live_context.py
style: a fake account counts the calls; tests/functional/test_live_instance_profiles.py runs it against moto.
"""

from __future__ import annotations

from typing import Any

import pytest

from iamwarden.adapters.errors import TransientAwsError
from iamwarden.adapters.principals import READ_PERMISSIONS, LiveRoleDirectory
from iamwarden.domain.directory import PrincipalKey, StaticDirectory
from iamwarden.domain.escalation import assess_principal
from iamwarden.domain.principals import ListsInstanceProfiles, PrincipalPolicies
from tests.unit.test_escalation_passed_service import (
    ADMIN_ROLE,
    EC2,
    LAMBDA_AND_EC2,
    PROFILE,
    _admin,
    _holder,
    _trust,
)
from tests.unit.test_live_role_directory import ACCOUNT, ROLE, FakeAccount, _event

WEB = f"arn:aws:iam::{ACCOUNT}:instance-profile/web"
OTHER = f"arn:aws:iam::{ACCOUNT}:role/other"


class ProfiledAccount(FakeAccount):
    """The fake account with instance profiles: ``ListInstanceProfilesForRole`` in pages of one, and the details'
    ``InstanceProfileList``."""

    def __init__(self) -> None:
        super().__init__()
        self.profiles: dict[str, list[str]] = {"app": [WEB, f"arn:aws:iam::{ACCOUNT}:instance-profile/batch"]}
        self.inline["other"], self.attached["other"] = {}, []

    def call(self, operation: str, p: dict[str, Any]) -> list[dict[str, Any]]:
        if operation != "list_instance_profiles_for_role":
            return super().call(operation, p)
        self.calls[operation] += 1
        if operation in self.fail:
            super().call(operation, p)  # raises the configured error
        return [{"InstanceProfiles": [{"Arn": arn}]} for arn in self.profiles.get(p["RoleName"], [])] or [
            {"InstanceProfiles": []}
        ]

    def _detail(self, arn: str) -> dict[str, Any]:
        name = arn.rsplit("/", 1)[-1]
        listed = [
            {"Arn": profile, "InstanceProfileName": profile.rsplit("/", 1)[-1]}
            for profile in self.profiles.get(name, [])
        ]
        return {**super()._detail(arn), "InstanceProfileList": listed}


@pytest.fixture
def fake() -> ProfiledAccount:
    return ProfiledAccount()


@pytest.fixture
def directory(fake: ProfiledAccount) -> LiveRoleDirectory:
    return LiveRoleDirectory(fake, max_age=300, clock=lambda: 0.0)


def test_the_read_is_declared_with_the_directory_reads() -> None:
    assert "iam:ListInstanceProfilesForRole" in READ_PERMISSIONS


def test_a_role_read_alone_has_its_profiles_listed_when_asked_every_page_once(
    fake: ProfiledAccount, directory: LiveRoleDirectory
) -> None:
    role = directory.principal(ROLE)
    assert role is not None
    assert role.instance_profiles is None  # GetRole does not list them: not read until an EC2 method asks
    assert fake.calls["list_instance_profiles_for_role"] == 0

    assert directory.instance_profiles_of(ROLE) == (WEB, f"arn:aws:iam::{ACCOUNT}:instance-profile/batch")
    assert directory.instance_profiles_of(ROLE) is not None
    assert fake.calls["list_instance_profiles_for_role"] == 1
    assert directory.instance_profiles_of(OTHER) == ()


def test_a_listed_role_carries_the_profiles_the_details_list(
    fake: ProfiledAccount, directory: LiveRoleDirectory
) -> None:
    directory.roles_matching(ACCOUNT, "*")
    role = directory.principal(ROLE)
    other = directory.principal(OTHER)
    assert role is not None
    assert other is not None
    assert role.instance_profiles == (WEB, f"arn:aws:iam::{ACCOUNT}:instance-profile/batch")
    assert other.instance_profiles == ()
    assert fake.calls["list_instance_profiles_for_role"] == 0


@pytest.mark.parametrize("change", ["AddRoleToInstanceProfile", "RemoveRoleFromInstanceProfile"])
def test_adding_or_removing_the_role_drops_its_profiles(
    fake: ProfiledAccount, directory: LiveRoleDirectory, change: str
) -> None:
    directory.roles_matching(ACCOUNT, "*")
    directory.instance_profiles_of(OTHER)
    fake.profiles["other"] = [WEB]

    directory.observe(_event(change, roleName="other", instanceProfileName="web"))

    assert directory.instance_profiles_of(OTHER) == (WEB,)
    assert fake.calls["list_instance_profiles_for_role"] == 2
    role = directory.principal(OTHER)  # the listed entry is dropped too: read again alone, without profiles
    assert role is not None
    assert role.instance_profiles is None
    assert fake.calls["get_role"] == 1


def test_deleting_a_profile_drops_the_roles_cached_in_it_and_only_them(
    fake: ProfiledAccount, directory: LiveRoleDirectory
) -> None:
    directory.roles_matching(ACCOUNT, "*")
    directory.principal(ROLE)
    directory.principal(OTHER)
    directory.instance_profiles_of(ROLE)
    directory.instance_profiles_of(OTHER)

    directory.observe(_event("DeleteInstanceProfile", instanceProfileName="web"))

    directory.instance_profiles_of(ROLE)
    directory.instance_profiles_of(OTHER)
    assert fake.calls["list_instance_profiles_for_role"] == 3  # app's read again, other's kept
    directory.principal(OTHER)
    assert fake.calls["get_role"] == 0
    directory.principal(ROLE)
    assert fake.calls["get_role"] == 1


@pytest.mark.parametrize("code", ["AccessDenied", "NoSuchEntity"])
def test_profiles_that_cannot_be_read_are_unknown(
    fake: ProfiledAccount, directory: LiveRoleDirectory, code: str
) -> None:
    fake.fail["list_instance_profiles_for_role"] = code
    assert directory.instance_profiles_of(ROLE) is None


def test_a_transient_error_is_raised_for_a_retry(fake: ProfiledAccount, directory: LiveRoleDirectory) -> None:
    fake.fail["list_instance_profiles_for_role"] = "Throttling"
    with pytest.raises(TransientAwsError):
        directory.instance_profiles_of(ROLE)
    del fake.fail["list_instance_profiles_for_role"]
    assert directory.instance_profiles_of(ROLE) is not None


def test_only_a_role_has_instance_profiles(fake: ProfiledAccount, directory: LiveRoleDirectory) -> None:
    assert directory.instance_profiles_of(f"arn:aws:iam::{ACCOUNT}:user/alice") is None
    assert directory.instance_profiles_of("not-an-arn") is None
    assert fake.calls["list_instance_profiles_for_role"] == 0


# --- the judgement asks only when the role came without them ------------------------------------------------


class AskedDirectory(StaticDirectory):
    """A directory double whose roles come without their instance profiles, answered when asked (and counted)."""

    def __init__(self, role: PrincipalPolicies, profiles: tuple[str, ...] | None) -> None:
        key = PrincipalKey.of(role.principal_arn)
        assert key is not None
        super().__init__({key: role}, roles={ACCOUNT: [role.principal_arn]})
        self.profiles = profiles
        self.asked: list[str] = []

    def instance_profiles_of(self, role_arn: str) -> tuple[str, ...] | None:
        self.asked.append(role_arn)
        return self.profiles


def _ec2(directory: StaticDirectory) -> bool:
    return EC2 in {path.method.name for path in assess_principal(_holder(LAMBDA_AND_EC2), directory).escalations}


def test_a_role_in_an_instance_profile_read_live_is_a_lead_for_ec2() -> None:
    directory = AskedDirectory(_admin(_trust("ec2.amazonaws.com"), profiles=None), (PROFILE,))
    assert isinstance(directory, ListsInstanceProfiles)
    assert _ec2(directory)
    assert directory.asked == [ADMIN_ROLE]


def test_a_role_in_no_instance_profile_read_live_is_no_lead_for_ec2() -> None:
    assert not _ec2(AskedDirectory(_admin(_trust("ec2.amazonaws.com"), profiles=None), ()))


def test_profiles_that_could_not_be_read_keep_the_role_as_a_lead() -> None:
    assert _ec2(AskedDirectory(_admin(_trust("ec2.amazonaws.com"), profiles=None), None))


def test_a_role_that_came_with_its_profiles_or_that_ec2_may_not_assume_is_never_asked() -> None:
    listed = AskedDirectory(_admin(_trust("ec2.amazonaws.com"), profiles=()), (PROFILE,))
    assert not _ec2(listed)
    lambda_only = AskedDirectory(_admin(_trust("lambda.amazonaws.com"), profiles=None), (PROFILE,))
    assert not _ec2(lambda_only)
    assert listed.asked == lambda_only.asked == []


def test_a_deleted_policy_created_again_under_its_name_is_read_again(
    fake: ProfiledAccount, directory: LiveRoleDirectory
) -> None:
    """Its v1 is another document then: the version kept for the old policy must not answer for the new one."""
    policy = f"arn:aws:iam::{ACCOUNT}:policy/shared"
    directory.principal(ROLE)
    fake.versions[(policy, "v1")] = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}],
    }
    directory.observe(_event("DeletePolicy", policyArn=policy))
    directory.observe(_event("CreatePolicy", policyName="shared"))
    directory.observe(_event("AttachRolePolicy", roleName="app", policyArn=policy))

    role = directory.principal(ROLE)

    assert role is not None
    assert [named.policy.raw["Statement"][0]["Action"] for named in role.policies if named.source == policy] == [
        "iam:PassRole"
    ]
    assert fake.calls["get_policy_version"] == 2
