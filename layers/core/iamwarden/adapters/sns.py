"""SNS: one publish per alert, readable for people and complete for machines.

Every alert is published with ``MessageStructure=json``. The message is a
JSON object of per-protocol strings: ``default`` and ``email`` carry the
readable text (``render_text``); ``sqs``, ``lambda``, ``https`` and
``firehose`` carry the full alert as JSON (the ``AlertMessage.record``,
schema ``iamwarden.alert/1``). SNS requires the ``default`` key and uses it
for any protocol not listed (``http``, ``email-json``, ``sms``): each listed
copy counts against the size limit, so only the protocols machines use get one.

Four String message attributes make the alert filterable with SNS
subscription filter policies: ``rule`` (a rule id, or ``settings`` for a
configuration error), ``severity`` (critical, high, medium, low), ``account``
(12 digits) and ``outcome`` (alerted, remediated, remediation_failed,
noteworthy, configuration_error). For example, a subscription with the
filter policy ``{"severity": ["critical"]}`` receives only critical alerts.

SNS accepts at most 256 KB per publish. A machine body that would not fit
first loses the plan's parameters (they repeat the offending statements),
then the offending statements, each replaced by a note saying so; the
readable text is bounded by ``render_text``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from iamwarden.adapters.errors import describe
from iamwarden.alerts.exceptions import DeliveryError
from iamwarden.alerts.message import AlertMessage
from iamwarden.alerts.render import render_text

if TYPE_CHECKING:
    from iamwarden.adapters.clients import ClientFactory

#: SNS's limit on message plus attributes is 262,144 bytes; keep a margin for the attributes and the subject.
MAX_MESSAGE_BYTES = 256 * 1024 - 4 * 1024
READABLE_PROTOCOLS = ("default", "email")
MACHINE_PROTOCOLS = ("sqs", "lambda", "https", "firehose")


def message_attributes(message: AlertMessage) -> dict[str, dict[str, str]]:
    """The four filterable attributes; SNS rejects empty values, so each has one."""
    values = {
        "rule": message.rule_id,
        "severity": message.severity.value,
        "account": message.account or "unknown",
        "outcome": message.outcome.value,
    }
    return {name: {"DataType": "String", "StringValue": value} for name, value in values.items()}


def publish_request(topic_arn: str, message: AlertMessage) -> dict[str, Any]:
    """The keyword arguments of ``sns.publish`` for ``message`` (pure: tests inspect it)."""
    return {
        "TopicArn": topic_arn,
        "Subject": message.subject,
        "Message": structured_message(message),
        "MessageStructure": "json",
        "MessageAttributes": message_attributes(message),
    }


def structured_message(message: AlertMessage) -> str:
    """The ``MessageStructure=json`` body, shrunk (with a note) if it would exceed SNS's size limit."""
    text = render_text(message)
    for record in _shrinking(message.record):
        body = json.dumps(record, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
        structure = dict.fromkeys(READABLE_PROTOCOLS, text) | dict.fromkeys(MACHINE_PROTOCOLS, body)
        encoded = json.dumps(structure, ensure_ascii=False)
        if len(encoded.encode("utf-8")) <= MAX_MESSAGE_BYTES:
            return encoded
    # Cannot happen with a bounded text and a minimal record; fail loudly rather than publish a cut JSON.
    raise DeliveryError("the alert is too large for SNS even without its policy statements")


def _shrinking(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The record, then lighter versions of it: without plan parameters, without offending statements."""
    full = dict(record)
    finding = record.get("finding")
    if not isinstance(finding, Mapping):
        return [full]
    note = "omitted to fit SNS's 256 KB limit; the audit record has it"
    no_parameters = dict(finding)
    no_parameters["plan"] = [
        {**step, "parameters": {"omitted": note}} for step in finding.get("plan", ()) if isinstance(step, Mapping)
    ]
    no_offending = dict(no_parameters)
    no_offending["offending"] = [{"omitted": note}] if finding.get("offending") else []
    return [full, {**full, "finding": no_parameters}, {**full, "finding": no_offending}]


class SnsPublisher:
    """Publishes alerts with the clients of a ``ClientFactory`` (one retry configuration, botocore's)."""

    def __init__(self, factory: ClientFactory) -> None:
        self._factory = factory

    def publish(self, topic_arn: str, message: AlertMessage) -> str:
        """Publish ``message``; the SNS message id, or ``DeliveryError`` after botocore's retries."""
        region = topic_arn.split(":")[3] if topic_arn.count(":") >= 5 else None
        request = publish_request(topic_arn, message)
        try:
            client = self._factory.home_client("sns", region)
            answer = client.publish(**request)
        except (BotoCoreError, ClientError) as exc:
            raise DeliveryError(f"SNS topic {topic_arn}: {describe(exc)}") from exc
        return str(answer.get("MessageId", ""))
