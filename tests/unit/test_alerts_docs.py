"""docs/alerts/ is what tools/render_alert_docs.py generates from the sample events today."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest

from tests.conftest import ROOT

TOOL = ROOT / "tools" / "render_alert_docs.py"


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("render_alert_docs", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_alerts_is_up_to_date(tool: ModuleType) -> None:
    assert tool.main(["--check"]) == 0, "docs/alerts is stale: run .venv/bin/python tools/render_alert_docs.py"


def test_there_is_one_example_of_each_outcome(tool: ModuleType) -> None:
    from iamwarden.domain.findings import Outcome

    assert {example.outcome for example in tool.EXAMPLES} == set(Outcome)
    files = tool.rendered()
    for example in tool.EXAMPLES:
        assert {f"{example.kind}.md", f"{example.kind}.slack.json", f"{example.kind}.sns.txt"} <= set(files)
