"""GuardDuty detectors and AWS Config recorders snapshotted in every region the heartbeat covers, not only its own,
and a delete there re-created from that snapshot in the event's region (issue 15 item 3; moto).

The heartbeat and the stack run in us-east-1; the sample delete events are recorded in eu-west-1. The security
account's other regions are those its multi-region trails are homed in (``refresh_trails_elsewhere``'s); a member
account's are its member stack instances' (the bounded turn of (account, region) pairs, ``app.member_coverage``).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from iamwarden.adapters.recorded import AuditRecorded
from iamwarden.app.heartbeat import SnapshotRefresh, build_heartbeat
from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Outcome
from iamwarden.domain.recorded import CONFIG_RECORDER, GUARDDUTY_DETECTOR
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.test_detection_recreate import RECORDER, _guardduty
from tests.functional.test_heartbeat_member_coverage import (
    _members,
    _organization_account,
    _stack_set,
)
from tests.functional.test_heartbeat_member_snapshots import _environment, _member
from tests.functional.test_trail_home_regions import _trail

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS")
ELSEWHERE = "eu-west-1"  # the samples' region: a trail's home, and a member stack instance's
FARTHER = "eu-central-1"


def _detector(session: Any, region: str = ELSEWHERE) -> str:
    return str(session.client("guardduty", region_name=region).create_detector(Enable=True)["DetectorId"])


def _recording(session: Any, region: str = ELSEWHERE) -> Any:
    bucket = f"acme-config-{region}"
    session.client("s3", region_name=region).create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region}
    )
    config = session.client("config", region_name=region)
    config.put_configuration_recorder(ConfigurationRecorder=RECORDER)
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": bucket})
    config.start_configuration_recorder(ConfigurationRecorderName="default")
    return config


def _detector_arn(detector: str, account: str = HOME_ACCOUNT, region: str = ELSEWHERE) -> str:
    return f"arn:aws:guardduty:{region}:{account}:detector/{detector}"


def _recorder_arn(account: str = HOME_ACCOUNT, region: str = ELSEWHERE) -> str:
    return f"arn:aws:config:{region}:{account}:configuration-recorder/default"


def _after_the_heartbeat(event: dict[str, Any]) -> dict[str, Any]:
    """``event`` as recorded now, after the heartbeat's snapshot (taken at the real time)."""
    later = copy.deepcopy(event)
    later["detail"]["eventTime"] = (datetime.now(UTC) + timedelta(seconds=1)).isoformat(timespec="seconds")
    return later


def _home_snapshots(account: Account) -> AuditRecorded:
    """The heartbeat as Lambda builds it, run once in us-east-1: the audit table's snapshots."""
    heartbeat = build_heartbeat(account.session, _environment(account))
    assert heartbeat.snapshots is not None
    _, problems = heartbeat.snapshots.refresh()
    assert not [p for p in problems if "GuardDuty" in p or "AWS Config" in p], problems
    return AuditRecorded(account.audit(), account.dynamodb)


def test_the_heartbeat_snapshots_the_security_accounts_detector_and_recorder_in_a_trail_home_region(
    account: Account,
) -> None:
    _trail(account.session)  # homed in eu-west-1: that region is covered
    detector = _detector(account.session)
    _recording(account.session)

    recorded = _home_snapshots(account)

    taken = recorded.snapshot(GUARDDUTY_DETECTOR, _detector_arn(detector))
    assert taken is not None
    assert taken.data["status"] == "ENABLED"
    recorder = recorded.snapshot(CONFIG_RECORDER, _recorder_arn())
    assert recorder is not None
    assert recorder.data["recorder"]["roleARN"] == RECORDER["roleARN"]


def test_a_detector_deleted_in_that_region_is_re_created_there_from_the_heartbeats_snapshot(
    account: Account, enforcer: EnforcerService
) -> None:
    _trail(account.session)
    detector = _detector(account.session)
    _home_snapshots(account)
    guardduty = account.session.client("guardduty", region_name=ELSEWHERE)
    guardduty.delete_detector(DetectorId=detector)
    account.set("rules/guardduty-disabled/mode", "remediate")
    _guardduty(enforcer)  # TagResource answered (moto has none)
    event = load_event("guardduty-detector-deleted.json")
    assert event["region"] == ELSEWHERE
    event["account"] = event["detail"]["recipientAccountId"] = HOME_ACCOUNT
    event["detail"]["requestParameters"]["detectorId"] = detector

    [finding] = enforcer.handle(_after_the_heartbeat(event))["findings"]

    assert finding["outcome"] == Outcome.REMEDIATED, finding
    [made] = guardduty.list_detectors()["DetectorIds"]
    assert guardduty.get_detector(DetectorId=made)["Status"] == "ENABLED"
    assert account.session.client("guardduty", region_name=REGION).list_detectors()["DetectorIds"] == []


def test_a_recorder_deleted_in_that_region_is_put_back_there_from_the_heartbeats_snapshot(
    account: Account, enforcer: EnforcerService
) -> None:
    _trail(account.session)
    config = _recording(account.session)
    _home_snapshots(account)
    config.stop_configuration_recorder(ConfigurationRecorderName="default")
    config.delete_configuration_recorder(ConfigurationRecorderName="default")
    account.set("rules/config-recording-stopped/mode", "remediate")
    event = load_event("config-recorder-deleted.json")
    assert event["region"] == ELSEWHERE
    event["account"] = event["detail"]["recipientAccountId"] = HOME_ACCOUNT

    [finding] = enforcer.handle(_after_the_heartbeat(event))["findings"]

    assert finding["outcome"] == Outcome.REMEDIATED, finding
    [back] = config.describe_configuration_recorders()["ConfigurationRecorders"]
    assert (back["name"], back["roleARN"]) == ("default", RECORDER["roleARN"])
    [status] = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
    assert status["recording"] is True
    home = account.session.client("config", region_name=REGION)
    assert home.describe_configuration_recorders()["ConfigurationRecorders"] == []


def test_a_region_that_cannot_be_read_is_said_keeps_its_snapshot_and_the_others_are_taken(account: Account) -> None:
    _trail(account.session)
    _trail(account.session, FARTHER, name="archive")
    kept_detector = _detector(account.session)
    farther_detector = _detector(account.session, FARTHER)
    store = AuditRecorded(account.audit(), account.dynamodb)
    refused = [False]

    def client_in(service: str, region: str) -> Any:
        client = account.session.client(service, region_name=region)  # type: ignore[call-overload]
        if service == "guardduty" and region == ELSEWHERE:

            def refuse(**_: Any) -> None:
                if refused[0]:
                    raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "SCP"}}, "ListDetectors")

            client.meta.events.register("before-call.guardduty.ListDetectors", refuse)
        return client

    now = ["2026-12-06T10:00:00+00:00"]
    refresh = SnapshotRefresh(
        store,
        account.session.client("cloudtrail", region_name=REGION),
        account.iam,
        HOME_ACCOUNT,
        region=REGION,
        clock=lambda: now[0],
        cloudtrail_in=lambda region: account.session.client("cloudtrail", region_name=region),
        service_client_in=client_in,
    )
    assert refresh.refresh()[1] == []
    refused[0] = True
    now[0] = "2026-12-06T10:05:00+00:00"

    _, problems = refresh.refresh()

    assert problems == [
        f"the snapshots of the GuardDuty detector of {HOME_ACCOUNT} in {ELSEWHERE} cannot be refreshed "
        "(AccessDeniedException): a restore falls back to the previous one, or only alerts"
    ]
    kept = store.snapshot(GUARDDUTY_DETECTOR, _detector_arn(kept_detector))
    assert kept is not None
    assert kept.taken_at == "2026-12-06T10:00:00+00:00", "the unread region keeps its earlier snapshot"
    farther = store.snapshot(GUARDDUTY_DETECTOR, _detector_arn(farther_detector, region=FARTHER))
    assert farther is not None
    assert farther.taken_at == "2026-12-06T10:05:00+00:00", "the other region is still taken"


def test_a_region_the_heartbeat_does_not_cover_stays_alert_only_saying_which_it_covers(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    detector = _detector(account.session)  # eu-west-1: no trail is homed there, no member stack instance
    _home_snapshots(account)
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    assert recorded.snapshot(GUARDDUTY_DETECTOR, _detector_arn(detector)) is None
    account.session.client("guardduty", region_name=ELSEWHERE).delete_detector(DetectorId=detector)
    account.set("rules/guardduty-disabled/mode", "remediate")
    event = load_event("guardduty-detector-deleted.json")
    event["account"] = event["detail"]["recipientAccountId"] = HOME_ACCOUNT
    event["detail"]["requestParameters"]["detectorId"] = detector

    [finding] = enforcer.handle(_after_the_heartbeat(event))["findings"]

    assert finding["outcome"] == Outcome.ALERTED
    [alert] = notifier.sent
    assert alert.finding is not None
    [needed] = alert.finding.needs_context
    assert f"has no snapshot of it taken before the change in {ELSEWHERE}" in needed, needed
    assert f"{REGION} (the heartbeat's region) of every account it covers" in needed
    assert "not covered, or not yet reached: alerted only" in needed
    assert account.session.client("guardduty", region_name=ELSEWHERE).list_detectors()["DetectorIds"] == []


def test_a_member_accounts_detector_and_recorder_are_snapshotted_in_its_member_stack_instances_region(
    account: Account,
) -> None:
    member = _organization_account(account)
    _stack_set(account, {member: [REGION, ELSEWHERE]})
    session = _member(account, member)
    detector = _detector(session)
    _recording(session)
    home_detector = _detector(session, REGION)
    members = _members(account)

    members.refresh()

    recorded = AuditRecorded(account.audit(), account.dynamodb)
    assert recorded.snapshot(GUARDDUTY_DETECTOR, _detector_arn(detector, member)) is not None
    assert recorded.snapshot(CONFIG_RECORDER, _recorder_arn(member)) is not None
    assert recorded.snapshot(GUARDDUTY_DETECTOR, _detector_arn(home_detector, member, REGION)) is not None


def test_a_member_region_that_cannot_be_read_is_said_and_its_other_regions_are_taken(account: Account) -> None:
    member = _organization_account(account)
    _stack_set(account, {member: [REGION, ELSEWHERE, FARTHER]})
    session = _member(account, member)
    _detector(session)
    farther = _detector(session, FARTHER)
    members = _members(account)
    assert members.client_in is not None
    real = members.client_in

    def client_in(service: str, account_id: str, region: str) -> Any:
        if service in ("guardduty", "config") and region == ELSEWHERE:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "SCP"}}, "AssumeRole")
        return real(service, account_id, region)

    members.client_in = client_in

    _, problems = members.refresh()

    assert [p for p in problems if p.startswith("the snapshots of the")] == [
        f"the snapshots of the {what} of {member} in {ELSEWHERE} cannot be refreshed (AccessDenied): a restore "
        "falls back to the previous one, or only alerts"
        for what in ("GuardDuty detector", "AWS Config recorders")
    ]
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    assert recorded.snapshot(GUARDDUTY_DETECTOR, _detector_arn(farther, member, FARTHER)) is not None
