"""A minimal ``RoleDirectory`` over the moto account, for the functional tests of verdicts that need one.

The live directory is issue 13's (esc-context); until it is wired into the enforcer, these tests give the
service this one: a principal's inline and attached policies (a user's groups' too), read with boto3. The
other questions (roles a pattern reaches, roles behind a resource) it does not know: None, as the protocol says.
"""

from __future__ import annotations

from typing import Any

from iamwarden.domain.policy import parse_policy
from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies


class MotoDirectory:
    def __init__(self, iam: Any) -> None:
        self._iam = iam

    def principal(self, principal_arn: str) -> PrincipalPolicies | None:
        kind, _, name = principal_arn.split(":", 5)[-1].partition("/")
        name = name.rsplit("/", 1)[-1]
        iam = self._iam
        try:
            if kind == "group":
                inline = iam.list_group_policies(GroupName=name)["PolicyNames"]
                documents = [iam.get_group_policy(GroupName=name, PolicyName=p)["PolicyDocument"] for p in inline]
                attached = iam.list_attached_group_policies(GroupName=name)["AttachedPolicies"]
            elif kind == "user":
                inline = iam.list_user_policies(UserName=name)["PolicyNames"]
                documents = [iam.get_user_policy(UserName=name, PolicyName=p)["PolicyDocument"] for p in inline]
                attached = iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]
            elif kind == "role":
                inline = iam.list_role_policies(RoleName=name)["PolicyNames"]
                documents = [iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"] for p in inline]
                attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
            else:
                return None
        except iam.exceptions.NoSuchEntityException:
            return None
        policies = [
            NamedPolicy(f"inline {name}/{policy}", parse_policy(document))
            for policy, document in zip(inline, documents, strict=True)
        ]
        for policy in attached:
            arn = policy["PolicyArn"]
            version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
            document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
            policies.append(NamedPolicy(arn, parse_policy(document)))
        return PrincipalPolicies(principal_arn, tuple(policies))

    def roles_matching(self, account: str, pattern: str) -> tuple[str, ...] | None:
        del account, pattern
        return None

    def roles_behind(self, resource_arn: str) -> tuple[str, ...] | None:
        del resource_arn
        return None
