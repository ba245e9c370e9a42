"""Rule exceptions (issue 17 item 4) against moto: the desk, the table, the enforcer, the CLI and the undo."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from iamwarden.adapters.exception_store import CachedActiveExceptions, ExceptionStore
from iamwarden.app.cli import main
from iamwarden.app.exception_desk import ExceptionDesk
from iamwarden.app.service import EnforcerService
from iamwarden.domain.exceptions import ExceptionConflict, ExceptionRefused, ExceptionStoreError
from iamwarden.domain.rule_exceptions import ExceptionScope, ExceptionStatus
from iamwarden.domain.settings import ExceptionSettings
from tests.conftest import load_event
from tests.functional.conftest import Account

RULE = "s3-bucket-policy-public"
BUCKET = "acme-invoices"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
OPERATOR = "arn:aws:iam::111122223333:user/secops"
APPROVER = "arn:aws:iam::111122223333:user/approver"
START = datetime(2026, 11, 19, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


DEFAULTS = ExceptionSettings()


def desk_of(account: Account, clock: Clock, settings: ExceptionSettings = DEFAULTS) -> ExceptionDesk:
    store = ExceptionStore(account.config.exceptions_table, account.dynamodb)
    return ExceptionDesk(store, account.audit(), lambda: settings, clock=clock)


def public_bucket(account: Account) -> dict[str, Any]:
    policy = dict(load_event("bucket-policy-public-read.json")["detail"]["requestParameters"]["bucketPolicy"])
    account.s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    account.s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    return policy


def bucket_policy(account: Account) -> dict[str, Any] | None:
    try:
        return dict(json.loads(account.s3.get_bucket_policy(Bucket=BUCKET)["Policy"]))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchBucketPolicy":
            raise
        return None


def approved(desk: ExceptionDesk, days: int = 7) -> str:
    requested = desk.request(ExceptionScope(RULE, resource_pattern=BUCKET_ARN), "public website", OPERATOR, days)
    return desk.approve(requested.exception_id, "arn:aws:iam::111122223333:user/approver").exception_id


# --- the desk and its table ---------------------------------------------------------------------


def test_request_then_approve_sets_the_expiry_and_records_each_step(account: Account) -> None:
    clock = Clock()
    desk = desk_of(account, clock)
    requested = desk.request(ExceptionScope(RULE, resource_pattern=BUCKET_ARN), "  public  website ", OPERATOR)
    assert (requested.status, requested.days, requested.reason) == (ExceptionStatus.REQUESTED, 7, "public website")
    assert requested.expires_at is None
    clock.now = START + timedelta(hours=2)

    approval = desk.approve(requested.exception_id, "arn:aws:iam::111122223333:user/approver")

    assert approval.status is ExceptionStatus.APPROVED
    assert approval.expires_at == START + timedelta(hours=2, days=7)
    assert desk.get(requested.exception_id) == approval
    history = account.audit().history(BUCKET_ARN)
    assert [(r.status, r.actor) for r in history] == [
        ("exception requested", OPERATOR),
        ("exception approved", "arn:aws:iam::111122223333:user/approver"),
    ]
    item = account.dynamodb.get_item(
        TableName=account.config.exceptions_table, Key={"exception_id": {"S": requested.exception_id}}
    )["Item"]
    # TTL well after the expiry: the expired item stays readable for the audit.
    assert int(item["expires_at_epoch"]["N"]) == int((approval.expires_at + timedelta(days=90)).timestamp())


def test_a_second_approval_is_refused_and_changes_nothing(account: Account) -> None:
    desk = desk_of(account, Clock())
    exception_id = approved(desk)
    first = desk.get(exception_id)

    with pytest.raises(ExceptionConflict, match=rf"Exception {exception_id} is approved \(by .*approver"):
        desk.approve(exception_id, OPERATOR)
    assert desk.get(exception_id) == first


def test_an_approval_that_loses_a_race_is_refused(account: Account) -> None:
    clock = Clock()
    desk = desk_of(account, clock)
    requested = desk.request(ExceptionScope(RULE, resource_pattern=BUCKET_ARN), "why", OPERATOR)
    desk.store.replace(requested, requested.approved("arn:other", START))  # someone else, in between

    with pytest.raises(ExceptionConflict, match="changed by someone else meanwhile"):
        desk.store.replace(requested, requested.approved(OPERATOR, START))
    real_get = desk.store.get
    reads = iter([requested])  # the desk's first read still sees the request
    desk.store.get = lambda exception_id: next(reads, None) or real_get(exception_id)  # type: ignore[method-assign]
    with pytest.raises(ExceptionConflict, match=r"is approved \(by arn:other .*only a requested one can be approved"):
        desk.approve(requested.exception_id, APPROVER)
    assert real_get(requested.exception_id).approver == "arn:other"  # type: ignore[union-attr]


def test_revoke_ends_it_once(account: Account) -> None:
    desk = desk_of(account, Clock())
    exception_id = approved(desk)

    revoked = desk.revoke(exception_id, OPERATOR)

    assert (revoked.status, revoked.ended_by) == (ExceptionStatus.REVOKED, OPERATOR)
    with pytest.raises(ExceptionConflict, match=r"is revoked .* already; nothing to revoke"):
        desk.revoke(exception_id, OPERATOR)
    with pytest.raises(ExceptionConflict, match="only a requested one can be approved"):
        desk.approve(exception_id, OPERATOR)
    assert [e.exception_id for e in desk.list()] == []
    assert [e.exception_id for e in desk.list(include_inactive=True)] == [exception_id]


@pytest.mark.parametrize(
    ("scope", "reason", "days", "message"),
    [
        (ExceptionScope("no-such-rule", resource_pattern=BUCKET_ARN), "why", None, "There is no rule 'no-such-rule'"),
        (ExceptionScope(RULE), "why", None, "exactly one pattern"),
        (ExceptionScope(RULE, BUCKET_ARN, OPERATOR), "why", None, "exactly one pattern"),
        (ExceptionScope(RULE, resource_pattern="arn:aws:s3:::*"), "why", None, "matches everything"),
        (ExceptionScope(RULE, actor_pattern="*"), "why", None, "matches everything"),
        (ExceptionScope(RULE, resource_pattern=BUCKET_ARN), "   ", None, "needs a reason"),
        (ExceptionScope(RULE, resource_pattern=BUCKET_ARN), "why", 91, "at most 90 days"),
        (ExceptionScope(RULE, resource_pattern=BUCKET_ARN), "why", 0, "at least 1 day"),
    ],
)
def test_bad_requests_are_refused_and_nothing_is_stored(
    account: Account, scope: ExceptionScope, reason: str, days: int | None, message: str
) -> None:
    desk = desk_of(account, Clock())
    with pytest.raises(ExceptionRefused, match=message):
        desk.request(scope, reason, OPERATOR, days)
    assert desk.list(include_inactive=True) == []


def test_unknown_and_malformed_ids_are_refused(account: Account) -> None:
    desk = desk_of(account, Clock())
    with pytest.raises(ExceptionRefused, match="There is no exception exc-000000000000"):
        desk.approve("exc-000000000000", OPERATOR)
    with pytest.raises(ExceptionRefused, match="not an exception id"):
        desk.get("rem-1")


def test_a_missing_table_is_a_store_error(account: Account) -> None:
    store = ExceptionStore("no-such-table", account.dynamodb)
    with pytest.raises(ExceptionStoreError, match="no-such-table"):
        store.with_status(ExceptionStatus.APPROVED)
    with pytest.raises(ExceptionStoreError, match="no-such-table"):
        store.get("exc-1")


def test_the_cache_reads_again_after_its_age_or_when_asked(account: Account) -> None:
    desk = desk_of(account, Clock())
    ticks = iter([0.0, 1.0, 2.0, 100.0])
    cache = CachedActiveExceptions(desk.store, 60, monotonic=lambda: next(ticks))
    assert cache.current() == ()
    exception_id = approved(desk)
    assert cache.current() == ()  # cached
    assert [e.exception_id for e in cache.current(fresh=True)] == [exception_id]
    desk.revoke(exception_id, OPERATOR)
    assert cache.current() == ()  # older than max_age: read again


# --- the enforcer consults them -----------------------------------------------------------------


def enforce_public_policy(account: Account, enforcer: EnforcerService, now: datetime) -> dict[str, Any]:
    account.set(f"rules/{RULE}/mode", "remediate")
    enforcer.clock = lambda: now
    result: dict[str, Any] = enforcer.handle(load_event("bucket-policy-public-read.json"))
    return result


def test_an_exempted_violation_is_left_alone_and_says_which_exception(
    account: Account, enforcer: EnforcerService
) -> None:
    policy = public_bucket(account)
    exception_id = approved(desk_of(account, Clock()))

    result = enforce_public_policy(account, enforcer, START + timedelta(days=1))

    assert result["verdict"] == "compliant"
    assert result["findings"] == []
    assert f"exempted by exception {exception_id}" in result["reason"]
    assert "'public website'" in result["reason"]
    assert "until 2026-11-26T08:00:00+00:00" in result["reason"]
    assert bucket_policy(account) == policy


@pytest.mark.parametrize("ending", ["expired", "revoked", "requested only"])
def test_an_exception_that_does_not_hold_exempts_nothing(
    account: Account, enforcer: EnforcerService, ending: str
) -> None:
    public_bucket(account)
    desk = desk_of(account, Clock())
    now = START + timedelta(days=1)
    if ending == "expired":
        approved(desk, days=1)
        now = START + timedelta(days=1, seconds=1)
    elif ending == "revoked":
        desk.revoke(approved(desk), OPERATOR)
    else:
        desk.request(ExceptionScope(RULE, resource_pattern=BUCKET_ARN), "why", OPERATOR)

    result = enforce_public_policy(account, enforcer, now)

    assert [f["outcome"] for f in result["findings"]] == ["remediated"]
    assert bucket_policy(account) is None


def test_an_exception_for_another_rule_or_resource_exempts_nothing(account: Account, enforcer: EnforcerService) -> None:
    public_bucket(account)
    desk = desk_of(account, Clock())
    for scope in (
        ExceptionScope("s3-bucket-policy-cross-account", resource_pattern=BUCKET_ARN),
        ExceptionScope(RULE, resource_pattern="arn:aws:s3:::acme-other"),
    ):
        desk.approve(desk.request(scope, "why", OPERATOR).exception_id, APPROVER)

    result = enforce_public_policy(account, enforcer, START + timedelta(hours=1))

    assert [f["outcome"] for f in result["findings"]] == ["remediated"]


def test_an_actor_exception_exempts_that_actors_changes(account: Account, enforcer: EnforcerService) -> None:
    policy = public_bucket(account)
    desk = desk_of(account, Clock())
    scope = ExceptionScope(RULE, actor_pattern="arn:aws:iam::111122223333:user/alice")
    desk.approve(desk.request(scope, "the web team's deploy user", OPERATOR).exception_id, APPROVER)

    result = enforce_public_policy(account, enforcer, START + timedelta(hours=1))

    assert result["verdict"] == "compliant"
    assert bucket_policy(account) == policy


def test_an_exception_approved_a_moment_ago_holds_despite_the_cache(
    account: Account, enforcer: EnforcerService
) -> None:
    policy = public_bucket(account)
    assert enforcer.exceptions is not None
    enforcer.exceptions._max_age = 3600  # type: ignore[attr-defined]  # read once, kept for an hour
    enforcer.clock = lambda: START + timedelta(minutes=15)  # after the sample's 08:12:05 (a later time is rejected)
    enforcer.handle(load_event("attach-lambda-basic-execution.json"))  # fills the cache: no exceptions
    approved(desk_of(account, Clock()))

    result = enforce_public_policy(account, enforcer, START + timedelta(minutes=16))

    assert result["verdict"] == "compliant"
    assert bucket_policy(account) == policy


# --- the command line ----------------------------------------------------------------------------


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def one_line_error(result: tuple[int, str, str], exit_code: int, fragment: str) -> None:
    code, out, err = result
    assert (code, out) == (exit_code, "")
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    assert fragment in err


def test_cli_request_approve_list_revoke(account: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = cli(
        "exception", "request", "--rule", RULE, "--resource", BUCKET_ARN, "--reason", "public website", "--days", "3"
    )
    assert (code, err) == (0, "")
    exception_id = out.split()[1].rstrip(":")
    assert exception_id.startswith("exc-")
    assert f"iamwarden exception approve {exception_id}" in out

    # Four eyes: the requester (the caller, from STS) cannot approve it; exit 1 with the reason, nothing changes.
    one_line_error(cli("exception", "approve", exception_id), 1, "is its requester")
    assert json.loads(cli("exception", "list", "--format", "json")[1])[0]["status"] == "requested"

    monkeypatch.setattr("iamwarden.app.commands.caller_arn", lambda clients: APPROVER)
    code, out, err = cli("exception", "approve", exception_id)
    assert (code, err) == (0, "")
    assert out.startswith(f"Approved exception {exception_id} (rule {RULE} on resources {BUCKET_ARN}")
    # The notice went to the security channel (the stack's alert topic, found by name: the CLI has no variable).
    assert "WARNING" not in out

    code, out, _ = cli("exception", "list", "--format", "json")
    [listed] = json.loads(out)
    assert (listed["exception_id"], listed["status"], listed["days"]) == (exception_id, "approved", 3)
    assert listed["requester"].startswith("arn:aws:")
    assert listed["approver"] == APPROVER

    code, out, err = cli("exception", "revoke", exception_id)
    assert (code, err) == (0, "")
    assert "it exempts nothing from now on" in out
    assert cli("exception", "list")[1] == "No exceptions.\n"
    code, out, _ = cli("exception", "list", "--all")
    assert f"{exception_id}  REVOKED" in out
    audited = [r.status for r in account.audit().history(BUCKET_ARN)]
    assert audited == ["exception requested", "exception approved", "exception revoked"]


def test_cli_errors_are_one_line(account: Account) -> None:
    one_line_error(
        cli("exception", "request", "--rule", "nope", "--resource", BUCKET_ARN, "--reason", "x"), 2, "no rule 'nope'"
    )
    one_line_error(
        cli("exception", "request", "--rule", RULE, "--resource", "*", "--reason", "x"), 2, "matches everything"
    )
    one_line_error(
        cli("exception", "request", "--rule", RULE, "--resource", BUCKET_ARN, "--reason", "x", "--days", "365"),
        2,
        "at most 90 days",
    )
    one_line_error(cli("exception", "approve", "exc-000000000000"), 2, "There is no exception exc-000000000000")
    desk = desk_of(account, Clock())
    exception_id = approved(desk)
    one_line_error(cli("exception", "approve", exception_id), 1, "only a requested one can be approved")
    one_line_error(cli("--exceptions-table", "missing", "exception", "list"), 2, "table missing not found")


@pytest.mark.parametrize(
    "argv",
    [
        ["exception", "approve", "rem-1"],
        ["exception", "request", "--rule", RULE, "--reason", "x"],
        ["exception", "request", "--rule", RULE, "--resource", BUCKET_ARN, "--actor", OPERATOR, "--reason", "x"],
        ["exception", "request", "--rule", RULE, "--resource", BUCKET_ARN, "--reason", "x", "--days", "0"],
        ["exception"],
    ],
)
def test_cli_usage_errors_exit_2(argv: list[str]) -> None:
    code, out, _ = cli(*argv)
    assert (code, out) == (2, "")


def test_cli_requests_a_literal_scope_and_says_so(account: Account) -> None:
    """``--literal``: the ARN names one resource exactly, ``*`` in an object key included (review s11 F15)."""
    star = f"{BUCKET_ARN}/*.csv"
    code, out, err = cli(
        "exception", "request", "--rule", "s3-acl-public", "--resource", star, "--literal", "--reason", "x"
    )
    assert (code, err) == (0, ""), err
    assert f"on resource {star} exactly (* and ? in it are no wildcards)" in out
    [requested] = desk_of(account, Clock()).list()
    assert requested.scope == ExceptionScope("s3-acl-public", resource_pattern=star, literal=True)
    one_line_error(
        cli("exception", "request", "--rule", RULE, "--actor", OPERATOR, "--literal", "--reason", "x"),
        2,
        "Only a resource scope can be literal",
    )


def test_cli_honours_the_max_days_setting(account: Account) -> None:
    account.set("exceptions/max_days", "5")
    one_line_error(
        cli("exception", "request", "--rule", RULE, "--resource", BUCKET_ARN, "--reason", "x", "--days", "6"),
        2,
        "at most 5 days",
    )


# --- the undo's short exception ------------------------------------------------------------------


def test_undo_with_an_exception_keeps_the_enforcer_from_reverting_it(
    account: Account, enforcer: EnforcerService
) -> None:
    policy = public_bucket(account)
    [finding] = enforce_public_policy(account, enforcer, START + timedelta(minutes=15))["findings"]
    assert finding["outcome"] == "remediated"
    assert bucket_policy(account) is None

    code, out, err = cli("undo", finding["remediation_id"], "--with-exception-days", "2")

    assert (code, err) == (0, ""), err
    assert bucket_policy(account) == policy
    assert "exception:     exception exc-" in out
    [exception] = desk_of(account, Clock()).list()
    assert exception.source_remediation_id == finding["remediation_id"]
    assert (exception.scope.rule_id, exception.scope.resource_pattern) == (RULE, BUCKET_ARN)
    # The undo's own PutBucketPolicy arrives: exempted, not reverted.
    event = load_event("bucket-policy-public-read.json")
    event["detail"]["eventID"] = "11111111-2222-3333-4444-555555555555"
    enforcer.clock = lambda: datetime.now(UTC)
    result = enforcer.handle(event)
    assert result["verdict"] == "compliant"
    assert f"exempted by exception {exception.exception_id}" in result["reason"]
    assert bucket_policy(account) == policy
    # It accepts what the remediation found and nothing else (review s11 F6): another public grant on the same
    # bucket while it holds is a finding, remediated as usual.
    assert exception.accepted
    wider = load_event("bucket-policy-public-read.json")
    wider["detail"]["eventID"] = "11111111-2222-3333-4444-666666666666"
    statements = wider["detail"]["requestParameters"]["bucketPolicy"]["Statement"]
    statements.append({**statements[0], "Sid": "AnyoneLists", "Action": "s3:ListBucket", "Resource": BUCKET_ARN})
    account.s3.put_bucket_policy(
        Bucket="acme-invoices", Policy=json.dumps(wider["detail"]["requestParameters"]["bucketPolicy"])
    )
    [again] = enforcer.handle(wider)["findings"]
    assert (again["rule"], again["outcome"]) == (RULE, "remediated")


def test_an_undo_that_cannot_be_done_leaves_no_exception(account: Account, enforcer: EnforcerService) -> None:
    public_bucket(account)
    [finding] = enforce_public_policy(account, enforcer, START + timedelta(minutes=15))["findings"]
    account.s3.delete_bucket(Bucket=BUCKET)  # the undo cannot put the policy back

    code, out, err = cli("undo", finding["remediation_id"], "--with-exception-days", "2")

    assert (code, out) == (1, ""), err
    [exception] = desk_of(account, Clock()).list(include_inactive=True)
    assert exception.status is ExceptionStatus.REVOKED


def test_undo_of_an_unknown_remediation_creates_no_exception(account: Account) -> None:
    one_line_error(cli("undo", "rem-unknown", "--with-exception-days", "2"), 1, "no remediation rem-unknown")
    assert desk_of(account, Clock()).list(include_inactive=True) == []
