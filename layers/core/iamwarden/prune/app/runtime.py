"""Wiring shared by the pruner's Lambda functions and the CLI: settings from SSM, clients, the run.

Handlers stay thin: they build a ``PruneRuntime`` once per container and
call one method per invocation (or per SQS record).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from iamwarden.adapters.clients import ClientFactory
from iamwarden.domain.exceptions import SettingsProblem
from iamwarden.domain.own import OwnIdentity, own_roles_from_environment
from iamwarden.prune.adapters.access_advisor import AccessAdvisor
from iamwarden.prune.adapters.store import PruneStore, RoleState
from iamwarden.prune.app.service import (
    Pruner,
    RoleOutcome,
    RoleSummary,
    exempted_roles,
    run_summary,
    select_roles,
)
from iamwarden.prune.domain.catalogue import ActionCatalogue, PolicySentryCatalogue
from iamwarden.prune.domain.notices import NoticeKind, NoticeSender, PruneNotice
from iamwarden.prune.domain.settings import PruneSettings, parse_prune_settings
from iamwarden.prune.domain.summary import SUMMARY_OVERLAP, SUMMARY_WINDOW, RunSummary, summary_text
from iamwarden.prune.exceptions import PruneError, StoreError

SETTINGS_MAX_AGE_SECONDS = 60
_SQS_BATCH = 10


def utcnow() -> datetime:
    return datetime.now(UTC)


def settings_from_values(
    values: Mapping[str, Any], own: OwnIdentity | None = None
) -> tuple[PruneSettings, list[SettingsProblem]]:
    """Pruner settings from every parameter under the prefix; IAM Warden's own roles (never pruned) by exact
    identity, from the stack's environment (``IAMWARDEN_OWN_ROLE_ARNS``, ``IAMWARDEN_MEMBER_ROLE_NAMES``)."""
    return parse_prune_settings(values, own=own if own is not None else own_identity_from_environment())


def own_identity_from_environment(environ: Mapping[str, str] | None = None) -> OwnIdentity:
    """What the pruner needs of IAM Warden's identity, read as ``iamwarden.app.config`` reads it (the app imports the
    pruner, so the pruner reads the environment itself): the home account, its roles by ARN, the member roles by
    name; none at all where the environment names none (``iamwarden prune`` without the stack's environment)."""
    env = os.environ if environ is None else environ
    home, home_roles, member_roles = own_roles_from_environment(env)
    return OwnIdentity(home, MappingProxyType(home_roles), MappingProxyType(member_roles))


def read_settings(
    provider: Any, prefix: str, max_age: int = SETTINGS_MAX_AGE_SECONDS
) -> tuple[PruneSettings, list[SettingsProblem]]:
    """Read with ``adapters.ssm_settings.SsmParameters`` (``get_multiple``, recursive, cached ``max_age`` seconds)."""
    values: Mapping[str, Any] = provider.get_multiple(prefix.rstrip("/"), recursive=True, max_age=max_age)
    return settings_from_values(values)


#: How many exempted roles the planner's log line names (the answer keeps them all): one CloudWatch log event holds
#: at most 256 KB (review s14 F4).
EXEMPTED_LOGGED = 50


def planned_log(result: Mapping[str, Any]) -> dict[str, Any]:
    """The planner's answer as its log line says it: the exempted roles counted, the first ``EXEMPTED_LOGGED`` named."""
    exempted = list(result.get("exempted", ()))
    if not exempted:
        return dict(result)
    return {**result, "exempted": exempted[:EXEMPTED_LOGGED], "exempted_count": len(exempted)}


def _default_since(started: datetime) -> datetime:
    """The window before any summary was recorded: the default daily schedule's, with an hour to spare."""
    return started - SUMMARY_WINDOW


def _announced_modes(
    store: PruneStore, states: Mapping[str, Mapping[str, RoleState]], since: datetime
) -> dict[str, str]:
    """The mode each plan announced within the window was announced in (review 2 S1: its date removes only if that
    was enforce mode, as the worker decides); one read per such plan. A plan that cannot be read is left out: the
    summary then says its date removes only if it was announced in enforce mode (never fails the run)."""
    modes: dict[str, str] = {}
    for by_arn in states.values():
        for state in by_arn.values():
            if state.last_outcome != "announced" or not state.active_plan_id or not _since(state.last_checked, since):
                continue
            # not found, unreadable, or an altered item: left out
            with contextlib.suppress(PruneError, KeyError, ValueError):
                modes[state.active_plan_id] = store.plan(state.active_plan_id).mode
    return modes


def _since(stamp: str | None, since: datetime) -> bool:
    try:
        return stamp is not None and datetime.fromisoformat(stamp) >= since
    except (TypeError, ValueError):
        return False


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


class _Progress:
    """How far a planner run got, for the message of a run that fails midway (review s15 R3)."""

    def __init__(self) -> None:
        self.chosen = 0  # roles chosen for this run
        self.sent = 0  # role messages the queue took
        self.since: datetime | None = None  # the window's start, once read


class PruneRuntime:
    def __init__(
        self,
        factory: ClientFactory,
        *,
        table: str,
        notices: NoticeSender,
        settings: Callable[[], tuple[PruneSettings, list[SettingsProblem]]],
        queue_url: str | None = None,
        catalogue: ActionCatalogue | None = None,
        clock: Callable[[], datetime] = utcnow,
        advisor_for: Callable[[Any], AccessAdvisor] | None = None,
    ) -> None:
        self.factory = factory
        self.table = table
        self.queue_url = queue_url
        self._notices = notices
        self._settings = settings
        self._catalogue = catalogue or PolicySentryCatalogue()
        self._clock = clock
        self._advisor_for = advisor_for
        self.region = factory.session.region_name or "us-east-1"

    def store(self) -> PruneStore:
        return PruneStore(self.factory.home_client("dynamodb"), self.table)

    def pruner(self) -> tuple[Pruner, list[SettingsProblem]]:
        settings, problems = self._settings()
        pruner = Pruner(
            iam_for=lambda account: self.factory.client("iam", account, self.region),
            store=self.store(),
            notices=self._notices,
            catalogue=self._catalogue,
            settings=settings,
            clock=self._clock,
            advisor_for=self._advisor_for,
        )
        return pruner, problems

    # --- planner

    def plan_run(self) -> dict[str, Any]:
        """Send one queue message per role chosen for this run; returns counts for the log, and the roles the exempt
        tag keeps out of pruning (``exempted``: role, until, capped or not). Ends with one summary message to the
        security channel when there is something to say (``domain.summary``); a run that fails says so first,
        with how many role messages it sent before failing."""
        started = self._clock()
        progress = _Progress()
        try:
            settings, problems = self._settings()
        except Exception as exc:  # review s15 R6: the operators hear of it, as of any failed run
            failed = f"the planner could not read its settings: no role was sent ({type(exc).__name__}: {exc})"
            self._send_summary(RunSummary(_iso(_default_since(started)), errors=(failed,), outcomes_read=False))
            raise
        said = [str(problem) for problem in problems]
        if not settings.enabled:
            result: dict[str, Any] = {"sent": 0, "disabled": True, "problems": said}
            if said:  # nothing runs, but the operators must hear that a setting is wrong
                off = settings.off_because or "the prune/enabled kill switch is off"
                summary = RunSummary(
                    _iso(_default_since(started)), errors=(f"the pruner is off: {off}", *said), outcomes_read=False
                )
                result["summary"] = self._send_summary(summary)
                result["summary"].pop("reached", None)
            return result
        try:
            return self._plan_run(settings, said, started, progress)
        except Exception as exc:
            failed = (
                f"the planner run failed after sending {progress.sent} of {progress.chosen} role messages to the "
                "workers (their workers judge those roles; the rest wait for a later run)"
                if progress.sent
                else "the planner run failed before sending any role message to the workers"
            )
            failed += f"; the workers' outcomes are told by the next run that succeeds ({type(exc).__name__}: {exc})"
            since = progress.since or _default_since(started)
            self._send_summary(RunSummary(_iso(since), sent=progress.sent, errors=(failed, *said), outcomes_read=False))
            raise

    def _send_summary(self, summary: RunSummary) -> dict[str, Any]:
        """Send the run's summary to the security channel when there is something to say; what happened, for the
        log (sending never raises: failures are in the report)."""
        if not summary.worth_sending:
            return {"sent": False}
        kind = NoticeKind.RUN_ERRORS if summary.errors else NoticeKind.RUN_SUMMARY
        notice = PruneNotice(kind, self._account(), "", "", (), summary_text(summary))
        report = self._notices.send(notice)
        # Reached: an alert channel (SNS, Slack) took it; with none configured the log line is the only channel.
        channels = [d for d in report.deliveries if d.channel not in ("log", "none")]
        return {
            "sent": True,
            "failed": [f"{d.channel}: {d.error}" for d in report.deliveries if not d.ok],
            "reached": not channels or any(d.ok for d in channels),
        }

    def _account(self) -> str:
        """The account the pruner runs in, for the summary; "unknown" when even that cannot be read (a failed run):
        SNS refuses an empty String message attribute."""
        try:
            return self.factory.home_account or "unknown"
        except Exception:
            return "unknown"

    def _window(self, store: PruneStore, started: datetime) -> tuple[datetime, list[str]]:
        """Where this run's summary starts: where the last one ended (the start of the last run whose summary was
        built and sent), less ``SUMMARY_OVERLAP`` for a worker still finishing then (review s15 R4/R8); before the
        first such run, or when that record is unreadable, ``SUMMARY_WINDOW`` back (said as an error)."""
        try:
            last = store.summarised_until()
        except StoreError as exc:
            return _default_since(started), [f"the last run summary's time is unreadable, told from 25 hours: {exc}"]
        if last is None:
            return _default_since(started), []
        return min(last - SUMMARY_OVERLAP, started), []

    def _plan_run(
        self, settings: PruneSettings, said: list[str], started: datetime, progress: _Progress
    ) -> dict[str, Any]:
        if not self.queue_url:
            raise PruneError("the planner needs IAMWARDEN_PRUNE_QUEUE_URL")
        accounts = settings.accounts or (self.factory.home_account,)
        store = self.store()
        since, unreadable = self._window(store, started)
        progress.since = since
        roles: dict[str, list[RoleSummary]] = {}
        states: dict[str, dict[str, RoleState]] = {}
        for account in accounts:
            roles[account] = list_roles(self.factory.client("iam", account, self.region))
            states[account] = {state.role_arn: state for state in store.roles(account)}
        now = self._clock()
        chosen = select_roles(settings, roles, states, now)
        progress.chosen = len(chosen)
        sqs = self.factory.home_client("sqs")
        for start in range(0, len(chosen), _SQS_BATCH):
            entries = [
                {"Id": str(index), "MessageBody": json.dumps({"account": account, "role_arn": arn})}
                for index, (account, arn) in enumerate(chosen[start : start + _SQS_BATCH])
            ]
            answer = sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            progress.sent += len(answer.get("Successful", ()))
            if answer.get("Failed"):
                raise PruneError(f"the queue refused {len(answer['Failed'])} role messages: {answer['Failed']}")
        exempted = exempted_roles(settings, roles, states, now)
        problems = [*said, *unreadable]
        summary = run_summary(
            settings,
            roles,
            states,
            chosen=chosen,
            exempted=exempted,
            problems=problems,
            now=now,
            since=since,
            announced_modes=_announced_modes(store, states, since),
        )
        told = self._send_summary(summary)
        if told["sent"] and not told["reached"]:
            # Review 2 S2: no channel has it (only the log line): the window stays, the next run tells it again.
            told["window"] = "not saved: the summary reached no channel, the next run tells these outcomes again"
        else:
            # This run's outcomes are told, or there were none worth a message: the next window starts here.
            try:
                store.save_summarised_until(started, now)
            except StoreError as exc:  # the roles are on the queue: not a failed run; the next one tells again
                told["window"] = f"not saved, the next summary starts earlier: {exc}"
        told.pop("reached", None)
        return {
            "sent": len(chosen),
            "accounts": len(accounts),
            "roles_listed": sum(len(items) for items in roles.values()),
            # Roles skipped because of the exempt tag (as each one's last run read it); the run summary names the
            # first few, this answer (and the log line's first EXEMPTED_LOGGED) every one.
            "exempted": [role.to_dict() for role in exempted],
            "problems": said,
            "summary": told,
        }

    # --- worker

    def process_message(self, body: str, pruner: Pruner) -> RoleOutcome:
        try:
            message = json.loads(body)
            account, role_arn = str(message["account"]), str(message["role_arn"])
        except (ValueError, KeyError, TypeError) as exc:
            raise PruneError(f"not a pruner message: {body[:200]!r}") from exc
        return pruner.process_role(account, role_arn)

    # --- watch

    def watch(self, event: Mapping[str, Any]) -> PruneNotice | None:
        pruner, _ = self.pruner()
        return pruner.access_denied(event)


def list_roles(iam: Any) -> list[RoleSummary]:
    summaries = []
    for page in iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            summaries.append(RoleSummary(role["Arn"], role["RoleName"], role.get("Path", "/"), role["CreateDate"]))
    return summaries
