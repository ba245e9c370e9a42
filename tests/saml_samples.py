"""SAML IdP metadata and certificates for the tests: real shapes, certificates made for them.

The certificates are self-signed RSA-2048 X.509 certificates made once with ``cryptography`` (its
``CertificateBuilder``) for these tests, base64 DER as metadata carries them. ``FOREIGN`` copies the subject and
serial number of ``OKTA`` (what an intruder who copies the organisation's metadata writes) with a key of its own: only
the fingerprint tells them apart. Tests compute fingerprints with ``cryptography``, never from a constant.

Shapes:

* ``okta``: Okta's IdP metadata (``md:`` prefix, ``ds:KeyInfo`` declaring its namespace inline, ``use="signing"``,
  ``http://www.okta.com/<app id>`` issuer), as the SAML IdP templates of codegreencreative/laravel-samlidp
  (``src/resources/views/metadata.blade.php``, with an ``encryption`` KeyDescriptor beside the signing one) and
  c6fc/styx_azuread (``templates/provider_metadata.xml.tpl``) write it;
* ``shibboleth``: the default namespace, a comment, and a KeyDescriptor with no ``use`` (signing and encryption,
  SAML metadata 2.0 §2.4.1.1), as Shibboleth's example metadata writes it;
* ``entra``: Microsoft Entra ID's federation metadata: a default-namespace EntityDescriptor signed by an enveloped
  ``Signature`` whose ``KeyInfo`` holds a certificate outside any KeyDescriptor, a WS-Federation ``RoleDescriptor``
  and the ``IDPSSODescriptor``, each with a signing KeyDescriptor (AzureAD/azure-activedirectory-identitymodel-
  extensions-for-dotnet, ``test/Microsoft.IdentityModel.Protocols.WsFederation.Tests/ReferenceMetadata.cs``).
"""

from __future__ import annotations

import base64
import textwrap
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes

OKTA = (
    "MIIDmDCCAoCgAwIBAgIGAZt8LloQMA0GCSqGSIb3DQEBCwUAMIGMMQswCQYDVQQGEwJVUzETMBEGA1UECAwKQ2FsaWZvcm5pYTEW"
    "MBQGA1UEBwwNU2FuIEZyYW5jaXNjbzENMAsGA1UECgwET2t0YTEUMBIGA1UECwwLU1NPUHJvdmlkZXIxDTALBgNVBAMMBGFjbWUx"
    "HDAaBgkqhkiG9w0BCQEWDWluZm9Ab2t0YS5jb20wHhcNMjYwMTEyMTgwNDI1WhcNMzYwMTEwMTgwNDI1WjCBjDELMAkGA1UEBhMC"
    "VVMxEzARBgNVBAgMCkNhbGlmb3JuaWExFjAUBgNVBAcMDVNhbiBGcmFuY2lzY28xDTALBgNVBAoMBE9rdGExFDASBgNVBAsMC1NT"
    "T1Byb3ZpZGVyMQ0wCwYDVQQDDARhY21lMRwwGgYJKoZIhvcNAQkBFg1pbmZvQG9rdGEuY29tMIIBIjANBgkqhkiG9w0BAQEFAAOC"
    "AQ8AMIIBCgKCAQEAoOUrq0SaX/NaMIPm7xHWkLGA4HTM7fTTqgeKcjFehubsqp7o3qWsJjZVN15rPLZgNhWNLgaulVV6gSkqPnKE"
    "NN8//z44FeHNeE+dakk+3qBCBEcFzLuQ4QZCeKcjpeNkp5FIs/WjUbXI+GKHInYYMxz1vRm2AQBLjdN16YsP/plxDsLPOK7A60Os"
    "99EdcuuqMFs23TVQIiYzEWh0VB208NCyM3DlcOhjjMgc0WawauVqy0VwCW8t/KCeOYTfPP+ryCn2DP+GR8KpF3SBsjKewaInoOjI"
    "assv/Veb+afRNsBIMaonpNaT/r+ocBVWdmxtxUfNhMghmf2GFU23s16u3wIDAQABMA0GCSqGSIb3DQEBCwUAA4IBAQAk/vQbxKvK"
    "ZDXmtwRArDGsvUEniCiES0GDw9M0J3169bEOOghXikLd0NLHEqwUD3YJp2kIyaOe8p+iSUK01+I4Bor64W4a6v0dYMePPDrq4+49"
    "W+tla2HlfZyy4JSuwFxSc2yRFP8vDo3hfxkOU1qts24gMBXaoIy+Norshp2gq2K5tZI8/Ds2Xbd3IQ9uNNN5RyF0PPG+P3euXf89"
    "sXqVyMffU5wvMt1eYC7GbilwP1bCvQoM7kZJdP1gptLpcawbr35BdJDrfaB0mDTx+s8hCkcRkLlIwJwH/PxUTXYk8Tx24ZEGhRZY"
    "223MDW6beWYMs8JVtAEkdM4oPPLAy+ms"
)
OKTA_NEXT = (
    "MIIDmDCCAoCgAwIBAgIGAZ0qQcfzMA0GCSqGSIb3DQEBCwUAMIGMMQswCQYDVQQGEwJVUzETMBEGA1UECAwKQ2FsaWZvcm5pYTEW"
    "MBQGA1UEBwwNU2FuIEZyYW5jaXNjbzENMAsGA1UECgwET2t0YTEUMBIGA1UECwwLU1NPUHJvdmlkZXIxDTALBgNVBAMMBGFjbWUx"
    "HDAaBgkqhkiG9w0BCQEWDWluZm9Ab2t0YS5jb20wHhcNMjYxMTA4MTgwNDI1WhcNMzYxMTA1MTgwNDI1WjCBjDELMAkGA1UEBhMC"
    "VVMxEzARBgNVBAgMCkNhbGlmb3JuaWExFjAUBgNVBAcMDVNhbiBGcmFuY2lzY28xDTALBgNVBAoMBE9rdGExFDASBgNVBAsMC1NT"
    "T1Byb3ZpZGVyMQ0wCwYDVQQDDARhY21lMRwwGgYJKoZIhvcNAQkBFg1pbmZvQG9rdGEuY29tMIIBIjANBgkqhkiG9w0BAQEFAAOC"
    "AQ8AMIIBCgKCAQEAu8udNdkSo01OzNX6zSMmrtp515Ca6HRJR3z33KYsU87IrD9cN/Bgf/5Q4leNwFMfREJ3RoEb7VSuFdNcP2OX"
    "oDxL8FVroKJB+A8jbb3TbtMr4S/+htSsaV3mWvqnimPXW/ICIIgbJPAZZe2WKZpJLJxLQiUJJHNc3wHPIfim0xP80iBMtc4Ok+nP"
    "bvMqnMvGtNj0T0uRLevPaED9hoW+VOuMqBHOZn3bF9LkWZIQdZU4p1TJ0vEbkYS/BGul3q4mBBa6+SxFuZXG0/kv2lDajZlhwfNS"
    "f1lxi4mpO4OaPXE5nSW0Irpdidf3JRLv7h7jVdae5yHIdqtHtFCP28L6/QIDAQABMA0GCSqGSIb3DQEBCwUAA4IBAQCvGE0txu3W"
    "WK48/AKe7ZeozQ4g/vDhLASig7xRssrV4oj2hygtmOVT8wfsq6chvlUkqeu026o3JZQIgLazwVYY6ZTub6q9zbJuGiiQ1iiKCtg8"
    "sDNMlj68VPsw/dWQCexuTsrJzieccr8r0v8IYG4Kho4p10yutvHbk+gpsiDjbNh26IhccCJJ9N/V5KhUVkvP8+LWX11hB2OMjuOv"
    "qJ+WlFU0feMhTuT9yZN/8uDPkEFvK9z3KeBa0vEuIOKy964irkmfQkzxTePOvOnHlndAbjJ0cqPw7W8klrDa+fykxZgBk9zKZNoe"
    "oX06iqhPhPUBvhW2syesS9DWhVYKVRVT"
)
ENCRYPTION = (
    "MIIDrjCCApagAwIBAgIGAZt8LloRMA0GCSqGSIb3DQEBCwUAMIGXMQswCQYDVQQGEwJVUzETMBEGA1UECAwKQ2FsaWZvcm5pYTEW"
    "MBQGA1UEBwwNU2FuIEZyYW5jaXNjbzENMAsGA1UECgwET2t0YTEUMBIGA1UECwwLU1NPUHJvdmlkZXIxGDAWBgNVBAMMD2FjbWUt"
    "ZW5jcnlwdGlvbjEcMBoGCSqGSIb3DQEJARYNaW5mb0Bva3RhLmNvbTAeFw0yNjAxMTIxODA0MjVaFw0zNjAxMTAxODA0MjVaMIGX"
    "MQswCQYDVQQGEwJVUzETMBEGA1UECAwKQ2FsaWZvcm5pYTEWMBQGA1UEBwwNU2FuIEZyYW5jaXNjbzENMAsGA1UECgwET2t0YTEU"
    "MBIGA1UECwwLU1NPUHJvdmlkZXIxGDAWBgNVBAMMD2FjbWUtZW5jcnlwdGlvbjEcMBoGCSqGSIb3DQEJARYNaW5mb0Bva3RhLmNv"
    "bTCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAL2irhIMEMOjUh2m3Upzu6NyjeJ9emMnR2My3WhwgtucDbxPchWL590+"
    "Pf/YqVLLnRvyO39wtIdVLmYIHgIVm2vY961kSMESpfuh4dY63pBcBAjFPLiczV/hkUDJD5B1wBe0U3rsgoWnFQyksFhY0YFMcgUW"
    "xa+3qiBnOmc1y0vgrUopkjqJKSAKDphVDbUZxq/jZkro3vasUoLgD27lUVnvo2avg93vlp3PJq1XmCtEXtfUBmJpSjqfxJ6TKU1g"
    "nI6ciKY5jcRT4g2tx/QRNRX9tCsXFdezaQaxSeLuLSB6iXXMKgDEHeohwUx9vnsYAR/txmlJQWqibrcWbnDPtdUCAwEAATANBgkq"
    "hkiG9w0BAQsFAAOCAQEAf9bYnj82FbNX+xTqsi1g2ONBdDWRGBSktxdwltuN1gm4hVgjWXOhRWdcm8+Iuve/wG3XKpWPmmAXSXIq"
    "d3xmJ+ag8i67CI4lEted3n6ZNg8dp0Q1FPo3jRuRQlwSGdxHSpuXYUVahTFI3N2ecpVMpR9fgL9TVi8KifmIkIgYtMCuUStXgmlg"
    "PxwIIyU30/2/gWDuNhVOmz9ay3GueoJUBaIqiZCYTRGvyLrcJsSWU1uiAfVk469MBxkTv507Zx4ddCRxfLJRwbFctb9x9KJdeguy"
    "x8HfFgVnmLaRf+8StePTnobb+f4msLQstSFN61h1B8WVWHUAeN3GMlp+FWvRdQ=="
)
FOREIGN = (
    "MIIDmDCCAoCgAwIBAgIGAZt8LloQMA0GCSqGSIb3DQEBCwUAMIGMMQswCQYDVQQGEwJVUzETMBEGA1UECAwKQ2FsaWZvcm5pYTEW"
    "MBQGA1UEBwwNU2FuIEZyYW5jaXNjbzENMAsGA1UECgwET2t0YTEUMBIGA1UECwwLU1NPUHJvdmlkZXIxDTALBgNVBAMMBGFjbWUx"
    "HDAaBgkqhkiG9w0BCQEWDWluZm9Ab2t0YS5jb20wHhcNMjYwMTEyMTgwNDI1WhcNMzYwMTEwMTgwNDI1WjCBjDELMAkGA1UEBhMC"
    "VVMxEzARBgNVBAgMCkNhbGlmb3JuaWExFjAUBgNVBAcMDVNhbiBGcmFuY2lzY28xDTALBgNVBAoMBE9rdGExFDASBgNVBAsMC1NT"
    "T1Byb3ZpZGVyMQ0wCwYDVQQDDARhY21lMRwwGgYJKoZIhvcNAQkBFg1pbmZvQG9rdGEuY29tMIIBIjANBgkqhkiG9w0BAQEFAAOC"
    "AQ8AMIIBCgKCAQEAmlTDBZZOJYXdgm8Bvu6UMd5Q1mFfiMLyZOKf4+JdPEQWvk+pcL6qmD2dXqXljq59KOwK7okF4xcM2uHVlDl7"
    "MOvG7wRfErnkFt0dpWrJqrWa92kCjy7+yhxOya3G4kibGRnb7JquKsN07ygsCQhzaBq8pU/tgu+yvlVM8Mep+oVR1fIaWEkkeE2U"
    "CX9AXSgWVbpoYjKnpuFfBA3XqxoDqNxAGmp8yzg9NVVHb0ids2aZQ+3AVVMXA3QlUjsMZuBzS9MDtHflMz1qiJmO3UEO+Ly36/Ab"
    "9Xz1QCJRpIudszIkKuaedPnsJE+Ud14lbixh5rWEA0Xuu8Qiq+i/2QXPiwIDAQABMA0GCSqGSIb3DQEBCwUAA4IBAQBiE7F/1E5B"
    "cx1NaWndAQKW7mG+zRO8tUsmHSA7S98onzo0vU++yNrk7rqICjGGUKfjaq3wO2G8Jj9UOedAve4jFzkzv5POvZLOCfoInqc9OJEL"
    "+6m28AM1T5jqt5p9GQN/IPVqbod4I9TECuDciDwm2F1TkJOQsnImoY2Mse78pDfho0TM3716FFLSCpMGgIz0mdiyJs/lFpx+E1xZ"
    "zIelE/BJoWJ1mdTjOX+qOG0oHkyoe7IZSJLLPoqJDGqqZWQpO+lPYM3K8VYQOzYVGs4OVxCvrzfnXSx02Vf30aG1t5+NOM30znqC"
    "kSlY7+HE6mKo3ewPAfi0xL67q8K3nxsX"
)

OKTA_ISSUER = "http://www.okta.com/exk1acme9x8y7z"


def fingerprint(certificate: str) -> str:
    """The SHA-256 fingerprint ``cryptography`` computes of a base64 DER certificate (lower-case hex)."""
    der = base64.b64decode("".join(certificate.split()))
    return x509.load_der_x509_certificate(der).fingerprint(hashes.SHA256()).hex()


def wrapped(certificate: str, width: int = 64, indent: str = "          ") -> str:
    """A certificate broken into lines, as many IdPs export it (whitespace inside the element)."""
    return "\n" + "\n".join(indent + line for line in textwrap.wrap(certificate, width)) + "\n" + indent[:-2]


def _key(use: str | None, certificate: str, prefix: str = "md:") -> str:
    used = f' use="{use}"' if use is not None else ""
    return (
        f'<{prefix}KeyDescriptor{used}><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data>'
        f"<ds:X509Certificate>{certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></{prefix}KeyDescriptor>"
    )


def okta(signing: Sequence[str] = (OKTA,), encryption: Sequence[str] = (), issuer: str = OKTA_ISSUER) -> str:
    """Okta's IdP metadata with these signing (and encryption) certificates."""
    keys = "".join(_key("signing", c) for c in signing) + "".join(_key("encryption", c) for c in encryption)
    return (
        '<?xml version="1.0" encoding="UTF-8"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        f'entityID="{issuer}"><md:IDPSSODescriptor WantAuthnRequestsSigned="false" '
        f'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{keys}'
        "<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat>"
        "<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>"
        '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
        'Location="https://acme.okta.com/app/amazon_aws/exk1acme9x8y7z/sso/saml"/>'
        '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
        'Location="https://acme.okta.com/app/amazon_aws/exk1acme9x8y7z/sso/saml"/>'
        "</md:IDPSSODescriptor></md:EntityDescriptor>"
    )


def shibboleth(both: str = OKTA, encryption: str = ENCRYPTION) -> str:
    """Shibboleth-style metadata: default namespace, a comment, one KeyDescriptor with no ``use``, one for
    encryption, certificates broken into lines."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
    entityID="https://idp.acme.example/idp/shibboleth">
  <!-- The IdP's key, used for signing and for encryption. -->
  <IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <KeyDescriptor>
      <ds:KeyInfo>
        <ds:X509Data>
          <ds:X509Certificate>{wrapped(both)}</ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
    </KeyDescriptor>
    <KeyDescriptor use="encryption">
      <ds:KeyInfo>
        <ds:X509Data>
          <ds:X509Certificate>{wrapped(encryption)}</ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
    </KeyDescriptor>
    <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
        Location="https://idp.acme.example/idp/profile/SAML2/POST/SSO"/>
  </IDPSSODescriptor>
</EntityDescriptor>
"""


def entra(signing: str = OKTA, metadata_signer: str = OKTA_NEXT) -> str:
    """Entra ID federation metadata: the enveloped Signature's certificate (``metadata_signer``) is outside every
    KeyDescriptor; the RoleDescriptor and the IDPSSODescriptor sign with ``signing``."""
    tenant = "268da1a1-9db4-48b9-b1fe-683250ba90cc"
    key = (
        '<KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data>'
        f"<X509Certificate>{signing}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>"
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><EntityDescriptor ID="_6c4f3672-45c2-47a6-9515-afda95224009" '
        f'entityID="https://sts.windows.net/{tenant}/" xmlns="urn:oasis:names:tc:SAML:2.0:metadata">'
        '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>'
        '<CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
        '<SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
        '<Reference URI="#_6c4f3672-45c2-47a6-9515-afda95224009"><DigestValue>'
        "lmnWCG1GDSWiAfMbKvGSbL2ykBFGKDQ5vZqgHg7c3Ww=</DigestValue></Reference></SignedInfo>"
        "<SignatureValue>c2lnbmF0dXJl</SignatureValue><KeyInfo><X509Data>"
        f"<X509Certificate>{metadata_signer}</X509Certificate></X509Data></KeyInfo></Signature>"
        '<RoleDescriptor xsi:type="fed:SecurityTokenServiceType" '
        'protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706">{key}</RoleDescriptor>'
        f'<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{key}'
        '<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
        f'Location="https://login.microsoftonline.com/{tenant}/saml2"/></IDPSSODescriptor></EntityDescriptor>'
    )
