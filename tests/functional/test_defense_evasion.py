"""Defense evasion end to end in moto: a trail put back from IAM Warden's own snapshot, and the snapshot itself.

The contract test (test_guardrail_contract.py) covers StopLogging and the other detectors; here the
changes that need the trail's previous configuration: selectors that drop management events, a trail
pointed at another bucket, a deleted trail. Each is restored exactly as the snapshot has it and undone
exactly; without a snapshot the finding is alerted and nothing changes. The snapshot is taken by the
same reader the heartbeat uses (``take_trail_snapshots``) and never of a trail in a bad state.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from iamwarden.adapters.audit import AuditStatus
from iamwarden.adapters.recorded import AuditRecorded, take_trail_snapshots
from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Outcome
from iamwarden.domain.recorded import TRAIL
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

REGION = "eu-west-1"
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{HOME_ACCOUNT}:trail/org-audit"
OPERATOR = f"arn:aws:iam::{HOME_ACCOUNT}:user/secops"
EVERY_MANAGEMENT_EVENT = [
    {
        "ReadWriteType": "All",
        "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::acme-invoices/"]}],
        "ExcludeManagementEventSources": [],
    }
]
#: What the sample ``cloudtrail-event-selectors-no-management.json`` sets, as the API takes it (the restore acts only
#: while the trail still holds the event's selectors).
NO_MANAGEMENT_EVENT = [
    {
        "ReadWriteType": "ReadOnly",
        "IncludeManagementEvents": False,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": []}, {"Type": "AWS::Lambda::Function", "Values": []}],
        "ExcludeManagementEventSources": [],
    }
]


def _cloudtrail(account: Account) -> Any:
    return account.session.client("cloudtrail", region_name=REGION)


def _good_trail(account: Account) -> None:
    for bucket in ("acme-cloudtrail-logs", "exfil-logs-9f2c"):
        account.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    cloudtrail = _cloudtrail(account)
    cloudtrail.create_trail(Name="org-audit", S3BucketName="acme-cloudtrail-logs", IsMultiRegionTrail=True)
    cloudtrail.put_event_selectors(TrailName="org-audit", EventSelectors=EVERY_MANAGEMENT_EVENT)
    cloudtrail.start_logging(Name="org-audit")


def _snapshot(account: Account) -> int:
    """What the heartbeat does for this account and region."""
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    return recorded.put_all(take_trail_snapshots(_cloudtrail(account), HOME_ACCOUNT, REGION, "2026-11-20T09:00:00Z"))


def _state(account: Account) -> dict[str, Any]:
    cloudtrail = _cloudtrail(account)
    trails = cloudtrail.describe_trails(trailNameList=[TRAIL_ARN])["trailList"]
    if not trails:
        return {"exists": False}
    [trail] = trails
    return {
        "exists": True,
        "bucket": trail["S3BucketName"],
        "multi_region": trail["IsMultiRegionTrail"],
        "logging": cloudtrail.get_trail_status(Name=TRAIL_ARN)["IsLogging"],
        "selectors": cloudtrail.get_event_selectors(TrailName=TRAIL_ARN).get("EventSelectors"),
    }


def _handle(enforcer: EnforcerService, event: dict[str, Any]) -> dict[str, Any]:
    [finding] = enforcer.handle(copy.deepcopy(event))["findings"]
    assert finding["rule"] == "cloudtrail-logging-impaired"
    return dict(finding)


def _drop_management_events(account: Account) -> dict[str, Any]:
    _cloudtrail(account).put_event_selectors(TrailName="org-audit", EventSelectors=NO_MANAGEMENT_EVENT)
    return load_event("cloudtrail-event-selectors-no-management.json")


def _point_elsewhere(account: Account) -> dict[str, Any]:
    _cloudtrail(account).update_trail(Name="org-audit", S3BucketName="exfil-logs-9f2c", IsMultiRegionTrail=False)
    return load_event("cloudtrail-update-trail-bucket.json")


def _delete(account: Account) -> dict[str, Any]:
    _cloudtrail(account).delete_trail(Name="org-audit")
    return load_event("cloudtrail-delete-trail.json")


@pytest.mark.parametrize("attack", [_drop_management_events, _point_elsewhere, _delete], ids=lambda f: f.__name__)
def test_a_narrowed_trail_is_put_back_from_the_snapshot_and_undo_is_exact(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, attack: Any
) -> None:
    _good_trail(account)
    assert _snapshot(account) == 1
    good = _state(account)
    account.set("rules/cloudtrail-logging-impaired/mode", "remediate")
    event = attack(account)
    attacked = _state(account)
    assert attacked != good

    finding = _handle(enforcer, event)

    assert finding["outcome"] == Outcome.REMEDIATED, finding
    assert _state(account) == good
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.before == [{"trail": None}] if attack is _delete else record.before[0]["trail"] is not None
    assert record.plan[0]["parameters"]["taken_at"] == "2026-11-20T09:00:00Z"
    [alert] = notifier.sent
    assert alert.outcome is Outcome.REMEDIATED

    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)

    assert undo.restored
    after_undo = _state(account)
    assert after_undo == (attacked if attack is not _delete else {"exists": False})


def test_a_redirected_trail_read_by_the_heartbeat_after_the_change_is_still_critical_and_never_compliant(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Audit s7 gap 4, P4: the heartbeat snapshotted the trail after the bucket redirect (09:04:00, event 09:03:41).
    That snapshot is no "before": the change is judged without it (critical, alert-only), never "still logs"."""
    _good_trail(account)
    _snapshot(account)
    account.set("rules/cloudtrail-logging-impaired/mode", "remediate")
    event = _point_elsewhere(account)
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    recorded.put_all(take_trail_snapshots(_cloudtrail(account), HOME_ACCOUNT, REGION, "2026-11-20T09:04:00Z"))

    finding = _handle(enforcer, event)

    assert finding["outcome"] == Outcome.ALERTED
    assert _state(account)["bucket"] == "exfil-logs-9f2c"
    [alert] = notifier.sent
    assert alert.finding is not None
    assert alert.finding.severity.value == "critical"
    assert "not before the change" in alert.finding.needs_context[0]


def test_a_selector_restore_leaves_a_later_setting_change_alone(account: Account, enforcer: EnforcerService) -> None:
    """Audit s7 gap 4, P5: after the intruder's selectors an operator turns log file validation on; the restore
    puts back the selectors only (what the event changed), not the snapshot's validation setting."""
    _good_trail(account)
    _snapshot(account)
    account.set("rules/cloudtrail-logging-impaired/mode", "remediate")
    event = _drop_management_events(account)
    _cloudtrail(account).update_trail(Name="org-audit", EnableLogFileValidation=True)

    finding = _handle(enforcer, event)

    assert finding["outcome"] == Outcome.REMEDIATED
    assert finding["done"] == ["put the event selectors of trail org-audit back"]
    trail = _cloudtrail(account).describe_trails(trailNameList=["org-audit"])["trailList"][0]
    assert trail["LogFileValidationEnabled"] is True


def test_selectors_changed_again_since_the_event_are_left_to_their_own_event(
    account: Account, enforcer: EnforcerService
) -> None:
    """The trail no longer holds what the event set: nothing is put back (the later change is judged by its own)."""
    _good_trail(account)
    _snapshot(account)
    account.set("rules/cloudtrail-logging-impaired/mode", "remediate")
    event = _drop_management_events(account)
    later = [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]
    _cloudtrail(account).put_event_selectors(TrailName="org-audit", EventSelectors=later)

    finding = _handle(enforcer, event)

    assert finding["done"] == []
    [selector] = _state(account)["selectors"]
    assert selector["ReadWriteType"] == "WriteOnly"
    assert enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR).status == AuditStatus.UNDO
    assert _state(account)["selectors"][0]["ReadWriteType"] == "WriteOnly", "undo of nothing done changes nothing"


def test_without_a_snapshot_the_finding_is_alerted_and_the_trail_left_alone(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    _good_trail(account)
    account.set("rules/cloudtrail-logging-impaired/mode", "remediate")
    event = _drop_management_events(account)
    attacked = _state(account)

    finding = _handle(enforcer, event)

    assert finding["outcome"] == Outcome.ALERTED
    assert _state(account) == attacked
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.status == AuditStatus.ALERTED
    assert "no snapshot" in (record.error or "")
    [alert] = notifier.sent
    assert alert.finding is not None
    assert alert.finding.needs_context


def test_a_trail_in_a_bad_state_is_never_snapshotted(account: Account) -> None:
    _good_trail(account)
    _cloudtrail(account).put_event_selectors(TrailName="org-audit", EventSelectors=NO_MANAGEMENT_EVENT)
    assert _snapshot(account) == 0
    _cloudtrail(account).put_event_selectors(TrailName="org-audit", EventSelectors=EVERY_MANAGEMENT_EVENT)
    _cloudtrail(account).stop_logging(Name="org-audit")
    assert _snapshot(account) == 0
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    assert recorded.snapshot(TRAIL, TRAIL_ARN) is None


def test_a_snapshot_reads_back_as_written_and_is_no_remediation(account: Account) -> None:
    _good_trail(account)
    _snapshot(account)
    recorded = AuditRecorded(account.audit(), account.dynamodb)

    snapshot = recorded.snapshot(TRAIL, TRAIL_ARN)

    assert snapshot is not None
    assert snapshot.data["settings"]["S3BucketName"] == "acme-cloudtrail-logs"
    assert snapshot.data["event_selectors"] == EVERY_MANAGEMENT_EVENT
    assert snapshot.data["logging"] is True
    assert recorded.remediations(TRAIL_ARN) == []
    assert account.audit().history(TRAIL_ARN) == [], "snapshots stay out of the audit table's indexes"
