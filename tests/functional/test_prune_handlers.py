"""The pruner's Lambda handlers, loaded as Lambda loads them, against moto and a stubbed Access Advisor."""

from __future__ import annotations

import importlib.util
import io
import json
import zlib
from collections.abc import Iterator
from datetime import timedelta
from types import ModuleType
from typing import Any, NamedTuple

import boto3
import pytest
from moto import mock_aws

from iamwarden.adapters.clients import ClientFactory
from iamwarden.app.cli import main
from iamwarden.prune.app.runtime import PruneRuntime
from iamwarden.prune.domain.settings import PruneMode, PruneSettings
from tests.conftest import ROOT
from tests.functional.prune_support import (
    ACCOUNT,
    REGION,
    AccessAdvisorStub,
    Clock,
    FakeNotices,
    allow,
    create_role,
    create_state_table,
    document,
    service,
)
from tests.functional.test_enforcer_handler import FakeLambdaContext
from tests.functional.test_prune_lifecycle import CATALOGUE
from tests.sam_template import resources_of_type

POLICY = document(allow("s3:GetObject"), allow("ec2:*"))


def load(function: str) -> ModuleType:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("POWERTOOLS_SERVICE_NAME", "iamwarden")
        env.setenv("AWS_DEFAULT_REGION", REGION)
        spec = importlib.util.spec_from_file_location(f"{function}_app", ROOT / "functions" / function / "app.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module


class Stack:
    def __init__(self, settings: PruneSettings) -> None:
        self.clock = Clock()
        self.clock.advance(1 / 24)
        self.settings = settings
        self.store = create_state_table()
        self.stub = AccessAdvisorStub(self.clock)
        self.notices = FakeNotices()
        self.iam = boto3.client("iam", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        queues = resources_of_type("AWS::SQS::Queue")
        dlq = self.sqs.create_queue(QueueName=queues["PruneDeadLetterQueue"]["Properties"]["QueueName"])["QueueUrl"]
        dlq_arn = self.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        properties = queues["PruneQueue"]["Properties"]
        redrive = {**properties["RedrivePolicy"], "deadLetterTargetArn": dlq_arn}
        self.queue_url = self.sqs.create_queue(
            QueueName=properties["QueueName"],
            Attributes={
                "VisibilityTimeout": str(properties["VisibilityTimeout"]),
                "RedrivePolicy": json.dumps(redrive),
            },
        )["QueueUrl"]
        self.runtime = PruneRuntime(
            ClientFactory(ACCOUNT, session=boto3.Session(region_name=REGION)),
            table=self.store.table,
            queue_url=self.queue_url,
            notices=self.notices,
            settings=lambda: (self.settings, []),
            catalogue=CATALOGUE,
            clock=self.clock,
            advisor_for=self.stub.advisor,
        )

    def messages(self) -> list[dict[str, Any]]:
        bodies = []
        while batch := self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                bodies.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return bodies


@pytest.fixture
def stack() -> Iterator[Stack]:
    with mock_aws():
        yield Stack(PruneSettings(min_role_age_days=0))


def sqs_event(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{index}",
                "receiptHandle": f"r{index}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:iamwarden-prune-roles",
                "awsRegion": REGION,
            }
            for index, body in enumerate(bodies)
        ]
    }


def test_the_planner_sends_one_message_per_role_in_scope(stack: Stack) -> None:
    for name in ("a", "b", "c", "iamwarden-enforcer"):
        create_role(stack.iam, name, {"main": POLICY})
    planner = load("prune_planner")
    setattr(planner, "RUNTIME", stack.runtime)  # noqa: B010 - replace the container-wide runtime
    result = planner.lambda_handler({"source": "aws.events"}, FakeLambdaContext())
    assert result["sent"] == 3
    assert sorted(body["role_arn"].rsplit("/", 1)[1] for body in stack.messages()) == ["a", "b", "c"]
    stack.settings = stack.settings._replace(max_roles_per_account=2)
    assert planner.lambda_handler({}, FakeLambdaContext())["sent"] == 2
    stack.settings = stack.settings._replace(enabled=False)
    assert planner.lambda_handler({}, FakeLambdaContext()) == {"sent": 0, "disabled": True, "problems": []}


def test_the_worker_reports_exactly_the_records_to_retry(stack: Stack) -> None:
    decided = create_role(stack.iam, "decided", {"main": POLICY})
    pending = create_role(stack.iam, "pending", {"main": POLICY})
    for arn in (decided, pending):  # seen for longer than recent_days: past the warm-up
        seen_long_ago(stack, arn)
    stack.stub.generate(decided)
    stack.stub.page([service("s3", stack.clock.now - timedelta(days=1))])
    stack.stub.generate(pending)
    for _ in range(4):
        stack.stub.page([], status="IN_PROGRESS")
    worker = load("prune_worker")
    setattr(worker, "RUNTIME", stack.runtime)  # noqa: B010 - replace the container-wide runtime
    event = sqs_event(
        json.dumps({"account": ACCOUNT, "role_arn": decided}),
        json.dumps({"account": ACCOUNT, "role_arn": pending}),
        "not json",
    )
    response = worker.lambda_handler(event, FakeLambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}
    assert stack.store.role(ACCOUNT, decided).last_outcome == "nothing_unused"
    assert stack.store.role(ACCOUNT, pending).pending_job_id is not None


def seen_long_ago(stack: Stack, arn: str) -> None:
    from iamwarden.prune.adapters.iam_reader import IamReader
    from iamwarden.prune.domain.decide import updated_ledger

    facts = IamReader(stack.iam).role(arn)
    old = stack.clock.now - timedelta(days=200)
    stack.store.save_role(
        stack.store.role(ACCOUNT, arn)._replace(ledger=updated_ledger(facts, {}, old)), stack.clock.now
    )


def test_the_watch_handler_ignores_roles_it_never_pruned(stack: Stack) -> None:
    watch = load("prune_watch")
    setattr(watch, "RUNTIME", stack.runtime)  # noqa: B010 - replace the container-wide runtime
    event = {
        "detail-type": "AWS API Call via CloudTrail",
        "detail": {
            "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject",
            "errorCode": "AccessDenied",
            "userIdentity": {
                "type": "AssumedRole",
                "sessionContext": {"sessionIssuer": {"arn": f"arn:aws:iam::{ACCOUNT}:role/app"}},
            },
        },
    }
    assert watch.lambda_handler(event, FakeLambdaContext()) == {"notified": False, "plan": None}


def test_the_cli_plans_cancels_and_rolls_back(stack: Stack) -> None:
    arn = create_role(stack.iam, "app", {"main": POLICY})
    stack.settings = PruneSettings(min_role_age_days=0, recent_days=1, mode=PruneMode.ENFORCE)
    pruner, _ = stack.runtime.pruner()

    def run(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        from iamwarden.prune.app import cli as prune_cli

        original = prune_cli._pruner
        prune_cli._pruner = lambda args: pruner
        try:
            code = main(["prune", *argv], out, err)
        finally:
            prune_cli._pruner = original
        return code, out.getvalue(), err.getvalue()

    old = stack.clock.now - timedelta(days=200)
    stack.stub.generate(arn)
    stack.stub.page([service("s3", stack.clock.now), service("ec2", old)])
    stack.stub.granting(arn, {"ec2": ["inline:main"]})
    code, out, _ = run("plan", arn)
    assert code == 0
    # The pruner has never seen this role's grants: all count as recent, and the diff says why nothing goes.
    assert "unused services: ec2\nnothing to remove\n" in out
    assert "granted less than recent_days ago" in out

    from iamwarden.prune.adapters.iam_reader import IamReader
    from iamwarden.prune.domain.decide import updated_ledger

    facts = IamReader(stack.iam).role(arn)
    stack.store.save_role(
        stack.store.role(ACCOUNT, arn)._replace(ledger=updated_ledger(facts, {}, old)), stack.clock.now
    )
    stack.stub.generate(arn)
    stack.stub.page([service("s3", stack.clock.now), service("ec2", old)])
    stack.stub.granting(arn, {"ec2": ["inline:main"]})
    code, out, _ = run("plan", arn)
    assert code == 0
    assert "  rewrite inline policy main\n    - ec2:*   [statement 1, statement dropped]\n" in out
    assert stack.store.role(ACCOUNT, arn).active_plan_id is None  # `plan` writes nothing

    code, _, err = run("cancel", "prune-20260101-unknown")
    assert code == 1
    assert "no prune plan" in err
    code, _, err = run("rollback", "prune-20260101-unknown", "--service", "ec2")
    assert code == 1


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_a_missing_state_table_names_the_table_and_its_option(stack: Stack) -> None:
    code, out, err = _cli("prune", "cancel", "prune-20260101-abc", "--table", "no-such-table", "--region", REGION)

    assert (code, out) == (2, "")
    assert err == (
        "iamwarden prune cancel: table no-such-table not found in this account and region: set the table with "
        "--prune-table NAME (or $IAMWARDEN_PRUNE_TABLE) and the region with --region\n"
    )


def test_cancel_and_rollback_record_the_callers_arn(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from iamwarden.prune.adapters.iam_reader import IamReader
    from iamwarden.prune.app import cli as prune_cli
    from iamwarden.prune.domain.decide import updated_ledger

    caller = boto3.client("sts", region_name=REGION).get_caller_identity()["Arn"]  # moto's identity
    stack.settings = PruneSettings(min_role_age_days=0, mode=PruneMode.ENFORCE)
    pruner, _ = stack.runtime.pruner()
    monkeypatch.setattr(prune_cli, "_pruner", lambda args: pruner)
    old = stack.clock.now - timedelta(days=200)

    def announce(name: str) -> str:
        arn = create_role(stack.iam, name, {"main": POLICY})
        facts = IamReader(stack.iam).role(arn)
        stack.store.save_role(
            stack.store.role(ACCOUNT, arn)._replace(ledger=updated_ledger(facts, {}, old)), stack.clock.now
        )
        stack.stub.generate(arn)
        stack.stub.page([service("s3", stack.clock.now), service("ec2", old)])
        stack.stub.granting(arn, {"ec2": ["inline:main"]})
        outcome = pruner.process_role(ACCOUNT, arn)
        assert outcome.outcome == "announced", outcome
        return str(outcome.plan_id)

    cancelled = announce("cancelled")
    code, out, err = _cli("prune", "cancel", cancelled, "--region", REGION)
    assert (code, err) == (0, "")
    assert stack.store.plan(cancelled).history[-1]["what"] == f"cancelled by {caller}"

    applied = announce("applied")
    stack.clock.advance(7)
    stack.stub.generate(stack.store.plan(applied).role_arn)  # asked again on the date (review s11 F8)
    stack.stub.page([service("s3", stack.clock.now), service("ec2", old)])
    assert pruner.process_role(ACCOUNT, stack.store.plan(applied).role_arn).outcome == "applied"
    code, out, err = _cli("--region", REGION, "prune", "rollback", applied, "--service", "ec2")
    assert (code, err) == (0, "")
    assert "+ ec2:*" in out
    assert stack.store.plan(applied).history[-1]["what"] == f"rolled back by {caller}"


def test_the_planners_run_lists_the_roles_the_exempt_tag_keeps_out_without_an_iam_call_per_role(stack: Stack) -> None:
    """Each worker records what its role read showed (until, the tag's value); the next planner run lists the roles
    still exempt from the states it reads anyway: its only IAM call is ListRoles."""
    today = stack.clock.now.date()
    soon = (today + timedelta(days=10)).isoformat()
    far = (today + timedelta(days=400)).isoformat()
    tag = stack.settings.exempt_tag
    short = create_role(stack.iam, "short", {"main": POLICY}, tags={tag: soon})
    capped = create_role(stack.iam, "capped", {"main": POLICY}, tags={tag: f" {far} "})
    bad = create_role(stack.iam, "bad", {"main": POLICY}, tags={tag: "forever"})
    planned = create_role(stack.iam, "planned", {"main": POLICY})
    seen_long_ago(stack, planned)  # the others are warming up: "bad" is skipped, but not for its tag
    stack.stub.generate(planned)  # Access Advisor (Stubber): the one role that gets a plan
    stack.stub.page([service("s3", stack.clock.now - timedelta(days=1)), service("ec2", None)])
    stack.stub.granting(planned, {"ec2": ["inline:main"]})
    calls: list[str] = []
    stack.runtime.factory.session.events.register("before-call.iam", lambda model, **_: calls.append(model.name))
    pruner, _ = stack.runtime.pruner()
    outcomes = {
        arn.rsplit("/", 1)[1]: pruner.process_role(ACCOUNT, arn).outcome for arn in (short, capped, bad, planned)
    }
    assert outcomes == {"short": "skipped", "capped": "skipped", "bad": "skipped", "planned": "reported"}
    calls.clear()

    result = stack.runtime.plan_run()

    cap = (today + timedelta(days=stack.settings.max_exempt_days)).isoformat()
    assert result["exempted"] == [
        {"account": ACCOUNT, "role_arn": capped, "until": cap, "asked": far, "capped": True},
        {"account": ACCOUNT, "role_arn": short, "until": soon, "asked": soon, "capped": False},
    ]
    assert calls == ["ListRoles"]


def test_a_role_whose_exemption_ended_or_was_removed_leaves_the_runs_list(stack: Stack) -> None:
    tag = stack.settings.exempt_tag
    soon = (stack.clock.now.date() + timedelta(days=2)).isoformat()
    short = create_role(stack.iam, "short", {"main": POLICY}, tags={tag: soon})
    untagged = create_role(stack.iam, "untagged", {"main": POLICY}, tags={tag: soon})
    pruner, _ = stack.runtime.pruner()
    for arn in (short, untagged):
        assert pruner.process_role(ACCOUNT, arn).outcome == "skipped"
    assert [role["role_arn"] for role in stack.runtime.plan_run()["exempted"]] == [short, untagged]

    stack.iam.untag_role(RoleName="untagged", TagKeys=[tag])
    assert pruner.process_role(ACCOUNT, untagged).outcome == "skipped"  # warming up now, not exempt
    assert [role["role_arn"] for role in stack.runtime.plan_run()["exempted"]] == [short]

    stack.clock.advance(3)  # the tag's date has passed: not listed even before the role's next run
    assert stack.runtime.plan_run()["exempted"] == []


class PreviousRoleState(NamedTuple):
    """The role state as the previous release (main 527b727) reads it: ``RoleState(**body)``, which raises on any
    other key, so a state this version writes must hold no other (review s14 prunetag F1: a rollback must not stop
    the pruner)."""

    account: str
    role_arn: str
    version: int = 0
    active_plan_id: str | None = None
    last_applied_plan_id: str | None = None
    applied_at: str | None = None
    pending_job_id: str | None = None
    pending_job_started: str | None = None
    snoozed_until: str | None = None
    last_checked: str | None = None
    last_outcome: str | None = None
    ledger: Any = None


def test_a_state_this_version_writes_is_read_by_the_previous_releases_strict_reader(stack: Stack) -> None:
    """Rolling back must not stop the pruner: the previous reader takes exactly its own fields."""
    soon = (stack.clock.now.date() + timedelta(days=10)).isoformat()
    exempt = create_role(stack.iam, "exempt", {"main": POLICY}, tags={stack.settings.exempt_tag: soon})
    plain = create_role(stack.iam, "plain", {"main": POLICY})
    pruner, _ = stack.runtime.pruner()
    for arn in (exempt, plain):
        assert pruner.process_role(ACCOUNT, arn).outcome == "skipped"
        item = stack.runtime.factory.home_client("dynamodb").get_item(
            TableName=stack.store.table, Key={"pk": {"S": f"ACCOUNT#{ACCOUNT}"}, "sk": {"S": f"ROLE#{arn}"}}
        )["Item"]
        body = json.loads(zlib.decompress(item["body"]["B"]))
        assert PreviousRoleState(**body).role_arn == arn  # TypeError on a field the previous release lacks
    assert [role["role_arn"] for role in stack.runtime.plan_run()["exempted"]] == [exempt]


def test_the_runs_exempted_list_leaves_out_roles_exempt_for_an_earlier_reason(stack: Stack) -> None:
    """Own roles, exempt_roles and break-glass roles are never pruned whatever their tag: the planner's list of roles
    the tag keeps out names none of them, as the worker would not skip them for their tag."""
    soon = (stack.clock.now.date() + timedelta(days=10)).isoformat()
    tag = stack.settings.exempt_tag
    tagged = create_role(stack.iam, "tagged", {"main": POLICY}, tags={tag: soon})
    listed = create_role(stack.iam, "listed", {"main": POLICY}, tags={tag: soon})
    glass = create_role(stack.iam, "glass", {"main": POLICY}, tags={tag: soon})
    pruner, _ = stack.runtime.pruner()
    for arn in (tagged, listed, glass):
        assert pruner.process_role(ACCOUNT, arn).outcome == "skipped"
    assert len(stack.runtime.plan_run()["exempted"]) == 3
    stack.settings = stack.settings._replace(exempt_roles=("listed",), break_glass_principals=(glass,))
    assert [role["role_arn"] for role in stack.runtime.plan_run()["exempted"]] == [tagged]


def test_the_planners_log_line_bounds_the_exempted_list_and_its_answer_keeps_it_whole(
    stack: Stack, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One CloudWatch event holds at most 256 KB: the log line names how many roles and the first few only."""
    from iamwarden.prune.app import runtime

    monkeypatch.setattr(runtime, "EXEMPTED_LOGGED", 2)
    soon = (stack.clock.now.date() + timedelta(days=10)).isoformat()
    arns = [create_role(stack.iam, f"r{n}", {"main": POLICY}, tags={stack.settings.exempt_tag: soon}) for n in range(3)]
    pruner, _ = stack.runtime.pruner()
    for arn in arns:
        assert pruner.process_role(ACCOUNT, arn).outcome == "skipped"
    planner = load("prune_planner")
    setattr(planner, "RUNTIME", stack.runtime)  # noqa: B010 - replace the container-wide runtime
    caplog.set_level("INFO")

    result = planner.lambda_handler({}, FakeLambdaContext())

    assert [role["role_arn"] for role in result["exempted"]] == arns  # the answer: every role
    [line] = [record.__dict__ for record in caplog.records if record.getMessage() == "pruner run planned"]
    assert [role["role_arn"] for role in line["exempted"]] == arns[:2]
    assert line["exempted_count"] == 3
