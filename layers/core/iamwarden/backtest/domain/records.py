"""CloudTrail records as people keep them, turned into what the enforcer judges.

A history comes as CloudTrail log files (gzipped JSON ``{"Records": [...]}``),
as Athena or CloudTrail Lake query results (CSV or JSON lines of the CloudTrail
table's columns), or as single records and EventBridge events. Everything is
reduced to the EventBridge envelope ("AWS API Call via CloudTrail") that the
engine parses, built the way EventBridge builds it.

Most of a history is read-only noise. A log file is decompressed and searched
for the in-scope event names as bytes first; only the records that carry one
are decoded, so a file of ``Describe*`` and ``Get*`` calls is never parsed.
Nothing here raises on bad input: problems are returned, naming the file and
the record or line, and the scan goes on.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import uuid
import zlib
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any, NamedTuple

from iamwarden.domain.events import AWS_SERVICE_EVENT, CLOUDTRAIL_API_CALL, CLOUDTRAIL_SERVICE_EVENT, json_type_name
from iamwarden.guardrails.registry import GUARDRAILS_BY_EVENT

#: (eventSource, eventName) of every call some guardrail judges.
IN_SCOPE: frozenset[tuple[str, str]] = frozenset(GUARDRAILS_BY_EVENT)
IN_SCOPE_NAMES: tuple[str, ...] = tuple(sorted({name for _, name in IN_SCOPE}))
IN_SCOPE_SOURCES: tuple[str, ...] = tuple(sorted({source for source, _ in IN_SCOPE}))

_NAME_IN_BYTES = re.compile(rb'"eventName"\s*:\s*"(' + b"|".join(n.encode() for n in IN_SCOPE_NAMES) + rb')"')
_RECORD_START = b'{"eventVersion"'
_LOG_FILE_HEAD = re.compile(rb'\s*\{\s*"Records"\s*:\s*\[')
#: Namespace of the envelope ids made from eventIDs: the same record always gets the same envelope id.
_ENVELOPE_NAMESPACE = uuid.UUID("5f0c6b8e-4f0a-4b8e-9d7e-2a1c3b4d5e6f")

# Counter keys of a scan, in the order the report shows them.
FILES = "files"
MALFORMED_FILES = "malformed files"
BYTES = "bytes"
RECORDS = "records"
OUT_OF_SCOPE = "out of scope"
#: Records of a log file skipped without decoding them: no in-scope event name in their bytes.
NOT_PARSED = "skipped without parsing"
READ_ONLY = "read-only"
OUTSIDE_RANGE = "outside the date range"
MALFORMED_RECORDS = "malformed records"
IN_SCOPE_RECORDS = "in scope"


class Problem(NamedTuple):
    """Something in the input that could not be read: where (file and record or line) and what."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class DateRange(NamedTuple):
    """Inclusive days (UTC); None on a side means open."""

    since: date | None = None
    until: date | None = None

    def contains_day(self, day: str) -> bool:
        """``day`` is ``YYYY-MM-DD`` (the start of an ISO eventTime)."""
        if self.since is not None and day < self.since.isoformat():
            return False
        return not (self.until is not None and day > self.until.isoformat())

    def problem(self) -> str | None:
        """Why the range is unusable, or None."""
        if self.since is not None and self.until is not None and self.since > self.until:
            return f"--since {self.since} is after --until {self.until}: the range holds no day"
        return None


class Event(NamedTuple):
    """One in-scope event to judge: where it came from and the EventBridge event (a dict, or the raw text)."""

    where: str
    event: Mapping[str, Any] | bytes


class Scan(NamedTuple):
    """What one source yielded: the events to judge, the counts, and the problems."""

    events: list[Event]
    counts: Counter[str]
    problems: list[Problem]


def new_scan() -> Scan:
    return Scan([], Counter(), [])


def envelope(record: Mapping[str, Any]) -> dict[str, Any]:
    """The EventBridge event EventBridge makes of a CloudTrail record (detail-type "AWS API Call via CloudTrail",
    or "AWS Service Event via CloudTrail" for a record whose ``eventType`` is ``AwsServiceEvent``).

    ``source`` is ``aws.`` plus the service of ``eventSource`` (``iam.amazonaws.com`` -> ``aws.iam``),
    ``account`` the account that recorded the call, ``region`` and ``time`` the record's, and ``detail``
    the record unchanged. The id is derived from the eventID so the same record always gives the same event.
    """
    source = record.get("eventSource")
    service = source.split(".", 1)[0] if isinstance(source, str) and source else "unknown"
    identity = record.get("userIdentity")
    account = record.get("recipientAccountId")
    if not account and isinstance(identity, Mapping):
        account = identity.get("accountId")
    event_id = record.get("eventID")
    service_event = record.get("eventType") == AWS_SERVICE_EVENT
    return {
        "version": "0",
        "id": str(uuid.uuid5(_ENVELOPE_NAMESPACE, event_id)) if isinstance(event_id, str) else str(uuid.uuid4()),
        "detail-type": CLOUDTRAIL_SERVICE_EVENT if service_event else CLOUDTRAIL_API_CALL,
        "source": f"aws.{service}",
        "account": account,
        "time": record.get("eventTime"),
        "region": record.get("awsRegion"),
        "resources": [],
        "detail": record,
    }


def skip_reason(record: Mapping[str, Any], dates: DateRange) -> str | None:
    """The counter a record is skipped under before it is judged, or None if it is judged.

    Cheap on purpose (three dict lookups): out of scope (no guardrail covers the call), read-only,
    or outside the date range. The engine would ignore the first two too; this only saves the work.
    """
    if (record.get("eventSource"), record.get("eventName")) not in IN_SCOPE:
        return OUT_OF_SCOPE
    read_only = record.get("readOnly")
    if read_only is True or (isinstance(read_only, str) and read_only.lower() == "true"):
        return READ_ONLY
    when = record.get("eventTime")
    if isinstance(when, str) and not dates.contains_day(when[:10]):
        return OUTSIDE_RANGE
    return None


def take(scan: Scan, where: str, record: Any, dates: DateRange) -> None:
    """Count one decoded record and keep it if it is to be judged."""
    scan.counts[RECORDS] += 1
    if not isinstance(record, dict):
        scan.counts[MALFORMED_RECORDS] += 1
        scan.problems.append(Problem(where, f"a record must be a JSON object, got {json_type_name(record)}"))
        return
    reason = skip_reason(record, dates)
    if reason is not None:
        scan.counts[reason] += 1
        return
    scan.counts[IN_SCOPE_RECORDS] += 1
    scan.events.append(Event(where, envelope(record)))


# --- files ------------------------------------------------------------------------------------


def decompress(data: bytes) -> bytes:
    """Gunzip ``data`` if it is gzipped (by its magic number); ``ValueError`` says what is wrong with it."""
    if not data.startswith(b"\x1f\x8b"):
        return data
    inflater = zlib.decompressobj(wbits=31)  # one gzip member, as CloudTrail writes them: zlib directly
    try:
        text = inflater.decompress(data)
    except zlib.error as exc:
        raise ValueError(f"not a valid gzip file: {exc}") from None
    if not inflater.eof:
        raise ValueError("truncated gzip: the file ends before its compressed stream does")
    if inflater.unused_data:  # more members follow (concatenated gzip): the slower, general reader
        try:
            return gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as exc:
            raise ValueError(f"not a valid gzip file: {exc}") from None
    return text


def scan_content(name: str, data: bytes, dates: DateRange, scan: Scan | None = None) -> Scan:
    """Everything in one file, whatever its form (see the module docstring); never raises."""
    scan = scan if scan is not None else new_scan()
    scan.counts[FILES] += 1
    try:
        text = decompress(data)
    except ValueError as exc:
        scan.counts[MALFORMED_FILES] += 1
        scan.problems.append(Problem(name, str(exc)))
        return scan
    scan.counts[BYTES] += len(text)
    lowered = name.lower().removesuffix(".gz")
    if lowered.endswith(".csv"):
        scan_csv(name, text, dates, scan)
    elif lowered.endswith((".jsonl", ".ndjson")):
        scan_json_lines(name, text, dates, scan)
    elif _LOG_FILE_HEAD.match(text):
        scan_log_file(name, text, dates, scan)
    else:
        scan_json_document(name, text, dates, scan)
    return scan


def scan_log_file(name: str, text: bytes, dates: DateRange, scan: Scan) -> None:
    """A CloudTrail log file (``{"Records": [...]}``, decompressed).

    Fast path: no in-scope event name in the bytes means nothing to judge, so the records are counted
    and not decoded. Otherwise only the records carrying a name are decoded, each from its
    ``{"eventVersion"`` (CloudTrail writes that key first) to the next record. Anything unexpected
    (pretty-printed JSON, another key order, a file that does not end like one) takes the full parse.
    """
    total = text.count(_RECORD_START)
    if _compact_records(text, total):
        hits = [match.start() for match in _NAME_IN_BYTES.finditer(text)]
        if total and not hits:
            scan.counts[RECORDS] += total
            scan.counts[NOT_PARSED] += total
            return
        picked = _records_at(text, hits)
        if picked is not None:
            before = scan.counts[RECORDS]
            for index, record in picked:
                take(scan, f"{name}: record {index + 1}", record, dates)
            decoded = scan.counts[RECORDS] - before
            scan.counts[RECORDS] += total - decoded
            scan.counts[NOT_PARSED] += total - decoded
            return
    _scan_parsed_log_file(name, text, dates, scan)


def _compact_records(text: bytes, total: int) -> bool:
    """The layout CloudTrail writes: ``{"Records":[{"eventVersion"...},{"eventVersion"...}]}``, objects only.

    Every record starts with ``{"eventVersion"`` and follows the previous one's ``}`` directly, so a value
    that is not an object (or anything else between records) breaks the count and takes the full parse.
    """
    return (
        total > 0
        and text.startswith(b'{"Records":[' + _RECORD_START)
        and text.rstrip().endswith(b"}]}")
        and text.count(b"}," + _RECORD_START) == total - 1
    )


def _records_at(text: bytes, hits: list[int]) -> list[tuple[int, Any]] | None:
    """The records around the byte offsets in ``hits`` with their index in the file, or None to parse it all."""
    decoder = json.JSONDecoder()
    picked: list[tuple[int, Any]] = []
    seen: set[int] = set()
    for position in hits:
        start = text.rfind(_RECORD_START, 0, position)
        if start < 0:
            return None
        if start in seen:
            continue
        seen.add(start)
        end = text.find(_RECORD_START, position)
        chunk = text[start : end if end > 0 else len(text)]
        try:
            record, size = decoder.raw_decode(chunk.decode("utf-8"))
        except ValueError:
            return None
        if not isinstance(record, dict) or size < position - start:
            return None  # the name was not inside this record: the layout is not the one assumed
        picked.append((text.count(_RECORD_START, 0, start), record))
    return picked


def _scan_parsed_log_file(name: str, text: bytes, dates: DateRange, scan: Scan) -> None:
    try:
        document = json.loads(text)
    except ValueError as exc:
        scan.counts[MALFORMED_FILES] += 1
        scan.problems.append(Problem(_at_line(name, text, exc), f"not valid JSON: {_first_line(exc)}"))
        return
    records = document.get("Records") if isinstance(document, dict) else None
    if not isinstance(records, list):
        scan.counts[MALFORMED_FILES] += 1
        scan.problems.append(Problem(name, "not a CloudTrail log file: no 'Records' list"))
        return
    for index, record in enumerate(records):
        take(scan, f"{name}: record {index + 1}", record, dates)


def scan_json_document(name: str, text: bytes, dates: DateRange, scan: Scan) -> None:
    """One JSON document: an EventBridge event, a single CloudTrail record, or a log file not in the usual layout."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        scan.counts[MALFORMED_FILES] += 1
        scan.problems.append(Problem(_at_line(name, text, exc), f"not valid JSON: {_first_line(exc)}"))
        return
    if isinstance(document, dict) and "Records" in document:
        if not isinstance(document["Records"], list):
            scan.counts[MALFORMED_FILES] += 1
            scan.problems.append(Problem(name, "not a CloudTrail log file: no 'Records' list"))
            return
        for index, record in enumerate(document["Records"]):
            take(scan, f"{name}: record {index + 1}", record, dates)
        return
    _take_one(scan, name, document, dates)


def _take_one(scan: Scan, where: str, document: Any, dates: DateRange) -> None:
    """An EventBridge event or a bare CloudTrail record."""
    if isinstance(document, dict) and ("detail" in document or "detail-type" in document):
        detail = document.get("detail")
        scan.counts[RECORDS] += 1
        reason = skip_reason(detail, dates) if isinstance(detail, dict) else None
        if reason is not None:
            scan.counts[reason] += 1
            return
        scan.counts[IN_SCOPE_RECORDS] += 1
        scan.events.append(Event(where, document))  # a malformed envelope is the engine's to call invalid
        return
    take(scan, where, document, dates)


def scan_json_lines(name: str, text: bytes, dates: DateRange, scan: Scan) -> None:
    """JSON lines: query results (CloudTrail table columns), CloudTrail records or EventBridge events."""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{name}: line {number}"
        try:
            value = json.loads(line)
        except ValueError as exc:
            scan.counts[RECORDS] += 1
            scan.counts[MALFORMED_RECORDS] += 1
            scan.problems.append(Problem(where, f"not valid JSON: {_first_line(exc)}"))
            continue
        if isinstance(value, dict) and _is_table_row(value):
            try:
                value = record_from_row(value)
            except ValueError as exc:
                scan.counts[RECORDS] += 1
                scan.counts[MALFORMED_RECORDS] += 1
                scan.problems.append(Problem(where, str(exc)))
                continue
        _take_one(scan, where, value, dates)


def scan_csv(name: str, text: bytes, dates: DateRange, scan: Scan) -> None:
    """CSV query results with a header row of CloudTrail table columns (Athena's or CloudTrail Lake's)."""
    try:
        reader = csv.DictReader(io.StringIO(text.decode("utf-8-sig")))
        header = reader.fieldnames or []
    except (UnicodeDecodeError, csv.Error) as exc:
        scan.counts[MALFORMED_FILES] += 1
        scan.problems.append(Problem(name, f"not readable CSV: {exc}"))
        return
    if not _is_table_row(dict.fromkeys(header, "")):
        scan.counts[MALFORMED_FILES] += 1
        scan.problems.append(
            Problem(f"{name}: line 1", "the header names no CloudTrail table columns (eventname, eventsource, ...)")
        )
        return
    try:
        for row in reader:
            where = f"{name}: line {reader.line_num}"
            if None in row:
                scan.counts[RECORDS] += 1
                scan.counts[MALFORMED_RECORDS] += 1
                scan.problems.append(
                    Problem(where, f"{len(header) + len(row[None])} fields, the header has {len(header)}")
                )
                continue
            try:
                record = record_from_row(row)
            except ValueError as exc:
                scan.counts[RECORDS] += 1
                scan.counts[MALFORMED_RECORDS] += 1
                scan.problems.append(Problem(where, str(exc)))
                continue
            take(scan, where, record, dates)
    except csv.Error as exc:
        scan.counts[MALFORMED_FILES] += 1
        scan.problems.append(Problem(f"{name}: line {reader.line_num}", f"not readable CSV: {exc}"))


# --- query results: the CloudTrail table's columns --------------------------------------------

#: The CloudTrail record's own spelling of the table's (lower-case) column and struct field names.
RECORD_KEYS: dict[str, str] = {
    key.lower(): key
    for key in [
        "eventVersion",
        "userIdentity",
        "eventTime",
        "eventSource",
        "eventName",
        "awsRegion",
        "sourceIPAddress",
        "userAgent",
        "errorCode",
        "errorMessage",
        "requestParameters",
        "responseElements",
        "additionalEventData",
        "requestID",
        "eventID",
        "resources",
        "eventType",
        "apiVersion",
        "readOnly",
        "recipientAccountId",
        "serviceEventDetails",
        "sharedEventID",
        "vpcEndpointId",
        "vpcEndpointAccountId",
        "eventCategory",
        "managementEvent",
        "tlsDetails",
        "sessionCredentialFromConsole",
        "addendum",
        "edgeDeviceDetails",
        "type",
        "principalId",
        "arn",
        "accountId",
        "invokedBy",
        "accessKeyId",
        "userName",
        "sessionContext",
        "attributes",
        "mfaAuthenticated",
        "creationDate",
        "sessionIssuer",
        "webIdFederationData",
        "federatedProvider",
        "ec2RoleDelivery",
        "sourceIdentity",
        "onBehalfOf",
        "userId",
        "identityStoreArn",
        "inScopeOf",
        "credentialsIssuedTo",
        "tlsVersion",
        "cipherSuite",
        "clientProvidedHostHeader",
    ]
}
RECORD_KEYS["arn"] = "arn"
_RESOURCE_KEYS = {"arn": "ARN", "accountid": "accountId", "type": "type"}
#: Columns holding JSON text in the table (the SerDe keeps these as strings).
_JSON_TEXT_COLUMNS = frozenset({"requestparameters", "responseelements", "additionaleventdata", "serviceeventdetails"})
#: Columns holding a struct or an array: JSON (CAST AS JSON, CloudTrail Lake) or Athena's ``{key=value}`` text.
_STRUCT_COLUMNS = frozenset({"useridentity", "resources", "tlsdetails", "addendum", "edgedevicedetails"})


def _is_table_row(row: Mapping[str, Any]) -> bool:
    keys = {key.lower() for key in row}
    return "eventname" in keys and "eventsource" in keys and "detail" not in keys and "eventName" not in row


def record_from_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A CloudTrail record from one row of the CloudTrail table (Athena or CloudTrail Lake); ``ValueError`` if not."""
    record: dict[str, Any] = {}
    for column, cell in row.items():
        if cell is None or (isinstance(cell, str) and cell in {"", "null"}):
            continue
        lowered = column.lower()
        record[RECORD_KEYS.get(lowered, column)] = _column_value(column, lowered, cell)
    return record


def _column_value(column: str, lowered: str, cell: Any) -> Any:
    value = cell
    if lowered in _STRUCT_COLUMNS and isinstance(cell, str):
        try:
            value = json.loads(cell) if _looks_json(cell) else parse_struct(cell)
        except ValueError as exc:
            raise ValueError(f"column {column} is neither JSON nor Athena struct text: {exc}") from None
    elif lowered in _JSON_TEXT_COLUMNS and isinstance(cell, str):
        try:
            value = json.loads(cell)
        except ValueError:
            raise ValueError(f"column {column} is not JSON text: {cell[:60]!r}") from None
    if lowered == "resources" and isinstance(value, list):
        return [_record_keys(item, _RESOURCE_KEYS) for item in value]
    if isinstance(value, dict):
        return _record_keys(value, RECORD_KEYS)
    return value


def _looks_json(text: str) -> bool:
    """``{"`` or ``[{"`` or ``[]`` starts JSON; Athena's struct text starts ``{key=``."""
    stripped = text.lstrip()
    return stripped.startswith(('{"', "[{", "[]", "{}", '["'))


def _record_keys(value: Any, names: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {
            names.get(key.lower(), RECORD_KEYS.get(key.lower(), key)): _record_keys(item, RECORD_KEYS)
            for key, item in value.items()
            if item is not None
        }
    return value


def parse_struct(text: str) -> Any:
    """Athena's text for a struct, map or array: ``{type=IAMUser, arn=arn:aws:..., sessioncontext={...}}``.

    Scalars are everything up to the next ``,``/``}``/``]`` at the same depth; ``null`` is None.
    """
    value, end = _struct_value(text, 0)
    if text[end:].strip():
        raise ValueError(f"unexpected text after position {end}: {text[end : end + 20]!r}")
    return value


def _struct_value(text: str, at: int) -> tuple[Any, int]:
    while at < len(text) and text[at] == " ":
        at += 1
    if at < len(text) and text[at] == "{":
        fields: dict[str, Any] = {}
        at += 1
        while True:
            while at < len(text) and text[at] == " ":
                at += 1
            if at < len(text) and text[at] == "}":
                return fields, at + 1
            equals = text.find("=", at)
            if equals < 0:
                raise ValueError(f"expected key=value at position {at}")
            key = text[at:equals].strip()
            value, at = _struct_value(text, equals + 1)
            fields[key] = value
            if at < len(text) and text[at] == ",":
                at += 1
            elif at < len(text) and text[at] == "}":
                return fields, at + 1
            else:
                raise ValueError(f"unterminated struct at position {at}")
    if at < len(text) and text[at] == "[":
        items: list[Any] = []
        at += 1
        while True:
            while at < len(text) and text[at] == " ":
                at += 1
            if at < len(text) and text[at] == "]":
                return items, at + 1
            value, at = _struct_value(text, at)
            items.append(value)
            if at < len(text) and text[at] == ",":
                at += 1
            elif at < len(text) and text[at] == "]":
                return items, at + 1
            else:
                raise ValueError(f"unterminated array at position {at}")
    end = at
    while end < len(text) and text[end] not in ",}]":
        end += 1
    scalar = text[at:end].strip()
    return (None if scalar == "null" else scalar), end


# --- evaluate's inputs ------------------------------------------------------------------------


def events_in(name: str, data: bytes) -> Iterator[tuple[str, bytes | Mapping[str, Any]]]:
    """What ``iamwarden evaluate`` judges in one file: its events, each with a name.

    An EventBridge event (or anything that is not recognisably another form) is passed through as
    the file's bytes, so the engine judges exactly what it always did. A CloudTrail record is wrapped
    into its envelope; a log file (gzipped or not) gives each of its records, named ``file#N``.
    """
    try:
        text = decompress(data)
    except ValueError:
        yield name, data
        return
    if not _LOG_FILE_HEAD.match(text) and not text.lstrip().startswith(b"{"):
        yield name, data
        return
    try:
        document = json.loads(text)
    except ValueError:
        yield name, data
        return
    if isinstance(document, dict) and isinstance(document.get("Records"), list):
        for index, record in enumerate(document["Records"], 1):
            yield f"{name}#{index}", envelope(record) if isinstance(record, dict) else json.dumps(record).encode()
        return
    bare_record = isinstance(document, dict) and not {"detail", "detail-type"} & document.keys()
    if bare_record and ("eventName" in document or "eventSource" in document):
        yield name, envelope(document)
        return
    yield name, data if text is data else text


def _at_line(name: str, text: bytes, exc: ValueError) -> str:
    line = getattr(exc, "lineno", None)
    if isinstance(line, int) and text.count(b"\n") > 0:
        return f"{name}: line {line}"
    position = getattr(exc, "pos", None)
    return f"{name}: byte {position}" if isinstance(position, int) else name


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def iter_days(dates: DateRange) -> Iterator[date]:
    """Every day of a closed range, first to last."""
    if dates.since is None or dates.until is None:
        return
    day = dates.since
    while day <= dates.until:
        yield day
        day = date.fromordinal(day.toordinal() + 1)
