"""``restraint-removed``: a Deny taken away from a principal, leaving it an administrator or able to escalate.

A principal's power is what its policies allow minus what they deny. Removing a policy that only allows can
never open anything; removing one that denies can: a role holding ``Allow *`` behind a managed ``Deny iam:*``
guard becomes an administrator the moment the guard is detached, although no grant changed. The change is
one of ``Detach{Role,User,Group}Policy``, ``Delete{Role,User,Group}Policy`` or ``RemoveUserFromGroup`` (a
group whose policies held the Deny).

The judgement reads the principal's whole power (``RuleContext.directory``: live in the enforcer, from
authorization details offline) and compares it with and without what was removed: BEFORE is the principal
with the removed policy, AFTER the same without it, so it holds whether the directory was read before the
change (details) or after it (live). What the change opened (admin grants or escalation paths AFTER reaches
that BEFORE did not) is the finding.

What was removed must be known exactly for a verdict:

- a detached managed policy still exists, and its default version is read;
- a group's policies are read from the group;
- a deleted inline policy is gone, and IAM keeps no history of inline documents: only authorization details
  taken before the deletion hold it. Live, when what remains is admin or escalating, the finding says the
  deleted document is unknown (``needs_context``) and is only alerted.

  Live, the principal's ``attachments`` record keeps each inline policy's whole document (the heartbeat's
  read, or the enforcer's last put): a deletion after it is judged on that document as offline.

A ``Put{Role,User,Group}Policy`` over an inline policy whose earlier document is known (details taken before it,
or the record) and held a Deny the new document no longer has (review 13 finding 6: the ``guardrails`` policy's
``Deny iam:*`` overwritten by one without it) removed a restraint too. It is judged the same way, on the whole
power with the dropped Deny and without it (the new document either way, so what the put's own grants add is left
to ``inline-policy-admin``/``privilege-escalation``, judged against the earlier document as if the Deny had stayed),
and the alert names the Deny statement and the policy it was in.

The finding of a detach, a deletion or a membership removed is alerted, never remediated, in every mode: putting a
Deny back would take ``iam:Attach*Policy`` or ``iam:AddUserToGroup`` on any principal, and whoever borrowed IAM
Warden's role could then attach ``AdministratorAccess`` to anyone. The alert gives the exact command that puts back
what was removed. A put's Deny is different: putting the earlier document back takes only the ``iam:Put*Policy``
IAM Warden holds for inline policies anyway, so in ``remediate`` mode the plan restores it (``RewriteInlinePolicy``:
only while the event's document is live; undo puts the event's document again).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from iamwarden.domain.arns import iam_arn
from iamwarden.domain.catalog import RuleSpec, Severity
from iamwarden.domain.directory import GroupMembers, group_source, inline_source
from iamwarden.domain.documents import PolicyKind, load_policy
from iamwarden.domain.escalation import EscalationPath, PolicyRisk, assess_principal
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.findings import RemediationStep
from iamwarden.domain.policy import Policy, parse_policy
from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies
from iamwarden.domain.recorded import compact_document
from iamwarden.guardrails.attachments import ABSENT_INLINE, DETACH_PRINCIPAL, inline_held_before
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.identity_policy import (
    RESTRAINT_REMOVED_ID,
    decisive,
    deny_words,
    dropped_denies,
    escalations_opened,
    replaced_inline,
    restore_inline_step,
    with_statements,
)

IAM = "iam.amazonaws.com"

RESTRAINT_REMOVED = RuleSpec(
    id=RESTRAINT_REMOVED_ID,
    title="Deny removed, leaving a principal admin-equivalent or escalating",
    event_source=IAM,
    event_names=frozenset(
        {
            "DetachRolePolicy",
            "DetachUserPolicy",
            "DetachGroupPolicy",
            "DeleteRolePolicy",
            "DeleteUserPolicy",
            "DeleteGroupPolicy",
            "RemoveUserFromGroup",
            "PutRolePolicy",
            "PutUserPolicy",
            "PutGroupPolicy",
        }
    ),
    risk=(
        "A Deny is often what keeps a broad grant safe; taking the policy that holds it away makes the principal "
        "an administrator, or able to make itself one, without any grant changing."
    ),
    alert_risk=(
        "The policy taken away held a Deny that kept this principal's other permissions in check: without it, "
        "the principal is an administrator or can make itself one."
    ),
)

#: Inline delete event -> (principal kind, request parameter naming it).
_DELETE = {
    "DeleteRolePolicy": ("role", "roleName"),
    "DeleteUserPolicy": ("user", "userName"),
    "DeleteGroupPolicy": ("group", "groupName"),
}
#: Inline put event -> (principal kind, request parameter naming it, the document's kind).
_PUT = {
    "PutRolePolicy": ("role", "roleName", PolicyKind.INLINE_ROLE),
    "PutUserPolicy": ("user", "userName", PolicyKind.INLINE_USER),
    "PutGroupPolicy": ("group", "groupName", PolicyKind.INLINE_GROUP),
}
#: A previous document longer than this is not written into the alert's command (it is in the plan and the audit).
_COMMAND_DOCUMENT = 1000
#: How many members of a group the judgement reads (a group's change reaches each member user).
_JUDGED_MEMBERS = 25


def _denies(policies: tuple[NamedPolicy, ...]) -> bool:
    """Whether any of ``policies`` holds a Deny: removing only grants can never open anything."""
    return any(not statement.allows for named in policies for statement in named.policy.statements)


def _opened(before: PrincipalPolicies, after: PrincipalPolicies, context: RuleContext) -> PolicyRisk:
    """What AFTER can do that BEFORE could not: its admin grants (when BEFORE had none) and its new paths."""
    directory = context.directory
    admin = assess_principal(after, directory).admin
    if admin and assess_principal(before, directory).admin:
        admin = ()
    opened = escalations_opened(before, after, directory)
    if opened:
        held = assess_principal(before, directory).escalations
        opened = tuple(_with_doubts(path, held) for path in opened)
    return decisive(PolicyRisk(admin, opened, tuple(dict.fromkeys(f for p in opened for f in p.unknown))))


def _with_doubts(path: EscalationPath, held: tuple[EscalationPath, ...]) -> EscalationPath:
    """A path BEFORE held only possibly (``held``: a Deny whose variable IAM Warden cannot resolve may have covered
    it, review engine s10 finding 6) is opened by the removal only possibly: it keeps what BEFORE did not know."""
    doubts = [
        fact
        for before in held
        if before.method.name == path.method.name and not before.certain
        for fact in before.unknown
    ]
    return path._replace(unknown=tuple(dict.fromkeys((*path.unknown, *doubts)))) if doubts else path


def _removed_denies(removed: tuple[NamedPolicy, ...]) -> str:
    """The Deny statements of what was removed, in words (``deny_words``), each with the policy it was in."""
    return "; ".join(
        f"{deny_words([statement])} of {named.source}"
        for named in removed
        for statement in named.policy.statements
        if not statement.allows
    )


def _words(risk: PolicyRisk) -> str:
    parts = [grant.why for grant in risk.admin] + [f"escalation {path.describe()}" for path in risk.escalations]
    return "; ".join(parts)


class RestraintRemovedRule:
    """A policy or group membership removed that held a Deny the principal's other grants were kept in by."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (RESTRAINT_REMOVED,)
    #: The judged events another guardrail's EventBridge rule already routes (``tools/generate.py`` reads it).
    routed_by_others: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {(IAM, "DeleteUserPolicy"), *((IAM, name) for name in _PUT)}
    )

    def evaluate(self, context: RuleContext) -> Evaluation:
        name = context.change.event_name
        if name in DETACH_PRINCIPAL:
            return self._detached(context)
        if name in _DELETE:
            return self._deleted(context)
        if name in _PUT:
            return self._put(context)
        return self._left_group(context)

    # --- what was removed -------------------------------------------------------------------------------

    def _detached(self, context: RuleContext) -> Evaluation:
        kind, parameter = DETACH_PRINCIPAL[context.change.event_name]
        principal = context.request_text(parameter)
        policy_arn = context.request_text("policyArn")
        arn = iam_arn(context.partition, context.change.account, kind, principal)
        evaluation = Evaluation(resource_arn=arn)
        removed = self._managed_document(context, arn, policy_arn)
        command = f"aws iam attach-{kind}-policy --{kind}-name {principal} --policy-arn {policy_arn}"
        what = f"{context.change.actor.display} detached {policy_arn} from {kind} {principal}"
        if removed is None and context.documents is None:
            evaluation.unjudged.append(
                f"the event does not carry the document of {policy_arn}: the enforcer reads it live (offline: "
                "--authorization-details taken before the change)"
            )
            return evaluation
        if removed is None:
            evaluation.compliant.append(
                f"{policy_arn} no longer exists (deleted after the detach): nothing to put back"
            )
            return evaluation
        return self._judge(
            context,
            evaluation,
            arn=arn,
            kind=kind,
            removed=(NamedPolicy(policy_arn, removed),),
            what=what,
            command=command,
        )

    def _deleted(self, context: RuleContext) -> Evaluation:
        kind, parameter = _DELETE[context.change.event_name]
        principal = context.request_text(parameter)
        policy_name = context.request_text("policyName")
        arn = iam_arn(context.partition, context.change.account, kind, principal)
        evaluation = Evaluation(resource_arn=arn)
        source = inline_source(principal, policy_name)
        current = context.directory.principal(arn) if context.directory is not None else None
        held = next((named for named in current.policies if named.source == source), None) if current else None
        what = f"{context.change.actor.display} deleted inline policy {policy_name} of {kind} {principal}"
        if held is not None:  # authorization details taken before the deletion: the document is known
            command = (
                f"aws iam put-{kind}-policy --{kind}-name {principal} --policy-name {policy_name} "
                "--policy-document <its document>"
            )
            return self._judge(context, evaluation, arn=arn, kind=kind, removed=(held,), what=what, command=command)
        if context.directory is None:
            evaluation.unjudged.append(
                f"the event does not carry the deleted document of inline policy {policy_name}: only "
                "--authorization-details taken before the deletion hold it"
            )
            return evaluation
        recorded = self._recorded_inline(context, arn, source, policy_name)
        if recorded is not None and current is not None:  # the record taken before the deletion keeps the document
            command = (
                f"aws iam put-{kind}-policy --{kind}-name {principal} --policy-name {policy_name} "
                f"--policy-document {_document_argument(recorded.policy)}"
            )
            return self._judge(context, evaluation, arn=arn, kind=kind, removed=(recorded,), what=what, command=command)
        if current is None or kind == "group":
            evaluation.compliant.append(
                f"{kind} {principal} no longer exists"
                if current is None
                else f"what inline policy {policy_name} of group {principal} held is gone with it (IAM keeps no "
                "history of inline policies): a deletion only takes permissions away unless it held a Deny"
            )
            return evaluation
        # Live: the document is gone. Only a principal left risky could have been held back by it.
        left = decisive(assess_principal(current, context.directory))
        if not left.risky:
            evaluation.compliant.append(f"{kind} {principal} is neither admin-equivalent nor escalating without it")
            return evaluation
        evaluation.findings.append(
            context.finding(
                RESTRAINT_REMOVED,
                severity=Severity.HIGH,
                resource_arn=arn,
                reason=(
                    f"{what}; what remains makes it {_words(left)}. Whether the deleted policy held a Deny that "
                    "kept this in check is not known (IAM keeps no history of inline policies)."
                ),
                plan=[],
                needs_context=(
                    f"what inline policy {policy_name} of {kind} {principal} held before it was deleted (IAM keeps "
                    "no history of inline policies): if it held a Deny, this deletion opened the rest",
                ),
            )
        )
        return evaluation

    def _put(self, context: RuleContext) -> Evaluation:
        kind, parameter, policy_kind = _PUT[context.change.event_name]
        principal = context.request_text(parameter)
        policy_name = context.request_text("policyName")
        arn = iam_arn(context.partition, context.change.account, kind, principal)
        evaluation = Evaluation(resource_arn=arn)
        field = "detail.requestParameters.policyDocument"
        policy = load_policy(context.change.request_parameters.get("policyDocument"), policy_kind, field=field)
        source = inline_source(principal, policy_name)
        replaced = replaced_inline(context, arn, source, policy)
        if replaced is None:
            evaluation.compliant.append(
                f"no Deny is known to be removed from inline policy {policy_name} of {kind} {principal} (a new name, "
                "the same document, or what it held before is not known)"
            )
            return evaluation
        dropped = dropped_denies(policy, replaced)
        if not dropped:
            evaluation.compliant.append(
                f"the put keeps every Deny inline policy {policy_name} of {kind} {principal} held before it"
            )
            return evaluation
        what = f"{context.change.actor.display} put inline policy {policy_name} on {kind} {principal}"
        command = (
            f"aws iam put-{kind}-policy --{kind}-name {principal} --policy-name {policy_name} "
            f"--policy-document {_document_argument(replaced)}"
        )
        document = dict(policy.raw)
        return self._judge(
            context,
            evaluation,
            arn=arn,
            kind=kind,
            removed=(NamedPolicy(source, with_statements(policy, dropped)),),
            left=(NamedPolicy(source, policy),),
            what=what,
            command=command,
            plan=(restore_inline_step(arn, kind, principal, policy_name, document=document, previous=replaced),),
            dropped=f"the Deny {deny_words(dropped)} that was in inline policy {policy_name} was removed by this put",
        )

    def _left_group(self, context: RuleContext) -> Evaluation:
        group = context.request_text("groupName")
        user = context.request_text("userName")
        account = context.change.account
        user_arn = iam_arn(context.partition, account, "user", user)
        group_arn = iam_arn(context.partition, account, "group", group)
        evaluation = Evaluation(resource_arn=user_arn)
        policies = context.directory.principal(group_arn) if context.directory is not None else None
        if context.directory is None:
            evaluation.unjudged.append(
                f"what group {group} holds is not in the event: the enforcer reads it live (offline: "
                "--authorization-details)"
            )
            return evaluation
        if policies is None:
            evaluation.compliant.append(f"group {group} could not be read (deleted since?): nothing to put back")
            return evaluation
        removed = tuple(NamedPolicy(group_source(group, n.source), n.policy) for n in policies.policies)
        command = f"aws iam add-user-to-group --group-name {group} --user-name {user}"
        what = f"{context.change.actor.display} removed user {user} from group {group}"
        return self._judge(context, evaluation, arn=user_arn, kind="user", removed=removed, what=what, command=command)

    # --- the verdict ------------------------------------------------------------------------------------

    def _judge(
        self,
        context: RuleContext,
        evaluation: Evaluation,
        *,
        arn: str,
        kind: str,
        removed: tuple[NamedPolicy, ...],
        what: str,
        command: str,
        left: tuple[NamedPolicy, ...] = (),
        plan: Sequence[RemediationStep] = (),
        dropped: str = "",
    ) -> Evaluation:
        """``removed``: what the principal held before (with the Deny); ``left``: what stands in its place after
        (nothing, or a put's new document); ``dropped``: how the alert names the Deny a put removed."""
        if not _denies(removed):
            evaluation.compliant.append("what was removed held no Deny: removing grants opens nothing")
            return evaluation
        holders = self._holders(context, arn, kind, removed, left)
        if holders is None:
            evaluation.findings.append(
                context.finding(
                    RESTRAINT_REMOVED,
                    severity=Severity.HIGH,
                    resource_arn=arn,
                    reason=(
                        f"{what}: {dropped}; what it kept in check is not known. To put it back: {command}"
                        if dropped
                        else f"{what}, which held a Deny; what it kept in check is not known. To put it back: {command}"
                    ),
                    plan=plan,
                    needs_context=(f"what else {arn} holds, or who holds it (the directory could not tell)",),
                )
            )
            return evaluation
        opened: list[tuple[str, PolicyRisk]] = []
        for holder_arn, before, after in holders:
            risk = _opened(before, after, context)
            if risk.risky:
                opened.append((holder_arn, risk))
        if not opened:
            evaluation.compliant.append(
                "the Deny removed kept nothing admin-equivalent or escalating in check, with everything else held"
            )
            return evaluation
        critical = any(risk.critical for _, risk in opened)
        words = "; ".join(
            f"{holder.rsplit('/', 1)[-1]}: {_words(risk)}" if holder != arn else _words(risk) for holder, risk in opened
        )
        evaluation.findings.append(
            context.finding(
                RESTRAINT_REMOVED,
                severity=Severity.CRITICAL if critical else Severity.HIGH,
                resource_arn=arn,
                reason=(
                    f"{what}: {dropped}; it kept this in check, and without it: {words}. To put it back: {command}"
                    if dropped
                    else f"{what}, whose Deny ({_removed_denies(removed)}) kept this in check; without it: {words}. "
                    f"To put it back: {command}"
                ),
                plan=plan,
                offending=[{"removed": [named.source for named in removed]}],
                needs_context=tuple(dict.fromkeys(f for _, risk in opened for f in risk.unknown)),
            )
        )
        return evaluation

    @staticmethod
    def _recorded_inline(context: RuleContext, arn: str, source: str, policy_name: str) -> NamedPolicy | None:
        """A deleted inline policy's document from the principal's record taken before the deletion (live); None
        when the record does not keep it."""
        held = inline_held_before(context, arn, policy_name)
        if held is None or held.digest == ABSENT_INLINE or held.document is None:
            return None
        try:
            return NamedPolicy(source, parse_policy(held.document, field=f"the recorded document of {source}"))
        except InvalidEventError:
            return None

    @staticmethod
    def _managed_document(context: RuleContext, arn: str, policy_arn: str) -> Policy | None:
        """The detached policy's document: from the directory when it still holds it (details taken before
        the change), else its default version, read live."""
        current = context.directory.principal(arn) if context.directory is not None else None
        held = next((named for named in current.policies if named.source == policy_arn), None) if current else None
        if held is not None:
            return held.policy
        if context.documents is None:
            return None
        version = context.documents.default_version(context.change.account, policy_arn)
        if version is None:
            return None
        return parse_policy(dict(version.document), field=f"version {version.version_id} of {policy_arn}")

    @staticmethod
    def _holders(
        context: RuleContext,
        arn: str,
        kind: str,
        removed: tuple[NamedPolicy, ...],
        left: tuple[NamedPolicy, ...] = (),
    ) -> list[tuple[str, PrincipalPolicies, PrincipalPolicies]] | None:
        """Each principal whose power the removal changes, with BEFORE (holding ``removed``) and AFTER (without
        it, or holding ``left`` in its place); a group's are its member users, each holding the group's policies as
        ``group <name>: <source>``."""
        directory = context.directory
        if directory is None:
            return None
        if kind != "group":
            current = directory.principal(arn)
            if current is None:
                return None
            return [(arn, _with(current, removed), _with(_without(current, removed), left))]
        members = directory.members_of(arn) if isinstance(directory, GroupMembers) else None
        if members is None:
            return None
        group = arn.rsplit("/", 1)[-1]
        as_member = tuple(NamedPolicy(group_source(group, n.source), n.policy) for n in removed)
        left_as_member = tuple(NamedPolicy(group_source(group, n.source), n.policy) for n in left)
        found: list[tuple[str, PrincipalPolicies, PrincipalPolicies]] = []
        for user_arn in members[:_JUDGED_MEMBERS]:
            user = directory.principal(user_arn)
            if user is None:
                return None
            found.append((user_arn, _with(user, as_member), _with(_without(user, as_member), left_as_member)))
        return found


def _document_argument(policy: Policy) -> str:
    """The document for the alert's command: quoted compact JSON, or where to find it when it is long."""
    text = compact_document(dict(policy.raw))
    if len(text) > _COMMAND_DOCUMENT or "'" in text:
        return "<the document it held before: the plan's restore, in the audit record>"
    return f"'{text}'"


def _with(principal: PrincipalPolicies, removed: tuple[NamedPolicy, ...]) -> PrincipalPolicies:
    for named in removed:
        principal = principal.replaced(named.source, named.policy)
    return principal


def _without(principal: PrincipalPolicies, removed: tuple[NamedPolicy, ...]) -> PrincipalPolicies:
    for named in removed:
        principal = principal.replaced(named.source, None)
    return principal


GUARDRAILS = (RestraintRemovedRule(),)
#: None: putting a Deny back takes ``iam:Attach*Policy``/``iam:AddUserToGroup`` on any principal, which would
#: let whoever borrows IAM Warden's role make anyone an administrator. The alert gives the exact command.
ACTIONS = ()
