"""Normalise IAM policy documents and match actions, exactly and without AWS.

IAM accepts many spellings of the same policy: ``Statement`` as one object or a
list, Action/Resource as a string or a list, several Principal forms, and
Version 2012-10-17, 2008-10-17 or none. ``parse_policy`` folds all of them into
one ``Policy`` so the rules never branch on spelling. Action names are case
insensitive and may use ``*`` and ``?`` wildcards on either side.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from iamwarden.domain.events import json_type_name
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.wildcards import wildcard_match

_VERSIONS = frozenset({"2012-10-17", "2008-10-17"})
_CONDITION_QUALIFIERS = ("ForAnyValue:", "ForAllValues:")


class Principal(NamedTuple):
    """A Principal or NotPrincipal element, by principal type."""

    everyone: bool
    aws: tuple[str, ...] = ()
    service: tuple[str, ...] = ()
    federated: tuple[str, ...] = ()
    canonical_user: tuple[str, ...] = ()


class Condition(NamedTuple):
    """One key test of a Condition block, e.g. ``StringEquals`` on ``aws:PrincipalOrgID``.

    ``operator`` is the base operator without its qualifier or IfExists suffix,
    and ``key`` is lower-cased (condition keys are case insensitive).
    """

    operator: str
    qualifier: str | None
    if_exists: bool
    key: str
    values: tuple[str, ...]


class Statement(NamedTuple):
    """One statement, normalised; ``index`` and ``raw`` let a remediation remove exactly it."""

    position: int
    sid: str | None
    effect: str
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    principal: Principal | None
    not_principal: Principal | None
    conditions: tuple[Condition, ...]
    raw: Mapping[str, Any]

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"

    @property
    def label(self) -> str:
        """How people refer to this statement: its Sid, or its position."""
        return f"statement {self.position} ({self.sid})" if self.sid else f"statement {self.position}"

    def grants_action(self, action: str) -> bool:
        """Whether this statement's Action/NotAction covers ``action`` (ignoring Effect)."""
        if self.actions is not None:
            return any(action_matches(pattern, action) for pattern in self.actions)
        if self.not_actions is not None:
            return not any(action_matches(pattern, action) for pattern in self.not_actions)
        return False


class Policy(NamedTuple):
    """A normalised policy document."""

    version: str | None
    statements: tuple[Statement, ...]
    raw: Mapping[str, Any]

    @property
    def only_denies(self) -> bool:
        """Every statement is a Deny: the document grants nothing, whatever else it says (never a finding)."""
        return bool(self.statements) and not any(statement.allows for statement in self.statements)


def parse_policy(document: Mapping[str, Any], *, field: str = "policy") -> Policy:
    """Normalise a decoded policy document, raising ``InvalidEventError`` if it is not one."""
    version = document.get("Version")
    if version is not None and (not isinstance(version, str) or version not in _VERSIONS):
        raise InvalidEventError(f"{field}.Version must be 2012-10-17 or 2008-10-17, got {version!r}")
    if "Statement" not in document:
        raise InvalidEventError(f"{field} has no Statement")
    raw_statements = document["Statement"]
    if isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list):
        raise InvalidEventError(f"{field}.Statement must be an object or a list, got {json_type_name(raw_statements)}")
    statements = tuple(
        _parse_statement(index, item, f"{field}.Statement[{index}]") for index, item in enumerate(raw_statements)
    )
    return Policy(version=version, statements=statements, raw=document)


def _parse_statement(index: int, raw: object, where: str) -> Statement:
    if not isinstance(raw, dict):
        raise InvalidEventError(f"{where} must be an object, got {json_type_name(raw)}")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise InvalidEventError(f"{where}.Effect must be Allow or Deny, got {effect!r}")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise InvalidEventError(f"{where}.Sid must be a string, got {json_type_name(sid)}")
    actions = _strings(raw, "Action", where)
    not_actions = _strings(raw, "NotAction", where)
    if (actions is None) == (not_actions is None):
        raise InvalidEventError(f"{where} must have exactly one of Action and NotAction")
    return Statement(
        position=index,
        sid=sid or None,
        effect=effect,
        actions=tuple(a.lower() for a in actions) if actions is not None else None,
        not_actions=tuple(a.lower() for a in not_actions) if not_actions is not None else None,
        resources=_strings(raw, "Resource", where),
        not_resources=_strings(raw, "NotResource", where),
        principal=_principal(raw, "Principal", where),
        not_principal=_principal(raw, "NotPrincipal", where),
        conditions=_conditions(raw.get("Condition"), where),
        raw=raw,
    )


def _strings(raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...] | None:
    if key not in raw:
        return None
    value = raw[key]
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise InvalidEventError(f"{where}.{key} must be a string or a list of strings")


def _principal(raw: Mapping[str, Any], key: str, where: str) -> Principal | None:
    if key not in raw:
        return None
    value = raw[key]
    if value == "*":
        return Principal(everyone=True)
    if not isinstance(value, dict):
        raise InvalidEventError(f'{where}.{key} must be "*" or an object, got {json_type_name(value)}')
    by_type: dict[str, tuple[str, ...]] = {}
    for principal_type, entries in value.items():
        if principal_type not in ("AWS", "Service", "Federated", "CanonicalUser"):
            raise InvalidEventError(f"{where}.{key} has unknown principal type {principal_type!r}")
        names = [entries] if isinstance(entries, str) else entries
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise InvalidEventError(f"{where}.{key}.{principal_type} must be a string or a list of strings")
        by_type[principal_type] = tuple(names)
    aws = by_type.get("AWS", ())
    return Principal(
        everyone="*" in aws,
        aws=aws,
        service=by_type.get("Service", ()),
        federated=by_type.get("Federated", ()),
        canonical_user=by_type.get("CanonicalUser", ()),
    )


def _conditions(raw: object, where: str) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise InvalidEventError(f"{where}.Condition must be an object, got {json_type_name(raw)}")
    conditions: list[Condition] = []
    for operator_name, tests in raw.items():
        if not isinstance(operator_name, str):
            raise InvalidEventError(f"{where}.Condition operators must be strings, got {operator_name!r}")
        if not isinstance(tests, dict):
            raise InvalidEventError(f"{where}.Condition.{operator_name} must be an object of key tests")
        qualifier = None
        operator = operator_name
        for prefix in _CONDITION_QUALIFIERS:
            if operator.startswith(prefix):
                qualifier, operator = prefix[:-1], operator[len(prefix) :]
        if_exists = operator.endswith("IfExists")
        if if_exists:
            operator = operator[: -len("IfExists")]
        for key, values in tests.items():
            items = values if isinstance(values, list) else [values]
            if not all(isinstance(item, str | bool | int | float) for item in items):
                raise InvalidEventError(f"{where}.Condition.{operator_name}.{key} values must be scalars")
            conditions.append(
                Condition(
                    operator=operator,
                    qualifier=qualifier,
                    if_exists=if_exists,
                    key=str(key).lower(),
                    values=tuple(_condition_value(item) for item in items),
                )
            )
    return tuple(conditions)


def _condition_value(item: str | bool | int | float) -> str:
    if isinstance(item, bool):
        return "true" if item else "false"
    return str(item)


def action_matches(pattern: str, action: str) -> bool:
    """Whether IAM action ``pattern`` (``*``/``?`` wildcards) covers ``action``, ignoring case.

    ``action`` may itself contain wildcards: ``s3:Get*`` is covered by ``s3:*``
    and by ``*`` but not by ``s3:GetObject``, because matching is literal on
    the right-hand side.
    """
    return wildcard_match(pattern.lower(), action.lower())
