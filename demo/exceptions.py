"""A time-boxed exception in ``make demo``: requested and approved from the command line, the exempted change left
alone by the enforcer, then, on a shortened clock, the owner reminded and the exception expiring, with the
bucket's current state judged again and alerted. The watch runs in-process (as the pruner does) against the
deployed tables, with its clock moved on by days.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from iamwarden.adapters.clients import ClientFactory
from iamwarden.alerts.notifications import Notification
from iamwarden.app.config import EnforcerConfig
from iamwarden.app.exception_wiring import build_exception_watch
from iamwarden.domain.delivery import Delivery, DeliveryReport
from iamwarden.domain.findings import Outcome
from iamwarden.domain.rule_exceptions import ExceptionStatus

RULE = "s3-bucket-policy-public"
BUCKET = "acme-invoices"
DAYS = 3


class ExceptionDemoResult(NamedTuple):
    exception_id: str | None
    step_ok: bool
    alerts: list[Notification]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


class PrintedAlerts:
    """The watch's alert channel in the demo: keeps each alert and prints it as its reader would see it."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.sent: list[Notification] = []

    def notify(self, notification: Notification) -> DeliveryReport:
        self.sent.append(notification)
        finding = notification.finding
        if finding is not None:
            _say(self.out, f"   alert ({notification.outcome.value}, rule {finding.rule_id}):")
            _say(self.out, f"   | {finding.reason}")
            for step in finding.plan:
                _say(self.out, f"   | remediation would: {step.summary}")
            for fact in finding.needs_context:
                _say(self.out, f"   | not certain: could not know {fact}")
        return DeliveryReport((Delivery("demo", ok=True),))


def run_exception_demo(
    out: TextIO,
    session: Any,
    *,
    environment: Mapping[str, str],
    requester_env: Mapping[str, str],
    operator_env: Mapping[str, str],
    cli: Path,
    play: Callable[[], bool],
) -> ExceptionDemoResult:
    """Request (the payments team's developer), approve (an operator: never the one who asked), the exempted change
    (``play``: the story step through the enforcer), remind, expire."""
    problems: list[str] = []
    roles = {"developer": {**os.environ, **requester_env}, "secops": {**os.environ, **operator_env}}

    def iamwarden(*argv: str, role: str = "secops") -> str:
        _say(out, f"   $ iamwarden {' '.join(_quoted(arg) for arg in argv)}   (as role {role})")
        answer = subprocess.run([str(cli), *argv], env=roles[role], capture_output=True, text=True, check=False)
        for line in (answer.stdout + answer.stderr).splitlines():
            _say(out, f"   {line}")
        if answer.returncode != 0:
            problems.append(f"iamwarden {argv[0]} {argv[1]} exited {answer.returncode}")
        return answer.stdout

    requested = iamwarden(
        "exception",
        "request",
        "--rule",
        RULE,
        "--resource",
        f"arn:aws:s3:::{BUCKET}",
        "--reason",
        "the public launch page, until CloudFront serves it",
        "--days",
        str(DAYS),
        role="developer",
    )
    words = requested.split()
    exception_id = words[1].rstrip(":") if len(words) > 1 and words[1].startswith("exc-") else None
    if exception_id is None:
        problems.append("the request printed no exception id")
        return ExceptionDemoResult(None, False, [], problems)
    iamwarden("exception", "approve", exception_id)

    _say(out, f"\n   The payments team opens {BUCKET} to the world again, for the launch page:")
    step_ok = play()
    if not step_ok:
        problems.append("the exempted change was not left alone")

    config = EnforcerConfig.from_environment(environment)
    alerts = PrintedAlerts(out)
    watch = build_exception_watch(config, ClientFactory(session=session), notifier=alerts)
    start = datetime.now(UTC)
    for day in (DAYS - 1, DAYS):
        moment = start + timedelta(days=day, minutes=1)
        watch.desk.clock = lambda moment=moment: moment  # type: ignore[misc]
        _say(out, f"\n   day {day}: the hourly ExceptionWatch runs")
        report = watch.run()
        _say(out, f"   reminded {list(report.reminded) or 'nobody'}, expired {list(report.expired) or 'none'}")
    final = watch.desk.get(exception_id)
    outcomes = [(n.outcome, n.finding.rule_id if n.finding else None) for n in alerts.sent]
    if outcomes != [(Outcome.NOTEWORTHY, RULE), (Outcome.ALERTED, RULE)]:
        problems.append(f"the watch alerted {outcomes}, expected a reminder and the re-judged finding")
    if final.status is not ExceptionStatus.EXPIRED:
        problems.append(f"the exception is {final.status.value}, expected expired")
    _say(out, f"   {exception_id} is {final.status.value}; the bucket's current state was judged again and alerted")
    _say(out, "   OK" if not problems else f"   DIVERGED: {'; '.join(problems)}")
    return ExceptionDemoResult(exception_id, step_ok, alerts.sent, problems)


def _quoted(arg: str) -> str:
    return f'"{arg}"' if " " in arg else arg


def _say(out: TextIO, text: str) -> None:
    out.write(text + "\n")
    out.flush()
