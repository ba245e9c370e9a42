"""Load: a burst of routed events through the enforcer's Lambda handler against moto_server.

The changes are made for real in moto_server, their CloudTrail events go through the
template's own EventBridge rules, and the handler (functions/enforcer/app.py, wired from
the template's environment as Lambda wires it) handles what was routed, one warm
container, one event at a time. Then every resource is read back, the audit table is
read, and the alerts that reached the alert topic are counted.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.aws_fixtures import (
    HOME_ACCOUNT,
    create_parameters,
    create_queues,
    create_secrets,
    create_tables,
    create_topics,
    function_environment,
)
from tests.integration.burst import REGION, REMEDIATED_RULES, Burst, route

ROOT = Path(__file__).resolve().parents[2]
#: ``make test`` sends 400 events of the mix (a minute against moto_server on two cores); ``make bench``
#: sends 2,000 through the same code and checks every resource (bench/bench_load.py), and
#: ``IAMWARDEN_BURST_SIZE=2000 pytest tests/integration/test_load.py`` runs this test at that size.
BURST_SIZE = int(os.environ.get("IAMWARDEN_BURST_SIZE", "400"))


class LambdaContext:
    function_name = "iamwarden-enforcer"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:iamwarden-enforcer"
    aws_request_id = "load-test"

    def get_remaining_time_in_millis(self) -> int:
        return 55_000


def load_handler() -> Any:
    """A fresh import of the enforcer's handler module: a cold container."""
    spec = importlib.util.spec_from_file_location("enforcer_app_load", ROOT / "functions" / "enforcer" / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def deployed(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> tuple[boto3.Session, str]:
    return deploy_stack(moto_server, monkeypatch)


def deploy_stack(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> tuple[boto3.Session, str]:
    """The template's tables, parameters, queues, topics and secrets in moto_server, the enforcer's environment
    set for it, the burst's rules in remediate mode; returns the session and a queue that sees every alert.
    """
    for name, value in {
        **function_environment("EnforcerFunction"),
        "IAMWARDEN_MAX_EVENT_AGE_SECONDS": "0",  # the samples are dated when they were written
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": moto_server,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    session = boto3.Session(region_name=REGION)
    # moto_server's own account: the enforcer's home account, as CloudFormation would resolve it
    account = session.client("sts").get_caller_identity()["Account"]
    for name, value in function_environment("EnforcerFunction").items():
        monkeypatch.setenv(name, value.replace(HOME_ACCOUNT, account))
    create_tables(session.client("dynamodb"))
    ssm = session.client("ssm")
    create_parameters(ssm)
    create_queues(session.client("sqs"))
    topics = create_topics(session.client("sns"))
    create_secrets(session.client("secretsmanager"))
    prefix = function_environment("EnforcerFunction")["IAMWARDEN_SETTINGS_PREFIX"]
    for rule in REMEDIATED_RULES:
        ssm.put_parameter(Name=f"{prefix}/rules/{rule}/mode", Value="remediate", Type="String", Overwrite=True)
    # A burst is not a runaway: the operator running it raises the circuit breaker's limit.
    ssm.put_parameter(Name=f"{prefix}/breaker/max_remediations", Value="10000", Type="String", Overwrite=True)
    sqs = session.client("sqs")
    alerts = sqs.create_queue(QueueName="burst-alerts-seen")["QueueUrl"]
    alerts_arn = sqs.get_queue_attributes(QueueUrl=alerts, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    session.client("sns").subscribe(
        TopicArn=topics["AlertTopic"], Protocol="sqs", Endpoint=alerts_arn, Attributes={"RawMessageDelivery": "true"}
    )
    return session, alerts


def _alerts_seen(session: boto3.Session, queue: str) -> list[dict[str, Any]]:
    sqs = session.client("sqs")
    seen = []
    while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            seen.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return seen


def _audit_records(session: boto3.Session) -> list[dict[str, Any]]:
    table = session.resource("dynamodb").Table(function_environment("EnforcerFunction")["IAMWARDEN_AUDIT_TABLE"])
    items: list[dict[str, Any]] = []
    answer = table.scan()
    items.extend(answer["Items"])
    while "LastEvaluatedKey" in answer:
        answer = table.scan(ExclusiveStartKey=answer["LastEvaluatedKey"])
        items.extend(answer["Items"])
    return items


def test_a_burst_of_routed_events_is_judged_once_and_leaves_every_resource_right(
    deployed: tuple[boto3.Session, str],
) -> None:
    session, alerts_queue = deployed
    burst = Burst.build(
        session, BURST_SIZE, audit_table=function_environment("EnforcerFunction")["IAMWARDEN_AUDIT_TABLE"]
    )
    assert len(burst.events) >= BURST_SIZE
    routed = route(burst.events)
    routed_ids = Counter(event["detail"]["eventID"] for event in routed)
    assert burst.violations <= set(routed_ids), "every violation reaches the enforcer"
    assert len(routed) == len(routed_ids.keys()) + sum(routed_ids.values()) - len(routed_ids), "one rule per event"
    assert len(routed) >= BURST_SIZE * 0.8, "own-role and failed calls are all that routing leaves out"

    handler = load_handler()
    results: dict[str, list[dict[str, Any]]] = {}
    for event in routed:
        results.setdefault(event["detail"]["eventID"], []).append(handler.lambda_handler(event, LambdaContext()))

    # Judged once: a duplicate gets the first answer back (the idempotency store), never a second judgement.
    for event_id, answers in results.items():
        assert all(answer == answers[0] for answer in answers), event_id
    records = [item for item in _audit_records(session) if item.get("kind") == "remediation"]
    by_event = Counter(str(item["event_id"]) for item in records if item.get("rule") in REMEDIATED_RULES)
    wrong = {event_id: by_event[event_id] for event_id in burst.violations if by_event[event_id] != 1}
    assert wrong == {}, list(wrong.items())[:3]
    status = {str(item["event_id"]): item.get("status") for item in records if item.get("rule") in REMEDIATED_RULES}
    assert {event_id: status[event_id] for event_id in burst.violations if status[event_id] != "remediated"} == {}

    assert burst.check(session) == []

    seen = _alerts_seen(session, alerts_queue)
    per_finding = Counter((alert["remediation_id"], alert["outcome"]) for alert in seen)
    assert [key for key, count in per_finding.items() if count > 1] == [], "no alert is sent twice"
    remediated_alerts = {alert["event"]["id"] for alert in seen if alert["outcome"] == "remediated"}
    assert burst.violations <= remediated_alerts
