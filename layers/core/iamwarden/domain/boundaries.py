"""Whether one permissions boundary allows anything another did not: the test for a "weaker" boundary.

A boundary caps a principal at what it allows. A new boundary is no weaker than the previous one when
everything it allows the previous one allowed too. Deciding that in general is deciding inclusion of wildcard
languages under conditions; ``widened`` decides it statement by statement and errs towards "wider":

* each Allow statement of the new boundary must be covered (for each of its action and resource patterns) by
  one Allow statement of the previous boundary whose conditions are among its own: a pattern covers another
  when every action or ARN the second matches, the first matches too (``s3:*`` covers ``s3:Get*``;
  ``arn:aws:s3:::app-*`` does not cover ``*``). An entry the new boundary also denies, unconditionally, is
  not allowed, so it needs no cover;
* each Deny statement of the previous boundary that touches something the new one allows must be kept: a Deny
  of the new boundary covers its actions and resources with no more conditions.

Wider is reported with what the new boundary allows that the previous one did not, in words an alert can show.
What only the union of several previous statements covers (``s3:*`` against ``s3:Get*`` and every other
``s3:`` prefix, listed) reads as wider: a human compares such boundaries, IAM Warden never guesses "no wider".
Pure: no AWS.
"""

from collections.abc import Callable, Sequence
from typing import NamedTuple

from iamwarden.domain.policy import Policy, Statement


class Widening(NamedTuple):
    """One thing a new boundary allows that the previous one did not."""

    statement: str  # the statement of the new boundary (or of the previous one, for a dropped Deny)
    actions: str
    resources: str
    dropped_deny: bool = False

    @property
    def text(self) -> str:
        if self.dropped_deny:
            return f"no longer denies {self.actions} on {self.resources} (previous boundary's {self.statement})"
        return f"allows {self.actions} on {self.resources} ({self.statement})"


class _Set(NamedTuple):
    """One dimension of a statement (its actions, or its resources): the patterns it names, or all but them."""

    patterns: tuple[str, ...]
    excluded: bool

    @property
    def text(self) -> str:
        listed = ", ".join(self.patterns)
        return f"everything but {listed}" if self.excluded else listed


def widened(previous: Policy, new: Policy) -> tuple[Widening, ...]:
    """What ``new`` allows that ``previous`` did not (empty: ``new`` is no wider), statement by statement."""
    found: list[Widening] = []
    previous_allows = [s for s in previous.statements if s.allows]
    new_denies = [s for s in new.statements if not s.allows]
    new_allows = [s for s in new.statements if s.allows]
    for statement in new_allows:
        found.extend(_uncovered(statement, previous_allows, new_denies))
    for deny in previous.statements:
        if deny.allows or not any(_overlaps(deny, allow) for allow in new_allows):
            continue
        if not any(_covers_statement(kept, deny) for kept in new_denies):
            actions, resources = _actions(deny), _resources(deny)
            found.append(Widening(deny.label, actions.text, resources.text, dropped_deny=True))
    return tuple(found)


def _uncovered(statement: Statement, covers: Sequence[Statement], denies: Sequence[Statement]) -> list[Widening]:
    """The action and resource entries of an Allow statement that no previous Allow covers (and no Deny takes)."""
    actions, resources = _actions(statement), _resources(statement)
    conditions = set(statement.conditions)
    candidates = [c for c in covers if set(c.conditions) <= conditions]
    unconditional_denies = [d for d in denies if not d.conditions]
    action_parts = _parts(actions)
    resource_parts = _parts(resources)
    found: list[Widening] = []
    for action in action_parts:
        for resource in resource_parts:
            if any(
                _dimension_covers(_actions(c), action, _ACTIONS)
                and _dimension_covers(_resources(c), resource, _RESOURCES)
                for c in candidates
            ):
                continue
            if any(
                _dimension_covers(_actions(d), action, _ACTIONS)
                and _dimension_covers(_resources(d), resource, _RESOURCES)
                for d in unconditional_denies
            ):
                continue
            found.append(Widening(statement.label, action.text, resource.text))
    return found


def _parts(dimension: _Set) -> list[_Set]:
    """A listed dimension, one pattern at a time (each needs a cover of its own); an excluding one, whole."""
    if dimension.excluded:
        return [dimension]
    return [_Set((pattern,), excluded=False) for pattern in dimension.patterns]


def _actions(statement: Statement) -> _Set:
    if statement.not_actions is not None:
        return _Set(statement.not_actions, excluded=True)
    return _Set(statement.actions or (), excluded=False)


def _resources(statement: Statement) -> _Set:
    if statement.not_resources is not None:
        return _Set(statement.not_resources, excluded=True)
    return _Set(statement.resources if statement.resources is not None else ("*",), excluded=False)


def _covers_statement(outer: Statement, inner: Statement) -> bool:
    """Whether ``outer`` matches every request ``inner`` matches (its conditions among ``inner``'s)."""
    return (
        set(outer.conditions) <= set(inner.conditions)
        and _dimension_covers(_actions(outer), _actions(inner), _ACTIONS)
        and _dimension_covers(_resources(outer), _resources(inner), _RESOURCES)
    )


def _overlaps(one: Statement, other: Statement) -> bool:
    """Whether two statements may match a request in common (conditions aside); errs towards yes."""
    return _dimension_overlaps(_actions(one), _actions(other), _ACTIONS) and _dimension_overlaps(
        _resources(one), _resources(other), _RESOURCES
    )


_Test = Callable[[str, str], bool]


class _Match(NamedTuple):
    """How one dimension's patterns compare: cover and overlap."""

    covers: _Test
    overlap: _Test


def _dimension_covers(outer: _Set, inner: _Set, match: _Match) -> bool:
    """Whether every value ``inner`` matches, ``outer`` matches too."""
    covers = match.covers
    if not outer.excluded and not inner.excluded:
        return all(any(covers(o, i) for o in outer.patterns) for i in inner.patterns)
    if outer.excluded and not inner.excluded:
        return all(not any(match.overlap(o, i) for o in outer.patterns) for i in inner.patterns)
    if not outer.excluded:  # everything but some values, covered only by a pattern matching everything
        return any(covers(o, "*") for o in outer.patterns)
    return all(any(covers(i, o) for i in inner.patterns) for o in outer.patterns)


def _dimension_overlaps(one: _Set, other: _Set, match: _Match) -> bool:
    if one.excluded or other.excluded:
        return True  # all but some values meets almost anything: say yes
    return any(match.overlap(a, b) for a in one.patterns for b in other.patterns)


def _action_covers(outer: str, inner: str) -> bool:
    return pattern_covers(outer.lower(), inner.lower())


def _action_overlap(one: str, other: str) -> bool:
    return patterns_overlap(one.lower(), other.lower())


def _resource_covers(outer: str, inner: str) -> bool:
    if outer == "*":
        return True
    if inner == "*":
        return False
    return _fields(pattern_covers, outer, inner)


def _resource_overlap(one: str, other: str) -> bool:
    if "*" in (one, other):
        return True
    return _fields(patterns_overlap, one, other)


def _fields(test: _Test, one: str, other: str) -> bool:
    """ARN patterns field by field (``*`` never crosses the ``:`` between partition, service, ... resource)."""
    if not (one.startswith("arn:") and other.startswith("arn:")):
        return test(one, other)
    first, second = one.split(":", 5), other.split(":", 5)
    if len(first) != 6 or len(second) != 6:
        return test(one, other)
    return all(test(a, b) for a, b in zip(first, second, strict=True))


def pattern_covers(outer: str, inner: str) -> bool:
    """Whether every string the wildcard pattern ``inner`` matches, ``outer`` matches too (``*`` and ``?``).

    ``inner``'s ``*`` can only be taken by a ``*`` of ``outer``, its ``?`` by a ``?`` or ``*``: sound (never says
    "covers" wrongly), and exact for the patterns policies hold.
    """
    reachable = {(0, 0)}
    stack = [(0, 0)]
    while stack:
        i, j = stack.pop()
        moves: list[tuple[int, int]] = []
        if i < len(outer) and outer[i] == "*":
            moves.append((i + 1, j))  # the star takes nothing more
            if j < len(inner):
                moves.append((i, j + 1))  # the star takes inner's next character, whatever it is
        elif i < len(outer) and j < len(inner):
            o, n = outer[i], inner[j]
            if (o == "?" and n != "*") or (o == n and o not in "*?"):
                moves.append((i + 1, j + 1))
        for move in moves:
            if move not in reachable:
                reachable.add(move)
                stack.append(move)
    return (len(outer), len(inner)) in reachable


def patterns_overlap(one: str, other: str) -> bool:
    """Whether some string matches both wildcard patterns (the product of their automata reaches the end)."""
    reachable = {(0, 0)}
    stack = [(0, 0)]
    while stack:
        i, j = stack.pop()
        a = one[i] if i < len(one) else None
        b = other[j] if j < len(other) else None
        moves: list[tuple[int, int]] = []
        if a == "*":
            moves.append((i + 1, j))
        if b == "*":
            moves.append((i, j + 1))
        if a is not None and b is not None and (a in "*?" or b in "*?" or a == b):
            # one character both can take: a star keeps its place, anything else moves on
            moves.append((i if a == "*" else i + 1, j if b == "*" else j + 1))
        for move in moves:
            if move not in reachable:
                reachable.add(move)
                stack.append(move)
    return (len(one), len(other)) in reachable


_ACTIONS = _Match(_action_covers, _action_overlap)
_RESOURCES = _Match(_resource_covers, _resource_overlap)
