"""Carry out a frozen plan, and give back all or part of it.

Apply: the role's policies must still hash to what the plan was frozen on;
the plan (with every before document) is written as APPLYING before the first
change; then everything new is put or attached before anything old is
detached or deleted, so no moment has less access than the plan. Each step
is recorded with what undoes it (a deleted old policy version keeps its
document). Rollback has the same precondition against the state after the
apply, and restores documents exactly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from iamwarden.adapters.errors import describe
from iamwarden.prune.adapters.iam_reader import IamReader
from iamwarden.prune.adapters.store import PruneStore
from iamwarden.prune.domain.catalogue import ActionCatalogue
from iamwarden.prune.domain.decide import RemovalRule
from iamwarden.prune.domain.model import PolicySource, RolePolicy, policies_hash
from iamwarden.prune.domain.plan import (
    Method,
    PlanStatus,
    PolicyChange,
    PrunePlan,
    narrowed_plan,
    plan_discrepancies,
    rewrite_change,
    rewrite_discrepancies,
)
from iamwarden.prune.exceptions import ExecutionError, PlanStateError, PlanTamperedError, PreconditionFailedError

COPY_PATH = "/iamwarden-pruned/"
_MAX_VERSIONS = 5


class Executor:
    def __init__(
        self,
        iam: Any,
        store: PruneStore,
        catalogue: ActionCatalogue,
        clock: Callable[[], datetime],
        exempt_sid_prefix: str = "NOPRUNE",
    ) -> None:
        self._iam = iam
        self._reader = IamReader(iam)
        self._store = store
        self._catalogue = catalogue
        self._clock = clock
        self._sid_prefix = exempt_sid_prefix

    # --- apply

    def apply(
        self, plan: PrunePlan, still_unused: RemovalRule | None = None, used_since: tuple[str, ...] = ()
    ) -> PrunePlan:
        """Apply the frozen plan; with ``still_unused`` (a part of its rule, from a fresh Access Advisor report)
        only that part: what was used since the announcement (``used_since``) stays granted (review s11 F8)."""
        live = self.verify(plan)
        what = "before-state recorded; applying"
        if still_unused is not None and used_since:
            plan = narrowed_plan(plan, still_unused, live, self._catalogue, self._sid_prefix)
            if plan.empty:
                raise PreconditionFailedError(
                    f"everything plan {plan.plan_id} removes was used since it was announced "
                    f"({', '.join(used_since)}); nothing removed"
                )
            note = f"used since the announcement, kept: {', '.join(used_since)}"
            plan = plan._replace(notes=(*plan.notes, note))
            what = f"{what}; {note}"
        plan = plan.with_event(PlanStatus.APPLYING, self._clock(), what)
        self._store.save_plan(plan, self._clock())
        steps = _Steps(self._iam, plan)
        try:
            for change in plan.changes:  # first everything new ...
                steps.add(change)
            for change in plan.changes:  # ... then everything old goes
                steps.remove(change)
        except (BotoCoreError, ClientError) as exc:
            failed = plan.with_event(
                PlanStatus.FAILED, self._clock(), f"stopped: {describe(exc)}", executed=tuple(steps.done)
            )
            self._store.save_plan(failed, self._clock())
            raise ExecutionError(
                f"applying plan {plan.plan_id} stopped after {len(steps.done)} steps: {describe(exc)}; "
                f"roll back with: iamwarden prune rollback {plan.plan_id}"
            ) from exc
        applied = plan.with_event(
            PlanStatus.APPLIED,
            self._clock(),
            f"applied {len(steps.done)} steps",
            executed=tuple(steps.done),
            current_hash=self._hash(plan.role_name),
        )
        self._store.save_plan(applied, self._clock())
        return applied

    def verify(self, plan: PrunePlan) -> tuple[RolePolicy, ...]:
        """The role's live policies, if the announced plan may still be applied to them: raises when the role
        changed since the announcement or the stored plan is not what the pruner would do."""
        if plan.status is not PlanStatus.ANNOUNCED:
            raise PlanStateError(f"plan {plan.plan_id} is {plan.status.value}; only an announced plan is applied")
        live = self._live_policies(plan.role_name)
        if policies_hash(live) != plan.policies_hash:
            raise PreconditionFailedError(
                f"the policies of role {plan.role_name} changed since the plan was announced; "
                f"plan {plan.plan_id} left as it was"
            )
        self._require_untampered(plan, plan_discrepancies(plan, live, self._catalogue, self._sid_prefix))
        return live

    # --- rollback

    def rollback(
        self, plan: PrunePlan, services: Iterable[str] = (), by: str | None = None
    ) -> tuple[PrunePlan, list[str]]:
        """Give back ``services`` (all when empty); returns the plan and what came back. ``by``: who asked."""
        interrupted = plan.status in (PlanStatus.FAILED, PlanStatus.APPLYING)
        if plan.status not in (PlanStatus.APPLIED, PlanStatus.PARTLY_ROLLED_BACK) and not interrupted:
            raise PlanStateError(f"plan {plan.plan_id} is {plan.status.value}; only an applied plan can be rolled back")
        touched = set(plan.services_touched())
        wanted = {service.lower() for service in services}
        unknown = wanted - touched
        if unknown:
            raise PlanStateError(
                f"plan {plan.plan_id} removed nothing from {', '.join(sorted(unknown))}; "
                f"it can give back: {', '.join(sorted(touched)) or 'nothing'}"
            )
        self._require_untampered(plan, rewrite_discrepancies(plan, self._catalogue, self._sid_prefix))
        if not interrupted:  # an interrupted apply has no after-state to compare: restore every before-state
            self._require_hash(plan, plan.current_hash or "", "the plan was applied")
        already = set(plan.rolled_back_services)
        back = already | (wanted or touched)
        full = back >= touched or interrupted
        rule = plan.rule.without(back)
        steps = _Steps(self._iam, plan)
        try:
            for change in plan.changes:
                target = (
                    dict(change.before)
                    if full
                    else rewrite_change(change, rule, self._catalogue, self._sid_prefix, plan.rewrite_version)
                )
                steps.restore(change, target, full)
        except (BotoCoreError, ClientError) as exc:
            partial = plan._replace(executed=(*plan.executed, *steps.done))
            self._store.save_plan(partial, self._clock())
            raise ExecutionError(
                f"rolling back plan {plan.plan_id} stopped: {describe(exc)}; run the rollback again"
            ) from exc
        newly = back - already
        came_back = [item for change in plan.changes for item in change.removed if _service(item) in newly]
        status = PlanStatus.ROLLED_BACK if full else PlanStatus.PARTLY_ROLLED_BACK
        what = "rolled back" if full else f"gave back {', '.join(sorted(newly))}"
        if by:
            what += f" by {by}"
        done = plan.with_event(
            status,
            self._clock(),
            what,
            executed=(*plan.executed, *steps.done),
            rolled_back_services=tuple(sorted(back)),
            current_hash=self._hash(plan.role_name),
        )
        self._store.save_plan(done, self._clock())
        return done, came_back

    def _hash(self, role_name: str) -> str:
        return policies_hash(self._live_policies(role_name))

    def _live_policies(self, role_name: str) -> tuple[RolePolicy, ...]:
        return self._reader.policies(role_name)

    @staticmethod
    def _require_untampered(plan: PrunePlan, problems: list[str]) -> None:
        if problems:
            raise PlanTamperedError(
                f"plan {plan.plan_id} in the state table is not what the pruner would do for role "
                f"{plan.role_name}: {'; '.join(problems)}. Someone changed the stored plan (or the pruner's "
                "settings changed since it was announced); nothing was done"
            )

    def _require_hash(self, plan: PrunePlan, expected: str, since: str) -> None:
        if self._hash(plan.role_name) != expected:
            raise PreconditionFailedError(
                f"the policies of role {plan.role_name} changed since {since}; plan {plan.plan_id} left as it was"
            )


def _service(item: str) -> str:
    return item.partition(":")[0].lower()


class _Steps:
    """IAM calls for one plan, each recorded with what undoes it."""

    def __init__(self, iam: Any, plan: PrunePlan) -> None:
        self._iam = iam
        self._plan = plan
        self.done: list[dict[str, Any]] = []

    def add(self, change: PolicyChange) -> None:
        role = self._plan.role_name
        if change.method is Method.PUT_INLINE and change.after is not None:
            self._iam.put_role_policy(RoleName=role, PolicyName=change.name, PolicyDocument=_json(change.after))
            self._record("put_inline", policy=change.name)
        elif change.method is Method.NEW_VERSION and change.after is not None:
            self._new_version(str(change.arn), change.after)
        elif change.method is Method.COPY and change.after is not None:
            self._attach_copy(change, change.after)

    def remove(self, change: PolicyChange) -> None:
        role = self._plan.role_name
        if change.method is Method.DELETE_INLINE:
            self._iam.delete_role_policy(RoleName=role, PolicyName=change.name)
            self._record("delete_inline", policy=change.name)
        elif change.method in (Method.COPY, Method.DETACH):
            self._iam.detach_role_policy(RoleName=role, PolicyArn=change.arn)
            self._record("detach", arn=change.arn)

    def restore(self, change: PolicyChange, target: Mapping[str, Any] | None, full: bool) -> None:
        """Make ``change``'s policy grant ``target`` again (``full``: exactly its before-state)."""
        role = self._plan.role_name
        if change.source is PolicySource.INLINE:
            if target is not None:
                self._iam.put_role_policy(RoleName=role, PolicyName=change.name, PolicyDocument=_json(target))
                self._record("put_inline", policy=change.name, rollback=True)
            return
        copy_arn = self._copy_arn(change)
        if change.method is Method.NEW_VERSION:
            if target is not None:
                self._new_version(str(change.arn), target, rollback=True)
        elif full:  # the original was never edited: attach it again and drop any pruned copy
            self._attach(str(change.arn))
            if copy_arn:
                self._iam.detach_role_policy(RoleName=role, PolicyArn=copy_arn)
                self._record("detach", arn=copy_arn, rollback=True)
                self._delete_policy(copy_arn)
        elif target is not None:
            if copy_arn:
                self._new_version(copy_arn, target, rollback=True)
            else:  # a detached policy gets part of it back: as a role-scoped copy
                self._attach_copy(change, target)

    def _copy_arn(self, change: PolicyChange) -> str | None:
        copies = [step.get("copy_arn") for step in [*self._plan.executed, *self.done] if step.get("arn") == change.arn]
        deleted = {step.get("arn") for step in [*self._plan.executed, *self.done] if step["step"] == "delete_policy"}
        live = [arn for arn in copies if arn and arn not in deleted]
        return live[-1] if live else None

    def _attach(self, arn: str) -> None:
        self._iam.attach_role_policy(RoleName=self._plan.role_name, PolicyArn=arn)
        self._record("attach", arn=arn, rollback=True)

    def _attach_copy(self, change: PolicyChange, document: Mapping[str, Any]) -> None:
        name = _copy_name(change.name, self._plan.role_name, self._plan.plan_id)
        created = self._iam.create_policy(
            PolicyName=name,
            Path=COPY_PATH,
            PolicyDocument=_json(document),
            Description=f"IAM Warden pruned copy of {change.arn} for role {self._plan.role_name}",
        )["Policy"]
        self._iam.attach_role_policy(RoleName=self._plan.role_name, PolicyArn=created["Arn"])
        self._record("copy", arn=change.arn, copy_arn=created["Arn"])

    def _new_version(self, arn: str, document: Mapping[str, Any], *, rollback: bool = False) -> None:
        versions = self._iam.list_policy_versions(PolicyArn=arn)["Versions"]
        if len(versions) >= _MAX_VERSIONS:
            oldest = min((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
            old = self._iam.get_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"])["PolicyVersion"]
            self._iam.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"])
            self._record("delete_version", arn=arn, version_id=oldest["VersionId"], document=old["Document"])
        created = self._iam.create_policy_version(PolicyArn=arn, PolicyDocument=_json(document), SetAsDefault=True)
        self._record("new_version", arn=arn, version_id=created["PolicyVersion"]["VersionId"], rollback=rollback)

    def _delete_policy(self, arn: str) -> None:
        for version in self._iam.list_policy_versions(PolicyArn=arn)["Versions"]:
            if not version["IsDefaultVersion"]:
                self._iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
        self._iam.delete_policy(PolicyArn=arn)
        self._record("delete_policy", arn=arn, rollback=True)

    def _record(self, step: str, **fields: Any) -> None:
        self.done.append({"step": step, **{key: value for key, value in fields.items() if value is not None}})


def _json(document: Mapping[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"))


def _copy_name(policy_name: str, role_name: str, plan_id: str) -> str:
    """``<policy>-pruned-<role>``, cut to IAM's 128 characters with a hash of what was cut."""
    name = f"{policy_name}-pruned-{role_name}-{plan_id[-6:]}"
    if len(name) <= 128:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:119]}-{digest}"
