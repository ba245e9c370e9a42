"""The readings of a held text kept per text (``held_texts.parsed_readings``), for a warm container's latency.

A warm enforcer reads the same inline and managed policy texts on every event; their other readings are kept by the
whole text as IAM returned it, bounded like the parsed-document cache. What is kept must be exactly what a fresh
read gives, and a changed text must be read afresh (never another text's readings: a stale verdict).
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from iamwarden.domain import documents, held_readings, held_texts
from iamwarden.domain.escalation import content_key
from iamwarden.domain.held_texts import parsed_readings
from iamwarden.domain.policy import Policy


def _text(body: str) -> str:
    return '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",' + body + ',"Resource":"*"}]}'


#: Read with each key's first value it passes any role; with the last, it reads objects.
PASS_FIRST = _text('"Action":"iam:PassRole","Action":"s3:GetObject"')
#: The same text changed: now the first value reads objects and the last passes any role.
PASS_LAST = _text('"Action":"s3:GetObject","Action":"iam:PassRole"')
#: One reading only.
PLAIN = _text('"Action":"s3:GetObject"')


def _meaning(readings: tuple[Policy, ...]) -> list[tuple[object, ...]]:
    return [(reading.version, content_key(reading), reading.raw) for reading in readings]


@pytest.fixture(autouse=True)
def _empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(held_texts, "_READ", {})


def _fresh(text: str) -> tuple[Policy, ...]:
    held_texts._READ.pop(text, None)
    return parsed_readings(text, "p")


@pytest.mark.parametrize("text", [PASS_FIRST, PASS_LAST, quote(PASS_FIRST), PLAIN, quote(PLAIN), "{not json"])
def test_a_kept_reading_is_the_reading_read_afresh(text: str) -> None:
    first = parsed_readings(text, "p")
    assert text in held_texts._READ
    kept = parsed_readings("".join(list(text)), "another field")  # an equal text, another object
    assert kept is first
    assert _meaning(kept) == _meaning(_fresh(text))


def test_a_text_is_read_once_then_answered_from_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    real = documents.other_readings

    def counted(text: str) -> tuple[str, ...]:
        asked.append(text)
        return real(text)

    monkeypatch.setattr(held_texts, "other_readings", counted)
    for _ in range(3):
        [reading] = parsed_readings(quote(PASS_FIRST), "p")
        assert reading.statements[0].actions == ("iam:passrole",)
    assert asked == [PASS_FIRST]


def test_a_changed_text_is_read_afresh_never_from_the_text_before() -> None:
    [before] = parsed_readings(PASS_FIRST, "p")
    assert before.statements[0].actions == ("iam:passrole",)
    [after] = parsed_readings(PASS_LAST, "p")  # the same policy, its text changed: the other reading changed too
    assert after.statements[0].actions == ("s3:getobject",)
    assert parsed_readings(PLAIN, "p") == ()  # changed to one reading: no other
    assert parsed_readings(PASS_FIRST, "p") == (before,)


def test_the_cache_is_bounded_and_forgets_the_oldest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(held_texts, "READINGS_CACHE_SIZE", 2)
    texts = [PASS_FIRST, PASS_LAST, PLAIN]
    for text in texts:
        parsed_readings(text, "p")
    assert list(held_texts._READ) == texts[1:]
    [again] = parsed_readings(PASS_FIRST, "p")  # read afresh, the same readings
    assert again.statements[0].actions == ("iam:passrole",)
    assert len(held_texts._READ) == 2


def test_a_decoded_document_is_never_kept() -> None:
    assert parsed_readings(json.loads(PASS_FIRST), "p") == ()
    assert parsed_readings(None, "p") == ()
    assert held_texts._READ == {}


def test_a_str_subclass_is_read_as_its_plain_text() -> None:
    class Text(str):
        pass

    [reading] = parsed_readings(Text(PASS_FIRST), "p")
    assert reading.statements[0].actions == ("iam:passrole",)
    assert [type(key) for key in held_texts._READ] == [str]


def test_held_readings_names_the_same_reader() -> None:
    # Its callers and tests/unit/test_held_readings.py read it there: one function, one cache.
    assert held_readings.parsed_readings is parsed_readings
