"""What IAM Warden's own stack declares, by content: the rules' patterns, schedules, states and targets.

A name is no identity, and a CloudTrail record does not say which stack made a change: another stack (or an update
of IAM Warden's with another template) can ``PutRule`` one of its rules with a pattern that matches nothing, or
``PutTargets`` with a constant input. So ``iamwarden-tampered`` exempts a CloudFormation change to a rule only when
it writes what the template declares (``declared.OWN_RULE_CONTENT``, generated from template.yaml), with the
``${...}`` the template leaves to the deploy filled in from what the enforcer knows: the event's partition, region
and account, its own roles (``OwnIdentity``), the member role's name, its Slack secrets. A placeholder it cannot
fill makes the declared content unknown (None): the change is then judged on a fact missing, never exempted.

Pure: no AWS call.
"""

import json
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from iamwarden.domain import declared
from iamwarden.domain.own import OwnIdentity

_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


class DeclaredRule(NamedTuple):
    """One own rule as the template declares it, placeholders filled in."""

    #: The EventPattern (parsed JSON), or None for a schedule rule.
    pattern: Any
    schedule: str | None
    state: str
    #: The ARN of its one target, which gets the event unchanged (no ``Input``/``InputPath``/``InputTransformer``).
    target: str


#: The member template's parameters that name its roles (``MEMBER_RULE_PATTERNS`` leaves them as ``${...}``), by
#: the kind of member role each names (``OwnIdentity.member_roles``).
MEMBER_TEMPLATE_PARAMETERS: Mapping[str, str] = MappingProxyType(
    {"MemberRoleName": "remediator", "PrunerMemberRoleName": "pruner-member"}
)


def fill(text: str, own: OwnIdentity, partition: str, region: str | None, account: str) -> str | None:
    """``text`` with each ``${...}`` the generator left filled in, or None when one cannot be.

    The one filler of declared content: the AWS pseudo-parameters (the region None: not known), ``role:KIND`` and
    ``role-arn:KIND`` (an own role's name and ARN), ``member-role:KIND`` and the member template's role-name
    parameters (``MEMBER_TEMPLATE_PARAMETERS``), ``secret:NAME`` (a secret as ``!Ref`` gives it).
    """
    values: dict[str, str | None] = {
        "AWS::Partition": partition,
        "AWS::Region": region,
        "AWS::AccountId": account,
    }
    missing: list[str] = []

    def one(match: re.Match[str]) -> str:
        token = match.group(1)
        value = values[token] if token in values else _own_value(token, own, region, account)
        if value is None:
            missing.append(token)
            return ""
        return value

    filled = _PLACEHOLDER.sub(one, text)
    return None if missing else filled


def _own_value(token: str, own: OwnIdentity, region: str | None, account: str) -> str | None:
    if token in MEMBER_TEMPLATE_PARAMETERS:
        return own.member_roles.get(MEMBER_TEMPLATE_PARAMETERS[token])
    kind, _, name = token.partition(":")
    if kind == "role-arn":
        return own.home_roles.get(name)
    if kind == "role":
        arn = own.home_roles.get(name)
        return arn.rsplit("/", 1)[-1] if arn else None
    if kind == "member-role":
        return own.member_roles.get(name)
    if kind == "organization-id":  # no name: the whole token
        return own.organization_id
    if kind == "secret" and region is not None:  # as !Ref gives it: the full ARN the environment holds (or its name)
        return own.own_secret(name, account, region)
    return None


def declared_rule(key: str, own: OwnIdentity, partition: str, region: str, account: str) -> DeclaredRule | None:
    """Own rule ``key`` (``bus/name``, bare on the default bus) as declared, or None: not one of the stack's rules,
    or its content names something the enforcer does not know (the finding then says so)."""
    raw = declared.OWN_RULE_CONTENT.get(key)
    if raw is None:
        return None
    filled = fill(raw, own, partition, region, account)
    if filled is None:
        return None
    content: Mapping[str, Any] = json.loads(filled)
    return DeclaredRule(content["pattern"], content["schedule"], content["state"], content["target"])


def declared_alert_key_policy(own: OwnIdentity, partition: str) -> dict[str, Any] | None:
    """The alert key's policy as the template declares it (``declared.ALERT_KEY_POLICY``) with this stack's
    account and roles filled in, or None where a name it needs is not known (then nothing is put back)."""
    if not (own.alert_key and own.home_account):
        return None
    filled = fill(declared.ALERT_KEY_POLICY, own, partition, own.home_region, own.home_account)
    if filled is None:
        return None
    policy: dict[str, Any] = json.loads(filled)
    return policy


def declared_bus_policy(own: OwnIdentity, partition: str, region: str) -> dict[str, Any] | None:
    """The central bus's whole policy as the template declares it (``declared.CENTRAL_BUS_POLICY``) in ``region``,
    or None where the template declares none (no organisation) or a name it needs is not known."""
    if not (own.central_bus and own.organization_id and own.home_account):
        return None
    filled = fill(declared.CENTRAL_BUS_POLICY, own, partition, region, own.home_account)
    if filled is None:
        return None
    policy: dict[str, Any] = json.loads(filled)
    return policy


def canonical_pattern(pattern: Any) -> str:
    """An event pattern as one text, whatever the order of its keys and of its lists' items (EventBridge matches a
    list of values as a set)."""

    def normal(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {key: normal(inner) for key, inner in value.items()}
        if isinstance(value, list):
            return sorted((normal(inner) for inner in value), key=lambda item: json.dumps(item, sort_keys=True))
        return value

    return json.dumps(normal(pattern), sort_keys=True)


def rule_differences(parameters: Mapping[str, Any], rule: DeclaredRule) -> list[str]:
    """How a ``PutRule``'s request differs from the declared rule, in words (empty: it writes what is declared)."""
    differences = []
    given = parameters.get("eventPattern")
    if rule.pattern is not None:
        try:
            pattern = json.loads(given) if isinstance(given, str) else given
        except ValueError:
            pattern = given
        if pattern is None:
            differences.append("no event pattern")
        elif canonical_pattern(pattern) != canonical_pattern(rule.pattern):
            differences.append("another event pattern than the template declares")
    elif given is not None:
        differences.append("an event pattern where the template declares a schedule")
    schedule = parameters.get("scheduleExpression")
    if rule.schedule is not None and schedule != rule.schedule:
        differences.append(f"the schedule {schedule!r}, not the template's {rule.schedule!r}")
    if rule.schedule is None and schedule is not None:
        differences.append(f"a schedule ({schedule!r}) the template does not declare")
    state = parameters.get("state") or "ENABLED"
    if state != rule.state:
        differences.append(f"the state {state}, not {rule.state}")
    return differences


def target_differences(parameters: Mapping[str, Any], rule: DeclaredRule) -> list[str]:
    """How a ``PutTargets``' targets differ from the declared one, in words (empty: each is the declared target,
    passed the event unchanged)."""
    targets = parameters.get("targets")
    differences = []
    for target in targets if isinstance(targets, list) else []:
        if not isinstance(target, Mapping):
            differences.append("a target that is not an object")
            continue
        named = f"target {target.get('id')}"
        if target.get("arn") != rule.target:
            differences.append(f"{named} -> {target.get('arn')}, not the template's {rule.target}")
        overrides = [key for key in ("input", "inputPath", "inputTransformer") if target.get(key) is not None]
        if overrides:
            differences.append(f"{named} with {'/'.join(overrides)} replacing the event, which the template does not")
    return differences
