"""permissions-boundary-weakened on a new boundary that still bounds: compared with the one before it.

The previous boundary comes from the heartbeat's snapshot in the enforcer and from the authorization details
offline; unknown, the finding says so and is only alerted. Sample: put-role-permissions-boundary-wider.json.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from iamwarden.adapters.errors import PermanentAwsError
from iamwarden.domain.authorization_details import authorization_details_directory
from iamwarden.domain.findings import Judgement, Verdict
from iamwarden.domain.managed_documents import PolicyVersion
from iamwarden.domain.principals import RoleDirectory
from iamwarden.domain.recorded import BOUNDARY, PastRemediation, Snapshot
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

ROLE = "arn:aws:iam::111122223333:role/team-deployer"
PREVIOUS = "arn:aws:iam::111122223333:policy/deployer-boundary"
WIDE = "arn:aws:iam::111122223333:policy/deployer-boundary-wide"
NARROW = "arn:aws:iam::111122223333:policy/deployer-boundary-narrow"
SAMPLE = "put-role-permissions-boundary-wider.json"  # eventTime 2026-11-20T09:25:12Z


def _document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


DOCUMENTS: dict[str, dict[str, Any]] = {
    PREVIOUS: _document(
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "dynamodb:GetItem"], "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:*", "Resource": "*"},
    ),
    WIDE: _document(
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "dynamodb:GetItem", "sqs:SendMessage"],
            "Resource": "*",
        }
    ),
    NARROW: _document(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::deploy-*/*"},
        {"Effect": "Deny", "Action": "iam:*", "Resource": "*"},
    ),
}


class Documents:
    """Managed policy documents by ARN; one not listed does not exist."""

    def __init__(self, documents: Mapping[str, dict[str, Any]]) -> None:
        self.documents = documents

    def default_version(self, account: str, policy_arn: str) -> PolicyVersion | None:
        del account
        document = self.documents.get(policy_arn)
        return None if document is None else PolicyVersion("v1", document)

    def version(self, account: str, policy_arn: str, version_id: str) -> PolicyVersion | None:
        del version_id
        return self.default_version(account, policy_arn)


class Snapshots:
    def __init__(self, *snapshots: Snapshot) -> None:
        self._snapshots = {(s.kind, s.resource_arn): s for s in snapshots}

    def remediations(self, resource_arn: str) -> Sequence[PastRemediation]:
        del resource_arn
        return ()

    def snapshot(self, kind: str, resource_arn: str) -> Snapshot | None:
        return self._snapshots.get((kind, resource_arn))


def _snapshot(boundary: str | None, taken_at: str = "2026-11-20T09:20:00Z") -> Snapshots:
    return Snapshots(Snapshot(BOUNDARY, ROLE, taken_at, {"boundary_arn": boundary}))


def _event(boundary: str = WIDE) -> dict[str, Any]:
    event = copy.deepcopy(load_event(SAMPLE))
    event["detail"]["requestParameters"]["permissionsBoundary"] = boundary
    return event


def _judge(
    event: dict[str, Any],
    recorded: Snapshots | None,
    documents: Mapping[str, dict[str, Any]] = DOCUMENTS,
    directory: RoleDirectory | None = None,
) -> Judgement:
    return judge_event(event, Settings(), Documents(documents), directory, recorded=recorded)


def test_a_wider_boundary_is_a_finding_and_the_previous_one_goes_back() -> None:
    [finding] = _judge(_event(), _snapshot(PREVIOUS)).findings

    assert finding.rule_id == "permissions-boundary-weakened"
    assert finding.severity.value == "medium"
    assert finding.certain
    assert "allows sqs:sendmessage on * (statement 0)" in finding.reason
    assert "iam:*" not in finding.reason  # the Deny it dropped guarded nothing the new one allows
    [step] = finding.plan
    assert step.action == "put_permissions_boundary"
    assert step.parameters == {"kind": "role", "name": "team-deployer", "boundary_arn": PREVIOUS, "replaces": WIDE}
    assert finding.offending[0]["wider"] == ["allows sqs:sendmessage on * (statement 0)"]


def test_a_narrower_boundary_is_compliant() -> None:
    judgement = _judge(_event(NARROW), _snapshot(PREVIOUS))

    assert judgement.verdict is Verdict.COMPLIANT
    assert f"allows nothing its previous boundary {PREVIOUS} did not" in judgement.reason


def test_a_wider_aws_managed_boundary_is_compared_too() -> None:
    read_only = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    documents = {
        **DOCUMENTS,
        read_only: _document({"Effect": "Allow", "Action": ["s3:GetObject", "ec2:DescribeInstances"], "Resource": "*"}),
    }

    [finding] = _judge(_event(read_only), _snapshot(PREVIOUS), documents).findings

    assert "allows ec2:describeinstances on * (statement 0)" in finding.reason
    assert [step.parameters["boundary_arn"] for step in finding.plan] == [PREVIOUS]


def test_a_boundary_that_only_denies_is_never_weaker() -> None:
    deny_all = "arn:aws:iam::aws:policy/AWSDenyAll"
    own_deny = "arn:aws:iam::111122223333:policy/deny-everything"
    documents = {**DOCUMENTS, own_deny: _document({"Effect": "Deny", "Action": "*", "Resource": "*"})}

    assert _judge(_event(deny_all), Snapshots(), documents).verdict is Verdict.COMPLIANT
    judgement = _judge(_event(own_deny), Snapshots(), documents)
    assert judgement.verdict is Verdict.COMPLIANT
    assert "only denies: it allows nothing" in judgement.reason


def test_with_no_snapshot_the_previous_boundary_is_unknown_and_only_alerted() -> None:
    [finding] = _judge(_event(), Snapshots()).findings

    assert finding.plan == ()
    assert finding.needs_context == ("which boundary role team-deployer had before (IAM Warden has no snapshot of it)",)


def test_a_snapshot_taken_after_the_change_does_not_say_what_was_before() -> None:
    after = _snapshot(WIDE, taken_at="2026-11-20T09:30:00Z")
    before = _snapshot(WIDE, taken_at="2026-11-20T09:20:00Z")

    [finding] = _judge(_event(), after).findings
    assert finding.needs_context == (
        "which boundary role team-deployer had before (the last snapshot, 2026-11-20T09:30:00Z, was taken after "
        "the change)",
    )
    assert _judge(_event(), before).verdict is Verdict.COMPLIANT  # it already had that boundary


def test_a_previous_boundary_whose_document_cannot_be_read_is_named_and_not_remediated() -> None:
    documents = {WIDE: DOCUMENTS[WIDE]}

    [finding] = _judge(_event(), _snapshot(PREVIOUS), documents).findings

    assert finding.needs_context == (f"the document of boundary {PREVIOUS} (it cannot be read here)",)
    assert [step.parameters["boundary_arn"] for step in finding.plan] == [PREVIOUS]  # shown, never carried out
    assert not finding.certain


def _details(boundary: str | None) -> RoleDirectory:
    role: dict[str, Any] = {
        "RoleName": "team-deployer",
        "Arn": ROLE,
        "RolePolicyList": [],
        "AttachedManagedPolicies": [],
    }
    if boundary is not None:
        role["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    policies = [
        {
            "PolicyName": arn.rsplit("/", 1)[-1],
            "Arn": arn,
            "DefaultVersionId": "v1",
            "PolicyVersionList": [{"Document": document, "VersionId": "v1", "IsDefaultVersion": True}],
        }
        for arn, document in DOCUMENTS.items()
    ]
    return authorization_details_directory({"RoleDetailList": [role], "Policies": policies})


def test_offline_the_authorization_details_say_which_boundary_was_before() -> None:
    [finding] = _judge(_event(), None, directory=_details(PREVIOUS)).findings

    assert [step.parameters["boundary_arn"] for step in finding.plan] == [PREVIOUS]
    assert "(in the authorization details)" in finding.plan[0].summary
    unbounded = _judge(_event(), None, directory=_details(None))
    assert unbounded.verdict is Verdict.COMPLIANT
    assert "had no boundary in the authorization details" in unbounded.reason


def test_offline_without_authorization_details_the_previous_boundary_is_unknown() -> None:
    [finding] = _judge(_event(), None).findings

    assert finding.needs_context == (
        "which boundary role team-deployer had before (no snapshot or authorization details name it)",
    )


class Unreadable(Documents):
    """The previous boundary's read is refused (AccessDenied): permanent, not worth a retry."""

    def default_version(self, account: str, policy_arn: str) -> PolicyVersion | None:
        if policy_arn == PREVIOUS:
            raise PermanentAwsError("denied", code="AccessDenied", operation="GetPolicy", resource=policy_arn)
        return super().default_version(account, policy_arn)


def test_a_previous_boundary_whose_read_is_refused_is_named_as_unknown() -> None:
    judgement = judge_event(_event(), Settings(), Unreadable(DOCUMENTS), recorded=_snapshot(PREVIOUS))

    [finding] = judgement.findings
    assert finding.needs_context == (f"the document of boundary {PREVIOUS} (it cannot be read here)",)
