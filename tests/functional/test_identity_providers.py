"""Unknown identity providers in moto (SAML, OIDC) and with botocore's Stubber where moto has no API (client ids)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botocore.stub import Stubber

from iamwarden.adapters.recorded import AuditRecorded, take_identity_provider_snapshots
from iamwarden.app.service import EnforcerService
from iamwarden.domain.exceptions import SettingsError
from iamwarden.domain.findings import Outcome
from iamwarden.domain.settings import load_settings
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.saml_samples import FOREIGN, OKTA, fingerprint, okta

OPERATOR = f"arn:aws:iam::{HOME_ACCOUNT}:user/secops"
OIDC = f"arn:aws:iam::{HOME_ACCOUNT}:oidc-provider/oidc.ci-runner.example.net"


def _findings(result: dict[str, Any]) -> dict[str, Any]:
    [finding] = result["findings"]
    assert finding["rule"] == "identity-provider-unknown"
    return dict(finding)


def test_an_unknown_saml_provider_is_deleted_and_undo_creates_it_again(
    account: Account, enforcer: EnforcerService
) -> None:
    event = load_event("create-saml-provider-unknown.json")
    metadata = event["detail"]["requestParameters"]["sAMLMetadataDocument"]
    arn = account.iam.create_saml_provider(Name="corp-sso", SAMLMetadataDocument=metadata)["SAMLProviderArn"]
    account.set("rules/identity-provider-unknown/mode", "remediate")

    finding = _findings(enforcer.handle(event))

    assert finding["outcome"] == Outcome.REMEDIATED
    assert account.iam.list_saml_providers()["SAMLProviderList"] == []
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert account.iam.get_saml_provider(SAMLProviderArn=arn)["SAMLMetadataDocument"] == metadata


def test_a_known_saml_issuer_is_left_alone(account: Account, enforcer: EnforcerService) -> None:
    event = load_event("update-saml-provider-okta.json")
    account.set("rules/identity-provider-unknown/mode", "remediate")
    account.set("rules/identity-provider-unknown/allow_saml_issuers", "http://www.okta.com/exk1acme*")

    result = enforcer.handle(event)

    assert (result["verdict"], result["findings"]) == ("compliant", [])
    assert "allow_saml_issuers" in result["reason"]


def test_a_changed_thumbprint_of_an_unknown_provider_with_no_snapshot_is_alerted_only(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.iam.create_open_id_connect_provider(
        Url="https://oidc.ci-runner.example.net", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["0" * 40]
    )
    account.set("rules/identity-provider-unknown/mode", "remediate")

    finding = _findings(enforcer.handle(load_event("update-oidc-thumbprint-unknown.json")))

    assert finding["outcome"] == Outcome.ALERTED
    assert account.iam.get_open_id_connect_provider(OpenIDConnectProviderArn=OIDC)["Url"]
    [alert] = notifier.sent
    assert alert.finding is not None
    assert alert.finding.needs_context


def test_an_added_client_id_is_removed_exactly_and_undo_adds_it_back(
    account: Account, enforcer: EnforcerService
) -> None:
    """moto has no Add/RemoveClientID: the enforcer's IAM client answers from a Stubber, and the calls are checked.

    The heartbeat's snapshot (taken from moto before the change) says the provider did not have the client id."""
    account.iam.create_open_id_connect_provider(
        Url="https://oidc.ci-runner.example.net", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["0" * 40]
    )
    snapshots = take_identity_provider_snapshots(account.iam, HOME_ACCOUNT, "2026-11-20T09:00:00Z")
    AuditRecorded(account.audit(), account.dynamodb).put_all(snapshots)
    account.set("rules/identity-provider-unknown/mode", "remediate")
    iam = enforcer.executor.clients.client("iam", HOME_ACCOUNT, "us-east-1")
    provider = {"Url": "oidc.ci-runner.example.net", "ThumbprintList": ["0" * 40]}
    arn = {"OpenIDConnectProviderArn": OIDC}
    with Stubber(iam) as stubber:
        stubber.add_response(
            "get_open_id_connect_provider", {**provider, "ClientIDList": ["sts.amazonaws.com", "backdoor-app"]}, arn
        )
        stubber.add_response("remove_client_id_from_open_id_connect_provider", {}, {**arn, "ClientID": "backdoor-app"})
        finding = _findings(enforcer.handle(load_event("add-client-id-oidc-unknown.json")))
        stubber.assert_no_pending_responses()

        stubber.add_response("get_open_id_connect_provider", {**provider, "ClientIDList": ["sts.amazonaws.com"]}, arn)
        stubber.add_response("add_client_id_to_open_id_connect_provider", {}, {**arn, "ClientID": "backdoor-app"})
        undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
        stubber.assert_no_pending_responses()

    assert finding["outcome"] == Outcome.REMEDIATED
    assert finding["done"] == [f"removed client id backdoor-app from OIDC provider {OIDC}"]
    assert list(undo.restored) == [f"added client id backdoor-app to OIDC provider {OIDC} again"]


@pytest.mark.parametrize("pattern", ["*", "https://*", "oidc.eks.eu-west-1.amazonaws.com/id/*"])
def test_an_allowlist_that_matches_everything_is_refused(pattern: str) -> None:
    with pytest.raises(SettingsError, match="matches everything"):
        load_settings({"rules": {"identity-provider-unknown": {"allow_oidc_urls": [pattern]}}})


def _known_okta(account: Account) -> None:
    """The organisation's Okta: its issuer and its signing certificate (bare hex, one form the setting takes)."""
    account.set("rules/identity-provider-unknown/mode", "remediate")
    account.set("rules/identity-provider-unknown/allow_saml_issuers", "http://www.okta.com/exk1acme*")
    account.set("rules/identity-provider-unknown/allow_saml_certificates", fingerprint(OKTA))


def _created(metadata: str | None, name: str = "okta-copy") -> dict[str, Any]:
    event = copy.deepcopy(load_event("create-saml-provider-unknown.json"))
    detail = event["detail"]
    detail["requestParameters"]["name"] = name
    detail["responseElements"]["sAMLProviderArn"] = f"arn:aws:iam::{HOME_ACCOUNT}:saml-provider/{name}"
    if metadata is None:  # CloudTrail left the document out (too large), or it was redacted
        del detail["requestParameters"]["sAMLMetadataDocument"]
    else:
        detail["requestParameters"]["sAMLMetadataDocument"] = metadata
    return event


def test_a_copy_of_the_known_issuer_signing_with_a_foreign_key_is_deleted_and_undo_creates_it_again(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    copied = okta(signing=(FOREIGN,))
    arn = account.iam.create_saml_provider(Name="okta-copy", SAMLMetadataDocument=copied)["SAMLProviderArn"]
    _known_okta(account)

    finding = _findings(enforcer.handle(_created(copied)))

    assert finding["outcome"] == Outcome.REMEDIATED
    [alert] = notifier.sent
    assert alert.finding is not None
    assert "which is known" in alert.finding.reason
    assert "which is not in allow_saml_certificates" in alert.finding.reason
    assert account.iam.list_saml_providers()["SAMLProviderList"] == []
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert account.iam.get_saml_provider(SAMLProviderArn=arn)["SAMLMetadataDocument"] == copied


def test_the_known_metadata_is_put_back_over_a_foreign_key_and_undo_sets_the_foreign_key_again(
    account: Account, enforcer: EnforcerService
) -> None:
    sample = "update-saml-provider-okta-foreign-key.json"
    known = load_event("update-saml-provider-okta.json")["detail"]["requestParameters"]["sAMLMetadataDocument"]
    foreign = load_event(sample)["detail"]["requestParameters"]["sAMLMetadataDocument"]
    arn = account.iam.create_saml_provider(Name="okta", SAMLMetadataDocument=known)["SAMLProviderArn"]
    snapshots = take_identity_provider_snapshots(account.iam, HOME_ACCOUNT, "2026-11-20T09:00:00Z")
    AuditRecorded(account.audit(), account.dynamodb).put_all(snapshots)
    account.iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument=foreign)
    _known_okta(account)

    finding = _findings(enforcer.handle(load_event(sample)))

    assert finding["outcome"] == Outcome.REMEDIATED
    assert account.iam.get_saml_provider(SAMLProviderArn=arn)["SAMLMetadataDocument"] == known
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert account.iam.get_saml_provider(SAMLProviderArn=arn)["SAMLMetadataDocument"] == foreign


def test_a_create_whose_event_lacks_the_metadata_is_judged_on_what_iam_holds(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """The enforcer reads the provider (iam:GetSAMLProvider): a foreign key is deleted, the known one left alone."""
    account.iam.create_saml_provider(Name="okta-copy", SAMLMetadataDocument=okta(signing=(FOREIGN,)))
    account.iam.create_saml_provider(Name="okta-second", SAMLMetadataDocument=okta())
    _known_okta(account)

    finding = _findings(enforcer.handle(_created(None)))
    kept = enforcer.handle(_created(None, name="okta-second"))

    assert finding["outcome"] == Outcome.REMEDIATED
    [alert] = notifier.sent
    assert alert.finding is not None
    assert "(read live)" in alert.finding.reason
    assert (kept["verdict"], kept["findings"]) == ("compliant", [])
    assert [p["Arn"].rsplit("/", 1)[-1] for p in account.iam.list_saml_providers()["SAMLProviderList"]] == [
        "okta-second"
    ]
