"""Each rule end to end against moto: the live state is read back, never a mock asserted.

Per rule: remediate mode fixes the live state; alert mode leaves it alone and
alerts; a compliant resource is not touched; a duplicate event acts once; undo
restores the exact before-state.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from botocore.exceptions import ClientError

from iamwarden.adapters.audit import AuditStatus
from iamwarden.adapters.clients import ClientFactory
from iamwarden.app.service import EnforcerService
from iamwarden.app.wiring import build_enforcer_service
from iamwarden.domain.findings import Outcome
from iamwarden.guardrails.iam_user import DENY_ALL_POLICY, QUARANTINE_TAG_FINDING
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier, answer_service_specific_credentials
from tests.functional.guardrail_cases import heartbeat_read_attachments

QUARANTINE = "iamwarden-quarantine"


def _user_with_credentials(account: Account, name: str = "backdoor-admin") -> str:
    account.iam.create_user(UserName=name)
    key: str = account.iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    account.iam.create_login_profile(UserName=name, Password="correct-Horse-battery-9")
    return key


def _keys(account: Account, name: str) -> dict[str, str]:
    return {k["AccessKeyId"]: k["Status"] for k in account.iam.list_access_keys(UserName=name)["AccessKeyMetadata"]}


def _error(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return str(caught.value.response["Error"]["Code"])


# --- iam-user-created -------------------------------------------------------------------------


def test_remediate_quarantines_the_new_user(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/iam-user-created/mode", "remediate")
    key = _user_with_credentials(account)

    result = enforcer.handle(load_event("create-user-backdoor-cli.json"))

    [finding] = result["findings"]
    assert finding["outcome"] == "remediated"
    policy = account.iam.get_user_policy(UserName="backdoor-admin", PolicyName=QUARANTINE)["PolicyDocument"]
    assert policy == DENY_ALL_POLICY
    assert _keys(account, "backdoor-admin") == {key: "Inactive"}
    assert _error(account.iam.get_login_profile, UserName="backdoor-admin") == "NoSuchEntity"
    tags = {t["Key"]: t["Value"] for t in account.iam.list_user_tags(UserName="backdoor-admin")["Tags"]}
    assert tags[QUARANTINE_TAG_FINDING] == finding["finding_id"]
    [alert] = notifier.sent
    assert alert.outcome is Outcome.REMEDIATED
    assert alert.remediation_id == finding["remediation_id"]
    assert any("deactivated access key" in line for line in alert.actions)

    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.status == AuditStatus.REMEDIATED
    [before] = record.before
    assert before["access_keys"] == [{"id": key, "status": "Active"}]
    assert before["login_profile"] == {"password_reset_required": False}
    calls = {call["call"] for call in record.calls}
    assert {"iam:PutUserPolicy", "iam:UpdateAccessKey", "iam:DeleteLoginProfile", "iam:TagUser"} <= calls


def test_undo_lifts_the_quarantine_and_keeps_a_record(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/iam-user-created/mode", "remediate")
    key = _user_with_credentials(account)
    account.iam.tag_user(UserName="backdoor-admin", Tags=[{"Key": "team", "Value": "payments"}])
    [finding] = enforcer.handle(load_event("create-user-backdoor-cli.json"))["findings"]

    undo = enforcer.executor.undo(finding["remediation_id"], actor="arn:aws:iam::111122223333:user/secops")

    assert _keys(account, "backdoor-admin") == {key: "Active"}
    assert account.iam.list_user_policies(UserName="backdoor-admin")["PolicyNames"] == []
    tags = {t["Key"]: t["Value"] for t in account.iam.list_user_tags(UserName="backdoor-admin")["Tags"]}
    assert tags == {"team": "payments"}
    assert any("NOT restored: the console password" in line for line in undo.restored)
    history = account.audit().history(undo.resource_arn)
    assert [(r.kind, r.status) for r in history] == [("remediation", "undone"), ("undo", "undo")]
    with pytest.raises(Exception, match="already undone"):
        enforcer.executor.undo(finding["remediation_id"])


def test_alert_mode_changes_nothing_and_alerts(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    key = _user_with_credentials(account)  # the template's default mode is alert

    [finding] = enforcer.handle(load_event("create-user-backdoor-cli.json"))["findings"]

    assert finding["outcome"] == "alerted"
    assert _keys(account, "backdoor-admin") == {key: "Active"}
    assert account.iam.list_user_policies(UserName="backdoor-admin")["PolicyNames"] == []
    account.iam.get_login_profile(UserName="backdoor-admin")
    [alert] = notifier.sent
    assert alert.outcome is Outcome.ALERTED
    assert alert.actions
    assert "quarantine user backdoor-admin" in alert.actions[0]
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.status == AuditStatus.ALERTED
    assert not record.before


def _deleting_enforcer(account: Account) -> EnforcerService:
    """The enforcer of a stack deployed with UserRemediation=delete (its roles may delete users)."""
    clients = ClientFactory(HOME_ACCOUNT, account.config.member_role_name, session=account.session)
    config = account.config._replace(user_remediation="delete")
    return build_enforcer_service(config, clients=clients, notifier=RecordingNotifier())


def test_delete_mode_is_refused_by_a_stack_not_granted_deletion_and_the_user_is_quarantined(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/iam-user-created/mode", "remediate")
    account.set("rules/iam-user-created/remediation", "delete")
    _user_with_credentials(account)
    enforcer.handle(load_event("create-user-backdoor-cli.json"))
    assert account.iam.get_user(UserName="backdoor-admin")["User"]["UserName"] == "backdoor-admin"
    assert account.iam.list_user_policies(UserName="backdoor-admin")["PolicyNames"] == ["iamwarden-quarantine"]
    [configuration] = [n for n in notifier.sent if n.outcome is Outcome.CONFIGURATION_ERROR]
    assert [problem.key for problem in configuration.problems] == ["rules/iam-user-created/remediation"]
    assert "UserRemediation=delete" in configuration.problems[0].message


def test_delete_mode_removes_the_user_and_everything_blocking_it(account: Account) -> None:
    enforcer = _deleting_enforcer(account)
    account.set("rules/iam-user-created/mode", "remediate")
    account.set("rules/iam-user-created/remediation", "delete")
    _user_with_credentials(account)
    account.iam.create_group(GroupName="ops")
    account.iam.add_user_to_group(GroupName="ops", UserName="backdoor-admin")
    account.iam.put_user_policy(
        UserName="backdoor-admin", PolicyName="inline", PolicyDocument=json.dumps(DENY_ALL_POLICY)
    )
    mfa = account.iam.create_virtual_mfa_device(VirtualMFADeviceName="backdoor-mfa")["VirtualMFADevice"]
    account.iam.enable_mfa_device(
        UserName="backdoor-admin",
        SerialNumber=mfa["SerialNumber"],
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )
    account.iam.upload_ssh_public_key(UserName="backdoor-admin", SSHPublicKeyBody=_SSH_KEY)
    answer_service_specific_credentials(enforcer.executor.clients.client("iam", HOME_ACCOUNT, "us-east-1"))

    [finding] = enforcer.handle(load_event("create-user-backdoor-cli.json"))["findings"]

    assert finding["outcome"] == "remediated"
    assert _error(account.iam.get_user, UserName="backdoor-admin") == "NoSuchEntity"
    assert account.iam.get_group(GroupName="ops")["Users"] == []
    with pytest.raises(Exception, match="cannot be undone"):
        enforcer.executor.undo(finding["remediation_id"])


_SSH_KEY = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDZ9pDmZuS3ww4+bJ3yyhjY8RmzyAfaSg3N5B7zYcVWnKy7Yl+Ss6vOOyeF4Kc2wLTn"
    "L2q4a9QYqOtl+ny5k0ogCyBt8YYy4EjcZqOlzszKuiK4vPM1BvHvKhhkLVnQ4mJ4Jv5Dgi6qIUK3ObK4Sd0Wl8cEIVZ0DHBQjo3iqz4"
    "mKe8r0QSf9KFhSzJpqi9l0LKkxRJk1Hbxg/1YY4NVLlz+z7HmH7v1WKqu0C7FqkG1v1xLwr6u2QkYUzX5UvEq7Q3CxQZ/4+B8R/hx"
    "zBZ0Q9HHVn9v0Ki6MtdHxJpzG8ksW2N6vEC8/5Fz2LOsA0w/9YjQzjiC8ZxjKN5u3sdTIhkx test@example.com"
)


# --- managed-policy-attached ------------------------------------------------------------------

ATTACHMENTS = [
    ("attach-admin-to-role.json", "role", "app-backend", "AdministratorAccess"),
    ("attach-readonly-to-user.json", "user", "auditor-bot", "ReadOnlyAccess"),
    ("attach-iamfullaccess-to-group.json", "group", "developers", "IAMFullAccess"),
]


def _attached(account: Account, kind: str, name: str) -> list[str]:
    operation = getattr(account.iam, f"list_attached_{kind}_policies")
    return [p["PolicyArn"] for p in operation(**{f"{kind.capitalize()}Name": name})["AttachedPolicies"]]


def _principal_with(account: Account, kind: str, name: str, *policy_arns: str) -> None:
    """The principal with ``policy_arns``; the heartbeat read it before the last (the event's attach)."""
    if kind == "role":
        account.iam.create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
        )
    else:
        getattr(account.iam, f"create_{kind}")(**{f"{kind.capitalize()}Name": name})
    for number, arn in enumerate(policy_arns):
        if number == len(policy_arns) - 1:
            heartbeat_read_attachments(account, "2026-11-01T00:00:00Z")
        getattr(account.iam, f"attach_{kind}_policy")(**{f"{kind.capitalize()}Name": name, "PolicyArn": arn})
    if not policy_arns:
        heartbeat_read_attachments(account, "2026-11-01T00:00:00Z")


def _customer_policy(account: Account) -> str:
    document = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    )
    arn: str = account.iam.create_policy(PolicyName="app-s3-read", PolicyDocument=document)["Policy"]["Arn"]
    return arn


@pytest.mark.parametrize(("sample", "kind", "name", "policy"), ATTACHMENTS)
def test_remediate_detaches_exactly_the_attached_policy(  # noqa: PLR0917 - pytest parameters
    account: Account, enforcer: EnforcerService, sample: str, kind: str, name: str, policy: str
) -> None:
    account.set("rules/managed-policy-attached/mode", "remediate")
    keep = _customer_policy(account)
    aws_arn = f"arn:aws:iam::aws:policy/{policy}"
    _principal_with(account, kind, name, keep, aws_arn)

    [finding] = enforcer.handle(load_event(sample))["findings"]

    assert finding["outcome"] == "remediated"
    assert _attached(account, kind, name) == [keep]
    enforcer.executor.undo(finding["remediation_id"])
    assert sorted(_attached(account, kind, name)) == sorted([keep, aws_arn])


def test_an_already_detached_policy_is_left_alone(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/managed-policy-attached/mode", "remediate")
    _principal_with(account, "role", "app-backend")  # someone detached it before the event arrived

    [finding] = enforcer.handle(load_event("attach-admin-to-role.json"))["findings"]

    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.status == AuditStatus.REMEDIATED
    assert record.done == []
    assert {call["call"] for call in record.calls} == {"iam:ListAttachedRolePolicies"}


# --- s3 bucket policies ---------------------------------------------------------------------


def _bucket(account: Account, name: str, policy: dict[str, Any] | None) -> None:
    account.s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    if policy is not None:
        account.s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))


def _policy(account: Account, bucket: str) -> dict[str, Any] | None:
    try:
        return dict(json.loads(account.s3.get_bucket_policy(Bucket=bucket)["Policy"]))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchBucketPolicy":
            raise
        return None


def _event_policy(sample: str) -> dict[str, Any]:
    return dict(load_event(sample)["detail"]["requestParameters"]["bucketPolicy"])


def test_public_statement_removed_and_the_rest_kept(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/s3-bucket-policy-cross-account/mode", "remediate")
    policy = _event_policy("bucket-policy-unknown-account.json")
    _bucket(account, "acme-exports", policy)

    [finding] = enforcer.handle(load_event("bucket-policy-unknown-account.json"))["findings"]

    assert finding["outcome"] == "remediated"
    live = _policy(account, "acme-exports")
    assert live is not None
    assert [s["Sid"] for s in live["Statement"]] == ["OwnAccount"]
    enforcer.executor.undo(finding["remediation_id"])
    assert _policy(account, "acme-exports") == policy


def test_a_policy_of_only_offending_statements_is_deleted_and_restored(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set("rules/s3-bucket-policy-public/mode", "remediate")
    policy = _event_policy("bucket-policy-public-read.json")
    _bucket(account, "acme-invoices", policy)

    [finding] = enforcer.handle(load_event("bucket-policy-public-read.json"))["findings"]

    assert finding["outcome"] == "remediated"
    assert _policy(account, "acme-invoices") is None
    enforcer.executor.undo(finding["remediation_id"])
    assert _policy(account, "acme-invoices") == policy


def test_a_later_compliant_policy_is_never_touched(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/s3-bucket-policy-public/mode", "remediate")
    later = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OwnRead",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::acme-invoices/*",
            }
        ],
    }
    _bucket(account, "acme-invoices", later)

    [finding] = enforcer.handle(load_event("bucket-policy-public-read.json"))["findings"]

    assert _policy(account, "acme-invoices") == later
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.done == []
    assert {call["call"] for call in record.calls} == {"s3:GetBucketPolicy"}


def test_undo_restores_statements_into_the_current_policy(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/s3-bucket-policy-cross-account/mode", "remediate")
    policy = _event_policy("bucket-policy-unknown-account.json")
    _bucket(account, "acme-exports", policy)
    [finding] = enforcer.handle(load_event("bucket-policy-unknown-account.json"))["findings"]
    current = _policy(account, "acme-exports")
    assert current is not None
    added = {
        "Sid": "Later",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:DeleteObject",
        "Resource": "arn:aws:s3:::acme-exports/*",
    }
    current["Statement"].append(added)
    account.s3.put_bucket_policy(Bucket="acme-exports", Policy=json.dumps(current))

    enforcer.executor.undo(finding["remediation_id"])

    restored = _policy(account, "acme-exports")
    assert restored is not None
    assert restored["Statement"] == [*current["Statement"], policy["Statement"][1]]


# --- once in effect ---------------------------------------------------------------------------


def test_a_duplicate_event_acts_and_alerts_once(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/iam-user-created/mode", "remediate")
    _user_with_credentials(account)
    event = load_event("create-user-backdoor-cli.json")

    first = enforcer.handle(event)
    second = enforcer.handle(event)

    assert first == second
    assert len(notifier.sent) == 1
    [record] = account.audit().for_event(event["detail"]["eventID"])
    writes = [call for call in record.calls if call["call"] in ("iam:PutUserPolicy", "iam:UpdateAccessKey")]
    assert len(writes) == 2


def _idempotency_records(account: Account) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = account.dynamodb.scan(TableName=account.config.idempotency_table)["Items"]
    return items


def test_an_event_with_nothing_to_record_is_answered_without_an_idempotency_record(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Judging changes nothing, so a compliant event (most events) skips Idempotency; delivered again, it is
    judged again, with the same answer, and still nothing is recorded, written or sent."""
    event = load_event("put-role-policy-scoped-s3.json")

    first = enforcer.handle(event)
    second = enforcer.handle(event)

    assert first["verdict"] == "compliant"
    assert second == first
    assert _idempotency_records(account) == []
    assert account.audit().for_event(event["detail"]["eventID"]) == []
    assert notifier.sent == []


def test_an_event_with_a_finding_keeps_its_first_answer_in_the_idempotency_table(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """The key is the one records were written under before compliant events skipped Idempotency, so a record
    written by the earlier code still answers a redelivery (Powertools: function.module.qualname#hash)."""
    account.set("rules/iam-user-created/mode", "remediate")
    _user_with_credentials(account)
    event = load_event("create-user-backdoor-cli.json")

    first = enforcer.handle(event)

    [record] = _idempotency_records(account)
    assert record["status"]["S"] == "COMPLETED"
    assert record["id"]["S"].startswith("test-func.iamwarden.app.service.EnforcerService._process_event#")
    assert json.loads(record["data"]["S"]) == first


def test_a_finding_delivered_again_while_the_first_delivery_runs_is_retried_not_acted_on(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """A delivery that finds the first still in progress fails (Lambda retries it) and changes nothing."""
    account.set("rules/iam-user-created/mode", "remediate")
    _user_with_credentials(account)
    event = load_event("create-user-backdoor-cli.json")
    enforcer.handle(event)
    [record] = _idempotency_records(account)
    account.dynamodb.update_item(
        TableName=account.config.idempotency_table,
        Key={"id": record["id"]},
        UpdateExpression="SET #status = :progress",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":progress": {"S": "INPROGRESS"}},
    )
    audit = account.audit().for_event(event["detail"]["eventID"])
    sent = list(notifier.sent)

    with pytest.raises(IdempotencyAlreadyInProgressError):
        enforcer.handle(event)

    assert account.audit().for_event(event["detail"]["eventID"]) == audit
    assert notifier.sent == sent


def test_concurrent_bucket_events_converge(account: Account, enforcer: EnforcerService) -> None:
    """Two policy changes on one bucket, handled in either order, leave only the compliant statements."""
    account.set("rules/s3-bucket-policy-public/mode", "remediate")
    account.set("rules/s3-bucket-policy-cross-account/mode", "remediate")
    public = _event_policy("bucket-policy-public-read.json")
    shared = _event_policy("bucket-policy-unknown-account.json")
    combined = {"Version": "2012-10-17", "Statement": public["Statement"] + shared["Statement"]}
    _bucket(account, "acme-invoices", combined)
    first = load_event("bucket-policy-public-read.json")
    second = load_event("bucket-policy-unknown-account.json")
    second["detail"]["requestParameters"]["bucketName"] = "acme-invoices"
    second["detail"]["requestParameters"]["bucketPolicy"] = combined

    enforcer.handle(second)
    enforcer.handle(first)

    live = _policy(account, "acme-invoices")
    assert live is not None
    assert [s["Sid"] for s in live["Statement"]] == ["OwnAccount"]


def _as_user(account: Account, key: dict[str, str]) -> str:
    """List buckets with the user's own access key, with moto enforcing IAM policies; the error code or "ok"."""
    from moto.core import set_initial_no_auth_action_count

    def call() -> str:
        s3 = boto3.client(
            "s3",
            region_name="us-east-1",
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
            aws_session_token=None,
        )
        try:
            s3.list_buckets()
        except ClientError as exc:
            return str(exc.response["Error"]["Code"])
        return "ok"

    return set_initial_no_auth_action_count(0)(call)()


def test_a_quarantined_then_undone_user_can_use_its_keys_again(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/iam-user-created/mode", "remediate")
    account.iam.create_user(UserName="backdoor-admin")
    allow_list = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}],
    }
    account.iam.put_user_policy(UserName="backdoor-admin", PolicyName="list", PolicyDocument=json.dumps(allow_list))
    key = account.iam.create_access_key(UserName="backdoor-admin")["AccessKey"]
    assert _as_user(account, key) == "ok"

    [finding] = enforcer.handle(load_event("create-user-backdoor-cli.json"))["findings"]
    assert _as_user(account, key) == "AccessDenied"
    assert _keys(account, "backdoor-admin") == {key["AccessKeyId"]: "Inactive"}

    enforcer.executor.undo(finding["remediation_id"])

    assert _keys(account, "backdoor-admin") == {key["AccessKeyId"]: "Active"}
    assert _as_user(account, key) == "ok"
