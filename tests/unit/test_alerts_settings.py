"""Alert settings from the SSM tree (``alerts/...``): parsing and every validation."""

from __future__ import annotations

from typing import Any

import pytest

from iamwarden.alerts.settings import (
    DEFAULT_OWNER_TAG_KEYS,
    AlertSettings,
    Destination,
    alert_settings_from_parameters,
    parse_alert_settings,
)

TOPIC = "arn:aws:sns:us-east-1:111122223333:payments-security"


def test_defaults() -> None:
    settings, problems = parse_alert_settings({})
    assert problems == []
    assert settings == AlertSettings()
    assert settings.owner_tag_keys == DEFAULT_OWNER_TAG_KEYS == ("owner", "team")


def test_ssm_parameters_are_read_under_the_prefix_and_other_keys_ignored() -> None:
    settings, problems = alert_settings_from_parameters(
        {
            "/iamwarden/alerts/owner_tag_keys": "Team,cost-center",
            "/iamwarden/alerts/teams/Payments/slack_webhook_secret": "iamwarden/slack/payments",
            "/iamwarden/alerts/teams/Payments/sns_topic_arn": TOPIC,
            "/iamwarden/alerts/teams/data/slack_webhook_secret": (
                "arn:aws:secretsmanager:eu-west-1:111122223333:secret:iamwarden/slack/data-AbCdEf"
            ),
            "/iamwarden/rules/iam-user-created/mode": "remediate",
            "/other/alerts/owner_tag_keys": "ignored",
        },
        "/iamwarden/",
    )
    assert problems == []
    assert settings.owner_tag_keys == ("Team", "cost-center")
    assert settings.teams == {
        "data": Destination(
            slack_webhook="arn:aws:secretsmanager:eu-west-1:111122223333:secret:iamwarden/slack/data-AbCdEf"
        ),
        "payments": Destination("iamwarden/slack/payments", TOPIC),
    }
    assert settings.destination_of(" PAYMENTS ") == Destination("iamwarden/slack/payments", TOPIC)
    assert settings.destination_of("unknown") is None
    assert settings.destination_of(None) is None


def test_a_settings_file_nests_the_same_keys() -> None:
    settings, problems = parse_alert_settings(
        {"alerts": {"owner_tag_keys": ["owner"], "teams": {"sre": {"sns_topic_arn": TOPIC}}}, "rules": {}}
    )
    assert problems == []
    assert settings.owner_tag_keys == ("owner",)
    assert settings.teams == {"sre": Destination(sns_topic_arn=TOPIC)}


@pytest.mark.parametrize(
    ("values", "key", "message"),
    [
        ({"alerts/owner_tag_keys": ""}, "alerts/owner_tag_keys", "at least one tag key"),
        ({"alerts/owner_tag_keys": "[1, 2]"}, "alerts/owner_tag_keys", "must be a list of strings"),
        ({"alerts/owner_tag_keys": "[not json"}, "alerts/owner_tag_keys", "not a valid JSON list"),
        ({"alerts/owner_tag_keys": "owner,te#am"}, "alerts/owner_tag_keys", "'te#am'"),
        ({"alerts/owner_tag_keys": 5}, "alerts/owner_tag_keys", "must be a list of strings"),
        ({"alerts/owners": "x"}, "alerts/owners", "unknown alert setting 'owners'; did you mean 'owner_tag_keys'?"),
        (
            {"alerts/teams/payments/slack_webhook": "x"},
            "alerts/teams/payments/slack_webhook",
            "did you mean 'slack_webhook_secret'",
        ),
        (
            {"alerts/teams/pay ments/sns_topic_arn": TOPIC},
            "alerts/teams/pay ments/sns_topic_arn",
            "team name 'pay ments'",
        ),
        (
            {"alerts/teams/payments/sns_topic_arn": "payments"},
            "alerts/teams/payments/sns_topic_arn",
            "must be an SNS topic ARN",
        ),
        ({"alerts/teams/payments/sns_topic_arn": TOPIC + ".fifo"}, "alerts/teams/payments/sns_topic_arn", "FIFO"),
        ({"alerts/teams/payments/sns_topic_arn": ""}, "alerts/teams/payments/sns_topic_arn", "non-empty string"),
        (
            {"alerts/teams/payments/slack_webhook_secret": ["a"]},
            "alerts/teams/payments/slack_webhook_secret",
            "non-empty string",
        ),
        (
            {"alerts/teams/payments/slack_webhook_secret": "bad name!"},
            "alerts/teams/payments/slack_webhook_secret",
            "secret name or ARN",
        ),
        ({"alerts/teams/payments/x/y": "z"}, "alerts/teams/payments/x/y", "one level deep"),
        ({"alerts/teams": "payments"}, "alerts/teams", "must map team names"),
        ({"alerts": "x"}, "alerts", "must map alert settings"),
    ],
)
def test_invalid_values_are_reported_with_their_key(values: dict[str, Any], key: str, message: str) -> None:
    settings, problems = parse_alert_settings(values)
    [problem] = problems
    assert problem.key == key
    assert message in problem.message
    assert settings.teams == {}


def test_a_webhook_url_pasted_into_ssm_is_refused_and_never_repeated() -> None:
    url = "https://hooks.slack.com/services/T000/B000/s3cr3t"
    settings, [problem] = parse_alert_settings({"alerts/teams/payments/slack_webhook_secret": url})
    assert "not the URL itself" in problem.message
    assert "s3cr3t" not in str(problem)
    assert settings.teams == {}


def test_one_bad_value_leaves_the_rest_in_use() -> None:
    settings, problems = parse_alert_settings(
        {
            "alerts/owner_tag_keys": "",
            "alerts/teams/payments/sns_topic_arn": "nope",
            "alerts/teams/payments/slack_webhook_secret": "iamwarden/slack/payments",
        }
    )
    assert [problem.key for problem in problems] == ["alerts/owner_tag_keys", "alerts/teams/payments/sns_topic_arn"]
    assert settings.owner_tag_keys == DEFAULT_OWNER_TAG_KEYS
    assert settings.teams == {"payments": Destination(slack_webhook="iamwarden/slack/payments")}


def test_duplicate_tag_keys_are_dropped() -> None:
    settings, _ = parse_alert_settings({"alerts/owner_tag_keys": '["team", "owner", "team"]'})
    assert settings.owner_tag_keys == ("team", "owner")
