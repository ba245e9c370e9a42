"""Policy variables, pattern-in-pattern Deny coverage and ARN-form guards in the escalation engine (review s10,
findings 2, 3 and 5; the rows of the probes ``/tmp/rs10/p2.py``, ``p3.py``, ``p4.py``, ``p5.py``, ``p5b.py``,
``p15.py``, ``p18.py``, ``p18b.py``, ``p18c.py``, ``p21.py``).

* IAM substitutes ``${aws:PrincipalAccount}`` in a Resource with the caller's account ("IAM policy elements:
  Variables and tags", IAM User Guide): ``arn:aws:iam::${aws:PrincipalAccount}:role/*`` is the holder's own
  account's roles, never "another account". A variable the engine cannot resolve (a principal tag) is ``*`` in
  an Allow, and in a Deny covers nothing.
* A Deny cancels an Allow only when it covers the Allow's pattern as a pattern: ``role/?`` names one-letter
  roles and does not cover ``role/*``.
* An IAM action acts only in the caller's account, so ``Deny iam:* on arn:aws:iam::111122223333:*`` (or ``::*:*``)
  covers ``Allow iam:* on *`` exactly as ``Deny iam:* on *`` does.
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import pytest

from iamwarden.app.cli import DetailsDocuments
from iamwarden.domain.authorization_details import authorization_details_directory
from iamwarden.domain.catalog import Severity
from iamwarden.domain.directory import PrincipalKey, StaticDirectory
from iamwarden.domain.escalation import _covers, assess, assess_principal
from iamwarden.domain.findings import Verdict
from iamwarden.domain.policy import Policy, parse_policy
from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.identity_policy import _grants_part_of_a_method
from tests.conftest import load_event

ACCOUNT = "111122223333"
OTHER = "444455556666"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/victim"
USER = f"arn:aws:iam::{ACCOUNT}:user/bob"
ROLES = f"arn:aws:iam::{ACCOUNT}:role/"
ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ops-automation"
BREAK_GLASS = f"arn:aws:iam::{ACCOUNT}:role/break-glass"
VARIABLE_ACCOUNT = "arn:aws:iam::${aws:PrincipalAccount}"


def _policy(*statements: dict[str, Any]) -> Policy:
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action: str | list[str], resource: str | list[str] = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def _deny(action: str | list[str], resource: str | list[str]) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource}


def _holder(*statements: dict[str, Any], arn: str = ROLE) -> PrincipalPolicies:
    return PrincipalPolicies(arn, (NamedPolicy(f"inline {arn.rsplit('/', 1)[-1]}/p", _policy(*statements)),))


def _methods(holder: PrincipalPolicies, directory: StaticDirectory | None = None) -> set[str]:
    return {path.method.name for path in assess_principal(holder, directory).escalations}


# --- finding 2: ${aws:PrincipalAccount} is the holder's own account ---------------------------------------------

OWN_ACCOUNT_GRANTS = {
    "iam:* on the account's IAM": _allow("iam:*", f"{VARIABLE_ACCOUNT}:*"),
    "every action on every ARN of the account": _allow("*", "arn:aws:*:*:${aws:PrincipalAccount}:*"),
    "AttachRolePolicy on the account's roles": _allow("iam:AttachRolePolicy", f"{VARIABLE_ACCOUNT}:role/*"),
    "PutRolePolicy on itself": _allow("iam:PutRolePolicy", f"{VARIABLE_ACCOUNT}:role/victim"),
    "aws:username's default, for a role": _allow("iam:PutRolePolicy", f"{ROLES}${{aws:username, 'victim'}}"),
}


@pytest.mark.parametrize("grant", OWN_ACCOUNT_GRANTS.values(), ids=OWN_ACCOUNT_GRANTS.keys())
def test_a_variable_account_field_is_the_holders_own_account(grant: dict[str, Any]) -> None:
    risk = assess_principal(_holder(grant))
    assert risk.escalations, "IAM reads the variable as the caller's own account"
    assert any(path.certain for path in risk.escalations), "rewriting its own permissions needs no directory"


UNRESOLVED_GRANTS = {
    "a principal tag in the account field": _allow("iam:PutRolePolicy", "arn:aws:iam::${aws:PrincipalTag/acct}:role/*"),
    "a default the tag may replace": _allow(
        "iam:PutRolePolicy", f"{VARIABLE_ACCOUNT}:role/${{aws:PrincipalTag/name, 'victim'}}"
    ),
}


@pytest.mark.parametrize("grant", UNRESOLVED_GRANTS.values(), ids=UNRESOLVED_GRANTS.keys())
def test_a_variable_the_engine_cannot_resolve_reaches_anything_but_only_possibly(grant: dict[str, Any]) -> None:
    """``${aws:PrincipalTag/…}`` is read as any value (the caller may set its tags), but what it is for the
    holder is not known: the path is reported, alert-only, never remediated on that guess."""
    risk = assess_principal(_holder(grant))
    assert risk.escalations
    assert not any(path.certain for path in risk.escalations)
    assert any("${aws:PrincipalTag/" in fact and "role victim" in fact for fact in risk.unknown)


def test_a_certain_grant_beside_the_variable_keeps_the_path_certain() -> None:
    grants = (_allow("iam:PutRolePolicy", f"{ROLES}${{aws:PrincipalTag/x}}"), _allow("iam:PutRolePolicy", ROLE))
    assert any(path.certain for path in assess_principal(_holder(*grants)).escalations)


def test_a_user_writing_its_own_policies_through_a_variable_account_escalates() -> None:
    grant = _allow("iam:AttachUserPolicy", f"{VARIABLE_ACCOUNT}:user/${{aws:username}}")
    assert assess_principal(_holder(grant, arn=USER)).escalations


def test_another_accounts_iam_stays_out_of_reach() -> None:
    """The control: IAM acts only in the caller's account, so a literal other account grants nothing here."""
    assert not assess_principal(_holder(_allow("iam:*", f"arn:aws:iam::{OTHER}:*"))).risky


def test_a_document_judged_alone_reads_the_variable_as_any_account() -> None:
    assert assess(_policy(_allow("iam:PutRolePolicy", f"{VARIABLE_ACCOUNT}:role/*"))).escalations


def test_a_deny_on_the_variable_account_cancels_the_grant() -> None:
    holder = _holder(_allow("iam:*"), _deny("iam:*", f"{VARIABLE_ACCOUNT}:*"))
    assert not assess_principal(holder).risky


def test_a_deny_on_a_variable_the_engine_cannot_resolve_cancels_nothing() -> None:
    """``${aws:PrincipalTag/acct}`` may name any account (or none): read as covering nothing, never as everything."""
    holder = _holder(
        _allow("iam:PutRolePolicy", f"{ROLES}*"), _deny("iam:*", "arn:aws:iam::${aws:PrincipalTag/acct}:*")
    )
    assert assess_principal(holder).escalations


def _put_role_policy(document: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(load_event("put-role-policy-admin-star.json"))
    event["detail"]["eventID"] = str(uuid.uuid4())
    event["detail"]["requestParameters"]["policyDocument"] = json.dumps(document)
    return event


def test_put_role_policy_with_a_variable_account_is_a_finding() -> None:
    document = {"Version": "2012-10-17", "Statement": [_allow("iam:*", f"{VARIABLE_ACCOUNT}:*")]}
    result = judge_event(_put_role_policy(document), Settings())
    assert result.verdict is Verdict.VIOLATION
    assert {finding.severity for finding in result.findings} == {Severity.CRITICAL}


# --- finding 3: a Deny covers the Allow's pattern as a pattern ---------------------------------------------------


@pytest.mark.parametrize(
    ("deny", "allow", "covers"),
    [
        ("?", "*", False),
        (f"{ROLES}?", f"{ROLES}*", False),
        (f"{ROLES}v?m", f"{ROLES}v*m", False),
        (f"{ROLES}a*", "*", False),
        ("arn:aws:iam::?:*", "arn:aws:iam::*:*", False),
        ("*", f"{ROLES}*", True),
        ("*", "*", True),
        (f"{ROLES}*", f"{ROLES}v*", True),
        (f"{ROLES}v*", f"{ROLES}v?m", True),
        (f"{ROLES}v?m", f"{ROLES}vim", True),
        ("arn:aws:iam::*:*", f"{ROLES}*", True),
    ],
)
def test_a_deny_covers_a_pattern_only_where_it_names_everything_the_pattern_can(
    deny: str, allow: str, covers: bool
) -> None:
    assert _covers(deny, allow) is covers


DECOYS = {
    "iam:* on every account's IAM, Deny on a one-character account": (
        _allow("iam:*", "arn:aws:iam::*:*"),
        _deny("iam:*", "arn:aws:iam::?:*"),
    ),
    "AttachRolePolicy on every role, Deny on one-letter roles": (
        _allow("iam:AttachRolePolicy", f"{ROLES}*"),
        _deny("iam:AttachRolePolicy", f"{ROLES}?"),
    ),
    "PutRolePolicy on v*m, Deny on v?m": (
        _allow("iam:PutRolePolicy", f"{ROLES}v*m"),
        _deny("iam:PutRolePolicy", f"{ROLES}v?m"),
    ),
    "AttachRolePolicy on *, Deny on ?": (_allow("iam:AttachRolePolicy"), _deny("iam:AttachRolePolicy", "?")),
}


@pytest.mark.parametrize(("allow", "decoy"), DECOYS.values(), ids=DECOYS.keys())
def test_a_decoy_deny_cancels_no_grant(allow: dict[str, Any], decoy: dict[str, Any]) -> None:
    assert assess_principal(_holder(allow, decoy)).escalations


def test_a_decoy_deny_in_an_older_policy_cancels_nothing_either() -> None:
    holder = PrincipalPolicies(
        ROLE,
        (
            NamedPolicy("inline victim/decoy", _policy(_deny("iam:*", "arn:aws:iam::?:*"))),
            NamedPolicy("inline victim/p", _policy(_allow("iam:*", "arn:aws:iam::*:*"))),
        ),
    )
    assert assess_principal(holder).escalations


def test_a_deny_covering_the_pattern_still_cancels_it() -> None:
    """The control: ``role/*`` denied covers ``role/v*m`` allowed."""
    holder = _holder(_allow("iam:PutRolePolicy", f"{ROLES}v*m"), _deny("iam:PutRolePolicy", f"{ROLES}*"))
    assert not assess_principal(holder).escalations


def _admin_role(trust: dict[str, Any], arn: str = ADMIN_ROLE) -> PrincipalPolicies:
    return PrincipalPolicies(
        arn,
        (NamedPolicy("arn:aws:iam::aws:policy/AdministratorAccess", _policy(_allow("*"))),),
        trust=_policy(trust),
    )


def _directory(*roles: PrincipalPolicies) -> StaticDirectory:
    keyed = {PrincipalKey.of(role.principal_arn): role for role in roles}
    return StaticDirectory(
        {key: role for key, role in keyed.items() if key is not None},
        roles={ACCOUNT: [role.principal_arn for role in roles]},
    )


LAMBDA_TRUST = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
ACCOUNT_TRUST = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}


@pytest.mark.parametrize("decoy", [True, False], ids=["with the decoy", "without"])
def test_passing_an_admin_role_past_a_decoy_deny_is_an_escalation(decoy: bool) -> None:
    statements = [
        _allow("iam:PassRole", f"{ROLES}*"),
        _allow(["lambda:CreateFunction", "lambda:InvokeFunction"]),
        *([_deny("iam:PassRole", f"{ROLES}?")] if decoy else []),
    ]
    found = _methods(_holder(*statements), _directory(_admin_role(LAMBDA_TRUST)))
    assert "PassExistingRoleToNewLambdaThenInvoke" in found


def test_assuming_a_break_glass_role_past_a_decoy_deny_is_an_escalation() -> None:
    holder = _holder(_allow("sts:AssumeRole", f"{ROLES}break-*"), _deny("sts:AssumeRole", f"{ROLES}break-?"))
    assert assess_principal(holder, _directory(_admin_role(ACCOUNT_TRUST, BREAK_GLASS))).escalations


# --- finding 5: an ARN-form guard covers an Allow on * for IAM actions --------------------------------------------

BROAD = _allow(["iam:*", "s3:*"])
GUARDS = {
    "the account's IAM": f"arn:aws:iam::{ACCOUNT}:*",
    "every account's IAM": "arn:aws:iam::*:*",
    "the caller's account's IAM": f"{VARIABLE_ACCOUNT}:*",
}


@pytest.mark.parametrize("guard", GUARDS.values(), ids=GUARDS.keys())
def test_an_arn_form_guard_keeps_a_broad_grant_in_check(guard: str) -> None:
    risk = assess_principal(_holder(BROAD, _deny("iam:*", guard)))
    assert not risk.risky, [path.method.name for path in risk.escalations]


def test_a_guard_on_another_accounts_iam_keeps_nothing_in_check() -> None:
    assert assess_principal(_holder(BROAD, _deny("iam:*", f"arn:aws:iam::{OTHER}:*"))).risky


def test_a_guard_on_the_roles_alone_leaves_the_user_methods() -> None:
    """A guard on ``role/*`` covers an Allow on ``*`` only for the role methods."""
    risk = assess_principal(_holder(BROAD, _deny("iam:*", f"arn:aws:iam::{ACCOUNT}:role/*")))
    kinds = {kind for path in risk.escalations for kind in path.method.actions.values()}
    assert "iam:role/" not in kinds
    assert risk.escalations


def _role_details(inline: dict[str, dict[str, Any]], attached: list[str] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    return {
        "Path": "/",
        "RoleName": "app-backend",
        "RoleId": "AROAAPPBACKEND000000",
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/app-backend",
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
        "InstanceProfileList": [],
        "RolePolicyList": [{"PolicyName": name, "PolicyDocument": document} for name, document in inline.items()],
        "AttachedManagedPolicies": [{"PolicyName": arn.rsplit("/", 1)[-1], "PolicyArn": arn} for arn in attached],
    }


def _document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


@pytest.mark.parametrize("guard", ["*", *GUARDS.values()], ids=["*", *GUARDS.keys()])
def test_deleting_an_arn_form_guard_is_a_restraint_removed(guard: str) -> None:
    """p18: the inline guard ``deny-iam`` deleted from app-backend, which keeps ``broad`` (iam:*, s3:* on *)."""
    details = {
        "RoleDetailList": [
            _role_details({"broad": _document(BROAD), "deny-iam": _document(_deny("iam:*", guard))}),
        ],
        "UserDetailList": [],
        "GroupDetailList": [],
        "Policies": [],
    }
    result = judge_event(
        load_event("delete-deny-inline-from-role.json"),
        Settings(),
        directory=authorization_details_directory(details),
    )
    assert "restraint-removed" in [finding.rule_id for finding in result.findings]


def test_a_broad_grant_put_behind_an_arn_form_guard_is_no_escalation() -> None:
    """p18c: the guard ``Deny iam:* on arn:aws:iam::*:*`` already in place; the event puts ``broad``."""
    details = {
        "RoleDetailList": [_role_details({"guard": _document(_deny("iam:*", "arn:aws:iam::*:*"))})],
        "UserDetailList": [],
        "GroupDetailList": [],
        "Policies": [],
    }
    event = copy.deepcopy(load_event("put-role-policy-admin-star.json"))
    parameters = event["detail"]["requestParameters"]
    parameters["roleName"] = "app-backend"
    parameters["policyDocument"] = json.dumps(_document(BROAD))
    result = judge_event(event, Settings(), directory=authorization_details_directory(details))
    assert result.verdict is Verdict.COMPLIANT, [finding.reason for finding in result.findings]


# --- review engine s10, finding 3: a boundary read through a variable is a guess, not a fact ------------------
# (probe /tmp/rv-engine-probes/x7.py: alert-only on main, certain and remediable on engine-fix-s10)

TAG_BOUNDARY = {
    "Effect": "Allow",
    "Action": ["iam:PutRolePolicy", "s3:*"],
    "Resource": f"{ROLES}${{aws:PrincipalTag/team}}*",
}


def _bounded(*boundary: dict[str, Any]) -> PrincipalPolicies:
    return _holder(_allow("iam:PutRolePolicy"))._replace(boundary=_policy(*boundary))


def test_a_path_the_boundary_allows_only_through_a_variable_is_alert_only() -> None:
    risk = assess_principal(_bounded(TAG_BOUNDARY))
    assert "PutRolePolicy" in {path.method.name for path in risk.escalations}
    assert not any(path.certain for path in risk.escalations), "the tag's value decides whether it is allowed"
    assert any("${aws:PrincipalTag/team}" in fact and "role victim" in fact for fact in risk.unknown)


def test_a_literal_boundary_statement_allowing_the_role_keeps_the_path_certain() -> None:
    literal = {"Effect": "Allow", "Action": "iam:PutRolePolicy", "Resource": ROLE}
    risk = assess_principal(_bounded(TAG_BOUNDARY, literal))
    assert any(path.certain and path.method.name == "PutRolePolicy" for path in risk.escalations)


def test_a_literal_boundary_that_does_not_allow_the_role_leaves_no_certain_self_path() -> None:
    """The control (main's and the tag's reading alike): a boundary on ``role/other*`` keeps victim's own policy."""
    literal = {"Effect": "Allow", "Action": ["iam:PutRolePolicy", "s3:*"], "Resource": f"{ROLES}other*"}
    assert not any(path.certain for path in assess_principal(_bounded(literal)).escalations)


# --- review engine s10, finding 5: a NotResource Deny sparing only another account's IAM denies the holder's ---
# (probe /tmp/rv-engine-probes/x5.py: compliant on main, certain privilege escalation on engine-fix-s10)


def _not_resource_deny(spared: str) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": "iam:*", "NotResource": spared}


@pytest.mark.parametrize("allowed", ["*", "arn:aws:iam::*:*"], ids=["on *", "on every account's IAM"])
def test_a_deny_sparing_another_accounts_iam_denies_all_of_the_holders(allowed: str) -> None:
    holder = _holder(_allow("iam:*", allowed), _not_resource_deny(f"arn:aws:iam::{OTHER}:*"))
    assert not assess_principal(holder).escalations


def test_a_passrole_deny_sparing_another_accounts_roles_leaves_no_passrole_path() -> None:
    grant = _allow(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"])
    guard = {"Effect": "Deny", "Action": "iam:PassRole", "NotResource": f"arn:aws:iam::{OTHER}:role/*"}
    assert not assess_principal(_holder(grant, guard), _directory(_admin_role(LAMBDA_TRUST))).escalations


def test_a_deny_sparing_the_holder_itself_leaves_its_escalation() -> None:
    """The control: the spared resource is the holder's own role, so it may still rewrite itself."""
    holder = _holder(_allow("iam:*"), _not_resource_deny(ROLE))
    assert any(path.certain for path in assess_principal(holder).escalations)


# --- review engine s10, finding 1: ${aws:username} beside a wildcard names other users and roles too ----------
# (probes /tmp/rv-engine-probes/x9.py, x10.py: compliant on main and engine-fix-s10; bob-admin is taken over)

ADMINISTRATOR = "arn:aws:iam::aws:policy/AdministratorAccess"


def _user_details(name: str, attached: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "Path": "/",
        "UserName": name,
        "UserId": "AIDA" + name.upper().replace("-", "").ljust(16, "0")[:16],
        "Arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
        "GroupList": [],
        "UserPolicyList": [],
        "AttachedManagedPolicies": [{"PolicyName": arn.rsplit("/", 1)[-1], "PolicyArn": arn} for arn in attached],
    }


def _deployer_details() -> dict[str, Any]:
    return _role_details({}, [ADMINISTRATOR]) | {
        "RoleName": "bob-deployer",
        "RoleId": "AROABOBDEPLOYER00000",
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/bob-deployer",
        "AssumeRolePolicyDocument": _document(LAMBDA_TRUST),
    }


def _bobs_account() -> StaticDirectory:
    return authorization_details_directory(
        {
            "RoleDetailList": [_deployer_details()],
            "UserDetailList": [_user_details("bob"), _user_details("bob-admin", (ADMINISTRATOR,))],
            "GroupDetailList": [],
            "Policies": [
                {
                    "PolicyName": "AdministratorAccess",
                    "Arn": ADMINISTRATOR,
                    "DefaultVersionId": "v1",
                    "PolicyVersionList": [
                        {"Document": _document(_allow("*")), "VersionId": "v1", "IsDefaultVersion": True}
                    ],
                }
            ],
        }
    )


TAKEOVER = ["iam:CreateAccessKey", "iam:CreateLoginProfile"]
BOBS_OTHERS = {
    "followed by a star": f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}*",
    "followed by a dash and a star": f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}-*",
    "written literally (control)": f"arn:aws:iam::{ACCOUNT}:user/bob*",
}


@pytest.mark.parametrize("resource", BOBS_OTHERS.values(), ids=BOBS_OTHERS.keys())
def test_a_username_beside_a_wildcard_takes_over_another_user(resource: str) -> None:
    risk = assess_principal(_holder(_allow(TAKEOVER, resource), arn=USER), _bobs_account())
    assert {"CreateAccessKey", "CreateLoginProfile"} & {path.method.name for path in risk.escalations}
    assert any(path.certain for path in risk.escalations), "bob-admin is named and is an administrator"


@pytest.mark.parametrize(
    "resource",
    [f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}", "arn:aws:iam::*:user/${aws:username}"],
    ids=["own account", "any account"],
)
def test_the_own_user_alone_takes_over_nobody(resource: str) -> None:
    """The control: AWS's "manage your own access keys" statement names bob alone."""
    assert not assess_principal(_holder(_allow(TAKEOVER, resource), arn=USER), _bobs_account()).escalations


def test_a_per_user_role_prefix_passes_the_users_admin_role() -> None:
    grants = (
        _allow("iam:PassRole", f"{ROLES}${{aws:username}}-*"),
        _allow(["lambda:CreateFunction", "lambda:InvokeFunction"]),
    )
    risk = assess_principal(_holder(*grants, arn=USER), _bobs_account())
    assert any(path.certain and "PassRole" in path.method.name for path in risk.escalations)


def test_a_username_beside_a_wildcard_in_a_document_judged_alone_is_only_possibly_another_user() -> None:
    """With no user known, ``${aws:username}`` there is any value: reported, alert-only, with the variable named."""
    risk = assess(_policy(_allow(TAKEOVER, f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}*")))
    assert risk.escalations
    assert not any(path.certain for path in risk.escalations)
    assert any("${aws:username}" in fact for fact in risk.unknown)


def test_the_own_user_in_a_document_judged_alone_is_still_no_takeover() -> None:
    assert not assess(_policy(_allow(TAKEOVER, "arn:aws:iam::*:user/${aws:username}"))).escalations


@pytest.mark.parametrize(
    ("resource", "part"),
    [("arn:aws:iam::*:user/${aws:username}", False), ("arn:aws:iam::*:user/${aws:username}*", True)],
    ids=["own user only", "other users too"],
)
def test_a_key_for_users_beside_the_own_is_part_of_a_takeover(resource: str, part: bool) -> None:
    """identity_policy's ``_grants_part_of_a_method``: only the exact own-user resource is no part of a takeover."""
    policy = _policy(_allow("iam:CreateAccessKey", resource))
    assert _grants_part_of_a_method(policy) is part


# --- review engine s10, finding 4: a document judged alone: ${aws:PrincipalAccount} in a Deny is the account an
# iam: action acts in (probe /tmp/rv-engine-probes/x4.py: admin and 21 certain paths on main and engine-fix-s10)

IAM_AND_S3 = _allow(["iam:*", "s3:*"])


@pytest.mark.parametrize(
    "guard",
    ["*", "arn:aws:iam::*:*", f"{VARIABLE_ACCOUNT}:*"],
    ids=["every resource", "every account's IAM", "the holder's account's IAM"],
)
def test_a_guard_on_the_holders_iam_cancels_a_broad_grant_in_a_document_judged_alone(guard: str) -> None:
    risk = assess(_policy(IAM_AND_S3, _deny("iam:*", guard)))
    assert not risk.admin
    assert not risk.escalations


def test_a_guard_on_a_literal_account_cancels_nothing_in_a_document_judged_alone() -> None:
    """The control: the holder's account is not known, so a literal one may not be it."""
    risk = assess(_policy(IAM_AND_S3, _deny("iam:*", f"arn:aws:iam::{ACCOUNT}:*")))
    assert risk.admin or risk.escalations


def test_a_passrole_guard_on_the_holders_roles_leaves_no_passrole_path_in_a_document_judged_alone() -> None:
    grant = _allow(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"])
    risk = assess(_policy(grant, _deny("iam:PassRole", f"{VARIABLE_ACCOUNT}:role/*")))
    assert not [path for path in risk.escalations if "PassRole" in path.method.name]


def test_a_deny_sparing_a_literal_account_spares_perhaps_the_holders_in_a_document_judged_alone() -> None:
    """NotResource ``arn:aws:iam::111122223333:*`` may spare the holder's own account: the grant stays."""
    risk = assess(_policy(_allow("iam:*"), _not_resource_deny(f"arn:aws:iam::{ACCOUNT}:*")))
    assert risk.escalations


# --- review engine s10, finding 6: a Deny IAM Warden cannot resolve leaves the grant behind it uncertain ---------
# (probe /tmp/rv-engine-probes/x6.py, x1.py X17: certain and remediable on main and engine-fix-s10)

UNRESOLVED_GUARDS = {
    "account from a tag": _deny("iam:*", "arn:aws:iam::${aws:PrincipalTag/home-account}:*"),
    "role name from a tag with a default": _deny("iam:*", f"{ROLES}${{aws:PrincipalTag/x, '*'}}"),
}


@pytest.mark.parametrize("guard", UNRESOLVED_GUARDS.values(), ids=UNRESOLVED_GUARDS.keys())
def test_a_grant_behind_a_deny_on_an_unknown_variable_is_only_possibly_an_escalation(guard: dict[str, Any]) -> None:
    risk = assess_principal(_holder(_allow("iam:PutRolePolicy"), guard))
    assert risk.escalations, "the Deny may cover nothing"
    assert not any(path.certain for path in risk.escalations), "or everything: its variable decides"
    assert any("${aws:PrincipalTag/" in fact and "role victim" in fact for fact in risk.unknown)


def test_a_passrole_behind_a_deny_on_an_unknown_role_name_is_only_possibly_an_escalation() -> None:
    grant = _allow(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"])
    guard = _deny("iam:PassRole", "arn:aws:iam::*:role/${aws:PrincipalTag/x}")
    risk = assess_principal(_holder(grant, guard), _directory(_admin_role(LAMBDA_TRUST)))
    assert [path for path in risk.escalations if "PassRole" in path.method.name]
    assert not any(path.certain for path in risk.escalations if "PassRole" in path.method.name)


def test_a_deny_with_a_variable_that_could_not_cover_the_grant_leaves_it_certain() -> None:
    """The control: read as any value, ``arn:aws:s3:::${aws:PrincipalTag/b}`` still names no IAM role."""
    risk = assess_principal(_holder(_allow("iam:PutRolePolicy"), _deny("iam:*", "arn:aws:s3:::${aws:PrincipalTag/b}")))
    assert any(path.certain for path in risk.escalations)


@pytest.mark.parametrize("guard", UNRESOLVED_GUARDS.values(), ids=UNRESOLVED_GUARDS.keys())
def test_deleting_a_deny_on_an_unknown_variable_is_a_restraint_removed_with_what_is_unknown(
    guard: dict[str, Any],
) -> None:
    """x6: the guard deleted from app-backend, which keeps ``broad``: reported (main: compliant), alert-only."""
    details = {
        "RoleDetailList": [_role_details({"broad": _document(BROAD), "deny-iam": _document(guard)})],
        "UserDetailList": [],
        "GroupDetailList": [],
        "Policies": [],
    }
    result = judge_event(
        load_event("delete-deny-inline-from-role.json"), Settings(), directory=authorization_details_directory(details)
    )
    [finding] = [finding for finding in result.findings if finding.rule_id == "restraint-removed"]
    assert any("${aws:PrincipalTag/" in fact for fact in finding.needs_context)


# --- review engine s10, finding 6 (admin part): an admin grant such a Deny may cancel is alert-only -----------------
# (probe /tmp/rv-engine-probes/x6.py row 1: inline-policy-admin certain and remediable on main and enginefix2-s10)

TAG_ACCOUNT_GUARD = UNRESOLVED_GUARDS["account from a tag"]


def test_an_admin_grant_behind_a_deny_on_an_unknown_account_is_only_possibly_admin() -> None:
    risk = assess_principal(_holder(BROAD, TAG_ACCOUNT_GUARD))
    [grant] = risk.admin
    assert grant.critical, "read as written, the Deny covers nothing: iam:* on * is still admin"
    assert not grant.certain, "read as the holder's account, it cancels every IAM action"
    assert any("${aws:PrincipalTag/home-account}" in fact and "role victim" in fact for fact in grant.unknown)
    assert any("${aws:PrincipalTag/home-account}" in fact for fact in risk.unknown)
    assert not any(path.certain for path in risk.escalations), "deleting the guard may be denied by it too"


def test_an_admin_grant_behind_an_unresolved_deny_that_could_not_cover_iam_stays_certain() -> None:
    """The control: read as any value, ``arn:aws:s3:::${aws:PrincipalTag/b}`` names no IAM resource."""
    [grant] = assess_principal(_holder(BROAD, _deny("iam:*", "arn:aws:s3:::${aws:PrincipalTag/b}"))).admin
    assert grant.certain
    assert not grant.unknown


def test_an_unresolved_deny_on_the_roles_alone_leaves_the_admin_over_users_certain() -> None:
    """x6 row 3: ``role/${aws:PrincipalTag/x, '*'}`` covers at most the roles; the user methods stay certain."""
    risk = assess_principal(_holder(BROAD, UNRESOLVED_GUARDS["role name from a tag with a default"]))
    assert risk.admin
    assert all(grant.certain for grant in risk.admin)
    assert any(path.certain for path in risk.escalations)


def _put_broad_on_app_backend(*guards: dict[str, Any]) -> Any:
    inline = {"guard": _document(*guards)} if guards else {}
    details = {"RoleDetailList": [_role_details(inline)], "UserDetailList": [], "GroupDetailList": [], "Policies": []}
    event = copy.deepcopy(load_event("put-role-policy-admin-star.json"))
    event["detail"]["eventID"] = str(uuid.uuid4())
    parameters = event["detail"]["requestParameters"]
    parameters["roleName"] = "app-backend"
    parameters["policyDocument"] = json.dumps(_document(BROAD))
    return judge_event(event, Settings(), directory=authorization_details_directory(details))


def test_a_broad_grant_put_behind_a_deny_on_an_unknown_account_is_alerted_naming_the_variable() -> None:
    """x6 row 1: inline-policy-admin, critical, but never remediated on a guess."""
    result = _put_broad_on_app_backend(TAG_ACCOUNT_GUARD)
    [finding] = [finding for finding in result.findings if finding.rule_id == "inline-policy-admin"]
    assert finding.severity is Severity.CRITICAL
    assert not finding.certain
    assert any("${aws:PrincipalTag/home-account}" in fact for fact in finding.needs_context)


def test_a_broad_grant_put_with_no_guard_is_still_a_certain_admin_finding() -> None:
    """The control: nothing unknown, so the finding stays certain (remediable)."""
    [finding] = [f for f in _put_broad_on_app_backend().findings if f.rule_id == "inline-policy-admin"]
    assert finding.certain


BROAD_ARN = f"arn:aws:iam::{ACCOUNT}:policy/broad"


@pytest.mark.parametrize(("guards", "certain"), [((TAG_ACCOUNT_GUARD,), False), ((), True)], ids=["guard", "none"])
def test_a_broad_managed_policy_attached_behind_a_deny_on_an_unknown_account_is_alerted(
    guards: tuple[dict[str, Any], ...], certain: bool
) -> None:
    """The same through a customer-managed policy (``attach-admin-to-role.json``, policy ``broad`` to app-backend)."""
    inline = {"guard": _document(*guards)} if guards else {}
    broad = {
        "PolicyName": "broad",
        "Arn": BROAD_ARN,
        "DefaultVersionId": "v1",
        "AttachmentCount": 1,
        "PolicyVersionList": [{"Document": _document(BROAD), "VersionId": "v1", "IsDefaultVersion": True}],
    }
    details = {
        "RoleDetailList": [_role_details(inline, [BROAD_ARN])],
        "UserDetailList": [],
        "GroupDetailList": [],
        "Policies": [broad],
    }
    event = copy.deepcopy(load_event("attach-admin-to-role.json"))
    event["detail"]["requestParameters"]["policyArn"] = BROAD_ARN
    directory = authorization_details_directory(details)
    result = judge_event(event, Settings(), documents=DetailsDocuments(directory), directory=directory)
    assert result.verdict is Verdict.VIOLATION
    assert all(finding.certain is certain for finding in result.findings), [f.needs_context for f in result.findings]
    facts = [fact for finding in result.findings for fact in finding.needs_context]
    assert any("${aws:PrincipalTag/home-account}" in fact for fact in facts) is not certain


def test_a_username_with_no_default_names_no_role() -> None:
    """Review engine s10, 8c (x1.py X21): a role's session has no ``aws:username``, so ``role/${aws:username}``
    names nothing for it (was a certain, remediable escalation); with a default it is that role (the control)."""
    assert not assess_principal(_holder(_allow("iam:AttachRolePolicy", f"{ROLES}${{aws:username}}"))).escalations
    assert assess_principal(_holder(_allow("iam:AttachRolePolicy", f"{ROLES}${{aws:username, 'victim'}}"))).escalations
