"""Every sample event in events/ is judged as the table in events/README.md says."""

from __future__ import annotations

import pytest

from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.registry import RULES
from tests.conftest import EVENTS_DIR, SAMPLE_OWN, SampleRow, sample_table

ROWS = sample_table()


def test_table_lists_every_sample_exactly_once() -> None:
    files = sorted(path.name for path in EVENTS_DIR.glob("*.json"))
    listed = [row.file for row in ROWS]
    assert sorted(listed) == files
    assert len(set(listed)) == len(listed)
    assert len(files) >= 25


def test_samples_cover_every_verdict_and_rule() -> None:
    verdicts = {row.defaults[0] for row in ROWS} | {row.example[0] for row in ROWS}
    assert verdicts == {"violation", "compliant", "ignored", "invalid"}
    rules = set().union(*(row.defaults[1] for row in ROWS))
    # A reversal is a reversal of IAM Warden's own remediation, known only from its audit table: offline its
    # samples are "cannot judge" (tests/functional/guardrail_cases.py plays them with the table).
    # A removed Deny is in no event (a detach names the policy, a delete its name): it is read live or from
    # authorization details, with which tests/unit/test_restraint_removed.py judges the same samples.
    # What an Identity Center group or user is assigned is read only live (tests/unit/test_identity_center_groups.py,
    # test_identity_center_console.py, test_identity_center_user_takeover.py); an identity-source change
    # (identity-center-identity-source) needs no read.
    live_only = {
        "identity-center-group-admin",
        "identity-center-user-takeover",
        "identity-center-session-tag-attribute",
    }
    assert rules == set(RULES) - {"remediation-reversed", "restraint-removed"} - live_only, (
        "every rule in the catalogue has a sample violation"
    )


def _judged(row: SampleRow, settings: Settings) -> tuple[str, frozenset[str]]:
    judgement = judge_event((EVENTS_DIR / row.file).read_bytes(), settings)
    return judgement.verdict.value, frozenset(finding.rule_id for finding in judgement.findings)


@pytest.mark.parametrize("row", ROWS, ids=[row.file for row in ROWS])
def test_sample_verdict_with_defaults(row: SampleRow) -> None:
    assert _judged(row, Settings(own=SAMPLE_OWN)) == row.defaults


@pytest.mark.parametrize("row", ROWS, ids=[row.file for row in ROWS])
def test_sample_verdict_with_example_settings(row: SampleRow, example_settings: Settings) -> None:
    assert _judged(row, example_settings) == row.example
