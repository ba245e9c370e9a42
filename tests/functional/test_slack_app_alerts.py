"""Alerts posted by the Slack app (bot token): buttons, the owner team's channel, and the webhook fallback.

The local server of ``test_slack_interactions`` plays Slack's Web API and the
incoming webhooks; moto holds the secrets.
"""

from __future__ import annotations

import json
from typing import Any

from iamwarden.adapters.clients import ClientFactory
from iamwarden.adapters.slack_app import SlackAppSender, SlackWebApi, secret_text, secrets_provider
from iamwarden.alerts.interactions import ACTION_UNDO, ACTIONS_BLOCK_ID
from iamwarden.alerts.message import Owner
from iamwarden.alerts.notifications import Notification, finding_notification
from iamwarden.alerts.settings import AlertSettings, Destination
from iamwarden.app.dispatcher import AlertDispatcher, build_alert_dispatcher
from iamwarden.domain.findings import Finding, Outcome
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account
from tests.functional.test_slack_interactions import BOT_TOKEN, FakeSlack
from tests.functional.test_slack_interactions import slack as slack  # noqa: PLC0414 - the fixture

PLACEHOLDER = "REPLACE-ME: put the Slack bot token here (aws secretsmanager put-secret-value)"


def remediated() -> Notification:
    judgement = judge_event(load_event("create-user-backdoor-cli.json"), Settings())
    [finding] = judgement.findings
    return finding_notification(
        Outcome.REMEDIATED, finding, judgement.change, f"rem-{finding.finding_id}", settings_prefix="/iamwarden"
    )


def environment(slack: FakeSlack, **extra: str) -> dict[str, str]:
    return {
        "IAMWARDEN_SLACK_WEBHOOK_SECRET": "iamwarden/slack/security",
        "IAMWARDEN_SLACK_BOT_SECRET": "iamwarden/slack/bot",
        "IAMWARDEN_SLACK_API_URL": slack.base + "/api/",
        **extra,
    }


def posts(slack: FakeSlack) -> list[dict[str, Any]]:
    return [args for method, args in slack.calls if method == "chat.postMessage"]


def webhook_posts(slack: FakeSlack) -> list[dict[str, Any]]:
    return [args for method, args in slack.calls if method.startswith("/services/")]


def set_secrets(account: Account, slack: FakeSlack, bot: str) -> None:
    secrets = account.session.client("secretsmanager")
    secrets.put_secret_value(SecretId="iamwarden/slack/bot", SecretString=bot)
    secrets.put_secret_value(SecretId="iamwarden/slack/security", SecretString=slack.base + "/services/T0/B0/X")


def test_with_a_bot_token_the_security_channel_gets_the_alert_with_buttons_through_chat_post_message(
    account: Account, slack: FakeSlack
) -> None:
    set_secrets(account, slack, BOT_TOKEN)
    dispatcher = build_alert_dispatcher(
        ClientFactory(HOME_ACCOUNT, session=account.session),
        environ=environment(slack, IAMWARDEN_SLACK_SECURITY_CHANNEL="C0SECURITY"),
    )

    report = dispatcher.notify(remediated())

    assert [delivery.channel for delivery in report.deliveries if delivery.ok] == ["slack-app:C0SECURITY"]
    [post] = posts(slack)
    assert post["channel"] == "C0SECURITY"
    assert post["authorization"] == f"Bearer {BOT_TOKEN}"
    blocks = post["blocks"] if isinstance(post["blocks"], list) else json.loads(post["blocks"])
    assert blocks[-1]["block_id"] == ACTIONS_BLOCK_ID
    assert blocks[-1]["elements"][0]["action_id"] == ACTION_UNDO
    assert webhook_posts(slack) == []  # the app's message replaces the webhook's, not doubles it


def test_while_the_bot_token_is_the_placeholder_the_webhook_delivers_without_buttons(
    account: Account, slack: FakeSlack
) -> None:
    set_secrets(account, slack, PLACEHOLDER)
    dispatcher = build_alert_dispatcher(
        ClientFactory(HOME_ACCOUNT, session=account.session),
        environ=environment(slack, IAMWARDEN_SLACK_SECURITY_CHANNEL="C0SECURITY"),
    )

    report = dispatcher.notify(remediated())

    assert report.failed == ()
    assert posts(slack) == []
    [webhook] = webhook_posts(slack)
    assert all(block["type"] != "actions" for block in webhook["blocks"])


def test_without_a_slack_channel_alerts_stay_webhook_only_as_before(account: Account, slack: FakeSlack) -> None:
    set_secrets(account, slack, BOT_TOKEN)
    dispatcher = build_alert_dispatcher(
        ClientFactory(HOME_ACCOUNT, session=account.session), environ=environment(slack)
    )

    report = dispatcher.notify(remediated())

    assert report.failed == ()
    assert posts(slack) == []
    [webhook] = webhook_posts(slack)
    assert all(block["type"] != "actions" for block in webhook["blocks"])


class TeamOwner:
    def owner_of(self, finding: Finding, tag_keys: tuple[str, ...]) -> Owner | None:
        return Owner("payments", "tag team on user backdoor-admin")

    def account_alias(self, account: str, region: str) -> str | None:
        return None


def test_the_owner_teams_channel_gets_its_own_copy_whose_buttons_name_the_team(
    account: Account, slack: FakeSlack
) -> None:
    set_secrets(account, slack, BOT_TOKEN)
    secrets = secrets_provider(account.session.client("secretsmanager"))
    api = SlackWebApi(lambda: secret_text(secrets, "iamwarden/slack/bot", "token"), base_url=slack.base + "/api/")
    dispatcher = AlertDispatcher(
        security=Destination(slack_channel="C0SECURITY"),
        settings=AlertSettings(teams={"payments": Destination(slack_channel="C0PAYMENTS")}),
        slack_app_factory=lambda: SlackAppSender(api),
        owners=TeamOwner(),
    )

    dispatcher.notify(remediated())

    assert [post["channel"] for post in posts(slack)] == ["C0SECURITY", "C0PAYMENTS"]
    blocks = posts(slack)[1]["blocks"]
    assert json.loads(blocks[-1]["elements"][0]["value"])["team"] == "payments"
