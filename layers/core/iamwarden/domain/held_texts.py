"""The other readings of a held policy's text, parsed and kept per text (``held_readings`` combines them).

A held policy IAM returns as text (``GetRolePolicy``, ``GetUserPolicy``, ``GetGroupPolicy``, ``GetPolicyVersion``,
an authorization details file) may name a key twice with different values; ``documents.other_readings`` gives the
readings AWS might enforce besides boto3's last-wins one. Apart from ``held_readings`` so that the live directory,
imported at every cold start of the enforcer, does not import the escalation analysis with it (README, Benchmarks).
"""

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from iamwarden.domain.documents import other_readings
from iamwarden.domain.exceptions import IamWardenError
from iamwarden.domain.policy import Policy, parse_policy

#: How many held texts ``parsed_readings`` keeps the readings of, by the text as IAM returned it: a warm container
#: reads the same inline and managed texts on every event. Keyed by the whole text (like ``documents._PARSED``), so a
#: changed text is another key and read afresh; the oldest goes first beyond the bound.
READINGS_CACHE_SIZE = 1024
_READ: dict[str, tuple[Policy, ...]] = {}


def parsed_readings(document: Any, field: str) -> tuple[Policy, ...]:
    """The other readings of a held policy as IAM returned it (its text, possibly URL-encoded), parsed; empty for a
    document already decoded (a dict has lost its duplicate keys) or a text with one reading. A reading that does
    not parse is dropped: IAM accepted the policy, so it is not AWS's. Kept per text (``field`` only names a
    reading in a parse error, which is dropped)."""
    if type(document) is not str:
        if not isinstance(document, str):
            return ()
        document = str(document)  # a str subclass: keyed by its plain text
    found = _READ.get(document)
    if found is not None:
        return found
    read: list[Policy] = []
    for reading in other_readings(unquote(document)):
        try:
            read.append(parse_policy(_loads(reading), field=f"{field} (another reading)"))
        except (IamWardenError, ValueError, TypeError):
            continue
    found = tuple(read)
    if len(_READ) >= READINGS_CACHE_SIZE:
        del _READ[next(iter(_READ))]
    _READ[document] = found
    return found


def _loads(text: str) -> Mapping[str, Any]:
    loaded: Mapping[str, Any] = json.loads(text)
    return loaded
