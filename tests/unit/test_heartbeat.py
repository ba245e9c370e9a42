"""The heartbeat's configuration and alert, without AWS (its checks run against moto in test_attacker.py)."""

from __future__ import annotations

from typing import Any

import pytest

from iamwarden.app.heartbeat import Heartbeat, HeartbeatConfig
from iamwarden.domain.exceptions import ConfigurationError

ENVIRONMENT = {
    "IAMWARDEN_OWN_RULES": "iamwarden-forward-own-events, iamwarden-central/iamwarden-acl-changed,",
    "IAMWARDEN_ENFORCER_ARN": "arn:aws:lambda:us-east-1:111122223333:function:iamwarden-enforcer",
    "IAMWARDEN_CENTRAL_BUS_ARN": "arn:aws:events:us-east-1:111122223333:event-bus/iamwarden-central",
    "IAMWARDEN_ENFORCER_ROLE_NAME": "iamwarden-enforcer-us-east-1",
    "IAMWARDEN_ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:111122223333:iamwarden-alerts",
    "IAMWARDEN_STACK_NAME": "security-iamwarden",
}


def test_the_configuration_comes_from_the_template_environment() -> None:
    config = HeartbeatConfig.from_environment(ENVIRONMENT)
    assert config.rules == ("iamwarden-forward-own-events", "iamwarden-central/iamwarden-acl-changed")
    assert config.stack_name == "security-iamwarden"


@pytest.mark.parametrize("missing", sorted(set(ENVIRONMENT) - {"IAMWARDEN_STACK_NAME"}))
def test_a_heartbeat_that_would_check_nothing_refuses_to_start(missing: str) -> None:
    with pytest.raises(ConfigurationError, match=missing):
        HeartbeatConfig.from_environment({k: v for k, v in ENVIRONMENT.items() if k != missing})


class _Topic:
    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, **request: Any) -> None:
        self.published.append(request)


def test_the_alert_names_every_problem_and_the_way_back_and_is_filterable_like_any_alert() -> None:
    topic = _Topic()
    heartbeat = Heartbeat(HeartbeatConfig.from_environment(ENVIRONMENT), None, None, None, topic)
    heartbeat.problems = lambda: ["the rule a is disabled", "the rule b is gone"]  # type: ignore[method-assign]

    result = heartbeat.run()

    assert result == {"whole": False, "problems": ["the rule a is disabled", "the rule b is gone"]}
    [request] = topic.published
    assert request["TopicArn"] == ENVIRONMENT["IAMWARDEN_ALERT_TOPIC_ARN"]
    assert "- the rule a is disabled\n- the rule b is gone" in request["Message"]
    assert "detect-stack-drift --stack-name security-iamwarden" in request["Message"]
    attributes = {key: value["StringValue"] for key, value in request["MessageAttributes"].items()}
    assert attributes == {"rule": "iamwarden-tampered", "severity": "critical", "outcome": "heartbeat_failed"}


def test_a_whole_loop_publishes_nothing() -> None:
    topic = _Topic()
    heartbeat = Heartbeat(HeartbeatConfig.from_environment(ENVIRONMENT), None, None, None, topic)
    heartbeat.problems = lambda: []  # type: ignore[method-assign]
    assert heartbeat.run() == {"whole": True, "problems": []}
    assert topic.published == []
