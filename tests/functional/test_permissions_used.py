"""The permissions each remediation declares are the API calls it really makes, and the role allows them.

Every action runs ``capture`` + ``apply`` (and ``undo`` where it can be undone)
against moto, with ``ClientFactory.call_log`` recording the calls:

* every call of capture/apply is in the action's ``permissions`` and every
  undo call is in its ``undo_permissions``;
* across the scenarios each declared permission is used, so a declaration
  that nothing calls (and the template grant that mirrors it) is caught too;
* every call, with its resource and condition keys, is allowed by the
  template's ``enforcer-remediations`` grants (its managed policies), and every call the enforcer
  makes for itself (settings, audit, idempotency) by ``enforcer-runtime``.

moto does not check IAM (and moto_server's own enforcement checks most services only
against ``Resource: "*"`` and treats unknown condition keys as met), so the last point is
checked here by IAM Warden's own policy engine (``parse_policy``, its action and wildcard
matching) over the template's statements, with each call's resource ARN and condition keys.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import json
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from iamwarden.adapters.audit import AuditRecord
from iamwarden.adapters.clients import ApiCall, ClientFactory, iam_action_of
from iamwarden.app.exception_wiring import build_exception_watch
from iamwarden.app.executor import AccountClients, StepRun
from iamwarden.app.service import EnforcerService
from iamwarden.app.wiring import build_enforcer_service
from iamwarden.domain.declared_content import declared_alarm, declared_bus_policy, declared_grant
from iamwarden.domain.exceptions import RemediationError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.policy import Condition, parse_policy
from iamwarden.domain.rule_exceptions import ExceptionScope
from iamwarden.domain.settings import Settings
from iamwarden.domain.trails import api_spelling
from iamwarden.domain.wildcards import wildcard_match
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.iam_user import DENY_ALL_POLICY, QUARANTINE_TAG_FINDING, QUARANTINE_TAG_TIME
from iamwarden.guardrails.registry import ACTIONS
from iamwarden.guardrails.security_services import RecreateGuardDutyDetector, RecreatePublishingDestination
from iamwarden.guardrails.session_lookup import LOOKUP_CLIENT
from tests.aws_fixtures import HOME_ACCOUNT, REGION, resolve, resolved_properties
from tests.conftest import load_event
from tests.functional import guardrail_cases as cases
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.guardrail_cases import RESOURCE_REGION, heartbeat_read_attachments
from tests.sam_template import deployed_template, remediation_statements

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
        if model.name == "PutConfigurationRecorder":  # IAM authorises the recorder's role passed to AWS Config too
            role = params["ConfigurationRecorder"]["roleARN"]
            self.made.append(
                Request("iam:PassRole", {"RoleArn": role, "PassedToService": "config.amazonaws.com"}, region)
            )

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


#: Secrets by ARN, as ``Ref`` gives them and the functions' environment names them.
_SECRET_ARNS = {
    logical: f"arn:aws:secretsmanager:{REGION}:{HOME_ACCOUNT}:secret:{name}"
    for logical, name in (
        ("SlackBotTokenSecret", "iamwarden/slack/bot"),
        ("SlackSigningSecret", "iamwarden/slack/signing"),
    )
}


#: The remediation grants: the union of the managed policies tools/generate.py writes for the role.
REMEDIATIONS = "enforcer-remediations"


def _role_statements(policy_name: str, role_id: str = "EnforcerRole", **parameters: str) -> list[dict[str, Any]]:
    # The widest deployment (UserRemediation=delete grants deleting users): every scenario runs against it.
    given = {"UserRemediation": "delete", **parameters}
    template = deployed_template(given)
    if policy_name == REMEDIATIONS:
        # The generated grants are customer-managed policies on the role (too large for its inline policies), and
        # what is granted apart (GRANTED_APART) in a policy of its own: the enforcer's inline attach grant.
        apart = [
            statement
            for resource in template["Resources"].values()
            if resource["Type"] == "AWS::IAM::RolePolicy"
            and resource["Properties"]["RoleName"] == {"Ref": role_id}
            and resource["Properties"]["PolicyName"] == "enforcer-reattach-own-grants"
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        ]
        document = {"Statement": [*remediation_statements(template, role_id), *apart]}
    else:
        role = template["Resources"][role_id]["Properties"]
        [document] = [p["PolicyDocument"] for p in role["Policies"] if p["PolicyName"] == policy_name]
    known = {
        "EnforcerLogGroup.Arn": LOG_GROUP_ARN,
        "ExceptionWatchLogGroup.Arn": LOG_GROUP_ARN,
        "SlackInteractionsLogGroup.Arn": LOG_GROUP_ARN.replace("iamwarden-enforcer", "iamwarden-slack-interactions"),
        "HeartbeatLogGroup.Arn": LOG_GROUP_ARN.replace("iamwarden-enforcer", "iamwarden-heartbeat"),
        "EnforcerFunction.Arn": f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:iamwarden-enforcer",
        **_SECRET_ARNS,
    }
    statements: list[dict[str, Any]] = resolve(document["Statement"], known, given)
    return statements


def _condition_holds(condition: Condition, context: Mapping[str, str | list[str]]) -> bool:
    """One condition key test, as IAM evaluates it; a key the request does not carry never matches.

    A multivalued key (``aws:TagKeys``) is a list: ``ForAllValues`` holds when every value matches, ``ForAnyValue``
    when one does (review s13 prunex F4: an UntagRole of two keys is allowed only if both are granted)."""
    actual = context.get(condition.key)  # both lower-cased: condition keys are case insensitive
    if actual is None:
        return condition.holds_when_absent
    if isinstance(actual, str):
        return _value_holds(condition, actual)
    if condition.qualifier == "ForAllValues":
        return all(_value_holds(condition, value) for value in actual)
    if condition.qualifier == "ForAnyValue":
        return any(_value_holds(condition, value) for value in actual)
    raise AssertionError(f"the multivalued key {condition.key} is tested without ForAllValues/ForAnyValue")


def _value_holds(condition: Condition, actual: str) -> bool:
    """The condition's operator on one value of the request."""
    operator = condition.operator.lower()
    if operator in ("arnlike", "stringlike", "arnequals"):
        return any(wildcard_match(pattern, actual) for pattern in condition.values)
    if operator in ("arnnotlike", "stringnotlike"):  # the resource policies' Deny "unless one of these"
        return not any(wildcard_match(pattern, actual) for pattern in condition.values)
    if operator == "stringequals":
        return actual in condition.values
    if operator == "stringequalsignorecase":
        return actual.casefold() in {value.casefold() for value in condition.values}
    if operator == "stringnotequals":
        return actual not in condition.values
    raise AssertionError(f"the evaluator does not know the condition operator {condition.operator}")


def allowed(
    statements: list[dict[str, Any]], action: str, resource: str, context: Mapping[str, str | list[str]]
) -> bool:
    """Whether the statements allow ``action`` on ``resource``, read by IAM Warden's own policy engine.

    The template's statements are parsed by ``parse_policy`` (the parser every guardrail uses), matched
    with its action and wildcard matching; any Deny that matches wins. Conditions must all hold.
    """
    policy = parse_policy({"Version": "2012-10-17", "Statement": statements}, field="template")
    context = {key.lower(): value for key, value in context.items()}
    matching = [
        statement
        for statement in policy.statements
        if statement.grants_action(action)
        and any(wildcard_match(pattern, resource) for pattern in statement.resources or ())
        and all(_condition_holds(condition, context) for condition in statement.conditions)
    ]
    return any(statement.allows for statement in matching) and not any(not s.allows for s in matching)


def _authorised_as(request: Request) -> tuple[str, dict[str, str | list[str]]]:
    """The resource ARN IAM authorises ``request`` on, and its condition keys."""
    params, operation = request.params, request.action.split(":")[1]
    service = request.action.split(":")[0]
    iam = f"arn:aws:iam::{HOME_ACCOUNT}"
    context: dict[str, str | list[str]] = {}
    if request.action == "iam:PassRole":  # implied by a call that passes a role (``IMPLIED``)
        return str(params["RoleArn"]), {"iam:PassedToService": str(params["PassedToService"])}
    if service == "iam":
        if "PolicyArn" in params:
            context["iam:PolicyARN"] = params["PolicyArn"]
        keys = params.get("TagKeys")
        if isinstance(keys, list) and keys:  # multivalued: every key the request names
            context["aws:TagKeys"] = [str(key) for key in keys]
        if operation in ("GetPolicy", "ListPolicyVersions", "GetPolicyVersion") or "PolicyVersion" in operation:
            return str(params["PolicyArn"]), context  # the policy itself is the resource
        if operation == "DeleteVirtualMFADevice":
            return str(params["SerialNumber"]), context
        if operation == "RemoveUserFromGroup":
            return f"{iam}:group/{params['GroupName']}", context
        if "InstanceProfileName" in params:  # GetInstanceProfile, RemoveRoleFromInstanceProfile: the profile
            return f"{iam}:instance-profile/{params['InstanceProfileName']}", context
        for key, kind in (("UserName", "user"), ("RoleName", "role"), ("GroupName", "group")):
            if key in params:
                return f"{iam}:{kind}/{params[key]}", context
    if service == "iam":
        for key in ("OpenIDConnectProviderArn", "SAMLProviderArn"):
            if key in params:
                return str(params[key]), context
    here = f"{request.region}:{HOME_ACCOUNT}"
    if (
        request.action
        in ("cloudtrail:DescribeTrails", "config:DescribeConfigurationRecorderStatus", "guardduty:ListDetectors")
        or service == "config"
    ):
        return "*", context  # no resource type
    if service == "cloudtrail" and "EventDataStore" in params:
        return str(params["EventDataStore"]), context
    if service == "cloudtrail":
        name = str(params.get("Name") or params.get("TrailName"))
        return (name if name.startswith("arn:") else f"arn:aws:cloudtrail:{here}:trail/{name}"), context
    if request.action == "guardduty:CreateDetector":
        return "*", context  # no resource type
    if service == "guardduty" and "ResourceArn" in params:  # TagResource: the tagged detector
        return str(params["ResourceArn"]), context
    if service == "guardduty" and "DestinationId" in params:  # one publishing destination of a detector
        detector = f"arn:aws:guardduty:{here}:detector/{params['DetectorId']}"
        return f"{detector}/publishingdestination/{params['DestinationId']}", context
    if service == "guardduty" and "FilterName" in params:
        return f"arn:aws:guardduty:{here}:detector/{params['DetectorId']}/filter/{params['FilterName']}", context
    if service == "guardduty":
        return f"arn:aws:guardduty:{here}:detector/{params['DetectorId']}", context
    if service == "securityhub" and "AutomationRulesArns" in params:
        return str(params["AutomationRulesArns"][0]), context
    if service == "securityhub" and "UpdateAutomationRulesRequestItems" in params:
        return str(params["UpdateAutomationRulesRequestItems"][0]["RuleArn"]), context
    if service == "securityhub" and "Identifier" in params:  # a V2 automation rule, named by its ARN
        return str(params["Identifier"]), context
    if service == "securityhub":
        return f"arn:aws:securityhub:{here}:hub/default", context
    if service == "rolesanywhere":
        if "trustAnchorId" in params:
            return f"arn:aws:rolesanywhere:{here}:trust-anchor/{params['trustAnchorId']}", context
        return f"arn:aws:rolesanywhere:{here}:profile/{params['profileId']}", context
    if service == "sso":
        return str(params["PermissionSetArn"]), context
    if service == "identitystore":  # the store is the one resource of each call whose ARN carries the account
        return f"arn:aws:identitystore::{HOME_ACCOUNT}:identitystore/{params['IdentityStoreId']}", context
    if request.action in ("s3:GetAccountPublicAccessBlock", "s3:PutAccountPublicAccessBlock"):
        return "*", context  # no resource type: S3 Control acts on the caller's own account only
    if service == "ec2" and operation.startswith("Describe") and not operation.endswith("Attribute"):
        return "*", context  # EC2's Describe actions have no resource type
    if request.action == "cloudfront:ListCloudFrontOriginAccessIdentities":
        return "*", context  # no resource type
    if request.action in ("s3:GetAccessPointPolicy", "s3:PutAccessPointPolicy", "s3:DeleteAccessPointPolicy"):
        return f"arn:aws:s3:{request.region}:{params['AccountId']}:accesspoint/{params['Name']}", context
    if "MultiRegionAccessPoint" in operation:  # global: no Region; IAM names it by alias (the name stands in here)
        name = params.get("Name") or params["Details"]["Name"]
        return f"arn:aws:s3::{params['AccountId']}:accesspoint/{name}", context
    if operation.endswith("ForObjectLambda"):
        return f"arn:aws:s3-object-lambda:{request.region}:{params['AccountId']}:accesspoint/{params['Name']}", context
    if service == "s3" and "Key" in params:
        return f"arn:aws:s3:::{params['Bucket']}/{params['Key']}", {"s3:ResourceAccount": HOME_ACCOUNT}
    if service == "s3":
        return f"arn:aws:s3:::{params['Bucket']}", {"s3:ResourceAccount": HOME_ACCOUNT}
    if service == "ec2":  # snapshot and image ARNs carry no account: ec2:Owner names it
        kind, key = ("snapshot", "SnapshotId") if "SnapshotId" in params else ("image", "ImageId")
        return f"arn:aws:ec2:{request.region}::{kind}/{params[key]}", {"ec2:Owner": HOME_ACCOUNT}
    if service == "rds":
        if "DBClusterSnapshotIdentifier" in params:
            return (
                f"arn:aws:rds:{request.region}:{HOME_ACCOUNT}:cluster-snapshot:{params['DBClusterSnapshotIdentifier']}",
                context,
            )
        return f"arn:aws:rds:{request.region}:{HOME_ACCOUNT}:snapshot:{params['DBSnapshotIdentifier']}", context
    if service == "backup":
        name = params["BackupVaultName"]
        return f"arn:aws:backup:{request.region}:{HOME_ACCOUNT}:backup-vault:{name}", context
    if service == "es":
        return f"arn:aws:es:{request.region}:{HOME_ACCOUNT}:domain/{params['DomainName']}", context
    if service == "elasticfilesystem":
        return (
            f"arn:aws:elasticfilesystem:{request.region}:{HOME_ACCOUNT}:file-system/{params['FileSystemId']}",
            context,
        )
    if service == "dynamodb" and "ResourceArn" in params:  # resource policies name the table or stream by ARN
        return str(params["ResourceArn"]), context
    if service == "dynamodb":
        index = f"/index/{params['IndexName']}" if "IndexName" in params else ""
        return f"arn:aws:dynamodb:{request.region}:{HOME_ACCOUNT}:table/{params['TableName']}{index}", context
    if service == "ssm":
        return f"arn:aws:ssm:{request.region}:{HOME_ACCOUNT}:parameter{params.get('Path') or params['Name']}", context
    if service == "sqs":
        account, name = str(params["QueueUrl"]).split("/")[-2:]
        return f"arn:aws:sqs:{request.region}:{account}:{name}", context
    if service == "sns":
        # Subscription calls name the subscription (no resource type IAM knows: granted on "*").
        return str(params.get("TopicArn") or params.get("ResourceArn") or params["SubscriptionArn"]), context
    if service == "secretsmanager" and str(params["SecretId"]).startswith("arn:"):
        return str(params["SecretId"]), context
    if service == "secretsmanager":
        return f"arn:aws:secretsmanager:{request.region}:{HOME_ACCOUNT}:secret:{params['SecretId']}", context
    if service == "ecr":
        return f"arn:aws:ecr:{request.region}:{HOME_ACCOUNT}:repository/{params['repositoryName']}", context
    if service == "events" and (operation.endswith("Rule") or "Rule" in params):
        bus = params.get("EventBusName", "default")
        rule = params.get("Name") or params["Rule"]
        return (
            f"arn:aws:events:{request.region}:{HOME_ACCOUNT}:rule/{'' if bus == 'default' else bus + '/'}{rule}",
            context,
        )
    if service == "events":
        bus = params.get("EventBusName") or params.get("Name")
        return f"arn:aws:events:{request.region}:{HOME_ACCOUNT}:event-bus/{bus}", context
    if service == "kms":
        return str(params["KeyId"]), context  # the plans name keys by ARN
    if service == "cloudwatch":
        [alarm] = params.get("AlarmNames") or [params["AlarmName"]]  # the plans act on one alarm at a time here
        return f"arn:aws:cloudwatch:{request.region}:{HOME_ACCOUNT}:alarm:{alarm}", context
    if service == "lambda" and "LayerName" in params:
        return f"{params['LayerName']}:{params['VersionNumber']}", context
    if service == "lambda":
        if operation == "AddPermission":  # the service or account the permission lets invoke (lambda:Principal)
            context["lambda:Principal"] = str(params["Principal"])
        qualifier = f":{params['Qualifier']}" if "Qualifier" in params else ""
        function = str(params["FunctionName"])
        if not function.startswith("arn:"):
            function = f"arn:aws:lambda:{request.region}:{HOME_ACCOUNT}:function:{function}"
        return f"{function}{qualifier}", context
    # issue 18: Glacier vaults and CloudWatch Logs destinations.
    if service == "glacier":  # accountId "-" is the caller's account
        return f"arn:aws:glacier:{request.region}:{HOME_ACCOUNT}:vaults/{params['vaultName']}", context
    if request.action == "logs:DescribeDestinations":
        return "*", context  # a list call by name prefix: no resource type
    if service == "logs" and "destinationName" in params:
        return f"arn:aws:logs:{request.region}:{HOME_ACCOUNT}:destination:{params['destinationName']}", context
    raise AssertionError(f"the test does not know which resource {request.action} acts on: {params}")


def assert_role_allows(made: list[Request], policy_name: str, role_id: str = "EnforcerRole") -> None:
    statements = _role_statements(policy_name, role_id)
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
    """With an SSH public key and a signing certificate too, which the quarantine deactivates (review s11 F14)."""
    _user_with_credentials(account, "backdoor-admin")
    account.iam.upload_ssh_public_key(UserName="backdoor-admin", SSHPublicKeyBody=_SSH_KEY)
    account.iam.upload_signing_certificate(UserName="backdoor-admin", CertificateBody=_self_signed_certificate())
    return _quarantine("backdoor-admin")


def _previously_quarantined_user(account: Account) -> RemediationStep:
    """A quarantine policy of other content, the tags of an earlier finding and a boundary of its own: undo must put
    them back."""
    _user_with_credentials(account, "repeat-offender")
    account.iam.put_user_permissions_boundary(
        UserName="repeat-offender", PermissionsBoundary="arn:aws:iam::aws:policy/ReadOnlyAccess"
    )
    earlier = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
    account.iam.put_user_policy(UserName="repeat-offender", PolicyName=QUARANTINE, PolicyDocument=json.dumps(earlier))
    account.iam.tag_user(
        UserName="repeat-offender",
        Tags=[{"Key": QUARANTINE_TAG_FINDING, "Value": "earlier"}, {"Key": QUARANTINE_TAG_TIME, "Value": "then"}],
    )
    return _quarantine("repeat-offender")


#: The rename ``_user_renamed_before_undo`` sets up, registered on the action's own IAM client by
#: ``_rename_after_tagging`` (a client made earlier does not see hooks registered on the session later).
_RENAMES: list[Callable[..., None]] = []


def _user_renamed_before_undo(account: Account) -> RemediationStep:
    """Renamed (``UpdateUser``) once quarantined: undo finds the user by the UserId its record captured (review s11
    R8). The rename runs right after the quarantine's last call, its TagUser, through the test's own client."""
    _user_with_credentials(account, "renamed-later")

    def renamed(**_: Any) -> None:
        tags = account.iam.list_user_tags(UserName="renamed-later")["Tags"]
        account.iam.update_user(UserName="renamed-later", NewUserName="renamed-now")
        account.iam.tag_user(UserName="renamed-now", Tags=tags)  # moto drops a renamed user's tags; IAM keeps them
        account.user_boundaries["renamed-now"] = account.user_boundaries.pop("renamed-later")

    _RENAMES.append(renamed)
    return _quarantine("renamed-later")


def _rename_after_tagging(aws: AccountClients) -> None:
    rename = _RENAMES.pop()
    events: Any = aws.iam.meta.events

    def once(**kwargs: Any) -> None:
        events.unregister("after-call.iam.TagUser", once)
        rename(**kwargs)

    events.register("after-call.iam.TagUser", once)


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


def _inline(kind: str, *, mixed: bool) -> Callable[[Account], RemediationStep]:
    """An admin inline policy on a role, user or group: rewritten without the admin grant when ``mixed`` keeps a
    legitimate statement, deleted when nothing else is in it."""

    def setup(account: Account) -> RemediationStep:
        name = f"inline-{kind}" + ("-mixed" if mixed else "")
        if kind == "role":
            account.iam.create_role(
                RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
            )
        else:
            getattr(account.iam, f"create_{kind}")(**{f"{kind.capitalize()}Name": name})
        admin = {"Effect": "Allow", "Action": "*", "Resource": "*"}
        read = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
        document = {"Version": "2012-10-17", "Statement": [read, admin] if mixed else [admin]}
        getattr(account.iam, f"put_{kind}_policy")(
            **{f"{kind.capitalize()}Name": name, "PolicyName": "shortcut", "PolicyDocument": json.dumps(document)}
        )
        return _step(
            StepAction.REWRITE_INLINE_POLICY,
            f"arn:aws:iam::{HOME_ACCOUNT}:{kind}/{name}",
            principal_type=kind,
            principal_name=name,
            policy_name="shortcut",
            document=document,
            statements=[{"index": 1 if mixed else 0, "sid": None, "statement": admin}],
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
            StepAction.RESTORE_DEFAULT_POLICY_VERSION,
            arn,
            policy_arn=arn,
            version_id="v2",
            delete_version=delete,
            previous_version="v1",  # what the rule plans when the event created v2 as the default
        )

    return setup


def _unsafe_policy_versions(account: Account) -> RemediationStep:
    """Five versions, none safe: a new default without the admin statement is written (the oldest goes for room)."""
    read = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    admin = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    document = {"Version": "2012-10-17", "Statement": [read, admin]}
    arn = account.iam.create_policy(PolicyName="app-mixed", PolicyDocument=json.dumps(document))["Policy"]["Arn"]
    for _ in range(4):
        account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True)
    return _step(
        StepAction.RESTORE_DEFAULT_POLICY_VERSION,
        arn,
        policy_arn=arn,
        version_id="v5",
        delete_version=False,
        statements=[{"index": 1, "sid": None, "statement": admin}],
    )


def _new_access_key(account: Account) -> RemediationStep:
    account.iam.create_user(UserName="svc-legacy")
    key = account.iam.create_access_key(UserName="svc-legacy")["AccessKey"]["AccessKeyId"]
    return _step(
        StepAction.DEACTIVATE_ACCESS_KEY,
        f"arn:aws:iam::{HOME_ACCOUNT}:user/svc-legacy",
        user_name="svc-legacy",
        access_key_id=key,
    )


def _new_user_credential(kind: str) -> Callable[[Account], RemediationStep]:
    """user-credential-created deactivates exactly the SSH key or signing certificate the event added."""

    def setup(account: Account) -> RemediationStep:
        from tests.functional.guardrail_cases import _SSH_BODY
        from tests.functional.test_user_credentials import CERTIFICATE

        user = f"svc-{kind}"
        account.iam.create_user(UserName=user)
        if kind == "ssh":
            added = account.iam.upload_ssh_public_key(UserName=user, SSHPublicKeyBody=_SSH_BODY)
            action, credential = "deactivate_ssh_public_key", added["SSHPublicKey"]["SSHPublicKeyId"]
        else:
            added = account.iam.upload_signing_certificate(UserName=user, CertificateBody=CERTIFICATE)
            action, credential = "deactivate_signing_certificate", added["Certificate"]["CertificateId"]
        return _step(
            StepAction(action), f"arn:aws:iam::{HOME_ACCOUNT}:user/{user}", user_name=user, credential_id=credential
        )

    return setup


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


def _weaker_admitted_trust(account: Account) -> RemediationStep:
    """A role whose trust was set to name a weaker role: the previous trust (EC2's) goes back."""
    ec2 = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    app = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{HOME_ACCOUNT}:role/app"}, "Action": "sts:AssumeRole"}
    now = {"Version": "2012-10-17", "Statement": [app]}
    account.iam.create_role(RoleName="ops-admin", AssumeRolePolicyDocument=json.dumps(now))
    return _step(
        StepAction.RESTORE_PREVIOUS_TRUST_POLICY,
        f"arn:aws:iam::{HOME_ACCOUNT}:role/ops-admin",
        role_name="ops-admin",
        policy=now,
        restore_to={"Version": "2012-10-17", "Statement": [ec2]},
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


def _planned(prepare: Callable[[Account], dict[str, Any]], rule: str) -> Callable[[Account], RemediationStep]:
    """The live state a contract case builds for a sample, and the step the judgement plans for ``rule``."""

    def setup(account: Account) -> RemediationStep:
        event = prepare(account)
        [finding] = [f for f in judge_event(event, Settings()).findings if f.rule_id == rule]
        return finding.plan[0]

    return setup


def _shared(kind: str) -> Callable[[Account], RemediationStep]:
    """A snapshot, image or database snapshot shared with everyone and a partner: the public share is removed."""

    def setup(account: Account) -> RemediationStep:
        ec2 = account.session.client("ec2", region_name=BUCKET_REGION)
        rds = account.session.client("rds", region_name=BUCKET_REGION)
        if kind == "snapshot":
            volume = ec2.create_volume(AvailabilityZone=f"{BUCKET_REGION}a", Size=8)["VolumeId"]
            identifier = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
            ec2.modify_snapshot_attribute(
                SnapshotId=identifier,
                Attribute="createVolumePermission",
                OperationType="add",
                GroupNames=["all"],
                UserIds=["444455556666"],
            )
            action, arn = StepAction.REMOVE_SNAPSHOT_SHARE, f"arn:aws:ec2:{BUCKET_REGION}::snapshot/{identifier}"
        elif kind == "image":
            identifier = ec2.register_image(Name="orders-api")["ImageId"]
            ec2.modify_image_attribute(
                ImageId=identifier, LaunchPermission={"Add": [{"Group": "all"}, {"UserId": "444455556666"}]}
            )
            action, arn = StepAction.REMOVE_IMAGE_SHARE, f"arn:aws:ec2:{BUCKET_REGION}::image/{identifier}"
        elif kind == "db-snapshot":
            identifier = "orders-db-final"
            rds.create_db_instance(
                DBInstanceIdentifier="orders-db",
                DBInstanceClass="db.t3.micro",
                Engine="postgres",
                MasterUsername="orders",
                MasterUserPassword="correct-Horse-battery-9",
                AllocatedStorage=20,
            )
            rds.create_db_snapshot(DBSnapshotIdentifier=identifier, DBInstanceIdentifier="orders-db")
            rds.modify_db_snapshot_attribute(
                DBSnapshotIdentifier=identifier, AttributeName="restore", ValuesToAdd=["all", "444455556666"]
            )
            action = StepAction.REMOVE_DB_SNAPSHOT_SHARE
            arn = f"arn:aws:rds:{BUCKET_REGION}:{HOME_ACCOUNT}:snapshot:{identifier}"
        else:
            identifier = "billing-aurora-final"
            rds.create_db_cluster(
                DBClusterIdentifier="billing-aurora",
                Engine="aurora-postgresql",
                MasterUsername="billing",
                MasterUserPassword="correct-Horse-battery-9",
            )
            rds.create_db_cluster_snapshot(DBClusterSnapshotIdentifier=identifier, DBClusterIdentifier="billing-aurora")
            rds.modify_db_cluster_snapshot_attribute(
                DBClusterSnapshotIdentifier=identifier, AttributeName="restore", ValuesToAdd=["all", "444455556666"]
            )
            action = StepAction.REMOVE_DB_CLUSTER_SNAPSHOT_SHARE
            arn = f"arn:aws:rds:{BUCKET_REGION}:{HOME_ACCOUNT}:cluster-snapshot:{identifier}"
        return _step(action, arn, resource_id=identifier, grantees=["all"])

    return setup


def _function_url_auth_none(account: Account) -> dict[str, Any]:
    """Function reports-url (not the sample's orders-api, which another scenario uses) with an open URL."""
    cases._function(account, "reports-url").create_function_url_config(FunctionName="reports-url", AuthType="NONE")
    event = load_event("lambda-function-url-auth-none.json")
    event["detail"]["requestParameters"]["functionName"] = "reports-url"
    return event


def _secret_only_public(account: Account) -> dict[str, Any]:
    """Secret prod/reports/token whose policy holds only the sample's public statement: it is deleted."""
    event = load_event("secret-policy-public.json")
    request = event["detail"]["requestParameters"]
    document = json.loads(request["resourcePolicy"])
    document["Statement"] = document["Statement"][1:]
    request["secretId"], request["resourcePolicy"] = "prod/reports/token", json.dumps(document)
    secrets = account.session.client("secretsmanager", region_name=RESOURCE_REGION)
    secrets.create_secret(Name="prod/reports/token", SecretString="s3cret")
    secrets.put_resource_policy(SecretId="prod/reports/token", ResourcePolicy=request["resourcePolicy"])
    return event


def _table_policy(*, keep: bool) -> Callable[[Account], RemediationStep]:
    """Table orders with a public statement, and its own service's when ``keep`` (else the policy is deleted)."""

    def setup(account: Account) -> RemediationStep:
        dynamodb = account.session.client("dynamodb", region_name=BUCKET_REGION)
        name = "orders" if keep else "orders-archive"
        arn = dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )["TableDescription"]["TableArn"]
        public = {
            "Sid": "PublicRead",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "dynamodb:GetItem",
            "Resource": arn,
        }
        own = {**public, "Sid": "Own", "Principal": {"AWS": f"arn:aws:iam::{HOME_ACCOUNT}:root"}}
        statements = [public, own] if keep else [public]
        dynamodb.put_resource_policy(
            ResourceArn=arn, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements})
        )
        return _step(
            StepAction.REMOVE_DYNAMODB_POLICY_STATEMENTS,
            arn,
            resource_arn=arn,
            statements=[{"index": 0, "sid": "PublicRead", "statement": public}],
        )

    return setup


def answer_delete_file_system_policy(efs: Any) -> None:
    """moto has no DeleteFileSystemPolicy: answer it (botocore's hooks, as a Stubber would) and drop the policy
    from moto's file system, so a later DescribeFileSystemPolicy says PolicyNotFound as EFS would."""
    from moto.efs.models import efs_backends

    def deleted(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        for backend in efs_backends.values():
            for regional in backend.values():
                # The request as serialised: DELETE /2015-02-01/file-systems/{FileSystemId}/policy
                file_system = regional.file_systems_by_id.get(params["url_path"].split("/")[3])
                if file_system is not None:
                    file_system.file_system_policy = None
        return AWSResponse("https://elasticfilesystem.amazonaws.com/", 200, HTTPHeaders(), None), {}

    efs.meta.events.register("before-call.efs.DeleteFileSystemPolicy", deleted)


def _file_system_policy(*, keep: bool) -> Callable[[Account], RemediationStep]:
    """A file system with a public statement, and its own role's when ``keep`` (else the policy is deleted)."""

    def setup(account: Account) -> RemediationStep:
        efs = account.session.client("efs", region_name=BUCKET_REGION)
        file_system = efs.create_file_system(CreationToken=f"shared-{keep}")["FileSystemId"]
        arn = f"arn:aws:elasticfilesystem:{BUCKET_REGION}:{HOME_ACCOUNT}:file-system/{file_system}"
        public = {
            "Sid": "AnyoneMount",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "elasticfilesystem:ClientMount",
        }
        own = {**public, "Sid": "Own", "Principal": {"AWS": f"arn:aws:iam::{HOME_ACCOUNT}:root"}}
        statements = [public, own] if keep else [public]
        efs.put_file_system_policy(
            FileSystemId=file_system, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements})
        )
        return _step(
            StepAction.REMOVE_EFS_POLICY_STATEMENTS,
            arn,
            file_system_id=file_system,
            statements=[{"index": 0, "sid": "AnyoneMount", "statement": public}],
        )

    return setup


def _access_point_policy(*, keep: bool) -> Callable[[Account], RemediationStep]:
    """An access point with a public statement, and its own account's when ``keep`` (else the policy is deleted)."""

    def setup(account: Account) -> RemediationStep:
        name = "finance-ap" if keep else "archive-ap"
        account.s3.create_bucket(Bucket=f"acme-{name}", CreateBucketConfiguration={"LocationConstraint": BUCKET_REGION})
        s3control = account.session.client("s3control", region_name=BUCKET_REGION)
        s3control.create_access_point(AccountId=HOME_ACCOUNT, Name=name, Bucket=f"acme-{name}")
        arn = f"arn:aws:s3:{BUCKET_REGION}:{HOME_ACCOUNT}:accesspoint/{name}"
        public = {
            "Sid": "PublicRead",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"{arn}/object/*",
        }
        own = {**public, "Sid": "Own", "Principal": {"AWS": f"arn:aws:iam::{HOME_ACCOUNT}:root"}}
        statements = [public, own] if keep else [public]
        s3control.put_access_point_policy(
            AccountId=HOME_ACCOUNT, Name=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements})
        )
        return _step(
            StepAction.REMOVE_ACCESS_POINT_POLICY_STATEMENTS,
            arn,
            access_point_arn=arn,
            statements=[{"index": 0, "sid": "PublicRead", "statement": public}],
        )

    return setup


def _only_public(sample: str, rule: str) -> Callable[[Account], RemediationStep]:
    """An MRAP or Object Lambda access point whose policy is only the sample's public statement: nothing remains."""

    def setup(account: Account) -> RemediationStep:
        mrap = sample.startswith("mrap")
        prepare = cases._mrap_with_sample_policy if mrap else cases._object_lambda_with_sample_policy
        event = prepare(sample)(account)
        request = event["detail"]["requestParameters"]
        holder = (
            request["PutMultiRegionAccessPointPolicyRequest"]["Details"]
            if mrap
            else request["PutAccessPointPolicyForObjectLambdaRequest"]
        )
        document = json.loads(holder["Policy"])
        holder["Policy"] = json.dumps({**document, "Statement": document["Statement"][1:]})
        if mrap:
            s3control = account.session.client("s3control", region_name=cases.MRAP_REGION)
            s3control.put_multi_region_access_point_policy(
                AccountId=HOME_ACCOUNT, Details={"Name": "orders-global", "Policy": holder["Policy"]}
            )
        else:
            s3control = account.session.client("s3control", region_name=BUCKET_REGION)
            s3control.put_access_point_policy_for_object_lambda(
                AccountId=HOME_ACCOUNT, Name="redacted-reports", Policy=holder["Policy"]
            )
        [finding] = [f for f in judge_event(event, Settings()).findings if f.rule_id == rule]
        return finding.plan[0]

    return setup


OTHER_CANONICAL_USER = "c3f1e2d4a5b6978812a3b4c5d6e7f80912a3b4c5d6e7f8091a2b3c4d5e6f7a8b"


def _canonical_grant(key: str | None) -> Callable[[Account], RemediationStep]:
    """A bucket (and an object when ``key``) whose ACL grants READ to another account's canonical user."""

    def setup(account: Account) -> RemediationStep:
        bucket = "acme-partner-drop" if key is None else "acme-partner-objects"
        account.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": BUCKET_REGION})
        account.s3.put_bucket_ownership_controls(
            Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
        )
        owner = account.s3.get_bucket_acl(Bucket=bucket)["Owner"]
        grants = [
            {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "FULL_CONTROL"},
            {"Grantee": {"Type": "CanonicalUser", "ID": OTHER_CANONICAL_USER}, "Permission": "READ"},
        ]
        parameters: dict[str, Any] = {"bucket": bucket, "canonical_ids": [OTHER_CANONICAL_USER]}
        if key is None:
            account.s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": owner, "Grants": grants})
            return _step(StepAction.REMOVE_CANONICAL_USER_ACL_GRANTS, f"arn:aws:s3:::{bucket}", **parameters)
        # moto keeps an object's ACL from the upload's grant headers (put_object_acl with a policy is ignored)
        account.s3.put_object(Bucket=bucket, Key=key, Body=b"drop", GrantRead=f'id="{OTHER_CANONICAL_USER}"')
        return _step(StepAction.REMOVE_CANONICAL_USER_ACL_GRANTS, f"arn:aws:s3:::{bucket}/{key}", **parameters, key=key)

    return setup


def _domain_policy(account: Account) -> RemediationStep:
    """Domain orders-search with a public statement and its own account's: the public one goes."""
    opensearch = account.session.client("opensearch", region_name=BUCKET_REGION)
    arn = f"arn:aws:es:{BUCKET_REGION}:{HOME_ACCOUNT}:domain/orders-search"
    public = {
        "Sid": "OpenRead",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "es:ESHttpGet",
        "Resource": f"{arn}/*",
    }
    own = {**public, "Sid": "Own", "Principal": {"AWS": f"arn:aws:iam::{HOME_ACCOUNT}:root"}}
    opensearch.create_domain(
        DomainName="orders-search", AccessPolicies=json.dumps({"Version": "2012-10-17", "Statement": [public, own]})
    )
    return _step(
        StepAction.REMOVE_OPENSEARCH_POLICY_STATEMENTS,
        arn,
        domain="orders-search",
        statements=[{"index": 0, "sid": "OpenRead", "statement": public}],
    )


def _vault_policy(*, keep: bool) -> Callable[[Account], RemediationStep]:
    """A vault with a public statement, and a deny statement when ``keep`` (else the policy is deleted).

    moto has no vault access policies: guardrail_cases emulates AWS Backup's three calls with session hooks.
    """

    def setup(account: Account) -> RemediationStep:
        from tests.functional.guardrail_cases import _emulate_vault_policies

        _emulate_vault_policies(account)
        name = "orders-vault" if keep else "archive-vault"
        public = {"Sid": "AnyoneCopies", "Effect": "Allow", "Principal": "*", "Action": "backup:CopyIntoBackupVault"}
        public["Resource"] = "*"
        deny = {"Sid": "NoDelete", "Effect": "Deny", "Principal": "*", "Action": "backup:DeleteRecoveryPoint"}
        deny["Resource"] = "*"
        statements = [public, deny] if keep else [public]
        account.session.client("backup", region_name=BUCKET_REGION).put_backup_vault_access_policy(
            BackupVaultName=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements})
        )
        return _step(
            StepAction.REMOVE_BACKUP_VAULT_POLICY_STATEMENTS,
            f"arn:aws:backup:{BUCKET_REGION}:{HOME_ACCOUNT}:backup-vault:{name}",
            backup_vault=name,
            statements=[{"index": 0, "sid": "AnyoneCopies", "statement": public}],
        )

    return setup


def _glacier_vault_only_offending(account: Account) -> RemediationStep:
    """A vault whose access policy is only a public statement: the remediation deletes the policy."""
    cases._emulate_glacier_policies(account)
    public = {"Sid": "AnyoneRetrieves", "Effect": "Allow", "Principal": "*", "Action": "glacier:InitiateJob"}
    public["Resource"] = f"arn:aws:glacier:{RESOURCE_REGION}:{HOME_ACCOUNT}:vaults/cold-archive"
    glacier = account.session.client("glacier", region_name=RESOURCE_REGION)
    glacier.create_vault(vaultName="cold-archive")
    glacier.set_vault_access_policy(
        vaultName="cold-archive", policy={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [public]})}
    )
    return _step(
        StepAction.REMOVE_GLACIER_VAULT_POLICY_STATEMENTS,
        public["Resource"],
        vault="cold-archive",
        statements=[{"index": 0, "sid": "AnyoneRetrieves", "statement": public}],
    )


def _log_destination_only_offending(account: Account) -> RemediationStep:
    """A destination whose policy is only an untrusted account's: it becomes the owner-only policy."""
    cases._log_destination_with_sample_policy("logs-destination-policy-organization.json")(account)
    vendor = {"Sid": "Vendor", "Effect": "Allow", "Principal": {"AWS": "999988887777"}}
    vendor |= {"Action": "logs:PutSubscriptionFilter", "Resource": "*"}
    logs = account.session.client("logs", region_name=RESOURCE_REGION)
    logs.put_destination_policy(
        destinationName="central-logs", accessPolicy=json.dumps({"Version": "2012-10-17", "Statement": [vendor]})
    )
    return _step(
        StepAction.REMOVE_LOGS_DESTINATION_POLICY_STATEMENTS,
        f"arn:aws:logs:{RESOURCE_REGION}:{HOME_ACCOUNT}:destination:central-logs",
        destination="central-logs",
        statements=[{"index": 0, "sid": "Vendor", "statement": vendor}],
    )


def _disabled_own_rule(account: Account) -> RemediationStep:
    events = account.session.client("events", region_name=REGION)
    events.put_rule(Name="iamwarden-forward-own-events", EventPattern=json.dumps({"source": ["aws.iam"]}))
    events.disable_rule(Name="iamwarden-forward-own-events")
    return _step(
        StepAction.ENABLE_OWN_RULE,
        f"arn:aws:events:{REGION}:{HOME_ACCOUNT}:rule/iamwarden-forward-own-events",
        rule_name="iamwarden-forward-own-events",
        event_bus_name="default",
    )


def _central_bus_statement(*, rewritten: bool) -> Callable[[Account], RemediationStep]:
    def setup(account: Account) -> RemediationStep:
        step = _removed_bus_statement(account)
        if rewritten:  # the statement of that id now admits one unknown account (undo puts it back)
            account.session.client("events", region_name=REGION).put_permission(
                EventBusName="iamwarden-central",
                Action="events:PutEvents",
                Principal="999988887777",
                StatementId="OrganizationAccountsPutEvents",
            )
        return step

    return setup


def _removed_bus_statement(account: Account) -> RemediationStep:
    events = account.session.client("events", region_name=REGION)
    if "iamwarden-central" not in {bus["Name"] for bus in events.list_event_buses()["EventBuses"]}:
        events.create_event_bus(Name="iamwarden-central")  # one account runs every scenario in turn
    own = Settings().own._replace(
        home_account=HOME_ACCOUNT, central_bus="iamwarden-central", organization_id="o-a1b2c3d4e5"
    )
    policy = declared_bus_policy(own, "aws", REGION)
    assert policy is not None
    [statement] = policy["Statement"]
    return _step(
        StepAction.RESTORE_CENTRAL_BUS_STATEMENT,
        f"arn:aws:events:{REGION}:{HOME_ACCOUNT}:event-bus/iamwarden-central",
        event_bus_name="iamwarden-central",
        statement=statement,
    )


def _central_bus_policy_with_a_deny(account: Account) -> RemediationStep:
    """The declared Allow kept and a Deny put beside it (review s8 section 2); undo puts the Deny back."""
    statement_step = _removed_bus_statement(account)
    declared_statement = statement_step.parameters["statement"]
    deny = {
        "Sid": "Maintenance",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "events:PutEvents",
        "Resource": declared_statement["Resource"],
    }
    account.session.client("events", region_name=REGION).put_permission(
        EventBusName="iamwarden-central",
        Policy=json.dumps({"Version": "2012-10-17", "Statement": [declared_statement, deny]}),
    )
    return _step(
        StepAction.RESTORE_CENTRAL_BUS_POLICY,
        statement_step.target,
        event_bus_name="iamwarden-central",
        policy={"Version": "2012-10-17", "Statement": [declared_statement]},
    )


def _central_bus_policy_all_removed(account: Account) -> RemediationStep:
    """Every statement removed: the declared policy put back, and undo removes it again (``RemovePermission``)."""
    statement_step = _removed_bus_statement(account)
    events = account.session.client("events", region_name=REGION)
    with contextlib.suppress(events.exceptions.ResourceNotFoundException):
        events.remove_permission(EventBusName="iamwarden-central", RemoveAllPermissions=True)
    return _step(
        StepAction.RESTORE_CENTRAL_BUS_POLICY,
        statement_step.target,
        event_bus_name="iamwarden-central",
        policy={"Version": "2012-10-17", "Statement": [statement_step.parameters["statement"]]},
    )


def _own_function_url(account: Account) -> RemediationStep:
    from tests.functional.test_tampering import create_function

    create_function(account, "iamwarden-enforcer")
    client = account.session.client("lambda", region_name=REGION)
    with contextlib.suppress(client.exceptions.ResourceConflictException):
        client.create_function_url_config(FunctionName="iamwarden-enforcer", AuthType="NONE")
    return _step(
        StepAction.DELETE_OWN_FUNCTION_URL,
        f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:iamwarden-enforcer",
        function_name="iamwarden-enforcer",
    )


def _alert_key(*, scheduled: bool) -> Callable[[Account], RemediationStep]:
    def setup(account: Account) -> RemediationStep:
        from tests.functional.test_tampering import create_alert_key

        arn = create_alert_key(account)
        kms = account.session.client("kms", region_name=REGION)
        kms.enable_key(KeyId=arn)  # as deployed (one account runs every scenario in turn), then taken away
        if scheduled:
            kms.schedule_key_deletion(KeyId=arn, PendingWindowInDays=7)
        else:
            kms.disable_key(KeyId=arn)
        return _step(StepAction.RESTORE_OWN_KEY, arn, key_id=arn)

    return setup


def _alert_key_policy(account: Account) -> RemediationStep:
    """The alert key's policy rewritten to keep the account's statement but drop SNS's use of the key."""
    from tests.functional.test_tampering import create_alert_key, declared_alert_key_policy

    arn = create_alert_key(account)
    changed = {"Version": "2012-10-17", "Statement": [declared_alert_key_policy()["Statement"][0]]}
    account.session.client("kms", region_name=REGION).put_key_policy(
        KeyId=arn, PolicyName="default", Policy=json.dumps(changed)
    )
    return _step(
        StepAction("restore_own_key_policy"),
        arn,
        key_id=arn,
        changed_to=changed,
        restore_to=declared_alert_key_policy(),
    )


def _fallback_topic_policy(account: Account) -> RemediationStep:
    """The fallback topic's policy rewritten to refuse every publish; its declared one is put back."""
    sns = account.session.client("sns", region_name=REGION)
    topic = sns.create_topic(Name="iamwarden-alerts-fallback")["TopicArn"]  # the template's (the fixture made it)
    declared = resolved_properties("AWS::SNS::TopicPolicy")["AlertFallbackTopicPolicy"]["PolicyDocument"]
    closed = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sns:Publish"}]}
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(closed))
    return _step(
        StepAction("restore_fallback_topic_attribute"),
        topic,
        topic_arn=topic,
        attribute="Policy",
        changed_to=closed,
        restore_to=declared,
    )


def _own_secret(change: str) -> Callable[[Account], RemediationStep]:
    """One of IAM Warden's Slack secrets (the template's, created by the fixture) changed by an intruder."""

    def setup(account: Account) -> RemediationStep:
        client = account.session.client("secretsmanager", region_name=REGION)
        # By full ARN, as the template's !Ref gives IAM Warden its secrets (the grant names them with the suffix).
        if change == "deleted":  # the bot secret: the other scenarios keep using the webhook's
            secret = client.describe_secret(SecretId="iamwarden/slack/bot")["ARN"]
            client.delete_secret(SecretId=secret, RecoveryWindowInDays=7)
            return _step(StepAction("restore_own_secret"), secret, secret_id=secret, recovery_window=7)
        secret = client.describe_secret(SecretId="iamwarden/slack/security")["ARN"]
        if change == "policy":
            deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*"}]}
            client.put_resource_policy(SecretId=secret, ResourcePolicy=json.dumps(deny))
            return _step(StepAction("remove_own_secret_policy"), secret, secret_id=secret)
        [good] = [v for v, stages in client.describe_secret(SecretId=secret)["VersionIdsToStages"].items() if stages]
        version = client.put_secret_value(SecretId=secret, SecretString="https://hooks.slack.com/services/X")
        return _step(
            StepAction("restore_own_secret_version"),
            secret,
            secret_id=secret,
            changed_to=version["VersionId"],
            restore_to=good,  # the version known good (judged: an operator's), which the change replaced
            source="current since IAM Warden's record of 2026-11-13T09:10:00.000+00:00",
        )

    return setup


def _filtered_alert_subscription(account: Account) -> RemediationStep:
    """A subscription of the alert topic given a filter policy that drops every alert (its snapshot had none)."""
    sns = account.session.client("sns", region_name=REGION)
    topic = f"arn:aws:sns:{REGION}:{HOME_ACCOUNT}:iamwarden-alerts"
    subscription = sns.subscribe(
        TopicArn=topic, Protocol="email", Endpoint="security@example.com", ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    drop = '{"severity":["none"]}'
    sns.set_subscription_attributes(SubscriptionArn=subscription, AttributeName="FilterPolicy", AttributeValue=drop)
    return _step(
        StepAction("restore_own_subscription_attribute"),
        subscription,
        subscription_arn=subscription,
        attribute="FilterPolicy",
        changed_to=drop,
        restore_to="{}",
        source="IAM Warden's snapshot",
    )


def _disabled_alarm_actions(account: Account) -> RemediationStep:
    from tests.functional.test_tampering import create_heartbeat_alarm

    create_heartbeat_alarm(account, actions_enabled=False)
    return _step(
        StepAction.ENABLE_OWN_ALARM_ACTIONS,
        f"arn:aws:cloudwatch:{REGION}:{HOME_ACCOUNT}:alarm:iamwarden-heartbeat-missing",
        alarm_names=["iamwarden-heartbeat-missing"],
    )


def _redefined_alarm(account: Account, *, deleted: bool = False) -> RemediationStep:
    """An own alarm's threshold raised so it never fires (or the alarm deleted): written back as template.yaml
    declares it; undo writes the changed definition back (or deletes the alarm again)."""
    from tests.functional.test_tampering import create_heartbeat_alarm

    cloudwatch = create_heartbeat_alarm(account)
    cloudwatch.delete_alarms(AlarmNames=["iamwarden-alert-delivery-failed"])
    if deleted:
        return _alarm_step()
    cloudwatch.put_metric_alarm(
        AlarmName="iamwarden-alert-delivery-failed",
        Namespace="AWS/SNS",
        MetricName="NumberOfNotificationsFailed",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1_000_000,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    return _alarm_step()


def _alarm_step() -> RemediationStep:
    own = Settings().own._replace(home_account=HOME_ACCOUNT, home_region=REGION)
    definition = declared_alarm(own, "iamwarden-alert-delivery-failed", "aws")
    assert definition is not None, "the template declares the alarm, filled in for the account and region"
    return _step(
        StepAction("restore_own_alarm"),
        f"arn:aws:cloudwatch:{REGION}:{HOME_ACCOUNT}:alarm:iamwarden-alert-delivery-failed",
        alarm_name="iamwarden-alert-delivery-failed",
        restore_to=definition,
    )


def _throttled_enforcer(declared: int | None, reserved: int | None = 0) -> Callable[[Account], RemediationStep]:
    def setup(account: Account) -> RemediationStep:
        from tests.functional.test_tampering import create_function

        client = create_function(account)
        if reserved is not None:
            client.put_function_concurrency(FunctionName="iamwarden-enforcer", ReservedConcurrentExecutions=reserved)
        return _step(
            StepAction.RESTORE_FUNCTION_CONCURRENCY,
            f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:iamwarden-enforcer",
            function_name="iamwarden-enforcer",
            declared=declared,
        )

    return setup


def _invoke_config_put_replaces(aws: AccountClients) -> None:
    """Lambda's put replaces a function's event invoke config; moto appends after the first, and its get keeps
    answering the first, so the undo's live read would see the change's config still there. The earlier config is
    dropped in moto's backend (no API call, so nothing is recorded) before each put."""
    from moto.awslambda.models import lambda_backends

    def replace(params: dict[str, Any], **_: Any) -> None:
        lambda_backends[HOME_ACCOUNT][REGION].get_function(params["FunctionName"]).event_invoke_config = []

    client = aws.client("lambda")
    client.meta.events.register(
        "provide-client-params.lambda.PutFunctionEventInvokeConfig", replace, unique_id="invoke-config-put-replaces"
    )


def _invoke_config_deleted_after_restore(aws: AccountClients) -> None:
    """As ``_invoke_config_put_replaces``, and the restored config is gone again before the undo (deleted in moto's
    backend after the restore's put, no API call recorded): the undo's live read finds none and reads the function's
    concurrency to tell "no config" from "no function" (``lambda:GetFunctionConcurrency``)."""
    from moto.awslambda.models import lambda_backends

    _invoke_config_put_replaces(aws)

    def drop(**_: Any) -> None:
        lambda_backends[HOME_ACCOUNT][REGION].get_function("iamwarden-enforcer").event_invoke_config = []

    aws.client("lambda").meta.events.register(
        "after-call.lambda.PutFunctionEventInvokeConfig", drop, unique_id="invoke-config-gone-after-restore"
    )


def _tampered_invoke_config(config: dict[str, Any] | None) -> Callable[[Account], RemediationStep]:
    """The enforcer's event invoke config changed (``config``) or deleted (None), put back as declared."""

    def setup(account: Account) -> RemediationStep:
        from iamwarden.guardrails.tampering import RestoreFunctionInvokeConfig, declared_invoke_config
        from tests.functional.test_tampering import create_function

        client = create_function(account)
        if config is not None:
            client.put_function_event_invoke_config(FunctionName="iamwarden-enforcer", **config)
        return _step(
            RestoreFunctionInvokeConfig.action,
            f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:iamwarden-enforcer",
            function_name="iamwarden-enforcer",
            declared=declared_invoke_config("iamwarden-enforcer", "aws", REGION, HOME_ACCOUNT),
        )

    return setup


def _removed_invoke_permission(account: Account) -> RemediationStep:
    """EventBridge's permission to invoke the enforcer for one of its rules removed (audit s7 gap 16)."""
    from iamwarden.guardrails.tampering import RestoreOwnInvokePermissions
    from tests.functional.test_tampering import create_function

    create_function(account)
    return _step(
        RestoreOwnInvokePermissions.action,
        f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:iamwarden-enforcer",
        function_name="iamwarden-enforcer",
        source_arns=[f"arn:aws:events:{REGION}:{HOME_ACCOUNT}:rule/iamwarden-central/iamwarden-iam-user-created"],
    )


def _changed_dead_letter_queue_policy(account: Account) -> RemediationStep:
    """The dead-letter queue's policy replaced by one that refuses EventBridge (audit s7 gap 16)."""
    from iamwarden.domain.declared_content import declared_queue_policy
    from iamwarden.guardrails.tampering import RestoreOwnQueuePolicy

    url = account.sqs.get_queue_url(QueueName="iamwarden-enforcer-dlq")["QueueUrl"]
    changed = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sqs:*"}]}
    account.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(changed)})
    return _step(
        RestoreOwnQueuePolicy.action,
        f"arn:aws:sqs:{REGION}:{HOME_ACCOUNT}:iamwarden-enforcer-dlq",
        queue_url=url,
        policy=declared_queue_policy("iamwarden-enforcer-dlq", "aws", REGION, HOME_ACCOUNT),
        changed_to=changed,
    )


def _changed_table_policy(deleted: bool) -> Callable[[Account], RemediationStep]:
    """The audit table's resource policy replaced or deleted (audit s7 gap 6): the template's put back."""

    def setup(account: Account) -> RemediationStep:
        from iamwarden.app.config import own_identity_from_environment
        from iamwarden.domain.declared_content import declared_table_policy
        from iamwarden.guardrails.tampering import RestoreOwnTablePolicy

        arn = f"arn:aws:dynamodb:{REGION}:{HOME_ACCOUNT}:table/iamwarden-audit"
        dynamodb = account.session.client("dynamodb", region_name=REGION)
        with contextlib.suppress(
            dynamodb.exceptions.PolicyNotFoundException, dynamodb.exceptions.ResourceNotFoundException
        ):
            dynamodb.delete_resource_policy(ResourceArn=arn)
        if not deleted:
            changed = {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "dynamodb:DeleteTable", "Resource": arn}],
            }
            dynamodb.put_resource_policy(ResourceArn=arn, Policy=json.dumps(changed))
        policy = declared_table_policy("iamwarden-audit", own_identity_from_environment(), "aws", REGION, HOME_ACCOUNT)
        return _step(RestoreOwnTablePolicy.action, arn, table_arn=arn, policy=policy)

    return setup


def _function_given_own_role(reserved: int | None) -> Callable[[Account], RemediationStep]:
    """A function of the account given the enforcer's role (audit 15 gap 1): stopped, undo gives back ``reserved``."""

    def setup(account: Account) -> RemediationStep:
        from tests.functional.test_tampering import create_function

        client = create_function(account, "ops-helper")
        if reserved is not None:
            client.put_function_concurrency(FunctionName="ops-helper", ReservedConcurrentExecutions=reserved)
        return _step(
            StepAction("stop_function"),
            f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:ops-helper",
            function_name="ops-helper",
            role=f"arn:aws:iam::{HOME_ACCOUNT}:role/iamwarden-enforcer-{REGION}",
        )

    return setup


def _own_role_name_taken(had_policy: bool, role: str | None = None) -> Callable[[Account], RemediationStep]:
    """A role created under an own role's name (audit 15 gap 4): a deny-all inline policy, undo takes it back."""

    def setup(account: Account) -> RemediationStep:
        nonlocal role
        role = role or ("iamwarden-pruner-member" if had_policy else "iamwarden-remediator")  # one account runs all
        trust = {"Version": "2012-10-17", "Statement": []}
        account.iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
        if had_policy:
            allow = {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
            }
            account.iam.put_role_policy(
                RoleName=role, PolicyName="iamwarden-quarantine", PolicyDocument=json.dumps(allow)
            )
            # A boundary of its own, which the quarantine's deny-all boundary replaces and undo puts back.
            account.iam.put_role_permissions_boundary(
                RoleName=role, PermissionsBoundary="arn:aws:iam::aws:policy/ReadOnlyAccess"
            )
        return _step(
            StepAction("quarantine_role"),
            f"arn:aws:iam::{HOME_ACCOUNT}:role/{role}",
            role_name=role,
            policy_name="iamwarden-quarantine",
        )

    return setup


def _inline_answer_lost(aws: AccountClients) -> None:
    """``PutRolePolicy`` of ``iamwarden-answer-lost`` applied by AWS, its answer lost (InternalFailure, once): the
    record says it was NOT put. Only that role's, once: the scenarios share their clients."""
    pending: list[bool] = []

    def note(params: Mapping[str, Any], **_: Any) -> None:
        pending[:] = [params.get("RoleName") == "iamwarden-answer-lost"]

    def lose(**_: Any) -> None:
        if pending == [True]:
            pending[:] = [False]
            error = {"Error": {"Code": "InternalFailure", "Message": "answer lost"}}
            raise ClientError(error, "PutRolePolicy")  # type: ignore[arg-type]

    aws.iam.meta.events.register("before-parameter-build.iam.PutRolePolicy", note)
    aws.iam.meta.events.register("after-call.iam.PutRolePolicy", lose)


def _changed_setting(existed: bool) -> Callable[[Account], RemediationStep]:
    def setup(account: Account) -> RemediationStep:
        name = "/iamwarden/rules/iam-user-created/mode" if existed else "/iamwarden/own_roles"
        version = account.ssm.put_parameter(Name=name, Value="off", Type="String", Overwrite=True)["Version"]
        return _step(
            StepAction.RESTORE_SETTING,
            f"arn:aws:ssm:{REGION}:{HOME_ACCOUNT}:parameter{name}",
            name=name,
            version=version,
            # the version before (the template's value) is known good; a new parameter had none: deleted
            restore_version=version - 1 if existed else None,
        )

    return setup


def _detached_own_grant(account: Account) -> RemediationStep:
    """The enforcer's role without one of its remediation grants (as a DetachRolePolicy left it), the policy holding
    its declared document: attached back (the inline grant allows exactly that policy onto exactly that role)."""
    role = "iamwarden-enforcer-us-east-1"
    with contextlib.suppress(account.iam.exceptions.EntityAlreadyExistsException):  # another scenario's role
        account.iam.create_role(
            RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
        )
    grant = f"arn:aws:iam::{HOME_ACCOUNT}:policy/iamwarden-enforcer-remediations-4-us-east-1"
    document = declared_grant(grant, account.config.own, HOME_ACCOUNT)
    assert document is not None
    with contextlib.suppress(account.iam.exceptions.EntityAlreadyExistsException):  # another scenario's policy
        account.iam.create_policy(PolicyName=grant.rsplit("/", 1)[1], PolicyDocument=json.dumps(document))
    with contextlib.suppress(account.iam.exceptions.NoSuchEntityException):  # detached, as the event left it
        account.iam.detach_role_policy(RoleName=role, PolicyArn=grant)
    return _step(
        StepAction.REATTACH_OWN_GRANT,
        f"arn:aws:iam::{HOME_ACCOUNT}:role/{role}",
        role_name=role,
        policy_arn=grant,
        document=document,
    )


#: The intruder's IAM client, handed from the scenario's setup to its answers (as ``_RENAMES``).
_INTRUDERS: list[Any] = []


def _own_grant_rewritten_while_attaching(account: Account) -> RemediationStep:
    """As ``_detached_own_grant``, and an intruder's new default version lands inside the attach (review
    reattach-s16 item 3): the read after the attach sees it and the step detaches the policy again."""
    step = _detached_own_grant(account)
    _INTRUDERS.append(account.iam)
    return step


def _intruder_writes_on_attach(aws: AccountClients) -> None:
    intruder = _INTRUDERS.pop()
    events: Any = aws.iam.meta.events

    def once(**kwargs: Any) -> None:
        events.unregister("before-call.iam.AttachRolePolicy", once)
        intruder.create_policy_version(
            PolicyArn=f"arn:aws:iam::{HOME_ACCOUNT}:policy/iamwarden-enforcer-remediations-4-us-east-1",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
            ),
            SetAsDefault=True,
        )

    events.register("before-call.iam.AttachRolePolicy", once)


def _bounded_own_role(account: Account) -> RemediationStep:
    role = "iamwarden-enforcer-us-east-1"
    account.iam.create_role(
        RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )
    account.iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=ADMIN)
    return _step(
        StepAction.REMOVE_OWN_ROLE_BOUNDARY, f"arn:aws:iam::{HOME_ACCOUNT}:role/{role}", role_name=role, boundary=ADMIN
    )


def _own_role_with_long_sessions(account: Account) -> RemediationStep:
    role = "iamwarden-session-us-east-1"  # one role per scenario: every scenario runs in one account
    account.iam.create_role(
        RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )
    account.iam.update_role(RoleName=role, MaxSessionDuration=43200)
    return _step(
        StepAction("restore_own_role_session_duration"),
        f"arn:aws:iam::{HOME_ACCOUNT}:role/{role}",
        role_name=role,
        duration=43200,
    )


def _own_role_sessions_to_revoke(earlier: bool) -> Callable[[Account], RemediationStep]:
    """IAM Warden's role whose trust was just put back: the sessions issued while it was changed are revoked (with
    ``earlier``, on top of an earlier window's revoke, which undo puts back)."""

    def setup(account: Account) -> RemediationStep:
        role = f"iamwarden-revoke-{int(earlier)}-us-east-1"  # one role per scenario: they share one account
        account.iam.create_role(
            RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
        )
        if earlier:
            window = {"DateGreaterThanEquals": {"aws:TokenIssueTime": "2026-12-01T00:00:00Z"}}
            deny = {"Sid": "IssuedFrom20261201", "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": window}
            document = {"Version": "2012-10-17", "Statement": [deny]}
            account.iam.put_role_policy(
                RoleName=role, PolicyName="iamwarden-revoked-sessions", PolicyDocument=json.dumps(document)
            )
        arn = f"arn:aws:iam::{HOME_ACCOUNT}:role/{role}"
        since = "2026-12-04T20:05:00.000+00:00"
        return _step(StepAction("revoke_own_role_sessions"), arn, role_name=role, since=since)

    return setup


def _rewritten_own_role(document: str) -> Callable[[Account], RemediationStep]:
    """IAM Warden's role with an intruder's trust policy or inline policy, to be put back."""

    def setup(account: Account) -> RemediationStep:
        role = f"iamwarden-{document}-us-east-1"  # one role per scenario: every scenario runs in one account
        intruder = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
        lambda_service = {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
        good = {"Version": "2012-10-17", "Statement": [lambda_service]}
        account.iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(good))
        parameters: dict[str, Any] = {"role_name": role, "document": document, "source": "IAM Warden's snapshot"}
        if document == "trust":
            outsider = {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
                "Action": "sts:AssumeRole",
            }
            account.iam.update_assume_role_policy(
                RoleName=role, PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [outsider]})
            )
            parameters["restore_to"] = good
        else:
            if document != "deleted":  # "deleted": the intruder deleted it, so undo deletes it again
                account.iam.put_role_policy(
                    RoleName=role, PolicyName="enforcer-runtime", PolicyDocument=json.dumps(intruder)
                )
            runtime = {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}],
            }
            # "added": a policy the snapshot does not hold, so it is deleted (undo puts the intruder's back).
            parameters.update(policy_name="enforcer-runtime", restore_to=None if document == "added" else runtime)
            parameters["document"] = "inline"
        return _step(StepAction("restore_own_role_document"), f"arn:aws:iam::{HOME_ACCOUNT}:role/{role}", **parameters)

    return setup


def _own_policy_default_changed(deployed_gone: bool) -> Callable[[Account], RemediationStep]:
    """IAM Warden's own managed policy with an intruder's default version; the deployed one kept or deleted."""

    def setup(account: Account) -> RemediationStep:
        name = f"iamwarden-enforcer-remediations-{2 if deployed_gone else 1}-us-east-1"
        good = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetRole", "Resource": "*"}]}
        nothing = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
        arn = account.iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(good))["Policy"]["Arn"]
        account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(nothing), SetAsDefault=True)
        if deployed_gone:
            account.iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
        parameters = {"policy_arn": arn, "changed_to": "v2", "restore_to": "v1", "document": good, "source": "deploy"}
        return _step(StepAction("restore_own_policy_version"), arn, **parameters)

    return setup


class Scenario(NamedTuple):
    setup: Callable[[Account], RemediationStep]
    region: str = REGION
    #: Registers canned answers for what moto lacks on the clients the action uses (issue 15's services).
    answers: Callable[[AccountClients], None] | None = None
    #: Undo with the record's lines (``undo_done``, as the executor does), not without them.
    with_record: bool = False
    #: The step refuses (``RemediationError``) after what it wrote, as it should: the run records it.
    refuses: bool = False


SCENARIOS: dict[str, Scenario] = {
    "quarantine-fresh-user": Scenario(_fresh_user),
    "quarantine-previously-quarantined-user": Scenario(_previously_quarantined_user),
    "quarantine-user-renamed-before-undo": Scenario(_user_renamed_before_undo, answers=_rename_after_tagging),
    "delete-user-with-everything": Scenario(_deletable_user),
    "detach-from-role": Scenario(_attached("role")),
    "detach-from-user": Scenario(_attached("user")),
    "detach-from-group": Scenario(_attached("group")),
    "bucket-keep-the-rest": Scenario(_bucket("acme-exports", keep=True), BUCKET_REGION),
    "bucket-only-offending": Scenario(_bucket("acme-invoices", keep=False), BUCKET_REGION),
    "delete-inline-from-role": Scenario(_inline("role", mixed=False)),
    "delete-inline-from-user": Scenario(_inline("user", mixed=False)),
    "delete-inline-from-group": Scenario(_inline("group", mixed=False)),
    "rewrite-inline-on-role": Scenario(_inline("role", mixed=True)),
    "rewrite-inline-on-user": Scenario(_inline("user", mixed=True)),
    "rewrite-inline-on-group": Scenario(_inline("group", mixed=True)),
    "restore-default-version": Scenario(_policy_version(delete=False)),
    "restore-default-version-and-delete": Scenario(_policy_version(delete=True)),
    "write-a-safe-default-version": Scenario(_unsafe_policy_versions),
    "deactivate-new-access-key": Scenario(_new_access_key),
    "deactivate-new-ssh-public-key": Scenario(_new_user_credential("ssh")),
    "deactivate-new-signing-certificate": Scenario(_new_user_credential("certificate")),
    "delete-login-profile": Scenario(_login_profile),
    "detach-customer-managed-from-role": Scenario(_customer_attached),
    "trust-remove-outsider": Scenario(_untrusted_trust),
    "trust-restore-previous": Scenario(_weaker_admitted_trust),
    "acl-bucket-public-read": Scenario(_public_acl(None), BUCKET_REGION),
    "acl-object-public-read": Scenario(_public_acl("2026/11/invoice-1042.pdf"), BUCKET_REGION),
    "public-access-block-bucket": Scenario(_public_access_block_off("bucket"), BUCKET_REGION),
    "public-access-block-account": Scenario(_public_access_block_off("account"), BUCKET_REGION),
    "queue-keep-the-rest": Scenario(
        _planned(cases._queue_with_sample_policy("sqs-policy-public.json"), "sqs-queue-policy-public"), RESOURCE_REGION
    ),
    "queue-only-offending": Scenario(
        _planned(
            cases._queue_with_sample_permission("sqs-add-permission-unknown-account.json", {"Statement": []}),
            "sqs-queue-policy-cross-account",
        ),
        RESOURCE_REGION,
    ),
    "topic-keep-the-rest": Scenario(
        _planned(cases._topic_with_sample_policy("sns-policy-public-subscribe.json"), "sns-topic-policy-public"),
        RESOURCE_REGION,
    ),
    "function-permission": Scenario(
        _planned(
            cases._function_with_sample_permission("lambda-permission-public-url.json"), "lambda-permission-public"
        ),
        RESOURCE_REGION,
    ),
    "layer-version-permission": Scenario(
        _planned(
            cases._layer_with_sample_permission("lambda-layer-permission-public.json"), "lambda-permission-public"
        ),
        RESOURCE_REGION,
    ),
    "function-url-auth": Scenario(_planned(_function_url_auth_none, "lambda-function-url-public"), RESOURCE_REGION),
    "key-policy-keep-the-rest": Scenario(
        _planned(cases._key_with_sample_policy("kms-put-key-policy-public.json"), "kms-key-policy-public"),
        RESOURCE_REGION,
    ),
    "secret-keep-the-rest": Scenario(
        _planned(cases._secret_with_sample_policy("secret-policy-public.json"), "secret-policy-public"),
        RESOURCE_REGION,
    ),
    "secret-only-offending": Scenario(_planned(_secret_only_public, "secret-policy-public"), RESOURCE_REGION),
    "repository-keep-the-rest": Scenario(
        _planned(cases._repository_with_sample_policy("ecr-policy-public.json"), "ecr-repository-policy-public"),
        RESOURCE_REGION,
    ),
    "repository-only-offending": Scenario(
        _planned(
            cases._repository_with_sample_policy("ecr-policy-organization.json"), "ecr-repository-policy-cross-account"
        ),
        RESOURCE_REGION,
    ),
    "event-bus-statement": Scenario(
        _planned(
            cases._bus_with_sample_permission("event-bus-permission-unknown-account.json"),
            "event-bus-policy-cross-account",
        ),
        RESOURCE_REGION,
    ),
    "key-grant-revoked": Scenario(
        _planned(cases._key_with_sample_grant("kms-create-grant-unknown-account.json"), "kms-grant-cross-account"),
        RESOURCE_REGION,
    ),
    "snapshot-public": Scenario(_shared("snapshot"), BUCKET_REGION),
    "dynamodb-keep-the-rest": Scenario(_table_policy(keep=True), BUCKET_REGION),
    "opensearch-keep-the-rest": Scenario(_domain_policy, BUCKET_REGION),
    "backup-vault-keep-the-rest": Scenario(_vault_policy(keep=True), BUCKET_REGION),
    "backup-vault-only-offending": Scenario(_vault_policy(keep=False), BUCKET_REGION),
    "acl-bucket-canonical-user": Scenario(_canonical_grant(None), BUCKET_REGION),
    "acl-object-canonical-user": Scenario(_canonical_grant("drop/2026-11-23.csv"), BUCKET_REGION),
    "access-point-keep-the-rest": Scenario(_access_point_policy(keep=True), BUCKET_REGION),
    "access-point-only-offending": Scenario(_access_point_policy(keep=False), BUCKET_REGION),
    "mrap-keep-the-rest": Scenario(
        _planned(
            cases._mrap_with_sample_policy("mrap-policy-public.json"), "s3-multi-region-access-point-policy-public"
        ),
        cases.MRAP_REGION,
    ),
    "mrap-only-offending": Scenario(
        _only_public("mrap-policy-public.json", "s3-multi-region-access-point-policy-public"), cases.MRAP_REGION
    ),
    "object-lambda-keep-the-rest": Scenario(
        _planned(
            cases._object_lambda_with_sample_policy("object-lambda-policy-unknown-account.json"),
            "s3-object-lambda-access-point-policy-cross-account",
        ),
        BUCKET_REGION,
    ),
    "object-lambda-only-offending": Scenario(
        _only_public("object-lambda-policy-public.json", "s3-object-lambda-access-point-policy-public"), BUCKET_REGION
    ),
    "efs-keep-the-rest": Scenario(_file_system_policy(keep=True), BUCKET_REGION),
    "efs-only-offending": Scenario(_file_system_policy(keep=False), BUCKET_REGION),
    "dynamodb-only-offending": Scenario(_table_policy(keep=False), BUCKET_REGION),
    "image-public": Scenario(_shared("image"), BUCKET_REGION),
    "db-snapshot-public": Scenario(_shared("db-snapshot"), BUCKET_REGION),
    "db-cluster-snapshot-public": Scenario(_shared("db-cluster-snapshot"), BUCKET_REGION),
    # issue 18: Glacier vaults and CloudWatch Logs destinations.
    "glacier-vault-keep-the-rest": Scenario(
        _planned(
            cases._glacier_vault_with_sample_policy("glacier-vault-policy-public.json"), "glacier-vault-policy-public"
        ),
        RESOURCE_REGION,
    ),
    "glacier-vault-only-offending": Scenario(_glacier_vault_only_offending, RESOURCE_REGION),
    "log-destination-keep-the-rest": Scenario(
        _planned(
            cases._log_destination_with_sample_policy("logs-destination-policy-public.json"),
            "logs-destination-policy-public",
        ),
        RESOURCE_REGION,
    ),
    "log-destination-only-offending": Scenario(_log_destination_only_offending, RESOURCE_REGION),
    "tampered-enable-own-rule": Scenario(_disabled_own_rule),
    "tampered-central-bus-statement-removed": Scenario(_central_bus_statement(rewritten=False)),
    "tampered-central-bus-statement-rewritten": Scenario(_central_bus_statement(rewritten=True)),
    "tampered-central-bus-policy-with-a-deny": Scenario(_central_bus_policy_with_a_deny),
    "tampered-central-bus-policy-all-removed": Scenario(_central_bus_policy_all_removed),
    "tampered-own-function-url": Scenario(_own_function_url),
    "tampered-alert-key-disabled": Scenario(_alert_key(scheduled=False)),
    "tampered-alert-key-scheduled-for-deletion": Scenario(_alert_key(scheduled=True)),
    "tampered-alarm-actions": Scenario(_disabled_alarm_actions),
    "tampered-alarm-definition": Scenario(_redefined_alarm),
    "tampered-alarm-deleted": Scenario(functools.partial(_redefined_alarm, deleted=True)),
    "tampered-alert-key-policy": Scenario(_alert_key_policy),
    "tampered-fallback-topic-policy": Scenario(_fallback_topic_policy),
    "tampered-slack-secret-value": Scenario(_own_secret("value")),
    "tampered-slack-secret-deleted": Scenario(_own_secret("deleted")),
    "tampered-slack-secret-policy": Scenario(_own_secret("policy")),
    "tampered-alert-subscription-filter-policy": Scenario(_filtered_alert_subscription),
    "tampered-boundary-on-own-role": Scenario(_bounded_own_role),
    "tampered-own-grant-detached": Scenario(_detached_own_grant),
    "tampered-session-duration-of-own-role": Scenario(_own_role_with_long_sessions),
    "revoke-own-role-sessions": Scenario(_own_role_sessions_to_revoke(earlier=False)),
    "revoke-own-role-sessions-again": Scenario(_own_role_sessions_to_revoke(earlier=True)),
    "tampered-own-role-trust-policy": Scenario(_rewritten_own_role("trust")),
    "tampered-own-role-inline-policy": Scenario(_rewritten_own_role("inline")),
    "tampered-own-role-added-inline-policy": Scenario(_rewritten_own_role("added")),
    "tampered-own-role-deleted-inline-policy": Scenario(_rewritten_own_role("deleted")),
    "tampered-own-policy-default-version": Scenario(_own_policy_default_changed(deployed_gone=False)),
    "tampered-own-policy-deployed-version-deleted": Scenario(_own_policy_default_changed(deployed_gone=True)),
    "tampered-invoke-permission-removed": Scenario(_removed_invoke_permission),
    "tampered-dead-letter-queue-policy-changed": Scenario(_changed_dead_letter_queue_policy),
    "tampered-table-policy-replaced": Scenario(_changed_table_policy(deleted=False)),
    "tampered-table-policy-deleted": Scenario(_changed_table_policy(deleted=True)),
    "tampered-concurrency-declared": Scenario(_throttled_enforcer(20)),
    "tampered-concurrency-unreserved": Scenario(_throttled_enforcer(None)),
    "tampered-concurrency-reservation-removed": Scenario(_throttled_enforcer(20, reserved=None)),
    "tampered-invoke-config-changed": Scenario(
        _tampered_invoke_config({"MaximumRetryAttempts": 0}), answers=_invoke_config_put_replaces
    ),
    "tampered-invoke-config-deleted": Scenario(_tampered_invoke_config(None), answers=_invoke_config_put_replaces),
    "tampered-invoke-config-gone-again-before-undo": Scenario(
        _tampered_invoke_config(None), answers=_invoke_config_deleted_after_restore
    ),
    "tampered-function-given-own-role-reserved": Scenario(_function_given_own_role(5)),
    "tampered-function-given-own-role-unreserved": Scenario(_function_given_own_role(None)),
    "tampered-own-role-name-taken": Scenario(_own_role_name_taken(had_policy=False)),
    "tampered-own-role-name-taken-with-policy": Scenario(_own_role_name_taken(had_policy=True)),
    # Review quarrole-s15 F4: the inline write's answer lost, undo reads the policy (GetRolePolicy) before lifting it.
    "tampered-own-role-inline-answer-lost": Scenario(
        _own_role_name_taken(had_policy=False, role="iamwarden-answer-lost"),
        answers=_inline_answer_lost,
        with_record=True,
    ),
    "tampered-setting-changed": Scenario(_changed_setting(existed=True)),
    "tampered-setting-created": Scenario(_changed_setting(existed=False)),
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
            response = queue.pop(0)
            error = response.get("Error")
            status = 400 if isinstance(error, dict) else 200  # an error answer: botocore raises it as AWS's
            return AWSResponse("https://aws.amazon.com/", status, HTTPHeaders(), None), response

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


def _archiving_filter(account: Account) -> RemediationStep:
    guardduty = _regional_client(account, "guardduty")
    detector = guardduty.create_detector(Enable=True)["DetectorId"]
    criteria = {"Criterion": {"severity": {"Gte": 0}}}
    guardduty.create_filter(DetectorId=detector, Name="quiet", Action="ARCHIVE", FindingCriteria=criteria)
    arn = f"arn:aws:guardduty:{BUCKET_REGION}:{HOME_ACCOUNT}:detector/{detector}/filter/quiet"
    return _step(StepAction("stop_guardduty_filter_archiving"), arn, detector_id=detector, filter_name="quiet")


def _stopped_recorder(account: Account) -> RemediationStep:
    _bucket_once(account, "acme-config")
    config = _regional_client(account, "config")
    role = f"arn:aws:iam::{HOME_ACCOUNT}:role/config-recorder"
    config.put_configuration_recorder(ConfigurationRecorder={"name": "default", "roleARN": role})
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "acme-config"})
    arn = f"arn:aws:config:{BUCKET_REGION}:{HOME_ACCOUNT}:configuration-recorder/default"
    return _step(StepAction.START_CONFIGURATION_RECORDER, arn, recorder_name="default")


GONE_DETECTOR = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
RECORDER_ROLE = f"arn:aws:iam::{HOME_ACCOUNT}:role/config-recorder"
#: A recorder as moto's DescribeConfigurationRecorders gives it back (its recording group filled in).
RECORDER = {
    "name": "default",
    "roleARN": RECORDER_ROLE,
    "recordingGroup": {
        "allSupported": True,
        "includeGlobalResourceTypes": True,
        "resourceTypes": [],
        "exclusionByResourceTypes": {"resourceTypes": []},
        "recordingStrategy": {"useOnly": "ALL_SUPPORTED_RESOURCE_TYPES"},
    },
}


def _deleted_detector(account: Account) -> RemediationStep:
    """No detector in the region (another scenario's in this account deleted too); IAM Warden's snapshot of the
    deleted one (tagged: TagResource is called)."""
    guardduty = _regional_client(account, "guardduty")
    for detector in guardduty.list_detectors()["DetectorIds"]:
        guardduty.delete_detector(DetectorId=detector)
    arn = f"arn:aws:guardduty:{BUCKET_REGION}:{HOME_ACCOUNT}:detector/{GONE_DETECTOR}"
    snapshot = {
        "detector_id": GONE_DETECTOR,
        "status": "ENABLED",
        "finding_publishing_frequency": "FIFTEEN_MINUTES",
        "features": [{"Name": "S3_DATA_EVENTS", "Status": "ENABLED"}],
        "data_sources": {},
        "tags": {"team": "security"},
    }
    return _step(
        RecreateGuardDutyDetector.action, arn, detector_id=GONE_DETECTOR, snapshot=snapshot, taken_at="2026-11-21"
    )


def _deleted_detector_suspended_since(account: Account) -> RemediationStep:
    """The detector deleted, then one created suspended (``CreateDetector`` with enable false: no route): read
    (``GetDetector``) and enabled (``UpdateDetector``); undo suspends it again."""
    step = _deleted_detector(account)
    _regional_client(account, "guardduty").create_detector(Enable=False)
    return step


def _answer_detector_tags(aws: AccountClients) -> None:
    """moto has no GuardDuty TagResource ("Not yet implemented"): answered as GuardDuty does (204, no body)."""

    def tagged(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://guardduty.amazonaws.com/", 204, HTTPHeaders(), None), {}

    aws.client("guardduty").meta.events.register("before-call.guardduty.TagResource", tagged)


def _recorder_snapshot() -> dict[str, Any]:
    return {"recorder": RECORDER, "recording": True, "delivery_channel": True}


def _deleted_recorder(account: Account) -> RemediationStep:
    """The recorder deleted, its delivery channel still there: put back and started."""
    _bucket_once(account, "acme-config")
    config = _regional_client(account, "config")
    config.put_configuration_recorder(ConfigurationRecorder=RECORDER)
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "acme-config"})
    config.delete_configuration_recorder(ConfigurationRecorderName="default")
    arn = f"arn:aws:config:{BUCKET_REGION}:{HOME_ACCOUNT}:configuration-recorder/default"
    return _step(
        StepAction("restore_configuration_recorder"),
        arn,
        recorder_name="default",
        snapshot=_recorder_snapshot(),
        taken_at="2026-11-21",
    )


def _recorder_back_stopped(account: Account) -> RemediationStep:
    """The recorder put back by someone with the snapshot's settings, not started: only started."""
    step = _deleted_recorder(account)
    _regional_client(account, "config").put_configuration_recorder(ConfigurationRecorder=RECORDER)
    return step


def _disabled_hub(account: Account) -> RemediationStep:
    arn = f"arn:aws:securityhub:{BUCKET_REGION}:{HOME_ACCOUNT}:hub/default"
    return _step(StepAction.ENABLE_SECURITY_HUB, arn, region=BUCKET_REGION)


def _disabled_hub_v2(account: Account) -> RemediationStep:
    del account
    arn = f"arn:aws:securityhub:{BUCKET_REGION}:{HOME_ACCOUNT}:hub/default"
    return _step(StepAction("enable_security_hub_v2"), arn, region=BUCKET_REGION)


def _hub_v2_answers(aws: AccountClients) -> None:
    """moto has no Security Hub V2: off when read for capture (ResourceNotFoundException), on when read for undo."""
    client = aws.client("securityhub")
    reads = [404, 200]

    def describe(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if not reads:
            return None
        status = reads.pop(0)
        answer: dict[str, Any] = {"HubV2Arn": "arn:aws:securityhub:::hubv2/x", "ResponseMetadata": {}}
        if status != 200:
            answer = {"Error": {"Code": "ResourceNotFoundException", "Message": "off"}, "ResponseMetadata": {}}
        return AWSResponse("https://aws.amazon.com/", status, HTTPHeaders(), None), answer

    client.meta.events.register("before-call.securityhub.DescribeSecurityHubV2", describe)
    _answering(
        client, {"EnableSecurityHubV2": [{"HubV2Arn": "arn:aws:securityhub:::hubv2/x"}], "DisableSecurityHubV2": [{}]}
    )


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


def _prune_exempt_tag(account: Account) -> RemediationStep:
    """prune-exemption-granted: the exempt tag a non-operator set on role app-backend, beside a tag it keeps."""
    role = account.iam.create_role(
        RoleName="app-backend", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )["Role"]
    account.iam.tag_role(
        RoleName="app-backend",
        Tags=[{"Key": "iamwarden:prune-exempt-until", "Value": "2027-06-30"}, {"Key": "team", "Value": "payments"}],
    )
    return _step(
        StepAction.REMOVE_ROLE_TAG,
        f"arn:aws:iam::{HOME_ACCOUNT}:role/app-backend",
        role_name="app-backend",
        key="iamwarden:prune-exempt-until",
        value="2027-06-30",
        role_id=role["RoleId"],  # a CreateRole's remediation acts on the role it made (review s13 R5)
    )


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


def _changed_thumbprints(account: Account) -> RemediationStep:
    """An unknown OIDC provider whose thumbprints changed from the snapshot's."""
    arn = account.iam.create_open_id_connect_provider(
        Url="https://oidc.restored.example.net", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["1" * 40]
    )["OpenIDConnectProviderArn"]
    return _step(
        StepAction.RESTORE_OIDC_THUMBPRINTS, arn, provider_arn=arn, thumbprints=["a" * 40], replaces=["1" * 40]
    )


def _changed_saml_metadata(account: Account) -> RemediationStep:
    """An unknown SAML provider whose metadata changed from the snapshot's."""
    previous = load_event("create-saml-provider-unknown.json")["detail"]["requestParameters"]["sAMLMetadataDocument"]
    new = load_event("update-saml-provider-okta.json")["detail"]["requestParameters"]["sAMLMetadataDocument"]
    arn = account.iam.create_saml_provider(Name="okta-restored", SAMLMetadataDocument=new)["SAMLProviderArn"]
    return _step(StepAction.RESTORE_SAML_METADATA, arn, provider_arn=arn, metadata=previous, replaces=new)


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


DETECTOR = "12abc34d567e8fa901bc2d34e56789f0"
MEMBER = "444455556666"
AUTOMATION_RULE = f"arn:aws:securityhub:{BUCKET_REGION}:{HOME_ACCOUNT}:automation-rule/a1b2c3d4-5678-90ab-cdef-EXAMPLE1"
AUTOMATION_RULE_V2 = f"arn:aws:securityhub:{BUCKET_REGION}:{HOME_ACCOUNT}:automation-rulev2/a1b2c3d4-EXAMPLE2"
EVENT_DATA_STORE = (
    f"arn:aws:cloudtrail:{BUCKET_REGION}:{HOME_ACCOUNT}:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE"
)


def _monitoring_stopped(account: Account) -> RemediationStep:
    del account
    detector = f"arn:aws:guardduty:{BUCKET_REGION}:{HOME_ACCOUNT}:detector/{DETECTOR}"
    return _step(StepAction("start_guardduty_monitoring"), detector, detector_id=DETECTOR, account_ids=[MEMBER])


def _monitoring_answers(aws: AccountClients) -> None:
    """moto has no GuardDuty members: not monitored when read for capture, monitored when read for undo."""

    def members(status: str) -> dict[str, Any]:
        return {"Members": [{"AccountId": MEMBER, "RelationshipStatus": status}], "UnprocessedAccounts": []}

    _answering(
        aws.client("guardduty"),
        {
            "GetMembers": [members("Disabled"), members("Enabled")],
            "StartMonitoringMembers": [{"UnprocessedAccounts": []}],
            "StopMonitoringMembers": [{"UnprocessedAccounts": []}],
        },
    )


def _suppressing_rule(account: Account) -> RemediationStep:
    del account
    return _step(StepAction("disable_automation_rule"), AUTOMATION_RULE, rule_arn=AUTOMATION_RULE)


def _automation_rule_answers(aws: AccountClients) -> None:
    """moto has no automation rules: enabled when read for capture, disabled when read for undo."""

    def rule(status: str) -> dict[str, Any]:
        return {"Rules": [{"RuleArn": AUTOMATION_RULE, "RuleStatus": status}], "UnprocessedAutomationRules": []}

    updated = {"ProcessedAutomationRules": [AUTOMATION_RULE], "UnprocessedAutomationRules": []}
    _answering(
        aws.client("securityhub"),
        {"BatchGetAutomationRules": [rule("ENABLED"), rule("DISABLED")], "BatchUpdateAutomationRules": [updated] * 2},
    )


def _suppressing_rule_v2(account: Account) -> RemediationStep:
    del account
    return _step(StepAction("disable_automation_rule_v2"), AUTOMATION_RULE_V2, rule_arn=AUTOMATION_RULE_V2)


def _automation_rule_v2_answers(aws: AccountClients) -> None:
    """moto has no V2 automation rules: enabled when read for capture, disabled when read for undo."""
    request = load_event("securityhub-automation-rule-v2-suppress-guardduty.json")["detail"]["requestParameters"]
    hides = {"Criteria": api_spelling(request["criteria"]), "Actions": api_spelling(request["actions"])}
    rules = [{"RuleArn": AUTOMATION_RULE_V2, "RuleStatus": status, **hides} for status in ("ENABLED", "DISABLED")]
    _answering(aws.client("securityhub"), {"GetAutomationRuleV2": rules, "UpdateAutomationRuleV2": [{}, {}]})


GD_DETECTOR = "12abc34d567e8fa901bc2d34eEXAMPLE"
GD_DESTINATION = "a4b9c8d7e6f5a4b3c2d1e0f9aEXAMPLE"
GD_RECORDED = {
    "destination_arn": "arn:aws:s3:::acme-guardduty-findings",
    "kms_key_arn": f"arn:aws:kms:{BUCKET_REGION}:{HOME_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
}
GD_MOVED = {"destination_arn": "arn:aws:s3:::findings-drop-4417", "kms_key_arn": GD_RECORDED["kms_key_arn"]}
GD_DESTINATION_ARN = (
    f"arn:aws:guardduty:{BUCKET_REGION}:{HOME_ACCOUNT}:detector/{GD_DETECTOR}/publishingdestination/{GD_DESTINATION}"
)


def _described_destination(place: dict[str, str], destination: str = GD_DESTINATION) -> dict[str, Any]:
    properties = {"DestinationArn": place["destination_arn"], "KmsKeyArn": place["kms_key_arn"]}
    return {
        "DestinationId": destination,
        "DestinationType": "S3",
        "Status": "PUBLISHING",
        "PublishingFailureStartTimestamp": 0,
        "DestinationProperties": properties,
    }


def _deleted_destination(account: Account) -> RemediationStep:
    """The recorded export bucket exists in this account: the step checks its owner (HeadBucket) before the create."""
    with contextlib.suppress(account.s3.exceptions.BucketAlreadyOwnedByYou):  # two scenarios share it
        account.s3.create_bucket(
            Bucket=GD_RECORDED["destination_arn"].rsplit(":", 1)[1],
            CreateBucketConfiguration={"LocationConstraint": BUCKET_REGION},
        )
    return _step(
        StepAction("recreate_guardduty_publishing_destination"),
        GD_DESTINATION_ARN,
        detector_id=GD_DETECTOR,
        destination_type="S3",
        **GD_RECORDED,
    )


def _deleted_destination_answers(aws: AccountClients) -> None:
    """moto has no publishing destinations: another one (to another bucket) when captured, it and the re-created one
    when undone."""
    other = "0ther0destination0EXAMPLE"

    def listed(*destinations: str) -> dict[str, Any]:
        return {
            "Destinations": [
                {"DestinationId": d, "DestinationType": "S3", "Status": "PUBLISHING"} for d in destinations
            ]
        }

    _answering(
        aws.client("guardduty"),
        {
            "ListPublishingDestinations": [listed(other), listed(other, GD_DESTINATION)],
            "CreatePublishingDestination": [{"DestinationId": GD_DESTINATION}],
            "DescribePublishingDestination": [
                _described_destination(GD_MOVED, other),
                _described_destination(GD_MOVED, other),
                _described_destination(GD_RECORDED),
            ],
            "DeletePublishingDestination": [{}],
        },
    )


def _detector_gone_answers(aws: AccountClients) -> None:
    """GuardDuty refuses every publishing-destination call with BadRequestException; moto lists no detector."""
    refused = {"Error": {"Code": "BadRequestException", "Message": "The request is rejected."}}
    _answering(aws.client("guardduty"), {"ListPublishingDestinations": [refused]})


def _destination_gone_answers(aws: AccountClients) -> None:
    """The destination deleted meanwhile: refused, and the detector lists it no more."""
    refused = {"Error": {"Code": "BadRequestException", "Message": "The request is rejected."}}
    _answering(
        aws.client("guardduty"),
        {
            "DescribePublishingDestination": [refused],
            "ListDetectors": [{"DetectorIds": [GD_DETECTOR]}],
            "ListPublishingDestinations": [{"Destinations": []}],
        },
    )


def _moved_destination(account: Account) -> RemediationStep:
    """The recorded export bucket exists in this account: the step checks its owner (HeadBucket) before the update."""
    with contextlib.suppress(account.s3.exceptions.BucketAlreadyOwnedByYou):  # two scenarios share it
        account.s3.create_bucket(
            Bucket=GD_RECORDED["destination_arn"].rsplit(":", 1)[1],
            CreateBucketConfiguration={"LocationConstraint": BUCKET_REGION},
        )
    return _step(
        StepAction("restore_guardduty_publishing_destination"),
        GD_DESTINATION_ARN,
        detector_id=GD_DETECTOR,
        destination_id=GD_DESTINATION,
        restore=GD_RECORDED,
        changed_to=GD_MOVED,
    )


def _moved_destination_answers(aws: AccountClients) -> None:
    """moto has no publishing destinations: moved when captured, put back when undone."""
    _answering(
        aws.client("guardduty"),
        {
            "DescribePublishingDestination": [_described_destination(GD_MOVED), _described_destination(GD_RECORDED)],
            "UpdatePublishingDestination": [{}, {}],
        },
    )


def _stopped_store(account: Account) -> RemediationStep:
    del account
    return _step(StepAction("start_event_data_store_ingestion"), EVENT_DATA_STORE, store_arn=EVENT_DATA_STORE)


def _store_answers(aws: AccountClients) -> None:
    """moto has no CloudTrail Lake: ingestion stopped when read for capture, started when read for undo."""
    stores = [{"EventDataStoreArn": EVENT_DATA_STORE, "Status": s} for s in ("STOPPED_INGESTION", "ENABLED")]
    _answering(
        aws.client("cloudtrail"),
        {"GetEventDataStore": stores, "StartEventDataStoreIngestion": [{}], "StopEventDataStoreIngestion": [{}]},
    )


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


IDENTITY_STORE = "d-9067a1b2c3"


def _identity_center_group_member(account: Account) -> RemediationStep:
    """A user in a group of moto's identity store: identity-center-group-admin deletes exactly that membership."""
    store = account.session.client("identitystore", region_name=BUCKET_REGION)
    group = store.create_group(IdentityStoreId=IDENTITY_STORE, DisplayName="platform-admins")["GroupId"]
    user = store.create_user(
        IdentityStoreId=IDENTITY_STORE,
        UserName="mallory",
        DisplayName="Mallory",
        Name={"GivenName": "Mallory", "FamilyName": "Example"},
    )["UserId"]
    membership = store.create_group_membership(IdentityStoreId=IDENTITY_STORE, GroupId=group, MemberId={"UserId": user})
    return _step(
        StepAction.DELETE_GROUP_MEMBERSHIP,
        f"arn:aws:identitystore:::membership/{membership['MembershipId']}",
        identity_store_id=IDENTITY_STORE,
        membership_id=membership["MembershipId"],
        group_id=group,
        user_id=user,
    )


def _sso(action: StepAction) -> Scenario:
    return Scenario(_permission_set(action), BUCKET_REGION, _permission_set_answers(action))


SCENARIOS.update(
    {
        "start-trail-logging": Scenario(_stopped_trail, BUCKET_REGION),
        "restore-narrowed-trail": Scenario(_restore_trail(deleted=False), BUCKET_REGION),
        "restore-deleted-trail": Scenario(_restore_trail(deleted=True), BUCKET_REGION),
        "enable-guardduty-detector": Scenario(_suspended_detector, BUCKET_REGION),
        "stop-guardduty-filter-archiving": Scenario(_archiving_filter, BUCKET_REGION),
        "start-config-recorder": Scenario(_stopped_recorder, BUCKET_REGION),
        "recreate-guardduty-detector": Scenario(
            _deleted_detector, BUCKET_REGION, answers=_answer_detector_tags, with_record=True
        ),
        "recreate-guardduty-detector-suspended-since": Scenario(_deleted_detector_suspended_since, BUCKET_REGION),
        "restore-configuration-recorder": Scenario(_deleted_recorder, BUCKET_REGION),
        "restore-configuration-recorder-back-stopped": Scenario(_recorder_back_stopped, BUCKET_REGION),
        "enable-security-hub": Scenario(_disabled_hub, BUCKET_REGION),
        "enable-security-hub-v2": Scenario(_disabled_hub_v2, BUCKET_REGION, _hub_v2_answers),
        "remove-user-from-admin-group": Scenario(_admin_group_member),
        "remove-admin-role-from-instance-profile": Scenario(
            _planned(cases._role_entered_profile(launchable=True), "instance-profile-escalation")
        ),
        "put-role-boundary-back": Scenario(_boundary_removed("role", replaced=False)),
        "replace-role-admin-boundary": Scenario(_boundary_removed("role", replaced=True)),
        "put-user-boundary-back": Scenario(
            _boundary_removed("user", replaced=False), REGION, _user_boundary_answers(replaced=False)
        ),
        "replace-user-admin-boundary": Scenario(
            _boundary_removed("user", replaced=True), REGION, _user_boundary_answers(replaced=True)
        ),
        "delete-unknown-oidc-provider": Scenario(_unknown_oidc),
        "remove-prune-exempt-tag": Scenario(_prune_exempt_tag),
        "remove-oidc-client-id": Scenario(_added_client_id, REGION, _client_id_answers),
        "delete-unknown-saml-provider": Scenario(_unknown_saml),
        "restore-oidc-thumbprints": Scenario(_changed_thumbprints),
        "restore-saml-metadata": Scenario(_changed_saml_metadata),
        "disable-trust-anchor": Scenario(
            _roles_anywhere("trust-anchor"), BUCKET_REGION, _roles_anywhere_answers("trust-anchor")
        ),
        "disable-roles-anywhere-profile": Scenario(
            _roles_anywhere("profile"), BUCKET_REGION, _roles_anywhere_answers("profile")
        ),
        "detach-permission-set-policy": _sso(StepAction.DETACH_PERMISSION_SET_POLICY),
        "delete-permission-set-inline-policy": _sso(StepAction.DELETE_PERMISSION_SET_INLINE_POLICY),
        "delete-account-assignment": _sso(StepAction.DELETE_ACCOUNT_ASSIGNMENT),
        "delete-identity-center-group-membership": Scenario(_identity_center_group_member, BUCKET_REGION),
        "start-guardduty-monitoring": Scenario(_monitoring_stopped, BUCKET_REGION, _monitoring_answers),
        "disable-automation-rule": Scenario(_suppressing_rule, BUCKET_REGION, _automation_rule_answers),
        "disable-automation-rule-v2": Scenario(_suppressing_rule_v2, BUCKET_REGION, _automation_rule_v2_answers),
        "start-event-data-store-ingestion": Scenario(_stopped_store, BUCKET_REGION, _store_answers),
        "recreate-guardduty-publishing-destination": Scenario(
            _deleted_destination, BUCKET_REGION, _deleted_destination_answers
        ),
        "restore-guardduty-publishing-destination": Scenario(
            _moved_destination, BUCKET_REGION, _moved_destination_answers
        ),
    }
)


def answer_service_specific_credentials(iam: Any) -> None:
    """moto lacks service-specific credentials: answer List with one credential (Active until an Update sets it
    otherwise: the quarantine deactivates it, its undo reactivates it), Update and Delete with success."""
    statuses = {"ACCAEXAMPLE123EXAMPLE": "Active"}

    def answered() -> AWSResponse:
        return AWSResponse("https://iam.amazonaws.com/", 200, HTTPHeaders(), None)

    def listed(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return answered(), {
            "ServiceSpecificCredentials": [
                {"ServiceSpecificCredentialId": credential, "ServiceName": "codecommit.amazonaws.com", "Status": status}
                for credential, status in statuses.items()
            ]
        }

    def updated(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        body = params["body"]  # the query protocol's serialised request
        statuses[body["ServiceSpecificCredentialId"]] = body["Status"]
        return answered(), {}

    def deleted(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return answered(), {}

    iam.meta.events.register("before-call.iam.ListServiceSpecificCredentials", listed)
    iam.meta.events.register("before-call.iam.UpdateServiceSpecificCredential", updated)
    iam.meta.events.register("before-call.iam.DeleteServiceSpecificCredential", deleted)


def answer_lookup_events(cloudtrail: Any) -> None:
    """moto has no CloudTrail ``LookupEvents``: answered here (botocore's hooks, as a Stubber would) with one
    ``AssumeRole`` of the quarantined user, so a quarantine's look-up of its earlier sessions is a real call."""

    def looked_up(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        body = params["body"]  # the JSON protocol's serialised request
        user = json.loads(body)["LookupAttributes"][0]["AttributeValue"]
        record = {
            "eventSource": "sts.amazonaws.com",
            "eventName": "AssumeRole",
            "eventTime": "2026-11-21T08:00:00Z",
            "userIdentity": {"type": "IAMUser", "userName": user},
            "requestParameters": {"roleArn": f"arn:aws:iam::{HOME_ACCOUNT}:role/deploy", "roleSessionName": user},
            "responseElements": {"credentials": {"expiration": "2026-11-21T20:00:00Z"}},
        }
        event = {"EventName": "AssumeRole", "CloudTrailEvent": json.dumps(record)}
        return AWSResponse("https://cloudtrail.amazonaws.com/", 200, HTTPHeaders(), None), {"Events": [event]}

    cloudtrail.meta.events.register("before-call.cloudtrail.LookupEvents", looked_up)


#: Actions moto cannot run, and the test that checks their calls against their declarations instead.
NOT_IN_MOTO = {
    StepAction.DELETE_ROOT_ACCESS_KEY: "tests/functional/test_root_access_key.py (sts:AssumeRoot through Stubber)",
    StepAction("remove_own_topic_data_protection"): "tests/functional/test_tampering.py (SNS data protection: Stubber)",
    StepAction("deactivate_service_specific_credential"): (
        "tests/functional/test_user_credentials.py (service-specific credentials: Stubber)"
    ),
}


class Run(NamedTuple):
    step: RemediationStep
    done: list[str]
    calls: list[ApiCall]
    requests: list[Request]
    undo_calls: list[ApiCall]
    restored: list[str]


class _RecordedClients(AccountClients):
    """The step's own remediation record as the executor writes it before any undo (its plan and ``done``): a
    re-created publishing destination's undo reads the id it made from there (review-orgs F2)."""

    def __init__(
        self, clients: ClientFactory, account: str, region: str, step: RemediationStep, done: list[str]
    ) -> None:
        super().__init__(clients, account, region)
        self._step, self._done = step, done

    def history(self, resource_arn: str) -> list[AuditRecord]:
        if resource_arn != self._step.target:
            return []
        return [
            AuditRecord(
                "rem-f-1234",
                "remediation",
                "remediated",
                resource_arn,
                "e-1",
                "2026-11-21T09:15:00.000+00:00",
                "guardduty-disabled",
                HOME_ACCOUNT,
                self.region,
                {},
                plan=(self._step.to_dict(),),
                done=tuple(self._done),
            )
        ]


def _run(account: Account, clients: ClientFactory, requests: Requests, scenario: Scenario) -> Run:
    step = scenario.setup(account)
    action = ACTIONS[step.action]
    done: list[str] = []
    aws = (
        _RecordedClients(clients, HOME_ACCOUNT, scenario.region, step, done)
        if step.action in (RecreatePublishingDestination.action, RecreateGuardDutyDetector.action)
        else AccountClients(clients, HOME_ACCOUNT, scenario.region)
    )
    answer_service_specific_credentials(aws.iam)
    answer_delete_file_system_policy(aws.client("efs"))
    for region in (scenario.region, "us-east-1"):
        answer_lookup_events(aws.client_in("cloudtrail", region, timeouts=LOOKUP_CLIENT))
    cases._emulate_object_lambda_policies(account, aws.s3control)  # moto has no Object Lambda
    if scenario.answers is not None:
        scenario.answers(aws)
    requests.take()
    with clients.call_log.recording() as calls:
        before = action.capture(aws, step)
        try:
            action.apply(StepRun(aws, "f-1234", "2026-11-21T09:15:00.000+00:00"), step, before, done)
        except RemediationError:
            if not scenario.refuses:
                raise
    made = requests.take()
    undo_calls: list[ApiCall] = []
    restored: list[str] = []
    if action.undoable:
        with clients.call_log.recording() as undo_calls:
            undo_done = getattr(action, "undo_done", None)
            if scenario.with_record and undo_done is not None:
                restored = undo_done(aws, step, before, done)
            else:
                restored = action.undo(aws, step, before)
    return Run(step, done, calls, made, undo_calls, restored)


#: Steps whose refusal is "already gone" only once a re-read confirms it: they change nothing, and show the re-read's
#: permission is declared, allowed and called.
CONFIRMED_GONE: dict[str, Scenario] = {
    "recreate-guardduty-publishing-destination-detector-gone": Scenario(
        _deleted_destination, BUCKET_REGION, _detector_gone_answers
    ),
    "restore-guardduty-publishing-destination-gone": Scenario(
        _moved_destination, BUCKET_REGION, _destination_gone_answers
    ),
}


#: Steps that refuse after a write of their own, undoing it: what they call is declared, allowed and used.
REFUSED_AFTER_WRITING: dict[str, Scenario] = {
    "tampered-own-grant-rewritten-while-attaching": Scenario(
        _own_grant_rewritten_while_attaching, answers=_intruder_writes_on_attach, with_record=True, refuses=True
    ),
}


def test_a_re_attach_that_finds_another_version_once_attached_detaches_it_with_declared_calls(
    account: Account, clients: ClientFactory, requests: Requests
) -> None:
    run = _run(account, clients, requests, REFUSED_AFTER_WRITING["tampered-own-grant-rewritten-while-attaching"])
    assert run.done == []
    assert run.restored == []
    called = {call.iam_action for call in run.calls}
    assert {"iam:AttachRolePolicy", "iam:DetachRolePolicy"} <= called <= set(run.step.action.permissions)
    assert_role_allows([r for r in run.requests if r.action != "iam:CreatePolicyVersion"], "enforcer-remediations")


@pytest.mark.parametrize("name", list(CONFIRMED_GONE))
def test_a_refusal_confirmed_gone_changes_nothing_with_declared_calls(
    name: str, account: Account, clients: ClientFactory, requests: Requests
) -> None:
    run = _run(account, clients, requests, CONFIRMED_GONE[name])
    assert run.done == []
    called = {call.iam_action for call in run.calls}
    assert called <= set(run.step.action.permissions)
    assert {request.action for request in run.requests} == called
    assert_role_allows(run.requests, "enforcer-remediations")


#: IAM actions authorised with an API call though no call of their own: ``iam:PassRole`` of the role a call passes.
IMPLIED = {"config:PutConfigurationRecorder": ("iam:PassRole",)}


def _called(calls: list[ApiCall]) -> set[str]:
    """The IAM actions ``calls`` were authorised as: their own and the ones they imply (``IMPLIED``)."""
    own = {call.iam_action for call in calls}
    return own | {implied for action in own for implied in IMPLIED.get(action, ())}


def _check(name: str, run: Run) -> None:
    action = ACTIONS[run.step.action]
    assert run.done, f"{name} changed nothing, so it tests no write"
    called = _called(run.calls)
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
    runs.update({name: _run(account, clients, requests, scenario) for name, scenario in CONFIRMED_GONE.items()})
    runs.update({name: _run(account, clients, requests, scenario) for name, scenario in REFUSED_AFTER_WRITING.items()})
    for step_action, action in ACTIONS.items():
        if step_action in NOT_IN_MOTO:
            continue
        mine = [run for run in runs.values() if run.step.action is step_action]
        assert mine, f"no scenario runs {step_action}"
        called = _called([call for run in mine for call in run.calls])
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


def test_the_network_owner_lookup_calls_only_what_the_role_allows(
    account: Account, recorded_enforcer: EnforcerService, requests: Requests
) -> None:
    """aws:SourceVpce and aws:SourceVpc conditions make the enforcer ask EC2 (read-only) in the bucket's Region."""
    account.set("rules/s3-bucket-policy-cross-account/mode", "remediate")
    ec2 = account.session.client("ec2", region_name=BUCKET_REGION)
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    endpoint = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{BUCKET_REGION}.s3")["VpcEndpoint"]
    events: list[dict[str, Any]] = []
    for key, network in (("aws:SourceVpce", endpoint["VpcEndpointId"]), ("aws:SourceVpc", vpc)):
        event = load_event("bucket-policy-vpce-own-account.json")
        event["detail"]["eventID"] = f"00000000-0000-4000-8000-{len(events):012d}"
        event["detail"]["requestParameters"]["bucketPolicy"]["Statement"][0]["Condition"] = {
            "StringEquals": {key: network}
        }
        events.append(event)
    requests.take()

    verdicts = [recorded_enforcer.handle(event)["verdict"] for event in events]

    assert verdicts == ["compliant", "compliant"]
    made = [r for r in requests.take() if r.action.startswith("ec2:")]
    assert [r.action for r in made] == ["ec2:DescribeVpcEndpoints", "ec2:DescribeVpcs"]
    assert {r.region for r in made} == {BUCKET_REGION}
    assert_role_allows(made, "enforcer-runtime")


def test_the_origin_access_identity_lookup_calls_only_what_the_role_allows(
    account: Account, recorded_enforcer: EnforcerService, requests: Requests
) -> None:
    """A bucket policy's CanonicalUser principal makes the enforcer list CloudFront's origin access identities
    (stubbed: moto has none) in the bucket's account, read-only."""
    account.set("rules/s3-bucket-policy-cross-account/mode", "remediate")
    event = load_event("bucket-policy-cloudfront-oai-canonical-user.json")
    canonical = event["detail"]["requestParameters"]["bucketPolicy"]["Statement"][0]["Principal"]["CanonicalUser"]
    listing = {"Marker": "", "MaxItems": 100, "IsTruncated": False, "Quantity": 1}
    listing["Items"] = [{"Id": "E3RHU1WBNHA9QZ", "S3CanonicalUserId": canonical, "Comment": ""}]
    cloudfront = recorded_enforcer.executor.clients.client("cloudfront", HOME_ACCOUNT, "us-east-1")
    requests.take()

    with Stubber(cloudfront) as stubber:
        stubber.add_response(
            "list_cloud_front_origin_access_identities", {"CloudFrontOriginAccessIdentityList": listing}, {}
        )
        verdict = recorded_enforcer.handle(event)["verdict"]

    assert verdict == "compliant"
    made = [r for r in requests.take() if r.action.startswith("cloudfront:")]
    assert [r.action for r in made] == ["cloudfront:ListCloudFrontOriginAccessIdentities"]
    assert_role_allows(made, "enforcer-runtime")


def test_everything_the_enforcer_calls_is_allowed_by_its_role(
    account: Account, recorded_enforcer: EnforcerService, requests: Requests
) -> None:
    """Settings, idempotency, audit and remediation calls of whole events, each checked against its policy."""
    for rule in ("iam-user-created", "managed-policy-attached", "s3-bucket-policy-public"):
        account.set(f"rules/{rule}/mode", "remediate")
    _fresh_user(account)
    _attached("role")(account)
    # The heartbeat read app-role before the event's attach (its record is how the enforcer knows the attach added it).
    account.iam.detach_role_policy(RoleName="app-role", PolicyArn=ADMIN)
    heartbeat_read_attachments(account, "2026-11-01T00:00:00Z")
    account.iam.attach_role_policy(RoleName="app-role", PolicyArn=ADMIN)
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
    # cloudtrail: the user quarantine's look-up of the role sessions the user assumed before (LookupEvents).
    assert {r.action.split(":")[0] for r in remediation} == {"iam", "s3", "cloudtrail"}
    assert {r.action for r in remediation if r.action.startswith("cloudtrail:")} == {"cloudtrail:LookupEvents"}
    assert {r.action for r in runtime} >= {"ssm:GetParametersByPath", "dynamodb:PutItem", "dynamodb:UpdateItem"}
    assert_role_allows(runtime, "enforcer-runtime")
    assert_role_allows(remediation, "enforcer-remediations")


def test_the_new_rules_call_only_what_the_role_allows(
    account: Account, recorded_enforcer: EnforcerService, requests: Requests
) -> None:
    """Trust policies (which read the audit table's history), ACLs and Block Public Access, as whole events."""
    for rule in ("trust-policy-untrusted", "s3-acl-public", "s3-public-access-block-disabled"):
        account.set(f"rules/{rule}/mode", "remediate")
    account.set("rules/s3-public-access-block-disabled/all_four", "always")  # no earlier record of the bucket's block
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


@pytest.mark.parametrize(
    ("organization", "account", "org_of_account", "expected"),
    [
        ("o-a1b2c3d4e5", "444455556666", "o-a1b2c3d4e5", True),
        ("o-a1b2c3d4e5", "999988887777", "o-zzzzzzzzzz", False),
        ("o-a1b2c3d4e5", "999988887777", None, False),
        ("", HOME_ACCOUNT, None, True),
        ("", "444455556666", None, False),
    ],
)
def test_member_roles_are_assumed_only_inside_the_organisation_or_this_account(
    organization: str, account: str, org_of_account: str | None, expected: bool
) -> None:
    statements = _role_statements("enforcer-runtime", OrganizationId=organization)
    member_role = f"arn:aws:iam::{account}:role/iamwarden-remediator"
    context = {"aws:ResourceAccount": account, **({"aws:ResourceOrgID": org_of_account} if org_of_account else {})}
    assert allowed(statements, "sts:AssumeRole", member_role, context) is expected


# --- the Slack interaction endpoint (issue 17) -------------------------------------------------------------


def test_the_slack_interaction_endpoint_calls_only_what_its_role_allows(
    account: Account, recorded_enforcer: EnforcerService, requests: Requests
) -> None:
    """A click's whole path: the signing secret, the settings, the replay record, the audit read and write, the
    bot token (approver groups) and the enforcer's asynchronous invocation, against ``slack-interactions``."""
    from iamwarden.alerts.interactions import ACTION_ACKNOWLEDGE, ACTION_UNDO
    from iamwarden.app.slack_interactions import build_interaction_endpoint
    from tests.functional.test_slack_interactions import (
        APPROVER,
        BOT_TOKEN,
        GROUP_MEMBER,
        SIGNING,
        FakeSlack,
        button,
        signed_event,
    )

    account.set("rules/iam-user-created/mode", "remediate")
    account.set("slack/approvers", f"{APPROVER},SAPPROVERS")
    secrets = account.session.client("secretsmanager")
    secrets.put_secret_value(SecretId="iamwarden/slack/signing", SecretString=SIGNING)
    secrets.put_secret_value(SecretId="iamwarden/slack/bot", SecretString=BOT_TOKEN)
    _fresh_user(account)
    [finding] = recorded_enforcer.handle(load_event("create-user-backdoor-cli.json"))["findings"]
    invoked: list[dict[str, Any]] = []

    def invoke(**kwargs: Any) -> tuple[AWSResponse, dict[str, Any]]:
        invoked.append(kwargs["params"])
        return AWSResponse("https://lambda", 202, HTTPHeaders(), None), {"StatusCode": 202}

    account.session.events.register("before-call.lambda.Invoke", invoke)  # type: ignore[arg-type]  # a before-call hook answers instead of AWS
    slack = FakeSlack()
    try:
        endpoint = build_interaction_endpoint(
            account.config,
            ClientFactory(HOME_ACCOUNT, account.config.member_role_name, session=account.session),
            {
                "IAMWARDEN_SLACK_SIGNING_SECRET": _SECRET_ARNS["SlackSigningSecret"],
                "IAMWARDEN_SLACK_BOT_SECRET": _SECRET_ARNS["SlackBotTokenSecret"],
                "IAMWARDEN_SLACK_API_URL": slack.base + "/api/",
            },
        )
        requests.take()
        for payload in (
            button(ACTION_UNDO, GROUP_MEMBER, str(finding["remediation_id"]), slack),
            button(ACTION_ACKNOWLEDGE, "USTRANGER", "rem-unknown", slack),
        ):
            assert endpoint.handle(signed_event(payload))["statusCode"] == 200
    finally:
        slack.close()

    assert len(invoked) == 1
    made = requests.take()
    assert {r.action for r in made} == {
        "secretsmanager:GetSecretValue",
        "ssm:GetParametersByPath",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "lambda:InvokeFunction",
    }
    assert_role_allows(made, "slack-interactions", "SlackInteractionsRole")


def test_everything_the_exception_watch_calls_is_allowed_by_its_role(
    account: Account, requests: Requests, notifier: RecordingNotifier
) -> None:
    """Settings, the exceptions table (read the approved, mark one reminded or expired), the audit, and the
    current state it judges again: a bucket policy and a role's identity policies."""
    clients = ClientFactory(HOME_ACCOUNT, account.config.member_role_name, session=account.session)
    watch = build_exception_watch(account.config, clients, notifier=notifier)
    account.set("rules/iamwarden-tampered/operators", "arn:aws:iam::111122223333:role/SecOps")
    start = datetime.datetime(2026, 11, 19, tzinfo=datetime.UTC)
    watch.desk.clock = lambda: start
    _bucket("acme-invoices", keep=False)(account)
    _attached("role")(account)
    for scope in (
        ExceptionScope("s3-bucket-policy-public", resource_pattern="arn:aws:s3:::acme-invoices"),
        ExceptionScope("managed-policy-attached", resource_pattern=f"arn:aws:iam::{HOME_ACCOUNT}:role/app-role"),
        ExceptionScope("privilege-escalation", resource_pattern=f"arn:aws:iam::{HOME_ACCOUNT}:role/app-role"),
    ):
        requested = watch.desk.request(scope, "launch", "arn:aws:iam::111122223333:user/a", 2)
        watch.desk.approve(requested.exception_id, "arn:aws:sts::111122223333:assumed-role/SecOps/b")
    requests.take()

    watch.desk.clock = lambda: start + datetime.timedelta(days=1, hours=1)
    assert len(watch.run().reminded) == 3
    watch.desk.clock = lambda: start + datetime.timedelta(days=2)
    assert len(watch.run().expired) == 3

    made = requests.take()
    assert {r.action for r in made} >= {
        "ssm:GetParametersByPath",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "s3:GetBucketPolicy",
        "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies",
    }
    assert_role_allows(made, "exception-watch", role_id="ExceptionWatchRole")


def test_the_heartbeats_alert_path_check_calls_only_what_its_role_allows(account: Account, requests: Requests) -> None:
    """The alert key's policy, the topic's data protection and the central bus, read against ``heartbeat``."""
    from iamwarden.app.heartbeat import AlertPathCheck, HeartbeatConfig
    from tests.functional.test_attacker import _emulate_topic_data_protection
    from tests.functional.test_tampering import ALERT_KEY_ARN, create_alert_key, declared_alert_key_policy

    _emulate_topic_data_protection(account)
    create_alert_key(account)
    kms = account.session.client("kms", region_name=REGION)
    kms.put_key_policy(KeyId=ALERT_KEY_ARN, PolicyName="default", Policy=json.dumps(declared_alert_key_policy()))
    events = account.session.client("events", region_name=REGION)
    bus = events.create_event_bus(Name="iamwarden-central")["EventBusArn"]
    roles = ",".join(
        f"{kind}=arn:aws:iam::{HOME_ACCOUNT}:role/iamwarden-{kind}-{REGION}" for kind in ("enforcer", "pruner")
    )
    config = HeartbeatConfig.from_environment(
        {
            "IAMWARDEN_ENFORCER_ARN": f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:iamwarden-enforcer",
            "IAMWARDEN_CENTRAL_BUS_ARN": bus,
            "IAMWARDEN_ENFORCER_ROLE_NAME": f"iamwarden-enforcer-{REGION}",
            "IAMWARDEN_ALERT_TOPIC_ARN": f"arn:aws:sns:{REGION}:{HOME_ACCOUNT}:iamwarden-alerts",
            "IAMWARDEN_ALERT_KEY_ARN": ALERT_KEY_ARN,
            "IAMWARDEN_OWN_ROLE_ARNS": roles,
        }
    )
    requests.take()

    problems = AlertPathCheck(config, kms, account.session.client("sns", region_name=REGION), events).problems()

    assert problems == []
    made = requests.take()
    assert {request.action for request in made} == {
        "kms:GetKeyPolicy",
        "sns:GetDataProtectionPolicy",
        "events:DescribeEventBus",
    }
    assert_role_allows(made, "heartbeat", "HeartbeatRole")


def test_the_heartbeats_fallback_topic_check_and_alert_call_only_what_its_role_allows(
    account: Account, requests: Requests
) -> None:
    """The fallback topic read (attributes, subscriptions) and the alert published to both topics, against
    ``heartbeat``: the alert path is broken (the alert topic has no subscriber), so the alert goes to both."""
    from iamwarden.app.heartbeat import Heartbeat, HeartbeatConfig

    sns = account.session.client("sns", region_name=REGION)
    topic = sns.create_topic(Name="iamwarden-alerts")["TopicArn"]
    fallback = sns.create_topic(Name="iamwarden-alerts-fallback")["TopicArn"]
    config = HeartbeatConfig(
        rules=(),
        enforcer_arn=f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:iamwarden-enforcer",
        central_bus_arn=f"arn:aws:events:{REGION}:{HOME_ACCOUNT}:event-bus/iamwarden-central",
        enforcer_role_name=f"iamwarden-enforcer-{REGION}",
        topic_arn=topic,
        stack_name="iamwarden",
        fallback_topic_arn=fallback,
    )
    heartbeat = Heartbeat(config, None, None, None, sns)
    requests.take()

    problems = heartbeat.fallback_topic_problems() + heartbeat._subscription_problems()
    heartbeat.alert_path_broken = problems[-1:]
    heartbeat.alert_problems(problems)

    assert any("has no confirmed subscription" in p for p in problems)
    made = requests.take()
    assert {request.action for request in made} == {
        "sns:GetTopicAttributes",
        "sns:ListSubscriptionsByTopic",
        "sns:Publish",
    }
    assert {request.params["TopicArn"] for request in made if request.action == "sns:Publish"} == {topic, fallback}
    assert_role_allows(made, "heartbeat", "HeartbeatRole")


def test_the_enforcer_may_untag_a_role_only_of_the_prune_exempt_tag() -> None:
    """UntagRole is granted for prune-exemption-granted's one key (any case), not for a tag a policy may rest on."""
    statements = _role_statements("enforcer-remediations")
    role = f"arn:aws:iam::{HOME_ACCOUNT}:role/app-backend"
    for key, allows in (
        ("iamwarden:prune-exempt-until", True),
        ("IAMWarden:Prune-Exempt-Until", True),
        ("team", False),
    ):
        assert allowed(statements, "iam:UntagRole", role, {"aws:TagKeys": [key]}) is allows, key
    # ForAllValues: a request naming the exempt tag and another is refused as a whole (as IAM refuses it).
    both = {"aws:TagKeys": ["iamwarden:prune-exempt-until", "team"]}
    assert allowed(statements, "iam:UntagRole", role, both) is False
