"""The exception desk: request, approve, revoke, expire and list rule exceptions, each recorded in the audit.

The CLI (``iamwarden exception ...``), the undo (``iamwarden undo --with-exception-days``), Slack's buttons and
the scheduled ``ExceptionWatch`` all go through this one desk, so every path checks the same rules and leaves
the same audit trail: an item per request, approval, revocation and expiry, with who did it.
Who may approve is checked here too: never the requester (four eyes; sessions of one role are one person), and
for the persistence and evasion rules only an operator (``approver_flaw``). Every approval sends a notice to the
security channel naming who asked, who approved, the scope and the expiry; the callers check the rest (IAM
permissions on the CLI, ``slack.approvers`` in Slack).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from iamwarden.adapters.audit import AuditLog, AuditRecord, AuditStatus
from iamwarden.adapters.exception_store import (
    EXCEPTION_RECORD_KIND,
    ConcurrentChange,
    ExceptionStore,
    lifecycle_record_id,
)
from iamwarden.alerts.notifications import Notification, Notifier
from iamwarden.app.executor import RemediationExecutor
from iamwarden.domain.catalog import RULES, Severity, default_mode
from iamwarden.domain.delivery import Delivery
from iamwarden.domain.events import Actor
from iamwarden.domain.exceptions import ExceptionConflict, ExceptionNotAllowed, ExceptionRefused
from iamwarden.domain.findings import Finding, Outcome
from iamwarden.domain.rule_exceptions import (
    UNEXEMPTABLE_RULES,
    ExceptionScope,
    ExceptionStatus,
    RuleException,
    accepted_of,
    approver_flaw,
    exception_days,
    exception_summary,
    validate_reason,
    validate_scope,
)
from iamwarden.domain.settings import ExceptionSettings

logger = logging.getLogger(__name__)

#: Who ends an exception when its time is up.
IAM_WARDEN = "IAM Warden (expiry)"
EXCEPTION_ID_PREFIX = "exc-"


def new_exception_id() -> str:
    return EXCEPTION_ID_PREFIX + secrets.token_hex(6)


def utc_now() -> datetime:
    return datetime.now(UTC)


class ExceptionDesk:
    def __init__(
        self,
        store: ExceptionStore,
        audit: AuditLog,
        settings: Callable[[], ExceptionSettings] = ExceptionSettings,
        *,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = new_exception_id,
        operators: Callable[[], Sequence[str]] = tuple,
        notifier: Notifier | None = None,
        settings_prefix: str = "/iamwarden",
    ) -> None:
        self.store = store
        self.audit = audit
        self._settings = settings
        self.clock = clock
        self._new_id = new_id
        self._operators = operators
        self.notifier = notifier
        self.settings_prefix = settings_prefix
        #: The channels the last approval's notice could not reach (empty: delivered, or no notifier).
        self.notice_failures: tuple[Delivery, ...] = ()

    @property
    def settings(self) -> ExceptionSettings:
        return self._settings()

    def request(
        self,
        scope: ExceptionScope,
        reason: str,
        requester: str,
        days: int | None = None,
        *,
        source_remediation_id: str | None = None,
    ) -> RuleException:
        """Record a request; it exempts nothing until approved. Bad input is an ``ExceptionRefused``."""
        exception = RuleException(
            exception_id=self._new_id(),
            scope=validate_scope(scope, RULES),
            reason=validate_reason(reason),
            requester=requester,
            requested_at=self.clock(),
            days=exception_days(days, self.settings),
            status=ExceptionStatus.REQUESTED,
            source_remediation_id=source_remediation_id,
            accepted=self._accepted(source_remediation_id),
        )
        self.store.create(exception)
        self._record(exception, "requested", requester)
        return exception

    def _accepted(self, remediation_id: str | None) -> frozenset[str]:
        """What the remediation's finding offended with: all an exception made from it accepts (``covers``)."""
        if not remediation_id:
            return frozenset()
        record = self.audit.get(remediation_id)
        offending = record.finding.get("offending") if record is not None else None
        return accepted_of(offending) if isinstance(offending, list) else frozenset()

    def approve(self, exception_id: str, approver: str) -> RuleException:
        """Approve a pending request: it exempts from now until now + its days. Only a requested one."""
        current = self.get(exception_id)
        if current.status is not ExceptionStatus.REQUESTED:
            raise ExceptionConflict(_not_pending(current))
        flaw = approver_flaw(current, approver, self._operators())
        if flaw is not None:
            raise ExceptionNotAllowed(f"You may not approve {exception_id}: {flaw}.")
        approved = current.approved(approver, self.clock())
        try:
            self.store.replace(current, approved)
        except ConcurrentChange:
            raise ExceptionConflict(_not_pending(self.get(exception_id))) from None
        self.notice_failures = self._announce(approved)
        self._record(approved, "approved", approver, self.notice_failures)
        return approved

    def _announce(self, approved: RuleException) -> tuple[Delivery, ...]:
        """The approval's notice to the security channel (high): who asked, who approved, the scope, the expiry.

        Four eyes stop one person; an admin can act as two, so the security channel hears of every approval.
        """
        if self.notifier is None:
            return ()
        notice = Notification(Outcome.NOTEWORTHY, approval_finding(approved), settings_prefix=self.settings_prefix)
        try:
            failed = self.notifier.notify(notice).failed
        except Exception as exc:  # a notifier never raises; if one does, the approval stands and says so
            failed = (Delivery("notice", ok=False, error=f"{type(exc).__name__}: {exc}"),)
        if failed:
            logger.error(
                "the approval notice was not delivered",
                extra={"exception_id": approved.exception_id, "failed": [d.channel for d in failed]},
            )
        return tuple(failed)

    def revoke(self, exception_id: str, by: str) -> RuleException:
        """End a requested or approved exception now; it exempts nothing from then on."""
        current = self.get(exception_id)
        if current.status not in (ExceptionStatus.REQUESTED, ExceptionStatus.APPROVED):
            raise ExceptionConflict(f"Exception {exception_id} is {_state(current)} already; nothing to revoke.")
        revoked = _ended(current, ExceptionStatus.REVOKED, by, self.clock())
        try:
            self.store.replace(current, revoked)
        except ConcurrentChange:
            raise ExceptionConflict(
                f"Exception {exception_id} is {_state(self.get(exception_id))} now; nothing to revoke."
            ) from None
        self._record(revoked, "revoked", by)
        return revoked

    def revoke_unapproved(self, exception: RuleException) -> RuleException | None:
        """Revoke an item marked approved that the desk could not have approved (any id); None if it changed."""
        revoked = _ended(exception, ExceptionStatus.REVOKED, IAM_WARDEN, self.clock())
        try:
            self.store.replace(exception, revoked)
        except ConcurrentChange:
            return None
        self._record(revoked, "revoked", IAM_WARDEN)
        return revoked

    def expire(self, exception: RuleException) -> RuleException | None:
        """Mark an approved exception whose time is up expired; None if someone else changed it first."""
        ended = _ended(exception, ExceptionStatus.EXPIRED, IAM_WARDEN, self.clock())
        try:
            self.store.replace(exception, ended)
        except ConcurrentChange:
            return None
        self._record(ended, "expired", IAM_WARDEN)
        return ended

    def mark_reminded(self, exception: RuleException) -> RuleException | None:
        """Record that the owner was reminded (once); None if it was already, or it changed meanwhile."""
        reminded = _replace(exception, reminded_at=self.clock())
        try:
            self.store.replace(exception, reminded)
        except ConcurrentChange:
            return None
        return reminded

    def list(self, *, include_inactive: bool = False) -> list[RuleException]:
        """Pending and approved exceptions (and revoked and expired ones with ``include_inactive``)."""
        statuses = [ExceptionStatus.REQUESTED, ExceptionStatus.APPROVED]
        if include_inactive:
            statuses += [ExceptionStatus.REVOKED, ExceptionStatus.EXPIRED]
        found = [exception for status in statuses for exception in self.store.with_status(status)]
        return sorted(found, key=lambda exception: exception.requested_at)

    def get(self, exception_id: str) -> RuleException:
        if not exception_id.startswith(EXCEPTION_ID_PREFIX):
            raise ExceptionRefused(f"{exception_id!r} is not an exception id (they start with {EXCEPTION_ID_PREFIX}).")
        found = self.store.get(exception_id)
        if found is None:
            raise ExceptionRefused(f"There is no exception {exception_id}.")
        return found

    def _record(self, exception: RuleException, action: str, by: str, failures: Sequence[Delivery] = ()) -> None:
        """One audit item per lifecycle step, found by ``iamwarden history PATTERN`` like any other record."""
        at = self.clock().isoformat()
        self.audit.put(
            AuditRecord(
                remediation_id=lifecycle_record_id(exception.exception_id, action),
                kind=EXCEPTION_RECORD_KIND,
                status=f"exception {action}",
                resource_arn=exception.scope.pattern,
                event_id="",
                created_at=at,
                rule=exception.scope.rule_id,
                account="",
                region="",
                finding=exception_summary(exception),
                actor=by,
                delivery_failures=[delivery._asdict() for delivery in failures],
            )
        )


def approval_finding(approved: RuleException) -> Finding:
    """The approval notice as a finding (high, never acted on): the scope, the reason, who asked and approved."""
    scope = approved.scope
    fields = scope.pattern.split(":", 5)
    expires = approved.expires_at.isoformat() if approved.expires_at else "?"
    undo = f" It was made for the undo of {approved.source_remediation_id}." if approved.source_remediation_id else ""
    reason = (
        f"Exception {approved.exception_id} approved: {scope.describe()} is exempt until {expires} "
        f"({approved.days} days). Requested by {approved.requester}, approved by {approved.approver}; "
        f"reason: {approved.reason!r}.{undo} If nobody here expected it, revoke it now: "
        f"iamwarden exception revoke {approved.exception_id}"
    )
    approver = approved.approver or ""
    return Finding(
        rule_id=scope.rule_id,
        severity=Severity.HIGH,
        resource_arn=scope.pattern,
        account=fields[4] if len(fields) == 6 else "",
        region=fields[3] if len(fields) == 6 else "",
        actor=Actor.of_iamwarden(
            "IAMWardenExceptionDesk", approver, arn=approver if approver.startswith("arn:") else None
        ),
        event_id=f"{approved.exception_id}-approved",
        event_name="ExceptionApproved",
        reason=reason,
        mode=default_mode(scope.rule_id),
    )


def _state(exception: RuleException) -> str:
    if exception.status is ExceptionStatus.APPROVED:
        when = exception.approved_at.isoformat() if exception.approved_at else "?"
        return f"approved (by {exception.approver} at {when})"
    if exception.status in (ExceptionStatus.REVOKED, ExceptionStatus.EXPIRED):
        when = exception.ended_at.isoformat() if exception.ended_at else "?"
        return f"{exception.status.value} (by {exception.ended_by or '?'} at {when})"
    return exception.status.value


def _not_pending(exception: RuleException) -> str:
    return f"Exception {exception.exception_id} is {_state(exception)} already; only a requested one can be approved."


def _ended(exception: RuleException, status: ExceptionStatus, by: str, at: datetime) -> RuleException:
    return _replace(exception, status=status, ended_by=by, ended_at=at)


def _replace(exception: RuleException, **changes: Any) -> RuleException:
    return exception._replace(**changes)


def undo_with_exception(
    executor: RemediationExecutor, desk: ExceptionDesk, remediation_id: str, actor: str, days: int
) -> tuple[AuditRecord, RuleException | None]:
    """Undo a remediation and keep the enforcer from reverting the undo: an exception for ``days`` to the
    record's rule on its resource, requested and approved by ``actor`` *before* the undo writes anything (so the
    change the undo makes is already exempt when its event arrives), revoked again if the undo fails.

    A record the executor would refuse (unknown, alert-only, undone already) gets no exception: the undo's own
    error says why.
    """
    record = executor.audit.get(remediation_id)
    undoable = (
        record is not None
        and record.kind == "remediation"
        and record.status not in (AuditStatus.UNDONE, AuditStatus.ALERTED)
        and bool(record.before)
    )
    if record is None or not undoable or record.rule in UNEXEMPTABLE_RULES:
        # The tampering rule takes no exception: its undo is judged by whether the operator may change IAM Warden.
        return executor.undo(remediation_id, actor=actor), None
    requested = desk.request(
        ExceptionScope(record.rule, resource_pattern=record.resource_arn, literal=True),  # this resource, exactly
        f"keeps the undo of {remediation_id} from being reverted",
        actor,
        days,
        source_remediation_id=remediation_id,
    )
    approved = desk.approve(requested.exception_id, actor)
    try:
        undone = executor.undo(remediation_id, actor=actor)
    except Exception:
        desk.revoke(approved.exception_id, actor)
        raise
    return undone, approved
