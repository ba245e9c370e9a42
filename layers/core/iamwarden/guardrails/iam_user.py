"""``iam-user-created``: long-lived IAM users are the exception, not the way in.

The remediation quarantines the user (reversible: a deny-all inline policy, keys
off, no console password, tagged with the finding) or, when the rule says so,
deletes it with everything that blocks DeleteUser (irreversible).
"""

import json
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, ClassVar, NamedTuple

from iamwarden.adapters.errors import error_code, ignoring, is_gone, is_transient
from iamwarden.domain.arns import iam_arn
from iamwarden.domain.catalog import OptionSpec, RuleSpec, Severity
from iamwarden.domain.earlier_sessions import PREFIX, looked_up_again
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.quarantine import NOT_QUARANTINED, QUARANTINE_POLICY_NAME, RETRIED, held_line, wrote
from iamwarden.domain.wildcards import wildcard_match
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.remediation import AccountClients, Permissions, StepRun, pages, policy_document
from iamwarden.guardrails.session_lookup import earlier_lines, earlier_sessions_lines, first_held_at, looked_up_before

IAM_USER_CREATED = RuleSpec(
    id="iam-user-created",
    title="IAM user created",
    event_source="iam.amazonaws.com",
    event_names=frozenset({"CreateUser"}),
    risk=(
        "IAM users carry long-lived passwords and access keys that leak and never expire; "
        "this organisation gives people and workloads roles through federation instead."
    ),
    options={
        "allow_paths": OptionSpec("patterns", (), "user path prefixes that may hold users, e.g. /service-accounts/"),
        "allow_names": OptionSpec("patterns", (), "user name patterns that may be created, e.g. svc-smtp-*"),
        "remediation": OptionSpec(
            "choice",
            "quarantine",
            "quarantine (reversible: deny-all policy, keys off, no console) or delete (irreversible)",
            ("quarantine", "delete"),
        ),
    },
    alert_risk=(
        "An IAM user has a password and access keys that never expire, so a leaked key keeps working until "
        "someone notices; people and workloads here sign in through roles and single sign-on instead."
    ),
)

QUARANTINE_TAG_FINDING = "iamwarden:quarantine-finding"
QUARANTINE_TAG_TIME = "iamwarden:quarantined-at"
#: The ARN the quarantine's audit record is kept under: the tag moves with the user through a rename or re-path
#: (``iam:UpdateUser``), so ``remediation-reversed`` still finds the quarantine whatever the user is called now.
QUARANTINE_TAG_ARN = "iamwarden:quarantined-arn"
#: Every tag the quarantine sets (its undo puts each back as it was).
QUARANTINE_TAGS = (QUARANTINE_TAG_FINDING, QUARANTINE_TAG_TIME, QUARANTINE_TAG_ARN)
DENY_ALL_POLICY: Mapping[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "IamWardenQuarantine", "Effect": "Deny", "Action": "*", "Resource": "*"}],
}


class IamUserCreatedRule:
    """CreateUser, unless the user's path or name or the caller is allowlisted."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (IAM_USER_CREATED,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        name = context.request_text("userName")
        path = change.request_parameters.get("path")
        path = path if isinstance(path, str) and path else "/"
        user = (change.response_elements or {}).get("user")
        arn = user.get("arn") if isinstance(user, dict) else None
        if not isinstance(arn, str) or not arn:
            arn = iam_arn(context.partition, change.account, "user", name, path)
        evaluation = Evaluation(resource_arn=arn)

        settings = context.rule(IAM_USER_CREATED.id)
        allowed_path = next((p for p in settings.patterns("allow_paths") if _path_allowed(path, p)), None)
        if allowed_path is not None:
            evaluation.compliant.append(
                f"user path {path} matches {allowed_path!r} in rules/{IAM_USER_CREATED.id}/allow_paths"
            )
            return evaluation
        allowed_name = next((p for p in settings.patterns("allow_names") if wildcard_match(p, name)), None)
        if allowed_name is not None:
            evaluation.compliant.append(
                f"user name {name} matches {allowed_name!r} in rules/{IAM_USER_CREATED.id}/allow_names"
            )
            return evaluation

        if settings.choice("remediation") == "delete":
            step = RemediationStep(
                DeleteUser.action,
                arn,
                {"user_name": name},
                f"delete user {name} and all of its credentials (cannot be undone)",
            )
        else:
            step = RemediationStep(
                QuarantineUser.action,
                arn,
                {"user_name": name, "quarantine_policy_name": QUARANTINE_POLICY_NAME},
                f"quarantine user {name}: attach deny-all policy {QUARANTINE_POLICY_NAME}, "
                "deactivate its access keys, remove its console password",
            )
        where = f" under path {path}" if path != "/" else ""
        evaluation.findings.append(
            context.finding(
                IAM_USER_CREATED,
                severity=Severity.HIGH,
                resource_arn=arn,
                reason=(
                    f"IAM user {name}{where} was created by {change.actor.display}. "
                    "IAM users hold long-lived passwords and access keys; people and workloads here use roles."
                ),
                plan=[step],
            )
        )
        return evaluation


def _path_allowed(path: str, allowed: str) -> bool:
    """``/service-accounts/`` allows that path and paths below it, never ``/service-accounts-evil/``."""
    if "*" in allowed or "?" in allowed:
        return wildcard_match(allowed, path)
    prefix = allowed if allowed.endswith("/") else allowed + "/"
    return path.startswith(prefix)


#: The deny-all permissions boundary: AWS-managed, so no quota of the user's can be filled to keep it out (review s11
#: F11: an intruder who fills the user's 2,048-character inline quota makes the inline deny-all fail LimitExceeded).
#: Its document is Deny ``*`` on ``*`` (AWS Managed Policy reference: docs.aws.amazon.com/aws-managed-policy).
DENY_ALL_BOUNDARY = "AWSDenyAll"


def deny_all_boundary(arn: str) -> str:
    """The ARN of AWS's deny-all managed policy in the partition of ``arn`` (a user's or role's)."""
    partition = arn.split(":")[1] if arn.count(":") >= 2 else "aws"
    return f"arn:{partition}:iam::aws:policy/{DENY_ALL_BOUNDARY}"


class _OtherCredential(NamedTuple):
    """A kind of user credential besides access keys and the password that the quarantine deactivates (F14)."""

    key: str  # in the before-state
    what: str
    lister: str
    listed: str
    id_field: str
    updater: str


#: SSH public keys (CodeCommit), signing certificates (SOAP/SDB-era APIs) and service-specific credentials
#: (CodeCommit HTTPS git credentials, Amazon Keyspaces, Bedrock API keys); each can be set Inactive and back.
_OTHER_CREDENTIALS = (
    _OtherCredential(
        "ssh_public_keys",
        "SSH public key",
        "list_ssh_public_keys",
        "SSHPublicKeys",
        "SSHPublicKeyId",
        "update_ssh_public_key",
    ),
    _OtherCredential(
        "signing_certificates",
        "signing certificate",
        "list_signing_certificates",
        "Certificates",
        "CertificateId",
        "update_signing_certificate",
    ),
    _OtherCredential(
        "service_specific_credentials",
        "service-specific credential",
        "list_service_specific_credentials",
        "ServiceSpecificCredentials",
        "ServiceSpecificCredentialId",
        "update_service_specific_credential",
    ),
)

#: A user's credentials of one kind are few (IAM's quotas allow a handful): a listing is not followed past this many
#: pages.
_MAX_PAGES = 20


def _listed(iam: Any, kind: _OtherCredential, name: str) -> list[Mapping[str, Any]]:
    """Every credential of ``kind`` the user has. ``ListServiceSpecificCredentials`` has ``Marker``/``IsTruncated``
    but no botocore paginator, so its pages are followed here (at most ``_MAX_PAGES``)."""
    if iam.can_paginate(kind.lister):
        return list(pages(iam, kind.lister, kind.listed, UserName=name))
    listed: list[Mapping[str, Any]] = []
    marker: dict[str, str] = {}
    for _ in range(_MAX_PAGES):
        page = getattr(iam, kind.lister)(UserName=name, **marker)
        listed += page.get(kind.listed, [])
        if not (page.get("IsTruncated") and page.get("Marker")):
            break
        marker = {"Marker": page["Marker"]}
    return listed


def _other_credentials(aws: AccountClients, name: str, kind: _OtherCredential) -> dict[str, Any]:
    """The user's credentials of ``kind`` and their status, read best-effort (review s12 F7): a refused or failed
    listing (an SCP, a throttle past the retries) must not stop the quarantine's keys, password and deny-alls, so it
    is recorded as unread (``None`` and why) and the step says what it could not deactivate."""
    try:
        return {
            kind.key: [
                {"id": listed[kind.id_field], "status": listed["Status"]} for listed in _listed(aws.iam, kind, name)
            ]
        }
    except Exception as exc:  # NotImplementedError too: moto has no service-specific credentials
        if is_gone(exc):
            return {kind.key: []}
        return {kind.key: None, f"{kind.key}_unread": error_code(exc) or type(exc).__name__}


class QuarantineUser:
    """Take every way in from a user, the deny-alls first, and tag it. Undoable.

    The deny-all goes on twice, first: as the permissions boundary (AWS's ``AWSDenyAll``: one slot, no quota) and as
    the inline policy ``iamwarden-quarantine``. Either is enough (review s11 R7): an inline write refused (the user's
    inline quota filled beforehand, review s11 F11) is no failure while the boundary holds, nor a boundary write
    refused (an SCP protecting boundaries) while the inline policy holds. Then the access keys, the console password,
    SSH keys, signing certificates and service-specific credentials are shut, each write tolerated (issue 15): a
    refusal is a ``NOT`` line and the quarantine goes on. Only when neither deny-all holds does the quarantine fail
    (after shutting what it could): never "quarantined" without a deny-all. The tags are bookkeeping (R10: a full tag
    quota is no failure). Each sub-step is recorded in ``done``, so what holds is known.
    """

    permissions: ClassVar[Permissions] = (
        "iam:GetUser",
        "iam:GetUserPolicy",
        "iam:PutUserPolicy",
        "iam:ListAccessKeys",
        "iam:UpdateAccessKey",
        "iam:GetLoginProfile",
        "iam:DeleteLoginProfile",
        "iam:PutUserPermissionsBoundary",
        "iam:ListSSHPublicKeys",
        "iam:UpdateSSHPublicKey",
        "iam:ListSigningCertificates",
        "iam:UpdateSigningCertificate",
        "iam:ListServiceSpecificCredentials",
        "iam:UpdateServiceSpecificCredential",
        "iam:TagUser",
        "cloudtrail:LookupEvents",  # the role sessions the user assumed before: listed, never revoked
    )
    action: ClassVar[StepAction] = StepAction("quarantine_user", permissions)
    undo_permissions: ClassVar[Permissions] = (
        "iam:GetUser",
        "iam:ListUsers",
        "iam:DeleteUserPolicy",
        "iam:PutUserPolicy",
        "iam:ListAccessKeys",
        "iam:UpdateAccessKey",
        "iam:PutUserPermissionsBoundary",
        "iam:DeleteUserPermissionsBoundary",
        "iam:ListSSHPublicKeys",
        "iam:UpdateSSHPublicKey",
        "iam:ListSigningCertificates",
        "iam:UpdateSigningCertificate",
        "iam:ListServiceSpecificCredentials",
        "iam:UpdateServiceSpecificCredential",
        "iam:UntagUser",
        "iam:TagUser",
    )
    undoable: ClassVar[bool] = True

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        name = step.parameters["user_name"]
        policy_name = step.parameters["quarantine_policy_name"]
        try:
            user = aws.iam.get_user(UserName=name)["User"]
        except Exception as exc:
            if is_gone(exc):
                return {"exists": False}
            raise
        policy = None
        with ignoring():
            policy = policy_document(aws.iam.get_user_policy(UserName=name, PolicyName=policy_name)["PolicyDocument"])
        keys = [
            {"id": key["AccessKeyId"], "status": key["Status"]}
            for key in pages(aws.iam, "list_access_keys", "AccessKeyMetadata", UserName=name)
        ]
        login = None
        with ignoring():
            profile = aws.iam.get_login_profile(UserName=name)["LoginProfile"]
            login = {"password_reset_required": bool(profile.get("PasswordResetRequired", False))}
        tags = {tag["Key"]: tag["Value"] for tag in user.get("Tags", [])}
        others: dict[str, Any] = {}
        for kind in _OTHER_CREDENTIALS:
            others |= _other_credentials(aws, name, kind)
        return {
            "exists": True,
            "user_arn": user["Arn"],
            # What a rename cannot change: remediation-reversed checks a quarantine found through the user's tags
            # (or a rename) against the live user's UserId.
            "user_id": user.get("UserId"),
            "quarantine_policy": policy,
            "access_keys": keys,
            "login_profile": login,
            # The boundary the quarantine replaces (None: none), which undo puts back.
            "boundary": (user.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
            "tags": {key: tags.get(key) for key in QUARANTINE_TAGS},
            **others,
        }

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        name = step.parameters["user_name"]
        if not before["exists"]:
            return  # deleted since: nothing left to quarantine
        iam = run.aws.iam
        denied = self._deny_all(iam, name, step, before, done)
        # Refusals worth retrying (lead decision, s13): raised after every other write, the tags included.
        transient: list[Exception] = []
        # Every other step is tolerated (issue 15): a refusal (an SCP, a throttle past the retries) of one key's,
        # the password's or another credential's write is a named "NOT" line in the record and the alert, and the
        # quarantine goes on; while a deny-all holds, what was not shut is denied anyway.
        for key in before["access_keys"]:
            if key["status"] == "Active":
                _tolerated(
                    done,
                    f"deactivated access key {key['id']}",
                    f"access key {key['id']} of {name}",
                    partial(iam.update_access_key, UserName=name, AccessKeyId=key["id"], Status="Inactive"),
                    transient=transient,
                )
        if before["login_profile"] is not None:
            _tolerated(
                done,
                f"deleted the console password of {name}",
                f"the console password of {name}",
                partial(iam.delete_login_profile, UserName=name),
                verb="deleted",
                transient=transient,
            )
        # The user's other credentials (review s11 F14; service-specific ones, issue 15): while a deny-all holds they
        # are denied anyway, and deactivated they stay shut should the deny-all be lifted.
        for kind in _OTHER_CREDENTIALS:
            if before.get(kind.key, ()) is None:
                # Their listing was refused when captured (review s12 F7): said, and the quarantine stands.
                # Only a deny-all that is on covers them: on a failed quarantine the line must not say so.
                cover = "the deny-alls deny them while they hold" if denied is None else "no deny-all denies them"
                done.append(
                    f"NOT deactivated: the {kind.what}s of {name} (listing them failed: "
                    f"{before.get(f'{kind.key}_unread')}); {cover}"
                )
            for credential in before.get(kind.key) or ():
                if credential["status"] == "Active":
                    _tolerated(
                        done,
                        f"deactivated {kind.what} {credential['id']}",
                        f"{kind.what} {credential['id']} of {name}",
                        partial(
                            getattr(iam, kind.updater),
                            UserName=name,
                            Status="Inactive",
                            **{kind.id_field: credential["id"]},
                        ),
                        transient=transient,
                    )
        if denied is not None:
            raise denied  # neither deny-all holds: a failed quarantine, whatever else was shut
        tags = before["tags"]
        if tags.get(QUARANTINE_TAG_FINDING) != run.finding_id or tags.get(QUARANTINE_TAG_ARN) != step.target:
            # The tags are bookkeeping (review s11 R10): a user's tag quota filled beforehand must not fail the
            # quarantine that already holds; IAM Warden's audit record, not a tag, is the evidence of it.
            try:
                iam.tag_user(
                    UserName=name,
                    Tags=[
                        {"Key": QUARANTINE_TAG_FINDING, "Value": run.finding_id},
                        {"Key": QUARANTINE_TAG_TIME, "Value": run.now},
                        {"Key": QUARANTINE_TAG_ARN, "Value": step.target},
                    ],
                )
                done.append(f"tagged {name} with {QUARANTINE_TAG_FINDING}={run.finding_id}")
            except Exception as exc:
                done.append(f"NOT tagged: {name} ({error_code(exc) or type(exc).__name__}); the quarantine holds")
        if transient:
            # The quarantine holds (a deny-all is on) but a write refused for a passing reason is not given up: the
            # run fails so the event is retried, and the retry, reading the live state again, does only what is left.
            # This attempt's own line (review s13 N1): the alert reads the latest attempt's, never every attempt's.
            done.append(held_line(len(transient), run.now))  # with its time: which attempt (review s14 F3)
        # Role sessions the user assumed before: listed with the command that revokes them, never revoked (issue 15).
        # The last thing the step does (review s14 F1, review3 R3: after the tags and this attempt's verdict), once per
        # remediation unless the earlier lookup was incomplete (review3 R2, review s15 F4).
        if not looked_up_before(done):
            done.extend(self._earlier_sessions(run, name, before, done))  # one write: never half a block (s15 F7)
        if transient:
            raise transient[0]

    @staticmethod
    def _earlier_sessions(run: StepRun, name: str, before: Mapping[str, Any], done: list[str]) -> list[str]:
        """The earlier-sessions block, cut at the time the quarantine first held: from IAM Warden's own record (the
        first holding attempt's line), else, said so, the user's ``quarantined-at`` tag (anyone allowed
        ``iam:TagUser`` can set it: review s15 F7), else this attempt's time. A block looked up again is marked so."""
        held = first_held_at(done)
        tags = before["tags"]
        tagged = tags.get(QUARANTINE_TAG_TIME) if tags.get(QUARANTINE_TAG_FINDING) == run.finding_id else None
        block = earlier_sessions_lines(run.aws, name, held or tagged or run.now, user_id=before.get("user_id"))
        if block and held is None and tagged:
            block.insert(
                1,
                f"{PREFIX}: the cutoff {tagged} is read from the user's {QUARANTINE_TAG_TIME} tag (IAM Warden's record "
                "holds no earlier attempt's time; anyone allowed iam:TagUser on the user can change that tag)",
            )
        if block and any(line.startswith(PREFIX) for line in earlier_lines(done)):
            return looked_up_again(block, run.now)
        return block

    def _deny_all(
        self, iam: Any, name: str, step: RemediationStep, before: Mapping[str, Any], done: list[str]
    ) -> Exception | None:
        """Put both deny-alls on, first (issue 15: as early as safely possible; neither limits IAM Warden's own
        writes to the user): the permissions boundary (AWS's ``AWSDenyAll``: one slot, no quota) and the inline
        policy. Either is enough (review s11 R7). The refusal to raise when neither holds, else None."""
        boundary = deny_all_boundary(str(before.get("user_arn") or step.target))
        boundary_error: Exception | None = None
        if before.get("boundary") != boundary:
            try:
                iam.put_user_permissions_boundary(UserName=name, PermissionsBoundary=boundary)
                done.append(f"set the deny-all permissions boundary {boundary} on {name}")
            except Exception as exc:
                boundary_error = exc
        policy_name = step.parameters["quarantine_policy_name"]
        if before["quarantine_policy"] != DENY_ALL_POLICY:
            try:
                iam.put_user_policy(UserName=name, PolicyName=policy_name, PolicyDocument=json.dumps(DENY_ALL_POLICY))
                done.append(f"attached deny-all inline policy {policy_name} to {name}")
            except Exception as exc:
                if boundary_error is not None:
                    done.append(
                        f"NOT attached: deny-all inline policy {policy_name} ({error_code(exc) or type(exc).__name__})"
                    )
                    done.append(
                        f"NOT set: the deny-all permissions boundary {boundary} "
                        f"({error_code(boundary_error) or type(boundary_error).__name__}); {name}{NOT_QUARANTINED}"
                    )
                    return boundary_error  # neither deny-all holds: the boundary's refusal says why
                done.append(
                    f"NOT attached: deny-all inline policy {policy_name} ({error_code(exc) or type(exc).__name__}); "
                    f"the deny-all boundary {boundary} holds"
                )
        if boundary_error is not None:
            done.append(
                f"NOT set: the deny-all permissions boundary {boundary} "
                f"({error_code(boundary_error) or type(boundary_error).__name__}); the deny-all inline policy "
                f"{policy_name} holds"
            )
        return None

    def held_under(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> tuple[str, ...]:
        """The ARNs under which a newer quarantine of this very user may be recorded (review s12 F4): the one it was
        quarantined under and, renamed since, the one it has now. The executor refuses to undo this quarantine while
        such a newer one holds, whose before-state is this one's quarantine."""
        if not before.get("exists") or not isinstance(before.get("user_id"), str):
            return ()
        arns = [step.target]
        user = _user_now(aws.iam, step.parameters["user_name"], before["user_id"])
        if user is not None:
            partition = step.target.split(":", 2)[1] if step.target.startswith("arn:") else "aws"
            account = str(user.get("Arn", "")).split(":")[4] if user.get("Arn") else ""
            arns += [str(user.get("Arn") or ""), iam_arn(partition, account, "user", str(user["UserName"]))]
        return tuple(dict.fromkeys(arn for arn in arns if arn))

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        """Without the record's ``done`` (a caller that has none): every credential Active before and Inactive now
        is taken for one the quarantine shut. The executor calls ``undo_done`` with the record's lines instead."""
        return self.undo_done(aws, step, before, None)

    def undo_done(
        self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any], done: Sequence[str] | None
    ) -> list[str]:
        """Lift the quarantine. ``done``: the record's lines; a credential is reactivated only when a
        ``deactivated … <id>`` line shows the quarantine shut it (review s13 F2): one whose deactivation was refused
        (a ``NOT deactivated`` line) and shut later by someone else stays shut. Main's records wrote the same lines."""
        name = step.parameters["user_name"]
        policy_name = step.parameters["quarantine_policy_name"]
        shut = None if done is None else set(done)
        if not before["exists"]:
            return []
        iam = aws.iam
        restored: list[str] = []
        user = _user_now(iam, name, before.get("user_id"))
        if user is None:
            raise UndoError(f"user {name} no longer exists; there is nothing to lift the quarantine from")
        if user["UserName"] != name:
            # Renamed since (review s11 R8): the quarantine is lifted from the very user it was put on.
            restored.append(f"user {name} is now called {user['UserName']} (found by its UserId {user['UserId']})")
            name = user["UserName"]
        live_boundary = (user.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        # A deny-all is lifted only when the record shows IAM Warden's own write of it went through (review s13 N3):
        # one whose write was refused (a ``NOT`` line) and that someone put on since is not the quarantine's to lift.
        wrote_policy = wrote(done, f"attached deny-all inline policy {policy_name} ")
        wrote_boundary = wrote(done, "set the deny-all permissions boundary ")
        if not wrote_policy:
            if before["quarantine_policy"] != DENY_ALL_POLICY:
                restored.append(
                    f"left the inline policy {policy_name} as it is: the record shows no write of it by the quarantine"
                )
        elif before["quarantine_policy"] is None:
            with ignoring():
                iam.delete_user_policy(UserName=name, PolicyName=policy_name)
                restored.append(f"removed deny-all inline policy {policy_name}")
        else:
            iam.put_user_policy(
                UserName=name, PolicyName=policy_name, PolicyDocument=json.dumps(before["quarantine_policy"])
            )
            restored.append(f"restored inline policy {policy_name} as it was")
        boundary = deny_all_boundary(str(before.get("user_arn") or step.target))
        # A record from before the boundary step has no "boundary" key: that quarantine set none, so none is lifted.
        if not wrote_boundary and "boundary" in before and before["boundary"] != boundary:
            restored.append(
                f"left the permissions boundary as it is: the record shows no write of {boundary} by the quarantine"
            )
        elif "boundary" in before and before["boundary"] != boundary and live_boundary == boundary:
            if before["boundary"] is None:
                with ignoring():
                    iam.delete_user_permissions_boundary(UserName=name)
                restored.append(f"removed the deny-all permissions boundary {boundary}")
            else:
                iam.put_user_permissions_boundary(UserName=name, PermissionsBoundary=before["boundary"])
                restored.append(f"put the permissions boundary {before['boundary']} back")
        live = {
            key["AccessKeyId"]: key["Status"]
            for key in pages(iam, "list_access_keys", "AccessKeyMetadata", UserName=name)
        }
        for key in before["access_keys"]:
            if shut is not None and f"deactivated access key {key['id']}" not in shut:
                continue  # not shut by this quarantine (refused, or not reached): not IAM Warden's to turn on
            if key["status"] == "Active" and live.get(key["id"]) == "Inactive":
                iam.update_access_key(UserName=name, AccessKeyId=key["id"], Status="Active")
                restored.append(f"reactivated access key {key['id']}")
        for kind in _OTHER_CREDENTIALS:
            active = [
                credential["id"]
                for credential in before.get(kind.key) or ()
                if credential["status"] == "Active"
                and (shut is None or f"deactivated {kind.what} {credential['id']}" in shut)
            ]
            if not active:
                continue
            now = {listed[kind.id_field]: listed["Status"] for listed in _listed(iam, kind, name)}
            for credential_id in active:
                if now.get(credential_id) == "Inactive":
                    getattr(iam, kind.updater)(UserName=name, Status="Active", **{kind.id_field: credential_id})
                    restored.append(f"reactivated {kind.what} {credential_id}")
        # A record from before the ARN tag existed names two tags: the third was not there either.
        old_tags = {key: before["tags"].get(key) for key in QUARANTINE_TAGS}
        gone = [key for key, value in old_tags.items() if value is None]
        kept = [{"Key": key, "Value": value} for key, value in old_tags.items() if value is not None]
        if gone:
            iam.untag_user(UserName=name, TagKeys=gone)
        if kept:
            iam.tag_user(UserName=name, Tags=kept)
        restored.append("restored the user's quarantine tags")
        if before["login_profile"] is not None:
            restored.append(
                f"NOT restored: the console password of {name} (AWS cannot return a password); "
                f"set a new one with: aws iam create-login-profile --user-name {name} --password-reset-required "
                "--password ..."
            )
        return restored


def _tolerated(
    done: list[str],
    did: str,
    what: str,
    call: Callable[[], object],
    *,
    verb: str = "deactivated",
    transient: list[Exception] | None = None,
) -> None:
    """Run one of the quarantine's tolerated writes: done, ``did``; already gone, nothing; refused, a ``NOT`` line
    naming ``what`` and AWS's error code, and the quarantine goes on (issue 15). A transient refusal (throttling, a
    5xx, a connection: ``is_transient``) is also kept in ``transient``: the step raises it once every other write is
    done, so the event is retried and the retry (every write idempotent) reaches the full end state."""
    try:
        call()
    except Exception as exc:
        if not is_gone(exc):
            retried = transient is not None and is_transient(exc)
            done.append(f"NOT {verb}: {what} ({error_code(exc) or type(exc).__name__}){RETRIED if retried else ''}")
            if transient is not None and retried:
                transient.append(exc)
        return
    done.append(did)


def _user_now(iam: Any, name: str, user_id: object) -> Mapping[str, Any] | None:
    """The user a quarantine was put on, as it is now: by its name, unless the record captured a UserId that the user
    of that name does not have (renamed since, the name taken again); then the user of that UserId (``ListUsers``).
    None: gone."""
    try:
        user: Mapping[str, Any] = iam.get_user(UserName=name)["User"]
    except Exception as exc:
        if not is_gone(exc):
            raise
    else:
        if not isinstance(user_id, str) or user.get("UserId") == user_id:
            return user
    if not isinstance(user_id, str):
        return None
    found = next((listed for listed in pages(iam, "list_users", "Users") if listed.get("UserId") == user_id), None)
    return None if found is None else iam.get_user(UserName=found["UserName"])["User"]


class DeleteUser:
    """Remove the user and everything that blocks DeleteUser, in the order IAM requires. Not undoable."""

    permissions: ClassVar[Permissions] = (
        "iam:GetUser",
        "iam:ListAccessKeys",
        "iam:DeleteAccessKey",
        "iam:GetLoginProfile",
        "iam:DeleteLoginProfile",
        "iam:ListMFADevices",
        "iam:DeactivateMFADevice",
        "iam:DeleteVirtualMFADevice",
        "iam:ListSigningCertificates",
        "iam:DeleteSigningCertificate",
        "iam:ListSSHPublicKeys",
        "iam:DeleteSSHPublicKey",
        "iam:ListServiceSpecificCredentials",
        "iam:DeleteServiceSpecificCredential",
        "iam:ListGroupsForUser",
        "iam:RemoveUserFromGroup",
        "iam:ListUserPolicies",
        "iam:GetUserPolicy",
        "iam:DeleteUserPolicy",
        "iam:ListAttachedUserPolicies",
        "iam:DetachUserPolicy",
        "iam:DeleteUser",
    )
    action: ClassVar[StepAction] = StepAction("delete_user", permissions)
    undo_permissions: ClassVar[Permissions] = ()
    undoable: ClassVar[bool] = False

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        name = step.parameters["user_name"]
        iam = aws.iam
        try:
            user = iam.get_user(UserName=name)["User"]
        except Exception as exc:
            if is_gone(exc):
                return {"exists": False}
            raise
        login = False
        with ignoring():
            iam.get_login_profile(UserName=name)
            login = True
        inline = {
            policy: policy_document(iam.get_user_policy(UserName=name, PolicyName=policy)["PolicyDocument"])
            for policy in pages(iam, "list_user_policies", "PolicyNames", UserName=name)
        }
        return {
            "exists": True,
            "user_arn": user["Arn"],
            "path": user.get("Path", "/"),
            "tags": user.get("Tags", []),
            "access_keys": [
                {"id": key["AccessKeyId"], "status": key["Status"]}
                for key in pages(iam, "list_access_keys", "AccessKeyMetadata", UserName=name)
            ],
            "login_profile": login,
            "mfa_devices": [d["SerialNumber"] for d in pages(iam, "list_mfa_devices", "MFADevices", UserName=name)],
            "signing_certificates": [
                c["CertificateId"] for c in pages(iam, "list_signing_certificates", "Certificates", UserName=name)
            ],
            "ssh_public_keys": [
                k["SSHPublicKeyId"] for k in pages(iam, "list_ssh_public_keys", "SSHPublicKeys", UserName=name)
            ],
            "service_specific_credentials": [
                c["ServiceSpecificCredentialId"]
                for c in iam.list_service_specific_credentials(UserName=name).get("ServiceSpecificCredentials", [])
            ],
            "groups": [g["GroupName"] for g in pages(iam, "list_groups_for_user", "Groups", UserName=name)],
            "inline_policies": inline,
            "attached_policies": [
                p["PolicyArn"] for p in pages(iam, "list_attached_user_policies", "AttachedPolicies", UserName=name)
            ],
        }

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["exists"]:
            return
        name = step.parameters["user_name"]
        iam = run.aws.iam

        def attempt(description: str, call: Any, **kwargs: Any) -> None:
            with ignoring():
                call(UserName=name, **kwargs)
                done.append(description)

        for key in before["access_keys"]:
            attempt(f"deleted access key {key['id']}", iam.delete_access_key, AccessKeyId=key["id"])
        if before["login_profile"]:
            attempt("deleted the console password", iam.delete_login_profile)
        for serial in before["mfa_devices"]:
            attempt(f"deactivated MFA device {serial}", iam.deactivate_mfa_device, SerialNumber=serial)
            if ":mfa/" in serial:  # a virtual device (hardware serials are not ARNs)
                with ignoring():
                    iam.delete_virtual_mfa_device(SerialNumber=serial)
                    done.append(f"deleted virtual MFA device {serial}")
        for cert in before["signing_certificates"]:
            attempt(f"deleted signing certificate {cert}", iam.delete_signing_certificate, CertificateId=cert)
        for key_id in before["ssh_public_keys"]:
            attempt(f"deleted SSH public key {key_id}", iam.delete_ssh_public_key, SSHPublicKeyId=key_id)
        for credential in before["service_specific_credentials"]:
            attempt(
                f"deleted service-specific credential {credential}",
                iam.delete_service_specific_credential,
                ServiceSpecificCredentialId=credential,
            )
        for group in before["groups"]:
            attempt(f"removed {name} from group {group}", iam.remove_user_from_group, GroupName=group)
        for policy in before["inline_policies"]:
            attempt(f"deleted inline policy {policy}", iam.delete_user_policy, PolicyName=policy)
        for arn in before["attached_policies"]:
            attempt(f"detached {arn}", iam.detach_user_policy, PolicyArn=arn)
        attempt(f"deleted user {name}", iam.delete_user)

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        raise UndoError(
            f"user {step.parameters['user_name']} was deleted and cannot be restored (its credentials are gone); "
            "its before-state is kept in the audit record"
        )


ACTIONS = (QuarantineUser(), DeleteUser())
GUARDRAILS = (IamUserCreatedRule(),)
