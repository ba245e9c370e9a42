"""What a backtest found, in the shapes people read: rows, a summary, suggested allowlist entries.

Every judgement becomes zero or more ``Row``s, one per finding, each with an
outcome: ``would remediate`` (the rule is in remediate mode and the finding has
a plan), ``would alert`` (alert mode, or a break-glass caller), ``needs context``
(the rule could not judge without account state, e.g. a customer-managed
policy's document; never counted as would remediate) or ``rejected`` (the
record names another account: a forged or misrouted event).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, NamedTuple

from iamwarden.backtest.domain.records import (
    BYTES,
    FILES,
    IN_SCOPE_RECORDS,
    MALFORMED_FILES,
    MALFORMED_RECORDS,
    NOT_PARSED,
    OUT_OF_SCOPE,
    OUTSIDE_RANGE,
    READ_ONLY,
    RECORDS,
    Problem,
)
from iamwarden.domain.catalog import Mode
from iamwarden.domain.findings import Judgement, Verdict

WOULD_REMEDIATE = "would remediate"
WOULD_ALERT = "would alert"
NEEDS_CONTEXT = "needs context"
REJECTED = "rejected"
OUTCOMES = (WOULD_REMEDIATE, WOULD_ALERT, NEEDS_CONTEXT, REJECTED)
#: How the engine words a judgement whose rules could not judge offline (``Evaluation.unjudged``).
UNJUDGED_PREFIX = "cannot judge: "
#: Findings an allowlist entry would silence: the ones an operator would be bothered by.
_ACTIONABLE = (WOULD_REMEDIATE, WOULD_ALERT)


class Row(NamedTuple):
    """One finding of the backtest: a line of the JSON lines file and of the HTML tables."""

    outcome: str
    rule: str
    severity: str
    account: str
    region: str
    time: str
    actor: str
    resource: str
    event_id: str
    event_name: str
    reason: str
    where: str
    actions: tuple[str, ...] = ()

    @property
    def day(self) -> str:
        return self.time[:10] or "unknown"

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies a finding across two settings: the event, the rule and the resource."""
        return (self.event_id, self.rule, self.resource)

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "rule": self.rule,
            "severity": self.severity,
            "account": self.account,
            "region": self.region,
            "time": self.time,
            "actor": self.actor,
            "resource": self.resource,
            "event_id": self.event_id,
            "event_name": self.event_name,
            "reason": self.reason,
            "source": self.where,
            "actions": list(self.actions),
        }


def rows_of(where: str, judgement: Judgement) -> list[Row]:
    """The report's rows for one judgement (none for compliant and ignored changes)."""
    change = judgement.change
    if change is None:
        return []
    common: dict[str, Any] = {
        "account": change.account,
        "region": change.region,
        "time": change.time,
        "actor": change.actor.principal_arn or change.actor.display,
        "event_id": change.event_id,
        "event_name": change.event_name,
        "where": where,
    }
    if judgement.findings and judgement.verdict in (Verdict.VIOLATION, Verdict.IGNORED):
        rows = []
        for finding in judgement.findings:
            remediate = (
                finding.mode is Mode.REMEDIATE and bool(finding.plan) and not finding.alert_only and finding.certain
            )
            rows.append(
                Row(
                    outcome=WOULD_REMEDIATE if remediate else WOULD_ALERT,
                    rule=finding.rule_id,
                    severity=finding.severity.value,
                    resource=finding.resource_arn,
                    reason=finding.reason if judgement.verdict is Verdict.VIOLATION else judgement.reason,
                    actions=tuple(step.summary for step in finding.plan),
                    **common,
                )
            )
        return rows
    if judgement.verdict is Verdict.IGNORED and judgement.reason.startswith(UNJUDGED_PREFIX):
        return [
            Row(NEEDS_CONTEXT, rule, "", resource=judgement.resource_arn or "", reason=judgement.reason, **common)
            for rule in judgement.rule_ids
        ]
    if judgement.rejected:
        return [
            Row(REJECTED, rule, "", resource=judgement.resource_arn or "", reason=judgement.reason, **common)
            for rule in (judgement.rule_ids or ("-",))
        ]
    return []


class Suggestion(NamedTuple):
    """An allowlist entry that would silence many findings: the SSM parameter and the value to add."""

    rule: str
    kind: str  # "actor" or "resource"
    value: str
    parameter: str
    findings: int
    share: float


def allow_parameter(prefix: str, rule: str, kind: str) -> str:
    """The SSM parameter of a rule's allowlist, named as the alerts name it (alerts.message ``exception``)."""
    return f"{prefix.rstrip('/')}/rules/{rule}/allow_{'actors' if kind == 'actor' else 'resources'}"


def suggest_allowlist(
    rows: Iterable[Row], prefix: str, *, min_findings: int = 2, min_share: float = 0.25, per_rule: int = 3
) -> list[Suggestion]:
    """Actors and resources behind at least ``min_share`` of a rule's findings (and ``min_findings``), most first.

    Only findings that would reach someone count (would remediate or alert). An entry here is a candidate
    to review, not advice: the actor may be the attacker the rule exists for.
    """
    by_rule: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if row.outcome in _ACTIONABLE:
            by_rule[row.rule].append(row)
    suggestions: list[Suggestion] = []
    for rule, found in sorted(by_rule.items()):
        for kind in ("actor", "resource"):
            counts = Counter(row.actor if kind == "actor" else row.resource for row in found)
            for value, count in counts.most_common(per_rule):
                share = count / len(found)
                if count >= min_findings and share >= min_share and value:
                    suggestions.append(Suggestion(rule, kind, value, allow_parameter(prefix, rule, kind), count, share))
    suggestions.sort(key=lambda s: (-s.findings, s.rule, s.kind, s.value))
    return suggestions


class Comparison(NamedTuple):
    """Findings that appear, disappear or change outcome when the other settings replace the base ones."""

    other: str
    appeared: list[Row]
    disappeared: list[Row]
    changed: list[tuple[Row, Row]]


def compare(base: Sequence[Row], other: Sequence[Row], other_name: str) -> Comparison:
    before = {row.key: row for row in base}
    after = {row.key: row for row in other}
    return Comparison(
        other_name,
        appeared=[row for key, row in after.items() if key not in before],
        disappeared=[row for key, row in before.items() if key not in after],
        changed=[
            (before[key], row) for key, row in after.items() if key in before and before[key].outcome != row.outcome
        ],
    )


def _changed(before: Row | None, after: Row) -> bool:
    return before is not None and before.outcome != after.outcome


class Report(NamedTuple):
    """Everything a backtest found; the renderers read only this."""

    settings: str
    sources: tuple[str, ...]
    counts: Counter[str]
    verdicts: Counter[str]
    rows: list[Row]
    problems: list[Problem]
    prefix: str = "/iamwarden"
    comparison: Comparison | None = None
    #: Context the run had (e.g. authorization details) or lacked, in words.
    notes: tuple[str, ...] = ()

    def outcomes_by(self, field: str) -> dict[str, Counter[str]]:
        table: dict[str, Counter[str]] = defaultdict(Counter)
        for row in self.rows:
            table[getattr(row, field)][row.outcome] += 1
        return dict(sorted(table.items()))

    def top(self, field: str, limit: int = 10) -> list[tuple[str, int]]:
        """The values of ``field`` behind the most actionable findings."""
        return Counter(getattr(row, field) for row in self.rows if row.outcome in _ACTIONABLE).most_common(limit)

    def timeline(self) -> dict[str, Counter[str]]:
        """Findings per day and rule (actionable and needs context), days in order."""
        days: dict[str, Counter[str]] = defaultdict(Counter)
        for row in self.rows:
            if row.outcome != REJECTED:
                days[row.day][row.rule] += 1
        return {day: days.get(day, Counter()) for day in _every_day(sorted(days))}

    def suggestions(self) -> list[Suggestion]:
        return suggest_allowlist(self.rows, self.prefix)

    def outcome_totals(self) -> Counter[str]:
        return Counter(row.outcome for row in self.rows)


def _every_day(days: list[str]) -> list[str]:
    """``days`` with the days between them filled in (a timeline shows quiet days too)."""
    try:
        first, last = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
    except (IndexError, ValueError):
        return days
    if (last - first).days > 3660:
        return days
    return [date.fromordinal(ordinal).isoformat() for ordinal in range(first.toordinal(), last.toordinal() + 1)]


def _n(value: int) -> str:
    return f"{value:,}"


def _count(value: int, noun: str) -> str:
    return f"{value:,} {noun}{'' if value == 1 else 's'}"


def _size(count: int) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if count < 1024 or unit == "TB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024  # type: ignore[assignment]
    return f"{count} B"


def render_summary(report: Report, *, limit: int = 10) -> str:
    """The terminal summary: what was read, per rule, per account, top actors and resources, suggestions."""
    counts = report.counts
    lines = [
        f"Backtest of {', '.join(report.sources)} with {report.settings}",
        f"Read {_count(counts[FILES], 'file')} ({_size(counts[BYTES])}), {_count(counts[RECORDS], 'record')}: "
        f"{_n(counts[IN_SCOPE_RECORDS])} judged; skipped {_n(counts[NOT_PARSED])} without parsing (no guarded "
        f"event name in them), {_n(counts[READ_ONLY])} read-only, "
        f"{_n(counts[OUT_OF_SCOPE])} out of scope, {_n(counts[OUTSIDE_RANGE])} outside the date range.",
    ]
    malformed = counts[MALFORMED_FILES] + counts[MALFORMED_RECORDS]
    if malformed:
        lines.append(
            f"Could not read {_count(counts[MALFORMED_FILES], 'file')} and "
            f"{_count(counts[MALFORMED_RECORDS], 'record')} "
            f"({len(report.problems)} problems listed on stderr)."
        )
    verdicts = ", ".join(f"{_n(report.verdicts[v.value])} {v.value}" for v in Verdict if report.verdicts[v.value])
    lines.append(f"Verdicts: {verdicts or 'nothing judged'}")
    lines.extend(f"Note: {note}" for note in report.notes)
    totals = report.outcome_totals()
    lines.append(
        "Findings: " + ", ".join(f"{_n(totals[outcome])} {outcome}" for outcome in OUTCOMES)
        if report.rows
        else "Findings: none"
    )
    for title, field in (("rule", "rule"), ("account", "account")):
        table = report.outcomes_by(field)
        if not table:
            continue
        width = max(len(title), *(len(key) for key in table))
        lines.append("")
        lines.append(f"{'Per ' + title:<{width + 4}}" + "".join(f"{outcome:>17}" for outcome in OUTCOMES))
        for key, outcomes in table.items():
            lines.append(f"{key:<{width + 4}}" + "".join(f"{_n(outcomes[o]):>17}" for o in OUTCOMES))
    for title, field in (("Top actors", "actor"), ("Top resources", "resource")):
        top = report.top(field, limit)
        if top:
            lines.append("")
            lines.append(f"{title} (findings that would remediate or alert)")
            lines.extend(f"  {count:>7,}  {value}" for value, count in top)
    suggestions = report.suggestions()
    if suggestions:
        lines.append("")
        lines.append("Suggested allowlist entries (review each: the actor may be what the rule exists for)")
        for item in suggestions[:limit]:
            lines.append(
                f"  {item.findings:>7,} findings ({item.share:.0%} of {item.rule}): "
                f"add {item.value} to {item.parameter}"
            )
    if report.comparison is not None:
        lines.extend(["", *render_comparison(report.comparison, limit=limit)])
    return "\n".join(lines) + "\n"


def render_comparison(comparison: Comparison, *, limit: int = 10) -> list[str]:
    lines = [
        f"Compared with {comparison.other}: {len(comparison.appeared)} findings appear, "
        f"{len(comparison.disappeared)} disappear, {len(comparison.changed)} change outcome"
    ]
    for sign, rows in (("+", comparison.appeared), ("-", comparison.disappeared)):
        for row in rows[:limit]:
            lines.append(f"  {sign} {row.outcome:<15} {row.rule:<28} {row.resource}  by {row.actor}  ({row.time})")
        if len(rows) > limit:
            lines.append(f"  {sign} ... and {len(rows) - limit} more (all in the JSON lines file)")
    for before, after in comparison.changed[:limit]:
        lines.append(f"  ~ {before.outcome} -> {after.outcome}: {after.rule} {after.resource}  ({after.time})")
    return lines


def jsonl_rows(report: Report) -> Iterable[Mapping[str, Any]]:
    """Every finding as a JSON object; with a comparison, the other settings' changes follow, marked."""
    for row in report.rows:
        yield row.to_dict()
    if report.comparison is not None:
        for change, rows in (("appears", report.comparison.appeared), ("disappears", report.comparison.disappeared)):
            for row in rows:
                yield {"compare": change, "settings": report.comparison.other, **row.to_dict()}
        for before, after in report.comparison.changed:
            yield {"compare": "changes", "settings": report.comparison.other, "was": before.outcome, **after.to_dict()}
