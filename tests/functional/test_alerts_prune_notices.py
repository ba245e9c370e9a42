"""Prune notices reach the security channel and each owner team once, through the alert channels."""

from __future__ import annotations

import json
from typing import Any

import pytest

from iamwarden.adapters.clients import ClientFactory
from iamwarden.alerts.settings import AlertSettings, Destination
from iamwarden.domain.exceptions import DeliveryError
from iamwarden.prune.adapters.alert_notices import (
    AlertChannelNoticeSender,
    build_prune_notice_sender,
    notice_text,
    slack_payload,
)
from iamwarden.prune.domain.notices import FanOutNoticeSender, LogNoticeSender, NoticeKind, PruneNotice
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.functional.conftest import Account

ROLE = f"arn:aws:iam::{HOME_ACCOUNT}:role/app-backend"


def _notice(
    kind: NoticeKind = NoticeKind.PLANNED,
    diff: str = "- s3:DeleteBucket\n- ec2:*",
    owners: tuple[str, ...] = ("payments",),
) -> PruneNotice:
    return PruneNotice(
        kind=kind,
        account=HOME_ACCOUNT,
        role_arn=ROLE,
        plan_id="plan-1a2b3c",
        owners=owners,
        summary="2 unused permissions of role app-backend will be removed.",
        diff=diff,
        apply_on="2026-11-28",
        rollback_command="iamwarden prune rollback plan-1a2b3c",
    )


class RecordingSlack:
    def __init__(self, fail: bool = False) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.fail = fail

    def send(self, secret_name: str, payload: dict[str, Any]) -> None:
        if self.fail:
            raise DeliveryError(f"Slack webhook {secret_name} answered HTTP 500")
        self.posts.append((secret_name, payload))


def _subscribed_queue(account: Account, topic_arn: str, filter_policy: dict[str, Any] | None = None) -> str:
    sns = account.session.client("sns")
    url = account.sqs.create_queue(QueueName=f"inbox-{len(topic_arn)}-{len(str(filter_policy))}")["QueueUrl"]
    arn = account.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = {"RawMessageDelivery": "true"}
    if filter_policy:
        attributes["FilterPolicy"] = json.dumps(filter_policy)
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes=attributes)
    return str(url)


def test_security_and_the_owner_team_each_get_the_notice_once(account: Account) -> None:
    sns = account.session.client("sns")
    security_topic = sns.create_topic(Name="iamwarden-security-test")["TopicArn"]
    team_topic = sns.create_topic(Name="iamwarden-payments")["TopicArn"]
    security_inbox = _subscribed_queue(account, security_topic)
    team_inbox = _subscribed_queue(account, team_topic)
    slack = RecordingSlack()
    teams = {"payments": Destination(slack_webhook="iamwarden/slack/payments", sns_topic_arn=team_topic)}
    sender = AlertChannelNoticeSender(
        security=Destination(slack_webhook="iamwarden/slack/security", sns_topic_arn=security_topic),
        settings=lambda: AlertSettings(teams=teams),
        sns_client=lambda region: account.session.client("sns", region_name=region),
        slack=lambda: slack,
    )

    report = sender.send(_notice(owners=("payments", "Payments")))

    assert all(delivery.ok for delivery in report.deliveries)
    assert sorted(d.channel for d in report.deliveries) == sorted(
        [
            f"sns:{security_topic}",
            f"sns:{team_topic}",
            "slack:iamwarden/slack/security",
            "slack:iamwarden/slack/payments",
        ]
    )
    for inbox in (security_inbox, team_inbox):
        [message] = account.sqs.receive_message(QueueUrl=inbox, MessageAttributeNames=["All"])["Messages"]
        body = json.loads(message["Body"])
        assert body["schema"] == "iamwarden.prune-notice/1"
        assert body["plan_id"] == "plan-1a2b3c"
        assert message["MessageAttributes"]["rule"]["StringValue"] == "prune"
        assert message["MessageAttributes"]["outcome"]["StringValue"] == "prune_planned"
    assert [secret for secret, _ in slack.posts] == ["iamwarden/slack/security", "iamwarden/slack/payments"]
    text = json.dumps(slack.posts[0][1])
    assert "iamwarden prune rollback plan-1a2b3c" in text
    assert "2026-11-28" in text


def test_a_filter_policy_on_rule_keeps_prune_notices_apart(account: Account) -> None:
    sns = account.session.client("sns")
    topic = sns.create_topic(Name="iamwarden-filter-test")["TopicArn"]
    findings_only = _subscribed_queue(account, topic, {"rule": [{"anything-but": "prune"}]})
    prune_only = _subscribed_queue(account, topic, {"rule": ["prune"], "severity": ["high"]})
    sender = AlertChannelNoticeSender(
        security=Destination(sns_topic_arn=topic),
        settings=AlertSettings,
        sns_client=lambda region: account.session.client("sns", region_name=region),
        slack=None,
    )

    sender.send(_notice(NoticeKind.PLANNED))  # low: neither queue
    sender.send(_notice(NoticeKind.ACCESS_DENIED))  # high

    assert account.sqs.receive_message(QueueUrl=findings_only).get("Messages", []) == []
    [message] = account.sqs.receive_message(QueueUrl=prune_only)["Messages"]
    assert json.loads(message["Body"])["kind"] == "access_denied"


def test_failures_are_reported_never_raised(account: Account) -> None:
    sender = AlertChannelNoticeSender(
        security=Destination(
            slack_webhook="iamwarden/slack/security", sns_topic_arn=f"arn:aws:sns:{REGION}:{HOME_ACCOUNT}:missing"
        ),
        settings=lambda: (_ for _ in ()).throw(RuntimeError("SSM down")),
        sns_client=lambda region: account.session.client("sns", region_name=region),
        slack=lambda: RecordingSlack(fail=True),
    )

    report = sender.send(_notice())

    assert [d.ok for d in report.deliveries] == [False, False]
    assert "HTTP 500" in (report.failed[1].error or "")


def test_no_channel_is_a_reported_failure() -> None:
    sender = AlertChannelNoticeSender(
        security=Destination(), settings=AlertSettings, sns_client=lambda region: None, slack=None
    )
    [delivery] = sender.send(_notice()).deliveries
    assert delivery.channel == "none"
    assert not delivery.ok


def test_a_long_diff_is_cut_with_a_pointer_within_slack_limits() -> None:
    diff = "\n".join(f"- s3:Action{i:05d}" for i in range(2_000))  # about 36 KB

    payload = slack_payload(_notice(diff=diff))

    sections = [block["text"]["text"] for block in payload["blocks"] if block["type"] == "section"]
    assert all(len(text) <= 3_000 for text in sections)
    assert any(f"iamwarden prune plan {ROLE}" in text for text in sections)


def test_the_built_sender_uses_the_security_channel_from_the_environment(account: Account) -> None:
    [topic] = [
        t["TopicArn"]
        for t in account.session.client("sns").list_topics()["Topics"]
        if t["TopicArn"].endswith(":iamwarden-alerts")
    ]
    inbox = _subscribed_queue(account, topic)
    factory = ClientFactory(HOME_ACCOUNT, session=account.session)
    sender = FanOutNoticeSender(
        LogNoticeSender(__import__("logging").getLogger("test")),
        build_prune_notice_sender(
            factory,
            parameters=lambda: {"alerts/teams/payments/sns_topic_arn": topic},
            environ={"IAMWARDEN_ALERT_TOPIC_ARN": topic, "IAMWARDEN_SLACK_WEBHOOK_SECRET": ""},
        ),
    )

    report = sender.send(_notice())

    assert [d.channel for d in report.deliveries] == ["log", f"sns:{topic}"], "the team shares the topic: sent once"
    assert len(account.sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10)["Messages"]) == 1


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_kind_of_notice_renders(kind: NoticeKind) -> None:
    payload = slack_payload(_notice(kind))
    assert payload["blocks"][0]["type"] == "header"


def test_a_notice_without_a_plan_names_none() -> None:
    """Review s12 F8: an EXEMPTED notice has no plan; it said "Plan: " with nothing."""
    notice = _notice(NoticeKind.EXEMPTED)._replace(plan_id="")
    assert "Plan" not in notice_text(notice)
    assert "Plan" not in json.dumps(slack_payload(notice)["blocks"][-1])
    assert "Plan: plan-1a2b3c" in notice_text(_notice(NoticeKind.EXEMPTED))


#: A role path anyone with iam:CreateRole may choose: IAM's pathType allows any of ! to ~ (botocore's iam model,
#: ``(\u002F)|(\u002F[\u0021-\u007E]+\u002F)``), so Slack's mention and link markup (review s15 R2).
EVIL_PATH = "/<!channel>/<https://evil.example/approve|Approve-pruning>/"
EVIL_ROLE = f"arn:aws:iam::{HOME_ACCOUNT}:role{EVIL_PATH}x"


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_slack_markup_in_a_role_path_or_summary_is_escaped_everywhere_in_the_payload(kind: NoticeKind) -> None:
    notice = _notice(kind)._replace(
        role_arn=EVIL_ROLE,
        summary=f"Unused permissions of {EVIL_ROLE} will be removed <!here>",
        diff="- s3:GetObject <@U123> ```x```",
        rollback_command="iamwarden prune rollback plan-`<!channel>`",
    )

    payload = json.dumps(slack_payload(notice))

    for raw in ("<!channel>", "<!here>", "<https://evil.example", "<@U123>"):
        assert raw not in payload
    assert "&lt;!channel&gt;" in payload
    assert "&lt;https://evil.example/approve|Approve-pruning&gt;" in payload


def test_a_role_line_cannot_be_closed_by_a_backtick_in_the_path() -> None:
    notice = _notice()._replace(role_arn=f"arn:aws:iam::{HOME_ACCOUNT}:role/a`*Approve*`/x")
    section = slack_payload(notice)["blocks"][1]["text"]["text"]
    assert section.startswith("*Role:* `arn:aws:iam::")
    assert section.split("\n", 1)[0].count("`") == 2, "the code span ends once, at its end"


def test_the_e_mail_text_keeps_the_role_arn_as_it_is() -> None:
    """SNS and e-mail are plain text (no markup to inject): the ARN stays readable, not &lt;-escaped."""
    assert EVIL_ROLE in notice_text(_notice()._replace(role_arn=EVIL_ROLE))


def test_a_cut_summary_never_ends_in_half_an_escape() -> None:
    notice = _notice()._replace(summary="x" * 2_800 + "<" * 40)
    section = slack_payload(notice)["blocks"][1]["text"]["text"]
    assert len(section) <= 2_900
    assert section.endswith("&lt;")
