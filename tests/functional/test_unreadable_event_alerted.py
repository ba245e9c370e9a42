"""A routed event a rule cannot read is alerted, never only counted (review s11 F19)."""

from __future__ import annotations

from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Outcome
from tests.functional.conftest import RecordingNotifier
from tests.unit.test_unjudged import _padded_public_opensearch_policy


def test_an_event_no_rule_can_read_reaches_the_alert_channels_once(
    enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    event = _padded_public_opensearch_policy(110_000)

    result = enforcer.handle(event)

    assert result["verdict"] == "invalid"
    assert [(f["rule"], f["outcome"]) for f in result["findings"]] == [
        ("opensearch-access-policy-public", Outcome.NOTEWORTHY)
    ]
    [sent] = [n for n in notifier.sent if n.finding]
    assert sent.finding is not None
    assert "could not judge UpdateDomainConfig" in sent.finding.reason
    enforcer.handle(event)  # the same event again: recorded once, alerted once
    assert len([n for n in notifier.sent if n.finding]) == 1
