"""``sam build`` produces a layer and function that run on their own, as Lambda runs them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.aws_fixtures import create_parameters, create_queues, create_tables, create_topics, function_environment
from tests.conftest import EVENTS_DIR, ROOT
from tests.sam_template import source_template

BIN = Path(sys.executable).parent


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s;#]+)", line)
        if match:
            pins[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return pins


def test_layer_pins_everything_and_agrees_with_the_dev_lock() -> None:
    layer = _pins(ROOT / "layers" / "core" / "requirements.txt")
    dev = _pins(ROOT / "requirements-dev.txt")
    assert {"aws-lambda-powertools", "boto3", "botocore"} <= set(layer)
    assert {name: version for name, version in layer.items() if dev.get(name) != version} == {}


def test_template_builds_the_layer_with_python313_from_the_package_directory() -> None:
    layer = source_template()["Resources"]["CoreLayer"]
    assert layer["Metadata"]["BuildMethod"] == "python3.13"
    content = ROOT / layer["Properties"]["ContentUri"]
    assert (content / "iamwarden" / "__init__.py").is_file()  # sam copies ContentUri into python/
    assert (content / "requirements.txt").is_file()


@pytest.mark.integration
def test_built_handler_remediates_over_http_with_only_the_layer_on_its_path(tmp_path: Path, moto_server: str) -> None:
    """The `sam build` output, run as Lambda runs it, against a moto server over HTTP: the whole loop."""
    build = tmp_path / "build"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "SAM_CLI_TELEMETRY": "0"}
    subprocess.run(
        [str(BIN / "sam"), "build", "--template", str(ROOT / "template.yaml"), "--build-dir", str(build)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    layer = build / "CoreLayer" / "python"
    assert (layer / "iamwarden" / "guardrails" / "engine.py").is_file()
    assert (layer / "aws_lambda_powertools").is_dir()

    aws = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    create_tables(session.client("dynamodb", endpoint_url=moto_server))
    ssm = session.client("ssm", endpoint_url=moto_server)
    create_parameters(ssm)
    ssm.put_parameter(
        Name="/iamwarden/rules/s3-bucket-policy-public/mode", Value="remediate", Type="String", Overwrite=True
    )
    create_queues(session.client("sqs", endpoint_url=moto_server))
    create_topics(session.client("sns", endpoint_url=moto_server))
    s3 = session.client("s3", endpoint_url=moto_server, region_name="eu-west-1")
    s3.create_bucket(Bucket="acme-invoices", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    event_file = EVENTS_DIR / "bucket-policy-public-read.json"
    policy = json.loads(event_file.read_text())["detail"]["requestParameters"]["bucketPolicy"]
    s3.put_bucket_policy(Bucket="acme-invoices", Policy=json.dumps(policy))

    script = (
        "import json, sys, app\n"
        "class Context:\n"
        "    function_name = 'iamwarden-enforcer'; memory_limit_in_mb = 256; aws_request_id = 'r'\n"
        "    invoked_function_arn = 'arn:aws:lambda:us-east-1:111122223333:function:iamwarden-enforcer'\n"
        "    def get_remaining_time_in_millis(self): return 50000\n"
        "event = json.load(open(sys.argv[1]))\n"
        "print(json.dumps(app.lambda_handler(event, Context())))\n"
    )
    lambda_env = {
        **function_environment("EnforcerFunction"),
        **aws,
        "AWS_ENDPOINT_URL": moto_server,
        "PYTHONPATH": f"{build / 'EnforcerFunction'}{os.pathsep}{layer}",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "IAMWARDEN_SLACK_WEBHOOK_SECRET": "",
        "IAMWARDEN_MAX_EVENT_AGE_SECONDS": "0",  # the sample is dated when it was written
    }
    # -S: no site-packages, so nothing from the development environment can be imported.
    result = subprocess.run(
        [sys.executable, "-S", "-c", script, str(event_file)],
        env=lambda_env,
        capture_output=True,
        text=True,
        check=True,
    )
    verdict = json.loads(result.stdout.strip().splitlines()[-1])
    assert verdict["verdict"] == "violation"
    [finding] = verdict["findings"]
    assert finding["rule"] == "s3-bucket-policy-public"
    assert finding["outcome"] == "remediated"
    with pytest.raises(ClientError) as gone:
        s3.get_bucket_policy(Bucket="acme-invoices")
    assert gone.value.response["Error"]["Code"] == "NoSuchBucketPolicy"
    audit = session.client("dynamodb", endpoint_url=moto_server).get_item(
        TableName="iamwarden-audit", Key={"remediation_id": {"S": finding["remediation_id"]}}
    )
    assert audit["Item"]["status"]["S"] == "remediated"
