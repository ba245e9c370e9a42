"""Removing Glacier vault and CloudWatch Logs destination policy statements, and undoing it, against moto.

CloudWatch Logs destinations are moto's own. moto has no Glacier vault access policies: the cases' session hooks
answer Glacier's three policy calls (tests/functional/guardrail_cases.py), as they do for the contract test.
The plans are the judgement's own for the samples (issue 18).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from iamwarden.adapters.audit import AuditStatus
from iamwarden.adapters.clients import ClientFactory
from iamwarden.app.executor import AccountClients, StepRun
from iamwarden.app.service import EnforcerService
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import Outcome, RemediationStep
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.logs_destination_policy import OWNER_ONLY_SID
from iamwarden.guardrails.registry import action_for
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional import guardrail_cases as cases
from tests.functional.conftest import Account, RecordingNotifier

REGION = cases.RESOURCE_REGION


@pytest.fixture
def aws(account: Account) -> AccountClients:
    return AccountClients(
        ClientFactory(HOME_ACCOUNT, account.config.member_role_name, session=account.session), HOME_ACCOUNT, REGION
    )


def _plan(event: dict[str, Any], settings: Settings | None = None) -> RemediationStep:
    [finding] = judge_event(event, settings or Settings()).findings
    [step] = finding.plan
    return step


def _run(aws: AccountClients, step: RemediationStep) -> tuple[dict[str, Any], list[str]]:
    action = action_for(step)
    before = action.capture(aws, step)
    done: list[str] = []
    action.apply(StepRun(aws, "f-1234", "2026-12-04T21:00:00.000+00:00"), step, before, done)
    return before, done


def _policy_document(text: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(text)
    return document


def _destination_with(account: Account, statements: list[dict[str, Any]]) -> dict[str, Any]:
    """Destination central-logs holding ``statements``, and the unknown-account sample reporting them."""
    event = cases._log_destination_with_sample_policy("logs-destination-policy-unknown-account.json")(account)
    policy = json.dumps({"Version": "2012-10-17", "Statement": statements})
    cases._logs(account).put_destination_policy(destinationName="central-logs", accessPolicy=policy)
    event["detail"]["requestParameters"]["accessPolicy"] = policy
    return event


VENDOR = {
    "Sid": "VendorSubscribes",
    "Effect": "Allow",
    "Principal": {"AWS": "999988887777"},
    "Action": "logs:PutSubscriptionFilter",
    "Resource": "*",
}


def test_a_destination_keeps_its_other_statements_and_undo_puts_the_removed_one_back(
    account: Account, aws: AccountClients
) -> None:
    event = cases._log_destination_with_sample_policy("logs-destination-policy-unknown-account.json")(account)
    step = _plan(event)
    sample = _policy_document(event["detail"]["requestParameters"]["accessPolicy"])

    before, done = _run(aws, step)

    assert cases.log_destination_policy(account) == cases.canonical_policy(cases._without_statement(sample, 1))
    assert done == ["removed 1 statement(s) from the policy of log destination central-logs; kept 1"]
    action_for(step).undo(aws, step, before)
    assert cases.log_destination_policy(account) == cases.canonical_policy(sample)


def test_a_destination_left_with_nothing_gets_the_owner_only_policy_and_undo_restores_exactly(
    account: Account, aws: AccountClients
) -> None:
    event = _destination_with(account, [VENDOR])
    step = _plan(event)

    before, done = _run(aws, step)

    live = cases.log_destination_policy(account)
    assert live == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": OWNER_ONLY_SID,
                "Effect": "Allow",
                "Principal": {"AWS": HOME_ACCOUNT},
                "Action": "logs:PutSubscriptionFilter",
                "Resource": "*",
            }
        ],
    }
    assert done == ["deleted the policy of log destination central-logs: every statement in it was offending"]
    assert judge_event(_owner_only_event(event, live), Settings()).findings == ()  # what it writes is compliant
    restored = action_for(step).undo(aws, step, before)
    assert restored == ["restored 1 statement(s) into the current policy of log destination central-logs"]
    assert cases.log_destination_policy(account) == {"Version": "2012-10-17", "Statement": [VENDOR]}


def _owner_only_event(event: dict[str, Any], policy: Any) -> dict[str, Any]:
    changed: dict[str, Any] = json.loads(json.dumps(event))
    changed["detail"]["requestParameters"]["accessPolicy"] = json.dumps(policy)
    return changed


def test_a_destination_already_owner_only_is_left_alone(account: Account, aws: AccountClients) -> None:
    step = _plan(_destination_with(account, [VENDOR]))
    _run(aws, step)

    before, done = _run(aws, step)  # a second run reads the owner-only policy as none

    assert (before["policy"], done) == (None, [])


def test_a_destination_that_is_gone_is_nothing_to_remove_and_its_undo_is_refused(
    account: Account, aws: AccountClients
) -> None:
    step = _plan(_destination_with(account, [VENDOR]))
    before, _ = _run(aws, step)
    cases._logs(account).delete_destination(destinationName="central-logs")

    assert action_for(step).capture(aws, step) == {"exists": False, "policy": None}
    with pytest.raises(UndoError, match="central-logs no longer exists"):
        action_for(step).undo(aws, step, before)


def test_a_vault_keeps_its_deny_and_undo_puts_the_public_statement_back(account: Account, aws: AccountClients) -> None:
    event = cases._glacier_vault_with_sample_policy("glacier-vault-policy-public.json")(account)
    step = _plan(event)
    sample = _policy_document(event["detail"]["requestParameters"]["policy"]["policy"])

    before, done = _run(aws, step)

    assert cases.glacier_vault_policy(account) == cases.canonical_policy(cases._without_statement(sample, 1))
    assert done == ["removed 1 statement(s) from the policy of Glacier vault orders-archive; kept 1"]
    action_for(step).undo(aws, step, before)
    assert cases.glacier_vault_policy(account) == cases.canonical_policy(sample)


def test_a_vault_left_with_nothing_loses_its_policy_and_undo_sets_it_again(
    account: Account, aws: AccountClients
) -> None:
    event = cases._glacier_vault_with_sample_policy("glacier-vault-policy-unknown-account.json")(account)
    document = _policy_document(event["detail"]["requestParameters"]["policy"]["policy"])
    only = {**document, "Statement": [document["Statement"][1]]}
    account.session.client("glacier", region_name=REGION).set_vault_access_policy(
        vaultName="orders-archive", policy={"Policy": json.dumps(only)}
    )
    event["detail"]["requestParameters"]["policy"]["policy"] = json.dumps(only)
    step = _plan(event)

    before, done = _run(aws, step)

    assert cases.glacier_vault_policy(account) is None
    assert done == ["deleted the policy of Glacier vault orders-archive: every statement in it was offending"]
    action_for(step).undo(aws, step, before)
    assert cases.glacier_vault_policy(account) == cases.canonical_policy(only)


def test_a_vault_without_a_policy_any_more_is_left_alone(account: Account, aws: AccountClients) -> None:
    event = cases._glacier_vault_with_sample_policy("glacier-vault-policy-public.json")(account)
    account.session.client("glacier", region_name=REGION).delete_vault_access_policy(vaultName="orders-archive")
    step = _plan(event)

    before, done = _run(aws, step)

    assert (before["policy"], done) == (None, [])
    assert action_for(step).undo(aws, step, before) == []


def test_a_vault_lock_policy_in_remediate_mode_is_alerted_and_the_access_policy_untouched(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """A lock policy cannot be edited: the enforcer alerts with what to run and changes nothing."""
    account.set("rules/glacier-vault-policy-public/mode", "remediate")
    cases._glacier_vault_with_sample_policy("glacier-vault-policy-public.json")(account)
    live = cases.glacier_vault_policy(account)

    result = enforcer.handle(load_event("glacier-vault-lock-public.json"))

    assert [finding["outcome"] for finding in result["findings"]] == ["alerted"]
    assert cases.glacier_vault_policy(account) == live
    [notification] = notifier.sent
    assert notification.outcome is Outcome.ALERTED
    assert notification.finding is not None
    assert "abort-vault-lock" in notification.finding.needs_context[0]
    [record] = account.audit().for_event(load_event("glacier-vault-lock-public.json")["detail"]["eventID"])
    assert record.status == AuditStatus.ALERTED


def test_a_destination_policy_keeping_an_organisation_statement_is_written_with_force_update(
    account: Account, aws: AccountClients
) -> None:
    """PutDestinationPolicy needs forceUpdate for an organisation-wide policy; an accounts-only one goes without."""
    sample = "logs-destination-policy-organization.json"
    organization = _policy_document(load_event(sample)["detail"]["requestParameters"]["accessPolicy"])["Statement"][0]
    step = _plan(_destination_with(account, [VENDOR, organization]), Settings(organization_id="o-a1b2c3d4e5"))
    sent: list[dict[str, Any]] = []
    aws.client("logs").meta.events.register(
        "provide-client-params.logs.PutDestinationPolicy", lambda params, **_: sent.append(dict(params))
    )

    before, _ = _run(aws, step)
    action_for(step).undo(aws, step, before)

    assert [call.get("forceUpdate") for call in sent] == [True, True]
    assert cases.log_destination_policy(account) == cases.canonical_policy(
        {"Version": "2012-10-17", "Statement": [VENDOR, organization]}
    )
    sent.clear()
    vendor_only = _plan(
        _destination_with(account, [VENDOR, {**VENDOR, "Sid": "Own", "Principal": {"AWS": HOME_ACCOUNT}}])
    )
    _run(aws, vendor_only)
    assert [call.get("forceUpdate") for call in sent] == [None]
