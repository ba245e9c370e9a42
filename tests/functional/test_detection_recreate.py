"""A deleted GuardDuty detector or AWS Config recorder put back by the enforcer as Lambda wires it, from the snapshot
the heartbeat took before the delete, and undone with ``iamwarden undo``'s executor (issue 15 item 3). moto has both
services' create, read and delete; GuardDuty's TagResource is answered through botocore's hooks (moto: "Not yet
implemented"). Refusals are injected the same way, as AWS answers them (403 AccessDeniedException)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from iamwarden.adapters.audit import AuditRecord, AuditStatus
from iamwarden.adapters.recorded import AuditRecorded, take_detector_snapshots, take_recorder_snapshots
from iamwarden.app.heartbeat import SnapshotRefresh
from iamwarden.app.service import EnforcementFailedError, EnforcerService
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import Outcome
from iamwarden.domain.recorded import CONFIG_RECORDER, GUARDDUTY_DETECTOR
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

OPERATOR = f"arn:aws:iam::{HOME_ACCOUNT}:user/secops"
REGION = "eu-west-1"
BEFORE = "2026-11-20T09:00:00.000+00:00"  # the heartbeat's snapshot: before both samples' changes
ROLE = f"arn:aws:iam::{HOME_ACCOUNT}:role/config-recorder"
RECORDER_ARN = f"arn:aws:config:{REGION}:{HOME_ACCOUNT}:configuration-recorder/default"


def _refuse(client: Any, operation: str, code: str = "AccessDeniedException") -> None:
    """``operation`` on ``client`` refused as AWS refuses it (a 403 with the error's code)."""

    def refused(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Error": {"Code": code, "Message": f"not authorized to perform {operation}"}}
        return AWSResponse("https://aws.amazon.com/", 403, HTTPHeaders(), None), error

    client.meta.events.register(f"before-call.*.{operation}", refused, unique_id=f"refuse-{operation}")


def _allow(client: Any, operation: str) -> None:
    client.meta.events.unregister(f"before-call.*.{operation}", unique_id=f"refuse-{operation}")


def _failed(enforcer: EnforcerService, event: dict[str, Any]) -> AuditRecord:
    with pytest.raises(EnforcementFailedError) as raised:
        enforcer.handle(copy.deepcopy(event))
    [failure] = raised.value.failures
    assert failure.record.status == AuditStatus.FAILED
    return failure.record


def _only(result: dict[str, Any]) -> dict[str, Any]:
    [finding] = result["findings"]
    return dict(finding)


# --- GuardDuty ---------------------------------------------------------------------------------------


def _guardduty(enforcer: EnforcerService) -> Any:
    """The enforcer's own GuardDuty client in the event's account and region (the one its steps call)."""
    client = enforcer.executor.clients.client("guardduty", HOME_ACCOUNT, REGION)

    def tagged(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://guardduty.amazonaws.com/", 204, HTTPHeaders(), None), {}

    client.meta.events.register("before-call.guardduty.TagResource", tagged, unique_id="answer-tag-resource")
    return client


def _mine(account: Account) -> Any:
    return account.session.client("guardduty", region_name=REGION)


def _enabled_then_deleted(account: Account, enforcer: EnforcerService, *, snapshot: bool = True) -> dict[str, Any]:
    """A detector enabled (15-minute findings, S3 data events on), snapshotted by the heartbeat, then deleted: the
    sample event naming it."""
    mine = _mine(account)
    detector = mine.create_detector(
        Enable=True,
        FindingPublishingFrequency="FIFTEEN_MINUTES",
        Features=[{"Name": "S3_DATA_EVENTS", "Status": "ENABLED"}],
    )["DetectorId"]
    if snapshot:
        AuditRecorded(account.audit(), account.dynamodb).put_all(
            take_detector_snapshots(mine, HOME_ACCOUNT, REGION, BEFORE)
        )
    mine.delete_detector(DetectorId=detector)
    account.set("rules/guardduty-disabled/mode", "remediate")
    _guardduty(enforcer)
    event = load_event("guardduty-detector-deleted.json")
    event["account"] = event["detail"]["recipientAccountId"] = HOME_ACCOUNT
    event["detail"]["requestParameters"]["detectorId"] = detector
    return event


def _detectors(account: Account) -> list[str]:
    return list(_mine(account).list_detectors()["DetectorIds"])


def test_a_deleted_detector_is_re_created_from_the_snapshot_and_undo_deletes_exactly_it(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    event = _enabled_then_deleted(account, enforcer)

    finding = _only(enforcer.handle(copy.deepcopy(event)))

    assert finding["outcome"] == Outcome.REMEDIATED
    [made] = _detectors(account)
    detector = _mine(account).get_detector(DetectorId=made)
    assert (detector["Status"], detector["FindingPublishingFrequency"]) == ("ENABLED", "FIFTEEN_MINUTES")
    assert detector["Features"] == [{"Name": "S3_DATA_EVENTS", "Status": "ENABLED"}]
    assert finding["done"][0].endswith(f"(now {made})")
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.plan[0]["parameters"]["taken_at"] == BEFORE  # the audit shows what is put back
    assert record.plan[0]["parameters"]["snapshot"]["finding_publishing_frequency"] == "FIFTEEN_MINUTES"
    kept = AuditRecorded(account.audit(), account.dynamodb).snapshot(
        GUARDDUTY_DETECTOR, f"arn:aws:guardduty:{REGION}:{HOME_ACCOUNT}:detector/{made}"
    )
    assert kept is not None  # a second delete is re-created too
    [alert] = notifier.sent
    assert alert.finding is not None
    assert "threat lists" in alert.finding.reason

    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)

    assert list(undo.restored) == [
        f"deleted GuardDuty detector {made}, which IAM Warden re-created: {REGION} has no detector, as before"
    ]
    assert _detectors(account) == []


def test_a_detector_already_back_is_left_alone_and_said(account: Account, enforcer: EnforcerService) -> None:
    event = _enabled_then_deleted(account, enforcer)
    theirs = _mine(account).create_detector(Enable=True)["DetectorId"]  # the delegated administrator's, say

    finding = _only(enforcer.handle(copy.deepcopy(event)))

    assert finding["outcome"] == Outcome.REMEDIATED
    assert finding["done"] == [
        f"nothing re-created: GuardDuty has an enabled detector in {REGION} again ({theirs}), so it is on there (a "
        "region has one detector at most)"
    ]
    assert _detectors(account) == [theirs]
    assert list(enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR).restored) == []
    assert _detectors(account) == [theirs], "undo deletes only what IAM Warden created"


def test_a_suspended_detector_made_since_is_enabled_and_undo_suspends_it_again(
    account: Account, enforcer: EnforcerService
) -> None:
    event = _enabled_then_deleted(account, enforcer)
    theirs = _mine(account).create_detector(Enable=False)["DetectorId"]  # an intruder's CreateDetector: no route

    finding = _only(enforcer.handle(copy.deepcopy(event)))

    assert finding["outcome"] == Outcome.REMEDIATED
    assert _detectors(account) == [theirs]
    assert _mine(account).get_detector(DetectorId=theirs)["Status"] == "ENABLED"
    assert finding["done"] == [
        f"enabled GuardDuty detector {theirs}, found suspended in {REGION} in place of the deleted "
        f"{event['detail']['requestParameters']['detectorId']} (a region has one detector at most)"
    ]

    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)

    assert list(undo.restored) == [f"suspended GuardDuty detector {theirs} again, as before"]
    assert _detectors(account) == [theirs], "undo deletes no detector IAM Warden did not create"
    assert _mine(account).get_detector(DetectorId=theirs)["Status"] == "DISABLED"


def test_a_refused_get_detector_fails_the_re_creation(account: Account, enforcer: EnforcerService) -> None:
    event = _enabled_then_deleted(account, enforcer)
    theirs = _mine(account).create_detector(Enable=False)["DetectorId"]
    client = _guardduty(enforcer)
    _refuse(client, "GetDetector")

    record = _failed(enforcer, event)

    assert list(record.done) == []
    assert "AccessDeniedException" in (record.error or "")
    assert _mine(account).get_detector(DetectorId=theirs)["Status"] == "DISABLED"


def test_a_refused_enable_of_a_suspended_detector_fails_with_the_command(
    account: Account, enforcer: EnforcerService
) -> None:
    event = _enabled_then_deleted(account, enforcer)
    theirs = _mine(account).create_detector(Enable=False)["DetectorId"]
    client = _guardduty(enforcer)
    _refuse(client, "UpdateDetector")

    record = _failed(enforcer, event)

    assert "AccessDeniedException" in (record.error or "")
    assert f"aws guardduty update-detector --region {REGION} --detector-id {theirs} --enable" in (record.error or "")
    _allow(client, "UpdateDetector")
    finding = _only(enforcer.handle(copy.deepcopy(event)))  # Lambda's retry of the failed event
    assert finding["outcome"] == Outcome.REMEDIATED
    assert _mine(account).get_detector(DetectorId=theirs)["Status"] == "ENABLED"


def test_undo_of_a_detector_deleted_again_since_deletes_nothing(account: Account, enforcer: EnforcerService) -> None:
    event = _enabled_then_deleted(account, enforcer)
    finding = _only(enforcer.handle(copy.deepcopy(event)))
    [made] = _detectors(account)
    _mine(account).delete_detector(DetectorId=made)

    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)

    assert list(undo.restored) == [
        f"GuardDuty detector {made}, which IAM Warden re-created, is already gone: nothing deleted"
    ]


def test_without_a_snapshot_the_deleted_detector_is_alerted_and_nothing_is_created(
    account: Account, enforcer: EnforcerService
) -> None:
    event = _enabled_then_deleted(account, enforcer, snapshot=False)

    finding = _only(enforcer.handle(copy.deepcopy(event)))

    assert finding["outcome"] == Outcome.ALERTED
    assert _detectors(account) == []


@pytest.mark.parametrize("operation", ["ListDetectors", "CreateDetector"])
def test_a_refused_call_fails_the_re_creation_and_its_retry_re_creates(
    account: Account, enforcer: EnforcerService, operation: str
) -> None:
    event = _enabled_then_deleted(account, enforcer)
    client = _guardduty(enforcer)
    _refuse(client, operation)

    record = _failed(enforcer, event)

    assert list(record.done) == []
    assert "AccessDeniedException" in (record.error or "")
    assert _detectors(account) == []
    _allow(client, operation)
    finding = _only(enforcer.handle(copy.deepcopy(event)))  # Lambda's retry of the failed event
    assert finding["outcome"] == Outcome.REMEDIATED
    assert len(_detectors(account)) == 1


def test_a_refused_tag_leaves_the_detector_on_and_says_so(account: Account, enforcer: EnforcerService) -> None:
    event = _enabled_then_deleted(account, enforcer)
    _mine(account)  # the tags: the sample snapshot has none, so the heartbeat's record is given one
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    arn = f"arn:aws:guardduty:{REGION}:{HOME_ACCOUNT}:detector/{event['detail']['requestParameters']['detectorId']}"
    snapshot = recorded.snapshot(GUARDDUTY_DETECTOR, arn)
    assert snapshot is not None
    recorded.put(snapshot._replace(data={**snapshot.data, "tags": {"team": "security"}}))
    _refuse(_guardduty(enforcer), "TagResource")

    finding = _only(enforcer.handle(copy.deepcopy(event)))

    assert finding["outcome"] == Outcome.REMEDIATED
    assert finding["done"][1].startswith("NOT tagged: GuardDuty detector ")
    assert len(_detectors(account)) == 1


def test_a_refused_undo_is_an_undo_error_and_the_detector_stays(account: Account, enforcer: EnforcerService) -> None:
    event = _enabled_then_deleted(account, enforcer)
    finding = _only(enforcer.handle(copy.deepcopy(event)))
    _refuse(_guardduty(enforcer), "DeleteDetector")

    with pytest.raises(UndoError, match="AccessDeniedException"):
        enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)

    assert len(_detectors(account)) == 1


# --- AWS Config ----------------------------------------------------------------------------------------

RECORDER = {
    "name": "default",
    "roleARN": ROLE,
    "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
}


def _config(account: Account) -> Any:
    return account.session.client("config", region_name=REGION)


def _enforcers_config(enforcer: EnforcerService) -> Any:
    return enforcer.executor.clients.client("config", HOME_ACCOUNT, REGION)


def _recording_then_deleted(account: Account, *, snapshot: bool = True, keep_channel: bool = True) -> dict[str, Any]:
    """A recorder recording to a delivery channel, snapshotted by the heartbeat, then deleted: the sample event."""
    account.s3.create_bucket(Bucket="acme-config", CreateBucketConfiguration={"LocationConstraint": REGION})
    config = _config(account)
    config.put_configuration_recorder(ConfigurationRecorder=RECORDER)
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "acme-config"})
    config.start_configuration_recorder(ConfigurationRecorderName="default")
    if snapshot:
        AuditRecorded(account.audit(), account.dynamodb).put_all(
            take_recorder_snapshots(config, HOME_ACCOUNT, REGION, BEFORE)
        )
    config.stop_configuration_recorder(ConfigurationRecorderName="default")
    config.delete_configuration_recorder(ConfigurationRecorderName="default")
    if not keep_channel:
        config.delete_delivery_channel(DeliveryChannelName="default")
    account.set("rules/config-recording-stopped/mode", "remediate")
    event = load_event("config-recorder-deleted.json")
    event["account"] = event["detail"]["recipientAccountId"] = HOME_ACCOUNT
    return event


def _recorder(account: Account) -> tuple[dict[str, Any] | None, bool]:
    config = _config(account)
    found = config.describe_configuration_recorders()["ConfigurationRecorders"]
    if not found:
        return None, False
    [status] = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
    return found[0], bool(status["recording"])


def test_a_deleted_recorder_is_put_back_and_started_and_undo_stops_and_deletes_it(
    account: Account, enforcer: EnforcerService
) -> None:
    event = _recording_then_deleted(account)

    finding = _only(enforcer.handle(copy.deepcopy(event)))

    assert finding["outcome"] == Outcome.REMEDIATED
    recorder, recording = _recorder(account)
    assert recorder is not None
    assert (recorder["roleARN"], recorder["recordingGroup"]["includeGlobalResourceTypes"], recording) == (
        ROLE,
        True,
        True,
    )
    assert finding["done"] == [
        f"put AWS Config recorder default back as IAM Warden's snapshot of {BEFORE} has it",
        "started AWS Config recorder default",
    ]
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.plan[0]["parameters"]["snapshot"]["recorder"]["roleARN"] == ROLE

    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)

    assert list(undo.restored) == [
        "stopped AWS Config recorder default",
        "deleted AWS Config recorder default again, as before",
    ]
    assert _recorder(account) == (None, False)


def test_without_a_delivery_channel_the_recorder_is_put_back_not_started_and_said(
    account: Account, enforcer: EnforcerService
) -> None:
    event = _recording_then_deleted(account, keep_channel=False)

    finding = _only(enforcer.handle(copy.deepcopy(event)))

    assert finding["outcome"] == Outcome.REMEDIATED
    recorder, recording = _recorder(account)
    assert recorder is not None
    assert not recording
    assert finding["done"][1].startswith("NOT started: AWS Config recorder default (no delivery channel exists")


def test_a_recorder_already_back_with_the_snapshots_settings_is_only_started(
    account: Account, enforcer: EnforcerService
) -> None:
    """Idempotent: the same settings put back already (an earlier run's, or an operator's) count as done."""
    event = _recording_then_deleted(account)
    _config(account).put_configuration_recorder(ConfigurationRecorder=RECORDER)

    finding = _only(enforcer.handle(copy.deepcopy(event)))

    assert finding["done"] == [
        "nothing put back: AWS Config recorder default exists again with the settings of the snapshot",
        "started AWS Config recorder default",
    ]
    assert _recorder(account)[1] is True
    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert list(undo.restored) == ["stopped AWS Config recorder default"]
    assert _recorder(account)[0] is not None, "undo never deletes a recorder it did not put"


def test_another_recorder_under_the_name_is_not_overwritten(account: Account, enforcer: EnforcerService) -> None:
    event = _recording_then_deleted(account)
    other = {**RECORDER, "roleARN": f"arn:aws:iam::{HOME_ACCOUNT}:role/someone-elses"}
    _config(account).put_configuration_recorder(ConfigurationRecorder=other)

    record = _failed(enforcer, event)

    assert "other settings than IAM Warden's snapshot (roleARN differ): not overwritten" in (record.error or "")
    recorder, _ = _recorder(account)
    assert recorder is not None
    assert recorder["roleARN"] == other["roleARN"]


def test_undo_is_refused_when_the_recorder_was_changed_since(account: Account, enforcer: EnforcerService) -> None:
    event = _recording_then_deleted(account)
    finding = _only(enforcer.handle(copy.deepcopy(event)))
    changed = {**RECORDER, "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": False}}
    _config(account).put_configuration_recorder(ConfigurationRecorder=changed)

    with pytest.raises(UndoError, match="was changed since the remediation"):
        enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)

    recorder, recording = _recorder(account)
    assert recorder is not None
    assert recording


def test_without_a_snapshot_the_deleted_recorder_is_alerted_and_not_put_back(
    account: Account, enforcer: EnforcerService
) -> None:
    event = _recording_then_deleted(account, snapshot=False)

    finding = _only(enforcer.handle(copy.deepcopy(event)))

    assert finding["outcome"] == Outcome.ALERTED
    assert _recorder(account) == (None, False)


@pytest.mark.parametrize(
    ("operation", "done"),
    [
        ("DescribeConfigurationRecorders", 0),
        ("PutConfigurationRecorder", 0),
        ("DescribeDeliveryChannels", 1),
        ("StartConfigurationRecorder", 1),
    ],
)
def test_a_refused_config_call_fails_the_restore_and_its_retry_finishes_it(
    account: Account, enforcer: EnforcerService, operation: str, done: int
) -> None:
    event = _recording_then_deleted(account)
    client = _enforcers_config(enforcer)
    _refuse(client, operation)

    record = _failed(enforcer, event)

    assert "AccessDeniedException" in (record.error or "")
    assert len(record.done) == done  # what was put before the refusal stays said
    _allow(client, operation)
    finding = _only(enforcer.handle(copy.deepcopy(event)))
    assert finding["outcome"] == Outcome.REMEDIATED
    assert _recorder(account)[1] is True


@pytest.mark.parametrize(
    ("operation", "left", "said"),
    [
        ("DescribeConfigurationRecorderStatus", True, "restored so far: nothing"),
        ("StopConfigurationRecorder", True, "restored so far: nothing"),
        ("DeleteConfigurationRecorder", False, "stopped AWS Config recorder default"),
    ],
)
def test_a_refused_call_fails_the_recorders_undo_saying_what_was_done_and_its_retry_finishes_it(
    account: Account, enforcer: EnforcerService, operation: str, left: bool, said: str
) -> None:
    event = _recording_then_deleted(account)
    finding = _only(enforcer.handle(copy.deepcopy(event)))
    client = _enforcers_config(enforcer)
    _refuse(client, operation)

    with pytest.raises(UndoError, match="AccessDeniedException") as raised:
        enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)

    assert said in str(raised.value)
    if operation == "DeleteConfigurationRecorder":
        assert "left stopped, not deleted" in str(raised.value)
        assert "aws configservice delete-configuration-recorder --configuration-recorder-name default" in str(
            raised.value
        )
    recorder, recording = _recorder(account)
    assert recorder is not None, "nothing is deleted past a refusal"
    assert recording is left
    _allow(client, operation)
    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)  # the operator's retry
    assert list(undo.restored)[-1] == "deleted AWS Config recorder default again, as before"
    assert _recorder(account) == (None, False)


def test_a_refused_status_read_fails_the_restore_of_a_recorder_already_back(
    account: Account, enforcer: EnforcerService
) -> None:
    event = _recording_then_deleted(account)
    _config(account).put_configuration_recorder(ConfigurationRecorder=RECORDER)
    client = _enforcers_config(enforcer)
    _refuse(client, "DescribeConfigurationRecorderStatus")

    record = _failed(enforcer, event)

    assert "AccessDeniedException" in (record.error or "")
    assert list(record.done) == []
    assert _recorder(account)[1] is False


# --- the heartbeat's snapshots -------------------------------------------------------------------------


class _Store:
    def __init__(self) -> None:
        self.kept: list[Any] = []

    def put_all(self, snapshots: Any) -> int:
        taken = list(snapshots)
        self.kept += taken
        return len(taken)


def _refresh(account: Account, store: _Store) -> tuple[int, list[str]]:
    session: Any = account.session
    return SnapshotRefresh(
        store,
        session.client("cloudtrail", region_name=REGION),
        account.iam,
        HOME_ACCOUNT,
        region=REGION,
        service_client=lambda service: session.client(service, region_name=REGION),
    ).refresh()


def test_the_heartbeat_snapshots_an_enabled_detector_and_a_recording_recorder(account: Account) -> None:
    detector = _mine(account).create_detector(
        Enable=True, FindingPublishingFrequency="ONE_HOUR", Tags={"team": "security"}
    )["DetectorId"]
    account.s3.create_bucket(Bucket="acme-config", CreateBucketConfiguration={"LocationConstraint": REGION})
    config = _config(account)
    config.put_configuration_recorder(ConfigurationRecorder=RECORDER)
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "acme-config"})
    config.start_configuration_recorder(ConfigurationRecorderName="default")
    store = _Store()

    _, problems = _refresh(account, store)

    assert problems == []
    by_kind = {s.kind: s for s in store.kept if s.kind in (GUARDDUTY_DETECTOR, CONFIG_RECORDER)}
    gd = by_kind[GUARDDUTY_DETECTOR]
    assert gd.resource_arn == f"arn:aws:guardduty:{REGION}:{HOME_ACCOUNT}:detector/{detector}"
    assert (gd.data["status"], gd.data["finding_publishing_frequency"], gd.data["tags"]) == (
        "ENABLED",
        "ONE_HOUR",
        {"team": "security"},
    )
    rec = by_kind[CONFIG_RECORDER]
    assert rec.resource_arn == RECORDER_ARN
    assert rec.data["recorder"]["roleARN"] == ROLE
    assert (rec.data["recording"], rec.data["delivery_channel"]) == (True, True)


def test_the_heartbeat_never_snapshots_a_suspended_detector_nor_a_stopped_recorder(account: Account) -> None:
    mine = _mine(account)
    detector = mine.create_detector(Enable=True)["DetectorId"]
    mine.update_detector(DetectorId=detector, Enable=False)
    _config(account).put_configuration_recorder(ConfigurationRecorder=RECORDER)  # never started
    store = _Store()

    _, problems = _refresh(account, store)

    assert problems == []
    assert [s for s in store.kept if s.kind in (GUARDDUTY_DETECTOR, CONFIG_RECORDER)] == []


def test_a_refused_read_is_a_problem_of_its_own_and_the_other_snapshots_are_taken(account: Account) -> None:
    session: Any = account.session
    guardduty = session.client("guardduty", region_name=REGION)
    _refuse(guardduty, "ListDetectors")
    store = _Store()

    _, problems = SnapshotRefresh(
        store,
        session.client("cloudtrail", region_name=REGION),
        account.iam,
        HOME_ACCOUNT,
        region=REGION,
        service_client=lambda service: (
            guardduty if service == "guardduty" else session.client(service, region_name=REGION)
        ),
    ).refresh()

    assert [p for p in problems if "GuardDuty detector" in p] == [
        f"the snapshots of the GuardDuty detector of {HOME_ACCOUNT} in {REGION} cannot be refreshed "
        "(AccessDeniedException): a restore falls back to the previous one, or only alerts"
    ]
    assert not [p for p in problems if "AWS Config" in p]
