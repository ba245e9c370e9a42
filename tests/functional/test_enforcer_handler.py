"""The enforcer handler, loaded from functions/enforcer/app.py as Lambda loads it, against moto."""

from __future__ import annotations

import importlib.util
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import ROOT, load_event
from tests.functional.conftest import Account
from tests.functional.guardrail_cases import heartbeat_read_attachments

HANDLER = ROOT / "functions" / "enforcer" / "app.py"


@dataclass
class FakeLambdaContext:
    function_name: str = "iamwarden-enforcer"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:111122223333:function:iamwarden-enforcer"
    aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"

    def get_remaining_time_in_millis(self) -> int:
        return 55_000


@pytest.fixture(scope="module")
def handler_module() -> Iterator[ModuleType]:
    """The handler module, imported once as in a warm Lambda container."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("POWERTOOLS_TRACE_DISABLED", "1")
        env.setenv("POWERTOOLS_SERVICE_NAME", "iamwarden")
        env.setenv("POWERTOOLS_METRICS_NAMESPACE", "IamWarden")
        spec = importlib.util.spec_from_file_location("enforcer_app", HANDLER)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module


@pytest.fixture
def enforcer(handler_module: ModuleType, account: Account) -> Iterator[ModuleType]:
    """The handler in a fresh container: its service is built on first use, inside this test's moto account."""
    handler_module.__dict__["_service"] = None
    yield handler_module
    handler_module.__dict__["_service"] = None


@pytest.fixture
def log_lines(enforcer: ModuleType) -> Iterator[io.StringIO]:
    """The handler's structured log lines for one test (the Logger's stream is bound at import)."""
    buffer = io.StringIO()
    handlers = [h for h in logging.getLogger("iamwarden").handlers if isinstance(h, logging.StreamHandler)]
    previous = [h.setStream(buffer) for h in handlers]
    yield buffer
    for handler, stream in zip(handlers, previous, strict=True):
        if stream is not None:
            handler.setStream(stream)


def _emf(output: str) -> list[dict[str, Any]]:
    """The EMF metric blobs printed, with each metric's values summed (EMF may give a list)."""
    blobs = [json.loads(line) for line in output.splitlines() if line.startswith("{") and '"_aws"' in line]
    return [
        {key: sum(value) if isinstance(value, list) else value for key, value in blob.items() if key != "_aws"}
        for blob in blobs
    ]


def test_a_violation_is_judged_logged_and_counted(
    enforcer: ModuleType, capsys: pytest.CaptureFixture[str], log_lines: io.StringIO
) -> None:
    result = enforcer.lambda_handler(load_event("attach-admin-to-role.json"), FakeLambdaContext())
    assert result["verdict"] == "violation"
    [finding] = result["findings"]
    assert finding["rule"] == "managed-policy-attached"
    assert finding["outcome"] == "alerted"
    blobs = _emf(capsys.readouterr().out)
    [per_rule] = [blob for blob in blobs if "Findings" in blob]
    assert per_rule["Findings"] == 1.0
    assert per_rule["rule"] == "managed-policy-attached"
    [verdicts] = [blob for blob in blobs if "Violation" in blob]
    assert verdicts["Violation"] == 1.0
    logs = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    assert any(
        "AdministratorAccess was attached" in str(log.get("message"))
        and "managed-policy-attached" in str(log.get("rule"))
        and log.get("event_id")
        for log in logs
    )


def test_a_malformed_event_is_an_invalid_verdict_not_a_crash(
    enforcer: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    result = enforcer.lambda_handler({"detail-type": "Scheduled Event", "detail": {}}, FakeLambdaContext())
    assert result["verdict"] == "invalid"
    [metrics] = _emf(capsys.readouterr().out)
    assert metrics["Invalid"] == 1.0


def test_the_tools_own_change_is_ignored(enforcer: ModuleType) -> None:
    result = enforcer.lambda_handler(load_event("create-user-by-warden.json"), FakeLambdaContext())
    assert result["verdict"] == "ignored"
    assert (
        result["reason"] == "made by IAM Warden's own role arn:aws:iam::111122223333:role/iamwarden-enforcer-us-east-1"
    )
    assert result["findings"] == []


def test_remediations_are_counted_per_rule(
    enforcer: ModuleType, account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    account.set("rules/managed-policy-attached/mode", "remediate")
    account.iam.create_role(RoleName="app-backend", AssumeRolePolicyDocument="{}")
    heartbeat_read_attachments(account, "2026-11-01T00:00:00Z")  # the event adds what the read did not see
    account.iam.attach_role_policy(RoleName="app-backend", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")

    result = enforcer.lambda_handler(load_event("attach-admin-to-role.json"), FakeLambdaContext())

    assert result["findings"][0]["outcome"] == "remediated"
    blobs = _emf(capsys.readouterr().out)
    [remediations] = [blob for blob in blobs if "Remediations" in blob]
    assert remediations == {"Remediations": 1.0, "rule": "managed-policy-attached"} | {
        key: value for key, value in remediations.items() if key not in ("Remediations", "rule")
    }


def test_with_the_placeholder_slack_secret_alerts_go_to_sns_only_and_nothing_is_failed(
    enforcer: ModuleType, account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    """Wired as deployed: the alert goes to the template's SNS topic. The Slack secret still holds the
    template's placeholder: Slack is not set up, which is not a failure (nothing kept, counted or retried)."""
    sns = account.session.client("sns")
    [topic] = [t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":iamwarden-alerts")]
    queue_url = account.sqs.create_queue(QueueName="security-inbox")["QueueUrl"]
    queue_arn = account.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})

    result = enforcer.lambda_handler(load_event("attach-admin-to-role.json"), FakeLambdaContext())

    [finding] = result["findings"]
    [message] = account.sqs.receive_message(QueueUrl=queue_url, MessageAttributeNames=["All"])["Messages"]
    alert = json.loads(message["Body"])  # SQS subscribers get the machine-readable JSON body
    assert alert["remediation_id"] == finding["remediation_id"]
    assert message["MessageAttributes"]["outcome"]["StringValue"] == "alerted"
    assert message["MessageAttributes"]["severity"]["StringValue"] == "critical"
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert not record.delivery_failures
    assert record.undelivered_event is None
    assert record.alerts_sent == frozenset({"alerted"})
    metrics = _emf(capsys.readouterr().out)
    assert not [blob for blob in metrics if "AlertDeliveryFailed" in blob]
    assert [blob["AlertsDelivered"] for blob in metrics if "AlertsDelivered" in blob] == [1.0]  # SNS alone


@dataclass
class _LateContext(FakeLambdaContext):
    """A run with little time left (review sessions-s15 F5)."""

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@pytest.mark.parametrize(("context", "looked_up"), [(FakeLambdaContext(), True), (_LateContext(), False)])
def test_a_quarantine_looks_up_earlier_sessions_only_with_time_left_in_the_run(
    enforcer: ModuleType, account: Account, context: FakeLambdaContext, looked_up: bool
) -> None:
    """The Lambda context's remaining time reaches the quarantine's earlier-sessions lookup through the wiring: with
    less than its reserve left it looks nothing up and says so; the quarantine stands either way."""
    account.set("rules/iam-user-created/mode", "remediate")
    account.iam.create_user(UserName="backdoor-admin")
    result = enforcer.lambda_handler(load_event("create-user-backdoor-cli.json"), context)
    [finding] = result["findings"]
    assert finding["outcome"] == "remediated"
    skipped = "earlier role sessions of backdoor-admin: unknown (not looked up: the Lambda run had less than 20 s left)"
    assert (skipped in finding["done"]) is not looked_up
    assert any(line.startswith("earlier role sessions of backdoor-admin") for line in finding["done"])
