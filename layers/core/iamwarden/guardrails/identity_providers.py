"""``identity-provider-unknown``: an OIDC or SAML identity provider the organisation does not know.

An identity provider is a door: any role that trusts it can be assumed by whoever controls the provider.
An intruder who adds their own (an OIDC issuer they run, a SAML IdP whose signing key they hold) and a
role trusting it keeps access after every key and user they made is gone (MITRE ATT&CK T1484.002).

Known providers are named in settings: ``allow_oidc_urls`` (the provider URL without ``https://``:
``token.actions.githubusercontent.com``), ``allow_saml_certificates`` (the SHA-256 fingerprints of the IdP's signing
certificates: a SAML provider is known only when every signing certificate in its metadata is one of them) and
``allow_saml_issuers`` (the metadata's ``entityID``, required to match too when set). An ``entityID`` alone proves
nothing, since whoever uploads metadata writes any ``entityID`` into it beside their own key: without certificates
named, the issuer decides as it always did, and the verdict says it is weak. A pattern that matches everything is
refused. The metadata is read by ``domain.saml`` (strict patterns, no XML parser); when the event does not carry it,
the provider's is read live (``iam:GetSAMLProvider``). Anything else is a finding:

* ``CreateOpenIDConnectProvider`` / ``CreateSAMLProvider`` of an unknown provider: delete exactly the new
  provider (undo creates it again from the captured URL, client ids and thumbprints, or metadata);
* ``AddClientIDToOpenIDConnectProvider`` on an unknown provider: remove exactly that client id, when IAM
  Warden's snapshot shows the provider did not have it (adding an id it had changes nothing: compliant);
* ``UpdateOpenIDConnectProviderThumbprint`` / ``UpdateSAMLProvider`` of an unknown provider: put back the
  thumbprints or the metadata document the snapshot holds (undo puts the event's back).

An update's event says what a provider became, never what it was: the previous client ids, thumbprints and
metadata come from IAM Warden's own snapshot of each provider (``domain.recorded.IDENTITY_PROVIDER``, taken by the
deploy and refreshed by the heartbeat). Without one (offline, a provider created since the last snapshot), or with
one taken after the change that already shows it, the finding says what is unknown (``needs_context``) and is only
alerted. A restore writes only while the provider still holds what the event set: a later change is kept.
"""

import re
from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple

from iamwarden.adapters.errors import error_code, ignoring, is_gone, is_transient
from iamwarden.domain.catalog import OptionSpec, RuleSpec, Severity
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.recorded import IDENTITY_PROVIDER, Snapshot
from iamwarden.domain.saml import fingerprint_text, saml_issuer, signing_keys
from iamwarden.domain.settings import RuleSettings
from iamwarden.domain.wildcards import wildcard_match
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.remediation import AccountClients, Permissions, StepRun

IDENTITY_PROVIDER_UNKNOWN = RuleSpec(
    id="identity-provider-unknown",
    title="Unknown identity provider added or changed",
    event_source="iam.amazonaws.com",
    event_names=frozenset(
        {
            "CreateOpenIDConnectProvider",
            "UpdateOpenIDConnectProviderThumbprint",
            "AddClientIDToOpenIDConnectProvider",
            "CreateSAMLProvider",
            "UpdateSAMLProvider",
        }
    ),
    risk=(
        "An identity provider lets whoever controls it into every role that trusts it; one the organisation does "
        "not know is a door someone else holds the key to."
    ),
    options={
        "allow_oidc_urls": OptionSpec(
            "patterns", (), "OIDC provider URLs without https:// (token.actions.githubusercontent.com) that are known"
        ),
        "allow_saml_issuers": OptionSpec(
            "patterns",
            (),
            "SAML metadata issuers (the EntityDescriptor entityID) that are known; alone, weak: anyone can copy an "
            "entityID into metadata signed with their own key",
        ),
        "allow_saml_certificates": OptionSpec(
            "fingerprints",
            (),
            "SHA-256 fingerprints of the known SAML IdPs' signing certificates (hex, colons optional): set, a SAML "
            "provider is known only when every signing certificate in its metadata is one of them",
        ),
    },
    alert_risk=(
        "An identity provider lets whoever runs it sign people into every role that trusts it; this one is not on "
        "the organisation's list, so someone outside may now hold a way in."
    ),
)


def oidc_url(value: str) -> str:
    """A provider URL as IAM names it in the ARN: no scheme, no trailing slash."""
    return re.sub(r"^https://", "", value.strip()).rstrip("/")


def _known(patterns: tuple[str, ...], value: str) -> str | None:
    return next((pattern for pattern in patterns if wildcard_match(pattern, value)), None)


class IdentityProviderRule:
    """OIDC and SAML providers created or changed that are not on the allowlists."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (IDENTITY_PROVIDER_UNKNOWN,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        if "SAML" in context.change.event_name:
            return self._saml(context)
        return self._oidc(context)

    def _oidc(self, context: RuleContext) -> Evaluation:
        change = context.change
        request = change.request_parameters
        settings = context.rule(IDENTITY_PROVIDER_UNKNOWN.id)
        if change.event_name == "CreateOpenIDConnectProvider":
            url = oidc_url(context.request_text("url"))
            arn = _response_arn(change.response_elements, "openIDConnectProviderArn") or (
                f"arn:{context.partition}:iam::{change.account}:oidc-provider/{url}"
            )
        else:
            arn = context.request_text("openIDConnectProviderArn")
            url = arn.split(":oidc-provider/", 1)[-1]
        evaluation = Evaluation(resource_arn=arn)
        pattern = _known(settings.patterns("allow_oidc_urls"), url)
        if pattern is not None:
            evaluation.compliant.append(f"OIDC provider {url} matches {pattern!r} in allow_oidc_urls")
            return evaluation
        actor = change.actor.display
        plan: list[RemediationStep] = []
        needs: tuple[str, ...] = ()
        if change.event_name == "CreateOpenIDConnectProvider":
            did = f"{actor} added the OIDC identity provider {url}, which is not among the known providers"
            plan = [
                RemediationStep(
                    DeleteOidcProvider.action,
                    arn,
                    {"provider_arn": arn},
                    f"delete OIDC provider {url} (undo: re-create)",
                )
            ]
        elif change.event_name == "AddClientIDToOpenIDConnectProvider":
            client = context.request_text("clientID")
            known = _before(context, arn, "oidc")
            if known.snapshot is not None and client in known.snapshot.data.get("client_ids", ()):
                evaluation.compliant.append(f"OIDC provider {url} already allowed client id {client} {known.when}")
                return evaluation
            did = f"{actor} let client id {client} use the unknown OIDC provider {url}"
            plan = [
                RemediationStep(
                    RemoveOidcClientId.action,
                    arn,
                    {"provider_arn": arn, "client_id": client},
                    f"remove client id {client} from OIDC provider {url}",
                )
            ]
            if known.snapshot is None:
                needs = (f"whether OIDC provider {url} allowed client id {client} before ({known.unknown_why})",)
        else:
            thumbprints = request.get("thumbprintList")
            new = [str(t) for t in thumbprints] if isinstance(thumbprints, list) else None
            listed = ", ".join(new) if new is not None else "?"
            known = _before(context, arn, "oidc")
            if known.snapshot is not None and new is not None and _same(known.snapshot.data.get("thumbprints"), new):
                evaluation.compliant.append(f"the thumbprints of OIDC provider {url} are those it had {known.when}")
                return evaluation
            did = f"{actor} changed the certificate thumbprints of the unknown OIDC provider {url} to {listed}"
            left = _left_in_place(context, arn) if known.snapshot is not None else None
            if known.snapshot is None:
                needs = (f"the thumbprints OIDC provider {url} had before ({known.unknown_why})",)
            elif left is not None:
                needs = (
                    f"thumbprints of OIDC provider {url} known good: an earlier change to it was found and not put "
                    f"back ({left}), so IAM Warden's snapshot of {known.snapshot.taken_at} may hold that change",
                )
            else:
                previous = [str(t) for t in known.snapshot.data.get("thumbprints", ())]
                plan = [
                    RemediationStep(
                        RestoreOidcThumbprints.action,
                        arn,
                        {"provider_arn": arn, "thumbprints": previous, "replaces": new},
                        f"put back the thumbprints of OIDC provider {url} ({', '.join(previous) or 'none'}, "
                        f"{known.when})",
                    )
                ]
        evaluation.findings.append(
            context.finding(
                IDENTITY_PROVIDER_UNKNOWN,
                severity=Severity.HIGH,
                resource_arn=arn,
                reason=f"{did}. Add it to allow_oidc_urls if it is the organisation's.",
                plan=plan,
                offending=[{"url": url}],
                needs_context=needs,
            )
        )
        return evaluation

    def _saml(self, context: RuleContext) -> Evaluation:
        change = context.change
        settings = context.rule(IDENTITY_PROVIDER_UNKNOWN.id)
        if change.event_name == "CreateSAMLProvider":
            name = context.request_text("name")
            arn = _response_arn(change.response_elements, "sAMLProviderArn") or (
                f"arn:{context.partition}:iam::{change.account}:saml-provider/{name}"
            )
        else:
            arn = context.request_text("sAMLProviderArn")
            name = arn.rsplit("/", 1)[-1]
        evaluation = Evaluation(resource_arn=arn)
        sent = change.request_parameters.get("sAMLMetadataDocument")
        document = _saml_document(context, arn, name, sent if isinstance(sent, str) and sent else None)
        if document.gone:
            evaluation.compliant.append(f"SAML provider {name} no longer exists (read live): nothing trusts it now")
            return evaluation
        metadata = document.metadata
        verdict = judge_saml_metadata(metadata, settings) if metadata is not None else None
        if verdict is not None and verdict.known:
            evaluation.compliant.append(f"the metadata of SAML provider {name}{document.source} {verdict.said}")
            return evaluation
        actor = change.actor.display
        needs: list[str] = list(verdict.unknown) if verdict is not None else [document.unknown_why]
        said = verdict.said if verdict is not None else "IAM Warden could not read"
        plan: list[RemediationStep] = []
        if change.event_name == "CreateSAMLProvider":
            did = f"{actor} added SAML identity provider {name}, whose metadata{document.source} {said}"
            plan = [
                RemediationStep(
                    DeleteSamlProvider.action,
                    arn,
                    {"provider_arn": arn},
                    f"delete SAML provider {name} (undo: re-create)",
                )
            ]
        else:
            new = sent if isinstance(sent, str) and sent else None
            known = _before(context, arn, "saml")
            if (
                known.snapshot is not None
                and metadata is not None
                and _same_metadata(known.snapshot.data.get("metadata"), metadata)
            ):
                evaluation.compliant.append(f"SAML provider {name} has the metadata it had {known.when}")
                return evaluation
            did = f"{actor} pointed SAML identity provider {name} at metadata that{document.source} {said}"
            if new is None and metadata is not None:
                needs.append(
                    f"whether this change set the metadata SAML provider {name} holds now (the event does not carry "
                    "it; it was read live)"
                )
            previous = str(known.snapshot.data.get("metadata", "")) if known.snapshot is not None else ""
            before = judge_saml_metadata(previous, settings) if previous else None
            if known.snapshot is None:
                needs.append(f"the metadata SAML provider {name} had before ({known.unknown_why})")
            elif before is None or not before.known:
                # Only known metadata is a known good state: the snapshot may hold an earlier intruder's IdP.
                needs.append(
                    f"metadata of SAML provider {name} known good: IAM Warden's snapshot of {known.snapshot.taken_at} "
                    f"{before.said if before is not None else 'holds no metadata'}"
                )
            else:
                plan = [
                    RemediationStep(
                        RestoreSamlMetadata.action,
                        arn,
                        {"provider_arn": arn, "metadata": previous, "replaces": metadata},
                        f"put back the metadata of SAML provider {name} (issuer {saml_issuer(previous) or '?'}, "
                        f"{known.when})",
                    )
                ]
        evaluation.findings.append(
            context.finding(
                IDENTITY_PROVIDER_UNKNOWN,
                severity=Severity.HIGH,
                resource_arn=arn,
                reason=f"{did}. {_saml_advice(settings)}",
                plan=plan,
                offending=[
                    {
                        "issuer": verdict.issuer if verdict is not None else None,
                        "signing_certificates": [fingerprint_text(f) for f in verdict.fingerprints]
                        if verdict is not None
                        else [],
                    }
                ],
                needs_context=tuple(needs),
            )
        )
        return evaluation


class _SamlDocument(NamedTuple):
    """The metadata a SAML provider trusts: the event's, or read live when the event does not carry it."""

    metadata: str | None
    #: How the metadata was had, in the words that follow "metadata" ("" from the event, " (read live)").
    source: str = ""
    #: Why there is none (the finding's ``needs_context``).
    unknown_why: str = ""
    #: The provider was read live and no longer exists.
    gone: bool = False


def _saml_document(context: RuleContext, arn: str, name: str, sent: str | None) -> _SamlDocument:
    """The event's metadata document; without it (CloudTrail leaves out a field it finds too large, and an
    ``UpdateSAMLProvider`` may change only the assertion encryption and private keys), the provider's as IAM holds
    it now (``iam:GetSAMLProvider``, which ``delete_saml_provider`` declares); offline, or unreadable, unknown."""
    if sent is not None:
        return _SamlDocument(sent)
    what = f"which issuer and signing certificates SAML provider {name} trusts (no metadata in the event"
    if context.live_clients is None:
        return _SamlDocument(None, unknown_why=f"{what}, and offline it cannot be read)")
    try:
        live = DeleteSamlProvider._metadata(context.live_clients(context.change.account, context.change.region), arn)
    except Exception as exc:
        if is_transient(exc):
            raise  # throttled or unanswered: the enforcer judges the event again
        return _SamlDocument(None, unknown_why=f"{what}, and reading it failed: {error_code(exc) or exc})")
    if live is None:
        return _SamlDocument(None, gone=True)
    return _SamlDocument(live, " (read live)")


class SamlVerdict(NamedTuple):
    """Whether SAML metadata is a known provider's, and in words why (or why not)."""

    known: bool
    #: What the metadata names and signs with, against the settings, as the rest of a sentence ("names issuer …").
    said: str
    #: The facts that could not be read, when no known fact already says it is not known (``needs_context``).
    unknown: tuple[str, ...]
    issuer: str | None
    #: The SHA-256 fingerprints of its signing certificates (lower-case hex).
    fingerprints: tuple[str, ...]


def judge_saml_metadata(metadata: str, settings: RuleSettings) -> SamlVerdict:
    """Known when every signing certificate is in ``allow_saml_certificates`` and, when ``allow_saml_issuers`` is
    set, the issuer matches it; with no certificates named, by the issuer alone, which the text calls weak (anyone
    can copy an ``entityID`` into metadata signed with their own key). Unreadable keys are unknown, never known."""
    issuers = settings.patterns("allow_saml_issuers")
    certificates = settings.patterns("allow_saml_certificates")
    issuer = saml_issuer(metadata)
    keys = signing_keys(metadata)
    not_known: list[str] = []
    unknown: list[str] = []
    if issuer is None:
        issuer_said = "names no issuer IAM Warden can read (no EntityDescriptor entityID)"
        if issuers:
            unknown.append("which issuer the metadata names (no EntityDescriptor entityID in it)")
    elif not issuers:
        issuer_said = f"names issuer {issuer}"
    elif (pattern := _known(issuers, issuer)) is not None:
        issuer_said = f"names issuer {issuer}, which is known ({pattern!r} in allow_saml_issuers)"
    else:
        issuer_said = f"names issuer {issuer}, which is not in allow_saml_issuers"
        not_known.append(issuer_said)
    parts = [issuer_said]
    if certificates:
        strangers = [f for f in keys.fingerprints if f not in certificates]
        if strangers:
            listed = ", ".join(map(fingerprint_text, strangers))
            one = len(strangers) == 1
            but = "but " if issuer is not None and not not_known and issuers else ""
            parts.append(
                f"{but}signs with certificate{'' if one else 's'} {listed}, which {'is' if one else 'are'} not in "
                "allow_saml_certificates"
            )
            not_known.append(parts[-1])
        elif keys.fingerprints:
            one = len(keys.fingerprints) == 1
            parts.append(
                f"signs only with certificate{'' if one else 's'} {', '.join(map(fingerprint_text, keys.fingerprints))}"
                f", which {'is' if one else 'are'} in allow_saml_certificates"
            )
        if keys.unreadable:
            parts.append(f"holds signing keys IAM Warden cannot read ({'; '.join(keys.unreadable)})")
            unknown.append(f"the signing certificates of the metadata ({'; '.join(keys.unreadable)})")
        elif not keys.fingerprints:
            parts.append("names no signing certificate")
            unknown.append("which certificate the metadata signs with (it names no signing certificate)")
    if not issuers and not certificates:
        not_known.append("neither allow_saml_issuers nor allow_saml_certificates names a known SAML provider")
        parts.append("and neither allow_saml_issuers nor allow_saml_certificates names a known provider")
    said = ", ".join(parts)
    if issuers and not certificates and not not_known and not unknown:
        said += (
            "; known by its entityID alone, which proves nothing: anyone can write that entityID into metadata "
            "signed with their own key. Name the IdP's signing certificates (SHA-256 fingerprints) in "
            "allow_saml_certificates"
        )
    known = not not_known and not unknown
    return SamlVerdict(known, said, () if not_known else tuple(unknown), issuer, keys.fingerprints)


def _saml_advice(settings: RuleSettings) -> str:
    if settings.patterns("allow_saml_certificates"):
        return (
            "If it is the organisation's, add its signing certificates' SHA-256 fingerprints to "
            "allow_saml_certificates (and its issuer to allow_saml_issuers, when that is set)."
        )
    return (
        "If it is the organisation's, name its signing certificates' SHA-256 fingerprints in allow_saml_certificates "
        "(the entityID in allow_saml_issuers alone proves nothing: anyone can copy it into metadata of their own)."
    )


class _Before(NamedTuple):
    """A provider's snapshot, when it says what the provider was before the change; else why not."""

    snapshot: Snapshot | None
    unknown_why: str = ""

    @property
    def when(self) -> str:
        return f"when last seen by IAM Warden, {self.snapshot.taken_at}" if self.snapshot is not None else ""


def _before(context: RuleContext, arn: str, kind: str) -> _Before:
    """IAM Warden's snapshot of provider ``arn`` as it was before the event: only one taken strictly before it.

    A snapshot taken after the event may hold the change itself (the heartbeat reads what is live, whenever it is
    invoked: audit s7 gap 7), or a later one, so it says nothing of what was there before.
    """
    if context.recorded is None:
        return _Before(None, "not in the event, and offline there is no snapshot")
    snapshot = context.recorded.snapshot(IDENTITY_PROVIDER, arn)
    if snapshot is None or snapshot.data.get("type") != kind:
        return _Before(None, "not in the event, and IAM Warden has no snapshot of the provider")
    if not snapshot.taken_before(context.change.time):
        return _Before(None, f"the last snapshot, {snapshot.taken_at}, was taken after the change")
    return _Before(snapshot)


def _left_in_place(context: RuleContext, arn: str) -> str | None:
    """An earlier change to provider ``arn`` that this rule found and did not put back (alerted, or failed), or
    None. The snapshot may hold what it set, so the snapshot is no known good state (audit s7 gap 7)."""
    if context.recorded is None:
        return None
    for past in reversed(context.recorded.remediations(arn)):
        if past.rule == IDENTITY_PROVIDER_UNKNOWN.id and past.status in ("alerted", "failed"):
            return f"{past.remediation_id} of {past.created_at}, {past.status}"
    return None


def _same(one: Any, other: Any) -> bool:
    """Two thumbprint lists alike (hex, any case, any order)."""
    if not isinstance(one, list | tuple) or not isinstance(other, list | tuple):
        return False
    return sorted(str(t).lower() for t in one) == sorted(str(t).lower() for t in other)


def _same_metadata(one: Any, other: Any) -> bool:
    """Two SAML metadata documents alike but for whitespace (IAM may store a document reformatted)."""
    return isinstance(one, str) and isinstance(other, str) and _squeezed(one) == _squeezed(other)


def _squeezed(metadata: str) -> list[str]:
    return re.sub(r">\s+<", "><", metadata).split()


def _response_arn(response: Any, key: str) -> str | None:
    value = response.get(key) if isinstance(response, Mapping) else None
    return value if isinstance(value, str) and value else None


class DeleteOidcProvider:
    """Delete an OIDC provider; undo creates it again with the same URL, client ids, thumbprints and tags."""

    permissions: ClassVar[Permissions] = ("iam:GetOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider")
    action: ClassVar[StepAction] = StepAction("delete_oidc_provider", permissions)
    undo_permissions: ClassVar[Permissions] = ("iam:GetOpenIDConnectProvider", "iam:CreateOpenIDConnectProvider")
    undoable: ClassVar[bool] = True

    @staticmethod
    def _read(aws: AccountClients, arn: str) -> dict[str, Any] | None:
        try:
            provider = aws.iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        except Exception as exc:
            if is_gone(exc):
                return None
            raise
        return {
            "url": provider["Url"],
            "client_ids": list(provider.get("ClientIDList", [])),
            "thumbprints": list(provider.get("ThumbprintList", [])),
            "tags": list(provider.get("Tags", [])),
        }

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return {"provider": self._read(aws, step.parameters["provider_arn"])}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if before["provider"] is None:
            return
        arn = step.parameters["provider_arn"]
        with ignoring():
            run.aws.iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
            done.append(f"deleted OIDC provider {before['provider']['url']}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        provider = before["provider"]
        if provider is None or self._read(aws, step.parameters["provider_arn"]) is not None:
            return []
        extra: dict[str, Any] = {"Tags": provider["tags"]} if provider["tags"] else {}
        aws.iam.create_open_id_connect_provider(
            Url=f"https://{oidc_url(provider['url'])}",
            ClientIDList=provider["client_ids"],
            ThumbprintList=provider["thumbprints"],
            **extra,
        )
        return [f"created OIDC provider {provider['url']} again"]


class RemoveOidcClientId:
    """Remove one client id (audience) from an OIDC provider; undo adds it back."""

    permissions: ClassVar[Permissions] = (
        "iam:GetOpenIDConnectProvider",
        "iam:RemoveClientIDFromOpenIDConnectProvider",
    )
    action: ClassVar[StepAction] = StepAction("remove_oidc_client_id", permissions)
    undo_permissions: ClassVar[Permissions] = ("iam:GetOpenIDConnectProvider", "iam:AddClientIDToOpenIDConnectProvider")
    undoable: ClassVar[bool] = True

    @staticmethod
    def _clients(aws: AccountClients, arn: str) -> list[str] | None:
        try:
            return list(aws.iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn).get("ClientIDList", []))
        except Exception as exc:
            if is_gone(exc):
                return None
            raise

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        clients = self._clients(aws, step.parameters["provider_arn"])
        return {"present": clients is not None and step.parameters["client_id"] in clients}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["present"]:
            return
        arn, client = step.parameters["provider_arn"], step.parameters["client_id"]
        with ignoring():
            run.aws.iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID=client)
            done.append(f"removed client id {client} from OIDC provider {arn}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not before["present"]:
            return []
        arn, client = step.parameters["provider_arn"], step.parameters["client_id"]
        clients = self._clients(aws, arn)
        if clients is None:
            raise UndoError(f"OIDC provider {arn} no longer exists")
        if client in clients:
            return []
        aws.iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID=client)
        return [f"added client id {client} to OIDC provider {arn} again"]


class DeleteSamlProvider:
    """Delete a SAML provider; undo creates it again under its name with the captured metadata."""

    permissions: ClassVar[Permissions] = ("iam:GetSAMLProvider", "iam:DeleteSAMLProvider")
    action: ClassVar[StepAction] = StepAction("delete_saml_provider", permissions)
    undo_permissions: ClassVar[Permissions] = ("iam:GetSAMLProvider", "iam:CreateSAMLProvider")
    undoable: ClassVar[bool] = True

    @staticmethod
    def _metadata(aws: AccountClients, arn: str) -> str | None:
        try:
            return str(aws.iam.get_saml_provider(SAMLProviderArn=arn)["SAMLMetadataDocument"])
        except Exception as exc:
            if is_gone(exc):
                return None
            raise

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return {"metadata": self._metadata(aws, step.parameters["provider_arn"])}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if before["metadata"] is None:
            return
        arn = step.parameters["provider_arn"]
        with ignoring():
            run.aws.iam.delete_saml_provider(SAMLProviderArn=arn)
            done.append(f"deleted SAML provider {arn.rsplit('/', 1)[-1]}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        arn = step.parameters["provider_arn"]
        if before["metadata"] is None or self._metadata(aws, arn) is not None:
            return []
        name = arn.rsplit("/", 1)[-1]
        aws.iam.create_saml_provider(Name=name, SAMLMetadataDocument=before["metadata"])
        return [f"created SAML provider {name} again"]


class RestoreOidcThumbprints:
    """Put an OIDC provider's snapshotted thumbprints back, while it holds the ones the event set; undo puts those
    back, while it holds the snapshot's."""

    permissions: ClassVar[Permissions] = (
        "iam:GetOpenIDConnectProvider",
        "iam:UpdateOpenIDConnectProviderThumbprint",
    )
    action: ClassVar[StepAction] = StepAction("restore_oidc_thumbprints", permissions)
    undo_permissions: ClassVar[Permissions] = permissions
    undoable: ClassVar[bool] = True

    @staticmethod
    def _thumbprints(aws: AccountClients, arn: str) -> list[str] | None:
        try:
            provider = aws.iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        except Exception as exc:
            if is_gone(exc):
                return None
            raise
        return [str(t) for t in provider.get("ThumbprintList", [])]

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return {"thumbprints": self._thumbprints(aws, step.parameters["provider_arn"])}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        now, wanted = before["thumbprints"], step.parameters["thumbprints"]
        replaces = step.parameters.get("replaces")
        if now is None or _same(now, wanted) or (replaces is not None and not _same(now, replaces)):
            return  # gone, put back already, or changed again since the event (someone else's, kept)
        arn = step.parameters["provider_arn"]
        run.aws.iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=wanted)
        done.append(f"put back thumbprints {', '.join(wanted) or 'none'} on OIDC provider {arn}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        previous, restored = before["thumbprints"], step.parameters["thumbprints"]
        if previous is None or _same(previous, restored):
            return []
        arn = step.parameters["provider_arn"]
        now = self._thumbprints(aws, arn)
        if now is None:
            raise UndoError(f"OIDC provider {arn} no longer exists")
        if _same(now, previous):
            return []
        if not _same(now, restored):
            raise UndoError(
                f"the thumbprints of OIDC provider {arn} changed since; set them by hand from the audit record"
            )
        aws.iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=previous)
        return [f"set thumbprints {', '.join(previous)} on OIDC provider {arn} again, as before"]


class RestoreSamlMetadata:
    """Put a SAML provider's snapshotted metadata document back, while it holds the one the event set; undo puts
    that back, while it holds the snapshot's."""

    permissions: ClassVar[Permissions] = ("iam:GetSAMLProvider", "iam:UpdateSAMLProvider")
    action: ClassVar[StepAction] = StepAction("restore_saml_metadata", permissions)
    undo_permissions: ClassVar[Permissions] = permissions
    undoable: ClassVar[bool] = True

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return {"metadata": DeleteSamlProvider._metadata(aws, step.parameters["provider_arn"])}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        now, wanted = before["metadata"], step.parameters["metadata"]
        replaces = step.parameters.get("replaces")
        if now is None or _same_metadata(now, wanted) or (replaces is not None and not _same_metadata(now, replaces)):
            return  # gone, put back already, or changed again since the event (someone else's, kept)
        arn = step.parameters["provider_arn"]
        run.aws.iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument=wanted)
        done.append(f"put back the metadata of SAML provider {arn.rsplit('/', 1)[-1]} (issuer {saml_issuer(wanted)})")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        previous, restored = before["metadata"], step.parameters["metadata"]
        if previous is None or _same_metadata(previous, restored):
            return []
        arn = step.parameters["provider_arn"]
        name = arn.rsplit("/", 1)[-1]
        now = DeleteSamlProvider._metadata(aws, arn)
        if now is None:
            raise UndoError(f"SAML provider {name} no longer exists")
        if _same_metadata(now, previous):
            return []
        if not _same_metadata(now, restored):
            raise UndoError(f"the metadata of SAML provider {name} changed since; set it by hand from the audit record")
        aws.iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument=previous)
        return [f"set the metadata of SAML provider {name} again, as before (issuer {saml_issuer(previous)})"]


GUARDRAILS = (IdentityProviderRule(),)
ACTIONS = (
    DeleteOidcProvider(),
    RemoveOidcClientId(),
    DeleteSamlProvider(),
    RestoreOidcThumbprints(),
    RestoreSamlMetadata(),
)
