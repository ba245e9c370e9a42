"""Every resource policy's removal clears IAM Warden's record of it (issue 13 item 7).

Each deletion event is the module's put sample with its event name changed and its policy dropped (the request then
names the resource as the put does: the service API model's request members; see the note beside each rule). Judged
with a record, it is compliant and keeps an empty document for the very resource (and slot) the put records, so a
later put's statements are all its own; offline it keeps nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import pytest

from iamwarden.domain.findings import Verdict
from iamwarden.domain.recorded import RESOURCE_POLICY, PastRemediation, Snapshot
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event


class NoRecord:
    def remediations(self, resource_arn: str) -> Sequence[PastRemediation]:
        return ()

    def snapshot(self, kind: str, resource_arn: str) -> Snapshot | None:
        return None


#: (the put sample, the deletion's event name, the put's request parameters that carry the policy)
CASES = [
    ("bucket-policy-public-read.json", "DeleteBucketPolicy", ("bucketPolicy",)),
    # review 2 N1: a deleted bucket's policy is gone too (a bucket re-created under the name starts with none)
    ("bucket-policy-public-read.json", "DeleteBucket", ("bucketPolicy",)),
    ("ecr-policy-public.json", "DeleteRepositoryPolicy", ("policyText",)),
    ("efs-policy-public.json", "DeleteFileSystemPolicy", ("policy", "bypassPolicyLockoutSafetyCheck")),
    ("backup-vault-policy-public.json", "DeleteBackupVaultAccessPolicy", ("policy",)),
    ("secret-policy-public.json", "DeleteResourcePolicy", ("resourcePolicy", "blockPublicPolicy")),
    ("dynamodb-policy-public.json", "DeleteResourcePolicy", ("policy",)),
    ("glacier-vault-policy-public.json", "DeleteVaultAccessPolicy", ("policy",)),
]


def _records(event: dict[str, Any]) -> list[Snapshot]:
    judgement = judge_event(event, Settings(), recorded=NoRecord())
    return [s for s in judgement.observed if s.kind.startswith(RESOURCE_POLICY)]


def _deletion(sample: str, name: str, policy_keys: tuple[str, ...]) -> dict[str, Any]:
    event = copy.deepcopy(load_event(sample))
    detail = event["detail"]
    detail["eventName"] = name
    for key in policy_keys:
        detail["requestParameters"].pop(key, None)
    if isinstance(detail.get("responseElements"), dict):  # Secrets Manager answers the secret's ARN and name
        detail["responseElements"] = {
            k: v for k, v in detail["responseElements"].items() if k in {"arn", "name", "resourceArn"}
        }
    return event


@pytest.mark.parametrize(("sample", "name", "policy_keys"), CASES, ids=[c[0].removesuffix(".json") for c in CASES])
def test_a_policy_removal_is_compliant_and_records_an_empty_document_for_the_put_s_resource(
    sample: str, name: str, policy_keys: tuple[str, ...]
) -> None:
    [put] = _records(load_event(sample))
    event = _deletion(sample, name, policy_keys)

    judgement = judge_event(event, Settings(), recorded=NoRecord())

    assert judgement.verdict is Verdict.COMPLIANT, judgement.reason
    assert judgement.findings == ()
    [cleared] = [s for s in judgement.observed if s.kind.startswith(RESOURCE_POLICY)]
    assert (cleared.kind, cleared.resource_arn, cleared.taken_at) == (put.kind, put.resource_arn, put.taken_at)
    assert cleared.data == {"policy": {"Statement": []}, "pending": []}
    assert cleared.whatever_the_verdict


@pytest.mark.parametrize(("sample", "name", "policy_keys"), [CASES[0], CASES[2]], ids=["bucket", "ecr"])
def test_offline_a_removal_keeps_nothing(sample: str, name: str, policy_keys: tuple[str, ...]) -> None:
    judgement = judge_event(_deletion(sample, name, policy_keys), Settings())
    assert judgement.verdict is Verdict.COMPLIANT
    assert judgement.observed == ()


def test_a_put_is_no_removal() -> None:
    [put] = _records(load_event("bucket-policy-public-read.json"))
    assert put.data["policy"]["Statement"]


def test_an_opensearch_access_policy_set_to_empty_is_a_removal_and_clears_the_record() -> None:
    """Review s13 F6: ``UpdateDomainConfig`` with ``accessPolicies`` "" removes the domain's policy (IAM Warden's own
    removal writes the same), like SQS's ``Policy`` "": the next put is judged against no policy."""
    [put] = _records(load_event("opensearch-policy-public.json"))
    event = copy.deepcopy(load_event("opensearch-policy-public.json"))
    event["detail"]["requestParameters"]["accessPolicies"] = ""

    judgement = judge_event(event, Settings(), recorded=NoRecord())

    assert judgement.verdict is Verdict.COMPLIANT, judgement.reason
    [cleared] = [s for s in judgement.observed if s.kind.startswith(RESOURCE_POLICY)]
    assert (cleared.kind, cleared.resource_arn) == (put.kind, put.resource_arn)
    assert cleared.data == {"policy": {"Statement": []}, "pending": []}
    assert "the change removes the policy of OpenSearch domain" in judgement.reason


def test_an_opensearch_change_without_an_access_policy_sets_none_and_keeps_no_record() -> None:
    judgement = judge_event(load_event("opensearch-config-no-policy.json"), Settings(), recorded=NoRecord())
    assert judgement.verdict is Verdict.COMPLIANT
    assert not [s for s in judgement.observed if s.kind.startswith(RESOURCE_POLICY)]
    assert "sets no access policy" in judgement.reason


def test_an_efs_policy_removal_says_the_default_policy_applies_again() -> None:
    """Review s13 F6: the EFS API reference (DeleteFileSystemPolicy): "The default FileSystemPolicy goes into effect
    once the existing policy is deleted", granting full access to clients that can reach a mount target."""
    event = _deletion("efs-policy-public.json", "DeleteFileSystemPolicy", ("policy", "bypassPolicyLockoutSafetyCheck"))
    judgement = judge_event(event, Settings(), recorded=NoRecord())
    assert "the default file system policy applies again" in judgement.reason
    assert "full access to any client that can reach" in judgement.reason
    assert "lets no one in" not in judgement.reason


def test_a_bucket_policy_removal_says_no_resource_policy_grants_access_any_more() -> None:
    event = _deletion("bucket-policy-public-read.json", "DeleteBucketPolicy", ("bucketPolicy",))
    judgement = judge_event(event, Settings(), recorded=NoRecord())
    assert "no resource policy grants anyone access any more" in judgement.reason
