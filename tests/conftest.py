"""Fixtures shared by every test layer: the repository's own sample events and settings."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import botocore.loaders
import botocore.session
import pytest
from hypothesis import settings as hypothesis_settings

from iamwarden.app.settings_file import load_settings_file
from iamwarden.domain.own import OwnIdentity
from iamwarden.domain.settings import Settings
from iamwarden.guardrails import registry

# CI explores the same examples every run, so a landing never depends on luck; locally, new ones each time.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]

# The enforcer imports a guardrail module when an event needs it (guardrails/registry.py); the tests name
# actions through the enum view (StepAction.DETACH_MANAGED_POLICY) in any order, so they see every module.
# tests/unit/test_lazy_registry.py checks the lazy loading itself, in fresh interpreters.
registry.load_all()
EVENTS_DIR = ROOT / "events"
EXAMPLE_SETTINGS = EVENTS_DIR / "settings.yaml"
_ROW = re.compile(
    r"^\| `(?P<file>[^`]+)` \| (?P<scenario>.*) \| (?P<defaults>[^|]+) \| (?P<example>[^|]+) "
    r"\| (?P<routed>yes|no|n/a) \|$"
)


#: IAM Warden's own identity in the deployment the samples describe: template.yaml with its defaults in
#: us-east-1 of account 111122223333 (tests/integration/test_own_identity.py checks it against the template).
SAMPLE_HOME_ACCOUNT = "111122223333"
SAMPLE_OWN = OwnIdentity(
    SAMPLE_HOME_ACCOUNT,
    {
        "enforcer": f"arn:aws:iam::{SAMPLE_HOME_ACCOUNT}:role/iamwarden-enforcer-us-east-1",
        "pruner": f"arn:aws:iam::{SAMPLE_HOME_ACCOUNT}:role/iamwarden-pruner-us-east-1",
        "heartbeat": f"arn:aws:iam::{SAMPLE_HOME_ACCOUNT}:role/iamwarden-heartbeat-us-east-1",
        "exception-watch": f"arn:aws:iam::{SAMPLE_HOME_ACCOUNT}:role/iamwarden-exception-watch-us-east-1",
        "slack-interactions": f"arn:aws:iam::{SAMPLE_HOME_ACCOUNT}:role/iamwarden-slack-interactions-us-east-1",
        "event-forwarder": f"arn:aws:iam::{SAMPLE_HOME_ACCOUNT}:role/iamwarden-event-forwarder-us-east-1",
    },
    {
        "remediator": "iamwarden-remediator",
        "pruner-member": "iamwarden-pruner-member",
        "snapshot-reader": "iamwarden-snapshot-reader",
        "member-forwarder": "iamwarden-member-forwarder-{region}",
    },
    rules=frozenset(
        {
            "iamwarden-forward-own-events",
            "iamwarden-heartbeat",
            "iamwarden-prune-schedule",
            "iamwarden-prune-watch",
            "iamwarden-exception-watch",
            "iamwarden-tampered-stack",
            *(
                f"iamwarden-central/iamwarden-{name}"
                for name in (
                    "iam-user-created",
                    "managed-policy-attached",
                    "bucket-policy-changed",
                    "inline-policy-put",
                    "policy-version-changed",
                    "customer-policy-attached",
                    "managed-policy-ambiguous",
                    "restraint-removed",
                    "credentials-created",
                    "trust-policy-changed",
                    "acl-changed",
                    "tampered-roles",
                    "tampered-member-rules",
                    "tampered-own-rules",
                    "tampered-member-stack",
                    "sqs-queue-policy-public",
                    "sns-topic-policy-public",
                    "lambda-permission-public",
                    "lambda-function-url-public",
                    "kms-key-policy-public",
                    "kms-grant-cross-account",
                    "secret-policy-public",
                    "ecr-repository-policy-public",
                    "event-bus-policy-public",
                    "ebs-snapshot-shared",
                    "ami-shared",
                    "rds-snapshot-shared",
                    "dynamodb-resource-policy-public",
                    "efs-file-system-policy-public",
                    "s3-access-point-policy-public",
                    "s3-multi-region-access-point-policy-public",
                    "s3-object-lambda-access-point-policy-public",
                    "opensearch-access-policy-public",
                    "backup-vault-policy-public",
                    "glacier-vault-policy-public",
                    "logs-destination-policy-public",
                    "cloud-trail-logging-impaired",
                    "guardduty-disabled",
                    "config-recording-stopped",
                    "securityhub-disabled",
                    "organization-left",
                    "service-control-policy-changed",
                    "group-membership-escalation",
                    "instance-profile-escalation",
                    "permissions-boundary-weakened",
                    "remediation-reversed-rolesanywhere",
                    "identity-provider-unknown",
                    "roles-anywhere-trust-anchor",
                    "permission-set-admin",
                    "identity-center-group-admin",
                    "identity-center-group-admin-sso-directory",
                    "identity-center-group-admin-identitystore-scim",
                    "identity-center-user-takeover-identitystore-scim",
                    "identity-center-identity-source-sso",
                    "identity-center-identity-source",
                    "identity-center-user-takeover",
                )
            ),
        }
    ),
    functions=frozenset(
        {
            "iamwarden-enforcer",
            "iamwarden-prune-planner",
            "iamwarden-prune-worker",
            "iamwarden-prune-watch",
            "iamwarden-heartbeat",
            "iamwarden-slack-interactions",
            "iamwarden-exception-watch",
        }
    ),
    queues=frozenset({"iamwarden-enforcer-dlq", "iamwarden-prune-dlq", "iamwarden-prune-roles"}),
    tables=frozenset({"iamwarden-audit", "iamwarden-idempotency", "iamwarden-prune-state", "iamwarden-exceptions"}),
    settings_prefix="/iamwarden",
    member_rules=frozenset(
        {"iamwarden-forward-iam", "iamwarden-forward-s3", "iamwarden-forward-guard-a", "iamwarden-forward-guard-b"}
    ),
    stack_name="iamwarden",
    stack_set_name="iamwarden-member",
    # The template's number for the Slack endpoint (declared.RESERVED_CONCURRENCY); the enforcer's: none.
    reserved_concurrency=MappingProxyType({"iamwarden-slack-interactions": 5}),
    signed_url_functions=frozenset({"iamwarden-slack-interactions"}),
    home_policies=frozenset(
        f"arn:aws:iam::{SAMPLE_HOME_ACCOUNT}:policy/iamwarden-enforcer-remediations-{n}-us-east-1" for n in (1, 2, 3, 4)
    ),
    member_policies=frozenset(f"iamwarden-remediator-remediations-{n}" for n in (1, 2, 3)),
    central_bus="iamwarden-central",
    alert_topic="arn:aws:sns:us-east-1:111122223333:iamwarden-alerts",
    alert_key="arn:aws:kms:us-east-1:111122223333:key/mrk-iamwarden-alerts",
    alert_fallback_topic="arn:aws:sns:us-east-1:111122223333:iamwarden-alerts-fallback",
    alarms=frozenset(
        {"iamwarden-enforcer-dead-letters", "iamwarden-alert-delivery-failed", "iamwarden-heartbeat-missing"}
    ),
    # The Slack secrets' !Ref is their ARN when deployed; the tests resolve it to the name the template gives.
    secrets=frozenset({"iamwarden/slack/security", "iamwarden/slack/bot", "iamwarden/slack/signing"}),
    function_roles={
        "iamwarden-enforcer": "enforcer",
        "iamwarden-prune-planner": "pruner",
        "iamwarden-prune-worker": "pruner",
        "iamwarden-prune-watch": "pruner",
        "iamwarden-heartbeat": "heartbeat",
        "iamwarden-slack-interactions": "slack-interactions",
        "iamwarden-exception-watch": "exception-watch",
    },
    home_region="us-east-1",
    user_remediation="quarantine",
    # The template's OperatorRoleArns default: no operators (the enforcer's IAMWARDEN_OPERATOR_ROLE_ARNS).
    operator_role_arns=(),
)


@dataclass(frozen=True)
class SampleRow:
    """One row of the expected-verdict table in events/README.md."""

    file: str
    defaults: tuple[str, frozenset[str]]
    example: tuple[str, frozenset[str]]
    routed: str


def _expectation(cell: str) -> tuple[str, frozenset[str]]:
    verdict, _, rules = cell.strip().partition(":")
    return verdict.strip(), frozenset(rule.strip() for rule in rules.split(",") if rule.strip())


def sample_table() -> list[SampleRow]:
    rows = []
    for line in (EVENTS_DIR / "README.md").read_text().splitlines():
        match = _ROW.match(line)
        if match:
            rows.append(
                SampleRow(
                    match["file"], _expectation(match["defaults"]), _expectation(match["example"]), match["routed"]
                )
            )
    return rows


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text())
    return event


@pytest.fixture(scope="session")
def example_settings() -> Settings:
    """events/settings.yaml, in the sample deployment (its own roles known, as the enforcer knows them)."""
    return load_settings_file(EXAMPLE_SETTINGS)._replace(own=SAMPLE_OWN)


@pytest.fixture(scope="session", autouse=True)
def shared_service_models() -> Iterator[botocore.loaders.Loader]:
    """One botocore loader for every session the tests create, so each service model is parsed once per process.

    A new ``boto3.Session`` (the account fixture's, the service's own, each assumed
    role's) otherwise parses the JSON models and endpoint rules of every client
    again: most of a moto test's setup time. The loader only caches read-only data.
    """
    loader = botocore.loaders.create_loader()

    def register_shared_loader(session: botocore.session.Session) -> None:
        def data_loader() -> botocore.loaders.Loader:
            # Read the configuration as botocore does here: an unknown profile must still fail in the same place.
            data_path = session.get_config_variable("data_path")
            return loader if data_path is None else botocore.loaders.create_loader(data_path)

        session.lazy_register_component("data_loader", data_loader)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session.Session, "_register_data_loader", register_shared_loader)
        yield loader
