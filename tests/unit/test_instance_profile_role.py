"""instance-profile-escalation judged offline from authorization details (the account before the event).

fleet-admin is an administrator EC2 may assume; ci-runner may pass any role and run instances. Putting fleet-admin into
an instance profile lets ci-runner run code as an administrator: the grant it held led nowhere through EC2 until now.
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest

from iamwarden.app.cli import main
from iamwarden.domain.authorization_details import authorization_details_directory
from iamwarden.domain.escalation import ec2_launch_allowance
from iamwarden.domain.findings import Verdict
from iamwarden.domain.policy import parse_policy
from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "111122223333"
SAMPLE = "add-role-to-instance-profile-admin.json"
ADMIN_ARN = f"arn:aws:iam::{ACCOUNT}:role/fleet-admin"
EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _inline(name: str, *statements: dict[str, Any]) -> dict[str, Any]:
    return {"PolicyName": name, "PolicyDocument": {"Version": "2012-10-17", "Statement": list(statements)}}


def _allow(*actions: str, resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": list(actions), "Resource": resource, **extra}


def _role(name: str, policies: list[dict[str, Any]], *, trust: dict[str, Any] = EC2_TRUST, profiles: Any = ()) -> Any:
    return {
        "Path": "/",
        "RoleName": name,
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
        "AssumeRolePolicyDocument": trust,
        "InstanceProfileList": [
            {"InstanceProfileName": p, "Arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/{p}"} for p in profiles
        ],
        "RolePolicyList": policies,
        "AttachedManagedPolicies": [],
    }


def _details(
    *,
    admin: list[dict[str, Any]] | None = None,
    runner: list[dict[str, Any]] | None = None,
    trust: dict[str, Any] = EC2_TRUST,
    profiles: tuple[str, ...] = (),
    users: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "UserDetailList": users or [],
        "GroupDetailList": [],
        "RoleDetailList": [
            _role(
                "fleet-admin",
                admin if admin is not None else [_inline("all", _allow("*"))],
                trust=trust,
                profiles=profiles,
            ),
            _role(
                "ci-runner",
                runner if runner is not None else [_inline("launch", _allow("iam:PassRole", "ec2:RunInstances"))],
            ),
            _role("reader", [_inline("read", _allow("s3:GetObject"))]),
        ],
        "Policies": [],
    }


def _judge(details: dict[str, Any] | None) -> Any:
    directory = authorization_details_directory(details) if details is not None else None
    return judge_event(load_event(SAMPLE), Settings(), directory=directory)


def test_an_admin_role_others_may_now_launch_is_a_finding_naming_them_with_its_plan() -> None:
    result = _judge(_details())

    assert result.verdict is Verdict.VIOLATION
    [finding] = result.findings
    assert finding.rule_id == "instance-profile-escalation"
    assert finding.needs_context == ()
    assert finding.resource_arn == f"arn:aws:iam::{ACCOUNT}:instance-profile/fleet-admin-profile"
    assert "put role fleet-admin into instance profile fleet-admin-profile" in finding.reason
    assert "Role fleet-admin is admin-equivalent" in finding.reason
    assert "role ci-runner (iam:PassRole by statement 0 of inline ci-runner/launch; ec2:RunInstances)" in finding.reason
    assert "reader" not in finding.reason
    assert finding.offending[0]["principals"] == [f"arn:aws:iam::{ACCOUNT}:role/ci-runner"]
    [step] = finding.plan
    assert (step.action, step.parameters) == (
        "remove_role_from_instance_profile",
        {"instance_profile_name": "fleet-admin-profile", "role_name": "fleet-admin"},
    )


def test_a_role_that_only_escalates_counts_too() -> None:
    """fleet-admin may attach any policy to itself: it can make itself an administrator."""
    result = _judge(_details(admin=[_inline("self", _allow("iam:AttachRolePolicy", resource=ADMIN_ARN))]))

    [finding] = result.findings
    assert "Role fleet-admin can escalate" in finding.reason
    assert finding.needs_context == ()


@pytest.mark.parametrize(
    "grant",
    [
        _allow("iam:PassRole", "ec2:AssociateIamInstanceProfile"),
        _allow("iam:PassRole", "ec2:ReplaceIamInstanceProfileAssociation"),
        _allow("iam:PassRole", "ec2:*", resource="*"),
    ],
    ids=["associate", "replace", "ec2-star"],
)
def test_giving_an_existing_instance_the_profile_counts_as_launching(grant: dict[str, Any]) -> None:
    [finding] = _judge(_details(runner=[_inline("launch", grant)])).findings

    assert "role ci-runner" in finding.reason


@pytest.mark.parametrize(
    ("runner", "why"),
    [
        ([_inline("launch", _allow("ec2:RunInstances"))], "no PassRole"),
        ([_inline("pass", _allow("iam:PassRole"))], "no way to put it on an instance"),
        (
            [_inline("launch", _allow("iam:PassRole", resource=f"arn:aws:iam::{ACCOUNT}:role/app-*"), _allow("ec2:*"))],
            "PassRole on other roles",
        ),
        (
            [
                _inline(
                    "launch",
                    _allow("iam:PassRole", "ec2:RunInstances"),
                    {"Effect": "Deny", "Action": "iam:PassRole", "Resource": ADMIN_ARN},
                )
            ],
            "a Deny on the role",
        ),
        (
            [
                _inline(
                    "launch",
                    _allow(
                        "iam:PassRole",
                        Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
                    ),
                    _allow("ec2:RunInstances"),
                )
            ],
            "PassRole to Lambda only",
        ),
        ([_inline("all", _allow("*"))], "an administrator already: gains nothing"),
    ],
)
def test_nobody_gaining_it_is_compliant(runner: list[dict[str, Any]], why: str) -> None:
    result = _judge(_details(runner=runner))

    assert result.verdict is Verdict.COMPLIANT, why
    assert "no principal of the account that is not an administrator already may pass it to EC2" in result.reason


def test_a_role_that_is_neither_admin_nor_escalating_is_compliant() -> None:
    result = _judge(_details(admin=[_inline("s3", _allow("s3:*"))]))

    assert result.verdict is Verdict.COMPLIANT
    assert "not admin-equivalent and opens no known privilege-escalation method" in result.reason


def test_a_role_ec2_may_not_assume_runs_on_no_instance() -> None:
    result = _judge(_details(trust=LAMBDA_TRUST))

    assert result.verdict is Verdict.COMPLIANT
    assert "does not let ec2.amazonaws.com assume it" in result.reason


def test_a_role_in_another_profile_may_have_been_launchable_before_this_event_so_it_is_alerted_only() -> None:
    """Review final s10 finding 2: a profile read after the event may have been added after it (two quick adds
    would each make the other look old), so it is no proof this event added no one; nor proof it did."""
    [finding] = _judge(_details(profiles=("legacy-admin-profile",))).findings

    assert any("already in instance profile legacy-admin-profile before this event" in n for n in finding.needs_context)


def test_a_user_is_named_as_a_role_is() -> None:
    user = {
        "Path": "/",
        "UserName": "alice",
        "Arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
        "UserPolicyList": [_inline("launch", _allow("iam:PassRole", "ec2:RunInstances"))],
        "GroupList": [],
        "AttachedManagedPolicies": [],
    }

    [finding] = _judge(_details(runner=[], users=[user])).findings

    assert "user alice (iam:PassRole by" in finding.reason
    assert "ci-runner" not in finding.reason


def test_without_a_directory_it_is_alerted_with_what_is_unknown() -> None:
    result = _judge(None)

    [finding] = result.findings
    assert finding.needs_context == (
        "what role fleet-admin may do and who may pass it to EC2 (no directory of the account's principals)",
    )
    assert finding.plan, "the alert says what remediation would do; never carried out with needs_context"


def test_a_role_the_details_do_not_hold_is_alerted_with_what_is_unknown() -> None:
    details = _details()
    details["RoleDetailList"] = [r for r in details["RoleDetailList"] if r["RoleName"] != "fleet-admin"]

    [finding] = _judge(details).findings

    assert finding.needs_context == ("what role fleet-admin may do and who may pass it to EC2 (it could not be read)",)


def test_a_failed_call_is_never_judged() -> None:
    result = judge_event(
        load_event("add-role-to-instance-profile-limit-exceeded.json"),
        Settings(),
        directory=authorization_details_directory(_details()),
    )

    assert result.verdict is Verdict.IGNORED
    assert result.findings == ()


def test_a_missing_request_parameter_is_invalid() -> None:
    event = copy.deepcopy(load_event(SAMPLE))
    del event["detail"]["requestParameters"]["roleName"]

    result = judge_event(event, Settings(), directory=authorization_details_directory(_details()))

    assert result.verdict is Verdict.INVALID
    assert "requestParameters.roleName" in result.reason


def _holder(*statements: dict[str, Any], boundary: dict[str, Any] | None = None) -> PrincipalPolicies:
    policy = parse_policy({"Version": "2012-10-17", "Statement": list(statements)})
    bound = parse_policy(boundary) if boundary is not None else None
    return PrincipalPolicies(
        f"arn:aws:iam::{ACCOUNT}:role/ci-runner", (NamedPolicy("inline ci-runner/p", policy),), bound
    )


def test_the_launch_allowance_applies_the_boundary() -> None:
    launch = _allow("iam:PassRole", "ec2:RunInstances")
    no_pass = {"Version": "2012-10-17", "Statement": [_allow("ec2:*")]}

    assert ec2_launch_allowance(_holder(launch), ADMIN_ARN) is not None
    assert ec2_launch_allowance(_holder(launch, boundary=no_pass), ADMIN_ARN) is None


def test_iamwarden_evaluate_judges_it_from_the_authorization_details_file(tmp_path: Path) -> None:
    """The CLI path: ``iamwarden evaluate --authorization-details FILE`` (the JSON the AWS CLI prints)."""
    details = tmp_path / "details.json"
    details.write_text(json.dumps(_details()))
    event = str(ROOT / "events" / SAMPLE)

    out, err = io.StringIO(), io.StringIO()
    code = main(["evaluate", "--authorization-details", str(details), event], stdout=out, stderr=err)

    assert (code, err.getvalue()) == (0, "")
    [finding] = [json.loads(line) for line in out.getvalue().splitlines()]
    assert (finding["verdict"], finding["rule"], finding["needs_context"]) == (
        "violation",
        "instance-profile-escalation",
        [],
    )
    assert [step["action"] for step in finding["plan"]] == ["remove_role_from_instance_profile"]
    assert finding["offending"][0]["principals"] == [f"arn:aws:iam::{ACCOUNT}:role/ci-runner"]


def _unreadable(name: str) -> dict[str, Any]:
    """A role whose attached policy the details do not hold: known to exist, its policies not known."""
    role: dict[str, Any] = _role(name, [])
    role["AttachedManagedPolicies"] = [{"PolicyName": "missing", "PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/missing"}]
    return role


def test_a_principal_that_cannot_be_read_leaves_it_alert_only_when_no_one_else_gains_it() -> None:
    details = _details(runner=[])
    details["RoleDetailList"].append(_unreadable("batch-runner"))

    [finding] = _judge(details).findings

    assert finding.severity == "high"
    assert finding.needs_context == ("whether role batch-runner may pass it to EC2 (their policies could not be read)",)
    assert "whether anyone may now pass it to EC2 is not known" in finding.reason


def test_one_principal_that_gains_it_settles_it_whatever_else_is_unread() -> None:
    details = _details()
    details["RoleDetailList"].append(_unreadable("batch-runner"))

    [finding] = _judge(details).findings

    assert finding.severity == "critical"
    assert finding.needs_context == ()
    assert finding.plan


def test_a_role_at_a_path_is_judged_by_its_real_arn() -> None:
    """Review final s10 finding 3: a PassRole grant on the role's path (role/fleet/*) reaches it; one on the ARN
    without the path names no role and gains nothing."""
    details = _details(
        runner=[_inline("launch", _allow("iam:PassRole", resource=f"arn:aws:iam::{ACCOUNT}:role/fleet/*"))]
    )
    details["RoleDetailList"][1]["RolePolicyList"].append(_inline("run", _allow("ec2:RunInstances")))
    admin = details["RoleDetailList"][0]
    admin["Path"] = "/fleet/"
    admin["Arn"] = f"arn:aws:iam::{ACCOUNT}:role/fleet/fleet-admin"
    [finding] = _judge(details).findings
    assert "role ci-runner (iam:PassRole by" in finding.reason

    pathless = f"arn:aws:iam::{ACCOUNT}:role/fleet-admin"
    details["RoleDetailList"][1]["RolePolicyList"] = [
        _inline("launch", _allow("iam:PassRole", "ec2:RunInstances", resource=pathless))
    ]
    assert _judge(details).findings == ()


def test_a_gain_that_rests_only_on_conditions_is_alerted_only() -> None:
    """Review final s10 finding 6: conditions are counted as met when reaching, so a finding resting on them only
    names them as unknown (never removed on that guess); iam:PassedToService is no such condition."""
    tagged = _allow("iam:PassRole", "ec2:RunInstances", Condition={"StringEquals": {"aws:RequestTag/team": "ci"}})
    [finding] = _judge(_details(runner=[_inline("launch", tagged)])).findings
    assert any("conditions on the grants that let role ci-runner" in need for need in finding.needs_context)

    to_ec2 = _allow("iam:PassRole", Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}})
    [finding] = _judge(
        _details(runner=[_inline("launch", to_ec2), _inline("run", _allow("ec2:RunInstances"))])
    ).findings
    assert finding.needs_context == ()


#: A permissions boundary whose PassRole (or launch) resource holds a variable IAM Warden cannot resolve: read as the
#: widest ceiling, it may well forbid the grant (issue 13, session 11: ``ec2_launch_allowance`` named no unknown).
_TAGGED_PASS = f"arn:aws:iam::{ACCOUNT}:role/${{aws:PrincipalTag/team}}-*"


def _boundary(pass_resource: str, run_resource: str = "*") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            _allow("iam:PassRole", resource=pass_resource),
            _allow("ec2:RunInstances", resource=run_resource),
        ],
    }


def test_the_launch_allowance_names_a_boundary_variable_that_may_cancel_the_pass_role() -> None:
    launch = _allow("iam:PassRole", "ec2:RunInstances")

    allowance = ec2_launch_allowance(_holder(launch, boundary=_boundary(_TAGGED_PASS)), ADMIN_ARN)

    assert allowance is not None
    assert allowance.unknown
    assert all("${aws:PrincipalTag/team}" in fact for fact in allowance.unknown)
    # Written literally, the boundary decides: nothing guessed.
    literal = ec2_launch_allowance(_holder(launch, boundary=_boundary(ADMIN_ARN)), ADMIN_ARN)
    assert literal is not None
    assert literal.unknown == ()


def test_the_launch_allowance_names_a_boundary_variable_that_may_cancel_the_launch() -> None:
    launch = _allow("iam:PassRole", "ec2:RunInstances")
    tagged_run = "arn:aws:ec2:*:*:instance/${aws:PrincipalTag/fleet}"

    allowance = ec2_launch_allowance(_holder(launch, boundary=_boundary(ADMIN_ARN, tagged_run)), ADMIN_ARN)

    assert allowance is not None
    assert allowance.launches == ("ec2:RunInstances",)
    assert any("${aws:PrincipalTag/fleet}" in fact for fact in allowance.unknown)


def test_the_launch_allowance_names_a_deny_variable_that_may_cancel_the_pass_role() -> None:
    launch = _allow("iam:PassRole", "ec2:RunInstances")
    guard = {"Effect": "Deny", "Action": "iam:PassRole", "Resource": _TAGGED_PASS.replace("-*", "*")}

    allowance = ec2_launch_allowance(_holder(launch, guard), ADMIN_ARN)

    assert allowance is not None
    assert any("${aws:PrincipalTag/team}" in fact for fact in allowance.unknown)


def test_a_gain_a_boundary_variable_may_cancel_is_alerted_only_naming_it() -> None:
    details = _details()
    details["RoleDetailList"][1]["PermissionsBoundary"] = {
        "PermissionsBoundaryType": "Policy",
        "PermissionsBoundaryArn": f"arn:aws:iam::{ACCOUNT}:policy/fence",
    }
    details["Policies"] = [
        {
            "PolicyName": "fence",
            "Arn": f"arn:aws:iam::{ACCOUNT}:policy/fence",
            "Path": "/",
            "DefaultVersionId": "v1",
            "AttachmentCount": 0,
            "PermissionsBoundaryUsageCount": 1,
            "IsAttachable": True,
            "PolicyVersionList": [{"Document": _boundary(_TAGGED_PASS), "VersionId": "v1", "IsDefaultVersion": True}],
        }
    ]

    [finding] = _judge(details).findings

    assert finding.severity == "critical"
    assert finding.needs_context
    assert any("${aws:PrincipalTag/team}" in need for need in finding.needs_context)
    # One gainer with nothing unknown settles it (as before): a second, plain runner.
    plain = _inline("launch", _allow("iam:PassRole", "ec2:RunInstances"))
    details["RoleDetailList"].append(_role("plain-runner", [plain]))
    [finding] = _judge(details).findings
    assert finding.needs_context == ()
