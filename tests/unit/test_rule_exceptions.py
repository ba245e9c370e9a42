"""Rule exceptions, pure: scope, expiry, what they exempt, their settings, and ``iamwarden evaluate --exceptions``."""

from __future__ import annotations

import copy
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from iamwarden.app.cli import main
from iamwarden.domain.catalog import RULES
from iamwarden.domain.events import parse_event
from iamwarden.domain.exceptions import ExceptionRefused
from iamwarden.domain.findings import Finding
from iamwarden.domain.rule_exceptions import (
    ExceptionScope,
    ExceptionStatus,
    RuleException,
    active_exemption,
    exception_days,
    exception_from_dict,
    exception_summary,
    expired,
    reminder_due,
    validate_scope,
)
from iamwarden.domain.settings import ExceptionSettings, Settings, parse_settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import EVENTS_DIR, load_event

RULE = "s3-bucket-policy-public"
BUCKET_ARN = "arn:aws:s3:::acme-invoices"
EVENT_TIME = datetime(2026, 11, 19, 8, 12, 5, tzinfo=UTC)  # bucket-policy-public-read.json


def exception(
    scope: ExceptionScope | None = None,
    status: ExceptionStatus = ExceptionStatus.APPROVED,
    expires_at: datetime | None = EVENT_TIME + timedelta(days=1),
) -> RuleException:
    return RuleException(
        exception_id="exc-0123456789ab",
        scope=scope or ExceptionScope(RULE, resource_pattern=BUCKET_ARN),
        reason="public website",
        requester="arn:aws:iam::111122223333:user/secops",
        requested_at=EVENT_TIME - timedelta(days=1),
        days=2,
        status=status,
        approver="arn:aws:iam::111122223333:user/approver" if status is not ExceptionStatus.REQUESTED else None,
        approved_at=EVENT_TIME - timedelta(days=1) if expires_at else None,
        expires_at=expires_at,
    )


def public_policy_finding() -> object:
    judgement = judge_event(load_event("bucket-policy-public-read.json"), Settings())
    [finding] = judgement.findings
    return finding


def test_the_engine_exempts_a_covered_finding_like_an_allowlist() -> None:
    judgement = judge_event(load_event("bucket-policy-public-read.json"), Settings(), exceptions=[exception()])
    assert judgement.verdict.value == "compliant"
    assert judgement.reason == (
        "exempted by exception exc-0123456789ab (rule s3-bucket-policy-public on resources "
        "arn:aws:s3:::acme-invoices: 'public website', until 2026-11-20T08:12:05+00:00)"
    )


@pytest.mark.parametrize(
    "held",
    [
        exception(status=ExceptionStatus.REQUESTED, expires_at=None),
        exception(status=ExceptionStatus.REVOKED),
        exception(status=ExceptionStatus.EXPIRED),
        exception(expires_at=EVENT_TIME),  # expired at the very moment of the change
        exception(ExceptionScope("s3-bucket-policy-cross-account", resource_pattern=BUCKET_ARN)),
        exception(ExceptionScope(RULE, resource_pattern="arn:aws:s3:::acme-invoices-*")),
        exception(ExceptionScope(RULE, actor_pattern="arn:aws:iam::111122223333:user/bob")),
    ],
)
def test_what_does_not_hold_or_does_not_cover_exempts_nothing(held: RuleException) -> None:
    judgement = judge_event(load_event("bucket-policy-public-read.json"), Settings(), exceptions=[held])
    assert judgement.verdict.value == "violation"


def test_an_actor_pattern_matches_the_actor_or_its_session_issuer() -> None:
    by_alice = exception(ExceptionScope(RULE, actor_pattern="arn:aws:iam::111122223333:user/ali*"))
    assert judge_event(load_event("bucket-policy-public-read.json"), Settings(), exceptions=[by_alice]).findings == ()
    change = parse_event(load_event("attach-admin-to-role.json"))
    issuer = change.actor.session_issuer_arn
    assert issuer is not None
    by_role = exception(ExceptionScope("managed-policy-attached", actor_pattern=issuer))
    judgement = judge_event(load_event("attach-admin-to-role.json"), Settings(), exceptions=[by_role], now=EVENT_TIME)
    assert judgement.verdict.value == "compliant"


def test_now_overrides_the_change_time() -> None:
    later = EVENT_TIME + timedelta(days=2)
    judgement = judge_event(
        load_event("bucket-policy-public-read.json"), Settings(), exceptions=[exception()], now=later
    )
    assert judgement.verdict.value == "violation"
    finding = public_policy_finding()
    assert active_exemption(finding, [exception()], EVENT_TIME, ExceptionSettings()) is not None  # type: ignore[arg-type]


def test_days_default_and_bounds() -> None:
    settings = ExceptionSettings(default_days=7, max_days=30)
    assert exception_days(None, settings) == 7
    assert exception_days(30, settings) == 30
    with pytest.raises(ExceptionRefused, match="at most 30 days"):
        exception_days(31, settings)
    with pytest.raises(ExceptionRefused, match="at least 1 day"):
        exception_days(0, settings)


def test_reminder_and_expiry_times() -> None:
    held = exception(expires_at=EVENT_TIME)
    settings = ExceptionSettings(remind_days_before=1)
    assert not reminder_due(held, EVENT_TIME - timedelta(days=1, seconds=1), settings)
    assert reminder_due(held, EVENT_TIME - timedelta(days=1), settings)
    assert not reminder_due(held, EVENT_TIME, settings)  # expired, not reminded
    assert not reminder_due(held, EVENT_TIME - timedelta(hours=1), ExceptionSettings(remind_days_before=0))
    assert expired(held, EVENT_TIME)
    assert not expired(held, EVENT_TIME - timedelta(seconds=1))
    assert not expired(exception(status=ExceptionStatus.REVOKED, expires_at=EVENT_TIME), EVENT_TIME)


# --- settings ------------------------------------------------------------------------------------


def test_exception_settings_default_and_parse() -> None:
    assert Settings().exceptions == ExceptionSettings(7, 90, 1)
    settings, problems = parse_settings(
        {"exceptions": {"default_days": "3", "max_days": 14, "remind_days_before": "2"}}
    )
    assert problems == []
    assert settings.exceptions == ExceptionSettings(3, 14, 2)


@pytest.mark.parametrize(
    ("values", "key", "message", "expected"),
    [
        ({"max_days": "0"}, "exceptions/max_days", "from 1 to 365", ExceptionSettings()),
        ({"default_days": "ten"}, "exceptions/default_days", "whole number", ExceptionSettings()),
        ({"remind_days_before": "31"}, "exceptions/remind_days_before", "from 0 to 30", ExceptionSettings()),
        (
            {"max_days": "5"},
            "exceptions/default_days",
            "7 is more than exceptions/max_days (5); using 5",
            ExceptionSettings(5, 5, 1),
        ),
        ({"forever": "yes"}, "exceptions/forever", "unknown exceptions setting 'forever'", ExceptionSettings()),
    ],
)
def test_bad_exception_settings_are_reported_and_fall_back(
    values: dict[str, str], key: str, message: str, expected: ExceptionSettings
) -> None:
    settings, problems = parse_settings({"exceptions": values})
    [problem] = problems
    assert problem.key == key
    assert message in problem.message
    assert settings.exceptions == expected


# --- iamwarden evaluate --exceptions -------------------------------------------------------------


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_evaluate_takes_exceptions_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "exceptions.json"
    path.write_text(json.dumps([exception_summary(exception())]))
    event = str(EVENTS_DIR / "bucket-policy-public-read.json")

    code, out, err = run("evaluate", "--exceptions", str(path), event)

    assert (code, err) == (0, "")
    [line] = [json.loads(text) for text in out.splitlines()]
    assert line["verdict"] == "compliant"
    assert "exempted by exception exc-0123456789ab" in line["reason"]
    assert json.loads(run("evaluate", event)[1])["verdict"] == "violation"


def test_a_minimal_file_entry_is_an_approved_exception() -> None:
    read = exception_from_dict({"rule": RULE, "resource_pattern": BUCKET_ARN, "expires_at": "2026-11-20T00:00:00"})
    assert read.status is ExceptionStatus.APPROVED
    assert read.expires_at == datetime(2026, 11, 20, tzinfo=UTC)
    assert exception_from_dict(exception_summary(exception())) == exception()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not JSON"),
        ('{"rule": "x"}', "must be a JSON list"),
        ('["x"]', "exception [0]: An exception is a JSON object"),
        (json.dumps([{"rule": RULE, "resource_pattern": BUCKET_ARN}]), "needs 'expires_at'"),
        (json.dumps([{"rule": RULE, "resource_pattern": "*", "expires_at": "2026-11-20"}]), "matches everything"),
        (json.dumps([{"rule": "nope", "actor_pattern": "arn:aws:iam::1:user/a", "expires_at": "x"}]), "no rule"),
        (json.dumps([{"rule": RULE, "resource_pattern": BUCKET_ARN, "expires_at": "soon"}]), "ISO 8601"),
        (json.dumps([{"rule": RULE, "resource_pattern": BUCKET_ARN, "status": "maybe"}]), "must be one of"),
        (json.dumps([{"rule": RULE, "resource_pattern": BUCKET_ARN, "expires_at": "2026-11-20", "days": 0}]), "days"),
    ],
)
def test_a_bad_exceptions_file_is_one_line_and_exit_2(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "exceptions.json"
    path.write_text(content)

    code, out, err = run("evaluate", "--exceptions", str(path), str(EVENTS_DIR / "bucket-policy-public-read.json"))

    assert (code, out) == (2, "")
    assert err.startswith(f"iamwarden evaluate: {path}: ")
    assert err.count("\n") == 1
    assert message in err


def test_a_missing_exceptions_file_is_exit_2(tmp_path: Path) -> None:
    code, out, err = run("evaluate", "--exceptions", str(tmp_path / "none.json"), "-")
    assert (code, out) == (2, "")
    assert "cannot read" in err


# --- an item in the table is data: only what the desk could have approved is honoured ---------------------------

ONE_DAY = timedelta(days=1)


def forged(**changes: object) -> RuleException:
    return exception()._replace(**changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("item", "flaw"),
    [
        (
            forged(scope=ExceptionScope("iamwarden-tampered", actor_pattern="arn:aws:iam::111122223333:role/dev")),
            "takes no exceptions",
        ),
        (forged(scope=ExceptionScope("no-such-rule", resource_pattern=BUCKET_ARN)), "There is no rule"),
        (forged(scope=ExceptionScope(RULE, resource_pattern="*")), "matches everything"),
        (forged(scope=ExceptionScope(RULE)), "exactly one pattern"),
        (forged(days=3650, expires_at=EVENT_TIME - ONE_DAY + timedelta(days=3650)), "outside 1..90"),
        (forged(approver=None), "no approver"),
        (forged(approver="  "), "no approver"),
        (forged(approved_at=EVENT_TIME - 3 * ONE_DAY), "approved before it was requested"),
        (forged(expires_at=EVENT_TIME + timedelta(days=3650)), "not at its approval plus its 2 days"),
        (forged(reason=" "), "gives no reason"),
        (forged(approver="arn:aws:iam::111122223333:user/secops"), "is its requester"),  # four eyes
        (forged(approver="arn:aws:iam::111122223333:user/SecOps"), "is its requester"),  # IAM names ignore case
        (
            forged(scope=ExceptionScope("iam-user-created", actor_pattern="arn:aws:iam::111122223333:user/alice")),
            "may be approved only by an operator",
        ),
    ],
)
def test_an_approved_item_the_desk_could_not_have_approved_exempts_nothing(item: RuleException, flaw: str) -> None:
    from iamwarden.domain.rule_exceptions import approval_flaw

    assert flaw in (approval_flaw(item, ExceptionSettings()) or "")
    assert approval_flaw(exception(), ExceptionSettings()) is None  # the well-formed one
    judgement = judge_event(load_event("bucket-policy-public-read.json"), Settings(), exceptions=[item])
    if item.scope.rule_id == RULE and item.scope.resource_pattern == BUCKET_ARN:
        assert judgement.verdict.value == "violation", judgement.reason


def test_the_tampering_rule_takes_no_exception_from_the_desk() -> None:
    from iamwarden.domain.catalog import RULES
    from iamwarden.domain.rule_exceptions import validate_scope

    with pytest.raises(ExceptionRefused, match="takes no exceptions"):
        validate_scope(ExceptionScope("iamwarden-tampered", actor_pattern="arn:aws:iam::111122223333:role/dev"), RULES)


# --- four eyes, and operators for the persistence rules (audit s7 gap 11) ----------------------------------------

ACCOUNT = "111122223333"


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        (f"arn:aws:iam::{ACCOUNT}:user/alice", f"arn:aws:iam::{ACCOUNT}:user/alice", True),
        (f"arn:aws:iam::{ACCOUNT}:user/alice", f"arn:aws:iam::{ACCOUNT}:user/bob", False),
        (f"arn:aws:iam::{ACCOUNT}:user/alice", f"arn:aws:iam::{ACCOUNT}:user/ops/Alice", True),  # path, case
        # A session name is the assumer's choice: two sessions of one role are one person, and the role itself too.
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/alice", f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/bob", True),
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/alice", f"arn:aws:iam::{ACCOUNT}:role/team/Admin", True),
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/a", f"arn:aws:sts::{ACCOUNT}:assumed-role/SecOps/a", False),
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/x", "arn:aws:sts::444455556666:assumed-role/Admin/x", False),
        (f"arn:aws:iam::{ACCOUNT}:role/Admin", f"arn:aws:iam::{ACCOUNT}:user/Admin", False),  # a role is no user
        ("slack:T0TEAM/U1", "slack:T0TEAM/U1", True),
        ("slack:T0TEAM/U1", "slack:T0TEAM/U2", False),
    ],
)
def test_who_counts_as_the_same_person(one: str, other: str, same: bool) -> None:
    from iamwarden.domain.rule_exceptions import same_person

    assert same_person(one, other) is same
    assert same_person(other, one) is same


def test_an_operator_is_matched_by_their_arn_or_their_sessions_role() -> None:
    from iamwarden.domain.rule_exceptions import operator_pattern

    role = f"arn:aws:iam::{ACCOUNT}:role/SecOps"
    assert operator_pattern(f"arn:aws:sts::{ACCOUNT}:assumed-role/SecOps/carol", (role,)) == role
    assert operator_pattern(role, (role,)) == role
    assert operator_pattern(f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/carol", (role,)) is None
    assert operator_pattern("slack:T0TEAM/U1", (role,)) is None
    assert operator_pattern(f"arn:aws:sts::{ACCOUNT}:assumed-role/SecOps/carol", ()) is None


def test_persistence_rules_need_an_operator_to_approve_and_the_engine_honours_only_those() -> None:
    from iamwarden.domain.rule_exceptions import OPERATOR_APPROVED_RULES, approval_flaw

    assert {"iam-user-created", "access-key-created", "privilege-escalation", "remediation-reversed"} <= (
        OPERATOR_APPROVED_RULES
    )
    operators = (f"arn:aws:iam::{ACCOUNT}:role/SecOps",)
    scope = ExceptionScope("iam-user-created", actor_pattern=f"arn:aws:iam::{ACCOUNT}:user/alice")
    by_operator = forged(scope=scope, approver=f"arn:aws:sts::{ACCOUNT}:assumed-role/SecOps/carol")
    by_admin = forged(scope=scope, approver=f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/bob")
    assert approval_flaw(by_operator, ExceptionSettings(), operators) is None
    assert "only by an operator (rules/iamwarden-tampered/operators)" in (
        approval_flaw(by_admin, ExceptionSettings(), operators) or ""
    )
    # The engine passes the operators setting: the same item exempts with it, and not without it.
    event = load_event("create-user-backdoor-cli.json")
    settings, problems = parse_settings({"rules": {"iamwarden-tampered": {"operators": list(operators)}}})
    assert problems == []
    at = datetime.fromisoformat(event["detail"]["eventTime"].replace("Z", "+00:00"))
    honoured = by_operator._replace(requested_at=at - ONE_DAY, approved_at=at - ONE_DAY, expires_at=at + ONE_DAY)
    assert judge_event(event, settings, exceptions=[honoured]).verdict.value == "compliant"
    assert judge_event(event, Settings(), exceptions=[honoured]).verdict.value == "violation"


def test_the_undos_own_exception_is_approved_by_its_undoer() -> None:
    """``iamwarden undo --with-exception-days``: the undoer asks and approves at once, for that resource only."""
    from iamwarden.domain.rule_exceptions import approval_flaw

    undoer = "arn:aws:iam::111122223333:user/secops"
    undo = forged(approver=undoer, source_remediation_id="rem-0123456789abcdef0123")
    assert approval_flaw(undo, ExceptionSettings()) is None
    # Not for an actor pattern, and not without the remediation it was made for.
    by_actor = undo._replace(scope=ExceptionScope(RULE, actor_pattern="arn:aws:iam::111122223333:user/alice"))
    assert "is its requester" in (approval_flaw(by_actor, ExceptionSettings()) or "")
    assert "is its requester" in (approval_flaw(undo._replace(source_remediation_id=None), ExceptionSettings()) or "")
    # A persistence rule's undo exception still needs an operator.
    persistence = undo._replace(scope=ExceptionScope("iam-user-created", resource_pattern="arn:aws:iam::1:user/x"))
    assert "only by an operator" in (approval_flaw(persistence, ExceptionSettings()) or "")


def test_the_rules_owners_may_never_undo_are_real_rules() -> None:
    """A misspelt id in OWNER_UNDO_REFUSED would quietly let owner teams undo that rule's remediations."""
    from iamwarden.alerts.interactions import OWNER_UNDO_REFUSED
    from iamwarden.guardrails.registry import RULES

    assert set(RULES) >= OWNER_UNDO_REFUSED
    assert {"iam-user-created", "iamwarden-tampered", "remediation-reversed", "inline-policy-admin"} <= (
        OWNER_UNDO_REFUSED
    )


def _with_another_public_statement() -> dict[str, object]:
    import copy

    event = copy.deepcopy(load_event("bucket-policy-public-read.json"))
    policy = event["detail"]["requestParameters"]["bucketPolicy"]
    policy["Statement"].append(
        {
            "Sid": "AnyoneWrites",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": f"{BUCKET_ARN}/*",
        }
    )
    return event


def test_an_exception_made_from_a_finding_accepts_what_it_found_and_nothing_added_later() -> None:
    """Review s11 F6: the exception for one statement let any later grant on the same bucket in, silently."""
    from iamwarden.domain.rule_exceptions import accepted_of

    finding = public_policy_finding()
    made_from_it = exception()._replace(accepted=accepted_of(finding.offending))  # type: ignore[attr-defined]
    assert made_from_it.accepted

    same = judge_event(load_event("bucket-policy-public-read.json"), Settings(), exceptions=[made_from_it])
    assert same.verdict.value == "compliant"
    assert "only the 1 grant(s) it was made for" in same.reason

    more = judge_event(_with_another_public_statement(), Settings(), exceptions=[made_from_it])
    assert more.verdict.value == "violation"
    assert [f.rule_id for f in more.findings] == [RULE]

    # A hand-written exception (no finding behind it) covers the rule on its pattern, as before.
    assert judge_event(_with_another_public_statement(), Settings(), exceptions=[exception()]).verdict.value == (
        "compliant"
    )


def test_what_an_offending_entry_grants_is_its_fingerprint_not_where_or_how_certainly() -> None:
    from iamwarden.domain.rule_exceptions import accepted_of

    statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{BUCKET_ARN}/*"}
    first = accepted_of([{"index": 0, "sid": None, "statement": statement, "certain": True}])
    moved = accepted_of([{"index": 3, "sid": None, "statement": dict(reversed(statement.items())), "certain": False}])
    other = accepted_of([{"index": 0, "statement": {**statement, "Action": "s3:*"}}])
    assert first == moved
    assert first != other
    assert accepted_of([{"grantee": "999988887777", "index": 1}]) == accepted_of([{"grantee": "999988887777"}])


def test_what_an_exception_accepts_survives_being_written_out_and_read_back() -> None:
    """Review s11 W3: read back from ``exception list --format json`` it covered the whole rule again."""
    from iamwarden.domain.rule_exceptions import accepted_of, exception_from_dict, exception_summary

    made = exception()._replace(accepted=accepted_of(public_policy_finding().offending))  # type: ignore[attr-defined]

    again = exception_from_dict(json.loads(json.dumps(exception_summary(made))))

    assert again.accepted == made.accepted
    assert judge_event(_with_another_public_statement(), Settings(), exceptions=[again]).verdict.value == "violation"
    with pytest.raises(ExceptionRefused, match="'accepted' must be a list of fingerprints"):
        exception_from_dict({**exception_summary(made), "accepted": "everything"})


# --- literal scopes (review s11 F15) ---------------------------------------------------------------

STAR_CSV = "arn:aws:s3:::acme-media/*.csv"  # a legal object key: the remediation's resource, not a pattern


def _object_acl_finding(key: str) -> Finding:
    event = copy.deepcopy(load_event("acl-object-public-read.json"))
    event["detail"]["requestParameters"].update(bucketName="acme-media", key=key)
    [finding] = judge_event(event, Settings()).findings
    return finding


def test_a_literal_scope_names_its_one_object_and_a_pattern_every_match() -> None:
    literal = exception(ExceptionScope("s3-acl-public", resource_pattern=STAR_CSV, literal=True))
    pattern = exception(ExceptionScope("s3-acl-public", resource_pattern=STAR_CSV))
    star, other = _object_acl_finding("*.csv"), _object_acl_finding("exports/customers.csv")
    assert literal.covers(star)
    assert not literal.covers(other)
    assert pattern.covers(other)  # an ARN pattern the operator typed keeps its wildcards
    assert "on resource arn:aws:s3:::acme-media/*.csv exactly" in literal.scope.describe()
    assert "on resources arn:aws:s3:::acme-media/*.csv" in pattern.scope.describe()


def test_a_literal_scope_round_trips_through_export_and_import() -> None:
    literal = exception(ExceptionScope("s3-acl-public", resource_pattern=STAR_CSV, literal=True))
    summary = json.loads(json.dumps(exception_summary(literal)))
    assert summary["literal"] is True
    assert exception_from_dict(summary) == literal
    assert exception_from_dict(exception_summary(exception())).scope.literal is False


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"resource_pattern": STAR_CSV, "literal": "yes"}, "'literal' must be true or false"),
        ({"actor_pattern": "arn:aws:iam::111122223333:user/alice", "literal": True}, "Only a resource scope"),
    ],
)
def test_a_bad_literal_flag_is_refused(entry: dict[str, object], message: str) -> None:
    with pytest.raises(ExceptionRefused, match=message):
        exception_from_dict({"rule": "s3-acl-public", "expires_at": "2026-11-20T00:00:00", **entry})


def test_a_literal_scope_that_looks_like_everything_is_one_resource() -> None:
    """``matches_everything`` refuses a pattern, not a literal: ``…/*`` is then one object named ``*``."""
    scope = validate_scope(
        ExceptionScope("s3-acl-public", resource_pattern="arn:aws:s3:::acme-media/*", literal=True), RULES
    )
    assert scope.literal
    with pytest.raises(ExceptionRefused, match="matches everything"):
        validate_scope(ExceptionScope("s3-acl-public", resource_pattern="arn:aws:s3:::acme-media/*"), RULES)
