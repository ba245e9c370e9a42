"""``prune-exemption-granted``: a role exempted from the permission pruner by someone who is not an operator.

The pruner (``iamwarden.prune``) skips a role tagged ``iamwarden:prune-exempt-until`` = ``YYYY-MM-DD`` until the
earlier of that date and ``max_exempt_days`` after the day it first saw the tag on the role (its ledger keeps that
day). Whoever may tag a role can so keep its unused permissions: an intruder's foothold exempted from the one
process that would take them away (issue 15). The tag is IAM's: ``iam:TagRole`` sets it on a role, ``iam:CreateRole``
on a new one; CloudTrail records the request's ``roleName`` and ``tags`` (``key``/``value``).

The tag's name, the cap and the notice are the pruner's own settings (``prune/exempt_tag``, ``max_exempt_days``,
``notice_days``: ``Settings.prune_tag``, read from the same SSM tree with the same parsers), so a custom tag name is
watched and the default one then is not; offline with no settings the defaults are assumed, and the finding says so.
An exemption beyond the cap is told as the pruner will read it: until the cap, not the tag's date.

``UntagRole`` of the exempt tag by a non-operator is a low alert to the role's owners: the pruner may judge the role
again on its next run (nothing to remediate: the value removed is not in the record).

The key and the value are read as the pruner reads them (``iamwarden.domain.prune_tag``: the exact key, the same
date parser), so the rule alerts the exemptions the pruner grants. A tag that sets a future date, by a caller not
matched by ``rules/iamwarden-tampered/operators``, is a finding (medium). A change CloudFormation made
(``invokedBy``) gets no operator pass: it acts with whoever deployed any stack, so an operator's deploy role would
let every stack exempt roles. A value that is no date, or a date already past, exempts nothing (compliant); nor
does any tag where the pruner does not act (``prune/enabled`` off, or ``prune/accounts`` not naming the account), as
for ``UntagRole``: should the pruner later act there, it tells the security channel when it first skips the role
for the tag. A key in another case is a low note: the pruner reads the exact key, so it exempts only if IAM kept the
role's existing key's case (IAM keys are unique case-insensitively), which the record does not say.

Remediation: only ``CreateRole``'s tag is removed (``UntagRole``): the role is new, so the tag was not there before
and removing it takes away only what the change added. A ``TagRole`` record does not say whether the role already
held the tag (an operator's earlier exemption, re-applied or overwritten): removing it would act on a guess, so
that finding is alert-only (``needs_context``). The live tag is read first (``ListRoleTags``); undo tags the role
with it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, ClassVar

from iamwarden.adapters.errors import is_gone
from iamwarden.domain.catalog import RuleSpec, Severity
from iamwarden.domain.events import CloudTrailChange
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.prune_tag import EXEMPT_TAG, MAX_EXEMPT_DAYS, PruneTagSettings, tag_date
from iamwarden.domain.rule_exceptions import operator_pattern
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.remediation import AccountClients, Permissions, StepRun

__all__ = ["EXEMPT_TAG", "MAX_EXEMPT_DAYS", "PRUNE_EXEMPTION_GRANTED", "exempt_tag_set", "tag_date"]

#: Whose ``operators`` patterns say who may exempt a role: the same people who may change IAM Warden's settings.
OPERATORS_RULE = "iamwarden-tampered"
#: The service CloudTrail names in ``invokedBy`` when CloudFormation made the call with its caller's credentials.
CLOUDFORMATION = "cloudformation.amazonaws.com"
#: Why a ``TagRole`` finding is never remediated (review s13 prunex F1).
UNKNOWN_BEFORE = "the role's exemption tag before this call is unknown: removing it may remove an operator's exemption"

PRUNE_EXEMPTION_GRANTED = RuleSpec(
    id="prune-exemption-granted",
    title="Role exempted from permission pruning by someone not an operator",
    event_source="iam.amazonaws.com",
    event_names=frozenset({"TagRole", "CreateRole", "UntagRole"}),
    risk=(
        f"The tag {EXEMPT_TAG} makes the permission pruner skip a role: whoever may tag roles can keep a role's "
        "unused permissions, an intruder's foothold among them, out of the pruner's reach."
    ),
    alert_risk=(
        "This tag makes IAM Warden's permission pruner leave the role's unused permissions in place; only the "
        "operators are expected to grant that."
    ),
)


def exempt_tag_set(request: Mapping[str, Any], exempt_tag: str = EXEMPT_TAG) -> tuple[str, str] | None:
    """The key (as sent) and value a request's ``tags`` set for ``exempt_tag`` (the pruner's ``prune/exempt_tag``),
    or None when it sets none.

    The exact key first (what the pruner reads); else a key equal to it in another case (IAM rejects a request
    holding both, so at most one of each kind is there)."""
    tags = request.get("tags")
    exact: tuple[str, str] | None = None
    other: tuple[str, str] | None = None
    for tag in tags if isinstance(tags, list) else ():
        if not isinstance(tag, Mapping):
            continue
        key, value = tag.get("key"), tag.get("value")
        if not isinstance(key, str) or key.casefold() != exempt_tag.casefold():
            continue
        found = (key, value if isinstance(value, str) else "")
        if key == exempt_tag:
            exact = found
        else:
            other = found
    return exact or other


def _event_day(time: str) -> date | None:
    try:
        return date.fromisoformat(time[:10])
    except ValueError:
        return None


class PruneExemptionRule:
    """Role tags that exempt a role from pruning, set (or taken off) by anyone but the operators."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (PRUNE_EXEMPTION_GRANTED,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        pruner = context.settings.prune_tag
        exempt_tag = pruner.exempt_tag
        role = context.request_text("roleName")
        arn = f"arn:{context.partition}:iam::{change.account}:role/{role}"
        evaluation = Evaluation(resource_arn=arn)
        if change.event_name == "UntagRole":
            return self._untagged(context, evaluation, role, arn)
        tag = exempt_tag_set(change.request_parameters, exempt_tag)
        if tag is None:
            evaluation.compliant.append(f"no {exempt_tag} tag set on role {role}{_assumed(pruner)}")
            return evaluation
        key, value = tag
        until = tag_date(value)
        if until is None:
            evaluation.compliant.append(
                f"tag {key}={value!r} on role {role} is no YYYY-MM-DD date: the pruner grants no exemption for it"
            )
            return evaluation
        day = _event_day(change.time)
        if day is not None and until < day:
            evaluation.compliant.append(
                f"tag {key}={value} on role {role} is a date already past: it exempts nothing (the pruner skips a "
                "role only until that date)"
            )
            return evaluation
        created = change.event_name == "CreateRole"
        if key != exempt_tag and created:
            evaluation.compliant.append(
                f"tag {key} on new role {role} is not the pruner's {exempt_tag} (the pruner reads the key exactly): "
                "it exempts nothing"
            )
            return evaluation
        actor = change.actor
        if self._by_operator(context, evaluation, f"exempted role {role} from pruning until {value}"):
            return evaluation
        idle = _pruner_idle(pruner, change.account, context.settings.own.home_account)
        through = _through(actor.invoked_by == CLOUDFORMATION)
        if idle and not created:  # review s15 R5: a low note, never compliant: it exempts once the pruner acts here
            evaluation.findings.append(
                context.finding(
                    PRUNE_EXEMPTION_GRANTED,
                    severity=Severity.LOW,
                    resource_arn=arn,
                    reason=(
                        f"{actor.display}{through} tagged role {role} {key}={value} (an exemption from pruning), while "
                        f"{idle}: the tag exempts the role from nothing now, but it will once the pruner acts here "
                        "(its first skip for the tag then tells the security channel and the owners, without who "
                        f"set it: this alert is the record of who did). Alert only.{_assumed(pruner)}"
                    ),
                    plan=[],
                    offending=[{"role": role, "key": key, "value": value, "until": until.isoformat()}],
                    needs_context=(UNKNOWN_BEFORE,),
                )
            )
            return evaluation
        add_operator = f"Add the caller to rules/{OPERATORS_RULE}/operators if they may grant exemptions."
        held = until if day is None else min(until, day + timedelta(days=pruner.max_exempt_days))
        offending = {
            "role": role,
            "key": key,
            "value": value,
            "until": until.isoformat(),
            "holds_until": held.isoformat(),
            "capped": held < until,
        }
        if key != exempt_tag:
            evaluation.findings.append(
                context.finding(
                    PRUNE_EXEMPTION_GRANTED,
                    severity=Severity.LOW,
                    resource_arn=arn,
                    reason=(
                        f"{actor.display}{through} tagged role {role} with {key}={value}, the pruner's {exempt_tag} "
                        "in another case. The pruner reads the key exactly: this exempts the role from pruning "
                        f"until {held.isoformat()} only if the role already held {exempt_tag} and IAM kept that "
                        f"key's case. {add_operator}{_assumed(pruner)}"
                    ),
                    plan=[],
                    offending=[offending],
                    needs_context=("the case of the role's existing tag key, which the record does not say",),
                )
            )
            return evaluation
        what = "created role" if created else "exempted role"
        reason = (
            f"{actor.display}{through} {what} {role} "
            f"{'exempt ' if created else ''}from permission pruning until {until.isoformat()} (tag {key}). "
            f"{_holds(until, held, pruner.max_exempt_days)} {add_operator}"
        )
        # IAM Warden may remove the default tag only (its grant names it, tools/generate.py RemovePruneExemptTags).
        removable = key.casefold() == EXEMPT_TAG.casefold()
        if created and not removable:
            reason += (
                f" Not removed (alert only): IAM Warden's grant lets it remove only the tag {EXEMPT_TAG} "
                "(iam:UntagRole with aws:TagKeys, statement RemovePruneExemptTags); the grant is fixed when the stack "
                f"is deployed, so it does not follow prune/exempt_tag. If the exemption is not wanted, remove it: "
                f"aws iam untag-role --role-name {role} --tag-keys {key}"
            )
        if idle:  # a new role's tag: removed all the same (it held none before), as the pruner may act here later
            reason += (
                f" The pruner is idle here now ({idle}), so the tag exempts nothing today; it would once the pruner "
                "acts here."
            )
        reason += _assumed(pruner)
        plan = [
            RemediationStep(
                RemoveRoleTag.action,
                arn,
                {"role_name": role, "key": key, "value": value, **_created_role_id(change)},
                f"remove tag {key} from role {role} (undo: tag it again with {value})",
            )
        ]
        evaluation.findings.append(
            context.finding(
                PRUNE_EXEMPTION_GRANTED,
                severity=Severity.MEDIUM,
                resource_arn=arn,
                reason=reason,
                plan=plan if removable or not created else [],
                offending=[offending],
                # A new role held no tag before; a TagRole record does not say what the role held (F1).
                needs_context=() if created else (UNKNOWN_BEFORE,),
            )
        )
        return evaluation

    def _untagged(self, context: RuleContext, evaluation: Evaluation, role: str, arn: str) -> Evaluation:
        """``UntagRole`` of the exempt tag: the pruner may judge the role again; its owners are told (low, alert only:
        the tag's value is gone from the record, and putting an exemption back is the operators' call). Keys the
        record does not list readably are unknown, never compliant (review s14 F3); where the pruner does not act
        (off, or not managing the account) removing the tag changes nothing (F2)."""
        pruner = context.settings.prune_tag
        change = context.change
        keys = change.request_parameters.get("tagKeys")
        readable = isinstance(keys, list) and all(isinstance(item, str) for item in keys)
        key = next(
            (
                item
                for item in (keys if isinstance(keys, list) else ())
                if isinstance(item, str) and item.casefold() == pruner.exempt_tag.casefold()
            ),
            None,
        )
        if key is None and readable:
            evaluation.compliant.append(f"no {pruner.exempt_tag} tag removed from role {role}{_assumed(pruner)}")
            return evaluation
        removed = f"tag {key}" if key is not None else "tags"
        actor = change.actor
        if self._by_operator(context, evaluation, f"removed {removed} from role {role}"):
            return evaluation
        idle = _pruner_idle(pruner, change.account, context.settings.own.home_account)
        if idle:
            evaluation.compliant.append(
                f"{actor.display} removed {removed} from role {role}, but {idle}: removing the pruner's exempt tag "
                "lets it do nothing there"
            )
            return evaluation
        mode = pruner.mode_for(change.account)
        if mode == "report":
            act = (
                f"the pruner may now record a plan to remove unused actions from {role} on its next run (report mode "
                f"in account {change.account}: nothing is announced or removed)"
            )
        else:
            applied = "applied on that date" if mode == "enforce" else "not applied"
            act = (
                f"the pruner may now remove unused actions from {role} on its next run, announced "
                f"{pruner.notice_days} days ahead ({mode} mode in account {change.account}: {applied})"
            )
        cancel = "" if mode == "report" else ", or cancels the announced plan"
        through = _through(actor.invoked_by == CLOUDFORMATION)
        what = f"removed {removed} from role {role}: {act}"
        needs: tuple[str, ...] = ()
        if key is None:
            what = (
                f"removed tags from role {role}, but the record does not list the removed tag keys in a form IAM "
                f"Warden reads (tagKeys: {keys!r}): if one was {pruner.exempt_tag}, {act}"
            )
            needs = ("which tag keys were removed: the record's tagKeys is no list of key names",)
        evaluation.findings.append(
            context.finding(
                PRUNE_EXEMPTION_GRANTED,
                severity=Severity.LOW,
                resource_arn=arn,
                reason=(
                    f"{actor.display}{through} {what}. If the tag's date had already passed, "
                    "nothing changes (the record does not hold its value). If the role must keep them, an operator "
                    f"tags it {pruner.exempt_tag}=YYYY-MM-DD again (an exemption lasts at most max_exempt_days, "
                    f"{pruner.max_exempt_days}, from the day the pruner first saw the tag on the role){cancel}."
                    f"{_assumed(pruner)}"
                ),
                plan=[],
                offending=[{"role": role, "key": key}] if key is not None else [{"role": role, "tag_keys": keys}],
                needs_context=needs,
            )
        )
        return evaluation

    def _by_operator(self, context: RuleContext, evaluation: Evaluation, did: str) -> bool:
        """Whether an operator made the change (then ``did`` is told compliant): the one operator pass of TagRole,
        CreateRole and UntagRole."""
        operator = self._operator(context)
        if operator is None:
            return False
        evaluation.compliant.append(f"{context.change.actor.display} is an operator ({operator!r}) and {did}")
        return True

    @staticmethod
    def _operator(context: RuleContext) -> str | None:
        """The ``operators`` pattern the caller (its ARN or its session's issuer) matches, or None. A change
        CloudFormation made (``invokedBy``) gets no operator pass: it acts with whoever deployed any stack."""
        actor = context.change.actor
        if actor.invoked_by == CLOUDFORMATION:
            return None
        operators = context.rule(OPERATORS_RULE).patterns("operators")
        return next(
            (
                pattern
                for identity in (actor.arn, actor.session_issuer_arn)
                if identity
                for pattern in (operator_pattern(identity, operators),)
                if pattern is not None
            ),
            None,
        )


def _through(cloudformation: bool) -> str:
    return (
        " through CloudFormation (a stack's change gets no operator pass: CloudFormation acts with whoever "
        "deployed the stack, whatever stack it is)"
        if cloudformation
        else ""
    )


def _holds(until: date, held: date, max_days: int) -> str:
    """How long the pruner really skips the role: the tag's date, capped at ``max_exempt_days`` from the day it first
    sees the tag (``decide.exempt_until``); counted here from the call's day, the pruner's next run may be a day
    later, and a tag it saw on the role before starts the count earlier."""
    cap = (
        f"max_exempt_days ({max_days}) counted from the day the pruner first sees the tag on the role (its next run, "
        "or earlier if it saw the tag there before)"
    )
    if held < until:
        return (
            f"The pruner reads it as exempting the role until about {held.isoformat()} only, not "
            f"{until.isoformat()}: an exemption lasts at most {cap}."
        )
    return f"The pruner skips it until {until.isoformat()}, or sooner: an exemption lasts at most {cap}."


def _pruner_idle(pruner: PruneTagSettings, account: str, home_account: str | None) -> str:
    """Why the pruner does not act on ``account``'s roles at all, or "" (it does, or that is unknown)."""
    if not pruner.enabled:
        return "the pruner is off (prune/enabled)"
    if pruner.manages(account, home_account) is False:
        return f"the pruner does not manage account {account} (prune/accounts)"
    return ""


def _assumed(pruner: PruneTagSettings) -> str:
    """What the verdict assumed when no pruner setting was read (offline: no settings file, or no pruner section)."""
    if pruner.known:
        return ""
    return (
        f" (assumed: no pruner settings (prune/...) were read, so its defaults: exempt_tag {pruner.exempt_tag}, "
        f"max_exempt_days {pruner.max_exempt_days}, notice_days {pruner.notice_days})"
    )


def _created_role_id(change: CloudTrailChange) -> dict[str, str]:
    """The RoleId ``CreateRole`` answered (``responseElements.role.roleId``), for a remediation that must act on that
    role only: a retried or replayed event must not untag a role deleted and re-created under the name since
    (review s13 R5). Empty for ``TagRole``."""
    if change.event_name != "CreateRole":
        return {}
    role = (change.response_elements or {}).get("role")
    role_id = role.get("roleId") if isinstance(role, Mapping) else None
    return {"role_id": role_id} if isinstance(role_id, str) and role_id else {}


def _live_tag(aws: AccountClients, role: str, key: str) -> tuple[str, str] | None:
    """The role's tag whose key is ``key`` whatever its case, as (key, value); None when it has none.

    Raises what IAM raises, ``NoSuchEntity`` for a role gone included: the callers decide what gone means."""
    tags = aws.iam.list_role_tags(RoleName=role).get("Tags", [])
    return next(((t["Key"], t["Value"]) for t in tags if str(t["Key"]).casefold() == key.casefold()), None)


class RemoveRoleTag:
    """Remove the exempt tag a ``TagRole`` set, while the role holds the value it set; undo tags the role again."""

    permissions: ClassVar[Permissions] = ("iam:GetRole", "iam:ListRoleTags", "iam:UntagRole")
    action: ClassVar[StepAction] = StepAction("remove_role_tag", permissions)
    undo_permissions: ClassVar[Permissions] = ("iam:ListRoleTags", "iam:TagRole")
    undoable: ClassVar[bool] = True

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        try:
            expected = step.parameters.get("role_id")
            if expected is not None:
                live_id = aws.iam.get_role(RoleName=step.parameters["role_name"])["Role"]["RoleId"]
                if live_id != expected:
                    return {"tag": None, "other_role": live_id}  # re-created since: another role, left alone
            live = _live_tag(aws, step.parameters["role_name"], step.parameters["key"])
        except Exception as exc:
            if is_gone(exc):
                return {"tag": None}
            raise
        return {"tag": {"key": live[0], "value": live[1]} if live is not None else None}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        live = before["tag"]
        if live is None or live["value"] != step.parameters["value"]:
            return  # gone already, or set again since the event (someone else's change, kept)
        role = step.parameters["role_name"]
        try:
            run.aws.iam.untag_role(RoleName=role, TagKeys=[live["key"]])
        except Exception as exc:
            if is_gone(exc):
                return
            raise
        done.append(f"removed tag {live['key']}={live['value']} from role {role}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        tag = before["tag"]
        if tag is None or tag["value"] != step.parameters["value"]:
            return []  # apply removed nothing
        role = step.parameters["role_name"]
        try:
            now = _live_tag(aws, role, tag["key"])
        except Exception as exc:
            if is_gone(exc):
                raise UndoError(f"role {role} no longer exists") from exc
            raise
        if now is not None and now[1] == tag["value"]:
            return []
        if now is not None:
            raise UndoError(f"tag {now[0]} of role {role} changed since (now {now[1]}); set it by hand")
        aws.iam.tag_role(RoleName=role, Tags=[{"Key": tag["key"], "Value": tag["value"]}])
        return [f"tagged role {role} with {tag['key']}={tag['value']} again"]


GUARDRAILS = (PruneExemptionRule(),)
ACTIONS = (RemoveRoleTag(),)
