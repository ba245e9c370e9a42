"""The trust side of the STS edge live, in moto: an UpdateAssumeRolePolicy letting a weaker role into an admin role.

The enforcer reads the role and the principals it now lets in live (GetRole, their policies), takes the trust the
change replaced from the heartbeat's snapshot (``take_trust_snapshots``, taken before the change), puts it back in
remediate mode, and undo puts the event's trust back. Without a snapshot it only alerts; a role changed again since
the event is left alone; a second run changes nothing; the live directory drops its cached role on the event.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from iamwarden.adapters.recorded import AuditRecorded, take_trust_snapshots
from iamwarden.app.service import EnforcerService
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import Outcome
from iamwarden.domain.recorded import ROLE_TRUST
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

OPERATOR = f"arn:aws:iam::{HOME_ACCOUNT}:user/secops"
SAMPLE = "update-assume-role-policy-names-weaker-role.json"  # ops-admin now trusts role/app-deployer, 10:12:04Z
EC2_STATEMENT: dict[str, Any] = {
    "Effect": "Allow",
    "Principal": {"Service": "ec2.amazonaws.com"},
    "Action": "sts:AssumeRole",
}
EC2: dict[str, Any] = {"Version": "2012-10-17", "Statement": [EC2_STATEMENT]}
ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
READ = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


def _event_trust() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(load_event(SAMPLE)["detail"]["requestParameters"]["policyDocument"])
    return document


def _trust(account: Account) -> dict[str, Any]:
    document: dict[str, Any] = account.iam.get_role(RoleName="ops-admin")["Role"]["AssumeRolePolicyDocument"]
    return document


def _opened(account: Account, *, snapshot: bool = True, before: dict[str, Any] = EC2) -> None:
    """ops-admin (admin, trusting EC2, snapshotted before the change), app-deployer (reads S3); then the change."""
    account.iam.create_role(RoleName="ops-admin", AssumeRolePolicyDocument=json.dumps(before))
    account.iam.put_role_policy(RoleName="ops-admin", PolicyName="admin", PolicyDocument=json.dumps(ADMIN))
    account.iam.create_role(RoleName="app-deployer", AssumeRolePolicyDocument=json.dumps(EC2))
    account.iam.put_role_policy(RoleName="app-deployer", PolicyName="read", PolicyDocument=json.dumps(READ))
    if snapshot:
        snapshots = take_trust_snapshots(account.iam, HOME_ACCOUNT, "2026-11-22T10:00:00Z")
        assert {s.resource_arn for s in snapshots} >= {f"arn:aws:iam::{HOME_ACCOUNT}:role/ops-admin"}
        AuditRecorded(account.audit(), account.dynamodb).put_all(snapshots)
    account.iam.update_assume_role_policy(RoleName="ops-admin", PolicyDocument=json.dumps(_event_trust()))
    account.set("rules/privilege-escalation/mode", "remediate")


def _again(event_id: str) -> dict[str, Any]:
    event = load_event(SAMPLE)
    event["detail"]["eventID"] = event_id
    return event


def test_the_previous_trust_goes_back_and_undo_puts_the_event_s_trust_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    _opened(account)

    [finding] = enforcer.handle(load_event(SAMPLE))["findings"]

    assert finding["outcome"] == Outcome.REMEDIATED
    [alert] = notifier.sent
    assert alert.finding is not None
    assert alert.finding.rule_id == "privilege-escalation"
    assert alert.finding.severity.value == "critical"
    assert "role app-deployer (named in the trust policy)" in alert.finding.reason
    assert finding["done"] == ["put back the trust policy of role ops-admin as it was before the change"]
    assert _trust(account) == EC2
    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert list(undo.restored) == ["put the trust policy of role ops-admin back as the event set it"]
    assert _trust(account) == _event_trust()


def test_a_second_run_changes_nothing(account: Account, enforcer: EnforcerService) -> None:
    _opened(account)
    [first] = enforcer.handle(load_event(SAMPLE))["findings"]
    assert first["outcome"] == Outcome.REMEDIATED

    [second] = enforcer.handle(_again("00000000-0000-4000-8000-0000000c0002"))["findings"]

    assert second["done"] == []
    assert _trust(account) == EC2


def test_a_trust_changed_again_since_the_event_is_left_alone(account: Account, enforcer: EnforcerService) -> None:
    _opened(account)
    later = {**EC2, "Statement": [EC2_STATEMENT, {"Sid": "Later", **EC2_STATEMENT}]}
    account.iam.update_assume_role_policy(RoleName="ops-admin", PolicyDocument=json.dumps(later))

    [finding] = enforcer.handle(load_event(SAMPLE))["findings"]

    assert finding["done"] == []
    assert _trust(account) == later


def test_undo_after_another_change_refuses(account: Account, enforcer: EnforcerService) -> None:
    _opened(account)
    [finding] = enforcer.handle(load_event(SAMPLE))["findings"]
    account.iam.update_assume_role_policy(RoleName="ops-admin", PolicyDocument=json.dumps(_event_trust()))
    changed = {**EC2, "Statement": [{"Sid": "Other", **EC2_STATEMENT}]}
    account.iam.update_assume_role_policy(RoleName="ops-admin", PolicyDocument=json.dumps(changed))

    with pytest.raises(UndoError, match="changed since the remediation"):
        enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _trust(account) == changed


def test_without_a_snapshot_it_is_alerted_only(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    _opened(account, snapshot=False)

    [finding] = enforcer.handle(load_event(SAMPLE))["findings"]

    assert finding["outcome"] != Outcome.REMEDIATED
    [alert] = notifier.sent
    assert alert.finding is not None
    assert alert.finding.needs_context == (
        "what trust policy role ops-admin had before (IAM Warden has no snapshot of it)",
    )
    assert _trust(account) == _event_trust()


def test_an_equally_strong_principal_is_no_finding(account: Account, enforcer: EnforcerService) -> None:
    _opened(account)
    account.iam.put_role_policy(RoleName="app-deployer", PolicyName="admin", PolicyDocument=json.dumps(ADMIN))

    result = enforcer.handle(load_event(SAMPLE))

    assert (result["verdict"], result["findings"]) == ("compliant", [])
    assert _trust(account) == _event_trust()


def test_the_live_directory_drops_a_role_whose_trust_changed(account: Account, enforcer: EnforcerService) -> None:
    """A cached role carries its trust policy; UpdateAssumeRolePolicy must drop it (issue 13 item 4)."""
    _opened(account)
    directory = enforcer.directory
    assert directory is not None
    arn = f"arn:aws:iam::{HOME_ACCOUNT}:role/ops-admin"
    cached = directory.principal(arn)
    assert cached is not None
    assert cached.trust is not None
    account.iam.update_assume_role_policy(RoleName="ops-admin", PolicyDocument=json.dumps(EC2))

    directory.observe(load_event(SAMPLE))

    found = directory.principal(arn)
    assert found is not None
    assert found.trust is not None
    assert dict(found.trust.raw) == EC2


def test_the_heartbeat_snapshot_holds_every_role_s_trust(account: Account) -> None:
    account.iam.create_role(RoleName="ops-admin", AssumeRolePolicyDocument=json.dumps(EC2))

    [snapshot] = [
        s
        for s in take_trust_snapshots(account.iam, HOME_ACCOUNT, "2026-11-22T10:00:00Z")
        if s.resource_arn.endswith("role/ops-admin")
    ]

    assert (snapshot.kind, snapshot.data) == (ROLE_TRUST, {"trust_policy": EC2})


def test_a_second_change_within_one_heartbeat_window_is_judged_against_the_first_not_the_older_snapshot(
    account: Account, enforcer: EnforcerService
) -> None:
    """Review finding: the heartbeat's snapshot predates both changes; the first change, alerted and left in force
    (privilege-escalation in alert mode), is what the second replaced. The enforcer keeps what each judged change
    set, so a restore of the second puts back the first change's trust, never the older snapshot's."""
    first = {**EC2, "Statement": [EC2_STATEMENT, {"Sid": "First", **EC2_STATEMENT}]}
    account.iam.create_role(RoleName="ops-admin", AssumeRolePolicyDocument=json.dumps(EC2))
    account.iam.put_role_policy(RoleName="ops-admin", PolicyName="admin", PolicyDocument=json.dumps(ADMIN))
    account.iam.create_role(RoleName="app-deployer", AssumeRolePolicyDocument=json.dumps(EC2))
    account.iam.put_role_policy(RoleName="app-deployer", PolicyName="read", PolicyDocument=json.dumps(READ))
    AuditRecorded(account.audit(), account.dynamodb).put_all(
        take_trust_snapshots(account.iam, HOME_ACCOUNT, "2026-11-22T10:00:00Z")
    )
    earlier = load_event(SAMPLE)
    earlier["detail"]["eventID"] = "00000000-0000-4000-8000-0000000c0010"
    earlier["detail"]["eventTime"] = "2026-11-22T10:05:00Z"
    earlier["detail"]["requestParameters"]["policyDocument"] = json.dumps(first)
    account.iam.update_assume_role_policy(RoleName="ops-admin", PolicyDocument=json.dumps(first))
    assert enforcer.handle(earlier)["findings"] == []  # EC2 twice: nothing weaker let in; kept as the "before"
    recorded = AuditRecorded(account.audit(), account.dynamodb).snapshot(
        ROLE_TRUST, f"arn:aws:iam::{HOME_ACCOUNT}:role/ops-admin"
    )
    assert recorded is not None
    assert recorded.data["trust_policy"] == first

    account.iam.update_assume_role_policy(RoleName="ops-admin", PolicyDocument=json.dumps(_event_trust()))
    account.set("rules/privilege-escalation/mode", "remediate")
    [finding] = enforcer.handle(load_event(SAMPLE))["findings"]

    assert finding["outcome"] == Outcome.REMEDIATED
    assert _trust(account) == first  # the first change's trust, not the heartbeat's EC2-only snapshot


def _deployer_from(network: str) -> dict[str, Any]:
    """The sample's trust (app-deployer named), only from ``network``: a condition IAM Warden does not read exactly."""
    document = _event_trust()
    document["Statement"][0]["Condition"] = {"IpAddress": {"aws:SourceIp": network}}
    return document


def test_an_old_condition_not_read_exactly_is_alerted_never_put_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Never remediate on a guess: app-deployer was let in before from 10.0.0.0/8; whether it called from there is
    not known, so dropping the condition is not a certain gain. Alert-only, naming the condition; the trust stays."""
    _opened(account, before=_deployer_from("10.0.0.0/8"))

    [finding] = enforcer.handle(load_event(SAMPLE))["findings"]

    assert finding["outcome"] != Outcome.REMEDIATED
    [alert] = notifier.sent
    assert alert.finding is not None
    assert (alert.finding.severity.value, alert.finding.plan) == ("high", ())
    assert alert.finding.needs_context == (
        "whether role app-deployer could assume role ops-admin before the change (the trust policy it replaced may "
        "have let it in: statement 0 (AppDeployer) if IpAddress aws:sourceip 10.0.0.0/8 held (not read exactly here))",
    )
    assert _trust(account) == _event_trust()


def test_narrowing_the_old_address_range_is_no_finding(account: Account, enforcer: EnforcerService) -> None:
    """The brief's case: the same trust from 10.0.0.0/16 instead of 10.0.0.0/8 lets in no one it did not already."""
    narrower = _deployer_from("10.0.0.0/16")
    _opened(account, before=_deployer_from("10.0.0.0/8"))
    account.iam.update_assume_role_policy(RoleName="ops-admin", PolicyDocument=json.dumps(narrower))
    event = load_event(SAMPLE)
    event["detail"]["requestParameters"]["policyDocument"] = json.dumps(narrower)

    result = enforcer.handle(event)

    assert (result["verdict"], result["findings"]) == ("compliant", [])
    assert _trust(account) == narrower
