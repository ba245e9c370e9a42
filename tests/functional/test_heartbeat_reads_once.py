"""One heartbeat run reads what several of its checks need once (moto, the calls counted by a botocore hook).

The boundary and the trust snapshots both come from the account's authorization details: one page-through of
``GetAccountAuthorizationDetails`` per run, not one each. The central bus is described once for its policy and its
key, and the alert topic's subscriptions are listed once for the confirmed-subscription check and their snapshots.
A read that fails is said by each check that needed it, in its own words, as when each read for itself.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from botocore.exceptions import ClientError

from iamwarden.adapters.recorded import AuditRecorded
from iamwarden.app.heartbeat import Heartbeat, build_heartbeat
from iamwarden.domain.recorded import BOUNDARY, OWN_SUBSCRIPTION, ROLE_TRUST
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.functional.conftest import Account

CENTRAL_BUS = f"arn:aws:events:{REGION}:{HOME_ACCOUNT}:event-bus/iamwarden-central"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})


class _Calls:
    """Every API call the session's clients make, by operation, and how many of them start a page-through."""

    def __init__(self, account: Account) -> None:
        self.made: Counter[str] = Counter()
        self.started: Counter[str] = Counter()
        self.refuse: set[str] = set()
        # Registered on the session before the heartbeat's clients are made: each client copies its handlers.
        account.session.events.register("before-parameter-build", self._count)
        account.session.events.register("before-call", self._refused)

    def _count(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.made[model.name] += 1
        if not ({"Marker", "NextToken"} & set(params)):
            self.started[model.name] += 1

    def _refused(self, model: Any, **_: Any) -> None:
        if model.name in self.refuse:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "refused"}}, model.name)


def _loop(account: Account) -> tuple[Heartbeat, str]:
    """The security account's loop in moto as far as these reads go; the heartbeat built from its environment."""
    session = account.session
    topic = session.client("sns", region_name=REGION).create_topic(Name="iamwarden-alerts")["TopicArn"]
    queue = account.sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    inbox = account.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    session.client("sns", region_name=REGION).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox)
    session.client("events", region_name=REGION).create_event_bus(Name="iamwarden-central")
    account.iam.create_role(RoleName="iamwarden-enforcer", AssumeRolePolicyDocument=TRUST)
    account.iam.create_user(UserName="alice")
    environment = {
        "IAMWARDEN_OWN_RULES": "iamwarden-heartbeat",
        "IAMWARDEN_ENFORCER_ARN": f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:iamwarden-enforcer",
        "IAMWARDEN_CENTRAL_BUS_ARN": CENTRAL_BUS,
        "IAMWARDEN_ENFORCER_ROLE_NAME": "iamwarden-enforcer",
        "IAMWARDEN_ALERT_TOPIC_ARN": topic,
        "IAMWARDEN_AUDIT_TABLE": account.config.audit_table,
        "IAMWARDEN_HOME_ACCOUNT": HOME_ACCOUNT,
        "IAMWARDEN_ORGANIZATION_ID": "o-a1b2c3d4e5",
        "AWS_REGION": REGION,
    }
    return build_heartbeat(session, environment), topic


def test_one_run_pages_the_authorization_details_and_reads_the_bus_and_subscriptions_once(account: Account) -> None:
    calls = _Calls(account)
    heartbeat, topic = _loop(account)

    result = heartbeat.run()

    assert calls.started["GetAccountAuthorizationDetails"] == 1, "one page-through for boundaries and trusts"
    assert calls.made["DescribeEventBus"] == 1, "the bus policy and the bus key checks share one description"
    assert calls.made["ListSubscriptionsByTopic"] == 1, "the subscription check and its snapshots share one listing"
    # Both users of each read still did their work with it.
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    role = f"arn:aws:iam::{HOME_ACCOUNT}:role/iamwarden-enforcer"
    assert recorded.snapshot(BOUNDARY, role) is not None
    assert recorded.snapshot(BOUNDARY, f"arn:aws:iam::{HOME_ACCOUNT}:user/alice") is not None
    trust = recorded.snapshot(ROLE_TRUST, role)
    assert trust is not None
    assert trust.data == {"trust_policy": json.loads(TRUST)}
    [subscription] = [
        s["SubscriptionArn"]
        for s in account.session.client("sns", region_name=REGION).list_subscriptions_by_topic(TopicArn=topic)[
            "Subscriptions"
        ]
    ]
    assert recorded.snapshot(OWN_SUBSCRIPTION, subscription) is not None
    assert not [p for p in result["problems"] if "subscription" in p]
    assert [p for p in result["problems"] if "the statement OrganizationAccountsPutEvents is missing or changed" in p]

    heartbeat.run()

    assert calls.started["GetAccountAuthorizationDetails"] == 2, "each run reads afresh: one page-through a run"
    assert calls.made["DescribeEventBus"] == 2


def test_a_shared_read_that_fails_is_said_by_each_check_that_needed_it(account: Account) -> None:
    calls = _Calls(account)
    heartbeat, topic = _loop(account)
    calls.refuse = {"GetAccountAuthorizationDetails", "DescribeEventBus", "ListSubscriptionsByTopic"}

    problems = heartbeat.run()["problems"]

    assert calls.made["GetAccountAuthorizationDetails"] == 1
    assert calls.made["DescribeEventBus"] == 1
    assert calls.made["ListSubscriptionsByTopic"] == 1
    for what in ("permissions boundaries", "role trust policies", "alert topic's subscriptions"):
        assert [p for p in problems if f"the snapshots of the {what} of {HOME_ACCOUNT}" in p and "AccessDenied" in p]
    assert f"the alert topic {topic} cannot be read (An error occurred (AccessDenied)" in "\n".join(problems)
    assert "the central bus iamwarden-central cannot be read (An error occurred (AccessDenied)" in "\n".join(problems)
    assert "the central bus iamwarden-central cannot be read (AccessDenied)" in problems
