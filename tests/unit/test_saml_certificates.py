"""identity-provider-unknown knows a SAML provider by its signing certificates, not by the entityID anyone can copy.

Samples: update-saml-provider-okta.json (the organisation's Okta metadata, its key), update-saml-provider-okta-foreign-
key.json (the same issuer, an intruder's key) and create-saml-provider-unknown.json (another issuer, the intruder's
key). Metadata the event does not carry is read live through a stand-in IAM client.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botocore.exceptions import ClientError

from iamwarden.adapters.errors import TransientAwsError
from iamwarden.domain.findings import Finding, Judgement, Verdict
from iamwarden.domain.recorded import IDENTITY_PROVIDER, Snapshot
from iamwarden.domain.saml import fingerprint_text
from iamwarden.domain.settings import Settings, load_settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event
from tests.saml_samples import FOREIGN, OKTA, OKTA_ISSUER, OKTA_NEXT, fingerprint, okta
from tests.unit.test_provider_restore import BEFORE, SAML, Snapshots

FOREIGN_KEY = "update-saml-provider-okta-foreign-key.json"
KNOWN = "update-saml-provider-okta.json"
CREATED = "create-saml-provider-unknown.json"


def _settings(issuers: tuple[str, ...] = (), certificates: tuple[str, ...] = ()) -> Settings:
    options: dict[str, Any] = {}
    if issuers:
        options["allow_saml_issuers"] = list(issuers)
    if certificates:
        options["allow_saml_certificates"] = list(certificates)
    return load_settings({"rules": {"identity-provider-unknown": options}})


BOTH = _settings(issuers=("http://www.okta.com/exk1acme*",), certificates=(fingerprint(OKTA),))


def _with_metadata(sample: str, metadata: str | None) -> dict[str, Any]:
    event = copy.deepcopy(load_event(sample))
    if metadata is None:
        del event["detail"]["requestParameters"]["sAMLMetadataDocument"]
    else:
        event["detail"]["requestParameters"]["sAMLMetadataDocument"] = metadata
    return event


def _only(judgement: Judgement) -> Finding:
    [finding] = judgement.findings
    assert finding.rule_id == "identity-provider-unknown"
    return finding


def test_a_known_issuer_signing_with_an_unknown_certificate_is_a_finding_that_says_so() -> None:
    finding = _only(judge_event(load_event(FOREIGN_KEY), BOTH))

    assert (
        f"names issuer {OKTA_ISSUER}, which is known ('http://www.okta.com/exk1acme*' in allow_saml_issuers), but "
        f"signs with certificate {fingerprint_text(fingerprint(FOREIGN))}, which is not in allow_saml_certificates"
    ) in finding.reason
    assert finding.offending[0]["signing_certificates"] == [fingerprint_text(fingerprint(FOREIGN))]


def test_the_organisations_metadata_is_compliant_by_its_certificate() -> None:
    judgement = judge_event(load_event(KNOWN), BOTH)

    assert judgement.verdict is Verdict.COMPLIANT
    assert f"signs only with certificate {fingerprint_text(fingerprint(OKTA))}" in judgement.reason


def test_certificates_alone_are_enough_and_any_issuer_passes_with_a_known_key() -> None:
    certificates_only = _settings(certificates=(fingerprint(OKTA),))

    assert judge_event(load_event(KNOWN), certificates_only).verdict is Verdict.COMPLIANT
    assert _only(judge_event(load_event(FOREIGN_KEY), certificates_only)).offending[0]["issuer"] == OKTA_ISSUER


def test_a_known_certificate_under_an_issuer_not_allowed_is_still_a_finding() -> None:
    event = _with_metadata(KNOWN, okta(issuer="https://idp.intruder.example/"))

    finding = _only(judge_event(event, BOTH))

    assert "names issuer https://idp.intruder.example/, which is not in allow_saml_issuers" in finding.reason


def test_every_signing_certificate_must_be_known_and_only_the_unknown_ones_are_named() -> None:
    two = _settings(certificates=(fingerprint(OKTA), fingerprint(OKTA_NEXT)))
    rollover = _with_metadata(KNOWN, okta(signing=(OKTA, OKTA_NEXT)))
    smuggled = _with_metadata(KNOWN, okta(signing=(OKTA, FOREIGN)))

    assert judge_event(rollover, two).verdict is Verdict.COMPLIANT
    finding = _only(judge_event(smuggled, two))
    assert f"signs with certificate {fingerprint_text(fingerprint(FOREIGN))}, which is not" in finding.reason
    assert fingerprint_text(fingerprint(OKTA)) not in finding.reason.split("signs with", 1)[1]


def test_the_entity_id_alone_still_passes_but_says_it_proves_nothing() -> None:
    """Backward compatible: with no certificates named, the issuer decides, and the verdict says why that is weak."""
    judgement = judge_event(load_event(FOREIGN_KEY), _settings(issuers=("http://www.okta.com/exk1acme*",)))

    assert judgement.verdict is Verdict.COMPLIANT
    assert "known by its entityID alone, which proves nothing" in judgement.reason
    assert "allow_saml_certificates" in judgement.reason


def test_with_nothing_named_every_saml_provider_is_a_finding_that_recommends_certificates() -> None:
    finding = _only(judge_event(load_event(KNOWN), Settings()))

    assert "neither allow_saml_issuers nor allow_saml_certificates names a known provider" in finding.reason
    assert "the entityID in allow_saml_issuers alone proves nothing" in finding.reason


def test_a_created_provider_with_an_unknown_certificate_is_deleted() -> None:
    finding = _only(judge_event(load_event(CREATED), BOTH))

    assert finding.certain
    assert [step.action for step in finding.plan] == ["delete_saml_provider"]


def test_an_unreadable_signing_key_is_never_taken_for_a_known_one() -> None:
    unreadable = okta().replace(
        "</md:KeyDescriptor>",
        '</md:KeyDescriptor><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
        "@@@</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
        1,
    )

    finding = _only(judge_event(_with_metadata(CREATED, unreadable), BOTH))

    assert not finding.certain  # alerted: the plan is shown, never carried out
    assert [step.action for step in finding.plan] == ["delete_saml_provider"]
    assert finding.needs_context == (
        "the signing certificates of the metadata (KeyDescriptor 2: a certificate that is not base64 of a DER "
        "certificate)",
    )


def test_metadata_with_no_certificate_is_unknown() -> None:
    finding = _only(judge_event(_with_metadata(CREATED, okta(signing=(), encryption=())), BOTH))

    assert finding.needs_context == ("which certificate the metadata signs with (it names no signing certificate)",)


def test_an_intruders_key_marked_for_encryption_alone_still_counts() -> None:
    """The known signing key beside an unknown one under ``use="encryption"``: not known (IAM may verify with it)."""
    finding = _only(judge_event(_with_metadata(CREATED, okta(signing=(OKTA,), encryption=(FOREIGN,))), BOTH))

    assert fingerprint_text(fingerprint(FOREIGN)) in finding.offending[0]["signing_certificates"]
    assert f"{fingerprint_text(fingerprint(FOREIGN))}, which is not in allow_saml_certificates" in finding.reason


def test_a_known_unreadable_key_beside_an_unknown_one_is_no_doubt() -> None:
    """One certificate is read and not known: that alone makes the provider unknown, whatever the other is."""
    smuggled = okta(signing=(FOREIGN, "@@@"))

    assert _only(judge_event(_with_metadata(CREATED, smuggled), BOTH)).certain


def test_an_update_signing_with_a_foreign_key_is_put_back_from_a_known_snapshot() -> None:
    known = str(load_event(KNOWN)["detail"]["requestParameters"]["sAMLMetadataDocument"])
    snapshots = Snapshots(Snapshot(IDENTITY_PROVIDER, SAML, BEFORE, {"type": "saml", "metadata": known}))

    finding = _only(judge_event(load_event(FOREIGN_KEY), BOTH, recorded=snapshots))

    assert finding.certain
    [step] = finding.plan
    assert step.action == "restore_saml_metadata"
    assert step.parameters["metadata"] == known


def test_a_snapshot_signing_with_a_foreign_key_is_no_known_good_state() -> None:
    """The snapshot names the known issuer but holds the intruder's key beside the organisation's (an earlier
    intrusion): it is not put back."""
    earlier = okta(signing=(OKTA, FOREIGN))
    snapshots = Snapshots(Snapshot(IDENTITY_PROVIDER, SAML, BEFORE, {"type": "saml", "metadata": earlier}))

    finding = _only(judge_event(load_event(FOREIGN_KEY), BOTH, recorded=snapshots))

    assert finding.plan == ()
    [missing] = finding.needs_context
    assert missing.startswith(f"metadata of SAML provider okta known good: IAM Warden's snapshot of {BEFORE} names")
    assert f"signs with certificate {fingerprint_text(fingerprint(FOREIGN))}, which is not" in missing


class _Iam:
    def __init__(self, answer: dict[str, Any] | Exception) -> None:
        self.answer = answer
        self.asked: list[str] = []

    def get_saml_provider(self, SAMLProviderArn: str) -> dict[str, Any]:
        self.asked.append(SAMLProviderArn)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


class _Clients:
    def __init__(self, iam: _Iam) -> None:
        self.iam = iam


def _live(answer: dict[str, Any] | Exception) -> tuple[_Iam, Any]:
    iam = _Iam(answer)
    return iam, lambda account, region: _Clients(iam)


def _error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "GetSAMLProvider")


def test_a_create_without_metadata_in_the_event_is_judged_on_the_providers_live_metadata() -> None:
    arn = "arn:aws:iam::111122223333:saml-provider/corp-sso"
    iam, live = _live({"SAMLMetadataDocument": okta(signing=(FOREIGN,))})

    finding = _only(judge_event(_with_metadata(CREATED, None), BOTH, live_clients=live))

    assert iam.asked == [arn]
    assert finding.certain
    assert [step.action for step in finding.plan] == ["delete_saml_provider"]
    assert "whose metadata (read live) names issuer" in finding.reason

    _, known = _live({"SAMLMetadataDocument": okta()})
    judgement = judge_event(_with_metadata(CREATED, None), BOTH, live_clients=known)
    assert judgement.verdict is Verdict.COMPLIANT
    assert "(read live)" in judgement.reason


def test_an_update_without_metadata_read_live_is_alerted_only() -> None:
    """The live metadata may not be this change's (an update may set only the assertion encryption): no restore on
    that guess."""
    known = str(load_event(KNOWN)["detail"]["requestParameters"]["sAMLMetadataDocument"])
    snapshots = Snapshots(Snapshot(IDENTITY_PROVIDER, SAML, BEFORE, {"type": "saml", "metadata": known}))
    _, live = _live({"SAMLMetadataDocument": okta(signing=(FOREIGN,))})

    finding = _only(judge_event(_with_metadata(FOREIGN_KEY, None), BOTH, recorded=snapshots, live_clients=live))

    assert not finding.certain
    assert finding.needs_context == (
        "whether this change set the metadata SAML provider okta holds now (the event does not carry it; it was "
        "read live)",
    )


def test_a_provider_gone_when_read_live_is_compliant() -> None:
    _, live = _live(_error("NoSuchEntity"))

    judgement = judge_event(_with_metadata(CREATED, None), BOTH, live_clients=live)

    assert judgement.verdict is Verdict.COMPLIANT
    assert "no longer exists" in judgement.reason


def test_a_live_read_refused_is_alerted_with_what_is_unknown() -> None:
    _, live = _live(_error("AccessDenied"))

    finding = _only(judge_event(_with_metadata(CREATED, None), BOTH, live_clients=live))

    assert finding.needs_context == (
        "which issuer and signing certificates SAML provider corp-sso trusts (no metadata in the event, and reading "
        "it failed: AccessDenied)",
    )


@pytest.mark.parametrize("answer", [_error("Throttling"), TransientAwsError("GetSAMLProvider timed out")])
def test_a_throttled_live_read_is_retried_not_judged(answer: Exception) -> None:
    _, live = _live(answer)

    with pytest.raises(type(answer)):
        judge_event(_with_metadata(CREATED, None), BOTH, live_clients=live)


def test_metadata_naming_no_issuer_is_unknown_when_issuers_are_required() -> None:
    nameless = okta().replace(f' entityID="{OKTA_ISSUER}"', "")

    finding = _only(judge_event(_with_metadata(CREATED, nameless), BOTH))

    assert finding.needs_context == ("which issuer the metadata names (no EntityDescriptor entityID in it)",)
    assert judge_event(_with_metadata(CREATED, nameless), _settings(certificates=(fingerprint(OKTA),))).verdict is (
        Verdict.COMPLIANT
    )


def test_a_snapshot_without_metadata_is_no_known_good_state() -> None:
    snapshots = Snapshots(Snapshot(IDENTITY_PROVIDER, SAML, BEFORE, {"type": "saml"}))

    finding = _only(judge_event(load_event(FOREIGN_KEY), BOTH, recorded=snapshots))

    assert finding.needs_context == (
        f"metadata of SAML provider okta known good: IAM Warden's snapshot of {BEFORE} holds no metadata",
    )
