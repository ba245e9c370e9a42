"""What holds a principal back, and whom it can become (issue 13, audit gaps 4, 5 and 7).

* A Deny or permissions boundary the holder can remove from itself is not binding (pathfinding.cloud
  iam-022 DeleteUserPermissionsBoundary, iam-024 PutUserPermissionsBoundary, iam-025 DetachUserPolicy,
  iam-026 DeleteUserPolicy; the role variants are IAM Warden's).
* A Deny on part of a PassRole wildcard (or a boundary excluding it) removes those roles from where
  the path leads.
* A role's trust policy decides whether the holder can become it (AttachRolePolicy + sts:AssumeRole on a
  role that trusts only ec2.amazonaws.com is no escalation).

The cases are the reviewer's probes (events judged with an authorization-details file), each in
both directions; the files are built here in the shape ``aws iam get-account-authorization-details``
prints (awscli ``examples/iam/get-account-authorization-details.rst``).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from iamwarden.app.cli import main
from iamwarden.domain.authorization_details import authorization_details_directory
from iamwarden.domain.escalation import assess_principal
from iamwarden.domain.escalation_methods import catalogue
from iamwarden.domain.policy import Policy, parse_policy
from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies

ACCOUNT = "111122223333"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/boundary"
GUARD = f"arn:aws:iam::{ACCOUNT}:policy/guard"
SELF_USER = f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"
EC2_ONLY = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}


def _arn(kind: str, name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:{kind}/{name}"


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(actions: str | list[str], resources: str | list[str] = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


def _deny(actions: str | list[str], resources: str | list[str] = "*") -> dict[str, Any]:
    return {"Effect": "Deny", "Action": actions, "Resource": resources}


def _role(
    name: str,
    *,
    inline: dict[str, dict[str, Any]] | None = None,
    attached: tuple[str, ...] = (),
    boundary: str | None = None,
    trust: dict[str, Any] | None = None,
) -> dict[str, Any]:
    role: dict[str, Any] = {
        "Path": "/",
        "RoleName": name,
        "RoleId": "AROA" + name.upper(),
        "Arn": _arn("role", name),
        "AssumeRolePolicyDocument": _doc(trust or EC2_ONLY),
        "RolePolicyList": [{"PolicyName": k, "PolicyDocument": v} for k, v in (inline or {}).items()],
        "AttachedManagedPolicies": [{"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in attached],
        # Each role is in an instance profile of its name: EC2 can run as it (PMapper's ec2_edges.py asks).
        "InstanceProfileList": [{"Arn": _arn("instance-profile", name), "InstanceProfileName": name}],
    }
    if boundary:
        role["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    return role


def _user(
    name: str,
    *,
    inline: dict[str, dict[str, Any]] | None = None,
    attached: tuple[str, ...] = (),
    boundary: str | None = None,
) -> dict[str, Any]:
    user: dict[str, Any] = {
        "Path": "/",
        "UserName": name,
        "UserId": "AIDA" + name.upper(),
        "Arn": _arn("user", name),
        "UserPolicyList": [{"PolicyName": k, "PolicyDocument": v} for k, v in (inline or {}).items()],
        "GroupList": [],
        "AttachedManagedPolicies": [{"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in attached],
    }
    if boundary:
        user["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    return user


def _managed(arn: str, document: dict[str, Any]) -> dict[str, Any]:
    return {
        "PolicyName": arn.rsplit("/", 1)[-1],
        "Arn": arn,
        "DefaultVersionId": "v1",
        "AttachmentCount": 1,
        "PolicyVersionList": [{"Document": document, "VersionId": "v1", "IsDefaultVersion": True}],
    }


def _details(
    *, users: tuple[dict[str, Any], ...] = (), roles: tuple[dict[str, Any], ...] = (), policies: tuple[Any, ...] = ()
) -> dict[str, Any]:
    return {
        "UserDetailList": list(users),
        "GroupDetailList": [],
        "RoleDetailList": list(roles),
        "Policies": [_managed(ADMIN, _doc(_allow("*"))), *policies],
    }


def _put(kind: str, name: str, document: dict[str, Any]) -> dict[str, Any]:
    """A PutUserPolicy/PutRolePolicy CloudTrail record in its EventBridge envelope."""
    event_name = {"role": "PutRolePolicy", "user": "PutUserPolicy"}[kind]
    return {
        "version": "0",
        "id": "e1",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.iam",
        "account": ACCOUNT,
        "time": "2026-12-04T10:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "eventVersion": "1.08",
            "userIdentity": {
                "type": "IAMUser",
                "principalId": "AIDAALICE",
                "arn": _arn("user", "alice"),
                "accountId": ACCOUNT,
                "userName": "alice",
            },
            "eventTime": "2026-12-04T10:00:00Z",
            "eventSource": "iam.amazonaws.com",
            "eventName": event_name,
            "awsRegion": "us-east-1",
            "sourceIPAddress": "203.0.113.7",
            "userAgent": "aws-cli/2.15.0",
            "requestParameters": {f"{kind}Name": name, "policyName": "p", "policyDocument": json.dumps(document)},
            "responseElements": None,
            "eventID": "e1",
            "eventType": "AwsApiCall",
            "recipientAccountId": ACCOUNT,
        },
    }


def _judge(tmp_path: Path, details: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """``iamwarden evaluate --format json --authorization-details``: the one verdict for the event."""
    (tmp_path / "details.json").write_text(json.dumps(details))
    (tmp_path / "event.json").write_text(json.dumps(event))
    out, err = io.StringIO(), io.StringIO()
    argv = ["evaluate", "--format", "json", "--authorization-details", str(tmp_path / "details.json")]
    main([*argv, str(tmp_path / "event.json")], stdout=out, stderr=err)
    [line] = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    verdict: dict[str, Any] = line
    return verdict


def _methods(verdict: dict[str, Any]) -> set[str]:
    return {item["method"] for item in verdict.get("offending") or () if "method" in item}


# --- gap 4: a restraint the holder can remove is not binding ---------------------------------------

#: Probe e3c/d3: carol's own inline policy denies her PutUserPolicy; the event lets her delete it.
CAROL = _user("carol", inline={"guard": _doc(_deny(["iam:PutUserPolicy", "iam:AttachUserPolicy"]))})


def test_a_deny_the_user_can_delete_from_itself_is_not_binding(tmp_path: Path) -> None:
    event = _put("user", "carol", _doc(_allow(["iam:DeleteUserPolicy", "iam:PutUserPolicy"], SELF_USER)))
    verdict = _judge(tmp_path, _details(users=(CAROL,)), event)
    assert verdict["verdict"] == "violation"
    assert verdict["certain"] is True
    assert _methods(verdict) == {"DeleteUserPolicy"}
    [path] = [item for item in verdict["offending"] if "method" in item]
    assert set(path["resources"]) == {"iam:DeleteUserPolicy", "iam:PutUserPolicy"}


def test_the_same_deny_binds_when_the_user_cannot_delete_it(tmp_path: Path) -> None:
    event = _put("user", "carol", _doc(_allow(["iam:PutUserPolicy"], SELF_USER)))
    verdict = _judge(tmp_path, _details(users=(CAROL,)), event)
    assert verdict["verdict"] == "compliant"


def test_a_deny_the_user_may_delete_only_on_another_user_binds(tmp_path: Path) -> None:
    other = _arn("user", "bob")
    event = _put("user", "carol", _doc(_allow("iam:DeleteUserPolicy", other), _allow("iam:PutUserPolicy", SELF_USER)))
    verdict = _judge(tmp_path, _details(users=(CAROL,)), event)
    assert verdict["verdict"] == "compliant"


#: Probe e4/d4: dave may do everything but remove his boundary, and the boundary holds him to s3.
DAVE = _user(
    "dave",
    inline={"work": _doc({"Effect": "Allow", "NotAction": ["iam:DeleteUserPermissionsBoundary"], "Resource": "*"})},
    boundary=BOUNDARY,
)
DAVE_BOUNDARY = _managed(BOUNDARY, _doc(_allow(["s3:*", "iam:DeleteUserPermissionsBoundary"])))


def test_a_boundary_the_user_can_delete_is_not_binding(tmp_path: Path) -> None:
    event = _put("user", "dave", _doc(_allow("iam:DeleteUserPermissionsBoundary", SELF_USER)))
    verdict = _judge(tmp_path, _details(users=(DAVE,), policies=(DAVE_BOUNDARY,)), event)
    assert verdict["verdict"] == "violation"
    assert verdict["certain"] is True
    assert _methods(verdict) == {"DeleteUserPermissionsBoundary"}


def test_deleting_a_boundary_the_policies_do_not_exceed_opens_nothing(tmp_path: Path) -> None:
    modest = _user("dave", inline={"work": _doc(_allow("s3:GetObject"))}, boundary=BOUNDARY)
    event = _put("user", "dave", _doc(_allow("iam:DeleteUserPermissionsBoundary", SELF_USER)))
    verdict = _judge(tmp_path, _details(users=(modest,), policies=(DAVE_BOUNDARY,)), event)
    assert verdict["verdict"] == "compliant"


def test_a_boundary_that_itself_forbids_its_removal_binds(tmp_path: Path) -> None:
    """Probe e3d: AdministratorAccess under a boundary of s3 and IAM reads; removing it is not allowed."""
    dave = _user("dave", attached=(ADMIN,), boundary=BOUNDARY)
    boundary = _managed(BOUNDARY, _doc(_allow(["s3:*", "iam:Get*", "iam:List*"])))
    event = _put("user", "dave", _doc(_allow("iam:DeleteUserPermissionsBoundary", SELF_USER)))
    assert _judge(tmp_path, _details(users=(dave,), policies=(boundary,)), event)["verdict"] == "compliant"


def _principal(arn: str, *policies: tuple[str, dict[str, Any]], boundary: dict[str, Any] | None = None) -> Any:
    parsed = tuple(NamedPolicy(source, parse_policy(document)) for source, document in policies)
    return PrincipalPolicies(arn, parsed, None if boundary is None else parse_policy(boundary))


def test_a_role_detaching_its_own_deny_policy_escalates_and_the_path_says_how() -> None:
    role = _arn("role", "app")
    principal = _principal(
        role,
        (GUARD, _doc(_deny("iam:PutRolePolicy"))),
        ("inline app/work", _doc(_allow(["iam:PutRolePolicy", "iam:DetachRolePolicy"], role))),
    )
    [path] = assess_principal(principal).escalations
    assert path.method.name == "DetachRolePolicyFromItself"
    assert path.actions == ("iam:DetachRolePolicy", "iam:PutRolePolicy")
    [lead] = path.leads_to
    assert lead.arn == role
    assert f"detaches managed policy {GUARD}, which holds a Deny" in lead.why
    assert "PutRolePolicy" in path.explain()
    # Without the detach, the Deny binds.
    bound = principal.replaced("inline app/work", parse_policy(_doc(_allow("iam:PutRolePolicy", role))))
    assert assess_principal(bound).escalations == ()


def test_a_role_replacing_its_own_boundary_reaches_what_its_policies_grant() -> None:
    role = _arn("role", "app")
    principal = _principal(
        role,
        ("inline app/work", _doc(_allow("*"))),
        boundary=_doc(_allow(["s3:*", "iam:PutRolePermissionsBoundary"])),
    )
    risk = assess_principal(principal)
    assert risk.admin == ()  # within the boundary it is not admin
    [path] = risk.escalations
    assert path.method.name == "PutRolePermissionsBoundaryOfItself"
    assert "is admin-equivalent once it replaces its permissions boundary" in path.leads_to[0].why
    weaker = principal._replace(boundary=parse_policy(_doc(_allow("s3:*"))))
    assert assess_principal(weaker).escalations == ()


def test_removals_chain_each_judged_with_what_is_still_in_force() -> None:
    """The inline Deny also forbids detaching: only once it is deleted can the managed Deny go too."""
    user = _arn("user", "erin")
    principal = _principal(
        user,
        ("inline erin/guard", _doc(_deny("iam:DetachUserPolicy"))),
        (GUARD, _doc(_deny("iam:AttachUserPolicy"))),
        ("inline erin/work", _doc(_allow(["iam:DeleteUserPolicy", "iam:DetachUserPolicy", "iam:AttachUserPolicy"]))),
    )
    [path] = assess_principal(principal).escalations
    assert path.method.name == "DeleteUserPolicy"
    why = path.leads_to[0].why
    assert "deletes inline erin/guard policy" in why
    assert f"detaches managed policy {GUARD}" in why


def test_a_deny_held_through_a_group_is_not_removed_from_the_user_itself() -> None:
    user = _arn("user", "erin")
    principal = _principal(
        user,
        ("group devs: inline devs/guard", _doc(_deny("iam:AttachUserPolicy"))),
        ("inline erin/work", _doc(_allow(["iam:DeleteUserPolicy", "iam:DetachUserPolicy", "iam:AttachUserPolicy"]))),
    )
    assert assess_principal(principal).escalations == ()


@pytest.mark.parametrize(
    "method", [m for m in catalogue().methods if m.reach == "lifts-restraint"], ids=lambda m: m.name
)
def test_each_removal_method_is_found_only_when_a_removable_restraint_holds_back_admin(method: Any) -> None:
    [action] = method.actions
    kind = "role" if "Role" in action else "user"
    holder = _arn(kind, "app")
    admin = ("inline app/work", _doc(_allow("*")))
    removal = ("inline app/remove", _doc(_allow(action, holder)))
    if "Boundary" in action:
        held = _principal(holder, admin, removal, boundary=_doc(_allow(["s3:*", action])))
        free = _principal(holder, admin, removal)
    else:
        deny = (GUARD, _doc(_deny("*"))) if "Detach" in action else ("inline app/guard", _doc(_deny("*")))
        deny_all_but_removal = _doc({"Effect": "Deny", "NotAction": action, "Resource": "*"})
        held = _principal(holder, admin, removal, (deny[0], deny_all_but_removal))
        free = _principal(holder, admin, removal)
    assert {path.method.name for path in assess_principal(held).escalations} == {method.name}
    assert method.name not in {path.method.name for path in assess_principal(free).escalations}
    assert method.sources, "each method cites where it was published"


def test_the_pathfinding_paths_are_in_the_catalogue_with_their_source() -> None:
    by_ref = {
        p.ref.split(" ", 1)[0]: m for m in catalogue().methods for p in m.sources if p.source == "pathfinding.cloud"
    }
    assert {ref: by_ref[ref].name for ref in ("iam-022", "iam-023", "iam-024", "iam-025", "iam-026")} == {
        "iam-022": "DeleteUserPermissionsBoundary",
        "iam-023": "DeleteRolePermissionsBoundaryThenAssumeRole",
        "iam-024": "PutUserPermissionsBoundary",
        "iam-025": "DetachUserPolicy",
        "iam-026": "DeleteUserPolicy",
    }
    assert all(
        "at " in p.ref for m in by_ref.values() for p in m.sources if p.ref.startswith("iam-02") and p.ref > "iam-021"
    )


def test_the_refresh_script_makes_the_new_paths_from_their_files(tmp_path: Path) -> None:
    from tools.refresh_escalation_methods import _method, _pathfinding, _reach

    paths_dir = tmp_path / "data" / "paths"
    (paths_dir / "iam").mkdir(parents=True)
    for path_id, category, actions in (
        ("iam-022", "self-escalation", ["iam:DeleteUserPermissionsBoundary"]),
        ("iam-023", "principal-access", ["iam:DeleteRolePermissionsBoundary", "sts:AssumeRole"]),
        ("iam-025", "self-escalation", ["iam:DetachUserPolicy"]),
    ):
        required = "".join(f"  - permission: {action}\n" for action in actions)
        text = f"id: {path_id}\nname: x\ncategory: {category}\npermissions:\n  required:\n{required}"
        (paths_dir / "iam" / f"{path_id}.yaml").write_text(text)
    found = _pathfinding(paths_dir)
    made = {
        path_id: _method("X", path["actions"], _reach(path["category"], path["actions"]), [])
        for path_id, path in found.items()
    }
    assert made["iam-022"]["reach"] == "lifts-restraint"
    assert made["iam-022"]["actions"] == {"iam:DeleteUserPermissionsBoundary": "iam:user/"}
    assert made["iam-023"]["reach"] == "modifies-other"
    assert made["iam-023"]["same_resource"] == ["iam:DeleteRolePermissionsBoundary", "sts:AssumeRole"]
    assert made["iam-025"]["target"] == "iam:DetachUserPolicy"


# --- gap 5: a Deny on part of a PassRole wildcard --------------------------------------------------

#: Probe e3a/d3: role guarded denies itself PassRole on role/admin-*; the event allows PassRole and
#: RunInstances on everything. The only stronger role is admin-role.
ADMIN_ROLE = _role("admin-role", attached=(ADMIN,))
WEAK_ROLE = _role("weak", inline={"s3": _doc(_allow("s3:GetObject"))})
PASS_AND_RUN = _doc(_allow(["iam:PassRole", "ec2:RunInstances"]))


def test_a_deny_on_the_only_stronger_role_leaves_no_path(tmp_path: Path) -> None:
    guarded = _role("guarded", inline={"guard": _doc(_deny("iam:PassRole", _arn("role", "admin-*")))})
    details = _details(roles=(ADMIN_ROLE, WEAK_ROLE, guarded))
    assert _judge(tmp_path, details, _put("role", "guarded", PASS_AND_RUN))["verdict"] == "compliant"


def test_a_deny_on_other_roles_leaves_the_stronger_one_reachable(tmp_path: Path) -> None:
    guarded = _role("guarded", inline={"guard": _doc(_deny("iam:PassRole", _arn("role", "weak")))})
    details = _details(roles=(ADMIN_ROLE, WEAK_ROLE, guarded))
    verdict = _judge(tmp_path, details, _put("role", "guarded", PASS_AND_RUN))
    assert verdict["verdict"] == "violation"
    assert verdict["certain"] is True
    assert {"leads_to": ["admin-role"]} in verdict["offending"]


def test_a_boundary_excluding_the_stronger_role_leaves_no_path(tmp_path: Path) -> None:
    bounded = _role("bounded", boundary=BOUNDARY)
    boundary = _managed(BOUNDARY, _doc(_allow("iam:PassRole", _arn("role", "weak")), _allow("ec2:RunInstances")))
    details = _details(roles=(ADMIN_ROLE, WEAK_ROLE, bounded), policies=(boundary,))
    assert _judge(tmp_path, details, _put("role", "bounded", PASS_AND_RUN))["verdict"] == "compliant"
    allowing = _managed(BOUNDARY, _doc(_allow("iam:PassRole", _arn("role", "admin-*")), _allow("ec2:RunInstances")))
    details = _details(roles=(ADMIN_ROLE, WEAK_ROLE, bounded), policies=(allowing,))
    assert _judge(tmp_path, details, _put("role", "bounded", PASS_AND_RUN))["verdict"] == "violation"


# --- gap 7: the trust policy decides whether the holder can become a role --------------------------

ATTACH_AND_ASSUME = _doc(_allow(["iam:AttachRolePolicy", "sts:AssumeRole"], _arn("role", "other")))
PUT_OTHER = _doc(_allow("iam:PutRolePolicy", _arn("role", "other")))


def test_a_role_that_trusts_only_a_service_cannot_be_assumed(tmp_path: Path) -> None:
    """Probe e8/d8: AttachRolePolicy + sts:AssumeRole on a role that trusts only EC2."""
    details = _details(roles=(_role("other"), _role("app2")))
    assert _judge(tmp_path, details, _put("role", "app2", ATTACH_AND_ASSUME))["verdict"] == "compliant"


@pytest.mark.parametrize(
    "principal",
    [{"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, {"AWS": ACCOUNT}, {"AWS": _arn("role", "app2")}, "*"],
    ids=["account-root", "account-id", "the-holder", "everyone"],
)
def test_a_role_whose_trust_lets_the_holder_in_is_certain(tmp_path: Path, principal: Any) -> None:
    trust = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    details = _details(roles=(_role("other", trust=trust), _role("app2")))
    verdict = _judge(tmp_path, details, _put("role", "app2", ATTACH_AND_ASSUME))
    assert verdict["verdict"] == "violation"
    assert verdict["certain"] is True
    assert "AttachRolePolicyThenAssumeRole" in _methods(verdict)


def test_a_role_trusting_another_account_cannot_be_assumed(tmp_path: Path) -> None:
    trust = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "sts:AssumeRole"}
    details = _details(roles=(_role("other", trust=trust), _role("app2")))
    assert _judge(tmp_path, details, _put("role", "app2", ATTACH_AND_ASSUME))["verdict"] == "compliant"


def test_writing_another_roles_policy_needs_a_trust_that_names_the_holder(tmp_path: Path) -> None:
    """Probe eE: PutRolePolicy on role/other. Trusting EC2 only: nothing; naming app2: certain; trusting
    the account: only with app2's own sts:AssumeRole."""
    assert (
        _judge(tmp_path, _details(roles=(_role("other"), _role("app2"))), _put("role", "app2", PUT_OTHER))["verdict"]
        == "compliant"
    )
    names_it = {"Effect": "Allow", "Principal": {"AWS": _arn("role", "app2")}, "Action": "sts:AssumeRole"}
    verdict = _judge(
        tmp_path, _details(roles=(_role("other", trust=names_it), _role("app2"))), _put("role", "app2", PUT_OTHER)
    )
    assert verdict["verdict"] == "violation"
    assert verdict["certain"] is True
    root = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
    verdict = _judge(
        tmp_path, _details(roles=(_role("other", trust=root), _role("app2"))), _put("role", "app2", PUT_OTHER)
    )
    assert verdict["verdict"] == "compliant"
    may_assume = _role("app2", inline={"assume": _doc(_allow("sts:AssumeRole", _arn("role", "other")))})
    verdict = _judge(
        tmp_path, _details(roles=(_role("other", trust=root), may_assume)), _put("role", "app2", PUT_OTHER)
    )
    assert verdict["verdict"] == "violation"
    assert verdict["certain"] is True


def test_an_unknown_trust_policy_is_named_and_never_certain(tmp_path: Path) -> None:
    other = _role("other")
    del other["AssumeRolePolicyDocument"]
    verdict = _judge(tmp_path, _details(roles=(other, _role("app2"))), _put("role", "app2", PUT_OTHER))
    assert verdict["verdict"] == "violation"
    assert verdict["certain"] is False
    assert any("trust policy" in fact for fact in verdict["needs_context"])


def test_the_trust_policy_is_read_from_the_details() -> None:
    directory = authorization_details_directory(_details(roles=(_role("other"),)))
    found = directory.principal(_arn("role", "other"))
    assert found is not None
    assert isinstance(found.trust, Policy)
    assert found.trust.statements[0].principal is not None
    assert found.trust.statements[0].principal.service == ("ec2.amazonaws.com",)


def test_trust_policies_are_read_for_at_most_a_bounded_number_of_roles() -> None:
    """Live, each trust policy is a read: past MAX_TRUSTS roles the rest stay unknown, never assumed away."""
    from iamwarden.domain.escalation import MAX_TRUSTS

    roles = tuple(_role(f"r{number:02}") for number in range(MAX_TRUSTS + 1))
    user = _user("alice")
    directory = authorization_details_directory(_details(users=(user,), roles=roles))
    alice = PrincipalPolicies(
        _arn("user", "alice"), (NamedPolicy("inline alice/p", parse_policy(_doc(_allow("iam:PutRolePolicy")))),)
    )
    [path] = assess_principal(alice, directory).escalations
    assert path.method.name == "PutRolePolicy"
    assert not path.certain
    assert path.unknown == ("whether one of 1 more roles * names trusts user alice",)
    few = authorization_details_directory(_details(users=(user,), roles=roles[:MAX_TRUSTS]))
    assert assess_principal(alice, few).escalations == ()


@pytest.mark.parametrize(
    ("document", "trusted"),
    [
        (_doc(EC2_ONLY), ("ec2.amazonaws.com",)),
        (json.dumps(_doc(EC2_ONLY)).replace('"', "%22").replace(" ", "%20"), ("ec2.amazonaws.com",)),
        ("%7Bnot json", None),
        ({"Statement": "nothing"}, None),
        (None, None),
    ],
    ids=["decoded", "url-encoded", "not-json", "not-a-policy", "absent"],
)
def test_the_live_reader_keeps_the_trust_policy_get_role_returns(document: Any, trusted: Any) -> None:
    from iamwarden.adapters.principals import _trust_of

    described = {"RoleName": "other"} if document is None else {"AssumeRolePolicyDocument": document}
    trust = _trust_of(described)
    if trusted is None:
        assert trust is None
    else:
        assert trust is not None
        assert trust.statements[0].principal is not None
        assert trust.statements[0].principal.service == trusted


def test_the_role_assumed_must_be_the_role_modified(tmp_path: Path) -> None:
    """AttachRolePolicy on role/other and sts:AssumeRole on every role: only other's trust decides."""
    root = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
    document = _doc(_allow("iam:AttachRolePolicy", _arn("role", "other")), _allow("sts:AssumeRole"))
    others_open = (_role("other"), _role("open", trust=root), _role("app2"))
    verdict = _judge(tmp_path, _details(roles=others_open), _put("role", "app2", document))
    assert "AttachRolePolicyThenAssumeRole" not in _methods(verdict)
    it_open = (_role("other", trust=root), _role("app2"))
    verdict = _judge(tmp_path, _details(roles=it_open), _put("role", "app2", document))
    assert "AttachRolePolicyThenAssumeRole" in _methods(verdict)
