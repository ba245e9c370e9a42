"""``iamwarden prune``: show a plan now, cancel an announced one, roll back an applied one.

Runs with the caller's AWS credentials against the deployed state table
(``--table``, default ``$IAMWARDEN_PRUNE_TABLE`` or ``iamwarden-prune-state``)
and the SSM settings under ``--settings-prefix``. Exit 0 on success, 1 when
AWS or the plan's state refuses, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

from iamwarden.domain.exceptions import IamWardenError
from iamwarden.prune.domain.plan import render_diff

EXIT_OK = 0
EXIT_REFUSED = 1


def add_prune_parser(commands: Any) -> None:
    prune = commands.add_parser(
        "prune",
        help="the Access Advisor pruner: plan, cancel, rollback",
        description="Show, cancel or roll back the Access Advisor pruner's plans (uses your AWS credentials).",
    )
    prune.add_argument("--table", default=os.environ.get("IAMWARDEN_PRUNE_TABLE", "iamwarden-prune-state"))
    prune.add_argument("--settings-prefix", default=os.environ.get("IAMWARDEN_SETTINGS_PREFIX", "/iamwarden"))
    prune.add_argument("--region", default=None, help="AWS region of the stack (default: your profile's)")
    actions = prune.add_subparsers(dest="prune_command", metavar="ACTION", required=True)
    plan = actions.add_parser("plan", help="show the diff the pruner would plan for a role now (changes nothing)")
    plan.add_argument("role_arn", metavar="ROLE_ARN")
    plan.add_argument("--format", choices=("text", "json"), default="text")
    cancel = actions.add_parser("cancel", help="withdraw an announced plan before its date")
    cancel.add_argument("plan_id", metavar="PLAN_ID")
    rollback = actions.add_parser("rollback", help="give back all of an applied plan, or one service at a time")
    rollback.add_argument("plan_id", metavar="PLAN_ID")
    rollback.add_argument("--service", action="append", default=[], metavar="S", help="service prefix, e.g. s3")


def run_prune(
    args: argparse.Namespace, out: TextIO, err: TextIO, pruner_factory: Callable[..., Any] | None = None
) -> int:
    try:
        pruner = (pruner_factory or _pruner)(args)
        if args.prune_command == "plan":
            plan, skipped = pruner.preview(args.role_arn)
            if plan is None:
                out.write(f"{args.role_arn} is not pruned: {skipped}\n")
            elif args.format == "json":
                out.write(json.dumps(plan.to_dict(), default=str) + "\n")
            else:
                out.write(render_diff(plan))
        elif args.prune_command == "cancel":
            cancelled = pruner.cancel(args.plan_id, by=_caller())
            out.write(f"cancelled {cancelled.plan_id} for {cancelled.role_arn}; nothing will be removed\n")
        else:
            plan, came_back = pruner.rollback(args.plan_id, args.service)
            out.write(f"{plan.plan_id}: {plan.status.value}; came back to {plan.role_name}:\n")
            for item in came_back:
                out.write(f"  + {item}\n")
            if not came_back:
                out.write("  (nothing: already given back)\n")
    except IamWardenError as exc:
        err.write(f"iamwarden prune {args.prune_command}: {exc}\n")
        return EXIT_REFUSED
    return EXIT_OK


def _caller() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _pruner(args: argparse.Namespace) -> Any:
    from iamwarden.prune.app.wiring import build_cli_pruner  # noqa: PLC0415 - boto3 only when prune runs

    pruner, problems = build_cli_pruner(region=args.region, table=args.table, settings_prefix=args.settings_prefix)
    for problem in problems:
        sys.stderr.write(f"iamwarden prune: invalid setting, using a safe fallback: {problem}\n")
    return pruner
