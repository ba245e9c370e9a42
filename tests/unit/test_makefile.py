"""The Makefile: every target listed by ``make help``, a guided first deploy, sam's python on PATH."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def make(*argv: str) -> str:
    result = subprocess.run(
        ["make", "--no-print-directory", *argv], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _targets() -> list[str]:
    text = (ROOT / "Makefile").read_text()
    return list(re.findall(r"^([A-Za-z0-9_-]+):(?!=)", text, re.MULTILINE))


def test_make_help_lists_every_target_with_what_it_does() -> None:
    listed = dict(re.findall(r"^make (\S+)\s+(.+)$", make("help"), re.MULTILINE))
    targets = _targets()
    assert {"help", "build", "deploy", "demo", "test", "bench"} <= set(targets)
    assert sorted(listed) == sorted(targets), "a target without a '## what it does' comment is missing from help"
    assert all(text.strip() for text in listed.values())


def test_a_target_added_with_a_comment_is_listed_without_touching_help(tmp_path: Path) -> None:
    makefile = tmp_path / "Makefile"
    makefile.write_text((ROOT / "Makefile").read_text() + "\ntest-unit: venv ## only tests/unit\n\t@true\n")
    listed = make("-f", str(makefile), "help")
    assert "make test-unit          only tests/unit" in listed


def _samconfig(tmp_path: Path, *, guided: bool) -> Path:
    text = (ROOT / "samconfig.toml").read_text()
    if guided:  # what `sam deploy --guided` writes back for the default environment
        text = text.replace("[default.deploy.parameters]\n", '[default.deploy.parameters]\ns3_prefix = "iamwarden"\n')
    path = tmp_path / "samconfig.toml"
    path.write_text(text)
    return path


def _deploy_line(*argv: str) -> str:
    lines = make("-n", "deploy", *argv).splitlines()
    [line] = [line for line in lines if line.split()[:2] == [str(ROOT / ".venv" / "bin" / "sam"), "deploy"]]
    return line


def test_the_first_deploy_of_an_environment_is_guided(tmp_path: Path) -> None:
    fresh = _samconfig(tmp_path, guided=False)
    assert " deploy --guided " in _deploy_line(f"SAMCONFIG={fresh}")


def test_a_deploy_after_the_guided_one_reuses_samconfig(tmp_path: Path) -> None:
    confirmed = _samconfig(tmp_path, guided=True)
    line = _deploy_line(f"SAMCONFIG={confirmed}")
    assert "--guided" not in line
    assert f"--config-env default --config-file {confirmed}" in line
    assert " deploy --guided " in _deploy_line(f"SAMCONFIG={confirmed}", "ENV=prod")  # prod was never guided


def test_sam_finds_python313_first_on_the_path_make_gives_it() -> None:
    path = make("--eval", "print-path: ; @echo $$PATH", "print-path").strip()
    first = path.split(":")[0]
    assert first == str(ROOT / ".venv" / "bin")
    version = subprocess.run(
        [str(Path(first) / "python3.13"), "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == "(3, 13)"
