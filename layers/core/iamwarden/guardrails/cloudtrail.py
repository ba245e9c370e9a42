"""``cloudtrail-logging-impaired``: the trail that records every change keeps recording it (defense evasion).

An intruder with admin rights blinds the watchers first (MITRE ATT&CK T1562.008): ``StopLogging``,
``DeleteTrail``, an ``UpdateTrail`` that sends the log files elsewhere or drops global or other regions'
events, ``PutEventSelectors`` that leave out management events, ``PutInsightSelectors`` that switch
Insights off.

* ``StopLogging`` is restored with ``StartLogging``: nothing else needs to be known.
* Everything else is restored from IAM Warden's own snapshot of the trail (``domain.recorded``): the
  settings, selectors and Insights the trail had when IAM Warden last read it in a good state. The event
  says only what the trail became; without a snapshot the finding says so (``needs_context``) and is only
  alerted. The plan carries the snapshot, so the audit record shows exactly what would be put back.

CloudTrail Lake's event data stores are the other record (issue 15 item 3): ``StopEventDataStoreIngestion`` is
put back with ``StartEventDataStoreIngestion`` (undo stops it again); ``DeleteEventDataStore`` is alerted (the store
stays restorable for 7 days, ``RestoreEventDataStore``, then it is gone); ``UpdateEventDataStore`` that leaves out
management events, makes the store single-region or the account's only, sets a retention period (maybe shorter:
older events deleted) or turns termination protection off is alerted as high with the command back (the previous
retention and protection are unknown: the record carries only the new values).

CloudTrail's events are regional: a trail's change is recorded in its home region (``StopLogging`` and
``PutEventSelectors`` must be called there).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from iamwarden.adapters.errors import error_code, ignoring
from iamwarden.domain.catalog import RuleSpec, Severity
from iamwarden.domain.events import json_type_name
from iamwarden.domain.exceptions import InvalidEventError, UndoError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.recorded import TRAIL, Snapshot
from iamwarden.domain.trails import (
    Impairment,
    api_spelling,
    request_settings,
    same_setting,
    selector_impairments,
    setting_impairments,
    trail_snapshot_data,
    unknown_changes,
)
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.remediation import AccountClients, Permissions, StepRun

CLOUDTRAIL_LOGGING_IMPAIRED = RuleSpec(
    id="cloudtrail-logging-impaired",
    title="CloudTrail logging stopped or narrowed",
    event_source="cloudtrail.amazonaws.com",
    event_names=frozenset({"StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors", "PutInsightSelectors"})
    | frozenset({"StopEventDataStoreIngestion", "DeleteEventDataStore", "UpdateEventDataStore"}),
    risk=(
        "CloudTrail is the record of every change in the account; an intruder stops or narrows it first, "
        "so that nothing done next is seen or can be investigated."
    ),
    alert_risk=(
        "CloudTrail is the record of every change made in this account: with it stopped or narrowed, whatever is "
        "done next goes unseen, and IAM Warden itself no longer hears about it."
    ),
)

_TRAIL_GONE = "TrailNotFoundException"
_STORE_GONE = "EventDataStoreNotFoundException"
#: Event data store events: judged by ``_event_data_store``.
_LAKE = frozenset({"StopEventDataStoreIngestion", "DeleteEventDataStore", "UpdateEventDataStore"})


def trail_arn(context: RuleContext, name: str) -> str:
    """A trail named by name or ARN in a request, as its ARN (its home region is the event's)."""
    if name.startswith("arn:"):
        return name
    change = context.change
    return f"arn:{context.partition}:cloudtrail:{change.region}:{change.account}:trail/{name}"


def _trail_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


class CloudTrailRule:
    """StopLogging, DeleteTrail, UpdateTrail, PutEventSelectors and PutInsightSelectors that make a trail see less."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (CLOUDTRAIL_LOGGING_IMPAIRED,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        if change.event_name in _LAKE:
            return _event_data_store(context)
        request = change.request_parameters
        key = "trailName" if change.event_name in ("PutEventSelectors", "PutInsightSelectors") else "name"
        arn = trail_arn(context, context.request_text(key))
        evaluation = Evaluation(resource_arn=arn)
        name = _trail_name(arn)
        elsewhere = _homed_elsewhere(context, arn)
        if change.event_name == "StopLogging":
            evaluation.findings.append(
                context.finding(
                    CLOUDTRAIL_LOGGING_IMPAIRED,
                    severity=Severity.CRITICAL,
                    resource_arn=arn,
                    reason=f"{change.actor.display} stopped logging of trail {name}: nothing is recorded any more.",
                    plan=[]
                    if elsewhere
                    else [
                        RemediationStep(
                            StartTrailLogging.action,
                            arn,
                            {"trail_arn": arn},
                            f"start logging of trail {name} again",
                        )
                    ],
                    needs_context=elsewhere,
                )
            )
            return evaluation
        recorded = context.recorded if not elsewhere else None
        snapshot = recorded.snapshot(TRAIL, arn) if recorded is not None else None
        late_at = snapshot.taken_at if snapshot is not None and not snapshot.taken_before(change.time) else None
        if late_at is not None:  # taken after the change (the heartbeat reads what is live): it may hold the change
            snapshot = None
        previous = snapshot.data if snapshot is not None else None
        if change.event_name == "DeleteTrail":
            found = [Impairment("the trail was deleted", True)]
            unknown: list[str] = []
        elif change.event_name == "UpdateTrail":
            changed = request_settings(request)
            found = setting_impairments(changed, previous["settings"] if previous else None)
            unknown = [] if previous else unknown_changes(changed)
        elif change.event_name == "PutEventSelectors":
            found = selector_impairments(_list(request, "eventSelectors"), _list(request, "advancedEventSelectors"))
            unknown = []
        else:
            found = _insight_impairments(_list(request, "insightSelectors") or [], previous)
            unknown = []
        if not found and not unknown:
            evaluation.compliant.append(f"trail {name} still logs what it logged")
            return evaluation
        what = "; ".join(
            [impairment.what for impairment in found]
            + [f"{setting} set to {request_settings(request)[setting]!r} (before: unknown)" for setting in unknown]
        )
        actor = change.actor.display
        reason = {
            "DeleteTrail": f"{actor} deleted trail {name}: nothing it recorded is recorded any more.",
            "UpdateTrail": f"{actor} updated trail {name}: {what}.",
            "PutEventSelectors": f"{actor} set event selectors on trail {name} that leave out {what}.",
            "PutInsightSelectors": f"{actor} changed the Insights selectors of trail {name}: {what}.",
        }[change.event_name]
        needs: tuple[str, ...] = ()
        plan: list[RemediationStep] = []
        if elsewhere:
            needs = elsewhere
        elif snapshot is None:
            why = (
                f"IAM Warden's snapshot of it was taken at {late_at}, not before the change at {change.time}, so it "
                "may already hold the change"
                if late_at is not None
                else "IAM Warden has no snapshot of it: snapshots are taken by the heartbeat, of trails in a good state"
            )
            needs = (f"how trail {name} was configured before ({why})",)
        else:
            plan = [restore_step(arn, snapshot, change.event_name, _changed_to(change.event_name, request))]
        evaluation.findings.append(
            context.finding(
                CLOUDTRAIL_LOGGING_IMPAIRED,
                severity=Severity.CRITICAL if any(i.critical for i in found) or unknown else Severity.HIGH,
                resource_arn=arn,
                reason=reason,
                plan=plan,
                offending=[{"impairments": [i.what for i in found], "unknown": unknown}],
                needs_context=needs,
            )
        )
        return evaluation


def _store_arn(context: RuleContext, store: str) -> str:
    """An event data store named by ARN or by its id, as its ARN (in the event's account and region)."""
    if store.startswith("arn:"):
        return store
    change = context.change
    return f"arn:{context.partition}:cloudtrail:{change.region}:{change.account}:eventdatastore/{store}"


#: Event categories of an event data store of CloudTrail events (management and data events); any other category
#: (Config items, Audit Manager evidence, outside events) makes a store that never held management events.
_CLOUDTRAIL_CATEGORIES = frozenset({"Management", "Data", "NetworkActivity"})


def _event_data_store(context: RuleContext) -> Evaluation:
    """Ingestion stopped (started again), the store deleted or narrowed (alerted with the way back)."""
    change = context.change
    request = change.request_parameters
    arn = _store_arn(context, context.request_text("eventDataStore"))
    evaluation = Evaluation(resource_arn=arn)
    actor = change.actor.display
    what = f"CloudTrail Lake event data store {arn.rsplit('/', 1)[-1]} in {change.region}"
    plan: list[RemediationStep] = []
    if change.event_name == "StopEventDataStoreIngestion":
        severity = Severity.CRITICAL
        reason = f"{actor} stopped ingestion of {what}: no event is stored in it any more."
        plan = [
            RemediationStep(StartEventDataStoreIngestion.action, arn, {"store_arn": arn}, f"start ingestion of {what}")
        ]
    elif change.event_name == "DeleteEventDataStore":
        severity = Severity.CRITICAL
        reason = (
            f"{actor} deleted {what}: it stores nothing from now on and its events cannot be queried. It stays "
            "restorable for 7 days (PENDING_DELETION), then it is gone with its events: aws cloudtrail "
            f"restore-event-data-store --event-data-store {arn}."
        )
    else:
        narrowed: list[str] = []
        selectors = request.get("advancedEventSelectors")
        if isinstance(selectors, list) and selectors:
            categories = {
                str(value)
                for selector in selectors
                if isinstance(selector, Mapping)
                for field in (selector.get("fieldSelectors") or selector.get("FieldSelectors") or [])
                if isinstance(field, Mapping) and (field.get("field") or field.get("Field")) == "eventCategory"
                for value in (field.get("equals") or field.get("Equals") or [])
            }
            if not categories or categories & _CLOUDTRAIL_CATEGORIES:
                narrowed += [impairment.what for impairment in selector_impairments(None, selectors)]
        if request.get("multiRegionEnabled") is False:
            narrowed.append(f"only events of {change.region} are stored")
        if request.get("organizationEnabled") is False:
            narrowed.append(f"only account {change.account}'s events are stored, not the organisation's")
        evidence, unknown = _lake_evidence(request)
        if not narrowed and not evidence:
            evaluation.compliant.append(f"{what} still stores what it stored")
            return evaluation
        severity = Severity.HIGH
        reason = (
            f"{actor} updated {what}: {'; '.join(narrowed + evidence)}. If it was not meant, put it back: aws "
            f"cloudtrail update-event-data-store --event-data-store {arn} (its management-event selector, "
            "--multi-region-enabled, --organization-enabled, --retention-period <the days it kept>, "
            "--termination-protection-enabled)."
        )
        evaluation.findings.append(
            context.finding(
                CLOUDTRAIL_LOGGING_IMPAIRED,
                severity=severity,
                resource_arn=arn,
                reason=reason,
                plan=(),
                needs_context=unknown,
            )
        )
        return evaluation
    evaluation.findings.append(
        context.finding(CLOUDTRAIL_LOGGING_IMPAIRED, severity=severity, resource_arn=arn, reason=reason, plan=plan)
    )
    return evaluation


def _lake_evidence(request: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """What an ``UpdateEventDataStore`` does to the events already stored (in words), and what is unknown about it.

    A retention period set may be shorter than before (CloudTrail Lake then deletes the events older than it: evidence
    destroyed), and termination protection off is the step before ``DeleteEventDataStore``. The record carries only
    the new values: what the store had before is unknown, so both are alerted, never put back.
    """
    evidence: list[str] = []
    unknown: list[str] = []
    retention = request.get("retentionPeriod")
    if isinstance(retention, int) and not isinstance(retention, bool):
        evidence.append(
            f"its retention period set to {retention} days (stored events older than that are deleted, if it kept "
            "them longer)"
        )
        unknown.append(
            f"the retention period before the change: the record carries only the new one ({retention} days), so "
            "whether events were deleted is not known here (aws cloudtrail get-event-data-store shows the current one)"
        )
    protection = request.get("terminationProtectionEnabled")
    if protection is False or (isinstance(protection, str) and protection.lower() == "false"):
        evidence.append("its termination protection turned off (nothing stops DeleteEventDataStore now)")
        unknown.append("whether termination protection was on before the change: the record carries only the new value")
    return evidence, unknown


def _homed_elsewhere(context: RuleContext, arn: str) -> tuple[str, ...]:
    """What is unknown when the request names a trail ARN of another region or account than the event's.

    A trail is changed, and restored, only in its home region (elsewhere the call fails with
    ``InvalidHomeRegionException``), and the enforcer acts in the event's account and region: a successful change
    naming another home is no call CloudTrail records, so nothing is put back on its word.
    """
    parts = arn.split(":")
    change = context.change
    if len(parts) > 4 and (parts[3], parts[4]) == (change.region, change.account):
        return ()
    return (
        f"where trail {arn} lives: the change was recorded in {change.region} of account {change.account}, and a "
        "trail is changed and restored only in its own home region and account",
    )


#: What each event changes of a trail, in words: a restore puts back that, and nothing else.
_PARTS = {
    "DeleteTrail": "the trail itself, its settings, event selectors and Insights selectors, logging on",
    "UpdateTrail": "the settings the change set",
    "PutEventSelectors": "its event selectors",
    "PutInsightSelectors": "its Insights selectors",
}


def restore_step(
    arn: str, snapshot: Snapshot, event: str = "DeleteTrail", changed_to: Mapping[str, Any] | None = None
) -> RemediationStep:
    """Put back, from ``snapshot``, only what ``event`` changed; ``changed_to`` is what it set (the step acts only
    while the trail still holds it, so a later change by anyone is left to its own event)."""
    return RemediationStep(
        RestoreTrail.action,
        arn,
        {
            "trail_arn": arn,
            "snapshot": dict(snapshot.data),
            "taken_at": snapshot.taken_at,
            "event": event,
            "changed_to": dict(changed_to or {}),
        },
        f"put back {_PARTS.get(event, _PARTS['DeleteTrail'])} of trail {_trail_name(arn)} as IAM Warden saw it in a "
        f"good state before the change ({snapshot.taken_at})",
    )


def _changed_to(event: str, request: Mapping[str, Any]) -> dict[str, Any]:
    """What ``event`` set on the trail, in the API's spelling: the settings, the selectors or the Insights types."""
    if event == "UpdateTrail":
        return {"settings": request_settings(request)}
    if event == "PutEventSelectors":
        return {
            "event_selectors": api_spelling(request.get("eventSelectors")),
            "advanced_event_selectors": api_spelling(request.get("advancedEventSelectors")),
        }
    if event == "PutInsightSelectors":
        return {"insight_types": sorted(_insight_types(request.get("insightSelectors")))}
    return {}


def _list(request: Mapping[str, Any], key: str) -> list[Mapping[str, Any]] | None:
    value = request.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise InvalidEventError(
            f"detail.requestParameters.{key} must be a list of objects, got {json_type_name(value)}"
        )
    return value


def _insight_types(selectors: Any) -> set[str]:
    return {
        str(selector.get("InsightType") or selector.get("insightType"))
        for selector in selectors or ()
        if isinstance(selector, Mapping)
    }


def _insight_impairments(selectors: list[Mapping[str, Any]], previous: Mapping[str, Any] | None) -> list[Impairment]:
    """Insights types switched off: all of them (an empty list), or those the snapshot had."""
    now = _insight_types(selectors)
    before = _insight_types(previous.get("insight_selectors")) if previous else set()
    dropped = sorted(before - now)
    if dropped:
        return [Impairment(f"Insights {', '.join(dropped)} switched off", False)]
    if not now and previous is None:
        return [Impairment("Insights switched off", False)]
    return []


class StartTrailLogging:
    """Start logging a stopped trail (undo stops it again)."""

    permissions: ClassVar[Permissions] = ("cloudtrail:GetTrailStatus", "cloudtrail:StartLogging")
    action: ClassVar[StepAction] = StepAction("start_trail_logging", permissions)
    undo_permissions: ClassVar[Permissions] = ("cloudtrail:GetTrailStatus", "cloudtrail:StopLogging")
    undoable: ClassVar[bool] = True

    @staticmethod
    def _logging(aws: AccountClients, arn: str) -> bool | None:
        try:
            return bool(aws.client("cloudtrail").get_trail_status(Name=arn).get("IsLogging"))
        except Exception as exc:
            if error_code(exc) == _TRAIL_GONE:
                return None
            raise

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return {"logging": self._logging(aws, step.parameters["trail_arn"])}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if before["logging"] is not False:
            return  # logging again already, or the trail is gone
        arn = step.parameters["trail_arn"]
        with ignoring(_TRAIL_GONE):
            run.aws.client("cloudtrail").start_logging(Name=arn)
            done.append(f"started logging of trail {_trail_name(arn)}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if before["logging"] is not False:
            return []
        arn = step.parameters["trail_arn"]
        now = self._logging(aws, arn)
        if now is None:
            raise UndoError(f"trail {_trail_name(arn)} no longer exists")
        if not now:
            return []
        aws.client("cloudtrail").stop_logging(Name=arn)
        return [f"stopped logging of trail {_trail_name(arn)} again, as before"]


class RestoreTrail:
    """Put back, from a snapshot taken before the change, only what the change changed (audit s7 gap 4): a deleted
    trail re-created with its settings, selectors and logging; the settings an ``UpdateTrail`` set; the selectors
    of a ``PutEventSelectors``; the Insights selectors of a ``PutInsightSelectors``.

    Acts only while the trail still holds what the event set (still deleted; the settings, selectors or Insights
    types it wrote): a later change, by an operator or anyone, is left to its own event. Only what differs is
    written. Undo puts back the same parts as captured before (deleting a trail that did not exist): it never
    starts logging, because the remediation never stopped it.
    """

    permissions: ClassVar[Permissions] = (
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetTrailStatus",
        "cloudtrail:GetEventSelectors",
        "cloudtrail:GetInsightSelectors",
        "cloudtrail:CreateTrail",
        "cloudtrail:UpdateTrail",
        "cloudtrail:PutEventSelectors",
        "cloudtrail:PutInsightSelectors",
        "cloudtrail:StartLogging",
    )
    action: ClassVar[StepAction] = StepAction("restore_trail", permissions)
    undo_permissions: ClassVar[Permissions] = (
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetTrailStatus",
        "cloudtrail:GetEventSelectors",
        "cloudtrail:GetInsightSelectors",
        "cloudtrail:DeleteTrail",
        "cloudtrail:UpdateTrail",
        "cloudtrail:PutEventSelectors",
        "cloudtrail:PutInsightSelectors",
        "cloudtrail:StopLogging",
    )
    undoable: ClassVar[bool] = True

    @staticmethod
    def read(client: Any, arn: str) -> dict[str, Any] | None:
        """The trail's live state in the snapshot's shape; None when it does not exist."""
        listed = client.describe_trails(trailNameList=[arn], includeShadowTrails=False).get("trailList", [])
        trails = [trail for trail in listed if trail.get("TrailARN") == arn]  # only that trail, whatever is listed
        if not trails:
            return None
        status = client.get_trail_status(Name=arn)
        selectors = client.get_event_selectors(TrailName=arn)
        try:
            insights = client.get_insight_selectors(TrailName=arn).get("InsightSelectors", [])
        except Exception as exc:
            if error_code(exc) not in ("InsightNotEnabledException", _TRAIL_GONE):
                raise
            insights = []
        return trail_snapshot_data(trails[0], status, selectors, insights)

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return {"trail": self.read(aws.client("cloudtrail"), step.parameters["trail_arn"])}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not _still_as_the_event_left_it(step, before["trail"]):
            return  # changed again since: judged by its own event
        wanted = _part(step, step.parameters["snapshot"])
        _put(run.aws.client("cloudtrail"), step.parameters["trail_arn"], before["trail"], wanted, done, may_stop=False)

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not _still_as_the_event_left_it(step, before["trail"]):
            return []  # nothing was done
        client = aws.client("cloudtrail")
        arn = step.parameters["trail_arn"]
        current = self.read(client, arn)
        previous = _part(step, before["trail"]) if before["trail"] is not None else None
        if previous is None:
            if current is None:
                return []
            client.delete_trail(Name=_trail_name(arn))  # by name: its home region is this client's
            return [f"deleted trail {_trail_name(arn)} again, as it was deleted before"]
        if current is None:
            raise UndoError(f"trail {_trail_name(arn)} was deleted since; it cannot be put back as it was")
        restored: list[str] = []
        _put(client, arn, current, previous, restored, may_stop=True)
        return restored


def _still_as_the_event_left_it(step: RemediationStep, live: Mapping[str, Any] | None) -> bool:
    """Whether the trail still holds what the step's event set (a plan recorded before steps named their event:
    yes, as it was then)."""
    event, changed_to = step.parameters.get("event"), step.parameters.get("changed_to") or {}
    if event is None:
        return True
    if event == "DeleteTrail":
        return live is None
    if live is None:
        return False
    if event == "UpdateTrail":
        settings = live.get("settings") or {}
        return all(same_setting(k, settings.get(k), v) for k, v in (changed_to.get("settings") or {}).items())
    if event == "PutEventSelectors":
        advanced = changed_to.get("advanced_event_selectors")
        if advanced:
            return bool(api_spelling(live.get("advanced_event_selectors")) == advanced)
        return bool(api_spelling(live.get("event_selectors")) == changed_to.get("event_selectors"))
    return sorted(_insight_types(live.get("insight_selectors"))) == changed_to.get("insight_types")


def _part(step: RemediationStep, data: Mapping[str, Any]) -> dict[str, Any]:
    """Of a trail's state (snapshot shape), only the part the step's event changed."""
    event = step.parameters.get("event")
    if event is None or event == "DeleteTrail":
        return dict(data)
    if event == "UpdateTrail":
        written = (step.parameters.get("changed_to") or {}).get("settings") or {}
        settings = data.get("settings") or {}
        return {"settings": {key: settings[key] for key in written if settings.get(key) is not None}}
    if event == "PutEventSelectors":
        return {
            "settings": {},
            "event_selectors": data.get("event_selectors"),
            "advanced_event_selectors": data.get("advanced_event_selectors"),
        }
    return {"settings": {}, "insight_selectors": data.get("insight_selectors") or []}


def _put(
    client: Any, arn: str, live: Mapping[str, Any] | None, wanted: Mapping[str, Any], done: list[str], *, may_stop: bool
) -> None:
    """Write what of ``wanted`` (settings, selectors, Insights, logging) differs from ``live``.

    A remediation (``may_stop`` false) only ever starts logging: it restores a snapshot, which always logs. Undo
    (``may_stop`` true) only ever stops it, if it was stopped before the remediation.
    """
    name = _trail_name(arn)
    settings = {key: value for key, value in wanted["settings"].items() if value is not None}
    if live is None:
        created = {key: value for key, value in settings.items() if key != "IsOrganizationTrail" or value}
        client.create_trail(Name=wanted.get("name") or name, **created)
        done.append(f"re-created trail {name} with its settings of the snapshot")
        live = {"settings": settings, "logging": False, "event_selectors": None, "advanced_event_selectors": None}
    else:
        differing = {key: value for key, value in settings.items() if live["settings"].get(key) != value}
        if differing:
            client.update_trail(Name=arn, **differing)
            done.append(f"set {', '.join(sorted(differing))} of trail {name} back")
    if wanted.get("advanced_event_selectors"):
        if live.get("advanced_event_selectors") != wanted["advanced_event_selectors"]:
            client.put_event_selectors(TrailName=arn, AdvancedEventSelectors=wanted["advanced_event_selectors"])
            done.append(f"put the advanced event selectors of trail {name} back")
    elif wanted.get("event_selectors") and live.get("event_selectors") != wanted["event_selectors"]:
        client.put_event_selectors(TrailName=arn, EventSelectors=wanted["event_selectors"])
        done.append(f"put the event selectors of trail {name} back")
    if "insight_selectors" in wanted and (live.get("insight_selectors") or []) != (wanted["insight_selectors"] or []):
        client.put_insight_selectors(TrailName=arn, InsightSelectors=wanted["insight_selectors"] or [])
        done.append(f"put the Insights selectors of trail {name} back")
    if not may_stop and wanted.get("logging") and not live.get("logging"):
        client.start_logging(Name=arn)
        done.append(f"started logging of trail {name}")
    elif may_stop and "logging" in wanted and not wanted["logging"] and live.get("logging"):
        client.stop_logging(Name=arn)
        done.append(f"stopped logging of trail {name}, as before")


class StartEventDataStoreIngestion:
    """Start ingestion of an event data store whose ingestion was stopped (undo stops it again)."""

    permissions: ClassVar[Permissions] = ("cloudtrail:GetEventDataStore", "cloudtrail:StartEventDataStoreIngestion")
    action: ClassVar[StepAction] = StepAction("start_event_data_store_ingestion", permissions)
    undo_permissions: ClassVar[Permissions] = ("cloudtrail:GetEventDataStore", "cloudtrail:StopEventDataStoreIngestion")
    undoable: ClassVar[bool] = True

    @staticmethod
    def _status(aws: AccountClients, arn: str) -> str | None:
        try:
            return str(aws.client("cloudtrail").get_event_data_store(EventDataStore=arn).get("Status"))
        except Exception as exc:
            if error_code(exc) == _STORE_GONE:
                return None
            raise

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return {"status": self._status(aws, step.parameters["store_arn"])}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if before["status"] not in ("STOPPED_INGESTION", "STOPPING_INGESTION"):
            return  # ingesting again already, deleted, or gone
        arn = step.parameters["store_arn"]
        with ignoring(_STORE_GONE):
            run.aws.client("cloudtrail").start_event_data_store_ingestion(EventDataStore=arn)
            done.append(f"started ingestion of event data store {arn}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if before["status"] not in ("STOPPED_INGESTION", "STOPPING_INGESTION"):
            return []
        arn = step.parameters["store_arn"]
        status = self._status(aws, arn)
        if status is None:
            raise UndoError(f"event data store {arn} no longer exists")
        if status not in ("ENABLED", "STARTING_INGESTION"):
            return []
        aws.client("cloudtrail").stop_event_data_store_ingestion(EventDataStore=arn)
        return [f"stopped ingestion of event data store {arn} again, as before"]


GUARDRAILS = (CloudTrailRule(),)
ACTIONS = (StartTrailLogging(), RestoreTrail(), StartEventDataStoreIngestion())
