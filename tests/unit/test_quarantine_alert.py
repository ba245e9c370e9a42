"""The failed-quarantine alert read from a record (``alerts.notifications._failed_quarantine``): which attempt's line
counts, and how many refused writes the retry will do (review s14 F3, F4)."""

from datetime import UTC, datetime

import pytest

from iamwarden.adapters.errors import unclear_code
from iamwarden.adapters.slack import SECTION_LIMIT, render_slack
from iamwarden.alerts.message import build_message
from iamwarden.alerts.notifications import finding_notification
from iamwarden.domain import earlier_sessions as es
from iamwarden.domain.catalog import Severity
from iamwarden.domain.findings import Finding, Outcome
from iamwarden.domain.quarantine import failed_with, held_line
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

USER = "backdoor-admin"
POLICY = f"attached deny-all inline policy iamwarden-quarantine to {USER}"
RETRIED_KEY = f"NOT deactivated: access key AKIAEXAMPLEKEY000001 of {USER} (Throttling); retried with the event"
RETRIED_PASSWORD = f"NOT deleted: the console password of {USER} (Throttling); retried with the event"


def _quarantine_finding() -> Finding:
    [finding] = judge_event(load_event("create-user-backdoor-cli.json"), Settings()).findings
    assert [step.action for step in finding.plan] == ["quarantine_user"]
    return finding


def _failed(done: tuple[str, ...]) -> tuple[Severity, tuple[str, ...]]:
    notice = finding_notification(
        Outcome.REMEDIATION_FAILED, _quarantine_finding(), None, "rem-x", settings_prefix="/iamwarden", done=done
    )
    assert notice.finding is not None
    return notice.finding.severity, notice.actions


def test_a_record_from_before_the_attempt_lines_counts_only_the_refusals_after_its_last_deny_all() -> None:
    """Review s14 F4: a record written before each attempt wrote its own line (main's), two attempts whose deny-all
    was put on again by the retry: the retry will do the refusals after the last deny-all line only (1, not 3)."""
    done = (POLICY, RETRIED_KEY, RETRIED_PASSWORD, POLICY, RETRIED_KEY)

    severity, actions = _failed(done)

    assert severity is Severity.HIGH  # the rule's own: a deny-all is on
    assert actions == (*done, "the quarantine holds (a deny-all is on); 1 refused write will be retried with the event")


def test_only_the_latest_attempt_s_held_line_reads_as_current() -> None:
    """Review s14 F3: each attempt's line says which attempt (its time); an earlier one reads as past."""
    first, second = "2026-12-06T02:00:00.000+00:00", "2026-12-06T02:01:00.000+00:00"
    done = (POLICY, RETRIED_KEY, RETRIED_PASSWORD, held_line(2, first), RETRIED_KEY, held_line(1, second))

    severity, actions = _failed(done)

    assert severity is Severity.HIGH
    assert actions[:3] == done[:3]
    assert actions[3] == (
        f"attempt at {first}: the quarantine held then (a deny-all was on); 2 refused writes left to the retry"
    )
    assert actions[5] == (
        f"attempt at {second}: the quarantine holds (a deny-all is on); 1 refused write will be retried with the event"
    )


def test_a_retry_that_is_not_quarantined_shows_no_earlier_held_line_as_current() -> None:
    done = (
        POLICY,
        RETRIED_KEY,
        held_line(1, "2026-12-06T02:00:00.000+00:00"),
        f"NOT attached: deny-all inline policy iamwarden-quarantine to {USER} (AccessDenied); "
        f"{USER} is NOT quarantined",
    )

    severity, actions = _failed(done)

    assert severity is Severity.CRITICAL
    assert not [line for line in actions if "holds" in line or "will be retried" in line]
    assert actions[2].endswith(": the quarantine held then (a deny-all was on); 1 refused write left to the retry")


def _sessions_shown(done: tuple[str, ...]) -> list[str]:
    notice = finding_notification(
        Outcome.REMEDIATED, _quarantine_finding(), None, "rem-x", settings_prefix="/iamwarden", done=done
    )
    blocks = render_slack(build_message(notice))["blocks"]
    texts = [block["text"]["text"] for block in blocks if block.get("type") == "section" and "text" in block]
    assert all(len(text) <= SECTION_LIMIT for text in texts)
    return [text for text in texts if text.startswith("*Earlier role sessions of the quarantined user")]


def test_the_sessions_block_is_shown_whole_in_slack_and_only_the_latest_one() -> None:
    """Review s15 F3/F4: ten roles with long names, each with its command, fill more than one Slack section: the
    block goes into as many sections as it needs, in order, none cut; of a block looked up again, only the latest."""
    at = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
    sessions = tuple(
        es.Session(f"arn:aws:iam::111122223333:role/{'r' * 60}{index}", "s", "2026-12-06T01:00:00Z", None, "us-east-1")
        for index in range(es.MAX_LISTED)
    )
    incomplete = es.lines(USER, "111122223333", at, [es.RegionLookup("us-east-1", error="Throttling")])
    latest = es.looked_up_again(
        es.lines(USER, "111122223333", at, [es.RegionLookup("us-east-1", sessions)]), "2026-12-06T02:05:00+00:00"
    )
    shown = _sessions_shown((POLICY, *incomplete, held_line(0, "2026-12-06T02:05:00+00:00"), *latest))
    assert len(shown) > 1
    text = "\n".join(shown)
    assert "truncated" not in text
    assert text.count("`aws iam put-role-policy --role-name ") == es.MAX_LISTED
    assert "Throttling" not in text  # the earlier, incomplete block is in the record, not shown again
    assert text.index("not looked up: ") < text.index("put-role-policy")


_BOUNDARY_NOT_SET = "NOT set: the deny-all permissions boundary arn:aws:iam::aws:policy/AWSDenyAll on role r"


@pytest.mark.parametrize(
    ("done", "code"),
    [
        ([], None),
        ([f"{_BOUNDARY_NOT_SET} (AccessDenied); the deny-all inline policy p holds"], "AccessDenied"),
        (  # the latest attempt's line counts
            [f"{_BOUNDARY_NOT_SET} (InternalFailure); x", f"{_BOUNDARY_NOT_SET} (AccessDenied); role r is NOT"],
            "AccessDenied",
        ),
        (
            ["NOT set: the deny-all permissions boundary arn:aws:iam::aws:policy/AWSDenyAll on role r2 (Throttling)"],
            None,
        ),
    ],
)
def test_failed_with_reads_the_latest_not_line_of_that_write(done: list[str], code: str | None) -> None:
    """Review quarrole-s15 F4: undo tells a lost answer from a refusal by the code of the write's latest NOT line."""
    assert failed_with(done, _BOUNDARY_NOT_SET) == code


def test_failed_with_reads_an_inline_line_with_or_without_its_role() -> None:
    line = "NOT put: the deny-all inline policy p"
    assert (
        failed_with([f"{line} (LimitExceeded); the deny-all boundary b holds"], line, " on role r") == "LimitExceeded"
    )
    assert failed_with([f"{line} on role r (ReadTimeoutError)"], line, " on role r") == "ReadTimeoutError"


@pytest.mark.parametrize(
    ("code", "unclear"),
    [
        ("InternalFailure", True),
        ("ServiceUnavailable", True),
        ("ReadTimeoutError", True),
        ("ConnectionClosedError", True),
        ("Throttling", False),  # a throttled request was not taken (review2 quarrole-s15 R1)
        ("RequestLimitExceeded", False),
        ("EndpointConnectionError", False),
        ("ConnectTimeoutError", False),
        ("AccessDenied", False),
        ("LimitExceeded", False),
        ("NoSuchEntity", False),
    ],
)
def test_a_lost_answer_is_unclear_a_refusal_is_not(code: str, unclear: bool) -> None:
    assert unclear_code(code) is unclear
