"""How a quarantine's record says what it did: one spelling for the steps that write the lines and the readers.

``QuarantineUser`` (``guardrails.iam_user``) and ``QuarantineRole`` (``guardrails.tampering``) write these lines to a
remediation's ``done``; the failed-quarantine alert (``alerts.notifications``), ``remediation-reversed`` and
``iamwarden-tampered`` read them. Plain strings, no imports: the alert wording reads them without loading the
quarantine module at cold start (tests/unit/test_cold_import.py).
"""

from collections.abc import Sequence

#: The inline deny-all policy a quarantine puts on a user or a role.
QUARANTINE_POLICY_NAME = "iamwarden-quarantine"

#: How a quarantine's ``done`` line starts when a deny-all went on (a user's ``… to <user>`` or ``… on <user>``, a
#: role's ``… on role <role>``). The role readers also check the line's ``on role <role>`` end.
DENY_ALL_DONE = (
    "set the deny-all permissions boundary ",
    f"attached deny-all inline policy {QUARANTINE_POLICY_NAME} ",
    f"put the deny-all inline policy {QUARANTINE_POLICY_NAME} on role ",
)

#: How a quarantine's ``NOT`` line ends when the write was refused for a passing reason: the step fails once every
#: other write is done, and the event is retried (lead decision s13).
RETRIED = "; retried with the event"

#: How the line ends that says an attempt put no deny-all on: neither write went through.
NOT_QUARANTINED = " is NOT quarantined"

#: How the line starts that an attempt ends with when its deny-all holds but a write is retried with the event
#: (review s13 N1: the alert reads this attempt's line, not every attempt's together).
HELD = "the quarantine holds (a deny-all is on)"


#: How an attempt's own ``HELD`` line starts: the attempt's time, so that a record (and the error, the DLQ message)
#: holding every attempt's lines says which attempt each verdict is (review s14 F3).
ATTEMPT = "attempt at "

#: How an earlier attempt's ``HELD`` line reads in an alert: it held then, not necessarily now (review s14 F3).
HELD_EARLIER = "the quarantine held then (a deny-all was on)"


def wrote(done: Sequence[str] | None, line: str) -> bool:
    """Whether the record's ``done`` shows IAM Warden's own write of a deny-all went through (a line starting
    ``line``, from any attempt), so undo may lift it (review s13 N3); None: a caller without the record's lines,
    which lifts as before. A deny-all whose write was refused (a ``NOT`` line) and that someone put on since is not
    the quarantine's to lift."""
    return done is None or any(entry.startswith(line) for entry in done)


def failed_with(done: Sequence[str] | None, line: str, *optional: str) -> str | None:
    """The error code of the latest ``NOT`` line of a deny-all write in ``done`` (``line``, then any of
    ``optional``, then `` (<code>)``), which undo reads when no attempt's write of it went through (review
    quarrole-s15 F4: a lost answer is not a refusal); None: no such line."""
    code = None
    for entry in done or ():
        if not entry.startswith(line):
            continue
        rest = entry[len(line) :]
        for more in optional:
            rest = rest.removeprefix(more)
        if rest.startswith(" (") and ")" in rest:
            code = rest[2 : rest.index(")")]
    return code


def held_line(retried: int, at: str | None = None) -> str:
    """The line an attempt whose deny-all holds ends with, counting its own writes refused for a passing reason;
    ``at``: the attempt's time, which starts the line."""
    line = HELD
    if retried:
        line = f"{HELD}; {retried} refused write{'s' if retried > 1 else ''} will be retried with the event"
    return f"{ATTEMPT}{at}: {line}" if at is not None else line


def _held(line: str) -> tuple[str, str] | None:
    """An attempt's ``HELD`` line split into its ``attempt at T: `` prefix (empty on a line from before it) and the
    rest; None: not such a line. A time has no ``": "`` in it, and no line that is not IAM Warden's starts so."""
    if line.startswith(HELD):
        return "", line
    if line.startswith(ATTEMPT):
        at, separator, rest = line.partition(": ")
        if separator and rest.startswith(HELD):
            return f"{at}{separator}", rest
    return None


def as_earlier(done: tuple[str, ...] | list[str], *, keep_latest: bool) -> tuple[str, ...]:
    """``done`` for an alert: every attempt's ``HELD`` line in the past tense ("held then", "left to the
    retry"), except the latest when ``keep_latest`` (a failed run whose latest attempt held: its own line stands).
    So a retry's success or its refusal never shows an earlier attempt's "will be retried" as current."""
    held = [index for index, line in enumerate(done) if _held(line) is not None]
    current = held[-1] if keep_latest and held else None
    lines = list(done)
    for index in held:
        if index == current:
            continue
        prefix, rest = _held(lines[index]) or ("", "")
        rest = rest.replace(HELD, HELD_EARLIER, 1).replace("will be retried with the event", "left to the retry")
        lines[index] = f"{prefix}{rest}"
    return tuple(lines)


def latest_verdict(done: tuple[str, ...] | list[str]) -> str | None:
    """Whether the latest attempt recorded in ``done`` left a deny-all on: ``"held"`` or ``"not quarantined"`` from
    the last line that says so, or ``"deny-all on"`` when the last such line is a deny-all write (a record from
    before the ``HELD`` line, or a later step of the plan failed); None: no line says a deny-all ever went on."""
    for line in reversed(done):
        if line.endswith(NOT_QUARANTINED):
            return "not quarantined"
        if _held(line) is not None:
            return "held"
        if line.startswith(DENY_ALL_DONE):
            return "deny-all on"
    return None
