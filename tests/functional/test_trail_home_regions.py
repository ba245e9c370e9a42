"""Trails homed in another region than the heartbeat's: snapshotted in their home region, restored there (moto).

A trail's ``StopLogging``, ``UpdateTrail`` and ``PutEventSelectors`` must be called in its home region (else
``InvalidHomeRegionException``), so their events are recorded there and reach EventBridge there; the member
template's regional rule forwards them to the central bus and the enforcer acts in that region. The heartbeat
runs in one region: it finds the other home regions from the multi-region trails' shadows it sees, and takes
each trail's snapshot in its home region, keyed by the trail's exact ARN (region and account included).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from iamwarden.adapters.clients import ClientFactory
from iamwarden.adapters.recorded import AuditRecorded, trail_home_regions
from iamwarden.app.heartbeat import MemberSnapshots, SnapshotRefresh, build_heartbeat
from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Outcome
from iamwarden.domain.recorded import TRAIL
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.test_heartbeat_member_snapshots import _environment

ELSEWHERE = "eu-west-1"
MEMBER = "444455556666"
OPERATOR = f"arn:aws:iam::{HOME_ACCOUNT}:user/secops"
EVERY_MANAGEMENT_EVENT = [
    {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [], "ExcludeManagementEventSources": []}
]
#: What the sample ``cloudtrail-event-selectors-no-management.json`` sets (a restore acts only while it is live).
NO_MANAGEMENT_EVENT = [
    {
        "ReadWriteType": "ReadOnly",
        "IncludeManagementEvents": False,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": []}, {"Type": "AWS::Lambda::Function", "Values": []}],
        "ExcludeManagementEventSources": [],
    }
]


def _arn(account: str = HOME_ACCOUNT, region: str = ELSEWHERE, name: str = "org-audit") -> str:
    return f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"


def _trail(
    session: boto3.Session, region: str = ELSEWHERE, *, multi_region: bool = True, name: str = "org-audit"
) -> Any:
    """A good trail homed in ``region``: logging every management event."""
    bucket = f"{name}-logs-{region}"
    configuration = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    session.client("s3", region_name=region).create_bucket(Bucket=bucket, **configuration)  # type: ignore[arg-type]
    cloudtrail = session.client("cloudtrail", region_name=region)
    cloudtrail.create_trail(Name=name, S3BucketName=bucket, IsMultiRegionTrail=multi_region)
    cloudtrail.put_event_selectors(TrailName=name, EventSelectors=EVERY_MANAGEMENT_EVENT)
    cloudtrail.start_logging(Name=name)
    return cloudtrail


def _member(account: Account) -> boto3.Session:
    answer = account.session.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{MEMBER}:role/OrganizationAccountAccessRole", RoleSessionName="setup"
    )
    credentials = answer["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


def _in(sample: str, account_id: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(json.dumps(load_event(sample)).replace(HOME_ACCOUNT, account_id))
    event["detail"]["eventID"] = f"{event['detail']['eventID'][:-12]}{account_id}"
    return event


def test_the_multi_region_trails_home_regions_are_found_from_their_shadows(account: Account) -> None:
    _trail(account.session)
    _trail(account.session, "eu-central-1", multi_region=False, name="regional")
    cloudtrail = account.session.client("cloudtrail", region_name=REGION)

    assert trail_home_regions(cloudtrail, HOME_ACCOUNT, REGION) == [ELSEWHERE]
    assert trail_home_regions(cloudtrail, "999988887777", REGION) == [], "another account's trail is not this one's"


def test_the_heartbeat_snapshots_a_trail_homed_in_another_region_there(account: Account) -> None:
    _trail(account.session)
    _trail(account.session, REGION, multi_region=False, name="local")
    heartbeat = build_heartbeat(account.session, _environment(account))
    assert heartbeat.snapshots is not None

    stored, problems = heartbeat.snapshots.refresh()

    assert problems == []
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    elsewhere = recorded.snapshot(TRAIL, _arn())
    assert elsewhere is not None
    assert elsewhere.data["home_region"] == ELSEWHERE
    assert elsewhere.data["event_selectors"] == EVERY_MANAGEMENT_EVENT
    assert recorded.snapshot(TRAIL, _arn(region=REGION, name="local")) is not None
    assert recorded.snapshot(TRAIL, _arn(region=REGION)) is None, "the shadow is no trail of its own"
    assert stored >= 2


def test_a_region_that_cannot_be_read_is_one_problem_and_keeps_its_earlier_snapshot(account: Account) -> None:
    cloudtrail = _trail(account.session)
    store = AuditRecorded(account.audit(), account.dynamodb)
    refused = [False]

    def cloudtrail_in(region: str) -> Any:
        client = account.session.client("cloudtrail", region_name=region)

        def refuse(**_: Any) -> None:
            if refused[0]:
                raise ClientError({"Error": {"Code": "AccessDenied", "Message": "SCP"}}, "DescribeTrails")

        client.meta.events.register("before-call.cloudtrail.DescribeTrails", refuse)
        return client

    now = ["t1"]  # each run's reads are dated by this clock, whenever in the run they end
    refresh = SnapshotRefresh(
        store,
        account.session.client("cloudtrail", region_name=REGION),
        account.iam,
        HOME_ACCOUNT,
        region=REGION,
        clock=lambda: now[0],
        cloudtrail_in=cloudtrail_in,
    )
    assert refresh.refresh()[1] == []
    cloudtrail.put_event_selectors(TrailName="org-audit", EventSelectors=NO_MANAGEMENT_EVENT)
    refused[0] = True
    now[0] = "t2"

    _, problems = refresh.refresh()

    [problem] = problems
    assert f"trails of {HOME_ACCOUNT} in {ELSEWHERE}" in problem
    assert "AccessDenied" in problem
    kept = store.snapshot(TRAIL, _arn())
    assert kept is not None
    assert kept.taken_at == "t1"
    assert kept.data["event_selectors"] == EVERY_MANAGEMENT_EVENT


def test_the_home_regions_that_cannot_be_listed_are_one_problem(account: Account) -> None:
    class Unlisted:
        def describe_trails(self, **_: Any) -> Any:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "DescribeTrails")

    refresh = SnapshotRefresh(
        AuditRecorded(account.audit(), account.dynamodb), Unlisted(), account.iam, HOME_ACCOUNT, region=REGION,
        cloudtrail_in=lambda region: pytest.fail(f"no region is read when none could be listed ({region})"),
    )  # fmt: skip

    stored, problems = refresh.refresh_trails_elsewhere("t")

    assert stored == 0
    [problem] = problems
    assert "homed in other regions" in problem
    assert "ThrottlingException" in problem


def _after_the_heartbeat(event: dict[str, Any]) -> dict[str, Any]:
    """``event`` as recorded now, after the heartbeat's snapshot (taken at the real time): a snapshot taken after a
    change may already hold it, so it is put back only from one taken before."""
    later = copy.deepcopy(event)
    later["detail"]["eventTime"] = (datetime.now(UTC) + timedelta(seconds=1)).isoformat(timespec="seconds")
    return later


@pytest.mark.parametrize("sample", ["cloudtrail-event-selectors-no-management.json", "cloudtrail-stop-logging.json"])
def test_a_trail_homed_elsewhere_is_restored_in_its_home_region_from_the_heartbeats_snapshot_and_undone(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, sample: str
) -> None:
    """The sample events are recorded in eu-west-1, the trail's home; the heartbeat and enforcer run in us-east-1."""
    cloudtrail = _trail(account.session)
    heartbeat = build_heartbeat(account.session, _environment(account))
    assert heartbeat.snapshots is not None
    heartbeat.snapshots.refresh()
    account.set("rules/cloudtrail-logging-impaired/mode", "remediate")
    if sample == "cloudtrail-stop-logging.json":
        cloudtrail.stop_logging(Name="org-audit")
    else:
        cloudtrail.put_event_selectors(TrailName="org-audit", EventSelectors=NO_MANAGEMENT_EVENT)

    [finding] = enforcer.handle(_after_the_heartbeat(load_event(sample)))["findings"]

    assert finding["outcome"] == Outcome.REMEDIATED, finding
    assert cloudtrail.get_event_selectors(TrailName="org-audit")["EventSelectors"] == EVERY_MANAGEMENT_EVENT
    assert cloudtrail.get_trail_status(Name="org-audit")["IsLogging"] is True
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.region == ELSEWHERE
    assert {call["region"] for call in record.calls} == {ELSEWHERE}
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    if sample == "cloudtrail-stop-logging.json":
        assert cloudtrail.get_trail_status(Name="org-audit")["IsLogging"] is False
    else:
        assert cloudtrail.get_event_selectors(TrailName="org-audit")["EventSelectors"] == NO_MANAGEMENT_EVENT


def test_without_a_snapshot_of_that_exact_trail_the_change_elsewhere_is_alerted_and_left(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """A snapshot of a trail of the same name homed in the heartbeat's region is not the eu-west-1 trail's."""
    _trail(account.session, REGION, multi_region=False)
    cloudtrail = _trail(account.session, multi_region=False)
    store = AuditRecorded(account.audit(), account.dynamodb)
    heartbeat = build_heartbeat(account.session, _environment(account))
    assert heartbeat.snapshots is not None
    heartbeat.snapshots.refresh()  # single-region trails: the one in eu-west-1 is not seen from us-east-1
    assert store.snapshot(TRAIL, _arn(region=REGION)) is not None
    assert store.snapshot(TRAIL, _arn()) is None
    account.set("rules/cloudtrail-logging-impaired/mode", "remediate")
    cloudtrail.put_event_selectors(TrailName="org-audit", EventSelectors=NO_MANAGEMENT_EVENT)

    [finding] = enforcer.handle(copy.deepcopy(load_event("cloudtrail-event-selectors-no-management.json")))["findings"]

    assert finding["outcome"] == Outcome.ALERTED
    assert cloudtrail.get_event_selectors(TrailName="org-audit")["EventSelectors"] == NO_MANAGEMENT_EVENT
    [alert] = notifier.sent
    assert alert.finding is not None
    [missing] = alert.finding.needs_context
    assert "no snapshot" in missing


def test_a_members_trail_homed_elsewhere_is_snapshotted_through_its_snapshot_role_and_restored_there(
    account: Account, enforcer: EnforcerService
) -> None:
    member = _member(account)
    cloudtrail = _trail(member)
    factory = ClientFactory(HOME_ACCOUNT, "iamwarden-snapshot-reader", session=account.session)
    members = MemberSnapshots(
        AuditRecorded(account.audit(), account.dynamodb),
        lambda: [MEMBER],
        lambda account_id: (
            factory.client("cloudtrail", account_id, REGION),
            factory.client("iam", account_id, REGION),
        ),
        home_account=HOME_ACCOUNT,
        region=REGION,
        cloudtrail_in=lambda account_id, region: factory.client("cloudtrail", account_id, region),
        clock=lambda: "2026-11-20T09:00:00.000+00:00",  # before the sample's change: a later one is no "before"
    )
    member.client("iam").create_role(RoleName="iamwarden-remediator", AssumeRolePolicyDocument="{}")

    stored, problems = members.refresh()

    assert problems == []
    assert stored >= 1
    account.set("rules/cloudtrail-logging-impaired/mode", "remediate")
    cloudtrail.put_event_selectors(TrailName="org-audit", EventSelectors=NO_MANAGEMENT_EVENT)
    [finding] = enforcer.handle(_in("cloudtrail-event-selectors-no-management.json", MEMBER))["findings"]
    assert finding["outcome"] == Outcome.REMEDIATED, finding
    assert cloudtrail.get_event_selectors(TrailName="org-audit")["EventSelectors"] == EVERY_MANAGEMENT_EVENT
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert {(call["account"], call["region"]) for call in record.calls} == {(MEMBER, ELSEWHERE)}
