"""What the pruner knows about a role and its use, as plain values (no AWS types)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple

#: IAM counts policy size in characters without whitespace (IAM and STS quotas).
MANAGED_POLICY_LIMIT = 6_144
ROLE_INLINE_LIMIT = 10_240
_WHITESPACE = (" ", "\t", "\r", "\n")


class PolicySource(StrEnum):
    INLINE = "inline"
    CUSTOMER_MANAGED = "customer_managed"
    AWS_MANAGED = "aws_managed"


class RolePolicy(NamedTuple):
    """One permissions policy of a role: an inline policy or the default version of an attached one."""

    source: PolicySource
    name: str
    document: Mapping[str, Any]
    arn: str | None = None  # managed policies only
    version_id: str | None = None
    version_created: datetime | None = None
    #: How many users, groups and roles the managed policy is attached to (1: only this role).
    attachment_count: int = 1

    @property
    def key(self) -> str:
        """Stable name of the policy within the role: ``inline:NAME`` or the managed policy's ARN."""
        return self.arn if self.arn else f"inline:{self.name}"

    @property
    def managed(self) -> bool:
        return self.source is not PolicySource.INLINE

    @property
    def edited_in_place(self) -> bool:
        """Inline and unshared customer-managed policies are rewritten; others get a role-scoped copy."""
        return self.source is PolicySource.INLINE or (
            self.source is PolicySource.CUSTOMER_MANAGED and self.attachment_count <= 1
        )


class RoleFacts(NamedTuple):
    arn: str
    account: str
    name: str
    path: str
    created: datetime
    tags: Mapping[str, str] = MappingProxyType({})
    policies: tuple[RolePolicy, ...] = ()

    def policies_hash(self) -> str:
        """Hash of every permissions policy (key and document): the precondition of a frozen plan."""
        return policies_hash(self.policies)

    def policy(self, key: str) -> RolePolicy | None:
        return next((policy for policy in self.policies if policy.key == key), None)


def policies_hash(policies: tuple[RolePolicy, ...] | list[RolePolicy]) -> str:
    canonical = sorted((policy.key, canonical_json(policy.document)) for policy in policies)
    return hashlib.sha256(json.dumps(canonical).encode()).hexdigest()


def canonical_json(document: Any) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def iam_size(document: Mapping[str, Any]) -> int:
    """Characters IAM counts against its limits: the JSON text without whitespace."""
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    return len(text) - sum(text.count(ch) for ch in _WHITESPACE)


class ServiceAccess(NamedTuple):
    """Access Advisor's answer for one service the role's policies grant."""

    namespace: str
    name: str
    last_authenticated: datetime | None
    #: Tracked actions (``s3:createbucket``, lower case) -> last access; None when the service is not tracked.
    tracked_actions: Mapping[str, datetime | None] | None = None


class AccessReport(NamedTuple):
    """A complete, fresh Access Advisor report for one role."""

    role_arn: str
    job_id: str
    completed_at: datetime
    services: Mapping[str, ServiceAccess]
