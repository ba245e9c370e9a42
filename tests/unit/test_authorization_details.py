"""The ``get-account-authorization-details`` reader and ``iamwarden evaluate --authorization-details``.

The fixture (events/context/authorization-details.json) has the shape the AWS CLI prints (awscli
``examples/iam/get-account-authorization-details.rst``: UserDetailList with GroupList, GroupDetailList,
RoleDetailList with InstanceProfileList, Policies with PolicyVersionList and IsDefaultVersion).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from iamwarden.app.cli import main
from iamwarden.domain.authorization_details import (
    AuthorizationDetailsError,
    authorization_details_directory,
    load_authorization_details,
)
from tests.conftest import ROOT

DETAILS = ROOT / "events" / "context" / "authorization-details.json"
ACCOUNT = "111122223333"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def _details() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DETAILS.read_text())
    return loaded


def test_a_role_holds_its_inline_policies_and_the_default_version_of_each_attached_policy() -> None:
    directory = load_authorization_details(DETAILS.read_bytes())

    role = directory.principal(f"arn:aws:iam::{ACCOUNT}:role/ci-pipeline")

    assert role is not None
    assert role.kind == "role"
    assert [named.source for named in role.policies] == [
        "inline ci-pipeline/read-artifacts",
        f"arn:aws:iam::{ACCOUNT}:policy/ci-base",
    ]
    [base] = [named.policy for named in role.policies if named.source.endswith("ci-base")]
    assert base.raw["Statement"][0]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]  # v2, not v1's "*"
    admin = directory.principal(f"arn:aws:iam::{ACCOUNT}:role/cfn-deploy-admin")
    assert admin is not None
    assert [named.source for named in admin.policies] == [ADMIN]


def test_a_user_holds_its_groups_policies_named_by_group() -> None:
    directory = load_authorization_details(DETAILS.read_bytes())

    alice = directory.principal(f"arn:aws:iam::{ACCOUNT}:user/alice")

    assert alice is not None
    assert [named.source for named in alice.policies] == ["group developers: inline developers/read-everything-in-dev"]


def test_principals_are_found_by_name_whatever_their_path_and_only_in_their_account() -> None:
    details = _details()
    details["RoleDetailList"][0]["Arn"] = f"arn:aws:iam::{ACCOUNT}:role/ci/ci-pipeline"
    directory = authorization_details_directory(details)

    assert directory.principal(f"arn:aws:iam::{ACCOUNT}:role/ci-pipeline") is not None
    assert directory.principal("arn:aws:iam::444455556666:role/ci-pipeline") is None
    assert directory.principal(f"arn:aws:iam::{ACCOUNT}:role/not-there") is None
    assert directory.principal("arn:aws:s3:::bucket") is None


def test_roles_matching_a_pattern_and_the_roles_behind_an_instance_profile() -> None:
    directory = load_authorization_details(DETAILS.read_bytes())

    assert directory.roles_matching(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/cfn-deploy-*") == (
        f"arn:aws:iam::{ACCOUNT}:role/cfn-deploy-app",
        f"arn:aws:iam::{ACCOUNT}:role/cfn-deploy-admin",
    )
    assert len(directory.roles_matching(ACCOUNT, "*") or ()) == 6
    assert directory.roles_matching("444455556666", "*") is None  # an account the file does not describe
    assert directory.roles_behind(f"arn:aws:iam::{ACCOUNT}:instance-profile/build-runner") == (
        f"arn:aws:iam::{ACCOUNT}:role/build-runner",
    )
    assert directory.roles_behind(f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:app") is None  # not in the file


def test_a_permissions_boundary_is_read_from_the_policies() -> None:
    details = _details()
    details["RoleDetailList"][0]["PermissionsBoundary"] = {
        "PermissionsBoundaryType": "Policy",
        "PermissionsBoundaryArn": f"arn:aws:iam::{ACCOUNT}:policy/ci-base",
    }
    role = authorization_details_directory(details).principal(f"arn:aws:iam::{ACCOUNT}:role/ci-pipeline")

    assert role is not None
    assert role.boundary is not None
    assert role.boundary.raw["Statement"][0]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["Policies"].pop(),  # AdministratorAccess, attached to cfn-deploy-admin, is missing
        lambda d: d["RoleDetailList"][2].update(
            PermissionsBoundary={"PermissionsBoundaryArn": f"arn:aws:iam::{ACCOUNT}:policy/gone"}
        ),
    ],
    ids=["attached-policy-missing", "boundary-missing"],
)
def test_a_principal_whose_policies_are_not_all_in_the_file_is_unknown(change: Any) -> None:
    details = _details()
    change(details)

    directory = authorization_details_directory(details)

    assert directory.principal(f"arn:aws:iam::{ACCOUNT}:role/cfn-deploy-admin") is None
    assert directory.principal(f"arn:aws:iam::{ACCOUNT}:role/cfn-deploy-app") is not None


def test_a_user_in_a_group_the_file_lacks_is_unknown() -> None:
    details = _details()
    details["UserDetailList"][0]["GroupList"].append("admins")

    assert authorization_details_directory(details).principal(f"arn:aws:iam::{ACCOUNT}:user/alice") is None


def test_url_encoded_documents_and_pages_in_a_list_are_read() -> None:
    details = _details()
    for role in details["RoleDetailList"]:
        for inline in role["RolePolicyList"]:
            inline["PolicyDocument"] = quote(json.dumps(inline["PolicyDocument"]))
    policies = details.pop("Policies")
    pages = [details, {"Policies": policies, "IsTruncated": False}]

    directory = load_authorization_details(json.dumps(pages))

    role = directory.principal(f"arn:aws:iam::{ACCOUNT}:role/build-runner")
    assert role is not None
    assert role.policies[0].policy.raw["Statement"][0]["Action"] == "iam:PassRole"
    assert directory.principal(f"arn:aws:iam::{ACCOUNT}:role/cfn-deploy-admin") is not None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not JSON"),
        ("[1]", "page 0 must be an object, got a number"),
        ('{"Users": []}', "the top level has none of UserDetailList"),
        ('{"RoleDetailList": {}}', "RoleDetailList must be a list, got an object"),
        ('{"RoleDetailList": [{"RoleName": "x"}]}', "RoleDetailList[0].Arn must be a non-empty string"),
        ('{"RoleDetailList": [{"Arn": "arn:aws:s3:::b"}]}', "is not an IAM role, user or group ARN"),
        ('{"Policies": [{"Arn": "arn:aws:iam::1:policy/p", "PolicyVersionList": []}]}', "exactly one version"),
        (
            '{"RoleDetailList": [{"Arn": "arn:aws:iam::1:role/r", "RolePolicyList": '
            '[{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17"}}]}]}',
            "RoleDetailList[0].RolePolicyList[0].PolicyDocument has no Statement",
        ),
        (
            '{"RoleDetailList": [{"Arn": "arn:aws:iam::1:role/r", "RolePolicyList": '
            '[{"PolicyName": "p", "PolicyDocument": "%7Bnot"}]}]}',
            "is not a JSON policy document",
        ),
        ('{"UserDetailList": [{"Arn": "arn:aws:iam::1:user/u", "GroupList": [1]}]}', "GroupList must be a list"),
    ],
)
def test_a_malformed_file_is_one_error_naming_the_field(content: str, message: str) -> None:
    with pytest.raises(AuthorizationDetailsError) as caught:
        load_authorization_details(content)
    assert message in str(caught.value)


# --- iamwarden evaluate --authorization-details ----------------------------------------------------


def _evaluate(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["evaluate", *argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


def test_evaluate_judges_a_split_escalation_with_the_details_and_not_without() -> None:
    event = str(ROOT / "events" / "put-role-policy-split-escalation.json")

    _, without, _ = _evaluate(event)
    code, with_details, err = _evaluate("--authorization-details", str(DETAILS), event)

    assert (code, err) == (0, "")
    [unknown] = _lines(without)  # without the details: it cannot tell, so alert-only (needs_context)
    assert (unknown["verdict"], unknown["certain"]) == ("violation", False)
    assert unknown["needs_context"] == [
        "the other policies, groups and permissions boundary of role build-runner "
        "(not known without authorization details)"
    ]
    [finding] = _lines(with_details)
    assert (finding["verdict"], finding["rule"]) == ("violation", "privilege-escalation")
    assert finding["needs_context"] == []
    assert {"completed_by": ["iam:PassRole (inline build-runner/pass-any-role)"]} in finding["offending"]
    assert [step["action"] for step in finding["plan"]] == ["rewrite_inline_policy"]
    assert finding["plan"][0]["parameters"]["policy_name"] == "deploy-functions"


def test_evaluate_names_the_role_a_passrole_grant_leads_to() -> None:
    event = str(ROOT / "events" / "put-role-policy-ci-passrole-admin-role.json")

    code, out, _ = _evaluate("--format", "text", "--authorization-details", str(DETAILS), event)

    assert code == 0
    assert "That leads to role cfn-deploy-admin, which is admin-equivalent" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("{}", "is not get-account-authorization-details output: the top level has none of"),
    ],
)
def test_evaluate_exits_2_on_a_missing_or_malformed_details_file(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "details.json"
    if content is not None:
        path.write_text(content)
    event = str(ROOT / "events" / "put-role-policy-split-escalation.json")

    code, out, err = _evaluate("--authorization-details", str(path), event)

    assert (code, out) == (2, "")
    assert message in err


def test_who_holds_a_managed_policy() -> None:
    directory = load_authorization_details(DETAILS.read_bytes())

    assert directory.attached_to(ADMIN) == (
        f"arn:aws:iam::{ACCOUNT}:role/cfn-deploy-admin",
        f"arn:aws:iam::{ACCOUNT}:role/ops-automation",
    )
    assert directory.attached_to(f"arn:aws:iam::{ACCOUNT}:policy/unattached") == ()
    assert directory.attached_to("arn:aws:iam::444455556666:policy/elsewhere") is None


def test_evaluate_reads_the_documents_events_do_not_carry_from_the_details() -> None:
    events = [
        str(ROOT / "events" / name) for name in ("set-default-policy-version.json", "attach-customer-managed.json")
    ]

    _, without, _ = _evaluate(*events)
    code, with_details, _ = _evaluate("--authorization-details", str(DETAILS), *events)

    assert code == 0
    assert [line["verdict"] for line in _lines(without)] == ["ignored", "ignored"]
    version, attachment = _lines(with_details)
    assert (version["verdict"], version["rule"]) == ("violation", "policy-version-admin")
    assert attachment["verdict"] == "compliant"
    assert "app-s3-read (version v1) opens no known privilege-escalation method" in attachment["reason"]


def test_a_policy_the_details_lack_cannot_be_judged_and_is_never_called_gone(tmp_path: Path) -> None:
    details = _details()
    details["Policies"] = [p for p in details["Policies"] if not p["Arn"].endswith("/app-deploy")]
    for role in details["RoleDetailList"]:
        role["AttachedManagedPolicies"] = [
            a for a in role["AttachedManagedPolicies"] if not a["PolicyArn"].endswith("/app-deploy")
        ]
    path = tmp_path / "details.json"
    path.write_text(json.dumps(details))

    code, out, _ = _evaluate(
        "--authorization-details", str(path), str(ROOT / "events" / "set-default-policy-version.json")
    )

    [line] = _lines(out)
    assert code == 0
    assert line["verdict"] == "ignored"
    assert (
        "version v1 of arn:aws:iam::111122223333:policy/app-deploy is not in the authorization details"
        in (line["reason"])
    )


def test_a_groups_members_are_the_users_whose_group_list_names_it() -> None:
    group = {
        "GroupName": "devs",
        "Arn": "arn:aws:iam::111122223333:group/devs",
        "GroupPolicyList": [],
        "AttachedManagedPolicies": [],
    }
    empty = {**group, "GroupName": "ops", "Arn": "arn:aws:iam::111122223333:group/ops"}
    bob = {
        "UserName": "bob",
        "Arn": "arn:aws:iam::111122223333:user/bob",
        "GroupList": ["devs"],
        "UserPolicyList": [],
        "AttachedManagedPolicies": [],
    }
    directory = authorization_details_directory(
        {"UserDetailList": [bob], "GroupDetailList": [group, empty], "RoleDetailList": [], "Policies": []}
    )

    assert directory.members_of("arn:aws:iam::111122223333:group/devs") == ("arn:aws:iam::111122223333:user/bob",)
    assert directory.members_of("arn:aws:iam::111122223333:group/ops") == ()
    assert directory.members_of("arn:aws:iam::111122223333:group/other") is None  # not in the file: unknown


def test_evaluate_judges_every_reading_of_a_managed_policy_text_in_the_details(tmp_path: Path) -> None:
    # The API (not the AWS CLI, which prints it as an object) returns Document as URL-encoded text; a text naming
    # Action twice is read every way (session 13 note): the last value grants s3:GetObject, the first everything.
    details = json.loads(DETAILS.read_text())
    text = (
        '{"Version": "2012-10-17", "Statement": '
        '[{"Effect": "Allow", "Action": "*", "Action": "s3:GetObject", "Resource": "*"}]}'
    )
    [policy] = [p for p in details["Policies"] if p["PolicyName"] == "app-s3-read"]
    policy["PolicyVersionList"][0]["Document"] = quote(text, safe="")
    path = tmp_path / "details.json"
    path.write_text(json.dumps(details))
    event = str(ROOT / "events" / "attach-customer-managed.json")

    code, out, err = _evaluate("--authorization-details", str(path), event)

    assert (code, err) == (0, "")
    [finding] = [line for line in _lines(out) if line.get("rule") == "privilege-escalation"]
    assert finding["verdict"] == "violation"
    # The details know everything else (the policy was attached before: nothing to detach): one reading grants
    # everything with certainty, and the reason says which reading grants what (review s14, the lead's decision).
    assert finding["certain"] is True
    assert (
        "This policy can be read two ways: the text of version v1 of arn:aws:iam::111122223333:policy/app-s3-read "
        "names a key twice with different values, and AWS documents no reading of it. Read with each key's last "
        "value (as boto3 reads it), it opens nothing IAM Warden guards against; another way (reading 2), it opens "
        "admin-equivalent access."
    ) in finding["reason"]
    # The details as the AWS CLI prints them (Document an object) hold one reading: compliant, as before.
    _, unchanged, _ = _evaluate("--authorization-details", str(DETAILS), event)
    assert [line["verdict"] for line in _lines(unchanged)] == ["compliant"]
