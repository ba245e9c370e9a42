"""What may go from a role: plain functions over facts, fail closed at every doubt.

* A service is unused when Access Advisor lists it and it was not
  authenticated to within ``unused_days``. A service Access Advisor does not
  list is kept.
* Inside a used service, an action is unused only when Access Advisor tracks
  it and shows it unused. Untracked actions (data-plane actions,
  iam:PassRole) go only with their whole service.
* Nothing on the always-keep list or the role's exempt actions ever goes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from iamwarden.domain.policy import action_matches
from iamwarden.domain.prune_tag import EXEMPT_TAG, tag_date
from iamwarden.domain.wildcards import wildcard_match
from iamwarden.prune.domain.model import AccessReport, RoleFacts
from iamwarden.prune.domain.settings import PruneSettings

SERVICE_LINKED_PATH = "/aws-service-role/"
IDENTITY_CENTER_PATH = "/aws-reserved/sso.amazonaws.com/"


class RemovalRule(NamedTuple):
    """Which concrete actions go: whole services, single tracked actions, minus the kept patterns."""

    services: frozenset[str]
    actions: frozenset[str]
    keep: tuple[str, ...] = ()

    def removes(self, action: str) -> bool:
        """Whether the concrete action ``service:Name`` (any case) goes."""
        lowered = action.lower()
        service = lowered.partition(":")[0]
        if service not in self.services and lowered not in self.actions:
            return False
        return not any(action_matches(pattern, lowered) for pattern in self.keep)

    def keeps_part_of(self, service: str) -> bool:
        """Whether a kept pattern could reach into ``service`` (so ``service:*`` cannot simply go)."""
        return any(wildcard_match(pattern.partition(":")[0].lower(), service) for pattern in self.keep)

    def without(self, services: Iterable[str]) -> RemovalRule:
        """The same rule with ``services`` given back (a partial rollback)."""
        back = {service.lower() for service in services}
        return RemovalRule(
            self.services - back,
            frozenset(action for action in self.actions if action.partition(":")[0] not in back),
            self.keep,
        )

    @property
    def empty(self) -> bool:
        return not self.services and not self.actions

    def to_dict(self) -> dict[str, Any]:
        return {"services": sorted(self.services), "actions": sorted(self.actions), "keep": list(self.keep)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RemovalRule:
        return cls(frozenset(data["services"]), frozenset(data["actions"]), tuple(data["keep"]))


def skip_reason(
    role: RoleFacts, settings: PruneSettings, now: datetime, ledger: Mapping[str, str] | None = None
) -> str | None:
    """Why this role is never pruned now, or None. ``ledger``: when the pruner first saw the exempt tag's value."""
    if role.path.startswith(SERVICE_LINKED_PATH):
        return "service-linked role (managed by its AWS service)"
    if role.path.startswith(IDENTITY_CENTER_PATH) or role.name.startswith("AWSReservedSSO_"):
        return "IAM Identity Center role (managed by its permission set)"
    if settings.is_own_role(role.arn, role.account):  # by exact identity, never by name (review s11 F4)
        return "one of IAM Warden's own roles"
    exempt = settings.exempt_role_reason(role.name, role.arn)
    if exempt:
        return exempt
    until = exempt_until(role, settings, now, ledger or {})
    if until is not None and until >= now.date():
        return f"exempted by tag {settings.exempt_tag} until {until.isoformat()}{_capped(role, settings, until)}"
    age = now - role.created
    if age < timedelta(days=settings.min_role_age_days):
        return f"created {age.days} days ago, younger than min_role_age_days ({settings.min_role_age_days})"
    return None


def exempt_until(role: RoleFacts, settings: PruneSettings, now: datetime, ledger: Mapping[str, str]) -> date | None:
    """The last day the exempt tag exempts the role: its date, capped at ``max_exempt_days`` after the day the
    pruner first saw the tag on the role with any value (review s11 F17, s12 F6: one tag must not exempt a role for
    ever, and a new value or a re-tag does not renew it); None when there is no tag or its value is no
    ``YYYY-MM-DD`` date (no exemption: ``exemption_notes`` says so)."""
    value = role.tags.get(settings.exempt_tag)
    if value is None:
        return None
    until = _tag_date(value)
    if until is None:
        return None
    seen = ledger.get(exempt_tag_first_key(settings.exempt_tag))
    first = datetime.fromisoformat(seen).date() if seen else now.date()
    return min(until, first + timedelta(days=settings.max_exempt_days))


def _capped(role: RoleFacts, settings: PruneSettings, until: date) -> str:
    asked = role.tags.get(settings.exempt_tag, "").strip()
    if asked == until.isoformat():
        return ""
    return f" (the tag asks for {asked}; an exemption lasts at most max_exempt_days ({settings.max_exempt_days}))"


def exemption_notes(
    role: RoleFacts, settings: PruneSettings, now: datetime, ledger: Mapping[str, str]
) -> tuple[str, ...]:
    """What a plan says about exemptions someone claimed for the role, so a person sees them (F17)."""
    notes: list[str] = []
    value = role.tags.get(settings.exempt_tag)
    if value is not None:
        until = exempt_until(role, settings, now, ledger)
        if until is None:
            notes.append(
                f"tag {settings.exempt_tag}={value!r} is not a date (YYYY-MM-DD): no exemption, the role is judged "
                "like any other"
            )
        elif until < now.date():
            notes.append(f"tag {settings.exempt_tag}={value!r} exempted the role until {until.isoformat()}: expired")
    prefix = settings.exempt_sid_prefix
    for policy in role.policies:
        for position, statement in enumerate(_statements(policy.document)):
            sid = statement.get("Sid")
            if prefix and isinstance(sid, str) and sid.startswith(prefix) and statement.get("Effect") == "Allow":
                notes.append(
                    f"statement {position} ({sid}) of {policy.key} is exempt by its Sid prefix {prefix}: never pruned"
                )
    return tuple(notes)


_tag_date = tag_date  # the shared parser (iamwarden.domain.prune_tag), also the guardrail's


def exempt_tag_first_key(tag: str) -> str:
    """The ledger key that remembers when the pruner first saw the exempt tag on the role, whatever its value;
    never dropped, so removing and re-adding the tag does not renew the cap (review s12 F6)."""
    return f"exempt-tag|{tag}"


def exempt_tag_key(tag: str, value: str) -> str:
    """The ledger key that remembers when the pruner first saw an exempt tag's value."""
    return f"exempt-tag|{tag}={value.strip()}"


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    return [item for item in statements if isinstance(item, dict)] if isinstance(statements, list) else []


def unused_rule(report: AccessReport, settings: PruneSettings, role: RoleFacts, now: datetime) -> RemovalRule:
    """The removal rule Access Advisor supports: unused services, and unused tracked actions of used ones."""
    cutoff = now - timedelta(days=settings.unused_days)
    services: set[str] = set()
    actions: set[str] = set()
    for namespace, access in report.services.items():
        if access.last_authenticated is None or access.last_authenticated < cutoff:
            services.add(namespace)
            continue
        for action, last in (access.tracked_actions or {}).items():
            if last is None or last < cutoff:
                actions.add(action)
    return RemovalRule(frozenset(services), frozenset(actions), settings.kept_actions(role.name, role.arn))


def still_unused(rule: RemovalRule, fresh: RemovalRule) -> tuple[RemovalRule, tuple[str, ...]]:
    """The part of a frozen ``rule`` that a fresh report still shows unused, and what was used since (review s11 F8).

    A service stays only if it is still wholly unused; a tracked action stays if it, or its whole service, is
    still unused. Everything else is given back: the plan may only shrink between its announcement and its date.
    """
    services = rule.services & fresh.services
    actions = frozenset(
        action for action in rule.actions if action in fresh.actions or action.partition(":")[0] in fresh.services
    )
    dropped = tuple(sorted((rule.services - services) | (rule.actions - actions)))
    return RemovalRule(services, actions, rule.keep), dropped


def recent_grants(
    role: RoleFacts, ledger: Mapping[str, str], settings: PruneSettings, now: datetime
) -> dict[str, frozenset[str]]:
    """Policy key -> action patterns granted for less than ``recent_days`` (kept untouched).

    The ledger records when the pruner first saw each (policy, pattern) on
    this role. Only the ledger counts: an old managed policy attached
    yesterday is a new grant to this role. A pattern seen for the first time
    today is recent, so the pruner waits before touching it.
    """
    cutoff = now - timedelta(days=settings.recent_days)
    recent: dict[str, frozenset[str]] = {}
    for policy in role.policies:
        young = set()
        for pattern in policy_patterns(policy.document):
            seen = ledger.get(ledger_key(policy.key, pattern))
            if seen is None or datetime.fromisoformat(seen) > cutoff:
                young.add(pattern)
        if young:
            recent[policy.key] = frozenset(young)
    return recent


def warming_up(role: RoleFacts, ledger: Mapping[str, str], settings: PruneSettings, now: datetime) -> str | None:
    """Why the role waits: the pruner has seen none of its grants for ``recent_days`` yet; or None.

    Every grant younger than ``recent_days`` is kept, so until one is older there
    is nothing the pruner may remove, whatever Access Advisor says.
    """
    seen = [
        datetime.fromisoformat(ledger.get(ledger_key(policy.key, pattern), now.isoformat()))
        for policy in role.policies
        for pattern in policy_patterns(policy.document)
    ]
    if not seen or min(seen) <= now - timedelta(days=settings.recent_days):
        return None
    ready = (min(seen) + timedelta(days=settings.recent_days)).date().isoformat()
    return (
        f"warming up: IAM Warden first saw this role's grants on {min(seen).date().isoformat()} and keeps "
        f"grants younger than recent_days ({settings.recent_days}); its first plan can come on {ready}"
    )


def updated_ledger(
    role: RoleFacts, ledger: Mapping[str, str], now: datetime, exempt_tag: str = EXEMPT_TAG
) -> dict[str, str]:
    """The ledger for the role as it is now: dates kept for patterns still granted (and the exempt tag's value
    still set), today for new ones."""
    fresh: dict[str, str] = {}
    for policy in role.policies:
        for pattern in policy_patterns(policy.document):
            key = ledger_key(policy.key, pattern)
            fresh[key] = ledger.get(key, now.isoformat())
    first = exempt_tag_first_key(exempt_tag)
    value = role.tags.get(exempt_tag)
    if value is not None:
        key = exempt_tag_key(exempt_tag, value)
        fresh[key] = ledger.get(key, now.isoformat())
        fresh[first] = ledger.get(first, now.isoformat())
    elif first in ledger:
        fresh[first] = ledger[first]
    return fresh


def ledger_key(policy_key: str, pattern: str) -> str:
    return f"{policy_key}|{pattern.lower()}"


def policy_patterns(document: Mapping[str, Any]) -> set[str]:
    """Every Action and NotAction pattern of a document, lower case."""
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    patterns: set[str] = set()
    for statement in statements if isinstance(statements, list) else []:
        for key in ("Action", "NotAction"):
            value = statement.get(key) if isinstance(statement, dict) else None
            items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
            patterns.update(f"{key}:{item}".lower() for item in items if isinstance(item, str))
    return patterns
