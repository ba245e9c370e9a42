"""An AWS account in moto built from template.yaml, and the enforcer service wired as in Lambda."""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Iterator
from typing import Any, NamedTuple

import boto3
import pytest
from moto import mock_aws

from iamwarden.adapters.audit import AuditLog
from iamwarden.adapters.clients import ClientFactory
from iamwarden.alerts.notifications import Notification
from iamwarden.app.config import EnforcerConfig
from iamwarden.app.service import EnforcerService
from iamwarden.app.wiring import build_enforcer_service
from iamwarden.domain.delivery import Delivery, DeliveryReport
from tests.aws_fixtures import (
    HOME_ACCOUNT,
    REGION,
    create_parameters,
    create_queues,
    create_secrets,
    create_tables,
    create_topics,
    function_environment,
)


class RecordingNotifier:
    """Stands in for the alert channels: keeps every notification it is given."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def notify(self, notification: Notification) -> DeliveryReport:
        self.sent.append(notification)
        return DeliveryReport((Delivery("recorder", ok=True),))


class Account(NamedTuple):
    session: boto3.Session
    iam: Any
    s3: Any
    ssm: Any
    sqs: Any
    dynamodb: Any
    queues: dict[str, str]
    config: EnforcerConfig
    #: The users' permissions boundaries moto does not keep (``answer_user_boundaries``), by user name: another
    #: session of the same account (the enforcer's own, in test_fault_injection.py) shares them.
    user_boundaries: dict[str, str]

    def set(self, name: str, value: str, *, writer: str | None = None) -> int:
        """Set a setting parameter under the prefix (rules/iam-user-created/mode …), as ``writer`` when given (what
        its history's ``LastModifiedUser`` then says, ``SSM_WRITERS``); the version it made."""
        full = f"{self.config.settings_prefix}/{name}"
        version = int(self.ssm.put_parameter(Name=full, Value=value, Type="String", Overwrite=True)["Version"])
        if writer is not None:
            SSM_WRITERS[(full, version)] = writer
        return version

    def audit(self) -> AuditLog:
        return AuditLog(self.config.audit_table, self.dynamodb)


#: The AWS-managed policies the samples and tests attach; moto loads only these (all ~1,300 take seconds).
AWS_MANAGED_POLICIES = (
    "AdministratorAccess",
    "ReadOnlyAccess",
    "IAMFullAccess",
    "PowerUserAccess",
    "AWSLambdaBasicExecutionRole",
    "ViewOnlyAccess",
    "AmazonEC2FullAccess",
)


@functools.cache
def _managed_policies_subset() -> str:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    every = json.loads(aws_managed_policies_data)
    return json.dumps({name: every[name] for name in AWS_MANAGED_POLICIES})


#: Who wrote each SSM parameter version (``(name, version) -> ARN``), as ``GetParameterHistory``'s
#: ``LastModifiedUser`` answers; moto answers "N/A" (someone unknown) for the rest. Emptied for each account.
SSM_WRITERS: dict[tuple[str, int], str] = {}


def _ssm_history_names_its_writers(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.ssm.models import Parameter

    SSM_WRITERS.clear()
    described = Parameter.describe_response_object

    def with_writer(self: Any, decrypt: bool = False, include_labels: bool = False) -> dict[str, Any]:
        answer: dict[str, Any] = described(self, decrypt, include_labels)
        answer["LastModifiedUser"] = SSM_WRITERS.get((self.name, self.version), answer.get("LastModifiedUser"))
        return answer

    monkeypatch.setattr(Parameter, "describe_response_object", with_writer)


def account_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The enforcer's environment from the template, with moto's test credentials."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "1",
        **function_environment("EnforcerFunction"),
        "IAMWARDEN_SETTINGS_MAX_AGE": "0",  # every event sees the latest parameters
        # The samples are dated when they were written: their age is not checked here (tests/functional/test_replays.py
        # sets the bound and the clock).
        "IAMWARDEN_MAX_EVENT_AGE_SECONDS": "0",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)  # it would override assumed-role accounts too
    # moto's account for plain test credentials; assumed-role credentials keep their own account.
    monkeypatch.setattr("moto.iam.models.DEFAULT_ACCOUNT_ID", HOME_ACCOUNT)
    monkeypatch.setattr("moto.iam.models.aws_managed_policies_data", _managed_policies_subset())
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    _kms_key_state_calls_take_arns(monkeypatch)
    _ssm_history_names_its_writers(monkeypatch)


def _kms_key_state_calls_take_arns(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's Enable/DisableKey and Cancel/ScheduleKeyDeletion take a bare key id only; AWS takes the ARN too."""
    from moto.kms.models import KmsBackend

    for name in ("enable_key", "disable_key", "cancel_key_deletion", "schedule_key_deletion"):
        method = getattr(KmsBackend, name)

        def by_arn(self: Any, key_id: str, *args: Any, _method: Any = method) -> Any:
            return _method(self, KmsBackend.get_key_id(key_id), *args)

        monkeypatch.setattr(KmsBackend, name, by_arn)


@contextlib.contextmanager
def moto_account() -> Iterator[Account]:
    """A fresh moto account with the template's tables, parameters, queues, topics and secrets."""
    # The samples attach AWS-managed policies, which moto only knows when asked to load them.
    with mock_aws(config={"iam": {"load_aws_managed_policies": True}}):
        session = boto3.Session(region_name=REGION)
        boundaries = answer_user_boundaries(session)
        dynamodb = session.client("dynamodb")
        create_tables(dynamodb)
        create_parameters(session.client("ssm"))
        queues = create_queues(session.client("sqs"))
        create_topics(session.client("sns"))
        create_secrets(session.client("secretsmanager"))
        yield Account(
            session,
            session.client("iam"),
            session.client("s3", region_name="eu-west-1"),
            session.client("ssm"),
            session.client("sqs"),
            dynamodb,
            queues,
            EnforcerConfig.from_environment(),
            boundaries,
        )


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    account_environment(monkeypatch)
    with moto_account() as fresh:
        yield fresh


def answer_service_specific_credentials(iam: Any) -> None:
    """moto does not implement ListServiceSpecificCredentials: answer it (empty) through botocore's hooks."""
    from botocore.awsrequest import AWSResponse

    def empty(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://iam.amazonaws.com/", 200, {}, None), {"ServiceSpecificCredentials": []}  # type: ignore[arg-type]

    iam.meta.events.register("before-call.iam.ListServiceSpecificCredentials", empty)


def answer_user_boundaries(session: boto3.Session, boundaries: dict[str, str] | None = None) -> dict[str, str]:
    """moto implements no user permissions boundary (``Put/DeleteUserPermissionsBoundary`` raise, ``GetUser`` shows
    none): answer them through botocore's hooks for every client of ``session``, keeping the boundary by user name
    in ``boundaries`` (given: shared with another session of the same account), which it returns.
    """
    from botocore.awsrequest import AWSResponse

    boundaries = {} if boundaries is None else boundaries

    def answered() -> AWSResponse:
        return AWSResponse("https://iam.amazonaws.com/", 200, {}, None)  # type: ignore[arg-type]

    def put(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        body = params["body"]  # the query protocol's serialised request
        boundaries[body["UserName"]] = body["PermissionsBoundary"]
        return answered(), {}

    def delete(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        boundaries.pop(params["body"]["UserName"], None)
        return answered(), {}

    def shown(parsed: dict[str, Any], **_: Any) -> None:
        user = parsed.get("User") or {}
        if user.get("UserName") in boundaries:
            user["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": boundaries[user["UserName"]],
            }

    events: Any = session.events  # a before-call hook answers by returning (response, parsed)
    events.register("before-call.iam.PutUserPermissionsBoundary", put)
    events.register("before-call.iam.DeleteUserPermissionsBoundary", delete)
    events.register("after-call.iam.GetUser", shown)
    return boundaries


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def enforcer(account: Account, notifier: RecordingNotifier) -> EnforcerService:
    """The service as Lambda wires it (SSM settings, audit and idempotency tables), alerts recorded."""
    clients = ClientFactory(HOME_ACCOUNT, account.config.member_role_name, session=account.session)
    return build_enforcer_service(account.config, clients=clients, notifier=notifier)


def create_logging_trail(session: boto3.Session, region: str, name: str = "org-audit") -> str:
    """A multi-region trail that logs every management event, as each account has one in production: without it
    the heartbeat reports that IAM Warden sees nothing there (``app.trail_coverage``). Returns its ARN."""
    bucket = f"{name}-logs-{session.client('sts').get_caller_identity()['Account']}"
    s3 = session.client("s3", region_name="us-east-1")  # the bucket's region does not matter here
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=bucket)
    cloudtrail = session.client("cloudtrail", region_name=region)
    arn = str(cloudtrail.create_trail(Name=name, S3BucketName=bucket, IsMultiRegionTrail=True)["TrailARN"])
    cloudtrail.start_logging(Name=name)
    return arn
