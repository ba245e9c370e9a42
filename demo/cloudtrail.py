"""The CloudTrail record AWS emits for each of the demo's calls, in the EventBridge envelope.

Same shapes as the samples in events/ (AssumedRole callers, requestParameters
and responseElements per event name), filled with the account, ARNs and ids
the emulated AWS returned for the call.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, NamedTuple

DETAIL_TYPE = "AWS API Call via CloudTrail"
CLI_USER_AGENT = (
    "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.1.115-126.197.amzn2023.x86_64 md/arch#x86_64 "
    "lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off"
)


class Caller(NamedTuple):
    """A role session making calls, as CloudTrail's userIdentity describes it."""

    account: str
    role_name: str
    role_arn: str
    role_id: str  # AROA…
    session_name: str
    access_key_id: str  # ASIA…
    source_ip: str
    session_created: str

    def identity(self) -> dict[str, Any]:
        return {
            "type": "AssumedRole",
            "principalId": f"{self.role_id}:{self.session_name}",
            "arn": f"arn:aws:sts::{self.account}:assumed-role/{self.role_name}/{self.session_name}",
            "accountId": self.account,
            "accessKeyId": self.access_key_id,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": self.role_id,
                    "arn": self.role_arn,
                    "accountId": self.account,
                    "userName": self.role_name,
                },
                "webIdFederationData": {},
                "attributes": {"creationDate": self.session_created, "mfaAuthenticated": "false"},
            },
        }


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iam_date(value: datetime) -> str:
    """The createDate format CloudTrail uses in IAM responseElements ("Nov 21, 2026 9:14:07 AM")."""
    return f"{value:%b} {value.day}, {value.year} {value.hour % 12 or 12}:{value:%M:%S} {value:%p}"


def record(
    caller: Caller,
    *,
    service: str,
    event_name: str,
    region: str,
    request_parameters: dict[str, Any],
    response_elements: dict[str, Any] | None = None,
    resources: list[dict[str, str]] | None = None,
    additional_event_data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An EventBridge event holding the CloudTrail record of one successful call by ``caller``."""
    time = now()
    detail: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": caller.identity(),
        "eventTime": time,
        "eventSource": f"{service}.amazonaws.com",
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": caller.source_ip,
        "userAgent": CLI_USER_AGENT,
        "requestParameters": request_parameters,
        "responseElements": response_elements,
    }
    if additional_event_data is not None:
        detail["additionalEventData"] = additional_event_data
    detail["requestID"] = str(uuid.uuid4())
    detail["eventID"] = str(uuid.uuid4())
    detail["readOnly"] = False
    if resources is not None:
        detail["resources"] = resources
    detail.update(
        {
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": caller.account,
            "eventCategory": "Management",
            "tlsDetails": {
                "tlsVersion": "TLSv1.3",
                "cipherSuite": "TLS_AES_128_GCM_SHA256",
                "clientProvidedHostHeader": f"{service}.amazonaws.com",
            },
        }
    )
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": f"aws.{service}",
        "account": caller.account,
        "time": time,
        "region": region,
        "resources": [],
        "detail": detail,
    }


def create_user(caller: Caller, region: str, user: dict[str, Any]) -> dict[str, Any]:
    """CreateUser; ``user`` is the User of the API's answer."""
    return record(
        caller,
        service="iam",
        event_name="CreateUser",
        region=region,
        request_parameters={"userName": user["UserName"]},
        response_elements={
            "user": {
                "path": user["Path"],
                "userName": user["UserName"],
                "userId": user["UserId"],
                "arn": user["Arn"],
                "createDate": iam_date(user["CreateDate"]),
            }
        },
    )


def create_access_key(caller: Caller, region: str, key: dict[str, Any]) -> dict[str, Any]:
    """CreateAccessKey; CloudTrail never records the secret."""
    return record(
        caller,
        service="iam",
        event_name="CreateAccessKey",
        region=region,
        request_parameters={"userName": key["UserName"]},
        response_elements={
            "accessKey": {
                "userName": key["UserName"],
                "accessKeyId": key["AccessKeyId"],
                "status": key["Status"],
                "createDate": iam_date(key["CreateDate"]),
            }
        },
    )


def attach_role_policy(caller: Caller, region: str, role_name: str, policy_arn: str) -> dict[str, Any]:
    return record(
        caller,
        service="iam",
        event_name="AttachRolePolicy",
        region=region,
        request_parameters={"roleName": role_name, "policyArn": policy_arn},
    )


def put_bucket_policy(caller: Caller, region: str, bucket: str, policy: dict[str, Any], size: int) -> dict[str, Any]:
    """PutBucketPolicy: S3 records the policy as a JSON object, and the bucket in ``resources``."""
    return record(
        caller,
        service="s3",
        event_name="PutBucketPolicy",
        region=region,
        request_parameters={
            "bucketPolicy": policy,
            "bucketName": bucket,
            "Host": f"{bucket}.s3.{region}.amazonaws.com",
            "policy": "",
        },
        resources=[{"accountId": caller.account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}],
        additional_event_data={
            "SignatureVersion": "SigV4",
            "CipherSuite": "TLS_AES_128_GCM_SHA256",
            "bytesTransferredIn": size,
            "AuthenticationMethod": "AuthHeader",
            "bytesTransferredOut": 0,
        },
    )
