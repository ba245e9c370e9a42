"""Rewrite one policy document so it grants exactly what it did, minus what a ``RemovalRule`` removes.

Only the Action lists of Allow statements change (and NotAction lists of
Allow/NotAction statements grow). Resource, Condition, Principal, Deny
statements and statements whose Sid starts with the exempt prefix are copied
unchanged. A wildcard of a wholly unused service is expanded through the
action catalogue only when part of it must stay (a kept action); a wildcard of
a used service losing a few tracked actions is kept, and a Deny statement
(Sid ``IamWardenPruned<position>``, same Resource and Condition) takes exactly
those actions away, so every action the catalogue does not list (anything AWS
added since its snapshot) stays granted (review s11 F12); a wildcard across
services (``*``, ``*:Get*``) is never narrowed.
Statements left with no action are dropped; a document left with no statement
is None (delete or detach it). The rewrite is deterministic, so a partial
rollback is the same rewrite with fewer removals.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, NamedTuple

from iamwarden.domain.policy import action_matches
from iamwarden.domain.wildcards import wildcard_match
from iamwarden.prune.domain.catalogue import ActionCatalogue
from iamwarden.prune.domain.decide import RemovalRule

#: How a used service's wildcard is narrowed: 1 = main's expansion into the catalogue's other actions (plans made
#: before the Deny; a plan without a version is 1), 2 = the wildcard stays and a Deny takes the unused ones (F12).
REWRITE_VERSION = 2


class Expansion(NamedTuple):
    """A wildcard (``s3:*``) narrowed by listing ``into`` actions: those of it that stay (a wholly unused service
    with a kept action), or those a Deny statement takes away (a used service)."""

    pattern: str
    into: int

    @property
    def service(self) -> str:
        return self.pattern.partition(":")[0].lower()

    def to_dict(self) -> dict[str, Any]:
        return {"pattern": self.pattern, "into": self.into}


class StatementEdit(NamedTuple):
    """What changed in one statement (by its position in the original document)."""

    position: int
    sid: str | None
    removed: tuple[str, ...] = ()  # action patterns or expanded actions no longer granted
    excluded: tuple[str, ...] = ()  # patterns added to a NotAction list
    dropped: bool = False
    expanded: tuple[Expansion, ...] = ()  # wildcards replaced by the actions of theirs that stay
    denied: tuple[str, ...] = ()  # actions a Deny statement beside it takes away (its wildcards stay)
    deny_sid: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "sid": self.sid,
            "removed": list(self.removed),
            "excluded": list(self.excluded),
            "dropped": self.dropped,
            "expanded": [expansion.to_dict() for expansion in self.expanded],
            "denied": list(self.denied),
            "deny_sid": self.deny_sid,
        }


class Rewrite(NamedTuple):
    document: dict[str, Any] | None
    edits: tuple[StatementEdit, ...]
    notes: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.edits)

    @property
    def removed(self) -> tuple[str, ...]:
        return tuple(item for edit in self.edits for item in (*edit.removed, *edit.excluded))

    @property
    def expansions(self) -> tuple[Expansion, ...]:
        return tuple(expansion for edit in self.edits for expansion in edit.expanded)


def rewrite_policy(
    document: Mapping[str, Any],
    rule: RemovalRule,
    catalogue: ActionCatalogue,
    *,
    recent: frozenset[str] = frozenset(),
    exempt_sid_prefix: str = "NOPRUNE",
    label: str = "policy",
    undeniable: frozenset[str] = frozenset(),
    version: int = REWRITE_VERSION,
) -> Rewrite:
    """The rewritten document (None if nothing is left), the per-statement edits and notes for people.

    ``undeniable``: actions some statement the pruner keeps grants (a recent grant, a NOPRUNE statement, a
    cross-service wildcard, in any policy of the role); a Deny would take them from that statement too, so they
    are never denied and stay granted (review s12 F1). ``version``: the plan's rewrite version (``REWRITE_VERSION``).
    """
    raw = document.get("Statement", [])
    single = isinstance(raw, dict)
    statements: list[Any] = [raw] if single else list(raw)
    kept: list[Any] = []
    edits: list[StatementEdit] = []
    notes: list[str] = []
    sids = {str(item.get("Sid")) for item in statements if isinstance(item, dict) and item.get("Sid")}
    for position, statement in enumerate(statements):
        if not isinstance(statement, dict) or rule.empty:
            kept.append(copy.deepcopy(statement))
            continue
        sid = statement.get("Sid") if isinstance(statement.get("Sid"), str) else None
        where = f"{label} statement {position}" + (f" ({sid})" if sid else "")
        if statement.get("Effect") != "Allow" or (sid and exempt_sid_prefix and sid.startswith(exempt_sid_prefix)):
            kept.append(copy.deepcopy(statement))
            continue
        narrower = _Narrower(rule, catalogue, recent, notes, where, undeniable, version)
        if "NotAction" in statement:
            new, edit = narrower.not_action(statement, position, sid)
        else:
            new, edit = narrower.action(statement, position, sid)
        if edit is not None and edit.denied:
            deny_sid = _free_sid(f"IamWardenPruned{position}", sids)
            sids.add(deny_sid)
            edit = edit._replace(deny_sid=deny_sid)
        if edit is not None:
            edits.append(edit)
        if new is not None:
            kept.append(new)
        if edit is not None and edit.denied and edit.deny_sid:
            kept.append(_deny(statement, edit.denied, edit.deny_sid))
    if not edits:
        return Rewrite(copy.deepcopy(dict(document)), (), tuple(notes))
    if not kept:
        return Rewrite(None, tuple(edits), tuple(notes))
    result = copy.deepcopy(dict(document))
    result["Statement"] = kept[0] if single and len(kept) == 1 else kept
    return Rewrite(result, tuple(edits), tuple(notes))


def _free_sid(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    return next(f"{base}n{number}" for number in range(2, len(taken) + 3) if f"{base}n{number}" not in taken)


def _deny(statement: Mapping[str, Any], actions: tuple[str, ...], sid: str) -> dict[str, Any]:
    """A Deny of exactly ``actions`` over what ``statement`` granted them on (its Resource and Condition)."""
    deny: dict[str, Any] = {"Sid": sid, "Effect": "Deny", "Action": list(actions)}
    for key in ("Resource", "NotResource", "Condition"):
        if key in statement:
            deny[key] = copy.deepcopy(statement[key])
    return deny


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _touches(rule: RemovalRule, service_pattern: str) -> bool:
    return any(wildcard_match(service_pattern, service) for service in rule.services) or any(
        wildcard_match(service_pattern, action.partition(":")[0]) for action in rule.actions
    )


class _Narrower(NamedTuple):
    """Narrows one statement; collects notes on what it had to keep."""

    rule: RemovalRule
    catalogue: ActionCatalogue
    recent: frozenset[str]
    notes: list[str]
    where: str
    undeniable: frozenset[str] = frozenset()
    version: int = REWRITE_VERSION

    def action(
        self, statement: Mapping[str, Any], position: int, sid: str | None
    ) -> tuple[dict[str, Any] | None, StatementEdit | None]:
        return _narrow_action(self, statement, position, sid)

    def not_action(
        self, statement: Mapping[str, Any], position: int, sid: str | None
    ) -> tuple[dict[str, Any] | None, StatementEdit | None]:
        return _narrow_not_action(self, statement, position, sid)


def _narrow_action(
    context: _Narrower, statement: Mapping[str, Any], position: int, sid: str | None
) -> tuple[dict[str, Any] | None, StatementEdit | None]:
    rule, catalogue, recent, notes, where = context[:5]
    original = statement.get("Action")
    patterns = _strings(original)
    result: list[str] = []
    removed: list[str] = []
    expanded: list[Expansion] = []
    denied: list[str] = []
    for pattern in patterns:
        lowered = pattern.lower()
        service, separator, name = lowered.partition(":")
        if f"action:{lowered}" in recent:
            result.append(pattern)
            if _touches(rule, service or "*"):
                notes.append(f"kept {pattern} in {where}: granted less than recent_days ago")
            continue
        if not separator or "*" in service or "?" in service:
            result.append(pattern)
            if _touches(rule, service if separator else "*"):
                notes.append(f"kept {pattern} in {where}: a wildcard across services is never narrowed")
            continue
        if "*" not in name and "?" not in name:
            (removed if rule.removes(lowered) else result).append(pattern)
            continue
        if service in rule.services and not rule.keeps_part_of(service):
            removed.append(pattern)
            continue
        if service not in rule.services and not any(action.startswith(f"{service}:") for action in rule.actions):
            result.append(pattern)
            continue
        if service not in rule.services and context.version >= 2:  # a used service: the wildcard stays, a Deny ...
            matching = sorted(a for a in rule.actions if action_matches(lowered, a) and rule.removes(a))
            gone = [action for action in matching if action not in context.undeniable]
            for action in matching:
                if action in context.undeniable:
                    notes.append(
                        f"kept {action} (from {pattern}) in {where}: a statement the pruner keeps also grants it "
                        "(a recent grant, a NOPRUNE statement or a cross-service wildcard); a Deny would take it "
                        "from that statement too"
                    )
            result.append(pattern)
            if gone:
                names = {name.lower(): name for name in catalogue.actions(service) or ()}
                spelled = [names.get(action, action) for action in gone]
                denied.extend(spelled)
                removed.extend(f"{action} (from {pattern})" for action in spelled)
                expanded.append(Expansion(pattern, len(spelled)))
            continue
        known = catalogue.actions(service)
        if known is None:
            result.append(pattern)
            notes.append(f"kept {pattern} in {where}: service {service} is not in the IAM action catalogue")
            continue
        matched = [action for action in known if action_matches(lowered, action)]
        gone = [action for action in matched if rule.removes(action)]
        if not gone:
            result.append(pattern)
        elif len(gone) == len(matched):
            removed.append(pattern)
        else:
            staying = [action for action in matched if not rule.removes(action)]
            result.extend(staying)
            removed.extend(f"{action} (from {pattern})" for action in gone)
            expanded.append(Expansion(pattern, len(staying)))
    if not removed:
        return copy.deepcopy(dict(statement)), None
    unique = list(dict.fromkeys(result))
    if not unique:
        return None, StatementEdit(position, sid, tuple(removed), dropped=True)
    new = copy.deepcopy(dict(statement))
    new["Action"] = unique[0] if isinstance(original, str) and len(unique) == 1 else unique
    deny = tuple(dict.fromkeys(denied))
    return new, StatementEdit(position, sid, tuple(removed), expanded=tuple(expanded), denied=deny)


def _narrow_not_action(
    context: _Narrower, statement: Mapping[str, Any], position: int, sid: str | None
) -> tuple[dict[str, Any] | None, StatementEdit | None]:
    """Allow + NotAction grants every action not listed; removing one means listing it."""
    rule, catalogue, recent, notes, where = context[:5]
    original = statement.get("NotAction")
    excluded = _strings(original)
    if any(f"notaction:{pattern.lower()}" in recent for pattern in excluded):
        notes.append(f"kept {where}: its NotAction list changed less than recent_days ago")
        return copy.deepcopy(dict(statement)), None

    def granted(action: str) -> bool:
        return not any(action_matches(pattern, action) for pattern in excluded)

    additions: list[str] = []
    for service in sorted(rule.services):
        if not granted(f"{service}:*"):  # the statement already excludes the whole service
            continue
        if not rule.keeps_part_of(service):
            additions.append(f"{service}:*")
            continue
        known = catalogue.actions(service)
        if known is None:
            notes.append(f"kept {service} in {where}: service {service} is not in the IAM action catalogue")
            continue
        additions.extend(action for action in known if rule.removes(action) and granted(action))
    for action in sorted(rule.actions):
        service = action.partition(":")[0]
        if service in rule.services or not rule.removes(action) or not granted(action):
            continue
        known = catalogue.actions(service) or ()
        additions.append(next((name for name in known if name.lower() == action), action))
    if not additions:
        return copy.deepcopy(dict(statement)), None
    new = copy.deepcopy(dict(statement))
    new["NotAction"] = [*excluded, *additions]
    return new, StatementEdit(position, sid, excluded=tuple(additions))
