"""``iamwarden undo``, ``history``, ``redeliver``, ``replay`` and ``breaker``: operating a deployed IAM Warden.

They run with the operator's own credentials and build their clients through ``iamwarden.app.wiring``
(the same names, defaults and retry configuration as the enforcer), keeping only argument handling and
presentation here. ``iamwarden.app.cli`` imports this module when one of them runs: boto3 and Powertools
are not dependencies of the ``iamwarden`` package, and ``iamwarden evaluate`` runs without them.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO

from iamwarden.adapters.audit import AuditLog, AuditRecord
from iamwarden.adapters.clients import ClientFactory, operator_session
from iamwarden.adapters.dead_letters import DeadLetterReplayer, ReplayOutcome, ReplayReport, ReplayStatus
from iamwarden.app.cli_options import (
    Exit,
    TableHint,
    audit_table,
    caller_arn,
    one_line,
    run_against_aws,
    settings_prefix,
    usage_problem,
)
from iamwarden.app.config import EnforcerConfig
from iamwarden.app.dispatcher import build_alert_dispatcher
from iamwarden.app.exception_cli import run_exception
from iamwarden.app.exception_desk import undo_with_exception
from iamwarden.app.exception_wiring import build_exception_desk
from iamwarden.app.redeliver import redeliver
from iamwarden.app.wiring import build_breaker, build_clients, build_executor
from iamwarden.domain.breaker import BreakerSettings
from iamwarden.domain.exceptions import AuditError, IamWardenError
from iamwarden.domain.settings import settings_from_parameters

EXIT_OK = Exit.OK
EXIT_FAILED = Exit.FAILED


def run(command: str, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run one command; an IAM Warden or AWS error is one line on stderr and exit 1, a usage problem exit 2."""
    table = TableHint(audit_table(args), "--audit-table", "IAMWARDEN_AUDIT_TABLE")
    if command == "undo":
        return run_against_aws("undo", err, lambda: _undo(args, out), table=table)
    if command == "history":
        return run_against_aws("history", err, lambda: _history(args, out), table=table)
    if command == "redeliver":
        return run_against_aws("redeliver", err, lambda: _redeliver(args, out), table=table)
    if command == "replay":
        return run_against_aws("replay", err, lambda: _replay(args, out, err))
    if command == "breaker":
        return run_against_aws("breaker", err, lambda: _breaker(args, out), table=table)
    if command == "exception":
        exceptions = TableHint(
            _config(args).exceptions_table, "$IAMWARDEN_EXCEPTIONS_TABLE", "IAMWARDEN_EXCEPTIONS_TABLE"
        )
        return run_against_aws("exception", err, lambda: _exception(args, out), table=exceptions)
    raise ValueError(f"not an AWS command: {command!r}")


def _config(args: argparse.Namespace) -> EnforcerConfig:
    config = EnforcerConfig.from_environment()._replace(
        audit_table=audit_table(args), settings_prefix=settings_prefix(args)
    )
    table = getattr(args, "exceptions_table", None)
    return config._replace(exceptions_table=table) if table else config


def _clients(args: argparse.Namespace, config: EnforcerConfig) -> ClientFactory:
    """The shared factory over the operator's credentials, in ``--region`` or the profile's region."""
    return build_clients(config, operator_session(args.region))


def _redeliver(args: argparse.Namespace, out: TextIO) -> int:
    config = _config(args)
    clients = _clients(args, config)
    audit = AuditLog(config.audit_table, clients.home_client("dynamodb"))
    with _naming_the_table(config):
        result = redeliver(audit, build_alert_dispatcher(clients), args.remediation_id, config.settings_prefix)
    if not result.deliveries:
        out.write(f"{args.remediation_id}: no undelivered alerts\n")
        return EXIT_OK
    for delivery in result.deliveries:
        status = "delivered" if delivery.ok else f"FAILED again: {delivery.error}"
        out.write(f"{args.remediation_id}: {delivery.channel}: {status}\n")
    return EXIT_FAILED if result.failed else EXIT_OK


def _breaker(args: argparse.Namespace, out: TextIO) -> int:
    config = _config(args)  # --settings-prefix is a global option
    clients = _clients(args, config)
    breaker = build_breaker(config, clients)
    if args.action == "reset":
        who = caller_arn(clients) or "an operator"
        cleared = breaker.reset(who)
        out.write(
            f"enforcement is on ({breaker.switch.name}); forgot the counted remediations of "
            f"{', '.join(cleared) if cleared else 'no scope'}\n"
        )
        return EXIT_OK
    settings = breaker_settings(clients, config.settings_prefix)
    status = breaker.status(settings)
    switch = status.switch
    state = "on" if switch.on else "off"
    since = f" since {switch.modified.isoformat()}" if switch.modified else ""
    value = "missing (taken as on)" if switch.value is None else repr(switch.value)
    out.write(f"kill switch {breaker.switch.name}: {value}, enforcement {state}{since}\n")
    out.write(
        f"breaker: more than {settings.max_remediations} remediations within {settings.window_minutes} minutes "
        "per account or in total trips it\n"
    )
    for scope, count in sorted(status.counts.items()):
        out.write(f"  {scope}: {count} in the window\n")
    if not status.counts:
        out.write("  no remediations counted\n")
    return EXIT_OK


def breaker_settings(clients: ClientFactory, prefix: str) -> BreakerSettings:
    """The breaker's settings as the enforcer reads them (``<prefix>/breaker/...``); defaults if unset."""
    root = prefix.rstrip("/")
    ssm = clients.home_client("ssm")
    values: dict[str, str] = {}
    for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=f"{root}/breaker"):
        values.update({item["Name"]: item["Value"] for item in page.get("Parameters", [])})
    settings, problems = settings_from_parameters(values, root)
    if problems:
        raise IamWardenError("; ".join(f"{root}/{problem}" for problem in problems))
    return settings.breaker


def _undo(args: argparse.Namespace, out: TextIO) -> int:
    config = _config(args)
    clients = _clients(args, config)
    actor = caller_arn(clients)
    executor = build_executor(config, clients)
    days = getattr(args, "with_exception_days", None)
    exception = None
    with _naming_the_table(config):
        if days is None:
            record = executor.undo(args.remediation_id, actor=actor)
        else:
            desk = build_exception_desk(config, clients)
            record, exception = undo_with_exception(
                executor, desk, args.remediation_id, actor or "an operator (STS did not say)", days
            )
    out.write(render_undo(record))
    if exception is not None:
        out.write(f"  exception:     {exception.describe()}\n")
    return EXIT_OK


def _exception(args: argparse.Namespace, out: TextIO) -> int:
    config = _config(args)
    clients = _clients(args, config)
    desk = build_exception_desk(config, clients)
    who = caller_arn(clients) or "an operator (STS did not say)"
    return run_exception(desk, args, who, out)


@contextmanager
def _naming_the_table(config: EnforcerConfig) -> Iterator[None]:
    """Audit errors name the item, not the table; an operator with the wrong table needs to see which."""
    try:
        yield
    except AuditError as exc:
        if usage_problem(exc, None) is not None:  # no credentials, no region: said as such, not as an audit error
            raise
        raise AuditError(f"{exc} (audit table {config.audit_table}; set it with --audit-table)") from exc


_NOT_RESTORED = "NOT restored: "


def render_undo(record: AuditRecord) -> str:
    """What the undo put back, one line each, and what it could not (a console password)."""
    lines = [
        f"Undid {record.undoes} ({record.rule} on {record.resource_arn}); recorded as {record.remediation_id}",
        f"  by:            {record.actor or 'unknown caller (STS did not say)'}",
    ]
    for line in record.restored:
        if line.startswith(_NOT_RESTORED):
            lines.append(f"  NOT restored:  {line.removeprefix(_NOT_RESTORED)}")
        else:
            lines.append(f"  restored:      {line}")
    if not record.restored:
        lines.append("  nothing to restore: the live state already matched the before-state")
    return "\n".join(lines) + "\n"


def _history(args: argparse.Namespace, out: TextIO) -> int:
    config = _config(args)
    audit = AuditLog(config.audit_table, _clients(args, config).home_client("dynamodb"))
    by_event = args.event is not None
    subject = f"CloudTrail event {args.event}" if by_event else args.resource_arn
    with _naming_the_table(config):
        records = audit.for_event(args.event) if by_event else audit.history(args.resource_arn)
    records.sort(key=lambda record: record.created_at)  # an index query is ordered already; a merge may not be
    if args.format == "json":
        out.write(json.dumps([record.to_dict() for record in records], indent=2, default=list) + "\n")
    else:
        out.write(render_history(subject, records, show_resource=by_event))
    return EXIT_OK


def render_history(subject: str, records: Sequence[AuditRecord], *, show_resource: bool = False) -> str:
    """One block per record, oldest first: when, rule, status, id, what was done, by whom, the error."""
    if not records:
        return f"No audit records for {subject}: IAM Warden has not recorded anything about it.\n"
    count = f"{len(records)} record{'s' if len(records) != 1 else ''}"
    blocks = [f"History of {subject}: {count}, oldest first"]
    for record in records:
        lines = [f"{record.created_at}  {record.status.upper():<11} {record.rule}  {record.remediation_id}"]
        if show_resource:
            lines.append(_field("resource", [record.resource_arn]))
        if record.kind == "undo":
            lines.append(_field("undoes", [record.undoes or "?"]))
            lines.append(_field("undone by", [record.actor or "unknown caller"]))
            lines.append(_field("restored", list(record.restored) or ["nothing"]))
        else:
            lines.append(_field("event", [record.event_id or "?"]))
            lines.append(_field("change by", [record.actor or "unknown caller"]))
            if record.status == "alerted":
                lines.append(_field("done", ["nothing (alert only)"]))
            else:
                lines.append(_field("done", list(record.done) or ["nothing"]))
            if record.undone_by:
                lines.append(_field("undone in", [record.undone_by]))
        if record.error:
            lines.append(_field("error", [record.error]))
        if record.delivery_failures:
            undelivered = [
                f"{f.get('outcome')} alert to {f.get('channel')}: {f.get('error')}" for f in record.delivery_failures
            ]
            lines.append(
                _field("undelivered", [*undelivered, f"(send again: iamwarden redeliver {record.remediation_id})"])
            )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _field(label: str, values: Sequence[str]) -> str:
    first, *rest = values
    indent = " " * 15
    return "\n".join([f"  {label + ':':<13}{first}", *(f"{indent}{value}" for value in rest)])


def _replay(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    config = _config(args)
    clients = _clients(args, config)
    replayer = DeadLetterReplayer(
        clients.home_client("sqs"),
        clients.home_client("lambda"),
        queue=args.queue or config.dead_letter_queue,
        function=args.function or config.enforcer_function,
    )
    report = replayer.replay(max_messages=args.max, dry_run=args.dry_run)
    out.write(render_replay(report))
    for error in report.errors:
        err.write(f"iamwarden replay: {one_line(error)}\n")
    if report.ok:
        return EXIT_OK
    kept = len(report.outcomes) - report.count(ReplayStatus.REPLAYED) - report.count(ReplayStatus.WOULD_REPLAY)
    if kept:
        err.write(f"iamwarden replay: {kept} message(s) could not be replayed and are still in the queue\n")
    return EXIT_FAILED


_REPLAY_LABELS = {
    ReplayStatus.REPLAYED: "replayed",
    ReplayStatus.WOULD_REPLAY: "would replay",
    ReplayStatus.INVOKE_FAILED: "KEPT",
    ReplayStatus.NOT_DELETED: "NOT DELETED",
    ReplayStatus.UNRECOGNISED: "KEPT",
}


def render_replay(report: ReplayReport) -> str:
    """One line per message (event id, event name, why it failed before) and a summary."""
    lines = [_replay_line(outcome) for outcome in report.outcomes]
    if not report.outcomes:  # an error before the first message is reported on stderr alone
        return "" if report.errors else f"The dead-letter queue {report.queue_url} is empty: nothing to replay.\n"
    counts = Counter(outcome.status for outcome in report.outcomes)
    if report.dry_run:
        summary = (
            f"Dry run, nothing changed: {counts[ReplayStatus.WOULD_REPLAY]} would be replayed to {report.function}"
        )
    else:
        summary = f"{counts[ReplayStatus.REPLAYED]} replayed to {report.function}"
    kept = counts[ReplayStatus.INVOKE_FAILED] + counts[ReplayStatus.UNRECOGNISED]
    if kept:
        summary += f", {kept} kept in the queue"
    if counts[ReplayStatus.NOT_DELETED]:
        summary += f", {counts[ReplayStatus.NOT_DELETED]} replayed but not deleted"
    lines.append(f"{summary}.")
    return "\n".join(lines) + "\n"


def _replay_line(outcome: ReplayOutcome) -> str:
    label = _REPLAY_LABELS[outcome.status]
    if outcome.status is ReplayStatus.UNRECOGNISED:
        return f"{label:<13} {outcome.problem}"  # the problem names the message
    line = f"{label:<13} {outcome.event_id or '(no event id)'}  {outcome.event_name or '(no eventName)'}"
    line += f"  message {outcome.message_id}"
    if outcome.failure:
        line += f"  failed before: {outcome.failure}"
    if outcome.problem:
        line += f"\n{'':<14}{outcome.problem}"
    return line
