"""``inline-policy-admin``, ``policy-version-admin`` and ``privilege-escalation``.

All three judge what an identity policy lets its holder do, with one analysis
(``iamwarden.domain.escalation``): admin-equivalent grants (``*``, ``iam:*`` on every
resource, Allow with NotAction, a wildcard service, or a whole service on every
resource) and the published privilege-escalation methods.

One change gets at most one finding, so one change is alerted and remediated
once: admin-equivalent access is reported by the event's own rule
(``inline-policy-admin`` or ``policy-version-admin``); an escalation path
without admin access by ``privilege-escalation``. When ``privilege-escalation``
is off, the event's own rule reports the escalation path itself (the issue lists
escalation sets among what it covers), so switching one rule off never hides an
escalation under a rule that is on.

Where the document comes from, and why:

* ``Put{Role,User,Group}Policy`` and ``CreatePolicyVersion`` carry the document:
  judged from the event, offline as well as in the enforcer.
* ``SetDefaultPolicyVersion`` names a version and ``Attach*Policy`` of a
  customer-managed policy names an ARN; neither carries a document. The rule asks
  the context's ``documents`` reader for it. The enforcer hands the rules its live
  reader, so the finding is raised from the real document, read at judging time
  (a version is immutable; an attachment is judged on the default version the
  principal now holds). The rule itself stays pure: it judges data it is given.
  Offline (``iamwarden evaluate``) there is no reader, and the verdict is
  ``ignored`` with "cannot judge" rather than a guessed ``compliant``.

"""

from __future__ import annotations

from typing import Any, ClassVar

from iamwarden.domain.arns import iam_arn
from iamwarden.domain.catalog import (
    INLINE_POLICY_ADMIN,
    POLICY_VERSION_ADMIN,
    PRIVILEGE_ESCALATION,
    Mode,
    RuleSpec,
    Severity,
)
from iamwarden.domain.documents import PolicyKind, decode_policy_document
from iamwarden.domain.escalation import PolicyRisk, assess
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.policy import parse_policy
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.managed_policy import ATTACH_PRINCIPAL, AWS_MANAGED_POLICY_ARN, detach_step

IAM = "iam.amazonaws.com"
_INLINE = {
    "PutRolePolicy": ("role", "roleName", PolicyKind.INLINE_ROLE),
    "PutUserPolicy": ("user", "userName", PolicyKind.INLINE_USER),
    "PutGroupPolicy": ("group", "groupName", PolicyKind.INLINE_GROUP),
}
#: How many escalation methods a reason names before "and N more" (the finding's ``offending`` has all).
_NAMED_METHODS = 3


def _active(context: RuleContext, spec: RuleSpec) -> bool:
    return context.rule(spec.id).mode is not Mode.OFF


def _rule_for(context: RuleContext, risk: PolicyRisk, own: RuleSpec) -> RuleSpec | None:
    """The one rule that reports this risk (see the module docstring), or None."""
    if risk.admin and _active(context, own):
        return own
    if risk.escalations and _active(context, PRIVILEGE_ESCALATION):
        return PRIVILEGE_ESCALATION
    if risk.escalations and _active(context, own):
        return own
    return None


def _what(risk: PolicyRisk, spec: RuleSpec) -> str:
    """What the document grants, in words: the admin grants, or the escalation methods."""
    admin = "; ".join(f"{grant.statement.label} {grant.why}" for grant in risk.admin)
    if admin and spec is not PRIVILEGE_ESCALATION and not risk.escalations:
        return admin
    named = [path.describe() for path in risk.escalations[:_NAMED_METHODS]]
    more = len(risk.escalations) - len(named)
    methods = "; ".join(named) + (f"; and {more} more" if more > 0 else "")
    opens = f"it opens the privilege-escalation method{'s' if len(risk.escalations) > 1 else ''} {methods}"
    return f"{admin}; {opens}" if admin and spec is not PRIVILEGE_ESCALATION else opens


def _severity(risk: PolicyRisk, spec: RuleSpec) -> Severity:
    if spec is PRIVILEGE_ESCALATION or risk.critical:
        return Severity.CRITICAL
    return Severity.HIGH


def offending_of(risk: PolicyRisk) -> list[dict[str, Any]]:
    """The admin statements and escalation methods, as data for the audit record and the alert."""
    items: list[dict[str, Any]] = [
        {"index": g.statement.position, "sid": g.statement.sid, "why": g.why, "statement": dict(g.statement.raw)}
        for g in risk.admin
    ]
    items.extend(
        {
            "method": path.method.name,
            "description": path.method.description,
            "actions": list(path.actions),
            "resources": {grant.action: list(grant.resources) for grant in path.grants},
        }
        for path in risk.escalations
    )
    return items


class InlinePolicyRule:
    """Put{Role,User,Group}Policy whose document is admin-equivalent or opens an escalation method."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (INLINE_POLICY_ADMIN, PRIVILEGE_ESCALATION)
    event_keys: ClassVar[frozenset[tuple[str, str]]] = frozenset((IAM, name) for name in _INLINE)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        kind, parameter, policy_kind = _INLINE[change.event_name]
        principal = context.request_text(parameter)
        policy_name = context.request_text("policyName")
        arn = iam_arn(context.partition, change.account, kind, principal)
        evaluation = Evaluation(resource_arn=arn)
        field = "detail.requestParameters.policyDocument"
        document = decode_policy_document(change.request_parameters.get("policyDocument"), policy_kind, field=field)
        risk = assess(parse_policy(document, field=field))
        spec = _rule_for(context, risk, INLINE_POLICY_ADMIN)
        if spec is None:
            evaluation.compliant.append(
                f"inline policy {policy_name} of {kind} {principal} grants no admin-equivalent access and opens no "
                "known privilege-escalation method"
                if not risk.risky
                else f"inline policy {policy_name} of {kind} {principal}: the rule that covers it is off"
            )
            return evaluation
        step = RemediationStep(
            StepAction.DELETE_INLINE_POLICY,
            arn,
            {"principal_type": kind, "principal_name": principal, "policy_name": policy_name, "document": document},
            f"delete inline policy {policy_name} from {kind} {principal} (its document is kept in the audit record)",
        )
        evaluation.findings.append(
            context.finding(
                spec,
                severity=_severity(risk, spec),
                resource_arn=arn,
                reason=(
                    f"Inline policy {policy_name} was put on {kind} {principal} by {change.actor.display}: "
                    f"{_what(risk, spec)}."
                ),
                plan=[step],
                offending=offending_of(risk),
            )
        )
        return evaluation


class PolicyVersionRule:
    """CreatePolicyVersion with SetAsDefault, and SetDefaultPolicyVersion, making a policy risky."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (POLICY_VERSION_ADMIN, PRIVILEGE_ESCALATION)
    event_keys: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        (IAM, name) for name in ("CreatePolicyVersion", "SetDefaultPolicyVersion")
    )

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        policy_arn = context.request_text("policyArn")
        evaluation = Evaluation(resource_arn=policy_arn)
        name = policy_arn.rsplit("/", 1)[-1]
        if change.event_name == "CreatePolicyVersion":
            if change.request_parameters.get("setAsDefault") not in (True, "true"):
                evaluation.compliant.append(
                    f"the new version of {name} was not made the default, so it grants nothing yet "
                    "(making it the default is judged then)"
                )
                return evaluation
            version_id = _created_version(change.response_elements)
            field = "detail.requestParameters.policyDocument"
            document = decode_policy_document(
                change.request_parameters.get("policyDocument"), PolicyKind.MANAGED, field=field
            )
        else:
            version_id = context.request_text("versionId")
            field = f"version {version_id} of {policy_arn}"
            if context.documents is None:
                evaluation.unjudged.append(
                    f"SetDefaultPolicyVersion names version {version_id} of {policy_arn} but not its document; "
                    "the enforcer reads it live"
                )
                return evaluation
            version = context.documents.version(change.account, policy_arn, version_id)
            if version is None:
                evaluation.compliant.append(f"version {version_id} of {name} no longer exists")
                return evaluation
            document = dict(version.document)
        risk = assess(parse_policy(document, field=field))
        spec = _rule_for(context, risk, POLICY_VERSION_ADMIN)
        if spec is None:
            evaluation.compliant.append(
                f"version {version_id} of {name} grants no admin-equivalent access and opens no known "
                "privilege-escalation method"
                if not risk.risky
                else f"version {version_id} of {name}: the rule that covers it is off"
            )
            return evaluation
        delete = context.rule(spec.id).choice("delete_version") == "delete"
        step = RemediationStep(
            StepAction.RESTORE_DEFAULT_POLICY_VERSION,
            policy_arn,
            {"policy_arn": policy_arn, "version_id": version_id, "delete_version": delete},
            f"make the newest safe earlier version of {name} the default again"
            + (f" and delete version {version_id}" if delete else f" (version {version_id} is kept)"),
        )
        verb = "made the default" if change.event_name == "SetDefaultPolicyVersion" else "created as the default"
        evaluation.findings.append(
            context.finding(
                spec,
                severity=_severity(risk, spec),
                resource_arn=policy_arn,
                reason=(
                    f"Version {version_id} of the customer-managed policy {name} was {verb} by "
                    f"{change.actor.display}: {_what(risk, spec)}. Every role, user and group it is attached to "
                    "now has this access."
                ),
                plan=[step],
                offending=[{"version_id": version_id}, *offending_of(risk)],
            )
        )
        return evaluation


def _created_version(response: Any) -> str:
    version = response.get("policyVersion") if isinstance(response, dict) else None
    version_id = version.get("versionId") if isinstance(version, dict) else None
    if not isinstance(version_id, str) or not version_id:
        raise InvalidEventError("detail.responseElements.policyVersion.versionId must be a non-empty string")
    return version_id


class CustomerPolicyAttachedRule:
    """Attach{Role,User,Group}Policy of a customer-managed policy whose default version escalates."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (PRIVILEGE_ESCALATION,)
    event_keys: ClassVar[frozenset[tuple[str, str]]] = frozenset((IAM, name) for name in ATTACH_PRINCIPAL)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        kind, parameter = ATTACH_PRINCIPAL[change.event_name]
        principal = context.request_text(parameter)
        policy_arn = context.request_text("policyArn")
        arn = iam_arn(context.partition, change.account, kind, principal)
        evaluation = Evaluation(resource_arn=arn)
        if AWS_MANAGED_POLICY_ARN.match(policy_arn) or not policy_arn.startswith("arn:"):
            return evaluation  # AWS-managed (or not an ARN): managed-policy-attached judges it
        name = policy_arn.rsplit("/", 1)[-1]
        if context.documents is None:
            evaluation.unjudged.append(
                f"the event attaches the customer-managed policy {policy_arn} but does not carry its document; "
                "the enforcer reads its default version live"
            )
            return evaluation
        version = context.documents.default_version(change.account, policy_arn)
        if version is None:
            evaluation.compliant.append(f"the customer-managed policy {name} no longer exists")
            return evaluation
        risk = assess(parse_policy(dict(version.document), field=f"version {version.version_id} of {policy_arn}"))
        if not risk.escalations:
            evaluation.compliant.append(
                f"the customer-managed policy {name} (version {version.version_id}) opens no known "
                "privilege-escalation method"
            )
            return evaluation
        evaluation.findings.append(
            context.finding(
                PRIVILEGE_ESCALATION,
                severity=Severity.CRITICAL,
                resource_arn=arn,
                reason=(
                    f"The customer-managed policy {name} (default version {version.version_id}) was attached to "
                    f"{kind} {principal} by {change.actor.display}: {_what(risk, PRIVILEGE_ESCALATION)}."
                ),
                plan=[detach_step(arn, kind, principal, policy_arn)],
                offending=[{"policy_arn": policy_arn, "version_id": version.version_id}, *offending_of(risk)],
            )
        )
        return evaluation
