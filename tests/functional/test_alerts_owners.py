"""Owner routing from tags on each resource type and on the caller, against moto IAM and S3."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from iamwarden.adapters.clients import ClientFactory
from iamwarden.adapters.owners import OwnerResolver, principal_of_actor, principal_of_arn, team_from_tags
from iamwarden.alerts.message import Owner
from iamwarden.alerts.settings import AlertSettings, Destination
from iamwarden.app.dispatcher import AlertDispatcher
from iamwarden.app.notifications import Notification
from iamwarden.domain.exceptions import AwsAccessError
from iamwarden.domain.findings import Finding, Outcome
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

KEYS = ("owner", "team")


class Aws(NamedTuple):
    factory: ClientFactory
    iam: Any
    s3: Any


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        yield Aws(
            ClientFactory("111122223333", session=session),
            session.client("iam"),
            session.client("s3", region_name="eu-west-1"),
        )


def finding(event: str, settings: Settings) -> Finding:
    return judge_event(load_event(event), settings).findings[0]


def test_a_roles_tag_names_its_owner(aws: Aws, example_settings: Settings) -> None:
    aws.iam.create_role(
        RoleName="app-backend", AssumeRolePolicyDocument="{}", Tags=[{"Key": "Team", "Value": "payments"}]
    )
    aws.iam.create_role(
        RoleName="developer", AssumeRolePolicyDocument="{}", Tags=[{"Key": "team", "Value": "platform"}]
    )
    owner = OwnerResolver(aws.factory).owner_of(finding("attach-admin-to-role.json", example_settings), KEYS)
    assert owner == Owner("payments", "tag Team on role app-backend")


def test_a_users_tag_names_its_owner(aws: Aws, example_settings: Settings) -> None:
    aws.iam.create_user(
        UserName="backdoor-admin", Tags=[{"Key": "owner", "Value": "ops"}, {"Key": "team", "Value": "x"}]
    )
    owner = OwnerResolver(aws.factory).owner_of(finding("create-user-backdoor-cli.json", example_settings), KEYS)
    assert owner == Owner("ops", "tag owner on user backdoor-admin")


def test_a_buckets_tag_names_its_owner(aws: Aws, example_settings: Settings) -> None:
    aws.s3.create_bucket(Bucket="acme-invoices", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    aws.s3.put_bucket_tagging(Bucket="acme-invoices", Tagging={"TagSet": [{"Key": "team", "Value": "billing"}]})
    owner = OwnerResolver(aws.factory).owner_of(finding("bucket-policy-public-read.json", example_settings), KEYS)
    assert owner == Owner("billing", "tag team on bucket acme-invoices")


def test_the_configured_tag_keys_are_tried_in_order(aws: Aws, example_settings: Settings) -> None:
    aws.iam.create_user(
        UserName="backdoor-admin", Tags=[{"Key": "owner", "Value": "ops"}, {"Key": "cost-center", "Value": "cc-7"}]
    )
    resolver = OwnerResolver(aws.factory)
    found = finding("create-user-backdoor-cli.json", example_settings)
    assert resolver.owner_of(found, ("cost-center", "owner")) == Owner("cc-7", "tag cost-center on user backdoor-admin")


def test_an_untagged_bucket_falls_back_to_the_callers_role(aws: Aws, example_settings: Settings) -> None:
    aws.s3.create_bucket(Bucket="acme-exports", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    aws.iam.create_role(
        RoleName="terraform-deployer", AssumeRolePolicyDocument="{}", Tags=[{"Key": "owner", "Value": "platform"}]
    )
    owner = OwnerResolver(aws.factory).owner_of(finding("bucket-policy-unknown-account.json", example_settings), KEYS)
    assert owner == Owner("platform", "tag owner on role terraform-deployer, which made the change")


def test_a_group_has_no_tags_so_the_caller_owns_it(aws: Aws, example_settings: Settings) -> None:
    found = finding("attach-iamfullaccess-to-group.json", example_settings)
    issuer = principal_of_actor(found.actor)
    assert issuer is not None
    aws.iam.create_role(
        RoleName=issuer.name,
        Path="/aws-reserved/sso.amazonaws.com/",
        AssumeRolePolicyDocument="{}",
        Tags=[{"Key": "team", "Value": "cloud-admins"}],
    )
    owner = OwnerResolver(aws.factory).owner_of(found, KEYS)
    assert owner == Owner("cloud-admins", f"tag team on role {issuer.name}, which made the change")


def test_an_iam_user_caller_owns_what_it_changed(aws: Aws, example_settings: Settings) -> None:
    aws.iam.create_user(UserName="alice", Tags=[{"Key": "team", "Value": "data"}])
    owner = OwnerResolver(aws.factory).owner_of(finding("create-user-backdoor-cli.json", example_settings), KEYS)
    assert owner == Owner("data", "tag team on user alice, which made the change")


def test_nothing_tagged_means_unknown(aws: Aws, example_settings: Settings) -> None:
    aws.iam.create_role(RoleName="app-backend", AssumeRolePolicyDocument="{}", Tags=[{"Key": "team", "Value": "  "}])
    assert OwnerResolver(aws.factory).owner_of(finding("attach-admin-to-role.json", example_settings), KEYS) is None


def test_a_deleted_resource_falls_back_without_raising(aws: Aws, example_settings: Settings) -> None:
    # Neither user backdoor-admin nor caller alice exists: NoSuchEntity twice, logged, owner unknown.
    assert OwnerResolver(aws.factory).owner_of(finding("create-user-backdoor-cli.json", example_settings), KEYS) is None


def test_a_missing_bucket_falls_back_without_raising(aws: Aws, example_settings: Settings) -> None:
    assert (
        OwnerResolver(aws.factory).owner_of(finding("bucket-policy-public-read.json", example_settings), KEYS) is None
    )


class DenyingClient:
    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, name)

        return call


class DenyingFactory:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error

    def client(self, service: str, account: str, region: str) -> Any:
        if self.error:
            raise self.error
        return DenyingClient()


@pytest.mark.parametrize(
    "error", [None, AwsAccessError("cannot assume arn:aws:iam::111122223333:role/iamwarden-remediator")]
)
def test_access_denied_or_an_unreachable_account_means_unknown(
    example_settings: Settings, error: Exception | None, caplog: pytest.LogCaptureFixture
) -> None:
    resolver = OwnerResolver(DenyingFactory(error))  # type: ignore[arg-type]
    assert resolver.owner_of(finding("attach-admin-to-role.json", example_settings), KEYS) is None
    assert resolver.owner_of(finding("bucket-policy-public-read.json", example_settings), KEYS) is None
    assert resolver.account_alias("111122223333", "us-east-1") is None
    assert "cannot read tags" in caplog.text


def test_the_account_alias_is_read_once(aws: Aws) -> None:
    aws.iam.create_account_alias(AccountAlias="acme-prod")
    resolver = OwnerResolver(aws.factory)
    with aws.factory.call_log.recording() as calls:
        assert resolver.account_alias("111122223333", "us-east-1") == "acme-prod"
        assert resolver.account_alias("111122223333", "us-east-1") == "acme-prod"
    assert [call.iam_action for call in calls] == ["iam:ListAccountAliases"]


def test_no_alias_is_none(aws: Aws) -> None:
    assert OwnerResolver(aws.factory).account_alias("111122223333", "us-east-1") is None


def test_the_dispatcher_routes_to_the_tagged_team(aws: Aws, example_settings: Settings) -> None:
    aws.iam.create_role(
        RoleName="app-backend", AssumeRolePolicyDocument="{}", Tags=[{"Key": "team", "Value": "Payments"}]
    )
    aws.iam.create_account_alias(AccountAlias="acme-prod")
    sent: list[str] = []

    class Slack:
        def send(self, secret_name: str, payload: Any) -> None:
            sent.append(secret_name)

    dispatcher = AlertDispatcher(
        security=Destination(slack_webhook="iamwarden/slack/security"),
        settings=AlertSettings(teams={"payments": Destination(slack_webhook="iamwarden/slack/payments")}),
        slack=Slack(),
        owners=OwnerResolver(aws.factory),
    )
    judgement = judge_event(load_event("attach-admin-to-role.json"), example_settings)
    report = dispatcher.notify(Notification(Outcome.ALERTED, judgement.findings[0], judgement.change))
    assert report.failed == ()
    assert sent == ["iamwarden/slack/security", "iamwarden/slack/payments"]


def test_arn_and_tag_helpers() -> None:
    assert principal_of_arn("arn:aws:iam::111122223333:role/path/to/app") is not None
    assert principal_of_arn("arn:aws:iam::aws:policy/AdministratorAccess") is None
    assert principal_of_arn("arn:aws:s3:::bucket/key") is None
    assert principal_of_arn(None) is None
    assert principal_of_arn("nonsense") is None
    assert team_from_tags([{"Key": "OWNER", "Value": " sre "}], ("owner",)) == ("OWNER", "sre")
    assert team_from_tags([], ("owner",)) is None


class RecordingFactory:
    """The real factory, remembering which account each client was asked for."""

    def __init__(self, factory: ClientFactory) -> None:
        self.factory = factory
        self.accounts: list[tuple[str, str]] = []

    def client(self, service: str, account: str, region: str) -> Any:
        self.accounts.append((service, account))
        return self.factory.client(service, account, region)


def test_a_buckets_tags_are_read_in_the_events_account_not_account_empty(aws: Aws, example_settings: Settings) -> None:
    """S3 ARNs carry no account: the lookup must not reach for ``arn:aws:iam:::role/...`` (account "")."""
    aws.s3.create_bucket(Bucket="acme-invoices", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    aws.s3.put_bucket_tagging(Bucket="acme-invoices", Tagging={"TagSet": [{"Key": "team", "Value": "billing"}]})
    recording = RecordingFactory(aws.factory)
    bucket_finding = finding("bucket-policy-public-read.json", example_settings)
    owner = OwnerResolver(recording).owner_of(bucket_finding, KEYS)  # type: ignore[arg-type]
    assert owner == Owner("billing", "tag team on bucket acme-invoices")
    assert recording.accounts == [("s3", bucket_finding.account)]


def test_the_accounts_block_public_access_is_not_a_bucket(aws: Aws) -> None:
    """``arn:aws:s3::ACCOUNT:public-access-block`` is account-wide: no bucket tags are looked up for it."""
    assert principal_of_arn("arn:aws:s3::111122223333:public-access-block") is None
    assert principal_of_arn("arn:aws:s3:::public-access-block") == ("bucket", "public-access-block", "")
