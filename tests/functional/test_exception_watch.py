"""The exception watch against moto: reminders once, expiry once, and the resource's current state judged again."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from iamwarden.adapters.clients import ClientFactory
from iamwarden.app.exception_watch import ExceptionWatch
from iamwarden.app.exception_wiring import build_exception_watch
from iamwarden.domain.catalog import Mode
from iamwarden.domain.findings import Outcome
from iamwarden.domain.rule_exceptions import ExceptionScope, ExceptionStatus
from tests.aws_fixtures import HOME_ACCOUNT
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.test_exceptions import APPROVER, BUCKET, BUCKET_ARN, OPERATOR, RULE, START, Clock, public_bucket

ROLE = "app-backend"
ROLE_ARN = f"arn:aws:iam::{HOME_ACCOUNT}:role/{ROLE}"
ADMIN_STAR = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def watch(account: Account, notifier: RecordingNotifier, clock: Clock) -> ExceptionWatch:
    clients = ClientFactory(HOME_ACCOUNT, account.config.member_role_name, session=account.session)
    built = build_exception_watch(account.config, clients, notifier=notifier)
    built.desk.clock = clock
    return built


def approve(watch: ExceptionWatch, scope: ExceptionScope, days: int = 2) -> str:
    """Requested and approved (by a second person); the approval's notice is checked and taken off the channel."""
    desk = watch.desk
    exception_id = desk.approve(desk.request(scope, "launch week", OPERATOR, days).exception_id, APPROVER).exception_id
    sent = watch.notifier.sent  # type: ignore[attr-defined]
    notice = sent.pop()
    assert notice.finding.event_name == "ExceptionApproved"
    assert f"Exception {exception_id} approved" in notice.finding.reason
    return str(exception_id)


def test_the_owner_is_reminded_once_before_expiry(
    account: Account, watch: ExceptionWatch, notifier: RecordingNotifier, clock: Clock
) -> None:
    public_bucket(account)
    exception_id = approve(watch, ExceptionScope(RULE, resource_pattern=BUCKET_ARN))

    clock.now = START + timedelta(hours=23)
    assert watch.run().reminded == ()  # more than remind_days_before (1) ahead
    clock.now = START + timedelta(days=1, hours=1)
    assert watch.run().reminded == (exception_id,)
    assert watch.run().reminded == ()  # once

    [reminder] = notifier.sent
    assert reminder.outcome is Outcome.NOTEWORTHY
    assert reminder.finding is not None
    assert reminder.finding.resource_arn == BUCKET_ARN  # the owner routing finds the bucket's owner tags
    assert f"exception {exception_id}" in reminder.finding.reason
    assert "expires at 2026-11-21T08:00:00+00:00" in reminder.finding.reason
    assert watch.desk.get(exception_id).reminded_at == clock.now


def test_a_reminder_setting_of_zero_never_reminds(
    account: Account, watch: ExceptionWatch, notifier: RecordingNotifier, clock: Clock
) -> None:
    account.set("exceptions/remind_days_before", "0")
    approve(watch, ExceptionScope(RULE, resource_pattern=BUCKET_ARN))
    clock.now = START + timedelta(days=1, hours=23)
    assert watch.run() == ((), ())
    assert notifier.sent == []


def test_at_expiry_a_bucket_policy_is_judged_again_and_alerted_once(
    account: Account, watch: ExceptionWatch, notifier: RecordingNotifier, clock: Clock
) -> None:
    public_bucket(account)
    account.set(f"rules/{RULE}/mode", "remediate")
    exception_id = approve(watch, ExceptionScope(RULE, resource_pattern=BUCKET_ARN))
    clock.now = START + timedelta(days=2)

    assert watch.run().expired == (exception_id,)
    assert watch.run().expired == ()  # once

    assert watch.desk.get(exception_id).status is ExceptionStatus.EXPIRED
    [alert] = [n for n in notifier.sent if n.outcome is Outcome.ALERTED]
    assert alert.finding is not None
    assert (alert.finding.rule_id, alert.finding.resource_arn) == (RULE, BUCKET_ARN)
    assert alert.finding.reason.startswith(f"exception {exception_id} (rule {RULE} on resources {BUCKET_ARN}")
    assert "expired; its current state was judged again:" in alert.finding.reason
    assert alert.finding.plan  # what remediation would do, shown in the alert; the watch changes nothing
    assert account.s3.get_bucket_policy(Bucket=BUCKET)["Policy"]
    assert [r.status for r in account.audit().history(BUCKET_ARN)][-1] == "exception expired"


def test_at_expiry_a_compliant_resource_is_said_to_be_compliant(
    account: Account, watch: ExceptionWatch, notifier: RecordingNotifier, clock: Clock
) -> None:
    public_bucket(account)
    account.s3.delete_bucket_policy(Bucket=BUCKET)
    approve(watch, ExceptionScope(RULE, resource_pattern=BUCKET_ARN))
    clock.now = START + timedelta(days=3)

    watch.run()

    [notice] = notifier.sent
    assert notice.outcome is Outcome.NOTEWORTHY
    assert notice.finding is not None
    assert notice.finding.reason.endswith(f"its current state was judged again by rule {RULE}: compliant.")


def test_at_expiry_an_identity_policy_is_judged_again(
    account: Account, watch: ExceptionWatch, notifier: RecordingNotifier, clock: Clock
) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    account.iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    account.iam.put_role_policy(RoleName=ROLE, PolicyName="debug-shortcut", PolicyDocument=json.dumps(ADMIN_STAR))
    exception_id = approve(watch, ExceptionScope("inline-policy-admin", resource_pattern=ROLE_ARN))
    clock.now = START + timedelta(days=2, seconds=1)

    assert watch.run().expired == (exception_id,)

    [alert] = notifier.sent
    assert alert.outcome is Outcome.ALERTED
    assert alert.finding is not None
    assert alert.finding.rule_id == "inline-policy-admin"
    assert alert.finding.resource_arn == ROLE_ARN
    assert "debug-shortcut" in alert.finding.reason
    assert alert.finding.mode is Mode.ALERT


def test_a_resource_it_cannot_re_read_is_alerted_for_review(
    account: Account, watch: ExceptionWatch, notifier: RecordingNotifier, clock: Clock
) -> None:
    queue = f"arn:aws:sqs:us-east-1:{HOME_ACCOUNT}:orders"
    approve(watch, ExceptionScope("sqs-queue-policy-public", resource_pattern=queue))
    approve(watch, ExceptionScope(RULE, resource_pattern="arn:aws:s3:::acme-web-*"))
    clock.now = START + timedelta(days=2)

    assert len(watch.run().expired) == 2

    alerts = sorted(notifier.sent, key=lambda n: n.finding.resource_arn if n.finding else "")
    assert [n.outcome for n in alerts] == [Outcome.ALERTED, Outcome.ALERTED]
    reasons = [n.finding.reason for n in alerts if n.finding]
    assert all("IAM Warden cannot re-read this kind of resource, review it" in reason for reason in reasons)
    assert "names many resources" in reasons[0]
    assert "has no re-reader" in reasons[1]
    assert all(n.finding and n.finding.needs_context for n in alerts)  # never remediated on a guess


def test_an_actor_exception_says_their_changes_are_judged_again(
    watch: ExceptionWatch, notifier: RecordingNotifier, clock: Clock
) -> None:
    approve(watch, ExceptionScope(RULE, actor_pattern="arn:aws:iam::111122223333:user/alice"))
    clock.now = START + timedelta(days=2)

    watch.run()

    [notice] = notifier.sent
    assert notice.outcome is Outcome.NOTEWORTHY
    assert notice.finding is not None
    assert "changes by arn:aws:iam::111122223333:user/alice are judged by rule" in notice.finding.reason


def test_a_revoked_or_pending_exception_is_left_alone(
    watch: ExceptionWatch, notifier: RecordingNotifier, clock: Clock
) -> None:
    desk = watch.desk
    desk.revoke(approve(watch, ExceptionScope(RULE, resource_pattern=BUCKET_ARN)), OPERATOR)
    desk.request(ExceptionScope(RULE, resource_pattern=BUCKET_ARN), "why", OPERATOR)
    clock.now = START + timedelta(days=30)

    assert watch.run() == ((), ())
    assert notifier.sent == []


def test_an_approved_item_written_into_the_table_is_revoked_and_alerted_and_never_honoured(
    account: Account, watch: ExceptionWatch, notifier: RecordingNotifier, clock: Clock
) -> None:
    """The audit's forgery: an "approved" ten-year exception put straight into the table (a data event no rule sees)."""
    from datetime import UTC, datetime

    from iamwarden.adapters.exception_store import to_item
    from iamwarden.domain.catalog import Severity
    from iamwarden.domain.rule_exceptions import RuleException

    forged = RuleException(
        exception_id="forged-1",
        scope=ExceptionScope(RULE, resource_pattern=BUCKET_ARN),
        reason="x",
        requester="nobody",
        requested_at=datetime(2026, 1, 1, tzinfo=UTC),
        days=3650,
        status=ExceptionStatus.APPROVED,
        approver="nobody",
        approved_at=datetime(2026, 1, 1, tzinfo=UTC),
        expires_at=datetime(2036, 1, 1, tzinfo=UTC),
    )
    account.dynamodb.put_item(TableName=account.config.exceptions_table, Item=to_item(forged))
    report = watch.run()
    assert report.expired == ("forged-1",)
    [alert] = notifier.sent
    assert alert.outcome is Outcome.ALERTED
    assert alert.finding is not None
    assert alert.finding.severity is Severity.CRITICAL
    assert "could not have approved it: it lasts 3650 days" in alert.finding.reason
    stored = watch.desk.store.get("forged-1")
    assert stored is not None
    assert stored.status is ExceptionStatus.REVOKED
    watch.run()
    assert len(notifier.sent) == 1  # revoked once, alerted once
