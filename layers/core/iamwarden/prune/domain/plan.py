"""A prune plan: the exact diff for one role, frozen when announced, as data.

``build_plan`` is pure: it takes the role's facts, the Access Advisor report
and the policies Access Advisor says grant each service, and returns the plan
with every policy's before and after document. Size limits are checked here,
before anything is written: a change that would not fit is skipped with a
note, never silently. The plan carries everything a rollback needs (the
before documents and the removal rule), so any part can be given back
exactly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from iamwarden.domain.arns import parse_role_arn
from iamwarden.domain.policy import action_matches
from iamwarden.prune.domain.catalogue import ActionCatalogue
from iamwarden.prune.domain.decide import RemovalRule
from iamwarden.prune.domain.model import (
    MANAGED_POLICY_LIMIT,
    ROLE_INLINE_LIMIT,
    AccessReport,
    PolicySource,
    RoleFacts,
    RolePolicy,
    canonical_json,
    iam_size,
)
from iamwarden.prune.domain.rewrite import REWRITE_VERSION, Rewrite, rewrite_policy

#: A policy may grow to this many times its size when wildcards are expanded (setting ``max_growth``).
DEFAULT_MAX_GROWTH = 3


class PlanStatus(StrEnum):
    REPORTED = "reported"  # report mode: recorded, nobody told, never applied
    ANNOUNCED = "announced"  # owners told; frozen; applied on apply_on in enforce mode
    APPLYING = "applying"  # before-state recorded, steps being carried out
    APPLIED = "applied"
    FAILED = "failed"  # applying stopped part-way; ``executed`` lists what was done
    CANCELLED = "cancelled"  # an owner objected before the date
    SUPERSEDED = "superseded"  # the role's policies changed since the plan was frozen: not applied
    EXPIRED = "expired"  # the date passed outside enforce mode: not applied
    PARTLY_ROLLED_BACK = "partly_rolled_back"
    ROLLED_BACK = "rolled_back"


class Method(StrEnum):
    """How a policy change is carried out."""

    PUT_INLINE = "put_inline"
    DELETE_INLINE = "delete_inline"
    NEW_VERSION = "new_version"  # customer-managed, attached only to this role
    COPY = "copy"  # shared customer-managed or AWS-managed: a role-scoped pruned copy replaces it
    DETACH = "detach"  # a managed policy left with nothing to grant


class PolicyChange(NamedTuple):
    key: str
    source: PolicySource
    name: str
    arn: str | None
    method: Method
    before: Mapping[str, Any]
    after: Mapping[str, Any] | None
    removed: tuple[str, ...]
    edits: tuple[Mapping[str, Any], ...]
    recent: tuple[str, ...] = ()  # patterns kept as recent grants (needed to repeat the rewrite exactly)
    undeniable: tuple[str, ...] = ()  # actions a kept statement of the role grants: never denied (review s12 F1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "source": self.source.value,
            "name": self.name,
            "arn": self.arn,
            "method": self.method.value,
            "before": dict(self.before),
            "after": dict(self.after) if self.after is not None else None,
            "removed": list(self.removed),
            "edits": [dict(edit) for edit in self.edits],
            "recent": list(self.recent),
            "undeniable": list(self.undeniable),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PolicyChange:
        return cls(
            key=data["key"],
            source=PolicySource(data["source"]),
            name=data["name"],
            arn=data["arn"],
            method=Method(data["method"]),
            before=data["before"],
            after=data["after"],
            removed=tuple(data["removed"]),
            edits=tuple(data["edits"]),
            recent=tuple(data.get("recent", ())),
            undeniable=tuple(data.get("undeniable", ())),
        )


class PrunePlan(NamedTuple):
    plan_id: str
    account: str
    role_arn: str
    role_name: str
    created_at: str
    policies_hash: str  # of the role's policies when the plan was frozen
    rule: RemovalRule
    changes: tuple[PolicyChange, ...]
    notes: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    status: PlanStatus = PlanStatus.REPORTED
    mode: str = "report"
    apply_on: str | None = None  # ISO date; set when announced
    current_hash: str | None = None  # of the role's policies after apply or the last rollback
    executed: tuple[Mapping[str, Any], ...] = ()  # steps done, with what undoes them
    rolled_back_services: tuple[str, ...] = ()
    history: tuple[Mapping[str, Any], ...] = ()
    rewrite_version: int = 1  # how its after-documents were made (``REWRITE_VERSION``); absent = main's = 1

    @property
    def empty(self) -> bool:
        return not self.changes

    @property
    def removed_services(self) -> tuple[str, ...]:
        return tuple(sorted(self.rule.services))

    def services_touched(self) -> tuple[str, ...]:
        """Every service namespace some change removes part or all of (the choices for --service)."""
        services = set()
        for change in self.changes:
            for item in change.removed:
                services.add(item.partition(":")[0].lower())
        return tuple(sorted(services))

    def with_event(self, status: PlanStatus, at: datetime, what: str, **fields: Any) -> PrunePlan:
        """The plan in a new status, with the transition appended to its history."""
        entry = {"at": at.isoformat(), "status": status.value, "what": what}
        return self._replace(status=status, history=(*self.history, entry), **fields)

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan_id,
            "account": self.account,
            "role_arn": self.role_arn,
            "role_name": self.role_name,
            "created_at": self.created_at,
            "policies_hash": self.policies_hash,
            "rule": self.rule.to_dict(),
            "changes": [change.to_dict() for change in self.changes],
            "notes": list(self.notes),
            "owners": list(self.owners),
            "status": self.status.value,
            "mode": self.mode,
            "apply_on": self.apply_on,
            "current_hash": self.current_hash,
            "executed": [dict(step) for step in self.executed],
            "rolled_back_services": list(self.rolled_back_services),
            "history": [dict(entry) for entry in self.history],
            "rewrite_version": self.rewrite_version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PrunePlan:
        return cls(
            plan_id=data["plan_id"],
            account=data["account"],
            role_arn=data["role_arn"],
            role_name=data["role_name"],
            created_at=data["created_at"],
            policies_hash=data["policies_hash"],
            rule=RemovalRule.from_dict(data["rule"]),
            changes=tuple(PolicyChange.from_dict(change) for change in data["changes"]),
            notes=tuple(data.get("notes", ())),
            owners=tuple(data.get("owners", ())),
            status=PlanStatus(data["status"]),
            mode=data.get("mode", "report"),
            apply_on=data.get("apply_on"),
            current_hash=data.get("current_hash"),
            executed=tuple(data.get("executed", ())),
            rolled_back_services=tuple(data.get("rolled_back_services", ())),
            history=tuple(data.get("history", ())),
            rewrite_version=int(data.get("rewrite_version", 1)),
        )


def plan_id_for(role_arn: str, now: datetime) -> str:
    digest = hashlib.sha256(f"{role_arn}|{now.isoformat()}".encode()).hexdigest()[:10]
    return f"prune-{now:%Y%m%d}-{digest}"


def confirmed_rule(
    rule: RemovalRule, role: RoleFacts, report: AccessReport, granting: Mapping[str, frozenset[str]]
) -> tuple[RemovalRule, list[str]]:
    """Keep every unused service whose granting policies are not exactly the ones read (fail closed)."""
    known = {policy.key for policy in role.policies}
    notes: list[str] = []
    services = set(rule.services)
    for service in sorted(rule.services):
        keys = granting.get(service, frozenset())
        if not keys:
            services.discard(service)
            notes.append(f"kept service {service}: Access Advisor names no policy that grants it")
        elif not keys <= known:
            services.discard(service)
            notes.append(
                f"kept service {service}: granted by policies that were not read ({', '.join(sorted(keys - known))})"
            )
    actions = {action for action in rule.actions if action.partition(":")[0] in report.services}
    return RemovalRule(frozenset(services), frozenset(actions), rule.keep), notes


def build_plan(
    role: RoleFacts,
    rule: RemovalRule,
    catalogue: ActionCatalogue,
    *,
    now: datetime,
    recent: Mapping[str, frozenset[str]],
    exempt_sid_prefix: str = "NOPRUNE",
    owners: tuple[str, ...] = (),
    notes: tuple[str, ...] = (),
    max_growth: int = DEFAULT_MAX_GROWTH,
) -> PrunePlan:
    """The plan that removes ``rule`` from every policy of ``role`` that fits IAM's limits after the rewrite.

    Removing a few actions from ``s3:*`` means listing the 160-odd that stay. When
    that would take a policy past IAM's size limit or past ``max_growth`` times its
    size, the service is taken out of the rule: its wildcard stays, nothing of it
    is removed, and a note says why (a bloated policy is worse than a broad one).
    """
    all_notes = list(notes)
    undeniable = kept_grants(role, rule, recent, exempt_sid_prefix)
    while True:
        rewrites: list[tuple[RolePolicy, Rewrite]] = []
        rewrite_notes: list[str] = []
        too_big: dict[str, str] = {}
        for policy in role.policies:
            rewrite = rewrite_policy(
                policy.document,
                rule,
                catalogue,
                recent=recent.get(policy.key, frozenset()),
                exempt_sid_prefix=exempt_sid_prefix,
                label=_label(policy),
                undeniable=undeniable,
            )
            rewrite_notes.extend(rewrite.notes)
            if rewrite.changed:
                rewrites.append((policy, rewrite))
                for service, reason in _overgrown(policy, rewrite, max_growth).items():
                    too_big.setdefault(service, reason)
        if too_big:
            all_notes.extend(too_big.values())
            rule = rule.without(too_big)
            continue
        limit_notes: list[str] = []
        accepted = _within_limits(role, rewrites, limit_notes)
        # A policy skipped for IAM's limits keeps its grants, but a Deny written into another policy of the role
        # would take the same actions from it (an explicit Deny wins over every Allow): give those actions back and
        # plan again, so "nothing removed from it" stays true (second reading s12). Whole services are removed by
        # deleting grants, never by a Deny, so only the rule's single actions can reach across policies.
        skipped = [
            removed.split(" (from ", 1)[0]
            for policy, rewrite in rewrites
            if (policy, rewrite) not in accepted
            for removed in rewrite.removed
        ]
        given_back = frozenset(action for action in rule.actions if any(action_matches(p, action) for p in skipped))
        all_notes.extend(limit_notes)
        if not given_back:
            break
        all_notes.append(
            f"kept {', '.join(sorted(given_back))}: a policy skipped for IAM's limits grants "
            f"{'it' if len(given_back) == 1 else 'them'}, and a Deny elsewhere in the role would take "
            f"{'it' if len(given_back) == 1 else 'them'} from that policy too"
        )
        rule = RemovalRule(rule.services, rule.actions - given_back, rule.keep)
    all_notes.extend(rewrite_notes)

    all_notes.extend(_method_notes(accepted))
    changes = tuple(
        PolicyChange(
            key=policy.key,
            source=policy.source,
            name=policy.name,
            arn=policy.arn,
            method=_method(policy, rewrite),
            before=policy.document,
            after=rewrite.document,
            removed=rewrite.removed,
            edits=tuple(edit.to_dict() for edit in rewrite.edits),
            recent=tuple(sorted(recent.get(policy.key, frozenset()))),
            undeniable=tuple(sorted(undeniable)),
        )
        for policy, rewrite in accepted
    )
    return PrunePlan(
        plan_id=plan_id_for(role.arn, now),
        account=role.account,
        role_arn=role.arn,
        role_name=role.name,
        created_at=now.isoformat(),
        policies_hash=role.policies_hash(),
        rule=rule,
        changes=changes,
        notes=tuple(dict.fromkeys(all_notes)),
        owners=owners,
        rewrite_version=REWRITE_VERSION,
    )


def kept_grants(
    role: RoleFacts, rule: RemovalRule, recent: Mapping[str, frozenset[str]], exempt_sid_prefix: str
) -> frozenset[str]:
    """The rule's actions that some statement the pruner keeps as it is grants: a recent grant, a NOPRUNE
    statement, a cross-service wildcard or a recent NotAction statement, in any policy of the role.

    An explicit Deny wins over every Allow of the role, so denying one of these would take away a grant the
    plan says it keeps (review s12 F1): they are never denied."""
    found: set[str] = set()
    for policy in role.policies:
        young = recent.get(policy.key, frozenset())
        raw = policy.document.get("Statement", [])
        for statement in [raw] if isinstance(raw, dict) else list(raw):
            if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
                continue
            sid = statement.get("Sid")
            exempt = isinstance(sid, str) and bool(exempt_sid_prefix) and sid.startswith(exempt_sid_prefix)
            if "NotAction" in statement:
                excluded = _patterns(statement.get("NotAction"))
                if exempt or any(f"notaction:{pattern.lower()}" in young for pattern in excluded):
                    found.update(a for a in rule.actions if not any(action_matches(p, a) for p in excluded))
                continue
            for pattern in _patterns(statement.get("Action")):
                lowered = pattern.lower()
                service, separator, _ = lowered.partition(":")
                across = not separator or "*" in service or "?" in service
                if exempt or across or f"action:{lowered}" in young:
                    found.update(a for a in rule.actions if action_matches(lowered, a))
    return frozenset(found)


def _patterns(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def rewrite_change(
    change: PolicyChange,
    rule: RemovalRule,
    catalogue: ActionCatalogue,
    exempt_sid_prefix: str,
    version: int = REWRITE_VERSION,
) -> dict[str, Any] | None:
    """The document ``change`` would have with ``rule`` instead of the plan's rule (partial rollback), made the
    way the plan's own rewrite version made it."""
    if rule.empty:
        return dict(change.before)
    return _rewrite(change, rule, catalogue, exempt_sid_prefix, version=version).document


def _rewrite(
    change: PolicyChange,
    rule: RemovalRule,
    catalogue: ActionCatalogue,
    exempt_sid_prefix: str,
    *,
    version: int,
    label: str = "policy",
) -> Rewrite:
    return rewrite_policy(
        change.before,
        rule,
        catalogue,
        recent=frozenset(change.recent),
        exempt_sid_prefix=exempt_sid_prefix,
        label=label,
        undeniable=frozenset(change.undeniable),
        version=version,
    )


def plan_discrepancies(
    plan: PrunePlan, live: tuple[RolePolicy, ...], catalogue: ActionCatalogue, exempt_sid_prefix: str
) -> list[str]:
    """Where a stored plan differs from what the pruner itself would write for the role as it is now.

    The plan sits in a DynamoDB table between its announcement and its date, and a write to that
    table is no event any rule sees. So before acting the pruner does not trust the item: the id
    must be the one its role and time give, every change must name a policy the role holds now with
    exactly the stored before-document, and every after-document, removal list and method must be
    what the plan's rule makes of that before-document. A rewrite only removes, so a plan that
    passes can take away but never grant.
    """
    problems: list[str] = []
    role = parse_role_arn(plan.role_arn)
    if role is None or role.name != plan.role_name or role.account != plan.account:
        problems.append(f"role {plan.role_name} in account {plan.account} is not the plan's role {plan.role_arn}")
    try:
        created = datetime.fromisoformat(plan.created_at)
    except ValueError:
        problems.append(f"its creation time {plan.created_at!r} is not a time")
    else:
        if plan_id_for(plan.role_arn, created) != plan.plan_id:
            problems.append(f"its id is not the one role {plan.role_arn} and time {plan.created_at} give")
    held = {policy.key: policy for policy in live}
    keys = [change.key for change in plan.changes]
    if len(set(keys)) != len(keys):
        problems.append("it changes one policy twice")
    for change in plan.changes:
        policy = held.get(change.key)
        if policy is None or (policy.source, policy.name, policy.arn) != (change.source, change.name, change.arn):
            problems.append(f"{change.key} is not a policy of role {plan.role_name}")
            continue
        if canonical_json(policy.document) != canonical_json(change.before):
            problems.append(f"the before-document of {change.key} is not the role's")
            continue
        problems.extend(
            _rewrite_discrepancies(
                change, plan.rule, catalogue, exempt_sid_prefix, policy, version=plan.rewrite_version
            )
        )
    return problems


def rewrite_discrepancies(plan: PrunePlan, catalogue: ActionCatalogue, exempt_sid_prefix: str) -> list[str]:
    """Where a plan's after-documents are not what its rule makes of its before-documents (for a rollback).

    After an apply the before-documents are no longer live, so a rollback can only hold the item
    to its own arithmetic: the id its role and time give, and every after the rule's rewrite of its before.
    """
    problems: list[str] = []
    try:
        created = datetime.fromisoformat(plan.created_at)
    except ValueError:
        created = None
    if created is None or plan_id_for(plan.role_arn, created) != plan.plan_id:
        problems.append(f"its id is not the one role {plan.role_arn} and time {plan.created_at} give")
    for change in plan.changes:
        problems.extend(
            _rewrite_discrepancies(change, plan.rule, catalogue, exempt_sid_prefix, None, version=plan.rewrite_version)
        )
    return problems


def _rewrite_discrepancies(
    change: PolicyChange,
    rule: RemovalRule,
    catalogue: ActionCatalogue,
    exempt_sid_prefix: str,
    policy: RolePolicy | None,
    *,
    version: int,
) -> list[str]:
    rewrite = _rewrite(change, rule, catalogue, exempt_sid_prefix, version=version)
    after = None if rewrite.document is None else canonical_json(rewrite.document)
    stored = None if change.after is None else canonical_json(change.after)
    problems = []
    if after != stored:
        problems.append(f"the after-document of {change.key} is not what removing the plan's rule from it gives")
    elif tuple(rewrite.removed) != tuple(change.removed):
        problems.append(f"what the plan says it removes from {change.key} is not what its rule removes")
    if policy is not None and _method(policy, rewrite) is not change.method:
        problems.append(f"{change.key} would be changed by {_method(policy, rewrite).value}, not {change.method.value}")
    return problems


#: Services whose removal changes who can grant or govern access: a person decides, never a date (review s11 F22).
ADMIN_SERVICES = frozenset({"iam", "organizations"})


def admin_removals(plan: PrunePlan) -> tuple[str, ...]:
    """What the plan removes that is admin-equivalent (a cross-service wildcard, or a wildcard or whole service of
    ``ADMIN_SERVICES``): such a plan needs a person and is never applied on a date."""
    found: list[str] = []
    for change in plan.changes:
        for item in change.removed:
            pattern = item.split(" (from ", 1)[-1].rstrip(")") if " (from " in item else item
            service, _, name = pattern.lower().partition(":")
            wildcard_service = not name or "*" in service or "?" in service
            if wildcard_service or (
                service in ADMIN_SERVICES and ("*" in name or "?" in name or service in plan.rule.services)
            ):
                found.append(item)
    return tuple(dict.fromkeys(found))


def narrowed_plan(
    plan: PrunePlan,
    rule: RemovalRule,
    live: tuple[RolePolicy, ...],
    catalogue: ActionCatalogue,
    exempt_sid_prefix: str,
) -> PrunePlan:
    """The plan with ``rule`` (a part of its own) instead of its rule: every after-document rewritten from its
    before-document, changes that remove nothing any more left out. Used on the apply date (review s11 F8)."""
    held = {policy.key: policy for policy in live}
    changes: list[PolicyChange] = []
    for change in plan.changes:
        policy = held.get(change.key)
        rewrite = _rewrite(
            change,
            rule,
            catalogue,
            exempt_sid_prefix,
            version=plan.rewrite_version,
            label=_label(policy) if policy else change.key,
        )
        if not rewrite.changed or policy is None:
            continue
        changes.append(
            change._replace(
                method=_method(policy, rewrite),
                after=rewrite.document,
                removed=rewrite.removed,
                edits=tuple(edit.to_dict() for edit in rewrite.edits),
            )
        )
    return plan._replace(rule=rule, changes=tuple(changes))


def _overgrown(policy: RolePolicy, rewrite: Rewrite, max_growth: int) -> dict[str, str]:
    """Services whose expanded wildcards would take the policy past a size limit or ``max_growth``; and why."""
    if rewrite.document is None or not rewrite.expansions:
        return {}
    before, after = iam_size(policy.document), iam_size(rewrite.document)
    limit = MANAGED_POLICY_LIMIT if policy.managed else ROLE_INLINE_LIMIT
    if after > limit:
        why = f"over IAM's {limit:,} character limit"
    elif after > max_growth * before:
        why = f"more than max_growth ({max_growth}x)"
    else:
        return {}
    reasons: dict[str, str] = {}
    for expansion in rewrite.expansions:
        reasons.setdefault(
            expansion.service,
            f"kept {expansion.pattern} in {_label(policy)}: removing part of it means listing "
            f"{expansion.into} actions, {before:,} -> {after:,} characters, {why}; "
            f"nothing removed from {expansion.service}",
        )
    return reasons


def _method_notes(accepted: list[tuple[RolePolicy, Rewrite]]) -> list[str]:
    """What the chosen methods mean beyond the diff (review s11 F12): a Deny beside a kept wildcard, a frozen copy."""
    notes: list[str] = []
    for policy, rewrite in accepted:
        for edit in rewrite.edits:
            if edit.denied:
                notes.append(
                    f"{_label(policy)} statement {edit.position}: its wildcards stay (actions the catalogue does not "
                    f"list stay granted); Deny statement {edit.deny_sid} takes away exactly {', '.join(edit.denied)} "
                    "over the same resources, also from any later grant, until rolled back"
                )
        if rewrite.document is not None and _method(policy, rewrite) is Method.COPY:
            notes.append(
                f"{_label(policy)} is {_why_copied(policy)}: a "
                "role-scoped pruned copy replaces it, frozen as it is today; later updates of the original "
                "(new actions its service needs) no longer reach this role"
            )
    return notes


def _why_copied(policy: RolePolicy) -> str:
    if policy.source is PolicySource.AWS_MANAGED:
        return "AWS managed"
    if not policy.edited_in_place:
        return "shared"
    return "customer managed and gets a Deny that must reach this role only (other principals may attach it later)"


def _label(policy: RolePolicy) -> str:
    return f"inline policy {policy.name}" if policy.source is PolicySource.INLINE else f"policy {policy.name}"


def _method(policy: RolePolicy, rewrite: Rewrite) -> Method:
    if policy.source is PolicySource.INLINE:
        return Method.DELETE_INLINE if rewrite.document is None else Method.PUT_INLINE
    if rewrite.document is None:
        return Method.DETACH
    if any(edit.denied for edit in rewrite.edits):  # a Deny reaches this role only: never into a reusable policy
        return Method.COPY
    return Method.NEW_VERSION if policy.edited_in_place else Method.COPY


def _within_limits(
    role: RoleFacts, rewrites: list[tuple[RolePolicy, Rewrite]], notes: list[str]
) -> list[tuple[RolePolicy, Rewrite]]:
    accepted: list[tuple[RolePolicy, Rewrite]] = []
    for policy, rewrite in rewrites:
        if policy.managed and rewrite.document is not None:
            size = iam_size(rewrite.document)
            if size > MANAGED_POLICY_LIMIT:
                notes.append(
                    f"skipped {_label(policy)}: pruned it would be {size} characters, over IAM's "
                    f"{MANAGED_POLICY_LIMIT} limit for a managed policy; nothing removed from it"
                )
                continue
        accepted.append((policy, rewrite))

    def inline_total(chosen: list[tuple[RolePolicy, Rewrite]]) -> int:
        after = {policy.key: rewrite.document for policy, rewrite in chosen if policy.source is PolicySource.INLINE}
        total = 0
        for policy in role.policies:
            if policy.source is PolicySource.INLINE:
                document = after.get(policy.key, policy.document)
                total += iam_size(document) if document is not None else 0
        return total

    total = inline_total(accepted)
    if total > ROLE_INLINE_LIMIT:
        growing = sorted(
            (
                (iam_size(rewrite.document) - iam_size(policy.document), policy, rewrite)
                for policy, rewrite in accepted
                if policy.source is PolicySource.INLINE and rewrite.document is not None
            ),
            key=lambda item: -item[0],
        )
        for growth, policy, rewrite in growing:
            if total <= ROLE_INLINE_LIMIT or growth <= 0:
                break
            accepted.remove((policy, rewrite))
            total = inline_total(accepted)
            notes.append(
                f"skipped {_label(policy)}: expanding its wildcards would take the role's inline policies "
                f"over IAM's {ROLE_INLINE_LIMIT} character limit; nothing removed from it"
            )
    return accepted


def deny_advice(plan: PrunePlan, action: str | None = None) -> str:
    """How to lift the plan's Deny statements (of ``action`` only, when given), for notices; "" when it has none.

    Granting the action again does not bring it back (an explicit Deny wins over every Allow), and a changed role
    makes ``rollback`` refuse, so the notice names the statement to remove (review s12 F4)."""
    places = [
        f"statement {edit['deny_sid']} of "
        + (f"the pruned copy of {change.name}" if change.method is Method.COPY else f"policy {change.name}")
        for change in plan.changes
        for edit in change.edits
        if edit.get("denied")
        and edit.get("deny_sid")
        and (action is None or action.lower() in {str(item).lower() for item in edit["denied"]})
    ]
    if not places:
        return ""
    return (
        " Granting it again in another policy does not help: the Deny statement IAM Warden added wins over every "
        f"Allow. To lift it: roll back, or remove {'; '.join(places)}."
    )


def render_diff(plan: PrunePlan) -> str:
    """The plan as people read it: what goes from which policy, what is kept and why."""
    lines = [f"plan {plan.plan_id} for {plan.role_arn} ({plan.status.value})"]
    if plan.apply_on:
        lines.append(f"applies on {plan.apply_on}" if plan.mode == "enforce" else f"would apply on {plan.apply_on}")
    if plan.rule.services:
        lines.append(f"unused services: {', '.join(sorted(plan.rule.services))}")
    if plan.rule.actions:
        lines.append(f"unused tracked actions: {', '.join(sorted(plan.rule.actions))}")
    if not plan.changes:
        lines.append("nothing to remove")
    for change in plan.changes:
        verb = {
            Method.PUT_INLINE: "rewrite inline policy",
            Method.DELETE_INLINE: "delete inline policy (nothing left)",
            Method.NEW_VERSION: "new default version of",
            Method.COPY: "replace with a role-scoped pruned copy:",
            Method.DETACH: "detach (nothing left)",
        }[change.method]
        lines.append(f"  {verb} {change.arn or change.name}")
        denying = {item["pattern"] for edit in change.edits if edit.get("denied") for item in edit["expanded"]}
        expansions = [
            item for edit in change.edits for item in edit.get("expanded", ()) if item["pattern"] not in denying
        ]
        for edit in change.edits:
            if edit.get("denied"):
                lines.append(f"    + Deny {', '.join(edit['denied'])}   [statement {edit['deny_sid']}]")
        if expansions and change.after is not None:
            grown = ", ".join(f"{item['pattern']} into {item['into']} actions" for item in expansions)
            lines.append(f"    expands {grown}: {iam_size(change.before):,} -> {iam_size(change.after):,} characters")
        for edit in change.edits:
            label = f"statement {edit['position']}" + (f" ({edit['sid']})" if edit.get("sid") else "")
            for item in edit["removed"]:
                lines.append(f"    - {item}   [{label}{', statement dropped' if edit['dropped'] else ''}]")
            for item in edit["excluded"]:
                lines.append(f"    - {item}   [{label}: added to NotAction]")
    for note in plan.notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines) + "\n"
