"""Reading SAML metadata without an XML parser: the signing certificates' fingerprints, and what cannot be read.

Fingerprints are checked against ``cryptography``'s (``tests.saml_samples.fingerprint``), an implementation apart
from the one under test. Whatever the patterns cannot read with certainty must come back as unreadable, never as a
smaller set of keys: the adversarial documents below each try to hide the intruder's key.
"""

from __future__ import annotations

import pytest

from iamwarden.domain.exceptions import SettingsError
from iamwarden.domain.saml import (
    SigningKeys,
    certificate_fingerprint,
    fingerprint_text,
    saml_issuer,
    signing_keys,
)
from iamwarden.domain.settings import load_settings
from tests.saml_samples import (
    ENCRYPTION,
    FOREIGN,
    OKTA,
    OKTA_ISSUER,
    OKTA_NEXT,
    entra,
    fingerprint,
    okta,
    shibboleth,
    wrapped,
)


def test_okta_metadata_names_its_signing_certificate() -> None:
    assert signing_keys(okta()) == SigningKeys((fingerprint(OKTA),), ())
    assert saml_issuer(okta()) == OKTA_ISSUER


def test_every_certificate_is_read_in_order_encryption_ones_too() -> None:
    """Whether IAM verifies only against keys marked for signing is not documented: an intruder's key under
    ``use="encryption"`` must count, or it would pass unseen."""
    metadata = okta(signing=(OKTA, OKTA_NEXT), encryption=(ENCRYPTION,))

    assert set(signing_keys(metadata).fingerprints) == {
        fingerprint(OKTA),
        fingerprint(OKTA_NEXT),
        fingerprint(ENCRYPTION),
    }
    assert signing_keys(metadata).unreadable == ()


def test_metadata_with_only_an_encryption_certificate_names_that_certificate() -> None:
    assert signing_keys(okta(signing=(), encryption=(ENCRYPTION,))) == SigningKeys((fingerprint(ENCRYPTION),), ())


def test_a_key_descriptor_without_use_signs_and_whitespace_inside_the_base64_is_ignored() -> None:
    """Shibboleth's shape: default namespace, a comment, a KeyDescriptor with no ``use``, certificates in lines."""
    assert signing_keys(shibboleth(both=FOREIGN)) == SigningKeys((fingerprint(FOREIGN), fingerprint(ENCRYPTION)), ())


def test_the_metadata_signature_certificate_is_not_a_signing_key_and_a_repeated_one_counts_once() -> None:
    """Entra ID: the enveloped Signature's KeyInfo is outside every KeyDescriptor; RoleDescriptor and IDPSSODescriptor
    name the same signing certificate."""
    assert signing_keys(entra(signing=OKTA, metadata_signer=FOREIGN)) == SigningKeys((fingerprint(OKTA),), ())
    assert saml_issuer(entra()) == "https://sts.windows.net/268da1a1-9db4-48b9-b1fe-683250ba90cc/"


@pytest.mark.parametrize(
    "written",
    [
        wrapped(OKTA, 76),
        wrapped(OKTA, 64).replace("\n", "&#13;\n"),  # exported on Windows
        "\t" + OKTA + "\r\n",
    ],
    ids=["lines", "carriage-return-references", "tabs"],
)
def test_whitespace_however_written_does_not_change_the_fingerprint(written: str) -> None:
    assert certificate_fingerprint(written) == fingerprint(OKTA)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        OKTA[:-3],  # cut short: not a whole number of base64 quanta
        OKTA.replace("M", "!", 1),
        OKTA[:40] + "&#65;" + OKTA[40:],  # a character reference a parser would read as a letter
        "aGVsbG8gd29ybGQ=",  # base64 of "hello world": not a DER certificate
        "MA==",  # one byte
    ],
    ids=["empty", "blank", "truncated", "bad-character", "character-reference", "not-der", "too-short"],
)
def test_what_is_not_base64_of_a_der_certificate_has_no_fingerprint(text: str) -> None:
    assert certificate_fingerprint(text) is None


def _with_key(descriptor: str) -> str:
    """Okta metadata with one more KeyDescriptor (as written) after the organisation's signing key."""
    return okta().replace("</md:KeyDescriptor>", "</md:KeyDescriptor>" + descriptor, 1)


_FOREIGN_KEY = (
    '<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data>'
    f"<ds:X509Certificate>{FOREIGN}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
)


@pytest.mark.parametrize(
    ("metadata", "unreadable"),
    [
        (
            _with_key(
                '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
                "bm90IGEgY2VydA=!=</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
            ),
            "KeyDescriptor 2: a certificate that is not base64 of a DER certificate",
        ),
        (
            _with_key(
                '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:KeyValue><ds:RSAKeyValue><ds:Modulus>AQAB'
                "</ds:Modulus></ds:RSAKeyValue></ds:KeyValue></ds:KeyInfo></md:KeyDescriptor>"
            ),
            "KeyDescriptor 2: a KeyValue key, which is not a certificate",
        ),
        (_with_key('<md:KeyDescriptor use="signing"/>'), "KeyDescriptor 2: no certificate"),
        (_with_key('<md:KeyDescriptor use="signing">' + _FOREIGN_KEY), "KeyDescriptor 2: it is never closed"),
        (
            _with_key('<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>' + FOREIGN),
            "KeyDescriptor 2: it is never closed",
        ),
        (
            _with_key('<md:KeyDescriptor use="signing" broken>' + _FOREIGN_KEY + "</md:KeyDescriptor>"),
            "KeyDescriptor 2: its start tag",
        ),
        (
            _with_key(
                '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
                + FOREIGN
                + "</ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
            ),
            "KeyDescriptor 2: an X509Certificate element that is not closed",
        ),
    ],
    ids=[
        "bad-base64",
        "bare-key",
        "empty-descriptor",
        "unclosed-descriptor",
        "unclosed-certificate",
        "bad-tag",
        "certificate-element-unclosed",
    ],
)
def test_a_signing_key_that_cannot_be_read_is_named_never_skipped(metadata: str, unreadable: str) -> None:
    keys = signing_keys(metadata)

    assert keys.fingerprints == (fingerprint(OKTA),)
    assert keys.unreadable == (unreadable,)


@pytest.mark.parametrize(
    "metadata",
    [
        # A parser reads the CDATA section as text, so the "encryption" KeyDescriptor in it is no element, and the
        # intruder's key after it is a signing key; a pattern that read the CDATA as markup would skip it.
        okta().replace(
            "<md:KeyDescriptor",
            '<md:Extensions><![CDATA[<md:KeyDescriptor use="encryption">]]></md:Extensions>'
            '<md:KeyDescriptor use="signing">' + _FOREIGN_KEY + "</md:KeyDescriptor><md:KeyDescriptor",
            1,
        ),
        # Entities a DOCTYPE declares expand where no pattern looks.
        okta().replace("<md:EntityDescriptor", '<!DOCTYPE md [<!ENTITY key "' + FOREIGN + '">]><md:EntityDescriptor'),
        # A comment never closed hides the rest from a parser (which rejects it) but not from a pattern.
        okta().replace("<md:NameIDFormat>", "<!-- <md:NameIDFormat>", 1),
    ],
    ids=["cdata", "doctype", "unclosed-comment"],
)
def test_markup_the_patterns_cannot_follow_makes_the_keys_unreadable(metadata: str) -> None:
    keys = signing_keys(metadata)

    assert keys.unreadable
    assert keys.fingerprints == ()


def test_a_use_written_inside_another_attribute_is_not_the_key_descriptors_use() -> None:
    """The quotes decide where an attribute ends: ``use="encryption"`` inside ``note``'s value (and a ``>`` there)
    leaves the KeyDescriptor without a ``use``: it signs."""
    metadata = _with_key("<md:KeyDescriptor note='> use=\"encryption\"'>" + _FOREIGN_KEY + "</md:KeyDescriptor>")

    assert signing_keys(metadata) == SigningKeys((fingerprint(OKTA), fingerprint(FOREIGN)), ())


def test_a_prefixed_use_attribute_is_another_attribute() -> None:
    """SAML's ``use`` is unqualified; ``md:use="encryption"`` is some other attribute, and the key signs."""
    metadata = _with_key('<md:KeyDescriptor md:use="encryption">' + _FOREIGN_KEY + "</md:KeyDescriptor>")

    assert signing_keys(metadata).fingerprints == (fingerprint(OKTA), fingerprint(FOREIGN))


def test_a_commented_out_close_tag_does_not_end_the_key_descriptor() -> None:
    """A parser ignores comments: the intruder's certificate after a commented ``</md:KeyDescriptor>`` is in the
    same signing KeyDescriptor."""
    metadata = _with_key(
        '<md:KeyDescriptor use="signing"><!-- </md:KeyDescriptor> -->' + _FOREIGN_KEY + "</md:KeyDescriptor>"
    )

    assert signing_keys(metadata).fingerprints == (fingerprint(OKTA), fingerprint(FOREIGN))


def test_a_commented_out_entity_descriptor_is_not_the_issuer() -> None:
    metadata = okta(issuer="https://idp.intruder.example/").replace(
        "<md:EntityDescriptor", f'<!-- <md:EntityDescriptor entityID="{OKTA_ISSUER}"> --><md:EntityDescriptor', 1
    )

    assert saml_issuer(metadata) == "https://idp.intruder.example/"


def test_any_cut_of_a_document_is_read_without_raising_and_never_yields_a_key_it_does_not_hold() -> None:
    metadata = okta(signing=(OKTA, OKTA_NEXT), encryption=(ENCRYPTION,))
    known = {fingerprint(OKTA), fingerprint(OKTA_NEXT), fingerprint(ENCRYPTION)}
    for end in range(0, len(metadata), 7):
        keys = signing_keys(metadata[:end])
        assert set(keys.fingerprints) <= known


def test_fingerprints_are_shown_as_openssl_prints_them() -> None:
    shown = fingerprint_text(fingerprint(OKTA))

    assert shown.replace(":", "").lower() == fingerprint(OKTA)
    assert len(shown) == 95
    assert shown == shown.upper()


def test_allow_saml_certificates_takes_openssl_and_bare_hex_fingerprints() -> None:
    openssl = fingerprint_text(fingerprint(OKTA))
    settings = load_settings(
        {"rules": {"identity-provider-unknown": {"allow_saml_certificates": [openssl, fingerprint(FOREIGN).upper()]}}}
    )

    assert settings.rule("identity-provider-unknown").patterns("allow_saml_certificates") == (
        fingerprint(OKTA),
        fingerprint(FOREIGN),
    )


@pytest.mark.parametrize(
    "value", ["*", fingerprint(OKTA)[:-1], fingerprint(OKTA)[:-1] + "g", "sha1:" + "ab" * 20, "ab" * 20]
)
def test_allow_saml_certificates_refuses_what_is_not_a_sha256_fingerprint(value: str) -> None:
    with pytest.raises(SettingsError, match="SHA-256 fingerprints"):
        load_settings({"rules": {"identity-provider-unknown": {"allow_saml_certificates": [value]}}})


def test_a_key_between_two_processing_instructions_holding_comment_marks_is_unreadable() -> None:
    """Review 15 finding 5: a parser reads ``<?x <!-- ?>`` and ``<?y --> ?>`` as two processing instructions and the
    KeyDescriptor between them as an element; a comment pattern would read one comment and drop the intruder's key."""
    good = okta()
    cut = good.index("<md:KeyDescriptor")
    hidden = '<?x <!-- ?><md:KeyDescriptor use="signing">' + _FOREIGN_KEY + "</md:KeyDescriptor><?y --> ?>"
    metadata = good[:cut] + hidden + good[cut:]

    keys = signing_keys(metadata)

    assert keys.fingerprints == ()
    assert keys.unreadable == ("the document holds a processing instruction ('<?'), which IAM Warden does not read",)
    assert saml_issuer(metadata) is None


def test_the_leading_xml_declaration_is_no_processing_instruction_to_refuse() -> None:
    assert okta().startswith("<?xml ")
    assert signing_keys(okta()) == SigningKeys((fingerprint(OKTA),), ())
    assert saml_issuer(okta()) == OKTA_ISSUER
    # The same declaration anywhere else is not one (XML allows it only first).
    assert signing_keys(okta().replace("<md:NameIDFormat>", '<?xml version="1.0"?><md:NameIDFormat>', 1)).unreadable


def test_an_entity_id_written_inside_another_attribute_is_not_the_issuer() -> None:
    """Review 15 finding 10: the quotes decide where ``note``'s value ends; the descriptor's own ``entityID`` is the
    intruder's."""
    metadata = okta(issuer="http://evil.example").replace(
        "<md:EntityDescriptor ", f"<md:EntityDescriptor note=\"entityID='{OKTA_ISSUER}'\" ", 1
    )

    assert saml_issuer(metadata) == "http://evil.example"


def test_an_entity_descriptor_without_entity_id_names_no_issuer() -> None:
    assert saml_issuer(okta().replace(f'entityID="{OKTA_ISSUER}"', 'id="x"', 1)) is None
    assert saml_issuer(okta().replace(f'entityID="{OKTA_ISSUER}"', "entityID=''", 1)) is None
