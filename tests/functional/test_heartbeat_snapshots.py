"""The heartbeat refreshes the evasion snapshots on each run (moto): trails and boundaries, as the template wires it.

A restore of a trail (cloudtrail-logging-impaired) or of a boundary (permissions-boundary-weakened) reads IAM
Warden's own last-known-good snapshot from the audit table; the heartbeat, built from the template's
environment by ``build_heartbeat``, takes them every run. A trail in a bad state is never snapshotted (the good one
stays), and a refresh that fails is one more problem in the heartbeat's alert.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from iamwarden.adapters.recorded import AuditRecorded
from iamwarden.app.heartbeat import Heartbeat, SnapshotRefresh, build_heartbeat
from iamwarden.domain.recorded import BOUNDARY, IDENTITY_PROVIDER, OWN_ROLE, TRAIL
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account
from tests.sam_template import translated_template

REGION = "eu-west-1"
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{HOME_ACCOUNT}:trail/org-audit"
ROLE_ARN = f"arn:aws:iam::{HOME_ACCOUNT}:role/team-deployer"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})


def _environment(account: Account) -> dict[str, str]:
    """The heartbeat's environment as the template sets it (its own variables and the globals it reads)."""
    variables = translated_template()["Resources"]["HeartbeatFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["IAMWARDEN_AUDIT_TABLE"] == {"Ref": "AuditTable"}
    return {
        "IAMWARDEN_OWN_RULES": "iamwarden-heartbeat",
        "IAMWARDEN_ENFORCER_ARN": f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:iamwarden-enforcer",
        "IAMWARDEN_CENTRAL_BUS_ARN": f"arn:aws:events:{REGION}:{HOME_ACCOUNT}:event-bus/iamwarden-central",
        "IAMWARDEN_ENFORCER_ROLE_NAME": "iamwarden-enforcer",
        "IAMWARDEN_ALERT_TOPIC_ARN": f"arn:aws:sns:{REGION}:{HOME_ACCOUNT}:iamwarden-alerts",
        "IAMWARDEN_AUDIT_TABLE": account.config.audit_table,
        "IAMWARDEN_HOME_ACCOUNT": HOME_ACCOUNT,
        "AWS_REGION": REGION,
    }


class _Whole(Heartbeat):
    """The real heartbeat with its loop checks answered whole: this file is about the snapshots."""

    def problems(self) -> list[str]:
        return []


class _Topic:
    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, **request: Any) -> None:
        self.published.append(request)


def _heartbeat(account: Account, topic: _Topic | None = None) -> Heartbeat:
    built = build_heartbeat(account.session, _environment(account))
    assert built.snapshots is not None, "the template's environment names the audit table: snapshots are refreshed"
    return _Whole(built.config, None, None, built.iam, topic or _Topic(), snapshots=built.snapshots)


def _trail(account: Account, *, logging: bool) -> Any:
    account.s3.create_bucket(Bucket="acme-cloudtrail-logs", CreateBucketConfiguration={"LocationConstraint": REGION})
    cloudtrail = account.session.client("cloudtrail", region_name=REGION)
    cloudtrail.create_trail(Name="org-audit", S3BucketName="acme-cloudtrail-logs", IsMultiRegionTrail=True)
    if logging:
        cloudtrail.start_logging(Name="org-audit")
    return cloudtrail


def _boundary(account: Account) -> str:
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    policy = account.iam.create_policy(PolicyName="deployer-boundary", PolicyDocument=json.dumps(document))
    arn = str(policy["Policy"]["Arn"])
    account.iam.create_role(RoleName="team-deployer", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=arn)
    return arn


def test_each_run_snapshots_the_good_trails_and_every_boundary(account: Account) -> None:
    _trail(account, logging=True)
    boundary = _boundary(account)

    result = _heartbeat(account).run()

    assert result["whole"] is True
    assert result["snapshots"] >= 2
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    trail = recorded.snapshot(TRAIL, TRAIL_ARN)
    assert trail is not None
    assert trail.data["logging"] is True
    role = recorded.snapshot(BOUNDARY, ROLE_ARN)
    assert role is not None
    assert role.data == {"boundary_arn": boundary}


def test_a_later_run_keeps_the_good_trail_once_it_is_stopped_and_follows_a_changed_boundary(account: Account) -> None:
    cloudtrail = _trail(account, logging=True)
    _boundary(account)
    heartbeat = _heartbeat(account)
    heartbeat.run()
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    first = recorded.snapshot(TRAIL, TRAIL_ARN)
    assert first is not None
    cloudtrail.stop_logging(Name="org-audit")
    account.iam.delete_role_permissions_boundary(RoleName="team-deployer")

    heartbeat.run()

    assert recorded.snapshot(TRAIL, TRAIL_ARN) == first, "a stopped trail is never the state to restore"
    role = recorded.snapshot(BOUNDARY, ROLE_ARN)
    assert role is not None
    assert role.data == {"boundary_arn": None}


def test_a_stopped_trail_is_never_snapshotted(account: Account) -> None:
    _trail(account, logging=False)

    _heartbeat(account).run()

    assert AuditRecorded(account.audit(), account.dynamodb).snapshot(TRAIL, TRAIL_ARN) is None


class _Denied:
    """A CloudTrail client whose every call is refused (the heartbeat's role lost its grant)."""

    def __getattr__(self, name: str) -> Any:
        def refuse(**_: Any) -> Any:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "denied"}}, name)

        return refuse


def test_a_refresh_that_fails_is_alerted_and_the_other_kind_is_still_taken(account: Account) -> None:
    _boundary(account)
    topic = _Topic()
    built = _heartbeat(account, topic)
    assert built.snapshots is not None
    denied = SnapshotRefresh(
        built.snapshots.store, _Denied(), built.snapshots.iam, HOME_ACCOUNT, region=REGION, clock=lambda: "t"
    )
    heartbeat = _Whole(built.config, None, None, built.iam, topic, snapshots=denied)

    result = heartbeat.run()

    assert result["whole"] is False
    [problem] = result["problems"]
    assert "trails" in problem
    assert "AccessDeniedException" in problem
    [alert] = topic.published
    assert problem in alert["Message"]
    role = AuditRecorded(account.audit(), account.dynamodb).snapshot(BOUNDARY, ROLE_ARN)
    assert role is not None
    assert role.taken_at == "t"


@pytest.mark.parametrize("missing", ["IAMWARDEN_AUDIT_TABLE", "IAMWARDEN_HOME_ACCOUNT", "AWS_REGION"])
def test_without_a_table_account_or_region_the_heartbeat_refreshes_nothing(account: Account, missing: str) -> None:
    environment = {k: v for k, v in _environment(account).items() if k != missing}
    assert build_heartbeat(account.session, environment).snapshots is None


def test_each_run_snapshots_the_trust_and_inline_policies_of_iam_wardens_own_roles(account: Account) -> None:
    role = "iamwarden-enforcer-eu-west-1"
    trust = {"Version": "2012-10-17", "Statement": []}
    runtime = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}],
    }
    account.iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    account.iam.put_role_policy(RoleName=role, PolicyName="enforcer-runtime", PolicyDocument=json.dumps(runtime))
    environment = {
        **_environment(account),
        "IAMWARDEN_OWN_ROLE_ARNS": f"enforcer=arn:aws:iam::{HOME_ACCOUNT}:role/{role},"
        f"pruner=arn:aws:iam::{HOME_ACCOUNT}:role/iamwarden-pruner-eu-west-1",  # not there: skipped
    }
    built = build_heartbeat(account.session, environment)
    assert built.snapshots is not None
    assert built.snapshots.own_roles == (role, "iamwarden-pruner-eu-west-1")

    _Whole(built.config, None, None, built.iam, _Topic(), snapshots=built.snapshots).run()

    snapshot = AuditRecorded(account.audit(), account.dynamodb).snapshot(
        OWN_ROLE, f"arn:aws:iam::{HOME_ACCOUNT}:role/{role}"
    )
    assert snapshot is not None
    role_id = account.iam.get_role(RoleName=role)["Role"]["RoleId"]
    assert snapshot.data == {"trust_policy": trust, "inline": {"enforcer-runtime": runtime}, "role_id": role_id}


def test_each_run_snapshots_every_identity_provider(account: Account) -> None:
    """identity-provider-unknown restores an update from these: the thumbprints and client ids, the metadata."""
    oidc = account.iam.create_open_id_connect_provider(
        Url="https://oidc.ci-runner.example.net", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["a" * 40]
    )["OpenIDConnectProviderArn"]
    metadata = load_event("create-saml-provider-unknown.json")["detail"]["requestParameters"]["sAMLMetadataDocument"]
    saml = account.iam.create_saml_provider(Name="corp-sso", SAMLMetadataDocument=metadata)["SAMLProviderArn"]

    result = _heartbeat(account).run()

    assert result["whole"] is True
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    taken = recorded.snapshot(IDENTITY_PROVIDER, oidc)
    assert taken is not None
    assert (taken.data["client_ids"], taken.data["thumbprints"]) == (["sts.amazonaws.com"], ["a" * 40])
    saml_taken = recorded.snapshot(IDENTITY_PROVIDER, saml)
    assert saml_taken is not None
    assert saml_taken.data == {"type": "saml", "metadata": metadata}
    account.iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=oidc, ThumbprintList=["b" * 40])
    _heartbeat(account).run()
    later = recorded.snapshot(IDENTITY_PROVIDER, oidc)
    assert later is not None
    assert later.data["thumbprints"] == ["b" * 40]
