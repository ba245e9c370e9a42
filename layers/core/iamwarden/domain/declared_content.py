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
from iamwarden.domain.own import OwnIdentity, names_match

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


#: The member template's parameter naming the StackSet it is deployed with (its guard rules name its instance by it).
MEMBER_STACK_SET_PARAMETER = "MemberStackSetName"
#: What ``fill`` writes for a value only a member stack's instance knows, its roles' ``RoleId`` (the member
#: forwarders exclude the roles' sessions by ``principalId``): ``pattern_matches`` takes any role id there.
ANY_ROLE_ID = "<RoleId>"
_ROLE_ID = "ARO[A-Z0-9]{12,}"


def pattern_matches(declared_pattern: Any, live: Any) -> bool:
    """Whether a rule's live pattern is the declared one: lists as sets (EventBridge matches them so), ``ANY_ROLE_ID``
    as any role id, and a template ``Fn::If`` as either of its values (the instance's conditions chose one)."""
    if isinstance(declared_pattern, Mapping):
        if set(declared_pattern) == {"Fn::If"}:
            _, chosen, otherwise = declared_pattern["Fn::If"]
            return pattern_matches(chosen, live) or pattern_matches(otherwise, live)
        return (
            isinstance(live, Mapping)
            and set(declared_pattern) == set(live)
            and all(pattern_matches(value, live[key]) for key, value in declared_pattern.items())
        )
    if isinstance(declared_pattern, list):
        return (
            isinstance(live, list)
            and len(declared_pattern) == len(live)
            and all(any(pattern_matches(item, found) for found in live) for item in declared_pattern)
            and all(any(pattern_matches(item, found) for item in declared_pattern) for found in live)
        )
    if isinstance(declared_pattern, str) and ANY_ROLE_ID in declared_pattern:
        expected = re.escape(declared_pattern).replace(re.escape(ANY_ROLE_ID), _ROLE_ID)
        return isinstance(live, str) and re.fullmatch(expected, live) is not None
    return bool(declared_pattern == live)


def fill(text: str, own: OwnIdentity, partition: str, region: str | None, account: str) -> str | None:
    """``text`` with each ``${...}`` the generator left filled in, or None when one cannot be.

    The one filler of declared content: the AWS pseudo-parameters (the region None: not known), ``role:KIND`` and
    ``role-arn:KIND`` (an own role's name and ARN), ``member-role:KIND`` and the member template's role-name
    parameters (``MEMBER_TEMPLATE_PARAMETERS``), ``secret:NAME`` (a secret as ``!Ref`` gives it),
    ``central:account`` and ``central:region`` (the security account's stack, as the member template names it),
    ``alert-key:id`` (the alert key's id), ``alert-key`` (the alert key's ARN) and ``settings-prefix``.
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
    if token == MEMBER_STACK_SET_PARAMETER:
        return own.stack_set_name
    if token.endswith(".RoleId"):
        return ANY_ROLE_ID
    kind, _, name = token.partition(":")
    if kind == "role-arn":
        return own.home_roles.get(name)
    if kind == "role":
        arn = own.home_roles.get(name)
        return arn.rsplit("/", 1)[-1] if arn else None
    if kind == "member-role":
        return own.member_roles.get(name)
    if kind == "central":  # the security account's stack, as the member template names it
        return {"account": own.home_account, "region": own.home_region}.get(name)
    if kind == "alert-key" and name == "id" and own.alert_key:  # the key's id, as !Ref gives it
        return own.alert_key.rsplit("/", 1)[-1]
    if kind == "settings-prefix":
        return own.settings_prefix
    if token == "alert-key":  # noqa: S105 - a placeholder's name, no credential
        return own.alert_key
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


class DeclaredRole(NamedTuple):
    """A role as its template declares it whole, placeholders filled in."""

    trust: dict[str, Any]
    #: policy name -> document.
    inline: dict[str, Any]
    managed: tuple[str, ...]
    boundary: str | None


def declared_forwarder_role(
    kind: str, own: OwnIdentity, partition: str, region: str, account: str
) -> DeclaredRole | None:
    """Forwarding role ``kind`` (``event-forwarder``, ``member-forwarder``) in ``account`` and ``region`` as its
    template declares it (``declared.FORWARDER_ROLES``), or None: no such role, or a name it needs is not known."""
    raw = declared.FORWARDER_ROLES.get(kind)
    filled = fill(raw, own, partition, region, account) if raw is not None else None
    if filled is None:
        return None
    content: Mapping[str, Any] = json.loads(filled)
    return DeclaredRole(content["trust"], content["inline"], tuple(content["managed"]), content["boundary"])


def declared_queue_policy(queue: str, partition: str, region: str, account: str) -> dict[str, Any] | None:
    """The policy the template declares for own queue ``queue`` (``declared.OWN_QUEUE_POLICIES``), or None: none."""
    raw = declared.OWN_QUEUE_POLICIES.get(queue)
    filled = fill(raw, OwnIdentity(), partition, region, account) if raw is not None else None
    if filled is None:
        return None
    policy: dict[str, Any] = json.loads(filled)
    return policy


#: The marker the generator leaves in a declared list for the ``OperatorRoleArns`` parameter's ARNs.
OPERATOR_ROLE_ARNS = "${operator-role-arns}"


def _with_operators(value: Any, operators: tuple[str, ...]) -> Any:
    """``value`` with the ``OPERATOR_ROLE_ARNS`` item of each list replaced by ``operators`` (none or more)."""
    if isinstance(value, Mapping):
        return {key: _with_operators(inner, operators) for key, inner in value.items()}
    if isinstance(value, list):
        items: list[Any] = []
        for inner in value:
            items.extend(operators if inner == OPERATOR_ROLE_ARNS else [_with_operators(inner, operators)])
        return items
    return value


def declared_table_policy(
    table: str, own: OwnIdentity, partition: str, region: str, account: str
) -> dict[str, Any] | None:
    """The resource policy template.yaml declares for own table ``table`` (``declared.OWN_TABLE_POLICIES``), with the
    stack's account, region and ``OperatorRoleArns`` (``own.operator_role_arns``) filled in; None when the table has
    none, or the operators are not known (an environment without ``IAMWARDEN_OPERATOR_ROLE_ARNS``)."""
    raw = declared.OWN_TABLE_POLICIES.get(table)
    if raw is None or own.operator_role_arns is None:
        return None
    # The marker is a whole JSON string: swap it out before ``fill`` (which would take it for an unknown token).
    filled = fill(raw.replace(OPERATOR_ROLE_ARNS, "<operators>"), own, partition, region, account)
    if filled is None:
        return None
    policy: dict[str, Any] = _with_operators(
        json.loads(filled.replace("<operators>", OPERATOR_ROLE_ARNS)), own.operator_role_arns
    )
    return policy


def rules_targeting(function: str) -> list[str]:
    """The own rules (``bus/name``, bare on the default bus) whose declared one target is own function ``function``:
    each needs EventBridge's permission to invoke it (SAM's ``<Function><Rule>Permission``)."""
    return sorted(
        key
        for key, raw in declared.OWN_RULE_CONTENT.items()
        if str(json.loads(raw)["target"]).endswith(f":function:{function}")
    )


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


def declared_fallback_topic_policy(own: OwnIdentity, partition: str) -> dict[str, Any] | None:
    """The fallback topic's policy as the template declares it (``declared.ALERT_FALLBACK_TOPIC_POLICY``), filled in
    from the topic's own ARN (its region and account) and this stack's roles; None where a name it needs is unknown."""
    parts = (own.alert_fallback_topic or "").split(":")
    if len(parts) < 6:
        return None
    filled = fill(declared.ALERT_FALLBACK_TOPIC_POLICY, own, partition, parts[3], parts[4])
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


def declared_own_policy(policy_arn: str, own: OwnIdentity, user_remediation: str) -> dict[str, Any] | None:
    """The document the template declares for one of the enforcer's managed policies (``policy_arn``), filled in
    for this stack, or None: not one of them, or a name it needs is not known. ``user_remediation`` is the
    ``UserRemediation`` parameter the stack was deployed with (``IAMWARDEN_USER_REMEDIATION``)."""
    parts = policy_arn.split(":")
    if len(parts) != 6 or not parts[5].startswith("policy/") or own.home_region is None:
        return None
    partition, account, name = parts[1], parts[4], parts[5].removeprefix("policy/")
    for template_name, document in declared.OWN_POLICY_DOCUMENTS.get(user_remediation, {}).items():
        if fill(template_name, own, partition, own.home_region, account) == name:
            filled = fill(document, own, partition, own.home_region, account)
            return None if filled is None else dict(json.loads(filled))
    return None


def declared_grant(policy_arn: str, own: OwnIdentity, account: str) -> dict[str, Any] | None:
    """The document the templates declare for remediation grant ``policy_arn`` of an own role in ``account`` (the
    enforcer's at home, the member remediation role's elsewhere), filled in, or None: the stack's
    ``UserRemediation`` is not known, the ARN is not of that account, or a name it needs is not known."""
    parts = policy_arn.split(":")
    if own.user_remediation is None or len(parts) != 6 or parts[4] != account or not parts[5].startswith("policy/"):
        return None
    if account == own.home_account:
        return declared_own_policy(policy_arn, own, own.user_remediation)
    partition, name = parts[1], parts[5].removeprefix("policy/")
    for template_name, document in declared.MEMBER_POLICY_DOCUMENTS.get(own.user_remediation, {}).items():
        if fill(template_name, own, partition, None, account) == name:
            filled = fill(document, own, partition, None, account)
            return None if filled is None else dict(json.loads(filled))
    return None


def declared_reattach_grant(kind: str, own: OwnIdentity, partition: str, account: str) -> tuple[str, Any] | None:
    """The inline attach grant the template declares on an own role of ``kind`` in ``account`` (its policy name and
    whole document, filled in: the stack's region at home), or None: that kind holds none, or a name is unknown."""
    raw = declared.REATTACH_GRANTS.get(kind)
    if raw is None:
        return None
    name, text = raw
    region = own.home_region if account == own.home_account else None
    filled = fill(text, own, partition, region, account)
    return None if filled is None else (name, json.loads(filled))


def declared_alarm(own: OwnIdentity, name: str, partition: str) -> dict[str, Any] | None:
    """Alarm ``name`` of the security account's stack as template.yaml declares it (``PutMetricAlarm``'s arguments,
    filled in for the stack's account and region), or None: not one of its alarms, or a name it needs is unknown."""
    raw = declared.OWN_ALARM_DEFINITIONS.get(name)
    if raw is None or own.home_account is None or own.home_region is None:
        return None
    filled = fill(raw, own, partition, own.home_region, own.home_account)
    if filled is None:
        return None
    alarm: dict[str, Any] = json.loads(filled)
    return alarm


#: The IAM events that name an inline policy of a role (``policyName``) and a managed policy (``policyArn``).
ROLE_INLINE_EVENTS = frozenset({"PutRolePolicy", "DeleteRolePolicy"})
ROLE_MANAGED_EVENTS = frozenset({"AttachRolePolicy", "DetachRolePolicy"})


def undeclared_on_own_role(own: OwnIdentity, account: str, event_name: str, role: str, policy: str) -> str | None:
    """What an IAM change to own role ``role`` in ``account`` names that the templates do not declare for that
    role's kind, or None: an inline policy (``policy`` its name), a managed policy (``policy`` its ARN), any
    permissions boundary (the templates declare none).

    CloudTrail does not carry the stack id and any stack can declare a policy on an own role, so CloudFormation
    writing one is IAM Warden's own stack only when the name is the stack's: ``iamwarden-tampered`` and the
    ``privilege-escalation`` exemption (``engine._exemption``, issue 15 item 1) both ask this. A managed policy is
    a name anyone with ``iam:CreatePolicy`` can take (another region's suffix, another path): where the stack's
    policies are known (``OwnIdentity.is_own_policy``: ``IAMWARDEN_ENFORCER_POLICY_ARNS`` at home,
    ``IAMWARDEN_MEMBER_POLICY_NAMES`` elsewhere) it must also be one of them by exact ARN (review selfdeploy2-s17
    item 1). Where they are not known, the name is all this can say; the exemption asks ``is_own_policy`` itself.
    """
    kind = own.kind_of_role_named(role, account) or ""
    inline = declared.INLINE_POLICIES.get(kind, ())
    if event_name in ROLE_INLINE_EVENTS and not any(names_match(d.replace("{role}", role), policy) for d in inline):
        return f"the inline policy {policy!r} on its role {role}"
    if event_name in ROLE_MANAGED_EVENTS:
        name = policy.rsplit("/", 1)[-1]
        known = own.home_policies if account == own.home_account else own.member_policies
        if not any(names_match(d.replace("{role}", role), name) for d in declared.MANAGED_POLICIES.get(kind, ())) or (
            known and not own.is_own_policy(policy, account)
        ):
            return f"the managed policy {name!r} on its role {role}"
    if event_name in ("PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary"):
        return f"a permissions boundary on its role {role}"
    return None


class DeclaredInline(NamedTuple):
    """What the template says of one inline policy of a security-account own role."""

    #: Whether the template declares a policy of that name on the role at all (one it does not is no one's).
    named: bool
    #: Its whole document, filled in; None where the template does not declare it whole (a snapshot must say).
    document: dict[str, Any] | None


def declared_whole(kind: str, policy: str) -> bool:
    """Whether template.yaml declares inline policy ``policy`` of an own role of ``kind`` whole
    (``declared.OWN_INLINE_DOCUMENTS``): a put under that name is the stack's only with that document."""
    return policy in declared.OWN_INLINE_DOCUMENTS.get(kind, {})


def declared_inline_policy(own: OwnIdentity, role: str, policy: str, partition: str) -> DeclaredInline | None:
    """Inline policy ``policy`` of the security account's own role ``role`` as template.yaml declares it, or None
    for any other role (a member stack's roles: their names and documents are the member template's parameters)."""
    account = own.home_account
    if account is None:
        return None
    kind = own.kind_of_role_named(role, account)  # in any case: IAM role names ignore it
    if kind is None:
        return None
    named = policy in declared.INLINE_POLICIES.get(kind, frozenset())
    raw = declared.OWN_INLINE_DOCUMENTS.get(kind, {}).get(policy)
    filled = fill(raw, own, partition, own.home_region, account) if raw is not None and named else None
    return DeclaredInline(named, json.loads(filled) if filled is not None else None)


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
        elif not pattern_matches(rule.pattern, pattern):
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
