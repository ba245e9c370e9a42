"""``iamwarden``: the command line for people operating IAM Warden.

``iamwarden evaluate`` judges CloudTrail events offline, exactly as the
enforcer would, so a change can be checked before it is made and a settings
file can be tried before it goes into SSM.

``undo``, ``history``, ``redeliver``, ``replay`` and ``breaker`` act on a deployed
IAM Warden with the operator's own credentials (``iamwarden.app.commands``), and
``prune`` through the pruner's CLI. An AWS or IAM Warden error is one line on
stderr, never a traceback; exit codes and global options are shared by every
command (``iamwarden.app.cli_options``). boto3 and Powertools are not dependencies
of the ``iamwarden`` package: ``evaluate`` needs PyYAML only, and the AWS commands
are imported when one of them runs.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from iamwarden import __version__
from iamwarden.adapters.errors import PermanentAwsError
from iamwarden.app.backtest_cli import add_backtest_parser, run_backtest
from iamwarden.app.cli_options import (
    Exit,
    add_global_options,
    arn_argument,
    id_argument,
    positive_int,
    share_global_options,
)
from iamwarden.app.config import DEFAULTS, own_identity_from_environment
from iamwarden.app.exception_cli import add_exception_parser, load_exceptions_file
from iamwarden.app.settings_file import load_settings_file
from iamwarden.backtest.domain.records import events_in
from iamwarden.domain.authorization_details import AuthorizationDetailsError, load_authorization_details
from iamwarden.domain.catalog import Mode
from iamwarden.domain.directory import StaticDirectory
from iamwarden.domain.exceptions import ConfigurationError, ExceptionRefused, SettingsError
from iamwarden.domain.findings import Judgement, Verdict
from iamwarden.domain.managed_documents import PolicyVersion, PolicyVersions
from iamwarden.domain.rule_exceptions import RuleException
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.prune.app.cli import add_prune_parser, run_prune

EXIT_OK = Exit.OK
EXIT_FAILED = Exit.FAILED
EXIT_USAGE = Exit.USAGE
#: 128 + SIGPIPE: what a shell reports for a program stopped by a closed pipe.
EXIT_BROKEN_PIPE = 141
AWS_COMMANDS = ("undo", "history", "redeliver", "replay", "breaker", "exception")
#: What the AWS commands cannot run without.
_AWS_SDK = ("boto3", "botocore.exceptions")


def main(
    argv: Sequence[str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: BinaryIO | None = None,
) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help
        return int(exc.code or 0)
    if args.command == "evaluate":
        return _evaluate(args, out, err, stdin)
    if args.command == "history" and (args.resource_arn is None) == (args.event is None):
        err.write("iamwarden history: give either RESOURCE_ARN or --event EVENT_ID\n")
        return EXIT_USAGE
    if args.command in AWS_COMMANDS:
        return _aws_command(args.command, args, out, err)
    if args.command == "prune":
        return run_prune(args, out, err)
    if args.command == "backtest":
        return run_backtest(args, out, err)
    parser.print_help(err)
    return EXIT_USAGE


def _parser() -> argparse.ArgumentParser:
    """The whole command line. A subcommand added to ``commands`` gets the global options automatically."""
    parser = argparse.ArgumentParser(
        prog="iamwarden",
        description="IAM Warden: guardrails for AWS IAM and S3.",
        epilog="Exit codes: 0 done; 1 the operation failed; 2 usage or input error "
        "(including missing AWS credentials or region, or a table that is not there).",
    )
    parser.add_argument("--version", action="version", version=f"iamwarden {__version__}")
    add_global_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", help="what to do")
    evaluate = commands.add_parser(
        "evaluate",
        help="judge CloudTrail events offline",
        description="Judge EventBridge CloudTrail events offline, as the enforcer would. "
        "Exit 0 when every file was judged (invalid input is a judgement), 2 on a usage error.",
    )
    evaluate.add_argument("--config", metavar="FILE", help="settings file (YAML or JSON); default: built-in defaults")
    evaluate.add_argument("--format", choices=("json", "text"), default="json", help="json lines (default) or text")
    evaluate.add_argument(
        "--authorization-details",
        metavar="FILE",
        help="what `aws iam get-account-authorization-details` printed: judge identity-policy changes on the "
        "principal's whole power (its other policies, groups, boundary, the roles it can pass); without it a "
        "verdict that depends on them says so (needs_context) and is alert-only",
    )
    evaluate.add_argument(
        "--exceptions",
        metavar="FILE",
        help="rule exceptions as `iamwarden exception list --format json` prints them (a JSON list): an approved "
        "one exempts what it covers at the event's time, as in the enforcer",
    )
    evaluate.add_argument(
        "events",
        nargs="+",
        metavar="EVENT_FILE",
        help="EventBridge events, CloudTrail records or CloudTrail log files (.json, .json.gz); - reads standard input",
    )

    undo = commands.add_parser(
        "undo",
        help="restore what a remediation changed",
        description="Put the before-state of a remediation back into the current state, with your own "
        "credentials, and record the undo. Exit 0 when undone, 1 when it cannot be (unknown id, already "
        "undone, resource deleted or changed since) or AWS refused, 2 on a usage error.",
    )
    undo.add_argument(
        "remediation_id", type=id_argument("rem-"), metavar="REMEDIATION_ID", help="the id in the alert (rem-...)"
    )
    undo.add_argument(
        "--with-exception-days",
        type=positive_int,
        metavar="N",
        help="also request and approve an exception for N days to the record's rule on its resource, so the "
        "enforcer does not revert the undo (recorded with your identity as requester and approver)",
    )
    add_exception_parser(commands)
    history = commands.add_parser(
        "history",
        help="what IAM Warden did to a resource",
        description="Every audit record of a resource (or of one CloudTrail event), oldest first.",
    )
    history.add_argument(
        "resource_arn", nargs="?", type=arn_argument, metavar="RESOURCE_ARN", help="the resource's ARN"
    )
    history.add_argument("--event", metavar="EVENT_ID", help="instead of an ARN: the records of one CloudTrail event")
    history.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json")
    redeliver = commands.add_parser(
        "redeliver",
        help="send again the alerts of a remediation that could not be delivered",
        description="Rebuild the alerts whose delivery failed (kept on the audit record) and send them to exactly "
        "the channels that failed. Exit 0 when everything is delivered, 1 when a channel still fails.",
    )
    redeliver.add_argument(
        "remediation_id",
        type=id_argument("rem-", "config-"),
        metavar="REMEDIATION_ID",
        help="the id in the alert (rem-... or config-...)",
    )
    replay = commands.add_parser(
        "replay",
        help="hand dead-lettered events back to the enforcer",
        description="Invoke the enforcer again (asynchronously) with each event in its dead-letter queue; "
        "a message is deleted only after Lambda accepted it. Exit 1 if any message was kept in the queue.",
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
    replay.add_argument("--max", type=positive_int, metavar="N", help="replay at most N messages; default: all")
    replay.add_argument("--dry-run", action="store_true", help="list what would be replayed; change nothing")
    breaker = commands.add_parser(
        "breaker",
        help="the circuit breaker and kill switch: status, or reset after a trip",
        description="status: the kill switch and the remediations counted per account in the window. "
        "reset: switch enforcement back on and forget the counted remediations (the caller is recorded "
        "in the switch's description). Exit 0 done, 1 when AWS refuses, 2 on a usage error.",
    )
    breaker.add_argument("action", choices=("status", "reset"), help="status (read only) or reset")
    add_prune_parser(commands)
    add_backtest_parser(commands)
    share_global_options(parser)  # last: every subcommand above (and any added later) takes them too
    return parser


def _evaluate(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: BinaryIO | None) -> int:
    try:
        settings = load_settings_file(args.config) if args.config else Settings()
        # IAM Warden's own roles as the deployment's environment names them (none offline: they are judged too).
        settings = settings._replace(own=own_identity_from_environment())
    except ConfigurationError as exc:
        err.write(f"iamwarden evaluate: {exc}\n")
        return EXIT_USAGE
    except SettingsError as exc:
        err.write(f"iamwarden evaluate: invalid settings in {args.config}:\n")
        for problem in exc.problems:
            err.write(f"  {problem}\n")
        return EXIT_USAGE
    directory: StaticDirectory | None = None
    if args.authorization_details:
        path = Path(args.authorization_details)
        try:
            directory = load_authorization_details(path.read_bytes())
        except OSError as exc:
            err.write(f"iamwarden evaluate: {path}: cannot read: {exc.strerror}\n")
            return EXIT_USAGE
        except AuthorizationDetailsError as exc:
            err.write(f"iamwarden evaluate: {path} is not get-account-authorization-details output: {exc}\n")
            return EXIT_USAGE
    exceptions: tuple[RuleException, ...] = ()
    if args.exceptions:
        try:
            exceptions = load_exceptions_file(Path(args.exceptions))
        except ExceptionRefused as exc:
            err.write(f"iamwarden evaluate: {args.exceptions}: {exc}\n")
            return EXIT_USAGE
    documents = None if directory is None else DetailsDocuments(directory)
    # Read everything first: a usage error must leave stdout empty, never half a report.
    contents: list[tuple[Path, bytes]] = []
    problems: list[str] = []
    for name in args.events:
        path = Path(name)
        if name == "-":
            contents.append((path, (stdin or sys.stdin.buffer).read()))
            continue
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
            judgement = judge_event(event, settings, documents, directory, exceptions=exceptions)
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


class DetailsDocuments:
    """Managed policy versions from the authorization details, for the events that carry none.

    A policy or version the file lacks is not "gone" (the rule would call that compliant): it cannot be
    read, so the rule is unjudged and says so.
    """

    def __init__(self, directory: StaticDirectory) -> None:
        self._directory = directory

    def default_version(self, account: str, policy_arn: str) -> PolicyVersion | None:
        return self._known(policy_arn, None)

    def version(self, account: str, policy_arn: str, version_id: str) -> PolicyVersion | None:
        return self._known(policy_arn, version_id)

    def policy_versions(self, account: str, policy_arn: str) -> PolicyVersions | None:
        """The versions the file lists, and its default: the one before the change, when the file predates it.
        None for a policy the file lacks (the rule then judges the event's document as it would without it)."""
        return self._directory.policy_versions(policy_arn)

    def _known(self, policy_arn: str, version_id: str | None) -> PolicyVersion:
        found = self._directory.policy_version(policy_arn, version_id)
        if found is None:
            which = f"version {version_id} of {policy_arn}" if version_id else policy_arn
            hint = (
                " (AWS-managed policies are there only when the file was made without --filter)"
                if policy_arn.split(":", 5)[4:5] == ["aws"]
                else ""
            )
            raise PermanentAwsError(
                f"{which} is not in the authorization details{hint}",
                code="NotInAuthorizationDetails",
                resource=policy_arn,
            )
        return found


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
            "certain": finding.certain,
            # What the enforcer in remediate mode would carry out: a plan, on known facts, not a break-glass change.
            "remediable": bool(finding.plan) and finding.certain and not finding.alert_only,
            "needs_context": list(finding.needs_context),
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
        if finding.needs_context:
            lines.append(f"           not certain (alert only): could not know {'; '.join(finding.needs_context)}")
        for step in finding.plan:
            lines.append(f"           {_intent(finding.mode)}: {step.summary}")
    return "\n".join(lines) + "\n"


def _intent(mode: Mode) -> str:
    return {Mode.REMEDIATE: "will", Mode.ALERT: "alert only; in remediate mode would", Mode.OFF: "off"}[mode]


def _aws_command(command: str, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run one of ``AWS_COMMANDS`` if the AWS SDK is installed; say what to install if not."""
    if not all(_installed(module) for module in _AWS_SDK):
        err.write(f"iamwarden {command}: needs boto3 (pip install boto3)\n")
        return EXIT_USAGE
    from iamwarden.app import commands  # noqa: PLC0415 - boto3 and Powertools only for the AWS commands

    return commands.run(command, args, out, err)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package is missing
        return False


def run() -> None:
    """Console-script entry point.

    A reader that stops early (``iamwarden evaluate ... | head``) closes the pipe: that is the reader's choice, not
    an error, so IAM Warden stops quietly with the shell's usual status for it instead of a traceback.
    """
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # Point stdout at /dev/null so the interpreter's own flush at exit does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(EXIT_BROKEN_PIPE) from None
    raise SystemExit(code)
