"""``group-membership-escalation``: a user added to a group whose policies make it an administrator, or let it escalate.

``AddUserToGroup`` grants nothing by itself in the event: the power is in the group's policies, which the
event does not carry. The group's whole policy set (inline and attached) is read from the directory
(``RuleContext.directory``, live in the enforcer, from authorization details offline) and judged together
with ``escalation.assess_principal``. Without a directory, or when it cannot read the group, the finding says
so (``needs_context``) and is only alerted: a membership is never removed on a guess.

The remediation removes exactly that user from exactly that group; undo adds it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from iamwarden.adapters.errors import ignoring, is_gone
from iamwarden.domain.arns import iam_arn
from iamwarden.domain.catalog import RuleSpec, Severity
from iamwarden.domain.escalation import PolicyRisk, assess_principal
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.identity_policy import decisive
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
        policies = context.directory.principal(group_arn) if context.directory is not None else None
        if policies is None:
            why = "no directory of the account's principals" if context.directory is None else "it could not be read"
            evaluation.findings.append(
                context.finding(
                    GROUP_MEMBERSHIP_ESCALATION,
                    severity=Severity.HIGH,
                    resource_arn=user_arn,
                    reason=f"{added}; what the group grants is not known, so it is alerted for a person to check.",
                    plan=[step],
                    needs_context=(f"what the policies of group {group} grant ({why})",),
                )
            )
            return evaluation
        # What the verdict rests on (identity_policy.decisive): with an admin grant or a certain path, what else
        # is unknown cannot change it.
        risk = decisive(assess_principal(policies, context.directory))
        if not risk.risky:
            # Then as they apply to the member: a method such as AttachUserPolicy escalates a user (attach admin
            # to itself), which the whole-power reading only sees when the principal is that user.
            risk = decisive(assess_principal(policies._replace(principal_arn=user_arn), context.directory))
        if not risk.risky:
            evaluation.compliant.append(f"group {group} grants nothing admin-equivalent or escalating")
            return evaluation
        evaluation.findings.append(
            context.finding(
                GROUP_MEMBERSHIP_ESCALATION,
                severity=Severity.CRITICAL if risk.critical else Severity.HIGH,
                resource_arn=user_arn,
                reason=f"{added}, whose policies grant {_risk_words(risk)}.",
                plan=[step],
                offending=[{"group": group, "policies": [named.source for named in policies.policies]}],
                needs_context=risk.unknown,
            )
        )
        return evaluation


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


GUARDRAILS = (GroupMembershipRule(),)
ACTIONS = (RemoveUserFromGroup(),)
