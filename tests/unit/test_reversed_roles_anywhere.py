"""remediation-reversed on IAM Roles Anywhere: EnableTrustAnchor / EnableProfile of what IAM Warden disabled."""

from __future__ import annotations

from collections.abc import Sequence

from iamwarden.domain.findings import Judgement, Verdict
from iamwarden.domain.recorded import PastRemediation, Snapshot
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

ANCHOR = "2b2a7e1c-5d3f-4a8e-9c61-0d7f3e5b1a90"
ANCHOR_ARN = f"arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/{ANCHOR}"
PROFILE = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
PROFILE_ARN = f"arn:aws:rolesanywhere:eu-west-1:111122223333:profile/{PROFILE}"


class Audit:
    """Remediations by resource ARN."""

    def __init__(self, by_arn: dict[str, list[PastRemediation]]) -> None:
        self.by_arn = by_arn

    def remediations(self, resource_arn: str) -> Sequence[PastRemediation]:
        return self.by_arn.get(resource_arn, [])

    def snapshot(self, kind: str, resource_arn: str) -> Snapshot | None:
        del kind, resource_arn
        return None


def _disabled(kind: str, identifier: str, status: str = "remediated", rem: str = "rem-1") -> PastRemediation:
    step = {"action": "disable_roles_anywhere", "parameters": {"kind": kind, "id": identifier}}
    return PastRemediation(
        rem, "roles-anywhere-trust-anchor", status, "2026-11-20T09:41:00Z", (step,), (f"disabled {identifier}",)
    )


def _judge(sample: str, audit: Audit | None) -> Judgement:
    return judge_event(load_event(sample), Settings(), recorded=audit)


def test_a_trust_anchor_iam_warden_disabled_is_disabled_again() -> None:
    audit = Audit({ANCHOR_ARN: [_disabled("trust-anchor", ANCHOR)]})

    [finding] = _judge("rolesanywhere-enable-trust-anchor.json", audit).findings

    assert (finding.rule_id, finding.severity.value, finding.resource_arn) == (
        "remediation-reversed",
        "critical",
        ANCHOR_ARN,
    )
    assert "enabled Roles Anywhere trust-anchor" in finding.reason
    assert "rem-1 (roles-anywhere-trust-anchor)" in finding.reason
    [step] = finding.plan
    assert (step.action, dict(step.parameters)) == ("disable_roles_anywhere", {"kind": "trust-anchor", "id": ANCHOR})
    assert finding.offending == ({"remediation_id": "rem-1"},)


def test_a_profile_iam_warden_disabled_is_disabled_again() -> None:
    audit = Audit({PROFILE_ARN: [_disabled("profile", PROFILE)]})

    [finding] = _judge("rolesanywhere-enable-profile.json", audit).findings

    assert [dict(step.parameters) for step in finding.plan] == [{"kind": "profile", "id": PROFILE}]


def test_an_undone_or_failed_remediation_or_another_resource_is_no_reversal() -> None:
    for past in (
        _disabled("trust-anchor", ANCHOR, status="undone"),
        _disabled("trust-anchor", ANCHOR, status="failed"),
        _disabled("trust-anchor", "0f0f0f0f-0000-4000-8000-000000000000"),
        _disabled("profile", ANCHOR),
    ):
        judgement = _judge("rolesanywhere-enable-trust-anchor.json", Audit({ANCHOR_ARN: [past]}))
        assert judgement.verdict is Verdict.COMPLIANT, past
        assert "IAM Warden never disabled Roles Anywhere trust-anchor" in judgement.reason


def test_offline_there_is_no_audit_table_and_no_verdict() -> None:
    judgement = _judge("rolesanywhere-enable-profile.json", None)

    assert judgement.findings == ()
    assert judgement.verdict is Verdict.IGNORED
    assert "whether IAM Warden disabled Roles Anywhere profile" in judgement.reason
