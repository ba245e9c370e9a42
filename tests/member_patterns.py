"""The member template's forwarding patterns as one instance of the member StackSet deploys them."""

from __future__ import annotations

from typing import Any

from iamwarden.domain.declared_content import ANY_ROLE_ID

#: The RoleId CloudFormation gives a member stack's role in these tests (the patterns exclude its sessions by it).
STACK_ROLE_ID = "AROASTACKROLE0000001"
#: The StackSets service's execution role in a member account (a service-managed StackSet creates it there).
STACK_SETS_ROLE = "stacksets-exec-c2f6a349c14169d235450f9b214de3d1"


def member_instance(pattern: Any, holds_roles: bool = True) -> Any:
    """A declared member pattern as one instance deploys it: ``Fn::If`` on ``CreatesRoles`` resolved (the IAM
    region's instance in a member account holds the roles) and each role's RoleId filled in."""
    if isinstance(pattern, dict):
        if set(pattern) == {"Fn::If"}:
            return member_instance(pattern["Fn::If"][1 if holds_roles else 2], holds_roles)
        return {key: member_instance(value, holds_roles) for key, value in pattern.items()}
    if isinstance(pattern, list):
        return [member_instance(value, holds_roles) for value in pattern]
    return pattern.replace(ANY_ROLE_ID, STACK_ROLE_ID) if isinstance(pattern, str) else pattern


def with_role_ids(pattern: Any, role_ids: tuple[str, ...]) -> Any:
    """``pattern`` (a ``member_instance``) with the RoleIds CloudFormation gave the roles (remediator, then pruner)
    where the instance names ``STACK_ROLE_ID`` for each: what the stack's ``!GetAtt <Role>.RoleId`` puts there."""
    if isinstance(pattern, dict):
        return {key: with_role_ids(value, role_ids) for key, value in pattern.items()}
    if isinstance(pattern, list):
        ours = [value for value in pattern if isinstance(value, str) and value.startswith(f"{STACK_ROLE_ID}:")]
        if ours and len(ours) == len(role_ids) == len(pattern):
            return [f"{role_id}:{value.split(':', 1)[1]}" for role_id, value in zip(role_ids, pattern, strict=True)]
        return [with_role_ids(value, role_ids) for value in pattern]
    return pattern


def by_stack_sets(event: dict[str, Any], account: str) -> dict[str, Any]:
    """``event`` made by CloudFormation for the StackSets service's execution role in ``account``."""
    identity = event["detail"]["userIdentity"]
    identity["type"] = "AssumedRole"
    identity["arn"] = f"arn:aws:sts::{account}:assumed-role/{STACK_SETS_ROLE}/stacksets-session"
    identity["principalId"] = "AROASTACKSETSEXEC001:stacksets-session"
    identity["invokedBy"] = "cloudformation.amazonaws.com"
    identity["sessionContext"] = {
        "sessionIssuer": {
            "type": "Role",
            "principalId": "AROASTACKSETSEXEC001",
            "arn": f"arn:aws:iam::{account}:role/{STACK_SETS_ROLE}",
            "accountId": account,
            "userName": STACK_SETS_ROLE,
        }
    }
    return event
