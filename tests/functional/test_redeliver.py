"""Undelivered alerts are kept on the audit record; `iamwarden redeliver` sends them to exactly the failed channels."""

from __future__ import annotations

import io
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from iamwarden.adapters.clients import ClientFactory
from iamwarden.app.cli import main
from iamwarden.app.service import EnforcerService
from iamwarden.app.wiring import build_enforcer_service
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account

SECRET = "iamwarden/slack/security"  # noqa: S105 - the secret's name


class SlackInbox:
    """A Slack incoming webhook on 127.0.0.1: records each JSON body and answers 200 "ok"."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                inbox.posts.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/T000/B000/XXXX"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slack() -> Iterator[SlackInbox]:
    inbox = SlackInbox()
    yield inbox
    inbox.close()


@pytest.fixture
def wired(account: Account) -> EnforcerService:
    """The enforcer with its real alert channels: the template's topic, and a Slack secret set up wrongly
    (the URL without https://), so Slack deliveries fail until it is fixed."""
    account.session.client("secretsmanager").put_secret_value(
        SecretId=SECRET, SecretString="hooks.slack.com/services/T000/B000/XXXX"
    )
    return build_enforcer_service(account.config, clients=ClientFactory(HOME_ACCOUNT, session=account.session))


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/services/T000/B000/XXXX"


def test_a_failed_slack_delivery_is_kept_then_redelivered_once(
    account: Account, wired: EnforcerService, slack: SlackInbox
) -> None:
    event = load_event("attach-admin-to-role.json")
    [finding] = wired.handle(event)["findings"]
    rid = finding["remediation_id"]
    record = account.audit().get(rid)
    assert record is not None
    assert [(f["channel"], f["outcome"]) for f in record.delivery_failures] == [(f"slack:{SECRET}", "alerted")]
    assert record.undelivered_event == event

    code, history, _ = cli("history", record.resource_arn)
    assert f"alerted alert to slack:{SECRET}" in history
    assert f"(send again: iamwarden redeliver {rid})" in history

    account.session.client("secretsmanager").put_secret_value(SecretId=SECRET, SecretString=slack.url)
    code, out, err = cli("redeliver", rid)

    assert (code, err) == (0, "")
    assert out == f"{rid}: slack:{SECRET}: delivered\n"
    [post] = slack.posts
    assert "AdministratorAccess" in json.dumps(post)
    assert rid in json.dumps(post)
    cleared = account.audit().get(rid)
    assert cleared is not None
    assert cleared.delivery_failures == ()
    assert cleared.undelivered_event is None
    assert cli("redeliver", rid) == (0, f"{rid}: no undelivered alerts\n", "")
    assert len(slack.posts) == 1


def test_a_channel_that_still_fails_stays_recorded_and_exits_1(account: Account, wired: EnforcerService) -> None:
    [finding] = wired.handle(load_event("attach-admin-to-role.json"))["findings"]
    rid = finding["remediation_id"]
    account.session.client("secretsmanager").put_secret_value(SecretId=SECRET, SecretString=_closed_port_url())

    code, out, _ = cli("redeliver", rid)

    assert code == 1
    assert f"slack:{SECRET}: FAILED again" in out
    record = account.audit().get(rid)
    assert record is not None
    [failure] = record.delivery_failures
    assert failure["channel"] == f"slack:{SECRET}"
    assert "does not hold" not in str(failure["error"]), "the new error replaces the old one"
    assert record.undelivered_event is not None


def test_a_configuration_error_alert_is_redelivered(
    account: Account, wired: EnforcerService, slack: SlackInbox
) -> None:
    account.set("rules/iam-user-created/mode", "enforce")
    wired.handle(load_event("attach-admin-to-role.json"))
    [config_id] = [
        item["remediation_id"]["S"]
        for item in account.dynamodb.scan(TableName=account.config.audit_table)["Items"]
        if item["remediation_id"]["S"].startswith("config-")
    ]
    account.session.client("secretsmanager").put_secret_value(SecretId=SECRET, SecretString=slack.url)

    code, _, err = cli("redeliver", config_id)

    assert (code, err) == (0, "")
    [post] = slack.posts
    assert "rules/iam-user-created/mode" in json.dumps(post)


def test_an_unknown_id_is_one_line_and_exit_1(account: Account) -> None:
    code, out, err = cli("redeliver", "rem-unknown")
    assert (code, out) == (1, "")
    assert err.startswith("iamwarden redeliver: no record rem-unknown in the audit table iamwarden-audit")
    assert err.count("\n") == 1
