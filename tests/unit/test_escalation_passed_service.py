"""Where a passed role can go: the method's service must be able to use it (PMapper's ec2_edges.py and
lambda_edges.py, nccgroup/PMapper at 91d2e60: the role's trust policy admits the service, ``iam:PassRole`` is
allowed with ``iam:PassedToService`` = that service, and for EC2 the role has an instance profile or the holder
may create one and add the role)."""

from __future__ import annotations

from typing import Any

from iamwarden.domain.directory import PrincipalKey, StaticDirectory
from iamwarden.domain.escalation import assess_principal
from iamwarden.domain.policy import Policy, parse_policy
from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies

ACCOUNT = "111122223333"
HOLDER = f"arn:aws:iam::{ACCOUNT}:role/app"
ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/admin"
PROFILE = f"arn:aws:iam::{ACCOUNT}:instance-profile/admin"
LAMBDA_METHODS = {"PassRoleToNewLambdaFunction", "PassExistingRoleToNewLambdaThenInvoke"}
EC2 = "CreateEC2WithExistingIP"


def _policy(*statements: dict[str, Any]) -> Policy:
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def _trust(*services: str) -> Policy:
    return _policy({"Effect": "Allow", "Principal": {"Service": list(services)}, "Action": "sts:AssumeRole"})


def _admin(trust: Policy | None, profiles: tuple[str, ...] | None = (PROFILE,)) -> PrincipalPolicies:
    return PrincipalPolicies(
        ADMIN_ROLE,
        (NamedPolicy("arn:aws:iam::aws:policy/AdministratorAccess", _policy(_allow("*"))),),
        trust=trust,
        instance_profiles=profiles,
    )


def _holder(*statements: dict[str, Any]) -> PrincipalPolicies:
    return PrincipalPolicies(HOLDER, (NamedPolicy("inline app/p", _policy(*statements)),))


def _directory(*roles: PrincipalPolicies) -> StaticDirectory:
    keyed = {PrincipalKey.of(role.principal_arn): role for role in roles}
    return StaticDirectory(
        {key: role for key, role in keyed.items() if key is not None},
        roles={ACCOUNT: [role.principal_arn for role in roles]},
    )


def _found(holder: PrincipalPolicies, directory: StaticDirectory | None) -> dict[str, bool]:
    return {path.method.name: path.certain for path in assess_principal(holder, directory).escalations}


LAMBDA_AND_EC2 = _allow(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction", "ec2:RunInstances"])


def test_a_role_trusting_only_ec2_is_no_lead_for_the_lambda_methods() -> None:
    found = _found(_holder(LAMBDA_AND_EC2), _directory(_admin(_trust("ec2.amazonaws.com"))))
    assert not LAMBDA_METHODS & found.keys()
    assert found[EC2] is True


def test_a_role_trusting_lambda_is_a_lead_for_the_lambda_methods_only() -> None:
    found = _found(_holder(LAMBDA_AND_EC2), _directory(_admin(_trust("lambda.amazonaws.com"))))
    assert all(found[name] for name in LAMBDA_METHODS)
    assert EC2 not in found


def test_a_role_trusting_the_account_is_no_lead_for_a_service_method() -> None:
    trust = _policy(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
    )
    found = _found(_holder(LAMBDA_AND_EC2), _directory(_admin(trust)))
    assert not (LAMBDA_METHODS | {EC2}) & found.keys()


def test_a_role_whose_trust_was_not_read_is_still_a_lead() -> None:
    found = _found(_holder(LAMBDA_AND_EC2), _directory(_admin(None, None)))
    assert found[EC2] is True
    assert all(found[name] for name in LAMBDA_METHODS)


def test_passed_to_service_lambda_does_not_serve_an_ec2_method() -> None:
    holder = _holder(
        _allow("iam:PassRole", Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}),
        _allow(["lambda:CreateFunction", "lambda:InvokeFunction", "ec2:RunInstances"]),
    )
    directory = _directory(_admin(_trust("ec2.amazonaws.com", "lambda.amazonaws.com")))
    found = _found(holder, directory)
    assert EC2 not in found
    assert all(found[name] for name in LAMBDA_METHODS)


def test_passed_to_service_is_decided_without_a_directory_too() -> None:
    holder = _holder(
        _allow("iam:PassRole", Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}),
        _allow("ec2:RunInstances"),
    )
    assert EC2 not in _found(holder, None)


def test_passed_to_service_like_and_not_equals() -> None:
    like = _holder(
        _allow("iam:PassRole", Condition={"StringLike": {"iam:PassedToService": "ec2.*"}}),
        _allow("ec2:RunInstances"),
    )
    not_ec2 = _holder(
        _allow("iam:PassRole", Condition={"StringNotEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}),
        _allow("ec2:RunInstances"),
    )
    directory = _directory(_admin(_trust("ec2.amazonaws.com")))
    assert _found(like, directory)[EC2] is True
    assert EC2 not in _found(not_ec2, directory)


def test_a_role_without_an_instance_profile_is_no_lead_for_ec2() -> None:
    directory = _directory(_admin(_trust("ec2.amazonaws.com"), profiles=()))
    assert EC2 not in _found(_holder(LAMBDA_AND_EC2), directory)


def test_a_holder_that_can_create_an_instance_profile_and_add_the_role_reaches_it() -> None:
    directory = _directory(_admin(_trust("ec2.amazonaws.com"), profiles=()))
    holder = _holder(LAMBDA_AND_EC2, _allow(["iam:CreateInstanceProfile", "iam:AddRoleToInstanceProfile"]))
    only_create = _holder(LAMBDA_AND_EC2, _allow("iam:CreateInstanceProfile"))
    assert _found(holder, directory)[EC2] is True
    assert EC2 not in _found(only_create, directory)


def test_adding_the_role_to_a_profile_is_enough_an_empty_one_may_exist_already() -> None:
    """Review s9 finding 8: leftover empty profiles are common, and no rule re-judges the grant when the role enters
    one later; ``iam:AddRoleToInstanceProfile`` alone reaches the role."""
    directory = _directory(_admin(_trust("ec2.amazonaws.com"), profiles=()))
    only_add = _holder(LAMBDA_AND_EC2, _allow("iam:AddRoleToInstanceProfile"))
    assert _found(only_add, directory)[EC2] is True


def test_instance_profiles_of_roles_come_from_the_authorization_details() -> None:
    from iamwarden.domain.authorization_details import authorization_details_directory

    role: dict[str, Any] = {
        "RoleName": "admin",
        "Arn": ADMIN_ROLE,
        "Path": "/",
        "AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        },
        "RolePolicyList": [],
        "AttachedManagedPolicies": [],
        "InstanceProfileList": [{"Arn": PROFILE, "InstanceProfileName": "admin"}],
    }
    bare = {**role, "RoleName": "bare", "Arn": f"arn:aws:iam::{ACCOUNT}:role/bare", "InstanceProfileList": []}
    details = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [role, bare], "Policies": []}
    directory = authorization_details_directory(details)
    with_profile = directory.principal(ADMIN_ROLE)
    without = directory.principal(f"arn:aws:iam::{ACCOUNT}:role/bare")
    assert with_profile is not None
    assert with_profile.instance_profiles == (PROFILE,)
    assert without is not None
    assert without.instance_profiles == ()


# --- enginefix2-s10 "Not fixed": adding the role to a profile, read through a variable, is a guess ---------------
# A boundary resource read with its variable as ``*`` (review engine s10, finding 3) or a Deny with an unresolved
# variable (finding 6) may well forbid ``iam:AddRoleToInstanceProfile``: the EC2 path through it is alert-only.

PROFILES = f"arn:aws:iam::{ACCOUNT}:instance-profile/"


def _bounded(add_to: str) -> PrincipalPolicies:
    boundary = _policy(
        _allow(["iam:PassRole", "ec2:RunInstances"]),
        _allow("iam:AddRoleToInstanceProfile", add_to),
    )
    holder = _holder(_allow(["iam:PassRole", "ec2:RunInstances", "iam:AddRoleToInstanceProfile"]))
    return holder._replace(boundary=boundary)


def test_a_profile_the_boundary_allows_only_through_a_variable_leaves_the_ec2_path_uncertain() -> None:
    directory = _directory(_admin(_trust("ec2.amazonaws.com"), profiles=()))
    [path] = [
        p
        for p in assess_principal(_bounded(PROFILES + "${aws:PrincipalTag/team}*"), directory).escalations
        if p.method.name == EC2
    ]
    assert not path.certain
    assert any("${aws:PrincipalTag/team}" in fact for fact in path.unknown)


def test_a_profile_the_boundary_allows_literally_keeps_the_ec2_path_certain() -> None:
    directory = _directory(_admin(_trust("ec2.amazonaws.com"), profiles=()))
    assert _found(_bounded(PROFILES + "*"), directory)[EC2] is True


def test_a_role_already_in_a_profile_needs_no_guess_about_adding_it() -> None:
    directory = _directory(_admin(_trust("ec2.amazonaws.com")))
    assert _found(_bounded(PROFILES + "${aws:PrincipalTag/team}*"), directory)[EC2] is True


def test_a_deny_on_an_unknown_account_may_forbid_adding_the_role_to_a_profile() -> None:
    directory = _directory(_admin(_trust("ec2.amazonaws.com"), profiles=()))
    guard = {
        "Effect": "Deny",
        "Action": "iam:AddRoleToInstanceProfile",
        "Resource": "arn:aws:iam::${aws:PrincipalTag/home-account}:instance-profile/*",
    }
    holder = _holder(LAMBDA_AND_EC2, _allow("iam:AddRoleToInstanceProfile"), guard)
    assert _found(holder, directory)[EC2] is False
