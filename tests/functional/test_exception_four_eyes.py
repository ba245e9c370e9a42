"""Four eyes on exceptions (audit s7 gap 11), against moto: an admin cannot approve their own exception, a
persistence rule's exception needs an operator, every approval is announced, and an item that skips the desk is
neither honoured nor kept."""

from __future__ import annotations

from datetime import timedelta

import pytest

from iamwarden.adapters.clients import ClientFactory
from iamwarden.adapters.exception_store import ExceptionStore
from iamwarden.app.exception_desk import ExceptionDesk
from iamwarden.app.exception_wiring import build_exception_watch
from iamwarden.app.service import EnforcerService
from iamwarden.domain.catalog import Severity
from iamwarden.domain.delivery import Delivery, DeliveryReport
from iamwarden.domain.exceptions import ExceptionNotAllowed
from iamwarden.domain.findings import Outcome
from iamwarden.domain.rule_exceptions import ExceptionScope, ExceptionStatus
from iamwarden.domain.settings import ExceptionSettings
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.test_exceptions import BUCKET_ARN, RULE, START, Clock

ACCOUNT = "111122223333"
INTRUDER = f"arn:aws:iam::{ACCOUNT}:user/alice"  # create-user-backdoor-cli.json's actor
OTHER_ADMIN = f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/bob"
OPERATOR_ROLE = f"arn:aws:iam::{ACCOUNT}:role/SecOps"
OPERATOR = f"arn:aws:sts::{ACCOUNT}:assumed-role/SecOps/carol"
PERSISTENCE_RULES = ("iam-user-created", "access-key-created", "privilege-escalation", "remediation-reversed")


class FailingNotifier:
    def __init__(self) -> None:
        self.sent = 0

    def notify(self, notification: object) -> DeliveryReport:
        self.sent += 1
        return DeliveryReport((Delivery("sns:iamwarden-alerts", ok=False, error="AuthorizationError"),))


def desk(account: Account, notifier: object, operators: tuple[str, ...] = (OPERATOR_ROLE,)) -> ExceptionDesk:
    store = ExceptionStore(account.config.exceptions_table, account.dynamodb)
    return ExceptionDesk(
        store,
        account.audit(),
        ExceptionSettings,
        clock=Clock(),
        operators=lambda: operators,
        notifier=notifier,  # type: ignore[arg-type]
    )


def backdoor_user(account: Account, enforcer: EnforcerService) -> dict[str, object]:
    account.set("rules/iam-user-created/mode", "remediate")
    account.iam.create_user(UserName="backdoor-admin")
    enforcer.clock = lambda: START + timedelta(days=3)  # after the sample's eventTime (2026-11-21)
    result: dict[str, object] = enforcer.handle(load_event("create-user-backdoor-cli.json"))
    return result


def test_an_intruder_cannot_approve_their_own_exceptions_and_the_backdoor_is_remediated(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """The probe of gap 11 (E1): alice requests and approves, as herself, actor exceptions to the persistence rules."""
    exceptions = desk(account, notifier)
    for rule in PERSISTENCE_RULES:
        requested = exceptions.request(ExceptionScope(rule, actor_pattern=INTRUDER), "migration", INTRUDER, 30)
        with pytest.raises(ExceptionNotAllowed, match=r"is its requester .* needs a second person"):
            exceptions.approve(requested.exception_id, INTRUDER)
        assert exceptions.get(requested.exception_id).status is ExceptionStatus.REQUESTED
    assert notifier.sent == []  # nothing was approved, so nothing announced

    result = backdoor_user(account, enforcer)

    assert result["verdict"] == "violation"
    assert [f["outcome"] for f in result["findings"]] == ["remediated"]  # type: ignore[attr-defined]
    assert [n.outcome for n in notifier.sent] == [Outcome.REMEDIATED]


def test_a_second_admin_who_is_no_operator_cannot_approve_a_persistence_rule(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    exceptions = desk(account, notifier)
    requested = exceptions.request(
        ExceptionScope("iam-user-created", actor_pattern=INTRUDER), "migration", INTRUDER, 30
    )

    with pytest.raises(ExceptionNotAllowed, match=r"only by an operator \(rules/iamwarden-tampered/operators\)"):
        exceptions.approve(requested.exception_id, OTHER_ADMIN)
    with pytest.raises(ExceptionNotAllowed, match="only by an operator"):
        desk(account, notifier, operators=()).approve(requested.exception_id, OPERATOR)  # no operators set

    approved = exceptions.approve(requested.exception_id, OPERATOR)
    assert approved.approver == OPERATOR
    [notice] = notifier.sent
    assert notice.finding is not None
    assert notice.finding.severity is Severity.HIGH


def test_every_approval_is_announced_with_who_asked_who_approved_scope_and_expiry(
    account: Account, notifier: RecordingNotifier
) -> None:
    exceptions = desk(account, notifier)
    requested = exceptions.request(ExceptionScope(RULE, resource_pattern=BUCKET_ARN), "public website", INTRUDER, 3)

    approved = exceptions.approve(requested.exception_id, OTHER_ADMIN)

    [notice] = notifier.sent
    assert notice.outcome is Outcome.NOTEWORTHY
    finding = notice.finding
    assert finding is not None
    assert (finding.rule_id, finding.resource_arn, finding.severity) == (RULE, BUCKET_ARN, Severity.HIGH)
    assert finding.event_name == "ExceptionApproved"
    for fact in (
        f"Exception {approved.exception_id} approved",
        f"rule {RULE} on resources {BUCKET_ARN}",
        "until 2026-11-22T08:00:00+00:00 (3 days)",
        f"Requested by {INTRUDER}, approved by {OTHER_ADMIN}",
        "'public website'",
        f"iamwarden exception revoke {approved.exception_id}",
    ):
        assert fact in finding.reason
    assert exceptions.notice_failures == ()
    [record] = [r for r in account.audit().history(BUCKET_ARN) if r.status == "exception approved"]
    assert record.delivery_failures == []


def test_an_undelivered_notice_leaves_the_approval_and_is_recorded(account: Account) -> None:
    failing = FailingNotifier()
    exceptions = desk(account, failing)
    requested = exceptions.request(ExceptionScope(RULE, resource_pattern=BUCKET_ARN), "why", INTRUDER, 3)

    approved = exceptions.approve(requested.exception_id, OTHER_ADMIN)

    assert (failing.sent, approved.status) == (1, ExceptionStatus.APPROVED)
    assert [d.channel for d in exceptions.notice_failures] == ["sns:iamwarden-alerts"]
    [record] = [r for r in account.audit().history(BUCKET_ARN) if r.status == "exception approved"]
    assert record.delivery_failures == [{"channel": "sns:iamwarden-alerts", "ok": False, "error": "AuthorizationError"}]


def test_a_notifier_that_raises_does_not_undo_the_approval(account: Account) -> None:
    class Raising:
        def notify(self, notification: object) -> DeliveryReport:
            raise RuntimeError("boom")

    exceptions = desk(account, Raising())
    requested = exceptions.request(ExceptionScope(RULE, resource_pattern=BUCKET_ARN), "why", INTRUDER, 3)

    assert exceptions.approve(requested.exception_id, OTHER_ADMIN).status is ExceptionStatus.APPROVED
    assert [d.error for d in exceptions.notice_failures] == ["RuntimeError: boom"]


def test_a_self_approved_item_written_into_the_table_is_not_honoured_and_the_watch_revokes_it(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Skipping the desk (a PutItem) does not skip four eyes: the enforcer and the watch check the item again."""
    exceptions = desk(account, notifier)
    requested = exceptions.request(
        ExceptionScope("iam-user-created", actor_pattern=INTRUDER), "migration", INTRUDER, 30
    )
    forged = requested.approved(INTRUDER, START)
    exceptions.store.replace(requested, forged)

    result = backdoor_user(account, enforcer)

    assert [f["outcome"] for f in result["findings"]] == ["remediated"]  # type: ignore[attr-defined]
    notifier.sent.clear()
    clients = ClientFactory(HOME_ACCOUNT, account.config.member_role_name, session=account.session)
    watch = build_exception_watch(account.config, clients, notifier=notifier)
    watch.desk.clock = lambda: START + timedelta(hours=2)
    assert watch.run().expired == (forged.exception_id,)
    [alert] = notifier.sent
    assert alert.finding is not None
    assert alert.finding.severity is Severity.CRITICAL
    assert "is its requester" in alert.finding.reason
    assert exceptions.get(forged.exception_id).status is ExceptionStatus.REVOKED
