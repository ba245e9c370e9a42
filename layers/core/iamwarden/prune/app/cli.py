"""``iamwarden prune``: show a plan now, cancel an announced one, roll back an applied one.

Runs with the caller's AWS credentials against the deployed state table
(``--prune-table``/``--table``, default ``$IAMWARDEN_PRUNE_TABLE`` or
``iamwarden-prune-state``) and the SSM settings under ``--settings-prefix``;
both are global options, accepted anywhere on the line. Exit codes are the
command line's: 0 done, 1 AWS or the plan's state refused, 2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

from iamwarden.app.cli_options import (
    Exit,
    TableHint,
    id_argument,
    prune_table,
    role_arn_argument,
    run_against_aws,
    settings_prefix,
)
from iamwarden.prune.domain.plan import render_diff

EXIT_OK = Exit.OK
EXIT_REFUSED = Exit.FAILED


def add_prune_parser(commands: Any) -> None:
    prune = commands.add_parser(
        "prune",
        help="the Access Advisor pruner: plan, cancel, rollback",
        description="Show, cancel or roll back the Access Advisor pruner's plans (uses your AWS credentials).",
    )
    actions = prune.add_subparsers(dest="prune_command", metavar="ACTION", required=True, help="what to do")
    plan = actions.add_parser("plan", help="show the diff the pruner would plan for a role now (changes nothing)")
    plan.add_argument("role_arn", type=role_arn_argument, metavar="ROLE_ARN", help="the role's ARN")
    plan.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json")
    cancel = actions.add_parser("cancel", help="withdraw an announced plan before its date")
    cancel.add_argument(
        "plan_id", type=id_argument("prune-"), metavar="PLAN_ID", help="the id in the notice (prune-...)"
    )
    rollback = actions.add_parser("rollback", help="give back all of an applied plan, or one service at a time")
    rollback.add_argument(
        "plan_id", type=id_argument("prune-"), metavar="PLAN_ID", help="the id in the notice (prune-...)"
    )
    rollback.add_argument(
        "--service", action="append", default=[], metavar="S", help="service prefix, e.g. s3; repeat for more"
    )


def run_prune(
    args: argparse.Namespace, out: TextIO, err: TextIO, pruner_factory: Callable[..., Any] | None = None
) -> int:
    command = f"prune {args.prune_command}"
    table = TableHint(prune_table(args), "--prune-table", "IAMWARDEN_PRUNE_TABLE")
    return run_against_aws(command, err, lambda: _run(args, out, pruner_factory), table=table)


def _run(args: argparse.Namespace, out: TextIO, pruner_factory: Callable[..., Any] | None) -> int:
    pruner = (pruner_factory or _pruner)(args)
    caller = _caller(args) if args.prune_command in ("cancel", "rollback") else None
    if args.prune_command == "plan":
        plan, skipped = pruner.preview(args.role_arn)
        if plan is None:
            out.write(f"{args.role_arn} is not pruned: {skipped}\n")
        elif args.format == "json":
            out.write(json.dumps(plan.to_dict(), default=str) + "\n")
        else:
            out.write(render_diff(plan))
    elif args.prune_command == "cancel":
        cancelled = pruner.cancel(args.plan_id, by=caller or "an unknown caller (STS did not say)")
        out.write(f"cancelled {cancelled.plan_id} for {cancelled.role_arn}; nothing will be removed\n")
    else:
        plan, came_back = pruner.rollback(args.plan_id, args.service, by=caller)
        out.write(f"{plan.plan_id}: {plan.status.value}; came back to {plan.role_name}:\n")
        for item in came_back:
            out.write(f"  + {item}\n")
        if not came_back:
            out.write("  (nothing: already given back)\n")
    return EXIT_OK


def _caller(args: argparse.Namespace) -> str | None:
    """The caller's ARN from STS, recorded on the plan as ``undo`` records it on the audit trail."""
    from iamwarden.prune.app import wiring  # noqa: PLC0415 - boto3 only when prune runs

    return wiring.cli_caller_arn(args.region)


def _pruner(args: argparse.Namespace) -> Any:
    from iamwarden.prune.app import wiring  # noqa: PLC0415 - boto3 only when prune runs

    pruner, problems = wiring.build_cli_pruner(
        region=args.region, table=prune_table(args), settings_prefix=settings_prefix(args)
    )
    for problem in problems:
        sys.stderr.write(f"iamwarden prune: invalid setting, using a safe fallback: {problem}\n")
    return pruner
