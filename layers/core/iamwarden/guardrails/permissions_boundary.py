"""``permissions-boundary-weakened``: a permissions boundary removed, or replaced by one that bounds nothing.

A permissions boundary caps what a principal's own policies can grant; delegated administrators are
usually given one so that they cannot make themselves administrators. Removing it, or replacing it with
an admin-equivalent or escalating policy, lifts the cap.

What was the boundary before? The event never says. IAM Warden knows it only from its own snapshot of
the principal (``domain.recorded``: the heartbeat reads every role's and user's boundary), and puts exactly
that boundary back. Without a snapshot, or when the snapshot shows no boundary (so the one removed was set
after it), the finding says what is unknown (``needs_context``) and is only alerted.

A new boundary is judged on its document: an AWS-managed admin-equivalent policy by name, a customer-managed
one read live (``RuleContext.documents``; offline it cannot be judged). A new boundary that still bounds
(neither admin-equivalent nor escalating) is accepted: which of two real boundaries is "weaker" is a human's call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from iamwarden.adapters.errors import is_gone
from iamwarden.domain.arns import iam_arn
from iamwarden.domain.catalog import RuleSpec, Severity
from iamwarden.domain.escalation import assess
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.policy import parse_policy
from iamwarden.domain.recorded import BOUNDARY
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.managed_policy import ADMIN_EQUIVALENT
from iamwarden.guardrails.remediation import AccountClients, Permissions, StepRun

PERMISSIONS_BOUNDARY_WEAKENED = RuleSpec(
    id="permissions-boundary-weakened",
    title="Permissions boundary removed or made ineffective",
    event_source="iam.amazonaws.com",
    event_names=frozenset(
        {
            "DeleteRolePermissionsBoundary",
            "DeleteUserPermissionsBoundary",
            "PutRolePermissionsBoundary",
            "PutUserPermissionsBoundary",
        }
    ),
    risk=(
        "A permissions boundary is the cap that keeps a delegated principal from making itself an administrator; "
        "removed or replaced by one that allows everything, the cap is gone."
    ),
    alert_risk=(
        "The permissions boundary capped what this identity could ever do; without it (or with one that allows "
        "everything) its own policies, or policies it writes itself, decide alone."
    ),
)

_AWS_MANAGED = ":iam::aws:policy/"


class PermissionsBoundaryRule:
    """Delete*PermissionsBoundary, and Put*PermissionsBoundary of a boundary that bounds nothing."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (PERMISSIONS_BOUNDARY_WEAKENED,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        kind = "role" if "Role" in change.event_name else "user"
        name = context.request_text(f"{kind}Name")
        arn = iam_arn(context.partition, change.account, kind, name)
        evaluation = Evaluation(resource_arn=arn)
        new = context.request_text("permissionsBoundary") if change.event_name.startswith("Put") else None
        if new is not None:
            bounds = self._still_bounds(context, new, evaluation)
            if bounds is None:
                return evaluation  # unjudged: the new boundary's document cannot be read here
            if bounds:
                evaluation.compliant.append(f"the new boundary {new} of {kind} {name} still bounds it")
                return evaluation
        snapshot = context.recorded.snapshot(BOUNDARY, arn) if context.recorded is not None else None
        previous = snapshot.data.get("boundary_arn") if snapshot is not None else None
        if new is not None and snapshot is not None and previous is None:
            evaluation.compliant.append(f"{kind} {name} had no boundary when last seen: {new} bounds no less than none")
            return evaluation
        if new is not None and previous == new:
            evaluation.compliant.append(f"{kind} {name} keeps boundary {new}")
            return evaluation
        did = (
            f"removed the permissions boundary of {kind} {name}"
            if new is None
            else (f"replaced the permissions boundary of {kind} {name} with {new}, which bounds nothing")
        )
        needs: tuple[str, ...] = ()
        plan: list[RemediationStep] = []
        if snapshot is None or previous is None:
            why = "IAM Warden has no snapshot of it" if snapshot is None else "it was set after the last snapshot"
            needs = (f"which boundary {kind} {name} had before ({why})",)
        else:
            plan = [
                RemediationStep(
                    PutPermissionsBoundary.action,
                    arn,
                    {"kind": kind, "name": name, "boundary_arn": previous},
                    f"put boundary {previous} back on {kind} {name} (as IAM Warden last saw it, {snapshot.taken_at})",
                )
            ]
        evaluation.findings.append(
            context.finding(
                PERMISSIONS_BOUNDARY_WEAKENED,
                severity=Severity.HIGH,
                resource_arn=arn,
                reason=f"{change.actor.display} {did}: its own policies are no longer capped.",
                plan=plan,
                offending=[{"removed": previous, "now": new}],
                needs_context=needs,
            )
        )
        return evaluation

    @staticmethod
    def _still_bounds(context: RuleContext, boundary_arn: str, evaluation: Evaluation) -> bool | None:
        """Whether a boundary caps anything: neither admin-equivalent nor escalating; None when unreadable."""
        if _AWS_MANAGED in boundary_arn:
            return boundary_arn.rsplit("/", 1)[-1] not in ADMIN_EQUIVALENT
        if context.documents is None:
            evaluation.unjudged.append(f"the document of boundary {boundary_arn} is not in the event")
            return None
        version = context.documents.default_version(context.change.account, boundary_arn)
        if version is None:
            evaluation.unjudged.append(f"boundary {boundary_arn} does not exist")
            return None
        return not assess(parse_policy(version.document)).risky


class PutPermissionsBoundary:
    """Set a role's or user's boundary to a given policy (undo puts back the one before, or none)."""

    permissions: ClassVar[Permissions] = (
        "iam:GetRole",
        "iam:GetUser",
        "iam:PutRolePermissionsBoundary",
        "iam:PutUserPermissionsBoundary",
    )
    action: ClassVar[StepAction] = StepAction("put_permissions_boundary", permissions)
    undo_permissions: ClassVar[Permissions] = (
        "iam:GetRole",
        "iam:GetUser",
        "iam:PutRolePermissionsBoundary",
        "iam:PutUserPermissionsBoundary",
        "iam:DeleteRolePermissionsBoundary",
        "iam:DeleteUserPermissionsBoundary",
    )
    undoable: ClassVar[bool] = True

    @staticmethod
    def _boundary(aws: AccountClients, step: RemediationStep) -> tuple[bool, str | None]:
        """Whether the principal exists, and its boundary ARN now."""
        kind, name = step.parameters["kind"], step.parameters["name"]
        try:
            if kind == "role":
                entity = aws.iam.get_role(RoleName=name)["Role"]
            else:
                entity = aws.iam.get_user(UserName=name)["User"]
        except Exception as exc:
            if is_gone(exc):
                return False, None
            raise
        boundary = entity.get("PermissionsBoundary") or {}
        return True, boundary.get("PermissionsBoundaryArn")

    @staticmethod
    def _put(aws: AccountClients, kind: str, name: str, boundary: str) -> None:
        if kind == "role":
            aws.iam.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=boundary)
        else:
            aws.iam.put_user_permissions_boundary(UserName=name, PermissionsBoundary=boundary)

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        exists, boundary = self._boundary(aws, step)
        return {"exists": exists, "boundary_arn": boundary}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        wanted = step.parameters["boundary_arn"]
        if not before["exists"] or before["boundary_arn"] == wanted:
            return
        kind, name = step.parameters["kind"], step.parameters["name"]
        self._put(run.aws, kind, name, wanted)
        done.append(f"put permissions boundary {wanted} back on {kind} {name}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        wanted = step.parameters["boundary_arn"]
        if not before["exists"] or before["boundary_arn"] == wanted:
            return []
        kind, name = step.parameters["kind"], step.parameters["name"]
        exists, now = self._boundary(aws, step)
        if not exists:
            raise UndoError(f"{kind} {name} no longer exists")
        previous = before["boundary_arn"]
        if now == previous:
            return []
        if previous is None:
            if kind == "role":
                aws.iam.delete_role_permissions_boundary(RoleName=name)
            else:
                aws.iam.delete_user_permissions_boundary(UserName=name)
            return [f"removed the permissions boundary of {kind} {name} again, as before"]
        self._put(aws, kind, name, previous)
        return [f"put permissions boundary {previous} on {kind} {name} again, as before"]


GUARDRAILS = (PermissionsBoundaryRule(),)
ACTIONS = (PutPermissionsBoundary(),)
