"""The circuit breaker's state in AWS: a ledger in the audit table and the kill switch in SSM.

* ``RemediationLedger``: one audit-table item per scope (``breaker#<account>``,
  ``breaker#total``) holding the recent remediations as a list, appended atomically
  (``list_append``), so every enforcer container counts the same remediations.
* ``KillSwitch``: the SSM parameter ``<prefix>/enforcement`` (``on`` or ``off``),
  read fresh before each remediation (never from the settings cache) with its
  ``LastModifiedDate``, so ``aws ssm put-parameter ... --value on`` takes effect at once.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from iamwarden.adapters.errors import TransientAwsError, describe, error_code, is_transient
from iamwarden.domain.breaker import SWITCH_OFF, SWITCH_ON, LedgerEntry
from iamwarden.domain.exceptions import IamWardenError

#: A ledger longer than this is trimmed to the entries still inside the window.
TRIM_AT = 200
LEDGER_PREFIX = "breaker#"


class BreakerStateError(IamWardenError):
    """The ledger or the kill switch cannot be read or written; the enforcer then does not remediate."""


def _state_error(message: str, exc: BaseException) -> Exception:
    """A throttled, 5xx or timed-out call is retried by Lambda (the event is not lost to a hiccup);
    any other failure (AccessDenied, no such table) is a ``BreakerStateError``: alert, never act unbraked.
    """
    if is_transient(exc):
        return TransientAwsError(message, code=error_code(exc))
    return BreakerStateError(message)


class RemediationLedger:
    """Recent remediations per scope, in the audit table (items ``breaker#<scope>``)."""

    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self.table_name = table_name
        self._dynamodb = dynamodb

    def append(self, scope: str, entry: LedgerEntry) -> list[LedgerEntry]:
        """Add ``entry`` to ``scope``'s ledger; return the whole ledger as stored after the append."""
        try:
            answer = self._dynamodb.update_item(
                TableName=self.table_name,
                Key={"remediation_id": {"S": LEDGER_PREFIX + scope}},
                UpdateExpression="SET entries = list_append(if_not_exists(entries, :empty), :new), kind = :kind",
                ExpressionAttributeValues={
                    ":empty": {"L": []},
                    ":new": {"L": [{"S": entry.encode()}]},
                    ":kind": {"S": "breaker"},
                },
                ReturnValues="ALL_NEW",
            )
        except (BotoCoreError, ClientError) as exc:
            message = f"cannot record the remediation in the breaker ledger {scope}: {describe(exc)}"
            raise _state_error(message, exc) from exc
        return _entries(answer.get("Attributes", {}))

    def read(self, scope: str) -> list[LedgerEntry]:
        try:
            answer = self._dynamodb.get_item(
                TableName=self.table_name, Key={"remediation_id": {"S": LEDGER_PREFIX + scope}}, ConsistentRead=True
            )
        except (BotoCoreError, ClientError) as exc:
            raise _state_error(f"cannot read the breaker ledger {scope}: {describe(exc)}", exc) from exc
        return _entries(answer.get("Item", {}))

    def trim(self, scope: str, keep: Sequence[LedgerEntry], seen: int) -> None:
        """Replace a long ledger by ``keep``, only if nobody appended since it had ``seen`` entries."""
        try:
            self._dynamodb.update_item(
                TableName=self.table_name,
                Key={"remediation_id": {"S": LEDGER_PREFIX + scope}},
                UpdateExpression="SET entries = :keep",
                ConditionExpression="size(entries) = :seen",
                ExpressionAttributeValues={
                    ":keep": {"L": [{"S": entry.encode()} for entry in keep]},
                    ":seen": {"N": str(seen)},
                },
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":  # someone appended: trim next time
                raise _state_error(f"cannot trim the breaker ledger {scope}: {describe(exc)}", exc) from exc

    def clear(self, scopes: Sequence[str]) -> list[str]:
        """Forget the ledgers of ``scopes`` (a reset); return the scopes that had one."""
        cleared = []
        for scope in scopes:
            try:
                answer = self._dynamodb.delete_item(
                    TableName=self.table_name,
                    Key={"remediation_id": {"S": LEDGER_PREFIX + scope}},
                    ReturnValues="ALL_OLD",
                )
            except (BotoCoreError, ClientError) as exc:
                raise _state_error(f"cannot clear the breaker ledger {scope}: {describe(exc)}", exc) from exc
            if answer.get("Attributes"):
                cleared.append(scope)
        return cleared

    def scopes(self) -> list[str]:
        """Every scope with a ledger (for ``iamwarden breaker status`` and ``reset``)."""
        scopes: list[str] = []
        try:
            for page in self._dynamodb.get_paginator("scan").paginate(
                TableName=self.table_name,
                FilterExpression="begins_with(remediation_id, :prefix)",
                ExpressionAttributeValues={":prefix": {"S": LEDGER_PREFIX}},
                ProjectionExpression="remediation_id",
            ):
                scopes += [item["remediation_id"]["S"][len(LEDGER_PREFIX) :] for item in page.get("Items", [])]
        except (BotoCoreError, ClientError) as exc:
            raise _state_error(f"cannot list the breaker ledgers in {self.table_name}: {describe(exc)}", exc) from exc
        return sorted(scopes)


class SwitchState(NamedTuple):
    """The kill switch as read: its value (None when the parameter does not exist) and when it was set."""

    value: str | None
    modified: datetime | None = None

    @property
    def on(self) -> bool:
        return self.value is None or self.value.strip().lower() == SWITCH_ON


class KillSwitch:
    """The SSM parameter that turns remediation on or off for the whole deployment."""

    def __init__(self, name: str, ssm: Any) -> None:
        self.name = name
        self._ssm = ssm

    def read(self) -> SwitchState:
        try:
            parameter = self._ssm.get_parameter(Name=self.name)["Parameter"]
        except ClientError as exc:
            if error_code(exc) == "ParameterNotFound":
                return SwitchState(None)
            raise _state_error(f"cannot read the kill switch {self.name}: {describe(exc)}", exc) from exc
        except BotoCoreError as exc:
            raise _state_error(f"cannot read the kill switch {self.name}: {describe(exc)}", exc) from exc
        modified = parameter.get("LastModifiedDate")
        return SwitchState(str(parameter.get("Value", "")), modified if isinstance(modified, datetime) else None)

    def set(self, value: str, description: str) -> None:
        if value not in (SWITCH_ON, SWITCH_OFF):
            raise ValueError(f"the kill switch is on or off, not {value!r}")
        try:
            self._ssm.put_parameter(
                Name=self.name, Value=value, Type="String", Overwrite=True, Description=description[:1024]
            )
        except (BotoCoreError, ClientError) as exc:
            raise _state_error(f"cannot set the kill switch {self.name} to {value}: {describe(exc)}", exc) from exc


def _entries(item: dict[str, Any]) -> list[LedgerEntry]:
    raw = [value.get("S", "") for value in item.get("entries", {}).get("L", [])]
    return [decoded for decoded in map(LedgerEntry.decode, raw) if decoded is not None]
