"""``iamwarden backtest`` end to end on local files: the report, parallel reading, bad input, exit codes."""

from __future__ import annotations

import gzip
import io
import json
from datetime import date
from pathlib import Path

import pytest

from demo.backtest import write_history
from iamwarden.app.cli import main
from tests.conftest import EVENTS_DIR, EXAMPLE_SETTINGS


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("history")
    write_history(root, start=date(2026, 11, 1), days=6, files_per_day=2, records_per_file=40, changes_per_file=2)
    return root


def findings(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_backtest_reports_and_writes_every_finding(history: Path, tmp_path: Path) -> None:
    jsonl, html = tmp_path / "f.jsonl", tmp_path / "r.html"
    code, out, err = run(
        "backtest",
        str(history),
        "--config",
        str(EXAMPLE_SETTINGS),
        "--jobs",
        "1",
        "--jsonl",
        str(jsonl),
        "--html",
        str(html),
    )
    assert code == 0, err
    assert err == ""
    assert "Read 24 files" in out
    assert "Per rule" in out
    assert "Per account" in out
    assert "Top actors" in out
    assert "Top resources" in out
    rows = findings(jsonl)
    assert rows
    assert {row["outcome"] for row in rows} <= {"would remediate", "would alert", "needs context"}
    assert all(str(row["source"]).startswith(str(history)) and ": record " in str(row["source"]) for row in rows)
    assert html.read_text().startswith("<!DOCTYPE html>")


def test_parallel_and_sequential_runs_find_the_same(history: Path, tmp_path: Path) -> None:
    outputs = []
    for jobs in ("1", "2"):
        jsonl = tmp_path / f"{jobs}.jsonl"
        code, out, _ = run(
            "backtest", str(history), "--config", str(EXAMPLE_SETTINGS), "--jobs", jobs, "--jsonl", str(jsonl)
        )
        assert code == 0
        outputs.append((out.replace(str(jsonl), "F"), jsonl.read_text()))
    assert outputs[0] == outputs[1]


def test_date_range_reads_only_those_days(history: Path, tmp_path: Path) -> None:
    jsonl = tmp_path / "f.jsonl"
    code, out, _ = run(
        "backtest", str(history), "--since", "2026-11-02", "--until", "2026-11-03", "--jobs", "1", "--jsonl", str(jsonl)
    )
    assert code == 0
    assert "Read 8 files" in out  # 2 days x 2 regions x 2 files
    assert {str(row["time"])[:10] for row in findings(jsonl)} <= {"2026-11-02", "2026-11-03"}


def test_compare_shows_what_changes(history: Path) -> None:
    code, out, _ = run("backtest", str(history), "--compare", str(EXAMPLE_SETTINGS), "--jobs", "1")
    assert code == 0
    assert f"Compared with {EXAMPLE_SETTINGS}:" in out
    assert "would alert -> would remediate" in out  # iam-user-created is in remediate mode there


def test_progress_bar_on_request(history: Path) -> None:
    code, _, err = run("backtest", str(history), "--progress", "--jobs", "1")
    assert code == 0
    assert "24/24 files" in err


def test_bad_files_are_named_and_the_run_goes_on(tmp_path: Path) -> None:
    good = json.loads((EVENTS_DIR / "create-user-backdoor-cli.json").read_text())["detail"]
    data = gzip.compress(json.dumps({"Records": [good]}).encode())
    (tmp_path / "cut.json.gz").write_bytes(data[:20])
    (tmp_path / "strange.json.gz").write_bytes(gzip.compress(json.dumps({"Records": [good, "oops"]}).encode()))
    code, out, err = run("backtest", str(tmp_path), "--jobs", "1")
    assert code == 0
    assert f"iamwarden backtest: {tmp_path}/cut.json.gz: truncated gzip" in err
    assert (
        f"iamwarden backtest: {tmp_path}/strange.json.gz: record 2: a record must be a JSON object, got a string" in err
    )
    assert "Could not read 1 file and 1 record (2 problems listed on stderr)" in out
    assert "1 would alert" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--since", "2026-11-30", "--until", "2026-11-01", "x"], "--since 2026-11-30 is after --until 2026-11-01"),
        (["does-not-exist"], "does-not-exist: no such file or folder"),
        ([], "give at least one SOURCE"),
        (["x", "--athena"], "give either SOURCEs or --athena, not both"),
        (["s3://"], "s3://: names no bucket"),
        (["x", "--authorization-details", "nope.json"], "nope.json: cannot read"),
    ],
)
def test_usage_errors_exit_2_with_one_clear_line(argv: list[str], message: str, tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        code, out, err = run("backtest", *argv)
    assert code == 2
    assert out == ""
    assert message in err


def test_bad_date_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run("backtest", "x", "--since", "2026-13-01")
    assert code == 2
    assert "not a date (YYYY-MM-DD): '2026-13-01'" in capsys.readouterr().err  # argparse writes to sys.stderr


def test_unknown_settings_key_names_the_file_and_line(tmp_path: Path) -> None:
    settings = tmp_path / "s.yaml"
    settings.write_text("rules:\n  iam-user-created:\n    mdoe: remediate\n")
    code, out, err = run("backtest", str(EVENTS_DIR), "--config", str(settings))
    assert code == 2
    assert out == ""
    assert f"{settings}:3: rules/iam-user-created/mdoe: unknown setting of rule iam-user-created 'mdoe'" in err


def test_print_sql_prints_the_athena_prefilter() -> None:
    code, out, _ = run("backtest", "--athena", "--print-sql", "--since", "2026-11-01", "--until", "2026-11-30")
    assert code == 0
    assert out.startswith("SELECT eventversion, useridentity,")
    assert "\"timestamp\" >= '2026/11/01'" in out
    assert "'CreateUser'" in out
    code, _, err = run("backtest", "--print-sql", "--athena-table", "db.logs; DROP")
    assert code == 2
    assert "not a plain Athena identifier" in err


def test_evaluate_takes_cloudtrail_records_and_log_files(tmp_path: Path) -> None:
    detail = json.loads((EVENTS_DIR / "create-user-backdoor-cli.json").read_text())["detail"]
    (tmp_path / "record.json").write_text(json.dumps(detail))
    (tmp_path / "log.json.gz").write_bytes(gzip.compress(json.dumps({"Records": [detail, detail]}).encode()))
    code, out, _ = run("evaluate", str(tmp_path / "record.json"), str(tmp_path / "log.json.gz"))
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(line["event"].rsplit("/", 1)[-1], line["verdict"], line["rule"]) for line in lines] == [
        ("record.json", "violation", "iam-user-created"),
        ("log.json.gz#1", "violation", "iam-user-created"),
        ("log.json.gz#2", "violation", "iam-user-created"),
    ]


@pytest.mark.parametrize(
    "source", [["--ssm", str(EVENTS_DIR / "attach-admin-to-role.json")], ["s3://bucket/AWSLogs/"], ["--athena"]]
)
def test_no_aws_region_is_one_line_and_a_usage_error_never_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, source: list[str]
) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))  # no profile's region either
    code, out, err = run("backtest", *source)
    assert code == 2
    assert out == ""
    assert err.startswith("iamwarden backtest: no AWS region: pass --region REGION or set AWS_REGION")
    assert len(err.strip().splitlines()) == 1
