"""The resource types IAM Warden guards, compared with the types IAM Access Analyzer analyses for external access.

Access Analyzer finds external access on these types, but only reports it, up to 30 minutes later
(issue 18). The list is data, from AWS's documentation:

* IAM User Guide, "IAM Access Analyzer supported resource types for external and internal access"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-resources.html), section
  "Supported resource types for external access";
* the same list as the valid values of ``resourceType`` in the Access Analyzer API reference,
  ``ListAnalyzedResources`` (https://docs.aws.amazon.com/access-analyzer/latest/APIReference/API_ListAnalyzedResources.html).

Each type maps to the rule that guards it (a registered rule id, or the start of one: ``sqs-queue-policy``
names ``sqs-queue-policy-public`` and ``sqs-queue-policy-cross-account``), or to the reason it is left out on
purpose. The guarded types are read from the registry: each rule's spec declares ``resource_types``.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from iamwarden.guardrails.registry import RULES

#: Access Analyzer's external-access resource types (the documentation above), each with the rule that guards it.
ACCESS_ANALYZER_TYPES: Mapping[str, str] = {
    "AWS::S3::Bucket": "s3-bucket-policy",
    "AWS::IAM::Role": "trust-policy-untrusted",
    "AWS::KMS::Key": "kms-key-policy",
    "AWS::Lambda::Function": "lambda-permission",
    "AWS::Lambda::LayerVersion": "lambda-permission",
    "AWS::SQS::Queue": "sqs-queue-policy",
    "AWS::SecretsManager::Secret": "secret-policy",
    "AWS::SNS::Topic": "sns-topic-policy",
    "AWS::EC2::Snapshot": "ebs-snapshot-shared",
    "AWS::ECR::Repository": "ecr-repository-policy",
    "AWS::RDS::DBSnapshot": "rds-snapshot-shared",
    "AWS::RDS::DBClusterSnapshot": "rds-snapshot-shared",
    "AWS::DynamoDB::Table": "dynamodb-resource-policy",
    "AWS::DynamoDB::Stream": "dynamodb-resource-policy",
    "AWS::EFS::FileSystem": "efs-file-system-policy",
    "AWS::S3Express::DirectoryBucket": "",
}

#: Types Access Analyzer analyses that IAM Warden leaves out, and why.
LEFT_OUT: Mapping[str, str] = {
    "AWS::S3Express::DirectoryBucket": (
        "directory bucket policies are set through the S3 Express endpoint (eventSource s3express.amazonaws.com) "
        "and cannot grant anonymous access; not guarded yet"
    ),
}

#: Types IAM Warden guards that Access Analyzer does not analyse for external access, and why they matter.
BEYOND_ACCESS_ANALYZER: Mapping[str, str] = {
    "AWS::EC2::Image": "a shared AMI hands out its disks (and any secret baked into them)",
    "AWS::S3::Object": "an object ACL can make one object public in a private bucket",
    "AWS::S3::AccessPoint": "Access Analyzer reports access points inside its bucket findings; each has a policy",
    "AWS::S3::MultiRegionAccessPoint": (
        "not in Access Analyzer's list of types; one global door into buckets in several Regions, with a policy "
        "of its own"
    ),
    "AWS::S3ObjectLambda::AccessPoint": (
        "not in Access Analyzer's list; its policy lets callers read data through a function, at this account's cost"
    ),
    "AWS::OpenSearchService::Domain": "a domain access policy opens every index behind the endpoint",
    "AWS::Backup::BackupVault": "a vault policy can let others copy or delete the backups",
    "AWS::Events::EventBus": "a bus policy lets other accounts put events that drive this account's rules",
    # Access Analyzer analyses neither (they are not in the list above).
    "AWS::Glacier::Vault": "a vault access policy lets others retrieve or delete archives; a lock policy is forever",
    "AWS::Logs::Destination": "a destination policy lets other accounts feed log events into this account's stream",
}


def _rules_named(expected: str) -> list[str]:
    return [rule_id for rule_id in RULES if rule_id == expected or rule_id.startswith(expected + "-")]


def _guarded_types() -> dict[str, set[str]]:
    """Each guarded resource type with the rules whose specs declare it."""
    guarded: dict[str, set[str]] = {}
    for rule_id, spec in RULES.items():
        for resource_type in spec.resource_types:
            guarded.setdefault(resource_type, set()).add(rule_id)
    return guarded


def _cases() -> list[object]:
    cases: list[object] = []
    for resource_type, rule in sorted(ACCESS_ANALYZER_TYPES.items()):
        cases.append(pytest.param(resource_type, rule, id=resource_type))
    return cases


@pytest.mark.parametrize(("resource_type", "rule"), _cases())
def test_every_access_analyzer_type_is_guarded_or_left_out_with_a_reason(resource_type: str, rule: str) -> None:
    if resource_type in LEFT_OUT:
        assert not rule, f"{resource_type} is both left out and guarded by {rule}"
        assert resource_type not in _guarded_types(), f"{resource_type} is guarded after all: take it out of LEFT_OUT"
        return
    rules = _rules_named(rule)
    assert rules, f"no registered rule is named {rule} (guarding {resource_type})"
    declaring = _guarded_types().get(resource_type, set())
    assert set(rules) <= declaring, f"{sorted(set(rules) - declaring)} do not declare {resource_type}"


def test_every_guarded_type_is_access_analyzers_or_explained() -> None:
    beyond = set(_guarded_types()) - set(ACCESS_ANALYZER_TYPES)
    assert beyond <= set(BEYOND_ACCESS_ANALYZER), "a new guarded type: say in BEYOND_ACCESS_ANALYZER why it matters"
    assert {
        "AWS::EC2::Image",
        "AWS::S3::Object",
        "AWS::S3::AccessPoint",
        "AWS::S3::MultiRegionAccessPoint",
        "AWS::S3ObjectLambda::AccessPoint",
    } <= beyond
    assert {"AWS::Glacier::Vault", "AWS::Logs::Destination"} <= beyond


def test_the_left_out_types_and_the_mapping_agree() -> None:
    assert set(LEFT_OUT) <= set(ACCESS_ANALYZER_TYPES)
    assert all(reason for reason in LEFT_OUT.values())
    assert all(rule or resource_type in LEFT_OUT for resource_type, rule in ACCESS_ANALYZER_TYPES.items())


def test_the_list_is_the_documented_one() -> None:
    """Sixteen types as of the ListAnalyzedResources reference; a new one must be added here deliberately."""
    assert len(ACCESS_ANALYZER_TYPES) == 16
