"""identity-provider-unknown restores an update from IAM Warden's snapshot of the provider, or says it cannot.

Samples: update-oidc-thumbprint-unknown.json (09:33:41Z), add-client-id-oidc-unknown.json (09:32:41Z) and
update-saml-provider-okta.json (09:35:41Z; with default settings its issuer is unknown).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from iamwarden.domain.findings import Finding, Judgement, Verdict
from iamwarden.domain.recorded import IDENTITY_PROVIDER, PastRemediation, Snapshot
from iamwarden.domain.saml import saml_issuer
from iamwarden.domain.settings import Settings, load_settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

OIDC = "arn:aws:iam::111122223333:oidc-provider/oidc.ci-runner.example.net"
SAML = "arn:aws:iam::111122223333:saml-provider/okta"
BEFORE = "2026-11-20T09:00:00Z"
AFTER = "2026-11-20T10:00:00Z"
OLD_THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
NEW_THUMBPRINT = "0000000000000000000000000000000000000000"


class Snapshots:
    def __init__(self, *snapshots: Snapshot, remediations: Sequence[PastRemediation] = ()) -> None:
        self._snapshots = {(s.kind, s.resource_arn): s for s in snapshots}
        self._remediations = tuple(remediations)

    def remediations(self, resource_arn: str) -> Sequence[PastRemediation]:
        del resource_arn
        return self._remediations

    def snapshot(self, kind: str, resource_arn: str) -> Snapshot | None:
        return self._snapshots.get((kind, resource_arn))


def _oidc(taken_at: str = BEFORE, remediations: Sequence[PastRemediation] = (), **data: Any) -> Snapshots:
    known: Mapping[str, Any] = {
        "type": "oidc",
        "url": "oidc.ci-runner.example.net",
        "client_ids": ["sts.amazonaws.com"],
        "thumbprints": [OLD_THUMBPRINT],
        **data,
    }
    return Snapshots(Snapshot(IDENTITY_PROVIDER, OIDC, taken_at, known), remediations=remediations)


def _saml_metadata() -> str:
    return str(load_event("create-saml-provider-unknown.json")["detail"]["requestParameters"]["sAMLMetadataDocument"])


def _saml(metadata: str, taken_at: str = BEFORE) -> Snapshots:
    return Snapshots(Snapshot(IDENTITY_PROVIDER, SAML, taken_at, {"type": "saml", "metadata": metadata}))


def _judge(sample: str, recorded: Snapshots | None, settings: Settings | None = None) -> Judgement:
    return judge_event(load_event(sample), settings or Settings(), recorded=recorded)


def _knowing(metadata: str) -> Settings:
    """Settings whose ``allow_saml_issuers`` names the issuer of ``metadata``: a known good state to put back."""
    issuer = saml_issuer(metadata)
    return load_settings({"rules": {"identity-provider-unknown": {"allow_saml_issuers": [issuer]}}})


def _only(judgement: Judgement) -> Finding:
    [finding] = judgement.findings
    return finding


def test_changed_thumbprints_are_put_back_from_the_snapshot() -> None:
    finding = _only(_judge("update-oidc-thumbprint-unknown.json", _oidc()))

    assert finding.certain
    [step] = finding.plan
    assert step.action == "restore_oidc_thumbprints"
    assert dict(step.parameters) == {
        "provider_arn": OIDC,
        "thumbprints": [OLD_THUMBPRINT],
        "replaces": [NEW_THUMBPRINT],
    }
    assert f"({OLD_THUMBPRINT}, when last seen by IAM Warden, {BEFORE})" in step.summary


def test_thumbprints_set_to_what_the_snapshot_holds_are_compliant() -> None:
    judgement = _judge("update-oidc-thumbprint-unknown.json", _oidc(thumbprints=[NEW_THUMBPRINT.upper()]))

    assert judgement.verdict is Verdict.COMPLIANT
    assert "are those it had when last seen" in judgement.reason


def test_thumbprints_without_a_snapshot_or_offline_are_alerted_only() -> None:
    for recorded, why in (
        (Snapshots(), "not in the event, and IAM Warden has no snapshot of the provider"),
        (None, "not in the event, and offline there is no snapshot"),
    ):
        finding = _only(_judge("update-oidc-thumbprint-unknown.json", recorded))
        assert finding.plan == ()
        assert finding.needs_context == (
            f"the thumbprints OIDC provider oidc.ci-runner.example.net had before ({why})",
        )


def test_a_snapshot_taken_after_the_change_that_shows_it_says_nothing_of_before() -> None:
    after = _oidc(taken_at=AFTER, thumbprints=[NEW_THUMBPRINT])

    finding = _only(_judge("update-oidc-thumbprint-unknown.json", after))

    assert finding.needs_context == (
        "the thumbprints OIDC provider oidc.ci-runner.example.net had before (the last snapshot, "
        f"{AFTER}, was taken after the change)",
    )
    # Taken after, even showing other thumbprints (changed again since, or an earlier change read after it): no
    # state before the event, so nothing is put back (audit s7 gap 7).
    later = _only(_judge("update-oidc-thumbprint-unknown.json", _oidc(taken_at=AFTER)))
    assert later.plan == ()
    assert "was taken after the change" in later.needs_context[0]


def test_thumbprints_are_not_put_back_from_a_snapshot_that_may_hold_an_earlier_change_left_in_place() -> None:
    """Audit s7 gap 7: an earlier thumbprint change to this provider was found and only alerted; the snapshot taken
    before this change may hold it, so it is no known good state: alert-only."""
    earlier = PastRemediation("rem-earlier", "identity-provider-unknown", "alerted", "2026-11-20T08:30:00Z", ())

    finding = _only(_judge("update-oidc-thumbprint-unknown.json", _oidc(remediations=[earlier])))

    assert finding.plan == ()
    [missing] = finding.needs_context
    assert "rem-earlier of 2026-11-20T08:30:00Z, alerted" in missing
    put_back = PastRemediation("rem-put-back", "identity-provider-unknown", "remediated", "2026-11-20T08:30:00Z", ())
    put_back_only = _oidc(remediations=[put_back])
    assert _only(_judge("update-oidc-thumbprint-unknown.json", put_back_only)).plan, "a change put back is no doubt"


def test_saml_metadata_whose_issuer_is_not_allow_listed_is_never_put_back() -> None:
    """Audit s7 gap 7 (S1): the snapshot, taken between two intruder updates, holds the first intruder's IdP; only
    an allow-listed issuer is a known good state: alert-only, saying so."""
    finding = _only(_judge("update-saml-provider-okta.json", _saml(_saml_metadata())))

    assert finding.plan == ()
    assert any(
        "known good" in missing and "neither allow_saml_issuers nor allow_saml_certificates" in missing
        for missing in finding.needs_context
    )


def test_a_snapshot_of_a_saml_provider_under_that_arn_is_not_an_oidc_one() -> None:
    wrong = Snapshots(Snapshot(IDENTITY_PROVIDER, OIDC, BEFORE, {"type": "saml", "metadata": "x"}))

    assert _only(_judge("update-oidc-thumbprint-unknown.json", wrong)).needs_context


def test_a_client_id_the_snapshot_lacks_is_removed_and_one_it_had_is_compliant() -> None:
    removed = _only(_judge("add-client-id-oidc-unknown.json", _oidc()))
    assert removed.certain
    assert [dict(step.parameters) for step in removed.plan] == [{"provider_arn": OIDC, "client_id": "backdoor-app"}]

    already = _judge("add-client-id-oidc-unknown.json", _oidc(client_ids=["sts.amazonaws.com", "backdoor-app"]))
    assert already.verdict is Verdict.COMPLIANT
    assert "already allowed client id backdoor-app" in already.reason


def test_a_client_id_without_a_snapshot_might_have_been_there_before() -> None:
    finding = _only(_judge("add-client-id-oidc-unknown.json", Snapshots()))

    assert [step.action for step in finding.plan] == ["remove_oidc_client_id"]  # shown, never carried out
    assert finding.needs_context == (
        "whether OIDC provider oidc.ci-runner.example.net allowed client id backdoor-app before (not in the event, "
        "and IAM Warden has no snapshot of the provider)",
    )


def test_changed_saml_metadata_is_put_back_from_the_snapshot() -> None:
    previous = _saml_metadata()

    finding = _only(_judge("update-saml-provider-okta.json", _saml(previous), _knowing(previous)))

    assert finding.certain
    [step] = finding.plan
    assert step.action == "restore_saml_metadata"
    assert step.parameters["metadata"] == previous
    assert (
        step.parameters["replaces"]
        == load_event("update-saml-provider-okta.json")["detail"]["requestParameters"]["sAMLMetadataDocument"]
    )
    assert f"issuer {saml_issuer(previous)}" in step.summary


def test_saml_metadata_alike_but_for_whitespace_is_compliant() -> None:
    event = load_event("update-saml-provider-okta.json")
    metadata = event["detail"]["requestParameters"]["sAMLMetadataDocument"]
    reformatted = metadata.replace("><", ">\n  <")

    judgement = _judge("update-saml-provider-okta.json", _saml(reformatted))

    assert judgement.verdict is Verdict.COMPLIANT
    assert "has the metadata it had when last seen" in judgement.reason


def test_saml_metadata_without_a_snapshot_is_alerted_only() -> None:
    finding = _only(_judge("update-saml-provider-okta.json", Snapshots()))

    assert finding.plan == ()
    assert finding.needs_context == (
        "the metadata SAML provider okta had before (not in the event, and IAM Warden has no snapshot of the provider)",
    )


def test_an_update_without_metadata_in_the_event_is_alerted_with_what_is_unknown() -> None:
    event = copy.deepcopy(load_event("update-saml-provider-okta.json"))
    del event["detail"]["requestParameters"]["sAMLMetadataDocument"]

    [finding] = judge_event(event, _knowing(_saml_metadata()), recorded=_saml(_saml_metadata())).findings

    assert finding.needs_context == (
        "which issuer and signing certificates SAML provider okta trusts (no metadata in the event, and offline it "
        "cannot be read)",
    )
    assert finding.plan[0].parameters["replaces"] is None
