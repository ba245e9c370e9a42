"""``roles-anywhere-trust-anchor``: IAM Roles Anywhere trust anchors and profiles the organisation does not know.

A Roles Anywhere trust anchor lets anyone holding a certificate from its certificate authority exchange it for
temporary credentials of the roles a profile names. An intruder who uploads their own CA (a
``CERTIFICATE_BUNDLE``) has credentials that survive every key rotation (MITRE ATT&CK T1098.001).

* ``CreateTrustAnchor`` / ``UpdateTrustAnchor`` whose source is not an AWS Private CA named in
  ``allow_certificate_authorities`` (ARN patterns; a pattern matching everything is refused) -> disable the
  trust anchor (``DisableTrustAnchor``; undo enables it again). Nothing is deleted.
* ``CreateProfile`` / ``UpdateProfile``: a profile says which roles certificates may become; a new or changed
  profile is a finding unless allowlisted (``allow_resources``) -> disable the profile (undo enables it).
* ``DeleteCrl`` / ``DisableCrl`` / ``UpdateCrl`` (revoked certificates work again) and attribute mappings changed:
  alerted with the way back, never undone.

Roles Anywhere is regional: its events arrive in the region of the trust anchor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from iamwarden.adapters.errors import error_code
from iamwarden.domain.catalog import OptionSpec, RuleSpec, Severity
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.wildcards import arn_match
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.remediation import AccountClients, Permissions, StepRun

ROLES_ANYWHERE_TRUST_ANCHOR = RuleSpec(
    id="roles-anywhere-trust-anchor",
    title="Roles Anywhere trust anchor or profile not known",
    event_source="rolesanywhere.amazonaws.com",
    event_names=frozenset(
        {
            "CreateTrustAnchor",
            "UpdateTrustAnchor",
            "CreateProfile",
            "UpdateProfile",
            "DeleteCrl",
            "DisableCrl",
            "UpdateCrl",
            "PutAttributeMapping",
            "DeleteAttributeMapping",
        }
    ),
    risk=(
        "A Roles Anywhere trust anchor turns every certificate of its authority into AWS credentials; one whose "
        "authority the organisation does not run is a way in that no access key rotation closes."
    ),
    options={
        "allow_certificate_authorities": OptionSpec(
            "patterns", (), "ARN patterns of the AWS Private CAs trust anchors may use"
        ),
    },
    alert_risk=(
        "Whoever holds a certificate from this trust anchor's authority can now get AWS credentials for the roles its "
        "profiles name, with no access key to rotate or revoke."
    ),
)

_GONE = "ResourceNotFoundException"


def _response_field(response: Any, outer: str, name: str) -> Any:
    inner = response.get(outer) if isinstance(response, Mapping) else None
    return inner.get(name) if isinstance(inner, Mapping) else None


def roles_anywhere_arn(context: RuleContext, kind: str, resource_id: str) -> str:
    """A trust anchor's or profile's ARN: as the answer names it, else built from the event's region and account
    (the key its remediations are recorded under, which ``remediation-reversed`` looks up)."""
    change = context.change
    outer = "trustAnchor" if kind == "trust-anchor" else "profile"
    answered = _response_field(change.response_elements, outer, f"{outer}Arn")
    if isinstance(answered, str) and answered:
        return answered
    return f"arn:{context.partition}:rolesanywhere:{change.region}:{change.account}:{kind}/{resource_id}"


class RolesAnywhereRule:
    """Trust anchors whose CA is not a known AWS Private CA, and new or changed profiles."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (ROLES_ANYWHERE_TRUST_ANCHOR,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        request = change.request_parameters
        if change.event_name in _REVOCATION_OR_MAPPING:
            return _revocation_or_mapping(context)
        anchor = change.event_name.endswith("TrustAnchor")
        outer, id_key = ("trustAnchor", "trustAnchorId") if anchor else ("profile", "profileId")
        resource_id = request.get(id_key) or _response_field(change.response_elements, outer, id_key)
        if not isinstance(resource_id, str) or not resource_id:
            resource_id = context.request_text(id_key)
        kind = "trust-anchor" if anchor else "profile"
        arn = roles_anywhere_arn(context, kind, resource_id)
        evaluation = Evaluation(resource_arn=arn)
        actor = change.actor.display
        if anchor:
            source = request.get("source")
            if change.event_name == "UpdateTrustAnchor" and source is None:
                evaluation.compliant.append(f"trust anchor {resource_id} keeps its certificate authority")
                return evaluation
            source = source if isinstance(source, Mapping) else {}
            source_type = str(source.get("sourceType") or "unknown")
            data = source.get("sourceData") if isinstance(source.get("sourceData"), Mapping) else {}
            ca = data.get("acmPcaArn") if isinstance(data, Mapping) else None
            patterns = context.rule(ROLES_ANYWHERE_TRUST_ANCHOR.id).patterns("allow_certificate_authorities")
            known = next((p for p in patterns if isinstance(ca, str) and arn_match(p, ca)), None)
            if source_type == "AWS_ACM_PCA" and known is not None:
                evaluation.compliant.append(f"trust anchor {resource_id} uses {ca}, which matches {known!r}")
                return evaluation
            what = f"AWS Private CA {ca}" if ca else f"a {source_type} certificate authority"
            reason = (
                f"{actor} made Roles Anywhere trust anchor {resource_id} trust {what}, which is not among the "
                "organisation's certificate authorities (allow_certificate_authorities)."
            )
            step = RemediationStep(
                DisableRolesAnywhere.action,
                arn,
                {"kind": "trust-anchor", "id": resource_id},
                f"disable Roles Anywhere trust anchor {resource_id} (kept; undo enables it)",
            )
            severity = Severity.CRITICAL
        else:
            roles = request.get("roleArns") or []
            reason = (
                f"{actor} {'created' if change.event_name == 'CreateProfile' else 'changed'} Roles Anywhere profile "
                f"{resource_id}, which lets certificates become {', '.join(map(str, roles)) or 'its roles'}."
            )
            step = RemediationStep(
                DisableRolesAnywhere.action,
                arn,
                {"kind": "profile", "id": resource_id},
                f"disable Roles Anywhere profile {resource_id} (kept; undo enables it)",
            )
            severity = Severity.HIGH
        evaluation.findings.append(
            context.finding(
                ROLES_ANYWHERE_TRUST_ANCHOR, severity=severity, resource_arn=arn, reason=reason, plan=[step]
            )
        )
        return evaluation


#: Calls that leave the trust anchor as it was but change which certificates work or what their sessions carry.
_REVOCATION_OR_MAPPING = frozenset(
    {"DeleteCrl", "DisableCrl", "UpdateCrl", "PutAttributeMapping", "DeleteAttributeMapping"}
)


def _revocation_or_mapping(context: RuleContext) -> Evaluation:
    """A certificate revocation list deleted or disabled (revoked certificates work again: high), or a profile's
    attribute mapping changed (the session tags trust conditions read: medium). Alerted with the way back (audit s6
    gap 14); ``ImportCrl``/``EnableCrl`` and the mapping calls are the operators' to choose."""
    change = context.change
    actor = change.actor.display
    if change.event_name in ("DeleteCrl", "DisableCrl"):
        crl = context.request_text("crlId")
        arn = f"arn:{context.partition}:rolesanywhere:{change.region}:{change.account}:crl/{crl}"
        deleted = change.event_name == "DeleteCrl"
        severity = Severity.HIGH
        reason = (
            f"{actor} {'deleted' if deleted else 'disabled'} the Roles Anywhere certificate revocation list {crl} in "
            f"{change.region}: the certificates it revoked get AWS credentials again. "
            + (
                "Import it again: aws rolesanywhere import-crl"
                if deleted
                else f"Enable it again: aws rolesanywhere enable-crl --crl-id {crl}"
            )
        )
    elif change.event_name == "UpdateCrl":
        # Review s10 finding 10: new content for a list is as good as deleting it when it revokes fewer
        # certificates, and which ones the old list revoked is not in the record (high, needs_context).
        crl = context.request_text("crlId")
        arn = f"arn:{context.partition}:rolesanywhere:{change.region}:{change.account}:crl/{crl}"
        renamed_only = "crlData" not in change.request_parameters and bool(change.request_parameters.get("name"))
        severity = Severity.MEDIUM if renamed_only else Severity.HIGH
        what = (
            "renamed the Roles Anywhere certificate revocation list"
            if renamed_only
            else "replaced the content of the Roles Anywhere certificate revocation list"
        )
        reason = (
            f"{actor} {what} {crl} in {change.region}: "
            + (
                "the record shows no new content, but if CloudTrail left it out, the certificates the old list "
                "revoked may get AWS credentials again"
                if renamed_only
                else "the certificates the old list revoked and the new one does not get AWS credentials again"
            )
            + f". If it was not meant, put the previous list back: aws rolesanywhere update-crl --crl-id {crl} "
            "--crl-data fileb://<the previous CRL>"
        )
        evaluation = Evaluation(resource_arn=arn)
        evaluation.findings.append(
            context.finding(
                ROLES_ANYWHERE_TRUST_ANCHOR,
                severity=severity,
                resource_arn=arn,
                reason=reason + ".",
                plan=(),
                needs_context=(f"which certificates revocation list {crl} revoked before the update",),
            )
        )
        return evaluation
    else:
        profile = context.request_text("profileId")
        arn = roles_anywhere_arn(context, "profile", profile)
        field = change.request_parameters.get("certificateField")
        severity = Severity.MEDIUM
        reason = (
            f"{actor} {'changed' if change.event_name == 'PutAttributeMapping' else 'deleted'} how Roles Anywhere "
            f"profile {profile} maps the certificate's {field or 'fields'} to session tags: trust policies that test "
            "those tags (aws:PrincipalTag) may now let other certificates in"
        )
    evaluation = Evaluation(resource_arn=arn)
    evaluation.findings.append(
        context.finding(ROLES_ANYWHERE_TRUST_ANCHOR, severity=severity, resource_arn=arn, reason=reason + ".", plan=())
    )
    return evaluation


class DisableRolesAnywhere:
    """Disable a trust anchor or profile (undo enables it again)."""

    permissions: ClassVar[Permissions] = (
        "rolesanywhere:GetTrustAnchor",
        "rolesanywhere:DisableTrustAnchor",
        "rolesanywhere:GetProfile",
        "rolesanywhere:DisableProfile",
    )
    action: ClassVar[StepAction] = StepAction("disable_roles_anywhere", permissions)
    undo_permissions: ClassVar[Permissions] = (
        "rolesanywhere:GetTrustAnchor",
        "rolesanywhere:EnableTrustAnchor",
        "rolesanywhere:GetProfile",
        "rolesanywhere:EnableProfile",
    )
    undoable: ClassVar[bool] = True

    @staticmethod
    def _enabled(aws: AccountClients, step: RemediationStep) -> bool | None:
        client = aws.client("rolesanywhere")
        identifier = step.parameters["id"]
        try:
            if step.parameters["kind"] == "trust-anchor":
                return bool(client.get_trust_anchor(trustAnchorId=identifier)["trustAnchor"].get("enabled"))
            return bool(client.get_profile(profileId=identifier)["profile"].get("enabled"))
        except Exception as exc:
            if error_code(exc) == _GONE:
                return None
            raise

    @staticmethod
    def _set(aws: AccountClients, step: RemediationStep, enabled: bool) -> None:
        client = aws.client("rolesanywhere")
        identifier = step.parameters["id"]
        if step.parameters["kind"] == "trust-anchor":
            (client.enable_trust_anchor if enabled else client.disable_trust_anchor)(trustAnchorId=identifier)
        else:
            (client.enable_profile if enabled else client.disable_profile)(profileId=identifier)

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return {"enabled": self._enabled(aws, step)}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["enabled"]:
            return  # disabled already, or gone
        self._set(run.aws, step, enabled=False)
        done.append(f"disabled Roles Anywhere {step.parameters['kind']} {step.parameters['id']}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not before["enabled"]:
            return []
        enabled = self._enabled(aws, step)
        if enabled is None:
            raise UndoError(f"Roles Anywhere {step.parameters['kind']} {step.parameters['id']} no longer exists")
        if enabled:
            return []
        self._set(aws, step, enabled=True)
        return [f"enabled Roles Anywhere {step.parameters['kind']} {step.parameters['id']} again"]


GUARDRAILS = (RolesAnywhereRule(),)
ACTIONS = (DisableRolesAnywhere(),)
