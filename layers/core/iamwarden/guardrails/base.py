"""What every guardrail shares: the context it judges in and the shape of its answer."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from iamwarden.domain.arns import partition_of
from iamwarden.domain.catalog import RuleSpec, Severity
from iamwarden.domain.events import CloudTrailChange, event_instant, json_type_name, new_tuple
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.exposure import Circumstances, NetworkOwners, OriginAccessIdentities
from iamwarden.domain.findings import Finding, RemediationStep
from iamwarden.domain.managed_documents import ManagedPolicyDocuments
from iamwarden.domain.principals import RoleDirectory
from iamwarden.domain.recorded import Recorded, Snapshot
from iamwarden.domain.settings import RuleSettings, Settings
from iamwarden.guardrails.remediation import AccountClients

#: The live clients of an account and region (``(account, region) -> AccountClients``).
LiveClients = Callable[[str, str], AccountClients]


class RuleContext(NamedTuple):
    """One change being judged under one set of settings."""

    change: CloudTrailChange
    settings: Settings
    alert_only: bool = False
    #: Reads customer-managed policy versions the event does not carry (the enforcer's live reader);
    #: None offline, where a rule that needs one says it cannot judge (``Evaluation.unjudged``).
    documents: ManagedPolicyDocuments | None = None
    #: What other principals hold (the changed principal's other policies, passed roles, a function's role):
    #: live in the enforcer, from ``--authorization-details`` offline, None when nothing is known.
    directory: RoleDirectory | None = None
    #: Who owns a VPC endpoint or VPC that an ``aws:SourceVpce``/``aws:SourceVpc`` condition names: EC2 in the
    #: resource's account in the enforcer, None offline (such a grant is then alert-only, ``needs_context``).
    networks: NetworkOwners | None = None
    #: Whether a ``CanonicalUser`` principal is a CloudFront origin access identity of the resource's account:
    #: CloudFront's listing in the enforcer, None offline (then only ``cloudfront_oai_canonical_ids`` says so).
    origin_access_identities: OriginAccessIdentities | None = None
    #: Reads what a resource holds now when the event does not say (a function's policy behind a new function
    #: URL): the enforcer's clients of the event's account; None offline, where such a verdict names what it
    #: could not read (``needs_context``). A read may only call what a remediation step of the rule declares.
    live_clients: LiveClients | None = None
    #: IAM Warden's own remediations and last-known-good snapshots (the audit table): live in the enforcer,
    #: None offline, where a verdict resting on them says so.
    recorded: Recorded | None = None
    #: Whether the engine will exempt a finding (allow_actors, allow_resources, an active exception), and why: a
    #: rule whose findings act together (the KMS key's plans, review s14 R6) counts only those that will run.
    #: None: nothing is exempted (a context built outside the engine).
    exempted: Callable[[Finding], str | None] | None = None

    @property
    def partition(self) -> str:
        return partition_of(self.change.region)

    def circumstances(self) -> Circumstances:
        """What the exposure analysis may know about this change: its Region, its time, who owns networks, which
        canonical users are origin access identities."""
        return Circumstances(
            self.change.region, event_instant(self.change), self.networks, self.origin_access_identities
        )

    def rule(self, rule_id: str) -> RuleSettings:
        return self.settings.rule(rule_id)

    def finding(
        self,
        spec: RuleSpec,
        *,
        severity: Severity,
        resource_arn: str,
        reason: str,
        plan: Sequence[RemediationStep],
        offending: Sequence[Mapping[str, Any]] = (),
        needs_context: Sequence[str] = (),
    ) -> Finding:
        """A finding for this change; a break-glass (alert-only) finding carries no plan.

        ``needs_context`` names the facts the verdict rests on that could not be known here: the plan is
        kept (the alert says what remediation would do) but the enforcer never carries it out.
        """
        change = self.change
        alert_only = self.alert_only
        # Every field, in ``Finding``'s order (``new_tuple``).
        return new_tuple(
            Finding,
            (
                spec.id,
                severity,
                resource_arn,
                change.account,
                change.region,
                change.actor,
                change.event_id,
                change.event_name,
                reason,
                self.settings.rule(spec.id).mode,
                () if alert_only else tuple(plan),
                tuple(offending),
                alert_only,
                tuple(needs_context),
                "",  # if_denied: set by a rule that keeps a plan a Deny may refuse
            ),
        )

    def request_text(self, key: str) -> str:
        """A required string request parameter, or ``InvalidEventError`` naming it."""
        value = self.change.request_parameters.get(key)
        if not isinstance(value, str) or not value:
            got = "missing" if value is None else f"{json_type_name(value)}"
            raise InvalidEventError(f"detail.requestParameters.{key} must be a non-empty string ({got})")
        return value


class Evaluation:
    """A guardrail's answer: findings, or the reasons the change is fine (built up by the rule)."""

    __slots__ = ("compliant", "findings", "observed", "resource_arn", "unjudged")

    def __init__(self, resource_arn: str | None = None) -> None:
        self.resource_arn = resource_arn
        self.findings: list[Finding] = []
        self.compliant: list[str] = []
        #: Why the rule could not judge (the data it needs is not in the event and no reader was given).
        self.unjudged: list[str] = []
        #: What the change set (or what the rule read while judging it), for the audit table's snapshots: the enforcer
        #: keeps them once it has acted, unless it remediated (then what was there before is in force again).
        self.observed: list[Snapshot] = []


class Guardrail(Protocol):
    """A rule (or a family of rules sharing one analysis) over some CloudTrail events."""

    @property
    def specs(self) -> tuple[RuleSpec, ...]: ...

    def evaluate(self, context: RuleContext) -> Evaluation: ...
