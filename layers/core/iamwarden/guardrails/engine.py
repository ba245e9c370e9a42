"""Judge one CloudTrail change against the guardrails: the verdict everything acts on.

Order matters and is part of the contract. A change is ``ignored`` (with the
reason) when no guardrail covers it, when the call failed (errorCode), when it
is read-only, when IAM Warden's own role made it (matched on the session
issuer's role name, never on the session name, which the caller chooses), when
an AWS service or a service-linked role made it, or when its account is not
managed. A break-glass principal's change is judged but stays ``ignored``:
its findings are alert-only and carry no plan.

Nothing an event says about *where* to act is trusted. An event is judged in
the account of its envelope (``account``), by that account's settings
(``Settings.for_account``). If the record's ``recipientAccountId``, a
resource's ``accountId``, or the account in the ARN of a finding's resource or
plan target names another account, the event is ``invalid`` and ``rejected``:
a forged or misrouted event is alerted to the security channel and never acted
on, so one member account can never steer IAM Warden into another.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from iamwarden.adapters.errors import PermanentAwsError
from iamwarden.domain.arns import parse_role_arn
from iamwarden.domain.catalog import Mode, RuleSpec, Severity
from iamwarden.domain.documents import (
    PolicyKind,
    decode_policy_document,
    other_parameters,
    record_texts,
    stop_recording,
)
from iamwarden.domain.events import CloudTrailChange, event_instant, new_tuple, parse_event
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.exposure import NetworkOwners, OriginAccessIdentities
from iamwarden.domain.findings import Finding, Judgement, RemediationStep, Verdict
from iamwarden.domain.managed_documents import ManagedPolicyDocuments
from iamwarden.domain.principals import RoleDirectory
from iamwarden.domain.recorded import OWN_ROLE, PastRemediation, Recorded, Snapshot
from iamwarden.domain.settings import Settings
from iamwarden.domain.settings_guard import guarding_a_settings_write
from iamwarden.domain.wildcards import arn_match
from iamwarden.guardrails.base import Guardrail, LiveClients
from iamwarden.guardrails.registry import GUARDRAILS_BY_EVENT, RuleContext

if TYPE_CHECKING:
    from iamwarden.domain.rule_exceptions import RuleException

SERVICE_LINKED_ROLE_PATH = "/aws-service-role/"
#: The keys of the offending item that says which attached policy (and version) a finding is about.
_NAMES_THE_POLICY = frozenset({"policy_arn", "version_id"})


def judge_event(
    raw: str | bytes | Mapping[str, Any],
    settings: Settings,
    documents: ManagedPolicyDocuments | None = None,
    directory: RoleDirectory | None = None,
    *,
    networks: NetworkOwners | None = None,
    origin_access_identities: OriginAccessIdentities | None = None,
    live_clients: LiveClients | None = None,
    recorded: Recorded | None = None,
    exceptions: Sequence[RuleException] = (),
    now: datetime | None = None,
) -> Judgement:
    """Parse and judge one EventBridge event; malformed input is an ``invalid`` judgement.

    ``documents`` reads customer-managed policy versions that the event does not carry (the enforcer passes
    its live reader); without it, such an event is ``ignored`` with the reason that it cannot be judged offline.
    ``directory`` answers what principals hold beyond the event (live, or from authorization details);
    without it, a verdict that depends on that says what it lacks (``Finding.needs_context``).
    ``networks`` says who owns the VPC endpoints and VPCs that ``aws:SourceVpce``/``aws:SourceVpc`` conditions
    name (the enforcer's EC2 lookup); without it, a grant through an unlisted network is alert-only.
    ``origin_access_identities`` says which ``CanonicalUser`` principals are CloudFront origin access identities
    (the enforcer's CloudFront lookup); without it, only those in ``cloudfront_oai_canonical_ids`` are known.
    ``live_clients`` reads resource state the event does not carry (``RuleContext.live_clients``).
    ``recorded`` answers what IAM Warden itself did and last saw (the audit table); None offline.
    ``exceptions`` exempt what they cover while active at ``now`` (default: the change's own time), like an
    allowlist entry (``domain.rule_exceptions``).
    """
    try:
        change = parse_event(raw)
    except InvalidEventError as exc:
        return Judgement(Verdict.INVALID, str(exc))
    return judge_change(
        change,
        settings,
        documents,
        directory,
        networks=networks,
        origin_access_identities=origin_access_identities,
        live_clients=live_clients,
        recorded=recorded,
        exceptions=exceptions,
        now=now,
    )


def judge_change(
    change: CloudTrailChange,
    settings: Settings,
    documents: ManagedPolicyDocuments | None = None,
    directory: RoleDirectory | None = None,
    *,
    networks: NetworkOwners | None = None,
    origin_access_identities: OriginAccessIdentities | None = None,
    live_clients: LiveClients | None = None,
    recorded: Recorded | None = None,
    exceptions: Sequence[RuleException] = (),
    now: datetime | None = None,
) -> Judgement:
    """Judge a parsed change; ``exceptions`` and ``now`` as in ``judge_event``."""
    guardrails = _judging(change)
    if not guardrails:
        kind = " as an AWS service event" if change.service_event else ""
        return _ignored(change, f"not guarded: no rule covers {change.event_source} {change.event_name}{kind}")
    elsewhere = foreign_account_claim(change)
    if elsewhere:
        return _rejected(change, elsewhere)
    future = _from_the_future(change, now)
    if future:
        return _rejected_time(change, future)
    # A write to IAM Warden's own settings is judged by the settings before it, never exempted by itself.
    settings = guarding_a_settings_write(settings, change) or settings.for_account(change.account)
    if change.failed:
        why = change.error_code or "every entry of the batch failed, as its response reports"
        return _ignored(change, f"failed call ({why}): it changed nothing")
    if change.read_only:
        return _ignored(change, "read-only call: it changed nothing")
    actor = change.actor
    issuer = actor.session_issuer_arn or ""
    role = parse_role_arn(issuer) if actor.session_issuer_type in (None, "Role") else None
    # Own sessions by exact identity (domain.own.OwnIdentity.own_session): the stack's role ARNs under the session
    # Lambda names after the role's own function, or a member stack's role whose RoleId the heartbeat read. A
    # look-alike (role/dev/iamwarden-x, another account, another stack's iamwarden-*, a role created again under
    # the same name) and another function given an own role are judged.
    if role and settings.own.own_session(issuer, actor.principal_id, change.account, _role_id_reader(recorded)):
        return _ignored(change, f"made by IAM Warden's own role {issuer}")
    # A service event is always the service's own record (that is what it is), so "an AWS service made it" says
    # nothing there; only rules that name the event in ``service_events`` see one (``_expects_kind``).
    if actor.type == "AWSService" and not change.service_event:
        return _ignored(change, f"made by the AWS service {actor.invoked_by or 'unknown'}")
    if role and role.path.startswith(SERVICE_LINKED_ROLE_PATH):
        return _ignored(change, f"made by the service-linked role {role.name}")
    if actor.invoked_by == IDENTITY_CENTER and _identity_center_provisioning(change):
        # Identity Center provisioning a permission set writes its AWSReservedSSO_ role (and its own SAML provider)
        # through IAM under the caller's identity, with invokedBy set by AWS (no caller can set it). What the role may
        # do is judged where it is decided, at the permission set (permission-set-admin); undoing it here would
        # fight the provisioning (and deleting the provider would lock out every set's role in the account).
        return _ignored(change, "made by IAM Identity Center provisioning a permission set (judged at the set)")
    if not settings.manages(change.account):
        return _ignored(change, f"account {change.account} is not managed by IAM Warden")
    break_glass = settings.is_break_glass(actor.arn, issuer)

    if recorded is not None:
        recorded = _ReadOnce(recorded)
    # Every field in RuleContext's order, built in C (``new_tuple``): keywords cost a NamedTuple about twice as much,
    # and even by position its Python-level ``__new__`` runs, on every event.
    context = new_tuple(
        RuleContext,
        (
            change,
            settings,
            break_glass is not None,
            documents,
            directory,
            networks,
            origin_access_identities,
            live_clients,
            recorded,
            lambda finding: (
                _exemption(finding, settings, change, directory, documents)
                or _excepted(finding, exceptions, now, change, settings)
            ),
        ),
    )
    rule_ids: list[str] = []
    findings: list[Finding] = []
    compliant: list[str] = []
    unjudged: list[str] = []
    unreadable: list[Finding] = []
    unparsed: list[str] = []
    observed: list[Snapshot] = []
    switched_off: list[str] = []
    resource_arn: str | None = None
    invalid: InvalidEventError | None = None
    texts = record_texts()
    try:
        for guardrail in guardrails:
            specs = guardrail.specs
            active = [spec.id for spec in specs if settings.rule(spec.id).mode is not Mode.OFF]
            if len(active) < len(specs):
                switched_off.extend(spec.id for spec in specs if spec.id not in active)
            if not active:
                continue
            rule_ids.extend(active)
            try:
                evaluation = guardrail.evaluate(context)
            except PermanentAwsError as exc:  # retrying will not help: say so, never guess (TransientAwsError retries)
                unreadable.append(_unreadable(context, next(s for s in guardrail.specs if s.id in active), exc))
                unjudged.append(unreadable[-1].reason)
                continue
            except InvalidEventError as exc:
                # A rule that cannot read a routed event judges nothing, but says so: a parser gap or a wrong size
                # limit must never be a silent way past IAM Warden, and the other rules' findings stand
                # (review s11 F19).
                unparsed.append(str(exc))
                unreadable.append(_unparsed(context, next(s for s in guardrail.specs if s.id in active), exc))
                continue
            resource_arn = resource_arn or evaluation.resource_arn
            compliant.extend(evaluation.compliant)
            unjudged.extend(evaluation.unjudged)
            observed.extend(evaluation.observed)
            for finding in evaluation.findings:
                if finding.rule_id not in active:
                    continue
                exemption = _exemption(finding, settings, change, directory, documents) or _excepted(
                    finding, exceptions, now, change, settings
                )
                if exemption:
                    compliant.append(exemption)
                else:
                    findings.append(finding)
    except InvalidEventError as exc:
        invalid = exc
    finally:
        stop_recording()
    # Most events decode no policy text: then no text has another reading (``other_parameters`` says so too).
    others, where = other_parameters(texts, change.request_parameters) if texts else ([], ())
    if others:
        # A rule that could not read the last-wins reading counts as that reading being invalid (one AWS would
        # have refused), as a whole-event InvalidEventError does.
        unread = invalid if invalid is not None else (InvalidEventError("; ".join(unparsed)) if unparsed else None)
        findings = _read_either_way(
            context,
            guardrails=guardrails,
            exceptions=exceptions,
            now=now,
            others=others,
            where=where,
            findings=findings,
            invalid=unread,
        )
        invalid = None if findings else invalid
    if invalid is not None:
        return Judgement(Verdict.INVALID, str(invalid), change, rule_ids=tuple(rule_ids))
    if unparsed and not findings:
        return Judgement(
            Verdict.INVALID, "; ".join(unparsed), change, (), tuple(rule_ids), resource_arn, unjudged=tuple(unreadable)
        )
    elsewhere = _foreign_target(change, resource_arn, findings)
    if elsewhere:
        return _rejected(change, elsewhere, tuple(rule_ids), resource_arn)

    if not rule_ids:
        return _ignored(change, f"rule {', '.join(switched_off)} is off")
    # What the event leaves attached to its principal, the next event's "before" (guardrails.attachments). Only
    # live (the audit table is there): imported then, so the offline CLI and the cold start never load it.
    if recorded is not None:
        from iamwarden.guardrails.attachments import attachment_observations  # noqa: PLC0415

        observed.extend(attachment_observations(context, findings))
    if findings and break_glass:
        return Judgement(
            Verdict.IGNORED,
            f"made by break-glass principal {break_glass}: alerted, never remediated",
            change,
            tuple(findings),
            tuple(rule_ids),
            resource_arn,
            unjudged=tuple(unreadable),
            observed=tuple(observed),
        )
    if not findings and unjudged:
        return Judgement(
            Verdict.IGNORED,
            "cannot judge: " + "; ".join(unjudged),
            change,
            (),
            tuple(rule_ids),
            resource_arn,
            unjudged=tuple(unreadable),
            observed=tuple(observed),
        )
    # The two verdicts most events end in: every field of Judgement, in its order, built in C (``new_tuple``).
    if findings:
        reason = " ".join([finding.reason for finding in findings])
        return new_tuple(
            Judgement,
            (
                Verdict.VIOLATION,
                reason,
                change,
                tuple(findings),
                tuple(rule_ids),
                resource_arn,
                False,
                tuple(unreadable),
                tuple(observed),
            ),
        )
    return new_tuple(
        Judgement,
        (
            Verdict.COMPLIANT,
            "; ".join(compliant) or "compliant",
            change,
            (),
            tuple(rule_ids),
            resource_arn,
            False,
            (),
            tuple(observed),
        ),
    )


def _read_either_way(
    context: RuleContext,
    *,
    guardrails: Sequence[Guardrail],
    exceptions: Sequence[RuleException],
    now: datetime | None,
    others: list[dict[str, Any]],
    where: Sequence[str],
    findings: list[Finding],
    invalid: InvalidEventError | None,
) -> list[Finding]:
    """The findings on a change whose policy text names a key twice with different values, or a condition key in
    two cases (``documents.other_parameters``): AWS documents no reading of either, so the rules judge each
    reading. When every reading AWS could have accepted gives the same findings, they stand as they are, plans and
    all (remediated as any other). When the readings disagree, every finding of any reading is alerted, never
    remediated (``needs_context``): which one AWS enforces is unknown. A reading the rules find invalid is one AWS
    would have refused, and the call succeeded, so it is not AWS's. A ``CreatePolicyVersion`` is decided as the
    managed-policy rules decide a default version read every way (``readings.decide``).
    """
    readings = [] if invalid is not None else [findings]
    labels = [] if invalid is not None else ["with each key's last value"]
    for number, parameters in enumerate(others, 2):
        change = context.change._replace(request_parameters=parameters)
        judged = _findings_on(context._replace(change=change), guardrails, exceptions, now)
        if judged is not None:
            readings.append(judged)
            labels.append(f"another way (reading {number})")
    if context.change.event_name == "CreatePolicyVersion":
        # A new default version is decided as a default made of an existing one (review s14, the lead's decision):
        # a reading that opens something with certainty is undone, plans and all; see ``readings.decide``.
        from iamwarden.domain.readings import Reading, decide  # noqa: PLC0415 - with the identity_policy guardrail

        named = [Reading(label, found) for label, found in zip(labels, readings, strict=True)]
        return decide(named, f"the event's policy text ({'; '.join(where)})")
    if invalid is None and all(_same_findings(findings, reading) for reading in readings):
        return findings
    why = (
        f"which value AWS enforces for a key the event's policy text names twice ({'; '.join(where)}): AWS "
        "documents no reading of it, and IAM Warden's readings of the text disagree"
    )
    merged: list[Finding] = []
    for reading in readings:
        merged.extend(finding for finding in reading if not any(_same(finding, kept) for kept in merged))
    return [finding._replace(needs_context=(*finding.needs_context, why)) for finding in merged]


def _findings_on(
    context: RuleContext, guardrails: Sequence[Guardrail], exceptions: Sequence[RuleException], now: datetime | None
) -> list[Finding] | None:
    """What the active rules find on ``context`` (exemptions applied), or None when they find it invalid."""
    settings = context.settings
    found: list[Finding] = []
    try:
        for guardrail in guardrails:
            active = [spec.id for spec in guardrail.specs if settings.rule(spec.id).mode is not Mode.OFF]
            if not active:
                continue
            try:
                evaluation = guardrail.evaluate(context)
            except PermanentAwsError:  # said already by the reading judged first
                continue
            found.extend(
                finding
                for finding in evaluation.findings
                if finding.rule_id in active
                and not (
                    _exemption(finding, settings, context.change, context.directory, context.documents)
                    or _excepted(finding, exceptions, now, context.change, settings)
                )
            )
    except InvalidEventError:
        return None
    return found


def _same(one: Finding, other: Finding) -> bool:
    """The same finding under two readings: one rule, one resource, a plan doing the same thing. A step's
    ``document`` (the before-state kept for the audit record) and a removed statement's text are as each reading
    spells them; which statements are removed (their index) is what the step does."""
    return (
        one.rule_id == other.rule_id
        and one.resource_arn == other.resource_arn
        and len(one.plan) == len(other.plan)
        and all(_step_does(step) == _step_does(then) for step, then in zip(one.plan, other.plan, strict=True))
    )


def _step_does(step: RemediationStep) -> tuple[str, str, dict[str, Any]]:
    parameters = {key: value for key, value in step.parameters.items() if key != "document"}
    statements = parameters.get("statements")
    if isinstance(statements, list):
        parameters["statements"] = [item.get("index") if isinstance(item, Mapping) else item for item in statements]
    return (str(step.action), step.target, parameters)


def _same_findings(ones: list[Finding], others: list[Finding]) -> bool:
    return len(ones) == len(others) and all(any(_same(one, other) for other in others) for one in ones)


class _ReadOnce:
    """The audit table as one judgement reads it: each snapshot read once (several rules of an event, and the engine's
    own ``attachment_observations``, ask for the same principal's record: one consistent read, not three)."""

    __slots__ = ("_recorded", "_snapshots")

    def __init__(self, recorded: Recorded) -> None:
        self._recorded = recorded
        self._snapshots: dict[tuple[str, str], Snapshot | None] = {}

    def remediations(self, resource_arn: str) -> Sequence[PastRemediation]:
        return self._recorded.remediations(resource_arn)

    def snapshot(self, kind: str, resource_arn: str) -> Snapshot | None:
        key = (kind, resource_arn)
        if key not in self._snapshots:
            self._snapshots[key] = self._recorded.snapshot(kind, resource_arn)
        return self._snapshots[key]


def _role_id_reader(recorded: Recorded | None) -> Callable[[str], str | None]:
    """The ``RoleId`` the heartbeat last read of a member stack role (``OWN_ROLE`` snapshot), by its ARN.

    Read only for a call whose issuer has a member stack role's name at path / in a member account: the member
    forwarders drop those calls by that ARN already, so this is almost never read (one item, no cache needed).
    Offline (no audit table) nothing is known, and such a role is judged like any other.
    """

    def role_id(arn: str) -> str | None:
        snapshot = recorded.snapshot(OWN_ROLE, arn) if recorded is not None else None
        found = snapshot.data.get("role_id") if snapshot is not None else None
        return found if isinstance(found, str) and found else None

    return role_id


def _unparsed(context: RuleContext, spec: RuleSpec, exc: InvalidEventError) -> Finding:
    """A finding with no plan that says the rule could not read the event itself, and why."""
    change = context.change
    return context.finding(
        spec,
        severity=Severity.MEDIUM,
        resource_arn=f"arn:{context.partition}:iam::{change.account}:root",
        reason=(
            f"IAM Warden could not judge {change.event_name} by {change.actor.display} for rule {spec.id}, so it "
            f"changed nothing: {exc}. A genuine call IAM Warden cannot read is a gap in its watch, and a forged "
            "event is someone feeding it: check the change by hand."
        ),
        plan=(),
    )


def _unreadable(context: RuleContext, spec: RuleSpec, exc: PermanentAwsError) -> Finding:
    """A finding with no plan that says the rule could not read what it needs, and why."""
    change = context.change
    what = exc.resource or f"what rule {spec.id} needs"
    return context.finding(
        spec,
        severity=Severity.HIGH,
        resource_arn=exc.resource or f"arn:{context.partition}:iam::{change.account}:root",
        reason=(
            f"IAM Warden could not read {what} to judge {change.event_name} by {change.actor.display}, so it "
            f"changed nothing: {exc}. Check the change by hand"
            + (", and that IAM Warden's role may read it." if exc.access_denied else ".")
        ),
        plan=(),
    )


#: IAM Identity Center's service principal, as CloudTrail names it in ``userIdentity.invokedBy`` when it provisions
#: a permission set's role.
IDENTITY_CENTER = "sso.amazonaws.com"
#: Where Identity Center creates a permission set's role (a region may follow).
IDENTITY_CENTER_ROLE_PATH = "/aws-reserved/sso.amazonaws.com/"


def _identity_center_provisioning(change: CloudTrailChange) -> bool:
    """Whether an IAM write Identity Center made is to what it provisions: an ``AWSReservedSSO_`` role (created at
    its reserved path) or its ``AWSSSO_..._DO_NOT_DELETE`` SAML provider. Any other write it made is judged."""
    if change.event_source != "iam.amazonaws.com":
        return False
    request = change.request_parameters
    role = request.get("roleName")
    if isinstance(role, str):
        if not role.startswith("AWSReservedSSO_"):
            return False
        path = request.get("path")
        return change.event_name != "CreateRole" or (
            isinstance(path, str) and path.startswith(IDENTITY_CENTER_ROLE_PATH)
        )
    provider = request.get("name") if change.event_name == "CreateSAMLProvider" else request.get("sAMLProviderArn")
    name = str(provider or "").rsplit("/", 1)[-1]
    return name.startswith("AWSSSO_") and name.endswith("_DO_NOT_DELETE")


#: CloudFormation's service principal, as CloudTrail names it in ``userIdentity.invokedBy``.
CLOUDFORMATION = "cloudformation.amazonaws.com"
#: The rule whose findings on the own roles' documented methods CloudFormation may deploy.
PRIVILEGE_ESCALATION = "privilege-escalation"


def _exemption(
    finding: Finding,
    settings: Settings,
    change: CloudTrailChange,
    directory: RoleDirectory | None = None,
    documents: ManagedPolicyDocuments | None = None,
) -> str | None:
    """The allowlist entry that exempts ``finding``, described with the pattern that matched, or None.

    One exemption is built in: IAM Warden's own roles need some escalation methods to do their job (quarantine
    writes an inline user policy, the pruner writes policy versions; ``domain.own.DOCUMENTED_ESCALATIONS``), so
    CloudFormation deploying them is not a finding. It holds only for a ``privilege-escalation`` finding on one
    of the stack's own roles by exact ARN, made through CloudFormation, whose every method is one that role is
    documented to hold (with their compositions: ``domain.own.documented_methods``), or goes through the role's own
    inline attach grant: deployed exactly as declared
    (``_deploys_reattach_grant``), or, when CloudFormation attaches one of the role's declared remediation policies,
    live in ``directory`` exactly as declared (``_attaches_beside_reattach_grant``, review reattach-s16 item 2). The
    same policy written by anyone else, onto any other role (a look-alike name included), or with one method more,
    is judged as usual. So is a change that names no policy the templates declare for that role (``_of_the_stack``:
    another stack's ``AWS::IAM::RolePolicy`` or attach onto the own role, issue 15 item 1).
    """
    if (
        finding.actor.invoked_by == CLOUDFORMATION
        and finding.rule_id == PRIVILEGE_ESCALATION
        and _of_the_stack(finding, settings, change)
    ):
        documented = settings.own.documented_escalations(finding.resource_arn, finding.account)
        # An attached customer-managed policy's finding names the policy first (its ARN and version); the stack's
        # own remediation grants are such policies. The older grants that complete a method (``completed_by``) are
        # no method of their own: the methods they complete are listed. Anything else that is no method keeps the
        # finding.
        methods = {
            str(item.get("method")) for item in finding.offending if set(item) - _NAMES_THE_POLICY - {"completed_by"}
        }
        beyond = methods - documented
        if (
            documented
            and methods
            and (
                not beyond
                or _deploys_reattach_grant(finding, settings, change, documented)
                or _attaches_beside_reattach_grant(
                    finding, settings, change, documented, directory, documents=documents
                )
            )
        ):
            listed = ", ".join(sorted(methods))
            return f"IAM Warden's own role {finding.resource_arn}, deployed by CloudFormation ({listed})"
    rule = settings.rule(finding.rule_id)
    for arn in (finding.actor.arn, finding.actor.session_issuer_arn):
        pattern = next((p for p in rule.allow_actors if arn and arn_match(p, arn)), None)
        if pattern is not None:
            return f"{arn} matches {pattern!r} in rules/{finding.rule_id}/allow_actors"
    pattern = next((p for p in rule.allow_resources if arn_match(p, finding.resource_arn)), None)
    if pattern is not None:
        return f"{finding.resource_arn} matches {pattern!r} in rules/{finding.rule_id}/allow_resources"
    return None


def _of_the_stack(finding: Finding, settings: Settings, change: CloudTrailChange) -> bool:
    """Whether ``change`` is an IAM write to the role the finding is about that names only what the templates
    declare for that role (``declared_content.undeclared_on_own_role``, as ``iamwarden-tampered`` asks): CloudTrail
    does not carry the stack id, and any stack can declare a policy on an own role. A change naming another role,
    or none, is no own-stack write (second reading selfdeploy2-s17).

    Review selfdeploy2-s17: a managed policy must be the stack's by exact ARN (``OwnIdentity.is_own_policy``; not
    known, as offline without ``IAMWARDEN_ENFORCER_POLICY_ARNS``/``IAMWARDEN_MEMBER_POLICY_NAMES``: not exempt),
    and an inline policy the template declares whole (``declared.OWN_INLINE_DOCUMENTS``) must be that document in
    meaning (``_declared_whole``), as ``_deploys_reattach_grant`` asks of the attach grant."""
    parameters = change.request_parameters
    role = parameters.get("roleName")
    arn = finding.resource_arn or ""
    if change.event_source != "iam.amazonaws.com" or not isinstance(role, str) or change.account != finding.account:
        return False
    if role.lower() != arn.rsplit("/", 1)[-1].lower():
        return False
    from iamwarden.domain.declared_content import (  # noqa: PLC0415 - own-stack exemption only
        ROLE_INLINE_EVENTS,
        ROLE_MANAGED_EVENTS,
        undeclared_on_own_role,
    )

    key = "policyName" if change.event_name in ROLE_INLINE_EVENTS else "policyArn"
    policy = parameters.get(key) if change.event_name in ROLE_INLINE_EVENTS | ROLE_MANAGED_EVENTS else ""
    if not isinstance(policy, str):
        return False
    if change.event_name in ROLE_MANAGED_EVENTS and not settings.own.is_own_policy(policy, change.account):
        return False
    if change.event_name == "PutRolePolicy" and not _declared_whole(finding, settings, change, role, policy):
        return False
    return undeclared_on_own_role(settings.own, change.account, change.event_name, role, policy) is None


def _declared_whole(finding: Finding, settings: Settings, change: CloudTrailChange, role: str, policy: str) -> bool:
    """Whether inline policy ``policy`` put onto own role ``role`` is, where the template declares it whole, that
    very document in meaning (``canonical``), filled in as the enforcer knows its stack (partition, account, region
    ``AWS_REGION``, the alert key): a name another stack reuses with another document is no own-stack write, nor is
    one whose declared document names something the enforcer does not know. A name not declared whole (the runtime
    policies, the member roles': their documents are judged by their methods) passes."""
    from iamwarden.domain.declared_content import (  # noqa: PLC0415 - own-stack exemption only
        declared_inline_policy,
        declared_whole,
    )

    own = settings.own
    kind = own.kind_of_role_named(role, change.account) if change.account == own.home_account else None
    if kind is None or not declared_whole(kind, policy):
        return True
    fields = (finding.resource_arn or "").split(":")
    inline = declared_inline_policy(own, role, policy, fields[1]) if len(fields) > 1 else None
    if inline is None or inline.document is None:
        return False
    try:
        written = decode_policy_document(
            change.request_parameters.get("policyDocument"),
            PolicyKind.INLINE_ROLE,
            field="requestParameters.policyDocument",
        )
    except InvalidEventError:
        return False
    return _canonical(written) == _canonical(inline.document)


def _canonical(document: Any) -> str:
    """``domain.canonical.canonical``, imported with the first own-stack exemption asked (not at cold start)."""
    from iamwarden.domain.canonical import canonical  # noqa: PLC0415

    return canonical(document)


def _deploys_reattach_grant(
    finding: Finding, settings: Settings, change: CloudTrailChange, documented: frozenset[str]
) -> bool:
    """Whether ``change`` puts the template's inline attach grant, exactly as declared, onto the own role the
    finding is about, and every method beyond the ``documented`` ones goes through ``iam:AttachRolePolicy`` (with
    the role's other policies it may open a combination, ``AttachRolePolicyThenUpdateAssumeRolePolicy``, whose
    older grants the finding names in a ``completed_by`` item: no method of its own).

    The grant (``declared.REATTACH_GRANTS``: ``iam:AttachRolePolicy`` on that very role, ``ArnEquals``
    ``iam:PolicyARN`` its own remediation policies) attaches nothing but what the stack attaches already. The
    escalation judgement counts conditions as met, so it sees a self-escalation; only the declared document (same
    in meaning: ``canonical``) under the declared name is exempt. Another condition (another ARN, a wildcard,
    ``ArnLike``, a negated operator, ``IfExists``, a set operator, none) or any other statement is judged as usual.
    """
    own = settings.own
    arn = finding.resource_arn or ""
    kind = own.role_kind(arn, finding.account)
    parameters = change.request_parameters
    if kind is None or change.event_name != "PutRolePolicy" or change.account != finding.account:
        return False
    if str(parameters.get("roleName", "")).lower() != arn.rsplit("/", 1)[-1].lower():
        return False
    from iamwarden.domain.declared_content import declared_reattach_grant  # noqa: PLC0415 - own-stack exemption only

    grant = declared_reattach_grant(kind, own, arn.split(":")[1], finding.account)
    if grant is None or parameters.get("policyName") != grant[0]:
        return False
    try:
        written = decode_policy_document(
            parameters.get("policyDocument"), PolicyKind.INLINE_ROLE, field="requestParameters.policyDocument"
        )
    except InvalidEventError:
        return False
    if _canonical(written) != _canonical(grant[1]):
        return False
    for item in finding.offending:
        if "method" not in item:
            if set(item) - _NAMES_THE_POLICY - {"completed_by"}:
                return False  # an admin grant, or anything else that is no method
        elif str(item["method"]) not in documented and not any(
            str(action).lower() == "iam:attachrolepolicy" for action in item.get("actions", [])
        ):
            return False
    return True


def _attaches_beside_reattach_grant(
    finding: Finding,
    settings: Settings,
    change: CloudTrailChange,
    documented: frozenset[str],
    directory: RoleDirectory | None,
    *,
    documents: ManagedPolicyDocuments | None = None,
) -> bool:
    """Whether ``change`` attaches one of the own role's declared remediation policies (an ARN the declared attach
    grant's ``ArnEquals`` names, its judged version the template's document: ``_holds_declared_grant``) while that
    role's inline attach grant is live exactly as declared, and every method
    beyond the ``documented`` ones goes through ``iam:AttachRolePolicy`` granted by that grant alone.

    Review reattach-s16 item 2: a deploy's, a StackSet instance's or an update's attach of a remediation policy that
    holds ``iam:UpdateAssumeRolePolicy``, judged once the grant is on the role, opens
    ``AttachRolePolicyThenUpdateAssumeRolePolicy`` only because the escalation judgement counts the grant's
    condition as met; the grant attaches nothing but those same policies. The live grant is read from
    ``directory`` (the role's whole power, as judged): none, another document under its name (widened,
    unconditioned), two readings, or the attach granted by any other policy too keeps the finding, as does an attach
    of any other policy.
    """
    own = settings.own
    arn = finding.resource_arn or ""
    kind = own.role_kind(arn, finding.account)
    parameters = change.request_parameters
    if directory is None or kind is None or change.event_name != "AttachRolePolicy":
        return False
    role = arn.rsplit("/", 1)[-1]
    if change.account != finding.account or str(parameters.get("roleName", "")).lower() != role.lower():
        return False
    from iamwarden.domain.declared_content import declared_reattach_grant  # noqa: PLC0415 - own-stack exemption only

    grant = declared_reattach_grant(kind, own, arn.split(":")[1], finding.account)
    if grant is None or parameters.get("policyArn") not in _attachable(grant[1]):
        return False
    source = f"inline {role}/{grant[0]}"
    held = directory.principal(arn)
    live = [named for named in held.policies if named.source == source] if held is not None else []
    if len(live) != 1 or live[0].readings or _canonical(live[0].policy.raw) != _canonical(grant[1]):
        return False
    if not _holds_declared_grant(finding, settings, str(parameters.get("policyArn")), documents):
        return False
    for item in finding.offending:
        if "method" not in item:
            if set(item) - _NAMES_THE_POLICY - {"completed_by"}:
                return False  # an admin grant, or anything else that is no method
        elif str(item["method"]) not in documented:
            granted = item.get("granted_by")
            by = [
                label
                for action, labels in (granted.items() if isinstance(granted, Mapping) else ())
                if str(action).lower() == "iam:attachrolepolicy"
                for label in labels
            ]
            if not by or any(str(label).split(" of ", 1)[-1] != source for label in by):
                return False
    return True


def _holds_declared_grant(
    finding: Finding, settings: Settings, policy_arn: str, documents: ManagedPolicyDocuments | None
) -> bool:
    """Whether the version of ``policy_arn`` the finding judged is the template's document in meaning, with one
    reading (review2 reattach-s16 item 2); unknown, unreadable or different: False (no exemption)."""
    version = next((i.get("version_id") for i in finding.offending if i.get("policy_arn") == policy_arn), None)
    from iamwarden.domain.declared_content import declared_grant  # noqa: PLC0415 - own-stack exemption only

    declared = declared_grant(policy_arn, settings.own, finding.account)
    if documents is None or not isinstance(version, str) or declared is None:
        return False
    try:
        found = documents.version(finding.account, policy_arn, version)
    except Exception:  # the judgement read it; a failure now exempts nothing
        return False
    return found is not None and not found.readings and _canonical(found.document) == _canonical(declared)


def _attachable(document: Mapping[str, Any]) -> frozenset[str]:
    """The policy ARNs a declared attach grant lists under ``ArnEquals`` ``iam:PolicyARN`` (all its statements)."""
    found: set[str] = set()
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        arns = statement.get("Condition", {}).get("ArnEquals", {}).get("iam:PolicyARN", [])
        found.update([arns] if isinstance(arns, str) else arns)
    return frozenset(found)


def _excepted(
    finding: Finding,
    exceptions: Sequence[RuleException],
    now: datetime | None,
    change: CloudTrailChange,
    settings: Settings,
) -> str | None:
    """The active exception that exempts ``finding`` at ``now`` (the change's time when not given), or None."""
    if not exceptions:
        return None
    at = now or event_instant(change)
    if at is None:
        return None
    operators = settings.rule("iamwarden-tampered").patterns("operators")
    from iamwarden.domain.rule_exceptions import active_exemption  # noqa: PLC0415 - only with an exception to ask

    return active_exemption(finding, exceptions, at, settings.exceptions, operators)


def _judging(change: CloudTrailChange) -> tuple[Guardrail, ...]:
    """The guardrails that judge ``change`` as the kind of record it is (``_expects_kind``), in judging order.

    A fixed answer of the registry per event source, name and kind, so it is kept per those: bounded by the
    registry's routes (an event name no rule covers is not kept).
    """
    key = (change.event_source, change.event_name, change.service_event)
    found = _JUDGING.get(key)
    if found is None:
        named = (change.event_source, change.event_name)
        found = tuple(
            guardrail for guardrail in GUARDRAILS_BY_EVENT.get(named, ()) if _expects_kind(guardrail.specs, change)
        )
        if named in GUARDRAILS_BY_EVENT:
            _JUDGING[key] = found
    return found


_JUDGING: dict[tuple[str, str, bool], tuple[Guardrail, ...]] = {}


def _expects_kind(specs: Sequence[RuleSpec], change: CloudTrailChange) -> bool:
    """Whether a guardrail with ``specs`` judges ``change`` as the kind of record it is (API call or service event).

    An API call is never judged by a rule that expects a service event of that name, nor the other way round.
    """
    expects_service_event = any(change.event_name in spec.service_events for spec in specs)
    return expects_service_event == change.service_event


def foreign_account_claim(change: CloudTrailChange) -> str | None:
    """What in the record names an account other than the event's own, or None (pure; no AWS call)."""
    recipient = change.recipient_account_id
    if recipient is not None and recipient != change.account:
        return f"detail.recipientAccountId is {recipient}"
    for index, resource in enumerate(change.resources):
        owner = resource.get("accountId")
        if isinstance(owner, str) and owner and owner != change.account:
            return f"detail.resources[{index}] ({resource.get('ARN') or resource.get('type')}) belongs to {owner}"
    return None


def account_of_arn(arn: str) -> str | None:
    """The account field of an ARN (``arn:partition:service:region:account:...``); None when it has none (S3)."""
    fields = arn.split(":", 5)
    if len(fields) != 6 or fields[0] != "arn":
        return None
    return fields[4] or None


def _foreign_target(change: CloudTrailChange, resource_arn: str | None, findings: list[Finding]) -> str | None:
    """The first resource or plan target whose ARN belongs to another account than the event's."""
    account = change.account
    owner = account_of_arn(resource_arn) if resource_arn else None
    if owner is not None and owner != account:
        return f"resource {resource_arn} belongs to {owner}"
    for finding in findings:
        for arn in (finding.resource_arn, *[step.target for step in finding.plan]):
            owner = account_of_arn(arn)
            if owner is not None and owner != account:
                return f"resource {arn} belongs to {owner}"
    return None


def _rejected(
    change: CloudTrailChange, elsewhere: str, rule_ids: tuple[str, ...] = (), resource_arn: str | None = None
) -> Judgement:
    reason = (
        f"rejected: the event claims account {change.account} but {elsewhere}; IAM Warden acts only on the "
        "event's own account, so a forged or misrouted event is alerted and never acted on"
    )
    return Judgement(Verdict.INVALID, reason, change, (), rule_ids, resource_arn, rejected=True)


#: How far an event's time may lie after the enforcer's clock: CloudTrail stamps the call, so only clock skew
#: between AWS and the function explains a later time.
CLOCK_SKEW = timedelta(minutes=5)


def _from_the_future(change: CloudTrailChange, now: datetime | None) -> str | None:
    """Why ``change`` cannot be a real CloudTrail record of the past (its time is after ``now`` plus the skew, or
    does not read as a time), or None. A direct invocation of the enforcer can carry any payload (audit s7 gap
    13): a forged event dated 2099 would be kept as the newest "observed" state for good. ``now`` is None offline:
    times are not checked there."""
    if now is None:
        return None
    happened = event_instant(change)
    if happened is None:
        # No CloudTrail record has such a time (it writes ISO 8601 in UTC): a direct invocation, refused like a
        # time to come, so it never plants a restore point nor reaches a step as its ``since`` (review of mends-s11).
        return f"its eventTime {change.time!r} does not read as a time"
    if happened <= now + CLOCK_SKEW:
        return None
    return (
        f"its eventTime {change.time} is after the enforcer's clock ({now.isoformat(timespec='seconds')}) by more "
        f"than the {int(CLOCK_SKEW.total_seconds() // 60)} minutes of clock skew it allows"
    )


def _rejected_time(change: CloudTrailChange, future: str) -> Judgement:
    if event_instant(change) is None:
        reason = (
            f"rejected: {future}; a CloudTrail record always has one (ISO 8601, in UTC), so this event was forged (a "
            "direct invocation). It is alerted and never judged, acted on or kept"
        )
        return Judgement(Verdict.INVALID, reason, change, (), (), None, rejected=True)
    reason = (
        f"rejected: {future}; a CloudTrail record cannot come from the future, so this event was forged (a direct "
        "invocation) or a clock is wrong. It is alerted and never judged, acted on or kept"
    )
    return Judgement(Verdict.INVALID, reason, change, (), (), None, rejected=True)


def _ignored(change: CloudTrailChange, reason: str) -> Judgement:
    return new_tuple(Judgement, (Verdict.IGNORED, reason, change, (), (), None, False, (), ()))
