"""The pruner's lifecycle for one role, the planner's choice of roles, cancel, rollback and the watch.

Per role and run (``Pruner.process_role``):

1. the kill switch is honoured first;
2. an announced plan is never re-planned or pushed back: before its date the
   role is left alone; on the date, in enforce mode, exactly the frozen plan
   is applied if the role's policies still hash the same, else it is
   superseded (not applied) and a fresh plan may follow; Access Advisor is read
   again first and only what is still unused goes (not ready or failed: not
   applied today, tried again); a plan removing admin-equivalent grants is
   never applied on a date (a person decides);
3. otherwise the role is read, skipped if exempt, Access Advisor is read
   (fail closed), and a plan is built: recorded in report mode, announced
   to the owners with its date in notify and enforce mode.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from iamwarden.domain.arns import parse_role_arn
from iamwarden.domain.prune_tag import tag_date
from iamwarden.prune.adapters.access_advisor import AccessAdvisor
from iamwarden.prune.adapters.executor import Executor
from iamwarden.prune.adapters.iam_reader import IamReader
from iamwarden.prune.adapters.store import PruneStore, RoleState
from iamwarden.prune.domain.catalogue import ActionCatalogue
from iamwarden.prune.domain.decide import (
    IDENTITY_CENTER_PATH,
    SERVICE_LINKED_PATH,
    RemovalRule,
    exempt_tag_first_key,
    exempt_tag_key,
    exemption_notes,
    recent_grants,
    skip_reason,
    still_unused,
    unused_rule,
    updated_ledger,
    warming_up,
)
from iamwarden.prune.domain.model import RoleFacts
from iamwarden.prune.domain.notices import NoticeKind, NoticeSender, PruneNotice, rollback_command
from iamwarden.prune.domain.plan import (
    PlanStatus,
    PrunePlan,
    admin_removals,
    build_plan,
    confirmed_rule,
    deny_advice,
    render_diff,
)
from iamwarden.prune.domain.rewrite import REWRITE_VERSION
from iamwarden.prune.domain.settings import PruneMode, PruneSettings
from iamwarden.prune.domain.summary import SUMMARY_WINDOW, RunSummary, SummaryItem
from iamwarden.prune.exceptions import (
    AccessAdvisorError,
    ExecutionError,
    PlanStateError,
    PlanTamperedError,
    PreconditionFailedError,
    RoleReadError,
    StoreError,
)

#: Why a role is snoozed, by the outcome that snoozed it.
_SNOOZE_REASONS = {
    "cancelled": "an owner cancelled a plan",
    "rolled_back": "an applied plan was rolled back",
    "expired": "a plan's date passed outside enforce mode",
}

#: A started Access Advisor job older than this is not waited for: a new one is started.
JOB_REUSE = timedelta(hours=12)


class RoleOutcome(NamedTuple):
    role_arn: str
    outcome: str  # disabled, waiting, skipped, no_decision, nothing_unused, reported, announced, applied, ...
    detail: str = ""
    plan_id: str | None = None


class RoleSummary(NamedTuple):
    """What ListRoles tells the planner about a role."""

    arn: str
    name: str
    path: str
    created: datetime


class Pruner:
    def __init__(
        self,
        *,
        iam_for: Callable[[str], Any],
        store: PruneStore | None,
        notices: NoticeSender,
        catalogue: ActionCatalogue,
        settings: PruneSettings,
        clock: Callable[[], datetime],
        advisor_for: Callable[[Any], AccessAdvisor] | None = None,
    ) -> None:
        self._iam_for = iam_for
        self._store = store
        self._notices = notices
        self._catalogue = catalogue
        self.settings = settings
        self._clock = clock
        self._advisor_for = advisor_for or (lambda iam: AccessAdvisor(iam, clock=clock))

    # --- the worker's job

    def process_role(self, account: str, role_arn: str) -> RoleOutcome:
        settings = self.settings
        if not settings.enabled:
            return RoleOutcome(role_arn, "disabled", settings.off_because or "the prune/enabled kill switch is off")
        store = self._require_store()
        now = self._clock()
        state = store.role(account, role_arn)
        if state.active_plan_id:
            return self._follow_up(store, state, now)
        if state.snoozed_until and datetime.fromisoformat(state.snoozed_until) > now:
            why = _SNOOZE_REASONS.get(state.last_outcome or "", "the last plan was not applied")
            return RoleOutcome(role_arn, "snoozed", f"{why}; no new plan before {state.snoozed_until}")
        iam = self._iam_for(account)
        try:
            role = IamReader(iam).role(role_arn)
        except RoleReadError as exc:
            self._save(store, state._replace(last_checked=now.isoformat(), last_outcome="no_decision"), now)
            return RoleOutcome(role_arn, "no_decision", str(exc))
        tag_seen = state.ledger
        state = state._replace(
            ledger=updated_ledger(role, state.ledger, now, settings.exempt_tag), last_checked=now.isoformat()
        )
        reason = skip_reason(role, settings, now, state.ledger) or warming_up(role, state.ledger, settings, now)
        if reason:
            self._save(store, state._replace(last_outcome="skipped"), now)
            tag = role.tags.get(settings.exempt_tag)
            by_tag = reason.startswith(f"exempted by tag {settings.exempt_tag}") and tag is not None
            if by_tag and exempt_tag_key(settings.exempt_tag, str(tag)) not in tag_seen:  # once per value (F17)
                self._exempted(role, reason)
            return RoleOutcome(role_arn, "skipped", reason)

        advisor = self._advisor_for(iam)
        job_id = state.pending_job_id
        if (
            not job_id
            or not state.pending_job_started
            or now - datetime.fromisoformat(state.pending_job_started) > JOB_REUSE
        ):
            try:
                job_id = advisor.start(role_arn)
            except AccessAdvisorError as exc:
                self._save(store, state._replace(last_outcome="no_decision"), now)
                return RoleOutcome(role_arn, "no_decision", str(exc))
            state = self._save(store, state._replace(pending_job_id=job_id, pending_job_started=now.isoformat()), now)
        try:
            plan = self._plan(role, advisor, job_id, state.ledger, now)
        except AccessAdvisorError as exc:  # AccessAdvisorNotReady is not one: it goes back to the queue
            self._save(
                store, state._replace(pending_job_id=None, pending_job_started=None, last_outcome="no_decision"), now
            )
            return RoleOutcome(role_arn, "no_decision", str(exc))
        state = state._replace(pending_job_id=None, pending_job_started=None)
        if plan.empty:
            self._save(store, state._replace(last_outcome="nothing_unused"), now)
            return RoleOutcome(role_arn, "nothing_unused", "; ".join(plan.notes))

        mode = settings.mode_for(account)
        if mode is PruneMode.REPORT:
            store.save_plan(plan._replace(mode=mode.value), now)
            self._save(store, state._replace(last_outcome="reported"), now)
            return RoleOutcome(role_arn, "reported", render_diff(plan), plan.plan_id)

        apply_on = (now + timedelta(days=settings.notice_days)).date().isoformat()
        announced = plan._replace(mode=mode.value, apply_on=apply_on).with_event(
            PlanStatus.ANNOUNCED, now, f"announced in {mode.value} mode"
        )
        store.save_plan(announced, now)
        self._save(store, state._replace(active_plan_id=announced.plan_id, last_outcome="announced"), now)
        verb = "will be removed" if mode is PruneMode.ENFORCE else "would be removed (notify mode: nothing changes)"
        if mode is PruneMode.ENFORCE and admin_removals(announced):
            verb = "would be removed, but NOT on a date: it removes admin-equivalent grants, a person decides"
        self._notify(
            NoticeKind.PLANNED,
            announced,
            f"Unused permissions of role {role.name} {verb} on {apply_on}. "
            f"To object: iamwarden prune cancel {announced.plan_id}",
        )
        return RoleOutcome(role_arn, "announced", render_diff(announced), announced.plan_id)

    def _follow_up(self, store: PruneStore, state: RoleState, now: datetime) -> RoleOutcome:
        plan = store.plan(str(state.active_plan_id))
        if plan.status is not PlanStatus.ANNOUNCED:
            # Recorded (an existing field, dated) so the planner's run summary tells it as an error (review s15 R1);
            # the state still points at the plan, so a person sees which one.
            self._save(store, state._replace(last_checked=now.isoformat(), last_outcome="needs_attention"), now)
            return RoleOutcome(
                plan.role_arn, "needs_attention", f"plan {plan.plan_id} is {plan.status.value}", plan.plan_id
            )
        if now.date() < date.fromisoformat(str(plan.apply_on)):
            return RoleOutcome(
                plan.role_arn, "waiting", f"plan {plan.plan_id} applies on {plan.apply_on}", plan.plan_id
            )
        # Dated, so the planner's run summary tells what this follow-up ended in (no new stored field).
        cleared = state._replace(active_plan_id=None, last_checked=now.isoformat())
        if plan.mode != PruneMode.ENFORCE.value or self.settings.mode_for(plan.account) is not PruneMode.ENFORCE:
            expired = plan.with_event(PlanStatus.EXPIRED, now, "date reached outside enforce mode: not applied")
            store.save_plan(expired, now)
            snooze = (now + timedelta(days=self.settings.unused_days)).isoformat()
            self._save(store, cleared._replace(snoozed_until=snooze, last_outcome="expired"), now)
            return RoleOutcome(plan.role_arn, "expired", "not applied outside enforce mode", plan.plan_id)
        iam = self._iam_for(plan.account)
        exempt = self._exempt_now(store, cleared, plan, iam, now)
        if exempt is not None:
            return exempt
        executor = Executor(iam, store, self._catalogue, self._clock, self.settings.exempt_sid_prefix)
        try:
            executor.verify(plan)  # a changed role or a forged plan is refused before any Access Advisor job
            if plan.rewrite_version < REWRITE_VERSION:  # checked with its own rewrite; planned again (s12 F2)
                return self._replan(store, cleared, plan, now)
            admin = admin_removals(plan)  # after verify: a forged admin item is TAMPERED, not "needs a person"
            if admin:  # never on a date: a person applies it by hand, or cancels it (review s11 F22)
                return self._needs_person(store, cleared, plan, admin, now)
            try:
                rule, used_since, state = self._still_unused(store, state, plan, iam, now)
            except AccessAdvisorError as exc:  # fail closed, as planning does: not applied today, tried again
                detail = f"plan {plan.plan_id} not applied today: {exc}; Access Advisor is asked again on the next run"
                return RoleOutcome(plan.role_arn, "no_decision", detail, plan.plan_id)  # recorded by _still_unused
            cleared = state._replace(active_plan_id=None, last_checked=now.isoformat())
            applied = executor.apply(plan, rule, used_since)
        except PlanTamperedError as exc:  # a critical notice to everyone who gets the pruner's notices
            refused = plan.with_event(PlanStatus.SUPERSEDED, now, str(exc))
            store.save_plan(refused, now)
            self._save(store, cleared._replace(last_outcome="tampered"), now)
            self._notify(NoticeKind.TAMPERED, refused, str(exc))
            return RoleOutcome(plan.role_arn, "tampered", str(exc), plan.plan_id)
        except PreconditionFailedError as exc:
            superseded = plan.with_event(PlanStatus.SUPERSEDED, now, str(exc))
            store.save_plan(superseded, now)
            self._save(store, cleared._replace(last_outcome="superseded"), now)
            self._notify(NoticeKind.NOT_APPLIED, superseded, f"Plan {plan.plan_id} was not applied: {exc}")
            return RoleOutcome(plan.role_arn, "superseded", str(exc), plan.plan_id)
        except ExecutionError as exc:  # the plan is recorded as failed with the steps that were done
            self._save(
                store,
                cleared._replace(last_applied_plan_id=plan.plan_id, applied_at=now.isoformat(), last_outcome="failed"),
                now,
            )
            self._notify(NoticeKind.FAILED, plan, f"Applying plan {plan.plan_id} failed: {exc}")
            return RoleOutcome(plan.role_arn, "failed", str(exc), plan.plan_id)
        self._save(
            store,
            cleared._replace(last_applied_plan_id=applied.plan_id, applied_at=now.isoformat(), last_outcome="applied"),
            now,
        )
        kept = (
            f" Used since the announcement, so kept (dropped from the plan): {', '.join(used_since)}."
            if used_since
            else ""
        )
        self._notify(
            NoticeKind.APPLIED,
            applied,
            f"Unused permissions were removed from role {plan.role_name}.{kept} "
            f"To give them back: {rollback_command(plan.plan_id)} (or --service S for one service)."
            f"{deny_advice(applied)}",
        )
        return RoleOutcome(plan.role_arn, "applied", render_diff(applied), plan.plan_id)

    def _replan(self, store: PruneStore, cleared: RoleState, plan: PrunePlan, now: datetime) -> RoleOutcome:
        """An announced plan an earlier IAM Warden version made (its rewrite differs from today's): not applied, and
        not called tampered; the role is planned again now, with a new date and notice."""
        why = (
            f"plan {plan.plan_id} was made by an earlier IAM Warden version (rewrite {plan.rewrite_version}); "
            "not applied, the role is planned again"
        )
        store.save_plan(plan.with_event(PlanStatus.SUPERSEDED, now, why), now)
        self._save(store, cleared._replace(last_outcome="superseded"), now)
        return self.process_role(plan.account, plan.role_arn)

    def _needs_person(
        self, store: PruneStore, cleared: RoleState, plan: PrunePlan, admin: tuple[str, ...], now: datetime
    ) -> RoleOutcome:
        why = (
            f"it removes admin-equivalent grants ({', '.join(admin)}): a person decides, it is never applied "
            "on a date; apply its diff by hand if wanted"
        )
        expired = plan.with_event(PlanStatus.EXPIRED, now, f"needs a person: {why}")
        store.save_plan(expired, now)
        snooze = (now + timedelta(days=self.settings.unused_days)).isoformat()
        self._save(store, cleared._replace(snoozed_until=snooze, last_outcome="needs_person"), now)
        self._notify(NoticeKind.NOT_APPLIED, expired, f"Plan {plan.plan_id} was not applied: {why}")
        return RoleOutcome(plan.role_arn, "needs_person", why, plan.plan_id)

    def _exempt_now(
        self, store: PruneStore, cleared: RoleState, plan: PrunePlan, iam: Any, now: datetime
    ) -> RoleOutcome | None:
        """On the apply date, whether the role became exempt since the announcement (break-glass, exempt_roles, the
        exempt tag, idle by design): then the plan is not applied (review s12 F7). An unreadable role is no
        decision: not applied today, asked again."""
        try:
            role = IamReader(iam).role(plan.role_arn)
        except RoleReadError as exc:  # recorded, the plan kept due, so the run summary tells it (review s15 R1)
            self._save(store, cleared._replace(active_plan_id=plan.plan_id, last_outcome="no_decision"), now)
            return RoleOutcome(plan.role_arn, "no_decision", f"plan {plan.plan_id} not applied today: {exc}")
        ledger = updated_ledger(role, cleared.ledger, now, self.settings.exempt_tag)
        reason = skip_reason(role, self.settings, now, ledger)
        if reason is None:
            return None
        why = f"the role is exempt since the announcement: {reason}"
        expired = plan.with_event(PlanStatus.EXPIRED, now, why)
        store.save_plan(expired, now)
        self._save(store, cleared._replace(ledger=ledger, last_outcome="skipped"), now)
        self._notify(NoticeKind.NOT_APPLIED, expired, f"Plan {plan.plan_id} was not applied: {why}")
        return RoleOutcome(plan.role_arn, "skipped", why, plan.plan_id)

    def _still_unused(
        self, store: PruneStore, state: RoleState, plan: PrunePlan, iam: Any, now: datetime
    ) -> tuple[RemovalRule, tuple[str, ...], RoleState]:
        """Ask Access Advisor again on the apply date (the planner's job dance): the part of the plan's rule still
        unused, what was used since, and the role's state with the job done. Raises ``AccessAdvisorNotReady`` (back
        to the queue, the job kept) or ``AccessAdvisorError`` (not applied today, the job forgotten)."""
        advisor = self._advisor_for(iam)
        job_id = state.pending_job_id
        try:
            if (
                not job_id
                or not state.pending_job_started
                or now - datetime.fromisoformat(state.pending_job_started) > JOB_REUSE
            ):
                job_id = advisor.start(plan.role_arn)
                state = self._save(
                    store, state._replace(pending_job_id=job_id, pending_job_started=now.isoformat()), now
                )
            report = advisor.report(plan.role_arn, job_id)
        except AccessAdvisorError:  # the plan stays due; dated and recorded so the run summary tells it (s15 R1)
            failed = state._replace(
                pending_job_id=None, pending_job_started=None, last_checked=now.isoformat(), last_outcome="no_decision"
            )
            self._save(store, failed, now)
            raise
        role = RoleFacts(plan.role_arn, plan.account, plan.role_name, "/", now)  # only its name and ARN are read
        rule, used_since = still_unused(plan.rule, unused_rule(report, self.settings, role, now))
        return rule, used_since, state._replace(pending_job_id=None, pending_job_started=None)

    # --- shared by the worker and `iamwarden prune plan`

    def _plan(
        self, role: RoleFacts, advisor: AccessAdvisor, job_id: str, ledger: Mapping[str, str], now: datetime
    ) -> PrunePlan:
        report = advisor.report(role.arn, job_id)
        rule = unused_rule(report, self.settings, role, now)
        granting = advisor.policies_granting(role.arn, rule.services) if rule.services else {}
        rule, notes = confirmed_rule(rule, role, report, granting)
        owners = tuple(
            owner.strip() for owner in role.tags.get(self.settings.owner_tag, "").split(",") if owner.strip()
        )
        return build_plan(
            role,
            rule,
            self._catalogue,
            now=now,
            recent=recent_grants(role, ledger, self.settings, now),
            exempt_sid_prefix=self.settings.exempt_sid_prefix,
            owners=owners,
            notes=(
                *look_alike_notes(role, self.settings),
                *exemption_notes(role, self.settings, now, ledger),
                *notes,
            ),
            max_growth=self.settings.max_growth,
        )

    def _exempted(self, role: RoleFacts, reason: str) -> None:
        """Tell the owners and the security channel that a role exempted itself by tag (once per tag value)."""
        owners = tuple(
            owner.strip() for owner in role.tags.get(self.settings.owner_tag, "").split(",") if owner.strip()
        )
        self._notices.send(
            PruneNotice(
                NoticeKind.EXEMPTED, role.account, role.arn, "", owners, f"Role {role.name} is not pruned: {reason}"
            )
        )

    def preview(self, role_arn: str) -> tuple[PrunePlan | None, str | None]:
        """The plan the pruner would make now, without writing anything; or why the role is skipped."""
        parsed = parse_role_arn(role_arn)
        if parsed is None:
            raise RoleReadError(f"not a role ARN: {role_arn!r}")
        iam = self._iam_for(parsed.account)
        now = self._clock()
        role = IamReader(iam).role(role_arn)
        ledger = self._store.role(parsed.account, role_arn).ledger if self._store else {}
        reason = skip_reason(role, self.settings, now, ledger)
        if reason:
            return None, reason
        advisor = self._advisor_for(iam)
        return self._plan(role, advisor, advisor.start(role_arn), ledger, now), None

    # --- people

    def cancel(self, plan_id: str, by: str) -> PrunePlan:
        """Withdraw an announced plan; the role gets no new plan for ``unused_days``."""
        store = self._require_store()
        now = self._clock()
        plan = store.plan(plan_id)
        if plan.status is not PlanStatus.ANNOUNCED:
            hint = f"; undo it with: {rollback_command(plan_id)}" if plan.status is PlanStatus.APPLIED else ""
            raise PlanStateError(
                f"plan {plan_id} is {plan.status.value}, only an announced plan can be cancelled{hint}"
            )
        cancelled = plan.with_event(PlanStatus.CANCELLED, now, f"cancelled by {by}")
        store.save_plan(cancelled, now)
        state = store.role(plan.account, plan.role_arn)
        if state.active_plan_id == plan_id:
            snooze = (now + timedelta(days=self.settings.unused_days)).isoformat()
            self._save(store, state._replace(active_plan_id=None, snoozed_until=snooze, last_outcome="cancelled"), now)
        return cancelled

    def rollback(
        self, plan_id: str, services: Sequence[str] = (), by: str | None = None
    ) -> tuple[PrunePlan, list[str]]:
        """Give back all of an applied plan or ``services``; the role gets no new plan for ``rollback_snooze_days``.

        Without the snooze the next day's run would find the same services unused
        and announce the same removal the owner has just undone.
        """
        store = self._require_store()
        plan = store.plan(plan_id)
        executor = Executor(
            self._iam_for(plan.account), store, self._catalogue, self._clock, self.settings.exempt_sid_prefix
        )
        done, came_back = executor.rollback(plan, services, by)
        now = self._clock()
        state = store.role(plan.account, plan.role_arn)
        snooze = (now + timedelta(days=self.settings.rollback_snooze_days)).isoformat()
        cleared = state._replace(active_plan_id=None) if state.active_plan_id == plan_id else state
        self._save(store, cleared._replace(snoozed_until=snooze, last_outcome="rolled_back"), now)
        return done, came_back

    def access_denied(self, event: Mapping[str, Any]) -> PruneNotice | None:
        """A notice when a role pruned within ``watch_days`` is denied an action the plan removed."""
        detail = event.get("detail") or {}
        identity = detail.get("userIdentity") or {}
        issuer = ((identity.get("sessionContext") or {}).get("sessionIssuer") or {}).get("arn")
        source = str(detail.get("eventSource", ""))
        if not issuer or identity.get("type") != "AssumedRole" or not source.endswith(".amazonaws.com"):
            return None
        parsed = parse_role_arn(str(issuer))
        if parsed is None:
            return None
        store = self._require_store()
        state = store.role(parsed.account, str(issuer))
        if not state.last_applied_plan_id or not state.applied_at:
            return None
        now = self._clock()
        if now - datetime.fromisoformat(state.applied_at) > timedelta(days=self.settings.watch_days):
            return None
        plan = store.plan(state.last_applied_plan_id)
        service = source.removesuffix(".amazonaws.com")
        action = f"{service}:{detail.get('eventName', '')}"
        rule = rule_of(plan)
        if plan.status not in (PlanStatus.APPLIED, PlanStatus.PARTLY_ROLLED_BACK) or not rule.removes(action):
            return None
        notice = PruneNotice(
            NoticeKind.ACCESS_DENIED,
            plan.account,
            plan.role_arn,
            plan.plan_id,
            plan.owners,
            f"Role {plan.role_name} was denied {action} after IAM Warden pruned it on {state.applied_at[:10]}. "
            f"If it needs it back: {rollback_command(plan.plan_id, service)}.{deny_advice(plan, action)}",
            rollback_command=rollback_command(plan.plan_id, service),
        )
        self._notices.send(notice)
        return notice

    # --- helpers

    def _require_store(self) -> PruneStore:
        if self._store is None:
            raise StoreError("this command needs the pruner's state table (--table or IAMWARDEN_PRUNE_TABLE)")
        return self._store

    def _save(self, store: PruneStore, state: RoleState, now: datetime) -> RoleState:
        return store.save_role(state, now)

    def _notify(self, kind: NoticeKind, plan: PrunePlan, summary: str) -> None:
        self._notices.send(
            PruneNotice(
                kind,
                plan.account,
                plan.role_arn,
                plan.plan_id,
                plan.owners,
                summary,
                diff=render_diff(plan),
                apply_on=plan.apply_on,
                rollback_command=rollback_command(plan.plan_id) if kind is NoticeKind.APPLIED else None,
            )
        )


def look_alike_notes(role: RoleFacts, settings: PruneSettings) -> tuple[str, ...]:
    """A note for a role named like IAM Warden's that is not one of its roles: judged like any other, and said so."""
    if settings.looks_like_own(role.name, role.path) and not settings.is_own_role(role.arn, role.account):
        return (
            f"role {role.name} is named like IAM Warden's roles but is not one of them (a look-alike): it is judged "
            "like any other role",
        )
    return ()


def select_roles(
    settings: PruneSettings,
    roles: Mapping[str, Iterable[RoleSummary]],
    states: Mapping[str, Mapping[str, RoleState]],
    now: datetime,
) -> list[tuple[str, str]]:
    """(account, role ARN) pairs for this run: due plans first, then the longest unchecked; bounded.

    Roles that can never be pruned (service-linked, Identity Center, IAM
    Warden's own, exempted by pattern, too young) are not sent at all.
    """
    per_account: dict[str, list[str]] = {}
    for account, summaries in roles.items():
        known = states.get(account, {})
        ranked: list[tuple[int, str, str]] = []
        for role in summaries:
            if _never_pruned(settings, account, role) or now - role.created < timedelta(
                days=settings.min_role_age_days
            ):
                continue
            state = known.get(role.arn)
            if state is not None and state.active_plan_id:
                rank = 0  # an announced plan may be due: never starve it
            elif state is not None and state.pending_job_id:
                rank = 1
            else:
                rank = 2
            ranked.append((rank, (state.last_checked or "") if state else "", role.arn))
        ranked.sort()
        per_account[account] = [arn for _, _, arn in ranked[: settings.max_roles_per_account]]
    chosen: list[tuple[str, str]] = []
    queues = {account: list(arns) for account, arns in sorted(per_account.items())}
    while queues and len(chosen) < settings.max_roles_per_run:  # round robin across accounts
        for account in list(queues):
            if not queues[account]:
                del queues[account]
                continue
            chosen.append((account, queues[account].pop(0)))
            if len(chosen) >= settings.max_roles_per_run:
                break
    return chosen


class ExemptedRole(NamedTuple):
    """A role the pruner skipped because of the exempt tag, as its worker last read it."""

    account: str
    role_arn: str
    until: str  # the last day the exemption holds (the tag's date, or the cap)
    asked: str  # the tag's value
    capped: bool  # the cap (max_exempt_days) ends it before the tag's date

    def to_dict(self) -> dict[str, Any]:
        return self._asdict()


def exempted_roles(
    settings: PruneSettings,
    roles: Mapping[str, Iterable[RoleSummary]],
    states: Mapping[str, Mapping[str, RoleState]],
    now: datetime,
) -> list[ExemptedRole]:
    """The listed roles the exempt tag keeps out of pruning today, as each one's last worker run read the tag: from
    the ledgers the planner reads anyway (the tag's value and the day the pruner first saw the tag, the very facts
    ``decide.exempt_until`` counts from), so no IAM call per role and no new stored field. Roles never pruned for an
    earlier reason (service-linked, Identity Center, IAM Warden's own, exempt_roles, break-glass) are not listed,
    as the worker does not skip them for their tag. A tag added or removed since a role's last run shows on its next
    run."""
    tag = settings.exempt_tag
    value_prefix = exempt_tag_key(tag, "")
    today = now.date()
    exempted: list[ExemptedRole] = []
    for account, summaries in sorted(roles.items()):
        known = states.get(account, {})
        for role in sorted(summaries, key=lambda summary: summary.arn):
            state = known.get(role.arn)
            if state is None or _never_pruned(settings, account, role):
                continue
            first = state.ledger.get(exempt_tag_first_key(tag))
            values = [key[len(value_prefix) :] for key in state.ledger if key.startswith(value_prefix)]
            asked = tag_date(values[0]) if first and len(values) == 1 else None
            if asked is None or first is None:
                continue  # no tag at the last read, or no date: no exemption
            until = min(asked, datetime.fromisoformat(first).date() + timedelta(days=settings.max_exempt_days))
            if until >= today:
                exempted.append(ExemptedRole(account, role.arn, until.isoformat(), values[0], until != asked))
    return exempted


def _never_pruned(settings: PruneSettings, account: str, role: RoleSummary) -> bool:
    """``select_roles``' filters for roles that are never pruned whatever their tag."""
    return _never_pruned_reason(settings, account, role) is not None


def _never_pruned_reason(settings: PruneSettings, account: str, role: RoleSummary) -> str | None:
    """Why a role is never pruned whatever its tag (``select_roles``' filters), or None."""
    if role.path.startswith(SERVICE_LINKED_PATH):
        return "service-linked role, never pruned"
    if role.path.startswith(IDENTITY_CENTER_PATH) or role.name.startswith("AWSReservedSSO_"):
        return "IAM Identity Center role, never pruned"
    if settings.is_own_role(role.arn, account):
        return "one of IAM Warden's own roles, never pruned"
    if settings.is_exempt_role(role.name, role.arn):
        return "exempt_roles or break_glass_principals, never pruned"
    return None


#: A worker's recorded outcome that is an error, as the run summary tells it.
_ERROR_OUTCOMES = {
    "no_decision": "no decision: the role or Access Advisor could not be read (tried again on the next run)",
    "failed": "applying its plan failed (see the failed notice)",
    "tampered": "its stored plan was altered and refused (see the tampered notice)",
    "needs_attention": (
        "its state points at a plan no longer announced (the table was altered, or a run crashed between saves): "
        "a person must look, the worker does nothing for this role until then"
    ),
}
#: What the date of an announced plan does outside enforce mode now (whatever mode it was announced in).
_ON_THE_DATE = {
    PruneMode.NOTIFY: "notify mode: nothing is removed on its date",
    PruneMode.REPORT: "report mode now: nothing is removed on its date",
}


def _on_the_date(announced_in: str | None, now: PruneMode) -> str:
    """What an announced plan's date does, as the worker decides then (``_follow_up``): removed only when the plan
    was announced in enforce mode and the account is in enforce mode still (review 2 S1); otherwise it expires."""
    if now is not PruneMode.ENFORCE:
        return _ON_THE_DATE[now]
    if announced_in == PruneMode.ENFORCE.value:
        return "enforce mode: removed on its date (an admin-equivalent removal waits for a person)"
    if announced_in is None:
        return "enforce mode now: removed on its date only if announced in enforce mode (unread)"
    return f"announced in {announced_in} mode: nothing is removed on its date"


#: A worker's recorded outcome that ended a plan without applying it.
_NOT_APPLIED_OUTCOMES = {
    "superseded": "superseded: the role changed since the announcement",
    "expired": "its date passed outside enforce mode",
    "needs_person": "it removes admin-equivalent grants: a person decides",
}


def run_summary(
    settings: PruneSettings,
    roles: Mapping[str, Iterable[RoleSummary]],
    states: Mapping[str, Mapping[str, RoleState]],
    *,
    chosen: Sequence[tuple[str, str]],
    exempted: Sequence[ExemptedRole],
    problems: Sequence[str],
    now: datetime,
    since: datetime | None = None,
    announced_modes: Mapping[str, str] | None = None,
) -> RunSummary:
    """The run's summary from what the planner read anyway (no IAM call): the outcomes the workers recorded since
    ``since`` (where the last summary's window ended; ``SUMMARY_WINDOW`` back by default), dated by a state's
    ``last_checked`` or ``applied_at`` for a role pruned; the roles the exempt tag keeps out; and the listed roles
    not sent this run with why. ``announced_modes``: the mode each announced plan (by id) was announced in, as the
    planner read the plans; a plan missing from it is said to be removed only if it was announced in enforce mode."""
    since = now - SUMMARY_WINDOW if since is None else since
    modes = announced_modes or {}

    def recent(stamp: str | None) -> bool:
        try:
            return stamp is not None and datetime.fromisoformat(stamp) >= since
        except ValueError:
            return False

    exempt_arns = {role.role_arn for role in exempted}
    pruned: list[SummaryItem] = []
    announced: list[SummaryItem] = []
    reported: list[SummaryItem] = []
    not_applied: list[SummaryItem] = []
    skipped: list[SummaryItem] = []
    errors = list(problems)
    told = set(exempt_arns)  # each role in one list only (review s15 R7): its worker's outcome wins
    for account in sorted(states):
        for arn, state in sorted(states[account].items()):
            outcome = state.last_outcome or ""
            if outcome == "applied":
                if recent(state.applied_at):
                    pruned.append(SummaryItem(arn, f"plan {state.last_applied_plan_id}"))
                    told.add(arn)
                continue
            if not recent(state.last_checked):
                continue
            told.add(arn)
            if outcome == "announced":
                announced.append(
                    SummaryItem(
                        arn,
                        f"plan {state.active_plan_id}; "
                        + _on_the_date(modes.get(state.active_plan_id or ""), settings.mode_for(account)),
                    )
                )
            elif outcome == "reported":
                reported.append(SummaryItem(arn))
            elif outcome in _NOT_APPLIED_OUTCOMES:
                not_applied.append(SummaryItem(arn, _NOT_APPLIED_OUTCOMES[outcome]))
            elif outcome in _ERROR_OUTCOMES:
                # A due plan not applied on its date because of the error (review s15 R1): say which plan.
                due = f"plan {state.active_plan_id} is due, not applied: " if state.active_plan_id else ""
                errors.append(f"{arn}: {due}{_ERROR_OUTCOMES[outcome]}")
            elif outcome == "skipped":
                if arn not in exempt_arns:  # else in "Exempt by tag"
                    skipped.append(SummaryItem(arn, "skipped by its worker (warming up or exempt: its log says why)"))
            elif arn not in exempt_arns:
                told.discard(arn)  # nothing_unused and the like: in no list; why this run did not send it is said
    sent = set(chosen)
    for account, summaries in sorted(roles.items()):
        for role in sorted(summaries, key=lambda summary: summary.arn):
            if (account, role.arn) in sent or role.arn in told:
                continue
            reason = _never_pruned_reason(settings, account, role)
            if reason is None and now - role.created < timedelta(days=settings.min_role_age_days):
                reason = f"younger than min_role_age_days ({settings.min_role_age_days})"
            if reason is None:
                reason = (
                    f"not reached this run (max_roles_per_account {settings.max_roles_per_account}, "
                    f"max_roles_per_run {settings.max_roles_per_run}): a later run takes it"
                )
            skipped.append(SummaryItem(role.arn, reason))
    exempt = tuple(
        SummaryItem(
            role.role_arn,
            f"until {role.until}" + (f", capped by max_exempt_days (the tag asks {role.asked})" if role.capped else ""),
        )
        for role in exempted
    )
    return RunSummary(
        since=since.isoformat(timespec="seconds"),
        sent=len(chosen),
        pruned=tuple(pruned),
        announced=tuple(announced),
        reported=tuple(reported),
        not_applied=tuple(not_applied),
        exempt=exempt,
        skipped=tuple(skipped),
        errors=tuple(errors),
    )


def rule_of(plan: PrunePlan) -> RemovalRule:
    """The removal still in force after partial rollbacks."""
    return plan.rule.without(plan.rolled_back_services)
