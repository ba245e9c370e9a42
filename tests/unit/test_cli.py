"""``iamwarden evaluate``: output formats, exit codes and usage errors."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from iamwarden.app.cli import main
from tests.conftest import EVENTS_DIR, EXAMPLE_SETTINGS


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_json_lines_one_per_finding_or_event() -> None:
    files = [
        str(EVENTS_DIR / name)
        for name in ("attach-admin-to-role.json", "bucket-policy-public-and-vendor.json", "malformed-not-json.json")
    ]
    code, out, _ = run("evaluate", *files)
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(Path(line["event"]).name, line["verdict"], line["rule"]) for line in lines] == [
        ("attach-admin-to-role.json", "violation", "managed-policy-attached"),
        ("bucket-policy-public-and-vendor.json", "violation", "s3-bucket-policy-public"),
        ("bucket-policy-public-and-vendor.json", "violation", "s3-bucket-policy-cross-account"),
        ("malformed-not-json.json", "invalid", None),
    ]
    admin = lines[0]
    assert admin["severity"] == "critical"
    assert admin["resource"] == "arn:aws:iam::111122223333:role/app-backend"
    assert admin["plan"][0]["action"] == "detach_managed_policy"
    assert "AdministratorAccess" in admin["reason"]
    assert {"event", "verdict", "rule", "severity", "reason", "resource", "plan"} <= set(lines[-1])
    assert lines[-1]["plan"] == []
    assert "not JSON" in lines[-1]["reason"]


def test_json_says_whether_remediate_mode_would_carry_out_the_plan() -> None:
    """``remediable``: a plan on known facts by a principal not in break-glass; ``alert_only`` is break-glass only."""
    files = [
        str(EVENTS_DIR / name)
        for name in ("create-user-backdoor-cli.json", "add-user-to-admin-group.json", "create-user-break-glass.json")
    ]
    _, out, _ = run("evaluate", "--config", str(EXAMPLE_SETTINGS), *files)
    lines = {Path(line["event"]).name: line for line in map(json.loads, out.splitlines())}

    certain, unknown, break_glass = (lines[Path(name).name] for name in files)
    assert (certain["certain"], certain["alert_only"], certain["remediable"]) == (True, False, True)
    assert unknown["needs_context"], "offline, what the group grants is not known"
    assert (unknown["certain"], unknown["alert_only"], unknown["remediable"]) == (False, False, False)
    assert (break_glass["alert_only"], break_glass["remediable"]) == (True, False)


def test_text_format_reads_as_a_report_with_a_summary() -> None:
    code, out, _ = run(
        "evaluate",
        "--format",
        "text",
        "--config",
        str(EXAMPLE_SETTINGS),
        str(EVENTS_DIR / "create-user-backdoor-cli.json"),
        str(EVENTS_DIR / "create-user-break-glass.json"),
    )
    assert code == 0
    assert "VIOLATION  HIGH      iam-user-created" in out
    assert "will: quarantine user backdoor-admin" in out  # remediate mode in the example settings
    assert "break-glass principal" in out
    assert out.rstrip().endswith("2 events judged: 1 violation, 1 ignored")


def test_alert_mode_says_what_remediate_mode_would_do() -> None:
    _, out, _ = run("evaluate", "--format", "text", str(EVENTS_DIR / "attach-admin-to-role.json"))
    assert "alert only; in remediate mode would: detach AdministratorAccess from role app-backend" in out


def test_a_missing_event_file_is_a_usage_error_and_nothing_is_judged(tmp_path: Path) -> None:
    code, out, err = run("evaluate", str(EVENTS_DIR / "attach-admin-to-role.json"), str(tmp_path / "nope.json"))
    assert code == 2
    assert out == ""
    assert "nope.json: no such file" in err


def test_an_invalid_settings_file_is_a_usage_error_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("rules:\n  iam-user-created:\n    mode: enforce\n")
    code, out, err = run("evaluate", "--config", str(config), str(EVENTS_DIR / "attach-admin-to-role.json"))
    assert code == 2
    assert out == ""
    assert "rules/iam-user-created/mode: must be one of off, alert, remediate" in err


def test_usage_errors_exit_2() -> None:
    assert run()[0] == 2
    assert run("evaluate")[0] == 2
    assert run("evaluate", "--format", "xml", "x.json")[0] == 2
    assert run("frobnicate")[0] == 2


def test_console_script_is_installed_in_the_virtual_environment() -> None:
    """It judges the enforcer's own role as the deployment's environment names it, and without it, judges it."""
    script = Path(sys.executable).parent / "iamwarden"
    own = "enforcer=arn:aws:iam::111122223333:role/iamwarden-enforcer-us-east-1"
    verdicts = {}
    deployed = {"IAMWARDEN_OWN_ROLE_ARNS": own, "IAMWARDEN_OWN_FUNCTION_ROLES": "iamwarden-enforcer=enforcer"}
    for name, environment in {"deployed": deployed, "offline": {}}.items():
        env = {key: value for key, value in os.environ.items() if not key.startswith("IAMWARDEN_")}
        result = subprocess.run(
            [str(script), "evaluate", str(EVENTS_DIR / "create-user-by-warden.json")],
            capture_output=True,
            text=True,
            check=False,
            env={**env, **environment},
        )
        assert result.returncode == 0, result.stderr
        verdicts[name] = json.loads(result.stdout)["verdict"]
    assert verdicts == {"deployed": "ignored", "offline": "violation"}


def test_evaluate_refuses_an_own_role_list_it_cannot_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IAMWARDEN_OWN_ROLE_ARNS", "iamwarden-*")
    code, out, err = run("evaluate", str(EVENTS_DIR / "create-user-by-warden.json"))
    assert code == 2
    assert out == ""
    assert "IAMWARDEN_OWN_ROLE_ARNS" in err


def test_a_directory_or_unreadable_event_file_is_a_usage_error(tmp_path: Path) -> None:
    code, out, err = run("evaluate", str(tmp_path))
    assert (code, out) == (2, "")
    assert "is a directory" in err
    locked = tmp_path / "locked.json"
    locked.write_text("{}")
    locked.chmod(0)
    if os.access(locked, os.R_OK):  # root reads anything; the directory case above still proves the path
        pytest.skip("running as root: file permissions do not stop reads")
    code, out, err = run("evaluate", str(locked))
    assert (code, out) == (2, "")
    assert "cannot read" in err


# --- undo, history, replay: failures that need no AWS account ----------------------------------


@pytest.mark.parametrize(
    "argv", [("undo", "rem-1"), ("history", "arn:aws:iam::111122223333:user/x"), ("replay", "--dry-run")]
)
def test_an_aws_command_without_boto3_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]
) -> None:
    monkeypatch.setitem(sys.modules, "botocore.exceptions", None)  # as if boto3 was not installed

    code, out, err = run(*argv)

    assert (code, out) == (2, "")
    assert err == f"iamwarden {argv[0]}: needs boto3 (pip install boto3)\n"


@pytest.mark.parametrize(
    "argv", [("undo", "rem-1"), ("history", "arn:aws:iam::111122223333:user/x"), ("replay", "--dry-run")]
)
def test_an_unknown_profile_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, argv: tuple[str, ...]
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))

    code, out, err = run(*argv, "--region", "eu-west-1")

    assert (code, out) == (2, "")
    assert err == (
        f"iamwarden {argv[0]}: The config profile (no-such-profile) could not be found: "
        "check AWS_PROFILE and your AWS configuration (aws configure list-profiles)\n"
    )


def test_an_invalid_environment_setting_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IAMWARDEN_SETTINGS_MAX_AGE", "soon")

    code, out, err = run("replay")

    assert (code, out) == (2, "")
    assert err == "iamwarden replay: IAMWARDEN_SETTINGS_MAX_AGE must be a whole number of seconds, got 'soon'\n"


# --- the command line as a whole: global options, help, exit codes, arguments checked first ----


def test_every_option_and_argument_of_every_command_has_help_text() -> None:
    from iamwarden.app.cli import _parser
    from iamwarden.app.cli_options import walk_actions

    missing = [
        f"{prog}: {'/'.join(action.option_strings) or action.dest}"
        for prog, action in walk_actions(_parser())
        if not action.help or action.help == argparse.SUPPRESS
    ]
    assert missing == []


def _every_command(parser: argparse.ArgumentParser) -> list[list[str]]:

    paths: list[list[str]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                paths.append([name])
                paths.extend([name, *rest] for rest in _every_command(sub))
    return paths


def test_every_command_at_every_depth_takes_the_global_options() -> None:
    from iamwarden.app.cli import _parser

    parser = _parser()
    commands = _every_command(parser)
    assert ["prune", "rollback"] in commands
    assert ["undo"] in commands
    for path in commands:
        sub = parser
        for name in path:
            [choices] = [a.choices for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
            sub = choices[name]
        for flag in ("--region", "--audit-table", "--prune-table", "--table", "--settings-prefix"):
            assert flag in sub._option_string_actions, f"{' '.join(path)} lacks {flag}"


@pytest.mark.parametrize(
    "argv",
    [
        ["--region", "eu-central-1", "--table", "t", "--settings-prefix", "/p", "prune", "cancel", "prune-1"],
        ["prune", "--region", "eu-central-1", "--table", "t", "--settings-prefix", "/p", "cancel", "prune-1"],
        ["prune", "cancel", "prune-1", "--region", "eu-central-1", "--table", "t", "--settings-prefix", "/p"],
        ["--region", "eu-central-1", "prune", "--table", "t", "cancel", "--settings-prefix", "/p", "prune-1"],
    ],
    ids=["before", "between", "after", "mixed"],
)
def test_global_options_are_accepted_before_or_after_the_command(argv: list[str]) -> None:
    from iamwarden.app.cli import _parser

    args = _parser().parse_args(argv)

    assert (args.region, args.prune_table, args.settings_prefix, args.plan_id) == (
        "eu-central-1",
        "t",
        "/p",
        "prune-1",
    )


def test_a_global_option_given_only_before_the_command_is_kept() -> None:
    from iamwarden.app.cli import _parser

    args = _parser().parse_args(["--audit-table", "audit-x", "history", "arn:aws:iam::111122223333:user/x"])
    assert args.audit_table == "audit-x"
    assert args.region is None  # not given anywhere: the top-level default, resolved at run time


def test_a_command_added_later_gets_the_global_options_without_doing_anything() -> None:
    from iamwarden.app.cli_options import add_global_options, share_global_options

    parser = argparse.ArgumentParser(prog="iamwarden")
    add_global_options(parser)
    commands = parser.add_subparsers(dest="command")
    backtest = commands.add_parser("backtest", help="a command another change adds")
    backtest.add_argument("--region", help="its own --region wins; the rest are shared")
    share_global_options(parser)

    args = parser.parse_args(["backtest", "--table", "t", "--region", "r"])
    assert (args.prune_table, args.region) == ("t", "r")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["history", "not-an-arn"], "not an ARN: 'not-an-arn'"),
        (["undo", "12345"], "not an id IAM Warden gives out: '12345'"),
        (["redeliver", "rem-"], "not an id IAM Warden gives out: 'rem-'"),
        (["prune", "plan", "arn:aws:iam::111122223333:user/alice"], "not an IAM role ARN"),
        (["prune", "cancel", "rem-1"], "(it starts with prune-)"),
        (["prune", "rollback", "x", "--service", "s3"], "not an id IAM Warden gives out: 'x'"),
    ],
)
def test_arguments_are_checked_before_any_credentials_are_needed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    import boto3

    def no_aws(*_: object, **__: object) -> None:
        raise AssertionError("AWS was reached before the arguments were checked")

    monkeypatch.setattr(boto3, "Session", no_aws)

    code, out, _ = run(*argv)

    assert (code, out) == (2, "")
    assert message in capsys.readouterr().err  # argparse writes usage errors to sys.stderr


def test_no_region_is_a_usage_error_that_says_how_to_set_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")

    code, out, err = run("history", "arn:aws:iam::111122223333:user/x")

    assert (code, out) == (2, "")
    assert err == (
        "iamwarden history: no AWS region: pass --region REGION or set AWS_REGION or AWS_DEFAULT_REGION "
        "(the region of the IAM Warden stack)\n"
    )


def test_evaluate_dash_reads_the_event_from_standard_input() -> None:
    event = EVENTS_DIR / "attach-admin-to-role.json"
    _, from_file, _ = run("evaluate", str(event))
    out = io.StringIO()

    code = main(["evaluate", "-"], stdout=out, stderr=io.StringIO(), stdin=io.BytesIO(event.read_bytes()))

    assert code == 0
    assert out.getvalue() == from_file.replace(json.dumps(str(event)), json.dumps("-"))


def test_the_exit_codes_are_in_the_help_and_the_readme() -> None:
    from iamwarden.app.cli import _parser
    from tests.conftest import ROOT

    assert "Exit codes: 0 done; 1 the operation failed; 2 usage or input error" in _parser().format_help()
    readme = (ROOT / "README.md").read_text()
    assert "| 2 | usage or input error" in readme
    assert "| 1 | the operation failed" in readme


def test_a_reader_that_stops_early_ends_the_run_quietly() -> None:
    """``iamwarden evaluate ... | head -1``: no traceback, the shell's status for a closed pipe."""
    files = sorted(str(path) for path in EVENTS_DIR.glob("*.json"))
    command = [sys.executable, "-c", "from iamwarden.app.cli import run; run()", "evaluate", "--format", "json", *files]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()  # the reader goes away with most of the output unread (it is far over a pipe's buffer)
    errors = process.stderr.read().decode()
    code = process.wait(timeout=120)
    assert json.loads(first)["event"]
    assert "Traceback" not in errors, errors
    assert "BrokenPipeError" not in errors, errors
    assert code == 141


def test_a_for_any_value_organisation_condition_narrows_a_bucket_policy_as_the_plain_operator_does() -> None:
    """``ForAnyValue:StringEquals aws:PrincipalOrgID`` is false when the key is absent (IAM User Guide): private."""
    code, out, _ = run(
        "evaluate",
        "--format",
        "json",
        "--config",
        str(EXAMPLE_SETTINGS),
        str(EVENTS_DIR / "bucket-policy-org-foranyvalue.json"),
    )
    assert code == 0
    (line,) = [json.loads(text) for text in out.splitlines()]
    assert line["verdict"] == "compliant", line
    assert "only the trusted accounts, organisation" in line["reason"]


def test_evaluate_judges_the_management_accounts_departure_record() -> None:
    """organization-left from an AWS service event (AccountDepartedOrganization), as the enforcer judges it."""
    code, out, _ = run(
        "evaluate", "--config", str(EXAMPLE_SETTINGS), str(EVENTS_DIR / "organizations-account-departed.json")
    )
    assert code == 0
    [line] = [json.loads(text) for text in out.splitlines()]
    assert (line["verdict"], line["rule"], line["severity"], line["plan"]) == (
        "violation",
        "organization-left",
        "critical",
        [],
    )
    assert line["event_name"] == "AccountDepartedOrganization"
    assert line["resource"] == "arn:aws:organizations::111122223333:account/o-a1b2c3d4e5/444455556666"
    assert "account 444455556666 left the organisation" in line["reason"]
