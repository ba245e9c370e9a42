"""``prune-exemption-granted``: a role exempted from the permission pruner by someone who is not an operator.

The pruner (``iamwarden.prune``) skips a role tagged ``iamwarden:prune-exempt-until`` = ``YYYY-MM-DD`` until the
earlier of that date and ``max_exempt_days`` after the day it first saw the tag on the role (its ledger keeps that
day). Whoever may tag a role can so keep its unused permissions: an intruder's foothold exempted from the one
process that would take them away (issue 15). The tag is IAM's, so ``iam:TagRole`` sets it, and CloudTrail records
the request's ``roleName`` and ``tags`` (``key``/``value``); the response is empty.

A ``TagRole`` setting that key (IAM tag keys are unique case-insensitively, so ``IAMWarden:Prune-Exempt-Until``
is the same tag) by a caller not matched by ``rules/iamwarden-tampered/operators`` is a finding (medium): the alert
says who exempted which role until when. A value that is no ``YYYY-MM-DD`` date exempts nothing (the pruner says
so in its plan) and is compliant; so is an operator's tag. Other keys are not looked at.

In ``remediate`` mode the plan removes exactly that key (``UntagRole``), while the role still holds the value the
event set (a later change is kept): the event does not say what value the tag had before, and IAM Warden keeps no
record of role tags, so the role goes back to not exempt, which only lets the pruner judge it again. The live tag
is read first (``ListRoleTags``); undo tags the role with it again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar

from iamwarden.adapters.errors import is_gone
from iamwarden.domain.catalog import RuleSpec, Severity
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.rule_exceptions import operator_pattern
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.remediation import AccountClients, Permissions, StepRun

#: The pruner's exempt tag (``PruneSettings.exempt_tag``'s default; a test holds the two equal).
EXEMPT_TAG = "iamwarden:prune-exempt-until"
#: The pruner's cap on an exemption (``PruneSettings.max_exempt_days``'s default), as the alert tells it.
MAX_EXEMPT_DAYS = 90
#: Whose ``operators`` patterns say who may exempt a role: the same people who may change IAM Warden's settings.
OPERATORS_RULE = "iamwarden-tampered"

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

PRUNE_EXEMPTION_GRANTED = RuleSpec(
    id="prune-exemption-granted",
    title="Role exempted from permission pruning by someone not an operator",
    event_source="iam.amazonaws.com",
    event_names=frozenset({"TagRole"}),
    risk=(
        f"The tag {EXEMPT_TAG} makes the permission pruner skip a role: whoever may tag roles can keep a role's "
        "unused permissions, an intruder's foothold among them, out of the pruner's reach."
    ),
    alert_risk=(
        "This tag makes IAM Warden's permission pruner leave the role's unused permissions in place; only the "
        "operators are expected to grant that."
    ),
)


def tag_date(value: str) -> date | None:
    """A ``YYYY-MM-DD`` date, nothing else: what the pruner takes as an exemption (``prune.domain.decide``)."""
    text = value.strip()
    if not _DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def exempt_tag_set(request: Mapping[str, Any]) -> tuple[str, str] | None:
    """The key (as sent) and value a ``TagRole`` request sets for the exempt tag, or None when it sets none."""
    tags = request.get("tags")
    found: tuple[str, str] | None = None
    for tag in tags if isinstance(tags, list) else ():
        if not isinstance(tag, Mapping):
            continue
        key, value = tag.get("key"), tag.get("value")
        if isinstance(key, str) and key.casefold() == EXEMPT_TAG.casefold():
            found = (key, value if isinstance(value, str) else "")
    return found


class PruneExemptionRule:
    """Role tags that exempt a role from pruning, set by anyone but the operators."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (PRUNE_EXEMPTION_GRANTED,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        role = context.request_text("roleName")
        arn = f"arn:{context.partition}:iam::{change.account}:role/{role}"
        evaluation = Evaluation(resource_arn=arn)
        tag = exempt_tag_set(change.request_parameters)
        if tag is None:
            evaluation.compliant.append(f"no {EXEMPT_TAG} tag set on role {role}")
            return evaluation
        key, value = tag
        until = tag_date(value)
        if until is None:
            evaluation.compliant.append(
                f"tag {key}={value!r} on role {role} is no YYYY-MM-DD date: the pruner grants no exemption for it"
            )
            return evaluation
        actor = change.actor
        operators = context.rule(OPERATORS_RULE).patterns("operators")
        operator = next(
            (
                pattern
                for identity in (actor.arn, actor.session_issuer_arn)
                if identity
                for pattern in (operator_pattern(identity, operators),)
                if pattern is not None
            ),
            None,
        )
        if operator is not None:
            evaluation.compliant.append(
                f"{actor.display} is an operator ({operator!r}) and exempted role {role} from pruning until {value}"
            )
            return evaluation
        reason = (
            f"{actor.display} exempted role {role} from permission pruning until {until.isoformat()} (tag {key}). "
            f"The pruner skips it until the earlier of {until.isoformat()} and max_exempt_days "
            f"({MAX_EXEMPT_DAYS} unless set otherwise) after the day it first saw the tag on this role. "
            f"Add the caller to rules/{OPERATORS_RULE}/operators if they may grant exemptions."
        )
        evaluation.findings.append(
            context.finding(
                PRUNE_EXEMPTION_GRANTED,
                severity=Severity.MEDIUM,
                resource_arn=arn,
                reason=reason,
                plan=[
                    RemediationStep(
                        RemoveRoleTag.action,
                        arn,
                        {"role_name": role, "key": key, "value": value},
                        f"remove tag {key} from role {role} (undo: tag it again with {value})",
                    )
                ],
                offending=[{"role": role, "key": key, "value": value, "until": until.isoformat()}],
            )
        )
        return evaluation


def _live_tag(aws: AccountClients, role: str, key: str) -> tuple[str, str] | None:
    """The role's tag whose key is ``key`` whatever its case, as (key, value); None when it has none.

    Raises what IAM raises, ``NoSuchEntity`` for a role gone included: the callers decide what gone means."""
    tags = aws.iam.list_role_tags(RoleName=role).get("Tags", [])
    return next(((t["Key"], t["Value"]) for t in tags if str(t["Key"]).casefold() == key.casefold()), None)


class RemoveRoleTag:
    """Remove the exempt tag a ``TagRole`` set, while the role holds the value it set; undo tags the role again."""

    permissions: ClassVar[Permissions] = ("iam:ListRoleTags", "iam:UntagRole")
    action: ClassVar[StepAction] = StepAction("remove_role_tag", permissions)
    undo_permissions: ClassVar[Permissions] = ("iam:ListRoleTags", "iam:TagRole")
    undoable: ClassVar[bool] = True

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        try:
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
