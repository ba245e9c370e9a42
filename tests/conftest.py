"""Fixtures shared by every test layer: the repository's own sample events and settings."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from iamwarden.app.settings_file import load_settings_file
from iamwarden.domain.settings import Settings

# CI explores the same examples every run, so a landing never depends on luck; locally, new ones each time.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
EVENTS_DIR = ROOT / "events"
EXAMPLE_SETTINGS = EVENTS_DIR / "settings.yaml"
_ROW = re.compile(
    r"^\| `(?P<file>[^`]+)` \| (?P<scenario>.*) \| (?P<defaults>[^|]+) \| (?P<example>[^|]+) "
    r"\| (?P<routed>yes|no|n/a) \|$"
)


@dataclass(frozen=True)
class SampleRow:
    """One row of the expected-verdict table in events/README.md."""

    file: str
    defaults: tuple[str, frozenset[str]]
    example: tuple[str, frozenset[str]]
    routed: str


def _expectation(cell: str) -> tuple[str, frozenset[str]]:
    verdict, _, rules = cell.strip().partition(":")
    return verdict.strip(), frozenset(rule.strip() for rule in rules.split(",") if rule.strip())


def sample_table() -> list[SampleRow]:
    rows = []
    for line in (EVENTS_DIR / "README.md").read_text().splitlines():
        match = _ROW.match(line)
        if match:
            rows.append(
                SampleRow(
                    match["file"], _expectation(match["defaults"]), _expectation(match["example"]), match["routed"]
                )
            )
    return rows


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text())
    return event


@pytest.fixture(scope="session")
def example_settings() -> Settings:
    return load_settings_file(EXAMPLE_SETTINGS)
