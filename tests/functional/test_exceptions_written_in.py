"""An exception written straight into the exceptions table, not through the desk, is never honoured and is
announced as critical (issue 15; audit s7 "exceptions written straight into the table are not announced").

The four-eyes checks (``approval_flaw``) catch an item the desk could not have approved; an intruder who writes
a well-formed one (a requester, a different approver, a consistent expiry) passed them, exempted their changes
and was announced nowhere: only the desk announces. Now the desk's own record of the approval in the audit table
(``DeskApprovals``) is what makes an approved item count: the enforcer honours none without it, and the exception
watch revokes it and alerts it as critical. The item is put with boto3 straight into moto's table.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from iamwarden.adapters.audit import AuditRecord
from iamwarden.adapters.clients import ClientFactory
from iamwarden.adapters.exception_store import CachedActiveExceptions, DeskApprovals, to_item
from iamwarden.app.exception_watch import ExceptionWatch
from iamwarden.app.exception_wiring import build_exception_watch
from iamwarden.app.service import EnforcerService
from iamwarden.domain.catalog import Severity
from iamwarden.domain.findings import Outcome
from iamwarden.domain.rule_exceptions import ExceptionScope, ExceptionStatus, RuleException, expiry
from tests.aws_fixtures import HOME_ACCOUNT
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.test_exceptions import (
    APPROVER,
    BUCKET_ARN,
    OPERATOR,
    RULE,
    START,
    Clock,
    approved,
    bucket_policy,
    desk_of,
    enforce_public_policy,
    public_bucket,
)


def _written_in(account: Account, exception_id: str = "exc-written-in") -> RuleException:
    """A well-formed "approved" item (four eyes, 7 days, its expiry right), put with boto3 past the desk."""
    forged = RuleException(
        exception_id=exception_id,
        scope=ExceptionScope(RULE, resource_pattern=BUCKET_ARN),
        reason="public website",
        requester=OPERATOR,
        requested_at=START,
        days=7,
        status=ExceptionStatus.APPROVED,
        approver=APPROVER,
        approved_at=START,
        expires_at=expiry(START, 7),
    )
    account.dynamodb.put_item(TableName=account.config.exceptions_table, Item=to_item(forged))
    return forged


@pytest.fixture
def watch(account: Account, notifier: RecordingNotifier) -> ExceptionWatch:
    clients = ClientFactory(HOME_ACCOUNT, account.config.member_role_name, session=account.session)
    built = build_exception_watch(account.config, clients, notifier=notifier)
    built.desk.clock = Clock(START + timedelta(hours=1))
    return built


def test_the_enforcer_never_honours_an_exception_the_desk_did_not_approve(
    account: Account, enforcer: EnforcerService
) -> None:
    public_bucket(account)
    _written_in(account)

    result = enforce_public_policy(account, enforcer, START + timedelta(days=1))

    assert [f["outcome"] for f in result["findings"]] == ["remediated"]
    assert bucket_policy(account) is None


def test_the_same_exception_through_the_desk_is_honoured(account: Account, enforcer: EnforcerService) -> None:
    public_bucket(account)
    exception_id = approved(desk_of(account, Clock()))

    result = enforce_public_policy(account, enforcer, START + timedelta(days=1))

    assert f"exempted by exception {exception_id}" in result["reason"]


def test_the_watch_revokes_it_and_announces_it_as_critical_once(
    account: Account, watch: ExceptionWatch, notifier: RecordingNotifier
) -> None:
    _written_in(account)

    assert watch.run().expired == ("exc-written-in",)
    watch.run()

    [alert] = notifier.sent
    assert alert.outcome is Outcome.ALERTED
    assert alert.finding is not None
    assert alert.finding.severity is Severity.CRITICAL
    assert "IAM Warden's desk recorded no approval of it" in alert.finding.reason
    assert "exc-written-in-approved" in alert.finding.reason
    stored = watch.desk.store.get("exc-written-in")
    assert stored is not None
    assert stored.status is ExceptionStatus.REVOKED


def test_an_approval_record_naming_someone_else_does_not_make_it_the_desks(account: Account) -> None:
    """The intruder writes the audit record too, but not as the approver the item names."""
    forged = _written_in(account)
    account.audit().put(
        AuditRecord(
            remediation_id="exc-written-in-approved",
            kind="exception",
            status="exception approved",
            resource_arn=BUCKET_ARN,
            event_id="",
            created_at=START.isoformat(),
            rule=RULE,
            account="",
            region="",
            finding={},
            actor="arn:aws:iam::111122223333:user/intruder",
        )
    )

    assert DeskApprovals(account.audit()).recorded(forged) is False


def test_a_desk_approval_is_found_and_kept_and_an_unreadable_audit_counts_as_none(account: Account) -> None:
    desk = desk_of(account, Clock())
    exception_id = approved(desk)
    exception = desk.get(exception_id)
    approvals = DeskApprovals(account.audit())
    assert approvals.recorded(exception) is True

    class Unreadable:
        def get(self, remediation_id: str) -> None:
            raise RuntimeError("AccessDenied")

    assert DeskApprovals(Unreadable()).recorded(exception) is False  # type: ignore[arg-type]
    approvals.audit = Unreadable()  # type: ignore[assignment]
    assert approvals.recorded(exception) is True, "a record once found never changes"


def test_the_cache_without_approvals_honours_every_approved_item_as_before(account: Account) -> None:
    forged = _written_in(account)
    store = desk_of(account, Clock()).store

    assert CachedActiveExceptions(store, 60).current() == (forged,)
    assert CachedActiveExceptions(store, 60, approvals=DeskApprovals(account.audit())).current() == ()
