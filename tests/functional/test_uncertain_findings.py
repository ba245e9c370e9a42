"""Never remediate on a guess: a finding that lacks a fact is alerted with it, and nothing changes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from iamwarden.adapters.audit import AuditStatus
from iamwarden.app import service as service_module
from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Finding, Judgement, Outcome
from iamwarden.domain.managed_documents import ManagedPolicyDocuments
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.test_breaker import attach_admin, attached

UNKNOWN = "who owns vpce-0abc (DescribeVpcEndpoints was denied)"


@pytest.fixture
def uncertain_judge(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real judgement, with one fact marked unknown on every finding."""

    def judge(
        event: Mapping[str, Any], settings: Settings, documents: ManagedPolicyDocuments | None, **readers: Any
    ) -> Judgement:
        judgement = judge_event(event, settings, documents, **readers)
        findings = tuple(finding._replace(needs_context=(UNKNOWN,)) for finding in judgement.findings)
        return judgement._replace(findings=findings)

    monkeypatch.setattr(service_module, "judge_event", judge)


def test_an_uncertain_finding_in_remediate_mode_is_alerted_and_nothing_changes(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, uncertain_judge: None
) -> None:
    account.set("rules/managed-policy-attached/mode", "remediate")
    result = enforcer.handle(attach_admin(account, "app-uncertain", "00000000-0000-4000-8000-0000000000a1"))

    assert attached(account, "app-uncertain")
    assert [finding["outcome"] for finding in result["findings"]] == ["alerted"]
    [notification] = notifier.sent
    assert notification.outcome is Outcome.ALERTED
    finding: Finding | None = notification.finding
    assert finding is not None
    assert finding.needs_context == (UNKNOWN,)
    assert not finding.certain
    [record] = account.audit().for_event("00000000-0000-4000-8000-0000000000a1")
    assert record.status == AuditStatus.ALERTED
    assert record.error is not None
    assert UNKNOWN in record.error


def test_a_certain_finding_is_still_remediated(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/managed-policy-attached/mode", "remediate")
    enforcer.handle(attach_admin(account, "app-certain", "00000000-0000-4000-8000-0000000000a2"))

    assert not attached(account, "app-certain")
    assert [notification.outcome for notification in notifier.sent] == [Outcome.REMEDIATED]
