"""How a quarantine's record says what it did: one spelling for the steps that write the lines and the readers.

``QuarantineUser`` (``guardrails.iam_user``) and ``QuarantineRole`` (``guardrails.tampering``) write these lines to a
remediation's ``done``; the failed-quarantine alert (``alerts.notifications``), ``remediation-reversed`` and
``iamwarden-tampered`` read them. Plain strings, no imports: the alert wording reads them without loading the
quarantine module at cold start (tests/unit/test_cold_import.py).
"""

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


def held_line(retried: int) -> str:
    """The line an attempt whose deny-all holds ends with, counting its own writes refused for a passing reason."""
    if not retried:
        return HELD
    return f"{HELD}; {retried} refused write{'s' if retried > 1 else ''} will be retried with the event"


def latest_verdict(done: tuple[str, ...] | list[str]) -> str | None:
    """Whether the latest attempt recorded in ``done`` left a deny-all on: ``"held"`` or ``"not quarantined"`` from
    the last line that says so, or ``"deny-all on"`` when the last such line is a deny-all write (a record from
    before the ``HELD`` line, or a later step of the plan failed); None: no line says a deny-all ever went on."""
    for line in reversed(done):
        if line.endswith(NOT_QUARANTINED):
            return "not quarantined"
        if line.startswith(HELD):
            return "held"
        if line.startswith(DENY_ALL_DONE):
            return "deny-all on"
    return None
