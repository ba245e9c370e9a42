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
from iamwarden.domain.escalation import PolicyRisk, admin_grants, assess, is_risky_document
from iamwarden.domain.exceptions import InvalidEventError, RemediationError, UndoError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.policy import Policy, Statement, action_matches, parse_policy
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.managed_policy import ATTACH_PRINCIPAL, AWS_MANAGED_POLICY_ARN, detach_step
from iamwarden.guardrails.remediation import (
    AccountClients,
    Permissions,
    StepRun,
    canonical,
    pages,
    policy_document,
    statement_cut,
    statement_list,
    without_offending,
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
        step = inline_policy_step(arn, kind, principal, policy_name, document=document, risk=risk)
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
        step = policy_version_step(policy_arn, version_id, delete, document, risk)
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


# --- proportional remediation: what to cut out of a document, and the cut as a plan step -----------


def proportional_cut(
    document: Mapping[str, Any], risk: PolicyRisk
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """What to take out of ``document`` so that it grants none of ``risk``, and the document that is left.

    The finest cut first: the admin-equivalent entries of an Action list (``iam:*`` of
    ``["s3:GetObject", "iam:*"]``), and for each escalation path the one action that gives the power
    (the method's first: the IAM write or ``iam:PassRole``), where this document grants it; a statement
    with NotAction, or left with no action, goes whole. The rest is judged again (``assess``): when it
    is still risky, the offending statements go whole; when nothing is left, the answer is ``None``
    (delete the policy). ``risk`` may come from the principal's whole power: only statements of this
    document are cut.
    """
    policy = parse_policy(document)
    fine = _cuts(policy, risk)
    if not fine:  # the risk names nothing of this document: what the change added is the whole document
        return [statement_cut(s) for s in policy.statements], None
    for cuts in (fine, [statement_cut(s) for s in _statements_of(fine, policy)]):
        rest = without_offending(statement_list(document), cuts)
        if not rest:
            return cuts, None
        remaining = {**document, "Statement": rest}
        if not assess(parse_policy(remaining)).risky:
            return cuts, remaining
    return [statement_cut(s) for s in policy.statements], None


def _cuts(policy: Policy, risk: PolicyRisk) -> list[dict[str, Any]]:
    """Per statement of ``policy``: the entries of its Action list that make ``risk``, or ``None`` for all of it."""
    mine = {canonical(dict(s.raw)): s for s in policy.statements}
    taken: dict[int, set[str] | None] = {}

    def take(statement: Statement, entries: list[str]) -> None:
        whole = statement.actions is None or not entries or len(entries) == len(statement.actions)
        current = taken.get(statement.position, set())
        if whole or current is None:
            taken[statement.position] = None
        else:
            taken[statement.position] = current | set(entries)

    for admin in risk.admin:
        statement = mine.get(canonical(dict(admin.statement.raw)))
        if statement is None:
            continue  # another policy of the principal: not cut here
        take(
            statement,
            [e for e in _entries(statement) if admin_grants(Policy(None, (statement._replace(actions=(e,)),), {}))],
        )
    for path in risk.escalations:
        for grant in path.grants:  # the method's first action, else the first this document grants
            granting = [
                s
                for s in policy.statements
                if s.allows
                and s.grants_action(grant.action)
                and (s.not_resources is not None or any(r in grant.resources for r in s.resources or ()))
            ]
            for statement in granting:
                take(statement, [a for a in _entries(statement) if action_matches(a, grant.action)])
            if granting:
                break
    by_position = {s.position: s for s in policy.statements}
    return [
        statement_cut(by_position[position], sorted(entries or ()))
        for position, entries in sorted(taken.items(), key=lambda item: item[0])
    ]


def _entries(statement: Statement) -> list[str]:
    """The statement's Action list as written (``Statement.actions`` is normalised to lower case)."""
    listed = statement.raw.get("Action")
    if isinstance(listed, str):
        return [listed]
    return [str(entry) for entry in listed] if isinstance(listed, list) else []


def _statements_of(cuts: list[dict[str, Any]], policy: Policy) -> list[Statement]:
    return [s for s in policy.statements if s.position in {cut["index"] for cut in cuts}]


def _cut_text(cuts: list[dict[str, Any]]) -> str:
    """``statement 1 (Debug)`` or ``iam:* of statement 0``: what a cut takes out, in words."""
    parts = []
    for cut in cuts:
        label = f"statement {cut['index']}" + (f" ({cut['sid']})" if cut.get("sid") else "")
        parts.append(f"{', '.join(cut['actions'])} of {label}" if cut.get("actions") else label)
    return "; ".join(parts)


def inline_policy_step(
    arn: str, kind: str, principal: str, policy_name: str, *, document: Mapping[str, Any], risk: PolicyRisk
) -> RemediationStep:
    """The plan for a risky inline policy: rewrite it without the offending grants, or delete it when none is left."""
    cuts, remaining = proportional_cut(document, risk)
    parameters = {
        "principal_type": kind,
        "principal_name": principal,
        "policy_name": policy_name,
        "document": dict(document),
        "statements": cuts,
    }
    if remaining is None:
        summary = (
            f"delete inline policy {policy_name} from {kind} {principal}: nothing in it may stay "
            "(its document is kept in the audit record)"
        )
    else:
        summary = f"remove {_cut_text(cuts)} from inline policy {policy_name} of {kind} {principal}, keep the rest"
    return RemediationStep(RewriteInlinePolicy.action, arn, parameters, summary)


def policy_version_step(
    policy_arn: str, version_id: str, delete: bool, document: Mapping[str, Any], risk: PolicyRisk
) -> RemediationStep:
    """The plan for a risky default version: the newest safe earlier version, else a new one without the grant."""
    name = policy_arn.rsplit("/", 1)[-1]
    cuts, remaining = proportional_cut(document, risk)
    fallback = (
        f"; if there is none, a new default version without {_cut_text(cuts)}"
        if remaining is not None
        else f"; if there is none, change nothing (no grant of version {version_id} may stay)"
    )
    return RemediationStep(
        RestoreDefaultPolicyVersion.action,
        policy_arn,
        {"policy_arn": policy_arn, "version_id": version_id, "delete_version": delete, "statements": cuts},
        f"make the newest safe earlier version of {name} the default again{fallback}"
        + (f"; delete version {version_id}" if delete else f" (version {version_id} is kept)"),
    )


def _rewritten(document: Any, step: RemediationStep) -> dict[str, Any] | None:
    """``document`` without the step's cuts; ``None`` when nothing is left (or the step predates cuts)."""
    cuts = step.parameters.get("statements")
    if cuts is None or not isinstance(document, Mapping):
        return None  # a plan from before proportional remediation: the whole policy goes
    rest = without_offending(statement_list(document), cuts)
    return {**document, "Statement": rest} if rest else None


_INLINE_CALLS = {
    "role": ("get_role_policy", "delete_role_policy", "put_role_policy", "RoleName"),
    "user": ("get_user_policy", "delete_user_policy", "put_user_policy", "UserName"),
    "group": ("get_group_policy", "delete_group_policy", "put_group_policy", "GroupName"),
}


class RewriteInlinePolicy:
    """Take the offending grants out of the inline policy the event put; delete it only when nothing may stay.

    Acts only while the live policy of that name is still the event's document (a later put is judged on
    its own), so a second run finds the rewritten document and does nothing. The before-state is the whole
    original document; undo puts it back exactly, when the live policy is still what IAM Warden left.
    """

    permissions: ClassVar[Permissions] = (
        "iam:GetRolePolicy",
        "iam:GetUserPolicy",
        "iam:GetGroupPolicy",
        "iam:PutRolePolicy",
        "iam:PutUserPolicy",
        "iam:PutGroupPolicy",
        "iam:DeleteRolePolicy",
        "iam:DeleteUserPolicy",
        "iam:DeleteGroupPolicy",
    )
    action: ClassVar[StepAction] = StepAction("rewrite_inline_policy", permissions)
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
            return  # deleted, rewritten already, or replaced by a later put that is judged on its own
        _, delete, put, parameter = _INLINE_CALLS[kind]
        remaining = _rewritten(before["document"], step)
        with ignoring():
            if remaining is None:
                getattr(run.aws.iam, delete)(**{parameter: name, "PolicyName": policy})
                done.append(f"deleted inline policy {policy} from {kind} {name}: nothing in it may stay")
            else:
                getattr(run.aws.iam, put)(
                    **{parameter: name, "PolicyName": policy, "PolicyDocument": json.dumps(remaining)}
                )
                done.append(
                    f"removed {_cut_text(step.parameters['statements'])} from inline policy {policy} of "
                    f"{kind} {name}; kept {len(statement_list(remaining))} statement(s)"
                )

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        kind, name, policy = (step.parameters[k] for k in ("principal_type", "principal_name", "policy_name"))
        document = before["document"]
        if document is None or canonical(document) != canonical(step.parameters["document"]):
            return []  # the remediation changed nothing
        current = self._live(aws, step)
        if current is not None and canonical(current) == canonical(document):
            return []
        left = _rewritten(document, step)
        if current is not None and (left is None or canonical(current) != canonical(left)):
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
        return [f"put inline policy {policy} back on {kind} {name} as it was"]


#: IAM keeps at most five versions of a managed policy.
MAX_POLICY_VERSIONS = 5


class RestoreDefaultPolicyVersion:
    """Make the newest safe other version of a customer-managed policy the default again; else write one.

    IAM does not record which version was the default before a change, and neither
    does CloudTrail, so "the previous default" is read as: the newest version other
    than the offending one whose document is neither admin-equivalent nor escalating
    (``iamwarden.domain.escalation``). After a CreatePolicyVersion that is the version that
    was the default in the usual case; it is never a version as dangerous as the
    offending one. With no such version, a new default version is created: the offending
    document without the offending grants (the step's ``statements``), judged safe again
    before it is written. IAM keeps five versions: at five, the oldest non-default version
    (risky too, or it would have been chosen) is deleted first, and the before-state keeps
    its document. With nothing that may stay, the step fails before writing anything.
    ``delete_version`` also deletes the offending version; undo then re-creates it from the
    before-state (IAM gives it a new version id).
    """

    permissions: ClassVar[Permissions] = (
        "iam:GetPolicy",
        "iam:ListPolicyVersions",
        "iam:GetPolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:CreatePolicyVersion",
        "iam:DeletePolicyVersion",
    )
    action: ClassVar[StepAction] = StepAction("restore_default_policy_version", permissions)
    undo_permissions: ClassVar[Permissions] = (
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:CreatePolicyVersion",
        "iam:DeletePolicyVersion",
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
            return  # the policy is gone, or another version is the default since (this step's own, too)
        arn = step.parameters["policy_arn"]
        target = safe_version(before["versions"], offending)
        if target is not None:
            run.aws.iam.set_default_policy_version(PolicyArn=arn, VersionId=target)
            done.append(f"made version {target} of {arn} the default again (was {offending})")
        else:
            self._write_safe_version(run.aws, step, before, done)
        if step.parameters.get("delete_version"):
            with ignoring():
                run.aws.iam.delete_policy_version(PolicyArn=arn, VersionId=offending)
                done.append(f"deleted version {offending} of {arn}")

    def _write_safe_version(
        self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any], done: list[str]
    ) -> None:
        arn, offending = step.parameters["policy_arn"], step.parameters["version_id"]
        document = _version_document(before, offending)
        remaining = _rewritten(document, step)
        if remaining is None or is_risky_document(parse_policy(remaining)):
            raise RemediationError(
                f"no other version of {arn} is safe to make the default, and no grant of version {offending} "
                "may stay; nothing was changed: write a safe version or detach the policy by hand"
            )
        room = _version_to_drop(before["versions"], offending)
        if room is not None:
            with ignoring():
                aws.iam.delete_policy_version(PolicyArn=arn, VersionId=room)
                done.append(
                    f"deleted the oldest version {room} of {arn} to make room (IAM keeps five; it was not safe "
                    "either, and its document is kept in the audit record)"
                )
        created = aws.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(remaining), SetAsDefault=True)
        version_id = created["PolicyVersion"]["VersionId"]
        done.append(
            f"made the new version {version_id} of {arn} the default: version {offending} without "
            f"{_cut_text(step.parameters['statements'])} (no earlier version was safe)"
        )

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
        if target is None:
            return self._undo_written_version(aws, step, before, current)
        if current != target:
            raise UndoError(
                f"the default version of {arn} is now {current}, not {target} as IAM Warden left it; "
                "a later change is kept: restore by hand from the audit record"
            )
        if not step.parameters.get("delete_version"):
            aws.iam.set_default_policy_version(PolicyArn=arn, VersionId=offending)
            return [f"made version {offending} of {arn} the default again"]
        document = _version_document(before, offending)
        created = aws.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True)
        version_id = created["PolicyVersion"]["VersionId"]
        return [f"re-created the deleted version {offending} of {arn} as {version_id}, the default"]

    def _undo_written_version(
        self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any], current: str
    ) -> list[str]:
        """Put back the offending default over the version IAM Warden wrote, then drop that version."""
        arn, offending = step.parameters["policy_arn"], step.parameters["version_id"]
        document = _version_document(before, offending)
        written = _rewritten(document, step)
        live = policy_document(
            aws.iam.get_policy_version(PolicyArn=arn, VersionId=current)["PolicyVersion"]["Document"]
        )
        if current == offending or written is None or canonical(live) != canonical(written):
            raise UndoError(
                f"the default version of {arn} is now {current}, not the version IAM Warden wrote; "
                "a later change is kept: restore by hand from the audit record"
            )
        restored: list[str] = []
        if step.parameters.get("delete_version"):
            created = aws.iam.create_policy_version(
                PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True
            )
            restored.append(
                f"re-created the deleted version {offending} of {arn} as {created['PolicyVersion']['VersionId']}, "
                "the default"
            )
        else:
            aws.iam.set_default_policy_version(PolicyArn=arn, VersionId=offending)
            restored.append(f"made version {offending} of {arn} the default again")
        with ignoring():
            aws.iam.delete_policy_version(PolicyArn=arn, VersionId=current)
            restored.append(f"deleted version {current} of {arn}, which IAM Warden had written")
        room = _version_to_drop(before["versions"], offending)
        if room is not None:
            created = aws.iam.create_policy_version(
                PolicyArn=arn, PolicyDocument=json.dumps(_version_document(before, room)), SetAsDefault=False
            )
            restored.append(
                f"re-created the version {room} of {arn} deleted to make room, as "
                f"{created['PolicyVersion']['VersionId']} (not the default)"
            )
        return restored


def _version_document(before: Mapping[str, Any], version_id: str) -> Any:
    [document] = [v["document"] for v in before["versions"] if v["version_id"] == version_id]
    return document


def _newest_first(versions: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(versions, key=lambda v: (str(v["created"]), _number(v["version_id"])), reverse=True)


def _version_to_drop(versions: list[Mapping[str, Any]], default: str) -> str | None:
    """The oldest version other than the default, when IAM's five-version limit leaves no room for one more."""
    if len(versions) < MAX_POLICY_VERSIONS:
        return None
    others = [v for v in _newest_first(versions) if v["version_id"] != default]
    return str(others[-1]["version_id"]) if others else None


def safe_version(versions: list[Mapping[str, Any]], offending: str) -> str | None:
    """The newest version other than ``offending`` that is neither admin-equivalent nor escalating."""
    for version in _newest_first(versions):
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
ACTIONS = (RewriteInlinePolicy(), RestoreDefaultPolicyVersion())
