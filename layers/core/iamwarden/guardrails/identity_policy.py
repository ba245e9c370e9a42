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

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from iamwarden.adapters.errors import ignoring, is_gone
from iamwarden.domain.arns import iam_arn
from iamwarden.domain.catalog import Mode, OptionSpec, RuleSpec, Severity
from iamwarden.domain.documents import PolicyKind, decode_policy_document
from iamwarden.domain.escalation import PolicyRisk, assess, is_risky_document
from iamwarden.domain.exceptions import InvalidEventError, RemediationError, UndoError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.policy import parse_policy
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.managed_policy import ATTACH_PRINCIPAL, AWS_MANAGED_POLICY_ARN, detach_step
from iamwarden.guardrails.remediation import (
    AccountClients,
    Permissions,
    StepRun,
    canonical,
    pages,
    policy_document,
)

IAM = "iam.amazonaws.com"

_DELETE_VERSION = OptionSpec(
    "choice",
    "keep",
    "keep (only set the previous default back) or delete (also delete the offending version)",
    ("keep", "delete"),
)

INLINE_POLICY_ADMIN = RuleSpec(
    id="inline-policy-admin",
    title="Admin-equivalent inline policy",
    event_source=IAM,
    event_names=frozenset({"PutRolePolicy", "PutUserPolicy", "PutGroupPolicy"}),
    risk=(
        "An inline policy that allows everything, all of IAM, or whole services on every resource makes its "
        "holder an administrator, outside any reviewed managed policy."
    ),
    alert_risk=(
        "This inline policy makes whoever holds it an administrator, or close to one, so anyone who gets hold of "
        "that identity can change or delete anything in the account and cover their tracks."
    ),
)

POLICY_VERSION_ADMIN = RuleSpec(
    id="policy-version-admin",
    title="Managed policy version made admin-equivalent",
    event_source=IAM,
    event_names=frozenset({"CreatePolicyVersion", "SetDefaultPolicyVersion"}),
    risk=(
        "A new default version of a customer-managed policy silently changes the access of every role, user "
        "and group it is attached to."
    ),
    options={"delete_version": _DELETE_VERSION},
    alert_risk=(
        "Changing the default version of a shared policy quietly gives every role, user and group it is attached "
        "to administrator-level or self-escalating access at once."
    ),
)

PRIVILEGE_ESCALATION = RuleSpec(
    id="privilege-escalation",
    title="Privilege escalation path granted",
    event_source=IAM,
    event_names=frozenset(
        {
            "PutRolePolicy",
            "PutUserPolicy",
            "PutGroupPolicy",
            "CreatePolicyVersion",
            "SetDefaultPolicyVersion",
            "AttachRolePolicy",
            "AttachUserPolicy",
            "AttachGroupPolicy",
        }
    ),
    risk=(
        "A known privilege-escalation permission set lets its holder grant itself more access, up to "
        "administrator, without anyone granting it."
    ),
    options={"delete_version": _DELETE_VERSION},
    alert_risk=(
        "These permissions look limited, but they are a known way to grant yourself more, up to full "
        "administrator, so whoever holds them effectively holds everything."
    ),
)
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
            DeleteInlinePolicy.action,
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
            RestoreDefaultPolicyVersion.action,
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


_INLINE_CALLS = {
    "role": ("get_role_policy", "delete_role_policy", "put_role_policy", "RoleName"),
    "user": ("get_user_policy", "delete_user_policy", "put_user_policy", "UserName"),
    "group": ("get_group_policy", "delete_group_policy", "put_group_policy", "GroupName"),
}


class DeleteInlinePolicy:
    """Delete exactly the inline policy the event put, if the live one is still that document."""

    permissions: ClassVar[Permissions] = (
        "iam:GetRolePolicy",
        "iam:GetUserPolicy",
        "iam:GetGroupPolicy",
        "iam:DeleteRolePolicy",
        "iam:DeleteUserPolicy",
        "iam:DeleteGroupPolicy",
    )
    action: ClassVar[StepAction] = StepAction("delete_inline_policy", permissions)
    undo_permissions: ClassVar[Permissions] = (
        "iam:GetRolePolicy",
        "iam:GetUserPolicy",
        "iam:GetGroupPolicy",
        "iam:PutRolePolicy",
        "iam:PutUserPolicy",
        "iam:PutGroupPolicy",
    )
    undoable: ClassVar[bool] = True

    def _live(self, aws: AccountClients, step: RemediationStep) -> Any:
        """The live document of that policy name; None when the policy (or its principal) is gone."""
        kind, name, policy = (step.parameters[k] for k in ("principal_type", "principal_name", "policy_name"))
        get, _, _, parameter = _INLINE_CALLS[kind]
        try:
            return policy_document(getattr(aws.iam, get)(**{parameter: name, "PolicyName": policy})["PolicyDocument"])
        except Exception as exc:
            if is_gone(exc):
                return None
            raise

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return {"document": self._live(aws, step)}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        kind, name, policy = (step.parameters[k] for k in ("principal_type", "principal_name", "policy_name"))
        if before["document"] is None or canonical(before["document"]) != canonical(step.parameters["document"]):
            return  # deleted, or replaced by a later put that is judged on its own: never touch it
        _, delete, _, parameter = _INLINE_CALLS[kind]
        with ignoring():
            getattr(run.aws.iam, delete)(**{parameter: name, "PolicyName": policy})
            done.append(f"deleted inline policy {policy} from {kind} {name}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        kind, name, policy = (step.parameters[k] for k in ("principal_type", "principal_name", "policy_name"))
        document = before["document"]
        if document is None or canonical(document) != canonical(step.parameters["document"]):
            return []  # the remediation deleted nothing
        current = self._live(aws, step)
        if current is not None:
            if canonical(current) == canonical(document):
                return []
            raise UndoError(
                f"{kind} {name} now has a different inline policy named {policy}; "
                "restore it by hand from the audit record"
            )
        _, _, put, parameter = _INLINE_CALLS[kind]
        try:
            getattr(aws.iam, put)(**{parameter: name, "PolicyName": policy, "PolicyDocument": json.dumps(document)})
        except Exception as exc:
            if is_gone(exc):
                raise UndoError(f"{kind} {name} no longer exists; inline policy {policy} cannot be put back") from exc
            raise
        return [f"put inline policy {policy} back on {kind} {name}"]


class RestoreDefaultPolicyVersion:
    """Make the newest safe other version of a customer-managed policy the default again.

    IAM does not record which version was the default before a change, and neither
    does CloudTrail, so "the previous default" is read as: the newest version other
    than the offending one whose document is neither admin-equivalent nor escalating
    (``iamwarden.domain.escalation``). After a CreatePolicyVersion that is the version that
    was the default in the usual case; it is never a version as dangerous as the
    offending one. With no such version the step fails before writing anything, and
    the alert says so. ``delete_version`` also deletes the offending version; undo
    then re-creates it from the before-state (IAM gives it a new version id).
    """

    permissions: ClassVar[Permissions] = (
        "iam:GetPolicy",
        "iam:ListPolicyVersions",
        "iam:GetPolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:DeletePolicyVersion",
    )
    action: ClassVar[StepAction] = StepAction("restore_default_policy_version", permissions)
    undo_permissions: ClassVar[Permissions] = (
        "iam:GetPolicy",
        "iam:SetDefaultPolicyVersion",
        "iam:CreatePolicyVersion",
    )
    undoable: ClassVar[bool] = True

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        arn = step.parameters["policy_arn"]
        try:
            default = aws.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        except Exception as exc:
            if is_gone(exc):
                return {"exists": False}
            raise
        versions = [
            {
                "version_id": version["VersionId"],
                "created": str(version["CreateDate"]),
                "document": policy_document(
                    aws.iam.get_policy_version(PolicyArn=arn, VersionId=version["VersionId"])["PolicyVersion"][
                        "Document"
                    ]
                ),
            }
            for version in pages(aws.iam, "list_policy_versions", "Versions", PolicyArn=arn)
        ]
        return {"exists": True, "default": default, "versions": versions}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        offending = step.parameters["version_id"]
        if not before["exists"] or before["default"] != offending:
            return  # the policy is gone, or another version is the default since
        arn = step.parameters["policy_arn"]
        target = safe_version(before["versions"], offending)
        if target is None:
            raise RemediationError(
                f"no other version of {arn} is safe to make the default; nothing was changed: "
                "write a safe version or detach the policy by hand"
            )
        run.aws.iam.set_default_policy_version(PolicyArn=arn, VersionId=target)
        done.append(f"made version {target} of {arn} the default again (was {offending})")
        if step.parameters.get("delete_version"):
            with ignoring():
                run.aws.iam.delete_policy_version(PolicyArn=arn, VersionId=offending)
                done.append(f"deleted version {offending} of {arn}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        offending = step.parameters["version_id"]
        if not before["exists"] or before["default"] != offending:
            return []
        arn = step.parameters["policy_arn"]
        target = safe_version(before["versions"], offending)
        try:
            current = aws.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        except Exception as exc:
            if is_gone(exc):
                raise UndoError(f"policy {arn} no longer exists; its default version cannot be restored") from exc
            raise
        if current != target:
            raise UndoError(
                f"the default version of {arn} is now {current}, not {target} as IAM Warden left it; "
                "a later change is kept: restore by hand from the audit record"
            )
        if not step.parameters.get("delete_version"):
            aws.iam.set_default_policy_version(PolicyArn=arn, VersionId=offending)
            return [f"made version {offending} of {arn} the default again"]
        [document] = [v["document"] for v in before["versions"] if v["version_id"] == offending]
        created = aws.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True)
        version_id = created["PolicyVersion"]["VersionId"]
        return [f"re-created the deleted version {offending} of {arn} as {version_id}, the default"]


def safe_version(versions: list[Mapping[str, Any]], offending: str) -> str | None:
    """The newest version other than ``offending`` that is neither admin-equivalent nor escalating."""
    for version in sorted(versions, key=lambda v: (str(v["created"]), _number(v["version_id"])), reverse=True):
        if version["version_id"] == offending:
            continue
        try:
            risky = is_risky_document(parse_policy(version["document"]))
        except InvalidEventError:
            continue
        if not risky:
            return str(version["version_id"])
    return None


def _number(version_id: str) -> int:
    digits = version_id.lstrip("v")
    return int(digits) if digits.isdigit() else 0


GUARDRAILS = (InlinePolicyRule(), PolicyVersionRule(), CustomerPolicyAttachedRule())
ACTIONS = (DeleteInlinePolicy(), RestoreDefaultPolicyVersion())
