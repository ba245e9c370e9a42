"""``s3-access-point-policy-public`` and ``-cross-account``: S3 access point policies on the resource-policy path.

An access point is a second door into a bucket, with a policy of its own. ``PutAccessPointPolicy`` is an
S3 Control call, recorded by CloudTrail with ``eventSource`` ``s3.amazonaws.com``. S3 Control sends the
policy in an XML body, ``<PutAccessPointPolicyRequest><Policy>…</Policy></PutAccessPointPolicyRequest>``
(S3 API reference, PutAccessPointPolicy), and CloudTrail records an XML body under its root element, as it
does for ``PutBucketPublicAccessBlock``'s ``PublicAccessBlockConfiguration``; the name is the URI's ``name``
and the account the ``x-amz-account-id`` header::

    {"PutAccessPointPolicyRequest": {"xmlns": "…", "Policy": "<policy JSON>"}, "name": "finance-ap",
     "x-amz-account-id": "111122223333", "Host": "111122223333.s3-control.eu-west-1.amazonaws.com"}

(That shape is inferred from the API and CloudTrail's S3 Control records, not copied from a published
record: a record that carries the policy under a top-level ``policy`` key is read too, and one that carries
no policy at all is not judged, never guessed.) The rules judge the policy with the bucket rules' analysis
(``resource_policy``); the resource is named by its ARN, which carries the account S3 Control needs.
Multi-Region and Object Lambda access points are not judged yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from iamwarden.domain.catalog import RuleSpec
from iamwarden.domain.documents import PolicyKind
from iamwarden.domain.events import json_type_name
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


def _account_and_name(arn: str) -> tuple[str, str]:
    """``arn:aws:s3:eu-west-1:111122223333:accesspoint/finance-ap`` -> (111122223333, finance-ap)."""
    fields = arn.split(":", 5)
    return fields[4], fields[5].removeprefix("accesspoint/")


class AccessPointPolicyRule(ResourcePolicyRule):
    """Reads the access point's policy and name out of the S3 Control record, then judges it as any resource policy."""

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        request = change.request_parameters
        name = context.request_text("name")
        account = request.get("x-amz-account-id") or change.account
        arn = access_point_arn(context.partition, change.region, str(account), name)
        policy = _policy(request)
        if policy is None:
            evaluation = Evaluation(resource_arn=arn)
            evaluation.unjudged.append(
                f"the record of PutAccessPointPolicy on {arn} carries no policy; IAM Warden judges only a policy it has"
            )
            return evaluation
        flat = {**request, ARN_PARAMETER: arn, _DOCUMENT_PARAMETER: policy}
        return super().evaluate(context._replace(change=change._replace(request_parameters=flat)))


def _policy(request: Mapping[str, Any]) -> Any:
    body = request.get(_BODY)
    if body is not None:
        if not isinstance(body, Mapping):
            raise InvalidEventError(f"detail.requestParameters.{_BODY} must be an object, got {json_type_name(body)}")
        return body.get("Policy")
    return request.get(_DOCUMENT_PARAMETER) or request.get("Policy")


class AccessPointPolicyEndpoint:
    """An access point's policy, through S3 Control's Get/Put/DeleteAccessPointPolicy (named by its ARN)."""

    get_permission: ClassVar[str] = "s3:GetAccessPointPolicy"
    put_permission: ClassVar[str] = "s3:PutAccessPointPolicy"
    delete_permission: ClassVar[str] = "s3:DeleteAccessPointPolicy"
    no_policy_codes: ClassVar[frozenset[str]] = frozenset({"NoSuchAccessPointPolicy"})
    no_resource_codes: ClassVar[frozenset[str]] = frozenset({"NoSuchAccessPoint"})

    def get(self, aws: AccountClients, name: str) -> str:
        account, access_point = _account_and_name(name)
        return str(aws.s3control.get_access_point_policy(AccountId=account, Name=access_point)["Policy"])

    def put(self, aws: AccountClients, name: str, policy: str) -> None:
        account, access_point = _account_and_name(name)
        aws.s3control.put_access_point_policy(AccountId=account, Name=access_point, Policy=policy)

    def delete(self, aws: AccountClients, name: str) -> None:
        account, access_point = _account_and_name(name)
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
