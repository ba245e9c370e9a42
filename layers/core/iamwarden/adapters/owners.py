"""Who owns a resource: the team named in its tags, else in the tags of whoever changed it.

The owning team comes from the first tag key (``alerts/owner_tag_keys``,
default ``owner`` then ``team``; keys compare case-insensitively) found on:

1. the resource: an IAM user (``ListUserTags``), an IAM role
   (``ListRoleTags``) or an S3 bucket (``GetBucketTagging``). IAM groups
   cannot carry tags, so a group's owner is always its changer's;
2. the caller: the role behind an assumed-role session, or the IAM user
   (a federated user's issuing user).

Lookups run in the account that holds the principal, through the
``ClientFactory``. A lookup that fails (access denied, a deleted resource,
an account that cannot be reached) is logged and skipped, never raised: the
alert then goes to the security channel only, and says the owner is unknown.

The account alias (``ListAccountAliases``) is looked up the same way, and
cached per account for the life of the process.
"""

import logging
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from iamwarden.adapters.errors import describe, ignoring
from iamwarden.alerts.message import Owner
from iamwarden.domain.arns import bucket_of_arn
from iamwarden.domain.events import Actor
from iamwarden.domain.exceptions import IamWardenError
from iamwarden.domain.findings import Finding

if TYPE_CHECKING:
    from iamwarden.adapters.clients import ClientFactory

logger = logging.getLogger(__name__)


class Principal(NamedTuple):
    """A taggable thing: ``kind`` is user, role, group or bucket."""

    kind: str
    name: str
    account: str


def principal_of_arn(arn: str | None) -> Principal | None:
    """The IAM user, role or group, or the S3 bucket, that an ARN names (None for anything else)."""
    if not arn:
        return None
    fields = arn.split(":", 5)
    if len(fields) != 6 or fields[0] != "arn":
        return None
    service, account, resource = fields[2], fields[4], fields[5]
    if service == "iam":
        kind, _, rest = resource.partition("/")
        name = rest.rpartition("/")[2]
        if kind in ("user", "role", "group") and name:
            return Principal(kind, name, account)
    bucket = bucket_of_arn(arn)
    if bucket is not None:
        return Principal("bucket", bucket, account)  # account "": the caller fills in the finding's
    return None


def principal_of_actor(actor: Actor) -> Principal | None:
    """The taggable principal behind a caller: the session's role or user, or the IAM user itself."""
    if actor.session_issuer_arn and actor.session_issuer_type in (None, "Role", "IAMUser"):
        issuer = principal_of_arn(actor.session_issuer_arn)
        if issuer and issuer.kind in ("role", "user"):
            return issuer
    if actor.type == "IAMUser":
        user = principal_of_arn(actor.arn)
        if user and user.kind == "user":
            return user
    return None


def team_from_tags(tags: Iterable[Mapping[str, Any]], keys: Iterable[str]) -> tuple[str, str] | None:
    """The first of ``keys`` (case-insensitive) with a non-empty value: (key as tagged, value)."""
    by_key = {str(tag.get("Key", "")).lower(): tag for tag in tags}
    for key in keys:
        tag = by_key.get(key.lower())
        value = str(tag.get("Value", "")).strip() if tag else ""
        if tag and value:
            return str(tag["Key"]), value
    return None


class OwnerResolver:
    """Resolves owners and account aliases with the clients of a ``ClientFactory``; never raises."""

    def __init__(self, factory: "ClientFactory") -> None:
        self._factory = factory
        self._aliases: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def owner_of(self, finding: Finding, tag_keys: tuple[str, ...]) -> Owner | None:
        """The team owning ``finding``'s resource, from its tags or its changer's; None when unknown."""
        resource = principal_of_arn(finding.resource_arn)
        if resource is not None and not resource.account:
            # A bucket ARN names no account: the bucket is in the account the event happened in.
            resource = resource._replace(account=finding.account)
        if resource is not None and resource.kind != "group":
            owner = self._owner_from(resource, finding.region, tag_keys)
            if owner:
                return owner
        actor = principal_of_actor(finding.actor)
        if actor is not None:
            owner = self._owner_from(actor, finding.region, tag_keys)
            if owner:
                return Owner(owner.team, f"{owner.source}, which made the change")
        return None

    def account_alias(self, account: str, region: str) -> str | None:
        """The account's alias, or None (no alias, or it cannot be read)."""
        with self._lock:
            if account in self._aliases:
                return self._aliases[account]

        alias: str | None = None
        try:
            aliases = self._factory.client("iam", account, region).list_account_aliases().get("AccountAliases", [])
            alias = str(aliases[0]) if aliases else None
        except (BotoCoreError, ClientError, IamWardenError) as exc:
            logger.warning("cannot read the account alias", extra={"account": account, "error": describe(exc)})
            return None  # not cached: a transient failure may pass
        with self._lock:
            self._aliases[account] = alias
        return alias

    def _owner_from(self, principal: Principal, region: str, keys: tuple[str, ...]) -> Owner | None:
        try:
            tags = self._tags(principal, region)
        except (BotoCoreError, ClientError, IamWardenError) as exc:
            logger.warning(
                "cannot read tags; owner unknown from this source",
                extra={
                    "principal": f"{principal.kind} {principal.name}",
                    "account": principal.account,
                    "error": describe(exc),
                },
            )
            return None
        found = team_from_tags(tags, keys)
        if found is None:
            return None
        key, team = found
        return Owner(team, f"tag {key} on {principal.kind} {principal.name}")

    def _tags(self, principal: Principal, region: str) -> list[Mapping[str, Any]]:
        if principal.kind == "bucket":
            s3 = self._factory.client("s3", principal.account, region)
            with ignoring("NoSuchTagSet"):  # a bucket without tags
                return list(s3.get_bucket_tagging(Bucket=principal.name).get("TagSet", []))
            return []
        iam = self._factory.client("iam", principal.account, region)
        operation, parameter = (
            ("list_user_tags", "UserName") if principal.kind == "user" else ("list_role_tags", "RoleName")
        )
        tags: list[Mapping[str, Any]] = []
        for page in iam.get_paginator(operation).paginate(**{parameter: principal.name}):
            tags.extend(page.get("Tags", []))
        return tags
