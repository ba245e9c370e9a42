"""Identity-provider updates restored from the heartbeat's snapshot, in moto: an unknown OIDC provider's thumbprints
and an unknown SAML provider's metadata go back to what IAM Warden last saw; undo puts the event's back, a second run
changes nothing, and a provider changed again since the event is kept."""

from __future__ import annotations

import re
from typing import Any

import pytest

from iamwarden.adapters.recorded import AuditRecorded, take_identity_provider_snapshots
from iamwarden.app.service import EnforcerService
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import Outcome
from iamwarden.domain.recorded import IDENTITY_PROVIDER
from iamwarden.domain.saml import saml_issuer
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

OPERATOR = f"arn:aws:iam::{HOME_ACCOUNT}:user/secops"
OIDC = f"arn:aws:iam::{HOME_ACCOUNT}:oidc-provider/oidc.ci-runner.example.net"
SAML = f"arn:aws:iam::{HOME_ACCOUNT}:saml-provider/okta"
OLD = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
NEW = "0" * 40  # what update-oidc-thumbprint-unknown.json sets
SNAPSHOT_TIME = "2026-11-20T09:00:00Z"  # before every sample's eventTime


def _snapshot(account: Account) -> None:
    """The heartbeat's snapshot of the account's providers, stored where the enforcer reads it."""
    snapshots = take_identity_provider_snapshots(account.iam, HOME_ACCOUNT, SNAPSHOT_TIME)
    AuditRecorded(account.audit(), account.dynamodb).put_all(snapshots)


def _thumbprints(account: Account) -> list[str]:
    return list(account.iam.get_open_id_connect_provider(OpenIDConnectProviderArn=OIDC)["ThumbprintList"])


def _changed_thumbprints(account: Account) -> None:
    account.iam.create_open_id_connect_provider(
        Url="https://oidc.ci-runner.example.net", ClientIDList=["sts.amazonaws.com"], ThumbprintList=[OLD]
    )
    _snapshot(account)
    account.iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=OIDC, ThumbprintList=[NEW])
    account.set("rules/identity-provider-unknown/mode", "remediate")


def _only(result: dict[str, Any]) -> dict[str, Any]:
    [finding] = result["findings"]
    assert finding["rule"] == "identity-provider-unknown"
    return dict(finding)


def _again(sample: str, event_id: str) -> dict[str, Any]:
    event = load_event(sample)
    event["detail"]["eventID"] = event_id
    return event


def test_the_snapshot_holds_each_providers_thumbprints_client_ids_and_metadata(account: Account) -> None:
    account.iam.create_open_id_connect_provider(
        Url="https://oidc.ci-runner.example.net", ClientIDList=["sts.amazonaws.com"], ThumbprintList=[OLD]
    )
    metadata = _metadata("create-saml-provider-unknown.json")
    account.iam.create_saml_provider(Name="okta", SAMLMetadataDocument=metadata)

    snapshots = {s.resource_arn: s for s in take_identity_provider_snapshots(account.iam, HOME_ACCOUNT, SNAPSHOT_TIME)}

    assert {s.kind for s in snapshots.values()} == {IDENTITY_PROVIDER}
    assert snapshots[OIDC].data == {
        "type": "oidc",
        "url": "oidc.ci-runner.example.net",
        "client_ids": ["sts.amazonaws.com"],
        "thumbprints": [OLD],
    }
    assert snapshots[SAML].data == {"type": "saml", "metadata": metadata}
    assert take_identity_provider_snapshots(account.iam, "999988887777", SNAPSHOT_TIME) == []  # another account's


def test_changed_thumbprints_are_put_back_and_undo_sets_the_new_ones_again(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    _changed_thumbprints(account)

    finding = _only(enforcer.handle(load_event("update-oidc-thumbprint-unknown.json")))

    assert finding["outcome"] == Outcome.REMEDIATED
    assert finding["done"] == [f"put back thumbprints {OLD} on OIDC provider {OIDC}"]
    assert _thumbprints(account) == [OLD]
    [alert] = notifier.sent
    assert alert.finding is not None
    assert not alert.finding.needs_context
    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert list(undo.restored) == [f"set thumbprints {NEW} on OIDC provider {OIDC} again, as before"]
    assert _thumbprints(account) == [NEW]


def test_a_second_run_changes_nothing(account: Account, enforcer: EnforcerService) -> None:
    _changed_thumbprints(account)
    enforcer.handle(load_event("update-oidc-thumbprint-unknown.json"))

    second = _only(
        enforcer.handle(_again("update-oidc-thumbprint-unknown.json", "00000000-0000-4000-8000-0000000a0002"))
    )

    assert second["done"] == []
    assert _thumbprints(account) == [OLD]


def test_thumbprints_changed_again_since_the_event_are_kept_and_undo_refuses_to_overwrite(
    account: Account, enforcer: EnforcerService
) -> None:
    _changed_thumbprints(account)
    later = "1" * 40
    account.iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=OIDC, ThumbprintList=[later])

    kept = _only(enforcer.handle(load_event("update-oidc-thumbprint-unknown.json")))

    assert kept["done"] == []
    assert _thumbprints(account) == [later]
    # Restored, then changed by someone else: undo never overwrites that.
    account.iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=OIDC, ThumbprintList=[NEW])
    restored = _only(
        enforcer.handle(_again("update-oidc-thumbprint-unknown.json", "00000000-0000-4000-8000-0000000a0003"))
    )
    assert restored["done"] == [f"put back thumbprints {OLD} on OIDC provider {OIDC}"]
    account.iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=OIDC, ThumbprintList=[later])
    with pytest.raises(UndoError, match="changed since"):
        enforcer.executor.undo(restored["remediation_id"], actor=OPERATOR)
    assert _thumbprints(account) == [later]


def _metadata(sample: str) -> str:
    return str(load_event(sample)["detail"]["requestParameters"]["sAMLMetadataDocument"])


def test_changed_saml_metadata_is_put_back_and_undo_sets_the_new_one_again(
    account: Account, enforcer: EnforcerService
) -> None:
    previous, new = _metadata("create-saml-provider-unknown.json"), _metadata("update-saml-provider-okta.json")
    account.iam.create_saml_provider(Name="okta", SAMLMetadataDocument=previous)
    _snapshot(account)
    account.iam.update_saml_provider(SAMLProviderArn=SAML, SAMLMetadataDocument=new)
    account.set("rules/identity-provider-unknown/mode", "remediate")
    # only metadata of a known issuer is a known good state to put back (audit s7 gap 7)
    account.set("rules/identity-provider-unknown/allow_saml_issuers", str(saml_issuer(previous)))

    finding = _only(enforcer.handle(load_event("update-saml-provider-okta.json")))

    assert finding["outcome"] == Outcome.REMEDIATED
    assert account.iam.get_saml_provider(SAMLProviderArn=SAML)["SAMLMetadataDocument"] == previous
    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert len(undo.restored) == 1
    assert account.iam.get_saml_provider(SAMLProviderArn=SAML)["SAMLMetadataDocument"] == new
    second = _only(enforcer.handle(_again("update-saml-provider-okta.json", "00000000-0000-4000-8000-0000000a0004")))
    assert second["done"] != []  # undone by the operator, then the event judged anew: restored again
    third = _only(enforcer.handle(_again("update-saml-provider-okta.json", "00000000-0000-4000-8000-0000000a0005")))
    assert third["done"] == []


def test_two_saml_updates_around_a_heartbeat_never_put_back_the_first_intruders_idp(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Audit s7 gap 7, S1: the known issuer; the intruder points the provider at A (09:30); the heartbeat reads A
    (09:32); the intruder points it at B (09:35:41). A's event: the only snapshot before it is the known one, but
    B is live (changed again since). B's: the snapshot before it holds A, no allow-listed issuer: alert-only."""
    intruder_a = _metadata("create-saml-provider-unknown.json")
    known = re.sub(r'entityID="[^"]+"', 'entityID="https://sso.acme.example/known"', intruder_a, count=1)
    intruder_b = _metadata("update-saml-provider-okta.json")
    account.set("rules/identity-provider-unknown/mode", "remediate")
    account.set("rules/identity-provider-unknown/allow_saml_issuers", "https://sso.acme.example/known")
    account.iam.create_saml_provider(Name="okta", SAMLMetadataDocument=known)
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    recorded.put_all(take_identity_provider_snapshots(account.iam, HOME_ACCOUNT, SNAPSHOT_TIME))
    account.iam.update_saml_provider(SAMLProviderArn=SAML, SAMLMetadataDocument=intruder_a)
    recorded.put_all(take_identity_provider_snapshots(account.iam, HOME_ACCOUNT, "2026-11-20T09:32:00Z"))
    account.iam.update_saml_provider(SAMLProviderArn=SAML, SAMLMetadataDocument=intruder_b)
    first = _again("update-saml-provider-okta.json", "00000000-0000-4000-8000-0000000a0101")
    first["detail"]["eventTime"] = "2026-11-20T09:30:00Z"
    first["detail"]["requestParameters"]["sAMLMetadataDocument"] = intruder_a

    enforcer.handle(first)
    second = _only(enforcer.handle(load_event("update-saml-provider-okta.json")))

    assert second["outcome"] == Outcome.ALERTED
    now = account.iam.get_saml_provider(SAMLProviderArn=SAML)["SAMLMetadataDocument"]
    assert saml_issuer(now) == saml_issuer(intruder_b), "nothing put back: not A, the intruder's first IdP"
    alert = notifier.sent[-1].finding
    assert alert is not None
    assert any("not in allow_saml_issuers" in missing for missing in alert.needs_context)


def test_a_provider_deleted_before_the_restore_counts_as_done(account: Account, enforcer: EnforcerService) -> None:
    _changed_thumbprints(account)
    account.iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=OIDC)

    gone = _only(enforcer.handle(load_event("update-oidc-thumbprint-unknown.json")))

    assert (gone["outcome"], gone["done"]) == (Outcome.REMEDIATED, [])


def test_undo_of_a_provider_deleted_since_says_so(account: Account, enforcer: EnforcerService) -> None:
    _changed_thumbprints(account)
    finding = _only(enforcer.handle(load_event("update-oidc-thumbprint-unknown.json")))
    account.iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=OIDC)

    with pytest.raises(UndoError, match="no longer exists"):
        enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
