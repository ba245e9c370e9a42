"""A previous default whose text reads two ways but is harmless in every reading is restored as on main (review 3 of
s14, R1): otherwise an attacker makes a harmless duplicate-key text the default first, and every later admin
version is only alerted. A previous default unsafe in one reading is never restored, and one whose readings differ
on the change's methods leaves the finding alert-only (review 2 of s14, F2)."""

from __future__ import annotations

from typing import Any

import pytest

from iamwarden.domain.catalog import Mode
from iamwarden.domain.managed_documents import PolicyVersion, PolicyVersions, read_version
from iamwarden.domain.settings import RuleSettings, Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import SAMPLE_OWN, load_event

ARN = "arn:aws:iam::111122223333:policy/app-deploy"
ADMIN = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
KEYS = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"*"}]}'
TWO_BUCKETS = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",'
    '"Resource":"arn:aws:s3:::a/*","Resource":"arn:aws:s3:::b/*"}]}'
)
KEYS_ONE_WAY = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",'
    '"Action":"iam:CreateAccessKey","Resource":"*"}]}'
)


class Lister:
    def __init__(self, v1: PolicyVersion, v2: PolicyVersion) -> None:
        self.versions = {"v1": v1, "v2": v2}

    def default_version(self, account: str, policy: str) -> PolicyVersion | None:
        return self.versions["v2"] if policy == ARN else None

    def version(self, account: str, policy: str, version_id: str) -> PolicyVersion | None:
        return self.versions.get(version_id) if policy == ARN else None

    def policy_versions(self, account: str, policy: str) -> PolicyVersions | None:
        return PolicyVersions("v1", tuple(self.versions.values())) if policy == ARN else None


def _judge(v1_text: str, v2_text: str, sample: str) -> Any:
    event = load_event(sample)
    if "set-default" in sample:
        event["detail"]["requestParameters"]["versionId"] = "v2"
    else:
        event["detail"]["requestParameters"]["policyDocument"] = v2_text
        event["detail"]["responseElements"]["policyVersion"]["versionId"] = "v2"
    settings = Settings(
        own=SAMPLE_OWN,
        rules={rule: RuleSettings(rule, Mode.REMEDIATE) for rule in ("policy-version-admin", "privilege-escalation")},
    )
    return judge_event(event, settings, Lister(read_version("v1", v1_text), read_version("v2", v2_text)))


SAMPLES = ("set-default-policy-version.json", "create-policy-version-admin.json")


@pytest.mark.parametrize("sample", SAMPLES)
@pytest.mark.parametrize("v2_text", [ADMIN, KEYS])
def test_a_previous_default_read_two_ways_but_harmless_in_each_is_restored(sample: str, v2_text: str) -> None:
    assert read_version("v1", TWO_BUCKETS).readings  # it does read two ways
    judgement = _judge(TWO_BUCKETS, v2_text, sample)
    [finding] = judgement.findings
    assert finding.certain
    assert not finding.needs_context
    [step] = finding.plan
    assert step.parameters.get("previous_version") == "v1"
    assert "previous_unsafe" not in step.parameters


@pytest.mark.parametrize("sample", SAMPLES)
def test_a_previous_default_unsafe_in_one_reading_is_not_restored(sample: str) -> None:
    judgement = _judge(KEYS_ONE_WAY, KEYS, sample)
    [finding] = judgement.findings
    assert not finding.certain or finding.needs_context
    assert any("reads two ways" in need for need in finding.needs_context)
