"""A boundary replaced by a wider one, in moto: the previous boundary (the heartbeat's snapshot) goes back, undo puts
the wider one back, a second run changes nothing and a boundary changed again since the event is kept."""

from __future__ import annotations

import json
from typing import Any

from iamwarden.adapters.recorded import AuditRecorded, take_boundary_snapshots
from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Outcome
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

OPERATOR = f"arn:aws:iam::{HOME_ACCOUNT}:user/secops"
SAMPLE = "put-role-permissions-boundary-wider.json"  # team-deployer gets deployer-boundary-wide, at 09:25:12Z


def _policy(account: Account, name: str, *actions: str) -> str:
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}
    return str(account.iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document))["Policy"]["Arn"])


def _boundary(account: Account) -> str | None:
    role = account.iam.get_role(RoleName="team-deployer")["Role"]
    boundary = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
    return None if boundary is None else str(boundary)


def _widened(account: Account) -> tuple[str, str]:
    """team-deployer bounded by deployer-boundary (snapshotted before the change), then by deployer-boundary-wide."""
    previous = _policy(account, "deployer-boundary", "s3:GetObject", "s3:PutObject")
    wide = _policy(account, "deployer-boundary-wide", "s3:GetObject", "s3:PutObject", "sqs:SendMessage")
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    account.iam.create_role(RoleName="team-deployer", AssumeRolePolicyDocument=trust, PermissionsBoundary=previous)
    snapshots = take_boundary_snapshots(account.iam, HOME_ACCOUNT, "2026-11-20T09:20:00Z")
    AuditRecorded(account.audit(), account.dynamodb).put_all(snapshots)
    account.iam.put_role_permissions_boundary(RoleName="team-deployer", PermissionsBoundary=wide)
    account.set("rules/permissions-boundary-weakened/mode", "remediate")
    return previous, wide


def _again(event_id: str) -> dict[str, Any]:
    event = load_event(SAMPLE)
    event["detail"]["eventID"] = event_id
    return event


def test_a_wider_boundary_is_replaced_by_the_previous_one_and_undo_puts_it_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    previous, wide = _widened(account)

    [finding] = enforcer.handle(load_event(SAMPLE))["findings"]

    assert finding["outcome"] == Outcome.REMEDIATED
    [alert] = notifier.sent
    assert alert.finding is not None
    assert alert.finding.severity.value == "medium"
    assert "allows sqs:sendmessage on *" in alert.finding.reason
    assert finding["done"] == [f"put permissions boundary {previous} back on role team-deployer"]
    assert _boundary(account) == previous
    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert list(undo.restored) == [f"put permissions boundary {wide} on role team-deployer again, as before"]
    assert _boundary(account) == wide


def test_a_second_run_changes_nothing(account: Account, enforcer: EnforcerService) -> None:
    previous, _ = _widened(account)
    [first] = enforcer.handle(load_event(SAMPLE))["findings"]
    assert first["outcome"] == Outcome.REMEDIATED

    [second] = enforcer.handle(_again("00000000-0000-4000-8000-0000000b0002"))["findings"]

    assert second["done"] == []
    assert _boundary(account) == previous


def test_a_boundary_changed_again_since_the_event_is_kept(account: Account, enforcer: EnforcerService) -> None:
    _widened(account)
    later = _policy(account, "deployer-boundary-later", "s3:GetObject")
    account.iam.put_role_permissions_boundary(RoleName="team-deployer", PermissionsBoundary=later)

    [finding] = enforcer.handle(load_event(SAMPLE))["findings"]

    assert finding["done"] == []
    assert _boundary(account) == later


def test_a_narrower_boundary_is_left_alone(account: Account, enforcer: EnforcerService) -> None:
    previous, _ = _widened(account)
    narrow = _policy(account, "deployer-boundary-narrow", "s3:GetObject")
    account.iam.put_role_permissions_boundary(RoleName="team-deployer", PermissionsBoundary=narrow)
    event = load_event(SAMPLE)
    event["detail"]["requestParameters"]["permissionsBoundary"] = narrow

    result = enforcer.handle(event)

    assert (result["verdict"], result["findings"]) == ("compliant", [])
    assert _boundary(account) == narrow
    assert previous != narrow
