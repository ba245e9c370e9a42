"""Every policy document the repository holds: the sample events' and the public regression corpora's.

The differential tests (a fast path against the code it replaces) run over all of them, so they share one reader.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from tests.conftest import ROOT


def documents_in(value: Any) -> Iterator[dict[str, Any]]:
    """Every policy document (an object with a Statement, possibly as JSON text) anywhere inside ``value``."""
    if isinstance(value, str) and value.lstrip().startswith("{") and "Statement" in value:
        try:
            value = json.loads(value)
        except ValueError:
            return
    if isinstance(value, dict):
        if "Statement" in value:
            yield value
        for item in value.values():
            yield from documents_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from documents_in(item)


def corpus_documents() -> list[dict[str, Any]]:
    """The documents of events/*.json and tests/corpora/**/*.json, in file order (a malformed file skipped)."""
    found: list[dict[str, Any]] = []
    for path in [*sorted((ROOT / "events").glob("*.json")), *sorted((ROOT / "tests" / "corpora").rglob("*.json"))]:
        try:
            found.extend(documents_in(json.loads(path.read_bytes())))
        except ValueError:
            continue  # the deliberately malformed sample
    return found
