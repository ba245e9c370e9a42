"""``s3-access-point-policy-public`` and ``-cross-account``: S3 access point policies on the resource-policy path.

An access point is a second door into a bucket, with a policy of its own. ``PutAccessPointPolicy`` is an
S3 Control call, recorded by CloudTrail with ``eventSource`` ``s3.amazonaws.com``. S3 Control sends the
policy in an XML body, ``<PutAccessPointPolicyRequest><Policy>…</Policy></PutAccessPointPolicyRequest>``
(S3 API reference, PutAccessPointPolicy), the access point's name in the URI and the account in the
``x-amz-account-id`` header and the host (``ACCOUNT.s3-control.REGION.amazonaws.com``)::

    {"PutAccessPointPolicyRequest": {"xmlns": "…", "Policy": "<policy JSON>"}, "name": "finance-ap",
     "x-amz-account-id": "111122223333", "Host": "111122223333.s3-control.eu-west-1.amazonaws.com"}

What is checked and what is not (issue 18): no published CloudTrail record of ``PutAccessPointPolicy`` (nor
of any other access point call) was found in the AWS documentation or the public detection repositories
searched (panther-analysis, cloud-custodian, stratus-red-team, Sigma, Datadog, Elastic). The one real S3
Control record found, ``PutAccountPublicAccessBlock`` (airbnb/streamalert issue 1016, 2019), shows the
pattern this reader relies on: the XML body under its root element with an ``xmlns`` key, and the host
(``"host": ["000000000000.s3-control.us-east-1.amazonaws.com"]``, a list, lower case, in that record).
So the reader takes each piece from wherever such a record may carry it: the policy from the body or a
top-level ``policy``; the name from ``name`` or else the ``AWS::S3::AccessPoint`` ARN in the record's
``resources``; the account from ``x-amz-account-id``, else the host, else the record's account. A record
that carries no policy is not judged, never guessed.

The rules judge the policy with the bucket rules' analysis (``resource_policy``); the resource is named by
its ARN, which carries the account S3 Control needs. Multi-Region and Object Lambda access points have
their own modules (``multi_region_access_point_policy``, ``object_lambda_access_point_policy``), which
read their records with the helpers here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from iamwarden.domain.catalog import RuleSpec
from iamwarden.domain.documents import PolicyKind
from iamwarden.domain.events import CloudTrailChange, json_type_name
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.remediation import AccountClients
from iamwarden.guardrails.resource_policy import PolicyResource, RemovePolicyStatements, ResourcePolicyRule

S3_ACCESS_POINT_POLICY_PUBLIC = RuleSpec(
    id="s3-access-point-policy-public",
    title="S3 access point policy open to the public",
    event_source="s3.amazonaws.com",
    event_names=frozenset({"PutAccessPointPolicy"}),
    risk=(
        "An access point policy that lets in everyone opens the bucket behind it to anyone, whatever the "
        "bucket policy says."
    ),
    alert_risk=(
        "Anyone can use what this access point policy grants, so strangers can reach the data in the bucket "
        "behind it through this access point."
    ),
    resource_types=frozenset({"AWS::S3::AccessPoint"}),
)

S3_ACCESS_POINT_POLICY_CROSS_ACCOUNT = RuleSpec(
    id="s3-access-point-policy-cross-account",
    title="S3 access point policy shared with an untrusted account",
    event_source="s3.amazonaws.com",
    event_names=frozenset({"PutAccessPointPolicy"}),
    risk=(
        "An access point policy that lets in accounts outside the organisation hands the bucket's data to "
        "people this organisation does not control and cannot audit."
    ),
    alert_risk=(
        "People in accounts outside this organisation can use what this access point policy grants, and we can "
        "neither see nor control who they are or what they do with the data."
    ),
    resource_types=frozenset({"AWS::S3::AccessPoint"}),
)

#: The request parameter the rule adds, naming the access point by its ARN (the event names it by name).
ARN_PARAMETER = "accessPointArn"
_DOCUMENT_PARAMETER = "policy"
_BODY = "PutAccessPointPolicyRequest"

ACCESS_POINT = PolicyResource(
    noun="S3 access point",
    name_parameter=ARN_PARAMETER,
    document_parameter=_DOCUMENT_PARAMETER,
    kind=PolicyKind.BUCKET,  # the same 20 KB limit as a bucket policy
    arn=lambda _partition, _region, _account, arn: arn,
    step_parameter="access_point_arn",
    resource_type="AWS::S3::AccessPoint",
    service_wildcard="s3:*",
    verbs=(
        ("s3:GetObject", "read objects"),
        ("s3:ListBucket", "list objects"),
        ("s3:PutObject", "write objects"),
        ("s3:DeleteObject", "delete objects"),
        ("s3:PutAccessPointPolicy", "change the access point's permissions"),
    ),
)


def access_point_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:s3:{region}:{account}:accesspoint/{name}"


def access_point_account_and_name(arn: str) -> tuple[str, str]:
    """``arn:aws:s3:eu-west-1:111122223333:accesspoint/finance-ap`` -> (111122223333, finance-ap).

    The same for Object Lambda access points (``arn:aws:s3-object-lambda:...:accesspoint/NAME``).
    """
    fields = arn.split(":", 5)
    return fields[4], fields[5].removeprefix("accesspoint/")


class AccessPointPolicyRule(ResourcePolicyRule):
    """Reads the access point's policy and name out of the S3 Control record, then judges it as any resource policy."""

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        request = change.request_parameters
        name = s3control_name(context, "AWS::S3::AccessPoint")
        arn = access_point_arn(context.partition, change.region, s3control_account(change), name)
        policy = s3control_body_field(request, _BODY, "Policy", _DOCUMENT_PARAMETER)
        if policy is None:
            evaluation = Evaluation(resource_arn=arn)
            evaluation.unjudged.append(
                f"the record of PutAccessPointPolicy on {arn} carries no policy; IAM Warden judges only a policy it has"
            )
            return evaluation
        flat = {**request, ARN_PARAMETER: arn, _DOCUMENT_PARAMETER: policy}
        return super().evaluate(context._replace(change=change._replace(request_parameters=flat)))


def s3control_body(request: Mapping[str, Any], element: str) -> Mapping[str, Any] | None:
    """The XML body of an S3 Control record, as CloudTrail records it under its root ``element`` (or None)."""
    body = request.get(element)
    if body is None:
        return None
    if not isinstance(body, Mapping):
        raise InvalidEventError(f"detail.requestParameters.{element} must be an object, got {json_type_name(body)}")
    return body


def s3control_body_field(request: Mapping[str, Any], element: str, field: str, top_level: str) -> Any:
    """``field`` of the body under ``element``; without a body, the top-level ``top_level`` or ``field``."""
    body = s3control_body(request, element)
    if body is not None:
        return body.get(field)
    return request.get(top_level) or request.get(field)


_S3_CONTROL_HOST = re.compile(r"^(\d{12})\.s3-control[.-]")


def s3control_account(change: CloudTrailChange) -> str:
    """The account an S3 Control call acts in: ``x-amz-account-id``, else the host's prefix, else the record's."""
    request = change.request_parameters
    header = request.get("x-amz-account-id")
    if isinstance(header, str) and header:
        return header
    for key in ("Host", "host"):
        hosts = request.get(key)
        for host in hosts if isinstance(hosts, list) else [hosts]:
            found = _S3_CONTROL_HOST.match(host) if isinstance(host, str) else None
            if found:
                return found.group(1)
    return change.account


def s3control_name(context: RuleContext, resource_type: str) -> str:
    """The resource's name from the URI (``name``), else from the ARN of ``resource_type`` in ``resources``."""
    request = context.change.request_parameters
    if request.get("name") is None:
        for item in context.change.resources:
            arn = item.get("ARN")
            if item.get("type") == resource_type and isinstance(arn, str) and "accesspoint/" in arn:
                return arn.split("accesspoint/", 1)[1]
    return context.request_text("name")


class AccessPointPolicyEndpoint:
    """An access point's policy, through S3 Control's Get/Put/DeleteAccessPointPolicy (named by its ARN)."""

    get_permission: ClassVar[str] = "s3:GetAccessPointPolicy"
    put_permission: ClassVar[str] = "s3:PutAccessPointPolicy"
    delete_permission: ClassVar[str] = "s3:DeleteAccessPointPolicy"
    no_policy_codes: ClassVar[frozenset[str]] = frozenset({"NoSuchAccessPointPolicy"})
    no_resource_codes: ClassVar[frozenset[str]] = frozenset({"NoSuchAccessPoint"})

    def get(self, aws: AccountClients, name: str) -> str:
        account, access_point = access_point_account_and_name(name)
        return str(aws.s3control.get_access_point_policy(AccountId=account, Name=access_point)["Policy"])

    def put(self, aws: AccountClients, name: str, policy: str) -> None:
        account, access_point = access_point_account_and_name(name)
        aws.s3control.put_access_point_policy(AccountId=account, Name=access_point, Policy=policy)

    def delete(self, aws: AccountClients, name: str) -> None:
        account, access_point = access_point_account_and_name(name)
        aws.s3control.delete_access_point_policy(AccountId=account, Name=access_point)


REMOVE_ACCESS_POINT_POLICY_STATEMENTS = RemovePolicyStatements(
    "remove_access_point_policy_statements", ACCESS_POINT, AccessPointPolicyEndpoint()
)
ACCESS_POINT_POLICY_RULE = AccessPointPolicyRule(
    S3_ACCESS_POINT_POLICY_PUBLIC,
    S3_ACCESS_POINT_POLICY_CROSS_ACCOUNT,
    ACCESS_POINT,
    REMOVE_ACCESS_POINT_POLICY_STATEMENTS,
)

GUARDRAILS = (ACCESS_POINT_POLICY_RULE,)
ACTIONS = (REMOVE_ACCESS_POINT_POLICY_STATEMENTS,)
