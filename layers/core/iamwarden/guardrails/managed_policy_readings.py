"""``managed-policy-ambiguous``: a managed policy created with a document that names a key twice.

AWS documents no reading of a policy text that names a key twice with different values (or a condition key in two
cases). For ``Put*Policy`` and ``CreatePolicyVersion`` the engine judges every reading (``engine._read_either_way``);
a new managed policy (``CreatePolicy``) is attached to nothing, so no rule judged it (review s11 note); when it is
attached or made the default later, the rules judge every reading of the text IAM returns (``PolicyVersion.readings``).
So the document is judged here, when it is created, on every reading (``documents.other_readings``): when any reading
grants admin-equivalent access or opens a privilege-escalation method (``escalation.assess``, the document alone),
it is alerted, never remediated (IAM Warden does not delete a policy; detaching it later is the attach rules' job);
when the readings disagree, the finding says which value AWS enforces is unknown (``needs_context``). A document
with one reading is compliant here: its attachment is judged as any other.

The text is parsed here without ``load_policy``, so the engine does not judge its readings a second time.

CloudTrail shape: ``requestParameters`` ``policyName``, ``path``, ``policyDocument`` (the JSON text, as
``CreatePolicyVersion`` records it) and ``responseElements.policy.arn`` (the IAM API's CreatePolicy response in
CloudTrail's lower camel case; the record's exact shape is unconfirmed: without the ARN it is built from the path
and name).
"""

from __future__ import annotations

import json
from typing import ClassVar

from iamwarden.domain.catalog import RuleSpec, Severity
from iamwarden.domain.documents import duplicate_keys, other_readings, policy_text
from iamwarden.domain.escalation import PolicyRisk, assess
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.policy import Policy, parse_policy
from iamwarden.guardrails.base import Evaluation, RuleContext

MANAGED_POLICY_AMBIGUOUS = RuleSpec(
    id="managed-policy-ambiguous",
    title="Managed policy created with a key named twice",
    event_source="iam.amazonaws.com",
    event_names=frozenset({"CreatePolicy"}),
    risk=(
        "A policy text that names a key twice with different values has no documented reading: a reviewer, a "
        "scanner and AWS may each read a different policy, and one of the readings grants far more."
    ),
    alert_risk=(
        "This new policy can be read two ways, and one way grants administrator-level or self-escalating access: "
        "whoever it is attached to may hold that, whatever the policy seems to say."
    ),
)


class AmbiguousManagedPolicyRule:
    """CreatePolicy whose document has more than one reading, any of them risky."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (MANAGED_POLICY_AMBIGUOUS,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        arn = _policy_arn(context)
        evaluation = Evaluation(resource_arn=arn)
        text = context.request_text("policyDocument")
        name = arn.rsplit("/", 1)[-1]
        readings = other_readings(text)
        if not readings:
            evaluation.compliant.append(
                f"the new managed policy {name} has one reading: it is judged when it is attached"
            )
            return evaluation
        judged = [
            _risk(reading, "a reading of detail.requestParameters.policyDocument")
            for reading in (
                policy_text(text),  # URL-decoded as other_readings reads it (review s13 F4)
                *readings,
            )
        ]
        risky = [risk for risk in judged if risk.risky]
        where = ", ".join(duplicate_keys(text)) or "a condition key in two cases"
        if not risky:
            evaluation.compliant.append(
                f"the new managed policy {name} names a key twice ({where}), but no reading of it grants "
                "admin-equivalent access or opens a known privilege-escalation method"
            )
            return evaluation
        disagree = len(risky) != len(judged) or len({_said(risk) for risk in judged}) > 1
        what = (
            "grants admin-equivalent access"
            if any(risk.admin for risk in risky)
            else ("opens a privilege-escalation method")
        )
        reason = (
            f"{change.actor.display} created the managed policy {name} with a document that names a key twice "
            f"({where}): AWS documents no reading of it, and "
            + ("one reading" if disagree else "every reading")
            + f" {what}. When it is attached or made the default, IAM Warden judges every reading: one that opens "
            "something with certainty is undone (detached, or the known previous default made the default again; "
            "IAM Warden never writes a version from either reading), uncertain ones are alerted. Here IAM Warden "
            "alerts only: rewrite the policy with each key once."
        )
        unknown = (
            (
                f"which value AWS enforces for a key the policy text names twice ({where}): the readings disagree "
                "on what the policy grants",
            )
            if disagree
            else ()
        )
        evaluation.findings.append(
            context.finding(
                MANAGED_POLICY_AMBIGUOUS,
                severity=Severity.CRITICAL if any(risk.admin for risk in risky) else Severity.HIGH,
                resource_arn=arn,
                reason=reason,
                plan=[],
                offending=[{"duplicate_keys": list(duplicate_keys(text)), "readings": 1 + len(readings)}],
                needs_context=unknown,
            )
        )
        return evaluation


def _risk(text: str, field: str) -> PolicyRisk:
    """What one reading of the document grants, judged alone (attached to nothing yet)."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise InvalidEventError(f"{field} is not JSON") from exc
    if not isinstance(document, dict):
        raise InvalidEventError(f"{field} is not a JSON object")
    policy: Policy = parse_policy(document, field=field)
    return assess(policy)


def _said(risk: PolicyRisk) -> tuple[bool, tuple[str, ...]]:
    """What a reading's verdict comes to: admin-equivalent or not, and the escalation methods it opens."""
    return bool(risk.admin), tuple(sorted({path.method.name for path in risk.escalations}))


def _policy_arn(context: RuleContext) -> str:
    change = context.change
    created = (change.response_elements or {}).get("policy")
    arn = created.get("arn") if isinstance(created, dict) else None
    if isinstance(arn, str) and arn.startswith("arn:"):
        return arn
    path = change.request_parameters.get("path") or "/"
    if not isinstance(path, str) or not path.startswith("/") or not path.endswith("/"):
        raise InvalidEventError("detail.requestParameters.path must be a path: /, or /name/")
    return f"arn:{context.partition}:iam::{change.account}:policy{path}{context.request_text('policyName')}"


GUARDRAILS = (AmbiguousManagedPolicyRule(),)
ACTIONS = ()
