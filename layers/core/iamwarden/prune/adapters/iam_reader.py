"""Read a role and every permissions policy it has, through an injected IAM client.

A role whose policies cannot all be read gets no decision: ``RoleReadError``.
Documents come back from IAM URL-encoded; they are decoded with the core's
``decode_policy_document``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import BotoCoreError, ClientError

from iamwarden.adapters.errors import describe
from iamwarden.domain.arns import parse_role_arn
from iamwarden.domain.documents import PolicyKind, decode_policy_document
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.prune.domain.model import PolicySource, RoleFacts, RolePolicy
from iamwarden.prune.exceptions import RoleReadError


def is_aws_managed(policy_arn: str) -> bool:
    return policy_arn.split(":")[4:5] == ["aws"]


class IamReader:
    def __init__(self, iam: Any) -> None:
        self._iam = iam

    def role(self, role_arn: str) -> RoleFacts:
        parsed = parse_role_arn(role_arn)
        if parsed is None:
            raise RoleReadError(f"not a role ARN: {role_arn!r}")
        name = parsed.name
        try:
            role = self._iam.get_role(RoleName=name)["Role"]
            policies = [*self._inline(name), *self._attached(name)]
        except (BotoCoreError, ClientError) as exc:
            raise RoleReadError(f"cannot read role {role_arn} and its policies: {describe(exc)}") from exc
        except InvalidEventError as exc:
            raise RoleReadError(f"role {role_arn} has a policy that does not parse: {exc}") from exc
        return RoleFacts(
            arn=role["Arn"],
            account=parsed.account,
            name=role["RoleName"],
            path=role.get("Path", "/"),
            created=role["CreateDate"],
            tags={tag["Key"]: tag["Value"] for tag in role.get("Tags", [])},
            policies=tuple(policies),
        )

    def policies(self, role_name: str) -> tuple[RolePolicy, ...]:
        """Only the policies (for a hash precondition just before acting)."""
        try:
            return (*self._inline(role_name), *self._attached(role_name))
        except (BotoCoreError, ClientError) as exc:
            raise RoleReadError(f"cannot read the policies of role {role_name}: {describe(exc)}") from exc
        except InvalidEventError as exc:
            raise RoleReadError(f"role {role_name} has a policy that does not parse: {exc}") from exc

    def _inline(self, role_name: str) -> list[RolePolicy]:
        names: list[str] = []
        for page in self._iam.get_paginator("list_role_policies").paginate(RoleName=role_name):
            names.extend(page["PolicyNames"])
        policies = []
        for policy_name in names:
            answer = self._iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)
            document = decode_policy_document(
                answer["PolicyDocument"], PolicyKind.INLINE_ROLE, field=f"inline policy {policy_name}"
            )
            policies.append(RolePolicy(PolicySource.INLINE, policy_name, document))
        return policies

    def _attached(self, role_name: str) -> list[RolePolicy]:
        attached: list[dict[str, Any]] = []
        for page in self._iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name):
            attached.extend(page["AttachedPolicies"])
        policies = []
        for item in attached:
            arn = item["PolicyArn"]
            policy = self._iam.get_policy(PolicyArn=arn)["Policy"]
            version = self._iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]
            if is_aws_managed(arn):  # AWS-managed policies are not bound by the customer-managed size limit
                document = _decode(version["Document"], arn)
            else:
                document = decode_policy_document(version["Document"], PolicyKind.MANAGED, field=f"policy {arn}")
            policies.append(
                RolePolicy(
                    source=PolicySource.AWS_MANAGED if is_aws_managed(arn) else PolicySource.CUSTOMER_MANAGED,
                    name=policy["PolicyName"],
                    document=document,
                    arn=arn,
                    version_id=policy["DefaultVersionId"],
                    version_created=version.get("CreateDate"),
                    attachment_count=int(policy.get("AttachmentCount", 1)),
                )
            )
        return policies


def _decode(document: Any, arn: str) -> dict[str, Any]:
    if isinstance(document, dict):
        return document
    try:
        decoded = json.loads(unquote(document) if str(document).lstrip().startswith("%") else document)
    except (TypeError, ValueError) as exc:
        raise InvalidEventError(f"policy {arn} does not parse as JSON: {exc}") from exc
    if not isinstance(decoded, dict):
        raise InvalidEventError(f"policy {arn} is not a JSON object")
    return decoded
