"""Render an ``AlertMessage`` as plain text (SNS, e-mail) or Markdown (the docs preview).

Long material (a bucket policy can be 20 KB) is cut with a pointer to where
the full text is, never silently: see ``clip``.
"""

from __future__ import annotations

from iamwarden.alerts.message import AlertMessage, Fact

#: How much of the details (policy statements, invalid settings) the readable text carries.
TEXT_DETAILS_LIMIT = 8000
TRUNCATED = "… truncated ({omitted} more characters); the full text is in {where}."
FULL_TEXT_WHERE = "the JSON alert on the security SNS topic and in the audit record"


def clip(text: str, limit: int, where: str = FULL_TEXT_WHERE) -> str:
    """``text`` if it fits in ``limit`` characters, else its start and a pointer to the full text.

    The cut prefers a line break near the end, so a JSON statement is not cut
    mid-token when it can be helped. The result never exceeds ``limit``.
    """
    if len(text) <= limit:
        return text
    pointer_room = len(TRUNCATED.format(omitted=len(text), where=where)) + 1
    if pointer_room >= limit:
        return text[:limit]
    cut = limit - pointer_room
    newline = text.rfind("\n", 0, cut)
    if newline > cut * 0.8:
        cut = newline
    return text[:cut] + "\n" + TRUNCATED.format(omitted=len(text) - cut, where=where)


def render_text(message: AlertMessage, details_limit: int = TEXT_DETAILS_LIMIT) -> str:
    """Readable plain text: the SNS default and e-mail body."""
    lines = [f"[{message.severity.value.upper()}] {message.title}", "", message.summary, ""]
    width = max((len(fact.label) for fact in message.facts), default=0) + 2
    for fact in message.facts:
        lines.append(f"{fact.label + ':':<{width}}{fact.value}")
        lines.extend(f"{'':<{width}}{extra}" for extra in (fact.literal, fact.link) if extra)
    for section in message.sections:
        lines += ["", section.heading]
        lines.extend(f"  - {line}" if section.bullets else f"  {line}" for line in section.lines)
    if message.details:
        lines += ["", message.details.heading]
        lines.extend(f"  {line}" for line in clip(message.details.text, details_limit).splitlines())
    if message.audit:
        lines += ["", "Audit trail"]
        lines.extend(f"  {fact.label}: {fact.value}" for fact in message.audit)
    return "\n".join(lines) + "\n"


def render_markdown(message: AlertMessage, details_limit: int = TEXT_DETAILS_LIMIT) -> str:
    """A Markdown preview of what a team receives (used for docs/alerts)."""
    lines = [f"### {message.header}", "", message.summary, ""]
    lines.extend(f"- **{fact.label}:** {_markdown_fact(fact)}" for fact in message.facts)
    for section in message.sections:
        lines += ["", f"**{section.heading}**", ""]
        if section.bullets:
            lines.extend(f"- {line}" for line in section.lines)
        else:
            lines.append("\n\n".join(section.lines))
    if message.details:
        lines += ["", f"**{message.details.heading}**", "", "```text", clip(message.details.text, details_limit), "```"]
    if message.audit:
        lines += ["", " · ".join(f"{fact.label} `{fact.value}`" for fact in message.audit)]
    return "\n".join(lines) + "\n"


def _markdown_fact(fact: Fact) -> str:
    value = f"[{fact.value}]({fact.link})" if fact.link else fact.value
    return f"{value} `{fact.literal}`" if fact.literal else value
