"""X-Ray SDK tracing is opt-in (template parameter XRaySdkTracing): off, the handler never imports the SDK."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from iamwarden.app.tracing import XRAY_SDK_TRACING, NoTracer, tracer_from_environment, xray_sdk_tracing
from iamwarden.domain.exceptions import IamWardenError
from tests.aws_fixtures import function_environment
from tests.conftest import ROOT
from tests.sam_template import source_template, translated_template

FUNCTIONS = ("EnforcerFunction", "PrunePlannerFunction", "PruneWorkerFunction", "PruneWatchFunction")


def _import_enforcer_handler(environment: dict[str, str]) -> dict[str, Any]:
    """Import functions/enforcer/app.py in a fresh interpreter; report its tracer and whether the SDK was loaded."""
    code = (
        "import json, sys\n"
        "import app\n"
        "print(json.dumps({'tracer': type(app.tracer).__name__, 'sdk': 'aws_xray_sdk' in sys.modules}))\n"
    )
    env = {
        **environment,
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "functions" / "enforcer"), str(ROOT / "layers" / "core")]),
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def test_the_handler_with_the_template_defaults_does_not_import_the_xray_sdk() -> None:
    environment = function_environment("EnforcerFunction")
    assert environment[XRAY_SDK_TRACING] == "false"
    assert _import_enforcer_handler(environment) == {"tracer": "NoTracer", "sdk": False}


def test_the_handler_with_xray_sdk_tracing_on_uses_powertools_tracer_and_the_sdk() -> None:
    environment = {**function_environment("EnforcerFunction"), XRAY_SDK_TRACING: "true"}
    assert _import_enforcer_handler(environment) == {"tracer": "Tracer", "sdk": True}


def test_the_parameter_defaults_to_off_and_reaches_every_function_whose_active_tracing_stays_on() -> None:
    parameter = source_template()["Parameters"]["XRaySdkTracing"]
    assert parameter["Default"] == "false"
    assert sorted(parameter["AllowedValues"]) == ["false", "true"]
    resources = translated_template()["Resources"]
    for name in FUNCTIONS:
        properties = resources[name]["Properties"]
        assert properties["Environment"]["Variables"][XRAY_SDK_TRACING] == {"Ref": "XRaySdkTracing"}, name
        assert properties["TracingConfig"] == {"Mode": "Active"}, name


@pytest.mark.parametrize(
    ("value", "on"),
    [("true", True), ("TRUE", True), (" true ", True), ("false", False), ("False", False), ("", False)],
)
def test_the_setting_reads_true_and_false(value: str, on: bool) -> None:
    assert xray_sdk_tracing({XRAY_SDK_TRACING: value}) is on


def test_an_unset_setting_is_off() -> None:
    assert xray_sdk_tracing({}) is False
    assert isinstance(tracer_from_environment({}), NoTracer)


@pytest.mark.parametrize("value", ["yes", "1", "on", "enabled"])
def test_any_other_value_is_refused_with_the_variable_named(value: str) -> None:
    with pytest.raises(IamWardenError, match=rf"{XRAY_SDK_TRACING} must be true or false, got '{value}'"):
        xray_sdk_tracing({XRAY_SDK_TRACING: value})


def test_no_tracer_decorators_hand_back_the_function_they_wrap_bare_or_called_with_options() -> None:
    tracer = NoTracer()

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"seen": event}

    assert tracer.capture_lambda_handler(handler) is handler
    assert tracer.capture_lambda_handler(capture_response=False)(handler) is handler
    assert tracer.capture_method(handler) is handler
    assert tracer.capture_method(capture_error=False)(handler) is handler
    assert handler({"a": 1}, None) == {"seen": {"a": 1}}
