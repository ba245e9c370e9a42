"""What the guardrails decide, as data: verdicts, findings and remediation plans.

Rules only decide; an executor (the enforcer) acts. A plan is a list of
``RemediationStep``s naming the action, the exact target and parameters, and
each action's name carries the IAM permissions it needs so the enforcer's own
role can be checked to grant exactly their union.
"""

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple

from iamwarden.domain.catalog import Mode, Severity
from iamwarden.domain.events import Actor, CloudTrailChange
from iamwarden.domain.recorded import Snapshot


class Verdict(StrEnum):
    VIOLATION = "violation"
    COMPLIANT = "compliant"
    IGNORED = "ignored"
    INVALID = "invalid"


class Outcome(StrEnum):
    """What became of a finding; every outcome is alerted."""

    ALERTED = "alerted"  # alert mode: nothing changed; the plan says what remediate mode would do
    REMEDIATED = "remediated"  # the plan ran and the live state is fixed (or already was)
    REMEDIATION_FAILED = "remediation_failed"  # part or all of the plan failed; the audit record says which
    NOTEWORTHY = "noteworthy"  # ignored but worth telling, e.g. a break-glass principal's change
    CONFIGURATION_ERROR = "configuration_error"  # a setting is invalid; its rule fell back to alert
    REJECTED = "rejected"  # the event names another account than its own (forged or misrouted); nothing done
    CIRCUIT_BREAKER_TRIPPED = "circuit_breaker_tripped"  # too many remediations too fast: now alert-only


class _Listing(type):
    """The enum-like class view of ``StepAction``: ``StepAction.DETACH_MANAGED_POLICY``, ``list(StepAction)``."""

    _listed: dict[str, "StepAction"]

    def __iter__(cls) -> Iterator["StepAction"]:
        return iter(cls._listed.values())

    def __len__(cls) -> int:
        return len(cls._listed)

    def __getattr__(cls, name: str) -> "StepAction":
        member = cls._listed.get(name.lower()) if name.isupper() else None
        if member is None:
            raise AttributeError(f"no remediation action is listed as StepAction.{name}")
        return member


class StepAction(str, metaclass=_Listing):
    """The name of a remediation action, with the IAM actions its ``capture`` and ``apply`` call.

    Plans, the audit trail and the JSON output spell it as the bare name (``detach_managed_policy``).
    Each guardrail module names its own actions (``StepAction("detach_managed_policy", permissions)``,
    the permissions declared on the action class); ``iamwarden.guardrails.registry`` lists them
    (``StepAction.list_actions``), which gives the class its enum-like view. A name read back from the
    audit trail is the listed one, permissions and all.
    """

    __slots__ = ("permissions",)
    _listed: ClassVar[dict[str, "StepAction"]] = {}
    permissions: tuple[str, ...]

    def __new__(cls, value: str, permissions: Iterable[str] | None = None) -> "StepAction":
        if permissions is None:
            listed = cls._listed.get(value)
            if listed is not None:
                return listed
        action = super().__new__(cls, value)
        action.permissions = tuple(permissions or ())
        return action

    @property
    def value(self) -> str:
        return str(self)

    @property
    def name(self) -> str:
        return self.upper()

    @classmethod
    def list_actions(cls, actions: Iterable["StepAction"]) -> None:
        """List ``actions`` as the class's members (the guardrail registry does, once)."""
        for action in actions:
            known = cls._listed.setdefault(str(action), action)
            if known is not action:
                raise ValueError(f"two remediation actions are named {action}")


class RemediationStep(NamedTuple):
    """One action of a plan against one exact target."""

    action: StepAction
    target: str
    parameters: Mapping[str, Any] = MappingProxyType({})
    summary: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RemediationStep":
        """Read back ``to_dict`` (from the audit trail)."""
        return cls(StepAction(data["action"]), data["target"], dict(data["parameters"]), data.get("summary", ""))

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "target": self.target,
            "parameters": dict(self.parameters),
            "summary": self.summary,
        }


class Finding(NamedTuple):
    """One guardrail violation by one change, with the plan that would undo it."""

    rule_id: str
    severity: Severity
    resource_arn: str
    account: str
    region: str
    actor: Actor
    event_id: str
    event_name: str
    reason: str
    mode: Mode
    plan: tuple[RemediationStep, ...] = ()
    offending: tuple[Mapping[str, Any], ...] = ()
    alert_only: bool = False
    #: The facts the verdict rests on that IAM Warden could not know (say, who owns a VPC endpoint, or
    #: what a passed role may do). A finding that lacks any is never remediated: it is alerted with them.
    needs_context: tuple[str, ...] = ()
    #: The final alert when the plan's call is refused (AccessDenied): the policy may deny IAM Warden (a Deny whose
    #: conditions it cannot decide), so a refusal is no transient failure to retry and dead-letter (review s13 F1).
    if_denied: str = ""

    @property
    def certain(self) -> bool:
        """Every fact the verdict rests on is known: only a certain finding may be remediated."""
        return not self.needs_context

    @property
    def finding_id(self) -> str:
        """Stable id: the same CloudTrail event and rule always give the same finding id."""
        return hashlib.sha256(f"{self.event_id}/{self.rule_id}".encode()).hexdigest()[:20]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], actor: Actor) -> "Finding":
        """Read back ``to_dict`` (from the audit trail); the actor comes from the event, which has it whole."""
        return cls(
            rule_id=data["rule"],
            severity=Severity(data["severity"]),
            resource_arn=data["resource"],
            account=data["account"],
            region=data["region"],
            actor=actor,
            event_id=data["event_id"],
            event_name=data["event_name"],
            reason=data["reason"],
            mode=Mode(data["mode"]),
            plan=tuple(RemediationStep.from_dict(step) for step in data.get("plan", ())),
            offending=tuple(data.get("offending", ())),
            alert_only=bool(data.get("alert_only", False)),
            needs_context=tuple(data.get("needs_context", ())),
            if_denied=str(data.get("if_denied", "")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "finding_id": self.finding_id,
            "rule": self.rule_id,
            "severity": self.severity.value,
            "resource": self.resource_arn,
            "account": self.account,
            "region": self.region,
            "actor": self.actor.display,
            "event_id": self.event_id,
            "event_name": self.event_name,
            "reason": self.reason,
            "mode": self.mode.value,
            "alert_only": self.alert_only,
            "certain": self.certain,
            "needs_context": list(self.needs_context),
            "offending": [dict(item) for item in self.offending],
            "plan": [step.to_dict() for step in self.plan],
        } | ({"if_denied": self.if_denied} if self.if_denied else {})


class Judgement(NamedTuple):
    """The verdict on one event: why, and the findings (empty unless something offends)."""

    verdict: Verdict
    reason: str
    change: CloudTrailChange | None = None
    findings: tuple[Finding, ...] = ()
    rule_ids: tuple[str, ...] = ()
    resource_arn: str | None = None
    #: The event names an account other than its own (forged or misrouted): alerted as a security event.
    rejected: bool = False
    #: Rules that could not judge the change because what they need could not be read live (a permanent
    #: AWS error such as AccessDenied): each says what and why, has no plan, and is alerted, never acted on.
    unjudged: tuple[Finding, ...] = ()
    #: What the change set, as snapshots for the audit table (``Evaluation.observed``).
    observed: tuple[Snapshot, ...] = ()
