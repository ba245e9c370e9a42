"""Who owns a VPC endpoint or VPC that an ``aws:SourceVpce``/``aws:SourceVpc`` condition names, read live.

A bucket policy limited to ``vpce-0abc…`` is private when that endpoint is this account's (or a trusted
account's) and a door for someone else's network otherwise; the id alone does not say which. The
enforcer asks EC2 in the resource's own account and Region: ``DescribeVpcEndpoints`` (``vpce-…``) or
``DescribeVpcs`` (``vpc-…``, which also lists VPCs shared into the account, with their owner). Not found
there, or denied, the owner is unknown and the finding that rests on it is alert-only; a transient error
is raised (the event is retried). Answers are cached for the life of the container: an endpoint's owner
never changes.
"""

from __future__ import annotations

from typing import Any, Protocol

from iamwarden.adapters.errors import classify, error_code, is_aws_error, is_transient
from iamwarden.domain.exceptions import AwsAccessError
from iamwarden.domain.exposure import NetworkOwner


class ClientSource(Protocol):
    def client(self, service: str, account: str, region: str, *, logged: bool = True) -> Any: ...


#: The EC2 actions the lookup calls (granted to the enforcer and the member role; they have no resource type).
READ_PERMISSIONS = ("ec2:DescribeVpcEndpoints", "ec2:DescribeVpcs")

_NOT_FOUND = frozenset({"InvalidVpcEndpointId.NotFound", "InvalidVpcID.NotFound"})


class LiveNetworkOwners:
    """``NetworkOwners`` backed by EC2 in the account and Region asked about, cached per container."""

    def __init__(self, clients: ClientSource) -> None:
        self._clients = clients
        self._known: dict[tuple[str, str, str], NetworkOwner] = {}

    def owner_of(self, network_id: str, account: str, region: str) -> NetworkOwner:
        key = (account, region, network_id)
        known = self._known.get(key)
        if known is not None:
            return known
        owner, lasting = self._look_up(network_id, account, region)
        if lasting:
            self._known[key] = owner
        return owner

    def _look_up(self, network_id: str, account: str, region: str) -> tuple[NetworkOwner, bool]:
        """The owner and whether the answer lasts (found, or not there); a denial may be fixed, so it is asked again."""
        if network_id.startswith("vpce-"):
            operation, call, listed, parameter = (
                "DescribeVpcEndpoints",
                "describe_vpc_endpoints",
                "VpcEndpoints",
                "VpcEndpointIds",
            )
        elif network_id.startswith("vpc-"):
            operation, call, listed, parameter = "DescribeVpcs", "describe_vpcs", "Vpcs", "VpcIds"
        else:
            return NetworkOwner(None, f"{network_id} is neither a VPC endpoint nor a VPC id"), True
        where = f"account {account} in {region}"
        try:
            found = getattr(self._clients.client("ec2", account, region), call)(**{parameter: [network_id]})[listed]
        except AwsAccessError as exc:
            return NetworkOwner(None, f"IAM Warden could not act in {where} to ask EC2: {exc}"), False
        except Exception as exc:
            if not is_aws_error(exc):
                raise
            if is_transient(exc):
                raise classify(exc, operation, resource=network_id) from exc
            if error_code(exc) in _NOT_FOUND:
                return self._elsewhere(network_id, operation, where), True
            return NetworkOwner(None, f"{operation} failed in {where}: {classify(exc, operation)}"), False
        owners = {str(item["OwnerId"]) for item in found if item.get("OwnerId")}
        if len(owners) != 1:
            return self._elsewhere(network_id, operation, where), True
        (owner,) = owners
        return NetworkOwner(owner, f"{operation} in {where} says account {owner} owns it"), True

    @staticmethod
    def _elsewhere(network_id: str, operation: str, where: str) -> NetworkOwner:
        return NetworkOwner(
            None,
            f"{operation} found no {network_id} in {where}, so it belongs to an account IAM Warden cannot see "
            "(list it in trusted_networks if it is yours)",
        )
