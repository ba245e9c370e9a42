"""instance-profile-escalation live (moto): the enforcer reads the role, its profiles and every principal of the
account, removes exactly the role the event put into the profile, and undo puts it back."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from iamwarden.app.service import EnforcerService
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import Outcome
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

SAMPLE = "add-role-to-instance-profile-admin.json"
RULE = "instance-profile-escalation"
EC2_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
LAUNCH = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances"], "Resource": "*"}],
}


def _profile_roles(account: Account, profile: str = "fleet-admin-profile") -> list[str]:
    roles = account.iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]["Roles"]
    return [role["RoleName"] for role in roles]


def _admin_entered_profile(account: Account, *, launcher: dict[str, Any] | None = LAUNCH) -> dict[str, Any]:
    """fleet-admin (AdministratorAccess, EC2 may assume it) put into fleet-admin-profile; ci-runner holds
    ``launcher``."""
    iam = account.iam
    iam.create_role(RoleName="fleet-admin", AssumeRolePolicyDocument=EC2_TRUST)
    iam.attach_role_policy(RoleName="fleet-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.create_role(RoleName="ci-runner", AssumeRolePolicyDocument=EC2_TRUST)
    if launcher is not None:
        iam.put_role_policy(RoleName="ci-runner", PolicyName="launch", PolicyDocument=json.dumps(launcher))
    iam.create_instance_profile(InstanceProfileName="fleet-admin-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="fleet-admin-profile", RoleName="fleet-admin")
    return copy.deepcopy(load_event(SAMPLE))


def _finding(result: dict[str, Any]) -> dict[str, Any]:
    [finding] = [f for f in result["findings"] if f["rule"] == RULE]
    return dict(finding)


def test_an_admin_role_others_may_launch_is_taken_out_of_the_profile_and_undo_puts_it_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set(f"rules/{RULE}/mode", "remediate")
    event = _admin_entered_profile(account)

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] == Outcome.REMEDIATED
    assert finding["done"] == ["removed role fleet-admin from instance profile fleet-admin-profile"]
    assert _profile_roles(account) == []
    [alert] = [sent for sent in notifier.sent if sent.finding is not None]
    assert alert.finding is not None
    assert "role ci-runner (iam:PassRole by statement 0 of inline ci-runner/launch" in alert.finding.reason
    assert alert.finding.needs_context == ()

    undo = enforcer.executor.undo(finding["remediation_id"])

    assert undo.restored == ("put role fleet-admin back into instance profile fleet-admin-profile",)
    assert _profile_roles(account) == ["fleet-admin"]


def test_in_alert_mode_nothing_is_changed(account: Account, enforcer: EnforcerService) -> None:
    event = _admin_entered_profile(account)

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] == Outcome.ALERTED
    assert _profile_roles(account) == ["fleet-admin"]


def test_nobody_who_may_launch_it_is_compliant(account: Account, enforcer: EnforcerService) -> None:
    account.set(f"rules/{RULE}/mode", "remediate")
    event = _admin_entered_profile(account, launcher=None)

    result = enforcer.handle(event)

    assert RULE not in {f["rule"] for f in result["findings"]}
    assert _profile_roles(account) == ["fleet-admin"]


def test_a_role_also_in_another_profile_is_alerted_and_left_alone(account: Account, enforcer: EnforcerService) -> None:
    """Live, the role's profiles are read after the event: another one may have been added after it too (review
    final s10 finding 2: two quick adds made each other look old), so it is alerted, never removed on that guess."""
    account.set(f"rules/{RULE}/mode", "remediate")
    event = _admin_entered_profile(account)
    account.iam.create_instance_profile(InstanceProfileName="legacy-admin-profile")
    account.iam.add_role_to_instance_profile(InstanceProfileName="legacy-admin-profile", RoleName="fleet-admin")

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] != "remediated"
    assert _profile_roles(account) == ["fleet-admin"]


def test_a_role_taken_out_since_is_already_done(account: Account, enforcer: EnforcerService) -> None:
    """The remediation reads the profile first: the role gone from it by then, nothing is written."""
    account.set(f"rules/{RULE}/mode", "remediate")
    event = _admin_entered_profile(account)
    account.iam.remove_role_from_instance_profile(InstanceProfileName="fleet-admin-profile", RoleName="fleet-admin")

    finding = _finding(enforcer.handle(event))

    assert finding["done"] == []
    assert _profile_roles(account) == []


def test_undo_refuses_a_profile_that_holds_another_role_now(account: Account, enforcer: EnforcerService) -> None:
    account.set(f"rules/{RULE}/mode", "remediate")
    event = _admin_entered_profile(account)
    finding = _finding(enforcer.handle(event))
    account.iam.add_role_to_instance_profile(InstanceProfileName="fleet-admin-profile", RoleName="ci-runner")

    with pytest.raises(UndoError, match="now holds role ci-runner"):
        enforcer.executor.undo(finding["remediation_id"])

    assert _profile_roles(account) == ["ci-runner"]


def test_undo_refuses_a_deleted_profile(account: Account, enforcer: EnforcerService) -> None:
    account.set(f"rules/{RULE}/mode", "remediate")
    event = _admin_entered_profile(account)
    finding = _finding(enforcer.handle(event))
    account.iam.delete_instance_profile(InstanceProfileName="fleet-admin-profile")

    with pytest.raises(UndoError, match="no longer exists"):
        enforcer.executor.undo(finding["remediation_id"])


def test_a_launcher_whose_boundary_variable_may_forbid_the_pass_is_alerted_not_remediated(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Issue 13 (session 11): ci-runner's permissions boundary allows PassRole only on roles named by its ``team`` tag,
    which IAM Warden cannot know: whether ci-runner may pass fleet-admin is a guess, so nothing is removed."""
    account.set(f"rules/{RULE}/mode", "remediate")
    event = _admin_entered_profile(account)
    fence = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::*:role/${aws:PrincipalTag/team}-*"},
            {"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*"},
        ],
    }
    arn = account.iam.create_policy(PolicyName="fence", PolicyDocument=json.dumps(fence))["Policy"]["Arn"]
    account.iam.put_role_permissions_boundary(RoleName="ci-runner", PermissionsBoundary=arn)

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] == Outcome.ALERTED
    [alert] = [sent for sent in notifier.sent if sent.finding is not None]
    assert alert.finding is not None
    assert any("${aws:PrincipalTag/team}" in need for need in alert.finding.needs_context)
    assert _profile_roles(account) == ["fleet-admin"]
