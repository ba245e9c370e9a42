"""GuardDuty's findings export put back by the enforcer as Lambda wires it, from the snapshot it kept of the
destination's create, and undone with ``iamwarden undo``'s executor (issue 15 item 3).

moto has no GuardDuty publishing destinations ("Not yet implemented"): the botocore Stubber checks every call and its
parameters against the real API model, in order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber

from iamwarden.adapters.audit import AuditRecord, AuditStatus
from iamwarden.adapters.errors import TransientAwsError, error_code
from iamwarden.app.service import EnforcementFailedError, EnforcerService
from iamwarden.domain.catalog import Severity
from iamwarden.domain.exceptions import AuditError, UndoError
from iamwarden.domain.findings import Finding, Outcome
from iamwarden.domain.recorded import Snapshot
from iamwarden.guardrails.security_services import PUBLISHING_DESTINATION
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

OPERATOR = f"arn:aws:iam::{HOME_ACCOUNT}:user/secops"
REGION = "eu-west-1"
DETECTOR = "12abc34d567e8fa901bc2d34eEXAMPLE"
DESTINATION = "a4b9c8d7e6f5a4b3c2d1e0f9aEXAMPLE"
MADE = "b5c0d9e8f7a6b5c4d3e2f1a0bEXAMPLE"
BUCKET_NAME = "acme-guardduty-findings"
BUCKET = f"arn:aws:s3:::{BUCKET_NAME}"
KEY = f"arn:aws:kms:{REGION}:{HOME_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
DROP = "arn:aws:s3:::findings-drop-4417"
DROP_KEY = "arn:aws:kms:eu-west-1:444455556666:key/0f9e8d7c-6b5a-4c3d-2e1f-0a9b8c7d6e5f"
RECORDED = {"DestinationArn": BUCKET, "KmsKeyArn": KEY}
#: What a re-create or put-back sends: the owner pinned, so GuardDuty refuses a same-name bucket elsewhere.
OWNED = {**RECORDED, "ExpectedBucketOwner": HOME_ACCOUNT}
MOVED = {"DestinationArn": DROP, "KmsKeyArn": DROP_KEY}


@pytest.fixture(autouse=True)
def export_bucket(enforcer: EnforcerService) -> Any:
    """The recorded export bucket, in this account (moto's S3): the enforcer checks with HeadBucket that it is still
    this account's before it re-creates or puts back an export (issue 15). The enforcer's own S3 client."""
    s3 = enforcer.executor.clients.client("s3", HOME_ACCOUNT, REGION)
    s3.create_bucket(Bucket=BUCKET_NAME, CreateBucketConfiguration={"LocationConstraint": REGION})
    return s3


def _event(kind: str) -> dict[str, Any]:
    event = load_event(f"guardduty-publishing-destination-{kind}.json")
    event["account"] = event["detail"]["recipientAccountId"] = HOME_ACCOUNT
    return event


def _client(enforcer: EnforcerService) -> Any:
    return enforcer.executor.clients.client("guardduty", HOME_ACCOUNT, REGION)


def _only(result: dict[str, Any]) -> dict[str, Any]:
    [finding] = result["findings"]
    return dict(finding)


def _listed(*destinations: str) -> dict[str, Any]:
    return {
        "Destinations": [
            {"DestinationId": destination, "DestinationType": "S3", "Status": "PUBLISHING"}
            for destination in destinations
        ]
    }


def _described(destination: str, properties: dict[str, str]) -> dict[str, Any]:
    return {
        "DestinationId": destination,
        "DestinationType": "S3",
        "Status": "PUBLISHING",
        "PublishingFailureStartTimestamp": 0,
        "DestinationProperties": properties,
    }


LIST = {"DetectorId": DETECTOR}


def _detectors(stubber: Stubber, *detectors: str) -> None:
    """The re-read that tells a detector gone from a refusal (both answer BadRequestException)."""
    stubber.add_response("list_detectors", {"DetectorIds": list(detectors)}, {})


def _described_params(destination: str) -> dict[str, str]:
    return {"DetectorId": DETECTOR, "DestinationId": destination}


def _created(account: Account, enforcer: EnforcerService) -> None:
    """The destination's create, judged compliant first: the enforcer keeps what it set."""
    account.set("rules/guardduty-disabled/mode", "remediate")
    assert enforcer.handle(_event("created"))["findings"] == []


def test_a_deleted_destination_is_recreated_and_undo_deletes_the_one_it_made(
    account: Account, enforcer: EnforcerService
) -> None:
    _created(account, enforcer)
    with Stubber(_client(enforcer)) as stubber:
        stubber.add_response("list_publishing_destinations", _listed(), LIST)  # the judgement: none left
        stubber.add_response("list_publishing_destinations", _listed(), LIST)  # capture
        stubber.add_response(
            "create_publishing_destination",
            {"DestinationId": MADE},
            {"DetectorId": DETECTOR, "DestinationType": "S3", "DestinationProperties": OWNED},
        )
        finding = _only(enforcer.handle(_event("deleted")))
        stubber.assert_no_pending_responses()
        stubber.add_response("list_publishing_destinations", _listed(MADE), LIST)
        stubber.add_response("describe_publishing_destination", _described(MADE, OWNED), _described_params(MADE))
        stubber.add_response("delete_publishing_destination", {}, _described_params(MADE))
        undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
        stubber.assert_no_pending_responses()

    assert finding["outcome"] == Outcome.REMEDIATED
    assert finding["done"] == [
        f"re-created the publishing destination of GuardDuty detector {DETECTOR} to {BUCKET} (now {MADE})"
    ]
    assert list(undo.restored) == [
        f"deleted publishing destination {MADE} of GuardDuty detector {DETECTOR} again, as before"
    ]


AGAIN = "c6d1e0f9a8b7c6d5e4f3a2b1cEXAMPLE"


def test_a_recreated_destination_deleted_again_is_recreated_again(account: Account, enforcer: EnforcerService) -> None:
    """Review-secsvc F10: the enforcer's own create is no event it judges, so the re-create records the new
    destination as the deleted one was recorded; deleting the new one is then re-created too, not only alerted."""
    _created(account, enforcer)
    create = {"DetectorId": DETECTOR, "DestinationType": "S3", "DestinationProperties": OWNED}
    second = _event("deleted")
    second["detail"]["requestParameters"]["destinationId"] = MADE
    # The attacker waits for the re-create, then deletes the new destination: an event after it.
    later = (datetime.now(UTC) + timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    second["time"] = second["detail"]["eventTime"] = later
    second["id"] = "e42e5f2a-b6fc-573b-a397-9a0dbd22c199"
    second["detail"]["eventID"] = "a084adab-74d6-5e99-a878-3a1d62f5c199"
    with Stubber(_client(enforcer)) as stubber:
        stubber.add_response("list_publishing_destinations", _listed(), LIST)  # the judgement: none left
        stubber.add_response("list_publishing_destinations", _listed(), LIST)  # capture
        stubber.add_response("create_publishing_destination", {"DestinationId": MADE}, create)
        first = _only(enforcer.handle(_event("deleted")))
        stubber.assert_no_pending_responses()
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response("create_publishing_destination", {"DestinationId": AGAIN}, create)
        again = _only(enforcer.handle(second))
        stubber.assert_no_pending_responses()

    assert (first["outcome"], again["outcome"]) == (Outcome.REMEDIATED, Outcome.REMEDIATED)
    assert again["done"] == [
        f"re-created the publishing destination of GuardDuty detector {DETECTOR} to {BUCKET} (now {AGAIN})"
    ]
    # And the third destination is recorded in turn, with the same bucket and key.
    recorded = enforcer.executor.recorded
    assert recorded is not None
    arn = f"arn:aws:guardduty:{REGION}:{HOME_ACCOUNT}:detector/{DETECTOR}/publishingdestination/{AGAIN}"
    kept = recorded.snapshot(PUBLISHING_DESTINATION, arn)
    assert kept is not None
    assert (kept.data["destination_arn"], kept.data["kms_key_arn"]) == (BUCKET, KEY)


def _deleted_again(destination: str, at: str) -> dict[str, Any]:
    """The attacker's delete of the destination the enforcer re-created, at ``at`` (CloudTrail's whole seconds)."""
    event = _event("deleted")
    event["detail"]["requestParameters"]["destinationId"] = destination
    event["time"] = event["detail"]["eventTime"] = at
    event["id"] = f"e42e5f2a-b6fc-573b-a397-{destination[:12]}"
    event["detail"]["eventID"] = f"a084adab-74d6-5e99-a878-{destination[:12]}"
    return event


def _chain(enforcer: EnforcerService, stubber: Stubber) -> tuple[dict[str, Any], dict[str, Any]]:
    """Delete, re-create (MADE), delete MADE, re-created again (AGAIN): the two remediations' findings."""
    create = {"DetectorId": DETECTOR, "DestinationType": "S3", "DestinationProperties": OWNED}
    later = (datetime.now(UTC) + timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    stubber.add_response("list_publishing_destinations", _listed(), LIST)
    stubber.add_response("list_publishing_destinations", _listed(), LIST)
    stubber.add_response("create_publishing_destination", {"DestinationId": MADE}, create)
    first = _only(enforcer.handle(_event("deleted")))
    stubber.add_response("list_publishing_destinations", _listed(), LIST)
    stubber.add_response("list_publishing_destinations", _listed(), LIST)
    stubber.add_response("create_publishing_destination", {"DestinationId": AGAIN}, create)
    again = _only(enforcer.handle(_deleted_again(MADE, later)))
    stubber.assert_no_pending_responses()
    assert (first["outcome"], again["outcome"]) == (Outcome.REMEDIATED, Outcome.REMEDIATED)
    return first, again


def test_undo_of_a_recreate_deletes_only_the_destination_it_made(account: Account, enforcer: EnforcerService) -> None:
    """Review-orgs F2: after delete, re-create (MADE), delete MADE, re-create (AGAIN), undoing the first remediation
    must not delete AGAIN (the second's): MADE is already gone, so nothing is deleted; undoing the second deletes
    AGAIN."""
    _created(account, enforcer)
    with Stubber(_client(enforcer)) as stubber:
        first, again = _chain(enforcer, stubber)
        stubber.add_response("list_publishing_destinations", _listed(AGAIN), LIST)
        stubber.add_response("describe_publishing_destination", _described(AGAIN, OWNED), _described_params(AGAIN))
        undo_first = enforcer.executor.undo(first["remediation_id"], actor=OPERATOR)
        stubber.assert_no_pending_responses()  # no delete_publishing_destination stubbed: none made
        stubber.add_response("list_publishing_destinations", _listed(AGAIN), LIST)
        stubber.add_response("describe_publishing_destination", _described(AGAIN, OWNED), _described_params(AGAIN))
        stubber.add_response("delete_publishing_destination", {}, _described_params(AGAIN))
        undo_again = enforcer.executor.undo(again["remediation_id"], actor=OPERATOR)
        stubber.assert_no_pending_responses()
    assert list(undo_first.restored) == [
        f"publishing destination {MADE} of GuardDuty detector {DETECTOR} is already gone: nothing deleted"
    ]
    assert list(undo_again.restored) == [
        f"deleted publishing destination {AGAIN} of GuardDuty detector {DETECTOR} again, as before"
    ]


def test_undo_of_a_recreate_leaves_the_destination_it_made_when_moved_since(
    account: Account, enforcer: EnforcerService
) -> None:
    _created(account, enforcer)
    with Stubber(_client(enforcer)) as stubber:
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response(
            "create_publishing_destination",
            {"DestinationId": MADE},
            {"DetectorId": DETECTOR, "DestinationType": "S3", "DestinationProperties": OWNED},
        )
        finding = _only(enforcer.handle(_event("deleted")))
        stubber.add_response("list_publishing_destinations", _listed(MADE), LIST)
        stubber.add_response("describe_publishing_destination", _described(MADE, MOVED), _described_params(MADE))
        undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
        stubber.assert_no_pending_responses()
    assert list(undo.restored) == [
        f"publishing destination {MADE} of GuardDuty detector {DETECTOR} was moved since the remediation: left alone"
    ]


def test_undo_of_a_recreate_whose_record_cannot_be_read_deletes_nothing(
    account: Account, enforcer: EnforcerService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Which destination it made is known only from the remediation's record: unread, nothing is deleted."""
    _created(account, enforcer)
    with Stubber(_client(enforcer)) as stubber:
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response(
            "create_publishing_destination",
            {"DestinationId": MADE},
            {"DetectorId": DETECTOR, "DestinationType": "S3", "DestinationProperties": OWNED},
        )
        finding = _only(enforcer.handle(_event("deleted")))

        def unreadable(resource_arn: str) -> list[AuditRecord]:
            raise AuditError(f"cannot query the audit table by resource_arn: {resource_arn}")

        monkeypatch.setattr(enforcer.executor.audit, "history", unreadable)
        with pytest.raises(UndoError, match="cannot read which publishing destination IAM Warden made"):
            enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
        stubber.assert_no_pending_responses()  # nothing listed, nothing deleted


def test_a_recreated_destination_deleted_in_the_same_second_is_recreated_again(
    account: Account, enforcer: EnforcerService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review-orgs F3: the new destination's record is stamped before the second it was made in, so a delete with
    CloudTrail's whole-second eventTime in that same second is after it (not "not known to be from before")."""
    _created(account, enforcer)
    started = datetime.now(UTC).replace(microsecond=431_000) + timedelta(seconds=5)
    monkeypatch.setattr(enforcer.executor, "_clock", lambda: started)
    create = {"DetectorId": DETECTOR, "DestinationType": "S3", "DestinationProperties": OWNED}
    with Stubber(_client(enforcer)) as stubber:
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response("create_publishing_destination", {"DestinationId": MADE}, create)
        first = _only(enforcer.handle(_event("deleted")))
        same_second = _deleted_again(MADE, started.strftime("%Y-%m-%dT%H:%M:%SZ"))
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response("create_publishing_destination", {"DestinationId": AGAIN}, create)
        again = _only(enforcer.handle(same_second))
        stubber.assert_no_pending_responses()
    assert (first["outcome"], again["outcome"]) == (Outcome.REMEDIATED, Outcome.REMEDIATED)
    recorded = enforcer.executor.recorded
    assert recorded is not None
    arn = f"arn:aws:guardduty:{REGION}:{HOME_ACCOUNT}:detector/{DETECTOR}/publishingdestination/{MADE}"
    kept = recorded.snapshot(PUBLISHING_DESTINATION, arn)
    assert kept is not None
    assert kept.taken_at == (started.replace(microsecond=0) - timedelta(milliseconds=1)).isoformat(
        timespec="milliseconds"
    )


def test_a_recreate_in_a_run_that_keeps_no_record_says_so(
    account: Account, enforcer: EnforcerService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review-orgs F6: an executor without the snapshots (the heartbeat's) makes the destination and says it is not
    recorded, rather than nothing."""
    _created(account, enforcer)
    monkeypatch.setattr(enforcer.executor, "recorded", None)
    with Stubber(_client(enforcer)) as stubber:
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response(
            "create_publishing_destination",
            {"DestinationId": MADE},
            {"DetectorId": DETECTOR, "DestinationType": "S3", "DestinationProperties": OWNED},
        )
        finding = _only(enforcer.handle(_event("deleted")))
        stubber.assert_no_pending_responses()
    assert finding["outcome"] == Outcome.REMEDIATED
    made, unrecorded = finding["done"]
    assert made.endswith(f"(now {MADE})")
    assert unrecorded.startswith(
        f"NOT recorded: IAM Warden's record of publishing destination {MADE} (no record is kept in this run)"
    )


def test_a_recreate_whose_record_cannot_be_written_says_so_and_stays_done(
    account: Account, enforcer: EnforcerService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The destination is made either way; a failed write of its record is said in what was done, never raised."""
    _created(account, enforcer)
    recorded = enforcer.executor.recorded
    assert recorded is not None

    def refused(snapshot: Snapshot) -> bool:
        raise AuditError(f"cannot write snapshot {snapshot.resource_arn}: AccessDeniedException")

    monkeypatch.setattr(recorded, "keep", refused)
    with Stubber(_client(enforcer)) as stubber:
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response(
            "create_publishing_destination",
            {"DestinationId": MADE},
            {"DetectorId": DETECTOR, "DestinationType": "S3", "DestinationProperties": OWNED},
        )
        finding = _only(enforcer.handle(_event("deleted")))
        stubber.assert_no_pending_responses()
    assert finding["outcome"] == Outcome.REMEDIATED
    made, unrecorded = finding["done"]
    assert made.endswith(f"(now {MADE})")
    assert unrecorded.startswith(f"NOT recorded: IAM Warden's record of publishing destination {MADE}")
    assert "AccessDeniedException" in unrecorded


def test_a_destination_recreated_meanwhile_is_left_alone(account: Account, enforcer: EnforcerService) -> None:
    """Idempotent: the detector exports to that bucket with that key again already; nothing is made, nothing undone."""
    _created(account, enforcer)
    with Stubber(_client(enforcer)) as stubber:
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response("list_publishing_destinations", _listed(MADE), LIST)
        stubber.add_response("describe_publishing_destination", _described(MADE, RECORDED), _described_params(MADE))
        finding = _only(enforcer.handle(_event("deleted")))
        undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
        stubber.assert_no_pending_responses()
    assert (finding["outcome"], finding["done"], list(undo.restored)) == (Outcome.REMEDIATED, [], [])


def test_without_the_create_seen_a_deleted_destination_is_only_alerted(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set("rules/guardduty-disabled/mode", "remediate")
    with Stubber(_client(enforcer)) as stubber:
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        finding = _only(enforcer.handle(_event("deleted")))
        stubber.assert_no_pending_responses()
    # No snapshot from before: the finding carries what is unknown, so nothing is re-created (no create was stubbed).
    assert (finding["outcome"], finding["done"]) == (Outcome.ALERTED, [])


def test_a_moved_destination_is_put_back_and_undo_moves_it_again(account: Account, enforcer: EnforcerService) -> None:
    _created(account, enforcer)
    described = _described_params(DESTINATION)
    with Stubber(_client(enforcer)) as stubber:
        stubber.add_response("describe_publishing_destination", _described(DESTINATION, MOVED), described)
        stubber.add_response("update_publishing_destination", {}, {**described, "DestinationProperties": OWNED})
        finding = _only(enforcer.handle(_event("moved")))
        stubber.assert_no_pending_responses()
        stubber.add_response("describe_publishing_destination", _described(DESTINATION, OWNED), described)
        stubber.add_response("update_publishing_destination", {}, {**described, "DestinationProperties": MOVED})
        undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
        stubber.assert_no_pending_responses()

    assert finding["outcome"] == Outcome.REMEDIATED
    assert finding["done"] == [
        f"put publishing destination {DESTINATION} of GuardDuty detector {DETECTOR} back to {BUCKET} (expected "
        f"bucket owner {HOME_ACCOUNT})"
    ]
    assert list(undo.restored) == [
        f"moved publishing destination {DESTINATION} of GuardDuty detector {DETECTOR} back, as the event set it (its "
        f"expected bucket owner {HOME_ACCOUNT} stays: an update cannot clear one)"
    ]


@pytest.mark.parametrize(
    "now", [None, {"DestinationArn": "arn:aws:s3:::elsewhere", "KmsKeyArn": KEY}], ids=["deleted", "moved-again"]
)
def test_a_destination_deleted_or_moved_again_is_left_alone(
    account: Account, enforcer: EnforcerService, now: dict[str, str] | None
) -> None:
    _created(account, enforcer)
    described = _described_params(DESTINATION)
    with Stubber(_client(enforcer)) as stubber:
        if now is None:
            stubber.add_client_error(
                "describe_publishing_destination", "BadRequestException", expected_params=described
            )
            _detectors(stubber, DETECTOR)  # the re-read confirms it: the detector is there, the destination is not
            stubber.add_response("list_publishing_destinations", _listed(), LIST)
        else:
            stubber.add_response("describe_publishing_destination", _described(DESTINATION, now), described)
        finding = _only(enforcer.handle(_event("moved")))
        undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
        stubber.assert_no_pending_responses()
    assert (finding["outcome"], finding["done"], list(undo.restored)) == (Outcome.REMEDIATED, [], [])


def test_undo_of_a_destination_deleted_since_says_so(account: Account, enforcer: EnforcerService) -> None:
    _created(account, enforcer)
    described = _described_params(DESTINATION)
    with Stubber(_client(enforcer)) as stubber:
        stubber.add_response("describe_publishing_destination", _described(DESTINATION, MOVED), described)
        stubber.add_response("update_publishing_destination", {}, {**described, "DestinationProperties": OWNED})
        finding = _only(enforcer.handle(_event("moved")))
        stubber.add_client_error("describe_publishing_destination", "BadRequestException", expected_params=described)
        _detectors(stubber, DETECTOR)
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        with pytest.raises(UndoError, match="no longer exists"):
            enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)


def test_a_moved_destination_in_alert_mode_is_only_alerted(account: Account, enforcer: EnforcerService) -> None:
    assert enforcer.handle(_event("created"))["findings"] == []
    with Stubber(_client(enforcer)) as stubber:
        finding = _only(enforcer.handle(_event("moved")))
        stubber.assert_no_pending_responses()
    assert finding["outcome"] == Outcome.ALERTED


REFUSED = "The request is rejected because the KMS key policy does not allow GuardDuty to use the key."


def _failed(enforcer: EnforcerService, kind: str) -> AuditRecord:
    """The event's remediation, which must fail: its audit record (the alert says remediation_failed)."""
    with pytest.raises(EnforcementFailedError) as raised:
        enforcer.handle(_event(kind))
    [failure] = raised.value.failures
    assert failure.record.status == AuditStatus.FAILED
    return failure.record


def test_a_refused_recreate_is_a_failed_remediation(account: Account, enforcer: EnforcerService) -> None:
    """BadRequestException is every refusal of GuardDuty's (its one modelled client error): with the detector still
    listed it is no "already gone", and the export is not back."""
    _created(account, enforcer)
    with Stubber(_client(enforcer)) as stubber:
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_client_error(
            "create_publishing_destination",
            "BadRequestException",
            REFUSED,
            expected_params={"DetectorId": DETECTOR, "DestinationType": "S3", "DestinationProperties": OWNED},
        )
        _detectors(stubber, DETECTOR)
        record = _failed(enforcer, "deleted")
        stubber.assert_no_pending_responses()
    assert list(record.done) == []
    assert "BadRequestException; done: nothing; not done: re-create" in str(record.error)


def test_a_recreate_refused_because_the_detector_is_gone_is_done(account: Account, enforcer: EnforcerService) -> None:
    _created(account, enforcer)
    with Stubber(_client(enforcer)) as stubber:
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_client_error("create_publishing_destination", "BadRequestException", "detector not found")
        _detectors(stubber)  # not listed: gone meanwhile
        finding = _only(enforcer.handle(_event("deleted")))
        stubber.assert_no_pending_responses()
    assert (finding["outcome"], finding["done"]) == (Outcome.REMEDIATED, [])


def test_a_refused_restore_is_a_failed_remediation(account: Account, enforcer: EnforcerService) -> None:
    _created(account, enforcer)
    described = _described_params(DESTINATION)
    with Stubber(_client(enforcer)) as stubber:
        stubber.add_response("describe_publishing_destination", _described(DESTINATION, MOVED), described)
        stubber.add_client_error(
            "update_publishing_destination",
            "BadRequestException",
            REFUSED,
            expected_params={**described, "DestinationProperties": OWNED},
        )
        _detectors(stubber, DETECTOR)
        stubber.add_response("list_publishing_destinations", _listed(DESTINATION), LIST)
        record = _failed(enforcer, "moved")
        stubber.assert_no_pending_responses()
    assert list(record.done) == []
    assert "BadRequestException; done: nothing; not done: put" in str(record.error)


@pytest.mark.parametrize("rereads", ["listed", "unreadable"])
def test_a_refused_read_of_the_destination_is_no_deletion(
    account: Account, enforcer: EnforcerService, rereads: str
) -> None:
    """The capture's describe refused while the destination is still listed (or the re-read fails): not "deleted
    meanwhile", so nothing is reported fixed."""
    _created(account, enforcer)
    described = _described_params(DESTINATION)
    with Stubber(_client(enforcer)) as stubber:
        stubber.add_client_error("describe_publishing_destination", "BadRequestException", REFUSED, 400, described)
        if rereads == "listed":
            _detectors(stubber, DETECTOR)
            stubber.add_response("list_publishing_destinations", _listed(DESTINATION), LIST)
        else:
            stubber.add_client_error("list_detectors", "AccessDeniedException", "no", 403)
        record = _failed(enforcer, "moved")
        stubber.assert_no_pending_responses()
    assert (list(record.done), list(record.before)) == ([], [])


# The expected bucket owner is part of where the findings go (review F2).


def _created_with_owner(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/guardduty-disabled/mode", "remediate")
    event = _event("created")
    event["detail"]["requestParameters"]["destinationProperties"]["expectedBucketOwner"] = HOME_ACCOUNT
    assert enforcer.handle(event)["findings"] == []


def test_a_recreate_puts_the_recorded_bucket_owner_back_even_beside_a_lookalike(
    account: Account, enforcer: EnforcerService
) -> None:
    """A destination to the same bucket and key with another expected owner exports nothing: not "there already"."""
    _created_with_owner(account, enforcer)
    lookalike = {**RECORDED, "ExpectedBucketOwner": "444455556666"}
    with Stubber(_client(enforcer)) as stubber:
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response("list_publishing_destinations", _listed(MADE), LIST)
        stubber.add_response("describe_publishing_destination", _described(MADE, lookalike), _described_params(MADE))
        stubber.add_response(
            "create_publishing_destination",
            {"DestinationId": "c6d1e0f9a8b7c6d5e4f3a2b1cEXAMPLE"},
            {"DetectorId": DETECTOR, "DestinationType": "S3", "DestinationProperties": OWNED},
        )
        finding = _only(enforcer.handle(_event("deleted")))
        stubber.assert_no_pending_responses()
    assert finding["outcome"] == Outcome.REMEDIATED


def test_a_restore_sends_the_recorded_bucket_owner(account: Account, enforcer: EnforcerService) -> None:
    """An update omitting the owner leaves the event's: the restore names the recorded one."""
    _created_with_owner(account, enforcer)
    event = _event("moved")
    event["detail"]["requestParameters"]["destinationProperties"]["expectedBucketOwner"] = "444455556666"
    described = _described_params(DESTINATION)
    with Stubber(_client(enforcer)) as stubber:
        stubber.add_response(
            "describe_publishing_destination",
            _described(DESTINATION, {**MOVED, "ExpectedBucketOwner": "444455556666"}),
            described,
        )
        stubber.add_response("update_publishing_destination", {}, {**described, "DestinationProperties": OWNED})
        finding = _only(enforcer.handle(event))
        stubber.assert_no_pending_responses()
    assert finding["outcome"] == Outcome.REMEDIATED


def test_a_key_only_move_puts_back_the_key_and_keeps_the_live_bucket(
    account: Account, enforcer: EnforcerService
) -> None:
    """Review F7: remove what the change added, no more: a bucket changed by an earlier update stays as read."""
    _created(account, enforcer)
    other_key = KEY.replace("1234abcd", "ffffffff")
    event = _event("moved")
    event["detail"]["requestParameters"]["destinationProperties"] = {"kmsKeyArn": other_key}
    elsewhere = "arn:aws:s3:::acme-findings-archive"
    described = _described_params(DESTINATION)
    with Stubber(_client(enforcer)) as stubber:
        stubber.add_response(
            "describe_publishing_destination",
            _described(DESTINATION, {"DestinationArn": elsewhere, "KmsKeyArn": other_key}),
            described,
        )
        stubber.add_response(
            "update_publishing_destination",
            {},
            {**described, "DestinationProperties": {"DestinationArn": elsewhere, "KmsKeyArn": KEY}},
        )
        finding = _only(enforcer.handle(event))
        stubber.assert_no_pending_responses()
    assert finding["outcome"] == Outcome.REMEDIATED


# --- Issue 15 / review-orgs-s12 F4: the export bucket's owner checked before an export is re-created or put back ---

HEAD = {"Bucket": BUCKET_NAME, "ExpectedBucketOwner": HOME_ACCOUNT}


def _alert(notifier: RecordingNotifier) -> Finding:
    """The finding of the last alert sent (the answer of ``handle`` carries no severity or what is unknown)."""
    finding = notifier.sent[-1].finding
    assert finding is not None
    return finding


def test_a_recreate_first_confirms_the_bucket_is_this_accounts(
    account: Account, enforcer: EnforcerService, export_bucket: Any
) -> None:
    """HeadBucket with ExpectedBucketOwner = the recorded account, at the judgement and again as the step runs; both
    answer (the bucket is this account's), so the export is re-created."""
    _created(account, enforcer)
    with Stubber(_client(enforcer)) as stubber, Stubber(export_bucket) as s3:
        s3.add_response("head_bucket", {}, HEAD)  # the judgement
        s3.add_response("head_bucket", {}, HEAD)  # as the step runs
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response(
            "create_publishing_destination",
            {"DestinationId": MADE},
            {"DetectorId": DETECTOR, "DestinationType": "S3", "DestinationProperties": OWNED},
        )
        finding = _only(enforcer.handle(_event("deleted")))
        stubber.assert_no_pending_responses()
        s3.assert_no_pending_responses()
    assert finding["outcome"] == Outcome.REMEDIATED


def test_a_recreate_to_a_deleted_bucket_is_only_alerted(
    account: Account, enforcer: EnforcerService, export_bucket: Any, notifier: RecordingNotifier
) -> None:
    """moto's S3 answers HeadBucket of a deleted bucket 404: whoever makes that name next would get the findings."""
    _created(account, enforcer)
    export_bucket.delete_bucket(Bucket=BUCKET_NAME)
    with Stubber(_client(enforcer)) as stubber:
        stubber.add_response("list_publishing_destinations", _listed(), LIST)  # the judgement; no create stubbed
        finding = _only(enforcer.handle(_event("deleted")))
        stubber.assert_no_pending_responses()
    alert = _alert(notifier)
    assert (finding["outcome"], finding["done"], alert.severity) == (Outcome.ALERTED, [], Severity.CRITICAL)
    assert alert.needs_context == (
        f"the export bucket's owner: the export bucket {BUCKET_NAME} no longer exists (whoever makes a bucket of "
        "that name next, in any account, would receive the findings)",
    )
    assert "IAM Warden does not re-create it" in alert.reason


@pytest.mark.parametrize(
    "refusal",
    [
        ("403", 403, f"so it is not confirmed account {HOME_ACCOUNT}'s: IAM Warden's role may lack s3:ListBucket"),
        ("400", 400, "could not be read (400)"),
    ],
    ids=["other-owner", "unreadable"],
)
def test_a_recreate_to_a_bucket_of_another_owner_is_only_alerted(
    account: Account,
    enforcer: EnforcerService,
    export_bucket: Any,
    notifier: RecordingNotifier,
    refusal: tuple[str, int, str],
) -> None:
    """The attacker deleted the bucket and made one of that name in his account: S3 refuses HeadBucket with
    ExpectedBucketOwner (403). moto does not check ExpectedBucketOwner (it answers 200 for any owner), so the S3
    answer is stubbed (botocore's Stubber checks the call against the real model)."""
    code, status, said = refusal
    _created(account, enforcer)
    with Stubber(_client(enforcer)) as stubber, Stubber(export_bucket) as s3:
        s3.add_client_error("head_bucket", code, "", http_status_code=status, expected_params=HEAD)
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        finding = _only(enforcer.handle(_event("deleted")))
        stubber.assert_no_pending_responses()
        s3.assert_no_pending_responses()
    alert = _alert(notifier)
    assert (finding["outcome"], finding["done"], alert.severity) == (Outcome.ALERTED, [], Severity.CRITICAL)
    [needs] = alert.needs_context
    assert needs.startswith("the export bucket's owner: ")
    assert said in needs


def test_a_bucket_made_elsewhere_between_judgement_and_recreate_fails_the_remediation(
    account: Account, enforcer: EnforcerService, export_bucket: Any
) -> None:
    """Checked again as the step runs: the judgement's HeadBucket answered, the step's is refused (403): nothing is
    created, the remediation fails and says why."""
    _created(account, enforcer)
    with Stubber(_client(enforcer)) as stubber, Stubber(export_bucket) as s3:
        s3.add_response("head_bucket", {}, HEAD)
        s3.add_client_error("head_bucket", "403", "", http_status_code=403, expected_params=HEAD)
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response("list_publishing_destinations", _listed(), LIST)  # capture; no create stubbed
        record = _failed(enforcer, "deleted")
        stubber.assert_no_pending_responses()
        s3.assert_no_pending_responses()
    assert list(record.done) == []
    assert f"publishing destination not re-created: S3 refused HeadBucket of the export bucket {BUCKET_NAME}" in str(
        record.error
    )


def test_a_restore_to_a_deleted_bucket_is_only_alerted(
    account: Account, enforcer: EnforcerService, export_bucket: Any, notifier: RecordingNotifier
) -> None:
    """The UpdatePublishingDestination path: the recorded bucket is gone, so the export is not moved back there."""
    _created(account, enforcer)
    export_bucket.delete_bucket(Bucket=BUCKET_NAME)
    with Stubber(_client(enforcer)) as stubber:  # no GuardDuty call at all
        finding = _only(enforcer.handle(_event("moved")))
        stubber.assert_no_pending_responses()
    alert = _alert(notifier)
    assert (finding["outcome"], finding["done"], alert.severity) == (Outcome.ALERTED, [], Severity.CRITICAL)
    assert "IAM Warden does not put it back" in alert.reason
    [needs] = alert.needs_context
    assert f"the export bucket {BUCKET_NAME} no longer exists" in needs


def test_a_throttled_bucket_check_is_retried_not_judged(
    account: Account, enforcer: EnforcerService, export_bucket: Any, notifier: RecordingNotifier
) -> None:
    """A throttled HeadBucket is no answer about the owner: the event fails for a retry, nothing is decided."""
    _created(account, enforcer)
    with Stubber(_client(enforcer)) as stubber, Stubber(export_bucket) as s3:
        s3.add_client_error("head_bucket", "SlowDown", "", http_status_code=503, expected_params=HEAD)
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        with pytest.raises(TransientAwsError, match=r"^HeadBucket") as raised:
            enforcer.handle(_event("deleted"))
        s3.assert_no_pending_responses()  # the one check was made, then the event failed for a retry
    cause = raised.value.__cause__
    assert cause is not None
    assert error_code(cause) == "SlowDown"
    assert notifier.sent == []  # nothing judged, nothing alerted


def test_a_bucket_made_elsewhere_between_judgement_and_restore_fails_the_remediation(
    account: Account, enforcer: EnforcerService, export_bucket: Any
) -> None:
    """The put-back checks again as it runs: the step's HeadBucket is refused (403), nothing is updated."""
    _created(account, enforcer)
    described = _described_params(DESTINATION)
    with Stubber(_client(enforcer)) as stubber, Stubber(export_bucket) as s3:
        s3.add_response("head_bucket", {}, HEAD)
        s3.add_client_error("head_bucket", "403", "", http_status_code=403, expected_params=HEAD)
        stubber.add_response("describe_publishing_destination", _described(DESTINATION, MOVED), described)
        record = _failed(enforcer, "moved")  # no update stubbed
        stubber.assert_no_pending_responses()
        s3.assert_no_pending_responses()
    assert list(record.done) == []
    assert f"publishing destination not put back: S3 refused HeadBucket of the export bucket {BUCKET_NAME}" in str(
        record.error
    )


def test_a_bucket_in_another_region_is_only_alerted_its_owner_unconfirmed(
    account: Account, enforcer: EnforcerService, export_bucket: Any, notifier: RecordingNotifier
) -> None:
    """Review-guard-s13 F3: a redirect (301, S3's ``x-amz-bucket-region`` header) that botocore's own redirector did
    not follow is no answer about the owner: alerted as unconfirmed, naming the region, never re-created."""
    _created(account, enforcer)
    moved = {"HTTPHeaders": {"x-amz-bucket-region": "us-west-2"}}
    with Stubber(_client(enforcer)) as stubber, Stubber(export_bucket) as s3:
        s3.add_client_error("head_bucket", "301", "", http_status_code=301, expected_params=HEAD, response_meta=moved)
        stubber.add_response("list_publishing_destinations", _listed(), LIST)  # no create stubbed
        finding = _only(enforcer.handle(_event("deleted")))
        stubber.assert_no_pending_responses()
        s3.assert_no_pending_responses()
    alert = _alert(notifier)
    assert (finding["outcome"], finding["done"], alert.severity) == (Outcome.ALERTED, [], Severity.CRITICAL)
    assert alert.needs_context == (
        f"the export bucket's owner: the export bucket {BUCKET_NAME} is in region us-west-2 (S3 answered 301), where "
        "IAM Warden did not ask: its owner is not confirmed",
    )


ARCHIVE = "999988887777"


def test_an_export_to_a_trusted_archive_accounts_bucket_is_recreated_with_that_owner_pinned_unasked(
    account: Account, enforcer: EnforcerService, export_bucket: Any
) -> None:
    """Review-guard-s13 F2: a central log archive's bucket, recorded with its owner (an account the settings trust):
    IAM Warden may not read that account's buckets, so it does not ask S3 (no HeadBucket is stubbed: a call would
    fail the test) and re-creates the export with that owner pinned: GuardDuty refuses a bucket of that name
    anywhere else."""
    account.set("trusted_accounts", ARCHIVE)
    account.set("rules/guardduty-disabled/mode", "remediate")
    event = _event("created")
    event["detail"]["requestParameters"]["destinationProperties"]["expectedBucketOwner"] = ARCHIVE
    assert enforcer.handle(event)["findings"] == []
    archived = {**RECORDED, "ExpectedBucketOwner": ARCHIVE}
    with Stubber(_client(enforcer)) as stubber, Stubber(export_bucket) as s3:
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response(
            "create_publishing_destination",
            {"DestinationId": MADE},
            {"DetectorId": DETECTOR, "DestinationType": "S3", "DestinationProperties": archived},
        )
        finding = _only(enforcer.handle(_event("deleted")))
        stubber.assert_no_pending_responses()
        s3.assert_no_pending_responses()
    assert finding["outcome"] == Outcome.REMEDIATED


def test_a_recreated_export_is_recorded_with_its_pinned_owner(account: Account, enforcer: EnforcerService) -> None:
    """Review-guard-s13 F1: the export made is recorded with the owner it was made with (none was recorded from the
    create), so a later re-create of it pins it too and GuardDuty keeps refusing a same-name bucket elsewhere."""
    _created(account, enforcer)
    with Stubber(_client(enforcer)) as stubber:
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response(
            "create_publishing_destination",
            {"DestinationId": MADE},
            {"DetectorId": DETECTOR, "DestinationType": "S3", "DestinationProperties": OWNED},
        )
        _only(enforcer.handle(_event("deleted")))
        stubber.assert_no_pending_responses()
    made = f"arn:aws:guardduty:{REGION}:{HOME_ACCOUNT}:detector/{DETECTOR}/publishingdestination/{MADE}"
    recorded = enforcer.executor.recorded
    assert recorded is not None
    snapshot = recorded.snapshot(PUBLISHING_DESTINATION, made)
    assert snapshot is not None
    assert snapshot.data["expected_bucket_owner"] == HOME_ACCOUNT


# Issue 15 (session 14): a central archive's own KMS key, with the bucket pinned to the archive, is kept at the create
# and re-created as recorded; either half alone (a trusted key with no pinned owner, or a trusted owner with an
# untrusted key) is alerted at the create and never kept, so a later delete is not re-created.

ARCHIVE_KEY = f"arn:aws:kms:{REGION}:{ARCHIVE}:key/5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"


DEV = "222233334444"  # another account the settings trust


def _create_to(
    account: Account, enforcer: EnforcerService, key: str, owner: str | None, trusted: str = ARCHIVE
) -> list[Any]:
    account.set("trusted_accounts", trusted)
    account.set("rules/guardduty-disabled/mode", "remediate")
    event = _event("created")
    properties = event["detail"]["requestParameters"]["destinationProperties"]
    properties["kmsKeyArn"] = key
    if owner is not None:
        properties["expectedBucketOwner"] = owner
    findings: list[Any] = enforcer.handle(event)["findings"]
    return findings


def test_a_central_archive_export_with_its_own_key_is_kept_and_recreated_pinned(
    account: Account, enforcer: EnforcerService, export_bucket: Any
) -> None:
    assert _create_to(account, enforcer, ARCHIVE_KEY, ARCHIVE) == []
    archived = {"DestinationArn": BUCKET, "KmsKeyArn": ARCHIVE_KEY, "ExpectedBucketOwner": ARCHIVE}
    with Stubber(_client(enforcer)) as stubber, Stubber(export_bucket) as s3:  # no HeadBucket stubbed
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response("list_publishing_destinations", _listed(), LIST)
        stubber.add_response(
            "create_publishing_destination",
            {"DestinationId": MADE},
            {"DetectorId": DETECTOR, "DestinationType": "S3", "DestinationProperties": archived},
        )
        finding = _only(enforcer.handle(_event("deleted")))
        stubber.assert_no_pending_responses()
        s3.assert_no_pending_responses()
    assert finding["outcome"] == Outcome.REMEDIATED
    recorded = enforcer.executor.recorded
    assert recorded is not None
    made = recorded.snapshot(
        PUBLISHING_DESTINATION,
        f"arn:aws:guardduty:{REGION}:{HOME_ACCOUNT}:detector/{DETECTOR}/publishingdestination/{MADE}",
    )
    assert made is not None
    assert (made.data["kms_key_arn"], made.data["expected_bucket_owner"]) == (ARCHIVE_KEY, ARCHIVE)


def test_a_central_archive_export_moved_away_is_put_back_to_the_archives_key_and_owner(
    account: Account, enforcer: EnforcerService, export_bucket: Any
) -> None:
    assert _create_to(account, enforcer, ARCHIVE_KEY, ARCHIVE) == []
    archived = {"DestinationArn": BUCKET, "KmsKeyArn": ARCHIVE_KEY, "ExpectedBucketOwner": ARCHIVE}
    described = _described_params(DESTINATION)
    with Stubber(_client(enforcer)) as stubber, Stubber(export_bucket) as s3:  # no HeadBucket stubbed
        stubber.add_response(
            "describe_publishing_destination",
            _described(DESTINATION, {**MOVED, "ExpectedBucketOwner": ARCHIVE}),
            described,
        )
        stubber.add_response("update_publishing_destination", {}, {**described, "DestinationProperties": archived})
        finding = _only(enforcer.handle(_event("moved")))
        stubber.assert_no_pending_responses()
        s3.assert_no_pending_responses()
    assert finding["outcome"] == Outcome.REMEDIATED


@pytest.mark.parametrize(
    "half",
    [
        (ARCHIVE_KEY, None, "which the settings trust, but no expected bucket owner pins the bucket"),
        (ARCHIVE_KEY, "444455556666", "the bucket's expected owner is account 444455556666"),
        (DROP_KEY, ARCHIVE, "the KMS key is account 444455556666's"),
        (ARCHIVE_KEY, HOME_ACCOUNT, f"which the settings trust, but the bucket is pinned to account {HOME_ACCOUNT}"),
        (
            ARCHIVE_KEY.replace(ARCHIVE, DEV),
            ARCHIVE,
            f"the KMS key is account {DEV}'s, which the settings trust, but the bucket is pinned to account {ARCHIVE}",
        ),
    ],
    ids=[
        "trusted-key-unpinned",
        "trusted-key-untrusted-owner",
        "untrusted-key-trusted-owner",
        "trusted-key-own-bucket",
        "trusted-key-other-trusted-bucket",
    ],
)
def test_half_a_central_archive_is_alerted_at_the_create_and_its_delete_never_recreated(
    account: Account,
    enforcer: EnforcerService,
    export_bucket: Any,
    notifier: RecordingNotifier,
    half: tuple[str, str | None, str],
) -> None:
    key, owner, said = half
    [created] = _create_to(account, enforcer, key, owner, trusted=f"{ARCHIVE},{DEV}")
    alert = _alert(notifier)
    assert (created["outcome"], alert.severity) == (Outcome.ALERTED, Severity.HIGH)
    assert said in alert.reason
    with Stubber(_client(enforcer)) as stubber, Stubber(export_bucket) as s3:
        stubber.add_response("list_publishing_destinations", _listed(), LIST)  # the judgement; no create stubbed
        deleted = _only(enforcer.handle(_event("deleted")))
        stubber.assert_no_pending_responses()
        s3.assert_no_pending_responses()
    assert (deleted["outcome"], deleted["done"]) == (Outcome.ALERTED, [])
    [unknown] = _alert(notifier).needs_context
    assert "IAM Warden has no record of it" in unknown


def test_a_key_only_move_of_a_central_archive_export_puts_back_the_archives_key_with_its_owner(
    account: Account, enforcer: EnforcerService, export_bucket: Any
) -> None:
    """Review-gdkms-s14 F2 (the reviewer's key-only probe): the live owner was set to another account by an earlier
    update never put back; the event moves only the key. The archive's key goes back with the archive as owner."""
    assert _create_to(account, enforcer, ARCHIVE_KEY, ARCHIVE) == []
    event = _event("moved")
    event["detail"]["requestParameters"]["destinationProperties"] = {"kmsKeyArn": DROP_KEY}
    live = {"DestinationArn": BUCKET, "KmsKeyArn": DROP_KEY, "ExpectedBucketOwner": "444455556666"}
    archived = {"DestinationArn": BUCKET, "KmsKeyArn": ARCHIVE_KEY, "ExpectedBucketOwner": ARCHIVE}
    described = _described_params(DESTINATION)
    with Stubber(_client(enforcer)) as stubber, Stubber(export_bucket) as s3:  # no HeadBucket stubbed
        stubber.add_response("describe_publishing_destination", _described(DESTINATION, live), described)
        stubber.add_response("update_publishing_destination", {}, {**described, "DestinationProperties": archived})
        finding = _only(enforcer.handle(event))
        stubber.assert_no_pending_responses()
        s3.assert_no_pending_responses()
    assert finding["outcome"] == Outcome.REMEDIATED
