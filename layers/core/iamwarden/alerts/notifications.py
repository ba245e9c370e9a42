"""What the enforcer hands to the alert channels, and what it gets back.

The enforcer builds one ``Notification`` per finding and outcome (or per
configuration problem) and gives it to a ``Notifier``. Delivery never blocks
remediation: a notifier reports failures in its ``DeliveryReport`` instead of
raising, and the enforcer records them on the audit item for replay.
"""

from typing import TYPE_CHECKING, NamedTuple, Protocol

from iamwarden.domain.catalog import Severity
from iamwarden.domain.events import CloudTrailChange
from iamwarden.domain.exceptions import SettingsProblem
from iamwarden.domain.findings import Finding, Outcome
from iamwarden.guardrails.registry import ACTIONS

if TYPE_CHECKING:
    # A notifier's answer, built by the dispatcher with the first alert: not imported at cold start.
    from iamwarden.domain.delivery import DeliveryReport

#: What a remediation reports as done when every step found nothing left to undo: the change
#: was put right already, or the resource changed again since (and a later change is never touched).
ALREADY_COMPLIANT = "nothing: what the change did was no longer in place (put right already, or changed again since)"

#: The quarantine steps. One that failed with no deny-all on leaves the principal believed shut fully usable: alerted
#: critical whatever the rule's severity. One whose deny-all holds (a later write refused for a passing reason, the
#: run failed to be retried) keeps the rule's severity and says the quarantine holds (review s13 F5).
QUARANTINES = frozenset({"quarantine_user", "quarantine_role"})


def _failed_quarantine(finding: Finding, done: tuple[str, ...]) -> tuple[Finding, tuple[str, ...]]:
    """A failed plan with a quarantine: critical when the latest attempt left no deny-all on; else the rule's
    severity, and the line saying the quarantine holds and how many refused writes the retry will do. Only the latest
    attempt's line counts (review s13 N1): ``done`` adds up every attempt's lines, and a deny-all lifted between
    attempts must not read as holding."""
    if not any(step.action in QUARANTINES for step in finding.plan):
        return finding, done
    # Imported with a quarantine's outcome only: the enforcer imports this module at every cold start.
    from iamwarden.domain.quarantine import DENY_ALL_DONE, RETRIED, held_line, latest_verdict  # noqa: PLC0415

    verdict = latest_verdict(done)
    # Earlier attempts' "holds" lines read as what they were (review s14 F3); only the latest attempt's stands.
    done = _as_earlier(done, keep_latest=verdict == "held")
    if verdict in (None, "not quarantined"):
        return finding._replace(severity=Severity.CRITICAL), done
    if verdict == "held":
        return finding, done  # the attempt's own line says it, with its own count
    # A deny-all went on and no later line says otherwise (a later step failed, or a record from before the
    # attempt's own line): the refused writes after that deny-all are the ones the retry will do.
    last = max(index for index, line in enumerate(done) if line.startswith(DENY_ALL_DONE))
    return finding, (*done, held_line(sum(line.endswith(RETRIED) for line in done[last:])))


def _as_earlier(done: tuple[str, ...], *, keep_latest: bool) -> tuple[str, ...]:
    """``domain.quarantine.as_earlier``, imported with the first remediation's outcome, not at every cold start."""
    from iamwarden.domain.quarantine import as_earlier  # noqa: PLC0415

    return as_earlier(done, keep_latest=keep_latest)


class Notification(NamedTuple):
    """One message's worth of facts, before any channel renders it."""

    outcome: Outcome
    finding: Finding | None = None  # None only for configuration errors
    change: CloudTrailChange | None = None
    remediation_id: str | None = None
    #: What IAM Warden did (remediated), or would do (alerted): one plain line per step.
    actions: tuple[str, ...] = ()
    #: Why a remediation failed, with what was and was not done.
    error: str | None = None
    problems: tuple[SettingsProblem, ...] = ()
    #: False when the remediation cannot be undone (a deleted user).
    undoable: bool = True
    settings_prefix: str = "/iamwarden"


def finding_notification(
    outcome: Outcome,
    finding: Finding,
    change: CloudTrailChange | None,
    remediation_id: str,
    *,
    settings_prefix: str,
    done: tuple[str, ...] = (),
    error: str | None = None,
) -> Notification:
    """The notification of one finding's outcome, as the enforcer sends it and ``redeliver`` rebuilds it.

    ``actions`` is what was done (remediated, failed part way) or what remediate mode would do
    (alerted); a remediation that could not be undone (a deleted user) says so.
    """
    if outcome is Outcome.ALERTED:
        actions = tuple(step.summary for step in finding.plan)  # ``error``: why a remediate-mode finding was held
    elif outcome is Outcome.REMEDIATED:
        # A quarantine retried to success: its earlier attempts' "holds" lines are past (review s14 F3).
        actions = (_as_earlier(done, keep_latest=False) if done else ()) or (ALREADY_COMPLIANT,)
    elif outcome is Outcome.REMEDIATION_FAILED:
        finding, actions = _failed_quarantine(finding, done)
    else:
        actions = ()
    changed = outcome in (Outcome.REMEDIATED, Outcome.REMEDIATION_FAILED)
    undoable = not changed or all(ACTIONS[step.action].undoable for step in finding.plan)
    return Notification(
        outcome,
        finding,
        change,
        remediation_id,
        actions=actions,
        error=error,
        undoable=undoable,
        settings_prefix=settings_prefix,
    )


class Notifier(Protocol):
    """Sends a notification to every channel it should reach; never raises for a channel failure."""

    def notify(self, notification: Notification) -> "DeliveryReport": ...
