"""``iamwarden``: the command line for people operating IAM Warden.

``iamwarden evaluate`` judges CloudTrail events offline, exactly as the
enforcer would, so a change can be checked before it is made and a settings
file can be tried before it goes into SSM.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from iamwarden import __version__
from iamwarden.catalog import Mode
from iamwarden.engine import judge_event
from iamwarden.exceptions import SettingsError
from iamwarden.findings import Judgement, Verdict
from iamwarden.settings import Settings, load_settings_file

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
    if args.command == "prune":
        from iamwarden.prune.cli import run_prune  # noqa: PLC0415 - boto3 and the catalogue only for prune

        return run_prune(args, out, err)
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
    evaluate.add_argument("events", nargs="+", metavar="EVENT_FILE", help="EventBridge event JSON files")
    from iamwarden.prune.cli import add_prune_parser  # noqa: PLC0415 - keeps the pruner's CLI in its package

    add_prune_parser(commands)
    return parser


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
    for path, content in contents:
        judgement = judge_event(content, settings)
        counts[judgement.verdict] += 1
        if args.format == "json":
            for line in judgement_lines(str(path), judgement):
                out.write(json.dumps(line, sort_keys=False) + "\n")
        else:
            out.write(render_text(str(path), judgement))
    if args.format == "text":
        summary = ", ".join(f"{counts[v]} {v.value}" for v in Verdict if counts[v])
        out.write(f"\n{len(contents)} event{'s' if len(contents) != 1 else ''} judged: {summary}\n")
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


def run() -> None:
    """Console-script entry point."""
    raise SystemExit(main())
