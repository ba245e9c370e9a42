"""``iamwarden exception request|approve|list|revoke``: time-boxed rule exceptions from the command line.

The parser and the offline file reader (``iamwarden evaluate --exceptions``) need no AWS SDK; the commands run
through ``iamwarden.app.commands`` (boto3) and the one ``ExceptionDesk``. Who you are comes from STS
GetCallerIdentity, as for ``iamwarden undo``; who may approve is whoever IAM lets write the table, except the
requester (four eyes) and, for the persistence and evasion rules, anyone not in the operators setting.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from iamwarden.app.cli_options import Exit, id_argument, positive_int
from iamwarden.domain.exceptions import ExceptionRefused
from iamwarden.domain.rule_exceptions import ExceptionScope, RuleException, exception_from_dict, exception_summary

if TYPE_CHECKING:
    from iamwarden.app.exception_desk import ExceptionDesk


def add_exception_parser(commands: Any) -> None:
    exception = commands.add_parser(
        "exception",
        help="request, approve, list or revoke a time-boxed exception to a rule",
        description="A rule exception exempts one rule's findings on resources (or by actors) that one ARN "
        "pattern names, from its approval until it expires (exceptions/default_days, at most "
        "exceptions/max_days). Every step is recorded in the audit table with your identity, and every approval is "
        "announced to the security channel. Nobody approves their own request (sessions of one role are one "
        "person), and exceptions to the persistence and evasion rules need an approver in "
        "rules/iamwarden-tampered/operators. Exit 0 done, 1 when the exception's state does not allow it "
        "(approved already, revoked), you may not approve it, or AWS refused, 2 on bad input.",
    )
    actions = exception.add_subparsers(
        dest="exception_action", metavar="ACTION", required=True, help="request, approve, revoke or list"
    )
    request = actions.add_parser("request", help="ask for an exception (it exempts nothing until approved)")
    request.add_argument("--rule", required=True, metavar="RULE", help="the rule id, e.g. bucket-policy-public")
    scope = request.add_mutually_exclusive_group(required=True)
    scope.add_argument("--resource", metavar="PATTERN", help="ARN pattern of the resources it exempts")
    scope.add_argument("--actor", metavar="PATTERN", help="ARN pattern of the actors (or their roles) it exempts")
    request.add_argument(
        "--literal",
        action="store_true",
        help="--resource is one resource's ARN exactly: * and ? in it (legal in S3 object keys) are no wildcards",
    )
    request.add_argument("--reason", required=True, metavar="TEXT", help="why the rule should not apply")
    request.add_argument(
        "--days", type=positive_int, metavar="N", help="how long, once approved; default: exceptions/default_days"
    )
    approve = actions.add_parser("approve", help="approve a requested exception: it exempts from now on")
    approve.add_argument(
        "exception_id", type=id_argument("exc-"), metavar="EXCEPTION_ID", help="the id the request printed (exc-...)"
    )
    revoke = actions.add_parser("revoke", help="end a requested or approved exception now")
    revoke.add_argument(
        "exception_id", type=id_argument("exc-"), metavar="EXCEPTION_ID", help="the exception's id (exc-...)"
    )
    listing = actions.add_parser("list", help="the requested and approved exceptions")
    listing.add_argument("--all", action="store_true", help="also the revoked and expired ones")
    listing.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json")


def run_exception(desk: ExceptionDesk, args: argparse.Namespace, who: str, out: TextIO) -> int:
    action = args.exception_action
    if action == "request":
        scope = ExceptionScope(
            args.rule, resource_pattern=args.resource, actor_pattern=args.actor, literal=bool(args.literal)
        )
        requested = desk.request(scope, args.reason, who, args.days)
        out.write(
            f"Requested {requested.exception_id}: {requested.scope.describe()} for {requested.days} days once "
            f"approved.\n  approve it with: iamwarden exception approve {requested.exception_id}\n"
        )
    elif action == "approve":
        approved = desk.approve(args.exception_id, who)
        out.write(f"Approved {approved.describe()}.\n")
        for failed in desk.notice_failures:
            out.write(
                f"  WARNING: the approval notice did not reach {failed.channel} ({failed.error}); "
                "tell the security team yourself.\n"
            )
    elif action == "revoke":
        revoked = desk.revoke(args.exception_id, who)
        out.write(f"Revoked {revoked.exception_id} ({revoked.scope.describe()}); it exempts nothing from now on.\n")
    else:
        exceptions = desk.list(include_inactive=args.all)
        if args.format == "json":
            out.write(json.dumps([exception_summary(e) for e in exceptions], indent=2) + "\n")
        else:
            out.write(render_exceptions(exceptions))
    return Exit.OK


def render_exceptions(exceptions: list[RuleException]) -> str:
    if not exceptions:
        return "No exceptions.\n"
    blocks = []
    for exception in exceptions:
        lines = [f"{exception.exception_id}  {exception.status.value.upper():<9} {exception.scope.describe()}"]
        lines.append(f"  reason:      {exception.reason}")
        lines.append(f"  requested:   {exception.requested_at.isoformat()} by {exception.requester}")
        if exception.approver:
            approved_at = exception.approved_at.isoformat() if exception.approved_at else "?"
            lines.append(f"  approved:    {approved_at} by {exception.approver}")
        if exception.expires_at:
            lines.append(f"  expires:     {exception.expires_at.isoformat()}")
        else:
            lines.append(f"  lasts:       {exception.days} days once approved")
        if exception.ended_by:
            ended_at = exception.ended_at.isoformat() if exception.ended_at else "?"
            lines.append(f"  ended:       {ended_at} by {exception.ended_by}")
        if exception.source_remediation_id:
            lines.append(f"  for undo of: {exception.source_remediation_id}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def load_exceptions_file(path: Path) -> tuple[RuleException, ...]:
    """A JSON list of exceptions (``iamwarden exception list --format json``); every problem is ExceptionRefused."""
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise ExceptionRefused(f"cannot read: {exc.strerror}") from None
    except ValueError as exc:
        raise ExceptionRefused(f"not JSON: {exc}") from None
    if not isinstance(data, list):
        raise ExceptionRefused("must be a JSON list of exceptions")
    found = []
    for index, item in enumerate(data):
        try:
            found.append(exception_from_dict(item))
        except ExceptionRefused as exc:
            raise ExceptionRefused(f"exception [{index}]: {exc}") from None
    return tuple(found)
