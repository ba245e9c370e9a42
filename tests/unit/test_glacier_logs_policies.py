"""Judging Glacier vault policies and CloudWatch Logs destination policies.

The samples' shapes: SetVaultAccessPolicy and InitiateVaultLock carry the policy in ``policy.policy`` (as
panther-analysis's ``aws_resource_made_public.py`` and StreamAlert's ``cloudtrail_public_resources`` read it),
PutDestinationPolicy in ``accessPolicy`` (CloudWatch Logs API reference).
"""

from __future__ import annotations

import copy
import gzip
import json
from typing import Any

import pytest

from iamwarden.backtest.domain.records import DateRange, scan_content
from iamwarden.domain.findings import Judgement, Verdict
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.glacier_vault_policy import GLACIER_VAULT_POLICY_RULE
from iamwarden.guardrails.logs_destination_policy import REMOVE_DESTINATION_POLICY_STATEMENTS
from tests.conftest import load_event

VAULT = "arn:aws:glacier:eu-west-1:111122223333:vaults/orders-archive"
DESTINATION = "arn:aws:logs:eu-west-1:111122223333:destination:central-logs"
ORGANIZATION = Settings(organization_id="o-a1b2c3d4e5")


def _statement(principal: Any, condition: dict[str, Any] | None = None, *, action: str) -> dict[str, Any]:
    statement = {"Sid": "Under", "Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*"}
    return statement | ({"Condition": condition} if condition else {})


def _glacier(statement: dict[str, Any], event_name: str = "SetVaultAccessPolicy", **settings: Any) -> Judgement:
    event = copy.deepcopy(load_event("glacier-vault-policy-public.json"))
    event["detail"]["eventName"] = event_name
    document = {"Version": "2012-10-17", "Statement": [statement]}
    event["detail"]["requestParameters"]["policy"] = {"policy": json.dumps(document)}
    return judge_event(event, Settings(**settings))


def _destination(statement: dict[str, Any], **settings: Any) -> Judgement:
    event = copy.deepcopy(load_event("logs-destination-policy-public.json"))
    document = {"Version": "2012-10-17", "Statement": [statement]}
    event["detail"]["requestParameters"]["accessPolicy"] = json.dumps(document)
    return judge_event(event, Settings(**settings))


JUDGES = {
    "glacier": (_glacier, "glacier:InitiateJob", "glacier-vault-policy"),
    "logs": (_destination, "logs:PutSubscriptionFilter", "logs-destination-policy"),
}


@pytest.mark.parametrize("kind", JUDGES)
def test_a_trusted_account_is_compliant_and_an_untrusted_one_is_cross_account(kind: str) -> None:
    judge, action, rule = JUDGES[kind]
    statement = _statement({"AWS": "arn:aws:iam::444455556666:root"}, action=action)

    assert judge(statement, trusted_accounts=frozenset({"444455556666"})).verdict is Verdict.COMPLIANT
    [finding] = judge(statement).findings
    assert (finding.rule_id, finding.certain) == (f"{rule}-cross-account", True)
    assert "Account 444455556666" in finding.reason


@pytest.mark.parametrize("kind", JUDGES)
def test_the_own_account_is_compliant(kind: str) -> None:
    judge, action, _ = JUDGES[kind]

    assert judge(_statement({"AWS": "111122223333"}, action=action)).verdict is Verdict.COMPLIANT


@pytest.mark.parametrize("kind", JUDGES)
def test_everyone_limited_to_the_organisation_needs_it_to_be_ours(kind: str) -> None:
    judge, action, rule = JUDGES[kind]
    statement = _statement("*", {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}, action=action)

    assert judge(statement, organization_id="o-a1b2c3d4e5").verdict is Verdict.COMPLIANT
    [finding] = judge(statement).findings
    assert finding.rule_id == f"{rule}-cross-account"
    [finding] = judge(_statement("*", action=action)).findings
    assert (finding.rule_id, finding.severity.value) == (f"{rule}-public", "critical")


@pytest.mark.parametrize("kind", JUDGES)
def test_a_service_principal_is_fine_tied_to_our_account_and_alerted_only_without(kind: str) -> None:
    judge, action, rule = JUDGES[kind]
    service = {"Service": "delivery.logs.amazonaws.com"}
    tied = _statement(service, {"StringEquals": {"aws:SourceAccount": "111122223333"}}, action=action)

    assert judge(tied).verdict is Verdict.COMPLIANT
    [finding] = judge(_statement(service, action=action)).findings
    assert finding.rule_id == f"{rule}-cross-account"
    assert not finding.certain  # the confused deputy: which account the service acts for is unknown
    assert "aws:SourceAccount" in " ".join(finding.needs_context)


def test_a_vault_lock_policy_that_opens_the_vault_is_alerted_never_planned() -> None:
    judgement = judge_event(load_event("glacier-vault-lock-public.json"), Settings())

    [finding] = judgement.findings
    assert (finding.rule_id, finding.resource_arn, finding.plan) == ("glacier-vault-policy-public", VAULT, ())
    assert not finding.certain
    assert "AbortVaultLock" in finding.needs_context[0]
    assert "vault lock policy" in finding.reason


def test_a_vault_lock_policy_of_denies_is_compliant() -> None:
    deny = {"Effect": "Deny", "Principal": "*", "Action": "glacier:DeleteArchive", "Resource": "*"}

    assert _glacier(deny, "InitiateVaultLock").verdict is Verdict.COMPLIANT


def test_a_vault_lock_policy_with_an_uncertain_statement_keeps_both_facts() -> None:
    judgement = _glacier(_statement({"Service": "backup.amazonaws.com"}, action="glacier:*"), "InitiateVaultLock")

    [finding] = judgement.findings
    assert len(finding.needs_context) == 2
    assert finding.plan == ()


def test_the_vault_arn_names_the_owner_of_accountid_and_the_caller_for_a_hyphen() -> None:
    event = copy.deepcopy(load_event("glacier-vault-policy-public.json"))
    event["detail"]["requestParameters"]["accountId"] = "111122223333"

    assert judge_event(event, Settings()).findings[0].resource_arn == VAULT
    event["detail"]["requestParameters"]["accountId"] = "999988887777"
    assert judge_event(event, Settings()).verdict is Verdict.INVALID  # another account's vault


@pytest.mark.parametrize("body", [None, {}, {"policy": ""}])
def test_a_set_vault_access_policy_without_a_policy_sets_none(body: Any) -> None:
    event = copy.deepcopy(load_event("glacier-vault-policy-public.json"))
    event["detail"]["requestParameters"]["policy"] = body

    judgement = judge_event(event, Settings())

    assert judgement.verdict is Verdict.COMPLIANT
    assert "sets no policy" in judgement.reason


def test_a_vault_policy_given_as_a_bare_string_is_read_too() -> None:
    event = copy.deepcopy(load_event("glacier-vault-policy-public.json"))
    request = event["detail"]["requestParameters"]
    request["policy"] = request["policy"]["policy"]

    assert [f.rule_id for f in judge_event(event, Settings()).findings] == ["glacier-vault-policy-public"]


def test_a_destination_policy_larger_than_aws_allows_is_invalid() -> None:
    event = copy.deepcopy(load_event("logs-destination-policy-unknown-account.json"))
    document = json.loads(event["detail"]["requestParameters"]["accessPolicy"])
    document["Statement"][0]["Sid"] = "x" * 5_200
    event["detail"]["requestParameters"]["accessPolicy"] = json.dumps(document)

    assert judge_event(event, Settings()).verdict is Verdict.INVALID


def test_the_samples_plan_exactly_the_offending_statement() -> None:
    [finding] = judge_event(load_event("logs-destination-policy-unknown-account.json"), Settings()).findings
    [step] = finding.plan

    assert (step.target, step.parameters["destination"]) == (DESTINATION, "central-logs")
    assert [ref["sid"] for ref in step.parameters["statements"]] == ["VendorSubscribes"]
    [finding] = judge_event(load_event("glacier-vault-policy-unknown-account.json"), ORGANIZATION).findings
    assert [ref["sid"] for ref in finding.plan[0].parameters["statements"]] == ["VendorUploads"]


def test_the_specs_route_the_events_that_carry_a_policy_and_the_access_policy_s_removal() -> None:
    names = {name for spec in GLACIER_VAULT_POLICY_RULE.specs for name in spec.event_names}

    # CreateVault carries none; the access policy's removal clears IAM Warden's record of it (issue 13 item 7)
    assert names == {"SetVaultAccessPolicy", "InitiateVaultLock", "DeleteVaultAccessPolicy"}
    assert GLACIER_VAULT_POLICY_RULE.deletions == {"DeleteVaultAccessPolicy"}


def test_the_destination_action_declares_put_once() -> None:
    assert REMOVE_DESTINATION_POLICY_STATEMENTS.permissions == (
        "logs:DescribeDestinations",
        "logs:PutDestinationPolicy",
    )


def test_the_backtest_finds_and_judges_the_records_in_a_cloudtrail_log_file() -> None:
    """``backtest`` reads raw CloudTrail records: the guarded names are in scope and judged as delivered."""
    samples = ["glacier-vault-policy-unknown-account.json", "glacier-vault-lock-public.json"]
    samples.append("logs-destination-policy-public.json")
    records = [load_event(sample)["detail"] for sample in samples]
    vault = {**records[0], "eventName": "CreateVault", "requestParameters": {"accountId": "-", "vaultName": "v"}}
    data = gzip.compress(json.dumps({"Records": [vault, *records]}).encode())

    scan = scan_content("trail.json.gz", data, DateRange())

    judged = [judge_event(found.event, Settings()) for found in scan.events]
    assert [finding.rule_id for judgement in judged for finding in judgement.findings] == [
        "glacier-vault-policy-cross-account",
        "glacier-vault-policy-public",
        "logs-destination-policy-public",
    ]
    assert [finding.certain for judgement in judged for finding in judgement.findings] == [True, False, True]
