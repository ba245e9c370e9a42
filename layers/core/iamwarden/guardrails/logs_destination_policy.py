"""``logs-destination-policy-public`` and ``-cross-account``: CloudWatch Logs destination access policies.

A destination (a Kinesis stream or Firehose behind a CloudWatch Logs ARN) receives other accounts' log
events once its access policy lets them call ``logs:PutSubscriptionFilter`` on it. ``PutDestinationPolicy``
replaces that policy; CloudTrail records the API's request members as they are (CloudWatch Logs' API is
camelCase already): ``{"destinationName": "…", "accessPolicy": "<the policy JSON as a string>",
"forceUpdate": true}`` (CloudWatch Logs API reference, PutDestinationPolicy: ``accessPolicy`` "up to 5120
bytes", ``forceUpdate`` optional). A destination open to anyone, or to accounts outside the organisation,
lets them pour log events into this organisation's pipeline (its Kinesis costs, its SIEM) under its name.

There is no call that deletes a destination policy (it is a field of the destination, which
``DescribeDestinations`` returns as ``accessPolicy``; ``DeleteDestination`` deletes the destination). So the
remediation rewrites the policy without the offending statements, and when none is left it writes
``OWNER_ONLY``: one statement letting only the destination's own account subscribe, which is what a
destination without a policy allows. Undo reads ``OWNER_ONLY`` as "no policy" and puts the removed
statements back. A policy written with an ``aws:PrincipalOrgID`` condition is sent with ``forceUpdate``
(which affirms the senders' subscription filters were updated for an organisation-wide policy): the
organisation statements it keeps or restores were already in force, so their filters already work.

CloudWatch Logs' ``PutResourcePolicy`` (account-level or log-group resource policies letting AWS services
deliver logs) is left out: the API reference says such a policy "only supports ``logs:PutLogEvents`` and
``logs:CreateLogStream``" and is enforced only for AWS service principals, "not IAM users, roles, or
cross-account principals". It lets services write *into* this account's logs and opens no data to the
outside; a missing ``aws:SourceAccount`` there lets another account's deliveries land in our log groups,
which is noise, not a leak (README, "What the resource rules cost").
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from iamwarden.domain.catalog import RuleSpec
from iamwarden.domain.documents import PolicyKind
from iamwarden.guardrails.remediation import AccountClients
from iamwarden.guardrails.resource_policy import PolicyResource, RemovePolicyStatements, ResourcePolicyRule

_EVENTS = frozenset({"PutDestinationPolicy"})

LOGS_DESTINATION_POLICY_PUBLIC = RuleSpec(
    id="logs-destination-policy-public",
    title="CloudWatch Logs destination policy open to the public",
    event_source="logs.amazonaws.com",
    event_names=_EVENTS,
    risk=(
        "A destination policy that lets in everyone lets any AWS account subscribe its log groups to the "
        "destination, pouring events into this organisation's log pipeline."
    ),
    alert_risk=(
        "Anyone with an AWS account can subscribe their logs to this destination, so strangers can flood or poison "
        "the log stream behind it (and run up its cost) under our name."
    ),
    resource_types=frozenset({"AWS::Logs::Destination"}),
)

LOGS_DESTINATION_POLICY_CROSS_ACCOUNT = RuleSpec(
    id="logs-destination-policy-cross-account",
    title="CloudWatch Logs destination policy shared with an untrusted account",
    event_source="logs.amazonaws.com",
    event_names=_EVENTS,
    risk=(
        "A destination policy that lets in accounts outside the organisation lets them feed log events into this "
        "organisation's pipeline, which it can neither vouch for nor stop."
    ),
    alert_risk=(
        "Accounts outside this organisation can subscribe their logs to this destination, and what they send "
        "arrives in our log stream as if it were ours."
    ),
    resource_types=frozenset({"AWS::Logs::Destination"}),
)

DESTINATION = PolicyResource(
    noun="log destination",
    name_parameter="destinationName",
    document_parameter="accessPolicy",
    kind=PolicyKind.LOGS_DESTINATION,
    arn=lambda partition, region, account, name: f"arn:{partition}:logs:{region}:{account}:destination:{name}",
    step_parameter="destination",
    resource_type="AWS::Logs::Destination",
    service_wildcard="logs:*",
    verbs=(
        ("logs:PutSubscriptionFilter", "subscribe log groups"),
        ("logs:PutDestinationPolicy", "change the destination's permissions"),
    ),
)

#: The Sid of the policy written when every statement offended (a destination policy cannot be deleted).
OWNER_ONLY_SID = "IamWardenOwnerOnly"


def owner_only(account: str) -> str:
    """A destination policy granting nothing beyond what a destination without one allows: its own account."""
    statement = {
        "Sid": OWNER_ONLY_SID,
        "Effect": "Allow",
        "Principal": {"AWS": account},
        "Action": "logs:PutSubscriptionFilter",
        "Resource": "*",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


class _NoDestination(Exception):
    """The destination is gone (DescribeDestinations does not list it), shaped like a botocore error."""

    code = "ResourceNotFoundException"

    def __init__(self, name: str) -> None:
        super().__init__(f"no log destination {name}")
        self.response = {"Error": {"Code": self.code, "Message": f"no log destination {name}"}}


def _is_owner_only(policy: str) -> bool:
    try:
        document: Any = json.loads(policy)
    except ValueError:
        return False
    statements = document.get("Statement") if isinstance(document, dict) else None
    return (
        isinstance(statements, list)
        and len(statements) == 1
        and isinstance(statements[0], dict)
        and statements[0].get("Sid") == OWNER_ONLY_SID
    )


class LogsDestinationPolicyEndpoint:
    """A destination's access policy: read from DescribeDestinations, written with PutDestinationPolicy.

    ``delete`` writes ``owner_only`` (there is no DeleteDestinationPolicy), and ``get`` reads that policy
    back as none, so an undo restores exactly the statements removed.
    """

    get_permission: ClassVar[str] = "logs:DescribeDestinations"
    put_permission: ClassVar[str] = "logs:PutDestinationPolicy"
    delete_permission: ClassVar[str] = "logs:PutDestinationPolicy"
    no_policy_codes: ClassVar[frozenset[str]] = frozenset()
    no_resource_codes: ClassVar[frozenset[str]] = frozenset({_NoDestination.code})

    def get(self, aws: AccountClients, name: str) -> str | None:
        logs = aws.client("logs")
        token: str | None = None
        while True:
            page = logs.describe_destinations(DestinationNamePrefix=name, **({"nextToken": token} if token else {}))
            for destination in page.get("destinations", []):
                if destination.get("destinationName") == name:
                    policy = destination.get("accessPolicy")
                    return str(policy) if policy and not _is_owner_only(str(policy)) else None
            token = page.get("nextToken")
            if not token:
                raise _NoDestination(name)

    def put(self, aws: AccountClients, name: str, policy: str) -> None:
        force = {"forceUpdate": True} if "aws:principalorgid" in policy.lower() else {}
        aws.client("logs").put_destination_policy(destinationName=name, accessPolicy=policy, **force)

    def delete(self, aws: AccountClients, name: str) -> None:
        self.put(aws, name, owner_only(aws.account))


REMOVE_DESTINATION_POLICY_STATEMENTS = RemovePolicyStatements(
    "remove_logs_destination_policy_statements", DESTINATION, LogsDestinationPolicyEndpoint()
)
LOGS_DESTINATION_POLICY_RULE = ResourcePolicyRule(
    LOGS_DESTINATION_POLICY_PUBLIC,
    LOGS_DESTINATION_POLICY_CROSS_ACCOUNT,
    DESTINATION,
    REMOVE_DESTINATION_POLICY_STATEMENTS,
)

GUARDRAILS = (LOGS_DESTINATION_POLICY_RULE,)
ACTIONS = (REMOVE_DESTINATION_POLICY_STATEMENTS,)
