"""The exceptions table: one DynamoDB item per rule exception, changed only by conditional writes.

* ``exception_id`` (partition key).
* GSI ``by-status`` (``status``, ``ends_at``): the enforcer reads the approved ones with one Query (it is granted
  GetItem and Query only); the CLI lists the others the same way.
* ``expires_at_epoch``: the table's TTL attribute, set well after the exception ended
  (``RuleException.delete_after``), so an expired or revoked exception stays readable for the audit a while.

Approve, revoke, expire and remind are conditional on the status they start from, so two people approving at
once, or an approval racing a revocation, give one winner and a clear refusal, never a lost write.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from botocore.exceptions import BotoCoreError, ClientError

from iamwarden.adapters.audit import AuditLog
from iamwarden.adapters.errors import describe, error_code
from iamwarden.domain.exceptions import ExceptionConflict, ExceptionStoreError

if TYPE_CHECKING:
    from iamwarden.domain.rule_exceptions import ExceptionStatus, RuleException

BY_STATUS_INDEX = "by-status"
#: ``ExceptionStatus.APPROVED``'s value, which a unit test keeps equal. The enforcer reads the approved exceptions
#: with every container's first event; spelt here, ``domain.rule_exceptions`` (~1.7 ms) loads only when an item is
#: read (``from_item``), not at every cold start of an account with no exception approved.
APPROVED: Final[Literal["approved"]] = "approved"
#: The audit table's ``kind`` of the desk's record of each lifecycle step of an exception.
EXCEPTION_RECORD_KIND = "exception"
_CONDITION_FAILED = "ConditionalCheckFailedException"
_TIMES = ("requested_at", "approved_at", "expires_at", "reminded_at", "ended_at")
_TEXTS = ("reason", "requester", "approver", "source_remediation_id", "ended_by")


def to_item(exception: RuleException) -> dict[str, Any]:
    item: dict[str, Any] = {
        "exception_id": {"S": exception.exception_id},
        "rule_id": {"S": exception.scope.rule_id},
        "status": {"S": exception.status.value},
        "days": {"N": str(exception.days)},
        "ends_at": {"S": exception.ends_at.isoformat()},
        "expires_at_epoch": {"N": str(int(exception.delete_after.timestamp()))},
    }
    if exception.scope.resource_pattern is not None:
        item["resource_pattern"] = {"S": exception.scope.resource_pattern}
    if exception.scope.literal:
        item["literal"] = {"BOOL": True}
    if exception.scope.actor_pattern is not None:
        item["actor_pattern"] = {"S": exception.scope.actor_pattern}
    for name in _TEXTS:
        value = getattr(exception, name)
        if value:
            item[name] = {"S": value}
    for name in _TIMES:
        moment = getattr(exception, name)
        if moment is not None:
            item[name] = {"S": moment.isoformat()}
    if exception.accepted:
        item["accepted"] = {"SS": sorted(exception.accepted)}
    return item


def from_item(item: Mapping[str, Any]) -> RuleException:
    from iamwarden.domain.rule_exceptions import ExceptionScope, ExceptionStatus, RuleException  # noqa: PLC0415

    def text(name: str) -> str | None:
        value = item.get(name)
        return str(value["S"]) if value else None

    def moment(name: str) -> datetime | None:
        value = text(name)
        return datetime.fromisoformat(value) if value else None

    try:
        requested_at = moment("requested_at")
        if requested_at is None:
            raise KeyError("requested_at")
        return RuleException(
            exception_id=str(item["exception_id"]["S"]),
            scope=ExceptionScope(
                str(item["rule_id"]["S"]),
                text("resource_pattern"),
                text("actor_pattern"),
                literal=item.get("literal", {}).get("BOOL") is True,
            ),
            reason=text("reason") or "",
            requester=text("requester") or "",
            requested_at=requested_at,
            days=int(item["days"]["N"]),
            status=ExceptionStatus(item["status"]["S"]),
            approver=text("approver"),
            approved_at=moment("approved_at"),
            expires_at=moment("expires_at"),
            source_remediation_id=text("source_remediation_id"),
            reminded_at=moment("reminded_at"),
            ended_by=text("ended_by"),
            ended_at=moment("ended_at"),
            accepted=frozenset(item.get("accepted", {}).get("SS", ())),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ExceptionStoreError(f"exception item {item.get('exception_id')} is malformed: {exc!r}") from exc


class ExceptionStore:
    """Reads and writes exception items; every DynamoDB failure becomes an ``ExceptionStoreError``."""

    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self.table_name = table_name
        self._dynamodb = dynamodb

    def create(self, exception: RuleException) -> RuleException:
        """Write a new exception; an id that exists already is refused (ids are random: it never happens twice)."""
        self._write(
            "put_item",
            exception.exception_id,
            Item=to_item(exception),
            ConditionExpression="attribute_not_exists(exception_id)",
        )
        return exception

    def get(self, exception_id: str) -> RuleException | None:
        answer = self._call("get_item", exception_id, Key={"exception_id": {"S": exception_id}}, ConsistentRead=True)
        item = answer.get("Item")
        return from_item(item) if item else None

    def with_status(self, status: ExceptionStatus | Literal["approved"]) -> list[RuleException]:
        """Every exception in ``status`` (an ``ExceptionStatus`` or its value, e.g. ``APPROVED``), soonest ending
        first (one Query on ``by-status``)."""
        return list(self._query(status))

    def replace(self, before: RuleException, after: RuleException) -> RuleException:
        """Write ``after`` only if the item is still in ``before``'s status (and unreminded, if it was)."""
        condition = "#status = :was"
        values: dict[str, Any] = {":was": {"S": before.status.value}}
        if before.reminded_at is None:
            condition += " AND attribute_not_exists(reminded_at)"
        self._write(
            "put_item",
            before.exception_id,
            Item=to_item(after),
            ConditionExpression=condition,
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
        )
        return after

    def _query(self, status: ExceptionStatus | Literal["approved"]) -> Iterator[RuleException]:
        value = str(status)  # an ExceptionStatus is a StrEnum: its value
        try:
            pages = self._dynamodb.get_paginator("query").paginate(
                TableName=self.table_name,
                IndexName=BY_STATUS_INDEX,
                KeyConditionExpression="#status = :status",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":status": {"S": value}},
            )
            for page in pages:
                for item in page.get("Items", []):
                    yield from_item(item)
        except (BotoCoreError, ClientError) as exc:
            raise ExceptionStoreError(
                f"cannot read the {value} exceptions from table {self.table_name}: {describe(exc)}"
            ) from exc

    def _write(self, operation: str, exception_id: str, **kwargs: Any) -> None:
        try:
            getattr(self._dynamodb, operation)(TableName=self.table_name, **kwargs)
        except (BotoCoreError, ClientError) as exc:
            if error_code(exc) == _CONDITION_FAILED:
                raise ConcurrentChange(exception_id) from exc
            raise ExceptionStoreError(
                f"cannot write exception {exception_id} to table {self.table_name}: {describe(exc)}"
            ) from exc

    def _call(self, operation: str, exception_id: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._dynamodb, operation)(TableName=self.table_name, **kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise ExceptionStoreError(
                f"cannot read exception {exception_id} from table {self.table_name}: {describe(exc)}"
            ) from exc


class ConcurrentChange(ExceptionConflict):
    """The item was not in the state the write started from: someone else changed it first."""

    def __init__(self, exception_id: str) -> None:
        self.exception_id = exception_id
        super().__init__(f"Exception {exception_id} was changed by someone else meanwhile; look at it again.")


def lifecycle_record_id(exception_id: str, action: str) -> str:
    """The audit table's key of the desk's record of one lifecycle step (``requested``, ``approved`` ...)."""
    return f"{exception_id}-{action}"


class DeskApprovals:
    """Whether an approved exception went through the desk (``iamwarden exception approve``, Slack, an undo):
    the desk records each approval in the audit table, naming its approver, and announces it. An item marked
    approved with no such record was written into the exceptions table some other way (item writes are data
    events no rule routes): it is never honoured, and the exception watch revokes and alerts it. A record once
    found is kept (it never changes); a read that fails is no record (never exempt on a guess).
    """

    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit
        self._known: set[tuple[str, str]] = set()

    def recorded(self, exception: RuleException) -> bool:
        key = (exception.exception_id, exception.approver or "")
        if key in self._known:
            return True
        try:
            record = self.audit.get(lifecycle_record_id(exception.exception_id, "approved"))
        except Exception:
            return False
        found = (
            record is not None
            and record.kind == EXCEPTION_RECORD_KIND
            and bool(exception.approver)
            and record.actor == exception.approver
        )
        if found:
            self._known.add(key)
        return found


class CachedActiveExceptions:
    """The approved exceptions, read at most once per ``max_age`` seconds (the enforcer's, like its settings).

    An exception approved or revoked takes effect within ``max_age`` for changes that are compliant anyway; a
    change with findings is judged again with a fresh read when the table says otherwise (``EnforcerService``),
    so an exception approved a second ago (``iamwarden undo --with-exception-days``) already holds. Expiry is
    checked at each judgement against the clock (``RuleException.active``): an expired one never exempts.
    """

    def __init__(
        self,
        store: ExceptionStore,
        max_age: float,
        monotonic: Callable[[], float] = time.monotonic,
        *,
        approvals: DeskApprovals | None = None,
    ) -> None:
        self._store = store
        self._max_age = max_age
        self._monotonic = monotonic
        #: Only exceptions the desk approved are honoured (None: every approved item, as before).
        self._approvals = approvals
        self._read_at: float | None = None
        self._cached: tuple[RuleException, ...] = ()

    def current(self, *, fresh: bool = False) -> tuple[RuleException, ...]:
        """The approved exceptions the desk approved; ``fresh`` reads them again whatever their age (before a
        remediation)."""
        now = self._monotonic()
        if fresh or self._read_at is None or now - self._read_at >= self._max_age:
            approved = self._store.with_status(APPROVED)
            approvals = self._approvals
            self._cached = tuple(e for e in approved if approvals is None or approvals.recorded(e))
            self._read_at = now
        return self._cached
