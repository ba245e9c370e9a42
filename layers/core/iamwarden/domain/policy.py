"""Normalise IAM policy documents and match actions, exactly and without AWS.

IAM accepts many spellings of the same policy: ``Statement`` as one object or a
list, Action/Resource as a string or a list, several Principal forms, and
Version 2012-10-17, 2008-10-17 or none. ``parse_policy`` folds all of them into
one ``Policy`` so the rules never branch on spelling. Action names are case
insensitive and may use ``*`` and ``?`` wildcards on either side.
"""

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, NamedTuple, Protocol, cast

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

    @property
    def holds_when_absent(self) -> bool:
        """Whether the test holds for a request without the key (``...IfExists``, ``ForAllValues:``): then it
        bounds nothing, since an anonymous or outside caller's request need not carry the key. ``ForAnyValue:``
        is false when the key is absent (IAM User Guide), as the plain operator is."""
        return self.if_exists or self.qualifier == "ForAllValues"


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
            return _any_matches(self.actions, action)
        if self.not_actions is not None:
            return not _any_matches(self.not_actions, action)
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
    raw_statements = document.get("Statement", _ABSENT)  # one look-up, not a test and a read
    if raw_statements is _ABSENT:
        raise InvalidEventError(f"{field} has no Statement")
    if isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list):
        raise InvalidEventError(f"{field}.Statement must be an object or a list, got {json_type_name(raw_statements)}")
    statements = tuple([_parse_statement(index, item, field) for index, item in enumerate(raw_statements)])
    return _new(Policy, (version, statements, document))


# The hot path of every rule reading a resource or trust policy: positional construction, no generator
# expressions, and the error location spelled out only when there is an error to report. ``_new`` builds a
# NamedTuple from its fields in C, without the Python-level ``__new__`` a NamedTuple class generates (every
# field is given, so its defaults are never needed).
class _TupleNew(Protocol):
    def __call__[T](self, cls: type[T], fields: tuple[object, ...], /) -> T: ...


_new = cast(_TupleNew, tuple.__new__)


def _parse_statement(index: int, raw: object, field: str) -> Statement:
    if not isinstance(raw, dict):
        raise InvalidEventError(f"{field}.Statement[{index}] must be an object, got {json_type_name(raw)}")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):  # a tuple, not a set: Effect may be an unhashable list
        raise InvalidEventError(f"{field}.Statement[{index}].Effect must be Allow or Deny, got {effect!r}")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise InvalidEventError(f"{field}.Statement[{index}].Sid must be a string, got {json_type_name(sid)}")
    # The Not- elements are rare: test for them here rather than in a call each. The usual spellings (one
    # action, one resource, "*" as the principal) are read inline; any other goes through the checking reader.
    action = raw.get("Action", _ABSENT)
    actions: tuple[str, ...] | None
    if type(action) is str:
        actions = (action.lower(),)
    else:
        listed = _strings(action, "Action", index, field)
        actions = tuple([action.lower() for action in listed]) if listed is not None else None
    not_actions = _strings(raw["NotAction"], "NotAction", index, field) if "NotAction" in raw else None
    if (actions is None) == (not_actions is None):
        raise InvalidEventError(f"{field}.Statement[{index}] must have exactly one of Action and NotAction")
    resource = raw.get("Resource", _ABSENT)
    principal = raw.get("Principal", _ABSENT)
    condition = raw.get("Condition")
    return _new(
        Statement,
        (
            index,
            sid or None,
            effect,
            actions,
            tuple([action.lower() for action in not_actions]) if not_actions is not None else None,
            (resource,) if type(resource) is str else _strings(resource, "Resource", index, field),
            _strings(raw["NotResource"], "NotResource", index, field) if "NotResource" in raw else None,
            None
            if principal is _ABSENT
            else _EVERYONE
            if type(principal) is str and principal == "*"
            else _principal(principal, "Principal", index, field),
            _principal(raw["NotPrincipal"], "NotPrincipal", index, field) if "NotPrincipal" in raw else None,
            () if condition is None else _conditions(condition, index, field),
            raw,
        ),
    )


def _strings(value: object, key: str, index: int, field: str) -> tuple[str, ...] | None:
    """The element ``key`` (``value``, already read; ``_ABSENT`` when the statement has none) as strings."""
    if value is _ABSENT:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        for item in value:
            if not isinstance(item, str):
                break
        else:
            return tuple(value)
    raise InvalidEventError(f"{field}.Statement[{index}].{key} must be a string or a list of strings")


_ABSENT: Any = object()
_PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")
_EVERYONE = Principal(everyone=True)


def _principal(value: object, key: str, index: int, field: str) -> Principal:
    """The Principal or NotPrincipal element ``value`` (present), by principal type."""
    if type(value) is not dict and value == "*":  # an object is never "*": compared only when it is not one
        return _EVERYONE
    if not isinstance(value, dict):
        raise InvalidEventError(
            f'{field}.Statement[{index}].{key} must be "*" or an object, got {json_type_name(value)}'
        )
    aws: tuple[str, ...] = ()
    service: tuple[str, ...] = ()
    federated: tuple[str, ...] = ()
    canonical_user: tuple[str, ...] = ()
    for principal_type, entries in value.items():
        slot = _PRINCIPAL_SLOTS.get(principal_type)
        if slot is None:
            raise InvalidEventError(f"{field}.Statement[{index}].{key} has unknown principal type {principal_type!r}")
        if type(entries) is str or isinstance(entries, str):
            names: tuple[str, ...] = (entries,)
        elif isinstance(entries, list) and _all_strings(entries):
            names = tuple(entries)
        else:
            raise InvalidEventError(
                f"{field}.Statement[{index}].{key}.{principal_type} must be a string or a list of strings"
            )
        if slot == 0:
            aws = names
        elif slot == 1:
            service = names
        elif slot == 2:  # the slots are _PRINCIPAL_TYPES' positions
            federated = names
        else:
            canonical_user = names
    return _new(Principal, ("*" in aws, aws, service, federated, canonical_user))


#: Each principal type's position in ``_PRINCIPAL_TYPES`` (AWS, Service, Federated, CanonicalUser), for ``_principal``.
_PRINCIPAL_SLOTS = {principal_type: slot for slot, principal_type in enumerate(_PRINCIPAL_TYPES)}


def _all_strings(items: list[Any]) -> bool:
    """``all(isinstance(item, str) for item in items)`` without a generator (a principal's list of names)."""
    for item in items:
        if not isinstance(item, str):
            break
    else:
        return True
    return False


def _conditions(raw: object, index: int, field: str) -> tuple[Condition, ...]:
    if not isinstance(raw, dict):
        raise InvalidEventError(f"{field}.Statement[{index}].Condition must be an object, got {json_type_name(raw)}")
    conditions: list[Condition] = []
    for operator_name, tests in raw.items():
        spelled = _KNOWN_OPERATORS.get(operator_name)
        if spelled is None:
            spelled = _OPERATORS.get(operator_name) if type(operator_name) is str else None
        if spelled is None:
            if not isinstance(operator_name, str):
                raise InvalidEventError(
                    f"{field}.Statement[{index}].Condition operators must be strings, got {operator_name!r}"
                )
            spelled = _OPERATORS[operator_name] = _operator(operator_name)
        if not isinstance(tests, dict):
            raise InvalidEventError(
                f"{field}.Statement[{index}].Condition.{operator_name} must be an object of key tests"
            )
        operator, qualifier, if_exists = spelled
        for key, values in tests.items():
            if type(values) is str:  # the usual spelling: one string value
                checked: tuple[str, ...] = (values,)
            elif type(values) is list and _only_strings(values):  # the other usual one: a list of strings
                checked = tuple(values)
            else:
                checked = _condition_values(values, f"{field}.Statement[{index}].Condition.{operator_name}.{key}")
            conditions.append(
                _new(
                    Condition,
                    (operator, qualifier, if_exists, key.lower() if type(key) is str else str(key).lower(), checked),
                )
            )
    return tuple(conditions)


def _only_strings(items: list[Any]) -> bool:
    """Whether every item is a ``str`` itself (not a subclass, which the checking reader copies to one)."""
    for item in items:
        if type(item) is not str:
            break
    else:
        return True
    return False


def _condition_values(values: Any, where: str) -> tuple[str, ...]:
    """A key test's values in any other spelling: one scalar or a list of scalars, each spelled as a string."""
    items = values if isinstance(values, list) else [values]
    for item in items:
        if not isinstance(item, _SCALARS):
            raise InvalidEventError(f"{where} values must be scalars")
    return tuple([item if type(item) is str else _condition_value(item) for item in items])


_SCALARS = (str, bool, int, float)
#: Condition operators as spelled in documents, split once into (operator, qualifier, IfExists): a handful of
#: spellings recur across every policy (bounded: the table stops growing at 1,024 spellings). Only spellings
#: ``_KNOWN_OPERATORS`` lacks are kept here.
_OPERATORS: dict[str, tuple[str, str | None, bool]] = {}
#: IAM's condition operators (IAM User Guide, "IAM JSON policy elements: Condition operators"), each base operator
#: with and without a set qualifier and ``IfExists`` (``Null`` takes no ``IfExists``), split as ``_operator`` splits
#: them. A constant table, not a cache: a document's usual operators cost one look-up even on first sight.
_BASE_OPERATORS = (
    *(
        f"String{test}"
        for test in ("Equals", "NotEquals", "EqualsIgnoreCase", "NotEqualsIgnoreCase", "Like", "NotLike")
    ),
    *(
        f"Numeric{test}"
        for test in ("Equals", "NotEquals", "LessThan", "LessThanEquals", "GreaterThan", "GreaterThanEquals")
    ),
    *(
        f"Date{test}"
        for test in ("Equals", "NotEquals", "LessThan", "LessThanEquals", "GreaterThan", "GreaterThanEquals")
    ),
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    *(f"Arn{test}" for test in ("Equals", "Like", "NotEquals", "NotLike")),
)
_KNOWN_OPERATORS: dict[object, tuple[str, str | None, bool]] = {
    f"{qualifier}:{base}{suffix}" if qualifier else f"{base}{suffix}": (base, qualifier, bool(suffix))
    for base in (*_BASE_OPERATORS, "Null")
    for qualifier in (None, "ForAnyValue", "ForAllValues")
    for suffix in (("", "IfExists") if base != "Null" else ("",))
}


def _operator(operator_name: str) -> tuple[str, str | None, bool]:
    qualifier = None
    operator = operator_name
    for prefix in _CONDITION_QUALIFIERS:
        if operator.startswith(prefix):
            qualifier, operator = prefix[:-1], operator[len(prefix) :]
    if_exists = operator.endswith("IfExists")
    if if_exists:
        operator = operator[: -len("IfExists")]
    if len(_OPERATORS) >= 1024:
        _OPERATORS.clear()
    return operator, qualifier, if_exists


def _condition_value(item: str | bool | int | float) -> str:
    if isinstance(item, bool):
        return "true" if item else "false"
    return str(item)


@lru_cache(maxsize=8192)
def _any_matches(patterns: tuple[str, ...], action: str) -> bool:
    """Whether one of ``patterns`` covers ``action`` (``action_matches``), kept by the patterns' and the action's
    text: every rule asks it of each statement, for the same few actions (``s3:GetObject``, ``sts:AssumeRole``),
    of Action lists that recur across documents. Bounded: the patterns come from the documents events carry."""
    return any(action_matches(pattern, action) for pattern in patterns)


def action_matches(pattern: str, action: str) -> bool:
    """Whether IAM action ``pattern`` (``*``/``?`` wildcards) covers ``action``, ignoring case.

    ``action`` may itself contain wildcards: ``s3:Get*`` is covered by ``s3:*``
    and by ``*`` but not by ``s3:GetObject``, because matching is literal on
    the right-hand side.
    """
    return wildcard_match(pattern.lower(), action.lower())
