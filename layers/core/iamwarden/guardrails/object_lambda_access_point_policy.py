"""``s3-object-lambda-access-point-policy-public`` and ``-cross-account``: Object Lambda access point policies.

An Object Lambda access point runs a Lambda function over what a GET, HEAD or LIST through it returns, in
front of a standard (supporting) access point, with a policy of its own. ``PutAccessPointPolicyForObjectLambda``
is an S3 Control call, recorded with ``eventSource`` ``s3.amazonaws.com``; its XML body is
``<PutAccessPointPolicyForObjectLambdaRequest><Policy>…</Policy></…>`` (S3 API reference), the name is the
URI's, and CloudTrail records an S3 Control body under its root element (see ``access_point_policy``)::

    {"PutAccessPointPolicyForObjectLambdaRequest": {"xmlns": "…", "Policy": "<policy JSON>"},
     "name": "redacted-reports", "x-amz-account-id": "111122223333", "Host": "…"}

No published CloudTrail record of an Object Lambda call was found (issue 18): the shape is the API's body
as CloudTrail records other S3 Control bodies, read from the same places as the access point rule's, and a
record without the policy is not judged. ``CreateAccessPointForObjectLambda`` carries no policy (an Object
Lambda access point has no Block Public Access of its own: the supporting access point's applies), so it is
not judged. The ARN is ``arn:PARTITION:s3-object-lambda:REGION:ACCOUNT:accesspoint/NAME``. The remediation
rewrites the policy without the offending statements through Get/Put/DeleteAccessPointPolicyForObjectLambda
(deletes it when nothing is left), and undo puts them back.
"""

from __future__ import annotations

from typing import ClassVar

from iamwarden.domain.catalog import RuleSpec
from iamwarden.domain.documents import PolicyKind
from iamwarden.guardrails.access_point_policy import (
    access_point_account_and_name,
    s3control_account,
    s3control_body_field,
    s3control_name,
)
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.remediation import AccountClients
from iamwarden.guardrails.resource_policy import PolicyResource, RemovePolicyStatements, ResourcePolicyRule

_EVENTS = frozenset({"PutAccessPointPolicyForObjectLambda"})
_RESOURCE_TYPE = "AWS::S3ObjectLambda::AccessPoint"

S3_OBJECT_LAMBDA_ACCESS_POINT_POLICY_PUBLIC = RuleSpec(
    id="s3-object-lambda-access-point-policy-public",
    title="S3 Object Lambda access point policy open to the public",
    event_source="s3.amazonaws.com",
    event_names=_EVENTS,
    risk=(
        "An Object Lambda access point policy that lets in everyone lets anyone read the bucket's data as the "
        "function transforms it, and run that function at this account's cost."
    ),
    alert_risk=(
        "Anyone can use what this Object Lambda access point policy grants: read the data behind it as the "
        "function returns it, and make this account pay for every call."
    ),
    resource_types=frozenset({_RESOURCE_TYPE}),
)

S3_OBJECT_LAMBDA_ACCESS_POINT_POLICY_CROSS_ACCOUNT = RuleSpec(
    id="s3-object-lambda-access-point-policy-cross-account",
    title="S3 Object Lambda access point policy shared with an untrusted account",
    event_source="s3.amazonaws.com",
    event_names=_EVENTS,
    risk=(
        "An Object Lambda access point policy that lets in accounts outside the organisation hands the data "
        "behind it to people this organisation does not control and cannot audit."
    ),
    alert_risk=(
        "People in accounts outside this organisation can use what this Object Lambda access point policy "
        "grants, and we can neither see nor control who they are or what they do with the data."
    ),
    resource_types=frozenset({_RESOURCE_TYPE}),
)

#: The request parameter the rule adds, naming the Object Lambda access point by its ARN.
ARN_PARAMETER = "objectLambdaAccessPointArn"
_DOCUMENT_PARAMETER = "policy"
_BODY = "PutAccessPointPolicyForObjectLambdaRequest"

OBJECT_LAMBDA_ACCESS_POINT = PolicyResource(
    noun="S3 Object Lambda access point",
    name_parameter=ARN_PARAMETER,
    document_parameter=_DOCUMENT_PARAMETER,
    kind=PolicyKind.BUCKET,  # the same 20 KB limit as a bucket policy
    arn=lambda _partition, _region, _account, arn: arn,
    step_parameter="object_lambda_access_point_arn",
    resource_type=_RESOURCE_TYPE,
    service_wildcard="s3-object-lambda:*",
    verbs=(
        ("s3-object-lambda:GetObject", "read objects"),
        ("s3-object-lambda:ListBucket", "list objects"),
        ("s3-object-lambda:PutObject", "write objects"),
        ("s3-object-lambda:DeleteObject", "delete objects"),
    ),
)


def object_lambda_access_point_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:s3-object-lambda:{region}:{account}:accesspoint/{name}"


class ObjectLambdaAccessPointPolicyRule(ResourcePolicyRule):
    """Reads the Object Lambda access point's policy and name out of the S3 Control record."""

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        request = change.request_parameters
        name = s3control_name(context, _RESOURCE_TYPE)
        arn = object_lambda_access_point_arn(context.partition, change.region, s3control_account(change), name)
        policy = s3control_body_field(request, _BODY, "Policy", _DOCUMENT_PARAMETER)
        if policy is None:
            evaluation = Evaluation(resource_arn=arn)
            evaluation.unjudged.append(
                f"the record of PutAccessPointPolicyForObjectLambda on {arn} carries no policy; IAM Warden judges "
                "only a policy it has"
            )
            return evaluation
        flat = {**request, ARN_PARAMETER: arn, _DOCUMENT_PARAMETER: policy}
        return super().evaluate(context._replace(change=change._replace(request_parameters=flat)))

    def display_name(self, name: str) -> str:
        return access_point_account_and_name(name)[1]


class ObjectLambdaAccessPointPolicyEndpoint:
    """An Object Lambda access point's policy, through S3 Control's Get/Put/DeleteAccessPointPolicyForObjectLambda."""

    get_permission: ClassVar[str] = "s3:GetAccessPointPolicyForObjectLambda"
    put_permission: ClassVar[str] = "s3:PutAccessPointPolicyForObjectLambda"
    delete_permission: ClassVar[str] = "s3:DeleteAccessPointPolicyForObjectLambda"
    no_policy_codes: ClassVar[frozenset[str]] = frozenset({"NoSuchAccessPointPolicy"})
    no_resource_codes: ClassVar[frozenset[str]] = frozenset({"NoSuchAccessPoint"})

    def get(self, aws: AccountClients, name: str) -> str | None:
        account, access_point = access_point_account_and_name(name)
        policy = aws.s3control.get_access_point_policy_for_object_lambda(AccountId=account, Name=access_point)
        return str(policy["Policy"]) if policy.get("Policy") else None

    def put(self, aws: AccountClients, name: str, policy: str) -> None:
        account, access_point = access_point_account_and_name(name)
        aws.s3control.put_access_point_policy_for_object_lambda(AccountId=account, Name=access_point, Policy=policy)

    def delete(self, aws: AccountClients, name: str) -> None:
        account, access_point = access_point_account_and_name(name)
        aws.s3control.delete_access_point_policy_for_object_lambda(AccountId=account, Name=access_point)


REMOVE_OBJECT_LAMBDA_ACCESS_POINT_POLICY_STATEMENTS = RemovePolicyStatements(
    "remove_object_lambda_access_point_policy_statements",
    OBJECT_LAMBDA_ACCESS_POINT,
    ObjectLambdaAccessPointPolicyEndpoint(),
)
OBJECT_LAMBDA_ACCESS_POINT_POLICY_RULE = ObjectLambdaAccessPointPolicyRule(
    S3_OBJECT_LAMBDA_ACCESS_POINT_POLICY_PUBLIC,
    S3_OBJECT_LAMBDA_ACCESS_POINT_POLICY_CROSS_ACCOUNT,
    OBJECT_LAMBDA_ACCESS_POINT,
    REMOVE_OBJECT_LAMBDA_ACCESS_POINT_POLICY_STATEMENTS,
)

GUARDRAILS = (OBJECT_LAMBDA_ACCESS_POINT_POLICY_RULE,)
ACTIONS = (REMOVE_OBJECT_LAMBDA_ACCESS_POINT_POLICY_STATEMENTS,)
