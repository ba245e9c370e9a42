"""Carry out a finding's plan: before-state first, then the writes, then the outcome.

The order is the promise the audit trail keeps: nothing is written to a
customer resource until the finding, the plan and the exact live before-state
are stored; after the writes the outcome and every API call are stored too,
whether the plan succeeded or failed part way. ``undo`` puts the before-state
back into the current state and records that as well.
"""

from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from iamwarden.adapters.audit import AuditLog, AuditRecord, AuditStatus
from iamwarden.adapters.clients import ClientFactory
from iamwarden.adapters.errors import describe, error_code
from iamwarden.domain.arns import iam_arn
from iamwarden.domain.exceptions import AuditError, AwsAccessError, RemediationError, UndoError
from iamwarden.domain.findings import Finding, RemediationStep
from iamwarden.domain.recorded import ATTACHMENTS, KeepsSnapshots, Recorded, Snapshot
from iamwarden.guardrails.registry import action_for
from iamwarden.guardrails.remediation import KeepsRun

if TYPE_CHECKING:
    from iamwarden.guardrails.attachments import UndoneOn

#: ``domain.earlier_sessions.PREFIX``, which a unit test keeps equal: what starts each line a quarantine's session
#: look-up writes. Spelt here so the executor, imported at every cold start, does not import that module (its
#: record reading and NamedTuples, ~1 ms) for a constant: it loads with the iam_user guardrail, which writes them,
#: or with the first alert (``alerts.message`` quotes them).
EARLIER_SESSIONS = "earlier role sessions"


def utc_now() -> datetime:
    return datetime.now(UTC)


def remediation_id_of(finding: Finding) -> str:
    """The same finding (CloudTrail event and rule) always has the same remediation id."""
    return f"rem-{finding.finding_id}"


class AccountClients:
    """The IAM and S3 clients of one account and region, from the shared factory."""

    def __init__(
        self,
        factory: ClientFactory,
        account: str,
        region: str,
        audit: AuditLog | None = None,
        remaining_seconds: Callable[[], float] | None = None,
    ) -> None:
        self._factory = factory
        self.account = account
        self.region = region
        self._audit = audit
        #: The Lambda run's time left (its context), for a best-effort step's own bound; None: not known.
        self.remaining_seconds = remaining_seconds

    @property
    def iam(self) -> Any:
        return self._factory.client("iam", self.account, self.region)

    @property
    def s3(self) -> Any:
        return self._factory.client("s3", self.account, self.region)

    @property
    def s3control(self) -> Any:
        """S3 Control, for the account-level settings (Block Public Access)."""
        return self._factory.client("s3control", self.account, self.region)

    def client(self, service: str) -> Any:
        """Any service's client, with the same retries, member-account role and call log."""
        return self._factory.client(service, self.account, self.region)

    def client_in(self, service: str, region: str, *, timeouts: Mapping[str, int] | None = None) -> Any:
        """A client of this account in another region (a quarantine's CloudTrail look-up in us-east-1, where STS's
        global endpoint logs); ``timeouts``: its own retries and timeouts (``ClientFactory.client``)."""
        return self._factory.client(service, self.account, region, timeouts=timeouts)

    def root_task_client(self, service: str, task_policy_arn: str) -> Any:
        """A client as this account's root user, limited to ``task_policy_arn`` (``sts:AssumeRoot``)."""
        return self._factory.root_task_client(service, self.account, self.region, task_policy_arn)

    def renew_session(self) -> None:
        """The next call assumes the member role afresh (a session revoke IAM Warden put on it denies the old one)."""
        self._factory.renew_session(self.account)

    def history(self, resource_arn: str) -> list[AuditRecord]:
        """The audit table's records of ``resource_arn``, oldest first (none without an audit log)."""
        return self._audit.history(resource_arn) if self._audit is not None else []


class StepRun(NamedTuple):
    aws: AccountClients
    finding_id: str
    now: str
    #: Keeps a record of what a step made (the audit table's snapshots); None: nothing is kept (the heartbeat's).
    keep: Callable[[Snapshot], bool] | None = None


class RemediationFailedError(RemediationError):
    """Part or all of a plan failed; ``record`` is the audit item saying what was and was not done."""

    def __init__(self, message: str, record: AuditRecord) -> None:
        super().__init__(message)
        self.record = record


class KeptRecords(Recorded, KeepsSnapshots, Protocol):
    """The audit table's snapshots, read and kept (``adapters.recorded.AuditRecorded``)."""


class RemediationExecutor:
    def __init__(
        self,
        clients: ClientFactory,
        audit: AuditLog,
        *,
        clock: Callable[[], datetime] = utc_now,
        recorded: KeptRecords | None = None,
    ) -> None:
        """``recorded``: the snapshots an undo corrects (a principal's ``attachments`` record, which would otherwise
        say what the remediation left until the heartbeat reads it again); None: none are (the heartbeat's own)."""
        self.clients = clients
        self.audit = audit
        self._clock = clock
        self.recorded = recorded
        #: The Lambda run's time left, once its context is registered (``wiring``); None: not known (tests, CLI).
        self.remaining_seconds: Callable[[], float] | None = None

    def _now(self) -> str:
        return self._clock().isoformat(timespec="milliseconds")

    def record_alert(
        self, finding: Finding, status: str = AuditStatus.ALERTED, *, note: str | None = None
    ) -> AuditRecord:
        """Record a finding that is only alerted on (alert mode, break-glass): no before-state, no writes.

        ``note`` says why a finding of a rule in remediate mode was held (the kill switch, the breaker).
        """
        return self.audit.begin(self._record(finding, status)._replace(error=note))

    def remediate(self, finding: Finding) -> tuple[AuditRecord, bool]:
        """Run the plan; return the stored record and whether this call made it (False: done before)."""
        remediation_id = remediation_id_of(finding)
        existing = self.audit.get(remediation_id)
        if existing is not None and existing.status in (AuditStatus.REMEDIATED, AuditStatus.UNDONE):
            return existing, False  # a retry or duplicate: never a second action
        aws = AccountClients(self.clients, finding.account, finding.region, self.audit, self.remaining_seconds)
        # Typed as the steps that record ask for it (``KeepsRun``): a field renamed here is a type error, not a
        # silent "nothing kept".
        run: KeepsRun = StepRun(
            aws, finding.finding_id, self._now(), self.recorded.keep if self.recorded is not None else None
        )
        with self.clients.call_log.recording() as calls:
            try:
                befores = [action_for(step).capture(aws, step) for step in finding.plan]
            except Exception as exc:
                self._fail(
                    finding, existing, calls, f"could not read the live state, nothing was changed: {_describe(exc)}"
                )
                earlier = list(existing.done) if existing else []
                raise self._failed(finding, remediation_id, exc, earlier, _not_done(finding.plan)) from exc
            stored = self.audit.begin(self._record(finding, AuditStatus.IN_PROGRESS, before=befores))
            # A retry adds to what earlier attempts did: the record keeps every change and every call.
            progress = _Progress(self.audit, stored, calls, self._now)
            current = 0
            try:
                for step, before in zip(finding.plan, befores, strict=True):
                    action_for(step).apply(run, step, before, progress)
                    current += 1
            except Exception as exc:
                not_done = _not_done(finding.plan[current:])
                done = progress.all_done()
                error = f"{_describe(exc)}; done: {'; '.join(done) or 'nothing'}; not done: {not_done}"
                try:
                    self.audit.finish(
                        remediation_id,
                        AuditStatus.FAILED,
                        done=done,
                        calls=progress.all_calls(),
                        error=error,
                        at=self._now(),
                    )
                except AuditError as unrecorded:  # the failure is still alerted; the progress lines stay
                    raise self._failed(finding, remediation_id, exc, done, not_done, unrecorded=unrecorded) from exc
                raise self._failed(finding, remediation_id, exc, done, not_done) from exc
            all_done, all_calls = progress.all_done(), progress.all_calls()
            # If this write fails, the event fails and is retried: the progress already recorded is kept.
            self.audit.finish(
                remediation_id, AuditStatus.REMEDIATED, done=all_done, calls=all_calls, error=None, at=self._now()
            )
        return stored._replace(status=AuditStatus.REMEDIATED, done=tuple(all_done), calls=tuple(all_calls)), True

    def undo(self, remediation_id: str, *, actor: str | None = None) -> AuditRecord:
        """Restore the before-state of ``remediation_id`` into the current state; record the undo."""
        record = self.audit.get(remediation_id)
        if record is None:
            raise UndoError(f"no remediation {remediation_id} in the audit table {self.audit.table_name}")
        if record.kind != "remediation":
            raise UndoError(f"{remediation_id} records an undo, not a remediation")
        if record.status == AuditStatus.UNDONE:
            raise UndoError(f"{remediation_id} was already undone by {record.undone_by}")
        if record.status == AuditStatus.ALERTED:
            raise UndoError(f"{remediation_id} was only alerted on: IAM Warden changed nothing")
        if not record.before:
            raise UndoError(f"{remediation_id} changed nothing: it failed before reading the live state")
        steps = [RemediationStep.from_dict(data) for data in record.plan]
        for step in steps:
            if not action_for(step).undoable:
                raise UndoError(f"{step.summary or step.action}: this remediation cannot be undone")
        aws = AccountClients(self.clients, record.account, record.region, self.audit)
        try:
            self._refuse_before_newer(record, steps, aws)
        except UndoError:
            raise
        except Exception as exc:
            raise UndoError(
                f"undo of {remediation_id} refused: whether a newer quarantine of the same user holds cannot be "
                f"read ({_describe(exc)}); nothing was changed"
            ) from exc
        undo_id = f"undo-{remediation_id}-{self._clock().strftime('%Y%m%dT%H%M%S%fZ')}"
        restored: list[str] = []
        # Recorded before the first change (the audit trail's order, as for a remediation): the undo's own change,
        # when its event is judged, finds who is undoing what and since when (an ``iamwarden undo`` of a re-attached
        # own grant detaches that grant as the operator: ``tampering.undone_reattach``). Not recorded: not undone.
        began = self._undo_record(
            record, undo_id, status=AuditStatus.IN_PROGRESS, restored=[], calls=[], actor=actor, exc=None
        )
        try:
            self.audit.put(began)
        except AuditError as exc:
            raise UndoError(
                f"undo of {remediation_id} refused: it cannot be recorded ({exc}); nothing was changed"
            ) from exc
        since = began.created_at
        with self.clients.call_log.recording() as calls:
            try:
                for step, before in zip(steps, record.before, strict=True):
                    action = action_for(step)
                    # An action that undoes only what its record's lines show it did (review s13 F2) reads them.
                    undo_done = getattr(action, "undo_done", None)
                    if undo_done is not None:
                        restored.extend(undo_done(aws, step, before, record.done))
                    else:
                        restored.extend(action.undo(aws, step, before))
            except Exception as exc:
                failed = self._undo_record(
                    record,
                    undo_id,
                    status=AuditStatus.FAILED,
                    restored=restored,
                    calls=calls,
                    actor=actor,
                    exc=exc,
                    since=since,
                )
                try:
                    self.audit.put(failed)
                except AuditError as unrecorded:
                    # Both said (review cliundo-s17 item 2): the undo's own error is what the operator must act on;
                    # its record still says in_progress, which excuses no detach (``tampering.undone_reattach``).
                    raise UndoError(
                        f"undo of {remediation_id} failed: {_describe(exc)}; restored so far: "
                        f"{'; '.join(restored) or 'nothing'}; and its failure cannot be recorded ({unrecorded}): "
                        f"its undo record {undo_id} still says in_progress"
                    ) from exc
                if isinstance(exc, UndoError):
                    raise
                raise UndoError(
                    f"undo of {remediation_id} failed: {_describe(exc)}; restored so far: "
                    f"{'; '.join(restored) or 'nothing'}"
                ) from exc
            restored.extend(self._keep_after_undo(aws, record, steps))
        restored.extend(self._record_undone(record, steps))
        undo_record = self._undo_record(
            record, undo_id, status=AuditStatus.UNDO, restored=restored, calls=calls, actor=actor, exc=None, since=since
        )
        self.audit.put(undo_record)
        self.audit.mark_undone(remediation_id, undo_id, self._now())
        return undo_record

    def _keep_after_undo(self, aws: AccountClients, record: AuditRecord, steps: list[RemediationStep]) -> list[str]:
        """Keep what the undo left for actions that record the state a call is judged against (``kept_after_undo``:
        Block Public Access; ``accepted_after_undo``: a resource policy, with what the undo put back accepted), read
        back live, so the next call is not judged against what the remediation had left
        (review s12 F4). A read or write that fails leaves the undo done and is said among what was not restored."""
        if self.recorded is None:
            return []
        lines: list[str] = []
        for step, before in zip(steps, record.before, strict=True):
            said = getattr(action_for(step), "kept_after_undo", None)
            accepted = getattr(action_for(step), "accepted_after_undo", None)  # a resource policy's (issue 13 item 7)
            try:
                if accepted is not None:
                    kept = accepted(aws, step, before, record.account, self._now(), recorded=self.recorded)
                elif said is not None:
                    kept = said(aws, step, before, record.account, self._now())
                else:
                    continue
                if kept is not None:
                    self.recorded.keep(kept)
            except Exception as exc:
                lines.append(
                    f"NOT restored: IAM Warden's record of {step.target} ({_describe(exc)}); the next call to it is "
                    "judged against what the remediation had left"
                )
        return lines

    def _refuse_before_newer(self, record: AuditRecord, steps: list[RemediationStep], aws: AccountClients) -> None:
        """Refuse to undo a quarantine while a newer one of the very same principal (same captured UserId or RoleId,
        the action's ``held_by``; e.g. made when the user was renamed, or remediation-reversed's re-quarantine) is in
        force (review s12 F4; roles: review quarrole-s15 F1): that one's before-state is this one's quarantine, so
        undoing the older first would lift the newer's deny-all and leave it judging the undo's own changes a
        reversal. Nothing is changed."""
        for step, before in zip(steps, record.before, strict=True):
            action = action_for(step)
            held_under = getattr(action, "held_under", None)
            if held_under is None:
                continue
            field = str(getattr(action, "held_by", "user_id"))
            identity = before.get(field)
            for arn in held_under(aws, step, before):
                for other in self.audit.history(arn):
                    if (
                        other.kind == "remediation"
                        and other.remediation_id != record.remediation_id
                        and other.created_at > record.created_at
                        and other.status in (AuditStatus.REMEDIATED, AuditStatus.FAILED)
                        and other.done
                        and any(
                            planned.get("action") == step.action and captured.get(field) == identity
                            for planned, captured in zip(other.plan, other.before, strict=False)
                        )
                    ):
                        raise UndoError(
                            f"{other.remediation_id} ({other.rule}, {other.created_at}) is a newer quarantine of the "
                            f"same {field.removesuffix('_id')}, still in force: undo it first (iamwarden undo "
                            f"{other.remediation_id}), "
                            f"then {record.remediation_id}; nothing was changed"
                        )

    def _record_undone(self, record: AuditRecord, steps: list[RemediationStep]) -> list[str]:
        """Write what the undo put back into each principal's ``attachments`` record (``record_after_undo``), so the
        next change to it is judged against what is there, not what the remediation had left. A write that fails
        leaves the undo done: it is said among what was not restored (the heartbeat's next read corrects it)."""
        if self.recorded is None:
            return []
        # Imported here: only an undo writes it, and the cold start would pay ~0.7 ms for it (README, Benchmarks);
        # the engine loads it with an event judged against the audit table.
        from iamwarden.guardrails.attachments import record_after_undo  # noqa: PLC0415

        lines: list[str] = []
        for step, before in zip(steps, record.before, strict=True):
            said = getattr(action_for(step), "undone_on", None)
            undone: UndoneOn | None = said(step, before) if said is not None else None
            if undone is None:
                continue
            partition = step.target.split(":", 2)[1] if step.target.startswith("arn:") else "aws"
            arn = iam_arn(partition, record.account, undone.kind, undone.name)
            try:
                kept = record_after_undo(self.recorded.snapshot(ATTACHMENTS, arn), undone)
                if kept is not None:
                    self.recorded.keep(kept)
            except AuditError as exc:
                lines.append(
                    f"NOT restored: IAM Warden's record of what {undone.kind} {undone.name} holds ({exc}); until the "
                    "heartbeat reads it again, a change to it is judged against what the remediation had left"
                )
        return lines

    def _undo_record(
        self,
        record: AuditRecord,
        undo_id: str,
        *,
        status: str,
        restored: list[str],
        calls: list[Any],
        actor: str | None,
        exc: BaseException | None,
        since: str | None = None,
    ) -> AuditRecord:
        """The undo's own record; ``since``: when it was first written, before its first change (kept as its
        ``created_at``: the time a judged change of the undo is compared with), None: now."""
        now = self._now()
        return record._replace(
            remediation_id=undo_id,
            kind="undo",
            status=status,
            created_at=since or now,
            updated_at=now,
            before=(),
            done=(),
            calls=tuple(_calls(calls)),
            restored=tuple(restored),
            undoes=record.remediation_id,
            undone_by=None,
            alerts_sent=frozenset(),
            delivery_failures=(),
            error=_describe(exc) if exc else None,
            actor=actor,
        )

    def _record(self, finding: Finding, status: str, before: list[dict[str, Any]] | None = None) -> AuditRecord:
        now = self._now()
        return AuditRecord(
            remediation_id=remediation_id_of(finding),
            kind="remediation",
            status=status,
            resource_arn=finding.resource_arn,
            event_id=finding.event_id,
            created_at=now,
            updated_at=now,
            rule=finding.rule_id,
            account=finding.account,
            region=finding.region,
            finding=finding.to_dict(),
            plan=tuple(step.to_dict() for step in finding.plan),
            before=tuple(before or ()),
            actor=finding.actor.arn,
        )

    def _fail(self, finding: Finding, existing: AuditRecord | None, calls: list[Any], error: str) -> None:
        try:
            if existing is None:
                self.audit.begin(self._record(finding, AuditStatus.FAILED)._replace(error=error, calls=_calls(calls)))
            else:  # a retry: keep what earlier attempts did and called
                self.audit.finish(
                    existing.remediation_id,
                    AuditStatus.FAILED,
                    done=list(existing.done),
                    calls=[*existing.calls, *_calls(calls)],
                    error=error,
                    at=self._now(),
                )
        except AuditError:
            pass  # the remediation error that follows is the one to report; nothing was written

    def _failed(
        self,
        finding: Finding,
        remediation_id: str,
        exc: BaseException,
        done: list[str],
        not_done: str,
        *,
        unrecorded: AuditError | None = None,
    ) -> RemediationFailedError:
        try:
            record = self.audit.get(remediation_id) if not isinstance(exc, AuditError) else None
        except AuditError:
            record = None
        # What was only read (a quarantined user's earlier role sessions) stays out of the error: the record's
        # ``done`` and the alert's own section carry it, and Slack's section cut keeps "Not done" (review s15 F2).
        changed = [line for line in done if not line.startswith(EARLIER_SESSIONS)]
        message = (
            f"remediation {remediation_id} of {finding.rule_id} on {finding.resource_arn} failed: {_describe(exc)}. "
            f"Done: {'; '.join(changed) or 'nothing'}. Not done: {not_done}."
        )
        if unrecorded is not None:
            message += f" IAM Warden could not record this outcome in the audit table: {unrecorded}."
        fallback = self._record(finding, AuditStatus.FAILED)._replace(error=message, done=tuple(done))
        return RemediationFailedError(message, record or fallback)


class _Progress(list[str]):
    """The ``done`` list the actions append to: each line is recorded on the audit item as it is appended.

    So a failure to record the outcome (``audit.finish``) loses nothing: Lambda's retry finds the
    resource already fixed, and its record and alert still say what the first attempt did.
    """

    def __init__(self, audit: AuditLog, stored: AuditRecord, calls: list[Any], clock: Callable[[], str]) -> None:
        super().__init__()
        self._audit = audit
        self._stored = stored
        self._calls = calls
        self._clock = clock

    def all_done(self) -> list[str]:
        return [*self._stored.done, *self]

    def all_calls(self) -> list[Mapping[str, Any]]:
        return [*self._stored.calls, *_calls(self._calls)]

    def append(self, line: str) -> None:
        super().append(line)
        self._record()

    def extend(self, lines: Iterable[str]) -> None:
        """Several lines in one write: a block recorded whole or not at all (review s15 F7)."""
        added = list(lines)
        super().extend(added)
        if added:
            self._record()

    def _record(self) -> None:
        # If this write fails the plan goes on (half a remediation is worse than none); ``finish`` records it all.
        with suppress(AuditError):
            self._audit.record_progress(
                self._stored.remediation_id, done=self.all_done(), calls=self.all_calls(), at=self._clock()
            )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, AwsAccessError | UndoError | AuditError):
        return str(exc)
    if error_code(exc) is not None:
        return f"{getattr(exc, 'operation_name', 'call')} failed with {describe(exc)}"
    return f"{type(exc).__name__}: {exc}"


def _not_done(steps: tuple[RemediationStep, ...]) -> str:
    """The steps not (or not completely) carried out: the failing one and every one after it."""
    return "; ".join(step.summary or step.action.value for step in steps) or "nothing"


def _calls(calls: list[Any]) -> list[dict[str, Any]]:
    return [call.to_dict() for call in calls]
