"""A user's ``iam:AddUserToGroup`` on named groups leads where those groups do (s8 review 13 finding 5): with the
account's principals known, joining only weak groups is no method; without them, or on a wildcard, any group
may be an administrators group (as before). The sentence names the groups it may join."""

from __future__ import annotations

from typing import Any

from iamwarden.domain.authorization_details import authorization_details_directory
from iamwarden.domain.directory import StaticDirectory
from iamwarden.domain.escalation import EscalationPath, assess_principal
from iamwarden.domain.policy import parse_policy
from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies

ACCOUNT = "111122223333"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"


def _arn(kind: str, name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:{kind}/{name}"


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action: str | list[str], resource: str | list[str] = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def _group(name: str, document: dict[str, Any]) -> dict[str, Any]:
    return {
        "Path": "/",
        "GroupName": name,
        "GroupId": f"AGPA{name.upper()}",
        "Arn": _arn("group", name),
        "GroupPolicyList": [{"PolicyName": "p", "PolicyDocument": document}],
        "AttachedManagedPolicies": [],
    }


def _directory() -> StaticDirectory:
    groups = [
        _group("readers", _doc(_allow("s3:GetObject", "arn:aws:s3:::b/*"))),
        _group("admins", _doc(_allow("*"))),
        _group("self-writers", _doc(_allow("iam:PutUserPolicy", _arn("user", "${aws:username}")))),
    ]
    return authorization_details_directory(
        {"UserDetailList": [], "GroupDetailList": groups, "RoleDetailList": [], "Policies": []}
    )


def _path(resource: str | list[str], directory: StaticDirectory | None) -> EscalationPath | None:
    policy = parse_policy(_doc(_allow("iam:AddUserToGroup", resource)))
    user = PrincipalPolicies(USER, (NamedPolicy("inline alice/p", policy),), groups=())
    paths = assess_principal(user, directory).escalations
    return next((path for path in paths if path.method.name == "AddUserToGroup"), None)


def test_joining_only_a_weak_group_is_no_method_with_a_directory() -> None:
    assert _path(_arn("group", "readers"), _directory()) is None


def test_joining_an_admin_group_leads_to_it_and_names_it() -> None:
    path = _path([_arn("group", "readers"), _arn("group", "admins")], _directory())
    assert path is not None
    assert path.certain
    assert [lead.arn for lead in path.leads_to] == [_arn("group", "admins")]
    assert "is admin-equivalent" in path.leads_to[0].why
    assert path.explain().startswith("It can add itself to group readers and group admins (AddUserToGroup)")


def test_joining_a_group_that_gives_a_further_method_is_one() -> None:
    path = _path(_arn("group", "self-writers"), _directory())
    assert path is not None
    assert path.certain
    assert "further method (PutUserPolicy" in path.leads_to[0].why


def test_a_group_the_directory_does_not_know_is_unknown_never_certain() -> None:
    path = _path(_arn("group", "elsewhere"), _directory())
    assert path is not None
    assert not path.certain
    assert "what group elsewhere holds (its policies could not be read)" in path.unknown


def test_without_a_directory_a_named_group_stays_certain_and_is_named() -> None:
    path = _path(_arn("group", "readers"), None)
    assert path is not None
    assert path.certain
    assert "It can add itself to group readers (AddUserToGroup)" in path.explain()


def test_a_wildcard_is_still_any_group() -> None:
    path = _path(_arn("group", "*"), _directory())
    assert path is not None
    assert path.certain
    assert "add itself to any group, an administrators group too" in path.explain()
