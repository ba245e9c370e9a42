"""What every ``iamwarden`` command shares: global options, argument checks, exit codes, AWS errors.

Global options (``--region``, ``--audit-table``, ``--prune-table``/``--table``,
``--settings-prefix``) are accepted before or after the subcommand:
``share_global_options`` copies them onto every subcommand (at any depth)
with ``default=argparse.SUPPRESS``, so a value given before the subcommand is
not overwritten by the subcommand's copy. A subcommand added with
``commands.add_parser(...)`` gets them without doing anything.

Exit codes are one contract for every command (documented in the README):
0 done, 1 the operation failed (AWS refused, the state does not allow it,
a delivery failed again), 2 the command could not run as given (usage, an
invalid argument or input, no credentials or region, a table that is not
there). ``run_against_aws`` turns every AWS or IAM Warden error into one
line on stderr with the right code, never a traceback or a raw request.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterator
from enum import IntEnum
from typing import Any, NamedTuple, TextIO

from iamwarden.adapters.errors import NO_REGION, describe, error_code
from iamwarden.domain.arns import parse_role_arn
from iamwarden.domain.exceptions import (
    ConfigurationError,
    ExceptionConflict,
    ExceptionNotAllowed,
    ExceptionRefused,
    IamWardenError,
    SettingsError,
)


class Exit(IntEnum):
    OK = 0
    FAILED = 1  # the operation ran and failed or was refused
    USAGE = 2  # the command could not run as given: arguments, input, credentials, region, a missing table


AUDIT_TABLE_DEFAULT = "iamwarden-audit"
PRUNE_TABLE_DEFAULT = "iamwarden-prune-state"
SETTINGS_PREFIX_DEFAULT = "/iamwarden"


class GlobalOption(NamedTuple):
    flags: tuple[str, ...]
    dest: str
    metavar: str
    help: str


GLOBAL_OPTIONS = (
    GlobalOption(("--region",), "region", "REGION", "AWS region of the IAM Warden stack; default: your profile's"),
    GlobalOption(
        ("--audit-table",),
        "audit_table",
        "NAME",
        f"audit table (undo, history, redeliver); default: $IAMWARDEN_AUDIT_TABLE or {AUDIT_TABLE_DEFAULT}",
    ),
    GlobalOption(
        ("--prune-table", "--table"),
        "prune_table",
        "NAME",
        f"the pruner's state table (prune); default: $IAMWARDEN_PRUNE_TABLE or {PRUNE_TABLE_DEFAULT}",
    ),
    GlobalOption(
        ("--exceptions-table",),
        "exceptions_table",
        "NAME",
        "rule exceptions' table (exception, undo --with-exception-days); "
        "default: $IAMWARDEN_EXCEPTIONS_TABLE or iamwarden-exceptions",
    ),
    GlobalOption(
        ("--settings-prefix",),
        "settings_prefix",
        "PREFIX",
        f"SSM prefix of the settings; default: $IAMWARDEN_SETTINGS_PREFIX or {SETTINGS_PREFIX_DEFAULT}",
    ),
)


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """The global options on the top-level parser, where they default to None (resolved at run time)."""
    group = parser.add_argument_group("global options (before or after the command)")
    for option in GLOBAL_OPTIONS:
        group.add_argument(*option.flags, dest=option.dest, metavar=option.metavar, default=None, help=option.help)


def share_global_options(parser: argparse.ArgumentParser) -> None:
    """Copy the global options onto every subcommand below ``parser`` that does not define them itself."""
    for subparser in _subparsers(parser):
        group = subparser.add_argument_group("global options")
        for option in GLOBAL_OPTIONS:
            flags = [flag for flag in option.flags if flag not in subparser._option_string_actions]
            if flags:
                group.add_argument(
                    *flags, dest=option.dest, metavar=option.metavar, default=argparse.SUPPRESS, help=option.help
                )
        share_global_options(subparser)


def _subparsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from dict.fromkeys(action.choices.values())  # aliases map to the same parser


def walk_actions(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.Action]]:
    """Every argument of ``parser`` and its subcommands, with the command path: for checks and tests."""
    yield from ((parser.prog, action) for action in parser._actions)
    for subparser in _subparsers(parser):
        yield from walk_actions(subparser)


# --- resolved values


def audit_table(args: argparse.Namespace) -> str:
    return getattr(args, "audit_table", None) or os.environ.get("IAMWARDEN_AUDIT_TABLE") or AUDIT_TABLE_DEFAULT


def prune_table(args: argparse.Namespace) -> str:
    return getattr(args, "prune_table", None) or os.environ.get("IAMWARDEN_PRUNE_TABLE") or PRUNE_TABLE_DEFAULT


def settings_prefix(args: argparse.Namespace) -> str:
    return (
        getattr(args, "settings_prefix", None) or os.environ.get("IAMWARDEN_SETTINGS_PREFIX") or SETTINGS_PREFIX_DEFAULT
    )


# --- argument types: checked while parsing, before any credentials are needed


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def arn_argument(text: str) -> str:
    """An ARN (``arn:partition:service:region:account:resource``)."""
    fields = text.split(":", 5)
    if len(fields) != 6 or fields[0] != "arn" or not fields[1] or not fields[2] or not fields[5]:
        raise argparse.ArgumentTypeError(
            f"not an ARN: {text!r} (expected arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE, "
            "e.g. arn:aws:iam::111122223333:user/alice or arn:aws:s3:::my-bucket)"
        )
    return text


def role_arn_argument(text: str) -> str:
    """An IAM role ARN (``arn:aws:iam::ACCOUNT:role/NAME``)."""
    if parse_role_arn(text) is None:
        raise argparse.ArgumentTypeError(f"not an IAM role ARN: {text!r} (expected arn:aws:iam::ACCOUNT:role/NAME)")
    return text


def id_argument(*prefixes: str) -> Callable[[str], str]:
    """An id that starts with one of ``prefixes`` (``rem-``, ``prune-``...), as alerts and notices print it."""

    def check(text: str) -> str:
        if not any(text.startswith(prefix) and len(text) > len(prefix) for prefix in prefixes):
            raise argparse.ArgumentTypeError(
                f"not an id IAM Warden gives out: {text!r} (it starts with {' or '.join(prefixes)})"
            )
        return text

    check.__name__ = "id"
    return check


def caller_arn(clients: Any) -> str | None:
    """Who is running the command (a ``ClientFactory``'s STS identity), for the record; None if STS cannot say."""
    try:
        return str(clients.home_client("sts").get_caller_identity()["Arn"])
    except (KeyError, IamWardenError):
        return None
    except Exception as exc:
        if _is_botocore(exc):  # no credentials surface again, and clearly, on the command's own call
            return None
        raise


# --- AWS and IAM Warden errors


class TableHint(NamedTuple):
    """The table a command reads, and how to point it elsewhere, for "table not found"."""

    name: str
    option: str
    variable: str


_CREDENTIAL_CLASSES = frozenset({"NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"})
_CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
    }
)


def run_against_aws(command: str, err: TextIO, action: Callable[[], int], *, table: TableHint | None = None) -> int:
    """Run ``action``; any IAM Warden or AWS error is one line on stderr and exit 1 or 2."""
    try:
        return action()
    except Exception as exc:
        if isinstance(exc, ImportError) and (exc.name or "").partition(".")[0] in ("boto3", "botocore"):
            err.write(f"iamwarden {command}: needs boto3 (pip install boto3)\n")
            return Exit.USAGE
        usage = usage_problem(exc, table)
        if usage is not None:
            err.write(f"iamwarden {command}: {usage}\n")
            return Exit.USAGE
        if isinstance(exc, IamWardenError):
            err.write(f"iamwarden {command}: {one_line(str(exc))}\n")
            return Exit.FAILED
        if _is_botocore(exc):
            err.write(f"iamwarden {command}: AWS error: {describe(exc)}\n")
            return Exit.FAILED
        raise


def usage_problem(exc: BaseException, table: TableHint | None) -> str | None:
    """Why the command could not run as given (credentials, region, profile, table), or None."""
    if isinstance(exc, ConfigurationError | SettingsError):
        return one_line(str(exc))
    if isinstance(exc, ExceptionRefused) and not isinstance(exc, ExceptionConflict | ExceptionNotAllowed):
        return one_line(str(exc))  # bad input to `iamwarden exception`: unknown rule or id, too many days
    for cause in _causes(exc):
        names = {cls.__name__ for cls in type(cause).__mro__}
        code = error_code(cause)
        if names & _CREDENTIAL_CLASSES:
            return (
                "no AWS credentials found: sign in (aws sso login, aws configure) "
                "or set AWS_PROFILE, then run the command again"
            )
        if code in _CREDENTIAL_CODES:
            return f"AWS refused your credentials ({describe(cause)}): sign in again, then run the command again"
        if "NoRegionError" in names:
            return NO_REGION
        if "ProfileNotFound" in names:
            return f"{one_line(str(cause))}: check AWS_PROFILE and your AWS configuration (aws configure list-profiles)"
        if code == "ResourceNotFoundException" and table is not None:
            return (
                f"table {table.name} not found in this account and region: "
                f"set the table with {table.option} NAME (or ${table.variable}) and the region with --region"
            )
    return None


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _is_botocore(exc: BaseException) -> bool:
    return any(cls.__module__.startswith("botocore") for cls in type(exc).__mro__)


def one_line(text: str) -> str:
    return " ".join(text.split())
