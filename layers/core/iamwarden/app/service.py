"""The enforcer's one entry point: judge an event, act per each rule's mode, alert, record.

``EnforcerService.handle`` is all the Lambda handler calls. For each finding:

* ``off``: the engine never reports it.
* ``alert``: record the finding (no before-state, no writes) and alert.
* ``remediate``: run the plan through the executor (before-state first), then
  alert with what was done. A failure is recorded and alerted, the other
  findings still run, and then the event fails so Lambda retries it and
  finally dead-letters it.
* break-glass: recorded and alerted as noteworthy, never remediated.
* unjudged: a rule could not read what it needs (a permanent AWS error such as
  AccessDenied on a customer-managed policy): recorded and alerted as
  noteworthy with what and why, never remediated. A transient error fails the
  event instead, so Lambda retries it.

Each CloudTrail event is processed once in effect: an event with something to
record (a finding, an unjudged rule, a rejection) goes through Powertools
Idempotency (keyed on ``detail.eventID``), which answers a redelivered event
from the first answer, and each alert is claimed on the audit item before it is
sent, so a retry after a partial failure never repeats an action or an alert.
An event with nothing to record is judged and answered without it: judging
changes nothing, so judging it again is harmless, and most events are such
(no idempotency record written, and no Idempotency import at cold start).
"""

import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from iamwarden.adapters.audit import AuditRecord, AuditStatus
from iamwarden.adapters.errors import is_access_denied, is_key_lockout_refusal
from iamwarden.adapters.ssm_settings import LiveSettings
from iamwarden.app.executor import RemediationExecutor, RemediationFailedError, remediation_id_of
from iamwarden.domain.breaker import BreakerDecision, BreakerSettings, kill_switch_name
from iamwarden.domain.catalog import Mode, Severity
from iamwarden.domain.events import CloudTrailChange, parse_event
from iamwarden.domain.exceptions import AuditError, InvalidEventError, RemediationError, SettingsProblem
from iamwarden.domain.exposure import NetworkOwners, OriginAccessIdentities
from iamwarden.domain.findings import Finding, Judgement, Outcome, Verdict
from iamwarden.domain.managed_documents import ManagedPolicyDocuments
from iamwarden.domain.own import OwnIdentity
from iamwarden.domain.principals import RoleDirectory
from iamwarden.domain.recorded import KeepsSnapshots, Recorded, no_later_than
from iamwarden.domain.replays import held_back
from iamwarden.domain.settings import Settings
from iamwarden.domain.settings_guard import (
    RESTORE_SETTING,
    TAMPERED_RULE_ID,
    restores_the_guard,
    settings_written,
)
from iamwarden.guardrails.base import LiveClients
from iamwarden.guardrails.engine import judge_event

if TYPE_CHECKING:
    # Loaded on the paths that use them, not at cold start: a notification and its report with the first alert,
    # an exception with the first approved exception read (``adapters.exception_store.from_item``).
    from iamwarden.alerts.notifications import Notification, Notifier
    from iamwarden.domain.delivery import DeliveryReport
    from iamwarden.domain.rule_exceptions import RuleException

#: What else a refusal of IAM Warden's call can mean, said in the final "shut out" alert (review s13 round 2, N4).
_OTHER_READINGS = (
    "The refusal may also come from another policy than the resource's: a service control policy, a permission "
    "boundary, or a gap in IAM Warden's own permissions."
)


def _refused(finding: Finding, cause: BaseException | None) -> bool:
    """Whether ``cause`` is AWS refusing IAM Warden's call: AccessDenied, or, for a key policy whose remainder was in
    doubt (``if_denied``), KMS's lockout safety check (``MalformedPolicyDocumentException``)."""
    if is_access_denied(cause):
        return True
    return ":kms:" in finding.resource_arn and is_key_lockout_refusal(cause)


class Telemetry(Protocol):
    """Counts by rule (the handler backs it with Powertools EMF metrics)."""

    def count(self, metric: str, rule: str | None = None) -> None: ...

    def bind(self, **keys: str | None) -> None:
        """Add keys (event id, rule) to every log line of this event."""


class LiveDirectory(RoleDirectory, Protocol):
    """A ``RoleDirectory`` that caches, and is told what changed (``iamwarden.adapters.principals``)."""

    def observe(self, event: Mapping[str, Any]) -> None:
        """Drop what this event may have changed, before it is judged."""

    def forget(self, principal_arn: str) -> None:
        """Drop a principal a remediation just changed."""


class SettingsSource(Protocol):
    prefix: str

    def current(self) -> LiveSettings: ...

    def before(self, written: Mapping[str, int | None], own: OwnIdentity | None = None) -> LiveSettings: ...


class ActiveExceptions(Protocol):
    """The approved exceptions (``adapters.exception_store.CachedActiveExceptions``)."""

    def current(self, *, fresh: bool = False) -> Sequence["RuleException"]: ...


class NoTelemetry:
    def count(self, metric: str, rule: str | None = None) -> None:
        return None

    def bind(self, **keys: str | None) -> None:
        return None


class EnforcementFailedError(RemediationError):
    """At least one remediation of the event failed; raised after every finding was handled and alerted."""

    def __init__(self, failures: list[RemediationFailedError]) -> None:
        self.failures = failures
        super().__init__(" | ".join(str(failure) for failure in failures))


class FindingResult(NamedTuple):
    finding_id: str
    rule: str
    outcome: Outcome
    remediation_id: str
    done: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**self._asdict(), "outcome": self.outcome.value, "done": list(self.done)}


class RemediationGate(Protocol):
    """What the enforcer asks before each remediation: the circuit breaker (``app.breaker.CircuitBreaker``), or
    the wiring's stand-in that builds it with the first remediation."""

    def permit(self, account: str, remediation_id: str, settings: BreakerSettings) -> BreakerDecision: ...


class EnforcerService:
    def __init__(
        self,
        *,
        settings_source: SettingsSource,
        executor: RemediationExecutor,
        notifier: "Notifier",
        telemetry: Telemetry | None = None,
        idempotent: Callable[[Callable[..., Any]], Callable[..., Any]] | None = None,
        register_context: Callable[[Any], None] | None = None,
        configure_alerts: Callable[[Mapping[str, str]], Sequence[SettingsProblem]] | None = None,
        before_remediation: Callable[[Finding], object] | None = None,
        documents: ManagedPolicyDocuments | None = None,
        breaker: RemediationGate | None = None,
        networks: NetworkOwners | None = None,
        origin_access_identities: OriginAccessIdentities | None = None,
        live_clients: LiveClients | None = None,
        directory: LiveDirectory | None = None,
        own: OwnIdentity | None = None,
        recorded: Recorded | None = None,
        exceptions: ActiveExceptions | None = None,
        clock: Callable[[], datetime] | None = None,
        max_event_age: timedelta | None = None,
    ) -> None:
        self.settings_source = settings_source
        self.executor = executor
        self.audit = executor.audit
        self.notifier = notifier
        self.telemetry = telemetry or NoTelemetry()
        #: What an event with something to record goes through (``_process_event``, under Idempotency).
        self._process = idempotent(self._process_event) if idempotent else self._process_event
        self._register_context = register_context
        #: Hands the ``alerts/`` settings to the alert channels; returns their problems.
        self._configure_alerts = configure_alerts
        #: Called before a plan runs (the alert channels read the owner's tags while the resource still exists).
        self._before_remediation = before_remediation
        self._reported_problems: str | None = None
        #: Reads the customer-managed policy versions events name without their document.
        self.documents = documents
        #: Says who owns the VPC endpoints and VPCs that bucket policies' network conditions name.
        self.networks = networks
        #: Says which canonical users that bucket policies name are the account's CloudFront origin access identities.
        self.origin_access_identities = origin_access_identities
        #: What principals hold beyond the event (the whole-power escalation judgement); None judges documents alone.
        self.directory = directory
        #: Asked before every remediation; None runs without one (tests of other behaviour, offline tools).
        self.breaker = breaker
        #: Reads resource state events do not carry (a function's policy behind a new function URL).
        self.live_clients = live_clients
        #: IAM Warden's own remediations and snapshots, for the verdicts that rest on them (None: unknown).
        self.recorded = recorded
        self._breaker_settings = BreakerSettings()
        #: IAM Warden's own roles and resources, from the template (never from the SSM settings).
        self.own = own or OwnIdentity()
        #: Approved rule exceptions, consulted alongside the allowlists (active at ``clock()``).
        self.exceptions = exceptions
        self.clock = clock or (lambda: datetime.now(UTC))
        #: Findings of an event older than this are only alerted (``domain.replays``); None: age not checked.
        self.max_event_age = max_event_age

    def handle(self, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        """Process one EventBridge event exactly once in effect; raise if a remediation failed."""
        if context is not None and self._register_context is not None:
            self._register_context(context)
        judgement = self._judged(event)
        if not (judgement.findings or judgement.unjudged or judgement.rejected):
            self.telemetry.count(judgement.verdict.value.capitalize())
            self._keep_observed(judgement)  # idempotent itself: a conditional put of what the change set
            return _result(judgement, [])
        result: dict[str, Any] = self._process(event=event, judgement=judgement)
        return result

    def _judged(self, event: Mapping[str, Any]) -> Judgement:
        """The event judged with the live settings and exceptions (reporting invalid settings once)."""
        live = self.settings_source.current()
        problems = live.problems
        if self._configure_alerts is not None:
            problems = (*problems, *self._configure_alerts(live.values))
        if problems:
            self._report_configuration(problems)
        self._breaker_settings = live.settings.breaker
        if self.directory is not None:
            self.directory.observe(event)
        exceptions = self.exceptions.current() if self.exceptions is not None else ()
        settings = self._judged_by(event, live.settings)
        judgement = self._judge(event, settings, exceptions)
        if judgement.findings and self.exceptions is not None:
            fresh = self.exceptions.current(fresh=True)  # an exception approved a moment ago holds already
            if tuple(fresh) != tuple(exceptions):
                judgement = self._judge(event, settings, fresh)
        judgement = self._held_back(event, judgement)
        self.telemetry.bind(
            event_id=judgement.change.event_id if judgement.change else None,
            rule=",".join(judgement.rule_ids) or None,
        )
        return judgement

    def _held_back(self, event: Mapping[str, Any], judgement: Judgement) -> Judgement:
        """A replayed or stale event's findings, each needing context (alerted, never remediated), and nothing it
        observed kept as the newest state (``domain.replays``)."""
        if not judgement.findings:
            return judgement
        why = held_back(event, judgement.change.time if judgement.change else None, self.clock(), self.max_event_age)
        if why is None:
            return judgement
        findings = tuple(
            finding._replace(needs_context=(*finding.needs_context, why)) for finding in judgement.findings
        )
        return judgement._replace(findings=findings, observed=())

    def _process_event(self, event: Mapping[str, Any], judgement: Judgement) -> dict[str, Any]:
        """Record, act on and alert what ``judgement`` found; once per event in effect (Idempotency).

        Its module and name are part of the idempotency key (Powertools: ``<function>.<module>.<qualname>``),
        so records written before it judged outside Idempotency still answer a redelivered event.
        """
        self.telemetry.count(judgement.verdict.value.capitalize())
        if judgement.rejected:
            self._report_rejection(judgement, event)
        results: list[FindingResult] = []
        failures: list[RemediationFailedError] = []
        for unjudged in judgement.unjudged:
            self.telemetry.count("Unjudged", unjudged.rule_id)
            results.append(self._report_unjudged(unjudged, judgement, event))
        for finding in judgement.findings:
            self.telemetry.count("Findings", finding.rule_id)
            try:
                results.append(self._act(finding, judgement, event))
            except RemediationFailedError as failure:
                failures.append(failure)
                results.append(
                    FindingResult(
                        finding.finding_id, finding.rule_id, Outcome.REMEDIATION_FAILED, failure.record.remediation_id
                    )
                )
        if failures:
            raise EnforcementFailedError(failures)
        self._keep_observed(judgement, results)
        return _result(judgement, results)

    def _keep_observed(self, judgement: Judgement, results: Sequence[FindingResult] = ()) -> None:
        """Keep in the audit table what a compliant change set (a policy's default version, a principal's boundary,
        a role's trust), so the next change is judged against it rather than an older snapshot.

        Only a change with no finding: what a violating change set is no known good state, whether it was only
        alerted (uncertain, alert mode, held by the breaker) or excused later; the next change is then judged
        against the last compliant state, or alerted when that is unknown (audit s7 gap 8). A record that is kept
        ``whatever_the_verdict`` (the default a staged version left; an own secret's version marked tampered) is
        kept from an alerted violation too, but not after a remediation: what was there before is in force again, unless
        the snapshot says what the remediation left instead (``Snapshot.if_remediated``: an inline put's principal). A
        write that fails fails a compliant event (retried, nothing was sent); after alerts went out it is counted
        instead."""
        if not isinstance(self.recorded, KeepsSnapshots):
            return
        remediated = any(result.outcome is Outcome.REMEDIATED for result in results)
        # What the plan left is known only when a remediation changed something: one that found the change already
        # gone ("already was": a later put is live) left what is live, which no snapshot of this event says.
        acted = any(result.outcome is Outcome.REMEDIATED and result.done for result in results)
        now = self.clock()
        try:
            for snapshot in judgement.observed:
                if remediated:
                    # What the plan left (an inline put's previous document restored, or the put cut or deleted),
                    # where the snapshot says; otherwise the state before the event holds again: nothing to keep.
                    if snapshot.if_remediated is not None and acted:
                        self.recorded.keep(no_later_than(snapshot._replace(data=snapshot.if_remediated), now))
                elif snapshot.whatever_the_verdict or not judgement.findings:
                    self.recorded.keep(no_later_than(snapshot, now))
        except AuditError:
            if not judgement.findings:
                raise
            self.telemetry.count("SnapshotsNotKept")  # after alerts went out: the heartbeat reads live state anyway

    def _judged_by(self, event: Mapping[str, Any], settings: Settings) -> Settings:
        """The settings ``event`` is judged by: for a write to IAM Warden's own settings, those from before it."""
        try:
            change = parse_event(event)
        except InvalidEventError:
            return settings  # judged (invalid) as it is
        written = settings_written(change, self.own)
        return self.settings_source.before(written, self.own).settings if written else settings

    def _judge(self, event: Mapping[str, Any], settings: Settings, exceptions: Sequence["RuleException"]) -> Judgement:
        return judge_event(
            event,
            settings._replace(own=self.own),
            self.documents,
            self.directory,
            networks=self.networks,
            origin_access_identities=self.origin_access_identities,
            live_clients=self.live_clients,
            recorded=self.recorded,
            exceptions=exceptions,
            now=self.clock(),
        )

    def _act(self, finding: Finding, judgement: Judgement, event: Mapping[str, Any]) -> FindingResult:
        from iamwarden.alerts.notifications import finding_notification  # noqa: PLC0415 - an alert's path only

        change = judgement.change
        prefix = self.settings_source.prefix
        noteworthy = finding.alert_only or judgement.verdict is Verdict.IGNORED  # break-glass: never remediated
        if finding.mode is Mode.REMEDIATE and not finding.certain and not noteworthy:
            return self._alert_uncertain(finding, judgement, event)
        # Nothing an API can put back (a deleted GuardDuty detector, an account out of its organisation): the
        # finding is alerted in every mode; remediate mode has nothing to carry out.
        if noteworthy or finding.mode is not Mode.REMEDIATE or not finding.plan:
            outcome = Outcome.NOTEWORTHY if noteworthy else Outcome.ALERTED
            record = self.executor.record_alert(finding)
            notification = finding_notification(outcome, finding, change, record.remediation_id, settings_prefix=prefix)
            self._alert(record, event, notification)
            return FindingResult(finding.finding_id, finding.rule_id, outcome, record.remediation_id)
        if self.breaker is not None and not self._restores_the_guard(finding):
            decision = self.breaker.permit(finding.account, remediation_id_of(finding), self._breaker_settings)
            if not decision.allowed:
                held, record = self._hold(finding, judgement, event, decision)
                if decision.unreadable:  # not a decision to hold: fail the event so it is retried, then replayed
                    raise RemediationFailedError(f"not remediated: {decision.reason}", record)
                return held
        if self._before_remediation is not None:
            self._before_remediation(finding)
        try:
            record, _ = self.executor.remediate(finding)
        except RemediationFailedError as failure:
            if self.directory is not None:
                self.directory.forget(finding.resource_arn)
            self.telemetry.count("RemediationFailures", finding.rule_id)
            failed = failure.record
            if finding.if_denied and _refused(finding, failure.__cause__):
                # A Deny IAM Warden could not decide did reach it (or another policy refused it): retrying cannot
                # help, so this alert is final (review s13 F1); the audit record already says FAILED.
                shut_out = finding._replace(severity=Severity.CRITICAL)
                notification = finding_notification(
                    Outcome.REMEDIATION_FAILED,
                    shut_out,
                    change,
                    failed.remediation_id,
                    settings_prefix=prefix,
                    done=tuple(failed.done),
                    error=f"{finding.if_denied} ({failure}) {_OTHER_READINGS}",
                )
                self._alert(failed, event, notification)
                return FindingResult(
                    finding.finding_id, finding.rule_id, Outcome.REMEDIATION_FAILED, failed.remediation_id
                )
            notification = finding_notification(
                Outcome.REMEDIATION_FAILED,
                finding,
                change,
                failed.remediation_id,
                settings_prefix=prefix,
                done=tuple(failed.done),
                error=str(failure),
            )
            self._alert(failed, event, notification)
            raise
        if self.directory is not None:
            self.directory.forget(finding.resource_arn)  # our own changes never come back as events
        self.telemetry.count("Remediations", finding.rule_id)
        notification = finding_notification(
            Outcome.REMEDIATED, finding, change, record.remediation_id, settings_prefix=prefix, done=tuple(record.done)
        )
        self._alert(record, event, notification)
        return FindingResult(
            finding.finding_id, finding.rule_id, Outcome.REMEDIATED, record.remediation_id, tuple(record.done)
        )

    def _restores_the_guard(self, finding: Finding) -> bool:
        """Whether ``finding`` only puts back the kill switch, the breaker's limits or ``iamwarden-tampered``'s own
        settings after someone else's write: exempt from the switch and the breaker, which would otherwise hold the
        restore of the very write that set them (audit s7 gap 5). An operator's write is no finding, and the
        breaker's own ``off`` is IAM Warden's write, so both are respected."""
        return (
            finding.rule_id == TAMPERED_RULE_ID
            and bool(finding.plan)
            and all(
                step.action == RESTORE_SETTING and restores_the_guard(self.own, str(step.parameters.get("name")))
                for step in finding.plan
            )
        )

    def _alert_uncertain(self, finding: Finding, judgement: Judgement, event: Mapping[str, Any]) -> FindingResult:
        """A finding in remediate mode that rests on facts nobody could read: never acted on, alerted with them."""
        from iamwarden.alerts.notifications import finding_notification  # noqa: PLC0415 - an alert's path only

        self.telemetry.count("RemediationsUncertain", finding.rule_id)
        note = f"not certain: could not know {'; '.join(finding.needs_context)}"
        record = self.executor.record_alert(finding, note=note)
        notification = finding_notification(
            Outcome.ALERTED,
            finding,
            judgement.change,
            record.remediation_id,
            settings_prefix=self.settings_source.prefix,
        )
        self._alert(record, event, notification)
        return FindingResult(finding.finding_id, finding.rule_id, Outcome.ALERTED, record.remediation_id)

    def _hold(
        self, finding: Finding, judgement: Judgement, event: Mapping[str, Any], decision: BreakerDecision
    ) -> tuple[FindingResult, AuditRecord]:
        """A finding the kill switch or the breaker keeps from remediation: recorded and alerted, nothing changed."""
        from iamwarden.alerts.notifications import finding_notification  # noqa: PLC0415 - an alert's path only

        change = judgement.change
        prefix = self.settings_source.prefix
        if decision.tripped:
            self._report_trip(finding, change, event, decision)
        self.telemetry.count("RemediationsHeld", finding.rule_id)
        record = self.executor.record_alert(finding, note=decision.reason)
        notification = finding_notification(
            Outcome.ALERTED, finding, change, record.remediation_id, settings_prefix=prefix, error=decision.reason
        )
        self._alert(record, event, notification)
        return FindingResult(finding.finding_id, finding.rule_id, Outcome.ALERTED, record.remediation_id), record

    def _report_trip(
        self, finding: Finding, change: CloudTrailChange | None, event: Mapping[str, Any], decision: BreakerDecision
    ) -> None:
        """The one critical alert: recorded under the finding that tripped the breaker, claimed before it is sent."""
        from iamwarden.alerts.notifications import Notification  # noqa: PLC0415 - an alert's path only

        self.telemetry.count("CircuitBreakerTripped")
        signature = hashlib.sha256(f"{finding.finding_id}/breaker".encode()).hexdigest()[:20]
        record = self.audit.begin(
            AuditRecord(
                remediation_id=f"breaker-{signature}",
                kind="breaker",
                status=AuditStatus.ALERTED,
                resource_arn=f"ssm:{kill_switch_name(self.settings_source.prefix)}",
                event_id=change.event_id if change else "",
                created_at=change.time if change else "",
                rule=finding.rule_id,
                account=finding.account,
                region=finding.region,
                finding={"reason": decision.reason, "scope": decision.scope, "observed": decision.observed},
                error=decision.reason,
                actor=change.actor.arn if change else None,
            )
        )
        self._alert(
            record,
            event,
            Notification(
                Outcome.CIRCUIT_BREAKER_TRIPPED,
                change=change,
                remediation_id=record.remediation_id,
                error=decision.reason,
                settings_prefix=self.settings_source.prefix,
            ),
        )

    def _report_unjudged(self, finding: Finding, judgement: Judgement, event: Mapping[str, Any]) -> FindingResult:
        """A rule could not read what it needs (AccessDenied, say): record and alert that; change nothing."""
        from iamwarden.alerts.notifications import finding_notification  # noqa: PLC0415 - an alert's path only

        record = self.executor.record_alert(finding)
        notification = finding_notification(
            Outcome.NOTEWORTHY,
            finding,
            judgement.change,
            record.remediation_id,
            settings_prefix=self.settings_source.prefix,
        )
        self._alert(record, event, notification)
        return FindingResult(finding.finding_id, finding.rule_id, Outcome.NOTEWORTHY, record.remediation_id)

    def _alert(self, record: AuditRecord, event: Mapping[str, Any] | None, notification: "Notification") -> None:
        """Send once per remediation and outcome; keep failed deliveries on the audit item."""
        if not self.audit.claim_alert(record.remediation_id, notification.outcome.value):
            return
        report = _safe_notify(self.notifier, notification)
        rule = notification.finding.rule_id if notification.finding else None
        self.telemetry.count("Alerts", rule)
        if report.failed:  # counted by the channels (AlertDeliveryFailed, alarmed); kept here for replay
            earlier = self.audit.get(record.remediation_id)
            failures = [*(earlier.delivery_failures if earlier else ())]
            failures += [
                {"channel": d.channel, "error": d.error, "outcome": notification.outcome.value} for d in report.failed
            ]
            self.audit.record_delivery_failures(record.remediation_id, failures, event=event)

    def _report_configuration(self, problems: tuple[SettingsProblem, ...]) -> None:
        """Alert once per distinct set of invalid settings (recorded, so other containers stay quiet too)."""
        from iamwarden.alerts.notifications import Notification  # noqa: PLC0415 - an alert's path only

        signature = hashlib.sha256("\n".join(sorted(map(str, problems))).encode()).hexdigest()[:20]
        if signature == self._reported_problems:
            return
        self.telemetry.count("ConfigurationErrors")
        prefix = self.settings_source.prefix
        record = self.audit.begin(
            AuditRecord(
                remediation_id=f"config-{signature}",
                kind="configuration",
                status=AuditStatus.ALERTED,
                resource_arn=f"ssm:{prefix}",
                event_id="",
                created_at="",
                rule="",
                account="",
                region="",
                finding={"problems": [str(problem) for problem in problems]},
            )
        )
        self._alert(
            record,
            None,
            Notification(
                Outcome.CONFIGURATION_ERROR,
                problems=problems,
                settings_prefix=prefix,
                remediation_id=record.remediation_id,
            ),
        )
        self._reported_problems = signature

    def _report_rejection(self, judgement: Judgement, event: Mapping[str, Any]) -> None:
        """Record and alert (once per event) an event that names another account than its own."""
        from iamwarden.alerts.notifications import Notification  # noqa: PLC0415 - an alert's path only

        change = judgement.change
        if change is None:
            return
        self.telemetry.count("RejectedEvents")
        signature = hashlib.sha256(f"{change.event_id}/rejected".encode()).hexdigest()[:20]
        record = self.audit.begin(
            AuditRecord(
                remediation_id=f"rejected-{signature}",
                kind="rejection",
                status=AuditStatus.ALERTED,
                resource_arn=judgement.resource_arn or f"account:{change.account}",
                event_id=change.event_id,
                created_at=change.time,
                rule=",".join(judgement.rule_ids),
                account=change.account,
                region=change.region,
                finding={"reason": judgement.reason},
                error=judgement.reason,  # `iamwarden history` shows why nothing was done
                actor=change.actor.arn,
            )
        )
        self._alert(
            record,
            event,
            Notification(
                Outcome.REJECTED,
                change=change,
                remediation_id=record.remediation_id,
                error=judgement.reason,
                settings_prefix=self.settings_source.prefix,
            ),
        )


def _result(judgement: Judgement, results: Sequence[FindingResult]) -> dict[str, Any]:
    """What ``handle`` answers (and Idempotency keeps for a redelivered event)."""
    return {
        "verdict": judgement.verdict.value,
        "reason": judgement.reason,
        "event_id": judgement.change.event_id if judgement.change else None,
        "rules": list(judgement.rule_ids),
        "findings": [result.to_dict() for result in results],
    }


def _safe_notify(notifier: "Notifier", notification: "Notification") -> "DeliveryReport":
    """A notifier must not raise; if one does anyway, the failure is still recorded, never propagated."""
    try:
        return notifier.notify(notification)
    except Exception as exc:  # delivery never blocks remediation
        from iamwarden.domain.delivery import Delivery, DeliveryReport  # noqa: PLC0415 - a notifier raised: rare

        return DeliveryReport((Delivery("notifier", ok=False, error=f"{type(exc).__name__}: {exc}"),))


__all__ = ["EnforcementFailedError", "EnforcerService", "FindingResult", "remediation_id_of"]
