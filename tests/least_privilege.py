"""Least privilege, checked both ways: every recorded call is allowed by a role's policies, every grant is used.

A ``Grant`` is one (policy, statement Sid, action, resource pattern) of an Allow statement as the template
writes it. ``check`` evaluates each recorded ``Call`` (its IAM action, the resource ARN IAM authorises it on
and its condition keys) with IAM Warden's own policy engine (``parse_policy``, its action and wildcard
matching; a matching Deny wins; every condition must hold), and marks each grant some call used. A grant no
call uses must be listed in ``unreached`` with why the run cannot reach it (the step that declares it, or the
AWS service that uses it for the function); a listed grant that a call did use, or that the role no longer
has, is reported too, so the list cannot go stale.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from iamwarden.domain.policy import Condition, Statement, action_matches, parse_policy
from iamwarden.domain.wildcards import wildcard_match


class Call(NamedTuple):
    """One AWS call as IAM authorises it."""

    action: str
    resource: str
    context: Mapping[str, str] = {}

    def __str__(self) -> str:
        return f"{self.action} on {self.resource}" + (f" {dict(self.context)}" if self.context else "")


class Grant(NamedTuple):
    """One action on one resource pattern of an Allow statement."""

    policy: str
    sid: str
    action: str
    resource: str

    def __str__(self) -> str:
        return f"{self.policy}/{self.sid}: {self.action} on {self.resource}"


class Report(NamedTuple):
    denied: tuple[Call, ...]
    unused: tuple[Grant, ...]
    #: Listed as unreached but used by a call, or not granted at all: the list is out of date.
    stale: tuple[Grant, ...]

    @property
    def holds(self) -> bool:
        return not self.denied and not self.unused and not self.stale

    def __str__(self) -> str:
        lines = [f"denied: {call}" for call in self.denied]
        lines += [f"granted but used by no call, and not listed as unreached: {grant}" for grant in self.unused]
        lines += [f"listed as unreached but used or not granted: {grant}" for grant in self.stale]
        return "\n".join(lines)


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _condition_holds(condition: Condition, context: Mapping[str, str]) -> bool:
    """One condition key test, as IAM evaluates it; a key the request does not carry never matches."""
    actual = context.get(condition.key)
    if actual is None:
        return condition.if_exists
    operator = condition.operator.lower()
    if operator in ("arnlike", "stringlike", "arnequals"):
        return any(wildcard_match(pattern, actual) for pattern in condition.values)
    if operator == "stringequals":
        return actual in condition.values
    raise AssertionError(f"the checker does not know the condition operator {condition.operator}")


def _applies(statement: Statement, call: Call, resources: Iterable[str]) -> bool:
    context = {key.lower(): value for key, value in call.context.items()}
    return (
        statement.grants_action(call.action)
        and any(wildcard_match(pattern, call.resource) for pattern in resources)
        and all(_condition_holds(condition, context) for condition in statement.conditions)
    )


def _parsed(policies: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[tuple[str, Mapping[str, Any], Statement]]:
    found = []
    for name, statements in policies.items():
        for raw in statements:
            [statement] = parse_policy({"Version": "2012-10-17", "Statement": [dict(raw)]}, field=name).statements
            found.append((name, raw, statement))
    return found


def grants_of(policies: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[Grant]:
    """Every action x resource pattern of the Allow statements of ``policies`` (policy name -> statements)."""
    return [
        Grant(name, str(raw.get("Sid", "")), action, resource)
        for name, raw, statement in _parsed(policies)
        if statement.allows
        for action in _listed(raw["Action"])
        for resource in _listed(raw["Resource"])
    ]


def check(
    calls: Iterable[Call], policies: Mapping[str, Sequence[Mapping[str, Any]]], unreached: Mapping[Grant, str]
) -> Report:
    """Every call allowed by ``policies``; every grant used by some call, or listed in ``unreached``."""
    parsed = _parsed(policies)
    denied: list[Call] = []
    used: set[Grant] = set()
    for call in calls:
        matching = [(name, raw, s) for name, raw, s in parsed if _applies(s, call, _listed(raw["Resource"]))]
        if not any(s.allows for _, _, s in matching) or any(not s.allows for _, _, s in matching):
            denied.append(call)
            continue
        for name, raw, statement in matching:
            if not statement.allows:
                continue
            for action in _listed(raw["Action"]):
                if not action_matches(action, call.action):
                    continue
                for resource in _listed(raw["Resource"]):
                    if wildcard_match(resource, call.resource):
                        used.add(Grant(name, str(raw.get("Sid", "")), action, resource))
    granted = grants_of(policies)
    unused = tuple(grant for grant in granted if grant not in used and grant not in unreached)
    stale = tuple(grant for grant in unreached if grant in used or grant not in granted)
    return Report(tuple(denied), unused, stale)
