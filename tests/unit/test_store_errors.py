"""The audit log and the pruner's store read AWS errors with adapters/errors: one code, one line, chained."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from iamwarden.adapters.audit import AuditLog, AuditRecord, AuditStatus
from iamwarden.domain.exceptions import AuditError
from iamwarden.prune.adapters.store import PruneStore, RoleState
from iamwarden.prune.exceptions import StoreError

CONDITION_FAILED = ClientError(
    {"Error": {"Code": "ConditionalCheckFailedException", "Message": "The conditional request failed"}}, "PutItem"
)
DENIED = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not\nallowed"}}, "UpdateItem")
NO_ANSWER = EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/")
RECORD = AuditRecord(
    remediation_id="rem-1",
    kind="remediation",
    status=AuditStatus.IN_PROGRESS,
    resource_arn="arn:aws:iam::111122223333:user/backdoor-admin",
    event_id="e-1",
    created_at="2026-11-21T09:14:07.000+00:00",
    rule="iam-user-created",
    account="111122223333",
    region="us-east-1",
    finding={},
    before=({"exists": True},),
)


class FailingDynamoDb:
    """Raises ``error`` from every write; ``get_item`` answers ``stored``."""

    def __init__(self, error: Exception, stored: dict[str, Any] | None = None) -> None:
        self.error = error
        self.stored = stored

    def put_item(self, **_: Any) -> None:
        raise self.error

    def update_item(self, **_: Any) -> None:
        raise self.error

    def get_item(self, **_: Any) -> dict[str, Any]:
        return {"Item": self.stored} if self.stored else {}


def test_begin_finds_the_earlier_attempts_item_when_the_condition_fails() -> None:
    earlier = RECORD._replace(done=("deactivated access key AKIA1",))
    audit = AuditLog("audit", FailingDynamoDb(CONDITION_FAILED, earlier.to_item()))

    assert audit.begin(RECORD).done == ["deactivated access key AKIA1"]


@pytest.mark.parametrize(
    ("error", "said"),
    [(DENIED, "AccessDeniedException: not allowed"), (NO_ANSWER, "Could not connect to the endpoint URL")],
)
def test_begin_fails_with_what_aws_said(error: Exception, said: str) -> None:
    with pytest.raises(AuditError, match=f"cannot write audit item rem-1: {said}") as raised:
        AuditLog("audit", FailingDynamoDb(error)).begin(RECORD)
    assert raised.value.__cause__ is error


def test_an_alert_already_claimed_is_not_claimed_again() -> None:
    assert AuditLog("audit", FailingDynamoDb(CONDITION_FAILED)).claim_alert("rem-1", "remediated") is False


@pytest.mark.parametrize("error", [DENIED, NO_ANSWER])
def test_a_claim_that_cannot_be_written_is_an_audit_error(error: Exception) -> None:
    with pytest.raises(AuditError, match="cannot update audit item rem-1: ") as raised:
        AuditLog("audit", FailingDynamoDb(error)).claim_alert("rem-1", "remediated")
    assert raised.value.__cause__ is error


def test_progress_that_cannot_be_written_is_an_audit_error() -> None:
    audit = AuditLog("audit", FailingDynamoDb(DENIED))

    with pytest.raises(AuditError, match="cannot update item audit item rem-1: AccessDeniedException: not allowed"):
        audit.record_progress("rem-1", done=["x"], calls=[], at="now")


def test_the_pruner_store_says_when_someone_else_wrote_the_role() -> None:
    store = PruneStore(FailingDynamoDb(CONDITION_FAILED), "prune")

    with pytest.raises(StoreError, match="was changed by someone else since it was read"):
        store.save_role(RoleState("111122223333", "arn:aws:iam::111122223333:role/app"), datetime.now(UTC))


@pytest.mark.parametrize(("error", "said"), [(DENIED, "AccessDeniedException: not allowed"), (NO_ANSWER, "Could not")])
def test_the_pruner_store_fails_with_what_aws_said(error: Exception, said: str) -> None:
    store = PruneStore(FailingDynamoDb(error), "prune")

    with pytest.raises(StoreError, match=f"cannot write .* to table prune: {said}") as raised:
        store.save_role(RoleState("111122223333", "arn:aws:iam::111122223333:role/app"), datetime.now(UTC))
    assert raised.value.__cause__ is error
