"""The pruner's state in one DynamoDB table: per-role state and every plan with its before-state.

Items expire through the table's TTL attribute (``expires_at``), so the table
does not grow without bound: a plan is kept ``RETENTION_DAYS`` after its last
change, a role's state as long after the role was last seen. Bodies are
zlib-compressed JSON, which keeps a role with many large policies well under
DynamoDB's 400 KB item limit (checked, never truncated). Role state is
written with an optimistic version check, so two workers can never both
announce a plan for one role.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from iamwarden.adapters.errors import describe, error_code
from iamwarden.prune.domain.plan import PrunePlan
from iamwarden.prune.exceptions import PlanNotFoundError, StoreError

RETENTION_DAYS = 400
_MAX_BODY_BYTES = 350_000


class RoleState(NamedTuple):
    account: str
    role_arn: str
    version: int = 0
    active_plan_id: str | None = None
    last_applied_plan_id: str | None = None
    applied_at: str | None = None
    pending_job_id: str | None = None
    pending_job_started: str | None = None
    snoozed_until: str | None = None
    last_checked: str | None = None
    last_outcome: str | None = None
    ledger: Mapping[str, str] = MappingProxyType({})
    # No field may be added here without a reader that ignores unknown ones in the release a rollback goes back to:
    # that release reads ``RoleState(**body)`` (test_prune_handlers, PREVIOUS_ROLE_STATE_FIELDS).

    def to_body(self) -> dict[str, Any]:
        body = self._asdict()
        body["ledger"] = dict(self.ledger)
        return body


class PruneStore:
    def __init__(self, dynamodb: Any, table: str) -> None:
        self._db = dynamodb
        self.table = table

    # --- role state

    def role(self, account: str, role_arn: str) -> RoleState:
        item = self._get(_role_key(account, role_arn))
        if item is None:
            return RoleState(account, role_arn)
        body = _unpack(item)
        return RoleState(**{**body, "ledger": MappingProxyType(body.get("ledger", {}))})

    def save_role(self, state: RoleState, now: datetime) -> RoleState:
        """Write ``state`` if nobody else wrote the role since it was read; returns it with the new version."""
        saved = state._replace(version=state.version + 1)
        condition = "attribute_not_exists(pk)" if state.version == 0 else "version = :expected"
        values = {":expected": {"N": str(state.version)}} if state.version else None
        self._put(
            _role_key(state.account, state.role_arn),
            saved.to_body(),
            now,
            version=saved.version,
            condition=condition,
            values=values,
        )
        return saved

    def roles(self, account: str) -> Iterator[RoleState]:
        """Every role state recorded for ``account``."""
        try:
            paginator = self._db.get_paginator("query")
            pages = paginator.paginate(
                TableName=self.table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": f"ACCOUNT#{account}"}},
            )
            for page in pages:
                for item in page["Items"]:
                    body = _unpack(item)
                    yield RoleState(**{**body, "ledger": MappingProxyType(body.get("ledger", {}))})
        except (BotoCoreError, ClientError) as exc:
            raise StoreError(
                f"cannot list the pruner's role states of account {account} in table {self.table}: {describe(exc)}"
            ) from exc

    # --- the planner's own record: where the last run summary's window ended

    def summarised_until(self) -> datetime | None:
        """The start of the last planner run whose summary reached a channel, or had nothing to send (its window
        ends there), or None before the first one. A record of its own kind (``PRUNER#RUN``), never a role-state
        field: a release without it never reads it (it queries ``ACCOUNT#`` and gets ``PLAN#`` items only), so a
        rollback is safe."""
        item = self._get(_RUN_KEY)
        if item is None:
            return None
        try:
            until = datetime.fromisoformat(str(_unpack(item)["summarised_until"]))
        except (KeyError, ValueError) as exc:
            raise StoreError(f"{_named(_RUN_KEY)} is unreadable: {exc}") from exc
        if until.tzinfo is None:  # hand-edited (the pruner writes an aware time): not comparable, never a TypeError
            raise StoreError(f"{_named(_RUN_KEY)} is unreadable: its time {until.isoformat()} has no time zone")
        return until

    def save_summarised_until(self, started: datetime, now: datetime) -> None:
        self._put(
            _RUN_KEY,
            {"summarised_until": started.isoformat()},
            now,
            version=None,
            condition=None,
            values=None,
        )

    # --- plans

    def plan(self, plan_id: str) -> PrunePlan:
        item = self._get(_plan_key(plan_id))
        if item is None:
            raise PlanNotFoundError(f"no prune plan {plan_id!r} in table {self.table} (unknown, or expired)")
        return PrunePlan.from_dict(_unpack(item))

    def save_plan(self, plan: PrunePlan, now: datetime) -> None:
        self._put(
            _plan_key(plan.plan_id),
            plan.to_dict(),
            now,
            version=None,
            condition=None,
            values=None,
            status=plan.status.value,
        )

    # --- items

    def _get(self, key: Mapping[str, Any]) -> Mapping[str, Any] | None:
        try:
            item: Mapping[str, Any] | None = self._db.get_item(
                TableName=self.table, Key=dict(key), ConsistentRead=True
            ).get("Item")
        except (BotoCoreError, ClientError) as exc:
            raise StoreError(f"cannot read {_named(key)} from table {self.table}: {describe(exc)}") from exc
        return item

    def _put(
        self,
        key: Mapping[str, Any],
        body: Mapping[str, Any],
        now: datetime,
        *,
        version: int | None,
        condition: str | None,
        values: Mapping[str, Any] | None,
        status: str | None = None,
    ) -> None:
        packed = zlib.compress(json.dumps(body, default=str, sort_keys=True).encode(), 6)
        if len(packed) > _MAX_BODY_BYTES:
            raise StoreError(f"{_named(key)} would be {len(packed)} bytes compressed, over the store's item limit")
        expires = int((now + timedelta(days=RETENTION_DAYS)).timestamp())
        item: dict[str, Any] = {**key, "body": {"B": packed}, "expires_at": {"N": str(expires)}}
        if version is not None:
            item["version"] = {"N": str(version)}
        if status is not None:
            item["status"] = {"S": status}
        request: dict[str, Any] = {"TableName": self.table, "Item": item}
        if condition:
            request["ConditionExpression"] = condition
        if values:
            request["ExpressionAttributeValues"] = dict(values)
        try:
            self._db.put_item(**request)
        except (BotoCoreError, ClientError) as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise StoreError(
                    f"{_named(key)} was changed by someone else since it was read; not overwritten"
                ) from exc
            raise StoreError(f"cannot write {_named(key)} to table {self.table}: {describe(exc)}") from exc


def _role_key(account: str, role_arn: str) -> dict[str, Any]:
    return {"pk": {"S": f"ACCOUNT#{account}"}, "sk": {"S": f"ROLE#{role_arn}"}}


def _plan_key(plan_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"PLAN#{plan_id}"}, "sk": {"S": "PLAN"}}


#: The planner's own record (the run summary's window); the pk no role state or plan can have.
_RUN_KEY: Mapping[str, Any] = {"pk": {"S": "PRUNER#RUN"}, "sk": {"S": "SUMMARY"}}


def _named(key: Mapping[str, Any]) -> str:
    """An item's key as an operator reads it ("plan prune-...", "the state of role arn:..."), never raw."""
    pk, sk = str(key["pk"]["S"]), str(key["sk"]["S"])
    if pk == "PRUNER#RUN":
        return "the pruner's run summary record"
    if pk.startswith("PLAN#"):
        return f"plan {pk.removeprefix('PLAN#')}"
    return f"the pruner's state of role {sk.removeprefix('ROLE#')}"


def _unpack(item: Mapping[str, Any]) -> dict[str, Any]:
    try:
        body: dict[str, Any] = json.loads(zlib.decompress(item["body"]["B"]))
    except (KeyError, zlib.error, ValueError) as exc:
        raise StoreError(f"a stored pruner item is unreadable ({item.get('pk')}): {exc}") from exc
    return body
