"""The pruner's run summary: one message to the security channel at the end of each planner run (issue 15).

The planner already reads every role (``ListRoles``) and every role's stored state; the summary is built from
those alone (no extra IAM call): the outcomes the workers recorded since the last summary's window ended (roles
pruned, plans announced or recorded, plans not applied, errors), the roles the exempt tag keeps out, and the roles
this run did not send to the workers and why. It is sent only when there is something to act on or to know at once:
a role pruned, a plan announced, recorded or not applied, or an error (a worker's, an invalid setting, the planner's
own failure); exemptions and skipped roles alone recur every day and are in the planner's log line (each new
exemption is already its own ``exempted`` notice). Each role is in one list only: what its worker recorded wins over
why this run did not send it. Each list names its first ``SUMMARY_LISTED`` roles and says how many more, so the
message stays within Slack's 3,000-character section and SNS's 256 KB whatever the number of roles.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from typing import NamedTuple

#: How far back the first summary (no earlier run recorded, or its record unreadable) tells the workers' outcomes:
#: the default schedule is daily (``cron(0 6 * * ? *)``), with an hour to spare.
SUMMARY_WINDOW = timedelta(hours=25)
#: Later summaries tell what the workers recorded since the start of the last run whose summary was sent (the
#: pruner's own ``PRUNER#RUN`` record), whatever the schedule (review s15 R4), less this: a worker judging a role
#: when the previous planner read the states (its timeout is 120 s) records an outcome dated before that start.
#: Only such an outcome may be told twice; one recorded while no summary could be sent (a failed run, the pruner
#: off, a summary no alert channel took) is told by the next run that succeeds and reaches a channel.
SUMMARY_OVERLAP = timedelta(minutes=5)
#: How many roles each list names before "and N more".
SUMMARY_LISTED = 5
#: The text is cut to this many characters (Slack's section limit is 3,000), with a pointer to the full lists.
SUMMARY_LIMIT = 2_800


class SummaryItem(NamedTuple):
    """One role in a list of the summary, and what to say of it (a plan id, a date, a reason)."""

    role_arn: str
    detail: str = ""


class RunSummary(NamedTuple):
    """What one planner run tells the security channel."""

    since: str  # the start of the window the workers' outcomes are told from (ISO time)
    sent: int = 0  # roles sent to the workers by this run
    pruned: tuple[SummaryItem, ...] = ()
    announced: tuple[SummaryItem, ...] = ()
    not_applied: tuple[SummaryItem, ...] = ()
    exempt: tuple[SummaryItem, ...] = ()
    skipped: tuple[SummaryItem, ...] = ()  # not sent this run, or skipped by its worker; detail: why (grouped by)
    errors: tuple[str, ...] = ()  # a role's error ("<role>: <what>"), an invalid setting, the planner's failure
    reported: tuple[SummaryItem, ...] = ()  # plans recorded in report mode (nothing changes)
    outcomes_read: bool = True  # False: a failed or disabled run, which read no role state (no counts to claim)

    @property
    def worth_sending(self) -> bool:
        """Something happened or went wrong: a role pruned, a plan announced, recorded (report mode) or ended
        without being applied (a person may have to decide), an error. A run with errors always says so."""
        return bool(self.pruned or self.announced or self.not_applied or self.reported or self.errors)


def _one_line(text: str) -> str:
    """An error's or a role's text on one line: a line break or control character in it (an exception's message)
    cannot forge a line of the plain-text message (SNS, e-mail); Slack's markup is escaped where Slack renders it
    (``alert_notices.slack_payload``)."""
    return "".join(" " if char < " " or char == "\x7f" else char for char in text)


def _listed(items: Sequence[str], listed: int) -> list[str]:
    lines = [f"- {_one_line(item)}" for item in items[:listed]]
    if len(items) > listed:
        lines.append(f"- and {len(items) - listed} more")
    return lines


def _roles(title: str, items: Sequence[SummaryItem], listed: int) -> list[str]:
    if not items:
        return []
    named = [f"{item.role_arn} ({item.detail})" if item.detail else item.role_arn for item in items]
    return ["", f"{title}: {len(items)}", *_listed(named, listed)]


def summary_text(summary: RunSummary, listed: int = SUMMARY_LISTED, limit: int = SUMMARY_LIMIT) -> str:
    """The message: counts first, then each list's first ``listed`` roles; errors first of all, as they need a
    person. Cut at ``limit`` characters, saying so."""
    if not summary.outcomes_read:  # review 2 S5: no "0 pruned, 0 announced" for outcomes never read
        head = (
            f"Pruner run: {summary.sent} roles sent to the workers. The workers' outcomes since {summary.since} were "
            f"not read: the next run that succeeds tells them. Errors: {len(summary.errors)}."
        )
        return _text([head], summary, listed, limit)
    head = (
        f"Pruner run: {summary.sent} roles sent to the workers. Outcomes the workers recorded since {summary.since}: "
        f"{len(summary.pruned)} pruned, {len(summary.announced)} announced, {len(summary.reported)} plans recorded "
        f"(report mode), {len(summary.not_applied)} plans not applied, {len(summary.errors)} errors. "
        f"Exempt by tag: {len(summary.exempt)}; skipped: {len(summary.skipped)}."
    )
    return _text([head], summary, listed, limit)


def _text(lines: list[str], summary: RunSummary, listed: int, limit: int) -> str:
    if summary.errors:
        lines += ["", f"ERRORS: {len(summary.errors)}", *_listed(summary.errors, listed)]
    lines += _roles("Pruned (unused permissions removed)", summary.pruned, listed)
    lines += _roles("Announced (what each mode does on the date is said)", summary.announced, listed)
    lines += _roles("Plans recorded (report mode: nothing changes)", summary.reported, listed)
    lines += _roles("Plans not applied", summary.not_applied, listed)
    lines += _roles("Exempt by tag", summary.exempt, listed)
    if summary.skipped:
        reasons = Counter(item.detail for item in summary.skipped)
        lines += ["", f"Skipped, by why: {len(summary.skipped)}"]
        for reason, count in sorted(reasons.items(), key=lambda pair: (-pair[1], pair[0])):
            roles = [item.role_arn for item in summary.skipped if item.detail == reason]
            more = f", and {count - listed} more" if count > listed else ""
            lines.append(_one_line(f"- {reason}: {count} ({', '.join(roles[:listed])}{more})"))
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    pointer = "\n… cut to fit one message (the counts above are whole)"
    return text[: limit - len(pointer)] + pointer
