"""The permissions each remediation declares are the API calls it really makes, and the role allows them.

Every action runs ``capture`` + ``apply`` (and ``undo`` where it can be undone)
against moto, with ``ClientFactory.call_log`` recording the calls:

* every call of capture/apply is in the action's ``permissions`` and every
  undo call is in its ``undo_permissions``;
* across the scenarios each declared permission is used, so a declaration
  that nothing calls (and the template grant that mirrors it) is caught too;
* every call, with its resource and condition keys, is allowed by the
  template's ``enforcer-remediations`` policy, and every call the enforcer
  makes for itself (settings, audit, idempotency) by ``enforcer-runtime``.

moto does not check IAM, so the last point is checked here with a small
evaluator of the template's statements (Action, Resource, ArnLike and
StringEquals conditions: the only elements the role uses).
"""

from __future__ import annotations

import datetime
import fnmatch
import json
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from iamwarden.adapters.clients import ApiCall, ClientFactory, iam_action_of
from iamwarden.app.executor import AccountClients, StepRun
from iamwarden.app.service import EnforcerService
from iamwarden.app.wiring import build_enforcer_service
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.guardrails.iam_user import DENY_ALL_POLICY, QUARANTINE_TAG_FINDING, QUARANTINE_TAG_TIME
from iamwarden.guardrails.registry import ACTIONS
from tests.aws_fixtures import HOME_ACCOUNT, REGION, resolve
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.sam_template import translated_template

BUCKET_REGION = "eu-west-1"
QUARANTINE = "iamwarden-quarantine"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
LOG_GROUP_ARN = f"arn:aws:logs:{REGION}:{HOME_ACCOUNT}:log-group:/aws/lambda/iamwarden-enforcer:*"


# --- recording calls with their parameters --------------------------------------------------------


class Request(NamedTuple):
    """One API call as IAM authorises it: the action, its parameters and where it went."""

    action: str
    params: dict[str, Any]
    region: str


class Requests:
    """Collects every request made by clients created from a session, with its parameters."""

    def __init__(self) -> None:
        self.made: list[Request] = []

    def __call__(self, params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        service = model.service_model
        region = kwargs.get("context", {}).get("client_region") or ""
        self.made.append(Request(iam_action_of(service, model.name), dict(params), region))

    def take(self) -> list[Request]:
        made, self.made = self.made, []
        return made


@pytest.fixture
def requests(account: Account) -> Requests:
    """Registered on the session before any IAM Warden client exists (clients copy the session's hooks)."""
    recorder = Requests()
    account.session.events.register("provide-client-params", recorder)
    return recorder


@pytest.fixture
def clients(account: Account, requests: Requests) -> ClientFactory:
    return ClientFactory(HOME_ACCOUNT, account.config.member_role_name, session=account.session)


# --- a small evaluator of the template's statements ---------------------------------------------


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _role_statements(policy_name: str) -> list[dict[str, Any]]:
    role = translated_template()["Resources"]["EnforcerRole"]["Properties"]
    [document] = [p["PolicyDocument"] for p in role["Policies"] if p["PolicyName"] == policy_name]
    statements: list[dict[str, Any]] = resolve(document["Statement"], {"EnforcerLogGroup.Arn": LOG_GROUP_ARN})
    return statements


def _condition_holds(operator: str, key: str, expected: Any, context: dict[str, str]) -> bool:
    actual = context.get(key)
    if actual is None:
        return False
    if operator in ("ArnLike", "StringLike"):
        return any(fnmatch.fnmatchcase(actual, pattern) for pattern in _listed(expected))
    if operator == "StringEquals":
        return actual in _listed(expected)
    raise AssertionError(f"the evaluator does not know the condition operator {operator}")


def allowed(statements: list[dict[str, Any]], action: str, resource: str, context: dict[str, str]) -> bool:
    for statement in statements:
        if statement["Effect"] != "Allow" or action not in _listed(statement["Action"]):
            continue
        if not any(fnmatch.fnmatchcase(resource, pattern) for pattern in _listed(statement["Resource"])):
            continue
        conditions = statement.get("Condition", {})
        if all(
            _condition_holds(operator, key, expected, context)
            for operator, block in conditions.items()
            for key, expected in block.items()
        ):
            return True
    return False


def _authorised_as(request: Request) -> tuple[str, dict[str, str]]:
    """The resource ARN IAM authorises ``request`` on, and its condition keys."""
    params, operation = request.params, request.action.split(":")[1]
    service = request.action.split(":")[0]
    iam = f"arn:aws:iam::{HOME_ACCOUNT}"
    context: dict[str, str] = {}
    if service == "iam":
        if "PolicyArn" in params:
            context["iam:PolicyARN"] = params["PolicyArn"]
        if operation in ("GetPolicy", "ListPolicyVersions", "GetPolicyVersion") or "PolicyVersion" in operation:
            return str(params["PolicyArn"]), context  # the policy itself is the resource
        if operation == "DeleteVirtualMFADevice":
            return str(params["SerialNumber"]), context
        if operation == "RemoveUserFromGroup":
            return f"{iam}:group/{params['GroupName']}", context
        for key, kind in (("UserName", "user"), ("RoleName", "role"), ("GroupName", "group")):
            if key in params:
                return f"{iam}:{kind}/{params[key]}", context
    if service == "iam":
        for key in ("OpenIDConnectProviderArn", "SAMLProviderArn"):
            if key in params:
                return str(params[key]), context
    here = f"{request.region}:{HOME_ACCOUNT}"
    if (
        request.action in ("cloudtrail:DescribeTrails", "config:DescribeConfigurationRecorderStatus")
        or service == "config"
    ):
        return "*", context  # no resource type
    if service == "cloudtrail":
        name = str(params.get("Name") or params.get("TrailName"))
        return (name if name.startswith("arn:") else f"arn:aws:cloudtrail:{here}:trail/{name}"), context
    if service == "guardduty":
        return f"arn:aws:guardduty:{here}:detector/{params['DetectorId']}", context
    if service == "securityhub":
        return f"arn:aws:securityhub:{here}:hub/default", context
    if service == "rolesanywhere":
        if "trustAnchorId" in params:
            return f"arn:aws:rolesanywhere:{here}:trust-anchor/{params['trustAnchorId']}", context
        return f"arn:aws:rolesanywhere:{here}:profile/{params['profileId']}", context
    if service == "sso":
        return str(params["PermissionSetArn"]), context
    if request.action in ("s3:GetAccountPublicAccessBlock", "s3:PutAccountPublicAccessBlock"):
        return "*", context  # no resource type: S3 Control acts on the caller's own account only
    if service == "s3" and "Key" in params:
        return f"arn:aws:s3:::{params['Bucket']}/{params['Key']}", {"s3:ResourceAccount": HOME_ACCOUNT}
    if service == "s3":
        return f"arn:aws:s3:::{params['Bucket']}", {"s3:ResourceAccount": HOME_ACCOUNT}
    if service == "dynamodb":
        index = f"/index/{params['IndexName']}" if "IndexName" in params else ""
        return f"arn:aws:dynamodb:{request.region}:{HOME_ACCOUNT}:table/{params['TableName']}{index}", context
    if service == "ssm":
        return f"arn:aws:ssm:{request.region}:{HOME_ACCOUNT}:parameter{params.get('Path') or params['Name']}", context
    raise AssertionError(f"the test does not know which resource {request.action} acts on: {params}")


def assert_role_allows(made: list[Request], policy_name: str) -> None:
    statements = _role_statements(policy_name)
    denied = []
    for request in made:
        resource, context = _authorised_as(request)
        if not allowed(statements, request.action, resource, context):
            denied.append(f"{request.action} on {resource} {context or ''}".strip())
    assert not denied, f"{policy_name} of template.yaml does not allow: {denied}"


# --- the scenarios ------------------------------------------------------------------------------


def _step(action: StepAction, target: str, **parameters: Any) -> RemediationStep:
    return RemediationStep(action, target, parameters, f"{action.value} {target}")


def _quarantine(name: str) -> RemediationStep:
    return _step(
        StepAction.QUARANTINE_USER,
        f"arn:aws:iam::{HOME_ACCOUNT}:user/{name}",
        user_name=name,
        quarantine_policy_name=QUARANTINE,
    )


def _user_with_credentials(account: Account, name: str) -> None:
    account.iam.create_user(UserName=name)
    account.iam.create_access_key(UserName=name)
    account.iam.create_login_profile(UserName=name, Password="correct-Horse-battery-9")


def _fresh_user(account: Account) -> RemediationStep:
    _user_with_credentials(account, "backdoor-admin")
    return _quarantine("backdoor-admin")


def _previously_quarantined_user(account: Account) -> RemediationStep:
    """A quarantine policy of other content and the tags of an earlier finding: undo must put both back."""
    _user_with_credentials(account, "repeat-offender")
    earlier = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
    account.iam.put_user_policy(UserName="repeat-offender", PolicyName=QUARANTINE, PolicyDocument=json.dumps(earlier))
    account.iam.tag_user(
        UserName="repeat-offender",
        Tags=[{"Key": QUARANTINE_TAG_FINDING, "Value": "earlier"}, {"Key": QUARANTINE_TAG_TIME, "Value": "then"}],
    )
    return _quarantine("repeat-offender")


def _self_signed_certificate() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "doomed-user")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(Encoding.PEM).decode()


_SSH_KEY = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDZ9pDmZuS3ww4+bJ3yyhjY8RmzyAfaSg3N5B7zYcVWnKy7Yl+Ss6vOOyeF4Kc2wLTn"
    "L2q4a9QYqOtl+ny5k0ogCyBt8YYy4EjcZqOlzszKuiK4vPM1BvHvKhhkLVnQ4mJ4Jv5Dgi6qIUK3ObK4Sd0Wl8cEIVZ0DHBQjo3iqz4"
    "mKe8r0QSf9KFhSzJpqi9l0LKkxRJk1Hbxg/1YY4NVLlz+z7HmH7v1WKqu0C7FqkG1v1xLwr6u2QkYUzX5UvEq7Q3CxQZ/4+B8R/hx"
    "zBZ0Q9HHVn9v0Ki6MtdHxJpzG8ksW2N6vEC8/5Fz2LOsA0w/9YjQzjiC8ZxjKN5u3sdTIhkx test@example.com"
)


def _user_with_everything(account: Account, *policies: str) -> RemediationStep:
    """Every kind of attachment that blocks DeleteUser, so every call of the delete action is made."""
    name = "doomed-user"
    _user_with_credentials(account, name)
    account.iam.create_group(GroupName="doomed-group")
    account.iam.add_user_to_group(GroupName="doomed-group", UserName=name)
    account.iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=json.dumps(DENY_ALL_POLICY))
    for arn in policies:
        account.iam.attach_user_policy(UserName=name, PolicyArn=arn)
    mfa = account.iam.create_virtual_mfa_device(VirtualMFADeviceName="doomed-mfa")["VirtualMFADevice"]
    account.iam.enable_mfa_device(
        UserName=name, SerialNumber=mfa["SerialNumber"], AuthenticationCode1="123456", AuthenticationCode2="654321"
    )
    account.iam.upload_ssh_public_key(UserName=name, SSHPublicKeyBody=_SSH_KEY)
    account.iam.upload_signing_certificate(UserName=name, CertificateBody=_self_signed_certificate())
    return _step(StepAction.DELETE_USER, f"arn:aws:iam::{HOME_ACCOUNT}:user/{name}", user_name=name)


def _deletable_user(account: Account) -> RemediationStep:
    return _user_with_everything(account, READ_ONLY)


def _deletable_user_with_customer_policy(account: Account) -> RemediationStep:
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    arn = account.iam.create_policy(PolicyName="app-s3-read", PolicyDocument=json.dumps(document))["Policy"]["Arn"]
    return _user_with_everything(account, READ_ONLY, arn)


def _attached(kind: str) -> Callable[[Account], RemediationStep]:
    def setup(account: Account) -> RemediationStep:
        name = f"app-{kind}"
        if kind == "role":
            account.iam.create_role(
                RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
            )
        else:
            getattr(account.iam, f"create_{kind}")(**{f"{kind.capitalize()}Name": name})
        getattr(account.iam, f"attach_{kind}_policy")(**{f"{kind.capitalize()}Name": name, "PolicyArn": ADMIN})
        return _step(
            StepAction.DETACH_MANAGED_POLICY,
            f"arn:aws:iam::{HOME_ACCOUNT}:{kind}/{name}",
            principal_type=kind,
            principal_name=name,
            policy_arn=ADMIN,
        )

    return setup


def _public(bucket: str) -> dict[str, Any]:
    return {
        "Sid": "PublicRead",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }


def _own(bucket: str) -> dict[str, Any]:
    return {
        "Sid": "OwnAccount",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{HOME_ACCOUNT}:root"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }


def _bucket(bucket: str, *, keep: bool) -> Callable[[Account], RemediationStep]:
    """A bucket whose policy has a public statement, and an own-account one when ``keep``."""

    def setup(account: Account) -> RemediationStep:
        account.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": BUCKET_REGION})
        statements = [_public(bucket), _own(bucket)] if keep else [_public(bucket)]
        account.s3.put_bucket_policy(
            Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements})
        )
        return _step(
            StepAction.REMOVE_BUCKET_POLICY_STATEMENTS,
            f"arn:aws:s3:::{bucket}",
            bucket=bucket,
            statements=[{"index": 0, "sid": "PublicRead", "statement": _public(bucket)}],
        )

    return setup


def _inline(kind: str) -> Callable[[Account], RemediationStep]:
    """An admin inline policy on a role, user or group: the delete-inline-policy remediation removes it."""

    def setup(account: Account) -> RemediationStep:
        name = f"inline-{kind}"
        if kind == "role":
            account.iam.create_role(
                RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
            )
        else:
            getattr(account.iam, f"create_{kind}")(**{f"{kind.capitalize()}Name": name})
        document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        getattr(account.iam, f"put_{kind}_policy")(
            **{f"{kind.capitalize()}Name": name, "PolicyName": "shortcut", "PolicyDocument": json.dumps(document)}
        )
        return _step(
            StepAction.DELETE_INLINE_POLICY,
            f"arn:aws:iam::{HOME_ACCOUNT}:{kind}/{name}",
            principal_type=kind,
            principal_name=name,
            policy_name="shortcut",
            document=document,
        )

    return setup


def _policy_version(*, delete: bool) -> Callable[[Account], RemediationStep]:
    """A customer-managed policy whose admin v2 is the default; v1 is safe."""

    def setup(account: Account) -> RemediationStep:
        safe = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
        admin = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        name = "app-deploy-delete" if delete else "app-deploy"
        arn = account.iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(safe))["Policy"]["Arn"]
        account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(admin), SetAsDefault=True)
        return _step(
            StepAction.RESTORE_DEFAULT_POLICY_VERSION, arn, policy_arn=arn, version_id="v2", delete_version=delete
        )

    return setup


def _new_access_key(account: Account) -> RemediationStep:
    account.iam.create_user(UserName="svc-legacy")
    key = account.iam.create_access_key(UserName="svc-legacy")["AccessKey"]["AccessKeyId"]
    return _step(
        StepAction.DEACTIVATE_ACCESS_KEY,
        f"arn:aws:iam::{HOME_ACCOUNT}:user/svc-legacy",
        user_name="svc-legacy",
        access_key_id=key,
    )


def _login_profile(account: Account) -> RemediationStep:
    account.iam.create_user(UserName="console-user")
    account.iam.create_login_profile(UserName="console-user", Password="correct-Horse-battery-9")
    return _step(
        StepAction.DELETE_LOGIN_PROFILE, f"arn:aws:iam::{HOME_ACCOUNT}:user/console-user", user_name="console-user"
    )


def _customer_attached(account: Account) -> RemediationStep:
    """privilege-escalation detaches a customer-managed policy (its own template statement allows it)."""
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}
    arn = account.iam.create_policy(PolicyName="iam-admin", PolicyDocument=json.dumps(document))["Policy"]["Arn"]
    account.iam.create_role(
        RoleName="app-escalating", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )
    account.iam.attach_role_policy(RoleName="app-escalating", PolicyArn=arn)
    return _step(
        StepAction.DETACH_MANAGED_POLICY,
        f"arn:aws:iam::{HOME_ACCOUNT}:role/app-escalating",
        principal_type="role",
        principal_name="app-escalating",
        policy_arn=arn,
    )


def _untrusted_trust(account: Account) -> RemediationStep:
    """A role trusting EC2 and an unknown account: the unknown account's statement goes, EC2's stays."""
    outsider = {"Sid": "Outsider", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"}}
    outsider["Action"] = "sts:AssumeRole"
    ec2 = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    account.iam.create_role(
        RoleName="app-deployer",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [ec2, outsider]}),
    )
    return _step(
        StepAction.RESTORE_TRUST_POLICY,
        f"arn:aws:iam::{HOME_ACCOUNT}:role/app-deployer",
        role_name="app-deployer",
        event_name="UpdateAssumeRolePolicy",
        statements=[{"index": 1, "sid": "Outsider", "statement": outsider}],
    )


ALL_USERS_READ = {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}}


def _public_acl(key: str | None) -> Callable[[Account], RemediationStep]:
    """A bucket (and an object when ``key``) with the canned ACL public-read."""

    def setup(account: Account) -> RemediationStep:
        bucket = "acme-website" if key is None else "acme-invoices-objects"
        account.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": BUCKET_REGION})
        account.s3.put_bucket_ownership_controls(
            Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
        )
        account.s3.delete_public_access_block(Bucket=bucket)
        if key is None:
            account.s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
            return _step(StepAction.REMOVE_PUBLIC_ACL_GRANTS, f"arn:aws:s3:::{bucket}", bucket=bucket)
        account.s3.put_object(Bucket=bucket, Key=key, Body=b"invoice", ACL="public-read")
        return _step(StepAction.REMOVE_PUBLIC_ACL_GRANTS, f"arn:aws:s3:::{bucket}/{key}", bucket=bucket, key=key)

    return setup


def _public_access_block_off(scope: str) -> Callable[[Account], RemediationStep]:
    def setup(account: Account) -> RemediationStep:
        off = {"BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": False}
        off["RestrictPublicBuckets"] = False
        if scope == "account":
            account.session.client("s3control", region_name=BUCKET_REGION).put_public_access_block(
                AccountId=HOME_ACCOUNT, PublicAccessBlockConfiguration=off
            )
            return _step(
                StepAction.RESTORE_PUBLIC_ACCESS_BLOCK,
                f"arn:aws:s3::{HOME_ACCOUNT}:public-access-block",
                scope="account",
                account_id=HOME_ACCOUNT,
            )
        account.s3.create_bucket(Bucket="acme-exposed", CreateBucketConfiguration={"LocationConstraint": BUCKET_REGION})
        account.s3.put_public_access_block(Bucket="acme-exposed", PublicAccessBlockConfiguration=off)
        return _step(
            StepAction.RESTORE_PUBLIC_ACCESS_BLOCK, "arn:aws:s3:::acme-exposed", scope="bucket", bucket="acme-exposed"
        )

    return setup


class Scenario(NamedTuple):
    setup: Callable[[Account], RemediationStep]
    region: str = REGION
    #: Registers canned answers for what moto lacks on the clients the action uses (issue 15's services).
    answers: Callable[[AccountClients], None] | None = None


SCENARIOS: dict[str, Scenario] = {
    "quarantine-fresh-user": Scenario(_fresh_user),
    "quarantine-previously-quarantined-user": Scenario(_previously_quarantined_user),
    "delete-user-with-everything": Scenario(_deletable_user),
    "detach-from-role": Scenario(_attached("role")),
    "detach-from-user": Scenario(_attached("user")),
    "detach-from-group": Scenario(_attached("group")),
    "bucket-keep-the-rest": Scenario(_bucket("acme-exports", keep=True), BUCKET_REGION),
    "bucket-only-offending": Scenario(_bucket("acme-invoices", keep=False), BUCKET_REGION),
    "delete-inline-from-role": Scenario(_inline("role")),
    "delete-inline-from-user": Scenario(_inline("user")),
    "delete-inline-from-group": Scenario(_inline("group")),
    "restore-default-version": Scenario(_policy_version(delete=False)),
    "restore-default-version-and-delete": Scenario(_policy_version(delete=True)),
    "deactivate-new-access-key": Scenario(_new_access_key),
    "delete-login-profile": Scenario(_login_profile),
    "detach-customer-managed-from-role": Scenario(_customer_attached),
    "trust-remove-outsider": Scenario(_untrusted_trust),
    "acl-bucket-public-read": Scenario(_public_acl(None), BUCKET_REGION),
    "acl-object-public-read": Scenario(_public_acl("2026/11/invoice-1042.pdf"), BUCKET_REGION),
    "public-access-block-bucket": Scenario(_public_access_block_off("bucket"), BUCKET_REGION),
    "public-access-block-account": Scenario(_public_access_block_off("account"), BUCKET_REGION),
}


# --- defense evasion and persistence (issue 15) ---------------------------------------------------


def _answering(client: Any, answers: dict[str, list[dict[str, Any]]]) -> None:
    """Answer operations moto lacks from canned responses, in order; once they are used up, moto answers.

    The calls still go through botocore, so the call log and the request recorder see them as they would AWS.
    """
    service_id = client.meta.service_model.service_id.hyphenize()
    for operation, responses in answers.items():
        queue = list(responses)

        def answer(queue: list[dict[str, Any]] = queue, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
            if not queue:
                return None
            return AWSResponse("https://aws.amazon.com/", 200, HTTPHeaders(), None), queue.pop(0)

        client.meta.events.register(f"before-call.{service_id}.{operation}", answer)


def _regional_client(account: Account, service: str) -> Any:
    return account.session.client(service, region_name=BUCKET_REGION)  # type: ignore[call-overload]


def _trail_arn(name: str) -> str:
    return f"arn:aws:cloudtrail:{BUCKET_REGION}:{HOME_ACCOUNT}:trail/{name}"


def _bucket_once(account: Account, bucket: str) -> None:
    if bucket not in {b["Name"] for b in account.s3.list_buckets()["Buckets"]}:
        account.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": BUCKET_REGION})


def _trail_snapshot(account: Account, name: str) -> dict[str, Any]:
    """A trail as IAM Warden would snapshot it: logging, every management event, Insights on API call rates."""
    from iamwarden.guardrails.cloudtrail import RestoreTrail

    _bucket_once(account, "acme-trail-logs")
    cloudtrail = _regional_client(account, "cloudtrail")
    cloudtrail.create_trail(Name=name, S3BucketName="acme-trail-logs")
    every = [{"ReadWriteType": "All", "IncludeManagementEvents": True}]
    cloudtrail.put_event_selectors(TrailName=name, EventSelectors=every)
    cloudtrail.put_insight_selectors(TrailName=name, InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])
    cloudtrail.start_logging(Name=name)
    snapshot = RestoreTrail.read(cloudtrail, _trail_arn(name))
    assert snapshot is not None
    return snapshot


def _restore_trail(deleted: bool) -> Callable[[Account], RemediationStep]:
    def setup(account: Account) -> RemediationStep:
        name = "audit-deleted" if deleted else "audit-narrowed"
        snapshot = _trail_snapshot(account, name)
        cloudtrail = _regional_client(account, "cloudtrail")
        if deleted:
            cloudtrail.delete_trail(Name=name)
        else:
            _bucket_once(account, "exfil-logs")
            cloudtrail.update_trail(Name=name, S3BucketName="exfil-logs")
            none = [{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": False}]
            cloudtrail.put_event_selectors(TrailName=name, EventSelectors=none)
            cloudtrail.put_insight_selectors(TrailName=name, InsightSelectors=[{"InsightType": "ApiErrorRateInsight"}])
            cloudtrail.stop_logging(Name=name)
        arn = _trail_arn(name)
        return _step(StepAction.RESTORE_TRAIL, arn, trail_arn=arn, snapshot=snapshot, taken_at="t")

    return setup


def _stopped_trail(account: Account) -> RemediationStep:
    _trail_snapshot(account, "audit-stopped")
    _regional_client(account, "cloudtrail").stop_logging(Name="audit-stopped")
    return _step(StepAction.START_TRAIL_LOGGING, _trail_arn("audit-stopped"), trail_arn=_trail_arn("audit-stopped"))


def _suspended_detector(account: Account) -> RemediationStep:
    guardduty = _regional_client(account, "guardduty")
    detector = guardduty.create_detector(Enable=True)["DetectorId"]
    guardduty.update_detector(DetectorId=detector, Enable=False)
    arn = f"arn:aws:guardduty:{BUCKET_REGION}:{HOME_ACCOUNT}:detector/{detector}"
    return _step(StepAction.ENABLE_GUARDDUTY_DETECTOR, arn, detector_id=detector)


def _stopped_recorder(account: Account) -> RemediationStep:
    _bucket_once(account, "acme-config")
    config = _regional_client(account, "config")
    role = f"arn:aws:iam::{HOME_ACCOUNT}:role/config-recorder"
    config.put_configuration_recorder(ConfigurationRecorder={"name": "default", "roleARN": role})
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "acme-config"})
    arn = f"arn:aws:config:{BUCKET_REGION}:{HOME_ACCOUNT}:configuration-recorder/default"
    return _step(StepAction.START_CONFIGURATION_RECORDER, arn, recorder_name="default")


def _disabled_hub(account: Account) -> RemediationStep:
    arn = f"arn:aws:securityhub:{BUCKET_REGION}:{HOME_ACCOUNT}:hub/default"
    return _step(StepAction.ENABLE_SECURITY_HUB, arn, region=BUCKET_REGION)


def _admin_group_member(account: Account) -> RemediationStep:
    account.iam.create_group(GroupName="platform-admins")
    account.iam.create_user(UserName="build-bot")
    account.iam.add_user_to_group(GroupName="platform-admins", UserName="build-bot")
    arn = f"arn:aws:iam::{HOME_ACCOUNT}:user/build-bot"
    return _step(StepAction.REMOVE_USER_FROM_GROUP, arn, user_name="build-bot", group_name="platform-admins")


BOUNDARY = f"arn:aws:iam::{HOME_ACCOUNT}:policy/deployer-boundary"


def _boundary_removed(kind: str, *, replaced: bool) -> Callable[[Account], RemediationStep]:
    """The boundary gone (undo removes it again) or ``replaced`` by AdministratorAccess (undo puts that back)."""

    def setup(account: Account) -> RemediationStep:
        name = f"deployer-{kind}-{'replaced' if replaced else 'removed'}"
        if kind == "role":
            extra = {"PermissionsBoundary": ADMIN} if replaced else {}
            trust = json.dumps({"Statement": []})
            account.iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust, **extra)
        else:
            account.iam.create_user(UserName=name)
        arn = f"arn:aws:iam::{HOME_ACCOUNT}:{kind}/{name}"
        return _step(StepAction.PUT_PERMISSIONS_BOUNDARY, arn, kind=kind, name=name, boundary_arn=BOUNDARY)

    return setup


def _user_boundary_answers(replaced: bool) -> Callable[[AccountClients], None]:
    """moto has no Put/DeleteUserPermissionsBoundary: answered, and GetUser shows the boundaries as they change."""

    def answers(aws: AccountClients) -> None:
        name = f"deployer-user-{'replaced' if replaced else 'removed'}"
        user = {
            "UserName": name,
            "UserId": "AIDAEXAMPLEDEPLOYER01",
            "Arn": f"arn:aws:iam::{HOME_ACCOUNT}:user/{name}",
            "Path": "/",
            "CreateDate": datetime.datetime(2026, 11, 20, tzinfo=datetime.UTC),
        }
        before = {**user, "PermissionsBoundary": {"PermissionsBoundaryArn": ADMIN}} if replaced else user
        bounded = {**user, "PermissionsBoundary": {"PermissionsBoundaryArn": BOUNDARY}}
        _answering(
            aws.iam,
            {
                "GetUser": [{"User": before}, {"User": bounded}],
                "PutUserPermissionsBoundary": [{}, {}],
                "DeleteUserPermissionsBoundary": [{}],
            },
        )

    return answers


OIDC = f"arn:aws:iam::{HOME_ACCOUNT}:oidc-provider/oidc.ci-runner.example.net"


def _unknown_oidc(account: Account) -> RemediationStep:
    account.iam.create_open_id_connect_provider(
        Url="https://oidc.ci-runner.example.net", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["0" * 40]
    )
    return _step(StepAction.DELETE_OIDC_PROVIDER, OIDC, provider_arn=OIDC)


def _added_client_id(account: Account) -> RemediationStep:
    del account
    return _step(StepAction.REMOVE_OIDC_CLIENT_ID, OIDC, provider_arn=OIDC, client_id="backdoor-app")


def _client_id_answers(aws: AccountClients) -> None:
    """moto has no Add/RemoveClientID: the provider is answered, with the client id and then without it."""
    provider = {"Url": "oidc.ci-runner.example.net", "ThumbprintList": ["0" * 40]}
    _answering(
        aws.iam,
        {
            "GetOpenIDConnectProvider": [
                {**provider, "ClientIDList": ["sts.amazonaws.com", "backdoor-app"]},
                {**provider, "ClientIDList": ["sts.amazonaws.com"]},
            ],
            "RemoveClientIDFromOpenIDConnectProvider": [{}],
            "AddClientIDToOpenIDConnectProvider": [{}],
        },
    )


def _unknown_saml(account: Account) -> RemediationStep:
    metadata = load_event("create-saml-provider-unknown.json")["detail"]["requestParameters"]["sAMLMetadataDocument"]
    arn = account.iam.create_saml_provider(Name="corp-sso", SAMLMetadataDocument=metadata)["SAMLProviderArn"]
    return _step(StepAction.DELETE_SAML_PROVIDER, arn, provider_arn=arn)


ANCHOR_ID = "2b2a7e1c-5d3f-4a8e-9c61-0d7f3e5b1a90"


def _roles_anywhere(kind: str) -> Callable[[Account], RemediationStep]:
    def setup(account: Account) -> RemediationStep:
        del account
        arn = f"arn:aws:rolesanywhere:{BUCKET_REGION}:{HOME_ACCOUNT}:{kind}/{ANCHOR_ID}"
        return _step(StepAction.DISABLE_ROLES_ANYWHERE, arn, kind=kind, id=ANCHOR_ID)

    return setup


def _roles_anywhere_answers(kind: str) -> Callable[[AccountClients], None]:
    """moto has no Roles Anywhere: enabled when read for capture, disabled when read for undo."""

    def answers(aws: AccountClients) -> None:
        if kind == "trust-anchor":
            get, key, outer = "GetTrustAnchor", "trustAnchorId", "trustAnchor"
            writes = ("DisableTrustAnchor", "EnableTrustAnchor")
        else:
            get, key, outer = "GetProfile", "profileId", "profile"
            writes = ("DisableProfile", "EnableProfile")
        found = {outer: {key: ANCHOR_ID}}
        _answering(
            aws.client("rolesanywhere"),
            {
                get: [{outer: {key: ANCHOR_ID, "enabled": True}}, {outer: {key: ANCHOR_ID, "enabled": False}}],
                **{write: [found] for write in writes},
            },
        )

    return answers


SSO_INSTANCE = "arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6"
SSO_SET = "arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-0a1b2c3d4e5f6a7b"
SSO_BASE = {"instance_arn": SSO_INSTANCE, "permission_set_arn": SSO_SET}
SSO_ASSIGNMENT = {
    "target_id": "444455556666",
    "target_type": "AWS_ACCOUNT",
    "principal_type": "USER",
    "principal_id": "u-1",
}


def _permission_set(action: StepAction) -> Callable[[Account], RemediationStep]:
    def setup(account: Account) -> RemediationStep:
        del account
        if action is StepAction.DETACH_PERMISSION_SET_POLICY:
            return _step(action, SSO_SET, **SSO_BASE, managed_policy_arn=ADMIN)
        if action is StepAction.DELETE_PERMISSION_SET_INLINE_POLICY:
            return _step(action, SSO_SET, **SSO_BASE)
        return _step(action, SSO_SET, **SSO_BASE, **SSO_ASSIGNMENT)

    return setup


def _permission_set_answers(action: StepAction) -> Callable[[AccountClients], None]:
    """moto's sso-admin cannot provision to all accounts: Identity Center is answered, provisioned to one account."""

    def answers(aws: AccountClients) -> None:
        provisioning: dict[str, list[dict[str, Any]]] = {
            "ListAccountsForProvisionedPermissionSet": [{"AccountIds": ["444455556666"]}] * 2,
            "ProvisionPermissionSet": [{"PermissionSetProvisioningStatus": {"Status": "IN_PROGRESS"}}] * 2,
        }
        canned: dict[str, list[dict[str, Any]]]
        if action is StepAction.DETACH_PERMISSION_SET_POLICY:
            attached = {"AttachedManagedPolicies": [{"Name": "AdministratorAccess", "Arn": ADMIN}]}
            canned = {
                "ListManagedPoliciesInPermissionSet": [attached, {"AttachedManagedPolicies": []}],
                "DetachManagedPolicyFromPermissionSet": [{}],
                "AttachManagedPolicyToPermissionSet": [{}],
                **provisioning,
            }
        elif action is StepAction.DELETE_PERMISSION_SET_INLINE_POLICY:
            canned = {
                "GetInlinePolicyForPermissionSet": [
                    {"InlinePolicy": json.dumps(DENY_ALL_POLICY)},
                    {"InlinePolicy": ""},
                ],
                "DeleteInlinePolicyFromPermissionSet": [{}],
                "PutInlinePolicyToPermissionSet": [{}],
                **provisioning,
            }
        else:
            assignment = {
                "AccountId": "444455556666",
                "PermissionSetArn": SSO_SET,
                "PrincipalType": "USER",
                "PrincipalId": "u-1",
            }
            canned = {
                "ListAccountAssignments": [{"AccountAssignments": [assignment]}, {"AccountAssignments": []}],
                "DeleteAccountAssignment": [{"AccountAssignmentDeletionStatus": {"Status": "IN_PROGRESS"}}],
                "CreateAccountAssignment": [{"AccountAssignmentCreationStatus": {"Status": "IN_PROGRESS"}}],
            }
        _answering(aws.client("sso-admin"), canned)

    return answers


def _sso(action: StepAction) -> Scenario:
    return Scenario(_permission_set(action), BUCKET_REGION, _permission_set_answers(action))


SCENARIOS.update(
    {
        "start-trail-logging": Scenario(_stopped_trail, BUCKET_REGION),
        "restore-narrowed-trail": Scenario(_restore_trail(deleted=False), BUCKET_REGION),
        "restore-deleted-trail": Scenario(_restore_trail(deleted=True), BUCKET_REGION),
        "enable-guardduty-detector": Scenario(_suspended_detector, BUCKET_REGION),
        "start-config-recorder": Scenario(_stopped_recorder, BUCKET_REGION),
        "enable-security-hub": Scenario(_disabled_hub, BUCKET_REGION),
        "remove-user-from-admin-group": Scenario(_admin_group_member),
        "put-role-boundary-back": Scenario(_boundary_removed("role", replaced=False)),
        "replace-role-admin-boundary": Scenario(_boundary_removed("role", replaced=True)),
        "put-user-boundary-back": Scenario(
            _boundary_removed("user", replaced=False), REGION, _user_boundary_answers(replaced=False)
        ),
        "replace-user-admin-boundary": Scenario(
            _boundary_removed("user", replaced=True), REGION, _user_boundary_answers(replaced=True)
        ),
        "delete-unknown-oidc-provider": Scenario(_unknown_oidc),
        "remove-oidc-client-id": Scenario(_added_client_id, REGION, _client_id_answers),
        "delete-unknown-saml-provider": Scenario(_unknown_saml),
        "disable-trust-anchor": Scenario(
            _roles_anywhere("trust-anchor"), BUCKET_REGION, _roles_anywhere_answers("trust-anchor")
        ),
        "disable-roles-anywhere-profile": Scenario(
            _roles_anywhere("profile"), BUCKET_REGION, _roles_anywhere_answers("profile")
        ),
        "detach-permission-set-policy": _sso(StepAction.DETACH_PERMISSION_SET_POLICY),
        "delete-permission-set-inline-policy": _sso(StepAction.DELETE_PERMISSION_SET_INLINE_POLICY),
        "delete-account-assignment": _sso(StepAction.DELETE_ACCOUNT_ASSIGNMENT),
    }
)


def answer_service_specific_credentials(iam: Any) -> None:
    """moto lacks service-specific credentials: answer List with one credential and Delete with success."""

    def listed(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        credential = {"ServiceSpecificCredentialId": "ACCAEXAMPLE123EXAMPLE", "ServiceName": "codecommit.amazonaws.com"}
        return AWSResponse("https://iam.amazonaws.com/", 200, HTTPHeaders(), None), {
            "ServiceSpecificCredentials": [credential]
        }

    def deleted(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://iam.amazonaws.com/", 200, HTTPHeaders(), None), {}

    iam.meta.events.register("before-call.iam.ListServiceSpecificCredentials", listed)
    iam.meta.events.register("before-call.iam.DeleteServiceSpecificCredential", deleted)


class Run(NamedTuple):
    step: RemediationStep
    done: list[str]
    calls: list[ApiCall]
    requests: list[Request]
    undo_calls: list[ApiCall]
    restored: list[str]


def _run(account: Account, clients: ClientFactory, requests: Requests, scenario: Scenario) -> Run:
    step = scenario.setup(account)
    action = ACTIONS[step.action]
    aws = AccountClients(clients, HOME_ACCOUNT, scenario.region)
    answer_service_specific_credentials(aws.iam)
    if scenario.answers is not None:
        scenario.answers(aws)
    requests.take()
    done: list[str] = []
    with clients.call_log.recording() as calls:
        before = action.capture(aws, step)
        action.apply(StepRun(aws, "f-1234", "2026-11-21T09:15:00.000+00:00"), step, before, done)
    made = requests.take()
    undo_calls: list[ApiCall] = []
    restored: list[str] = []
    if action.undoable:
        with clients.call_log.recording() as undo_calls:
            restored = action.undo(aws, step, before)
    return Run(step, done, calls, made, undo_calls, restored)


def _check(name: str, run: Run) -> None:
    action = ACTIONS[run.step.action]
    assert run.done, f"{name} changed nothing, so it tests no write"
    called = {call.iam_action for call in run.calls}
    undeclared = called - set(run.step.action.permissions)
    assert not undeclared, f"{run.step.action} calls {sorted(undeclared)} but does not declare them"
    assert {request.action for request in run.requests} == called  # both recorders saw the same calls
    assert_role_allows(run.requests, "enforcer-remediations")
    if action.undoable:
        assert run.restored, f"undo of {name} restored nothing, so it tests no write"
        undo_called = {call.iam_action for call in run.undo_calls}
        undeclared = undo_called - set(action.undo_permissions)
        assert not undeclared, f"undo of {run.step.action} calls {sorted(undeclared)} but does not declare them"


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_calls_are_declared_and_allowed(
    name: str, account: Account, clients: ClientFactory, requests: Requests
) -> None:
    _check(name, _run(account, clients, requests, SCENARIOS[name]))


def test_every_declared_permission_is_used(account: Account, clients: ClientFactory, requests: Requests) -> None:
    """Declarations are not wider than the code: each declared action is called by some scenario."""
    runs = {name: _run(account, clients, requests, scenario) for name, scenario in SCENARIOS.items()}
    for name, run in runs.items():
        _check(name, run)
    for step_action, action in ACTIONS.items():
        mine = [run for run in runs.values() if run.step.action is step_action]
        assert mine, f"no scenario runs {step_action}"
        called = {call.iam_action for run in mine for call in run.calls}
        never = sorted(set(step_action.permissions) - called)
        assert not never, f"{step_action} declares but never calls {never}"
        undo_called = {call.iam_action for run in mine for call in run.undo_calls}
        never = sorted(set(action.undo_permissions) - undo_called)
        assert not never, f"undo of {step_action} declares but never calls {never}"


def test_delete_mode_is_allowed_for_a_user_with_a_customer_managed_policy(
    account: Account, clients: ClientFactory, requests: Requests
) -> None:
    run = _run(account, clients, requests, Scenario(_deletable_user_with_customer_policy))
    assert any("app-s3-read" in line for line in run.done)
    assert_role_allows(run.requests, "enforcer-remediations")


# --- the enforcer as a whole -------------------------------------------------------------------


@pytest.fixture
def recorded_enforcer(account: Account, requests: Requests, notifier: RecordingNotifier) -> EnforcerService:
    """The enforcer wired as in Lambda, built after ``requests`` is registered so every call is seen."""
    clients = ClientFactory(HOME_ACCOUNT, account.config.member_role_name, session=account.session)
    return build_enforcer_service(account.config, clients=clients, notifier=notifier)


def test_everything_the_enforcer_calls_is_allowed_by_its_role(
    account: Account, recorded_enforcer: EnforcerService, requests: Requests
) -> None:
    """Settings, idempotency, audit and remediation calls of whole events, each checked against its policy."""
    for rule in ("iam-user-created", "managed-policy-attached", "s3-bucket-policy-public"):
        account.set(f"rules/{rule}/mode", "remediate")
    _fresh_user(account)
    _attached("role")(account)
    _bucket("acme-invoices", keep=False)(account)
    attach = load_event("attach-admin-to-role.json")
    attach["detail"]["requestParameters"]["roleName"] = "app-role"
    requests.take()

    outcomes = [
        recorded_enforcer.handle(event)["findings"][0]["outcome"]
        for event in (load_event("create-user-backdoor-cli.json"), attach, load_event("bucket-policy-public-read.json"))
    ]

    assert outcomes == ["remediated"] * 3
    made = requests.take()
    runtime = [r for r in made if r.action.split(":")[0] in ("dynamodb", "ssm", "sqs", "sts", "logs", "xray")]
    remediation = [r for r in made if r not in runtime]
    assert {r.action.split(":")[0] for r in remediation} == {"iam", "s3"}
    assert {r.action for r in runtime} >= {"ssm:GetParametersByPath", "dynamodb:PutItem", "dynamodb:UpdateItem"}
    assert_role_allows(runtime, "enforcer-runtime")
    assert_role_allows(remediation, "enforcer-remediations")


def test_the_new_rules_call_only_what_the_role_allows(
    account: Account, recorded_enforcer: EnforcerService, requests: Requests
) -> None:
    """Trust policies (which read the audit table's history), ACLs and Block Public Access, as whole events."""
    for rule in ("trust-policy-untrusted", "s3-acl-public", "s3-public-access-block-disabled"):
        account.set(f"rules/{rule}/mode", "remediate")
    trust = json.loads(load_event("trust-update-unknown-account.json")["detail"]["requestParameters"]["policyDocument"])
    account.iam.create_role(RoleName="app-deployer", AssumeRolePolicyDocument=json.dumps(trust))
    account.s3.create_bucket(Bucket="acme-website", CreateBucketConfiguration={"LocationConstraint": BUCKET_REGION})
    account.s3.put_bucket_ownership_controls(
        Bucket="acme-website", OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    )
    account.s3.delete_public_access_block(Bucket="acme-website")
    account.s3.put_bucket_acl(Bucket="acme-website", ACL="public-read")
    requests.take()

    outcomes = [
        recorded_enforcer.handle(load_event(sample))["findings"][0]["outcome"]
        for sample in ("trust-update-unknown-account.json", "acl-bucket-public-read.json", "pab-bucket-deleted.json")
    ]

    assert outcomes == ["remediated"] * 3
    made = requests.take()
    runtime = [r for r in made if r.action.split(":")[0] in ("dynamodb", "ssm", "sqs", "sts", "logs", "xray")]
    remediation = [r for r in made if r not in runtime]
    assert "dynamodb:Query" in {r.action for r in runtime}
    assert_role_allows(runtime, "enforcer-runtime")
    assert_role_allows(remediation, "enforcer-remediations")
