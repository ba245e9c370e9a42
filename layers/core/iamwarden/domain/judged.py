"""A policy document's whole verdict, judged once per judging context: one look-up for a document seen before.

``documents.load_policy`` hands out one ``Policy`` object per document content, so the rules' verdict on a
policy (every statement's exposure, every trust problem) can be kept with that object: the next event
carrying the same document costs one look-up, not one per statement.

The kept verdict is keyed by what the judgement reads besides the document: the rule's own settings (the
caller's ``context``: boundary, vendors, ...), the Region, and the event time only when a statement tests a
date (a ``DateLessThan`` window closes: the answer then depends on when). A judgement that would ask a live
lookup (a network owner, a CloudFront origin access identity) is never kept, since a denied lookup may
succeed later.
"""

from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

from iamwarden.domain.exposure import Circumstances
from iamwarden.domain.policy import Policy

#: How many policies' verdicts are kept (each for at most ``CONTEXTS_PER_POLICY`` judging contexts).
JUDGED_CACHE_SIZE = 1024
CONTEXTS_PER_POLICY = 8
_DATE_KEYS = frozenset({"aws:currenttime", "aws:epochtime"})
_NETWORK_KEYS = frozenset({"aws:sourcevpce", "aws:sourcevpc"})


class Traits(NamedTuple):
    """What about a policy makes its verdict depend on more than its content and the rule's settings."""

    #: A statement tests the date (``aws:CurrentTime``/``aws:EpochTime``): the verdict depends on the event time.
    dated: bool
    #: A statement has a network condition: judged with a live network-owner lookup, it is asked afresh.
    networked: bool
    #: A statement names a canonical user: judged with a live origin-access-identity lookup, it is asked afresh.
    canonical_users: bool


def traits(policy: Policy) -> Traits:
    dated = networked = canonical = False
    for statement in policy.statements:
        conditions = statement.conditions
        if conditions:
            for condition in conditions:
                key = condition.key
                if key in _DATE_KEYS:
                    dated = True
                elif key in _NETWORK_KEYS:
                    networked = True
        principal = statement.principal
        if principal is not None and principal.canonical_user:
            canonical = True
        principal = statement.not_principal
        if principal is not None and principal.canonical_user:
            canonical = True
    return _TRAITS[dated * 4 + networked * 2 + canonical]


#: The eight possible Traits, built once: a first sight picks one rather than building it.
_TRAITS = tuple(Traits(bool(bits & 4), bool(bits & 2), bool(bits & 1)) for bits in range(8))


#: id(policy) -> (the policy, its traits, {judging context: verdict}). The entry holds the policy itself,
#: so its id cannot be reused while the entry lives.
_Entry = tuple[Policy, Traits, dict[Hashable, Any]]
#: A first verdict kept before its traits are read (``judged_once`` offline): context, Region, time, verdict.
_Unsettled = tuple[Policy, None, tuple[Hashable, str | None, Any, Any]]
_JUDGED: dict[int, _Entry | _Unsettled] = {}
_NOTHING_KNOWN = Circumstances()


def judged_once[T, *Ts](
    policy: Policy, context: Hashable, circumstances: Circumstances | None, judge: Callable[[*Ts], T], *args: *Ts
) -> T:
    """``judge(*args)``, kept for ``policy`` and ``context`` (plus the Region, and the event time when it matters).

    ``context`` must hold every other input ``judge`` reads (the rule's judging function, its boundary and
    settings). Not kept when the judgement would ask a live lookup. ``args`` rather than a closure: a lambda
    over the caller's variables costs a cell for each and a function object on every call, first sight or not.
    """
    known = circumstances or _NOTHING_KNOWN
    policy_id = id(policy)
    entry = _JUDGED.get(policy_id)
    if entry is None or entry[0] is not policy:
        region, at, networks, identities = known  # one unpacking, not four attribute look-ups
        if networks is None and identities is None:
            # First sight with no live lookup to ask (offline, the benchmark's case): the traits only decide
            # whether the event time is part of the key, so they are read when the entry is next looked up
            # (``_settled``), and the first verdict is kept with its whole key, unhashed.
            first_seen: T = judge(*args)
            if len(_JUDGED) >= JUDGED_CACHE_SIZE:
                del _JUDGED[next(iter(_JUDGED))]
            _JUDGED[policy_id] = (policy, None, (context, region, at, first_seen))
            return first_seen
        # First sight with a live lookup (the enforcer's case): no verdict to look up, so the key is hashed once,
        # by the store.
        found_traits = traits(policy)
        if (known.networks is not None and found_traits.networked) or (
            known.origin_access_identities is not None and found_traits.canonical_users
        ):
            _keep(policy, found_traits, {})  # nothing kept: a live lookup's answer may change
            return judge(*args)
        first: T = judge(*args)
        if len(_JUDGED) >= JUDGED_CACHE_SIZE:  # ``_keep``, inline
            del _JUDGED[next(iter(_JUDGED))]
        kept: dict[Hashable, Any] = {(context, known.region, known.at if found_traits.dated else None): first}
        _JUDGED[policy_id] = (policy, found_traits, kept)
        return first
    _, found_traits, verdicts = entry if entry[1] is not None else _settled(policy, entry[2])
    if (known.networks is not None and found_traits.networked) or (
        known.origin_access_identities is not None and found_traits.canonical_users
    ):
        return judge(*args)
    key = (context, known.region, known.at if found_traits.dated else None)
    found: T = verdicts.get(key, _MISSING)
    if found is _MISSING:
        found = judge(*args)
        if len(verdicts) >= CONTEXTS_PER_POLICY:
            verdicts.clear()
        verdicts[key] = found
    return found


def _settled(policy: Policy, first: tuple[Hashable, str | None, Any, Any]) -> _Entry:
    """The entry of ``policy`` whose first verdict was kept unsettled (``first``: context, Region, time, verdict),
    with its traits read and the verdict kept under the key ``judged_once`` would have given it on first sight."""
    found_traits = traits(policy)
    context, region, at, verdict = first
    verdicts: dict[Hashable, Any] = {(context, region, at if found_traits.dated else None): verdict}
    entry: _Entry = (policy, found_traits, verdicts)
    _JUDGED[id(policy)] = entry
    return entry


def _keep(policy: Policy, found_traits: Traits, verdicts: dict[Hashable, Any]) -> None:
    """Keep ``policy``'s entry (its traits and verdicts so far), the oldest entry dropped when full."""
    if len(_JUDGED) >= JUDGED_CACHE_SIZE:
        del _JUDGED[next(iter(_JUDGED))]
    _JUDGED[id(policy)] = (policy, found_traits, verdicts)


_MISSING = object()


def forget() -> None:
    """Drop every kept verdict (tests, and the benchmark's first sight)."""
    _JUDGED.clear()
