"""``secret-policy-public`` and ``secret-policy-cross-account``: Secrets Manager resource policies.

``PutResourcePolicy`` (``secretId``, ``resourcePolicy``, ``blockPublicPolicy``) sets a
secret's policy. With ``blockPublicPolicy`` on, Secrets Manager itself refuses a policy
that opens the secret broadly, so such a call fails (``errorCode``) and is never acted on;
with it off, the policy is judged like any resource policy. The remediation rewrites the
live policy without the offending statements, or deletes it when nothing remains.
"""

from __future__ import annotations

from typing import ClassVar

from iamwarden.domain.catalog import RuleSpec
from iamwarden.domain.documents import PolicyKind
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.guardrails.base import RuleContext
from iamwarden.guardrails.remediation import AccountClients
from iamwarden.guardrails.resource_policy import PolicyResource, RemovePolicyStatements, ResourcePolicyRule

_EVENTS = frozenset({"PutResourcePolicy", "DeleteResourcePolicy"})

SECRET_POLICY_PUBLIC = RuleSpec(
    id="secret-policy-public",
    resource_types=frozenset({"AWS::SecretsManager::Secret"}),
    title="Secret policy open to the public",
    event_source="secretsmanager.amazonaws.com",
    event_names=_EVENTS,
    risk="A secret policy that lets in everyone lets anyone with an AWS account read the secret's value.",
    alert_risk=(
        "Anyone with an AWS account can use what this secret policy grants, such as reading the secret's value: "
        "a password, key or token that opens other systems."
    ),
)

SECRET_POLICY_CROSS_ACCOUNT = RuleSpec(
    id="secret-policy-cross-account",
    resource_types=frozenset({"AWS::SecretsManager::Secret"}),
    title="Secret policy shared with an untrusted account",
    event_source="secretsmanager.amazonaws.com",
    event_names=_EVENTS,
    risk=(
        "A secret policy that lets in accounts outside the organisation hands the secret's value to people this "
        "organisation does not control."
    ),
    alert_risk=(
        "People in accounts outside this organisation can read or change this secret as its policy grants, and "
        "we can neither see nor control who they are."
    ),
)


def secret_arn(partition: str, region: str, account: str, secret: str) -> str:
    """The secret's ARN, or, named by its name, the ARN without the random suffix Secrets Manager adds."""
    if secret.startswith("arn:"):
        fields = secret.split(":", 6)
        if len(fields) != 7 or fields[2] != "secretsmanager" or fields[5] != "secret":
            raise InvalidEventError(f"{secret!r} is not a Secrets Manager secret ARN")
        return secret
    return f"arn:{partition}:secretsmanager:{region}:{account}:secret:{secret}"


SECRET = PolicyResource(
    noun="secret",
    name_parameter="secretId",
    document_parameter="resourcePolicy",
    kind=PolicyKind.SECRET,
    arn=secret_arn,
    step_parameter="secret_id",
    resource_type="AWS::SecretsManager::Secret",
    service_wildcard="secretsmanager:*",
    verbs=(
        ("secretsmanager:GetSecretValue", "read the secret's value"),
        ("secretsmanager:PutSecretValue", "change the secret's value"),
        ("secretsmanager:PutResourcePolicy", "change the secret's permissions"),
        ("secretsmanager:DeleteSecret", "delete the secret"),
    ),
)


class SecretPolicyEndpoint:
    """A secret's resource policy, through Get/Put/DeleteResourcePolicy."""

    get_permission: ClassVar[str] = "secretsmanager:GetResourcePolicy"
    put_permission: ClassVar[str] = "secretsmanager:PutResourcePolicy"
    delete_permission: ClassVar[str] = "secretsmanager:DeleteResourcePolicy"
    no_policy_codes: ClassVar[frozenset[str]] = frozenset()
    no_resource_codes: ClassVar[frozenset[str]] = frozenset({"ResourceNotFoundException"})

    def get(self, aws: AccountClients, name: str) -> str | None:
        policy = aws.client("secretsmanager").get_resource_policy(SecretId=name).get("ResourcePolicy")
        return str(policy) if policy else None

    def put(self, aws: AccountClients, name: str, policy: str) -> None:
        aws.client("secretsmanager").put_resource_policy(SecretId=name, ResourcePolicy=policy)

    def delete(self, aws: AccountClients, name: str) -> None:
        aws.client("secretsmanager").delete_resource_policy(SecretId=name)


class SecretPolicyRule(ResourcePolicyRule):
    """PutResourcePolicy on a secret; the response's ARN names it exactly when the request named it by name."""

    def resource_arn(self, context: RuleContext, name: str) -> str:
        arn = (context.change.response_elements or {}).get("arn")
        if isinstance(arn, str) and arn.startswith("arn:"):
            return secret_arn(context.partition, context.change.region, context.change.account, arn)
        return super().resource_arn(context, name)

    def display_name(self, name: str) -> str:
        return name.split(":", 6)[-1] if name.startswith("arn:") else name


REMOVE_SECRET_POLICY_STATEMENTS = RemovePolicyStatements(
    "remove_secret_policy_statements", SECRET, SecretPolicyEndpoint()
)
#: ``DeleteResourcePolicy`` removes the policy: it judges nothing and clears IAM Warden's record of it
#: (issue 13 item 7). It names the resource by ``secretId``, as the put does: the Secrets Manager API model's
#: request member in CloudTrail's lowerCamel spelling (no recorded CloudTrail example was found to confirm it).
SECRET_POLICY_RULE = SecretPolicyRule(
    SECRET_POLICY_PUBLIC,
    SECRET_POLICY_CROSS_ACCOUNT,
    SECRET,
    REMOVE_SECRET_POLICY_STATEMENTS,
    deletions=frozenset({"DeleteResourcePolicy"}),
)

GUARDRAILS = (SECRET_POLICY_RULE,)
ACTIONS = (REMOVE_SECRET_POLICY_STATEMENTS,)
