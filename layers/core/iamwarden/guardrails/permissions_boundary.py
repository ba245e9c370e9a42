"""``permissions-boundary-weakened``: a permissions boundary removed, or replaced by one that bounds less.

A permissions boundary caps what a principal's own policies can grant; delegated administrators are
usually given one so that they cannot make themselves administrators. Removing it, replacing it with
an admin-equivalent or escalating policy, or with one that allows more than the one before, loosens the cap.

What was the boundary before? The event never says, and the live principal already holds the new one. IAM
Warden knows it from its own snapshot of the principal (``domain.recorded``: the heartbeat reads every role's
and user's boundary), offline from ``--authorization-details``, and puts exactly that boundary back. Without
either, or when the snapshot shows no boundary (so the one removed was set after it), or was taken after the
change and already shows the new boundary, the finding says what is unknown (``needs_context``) and is only
alerted. Each boundary event the enforcer judges updates that snapshot with the boundary it set (dated by the
event, kept only if newer, and not when the enforcer put the previous one back), so a change judged since the
heartbeat's last read is the "before" of the next one, never the older boundary.

A new boundary is judged on its document: an AWS-managed admin-equivalent policy by name, a customer-managed
one read live (``RuleContext.documents``; offline from the authorization details). One that still bounds is
compared with the previous boundary's document (``domain.boundaries.widened``): anything it allows that the
previous one did not (an action, a resource, a Deny dropped) is a finding, and the previous boundary goes
back. A previous boundary whose document cannot be read is named as unknown. The remediation puts the previous
boundary back only while the principal still holds the boundary the event set (a later change is someone
else's, and kept); undo puts the event's boundary back.
"""

from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple

from iamwarden.adapters.errors import PermanentAwsError, is_gone
from iamwarden.domain.arns import iam_arn
from iamwarden.domain.boundaries import widened
from iamwarden.domain.catalog import RuleSpec, Severity
from iamwarden.domain.escalation import assess
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.policy import Policy, parse_policy
from iamwarden.domain.recorded import BOUNDARY, PastRemediation, Snapshot, observed_at
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.iam_user import QuarantineUser
from iamwarden.guardrails.managed_policy import ADMIN_EQUIVALENT, DENY_ONLY
from iamwarden.guardrails.remediation import AccountClients, Permissions, StepRun
from iamwarden.guardrails.remediation_reversed import role_boundary_quarantines, user_boundary_quarantines
from iamwarden.guardrails.tampering import QuarantineRole, unexcused_undo

PERMISSIONS_BOUNDARY_WEAKENED = RuleSpec(
    id="permissions-boundary-weakened",
    title="Permissions boundary removed or weakened",
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
        "removed, or replaced by one that allows everything or more than before, the cap is gone or looser."
    ),
    alert_risk=(
        "The permissions boundary capped what this identity could ever do; without it (or with one that allows "
        "everything, or more than before) its own policies, or policies it writes itself, decide more of it alone."
    ),
)

_AWS_MANAGED = ":iam::aws:policy/"


class PermissionsBoundaryRule:
    """Delete*PermissionsBoundary, and Put*PermissionsBoundary of a boundary that bounds nothing or allows more."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (PERMISSIONS_BOUNDARY_WEAKENED,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        kind = "role" if "Role" in change.event_name else "user"
        name = context.request_text(f"{kind}Name")
        arn = iam_arn(context.partition, change.account, kind, name)
        evaluation = Evaluation(resource_arn=arn)
        new = context.request_text("permissionsBoundary") if change.event_name.startswith("Put") else None
        quarantine = _quarantine_boundary(context, arn, new)
        if quarantine is not None and quarantine[0]:
            # Not this rule's: a quarantine's boundary lifted by hand is remediation-reversed's (critical, put back),
            # and what it set is no "before" to keep.
            evaluation.compliant.append(quarantine[1])
            return evaluation
        if context.recorded is not None:
            # What the principal holds from now on: the next change's "before", newer than the heartbeat's
            # snapshot (kept by the enforcer once it has acted, and not when it put the previous one back).
            taken = observed_at(change.time)
            evaluation.observed.append(Snapshot(BOUNDARY, arn, taken, {"boundary_arn": new}))
        if quarantine is not None:
            evaluation.compliant.append(quarantine[1])
            return evaluation
        if new is None:
            return self._removed(context, evaluation, kind, name)
        if (allows_nothing := _allows_nothing(context, new)) is not None:
            evaluation.compliant.append(f"the new boundary {new} of {kind} {name} {allows_nothing}: it allows nothing")
            return evaluation
        bounds = self._still_bounds(context, new, evaluation)
        if bounds is None:
            return evaluation  # unjudged: the new boundary's document cannot be read here
        previous = _previous_boundary(context, arn, new)
        if previous.known and previous.arn is None:
            evaluation.compliant.append(
                f"{kind} {name} had no boundary {previous.source}: {new} bounds no less than none"
            )
            return evaluation
        if previous.known and previous.arn == new:
            evaluation.compliant.append(f"{kind} {name} keeps boundary {new}")
            return evaluation
        if not bounds:
            return self._bounds_nothing(context, evaluation, kind=kind, name=name, new=new, previous=previous)
        return self._compared(context, evaluation, kind=kind, name=name, new=new, previous=previous)

    def _removed(self, context: RuleContext, evaluation: Evaluation, kind: str, name: str) -> Evaluation:
        """A boundary deleted: the previous one goes back where the snapshot names it."""
        arn = evaluation.resource_arn or ""
        snapshot = context.recorded.snapshot(BOUNDARY, arn) if context.recorded is not None else None
        previous = snapshot.data.get("boundary_arn") if snapshot is not None else None
        needs: tuple[str, ...] = ()
        plan: list[RemediationStep] = []
        if snapshot is None or previous is None:
            why = "IAM Warden has no snapshot of it" if snapshot is None else "it was set after the last snapshot"
            needs = (f"which boundary {kind} {name} had before ({why})",)
        else:
            plan = [
                _put_back(
                    arn,
                    kind,
                    name,
                    boundary=previous,
                    replaces=None,
                    source=f"when last seen by IAM Warden, {snapshot.taken_at}",
                )
            ]
        return _found(
            context,
            evaluation,
            severity=Severity.HIGH,
            did=f"removed the permissions boundary of {kind} {name}: its own policies are no longer capped",
            plan=plan,
            offending={"removed": previous, "now": None},
            needs=needs,
        )

    def _bounds_nothing(
        self, context: RuleContext, evaluation: Evaluation, *, kind: str, name: str, new: str, previous: "_Previous"
    ) -> Evaluation:
        arn = evaluation.resource_arn or ""
        plan = (
            []
            if previous.arn is None
            else [_put_back(arn, kind, name, boundary=previous.arn, replaces=new, source=previous.source)]
        )
        needs = () if previous.known else (f"which boundary {kind} {name} had before ({previous.unknown_why})",)
        return _found(
            context,
            evaluation,
            severity=Severity.HIGH,
            did=f"replaced the permissions boundary of {kind} {name} with {new}, which bounds nothing: its own "
            "policies are no longer capped",
            plan=plan,
            offending={"removed": previous.arn, "now": new},
            needs=needs,
        )

    def _compared(
        self, context: RuleContext, evaluation: Evaluation, *, kind: str, name: str, new: str, previous: "_Previous"
    ) -> Evaluation:
        """A new boundary that still bounds, against the previous one: wider is a finding, no wider is fine."""
        arn = evaluation.resource_arn or ""
        if previous.arn is None:
            return _found(
                context,
                evaluation,
                severity=Severity.MEDIUM,
                did=f"replaced the permissions boundary of {kind} {name} with {new}; whether it allows more than the "
                "one before is unknown",
                plan=[],
                offending={"removed": None, "now": new},
                needs=(f"which boundary {kind} {name} had before ({previous.unknown_why})",),
            )
        step = _put_back(arn, kind, name, boundary=previous.arn, replaces=new, source=previous.source)
        documents = (_document(context, previous.arn), _document(context, new))
        if documents[0] is None or documents[1] is None:
            unread = previous.arn if documents[0] is None else new
            return _found(
                context,
                evaluation,
                severity=Severity.MEDIUM,
                did=f"replaced the permissions boundary {previous.arn} of {kind} {name} with {new}; whether it allows "
                "more is unknown",
                plan=[step],
                offending={"removed": previous.arn, "now": new},
                needs=(f"the document of boundary {unread} (it cannot be read here)",),
            )
        wider = widened(documents[0], documents[1])
        if not wider:
            evaluation.compliant.append(
                f"the new boundary {new} of {kind} {name} allows nothing its previous boundary {previous.arn} did not"
            )
            return evaluation
        return _found(
            context,
            evaluation,
            severity=Severity.MEDIUM,
            did=f"replaced the permissions boundary {previous.arn} of {kind} {name} with {new}, which "
            + "; ".join(widening.text for widening in wider[:_NAMED])
            + (f" (and {len(wider) - _NAMED} more)" if len(wider) > _NAMED else "")
            + ": the cap on its own policies is looser",
            plan=[step],
            offending={"removed": previous.arn, "now": new, "wider": [widening.text for widening in wider]},
            needs=(),
        )

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


#: How a quarantine's ``done`` says it set the deny-all boundary (``QuarantineUser`` / ``QuarantineRole.apply``).
_QUARANTINE_BOUNDARY_DONE = "set the deny-all permissions boundary "


def _quarantine_boundary(context: RuleContext, arn: str, new: str | None) -> tuple[bool, str] | None:
    """Whether the boundary change concerns IAM Warden's own quarantine boundary (review s11 R5), and why: (True, why)
    while a quarantine that set the deny-all boundary holds (remediation-reversed judges it), (False, why) when this is
    the operator's ``iamwarden undo`` of that quarantine putting back exactly the boundary it had before (or none);
    None: an ordinary boundary change, judged here."""
    if context.recorded is None:
        return None
    if ":user/" in arn:
        # Only a quarantine in force of this very user (the UserId its record captured): a user re-created under the
        # name, one renamed into it, or one whose quarantine was undone, is judged here as any other (review s12 F1).
        user = arn.rsplit("/", 1)[-1]
        if by := user_boundary_quarantines(context, user, arn):
            return True, (
                f"the deny-all boundary of {arn} is IAM Warden's quarantine {by[-1].remediation_id}, in force: "
                "remediation-reversed judges its removal or replacement"
            )
    quarantines = [
        past
        for past in context.recorded.remediations(arn)
        if (past.steps(QuarantineUser.action) or past.steps(QuarantineRole.action))
        and any(line.startswith(_QUARANTINE_BOUNDARY_DONE) for line in past.done)
    ]
    if not quarantines:
        return None
    latest = quarantines[-1]
    if ":role/" in arn and (by := role_boundary_quarantines(context, arn.rsplit("/", 1)[-1], arn)):
        # Only a quarantine in force of this very role (its RoleId, issue 15): a role re-created under the name is
        # judged here as any other.
        return True, (
            f"the deny-all boundary of {arn} is IAM Warden's quarantine {by[-1].remediation_id}, in force: "
            "remediation-reversed judges its removal or replacement"
        )
    if latest.status == "undone" and unexcused_undo(context, latest) is None and new == _boundary_before(latest):
        return False, (
            f"the boundary of {arn} is back to what it was before IAM Warden's quarantine {latest.remediation_id}, "
            f"lifted by iamwarden undo {latest.undone_by} ({latest.undo_actor})"
        )
    return None


def _boundary_before(past: PastRemediation) -> str | None:
    """The boundary a quarantine found on the principal (its undo puts it back; None: none)."""
    for index, step in enumerate(past.plan):
        if step.get("action") in (QuarantineUser.action, QuarantineRole.action) and index < len(past.before):
            boundary = past.before[index].get("boundary")
            return boundary if isinstance(boundary, str) else None
    return None


#: How many widenings a reason names (the offending list has them all).
_NAMED = 3


class _Previous(NamedTuple):
    """The boundary a principal had before the change, as far as IAM Warden knows it."""

    known: bool
    arn: str | None
    source: str  # where it was learnt ("when last seen by IAM Warden, <time>")
    unknown_why: str = ""


def _previous_boundary(context: RuleContext, principal_arn: str, new: str) -> _Previous:
    """The boundary before a ``Put*PermissionsBoundary``: the heartbeat's snapshot in the enforcer, the
    authorization details offline.

    The live principal cannot say: the event arrives after the change, so it shows the new boundary. A snapshot
    taken after the change that shows the new boundary shows the change itself, not what was before it.
    """
    if context.recorded is not None:
        snapshot = context.recorded.snapshot(BOUNDARY, principal_arn)
        if snapshot is None:
            return _Previous(False, None, "", "IAM Warden has no snapshot of it")
        previous = snapshot.data.get("boundary_arn")
        if previous == new and not snapshot.taken_before(context.change.time):
            return _Previous(False, None, "", f"the last snapshot, {snapshot.taken_at}, was taken after the change")
        return _Previous(True, previous, f"when last seen by IAM Warden, {snapshot.taken_at}")
    principal = context.directory.principal(principal_arn) if context.directory is not None else None
    if principal is None:
        return _Previous(False, None, "", "no snapshot or authorization details name it")
    return _Previous(True, principal.boundary_arn, "in the authorization details")


def _document(context: RuleContext, boundary_arn: str) -> Policy | None:
    """A boundary's document (its default version), or None when it cannot be read here."""
    if context.documents is None:
        return None
    try:
        version = context.documents.default_version(context.change.account, boundary_arn)
    except PermanentAwsError:
        return None
    return None if version is None else parse_policy(version.document, field=boundary_arn)


def _allows_nothing(context: RuleContext, boundary_arn: str) -> str | None:
    """How a boundary that only denies says so (it can never be weaker than any other), or None."""
    if _AWS_MANAGED in boundary_arn:
        path_name = boundary_arn.split(_AWS_MANAGED, 1)[1]
        return f"only denies ({DENY_ONLY[path_name]})" if path_name in DENY_ONLY else None
    document = _document(context, boundary_arn)
    return "only denies" if document is not None and document.only_denies else None


def _put_back(arn: str, kind: str, name: str, *, boundary: str, replaces: str | None, source: str) -> RemediationStep:
    return RemediationStep(
        PutPermissionsBoundary.action,
        arn,
        {"kind": kind, "name": name, "boundary_arn": boundary, "replaces": replaces},
        f"put boundary {boundary} back on {kind} {name} ({source})",
    )


def _found(
    context: RuleContext,
    evaluation: Evaluation,
    *,
    severity: Severity,
    did: str,
    plan: list[RemediationStep],
    offending: dict[str, Any],
    needs: tuple[str, ...],
) -> Evaluation:
    arn = evaluation.resource_arn or ""
    evaluation.findings.append(
        context.finding(
            PERMISSIONS_BOUNDARY_WEAKENED,
            severity=severity,
            resource_arn=arn,
            reason=f"{context.change.actor.display} {did}.",
            plan=plan,
            offending=[offending],
            needs_context=needs,
        )
    )
    return evaluation


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
        if "replaces" in step.parameters and before["boundary_arn"] != step.parameters["replaces"]:
            return  # changed again since the event: that boundary is someone else's, and kept
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
