"""A subscription of IAM Warden's alert topic changed (SetSubscriptionAttributes), against moto: the heartbeat's
snapshot of its delivery attributes is what the enforcer puts back, and undo applies the change again."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from iamwarden.adapters.recorded import AuditRecorded
from iamwarden.app.heartbeat import SnapshotRefresh
from iamwarden.app.service import EnforcerService
from iamwarden.domain.recorded import OWN_SUBSCRIPTION
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

RULE = "iamwarden-tampered"
OPERATOR = f"arn:aws:iam::{HOME_ACCOUNT}:user/secops"
TOPIC = f"arn:aws:sns:{REGION}:{HOME_ACCOUNT}:iamwarden-alerts"
DROP_EVERYTHING = '{"severity":["none"]}'


def _sns(account: Account) -> Any:
    return account.session.client("sns", region_name=REGION)


def subscribe(account: Account, **attributes: str) -> str:
    """A confirmed subscription of the alert topic (moto confirms e-mail at once); its ARN."""
    arn: str = _sns(account).subscribe(
        TopicArn=TOPIC,
        Protocol="email",
        Endpoint="security@example.com",
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    return arn


#: When the heartbeat ran in these tests: before the intruder's call, whose event is the sample's (eventTime
#: 2026-11-13T09:22:18Z). A restore rests only on a snapshot taken before the change.
HEARTBEAT_RAN = "2026-11-13T09:20:00.000+00:00"


def snapshot_subscriptions(account: Account, *, at: str = HEARTBEAT_RAN) -> int:
    """The heartbeat's refresh of the alert topic's subscriptions (its own taker, its own store), run ``at``."""
    refresh = SnapshotRefresh(
        AuditRecorded(account.audit(), account.dynamodb),
        account.session.client("cloudtrail", region_name=REGION),
        account.iam,
        HOME_ACCOUNT,
        region=REGION,
        sns=_sns(account),
        topic_arn=TOPIC,
        clock=lambda: at,
    )
    stored, problems = refresh.refresh()
    assert problems == []
    return stored


def set_attribute(account: Account, subscription: str, name: str, value: str) -> dict[str, Any]:
    """The intruder's call, made in moto, and its event (the sample's shape)."""
    _sns(account).set_subscription_attributes(SubscriptionArn=subscription, AttributeName=name, AttributeValue=value)
    event = copy.deepcopy(load_event("tamper-subscription-filter-policy.json"))
    event["detail"]["requestParameters"] = {
        "subscriptionArn": subscription,
        "attributeName": name,
        "attributeValue": value,
    }
    return event


def _attribute(account: Account, subscription: str, name: str) -> str | None:
    value: str | None = _sns(account).get_subscription_attributes(SubscriptionArn=subscription)["Attributes"].get(name)
    return value


def _finding(result: dict[str, Any]) -> dict[str, Any]:
    [finding] = [finding for finding in result["findings"] if finding["rule"] == RULE]
    return dict(finding)


def _alerts(notifier: RecordingNotifier) -> list[Any]:
    return [n for n in notifier.sent if n.finding is not None and n.finding.rule_id == RULE]


def test_the_heartbeat_snapshots_each_confirmed_subscriptions_delivery_attributes(account: Account) -> None:
    subscription = subscribe(account, FilterPolicy='{"severity":["critical","high"]}')

    snapshot_subscriptions(account)

    snapshot = AuditRecorded(account.audit(), account.dynamodb).snapshot(OWN_SUBSCRIPTION, subscription)
    assert snapshot is not None
    assert snapshot.data["topic"] == TOPIC
    assert json.loads(snapshot.data["attributes"]["FilterPolicy"]) == {"severity": ["critical", "high"]}
    assert snapshot.data["attributes"]["RawMessageDelivery"] == "false"
    assert "Endpoint" not in snapshot.data["attributes"]  # delivery attributes only


def test_a_filter_policy_that_drops_every_alert_is_removed_and_undo_sets_it_again(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    subscription = subscribe(account)
    snapshot_subscriptions(account)
    event = set_attribute(account, subscription, "FilterPolicy", DROP_EVERYTHING)

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] == "remediated"
    assert _attribute(account, subscription, "FilterPolicy") in (None, "", "{}")  # SNS removes it with "{}"
    [alert] = _alerts(notifier)
    assert alert.finding.severity.value == "critical"
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _attribute(account, subscription, "FilterPolicy") == DROP_EVERYTHING


def test_a_filter_policy_the_snapshot_held_is_put_back_as_it_was(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    wanted = '{"severity":["critical","high"]}'
    subscription = subscribe(account, FilterPolicy=wanted)
    snapshot_subscriptions(account)
    event = set_attribute(account, subscription, "FilterPolicy", DROP_EVERYTHING)

    enforcer.handle(event)

    assert json.loads(_attribute(account, subscription, "FilterPolicy") or "") == json.loads(wanted)


@pytest.mark.parametrize(("name", "value", "restored"), [("RawMessageDelivery", "true", "false")])
def test_another_delivery_attribute_goes_back_to_the_snapshots_value(
    account: Account, enforcer: EnforcerService, name: str, value: str, restored: str
) -> None:
    subscription = subscribe(account)
    snapshot_subscriptions(account)
    event = set_attribute(account, subscription, name, value)

    enforcer.handle(event)

    assert _attribute(account, subscription, name) == restored


def test_a_subscription_changed_again_since_is_left_to_its_own_event(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    subscription = subscribe(account)
    snapshot_subscriptions(account)
    event = set_attribute(account, subscription, "FilterPolicy", DROP_EVERYTHING)
    later = '{"severity":["low"]}'
    _sns(account).set_subscription_attributes(
        SubscriptionArn=subscription, AttributeName="FilterPolicy", AttributeValue=later
    )

    finding = _finding(enforcer.handle(event))

    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.done == []
    assert _attribute(account, subscription, "FilterPolicy") == later


def test_a_snapshot_taken_after_the_change_is_not_put_back_it_holds_the_intruders_value(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """The heartbeat ran between the intruder's call (09:22:18) and its judgement: its snapshot holds the intruder's
    filter, so it says nothing of what was there before; alerted saying so, the value left as it is."""
    subscription = subscribe(account)
    event = set_attribute(account, subscription, "FilterPolicy", DROP_EVERYTHING)
    snapshot_subscriptions(account, at="2026-11-13T09:25:00.000+00:00")

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] != "remediated"
    [alert] = _alerts(notifier)
    assert alert.finding.plan == ()
    assert "snapshot of 2026-11-13T09:25:00.000+00:00 is newer than the change" in alert.finding.needs_context[0]
    assert _attribute(account, subscription, "FilterPolicy") == DROP_EVERYTHING


def test_without_a_snapshot_the_change_is_alerted_saying_what_is_missing(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    subscription = subscribe(account)
    event = set_attribute(account, subscription, "FilterPolicy", DROP_EVERYTHING)

    enforcer.handle(event)

    [alert] = _alerts(notifier)
    assert alert.finding.plan == ()
    assert "the heartbeat takes one of each confirmed subscription" in alert.finding.needs_context[0]
    assert _attribute(account, subscription, "FilterPolicy") == DROP_EVERYTHING


def test_another_topics_subscription_is_not_iam_wardens(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    other = _sns(account).create_topic(Name="iamwarden-alerts-copy")["TopicArn"]
    subscription = _sns(account).subscribe(
        TopicArn=other, Protocol="email", Endpoint="x@example.com", ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    event = set_attribute(account, subscription, "FilterPolicy", DROP_EVERYTHING)

    result = enforcer.handle(event)

    assert [f for f in result["findings"] if f["rule"] == RULE] == []
    assert _alerts(notifier) == []


def test_a_deleted_alert_topic_leaves_nothing_to_snapshot_and_no_refresh_problem(account: Account) -> None:
    _sns(account).delete_topic(TopicArn=TOPIC)  # the heartbeat's own check says the topic is gone

    assert snapshot_subscriptions(account) >= 0
