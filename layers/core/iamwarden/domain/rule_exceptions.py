"""Time-boxed exceptions to a rule: requested, approved, revoked, expired (issue 17).

An allowlist in SSM never expires; an exception does. It exempts one rule's findings on resources (or by actors)
that one ARN pattern names, from its approval until ``expires_at``, exactly as an allowlist entry exempts them
(``guardrails.engine._exemption``). A requested exception exempts nothing until someone approves it, and a
revoked or expired one exempts nothing at all. Pure: the store is ``adapters.exception_store``, the lifecycle
``app.exception_desk``.

Both records are NamedTuples, not frozen dataclasses: the engine imports this module at every cold start, and
creating the two dataclasses cost some 12 M instructions there, the two NamedTuples under 2 M (README,
Benchmarks; ``tests/unit/test_cold_import.py``). Their annotations are evaluated, as that test asks.
"""

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from iamwarden.domain.catalog import RULES
from iamwarden.domain.exceptions import ExceptionRefused
from iamwarden.domain.findings import Finding
from iamwarden.domain.settings import ExceptionSettings, matches_everything
from iamwarden.domain.wildcards import arn_match

#: How long an exception's item outlives its end, for the audit (the table's TTL deletes it then).
RETENTION_DAYS = 90
#: How long a request nobody approves is kept before the table's TTL deletes it.
PENDING_DAYS = 30


class ExceptionScope(NamedTuple):
    """What an exception exempts: one rule's findings on resources, or by actors, that one ARN pattern names."""

    rule_id: str
    resource_pattern: str | None = None  # ARN pattern (domain.wildcards.arn_match), or None
    actor_pattern: str | None = None  # ARN pattern of the actor or its session issuer, or None
    #: ``resource_pattern`` is one resource's ARN, compared whole (``==``): a scope derived from a remediation's
    #: resource, whose ``*`` or ``?`` (legal in an S3 object key: ``acme-media/*.csv``) must not act as wildcards and
    #: exempt every CSV (review s11 F15).
    literal: bool = False

    @property
    def pattern(self) -> str:
        return self.resource_pattern or self.actor_pattern or ""

    def names_resource(self, arn: str) -> bool:
        """Whether the resource scope names ``arn``: exactly when literal, as an ARN pattern otherwise."""
        if self.resource_pattern is None:
            return False
        return arn == self.resource_pattern if self.literal else arn_match(self.resource_pattern, arn)

    def describe(self) -> str:
        if self.resource_pattern and self.literal:
            return f"rule {self.rule_id} on resource {self.resource_pattern} exactly (* and ? in it are no wildcards)"
        if self.resource_pattern:
            return f"rule {self.rule_id} on resources {self.resource_pattern}"
        return f"rule {self.rule_id} for changes by {self.actor_pattern}"


class ExceptionStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REVOKED = "revoked"
    EXPIRED = "expired"


class RuleException(NamedTuple):
    exception_id: str
    scope: ExceptionScope
    reason: str
    requester: str  # "slack:<team>/<user>" from Slack, the caller ARN from the CLI
    requested_at: datetime
    days: int
    status: ExceptionStatus
    approver: str | None = None
    approved_at: datetime | None = None
    expires_at: datetime | None = None  # set at approval: approved_at + days
    source_remediation_id: str | None = None  # set when created by an undo
    #: When the owner was reminded that it expires soon (once).
    reminded_at: datetime | None = None
    #: Who revoked it, or "IAM Warden" when it expired, and when.
    ended_by: str | None = None
    ended_at: datetime | None = None
    #: What was accepted, when the exception was made from a remediation's finding (``accepted_of``): the
    #: fingerprints of its offending statements or grants. Empty: the whole rule on the scope (a hand-written one).
    accepted: frozenset[str] = frozenset()

    def active(self, now: datetime) -> bool:
        """Approved and not yet expired at ``now``: only then does it exempt anything."""
        return self.status is ExceptionStatus.APPROVED and self.expires_at is not None and now < self.expires_at

    def covers(self, finding: Finding) -> bool:
        """Whether the scope names ``finding``: its rule, and its resource or its actor (or session issuer); and,
        for an exception made from a remediation, only when everything the finding offends with was accepted.

        An exception for one vendor's share must not let any later grantee of that bucket in unseen (review s11
        F6): a new statement or grant on the same resource is a finding as usual.
        """
        scope = self.scope
        if scope.rule_id != finding.rule_id:
            return False
        if scope.resource_pattern is not None:
            named = scope.names_resource(finding.resource_arn)
        elif scope.actor_pattern is not None:
            named = any(
                arn is not None and arn != "" and arn_match(scope.actor_pattern, arn)
                for arn in (finding.actor.arn, finding.actor.session_issuer_arn)
            )
        else:
            return False
        if not named or not self.accepted:
            return named
        offending = accepted_of(finding.offending)
        return bool(offending) and offending <= self.accepted

    def describe(self) -> str:
        until = f", until {self.expires_at.isoformat()}" if self.expires_at else ""
        only = f", only the {len(self.accepted)} grant(s) it was made for" if self.accepted else ""
        return f"exception {self.exception_id} ({self.scope.describe()}{only}: {self.reason!r}{until})"

    def approved(self, approver: str, at: datetime) -> "RuleException":
        return self._replace(
            status=ExceptionStatus.APPROVED,
            approver=approver,
            approved_at=at,
            expires_at=expiry(at, self.days),
        )

    @property
    def ends_at(self) -> datetime:
        """When it stops mattering: its expiry once approved, the end of the wait for approval before."""
        if self.expires_at is not None:
            return self.expires_at
        return self.requested_at + timedelta(days=PENDING_DAYS)

    @property
    def delete_after(self) -> datetime:
        """When the table may delete the item (TTL): well after it ended, so the audit can still read it."""
        return self.ends_at + timedelta(days=RETENTION_DAYS)


#: What an offending entry says about the verdict rather than what it grants: left out of its fingerprint.
#: ``turned_off`` (Block Public Access) says how the settings came to be off; an exception accepts them being off.
_VERDICT_KEYS = frozenset({"index", "certain", "needs_context", "narrowed_by", "unevaluated_conditions", "turned_off"})


def accepted_of(offending: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """The fingerprints of a finding's offending entries: the statement itself when the entry holds one, else
    what the entry grants (its verdict notes left out), as canonical JSON."""
    prints = set()
    for entry in offending:
        granted = entry.get("statement") if isinstance(entry.get("statement"), Mapping) else None
        if granted is None:
            granted = {key: value for key, value in entry.items() if key not in _VERDICT_KEYS}
        prints.add(json.dumps(granted, sort_keys=True, separators=(",", ":"), default=str))
    return frozenset(prints)


def expiry(approved_at: datetime, days: int) -> datetime:
    return approved_at + timedelta(days=days)


#: Rules no exception exempts. Who may change IAM Warden itself is the tampering rule's ``operators`` setting,
#: guarded by the settings before the write; an exception is one table item away from anyone who may write the
#: table, so it must never switch the guard's own watch off.
UNEXEMPTABLE_RULES = frozenset({"iamwarden-tampered"})


#: Rules whose exceptions only an operator (``rules/iamwarden-tampered/operators``) may approve: the persistence
#: and defense-evasion rules, where an exception is exactly what an intruder with admin wants (audit s7 gap 11: a
#: self-approved exception to these silenced a backdoor user, with no alert at all).
OPERATOR_APPROVED_RULES = frozenset(
    {
        "iam-user-created",
        "access-key-created",
        "login-profile-created",
        "root-access-key-created",
        "privilege-escalation",
        "remediation-reversed",
        "group-membership-escalation",
        "permissions-boundary-weakened",
        "identity-provider-unknown",
        "roles-anywhere-trust-anchor",
        "permission-set-admin",
        "identity-center-group-admin",
        "identity-center-user-takeover",
        "identity-center-identity-source",
        "identity-center-session-tag-attribute",
        "cloudtrail-logging-impaired",
        "guardduty-disabled",
        "config-recording-stopped",
        "securityhub-disabled",
        "organization-left",
        "scp-blinds-iamwarden",
    }
)
#: Where the operators are named (the tampering rule's setting).
OPERATORS_SETTING = "rules/iamwarden-tampered/operators"

_SESSION = re.compile(r"arn:([^:]+):sts::(\d*):assumed-role/([^/]+)/.+")
_IAM_NAME = re.compile(r"arn:([^:]+):iam::(\d*):(role|user)/(?:.*/)?([^/]+)")


def person(identity: str) -> str:
    """Who ``identity`` is, for four eyes: a role and every session of it are one person.

    A session name is chosen by whoever assumes the role, so it names no one: ``assumed-role/Admin/alice`` and
    ``assumed-role/Admin/bob`` are one person, and so is ``role/Admin`` (any path). IAM names are unique
    regardless of case, so they are compared case-folded. Anything else (a user ARN aside, ``slack:<team>/<user>``)
    is compared exactly, as the desk records it.
    """
    text = identity.strip()
    session = _SESSION.fullmatch(text)
    if session is not None:
        partition, account, name = session.groups()
        return f"arn:{partition}:iam::{account}:role/{name.casefold()}"
    named = _IAM_NAME.fullmatch(text)
    if named is not None:
        partition, account, kind, name = named.groups()
        return f"arn:{partition}:iam::{account}:{kind}/{name.casefold()}"
    return text


def same_person(one: str, other: str) -> bool:
    return person(one) == person(other)


def operator_pattern(identity: str, operators: Sequence[str]) -> str | None:
    """The ``operators`` pattern ``identity`` matches: its own ARN, or for a session, its role's (path-less) ARN."""
    text = identity.strip()
    session = _SESSION.fullmatch(text)
    names = [text]
    if session is not None:
        partition, account, name = session.groups()
        names.append(f"arn:{partition}:iam::{account}:role/{name}")
    return next((pattern for pattern in operators for name in names if arn_match(pattern, name)), None)


def is_undo_exception(exception: "RuleException") -> bool:
    """The undo's own short exception: made for one remediation, on its resource (``undo_with_exception``)."""
    return bool(exception.source_remediation_id) and exception.scope.resource_pattern is not None


def approver_flaw(exception: "RuleException", approver: str, operators: Sequence[str]) -> str | None:
    """Why ``approver`` may not approve ``exception``, or None if they may.

    Four eyes: the requester may not approve their own request (the same person: ``person``), except the undo's
    own exception, which its undoer requests and approves at once. And an exception to a persistence or evasion
    rule (``OPERATOR_APPROVED_RULES``) needs an approver in the operators setting.
    """
    if same_person(exception.requester, approver) and not is_undo_exception(exception):
        return (
            f"its approver ({approver}) is its requester ({exception.requester}); an exception needs a second "
            "person to approve it (four eyes; sessions of one role count as one person)"
        )
    rule = exception.scope.rule_id
    if rule in OPERATOR_APPROVED_RULES and operator_pattern(approver, operators) is None:
        return (
            f"exceptions to rule {rule} may be approved only by an operator ({OPERATORS_SETTING}), "
            f"and {approver} is not one"
        )
    return None


def validate_scope(scope: ExceptionScope, known_rules: Iterable[str]) -> ExceptionScope:
    """``scope`` if it names a known rule and exactly one pattern that names someone in particular."""
    known = set(known_rules)
    if scope.rule_id not in known:
        raise ExceptionRefused(f"There is no rule {scope.rule_id!r}; the rules are listed in the README.")
    if scope.rule_id in UNEXEMPTABLE_RULES:
        raise ExceptionRefused(
            f"Rule {scope.rule_id} takes no exceptions: who may change IAM Warden itself is its operators setting "
            f"(rules/{scope.rule_id}/operators)."
        )
    patterns = [p for p in (scope.resource_pattern, scope.actor_pattern) if p is not None]
    if len(patterns) != 1:
        raise ExceptionRefused("An exception names exactly one pattern: a resource pattern or an actor pattern.")
    pattern = patterns[0].strip()
    if not pattern:
        raise ExceptionRefused("The exception's pattern is empty: name the resource or actor it is for.")
    if scope.literal and scope.resource_pattern is None:
        raise ExceptionRefused("Only a resource scope can be literal: name the resource's ARN.")
    if not scope.literal and matches_everything(pattern):
        raise ExceptionRefused(
            f"{pattern!r} matches everything: the exception would switch rule {scope.rule_id} off; name them instead."
        )
    if scope.resource_pattern is not None:
        return ExceptionScope(scope.rule_id, resource_pattern=pattern, literal=scope.literal)
    return ExceptionScope(scope.rule_id, actor_pattern=pattern)


def exception_days(days: int | None, settings: ExceptionSettings) -> int:
    """The days a request asks for, or the default; refused outside 1..max_days."""
    chosen = settings.default_days if days is None else days
    if isinstance(chosen, bool) or not isinstance(chosen, int) or chosen < 1:
        raise ExceptionRefused(f"An exception lasts at least 1 day, got {days!r}.")
    if chosen > settings.max_days:
        raise ExceptionRefused(
            f"An exception lasts at most {settings.max_days} days (exceptions/max_days), got {chosen}."
        )
    return chosen


def validate_reason(reason: str) -> str:
    text = " ".join(reason.split())
    if not text:
        raise ExceptionRefused("An exception needs a reason: say why the rule should not apply.")
    return text


def active_exemption(
    finding: Finding,
    exceptions: Iterable[RuleException],
    now: datetime,
    settings: ExceptionSettings,
    operators: Sequence[str] = (),
) -> str | None:
    """The active exception that exempts ``finding``, described (id, scope, reason, expiry), or None.

    Only an exception the desk could have approved counts (``approval_flaw``): the table is data anyone with
    write access to it can forge, so each item is checked again where it is honoured.
    """
    for exception in exceptions:
        if (
            exception.active(now)
            and exception.covers(finding)
            and approval_flaw(exception, settings, operators) is None
        ):
            return f"exempted by {exception.describe()}"
    return None


def approval_flaw(exception: RuleException, settings: ExceptionSettings, operators: Sequence[str] = ()) -> str | None:
    """Why an approved exception is not one the desk could have approved, or None if it could.

    The desk validates the scope, the reason and the days, checks the approver (``approver_flaw``: four eyes,
    operators for the persistence rules), and sets the approver, the approval time and the expiry (approval +
    days); an item that breaks any of that was written some other way.
    """
    try:
        validate_scope(exception.scope, RULES)
    except ExceptionRefused as refused:
        return str(refused)
    if not exception.reason.strip():
        return "it gives no reason"
    days = exception.days
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= settings.max_days:
        return f"it lasts {days!r} days, outside 1..{settings.max_days} (exceptions/max_days)"
    if not (exception.approver or "").strip() or exception.approved_at is None:
        return "it names no approver or approval time"
    if exception.approved_at < exception.requested_at:
        return "it was approved before it was requested"
    flaw = approver_flaw(exception, exception.approver or "", operators)
    if flaw is not None:
        return flaw
    if exception.expires_at != expiry(exception.approved_at, days):
        return f"it ends at {exception.expires_at}, not at its approval plus its {days} days"
    return None


def reminder_due(exception: RuleException, now: datetime, settings: ExceptionSettings) -> bool:
    """Whether its owner should be told now that it expires soon (once, ``remind_days_before`` ahead)."""
    expires_at = exception.expires_at
    if expires_at is None or not exception.active(now) or exception.reminded_at is not None:
        return False
    return settings.remind_days_before >= 1 and now >= expires_at - timedelta(days=settings.remind_days_before)


def expired(exception: RuleException, now: datetime) -> bool:
    """Approved, and its time is up: the watch marks it expired and judges the resource again."""
    expires_at = exception.expires_at
    return exception.status is ExceptionStatus.APPROVED and expires_at is not None and now >= expires_at


def exception_from_dict(data: object) -> RuleException:
    """An exception as ``iamwarden exception list --format json`` prints it (``iamwarden evaluate --exceptions``).

    ``status`` defaults to approved and ``requested_at`` to ``approved_at``; an approved one needs ``expires_at``.
    A malformed entry is an ``ExceptionRefused`` that names the field.
    """
    if not isinstance(data, dict):
        raise ExceptionRefused(f"An exception is a JSON object, got {type(data).__name__}.")

    def text(name: str, *, required: bool = False) -> str | None:
        value = data.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise ExceptionRefused(f"Exception field {name!r} must be a non-empty string, got {value!r}.")
        return value.strip()

    def moment(name: str) -> datetime | None:
        value = text(name)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ExceptionRefused(f"Exception field {name!r} must be an ISO 8601 time, got {value!r}.") from None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)

    try:
        status = ExceptionStatus(data.get("status", ExceptionStatus.APPROVED.value))
    except ValueError:
        raise ExceptionRefused(
            f"Exception field 'status' must be one of {', '.join(s.value for s in ExceptionStatus)}, "
            f"got {data.get('status')!r}."
        ) from None
    scope = validate_scope(
        ExceptionScope(
            str(text("rule", required=True)),
            text("resource_pattern"),
            text("actor_pattern"),
            literal=_literal_field(data.get("literal")),
        ),
        RULES,
    )
    approved_at = moment("approved_at")
    expires_at = moment("expires_at")
    requested_at = moment("requested_at") or approved_at or expires_at
    if status is ExceptionStatus.APPROVED and expires_at is None:
        raise ExceptionRefused("An approved exception needs 'expires_at'.")
    days = data.get("days", 1)
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ExceptionRefused(f"Exception field 'days' must be a whole number of at least 1, got {days!r}.")
    return RuleException(
        exception_id=text("exception_id") or "exc-file",
        scope=scope,
        reason=text("reason") or "",
        requester=text("requester") or "",
        requested_at=requested_at or datetime.fromtimestamp(0, UTC),
        days=days,
        status=status,
        approver=text("approver"),
        approved_at=approved_at,
        expires_at=expires_at,
        source_remediation_id=text("source_remediation_id"),
        accepted=_accepted_field(data.get("accepted")),
    )


def _literal_field(value: Any) -> bool:
    """The ``literal`` flag of an exception written out (``exception_summary``); absent: a pattern."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ExceptionRefused(f"Exception field 'literal' must be true or false, got {value!r}.")
    return value


def _accepted_field(value: Any) -> frozenset[str]:
    """The ``accepted`` fingerprints of an exception written out (``exception_summary``); none when absent."""
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ExceptionRefused(f"Exception field 'accepted' must be a list of fingerprints, got {value!r}.")
    return frozenset(value)


def exception_summary(exception: RuleException) -> dict[str, Any]:
    """The exception as plain data (the audit item, ``iamwarden exception list --format json``)."""
    data: dict[str, Any] = {
        "exception_id": exception.exception_id,
        "rule": exception.scope.rule_id,
        "resource_pattern": exception.scope.resource_pattern,
        "actor_pattern": exception.scope.actor_pattern,
        # A resource named exactly (made from a remediation): read back, its * and ? stay characters (s11 F15).
        "literal": exception.scope.literal,
        "reason": exception.reason,
        "requester": exception.requester,
        "requested_at": exception.requested_at.isoformat(),
        "days": exception.days,
        "status": exception.status.value,
        "approver": exception.approver,
        "approved_at": exception.approved_at.isoformat() if exception.approved_at else None,
        "expires_at": exception.expires_at.isoformat() if exception.expires_at else None,
        "source_remediation_id": exception.source_remediation_id,
        "ended_by": exception.ended_by,
        "ended_at": exception.ended_at.isoformat() if exception.ended_at else None,
        # What it accepts, so an exception written out and read back (--exceptions FILE) covers no more (s11 W3).
        "accepted": sorted(exception.accepted) if exception.accepted else None,
    }
    return {key: value for key, value in data.items() if value is not None}
