"""``make demo`` headless: the same story, deployed by CloudFormation into moto_server, judged by the built handler.

One full run checks every step of the real story and, with one extra step that
expects the wrong verdict, that a divergence is reported and fails the demo.
The cheap tests check that the servers are stopped when the demo is
interrupted, and the exit codes.
"""

from __future__ import annotations

import io
import json
import signal
import socket
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from demo import run as demo_run
from demo.deploy import Deployment
from demo.run import DemoResult, Stopped, run_demo
from demo.servers import MotoServer, SlackReceiver
from demo.story import ADMIN, Account, Check, Step, story

pytestmark = pytest.mark.integration


def _refuses(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _story_with_a_wrong_expectation(account: Account) -> list[Step]:
    wrong = Step(
        "attach AdministratorAccess to role orders-worker, expected (wrongly) to be compliant",
        "test",
        lambda: account.attach("orders-worker", ADMIN),
        ("AttachRolePolicy",),
        "compliant",
        {},
        lambda: Check(True, "not looked at"),
    )
    return [*story(account), wrong]


def test_the_demo_story_runs_headless_and_reports_a_divergence(tmp_path: Path) -> None:
    out = io.StringIO()
    moto, slack = MotoServer(tmp_path / "moto.log"), SlackReceiver()
    result = run_demo(tmp_path / "demo", out, plot=_story_with_a_wrong_expectation, moto=moto, slack=slack)
    text = out.getvalue()

    *steps, wrong = result.steps
    assert [step.problems for step in steps] == [[]] * len(steps), text
    assert result.undo_ok, text
    assert [step.outcomes for step in steps] == [
        {},
        {"iam-user-created": "remediated", "access-key-created": "alerted"},
        {"managed-policy-attached": "remediated"},
        {},
        {"s3-bucket-policy-public": "remediated"},
        {"s3-bucket-policy-cross-account": "remediated"},
        {},
    ]
    assert [step.routed for step in steps] == [
        ["AttachRolePolicy"],
        ["CreateUser", "CreateAccessKey"],
        ["AttachRolePolicy"],
        ["AttachRolePolicy"],  # a customer-managed policy: judged by privilege-escalation on its live document
        ["PutBucketPolicy"],
        ["PutBucketPolicy"],
        ["PutBucketPolicy"],
    ]
    # Slack got one alert per finding, in order, as the receiver saw it (the wrong step's alert included).
    headers = [post["blocks"][0]["text"]["text"] for post in result.slack_posts]
    assert [header.split(": ", 1)[0] for header in headers] == [
        "🟠 HIGH · Remediated",
        "🟠 HIGH · Alert",
        "🔴 CRITICAL · Remediated",
        "🔴 CRITICAL · Remediated",
        "🟠 HIGH · Remediated",
        "🔴 CRITICAL · Remediated",
    ]
    # Only types moto's CloudFormation cannot create are left out; the secret is created from its declaration.
    left_out = {kind for _, kind, why in result.left_out if "is false with the default parameters\n" not in why + "\n"}
    assert {logical for logical, _, why in result.left_out if why.endswith("false with the default parameters")} == {
        "DataKey",  # DataEncryptionKey=none by default: AWS does not create it either
        "DataKeyAlias",
        "GitHubOwnersParameter",  # GitHubOwners and CognitoIdentityPools are empty by default
        "CognitoIdentityPoolsParameter",
    }
    assert "AWS::Lambda::Function" not in left_out
    assert left_out <= {
        "AWS::CloudFormation::CustomResource",  # DeploySnapshot: the demo's heartbeat is not deployed to answer it
        "AWS::CloudWatch::Alarm",
        "AWS::Events::EventBusPolicy",  # only with an OrganizationId (condition false by default)
        "AWS::IAM::RolePolicy",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::Lambda::Url",  # the Slack endpoint's URL (and its output); the demo plays no Slack clicks
        "AWS::SNS::Subscription",
        "AWS::SNS::TopicPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::SecretsManager::Secret",
    }
    # Undo commands only for findings that changed something: not for the alert-only access key.
    undo_lines = [line for line in text.splitlines() if line.startswith("    undo:")]
    assert [line.rsplit("(", 1)[1] for line in undo_lines] == [
        "iam-user-created)",
        "managed-policy-attached)",
        "s3-bucket-policy-public)",
        "s3-bucket-policy-cross-account)",
        "managed-policy-attached)",  # the wrong step's
    ]
    # moto's own warnings stay out; the demo's list of left-out resources stays.
    assert "No Moto CloudFormation support" not in text
    assert "Not created by moto's CloudFormation" in text
    # The summary is aligned and the outcome column is whole.
    summary = text.split("== 5. Summary\n", 1)[1].split("\n\n", 1)[0].splitlines()
    header, _, *rows = summary
    outcome_column = header.index("outcome")
    assert rows[1][outcome_column:].startswith("remediated, alerted  ")
    assert all(row[outcome_column - 2 : outcome_column] == "  " for row in rows)
    # The pruner: warm-up, announced plan, waiting, applied, one service rolled back, snoozed.
    pruned = result.pruner
    assert pruned is not None
    assert pruned.problems == [], text
    assert pruned.outcomes == ["skipped", "announced", "waiting", "applied", "snoozed"]
    assert [notice.kind.value for notice in pruned.notices] == ["planned", "applied"]
    assert "- ec2:*   [statement 1 (Everything)]" in (pruned.notices[0].diff or "")
    # s3 is used: s3:* stays and a Deny takes exactly its unused tracked actions (review s11 F12)
    assert "+ Deny s3:DeleteBucket, s3:PutBucketPolicy   [statement IamWardenPruned0]" in (pruned.notices[0].diff or "")
    assert pruned.rollback_exit == 0
    assert "warming up: IAM Warden first saw this role's grants" in text
    assert "+ dynamodb:*" in text
    assert "an applied plan was rolled back; no new plan before" in text
    # A time-boxed exception: requested and approved (CLI), the change left alone, reminded, expired, judged again.
    excepted = result.exceptions
    assert excepted is not None
    assert excepted.problems == [], text
    assert excepted.step_ok
    assert [(n.outcome.value, n.finding.rule_id if n.finding else None) for n in excepted.alerts] == [
        ("noteworthy", "s3-bucket-policy-public"),
        ("alerted", "s3-bucket-policy-public"),
    ]
    assert f"Approved exception {excepted.exception_id}" in text
    assert "expired; its current state was judged again:" in text
    # It ends with a backtest of a month of history that holds the very records the story played.
    assert "== 9. Before switching to remediate" in text
    played = [record for step in result.steps for record in step.records]
    assert f"and the {len(played)} CloudTrail records of the changes this demo just made" in text
    findings = [json.loads(line) for line in (tmp_path / "demo" / "findings.jsonl").read_text().splitlines()]
    judged_ids = {finding["event_id"] for finding in findings}
    backdoor = next(record for record in played if record["eventName"] == "CreateUser")
    assert backdoor["eventID"] in judged_ids
    # The extra step diverged (the enforcer remediated it), and that fails the demo.
    assert wrong.outcomes == {"managed-policy-attached": "remediated"}
    assert wrong.problems
    assert "verdict violation, expected compliant" in wrong.problems[0]
    assert not result.ok
    assert "DIVERGED: verdict violation, expected compliant" in text
    assert "SOME STEPS DIVERGED" in text
    # Every server the demo started is stopped.
    assert _refuses(moto.port)
    assert _refuses(urllib.parse.urlsplit(slack.url).port or 0)


def test_an_interrupted_demo_stops_its_servers(tmp_path: Path) -> None:
    moto, slack = MotoServer(tmp_path / "moto.log"), SlackReceiver()

    def interrupted(root: Path, work: Path, session: Any, endpoint: str, log: Path) -> Deployment:
        assert not _refuses(moto.port)  # the servers are up when Ctrl-C arrives
        raise Stopped("SIGINT")

    with pytest.raises(Stopped):
        run_demo(tmp_path / "demo", io.StringIO(), deployer=interrupted, moto=moto, slack=slack)
    assert _refuses(moto.port)
    assert _refuses(urllib.parse.urlsplit(slack.url).port or 0)


def test_ctrl_c_becomes_stopped() -> None:
    saved = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        demo_run.install_signal_handlers()
        with pytest.raises(Stopped):
            signal.raise_signal(signal.SIGINT)
        with pytest.raises(Stopped):
            signal.raise_signal(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGINT, saved[0])
        signal.signal(signal.SIGTERM, saved[1])


@pytest.mark.parametrize(
    ("outcome", "code"),
    [
        (DemoResult([], undo_ok=True, slack_posts=[], left_out=[]), 0),
        (DemoResult([], undo_ok=False, slack_posts=[], left_out=[]), 1),
        (Stopped("SIGINT"), 130),
        (RuntimeError("sam build failed"), 1),
    ],
)
def test_exit_codes(monkeypatch: pytest.MonkeyPatch, outcome: Any, code: int) -> None:
    def fake_run_demo(work: Path, out: Any) -> DemoResult:
        if isinstance(outcome, BaseException):
            raise outcome
        result: DemoResult = outcome
        return result

    monkeypatch.setattr(demo_run, "run_demo", fake_run_demo)
    monkeypatch.setattr(demo_run, "install_signal_handlers", lambda: None)
    assert demo_run.main() == code
