"""Policy variables (``${aws:PrincipalAccount}``) in Resource and Condition values, read by meaning.

IAM substitutes a variable with the request's value of the key it names before matching ("IAM policy
elements: Variables and tags", IAM User Guide): ``arn:aws:iam::${aws:PrincipalAccount}:role/*`` is, at run
time, the caller's own account's roles. A variable may carry a default, used when the key has no value
(``${aws:PrincipalTag/team, 'company-wide'}``), and ``${*}``, ``${?}``, ``${$}`` stand for the characters
themselves. Key names are case-insensitive, defaults are not.

A security judgement may not drop a variable as if it were a literal: here a variable is either resolved
to what the caller knows, or replaced by what it can certainly (or at most) stand for.
"""

import re
from collections.abc import Callable
from functools import cache


@cache
def variable_pattern() -> re.Pattern[str]:
    """``${key}`` or ``${key, 'default'}`` (a quote inside the default is doubled); spaces around the parts are
    ignored. Compiled with the first text that holds ``${``, not at every cold start (~0.7 M instructions)."""
    return re.compile(r"\$\{\s*([^\s,'}]+)\s*(?:,\s*'((?:[^']|'')*)'\s*)?\}")


#: The special characters a variable can spell literally.
_LITERAL = {"*": "*", "?": "?", "$": "$"}

#: Condition keys whose value describes the resource (its own account or organisation), not the caller.
RESOURCE_SIDE = frozenset({"aws:resourceaccount", "aws:resourceorgid", "aws:resourceorgpaths"})
#: Prefixes of the request keys a caller sets or chooses itself (who it is, its tags, its network path,
#: the token it brings): compared with any caller-side key, such a variable bounds nothing.
_CALLER_SIDE_PREFIXES = (
    "aws:principal",
    "aws:userid",
    "aws:username",
    "aws:sourceidentity",
    "aws:requesttag/",
    "aws:federatedprovider",
    "aws:source",
    "aws:tokenissuetime",
    "aws:calledvia",
    "aws:viaawsservice",
)


def has_variable(text: str) -> bool:
    """Whether ``text`` holds something IAM may substitute (the cheap test before any parsing)."""
    return "${" in text


def variables_in(text: str) -> tuple[tuple[str, str | None], ...]:
    """Each variable of ``text`` as (lower-case key, default or None); ``${*}`` and the like are not variables."""
    if "${" not in text:
        return ()
    found: list[tuple[str, str | None]] = []
    for match in variable_pattern().finditer(text):
        key = match.group(1).lower()
        if key in _LITERAL:
            continue
        default = match.group(2)
        found.append((key, default.replace("''", "'") if default is not None else None))
    return tuple(found)


def only_variable(value: str) -> str | None:
    """The lower-case key when ``value`` is exactly one variable with no default (``${aws:PrincipalAccount}``)."""
    if "${" not in value:
        return None  # no variable: the pattern could not match
    match = variable_pattern().fullmatch(value.strip())
    return match.group(1).lower() if match is not None and match.group(2) is None else None


def resolve(text: str, lookup: Callable[[str, str | None], str | None]) -> str | None:
    """``text`` with every variable replaced by ``lookup(key, default)`` (lower-case key; the default unquoted,
    or None), or None when ``lookup`` says a variable cannot be replaced (None). ``${$}`` is ``$``; ``${*}`` and
    ``${?}`` are asked of ``lookup`` too (as ``*`` and ``?``): a literal star names what a wildcard reading
    cannot tell apart."""
    if "${" not in text:
        return text
    pieces: list[str] = []
    at = 0
    for match in variable_pattern().finditer(text):
        key = match.group(1).lower()
        default = match.group(2)
        if key == "$":
            value: str | None = "$"
        else:
            value = lookup(key, default.replace("''", "'") if default is not None else None)
        if value is None:
            return None
        pieces.append(text[at : match.start()])
        pieces.append(value)
        at = match.end()
    pieces.append(text[at:])
    return "".join(pieces)


def is_caller_side(key: str) -> bool:
    """Whether request key ``key`` (lower case) is one the caller sets or chooses (see ``_CALLER_SIDE_PREFIXES``),
    or an identity provider's claim (``token.actions.githubusercontent.com:sub``): the token the caller brings."""
    if key.startswith(_CALLER_SIDE_PREFIXES):
        return True
    service = key.partition(":")[0]
    return "." in service  # a web identity provider's claim names the issuer's host


_USER_RESOURCE = r":user(?:/|$)"  # compiled (``re``'s cache) with the first own-user resource, not at cold start


def names_own_user_only(resource: str) -> bool:
    """Whether an IAM user resource names the caller's own user and no other: its name part is exactly
    ``${aws:username}`` (``arn:aws:iam::*:user/${aws:username}``, any path before it; user names are unique in an
    account). ``user/${aws:username}*`` or ``user/${aws:username}-*`` name other users too (``bob-admin``)."""
    head, slash, last = resource.rpartition("/")
    if "${" not in last:
        return False  # no variable: the pattern could not match
    match = variable_pattern().fullmatch(last.strip())
    return (
        bool(slash)
        and match is not None
        and match.group(1).lower() == "aws:username"
        and re.search(_USER_RESOURCE, head, re.IGNORECASE) is not None
        and ":iam:" in head.lower()
    )
