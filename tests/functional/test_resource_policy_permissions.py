"""Queue policies end to end in moto: by-Sid changes reach IAM Warden's record (issue 13 item 7).

* SQS ``RemovePermission`` takes the statement of its label out of the record: a vendor share alerted in ``alert``
  mode (older), removed by its label and later added back, is the later change's (removed), not "already there";
  a failed RemovePermission (``errorCode``) changes nothing, so the share stays older.
* An ``AddPermission`` leaves the record "policy unknown" (as on main), whatever it held: the review s14 probes
  (/tmp/rv-respol-s14) showed a record derived from it losing a pending public statement's mark (F0), outliving a
  revoke judged late (F1) and handing an acceptance to another statement granting the same (F2); each probe here
  ends as on main, the grant removed.

Events: ``sqs-policy-public.json`` (SetQueueAttributes) and ``sqs-add-permission-unknown-account.json`` with their
policy, label, time and ids changed; the RemovePermission record is the latter with ``eventName`` RemovePermission and
only ``queueUrl`` and ``label``, as the AWS SQS Developer Guide's CloudTrail example of RemovePermission shows
("Logging Amazon SQS API calls using AWS CloudTrail",
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-logging-using-cloudtrail.html).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from iamwarden.adapters.recorded import AuditRecorded
from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Outcome
from iamwarden.domain.recorded import RESOURCE_POLICY
from tests.conftest import load_event
from tests.functional.conftest import Account
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
from tests.functional.test_resource_policy_history import _document


def _sqs(account: Account) -> Any:
    return account.session.client("sqs", region_name="eu-west-1")


def _by_label(
    account: Account, step: int, name: str, label: str, *, error: str | None = None, to: str = "111122223333"
) -> dict[str, Any]:
    """Step ``step``'s ``RemovePermission`` or ``AddPermission`` (account ``to``, SendMessage) of ``label``, applied
    live first unless it failed."""
    event = copy.deepcopy(load_event("sqs-add-permission-unknown-account.json"))
    event["time"] = event["detail"]["eventTime"] = f"2026-12-02T09:1{step}:00Z"
    event["id"] = f"3d06f95d-bd64-464f-8483-b1a882b37e1{step}"
    event["detail"]["eventID"] = f"095a7a84-e9cd-4736-86fb-eefd81dcdb0{step}"
    event["detail"]["eventName"] = name
    if name == "RemovePermission":
        event["detail"]["requestParameters"] = {"queueUrl": QUEUE_URL, "label": label}
    else:
        event["detail"]["requestParameters"].update(label=label, AWSAccountIds=[to])
    if error is not None:
        event["detail"].update(errorCode=error, errorMessage="Access to the resource is denied.")
    elif name == "RemovePermission":
        _sqs(account).remove_permission(QueueUrl=QUEUE_URL, Label=label)
    else:
        _sqs(account).add_permission(QueueUrl=QUEUE_URL, Label=label, AWSAccountIds=[to], Actions=["SendMessage"])
    return event


def _alerted_vendor_share(account: Account, enforcer: EnforcerService) -> None:
    _sqs(account).create_queue(QueueName="orders-events")
    account.set(f"rules/{QUEUE_CROSS}/mode", "alert")
    [first] = enforcer.handle(_set(account, 1, _document(Q_OWN, Q_VENDOR)))["findings"]
    assert first["outcome"] == Outcome.ALERTED
    account.set(f"rules/{QUEUE_CROSS}/mode", "remediate")


def test_a_share_removed_by_its_label_and_added_back_is_the_later_change_s(
    account: Account, enforcer: EnforcerService
) -> None:
    _alerted_vendor_share(account, enforcer)

    assert enforcer.handle(_by_label(account, 2, "RemovePermission", "VendorSend"))["verdict"] == "compliant"

    kept = AuditRecorded(account.audit(), account.dynamodb).snapshot(RESOURCE_POLICY, QUEUE_ARN)
    assert kept is not None
    assert kept.data["policy"] == _document(Q_OWN)
    [finding] = enforcer.handle(_set(account, 3, _document(Q_OWN, Q_VENDOR, Q_TLS)))["findings"]
    assert (finding["rule"], finding["outcome"]) == (QUEUE_CROSS, Outcome.REMEDIATED)
    assert _queue_policy(account) == _document(Q_OWN, Q_TLS)


def test_a_failed_remove_permission_changes_nothing_and_the_share_stays_older(
    account: Account, enforcer: EnforcerService
) -> None:
    _alerted_vendor_share(account, enforcer)

    enforcer.handle(_by_label(account, 2, "RemovePermission", "VendorSend", error="AccessDenied"))

    kept = AuditRecorded(account.audit(), account.dynamodb).snapshot(RESOURCE_POLICY, QUEUE_ARN)
    assert kept is not None
    assert kept.data["policy"] == _document(Q_OWN, Q_VENDOR)
    [finding] = enforcer.handle(_set(account, 3, _document(Q_OWN, Q_VENDOR, Q_TLS)))["findings"]
    assert finding["outcome"] == Outcome.ALERTED
    assert _queue_policy(account) == _document(Q_OWN, Q_VENDOR, Q_TLS)


def _outcome_of_an_unrelated_put(account: Account, enforcer: EnforcerService, step: int) -> Any:
    """The cross-account rule's outcome, in remediate mode, for a put that only adds a TLS Deny to the live policy."""
    account.set(f"rules/{QUEUE_CROSS}/mode", "remediate")
    live = _queue_policy(account)
    findings = enforcer.handle(_set(account, step, {**live, "Statement": [*live["Statement"], Q_TLS]}))["findings"]
    return [(f["rule"], f["outcome"]) for f in findings]


def test_an_add_permission_leaves_the_record_unknown_whatever_it_held(
    account: Account, enforcer: EnforcerService
) -> None:
    """Review s14 F0-F2: an AddPermission shows one statement, never the document, so IAM Warden's record of the queue
    becomes "policy unknown" (as on main), with no mark carried: the next whole put is judged whole."""
    _alerted_vendor_share(account, enforcer)

    assert enforcer.handle(_by_label(account, 2, "AddPermission", "own-send"))["verdict"] == "compliant"

    kept = AuditRecorded(account.audit(), account.dynamodb).snapshot(RESOURCE_POLICY, QUEUE_ARN)
    assert kept is not None
    assert kept.data == {"policy": None}


def test_a_revoke_judged_after_an_add_permission_never_lets_the_share_come_back_as_older(
    account: Account, enforcer: EnforcerService
) -> None:
    """Review s14 F1 (probe p1): the operator revokes an alerted vendor share (step 3), an AddPermission (step 4) is
    judged first; the vendor share put back later is the later change's and removed."""
    _alerted_vendor_share(account, enforcer)
    revoke = _set(account, 3, _document(Q_OWN))
    enforcer.handle(_by_label(account, 4, "AddPermission", "own-send"))
    enforcer.handle(revoke)
    live = _queue_policy(account)

    [finding] = enforcer.handle(_set(account, 6, {**live, "Statement": [*live["Statement"], Q_VENDOR]}))["findings"]

    assert (finding["rule"], finding["outcome"]) == (QUEUE_CROSS, Outcome.REMEDIATED)
    assert Q_VENDOR not in _queue_policy(account)["Statement"]


def test_a_pending_public_statement_stays_the_change_s_after_a_remediated_add_permission(
    account: Account, enforcer: EnforcerService
) -> None:
    """Review s14 F0 (probe p5): a public statement put in while its rule is off is pending; a remediated
    AddPermission must not make it "older": once the rule acts, the next edit removes it."""
    public_rule = "sqs-queue-policy-public"
    public = {
        "Sid": "PublicSend",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "sqs:SendMessage",
        "Resource": QUEUE_ARN,
    }
    _sqs(account).create_queue(QueueName="orders-events")
    account.set(f"rules/{public_rule}/mode", "off")
    account.set(f"rules/{QUEUE_CROSS}/mode", "remediate")
    enforcer.handle(_set(account, 1, _document(Q_OWN, public)))
    [added] = enforcer.handle(_by_label(account, 2, "AddPermission", "vendor", to="999988887777"))["findings"]
    assert (added["rule"], added["outcome"]) == (QUEUE_CROSS, Outcome.REMEDIATED)
    account.set(f"rules/{public_rule}/mode", "remediate")

    assert (public_rule, Outcome.REMEDIATED) in _outcome_of_an_unrelated_put(account, enforcer, 5)
    assert public not in _queue_policy(account)["Statement"]


def test_an_acceptance_is_never_handed_to_another_statement_granting_the_same(
    account: Account, enforcer: EnforcerService
) -> None:
    """Review s14 F2 (probe p4): the operator accepts VendorSend (undo); an AddPermission ``dup`` grants the same
    thing, then VendorSend is removed by its label. ``dup`` was never accepted: the next edit removes it."""
    _sqs(account).create_queue(QueueName="orders-events")
    account.set(f"rules/{QUEUE_CROSS}/mode", "remediate")
    [first] = enforcer.handle(_set(account, 1, _document(Q_OWN, Q_VENDOR)))["findings"]
    enforcer.executor._clock = lambda: datetime(2026, 12, 2, 9, 11, 30, tzinfo=UTC)  # the operator's undo
    enforcer.executor.undo(first["remediation_id"])
    account.set(f"rules/{QUEUE_CROSS}/mode", "alert")
    enforcer.handle(_by_label(account, 2, "AddPermission", "dup", to="999988887777"))
    enforcer.handle(_by_label(account, 3, "RemovePermission", "VendorSend"))

    assert _outcome_of_an_unrelated_put(account, enforcer, 5) == [(QUEUE_CROSS, Outcome.REMEDIATED)]
    assert _queue_policy(account) == _document(Q_OWN, Q_TLS)  # dup (never accepted) removed
