"""The live documents reader keeps the text IAM returns, so a key named twice keeps every reading (session 13 note).

IAM's ``GetPolicyVersion`` answers ``Document`` as URL-encoded JSON text (the API model's ``policyDocumentType``, a
string); botocore's ``json_decode_policies`` (``after-call.iam``) turns it into a dict keeping each key's last
value. botocore's Stubber checks the answer against the real API model and runs the same after-call handlers.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import boto3
import pytest
from botocore.stub import Stubber

from iamwarden.adapters.errors import PermanentAwsError
from iamwarden.adapters.iam_documents import LiveManagedPolicyDocuments

POLICY = "arn:aws:iam::111122223333:policy/reports-reader"
TEXT = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Action": "s3:GetObject", '
    '"Resource": "*"}]}'
)


class OneClient:
    def __init__(self, iam: Any) -> None:
        self.iam = iam

    def client(self, service: str, account: str, region: str, *, logged: bool = True) -> Any:
        return self.iam


def _iam() -> Any:
    return boto3.client("iam", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")


def _answer(document: str) -> dict[str, Any]:
    return {"PolicyVersion": {"Document": document, "VersionId": "v1", "IsDefaultVersion": True}}


def test_a_url_encoded_text_naming_a_key_twice_keeps_its_other_reading() -> None:
    iam = _iam()
    with Stubber(iam) as stub:
        stub.add_response("get_policy_version", _answer(quote(TEXT, safe="")), {"PolicyArn": POLICY, "VersionId": "v1"})
        found = LiveManagedPolicyDocuments(OneClient(iam)).version("111122223333", POLICY, "v1")
    assert found is not None
    assert found.document["Statement"][0]["Action"] == "s3:GetObject"  # boto3's reading: the last value
    assert [reading["Statement"][0]["Action"] for reading in found.readings] == ["*"]


def test_a_text_with_one_reading_has_none_other_read_after_read() -> None:
    iam = _iam()
    reader = LiveManagedPolicyDocuments(OneClient(iam))
    one = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}'
    with Stubber(iam) as stub:
        for _ in range(2):
            stub.add_response("get_policy_version", _answer(quote(one, safe="")))
        first = reader.version("111122223333", POLICY, "v1")
        again = reader.version("111122223333", POLICY, "v1")
    assert first == again
    assert first is not None
    assert first.readings == ()


def test_a_policy_gone_is_none_and_a_refused_read_is_permanent() -> None:
    iam = _iam()
    reader = LiveManagedPolicyDocuments(OneClient(iam))
    with Stubber(iam) as stub:
        stub.add_client_error("get_policy_version", "NoSuchEntity", http_status_code=404)
        stub.add_client_error("get_policy_version", "AccessDenied", http_status_code=403)
        assert reader.version("111122223333", POLICY, "v1") is None
        with pytest.raises(PermanentAwsError):
            reader.version("111122223333", POLICY, "v1")
