"""The snapshot at deploy: the template's custom resource, answered by the heartbeat function.

moto plays AWS.

CloudFormation sends the request (shapes from the user guide's "Custom resource request types") and waits for a PUT
of the answer ("Custom resource response objects") to the request's presigned S3 URL; a local HTTP server on
127.0.0.1, started and stopped here, plays that URL and keeps what it was sent.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

import pytest

from iamwarden.adapters.recorded import AuditRecorded
from iamwarden.app.config import own_identity_from_environment
from iamwarden.app.deploy_snapshot import MAX_BODY, DeploySnapshot, is_custom_resource_request
from iamwarden.app.heartbeat import build_deploy_snapshot
from iamwarden.app.own_policies import OwnPolicyWatch
from iamwarden.domain.declared_content import declared_own_policy
from iamwarden.domain.recorded import BOUNDARY, OWN_POLICY, TRAIL
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.aws_fixtures import HOME_ACCOUNT
from tests.aws_fixtures import REGION as HOME_REGION
from tests.conftest import load_event
from tests.functional.conftest import Account
from tests.functional.test_enforcer_handler import FakeLambdaContext
from tests.functional.test_heartbeat_snapshots import REGION, ROLE_ARN, TRAIL_ARN, _boundary, _environment, _trail
from tests.functional.test_prune_handlers import load
from tests.sam_template import translated_template

STACK_ID = f"arn:aws:cloudformation:{REGION}:{HOME_ACCOUNT}:stack/iamwarden/5b918d10-cd98-11ea-90d5-0a9cd3354c10"


class Received(NamedTuple):
    method: str
    path: str
    content_type: str | None
    body: dict[str, Any]


class PresignedUrl:
    """A stand-in for CloudFormation's presigned S3 URL: keeps each PUT; answers ``status``."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.status = 200
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                owner.received.append(Received("PUT", self.path, self.headers.get("Content-Type"), body))
                self.send_response(owner.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/cloudformation-custom-resource-response?X-Amz-Signature=abc"

    def only(self) -> dict[str, Any]:
        [received] = self.received
        assert received.method == "PUT"
        assert received.path.startswith("/cloudformation-custom-resource-response?")
        assert not received.content_type, "the presigned URL is signed without a content type"
        return received.body


@pytest.fixture
def presigned() -> Iterator[PresignedUrl]:
    url = PresignedUrl()
    url.thread.start()
    try:
        yield url
    finally:
        url.server.shutdown()
        url.server.server_close()
        url.thread.join()


def _request(kind: str, url: str, **extra: Any) -> dict[str, Any]:
    """A request as CloudFormation sends it (the user guide's request fields)."""
    return {
        "RequestType": kind,
        "RequestId": f"unique id for this {kind.lower()} request",
        "ResponseURL": url,
        "ResourceType": "AWS::CloudFormation::CustomResource",
        "LogicalResourceId": "DeploySnapshot",
        "StackId": STACK_ID,
        "ResourceProperties": {"ServiceToken": f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:iamwarden-heartbeat"},
        **extra,
    }


def _deploying(account: Account, status: str = "UPDATE_IN_PROGRESS", name: str = "iamwarden") -> str:
    """The own stack in moto, in the middle of a deploy as CloudFormation shows it while it waits for the custom
    resource (moto finishes every operation at once, so its status is set here); its StackId."""
    from moto.cloudformation.models import cloudformation_backends

    cloudformation = account.session.client("cloudformation", region_name=REGION)
    template = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}
    stack_id: str = cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))["StackId"]
    cloudformation_backends[HOME_ACCOUNT][REGION].stacks[stack_id].status = status
    return stack_id


def test_the_template_declares_the_custom_resource_on_the_heartbeat_function() -> None:
    resource = translated_template()["Resources"]["DeploySnapshot"]
    assert resource["Type"] == "AWS::CloudFormation::CustomResource"  # moto (the demo) leaves it out
    assert resource["Properties"]["ServiceToken"] == {"Fn::GetAtt": ["HeartbeatFunction", "Arn"]}
    assert 0 < int(resource["Properties"]["ServiceTimeout"]) < 3600, "never CloudFormation's default hour"


def test_create_takes_the_snapshots_and_answers_success(account: Account, presigned: PresignedUrl) -> None:
    _trail(account, logging=True)
    boundary = _boundary(account)

    request = _request("Create", presigned.url, StackId=_deploying(account))
    answer = build_deploy_snapshot(account.session, _environment(account)).handle(request)

    assert answer["answered"] is True
    body = presigned.only()
    assert body["Status"] == "SUCCESS"
    assert body["StackId"] == request["StackId"]
    assert body["RequestId"] == "unique id for this create request"
    assert body["LogicalResourceId"] == "DeploySnapshot"
    assert body["PhysicalResourceId"] == "iamwarden-deploy-snapshot"
    assert body["Data"]["Problems"] == "0"
    assert int(body["Data"]["Snapshots"]) >= 2
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    trail = recorded.snapshot(TRAIL, TRAIL_ARN)
    assert trail is not None
    assert trail.data["logging"] is True
    role = recorded.snapshot(BOUNDARY, ROLE_ARN)
    assert role is not None
    assert role.data == {"boundary_arn": boundary}


def test_update_snapshots_again_and_keeps_the_physical_id(account: Account, presigned: PresignedUrl) -> None:
    _boundary(account)
    request = _request(
        "Update",
        presigned.url,
        PhysicalResourceId="id-from-create",
        OldResourceProperties={},
        StackId=_deploying(account),
    )

    build_deploy_snapshot(account.session, _environment(account)).handle(request)

    body = presigned.only()
    assert (body["Status"], body["PhysicalResourceId"]) == ("SUCCESS", "id-from-create")
    assert AuditRecorded(account.audit(), account.dynamodb).snapshot(BOUNDARY, ROLE_ARN) is not None


class _Recording:
    """Stands in for the heartbeat: counts builds, returns ``problems`` from a refresh, keeps the alerts."""

    def __init__(self, problems: list[str] | None = None, fail: Exception | None = None) -> None:
        self.builds = 0
        self.problems = problems or []
        self.fail = fail
        self.alerts: list[list[str]] = []

    def build(self) -> tuple[_Recording, _Recording]:
        self.builds += 1
        return self, self

    def refresh(self) -> tuple[int, list[str]]:
        if self.fail is not None:
            raise self.fail
        return 3, list(self.problems)

    def alert_problems(self, problems: list[str]) -> None:
        self.alerts.append(problems)


def test_delete_answers_success_without_any_call(presigned: PresignedUrl) -> None:
    heartbeat = _Recording()
    request = _request("Delete", presigned.url, PhysicalResourceId="id-from-create")

    DeploySnapshot(heartbeat.build, physical_id="unused").handle(request)

    body = presigned.only()
    assert (body["Status"], body["PhysicalResourceId"]) == ("SUCCESS", "id-from-create")
    assert (body["RequestId"], body["LogicalResourceId"]) == ("unique id for this delete request", "DeploySnapshot")
    assert heartbeat.builds == 0, "a delete touches nothing"


def test_delete_through_the_real_builder_writes_no_snapshot(account: Account, presigned: PresignedUrl) -> None:
    _boundary(account)

    build_deploy_snapshot(account.session, _environment(account)).handle(
        _request("Delete", presigned.url, PhysicalResourceId="iamwarden-deploy-snapshot", StackId=_deploying(account))
    )

    assert presigned.only()["Status"] == "SUCCESS"
    assert AuditRecorded(account.audit(), account.dynamodb).snapshot(BOUNDARY, ROLE_ARN) is None


def test_a_failed_snapshot_still_answers_success_with_the_problem_and_alerts(presigned: PresignedUrl) -> None:
    problem = "the snapshots of the trails of 111122223333 in eu-west-1 cannot be refreshed (AccessDeniedException)"
    heartbeat = _Recording(problems=[problem])

    DeploySnapshot(heartbeat.build, physical_id="p").handle(_request("Create", presigned.url))

    body = presigned.only()
    assert body["Status"] == "SUCCESS", "a failed snapshot never rolls back the guard"
    assert problem in body["Reason"]
    assert body["Data"] == {"Snapshots": "3", "Problems": "1"}
    assert heartbeat.alerts == [[problem]]


def test_a_snapshot_that_raises_is_answered_and_alerted(presigned: PresignedUrl) -> None:
    heartbeat = _Recording(fail=RuntimeError("the table is gone"))

    DeploySnapshot(heartbeat.build, physical_id="p").handle(_request("Create", presigned.url))

    body = presigned.only()
    assert body["Status"] == "SUCCESS"
    assert "the table is gone" in body["Reason"]
    [alert] = heartbeat.alerts
    assert "the table is gone" in alert[0]


def test_a_snapshot_that_cannot_write_to_the_audit_table_is_alerted_through_sns(
    account: Account, presigned: PresignedUrl
) -> None:
    _boundary(account)
    sns = account.session.client("sns")  # the session's region, where the heartbeat's own clients are
    sqs = account.session.client("sqs")
    topic = sns.create_topic(Name="iamwarden-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    environment = {
        **_environment(account),
        "IAMWARDEN_AUDIT_TABLE": "no-such-table",
        "IAMWARDEN_ALERT_TOPIC_ARN": topic,
    }

    build_deploy_snapshot(account.session, environment).handle(
        _request("Create", presigned.url, StackId=_deploying(account))
    )

    body = presigned.only()
    assert body["Status"] == "SUCCESS"
    assert "permissions boundaries" in body["Reason"]
    assert body["Data"]["Problems"] != "0"
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert any("permissions boundaries" in json.loads(m["Body"])["Message"] for m in messages)


def test_a_heartbeat_that_cannot_be_built_is_still_answered(account: Account, presigned: PresignedUrl) -> None:
    deploy = build_deploy_snapshot(account.session, environ={"AWS_REGION": REGION})  # no IAMWARDEN_* variables

    deploy.handle(_request("Create", presigned.url, StackId=_deploying(account)))

    body = presigned.only()
    assert body["Status"] == "SUCCESS"
    assert "cannot be built" in body["Reason"]
    assert "IAMWARDEN_ENFORCER_ARN" in body["Reason"]


def test_an_unknown_request_type_is_answered_failed_with_the_reason(presigned: PresignedUrl) -> None:
    heartbeat = _Recording()
    request = _request("Create", presigned.url)
    del request["RequestType"], request["StackId"]

    answer = DeploySnapshot(heartbeat.build, physical_id="p").handle(request)

    body = presigned.only()
    assert body["Status"] == "FAILED"
    assert "None" in body["Reason"]
    assert body["StackId"] == ""
    assert body["PhysicalResourceId"] == "p"
    assert answer["answered"] is True
    assert heartbeat.builds == 0


def test_a_request_without_a_response_url_is_not_answered_and_touches_nothing(presigned: PresignedUrl) -> None:
    heartbeat = _Recording()
    request = _request("Delete", "")

    answer = DeploySnapshot(heartbeat.build, physical_id="p").handle(request)

    assert answer["answered"] is False
    assert presigned.received == []


def test_a_refused_put_raises_so_lambda_retries_the_invocation(presigned: PresignedUrl) -> None:
    presigned.status = 403

    with pytest.raises(OSError, match="403"):
        DeploySnapshot(_Recording().build, physical_id="p").handle(_request("Delete", presigned.url))


def test_a_long_reason_is_cut_to_cloudformations_size_limit(presigned: PresignedUrl) -> None:
    problems = [f"problem {n}: " + "é" * 300 for n in range(40)]

    DeploySnapshot(_Recording(problems=problems).build, physical_id="p").handle(_request("Create", presigned.url))

    [received] = presigned.received
    assert len(json.dumps(received.body).encode()) <= MAX_BODY
    assert received.body["Reason"].endswith("(cut)")
    assert received.body["Status"] == "SUCCESS"


def test_the_handler_dispatches_a_custom_resource_request_to_the_deploy_snapshot(
    account: Account, presigned: PresignedUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in _environment(account).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", HOME_REGION)  # Lambda's default session: the audit table's region
    _boundary(account)
    module = load("heartbeat")
    request = _request("Create", presigned.url, StackId=_deploying(account))
    assert is_custom_resource_request(request)
    assert not is_custom_resource_request({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}})

    answer = module.lambda_handler(request, FakeLambdaContext())

    assert answer["Status"] == "SUCCESS"
    assert presigned.only()["RequestId"] == "unique id for this create request"
    assert AuditRecorded(account.audit(), account.dynamodb).snapshot(BOUNDARY, ROLE_ARN) is not None


def _declared_policy(account: Account, number: int = 1) -> tuple[str, dict[str, Any], dict[str, str]]:
    """One of the enforcer's policies as its template declares it for this stack (v1): ARN, document, environment."""
    environment = _environment(account)
    name = f"iamwarden-enforcer-remediations-{number}-{REGION}"
    arn = f"arn:aws:iam::{HOME_ACCOUNT}:policy/{name}"
    document = declared_own_policy(arn, own_identity_from_environment(environment), "quarantine")
    assert document is not None
    account.iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document))
    return arn, document, {**environment, "IAMWARDEN_ENFORCER_POLICY_ARNS": arn}


def test_create_records_the_default_version_of_each_own_policy_as_deployed(
    account: Account, presigned: PresignedUrl
) -> None:
    arn, document, environment = _declared_policy(account)
    account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True)

    build_deploy_snapshot(account.session, environment).handle(
        _request("Create", presigned.url, StackId=_deploying(account))
    )

    assert presigned.only()["Data"]["Problems"] == "0"
    snapshot = AuditRecorded(account.audit(), account.dynamodb).snapshot(OWN_POLICY, arn)
    assert snapshot is not None
    assert snapshot.data == {"default_version": "v2", "document": document}


def test_a_forged_version_made_the_default_during_a_deploy_is_not_recorded_and_is_put_back(
    account: Account, presigned: PresignedUrl
) -> None:
    """Audit s7 gap 2: the deploy snapshot recorded whatever version was the default as the deployed one. Now only
    the template's document is: the intruder's version, made the default while the stack is being deployed (the
    one moment a request is answered), is a problem of the answer; the record stays v1, which the enforcer puts
    back.
    """
    arn, document, environment = _declared_policy(account)
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    stack_id = _deploying(account)
    build_deploy_snapshot(account.session, environment).handle(_request("Create", presigned.url, StackId=stack_id))
    nothing = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    created = account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(nothing), SetAsDefault=True)

    build_deploy_snapshot(account.session, environment).handle(_request("Update", presigned.url, StackId=stack_id))

    first, second = (received.body for received in presigned.received)
    # The account's Block Public Access, read again, fills no gap: the first deploy's record stays (review pab-s13 F1).
    assert (first["Data"]["Problems"], second["Data"]["Snapshots"]) == ("0", "0")
    assert "the default version v2 of IAM Warden's policy" in second["Reason"]
    assert "grants other than its template declares: not recorded" in second["Reason"]
    snapshot = recorded.snapshot(OWN_POLICY, arn)
    assert snapshot is not None
    assert (snapshot.data["default_version"], snapshot.data["document"]) == ("v1", document)
    event = copy.deepcopy(load_event("tamper-own-policy-version.json"))
    event["detail"]["requestParameters"]["policyArn"] = arn
    event["detail"]["responseElements"]["policyVersion"]["versionId"] = created["PolicyVersion"]["VersionId"]
    own = own_identity_from_environment(environment)
    [finding] = judge_event(event, Settings(own=own), recorded=recorded).findings
    assert (finding.rule_id, finding.severity.value, finding.needs_context) == ("iamwarden-tampered", "critical", ())
    [step] = finding.plan
    assert (step.action.value, step.parameters["restore_to"]) == ("restore_own_policy_version", "v1")


def test_the_deploy_snapshot_waits_for_the_own_policies_and_asks_again_when_a_grant_changes() -> None:
    """Its properties name the policies (a dependency) and carry a digest of what they grant (a new Update)."""
    properties = translated_template()["Resources"]["DeploySnapshot"]["Properties"]
    joined = properties["OwnPolicies"]["Fn::Join"][1]
    assert {"Ref": "EnforcerRemediations1"} in joined
    assert len(properties["OwnPolicyDigest"]) == 16


def _forged_after_a_new_default_version(account: Account) -> tuple[str, dict[str, Any]]:
    """The deploy recorded v1 of a grant; an intruder made v2 (it denies everything) the default."""
    grants = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetRole", "Resource": "*"}]}
    arn = account.iam.create_policy(
        PolicyName="iamwarden-enforcer-remediations-1-us-east-1", PolicyDocument=json.dumps(grants)
    )["Policy"]["Arn"]
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    OwnPolicyWatch(recorded, account.iam, [arn], declared=lambda _arn: grants).record()
    nothing = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(nothing), SetAsDefault=True)
    return arn, {**_environment(account), "IAMWARDEN_ENFORCER_POLICY_ARNS": arn}


@pytest.mark.parametrize(
    ("stack", "why"),
    [
        (None, "cannot be read (ValidationError)"),  # the sample StackId: no such stack
        ("other", "not IAM Warden's own iamwarden"),
        ("complete", "is UPDATE_COMPLETE, not being deployed"),
    ],
)
def test_a_request_cloudformation_did_not_send_takes_nothing_and_is_not_answered(
    account: Account, presigned: PresignedUrl, stack: str | None, why: str
) -> None:
    """Audit s7 gap 2: invoking the heartbeat with {"RequestType": "Create"} recorded the intruder's version."""
    arn, environment = _forged_after_a_new_default_version(account)
    stack_id = STACK_ID
    if stack == "other":
        stack_id = _deploying(account, name="someone-elses")
    elif stack == "complete":
        stack_id = _deploying(account, status="UPDATE_COMPLETE")

    answer = build_deploy_snapshot(account.session, environment).handle(
        _request("Create", presigned.url, StackId=stack_id)
    )

    assert (answer["Status"], answer["answered"]) == ("REFUSED", False)
    assert why in answer["Reason"]
    assert presigned.received == [], "nothing is PUT to a URL CloudFormation did not give"
    snapshot = AuditRecorded(account.audit(), account.dynamodb).snapshot(OWN_POLICY, arn)
    assert snapshot is not None
    assert snapshot.data["default_version"] == "v1", "the deployed version stays the recorded one"


def test_a_stack_that_cannot_be_read_refuses_the_request(account: Account, presigned: PresignedUrl) -> None:
    from iamwarden.app.heartbeat import own_stack_refusal

    class Unreadable:
        def describe_stacks(self, **_: Any) -> dict[str, Any]:
            raise RuntimeError("AccessDenied")

    reason = own_stack_refusal({"StackId": STACK_ID}, Unreadable(), "iamwarden", HOME_ACCOUNT, REGION)
    assert reason is not None
    assert "cannot be read (AccessDenied)" in reason
