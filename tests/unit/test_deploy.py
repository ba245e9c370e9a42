"""What `sam deploy` creates, from the SAM-translated template, and the deploy configuration around it."""

from __future__ import annotations

import re
import tomllib
from typing import Any

from tests.conftest import ROOT
from tests.sam_template import source_template, translated_template

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _named(kind: str, key: str) -> set[str]:
    resources = translated_template()["Resources"].values()
    return {str(resource["Properties"][key]) for resource in resources if resource["Type"] == kind}


def _logical(kind: str) -> set[str]:
    return {name for name, resource in translated_template()["Resources"].items() if resource["Type"] == kind}


def _sub_names(kind: str) -> set[str]:
    """``Name: !Sub ${SettingsPrefix}/...`` with the default prefix."""
    names = set()
    for resource in translated_template()["Resources"].values():
        if resource["Type"] == kind:
            name: Any = resource["Properties"]["Name"]
            text = name["Fn::Sub"] if isinstance(name, dict) else name
            names.add(text.replace("${SettingsPrefix}", "/iamwarden"))
    return names


def test_a_deploy_creates_the_functions_and_the_layer() -> None:
    assert _named("AWS::Lambda::Function", "FunctionName") >= {
        "iamwarden-enforcer",
        "iamwarden-prune-planner",
        "iamwarden-prune-worker",
        "iamwarden-prune-watch",
        "iamwarden-heartbeat",
    }
    assert _named("AWS::Lambda::LayerVersion", "LayerName") == {"iamwarden-core"}
    functions = [r for r in translated_template()["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    for function in functions:
        assert function["Properties"]["Runtime"] == "python3.13"
        [layer] = function["Properties"]["Layers"]
        assert layer["Ref"] in _logical("AWS::Lambda::LayerVersion")


def test_a_deploy_creates_the_enforcer_rules_the_topic_the_tables_the_queues_and_alarms() -> None:
    rules = _logical("AWS::Events::Rule")
    assert rules >= {
        "EnforcerFunctionIamUserCreated",
        "EnforcerFunctionManagedPolicyAttached",
        "EnforcerFunctionBucketPolicyChanged",
        "PrunePlannerFunctionPruneSchedule",
        "PruneWatchFunctionAccessDenied",
        "EnforcerFunctionTamperedStack",
        "HeartbeatFunctionEvery5Minutes",
    }
    names = {
        r["Properties"].get("Name")
        for r in translated_template()["Resources"].values()
        if r["Type"] == "AWS::Events::Rule"
    }
    assert names >= {"iamwarden-tampered-stack", "iamwarden-heartbeat", "iamwarden-forward-own-events"}
    assert _named("AWS::SNS::Topic", "TopicName") == {"iamwarden-alerts", "iamwarden-alerts-fallback"}
    assert _named("AWS::DynamoDB::Table", "TableName") >= {
        "iamwarden-audit",
        "iamwarden-idempotency",
        "iamwarden-prune-state",
    }
    assert _named("AWS::SQS::Queue", "QueueName") >= {"iamwarden-enforcer-dlq", "iamwarden-prune-roles"}
    assert _named("AWS::CloudWatch::Alarm", "AlarmName") >= {
        "iamwarden-enforcer-dead-letters",
        "iamwarden-alert-delivery-failed",
        "iamwarden-heartbeat-missing",
    }
    assert _named("AWS::SecretsManager::Secret", "Name") == {
        "iamwarden/slack/security",
        "iamwarden/slack/bot",
        "iamwarden/slack/signing",
    }
    assert _logical("AWS::Lambda::EventInvokeConfig") == {
        "EnforcerFunctionEventInvokeConfig",
        "PrunePlannerFunctionEventInvokeConfig",
        "PruneWatchFunctionEventInvokeConfig",
    }


def test_a_deploy_creates_every_rules_mode_parameter_in_alert() -> None:
    parameters = _sub_names("AWS::SSM::Parameter")
    for rule in (
        "iam-user-created",
        "managed-policy-attached",
        "s3-bucket-policy-public",
        "s3-bucket-policy-cross-account",
    ):
        assert f"/iamwarden/rules/{rule}/mode" in parameters
    assert {
        "/iamwarden/rules/iam-user-created/remediation",
        "/iamwarden/prune/mode",
    } <= parameters
    modes = [
        r["Properties"]["Value"]
        for r in translated_template()["Resources"].values()
        if r["Type"] == "AWS::SSM::Parameter" and r["Properties"].get("AllowedPattern") == "^(off|alert|remediate)$"
    ]
    assert modes
    assert set(modes) == {"alert", "remediate"}
    # iamwarden-tampered (nothing legitimate changes IAM Warden outside its stack) and remediation-reversed (it puts
    # back only what IAM Warden remediated and someone undid without iamwarden undo).
    assert modes.count("remediate") == 2


def test_the_template_can_be_published_to_the_serverless_application_repository() -> None:
    application = source_template()["Metadata"]["AWS::ServerlessRepo::Application"]
    assert {"Name", "Description", "Author", "SemanticVersion", "SpdxLicenseId", "LicenseUrl", "ReadmeUrl"} <= set(
        application
    )
    assert re.fullmatch(r"[a-zA-Z0-9\-]+", application["Name"])
    assert re.fullmatch(r"[a-z0-9](([a-z0-9]|-(?!-))*[a-z0-9])?", application["Author"])
    assert 1 <= len(application["Description"]) <= 256
    assert application["SemanticVersion"] == PYPROJECT["project"]["version"]
    assert application["SpdxLicenseId"] == PYPROJECT["project"]["license"]
    assert (ROOT / application["LicenseUrl"]).is_file()
    assert (ROOT / application["ReadmeUrl"]).is_file()
    assert len(application["Labels"]) <= 10


def test_samconfig_has_a_default_and_a_prod_environment_that_deploy_to_us_east_1() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    for environment in ("default", "prod"):
        deploy = config[environment]["deploy"]["parameters"]
        assert deploy["region"] == "us-east-1", environment  # IAM events reach EventBridge only there
        assert set(deploy["capabilities"].split()) == {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"}
        assert deploy["confirm_changeset"] is True
        assert config[environment]["global"]["parameters"]["stack_name"] == "iamwarden"
        overrides = dict(item.split("=", 1) for item in deploy["parameter_overrides"].split())
        assert set(overrides) <= set(source_template()["Parameters"]), environment
    assert config["prod"]["deploy"]["parameters"]["profile"] == "prod"
