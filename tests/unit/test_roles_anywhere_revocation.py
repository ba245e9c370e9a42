"""roles-anywhere-trust-anchor on revocation lists and attribute mappings (audit s6 gap 14): alerted, never undone."""

from __future__ import annotations

import copy

import pytest

from iamwarden.domain.catalog import Severity
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

CRL = "4f1c2b3a-aaaa-bbbb-cccc-0d7f3e5b1a90"


@pytest.mark.parametrize(
    ("file", "verb", "way_back"),
    [
        ("rolesanywhere-delete-crl.json", "deleted", "aws rolesanywhere import-crl"),
        ("rolesanywhere-disable-crl.json", "disabled", f"aws rolesanywhere enable-crl --crl-id {CRL}"),
    ],
)
def test_a_revocation_list_deleted_or_disabled_is_high_with_the_way_back(file: str, verb: str, way_back: str) -> None:
    [finding] = judge_event(load_event(file), Settings()).findings
    assert (finding.rule_id, finding.severity, finding.plan) == ("roles-anywhere-trust-anchor", Severity.HIGH, ())
    assert finding.resource_arn == f"arn:aws:rolesanywhere:eu-west-1:111122223333:crl/{CRL}"
    assert f"{verb} the Roles Anywhere certificate revocation list {CRL}" in finding.reason
    assert way_back in finding.reason


@pytest.mark.parametrize("name", ["PutAttributeMapping", "DeleteAttributeMapping"])
def test_an_attribute_mapping_changed_is_medium(name: str) -> None:
    event = copy.deepcopy(load_event("rolesanywhere-delete-crl.json"))
    event["detail"]["eventName"] = name
    event["detail"]["requestParameters"] = {"profileId": "5e6f7a8b", "certificateField": "x509Subject"}
    [finding] = judge_event(event, Settings()).findings
    assert finding.severity is Severity.MEDIUM
    assert "maps the certificate's x509Subject to session tags" in finding.reason
    assert finding.resource_arn == "arn:aws:rolesanywhere:eu-west-1:111122223333:profile/5e6f7a8b"


def test_a_revocation_list_replaced_is_high_and_says_what_is_unknown() -> None:
    """Review s10 finding 10: ``UpdateCrl`` with new content is as good as deleting the list when it revokes fewer."""
    [finding] = judge_event(load_event("rolesanywhere-update-crl.json"), Settings()).findings
    assert (finding.rule_id, finding.severity, finding.plan) == ("roles-anywhere-trust-anchor", Severity.HIGH, ())
    assert finding.resource_arn == f"arn:aws:rolesanywhere:eu-west-1:111122223333:crl/{CRL}"
    assert f"replaced the content of the Roles Anywhere certificate revocation list {CRL}" in finding.reason
    assert f"aws rolesanywhere update-crl --crl-id {CRL} --crl-data fileb://" in finding.reason
    assert finding.needs_context == (f"which certificates revocation list {CRL} revoked before the update",)


def test_a_revocation_list_only_renamed_is_medium() -> None:
    event = copy.deepcopy(load_event("rolesanywhere-update-crl.json"))
    event["detail"]["requestParameters"] = {"crlId": CRL, "name": "corp-crl-2026"}
    [finding] = judge_event(event, Settings()).findings
    assert finding.severity is Severity.MEDIUM
    assert "renamed the Roles Anywhere certificate revocation list" in finding.reason


def test_a_failed_update_of_a_revocation_list_is_not_judged() -> None:
    event = copy.deepcopy(load_event("rolesanywhere-update-crl.json"))
    event["detail"]["errorCode"] = "AccessDenied"
    assert judge_event(event, Settings()).findings == ()
