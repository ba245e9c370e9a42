"""identity-center-identity-source: changes of the identity source itself.

Whoever controls Identity Center's identity source (the connected directory, the external identity provider's SAML
configuration and certificates, the SCIM access token) signs in as, or provisions, every Identity Center user. The
event names come from the Identity Center User Guide's CloudTrail list and Sigma's identity-provider-change rule
(guardrails/identity_center.py ``IDENTITY_SOURCE_CHANGES``); each is a critical finding, alerted with how to put it
back and never remediated (IAM Warden does not read what the source was before). A rule of its own, apart from
identity-center-user-takeover's attribute alerts (review s11 F7), so muting those never silences these.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from iamwarden.domain.catalog import Severity
from iamwarden.domain.findings import Verdict
from iamwarden.domain.settings import Settings, load_settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.identity_center import IDENTITY_SOURCE_CHANGES
from tests.conftest import load_event

RULE = "identity-center-identity-source"
TAKEOVER = "identity-center-user-takeover"
SAMPLE = "sso-directory-external-idp-updated.json"


def _event(source: str, name: str, request: dict[str, Any] | None = None) -> dict[str, Any]:
    event = copy.deepcopy(load_event(SAMPLE))
    event["source"] = "aws." + source.split(".", 1)[0]
    event["detail"].update(eventSource=source, eventName=name)
    if request is not None:
        event["detail"]["requestParameters"] = request
    return event


@pytest.mark.parametrize(("source", "name"), sorted(IDENTITY_SOURCE_CHANGES))
def test_each_identity_source_change_is_critical_and_alerted_with_how_to_put_it_back(source: str, name: str) -> None:
    judgement = judge_event(_event(source, name), Settings())  # offline too: nothing is read
    [finding] = judgement.findings
    assert (finding.rule_id, finding.severity, finding.plan) == (RULE, Severity.CRITICAL, ())
    what, back = IDENTITY_SOURCE_CHANGES[source, name]
    assert f"{what} of Identity Center in account 111122223333, eu-west-1 (directoryId d-9067a1b2c3)" in (
        finding.reason
    )
    assert f"If it was not meant, {back}." in finding.reason
    assert finding.needs_context == (
        "what the identity source of Identity Center in account 111122223333, eu-west-1 (directoryId d-9067a1b2c3) "
        f"was before {name}, and what it set (its record does not say, and IAM Warden does not read the identity "
        "source)",
    )
    assert finding.resource_arn == "arn:aws:identitystore::111122223333:identitystore/d-9067a1b2c3"


def test_the_sample_is_the_external_identity_providers_configuration_changed() -> None:
    [finding] = judge_event(load_event(SAMPLE), Settings()).findings
    assert "changed the external identity provider's configuration" in finding.reason
    assert "put the identity provider's previous SAML metadata back" in finding.reason


@pytest.mark.parametrize(
    ("request_parameters", "arn", "named"),
    [
        (
            {"instanceArn": "arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6"},
            "arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6",
            " (instanceArn arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6)",
        ),
        ({"identityStoreId": "d-1234567890"}, "arn:aws:identitystore::111122223333:identitystore/d-1234567890", None),
        ({}, "arn:aws:sso:::account/111122223333", ""),
        ({"directoryId": "HIDDEN_DUE_TO_SECURITY_REASONS"}, "arn:aws:sso:::account/111122223333", ""),
    ],
)
def test_the_finding_names_what_the_record_names(
    request_parameters: dict[str, Any], arn: str, named: str | None
) -> None:
    event = _event("sso.amazonaws.com", "AssociateDirectory", request_parameters)
    [finding] = judge_event(event, Settings()).findings
    assert finding.resource_arn == arn
    if named is not None:
        assert f"of Identity Center in account 111122223333, eu-west-1{named}: " in finding.reason


def test_a_failed_identity_source_change_is_not_judged() -> None:
    event = load_event(SAMPLE)
    event["detail"]["errorCode"] = "AccessDeniedException"
    judgement = judge_event(event, Settings())
    assert judgement.verdict is Verdict.IGNORED
    assert judgement.findings == ()


def test_other_directory_calls_are_not_identity_source_changes() -> None:
    for source, name in (("sso-directory.amazonaws.com", "DescribeDirectory"), ("sso.amazonaws.com", "StartSSO")):
        judgement = judge_event(_event(source, name), Settings())
        assert (judgement.verdict, judgement.findings) == (Verdict.IGNORED, ()), name
        assert "not guarded" in judgement.reason


@pytest.mark.parametrize(("source", "name"), sorted(IDENTITY_SOURCE_CHANGES))
def test_muting_the_attribute_alerts_never_silences_an_identity_source_change(source: str, name: str) -> None:
    """The user-takeover rule switched off (or excepted) for the noise of identity-provider syncs: an identity-source
    change is still critical, under its own rule id."""
    settings = load_settings(
        {"rules": {TAKEOVER: {"mode": "off", "allow_actors": ["arn:aws:iam::111122223333:role/developer"]}}}
    )
    judgement = judge_event(_event(source, name), settings)
    assert judgement.verdict is Verdict.VIOLATION
    assert [(f.rule_id, f.severity) for f in judgement.findings] == [(RULE, Severity.CRITICAL)]


def test_the_identity_source_rule_can_be_switched_off_apart() -> None:
    settings = load_settings({"rules": {RULE: {"mode": "off"}}})
    judgement = judge_event(load_event(SAMPLE), settings)
    assert (judgement.verdict, judgement.findings) == (Verdict.IGNORED, ())
    assert f"{RULE} is off" in judgement.reason


@pytest.mark.parametrize("source", ["aws.partner/example.com/1234/forged", "acme.sso-directory"])
def test_a_record_under_a_partner_or_custom_source_is_refused(source: str) -> None:
    """The routes match any ``aws.`` source (the SCIM and sso-directory ones are undocumented), which a partner event
    source (``aws.partner/...``, written by a third party) also starts with: its forged record is refused, never
    alerted as an identity-source change (review s12 F3)."""
    event = copy.deepcopy(load_event(SAMPLE))
    event["source"] = source
    judgement = judge_event(event, Settings())
    assert (judgement.verdict, judgement.findings) == (Verdict.INVALID, ())
    assert f"event source is {source!r}, not an AWS service's" in judgement.reason


def test_the_generated_guardrail_table_names_every_identity_source_change() -> None:
    """The README's generated row is rendered from the spec: it must name the two ``sso.amazonaws.com`` events as
    well as the seven ``sso-directory`` ones (review s12 F4)."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    [row] = [line for line in readme.splitlines() if line.startswith(f"| `{RULE}` | Identity Center identity source")]
    events = row.split(" | ")[2]
    assert sorted(name.strip("`") for name in events.split(", ")) == sorted(name for _, name in IDENTITY_SOURCE_CHANGES)
