"""The planner run's summary reaches the security channel once, through the pruner's own wiring (moto SNS/SQS/SSM,
Access Advisor stubbed): what it says, when it is sent, and that a failed run says so (issue 15, session 15)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from iamwarden.adapters.clients import ClientFactory
from iamwarden.alerts.settings import AlertSettings, Destination
from iamwarden.prune.adapters.alert_notices import AlertChannelNoticeSender, slack_payload
from iamwarden.prune.adapters.iam_reader import IamReader
from iamwarden.prune.adapters.store import PruneStore
from iamwarden.prune.app.runtime import PruneRuntime
from iamwarden.prune.app.wiring import build_prune_runtime
from iamwarden.prune.domain.notices import NoticeKind, PruneNotice
from iamwarden.prune.domain.plan import PlanStatus
from iamwarden.prune.domain.settings import PruneSettings
from iamwarden.prune.domain.summary import RunSummary, summary_text
from iamwarden.prune.exceptions import RoleReadError, StoreError
from tests.functional.prune_support import ACCOUNT, REGION, create_role, service
from tests.functional.test_alerts_prune_notices import RecordingSlack
from tests.functional.test_prune_handlers import POLICY, Stack, seen_long_ago
from tests.functional.test_prune_lifecycle import CATALOGUE

PREFIX = "/iamwarden"


class Wired:
    """The handlers' runtime (``build_prune_runtime``) on moto, its security topic read by a queue."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        sns = boto3.client("sns", region_name=REGION)
        self.topic = sns.create_topic(Name="iamwarden-alerts")["TopicArn"]
        self.inbox = stack.sqs.create_queue(QueueName="security-inbox")["QueueUrl"]
        inbox_arn = stack.sqs.get_queue_attributes(QueueUrl=self.inbox, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(
            TopicArn=self.topic, Protocol="sqs", Endpoint=inbox_arn, Attributes={"RawMessageDelivery": "true"}
        )
        self.settings({"prune/mode": "notify", "prune/min_role_age_days": "1"})
        self.runtime = self.build(stack.queue_url)
        self.iam_calls: list[str] = []  # registered before any client is made: clients copy the session's events
        self.runtime.factory.session.events.register(
            "before-call.iam", lambda model, **_: self.iam_calls.append(model.name)
        )

    def build(self, queue_url: str) -> PruneRuntime:
        environ = {
            "IAMWARDEN_PRUNE_TABLE": self.stack.store.table,
            "IAMWARDEN_PRUNE_QUEUE_URL": queue_url,
            "IAMWARDEN_ALERT_TOPIC_ARN": self.topic,
            "IAMWARDEN_SLACK_WEBHOOK_SECRET": "",
            "IAMWARDEN_SETTINGS_PREFIX": PREFIX,
        }
        return build_prune_runtime(
            logging.getLogger("test"),
            environ,
            factory=ClientFactory(ACCOUNT, session=boto3.Session(region_name=REGION)),
            catalogue=CATALOGUE,
            clock=self.stack.clock,
            advisor_for=self.stack.stub.advisor,
        )

    def settings(self, values: dict[str, str]) -> None:
        ssm = boto3.client("ssm", region_name=REGION)
        for name, value in values.items():
            ssm.put_parameter(Name=f"{PREFIX}/{name}", Value=value, Type="String", Overwrite=True)

    def received(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while batch := self.stack.sqs.receive_message(
            QueueUrl=self.inbox, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", []):
            for message in batch:
                messages.append(dict(message))
                self.stack.sqs.delete_message(QueueUrl=self.inbox, ReceiptHandle=message["ReceiptHandle"])
        return messages

    def summaries(self) -> list[dict[str, Any]]:
        return [
            message
            for message in self.received()
            if message["MessageAttributes"]["outcome"]["StringValue"].startswith("prune_run_")
        ]


@pytest.fixture
def wired() -> Iterator[Wired]:
    with mock_aws():
        yield Wired(Stack(PruneSettings()))  # the settings the wired runtime reads are SSM's, below


def _announce(wired: Wired, name: str, days: float = 2) -> str:
    """A role old enough, planned by its worker in notify mode: announced, its notice sent."""
    stack = wired.stack
    arn = create_role(stack.iam, name, {"main": POLICY})
    seen_long_ago(stack, arn)
    stack.clock.advance(days)  # older than min_role_age_days
    stack.stub.generate(arn)
    stack.stub.page([service("s3", stack.clock.now - timedelta(days=1)), service("ec2", None)])
    stack.stub.granting(arn, {"ec2": ["inline:main"]})
    pruner, problems = wired.runtime.pruner()
    assert problems == []
    assert pruner.process_role(ACCOUNT, arn).outcome == "announced"
    return arn


def test_a_run_after_an_announcement_sends_one_summary_to_the_security_topic_with_no_extra_iam_call(
    wired: Wired,
) -> None:
    announced = _announce(wired, "app-backend")
    wired.received()  # the announcement's own notice
    wired.iam_calls.clear()

    result = wired.runtime.plan_run()

    assert result["summary"] == {"sent": True, "failed": []}
    [message] = wired.summaries()
    attributes = {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
    assert attributes == {"rule": "prune", "severity": "low", "account": ACCOUNT, "outcome": "prune_run_summary"}
    body = json.loads(message["Body"])
    assert body["kind"] == "run_summary"
    assert body["role_arn"] == ""
    assert body["owners"] == []  # the security channel only
    assert "1 announced" in body["summary"]
    assert f"- {announced} (plan prune-" in body["summary"]
    assert wired.iam_calls == ["ListRoles"]  # the planner's own listing: the summary reads nothing more


def test_a_quiet_run_sends_no_summary(wired: Wired) -> None:
    create_role(wired.stack.iam, "quiet", {"main": POLICY})

    result = wired.runtime.plan_run()

    assert result["sent"] == 0  # younger than min_role_age_days: told in the answer, not sent
    assert result["summary"] == {"sent": False}
    assert wired.summaries() == []


def test_the_next_days_run_no_longer_tells_the_announcement(wired: Wired) -> None:
    _announce(wired, "app-backend")
    wired.stack.clock.advance(1 / 24)  # the next run: later than SUMMARY_OVERLAP after the worker's outcome
    wired.runtime.plan_run()
    assert len(wired.summaries()) == 1

    wired.stack.clock.advance(2)

    assert wired.runtime.plan_run()["summary"] == {"sent": False}
    assert wired.summaries() == []


def test_a_failed_run_says_so_to_the_security_channel_and_still_fails(wired: Wired) -> None:
    missing = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/no-such-queue"
    runtime = wired.build(missing)
    create_role(wired.stack.iam, "old", {"main": POLICY})
    wired.stack.clock.advance(2)

    with pytest.raises(Exception, match=r"NonExistentQueue|does not exist"):
        runtime.plan_run()

    [message] = wired.summaries()
    assert message["MessageAttributes"]["severity"]["StringValue"] == "high"
    assert message["MessageAttributes"]["outcome"]["StringValue"] == "prune_run_errors"
    text = json.loads(message["Body"])["summary"]
    assert "the planner run failed before sending any role message" in text
    assert "were not read: the next run that succeeds tells them" in text.splitlines()[0]


def test_an_invalid_setting_is_told_even_when_the_pruner_is_off(wired: Wired) -> None:
    wired.settings({"prune/enabled": "false", "prune/unused_days": "ninety"})

    result = wired.runtime.plan_run()

    assert result["disabled"] is True
    assert result["summary"]["sent"] is True
    [message] = wired.summaries()
    text = json.loads(message["Body"])["summary"]
    assert "the pruner is off" in text
    assert "unused_days" in text


def test_the_pruner_off_with_valid_settings_sends_nothing(wired: Wired) -> None:
    wired.settings({"prune/enabled": "false"})

    assert wired.runtime.plan_run() == {"sent": 0, "disabled": True, "problems": []}
    assert wired.summaries() == []


def test_the_summary_reaches_slack_within_its_limits_without_a_role_line() -> None:
    slack = RecordingSlack()
    sender = AlertChannelNoticeSender(
        security=Destination(slack_webhook="iamwarden/slack/security"),
        settings=AlertSettings,
        sns_client=lambda region: None,
        slack=lambda: slack,
    )
    long_errors = tuple(f"arn:aws:iam::{ACCOUNT}:role/r{n}: " + "x" * 400 for n in range(20))
    text = summary_text(RunSummary("2026-12-05T05:00:00+00:00", errors=long_errors))

    report = sender.send(PruneNotice(NoticeKind.RUN_ERRORS, ACCOUNT, "", "", (), text))

    assert report.failed == ()
    [(secret, payload)] = slack.posts
    assert secret == "iamwarden/slack/security"  # noqa: S105 - a secret's name, not a secret
    assert payload["blocks"][0]["text"]["text"] == "Pruner run summary, with errors (high)"
    sections = [block["text"]["text"] for block in payload["blocks"] if block["type"] == "section"]
    assert all(len(section) <= 3_000 for section in sections)
    assert "*Role:*" not in json.dumps(payload)
    assert payload["text"] == f"Pruner run summary, with errors: account {ACCOUNT}"
    assert payload == slack_payload(PruneNotice(NoticeKind.RUN_ERRORS, ACCOUNT, "", "", (), text))


def test_a_role_pruned_on_its_date_is_told_with_its_plan(wired: Wired) -> None:
    wired.settings({"prune/mode": "enforce"})
    arn = _announce(wired, "app-backend")
    plan_id = wired.stack.store.role(ACCOUNT, arn).active_plan_id
    stack = wired.stack
    stack.clock.advance(7)  # notice_days
    stack.stub.generate(arn)  # asked again on the date: ec2 is still unused
    stack.stub.page([service("s3", stack.clock.now - timedelta(days=1)), service("ec2", None)])
    pruner, _ = wired.runtime.pruner()
    assert pruner.process_role(ACCOUNT, arn).outcome == "applied"
    wired.received()

    wired.runtime.plan_run()

    [message] = wired.summaries()
    text = json.loads(message["Body"])["summary"]
    assert "1 pruned" in text
    assert f"- {arn} (plan {plan_id})" in text


def test_a_plan_ended_on_its_date_is_told_as_not_applied(wired: Wired) -> None:
    """A follow-up dates the role's state (``last_checked``), so the next run tells what its plan ended in; a plan
    not applied is worth a message of its own (review s15 R7)."""
    expired = _announce(wired, "notified")
    wired.stack.clock.advance(7)
    pruner, _ = wired.runtime.pruner()
    assert pruner.process_role(ACCOUNT, expired).outcome == "expired"  # notify mode: the date passes, not applied
    wired.received()

    assert wired.runtime.plan_run()["summary"]["sent"] is True

    [message] = wired.summaries()
    text = json.loads(message["Body"])["summary"]
    assert "Plans not applied: 1" in text
    assert f"- {expired} (its date passed outside enforce mode)" in text


def test_a_role_path_with_slack_markup_reaches_the_summary_escaped_for_slack_and_plain_for_e_mail(
    wired: Wired,
) -> None:
    """Review s15 R2: anyone with iam:CreateRole chooses a path, and a role not sent is listed in "Skipped"."""
    wired.settings({"prune/max_roles_per_run": "1"})
    _announce(wired, "app-backend")  # something worth sending, and the one role this run sends (rank 0)
    path = "/<!channel>/<https://evil.example/approve|Approve-pruning>/"
    evil = wired.stack.iam.create_role(
        RoleName="x", Path=path, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )["Role"]["Arn"]
    wired.received()

    wired.runtime.plan_run()

    [message] = wired.summaries()
    text = json.loads(message["Body"])["summary"]
    assert evil in text  # SNS and e-mail: plain text, the ARN as it is
    payload = json.dumps(slack_payload(PruneNotice(NoticeKind.RUN_SUMMARY, ACCOUNT, "", "", (), text)))
    assert "<!channel>" not in payload
    assert "<https://evil.example" not in payload
    assert "&lt;!channel&gt;/&lt;https://evil.example/approve|Approve-pruning&gt;" in payload


def test_a_due_plan_not_applied_because_access_advisor_fails_is_told_as_an_error(wired: Wired) -> None:
    """Review s15 R1 (probe p1): in enforce mode, on the plan's date Access Advisor cannot be started: not applied,
    kept due, recorded, and the next run's summary says so."""
    wired.settings({"prune/mode": "enforce"})
    arn = _announce(wired, "app-backend")
    plan_id = wired.stack.store.role(ACCOUNT, arn).active_plan_id
    wired.runtime.plan_run()  # tells the announcement
    wired.received()
    wired.stack.clock.advance(7)
    wired.stack.stub.stubber.add_client_error(
        "generate_service_last_accessed_details", service_error_code="ServiceFailure", http_status_code=500
    )
    pruner, _ = wired.runtime.pruner()
    assert pruner.process_role(ACCOUNT, arn).outcome == "no_decision"
    state = wired.stack.store.role(ACCOUNT, arn)
    assert (state.active_plan_id, state.last_outcome) == (plan_id, "no_decision")  # still due, tried again
    wired.stack.clock.advance(0.5)

    result = wired.runtime.plan_run()

    assert result["summary"]["sent"] is True
    [message] = wired.summaries()
    assert message["MessageAttributes"]["outcome"]["StringValue"] == "prune_run_errors"
    text = json.loads(message["Body"])["summary"]
    assert f"- {arn}: plan {plan_id} is due, not applied: no decision" in text


def test_a_role_whose_plan_is_no_longer_announced_is_told_as_needing_attention(wired: Wired) -> None:
    """Review s15 R1 (probe p5): the state points at a plan altered in the table; the worker records it."""
    wired.settings({"prune/mode": "enforce"})
    arn = _announce(wired, "app-backend")
    store = wired.stack.store
    plan = store.plan(str(store.role(ACCOUNT, arn).active_plan_id))
    store.save_plan(plan.with_event(PlanStatus.EXPIRED, wired.stack.clock.now, "altered"), wired.stack.clock.now)
    wired.runtime.plan_run()
    wired.received()
    wired.stack.clock.advance(7)
    pruner, _ = wired.runtime.pruner()
    assert pruner.process_role(ACCOUNT, arn).outcome == "needs_attention"
    wired.stack.clock.advance(0.5)

    result = wired.runtime.plan_run()

    assert result["summary"]["sent"] is True
    text = json.loads(wired.summaries()[0]["Body"])["summary"]
    assert f"- {arn}: plan {plan.plan_id} is due, not applied: its state points at a plan no longer announced" in text


def test_a_due_plan_not_applied_because_the_role_cannot_be_read_is_told_as_an_error(
    wired: Wired, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review s15 R1: on the date the role is read again (is it exempt now?); unreadable is no decision, recorded."""
    wired.settings({"prune/mode": "enforce"})
    arn = _announce(wired, "app-backend")
    plan_id = wired.stack.store.role(ACCOUNT, arn).active_plan_id
    wired.runtime.plan_run()
    wired.received()
    wired.stack.clock.advance(7)

    def unreadable(self: IamReader, role_arn: str) -> Any:
        raise RoleReadError(f"cannot read role {role_arn}: AccessDenied")

    monkeypatch.setattr(IamReader, "role", unreadable)
    pruner, _ = wired.runtime.pruner()
    assert pruner.process_role(ACCOUNT, arn).outcome == "no_decision"
    monkeypatch.undo()
    assert wired.stack.store.role(ACCOUNT, arn).active_plan_id == plan_id  # still due
    wired.stack.clock.advance(0.5)

    wired.runtime.plan_run()

    text = json.loads(wired.summaries()[0]["Body"])["summary"]
    assert f"- {arn}: plan {plan_id} is due, not applied: no decision" in text


def test_a_run_that_fails_midway_says_how_many_role_messages_it_sent(
    wired: Wired, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review s15 R3 (probe p2): the queue takes the first batch of 10 and refuses one of the second."""
    for n in range(15):
        create_role(wired.stack.iam, f"r{n:02d}", {"main": POLICY})
    wired.stack.clock.advance(2)
    real = wired.runtime.factory.home_client

    class RefusingSecondBatch:
        def __init__(self, client: Any) -> None:
            self.client, self.calls = client, 0

        def send_message_batch(self, **request: Any) -> Any:
            self.calls += 1
            if self.calls == 2:
                return {"Successful": [], "Failed": [{"Id": "0", "SenderFault": False, "Code": "InternalError"}]}
            return self.client.send_message_batch(**request)

    monkeypatch.setattr(
        wired.runtime.factory,
        "home_client",
        lambda name, *rest: RefusingSecondBatch(real(name)) if name == "sqs" else real(name, *rest),
    )

    with pytest.raises(Exception, match="the queue refused 1 role messages"):
        wired.runtime.plan_run()

    assert len(wired.stack.messages()) == 10
    [message] = wired.summaries()
    text = json.loads(message["Body"])["summary"]
    assert text.startswith("Pruner run: 10 roles sent to the workers.")
    assert "the planner run failed after sending 10 of 15 role messages to the workers" in text
    assert "no role was judged" not in text


def test_a_planner_that_cannot_read_its_settings_says_so(wired: Wired, monkeypatch: pytest.MonkeyPatch) -> None:
    """Review s15 R6 (probe p3)."""

    def unreadable() -> Any:
        raise RuntimeError("AccessDenied: ssm:GetParametersByPath")

    monkeypatch.setattr(wired.runtime, "_settings", unreadable)

    with pytest.raises(RuntimeError):
        wired.runtime.plan_run()

    [message] = wired.summaries()
    assert message["MessageAttributes"]["outcome"]["StringValue"] == "prune_run_errors"
    assert "the planner could not read its settings: no role was sent" in json.loads(message["Body"])["summary"]


def _sent_to_its_worker_and_announced(wired: Wired, name: str) -> str:
    """A planner run sends an old enough role; its worker announces a plan ten minutes later."""
    stack = wired.stack
    arn = create_role(stack.iam, name, {"main": POLICY})
    seen_long_ago(stack, arn)
    stack.clock.advance(2)
    assert wired.runtime.plan_run()["sent"] == 1
    stack.clock.advance(10 / (24 * 60))
    stack.stub.generate(arn)
    stack.stub.page([service("s3", stack.clock.now - timedelta(days=1)), service("ec2", None)])
    stack.stub.granting(arn, {"ec2": ["inline:main"]})
    pruner, _ = wired.runtime.pruner()
    assert pruner.process_role(ACCOUNT, arn).outcome == "announced"
    wired.received()
    return arn


def test_an_hourly_schedule_tells_each_outcome_once(wired: Wired) -> None:
    """Review s15 R4 (probe p4): the window starts where the last summary's did, not a fixed 25 hours back."""
    arn = _sent_to_its_worker_and_announced(wired, "app-backend")
    told = []
    for _ in range(24):
        wired.stack.clock.advance(1 / 24)
        if wired.runtime.plan_run()["summary"]["sent"]:
            told.append(json.loads(wired.summaries()[0]["Body"])["summary"])

    [text] = told
    assert f"- {arn} (plan prune-" in text


def test_a_schedule_rarer_than_daily_still_tells_the_outcome(wired: Wired) -> None:
    arn = _sent_to_its_worker_and_announced(wired, "app-backend")
    wired.stack.clock.advance(3)  # e.g. rate(3 days): older than 25 hours, newer than the last run

    assert wired.runtime.plan_run()["summary"]["sent"] is True
    assert arn in json.loads(wired.summaries()[0]["Body"])["summary"]


def test_an_outcome_recorded_while_runs_fail_is_told_by_the_next_run_that_succeeds(wired: Wired) -> None:
    """Review s15 R8: a failed run tells only its failure and does not move the window."""
    arn = _sent_to_its_worker_and_announced(wired, "app-backend")
    broken = wired.build(f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/no-such-queue")
    for _ in range(3):
        wired.stack.clock.advance(1)
        with pytest.raises(Exception, match=r"NonExistentQueue|does not exist"):
            broken.plan_run()
        assert arn not in json.loads(wired.summaries()[0]["Body"])["summary"]
    wired.stack.clock.advance(1)

    wired.runtime.plan_run()

    assert arn in json.loads(wired.summaries()[0]["Body"])["summary"]


def test_an_unreadable_window_record_is_told_and_the_summary_goes_25_hours_back(wired: Wired) -> None:
    arn = _sent_to_its_worker_and_announced(wired, "app-backend")
    table = wired.stack.store.table
    key = {"pk": {"S": "PRUNER#RUN"}, "sk": {"S": "SUMMARY"}}
    boto3.client("dynamodb", region_name=REGION).put_item(TableName=table, Item={**key, "body": {"B": b"junk"}})
    wired.stack.clock.advance(1 / 24)

    wired.runtime.plan_run()

    text = json.loads(wired.summaries()[0]["Body"])["summary"]
    assert "the last run summary's time is unreadable, told from 25 hours" in text
    assert arn in text


def test_a_window_record_that_cannot_be_saved_does_not_fail_the_run(
    wired: Wired, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The role messages are on the queue: failing (and being retried) would send them again. Said in the answer."""
    _announce(wired, "app-backend")

    def refused(self: PruneStore, started: Any, now: Any) -> None:
        raise StoreError("cannot write the pruner's run summary record: AccessDenied")

    monkeypatch.setattr(PruneStore, "save_summarised_until", refused)

    result = wired.runtime.plan_run()

    assert result["summary"]["sent"] is True
    assert "not saved, the next summary starts earlier" in result["summary"]["window"]


def test_a_summary_whose_account_cannot_be_read_names_it_unknown(wired: Wired, monkeypatch: pytest.MonkeyPatch) -> None:
    """SNS refuses an empty String message attribute (review s15 R3 nit)."""

    def unreadable(self: ClientFactory) -> str:
        raise RuntimeError("sts:GetCallerIdentity refused")

    monkeypatch.setattr(ClientFactory, "home_account", property(unreadable))

    assert wired.runtime._account() == "unknown"


def test_a_plan_announced_in_notify_mode_is_not_said_to_be_removed_after_a_switch_to_enforce(wired: Wired) -> None:
    """Review 2 S1 (probe q1): the worker applies a plan only when announced in enforce mode AND enforce now; the
    summary says what its date does by both, as the worker decides."""
    arn = _announce(wired, "app-backend")
    wired.received()
    wired.settings({"prune/mode": "enforce"})
    wired.runtime = wired.build(wired.stack.queue_url)  # fresh settings (their cache is 60 s of real time)
    wired.stack.clock.advance(1 / 24)

    wired.runtime.plan_run()

    text = json.loads(wired.summaries()[0]["Body"])["summary"]
    assert "announced in notify mode: nothing is removed on its date" in text
    assert "removed on its date (" not in text
    wired.stack.clock.advance(7)
    wired.stack.stub.generate(arn)
    pruner, _ = wired.runtime.pruner()
    assert pruner.process_role(ACCOUNT, arn).outcome == "expired"  # what the summary said


def test_a_summary_that_reaches_no_channel_leaves_the_window_for_the_next_run(wired: Wired) -> None:
    """Review 2 S2 (probe q2): SNS refuses the summary (topic gone, KMS denied, throttled) and no Slack: the window
    is not moved, so the next run tells the announcement."""
    arn = _sent_to_its_worker_and_announced(wired, "app-backend")
    sns = boto3.client("sns", region_name=REGION)
    sns.delete_topic(TopicArn=wired.topic)
    wired.stack.clock.advance(1 / 24)

    failed = wired.runtime.plan_run()["summary"]

    assert failed["sent"] is True
    assert failed["failed"]
    assert "not saved: the summary reached no channel" in failed["window"]
    wired.topic = sns.create_topic(Name="iamwarden-alerts")["TopicArn"]  # the same ARN, subscribed again
    inbox_arn = wired.stack.sqs.get_queue_attributes(QueueUrl=wired.inbox, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=wired.topic, Protocol="sqs", Endpoint=inbox_arn, Attributes={"RawMessageDelivery": "true"})
    wired.stack.clock.advance(1 / 24)

    told = wired.runtime.plan_run()["summary"]

    assert told == {"sent": True, "failed": []}
    assert f"- {arn} (plan prune-" in json.loads(wired.summaries()[0]["Body"])["summary"]
    wired.stack.clock.advance(1 / 24)
    assert wired.runtime.plan_run()["summary"] == {"sent": False}  # delivered once: the window moved


def test_a_window_record_without_a_time_zone_is_told_and_the_summary_goes_25_hours_back(wired: Wired) -> None:
    """Review 2 S4: a hand-edited time without a zone cannot be compared with the run's: unreadable, never a
    TypeError that fails every run."""
    arn = _sent_to_its_worker_and_announced(wired, "app-backend")
    wired.stack.store.save_summarised_until(datetime(2026, 12, 6, 6, 0), wired.stack.clock.now)
    wired.stack.clock.advance(1 / 24)

    wired.runtime.plan_run()

    text = json.loads(wired.summaries()[0]["Body"])["summary"]
    assert "the last run summary's time is unreadable, told from 25 hours" in text
    assert "no time zone" in text
    assert arn in text
