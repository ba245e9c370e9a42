"""What the pruner tells a role's owners, and the small interface a channel implements.

The enforcer's ``Notification`` is about a finding on one CloudTrail change;
a prune notice is about a plan (its exact diff, its date, how to undo it), so
it has its own shape. Any channel (the alert dispatcher's SNS or Slack
channels, when they land) plugs in by implementing ``NoticeSender``; until
then the Lambda functions use ``LogNoticeSender``, one structured log line
per notice.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from iamwarden.domain.delivery import Delivery, DeliveryReport


class NoticeKind(StrEnum):
    PLANNED = "planned"  # notify/enforce mode: what goes, and when (enforce) or would (notify)
    APPLIED = "applied"
    NOT_APPLIED = "not_applied"  # superseded by a change to the role, or the date passed outside enforce
    FAILED = "failed"
    ACCESS_DENIED = "access_denied"  # a pruned role was denied something it lost
    TAMPERED = "tampered"  # the stored plan is not what the pruner would do: someone changed it; not applied
    EXEMPTED = "exempted"  # a role exempted itself by tag: told once per tag value, so someone sees it
    RUN_SUMMARY = "run_summary"  # the planner run's summary to the security channel (no role, no plan)
    RUN_ERRORS = "run_errors"  # the same, for a run with errors: its own kind so SNS filters can page on it


class PruneNotice(NamedTuple):
    kind: NoticeKind
    account: str
    role_arn: str
    plan_id: str
    owners: tuple[str, ...]
    summary: str
    diff: str = ""
    apply_on: str | None = None
    rollback_command: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**self._asdict(), "kind": self.kind.value, "owners": list(self.owners)}


class NoticeSender(Protocol):
    """Delivers a notice to every channel it should reach; reports failures instead of raising."""

    def send(self, notice: PruneNotice) -> DeliveryReport: ...


class LogNoticeSender:
    """The default channel: one structured log line per notice (picked up by log-based alarms)."""

    def __init__(self, logger: logging.Logger | Any) -> None:
        self._logger = logger

    def send(self, notice: PruneNotice) -> DeliveryReport:
        self._logger.warning(notice.summary, extra={"prune_notice": notice.to_dict()})
        return DeliveryReport((Delivery("log", ok=True),))


def rollback_command(plan_id: str, service: str | None = None) -> str:
    return f"iamwarden prune rollback {plan_id}" + (f" --service {service}" if service else "")


class FanOutNoticeSender:
    """Sends each notice through every sender (the log line, and the alert channels); never raises."""

    def __init__(self, *senders: NoticeSender) -> None:
        self._senders = senders

    def send(self, notice: PruneNotice) -> DeliveryReport:
        deliveries: list[Delivery] = []
        for sender in self._senders:
            try:
                deliveries.extend(sender.send(notice).deliveries)
            except Exception as exc:  # one broken channel never silences the others
                deliveries.append(Delivery(type(sender).__name__, ok=False, error=f"{type(exc).__name__}: {exc}"))
        return DeliveryReport(tuple(deliveries))
