"""The live documents reader keeps an AWS-managed policy's versions, never a customer-managed one's (issue 13 item 3:
every AWS-managed attachment is judged on the policy's document, read with GetPolicy and GetPolicyVersion)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from iamwarden.adapters.iam_documents import LiveManagedPolicyDocuments

AWS_POLICY = "arn:aws:iam::aws:policy/AmazonEC2FullAccess"
OWN_POLICY = "arn:aws:iam::111122223333:policy/app-deploy"
DOCUMENT = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}


class CountingIam:
    """IAM as the reader calls it, in any account; every call counted."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def client(self, service: str, account: str, region: str, *, logged: bool = True) -> CountingIam:
        return self

    def get_policy(self, PolicyArn: str) -> dict[str, Any]:
        self.calls["GetPolicy"] += 1
        return {"Policy": {"DefaultVersionId": "v5"}}

    def get_policy_version(self, PolicyArn: str, VersionId: str) -> dict[str, Any]:
        self.calls["GetPolicyVersion"] += 1
        return {"PolicyVersion": {"Document": DOCUMENT}}


def test_an_aws_managed_version_is_read_once_in_every_account_and_its_default_each_time() -> None:
    iam = CountingIam()
    reader = LiveManagedPolicyDocuments(iam)
    first = reader.default_version("111122223333", AWS_POLICY)
    second = reader.default_version("444455556666", AWS_POLICY)
    assert first == second
    assert first is not None
    assert first.document == DOCUMENT
    assert iam.calls == Counter({"GetPolicy": 2, "GetPolicyVersion": 1})


def test_a_customer_managed_version_is_read_each_time() -> None:
    """Deleted and created again under the same name, its v1 holds another document."""
    iam = CountingIam()
    reader = LiveManagedPolicyDocuments(iam)
    reader.version("111122223333", OWN_POLICY, "v1")
    reader.version("111122223333", OWN_POLICY, "v1")
    assert iam.calls["GetPolicyVersion"] == 2
