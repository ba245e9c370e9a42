"""What a SAML metadata document says about its identity provider: the issuer it names and the keys it holds.

The ``entityID`` is a name anyone can copy into a document of their own; the certificates are what IAM checks an
assertion against, so they are what a known provider is known by (``allow_saml_certificates``).

The document is untrusted (whoever called ``CreateSAMLProvider`` wrote it), so no XML parser sees it: no entity
expansion, no external references, no parser to exhaust. Patterns read it instead, and read it the strict way round:
whatever they cannot read with certainty (a ``DOCTYPE``, a ``CDATA`` section, a character reference in a
certificate, a key that is not an X.509 certificate, base64 that does not decode, a processing instruction other
than the leading XML declaration) is reported as unreadable, never skipped, so a document shaped to hide a key from
the patterns is never taken for a known one. Comments are dropped first (an XML parser ignores them, so must the
patterns); a processing instruction may hold ``<!--`` or ``-->`` that a parser reads as its own text, so one makes
the document unreadable before any comment is stripped. Every ``KeyDescriptor`` counts, whatever its ``use``
(``signing``, ``encryption`` or none): whether IAM verifies assertions only against keys marked for signing is not
documented, so a key under ``use="encryption"`` must not pass unseen.
"""

import base64
import binascii
import hashlib
import re
from functools import lru_cache
from typing import NamedTuple

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_UNCOMMENTED = re.compile(r"<!--")
#: Markup the patterns cannot follow: a DOCTYPE may declare entities that put keys where no pattern looks, and a
#: CDATA section hides markup-looking text that a parser reads as text.
_OPAQUE = re.compile(r"<!DOCTYPE|<!ENTITY|<!\[CDATA\[", re.IGNORECASE)
_ATTRIBUTE = r"\s+([\w:.-]+)\s*=\s*(\"[^\"]*\"|'[^']*')"
#: The EntityDescriptor start tag, its attributes read with their quotes, so an ``entityID=`` written inside another
#: attribute's value is never taken for the descriptor's own.
_ENTITY_DESCRIPTOR = re.compile(rf"<(?:[\w.-]+:)?EntityDescriptor(?P<attributes>(?:{_ATTRIBUTE})*)\s*/?>")
#: The XML declaration, allowed only where XML allows it: first in the document (a byte-order mark before it).
_DECLARATION = re.compile(r"\A\ufeff?\s*<\?xml\s[^<>?]*\?>")
#: Any other processing instruction: its text may hold ``<!--``/``-->``, which a parser reads as the instruction's
#: text and a comment pattern would read as a comment (hiding what lies between two instructions).
_INSTRUCTION = re.compile(r"<\?")
#: A ``KeyDescriptor`` start tag (any prefix), its attributes read one by one with their quotes, so a ``>`` or a
#: ``use="..."`` inside another attribute's value is never mistaken for the tag's end or its ``use``.
_KEY_DESCRIPTOR = re.compile(rf"<(?:[\w.-]+:)?KeyDescriptor(?P<attributes>(?:{_ATTRIBUTE})*)\s*(?P<empty>/?)>")
_ANY_KEY_DESCRIPTOR = re.compile(r"<(?:[\w.-]+:)?KeyDescriptor\b")
_KEY_DESCRIPTOR_END = re.compile(r"</(?:[\w.-]+:)?KeyDescriptor\s*>")
_CERTIFICATE = re.compile(
    r"<(?:[\w.-]+:)?X509Certificate(?:\s[^>]*)?>(.*?)</(?:[\w.-]+:)?X509Certificate\s*>", re.DOTALL
)
_ANY_CERTIFICATE = re.compile(r"<(?:[\w.-]+:)?X509Certificate\b")
#: Key forms besides a certificate that a verifier might take (a bare key, a certificate by reference): no fingerprint
#: can say whose they are.
_OTHER_KEY = re.compile(r"<(?:[\w.-]+:)?(KeyValue|RSAKeyValue|ECKeyValue|DEREncodedKeyValue|RetrievalMethod)\b")
#: Whitespace written as a character reference (metadata exported on Windows carries ``&#13;`` in base64 lines).
_WHITESPACE_REFERENCE = re.compile(r"&#(?:x0*[9aAdD]|x0*20|0*9|0*10|0*13|0*32);")


#: How many metadata documents' readings ``saml_issuer`` and ``signing_keys`` keep each, by the document's text: the
#: same provider's metadata comes back in every event about it, and reading it takes some 0.2 M instructions.
#: Bounded: documents come from events. Both answers are immutable (a text or None; tuples of texts).
READINGS_CACHE_SIZE = 16
#: The longest metadata text kept: IAM accepts metadata of up to 10,000,000 characters, read live when CloudTrail
#: leaves it out, so a longer one is read each time (review s17: twenty 5 MB texts held 100 MB).
KEPT_TEXT_LIMIT = 256 * 1024


def saml_issuer(metadata: str) -> str | None:
    """The ``entityID`` of a SAML metadata document's EntityDescriptor (read with a pattern: no XML parser
    sees untrusted input). Kept per text (``READINGS_CACHE_SIZE``) up to ``KEPT_TEXT_LIMIT`` characters."""
    if len(metadata) > KEPT_TEXT_LIMIT:
        return _saml_issuer(metadata)
    return _kept_saml_issuer(metadata)


def _saml_issuer(metadata: str) -> str | None:
    """``saml_issuer``, worked out."""
    if _instruction(metadata) is not None:
        return None  # where a comment starts and ends is not certain: no issuer is read
    found = _ENTITY_DESCRIPTOR.search(_COMMENT.sub("", metadata))
    if found is None:
        return None
    for attribute in re.finditer(_ATTRIBUTE, found.group("attributes")):
        if attribute.group(1) == "entityID":
            return attribute.group(2)[1:-1] or None
    return None


def _instruction(metadata: str) -> str | None:
    """A phrase naming the processing instruction in ``metadata`` other than its leading XML declaration, or None."""
    declaration = _DECLARATION.match(metadata)
    found = _INSTRUCTION.search(metadata, declaration.end() if declaration else 0)
    if found is None:
        return None
    return "the document holds a processing instruction ('<?'), which IAM Warden does not read"


class SigningKeys(NamedTuple):
    """The certificates a metadata document's KeyDescriptors name (signing and encryption alike), by SHA-256
    fingerprint (64 lower-case hex digits, in the document's order, each once), and what in it could not be read
    (each a short phrase)."""

    fingerprints: tuple[str, ...]
    unreadable: tuple[str, ...]


def signing_keys(metadata: str) -> SigningKeys:
    """Kept per text up to ``KEPT_TEXT_LIMIT`` characters; ``_signing_keys`` says what it reads."""
    if len(metadata) > KEPT_TEXT_LIMIT:
        return _signing_keys(metadata)
    return _kept_signing_keys(metadata)


def _signing_keys(metadata: str) -> SigningKeys:
    """The SHA-256 fingerprints of the certificates in every ``KeyDescriptor``, whatever its ``use``; kept per text
    (``READINGS_CACHE_SIZE``).

    An encryption-only key counts too: whether IAM verifies assertions only against keys marked for signing is not
    documented, and an intruder's key put under ``use="encryption"`` must not pass unseen. The cost is listing the
    organisation's encryption certificate as well (most IdPs' AWS metadata has none).

    Never raises: what cannot be read is named in ``unreadable``, and a document with nothing readable and nothing
    unreadable in it names no key at all (the caller says so). The name is historical: every key counts.
    """
    opaque = _OPAQUE.search(metadata)
    if opaque is not None:
        return SigningKeys((), (f"the document holds {opaque.group(0)!r} markup, which IAM Warden does not read",))
    instruction = _instruction(metadata)
    if instruction is not None:
        return SigningKeys((), (instruction,))
    text = _COMMENT.sub("", metadata)
    if _UNCOMMENTED.search(text):
        return SigningKeys((), ("the document holds a comment that is never closed",))
    fingerprints: dict[str, None] = {}
    unreadable: list[str] = []
    position, number = 0, 0
    while (start := _ANY_KEY_DESCRIPTOR.search(text, position)) is not None:
        number += 1
        tag = _KEY_DESCRIPTOR.match(text, start.start())
        if tag is None:
            unreadable.append(f"KeyDescriptor {number}: its start tag")
            position = start.end()
            continue
        if tag.group("empty"):  # <KeyDescriptor/>: no key in it
            body, position = "", tag.end()
        else:
            end = _KEY_DESCRIPTOR_END.search(text, tag.end())
            if end is None:
                unreadable.append(f"KeyDescriptor {number}: it is never closed")
                break
            body, position = text[tag.end() : end.start()], end.end()
        found, problems = _certificates(body)
        fingerprints.update(dict.fromkeys(found))
        unreadable.extend(f"KeyDescriptor {number}: {problem}" for problem in problems)
    return SigningKeys(tuple(fingerprints), tuple(unreadable))


def _certificates(body: str) -> tuple[list[str], list[str]]:
    """The fingerprints of the X.509 certificates in one KeyDescriptor (whatever its ``use``), and what in it could
    not be read."""
    found: list[str] = []
    problems: list[str] = []
    matches = list(_CERTIFICATE.finditer(body))
    if len(matches) != len(_ANY_CERTIFICATE.findall(body)):
        problems.append("an X509Certificate element that is not closed")
    for match in matches:
        fingerprint = certificate_fingerprint(match.group(1))
        if fingerprint is None:
            problems.append("a certificate that is not base64 of a DER certificate")
        else:
            found.append(fingerprint)
    other = _OTHER_KEY.search(body)
    if other is not None:
        problems.append(f"a {other.group(1)} key, which is not a certificate")
    if not matches and not problems:
        problems.append("no certificate")
    return found, problems


def certificate_fingerprint(text: str) -> str | None:
    """The SHA-256 fingerprint of a base64 DER certificate as metadata writes it (whitespace anywhere), or None when
    it is not one: strict base64 that decodes to a DER SEQUENCE (an X.509 certificate's outer shape)."""
    bare = re.sub(r"\s", "", _WHITESPACE_REFERENCE.sub("", text))
    if not bare or not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", bare):
        return None
    try:
        der = base64.b64decode(bare, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(der) < 2 or der[0] != 0x30:
        return None
    return hashlib.sha256(der).hexdigest()


def fingerprint_text(fingerprint: str) -> str:
    """A fingerprint as ``openssl x509 -noout -fingerprint -sha256`` prints it (``AB:CD:…``), the way people
    compare it with their IdP's."""
    upper = fingerprint.upper()
    return ":".join(upper[i : i + 2] for i in range(0, len(upper), 2))


#: The readings kept per text (``READINGS_CACHE_SIZE``): both answers are immutable.
_kept_saml_issuer = lru_cache(maxsize=READINGS_CACHE_SIZE)(_saml_issuer)
_kept_signing_keys = lru_cache(maxsize=READINGS_CACHE_SIZE)(_signing_keys)
