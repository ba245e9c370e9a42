"""``instance-profile-escalation``: an admin-equivalent or escalating role put into an instance profile.

EC2 runs as a role only through an instance profile. A role in none cannot be launched, so a grant of ``iam:PassRole``
on it with ``ec2:RunInstances`` is judged (``privilege-escalation``) as leading nowhere through EC2; when the role
later enters a profile nothing re-judged that grant (review s9 finding 8). ``AddRoleToInstanceProfile`` is that
moment: every principal of the account whose whole power passes the role to EC2 (``iam:PassRole`` on it, admitting
``ec2.amazonaws.com``, Deny statements and boundaries applied) and launches an instance or gives one a profile
(``escalation.EC2_PROFILE_ACTIONS``) can now run code with the role's credentials.

What the judgement reads, from the directory (live in the enforcer; the ``--authorization-details`` file offline):
the role's whole power (``escalation.assess_principal``: admin-equivalent, or able to escalate), its trust policy
(EC2 must be let in), the other instance profiles it is in (one already held it: whoever may pass it could launch it
before this event, and this one adds no one), and every role and user of the account. A principal that is itself
admin-equivalent gains nothing and is not named. What cannot be read is named (``needs_context``) and the finding is
alert-only: a role is never taken out of a profile on a guess.

The remediation removes exactly that role from exactly that profile (``RemoveRoleFromInstanceProfile``; "already
gone" is done); instances launched with the profile get no new credentials of the role (those already issued last
until they expire). Undo adds it back while the profile is empty (a profile holds one role; the IAM API reference of
``AddRoleToInstanceProfile``, which also says its caller needs ``iam:PassRole`` on the role). Adding a role to a
profile that holds one fails (``LimitExceeded``), and a failed call is never judged: a successful one added the role.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from iamwarden.adapters.errors import ignoring, is_gone
from iamwarden.domain.arns import iam_arn
from iamwarden.domain.catalog import RuleSpec, Severity
from iamwarden.domain.escalation import (
    EC2_PROFILE_ACTIONS,
    LaunchAllowance,
    PolicyRisk,
    assess_principal,
    ec2_launch_allowance,
    principal_label,
    trust_admits_service,
)
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.principals import ListsInstanceProfiles, ListsUsers, PrincipalPolicies, RoleDirectory
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.identity_policy import decisive
from iamwarden.guardrails.remediation import AccountClients, Permissions, StepRun

INSTANCE_PROFILE_ESCALATION = RuleSpec(
    id="instance-profile-escalation",
    title="Admin-equivalent or escalating role put into an instance profile",
    event_source="iam.amazonaws.com",
    event_names=frozenset({"AddRoleToInstanceProfile"}),
    risk=(
        "An instance profile is how EC2 runs as a role: with an administrator's role in one, whoever may pass that "
        "role to EC2 and launch an instance (or give one a profile) runs code as an administrator."
    ),
    alert_risk=(
        "Whoever may pass this role to EC2 and launch an instance can now run code with its credentials, which make "
        "them an administrator or let them make themselves one."
    ),
)
#: The service an instance profile's role must trust.
EC2 = "ec2.amazonaws.com"
#: How many principals a finding names before "and N more".
MAX_NAMED = 5


class InstanceProfileRoleRule:
    """AddRoleToInstanceProfile of a role that is admin-equivalent or escalates, which others may now launch."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (INSTANCE_PROFILE_ESCALATION,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        profile = context.request_text("instanceProfileName")
        role = context.request_text("roleName")
        partition, account = context.partition, change.account
        role_arn = iam_arn(partition, account, "role", role)
        profile_arn = iam_arn(partition, account, "instance-profile", profile)
        evaluation = Evaluation(resource_arn=profile_arn)
        plan = [
            RemediationStep(
                RemoveRoleFromInstanceProfile.action,
                profile_arn,
                {"instance_profile_name": profile, "role_name": role},
                f"remove role {role} from instance profile {profile} (only that role; undo adds it back)",
            )
        ]
        added = f"{change.actor.display} put role {role} into instance profile {profile}"

        def unknown(severity: Severity, reason: str, needs: tuple[str, ...]) -> Evaluation:
            evaluation.findings.append(
                context.finding(
                    INSTANCE_PROFILE_ESCALATION,
                    severity=severity,
                    resource_arn=profile_arn,
                    reason=reason,
                    plan=plan,
                    needs_context=needs,
                )
            )
            return evaluation

        directory = context.directory
        found = directory.principal(role_arn) if directory is not None else None
        if directory is None or found is None:
            why = "no directory of the account's principals" if directory is None else "it could not be read"
            return unknown(
                Severity.HIGH,
                f"{added}; what the role may do, and who may pass it to EC2, is not known, so it is alerted for a "
                "person to check.",
                (f"what role {role} may do and who may pass it to EC2 ({why})",),
            )
        role_arn = found.principal_arn  # the role's ARN as read, with its path (review final s10 finding 3)
        if found.trust is not None and not trust_admits_service(found.trust, EC2):
            evaluation.compliant.append(f"role {role} does not let {EC2} assume it: no instance runs as it")
            return evaluation
        risk = decisive(assess_principal(found, directory))
        if not risk.critical:
            evaluation.compliant.append(
                f"role {role} is not admin-equivalent and opens no known privilege-escalation method"
            )
            return evaluation
        why = _why(risk)
        needs = list(risk.unknown)
        if found.trust is None:
            needs.append(f"whether role {role} lets {EC2} assume it (its trust policy could not be read)")
        elsewhere = _other_profiles(directory, found, role_arn, profile)
        if elsewhere is None:
            needs.append(f"whether role {role} was in another instance profile before this event")
        elif elsewhere:
            # Read after the event, another profile may have been added after it too (two quick adds would each
            # make the other look old): if it was there before, this event added no one (review final s10 finding 2).
            needs.append(
                f"whether role {role} was already in instance profile {', '.join(elsewhere)} before this event (if it "
                "was, whoever may pass it to EC2 could run as it already)"
            )
        gainers, unread = _gainers(directory, account, role_arn)
        if not gainers:
            if not unread:
                evaluation.compliant.append(
                    f"role {role} {why}, but no principal of the account that is not an administrator already may "
                    "pass it to EC2 and launch an instance (a grant that would is judged as privilege-escalation)"
                )
                return evaluation
            return unknown(
                Severity.HIGH,
                f"{added}. Role {role} {why}; whether anyone may now pass it to EC2 is not known.",
                (*needs, *unread),
            )
        if not any(unconditional and not allowance.unknown for _, allowance, unconditional in gainers):
            # No gainer is certain (one would decide, as ``decisive`` reads a path): name what each rests on.
            conditional = [arn for arn, _, unconditional in gainers if not unconditional]
            if conditional:
                needs.append(
                    "whether the conditions on the grants that let "
                    + ", ".join(principal_label(arn) for arn in conditional[:MAX_NAMED])
                    + " pass the role to EC2 and launch an instance hold (they are counted as met)"
                )
            needs.extend(fact for _, allowance, _ in gainers[:MAX_NAMED] for fact in allowance.unknown)
        named = [_gains(arn, allowance) for arn, allowance, _ in gainers[:MAX_NAMED]]
        more = f" and {len(gainers) - MAX_NAMED} more" if len(gainers) > MAX_NAMED else ""
        evaluation.findings.append(
            context.finding(
                INSTANCE_PROFILE_ESCALATION,
                severity=Severity.CRITICAL,
                resource_arn=profile_arn,
                reason=(
                    f"{added}. Role {role} {why}; now {'; '.join(named)}{more} may pass it to EC2 and run code as it."
                ),
                plan=plan,
                offending=[
                    {"instance_profile": profile, "role": role_arn, "principals": [arn for arn, _, _ in gainers]}
                ],
                needs_context=tuple(dict.fromkeys(needs)),
            )
        )
        return evaluation


def _why(risk: PolicyRisk) -> str:
    """What makes the role stronger than whoever launches it, in words."""
    critical = [grant for grant in risk.admin if grant.critical]
    if critical:
        grant = critical[0]
        return f"is admin-equivalent ({grant.statement.label} of {grant.source} {grant.why})"
    return f"can escalate ({risk.escalations[0].describe()})"


def _other_profiles(
    directory: RoleDirectory, role: PrincipalPolicies, role_arn: str, profile: str
) -> tuple[str, ...] | None:
    """The names of the role's instance profiles other than ``profile``; None when they cannot be read.

    Live they are read after the event (so ``profile`` is among them), offline before it (the details file)."""
    profiles = role.instance_profiles
    if profiles is None and isinstance(directory, ListsInstanceProfiles):
        profiles = directory.instance_profiles_of(role_arn)
    if profiles is None:
        return None
    names = (arn.rsplit("/", 1)[-1] for arn in profiles)
    return tuple(name for name in dict.fromkeys(names) if name != profile)


def _unconditional(holder: PrincipalPolicies) -> bool:
    """Whether none of ``holder``'s Allow statements that grant ``iam:PassRole`` or an EC2 launch action holds only
    under a condition other than ``iam:PassedToService`` (conditions are counted as met when reaching; a finding
    that rests on one is alerted, never remediated)."""
    for named in holder.policies:
        for statement in named.policy.statements:
            if statement.effect != "Allow" or not statement.conditions:
                continue
            if not any(statement.grants_action(action) for action in ("iam:PassRole", *EC2_PROFILE_ACTIONS)):
                continue
            if any(condition.key != "iam:passedtoservice" for condition in statement.conditions):
                return False
    return True


def _gainers(
    directory: RoleDirectory, account: str, role_arn: str
) -> tuple[list[tuple[str, LaunchAllowance, bool]], list[str]]:
    """Every role and user of ``account`` that may put ``role_arn`` on an instance and is not an administrator
    already, with how and whether it holds without conditions; and what could not be read (the role or user list,
    a principal's policies)."""
    roles = directory.roles_matching(account, "*")
    users = directory.users_of(account) if isinstance(directory, ListsUsers) else None
    unread: list[str] = []
    if roles is None:
        unread.append("which roles of the account may pass it to EC2 (the role list could not be read)")
    if users is None:
        unread.append("which users of the account may pass it to EC2 (the user list could not be read)")
    gainers: list[tuple[str, LaunchAllowance, bool]] = []
    missing: list[str] = []
    for arn in (*(roles or ()), *(users or ())):
        if arn == role_arn:
            continue
        holder = directory.principal(arn)
        if holder is None:
            missing.append(principal_label(arn))
            continue
        allowance = ec2_launch_allowance(holder, role_arn)
        if allowance is None:
            continue
        if any(grant.critical for grant in assess_principal(holder).admin):
            continue  # an administrator gains nothing
        gainers.append((arn, allowance, _unconditional(holder)))
    if missing:
        more = f" and {len(missing) - MAX_NAMED} more" if len(missing) > MAX_NAMED else ""
        shown = ", ".join(missing[:MAX_NAMED]) + more
        unread.append(f"whether {shown} may pass it to EC2 (their policies could not be read)")
    return gainers, unread


def _gains(arn: str, allowance: LaunchAllowance) -> str:
    """``role ci-runner (iam:PassRole by statement 0 of inline ci-runner/pass; ec2:RunInstances)``."""
    return f"{principal_label(arn)} (iam:PassRole by {', '.join(allowance.passes)}; {', '.join(allowance.launches)})"


class RemoveRoleFromInstanceProfile:
    """Take exactly one role out of exactly one instance profile (undo puts it back while the profile is empty)."""

    permissions: ClassVar[Permissions] = ("iam:GetInstanceProfile", "iam:RemoveRoleFromInstanceProfile")
    action: ClassVar[StepAction] = StepAction("remove_role_from_instance_profile", permissions)
    #: What undo calls. IAM also authorises AddRoleToInstanceProfile against iam:PassRole on the role (IAM API
    #: reference), which is no call: the operator needs it too (README).
    undo_permissions: ClassVar[Permissions] = ("iam:GetInstanceProfile", "iam:AddRoleToInstanceProfile")
    undoable: ClassVar[bool] = True

    @staticmethod
    def _roles(aws: AccountClients, step: RemediationStep) -> tuple[str, ...] | None:
        """The role names in the profile now; None when the profile is gone."""
        try:
            answer = aws.iam.get_instance_profile(InstanceProfileName=step.parameters["instance_profile_name"])
        except Exception as exc:
            if is_gone(exc):
                return None
            raise
        return tuple(str(role["RoleName"]) for role in answer["InstanceProfile"].get("Roles", []))

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        roles = self._roles(aws, step)
        return {"exists": roles is not None, "held": roles is not None and step.parameters["role_name"] in roles}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["held"]:
            return  # taken out since, or the profile is gone: nothing the event added is left
        profile, role = step.parameters["instance_profile_name"], step.parameters["role_name"]
        with ignoring():
            run.aws.iam.remove_role_from_instance_profile(InstanceProfileName=profile, RoleName=role)
            done.append(f"removed role {role} from instance profile {profile}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not before["held"]:
            return []
        profile, role = step.parameters["instance_profile_name"], step.parameters["role_name"]
        roles = self._roles(aws, step)
        if roles is None:
            raise UndoError(f"instance profile {profile} no longer exists; role {role} cannot be put back into it")
        if role in roles:
            return []
        if roles:
            raise UndoError(
                f"instance profile {profile} now holds role {roles[0]} (a profile holds one role); "
                f"role {role} cannot be put back into it"
            )
        try:
            aws.iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=role)
        except Exception as exc:
            if is_gone(exc):
                raise UndoError(f"role {role} no longer exists; it cannot be put back into {profile}") from exc
            raise
        return [f"put role {role} back into instance profile {profile}"]


GUARDRAILS = (InstanceProfileRoleRule(),)
ACTIONS = (RemoveRoleFromInstanceProfile(),)
