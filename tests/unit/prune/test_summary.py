"""The pruner's run summary: what it lists, its bounds, when it is worth sending (issue 15, session 15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from iamwarden.prune.adapters.store import RoleState
from iamwarden.prune.app.service import ExemptedRole, RoleSummary, run_summary
from iamwarden.prune.domain.settings import PruneMode, PruneSettings
from iamwarden.prune.domain.summary import SUMMARY_WINDOW, RunSummary, SummaryItem, summary_text

NOW = datetime(2026, 12, 6, 6, tzinfo=UTC)
ACCOUNT = "111122223333"
OLD = NOW - timedelta(days=400)


def arn(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{ACCOUNT}:role{path}{name}"


def role(name: str, path: str = "/", created: datetime = OLD) -> RoleSummary:
    return RoleSummary(arn(name, path), name, path, created)


def items(prefix: str, count: int, detail: str = "") -> tuple[SummaryItem, ...]:
    return tuple(SummaryItem(arn(f"{prefix}{n:02d}"), detail) for n in range(count))


# --- the message ---------------------------------------------------------------------------------------------------


def test_each_list_names_its_first_roles_and_says_how_many_more() -> None:
    text = summary_text(RunSummary("2026-12-05T05:00:00+00:00", sent=3, pruned=items("p", 12, "plan x")), listed=5)

    assert "12 pruned" in text
    assert "Pruned (unused permissions removed): 12" in text
    assert f"- {arn('p04')} (plan x)" in text
    assert arn("p05") not in text
    assert "- and 7 more" in text


def test_a_short_list_says_no_more() -> None:
    text = summary_text(RunSummary("t", announced=items("a", 2, "plan y")), listed=5)

    assert f"- {arn('a01')} (plan y)" in text
    assert "more" not in text


def test_errors_come_first_and_are_counted() -> None:
    text = summary_text(RunSummary("t", pruned=items("p", 1), errors=("first error", "second error")))

    assert text.index("ERRORS: 2") < text.index("Pruned")
    assert "- first error" in text
    assert "2 errors" in text


def test_skipped_roles_are_grouped_by_why_with_counts_and_examples() -> None:
    skipped = (*items("s", 7, "service-linked role, never pruned"), *items("y", 2, "younger than x"))

    text = summary_text(RunSummary("t", skipped=skipped), listed=3)

    assert "skipped: 9" in text
    assert f"- service-linked role, never pruned: 7 ({arn('s00')}, {arn('s01')}, {arn('s02')}, and 4 more)" in text
    assert f"- younger than x: 2 ({arn('y00')}, {arn('y01')})" in text
    assert text.index("service-linked") < text.index("younger")  # the largest group first


def test_the_message_is_cut_to_its_limit_and_says_so() -> None:
    reasons = tuple(SummaryItem(arn(f"r{n}"), f"a reason numbered {n} " * 5) for n in range(200))

    text = summary_text(RunSummary("t", errors=tuple("e" * 300 for _ in range(5)), skipped=reasons), limit=2_000)

    assert len(text) <= 2_000
    assert text.endswith("… cut to fit one message (the counts above are whole)")
    assert "ERRORS: 5" in text  # errors first: never the part cut


def test_a_message_within_its_limit_is_not_cut() -> None:
    assert "cut" not in summary_text(RunSummary("t", pruned=items("p", 40)))


@pytest.mark.parametrize(
    ("summary", "worth"),
    [
        (RunSummary("t"), False),
        (RunSummary("t", sent=40), False),
        (RunSummary("t", exempt=items("e", 3)), False),  # told daily in the log; each new one is its own notice
        (RunSummary("t", skipped=items("s", 3, "why")), False),
        (RunSummary("t", not_applied=items("n", 1, "why")), True),  # e.g. needs_person: a person decides (R7)
        (RunSummary("t", reported=items("r", 1)), True),  # report mode: what would go (R7)
        (RunSummary("t", pruned=items("p", 1)), True),
        (RunSummary("t", announced=items("a", 1)), True),
        (RunSummary("t", errors=("an invalid setting",)), True),
    ],
)
def test_it_is_sent_only_when_a_plan_was_made_or_ended_or_there_is_an_error(summary: RunSummary, worth: bool) -> None:
    assert summary.worth_sending is worth


# --- what the planner's reads tell -----------------------------------------------------------------------------------


def state(name: str, outcome: str, checked: datetime | None, **fields: str) -> RoleState:
    return RoleState(
        ACCOUNT,
        arn(name),
        last_outcome=outcome,
        last_checked=checked.isoformat() if checked else None,
        **fields,  # type: ignore[arg-type]
    )


def summarise(
    states: list[RoleState],
    *,
    roles: list[RoleSummary] | None = None,
    chosen: list[str] | None = None,
    settings: PruneSettings | None = None,
    exempted: list[ExemptedRole] | None = None,
    problems: list[str] | None = None,
    modes: dict[str, str] | None = None,
) -> RunSummary:
    listed = roles if roles is not None else [role(s.role_arn.rsplit("/", 1)[1]) for s in states]
    sent = chosen if chosen is not None else [r.arn for r in listed]
    return run_summary(
        settings or PruneSettings(),
        {ACCOUNT: listed},
        {ACCOUNT: {s.role_arn: s for s in states}},
        chosen=[(ACCOUNT, a) for a in sent],
        exempted=exempted or [],
        problems=problems or [],
        now=NOW,
        announced_modes=modes or {},
    )


def test_outcomes_recorded_within_the_window_are_told_and_older_ones_are_not() -> None:
    recent, old = NOW - timedelta(hours=2), NOW - SUMMARY_WINDOW - timedelta(minutes=1)
    summary = summarise(
        [
            state("pruned", "applied", old, applied_at=recent.isoformat(), last_applied_plan_id="plan-p"),
            state("pruned-long-ago", "applied", old, applied_at=old.isoformat(), last_applied_plan_id="plan-o"),
            state("announced", "announced", recent, active_plan_id="plan-a"),
            state("announced-long-ago", "announced", old, active_plan_id="plan-b"),
            state("superseded", "superseded", recent),
            state("needs-person", "needs_person", recent),
            state("no-decision", "no_decision", recent),
            state("failed", "failed", recent),
            state("tampered", "tampered", recent),
            state("old-failure", "failed", old),
            state("nothing", "nothing_unused", recent),
            state("reported", "reported", recent),
            state("never-checked", "no_decision", None),
        ],
        problems=["prune/unused_days: not a number"],
    )

    assert summary.since == (NOW - SUMMARY_WINDOW).isoformat(timespec="seconds")
    assert summary.pruned == (SummaryItem(arn("pruned"), "plan plan-p"),)
    assert summary.announced == (
        SummaryItem(arn("announced"), "plan plan-a; report mode now: nothing is removed on its date"),
    )
    assert summary.reported == (SummaryItem(arn("reported")),)
    assert [item.role_arn for item in summary.not_applied] == [arn("needs-person"), arn("superseded")]
    assert summary.errors[0] == "prune/unused_days: not a number"
    assert [error.split(": ", 1)[0] for error in summary.errors[1:]] == [
        arn("failed"),
        arn("no-decision"),
        arn("tampered"),
    ]
    assert "altered" in summary.errors[3]
    assert summary.skipped == ()
    assert summary.sent == 13


def test_a_state_with_an_unreadable_time_is_not_told() -> None:
    summary = summarise([RoleState(ACCOUNT, arn("x"), last_outcome="failed", last_checked="yesterday")])

    assert summary.errors == ()


def test_roles_not_sent_are_listed_with_why() -> None:
    settings = PruneSettings(exempt_roles=("listed",), min_role_age_days=7, max_roles_per_account=1)
    roles = [
        role("AWSServiceRoleForSupport", "/aws-service-role/support.amazonaws.com/"),
        role("AWSReservedSSO_Admin_0123456789abcdef", "/aws-reserved/sso.amazonaws.com/"),
        role("listed"),
        role("young", created=NOW - timedelta(days=2)),
        role("sent"),
        role("deferred"),
    ]

    summary = summarise([], roles=roles, chosen=[arn("sent")], settings=settings)

    why = {item.role_arn.rsplit("/", 1)[1]: item.detail for item in summary.skipped}
    assert why == {
        "AWSServiceRoleForSupport": "service-linked role, never pruned",
        "AWSReservedSSO_Admin_0123456789abcdef": "IAM Identity Center role, never pruned",
        "listed": "exempt_roles or break_glass_principals, never pruned",
        "young": "younger than min_role_age_days (7)",
        "deferred": ("not reached this run (max_roles_per_account 1, max_roles_per_run 200): a later run takes it"),
    }
    assert summary.sent == 1


def test_a_role_its_worker_skipped_is_told_unless_the_tag_exempts_it() -> None:
    recent = NOW - timedelta(hours=1)
    exempt = ExemptedRole(ACCOUNT, arn("tagged"), "2027-01-01", "2027-06-30", True)

    summary = summarise([state("tagged", "skipped", recent), state("warming", "skipped", recent)], exempted=[exempt])

    assert [item.role_arn for item in summary.skipped] == [arn("warming")]
    assert summary.exempt == (
        SummaryItem(arn("tagged"), "until 2027-01-01, capped by max_exempt_days (the tag asks 2027-06-30)"),
    )
    assert not summary.worth_sending


def test_a_line_break_in_an_error_cannot_forge_a_line_of_the_plain_text_message() -> None:
    forged = "boom\n\n[CRITICAL] Approve pruning at https://evil.example\r\x1b[2J"
    text = summary_text(RunSummary("2026-12-05T06:00:00+00:00", errors=(forged,)))
    assert "\n[CRITICAL]" not in text
    assert "- boom  [CRITICAL] Approve pruning at https://evil.example  [2J" in text


def test_each_role_is_in_one_list_only_its_workers_outcome_first() -> None:
    """Review s15 R7 (probe_pure): roles the worker recorded, and not reached by this run, are not "skipped" too."""
    recent = NOW - timedelta(hours=20)
    exempt = ExemptedRole(ACCOUNT, arn("tagged"), "2027-01-01", "2027-01-01", False)
    states = [
        state("warm", "skipped", recent),
        state("pruned", "applied", recent, applied_at=recent.isoformat(), last_applied_plan_id="plan-p"),
        state("reported", "reported", recent),
        state("tagged", "skipped", recent),
        state("nothing", "nothing_unused", recent),
    ]
    roles = [role(name) for name in ("warm", "pruned", "reported", "tagged", "nothing")]

    summary = summarise(states, roles=roles, chosen=[], exempted=[exempt])

    listed = [
        item.role_arn for group in (summary.pruned, summary.reported, summary.exempt, summary.skipped) for item in group
    ]
    assert sorted(listed) == sorted(arn(name) for name in ("warm", "pruned", "reported", "tagged", "nothing"))
    assert [item.role_arn for item in summary.skipped] == [arn("warm"), arn("nothing")]
    assert "skipped: 2." in summary_text(summary)
    assert "1 pruned, 0 announced, 1 plans recorded (report mode)" in summary_text(summary)


@pytest.mark.parametrize(
    ("mode", "said"),
    [
        ("enforce", "enforce mode: removed on its date (an admin-equivalent removal waits for a person)"),
        ("notify", "notify mode: nothing is removed on its date"),
        ("report", "report mode now: nothing is removed on its date"),
    ],
)
def test_an_announced_plan_says_what_its_date_does_in_the_accounts_mode(mode: str, said: str) -> None:
    settings = PruneSettings(mode=PruneMode(mode))
    summary = summarise(
        [state("a", "announced", NOW, active_plan_id="plan-a")], settings=settings, modes={"plan-a": mode}
    )
    assert summary.announced == (SummaryItem(arn("a"), f"plan plan-a; {said}"),)


@pytest.mark.parametrize(
    ("announced_in", "now", "said"),
    [
        ("notify", "enforce", "announced in notify mode: nothing is removed on its date"),
        ("enforce", "notify", "notify mode: nothing is removed on its date"),
        (None, "enforce", "enforce mode now: removed on its date only if announced in enforce mode (unread)"),
    ],
)
def test_what_an_announced_plans_date_does_follows_the_mode_it_was_announced_in_and_the_mode_now(
    announced_in: str | None, now: str, said: str
) -> None:
    """Review 2 S1: as the worker decides (``_follow_up``): removed only when announced in enforce and enforce now."""
    settings = PruneSettings(mode=PruneMode(now))
    modes = {} if announced_in is None else {"plan-a": announced_in}
    summary = summarise([state("a", "announced", NOW, active_plan_id="plan-a")], settings=settings, modes=modes)
    assert summary.announced == (SummaryItem(arn("a"), f"plan plan-a; {said}"),)


def test_a_run_that_read_no_outcomes_claims_no_counts_of_them() -> None:
    """Review 2 S5: a failed (or disabled) run read no states: its head says so instead of "0 pruned, 0 announced"."""
    summary = RunSummary("2026-12-05T06:00:00+00:00", sent=3, errors=("the planner run failed",), outcomes_read=False)
    head = summary_text(summary).splitlines()[0]
    assert head == (
        "Pruner run: 3 roles sent to the workers. The workers' outcomes since 2026-12-05T06:00:00+00:00 were not "
        "read: the next run that succeeds tells them. Errors: 1."
    )
    assert "0 pruned" not in summary_text(summary)
