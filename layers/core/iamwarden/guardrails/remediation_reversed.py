"""``remediation-reversed``: a remediation IAM Warden made, undone by anyone but ``iamwarden undo``.

An intruder whose backdoor was quarantined simply turns it back on: sets the deactivated key Active
again (``UpdateAccessKey``), deletes the deny-all quarantine policy (``DeleteUserPolicy``) or overwrites it with
a harmless-looking one (``PutUserPolicy`` of ``iamwarden-quarantine``, which IAM routes to the identity-policy
rules and this rule judges too), or deletes the dead key and creates a fresh one (``CreateAccessKey`` for a user
whose key IAM Warden deactivated), or adds another credential to a quarantined user (an SSH public key, a signing
certificate, a service-specific credential: routed by ``user-credential-created``'s rule) or sets one IAM Warden
deactivated Active again (``Update{SSHPublicKey,SigningCertificate,ServiceSpecificCredential}``): that one credential
is deactivated again. Each is a critical finding, and the remediation is applied again with the same
action it used the first time. Nothing legitimate reverses a remediation by hand, so the rule starts in
``remediate``; it acts only where IAM Warden remediated, which a rule does only in ``remediate``.

Whether IAM Warden remediated the user is read from the audit table (``RuleContext.recorded``): a
remediation counts while it is ``remediated``; ``iamwarden undo`` marks it ``undone``, and an undo excuses the
change only when its undo record says an operator ran it and the change itself is an operator's (``holds``; audit
s7 gap 6: the table is writable, and so is ``iamwarden undo`` by any admin). A remediation marked undone without
that still counts, and the finding says why. Offline there is no audit table: the rule cannot judge and says so.

IAM's events name users without their path, so a user is looked up at path ``/`` (as the access-key
rule records it), and then by what a rename cannot change (review s11 F1: ``UpdateUser`` to a new name or path,
then the key set Active under the new name, was "never deactivated"): the live user's tag
``iamwarden:quarantined-arn`` (set by the quarantine, it moves with the user) names the ARN its record is kept
under, and a remediation found there counts only when its captured ``UserId`` is the live user's; a rename that
``remediation-reversed`` judged left a link from the new name to the old (``USER_RENAMED``, followed a few hops).
A rename or re-path (``UpdateUser``) of a quarantined user is itself a reversal attempt: critical, and the user is
quarantined again under its new name, the record carrying the keys the earlier remediations deactivated.

A role IAM Warden quarantined (``iamwarden-tampered`` puts its deny-all inline policy ``iamwarden-quarantine`` on
a role that took one of its role names, or whose trust was rewritten with no good copy to put back) is freed the
same ways: ``DeleteRolePolicy`` of the quarantine policy, or ``PutRolePolicy`` overwriting it with another
document. Quarantined roles carry IAM Warden's role names only, and ``iamwarden-tampered``'s rule routes those
roles' ``DeleteRolePolicy`` (the inline-policy rule routes every ``PutRolePolicy``); that rule leaves a quarantine
in force to this one, which quarantines the role again.

A function ``iamwarden-tampered`` stopped (reserved concurrency 0: it was given one of IAM Warden's roles) whose
concurrency is raised again or deleted (``PutFunctionConcurrency`` above 0, ``DeleteFunctionConcurrency``) is
running as IAM Warden again: it is stopped again (audit s6 gap 8). The events are routed by the stack's own rule
(``iamwarden-tampered-stack``, the security account's Lambda events), where the stopped functions live.

IAM Roles Anywhere: ``EnableTrustAnchor`` / ``EnableProfile`` of a trust anchor or profile that
``roles-anywhere-trust-anchor`` disabled (a remediation in force, recorded under the resource's ARN) is a reversal
too: it is disabled again. Those events arrive in the region of the trust anchor, like the rule's own.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

from iamwarden.adapters.errors import is_gone
from iamwarden.domain.arns import iam_arn
from iamwarden.domain.catalog import Mode, RuleSpec, Severity
from iamwarden.domain.documents import PolicyKind, decode_policy_document
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.findings import Finding, RemediationStep
from iamwarden.domain.quarantine import DENY_ALL_DONE, QUARANTINE_POLICY_NAME
from iamwarden.domain.recorded import PastRemediation, Snapshot, observed_at
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.credentials import (
    CREDENTIAL_UPDATES,
    USER_CREDENTIAL_CREATED,
    USER_CREDENTIALS,
    DeactivateAccessKey,
    DeleteLoginProfile,
    credential_id,
    deactivation_step,
)
from iamwarden.guardrails.iam_user import (
    DENY_ALL_POLICY,
    QUARANTINE_TAG_ARN,
    QUARANTINE_TAG_FINDING,
    QUARANTINE_TAGS,
    QuarantineUser,
    deny_all_boundary,
)
from iamwarden.guardrails.roles_anywhere import DisableRolesAnywhere, roles_anywhere_arn
from iamwarden.guardrails.tampering import (
    QUARANTINE_POLICY,
    StopFunction,
    existed_when_recorded,
    function_name,
    holding,
    quarantine_step,
    quarantines_in_force,
    unexcused_undo,
)
from iamwarden.guardrails.tampering import RoleQuarantines as _RoleQuarantines
from iamwarden.guardrails.tampering import of_this_role as _of_this_role

IAM = "iam.amazonaws.com"
ROLES_ANYWHERE = "rolesanywhere.amazonaws.com"
LAMBDA = "lambda.amazonaws.com"
#: The audit status of a remediation that failed part-way (``adapters.audit.AuditStatus.FAILED``): its ``done`` says
#: what it did, and that much of it counts.
FAILED = "failed"
#: The Lambda events that start a function ``stop_function`` stopped (reserved concurrency 0) again.
_RESTARTS = frozenset({"PutFunctionConcurrency20171031", "DeleteFunctionConcurrency20171031"})
#: The Roles Anywhere events that undo a ``disable_roles_anywhere`` remediation: kind, and the id's request field.
_ENABLES: Mapping[str, tuple[str, str]] = {
    "EnableTrustAnchor": ("trust-anchor", "trustAnchorId"),
    "EnableProfile": ("profile", "profileId"),
}

#: The events that remove or replace a permissions boundary: the quarantine's deny-all boundary ``AWSDenyAll`` lifted
#: (review s11 R3: with the inline quota full it is the quarantine's only deny-all). Routed by
#: permissions-boundary-weakened's rule, which leaves a quarantine's boundary to this one.
_USER_BOUNDARY_EVENTS = frozenset({"DeleteUserPermissionsBoundary", "PutUserPermissionsBoundary"})
_ROLE_BOUNDARY_EVENTS = frozenset({"DeleteRolePermissionsBoundary", "PutRolePermissionsBoundary"})
#: Judged here, routed by other guardrails' rules: ``PutUserPolicy`` and ``PutRolePolicy`` by the inline-policy
#: rule, ``DeleteRolePolicy`` of IAM Warden's role names (the only roles it quarantines) by iamwarden-tampered's,
#: ``CreateLoginProfile`` by login-profile-created's (a new password for a quarantined user, review s11 R3), the
#: boundary events by permissions-boundary-weakened's.
_OTHERS_ROUTE = (
    "PutUserPolicy",
    "PutRolePolicy",
    "DeleteRolePolicy",
    "CreateLoginProfile",
    *sorted(_USER_BOUNDARY_EVENTS | _ROLE_BOUNDARY_EVENTS),
    *sorted(USER_CREDENTIAL_CREATED.event_names),
)
_ROLE_POLICY_EVENTS = frozenset({"PutRolePolicy", "DeleteRolePolicy"})
#: Everyday events another rule routes and judges, a reversal only of a quarantine in force: offline (no audit table,
#: so no quarantine to know of) this rule says nothing rather than leave each of them unjudged.
_QUIET_OFFLINE = frozenset({"CreateLoginProfile"}) | _USER_BOUNDARY_EVENTS | _ROLE_BOUNDARY_EVENTS
#: How a quarantine's ``done`` says it set the deny-all boundary (``QuarantineUser``/``QuarantineRole.apply``).
_BOUNDARY_DONE = "set the deny-all permissions boundary "

REMEDIATION_REVERSED = RuleSpec(
    id="remediation-reversed",
    title="IAM Warden's remediation reversed",
    event_source="iam.amazonaws.com",
    event_names=frozenset(
        {"UpdateAccessKey", "DeleteUserPolicy", "CreateAccessKey", "UpdateUser", "UntagUser", *CREDENTIAL_UPDATES}
    ),
    risk=(
        "A remediation turned back by hand (a deactivated key made active, a quarantine lifted) is what an intruder "
        "does first to get a backdoor back."
    ),
    alert_risk=(
        "IAM Warden had shut this door (a key deactivated, a user quarantined) and someone opened it again without "
        "going through iamwarden undo, which is what an intruder does to get a backdoor back."
    ),
    default_mode=Mode.REMEDIATE,
)


#: The snapshot kind of a rename ``remediation-reversed`` judged: under the new name's ARN (path ``/``, as events name
#: users), ``{"from": [ARNs the user's records were kept under], "user_id": UserId or None}``.
USER_RENAMED = "user-renamed"
#: How many renames a look-up follows back (a user renamed again and again is found through its tag as well).
_RENAME_HOPS = 5


class LiveUser(NamedTuple):
    """What IAM says of a user now: what a rename cannot change (its UserId) and the quarantine's tags."""

    user_id: str | None
    arn: str | None
    tags: Mapping[str, str]
    #: ``CreateDate``: rules out a record that captured no UserId, written before this user existed (issue 15).
    created: object = None


def _deactivated_keys(past: PastRemediation) -> set[str]:
    """The access keys a remediation deactivated: the key of access-key-created, the active keys of a quarantine,
    and those an earlier quarantine of the user had deactivated before it was renamed (``carried_keys``)."""
    keys = {str(step["access_key_id"]) for step in past.steps(DeactivateAccessKey.action) if "access_key_id" in step}
    for step in past.steps(QuarantineUser.action):
        keys |= {str(key) for key in step.get("carried_keys", ())}
    # A quarantine's keys: those Active before it that its done shows it deactivated (issue 15, lead decision s13):
    # a deactivation refused (a "NOT deactivated" line) left the key as it was, so it is no key IAM Warden shut.
    shut = set(past.done)
    for index, step in enumerate(past.plan):
        if step.get("action") != QuarantineUser.action or index >= len(past.before):
            continue
        keys |= {
            str(key["id"])
            for key in past.before[index].get("access_keys", ())
            if key.get("status") == "Active" and f"deactivated access key {key['id']}" in shut
        }
    if past.status == FAILED:
        # A quarantine that failed part-way holds for what it did (review s11 R7/R10): the keys its done shows.
        keys = {key for key in keys if any(f"deactivated access key {key}" in line for line in past.done)}
    return keys


def _live_user(context: RuleContext, user: str) -> LiveUser | None:
    """``GetUser`` (and ``ListUserTags``) of ``user``: ``GetUser`` is a permission ``QuarantineUser`` declares,
    ``ListUserTags`` the enforcer's owner-tag reading (``ReadOwnerTags``); None offline or when the user is gone."""
    if context.live_clients is None:
        return None
    change = context.change
    iam = context.live_clients(change.account, change.region).iam
    try:
        found = iam.get_user(UserName=user)["User"]
        # GetUser returns the user's tags; where an answer leaves them out, ListUserTags says (one page: the
        # quarantine's tags are among the first 100 only if set; IAM allows 50 tags per user).
        listed = found["Tags"] if "Tags" in found else iam.list_user_tags(UserName=user).get("Tags", [])
    except Exception as exc:
        if is_gone(exc):
            return None
        raise
    tags = {str(tag.get("Key")): str(tag.get("Value")) for tag in listed if isinstance(tag, Mapping)}
    user_id, arn = found.get("UserId"), found.get("Arn")
    return LiveUser(
        user_id if isinstance(user_id, str) else None,
        arn if isinstance(arn, str) else None,
        tags,
        found.get("CreateDate"),
    )


def _user_history(context: RuleContext, arn: str, live: LiveUser | None) -> list[PastRemediation]:
    """IAM Warden's remediations of a user that still count, whatever it is called now.

    Looked up under ``arn`` (its name at path ``/``), under the ARN its quarantine tag names, and back through the
    renames this rule judged (``USER_RENAMED``); a remediation whose quarantine captured another UserId than the live
    user's is another user's (a name used again) and does not count.
    """
    recorded = context.recorded
    found: dict[str, PastRemediation] = {}
    user_id = live.user_id if live is not None else None
    # (ARN, found by name or by IAM Warden's own link): a record under the name's ARN is the user's as on main; one
    # reached only through the live user's tag counts only when it captured the live user's UserId (review s11 R2:
    # a forged tag must not borrow another user's records, which need not have captured one).
    queue: list[tuple[str, bool]] = [(arn, True)]
    if live is not None and live.tags.get(QUARANTINE_TAG_ARN):
        queue.append((live.tags[QUARANTINE_TAG_ARN], False))
    seen: set[str] = set()
    while queue and len(seen) <= _RENAME_HOPS:
        current, trusted = queue.pop(0)
        if current in seen:
            continue
        seen.add(current)
        for past in holding(context, current):
            ids = past.captured(QuarantineUser.action, "user_id")
            if user_id is not None and ids and user_id not in ids:
                continue  # another user's (a name used again)
            if not trusted and (user_id is None or user_id not in ids):
                continue  # found through a tag alone: only a record of this very user counts
            found.setdefault(past.remediation_id, past)
        link = recorded.snapshot(USER_RENAMED, current) if recorded is not None else None
        if link is not None:
            linked_id = link.data.get("user_id")
            if user_id is None or linked_id in (None, user_id):
                # IAM Warden's own link names the user by UserId: past it, the records are this user's.
                onward = trusted or (user_id is not None and linked_id == user_id)
                queue.extend(
                    (str(earlier), onward) for earlier in link.data.get("from", ()) if isinstance(earlier, str)
                )
    return sorted(found.values(), key=lambda past: past.created_at)


#: Everyday user changes (a console password, a boundary, tags removed) that are a reversal only of a quarantine in
#: force of this very user (review s12 F2/F3): an undone quarantine does not count (after ``iamwarden undo`` a new
#: password or boundary is expected), nor a record that captured no UserId or another one (a name used again).
_EVERYDAY_USER_EVENTS = frozenset({"CreateLoginProfile", "UntagUser"}) | _USER_BOUNDARY_EVENTS


def _in_force_of(past: PastRemediation) -> bool:
    """In force as it stands: not undone (whoever undid it), or failed part-way with something done."""
    return past.in_force or (past.status == FAILED and bool(past.done))


def _of_this_user(quarantines: Sequence[PastRemediation], live: LiveUser | None) -> list[PastRemediation]:
    """The quarantines in force that captured the live user's own UserId (review s12 F2/F3). A record that captured
    none is never taken for this user's, even written while it existed: users, unlike roles, can be renamed into the
    name (review s14 F1), so ``CreateDate`` only rules such a record out (``_whose_unknown``)."""
    if live is None or live.user_id is None:
        return []
    return [
        past
        for past in quarantines
        if _in_force_of(past) and live.user_id in past.captured(QuarantineUser.action, "user_id")
    ]


def user_boundary_quarantines(context: RuleContext, user: str, arn: str) -> list[PastRemediation]:
    """The quarantines in force of this very user that set the deny-all boundary: the ones whose boundary's removal
    or replacement this rule judges as a reversal (permissions-boundary-weakened defers only to them, review s12 F1)."""
    if context.recorded is None:
        return []
    live = _live_user(context, user)
    by = _of_this_user(_quarantines(_user_history(context, arn, live)), live)
    return [past for past in by if any(line.startswith(_BOUNDARY_DONE) for line in past.done)]


def _quarantines(remediations: Sequence[PastRemediation]) -> list[PastRemediation]:
    """The user quarantines among ``remediations``; one that failed part-way only when its deny-all went on."""
    return [
        past
        for past in remediations
        if past.steps(QuarantineUser.action)
        and (past.status != FAILED or any(line.startswith(DENY_ALL_DONE) for line in past.done))
    ]


def role_boundary_quarantines(context: RuleContext, role: str, arn: str) -> list[PastRemediation]:
    """The quarantines in force that set the deny-all boundary of this very role (or cannot say whose they were):
    those whose boundary's removal this rule judges; permissions-boundary-weakened defers only to them."""
    if context.recorded is None:
        return []
    by = [
        past
        for past in quarantines_in_force(context, arn)
        if _in_force_of(past)
        and any(line.startswith(_BOUNDARY_DONE) and line.endswith(f" on role {role}") for line in past.done)
    ]
    sorted_by = _of_this_role(context, role, by)
    return [*sorted_by.mine, *sorted_by.unknown]


def _role_not_judged(
    context: RuleContext, evaluation: Evaluation, arn: str, role: str, *, found: _RoleQuarantines, did: str
) -> Evaluation:
    """No quarantine of this very role: a record that cannot say whose it was is a medium alert, nothing done;
    another RoleId's is no reversal (the role was deleted and re-created under the name: another principal)."""
    if found.gone:
        evaluation.compliant.append(f"role {role} no longer exists: no quarantine of it is left to free")
        return evaluation
    if not found.unknown:
        evaluation.compliant.append(
            f"role {role} (RoleId {found.live_id or 'unknown'}) is not the role IAM Warden quarantined: a role "
            "deleted and re-created under the name is another principal"
        )
        return evaluation
    latest = found.unknown[-1]
    return _whose_record_unknown(
        context,
        evaluation,
        arn,
        latest,
        reason=(
            f"{context.change.actor.display} {did}; IAM Warden quarantined a role of that name in "
            f"{latest.remediation_id}, but cannot tell whether it is this role (the record captured no RoleId, "
            "and the role's creation time cannot place it, or the role was not read live): nothing is done."
        ),
        principal=f"role {role} (RoleId {found.live_id or 'unknown'}) is the role",
    )


def _whose_record_unknown(
    context: RuleContext,
    evaluation: Evaluation,
    arn: str,
    latest: PastRemediation,
    *,
    reason: str,
    principal: str,
) -> Evaluation:
    """The medium alert, nothing done, when a quarantine record in force cannot say whether the principal changed now
    is the one it quarantined (a user's or role's record without its UserId or RoleId): ``principal`` reads
    "<kind> <name> (<Id> <id>) is the <kind>" in what is left to know (review s13 D5: one shape for both kinds)."""
    evaluation.findings.append(
        context.finding(
            REMEDIATION_REVERSED,
            severity=Severity.MEDIUM,
            resource_arn=arn,
            reason=reason,
            plan=[],
            offending=[{"remediation_id": latest.remediation_id}],
            needs_context=[f"whether {principal} IAM Warden quarantined in {latest.remediation_id}"],
        )
    )
    return evaluation


def _shown(remediations: Sequence[PastRemediation], did: Callable[[str], bool]) -> list[PastRemediation]:
    """``remediations`` that count for this reversal: one that failed part-way (review s11 R7/R10) only when a line
    of its ``done`` shows it did the very thing reversed (``did``); a failed one that did nothing of it is none."""
    return [past for past in remediations if past.status != FAILED or any(did(line) for line in past.done)]


class RemediationReversedRule:
    """A key IAM Warden deactivated set Active, a user or role quarantine lifted, a new key for a quarantined user."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (REMEDIATION_REVERSED,)
    #: Also ``PutUserPolicy``, which the identity-policy rules' EventBridge rule routes: one that overwrites the
    #: quarantine policy lifts the quarantine as surely as deleting it.
    event_keys: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {(IAM, name) for name in (*REMEDIATION_REVERSED.event_names, *_OTHERS_ROUTE)}
        | {(ROLES_ANYWHERE, name) for name in _ENABLES}
        | {(LAMBDA, name) for name in _RESTARTS}
    )
    #: The judged events another guardrail's EventBridge rule already routes (``tools/generate.py`` reads it).
    routed_by_others: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {(IAM, name) for name in _OTHERS_ROUTE} | {(LAMBDA, name) for name in _RESTARTS}
    )

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        request = change.request_parameters
        if change.event_source == ROLES_ANYWHERE:
            return self._roles_anywhere(context)
        if change.event_source == LAMBDA:
            return self._stopped_function(context)
        if change.event_name in _ROLE_POLICY_EVENTS:
            return self._role_quarantine(context)
        if change.event_name in _ROLE_BOUNDARY_EVENTS:
            return self._role_boundary(context)
        if change.event_name in USER_CREDENTIALS:
            return self._user_credential(context)
        if change.event_name == "PutUserPolicy" and request.get("policyName") != QUARANTINE_POLICY_NAME:
            return Evaluation()  # any other inline policy is the identity-policy rules' to judge
        # A user acting on itself may leave userName out (the API defaults to the caller); CreateAccessKey's
        # response names the user too.
        user = next(
            (
                value
                for value in (
                    request.get("userName"),
                    _field(change.response_elements, "accessKey", "userName"),
                    change.actor.user_name if change.actor.type == "IAMUser" else None,
                )
                if isinstance(value, str) and value
            ),
            None,
        )
        if user is None and change.actor.type == "Root":
            # The root user acting on its own credentials (requestParameters null): no IAM user was quarantined;
            # root-access-key-created judges a root key.
            root = Evaluation()
            root.compliant.append("the root user's own credentials are no IAM user's")
            return root
        user = user or context.request_text("userName")
        arn = iam_arn(context.partition, change.account, "user", user)
        evaluation = Evaluation(resource_arn=arn)
        if change.event_name == "UpdateUser" and not (request.get("newUserName") or request.get("newPath")):
            evaluation.compliant.append(f"user {user} was neither renamed nor moved to another path")
            return evaluation
        if change.event_name == "UpdateAccessKey" and request.get("status") != "Active":
            evaluation.compliant.append(f"an access key of user {user} was deactivated, not activated")
            return evaluation
        if change.event_name == "DeleteUserPolicy" and request.get("policyName") != QUARANTINE_POLICY_NAME:
            evaluation.compliant.append(f"the deleted policy of user {user} is not IAM Warden's quarantine policy")
            return evaluation
        if change.event_name == "PutUserPolicy" and _still_denies_all(
            request.get("policyDocument"), PolicyKind.INLINE_USER
        ):
            evaluation.compliant.append(f"the quarantine policy of user {user} still denies everything")
            return evaluation
        if change.event_name == "PutUserPermissionsBoundary" and request.get("permissionsBoundary") == (
            deny_all_boundary(arn)
        ):
            evaluation.compliant.append(f"the permissions boundary of user {user} still denies everything")
            return evaluation
        untagged = request.get("tagKeys")
        if change.event_name == "UntagUser":
            if not (isinstance(untagged, list) and untagged and all(isinstance(key, str) for key in untagged)):
                # The record's shape is unconfirmed (review s12 F5): unreadable keys are not "safe" keys.
                evaluation.unjudged.append(f"the tag keys removed from user {user} are not in the record")
                return evaluation
            # Compared case-insensitively: it can only over-match, should IAM match tag keys so.
            if not {key.lower() for key in untagged} & {key.lower() for key in QUARANTINE_TAGS}:
                evaluation.compliant.append(f"the tags removed from user {user} are not IAM Warden's quarantine tags")
                return evaluation
        if context.recorded is None:
            if change.event_name in _QUIET_OFFLINE:
                return Evaluation()  # the routing rule's own judgement stands offline (see _QUIET_OFFLINE)
            evaluation.unjudged.append(f"whether IAM Warden remediated user {user} is in its audit table")
            return evaluation
        if change.event_name == "UpdateUser":
            return self._renamed(context, user, arn, evaluation)
        live = _live_user(context, user)
        remediations = _user_history(context, arn, live)
        actor = change.actor.display
        if change.event_name == "UpdateAccessKey":
            key = context.request_text("accessKeyId")
            by = [past for past in remediations if key in _deactivated_keys(past)]
            if not by:
                return _unproven(
                    context,
                    evaluation,
                    arn,
                    user,
                    live=live,
                    remediations=remediations,
                    none=f"IAM Warden never deactivated access key {key}",
                )
            did = f"{actor} set access key {key} of user {user} Active again"
            step = _deactivate(arn, user, key)
        elif change.event_name == "CreateLoginProfile":
            by = _of_this_user(_quarantines(remediations), live)
            if not by:
                if unsure := _whose_unknown(context, evaluation, arn, user, live=live, remediations=remediations):
                    return unsure
                return _unproven(
                    context,
                    evaluation,
                    arn,
                    user,
                    live=live,
                    remediations=remediations,
                    none="IAM Warden holds no quarantine",
                )
            did = f"{actor} gave user {user}, whom IAM Warden had quarantined, a console password"
            step = RemediationStep(
                DeleteLoginProfile.action,
                arn,
                {"user_name": user},
                f"delete the new console password of quarantined user {user} (AWS never returns a password)",
            )
        elif change.event_name in ("DeleteUserPolicy", "PutUserPolicy", "UntagUser", *_USER_BOUNDARY_EVENTS):
            by = _quarantines(remediations)
            if change.event_name in _EVERYDAY_USER_EVENTS:
                by = _of_this_user(by, live)
            if change.event_name in _USER_BOUNDARY_EVENTS:
                # Only a quarantine that set the deny-all boundary is lifted by removing or replacing a boundary.
                by = [past for past in by if any(line.startswith(_BOUNDARY_DONE) for line in past.done)]
            if (
                not by
                and change.event_name in _EVERYDAY_USER_EVENTS
                and (unsure := _whose_unknown(context, evaluation, arn, user, live=live, remediations=remediations))
            ):
                return unsure
            if not by:
                return _unproven(
                    context,
                    evaluation,
                    arn,
                    user,
                    live=live,
                    remediations=remediations,
                    none="IAM Warden holds no quarantine",
                )
            did = f"{actor} {_LIFTED[change.event_name]} of user {user}"
            step = RemediationStep(
                QuarantineUser.action,
                arn,
                {"user_name": user, "quarantine_policy_name": QUARANTINE_POLICY_NAME},
                f"quarantine user {user} again: deny-all boundary and policy {QUARANTINE_POLICY_NAME}, its "
                "active keys deactivated, its console password removed, its quarantine tags",
            )
        else:
            new_key = _new_key(change.response_elements)
            if new_key is None:
                evaluation.unjudged.append("the new access key's id is not in the response")
                return evaluation
            # A dead key replaced by a live one (DeleteAccessKey, then CreateAccessKey). A quarantine that found no
            # key to deactivate still holds through its deny-all policy, and access-key-created judges the new key.
            by = [past for past in remediations if _deactivated_keys(past) - {new_key}]
            if not by:
                return _unproven(
                    context,
                    evaluation,
                    arn,
                    user,
                    live=live,
                    remediations=remediations,
                    none="IAM Warden deactivated no earlier key",
                )
            did = f"{actor} created access key {new_key} for user {user}, whose key IAM Warden had deactivated"
            step = _deactivate(arn, user, new_key)
        evaluation.findings.append(_reversed(context, arn, did, "shut", by=by, plan=[step]))
        return evaluation

    @staticmethod
    def _renamed(context: RuleContext, user: str, arn: str, evaluation: Evaluation) -> Evaluation:
        """``UpdateUser``: a user renamed or moved to another path. IAM Warden's remediations of it follow it (a link
        kept under the new name); a quarantine in force makes it a reversal attempt, quarantined again by its new
        name with the keys the earlier remediations deactivated carried over."""
        change = context.change
        request = change.request_parameters
        new_name = request.get("newUserName") if isinstance(request.get("newUserName"), str) else None
        new_name = new_name or user
        new_path = request.get("newPath") if isinstance(request.get("newPath"), str) else None
        live = _live_user(context, new_name)
        remediations = _user_history(context, arn, live)
        new_arn = iam_arn(context.partition, change.account, "user", new_name)
        target = (
            live.arn
            if live is not None and live.arn
            else iam_arn(context.partition, change.account, "user", new_name, new_path or "/")
        )
        moved = f"renamed user {user} to {new_name}" if new_name != user else f"moved user {user}"
        if new_path:
            moved += f" to path {new_path}"
        evaluation.resource_arn = target
        if not remediations:
            evaluation.compliant.append(f"IAM Warden holds no remediation of user {user} ({moved})")
            return evaluation
        tagged = live.tags.get(QUARANTINE_TAG_ARN) if live is not None else None
        earlier = sorted({arn} | ({tagged} if tagged else set()))
        link = {"from": earlier, "user_id": live.user_id if live is not None else None}
        evaluation.observed.append(
            Snapshot(
                USER_RENAMED,
                new_arn,
                observed_at(change.time),
                link,
                whatever_the_verdict=True,
                if_remediated=link,
            )
        )
        by = _quarantines(remediations)
        carried = sorted(set().union(*(_deactivated_keys(past) for past in remediations)))
        if not by:
            evaluation.compliant.append(
                f"{change.actor.display} {moved}; IAM Warden's remediations of it "
                f"({', '.join(past.remediation_id for past in remediations)}) are followed under its new name"
            )
            return evaluation
        step = RemediationStep(
            QuarantineUser.action,
            target,
            {"user_name": new_name, "quarantine_policy_name": QUARANTINE_POLICY_NAME, "carried_keys": carried},
            f"quarantine user {new_name} again under its new name: deny-all policy {QUARANTINE_POLICY_NAME}, its "
            "active keys deactivated, its console password removed",
        )
        finding = _reversed(context, target, f"{change.actor.display} {moved}", "quarantined", by=by, plan=[step])
        if live is None:
            # The user is no longer called that (renamed again since, review s11 R4): a quarantine of the name would
            # find nothing and read as done. Alert with the plan kept; the link above leads the next rename's look-up.
            finding = finding._replace(
                needs_context=(f"user {new_name} as it is now: no user of that name exists (renamed again?)",)
            )
        evaluation.findings.append(finding)
        return evaluation

    @staticmethod
    def _user_credential(context: RuleContext) -> Evaluation:
        """An SSH key, signing certificate or service-specific credential added to a user IAM Warden quarantined, or
        one IAM Warden deactivated set Active again: deactivated again, exactly that one."""
        change = context.change
        kind = USER_CREDENTIALS[change.event_name]
        user = next(
            (
                value
                for value in (
                    change.request_parameters.get("userName"),
                    _field(change.response_elements, kind.response, "userName"),
                    change.actor.user_name if change.actor.type == "IAMUser" else None,
                )
                if isinstance(value, str) and value
            ),
            None,
        ) or context.request_text("userName")
        arn = iam_arn(context.partition, change.account, "user", user)
        evaluation = Evaluation(resource_arn=arn)
        updated = change.event_name in CREDENTIAL_UPDATES
        if updated and change.request_parameters.get("status") != "Active":
            evaluation.compliant.append(f"a {kind.what} of user {user} was deactivated, not activated")
            return evaluation
        credential = credential_id(change, kind)
        if credential is None:
            evaluation.unjudged.append(f"the {kind.what}'s id is not in the record")
            return evaluation
        if context.recorded is None:
            evaluation.unjudged.append(f"whether IAM Warden remediated user {user} is in its audit table")
            return evaluation
        live = _live_user(context, user)
        remediations = _user_history(context, arn, live)
        deactivated = [
            past
            for past in remediations
            if any(step.get("credential_id") == credential for step in past.steps(kind.action))
        ]
        by = deactivated or _quarantines(remediations)
        if not by:
            return _unproven(
                context,
                evaluation,
                arn,
                user,
                live=live,
                remediations=remediations,
                none=f"IAM Warden neither deactivated {kind.what} {credential} nor quarantined the user",
            )
        actor = change.actor.display
        did = (
            f"{actor} set {kind.what} {credential} of user {user} Active again"
            if updated
            else f"{actor} added {kind.what} {credential} to user {user}, whom IAM Warden had quarantined"
        )
        plan = [deactivation_step(kind, arn, user, credential)]
        evaluation.findings.append(_reversed(context, arn, did, "shut", by=by, plan=plan))
        return evaluation

    @staticmethod
    def _role_boundary(context: RuleContext) -> Evaluation:
        """The deny-all boundary of a role IAM Warden quarantined, removed or replaced (review s11 R3): the role is
        quarantined again, which puts the boundary back."""
        change = context.change
        role = context.request_text("roleName")
        arn = iam_arn(context.partition, change.account, "role", role)
        evaluation = Evaluation(resource_arn=arn)
        new = change.request_parameters.get("permissionsBoundary")
        if change.event_name == "PutRolePermissionsBoundary" and new == deny_all_boundary(arn):
            evaluation.compliant.append(f"the permissions boundary of role {role} still denies everything")
            return evaluation
        if context.recorded is None:
            return Evaluation()  # the routing rule's own judgement stands offline (see _QUIET_OFFLINE)
        by = [
            past
            for past in quarantines_in_force(context, arn)
            # An undone quarantine holds no boundary: a later one is no reversal (review s12 F2).
            if _in_force_of(past)
            and any(line.startswith(_BOUNDARY_DONE) and line.endswith(f" on role {role}") for line in past.done)
        ]
        if not by:
            evaluation.compliant.append(f"IAM Warden set no deny-all boundary on role {role} that is still in force")
            return evaluation
        how = "removed" if new is None else f"replaced with {new}"
        found = _of_this_role(context, role, by)
        if not found.mine:
            did = f"{how} the permissions boundary of role {role}"
            return _role_not_judged(context, evaluation, arn, role, found=found, did=did)
        by = found.mine
        evaluation.findings.append(
            _reversed(
                context,
                arn,
                f"{change.actor.display} {how} the deny-all permissions boundary of role {role}",
                "put on it",
                by=by,
                plan=[quarantine_step(role, arn, "quarantined again: its deny-all boundary was lifted by hand")],
            )
        )
        return evaluation

    @staticmethod
    def _role_quarantine(context: RuleContext) -> Evaluation:
        """The quarantine policy of a role IAM Warden quarantined, deleted or overwritten with another document."""
        change = context.change
        if change.request_parameters.get("policyName") != QUARANTINE_POLICY:
            return Evaluation()  # any other inline policy is the identity-policy and tampering rules' to judge
        role = context.request_text("roleName")
        arn = iam_arn(context.partition, change.account, "role", role)
        evaluation = Evaluation(resource_arn=arn)
        if change.event_name == "PutRolePolicy" and _still_denies_all(
            change.request_parameters.get("policyDocument"), PolicyKind.INLINE_ROLE
        ):
            evaluation.compliant.append(f"the quarantine policy of role {role} still denies everything")
            return evaluation
        if context.recorded is None:
            evaluation.unjudged.append(f"whether IAM Warden quarantined role {role} is in its audit table")
            return evaluation
        # A quarantine that failed part-way counts only when its done shows a deny-all went on the role.
        by = _shown(
            quarantines_in_force(context, arn),
            lambda line: line.endswith(f" on role {role}") and line.startswith(DENY_ALL_DONE),
        )
        if not by:
            evaluation.compliant.append(f"role {role} is not quarantined by IAM Warden")
            return evaluation
        how = "deleted" if change.event_name == "DeleteRolePolicy" else "overwrote"
        found = _of_this_role(context, role, by)
        if not found.mine:
            did = f"{how} the inline policy {QUARANTINE_POLICY} of role {role}"
            return _role_not_judged(context, evaluation, arn, role, found=found, did=did)
        by = found.mine
        evaluation.findings.append(
            _reversed(
                context,
                arn,
                f"{change.actor.display} {how} the quarantine policy {QUARANTINE_POLICY} of role {role}",
                "put on it",
                by=by,
                plan=[quarantine_step(role, arn, "quarantined again: its quarantine was lifted by hand")],
            )
        )
        return evaluation

    @staticmethod
    def _stopped_function(context: RuleContext) -> Evaluation:
        """A function ``stop_function`` stopped, given concurrency again (or none reserved: unlimited)."""
        change = context.change
        function = function_name(context.request_text("functionName"))
        arn = f"arn:{context.partition}:lambda:{change.region}:{change.account}:function:{function}"
        evaluation = Evaluation(resource_arn=arn)
        raised = change.request_parameters.get("reservedConcurrentExecutions")
        if change.event_name == "PutFunctionConcurrency20171031" and raised == 0:
            evaluation.compliant.append(f"function {function} was stopped (reserved concurrency 0), not started")
            return evaluation
        if context.recorded is None:
            evaluation.unjudged.append(f"whether IAM Warden stopped function {function} is in its audit table")
            return evaluation
        by = _shown(
            holding(context, arn, StopFunction.action, lambda step: step.get("function_name") == function),
            lambda line: line == f"stopped function {function}" or line.startswith(f"stopped function {function} "),
        )
        if not by:
            evaluation.compliant.append(f"IAM Warden never stopped function {function}")
            return evaluation
        role = str(by[-1].steps(StopFunction.action)[-1].get("role"))
        how = "deleted its reserved concurrency" if raised is None else f"set its reserved concurrency to {raised}"
        evaluation.findings.append(
            _reversed(
                context,
                arn,
                f"{change.actor.display} {how} of function {function}",
                f"stopped because it runs as IAM Warden's role {role}",
                by=by,
                plan=[
                    RemediationStep(
                        StopFunction.action,
                        arn,
                        {"function_name": function, "role": role},
                        f"stop function {function} again (reserved concurrency 0; undo puts back what was set)",
                    )
                ],
            )
        )
        return evaluation

    @staticmethod
    def _roles_anywhere(context: RuleContext) -> Evaluation:
        """A trust anchor or profile enabled again after ``roles-anywhere-trust-anchor`` disabled it."""
        change = context.change
        kind, id_key = _ENABLES[change.event_name]
        identifier = context.request_text(id_key)
        arn = roles_anywhere_arn(context, kind, identifier)
        evaluation = Evaluation(resource_arn=arn)
        what = f"Roles Anywhere {kind} {identifier}"
        if context.recorded is None:
            evaluation.unjudged.append(f"whether IAM Warden disabled {what} is in its audit table")
            return evaluation
        by = _shown(
            holding(
                context,
                arn,
                DisableRolesAnywhere.action,
                lambda step: step.get("kind") == kind and step.get("id") == identifier,
            ),
            lambda line: line == f"disabled Roles Anywhere {kind} {identifier}",
        )
        if not by:
            evaluation.compliant.append(f"IAM Warden never disabled {what}")
            return evaluation
        evaluation.findings.append(
            _reversed(
                context,
                arn,
                f"{change.actor.display} enabled {what} again",
                "disabled",
                by=by,
                plan=[
                    RemediationStep(
                        DisableRolesAnywhere.action,
                        arn,
                        {"kind": kind, "id": identifier},
                        f"disable {what} again (kept; undo enables it)",
                    )
                ],
            )
        )
        return evaluation


def _reversed(
    context: RuleContext,
    arn: str,
    did: str,
    had: str,
    *,
    by: Sequence[PastRemediation],
    plan: list[RemediationStep],
) -> Finding:
    """The critical finding of a remediation turned back by hand: what was done, which remediation it undid (``by``,
    the last named), and the plan that applies it again."""
    unexcused = [
        f"{past.remediation_id} is marked undone, but {why}"
        for past in by
        if not past.in_force and (why := unexcused_undo(context, past)) is not None
    ]
    excuse = (
        f" {'; '.join(unexcused)}: an undo excuses this only when an operator (rules/iamwarden-tampered/operators) "
        "ran iamwarden undo and made the change."
        if unexcused
        else ""
    )
    which = f"IAM Warden's remediation {by[-1].remediation_id} ({by[-1].rule})"
    offending: list[Mapping[str, Any]] = [{"remediation_id": past.remediation_id} for past in by]
    return context.finding(
        REMEDIATION_REVERSED,
        severity=Severity.CRITICAL,
        resource_arn=arn,
        reason=(
            f"Remediation reversed: {did}, which {which} had {had}; only iamwarden undo lifts a remediation.{excuse}"
        ),
        plan=plan,
        offending=offending,
    )


def _unproven(
    context: RuleContext,
    evaluation: Evaluation,
    arn: str,
    user: str,
    *,
    live: LiveUser | None,
    none: str,
    remediations: Sequence[PastRemediation] = (),
) -> Evaluation:
    """No record of IAM Warden's shows a remediation of the user that this change reverses: compliant, unless the
    user carries IAM Warden's quarantine tag, which anyone allowed ``iam:TagUser`` can write (review s11 R1), so it
    is no evidence: a medium alert that says so, and nothing is done."""
    tag = live.tags.get(QUARANTINE_TAG_FINDING) if live is not None else None
    if not tag or _quarantines(remediations):  # a quarantine IAM Warden recorded accounts for its tag
        evaluation.compliant.append(f"{none} of user {user}")
        return evaluation
    evaluation.findings.append(
        context.finding(
            REMEDIATION_REVERSED,
            severity=Severity.MEDIUM,
            resource_arn=arn,
            reason=(
                f"User {user} carries IAM Warden's quarantine tag {QUARANTINE_TAG_FINDING}={tag}, but no audit record "
                f"of IAM Warden's backs it ({none} of the user) for this change ({context.change.actor.display}, "
                f"{context.change.event_name}): a tag is writable by anyone allowed iam:TagUser, so nothing is done "
                "on it. Check who tagged the user, or whose quarantine record is missing."
            ),
            plan=[],
            offending=[{"quarantine_tag": tag}],
            needs_context=[f"an audit record of IAM Warden's behind the tag {QUARANTINE_TAG_FINDING}={tag}"],
        )
    )
    return evaluation


def _whose_unknown(
    context: RuleContext,
    evaluation: Evaluation,
    arn: str,
    user: str,
    *,
    live: LiveUser | None,
    remediations: Sequence[PastRemediation],
) -> Evaluation | None:
    """An everyday change of a user whose name has a quarantine in force that captured no UserId (a record made
    before session 11): it cannot say whose it was, so a medium alert and nothing done (review s12 F3); None when
    there is no such record."""
    # CreateDate only rules a record out (issue 15): one written before this user was created is another user's. One
    # written while it existed is still unknown: an older user may have been renamed into the name (review s14 F1).
    created = live.created if live is not None else None
    legacy = [
        past
        for past in _quarantines(remediations)
        if _in_force_of(past)
        and not past.captured(QuarantineUser.action, "user_id")
        and existed_when_recorded(created, past.created_at) is not False
    ]
    if not legacy:
        return None
    latest = legacy[-1]
    return _whose_record_unknown(
        context,
        evaluation,
        arn,
        latest,
        reason=(
            f"{context.change.actor.display} made a change ({context.change.event_name}) to user {user}, whose "
            f"name IAM Warden quarantined in {latest.remediation_id}; that record captured no UserId, so it "
            "cannot say whether this is the same user or a new one of the same name: nothing is done."
        ),
        principal=f"user {user} (UserId {live.user_id if live is not None else 'unknown'}) is the user",
    )


#: What each quarantine-lifting user event did, for the finding's reason.
_LIFTED: Mapping[str, str] = {
    "DeleteUserPolicy": f"deleted the quarantine policy {QUARANTINE_POLICY_NAME}",
    "PutUserPolicy": f"overwrote the quarantine policy {QUARANTINE_POLICY_NAME}",
    "UntagUser": "removed IAM Warden's quarantine tags",
    "DeleteUserPermissionsBoundary": "removed the deny-all permissions boundary",
    "PutUserPermissionsBoundary": "replaced the deny-all permissions boundary",
}


def _deactivate(arn: str, user: str, key: str) -> RemediationStep:
    return RemediationStep(
        DeactivateAccessKey.action,
        arn,
        {"user_name": user, "access_key_id": key},
        f"deactivate access key {key} of user {user} again",
    )


def _still_denies_all(document: object, kind: PolicyKind) -> bool:
    """Whether a ``Put{User,Role}Policy`` of the quarantine policy put back exactly IAM Warden's deny-all document."""
    try:
        return decode_policy_document(document, kind, field="policyDocument") == DENY_ALL_POLICY
    except InvalidEventError:
        return False  # not a document IAM Warden wrote: the quarantine is not what it was


def _field(response: Any, key: str, name: str) -> Any:
    inner = response.get(key) if isinstance(response, Mapping) else None
    return inner.get(name) if isinstance(inner, Mapping) else None


def _new_key(response: Any) -> str | None:
    key = _field(response, "accessKey", "accessKeyId")
    return key if isinstance(key, str) and key else None


GUARDRAILS = (RemediationReversedRule(),)
#: Re-applied with the actions that remediated the first time (``credentials``, ``iam_user``).
ACTIONS = ()
