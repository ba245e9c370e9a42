"""Prune notices through the alert channels: the security channel always, each owning team once.

The pruner announces a frozen plan (what goes, and on which date), reports
what it applied, and tells owners how to roll back when a pruned role is
denied something. Those notices travel the same channels as findings: the
security topic and Slack webhook, plus the destinations configured for each
owner team (``alerts/teams/<team>/...``). SNS subscribers can filter them
with ``rule = prune``. Like the dispatcher, sending never raises: failures are
returned in the ``DeliveryReport`` (and logged by the caller).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from iamwarden.alerts.settings import AlertSettings, Destination, parse_alert_settings, security_destination
from iamwarden.domain.delivery import Delivery, DeliveryReport
from iamwarden.domain.exceptions import IamWardenError
from iamwarden.prune.domain.notices import NoticeKind, PruneNotice

#: How urgent each kind of notice is, for SNS filter policies on ``severity``.
NOTICE_SEVERITY = {
    NoticeKind.PLANNED: "low",
    NoticeKind.NOT_APPLIED: "low",
    NoticeKind.APPLIED: "medium",
    NoticeKind.FAILED: "high",
    NoticeKind.ACCESS_DENIED: "high",
    NoticeKind.TAMPERED: "critical",
    NoticeKind.EXEMPTED: "medium",
    NoticeKind.RUN_SUMMARY: "low",
    NoticeKind.RUN_ERRORS: "high",
}
_TITLES = {
    NoticeKind.PLANNED: "Unused permissions will be removed",
    NoticeKind.NOT_APPLIED: "Planned permission removal not applied",
    NoticeKind.APPLIED: "Unused permissions removed",
    NoticeKind.FAILED: "Permission removal failed",
    NoticeKind.ACCESS_DENIED: "A pruned role was denied access",
    NoticeKind.TAMPERED: "A stored prune plan was altered",
    NoticeKind.EXEMPTED: "A role exempted itself from pruning",
    NoticeKind.RUN_SUMMARY: "Pruner run summary",
    NoticeKind.RUN_ERRORS: "Pruner run summary, with errors",
}
#: Slack's limit for a section's text is 3,000 characters; a diff longer than this is cut with a pointer.
_SECTION_LIMIT = 2_900


def notice_text(notice: PruneNotice) -> str:
    """The readable form (e-mail, the SNS default, Slack's fallback)."""
    lines = [f"[{NOTICE_SEVERITY[notice.kind].upper()}] {_TITLES[notice.kind]}: {_about(notice)}", "", notice.summary]
    if notice.apply_on:
        lines += ["", f"Applies on: {notice.apply_on} (only if the role's policies are unchanged by then)"]
    if notice.diff:
        lines += ["", "What changes:", notice.diff]
    if notice.rollback_command:
        lines += ["", f"To put it back: {notice.rollback_command}"]
    lines += ["", f"Account: {notice.account}"] + ([f"Plan: {notice.plan_id}"] if notice.plan_id else [])
    if notice.owners:
        lines.append(f"Owners: {', '.join(notice.owners)}")
    return "\n".join(lines)


def _about(notice: PruneNotice) -> str:
    """What a notice is about: its role, or for a run summary (no role) the account the pruner runs in."""
    return notice.role_arn or f"account {notice.account}"


def slack_payload(notice: PruneNotice) -> dict[str, Any]:
    """Block Kit built with slack_sdk's models, so Slack's limits are checked before sending."""
    from slack_sdk.models.blocks import (  # noqa: PLC0415 - slack_sdk only with the first Slack notice
        ContextBlock,
        HeaderBlock,
        MarkdownTextObject,
        SectionBlock,
    )

    from iamwarden.adapters.slack import escape  # noqa: PLC0415 - as the enforcer's alerts escape (s15 review R2)

    # Any text from a role or an error may hold Slack's mrkdwn controls: an IAM path may hold any of ! to ~, so
    # "<!channel>" or "<https://...|Approve>" (review s15 R2). Everything interpolated is escaped (&, <, >) and a
    # backtick cannot end a code span; the e-mail and SNS text stays plain (notice_text).
    severity = NOTICE_SEVERITY[notice.kind]
    blocks: list[Any] = [
        HeaderBlock(text=f"{_TITLES[notice.kind]} ({severity})"[:150]),
        SectionBlock(text=MarkdownTextObject(text=_cut(f"{_role_line(notice)}{escape(notice.summary)}"))),
    ]
    if notice.apply_on:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*Applies on:* {escape(notice.apply_on)}")))
    if notice.diff:
        diff = escape(notice.diff).replace("```", "'''")
        if len(diff) > _SECTION_LIMIT - 200:
            pointer = f"\n… truncated: the full diff is {_code(f'iamwarden prune plan {notice.role_arn}')}"
            diff = _cut(diff, _SECTION_LIMIT - 200) + pointer
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*What changes:*\n```{diff}```")))
    footer = [f"Plan {_code(notice.plan_id)}"] if notice.plan_id else []  # an EXEMPTED notice has no plan
    footer.append(f"account {escape(notice.account)}")
    if notice.rollback_command:
        footer.insert(0, f"Undo: {_code(notice.rollback_command)}")
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(footer))]))
    for block in blocks:
        block.validate_json()
    text = f"{_TITLES[notice.kind]}: {escape(_about(notice))}"  # the notification's text is mrkdwn too
    return {"text": text, "blocks": [block.to_dict() for block in blocks]}


def _code(value: str) -> str:
    """``value`` as a Slack code span it cannot end early (a backtick inside is shown as '), escaped."""
    from iamwarden.adapters.slack import escape  # noqa: PLC0415 - slack_sdk only with the first Slack notice

    return "`" + escape(value.replace("`", "'").replace("\n", " ")) + "`"


def _cut(text: str, limit: int = _SECTION_LIMIT) -> str:
    """Escaped ``text`` cut to ``limit`` characters, never in the middle of an escape (``&lt;``)."""
    if len(text) <= limit:
        return text
    kept = text[:limit]
    amp = kept.rfind("&", max(len(kept) - 5, 0))
    return kept[:amp] if amp != -1 and ";" not in kept[amp:] else kept


def _role_line(notice: PruneNotice) -> str:
    return f"*Role:* {_code(notice.role_arn)}\n" if notice.role_arn else ""


def sns_request(topic_arn: str, notice: PruneNotice) -> dict[str, Any]:
    text = notice_text(notice)
    body = json.dumps({"schema": "iamwarden.prune-notice/1", **notice.to_dict()}, sort_keys=True)
    subject = f"IAM Warden: {_TITLES[notice.kind]}".encode("ascii", "replace").decode()[:100]
    return {
        "TopicArn": topic_arn,
        "Subject": subject,
        "MessageStructure": "json",
        "Message": json.dumps({"default": text, "email": text, "sqs": body, "lambda": body, "https": body}),
        "MessageAttributes": {
            "rule": {"DataType": "String", "StringValue": "prune"},
            "severity": {"DataType": "String", "StringValue": NOTICE_SEVERITY[notice.kind]},
            "account": {"DataType": "String", "StringValue": notice.account},
            "outcome": {"DataType": "String", "StringValue": f"prune_{notice.kind.value}"},
        },
    }


class AlertChannelNoticeSender:
    """Sends prune notices to the security channel and to each owner team's destinations, once each."""

    def __init__(
        self,
        *,
        security: Destination,
        settings: Callable[[], AlertSettings],
        sns_client: Callable[[str], Any],
        slack: Callable[[], Any] | None,
    ) -> None:
        self.security = security
        self._settings = settings
        self._sns_client = sns_client
        self._slack = slack

    def send(self, notice: PruneNotice) -> DeliveryReport:
        try:
            settings = self._settings()
        except Exception:  # unreadable alert settings: the security channel still hears of it
            settings = AlertSettings()
        destinations = [self.security]
        destinations += [d for d in (settings.destination_of(team) for team in notice.owners) if d is not None]
        deliveries: list[Delivery] = []
        seen: set[str] = set()
        for destination in destinations:
            if destination.sns_topic_arn and f"sns:{destination.sns_topic_arn}" not in seen:
                seen.add(f"sns:{destination.sns_topic_arn}")
                deliveries.append(self._publish(destination.sns_topic_arn, notice))
            if destination.slack_webhook and f"slack:{destination.slack_webhook}" not in seen:
                seen.add(f"slack:{destination.slack_webhook}")
                deliveries.append(self._post(destination.slack_webhook, notice))
        if not deliveries:
            deliveries.append(Delivery("none", ok=False, error="no alert channel is configured"))
        return DeliveryReport(tuple(deliveries))

    def _publish(self, topic_arn: str, notice: PruneNotice) -> Delivery:
        channel = f"sns:{topic_arn}"
        region = topic_arn.split(":")[3] if topic_arn.count(":") >= 5 else "us-east-1"
        try:
            self._sns_client(region).publish(**sns_request(topic_arn, notice))
        except Exception as exc:
            return Delivery(channel, ok=False, error=f"{type(exc).__name__}: {exc}")
        return Delivery(channel, ok=True)

    def _post(self, secret_name: str, notice: PruneNotice) -> Delivery:
        channel = f"slack:{secret_name}"
        if self._slack is None:
            return Delivery(channel, ok=False, error="no Slack sender")
        try:
            self._slack().send(secret_name, slack_payload(notice))
        except IamWardenError as exc:  # DeliveryError: its message never holds the webhook URL
            return Delivery(channel, ok=False, error=str(exc))
        except Exception as exc:
            return Delivery(channel, ok=False, error=type(exc).__name__)
        return Delivery(channel, ok=True)


def build_prune_notice_sender(
    factory: Any, *, parameters: Callable[[], Mapping[str, Any]], environ: Mapping[str, str] | None = None
) -> AlertChannelNoticeSender:
    """The sender the pruner's functions use: the security channel from the environment (as the enforcer),
    team destinations from the ``alerts/`` settings read through ``parameters`` (relative SSM names)."""
    sender: list[Any] = []

    def slack() -> Any:
        if not sender:
            from iamwarden.adapters.slack import (  # noqa: PLC0415 - slack_sdk only with the first Slack notice
                SecretWebhookUrls,
                SlackWebhookSender,
            )

            sender.append(SlackWebhookSender(SecretWebhookUrls(factory)))
        return sender[0]

    return AlertChannelNoticeSender(
        security=security_destination(environ),
        settings=lambda: parse_alert_settings(parameters())[0],
        sns_client=lambda region: factory.home_client("sns", region),
        slack=slack,
    )
