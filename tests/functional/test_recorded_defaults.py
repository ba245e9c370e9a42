"""What the enforcer saw an event set is the next event's "before" (audit s6, gaps 6 and 10), in moto.

Gap 6 (probe ``/work/tools-tmp/s6/probe/tests/test_probe_staged_version.py``): the escalation staged first as a
non-default version v2, then created again as the default v3. IAM keeps no record of which version was the
default before v3, so without a record v1 and v2 are both candidates and the finding is only alerted. The
enforcer now records the default when it judges the staging event, and v3 is remediated back to v1.

Gap 10 (probe ``test_probe_stale_boundary.py``): a boundary narrowed after the heartbeat's snapshot, then
deleted. The restore put back the snapshot's older, wider boundary, and a widening back to it was compliant.
The enforcer now keeps the boundary each boundary event set as the principal's snapshot.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from iamwarden.adapters.recorded import AuditRecorded, take_boundary_snapshots
from iamwarden.app.service import EnforcerService
from iamwarden.domain.exceptions import AuditError
from iamwarden.domain.findings import Outcome
from iamwarden.domain.recorded import BOUNDARY, POLICY_DEFAULT, PUBLIC_ACCESS_BLOCK, Snapshot
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

EC2_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
SAFE = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Logs", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::logs/*"}],
}
ESCALATION = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Deploy", "Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances"], "Resource": "*"}
    ],
}


# --- gap 6: a staged policy version ------------------------------------------------------------------------------


def _deploy_policy(account: Account) -> str:
    """app-deploy v1 (safe) attached to app-backend; admin-role (AdministratorAccess, in an instance profile) trusts
    EC2."""
    account.set("rules/privilege-escalation/mode", "remediate")
    account.set("rules/policy-version-admin/mode", "remediate")
    account.iam.create_role(RoleName="admin-role", AssumeRolePolicyDocument=EC2_TRUST)
    account.iam.attach_role_policy(RoleName="admin-role", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    # In an instance profile: passing it to EC2 runs code as it (without one, the holder gains nothing by it).
    account.iam.create_instance_profile(InstanceProfileName="admin-role")
    account.iam.add_role_to_instance_profile(InstanceProfileName="admin-role", RoleName="admin-role")
    account.iam.create_role(RoleName="app-backend", AssumeRolePolicyDocument=EC2_TRUST)
    arn: str = account.iam.create_policy(PolicyName="app-deploy", PolicyDocument=json.dumps(SAFE))["Policy"]["Arn"]
    account.iam.attach_role_policy(RoleName="app-backend", PolicyArn=arn)
    return arn


def _version_event(
    arn: str, version_id: str, *, default: bool, at: str, document: dict[str, Any] = ESCALATION
) -> dict[str, Any]:
    sample = "create-policy-version-admin.json" if default else "create-policy-version-not-default.json"
    event = copy.deepcopy(load_event(sample))
    detail = event["detail"]
    detail["eventID"] = f"00000000-0000-4000-8000-00000000{version_id[1:].zfill(4)}"
    detail["eventTime"] = event["time"] = at
    detail["requestParameters"].update(policyArn=arn, policyDocument=json.dumps(document), setAsDefault=default)
    detail["responseElements"]["policyVersion"]["versionId"] = version_id
    return event


def _stage(account: Account, enforcer: EnforcerService, arn: str, document: dict[str, Any] = ESCALATION) -> Any:
    """v2 created as a non-default version, and its event judged."""
    account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=False)
    return enforcer.handle(_version_event(arn, "v2", default=False, at="2026-12-05T04:00:00Z", document=document))


def _default(account: Account, arn: str) -> str:
    return str(account.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"])


def _snapshot(account: Account, kind: str, arn: str) -> Snapshot | None:
    return AuditRecorded(account.audit(), account.dynamodb).snapshot(kind, arn)


def test_a_staged_escalation_made_the_default_later_is_remediated_back_to_the_recorded_default(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    arn = _deploy_policy(account)
    staged = _stage(account, enforcer, arn)
    # Staged, not in force: alerted (medium: it opens a method), nothing changed.
    [alert_staged] = staged["findings"]
    assert alert_staged["outcome"] == Outcome.ALERTED
    assert _default(account, arn) == "v1"
    recorded = _snapshot(account, POLICY_DEFAULT, arn)
    assert recorded is not None
    assert dict(recorded.data) == {"default_version": "v1", "versions": ["v1", "v2"]}

    account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(ESCALATION), SetAsDefault=True)
    result = enforcer.handle(_version_event(arn, "v3", default=True, at="2026-12-05T04:05:00Z"))

    [finding] = result["findings"]
    assert finding["outcome"] == Outcome.REMEDIATED, notifier.sent[-1].finding
    assert _default(account, arn) == "v1"
    [staged_alert, alert] = notifier.sent
    assert staged_alert.finding is not None
    assert staged_alert.finding.severity.value == "medium"
    assert "It is staged, not in force" in staged_alert.finding.reason
    assert alert.finding is not None
    assert alert.finding.needs_context == ()
    # Remediated: v1 is the default again, as recorded; the record is not overwritten with v3.
    after = _snapshot(account, POLICY_DEFAULT, arn)
    assert after is not None
    assert after.data["default_version"] == "v1"


def test_without_the_staging_event_seen_the_previous_default_stays_unknown_and_is_only_alerted(
    account: Account, enforcer: EnforcerService
) -> None:
    arn = _deploy_policy(account)
    account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(ESCALATION), SetAsDefault=False)
    account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(ESCALATION), SetAsDefault=True)

    result = enforcer.handle(_version_event(arn, "v3", default=True, at="2026-12-05T04:05:00Z"))

    [finding] = result["findings"]
    assert finding["outcome"] == Outcome.ALERTED
    assert _default(account, arn) == "v3"


def test_a_version_created_since_the_record_is_a_candidate_too(account: Account, enforcer: EnforcerService) -> None:
    """v3 (the escalation) was created as the default unseen after the record: it may have been the default
    before v4, so which one was is unknown again, and v4 is only alerted."""
    arn = _deploy_policy(account)
    _stage(account, enforcer, arn)
    account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(ESCALATION), SetAsDefault=True)
    account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(ESCALATION), SetAsDefault=True)

    result = enforcer.handle(_version_event(arn, "v4", default=True, at="2026-12-05T04:05:00Z"))

    [finding] = result["findings"]
    assert finding["outcome"] == Outcome.ALERTED
    assert _default(account, arn) == "v4"


def test_a_record_taken_after_the_change_is_not_its_before(account: Account, enforcer: EnforcerService) -> None:
    """The staging event is judged with a time after v3's event (delivered late): the record may show v3's
    change already, so it is not used and v3 is only alerted."""
    arn = _deploy_policy(account)
    account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(ESCALATION), SetAsDefault=False)
    enforcer.handle(_version_event(arn, "v2", default=False, at="2026-12-05T04:10:00Z"))
    account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(ESCALATION), SetAsDefault=True)

    result = enforcer.handle(_version_event(arn, "v3", default=True, at="2026-12-05T04:05:00Z"))

    [finding] = result["findings"]
    assert finding["outcome"] == Outcome.ALERTED


def test_an_older_event_judged_late_never_overwrites_a_newer_record(account: Account) -> None:
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    arn = "arn:aws:iam::111122223333:policy/app-deploy"
    newer = Snapshot(POLICY_DEFAULT, arn, "2026-12-05T04:05:00.000+00:00", {"default_version": "v3"})
    older = Snapshot(POLICY_DEFAULT, arn, "2026-12-05T04:00:00.000+00:00", {"default_version": "v1"})

    assert recorded.keep(newer)
    assert not recorded.keep(older)
    assert recorded.keep(newer._replace(taken_at="2026-12-05T04:06:00.000+00:00", data={"default_version": "v4"}))

    kept = recorded.snapshot(POLICY_DEFAULT, arn)
    assert kept is not None
    assert dict(kept.data) == {"default_version": "v4"}


def test_two_states_of_one_instant_leave_a_record_no_one_trusts(account: Account) -> None:
    """Review s12 F1: CloudTrail times have one-second resolution, so of two calls of one second neither is known to
    be the last: a record of what one call set (``ambiguous_within_instant``) is marked unusable when another of
    its instant set something else, and left alone when it set the same, or when a later record is stored."""
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    arn = "arn:aws:s3:::acme-exports"
    at = "2026-11-22T10:18:58.000+00:00"
    off = Snapshot(PUBLIC_ACCESS_BLOCK, arn, at, {"configuration": None}, ambiguous_within_instant=True)
    on = off._replace(data={"configuration": {"BlockPublicAcls": True}})

    assert recorded.keep(off)
    assert not recorded.keep(off)  # the same state again (a redelivery): still trusted
    assert not (_stored(recorded, arn)).unusable
    assert not recorded.keep(on)
    assert _stored(recorded, arn).unusable
    assert recorded.keep(on._replace(taken_at="2026-11-22T10:18:59.000+00:00"))  # a later call: trusted again
    assert not _stored(recorded, arn).unusable
    assert not recorded.keep(off._replace(ambiguous_within_instant=False, taken_at="2026-11-22T10:18:59.000+00:00"))
    assert not _stored(recorded, arn).unusable  # a record that does not say so is refused as before, nothing marked
    assert not recorded.keep(off)  # an older one: refused, the later record stays trusted
    assert not _stored(recorded, arn).unusable


@pytest.mark.parametrize(
    "failure",
    [
        ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "UpdateItem"),
        EndpointConnectionError(endpoint_url="https://dynamodb"),
    ],
)
def test_a_failed_marking_of_an_ambiguous_record_is_an_audit_error(account: Account, failure: Exception) -> None:
    """Marking the record unusable fails: the event fails and is retried (an ``AuditError``), never a trusted record."""
    arn = "arn:aws:s3:::acme-exports"
    at = "2026-11-22T10:18:58.000+00:00"
    off = Snapshot(PUBLIC_ACCESS_BLOCK, arn, at, {"configuration": None}, ambiguous_within_instant=True)
    AuditRecorded(account.audit(), account.dynamodb).put(off)

    class Failing:
        def __getattr__(self, name: str) -> Any:
            return getattr(account.dynamodb, name)

        def update_item(self, **_: Any) -> None:
            raise failure

    with pytest.raises(AuditError, match="cannot mark snapshot"):
        AuditRecorded(account.audit(), Failing()).keep(off._replace(data={"configuration": {}}))


def _stored(recorded: AuditRecorded, arn: str) -> Snapshot:
    kept = recorded.snapshot(PUBLIC_ACCESS_BLOCK, arn)
    assert kept is not None
    return kept


# --- gap 10: a boundary narrowed after the heartbeat's snapshot -----------------------------------------------------


def _boundary_policy(account: Account, name: str, *actions: str) -> str:
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}
    return str(account.iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document))["Policy"]["Arn"])


def _narrowed(account: Account, enforcer: EnforcerService) -> tuple[str, str]:
    """team-deployer bounded by deployer-boundary-wide (the heartbeat's snapshot at 09:20), narrowed at 09:21 to
    deployer-boundary by an admin, and that event judged (compliant)."""
    wide = _boundary_policy(account, "deployer-boundary-wide", "s3:GetObject", "s3:PutObject", "sqs:SendMessage")
    narrow = _boundary_policy(account, "deployer-boundary", "s3:GetObject")
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    account.iam.create_role(RoleName="team-deployer", AssumeRolePolicyDocument=trust, PermissionsBoundary=wide)
    snapshots = take_boundary_snapshots(account.iam, HOME_ACCOUNT, "2026-11-20T09:20:00.000+00:00")
    AuditRecorded(account.audit(), account.dynamodb).put_all(snapshots)
    account.set("rules/permissions-boundary-weakened/mode", "remediate")
    account.iam.put_role_permissions_boundary(RoleName="team-deployer", PermissionsBoundary=narrow)
    event = copy.deepcopy(load_event("put-role-permissions-boundary-wider.json"))
    event["detail"]["eventTime"] = event["time"] = "2026-11-20T09:21:00Z"
    event["detail"]["eventID"] = "00000000-0000-4000-8000-000000000a21"
    event["detail"]["requestParameters"]["permissionsBoundary"] = narrow
    result = enforcer.handle(event)
    assert (result["verdict"], result["findings"]) == ("compliant", [])
    return wide, narrow


def _role_boundary(account: Account) -> str | None:
    boundary = account.iam.get_role(RoleName="team-deployer")["Role"].get("PermissionsBoundary", {})
    return None if "PermissionsBoundaryArn" not in boundary else str(boundary["PermissionsBoundaryArn"])


def test_a_deleted_boundary_is_the_one_the_enforcer_saw_set_last(account: Account, enforcer: EnforcerService) -> None:
    _, narrow = _narrowed(account, enforcer)
    kept = _snapshot(account, BOUNDARY, f"arn:aws:iam::{HOME_ACCOUNT}:role/team-deployer")
    assert kept is not None
    assert (kept.taken_at, dict(kept.data)) == ("2026-11-20T09:21:00.000+00:00", {"boundary_arn": narrow})
    account.iam.delete_role_permissions_boundary(RoleName="team-deployer")

    [finding] = enforcer.handle(load_event("delete-role-permissions-boundary.json"))["findings"]  # 09:22:41

    assert finding["outcome"] == Outcome.REMEDIATED
    assert finding["done"] == [f"put permissions boundary {narrow} back on role team-deployer"]
    assert _role_boundary(account) == narrow


def test_a_widening_back_to_the_older_snapshot_boundary_is_found(account: Account, enforcer: EnforcerService) -> None:
    wide, narrow = _narrowed(account, enforcer)
    account.iam.put_role_permissions_boundary(RoleName="team-deployer", PermissionsBoundary=wide)

    result = enforcer.handle(load_event("put-role-permissions-boundary-wider.json"))  # 09:25:12, wide again

    [finding] = result["findings"]
    assert finding["outcome"] == Outcome.REMEDIATED
    assert _role_boundary(account) == narrow


def test_an_alerted_deletion_is_not_kept_as_the_boundary_now(account: Account, enforcer: EnforcerService) -> None:
    """What a violating change set is no known good state (audit s7 gap 8): in alert mode the deletion stays, but
    the snapshot keeps the last compliant boundary, so a later change is judged against that."""
    _, narrow = _narrowed(account, enforcer)
    account.set("rules/permissions-boundary-weakened/mode", "alert")
    account.iam.delete_role_permissions_boundary(RoleName="team-deployer")

    [finding] = enforcer.handle(load_event("delete-role-permissions-boundary.json"))["findings"]

    assert finding["outcome"] == Outcome.ALERTED
    kept = _snapshot(account, BOUNDARY, f"arn:aws:iam::{HOME_ACCOUNT}:role/team-deployer")
    assert kept is not None
    assert dict(kept.data) == {"boundary_arn": narrow}


def test_a_wider_boundary_only_alerted_is_not_what_a_later_deletion_puts_back(
    account: Account, enforcer: EnforcerService
) -> None:
    """The audit's case: a boundary widened (alerted, not put back), then deleted. The deletion's restore puts back
    the last compliant boundary, never the intruder's wider one."""
    wide, narrow = _narrowed(account, enforcer)
    account.set("rules/permissions-boundary-weakened/mode", "alert")
    account.iam.put_role_permissions_boundary(RoleName="team-deployer", PermissionsBoundary=wide)
    [widened] = enforcer.handle(load_event("put-role-permissions-boundary-wider.json"))["findings"]  # 09:25:12
    assert widened["outcome"] == Outcome.ALERTED
    account.set("rules/permissions-boundary-weakened/mode", "remediate")
    account.iam.delete_role_permissions_boundary(RoleName="team-deployer")
    event = copy.deepcopy(load_event("delete-role-permissions-boundary.json"))
    event["detail"]["eventTime"] = event["time"] = "2026-11-20T09:26:00Z"

    [finding] = enforcer.handle(event)["findings"]

    assert finding["outcome"] == Outcome.REMEDIATED
    assert _role_boundary(account) == narrow


# --- a snapshot that cannot be kept ------------------------------------------------------------------------------


class _Unkept:
    """The audit record, with every ``keep`` failing as DynamoDB would (``AuditError``)."""

    def __init__(self, recorded: Any) -> None:
        self.recorded = recorded

    def snapshot(self, kind: str, resource_arn: str) -> Snapshot | None:
        found: Snapshot | None = self.recorded.snapshot(kind, resource_arn)
        return found

    def remediations(self, resource_arn: str) -> Any:
        return self.recorded.remediations(resource_arn)

    def keep(self, snapshot: Snapshot) -> bool:
        raise AuditError(f"cannot write snapshot {snapshot.kind}: ProvisionedThroughputExceededException")


class _Counted:
    def __init__(self) -> None:
        self.counted: list[str] = []

    def count(self, metric: str, rule: str | None = None) -> None:
        self.counted.append(metric)

    def bind(self, **keys: str | None) -> None:
        return None


def test_a_compliant_event_whose_snapshot_cannot_be_kept_fails_to_be_retried(
    account: Account, enforcer: EnforcerService
) -> None:
    arn = _deploy_policy(account)
    enforcer.recorded = _Unkept(enforcer.recorded)

    with pytest.raises(AuditError, match="cannot write snapshot policy-default"):
        _stage(account, enforcer, arn, SAFE)


def test_an_alerted_event_whose_snapshot_cannot_be_kept_is_counted_not_failed(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """The staged version is alerted, and the default it left (v1, not set by the event) is kept whatever the
    verdict; a failed write after the alert went out is counted, not raised."""
    arn = _deploy_policy(account)
    enforcer.recorded = _Unkept(enforcer.recorded)
    enforcer.telemetry = telemetry = _Counted()

    [finding] = _stage(account, enforcer, arn)["findings"]

    assert finding["outcome"] == Outcome.ALERTED
    assert len(notifier.sent) == 1
    assert "SnapshotsNotKept" in telemetry.counted
