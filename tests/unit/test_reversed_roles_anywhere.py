"""remediation-reversed on IAM Roles Anywhere: EnableTrustAnchor / EnableProfile of what IAM Warden disabled."""

from __future__ import annotations

from collections.abc import Sequence

from iamwarden.domain.findings import Judgement, Verdict
from iamwarden.domain.recorded import PastRemediation, Snapshot
from iamwarden.domain.settings import Settings, parse_settings
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


def _disabled(
    kind: str, identifier: str, status: str = "remediated", rem: str = "rem-1", *, done: bool = True
) -> PastRemediation:
    """``done`` as ``DisableRolesAnywhere.apply`` writes it (empty: nothing was disabled)."""
    step = {"action": "disable_roles_anywhere", "parameters": {"kind": kind, "id": identifier}}
    lines = (f"disabled Roles Anywhere {kind} {identifier}",) if done else ()
    return PastRemediation(rem, "roles-anywhere-trust-anchor", status, "2026-11-20T09:41:00Z", (step,), lines)


#: The samples' actor (``assumed-role/developer/...``) taken as an operator, for an operator's undo.
OPERATOR_ROLE = "arn:aws:iam::111122223333:role/developer"
OPERATOR_SESSION = "arn:aws:sts::111122223333:assumed-role/developer/dev@example.com"


def operators_settings() -> Settings:
    settings, problems = parse_settings({"rules": {"iamwarden-tampered": {"operators": [OPERATOR_ROLE]}}})
    assert problems == []
    return settings


def undone_by_operator(past: PastRemediation) -> PastRemediation:
    """Marked undone by ``iamwarden undo``, whose undo record names an operator."""
    return past._replace(status="undone", undone_by=f"undo-{past.remediation_id}-1", undo_actor=OPERATOR_SESSION)


def _judge(sample: str, audit: Audit | None, settings: Settings | None = None) -> Judgement:
    return judge_event(load_event(sample), settings or Settings(), recorded=audit)


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
        undone_by_operator(_disabled("trust-anchor", ANCHOR)),
        _disabled("trust-anchor", ANCHOR, status="failed", done=False),
        _disabled("trust-anchor", "0f0f0f0f-0000-4000-8000-000000000000"),
        _disabled("profile", ANCHOR),
    ):
        audit = Audit({ANCHOR_ARN: [past]})
        judgement = _judge("rolesanywhere-enable-trust-anchor.json", audit, operators_settings())
        assert judgement.verdict is Verdict.COMPLIANT, past
        assert "IAM Warden never disabled Roles Anywhere trust-anchor" in judgement.reason


def test_a_failed_remediation_that_did_disable_it_is_reversed_too() -> None:
    """A failed remediation counts for what its done shows (review s11 R7/R10): this trust anchor was disabled."""
    audit = Audit({ANCHOR_ARN: [_disabled("trust-anchor", ANCHOR, status="failed")]})

    [finding] = _judge("rolesanywhere-enable-trust-anchor.json", audit, operators_settings()).findings

    assert (finding.rule_id, finding.severity.value) == ("remediation-reversed", "critical")
    assert [dict(step.parameters) for step in finding.plan] == [{"kind": "trust-anchor", "id": ANCHOR}]


def test_a_failed_remediation_whose_done_shows_another_resource_is_no_reversal() -> None:
    past = _disabled("trust-anchor", ANCHOR, status="failed")._replace(
        done=("disabled Roles Anywhere trust-anchor 0f0f0f0f-0000-4000-8000-000000000000",)
    )

    judgement = _judge("rolesanywhere-enable-trust-anchor.json", Audit({ANCHOR_ARN: [past]}), operators_settings())

    assert judgement.verdict is Verdict.COMPLIANT


def test_offline_there_is_no_audit_table_and_no_verdict() -> None:
    judgement = _judge("rolesanywhere-enable-profile.json", None)

    assert judgement.findings == ()
    assert judgement.verdict is Verdict.IGNORED
    assert "whether IAM Warden disabled Roles Anywhere profile" in judgement.reason


# --- an undo excuses a reversal only when an operator ran iamwarden undo and made the change (audit s7 gap 6) -----


MALLORY = "arn:aws:iam::111122223333:user/mallory"


def test_a_remediation_marked_undone_without_an_operators_undo_is_still_a_reversal() -> None:
    disabled = _disabled("trust-anchor", ANCHOR)
    by_mallory = undone_by_operator(disabled)._replace(undo_actor=MALLORY)
    cases = {
        # An UpdateItem of the status: no undo record says who undid it.
        "no undo record says who undid it (undo-rem-1-1)": disabled._replace(status="undone", undone_by="undo-rem-1-1"),
        "no undo record says who undid it": disabled._replace(status="undone"),
        # iamwarden undo run by an admin who is no operator.
        f"its undo undo-rem-1-1 was run by {MALLORY}, who is not an operator": by_mallory,
    }
    for why, past in cases.items():
        [finding] = _judge(
            "rolesanywhere-enable-trust-anchor.json", Audit({ANCHOR_ARN: [past]}), operators_settings()
        ).findings
        assert finding.rule_id == "remediation-reversed"
        assert f"rem-1 is marked undone, but {why}" in finding.reason, finding.reason
        assert "only when an operator (rules/iamwarden-tampered/operators) ran iamwarden undo" in finding.reason
        assert [step.action for step in finding.plan] == ["disable_roles_anywhere"]


def test_an_operators_undo_excuses_only_an_operators_change() -> None:
    audit = Audit({ANCHOR_ARN: [undone_by_operator(_disabled("trust-anchor", ANCHOR))]})
    # With no operators set, neither the undo nor the change is an operator's.
    [finding] = _judge("rolesanywhere-enable-trust-anchor.json", audit).findings
    assert "who is not an operator" in finding.reason
    # The undo was an operator's, but this change is someone else's.
    settings, _ = parse_settings(
        {"rules": {"iamwarden-tampered": {"operators": ["arn:aws:iam::111122223333:role/SecOps"]}}}
    )
    audit = Audit(
        {
            ANCHOR_ARN: [
                undone_by_operator(_disabled("trust-anchor", ANCHOR))._replace(
                    undo_actor="arn:aws:sts::111122223333:assumed-role/SecOps/carol"
                )
            ]
        }
    )
    [finding] = _judge("rolesanywhere-enable-trust-anchor.json", audit, settings).findings
    assert "this change was made by" in finding.reason
    assert "who is not an operator" in finding.reason
