"""The lazy registry: an event imports only the guardrail modules that judge it, and the index is never stale.

``iamwarden.guardrails.index`` is generated from the modules (``tools/generate.py``). These tests derive the
same facts from the modules themselves and compare, both ways, so an index that lags a module fails here
(and ``tools/generate.py --check`` names the block); a module loaded against a stale index fails loudly.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from iamwarden.domain.exceptions import RemediationError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.guardrails import index, registry
from iamwarden.guardrails.iam_user import IAM_USER_CREATED, QuarantineUser
from tests.conftest import ROOT

GUARDRAILS_DIR = ROOT / "layers" / "core" / "iamwarden" / "guardrails"
#: The modules of iamwarden.guardrails that are not guardrails (the machinery and the shared paths).
#: Modules of ``guardrails/`` that are no guardrail: shared parts (``session_lookup``: the quarantine's CloudTrail
#: look-up of earlier sessions, a step's helper kept beside the steps that may import it).
NOT_GUARDRAILS = {
    "__init__",
    "attachments",
    "base",
    "engine",
    "index",
    "registry",
    "remediation",
    "resource_policy",
    "session_lookup",
}


def _event_keys(guardrail: Any) -> set[tuple[str, str]]:
    return set(
        getattr(guardrail, "event_keys", None)
        or {(spec.event_source, name) for spec in guardrail.specs for name in spec.event_names}
    )


def test_every_guardrail_module_is_listed_once_and_every_listed_name_is_a_module() -> None:
    files = {path.stem for path in GUARDRAILS_DIR.glob("*.py")} - NOT_GUARDRAILS
    assert sorted(registry.MODULE_NAMES) == sorted(files)
    assert len(set(registry.MODULE_NAMES)) == len(registry.MODULE_NAMES)
    indexed = {name for found in index.ROUTES.values() for name, _ in found} | set(index.ACTION_MODULES.values())
    assert indexed <= set(registry.MODULE_NAMES)


def test_the_index_holds_exactly_the_modules_specs_in_registry_order() -> None:
    from_modules = registry.rules_of(g for module in registry.MODULES for g in module.GUARDRAILS)
    assert [spec.id for spec in index.RULES] == list(from_modules)
    assert dict(registry.RULES) == from_modules
    assert all(index_spec == from_modules[index_spec.id] for index_spec in index.RULES)


def test_the_index_routes_each_event_to_exactly_the_guardrails_that_judge_it_in_module_order() -> None:
    expected: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for name, module in zip(registry.MODULE_NAMES, registry.MODULES, strict=True):
        for position, guardrail in enumerate(module.GUARDRAILS):
            for key in _event_keys(guardrail):
                expected.setdefault(key, []).append((name, position))
    assert {key: list(found) for key, found in index.ROUTES.items()} == expected
    for key, found in expected.items():
        modules = [registry.MODULE_NAMES.index(name) for name, _ in found]
        assert modules == sorted(modules), f"{key} is not judged in MODULE_NAMES order"
        assert registry.GUARDRAILS_BY_EVENT[key] == tuple(
            registry.load(name).GUARDRAILS[position] for name, position in found
        )
    assert set(registry.GUARDRAILS_BY_EVENT) == {key for g in registry.GUARDRAILS for key in _event_keys(g)}


def test_the_index_names_the_module_of_every_action_and_no_other() -> None:
    declared = {
        str(action.action): name
        for name, m in zip(registry.MODULE_NAMES, registry.MODULES, strict=True)
        for action in m.ACTIONS
    }
    assert dict(index.ACTION_MODULES) == declared
    assert registry.ACTIONS[QuarantineUser.action].action is QuarantineUser.action


def _stale_module(**changes: Any) -> ModuleType:
    module = ModuleType("iamwarden.guardrails.iam_user")
    module.GUARDRAILS = (SimpleNamespace(specs=(IAM_USER_CREATED._replace(**changes),)),)  # type: ignore[attr-defined]
    module.ACTIONS = ()  # type: ignore[attr-defined]
    return module


def test_a_module_that_differs_from_the_index_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_loaded", {})
    monkeypatch.setattr(registry, "import_module", lambda _: _stale_module(title="retitled since generated"))

    with pytest.raises(registry.StaleIndexError, match="rule iam-user-created of iam_user differs; run tools/generate"):
        registry.load("iam_user")


def test_an_action_the_index_does_not_know_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    module = _stale_module()
    module.ACTIONS = (SimpleNamespace(action=StepAction("added_since_generated"), permissions=()),)  # type: ignore[attr-defined]
    monkeypatch.setattr(registry, "_loaded", {})
    monkeypatch.setattr(registry, "import_module", lambda _: module)

    with pytest.raises(registry.StaleIndexError, match="action added_since_generated of iam_user"):
        registry.load("iam_user")


def test_a_stale_index_block_fails_the_generators_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate_for_index", ROOT / "tools" / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    for name in (
        "template.yaml",
        "member/template.yaml",
        "README.md",
        "layers/core/iamwarden/guardrails/index.py",
        "layers/core/iamwarden/domain/declared.py",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text((ROOT / name).read_text(encoding="utf-8"), encoding="utf-8")
    path = tmp_path / "layers/core/iamwarden/guardrails/index.py"
    path.write_text(path.read_text(encoding="utf-8").replace('"quarantine_user": "iam_user"', '"quarantine_user": "x"'))

    assert tool.main(["--check"], root=tmp_path) == 1
    assert "layers/core/iamwarden/guardrails/index.py: guardrail-index is out of date" in capsys.readouterr().err


def test_an_unknown_action_is_a_clear_error_and_imports_nothing() -> None:
    step = RemediationStep(StepAction("no_such_action"), "arn:aws:iam::111122223333:user/bob")
    with pytest.raises(RemediationError, match="no remediation action implements no_such_action"):
        registry.action_for(step)
    assert StepAction("no_such_action") not in registry.ACTIONS
    with pytest.raises(ValueError, match="no_such_module is no guardrail module"):
        registry.load("no_such_module")


_PROBE = """
import json, sys
from iamwarden.app.settings_file import load_settings_file
from iamwarden.guardrails import registry
from iamwarden.guardrails.engine import judge_event

def guardrail_modules():
    return sorted(name for name in registry.MODULE_NAMES if "iamwarden.guardrails." + name in sys.modules)

settings = load_settings_file(sys.argv[1])
before = guardrail_modules()
judgement = judge_event(json.loads(open(sys.argv[2]).read()), settings)
print(json.dumps({"before": before, "after": guardrail_modules(), "verdict": judgement.verdict.value,
                  "rules": len(registry.RULES)}))
"""


@pytest.mark.parametrize(
    "sample", ["create-user-backdoor-cli.json", "bucket-policy-public-read.json", "cloudtrail-stop-logging.json"]
)
def test_judging_an_event_imports_only_the_guardrail_modules_that_judge_it(sample: str) -> None:
    path = ROOT / "events" / sample
    detail = json.loads(path.read_text())["detail"]
    judged_by = {name for name, _ in index.ROUTES[(detail["eventSource"], detail["eventName"])]}

    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(ROOT / "events" / "settings.yaml"), str(path)],
        capture_output=True,
        text=True,
        check=True,
    )

    seen = json.loads(result.stdout)
    assert seen["before"] == []  # the rules, the settings and the engine need no guardrail module
    assert seen["rules"] == len(index.RULES)
    assert seen["verdict"] in {"violation", "compliant"}
    # Only the judging modules, and whatever guardrail module those import themselves (never the rest).
    assert judged_by <= set(seen["after"])
    assert len(seen["after"]) <= len(judged_by) + 2, seen["after"]


def test_the_enforcer_handler_imports_one_small_guardrail_module_before_an_event() -> None:
    code = (
        "import sys; import app; from iamwarden.guardrails import registry; "
        "print(sorted(n for n in registry.MODULE_NAMES if 'iamwarden.guardrails.' + n in sys.modules))"
    )
    env = {"PYTHONPATH": f"{ROOT / 'functions' / 'enforcer'}", "POWERTOOLS_SERVICE_NAME": "iamwarden"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={**env, "PATH": ""}
    )

    # None: the refusal of UserRemediation=delete is named in app/config.py (USER_DELETION_WITHHELD).
    assert result.stdout.strip() == "[]"
