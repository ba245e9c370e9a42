"""The judgements of trust-policy-untrusted, s3-acl-public and s3-public-access-block-disabled, edge by edge."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any

import pytest

from iamwarden.domain.findings import Judgement, Verdict
from iamwarden.domain.recorded import PUBLIC_ACCESS_BLOCK, PastRemediation, Snapshot
from iamwarden.domain.settings import Settings, parse_settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.public_access_block import SETTINGS
from tests.conftest import load_event

GITHUB = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
SUB = "token.actions.githubusercontent.com:sub"
AUD = {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}
VENDOR = "777766665555"


def _settings(**values: Any) -> Settings:
    settings, problems = parse_settings(values)
    assert not problems
    return settings


def _trust(*statements: dict[str, Any], settings: Settings | None = None) -> tuple[str, str]:
    event = copy.deepcopy(load_event("trust-update-unknown-account.json"))
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    event["detail"]["requestParameters"]["policyDocument"] = json.dumps(document)
    judgement = judge_event(event, settings or Settings())
    return judgement.verdict.value, judgement.reason


def _web_identity(provider: str, condition: dict[str, Any] | None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Federated": provider},
        "Action": "sts:AssumeRoleWithWebIdentity",
    }
    if condition is not None:
        statement["Condition"] = condition
    return statement


@pytest.mark.parametrize(
    ("condition", "verdict"),
    [
        ({"StringEquals": {**AUD, SUB: "repo:acme/payments:ref:refs/heads/main"}}, "compliant"),
        ({"StringLike": {SUB: "repo:acme/payments:*"}}, "compliant"),
        ({"StringLike": {SUB: "repo:acme/*"}}, "compliant"),  # one owner: the organisation's own repositories
        ({"StringEquals": {SUB: "repo:*"}}, "compliant"),  # StringEquals takes "*" literally
        ({"StringLike": {SUB: ["repo:acme/app:*", "repo:*"]}}, "violation"),  # values are ORed
        ({"StringLike": {SUB: "repo:*"}}, "violation"),
        ({"StringLike": {SUB: "*"}}, "violation"),
        ({"StringLike": {SUB: "repo:acme*/*"}}, "violation"),  # acme-evil matches too
        ({"StringLike": {SUB: "repo:*/payments:*"}}, "violation"),
        ({"StringEquals": AUD}, "violation"),
        (None, "violation"),
        ({"StringEqualsIfExists": {SUB: "repo:acme/app:ref:refs/heads/main"}}, "violation"),
        ({"ForAllValues:StringEquals": {SUB: "repo:acme/app:ref:refs/heads/main"}}, "violation"),
        ({"StringNotEquals": {SUB: "repo:evil/app:ref:refs/heads/main"}}, "violation"),
        # Conditions are ANDed: one exact subject bounds the statement even beside a loose one.
        ({"StringLike": {SUB: "*"}, "StringEquals": {SUB: "repo:acme/app:environment:prod"}}, "compliant"),
    ],
)
def test_github_actions_subjects(condition: dict[str, Any] | None, verdict: str) -> None:
    assert _trust(_web_identity(GITHUB, condition))[0] == verdict


def test_a_loose_github_subject_names_the_pattern() -> None:
    _, reason = _trust(_web_identity(GITHUB, {"StringLike": {SUB: "repo:*"}}))
    assert "lets any GitHub repository assume it" in reason
    assert "'repo:*'" in reason


@pytest.mark.parametrize(
    ("provider", "condition", "verdict"),
    [
        (
            "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71",
            {"StringEquals": {"oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71:sub": "system:x"}},
            "compliant",
        ),
        (
            "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71",
            {"StringLike": {"oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71:sub": "*"}},
            "violation",
        ),
        (
            "cognito-identity.amazonaws.com",
            {"StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:1"}},
            "compliant",
        ),
        ("cognito-identity.amazonaws.com", None, "violation"),
        ("accounts.google.com", {"StringEquals": {"accounts.google.com:aud": "client-id"}}, "violation"),
        ("accounts.google.com", {"StringEquals": {"accounts.google.com:sub": "110000000000000000000"}}, "compliant"),
        ("arn:aws:iam::999988887777:oidc-provider/token.actions.githubusercontent.com", None, "violation"),
    ],
)
def test_other_web_identity_providers(provider: str, condition: dict[str, Any] | None, verdict: str) -> None:
    assert _trust(_web_identity(provider, condition))[0] == verdict


def test_saml_federation_with_the_accounts_own_provider_is_fine() -> None:
    saml = {
        "Effect": "Allow",
        "Principal": {"Federated": "arn:aws:iam::111122223333:saml-provider/okta"},
        "Action": "sts:AssumeRoleWithSAML",
        "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
    }
    assert _trust(saml)[0] == "compliant"


def _vendor(condition: dict[str, Any] | None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{VENDOR}:root"},
        "Action": "sts:AssumeRole",
    }
    if condition is not None:
        statement["Condition"] = condition
    return statement


VENDORS = _settings(rules={"trust-policy-untrusted": {"third_party_accounts": [VENDOR]}})


@pytest.mark.parametrize(
    ("condition", "verdict"),
    [
        ({"StringEquals": {"sts:ExternalId": "5f0c6d1e8a9b4c3d"}}, "compliant"),
        (None, "violation"),
        ({"StringLike": {"sts:ExternalId": "*"}}, "violation"),
        ({"StringEqualsIfExists": {"sts:ExternalId": "5f0c6d1e8a9b4c3d"}}, "violation"),
        ({"StringNotEquals": {"sts:ExternalId": "guess"}}, "violation"),
    ],
)
def test_third_party_accounts_need_an_exact_external_id(condition: dict[str, Any] | None, verdict: str) -> None:
    assert _trust(_vendor(condition), settings=VENDORS)[0] == verdict


def test_an_unlisted_account_is_untrusted_even_with_an_external_id() -> None:
    """An attacker picks its own external id: only listed vendors may use one."""
    verdict, reason = _trust(_vendor({"StringEquals": {"sts:ExternalId": "x"}}))
    assert verdict == "violation"
    assert "list it in rules/trust-policy-untrusted/third_party_accounts" in reason


def test_trusted_accounts_need_no_external_id() -> None:
    statement = {"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "sts:AssumeRole"}
    assert _trust(statement, settings=_settings(trusted_accounts=["444455556666"]))[0] == "compliant"


def test_everyone_limited_to_the_organisation_is_fine() -> None:
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
    }
    # Not untrusted: the organisation's own. Whether a weaker principal of the account now gets a stronger role is
    # privilege-escalation's question, as for ":root" (offline, without authorization details: unknown, alerted).
    verdict, reason = _trust(statement, settings=_settings(organization_id="o-a1b2c3d4e5"))
    assert "lets anyone assume it" not in reason
    assert verdict == "compliant" or "lets principals of its own account assume it" in reason
    assert "lets organization o-a1b2c3d4e5, out" in _trust(statement)[1]  # not known to be ours: untrusted


def test_deny_statements_never_offend() -> None:
    deny = {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"}
    assert _trust(deny)[0] == "compliant"


def test_only_the_offending_statements_are_in_the_plan() -> None:
    event = load_event("trust-update-unknown-account.json")
    [finding] = judge_event(event, Settings()).findings
    [step] = finding.plan
    assert [reference["sid"] for reference in step.parameters["statements"]] == ["Contractor"]
    assert step.parameters["event_name"] == "UpdateAssumeRolePolicy"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"policyDocument": None}, "detail.requestParameters.policyDocument must be a policy document"),
        ({"policyDocument": "{not json"}, "does not parse as JSON"),
        ({"roleName": ""}, "detail.requestParameters.roleName must be a non-empty string"),
    ],
)
def test_a_malformed_trust_event_is_invalid(change: dict[str, Any], message: str) -> None:
    event = copy.deepcopy(load_event("trust-update-unknown-account.json"))
    event["detail"]["requestParameters"].update(change)
    judgement = judge_event(event, Settings())
    assert judgement.verdict is Verdict.INVALID
    assert message in judgement.reason


# --- s3-acl-public ---------------------------------------------------------------------------


def _acl(request: dict[str, Any], sample: str = "acl-bucket-private.json") -> tuple[str, frozenset[str], str]:
    event = copy.deepcopy(load_event(sample))
    parameters = event["detail"]["requestParameters"]
    parameters.pop("x-amz-acl", None)
    parameters.update(request)
    judgement = judge_event(event, Settings())
    offending = frozenset(f"{o['grantee']} {o['permission']}" for f in judgement.findings for o in f.offending)
    return judgement.verdict.value, offending, judgement.reason


@pytest.mark.parametrize(
    ("request_parameters", "offending"),
    [
        ({"x-amz-acl": ["public-read-write"]}, {"AllUsers READ", "AllUsers WRITE"}),
        ({"x-amz-acl": "authenticated-read"}, {"AuthenticatedUsers READ"}),
        ({"x-amz-acl": ["log-delivery-write"]}, set()),
        ({"x-amz-acl": ["bucket-owner-full-control"]}, set()),
        (
            {"x-amz-grant-read": ['uri="http://acs.amazonaws.com/groups/global/AllUsers", id="abc"']},
            {"AllUsers READ"},
        ),
        (
            {"x-amz-grant-write-acp": ["uri=http://acs.amazonaws.com/groups/global/AuthenticatedUsers"]},
            {"AuthenticatedUsers WRITE_ACP"},
        ),
        ({"x-amz-grant-read": ['uri="http://acs.amazonaws.com/groups/s3/LogDelivery"']}, set()),
        (
            {
                "AccessControlPolicy": {
                    "AccessControlList": {
                        "Grant": {
                            "Grantee": {"xsi:type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
                            "Permission": "FULL_CONTROL",
                        }
                    }
                }
            },
            {"AllUsers FULL_CONTROL"},  # a single grant is recorded as an object, not a list
        ),
    ],
)
def test_acl_forms(request_parameters: dict[str, Any], offending: set[str]) -> None:
    verdict, found, _ = _acl(request_parameters)
    assert found == offending
    assert verdict == ("violation" if offending else "compliant")


def test_an_object_acl_names_the_object_and_its_version() -> None:
    event = copy.deepcopy(load_event("acl-object-public-read.json"))
    event["detail"]["requestParameters"]["versionId"] = "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd"
    [finding] = judge_event(event, Settings()).findings
    assert finding.resource_arn == "arn:aws:s3:::acme-invoices/2026/11/invoice-1042.pdf"
    assert finding.plan[0].parameters == {
        "bucket": "acme-invoices",
        "key": "2026/11/invoice-1042.pdf",
        "version_id": "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd",
    }


@pytest.mark.parametrize(
    ("request_parameters", "message"),
    [
        ({"AccessControlPolicy": "public"}, "AccessControlPolicy must be an object"),
        ({"AccessControlPolicy": {"AccessControlList": {"Grant": ["x"]}}}, "must hold objects with a Grantee"),
        ({"x-amz-acl": [7]}, "x-amz-acl must be a string or strings"),
    ],
)
def test_a_malformed_acl_event_is_invalid(request_parameters: dict[str, Any], message: str) -> None:
    verdict, _, reason = _acl(request_parameters)
    assert verdict == "invalid"
    assert message in reason


# --- s3-public-access-block-disabled ---------------------------------------------------------

ON = dict.fromkeys(SETTINGS, True)
OFF = dict.fromkeys(SETTINGS, False)
WEBSITE = {**ON, "BlockPublicPolicy": False, "RestrictPublicBuckets": False}  # a public site behind its policy
INVOICES = "arn:aws:s3:::acme-invoices"
ACCOUNT_BLOCK = "arn:aws:s3::111122223333:public-access-block"


class _Recorded:
    """The enforcer's record of the configuration a past call left (``PUBLIC_ACCESS_BLOCK``)."""

    def __init__(self, snapshot: Snapshot | None) -> None:
        self._snapshot = snapshot

    def remediations(self, resource_arn: str) -> Sequence[PastRemediation]:
        return ()

    def snapshot(self, kind: str, resource_arn: str) -> Snapshot | None:
        if self._snapshot is None or kind != PUBLIC_ACCESS_BLOCK or resource_arn != self._snapshot.resource_arn:
            return None
        return self._snapshot


def _kept(arn: str, configuration: dict[str, bool] | None, taken_at: str = "2026-11-20T09:00:00Z") -> _Recorded:
    data = {"configuration": configuration, "account": "111122223333"}
    return _Recorded(Snapshot(PUBLIC_ACCESS_BLOCK, arn, taken_at, data))


def _block_judgement(
    configuration: Any, recorded: _Recorded | None = None, settings: Settings | None = None
) -> Judgement:
    event = copy.deepcopy(load_event("pab-bucket-all-on.json"))
    event["detail"]["requestParameters"]["PublicAccessBlockConfiguration"] = configuration
    return judge_event(event, settings or Settings(), recorded=recorded)


def _block(configuration: Any, recorded: _Recorded | None = None) -> tuple[str, str]:
    judgement = _block_judgement(configuration, recorded)
    return judgement.verdict.value, judgement.reason


def test_settings_as_strings_and_left_out_settings() -> None:
    on = {
        "BlockPublicAcls": "true",
        "IgnorePublicAcls": "TRUE",
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    assert _block(on)[0] == "compliant"
    partly = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": "false"}
    verdict, reason = _block(partly, _kept(INVOICES, ON))
    assert verdict == "violation"
    assert "turned off BlockPublicPolicy and RestrictPublicBuckets for bucket acme-invoices" in reason


def test_a_hardening_call_on_a_deliberately_public_bucket_is_a_low_note_never_a_remediation() -> None:
    """Review s11 F10: two settings turned on where the other two were already off turns nothing off: nothing is
    planned and nobody is blamed. Second reading s12: a record can be stale (the bucket re-created since with all four
    on, no event), so the settings left off are said in a low alert-only note, never silently taken as compliant."""
    judgement = _block_judgement(WEBSITE, _kept(INVOICES, OFF))
    assert judgement.verdict is Verdict.VIOLATION
    [finding] = judgement.findings
    assert finding.severity.value == "low"
    assert not finding.plan
    assert "turned no Block Public Access setting off for bucket acme-invoices" in finding.reason
    assert "BlockPublicPolicy and RestrictPublicBuckets stay off" in finding.reason
    assert "they were already off before it" in finding.reason
    assert finding.needs_context
    [kept] = judgement.observed
    assert (kept.kind, kept.resource_arn, kept.data) == (
        PUBLIC_ACCESS_BLOCK,
        INVOICES,
        {"configuration": WEBSITE, "account": "111122223333"},
    )
    assert kept.whatever_the_verdict
    assert kept.ambiguous_within_instant  # another call of its second may have set something else


def test_only_the_setting_the_call_turned_off_is_planned() -> None:
    judgement = _block_judgement({**WEBSITE, "IgnorePublicAcls": False}, _kept(INVOICES, WEBSITE))
    [finding] = judgement.findings
    assert "turned off IgnorePublicAcls for bucket acme-invoices" in finding.reason
    assert not finding.needs_context
    [step] = finding.plan
    assert step.parameters == {"scope": "bucket", "bucket": "acme-invoices", "settings": ["IgnorePublicAcls"]}
    assert step.summary == "turn IgnorePublicAcls back on for bucket acme-invoices"
    assert finding.offending == (
        {"settings_off": ["IgnorePublicAcls", *SETTINGS[2:]], "turned_off": ["IgnorePublicAcls"]},
    )
    [kept] = judgement.observed
    # What the remediation leaves: the call's, one back on.
    assert kept.if_remediated == {"configuration": WEBSITE, "account": "111122223333"}


def test_without_an_earlier_state_the_alert_says_so_and_needs_context() -> None:
    finding = _block_judgement(WEBSITE).findings[0]  # offline: no record at all
    assert "left BlockPublicPolicy and RestrictPublicBuckets off for bucket acme-invoices" in finding.reason
    assert "turned off" not in finding.reason
    assert "which settings were on before is unknown" in finding.reason
    [unknown] = finding.needs_context
    assert "before this call" in unknown
    assert "all_four" in unknown
    live = _block_judgement(WEBSITE, _Recorded(None)).findings[0]
    assert "IAM Warden has not seen an earlier Block Public Access call" in live.needs_context[0]


def test_a_record_from_after_the_call_is_no_before() -> None:
    finding = _block_judgement(WEBSITE, _kept(INVOICES, ON, "2026-11-22T11:00:00Z")).findings[0]
    assert "is not from before this call" in finding.needs_context[0]


def test_all_four_always_turns_every_setting_left_off_on() -> None:
    settings, problems = parse_settings({"rules/s3-public-access-block-disabled/all_four": "always"})
    assert problems == []
    for recorded in (None, _kept(INVOICES, OFF)):
        [finding] = _block_judgement(WEBSITE, recorded, settings).findings
        assert not finding.needs_context
        assert finding.plan[0].parameters["settings"] == ["BlockPublicPolicy", "RestrictPublicBuckets"]
    older = _block_judgement(WEBSITE, _kept(INVOICES, OFF), settings).findings[0]
    assert "BlockPublicPolicy and RestrictPublicBuckets were already off before" in older.reason


def test_a_delete_restores_exactly_what_was_on_before() -> None:
    event = load_event("pab-bucket-deleted.json")
    website = "arn:aws:s3:::acme-website"
    [finding] = judge_event(event, Settings(), recorded=_kept(website, WEBSITE)).findings
    assert "which turned BlockPublicAcls and IgnorePublicAcls off" in finding.reason
    assert finding.plan[0].parameters["settings"] == ["BlockPublicAcls", "IgnorePublicAcls"]
    assert not finding.needs_context
    nothing_on = judge_event(event, Settings(), recorded=_kept(website, None))
    assert [(f.severity.value, f.plan) for f in nothing_on.findings] == [("low", ())]
    unknown = judge_event(event, Settings()).findings[0]
    assert "leaves all four settings off" in unknown.reason
    assert "which settings were on before is unknown" in unknown.reason
    # Review s12 F3: leaving every setting off is no hardening whatever was before: remediated, all four on.
    assert not unknown.needs_context
    assert unknown.plan[0].parameters["settings"] == list(SETTINGS)


def test_without_a_record_a_call_turning_all_four_off_is_remediated_a_mixed_one_only_alerted() -> None:
    """Review s12 F3: the first turn-off of a bucket IAM Warden has no record of is not left alert-only."""
    for recorded in (None, _Recorded(None)):
        [all_off] = _block_judgement(OFF, recorded).findings
        assert not all_off.needs_context
        assert all_off.plan[0].parameters["settings"] == list(SETTINGS)
        assert "left BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy and RestrictPublicBuckets off" in (
            all_off.reason
        )
        assert "which settings were on before is unknown" in all_off.reason
        [mixed] = _block_judgement(WEBSITE, recorded).findings
        assert mixed.needs_context


def test_a_record_of_the_calls_own_second_is_no_before() -> None:
    """Review s12 F2: CloudTrail times have one-second resolution; a record of the same second may be of a call
    after this one, so it says nothing about what was before."""
    same_second = _kept(INVOICES, ON, "2026-11-22T10:19:21.000+00:00")  # pab-bucket-all-on.json's eventTime
    [finding] = _block_judgement(WEBSITE, same_second).findings
    assert "is not from before this call" in finding.needs_context[0]
    [all_off] = _block_judgement(OFF, same_second).findings
    assert not all_off.needs_context  # still remediated: every setting off is no hardening


def test_a_record_marked_unusable_is_no_before() -> None:
    """Review s12 F1: two calls of one second set different states; the record says neither."""
    unusable = _Recorded(
        Snapshot(PUBLIC_ACCESS_BLOCK, INVOICES, "2026-11-20T09:00:00Z", {"configuration": OFF}, unusable=True)
    )
    judgement = _block_judgement(WEBSITE, unusable)
    assert judgement.verdict is Verdict.VIOLATION
    [finding] = judgement.findings
    assert "is of two calls in one second" in finding.needs_context[0]


def test_a_record_of_another_account_or_too_old_is_no_before() -> None:
    """Review s12 F5: a bucket name can be re-created, or reused by another account; the record expires."""
    other = _Recorded(
        Snapshot(PUBLIC_ACCESS_BLOCK, INVOICES, "2026-11-20T09:00:00Z", {"configuration": OFF, "account": "999"})
    )
    assert "kept for another account" in _block_judgement(WEBSITE, other).findings[0].needs_context[0]
    old = _kept(INVOICES, OFF, "2026-10-23T10:19:20Z")  # 30 days and 1 second before the call
    assert "is older than 30 days" in _block_judgement(WEBSITE, old).findings[0].needs_context[0]
    [note] = _block_judgement(WEBSITE, _kept(INVOICES, OFF, "2026-10-23T10:19:21Z")).findings
    assert (note.severity.value, note.plan) == ("low", ())  # a usable record: nothing planned, only noted
    settings, problems = parse_settings({"rules/s3-public-access-block-disabled/record_max_age_days": "90"})
    assert problems == []
    [note] = _block_judgement(WEBSITE, old, settings).findings  # usable within 90 days: nothing planned
    assert (note.severity.value, note.plan) == ("low", ())


@pytest.mark.parametrize(
    ("configuration", "message"),
    [(None, "PublicAccessBlockConfiguration must be an object"), ({"BlockPublicAcls": "yes"}, "must be true or false")],
)
def test_a_malformed_block_event_is_invalid(configuration: Any, message: str) -> None:
    verdict, reason = _block(configuration)
    assert verdict == "invalid"
    assert message in reason


def test_the_account_block_is_critical_and_names_the_account() -> None:
    [finding] = judge_event(load_event("pab-account-off.json"), Settings(), recorded=_kept(ACCOUNT_BLOCK, ON)).findings
    assert finding.severity.value == "critical"
    assert finding.resource_arn == ACCOUNT_BLOCK
    assert finding.plan[0].parameters == {"scope": "account", "account_id": "111122223333", "settings": list(SETTINGS)}
    assert not finding.needs_context


def test_a_failed_call_is_never_judged_against_the_record() -> None:
    judgement = judge_event(load_event("pab-account-access-denied.json"), Settings(), recorded=_kept(ACCOUNT_BLOCK, ON))
    assert judgement.verdict is Verdict.IGNORED
    assert judgement.observed == ()


def test_an_exception_for_the_settings_off_covers_the_call_with_or_without_a_record() -> None:
    """Review s12 F6: an exception accepts the settings being off (what a finding without a record, or main's, says);
    knowing that the call turned them off must not take it away."""
    from datetime import UTC, datetime, timedelta

    from iamwarden.domain.rule_exceptions import (
        ExceptionScope,
        ExceptionStatus,
        RuleException,
        accepted_of,
    )

    event = load_event("pab-bucket-partly-off.json")  # acme-exports: BlockPublicPolicy and RestrictPublicBuckets off
    exports = "arn:aws:s3:::acme-exports"
    without_record = judge_event(event, Settings()).findings[0]
    now = datetime(2026, 11, 22, 11, tzinfo=UTC)
    exception = RuleException(
        "ex-website",
        ExceptionScope("s3-public-access-block-disabled", resource_pattern=exports, literal=True),
        "a public website behind its bucket policy",
        "arn:aws:iam::111122223333:user/alice",
        now - timedelta(hours=2),
        5,
        ExceptionStatus.APPROVED,
        "arn:aws:iam::111122223333:user/bob",
        now - timedelta(hours=1),
        now - timedelta(hours=1) + timedelta(days=5),  # approval + days, as the desk sets it
        source_remediation_id="rem-website",
        accepted=accepted_of(without_record.offending),
    )
    with_record = _Recorded(
        Snapshot(PUBLIC_ACCESS_BLOCK, exports, "2026-11-20T09:00:00Z", {"configuration": ON, "account": "111122223333"})
    )
    for recorded in (None, with_record):
        judgement = judge_event(event, Settings(), recorded=recorded, exceptions=[exception], now=now)
        assert judgement.verdict is Verdict.COMPLIANT, judgement.reason
