"""``group-membership-escalation``: a user added to a group whose policies make it an administrator, or let it escalate.

``AddUserToGroup`` grants nothing by itself in the event: the power is in the group's policies, which the
event does not carry. The group's whole policy set (inline and attached) is read from the directory
(``RuleContext.directory``, live in the enforcer, from authorization details offline) and judged together
with ``escalation.assess_principal``. Without a directory, or when it cannot read the group, the finding says
so (``needs_context``) and is only alerted: a membership is never removed on a guess.

A group that escalates nobody alone may complete a path with what the user already holds (the user may pass
roles, the group may create functions). So the user is judged too, with its whole power after the change (its
own policies, its other groups' and its boundary, read from the directory) against the same without this
group: a path the membership opens is a finding naming the user's older grants that complete it.

The remediation removes exactly that user from exactly that group; undo adds it back. Only what the event added:
``AddUserToGroup`` of a member succeeds, so a user who was in the group before the event is not removed, and when
that is not known the finding is alert-only (``guardrails.attachments``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from iamwarden.adapters.errors import ignoring, is_gone
from iamwarden.domain.arns import iam_arn
from iamwarden.domain.catalog import RuleSpec, Severity
from iamwarden.domain.directory import group_source
from iamwarden.domain.escalation import EscalationPath, PolicyRisk, assess_principal, with_doubts
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies
from iamwarden.guardrails.attachments import UndoneOn, member_again, member_before, only_if_added
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.identity_policy import Previous, decisive, opened_since
from iamwarden.guardrails.remediation import AccountClients, Permissions, StepRun, pages

GROUP_MEMBERSHIP_ESCALATION = RuleSpec(
    id="group-membership-escalation",
    title="User added to an admin-equivalent or escalating group",
    event_source="iam.amazonaws.com",
    event_names=frozenset({"AddUserToGroup"}),
    risk=(
        "Adding a user to a group hands it everything the group's policies grant: into an administrators' group, "
        "or one with an escalation path, it is a quiet way to become an administrator."
    ),
    alert_risk=(
        "This user now holds everything the group's policies grant, which makes it an administrator or lets it "
        "make itself one, without any policy of its own changing."
    ),
)


def _risk_words(risk: PolicyRisk) -> str:
    parts = [grant.why for grant in risk.admin] + [f"escalation {path.describe()}" for path in risk.escalations]
    return "; ".join(parts)


class GroupMembershipRule:
    """AddUserToGroup into a group whose policies, judged together, are admin-equivalent or escalating."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (GROUP_MEMBERSHIP_ESCALATION,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        group = context.request_text("groupName")
        user = context.request_text("userName")
        group_arn = iam_arn(context.partition, change.account, "group", group)
        user_arn = iam_arn(context.partition, change.account, "user", user)
        evaluation = Evaluation(resource_arn=user_arn)
        step = RemediationStep(
            RemoveUserFromGroup.action,
            user_arn,
            {"user_name": user, "group_name": group},
            f"remove user {user} from group {group} (only that membership; undo adds it back)",
        )
        added = f"{change.actor.display} added user {user} to group {group}"
        # Adding a member again succeeds: then the event added nothing to take away.
        joined = only_if_added(
            member_before(context, user_arn, group), step, f"user {user} was in group {group}", "remove it"
        )
        policies = context.directory.principal(group_arn) if context.directory is not None else None
        if policies is None:
            why = "no directory of the account's principals" if context.directory is None else "it could not be read"
            evaluation.findings.append(
                context.finding(
                    GROUP_MEMBERSHIP_ESCALATION,
                    severity=Severity.HIGH,
                    resource_arn=user_arn,
                    reason=joined.told(
                        f"{added}; what the group grants is not known, so it is alerted for a person to check."
                    ),
                    plan=joined.plan,
                    needs_context=(f"what the policies of group {group} grant ({why})", *joined.needs_context),
                )
            )
            return evaluation
        directory = context.directory
        user_now = directory.principal(user_arn) if directory is not None else None
        completed: tuple[str, ...] = ()
        if user_now is not None:
            # The group's policies as this member holds them (its own Denies and boundary applied), against the
            # same member without them: what the membership adds (issue 13, session 11).
            risk, completed = _opened_for_member(user_now, group, policies, context)
        else:
            # What the verdict rests on (identity_policy.decisive): with a certain path, what else is unknown cannot
            # change it; an admin grant is not certain, since the member's own Deny or boundary may cancel it.
            risk = decisive(_unread_member(assess_principal(policies, directory), policies, user))
            if not risk.risky:
                # Then as they apply to the member: a method such as AttachUserPolicy escalates a user (attach admin
                # to itself), which the whole-power reading only sees when the principal is that user.
                as_user = assess_principal(policies._replace(principal_arn=user_arn), directory)
                risk = decisive(_unread_member(as_user, policies, user))
        guard = ""
        alone = decisive(assess_principal(policies, directory))
        if alone.risky and (not risk.risky or risk.unknown):
            # The group is risky by itself: main's verdict is the floor (review s11 finding 4). A member's own guard
            # or boundary, or a doubt, does not leave the membership in force: removing the guard later is alerted
            # only, and the membership would then arm the user.
            guard = (
                f" User {user} gains none of it now (its own Deny statements or permissions boundary cancel it), but "
                "the membership would arm it once they are removed, so it is undone all the same"
                if not risk.risky
                else f" Whether user {user} gets it past its own Deny statements and permissions boundary is not "
                "known, but the group grants it by itself, so the membership is undone all the same"
            )
            risk, completed = alone, ()
        if not risk.risky:
            evaluation.compliant.append(
                f"group {group} grants nothing admin-equivalent or escalating, alone or with what user {user} holds"
                if user_now is not None
                else f"group {group} grants nothing admin-equivalent or escalating (what user {user} holds besides "
                "could not be read)"
            )
            return evaluation
        with_older = f"; with what the user already held ({', '.join(completed)})" if completed else ""
        evaluation.findings.append(
            context.finding(
                GROUP_MEMBERSHIP_ESCALATION,
                severity=Severity.CRITICAL if risk.critical else Severity.HIGH,
                resource_arn=user_arn,
                reason=joined.told(
                    f"{added}, whose policies grant {_risk_words(risk)}{with_older}.{guard and guard + '.'}"
                ),
                plan=joined.plan,
                offending=[{"group": group, "policies": [named.source for named in policies.policies]}],
                needs_context=tuple(dict.fromkeys((*risk.unknown, *joined.needs_context))),
            )
        )
        return evaluation


def _unread_member(risk: PolicyRisk, policies: PrincipalPolicies, user: str) -> PolicyRisk:
    """The group's grants for a member that could not be read: what each rests on named (``with_doubts``), and the
    member's own Deny statements or boundary, which may cancel any of them, unknown (issue 13, session 11)."""
    if not risk.risky:
        return risk
    unread = f"whether user {user}'s own policies or permissions boundary cancel it (they could not be read)"
    doubted = with_doubts(policies, risk, changed=tuple(named.source for named in policies.policies))
    return doubted._replace(
        admin=tuple(grant._replace(unknown=(*grant.unknown, unread)) for grant in doubted.admin),
        escalations=tuple(path._replace(unknown=(*path.unknown, unread)) for path in doubted.escalations),
    )


def _opened_for_member(
    user_now: PrincipalPolicies, group: str, policies: PrincipalPolicies, context: RuleContext
) -> tuple[PolicyRisk, tuple[str, ...]]:
    """What the membership adds to the user, on its whole power (``decisive``), and the user's older grants that
    complete a new path.

    The directory may read the user after the change (live: the group is among its groups) or before it (an
    authorization-details file): either way BEFORE is the user without this group, AFTER the same with it. The
    group's admin grants count as the member holds them: its own Deny statements and boundary applied, and what
    each rests on named (``with_doubts``: a condition on it, a conditional Deny or boundary that may apply, a Deny
    with an unresolved variable), so an admin grant resting on any of those is alerted, never remediated on.
    """
    through = group_source(group, "")
    before = user_now._replace(policies=tuple(n for n in user_now.policies if not n.source.startswith(through)))
    added = tuple(NamedPolicy(group_source(group, named.source), named.policy) for named in policies.policies)
    after = before._replace(policies=before.policies + added)
    risk_after = with_doubts(
        after, assess_principal(after, context.directory), changed=tuple(named.source for named in added)
    )
    admin = tuple(grant for grant in risk_after.admin if grant.source.startswith(through))
    opened = (
        opened_since(risk_after.escalations, (assess_principal(before, context.directory),), Previous())
        if risk_after.escalations
        else ()
    )
    doubts = (*(fact for grant in admin for fact in grant.unknown), *(f for p in opened for f in p.unknown))
    risk = decisive(PolicyRisk(admin, opened, tuple(dict.fromkeys(doubts))))
    return risk, _older_grants(risk.escalations, through)


def _older_grants(paths: tuple[EscalationPath, ...], through: str) -> tuple[str, ...]:
    """Each action a path needs that the user held before the membership, with the policies that grant it."""
    older: list[str] = []
    for path in paths:
        for grant in path.grants:
            sources = [by.split(" of ", 1)[-1] for by in grant.granted_by]
            if any(source.startswith(through) for source in sources):
                continue
            entry = f"{grant.action} ({', '.join(dict.fromkeys(sources))})"
            if entry not in older:
                older.append(entry)
    return tuple(older)


class RemoveUserFromGroup:
    """Remove exactly one user from exactly one group (undo adds it back)."""

    permissions: ClassVar[Permissions] = ("iam:ListGroupsForUser", "iam:RemoveUserFromGroup")
    action: ClassVar[StepAction] = StepAction("remove_user_from_group", permissions)
    undo_permissions: ClassVar[Permissions] = ("iam:ListGroupsForUser", "iam:AddUserToGroup")
    undoable: ClassVar[bool] = True

    @staticmethod
    def _member(aws: AccountClients, step: RemediationStep) -> bool | None:
        """Whether the user is in the group now; None when the user is gone."""
        try:
            groups = {
                g["GroupName"]
                for g in pages(aws.iam, "list_groups_for_user", "Groups", UserName=step.parameters["user_name"])
            }
        except Exception as exc:
            if is_gone(exc):
                return None
            raise
        return step.parameters["group_name"] in groups

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return {"member": self._member(aws, step)}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["member"]:
            return  # removed since, or the user is gone
        user, group = step.parameters["user_name"], step.parameters["group_name"]
        with ignoring():
            run.aws.iam.remove_user_from_group(GroupName=group, UserName=user)
            done.append(f"removed user {user} from group {group}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not before["member"]:
            return []
        user, group = step.parameters["user_name"], step.parameters["group_name"]
        member = self._member(aws, step)
        if member is None:
            raise UndoError(f"user {user} no longer exists; it cannot be added to group {group} again")
        if member:
            return []
        aws.iam.add_user_to_group(GroupName=group, UserName=user)
        return [f"added user {user} to group {group} again"]

    def undone_on(self, step: RemediationStep, before: Mapping[str, Any]) -> UndoneOn | None:
        """What a successful undo leaves, for the user's ``attachments`` record: a member of the group again."""
        if not before["member"]:
            return None
        return member_again(step.parameters["user_name"], step.parameters["group_name"])


GUARDRAILS = (GroupMembershipRule(),)
ACTIONS = (RemoveUserFromGroup(),)
