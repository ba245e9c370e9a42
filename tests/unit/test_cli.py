"""``iamwarden evaluate``: output formats, exit codes and usage errors."""

from __future__ import annotations

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
    script = Path(sys.executable).parent / "iamwarden"
    result = subprocess.run(
        [str(script), "evaluate", str(EVENTS_DIR / "create-user-by-warden.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["verdict"] == "ignored"


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
    assert err == f"iamwarden {argv[0]}: AWS error: The config profile (no-such-profile) could not be found\n"


def test_an_invalid_environment_setting_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IAMWARDEN_SETTINGS_MAX_AGE", "soon")

    code, out, err = run("replay")

    assert (code, out) == (2, "")
    assert err == "iamwarden replay: IAMWARDEN_SETTINGS_MAX_AGE must be a whole number of seconds, got 'soon'\n"
