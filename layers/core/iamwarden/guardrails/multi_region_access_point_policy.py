"""``s3-multi-region-access-point-policy-public`` and ``-cross-account``: Multi-Region Access Point policies.

A Multi-Region Access Point (MRAP) is one global endpoint in front of buckets in several Regions, with a
policy of its own. ``PutMultiRegionAccessPointPolicy`` is an S3 Control call, recorded with ``eventSource``
``s3.amazonaws.com``; its XML body (S3 API reference, PutMultiRegionAccessPointPolicy) nests the name and
the policy under ``Details``, and CloudTrail records an S3 Control body under its root element (see
``access_point_policy``)::

    {"PutMultiRegionAccessPointPolicyRequest": {"xmlns": "…", "ClientToken": "…",
        "Details": {"Name": "orders-global", "Policy": "<policy JSON>"}},
     "x-amz-account-id": "111122223333", "Host": "111122223333.s3-control.us-west-2.amazonaws.com"}

No published CloudTrail record of an MRAP call was found (issue 18): the shape is the API's body as
CloudTrail records other S3 Control bodies, and a record without the policy is not judged.

Three facts of the API shape the remediation (S3 API reference and the S3 User Guide, "Multi-Region Access
Point restrictions and limitations"):

* Every MRAP control call is served in US West (Oregon) only, so the finding's Region is ``us-west-2``
  whatever Region the record names: the executor's clients, and ``iamwarden undo``, act there.
* ``PutMultiRegionAccessPointPolicy`` is asynchronous: it returns a request token and S3 applies the policy
  later. The remediation does not wait (a Lambda function should not sleep on S3): it records the token in
  what it did; ``aws s3control describe-multi-region-access-point-operation`` shows whether it succeeded.
  ``GetMultiRegionAccessPointPolicy`` returns the ``Established`` policy and, while a change is pending,
  the ``Proposed`` one; the remediation reads the proposed policy when there is one (the newest requested),
  so a retry finds the statements already gone and does nothing.
* There is no call that deletes an MRAP policy. When every statement offends, the remediation puts a
  policy that lets in only the owning account (what CloudFormation puts when its policy resource is
  deleted), with the Sid ``IamWardenOwnerAccountOnly``; reading it back, IAM Warden takes that policy for
  "no policy", so undo puts the removed statements back without it.

The MRAP's ARN is ``arn:PARTITION:s3::ACCOUNT:accesspoint/ALIAS`` (no Region; the alias, not the name).
The record names the MRAP by name only, so the finding's resource is the ARN the policy's own statements
name when they name one (every MRAP policy statement's Resource is the MRAP or its objects), else the
ARN with the name in the alias's place. ``CreateMultiRegionAccessPoint`` carries no policy (only the Block
Public Access settings, which cannot change afterwards): it is not judged (README, "Access points").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from iamwarden.domain.catalog import RuleSpec
from iamwarden.domain.documents import PolicyKind
from iamwarden.domain.findings import RemediationStep
from iamwarden.guardrails.access_point_policy import s3control_account, s3control_body
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.remediation import AccountClients, StepRun
from iamwarden.guardrails.resource_policy import PolicyResource, RemovePolicyStatements, ResourcePolicyRule

#: Where S3 serves every Multi-Region Access Point control call.
MRAP_CONTROL_REGION = "us-west-2"

_EVENTS = frozenset({"PutMultiRegionAccessPointPolicy"})
_RESOURCE_TYPE = "AWS::S3::MultiRegionAccessPoint"

S3_MULTI_REGION_ACCESS_POINT_POLICY_PUBLIC = RuleSpec(
    id="s3-multi-region-access-point-policy-public",
    title="S3 Multi-Region Access Point policy open to the public",
    event_source="s3.amazonaws.com",
    event_names=_EVENTS,
    risk=(
        "A Multi-Region Access Point policy that lets in everyone opens every bucket behind it, in every Region, "
        "to anyone the buckets' own policies and Block Public Access do not stop."
    ),
    alert_risk=(
        "Anyone can use what this Multi-Region Access Point policy grants, so strangers can reach the data in "
        "the buckets behind it, in every Region it spans, through one global name."
    ),
    resource_types=frozenset({_RESOURCE_TYPE}),
)

S3_MULTI_REGION_ACCESS_POINT_POLICY_CROSS_ACCOUNT = RuleSpec(
    id="s3-multi-region-access-point-policy-cross-account",
    title="S3 Multi-Region Access Point policy shared with an untrusted account",
    event_source="s3.amazonaws.com",
    event_names=_EVENTS,
    risk=(
        "A Multi-Region Access Point policy that lets in accounts outside the organisation hands the data of "
        "every bucket behind it to people this organisation does not control and cannot audit."
    ),
    alert_risk=(
        "People in accounts outside this organisation can use what this Multi-Region Access Point policy grants, "
        "across every Region it spans, and we can neither see nor control who they are or what they do with it."
    ),
    resource_types=frozenset({_RESOURCE_TYPE}),
)

_BODY = "PutMultiRegionAccessPointPolicyRequest"
_NAME_PARAMETER = "multiRegionAccessPointName"
_DOCUMENT_PARAMETER = "policy"
#: The Sid of the owner-only policy IAM Warden puts when every statement offends (there is no delete call).
OWNER_ONLY_SID = "IamWardenOwnerAccountOnly"

MULTI_REGION_ACCESS_POINT = PolicyResource(
    noun="S3 Multi-Region Access Point",
    name_parameter=_NAME_PARAMETER,
    document_parameter=_DOCUMENT_PARAMETER,
    kind=PolicyKind.BUCKET,  # the same 20 KB limit as a bucket policy
    arn=lambda partition, _region, account, name: multi_region_access_point_arn(partition, account, name),
    step_parameter="multi_region_access_point",
    resource_type=_RESOURCE_TYPE,
    service_wildcard="s3:*",
    verbs=(
        ("s3:GetObject", "read objects"),
        ("s3:ListBucket", "list objects"),
        ("s3:PutObject", "write objects"),
        ("s3:DeleteObject", "delete objects"),
        ("s3:PutMultiRegionAccessPointPolicy", "change the Multi-Region Access Point's permissions"),
    ),
)


def multi_region_access_point_arn(partition: str, account: str, alias: str) -> str:
    return f"arn:{partition}:s3::{account}:accesspoint/{alias}"


def _named_arn(policy: Any, partition: str, account: str) -> str | None:
    """The MRAP ARN the policy's statements name (``arn:aws:s3::ACCOUNT:accesspoint/ALIAS[/object/*]``)."""
    try:
        document = json.loads(policy) if isinstance(policy, str) else policy
    except ValueError:
        return None
    statements = document.get("Statement", []) if isinstance(document, Mapping) else []
    prefix = f"arn:{partition}:s3::{account}:accesspoint/"
    for statement in statements if isinstance(statements, list) else [statements]:
        resources = statement.get("Resource", []) if isinstance(statement, Mapping) else []
        for resource in resources if isinstance(resources, list) else [resources]:
            if isinstance(resource, str) and resource.startswith(prefix):
                alias = resource.removeprefix(prefix).split("/", 1)[0]
                if alias and "*" not in alias:
                    return prefix + alias
    return None


class MultiRegionAccessPointPolicyRule(ResourcePolicyRule):
    """Reads the MRAP's name and policy out of ``Details``; acts in us-west-2, where MRAP calls are served."""

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        request = change.request_parameters
        body = s3control_body(request, _BODY)
        details = body.get("Details") if body is not None else request.get("Details")
        details = details if isinstance(details, Mapping) else {}
        name = details.get("Name") or request.get("name")
        policy = details.get("Policy") or request.get(_DOCUMENT_PARAMETER)
        account = s3control_account(change)
        at_home = change._replace(region=MRAP_CONTROL_REGION)
        if not isinstance(name, str) or not name or policy is None:
            evaluation = Evaluation(
                resource_arn=multi_region_access_point_arn(context.partition, account, str(name or "?"))
            )
            evaluation.unjudged.append(
                "the record of PutMultiRegionAccessPointPolicy carries no Multi-Region Access Point name or policy; "
                "IAM Warden judges only a policy it has"
            )
            return evaluation
        flat = {**request, _NAME_PARAMETER: name, _DOCUMENT_PARAMETER: policy, "x-amz-account-id": account}
        return super().evaluate(context._replace(change=at_home._replace(request_parameters=flat)))

    def resource_arn(self, context: RuleContext, name: str) -> str:
        request = context.change.request_parameters
        account = str(request.get("x-amz-account-id") or context.change.account)
        named = _named_arn(request.get(_DOCUMENT_PARAMETER), context.partition, account)
        return named or multi_region_access_point_arn(context.partition, account, name)


class MultiRegionAccessPointPolicyEndpoint:
    """An MRAP's policy through S3 Control in us-west-2 (named by its name, in the step's account).

    ``delete`` puts the owner-only policy (there is no delete call): it reads the MRAP's alias for the
    policy's Resource (``s3:GetMultiRegionAccessPoint``, declared as the delete permission) and puts it.
    ``get`` reads that policy back as no policy.
    """

    get_permission: ClassVar[str] = "s3:GetMultiRegionAccessPointPolicy"
    put_permission: ClassVar[str] = "s3:PutMultiRegionAccessPointPolicy"
    delete_permission: ClassVar[str] = "s3:GetMultiRegionAccessPoint"
    no_policy_codes: ClassVar[frozenset[str]] = frozenset({"NoSuchMultiRegionAccessPointPolicy"})
    no_resource_codes: ClassVar[frozenset[str]] = frozenset({"NoSuchMultiRegionAccessPoint"})

    #: The request token of the last put, for the remediation's ``done`` line (the action clears it before each
    #: apply and undo; the enforcer runs one step at a time).
    last_token: str | None = None

    def get(self, aws: AccountClients, name: str) -> str | None:
        answer = aws.s3control.get_multi_region_access_point_policy(AccountId=aws.account, Name=name)["Policy"]
        policy = (answer.get("Proposed") or {}).get("Policy") or (answer.get("Established") or {}).get("Policy")
        if not policy or _owner_only(str(policy)):
            return None
        return str(policy)

    def put(self, aws: AccountClients, name: str, policy: str) -> None:
        answer = aws.s3control.put_multi_region_access_point_policy(
            AccountId=aws.account, Details={"Name": name, "Policy": policy}
        )
        self.last_token = str(answer.get("RequestTokenARN") or "")

    def delete(self, aws: AccountClients, name: str) -> None:
        alias = aws.s3control.get_multi_region_access_point(AccountId=aws.account, Name=name)["AccessPoint"]["Alias"]
        partition = str(aws.s3control.meta.partition)
        arn = multi_region_access_point_arn(partition, aws.account, alias)
        owner_only = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": OWNER_ONLY_SID,
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{partition}:iam::{aws.account}:root"},
                    "Action": "s3:*",
                    "Resource": [arn, f"{arn}/object/*"],
                }
            ],
        }
        self.put(aws, name, json.dumps(owner_only))


def _owner_only(policy: str) -> bool:
    try:
        statements = json.loads(policy).get("Statement")
    except (ValueError, AttributeError):
        return False
    statements = statements if isinstance(statements, list) else [statements]
    return len(statements) == 1 and isinstance(statements[0], dict) and statements[0].get("Sid") == OWNER_ONLY_SID


class RemoveMultiRegionAccessPointPolicyStatements(RemovePolicyStatements):
    """``RemovePolicyStatements``, saying that S3 applies the new policy asynchronously, with the request token."""

    endpoint: MultiRegionAccessPointPolicyEndpoint

    def __init__(self, name: str, resource: PolicyResource, endpoint: MultiRegionAccessPointPolicyEndpoint) -> None:
        super().__init__(name, resource, endpoint)
        self.endpoint = endpoint

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        self.endpoint.last_token = None
        count = len(done)
        super().apply(run, step, before, done)
        if len(done) > count and self.endpoint.last_token:
            done[-1] += f" (S3 applies it asynchronously: request {self.endpoint.last_token})"

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        self.endpoint.last_token = None
        restored = super().undo(aws, step, before)
        if restored and self.endpoint.last_token:
            restored[-1] += f" (S3 applies it asynchronously: request {self.endpoint.last_token})"
        return restored


REMOVE_MULTI_REGION_ACCESS_POINT_POLICY_STATEMENTS = RemoveMultiRegionAccessPointPolicyStatements(
    "remove_multi_region_access_point_policy_statements",
    MULTI_REGION_ACCESS_POINT,
    MultiRegionAccessPointPolicyEndpoint(),
)
MULTI_REGION_ACCESS_POINT_POLICY_RULE = MultiRegionAccessPointPolicyRule(
    S3_MULTI_REGION_ACCESS_POINT_POLICY_PUBLIC,
    S3_MULTI_REGION_ACCESS_POINT_POLICY_CROSS_ACCOUNT,
    MULTI_REGION_ACCESS_POINT,
    REMOVE_MULTI_REGION_ACCESS_POINT_POLICY_STATEMENTS,
)

GUARDRAILS = (MULTI_REGION_ACCESS_POINT_POLICY_RULE,)
ACTIONS = (REMOVE_MULTI_REGION_ACCESS_POINT_POLICY_STATEMENTS,)
