"""Slack delivery against a real HTTP server on 127.0.0.1, started and stopped by the tests.

The server records every webhook post and answers from a script (200 "ok"
unless a test queues 429s, 500s, ...). Retry waits go through an injected
``sleep`` that only records, so no test waits or times anything.

Snapshots: the exact payload per rule and outcome lives in
tests/snapshots/alerts/. They were reviewed by eye once; a change to the
message shows up as a diff there. Regenerate with
``IAMWARDEN_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/integration/test_slack_webhook.py``.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections import deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple

import boto3
import pytest
from moto import mock_aws

from iamwarden.adapters.clients import ClientFactory
from iamwarden.adapters.slack import (
    MAX_BLOCKS,
    RetryPolicy,
    SecretWebhookUrls,
    SlackWebhookSender,
    render_slack,
)
from iamwarden.alerts.message import Owner, build_message
from iamwarden.alerts.notifications import Notification
from iamwarden.alerts.settings import AlertSettings, Destination
from iamwarden.app.dispatcher import AlertDispatcher
from iamwarden.domain.exceptions import DeliveryError, SettingsProblem
from iamwarden.domain.findings import Finding, Outcome
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import ROOT, load_event

pytestmark = pytest.mark.integration

SNAPSHOTS = ROOT / "tests" / "snapshots" / "alerts"
UPDATE = os.environ.get("IAMWARDEN_UPDATE_SNAPSHOTS") == "1"
SECRET_PATH = "/services/T0IAMWARDEN/B0ALERTS/s3cr3tT0k3nD0N0tL0g"  # noqa: S105 - a fake webhook path
RULE_SAMPLES = {
    "iam-user-created": "create-user-backdoor-cli.json",
    "managed-policy-attached": "attach-admin-to-role.json",
    "s3-bucket-policy-public": "bucket-policy-public-read.json",
    "s3-bucket-policy-cross-account": "bucket-policy-unknown-account.json",
}
FINDING_OUTCOMES = (Outcome.ALERTED, Outcome.REMEDIATED, Outcome.REMEDIATION_FAILED, Outcome.NOTEWORTHY)


class Posted(NamedTuple):
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class SlackStub:
    """What the fake Slack received, and what it will answer next."""

    def __init__(self) -> None:
        self.posts: list[Posted] = []
        self.answers: deque[tuple[int, dict[str, str], str]] = deque()
        self.url = ""
        self.lock = threading.Lock()

    def answer(self, status: int, body: str = "", **headers: str) -> None:
        self.answers.append((status, {key.replace("_", "-"): value for key, value in headers.items()}, body))

    def next_answer(self) -> tuple[int, dict[str, str], str]:
        with self.lock:
            return self.answers.popleft() if self.answers else (200, {}, "ok")


@pytest.fixture
def slack() -> Iterator[SlackStub]:
    stub = SlackStub()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with stub.lock:
                stub.posts.append(Posted(self.path, dict(self.headers.items()), body))
            status, headers, text = stub.next_answer()
            data = text.encode()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    stub.url = f"http://127.0.0.1:{server.server_port}{SECRET_PATH}"
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack_sdk reads HTTP(S)_PROXY; the local server must be reached directly."""
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)


class StaticUrls:
    def __init__(self, url: str) -> None:
        self.urls = {"iamwarden/slack/security": url, "iamwarden/slack/payments": url}
        self.invalidated: list[str] = []

    def url(self, secret_name: str) -> str:
        return self.urls[secret_name]

    def invalidate(self, secret_name: str) -> None:
        self.invalidated.append(secret_name)


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def sender(stub: SlackStub, sleeps: Sleeps | None = None, **policy: Any) -> tuple[SlackWebhookSender, StaticUrls]:
    urls = StaticUrls(stub.url)
    return SlackWebhookSender(urls, RetryPolicy(sleep=sleeps or Sleeps(), timeout=5, **policy)), urls


def finding_for(rule: str, example_settings: Settings) -> tuple[Finding, Notification]:
    judgement = judge_event(load_event(RULE_SAMPLES[rule]), example_settings)
    [finding] = [f for f in judgement.findings if f.rule_id == rule]
    return finding, Notification(Outcome.ALERTED, finding, judgement.change)


def notification_for(rule: str, outcome: Outcome, example_settings: Settings) -> Notification:
    finding, base = finding_for(rule, example_settings)
    if outcome is Outcome.NOTEWORTHY:
        finding = finding._replace(alert_only=True, plan=())
    acted = outcome in (Outcome.REMEDIATED, Outcome.REMEDIATION_FAILED)
    return base._replace(
        outcome=outcome,
        finding=finding,
        remediation_id=f"rem-{finding.finding_id}" if acted else None,
        error="AccessDenied: the remediator role may not change this resource"
        if outcome.value.endswith("failed")
        else None,
    )


def check_snapshot(name: str, payload: Any) -> None:
    path = SNAPSHOTS / f"{name}.json"
    text = json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"snapshot {path.name} was missing and has been written: review it, then rerun")
    assert json.loads(path.read_text(encoding="utf-8")) == payload, f"payload differs from {path.name}"


# --------------------------------------------------------------------------- exact payloads


@pytest.mark.parametrize("outcome", FINDING_OUTCOMES, ids=lambda outcome: outcome.value)
@pytest.mark.parametrize("rule", sorted(RULE_SAMPLES))
def test_the_webhook_receives_the_exact_payload_per_rule_and_outcome(
    slack: SlackStub, example_settings: Settings, rule: str, outcome: Outcome
) -> None:
    notification = notification_for(rule, outcome, example_settings)
    owner = Owner("payments", "tag team on the resource") if outcome is Outcome.ALERTED else None
    message = build_message(notification, account_alias="acme-prod", owner=owner, owner_routed=owner is not None)
    send, _ = sender(slack)

    send.send("iamwarden/slack/security", render_slack(message))

    [post] = slack.posts
    assert post.path == SECRET_PATH
    assert post.headers["Content-Type"] == "application/json;charset=utf-8"
    check_snapshot(f"{rule}--{outcome.value}", post.json())


def test_the_webhook_receives_the_exact_configuration_error_payload(slack: SlackStub) -> None:
    problems = (
        SettingsProblem("rules/iam-user-created/mode", "must be one of off, alert, remediate, got 'enforce'"),
        SettingsProblem("alerts/teams/payments/sns_topic_arn", "must be an SNS topic ARN, got 'payments'"),
    )
    message = build_message(Notification(Outcome.CONFIGURATION_ERROR, problems=problems), account="111122223333")
    send, _ = sender(slack)

    send.send("iamwarden/slack/security", render_slack(message))

    [post] = slack.posts
    check_snapshot("configuration_error", post.json())


def test_a_20_kb_policy_is_delivered_within_slacks_limits(slack: SlackStub, example_settings: Settings) -> None:
    finding, notification = finding_for("s3-bucket-policy-public", example_settings)
    statement = dict(finding.offending[0]["statement"])
    statements = [
        {
            "index": i,
            "sid": f"Public{i}",
            "statement": {**statement, "Sid": f"Public{i}", "Resource": f"arn:aws:s3:::acme-invoices/prefix-{i:04d}/*"},
        }
        for i in range(160)
    ]
    big = finding._replace(offending=tuple(statements))
    assert len(json.dumps([s["statement"] for s in statements])) > 20_000
    payload = render_slack(build_message(notification._replace(finding=big)))
    send, _ = sender(slack)

    send.send("iamwarden/slack/security", payload)

    received = slack.posts[0].json()
    assert len(received["blocks"]) <= MAX_BLOCKS
    texts = [block["text"]["text"] for block in received["blocks"] if block["type"] == "section" and "text" in block]
    assert all(len(text) <= 3000 for text in texts)
    [details] = [text for text in texts if text.startswith("*Offending statements (truncated)*")]
    assert "truncated (" in details
    assert "the full text is in the JSON alert on the security SNS topic" in details
    assert details.count("```") == 2  # the code block is closed before the pointer


# --------------------------------------------------------------------------- retries


def test_a_429_is_retried_after_exactly_retry_after_seconds(slack: SlackStub) -> None:
    slack.answer(429, "rate_limited", Retry_After="3")
    sleeps = Sleeps()
    send, _ = sender(slack, sleeps)

    send.send("iamwarden/slack/security", {"text": "hello"})

    assert len(slack.posts) == 2
    assert slack.posts[0].body == slack.posts[1].body
    assert sleeps.waits == [3.0]


def test_server_errors_are_retried_with_backoff(slack: SlackStub) -> None:
    slack.answer(500, "oops")
    slack.answer(503, "busy")
    sleeps = Sleeps()
    send, _ = sender(slack, sleeps, backoff=0.5)

    send.send("iamwarden/slack/security", {"text": "hello"})

    assert len(slack.posts) == 3
    assert sleeps.waits == [0.5, 1.0]


def test_delivery_gives_up_cleanly_after_the_bound(slack: SlackStub) -> None:
    for _ in range(10):
        slack.answer(500, "internal_error")
    sleeps = Sleeps()
    send, _ = sender(slack, sleeps, max_retries=2)

    with pytest.raises(DeliveryError) as raised:
        send.send("iamwarden/slack/security", {"text": "hello"})

    assert len(slack.posts) == 3
    assert len(sleeps.waits) == 2
    assert "HTTP 500 'internal_error' (3 attempts)" in str(raised.value)


def test_a_retry_after_beyond_the_bound_fails_at_once_instead_of_stalling(slack: SlackStub) -> None:
    slack.answer(429, "rate_limited", Retry_After="120")
    sleeps = Sleeps()
    send, _ = sender(slack, sleeps, max_retry_after=10)

    with pytest.raises(DeliveryError, match="longer than the 10s bound"):
        send.send("iamwarden/slack/security", {"text": "hello"})

    assert len(slack.posts) == 1
    assert sleeps.waits == []


def test_a_revoked_webhook_is_not_retried_and_its_cached_url_is_dropped(slack: SlackStub) -> None:
    slack.answer(404, "no_service")
    send, urls = sender(slack)

    with pytest.raises(DeliveryError, match="HTTP 404 'no_service' \\(1 attempt\\)"):
        send.send("iamwarden/slack/security", {"text": "hello"})

    assert len(slack.posts) == 1
    assert urls.invalidated == ["iamwarden/slack/security"]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_an_unreachable_webhook_fails_after_retries_and_never_reveals_the_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"http://127.0.0.1:{_closed_port()}{SECRET_PATH}"
    sleeps = Sleeps()
    send = SlackWebhookSender(StaticUrls(url), RetryPolicy(sleep=sleeps, max_retries=2))

    with pytest.raises(DeliveryError) as raised:
        send.send("iamwarden/slack/security", {"text": "hello"})

    assert "(3 attempts)" in str(raised.value)
    assert len(sleeps.waits) == 2
    for text in (str(raised.value), caplog.text, repr(raised.value.__cause__), repr(raised.value.__context__)):
        assert "s3cr3tT0k3n" not in text


def test_retries_and_failures_never_log_the_url(slack: SlackStub, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    slack.answer(429, "rate_limited", Retry_After="1")
    for _ in range(5):
        slack.answer(500, "internal_error")
    send, _ = sender(slack)

    with pytest.raises(DeliveryError) as raised:
        send.send("iamwarden/slack/security", {"text": "hello"})

    assert "s3cr3tT0k3n" not in caplog.text
    assert "s3cr3tT0k3n" not in str(raised.value)


# --------------------------------------------------------------------------- end to end


def test_the_dispatcher_delivers_through_secrets_manager_to_security_and_owner_once(
    slack: SlackStub, example_settings: Settings
) -> None:
    with mock_aws():
        secrets = boto3.client("secretsmanager", region_name="us-east-1")
        secrets.create_secret(Name="iamwarden/slack/security", SecretString=slack.url)
        secrets.create_secret(
            Name="iamwarden/slack/payments", SecretString=json.dumps({"url": slack.url + "-payments"})
        )
        factory = ClientFactory("111122223333", session=boto3.Session(region_name="us-east-1"))
        send = SlackWebhookSender(SecretWebhookUrls(factory), RetryPolicy(sleep=Sleeps()))
        dispatcher = AlertDispatcher(
            security=Destination(slack_webhook="iamwarden/slack/security"),
            settings=AlertSettings(
                teams={
                    "payments": Destination(slack_webhook="iamwarden/slack/payments"),
                    "security-too": Destination(slack_webhook="iamwarden/slack/security"),
                }
            ),
            slack=send,
            owners=FixedOwner(Owner("payments", "tag team on role app-backend")),
        )
        _, notification = finding_for("managed-policy-attached", example_settings)

        report = dispatcher.notify(notification)

        assert report.failed == ()
        assert [d.channel for d in report.deliveries] == [
            "slack:iamwarden/slack/security",
            "slack:iamwarden/slack/payments",
        ]
        assert [post.path for post in slack.posts] == [SECRET_PATH, SECRET_PATH + "-payments"]
        assert slack.posts[0].body == slack.posts[1].body

        # The same secret for owner and security: delivered once.
        dispatcher._owners = FixedOwner(Owner("security-too", "tag team on role app-backend"))
        dispatcher._owner_cache.clear()
        report = dispatcher.notify(notification)
        assert [d.channel for d in report.deliveries] == ["slack:iamwarden/slack/security"]


def test_a_failing_webhook_becomes_a_failed_delivery_not_an_exception(
    slack: SlackStub, example_settings: Settings
) -> None:
    for _ in range(10):
        slack.answer(500, "internal_error")
    send, _ = sender(slack)
    dispatcher = AlertDispatcher(security=Destination(slack_webhook="iamwarden/slack/security"), slack=send)
    _, notification = finding_for("iam-user-created", example_settings)

    report = dispatcher.notify(notification)

    [failed] = report.failed
    assert failed.channel == "slack:iamwarden/slack/security"
    assert failed.error is not None
    assert "HTTP 500" in failed.error
    assert "s3cr3tT0k3n" not in failed.error


class FixedOwner:
    def __init__(self, owner: Owner | None) -> None:
        self.owner = owner

    def owner_of(self, finding: Finding, tag_keys: tuple[str, ...]) -> Owner | None:
        return self.owner

    def account_alias(self, account: str, region: str) -> str | None:
        return "acme-prod"


def test_snapshots_are_all_used() -> None:
    expected = {f"{rule}--{outcome.value}.json" for rule in RULE_SAMPLES for outcome in FINDING_OUTCOMES}
    expected.add("configuration_error.json")
    assert {path.name for path in Path(SNAPSHOTS).glob("*.json")} <= expected
