"""How the enforcer fails: loudly, recorded, retried, dead-lettered, and never on its own or failed calls."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from iamwarden.adapters.audit import AuditStatus
from iamwarden.adapters.clients import ClientFactory
from iamwarden.adapters.ssm_settings import SsmSettingsSource
from iamwarden.app.service import EnforcementFailedError, EnforcerService
from iamwarden.domain.exceptions import AwsAccessError
from iamwarden.domain.findings import Outcome
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.guardrail_cases import heartbeat_read_attachments


def _refuse(client: Any, operation: str, code: str = "AccessDenied", *, first: bool = False) -> Callable[[], None]:
    """Make ``operation`` fail on ``client`` the way AWS answers (botocore's before-call hook; ``first``: ahead of
    conftest's emulation of what moto lacks); return the undo."""

    def refuse(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Error": {"Code": code, "Message": f"injected {code}"}, "ResponseMetadata": {"HTTPStatusCode": 403}}
        return AWSResponse("https://iam.amazonaws.com/", 403, {}, None), error  # type: ignore[arg-type]

    event = f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}"
    register = client.meta.events.register_first if first else client.meta.events.register
    register(event, refuse, unique_id=f"refuse-{operation}")
    return lambda: client.meta.events.unregister(event, unique_id=f"refuse-{operation}")


def _invoke_async(enforcer: EnforcerService, event: dict[str, Any], account: Account, attempts: int = 3) -> bool:
    """What Lambda does with an asynchronous event (template: MaximumRetryAttempts 2, OnFailure SQS):

    try up to ``attempts`` times, then send the destination record to the dead-letter queue.
    """
    for _ in range(attempts):
        try:
            enforcer.handle(event)
            return True
        except EnforcementFailedError as exc:
            error = exc
    record = {
        "version": "1.0",
        "timestamp": "2026-11-21T10:00:00.000Z",
        "requestContext": {
            "requestId": "c2d1a6a3-7f0e-4a51-9f2e-0d6b8b3f1e11",
            "functionArn": f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:iamwarden-enforcer:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": str(error), "errorType": type(error).__name__},
    }
    account.sqs.send_message(QueueUrl=account.queues["EnforcerDeadLetterQueue"], MessageBody=json.dumps(record))
    return False


def test_partial_failure_is_recorded_alerted_retried_dead_lettered_then_replayed(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/iam-user-created/mode", "remediate")
    account.iam.create_user(UserName="backdoor-admin")
    key = account.iam.create_access_key(UserName="backdoor-admin")["AccessKey"]["AccessKeyId"]
    account.iam.create_login_profile(UserName="backdoor-admin", Password="correct-Horse-battery-9")
    iam = enforcer.executor.clients.client("iam", HOME_ACCOUNT, REGION)
    # Both deny-alls refused: the quarantine fails (issue 15), after shutting the key and the password it still can.
    allow_boundary = _refuse(iam, "PutUserPermissionsBoundary", first=True)
    allow_policy = _refuse(iam, "PutUserPolicy")
    event = load_event("create-user-backdoor-cli.json")

    assert _invoke_async(enforcer, event, account) is False

    [record] = account.audit().for_event(event["detail"]["eventID"])
    assert record.status == AuditStatus.FAILED
    assert f"deactivated access key {key}" in record.done
    assert "deleted the console password of backdoor-admin" in record.done
    assert "PutUserPermissionsBoundary failed with AccessDenied" in (record.error or "")
    assert "not done: quarantine user backdoor-admin" in (record.error or "")
    # The first attempt's before-state is kept: undo must restore the key as Active, not as the retry saw it.
    assert record.before[0]["access_keys"] == [{"id": key, "status": "Active"}]
    assert {
        "call": "iam:PutUserPermissionsBoundary",
        "account": HOME_ACCOUNT,
        "region": REGION,
        "ok": False,
        "error": "AccessDenied",
    } in record.calls
    failures = [n for n in notifier.sent if n.outcome is Outcome.REMEDIATION_FAILED]
    assert len(failures) == 1, "three attempts, one failure alert"
    assert "AccessDenied" in (failures[0].error or "")

    [message] = account.sqs.receive_message(QueueUrl=account.queues["EnforcerDeadLetterQueue"])["Messages"]
    dead = json.loads(message["Body"])
    assert dead["requestPayload"] == event

    allow_boundary()  # the operator fixes the permissions, then replays the dead-lettered event
    allow_policy()
    result = enforcer.handle(dead["requestPayload"])

    assert result["findings"][0]["outcome"] == "remediated"
    assert "iamwarden-quarantine" in account.iam.list_user_policies(UserName="backdoor-admin")["PolicyNames"]
    with pytest.raises(ClientError):
        account.iam.get_login_profile(UserName="backdoor-admin")
    stored = account.audit().get(record.remediation_id)
    assert stored is not None
    assert stored.status == AuditStatus.REMEDIATED
    assert stored.error is None
    assert [n.outcome for n in notifier.sent] == [Outcome.REMEDIATION_FAILED, Outcome.REMEDIATED]


def test_a_failure_reading_live_state_changes_nothing(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/managed-policy-attached/mode", "remediate")
    account.iam.create_role(RoleName="app-backend", AssumeRolePolicyDocument="{}")
    heartbeat_read_attachments(account, "2026-11-01T00:00:00Z")  # the event adds what the read did not see
    account.iam.attach_role_policy(RoleName="app-backend", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    _refuse(enforcer.executor.clients.client("iam", HOME_ACCOUNT, REGION), "ListAttachedRolePolicies")

    with pytest.raises(EnforcementFailedError, match="nothing"):
        enforcer.handle(load_event("attach-admin-to-role.json"))

    attached = account.iam.list_attached_role_policies(RoleName="app-backend")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AdministratorAccess"]
    [record] = account.audit().for_event(load_event("attach-admin-to-role.json")["detail"]["eventID"])
    assert record.status == AuditStatus.FAILED
    assert not record.before


def test_one_failing_finding_does_not_stop_the_others(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """A bucket policy with a public and a cross-account statement: both findings are handled and alerted."""
    account.set("rules/s3-bucket-policy-public/mode", "remediate")
    account.set("rules/s3-bucket-policy-cross-account/mode", "alert")
    event = load_event("bucket-policy-public-read.json")
    s3 = account.session.client("s3", region_name="eu-west-1")
    s3.create_bucket(Bucket="acme-invoices", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_policy(
        Bucket="acme-invoices", Policy=json.dumps(event["detail"]["requestParameters"]["bucketPolicy"])
    )
    _refuse(enforcer.executor.clients.client("s3", HOME_ACCOUNT, "eu-west-1"), "DeleteBucketPolicy")

    with pytest.raises(EnforcementFailedError):
        enforcer.handle(event)

    assert [n.outcome for n in notifier.sent] == [Outcome.REMEDIATION_FAILED]


@pytest.mark.parametrize(
    "sample",
    [
        "create-user-by-warden.json",
        "create-user-access-denied.json",
        "attach-admin-no-such-entity.json",
        "create-user-service-linked-role.json",
        "create-user-unmanaged-account.json",
    ],
)
def test_own_failed_and_unmanaged_changes_are_never_acted_on(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, sample: str
) -> None:
    for rule in ("iam-user-created", "managed-policy-attached"):
        account.set(f"rules/{rule}/mode", "remediate")
    account.set("managed_accounts", HOME_ACCOUNT)
    event = load_event(sample)

    result = enforcer.handle(event)

    assert result["verdict"] == "ignored"
    assert result["findings"] == []
    assert account.audit().for_event(event["detail"]["eventID"]) == []
    assert notifier.sent == []


def test_break_glass_is_recorded_and_alerted_never_remediated(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/iam-user-created/mode", "remediate")
    account.set("break_glass_principals", "arn:aws:iam::*:role/BreakGlassAdmin")
    account.iam.create_user(UserName="incident-responder")
    key = account.iam.create_access_key(UserName="incident-responder")["AccessKey"]["AccessKeyId"]

    [finding] = enforcer.handle(load_event("create-user-break-glass.json"))["findings"]

    assert finding["outcome"] == "noteworthy"
    assert account.iam.list_access_keys(UserName="incident-responder")["AccessKeyMetadata"][0]["Status"] == "Active"
    assert [n.outcome for n in notifier.sent] == [Outcome.NOTEWORTHY]
    assert key


def test_an_invalid_setting_alerts_once_and_its_rule_falls_back_to_alert(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/iam-user-created/mode", "remediat")  # a typo
    account.set("rules/managed-policy-attached/mode", "remediate")
    account.iam.create_user(UserName="backdoor-admin")
    account.iam.create_role(RoleName="app-backend", AssumeRolePolicyDocument="{}")
    heartbeat_read_attachments(account, "2026-11-01T00:00:00Z")  # the event adds what the read did not see
    account.iam.attach_role_policy(RoleName="app-backend", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")

    user = enforcer.handle(load_event("create-user-backdoor-cli.json"))
    role = enforcer.handle(load_event("attach-admin-to-role.json"))

    assert user["findings"][0]["outcome"] == "alerted"
    assert role["findings"][0]["outcome"] == "remediated", "one bad parameter never blocks other rules"
    configuration = [n for n in notifier.sent if n.outcome is Outcome.CONFIGURATION_ERROR]
    assert len(configuration) == 1
    [problem] = configuration[0].problems
    assert problem.key == "rules/iam-user-created/mode"


def test_settings_that_cannot_be_read_fail_the_event(account: Account, enforcer: EnforcerService) -> None:
    """Acting on guessed settings is never an option: the event fails, and is retried and dead-lettered."""
    source = enforcer.settings_source
    assert isinstance(source, SsmSettingsSource)
    _refuse(source.provider.client, "GetParametersByPath")
    with pytest.raises(Exception, match="cannot read settings under /iamwarden"):
        enforcer.handle(load_event("create-user-backdoor-cli.json"))


# --- acting in the right account --------------------------------------------------------------

MEMBER = "444455556666"


def _member_session(account: Account) -> boto3.Session:
    """Credentials in the member account, as moto issues them for a cross-account assumed role."""
    sts = account.session.client("sts")
    answer = sts.assume_role(RoleArn=f"arn:aws:iam::{MEMBER}:role/iamwarden-remediator", RoleSessionName="setup")
    credentials = answer["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


def _member_event() -> dict[str, Any]:
    event = json.loads(json.dumps(load_event("create-user-backdoor-cli.json")).replace(HOME_ACCOUNT, MEMBER))
    return dict(event)


def test_a_member_account_is_remediated_through_its_member_role(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/iam-user-created/mode", "remediate")
    account.set("managed_accounts", f"{HOME_ACCOUNT},{MEMBER}")
    member_iam = _member_session(account).client("iam")
    member_iam.create_user(UserName="backdoor-admin")
    key = member_iam.create_access_key(UserName="backdoor-admin")["AccessKey"]["AccessKeyId"]
    account.iam.create_user(UserName="backdoor-admin")  # a namesake in the home account must not be touched
    home_key = account.iam.create_access_key(UserName="backdoor-admin")["AccessKey"]["AccessKeyId"]

    [finding] = enforcer.handle(_member_event())["findings"]

    assert finding["outcome"] == "remediated"
    assert member_iam.list_access_keys(UserName="backdoor-admin")["AccessKeyMetadata"][0] | {} == {
        **member_iam.list_access_keys(UserName="backdoor-admin")["AccessKeyMetadata"][0],
        "AccessKeyId": key,
        "Status": "Inactive",
    }
    assert account.iam.list_access_keys(UserName="backdoor-admin")["AccessKeyMetadata"][0]["AccessKeyId"] == home_key
    assert account.iam.list_access_keys(UserName="backdoor-admin")["AccessKeyMetadata"][0]["Status"] == "Active"
    assert account.iam.list_user_policies(UserName="backdoor-admin")["PolicyNames"] == []


def test_an_unmanaged_member_account_is_left_alone(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/iam-user-created/mode", "remediate")
    account.set("managed_accounts", HOME_ACCOUNT)

    result = enforcer.handle(_member_event())

    assert result["verdict"] == "ignored"
    assert f"account {MEMBER} is not managed" in result["reason"]


def test_a_member_role_that_cannot_be_assumed_is_an_access_error() -> None:
    from botocore.stub import Stubber

    session = boto3.Session(aws_access_key_id="a", aws_secret_access_key="b", region_name=REGION)
    sts = session.client("sts")
    stubber = Stubber(sts)
    stubber.add_client_error("assume_role", service_error_code="AccessDenied", service_message="not trusted")
    stubber.activate()

    class OneClientSession:
        region_name = REGION

        def client(self, service: str, **_: Any) -> Any:
            assert service == "sts"
            return sts

    factory = ClientFactory(HOME_ACCOUNT, session=OneClientSession())  # type: ignore[arg-type]
    with pytest.raises(AwsAccessError, match=f"cannot assume arn:aws:iam::{MEMBER}:role/iamwarden-remediator"):
        factory.client("iam", MEMBER, REGION)
