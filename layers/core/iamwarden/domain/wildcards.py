"""Wildcard matching for IAM actions, names and ARNs, in linear time.

Event data is attacker-controlled: a policy may carry ``s3:***…***z``. A
regular expression built from such a pattern backtracks exponentially, so
matching here is the classic two-pointer glob match, O(len(pattern) *
len(text)) at worst. Only ``*`` (any run of characters) and ``?`` (one
character) are special. ARN patterns match field by field, so ``*`` never
crosses the ``:`` between partition, service, region, account and resource
(IAM paths may themselves contain ``:``).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache


def wildcard_match(pattern: str, text: str) -> bool:
    """Whether ``pattern`` (``*`` and ``?`` wildcards) matches all of ``text``; case-sensitive.

    The hot path of every judgement: a pattern without ``?`` (nearly all of them) is split once at its stars
    (``_segments``, cached by the pattern's text) and matched with ``startswith``/``endswith``/``find``, the
    leftmost place of each middle segment being the right one; a pattern with ``?`` takes the two-pointer walk.
    Both are linear in the text for a given pattern.
    """
    if "*" not in pattern:
        return pattern == text if "?" not in pattern else _walk(pattern, text)
    if pattern == "*":
        return True
    if "?" in pattern:
        return _walk(pattern, text)
    head, middle, tail, least = _segments(pattern)
    if len(text) < least or not text.startswith(head) or not text.endswith(tail):
        return False
    at = len(head)
    end = len(text) - len(tail)
    for segment in middle:
        found = text.find(segment, at, end)
        if found < 0:
            return False
        at = found + len(segment)
    return True


@lru_cache(maxsize=4096)
def _segments(pattern: str) -> tuple[str, tuple[str, ...], str, int]:
    """A ``*`` pattern as (text before the first star, the non-empty texts between stars, text after the last
    star, the shortest text it can match); bounded: patterns come from attacker-controlled documents."""
    head, *middle, tail = pattern.split("*")
    between = tuple(segment for segment in middle if segment)
    return head, between, tail, len(head) + sum(len(segment) for segment in between) + len(tail)


def _walk(pattern: str, text: str) -> bool:
    """The classic two-pointer glob match: O(len(pattern) * len(text)) at worst, for patterns with ``?``."""
    p = t = 0
    star = -1
    resume = 0
    while t < len(text):
        if p < len(pattern) and (pattern[p] == "?" or pattern[p] == text[t]):
            p += 1
            t += 1
        elif p < len(pattern) and pattern[p] == "*":
            star, resume = p, t
            p += 1
        elif star >= 0:  # let the last star swallow one more character and retry
            resume += 1
            p, t = star + 1, resume
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)


def arn_match(pattern: str, arn: str) -> bool:
    """Match an ARN pattern field by field; a pattern that is no ARN matches the whole text."""
    if not pattern.startswith("arn:"):
        return wildcard_match(pattern, arn)
    pattern_fields = pattern.split(":", 5)
    arn_fields = arn.split(":", 5)
    if len(pattern_fields) != 6 or len(arn_fields) != 6:
        return False
    return all(wildcard_match(p, a) for p, a in zip(pattern_fields, arn_fields, strict=True))


def matches_any(value: str, patterns: Iterable[str]) -> bool:
    """Whether any pattern matches ``value`` (ARN patterns field by field); case-sensitive."""
    return any(arn_match(pattern, value) for pattern in patterns)
