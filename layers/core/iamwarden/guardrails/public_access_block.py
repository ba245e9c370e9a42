"""``s3-public-access-block-disabled``: Block Public Access stays on, for buckets and for the account.

S3's Block Public Access has four settings; a bucket or the account is
protected only when all four are on. A call that turns one off which was on
before, or a deletion of the configuration (which turns every setting off at
that level), is a finding; the remediation turns back on only what the call
turned off. What was on before is IAM Warden's record of the configuration (a
call says only what it sets): kept by the enforcer from the last call it judged,
all four on from a ``CreateBucket`` (S3's default since April 2023), forgotten
at ``DeleteBucket``, and read by the heartbeat and at deploy
(``app.public_access_seed``); with none on record the
rule alerts that settings are off and that what was before is unknown, and
turns all four on only with the ``all_four`` option set to ``always`` (review
s11 F10: a hardening call on a deliberately public website bucket must not
take it down). The account-level calls are S3 Control's, but CloudTrail records
them with ``eventSource`` ``s3.amazonaws.com`` and the names
``PutAccountPublicAccessBlock`` and ``DeleteAccountPublicAccessBlock``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, ClassVar

from iamwarden.adapters.errors import error_code, ignoring, is_gone
from iamwarden.domain.arns import bucket_arn
from iamwarden.domain.catalog import OptionSpec, RuleSpec, Severity
from iamwarden.domain.events import instant, json_type_name
from iamwarden.domain.exceptions import InvalidEventError, UndoError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.recorded import PUBLIC_ACCESS_BLOCK, Snapshot, observed_at
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.remediation import AccountClients, Permissions, StepRun

S3_PUBLIC_ACCESS_BLOCK_DISABLED = RuleSpec(
    id="s3-public-access-block-disabled",
    title="S3 Block Public Access turned off",
    event_source="s3.amazonaws.com",
    event_names=frozenset(
        {
            "PutBucketPublicAccessBlock",
            "DeleteBucketPublicAccessBlock",
            "PutAccountPublicAccessBlock",
            "DeleteAccountPublicAccessBlock",
            # Not judged: they keep the record a bucket's next call is compared with (``_bucket_lifecycle``).
            "CreateBucket",
            "DeleteBucket",
        }
    ),
    risk=(
        "Block Public Access is the safety net that stops any policy or ACL from making data public; "
        "with it off, one mistaken grant exposes the data."
    ),
    options={
        "all_four": OptionSpec(
            "choice",
            "when-turned-off",
            "when-turned-off (turn back on only the settings a call turned off, judged against the configuration "
            "IAM Warden last saw; alert only when that is unknown) or always (every setting left off is turned on)",
            ("when-turned-off", "always"),
        ),
        "record_max_age_days": OptionSpec(
            "choice",
            "30",
            "how many days IAM Warden trusts its record of a configuration (kept from the last call it judged, or "
            "read by the heartbeat) as the state before the next call; an older record counts as none (the bucket may "
            "have been re-created, or changed while the rule was off)",
            ("7", "30", "90", "365"),
        ),
    },
    alert_risk=(
        "Block Public Access is the safety net that stops any bucket policy or ACL from making data public; "
        "with it off, a single mistaken grant exposes the data to the internet."
    ),
)

#: The four settings, in the order the S3 console shows them: the rule judges them, the action turns them on.
SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
ALL_BLOCKED: Mapping[str, bool] = dict.fromkeys(SETTINGS, True)
_NO_CONFIGURATION = "NoSuchPublicAccessBlockConfiguration"
_ACCOUNT_EVENTS = frozenset({"PutAccountPublicAccessBlock", "DeleteAccountPublicAccessBlock"})
_DELETE_EVENTS = frozenset({"DeleteBucketPublicAccessBlock", "DeleteAccountPublicAccessBlock"})
_LIFECYCLE_EVENTS = frozenset({"CreateBucket", "DeleteBucket"})
#: The one Region where ``CreateBucket`` of a bucket the caller already owns succeeds (200 OK, ACLs reset) instead of
#: failing with ``BucketAlreadyOwnedByYou`` (S3 API Reference, ``BucketAlreadyOwnedByYou``): a create there may be of
#: an existing bucket, whose Block Public Access is then whatever it was.
_RECREATE_SUCCEEDS_IN = "us-east-1"


def account_block_arn(partition: str, account: str) -> str:
    """IAM Warden's name for an account's Block Public Access settings (AWS gives them no ARN)."""
    return f"arn:{partition}:s3::{account}:public-access-block"


class PublicAccessBlockRule:
    """Put/Delete{Bucket,Account}PublicAccessBlock turning off a setting that was on before.

    A call says only what it sets, so the rule compares it with the configuration the enforcer kept from the
    last call it judged for the same bucket or account (``PUBLIC_ACCESS_BLOCK``): a call that turns two settings
    on where the other two were already (deliberately) off turns nothing off. With no earlier state on record it
    can only say which settings are off: an alert that needs context, unless ``all_four`` is ``always``.
    """

    specs: ClassVar[tuple[RuleSpec, ...]] = (S3_PUBLIC_ACCESS_BLOCK_DISABLED,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        if change.event_name in _LIFECYCLE_EVENTS:
            return _bucket_lifecycle(context)
        if change.event_name in _ACCOUNT_EVENTS:
            account = change.account
            arn = account_block_arn(context.partition, account)
            where = f"account {account}"
            parameters: dict[str, Any] = {"scope": "account", "account_id": account}
        else:
            bucket = context.request_text("bucketName")
            arn = bucket_arn(context.partition, bucket)
            where = f"bucket {bucket}"
            parameters = {"scope": "bucket", "bucket": bucket}
        evaluation = Evaluation(resource_arn=arn)
        deleted = change.event_name in _DELETE_EVENTS
        after: dict[str, bool] | None = None if deleted else _configuration(change.request_parameters)
        now_on = {name: bool(after and after[name]) for name in SETTINGS}
        before, unknown = _before(context, arn)
        before_taken = _record_time(context, arn) if before is not None else ""
        always = context.rule(S3_PUBLIC_ACCESS_BLOCK_DISABLED.id).choice("all_four") == "always"
        off = [name for name in SETTINGS if not now_on[name]]
        if before is not None:
            turned_off = [name for name in SETTINGS if before[name] and not now_on[name]]
            restore = off if always else turned_off
        else:
            turned_off, restore = [], off
        # With no record, a call that leaves every setting off is no hardening however things were before it: it is
        # remediated as before there were records (all four on; undo puts the call's state back). A mixed call with
        # no record may be a hardening of a deliberately open bucket: alert only (review s12 F3).
        all_off = len(off) == len(SETTINGS)
        if context.recorded is not None:
            left = {name: now_on[name] or name in restore for name in SETTINGS}
            evaluation.observed.append(
                Snapshot(
                    PUBLIC_ACCESS_BLOCK,
                    arn,
                    observed_at(change.time),
                    {"configuration": after, "account": change.account},
                    whatever_the_verdict=True,
                    if_remediated={"configuration": left, "account": change.account},
                    ambiguous_within_instant=True,
                )
            )
        if not restore:
            if not off:
                evaluation.compliant.append(f"all four Block Public Access settings stay on for {where}")
            else:
                # Low and alert-only, never silent (second reading s12): the record may be stale though usable (the
                # bucket re-created in us-east-1, whose CreateBucket keeps no record, or a Create/Delete or setting
                # turned on while the rule was off or whose event was lost), so "already off" is said, not proof.
                taken = before_taken or "an earlier call"
                evaluation.findings.append(
                    context.finding(
                        S3_PUBLIC_ACCESS_BLOCK_DISABLED,
                        severity=Severity.LOW,
                        resource_arn=arn,
                        reason=(
                            f"{change.actor.display}'s call turned no Block Public Access setting off for {where}, but "
                            f"{_join(off)} {'stays' if len(off) == 1 else 'stay'} off: IAM Warden's record of "
                            f"{taken} says {'it was' if len(off) == 1 else 'they were'} already off before it. "
                            "Not remediated; if this bucket was deleted and re-created since, or the settings turned "
                            "on while IAM Warden was not watching, they were on until this call."
                        ),
                        plan=[],
                        offending=[{"settings_off": off}],
                        needs_context=[
                            f"whether {_join(off)} of {where} were still off just before this call (IAM Warden's "
                            f"record is of {taken})"
                        ],
                    )
                )
            return evaluation
        needs_context: list[str] = []
        if turned_off:
            how = (
                f"deleted the Block Public Access configuration of {where}, which turned {_join(turned_off)} off"
                if deleted
                else f"turned off {_join(turned_off)} for {where}"
            )
        else:
            how = (
                f"deleted the Block Public Access configuration of {where}, which leaves all four settings off"
                if deleted
                else f"left {_join(off)} off for {where}"
            )
        if before is None:
            how += f"; which settings were on before is unknown ({unknown})"
            if not always and not all_off:
                needs_context.append(
                    f"the Block Public Access configuration of {where} before this call ({unknown}); "
                    "set rules/s3-public-access-block-disabled/all_four to always to turn every setting on regardless"
                )
        older = [name for name in restore if name not in turned_off]
        if older and before is not None:
            how += f" ({_join(older)} {'was' if len(older) == 1 else 'were'} already off before)"
        evaluation.findings.append(
            context.finding(
                S3_PUBLIC_ACCESS_BLOCK_DISABLED,
                severity=Severity.CRITICAL if parameters["scope"] == "account" else Severity.HIGH,
                resource_arn=arn,
                reason=f"{change.actor.display} {how}; public bucket policies and ACLs are no longer blocked there.",
                plan=[
                    RemediationStep(
                        RestorePublicAccessBlock.action,
                        arn,
                        {**parameters, "settings": list(restore)},
                        f"turn {_setting_words(restore)} back on for {where}",
                    )
                ],
                offending=[{"settings_off": off, **({"turned_off": turned_off} if before is not None else {})}],
                needs_context=needs_context,
            )
        )
        return evaluation


def _bucket_lifecycle(context: RuleContext) -> Evaluation:
    """``CreateBucket`` and ``DeleteBucket``: no verdict of their own, only the record the bucket's next Block Public
    Access call is judged against (issue 13 item 7). A new bucket has all four settings on: S3 turns them on for every
    bucket created since April 2023, and ``CreateBucket`` has no parameter to say otherwise (AWS News Blog, "Heads-Up:
    Amazon S3 Security Changes Are Coming in April of 2023": "All four of the bucket-level settings ... will be enabled
    for newly created buckets"; AWS Prescriptive Guidance ACCT.08: "Buckets created on or after April 28, 2023 have
    the Block Public Access setting enabled by default"). In us-east-1 a create may be of a bucket the caller owns
    already, which keeps its settings: nothing is recorded there (the record, if any, stays; the heartbeat reads the
    bucket in turn). A deleted bucket's record is forgotten: a bucket of the same name created later is another
    bucket, and what the old one had says nothing about it. A failed call (errorCode) never reaches the rule."""
    change = context.change
    bucket = context.request_text("bucketName")
    arn = bucket_arn(context.partition, bucket)
    evaluation = Evaluation(resource_arn=arn)
    if change.event_name == "CreateBucket":
        if change.region == _RECREATE_SUCCEEDS_IN:
            evaluation.compliant.append(
                f"bucket {bucket} created in {change.region}, where a create may be of a bucket its caller owns "
                "already: its Block Public Access is read by the heartbeat, not assumed"
            )
            return evaluation
        data: dict[str, Any] = {"configuration": dict(ALL_BLOCKED), "account": change.account}
        evaluation.compliant.append(f"bucket {bucket} created with all four Block Public Access settings on")
    else:
        data = {"deleted": True, "account": change.account}
        evaluation.compliant.append(f"bucket {bucket} deleted: IAM Warden forgets its Block Public Access record")
    if context.recorded is not None:
        evaluation.observed.append(
            Snapshot(
                PUBLIC_ACCESS_BLOCK,
                arn,
                observed_at(change.time),
                data,
                whatever_the_verdict=True,
                ambiguous_within_instant=True,
            )
        )
    return evaluation


def _record_time(context: RuleContext, arn: str) -> str:
    """When the record the call is judged against was kept (for the alert's words)."""
    if context.recorded is None:
        return ""
    snapshot = context.recorded.snapshot(PUBLIC_ACCESS_BLOCK, arn)
    return snapshot.taken_at if snapshot is not None else ""


def _before(context: RuleContext, arn: str) -> tuple[dict[str, bool] | None, str]:
    """The configuration in force before the call, as the enforcer kept it from the last call it judged (None:
    no configuration, all four off), or None and why it is unknown: offline, never kept, kept in the call's own
    second or after it (CloudTrail times have one-second resolution: the order inside a second is unknown), two
    calls of one second set different states (``unusable``), kept for another account, or too old to trust."""
    if context.recorded is None:
        return None, "no record of earlier calls offline"
    snapshot = context.recorded.snapshot(PUBLIC_ACCESS_BLOCK, arn)
    if snapshot is None:
        return None, "IAM Warden has not seen an earlier Block Public Access call for it"
    if snapshot.unusable:
        return None, f"IAM Warden's last record of it, {snapshot.taken_at}, is of two calls in one second"
    if snapshot.data.get("deleted") is True:
        return None, f"the bucket was deleted at {snapshot.taken_at} and IAM Warden has no record of it since"
    if not snapshot.taken_before(context.change.time):
        return None, f"IAM Warden's last record of it, {snapshot.taken_at}, is not from before this call"
    if snapshot.data.get("account") != context.change.account:
        return None, "IAM Warden's last record of it was kept for another account"
    days = int(context.rule(S3_PUBLIC_ACCESS_BLOCK_DISABLED.id).choice("record_max_age_days"))
    taken, happened = instant(snapshot.taken_at), instant(context.change.time)
    if taken is None or happened is None or happened - taken > timedelta(days=days):
        return None, f"IAM Warden's last record of it, {snapshot.taken_at}, is older than {days} days"
    configuration = snapshot.data.get("configuration")
    if configuration is None:
        return dict.fromkeys(SETTINGS, False), ""
    if not isinstance(configuration, Mapping):
        return None, "IAM Warden's record of it does not read"
    return {name: configuration.get(name) is True for name in SETTINGS}, ""


def _setting_words(settings: Sequence[str]) -> str:
    return "all four Block Public Access settings" if len(settings) == len(SETTINGS) else _join(list(settings))


def _configuration(request: Mapping[str, Any]) -> dict[str, bool]:
    """The four settings of the request (CloudTrail gives booleans, or "true"/"false" strings)."""
    configuration = request.get("PublicAccessBlockConfiguration")
    field = "detail.requestParameters.PublicAccessBlockConfiguration"
    if not isinstance(configuration, Mapping):
        raise InvalidEventError(f"{field} must be an object, got {json_type_name(configuration)}")
    values: dict[str, bool] = {}
    for name in SETTINGS:
        value = configuration.get(name)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            value = value.lower() == "true"
        if value is not None and not isinstance(value, bool):
            raise InvalidEventError(f"{field}.{name} must be true or false, got {json_type_name(value)}")
        values[name] = bool(value)  # a setting left out of the request is off
    return values


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


class RestorePublicAccessBlock:
    """Turn back on the settings a call turned off (``settings``; all four in plans made before there was that
    parameter), for a bucket (S3) or the account (S3 Control), leaving the others as they are. Undoable.

    Undo puts back the configuration the remediation replaced: it turns off again the settings the remediation
    turned on (a setting changed since by someone else stays as it is), and deletes the configuration when there
    was none and nothing else is on.
    """

    # The IAM actions behind S3's Get/Put/DeletePublicAccessBlock calls (bucket) and S3 Control's (account).
    permissions: ClassVar[Permissions] = (
        "s3:GetBucketPublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
        "s3:GetAccountPublicAccessBlock",
        "s3:PutAccountPublicAccessBlock",
    )
    action: ClassVar[StepAction] = StepAction("restore_public_access_block", permissions)
    undo_permissions: ClassVar[Permissions] = (
        "s3:GetBucketPublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
        "s3:GetAccountPublicAccessBlock",
        "s3:PutAccountPublicAccessBlock",
    )
    undoable: ClassVar[bool] = True

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        try:
            return {"exists": True, "configuration": self._get(aws, step)}
        except Exception as exc:
            if is_gone(exc):
                return {"exists": False}
            raise

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["exists"]:
            return
        current = before["configuration"] or {}
        restore = _settings(step)
        missing = [name for name in restore if not current.get(name)]
        if not missing:
            return
        wanted = {name: bool(current.get(name)) or name in restore for name in SETTINGS}
        with ignoring():
            self._put(run.aws, step, wanted)
            done.append(f"turned {_setting_words(missing)} on for {self._where(step)}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not before["exists"]:
            return []
        previous = before["configuration"] or {}
        turned_on = [name for name in _settings(step) if not previous.get(name)]
        if not turned_on:
            return []
        where = self._where(step)
        try:
            current = self._get(aws, step)
        except Exception as exc:
            if is_gone(exc):
                raise UndoError(f"{where} no longer exists; its Block Public Access cannot be restored") from exc
            raise
        wanted = {name: bool((current or {}).get(name)) and name not in turned_on for name in SETTINGS}
        if before["configuration"] is None and not any(wanted.values()):
            if current is None:
                return []
            self._delete(aws, step)
            return [f"deleted the Block Public Access configuration of {where}, as there was none"]
        if current is not None and all(bool(current.get(n)) == wanted[n] for n in SETTINGS):
            return []
        self._put(aws, step, wanted)
        off = [name for name in turned_on if (current or {}).get(name)]
        return [f"turned {', '.join(off)} off again for {where}, as before"]

    def kept_after_undo(
        self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any], account: str, now: str
    ) -> Snapshot | None:
        """The configuration the undo left, read back live and dated ``now``: the rule's record of the state before
        the next call (review s12 F4: else a call re-applying what the undo put back reads as a turn-off)."""
        if not before["exists"]:
            return None
        return Snapshot(
            PUBLIC_ACCESS_BLOCK, step.target, now, {"configuration": self._get(aws, step), "account": account}
        )

    @staticmethod
    def _where(step: RemediationStep) -> str:
        if step.parameters["scope"] == "account":
            return f"account {step.parameters['account_id']}"
        return f"bucket {step.parameters['bucket']}"

    @staticmethod
    def _get(aws: AccountClients, step: RemediationStep) -> dict[str, bool] | None:
        try:
            if step.parameters["scope"] == "account":
                answer = aws.s3control.get_public_access_block(AccountId=step.parameters["account_id"])
            else:
                answer = aws.s3.get_public_access_block(Bucket=step.parameters["bucket"])
        except Exception as exc:
            if error_code(exc) == _NO_CONFIGURATION:
                return None
            raise
        configuration = answer["PublicAccessBlockConfiguration"]
        return {name: bool(configuration.get(name, False)) for name in SETTINGS}

    @staticmethod
    def _put(aws: AccountClients, step: RemediationStep, configuration: Mapping[str, bool]) -> None:
        if step.parameters["scope"] == "account":
            aws.s3control.put_public_access_block(
                AccountId=step.parameters["account_id"], PublicAccessBlockConfiguration=dict(configuration)
            )
        else:
            aws.s3.put_public_access_block(
                Bucket=step.parameters["bucket"], PublicAccessBlockConfiguration=dict(configuration)
            )

    @staticmethod
    def _delete(aws: AccountClients, step: RemediationStep) -> None:
        if step.parameters["scope"] == "account":
            aws.s3control.delete_public_access_block(AccountId=step.parameters["account_id"])
        else:
            aws.s3.delete_public_access_block(Bucket=step.parameters["bucket"])


def _settings(step: RemediationStep) -> tuple[str, ...]:
    """The settings the step turns on: those it names (known ones only), or all four in a plan without the list."""
    named = step.parameters.get("settings")
    if not isinstance(named, list):
        return SETTINGS
    return tuple(name for name in SETTINGS if name in named)


GUARDRAILS = (PublicAccessBlockRule(),)
ACTIONS = (RestorePublicAccessBlock(),)
