"""Queue and topic lifecycles and labels end to end in moto (issue 13; review s14 F3 and F5).

* ``DeleteQueue`` / ``DeleteTopic`` clear IAM Warden's record of the policy: a vendor share alerted in ``alert`` mode
  (older), deleted with its queue or topic, and put in again on a queue or topic made again under the same name, is
  the later change's (removed), not "already there"; a deletion that failed (``errorCode``) changes nothing.
* An ``AddPermission``'s remediation removes exactly the statement the change added: the one under its label that
  still grants what the change wrote. (a) An operator-accepted statement granting the same under another label stays;
  (b) a label removed and added again differently before the remediation runs (a retry, a DLQ replay) is left in place
  and said. Undo puts back exactly what the remediation removed; a second run removes nothing more.

Events: the samples ``sqs-delete-queue.json`` and ``sns-delete-topic.json`` (shapes from the SQS and SNS developer
guides' CloudTrail examples, see events/README.md), ``sqs-policy-public.json`` (SetQueueAttributes) and
``sqs-add-permission-unknown-account.json`` / ``sns-add-permission-unknown-account.json`` with their policy, label,
time and ids changed.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest
from botocore.exceptions import ClientError

from iamwarden.adapters.recorded import AuditRecorded
from iamwarden.app.executor import StepRun
from iamwarden.app.service import EnforcementFailedError, EnforcerService
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import Outcome
from iamwarden.domain.recorded import RESOURCE_POLICY
from iamwarden.guardrails.resource_policy import ACCEPTED
from iamwarden.guardrails.sqs_queue_policy import REMOVE_QUEUE_POLICY_STATEMENTS, SqsQueuePolicyEndpoint
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.test_resource_policy_deletions import (
    Q_OWN,
    Q_TLS,
    Q_VENDOR,
    QUEUE_ARN,
    QUEUE_CROSS,
    QUEUE_URL,
    _queue_policy,
    _set,
)
from tests.functional.test_resource_policy_history import BUCKET, PUBLIC, TEAM, TLS_ONLY, _document, _live, _put
from tests.functional.test_resource_policy_history import OWN as S3_OWN
from tests.functional.test_resource_policy_history import _record as _bucket_record
from tests.functional.test_resource_policy_permissions import _by_label, _sqs

TOPIC_ARN = "arn:aws:sns:eu-west-1:111122223333:price-updates"
TOPIC_CROSS = "sns-topic-policy-cross-account"
T_OWN = {
    "Sid": "OwnPublish",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
    "Action": "SNS:Publish",
    "Resource": TOPIC_ARN,
}
T_VENDOR = {**T_OWN, "Sid": "VendorPublish", "Principal": {"AWS": "arn:aws:iam::999988887777:root"}}
T_TLS = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "SNS:Publish",
    "Resource": TOPIC_ARN,
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def _at(event: dict[str, Any], step: int) -> dict[str, Any]:
    event["time"] = event["detail"]["eventTime"] = f"2026-12-02T09:1{step}:00Z"
    event["id"] = f"5b1e0c7a-2f44-4d0e-9c61-7a3f2d9e4c1{step}"
    event["detail"]["eventID"] = f"8f2d6a10-41c3-4b7e-a9d5-0c6e1b2f3a4{step}"
    return event


def _delete_queue(account: Account, step: int, *, error: str | None = None) -> dict[str, Any]:
    """Step ``step``'s ``DeleteQueue`` of orders-events (applied live first unless it failed)."""
    event = _at(copy.deepcopy(load_event("sqs-delete-queue.json")), step)
    assert event["detail"]["requestParameters"] == {"queueUrl": QUEUE_URL}
    if error is not None:
        event["detail"].update(errorCode=error, errorMessage="Access to the resource is denied.")
    else:
        _sqs(account).delete_queue(QueueUrl=QUEUE_URL)
    return event


def _record(account: Account, arn: str) -> Any:
    return AuditRecorded(account.audit(), account.dynamodb).snapshot(RESOURCE_POLICY, arn)


def _alerted_vendor_share(account: Account, enforcer: EnforcerService) -> None:
    _sqs(account).create_queue(QueueName="orders-events")
    account.set(f"rules/{QUEUE_CROSS}/mode", "alert")
    [first] = enforcer.handle(_set(account, 1, _document(Q_OWN, Q_VENDOR)))["findings"]
    assert first["outcome"] == Outcome.ALERTED
    account.set(f"rules/{QUEUE_CROSS}/mode", "remediate")


# --- DeleteQueue / DeleteTopic ---------------------------------------------------------------------------------------


def test_a_deleted_queue_clears_the_record_so_its_namesake_s_share_is_the_change_s(
    account: Account, enforcer: EnforcerService
) -> None:
    _alerted_vendor_share(account, enforcer)

    assert enforcer.handle(_delete_queue(account, 2))["verdict"] == "compliant"

    kept = _record(account, QUEUE_ARN)
    assert kept is not None
    assert (kept.taken_at, kept.data) == ("2026-12-02T09:12:00.000+00:00", {"policy": {"Statement": []}, "pending": []})
    _sqs(account).create_queue(QueueName="orders-events")  # the same name, the same URL: another queue
    [finding] = enforcer.handle(_set(account, 3, _document(Q_OWN, Q_VENDOR, Q_TLS)))["findings"]
    assert (finding["rule"], finding["outcome"]) == (QUEUE_CROSS, Outcome.REMEDIATED)
    assert _queue_policy(account) == _document(Q_OWN, Q_TLS)


def test_a_failed_queue_deletion_changes_nothing_and_the_share_stays_older(
    account: Account, enforcer: EnforcerService
) -> None:
    _alerted_vendor_share(account, enforcer)

    assert enforcer.handle(_delete_queue(account, 2, error="AccessDenied"))["findings"] == []

    kept = _record(account, QUEUE_ARN)
    assert kept is not None
    assert kept.data["policy"] == _document(Q_OWN, Q_VENDOR)
    [finding] = enforcer.handle(_set(account, 3, _document(Q_OWN, Q_VENDOR, Q_TLS)))["findings"]
    assert finding["outcome"] == Outcome.ALERTED
    assert _queue_policy(account) == _document(Q_OWN, Q_VENDOR, Q_TLS)


def _sns(account: Account) -> Any:
    return account.session.client("sns", region_name="eu-west-1")


def _set_topic(account: Account, step: int, policy: dict[str, Any]) -> dict[str, Any]:
    """Step ``step``'s ``SetTopicAttributes`` of ``Policy``, applied live first."""
    event = _at(copy.deepcopy(load_event("sns-policy-public-subscribe.json")), step)
    event["detail"]["requestParameters"]["attributeValue"] = json.dumps(policy)
    _sns(account).set_topic_attributes(TopicArn=TOPIC_ARN, AttributeName="Policy", AttributeValue=json.dumps(policy))
    return event


def _topic_policy(account: Account) -> Any:
    return json.loads(_sns(account).get_topic_attributes(TopicArn=TOPIC_ARN)["Attributes"]["Policy"])


def test_a_deleted_topic_clears_the_record_so_its_namesake_s_share_is_the_change_s(
    account: Account, enforcer: EnforcerService
) -> None:
    _sns(account).create_topic(Name="price-updates")
    account.set(f"rules/{TOPIC_CROSS}/mode", "alert")
    [first] = enforcer.handle(_set_topic(account, 1, _document(T_OWN, T_VENDOR)))["findings"]
    assert first["outcome"] == Outcome.ALERTED
    account.set(f"rules/{TOPIC_CROSS}/mode", "remediate")
    delete = _at(copy.deepcopy(load_event("sns-delete-topic.json")), 2)
    assert delete["detail"]["requestParameters"] == {"topicArn": TOPIC_ARN}
    _sns(account).delete_topic(TopicArn=TOPIC_ARN)

    assert enforcer.handle(delete)["verdict"] == "compliant"

    kept = _record(account, TOPIC_ARN)
    assert kept is not None
    assert kept.data == {"policy": {"Statement": []}, "pending": []}
    _sns(account).create_topic(Name="price-updates")
    [finding] = enforcer.handle(_set_topic(account, 3, _document(T_OWN, T_VENDOR, T_TLS)))["findings"]
    assert (finding["rule"], finding["outcome"]) == (TOPIC_CROSS, Outcome.REMEDIATED)
    assert _topic_policy(account)["Statement"] == [T_OWN, T_TLS]


# --- AddPermission: the label and what it grants, both (review s14 F3) -----------------------------------------------


def _accepted_vendor_share(account: Account, enforcer: EnforcerService) -> None:
    """VendorSend, remediated and put back by the operator's undo: accepted."""
    _sqs(account).create_queue(QueueName="orders-events")
    account.set(f"rules/{QUEUE_CROSS}/mode", "remediate")
    [first] = enforcer.handle(_set(account, 1, _document(Q_OWN, Q_VENDOR)))["findings"]
    enforcer.executor._clock = lambda: datetime(2026, 12, 2, 9, 11, 30, tzinfo=UTC)
    enforcer.executor.undo(first["remediation_id"])
    assert _queue_policy(account) == _document(Q_OWN, Q_VENDOR)


def _sids(account: Account) -> list[str]:
    return [statement["Sid"] for statement in _queue_policy(account)["Statement"]]


def test_a_same_grant_add_permission_removes_only_its_own_statement_never_the_accepted_one(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """F3 (a): ``dup`` grants the vendor exactly what the accepted VendorSend grants; its remediation removes ``dup``
    and says it left VendorSend, whose grant is no failure of the cut (the change did not add it)."""
    _accepted_vendor_share(account, enforcer)

    [finding] = enforcer.handle(_by_label(account, 2, "AddPermission", "dup", to="999988887777"))["findings"]

    assert (finding["rule"], finding["outcome"]) == (QUEUE_CROSS, Outcome.REMEDIATED)
    assert _sids(account) == ["OwnAccount", "VendorSend"]
    alert = notifier.sent[-1].finding
    assert alert is not None
    [step] = alert.plan
    assert [(ref["sid"], ref["match"]) for ref in step.parameters["statements"]] == [("dup", "label")]
    done = " ".join(notifier.sent[-1].actions)
    assert "left statement VendorSend" in done
    assert "is not the statement the change added" in done

    # Undo puts back exactly dup (VendorSend is never doubled); a second undo is refused.
    enforcer.executor.undo(finding["remediation_id"])
    assert _sids(account) == ["OwnAccount", "VendorSend", "dup"]
    with pytest.raises(UndoError, match="already undone"):
        enforcer.executor.undo(finding["remediation_id"])
    assert _sids(account) == ["OwnAccount", "VendorSend", "dup"]


def test_a_label_added_again_differently_before_the_remediation_runs_is_left_in_place_and_said(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """F3 (b): AddPermission ``x`` to the vendor, RemovePermission ``x``, AddPermission ``x`` to the own account, then
    the first event is judged (late: a retry or a replay). The own-account ``x`` is not the change's: left, said."""
    _sqs(account).create_queue(QueueName="orders-events")
    account.set(f"rules/{QUEUE_CROSS}/mode", "remediate")
    late = _by_label(account, 1, "AddPermission", "x", to="999988887777")
    _sqs(account).remove_permission(QueueUrl=QUEUE_URL, Label="x")
    _sqs(account).add_permission(QueueUrl=QUEUE_URL, Label="x", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    before = _queue_policy(account)

    [finding] = enforcer.handle(late)["findings"]

    assert (finding["rule"], finding["outcome"]) == (QUEUE_CROSS, Outcome.REMEDIATED)
    assert _queue_policy(account) == before  # the own-account x stays
    assert any("left statement x" in line and "no longer grants" in line for line in notifier.sent[-1].actions)


def test_a_label_added_again_still_granting_the_vendor_differently_needs_a_person(
    account: Account, enforcer: EnforcerService
) -> None:
    """F3 (b), the grant still live: ``x`` re-added to the vendor with another action is not what the change added,
    so it is not removed, and the remediation never says "already safe"."""
    _sqs(account).create_queue(QueueName="orders-events")
    account.set(f"rules/{QUEUE_CROSS}/mode", "remediate")
    late = _by_label(account, 1, "AddPermission", "x", to="999988887777")
    _sqs(account).remove_permission(QueueUrl=QUEUE_URL, Label="x")
    _sqs(account).add_permission(
        QueueUrl=QUEUE_URL, Label="x", AWSAccountIds=["999988887777"], Actions=["SendMessage", "ReceiveMessage"]
    )
    before = _queue_policy(account)

    with pytest.raises(EnforcementFailedError, match="needs a person"):
        enforcer.handle(late)

    assert _queue_policy(account) == before


def test_an_add_permission_removes_an_alerted_same_grant_under_another_label_exactly_on_undo_and_idempotently(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Review respol-s15 F2/F6: VendorSend, alerted (alert mode) and never accepted, grants the vendor what ``vendor``
    adds: the remediation removes both (as before s15: REMEDIATED means the outsider is out), its step run again
    removes nothing more, and undo puts back exactly both."""
    _sqs(account).create_queue(QueueName="orders-events")
    account.set(f"rules/{QUEUE_CROSS}/mode", "alert")
    enforcer.handle(_set(account, 1, _document(Q_OWN, Q_VENDOR)))
    account.set(f"rules/{QUEUE_CROSS}/mode", "remediate")
    [finding] = enforcer.handle(_by_label(account, 2, "AddPermission", "vendor", to="999988887777"))["findings"]
    assert finding["outcome"] == Outcome.REMEDIATED
    assert _sids(account) == ["OwnAccount"]
    assert not any("left statement" in line for line in notifier.sent[-1].actions)

    # The step once more (a retry after the write): "already gone" is done, and nothing else goes.
    alert = notifier.sent[-1].finding
    assert alert is not None
    [step] = alert.plan
    assert ACCEPTED not in step.parameters
    aws = cast(Any, SimpleNamespace(account="111122223333", client=account.session.client))
    before = REMOVE_QUEUE_POLICY_STATEMENTS.capture(aws, step)
    done: list[str] = []
    REMOVE_QUEUE_POLICY_STATEMENTS.apply(StepRun(aws, "f-1", "2026-12-02T09:13:00.000+00:00"), step, before, done)
    assert _sids(account) == ["OwnAccount"]
    assert not any(line.startswith("removed") for line in done)

    enforcer.executor.undo(finding["remediation_id"])
    assert sorted(_sids(account)) == ["OwnAccount", "VendorSend", "vendor"]


PEND = {**Q_VENDOR, "Sid": "Pend"}


def test_a_pending_same_grant_under_another_label_is_removed_with_the_add_permission(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Review respol-s15 F2 (probe test_pa): Pend went in while the rule was off (pending: never judged fine). A later
    AddPermission ``dup`` granting the same is never a clean REMEDIATED with Pend still letting the vendor in: Pend,
    not accepted, goes too."""
    _sqs(account).create_queue(QueueName="orders-events")
    account.set(f"rules/{QUEUE_CROSS}/mode", "off")
    enforcer.handle(_set(account, 1, _document(Q_OWN, PEND)))
    kept = _record(account, QUEUE_ARN)
    assert kept is not None
    assert kept.data["pending"]  # Pend: never judged fine
    account.set(f"rules/{QUEUE_CROSS}/mode", "remediate")

    [finding] = enforcer.handle(_by_label(account, 2, "AddPermission", "dup", to="999988887777"))["findings"]

    assert (finding["rule"], finding["outcome"]) == (QUEUE_CROSS, Outcome.REMEDIATED)
    assert _sids(account) == ["OwnAccount"]  # the vendor is out
    assert not any("left statement Pend" in line for line in notifier.sent[-1].actions)


def test_an_alerted_same_grant_goes_with_the_add_permission_and_the_next_put_finds_nothing(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Review respol-s15 F1 (probe test_pb): VendorSend alerted (alert mode), AddPermission ``vendor`` granting the
    same, then an unrelated put. VendorSend goes with ``vendor`` (never "left, not the change's" and then removed by
    someone else's edit with a false reason): the unrelated put finds nothing to remove."""
    _alerted_vendor_share(account, enforcer)
    [vendor] = enforcer.handle(_by_label(account, 2, "AddPermission", "vendor", to="999988887777"))["findings"]
    assert vendor["outcome"] == Outcome.REMEDIATED
    assert _sids(account) == ["OwnAccount"]
    live = _queue_policy(account)

    result = enforcer.handle(_set(account, 5, {**live, "Statement": [*live["Statement"], Q_TLS]}))

    assert (result["verdict"], result["findings"]) == ("compliant", [])
    assert _sids(account) == ["OwnAccount", "DenyInsecureTransport"]


# --- Same-second deletion and namesake put (review respol-s15 F3) ----------------------------------------------------


def _replace_topic(account: Account, enforcer: EnforcerService, *, delete_first: bool) -> None:
    """A terraform replace in one second: DeleteTopic, CreateTopic, SetTopicAttributes (OwnPublish + VendorPublish,
    alerted), judged in either order."""
    _sns(account).create_topic(Name="price-updates")
    account.set(f"rules/{TOPIC_CROSS}/mode", "alert")
    delete = _at(copy.deepcopy(load_event("sns-delete-topic.json")), 2)
    _sns(account).delete_topic(TopicArn=TOPIC_ARN)
    _sns(account).create_topic(Name="price-updates")
    put = _set_topic(account, 2, _document(T_OWN, T_VENDOR))
    put["id"], put["detail"]["eventID"] = put["id"][:-2] + "77", put["detail"]["eventID"][:-2] + "77"
    for event in (delete, put) if delete_first else (put, delete):
        enforcer.handle(event)


@pytest.mark.parametrize("delete_first", [True, False])
def test_a_deletion_never_wins_a_tie_of_its_second_with_the_namesake_s_put(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, delete_first: bool
) -> None:
    """Review2 respol-s15 R1 (probe test_pf, both orders): the put's record is kept (judged first, the deletion does
    not empty it; judged second, it replaces the deletion's), so the next, unrelated change only alerts VendorPublish
    and removes nothing, as before DeleteTopic cleared the record."""
    _replace_topic(account, enforcer, delete_first=delete_first)

    kept = _record(account, TOPIC_ARN)
    assert kept is not None
    assert (kept.taken_at, kept.unusable, kept.data["policy"]) == (
        "2026-12-02T09:12:00.000+00:00",
        False,
        _document(T_OWN, T_VENDOR),
    )
    account.set(f"rules/{TOPIC_CROSS}/mode", "remediate")
    live = _topic_policy(account)
    [finding] = enforcer.handle(_set_topic(account, 5, {**live, "Statement": [*live["Statement"], T_TLS]}))["findings"]
    assert (finding["rule"], finding["outcome"]) == (TOPIC_CROSS, Outcome.ALERTED)
    assert [s["Sid"] for s in _topic_policy(account)["Statement"]] == [
        "OwnPublish",
        "VendorPublish",
        "DenyInsecureTransport",
    ]
    alert = notifier.sent[-1].finding
    assert alert is not None
    assert "predates the change" in alert.reason


Q_RECEIVE = {**Q_OWN, "Sid": "OwnReceive", "Action": "SQS:ReceiveMessage"}


def _in_second_2(account: Account, policy: dict[str, Any], suffix: str) -> dict[str, Any]:
    event = _set(account, 2, policy)
    event["id"], event["detail"]["eventID"] = event["id"][:-2] + suffix, event["detail"]["eventID"][:-2] + suffix
    return event


def test_two_puts_of_one_second_that_both_keep_an_alerted_share_leave_it_older(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Review2 respol-s15 R1 (probe test_q2): two whole puts in one second both keep the alerted VendorSend; the
    record of that second stays usable (as before s15), so an unrelated put later alerts VendorSend, never removes it
    in someone else's name."""
    _alerted_vendor_share(account, enforcer)
    account.set(f"rules/{QUEUE_CROSS}/mode", "alert")
    for event in (
        _in_second_2(account, _document(Q_OWN, Q_VENDOR, Q_RECEIVE), "71"),
        _in_second_2(account, _document(Q_OWN, Q_VENDOR), "72"),
    ):
        [alerted] = enforcer.handle(event)["findings"]
        assert alerted["outcome"] == Outcome.ALERTED
    kept = _record(account, QUEUE_ARN)
    assert kept is not None
    assert (kept.taken_at, kept.unusable) == ("2026-12-02T09:12:00.000+00:00", False)
    account.set(f"rules/{QUEUE_CROSS}/mode", "remediate")
    live = _queue_policy(account)

    [finding] = enforcer.handle(_set(account, 5, {**live, "Statement": [*live["Statement"], Q_TLS]}))["findings"]

    assert finding["outcome"] == Outcome.ALERTED
    assert _sids(account) == ["OwnAccount", "VendorSend", "DenyInsecureTransport"]
    alert = notifier.sent[-1].finding
    assert alert is not None
    assert "predates the change" in alert.reason


def test_a_failed_add_permission_remediation_still_counts_as_removed_before(
    account: Account, enforcer: EnforcerService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review2 respol-s15 R2 (probe test_q4): the AddPermission's remediation fails (SetQueueAttributes denied) and
    ``vendor`` stays; recorded later by an alerted put, it is still "removed before", so the next put removes it."""
    _sqs(account).create_queue(QueueName="orders-events")
    account.set(f"rules/{QUEUE_CROSS}/mode", "remediate")
    assert enforcer.handle(_set(account, 1, _document(Q_OWN)))["verdict"] == "compliant"

    def denied(*_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "denied"}}, "SetQueueAttributes")

    with monkeypatch.context() as patched:
        patched.setattr(SqsQueuePolicyEndpoint, "put", denied)
        with pytest.raises(EnforcementFailedError):
            enforcer.handle(_by_label(account, 2, "AddPermission", "vendor", to="999988887777"))
    assert _sids(account) == ["OwnAccount", "vendor"]
    account.set(f"rules/{QUEUE_CROSS}/mode", "alert")
    live = _queue_policy(account)
    [alerted] = enforcer.handle(_set(account, 3, {**live, "Statement": [*live["Statement"], Q_RECEIVE]}))["findings"]
    assert alerted["outcome"] == Outcome.ALERTED
    account.set(f"rules/{QUEUE_CROSS}/mode", "remediate")
    live = _queue_policy(account)

    [finding] = enforcer.handle(_set(account, 5, {**live, "Statement": [*live["Statement"], Q_TLS]}))["findings"]

    assert finding["outcome"] == Outcome.REMEDIATED
    assert _sids(account) == ["OwnAccount", "OwnReceive", "DenyInsecureTransport"]


def test_a_deletion_and_a_put_a_second_apart_keep_the_later_one(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """The control: the put a second after the deletion is the record, and its alerted share stays older."""
    _sns(account).create_topic(Name="price-updates")
    account.set(f"rules/{TOPIC_CROSS}/mode", "alert")
    delete = _at(copy.deepcopy(load_event("sns-delete-topic.json")), 2)
    _sns(account).delete_topic(TopicArn=TOPIC_ARN)
    _sns(account).create_topic(Name="price-updates")
    put = _set_topic(account, 3, _document(T_OWN, T_VENDOR))
    enforcer.handle(delete)
    enforcer.handle(put)
    kept = _record(account, TOPIC_ARN)
    assert kept is not None
    assert (kept.unusable, kept.data["policy"]) == (False, _document(T_OWN, T_VENDOR))
    account.set(f"rules/{TOPIC_CROSS}/mode", "remediate")
    live = _topic_policy(account)
    [finding] = enforcer.handle(_set_topic(account, 5, {**live, "Statement": [*live["Statement"], T_TLS]}))["findings"]
    assert finding["outcome"] == Outcome.ALERTED
    alert = notifier.sent[-1].finding
    assert alert is not None
    assert "predates the change" in alert.reason


# --- Another account's deletion, odd queue URLs (review respol-s15 F4, F5) -------------------------------------------


@pytest.mark.parametrize(
    ("sample", "field", "arn"),
    [("sqs-delete-queue.json", "queueUrl", QUEUE_ARN), ("sns-delete-topic.json", "topicArn", TOPIC_ARN)],
)
def test_another_account_s_deletion_is_compliant_and_leaves_this_account_s_record(  # noqa: PLR0917 (fixtures)
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, sample: str, field: str, arn: str
) -> None:
    """SNS allows a cross-account DeleteTopic (a topic policy granting SNS:DeleteTopic): CloudTrail records it in the
    caller's account. It is neither a "forged or misrouted event" nor a change to this account's record of its own
    queue or topic of the same name (review2 respol-s15 R5)."""
    if arn == QUEUE_ARN:
        _alerted_vendor_share(account, enforcer)
    else:
        _sns(account).create_topic(Name="price-updates")
        account.set(f"rules/{TOPIC_CROSS}/mode", "alert")
        [first] = enforcer.handle(_set_topic(account, 1, _document(T_OWN, T_VENDOR)))["findings"]
        assert first["outcome"] == Outcome.ALERTED
    before = _record(account, arn)
    assert before is not None
    assert before.data["policy"] == _document(*((Q_OWN, Q_VENDOR) if arn == QUEUE_ARN else (T_OWN, T_VENDOR)))
    sent = len(notifier.sent)
    event = _at(copy.deepcopy(load_event(sample)), 2)
    request = event["detail"]["requestParameters"]
    request[field] = request[field].replace("111122223333", "444455556666")

    result = enforcer.handle(event)

    assert (result["verdict"], result["findings"]) == ("compliant", [])
    assert len(notifier.sent) == sent  # nothing alerted
    assert _record(account, arn) == before
    assert _record(account, arn.replace("111122223333", "444455556666")) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://sqs.eu-west-1.amazonaws.com/111122223333/orders-events",
        "https://sqs.eu-west-1.amazonaws.com/111122223333/orders-events/",
        "orders-events",
    ],
)
def test_a_delete_queue_url_in_another_form_is_never_a_could_not_read_alert(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, url: str
) -> None:
    _alerted_vendor_share(account, enforcer)
    sent = len(notifier.sent)
    event = _at(copy.deepcopy(load_event("sqs-delete-queue.json")), 2)
    event["detail"]["requestParameters"]["queueUrl"] = url

    result = enforcer.handle(event)

    assert (result["verdict"], result["findings"]) == ("compliant", [])
    assert len(notifier.sent) == sent
    kept = _record(account, QUEUE_ARN)
    assert kept is not None
    # A URL that reads clears the record; one that does not leaves it as it was (as before s15).
    assert kept.data["policy"] == ({"Statement": []} if url.startswith("http") else _document(Q_OWN, Q_VENDOR))


def test_two_compliant_bucket_puts_of_one_second_keep_the_record_a_widened_grant_gives_way_to(
    account: Account, enforcer: EnforcerService
) -> None:
    """Review2 respol-s15 R1 on S3 (probe test_q5): two compliant puts in one second, both keeping TeamRead, leave a
    usable record (as before s15), so a later put widening TeamRead to everyone is cut back to the recorded TeamRead,
    never removed outright."""
    account.s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    account.set(f"rules/{PUBLIC}/mode", "remediate")
    assert enforcer.handle(_put(account, 1, S3_OWN, TEAM))["verdict"] == "compliant"
    for suffix, statements in (("71", (S3_OWN, TEAM, TLS_ONLY)), ("72", (S3_OWN, TEAM))):
        event = _put(account, 2, *statements)
        event["id"], event["detail"]["eventID"] = event["id"][:-2] + suffix, event["detail"]["eventID"][:-2] + suffix
        assert enforcer.handle(event)["verdict"] == "compliant"
    kept = _bucket_record(account)
    assert kept is not None
    assert not kept.unusable

    [finding] = enforcer.handle(_put(account, 3, S3_OWN, {**TEAM, "Principal": "*"}, TLS_ONLY))["findings"]

    assert finding["outcome"] == Outcome.REMEDIATED
    assert [(s["Sid"], s["Principal"]) for s in _live(account)["Statement"]] == [
        ("OwnAccount", S3_OWN["Principal"]),
        ("TeamRead", TEAM["Principal"]),
        ("DenyInsecureTransport", "*"),
    ]
    assert any(line.startswith("restored statement TeamRead") for line in finding["done"])
