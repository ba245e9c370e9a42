"""Routing and failure handling of the dispatcher, with fake channels (no AWS, no network)."""

from __future__ import annotations

from typing import Any

import pytest

from iamwarden.adapters.clients import ClientFactory
from iamwarden.alerts.exceptions import SlackNotConfiguredError
from iamwarden.alerts.message import AlertMessage, Owner
from iamwarden.alerts.notifications import Notification, Notifier
from iamwarden.alerts.settings import AlertSettings, Destination
from iamwarden.app.dispatcher import AlertDispatcher, Route, build_alert_dispatcher
from iamwarden.domain.exceptions import DeliveryError, SettingsProblem
from iamwarden.domain.findings import Finding, Outcome
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

SECURITY_TOPIC = "arn:aws:sns:us-east-1:111122223333:iamwarden-alerts"
TEAM_TOPIC = "arn:aws:sns:us-east-1:111122223333:payments"
SECURITY = Destination("iamwarden/slack/security", SECURITY_TOPIC)
TEAMS = AlertSettings(
    owner_tag_keys=("team",),
    teams={
        "payments": Destination("iamwarden/slack/payments", TEAM_TOPIC),
        "shared": Destination("iamwarden/slack/security", SECURITY_TOPIC),
        "half": Destination("iamwarden/slack/half", SECURITY_TOPIC),
    },
)


class FakeSns:
    def __init__(self, fail: set[str] | None = None) -> None:
        self.published: list[tuple[str, AlertMessage]] = []
        self.fail = fail or set()

    def publish(self, topic_arn: str, message: AlertMessage) -> str:
        if topic_arn in self.fail:
            raise DeliveryError(f"SNS topic {topic_arn}: AuthorizationError: not allowed")
        self.published.append((topic_arn, message))
        return "id"


class FakeSlack:
    def __init__(self, fail: Exception | None = None) -> None:
        self.sent: list[tuple[str, Any]] = []
        self.fail = fail

    def send(self, secret_name: str, payload: Any) -> None:
        if self.fail:
            raise self.fail
        self.sent.append((secret_name, payload))


class FakeOwners:
    def __init__(self, owner: Owner | None, error: Exception | None = None) -> None:
        self.owner = owner
        self.error = error
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def owner_of(self, finding: Finding, tag_keys: tuple[str, ...]) -> Owner | None:
        self.calls.append((finding.finding_id, tag_keys))
        if self.error:
            raise self.error
        return self.owner

    def account_alias(self, account: str, region: str) -> str | None:
        if self.error:
            raise self.error
        return "acme-prod"


class FakeMetrics:
    def __init__(self) -> None:
        self.metrics: list[tuple[str, Any, float]] = []

    def add_metric(self, name: str, unit: Any, value: float) -> None:
        self.metrics.append((name, unit, value))


@pytest.fixture
def note(example_settings: Settings) -> Notification:
    judgement = judge_event(load_event("attach-admin-to-role.json"), example_settings)
    return Notification(Outcome.ALERTED, judgement.findings[0], judgement.change)


def dispatcher(owner: Owner | None = None, **kwargs: Any) -> AlertDispatcher:
    kwargs.setdefault("sns", FakeSns())
    kwargs.setdefault("slack", FakeSlack())
    kwargs.setdefault("owners", FakeOwners(owner))
    return AlertDispatcher(security=SECURITY, settings=TEAMS, **kwargs)


def channels(report: Any) -> list[str]:
    return [delivery.channel for delivery in report.deliveries]


def test_it_is_a_notifier() -> None:
    notifier: Notifier = dispatcher()
    assert notifier is not None


def test_security_always_gets_it_and_the_owner_gets_it_once(note: Notification) -> None:
    sns, slack = FakeSns(), FakeSlack()
    report = dispatcher(Owner("Payments", "tag team on role app-backend"), sns=sns, slack=slack).notify(note)
    assert report.failed == ()
    assert channels(report) == [
        f"sns:{SECURITY_TOPIC}",
        "slack:iamwarden/slack/security",
        f"sns:{TEAM_TOPIC}",
        "slack:iamwarden/slack/payments",
    ]
    assert [topic for topic, _ in sns.published] == [SECURITY_TOPIC, TEAM_TOPIC]
    assert slack.sent[0][1] == slack.sent[1][1]  # one rendering, the same payload for everyone
    assert "Payments (from tag team on role app-backend)" in str(slack.sent[0][1])


@pytest.mark.parametrize(
    ("team", "expected"),
    [
        ("shared", [f"sns:{SECURITY_TOPIC}", "slack:iamwarden/slack/security"]),
        ("half", [f"sns:{SECURITY_TOPIC}", "slack:iamwarden/slack/security", "slack:iamwarden/slack/half"]),
        ("nobody", [f"sns:{SECURITY_TOPIC}", "slack:iamwarden/slack/security"]),
    ],
)
def test_destinations_the_security_channel_has_are_not_sent_twice(
    note: Notification, team: str, expected: list[str]
) -> None:
    assert channels(dispatcher(Owner(team, "tag team on role x")).notify(note)) == expected


def test_an_unknown_owner_goes_to_security_only_and_says_so(note: Notification) -> None:
    slack = FakeSlack()
    report = dispatcher(None, slack=slack).notify(note)
    assert channels(report) == [f"sns:{SECURITY_TOPIC}", "slack:iamwarden/slack/security"]
    assert "only the security team has this alert" in str(slack.sent[0][1])


def test_configuration_errors_go_to_security_only(note: Notification) -> None:
    owners = FakeOwners(Owner("payments", "tag"))
    problem = SettingsProblem("rules/iam-user-created/mode", "must be one of off, alert, remediate, got 'x'")
    sns = FakeSns()
    config = Notification(Outcome.CONFIGURATION_ERROR, change=note.change, problems=(problem,))
    report = dispatcher(sns=sns, owners=owners, home_account=lambda: "999999999999").notify(config)
    assert channels(report) == [f"sns:{SECURITY_TOPIC}", "slack:iamwarden/slack/security"]
    assert owners.calls == []
    assert sns.published[0][1].account == "999999999999"


def test_channel_failures_are_reported_never_raised(note: Notification) -> None:
    metrics = FakeMetrics()
    report = dispatcher(
        Owner("payments", "tag"),
        sns=FakeSns(fail={SECURITY_TOPIC}),
        slack=FakeSlack(fail=RuntimeError("boom")),
        metrics=metrics,
    ).notify(note)
    assert [(d.channel, d.ok) for d in report.deliveries] == [
        (f"sns:{SECURITY_TOPIC}", False),
        ("slack:iamwarden/slack/security", False),
        (f"sns:{TEAM_TOPIC}", True),
        ("slack:iamwarden/slack/payments", False),
    ]
    assert report.failed[0].error == f"SNS topic {SECURITY_TOPIC}: AuthorizationError: not allowed"
    assert report.failed[1].error == "boom"
    assert metrics.metrics == [("AlertsDelivered", "Count", 1), ("AlertDeliveryFailed", "Count", 3)]


def test_slack_not_set_up_is_skipped_not_failed(note: Notification) -> None:
    metrics = FakeMetrics()
    not_set_up = SlackNotConfiguredError("Slack webhook secret iamwarden/slack/security holds no webhook URL yet")

    report = dispatcher(slack=FakeSlack(fail=not_set_up), metrics=metrics).notify(note)

    assert [(d.channel, d.ok) for d in report.deliveries] == [(f"sns:{SECURITY_TOPIC}", True)]
    assert report.failed == ()
    assert metrics.metrics == [("AlertsDelivered", "Count", 1)]  # no AlertDeliveryFailed, so no alarm


def test_replay_sends_exactly_the_channels_asked_for(note: Notification) -> None:
    sns, slack = FakeSns(), FakeSlack()
    report = dispatcher(None, sns=sns, slack=slack).notify(
        note, only=["slack:iamwarden/slack/payments", f"sns:{TEAM_TOPIC}", "slack:iamwarden/slack/payments"]
    )
    assert channels(report) == ["slack:iamwarden/slack/payments", f"sns:{TEAM_TOPIC}"]
    assert [name for name, _ in slack.sent] == ["iamwarden/slack/payments"]
    assert [topic for topic, _ in sns.published] == [TEAM_TOPIC]


def test_an_unknown_channel_kind_is_a_failed_delivery(note: Notification) -> None:
    [delivery] = dispatcher().notify(note, only=["pager:oncall"]).deliveries
    assert not delivery.ok
    assert delivery.error == "unknown channel kind 'pager'"


def test_deliveries_without_time_left_are_skipped_for_replay(note: Notification) -> None:
    left = iter([60.0, 3.0, 3.0, 3.0])
    report = dispatcher(Owner("payments", "tag"), remaining_seconds=lambda: next(left)).notify(note)
    assert [d.ok for d in report.deliveries] == [True, False, False, False]
    assert report.failed[0].error == "skipped: the invocation is about to time out"


def test_a_broken_clock_does_not_stop_delivery(note: Notification) -> None:
    def broken() -> float:
        raise RuntimeError("no context")

    assert dispatcher(remaining_seconds=broken).notify(note).failed == ()


def test_failing_owner_and_alias_lookups_cost_nothing_but_the_owner(note: Notification) -> None:
    sns = FakeSns()
    report = dispatcher(sns=sns, owners=FakeOwners(None, error=RuntimeError("AccessDenied"))).notify(note)
    assert report.failed == ()
    message = sns.published[0][1]
    assert message.record["owner"] is None
    assert message.record["account_alias"] is None


def test_the_owner_is_looked_up_once_per_finding(note: Notification) -> None:
    owners = FakeOwners(Owner("payments", "tag"))
    alerts = dispatcher(owners=owners)
    assert note.finding is not None
    alerts.owner_of(note.finding)  # before remediation, e.g. before a user is deleted
    alerts.notify(note)
    alerts.notify(note._replace(outcome=Outcome.REMEDIATED))
    assert owners.calls == [(note.finding.finding_id, ("team",))]


def test_a_message_that_cannot_be_built_is_a_failed_delivery(note: Notification) -> None:
    assert note.finding is not None
    broken = note._replace(finding=note.finding._replace(actor=None))  # type: ignore[arg-type]
    metrics = FakeMetrics()
    report = dispatcher(metrics=metrics).notify(broken)
    [delivery] = report.deliveries
    assert delivery.channel == "render"
    assert delivery.error is not None
    assert delivery.error.startswith("cannot build the alert")
    assert metrics.metrics == [("AlertDeliveryFailed", "Count", 1)]


def test_no_channel_at_all_is_reported(note: Notification) -> None:
    alerts = AlertDispatcher(security=Destination(), sns=FakeSns(), slack=FakeSlack())
    [delivery] = alerts.notify(note).deliveries
    assert (delivery.channel, delivery.ok) == ("none", False)


def test_missing_channel_implementations_are_failed_deliveries(note: Notification) -> None:
    report = AlertDispatcher(security=SECURITY).notify(note)
    assert [d.error for d in report.deliveries] == ["no SNS publisher configured", "no Slack sender configured"]


def test_the_slack_sender_is_created_on_first_use_only(note: Notification) -> None:
    made: list[FakeSlack] = []

    def factory() -> FakeSlack:
        made.append(FakeSlack())
        return made[-1]

    alerts = AlertDispatcher(security=Destination(sns_topic_arn=SECURITY_TOPIC), sns=FakeSns(), slack_factory=factory)
    alerts.notify(note)
    assert made == []
    alerts.security = SECURITY
    alerts.notify(note)
    alerts.notify(note)
    assert len(made) == 1
    assert len(made[0].sent) == 2


def test_a_failing_metrics_sink_does_not_fail_delivery(note: Notification) -> None:
    class Broken:
        def add_metric(self, name: str, unit: Any, value: float) -> None:
            raise RuntimeError("metrics full")

    assert dispatcher(metrics=Broken()).notify(note).failed == ()


def test_routes_are_exposed_for_the_audit_record(note: Notification) -> None:
    routes = dispatcher().routes(note, Owner("payments", "tag"))
    assert routes[-1] == Route("slack:iamwarden/slack/payments", "team:payments")
    assert (routes[-1].kind, routes[-1].target) == ("slack", "iamwarden/slack/payments")


def test_build_alert_dispatcher_reads_the_security_channel_from_the_environment() -> None:
    factory = ClientFactory("111122223333")
    alerts = build_alert_dispatcher(
        factory,
        settings=TEAMS,
        environ={
            "IAMWARDEN_ALERT_TOPIC_ARN": SECURITY_TOPIC,
            "IAMWARDEN_SLACK_WEBHOOK_SECRET": "iamwarden/slack/security",
        },
    )
    assert alerts.security == SECURITY
    assert alerts.settings is TEAMS
    explicit = build_alert_dispatcher(factory, topic_arn=TEAM_TOPIC, environ={})
    assert explicit.security == Destination(sns_topic_arn=TEAM_TOPIC)
    assert build_alert_dispatcher(factory, environ={}).security.empty


FALLBACK_TOPIC = "arn:aws:sns:us-east-1:111122223333:iamwarden-alerts-fallback"


def test_an_alert_the_security_topic_refuses_goes_to_the_fallback_topic_saying_why(note: Notification) -> None:
    from iamwarden.alerts.render import render_text

    sns, metrics = FakeSns(fail={SECURITY_TOPIC}), FakeMetrics()
    report = dispatcher(sns=sns, metrics=metrics, fallback_topic=FALLBACK_TOPIC).notify(note)

    assert [(d.channel, d.ok) for d in report.deliveries] == [
        (f"sns:{SECURITY_TOPIC}", False),
        (f"sns:{FALLBACK_TOPIC}", True),
        ("slack:iamwarden/slack/security", True),
    ]
    [(topic, message)] = sns.published
    assert topic == FALLBACK_TOPIC
    assert render_text(message).count(f"the alert topic {SECURITY_TOPIC} refused it (SNS topic {SECURITY_TOPIC}") == 1
    assert message.record["fallback"]["alert_topic"] == SECURITY_TOPIC
    # The refused publish still counts as failed (its alarm, and the replay).
    assert ("AlertDeliveryFailed", "Count", 1) in metrics.metrics


def test_without_a_fallback_topic_a_refused_alert_is_only_a_failed_delivery(note: Notification) -> None:
    sns = FakeSns(fail={SECURITY_TOPIC})
    report = dispatcher(sns=sns).notify(note)
    assert [d.channel for d in report.failed] == [f"sns:{SECURITY_TOPIC}"]
    assert sns.published == []


def test_a_team_topic_that_refuses_is_not_sent_to_the_fallback(note: Notification) -> None:
    sns = FakeSns(fail={TEAM_TOPIC})
    owner = Owner("Payments", "tag team on role app-backend")
    report = dispatcher(owner, sns=sns, fallback_topic=FALLBACK_TOPIC).notify(note)
    assert [d.channel for d in report.failed] == [f"sns:{TEAM_TOPIC}"]
    assert [topic for topic, _ in sns.published] == [SECURITY_TOPIC]
