"""``iamwarden``: the command line for people operating IAM Warden.

``iamwarden evaluate`` judges CloudTrail events offline, exactly as the
enforcer would, so a change can be checked before it is made and a settings
file can be tried before it goes into SSM.

``undo``, ``history`` and ``replay`` act on a deployed IAM Warden with the
operator's own credentials. They build their clients through ``iamwarden.app.wiring``
(the same names, defaults and retry configuration as the enforcer) and keep
only argument handling and presentation here. An AWS or IAM Warden error is
one line on stderr and exit 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from iamwarden import __version__
from iamwarden.adapters.audit import AuditLog, AuditRecord
from iamwarden.adapters.clients import ClientFactory
from iamwarden.app.replay import DeadLetterReplayer, ReplayOutcome, ReplayReport, ReplayStatus
from iamwarden.app.wiring import DEFAULTS, EnforcerConfig, build_breaker, build_clients, build_executor
from iamwarden.backtest.domain.records import events_in
from iamwarden.domain.breaker import BreakerSettings
from iamwarden.domain.catalog import Mode
from iamwarden.domain.exceptions import AuditError, IamWardenError, SettingsError
from iamwarden.domain.findings import Judgement, Verdict
from iamwarden.domain.settings import Settings, load_settings_file, settings_from_parameters
from iamwarden.guardrails.engine import judge_event

EXIT_OK = 0
EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help
        return int(exc.code or 0)
    if args.command == "evaluate":
        return _evaluate(args, out, err)
    if args.command == "undo":
        return _aws_command("undo", err, lambda: _undo(args, out))
    if args.command == "history":
        if (args.resource_arn is None) == (args.event is None):
            err.write("iamwarden history: give either RESOURCE_ARN or --event EVENT_ID\n")
            return EXIT_USAGE
        return _aws_command("history", err, lambda: _history(args, out))
    if args.command == "redeliver":
        return _aws_command("redeliver", err, lambda: _redeliver(args, out))
    if args.command == "replay":
        return _aws_command("replay", err, lambda: _replay(args, out, err))
    if args.command == "breaker":
        return _aws_command("breaker", err, lambda: _breaker(args, out))
    if args.command == "prune":
        from iamwarden.prune.app.cli import run_prune  # noqa: PLC0415 - boto3 and the catalogue only for prune

        return run_prune(args, out, err)
    if args.command == "backtest":
        from iamwarden.backtest.app.cli import run_backtest  # noqa: PLC0415 - the backtest's modules only for it

        return run_backtest(args, out, err)
    parser.print_help(err)
    return EXIT_USAGE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="iamwarden", description="IAM Warden: guardrails for AWS IAM and S3.")
    parser.add_argument("--version", action="version", version=f"iamwarden {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    evaluate = commands.add_parser(
        "evaluate",
        help="judge CloudTrail events offline",
        description="Judge EventBridge CloudTrail events offline, as the enforcer would. "
        "Exit 0 when every file was judged (invalid input is a judgement), 2 on a usage error.",
    )
    evaluate.add_argument("--config", metavar="FILE", help="settings file (YAML or JSON); default: built-in defaults")
    evaluate.add_argument("--format", choices=("json", "text"), default="json", help="json lines (default) or text")
    evaluate.add_argument(
        "events",
        nargs="+",
        metavar="EVENT_FILE",
        help="EventBridge events, CloudTrail records or CloudTrail log files (.json, .json.gz)",
    )

    aws = argparse.ArgumentParser(add_help=False)
    aws.add_argument("--region", help="AWS region of the IAM Warden stack; default: the environment's")
    audit = argparse.ArgumentParser(add_help=False)
    audit.add_argument(
        "--audit-table",
        metavar="NAME",
        help=f"audit table; default: $IAMWARDEN_AUDIT_TABLE or {DEFAULTS['IAMWARDEN_AUDIT_TABLE']}",
    )
    undo = commands.add_parser(
        "undo",
        parents=[aws, audit],
        help="restore what a remediation changed",
        description="Put the before-state of a remediation back into the current state, with your own "
        "credentials, and record the undo. Exit 0 when undone, 2 when it cannot be (unknown id, already "
        "undone, resource deleted or changed since) or on an AWS error.",
    )
    undo.add_argument("remediation_id", metavar="REMEDIATION_ID", help="the id in the alert (rem-...)")
    history = commands.add_parser(
        "history",
        parents=[aws, audit],
        help="what IAM Warden did to a resource",
        description="Every audit record of a resource (or of one CloudTrail event), oldest first.",
    )
    history.add_argument("resource_arn", nargs="?", metavar="RESOURCE_ARN", help="the resource's ARN")
    history.add_argument("--event", metavar="EVENT_ID", help="instead of an ARN: the records of one CloudTrail event")
    history.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json")
    redeliver = commands.add_parser(
        "redeliver",
        parents=[aws, audit],
        help="send again the alerts of a remediation that could not be delivered",
        description="Rebuild the alerts whose delivery failed (kept on the audit record) and send them to exactly "
        "the channels that failed. Exit 0 when everything is delivered, 2 when a channel still fails.",
    )
    redeliver.add_argument(
        "remediation_id", metavar="REMEDIATION_ID", help="the id in the alert (rem-... or config-...)"
    )
    replay = commands.add_parser(
        "replay",
        parents=[aws],
        help="hand dead-lettered events back to the enforcer",
        description="Invoke the enforcer again (asynchronously) with each event in its dead-letter queue; "
        "a message is deleted only after Lambda accepted it. Exit 2 if any message was kept in the queue.",
    )
    replay.add_argument(
        "--queue",
        metavar="NAME_OR_URL",
        help=f"dead-letter queue; default: $IAMWARDEN_DEAD_LETTER_QUEUE or {DEFAULTS['IAMWARDEN_DEAD_LETTER_QUEUE']}",
    )
    replay.add_argument(
        "--function",
        metavar="NAME",
        help=f"enforcer function; default: $IAMWARDEN_ENFORCER_FUNCTION or {DEFAULTS['IAMWARDEN_ENFORCER_FUNCTION']}",
    )
    replay.add_argument("--max", type=_positive, metavar="N", help="replay at most N messages; default: all")
    replay.add_argument("--dry-run", action="store_true", help="list what would be replayed; change nothing")
    breaker = commands.add_parser(
        "breaker",
        parents=[aws, audit],
        help="the circuit breaker and kill switch: status, or reset after a trip",
        description="status: the kill switch and the remediations counted per account in the window. "
        "reset: switch enforcement back on and forget the counted remediations (the caller is recorded "
        "in the switch's description). Exit 0 done, 2 on an AWS or usage error.",
    )
    breaker.add_argument("action", choices=("status", "reset"), help="status (read only) or reset")
    breaker.add_argument(
        "--settings-prefix",
        metavar="PATH",
        help=f"SSM settings prefix; default: $IAMWARDEN_SETTINGS_PREFIX or {DEFAULTS['IAMWARDEN_SETTINGS_PREFIX']}",
    )
    from iamwarden.prune.app.cli import add_prune_parser  # noqa: PLC0415 - keeps the pruner's CLI in its package

    add_prune_parser(commands)
    from iamwarden.backtest.app.cli import add_backtest_parser  # noqa: PLC0415 - keeps the backtest's CLI in its package

    add_backtest_parser(commands)
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _evaluate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        settings = load_settings_file(args.config) if args.config else Settings()
    except SettingsError as exc:
        err.write(f"iamwarden evaluate: invalid settings in {args.config}:\n")
        for problem in exc.problems:
            err.write(f"  {problem}\n")
        return EXIT_USAGE
    # Read everything first: a usage error must leave stdout empty, never half a report.
    contents: list[tuple[Path, bytes]] = []
    problems: list[str] = []
    for name in args.events:
        path = Path(name)
        try:
            contents.append((path, path.read_bytes()))
        except FileNotFoundError:
            problems.append(f"{path}: no such file")
        except IsADirectoryError:
            problems.append(f"{path}: is a directory, not an event file")
        except OSError as exc:
            problems.append(f"{path}: cannot read: {exc.strerror}")
    if problems:
        for message in problems:
            err.write(f"iamwarden evaluate: {message}\n")
        return EXIT_USAGE

    counts: Counter[Verdict] = Counter()
    judged = 0
    for path, content in contents:
        for name, event in events_in(str(path), content):  # CloudTrail records and log files are wrapped
            judgement = judge_event(event, settings)
            counts[judgement.verdict] += 1
            judged += 1
            if args.format == "json":
                for line in judgement_lines(name, judgement):
                    out.write(json.dumps(line, sort_keys=False) + "\n")
            else:
                out.write(render_text(name, judgement))
    if args.format == "text":
        summary = ", ".join(f"{counts[v]} {v.value}" for v in Verdict if counts[v])
        out.write(f"\n{judged} event{'s' if judged != 1 else ''} judged: {summary}\n")
    return EXIT_OK


def judgement_lines(event: str, judgement: Judgement) -> Iterator[dict[str, Any]]:
    """One JSON object per finding, or one for an event without findings."""
    change = judgement.change
    base: dict[str, Any] = {"event": event, "verdict": judgement.verdict.value}
    if change is not None:
        base["event_id"] = change.event_id
        base["event_name"] = change.event_name
    if not judgement.findings:
        yield {
            **base,
            "rule": judgement.rule_ids[0] if len(judgement.rule_ids) == 1 else None,
            "severity": None,
            "reason": judgement.reason,
            "resource": judgement.resource_arn,
            "plan": [],
        }
        return
    for finding in judgement.findings:
        yield {
            **base,
            "rule": finding.rule_id,
            "severity": finding.severity.value,
            "reason": finding.reason
            if judgement.verdict is Verdict.VIOLATION
            else f"{judgement.reason}. {finding.reason}",
            "resource": finding.resource_arn,
            "plan": [step.to_dict() for step in finding.plan],
            "mode": finding.mode.value,
            "finding_id": finding.finding_id,
            "alert_only": finding.alert_only,
            "offending": [dict(item) for item in finding.offending],
        }


def render_text(event: str, judgement: Judgement) -> str:
    """A short block per event for people: verdict, rule, severity, why, and what would happen."""
    verdict = judgement.verdict.value.upper()
    if not judgement.findings:
        return f"{verdict:<10} {event}\n           {judgement.reason}\n"
    lines: list[str] = []
    for finding in judgement.findings:
        lines.append(f"{verdict:<10} {finding.severity.value.upper():<9} {finding.rule_id:<31} {event}")
        if judgement.verdict is not Verdict.VIOLATION:
            lines.append(f"           {judgement.reason}")
        lines.append(f"           {finding.reason}")
        for step in finding.plan:
            lines.append(f"           {_intent(finding.mode)}: {step.summary}")
    return "\n".join(lines) + "\n"


def _intent(mode: Mode) -> str:
    return {Mode.REMEDIATE: "will", Mode.ALERT: "alert only; in remediate mode would", Mode.OFF: "off"}[mode]


# --- undo, history, replay: the operator's commands against a deployed IAM Warden -------------


def _aws_command(command: str, err: TextIO, action: Callable[[], int]) -> int:
    """Run ``action``; any IAM Warden or AWS error becomes one line on stderr and exit 2."""
    try:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415
    except ImportError:
        err.write(f"iamwarden {command}: needs boto3 (pip install boto3)\n")
        return EXIT_USAGE
    try:
        return action()
    except IamWardenError as exc:
        err.write(f"iamwarden {command}: {_one_line(str(exc))}\n")
    except (BotoCoreError, ClientError) as exc:
        err.write(f"iamwarden {command}: AWS error: {_one_line(str(exc))}\n")
    return EXIT_USAGE


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _config(args: argparse.Namespace) -> EnforcerConfig:
    config = EnforcerConfig.from_environment()
    table = getattr(args, "audit_table", None)
    return config._replace(audit_table=table) if table else config


def _clients(args: argparse.Namespace, config: EnforcerConfig) -> ClientFactory:
    """The shared factory over the operator's credentials, in ``--region`` or the environment's region."""
    import boto3  # noqa: PLC0415

    return build_clients(config, boto3.Session(region_name=args.region) if args.region else None)


def caller_arn(clients: ClientFactory) -> str | None:
    """Who is running the command, for the audit record; None if STS cannot say (the undo still runs)."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    try:
        return str(clients.home_client("sts").get_caller_identity()["Arn"])
    except (IamWardenError, BotoCoreError, ClientError, KeyError):
        return None


def _redeliver(args: argparse.Namespace, out: TextIO) -> int:
    from iamwarden.adapters.audit import AuditLog  # noqa: PLC0415
    from iamwarden.app.dispatcher import build_alert_dispatcher  # noqa: PLC0415
    from iamwarden.app.redeliver import redeliver  # noqa: PLC0415

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
    return EXIT_USAGE if result.failed else EXIT_OK


def _breaker(args: argparse.Namespace, out: TextIO) -> int:
    config = _config(args)
    if args.settings_prefix:
        config = config._replace(settings_prefix=args.settings_prefix)
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
    with _naming_the_table(config):
        record = build_executor(config, clients).undo(args.remediation_id, actor=actor)
    out.write(render_undo(record))
    return EXIT_OK


@contextmanager
def _naming_the_table(config: EnforcerConfig) -> Iterator[None]:
    """Audit errors name the item, not the table; an operator with the wrong table needs to see which."""
    try:
        yield
    except AuditError as exc:
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
    config = EnforcerConfig.from_environment()
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
        err.write(f"iamwarden replay: {_one_line(error)}\n")
    if report.ok:
        return EXIT_OK
    kept = len(report.outcomes) - report.count(ReplayStatus.REPLAYED) - report.count(ReplayStatus.WOULD_REPLAY)
    if kept:
        err.write(f"iamwarden replay: {kept} message(s) could not be replayed and are still in the queue\n")
    return EXIT_USAGE


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


def run() -> None:
    """Console-script entry point."""
    raise SystemExit(main())
