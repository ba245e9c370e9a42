"""Queue policies end to end in moto: by-Sid changes reach IAM Warden's record (issue 13 item 7).

* SQS ``RemovePermission`` takes the statement of its label out of the record: a vendor share alerted in ``alert``
  mode (older), removed by its label and later added back, is the later change's (removed), not "already there";
  a failed RemovePermission (``errorCode``) changes nothing, so the share stays older.
* An ``AddPermission`` keeps an operator's acceptance: a share put back with ``iamwarden undo`` stays older after an
  unrelated AddPermission (on main the record became unknown and the next edit removed the share).

Events: ``sqs-policy-public.json`` (SetQueueAttributes) and ``sqs-add-permission-unknown-account.json`` with their
policy, label, time and ids changed; the RemovePermission record is the latter with ``eventName`` RemovePermission and
only ``queueUrl`` and ``label`` (assembled from the SQS API model: no published CloudTrail record was found).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from iamwarden.adapters.recorded import AuditRecorded
from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Outcome
from iamwarden.domain.recorded import RESOURCE_POLICY
from iamwarden.domain.statement_meaning import statement_meaning
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


def _by_label(account: Account, step: int, name: str, label: str, *, error: str | None = None) -> dict[str, Any]:
    """Step ``step``'s ``RemovePermission`` or ``AddPermission`` (this account, SendMessage) of ``label``, applied
    live first unless it failed."""
    event = copy.deepcopy(load_event("sqs-add-permission-unknown-account.json"))
    event["time"] = event["detail"]["eventTime"] = f"2026-12-02T09:1{step}:00Z"
    event["id"] = f"3d06f95d-bd64-464f-8483-b1a882b37e1{step}"
    event["detail"]["eventID"] = f"095a7a84-e9cd-4736-86fb-eefd81dcdb0{step}"
    event["detail"]["eventName"] = name
    if name == "RemovePermission":
        event["detail"]["requestParameters"] = {"queueUrl": QUEUE_URL, "label": label}
    else:
        event["detail"]["requestParameters"].update(label=label, AWSAccountIds=["111122223333"])
    if error is not None:
        event["detail"].update(errorCode=error, errorMessage="Access to the resource is denied.")
    elif name == "RemovePermission":
        _sqs(account).remove_permission(QueueUrl=QUEUE_URL, Label=label)
    else:
        _sqs(account).add_permission(
            QueueUrl=QUEUE_URL, Label=label, AWSAccountIds=["111122223333"], Actions=["SendMessage"]
        )
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


def test_a_share_an_operator_put_back_stays_older_after_an_unrelated_add_permission(
    account: Account, enforcer: EnforcerService
) -> None:
    _sqs(account).create_queue(QueueName="orders-events")
    account.set(f"rules/{QUEUE_CROSS}/mode", "remediate")
    [first] = enforcer.handle(_set(account, 1, _document(Q_OWN, Q_VENDOR)))["findings"]
    assert first["outcome"] == Outcome.REMEDIATED
    enforcer.executor._clock = lambda: datetime(2026, 12, 2, 9, 11, 30, tzinfo=UTC)  # the operator's undo
    enforcer.executor.undo(first["remediation_id"])
    assert _queue_policy(account) == _document(Q_OWN, Q_VENDOR)

    assert enforcer.handle(_by_label(account, 2, "AddPermission", "own-send"))["verdict"] == "compliant"

    recorded = AuditRecorded(account.audit(), account.dynamodb)
    kept = recorded.snapshot(RESOURCE_POLICY, QUEUE_ARN)
    assert kept is not None
    assert kept.data["accepted"] == [statement_meaning(Q_VENDOR)]
    live = _queue_policy(account)
    [finding] = enforcer.handle(_set(account, 3, {**live, "Statement": [*live["Statement"], Q_TLS]}))["findings"]
    assert finding["outcome"] == Outcome.ALERTED  # predates the change: named, never removed
    assert Q_VENDOR in _queue_policy(account)["Statement"]
