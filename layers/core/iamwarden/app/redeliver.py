"""Send again the alerts that could not be delivered, to exactly the channels that failed.

A delivery that still fails after its retries is kept on the audit item
(``delivery_failures``: channel, error, outcome) together with the event it was
about. ``redeliver`` rebuilds the same notification from that record (the
finding, what was done, the error) and hands it to the alert channels with
``only=`` the failed channels, so nobody gets an alert twice. What is delivered
is cleared from the item; what still fails stays, with the new error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol

from iamwarden.adapters.audit import AuditLog, AuditRecord
from iamwarden.app.notifications import Delivery, DeliveryReport, Notification, finding_notification
from iamwarden.domain.events import parse_event
from iamwarden.domain.exceptions import IamWardenError, SettingsProblem
from iamwarden.domain.findings import Finding, Outcome


class RedeliveryError(IamWardenError):
    """The audit record cannot be turned back into its alert (unknown id, nothing kept to rebuild it from)."""


class ChannelNotifier(Protocol):
    """What redelivery needs of ``alerts.AlertDispatcher``: send to exactly the given channels."""

    def notify(self, notification: Notification, *, only: list[str] | None = None) -> DeliveryReport: ...


class Redelivery(NamedTuple):
    remediation_id: str
    deliveries: tuple[Delivery, ...]

    @property
    def failed(self) -> tuple[Delivery, ...]:
        return tuple(delivery for delivery in self.deliveries if not delivery.ok)


def notification_of(record: AuditRecord, outcome: Outcome, settings_prefix: str) -> Notification:
    """The notification the enforcer sent for ``record`` and ``outcome``, rebuilt from the audit trail."""
    if record.kind == "configuration":
        problems = tuple(_problem(text) for text in record.finding.get("problems", ()))
        prefix = record.resource_arn.removeprefix("ssm:") or settings_prefix
        return Notification(
            Outcome.CONFIGURATION_ERROR, problems=problems, settings_prefix=prefix, remediation_id=record.remediation_id
        )
    if record.undelivered_event is None:
        raise RedeliveryError(f"{record.remediation_id} keeps no event to rebuild its alert from")
    change = parse_event(record.undelivered_event)
    if record.kind == "breaker":
        return Notification(
            Outcome.CIRCUIT_BREAKER_TRIPPED,
            change=change,
            remediation_id=record.remediation_id,
            error=record.error,
            settings_prefix=settings_prefix,
        )
    if record.kind == "rejection":
        reason = str(record.finding.get("reason") or "the event names another account than its own")
        return Notification(
            Outcome.REJECTED,
            change=change,
            remediation_id=record.remediation_id,
            error=reason,
            settings_prefix=settings_prefix,
        )
    return finding_notification(
        outcome,
        Finding.from_dict(record.finding, change.actor),
        change,
        record.remediation_id,
        settings_prefix=settings_prefix,
        done=tuple(record.done),
        error=record.error if outcome in (Outcome.REMEDIATION_FAILED, Outcome.ALERTED) else None,
    )


def redeliver(audit: AuditLog, notifier: ChannelNotifier, remediation_id: str, settings_prefix: str) -> Redelivery:
    """Resend the undelivered alerts of ``remediation_id``; record what still failed."""
    record = audit.get(remediation_id)
    if record is None:
        raise RedeliveryError(f"no record {remediation_id} in the audit table {audit.table_name}")
    if not record.delivery_failures:
        return Redelivery(remediation_id, ())
    by_outcome: dict[str, list[str]] = {}
    for failure in record.delivery_failures:
        channels = by_outcome.setdefault(str(failure.get("outcome", "")), [])
        if failure["channel"] not in channels:
            channels.append(str(failure["channel"]))
    deliveries: list[Delivery] = []
    still_failing: list[Mapping[str, Any]] = []
    for outcome_name, channels in by_outcome.items():
        notification = notification_of(record, Outcome(outcome_name), settings_prefix)
        report = notifier.notify(notification, only=channels)
        deliveries.extend(report.deliveries)
        still_failing += [
            {"channel": d.channel, "error": d.error, "outcome": outcome_name} for d in report.deliveries if not d.ok
        ]
    audit.record_delivery_failures(remediation_id, still_failing, event=record.undelivered_event)
    return Redelivery(remediation_id, tuple(deliveries))


def _problem(text: str) -> SettingsProblem:
    key, _, message = text.partition(": ")
    return SettingsProblem(key, message)
