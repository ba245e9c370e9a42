"""The Slack interaction endpoint end to end: a local server plays Slack, moto holds the tables and secrets.

Each test sends a signed interaction payload through the Lambda function URL
event shape (base64 form body), exactly as Slack and Lambda deliver it, and
reads back what the endpoint did: the HTTP answer, the Slack calls it made
(``views.open``, ``usergroups.users.list``, ``response_url`` posts), the undo
it handed to the enforcer, and the audit items it wrote.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from iamwarden.adapters.clients import ClientFactory
from iamwarden.adapters.slack_app import LambdaUndoQueue
from iamwarden.adapters.slack_response import respond
from iamwarden.alerts.interactions import (
    ACTION_ACKNOWLEDGE,
    ACTION_APPROVE_EXCEPTION,
    ACTION_REQUEST_EXCEPTION,
    ACTION_UNDO,
    ACTION_UNDO_WITH_EXCEPTION,
    ACTIONS_BLOCK_ID,
    EXCEPTION_VIEW,
    UNDO_COMMAND,
)
from iamwarden.app.exception_wiring import build_exception_desk
from iamwarden.app.service import EnforcerService
from iamwarden.app.slack_interactions import InteractionEndpoint, build_interaction_endpoint
from iamwarden.app.slack_undo import run_slack_undo
from iamwarden.app.wiring import build_clients, build_executor
from iamwarden.domain.exceptions import IamWardenError
from iamwarden.domain.rule_exceptions import ExceptionScope, ExceptionStatus
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account
from tests.functional.test_cli_undo_history import USER, USER_ARN, keys, quarantined_user

SIGNING = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-test-token"  # noqa: S105
TEAM = "T0TEAM"
APPROVER = "UAPPROVER"
GROUP_MEMBER = "UGROUPIE"
OWNER = "UOWNER"
STRANGER = "USTRANGER"


class FakeSlack:
    """Slack's Web API and response URLs on 127.0.0.1: records every call, answers ``ok``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.responses: list[dict[str, Any]] = []
        self.groups: dict[str, list[str]] = {"SAPPROVERS": [GROUP_MEMBER]}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length", "0") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                if "json" in (self.headers.get("Content-Type") or ""):
                    args: dict[str, Any] = json.loads(raw) if raw else {}
                else:
                    args = {key: values[0] for key, values in parse_qs(raw or parts.query).items()}
                    args.update({key: values[0] for key, values in parse_qs(parts.query).items()})
                if parts.path.startswith("/response/"):
                    fake.responses.append(args)
                    self._answer({"ok": True})
                    return
                method = parts.path.removeprefix("/api/")
                args["authorization"] = self.headers.get("Authorization")
                fake.calls.append((method, args))
                if method == "usergroups.users.list":
                    self._answer({"ok": True, "users": fake.groups.get(args.get("usergroup", ""), [])})
                else:
                    self._answer({"ok": True, "channel": args.get("channel", "C1"), "ts": "1700000000.000100"})

            def do_POST(self) -> None:
                self._handle()

            def do_GET(self) -> None:
                self._handle()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def response_url(self) -> str:
        return f"{self.base}/response/T0TEAM/1/abc"

    def methods(self) -> list[str]:
        return [method for method, _ in self.calls]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RecordingLambda:
    """The enforcer's asynchronous invocation, recorded instead of run."""

    def __init__(self) -> None:
        self.invocations: list[dict[str, Any]] = []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        assert kwargs["InvocationType"] == "Event"
        self.invocations.append({"FunctionName": kwargs["FunctionName"], **json.loads(kwargs["Payload"])})
        return {"StatusCode": 202}


class FakeException:
    def __init__(self, exception_id: str, days: int) -> None:
        self.exception_id = exception_id
        self.days = days
        self.status = "requested"


class FakeDesk:
    """The exception desk's ``request``/``approve`` in memory (the real one is the exceptions branch's)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.approvals: list[tuple[str, str]] = []
        self.exceptions: dict[str, FakeException] = {}

    def request(
        self,
        scope: Any,
        reason: str,
        requester: str,
        days: int | None = None,
        *,
        source_remediation_id: str | None = None,
    ) -> FakeException:
        if days is not None and days > 90:
            raise IamWardenError(f"{days} days is longer than the 90 days an exception may last")
        exception = FakeException(f"exc-{len(self.exceptions) + 1}", days or 7)
        self.exceptions[exception.exception_id] = exception
        self.requests.append(
            {
                "scope": scope,
                "reason": reason,
                "requester": requester,
                "days": days,
                "source_remediation_id": source_remediation_id,
            }
        )
        return exception

    def approve(self, exception_id: str, approver: str) -> FakeException:
        exception = self.exceptions.get(exception_id)
        if exception is None:
            raise IamWardenError(f"no exception {exception_id}")
        if exception.status != "requested":
            raise IamWardenError(f"exception {exception_id} is {exception.status}, not pending")
        exception.status = "approved"
        self.approvals.append((exception_id, approver))
        return exception


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    yield fake
    fake.close()


class Harness:
    def __init__(self, account: Account, slack: FakeSlack) -> None:
        self.account = account
        self.slack = slack
        self.lambda_client = RecordingLambda()
        self.desk = FakeDesk()
        secrets = account.session.client("secretsmanager")
        secrets.put_secret_value(SecretId="iamwarden/slack/signing", SecretString=SIGNING)
        secrets.put_secret_value(SecretId="iamwarden/slack/bot", SecretString=json.dumps({"token": BOT_TOKEN}))
        account.set("slack/approvers", f"{APPROVER},SAPPROVERS")
        account.set("alerts/teams/payments/slack_users", OWNER)
        account.set("alerts/teams/payments/sns_topic_arn", f"arn:aws:sns:us-east-1:{HOME_ACCOUNT}:iamwarden-payments")
        self.endpoint: InteractionEndpoint = build_interaction_endpoint(
            account.config,
            ClientFactory(HOME_ACCOUNT, session=account.session),
            {
                "IAMWARDEN_SLACK_API_URL": slack.base + "/api/",
                "IAMWARDEN_SLACK_SIGNING_SECRET": "iamwarden/slack/signing",
                "IAMWARDEN_SLACK_BOT_SECRET": "iamwarden/slack/bot",
            },
            exceptions=self.desk,
        )
        self.endpoint.undo = LambdaUndoQueue("iamwarden-enforcer", self.lambda_client)

    def send(self, payload: dict[str, Any], **options: Any) -> dict[str, Any]:
        return self.endpoint.handle(signed_event(payload, **options))

    def clicks(self) -> list[dict[str, Any]]:
        items = self.account.dynamodb.scan(TableName=self.account.config.audit_table)["Items"]
        clicks = [item for item in items if item["kind"]["S"] == "slack_action"]
        return sorted(
            (
                {
                    "status": item["status"]["S"],
                    "actor": item["actor"]["S"],
                    "action": json.loads(item["finding"]["S"])["action"],
                    "error": item.get("error", {}).get("S"),
                    "done": json.loads(item["done"]["S"]) if "done" in item else [],
                }
                for item in clicks
            ),
            key=lambda click: str(click["action"]),
        )


@pytest.fixture
def harness(account: Account, slack: FakeSlack) -> Harness:
    return Harness(account, slack)


def signed_event(
    payload: dict[str, Any] | None,
    *,
    secret: str = SIGNING,
    timestamp: int | None = None,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    drop: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A Lambda function URL event carrying ``payload`` as Slack posts it, signed with ``secret``."""
    text = body if body is not None else urlencode({"payload": json.dumps(payload)})
    sent = int(time.time()) if timestamp is None else timestamp
    signature = "v0=" + hmac.new(secret.encode(), f"v0:{sent}:{text}".encode(), hashlib.sha256).hexdigest()
    all_headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": str(sent),
        "x-slack-signature": signature,
        "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        **(headers or {}),
    }
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": {name: value for name, value in all_headers.items() if name not in drop},
        "requestContext": {"http": {"method": "POST", "path": "/", "sourceIp": "203.0.113.9"}},
        "body": base64.b64encode(text.encode()).decode(),
        "isBase64Encoded": True,
    }


ALERT_BLOCKS = [
    {"type": "header", "block_id": "h", "text": {"type": "plain_text", "text": "Remediated"}},
    {"type": "actions", "block_id": ACTIONS_BLOCK_ID, "elements": []},
]


def button(
    action_id: str, user: str, remediation_id: str, slack: FakeSlack, *, team: str | None = "payments"
) -> dict[str, Any]:
    value = {"r": remediation_id, **({"team": team} if team else {})}
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": TEAM},
        "team": {"id": TEAM, "domain": "example"},
        "trigger_id": "1337.42.abcd",
        "response_url": slack.response_url,
        "message": {"ts": "1700000000.000100", "blocks": ALERT_BLOCKS},
        "actions": [{"action_id": action_id, "block_id": ACTIONS_BLOCK_ID, "value": json.dumps(value)}],
    }


def approve_click(user: str, exception_id: str, slack: FakeSlack) -> dict[str, Any]:
    payload = button(ACTION_APPROVE_EXCEPTION, user, "unused", slack)
    payload["actions"] = [{"action_id": ACTION_APPROVE_EXCEPTION, "block_id": ACTIONS_BLOCK_ID, "value": exception_id}]
    return payload


def no_action(harness: Harness) -> None:
    assert harness.lambda_client.invocations == []
    assert harness.desk.requests == []
    assert harness.desk.approvals == []


# --- undo ------------------------------------------------------------------------------------------------


def test_an_approver_undoes_from_slack_with_the_same_undo_and_the_message_says_who(
    account: Account, enforcer: EnforcerService, harness: Harness, slack: FakeSlack
) -> None:
    remediation_id, key = quarantined_user(account, enforcer)
    assert keys(account) == {key: "Inactive"}

    answer = harness.send(button(ACTION_UNDO, APPROVER, remediation_id, slack))

    assert answer["statusCode"] == 200
    [command] = harness.lambda_client.invocations
    assert command["FunctionName"] == "iamwarden-enforcer"
    assert command["command"] == UNDO_COMMAND
    # The command names only the verified request the endpoint left in the audit table; the request says the rest.
    assert set(command) == {"FunctionName", "command", "request_id", "blocks"}
    request = account.audit().get(command["request_id"])
    assert request is not None
    assert (request.kind, request.status, request.undoes, request.actor) == (
        "slack_undo_request",
        "requested",
        remediation_id,
        f"slack:{TEAM}/{APPROVER}",
    )
    assert request.finding["exception_id"] is None
    # The alert is updated at once: its buttons give way to who asked.
    [pending] = slack.responses
    assert pending["replace_original"] is True
    assert all(block.get("block_id") != ACTIONS_BLOCK_ID for block in pending["blocks"])
    assert f"Undo requested by <@{APPROVER}>" in pending["blocks"][-1]["elements"][0]["text"]
    assert harness.clicks() == [
        {
            "status": "allowed",
            "actor": f"slack:{TEAM}/{APPROVER}",
            "action": ACTION_UNDO,
            "error": None,
            "done": ["undo handed to the enforcer (approver)"],
        }
    ]
    assert keys(account) == {key: "Inactive"}  # nothing changed until the enforcer runs the undo

    # The enforcer's half: the same undo as `iamwarden undo`, recorded with the Slack user, then the message.
    result = run_slack_undo(
        command, build_executor(account.config, build_clients(account.config)), respond, account.audit()
    )

    assert result["verdict"] == "undone"
    assert keys(account) == {key: "Active"}
    record = account.audit().get(remediation_id)
    assert record is not None
    assert record.status == "undone"
    undo_record = account.audit().get(str(record.undone_by))
    assert undo_record is not None
    assert undo_record.actor == f"slack:{TEAM}/{APPROVER}"
    final = slack.responses[-1]
    assert f"Undone by <@{APPROVER}>" in final["blocks"][-1]["elements"][0]["text"]
    assert account.iam.get_user(UserName=USER)["User"]["Arn"] == USER_ARN


def test_a_second_undo_of_the_same_remediation_is_refused_by_the_enforcer_and_said_in_slack(
    account: Account, enforcer: EnforcerService, harness: Harness, slack: FakeSlack
) -> None:
    remediation_id, _ = quarantined_user(account, enforcer)
    # Two clicks allowed before either undo ran (the endpoint saw the remediation not yet undone each time).
    harness.send(button(ACTION_UNDO, APPROVER, remediation_id, slack))
    harness.send(button(ACTION_UNDO, APPROVER, remediation_id, slack), timestamp=int(time.time()) + 1)
    first, second = harness.lambda_client.invocations
    executor = build_executor(account.config, build_clients(account.config))
    assert run_slack_undo(first, executor, respond, account.audit())["verdict"] == "undone"

    assert run_slack_undo(second, executor, respond, account.audit())["verdict"] == "undo_failed"
    assert "already undone" in slack.responses[-1]["text"]
    # The same command again names a request already taken: refused, nothing run, nothing said in Slack.
    said = len(slack.responses)
    assert run_slack_undo(first, executor, respond, account.audit())["verdict"] == "refused"
    assert len(slack.responses) == said

    # And a click after the undo is refused at the endpoint, without reaching the enforcer.
    harness.send(button(ACTION_UNDO, APPROVER, remediation_id, slack), timestamp=int(time.time()) + 2)
    assert len(harness.lambda_client.invocations) == 2
    assert "already undone" in slack.responses[-1]["text"]


def test_an_undo_request_the_enforcer_never_took_lapses(
    account: Account, enforcer: EnforcerService, harness: Harness, slack: FakeSlack
) -> None:
    """Review s11 W2: a request whose hand-over failed must not wait for whoever may invoke the enforcer later."""
    remediation_id, key = quarantined_user(account, enforcer)
    harness.send(button(ACTION_UNDO, APPROVER, remediation_id, slack))
    [command] = harness.lambda_client.invocations
    executor = build_executor(account.config, build_clients(account.config))
    later = datetime.now(UTC) + timedelta(hours=1, minutes=1)

    result = run_slack_undo(command, executor, respond, account.audit(), clock=lambda: later)

    assert result["verdict"] == "refused"
    assert "lapsed" in result["reason"]
    assert keys(account) == {key: "Inactive"}
    # Within the hour it is taken as usual.
    assert run_slack_undo(command, executor, respond, account.audit())["verdict"] == "undone"


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param({}, id="no-request"),
        pytest.param({"request_id": "slack-undo-0000"}, id="unknown-request"),
        pytest.param({"request_id": "{remediation_id}"}, id="a-remediation-id-as-request"),
    ],
)
def test_an_undo_command_not_handed_over_by_the_slack_endpoint_undoes_nothing(
    account: Account, enforcer: EnforcerService, slack: FakeSlack, forged: dict[str, str]
) -> None:
    """Review s11 F20: whoever may invoke the enforcer could hand it an undo naming any remediation and undoer."""
    remediation_id, key = quarantined_user(account, enforcer)
    command = {
        "command": UNDO_COMMAND,
        "remediation_id": remediation_id,
        "by": f"slack:{TEAM}/{APPROVER}",
        "user_id": APPROVER,
        "response_url": slack.response_url,
        "blocks": [],
        **{name: value.format(remediation_id=remediation_id) for name, value in forged.items()},
    }
    executor = build_executor(account.config, build_clients(account.config))

    result = run_slack_undo(command, executor, respond, account.audit())

    assert result["verdict"] == "refused"
    assert "nothing was undone" in result["reason"]
    assert keys(account) == {key: "Inactive"}
    record = account.audit().get(remediation_id)
    assert record is not None
    assert record.status == "remediated"
    assert slack.responses == []


def public_bucket_policy_cut(account: Account, enforcer: EnforcerService) -> str:
    """The public read of bucket acme-invoices cut by the enforcer (an everyday remediation): its remediation id."""
    account.set("rules/s3-bucket-policy-public/mode", "remediate")
    event = load_event("bucket-policy-public-read.json")
    s3 = account.session.client("s3", region_name="eu-west-1")
    s3.create_bucket(Bucket="acme-invoices", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    policy = event["detail"]["requestParameters"]["bucketPolicy"]
    s3.put_bucket_policy(Bucket="acme-invoices", Policy=json.dumps(policy))
    [finding] = enforcer.handle(event)["findings"]
    assert finding["outcome"] == "remediated"
    return str(finding["remediation_id"])


@pytest.mark.parametrize(("owners_may_undo", "allowed"), [("on", True), ("off", False)])
def test_the_owner_team_may_undo_its_own_resource_only_when_owners_may_undo_is_on(
    account: Account, enforcer: EnforcerService, harness: Harness, owners_may_undo: str, allowed: bool
) -> None:
    slack = harness.slack
    remediation_id = public_bucket_policy_cut(account, enforcer)
    account.set("slack/owners_may_undo", owners_may_undo)

    answer = harness.send(button(ACTION_UNDO, OWNER, remediation_id, slack))

    assert answer["statusCode"] == 200
    assert len(harness.lambda_client.invocations) == (1 if allowed else 0)
    [click] = harness.clicks()
    assert click["status"] == ("allowed" if allowed else "refused")
    assert click["actor"] == f"slack:{TEAM}/{OWNER}"
    if not allowed:
        assert "owners_may_undo is off" in click["error"]
        [told] = slack.responses
        assert told["response_type"] == "ephemeral"
        assert told["replace_original"] is False
        assert "owners_may_undo is off" in told["text"]


def test_an_owner_may_never_undo_a_quarantine_whatever_owners_may_undo_says(
    account: Account, enforcer: EnforcerService, harness: Harness, slack: FakeSlack
) -> None:
    """Review s11 F5: the owner team is read from tags the changer may set; a backdoor user created with
    ``--tags team=payments`` put the quarantine's Undo button in payments' hands."""
    remediation_id, key = quarantined_user(account, enforcer)
    account.set("slack/owners_may_undo", "on")

    harness.send(button(ACTION_UNDO, OWNER, remediation_id, slack))

    assert harness.lambda_client.invocations == []
    [click] = harness.clicks()
    assert click["status"] == "refused"
    assert "only approvers may undo a remediation of iam-user-created" in click["error"]
    assert keys(account) == {key: "Inactive"}


def test_an_owner_of_another_team_and_a_stranger_may_not_undo(
    account: Account, enforcer: EnforcerService, harness: Harness, slack: FakeSlack
) -> None:
    remediation_id, _ = quarantined_user(account, enforcer)
    account.set("slack/owners_may_undo", "on")

    harness.send(button(ACTION_UNDO, OWNER, remediation_id, slack, team="platform"))
    harness.send(button(ACTION_UNDO, STRANGER, remediation_id, slack))

    no_action(harness)
    assert [click["status"] for click in harness.clicks()] == ["refused", "refused"]


def test_a_member_of_an_approver_group_may_undo_the_group_is_read_with_the_bot_token(
    account: Account, enforcer: EnforcerService, harness: Harness, slack: FakeSlack
) -> None:
    remediation_id, _ = quarantined_user(account, enforcer)

    harness.send(button(ACTION_UNDO, GROUP_MEMBER, remediation_id, slack))

    assert len(harness.lambda_client.invocations) == 1
    [(method, args)] = slack.calls
    assert method == "usergroups.users.list"
    assert args["usergroup"] == "SAPPROVERS"
    assert args["authorization"] == f"Bearer {BOT_TOKEN}"


def test_an_unknown_remediation_id_is_refused_and_recorded(harness: Harness, slack: FakeSlack) -> None:
    answer = harness.send(button(ACTION_UNDO, APPROVER, "rem-does-not-exist", slack))

    assert answer["statusCode"] == 200
    no_action(harness)
    [click] = harness.clicks()
    assert click["status"] == "refused"
    assert "no remediation rem-does-not-exist" in click["error"]
    assert "no remediation rem-does-not-exist" in slack.responses[0]["text"]


def test_undo_and_exempt_creates_and_approves_a_short_exception_for_the_rule_and_resource(
    account: Account, enforcer: EnforcerService, harness: Harness, slack: FakeSlack
) -> None:
    remediation_id, _ = quarantined_user(account, enforcer)
    payload = button(ACTION_UNDO_WITH_EXCEPTION, APPROVER, remediation_id, slack)
    payload["actions"] = [
        {
            "action_id": ACTION_UNDO_WITH_EXCEPTION,
            "block_id": ACTIONS_BLOCK_ID,
            "selected_option": {"value": f"3|{remediation_id}"},
        }
    ]

    harness.send(payload)

    [requested] = harness.desk.requests
    assert requested["scope"].rule_id == "iam-user-created"
    assert requested["scope"].resource_pattern == USER_ARN
    assert requested["scope"].literal is True  # this resource exactly: no wildcards (review s11 F15)
    assert requested["scope"].actor_pattern is None
    assert requested["days"] == 3
    assert requested["source_remediation_id"] == remediation_id
    assert requested["reason"].startswith(f"undone from Slack by slack:{TEAM}/{APPROVER}")
    assert harness.desk.approvals == [("exc-1", f"slack:{TEAM}/{APPROVER}")]
    [command] = harness.lambda_client.invocations
    request = account.audit().get(command["request_id"])
    assert request is not None
    assert request.finding["exception_id"] == "exc-1"


def test_undo_and_exempt_is_for_approvers_only(
    account: Account, enforcer: EnforcerService, harness: Harness, slack: FakeSlack
) -> None:
    remediation_id, _ = quarantined_user(account, enforcer)
    account.set("slack/owners_may_undo", "on")
    payload = button(ACTION_UNDO_WITH_EXCEPTION, OWNER, remediation_id, slack)
    payload["actions"] = [
        {"action_id": ACTION_UNDO_WITH_EXCEPTION, "selected_option": {"value": f"1|{remediation_id}"}},
    ]

    harness.send(payload)

    no_action(harness)
    assert "only approvers" in harness.clicks()[0]["error"]


# --- exceptions and acknowledgements ---------------------------------------------------------------------


def test_the_owner_requests_an_exception_in_a_modal_and_an_approver_approves_it(
    account: Account, enforcer: EnforcerService, harness: Harness, slack: FakeSlack
) -> None:
    remediation_id, _ = quarantined_user(account, enforcer)

    harness.send(button(ACTION_REQUEST_EXCEPTION, OWNER, remediation_id, slack))

    # The owner is not an approver: the approver group is read first, then the form opened.
    assert slack.methods() == ["usergroups.users.list", "views.open"]
    args = slack.calls[1][1]
    assert args["trigger_id"] == "1337.42.abcd"
    view = args["view"]
    assert view["callback_id"] == EXCEPTION_VIEW
    assert [block.get("block_id") for block in view["blocks"][1:]] == ["reason", "days", "scope"]

    submission = {
        "type": "view_submission",
        "user": {"id": OWNER, "username": "owner", "team_id": TEAM},
        "team": {"id": TEAM},
        "view": {
            "callback_id": EXCEPTION_VIEW,
            "private_metadata": view["private_metadata"],
            "state": {
                "values": {
                    "reason": {"reason": {"type": "plain_text_input", "value": "break-glass user for the migration"}},
                    "days": {"days": {"type": "number_input", "value": "5"}},
                    "scope": {"scope": {"type": "radio_buttons", "selected_option": {"value": "resource"}}},
                }
            },
        },
    }
    answer = harness.send(submission)

    assert answer["statusCode"] == 200
    assert answer["body"] == ""
    [requested] = harness.desk.requests
    assert requested["scope"].resource_pattern == USER_ARN
    assert requested["scope"].literal is True
    assert requested["requester"] == f"slack:{TEAM}/{OWNER}"
    assert requested["days"] == 5
    assert requested["reason"] == "break-glass user for the migration"
    [posted] = slack.responses
    assert posted["response_type"] == "in_channel"
    assert f"on `{USER_ARN}` exactly (`*` and `?` in it are no wildcards)" in posted["text"]
    [approve] = posted["blocks"][1]["elements"]
    assert approve["action_id"] == ACTION_APPROVE_EXCEPTION
    assert approve["value"] == "exc-1"

    # The owner may not approve it; an approver may.
    harness.send(approve_click(OWNER, "exc-1", slack))
    assert harness.desk.approvals == []
    assert "only approvers" in slack.responses[-1]["text"]
    harness.send(approve_click(APPROVER, "exc-1", slack))
    assert harness.desk.approvals == [("exc-1", f"slack:{TEAM}/{APPROVER}")]
    assert "approved by <@UAPPROVER> for 5 days" in slack.responses[-1]["text"]
    statuses = [(click["action"], click["status"]) for click in harness.clicks()]
    assert sorted(statuses) == sorted(
        [
            (ACTION_REQUEST_EXCEPTION, "allowed"),
            (EXCEPTION_VIEW, "allowed"),
            (ACTION_APPROVE_EXCEPTION, "refused"),
            (ACTION_APPROVE_EXCEPTION, "allowed"),
        ]
    )


def test_an_invalid_exception_form_is_answered_with_field_errors_and_nothing_requested(
    account: Account, enforcer: EnforcerService, harness: Harness, slack: FakeSlack
) -> None:
    remediation_id, _ = quarantined_user(account, enforcer)
    submission = {
        "type": "view_submission",
        "user": {"id": OWNER, "team_id": TEAM},
        "team": {"id": TEAM},
        "view": {
            "callback_id": EXCEPTION_VIEW,
            "private_metadata": json.dumps({"r": remediation_id, "team": "payments"}),
            "state": {"values": {"days": {"days": {"value": "120"}}, "reason": {"reason": {"value": " "}}}},
        },
    }

    answer = harness.send(submission)

    assert json.loads(answer["body"]) == {
        "response_action": "errors",
        "errors": {"reason": "Say why the change is needed."},
    }
    submission["view"]["state"]["values"]["reason"] = {"reason": {"value": "why not"}}  # type: ignore[index]
    answer = harness.send(submission)
    assert "longer than the 90 days" in json.loads(answer["body"])["errors"]["reason"]
    assert harness.desk.requests == []


def test_approving_an_unknown_exception_is_refused_with_the_desks_sentence(harness: Harness, slack: FakeSlack) -> None:
    harness.send(approve_click(APPROVER, "exc-404", slack))

    assert "no exception exc-404" in slack.responses[-1]["text"]
    assert harness.clicks()[0]["status"] == "refused"


def test_without_the_exception_desk_the_endpoint_says_exceptions_are_not_configured(
    account: Account, enforcer: EnforcerService, harness: Harness, slack: FakeSlack
) -> None:
    harness.endpoint.exceptions = None
    harness.send(approve_click(APPROVER, "exc-1", slack))

    assert "exceptions are not configured" in slack.responses[-1]["text"]


def test_acknowledge_replaces_the_buttons_with_who_acknowledged(
    account: Account, enforcer: EnforcerService, harness: Harness, slack: FakeSlack
) -> None:
    remediation_id, _ = quarantined_user(account, enforcer)

    harness.send(button(ACTION_ACKNOWLEDGE, OWNER, remediation_id, slack))

    [update] = slack.responses
    assert update["replace_original"] is True
    assert update["blocks"][0] == ALERT_BLOCKS[0]
    assert "Acknowledged by <@UOWNER>" in update["blocks"][-1]["elements"][0]["text"]
    assert harness.clicks()[0]["status"] == "allowed"


# --- requests refused before they are read -------------------------------------------------------------


def refused_unread(harness: Harness, slack: FakeSlack, answer: dict[str, Any], status: int, reason: str) -> None:
    assert answer["statusCode"] == status
    assert reason in json.loads(answer["body"])["error"]
    no_action(harness)
    assert harness.clicks() == []  # nothing was read, so nothing names a user to record
    assert slack.calls == []
    assert slack.responses == []


def test_a_bad_signature_is_refused(harness: Harness, slack: FakeSlack) -> None:
    answer = harness.send(button(ACTION_UNDO, APPROVER, "rem-1", slack), secret="not-the-signing-secret")
    refused_unread(harness, slack, answer, 401, "bad signature")


def test_a_tampered_body_is_refused(harness: Harness, slack: FakeSlack) -> None:
    event = signed_event(button(ACTION_ACKNOWLEDGE, STRANGER, "rem-1", slack))
    forged = urlencode({"payload": json.dumps(button(ACTION_UNDO, APPROVER, "rem-1", slack))})
    event["body"] = base64.b64encode(forged.encode()).decode()
    refused_unread(harness, slack, harness.endpoint.handle(event), 401, "bad signature")


def test_an_old_timestamp_is_refused_even_when_correctly_signed(harness: Harness, slack: FakeSlack) -> None:
    old = int(time.time()) - 301
    answer = harness.send(button(ACTION_UNDO, APPROVER, "rem-1", slack), timestamp=old)
    refused_unread(harness, slack, answer, 401, "stale request")


def test_a_replayed_request_is_refused(
    account: Account, enforcer: EnforcerService, harness: Harness, slack: FakeSlack
) -> None:
    remediation_id, _ = quarantined_user(account, enforcer)
    event = signed_event(button(ACTION_UNDO, APPROVER, remediation_id, slack))

    assert harness.endpoint.handle(event)["statusCode"] == 200
    replay = harness.endpoint.handle(event)

    assert replay["statusCode"] == 401
    assert "replayed request" in json.loads(replay["body"])["error"]
    assert len(harness.lambda_client.invocations) == 1
    assert len(harness.clicks()) == 1
    seen = account.dynamodb.scan(TableName=account.config.idempotency_table)["Items"]
    [record] = [item for item in seen if item["id"]["S"].startswith("slack-signature#")]
    assert int(record["expiration"]["N"]) > time.time()  # the TTL removes it after the window


@pytest.mark.parametrize(
    "drop", [("x-slack-signature",), ("x-slack-request-timestamp",), ("x-slack-signature", "x-slack-request-timestamp")]
)
def test_missing_signature_headers_are_refused(harness: Harness, slack: FakeSlack, drop: tuple[str, ...]) -> None:
    answer = harness.send(button(ACTION_UNDO, APPROVER, "rem-1", slack), drop=drop)
    refused_unread(harness, slack, answer, 401, "unsigned request")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("payload=%7Bnot-json", "the payload is not JSON"),
        ("user=U1", "no single payload field"),
        ("payload=%5B%5D", "not a JSON object"),
        ("payload=" + json.dumps({"type": "block_actions"}), "names no user"),
        (urlencode({"payload": json.dumps({"type": "shortcut", "user": {"id": "U1"}})}), "unsupported interaction"),
        (
            urlencode(
                {
                    "payload": json.dumps(
                        {"type": "block_actions", "user": {"id": "U1"}, "actions": [{"action_id": "x", "value": "1"}]}
                    )
                }
            ),
            "unknown action",
        ),
        (
            urlencode(
                {
                    "payload": json.dumps(
                        {
                            "type": "block_actions",
                            "user": {"id": "U1"},
                            "actions": [{"action_id": ACTION_UNDO, "value": "not json"}],
                        }
                    )
                }
            ),
            "did not write",
        ),
    ],
)
def test_a_signed_but_malformed_body_is_refused_with_400(
    harness: Harness, slack: FakeSlack, body: str, reason: str
) -> None:
    answer = harness.endpoint.handle(signed_event(None, body=body))
    refused_unread(harness, slack, answer, 400, reason)


def test_a_json_body_is_refused_with_400(harness: Harness, slack: FakeSlack) -> None:
    answer = harness.endpoint.handle(
        signed_event(None, body='{"payload": {}}', headers={"content-type": "application/json"})
    )
    refused_unread(harness, slack, answer, 400, "unexpected content type")


def test_a_body_that_is_not_base64_is_refused(harness: Harness, slack: FakeSlack) -> None:
    event = signed_event(button(ACTION_UNDO, APPROVER, "rem-1", slack))
    event["body"] = "%%%not base64%%%"
    refused_unread(harness, slack, harness.endpoint.handle(event), 400, "base64")


def test_while_the_signing_secret_is_the_placeholder_every_request_is_refused(
    account: Account, harness: Harness, slack: FakeSlack
) -> None:
    account.session.client("secretsmanager").put_secret_value(
        SecretId="iamwarden/slack/signing", SecretString="REPLACE-ME: put the Slack signing secret here"
    )
    fresh = build_interaction_endpoint(
        account.config,
        ClientFactory(HOME_ACCOUNT, session=account.session),
        {"IAMWARDEN_SLACK_SIGNING_SECRET": "iamwarden/slack/signing"},
    )
    fresh.undo = harness.endpoint.undo
    answer = fresh.handle(signed_event(button(ACTION_UNDO, APPROVER, "rem-1", slack)))

    assert answer["statusCode"] == 500
    assert "SlackNotConfiguredError" in json.loads(answer["body"])["error"]
    no_action(harness)


def test_the_click_record_carries_when(account: Account, harness: Harness, slack: FakeSlack) -> None:
    harness.send(button(ACTION_ACKNOWLEDGE, STRANGER, "rem-x", slack))
    [item] = [
        item
        for item in account.dynamodb.scan(TableName=account.config.audit_table)["Items"]
        if item["kind"]["S"] == "slack_action"
    ]
    created = datetime.strptime(item["created_at"]["S"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - created).total_seconds()) < 600
    assert item["resource_arn"]["S"] == "slack:rem-x"


# --- the enforcer's half, through its Lambda handler ------------------------------------------------------


def test_the_enforcer_handler_runs_the_undo_command_and_never_judges_it_as_an_event(
    account: Account, enforcer: EnforcerService, harness: Harness, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    from tests.conftest import ROOT
    from tests.functional.test_enforcer_handler import FakeLambdaContext

    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    spec = importlib.util.spec_from_file_location("enforcer_app_slack", ROOT / "functions" / "enforcer" / "app.py")
    assert spec is not None
    assert spec.loader is not None
    handler = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(handler)
    remediation_id, key = quarantined_user(account, enforcer)
    harness.send(button(ACTION_UNDO, APPROVER, remediation_id, slack))
    [command] = harness.lambda_client.invocations

    result = handler.lambda_handler(command, FakeLambdaContext())

    assert result["verdict"] == "undone"
    assert keys(account) == {key: "Active"}
    assert handler.__dict__["_service"] is None  # the event path (judge, idempotency) never ran
    assert f"Undone by <@{APPROVER}>" in slack.responses[-1]["text"]


def test_the_enforcer_does_not_import_slack_sdk_at_cold_start() -> None:
    import os
    import subprocess
    import sys

    from tests.aws_fixtures import function_environment
    from tests.conftest import ROOT

    code = "import sys, app; print(sorted({m for m in sys.modules if m.startswith('slack_sdk')}))"
    env = {
        **function_environment("EnforcerFunction"),
        "PATH": os.environ.get("PATH", ""),
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "functions" / "enforcer"), str(ROOT / "layers" / "core")]),
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


# --- with the real exception desk (what functions/slack_interactions/app.py wires) ----------------------------


def test_with_the_real_desk_an_exception_requested_and_approved_in_slack_is_stored_once(
    account: Account, enforcer: EnforcerService, slack: FakeSlack
) -> None:
    """The Slack handler as Lambda builds it: the same desk and table as the CLI (the enforcer reads them)."""
    clients = ClientFactory(HOME_ACCOUNT, session=account.session)
    harness = Harness(account, slack)
    harness.endpoint = build_interaction_endpoint(
        account.config,
        clients,
        {
            "IAMWARDEN_SLACK_API_URL": slack.base + "/api/",
            "IAMWARDEN_SLACK_SIGNING_SECRET": "iamwarden/slack/signing",
            "IAMWARDEN_SLACK_BOT_SECRET": "iamwarden/slack/bot",
        },
        exceptions=build_exception_desk(account.config, clients),
        scope_type=ExceptionScope,
    )
    remediation_id, _ = quarantined_user(account, enforcer)
    harness.send(button(ACTION_REQUEST_EXCEPTION, OWNER, remediation_id, slack))
    view = slack.calls[-1][1]["view"]
    submission = {
        "type": "view_submission",
        "user": {"id": OWNER, "username": "owner", "team_id": TEAM},
        "team": {"id": TEAM},
        "view": {
            "callback_id": EXCEPTION_VIEW,
            "private_metadata": view["private_metadata"],
            "state": {
                "values": {
                    "reason": {"reason": {"type": "plain_text_input", "value": "migration user"}},
                    "days": {"days": {"type": "number_input", "value": "2"}},
                    "scope": {"scope": {"type": "radio_buttons", "selected_option": {"value": "resource"}}},
                }
            },
        },
    }
    assert harness.send(submission)["statusCode"] == 200
    [approve] = slack.responses[-1]["blocks"][1]["elements"]
    exception_id = approve["value"]
    desk = build_exception_desk(account.config, clients)
    assert desk.get(exception_id).status is ExceptionStatus.REQUESTED

    # iam-user-created is a persistence rule: only an operator (an ARN in rules/iamwarden-tampered/operators) may
    # approve its exceptions, and a Slack user is never one. Refused with the desk's own sentence; still requested.
    harness.send(approve_click(APPROVER, exception_id, slack))
    assert desk.get(exception_id).status is ExceptionStatus.REQUESTED
    assert "may be approved only by an operator" in slack.responses[-1]["text"]

    operator = "arn:aws:sts::111122223333:assumed-role/SecOps/carol"
    account.set("rules/iamwarden-tampered/operators", "arn:aws:iam::111122223333:role/SecOps")
    approved = desk.approve(exception_id, operator)  # the CLI's path, with the operators read from SSM
    assert approved.status is ExceptionStatus.APPROVED
    assert approved.requester == f"slack:{TEAM}/{OWNER}"
    assert approved.scope == ExceptionScope("iam-user-created", resource_pattern=USER_ARN, literal=True)
    assert approved.days == 2
    # A second approval of the same exception is refused with the desk's own sentence.
    harness.send(approve_click(APPROVER, exception_id, slack))
    assert desk.get(exception_id).approver == operator
    assert "approved" in slack.responses[-1]["text"]
