"""Deploy IAM Warden into the emulated account the way ``sam deploy`` does.

``sam build``, ``sam package`` to the emulated S3, the SAM transform applied
locally with the SAM translator, then CloudFormation ``create_stack`` against
moto_server. moto's CloudFormation creates the tables, topic, queues,
parameters, rules, roles, layer and functions from the template itself.

A few resource types are beyond moto's CloudFormation. They are taken out of
the stack and reported; the Slack secret, which the enforcer needs, is
created directly from its declaration and its Ref replaced by the ARN a real
deploy would give. Nothing else is created by hand.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

STACK_NAME = "iamwarden"
ARTIFACT_BUCKET = "iamwarden-demo-artifacts"
ENFORCER = "EnforcerFunction"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
#: Resources the demo creates itself when moto's CloudFormation cannot, because the enforcer depends on them.
CREATED_DIRECTLY = ("AWS::SecretsManager::Secret",)
BIN = Path(sys.executable).parent


class Deployment(NamedTuple):
    build_dir: Path
    function_name: str
    function_environment: dict[str, str]
    role_arn: str
    created: Counter[str]
    #: (logical id, type, what happened instead) for each resource not created by the stack.
    left_out: list[tuple[str, str, str]]


def sam_build(root: Path, build_dir: Path, log: Path) -> None:
    _run(
        [str(BIN / "sam"), "build", "--template", str(root / "template.yaml"), "--build-dir", str(build_dir)],
        root,
        log,
        {},
    )


def sam_package(root: Path, build_dir: Path, packaged: Path, endpoint: str, log: Path) -> None:
    _run(
        [
            str(BIN / "sam"),
            "package",
            "--template-file",
            str(build_dir / "template.yaml"),
            "--s3-bucket",
            ARTIFACT_BUCKET,
            "--output-template-file",
            str(packaged),
        ],
        root,
        log,
        {"AWS_ENDPOINT_URL": endpoint},
    )


def _run(command: list[str], cwd: Path, log: Path, extra_env: Mapping[str, str]) -> None:
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "SAM_CLI_TELEMETRY": "0",
        **extra_env,
    }
    with log.open("ab") as out:
        result = subprocess.run(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:2])} failed (exit {result.returncode}); see {log}")


def translate(packaged: Path, iam: Any, region: str) -> dict[str, Any]:
    """The SAM transform, applied locally as CloudFormation would apply it."""
    from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    template: dict[str, Any] = yaml_parse(packaged.read_text())
    translated: dict[str, Any] = transform(template, {"AWS::Region": region}, ManagedPolicyLoader(iam))
    return translated


class _NoMotoCloudFormationSupport(logging.Filter):
    """Drops moto's "No Moto CloudFormation support for X": the demo lists what it leaves out, once, itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("No Moto CloudFormation support")


def unsupported_types(template: Mapping[str, Any]) -> set[str]:
    """Resource types of ``template`` that this moto version's CloudFormation cannot create.

    moto logs a warning per unsupported type on its ``moto`` logger; with no handler
    configured, Python's last-resort handler would print it on stderr, in the middle
    of the demo's own list. The filter keeps exactly those lines out.
    """
    kinds = {resource["Type"] for resource in template["Resources"].values()}
    from moto.cloudformation.parsing import resource_class_from_type

    moto_logger = logging.getLogger("moto")
    quiet = _NoMotoCloudFormationSupport()
    moto_logger.addFilter(quiet)
    try:
        return {kind for kind in kinds if resource_class_from_type(kind) is None}
    finally:
        moto_logger.removeFilter(quiet)


def _replace_ref(value: Any, logical: str, replacement: str) -> Any:
    if isinstance(value, dict):
        if value == {"Ref": logical}:
            return replacement
        return {key: _replace_ref(item, logical, replacement) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_ref(item, logical, replacement) for item in value]
    return value


def condition_holds(template: Mapping[str, Any], name: str) -> bool:
    """Evaluate one of the template's conditions with the parameters' defaults (what the demo deploys with)."""
    defaults = {key: str(spec.get("Default", "")) for key, spec in template.get("Parameters", {}).items()}

    def value(node: Any) -> str:
        return defaults.get(node["Ref"], "") if isinstance(node, dict) and "Ref" in node else str(node)

    def holds(node: Any) -> bool:
        (function, arguments), *_ = node.items()
        if function == "Condition":
            return holds(template["Conditions"][arguments])
        if function == "Fn::Equals":
            return value(arguments[0]) == value(arguments[1])
        if function == "Fn::Not":
            return not holds(arguments[0])
        if function == "Fn::And":
            return all(holds(argument) for argument in arguments)
        if function == "Fn::Or":
            return any(holds(argument) for argument in arguments)
        raise ValueError(f"the demo cannot evaluate {function} in condition {name}")

    return holds(template["Conditions"][name])


_NO_VALUE = {"Ref": "AWS::NoValue"}


def with_conditions_chosen(template: Mapping[str, Any], node: Any) -> Any:
    """``node`` with every ``Fn::If`` replaced by the branch the default parameters choose, as CloudFormation does.

    moto's CloudFormation hands a managed policy's document to IAM without choosing, and IAM refuses a statement
    that is still an ``Fn::If``; a branch of ``AWS::NoValue`` leaves nothing, in a list or a mapping.
    """
    if isinstance(node, list):
        chosen = [with_conditions_chosen(template, item) for item in node]
        return [item for item in chosen if item != _NO_VALUE]
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            condition, when_true, when_false = node["Fn::If"]
            branch = when_true if condition_holds(template, condition) else when_false
            return with_conditions_chosen(template, branch)
        chosen_items = {key: with_conditions_chosen(template, value) for key, value in node.items()}
        return {key: value for key, value in chosen_items.items() if value != _NO_VALUE}
    return node


def _why(kind: str, condition: str | None) -> str:
    if condition:
        return f"not created (moto cannot; condition {condition} is false with the default parameters anyway)"
    return "not created (moto's CloudFormation cannot; the demo does not depend on it)"


def _mentions(value: Any, logical_ids: set[str]) -> bool:
    """Whether a template value refers to one of ``logical_ids`` (``Ref``, ``Fn::GetAtt``, or ``${X}`` in a Sub)."""
    if isinstance(value, dict):
        if value.get("Ref") in logical_ids:
            return True
        attribute = value.get("Fn::GetAtt")
        if isinstance(attribute, list) and attribute and attribute[0] in logical_ids:
            return True
        if isinstance(attribute, str) and attribute.split(".", 1)[0] in logical_ids:
            return True
        return any(_mentions(item, logical_ids) for item in value.values())
    if isinstance(value, list):
        return any(_mentions(item, logical_ids) for item in value)
    if isinstance(value, str):
        return any(f"${{{logical}}}" in value or f"${{{logical}." in value for logical in logical_ids)
    return False


def without_outputs_of_removed(template: dict[str, Any], removed: set[str]) -> dict[str, Any]:
    """Drop the outputs that name a resource left out (moto refuses a stack whose output names a missing one)."""
    outputs = template.get("Outputs", {})
    kept = {name: output for name, output in outputs.items() if not _mentions(output, removed)}
    return {**template, "Outputs": kept} if outputs else template


def deploy(root: Path, work: Path, session: Any, endpoint: str, log: Path) -> Deployment:
    """Build, package, transform and create the stack; return what the stack created and left out."""
    region = session.region_name
    build_dir = work / "build"
    packaged = work / "packaged.yaml"
    sam_build(root, build_dir, log)
    s3 = session.client("s3")
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    sam_package(root, build_dir, packaged, endpoint, log)
    template = translate(packaged, session.client("iam"), region)

    unsupported = unsupported_types(template)
    left_out: list[tuple[str, str, str]] = []
    for logical, resource in sorted(template["Resources"].items()):
        kind = resource["Type"]
        condition = resource.get("Condition")
        if kind not in unsupported and condition and not condition_holds(template, condition):
            # Not created on AWS either; moto's describe_stack_resource trips over a skipped resource.
            del template["Resources"][logical]
            left_out.append((logical, kind, f"not created: condition {condition} is false with the default parameters"))
            continue
        if kind not in unsupported:
            continue
        del template["Resources"][logical]
        if kind in CREATED_DIRECTLY:
            arn = _create_secret(session, resource["Properties"])
            template = _replace_ref(template, logical, arn)
            left_out.append((logical, kind, f"created directly from its declaration ({arn})"))
        else:
            left_out.append((logical, kind, _why(kind, resource.get("Condition"))))
    template = without_outputs_of_removed(template, {logical for logical, _, _ in left_out})
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::ManagedPolicy":
            properties = resource["Properties"]
            properties["PolicyDocument"] = with_conditions_chosen(template, properties["PolicyDocument"])
    template = _bus_names_by_value(template)
    (work / "translated.json").write_text(json.dumps(template, indent=1))

    s3.put_object(Bucket=ARTIFACT_BUCKET, Key="iamwarden.template.json", Body=json.dumps(template).encode())
    cloudformation = session.client("cloudformation")
    cloudformation.create_stack(
        StackName=STACK_NAME,
        TemplateURL=f"{endpoint}/{ARTIFACT_BUCKET}/iamwarden.template.json",
        Capabilities=CAPABILITIES,
    )
    cloudformation.get_waiter("stack_create_complete").wait(StackName=STACK_NAME, WaiterConfig={"Delay": 1})
    summaries = cloudformation.list_stack_resources(StackName=STACK_NAME)["StackResourceSummaries"]
    created = Counter(item["ResourceType"] for item in summaries if item["ResourceStatus"] == "CREATE_COMPLETE")
    physical = {item["LogicalResourceId"]: item.get("PhysicalResourceId", "") for item in summaries}

    function_name = physical[ENFORCER]
    configuration = session.client("lambda").get_function_configuration(FunctionName=function_name)
    environment = {key: str(value) for key, value in configuration["Environment"]["Variables"].items()}
    return Deployment(build_dir, function_name, environment, configuration["Role"], created, left_out)


def _create_secret(session: Any, properties: Mapping[str, Any]) -> str:
    answer = session.client("secretsmanager").create_secret(
        Name=properties["Name"],
        Description=properties.get("Description", ""),
        SecretString=properties.get("SecretString", ""),
    )
    return str(answer["ARN"])


def _bus_names_by_value(template: dict[str, Any]) -> dict[str, Any]:
    """moto's CloudFormation resolves ``Ref`` of an ``AWS::Events::EventBus`` to the bus object rather than its name
    (a rule then fails with a 500, and a function's environment cannot be read back); give every ``Ref`` the bus's
    declared name, as AWS's Ref does."""
    buses = {
        logical: resource["Properties"]["Name"]
        for logical, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Events::EventBus" and isinstance(resource["Properties"].get("Name"), str)
    }
    resources = template["Resources"]
    for logical, name in buses.items():
        resources = _replace_ref(resources, logical, name)
    return {**template, "Resources": resources}
