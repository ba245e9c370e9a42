"""The backtest's HTML report: one self-contained file (no external asset, no network).

The tables are written as HTML, so the report reads without JavaScript; an
inline script draws the timeline (findings per day, stacked by rule, as SVG)
and makes every table sortable by clicking its headers (or by a link:
``report.html#sort=findings:actor``). The data the script
needs is embedded as JSON.
"""

from __future__ import annotations

import json
from collections import Counter
from html import escape
from typing import Any

from iamwarden.backtest.domain.records import (
    BYTES,
    FILES,
    IN_SCOPE_RECORDS,
    MALFORMED_FILES,
    MALFORMED_RECORDS,
    NOT_PARSED,
    OUT_OF_SCOPE,
    OUTSIDE_RANGE,
    READ_ONLY,
    RECORDS,
)
from iamwarden.backtest.domain.report import OUTCOMES, Report, Row

#: The findings table stops here (the JSON lines file has them all); a browser stays responsive.
MAX_TABLE_ROWS = 5000

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1200px;color:#1d2330;
padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde2ea;padding-bottom:4px}
.muted{color:#5b6475}.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}
.card{border:1px solid #dde2ea;border-radius:8px;padding:10px 14px;min-width:130px}
.card b{display:block;font-size:22px}.remediate b{color:#b42318}.alert b{color:#b54708}.context b{color:#175cd3}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:5px 8px;
border-bottom:1px solid #eef1f5;vertical-align:top}th{background:#f6f8fb;cursor:pointer;user-select:none;
white-space:nowrap}th.sorted-asc::after{content:" \\25B2"}th.sorted-desc::after{content:" \\25BC"}
td.num,th.num{text-align:right}code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
.outcome{border-radius:4px;padding:1px 6px;font-size:12px;white-space:nowrap}
.o-would-remediate{background:#fee4e2;color:#912018}.o-would-alert{background:#fef0c7;color:#93370d}
.o-needs-context{background:#d1e9ff;color:#1849a9}.o-rejected{background:#eaecf0;color:#344054}
#timeline{width:100%;height:300px;display:block}.legend span{display:inline-block;margin:0 12px 4px 0;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
.scroll{max-height:560px;overflow:auto;border:1px solid #eef1f5}
"""

_SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("backtest-data").textContent);
  var palette = ["#4e79a7","#f28e2b","#e15759","#76b7b2","#59a14f","#edc948","#b07aa1","#ff9da7","#9c755f",
                 "#bab0ac","#1f77b4","#2ca02c","#d62728","#9467bd"];
  var svgNs = "http://www.w3.org/2000/svg";
  function el(name, attrs, text) {
    var node = document.createElementNS(svgNs, name);
    Object.keys(attrs).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function drawTimeline() {
    var svg = document.getElementById("timeline");
    var legend = document.getElementById("timeline-legend");
    var days = data.days, rules = data.rules;
    var width = svg.clientWidth || 1000, height = 300, left = 40, bottom = 40, top = 10;
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    var max = 1;
    days.forEach(function (day) {
      var total = 0;
      rules.forEach(function (rule) { total += (data.timeline[day] || {})[rule] || 0; });
      max = Math.max(max, total);
    });
    var plotHeight = height - bottom - top;
    var step = days.length ? (width - left - 10) / days.length : 0;
    var barWidth = Math.max(1, step * 0.8);
    for (var tick = 0; tick <= 4; tick++) {
      var value = Math.round(max * tick / 4), y = top + plotHeight - plotHeight * value / max;
      svg.appendChild(el("line", {x1: left, x2: width - 10, y1: y, y2: y, stroke: "#eef1f5"}));
      svg.appendChild(el("text", {x: left - 6, y: y + 4, "text-anchor": "end", "font-size": 10, fill: "#5b6475"},
                         String(value)));
    }
    days.forEach(function (day, index) {
      var x = left + index * step + (step - barWidth) / 2, base = top + plotHeight;
      rules.forEach(function (rule, ruleIndex) {
        var count = (data.timeline[day] || {})[rule] || 0;
        if (!count) { return; }
        var barHeight = plotHeight * count / max;
        base -= barHeight;
        var bar = el("rect", {x: x, y: base, width: barWidth, height: barHeight,
                              fill: palette[ruleIndex % palette.length], "class": "bar"});
        bar.appendChild(el("title", {}, day + " " + rule + ": " + count));
        svg.appendChild(bar);
      });
      if (days.length <= 16 || index % Math.ceil(days.length / 16) === 0) {
        svg.appendChild(el("text", {x: x + barWidth / 2, y: height - bottom + 14, "text-anchor": "middle",
                                    "font-size": 10, fill: "#5b6475"}, day.slice(5)));
      }
    });
    rules.forEach(function (rule, ruleIndex) {
      var item = document.createElement("span"), swatch = document.createElement("i");
      swatch.style.background = palette[ruleIndex % palette.length];
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(rule));
      legend.appendChild(item);
    });
    svg.setAttribute("data-drawn", String(svg.querySelectorAll("rect.bar").length));
  }
  function sortable(table) {
    var headers = table.querySelectorAll("th");
    headers.forEach(function (header, column) {
      header.addEventListener("click", function () {
        var ascending = !header.classList.contains("sorted-asc");
        headers.forEach(function (other) { other.classList.remove("sorted-asc", "sorted-desc"); });
        header.classList.add(ascending ? "sorted-asc" : "sorted-desc");
        var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
        var numeric = header.classList.contains("num");
        rows.sort(function (a, b) {
          var x = a.cells[column].getAttribute("data-sort") || a.cells[column].textContent;
          var y = b.cells[column].getAttribute("data-sort") || b.cells[column].textContent;
          var order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }
  function sortFromLink() {
    // A link can open the report sorted: #sort=findings:actor (or #sort=by-resource:findings:desc).
    var match = /^#sort=([\w-]+):([\w -]+?)(:desc)?$/.exec(decodeURIComponent(location.hash));
    if (!match) { return; }
    var table = document.getElementById(match[1]);
    if (!table) { return; }
    Array.prototype.forEach.call(table.querySelectorAll("th"), function (header) {
      if (header.textContent === match[2]) {
        header.click();
        if (match[3]) { header.click(); }
      }
    });
  }
  drawTimeline();
  document.querySelectorAll("table.sortable").forEach(sortable);
  sortFromLink();
  document.body.setAttribute("data-ready", "true");
})();
"""


def _cell(value: Any, *, num: bool = False, code: bool = False) -> str:
    text = f"{value:,}" if num and isinstance(value, int) else str(value)
    inner = f"<code>{escape(text)}</code>" if code else escape(text)
    sort = f' data-sort="{value}"' if num else ""
    return f"<td{' class=num' if num else ''}{sort}>{inner}</td>"


def _table(table_id: str, headers: list[tuple[str, bool]], rows: list[str]) -> str:
    head = "".join(f"<th{' class=num' if num else ''}>{escape(name)}</th>" for name, num in headers)
    body = "".join(rows) or f'<tr><td colspan="{len(headers)}" class="muted">none</td></tr>'
    return f'<table id="{table_id}" class="sortable"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _text(*names: str) -> list[tuple[str, bool]]:
    return [(name, False) for name in names]


def _outcome(outcome: str) -> str:
    return f'<span class="outcome o-{outcome.replace(" ", "-")}">{escape(outcome)}</span>'


def _finding_row(row: Row) -> str:
    return (
        f"<tr>{_cell(row.time)}<td>{_outcome(row.outcome)}</td>{_cell(row.rule)}{_cell(row.severity)}"
        f"{_cell(row.account)}{_cell(row.actor, code=True)}{_cell(row.resource, code=True)}"
        f"{_cell(row.event_name)}<td title='{escape(row.reason)}'>{escape(row.reason[:160])}</td></tr>"
    )


def _grouped(report: Report, field: str) -> str:
    rows: dict[str, Counter[str]] = {}
    rules: dict[str, set[str]] = {}
    for row in report.rows:
        key = getattr(row, field)
        rows.setdefault(key, Counter())[row.outcome] += 1
        rules.setdefault(key, set()).add(row.rule)
    lines = [
        f"<tr>{_cell(key, code=True)}{_cell(sum(counts.values()), num=True)}"
        + "".join(_cell(counts[outcome], num=True) for outcome in OUTCOMES)
        + f"{_cell(', '.join(sorted(rules[key])))}</tr>"
        for key, counts in sorted(rows.items(), key=lambda item: -sum(item[1].values()))
    ]
    headers = [(field, False), ("findings", True), *((outcome, True) for outcome in OUTCOMES), ("rules", False)]
    return _table(f"by-{field}", headers, lines)


def render_html(report: Report) -> str:
    """The whole report as one HTML document."""
    counts = report.counts
    totals = report.outcome_totals()
    timeline = report.timeline()
    rules = sorted({rule for day in timeline.values() for rule in day})
    data = {"days": list(timeline), "rules": rules, "timeline": {day: dict(c) for day, c in timeline.items()}}
    data_json = json.dumps(data).replace("</", "<\\/")
    per_rule = [
        f"<tr>{_cell(rule)}" + "".join(_cell(outcomes[o], num=True) for o in OUTCOMES) + "</tr>"
        for rule, outcomes in report.outcomes_by("rule").items()
    ]
    per_account = [
        f"<tr>{_cell(account)}" + "".join(_cell(outcomes[o], num=True) for o in OUTCOMES) + "</tr>"
        for account, outcomes in report.outcomes_by("account").items()
    ]
    suggestions = [
        f"<tr>{_cell(s.rule)}{_cell(s.kind)}{_cell(s.parameter, code=True)}{_cell(s.value, code=True)}"
        f"{_cell(s.findings, num=True)}{_cell(f'{s.share:.0%}')}</tr>"
        for s in report.suggestions()
    ]
    shown = report.rows[:MAX_TABLE_ROWS]
    more = (
        f'<p class="muted">The first {MAX_TABLE_ROWS:,} of {len(report.rows):,} findings; '
        "the JSON lines file has all.</p>"
        if len(report.rows) > MAX_TABLE_ROWS
        else ""
    )
    read = (
        f"{counts[FILES]:,} files ({counts[BYTES] / 1e6:,.1f} MB), {counts[RECORDS]:,} records; "
        f"{counts[IN_SCOPE_RECORDS]:,} judged; skipped {counts[NOT_PARSED]:,} without parsing, "
        f"{counts[READ_ONLY]:,} read-only, {counts[OUT_OF_SCOPE]:,} out of scope, "
        f"{counts[OUTSIDE_RANGE]:,} outside the date range; unreadable: {counts[MALFORMED_FILES]:,} files, "
        f"{counts[MALFORMED_RECORDS]:,} records"
    )
    cards = "".join(
        f'<div class="card {css}"><b>{totals[outcome]:,}</b>{escape(outcome)}</div>'
        for outcome, css in zip(OUTCOMES, ("remediate", "alert", "context", ""), strict=True)
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>IAM Warden backtest</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>IAM Warden backtest: what the enforcer would have done</h1>",
        f'<p class="muted">{escape(", ".join(report.sources))} judged with {escape(report.settings)}. '
        f"{escape(read)}.</p>",
        *(f'<p class="muted">{escape(note)}</p>' for note in report.notes),
        f'<div class="cards">{cards}</div>',
        "<h2>Findings per day and rule</h2>",
        '<svg id="timeline" role="img" aria-label="findings per day, stacked by rule"></svg>',
        '<div id="timeline-legend" class="legend"></div>',
        "<h2>Per rule</h2>",
        _table("per-rule", [("rule", False), *((o, True) for o in OUTCOMES)], per_rule),
        "<h2>Per account</h2>",
        _table("per-account", [("account", False), *((o, True) for o in OUTCOMES)], per_account),
        "<h2>Suggested allowlist entries</h2>",
        '<p class="muted">Actors and resources behind most of a rule\'s findings. Review each before adding it: '
        "the actor may be exactly what the rule exists for. Add the value to the SSM parameter (a StringList).</p>",
        _table(
            "suggestions",
            [
                ("rule", False),
                ("kind", False),
                ("SSM parameter", False),
                ("value", False),
                ("findings", True),
                ("share", False),
            ],
            suggestions,
        ),
        "<h2>By actor</h2>",
        f'<div class="scroll">{_grouped(report, "actor")}</div>',
        "<h2>By resource</h2>",
        f'<div class="scroll">{_grouped(report, "resource")}</div>',
    ]
    if report.comparison is not None:
        comparison = report.comparison
        changes = (
            [
                f"<tr><td>appears</td><td>{_outcome(row.outcome)}</td>{_cell(row.rule)}{_cell(row.actor, code=True)}"
                f"{_cell(row.resource, code=True)}{_cell(row.time)}</tr>"
                for row in comparison.appeared
            ]
            + [
                f"<tr><td>disappears</td><td>{_outcome(row.outcome)}</td>{_cell(row.rule)}{_cell(row.actor, code=True)}"
                f"{_cell(row.resource, code=True)}{_cell(row.time)}</tr>"
                for row in comparison.disappeared
            ]
            + [
                f"<tr><td>{escape(before.outcome)} &rarr;</td><td>{_outcome(after.outcome)}</td>{_cell(after.rule)}"
                f"{_cell(after.actor, code=True)}{_cell(after.resource, code=True)}{_cell(after.time)}</tr>"
                for before, after in comparison.changed
            ]
        )
        parts += [
            f"<h2>Compared with {escape(comparison.other)}</h2>",
            f'<p class="muted">{len(comparison.appeared):,} findings appear, {len(comparison.disappeared):,} '
            f"disappear, {len(comparison.changed):,} change outcome.</p>",
            '<div class="scroll">',
            _table(
                "comparison",
                [
                    ("change", False),
                    ("outcome", False),
                    ("rule", False),
                    ("actor", False),
                    ("resource", False),
                    ("time", False),
                ],
                changes,
            ),
            "</div>",
        ]
    parts += [
        "<h2>Every finding</h2>",
        more,
        '<div class="scroll">',
        _table(
            "findings",
            [
                ("time", False),
                ("outcome", False),
                ("rule", False),
                ("severity", False),
                ("account", False),
                ("actor", False),
                ("resource", False),
                ("event", False),
                ("why", False),
            ],
            [_finding_row(row) for row in shown],
        ),
        "</div>",
    ]
    if report.problems:
        items = "".join(f"<li><code>{escape(str(problem))}</code></li>" for problem in report.problems[:1000])
        parts += [f"<h2>Input that could not be read ({len(report.problems):,})</h2>", f"<ul>{items}</ul>"]
    parts += [
        f'<script type="application/json" id="backtest-data">{data_json}</script>',
        f"<script>{_SCRIPT}</script>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
