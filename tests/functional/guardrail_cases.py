"""What the guardrail contract test needs to know about each rule: one ``GuardrailCase`` per rule id.

tests/functional/test_guardrail_contract.py runs the same behaviours for every rule in the
registry and fails for a rule that has no case here, so a new guardrail lands with its contract.
A case says, for its rule:

* ``violation``: how to build in moto the live state a violating sample event describes, the
  event to deliver (a file in events/, adjusted only where moto chooses ids), and how to read
  that state back as plain data;
* ``remediated``: what that read-back must be once remediated;
* ``compliant``: the same for a compliant change of the rule (with the settings that make it so);
* ``findings``: the rules the violating event has findings for, when it shares the event with
  another rule (an S3 bucket policy judged public and cross-account; inline policies judged
  admin-equivalent and escalating);
* ``partial_failure``: which AWS write of the plan to make fail, and how much was done before it;
* ``undo_refused``: why undo cannot restore the before-state by design (it must then refuse);
* ``moto_gaps``: behaviours moto cannot support for the rule, each with the reason (strict xfail).

Only public interfaces are used: the sample events, boto3 clients on the moto account, and
the SSM settings the enforcer reads. Nothing here imports a guardrail module.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ClientError

from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account

BUCKET_REGION = "eu-west-1"
#: Where the samples of the other resource-policy rules (queues, topics, ...) live.
RESOURCE_REGION = "eu-west-1"
EMPTY_TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})
SAFE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
SAFE_READ_WRITE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"}],
}
#: What quarantine attaches: the deny-all inline policy (the contract states it; no guardrail module is imported).
DENY_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "IamWardenQuarantine", "Effect": "Deny", "Action": "*", "Resource": "*"}],
}
ALL_BLOCKED = dict.fromkeys(("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True)
#: A tag value IAM Warden chooses (the finding id, the time): the read-back says only that it is set.
SET_BY_IAMWARDEN = "<set by IAM Warden>"

State = Callable[[Account], Any]


class Behaviour(StrEnum):
    """The behaviours every guardrail must show end to end."""

    REMEDIATED = "violation remediated"
    ALERT_ONLY = "alert mode untouched"
    COMPLIANT = "compliant untouched"
    DUPLICATE = "duplicate acted on once"
    OWN_ROLE = "own role ignored"
    FAILED_CALL = "failed call ignored"
    PARTIAL_FAILURE = "partial failure recorded"
    UNDO = "undo exact"


class Scenario(NamedTuple):
    """One change: the live state it leaves in moto, the event that reports it, and that state read back."""

    #: Builds the live state in moto and returns the EventBridge event to deliver.
    prepare: Callable[[Account], dict[str, Any]]
    #: The guarded resource's live state, as data compared before and after.
    state: State
    #: Parameters under the settings prefix (besides the rule's mode) this scenario needs.
    settings: Mapping[str, str] = MappingProxyType({})


class PartialFailure(NamedTuple):
    """One AWS write of the plan that fails with AccessDenied (a botocore before-call hook)."""

    service: str  # the boto3 client: "iam", "s3", "s3control"
    operation: str  # the botocore operation name, e.g. "TagUser"
    #: How many ``done`` lines the plan writes before the failing call (0: nothing was changed).
    done_before: int
    settings: Mapping[str, str] = MappingProxyType({})
    #: Further writes refused the same way: a step that tolerates any one refusal fails only when all are refused
    #: (a quarantine's two deny-alls, issue 15).
    also: tuple[str, ...] = ()
    #: What the step still does after the refusals before it raises (a quarantine without a deny-all still shuts
    #: the keys it can): its ``done`` lines after the failure (its "NOT" lines too) and its successful writes.
    done_after: int = 0
    writes_after: int = 0
    #: Refuse ahead of the session hooks that emulate a call moto lacks (conftest's ``answer_user_boundaries``).
    ahead: bool = False


class GuardrailCase(NamedTuple):
    rule: str
    violation: Scenario
    remediated: Any
    compliant: Scenario
    partial_failure: PartialFailure | None
    findings: frozenset[str] = frozenset()
    undo_refused: str | None = None
    moto_gaps: Mapping[Behaviour, str] = MappingProxyType({})
    #: Why no API can put the change back: the finding has no plan and is alerted in every mode
    #: (test_guardrail_contract.py checks that instead of remediation, partial failure and undo).
    alert_only: str | None = None
    #: The severity an alert-only rule's violation is alerted with.
    alert_severity: str = "critical"

    @property
    def expected_findings(self) -> frozenset[str]:
        """The rules with findings for the violating event (only this rule unless it shares the event)."""
        return self.findings or frozenset({self.rule})


# --- reading live state back ------------------------------------------------------------------


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code"))


def canonical_policy(document: Mapping[str, Any]) -> dict[str, Any]:
    """A policy document with its statements in a stable order (their order carries no meaning)."""
    statements = document.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    ordered = sorted(statements, key=lambda statement: json.dumps(statement, sort_keys=True))
    return {**document, "Statement": ordered}


def user_state(name: str) -> State:
    """Inline policies, access key statuses (in creation order), console password and tags of a user."""

    def read(account: Account) -> dict[str, Any]:
        iam = account.iam
        policies = {
            policy: iam.get_user_policy(UserName=name, PolicyName=policy)["PolicyDocument"]
            for policy in iam.list_user_policies(UserName=name)["PolicyNames"]
        }
        keys = [key["Status"] for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]]
        try:
            iam.get_login_profile(UserName=name)
            console_password = True
        except ClientError as exc:
            if _code(exc) != "NoSuchEntity":
                raise
            console_password = False
        tags = {
            tag["Key"]: SET_BY_IAMWARDEN if tag["Key"].startswith("iamwarden:") else tag["Value"]
            for tag in iam.list_user_tags(UserName=name)["Tags"]
        }
        state = {"inline_policies": policies, "access_keys": keys, "console_password": console_password, "tags": tags}
        # A permissions boundary, only when there is one (the quarantine's deny-all; moto's answered by the
        # conftest's ``answer_user_boundaries``).
        boundary = (iam.get_user(UserName=name)["User"].get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        return {**state, "boundary": boundary} if boundary else state

    return read


def attached_policies(kind: str, name: str) -> State:
    def read(account: Account) -> list[str]:
        listed = getattr(account.iam, f"list_attached_{kind}_policies")(**{f"{kind.capitalize()}Name": name})
        return sorted(policy["PolicyArn"] for policy in listed["AttachedPolicies"])

    return read


def role_inline_policies(role: str) -> State:
    def read(account: Account) -> dict[str, Any]:
        return {
            policy: account.iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
            for policy in account.iam.list_role_policies(RoleName=role)["PolicyNames"]
        }

    return read


def bucket_policy(bucket: str) -> State:
    def read(account: Account) -> dict[str, Any] | None:
        try:
            text = account.s3.get_bucket_policy(Bucket=bucket)["Policy"]
        except ClientError as exc:
            if _code(exc) != "NoSuchBucketPolicy":
                raise
            return None
        return canonical_policy(json.loads(text))

    return read


def policy_versions(name: str) -> State:
    """The default version and every version's document of a customer-managed policy."""
    arn = f"arn:aws:iam::{HOME_ACCOUNT}:policy/{name}"

    def read(account: Account) -> dict[str, Any]:
        iam = account.iam
        versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
        return {
            "default": iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"],
            "versions": {
                v["VersionId"]: iam.get_policy_version(PolicyArn=arn, VersionId=v["VersionId"])["PolicyVersion"][
                    "Document"
                ]
                for v in versions
            },
        }

    return read


def trust_policy(role: str) -> State:
    def read(account: Account) -> dict[str, Any]:
        return dict(account.iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"])

    return read


def bucket_acl(bucket: str) -> State:
    """The bucket's grants as (grantee, permission), the owner's canonical id named "owner" (grant order is moot)."""

    def read(account: Account) -> list[tuple[str, str]]:
        acl = account.s3.get_bucket_acl(Bucket=bucket)
        owner = acl["Owner"]["ID"]
        grants = []
        for grant in acl["Grants"]:
            grantee = grant["Grantee"]
            who = "owner" if grantee.get("ID") == owner else grantee.get("URI") or grantee.get("ID", "")
            grants.append((who, grant["Permission"]))
        return sorted(grants)

    return read


def bucket_public_access_block(bucket: str) -> State:
    def read(account: Account) -> dict[str, bool] | None:
        try:
            return dict(account.s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"])
        except ClientError as exc:
            if _code(exc) != "NoSuchPublicAccessBlockConfiguration":
                raise
            return None

    return read


def queue_policy(name: str) -> State:
    """The queue's policy (statements in a stable order), None when it has none."""

    def read(account: Account) -> dict[str, Any] | None:
        sqs = account.session.client("sqs", region_name=RESOURCE_REGION)
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        text = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"].get("Policy")
        return canonical_policy(json.loads(text)) if text else None

    return read


def topic_policy(name: str) -> State:
    def read(account: Account) -> dict[str, Any]:
        sns = account.session.client("sns", region_name=RESOURCE_REGION)
        arn = f"arn:aws:sns:{RESOURCE_REGION}:{HOME_ACCOUNT}:{name}"
        return canonical_policy(json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"]))

    return read


def function_permissions(name: str) -> State:
    """The Sids of the function's policy statements and its URL's auth type (None: no URL)."""

    def read(account: Account) -> dict[str, Any]:
        awslambda = account.session.client("lambda", region_name=RESOURCE_REGION)
        try:
            policy = json.loads(awslambda.get_policy(FunctionName=name)["Policy"])
            sids = sorted(statement["Sid"] for statement in policy["Statement"])
        except ClientError as exc:
            if _code(exc) != "ResourceNotFoundException":
                raise
            sids = []
        try:
            auth = awslambda.get_function_url_config(FunctionName=name)["AuthType"]
        except ClientError as exc:
            if _code(exc) != "ResourceNotFoundException":
                raise
            auth = None
        return {"statements": sids, "url_auth_type": auth}

    return read


def layer_permissions(name: str, version: int) -> State:
    def read(account: Account) -> list[str]:
        awslambda = account.session.client("lambda", region_name=RESOURCE_REGION)
        try:
            text = awslambda.get_layer_version_policy(LayerName=name, VersionNumber=version)["Policy"]
        except ClientError as exc:
            if _code(exc) != "ResourceNotFoundException":
                raise
            return []
        return sorted(statement["Sid"] for statement in json.loads(text)["Statement"])

    return read


def key_state(account: Account) -> dict[str, Any]:
    """The policy and grants (grantee, operations) of the one key a KMS scenario creates."""
    kms = account.session.client("kms", region_name=RESOURCE_REGION)
    [key] = kms.list_keys()["Keys"]
    policy = json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
    grants = kms.list_grants(KeyId=key["KeyId"])["Grants"]
    return {
        "policy": canonical_policy(policy),
        "grants": sorted((grant["GranteePrincipal"], tuple(grant["Operations"])) for grant in grants),
    }


def secret_policy(name: str) -> State:
    def read(account: Account) -> dict[str, Any] | None:
        secrets = account.session.client("secretsmanager", region_name=RESOURCE_REGION)
        text = secrets.get_resource_policy(SecretId=name).get("ResourcePolicy")
        return canonical_policy(json.loads(text)) if text else None

    return read


def repository_policy(name: str) -> State:
    def read(account: Account) -> dict[str, Any] | None:
        ecr = account.session.client("ecr", region_name=RESOURCE_REGION)
        try:
            text = ecr.get_repository_policy(repositoryName=name)["policyText"]
        except ClientError as exc:
            if _code(exc) != "RepositoryPolicyNotFoundException":
                raise
            return None
        return canonical_policy(json.loads(text))

    return read


def event_bus_statements(name: str) -> State:
    """The Sids of the bus's policy statements (EventBridge writes them from PutPermission's pieces)."""

    def read(account: Account) -> list[str]:
        events = account.session.client("events", region_name=RESOURCE_REGION)
        text = events.describe_event_bus(Name=name).get("Policy")
        return sorted(statement["Sid"] for statement in json.loads(text)["Statement"]) if text else []

    return read


def _regional(account: Account, service: str) -> Any:
    """A client of the regional samples' region (CloudTrail, GuardDuty, AWS Config, Security Hub)."""
    return account.session.client(service, region_name=BUCKET_REGION)  # type: ignore[call-overload]


def trail_logging(name: str) -> State:
    def read(account: Account) -> bool:
        return bool(_regional(account, "cloudtrail").get_trail_status(Name=name)["IsLogging"])

    return read


def trail_selectors(name: str) -> State:
    def read(account: Account) -> Any:
        return _regional(account, "cloudtrail").get_event_selectors(TrailName=name).get("EventSelectors")

    return read


def guardduty_status(account: Account) -> str:
    guardduty = _regional(account, "guardduty")
    [detector] = guardduty.list_detectors()["DetectorIds"]
    return str(guardduty.get_detector(DetectorId=detector)["Status"])


def config_recording(account: Account) -> bool:
    statuses = _regional(account, "config").describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
    return bool(statuses[0]["recording"])


def security_hub_enabled(account: Account) -> bool:
    try:
        _regional(account, "securityhub").describe_hub()
    except ClientError as exc:
        if _code(exc) not in ("InvalidAccessException", "ResourceNotFoundException"):
            raise
        return False
    return True


def user_groups(name: str) -> State:
    def read(account: Account) -> list[str]:
        return sorted(group["GroupName"] for group in account.iam.list_groups_for_user(UserName=name)["Groups"])

    return read


def boundary(kind: str, name: str) -> State:
    def read(account: Account) -> str | None:
        if kind == "role":
            entity = account.iam.get_role(RoleName=name)["Role"]
        else:
            entity = account.iam.get_user(UserName=name)["User"]
        return (entity.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")

    return read


def key_statuses(name: str) -> State:
    def read(account: Account) -> list[str]:
        return [key["Status"] for key in account.iam.list_access_keys(UserName=name)["AccessKeyMetadata"]]

    return read


def ssh_key_statuses(name: str) -> State:
    def read(account: Account) -> list[str]:
        return [key["Status"] for key in account.iam.list_ssh_public_keys(UserName=name)["SSHPublicKeys"]]

    return read


#: An RSA public key moto accepts (it parses the body for the fingerprint).
_SSH_BODY = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDq6kSwGdAgwIfd/dOoxpsdWrPMzoo34CW3cxQ5O7XuSbG5vsIXKrIqQ/pLvBuPi/gj5hhcC0yR"
    "kQy9ALKDOsgqCrbsHasSavTBxq9K7YlSgCi3zOGmFUpBPN2i8jrF1g6EwSO6lnQomCBfqx3VdbxsTmtaOjgefsYfFvSZwmM+7+Q2H9JpGErVqp"
    "6O/6Ue9b9YuMe1HHMxGOfmiRxO1ztHIrSjwAaRjVeTAM3NXHXk/HK0mXrpEHqNFsaUgKGC7WOuFPTLsB/p6sZhWSy4WMTHyo3mDBUs7j/QGbxm0"
    "Ysnz42WALiOx8z+OwzvNgk/TGfw7rTk9zw8MHJ7e2zvXgmT user@example.com"
)


def _ssh_key_uploaded(account: Account) -> dict[str, Any]:
    """svc-legacy with the SSH public key the sample uploaded (moto chooses key ids, so the event follows)."""
    account.iam.create_user(UserName="svc-legacy")
    key = account.iam.upload_ssh_public_key(UserName="svc-legacy", SSHPublicKeyBody=_SSH_BODY)["SSHPublicKey"]
    event = load_event("upload-ssh-public-key.json")
    event["detail"]["responseElements"]["sSHPublicKey"]["sSHPublicKeyId"] = key["SSHPublicKeyId"]
    return event


def oidc_providers(account: Account) -> list[str]:
    return sorted(p["Arn"] for p in account.iam.list_open_id_connect_providers()["OpenIDConnectProviderList"])


def permission_set(account: Account) -> dict[str, Any]:
    """The managed policies and the inline policy of the one permission set."""
    sso = _regional(account, "sso-admin")
    [arn] = sso.list_permission_sets(InstanceArn=SSO_INSTANCE)["PermissionSets"]
    attached = sso.list_managed_policies_in_permission_set(InstanceArn=SSO_INSTANCE, PermissionSetArn=arn)
    inline = sso.get_inline_policy_for_permission_set(InstanceArn=SSO_INSTANCE, PermissionSetArn=arn)
    return {
        "managed": sorted(policy["Arn"] for policy in attached["AttachedManagedPolicies"]),
        "inline": inline.get("InlinePolicy") or None,
    }


def nothing(account: Account) -> None:
    """A change with no state IAM Warden could read or put back (leaving the organisation)."""
    del account


# --- building live state ----------------------------------------------------------------------


def _request(sample: str) -> dict[str, Any]:
    parameters: dict[str, Any] = load_event(sample)["detail"]["requestParameters"]
    return parameters


def _document(sample: str, key: str = "policyDocument") -> dict[str, Any]:
    document: dict[str, Any] = json.loads(_request(sample)[key])
    return document


def _bucket(account: Account, bucket: str) -> None:
    account.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": BUCKET_REGION})


def _bucket_with_sample_policy(sample: str) -> Callable[[Account], dict[str, Any]]:
    """The bucket the sample names, holding the policy the sample put."""

    def prepare(account: Account) -> dict[str, Any]:
        request = _request(sample)
        _bucket(account, request["bucketName"])
        account.s3.put_bucket_policy(Bucket=request["bucketName"], Policy=json.dumps(request["bucketPolicy"]))
        return load_event(sample)

    return prepare


def _user_with_key(name: str, sample: str, *, path: str = "/") -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        account.iam.create_user(UserName=name, Path=path, Tags=[{"Key": "team", "Value": "payments"}])
        account.iam.create_access_key(UserName=name)
        return load_event(sample)

    return prepare


def heartbeat_read_attachments(account: Account, taken_at: str) -> None:
    """What every principal holds, as the heartbeat's last run before the event read and stored it: whether the event
    added an attachment or a membership is known only from a record older than it (guardrails.attachments)."""
    from iamwarden.adapters.recorded import AuditRecorded, take_attachment_snapshots

    AuditRecorded(account.audit(), account.dynamodb).put_all(
        take_attachment_snapshots(account.iam, HOME_ACCOUNT, taken_at)
    )


def _role_with_attached(role: str, policy_arn: str, sample: str) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        keep = account.iam.create_policy(PolicyName="app-s3-read", PolicyDocument=json.dumps(SAFE))["Policy"]["Arn"]
        account.iam.create_role(RoleName=role, AssumeRolePolicyDocument=EMPTY_TRUST)
        account.iam.attach_role_policy(RoleName=role, PolicyArn=keep)
        event = load_event(sample)
        heartbeat_read_attachments(account, "2026-11-01T00:00:00Z")  # before every sample's attach
        account.iam.attach_role_policy(RoleName=role, PolicyArn=policy_arn)
        return event

    return prepare


def _role_with_sample_inline_policy(sample: str, *, keep: bool) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        request = _request(sample)
        role = request["roleName"]
        account.iam.create_role(RoleName=role, AssumeRolePolicyDocument=EMPTY_TRUST)
        account.iam.put_role_policy(
            RoleName=role, PolicyName=request["policyName"], PolicyDocument=request["policyDocument"]
        )
        if keep:
            account.iam.put_role_policy(RoleName=role, PolicyName="keep-me", PolicyDocument=json.dumps(SAFE))
        return load_event(sample)

    return prepare


def _user_with_sample_inline_policy(sample: str) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        request = _request(sample)
        account.iam.create_user(UserName=request["userName"])
        account.iam.put_user_policy(
            UserName=request["userName"], PolicyName=request["policyName"], PolicyDocument=request["policyDocument"]
        )
        return load_event(sample)

    return prepare


def _with_an_admin_role(prepare: Callable[[Account], dict[str, Any]]) -> Callable[[Account], dict[str, Any]]:
    """``prepare``, in an account that has an administrator role: passing any role then leads to it (passing
    a role escalates only when a role it reaches can do more than the holder)."""

    def with_admin(account: Account) -> dict[str, Any]:
        # CloudFormation may assume it: a stack can be given it (a role no service trusts is passed to none).
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudformation.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        account.iam.create_role(RoleName="deploy-admin", AssumeRolePolicyDocument=json.dumps(trust))
        account.iam.attach_role_policy(RoleName="deploy-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        return prepare(account)

    return with_admin


def _policy_with_versions(
    sample: str,
    *documents: Mapping[str, Any],
    default: str,
    deleted: tuple[str, ...] = (),
    created: str | None = None,
) -> Callable[[Account], dict[str, Any]]:
    """app-deploy with ``documents`` as v1, v2, ...; ``default`` is the default version; ``deleted`` versions are
    deleted again (so the sample's version id stays, with fewer versions left); role app-deploy-holder holds it.
    ``created``: the version id the event reports created (else the sample's)."""

    def prepare(account: Account) -> dict[str, Any]:
        first, *rest = documents
        arn = account.iam.create_policy(PolicyName="app-deploy", PolicyDocument=json.dumps(first))["Policy"]["Arn"]
        for document in rest:
            account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document))
        account.iam.set_default_policy_version(PolicyArn=arn, VersionId=default)
        for version_id in deleted:
            account.iam.delete_policy_version(PolicyArn=arn, VersionId=version_id)
        # A role holds it: a version is remediated only when a holder gains (issue 13, session 11).
        empty_trust = json.dumps({"Version": "2012-10-17", "Statement": []})
        account.iam.create_role(RoleName="app-deploy-holder", AssumeRolePolicyDocument=empty_trust)
        account.iam.attach_role_policy(RoleName="app-deploy-holder", PolicyArn=arn)
        event = load_event(sample)
        if created is not None:
            event["detail"]["responseElements"]["policyVersion"]["versionId"] = created
        return event

    return prepare


def _staged_safe_version(*documents: Mapping[str, Any], default: str) -> Callable[[Account], dict[str, Any]]:
    """``_policy_with_versions`` for the non-default sample, its staged document the last of ``documents``."""
    prepare = _policy_with_versions("create-policy-version-not-default.json", *documents, default=default)

    def staged(account: Account) -> dict[str, Any]:
        event = prepare(account)
        event["detail"]["requestParameters"]["policyDocument"] = json.dumps(documents[-1])
        return event

    return staged


def _new_access_key(account: Account) -> dict[str, Any]:
    """svc-legacy with an older key and the key the sample created (moto chooses key ids, so the event follows)."""
    account.iam.create_user(UserName="svc-legacy")
    account.iam.create_access_key(UserName="svc-legacy")
    new = account.iam.create_access_key(UserName="svc-legacy")["AccessKey"]["AccessKeyId"]
    event = load_event("create-access-key-for-other-user.json")
    event["detail"]["responseElements"]["accessKey"]["accessKeyId"] = new
    return event


def _root_key(account: Account) -> dict[str, Any]:
    """The root user's new access key: moto has no root user keys, so there is no live state to build."""
    del account
    return load_event("create-access-key-root.json")


def _no_state(account: Account) -> None:
    """moto cannot read the root user's keys (it has no root user and no sts:AssumeRoot)."""
    del account


_ROOT_REMEDIATION_ON = {"root_credentials_remediation": "on"}
_NO_ROOT_IN_MOTO = (
    "moto has no sts:AssumeRoot and no root user access keys; tests/functional/test_root_access_key.py runs "
    "this path with botocore's Stubber"
)


def _user_with_console_password(sample: str) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        name = _request(sample)["userName"]
        account.iam.create_user(UserName=name)
        account.iam.create_login_profile(UserName=name, Password="correct-Horse-battery-9")
        return load_event(sample)

    return prepare


def _role_with_sample_trust(sample: str, key: str) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        request = _request(sample)
        account.iam.create_role(RoleName=request["roleName"], AssumeRolePolicyDocument=request[key])
        return load_event(sample)

    return prepare


def _bucket_with_canned_acl(sample: str) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        request = _request(sample)
        bucket = request["bucketName"]
        _bucket(account, bucket)
        account.s3.put_bucket_ownership_controls(
            Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
        )
        account.s3.put_bucket_acl(Bucket=bucket, ACL=request["x-amz-acl"][0])
        return load_event(sample)

    return prepare


def _bucket_with_sample_block(
    sample: str, before: Mapping[str, bool] | None = None
) -> Callable[[Account], dict[str, Any]]:
    """The bucket as the sample's call left it; with ``before``, the configuration an earlier call the enforcer
    judged left (its record: what the rule compares the call with)."""

    def prepare(account: Account) -> dict[str, Any]:
        from iamwarden.adapters.recorded import AuditRecorded
        from iamwarden.domain.recorded import PUBLIC_ACCESS_BLOCK, Snapshot

        request = _request(sample)
        configuration = {key: request["PublicAccessBlockConfiguration"][key] for key in ALL_BLOCKED}
        _bucket(account, request["bucketName"])
        account.s3.put_public_access_block(Bucket=request["bucketName"], PublicAccessBlockConfiguration=configuration)
        if before is not None:
            arn = f"arn:aws:s3:::{request['bucketName']}"
            kept = {"configuration": dict(before), "account": "111122223333"}
            AuditRecorded(account.audit(), account.dynamodb).put(
                Snapshot(PUBLIC_ACCESS_BLOCK, arn, "2026-11-20T09:00:00.000+00:00", kept)
            )
        return load_event(sample)

    return prepare


def _queue_with_sample_policy(sample: str) -> Callable[[Account], dict[str, Any]]:
    """The queue the sample names, holding the policy the sample set."""

    def prepare(account: Account) -> dict[str, Any]:
        request = _request(sample)
        name = request["queueUrl"].rsplit("/", 1)[-1]
        sqs = account.session.client("sqs", region_name=RESOURCE_REGION)
        sqs.create_queue(QueueName=name, Attributes={"Policy": request["attributes"]["Policy"]})
        return load_event(sample)

    return prepare


def _queue_with_sample_permission(sample: str, base: Mapping[str, Any]) -> Callable[[Account], dict[str, Any]]:
    """The queue with ``base`` as its policy, then the AddPermission call the sample records."""

    def prepare(account: Account) -> dict[str, Any]:
        request = _request(sample)
        sqs = account.session.client("sqs", region_name=RESOURCE_REGION)
        url = sqs.create_queue(QueueName=request["queueUrl"].rsplit("/", 1)[-1])["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(base)})
        sqs.add_permission(
            QueueUrl=url, Label=request["label"], AWSAccountIds=request["AWSAccountIds"], Actions=request["actions"]
        )
        return load_event(sample)

    return prepare


def _topic(account: Account, arn: str) -> Any:
    sns = account.session.client("sns", region_name=RESOURCE_REGION)
    sns.create_topic(Name=arn.rsplit(":", 1)[-1])
    return sns


def _topic_with_sample_policy(sample: str) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        request = _request(sample)
        _topic(account, request["topicArn"]).set_topic_attributes(
            TopicArn=request["topicArn"], AttributeName="Policy", AttributeValue=request["attributeValue"]
        )
        return load_event(sample)

    return prepare


def _topic_with_sample_permission(sample: str) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        request = _request(sample)
        _topic(account, request["topicArn"]).add_permission(
            TopicArn=request["topicArn"],
            Label=request["label"],
            AWSAccountId=request["aWSAccountId"],
            ActionName=request["actionName"],
        )
        return load_event(sample)

    return prepare


def _new_topic(sample: str) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        _topic(account, load_event(sample)["detail"]["responseElements"]["topicArn"])
        return load_event(sample)

    return prepare


_LAMBDA_ROLE_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def _function(account: Account, name: str) -> Any:
    """Function ``name`` with a permission for this account's S3 (a statement remediation must keep)."""
    role = account.iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=_LAMBDA_ROLE_TRUST)["Role"]["Arn"]
    awslambda = account.session.client("lambda", region_name=RESOURCE_REGION)
    awslambda.create_function(
        FunctionName=name, Runtime="python3.13", Role=role, Handler="app.handler", Code={"ZipFile": b"code"}
    )
    awslambda.add_permission(
        FunctionName=name,
        StatementId="AllowS3Invoke",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceAccount=HOME_ACCOUNT,
    )
    return awslambda


_PERMISSION_PARAMETERS = {
    "action": "Action",
    "principal": "Principal",
    "sourceArn": "SourceArn",
    "sourceAccount": "SourceAccount",
    "principalOrgID": "PrincipalOrgID",
    "functionUrlAuthType": "FunctionUrlAuthType",
    "organizationId": "OrganizationId",
}


def _function_with_sample_permission(sample: str) -> Callable[[Account], dict[str, Any]]:
    """The function the sample names, with its other permission and the one the sample added."""

    def prepare(account: Account) -> dict[str, Any]:
        request = _request(sample)
        name = request["functionName"].rsplit(":", 1)[-1]
        parameters = {boto: request[key] for key, boto in _PERMISSION_PARAMETERS.items() if key in request}
        _function(account, name).add_permission(FunctionName=name, StatementId=request["statementId"], **parameters)
        return load_event(sample)

    return prepare


def _layer_with_sample_permission(sample: str) -> Callable[[Account], dict[str, Any]]:
    """The layer's versions up to the sample's, each shared with this account; then the sample's permission."""

    def prepare(account: Account) -> dict[str, Any]:
        request = _request(sample)
        awslambda = account.session.client("lambda", region_name=RESOURCE_REGION)
        for _ in range(int(request["versionNumber"])):
            version = awslambda.publish_layer_version(LayerName=request["layerName"], Content={"ZipFile": b"lib"})
        awslambda.add_layer_version_permission(
            LayerName=request["layerName"],
            VersionNumber=version["Version"],
            StatementId="own-account",
            Action="lambda:GetLayerVersion",
            Principal=HOME_ACCOUNT,
        )
        parameters = {boto: request[key] for key, boto in _PERMISSION_PARAMETERS.items() if key in request}
        awslambda.add_layer_version_permission(
            LayerName=request["layerName"],
            VersionNumber=version["Version"],
            StatementId=request["statementId"],
            **parameters,
        )
        return load_event(sample)

    return prepare


def _function_url(sample: str, *, public: bool) -> Callable[[Account], dict[str, Any]]:
    """Function orders-api with the URL the sample configured; ``public``: its policy lets everyone call it."""

    def prepare(account: Account) -> dict[str, Any]:
        request = _request(sample)
        awslambda = _function(account, request["functionName"])
        awslambda.create_function_url_config(FunctionName=request["functionName"], AuthType=request["authType"])
        if public:
            awslambda.add_permission(
                FunctionName=request["functionName"],
                StatementId="FunctionURLAllowPublicAccess",
                Action="lambda:InvokeFunctionUrl",
                Principal="*",
                FunctionUrlAuthType="NONE",
            )
        return load_event(sample)

    return prepare


def _with_key_id(event: dict[str, Any], key_id: str) -> dict[str, Any]:
    """The sample with moto's key id (and ARN) in place of the sample's."""
    text = json.dumps(event)
    sample_arn = event["detail"]["resources"][0]["ARN"]
    arn = f"arn:aws:kms:{RESOURCE_REGION}:{HOME_ACCOUNT}:key/{key_id}"
    adjusted: dict[str, Any] = json.loads(text.replace(sample_arn, arn).replace(sample_arn.rsplit("/", 1)[-1], key_id))
    return adjusted


def _key_with_sample_policy(sample: str) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        event = load_event(sample)
        kms = account.session.client("kms", region_name=RESOURCE_REGION)
        key_id = kms.create_key(Policy=event["detail"]["requestParameters"]["policy"])["KeyMetadata"]["KeyId"]
        return _with_key_id(event, key_id)

    return prepare


def _key_with_sample_grant(sample: str) -> Callable[[Account], dict[str, Any]]:
    """A key with a grant to this account's role, then the grant the sample created (moto chooses its id)."""

    def prepare(account: Account) -> dict[str, Any]:
        event = load_event(sample)
        request = event["detail"]["requestParameters"]
        kms = account.session.client("kms", region_name=RESOURCE_REGION)
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        own = f"arn:aws:iam::{HOME_ACCOUNT}:role/orders-worker"
        if request["granteePrincipal"] != own:
            kms.create_grant(KeyId=key_id, GranteePrincipal=own, Operations=["Decrypt"])
        grant = kms.create_grant(
            KeyId=key_id, GranteePrincipal=request["granteePrincipal"], Operations=request["operations"]
        )
        event = _with_key_id(event, key_id)
        event["detail"]["responseElements"]["grantId"] = grant["GrantId"]
        return event

    return prepare


def _secret_with_sample_policy(sample: str) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        request = _request(sample)
        name = (
            request["secretId"].split(":", 6)[-1].rsplit("-", 1)[0]
            if ":" in request["secretId"]
            else request["secretId"]
        )
        secrets = account.session.client("secretsmanager", region_name=RESOURCE_REGION)
        secrets.create_secret(Name=name, SecretString="s3cret")
        secrets.put_resource_policy(SecretId=name, ResourcePolicy=request["resourcePolicy"])
        event = load_event(sample)
        event["detail"]["requestParameters"]["secretId"] = name  # moto's ARN suffix differs from the sample's
        return event

    return prepare


def _repository_with_sample_policy(sample: str) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        request = _request(sample)
        ecr = account.session.client("ecr", region_name=RESOURCE_REGION)
        ecr.create_repository(repositoryName=request["repositoryName"])
        ecr.set_repository_policy(repositoryName=request["repositoryName"], policyText=request["policyText"])
        return load_event(sample)

    return prepare


def _bus_with_sample_permission(sample: str) -> Callable[[Account], dict[str, Any]]:
    """The sample's bus with a permission for trusted account 444455556666, then the sample's PutPermission."""

    def prepare(account: Account) -> dict[str, Any]:
        request = _request(sample)
        bus = request["eventBusName"]
        events = account.session.client("events", region_name=RESOURCE_REGION)
        if bus != "default":
            events.create_event_bus(Name=bus)
        events.put_permission(
            EventBusName=bus, Action="events:PutEvents", Principal="444455556666", StatementId="partner-trusted"
        )
        condition = request.get("condition")
        extra: dict[str, Any] = {"Condition": {k.capitalize(): v for k, v in condition.items()}} if condition else {}
        events.put_permission(
            EventBusName=bus,
            Action=request["action"],
            Principal=request["principal"],
            StatementId=request["statementId"],
            **extra,
        )
        return load_event(sample)

    return prepare


def _trail(account: Account, sample: str, *, stop: bool) -> dict[str, Any]:
    """Trail org-audit (logging to acme-cloudtrail-logs, every management event), stopped if ``stop``."""
    _bucket(account, "acme-cloudtrail-logs")
    cloudtrail = _regional(account, "cloudtrail")
    cloudtrail.create_trail(Name="org-audit", S3BucketName="acme-cloudtrail-logs", IsMultiRegionTrail=True)
    cloudtrail.start_logging(Name="org-audit")
    if stop:
        cloudtrail.stop_logging(Name="org-audit")
    request = _request(sample)
    if "eventSelectors" in request:
        selectors = [{key[:1].upper() + key[1:]: value for key, value in s.items()} for s in request["eventSelectors"]]
        for selector in selectors:
            selector["DataResources"] = [
                {"Type": r["type"], "Values": r["values"]} for r in selector.get("DataResources", [])
            ]
        cloudtrail.put_event_selectors(TrailName="org-audit", EventSelectors=selectors)
    return load_event(sample)


def _suspended_detector(sample: str, *, suspend: bool) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        guardduty = _regional(account, "guardduty")
        detector = guardduty.create_detector(Enable=True)["DetectorId"]
        if suspend:
            guardduty.update_detector(DetectorId=detector, Enable=False)
        event = load_event(sample)
        event["detail"]["requestParameters"]["detectorId"] = detector  # moto chooses detector ids
        return event

    return prepare


def _stopped_recorder(account: Account) -> dict[str, Any]:
    _bucket(account, "acme-config-history")
    config = _regional(account, "config")
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{HOME_ACCOUNT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForCfg",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": False},
        }
    )
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "acme-config-history"})
    config.start_configuration_recorder(ConfigurationRecorderName="default")
    config.stop_configuration_recorder(ConfigurationRecorderName="default")
    return load_event("config-recorder-stopped.json")


def _disabled_hub(account: Account) -> dict[str, Any]:
    securityhub = _regional(account, "securityhub")
    securityhub.enable_security_hub(EnableDefaultStandards=False)
    securityhub.disable_security_hub()
    return load_event("securityhub-disabled.json")


def _user_in_group(group: str, sample: str, *, admin: bool) -> Callable[[Account], dict[str, Any]]:
    """build-bot added to ``group``: AdministratorAccess attached to it, or a read-only inline policy."""

    def prepare(account: Account) -> dict[str, Any]:
        iam = account.iam
        iam.create_group(GroupName=group)
        if admin:
            iam.attach_group_policy(GroupName=group, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        else:
            iam.put_group_policy(GroupName=group, PolicyName="read-reports", PolicyDocument=json.dumps(SAFE))
        iam.create_group(GroupName="developers")
        iam.create_user(UserName="build-bot")
        iam.add_user_to_group(GroupName="developers", UserName="build-bot")
        heartbeat_read_attachments(account, "2026-11-01T00:00:00Z")  # before the sample's AddUserToGroup
        iam.add_user_to_group(GroupName=group, UserName="build-bot")
        return load_event(sample)

    return prepare


def _role_entered_profile(*, launchable: bool) -> Callable[[Account], dict[str, Any]]:
    """fleet-admin (AdministratorAccess, EC2 may assume it) put into fleet-admin-profile; ci-runner may pass it to EC2
    and run instances, or only read."""

    def prepare(account: Account) -> dict[str, Any]:
        iam = account.iam
        ec2_trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
        iam.create_role(RoleName="fleet-admin", AssumeRolePolicyDocument=json.dumps(ec2_trust))
        iam.attach_role_policy(RoleName="fleet-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        iam.create_role(RoleName="ci-runner", AssumeRolePolicyDocument=json.dumps(ec2_trust))
        launch = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances"], "Resource": "*"}],
        }
        iam.put_role_policy(
            RoleName="ci-runner", PolicyName="ci", PolicyDocument=json.dumps(launch if launchable else SAFE)
        )
        iam.create_instance_profile(InstanceProfileName="fleet-admin-profile")
        iam.add_role_to_instance_profile(InstanceProfileName="fleet-admin-profile", RoleName="fleet-admin")
        return load_event("add-role-to-instance-profile-admin.json")

    return prepare


def profile_roles(name: str) -> State:
    def read(account: Account) -> list[str]:
        profile = account.iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
        return [role["RoleName"] for role in profile["Roles"]]

    return read


def _guard_detached(*, denies: bool) -> Callable[[Account], dict[str, Any]]:
    """app-backend holds Allow * inline; deny-iam-guard (Deny *, or only grants) was detached from it."""

    def prepare(account: Account) -> dict[str, Any]:
        iam = account.iam
        iam.create_role(RoleName="app-backend", AssumeRolePolicyDocument=EMPTY_TRUST)
        allow_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        iam.put_role_policy(RoleName="app-backend", PolicyName="everything", PolicyDocument=json.dumps(allow_all))
        guard = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
        iam.create_policy(PolicyName="deny-iam-guard", PolicyDocument=json.dumps(guard if denies else SAFE))
        return load_event("detach-deny-guard-from-role.json")

    return prepare


DEPLOYER_BOUNDARY = f"arn:aws:iam::{HOME_ACCOUNT}:policy/deployer-boundary"


def _boundary_removed(account: Account) -> dict[str, Any]:
    """team-deployer had deployer-boundary when IAM Warden last looked (its snapshot); then it was removed."""
    from iamwarden.adapters.recorded import AuditRecorded  # the heartbeat's writer, as a deploy would run it
    from iamwarden.domain.recorded import BOUNDARY, Snapshot

    iam = account.iam
    iam.create_policy(PolicyName="deployer-boundary", PolicyDocument=json.dumps(SAFE_READ_WRITE))
    iam.create_role(
        RoleName="team-deployer", AssumeRolePolicyDocument=EMPTY_TRUST, PermissionsBoundary=DEPLOYER_BOUNDARY
    )
    role_arn = iam.get_role(RoleName="team-deployer")["Role"]["Arn"]
    AuditRecorded(account.audit(), account.dynamodb).put(
        Snapshot(BOUNDARY, role_arn, "2026-11-20T09:00:00Z", {"boundary_arn": DEPLOYER_BOUNDARY})
    )
    iam.delete_role_permissions_boundary(RoleName="team-deployer")
    return load_event("delete-role-permissions-boundary.json")


def _readonly_boundary(account: Account) -> dict[str, Any]:
    """svc-reporting had no boundary when IAM Warden last looked (its snapshot): ReadOnlyAccess caps it more."""
    from iamwarden.adapters.recorded import AuditRecorded
    from iamwarden.domain.recorded import BOUNDARY, Snapshot

    # moto has no PutUserPermissionsBoundary: the user is created with the boundary the sample puts.
    account.iam.create_user(UserName="svc-reporting", PermissionsBoundary="arn:aws:iam::aws:policy/ReadOnlyAccess")
    user_arn = account.iam.get_user(UserName="svc-reporting")["User"]["Arn"]
    AuditRecorded(account.audit(), account.dynamodb).put(
        Snapshot(BOUNDARY, user_arn, "2026-11-20T09:00:00Z", {"boundary_arn": None})
    )
    return load_event("put-user-permissions-boundary-readonly.json")


def _key_reactivated(*, deactivated_by_iamwarden: bool) -> Callable[[Account], dict[str, Any]]:
    """backdoor-admin's key is Active; with ``deactivated_by_iamwarden`` the audit table says IAM Warden did that."""

    def prepare(account: Account) -> dict[str, Any]:
        from iamwarden.adapters.audit import AuditRecord, AuditStatus

        iam = account.iam
        iam.create_user(UserName="backdoor-admin")
        key = iam.create_access_key(UserName="backdoor-admin")["AccessKey"]["AccessKeyId"]
        if deactivated_by_iamwarden:
            user_arn = f"arn:aws:iam::{HOME_ACCOUNT}:user/backdoor-admin"
            step = {
                "action": "deactivate_access_key",
                "target": user_arn,
                "parameters": {"user_name": "backdoor-admin", "access_key_id": key},
                "summary": f"deactivate access key {key} of user backdoor-admin",
            }
            account.audit().put(
                AuditRecord(
                    remediation_id="rem-0123456789abcdef0123",
                    kind="remediation",
                    status=AuditStatus.REMEDIATED,
                    resource_arn=user_arn,
                    event_id="5f3b0c52-0000-4000-8000-00000000c0de",
                    created_at="2026-11-20T09:20:00.000+00:00",
                    rule="access-key-created",
                    account=HOME_ACCOUNT,
                    region="us-east-1",
                    finding={},
                    plan=[step],
                    before=[{"status": "Active"}],
                    done=[f"deactivated access key {key} of user backdoor-admin"],
                )
            )
        event = load_event("update-access-key-reactivated.json")
        event["detail"]["requestParameters"]["accessKeyId"] = key  # moto chooses key ids
        return event

    return prepare


def _oidc_provider(sample: str) -> Callable[[Account], dict[str, Any]]:
    """The provider the sample created, beside the organisation's GitHub Actions provider."""

    def prepare(account: Account) -> dict[str, Any]:
        request = _request(sample)
        for url in {request["url"], "https://token.actions.githubusercontent.com"}:
            account.iam.create_open_id_connect_provider(
                Url=url, ClientIDList=request["clientIDList"], ThumbprintList=request["thumbprintList"]
            )
        return load_event(sample)

    return prepare


def _prune_exempt_tagged(account: Account) -> dict[str, Any]:
    """Role app-backend as the sample's CreateRole left it: with the pruner's exempt tag and a team tag (a TagRole's
    tag is alert-only, review s13 prunex F1: only a new role's tag is removed)."""
    request = _request("prune-exemption-createrole.json")
    role = account.iam.create_role(
        RoleName=request["roleName"],
        AssumeRolePolicyDocument=EMPTY_TRUST,
        Tags=[{"Key": t["key"], "Value": t["value"]} for t in request["tags"]],
    )["Role"]
    event = load_event("prune-exemption-createrole.json")
    event["detail"]["responseElements"]["role"]["roleId"] = role["RoleId"]  # moto chooses it: the event follows
    return event


def app_backend_tags(account: Account) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in account.iam.list_role_tags(RoleName="app-backend")["Tags"]}


SSO_INSTANCE = "arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6"


def _permission_set_changed(sample: str) -> Callable[[Account], dict[str, Any]]:
    """A permission set with the change the sample made (moto chooses the set's ARN, so the event follows)."""

    def prepare(account: Account) -> dict[str, Any]:
        sso = _regional(account, "sso-admin")
        arn = sso.create_permission_set(InstanceArn=SSO_INSTANCE, Name="DevOps")["PermissionSet"]["PermissionSetArn"]
        sso.attach_managed_policy_to_permission_set(
            InstanceArn=SSO_INSTANCE, PermissionSetArn=arn, ManagedPolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess"
        )
        request = _request(sample)
        if "managedPolicyArn" in request:
            sso.attach_managed_policy_to_permission_set(
                InstanceArn=SSO_INSTANCE, PermissionSetArn=arn, ManagedPolicyArn=request["managedPolicyArn"]
            )
        else:
            sso.put_inline_policy_to_permission_set(
                InstanceArn=SSO_INSTANCE, PermissionSetArn=arn, InlinePolicy=request["inlinePolicy"]
            )
        event = load_event(sample)
        event["detail"]["requestParameters"]["permissionSetArn"] = arn
        return event

    return prepare


def _identity_center_group_joined(managed: str) -> Callable[[Account], dict[str, Any]]:
    """mallory joins group platform (alice is in it), which is assigned a permission set holding ``managed``.

    moto chooses the instance, identity store and ids, so the event follows; moto lacks
    GetPermissionsBoundaryForPermissionSet, answered on the session (every client made from it after this) as
    Identity Center answers a set without a boundary.
    """

    def prepare(account: Account) -> dict[str, Any]:
        # A before-call handler answers the call (the session's stubs type every handler as returning None).
        account.session.events.register(
            "before-call.sso-admin.GetPermissionsBoundaryForPermissionSet",
            no_permission_set_boundary,  # type: ignore[arg-type]
        )
        account.session.events.register(
            "before-call.sso-admin.DescribeInstanceAccessControlAttributeConfiguration",
            no_access_control_attributes,  # type: ignore[arg-type]
        )
        sso, store = _regional(account, "sso-admin"), _regional(account, "identitystore")
        [instance] = sso.list_instances()["Instances"]
        ids = {"InstanceArn": instance["InstanceArn"]}
        store_id = instance["IdentityStoreId"]
        arn = sso.create_permission_set(**ids, Name="Platform")["PermissionSet"]["PermissionSetArn"]
        sso.attach_managed_policy_to_permission_set(**ids, PermissionSetArn=arn, ManagedPolicyArn=managed)
        group = store.create_group(IdentityStoreId=store_id, DisplayName="platform")["GroupId"]
        sso.create_account_assignment(
            **ids,
            TargetId="444455556666",
            TargetType="AWS_ACCOUNT",
            PermissionSetArn=arn,
            PrincipalType="GROUP",
            PrincipalId=group,
        )
        users = {
            name: store.create_user(
                IdentityStoreId=store_id, UserName=name, DisplayName=name, Name={"GivenName": name, "FamilyName": "X"}
            )["UserId"]
            for name in ("alice", "mallory")
        }
        memberships = {
            name: store.create_group_membership(IdentityStoreId=store_id, GroupId=group, MemberId={"UserId": user})[
                "MembershipId"
            ]
            for name, user in users.items()
        }
        event = load_event("identitystore-add-user-to-admin-group.json")
        event["detail"]["requestParameters"] = {
            "identityStoreId": store_id,
            "groupId": group,
            "memberId": {"userId": users["mallory"]},
        }
        event["detail"]["responseElements"] = {"membershipId": memberships["mallory"], "identityStoreId": store_id}
        return event

    return prepare


def _member_updated(account: Account, policy_arn: str, attribute: str) -> dict[str, Any]:
    """``UpdateUser`` of ``attribute`` (value hidden, as CloudTrail records it) for the user that
    ``_identity_center_group_joined(policy_arn)`` makes a member of its group (moto chooses the ids)."""
    event = _identity_center_group_joined(policy_arn)(account)
    joined = event["detail"]["requestParameters"]
    updated = load_event("identitystore-update-admin-user-email.json")
    updated["detail"]["requestParameters"] = {
        "identityStoreId": joined["identityStoreId"],
        "userId": joined["memberId"]["userId"],
        "operations": [{"attributePath": attribute, "attributeValue": "HIDDEN_DUE_TO_SECURITY_REASONS"}],
    }
    return updated


def _identity_center_user_updated(attribute: str) -> Callable[[Account], dict[str, Any]]:
    """mallory, in group platform, which is assigned a set holding AdministratorAccess, has ``attribute`` updated.

    moto chooses the ids, so the event follows; moto lacks GetPermissionsBoundaryForPermissionSet (answered as for
    ``_identity_center_group_joined``).
    """

    def prepare(account: Account) -> dict[str, Any]:
        return _member_updated(account, "arn:aws:iam::aws:policy/AdministratorAccess", attribute)

    return prepare


def _identity_center_tag_attribute_updated(attribute: str) -> Callable[[Account], dict[str, Any]]:
    """mallory, in group platform, which is assigned a set holding ReadOnlyAccess only, has ``attribute`` updated,
    in an instance that takes session tag ``clearance`` from the user's ``title`` (answered on the session as
    Identity Center answers DescribeInstanceAccessControlAttributeConfiguration: moto lacks it)."""

    def prepare(account: Account) -> dict[str, Any]:
        account.session.events.register_first(
            "before-call.sso-admin.DescribeInstanceAccessControlAttributeConfiguration",
            title_is_a_session_tag,  # type: ignore[arg-type]
        )
        return _member_updated(account, "arn:aws:iam::aws:policy/ReadOnlyAccess", attribute)

    return prepare


def title_is_a_session_tag(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
    """DescribeInstanceAccessControlAttributeConfiguration of an instance that maps ``clearance`` from the title."""
    config = {
        "AccessControlAttributes": [{"Key": "clearance", "Value": {"Source": ["${path:title}"]}}],
        "Status": "ENABLED",
    }
    headers = HTTPHeaders()
    return AWSResponse(f"https://sso.{BUCKET_REGION}.amazonaws.com/", 200, headers, None), {
        "InstanceAccessControlAttributeConfiguration": config
    }


def no_permission_set_boundary(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
    """GetPermissionsBoundaryForPermissionSet as Identity Center answers a set without one (moto lacks it): a
    before-call handler for any session whose clients judge Identity Center (the cases', the fault injector's)."""
    error = {"Code": "ResourceNotFoundException", "Message": "no permissions boundary"}
    return AWSResponse(f"https://sso.{BUCKET_REGION}.amazonaws.com/", 404, HTTPHeaders(), None), {"Error": error}


def no_access_control_attributes(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
    """DescribeInstanceAccessControlAttributeConfiguration of an instance with no attributes for access control, as
    Identity Center answers it (moto lacks the call): identity-center-user-takeover reads it for other attributes."""
    error = {"Code": "ResourceNotFoundException", "Message": "no access control attributes"}
    return AWSResponse(f"https://sso.{BUCKET_REGION}.amazonaws.com/", 404, HTTPHeaders(), None), {"Error": error}


def identity_center_group_members(account: Account) -> list[str]:
    """The user names in Identity Center group platform."""
    sso, store = _regional(account, "sso-admin"), _regional(account, "identitystore")
    [instance] = sso.list_instances()["Instances"]
    store_id = instance["IdentityStoreId"]
    [group] = store.list_groups(IdentityStoreId=store_id)["Groups"]
    listed = store.list_group_memberships(IdentityStoreId=store_id, GroupId=group["GroupId"])["GroupMemberships"]
    return sorted(
        store.describe_user(IdentityStoreId=store_id, UserId=member["MemberId"]["UserId"])["UserName"]
        for member in listed
    )


_NO_ROLES_ANYWHERE = "moto has no IAM Roles Anywhere (test_persistence_services.py runs its remediation on a Stubber)"


def _sample(name: str) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        del account
        return load_event(name)

    return prepare


def _without_statement(document: Mapping[str, Any], index: int) -> dict[str, Any]:
    statements = list(document["Statement"])
    del statements[index]
    return {**document, "Statement": statements}


# --- shares (issue 18): snapshots, images, database snapshots -----------------------------------------

#: The partner account the share samples name: kept by every remediation (the event did not add it, or it is trusted).
PARTNER = "444455556666"
#: moto's region holds snapshots of its own (behind its default AMIs): the contract's is found by its description.
SNAPSHOT_DESCRIPTION = "orders-db volume before the migration"


def _ec2(account: Account) -> Any:
    return account.session.client("ec2", region_name=BUCKET_REGION)


def _rds(account: Account) -> Any:
    return account.session.client("rds", region_name=BUCKET_REGION)


def snapshot_shares(account: Account) -> list[str]:
    """Who may create volumes from the one snapshot of the account (group ``all`` or account ids)."""
    ec2 = _ec2(account)
    [snapshot] = ec2.describe_snapshots(Filters=[{"Name": "description", "Values": [SNAPSHOT_DESCRIPTION]}])[
        "Snapshots"
    ]
    answer = ec2.describe_snapshot_attribute(SnapshotId=snapshot["SnapshotId"], Attribute="createVolumePermission")
    return sorted(p.get("Group") or p["UserId"] for p in answer["CreateVolumePermissions"])


def _shared_snapshot(sample: str, *shares: Mapping[str, str]) -> Callable[[Account], dict[str, Any]]:
    """A snapshot shared with ``shares`` (moto chooses the id, so the event names it)."""

    def prepare(account: Account) -> dict[str, Any]:
        ec2 = _ec2(account)
        volume = ec2.create_volume(AvailabilityZone=f"{BUCKET_REGION}a", Size=8)["VolumeId"]
        snapshot = ec2.create_snapshot(VolumeId=volume, Description=SNAPSHOT_DESCRIPTION)["SnapshotId"]
        if shares:
            ec2.modify_snapshot_attribute(  # moto reads only the OperationType form
                SnapshotId=snapshot,
                Attribute="createVolumePermission",
                OperationType="add",
                GroupNames=[share["Group"] for share in shares if "Group" in share],
                UserIds=[share["UserId"] for share in shares if "UserId" in share],
            )
        event = load_event(sample)
        event["detail"]["requestParameters"]["snapshotId"] = snapshot
        return event

    return prepare


def _disabled_rule(sample: str) -> Callable[[Account], dict[str, Any]]:
    """The rule a DisableRule sample names, on this account's default bus, disabled as the event says."""

    def prepare(account: Account) -> dict[str, Any]:
        event = load_event(sample)
        events = account.session.client("events", region_name=event["region"])
        name = event["detail"]["requestParameters"]["name"]
        events.put_rule(Name=name, EventPattern=json.dumps({"source": ["aws.iam"]}), State="ENABLED")
        events.disable_rule(Name=name)
        return event

    return prepare


def image_shares(account: Account) -> list[str]:
    ec2 = _ec2(account)
    [image] = ec2.describe_images(Owners=["self"])["Images"]
    answer = ec2.describe_image_attribute(ImageId=image["ImageId"], Attribute="launchPermission")
    keys = ("Group", "UserId", "OrganizationArn", "OrganizationalUnitArn")
    return sorted(value for p in answer["LaunchPermissions"] for key in keys if (value := p.get(key)))


def _shared_image(sample: str, *shares: Mapping[str, str]) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        ec2 = _ec2(account)
        image = ec2.register_image(Name="orders-api-2026-11-23")["ImageId"]
        if shares:
            ec2.modify_image_attribute(ImageId=image, LaunchPermission={"Add": list(shares)})
        event = load_event(sample)
        event["detail"]["requestParameters"]["imageId"] = image
        return event

    return prepare


def db_snapshot_shares(name: str) -> State:
    def read(account: Account) -> list[str]:
        result = _rds(account).describe_db_snapshot_attributes(DBSnapshotIdentifier=name)["DBSnapshotAttributesResult"]
        return sorted(
            v for a in result["DBSnapshotAttributes"] if a["AttributeName"] == "restore" for v in a["AttributeValues"]
        )

    return read


def rule_state(name: str) -> State:
    def read(account: Account) -> str:
        return str(account.session.client("events", region_name="us-east-1").describe_rule(Name=name)["State"])

    return read


def _shared_db_snapshot(sample: str, *values: str) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        rds = _rds(account)
        name = _request(sample)["dBSnapshotIdentifier"]
        rds.create_db_instance(
            DBInstanceIdentifier="orders-db",
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            MasterUsername="orders",
            MasterUserPassword="correct-Horse-battery-9",
            AllocatedStorage=20,
        )
        rds.create_db_snapshot(DBSnapshotIdentifier=name, DBInstanceIdentifier="orders-db")
        if values:
            rds.modify_db_snapshot_attribute(
                DBSnapshotIdentifier=name, AttributeName="restore", ValuesToAdd=list(values)
            )
        return load_event(sample)

    return prepare


def _dynamodb(account: Account) -> Any:
    return account.session.client("dynamodb", region_name=BUCKET_REGION)


def table_policy(account: Account) -> dict[str, Any] | None:
    """The resource policy of table orders (the DynamoDB samples' table), or None."""
    dynamodb = _dynamodb(account)
    arn = dynamodb.describe_table(TableName="orders")["Table"]["TableArn"]
    try:
        return canonical_policy(json.loads(dynamodb.get_resource_policy(ResourceArn=arn)["Policy"]))
    except ClientError as exc:
        if _code(exc) != "PolicyNotFoundException":
            raise
        return None


def _table_with_sample_policy(sample: str) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        dynamodb = _dynamodb(account)
        arn = dynamodb.create_table(
            TableName="orders",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )["TableDescription"]["TableArn"]
        assert arn == _request(sample)["resourceArn"], "the sample names the table moto creates"
        dynamodb.put_resource_policy(ResourceArn=arn, Policy=_request(sample)["policy"])
        return load_event(sample)

    return prepare


def _efs(account: Account) -> Any:
    return account.session.client("efs", region_name=BUCKET_REGION)


def file_system_policy(account: Account) -> dict[str, Any]:
    """The policy of the one file system (moto chooses its id; the EFS samples' file system)."""
    efs = _efs(account)
    [file_system] = efs.describe_file_systems()["FileSystems"]
    return canonical_policy(
        json.loads(efs.describe_file_system_policy(FileSystemId=file_system["FileSystemId"])["Policy"])
    )


def _file_system_with_sample_policy(sample: str) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        efs = _efs(account)
        file_system = efs.create_file_system(CreationToken="orders-shared-files")["FileSystemId"]
        efs.put_file_system_policy(FileSystemId=file_system, Policy=_request(sample)["policy"])
        event = load_event(sample)
        event["detail"]["requestParameters"]["fileSystemId"] = file_system
        return event

    return prepare


def _s3control(account: Account) -> Any:
    return account.session.client("s3control", region_name=BUCKET_REGION)


def _access_point_document(sample: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(_request(sample)["PutAccessPointPolicyRequest"]["Policy"])
    return document


def access_point_policy(account: Account) -> dict[str, Any]:
    """The policy of access point finance-ap (the access point samples' one)."""
    policy = _s3control(account).get_access_point_policy(AccountId=HOME_ACCOUNT, Name="finance-ap")["Policy"]
    return canonical_policy(json.loads(policy))


def _access_point_with_sample_policy(sample: str) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        _bucket(account, "acme-finance")
        s3control = _s3control(account)
        s3control.create_access_point(AccountId=HOME_ACCOUNT, Name="finance-ap", Bucket="acme-finance")
        policy = _request(sample)["PutAccessPointPolicyRequest"]["Policy"]
        s3control.put_access_point_policy(AccountId=HOME_ACCOUNT, Name="finance-ap", Policy=policy)
        return load_event(sample)

    return prepare


#: Where S3 serves every Multi-Region Access Point call (the MRAP rules' remediation acts there).
MRAP_REGION = "us-west-2"


def _mrap_document(sample: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        _request(sample)["PutMultiRegionAccessPointPolicyRequest"]["Details"]["Policy"]
    )
    return document


def mrap_policy(account: Account) -> dict[str, Any] | None:
    """The established policy of Multi-Region Access Point orders-global (the MRAP samples' one)."""
    s3control = account.session.client("s3control", region_name=MRAP_REGION)
    try:
        answer = s3control.get_multi_region_access_point_policy(AccountId=HOME_ACCOUNT, Name="orders-global")
    except ClientError as exc:
        if _code(exc) == "NoSuchMultiRegionAccessPointPolicy":
            return None
        raise
    return canonical_policy(json.loads(answer["Policy"]["Established"]["Policy"]))


def _mrap_with_sample_policy(sample: str) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        s3control = account.session.client("s3control", region_name=MRAP_REGION)
        if not s3control.list_multi_region_access_points(AccountId=HOME_ACCOUNT)["AccessPoints"]:
            s3 = account.session.client("s3", region_name=MRAP_REGION)
            s3.create_bucket(Bucket="acme-orders-usw2", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
            s3control.create_multi_region_access_point(
                AccountId=HOME_ACCOUNT, Details={"Name": "orders-global", "Regions": [{"Bucket": "acme-orders-usw2"}]}
            )
        policy = _request(sample)["PutMultiRegionAccessPointPolicyRequest"]["Details"]["Policy"]
        s3control.put_multi_region_access_point_policy(
            AccountId=HOME_ACCOUNT, Details={"Name": "orders-global", "Policy": policy}
        )
        return load_event(sample)

    return prepare


#: Object Lambda access point policies by session (moto has no Object Lambda: session hooks emulate the three calls).
_OBJECT_LAMBDA_POLICIES: dict[int, dict[str, str]] = {}


def _emulate_object_lambda_policies(account: Account, client: Any = None) -> dict[str, str]:
    """Answer the three Object Lambda policy calls of the session's new clients (and of ``client``, made before)."""
    import html
    import re

    from botocore.awsrequest import AWSResponse
    from botocore.compat import HTTPHeaders

    store = _OBJECT_LAMBDA_POLICIES.setdefault(id(account.session), {})
    url = f"https://{HOME_ACCOUNT}.s3-control.eu-west-1.amazonaws.com/"

    def answer(status: int, body: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse(url, status, HTTPHeaders(), None), {**body, "ResponseMetadata": {"HTTPStatusCode": status}}

    def name(params: dict[str, Any]) -> str:
        return str(params["url_path"].split("/")[3])  # /v20180820/accesspointforobjectlambda/{name}/policy

    def get(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        if name(params) not in store:
            return answer(404, {"Error": {"Code": "NoSuchAccessPointPolicy", "Message": "no policy"}})
        return answer(200, {"Policy": store[name(params)]})

    def put(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        body = params["body"].decode() if isinstance(params["body"], bytes) else str(params["body"])
        found = re.search(r"<Policy>(.*)</Policy>", body, re.DOTALL)  # botocore's own XML: escaped JSON
        store[name(params)] = html.unescape(found.group(1)) if found else ""
        return answer(200, {})

    def delete(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        store.pop(name(params), None)
        return answer(204, {})

    hooks = (
        ("GetAccessPointPolicyForObjectLambda", get),
        ("PutAccessPointPolicyForObjectLambda", put),
        ("DeleteAccessPointPolicyForObjectLambda", delete),
    )
    for emitter in (account.session.events, *([client.meta.events] if client is not None else [])):
        events: Any = emitter  # botocore types a hook as returning None; these answer the call
        for operation, hook in hooks:
            events.register(f"before-call.s3-control.{operation}", hook, unique_id=f"object-lambda-{operation}")
    return store


def object_lambda_policy(account: Account) -> dict[str, Any] | None:
    policy = _OBJECT_LAMBDA_POLICIES.get(id(account.session), {}).get("redacted-reports")
    return canonical_policy(json.loads(policy)) if policy else None


def _object_lambda_with_sample_policy(sample: str) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        _emulate_object_lambda_policies(account)
        s3control = account.session.client("s3control", region_name=BUCKET_REGION)
        policy = _request(sample)["PutAccessPointPolicyForObjectLambdaRequest"]["Policy"]
        s3control.put_access_point_policy_for_object_lambda(
            AccountId=HOME_ACCOUNT, Name="redacted-reports", Policy=policy
        )
        return load_event(sample)

    return prepare


#: The canonical id moto gives the account's own S3 owner, and the other account's user the ACL sample grants to.
MOTO_OWNER = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
OTHER_CANONICAL_USER = "c3f1e2d4a5b6978812a3b4c5d6e7f80912a3b4c5d6e7f8091a2b3c4d5e6f7a8b"


def _bucket_with_canonical_grant(sample: str) -> Callable[[Account], dict[str, Any]]:
    """The sample's bucket, its ACL granting READ to the other account's canonical user (as the sample did)."""

    def prepare(account: Account) -> dict[str, Any]:
        bucket = _request(sample)["bucketName"]
        _bucket(account, bucket)
        account.s3.put_bucket_ownership_controls(
            Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
        )
        owner = account.s3.get_bucket_acl(Bucket=bucket)["Owner"]
        grants = [
            {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "FULL_CONTROL"},
            {"Grantee": {"Type": "CanonicalUser", "ID": OTHER_CANONICAL_USER}, "Permission": "READ"},
        ]
        account.s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": owner, "Grants": grants})
        return load_event(sample)

    return prepare


def _opensearch(account: Account) -> Any:
    return account.session.client("opensearch", region_name=BUCKET_REGION)


def domain_policy(account: Account) -> dict[str, Any] | None:
    """The access policy of domain orders-search (the OpenSearch samples' domain), or None when it has none."""
    config = _opensearch(account).describe_domain_config(DomainName="orders-search")["DomainConfig"]
    text = config["AccessPolicies"]["Options"]
    return canonical_policy(json.loads(text)) if text else None


def _domain_with_sample_policy(sample: str) -> Callable[[Account], dict[str, Any]]:
    """Domain orders-search holding the sample's access policy (or none, for a sample that sets none)."""

    def prepare(account: Account) -> dict[str, Any]:
        opensearch = _opensearch(account)
        policy = _request(sample).get("accessPolicies")
        opensearch.create_domain(DomainName="orders-search", **({"AccessPolicies": policy} if policy else {}))
        return load_event(sample)

    return prepare


#: moto has no backup vault access policies: the cases answer AWS Backup's three policy calls from this store,
#: through botocore's before-call hooks on the session (as a Stubber would), so every client of the session
#: (the enforcer's included) sees one vault's policy. Keyed by the session, so tests never share a vault.
_VAULT_POLICIES: dict[int, dict[str, str]] = {}


def _emulate_vault_policies(account: Account) -> dict[str, str]:
    from botocore.awsrequest import AWSResponse
    from botocore.compat import HTTPHeaders

    store = _VAULT_POLICIES.setdefault(id(account.session), {})
    url = "https://backup.eu-west-1.amazonaws.com/"

    def answer(status: int, body: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse(url, status, HTTPHeaders(), None), {**body, "ResponseMetadata": {"HTTPStatusCode": status}}

    def vault(params: dict[str, Any]) -> str:
        return str(params["url_path"].split("/")[2])  # /backup-vaults/{name}/access-policy

    def get(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        name = vault(params)
        if name not in store:
            return answer(404, {"Error": {"Code": "ResourceNotFoundException", "Message": "no policy"}})
        return answer(200, {"BackupVaultName": name, "Policy": store[name]})

    def put(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        store[vault(params)] = json.loads(params["body"])["Policy"]
        return answer(200, {})

    def delete(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        store.pop(vault(params), None)
        return answer(200, {})

    events: Any = account.session.events  # botocore types a hook as returning None; these answer the call
    events.register("before-call.backup.GetBackupVaultAccessPolicy", get, unique_id="vault-get")
    events.register("before-call.backup.PutBackupVaultAccessPolicy", put, unique_id="vault-put")
    events.register("before-call.backup.DeleteBackupVaultAccessPolicy", delete, unique_id="vault-delete")
    return store


def vault_policy(account: Account) -> dict[str, Any] | None:
    policy = _VAULT_POLICIES.get(id(account.session), {}).get("orders-vault")
    return canonical_policy(json.loads(policy)) if policy else None


def _vault_with_sample_policy(sample: str) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        _emulate_vault_policies(account)
        backup = account.session.client("backup", region_name=BUCKET_REGION)
        backup.put_backup_vault_access_policy(BackupVaultName="orders-vault", Policy=_request(sample)["policy"])
        return load_event(sample)

    return prepare


# --- Glacier vaults and CloudWatch Logs destinations (issue 18) ---------------

#: moto has no Glacier vault access policies: the cases answer Glacier's three policy calls from this store through
#: the session's before-call hooks, as for backup vaults (keyed by the session, so tests never share a vault).
_GLACIER_POLICIES: dict[int, dict[str, str]] = {}


def _emulate_glacier_policies(account: Account) -> dict[str, str]:
    from botocore.awsrequest import AWSResponse
    from botocore.compat import HTTPHeaders

    store = _GLACIER_POLICIES.setdefault(id(account.session), {})
    url = "https://glacier.eu-west-1.amazonaws.com/"

    def answer(status: int, body: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse(url, status, HTTPHeaders(), None), {**body, "ResponseMetadata": {"HTTPStatusCode": status}}

    def vault(params: dict[str, Any]) -> str:
        return str(params["url_path"].split("/")[3])  # /{accountId}/vaults/{vaultName}/access-policy

    def get(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        name = vault(params)
        if name not in store:
            return answer(404, {"Error": {"Code": "ResourceNotFoundException", "Message": "no policy"}})
        return answer(200, {"policy": {"Policy": store[name]}})

    def put(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        store[vault(params)] = json.loads(params["body"])["Policy"]
        return answer(204, {})

    def delete(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        store.pop(vault(params), None)
        return answer(204, {})

    events: Any = account.session.events
    events.register("before-call.glacier.GetVaultAccessPolicy", get, unique_id="glacier-get")
    events.register("before-call.glacier.SetVaultAccessPolicy", put, unique_id="glacier-put")
    events.register("before-call.glacier.DeleteVaultAccessPolicy", delete, unique_id="glacier-delete")
    return store


def glacier_vault_policy(account: Account) -> dict[str, Any] | None:
    """The access policy of vault orders-archive (the Glacier samples' vault), or None when it has none."""
    policy = _GLACIER_POLICIES.get(id(account.session), {}).get("orders-archive")
    return canonical_policy(json.loads(policy)) if policy else None


def _glacier_vault_with_sample_policy(sample: str) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        _emulate_glacier_policies(account)
        glacier = account.session.client("glacier", region_name=RESOURCE_REGION)
        glacier.create_vault(vaultName="orders-archive")
        glacier.set_vault_access_policy(
            vaultName="orders-archive", policy={"Policy": _request(sample)["policy"]["policy"]}
        )
        return load_event(sample)

    return prepare


def _logs(account: Account) -> Any:
    return account.session.client("logs", region_name=RESOURCE_REGION)


def log_destination_policy(account: Account) -> dict[str, Any] | None:
    """The access policy of destination central-logs (the CloudWatch Logs samples'), or None when it has none."""
    destinations = _logs(account).describe_destinations(DestinationNamePrefix="central-logs")["destinations"]
    policy = next(d.get("accessPolicy") for d in destinations if d["destinationName"] == "central-logs")
    return canonical_policy(json.loads(policy)) if policy else None


def _log_destination_with_sample_policy(sample: str) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        logs = _logs(account)
        logs.put_destination(
            destinationName="central-logs",
            targetArn=f"arn:aws:kinesis:{RESOURCE_REGION}:{HOME_ACCOUNT}:stream/central-logs",
            roleArn=f"arn:aws:iam::{HOME_ACCOUNT}:role/cwl-to-kinesis",
        )
        logs.put_destination_policy(destinationName="central-logs", accessPolicy=_request(sample)["accessPolicy"])
        return load_event(sample)

    return prepare


# --- the cases --------------------------------------------------------------------------------

_PUBLIC_AND_VENDOR = _request("bucket-policy-public-and-vendor.json")["bucketPolicy"]
_UNKNOWN_ACCOUNT = _request("bucket-policy-unknown-account.json")["bucketPolicy"]
_ADMIN_VERSION = _document("create-policy-version-admin.json")
_ESCALATION_VERSION = _document("create-policy-version-escalation.json")
_PUBLIC_QUEUE = json.loads(_request("sqs-policy-public.json")["attributes"]["Policy"])
_OWN_QUEUE_STATEMENT = _PUBLIC_QUEUE["Statement"][0]
_OWN_QUEUE = {"Version": "2012-10-17", "Statement": [_OWN_QUEUE_STATEMENT]}
_PUBLIC_TOPIC = json.loads(_request("sns-policy-public-subscribe.json")["attributeValue"])
_ORGANIZATION = {"organization_id": "o-a1b2c3d4e5"}
_PARTNER = {"trusted_accounts": "444455556666"}
#: KMS's default key policy (the account's IAM policies decide), which a key created without a policy has.
_DEFAULT_KEY_POLICY = {
    "Version": "2012-10-17",
    "Id": "key-default-1",
    "Statement": [
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{HOME_ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ],
}
_PUBLIC_SECRET = json.loads(_request("secret-policy-public.json")["resourcePolicy"])
_VENDOR_SECRET = json.loads(_request("secret-policy-unknown-account.json")["resourcePolicy"])
_PUBLIC_REPOSITORY = json.loads(_request("ecr-policy-public.json")["policyText"])
_VENDOR_REPOSITORY = json.loads(_request("ecr-policy-unknown-account.json")["policyText"])
_VENDOR_KEY_POLICY = json.loads(_request("kms-put-key-policy-unknown-account.json")["policy"])
_DYNAMODB_PUBLIC = json.loads(_request("dynamodb-policy-public.json")["policy"])
_DYNAMODB_VENDOR = json.loads(_request("dynamodb-policy-unknown-account.json")["policy"])
_EFS_PUBLIC = json.loads(_request("efs-policy-public.json")["policy"])
_EFS_PARTNER = json.loads(_request("efs-policy-unknown-account.json")["policy"])
_ACCESS_POINT_PUBLIC = _access_point_document("access-point-policy-public.json")
_ACCESS_POINT_AUDITOR = _access_point_document("access-point-policy-unknown-account.json")
_MRAP_PUBLIC = _mrap_document("mrap-policy-public.json")
_MRAP_REPLICATOR = _mrap_document("mrap-policy-unknown-account.json")
_OBJECT_LAMBDA_PUBLIC = json.loads(
    _request("object-lambda-policy-public.json")["PutAccessPointPolicyForObjectLambdaRequest"]["Policy"]
)
_OBJECT_LAMBDA_PARTNER = json.loads(
    _request("object-lambda-policy-unknown-account.json")["PutAccessPointPolicyForObjectLambdaRequest"]["Policy"]
)
_OBJECT_LAMBDA_GAPS = {
    Behaviour.PARTIAL_FAILURE: (
        "Object Lambda access points (the cases emulate their policy calls with session hooks, which answer before "
        "the injected refusal)"
    )
}
_OPENSEARCH_PUBLIC = json.loads(_request("opensearch-policy-public.json")["accessPolicies"])
_OPENSEARCH_CONTRACTOR = json.loads(_request("opensearch-policy-unknown-account.json")["accessPolicies"])
_VAULT_PUBLIC = json.loads(_request("backup-vault-policy-public.json")["policy"])
_VAULT_VENDOR = json.loads(_request("backup-vault-policy-unknown-account.json")["policy"])
_VAULT_GAPS = {
    Behaviour.PARTIAL_FAILURE: (
        "vault access policies (the cases emulate them with session hooks, which answer before the injected refusal)"
    )
}
_GLACIER_PUBLIC = json.loads(_request("glacier-vault-policy-public.json")["policy"]["policy"])
_GLACIER_VENDOR = json.loads(_request("glacier-vault-policy-unknown-account.json")["policy"]["policy"])
_GLACIER_GAPS = {
    Behaviour.PARTIAL_FAILURE: (
        "Glacier vault access policies (the cases emulate them with session hooks, which answer before the "
        "injected refusal)"
    )
}
_LOGS_PUBLIC = json.loads(_request("logs-destination-policy-public.json")["accessPolicy"])
_LOGS_VENDOR = json.loads(_request("logs-destination-policy-unknown-account.json")["accessPolicy"])
_DELETE_VERSION = {"rules/policy-version-admin/delete_version": "delete"}

CASES: Mapping[str, GuardrailCase] = {
    case.rule: case
    for case in (
        GuardrailCase(
            rule="iam-user-created",
            # No console password: AWS never returns one, so undo could not restore it exactly
            # (test_remediation.py covers that undo says so).
            violation=Scenario(
                _user_with_key("backdoor-admin", "create-user-backdoor-cli.json"), user_state("backdoor-admin")
            ),
            remediated={
                "inline_policies": {"iamwarden-quarantine": DENY_ALL},
                "access_keys": ["Inactive"],
                "console_password": False,
                "tags": {
                    "team": "payments",
                    "iamwarden:quarantine-finding": SET_BY_IAMWARDEN,
                    "iamwarden:quarantined-at": SET_BY_IAMWARDEN,
                    "iamwarden:quarantined-arn": SET_BY_IAMWARDEN,
                },
                "boundary": "arn:aws:iam::aws:policy/AWSDenyAll",
            },
            compliant=Scenario(
                _user_with_key("legacy-smtp", "create-user-service-account-path.json", path="/service-accounts/"),
                user_state("legacy-smtp"),
                {"rules/iam-user-created/allow_paths": "/service-accounts/"},
            ),
            # Both deny-alls refused: the quarantine fails (never "quarantined" without one), after deactivating the
            # key it still can; its done names both refusals. (Any one refused write, a deny-all's, a key's, the
            # password's, a tag's, is no failure while a deny-all holds, review s11 R7/R10, issue 15:
            # tests/functional/test_quarantine_quota.py, test_quarantine_truth.py.)
            partial_failure=PartialFailure(
                "iam",
                "PutUserPermissionsBoundary",
                done_before=0,
                also=("PutUserPolicy",),
                done_after=4,  # both NOT lines, the key deactivated, and moto lacking service-specific credentials
                writes_after=1,
                ahead=True,
            ),
        ),
        GuardrailCase(
            rule="managed-policy-attached",
            violation=Scenario(
                _role_with_attached(
                    "app-backend", "arn:aws:iam::aws:policy/AdministratorAccess", "attach-admin-to-role.json"
                ),
                attached_policies("role", "app-backend"),
            ),
            remediated=[f"arn:aws:iam::{HOME_ACCOUNT}:policy/app-s3-read"],
            compliant=Scenario(
                _role_with_attached(
                    "orders-function-role",
                    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                    "attach-lambda-basic-execution.json",
                ),
                attached_policies("role", "orders-function-role"),
            ),
            partial_failure=PartialFailure("iam", "DetachRolePolicy", done_before=0),
        ),
        GuardrailCase(
            rule="s3-bucket-policy-public",
            # One event, two rules: the public statement is this rule's, the vendor's statement cross-account's.
            violation=Scenario(
                _bucket_with_sample_policy("bucket-policy-public-and-vendor.json"), bucket_policy("acme-media")
            ),
            findings=frozenset({"s3-bucket-policy-public", "s3-bucket-policy-cross-account"}),
            remediated=canonical_policy(_without_statement(_PUBLIC_AND_VENDOR, 0)),
            compliant=Scenario(
                _bucket_with_sample_policy("bucket-policy-deny-insecure-transport.json"), bucket_policy("acme-secure")
            ),
            partial_failure=PartialFailure("s3", "PutBucketPolicy", done_before=0),
        ),
        GuardrailCase(
            rule="s3-bucket-policy-cross-account",
            violation=Scenario(
                _bucket_with_sample_policy("bucket-policy-unknown-account.json"), bucket_policy("acme-exports")
            ),
            remediated=canonical_policy(_without_statement(_UNKNOWN_ACCOUNT, 1)),
            compliant=Scenario(
                _bucket_with_sample_policy("bucket-policy-cloudtrail-service.json"),
                bucket_policy("acme-cloudtrail-logs"),
            ),
            partial_failure=PartialFailure("s3", "PutBucketPolicy", done_before=0),
        ),
        GuardrailCase(
            rule="inline-policy-admin",
            # PutRolePolicy is judged by privilege-escalation too: an admin-equivalent document is this rule's alone.
            violation=Scenario(
                _role_with_sample_inline_policy("put-role-policy-admin-star.json", keep=True),
                role_inline_policies("app-backend"),
            ),
            findings=frozenset({"inline-policy-admin"}),
            remediated={"keep-me": SAFE},
            compliant=Scenario(
                _role_with_sample_inline_policy("put-role-policy-scoped-s3.json", keep=False),
                role_inline_policies("app-backend"),
            ),
            partial_failure=PartialFailure("iam", "DeleteRolePolicy", done_before=0),
        ),
        GuardrailCase(
            rule="privilege-escalation",
            # A new default version that opens a method v4 did not grant (live, IAM records no previous default, so
            # every other version is weighed; audit gap 5). A live inline put is alert-only: what it replaced is
            # unknown (tests/functional/test_escalation_before.py), so it is not this contract case.
            violation=Scenario(
                _with_an_admin_role(
                    _policy_with_versions(
                        "create-policy-version-escalation.json",
                        SAFE,
                        _ESCALATION_VERSION,
                        default="v2",
                        created="v2",
                    )
                ),
                policy_versions("app-deploy"),
            ),
            findings=frozenset({"privilege-escalation"}),
            # The event created v2 as the default, so v1 was the previous default (the only version then: review s11
            # finding 5), and grants none of what v2 added: it is the default again (with several, or a lone one the
            # event does not name, none is put back on a guess: tests/functional/test_remediation_identity.py).
            remediated={"default": "v1", "versions": {"v1": SAFE, "v2": _ESCALATION_VERSION}},
            compliant=Scenario(
                _user_with_sample_inline_policy("put-user-policy-own-access-keys.json"), user_state("svc-smtp")
            ),
            partial_failure=PartialFailure("iam", "SetDefaultPolicyVersion", done_before=0),
        ),
        GuardrailCase(
            rule="policy-version-admin",
            violation=Scenario(
                # The event created v2 as the default, so v1 was the previous default (with several, or a lone one
                # the event does not name, none is put back on a guess: review s11 finding 5).
                _policy_with_versions(
                    "create-policy-version-admin.json", SAFE, _ADMIN_VERSION, default="v2", created="v2"
                ),
                policy_versions("app-deploy"),
            ),
            remediated={"default": "v1", "versions": {"v1": SAFE, "v2": _ADMIN_VERSION}},
            # A safe version staged as non-default (the sample stages an admin one: alerted, "staged, not in force").
            compliant=Scenario(
                _staged_safe_version(SAFE, SAFE_READ_WRITE, SAFE, SAFE_READ_WRITE, default="v3"),
                policy_versions("app-deploy"),
            ),
            # With delete_version=delete: the safe default is set back, the offending version is not deleted.
            partial_failure=PartialFailure("iam", "DeletePolicyVersion", done_before=1, settings=_DELETE_VERSION),
        ),
        GuardrailCase(
            rule="access-key-created",
            violation=Scenario(_new_access_key, user_state("svc-legacy")),
            remediated={
                "inline_policies": {},
                "access_keys": ["Active", "Inactive"],
                "console_password": False,
                "tags": {},
            },
            compliant=Scenario(
                _new_access_key,
                user_state("svc-legacy"),
                {"rules/access-key-created/allow_resources": f"arn:aws:iam::{HOME_ACCOUNT}:user/svc-legacy"},
            ),
            partial_failure=PartialFailure("iam", "UpdateAccessKey", done_before=0),
        ),
        GuardrailCase(
            rule="user-credential-created",
            violation=Scenario(_ssh_key_uploaded, ssh_key_statuses("svc-legacy")),
            remediated=["Inactive"],
            compliant=Scenario(
                _ssh_key_uploaded,
                ssh_key_statuses("svc-legacy"),
                {"rules/user-credential-created/allow_resources": f"arn:aws:iam::{HOME_ACCOUNT}:user/svc-legacy"},
            ),
            partial_failure=PartialFailure("iam", "UpdateSSHPublicKey", done_before=0),
        ),
        GuardrailCase(
            rule="root-access-key-created",
            violation=Scenario(_root_key, _no_state, _ROOT_REMEDIATION_ON),
            remediated=None,
            compliant=Scenario(
                _root_key,
                _no_state,
                {
                    **_ROOT_REMEDIATION_ON,
                    "rules/root-access-key-created/allow_resources": f"arn:aws:iam::{HOME_ACCOUNT}:root",
                },
            ),
            partial_failure=PartialFailure("iam", "DeleteAccessKey", done_before=0, settings=_ROOT_REMEDIATION_ON),
            undo_refused="a deleted root access key cannot be restored",
            moto_gaps={
                Behaviour.REMEDIATED: _NO_ROOT_IN_MOTO,
                Behaviour.DUPLICATE: _NO_ROOT_IN_MOTO,
                Behaviour.PARTIAL_FAILURE: _NO_ROOT_IN_MOTO,
                Behaviour.UNDO: _NO_ROOT_IN_MOTO,
            },
        ),
        GuardrailCase(
            rule="login-profile-created",
            violation=Scenario(_user_with_console_password("create-login-profile.json"), user_state("svc-legacy")),
            remediated={"inline_policies": {}, "access_keys": [], "console_password": False, "tags": {}},
            compliant=Scenario(
                _user_with_console_password("create-login-profile-allowlisted.json"),
                user_state("console-breakglass"),
                {"rules/login-profile-created/allow_resources": f"arn:aws:iam::{HOME_ACCOUNT}:user/console-breakglass"},
            ),
            partial_failure=PartialFailure("iam", "DeleteLoginProfile", done_before=0),
            undo_refused="AWS never returns a password: a deleted console password cannot be put back",
        ),
        GuardrailCase(
            rule="trust-policy-untrusted",
            violation=Scenario(
                _role_with_sample_trust("trust-update-unknown-account.json", "policyDocument"),
                trust_policy("app-deployer"),
            ),
            remediated=_without_statement(_document("trust-update-unknown-account.json"), 1),
            compliant=Scenario(
                _role_with_sample_trust("trust-lambda-service.json", "assumeRolePolicyDocument"),
                trust_policy("orders-function-role"),
            ),
            partial_failure=PartialFailure("iam", "UpdateAssumeRolePolicy", done_before=0),
        ),
        GuardrailCase(
            rule="s3-acl-public",
            violation=Scenario(_bucket_with_canned_acl("acl-bucket-public-read.json"), bucket_acl("acme-website")),
            remediated=[("owner", "FULL_CONTROL")],
            compliant=Scenario(_bucket_with_canned_acl("acl-bucket-private.json"), bucket_acl("acme-website")),
            partial_failure=PartialFailure("s3", "PutBucketAcl", done_before=0),
        ),
        GuardrailCase(
            rule="iamwarden-tampered",
            violation=Scenario(
                _disabled_rule("tamper-disable-forwarder.json"), rule_state("iamwarden-forward-own-events")
            ),
            remediated="ENABLED",
            compliant=Scenario(
                _disabled_rule("tamper-disable-other-rule.json"), rule_state("iamwarden-forward-own-events-copy")
            ),
            partial_failure=PartialFailure("events", "EnableRule", done_before=0),
        ),
        GuardrailCase(
            rule="s3-public-access-block-disabled",
            violation=Scenario(
                _bucket_with_sample_block("pab-bucket-partly-off.json", ALL_BLOCKED),
                bucket_public_access_block("acme-exports"),
            ),
            remediated=ALL_BLOCKED,
            compliant=Scenario(
                _bucket_with_sample_block("pab-bucket-all-on.json"), bucket_public_access_block("acme-invoices")
            ),
            partial_failure=PartialFailure("s3", "PutPublicAccessBlock", done_before=0),
        ),
        GuardrailCase(
            rule="sqs-queue-policy-public",
            violation=Scenario(_queue_with_sample_policy("sqs-policy-public.json"), queue_policy("orders-events")),
            remediated=canonical_policy(_without_statement(_PUBLIC_QUEUE, 1)),
            compliant=Scenario(
                _queue_with_sample_policy("sqs-policy-sns-subscription.json"), queue_policy("orders-fanout")
            ),
            partial_failure=PartialFailure("sqs", "SetQueueAttributes", done_before=0),
        ),
        GuardrailCase(
            rule="sqs-queue-policy-cross-account",
            # AddPermission: SQS writes the statement, matched by its label.
            violation=Scenario(
                _queue_with_sample_permission("sqs-add-permission-unknown-account.json", _OWN_QUEUE),
                queue_policy("orders-events"),
            ),
            remediated=canonical_policy(_OWN_QUEUE),
            compliant=Scenario(
                _queue_with_sample_policy("sqs-policy-org-condition.json"), queue_policy("shared-jobs"), _ORGANIZATION
            ),
            partial_failure=PartialFailure("sqs", "SetQueueAttributes", done_before=0),
        ),
        GuardrailCase(
            rule="sns-topic-policy-public",
            violation=Scenario(
                _topic_with_sample_policy("sns-policy-public-subscribe.json"), topic_policy("price-updates")
            ),
            remediated=canonical_policy(_without_statement(_PUBLIC_TOPIC, 1)),
            compliant=Scenario(
                _topic_with_sample_policy("sns-policy-cloudwatch-alarms.json"), topic_policy("ops-alarms")
            ),
            partial_failure=PartialFailure("sns", "SetTopicAttributes", done_before=0),
        ),
        GuardrailCase(
            rule="sns-topic-policy-cross-account",
            # AddPermission: SNS writes the statement beside its default one, matched by its label.
            violation=Scenario(
                _topic_with_sample_permission("sns-add-permission-unknown-account.json"), topic_policy("price-updates")
            ),
            remediated=canonical_policy(_without_statement(_PUBLIC_TOPIC, 1)),
            compliant=Scenario(_new_topic("sns-create-topic-default-policy.json"), topic_policy("orders")),
            partial_failure=PartialFailure("sns", "SetTopicAttributes", done_before=0),
        ),
        GuardrailCase(
            rule="lambda-permission-public",
            violation=Scenario(
                _function_with_sample_permission("lambda-permission-public-url.json"),
                function_permissions("orders-api"),
            ),
            remediated={"statements": ["AllowS3Invoke"], "url_auth_type": None},
            compliant=Scenario(
                _function_with_sample_permission("lambda-permission-s3-notification.json"),
                function_permissions("thumbnailer"),
            ),
            partial_failure=PartialFailure("lambda", "RemovePermission", done_before=0),
        ),
        GuardrailCase(
            rule="lambda-permission-cross-account",
            # A layer version shared with an organisation this one does not trust.
            violation=Scenario(
                _layer_with_sample_permission("lambda-layer-permission-organization.json"),
                layer_permissions("acme-shared-libs", 4),
            ),
            remediated=["own-account"],
            compliant=Scenario(
                _layer_with_sample_permission("lambda-layer-permission-organization.json"),
                layer_permissions("acme-shared-libs", 4),
                _ORGANIZATION,
            ),
            partial_failure=PartialFailure("lambda", "RemoveLayerVersionPermission", done_before=0),
        ),
        GuardrailCase(
            rule="lambda-function-url-public",
            # The enforcer reads the function's policy live: everyone may call the URL, so it is certain.
            violation=Scenario(
                _function_url("lambda-function-url-auth-none.json", public=True), function_permissions("orders-api")
            ),
            remediated={"statements": ["AllowS3Invoke", "FunctionURLAllowPublicAccess"], "url_auth_type": "AWS_IAM"},
            # The same URL whose function policy lets nobody call it unsigned.
            compliant=Scenario(
                _function_url("lambda-function-url-auth-none.json", public=False), function_permissions("orders-api")
            ),
            partial_failure=PartialFailure("lambda", "UpdateFunctionUrlConfig", done_before=0),
        ),
        GuardrailCase(
            rule="kms-key-policy-public",
            # Every statement but the account's own offends: the account statement stays.
            violation=Scenario(_key_with_sample_policy("kms-put-key-policy-public.json"), key_state),
            remediated={
                "policy": canonical_policy(
                    _without_statement(json.loads(_request("kms-put-key-policy-public.json")["policy"]), 1)
                ),
                "grants": [],
            },
            compliant=Scenario(_key_with_sample_policy("kms-create-key-caller-account.json"), key_state),
            partial_failure=PartialFailure("kms", "PutKeyPolicy", done_before=0),
        ),
        GuardrailCase(
            rule="kms-key-policy-cross-account",
            violation=Scenario(_key_with_sample_policy("kms-put-key-policy-unknown-account.json"), key_state),
            remediated={"policy": canonical_policy(_without_statement(_VENDOR_KEY_POLICY, 1)), "grants": []},
            compliant=Scenario(
                _key_with_sample_policy("kms-put-key-policy-unknown-account.json"),
                key_state,
                {"trusted_accounts": "999988887777"},
            ),
            partial_failure=PartialFailure("kms", "PutKeyPolicy", done_before=0),
        ),
        GuardrailCase(
            rule="managed-policy-ambiguous",
            violation=Scenario(_sample("create-policy-duplicate-keys.json"), nothing),
            remediated=None,
            compliant=Scenario(_sample("create-policy-read-only.json"), nothing),
            partial_failure=None,
            alert_only="IAM Warden never deletes a policy; the attach rules judge it when it is attached",
        ),
        GuardrailCase(
            rule="kms-key-policy-locks-out-account",
            violation=Scenario(_key_with_sample_policy("kms-put-key-policy-locks-out-account.json"), key_state),
            remediated=None,
            compliant=Scenario(_key_with_sample_policy("kms-create-key-caller-account.json"), key_state),
            partial_failure=None,
            alert_only="a key policy that shuts the account out can only be changed by the principals it names",
            alert_severity="high",
        ),
        GuardrailCase(
            rule="kms-grant-cross-account",
            violation=Scenario(_key_with_sample_grant("kms-create-grant-unknown-account.json"), key_state),
            remediated={
                "policy": canonical_policy(_DEFAULT_KEY_POLICY),
                "grants": [(f"arn:aws:iam::{HOME_ACCOUNT}:role/orders-worker", ("Decrypt",))],
            },
            compliant=Scenario(_key_with_sample_grant("kms-create-grant-own-role.json"), key_state),
            partial_failure=PartialFailure("kms", "RevokeGrant", done_before=0),
        ),
        GuardrailCase(
            rule="secret-policy-public",
            violation=Scenario(
                _secret_with_sample_policy("secret-policy-public.json"), secret_policy("prod/orders/api-key")
            ),
            remediated=canonical_policy(_without_statement(_PUBLIC_SECRET, 1)),
            compliant=Scenario(
                _secret_with_sample_policy("secret-policy-own-role.json"), secret_policy("prod/orders/db")
            ),
            partial_failure=PartialFailure("secretsmanager", "PutResourcePolicy", done_before=0),
        ),
        GuardrailCase(
            rule="secret-policy-cross-account",
            violation=Scenario(
                _secret_with_sample_policy("secret-policy-unknown-account.json"), secret_policy("prod/orders/db")
            ),
            remediated=canonical_policy(_without_statement(_VENDOR_SECRET, 1)),
            compliant=Scenario(
                _secret_with_sample_policy("secret-policy-own-role.json"), secret_policy("prod/orders/db")
            ),
            partial_failure=PartialFailure("secretsmanager", "PutResourcePolicy", done_before=0),
        ),
        GuardrailCase(
            rule="ecr-repository-policy-public",
            violation=Scenario(
                _repository_with_sample_policy("ecr-policy-public.json"), repository_policy("orders-api")
            ),
            remediated=canonical_policy(_without_statement(_PUBLIC_REPOSITORY, 1)),
            compliant=Scenario(
                _repository_with_sample_policy("ecr-policy-organization.json"),
                repository_policy("base-images"),
                _ORGANIZATION,
            ),
            partial_failure=PartialFailure("ecr", "SetRepositoryPolicy", done_before=0),
        ),
        GuardrailCase(
            rule="ecr-repository-policy-cross-account",
            violation=Scenario(
                _repository_with_sample_policy("ecr-policy-unknown-account.json"), repository_policy("base-images")
            ),
            remediated=canonical_policy(_without_statement(_VENDOR_REPOSITORY, 1)),
            compliant=Scenario(
                _repository_with_sample_policy("ecr-policy-organization.json"),
                repository_policy("base-images"),
                _ORGANIZATION,
            ),
            partial_failure=PartialFailure("ecr", "SetRepositoryPolicy", done_before=0),
        ),
        GuardrailCase(
            rule="event-bus-policy-public",
            violation=Scenario(
                _bus_with_sample_permission("event-bus-permission-public.json"),
                event_bus_statements("orders-bus"),
                _PARTNER,
            ),
            remediated=["partner-trusted"],
            compliant=Scenario(
                _bus_with_sample_permission("event-bus-permission-organization.json"),
                event_bus_statements("default"),
                {**_PARTNER, **_ORGANIZATION},
            ),
            partial_failure=PartialFailure("events", "RemovePermission", done_before=0, settings=_PARTNER),
        ),
        GuardrailCase(
            rule="event-bus-policy-cross-account",
            violation=Scenario(
                _bus_with_sample_permission("event-bus-permission-unknown-account.json"),
                event_bus_statements("orders-bus"),
                _PARTNER,
            ),
            remediated=["partner-trusted"],
            compliant=Scenario(
                _bus_with_sample_permission("event-bus-permission-organization.json"),
                event_bus_statements("default"),
                {**_PARTNER, **_ORGANIZATION},
            ),
            partial_failure=PartialFailure("events", "RemovePermission", done_before=0, settings=_PARTNER),
        ),
        GuardrailCase(
            rule="ebs-snapshot-shared",
            # Shared with the partner before; the event made it public: only "all" goes.
            violation=Scenario(
                _shared_snapshot("snapshot-shared-public.json", {"Group": "all"}, {"UserId": PARTNER}), snapshot_shares
            ),
            remediated=[PARTNER],
            compliant=Scenario(_shared_snapshot("snapshot-share-removed.json", {"UserId": PARTNER}), snapshot_shares),
            partial_failure=PartialFailure("ec2", "ModifySnapshotAttribute", done_before=0),
        ),
        GuardrailCase(
            rule="ami-shared",
            violation=Scenario(
                _shared_image("ami-shared-public.json", {"Group": "all"}, {"UserId": PARTNER}), image_shares
            ),
            remediated=[PARTNER],
            compliant=Scenario(
                _shared_image(
                    "ami-shared-organization.json",
                    {"OrganizationArn": "arn:aws:organizations::111122223333:organization/o-a1b2c3d4e5"},
                ),
                image_shares,
                {"organization_id": "o-a1b2c3d4e5"},
            ),
            partial_failure=PartialFailure("ec2", "ModifyImageAttribute", done_before=0),
        ),
        GuardrailCase(
            rule="rds-snapshot-shared",
            violation=Scenario(
                _shared_db_snapshot("rds-snapshot-shared-public.json", "all", PARTNER),
                db_snapshot_shares("orders-db-2026-11-22"),
            ),
            remediated=[PARTNER],
            compliant=Scenario(
                _shared_db_snapshot("rds-snapshot-shared-trusted-account.json", PARTNER),
                db_snapshot_shares("orders-db-2026-11-21"),
                {"trusted_accounts": PARTNER},
            ),
            partial_failure=PartialFailure("rds", "ModifyDBSnapshotAttribute", done_before=0),
        ),
        GuardrailCase(
            rule="dynamodb-resource-policy-public",
            violation=Scenario(_table_with_sample_policy("dynamodb-policy-public.json"), table_policy),
            remediated=canonical_policy(_without_statement(_DYNAMODB_PUBLIC, 1)),
            compliant=Scenario(_table_with_sample_policy("dynamodb-policy-own-account.json"), table_policy),
            partial_failure=PartialFailure("dynamodb", "PutResourcePolicy", done_before=0),
        ),
        GuardrailCase(
            rule="dynamodb-resource-policy-cross-account",
            violation=Scenario(_table_with_sample_policy("dynamodb-policy-unknown-account.json"), table_policy),
            remediated=canonical_policy(_without_statement(_DYNAMODB_VENDOR, 1)),
            compliant=Scenario(_table_with_sample_policy("dynamodb-policy-own-account.json"), table_policy),
            partial_failure=PartialFailure("dynamodb", "PutResourcePolicy", done_before=0),
        ),
        GuardrailCase(
            rule="efs-file-system-policy-public",
            violation=Scenario(_file_system_with_sample_policy("efs-policy-public.json"), file_system_policy),
            remediated=canonical_policy(_without_statement(_EFS_PUBLIC, 1)),
            compliant=Scenario(_file_system_with_sample_policy("efs-policy-own-role.json"), file_system_policy),
            partial_failure=PartialFailure("efs", "PutFileSystemPolicy", done_before=0),
        ),
        GuardrailCase(
            rule="efs-file-system-policy-cross-account",
            violation=Scenario(_file_system_with_sample_policy("efs-policy-unknown-account.json"), file_system_policy),
            remediated=canonical_policy(_without_statement(_EFS_PARTNER, 1)),
            compliant=Scenario(_file_system_with_sample_policy("efs-policy-own-role.json"), file_system_policy),
            partial_failure=PartialFailure("efs", "PutFileSystemPolicy", done_before=0),
        ),
        GuardrailCase(
            rule="s3-access-point-policy-public",
            violation=Scenario(
                _access_point_with_sample_policy("access-point-policy-public.json"), access_point_policy
            ),
            remediated=canonical_policy(_without_statement(_ACCESS_POINT_PUBLIC, 1)),
            compliant=Scenario(
                _access_point_with_sample_policy("access-point-policy-own-role.json"), access_point_policy
            ),
            partial_failure=PartialFailure("s3control", "PutAccessPointPolicy", done_before=0),
        ),
        GuardrailCase(
            rule="s3-access-point-policy-cross-account",
            violation=Scenario(
                _access_point_with_sample_policy("access-point-policy-unknown-account.json"), access_point_policy
            ),
            remediated=canonical_policy(_without_statement(_ACCESS_POINT_AUDITOR, 1)),
            compliant=Scenario(
                _access_point_with_sample_policy("access-point-policy-own-role.json"), access_point_policy
            ),
            partial_failure=PartialFailure("s3control", "PutAccessPointPolicy", done_before=0),
        ),
        GuardrailCase(
            rule="s3-multi-region-access-point-policy-public",
            violation=Scenario(_mrap_with_sample_policy("mrap-policy-public.json"), mrap_policy),
            remediated=canonical_policy(_without_statement(_MRAP_PUBLIC, 1)),
            compliant=Scenario(_mrap_with_sample_policy("mrap-policy-own-role.json"), mrap_policy),
            partial_failure=PartialFailure("s3control", "PutMultiRegionAccessPointPolicy", done_before=0),
        ),
        GuardrailCase(
            rule="s3-multi-region-access-point-policy-cross-account",
            violation=Scenario(_mrap_with_sample_policy("mrap-policy-unknown-account.json"), mrap_policy),
            remediated=canonical_policy(_without_statement(_MRAP_REPLICATOR, 1)),
            compliant=Scenario(_mrap_with_sample_policy("mrap-policy-own-role.json"), mrap_policy),
            partial_failure=PartialFailure("s3control", "PutMultiRegionAccessPointPolicy", done_before=0),
        ),
        GuardrailCase(
            rule="s3-object-lambda-access-point-policy-public",
            violation=Scenario(
                _object_lambda_with_sample_policy("object-lambda-policy-public.json"), object_lambda_policy
            ),
            remediated=canonical_policy(_without_statement(_OBJECT_LAMBDA_PUBLIC, 1)),
            compliant=Scenario(
                _object_lambda_with_sample_policy("object-lambda-policy-own-role.json"), object_lambda_policy
            ),
            partial_failure=PartialFailure("s3control", "PutAccessPointPolicyForObjectLambda", done_before=0),
            moto_gaps=_OBJECT_LAMBDA_GAPS,
        ),
        GuardrailCase(
            rule="s3-object-lambda-access-point-policy-cross-account",
            violation=Scenario(
                _object_lambda_with_sample_policy("object-lambda-policy-unknown-account.json"), object_lambda_policy
            ),
            remediated=canonical_policy(_without_statement(_OBJECT_LAMBDA_PARTNER, 1)),
            compliant=Scenario(
                _object_lambda_with_sample_policy("object-lambda-policy-own-role.json"), object_lambda_policy
            ),
            partial_failure=PartialFailure("s3control", "PutAccessPointPolicyForObjectLambda", done_before=0),
            moto_gaps=_OBJECT_LAMBDA_GAPS,
        ),
        GuardrailCase(
            rule="s3-acl-cross-account",
            violation=Scenario(
                _bucket_with_canonical_grant("acl-bucket-canonical-user-grant.json"),
                bucket_acl("acme-reports"),
                {"rules/s3-acl-cross-account/trusted_canonical_ids": MOTO_OWNER},
            ),
            remediated=[("owner", "FULL_CONTROL")],
            compliant=Scenario(
                _bucket_with_canonical_grant("acl-bucket-canonical-user-grant.json"),
                bucket_acl("acme-reports"),
                {"rules/s3-acl-cross-account/trusted_canonical_ids": f"{MOTO_OWNER},{OTHER_CANONICAL_USER}"},
            ),
            partial_failure=PartialFailure(
                "s3",
                "PutBucketAcl",
                done_before=0,
                settings={"rules/s3-acl-cross-account/trusted_canonical_ids": MOTO_OWNER},
            ),
        ),
        GuardrailCase(
            rule="opensearch-access-policy-public",
            violation=Scenario(_domain_with_sample_policy("opensearch-policy-public.json"), domain_policy),
            remediated=canonical_policy(_without_statement(_OPENSEARCH_PUBLIC, 1)),
            compliant=Scenario(_domain_with_sample_policy("opensearch-config-no-policy.json"), domain_policy),
            partial_failure=PartialFailure("opensearch", "UpdateDomainConfig", done_before=0),
        ),
        GuardrailCase(
            rule="opensearch-access-policy-cross-account",
            violation=Scenario(_domain_with_sample_policy("opensearch-policy-unknown-account.json"), domain_policy),
            remediated=canonical_policy(_without_statement(_OPENSEARCH_CONTRACTOR, 1)),
            compliant=Scenario(_domain_with_sample_policy("opensearch-config-no-policy.json"), domain_policy),
            partial_failure=PartialFailure("opensearch", "UpdateDomainConfig", done_before=0),
        ),
        GuardrailCase(
            rule="backup-vault-policy-public",
            violation=Scenario(_vault_with_sample_policy("backup-vault-policy-public.json"), vault_policy),
            remediated=canonical_policy(_without_statement(_VAULT_PUBLIC, 1)),
            compliant=Scenario(_vault_with_sample_policy("backup-vault-policy-deny-delete.json"), vault_policy),
            partial_failure=PartialFailure("backup", "PutBackupVaultAccessPolicy", done_before=0),
            moto_gaps=_VAULT_GAPS,
        ),
        GuardrailCase(
            rule="backup-vault-policy-cross-account",
            violation=Scenario(_vault_with_sample_policy("backup-vault-policy-unknown-account.json"), vault_policy),
            remediated=canonical_policy(_without_statement(_VAULT_VENDOR, 1)),
            compliant=Scenario(_vault_with_sample_policy("backup-vault-policy-deny-delete.json"), vault_policy),
            partial_failure=PartialFailure("backup", "PutBackupVaultAccessPolicy", done_before=0),
            moto_gaps=_VAULT_GAPS,
        ),
        # Glacier vaults and CloudWatch Logs destinations.
        GuardrailCase(
            rule="glacier-vault-policy-public",
            violation=Scenario(
                _glacier_vault_with_sample_policy("glacier-vault-policy-public.json"), glacier_vault_policy
            ),
            remediated=canonical_policy(_without_statement(_GLACIER_PUBLIC, 1)),
            compliant=Scenario(
                _glacier_vault_with_sample_policy("glacier-vault-policy-trusted-account.json"),
                glacier_vault_policy,
                _PARTNER,
            ),
            partial_failure=PartialFailure("glacier", "SetVaultAccessPolicy", done_before=0),
            moto_gaps=_GLACIER_GAPS,
        ),
        GuardrailCase(
            rule="glacier-vault-policy-cross-account",
            violation=Scenario(
                _glacier_vault_with_sample_policy("glacier-vault-policy-unknown-account.json"), glacier_vault_policy
            ),
            remediated=canonical_policy(_without_statement(_GLACIER_VENDOR, 1)),
            compliant=Scenario(
                _glacier_vault_with_sample_policy("glacier-vault-policy-trusted-account.json"),
                glacier_vault_policy,
                _PARTNER,
            ),
            partial_failure=PartialFailure("glacier", "SetVaultAccessPolicy", done_before=0),
            moto_gaps=_GLACIER_GAPS,
        ),
        GuardrailCase(
            rule="logs-destination-policy-public",
            violation=Scenario(
                _log_destination_with_sample_policy("logs-destination-policy-public.json"), log_destination_policy
            ),
            remediated=canonical_policy(_without_statement(_LOGS_PUBLIC, 1)),
            compliant=Scenario(
                _log_destination_with_sample_policy("logs-destination-policy-organization.json"),
                log_destination_policy,
                _ORGANIZATION,
            ),
            partial_failure=PartialFailure("logs", "PutDestinationPolicy", done_before=0),
        ),
        GuardrailCase(
            rule="logs-destination-policy-cross-account",
            violation=Scenario(
                _log_destination_with_sample_policy("logs-destination-policy-unknown-account.json"),
                log_destination_policy,
            ),
            remediated=canonical_policy(_without_statement(_LOGS_VENDOR, 1)),
            compliant=Scenario(
                _log_destination_with_sample_policy("logs-destination-policy-organization.json"),
                log_destination_policy,
                _ORGANIZATION,
            ),
            partial_failure=PartialFailure("logs", "PutDestinationPolicy", done_before=0),
        ),
        GuardrailCase(
            rule="cloudtrail-logging-impaired",
            violation=Scenario(
                lambda account: _trail(account, "cloudtrail-stop-logging.json", stop=True), trail_logging("org-audit")
            ),
            remediated=True,
            compliant=Scenario(
                lambda account: _trail(account, "cloudtrail-event-selectors-with-data.json", stop=False),
                trail_selectors("org-audit"),
            ),
            partial_failure=PartialFailure("cloudtrail", "StartLogging", done_before=0),
        ),
        GuardrailCase(
            rule="guardduty-disabled",
            violation=Scenario(
                _suspended_detector("guardduty-detector-suspended.json", suspend=True), guardduty_status
            ),
            remediated="ENABLED",
            compliant=Scenario(
                _suspended_detector("guardduty-detector-frequency.json", suspend=False), guardduty_status
            ),
            partial_failure=PartialFailure("guardduty", "UpdateDetector", done_before=0),
        ),
        GuardrailCase(
            rule="config-recording-stopped",
            violation=Scenario(_stopped_recorder, config_recording),
            remediated=True,
            # Every stop is a finding: a recorder the organisation stops on purpose is allowlisted.
            compliant=Scenario(
                _stopped_recorder,
                config_recording,
                {
                    "rules/config-recording-stopped/allow_resources": (
                        f"arn:aws:config:{BUCKET_REGION}:{HOME_ACCOUNT}:configuration-recorder/default"
                    )
                },
            ),
            partial_failure=PartialFailure("config", "StartConfigurationRecorder", done_before=0),
        ),
        GuardrailCase(
            rule="securityhub-disabled",
            violation=Scenario(_disabled_hub, security_hub_enabled),
            remediated=True,
            compliant=Scenario(
                _disabled_hub,
                security_hub_enabled,
                {"rules/securityhub-disabled/allow_actors": f"arn:aws:iam::{HOME_ACCOUNT}:role/developer"},
            ),
            partial_failure=PartialFailure("securityhub", "EnableSecurityHub", done_before=0),
        ),
        GuardrailCase(
            rule="group-membership-escalation",
            violation=Scenario(
                _user_in_group("platform-admins", "add-user-to-admin-group.json", admin=True), user_groups("build-bot")
            ),
            remediated=["developers"],
            compliant=Scenario(
                _user_in_group("auditors", "add-user-to-readers-group.json", admin=False), user_groups("build-bot")
            ),
            partial_failure=PartialFailure("iam", "RemoveUserFromGroup", done_before=0),
        ),
        GuardrailCase(
            rule="instance-profile-escalation",
            violation=Scenario(_role_entered_profile(launchable=True), profile_roles("fleet-admin-profile")),
            remediated=[],
            compliant=Scenario(_role_entered_profile(launchable=False), profile_roles("fleet-admin-profile")),
            partial_failure=PartialFailure("iam", "RemoveRoleFromInstanceProfile", done_before=0),
        ),
        GuardrailCase(
            rule="restraint-removed",
            violation=Scenario(_guard_detached(denies=True), attached_policies("role", "app-backend")),
            remediated=None,
            compliant=Scenario(_guard_detached(denies=False), attached_policies("role", "app-backend")),
            partial_failure=None,
            alert_only="putting a Deny back would take iam:AttachRolePolicy on any role: IAM Warden never holds it",
        ),
        GuardrailCase(
            rule="permissions-boundary-weakened",
            violation=Scenario(_boundary_removed, boundary("role", "team-deployer")),
            remediated=DEPLOYER_BOUNDARY,
            compliant=Scenario(_readonly_boundary, boundary("user", "svc-reporting")),
            partial_failure=PartialFailure("iam", "PutRolePermissionsBoundary", done_before=0),
        ),
        GuardrailCase(
            rule="remediation-reversed",
            violation=Scenario(_key_reactivated(deactivated_by_iamwarden=True), key_statuses("backdoor-admin")),
            remediated=["Inactive"],
            compliant=Scenario(_key_reactivated(deactivated_by_iamwarden=False), key_statuses("backdoor-admin")),
            partial_failure=PartialFailure("iam", "UpdateAccessKey", done_before=0),
        ),
        GuardrailCase(
            rule="identity-provider-unknown",
            violation=Scenario(_oidc_provider("create-oidc-provider-unknown.json"), oidc_providers),
            remediated=[f"arn:aws:iam::{HOME_ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"],
            compliant=Scenario(
                _oidc_provider("create-oidc-provider-github.json"),
                oidc_providers,
                {"rules/identity-provider-unknown/allow_oidc_urls": "token.actions.githubusercontent.com"},
            ),
            partial_failure=PartialFailure("iam", "DeleteOpenIDConnectProvider", done_before=0),
        ),
        GuardrailCase(
            rule="prune-exemption-granted",
            violation=Scenario(_prune_exempt_tagged, app_backend_tags),
            remediated={"team": "payments"},
            compliant=Scenario(
                _prune_exempt_tagged,
                app_backend_tags,
                {"rules/iamwarden-tampered/operators": f"arn:aws:iam::{HOME_ACCOUNT}:role/developer"},
            ),
            partial_failure=PartialFailure("iam", "UntagRole", done_before=0),
            alert_severity="medium",
        ),
        GuardrailCase(
            rule="permission-set-admin",
            violation=Scenario(_permission_set_changed("sso-attach-admin-to-permission-set.json"), permission_set),
            remediated={"managed": ["arn:aws:iam::aws:policy/ReadOnlyAccess"], "inline": None},
            compliant=Scenario(_permission_set_changed("sso-put-inline-policy-read.json"), permission_set),
            partial_failure=PartialFailure("sso-admin", "DetachManagedPolicyFromPermissionSet", done_before=0),
        ),
        GuardrailCase(
            rule="identity-center-group-admin",
            violation=Scenario(
                _identity_center_group_joined("arn:aws:iam::aws:policy/AdministratorAccess"),
                identity_center_group_members,
            ),
            remediated=["alice"],
            compliant=Scenario(
                _identity_center_group_joined("arn:aws:iam::aws:policy/ReadOnlyAccess"), identity_center_group_members
            ),
            partial_failure=PartialFailure("identitystore", "DeleteGroupMembership", done_before=0),
        ),
        GuardrailCase(
            rule="identity-center-user-takeover",
            violation=Scenario(_identity_center_user_updated("emails"), nothing),
            remediated=None,
            compliant=Scenario(_identity_center_user_updated("displayName"), nothing),
            partial_failure=None,
            alert_only="the record carries no earlier user name or emails to put back",
        ),
        GuardrailCase(
            rule="identity-center-session-tag-attribute",
            violation=Scenario(_identity_center_tag_attribute_updated("title"), nothing),
            remediated=None,
            compliant=Scenario(_identity_center_tag_attribute_updated("displayName"), nothing),
            partial_failure=None,
            alert_only="the record carries no earlier value of the attribute to put back",
            alert_severity="high",
        ),
        GuardrailCase(
            rule="identity-center-identity-source",
            violation=Scenario(_sample("sso-directory-external-idp-updated.json"), nothing),
            remediated=None,
            compliant=Scenario(
                _sample("sso-directory-external-idp-updated.json"),
                nothing,
                {"rules/identity-center-identity-source/allow_actors": f"arn:aws:iam::{HOME_ACCOUNT}:role/developer"},
            ),
            partial_failure=None,
            alert_only="the record does not say what the identity source was before, and IAM Warden does not read it",
        ),
        GuardrailCase(
            rule="roles-anywhere-trust-anchor",
            violation=Scenario(_sample("rolesanywhere-trust-anchor-bundle.json"), nothing),
            remediated=None,
            compliant=Scenario(
                _sample("rolesanywhere-trust-anchor-private-ca.json"),
                nothing,
                {
                    "rules/roles-anywhere-trust-anchor/allow_certificate_authorities": (
                        "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
                    )
                },
            ),
            partial_failure=PartialFailure("rolesanywhere", "DisableTrustAnchor", done_before=0),
            moto_gaps={
                Behaviour.REMEDIATED: _NO_ROLES_ANYWHERE,
                Behaviour.DUPLICATE: _NO_ROLES_ANYWHERE,
                Behaviour.PARTIAL_FAILURE: _NO_ROLES_ANYWHERE,
                Behaviour.UNDO: _NO_ROLES_ANYWHERE,
            },
        ),
        GuardrailCase(
            rule="organization-left",
            violation=Scenario(_sample("organizations-leave.json"), nothing),
            remediated=None,
            compliant=Scenario(
                _sample("organizations-leave.json"),
                nothing,
                {"rules/organization-left/allow_actors": f"arn:aws:iam::{HOME_ACCOUNT}:role/developer"},
            ),
            partial_failure=None,
            alert_only="only the organisation's management account can invite an account back",
        ),
        GuardrailCase(
            rule="scp-blinds-iamwarden",
            violation=Scenario(_sample("organizations-scp-deny-audit.json"), nothing),
            remediated=None,
            compliant=Scenario(_sample("organizations-scp-protect-audit.json"), nothing),
            partial_failure=None,
            alert_only="an organisation's service control policies are its own: a wrong detach locks accounts out",
        ),
    )
}
