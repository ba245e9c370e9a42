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

from botocore.exceptions import ClientError

from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account

BUCKET_REGION = "eu-west-1"
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
        return {"inline_policies": policies, "access_keys": keys, "console_password": console_password, "tags": tags}

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


def _role_with_attached(role: str, policy_arn: str, sample: str) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        keep = account.iam.create_policy(PolicyName="app-s3-read", PolicyDocument=json.dumps(SAFE))["Policy"]["Arn"]
        account.iam.create_role(RoleName=role, AssumeRolePolicyDocument=EMPTY_TRUST)
        account.iam.attach_role_policy(RoleName=role, PolicyArn=keep)
        account.iam.attach_role_policy(RoleName=role, PolicyArn=policy_arn)
        return load_event(sample)

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


def _policy_with_versions(
    sample: str, *documents: Mapping[str, Any], default: str
) -> Callable[[Account], dict[str, Any]]:
    """app-deploy with ``documents`` as v1, v2, ...; ``default`` is the default version."""

    def prepare(account: Account) -> dict[str, Any]:
        first, *rest = documents
        arn = account.iam.create_policy(PolicyName="app-deploy", PolicyDocument=json.dumps(first))["Policy"]["Arn"]
        for document in rest:
            account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document))
        account.iam.set_default_policy_version(PolicyArn=arn, VersionId=default)
        return load_event(sample)

    return prepare


def _new_access_key(account: Account) -> dict[str, Any]:
    """svc-legacy with an older key and the key the sample created (moto chooses key ids, so the event follows)."""
    account.iam.create_user(UserName="svc-legacy")
    account.iam.create_access_key(UserName="svc-legacy")
    new = account.iam.create_access_key(UserName="svc-legacy")["AccessKey"]["AccessKeyId"]
    event = load_event("create-access-key-for-other-user.json")
    event["detail"]["responseElements"]["accessKey"]["accessKeyId"] = new
    return event


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


def _bucket_with_sample_block(sample: str) -> Callable[[Account], dict[str, Any]]:
    def prepare(account: Account) -> dict[str, Any]:
        request = _request(sample)
        configuration = {key: request["PublicAccessBlockConfiguration"][key] for key in ALL_BLOCKED}
        _bucket(account, request["bucketName"])
        account.s3.put_public_access_block(Bucket=request["bucketName"], PublicAccessBlockConfiguration=configuration)
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
        iam.add_user_to_group(GroupName=group, UserName="build-bot")
        return load_event(sample)

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
    # moto has no PutUserPermissionsBoundary: the user is created with the boundary the sample puts.
    account.iam.create_user(UserName="svc-reporting", PermissionsBoundary="arn:aws:iam::aws:policy/ReadOnlyAccess")
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


# --- the cases --------------------------------------------------------------------------------

_PUBLIC_AND_VENDOR = _request("bucket-policy-public-and-vendor.json")["bucketPolicy"]
_UNKNOWN_ACCOUNT = _request("bucket-policy-unknown-account.json")["bucketPolicy"]
_ADMIN_VERSION = _document("create-policy-version-admin.json")
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
                },
            },
            compliant=Scenario(
                _user_with_key("legacy-smtp", "create-user-service-account-path.json", path="/service-accounts/"),
                user_state("legacy-smtp"),
                {"rules/iam-user-created/allow_paths": "/service-accounts/"},
            ),
            # Deny-all policy and key deactivation done, the tag not.
            partial_failure=PartialFailure("iam", "TagUser", done_before=2),
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
            # PutUserPolicy is judged by inline-policy-admin too: PassRole with Lambda is escalation, not admin.
            violation=Scenario(
                _user_with_sample_inline_policy("put-user-policy-passrole-lambda.json"), user_state("alice")
            ),
            findings=frozenset({"privilege-escalation"}),
            remediated={"inline_policies": {}, "access_keys": [], "console_password": False, "tags": {}},
            compliant=Scenario(
                _user_with_sample_inline_policy("put-user-policy-own-access-keys.json"), user_state("svc-smtp")
            ),
            partial_failure=PartialFailure("iam", "DeleteUserPolicy", done_before=0),
        ),
        GuardrailCase(
            rule="policy-version-admin",
            violation=Scenario(
                _policy_with_versions(
                    "create-policy-version-admin.json", SAFE, SAFE_READ_WRITE, _ADMIN_VERSION, default="v3"
                ),
                policy_versions("app-deploy"),
            ),
            remediated={"default": "v2", "versions": {"v1": SAFE, "v2": SAFE_READ_WRITE, "v3": _ADMIN_VERSION}},
            compliant=Scenario(
                _policy_with_versions(
                    "create-policy-version-not-default.json", SAFE, SAFE_READ_WRITE, SAFE, _ADMIN_VERSION, default="v3"
                ),
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
            rule="s3-public-access-block-disabled",
            violation=Scenario(
                _bucket_with_sample_block("pab-bucket-partly-off.json"), bucket_public_access_block("acme-exports")
            ),
            remediated=ALL_BLOCKED,
            compliant=Scenario(
                _bucket_with_sample_block("pab-bucket-all-on.json"), bucket_public_access_block("acme-invoices")
            ),
            partial_failure=PartialFailure("s3", "PutPublicAccessBlock", done_before=0),
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
            rule="permission-set-admin",
            violation=Scenario(_permission_set_changed("sso-attach-admin-to-permission-set.json"), permission_set),
            remediated={"managed": ["arn:aws:iam::aws:policy/ReadOnlyAccess"], "inline": None},
            compliant=Scenario(_permission_set_changed("sso-put-inline-policy-read.json"), permission_set),
            partial_failure=PartialFailure("sso-admin", "DetachManagedPolicyFromPermissionSet", done_before=0),
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
    )
}
