"""The account's starting state and a short attack story, played with real boto3 calls.

Modelled on public attacker techniques (MITRE ATT&CK for cloud): a backdoor
IAM user with an access key (T1136.003), AdministratorAccess attached to an
application role (T1098.003), a bucket opened to the world (T1530) and a
bucket shared with an unknown account (T1537), with benign changes in between
that IAM Warden must leave alone. Each step says what it expects; the runner
compares that with what happened and with the state read back afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import boto3
from botocore.exceptions import ClientError

from demo import cloudtrail
from demo.cloudtrail import Caller
from iamwarden.adapters.audit import AuditLog
from iamwarden.adapters.recorded import AuditRecorded, take_attachment_snapshots

REGION = "us-east-1"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
LAMBDA_BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
UNKNOWN_ACCOUNT = "999988887777"
REMEDIATED_RULES = (
    "iam-user-created",
    "managed-policy-attached",
    "s3-bucket-policy-public",
    "s3-bucket-policy-cross-account",
)
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


class Check(NamedTuple):
    ok: bool
    state: str


class Step(NamedTuple):
    title: str
    technique: str  # "benign" or the ATT&CK technique
    act: Callable[[], list[dict[str, Any]]]  # makes the calls, returns their CloudTrail events
    routed: tuple[str, ...]  # event names the template's rules must route to the enforcer
    verdict: str  # the enforcer's verdict on the routed event ("" when nothing is routed)
    outcomes: dict[str, str]  # rule -> outcome expected
    check: Callable[[], Check]  # the state read back afterwards


def _trust_account(account: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}
        ],
    }


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class Account:
    """The emulated account: its starting state, the people in it, and the story's calls."""

    def __init__(self, session: Any, endpoint: str, settings_prefix: str) -> None:
        self.session = session
        self.endpoint = endpoint
        self.prefix = settings_prefix
        self.iam = session.client("iam")
        self.s3 = session.client("s3")
        self.account = str(session.client("sts").get_caller_identity()["Account"])
        self.developer: Any = None
        self.caller: Caller | None = None

    # --- starting state -------------------------------------------------------------------------

    def set_up(self, slack_url: str, slack_secret: str) -> list[str]:
        """Roles with owners, buckets, a customer-managed policy, the Slack secret, rules in remediate."""
        done = []
        roles = {
            "developer": ("platform", _trust_account(self.account)),
            "secops": ("security", _trust_account(self.account)),
            "app-backend": ("payments", LAMBDA_TRUST),
            "orders-worker": ("orders", LAMBDA_TRUST),
        }
        for name, (owner, trust) in roles.items():
            self.iam.create_role(
                RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), Tags=[{"Key": "owner", "Value": owner}]
            )
        done.append("roles developer, secops, app-backend, orders-worker (tagged with their owner team)")
        self.iam.create_policy(
            PolicyName="acme-app-read",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
            ),
        )
        done.append("customer-managed policy acme-app-read")
        for bucket, owner in (("acme-invoices", "payments"), ("acme-exports", "data"), ("acme-logs", "platform")):
            self.s3.create_bucket(Bucket=bucket)
            self.s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "owner", "Value": owner}]})
        done.append("buckets acme-invoices, acme-exports, acme-logs (tagged with their owner team)")
        self.session.client("secretsmanager").put_secret_value(SecretId=slack_secret, SecretString=slack_url)
        done.append(f"Slack webhook secret {slack_secret} -> the local receiver")
        ssm = self.session.client("ssm")
        for rule in REMEDIATED_RULES:
            ssm.put_parameter(Name=f"{self.prefix}/rules/{rule}/mode", Value="remediate", Type="String", Overwrite=True)
        done.append(f"{self.prefix}/rules/<rule>/mode = remediate for {', '.join(REMEDIATED_RULES)}")
        self.developer, self.caller = self.assume("developer", "dev@example.com", "203.0.113.61")
        return done

    def heartbeat_read(self, audit_table: str) -> str:
        """What every principal holds, read and stored as the heartbeat (and the deploy's first snapshot) does: only a
        record from before an attach says whether the attach added anything (moto runs no custom resource)."""
        dynamodb = self.session.client("dynamodb")
        # A second before any event made after it (CloudTrail's times are whole seconds).
        taken = (datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)).isoformat(timespec="milliseconds")
        stored = AuditRecorded(AuditLog(audit_table, dynamodb), dynamodb).put_all(
            take_attachment_snapshots(self.iam, self.account, taken, pages=self._authorization_details())
        )
        return f"the heartbeat's read of what the {stored} roles, users and groups hold, kept in {audit_table}"

    def _authorization_details(self) -> list[dict[str, Any]]:
        """GetAccountAuthorizationDetails as the heartbeat reads it, its roles assembled from ListRoles and
        ListAttachedRolePolicies: moto_server answers a 500 for roles its CloudFormation created with inline policies
        (it URL-quotes their documents as dicts), and the stack's roles are such."""
        users_and_groups = self.iam.get_account_authorization_details(Filter=["User", "Group"])
        roles = [
            {
                "RoleName": role["RoleName"],
                "Arn": role["Arn"],
                "AttachedManagedPolicies": self.iam.list_attached_role_policies(RoleName=role["RoleName"])[
                    "AttachedPolicies"
                ],
            }
            for page in self.iam.get_paginator("list_roles").paginate()
            for role in page["Roles"]
        ]
        return [users_and_groups, {"RoleDetailList": roles}]

    def assume(self, role: str, session_name: str, source_ip: str) -> tuple[Any, Caller]:
        """A boto3 session of ``role`` (sts:AssumeRole), and the Caller CloudTrail would record for it."""
        role_arn = f"arn:aws:iam::{self.account}:role/{role}"
        answer = self.session.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session_name)
        credentials = answer["Credentials"]
        session = boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=REGION,
        )
        role_id = str(answer["AssumedRoleUser"]["AssumedRoleId"]).split(":", 1)[0]
        caller = Caller(
            self.account, role, role_arn, role_id, session_name, credentials["AccessKeyId"], source_ip, cloudtrail.now()
        )
        return session, caller

    def credentials(self, role: str, session_name: str) -> dict[str, str]:
        answer = self.session.client("sts").assume_role(
            RoleArn=role if role.startswith("arn:") else f"arn:aws:iam::{self.account}:role/{role}",
            RoleSessionName=session_name,
        )
        return {key: str(value) for key, value in answer["Credentials"].items()}

    # --- the story's calls (made with the developer's session) ----------------------------------

    def _who(self) -> tuple[Any, Caller]:
        if self.developer is None or self.caller is None:
            raise RuntimeError("set_up() first")
        return self.developer, self.caller

    def create_backdoor_user(self) -> list[dict[str, Any]]:
        session, caller = self._who()
        iam = session.client("iam")
        user = iam.create_user(UserName="backdoor-admin")["User"]
        key = iam.create_access_key(UserName="backdoor-admin")["AccessKey"]
        return [cloudtrail.create_user(caller, REGION, user), cloudtrail.create_access_key(caller, REGION, key)]

    def attach(self, role: str, policy_arn: str) -> list[dict[str, Any]]:
        session, caller = self._who()
        session.client("iam").attach_role_policy(RoleName=role, PolicyArn=policy_arn)
        return [cloudtrail.attach_role_policy(caller, REGION, role, policy_arn)]

    def put_policy(self, bucket: str, statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
        session, caller = self._who()
        policy = {"Version": "2012-10-17", "Statement": statements}
        text = json.dumps(policy)
        session.client("s3").put_bucket_policy(Bucket=bucket, Policy=text)
        return [cloudtrail.put_bucket_policy(caller, REGION, bucket, policy, len(text))]

    # --- state read back ------------------------------------------------------------------------

    def attached(self, role: str) -> list[str]:
        return [p["PolicyArn"] for p in self.iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]]

    def bucket_sids(self, bucket: str) -> list[str] | None:
        try:
            policy = json.loads(self.s3.get_bucket_policy(Bucket=bucket)["Policy"])
        except ClientError as exc:
            if _code(exc) == "NoSuchBucketPolicy":
                return None
            raise
        return [str(statement.get("Sid", "?")) for statement in policy["Statement"]]

    def user_state(self, user: str) -> Check:
        policies = self.iam.list_user_policies(UserName=user)["PolicyNames"]
        keys = [key["Status"] for key in self.iam.list_access_keys(UserName=user)["AccessKeyMetadata"]]
        quarantined = "iamwarden-quarantine" in policies and keys == ["Inactive"]
        return Check(quarantined, f"inline policies {policies}, access keys {keys}")

    def role_state(self, role: str, policy_arn: str, *, expect_attached: bool) -> Check:
        attached = self.attached(role)
        names = [arn.rsplit("/", 1)[-1] for arn in attached]
        return Check((policy_arn in attached) == expect_attached, f"{role} has {names or 'no managed policies'}")

    def bucket_state(self, bucket: str, expected: list[str] | None) -> Check:
        sids = self.bucket_sids(bucket)
        shown = "no bucket policy" if sids is None else f"policy statements {sids}"
        return Check(sids == expected, f"{bucket}: {shown}")


def story(account: Account) -> list[Step]:
    """The story, in order."""
    public_read = {
        "Sid": "PublicRead",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::acme-invoices/*",
    }
    own = {
        "Sid": "OwnAccount",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account.account}:root"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::acme-exports/*",
    }
    vendor = {
        "Sid": "ShareWithVendor",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{UNKNOWN_ACCOUNT}:root"},
        "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": ["arn:aws:s3:::acme-exports", "arn:aws:s3:::acme-exports/*"],
    }
    tls_only = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::acme-logs", "arn:aws:s3:::acme-logs/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    customer_policy = f"arn:aws:iam::{account.account}:policy/acme-app-read"
    return [
        Step(
            "attach AWSLambdaBasicExecutionRole to role orders-worker",
            "benign",
            lambda: account.attach("orders-worker", LAMBDA_BASIC),
            ("AttachRolePolicy",),
            "compliant",
            {},
            lambda: account.role_state("orders-worker", LAMBDA_BASIC, expect_attached=True),
        ),
        Step(
            "create IAM user backdoor-admin with an access key",
            "T1136.003 Create Account: Cloud Account",
            account.create_backdoor_user,
            ("CreateUser", "CreateAccessKey"),
            "violation",
            # access-key-created stays in alert mode: the quarantine has already deactivated the key.
            {"iam-user-created": "remediated", "access-key-created": "alerted"},
            lambda: account.user_state("backdoor-admin"),
        ),
        Step(
            "attach AdministratorAccess to role app-backend",
            "T1098.003 Account Manipulation: Additional Cloud Roles",
            lambda: account.attach("app-backend", ADMIN),
            ("AttachRolePolicy",),
            "violation",
            {"managed-policy-attached": "remediated"},
            lambda: account.role_state("app-backend", ADMIN, expect_attached=False),
        ),
        Step(
            "attach customer-managed policy acme-app-read to role orders-worker",
            "benign",
            lambda: account.attach("orders-worker", customer_policy),
            # Routed for privilege-escalation: the enforcer reads the policy live; read-only, so compliant.
            ("AttachRolePolicy",),
            "compliant",
            {},
            lambda: account.role_state("orders-worker", customer_policy, expect_attached=True),
        ),
        Step(
            "open bucket acme-invoices to the world (Principal *)",
            "T1530 Data from Cloud Storage",
            lambda: account.put_policy("acme-invoices", [public_read]),
            ("PutBucketPolicy",),
            "violation",
            {"s3-bucket-policy-public": "remediated"},
            lambda: account.bucket_state("acme-invoices", None),
        ),
        Step(
            f"share bucket acme-exports with unknown account {UNKNOWN_ACCOUNT}",
            "T1537 Transfer Data to Cloud Account",
            lambda: account.put_policy("acme-exports", [own, vendor]),
            ("PutBucketPolicy",),
            "violation",
            {"s3-bucket-policy-cross-account": "remediated"},
            lambda: account.bucket_state("acme-exports", ["OwnAccount"]),
        ),
        Step(
            "require TLS on bucket acme-logs (Deny when aws:SecureTransport is false)",
            "benign",
            lambda: account.put_policy("acme-logs", [tls_only]),
            ("PutBucketPolicy",),
            "compliant",
            {},
            lambda: account.bucket_state("acme-logs", ["DenyInsecureTransport"]),
        ),
    ]


def launch_page_step(account: Account) -> Step:
    """The change an approved exception covers: acme-invoices opened to the world again, and left alone."""
    public_read = {
        "Sid": "PublicRead",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::acme-invoices/*",
    }
    return Step(
        "open bucket acme-invoices to the world again (the launch page, under an approved exception)",
        "benign",
        lambda: account.put_policy("acme-invoices", [public_read]),
        ("PutBucketPolicy",),
        "compliant",
        {},
        lambda: account.bucket_state("acme-invoices", ["PublicRead"]),
    )
