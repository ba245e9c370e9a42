"""The audit trail: one DynamoDB item per finding, written before any change.

Keys are designed for the two questions people ask:

* ``remediation_id`` (partition key): one remediation, as named in its alert.
* GSI ``by-resource`` (``resource_arn``, ``created_at``): "everything IAM
  Warden did to this resource", newest last (``iamwarden history``).
* GSI ``by-event`` (``event_id``, ``created_at``): "everything this CloudTrail
  event caused".

Nested data (finding, plan, before-state, calls) is stored as JSON strings so
the item reads back exactly as written, with no DynamoDB number or empty-value
conversions in between.
"""

import json
import zlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from iamwarden.adapters.errors import describe, error_code
from iamwarden.domain.exceptions import AuditError

BY_RESOURCE_INDEX = "by-resource"
BY_EVENT_INDEX = "by-event"
#: A conditional write found the item already there (or already in that state).
_ALREADY_THERE = "ConditionalCheckFailedException"
_JSON_FIELDS = ("finding", "plan", "before", "done", "calls", "restored", "delivery_failures")


class AuditStatus:
    """The life of an audit item."""

    ALERTED = "alerted"  # alert mode, or a break-glass change: nothing was changed
    IN_PROGRESS = "in_progress"  # the before-state is recorded; writes are under way
    REMEDIATED = "remediated"
    FAILED = "failed"  # part of the plan failed; ``done`` says what was done
    UNDONE = "undone"
    UNDO = "undo"  # the item recording an undo of another remediation
    UNDO_REQUESTED = "requested"  # a verified Slack undo request, not yet taken by the enforcer
    UNDO_CLAIMED = "claimed"  # taken: it is never run twice


#: The kind of the item a verified Slack undo click leaves for the enforcer (``claim_undo_request``).
UNDO_REQUEST_KIND = "slack_undo_request"


class AuditRecord(NamedTuple):
    remediation_id: str
    kind: str  # "remediation" or "undo"
    status: str
    resource_arn: str
    event_id: str
    created_at: str
    rule: str
    account: str
    region: str
    finding: Mapping[str, Any]
    plan: Sequence[Mapping[str, Any]] = ()
    before: Sequence[Mapping[str, Any]] = ()
    done: Sequence[str] = ()
    calls: Sequence[Mapping[str, Any]] = ()
    error: str | None = None
    updated_at: str | None = None
    undone_by: str | None = None
    undoes: str | None = None
    restored: Sequence[str] = ()
    alerts_sent: frozenset[str] = frozenset()
    delivery_failures: Sequence[Mapping[str, Any]] = ()
    actor: str | None = None
    #: The EventBridge event, kept (compressed) only while an alert about it is undelivered, for redelivery.
    undelivered_event: Mapping[str, Any] | None = None

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {}
        for field, value in self._asdict().items():
            if value is None or value == "" or (field in ("alerts_sent", "before") and not value):
                continue  # no before-state yet: a later attempt may still record one
            # Empty strings are left out: DynamoDB rejects them as index keys; from_item reads them back as "".
            if field == "undelivered_event":
                item[field] = {"B": _compress(value)}
            elif field in _JSON_FIELDS:
                item[field] = {"S": json.dumps(value, sort_keys=True, default=list)}
            elif field == "alerts_sent":
                item[field] = {"SS": sorted(value)}
            else:
                item[field] = {"S": str(value)}
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "AuditRecord":
        values: dict[str, Any] = {}
        for field in cls._fields:
            attribute = item.get(field)
            if attribute is None:
                continue
            if field == "undelivered_event":
                values[field] = json.loads(zlib.decompress(attribute["B"]))
            elif field in _JSON_FIELDS:
                values[field] = json.loads(attribute["S"])
            elif field == "alerts_sent":
                values[field] = frozenset(attribute.get("SS", ()))
            else:
                values[field] = attribute["S"]
        if field_missing := [f for f in ("remediation_id", "kind", "status", "resource_arn") if f not in values]:
            raise AuditError(f"audit item is missing {', '.join(field_missing)}")
        return cls(
            **{
                "event_id": "",
                "created_at": "",
                "rule": "",
                "account": "",
                "region": "",
                "finding": {},
                **values,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        data = self._asdict()
        data["alerts_sent"] = sorted(self.alerts_sent)
        return {key: value for key, value in data.items() if value not in (None, (), [], "")}


class AuditLog:
    """Reads and writes audit items; every DynamoDB failure becomes an ``AuditError``."""

    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self.table_name = table_name
        self._dynamodb = dynamodb

    def begin(self, record: AuditRecord) -> AuditRecord:
        """Write ``record`` unless one with its id exists; return the item that is now stored.

        A retried event finds its first attempt's item and keeps its before-state:
        that, not the half-remediated state a retry sees, is what undo restores. A
        remediation replaces an item that has no before-state yet (a first attempt that
        failed before reading it, or that was only alerted); an alert never replaces
        anything, so a retry keeps the alerts already sent and does not send them again.
        """
        condition = "attribute_not_exists(remediation_id)"
        if record.before:
            condition += " OR attribute_not_exists(#before)"
        try:
            self._dynamodb.put_item(
                TableName=self.table_name,
                Item=record.to_item(),
                ConditionExpression=condition,
                **({"ExpressionAttributeNames": {"#before": "before"}} if record.before else {}),
            )
            return record
        except (BotoCoreError, ClientError) as exc:
            if error_code(exc) != _ALREADY_THERE:
                raise AuditError(f"cannot write audit item {record.remediation_id}: {describe(exc)}") from exc
        existing = self.get(record.remediation_id)
        if existing is None:  # pragma: no cover - deleted between the two calls
            raise AuditError(f"audit item {record.remediation_id} vanished while it was being written")
        return existing

    def put(self, record: AuditRecord) -> None:
        self._call("put_item", record.remediation_id, Item=record.to_item())

    def finish(
        self,
        remediation_id: str,
        status: str,
        *,
        done: Sequence[str],
        calls: Sequence[Mapping[str, Any]],
        error: str | None,
        at: str,
    ) -> None:
        """Record the outcome: status, what was done, every API call, the error if any."""
        names = {"#status": "status", "#done": "done", "#calls": "calls", "#updated": "updated_at"}
        values: dict[str, Any] = {
            ":status": {"S": status},
            ":done": {"S": json.dumps(list(done))},
            ":calls": {"S": json.dumps(list(calls), sort_keys=True)},
            ":updated": {"S": at},
        }
        expression = "SET #status = :status, #done = :done, #calls = :calls, #updated = :updated"
        if error is None:
            expression += " REMOVE #error"
        else:
            expression += ", #error = :error"
            values[":error"] = {"S": error}
        names["#error"] = "error"
        self._call(
            "update_item",
            remediation_id,
            Key={"remediation_id": {"S": remediation_id}},
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def record_progress(
        self, remediation_id: str, *, done: Sequence[str], calls: Sequence[Mapping[str, Any]], at: str
    ) -> None:
        """Record what is done so far, while the plan runs: a failure to record the outcome cannot lose it."""
        self._call(
            "update_item",
            remediation_id,
            Key={"remediation_id": {"S": remediation_id}},
            UpdateExpression="SET #done = :done, #calls = :calls, #updated = :updated",
            ConditionExpression="attribute_exists(remediation_id)",
            ExpressionAttributeNames={"#done": "done", "#calls": "calls", "#updated": "updated_at"},
            ExpressionAttributeValues={
                ":done": {"S": json.dumps(list(done))},
                ":calls": {"S": json.dumps(list(calls), sort_keys=True)},
                ":updated": {"S": at},
            },
        )

    def mark_undone(self, remediation_id: str, undo_id: str, at: str) -> None:
        self._call(
            "update_item",
            remediation_id,
            Key={"remediation_id": {"S": remediation_id}},
            UpdateExpression="SET #status = :status, undone_by = :undo, updated_at = :at",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":status": {"S": AuditStatus.UNDONE},
                ":undo": {"S": undo_id},
                ":at": {"S": at},
            },
        )

    def claim_undo_request(self, request_id: str, not_before: str) -> AuditRecord | None:
        """Take the verified Slack undo request ``request_id``, once; None when none waits (forged, or used).

        Only the Slack interaction function writes such requests, after checking the click's signature and
        who clicked (the table's policy keeps item writes to IAM Warden's roles): the enforcer undoes only
        what one says, never what its invoker's payload says. One written before ``not_before`` (the same
        format, ``%Y-%m-%dT%H:%M:%S.%fZ``) has lapsed: a hand-over that failed never leaves an undo waiting
        for whoever may invoke the enforcer later.
        """
        try:
            answer = self._dynamodb.update_item(
                TableName=self.table_name,
                Key={"remediation_id": {"S": request_id}},
                UpdateExpression="SET #status = :claimed",
                ConditionExpression=(
                    "attribute_exists(remediation_id) AND #kind = :kind AND #status = :waiting AND created_at >= :since"
                ),
                ExpressionAttributeNames={"#status": "status", "#kind": "kind"},
                ExpressionAttributeValues={
                    ":claimed": {"S": AuditStatus.UNDO_CLAIMED},
                    ":kind": {"S": UNDO_REQUEST_KIND},
                    ":waiting": {"S": AuditStatus.UNDO_REQUESTED},
                    ":since": {"S": not_before},
                },
                ReturnValues="ALL_NEW",
            )
        except (BotoCoreError, ClientError) as exc:
            if error_code(exc) == _ALREADY_THERE:
                return None
            raise AuditError(f"cannot claim undo request {request_id}: {describe(exc)}") from exc
        return AuditRecord.from_item(answer["Attributes"])

    def claim_alert(self, remediation_id: str, outcome: str) -> bool:
        """Mark the alert for ``outcome`` as sent; False if it already was (a retry must not alert twice)."""
        try:
            self._dynamodb.update_item(
                TableName=self.table_name,
                Key={"remediation_id": {"S": remediation_id}},
                UpdateExpression="ADD alerts_sent :outcome",
                ConditionExpression="attribute_exists(remediation_id) AND NOT contains(alerts_sent, :name)",
                ExpressionAttributeValues={":outcome": {"SS": [outcome]}, ":name": {"S": outcome}},
            )
            return True
        except (BotoCoreError, ClientError) as exc:
            if error_code(exc) == _ALREADY_THERE:
                return False
            raise AuditError(f"cannot update audit item {remediation_id}: {describe(exc)}") from exc

    def record_delivery_failures(
        self,
        remediation_id: str,
        failures: Sequence[Mapping[str, Any]],
        *,
        event: Mapping[str, Any] | None = None,
    ) -> None:
        """Keep failed deliveries on the item (replacing the list), with the event, for ``iamwarden redeliver``.

        An empty list clears both: everything was delivered.
        """
        if not failures:
            self._call(
                "update_item",
                remediation_id,
                Key={"remediation_id": {"S": remediation_id}},
                UpdateExpression="REMOVE delivery_failures, undelivered_event",
            )
            return
        expression = "SET delivery_failures = :failures"
        values: dict[str, Any] = {":failures": {"S": json.dumps(list(failures), sort_keys=True)}}
        if event is not None:
            expression += ", undelivered_event = :event"
            values[":event"] = {"B": _compress(event)}
        self._call(
            "update_item",
            remediation_id,
            Key={"remediation_id": {"S": remediation_id}},
            UpdateExpression=expression,
            ExpressionAttributeValues=values,
        )

    def get(self, remediation_id: str) -> AuditRecord | None:
        answer = self._call(
            "get_item", remediation_id, Key={"remediation_id": {"S": remediation_id}}, ConsistentRead=True
        )
        item = answer.get("Item")
        return AuditRecord.from_item(item) if item else None

    def history(self, resource_arn: str) -> list[AuditRecord]:
        """Everything recorded for ``resource_arn``, oldest first."""
        return list(self._query(BY_RESOURCE_INDEX, "resource_arn", resource_arn))

    def for_event(self, event_id: str) -> list[AuditRecord]:
        return list(self._query(BY_EVENT_INDEX, "event_id", event_id))

    def _query(self, index: str, key: str, value: str) -> Iterator[AuditRecord]:
        try:
            pages = self._dynamodb.get_paginator("query").paginate(
                TableName=self.table_name,
                IndexName=index,
                KeyConditionExpression="#key = :value",
                ExpressionAttributeNames={"#key": key},
                ExpressionAttributeValues={":value": {"S": value}},
            )
            for page in pages:
                for item in page.get("Items", []):
                    yield AuditRecord.from_item(item)
        except (BotoCoreError, ClientError) as exc:
            raise AuditError(f"cannot query the audit table {self.table_name} by {key}: {describe(exc)}") from exc

    def _call(self, operation: str, remediation_id: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._dynamodb, operation)(TableName=self.table_name, **kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise AuditError(
                f"cannot {operation.replace('_', ' ')} audit item {remediation_id}: {describe(exc)}"
            ) from exc


def _compress(value: Any) -> bytes:
    """Events can be large (a 20 KB bucket policy); compressed they stay far below DynamoDB's 400 KB item limit."""
    return zlib.compress(json.dumps(value, sort_keys=True).encode(), 9)
