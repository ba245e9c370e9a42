"""The live directory's readers of the roles behind existing resources, against moto's API shapes.

Launch templates, CodeBuild projects, Glue dev endpoints and SageMaker notebook instances are read from
moto; running ECS tasks and App Runner services (moto fails or lacks them) through botocore's Stubber.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from iamwarden.adapters.principals import LiveRoleDirectory

ACCOUNT = "123456789012"  # moto's default
TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})


class Sessions:
    """The directory's ``ClientSource`` over one boto3 session (moto's account), one client per service."""

    def __init__(self, session: boto3.Session) -> None:
        self.session = session
        self.made: dict[tuple[str, str], Any] = {}

    def client(self, service: str, account: str, region: str, *, logged: bool = True) -> Any:
        key = (service, region)
        if key not in self.made:
            self.made[key] = self.session.client(service, region_name=region)  # type: ignore[call-overload]
        return self.made[key]


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.Session]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


def _role(session: boto3.Session, name: str) -> str:
    return str(session.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"])


def _directory(session: boto3.Session) -> LiveRoleDirectory:
    return LiveRoleDirectory(Sessions(session), regions=("us-east-1",))


def _every(service: str, resource: str) -> str:
    return f"arn:aws:{service}:*:{ACCOUNT}:{resource}"


def test_a_launch_templates_instance_profile_role(session: boto3.Session) -> None:
    role = _role(session, "web-host")
    iam = session.client("iam")
    iam.create_instance_profile(InstanceProfileName="web")
    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="web-host")
    ec2 = session.client("ec2")
    ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={"IamInstanceProfile": {"Name": "web"}})
    ec2.create_launch_template(LaunchTemplateName="bare", LaunchTemplateData={"InstanceType": "t3.micro"})

    assert _directory(session).roles_behind(_every("ec2", "launch-template/*")) == (role,)


def test_a_codebuild_projects_service_role(session: boto3.Session) -> None:
    role = _role(session, "builder")
    session.client("codebuild").create_project(
        name="app",
        source={"type": "S3", "location": "acme-builds/app.zip"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_SMALL",
        },
        serviceRole=role,
    )
    directory = _directory(session)

    assert directory.roles_behind(_every("codebuild", "project/*")) == (role,)
    assert directory.roles_behind(_every("codebuild", "project/other-*")) == ()


def test_a_glue_dev_endpoints_role(session: boto3.Session) -> None:
    role = _role(session, "glue-dev")
    session.client("glue").create_dev_endpoint(EndpointName="dev", RoleArn=role)

    assert _directory(session).roles_behind(_every("glue", "devEndpoint/*")) == (role,)


def test_a_sagemaker_notebook_instances_role(session: boto3.Session) -> None:
    role = _role(session, "notebook")
    session.client("sagemaker").create_notebook_instance(
        NotebookInstanceName="lab", InstanceType="ml.t3.medium", RoleArn=role
    )

    assert _directory(session).roles_behind(_every("sagemaker", "notebook-instance/*")) == (role,)


def test_a_running_ecs_tasks_task_role_an_override_first() -> None:
    """Stubbed: moto 5.2's RunTask fails on an awsvpc task (no private_dns_name on its network interface)."""
    cluster = f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/main"
    tasks = [f"arn:aws:ecs:us-east-1:{ACCOUNT}:task/main/{n}" for n in ("a1", "b2", "c3")]
    definition = f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/app:1"
    task_role, override = (f"arn:aws:iam::{ACCOUNT}:role/{name}" for name in ("task", "override"))
    client = boto3.client("ecs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        stubber.add_response("list_clusters", {"clusterArns": [cluster]}, {})
        stubber.add_response("list_tasks", {"taskArns": tasks}, {"cluster": cluster})
        stubber.add_response(
            "describe_tasks",
            {
                "tasks": [
                    {"taskArn": tasks[0], "taskDefinitionArn": definition},
                    {"taskArn": tasks[1], "taskDefinitionArn": definition},
                    {"taskArn": tasks[2], "taskDefinitionArn": definition, "overrides": {"taskRoleArn": override}},
                ]
            },
            {"cluster": cluster, "tasks": tasks},
        )
        stubber.add_response(
            "describe_task_definition", {"taskDefinition": {"taskRoleArn": task_role}}, {"taskDefinition": definition}
        )
        read = LiveRoleDirectory(One(client)).roles_behind_read(f"arn:aws:ecs:us-east-1:{ACCOUNT}:task/*")
        stubber.assert_no_pending_responses()  # the task definition was read once for two tasks

    assert read is not None
    assert read.roles == (override, task_role)


class One:
    """A ``ClientSource`` answering every service with one (stubbed) client."""

    def __init__(self, client: Any) -> None:
        self.one = client

    def client(self, service: str, account: str, region: str, *, logged: bool = True) -> Any:
        return self.one


def test_an_app_runner_services_instance_role() -> None:
    service_id = "0123456789abcdef0123456789abcdef"
    service = f"arn:aws:apprunner:us-east-1:{ACCOUNT}:service/api-web/{service_id}"
    role = f"arn:aws:iam::{ACCOUNT}:role/apprunner-api"
    client = boto3.client("apprunner", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    summary = {"ServiceName": "api-web", "ServiceId": service_id, "ServiceArn": service}
    described = {
        **summary,
        "ServiceUrl": "api.example",
        "CreatedAt": 0,
        "UpdatedAt": 0,
        "Status": "RUNNING",
        "SourceConfiguration": {},
        "InstanceConfiguration": {"InstanceRoleArn": role},
        "NetworkConfiguration": {},
        "AutoScalingConfigurationSummary": {},
    }
    with Stubber(client) as stubber:
        stubber.add_response("list_services", {"ServiceSummaryList": [summary], "NextToken": "more"}, {})
        stubber.add_response("list_services", {"ServiceSummaryList": []}, {"NextToken": "more"})
        stubber.add_response("describe_service", {"Service": described}, {"ServiceArn": service})
        read = LiveRoleDirectory(One(client)).roles_behind_read(f"arn:aws:apprunner:us-east-1:{ACCOUNT}:service/*")
        stubber.assert_no_pending_responses()

    assert read is not None
    assert read.roles == (role,)


def test_a_new_autoscaling_group_reaches_every_launch_configurations_role(session: boto3.Session) -> None:
    """PMapper's edge: CreateAutoScalingGroup with an existing launch configuration launches as its profile's role."""
    role = _role(session, "fleet")
    iam = session.client("iam")
    iam.create_instance_profile(InstanceProfileName="fleet")
    iam.add_role_to_instance_profile(InstanceProfileName="fleet", RoleName="fleet")
    autoscaling = session.client("autoscaling")
    autoscaling.create_launch_configuration(
        LaunchConfigurationName="web", ImageId="ami-12c6146b", InstanceType="t3.micro", IamInstanceProfile="fleet"
    )
    autoscaling.create_launch_configuration(
        LaunchConfigurationName="bare", ImageId="ami-12c6146b", InstanceType="t3.micro"
    )

    assert _directory(session).roles_behind(_every("autoscaling", "autoScalingGroup:*")) == (role,)
