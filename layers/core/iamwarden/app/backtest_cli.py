"""``iamwarden backtest``: judge a CloudTrail history as the enforcer would have, and report it.

Exit 0 when the history was judged (unreadable files and records are listed on
stderr and counted in the report, never fatal); 2 on a usage error (bad
arguments, a missing local source, invalid settings, an empty date range).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from iamwarden.app.cli_options import positive_int
from iamwarden.app.settings_file import load_settings_file
from iamwarden.backtest.adapters.athena import AthenaError, AthenaHistory, athena_sql
from iamwarden.backtest.adapters.s3 import S3History, parse_s3_url
from iamwarden.backtest.app.run import (
    Judging,
    Progress,
    Result,
    Source,
    default_jobs,
    judge_events,
    judge_sources,
    local_files,
    show_progress,
)
from iamwarden.backtest.domain.authorization import AuthorizationDetails, AuthorizationDetailsError
from iamwarden.backtest.domain.html import render_html
from iamwarden.backtest.domain.records import DateRange, Problem
from iamwarden.backtest.domain.report import Report, compare, jsonl_rows, render_summary
from iamwarden.domain.exceptions import SettingsError, SettingsProblem
from iamwarden.domain.settings import Settings, settings_from_parameters

EXIT_OK = 0
EXIT_USAGE = 2
DEFAULT_PREFIX = "/iamwarden"


class UsageError(Exception):
    """A problem with the command line or its files: one message, exit 2."""


def add_backtest_parser(commands: Any) -> None:
    backtest = commands.add_parser(
        "backtest",
        help="what IAM Warden would have done on a CloudTrail history",
        description="Judge every in-scope event of a CloudTrail history exactly as the enforcer would, acting on "
        "nothing, and report per rule what would have been remediated or alerted. SOURCE is a CloudTrail log file "
        "or folder tree (gzipped JSON as CloudTrail writes it), an s3://bucket/prefix of CloudTrail logs, Athena "
        "or CloudTrail Lake query results (.csv, .jsonl), or single CloudTrail records and EventBridge events "
        "(.json). Exit 0 when judged (unreadable input is listed on stderr and counted), 2 on a usage error.",
    )
    backtest.add_argument("sources", nargs="*", metavar="SOURCE", help="files, folders or s3:// prefixes")
    settings = backtest.add_mutually_exclusive_group()
    settings.add_argument("--config", metavar="FILE", help="settings file (YAML or JSON); default: built-in defaults")
    settings.add_argument("--ssm", action="store_true", help="read the deployed settings from SSM (--ssm-prefix)")
    backtest.add_argument(
        "--ssm-prefix",
        metavar="PREFIX",
        help=f"SSM settings prefix; default: $IAMWARDEN_SETTINGS_PREFIX or {DEFAULT_PREFIX}",
    )
    backtest.add_argument("--since", type=_day, metavar="YYYY-MM-DD", help="first day (UTC) to judge")
    backtest.add_argument("--until", type=_day, metavar="YYYY-MM-DD", help="last day (UTC) to judge, inclusive")
    backtest.add_argument("--compare", metavar="OTHER_CONFIG", help="also judge with these settings; show the changes")
    backtest.add_argument(
        "--authorization-details",
        action="append",
        metavar="FILE",
        help="output of aws iam get-account-authorization-details: judge customer-managed policies with it",
    )
    backtest.add_argument("--jsonl", metavar="FILE", help="write every finding as JSON lines")
    backtest.add_argument("--html", metavar="FILE", help="write a self-contained HTML report")
    backtest.add_argument("--top", type=positive_int, default=10, metavar="N", help="rows per summary table (10)")
    backtest.add_argument("--jobs", type=positive_int, metavar="N", help="worker processes; default: one per core")
    backtest.add_argument("--progress", action="store_true", help="show a progress bar even when not on a terminal")
    athena = backtest.add_argument_group("Athena: pre-filter an organisation's CloudTrail table in Amazon Athena")
    athena.add_argument("--athena", action="store_true", help="query the CloudTrail table instead of reading files")
    athena.add_argument("--athena-table", default="default.cloudtrail_logs", metavar="DB.TABLE", help="the table")
    athena.add_argument("--athena-workgroup", default="primary", metavar="NAME", help="workgroup (primary)")
    athena.add_argument("--athena-output", metavar="S3_URL", help="query result location, if the workgroup has none")
    athena.add_argument(
        "--athena-date-partition",
        default="timestamp",
        metavar="COLUMN",
        help="partition column holding yyyy/MM/dd (partition projection; default timestamp); '' if unpartitioned",
    )
    athena.add_argument(
        "--print-sql", action="store_true", help="print the Athena query (for --since/--until) and exit"
    )


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def run_backtest(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        return _run(args, out, err)
    except UsageError as exc:
        err.write(f"iamwarden backtest: {exc}\n")
        return EXIT_USAGE


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    dates = DateRange(args.since, args.until)
    if dates.problem():
        raise UsageError(dates.problem())
    if args.sources and args.athena:
        raise UsageError("give either SOURCEs or --athena, not both")
    if not args.sources and not args.athena and not args.print_sql:
        raise UsageError("give at least one SOURCE (a file, folder or s3:// prefix), or --athena")
    prefix = args.ssm_prefix or os.environ.get("IAMWARDEN_SETTINGS_PREFIX") or DEFAULT_PREFIX
    if args.print_sql:
        try:
            out.write(athena_sql(args.athena_table, dates, args.athena_date_partition) + "\n")
        except AthenaError as exc:
            raise UsageError(str(exc)) from None
        return EXIT_OK
    settings, settings_name = _settings(args, prefix, err)
    other = _settings_file(args.compare) if args.compare else None
    documents = _authorization_details(args.authorization_details)
    judging = Judging(settings, other, documents, dates)

    if args.athena:
        result = _athena(args, judging, dates, err)
        sources_names: tuple[str, ...] = (f"Athena table {args.athena_table}",)
    else:
        sources, history, listing_problems = _sources(args, dates)
        progress = Progress(err, len(sources)) if show_progress(args.progress, err) else None
        result = judge_sources(sources, judging, jobs=args.jobs or default_jobs(), history=history, progress=progress)
        if progress is not None:
            progress.finish()
        result.problems[:0] = listing_problems
        sources_names = tuple(args.sources)
    report = _report(
        result, args, settings_name=settings_name, sources=sources_names, prefix=prefix, documents=documents
    )
    for problem in report.problems:
        err.write(f"iamwarden backtest: {problem}\n")
    out.write(render_summary(report, limit=args.top))
    if args.jsonl:
        _write(args.jsonl, "".join(json.dumps(row) + "\n" for row in jsonl_rows(report)))
        out.write(f"\nEvery finding: {args.jsonl}\n")
    if args.html:
        _write(args.html, render_html(report))
        out.write(f"{'' if args.jsonl else chr(10)}HTML report: {args.html}\n")
    return EXIT_OK


def _report(
    result: Result,
    args: argparse.Namespace,
    *,
    settings_name: str,
    sources: tuple[str, ...],
    prefix: str,
    documents: AuthorizationDetails | None,
) -> Report:
    rows = sorted(result.rows, key=lambda row: (row.time, row.event_id, row.rule))
    comparison = None
    if args.compare:
        other_rows = sorted(result.other_rows, key=lambda row: (row.time, row.event_id, row.rule))
        comparison = compare(rows, other_rows, args.compare)
    if documents is None:
        notes = (
            "customer-managed policies are judged only with --authorization-details; without it such findings "
            "are 'needs context', never counted as would remediate",
        )
    else:
        accounts = ", ".join(sorted(documents.accounts)) or "no account"
        notes = (
            f"customer-managed policies judged on --authorization-details ({len(documents)} policies of "
            f"{accounts}, as they were when the snapshot was taken); other accounts' are 'needs context'",
        )
    return Report(
        settings=settings_name,
        sources=sources,
        counts=result.counts,
        verdicts=result.verdicts,
        rows=rows,
        problems=result.problems,
        prefix=prefix,
        comparison=comparison,
        notes=notes,
    )


def _write(path: str, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


# --- settings ---------------------------------------------------------------------------------


def _settings(args: argparse.Namespace, prefix: str, err: TextIO) -> tuple[Settings, str]:
    if args.config:
        return _settings_file(args.config), args.config
    if args.ssm:
        return _ssm_settings(args, prefix, err), f"the SSM settings under {prefix}"
    return Settings(), "the built-in default settings"


def _settings_file(path: str) -> Settings:
    try:
        return load_settings_file(path)
    except SettingsError as exc:
        lines = [f"invalid settings in {path}:"]
        lines.extend(f"  {_where(path, problem)}" for problem in exc.problems)
        raise UsageError("\n".join(lines)) from None


def _where(path: str, problem: SettingsProblem) -> str:
    """A settings problem with the line of the file it is on, when the key can be found there."""
    key = problem.key.rstrip("/").rsplit("/", 1)[-1]
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return str(problem)
    for number, line in enumerate(lines, 1):
        stripped = line.strip().strip('"').strip("'")
        if key and (stripped.startswith((f"{key}:", f'{key}":', f"{key}':"))):
            return f"{path}:{number}: {problem}"
    return str(problem)


def _ssm_settings(args: argparse.Namespace, prefix: str, err: TextIO) -> Settings:
    """The deployed settings, parsed as the enforcer parses them (invalid rules fall back as they do there)."""
    from iamwarden.backtest.adapters import aws  # noqa: PLC0415 - boto3 only for --ssm, s3:// and --athena

    try:
        parameters = aws.ssm_parameters(args.region, prefix)
    except aws.SettingsReadError as exc:
        raise UsageError(str(exc)) from None
    settings, problems = settings_from_parameters(parameters, prefix)
    for problem in problems:
        err.write(f"iamwarden backtest: SSM setting {prefix.rstrip('/')}/{problem}\n")
    return settings


def _authorization_details(paths: Sequence[str] | None) -> AuthorizationDetails | None:
    if not paths:
        return None
    try:
        return AuthorizationDetails.from_files(paths)
    except AuthorizationDetailsError as exc:
        raise UsageError(str(exc)) from None


# --- sources ----------------------------------------------------------------------------------


def _sources(args: argparse.Namespace, dates: DateRange) -> tuple[list[Source], Any, list[Problem]]:
    local = [name for name in args.sources if not name.startswith("s3://")]
    missing = [name for name in local if not Path(name).exists()]
    if missing:
        raise UsageError("; ".join(f"{name}: no such file or folder" for name in missing))
    sources = [Source(path) for name in local for path in local_files(name, dates)]
    remote = [name for name in args.sources if name.startswith("s3://")]
    problems: list[Problem] = []
    history = None
    if remote:
        from iamwarden.backtest.adapters import aws  # noqa: PLC0415 - boto3 only for --ssm, s3:// and --athena

        for url in remote:
            try:
                parse_s3_url(url)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
        try:
            history = S3History(aws.client("s3", args.region))
        except aws.SettingsReadError as exc:
            raise UsageError(str(exc)) from None
        for url in remote:
            sources.extend(Source(item.url, item) for item in history.objects(url, dates, problems))
    return sources, history, problems


def _athena(args: argparse.Namespace, judging: Judging, dates: DateRange, err: TextIO) -> Result:
    from iamwarden.backtest.adapters import aws  # noqa: PLC0415 - boto3 only for --ssm, s3:// and --athena

    try:
        athena = aws.client("athena", args.region)
    except aws.SettingsReadError as exc:
        raise UsageError(str(exc)) from None
    history = AthenaHistory(athena, workgroup=args.athena_workgroup, output=args.athena_output)
    try:
        query = history.run(args.athena_table, dates, args.athena_date_partition)
    except AthenaError as exc:
        raise UsageError(str(exc)) from None
    err.write(f"iamwarden backtest: Athena query {query.execution_id}: {query.describe_cost()}\n")
    result = judge_events(query.events, judging)
    result.problems[:0] = query.problems
    result.counts.update(query.counts)
    return result
