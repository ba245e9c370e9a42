"""Whether an S3 canonical user id is one of an account's CloudFront origin access identities, read live.

A bucket policy granting ``{"CanonicalUser": "<64 hex digits>"}`` names either another account's canonical
user or a CloudFront origin access identity (OAI): the CloudFront guide's legacy OAI policy may use either
the OAI's ARN or its ``S3CanonicalUserId``, and the id alone does not say which. The enforcer asks CloudFront
in the bucket's own account (``ListCloudFrontOriginAccessIdentities``, paginated; each summary carries ``Id``
and ``S3CanonicalUserId``). Listed there: private. Not listed, or the listing denied: the owner is unknown and
the finding that rests on it is alert-only; a transient error is raised (the event is retried).

The shape follows ``adapters.networks.LiveNetworkOwners``: a found identity and a "not listed" answer last for
the life of the container (an OAI's canonical id never changes); a denial may be fixed, so it is asked again.
Each account's listing is kept, so several canonical users of one account cost one listing.
"""

from __future__ import annotations

from typing import Any, Protocol

from iamwarden.adapters.errors import classify, is_aws_error, is_transient
from iamwarden.domain.exceptions import AwsAccessError
from iamwarden.domain.exposure import OriginAccessIdentity


class ClientSource(Protocol):
    def client(self, service: str, account: str, region: str, *, logged: bool = True) -> Any: ...


#: The CloudFront action the lookup calls (granted to the enforcer and the member role; it has no resource type).
READ_PERMISSIONS = ("cloudfront:ListCloudFrontOriginAccessIdentities",)
#: CloudFront is global; its API is served from us-east-1.
CLOUDFRONT_REGION = "us-east-1"
_OPERATION = "ListCloudFrontOriginAccessIdentities"


class LiveOriginAccessIdentities:
    """``OriginAccessIdentities`` backed by CloudFront in the account asked about, cached per container."""

    def __init__(self, clients: ClientSource) -> None:
        self._clients = clients
        #: account -> canonical user id -> OAI id, as last listed.
        self._listed: dict[str, dict[str, str]] = {}
        #: (account, canonical user id) that a listing made after it was first asked did not hold.
        self._absent: set[tuple[str, str]] = set()

    def identity_of(self, canonical_user: str, account: str) -> OriginAccessIdentity:
        canonical = canonical_user.lower()
        known = self._listed.get(account, {}).get(canonical)
        if known is not None:
            return self._found(known, account)
        if (account, canonical) in self._absent:
            return self._not_listed(canonical, account)
        # Not in an earlier listing (or none yet): an identity made since then is found by listing again.
        listed = self._list(account)
        if isinstance(listed, OriginAccessIdentity):
            return listed
        self._listed[account] = listed
        if canonical in listed:
            return self._found(listed[canonical], account)
        self._absent.add((account, canonical))
        return self._not_listed(canonical, account)

    def _list(self, account: str) -> dict[str, str] | OriginAccessIdentity:
        """The account's identities by canonical user id, or why they could not be listed (asked again later)."""
        where = f"account {account}"
        try:
            client = self._clients.client("cloudfront", account, CLOUDFRONT_REGION)
            identities: dict[str, str] = {}
            for page in client.get_paginator("list_cloud_front_origin_access_identities").paginate():
                for item in page.get("CloudFrontOriginAccessIdentityList", {}).get("Items", []):
                    if item.get("S3CanonicalUserId") and item.get("Id"):
                        identities[str(item["S3CanonicalUserId"]).lower()] = str(item["Id"])
        except AwsAccessError as exc:
            return OriginAccessIdentity(None, f"IAM Warden could not act in {where} to ask CloudFront: {exc}")
        except Exception as exc:
            if not is_aws_error(exc):
                raise
            if is_transient(exc):
                raise classify(exc, _OPERATION, resource=account) from exc
            return OriginAccessIdentity(None, f"{_OPERATION} failed in {where}: {classify(exc, _OPERATION)}")
        return identities

    @staticmethod
    def _found(identity: str, account: str) -> OriginAccessIdentity:
        return OriginAccessIdentity(
            identity, f"{_OPERATION} in account {account} says it is origin access identity {identity}"
        )

    @staticmethod
    def _not_listed(canonical: str, account: str) -> OriginAccessIdentity:
        return OriginAccessIdentity(
            None,
            f"{_OPERATION} in account {account} lists no origin access identity with canonical user {canonical}, "
            "so it is another account's canonical user or an identity of an account IAM Warden does not ask "
            "(list it in cloudfront_oai_canonical_ids if it is yours)",
        )
