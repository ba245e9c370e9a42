"""What a guardrail's spec is made of: rule ids, events, settings, severities, modes and plain-language risk.

Only the types live here. Each guardrail module declares its own rule specs
beside its judgement and remediation; ``iamwarden.guardrails.registry`` collects
them and registers them here (``register_rules``), so the settings model, which
validates per-rule options, sees every rule without importing the guardrails.
Rule ids are stable: they name SSM parameters (``/<prefix>/rules/<id>/...``),
metrics and alerts.
"""

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Mode(StrEnum):
    """What the enforcer does with a rule's findings."""

    OFF = "off"
    ALERT = "alert"
    REMEDIATE = "remediate"

    def does_at_least(self, other: "Mode") -> bool:
        """Whether this mode does all ``other`` does (remediate > alert > off): a rule leaves a finding to another
        only when that one would act on it as far as itself would."""
        order = (Mode.OFF, Mode.ALERT, Mode.REMEDIATE)
        return order.index(self) >= order.index(other)


class OptionSpec(NamedTuple):
    """One per-rule setting: a list of patterns, a list of SHA-256 fingerprints, or one choice among fixed values."""

    kind: str  # "patterns" | "fingerprints" | "choice"
    default: tuple[str, ...] | str
    doc: str
    choices: tuple[str, ...] = ()


class RuleSpec(NamedTuple):
    """What a rule guards and how operators tune it."""

    id: str
    title: str
    event_source: str
    event_names: frozenset[str]
    risk: str
    options: Mapping[str, OptionSpec] = MappingProxyType({})
    #: The risk as an alert tells it to whoever made the change (plain words, one sentence); ``risk`` if empty.
    alert_risk: str = ""
    #: The CloudFormation-style types of the resources whose access the rule guards (``AWS::S3::Bucket``):
    #: tests compare them with the types IAM Access Analyzer analyses for external access.
    resource_types: frozenset[str] = frozenset()
    #: The mode the rule starts in. ``alert`` for every rule but those nothing legitimate ever trips.
    default_mode: Mode = Mode.ALERT
    #: The names of ``event_names`` that CloudTrail records as AWS service events ("AWS Service Event via
    #: CloudTrail", ``eventType`` ``AwsServiceEvent``), not API calls. An event of one kind never reaches a rule
    #: that expects the other: the engine checks it, and the generated patterns route each kind by its detail-type.
    service_events: frozenset[str] = frozenset()


COMMON_OPTIONS: Mapping[str, OptionSpec] = {
    "mode": OptionSpec("choice", Mode.ALERT.value, "off, alert or remediate", tuple(m.value for m in Mode)),
    "allow_actors": OptionSpec(
        "patterns", (), "ARN patterns of callers (user, role or session issuer) whose changes are accepted"
    ),
    "allow_resources": OptionSpec("patterns", (), "ARN patterns of resources this rule leaves alone"),
}

_REGISTERED: dict[str, RuleSpec] = {}

#: Every registered rule, by id: a live read-only view that the guardrail registry fills on import.
RULES: Mapping[str, RuleSpec] = MappingProxyType(_REGISTERED)


def register_rules(specs: Iterable[RuleSpec]) -> Mapping[str, RuleSpec]:
    """Make ``specs`` known to the settings model (the guardrail registry calls this once); returns ``RULES``.

    A rule id registered twice must be the same spec: two guardrails may share a rule, never redefine it.
    """
    for spec in specs:
        known = _REGISTERED.setdefault(spec.id, spec)
        if known != spec:
            raise ValueError(f"rule {spec.id} is declared twice, differently")
    return RULES


def default_mode(rule_id: str) -> Mode:
    """The mode ``rule_id`` starts in (``alert`` for a rule no guardrail registered)."""
    spec = RULES.get(rule_id)
    return spec.default_mode if spec is not None else Mode.ALERT


def options_of(rule_id: str) -> Mapping[str, OptionSpec]:
    """All settings of a rule: the common ones plus its own."""
    return {**COMMON_OPTIONS, **RULES[rule_id].options}
